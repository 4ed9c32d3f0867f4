//! Load generator for the emulator benchmark (`make bench`, driven by `bench/run.sh`).
//!
//! `loadgen launch` starts an emulator, measures the time until it gives its first answer to a
//! Kinesis call and leaves it running. `loadgen run` creates a stream, writes to it with several
//! concurrent PutRecords writers for a fixed time, re-reads every record from TRIM_HORIZON on
//! every shard (counting lost, duplicate and out-of-order records), then measures put->get
//! latency with one writer and LATEST readers. `loadgen firehose` does the same for Firehose
//! delivery into S3 (see `firehose.rs`), `loadgen analytics` a Flink SQL application's start
//! and throughput (see `analytics.rs`). When given the server's PID it also reads the
//! server's CPU time and memory from /proc around each phase. Each prints one JSON line.

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kinesis::error::{DisplayErrorContext, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType, StreamStatus};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

mod analytics;
mod firehose;

const TAG_PUT: u8 = b'P';
const TAG_LATENCY: u8 = b'L';
/// Tag (1 byte) + id (8 bytes) + timestamp (8 bytes).
const HEADER: usize = 17;

#[derive(Parser)]
#[command(about = "Kinesis emulator load generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a server (in its own process group, left running), wait for its first answer to
    /// ListStreams, print {"pid", "first_answer_ms"}.
    Launch {
        #[arg(long)]
        endpoint: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// File that receives the server's stdout and stderr.
        #[arg(long)]
        log: String,
        /// Working directory of the server.
        #[arg(long)]
        cwd: Option<String>,
        /// Environment for the server, NAME=VALUE; repeatable.
        #[arg(long = "env")]
        envs: Vec<String>,
        #[arg(long, default_value_t = 120)]
        timeout_s: u64,
        /// The server's command line.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Run the benchmark against an endpoint.
    Run(RunArgs),
    /// Run the Firehose benchmark (PutRecordBatch -> objects in S3) against an endpoint.
    Firehose(firehose::Args),
    /// Run the Managed Service for Apache Flink benchmark (the tutorial's LIKE filter on real
    /// Flink: StartApplication -> first output line, records/s through it).
    Analytics(analytics::Args),
    /// Print {"rss_kib", "hwm_kib", "cpu_s"} of a process and its descendants.
    Proc {
        #[arg(long)]
        pid: u32,
    },
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    #[arg(long)]
    endpoint: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// PID of the server (its descendants are counted too), for CPU and memory figures.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 8)]
    writers: usize,
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[arg(long, default_value_t = 750)]
    record_size: usize,
    #[arg(long, default_value_t = 4)]
    shards: i32,
    /// Length of the PutRecords phase.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// GetRecords limit in the read phase.
    #[arg(long, default_value_t = 10000)]
    read_limit: i32,
    /// Give up re-reading after this long.
    #[arg(long, default_value_t = 180.0)]
    read_budget_s: f64,
    /// Latency phase: number of samples, and a time budget.
    #[arg(long, default_value_t = 1000)]
    latency_samples: usize,
    #[arg(long, default_value_t = 10.0)]
    latency_budget_s: f64,
    /// Time to wait after the put phase before reading the server's RSS.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// Per-call timeout.
    #[arg(long, default_value_t = 120)]
    call_timeout_s: u64,
    #[arg(long)]
    stream: Option<String>,
}

fn client(endpoint: &str, region: &str, retries: bool, call_timeout: Duration) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let retry = if retries {
        aws_sdk_kinesis::config::retry::RetryConfig::standard()
    } else {
        aws_sdk_kinesis::config::retry::RetryConfig::disabled()
    };
    let timeouts = aws_sdk_kinesis::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(call_timeout)
        .build();
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    Client::from_conf(config)
}

fn err_text<E: std::error::Error>(e: &E) -> String {
    let s = format!("{}", DisplayErrorContext(e));
    s.chars().take(600).collect()
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

// ---------------------------------------------------------------------------------------------
// /proc

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// (ppid, utime + stime in ticks) of one process.
fn proc_stat(pid: u32) -> Option<(u32, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ppid = f.get(1)?.parse().ok()?;
    let ut: u64 = f.get(11)?.parse().ok()?;
    let st: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, ut + st))
}

