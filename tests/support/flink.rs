//! Managed Flink applications through the real aws-sdk-kinesisanalyticsv2 and aws-sdk-kinesis
//! clients, for tests that run the tutorial's SQL on the real Flink runner: clients for an
//! emulator's endpoint in the tutorial's account and region, the tutorial's `LIKE '%error%'`
//! filter, applications created with SQL in the `kinesis.operator.sql` group, and records in
//! and out of one-shard streams.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};
use aws_sdk_kinesisanalyticsv2::Client;
use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationConfiguration, ApplicationRestoreConfiguration, ApplicationRestoreType,
    ApplicationSnapshotConfiguration, ApplicationStatus, CheckpointConfiguration,
    ConfigurationType, EnvironmentProperties, FlinkApplicationConfiguration, OperationStatus,
    PropertyGroup, RunConfiguration, RuntimeEnvironment,
};
use kinesis_operator::emulator::analytics::{RunnerSetup, Settings};
use kinesis_operator::emulator::{Config, Emulator};
use serde_json::{Value, json};

/// The tutorial's account, region and the applications' execution role.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-west-2";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/flink-app";

/// A runner JVM's start (planning included) and a record's way through.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to keep reading after the expected records arrived, to see that no more come.
pub const SETTLE: Duration = Duration::from_secs(2);

/// What `make runner-flink` builds: the Flink runner jar and the example JAR application.
pub struct Runners {
    /// `flink-runner.jar`, which the emulator starts per running application.
    pub runner: PathBuf,
    /// `examples/uppercase.jar`, a DataStream job as AWS's templates build one.
    pub uppercase: PathBuf,
}

/// The runner jar and the example application, built once per test binary by `make
/// runner-flink` into this build's target directory (a no-op when they are up to date).
pub fn runners() -> &'static Runners {
    static RUNNERS: OnceLock<Runners> = OnceLock::new();
    RUNNERS.get_or_init(|| {
        // CARGO_TARGET_TMPDIR is `<target dir>/tmp`.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target directory")
            .join("runners");
        let built = std::process::Command::new("make")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["-s", "runner-flink"])
            .arg(format!("RUNNER_FLINK_DIR={}", dir.display()))
            .stdin(Stdio::null())
            .output()
            .expect("run `make runner-flink` (needs make, Maven and a JDK 17 on PATH)");
        assert!(
            built.status.success(),
            "`make runner-flink` failed ({}):\n{}\n{}",
            built.status,
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        );
        Runners {
            runner: dir.join("flink-runner.jar"),
            uppercase: dir.join("examples").join("uppercase.jar"),
        }
    })
}

