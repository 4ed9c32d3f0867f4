//! The data plane: PutRecord, PutRecords, GetShardIterator, GetRecords.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::keys::{
    hash_key, parse_hash_key, parse_sequence_number, parse_shard_id, sequence_number,
};
use super::limits::*;
use super::model::*;
use super::stream::{Shard, Status, Stream};
use super::{Ctx, Kinesis, not_found};
use crate::emulator::dates::{MONTHS, UtcTime, WEEKDAYS};
use crate::emulator::error::{AwsError, ListMember, Validation, blob_value, is_decimal};
use crate::emulator::protocol::{Blob, Timestamp};

/// A record ready to be written.
struct Incoming<'a> {
    data: &'a [u8],
    partition_key: &'a str,
    hash: u128,
}

/// The path of member `field` of record `index` of a PutRecords request.
fn record_member(index: usize, field: &'static str) -> ListMember {
    ListMember {
        list: "records",
        index,
        field,
    }
}

/// Where a written record went.
struct Written {
    shard_id: String,
    sequence_number: String,
}

fn validate_key_and_hash(
    v: &mut Validation,
    (key_path, hash_path): (impl std::fmt::Display, impl std::fmt::Display),
    key: &Option<String>,
    explicit: &Option<String>,
) {
    // Optional in the model: streams with the AUTO distribution strategy take records
    // without one (checked once the stream is known).
    if let Some(key) = key {
        v.length(key_path, key, 1, 256);
    }
    if let Some(h) = explicit {
        v.pattern(hash_path, h, "0|([1-9]\\d{0,38})", |s| is_decimal(s, 39));
    }
}

/// The hash of a record: its ExplicitHashKey, the MD5 of its partition key, or (AUTO
/// distribution, no key) a spread value derived from `spread`. `path` names the partition key
/// member for the error when it is required and missing.
fn record_hash(
    key: Option<&str>,
    explicit: Option<&str>,
    auto: bool,
    spread: u64,
    path: impl std::fmt::Display,
) -> Result<u128, AwsError> {
    match (explicit, key) {
        (Some(h), _) => parse_hash_key(h).ok_or_else(|| {
            AwsError::invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {h}"
            ))
        }),
        (None, Some(key)) => Ok(hash_key(key)),
        (None, None) if auto => Ok(spread_hash(spread)),
        (None, None) => {
            let mut v = Validation::new();
            v.required::<String>(path, &None);
            Err(v.finish().expect_err("a missing member fails"))
        }
    }
}

/// A well-spread 128-bit hash key for record `n` (SplitMix64 twice).
fn spread_hash(n: u64) -> u128 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    ((mix(n) as u128) << 64) | mix(n ^ 0xdead_beef) as u128
}

/// True when the stream distributes records without partition keys (AUTO).
fn auto_distribution(stream: &Stream) -> bool {
    stream.meta.lock().distribution.as_deref() == Some("AUTO")
}

