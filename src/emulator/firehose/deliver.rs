//! The background delivery: every delivery stream's buffer is delivered when it reaches its
//! size hint or its oldest record its interval (capped by `Settings::flush_interval`), one
//! object (or HTTP request) per batch.
//!
//! Each delivery is made exactly once, crash or not: the batch (its sequence range and object
//! key) is stored as pending before anything is written, the object is written, then the
//! records and the pending entry are removed together (see `durable.rs`). After a restart the
//! pending batch is delivered again with the same key and bytes, which overwrites the same
//! object with the same content. Failed writes (a bucket that does not exist yet, an endpoint
//! that is down and a backup bucket that is missing) keep the records and retry with a capped
//! backoff.
//!
//! How long: as AWS documents for an S3 destination ("Handle data delivery failure"), a
//! DirectPut stream keeps its records for 24 hours: a batch whose oldest record arrived more
//! than [`DIRECT_PUT_RETENTION_MS`] ago and still cannot be written is given up, and its
//! records are lost, as in AWS. AWS counts that only in CloudWatch metrics (nothing in
//! DescribeDeliveryStream); the emulator logs it as an error naming the stream, the
//! destination, the records and bytes lost and the last failure. A stream with a Kinesis
//! source is retried for as long as AWS would keep the data in the source stream; the emulator
//! holds its own copy of what it read, so it retries without end (the difference is in the
//! module doc of `firehose`). Failed data is never written under the error output prefix:
//! AWS writes there only records that Lambda processing or format conversion failed.
//!
//! No lock is held while compressing or writing: the batch's records are cheap `Bytes` clones.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::describe::hints_with_defaults;
use super::keys::{KeySpec, object_key};
use super::model::S3Destination;
use super::stream::{DeliveryStream, Destination, Pending, Source, Status};
use super::{Firehose, compress, http, sink, source, validate};
use crate::emulator::error::AwsError;

/// Longest wait between attempts after failures.
const MAX_BACKOFF_MS: i64 = 2_000;
/// How long a DirectPut stream keeps records it cannot deliver (24 hours, AWS's figure).
pub const DIRECT_PUT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Batches delivered per stream per round at most (the rest waits for the next round).
const BATCHES_PER_ROUND: usize = 16;

/// Runs until `stopping` flips. Each delivery stream is delivered by a task of its own (one
/// at a time per stream, so its batches stay in order), so that a slow endpoint or a large
/// compression never delays the other streams.
pub(super) async fn run(f: Arc<Firehose>, mut stopping: watch::Receiver<bool>) {
    let tick = f.tick();
    let mut running: JoinSet<u64> = JoinSet::new();
    let mut busy: HashSet<u64> = HashSet::new();
    loop {
        if *stopping.borrow() {
            break;
        }
        // With no delivery stream at all there is nothing to time: sleep until one is created.
        let idle = running.is_empty() && f.streams.read().is_empty();
        tokio::select! {
            _ = stopping.changed() => continue,
            _ = tokio::time::sleep(tick), if !idle => {}
            _ = f.wake.notified() => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok(tag) = done {
                    busy.remove(&tag);
                }
                continue;
            }
        }
        while let Some(done) = running.try_join_next() {
            if let Ok(tag) = done {
                busy.remove(&tag);
            }
        }
        for stream in f.all() {
            if stream.meta.lock().status != Status::Active || !busy.insert(stream.tag) {
                continue;
            }
            let f = f.clone();
            running.spawn(async move {
                source::poll(&f, &stream);
                for _ in 0..BATCHES_PER_ROUND {
                    if !deliver_one(&f, &stream).await {
                        break;
                    }
                }
                stream.tag
            });
        }
    }
    // Deliveries cut short here are repeated after a restart (the pending batch is stored).
    running.shutdown().await;
}

impl Firehose {
    /// How often the delivery task looks at the buffers.
    fn tick(&self) -> Duration {
        let cap = Duration::from_millis(100);
        match self.settings.flush_interval {
            Some(d) => (d / 4).clamp(Duration::from_millis(5), cap),
            None => cap,
        }
    }

    /// The size hint of `stream`, in bytes.
    pub(super) fn size_hint(&self, stream: &DeliveryStream) -> usize {
        let meta = stream.meta.lock();
        let hints = match &meta.destination {
            Destination::S3(d) => &d.buffering_hints,
            Destination::Http(d) => &d.buffering_hints,
        };
        hints_with_defaults(hints).size_in_mbs.unwrap_or(5).max(1) as usize * (1 << 20)
    }

