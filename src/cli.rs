//! Command line: `run` (the operator), `emulator`, `crds` and `version`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kubernetes operator and AWS emulator for Amazon Kinesis.
#[derive(Debug, Parser)]
#[command(name = "kinesis-operator", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the operator: reconcile KinesisStreams against AWS (or the emulator).
    Run(RunArgs),
    /// Run the AWS emulator (Kinesis Data Streams, Firehose, Managed Service for Apache Flink, S3,
    /// IAM) on one port.
    Emulator(EmulatorArgs),
    /// Print every CustomResourceDefinition as YAML (a multi-document stream) on stdout, or
    /// write one file per kind into a directory.
    Crds {
        /// Write `<kind>.yaml` files into this directory instead of printing.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
    /// Print the version.
    Version,
}

/// Options of `kinesis-operator run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Region of objects without `spec.region`.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Send every AWS call to this endpoint (the emulator's URL); `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` are honoured as aws-config does when this is absent.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Watch only this namespace (all namespaces when absent).
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// How often a settled object is compared with AWS again (drift check).
    #[arg(long, env = "RESYNC_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub resync_interval: std::time::Duration,
    /// How long a graceful stop may take after SIGTERM before the process exits anyway (keep
    /// it below the pod's terminationGracePeriodSeconds); a second signal exits at once.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_timeout: std::time::Duration,
    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: std::net::SocketAddr,
    /// Address of the `/healthz` and `/readyz` endpoints.
    #[arg(long, env = "HEALTH_ADDR", default_value = "0.0.0.0:8081")]
    pub health_addr: std::net::SocketAddr,
    /// Objects reconciled in parallel.
    #[arg(long, env = "MAX_CONCURRENT_RECONCILES", default_value_t = 16)]
    pub max_concurrent_reconciles: u16,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Pacing of AWS calls, per API and region: `adaptive` sends at full speed until AWS
    /// throttles, then holds each throttled API at the rate that stops the throttling and
    /// creeps back up (as the AWS SDKs' adaptive retry mode does); `aws` always stays below
    /// AWS's documented quotas; `off` never waits.
    #[arg(long, env = "AWS_RATE_LIMITS", default_value = "adaptive")]
    pub aws_rate_limits: RateLimits,
    /// Run as one of several replicas: only the holder of a coordination.k8s.io Lease
    /// reconciles; the others wait and take over within the lease duration when it stops, at
    /// once when it shuts down gracefully.
    #[arg(long, env = "LEADER_ELECT")]
    pub leader_elect: bool,
    /// Namespace of the leader-election Lease; defaults to the pod's own namespace
    /// (`POD_NAMESPACE` or the service account's), else `default`.
    #[arg(long, env = "LEADER_ELECT_NAMESPACE")]
    pub leader_elect_namespace: Option<String>,
    /// Name of the leader-election Lease.
    #[arg(long, env = "LEADER_ELECT_LEASE", default_value = "kinesis-operator")]
    pub leader_elect_lease: String,
    /// How long a leader's claim lasts without renewal: a follower takes over this long after
    /// the leader stopped renewing (client-go's default).
    #[arg(long, env = "LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: std::time::Duration,
    /// A leader that could not renew for this long stops reconciling; shorter than the lease
    /// duration, so that it stops before a follower takes over.
    #[arg(long, env = "LEADER_ELECT_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: std::time::Duration,
    /// How often the leader renews and followers try; shorter than the renew deadline.
    #[arg(long, env = "LEADER_ELECT_RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: std::time::Duration,
}

impl RunArgs {
    /// The leader-election timings, or what is wrong with them.
    fn lease_timings(
        &self,
    ) -> Result<
        (
            std::time::Duration,
            std::time::Duration,
            std::time::Duration,
        ),
        String,
    > {
        let (lease, renew, retry) = (
            self.leader_elect_lease_duration,
            self.leader_elect_renew_deadline,
            self.leader_elect_retry_period,
        );
        if retry.is_zero() || renew <= retry || lease <= renew {
            return Err(format!(
                "--leader-elect-retry-period ({retry:?}) < --leader-elect-renew-deadline ({renew:?}) < --leader-elect-lease-duration ({lease:?}) must hold, the retry period above zero: a leader must stop before a follower takes over"
            ));
        }
        Ok((lease, renew, retry))
    }
}