/// The stream, if it accepts records and iterators (ACTIVE or UPDATING).
fn writable(
    k: &Kinesis,
    ctx: &Ctx,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<Arc<Stream>, AwsError> {
    let stream = k.find(ctx, name, arn)?;
    let status = stream.meta.lock().status;
    match status {
        Status::Active | Status::Updating => Ok(stream),
        Status::Creating | Status::Deleting => Err(not_found(ctx, &stream.name)),
    }
}

/// Largest record (data plus partition key) the stream takes.
fn max_record_bytes(stream: &Stream) -> usize {
    stream.meta.lock().max_record_kib as usize * 1024
}

/// Why a record was not written.
enum Refused {
    /// Over the shard's throughput limit.
    Throttled,
    /// Storing it failed.
    Internal,
}

/// Writes records that all route to `shard`, in order. With a data directory they are stored
/// before they enter the shard, so nothing acknowledged is lost in a crash.
fn write_to_shard(
    k: &Kinesis,
    stream: &Stream,
    shard: &Shard,
    records: &[&Incoming<'_>],
    now: i64,
    out: &mut Vec<Result<Written, Refused>>,
) {
    let mut state = shard.state.lock();
    let arrival = now.max(state.log.last_arrival_ms().unwrap_or(i64::MIN));
    let allowed: Vec<bool> = records
        .iter()
        .map(|r| {
            let bytes = (r.data.len() + r.partition_key.len()) as u64;
            k.settings.relax_limits
                || state.writes.try_take(
                    now,
                    1,
                    bytes,
                    SHARD_WRITE_RECORDS_PER_SEC,
                    SHARD_WRITE_BYTES_PER_SEC,
                )
        })
        .collect();
    // One reservation for the group: the stream's counter is shared by every writer.
    let taken = allowed.iter().filter(|a| **a).count() as u64;
    let mut next = if taken > 0 {
        stream.reserve_counters(taken)
    } else {
        0
    };
    let counters: Vec<Option<u64>> = allowed
        .iter()
        .map(|&a| {
            a.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let mut stored = true;
    if let Some(durable) = &k.durable {
        let start = state.log.end();
        let to_store: Vec<_> = records
            .iter()
            .zip(&counters)
            .filter_map(|(r, c)| c.map(|c| (r, c)))
            .enumerate()
            .map(|(i, (r, counter))| super::durable::StoredRecord {
                position: start + i as u64,
                counter,
                arrival_ms: arrival,
                partition_key: r.partition_key,
                data: r.data,
            })
            .collect();
        stored = durable.append(stream.tag, shard.index, &to_store).is_ok();
    }
    for (r, counter) in records.iter().zip(counters) {
        out.push(match counter {
            None => Err(Refused::Throttled),
            Some(_) if !stored => Err(Refused::Internal),
            Some(counter) => {
                state.log.append(counter, arrival, r.partition_key, r.data);
                Ok(Written {
                    shard_id: shard.id.clone(),
                    sequence_number: sequence_number(stream.tag, counter, shard.index),
                })
            }
        });
    }
}

/// The `ProvisionedThroughputExceededException` message of a write.
fn throughput_exceeded(stream: &Stream, ctx: &Ctx, shard_id: &str) -> String {
    format!(
        "Rate exceeded for shard {shard_id} in stream {} under account {}.",
        stream.name, ctx.account
    )
}

pub(super) fn put_record(
    k: &Kinesis,
    ctx: &Ctx,
    input: PutRecordInput,
) -> Result<PutRecordOutput, AwsError> {
    let mut v = Validation::new();
    if v.required("data", &input.data) {
        let len = input.data.as_ref().map_or(0, |d| d.0.len());
        v.size("data", blob_value(len), len, 0, 10 << 20);
    }
    validate_key_and_hash(
        &mut v,
        ("partitionKey", "explicitHashKey"),
        &input.partition_key,
        &input.explicit_hash_key,
    );
    if let Some(s) = &input.sequence_number_for_ordering {
        v.pattern("sequenceNumberForOrdering", s, "0|([1-9]\\d{0,128})", |s| {
            is_decimal(s, 129)
        });
    }
    v.finish()?;
    let data = input.data.unwrap_or_default();
    let stream = writable(
        k,
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let hash = record_hash(
        input.partition_key.as_deref(),
        input.explicit_hash_key.as_deref(),
        auto_distribution(&stream),
        stream.peek_counter(),
        "partitionKey",
    )?;
    let key = input.partition_key.unwrap_or_default();
    let max = max_record_bytes(&stream);
    if data.0.len() + key.len() > max {
        return Err(AwsError::client(
            "ValidationException",
            format!(
                "1 validation error detected: Value at 'data' failed to satisfy constraint: the record of {} bytes (data plus partition key) is larger than the stream's maximum record size of {max} bytes ({} KiB).",
                data.0.len() + key.len(),
                max / 1024
            ),
        ));
    }
    if let Some(s) = &input.sequence_number_for_ordering {
        match parse_sequence_number(s) {
            Some(parts) => stream.order_after(parts.counter),
            None => {
                return Err(AwsError::invalid_argument(format!(
                    "ExclusiveMinimumSequenceNumber {s} used in PutRecord on stream {} under account {} is invalid.",
                    stream.name, ctx.account
                )));
            }
        }
    }
    let encryption = encryption_type(&stream);
    let now = k.now();
    let shards = stream.shards.read();
    let shard = shards
        .route(hash)
        .ok_or_else(|| AwsError::internal("no open shard covers the hash key"))?;
    let record = Incoming {
        data: &data.0,
        partition_key: &key,
        hash,
    };
    let mut out = Vec::with_capacity(1);
    write_to_shard(k, &stream, shard, &[&record], now, &mut out);
    match out.pop().expect("one result per record") {
        Ok(w) => Ok(PutRecordOutput {
            shard_id: w.shard_id,
            sequence_number: w.sequence_number,
            encryption_type: encryption,
        }),
        Err(Refused::Throttled) => Err(AwsError::client(
            "ProvisionedThroughputExceededException",
            throughput_exceeded(&stream, ctx, &shard.id),
        )),
        Err(Refused::Internal) => Err(AwsError::internal("Internal service failure.")),
    }
}

/// The EncryptionType of records read from the stream: only `KMS` is shown.
pub(super) fn record_encryption(stream: &Stream) -> Option<&'static str> {
    (encryption_type(stream) == "KMS").then_some("KMS")
}

fn encryption_type(stream: &Stream) -> &'static str {
    if stream.meta.lock().kms_key.is_some() {
        "KMS"
    } else {
        "NONE"
    }
}

pub(super) fn put_records(
    k: &Kinesis,
    ctx: &Ctx,
    input: PutRecordsInput,
) -> Result<PutRecordsOutput, AwsError> {
    let mut v = Validation::new();
    if v.required("records", &input.records) {
        let records = input.records.as_deref().unwrap_or_default();
        v.size("records", "'[...]'", records.len(), 1, PUT_RECORDS_MAX);
        for (index, r) in records.iter().enumerate() {
            let member = |field| record_member(index, field);
            if v.required(member("data"), &r.data) {
                let len = r.data.as_ref().map_or(0, |d| d.0.len());
                v.size(member("data"), blob_value(len), len, 0, 10 << 20);
            }
            validate_key_and_hash(
                &mut v,
                (member("partitionKey"), member("explicitHashKey")),
                &r.partition_key,
                &r.explicit_hash_key,
            );
        }
    }
    v.finish()?;
    let records = input.records.unwrap_or_default();
    let stream = writable(
        k,
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let auto = auto_distribution(&stream);
    let spread = stream.peek_counter();
    let mut incoming = Vec::with_capacity(records.len());
    let mut total = 0usize;
    for (i, r) in records.iter().enumerate() {
        let key = r.partition_key.as_deref();
        let data: &[u8] = r.data.as_ref().map_or(&[], |d: &Blob| &d.0);
        total += data.len() + key.map_or(0, str::len);
        incoming.push(Incoming {
            data,
            partition_key: key.unwrap_or_default(),
            hash: record_hash(
                key,
                r.explicit_hash_key.as_deref(),
                auto,
                spread + i as u64,
                record_member(i, "partitionKey"),
            )?,
        });
    }
    if total > PUT_RECORDS_MAX_BYTES {
        return Err(AwsError::invalid_argument(format!(
            "Records size exceeds {} MB limit",
            PUT_RECORDS_MAX_BYTES >> 20
        )));
    }
    let max = max_record_bytes(&stream);
    if let Some((i, r)) = incoming
        .iter()
        .enumerate()
        .find(|(_, r)| r.data.len() + r.partition_key.len() > max)
    {
        return Err(AwsError::client(
            "ValidationException",
            format!(
                "1 validation error detected: Value at 'records.{}.member.data' failed to satisfy constraint: the record of {} bytes (data plus partition key) is larger than the stream's maximum record size of {max} bytes ({} KiB).",
                i + 1,
                r.data.len() + r.partition_key.len(),
                max / 1024
            ),
        ));
    }

    let encryption = encryption_type(&stream);
    let now = k.now();
    let shards = stream.shards.read();
    // Group by shard, keeping each shard's records in request order, and write each group
    // under one lock.
    let mut routes: Vec<(usize, usize)> = Vec::with_capacity(incoming.len());
    for (i, r) in incoming.iter().enumerate() {
        let shard = shards
            .route(r.hash)
            .ok_or_else(|| AwsError::internal("no open shard covers the hash key"))?;
        let slot = shards
            .open
            .iter()
            .position(|s| Arc::ptr_eq(s, shard))
            .expect("routed shards are open");
        routes.push((slot, i));
    }
    routes.sort_by_key(|&(slot, i)| (slot, i));
    let mut results: Vec<Option<PutRecordsResultEntry>> =
        (0..incoming.len()).map(|_| None).collect();
    let mut failed = 0i64;
    let mut start = 0;
    while start < routes.len() {
        let slot = routes[start].0;
        let end = start + routes[start..].iter().take_while(|r| r.0 == slot).count();
        let shard = &shards.open[slot];
        let group: Vec<&Incoming<'_>> = routes[start..end]
            .iter()
            .map(|&(_, i)| &incoming[i])
            .collect();
        let mut written = Vec::with_capacity(group.len());
        write_to_shard(k, &stream, shard, &group, now, &mut written);
        for (&(_, i), w) in routes[start..end].iter().zip(written) {
            results[i] = Some(match w {
                Ok(w) => PutRecordsResultEntry {
                    sequence_number: Some(w.sequence_number),
                    shard_id: Some(w.shard_id),
                    error_code: None,
                    error_message: None,
                },
                Err(refused) => {
                    failed += 1;
                    let (code, message) = match refused {
                        Refused::Throttled => (
                            "ProvisionedThroughputExceededException",
                            throughput_exceeded(&stream, ctx, &shard.id),
                        ),
                        Refused::Internal => {
                            ("InternalFailure", "Internal service failure.".to_owned())
                        }
                    };
                    PutRecordsResultEntry {
                        sequence_number: None,
                        shard_id: None,
                        error_code: Some(code),
                        error_message: Some(message),
                    }
                }
            });
        }
        start = end;
    }
    Ok(PutRecordsOutput {
        failed_record_count: failed,
        records: results
            .into_iter()
            .map(|r| r.expect("every record has a result"))
            .collect(),
        encryption_type: encryption,
    })
}

/// What a shard iterator points at.
#[derive(Debug, PartialEq, Eq)]
struct Iterator {
    stream_tag: u64,
    shard: u32,
    position: u64,
    issued_ms: i64,
    stream: String,
}

/// Iterators are opaque to clients: base64 of a versioned binary layout with a checksum.
fn encode_iterator(it: &Iterator) -> String {
    let mut raw = Vec::with_capacity(33 + it.stream.len());
    raw.push(1u8);
    raw.extend_from_slice(&it.stream_tag.to_be_bytes());
    raw.extend_from_slice(&it.shard.to_be_bytes());
    raw.extend_from_slice(&it.position.to_be_bytes());
    raw.extend_from_slice(&it.issued_ms.to_be_bytes());
    raw.extend_from_slice(it.stream.as_bytes());
    let sum = checksum(&raw);
    raw.extend_from_slice(&sum.to_be_bytes());
    STANDARD.encode(raw)
}

fn decode_iterator(text: &str) -> Option<Iterator> {
    let raw = STANDARD.decode(text).ok()?;
    // version, tag, shard, position, issued time (29 bytes), a name of at least one byte, and
    // the checksum.
    if raw.len() < 29 + 1 + 4 || raw[0] != 1 {
        return None;
    }
    let (body, sum) = raw.split_at(raw.len() - 4);
    if checksum(body).to_be_bytes() != sum {
        return None;
    }
    Some(Iterator {
        stream_tag: u64::from_be_bytes(body[1..9].try_into().ok()?),
        shard: u32::from_be_bytes(body[9..13].try_into().ok()?),
        position: u64::from_be_bytes(body[13..21].try_into().ok()?),
        issued_ms: i64::from_be_bytes(body[21..29].try_into().ok()?),
        stream: String::from_utf8(body[29..].to_vec()).ok()?,
    })
}

/// The name of the stream a shard iterator was issued for, if it is one the emulator issued.
pub(super) fn iterator_stream(text: &str) -> Option<String> {
    decode_iterator(text).map(|it| it.stream)
}

/// FNV-1a, enough to tell a mangled iterator from one we issued.
fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ *b as u32).wrapping_mul(0x0100_0193)
    })
}

