//! Running applications: one Flink runner JVM (`runners/flink/`) per running application,
//! supervised by a task of its own that follows the runner's status file and moves the
//! application through its lifecycle.
//!
//! Why a supervisor task per application: a run outlives the call that started it, and its
//! JVM must be stopped (with a savepoint), restarted (an update, a failed job) or killed
//! (a forced stop, a delete) in order; one task owning the child process serialises all of
//! that. API handlers only send [`Command`]s to the manager task, which routes them.
//!
//! No orphan JVMs: each runner watches its parent (`exitWithParent`) and stops when the
//! emulator dies, even by `kill -9`; on a clean shutdown every runner is stopped here (the
//! applications stay RUNNING in the store and are started again, from their newest retained
//! checkpoint or savepoint, when the emulator starts again). A stale status file is never read:
//! every run has a fresh directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;
use tokio::process::{Child, Command as Process};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::app::{App, Snapshot, Status};
use super::{Analytics, Key, job, program};

/// How runner JVMs are started.
#[derive(Clone, Debug)]
pub struct RunnerSetup {
    /// The runner jar; when `None`, looked for next to the executable and in
    /// `target/runners/` of the working directory.
    pub jar: Option<PathBuf>,
    /// The `java` binary; when `None`, `$JAVA_HOME/bin/java` or `java` on `PATH`.
    pub java: Option<PathBuf>,
    /// Each runner JVM's heap (`-Xmx`), MiB.
    pub memory_mib: u32,
}

impl Default for RunnerSetup {
    fn default() -> Self {
        RunnerSetup {
            jar: None,
            java: None,
            memory_mib: 128,
        }
    }
}

impl RunnerSetup {
    /// The runner jar to use, or why there is none.
    pub fn resolve_jar(&self) -> Result<PathBuf, String> {
        let how = "build it with `make runner-flink` (target/runners/flink-runner.jar) or pass --flink-runner PATH (env KINESIS_OPERATOR_FLINK_RUNNER)";
        if let Some(jar) = &self.jar {
            return if jar.is_file() {
                Ok(jar.clone())
            } else {
                Err(format!(
                    "the Flink runner jar {} does not exist: {how}",
                    jar.display()
                ))
            };
        }
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            candidates.push(dir.join("flink-runner.jar"));
            candidates.push(dir.join("runners").join("flink-runner.jar"));
        }
        candidates.push(PathBuf::from("target/runners/flink-runner.jar"));
        candidates
            .into_iter()
            .find(|c| c.is_file())
            .and_then(|c| c.canonicalize().ok())
            .ok_or_else(|| format!("the emulator found no Flink runner jar: {how}"))
    }

    /// The `java` to use, or why there is none.
    pub fn resolve_java(&self) -> Result<PathBuf, String> {
        let how = "install a Java 17 runtime (e.g. `apt-get install openjdk-17-jre-headless`), set JAVA_HOME, or pass --java PATH";
        if let Some(java) = &self.java {
            return if java.is_file() {
                Ok(java.clone())
            } else {
                Err(format!("java {} does not exist: {how}", java.display()))
            };
        }
        if let Some(home) = std::env::var_os("JAVA_HOME") {
            let java = PathBuf::from(home).join("bin").join("java");
            if java.is_file() {
                return Ok(java);
            }
        }
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("java"))
            .find(|j| j.is_file())
            .ok_or_else(|| format!("the emulator found no java to run the Flink runner: {how}"))
    }
}

/// What the API asks of the runs.
#[derive(Debug)]
pub enum Command {
    /// Start a run (StartApplication's `operation`).
    Start { key: Key, operation: String },
    /// Stop the run (with a savepoint unless `force`).
    Stop {
        key: Key,
        operation: String,
        force: bool,
    },
    /// Restart the run with the new version (UpdateApplication's `operation`).
    Restart { key: Key, operation: String },
    /// End an UPDATING that does not touch the job (logging / VPC options) after the delay.
    Settle { key: Key, operation: String },
    /// Kill the run of a deleted application.
    Delete { key: Key },
    /// Take a savepoint of the running job as snapshot `name` (CreateApplicationSnapshot).
    Snapshot { key: Key, name: String },
}