/// Client-side pacing of AWS calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RateLimits {
    /// Full speed until throttled, then at the rate that stops the throttling.
    Adaptive,
    /// Always below AWS's per-API quotas.
    Aws,
    /// No pacing.
    Off,
}

impl From<RateLimits> for crate::aws::rate_limit::Pacing {
    fn from(limits: RateLimits) -> Self {
        match limits {
            RateLimits::Adaptive => Self::Adaptive,
            RateLimits::Aws => Self::Aws,
            RateLimits::Off => Self::Off,
        }
    }
}

/// The multi-threaded async runtime both servers run on; `None` (after saying why) when it
/// cannot start.
fn async_runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .inspect_err(|e| eprintln!("kinesis-operator: starting the async runtime failed: {e}"))
        .ok()
}

/// Runs the operator until SIGINT or SIGTERM.
fn run_operator(args: RunArgs) -> ExitCode {
    init_logging(args.log_format);
    let lease_timings = match args.lease_timings() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(runtime) = async_runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let Some(stop) = install_shutdown(args.shutdown_timeout) else {
            return ExitCode::FAILURE;
        };
        let client = match kube::Client::try_default().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "no Kubernetes API server: set KUBECONFIG or run in a cluster");
                return ExitCode::FAILURE;
            }
        };
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(args.region.clone()));
        if let Some(url) = &args.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let ctx = std::sync::Arc::new(crate::controller::context::Context::new(
            client,
            loader.load().await,
            crate::controller::context::Settings {
                region: args.region,
                resync: args.resync_interval,
                field_manager: "kinesis-operator".to_owned(),
                pacing: args.aws_rate_limits.into(),
            },
        ));
        let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut listeners = vec![(args.metrics_addr, Some(ctx.metrics.clone()))];
        if args.health_addr != args.metrics_addr {
            listeners.push((args.health_addr, None));
        }
        for (addr, metrics) in listeners {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    let endpoints = std::sync::Arc::new(crate::controller::http::Endpoints {
                        metrics: metrics.clone(),
                        ready: ready.clone(),
                    });
                    tokio::spawn(crate::controller::http::serve(listener, endpoints));
                }
                Err(e) => {
                    tracing::error!(%addr, error = %e, "cannot listen for the metrics or health endpoint");
                    return ExitCode::FAILURE;
                }
            }
        }
        ready.store(true, std::sync::atomic::Ordering::Relaxed);
        let leadership = if args.leader_elect {
            let (lease_duration, renew_deadline, retry_period) = lease_timings;
            let config = crate::controller::lease::LeaseConfig {
                lease_duration,
                renew_deadline,
                retry_period,
                ..crate::controller::lease::LeaseConfig::new(
                    &args
                        .leader_elect_namespace
                        .clone()
                        .unwrap_or_else(own_namespace),
                    &args.leader_elect_lease,
                    &crate::controller::lease::default_identity(),
                )
            };
            tokio::select! {
                leadership = crate::controller::lease::acquire(ctx.client.clone(), config) => Some(leadership),
                () = stop.clone().requested() => {
                    tracing::info!("stopped before leading");
                    return ExitCode::SUCCESS;
                }
            }
        } else {
            None
        };
        tracing::info!(namespace = ?args.watch_namespace, "operator running");
        let metrics = ctx.metrics.clone();
        metrics.set_leader(true);
        let lost = leadership.as_ref().map(|l| l.lost());
        let shutdown = async move {
            match lost {
                Some(lost) => {
                    tokio::select! {
                        () = stop.requested() => {}
                        _ = lost => {}
                    }
                }
                None => stop.requested().await,
            }
        };
        crate::controller::run(
            ctx,
            args.watch_namespace.as_deref(),
            args.max_concurrent_reconciles,
            shutdown,
        )
        .await;
        metrics.set_leader(false);
        match leadership {
            Some(l) if l.is_lost() => {
                tracing::error!("leadership lost: exiting so that this replica restarts as a contender");
                ExitCode::FAILURE
            }
            Some(l) => {
                l.release().await;
                tracing::info!("operator stopped");
                ExitCode::SUCCESS
            }
            None => {
                tracing::info!("operator stopped");
                ExitCode::SUCCESS
            }
        }
    })
}

