//! The Flink SQL runner (`runners/flink`, DESIGN §5.5) against the emulator, as the emulator
//! will start it: one JVM per application, with a job file and a status file. The tutorial's two
//! Flink SQL scenarios run unmodified (a `LIKE '%error%'` filter; actions per user per one-minute
//! tumbling window with a watermark) and exactly the expected records come out; a stop takes a
//! savepoint and a start from it reads on without losing or repeating a record; invalid SQL and
//! an updating aggregate into a Kinesis sink end FAILED with Flink's own message.
//!
//! Needs a JDK 17, Maven and make on `PATH`: the jar is built by `make runner-flink` into
//! `<cargo target dir>/runners/` (the first build downloads Flink into `~/.m2`).

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::StreamStatus;
use kinesis_operator::emulator::Emulator;
use serde_json::{Value, json};
use support::records::{put, read_all};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The tutorial's account and region: a 12-digit access key is the emulator's account.
const ACCESS_KEY: &str = "123456789012";
const REGION: &str = "us-west-2";

/// A runner JVM's start (planning included) and a record's way through.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const OUTPUT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to keep reading after the expected records arrived, to see that no more come
/// (the sink flushes every 200 ms).
const SETTLE: Duration = Duration::from_secs(2);

/// At most two runner JVMs at once: each takes ~400 MB and its start is CPU-bound.
static JVMS: Semaphore = Semaphore::const_new(2);

/// The tutorial's filter: error lines from `MyKinesisStream` to `ErrorLogStream`.
const FILTER_SQL: &str = r#"
-- Copy the log lines that mention an error.
CREATE TABLE log_data (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = 'MyKinesisStream',
  'aws.region' = 'us-west-2',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);

CREATE TABLE error_logs (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = 'ErrorLogStream',
  'aws.region' = 'us-west-2',
  'format' = 'json'
);

INSERT INTO error_logs
SELECT `timestamp`, message FROM log_data WHERE message LIKE '%error%';
"#;

/// The tutorial's tumbling window: actions per user per minute.
const WINDOW_SQL: &str = r#"
CREATE TABLE user_activity (
  `timestamp` TIMESTAMP(3),
  user_id STRING,
  action STRING,
  WATERMARK FOR `timestamp` AS `timestamp` - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kinesis',
  'stream' = 'UserActivityStream',
  'aws.region' = 'us-west-2',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);
CREATE TABLE activity_summary (
  window_end TIMESTAMP(3),
  user_id STRING,
  action_count BIGINT
) WITH (
  'connector' = 'kinesis',
  'stream' = 'ActivitySummaryStream',
  'aws.region' = 'us-west-2',
  'format' = 'json'
);
INSERT INTO activity_summary
SELECT TUMBLE_END(`timestamp`, INTERVAL '1' MINUTE), user_id, COUNT(*)
FROM user_activity
GROUP BY TUMBLE(`timestamp`, INTERVAL '1' MINUTE), user_id;
"#;

/// The runner jar (`make runner-flink`).
fn jar() -> PathBuf {
    support::flink::runners().runner.clone()
}

/// One runner JVM with its job file, status file and log in a directory of its own.
struct Runner {
    child: Child,
    dir: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

impl Runner {
    /// Starts the runner on `sql` against `emulator`; `extra` is merged into the job file.
    async fn start(emulator: &Emulator, name: &str, sql: &str, extra: Value) -> Runner {
        let permit = JVMS.acquire().await.expect("the JVM semaphore");
        let jar = tokio::task::spawn_blocking(jar).await.expect("the build");
        let dir = tempfile::tempdir().expect("a directory for the run");
        let mut job = json!({
            "applicationName": name,
            "sql": sql,
            "endpoint": emulator.endpoint_url(),
            "region": REGION,
            "accessKeyId": ACCESS_KEY,
            "secretAccessKey": "secret",
            "statusFile": dir.path().join("status.json"),
        });
        if let (Some(job), Value::Object(extra)) = (job.as_object_mut(), extra) {
            job.extend(extra);
        }
        let job_file = dir.path().join("job.json");
        std::fs::write(&job_file, job.to_string()).expect("write the job file");
        let log = std::fs::File::create(dir.path().join("runner.log")).expect("the log file");
        let mut java = Command::new("java");
        // The flags runners/flink/README.md recommends.
        java.args([
            "-Xmx128m",
            "-Xmn24m",
            "-Xss512k",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:ReservedCodeCacheSize=32m",
        ])
        .arg(format!("-Djava.io.tmpdir={}", dir.path().display()))
        .arg("-jar")
        .arg(&jar)
        .arg(&job_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
        for var in ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"] {
            java.env_remove(var);
        }
        let child = java.spawn().expect("start java (a JDK 17 on PATH)");
        Runner {
            child,
            dir,
            _permit: permit,
        }
    }