/// The process and all its descendants.
fn tree(root: u32) -> Vec<u32> {
    let mut parent: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
                && let Some((ppid, _)) = proc_stat(pid)
            {
                parent.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        for &(c, pp) in &parent {
            if pp == p && !out.contains(&c) {
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

/// CPU seconds (user + system) of a process tree.
fn tree_cpu_s(root: u32) -> f64 {
    let ticks: u64 = tree(root)
        .iter()
        .filter_map(|&p| proc_stat(p))
        .map(|s| s.1)
        .sum();
    ticks as f64 / clk_tck()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn tree_kib(root: u32, key: &str) -> u64 {
    tree(root).iter().map(|&p| status_kib(p, key)).sum()
}

/// CPU seconds spent by the whole machine (every core, all but idle and iowait) since boot.
fn machine_busy_s() -> f64 {
    let s = fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum();
    busy as f64 / clk_tck()
}

fn self_cpu_s() -> f64 {
    tree_cpu_s(std::process::id())
}

// ---------------------------------------------------------------------------------------------
// statistics

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[idx])
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

fn ms(v: Option<f64>) -> Value {
    v.map(|x| json!(round(x, 3))).unwrap_or(Value::Null)
}

/// Sequence numbers are decimal strings of up to 128 bits; compare them as numbers.
fn seq_less(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

// ---------------------------------------------------------------------------------------------
// launch

async fn launch(
    endpoint: String,
    region: String,
    log: String,
    cwd: Option<String>,
    envs: Vec<String>,
    timeout_s: u64,
    command: Vec<String>,
) -> i32 {
    use std::os::unix::process::CommandExt;
    let kin = client(&endpoint, &region, false, Duration::from_secs(5));
    let out = match fs::File::create(&log) {
        Ok(f) => f,
        Err(e) => {
            println!("{}", json!({"error": format!("cannot create {log}: {e}")}));
            return 1;
        }
    };
    let err = out.try_clone().expect("clone log file");
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    if let Some(d) = &cwd {
        cmd.current_dir(d);
    }
    for kv in &envs {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            println!(
                "{}",
                json!({"error": format!("cannot start {}: {e}", command[0])})
            );
            return 1;
        }
    };
    let pid = child.id();
    let deadline = start + Duration::from_secs(timeout_s);
    let mut last_err;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            println!(
                "{}",
                json!({"pid": pid, "error": format!("server exited with {status} before answering")})
            );
            return 1;
        }
        match kin.list_streams().send().await {
            Ok(_) => break,
            // Any protocol-level answer (even an error response) means the server is up.
            Err(SdkError::ServiceError(_)) | Err(SdkError::ResponseError(_)) => break,
            Err(e) => last_err = err_text(&e),
        }
        if Instant::now() > deadline {
            println!(
                "{}",
                json!({"pid": pid, "error": format!("no answer within {timeout_s} s: {last_err}")})
            );
            return 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let first = start.elapsed();
    println!(
        "{}",
        json!({"pid": pid, "first_answer_ms": round(first.as_secs_f64() * 1e3, 2)})
    );
    // The child keeps running: dropping `Child` neither kills nor waits.
    0
}

// ---------------------------------------------------------------------------------------------
// run

/// Random-looking filler, fixed per process: records differ by their header (tag, id, time).
fn filler(size: usize) -> &'static [u8] {
    static FILLER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let f = FILLER.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..65536)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'a' + (x % 26) as u8
            })
            .collect()
    });
    &f[..size.min(f.len())]
}

fn payload(tag: u8, id: u64, t_ns: u64, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size.max(HEADER));
    v.push(tag);
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&t_ns.to_be_bytes());
    v.extend_from_slice(filler(size.saturating_sub(HEADER)));
    v
}

fn parse_payload(b: &[u8]) -> Option<(u8, u64, u64)> {
    if b.len() < HEADER {
        return None;
    }
    let id = u64::from_be_bytes(b[1..9].try_into().ok()?);
    let t = u64::from_be_bytes(b[9..17].try_into().ok()?);
    Some((b[0], id, t))
}

#[derive(Default)]
struct WriterResult {
    acked: Vec<u64>,
    sent: u64,
    failed_records: u64,
    calls: u64,
    call_errors: u64,
    short_answers: u64,
    call_ms: Vec<f64>,
    error_codes: HashMap<String, u64>,
    first_error: Option<String>,
}

