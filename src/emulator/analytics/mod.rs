//! Managed Service for Apache Flink (`KinesisAnalytics_20180523`, the kinesisanalyticsv2 API):
//! applications whose Flink SQL really runs, on real Apache Flink (DESIGN §5.5), one runner JVM
//! per running application (`runners/flink/`).
//!
//! Layout: `model.rs` wire shapes, `app.rs` the stored application (versions, snapshots,
//! operations) and its description, `validate.rs` AWS's constraints, `control.rs` create /
//! describe / list / update / delete and versions, `options.rs` logging and VPC options and the
//! SQL-only calls, `lifecycle.rs` start / stop / snapshots / operations, `tagging.rs` tags,
//! `durable.rs` storage, `program.rs` what a run executes (the SQL, or the JAR read from the
//! emulated S3), `job.rs` the runner's job file, `runner.rs` the JVM supervision.
//!
//! The lifecycle follows AWS: READY -> STARTING -> RUNNING -> UPDATING / STOPPING /
//! FORCE_STOPPING -> READY, and DELETING. STARTING ends when the runner's job runs and its
//! Kinesis sources have their shards (RUNNING), or when Flink refuses it: the application is
//! READY again and the StartApplication operation FAILED with Flink's own message in
//! `OperationFailureDetails.ErrorInfo.ErrorString`, as on AWS. Every transition lasts at least
//! the configured delay.
//!
//! Where it knowingly differs from AWS:
//! - Only Flink runtimes in STREAMING mode: `SQL-1_0` (discontinued by AWS) and the Zeppelin
//!   runtimes (INTERACTIVE mode) are refused with `UnsupportedOperationException`; the
//!   SQL-only input/output/reference-data calls with `InvalidArgumentException` (as AWS
//!   answers them for a Flink application), DiscoverInputSchema with
//!   `UnsupportedOperationException`.
//! - The code the emulator runs is the SQL of the `kinesis.operator.sql` property group, or,
//!   without one, the application's JAR in S3 (`S3ContentLocation`): read from the emulated S3
//!   at every start (a bucket of the application's account; an object deleted since
//!   CreateApplication fails the start naming the bucket and key) and run as Managed Flink
//!   runs it: the manifest's `program-class`, else `Main-Class` (none: the start fails saying
//!   so), in Flink's child-first user-code class loader with Flink's parent-first patterns
//!   (so a shaded JAR's bundled Flink connector resolves to the runner's own, 4.3.0-1.19), its
//!   `execute()` intercepted so the job runs on the runner's MiniCluster with the same
//!   checkpoint, snapshot and status machinery as SQL. Every `FlinkKinesisConsumer` and
//!   `KinesisStreamsSink` in the job is pointed at the emulator (endpoint, credentials,
//!   HTTP/1.1) without the user editing code; `FlinkKinesisProducer` (KPL) and other Kinesis
//!   connectors are left as written, with a warning in `runner.log`.
//!   `KinesisAnalyticsRuntime.getApplicationProperties()` returns the application's property
//!   groups: the library reads the file named by its `config.properties` resource
//!   (`/etc/flink/application_properties.json`, root-owned on AWS), so the runner puts a
//!   `config.properties` naming a file of the run first on the user code's class path (no
//!   root, nothing written outside the run's directory, the library unchanged). Differences:
//!   `ObjectVersion` is refused at start (the emulated S3 keeps no versions); the JAR's
//!   `main` gets no arguments and `execute()` returns at once (as a detached `flink run`:
//!   code after it that reads the job's result fails); nested `lib/*.jar` are not put on the
//!   class path; inline code (`ZipFileContent`, `TextContent`) is described but not run.
//! - A job that fails after it ran (after the runner's own restarts) keeps the application
//!   RUNNING and is started again from its latest checkpoint after a back-off, as AWS's Flink
//!   keeps restarting a failing job; Flink's message is logged.
//! - Snapshots are Flink savepoints in the data directory (CreateApplicationSnapshot asks the
//!   runner for one; a stop with snapshots on takes one, named `stop-<epoch ms>`); a snapshot
//!   that cannot be taken ends FAILED, where AWS would refuse the call.
//! - After an emulator restart, applications that were running show STARTING until their
//!   runner reads again (restored from the newest retained checkpoint or savepoint).
//! - RollbackApplication, UpdateApplicationMaintenanceConfiguration and
//!   CreateApplicationPresignedUrl are refused with `UnsupportedOperationException`;
//!   autoscaling is recorded but the job runs at `Parallelism`; VPC and CloudWatch options are
//!   recorded only (no logs are written to CloudWatch: the runner's log is `runner.log` in the
//!   run's directory); the runner calls Kinesis with access key = the application's account
//!   (under `--auth sigv4`, with that key's `--credential` secret: without one the start
//!   fails saying so), not with the application's ServiceExecutionRole.

