//! PutRecord and PutRecordBatch: records are stored in the delivery stream's durable buffer
//! before they are acknowledged. AWS's per-stream DirectPut quota (records and bytes per
//! second) refuses the excess record by record in a batch, with `ServiceUnavailableException`
//! ("Slow down."), unless limits are relaxed.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::durable::NewRecord;
use super::model::{BatchEntry, PutInput, PutRecordBatchOutput, PutRecordOutput, Record};
use super::stream::{DeliveryStream, Source, Status};
use super::{Firehose, not_found, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, ListMember, Validation, blob_value};

/// Largest record, in bytes (1,000 KiB).
const MAX_RECORD: usize = 1_024_000;
/// Records per PutRecordBatch.
const MAX_BATCH_RECORDS: usize = 500;
/// Bytes per PutRecordBatch (4 MiB).
const MAX_BATCH_BYTES: usize = 4 << 20;

/// AWS's DirectPut quota per delivery stream: (records/s, bytes/s). The three largest regions
/// get the higher one.
fn quota(region: &str) -> (u64, u64) {
    match region {
        "us-east-1" | "us-west-2" | "eu-west-1" => (500_000, 5 << 20),
        _ => (100_000, 1 << 20),
    }
}

/// `ServiceUnavailableException` as AWS answers throttled puts.
fn slow_down() -> AwsError {
    AwsError {
        code: "ServiceUnavailableException",
        message: "Slow down.".to_owned(),
        status: 503,
    }
}

fn record_id(stream: &DeliveryStream, seq: u64) -> String {
    let h = Sha256::new()
        .chain_update(stream.arn.as_bytes())
        .chain_update(stream.tag.to_be_bytes())
        .chain_update(seq.to_be_bytes())
        .finalize();
    let mut id: String = h.iter().map(|b| format!("{b:02x}")).collect();
    id.push_str(&format!("{seq:016x}"));
    id
}

/// The stream a put addresses: it must exist, be ACTIVE and take direct puts.
fn target(
    f: &Firehose,
    ctx: &Ctx,
    name: &str,
) -> Result<(std::sync::Arc<DeliveryStream>, bool), AwsError> {
    let stream = f.find(ctx, name)?;
    let meta = stream.meta.lock();
    if meta.status != Status::Active {
        // AWS answers puts to a stream that is not ACTIVE as if it did not exist.
        return Err(not_found(ctx, name));
    }
    if matches!(meta.source, Source::Kinesis { .. }) {
        return Err(AwsError::invalid_argument(
            "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
        ));
    }
    let encrypted = meta.encrypted();
    drop(meta);
    Ok((stream, encrypted))
}

/// How many of `sizes` (in order) the per-second quota admits now.
fn admit(f: &Firehose, stream: &DeliveryStream, sizes: &[usize]) -> usize {
    if f.settings.relax_limits {
        return sizes.len();
    }
    let (max_records, max_bytes) = quota(&stream.region);
    let now = f.now();
    let mut t = stream.throughput.lock();
    if now - t.window_ms >= 1000 {
        t.window_ms = now;
        t.records = 0;
        t.bytes = 0;
    }
    let mut n = 0;
    for size in sizes {
        if t.records + 1 > max_records || t.bytes + *size as u64 > max_bytes {
            break;
        }
        t.records += 1;
        t.bytes += *size as u64;
        n += 1;
    }
    n
}

/// Stores `data` in the stream's buffer (durably first) and returns their sequence numbers.
fn accept(f: &Firehose, stream: &DeliveryStream, data: Vec<Bytes>) -> Result<Vec<u64>, AwsError> {
    let now = f.now();
    let mut buffer = stream.buffer.lock();
    // A destination that keeps failing (a bucket not created yet) holds records back; past
    // this much undelivered data producers are told to slow down rather than fill memory.
    if buffer.bytes >= super::source::MAX_BUFFERED {
        return Err(slow_down());
    }
    let first = buffer.next_seq;
    if let Some(d) = &f.durable {
        let stored: Vec<NewRecord<'_>> = data
            .iter()
            .enumerate()
            .map(|(i, d)| NewRecord {
                seq: first + i as u64,
                arrival_ms: now,
                data: d,
            })
            .collect();
        d.append(stream.tag, &stored, None)?;
    }
    let seqs = data.into_iter().map(|d| buffer.push(now, d)).collect();
    let bytes = buffer.bytes;
    drop(buffer);
    if bytes >= f.size_hint(stream) {
        f.wake.notify_one();
    }
    Ok(seqs)
}