    /// The interval hint of `stream` in ms, capped by the flush interval.
    fn interval_ms(&self, stream: &DeliveryStream) -> i64 {
        let meta = stream.meta.lock();
        let hints = match &meta.destination {
            Destination::S3(d) => &d.buffering_hints,
            Destination::Http(d) => &d.buffering_hints,
        };
        let configured = hints_with_defaults(hints)
            .interval_in_seconds
            .unwrap_or(300)
            * 1000;
        match self.settings.flush_interval {
            Some(cap) => configured.min(cap.as_millis() as i64),
            None => configured,
        }
    }
}

/// The seed of everything derived for a batch (UUID, random string, request ID).
fn seed(stream: &DeliveryStream, first: u64) -> Vec<u8> {
    let mut s = stream.arn.as_bytes().to_vec();
    s.extend_from_slice(&stream.tag.to_be_bytes());
    s.extend_from_slice(&first.to_be_bytes());
    s
}

/// The key of a batch written to `d`, for failed data when `error_type` is set.
fn s3_key(
    stream: &DeliveryStream,
    d: &S3Destination,
    version: u64,
    first: u64,
    arrival_ms: i64,
    error_type: Option<&str>,
) -> String {
    let compression = d.compression_format.as_deref().unwrap_or("UNCOMPRESSED");
    let extension = d
        .file_extension
        .as_deref()
        .filter(|e| !e.is_empty())
        .unwrap_or(compress::extension(compression));
    let main_prefix = d.prefix.as_deref().unwrap_or_default();
    let prefix = match error_type {
        Some(_) => d.error_output_prefix.as_deref().unwrap_or_default(),
        None => main_prefix,
    };
    object_key(&KeySpec {
        prefix,
        main_prefix,
        name: &stream.name,
        version,
        arrival_ms,
        seed: &seed(stream, first),
        error_type,
        extension,
    })
}

/// Writes `parts` to the bucket of `d` under `key`, compressed as configured.
pub(super) async fn write_s3(
    f: &Arc<Firehose>,
    d: &S3Destination,
    key: String,
    parts: Vec<Bytes>,
) -> Result<(), AwsError> {
    let bucket = d
        .bucket_arn
        .as_deref()
        .and_then(validate::bucket_of)
        .unwrap_or_default()
        .to_owned();
    let compression = d
        .compression_format
        .clone()
        .unwrap_or_else(|| "UNCOMPRESSED".into());
    let f = f.clone();
    tokio::task::spawn_blocking(move || {
        let entry = key.rsplit('/').next().unwrap_or(&key);
        let entry = entry.strip_suffix(".zip").unwrap_or(entry).to_owned();
        let body = compress::compress(&compression, &parts, &entry)
            .map_err(|e| AwsError::internal(format!("compressing a delivery failed: {e}")))?;
        sink::put_object(
            &f.s3,
            &bucket,
            &key,
            Bytes::from(body),
            compress::content_type(&compression),
        )
    })
    .await
    .map_err(|e| AwsError::internal(format!("a delivery task failed: {e}")))?
}