/// The namespace this pod runs in (its service account's), or `default` outside a cluster.
fn own_namespace() -> String {
    std::env::var("POD_NAMESPACE")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace").ok()
        })
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// Options of `kinesis-operator emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, env = "EMULATOR_LISTEN", default_value = "0.0.0.0:4566")]
    pub listen: std::net::SocketAddr,
    /// Keep state in this directory so that it survives restarts and crashes (every
    /// acknowledged write is stored before it is acknowledged); memory only when absent.
    #[arg(long, env = "EMULATOR_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Account ID of requests whose access key is not itself a 12-digit account ID.
    #[arg(long, env = "EMULATOR_ACCOUNT_ID", default_value = "000000000000", value_parser = parse_account)]
    pub account_id: String,
    /// How long a new stream stays CREATING, e.g. `500ms`, `2s` (AWS: about 30 s).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub create_delay: std::time::Duration,
    /// How long an updated stream stays UPDATING.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub update_delay: std::time::Duration,
    /// How long a deleted stream stays DELETING.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub delete_delay: std::time::Duration,
    /// Request authentication: `none` accepts any credentials (only the credential scope is
    /// read); `sigv4` verifies every signature against the `--credential`s.
    #[arg(long, default_value = "none")]
    pub auth: AuthMode,
    /// A credential accepted with `--auth sigv4`, as `ACCESS_KEY:SECRET`; repeatable.
    #[arg(long = "credential", value_name = "ACCESS_KEY:SECRET")]
    pub credentials: Vec<crate::emulator::auth::Credential>,
    /// Enforce IAM (needs `--auth sigv4`): access keys made with `CreateAccessKey` may sign
    /// requests and act as their IAM user, and keys from STS `AssumeRole` act as the role (its
    /// trust policy decides who may assume it); their policies decide each Kinesis, Firehose,
    /// S3 and IAM call. `--credential` keys stay the account's root, allowed everything.
    #[arg(long)]
    pub iam_enforce: bool,
    /// Relax AWS's per-shard throughput limits, control-plane call rates and daily budgets
    /// (for load tests).
    #[arg(long)]
    pub relax_limits: bool,
    /// Deliver Firehose buffers after at most this long (e.g. `1s`), whatever a delivery
    /// stream's buffering hints say; the API still reports the configured hints. For tests.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub firehose_flush_interval: Option<std::time::Duration>,
    /// Managed Service for Apache Flink: the least time each application transition
    /// (STARTING, UPDATING, STOPPING, DELETING) takes, e.g. `2s`.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub analytics_transition_delay: std::time::Duration,
    /// The Flink runner jar that runs applications (`make runner-flink` builds it); by
    /// default `flink-runner.jar` next to this executable (or in `runners/` there), then
    /// `target/runners/flink-runner.jar` of the working directory.
    #[arg(long, env = "KINESIS_OPERATOR_FLINK_RUNNER", value_name = "PATH")]
    pub flink_runner: Option<std::path::PathBuf>,
    /// The `java` (17 or later) that runs the Flink runner; by default `$JAVA_HOME/bin/java`,
    /// then `java` on `PATH`.
    #[arg(long, env = "KINESIS_OPERATOR_JAVA", value_name = "PATH")]
    pub java: Option<std::path::PathBuf>,
    /// Heap (`-Xmx`) of each running application's Flink JVM, MiB; the JVM's whole footprint
    /// is about 160 MiB more (runners/flink/README.md). Large keyed state needs more.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(64..))]
    pub analytics_memory_mib: u32,
    /// Inject faults: `OP:KIND:RATE` with KIND `throttle`, `5xx`, `503` or `latency=<ms>` and
    /// OP an operation name (an IAM or STS Action; `S3` for every S3 request) or `*`;
    /// repeatable. Each service answers in its own words (Kinesis/Firehose
    /// LimitExceededException, IAM/STS Throttling, S3 503 SlowDown).
    #[arg(long = "fault", value_name = "OP:KIND:RATE")]
    pub faults: Vec<crate::emulator::faults::Fault>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