/// What the manager tells one supervisor.
#[derive(Debug)]
enum Control {
    Stop { operation: String, force: bool },
    Restart { operation: String },
    Delete,
    Snapshot { name: String },
}

/// The handle the API holds: a channel to the manager task, and which applications have a
/// supervisor.
#[derive(Default)]
pub struct Runs {
    tx: Mutex<Option<mpsc::UnboundedSender<Command>>>,
    active: Mutex<std::collections::HashSet<Key>>,
}

impl Runs {
    /// Sends a command to the manager (dropped when the emulator is stopping).
    pub fn send(&self, command: Command) {
        if let Some(tx) = self.tx.lock().as_ref() {
            let _ = tx.send(command);
        }
    }

    /// True while a supervisor runs for `key` (a deleted application's files wait for it).
    pub fn is_running(&self, key: &Key) -> bool {
        self.active.lock().contains(key)
    }
}

/// Starts the manager task; applications that were starting, running or updating when the
/// emulator stopped are started again.
pub fn spawn(an: Arc<Analytics>, stopping: watch::Receiver<bool>) -> JoinHandle<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    *an.runs.tx.lock() = Some(tx.clone());
    let apps: Vec<(Key, Arc<Mutex<App>>)> = an
        .apps
        .read()
        .iter()
        .map(|(k, a)| (k.clone(), a.clone()))
        .collect();
    for (key, app) in apps {
        // A savepoint asked for before the emulator stopped was never answered.
        if app
            .lock()
            .snapshots
            .values()
            .any(|s| s.status == "CREATING")
        {
            an.apply(&key, |a| {
                for s in a.snapshots.values_mut().filter(|s| s.status == "CREATING") {
                    s.status = "FAILED".into();
                }
            });
        }
        let status = app.lock().status;
        match status {
            Status::Starting | Status::Running | Status::Updating => {
                an.apply(&key, |a| a.status = Status::Starting);
                tracing::info!(application = %key.2, account = %key.0, region = %key.1, "restarting an application that was running when the emulator stopped");
                let _ = tx.send(Command::Start {
                    key,
                    operation: String::new(),
                });
            }
            // A stop the emulator did not finish: the runner is gone, the stop is done.
            Status::Stopping | Status::ForceStopping => {
                let op = app.lock().pending_operation().map(|o| o.id.clone());
                let now = an.now();
                an.apply(&key, |a| {
                    a.status = Status::Ready;
                    if let Some(op) = op {
                        a.finish_operation(&op, now, None);
                    }
                });
            }
            Status::Ready | Status::Deleting => {}
        }
    }
    tokio::spawn(manage(an, rx, stopping))
}