const ITERATOR_TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

/// Where reading starts in a shard (GetShardIterator, SubscribeToShard).
pub(super) struct StartingPoint<'a> {
    pub stream: &'a Stream,
    pub shard: &'a Shard,
    /// One of the five iterator types.
    pub kind: &'a str,
    pub sequence_number: Option<&'a str>,
    pub timestamp: Option<Timestamp>,
    pub now: i64,
    pub retention_ms: i64,
    pub ctx: &'a Ctx,
}

/// The log position a [`StartingPoint`] names.
pub(super) fn starting_position(
    p: &StartingPoint<'_>,
    log: &super::records::ShardLog,
) -> Result<u64, AwsError> {
    let (stream, shard, ctx, now, retention_ms) = (p.stream, p.shard, p.ctx, p.now, p.retention_ms);
    Ok(match p.kind {
        "TRIM_HORIZON" => log.position_at_time(now - retention_ms).max(log.start()),
        "LATEST" => log.end(),
        "AT_TIMESTAMP" => {
            let ts = p.timestamp.ok_or_else(|| {
                AwsError::invalid_argument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
            })?;
            if ts.0 > now {
                return Err(AwsError::invalid_argument(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {now}",
                    ts.0
                )));
            }
            log.position_at_time(ts.0.max(now - retention_ms))
        }
        _ => {
            let seq = p.sequence_number.unwrap_or_default();
            let invalid = || {
                AwsError::invalid_argument(format!(
                    "StartingSequenceNumber {seq} used in GetShardIterator on shard {} in stream {} under account {} is invalid.",
                    shard.id, stream.name, ctx.account
                ))
            };
            let parts = parse_sequence_number(seq).ok_or_else(invalid)?;
            if parts.stream_tag != stream.tag % 100_000_000_000_000 {
                return Err(invalid());
            }
            if parts.shard != shard.index {
                return Err(AwsError::invalid_argument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                    super::keys::shard_id(parts.shard),
                    shard.id
                )));
            }
            let at = log.position_of_counter(parts.counter);
            if p.kind == "AFTER_SEQUENCE_NUMBER"
                && log.get(at).is_some_and(|r| r.counter == parts.counter)
            {
                at + 1
            } else {
                at
            }
        }
    })
}