/// An in-process emulator whose applications run on `runner` (`None`: a runner jar that does
/// not exist), keeping its state in `data_dir`, each application transition lasting at least
/// `delay`.
pub async fn emulator_with_runner(
    runner: Option<PathBuf>,
    data_dir: Option<&Path>,
    delay: Duration,
) -> Emulator {
    Emulator::start(Config {
        analytics: Settings {
            transition_delay: delay,
            runner: RunnerSetup {
                jar: Some(runner.unwrap_or_else(|| PathBuf::from("/nonexistent/flink-runner.jar"))),
                ..RunnerSetup::default()
            },
            sigv4: None,
        },
        data_dir: data_dir.map(Path::to_path_buf),
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

/// A kinesisanalyticsv2 client for `endpoint`, as the tutorial's account, without retries.
pub fn client_at(endpoint: &str) -> Client {
    let config = aws_sdk_kinesisanalyticsv2::Config::builder()
        .behavior_version(aws_sdk_kinesisanalyticsv2::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_kinesisanalyticsv2::config::Region::new(REGION))
        .credentials_provider(Credentials::new(ACCOUNT, "secret", None, None, "test"))
        .retry_config(aws_sdk_kinesisanalyticsv2::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A Kinesis client for `endpoint`, as the tutorial's account, without retries.
pub fn kinesis_at(endpoint: &str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_kinesis::config::Region::new(REGION))
        .credentials_provider(Credentials::new(ACCOUNT, "secret", None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// An S3 client for `endpoint` (path-style), as the tutorial's account.
pub fn s3_at(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_s3::config::Region::new(REGION))
            .credentials_provider(Credentials::new(ACCOUNT, "secret", None, None, "test"))
            .force_path_style(true)
            .build(),
    )
}

/// The tutorial's filter: error lines from `input` to `output`.
pub fn filter_sql(input: &str, output: &str) -> String {
    format!(
        r#"CREATE TABLE log_data (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = '{input}',
  'aws.region' = 'us-west-2',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);
CREATE TABLE error_logs (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = '{output}',
  'aws.region' = 'us-west-2',
  'format' = 'json'
);
INSERT INTO error_logs
SELECT `timestamp`, message FROM log_data WHERE message LIKE '%error%';
"#
    )
}

/// An application configuration with `sql` in the `kinesis.operator.sql` group (split into
/// `statements.N` pieces as the operator sends long SQL), checkpoints every `checkpoint_ms`
/// and snapshots as given.
pub fn configuration(sql: &str, checkpoint_ms: i64, snapshots: bool) -> ApplicationConfiguration {
    let mut group = PropertyGroup::builder().property_group_id("kinesis.operator.sql");
    let chars: Vec<char> = sql.chars().collect();
    for (i, piece) in chars.chunks(300).enumerate() {
        group = group.property_map(
            format!("statements.{}", i + 1),
            piece.iter().collect::<String>(),
        );
    }
    ApplicationConfiguration::builder()
        .environment_properties(
            EnvironmentProperties::builder()
                .property_groups(group.build().unwrap())
                .build()
                .unwrap(),
        )
        .flink_application_configuration(
            FlinkApplicationConfiguration::builder()
                .checkpoint_configuration(
                    CheckpointConfiguration::builder()
                        .configuration_type(ConfigurationType::Custom)
                        .checkpointing_enabled(true)
                        .checkpoint_interval(checkpoint_ms)
                        .min_pause_between_checkpoints(0)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .application_snapshot_configuration(
            ApplicationSnapshotConfiguration::builder()
                .snapshots_enabled(snapshots)
                .build()
                .unwrap(),
        )
        .build()
}

/// CreateApplication `name` (FLINK-1_20) with `config`.
pub async fn create_app(client: &Client, name: &str, config: ApplicationConfiguration) {
    client
        .create_application()
        .application_name(name)
        .runtime_environment(RuntimeEnvironment::Flink120)
        .service_execution_role(ROLE)
        .application_configuration(config)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateApplication {name}: {e:?}"));
}

/// The application's status.
pub async fn status(client: &Client, name: &str) -> ApplicationStatus {
    client
        .describe_application()
        .application_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeApplication {name}: {e:?}"))
        .application_detail
        .expect("a detail")
        .application_status
}

/// Waits until `name` is `wanted`; on timeout, panics with its operations.
pub async fn wait_status(client: &Client, name: &str, wanted: ApplicationStatus) {
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let now = status(client, name).await;
        if now == wanted {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "{name} is {now:?}, not {wanted:?}; operations: {}",
                operations(client, name).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The application's operations in words: each one's name, status and failure.
pub async fn operations(client: &Client, name: &str) -> String {
    let listed = client
        .list_application_operations()
        .application_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListApplicationOperations {name}: {e:?}"));
    let mut out = Vec::new();
    for op in listed.application_operation_info_list() {
        let id = op.operation_id().unwrap_or_default();
        let failure = client
            .describe_application_operation()
            .application_name(name)
            .operation_id(id)
            .send()
            .await
            .ok()
            .and_then(|d| d.application_operation_info_details)
            .and_then(|d| d.operation_failure_details)
            .and_then(|f| f.error_info)
            .and_then(|e| e.error_string);
        out.push(format!(
            "{} {:?}{}",
            op.operation().unwrap_or_default(),
            op.operation_status(),
            failure.map(|f| format!(": {f}")).unwrap_or_default()
        ));
    }
    out.join("; ")
}

/// StartApplication `name` with `restore`; its operation ID.
pub async fn start(client: &Client, name: &str, restore: ApplicationRestoreType) -> String {
    client
        .start_application()
        .application_name(name)
        .run_configuration(
            RunConfiguration::builder()
                .application_restore_configuration(
                    ApplicationRestoreConfiguration::builder()
                        .application_restore_type(restore)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartApplication {name}: {e:?}"))
        .operation_id
        .expect("an operation ID")
}

/// Operation `id`'s status and failure text.
pub async fn operation(client: &Client, name: &str, id: &str) -> (OperationStatus, Option<String>) {
    let details = client
        .describe_application_operation()
        .application_name(name)
        .operation_id(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeApplicationOperation {id}: {e:?}"))
        .application_operation_info_details
        .expect("details");
    let error = details
        .operation_failure_details
        .and_then(|f| f.error_info)
        .and_then(|e| e.error_string);
    (details.operation_status, error)
}

/// Waits until operation `id` ends; its status and failure text.
pub async fn wait_operation_end(
    client: &Client,
    name: &str,
    id: &str,
) -> (OperationStatus, Option<String>) {
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let (status, message) = operation(client, name, id).await;
        if status != OperationStatus::InProgress {
            return (status, message);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "operation {id} of {name} is still in progress"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// CreateStream `name` with one shard, and waits until it is ACTIVE.
pub async fn create_stream(client: &aws_sdk_kinesis::Client, name: &str) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStream {name}: {e:?}"));
    for _ in 0..200 {
        let d = client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .unwrap();
        if d.stream_description_summary.unwrap().stream_status == StreamStatus::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never became ACTIVE");
}

/// Log lines `from..to`, every third one an error.
pub fn log_lines(from: usize, to: usize) -> Vec<Value> {
    (from..to)
        .map(|i| {
            let level = if i % 3 == 0 { "error" } else { "info" };
            json!({"timestamp": format!("2026-12-07 10:00:{:02}.000", i % 60), "message": format!("{level}: line {i}")})
        })
        .collect()
}

/// The messages of `lines` the filter keeps.
pub fn errors_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .filter(|m| m.contains("error"))
        .collect()
}

/// PutRecord each of `records` (as JSON) to `stream`, in order.
pub async fn put(client: &aws_sdk_kinesis::Client, stream: &str, records: &[Value]) {
    let bodies: Vec<String> = records.iter().map(Value::to_string).collect();
    super::records::put_texts(client, stream, &bodies).await;
}

/// A JSON record's `message`.
fn message_of(data: &[u8]) -> String {
    let v: Value = serde_json::from_slice(data).expect("JSON records");
    v["message"].as_str().unwrap_or_default().to_owned()
}

/// A record as text.
fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Every record in `stream` (one shard), from its start, each read by `decode`.
async fn read_stream(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    decode: fn(&[u8]) -> String,
) -> Vec<String> {
    let mut iterator = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetShardIterator {stream}: {e:?}"))
        .shard_iterator;
    let mut out = Vec::new();
    while let Some(it) = iterator {
        let got = client
            .get_records()
            .shard_iterator(it)
            .send()
            .await
            .unwrap();
        out.extend(got.records.iter().map(|r| decode(r.data.as_ref())));
        if got.records.is_empty() || got.millis_behind_latest == Some(0) {
            break;
        }
        iterator = got.next_shard_iterator;
    }
    out
}

/// Every record's `message` in `stream` (one shard), from its start.
pub async fn messages(client: &aws_sdk_kinesis::Client, stream: &str) -> Vec<String> {
    read_stream(client, stream, message_of).await
}

/// Waits until `stream` holds `expected.len()` records, then a little longer, and checks
/// that it holds exactly `expected` (each record read by `decode`), in order.
async fn expect_in_stream(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    expected: &[String],
    decode: fn(&[u8]) -> String,
) {
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let got = read_stream(client, stream, decode).await;
        if got.len() >= expected.len() {
            tokio::time::sleep(SETTLE).await;
            assert_eq!(
                read_stream(client, stream, decode).await,
                expected,
                "the records in {stream}"
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{stream} holds {} of {} records: {got:?}",
            got.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// [`expect_in_stream`] for JSON records' `message`s.
pub async fn expect_messages(client: &aws_sdk_kinesis::Client, stream: &str, expected: &[String]) {
    expect_in_stream(client, stream, expected, message_of).await;
}

/// [`expect_in_stream`] for records as text.
pub async fn expect_texts(client: &aws_sdk_kinesis::Client, stream: &str, expected: &[String]) {
    expect_in_stream(client, stream, expected, text_of).await;
}

/// Starts `name` (skipping any snapshot) expecting the start to fail: waits for the
/// StartApplication operation to end FAILED and the application to be READY again, and
/// returns the operation's failure message.
pub async fn failed_start(client: &Client, name: &str) -> String {
    let op = start(
        client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    let (status, message) = wait_operation_end(client, name, &op).await;
    assert_eq!(status, OperationStatus::Failed, "the start of {name}");
    let message = message.unwrap_or_else(|| panic!("{name}: a failure message"));
    wait_status(client, name, ApplicationStatus::Ready).await;
    message
}