async fn manage(
    an: Arc<Analytics>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut supervisors: HashMap<Key, mpsc::UnboundedSender<Control>> = HashMap::new();
    let mut tasks = JoinSet::new();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    loop {
        let command = tokio::select! {
            c = rx.recv() => match c { Some(c) => c, None => break },
            _ = stopping.changed() => break,
        };
        supervisors.retain(|_, tx| !tx.is_closed());
        match command {
            Command::Start { key, operation } => {
                if supervisors.contains_key(&key) {
                    // The last run's supervisor is finishing (it made the application READY
                    // just before it ends): this start waits for it.
                    let an = an.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        an.runs.send(Command::Start { key, operation });
                    });
                    continue;
                }
                let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
                supervisors.insert(key.clone(), ctl_tx);
                an.runs.active.lock().insert(key.clone());
                let an = an.clone();
                let shutdown = shutdown_rx.clone();
                tasks.spawn(async move {
                    let purpose = if operation.is_empty() {
                        Purpose::Recover
                    } else {
                        Purpose::Start(operation)
                    };
                    Supervisor {
                        an: an.clone(),
                        key: key.clone(),
                        ctl: ctl_rx,
                        shutdown,
                    }
                    .run(purpose)
                    .await;
                    an.runs.active.lock().remove(&key);
                });
            }
            Command::Stop {
                key,
                operation,
                force,
            } => match supervisors.get(&key) {
                Some(tx) => {
                    let _ = tx.send(Control::Stop { operation, force });
                }
                None => {
                    let an = an.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(an.settings.transition_delay).await;
                        let now = an.now();
                        an.apply(&key, |a| {
                            if matches!(a.status, Status::Stopping | Status::ForceStopping) {
                                a.status = Status::Ready;
                            }
                            a.finish_operation(&operation, now, None);
                        });
                    });
                }
            },
            Command::Restart { key, operation } => match supervisors.get(&key) {
                Some(tx) => {
                    let _ = tx.send(Control::Restart { operation });
                }
                None => an.runs.send(Command::Start { key, operation }),
            },
            Command::Settle { key, operation } => {
                let an = an.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(an.settings.transition_delay).await;
                    let now = an.now();
                    an.apply(&key, |a| {
                        if a.status == Status::Updating {
                            a.status = Status::Running;
                        }
                        a.finish_operation(&operation, now, None);
                    });
                });
            }
            Command::Delete { key } => {
                if let Some(tx) = supervisors.get(&key) {
                    let _ = tx.send(Control::Delete);
                }
            }
            Command::Snapshot { key, name } => {
                let sent = supervisors
                    .get(&key)
                    .is_some_and(|tx| tx.send(Control::Snapshot { name: name.clone() }).is_ok());
                if !sent {
                    snapshot_done(
                        &an,
                        &key,
                        &name,
                        Err("the application's job is not running".into()),
                    );
                }
            }
        }
    }
    *an.runs.tx.lock() = None;
    let _ = shutdown_tx.send(true);
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            _ = &mut deadline => {
                tracing::warn!("Flink runners did not stop within 20 s of shutdown; they are killed");
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    if an.temporary_work_dir {
        let _ = std::fs::remove_dir_all(&an.work_dir);
    }
}

/// Why a run is started.
#[derive(Clone, Debug)]
enum Purpose {
    /// StartApplication: a failure before RUNNING ends the operation FAILED, the application
    /// READY.
    Start(String),
    /// UpdateApplication of a running application: the same, for the update's operation.
    Update(String),
    /// The emulator restarted, or the job failed after it ran: keep trying (AWS restarts a
    /// failing job without end).
    Recover,
}

/// How a run ended.
enum Outcome {
    Stopped {
        operation: String,
        force: bool,
        status: Option<Value>,
    },
    Restart {
        operation: String,
        status: Option<Value>,
    },
    Deleted,
    Shutdown,
    Exited {
        code: Option<i32>,
        status: Option<Value>,
        log: PathBuf,
    },
}

struct Supervisor {
    an: Arc<Analytics>,
    key: Key,
    ctl: mpsc::UnboundedReceiver<Control>,
    shutdown: watch::Receiver<bool>,
}

/// One run's files and process.
struct Run {
    child: Child,
    dir: PathBuf,
    status_file: PathBuf,
    log: PathBuf,
    started: Instant,
}

impl Run {
    fn status(&self) -> Option<Value> {
        serde_json::from_slice(&std::fs::read(&self.status_file).ok()?).ok()
    }

    fn signal(&self, signal: i32) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on our own child's PID with a valid signal number.
            unsafe {
                libc::kill(pid as libc::pid_t, signal);
            }
        }
    }

    /// SIGTERM (a savepoint when snapshots are on), then SIGKILL after `grace`.
    async fn terminate(&mut self, grace: Duration) -> Option<Value> {
        self.signal(libc::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(log = %self.log.display(), "a Flink runner did not stop in time and is killed");
            let _ = self.child.kill().await;
        }
        self.status()
    }

    async fn kill(&mut self) -> Option<Value> {
        let _ = self.child.kill().await;
        self.status()
    }

    /// Removes the run's temporary files (Flink unpacks its planner there) and its copy of a
    /// JAR application's code, keeping the status file and the log.
    fn clean(&self) {
        let _ = std::fs::remove_dir_all(self.dir.join("tmp"));
        let _ = std::fs::remove_file(self.dir.join(program::JAR_FILE));
    }
}