pub(super) fn get_shard_iterator(
    k: &Kinesis,
    ctx: &Ctx,
    input: GetShardIteratorInput,
) -> Result<GetShardIteratorOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("shardId", &input.shard_id, 1, 128);
    if v.required("shardIteratorType", &input.shard_iterator_type) {
        v.one_of(
            "shardIteratorType",
            input.shard_iterator_type.as_deref().unwrap_or_default(),
            &ITERATOR_TYPES,
        );
    }
    if let Some(s) = &input.starting_sequence_number {
        v.pattern("startingSequenceNumber", s, "0|([1-9]\\d{0,128})", |s| {
            is_decimal(s, 129)
        });
    }
    v.finish()?;
    // A stream still CREATING or already DELETING is not found, before anything about the
    // shard, as with PutRecord.
    let stream = writable(
        k,
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let shard_id = input.shard_id.unwrap_or_default();
    let shard = parse_shard_id(&shard_id)
        .and_then(|i| stream.shards.read().get(i).cloned())
        .ok_or_else(|| {
            AwsError::not_found(format!(
                "Shard {shard_id} in stream {} under account {} does not exist",
                stream.name, ctx.account
            ))
        })?;
    let now = k.now();
    let retention_ms = stream.meta.lock().retention_hours * 3_600_000;
    let kind = input.shard_iterator_type.clone().unwrap_or_default();
    let needs_sequence = matches!(
        kind.as_str(),
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER"
    );
    if needs_sequence != input.starting_sequence_number.is_some() && kind != "AT_TIMESTAMP" {
        return Err(AwsError::invalid_argument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {}.",
            if needs_sequence {
                "no StartingSequenceNumber"
            } else {
                "also a StartingSequenceNumber"
            }
        )));
    }
    let state = shard.state.lock();
    let position = starting_position(
        &StartingPoint {
            stream: &stream,
            shard: &shard,
            kind: &kind,
            sequence_number: input.starting_sequence_number.as_deref(),
            timestamp: input.timestamp,
            now,
            retention_ms,
            ctx,
        },
        &state.log,
    )?;
    let iterator = Iterator {
        stream_tag: stream.tag,
        shard: shard.index,
        position,
        issued_ms: now,
        stream: stream.name.clone(),
    };
    Ok(GetShardIteratorOutput {
        shard_iterator: encode_iterator(&iterator),
    })
}