fn record_data(v: &mut Validation, path: &str, record: &Option<Record>) {
    match record {
        None => {
            v.required(path, record);
        }
        Some(r) => match &r.data {
            None => {
                v.required(format!("{path}.data"), &r.data);
            }
            Some(d) => v.size(
                format!("{path}.data"),
                blob_value(d.0.len()),
                d.0.len(),
                0,
                MAX_RECORD,
            ),
        },
    }
}

/// PutRecord.
pub(super) fn put_record(
    f: &Firehose,
    ctx: &Ctx,
    input: PutInput,
) -> Result<PutRecordOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    record_data(&mut v, "record", &input.record);
    v.finish()?;
    let name = input.delivery_stream_name.unwrap_or_default();
    let (stream, encrypted) = target(f, ctx, &name)?;
    let data = Bytes::from(
        input
            .record
            .and_then(|r| r.data)
            .map(|b| b.0)
            .unwrap_or_default(),
    );
    if admit(f, &stream, &[data.len()]) == 0 {
        return Err(slow_down());
    }
    let seqs = accept(f, &stream, vec![data])?;
    Ok(PutRecordOutput {
        record_id: record_id(&stream, seqs.first().copied().unwrap_or_default()),
        encrypted,
    })
}

/// PutRecordBatch.
pub(super) fn put_record_batch(
    f: &Firehose,
    ctx: &Ctx,
    input: PutInput,
) -> Result<PutRecordBatchOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    match &input.records {
        None => {
            v.required("records", &input.records);
        }
        Some(records) => {
            let max = if f.settings.relax_limits {
                usize::MAX
            } else {
                MAX_BATCH_RECORDS
            };
            v.size("records", "'[...]'", records.len(), 1, max);
            let data_of = |index| ListMember {
                list: "records",
                index,
                field: "data",
            };
            for (i, r) in records.iter().enumerate() {
                match &r.data {
                    None => {
                        v.required(data_of(i), &r.data);
                    }
                    Some(d) => v.size(data_of(i), blob_value(d.0.len()), d.0.len(), 0, MAX_RECORD),
                }
            }
        }
    }
    v.finish()?;
    let records = input.records.unwrap_or_default();
    let total: usize = records
        .iter()
        .map(|r| r.data.as_ref().map_or(0, |d| d.0.len()))
        .sum();
    if total > MAX_BATCH_BYTES && !f.settings.relax_limits {
        return Err(AwsError::invalid_argument(format!(
            "The total size of the records in a PutRecordBatch request ({total} bytes) exceeds the limit of 4 MiB ({MAX_BATCH_BYTES} bytes)."
        )));
    }
    let name = input.delivery_stream_name.unwrap_or_default();
    let (stream, encrypted) = target(f, ctx, &name)?;
    let data: Vec<Bytes> = records
        .into_iter()
        .map(|r| Bytes::from(r.data.map(|b| b.0).unwrap_or_default()))
        .collect();
    let sizes: Vec<usize> = data.iter().map(Bytes::len).collect();
    let admitted = admit(f, &stream, &sizes);
    let refused = data.len() - admitted;
    let mut data = data;
    data.truncate(admitted);
    let seqs = accept(f, &stream, data)?;
    let mut request_responses: Vec<BatchEntry> = seqs
        .into_iter()
        .map(|seq| BatchEntry {
            record_id: Some(record_id(&stream, seq)),
            error_code: None,
            error_message: None,
        })
        .collect();
    request_responses.extend((0..refused).map(|_| BatchEntry {
        record_id: None,
        error_code: Some("ServiceUnavailableException".into()),
        error_message: Some("Slow down.".into()),
    }));
    Ok(PutRecordBatchOutput {
        failed_put_count: refused as i64,
        encrypted,
        request_responses,
    })
}
