//! `loadgen firehose`: the Firehose part of the emulator benchmark (`bench/firehose.sh`).
//!
//! Creates a bucket and a DirectPut delivery stream into it, writes with several concurrent
//! PutRecordBatch writers for a fixed time, waits until the objects in S3 hold every
//! acknowledged record, then reads every object back and checks it byte for byte: each record
//! must appear exactly once and unaltered (a peer that adds a newline per record, re-encodes or
//! drops records is counted, not excused). Last, it measures put -> object-visible latency with
//! a second delivery stream buffering for `--latency-interval-s`. Prints one JSON line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration, Record,
};
use serde_json::{Value, json};

use super::{
    HEADER, TAG_LATENCY, TAG_PUT, err_text, filler, machine_busy_s, ms, payload, percentile,
    round, self_cpu_s, tree_cpu_s, tree_kib, unix_ns,
};

const BUCKET: &str = "kinesis-bench-firehose";
const ROLE: &str = "arn:aws:iam::000000000000:role/firehose-bench";

/// Options of `loadgen firehose`.
#[derive(clap::Args, Clone)]
pub struct Args {
    #[arg(long)]
    endpoint: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// PID of the server (its descendants are counted too), for CPU and memory figures.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Records per PutRecordBatch (AWS: at most 500).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[arg(long, default_value_t = 750)]
    record_size: usize,
    /// Length of the PutRecordBatch phase.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Buffering hints of the throughput delivery stream.
    #[arg(long, default_value_t = 5)]
    buffer_mb: i32,
    #[arg(long, default_value_t = 1)]
    buffer_s: i32,
    /// Give up waiting for delivery after this long.
    #[arg(long, default_value_t = 120.0)]
    deliver_budget_s: f64,
    /// Latency phase: buffering interval of its delivery stream and number of samples.
    #[arg(long, default_value_t = 1)]
    latency_interval_s: i32,
    #[arg(long, default_value_t = 10)]
    latency_samples: usize,
    /// Per-call timeout.
    #[arg(long, default_value_t = 120)]
    call_timeout_s: u64,
}

fn credentials() -> aws_sdk_firehose::config::Credentials {
    aws_sdk_firehose::config::Credentials::new("test", "test", None, None, "bench")
}

fn firehose_client(a: &Args) -> aws_sdk_firehose::Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
        .region(aws_sdk_firehose::config::Region::new(a.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(&a.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_firehose::config::retry::RetryConfig::standard())
        .timeout_config(
            aws_sdk_firehose::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(a.call_timeout_s))
                .build(),
        )
        .build();
    aws_sdk_firehose::Client::from_conf(config)
}

fn s3_client(a: &Args) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(a.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(&a.endpoint)
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .timeout_config(
            aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(a.call_timeout_s))
                .build(),
        )
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(s3: &aws_sdk_s3::Client) -> Result<(), String> {
    match s3.create_bucket().bucket(BUCKET).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = err_text(&e);
            if text.contains("BucketAlreadyOwnedByYou") {
                Ok(())
            } else {
                Err(format!("CreateBucket: {text}"))
            }
        }
    }
}