mod app;
mod control;
mod durable;
mod job;
mod lifecycle;
pub mod model;
mod options;
mod program;
mod runner;
mod tagging;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::protocol::Protocol;
use super::s3::S3;
use super::storage::{Storage, StorageError};
use app::App;
use durable::Durable;

pub use runner::RunnerSetup;

/// The `X-Amz-Target` prefix of Managed Service for Apache Flink operations.
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20180523";

/// Behaviour switches of the emulated service.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The least time each transition (STARTING, UPDATING, STOPPING, DELETING ...) takes.
    pub transition_delay: Duration,
    /// How runner JVMs are started.
    pub runner: RunnerSetup,
    /// The credentials requests must be signed with when `--auth sigv4` is on (`None`: any
    /// credentials are accepted): a runner signs with the one whose access key is its
    /// application's account.
    pub sigv4: Option<Vec<super::auth::Credential>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            transition_delay: Duration::ZERO,
            runner: RunnerSetup::default(),
            sigv4: None,
        }
    }
}

/// Applications by (account, region, name).
type Key = (String, String, String);

/// The emulated service.
pub struct Analytics {
    settings: Settings,
    clock: Arc<Clock>,
    s3: Arc<S3>,
    durable: Option<Durable>,
    apps: RwLock<BTreeMap<Key, Arc<Mutex<App>>>>,
    /// Where runs keep their files: the data directory's `analytics/`, or a temporary one.
    work_dir: PathBuf,
    /// True when `work_dir` is temporary (removed at shutdown).
    temporary_work_dir: bool,
    /// The emulator's own endpoint, set once it listens.
    endpoint: OnceLock<String>,
    runs: runner::Runs,
}

impl Analytics {
    /// The service, recovering what `storage` holds.
    pub fn new(
        settings: Settings,
        clock: Arc<Clock>,
        s3: Arc<S3>,
        storage: Option<Arc<Storage>>,
        data_dir: Option<&std::path::Path>,
    ) -> Result<Analytics, StorageError> {
        let (work_dir, temporary_work_dir) = match data_dir {
            Some(dir) => (dir.join("analytics"), false),
            None => {
                // One per emulator, even for several in one process (tests).
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (
                    std::env::temp_dir().join(format!(
                        "kinesis-emulator-analytics-{}-{}-{n}",
                        std::process::id(),
                        clock.now_ms()
                    )),
                    true,
                )
            }
        };
        let mut apps = BTreeMap::new();
        let durable = match storage {
            None => None,
            Some(storage) => {
                let durable = Durable::open(storage)?;
                for app in durable.load()? {
                    apps.insert(
                        (app.account.clone(), app.region.clone(), app.name.clone()),
                        Arc::new(Mutex::new(app)),
                    );
                }
                tracing::info!(
                    applications = apps.len(),
                    "Analytics state recovered from the data directory"
                );
                Some(durable)
            }
        };
        Ok(Analytics {
            settings,
            clock,
            s3,
            durable,
            apps: RwLock::new(apps),
            work_dir,
            temporary_work_dir,
            endpoint: OnceLock::new(),
            runs: runner::Runs::default(),
        })
    }

    /// Starts supervising runners (and restarts the applications that were running when the
    /// emulator stopped) once the emulator listens at `endpoint`; on `stopping`, every runner
    /// is stopped.
    pub fn spawn(
        self: &Arc<Self>,
        endpoint: String,
        stopping: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let _ = self.endpoint.set(endpoint);
        runner::spawn(self.clone(), stopping)
    }