pub(super) fn get_records(
    k: &Kinesis,
    ctx: &Ctx,
    input: GetRecordsInput,
) -> Result<GetRecordsOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("shardIterator", &input.shard_iterator, 1, 512);
    if let Some(limit) = input.limit {
        v.range("limit", limit, 1, GET_RECORDS_MAX as i64);
    }
    v.finish()?;
    let text = input.shard_iterator.unwrap_or_default();
    let it = decode_iterator(&text)
        .ok_or_else(|| AwsError::invalid_argument("Invalid ShardIterator."))?;
    let now = k.now();
    if now - it.issued_ms > ITERATOR_TTL_MS {
        return Err(AwsError::client(
            "ExpiredIteratorException",
            format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
                java_date(it.issued_ms),
                java_date(now)
            ),
        ));
    }
    let stream = k.find(ctx, Some(&it.stream), input.stream_arn.as_deref())?;
    if stream.tag != it.stream_tag {
        return Err(not_found(ctx, &it.stream));
    }
    let shard = stream.shards.read().get(it.shard).cloned().ok_or_else(|| {
        AwsError::not_found(format!(
            "Shard {} in stream {} under account {} does not exist",
            super::keys::shard_id(it.shard),
            stream.name,
            ctx.account
        ))
    })?;
    let retention_ms = stream.meta.lock().retention_hours * 3_600_000;
    let limit = input.limit.unwrap_or(GET_RECORDS_MAX as i64) as usize;
    let encryption = record_encryption(&stream);

    let mut state = shard.state.lock();
    if !k.settings.relax_limits
        && !state
            .reads
            .try_take(now, 1, 0, SHARD_READ_CALLS_PER_SEC, u64::MAX)
    {
        return Err(AwsError::client(
            "ProvisionedThroughputExceededException",
            format!(
                "Rate exceeded for Shard - {}/{}/{}",
                ctx.account, stream.name, shard.id
            ),
        ));
    }
    let batch = read_batch(
        k,
        &stream,
        &shard,
        &mut state,
        it.position,
        limit,
        now,
        retention_ms,
        encryption,
    );
    let (records, next, at_end, millis_behind) =
        (batch.records, batch.next, batch.at_end, batch.millis_behind);
    let closed = state.closed_at.is_some();
    drop(state);
    let (next_shard_iterator, child_shards) = if closed && at_end {
        (None, Some(children(&stream, &shard)))
    } else {
        let next_it = Iterator {
            stream_tag: stream.tag,
            shard: shard.index,
            position: next,
            issued_ms: now,
            stream: stream.name.clone(),
        };
        (Some(encode_iterator(&next_it)), None)
    };
    Ok(GetRecordsOutput {
        records,
        next_shard_iterator,
        millis_behind_latest: millis_behind,
        child_shards,
    })
}