/// Creates a DirectPut delivery stream into the bench bucket under `prefix` and waits for
/// ACTIVE; returns the milliseconds that took.
async fn create_delivery_stream(
    fh: &aws_sdk_firehose::Client,
    name: &str,
    prefix: &str,
    size_mb: i32,
    interval_s: i32,
) -> Result<f64, String> {
    let t = Instant::now();
    let destination = ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{BUCKET}"))
        .prefix(prefix)
        .error_output_prefix(format!("errors-{prefix}"))
        .buffering_hints(
            BufferingHints::builder()
                .size_in_mbs(size_mb)
                .interval_in_seconds(interval_s)
                .build(),
        )
        .compression_format(CompressionFormat::Uncompressed)
        .build()
        .map_err(|e| format!("destination: {e}"))?;
    fh.create_delivery_stream()
        .delivery_stream_name(name)
        .delivery_stream_type(DeliveryStreamType::DirectPut)
        .extended_s3_destination_configuration(destination)
        .send()
        .await
        .map_err(|e| format!("CreateDeliveryStream {name}: {}", err_text(&e)))?;
    loop {
        let out = fh
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .map_err(|e| format!("DescribeDeliveryStream {name}: {}", err_text(&e)))?;
        let status = out
            .delivery_stream_description()
            .map(|d| d.delivery_stream_status().clone());
        if status == Some(DeliveryStreamStatus::Active) {
            return Ok(t.elapsed().as_secs_f64() * 1e3);
        }
        if t.elapsed() > Duration::from_secs(120) {
            return Err(format!("{name} not ACTIVE after 120 s ({status:?})"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Default)]
struct WriterResult {
    acked: Vec<u64>,
    failed_records: u64,
    calls: u64,
    call_errors: u64,
    call_ms: Vec<f64>,
    error_codes: HashMap<String, u64>,
    first_error: Option<String>,
}

async fn writer(
    fh: aws_sdk_firehose::Client,
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
        let mut records = Vec::with_capacity(batch);
        for _ in 0..batch {
            let id = (w << 40) | n;
            n += 1;
            ids.push(id);
            records.push(
                Record::builder()
                    .data(Blob::new(payload(TAG_PUT, id, 0, size)))
                    .build()
                    .expect("record"),
            );
        }
        r.calls += 1;
        let t = Instant::now();
        let res = fh
            .put_record_batch()
            .delivery_stream_name(&stream)
            .set_records(Some(records))
            .send()
            .await;
        r.call_ms.push(t.elapsed().as_secs_f64() * 1e3);
        match res {
            Ok(out) => {
                for (i, e) in out.request_responses().iter().enumerate().take(ids.len()) {
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

/// Every object under `prefix`: (key, size).
async fn list(s3: &aws_sdk_s3::Client, prefix: &str) -> Result<Vec<(String, i64)>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("ListObjectsV2: {}", err_text(&e)))?;
        for o in page.contents() {
            out.push((
                o.key().unwrap_or_default().to_owned(),
                o.size().unwrap_or(0),
            ));
        }
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap_or(false) || token.is_none() {
            return Ok(out);
        }
    }
}

/// What reading the delivered objects back found.
#[derive(Default)]
struct Readback {
    seen: HashMap<u64, u32>,
    added_bytes: u64,
    objects: usize,
    bytes: u64,
}

/// Splits an object into records of `size` bytes and checks each against what was sent;
/// bytes that belong to no record (a delimiter a peer added, say) are counted.
fn scan(body: &[u8], size: usize, into: &mut Readback) {
    let fill = filler(size.saturating_sub(HEADER));
    let mut off = 0;
    while off < body.len() {
        let chunk = body.get(off..off + size);
        let valid = chunk.filter(|c| {
            c[0] == TAG_PUT && c[9..HEADER] == [0u8; 8][..] && &c[HEADER..] == fill
        });
        match valid {
            Some(c) => {
                let id = u64::from_be_bytes(c[1..9].try_into().expect("8 bytes"));
                *into.seen.entry(id).or_default() += 1;
                off += size;
            }
            None => {
                into.added_bytes += 1;
                off += 1;
            }
        }
    }
}

async fn read_back(s3: &aws_sdk_s3::Client, prefix: &str, size: usize) -> Result<Readback, String> {
    let mut r = Readback::default();
    for (key, _) in list(s3, prefix).await? {
        let obj = s3
            .get_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("GetObject {key}: {}", err_text(&e)))?;
        let body = obj
            .body
            .collect()
            .await
            .map_err(|e| format!("reading {key}: {e}"))?
            .into_bytes();
        r.objects += 1;
        r.bytes += body.len() as u64;
        scan(&body, size, &mut r);
    }
    Ok(r)
}

/// Put one record at a time into a stream buffering for `latency_interval_s` and time until
/// a new object appears under its prefix.
async fn latency_phase(fh: &aws_sdk_firehose::Client, s3: &aws_sdk_s3::Client, a: &Args) -> Value {
    let stream = format!("bench-latency-{}", unix_ns() % 1_000_000);
    let prefix = format!("{stream}/");
    if let Err(e) = create_delivery_stream(fh, &stream, &prefix, 1, a.latency_interval_s).await {
        return json!({"error": e});
    }
    let mut samples = Vec::new();
    let mut known = 0usize;
    let budget = Duration::from_secs_f64(f64::from(a.latency_interval_s.max(1)) * 3.0 + 10.0);
    for i in 0..a.latency_samples {
        let t = Instant::now();
        let put = fh
            .put_record()
            .delivery_stream_name(&stream)
            .record(
                Record::builder()
                    .data(Blob::new(payload(TAG_LATENCY, i as u64, 0, a.record_size)))
                    .build()
                    .expect("record"),
            )
            .send()
            .await;
        if let Err(e) = put {
            return json!({"error": format!("PutRecord: {}", err_text(&e)), "samples": samples.len()});
        }
        loop {
            match list(s3, &prefix).await {
                Ok(objects) if objects.len() > known => {
                    known = objects.len();
                    samples.push(t.elapsed().as_secs_f64() * 1e3);
                    break;
                }
                Ok(_) if t.elapsed() > budget => {
                    return json!({"error": format!("record {i} not visible after {} s", budget.as_secs()), "samples": samples.len()});
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(e) => return json!({"error": e, "samples": samples.len()}),
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    json!({
        "interval_s": a.latency_interval_s,
        "samples": samples.len(),
        "p50_ms": ms(percentile(&samples, 0.5)),
        "max_ms": ms(samples.last().copied()),
        "min_ms": ms(samples.first().copied()),
    })
}

/// Runs the Firehose benchmark and prints its JSON line; the exit code is 1 on a setup error.
pub async fn run(a: Args) -> i32 {
    let fh = firehose_client(&a);
    let s3 = s3_client(&a);
    let stream = format!("bench-put-{}", unix_ns() % 1_000_000);
    let prefix = format!("{stream}/");
    let mut out = json!({
        "endpoint": a.endpoint,
        "delivery_stream": stream,
        "writers": a.writers,
        "batch": a.batch,
        "record_size": a.record_size,
        "duration_s": a.duration_s,
        "buffering": {"size_mb": a.buffer_mb, "interval_s": a.buffer_s},
    });
    let pid = a.server_pid;
    let cpu = || pid.map(tree_cpu_s).unwrap_or(0.0);
    let rss = || pid.map(|p| tree_kib(p, "VmRSS:")).unwrap_or(0);

    let setup = async {
        create_bucket(&s3).await?;
        create_delivery_stream(&fh, &stream, &prefix, a.buffer_mb, a.buffer_s).await
    };
    match setup.await {
        Ok(ms) => out["create_to_active_ms"] = json!(round(ms, 1)),
        Err(e) => {
            out["error"] = json!(e);
            println!("{out}");
            return 1;
        }
    }

    // Put phase.
    let rss_before = rss();
    let cpu0 = cpu();
    let self0 = self_cpu_s();
    let machine0 = machine_busy_s();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(a.duration_s);
    let stream_name = Arc::new(stream.clone());
    let tasks: Vec<_> = (0..a.writers as u64)
        .map(|w| {
            tokio::spawn(writer(
                fh.clone(),
                stream_name.to_string(),
                w,
                a.batch,
                a.record_size,
                deadline,
            ))
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap_or_default());
    }
    let put_s = t0.elapsed().as_secs_f64();
    let put_cpu = cpu() - cpu0;
    let put_self = self_cpu_s() - self0;
    let put_machine = machine_busy_s() - machine0;
    let acked: Vec<u64> = results.iter().flat_map(|r| r.acked.iter().copied()).collect();
    let mut call_ms: Vec<f64> = results.iter().flat_map(|r| r.call_ms.iter().copied()).collect();
    call_ms.sort_by(f64::total_cmp);
    let mut codes: HashMap<String, u64> = HashMap::new();
    for r in &results {
        for (c, n) in &r.error_codes {
            *codes.entry(c.clone()).or_default() += n;
        }
    }
    out["put"] = json!({
        "seconds": round(put_s, 2),
        "records_acked": acked.len(),
        "records_per_s": round(acked.len() as f64 / put_s, 0),
        "mib_per_s": round(acked.len() as f64 * a.record_size as f64 / put_s / 1048576.0, 2),
        "calls": results.iter().map(|r| r.calls).sum::<u64>(),
        "call_errors": results.iter().map(|r| r.call_errors).sum::<u64>(),
        "failed_records": results.iter().map(|r| r.failed_records).sum::<u64>(),
        "error_codes": codes,
        "first_error": results.iter().find_map(|r| r.first_error.clone()),
        "call_p50_ms": ms(percentile(&call_ms, 0.5)),
        "call_p99_ms": ms(percentile(&call_ms, 0.99)),
    });

    // Delivery: wait until the objects hold at least every acknowledged byte, and stop
    // growing, or until the budget runs out.
    let expected = acked.len() as i64 * a.record_size as i64;
    let t1 = Instant::now();
    let mut last = (-1i64, Instant::now());
    let delivered_after = loop {
        let total: i64 = match list(&s3, &prefix).await {
            Ok(objects) => objects.iter().map(|o| o.1).sum(),
            Err(e) => {
                out["error"] = json!(e);
                break None;
            }
        };
        if total != last.0 {
            last = (total, Instant::now());
        }
        if total >= expected && last.1.elapsed() > Duration::from_millis(500) {
            break Some(last.1.duration_since(t1).as_secs_f64());
        }
        if t1.elapsed().as_secs_f64() > a.deliver_budget_s {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let rss_after = rss();
    match read_back(&s3, &prefix, a.record_size).await {
        Ok(r) => {
            let lost = acked.iter().filter(|id| !r.seen.contains_key(id)).count();
            let duplicates: u64 = r.seen.values().map(|&n| u64::from(n.saturating_sub(1))).sum();
            out["delivery"] = json!({
                "all_visible_after_s": delivered_after.map(|s| round(s, 2)),
                "objects": r.objects,
                "bytes": r.bytes,
                "records_found": r.seen.len(),
                "lost": lost,
                "duplicates": duplicates,
                "bytes_added": r.added_bytes,
                "byte_exact": lost == 0 && duplicates == 0 && r.added_bytes == 0,
            });
        }
        Err(e) => out["delivery"] = json!({"error": e}),
    }

    out["latency"] = latency_phase(&fh, &s3, &a).await;

    if let Some(p) = pid {
        out["server"] = json!({
            "pid": p,
            "cpu_put_s": round(put_cpu, 2),
            "cpu_us_per_put_record": if acked.is_empty() { Value::Null } else { json!(round(put_cpu * 1e6 / acked.len() as f64, 2)) },
            "rss_before_put_kib": rss_before,
            "rss_after_delivery_kib": rss_after,
            "vm_hwm_kib": tree_kib(p, "VmHWM:"),
        });
        out["machine"] = json!({
            "other_cpu_put_share": round(((put_machine - put_cpu - put_self) / put_s).max(0.0), 2),
            "loadgen_cpu_put_share": round(put_self / put_s, 2),
        });
    }
    println!("{out}");
    0
}
