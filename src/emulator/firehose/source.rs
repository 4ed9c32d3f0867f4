//! `KinesisStreamAsSource`: new records of the source stream are moved into the delivery
//! stream's buffer, and the source checkpoint is stored in the same write as those records, so
//! a crash never loses or repeats one. Reading starts at the checkpoint taken at creation
//! (LATEST then) and follows re-sharding parents first (`kinesis/reader.rs`).

use super::Firehose;
use super::control::source_ctx;
use super::durable::NewRecord;
use super::stream::{DeliveryStream, Source};

/// Records read per poll at most.
const MAX_RECORDS: usize = 10_000;
/// Undelivered bytes above which reading pauses (a destination that keeps failing).
const MAX_BUFFERED: usize = 256 << 20;

/// Moves the source stream's new records into the buffer of `stream`, if it reads one.
pub(super) fn poll(f: &Firehose, stream: &DeliveryStream) {
    let Source::Kinesis { stream_arn, .. } = stream.meta.lock().source.clone() else {
        return;
    };
    let (checkpoint, buffered) = {
        let buffer = stream.buffer.lock();
        (buffer.checkpoint.clone(), buffer.bytes)
    };
    let Some(checkpoint) = checkpoint else {
        return;
    };
    if buffered >= MAX_BUFFERED {
        return;
    }
    let ctx = source_ctx(&stream_arn);
    let (records, next) = match f
        .kinesis
        .read_from(&ctx, &stream_arn, &checkpoint, MAX_RECORDS)
    {
        Ok(read) => read,
        Err(e) => {
            tracing::debug!(delivery_stream = %stream.name, error = %e, "the source stream cannot be read");
            return;
        }
    };
    if next == checkpoint {
        return;
    }
    let mut buffer = stream.buffer.lock();
    let first = buffer.next_seq;
    if let Some(d) = &f.durable {
        let stored: Vec<NewRecord<'_>> = records
            .iter()
            .enumerate()
            .map(|(i, r)| NewRecord {
                seq: first + i as u64,
                arrival_ms: r.arrival_ms,
                data: &r.data,
            })
            .collect();
        if let Err(e) = d.append(stream.tag, &stored, Some(&next)) {
            tracing::error!(delivery_stream = %stream.name, error = %e, "storing records read from the source failed; they are read again");
            return;
        }
    }
    for r in records {
        buffer.push(r.arrival_ms, r.data);
    }
    buffer.checkpoint = Some(next);
}