/// Delivers the next due batch of `stream`, if any; true when one was delivered (so the
/// caller may try the next).
async fn deliver_one(f: &Arc<Firehose>, stream: &Arc<DeliveryStream>) -> bool {
    let now = f.now();
    let size_hint = f.size_hint(stream);
    let interval = f.interval_ms(stream);
    let (destination, version) = {
        let meta = stream.meta.lock();
        (meta.destination.clone(), meta.version)
    };
    // Pick the batch (or the pending one) under the buffer lock, then let it go.
    let (pending, parts, arrival) = {
        let mut buffer = stream.buffer.lock();
        if now < buffer.retry_at_ms {
            return false;
        }
        let is_http = matches!(destination, Destination::Http(_));
        // A batch begun for the other kind of destination (the destination changed since) is
        // formed again for the current one.
        let pending = match buffer.pending.clone().filter(|p| p.http == is_http) {
            Some(p) => p,
            None => {
                let Some(oldest) = buffer.records.front() else {
                    return false;
                };
                if buffer.bytes < size_hint && now - oldest.arrival_ms < interval {
                    return false;
                }
                let mut size = 0;
                let mut last = oldest.seq;
                for r in &buffer.records {
                    if size > 0 && size + r.data.len() > size_hint {
                        break;
                    }
                    size += r.data.len();
                    last = r.seq;
                }
                let key = match &destination {
                    Destination::S3(d) => {
                        s3_key(stream, d, version, oldest.seq, oldest.arrival_ms, None)
                    }
                    Destination::Http(_) => super::keys::uuid(&seed(stream, oldest.seq)),
                };
                let p = Pending {
                    first: oldest.seq,
                    last,
                    key,
                    started_ms: now,
                    http: is_http,
                };
                if let Some(d) = &f.durable
                    && let Err(e) = d.begin(stream.tag, &p)
                {
                    tracing::error!(delivery_stream = %stream.name, error = %e, "storing a delivery failed; retrying");
                    backoff(stream, now);
                    return false;
                }
                buffer.pending = Some(p.clone());
                p
            }
        };
        let batch = buffer
            .records
            .iter()
            .skip_while(|r| r.seq < pending.first)
            .take_while(|r| r.seq <= pending.last);
        let arrival = batch.clone().next().map_or(now, |r| r.arrival_ms);
        let parts: Vec<Bytes> = batch.map(|r| r.data.clone()).collect();
        (pending, parts, arrival)
    };
    let (count, bytes) = (parts.len(), parts.iter().map(Bytes::len).sum::<usize>());
    let outcome = match &destination {
        Destination::S3(d) => write_s3(f, d, pending.key.clone(), parts).await,
        Destination::Http(d) => {
            http::deliver(f, stream, d, &pending, parts, version, arrival, now).await
        }
    };
    match outcome {
        Ok(()) => finish(f, stream, &pending, now),
        Err(e) => {
            let direct_put = matches!(stream.meta.lock().source, Source::DirectPut);
            if direct_put && now - arrival > DIRECT_PUT_RETENTION_MS {
                tracing::error!(
                    delivery_stream = %stream.name,
                    destination = %destination_name(&destination),
                    records = count,
                    bytes,
                    error = %e,
                    "delivery kept failing for 24 hours, the longest a DirectPut delivery stream keeps records: the batch is given up and its records are lost, as in AWS"
                );
                return finish(f, stream, &pending, now);
            }
            let failures = stream.buffer.lock().failures;
            if failures == 0 {
                tracing::warn!(delivery_stream = %stream.name, error = %e, "delivery failed; the records stay buffered and are retried");
            }
            backoff(stream, now);
            false
        }
    }
}

/// Ends the delivery of `pending` (delivered, or given up): its records leave the buffer and
/// storage. False when that could not be stored (the batch is then delivered again).
fn finish(f: &Firehose, stream: &DeliveryStream, pending: &Pending, now: i64) -> bool {
    if let Some(d) = &f.durable
        && let Err(e) = d.complete(stream.tag, pending)
    {
        tracing::error!(delivery_stream = %stream.name, error = %e, "recording a finished delivery failed; it will be repeated");
        backoff(stream, now);
        return false;
    }
    let mut buffer = stream.buffer.lock();
    buffer.remove_through(pending.last);
    buffer.pending = None;
    buffer.failures = 0;
    buffer.retry_at_ms = 0;
    true
}

/// The bucket or endpoint a destination names, for logs.
fn destination_name(destination: &Destination) -> String {
    match destination {
        Destination::S3(d) => d.bucket_arn.clone().unwrap_or_default(),
        Destination::Http(d) => d
            .endpoint_configuration
            .as_ref()
            .and_then(|e| e.url.clone())
            .unwrap_or_default(),
    }
}

/// Schedules the next attempt after a failure (200 ms, doubling, capped).
fn backoff(stream: &DeliveryStream, now: i64) {
    let mut buffer = stream.buffer.lock();
    buffer.failures = buffer.failures.saturating_add(1);
    let wait = (100i64 << buffer.failures.min(8)).min(MAX_BACKOFF_MS);
    buffer.retry_at_ms = now + wait;
}

/// The S3 key of failed data of `stream` in backup bucket `d`.
pub(super) fn failed_key(
    stream: &DeliveryStream,
    d: &S3Destination,
    version: u64,
    pending: &Pending,
    arrival_ms: i64,
    error_type: &str,
) -> String {
    s3_key(
        stream,
        d,
        version,
        pending.first,
        arrival_ms,
        Some(error_type),
    )
}

/// The S3 key of all data of `stream` in backup bucket `d` (`AllData`).
pub(super) fn backup_key(
    stream: &DeliveryStream,
    d: &S3Destination,
    version: u64,
    pending: &Pending,
    arrival_ms: i64,
) -> String {
    s3_key(stream, d, version, pending.first, arrival_ms, None)
}