    /// The status file as last written, if it exists yet.
    fn status(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("status.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The runner's log (stderr).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("runner.log")).unwrap_or_default()
    }

    /// Waits until the status satisfies `ready` (and returns it); fails with the status and
    /// the log if it does not in time or the JVM exits first.
    async fn wait_status(&mut self, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let status = self.status();
            if let Some(s) = status.as_ref().filter(|s| ready(s)) {
                return s.clone();
            }
            let exited = self.child.try_wait().expect("poll the runner");
            if exited.is_some() || tokio::time::Instant::now() >= deadline {
                // The last write may have raced the exit.
                if let Some(s) = self.status().filter(|s| ready(s)) {
                    return s;
                }
                panic!(
                    "runner: waited for {what}; exit: {exited:?}; status: {status:#?}\n--- log ---\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the sources read `shards` shards: records put from then on are read, even
    /// from `LATEST`.
    async fn wait_reading(&mut self, shards: usize) -> Value {
        self.wait_status(&format!("RUNNING and reading {shards} shards"), |s| {
            s["state"] == "RUNNING" && s["shards"].as_array().map_or(0, Vec::len) == shards
        })
        .await
    }

    /// Sends SIGTERM and waits for the JVM to exit; returns the exit code and the last status.
    async fn terminate(&mut self) -> (Option<i32>, Value) {
        let pid = self.child.id().expect("the runner runs") as libc::pid_t;
        // SAFETY: kill(2) with a child's PID and a valid signal has no memory effects.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM to the runner");
        let exited = tokio::time::timeout(START_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the runner did not exit\n--- log ---\n{}", self.log()))
            .expect("wait for the runner");
        let status = self.status().expect("a status file");
        (exited.code(), status)
    }

    /// Waits for the JVM to exit by itself; returns the exit code and the last status.
    async fn exit(&mut self) -> (Option<i32>, Value) {
        let exited = tokio::time::timeout(START_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the runner did not exit\n--- log ---\n{}", self.log()))
            .expect("wait for the runner");
        let status = self.status().expect("a status file");
        (exited.code(), status)
    }
}

async fn create_stream(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStream {name}: {e:?}"));
    for _ in 0..200 {
        let summary = support::emulator::stream_summary(client, name).await;
        if summary.stream_status == StreamStatus::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never became ACTIVE");
}

/// The records of `stream` once there are at least `count` and no more came for [`SETTLE`],
/// sorted (shards interleave).
async fn wait_output(client: &Client, stream: &str, count: usize, runner: &Runner) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + OUTPUT_TIMEOUT;
    loop {
        let got = read_all(client, stream).await;
        if got.len() >= count {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{stream}: {} of {count} records after {OUTPUT_TIMEOUT:?}: {got:#?}\nstatus: {:#?}\n--- log ---\n{}",
            got.len(),
            runner.status(),
            runner.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(SETTLE).await;
    sorted(read_all(client, stream).await)
}

fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(Value::to_string);
    values
}

fn log_line(ts: &str, message: &str) -> Value {
    json!({"timestamp": ts, "message": message})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn like_filter_copies_error_lines_and_resumes_from_its_savepoint() {
    let emulator = support::emulator::start_default().await;
    let kinesis = support::emulator::kinesis_as(&emulator, ACCESS_KEY, REGION);
    create_stream(&kinesis, "MyKinesisStream", 2).await;
    create_stream(&kinesis, "ErrorLogStream", 1).await;
    let snapshots = tempfile::tempdir().expect("a snapshot directory");
    let snapshot_conf = json!({"enabled": true, "directory": snapshots.path()});

    let mut run = Runner::start(
        &emulator,
        "error-filter",
        FILTER_SQL,
        json!({"snapshots": snapshot_conf}),
    )
    .await;
    run.wait_reading(2).await;
    let first = [
        log_line("2024-01-01 12:00:01.000", "disk error on /dev/sda"),
        log_line("2024-01-01 12:00:02.000", "user logged in"),
        log_line("2024-01-01 12:00:03.000", "connection error: timeout"),
        // LIKE is case-sensitive.
        log_line("2024-01-01 12:00:04.000", "ERROR in upper case"),
        log_line("2024-01-01 12:00:05.000", "errors: 0"),
    ];
    put(&kinesis, "MyKinesisStream", &first, |r| {
        r["timestamp"].to_string()
    })
    .await;
    let got = wait_output(&kinesis, "ErrorLogStream", 3, &run).await;
    // flink-json writes a TIMESTAMP(3) without its zero fraction.
    assert_eq!(
        got,
        sorted(vec![
            log_line("2024-01-01 12:00:01", "disk error on /dev/sda"),
            log_line("2024-01-01 12:00:03", "connection error: timeout"),
            log_line("2024-01-01 12:00:05", "errors: 0"),
        ]),
        "the error lines, once each, as the sink table's columns"
    );

    // Stop: a savepoint is taken, the JVM exits 0.
    let (code, stopped) = run.terminate().await;
    assert_eq!(code, Some(0), "stopped: {stopped:#?}\n{}", run.log());
    assert_eq!(stopped["state"], "STOPPED", "{stopped:#?}");
    let savepoint = stopped["savepoint"]
        .as_str()
        .unwrap_or_else(|| panic!("a savepoint in {stopped:#?}"))
        .to_owned();

    // Lines put while the application is stopped are read after the start from the savepoint,
    // and none of the first ones again.
    let while_stopped = [log_line("2024-01-01 12:01:00.000", "error while stopped")];
    put(&kinesis, "MyKinesisStream", &while_stopped, |_| "k".into()).await;
    let mut run = Runner::start(
        &emulator,
        "error-filter",
        FILTER_SQL,
        json!({"snapshots": {"enabled": true, "directory": snapshots.path(), "restoreFrom": savepoint}}),
    )
    .await;
    let restored = run.wait_reading(2).await;
    assert_eq!(restored["restoredFrom"], savepoint.as_str());
    let after = [
        log_line("2024-01-01 12:02:00.000", "no problem"),
        log_line("2024-01-01 12:02:01.000", "fatal error"),
    ];
    put(&kinesis, "MyKinesisStream", &after, |r| {
        r["message"].to_string()
    })
    .await;
    let got = wait_output(&kinesis, "ErrorLogStream", 5, &run).await;
    let mut messages: Vec<&str> = got
        .iter()
        .map(|v| v["message"].as_str().unwrap_or_default())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "connection error: timeout",
            "disk error on /dev/sda",
            "error while stopped",
            "errors: 0",
            "fatal error"
        ],
        "every error line exactly once across the stop and start: {got:#?}"
    );
    let (code, stopped) = run.terminate().await;
    assert_eq!(code, Some(0), "{stopped:#?}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tumbling_window_counts_actions_per_user_per_minute() {
    let emulator = support::emulator::start_default().await;
    let kinesis = support::emulator::kinesis_as(&emulator, ACCESS_KEY, REGION);
    // One shard: the records reach the watermark in the order they were put.
    create_stream(&kinesis, "UserActivityStream", 1).await;
    create_stream(&kinesis, "ActivitySummaryStream", 1).await;

    let mut run = Runner::start(&emulator, "activity-per-minute", WINDOW_SQL, json!({})).await;
    run.wait_reading(1).await;
    let activity = |ts: &str, user: &str, action: &str| json!({"timestamp": ts, "user_id": user, "action": action});
    let records = [
        activity("2024-01-01 12:00:05.000", "alice", "click"),
        activity("2024-01-01 12:00:20.000", "bob", "view"),
        activity("2024-01-01 12:00:30.000", "alice", "purchase"),
        activity("2024-01-01 12:00:59.000", "alice", "click"),
        activity("2024-01-01 12:01:02.000", "bob", "click"),
        // Moves the watermark (12:01:10 - 5 s) past 12:01:00: the first window closes; the
        // second (12:01-12:02) stays open.
        activity("2024-01-01 12:01:10.000", "carol", "view"),
    ];
    put(&kinesis, "UserActivityStream", &records, |r| {
        r["user_id"].to_string()
    })
    .await;
    let got = wait_output(&kinesis, "ActivitySummaryStream", 2, &run).await;
    assert_eq!(
        got.len(),
        2,
        "one count per user of the closed window: {got:#?}"
    );
    let mut counts: Vec<(String, String, i64)> = got
        .iter()
        .map(|v| {
            (
                v["window_end"].as_str().unwrap_or_default().to_owned(),
                v["user_id"].as_str().unwrap_or_default().to_owned(),
                v["action_count"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("2024-01-01 12:01:00".to_owned(), "alice".to_owned(), 3),
            ("2024-01-01 12:01:00".to_owned(), "bob".to_owned(), 1),
        ],
        "{got:#?}"
    );
    let (code, stopped) = run.terminate().await;
    assert_eq!(code, Some(0), "{stopped:#?}");
    assert_eq!(stopped["state"], "STOPPED");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_sql_fails_with_flinks_message() {
    let emulator = support::emulator::start_default().await;
    let sql = FILTER_SQL.replace(
        "SELECT `timestamp`, message FROM log_data",
        "SELECT `timestamp`, message FROMM log_data",
    );
    let mut run = Runner::start(&emulator, "broken", &sql, json!({})).await;
    let (code, status) = run.exit().await;
    assert_eq!(code, Some(1), "{status:#?}");
    assert_eq!(status["state"], "FAILED", "{status:#?}");
    let message = status["message"].as_str().unwrap_or_default();
    // FROMM is taken for an alias: the parser stumbles on the table name after it.
    assert!(
        message.starts_with(r#"SQL parse failed. Encountered "log_data" at line 2, column 35."#),
        "Flink's parser error: {status:#?}"
    );
    assert_eq!(status["failedStatement"], 3, "{status:#?}");
    assert_eq!(status["failedStatementLine"], 24, "{status:#?}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_aggregate_into_a_kinesis_sink_fails_with_flinks_message() {
    let emulator = support::emulator::start_default().await;
    // The tutorial's third example: an unbounded GROUP BY is an updating table, which the
    // append-only Kinesis sink refuses (as on AWS).
    let sql = r#"
CREATE TABLE tweets (
  user_id STRING,
  text STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = 'TweetStream',
  'aws.region' = 'us-west-2',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);
CREATE TABLE mentions (
  user_id STRING,
  mentions BIGINT
) WITH (
  'connector' = 'kinesis',
  'stream' = 'MentionStream',
  'aws.region' = 'us-west-2',
  'format' = 'json'
);
INSERT INTO mentions
SELECT user_id, COUNT(*) FROM tweets WHERE text LIKE '%flink%' GROUP BY user_id;
"#;
    let mut run = Runner::start(&emulator, "mentions", sql, json!({})).await;
    let (code, status) = run.exit().await;
    assert_eq!(code, Some(1), "{status:#?}");
    assert_eq!(status["state"], "FAILED", "{status:#?}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("doesn't support consuming update changes"),
        "Flink's planner error: {status:#?}"
    );
    assert_eq!(status["failedStatement"], 3, "{status:#?}");
    emulator.shutdown().await;
}

/// Options given after CREATE TABLE cannot send a job to AWS: `ALTER TABLE ... SET` with
/// another endpoint and credentials, a `CREATE OR REPLACE TABLE ... AS` sink and a
/// `/*+ OPTIONS(...) */` hint naming an endpoint all end up at the emulator, and the filter
/// copies exactly the error lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_set_after_create_table_still_point_at_the_emulator() {
    let emulator = support::emulator::start_default().await;
    let kinesis = support::emulator::kinesis_as(&emulator, ACCESS_KEY, REGION);
    create_stream(&kinesis, "AlteredIn", 1).await;
    create_stream(&kinesis, "ReplacedOut", 1).await;
    let sql = r#"
CREATE TABLE log_data (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = 'SomeOtherStream',
  'aws.region' = 'us-west-2',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);
ALTER TABLE log_data SET (
  'stream' = 'AlteredIn',
  'aws.endpoint' = 'https://kinesis.us-west-2.amazonaws.com',
  'aws.credentials.provider' = 'ASSUME_ROLE',
  'aws.credentials.role.arn' = 'arn:aws:iam::123456789012:role/reader'
);
CREATE OR REPLACE TABLE error_logs WITH (
  'connector' = 'kinesis',
  'stream' = 'ReplacedOut',
  'aws.region' = 'us-west-2',
  'aws.endpoint' = 'https://kinesis.us-west-2.amazonaws.com',
  'format' = 'json'
) AS SELECT `timestamp`, message
FROM log_data /*+ OPTIONS('aws.endpoint' = 'https://kinesis.us-west-2.amazonaws.com', 'aws.credentials.provider' = 'AUTO') */
WHERE message LIKE '%error%';
"#;
    let mut run = Runner::start(&emulator, "altered", sql, json!({})).await;
    run.wait_reading(1).await;
    let lines = [
        log_line("2024-01-01 12:00:01.000", "disk error"),
        log_line("2024-01-01 12:00:02.000", "all good"),
        log_line("2024-01-01 12:00:03.000", "another error"),
    ];
    put(&kinesis, "AlteredIn", &lines, |_| "k".into()).await;
    let got = wait_output(&kinesis, "ReplacedOut", 2, &run).await;
    assert_eq!(
        got,
        sorted(vec![
            log_line("2024-01-01 12:00:01", "disk error"),
            log_line("2024-01-01 12:00:03", "another error"),
        ]),
        "the error lines, read from the altered table, written by the replaced one"
    );
    let (code, stopped) = run.terminate().await;
    assert_eq!(code, Some(0), "{stopped:#?}");
    emulator.shutdown().await;
}