impl Supervisor {
    async fn run(mut self, first: Purpose) {
        let mut purpose = first;
        let mut restore: Option<PathBuf> = None;
        let mut failures: u32 = 0;
        loop {
            let Some(app) = self.app() else { return };
            let run = match self.launch(&app, restore.take()) {
                Ok(run) => run,
                Err(message) => {
                    if self.failed_start(&purpose, &message) {
                        return;
                    }
                    failures += 1;
                    if !self.back_off(failures).await {
                        return;
                    }
                    continue;
                }
            };
            let (outcome, ran) = self.watch(run, &purpose).await;
            if ran {
                failures = 0;
            }
            match outcome {
                Outcome::Stopped {
                    operation,
                    force,
                    status,
                } => {
                    self.stopped(&app, &operation, force, status).await;
                    return;
                }
                Outcome::Restart { operation, status } => {
                    restore = savepoint_of(status.as_ref()).or_else(|| self.recovery_point(&app));
                    purpose = Purpose::Update(operation);
                }
                Outcome::Deleted | Outcome::Shutdown => return,
                Outcome::Exited { code, status, log } => {
                    let state = status
                        .as_ref()
                        .and_then(|s| s["state"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    if state == "FINISHED" {
                        tracing::info!(application = %self.key.2, "the job finished (its sources ended); the application is READY");
                        self.an.apply(&self.key, |a| a.status = Status::Ready);
                        return;
                    }
                    let message = failure_message(code, status.as_ref(), &log);
                    if !ran && self.failed_start(&purpose, &message) {
                        return;
                    }
                    tracing::warn!(application = %self.key.2, account = %self.key.0, error = %message, "the application's Flink job failed; it is started again from its latest checkpoint");
                    purpose = Purpose::Recover;
                    failures += 1;
                    if !self.back_off(failures).await {
                        return;
                    }
                    restore = self.recovery_point(&app).or_else(|| restore_of(&app));
                }
            }
        }
    }

    fn app(&self) -> Option<App> {
        self.an.apps.read().get(&self.key).map(|a| a.lock().clone())
    }

    /// Waits before a retry; false when the run was stopped, deleted or shut down meanwhile.
    async fn back_off(&mut self, failures: u32) -> bool {
        let delay = Duration::from_secs((2u64 << failures.min(5)).min(60));
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = self.shutdown.changed() => false,
            c = self.ctl.recv() => {
                match c {
                    Some(Control::Stop { operation, .. }) => {
                        let app = self.app();
                        if let Some(app) = app {
                            self.stopped(&app, &operation, true, None).await;
                        }
                    }
                    Some(Control::Restart { operation }) => {
                        // The update is applied by the next launch of this loop.
                        let now = self.an.now();
                        self.an.apply(&self.key, |a| {
                            a.status = Status::Starting;
                            a.finish_operation(&operation, now, None);
                        });
                        return true;
                    }
                    Some(Control::Snapshot { name }) => {
                        snapshot_done(&self.an, &self.key, &name, Err("the application's job is restarting after a failure".into()));
                        return true;
                    }
                    Some(Control::Delete) | None => {}
                }
                false
            }
        }
    }

    /// A start (or update restart) that failed before the job ran: the application is READY
    /// again and the operation FAILED with `message`. Returns false for a recovery, which
    /// keeps trying.
    fn failed_start(&self, purpose: &Purpose, message: &str) -> bool {
        let operation = match purpose {
            Purpose::Start(op) | Purpose::Update(op) => op.clone(),
            Purpose::Recover => return false,
        };
        tracing::info!(application = %self.key.2, account = %self.key.0, error = %message, "the application failed to start");
        let now = self.an.now();
        self.an.apply(&self.key, |a| {
            if matches!(a.status, Status::Starting | Status::Updating) {
                a.status = Status::Ready;
            }
            a.finish_operation(&operation, now, Some(message.to_owned()));
        });
        true
    }

    /// Writes the job file and starts the JVM.
    fn launch(&self, app: &App, restore: Option<PathBuf>) -> Result<Run, String> {
        let name = &app.name;
        let endpoint = self.an.endpoint.get().cloned().unwrap_or_default();
        // Under --auth sigv4 the runner signs as the account, with its configured secret.
        let secret = match &self.an.settings.sigv4 {
            None => "kinesis-emulator".to_owned(),
            Some(credentials) => credentials
                .iter()
                .find(|c| c.access_key == app.account)
                .map(|c| c.secret.clone())
                .ok_or_else(|| {
                    format!(
                        "Application {name} cannot start: the emulator verifies signatures (--auth sigv4) and has no --credential for access key {}, which the application's Flink job signs its Kinesis calls with; add --credential {}:SECRET.",
                        app.account, app.account
                    )
                })?,
        };
        let app_dir = self.an.app_dir(app);
        let runs = app_dir.join("runs");
        // Earlier runs' files (a crashed emulator's included) go: no stale status is read.
        let _ = std::fs::remove_dir_all(&runs);
        let dir = runs.join(self.an.now().to_string());
        let checkpoints = app_dir.join("checkpoints");
        let snapshots = app_dir.join("snapshots");
        let io = |what: &str, e: std::io::Error| {
            format!("Application {name} cannot start: {what}: {e}.")
        };
        for d in [&dir.join("tmp"), &checkpoints, &snapshots] {
            std::fs::create_dir_all(d).map_err(|e| io(&format!("creating {}", d.display()), e))?;
        }
        // The code first: a missing JAR is the user's to fix whatever the emulator's setup.
        let program = program::program(&self.an, app, &dir)?;
        let setup = &self.an.settings.runner;
        let jar = setup
            .resolve_jar()
            .map_err(|e| format!("Application {name} cannot start: {e}."))?;
        let java = setup
            .resolve_java()
            .map_err(|e| format!("Application {name} cannot start: {e}."))?;
        let restore = restore.or_else(|| restore_of(app));
        let status_file = dir.join("status.json");
        let job = job::job(
            app,
            &program,
            &endpoint,
            &secret,
            &job::Paths {
                status: &status_file,
                checkpoints: &checkpoints,
                snapshots: &snapshots,
            },
            restore.as_deref(),
        );
        let job_file = dir.join("job.json");
        write_private(&job_file, job.to_string().as_bytes())
            .map_err(|e| io("writing the job file", e))?;
        let log = dir.join("runner.log");
        let log_file = std::fs::File::create(&log).map_err(|e| io("creating the runner log", e))?;
        let mut cmd = Process::new(&java);
        let memory = setup.memory_mib.max(64);
        cmd.arg(format!("-Xmx{memory}m"));
        if memory >= 96 {
            cmd.arg("-Xmn24m");
        }
        cmd.args([
            "-Xss512k",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:ReservedCodeCacheSize=32m",
        ])
        .arg(format!("-Djava.io.tmpdir={}", dir.join("tmp").display()))
        .arg("-jar")
        .arg(&jar)
        .arg(&job_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .kill_on_drop(true);
        for var in ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"] {
            cmd.env_remove(var);
        }
        let child = cmd
            .spawn()
            .map_err(|e| io(&format!("starting {}", java.display()), e))?;
        tracing::info!(application = %name, account = %app.account, region = %app.region, pid = child.id(), restore_from = ?restore, log = %log.display(), "Flink runner started");
        Ok(Run {
            child,
            dir,
            status_file,
            log,
            started: Instant::now(),
        })
    }

    /// Follows a run until it ends or is told to; the flag says whether it reached RUNNING.
    async fn watch(&mut self, mut run: Run, purpose: &Purpose) -> (Outcome, bool) {
        let delay = self.an.settings.transition_delay;
        let mut reported = false;
        let mut running_since: Option<Instant> = None;
        let mut shards: (usize, Instant) = (0, Instant::now());
        // Snapshots asked for, oldest first; the first is the runner's current request.
        let mut snapshots: std::collections::VecDeque<String> = std::collections::VecDeque::new();
        let mut requested = false;
        let outcome = loop {
            tokio::select! {
                c = self.ctl.recv() => match c {
                    Some(Control::Stop { operation, force }) => {
                        let status = if force { run.kill().await } else { run.terminate(Duration::from_secs(120)).await };
                        break Outcome::Stopped { operation, force, status };
                    }
                    Some(Control::Restart { operation }) => {
                        let status = run.terminate(Duration::from_secs(120)).await;
                        break Outcome::Restart { operation, status };
                    }
                    Some(Control::Delete) => {
                        run.kill().await;
                        break Outcome::Deleted;
                    }
                    Some(Control::Snapshot { name }) => {
                        snapshots.push_back(name);
                    }
                    None => {
                        run.terminate(Duration::from_secs(15)).await;
                        break Outcome::Shutdown;
                    }
                },
                _ = self.shutdown.changed() => {
                    run.terminate(Duration::from_secs(15)).await;
                    break Outcome::Shutdown;
                }
                exit = run.child.wait() => {
                    let code = exit.ok().and_then(|e| e.code());
                    break Outcome::Exited { code, status: run.status(), log: run.log.clone() };
                }
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    let status = run.status();
                    if let Some(name) = snapshots.front().cloned() {
                        let answer = status.as_ref().map(|s| &s["snapshot"]).filter(|a| a["id"] == name.as_str());
                        if let Some(answer) = answer {
                            let result = match answer["savepoint"].as_str() {
                                Some(path) => Ok(local_path(path)),
                                None => Err(answer["message"].as_str().unwrap_or("the savepoint failed").to_owned()),
                            };
                            snapshot_done(&self.an, &self.key, &name, result);
                            snapshots.pop_front();
                            requested = false;
                        } else if !requested {
                            let request = run.status_file.with_file_name("snapshot.request");
                            if let Err(e) = std::fs::write(&request, &name) {
                                snapshot_done(&self.an, &self.key, &name, Err(format!("writing {}: {e}", request.display())));
                                snapshots.pop_front();
                            } else {
                                requested = true;
                            }
                        }
                    }
                    if reported {
                        continue;
                    }
                    let Some(status) = status else { continue };
                    if status["state"] != "RUNNING" {
                        continue;
                    }
                    let since = *running_since.get_or_insert_with(Instant::now);
                    let n = status["shards"].as_array().map_or(0, Vec::len);
                    if n != shards.0 {
                        shards = (n, Instant::now());
                    }
                    // Running once its sources have their shards (records put from then on
                    // are read) and the count is stable, or after 10 s without any (a job
                    // with no Kinesis source).
                    let reading = (n > 0 && shards.1.elapsed() >= Duration::from_millis(600))
                        || since.elapsed() >= Duration::from_secs(10);
                    if reading && run.started.elapsed() >= delay {
                        reported = true;
                        self.report_running(purpose);
                    }
                }
            }
        };
        run.clean();
        for name in snapshots {
            snapshot_done(
                &self.an,
                &self.key,
                &name,
                Err("the application's job stopped before the savepoint was taken".into()),
            );
        }
        (outcome, reported)
    }