    /// Handles one operation: decodes `body`, runs the operation, encodes the answer.
    pub fn handle(
        &self,
        ctx: &Ctx,
        operation: &str,
        protocol: Protocol,
        body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        macro_rules! ops {
            ($($name:literal => $handler:path),* $(,)?) => {
                match operation {
                    $($name => self.call(ctx, protocol, body, $handler),)*
                    _ => Err(AwsError::client(
                        "UnknownOperationException",
                        format!("Operation {operation} is not supported by {TARGET_PREFIX}."),
                    )),
                }
            };
        }
        super::kinesis::check_region(&ctx.region)?;
        ops! {
            "CreateApplication" => control::create,
            "DescribeApplication" => control::describe,
            "ListApplications" => control::list,
            "UpdateApplication" => control::update,
            "DeleteApplication" => control::delete,
            "DescribeApplicationVersion" => control::describe_version,
            "ListApplicationVersions" => control::list_versions,
            "StartApplication" => lifecycle::start,
            "StopApplication" => lifecycle::stop,
            "CreateApplicationSnapshot" => lifecycle::create_snapshot,
            "ListApplicationSnapshots" => lifecycle::list_snapshots,
            "DescribeApplicationSnapshot" => lifecycle::describe_snapshot,
            "DeleteApplicationSnapshot" => lifecycle::delete_snapshot,
            "ListApplicationOperations" => lifecycle::list_operations,
            "DescribeApplicationOperation" => lifecycle::describe_operation,
            "TagResource" => tagging::tag,
            "UntagResource" => tagging::untag,
            "ListTagsForResource" => tagging::list,
            "AddApplicationCloudWatchLoggingOption" => options::add_logging,
            "DeleteApplicationCloudWatchLoggingOption" => options::delete_logging,
            "AddApplicationVpcConfiguration" => options::add_vpc,
            "DeleteApplicationVpcConfiguration" => options::delete_vpc,
            "AddApplicationInput" => options::sql_only,
            "AddApplicationOutput" => options::sql_only,
            "AddApplicationReferenceDataSource" => options::sql_only,
            "AddApplicationInputProcessingConfiguration" => options::sql_only,
            "DeleteApplicationOutput" => options::sql_only,
            "DeleteApplicationReferenceDataSource" => options::sql_only,
            "DeleteApplicationInputProcessingConfiguration" => options::sql_only,
            "DiscoverInputSchema" => options::discover_input_schema,
            "RollbackApplication" => options::unsupported,
            "UpdateApplicationMaintenanceConfiguration" => options::unsupported,
            "CreateApplicationPresignedUrl" => options::unsupported,
        }
    }