/// A time as Java's `Date.toString()` prints it in UTC, as AWS's messages do:
/// `Thu Jan 22 01:22:02 UTC 2015`.
fn java_date(ms: i64) -> String {
    let t = UtcTime::from_ms(ms);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[t.weekday as usize],
        MONTHS[(t.month - 1) as usize],
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.year
    )
}

/// Records read from a shard in one go (GetRecords, a SubscribeToShard event).
pub(super) struct Batch {
    pub records: Vec<Record>,
    /// Position after the last record read.
    pub next: u64,
    /// True when nothing is left to read now.
    pub at_end: bool,
    pub millis_behind: i64,
}

/// Reads up to `limit` records (and 10 MiB) from `position`, dropping expired ones first.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_batch(
    k: &Kinesis,
    stream: &Stream,
    shard: &Shard,
    state: &mut super::stream::ShardState,
    position: u64,
    limit: usize,
    now: i64,
    retention_ms: i64,
    encryption: Option<&'static str>,
) -> Batch {
    let held_from = state.log.start();
    state.log.trim_before(now - retention_ms);
    if let Some(durable) = &k.durable {
        // Expired records leave the disk too; a failure only delays that.
        let _ = durable.trim(stream.tag, shard.index, held_from, state.log.start());
    }
    let log = &state.log;
    let from = position.max(log.position_at_time(now - retention_ms));
    let mut records = Vec::new();
    let mut bytes = 0usize;
    let mut next = from;
    for r in log.iter_from(from) {
        let size = r.data.len() + r.partition_key.len();
        if records.len() >= limit || (!records.is_empty() && bytes + size > GET_RECORDS_MAX_BYTES) {
            break;
        }
        bytes += size;
        next += 1;
        records.push(Record {
            sequence_number: sequence_number(stream.tag, r.counter, shard.index),
            approximate_arrival_timestamp: Timestamp(r.arrival_ms),
            data: Blob(r.data.to_vec()),
            partition_key: r.partition_key.to_owned(),
            encryption_type: encryption,
        });
    }
    let next = next.max(position);
    let at_end = next >= log.end();
    let millis_behind = if at_end {
        0
    } else {
        log.get(next).map_or(0, |r| (now - r.arrival_ms).max(0))
    };
    Batch {
        records,
        next,
        at_end,
        millis_behind,
    }
}

