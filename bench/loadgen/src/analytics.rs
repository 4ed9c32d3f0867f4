//! `loadgen analytics`: the Managed Service for Apache Flink part of the benchmark
//! (`bench/analytics.sh`), on the tutorial's `LIKE '%error%'` filter run by real Flink.
//!
//! Creates the input and output streams and the filter application (Flink SQL in the
//! `kinesis.operator.sql` property group, as the operator sends it), then:
//!
//! 1. Start latency, `--starts` times: StartApplication, then a few log lines per second put to
//!    the input (every other one an error) while the output stream is polled; the time from
//!    StartApplication's answer to the first of this start's error lines in the output, and to
//!    RUNNING in DescribeApplication. The source reads from LATEST, so a line put before Flink
//!    reads the shard is never seen: the figure is how long a user waits for a line put now to
//!    come out. Between starts the application is stopped (force) and waits for READY.
//! 2. Throughput, on the application left running: `--records` log lines (half of them
//!    errors) put with several PutRecords writers as fast as the emulator accepts them (failed
//!    entries retried), while the output is read until every expected error line arrived; the
//!    output must hold exactly the expected set (lost, duplicated and unexpected lines are
//!    counted). Reports accepted input records/s and end-to-end error lines/s (first put to
//!    last output), and the runner JVM's memory from /proc.
//!
//! Prints one JSON line.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationConfiguration, ApplicationRestoreConfiguration, ApplicationRestoreType,
    ApplicationSnapshotConfiguration, ApplicationStatus, EnvironmentProperties, PropertyGroup,
    RunConfiguration, RuntimeEnvironment,
};
use serde_json::{Value, json};

use super::{client, create_stream, err_text, round, shard_ids, status_kib, tree};

const APPLICATION: &str = "bench-error-filter";
const ROLE: &str = "arn:aws:iam::000000000000:role/flink-application-role";
/// The operator splits `code.sql` into `statements.N` properties of at most this many
/// characters (AWS's limit on a property value).
const PROPERTY_CHARS: usize = 2048;

/// Options of `loadgen analytics`.
#[derive(clap::Args, Clone)]
pub struct Args {
    #[arg(long)]
    endpoint: String,
    /// The tutorial's SQL names us-west-2 ('aws.region').
    #[arg(long, default_value = "us-west-2")]
    region: String,
    /// PID of the emulator; its child `java` process is the runner JVM.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value = "MyKinesisStream")]
    input: String,
    #[arg(long, default_value = "ErrorLogStream")]
    output: String,
    /// Shards of each stream.
    #[arg(long, default_value_t = 1)]
    shards: i32,
    /// StartApplication measurements (the median is the figure).
    #[arg(long, default_value_t = 3)]
    starts: usize,
    /// Log lines per second put while waiting for the first output line.
    #[arg(long, default_value_t = 5.0)]
    trickle_per_s: f64,
    /// Log lines of the throughput phase (half of them errors).
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    #[arg(long, default_value_t = 4)]
    writers: u64,
    /// Records per PutRecords (AWS: at most 500).
    #[arg(long, default_value_t = 500)]
    batch: u64,
    /// Give up on a start (no output line) or on the throughput phase after this long.
    #[arg(long, default_value_t = 180.0)]
    timeout_s: f64,
    /// How long to keep reading after the last expected line, to see duplicates.
    #[arg(long, default_value_t = 3.0)]
    settle_s: f64,
    /// Per-call timeout.
    #[arg(long, default_value_t = 60)]
    call_timeout_s: u64,
}

/// The tutorial's filter (examples/analytics-filter.yaml) on `input` and `output`.
fn filter_sql(input: &str, output: &str, region: &str) -> String {
    format!(
        r#"CREATE TABLE log_data (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = '{input}',
  'aws.region' = '{region}',
  'format' = 'json',
  'scan.stream.initpos' = 'LATEST'
);
CREATE TABLE error_logs (
  `timestamp` TIMESTAMP(3),
  message STRING
) WITH (
  'connector' = 'kinesis',
  'stream' = '{output}',
  'aws.region' = '{region}',
  'format' = 'json'
);
INSERT INTO error_logs
SELECT `timestamp`, message FROM log_data WHERE message LIKE '%error%';
"#
    )
}

fn analytics_client(a: &Args) -> aws_sdk_kinesisanalyticsv2::Client {
    use aws_sdk_kinesisanalyticsv2::config::{
        BehaviorVersion, Credentials, Region, retry::RetryConfig, timeout::TimeoutConfig,
    };
    let config = aws_sdk_kinesisanalyticsv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(a.region.clone()))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .endpoint_url(&a.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(a.call_timeout_s))
                .build(),
        )
        .build();
    aws_sdk_kinesisanalyticsv2::Client::from_conf(config)
}