    fn report_running(&self, purpose: &Purpose) {
        let now = self.an.now();
        tracing::info!(application = %self.key.2, account = %self.key.0, "the application's Flink job runs");
        self.an.apply(&self.key, |a| {
            if matches!(a.status, Status::Starting | Status::Updating) {
                a.status = Status::Running;
            }
            if let Purpose::Start(op) | Purpose::Update(op) = purpose {
                a.finish_operation(op, now, None);
            }
        });
    }

    /// A stop ended: with snapshots on (not forced) the savepoint becomes a snapshot; the
    /// application is READY once the transition delay has passed.
    async fn stopped(&self, app: &App, operation: &str, force: bool, status: Option<Value>) {
        let savepoint =
            savepoint_of(status.as_ref()).filter(|_| !force && app.config().snapshots_enabled);
        if app.config().snapshots_enabled
            && !force
            && savepoint.is_none()
            && let Some(s) = &status
        {
            tracing::warn!(application = %app.name, message = %s["message"].as_str().unwrap_or_default(), "the stop took no savepoint");
        }
        let started = self
            .app()
            .and_then(|a| {
                a.operations
                    .iter()
                    .find(|o| o.id == operation)
                    .map(|o| o.start_ms)
            })
            .unwrap_or(0);
        let wait =
            (started + self.an.settings.transition_delay.as_millis() as i64 - self.an.now()).max(0);
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        let now = self.an.now();
        self.an.apply(&self.key, |a| {
            if let Some(path) = savepoint {
                let name = format!("stop-{now}");
                a.snapshots.insert(
                    name.clone(),
                    Snapshot {
                        name,
                        status: "READY".into(),
                        version: a.version,
                        runtime: a.config().runtime.clone(),
                        created_ms: now,
                        path: Some(path.display().to_string()),
                    },
                );
            }
            if matches!(a.status, Status::Stopping | Status::ForceStopping) {
                a.status = Status::Ready;
            }
            a.finish_operation(operation, now, None);
        });
    }