    fn call<I: DeserializeOwned, O: Serialize>(
        &self,
        ctx: &Ctx,
        protocol: Protocol,
        body: &[u8],
        handler: fn(&Analytics, &Ctx, I) -> Result<O, AwsError>,
    ) -> Result<Vec<u8>, AwsError> {
        let input = protocol.decode::<I>(body)?;
        let output = handler(self, ctx, input)?;
        Ok(protocol.encode(&output))
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Changes application `app` : `edit` changes a copy (or refuses, and nothing changes),
    /// the copy is stored, and only then replaces the application in memory.
    fn change<T>(
        &self,
        app: &Mutex<App>,
        edit: impl FnOnce(&mut App) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let mut current = app.lock();
        let mut next = current.clone();
        let out = edit(&mut next)?;
        if let Some(d) = &self.durable {
            d.save(&next)?;
        }
        *current = next;
        Ok(out)
    }

    /// Applies a change decided by the runner supervision (never refused): in memory at
    /// once, and stored (a failed store is logged).
    fn apply(&self, key: &Key, edit: impl FnOnce(&mut App)) -> Option<App> {
        let app = self.apps.read().get(key).cloned()?;
        let mut current = app.lock();
        edit(&mut current);
        if let Some(d) = &self.durable
            && let Err(e) = d.save(&current)
        {
            tracing::error!(application = %key.2, error = %e, "storing a status change failed");
        }
        Some(current.clone())
    }

    /// Removes a deleted application whose DELETING time is over.
    fn settle(&self, key: &Key, app: &Arc<Mutex<App>>) -> bool {
        let gone = app
            .lock()
            .delete_at_ms
            .is_some_and(|at| at <= self.now() && !self.runs.is_running(key));
        if gone {
            let mut apps = self.apps.write();
            if apps.get(key).is_some_and(|a| Arc::ptr_eq(a, app)) {
                apps.remove(key);
            }
            drop(apps);
            if let Some(d) = &self.durable
                && let Err(e) = d.forget(key)
            {
                tracing::error!(application = %key.2, error = %e, "removing a deleted application from storage failed");
            }
            let _ = std::fs::remove_dir_all(self.app_dir(&app.lock()));
        }
        gone
    }

    /// The application `name` of the caller; `ResourceNotFoundException` when there is none.
    fn find(&self, ctx: &Ctx, name: &str) -> Result<(Key, Arc<Mutex<App>>), AwsError> {
        let key = (ctx.account.clone(), ctx.region.clone(), name.to_owned());
        let app = self.apps.read().get(&key).cloned();
        match app {
            Some(a) if !self.settle(&key, &a) => Ok((key, a)),
            _ => Err(not_found(ctx, name)),
        }
    }

    /// Every application of the caller's account and region, in name order.
    fn all(&self, ctx: &Ctx) -> Vec<Arc<Mutex<App>>> {
        let apps: Vec<_> = self
            .apps
            .read()
            .iter()
            .filter(|(k, _)| k.0 == ctx.account && k.1 == ctx.region)
            .map(|(k, a)| (k.clone(), a.clone()))
            .collect();
        apps.into_iter()
            .filter(|(k, a)| !self.settle(k, a))
            .map(|(_, a)| a)
            .collect()
    }

    /// The directory of an application's runs, checkpoints and snapshots (one per
    /// incarnation: a re-created name starts afresh).
    fn app_dir(&self, app: &App) -> PathBuf {
        self.work_dir
            .join(&app.account)
            .join(&app.region)
            .join(format!("{}-{}", app.name, app.create_ms))
    }
}

/// `ResourceNotFoundException` for an application, in AWS's words.
fn not_found(ctx: &Ctx, name: &str) -> AwsError {
    AwsError::not_found(format!(
        "Application {name} not found in account {} and region {}.",
        ctx.account, ctx.region
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Analytics {
        let clock = Arc::new(Clock::default());
        let s3 = Arc::new(S3::new(clock.clone(), None).expect("an in-memory S3"));
        Analytics::new(Settings::default(), clock, s3, None, None).expect("the service")
    }

    fn ctx() -> Ctx {
        Ctx {
            account: "123456789012".into(),
            region: "us-west-2".into(),
        }
    }

    /// `statements.N` pieces join in numeric order (10 after 2), and `statements` wins.
    #[test]
    fn sql_pieces_join_in_numeric_order() {
        let an = service();
        let body = br#"{"ApplicationName":"a","RuntimeEnvironment":"FLINK-1_20","ApplicationConfiguration":{"EnvironmentProperties":{"PropertyGroups":[{"PropertyGroupId":"kinesis.operator.sql","PropertyMap":{"statements.10":"C","statements.2":"B","statements.1":"A"}}]}}}"#;
        an.handle(&ctx(), "CreateApplication", Protocol::Json, body)
            .unwrap();
        let (_, app) = an.find(&ctx(), "a").unwrap();
        assert_eq!(app.lock().config().sql().as_deref(), Some("ABC"));
    }

    /// Valid requests, mutated byte by byte (deterministically), to every operation in both
    /// protocols: every answer is an answer or an AWS error, never a panic.
    #[test]
    fn malformed_requests_never_panic() {
        let an = service();
        // Every operation the fuzzer names, and an SQL-only call AWS refuses for Flink.
        let operations = crate::emulator::fuzz::ANALYTICS_OPERATIONS
            .into_iter()
            .chain(["AddApplicationInput"]);
        let seeds: [&[u8]; 3] = [
            br#"{"ApplicationName":"a","RuntimeEnvironment":"FLINK-1_20","ServiceExecutionRole":"arn:aws:iam::123456789012:role/r","ApplicationConfiguration":{"FlinkApplicationConfiguration":{"CheckpointConfiguration":{"ConfigurationType":"CUSTOM","CheckpointInterval":1000},"ParallelismConfiguration":{"ConfigurationType":"CUSTOM","Parallelism":2}},"EnvironmentProperties":{"PropertyGroups":[{"PropertyGroupId":"kinesis.operator.sql","PropertyMap":{"statements":"SELECT 1"}}]},"ApplicationSnapshotConfiguration":{"SnapshotsEnabled":true}},"Tags":[{"Key":"k","Value":"v"}]}"#,
            br#"{"ApplicationName":"a","CurrentApplicationVersionId":1,"ApplicationConfigurationUpdate":{"EnvironmentPropertyUpdates":{"PropertyGroups":[]}},"CreateTimestamp":1700000000.5,"SnapshotName":"s","Limit":2,"NextToken":"1","Force":true}"#,
            br#"{"ResourceARN":"arn:aws:kinesisanalytics:us-west-2:123456789012:application/a","Tags":[{"Key":"k2","Value":"v"}],"TagKeys":["k"],"CloudWatchLoggingOption":{"LogStreamARN":"arn:x"},"VpcConfiguration":{"SubnetIds":["s"],"SecurityGroupIds":["g"]}}"#,
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for op in operations {
            for seed in seeds {
                let _ = an.handle(&ctx(), op, Protocol::Json, seed);
                for _ in 0..100 {
                    let mut body = seed.to_vec();
                    for _ in 0..(next() % 4 + 1) {
                        let i = (next() as usize) % body.len();
                        body[i] = (next() & 0xff) as u8;
                    }
                    let _ = an.handle(&ctx(), op, Protocol::Json, &body);
                    let _ = an.handle(&ctx(), op, Protocol::Cbor, &body);
                }
            }
        }
    }
}