/// A log line as the tutorial's producers write it.
fn line(n: u64, message: &str) -> Vec<u8> {
    json!({
        "timestamp": format!("2026-12-07 10:{:02}:{:02}.{:03}", (n / 60) % 60, n % 60, n % 1000),
        "message": message,
    })
    .to_string()
    .into_bytes()
}

fn ms_since(t: Instant) -> f64 {
    round(t.elapsed().as_secs_f64() * 1e3, 1)
}

fn median(v: &[f64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => None,
        n if !n.is_multiple_of(2) => Some(s[n / 2]),
        n => Some(round((s[n / 2 - 1] + s[n / 2]) / 2.0, 1)),
    }
}

// ---------------------------------------------------------------------------------------------
// the output stream

/// Reads every shard of the output stream from where it was opened, in order.
struct Output {
    kin: aws_sdk_kinesis::Client,
    iterators: Vec<Option<String>>,
    calls: u64,
}

impl Output {
    /// Positioned at the end of every shard: only records written from now on are read.
    async fn latest(kin: &aws_sdk_kinesis::Client, stream: &str) -> Result<Output, String> {
        let mut iterators = Vec::new();
        for shard in shard_ids(kin, stream).await? {
            let it = kin
                .get_shard_iterator()
                .stream_name(stream)
                .shard_id(&shard)
                .shard_iterator_type(ShardIteratorType::Latest)
                .send()
                .await
                .map_err(|e| format!("GetShardIterator {stream}/{shard}: {}", err_text(&e)))?
                .shard_iterator;
            iterators.push(it);
        }
        Ok(Output {
            kin: kin.clone(),
            iterators,
            calls: 0,
        })
    }