    /// The newest retained checkpoint or savepoint of the current run (for a restart).
    fn recovery_point(&self, app: &App) -> Option<PathBuf> {
        let dir = self.an.app_dir(app);
        newest_metadata(
            &[dir.join("checkpoints"), dir.join("snapshots")],
            app.run.started_ms,
        )
    }
}

/// The savepoint a stop wrote, from the final status.
fn savepoint_of(status: Option<&Value>) -> Option<PathBuf> {
    status?["savepoint"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(local_path)
}

/// A savepoint's path from Flink's `file:` URI.
fn local_path(uri: &str) -> PathBuf {
    PathBuf::from(
        uri.trim_start_matches("file://")
            .trim_start_matches("file:"),
    )
}

/// Ends snapshot `name`: READY at `result`'s savepoint, or FAILED (logged with the reason).
fn snapshot_done(an: &Analytics, key: &Key, name: &str, result: Result<PathBuf, String>) {
    if let Err(why) = &result {
        tracing::warn!(application = %key.2, snapshot = %name, error = %why, "a snapshot failed");
    }
    an.apply(key, |a| {
        if let Some(s) = a.snapshots.get_mut(name) {
            match result {
                Ok(path) => {
                    s.status = "READY".into();
                    s.path = Some(path.display().to_string());
                }
                Err(_) => s.status = "FAILED".into(),
            }
        }
    });
}

/// Where a start restores from by its restore configuration.
fn restore_of(app: &App) -> Option<PathBuf> {
    let snapshot = match app.run.restore.application_restore_type.as_deref() {
        Some("SKIP_RESTORE_FROM_SNAPSHOT") => None,
        Some("RESTORE_FROM_CUSTOM_SNAPSHOT") => app
            .run
            .restore
            .snapshot_name
            .as_ref()
            .and_then(|n| app.snapshots.get(n)),
        _ => app.latest_snapshot(),
    };
    snapshot.and_then(|s| s.path.as_ref()).map(PathBuf::from)
}

/// The message of a run that failed: Flink's own (with the statement), or how the JVM ended.
fn failure_message(code: Option<i32>, status: Option<&Value>, log: &Path) -> String {
    if let Some(s) = status
        && let Some(message) = s["message"].as_str()
    {
        return match (
            s["failedStatement"].as_i64(),
            s["failedStatementLine"].as_i64(),
        ) {
            (Some(n), Some(line)) => format!("{message} (statement {n}, line {line} of the SQL)"),
            _ => message.to_owned(),
        };
    }
    format!(
        "The Flink runner exited ({}) before it reported why; its log is {}.",
        code.map_or_else(
            || "killed by a signal".to_owned(),
            |c| format!("exit code {c}")
        ),
        log.display()
    )
}

/// The newest `_metadata` (a completed checkpoint or savepoint) under `roots`, written at or
/// after `since_ms`; the directory holding it.
pub fn newest_metadata(roots: &[PathBuf], since_ms: i64) -> Option<PathBuf> {
    fn walk(dir: &Path, depth: usize, best: &mut Option<(std::time::SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                if depth > 0 {
                    walk(&path, depth - 1, best);
                }
            } else if path.file_name().is_some_and(|n| n == "_metadata")
                && let Ok(modified) = e.metadata().and_then(|m| m.modified())
                && best.as_ref().is_none_or(|(t, _)| modified > *t)
            {
                *best = Some((modified, dir.to_path_buf()));
            }
        }
    }
    let mut best = None;
    for root in roots {
        walk(root, 3, &mut best);
    }
    let since = std::time::UNIX_EPOCH + Duration::from_millis(since_ms.max(0) as u64);
    best.filter(|(t, _)| *t >= since).map(|(_, p)| p)
}

/// Writes a file only its owner can read (the job file holds a secret key).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}