/// How the emulator authenticates requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Accept any credentials.
    None,
    /// Verify SigV4 signatures.
    Sigv4,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// Parses `500ms`, `2s`, `1m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: use e.g. 500ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?}; use ms, s, m or h"
            ));
        }
    };
    Ok(std::time::Duration::from_secs_f64(seconds))
}

fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not an AWS account ID: use 12 digits"))
    }
}

/// Crates whose `info` lines describe their own internals (the emulator's storage engine
/// creating and compacting its files), not what the operator or emulator did: `warn` unless
/// `RUST_LOG` names them.
const QUIET_CRATES: &[&str] = &["fjall", "lsm_tree"];

/// The log filter for `RUST_LOG` (`info` when unset), with [`QUIET_CRATES`] at `warn`
/// unless it names them.
fn log_filter(rust_log: Option<&str>) -> String {
    let mut spec = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("info")
        .to_owned();
    for name in QUIET_CRATES {
        if !spec.contains(name) {
            spec.push_str(&format!(",{name}=warn"));
        }
    }
    spec
}

/// Installs the global log subscriber (`RUST_LOG` filters, default `info`).
pub fn init_logging(format: LogFormat) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(rust_log.as_deref()))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(None)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs the emulator until SIGINT or SIGTERM.
fn run_emulator(args: EmulatorArgs) -> ExitCode {
    init_logging(args.log_format);
    if args.auth == AuthMode::Sigv4 && args.credentials.is_empty() {
        eprintln!(
            "kinesis-operator: --auth sigv4 needs at least one --credential ACCESS_KEY:SECRET"
        );
        return ExitCode::from(2);
    }
    if args.iam_enforce && args.auth != AuthMode::Sigv4 {
        eprintln!(
            "kinesis-operator: --iam-enforce needs --auth sigv4 (requests must be signed to know who sends them)"
        );
        return ExitCode::from(2);
    }
    let Some(runtime) = async_runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let Some(stop) = install_shutdown(crate::shutdown::DEFAULT_TIMEOUT) else {
            return ExitCode::FAILURE;
        };
        let config = crate::emulator::Config {
            listen: args.listen,
            account_id: args.account_id,
            kinesis: crate::emulator::kinesis::Settings {
                create_delay: args.create_delay,
                update_delay: args.update_delay,
                delete_delay: args.delete_delay,
                relax_limits: args.relax_limits,
            },
            firehose: crate::emulator::firehose::Settings {
                create_delay: args.create_delay,
                delete_delay: args.delete_delay,
                relax_limits: args.relax_limits,
                flush_interval: args.firehose_flush_interval,
            },
            analytics: crate::emulator::analytics::Settings {
                transition_delay: args.analytics_transition_delay,
                runner: crate::emulator::analytics::RunnerSetup {
                    jar: args.flink_runner,
                    java: args.java,
                    memory_mib: args.analytics_memory_mib,
                },
                // Taken from `sigv4` below by the emulator.
                sigv4: None,
            },
            faults: args.faults,
            data_dir: args.data_dir,
            sigv4: (args.auth == AuthMode::Sigv4).then_some(args.credentials),
            iam_enforce: args.iam_enforce,
            ..Default::default()
        };
        let emulator = match crate::emulator::Emulator::start(config).await {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(listen = %args.listen, error = %e, "cannot start the emulator");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(endpoint = %emulator.endpoint_url(), "emulator ready");
        stop.requested().await;
        emulator.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// The stop request of the process (see [`crate::shutdown`]); `None` (after saying why) when
/// the signal handlers cannot be installed.
fn install_shutdown(timeout: std::time::Duration) -> Option<crate::shutdown::Shutdown> {
    crate::shutdown::Shutdown::install(timeout)
        .inspect_err(|e| tracing::error!(error = %e, "cannot install the SIGTERM/SIGINT handlers"))
        .ok()
}

/// Renders every CRD as one multi-document YAML stream.
pub fn crds_yaml() -> String {
    crate::api::crds()
        .iter()
        .map(|(_, crd)| crd_yaml(crd))
        .collect::<Vec<_>>()
        .join("")
}

/// Renders one CRD as a YAML document starting with `---`.
pub fn crd_yaml(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> String {
    let body = serde_norway::to_string(crd).expect("a CRD always serialises to YAML");
    format!("---\n{body}")
}

/// Writes one YAML file per CRD into `dir` (created if missing).
fn write_crds(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (file, crd) in crate::api::crds() {
        std::fs::write(dir.join(file), crd_yaml(&crd))?;
    }
    Ok(())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        Command::Emulator(args) => return run_emulator(args),
        Command::Run(args) => return run_operator(args),
        Command::Crds { out_dir: None } => out.write_all(crds_yaml().as_bytes()),
        Command::Crds { out_dir: Some(dir) } => write_crds(&dir),
        Command::Version => writeln!(out, "kinesis-operator {}", env!("CARGO_PKG_VERSION")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kinesis-operator: writing the output failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_storage_engine_logs_only_warnings_unless_rust_log_names_it() {
        let cases = [
            (None, "info,fjall=warn,lsm_tree=warn"),
            (Some(""), "info,fjall=warn,lsm_tree=warn"),
            (Some("debug"), "debug,fjall=warn,lsm_tree=warn"),
            (
                Some("info,kinesis_operator=debug"),
                "info,kinesis_operator=debug,fjall=warn,lsm_tree=warn",
            ),
            (Some("info,fjall=debug"), "info,fjall=debug,lsm_tree=warn"),
        ];
        for (rust_log, want) in cases {
            assert_eq!(log_filter(rust_log), want, "RUST_LOG={rust_log:?}");
            assert!(
                tracing_subscriber::EnvFilter::try_new(want).is_ok(),
                "{want}"
            );
        }
    }

    #[test]
    fn leader_election_timings_must_let_a_leader_stop_before_a_follower_takes_over() {
        let cases = [
            (&[][..], true),
            (
                &[
                    "--leader-elect-lease-duration",
                    "6s",
                    "--leader-elect-renew-deadline",
                    "4s",
                    "--leader-elect-retry-period",
                    "1s",
                ][..],
                true,
            ),
            (&["--leader-elect-lease-duration", "10s"][..], false),
            (&["--leader-elect-renew-deadline", "2s"][..], false),
            (&["--leader-elect-retry-period", "0s"][..], false),
        ];
        for (flags, valid) in cases {
            let cli = Cli::parse_from(
                ["kinesis-operator", "run"]
                    .into_iter()
                    .chain(flags.iter().copied()),
            );
            let Command::Run(args) = cli.command else {
                panic!("the run command")
            };
            let timings = args.lease_timings();
            assert_eq!(timings.is_ok(), valid, "{flags:?}: {timings:?}");
            if let Err(message) = timings {
                assert!(message.contains("--leader-elect-retry-period"), "{message}");
            }
        }
    }

    /// `crds/` is generated; it must match the types, or `make crds` was forgotten.
    #[test]
    fn committed_crds_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let mut expected_files: Vec<_> = crate::api::crds().iter().map(|(f, _)| *f).collect();
        expected_files.sort_unstable();
        let mut present: Vec<_> = std::fs::read_dir(&dir)
            .expect("crds/ exists")
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8")
            })
            .collect();
        present.sort_unstable();
        assert_eq!(
            present, expected_files,
            "crds/ holds other files than the types generate: run `make crds`"
        );
        for (file, crd) in crate::api::crds() {
            let committed = std::fs::read_to_string(dir.join(file)).expect("a CRD file");
            assert!(
                committed == crd_yaml(&crd),
                "crds/{file} differs from what the types generate: run `make crds` and commit it"
            );
        }
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        for (text, expected) in [
            ("500ms", 500),
            ("2s", 2000),
            ("1m", 60_000),
            ("3", 3000),
            ("0.5s", 500),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(expected)),
                "{text}"
            );
        }
        for bad in ["", "fast", "2d", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn crds_yaml_is_one_document_per_kind() {
        let yaml = crds_yaml();
        assert_eq!(
            yaml.matches("\nkind: CustomResourceDefinition\n").count(),
            4
        );
        assert!(yaml.starts_with("---\n"));
    }
}