    /// The `message` of every record written since the last call.
    async fn poll(&mut self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for slot in &mut self.iterators {
            while let Some(it) = slot.clone() {
                self.calls += 1;
                let got = self
                    .kin
                    .get_records()
                    .shard_iterator(it)
                    .limit(10_000)
                    .send()
                    .await
                    .map_err(|e| format!("GetRecords: {}", err_text(&e)))?;
                *slot = got.next_shard_iterator().map(str::to_string);
                for r in got.records() {
                    let v: Value = serde_json::from_slice(r.data().as_ref()).map_err(|e| {
                        format!(
                            "an output record is not JSON ({e}): {}",
                            String::from_utf8_lossy(r.data().as_ref())
                        )
                    })?;
                    out.push(v["message"].as_str().unwrap_or_default().to_string());
                }
                if got.records().is_empty() || got.millis_behind_latest() == Some(0) {
                    break;
                }
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// the application

fn configuration(sql: &str) -> ApplicationConfiguration {
    let chars: Vec<char> = sql.chars().collect();
    let mut group = PropertyGroup::builder().property_group_id("kinesis.operator.sql");
    for (i, piece) in chars.chunks(PROPERTY_CHARS).enumerate() {
        group = group.property_map(
            format!("statements.{}", i + 1),
            piece.iter().collect::<String>(),
        );
    }
    ApplicationConfiguration::builder()
        .environment_properties(
            EnvironmentProperties::builder()
                .property_groups(group.build().expect("a property group ID"))
                .build()
                .expect("property groups"),
        )
        .application_snapshot_configuration(
            ApplicationSnapshotConfiguration::builder()
                .snapshots_enabled(false)
                .build()
                .expect("snapshots_enabled"),
        )
        .build()
}

async fn app_status(ka: &aws_sdk_kinesisanalyticsv2::Client) -> Result<ApplicationStatus, String> {
    ka.describe_application()
        .application_name(APPLICATION)
        .send()
        .await
        .map_err(|e| format!("DescribeApplication: {}", err_text(&e)))?
        .application_detail()
        .map(|d| d.application_status().clone())
        .ok_or_else(|| "DescribeApplication answered no ApplicationDetail".to_string())
}

/// Flink's message for a failed start operation.
async fn failure(ka: &aws_sdk_kinesisanalyticsv2::Client, operation: &str) -> String {
    match ka
        .describe_application_operation()
        .application_name(APPLICATION)
        .operation_id(operation)
        .send()
        .await
    {
        Ok(d) => d
            .application_operation_info_details()
            .and_then(|d| d.operation_failure_details())
            .and_then(|f| f.error_info())
            .and_then(|e| e.error_string())
            .unwrap_or("no failure details")
            .chars()
            .take(600)
            .collect(),
        Err(e) => format!("DescribeApplicationOperation: {}", err_text(&e)),
    }
}

async fn wait_status(
    ka: &aws_sdk_kinesisanalyticsv2::Client,
    wanted: ApplicationStatus,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = app_status(ka).await?;
        if now == wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{APPLICATION} is {now:?}, not {wanted:?}, after {} s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// phase 1: StartApplication -> first output line

/// Puts `rate` lines per second to `stream` until `stop`, every other one an error tagged
/// `start {round}`; returns how many were put.
async fn trickle(
    kin: aws_sdk_kinesis::Client,
    stream: String,
    round: usize,
    rate: f64,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let level = if n.is_multiple_of(2) { "error" } else { "info" };
        kin.put_record()
            .stream_name(&stream)
            .partition_key(format!("start-{round}-{n}"))
            .data(Blob::new(line(
                n,
                &format!("{level}: start {round} line {n}"),
            )))
            .send()
            .await
            .map_err(|e| format!("PutRecord to {stream}: {}", err_text(&e)))?;
        n += 1;
    }
    Ok(n)
}

/// One StartApplication measurement; leaves the application running.
async fn start_once(
    a: &Args,
    kin: &aws_sdk_kinesis::Client,
    ka: &aws_sdk_kinesisanalyticsv2::Client,
    round: usize,
) -> Result<Value, String> {
    let mut output = Output::latest(kin, &a.output).await?;
    let call = Instant::now();
    let operation = ka
        .start_application()
        .application_name(APPLICATION)
        .run_configuration(
            RunConfiguration::builder()
                .application_restore_configuration(
                    ApplicationRestoreConfiguration::builder()
                        .application_restore_type(ApplicationRestoreType::SkipRestoreFromSnapshot)
                        .build()
                        .expect("a restore type"),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("StartApplication: {}", err_text(&e)))?
        .operation_id()
        .unwrap_or_default()
        .to_string();
    let call_ms = ms_since(call);
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(trickle(
        kin.clone(),
        a.input.clone(),
        round,
        a.trickle_per_s,
        stop.clone(),
    ));
    let tag = format!("error: start {round} ");
    let deadline = t0 + Duration::from_secs_f64(a.timeout_s);
    let mut running_ms = None;
    let mut first_output_ms = None;
    let mut last_describe: Option<Instant> = None;
    let mut stray = 0u64;
    let result = loop {
        if running_ms.is_none()
            && last_describe.is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
        {
            last_describe = Some(Instant::now());
            let st = app_status(ka).await;
            match st {
                Ok(ApplicationStatus::Running) => running_ms = Some(ms_since(t0)),
                Ok(ApplicationStatus::Ready) => {
                    break Err(format!(
                        "the application went back to READY: {}",
                        failure(ka, &operation).await
                    ));
                }
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        }
        if first_output_ms.is_none() {
            match output.poll().await {
                Ok(messages) => {
                    for m in messages {
                        if m.starts_with(&tag) {
                            first_output_ms.get_or_insert(ms_since(t0));
                        } else {
                            stray += 1;
                        }
                    }
                }
                Err(e) => break Err(e),
            }
        }
        if running_ms.is_some() && first_output_ms.is_some() {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err(format!(
                "no output line within {} s of StartApplication (RUNNING after {running_ms:?} ms)",
                a.timeout_s
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::Relaxed);
    let put = match writer.await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(format!("the writer task failed: {e}")),
    };
    result?;
    Ok(json!({
        "start_call_ms": call_ms,
        "to_running_ms": running_ms,
        "to_first_output_ms": first_output_ms,
        "lines_put": put,
        "stray_output_lines": stray,
    }))
}

async fn stop_app(
    ka: &aws_sdk_kinesisanalyticsv2::Client,
    timeout: Duration,
) -> Result<f64, String> {
    let t = Instant::now();
    ka.stop_application()
        .application_name(APPLICATION)
        .force(true)
        .send()
        .await
        .map_err(|e| format!("StopApplication: {}", err_text(&e)))?;
    wait_status(ka, ApplicationStatus::Ready, timeout).await?;
    Ok(ms_since(t))
}

// ---------------------------------------------------------------------------------------------
// phase 2: throughput

#[derive(Default)]
struct Put {
    calls: u64,
    retried_records: u64,
    call_errors: u64,
    first_error: Option<String>,
}

/// Puts the lines `w, w + writers, ...` below `records`, in PutRecords of `batch`, retrying
/// failed entries until each is accepted.
async fn writer(
    kin: aws_sdk_kinesis::Client,
    stream: String,
    w: u64,
    writers: u64,
    records: u64,
    batch: u64,
    accepted: Arc<AtomicU64>,
) -> Put {
    let mut r = Put::default();
    let ids: Vec<u64> = (w..records).step_by(writers as usize).collect();
    for chunk in ids.chunks(batch as usize) {
        let mut pending: Vec<u64> = chunk.to_vec();
        let mut attempts = 0;
        while !pending.is_empty() {
            attempts += 1;
            if attempts > 50 {
                r.first_error.get_or_insert_with(|| {
                    format!("{} records not accepted after 50 attempts", pending.len())
                });
                return r;
            }
            let entries: Vec<PutRecordsRequestEntry> = pending
                .iter()
                .map(|&id| {
                    let level = if id.is_multiple_of(2) {
                        "error"
                    } else {
                        "info"
                    };
                    PutRecordsRequestEntry::builder()
                        .data(Blob::new(line(id, &format!("{level}: load {id}"))))
                        .partition_key(format!("pk-{id}"))
                        .build()
                        .expect("data and partition key")
                })
                .collect();
            r.calls += 1;
            match kin
                .put_records()
                .stream_name(&stream)
                .set_records(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    let failed: Vec<u64> = out
                        .records()
                        .iter()
                        .zip(&pending)
                        .filter(|(e, _)| e.error_code().is_some())
                        .map(|(_, &id)| id)
                        .collect();
                    accepted.fetch_add((pending.len() - failed.len()) as u64, Ordering::Relaxed);
                    r.retried_records += failed.len() as u64;
                    pending = failed;
                }
                Err(e) => {
                    r.call_errors += 1;
                    r.first_error.get_or_insert_with(|| err_text(&e));
                }
            }
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    r
}

/// The runner JVM: the emulator's descendant named `java`.
fn runner_jvm(server: u32) -> Option<u32> {
    tree(server).into_iter().skip(1).find(|&p| {
        std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "java")
    })
}

async fn throughput(a: &Args, kin: &aws_sdk_kinesis::Client) -> Result<Value, String> {
    // Whatever the start phase left in flight comes out first.
    let mut output = Output::latest(kin, &a.output).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut output_calls = 0;
    loop {
        let drained = output.poll().await?;
        if drained.is_empty() {
            break;
        }
    }
    output_calls += std::mem::take(&mut output.calls);

    let expected: u64 = (0..a.records).filter(|id| id.is_multiple_of(2)).count() as u64;
    let accepted = Arc::new(AtomicU64::new(0));
    let first_put = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..a.writers {
        tasks.push(tokio::spawn(writer(
            kin.clone(),
            a.input.clone(),
            w,
            a.writers,
            a.records,
            a.batch,
            accepted.clone(),
        )));
    }
    let puts_done = Arc::new(AtomicBool::new(false));
    let all_put = {
        let puts_done = puts_done.clone();
        tokio::spawn(async move {
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await.unwrap_or_default());
            }
            puts_done.store(true, Ordering::Relaxed);
            (first_put.elapsed(), results)
        })
    };

    let mut seen: HashSet<u64> = HashSet::new();
    let (mut duplicates, mut unexpected, mut foreign) = (0u64, 0u64, 0u64);
    let mut last_new: Option<Duration> = None;
    let mut first_out: Option<Duration> = None;
    let deadline = first_put + Duration::from_secs_f64(a.timeout_s);
    let mut read_error = None;
    let mut jvm_peak_rss = 0u64;
    let jvm = a.server_pid.and_then(runner_jvm);
    let mut complete_at: Option<Instant> = None;
    loop {
        match output.poll().await {
            Ok(messages) => {
                for m in messages {
                    let Some(id) = m
                        .strip_prefix("error: load ")
                        .or_else(|| m.strip_prefix("info: load "))
                        .and_then(|s| s.parse::<u64>().ok())
                    else {
                        foreign += 1;
                        continue;
                    };
                    first_out.get_or_insert(first_put.elapsed());
                    if !id.is_multiple_of(2) || id >= a.records || !m.starts_with("error") {
                        unexpected += 1;
                    } else if !seen.insert(id) {
                        duplicates += 1;
                    } else {
                        last_new = Some(first_put.elapsed());
                    }
                }
            }
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
        if let Some(p) = jvm {
            jvm_peak_rss = jvm_peak_rss.max(status_kib(p, "VmRSS:"));
        }
        if seen.len() as u64 >= expected && complete_at.is_none() {
            complete_at = Some(Instant::now());
        }
        if complete_at.is_some_and(|t| t.elapsed().as_secs_f64() >= a.settle_s)
            && puts_done.load(Ordering::Relaxed)
        {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    output_calls += output.calls;
    let (put_elapsed, results) = all_put
        .await
        .map_err(|e| format!("the writers failed: {e}"))?;
    let accepted = accepted.load(Ordering::Relaxed);
    let put_s = put_elapsed.as_secs_f64();
    let e2e_s = last_new.map(|d| d.as_secs_f64());
    let lost = expected - seen.len() as u64;
    let first_error = results.iter().find_map(|r| r.first_error.clone());
    let jvm_mem = jvm.map(|p| {
        json!({
            "pid": p,
            "vm_hwm_kib": status_kib(p, "VmHWM:"),
            "rss_kib": status_kib(p, "VmRSS:"),
            "peak_rss_sampled_kib": jvm_peak_rss,
        })
    });
    Ok(json!({
        "records": a.records,
        "writers": a.writers,
        "records_per_call": a.batch,
        "put": {
            "accepted": accepted,
            "elapsed_s": round(put_s, 3),
            "records_per_s": round(accepted as f64 / put_s, 1),
            "calls": results.iter().map(|r| r.calls).sum::<u64>(),
            "retried_records": results.iter().map(|r| r.retried_records).sum::<u64>(),
            "call_errors": results.iter().map(|r| r.call_errors).sum::<u64>(),
            "first_error": first_error,
        },
        "output": {
            "expected": expected,
            "received": seen.len(),
            "lost": lost,
            "duplicates": duplicates,
            "unexpected": unexpected,
            "foreign": foreign,
            "exact": lost == 0 && duplicates == 0 && unexpected == 0,
            "first_output_after_s": first_out.map(|d| round(d.as_secs_f64(), 3)),
            "last_output_after_s": e2e_s.map(|s| round(s, 3)),
            "last_output_after_last_put_s": e2e_s.map(|s| round(s - put_s, 3)),
            "matching_per_s": e2e_s.map(|s| round(seen.len() as f64 / s, 1)),
            "input_per_s_end_to_end": e2e_s.map(|s| round(accepted as f64 / s, 1)),
            "get_records_calls": output_calls,
            "error": read_error,
        },
        "runner_jvm": jvm_mem,
    }))
}

// ---------------------------------------------------------------------------------------------

async fn bench(a: &Args) -> Result<Value, String> {
    let kin = client(
        &a.endpoint,
        &a.region,
        true,
        Duration::from_secs(a.call_timeout_s),
    );
    let ka = analytics_client(a);
    create_stream(&kin, &a.input, a.shards).await?;
    create_stream(&kin, &a.output, a.shards).await?;
    ka.create_application()
        .application_name(APPLICATION)
        .runtime_environment(RuntimeEnvironment::Flink120)
        .service_execution_role(ROLE)
        .application_configuration(configuration(&filter_sql(&a.input, &a.output, &a.region)))
        .send()
        .await
        .map_err(|e| format!("CreateApplication: {}", err_text(&e)))?;
    let timeout = Duration::from_secs_f64(a.timeout_s);
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    for round in 0..a.starts.max(1) {
        if round > 0 {
            stops.push(stop_app(&ka, timeout).await?);
        }
        let s = start_once(a, &kin, &ka, round).await?;
        eprintln!("start {round}: {s}");
        starts.push(s);
    }
    let pick = |key: &str| -> Vec<f64> { starts.iter().filter_map(|s| s[key].as_f64()).collect() };
    let first = pick("to_first_output_ms");
    let running = pick("to_running_ms");
    let throughput = throughput(a, &kin).await?;
    let stop_ms = stop_app(&ka, timeout).await?;
    stops.push(stop_ms);
    Ok(json!({
        "shards": a.shards,
        "trickle_per_s": a.trickle_per_s,
        "start": {
            "runs": starts,
            "to_first_output_ms_median": median(&first),
            "to_first_output_ms_min": first.iter().cloned().reduce(f64::min),
            "to_first_output_ms_max": first.iter().cloned().reduce(f64::max),
            "to_running_ms_median": median(&running),
            "stop_ms": stops,
        },
        "throughput": throughput,
    }))
}

/// Runs the benchmark; prints `{"error": ...}` and returns 1 when a step fails.
pub async fn run(a: Args) -> i32 {
    match bench(&a).await {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(e) => {
            println!("{}", json!({ "error": e }));
            1
        }
    }
}