async fn writer(
    kin: Client,
    stream: String,
    w: u64,
    batch: usize,
    size: usize,
    deadline: Instant,
) -> WriterResult {
    let mut r = WriterResult::default();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        let mut ids = Vec::with_capacity(batch);
        let mut entries = Vec::with_capacity(batch);
        for _ in 0..batch {
            let id = (w << 40) | n;
            n += 1;
            ids.push(id);
            entries.push(
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(payload(TAG_PUT, id, 0, size)))
                    .partition_key(format!("pk-{id}"))
                    .build()
                    .expect("entry"),
            );
        }
        r.sent += batch as u64;
        r.calls += 1;
        let t = Instant::now();
        let res = kin
            .put_records()
            .stream_name(&stream)
            .set_records(Some(entries))
            .send()
            .await;
        r.call_ms.push(t.elapsed().as_secs_f64() * 1e3);
        match res {
            Ok(out) => {
                let recs = out.records();
                if recs.len() != ids.len() {
                    r.short_answers += 1;
                }
                for (i, e) in recs.iter().enumerate().take(ids.len()) {
                    match e.error_code() {
                        None => r.acked.push(ids[i]),
                        Some(code) => {
                            r.failed_records += 1;
                            *r.error_codes.entry(code.to_string()).or_default() += 1;
                        }
                    }
                }
            }
            Err(e) => {
                r.call_errors += 1;
                if r.first_error.is_none() {
                    r.first_error = Some(err_text(&e));
                }
            }
        }
    }
    r
}

