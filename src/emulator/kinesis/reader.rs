//! An in-process reader of a Kinesis stream, for services that consume streams the way AWS's own
//! services do (Firehose's `KinesisStreamAsSource`): no HTTP, no iterators to expire, no read
//! throughput accounting, but the same order guarantees a well-behaved KCL consumer keeps.
//!
//! The reader's whole position is a [`Checkpoint`]: one position per shard being read plus the
//! shards read to their end. It is plain data (serde), so the consumer stores it atomically with
//! what it did with the records and resumes exactly there after a restart. Re-sharding is
//! followed as AWS documents for consumers: a child shard is read only once every parent shard
//! has been read to its end, so records of one partition key stay in order.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kinesis};
use crate::emulator::error::AwsError;

/// Bytes one read gathers at most (it stops after the record that crosses it), like a
/// GetRecords call's 10 MiB.
pub const MAX_READ_BYTES: usize = 10 << 20;
/// Where a reader is in a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Incarnation of the stream the positions belong to (a deleted and re-created stream of
    /// the same name starts over).
    pub stream_tag: u64,
    /// Next position to read, per shard index being read.
    pub positions: BTreeMap<u32, u64>,
    /// Shards read to their end (closed and fully consumed, or closed before reading began).
    pub finished: BTreeSet<u32>,
}

/// One record read from a stream.
#[derive(Clone, Debug)]
pub struct SourceRecord {
    /// Payload, exactly as it was put.
    pub data: Bytes,
    /// When Kinesis received it, epoch milliseconds.
    pub arrival_ms: i64,
}

impl Kinesis {
    /// The position "now" (LATEST) in the stream `arn`: every open shard at its end, every closed
    /// shard finished. `ResourceNotFoundException` when the stream does not exist.
    pub fn latest_checkpoint(&self, ctx: &Ctx, arn: &str) -> Result<Checkpoint, AwsError> {
        let stream = self.find(ctx, None, Some(arn))?;
        let shards = stream.shards.read();
        let mut checkpoint = Checkpoint {
            stream_tag: stream.tag,
            ..Checkpoint::default()
        };
        for shard in &shards.all {
            let state = shard.state.lock();
            if state.closed_at.is_some() {
                checkpoint.finished.insert(shard.index);
            } else {
                checkpoint.positions.insert(shard.index, state.log.end());
            }
        }
        Ok(checkpoint)
    }

    /// Reads up to `max_records` records (and about [`MAX_READ_BYTES`], as GetRecords caps a
    /// call at 10 MiB) after `from`, parents before children, and returns them with the
    /// checkpoint just after the last one. A stream that was deleted (or deleted
    /// and re-created) answers `ResourceNotFoundException`.
    pub fn read_from(
        &self,
        ctx: &Ctx,
        arn: &str,
        from: &Checkpoint,
        max_records: usize,
    ) -> Result<(Vec<SourceRecord>, Checkpoint), AwsError> {
        let stream = self.find(ctx, None, Some(arn))?;
        if stream.tag != from.stream_tag {
            return Err(super::not_found(ctx, &stream.name));
        }
        let mut next = from.clone();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let shards: Vec<_> = stream.shards.read().all.clone();
        // Children appear after their parents in index order, so one pass in index order
        // finishes parents before it considers their children.
        for shard in &shards {
            if out.len() >= max_records || bytes >= MAX_READ_BYTES {
                break;
            }
            if next.finished.contains(&shard.index) {
                continue;
            }
            let parents_done = shard
                .parent
                .iter()
                .chain(shard.adjacent_parent.iter())
                .all(|p| next.finished.contains(p));
            let position = match next.positions.get(&shard.index) {
                Some(p) => *p,
                None if parents_done => 0,
                None => continue,
            };
            let state = shard.state.lock();
            let mut at = position.max(state.log.start());
            for record in state.log.iter_from(at) {
                if out.len() >= max_records || bytes >= MAX_READ_BYTES {
                    break;
                }
                bytes += record.data.len();
                out.push(SourceRecord {
                    data: Bytes::copy_from_slice(record.data),
                    arrival_ms: record.arrival_ms,
                });
                at += 1;
            }
            if state.closed_at.is_some() && at >= state.log.end() {
                next.positions.remove(&shard.index);
                next.finished.insert(shard.index);
            } else {
                next.positions.insert(shard.index, at);
            }
        }
        Ok((out, next))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::emulator::clock::Clock;
    use crate::emulator::kinesis::testing::{call, create_stream, ctx, put, texts};

    #[test]
    fn reads_from_latest_and_follows_a_split_parents_first() {
        let k = Kinesis::new(Default::default(), Arc::new(Clock::default()));
        let ctx = ctx();
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
        create_stream(&k, &ctx);
        put(&k, &ctx, "before");
        let latest = k.latest_checkpoint(&ctx, arn).unwrap();
        put(&k, &ctx, "p1");
        put(&k, &ctx, "p2");
        call(
            &k,
            &ctx,
            "SplitShard",
            serde_json::json!({
                "StreamName": "s",
                "ShardToSplit": "shardId-000000000000",
                "NewStartingHashKey": (1u128 << 127).to_string(),
            }),
        );
        put(&k, &ctx, "c1");
        let (first, at) = k.read_from(&ctx, arn, &latest, 2).unwrap();
        assert_eq!(texts(&first), ["p1", "p2"]);
        let (rest, end) = k.read_from(&ctx, arn, &at, 100).unwrap();
        assert_eq!(texts(&rest), ["c1"]);
        assert!(end.finished.contains(&0), "the parent is finished");
        let (none, same) = k.read_from(&ctx, arn, &end, 100).unwrap();
        assert!(none.is_empty());
        assert_eq!(same, end);
        assert!(
            k.read_from(
                &ctx,
                "arn:aws:kinesis:us-east-1:000000000000:stream/gone",
                &end,
                1
            )
            .is_err()
        );
    }
}
