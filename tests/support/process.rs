//! The real binary as a child process. `kinesis-operator emulator` for the durability tests:
//! an in-process emulator cannot be `kill -9`ed without killing the test with it, and only a
//! killed process shows that every acknowledged write was on disk (the handle keeps the port,
//! the data directory and the flags so that the same emulator can be started again).
//! `kinesis-operator run` for what only a process shows: signals, exit codes, two replicas.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A running emulator binary with `--data-dir`, killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    flags: Vec<String>,
    /// The logs of every start (`emulator-<n>.log`).
    logs: tempfile::TempDir,
    starts: usize,
}

impl EmulatorProcess {
    /// Starts the binary on a loopback port of its own choosing (`127.0.0.1:0`: no other
    /// process can hold it) with its state in `data_dir` and the extra `flags` (e.g.
    /// `--relax-limits`), and waits until it says it serves.
    pub async fn start(data_dir: &Path, flags: &[&str]) -> EmulatorProcess {
        let logs = tempfile::tempdir().expect("a temporary directory");
        let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        let log = logs.path().join("emulator-0.log");
        let Some((child, port)) = spawn("127.0.0.1:0", data_dir, &flags, &log).await else {
            panic!(
                "the emulator binary did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        EmulatorProcess {
            child,
            port,
            data_dir: data_dir.to_owned(),
            flags,
            logs,
            starts: 1,
        }
    }

    /// The port it listens on (the same after [`EmulatorProcess::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`, for SDK clients.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends SIGKILL (`kill -9`: nothing is flushed or closed) and waits until it is gone.
    pub async fn kill_9(&mut self) {
        self.child.start_kill().expect("SIGKILL the emulator");
        self.child
            .wait()
            .await
            .expect("the killed emulator is reaped");
    }

    /// Starts the binary again on the same port, data directory and flags (killing it first
    /// if it still runs), and waits until it says it serves.
    pub async fn restart(&mut self) {
        if self.child.start_kill().is_ok() {
            let _ = self.child.wait().await;
        }
        let listen = format!("127.0.0.1:{}", self.port);
        // The port may still be held for a moment by what the killed process left.
        for _ in 0..40 {
            let log = self
                .logs
                .path()
                .join(format!("emulator-{}.log", self.starts));
            self.starts += 1;
            if let Some((child, _)) = spawn(&listen, &self.data_dir, &self.flags, &log).await {
                self.child = child;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the emulator binary did not start again on port {}",
            self.port
        );
    }
}

/// Starts the binary listening on `listen`, its log (JSON lines) in `log`, and waits until it
/// logs that it serves: that line comes after it bound the port and recovered its data
/// directory, so whatever answers on the port afterwards is this process. Its port; `None`
/// when it exited instead (the port was taken).
async fn spawn(
    listen: &str,
    data_dir: &Path,
    flags: &[String],
    log: &Path,
) -> Option<(Child, u16)> {
    let file = std::fs::File::create(log).expect("the emulator's log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinesis-operator"))
        .args(["emulator", "--log-format", "json", "--listen", listen])
        .args(flags)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .expect("the emulator binary starts");
    for _ in 0..1200 {
        if child.try_wait().expect("the emulator's state").is_some() {
            return None;
        }
        if let Some(port) = served_port(&std::fs::read_to_string(log).unwrap_or_default()) {
            return Some((child, port));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the emulator did not say it serves on {listen} within 30 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The port of the emulator's "emulator ready" log line, once it is there.
fn served_port(log: &str) -> Option<u16> {
    log.lines().find_map(|line| {
        let line: serde_json::Value = serde_json::from_str(line).ok()?;
        let fields = line.get("fields")?;
        if fields.get("message")?.as_str()? != "emulator ready" {
            return None;
        }
        fields
            .get("endpoint")?
            .as_str()?
            .rsplit(':')
            .next()?
            .parse()
            .ok()
    })
}

/// A `kinesis-operator run` process watching one namespace, its log in a file; killed when
/// dropped.
pub struct OperatorProcess {
    /// The process.
    pub child: Child,
    metrics: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl OperatorProcess {
    /// Starts the operator against the API server of `kubeconfig` and the AWS endpoint
    /// `endpoint`, watching `ns`, with the extra `args` and environment `env`.
    pub fn start(
        kubeconfig: &Path,
        endpoint: &str,
        ns: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> OperatorProcess {
        let all: Vec<String> = [
            "run",
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--watch-namespace",
            ns,
        ]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
        OperatorProcess::start_args(kubeconfig, &all, env)
    }

    /// Starts `kinesis-operator <args>` (the subcommand `run` and its flags, e.g. as a Helm
    /// chart renders them, without `--metrics-addr` and `--health-addr`, which are added on
    /// free loopback ports) against the API server of `kubeconfig`, with environment `env`.
    pub fn start_args(kubeconfig: &Path, args: &[String], env: &[(&str, &str)]) -> OperatorProcess {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("operator.log");
        let metrics = super::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_kinesis-operator"))
            .args(args)
            .args([
                "--metrics-addr",
                &format!("127.0.0.1:{metrics}"),
                "--health-addr",
                &format!("127.0.0.1:{}", super::free_port()),
            ])
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("the log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("kinesis-operator starts");
        OperatorProcess {
            child,
            metrics,
            log,
            _dir: dir,
        }
    }

    /// The loopback port of its `/metrics` endpoint (for a Prometheus to scrape).
    pub fn metrics_port(&self) -> u16 {
        self.metrics
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        let pid = self.child.id().expect("running") as i32;
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, signal) };
    }

    /// Waits for the process to end; one still running after `limit` fails the test.
    pub async fn exit_within(&mut self, limit: Duration, what: &str) -> std::process::ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("the process is reaped"),
            Err(_) => panic!("{what}: still running after {limit:?}\n{}", self.log_text()),
        }
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its log contains `words`.
    pub async fn wait_for_log(&self, words: &str) {
        super::envtest::wait_for(Duration::from_secs(30), || async {
            self.log_text().contains(words).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("the log never said {words:?}:\n{}", self.log_text()));
    }

    /// Its /metrics page (Prometheus text); `None` while it does not serve it.
    pub async fn metrics_text(&self) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics))
            .await
            .ok()?;
        conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut text = String::new();
        conn.read_to_string(&mut text).await.ok()?;
        Some(text)
    }

    /// The AWS calls of `operation` this process made, by outcome (`ok`, `throttled`,
    /// `transient`, `terminal`, `not_found`), as its `/metrics` counts every attempt.
    pub async fn aws_calls_by_outcome(
        &self,
        operation: &str,
    ) -> Option<std::collections::BTreeMap<String, u64>> {
        let text = self.metrics_text().await?;
        let label = format!("operation=\"{operation}\"");
        let mut by_outcome = std::collections::BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| l.starts_with("kinesis_operator_aws_calls_total{") && l.contains(&label))
        {
            let outcome = line
                .split("outcome=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned();
            let count = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or_default() as u64;
            *by_outcome.entry(outcome).or_insert(0) += count;
        }
        Some(by_outcome)
    }

    /// Calls of AWS operation `operation` (e.g. `CreateStream`) it made, from its /metrics;
    /// `None` while it does not serve them.
    pub async fn aws_calls(&self, operation: &str) -> Option<u64> {
        let text = self.metrics_text().await?;
        let label = format!("operation=\"{operation}\"");
        Some(
            text.lines()
                .filter(|l| {
                    l.starts_with("kinesis_operator_aws_calls_total{") && l.contains(&label)
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64,
        )
    }
}