async fn create_stream(kin: &Client, stream: &str, shards: i32) -> Result<f64, String> {
    let t = Instant::now();
    kin.create_stream()
        .stream_name(stream)
        .shard_count(shards)
        .send()
        .await
        .map_err(|e| format!("CreateStream: {}", err_text(&e)))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match kin.describe_stream().stream_name(stream).send().await {
            Ok(out) => {
                if out
                    .stream_description()
                    .is_some_and(|d| *d.stream_status() == StreamStatus::Active)
                {
                    return Ok(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            Err(e) => {
                if Instant::now() > deadline {
                    return Err(format!("DescribeStream: {}", err_text(&e)));
                }
            }
        }
        if Instant::now() > deadline {
            return Err("stream not ACTIVE after 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn shard_ids(kin: &Client, stream: &str) -> Result<Vec<String>, String> {
    match kin.list_shards().stream_name(stream).send().await {
        Ok(out) if out.next_token().is_none() => {
            return Ok(out
                .shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect());
        }
        _ => {}
    }
    let out = kin
        .describe_stream()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| format!("DescribeStream: {}", err_text(&e)))?;
    Ok(out
        .stream_description()
        .map(|d| {
            d.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect()
        })
        .unwrap_or_default())
}

#[derive(Default)]
struct ShardRead {
    ids: Vec<u64>,
    calls: u64,
    call_errors: u64,
    order_violations: u64,
    bad_payloads: u64,
    complete: bool,
    first_error: Option<String>,
}

async fn read_shard(
    kin: Client,
    stream: String,
    shard: String,
    limit: i32,
    deadline: Instant,
) -> ShardRead {
    let mut r = ShardRead::default();
    let it = kin
        .get_shard_iterator()
        .stream_name(&stream)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await;
    let mut iter = match it {
        Ok(o) => match o.shard_iterator() {
            Some(i) => i.to_string(),
            None => {
                r.first_error = Some("GetShardIterator returned no iterator".into());
                return r;
            }
        },
        Err(e) => {
            r.first_error = Some(format!("GetShardIterator: {}", err_text(&e)));
            return r;
        }
    };
    let mut last_seq: Option<String> = None;
    let mut empties = 0;
    let mut errors_in_row = 0;
    while Instant::now() < deadline {
        r.calls += 1;
        match kin
            .get_records()
            .shard_iterator(&iter)
            .limit(limit)
            .send()
            .await
        {
            Ok(out) => {
                errors_in_row = 0;
                let recs = out.records();
                for rec in recs {
                    let seq = rec.sequence_number();
                    if let Some(prev) = &last_seq
                        && !seq_less(prev, seq)
                    {
                        r.order_violations += 1;
                    }
                    last_seq = Some(seq.to_string());
                    match parse_payload(rec.data().as_ref()) {
                        Some((TAG_PUT, id, _)) => r.ids.push(id),
                        Some(_) => {}
                        None => r.bad_payloads += 1,
                    }
                }
                if recs.is_empty() {
                    empties += 1;
                } else {
                    empties = 0;
                }
                let caught_up = out.millis_behind_latest().unwrap_or(0) == 0;
                match out.next_shard_iterator() {
                    None => {
                        r.complete = true;
                        break;
                    }
                    Some(n) => iter = n.to_string(),
                }
                if empties >= 2 && caught_up {
                    r.complete = true;
                    break;
                }
            }
            Err(e) => {
                r.call_errors += 1;
                errors_in_row += 1;
                if r.first_error.is_none() {
                    r.first_error = Some(format!("GetRecords: {}", err_text(&e)));
                }
                if errors_in_row >= 5 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    r
}

async fn latency_phase(kin: &Client, stream: &str, shards: &[String], a: &RunArgs) -> Value {
    let epoch = Instant::now();
    let mut iters = Vec::new();
    for s in shards {
        match kin
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(s)
            .shard_iterator_type(ShardIteratorType::Latest)
            .send()
            .await
        {
            Ok(o) => iters.push(o.shard_iterator().unwrap_or_default().to_string()),
            Err(e) => return json!({"error": format!("GetShardIterator LATEST: {}", err_text(&e))}),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, f64)>();
    let mut readers = Vec::new();
    for it in iters {
        let kin = kin.clone();
        let stop = stop.clone();
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            let mut iter = it;
            let mut polls = 0u64;
            let mut errors = 0u64;
            let mut first_error: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                polls += 1;
                match kin.get_records().shard_iterator(&iter).send().await {
                    Ok(out) => {
                        let now = epoch.elapsed().as_nanos() as u64;
                        for rec in out.records() {
                            if let Some((TAG_LATENCY, id, t)) = parse_payload(rec.data().as_ref()) {
                                let _ = tx.send((id, now.saturating_sub(t) as f64 / 1e6));
                            }
                        }
                        match out.next_shard_iterator() {
                            Some(n) => iter = n.to_string(),
                            None => break,
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(format!("GetRecords: {}", err_text(&e)));
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            (polls, errors, first_error)
        }));
    }
    drop(tx);
    let budget = Duration::from_secs_f64(a.latency_budget_s);
    let mut lat = Vec::new();
    let mut put_ms = Vec::new();
    let mut missed = 0u64;
    let mut put_errors = 0u64;
    let mut first_error: Option<String> = None;
    for i in 0..a.latency_samples as u64 {
        if epoch.elapsed() > budget {
            break;
        }
        let t0 = epoch.elapsed().as_nanos() as u64;
        let start = Instant::now();
        let res = kin
            .put_record()
            .stream_name(stream)
            .data(Blob::new(payload(TAG_LATENCY, i, t0, a.record_size)))
            .partition_key(format!("lat-{i}"))
            .send()
            .await;
        put_ms.push(start.elapsed().as_secs_f64() * 1e3);
        if let Err(e) = res {
            put_errors += 1;
            if first_error.is_none() {
                first_error = Some(format!("PutRecord: {}", err_text(&e)));
            }
            continue;
        }
        // Wait until a reader reports this record (older reports are stale duplicates).
        let wait_until = Instant::now() + Duration::from_secs(2);
        loop {
            match tokio::time::timeout_at(wait_until.into(), rx.recv()).await {
                Ok(Some((id, l))) if id == i => {
                    lat.push(l);
                    break;
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => {
                    missed += 1;
                    break;
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut polls = 0;
    let mut poll_errors = 0;
    for r in readers {
        if let Ok((p, e, fe)) = r.await {
            polls += p;
            poll_errors += e;
            if first_error.is_none() {
                first_error = fe;
            }
        }
    }
    let elapsed = epoch.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    put_ms.sort_by(f64::total_cmp);
    json!({
        "samples": lat.len(),
        "missed": missed,
        "put_errors": put_errors,
        "p50_ms": ms(percentile(&lat, 0.50)),
        "p90_ms": ms(percentile(&lat, 0.90)),
        "p99_ms": ms(percentile(&lat, 0.99)),
        "max_ms": ms(lat.last().copied()),
        "put_call_p50_ms": ms(percentile(&put_ms, 0.50)),
        "put_call_p99_ms": ms(percentile(&put_ms, 0.99)),
        "polls_per_s": round(polls as f64 / elapsed, 0),
        "poll_errors": poll_errors,
        "first_error": first_error,
    })
}

async fn run(a: RunArgs) -> i32 {
    let call_timeout = Duration::from_secs(a.call_timeout_s);
    let kin = client(&a.endpoint, &a.region, true, call_timeout);
    let stream = a
        .stream
        .clone()
        .unwrap_or_else(|| format!("bench-{}-{}", std::process::id(), unix_ns() % 1_000_000));
    let mut out = json!({
        "endpoint": a.endpoint,
        "stream": stream,
        "writers": a.writers,
        "batch": a.batch,
        "record_size": a.record_size,
        "shards": a.shards,
        "duration_s": a.duration_s,
    });
    let pid = a.server_pid;
    let cpu = || pid.map(tree_cpu_s).unwrap_or(0.0);
    let rss = || pid.map(|p| tree_kib(p, "VmRSS:")).unwrap_or(0);

    // Setup.
    match create_stream(&kin, &stream, a.shards).await {
        Ok(ms) => out["create_to_active_ms"] = json!(round(ms, 1)),
        Err(e) => {
            out["error"] = json!(e);
            println!("{out}");
            return 1;
        }
    }
    let shards = match shard_ids(&kin, &stream).await {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            out["error"] = json!("the stream has no shards");
            println!("{out}");
            return 1;
        }
        Err(e) => {
            out["error"] = json!(e);
            println!("{out}");
            return 1;
        }
    };
    out["shard_ids"] = json!(shards.len());

    // Put phase.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = rss();
    let cpu0 = cpu();
    let self0 = self_cpu_s();
    let machine0 = machine_busy_s();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(a.duration_s);
    let tasks: Vec<_> = (0..a.writers as u64)
        .map(|w| {
            tokio::spawn(writer(
                kin.clone(),
                stream.clone(),
                w,
                a.batch,
                a.record_size,
                deadline,
            ))
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("writer task"));
    }
    let put_s = t0.elapsed().as_secs_f64();
    let put_cpu = cpu() - cpu0;
    let put_self = self_cpu_s() - self0;
    let put_machine = machine_busy_s() - machine0;
    tokio::time::sleep(Duration::from_millis(a.settle_ms)).await;
    let rss_after = rss();

    let acked: u64 = results.iter().map(|r| r.acked.len() as u64).sum();
    let sent: u64 = results.iter().map(|r| r.sent).sum();
    let mut call_ms: Vec<f64> = results
        .iter()
        .flat_map(|r| r.call_ms.iter().copied())
        .collect();
    call_ms.sort_by(f64::total_cmp);
    let mut codes: HashMap<String, u64> = HashMap::new();
    for r in &results {
        for (k, v) in &r.error_codes {
            *codes.entry(k.clone()).or_default() += v;
        }
    }
    out["put"] = json!({
        "elapsed_s": round(put_s, 3),
        "calls": results.iter().map(|r| r.calls).sum::<u64>(),
        "call_errors": results.iter().map(|r| r.call_errors).sum::<u64>(),
        "short_answers": results.iter().map(|r| r.short_answers).sum::<u64>(),
        "records_sent": sent,
        "records_acked": acked,
        "records_failed": results.iter().map(|r| r.failed_records).sum::<u64>(),
        "failed_codes": codes,
        "records_per_s": round(acked as f64 / put_s, 0),
        "mib_per_s": round(acked as f64 * a.record_size as f64 / put_s / 1048576.0, 1),
        "call_p50_ms": ms(percentile(&call_ms, 0.5)),
        "call_p99_ms": ms(percentile(&call_ms, 0.99)),
        "first_error": results.iter().find_map(|r| r.first_error.clone()),
    });

    // Read phase: every record of every shard from TRIM_HORIZON.
    let cpu1 = cpu();
    let self1 = self_cpu_s();
    let machine1 = machine_busy_s();
    let t1 = Instant::now();
    let rdeadline = t1 + Duration::from_secs_f64(a.read_budget_s);
    let tasks: Vec<_> = shards
        .iter()
        .map(|s| {
            tokio::spawn(read_shard(
                kin.clone(),
                stream.clone(),
                s.clone(),
                a.read_limit,
                rdeadline,
            ))
        })
        .collect();
    let mut reads = Vec::new();
    for t in tasks {
        reads.push(t.await.expect("reader task"));
    }
    let read_s = t1.elapsed().as_secs_f64();
    let read_cpu = cpu() - cpu1;
    let read_self = self_cpu_s() - self1;
    let read_machine = machine_busy_s() - machine1;
    let read_total: u64 = reads.iter().map(|r| r.ids.len() as u64).sum();

    // Count what was read against what was sent and acknowledged.
    let mut seen: Vec<Vec<u8>> = results.iter().map(|r| vec![0u8; r.sent as usize]).collect();
    let mut unknown = 0u64;
    for r in &reads {
        for &id in &r.ids {
            let (w, n) = ((id >> 40) as usize, (id & ((1 << 40) - 1)) as usize);
            match seen.get_mut(w).and_then(|v| v.get_mut(n)) {
                Some(c) => *c = c.saturating_add(1),
                None => unknown += 1,
            }
        }
    }
    let mut lost = 0u64;
    let mut duplicates = 0u64;
    let mut acked_flag: Vec<Vec<bool>> = results
        .iter()
        .map(|r| vec![false; r.sent as usize])
        .collect();
    for (w, r) in results.iter().enumerate() {
        for &id in &r.acked {
            acked_flag[w][(id & ((1 << 40) - 1)) as usize] = true;
        }
    }
    let mut unacked_present = 0u64;
    for (w, v) in seen.iter().enumerate() {
        for (n, &c) in v.iter().enumerate() {
            if c > 1 {
                duplicates += (c - 1) as u64;
            }
            if acked_flag[w][n] {
                if c == 0 {
                    lost += 1;
                }
            } else if c > 0 {
                unacked_present += 1;
            }
        }
    }
    out["read"] = json!({
        "elapsed_s": round(read_s, 3),
        "calls": reads.iter().map(|r| r.calls).sum::<u64>(),
        "call_errors": reads.iter().map(|r| r.call_errors).sum::<u64>(),
        "records_read": read_total,
        "records_per_s": round(read_total as f64 / read_s, 0),
        "complete": reads.iter().all(|r| r.complete),
        "lost": lost,
        "duplicates": duplicates,
        "unacked_present": unacked_present,
        "unknown": unknown,
        "order_violations": reads.iter().map(|r| r.order_violations).sum::<u64>(),
        "bad_payloads": reads.iter().map(|r| r.bad_payloads).sum::<u64>(),
        "first_error": reads.iter().find_map(|r| r.first_error.clone()),
    });
    drop(seen);
    drop(acked_flag);
    drop(results);
    drop(reads);

    // Latency phase.
    let cpu2 = cpu();
    out["latency"] = latency_phase(&kin, &stream, &shards, &a).await;
    let lat_cpu = cpu() - cpu2;

    if let Some(p) = pid {
        let per = |cpu: f64, n: u64| {
            if n > 0 {
                json!(round(cpu * 1e6 / n as f64, 2))
            } else {
                Value::Null
            }
        };
        let grown = rss_after.saturating_sub(rss_before);
        out["server"] = json!({
            "pid": p,
            "cpu_put_s": round(put_cpu, 2),
            "cpu_read_s": round(read_cpu, 2),
            "cpu_latency_s": round(lat_cpu, 2),
            "cpu_us_per_put_record": per(put_cpu, acked),
            "cpu_us_per_read_record": per(read_cpu, read_total),
            "rss_before_put_kib": rss_before,
            "rss_after_put_kib": rss_after,
            "bytes_per_stored_record": if acked > 0 { json!(round(grown as f64 * 1024.0 / acked as f64, 0)) } else { Value::Null },
            "vm_hwm_kib": tree_kib(p, "VmHWM:"),
        });
    }
    out["loadgen"] = json!({
        "cpu_put_s": round(put_self, 2),
        "cpu_read_s": round(read_self, 2),
        "cpu_put_share_of_wall": round(put_self / put_s, 2),
        "cpu_read_share_of_wall": round(read_self / read_s, 2),
    });
    // CPU that neither the server nor the load generator used: other work on the machine,
    // which makes a run less comparable (only meaningful with --server-pid).
    if pid.is_some() {
        out["machine"] = json!({
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "other_cpu_put_share": round(((put_machine - put_cpu - put_self) / put_s).max(0.0), 2),
            "other_cpu_read_share": round(((read_machine - read_cpu - read_self) / read_s).max(0.0), 2),
        });
    }
    println!("{out}");
    0
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(async move {
        match cli.command {
            Command::Launch {
                endpoint,
                region,
                log,
                cwd,
                envs,
                timeout_s,
                command,
            } => launch(endpoint, region, log, cwd, envs, timeout_s, command).await,
            Command::Run(a) => run(a).await,
            Command::Firehose(a) => firehose::run(a).await,
            Command::Analytics(a) => analytics::run(a).await,
            Command::Proc { pid } => {
                if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    println!("{}", json!({"error": format!("no process {pid}")}));
                    return 1;
                }
                println!(
                    "{}",
                    json!({
                        "rss_kib": tree_kib(pid, "VmRSS:"),
                        "hwm_kib": tree_kib(pid, "VmHWM:"),
                        "cpu_s": round(tree_cpu_s(pid), 2),
                    })
                );
                0
            }
        }
    });
    std::process::exit(code);
}