/// The child shards of a closed shard.
pub(super) fn children(stream: &Stream, shard: &Shard) -> Vec<ChildShard> {
    stream
        .shards
        .read()
        .all
        .iter()
        .filter(|s| s.parent == Some(shard.index) || s.adjacent_parent == Some(shard.index))
        .map(|s| ChildShard {
            shard_id: s.id.clone(),
            parent_shards: s
                .parent
                .iter()
                .chain(s.adjacent_parent.iter())
                .map(|p| super::keys::shard_id(*p))
                .collect(),
            hash_key_range: HashKeyRange {
                starting_hash_key: s.start_hash.to_string(),
                ending_hash_key: s.end_hash.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_like_java() {
        assert_eq!(java_date(1_421_889_722_000), "Thu Jan 22 01:22:02 UTC 2015");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_709_208_000_000), "Thu Feb 29 12:00:00 UTC 2024");
    }

    fn it_clone(it: &Iterator) -> Iterator {
        Iterator {
            stream: it.stream.clone(),
            ..*it
        }
    }

    #[test]
    fn iterators_round_trip_and_reject_tampering() {
        let it = Iterator {
            stream_tag: 1_700_000_000_000,
            shard: 3,
            position: 12345,
            issued_ms: 1_700_000_000_999,
            stream: "my-stream".into(),
        };
        let short = Iterator {
            stream: "a".into(),
            ..it_clone(&it)
        };
        assert_eq!(decode_iterator(&encode_iterator(&short)), Some(short));
        let text = encode_iterator(&it);
        assert!(text.len() <= 512);
        assert_eq!(decode_iterator(&text), Some(it));
        let mut raw = STANDARD.decode(&text).unwrap();
        raw[14] ^= 1;
        assert_eq!(decode_iterator(&STANDARD.encode(raw)), None);
        assert_eq!(decode_iterator("garbage"), None);
        assert_eq!(decode_iterator(""), None);
    }
}
