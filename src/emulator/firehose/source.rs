//! `KinesisStreamAsSource`: new records of the source stream are moved into the delivery
//! stream's buffer, and the source checkpoint is stored in the same write as those records, so
//! a crash never loses or repeats one. Reading starts at the checkpoint taken at creation
//! (LATEST then) and follows re-sharding parents first (`kinesis/reader.rs`); when the source
//! stream is deleted and created again under its name (same ARN), the new stream is read from
//! its start. KPL aggregated records are de-aggregated (`kpl.rs`).

use super::control::source_ctx;
use super::durable::NewRecord;
use super::stream::{DeliveryStream, Source};
use super::{Firehose, kpl};
use crate::emulator::kinesis::reader::Checkpoint;

/// Records read per poll at most.
const MAX_RECORDS: usize = 10_000;
/// Undelivered bytes above which reading pauses and puts are refused (a destination that
/// keeps failing).
pub(super) const MAX_BUFFERED: usize = 256 << 20;

/// The position at the start of the source stream when the stream `checkpoint` was reading
/// was deleted and a stream of the same ARN created since: every record of the new stream is
/// new to the delivery stream. `None` while no stream of that ARN exists.
fn recreated(
    f: &Firehose,
    ctx: &crate::emulator::kinesis::Ctx,
    stream_arn: &str,
    checkpoint: &Checkpoint,
) -> Option<Checkpoint> {
    let latest = f.kinesis.latest_checkpoint(ctx, stream_arn).ok()?;
    (latest.stream_tag != checkpoint.stream_tag).then(|| Checkpoint {
        stream_tag: latest.stream_tag,
        ..Checkpoint::default()
    })
}

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
        Err(e) => match recreated(f, &ctx, &stream_arn, &checkpoint) {
            Some(fresh) => {
                tracing::info!(delivery_stream = %stream.name, source = %stream_arn, "the source stream was deleted and created again: reading the new stream from its start");
                (Vec::new(), fresh)
            }
            None => {
                tracing::debug!(delivery_stream = %stream.name, error = %e, "the source stream cannot be read");
                return;
            }
        },
    };
    if next == checkpoint {
        return;
    }
    // KPL aggregates are delivered as the user records they hold, as AWS does.
    let records: Vec<(i64, bytes::Bytes)> = records
        .into_iter()
        .flat_map(|r| {
            let arrival = r.arrival_ms;
            kpl::deaggregate(r.data)
                .into_iter()
                .map(move |d| (arrival, d))
        })
        .collect();
    let mut buffer = stream.buffer.lock();
    let first = buffer.next_seq;
    if let Some(d) = &f.durable {
        let stored: Vec<NewRecord<'_>> = records
            .iter()
            .enumerate()
            .map(|(i, (arrival_ms, data))| NewRecord {
                seq: first + i as u64,
                arrival_ms: *arrival_ms,
                data,
            })
            .collect();
        if let Err(e) = d.append(stream.tag, &stored, Some(&next)) {
            tracing::error!(delivery_stream = %stream.name, error = %e, "storing records read from the source failed; they are read again");
            return;
        }
    }
    for (arrival_ms, data) in records {
        buffer.push(arrival_ms, data);
    }
    buffer.checkpoint = Some(next);
}
