//! Kinesis state on disk (`--data-dir`): one stored snapshot per stream (its settings and
//! shards, keyed by ARN), one entry per record (keyed by stream incarnation, shard and
//! position) and the account settings of each account and region, written before the request
//! is acknowledged.

use std::sync::Arc;

use fjall::Keyspace;
use parking_lot::Mutex;

use super::account::CommitmentState;
use super::stream::{Settled, Snapshot, Stream};
use crate::emulator::error::AwsError;
use crate::emulator::storage::{Storage, StorageError};

/// Kinesis's keyspaces in the data directory.
pub struct Durable {
    storage: Arc<Storage>,
    streams: Keyspace,
    records: Keyspace,
    accounts: Keyspace,
    /// Held from taking a stream's snapshot until it is committed (and while a stream is
    /// forgotten), so that stores land in the order their snapshots were taken: without it, a
    /// snapshot taken before a re-shard settled could be committed after the settled one and
    /// leave the disk without the new shards that acknowledged records went to.
    snapshots: Mutex<()>,
}

/// A record as stored: its position in the shard and its contents.
pub struct StoredRecord<'a> {
    /// Position in the shard.
    pub position: u64,
    /// Sequence counter.
    pub counter: u64,
    /// Arrival time, epoch milliseconds.
    pub arrival_ms: i64,
    /// Partition key.
    pub partition_key: &'a str,
    /// Payload.
    pub data: &'a [u8],
}

/// A stream read back from disk, with the account and region its ARN names.
pub struct Recovered {
    /// Account ID.
    pub account: String,
    /// Region.
    pub region: String,
    /// The stream, records included.
    pub stream: Stream,
    /// What settling its due transition at recovery did: `Changed` must be stored again,
    /// `Removed` forgotten.
    pub settled: Settled,
}

fn internal(e: StorageError) -> AwsError {
    tracing::error!(error = %e, "storage failure");
    AwsError::internal(format!("The emulator could not store the change: {e}"))
}

fn record_key(tag: u64, shard: u32, position: u64) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..8].copy_from_slice(&tag.to_be_bytes());
    key[8..12].copy_from_slice(&shard.to_be_bytes());
    key[12..].copy_from_slice(&position.to_be_bytes());
    key
}

impl Durable {
    /// Kinesis's keyspaces in `storage`.
    pub fn open(storage: Arc<Storage>) -> Result<Durable, StorageError> {
        Ok(Durable {
            streams: storage.keyspace("kinesis_streams")?,
            records: storage.keyspace("kinesis_records")?,
            accounts: storage.keyspace("kinesis_accounts")?,
            storage,
            snapshots: Mutex::new(()),
        })
    }

    /// Stores the stream's current settings and shards.
    pub fn save(&self, stream: &Stream) -> Result<(), AwsError> {
        let _order = self.snapshots.lock();
        let snapshot = serde_json::to_vec(&stream.snapshot()).expect("snapshots serialise");
        let mut batch = self.storage.batch();
        batch.put(&self.streams, stream.arn.as_bytes(), &snapshot);
        self.storage.commit(batch).map_err(internal)
    }

    /// Removes a deleted stream and its records.
    pub fn forget(&self, stream: &Stream) -> Result<(), AwsError> {
        let _order = self.snapshots.lock();
        let mut batch = self.storage.batch();
        batch.delete(&self.streams, stream.arn.as_bytes());
        for entry in self.storage.scan(&self.records, &stream.tag.to_be_bytes()) {
            let (key, _) = entry.map_err(internal)?;
            batch.delete(&self.records, &key);
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// Stores records of one shard; when this returns they survive a crash.
    pub fn append(
        &self,
        tag: u64,
        shard: u32,
        records: &[StoredRecord<'_>],
    ) -> Result<(), AwsError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut batch = self.storage.batch();
        let mut value = Vec::new();
        for r in records {
            value.clear();
            value.extend_from_slice(&r.counter.to_be_bytes());
            value.extend_from_slice(&r.arrival_ms.to_be_bytes());
            value.extend_from_slice(&(r.partition_key.len() as u16).to_be_bytes());
            value.extend_from_slice(r.partition_key.as_bytes());
            value.extend_from_slice(r.data);
            batch.put(&self.records, &record_key(tag, shard, r.position), &value);
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// Deletes the records of a shard at positions `from..to` (expired by retention).
    pub fn trim(&self, tag: u64, shard: u32, from: u64, to: u64) -> Result<(), AwsError> {
        if from >= to {
            return Ok(());
        }
        let mut batch = self.storage.batch();
        for position in from..to {
            batch.delete(&self.records, &record_key(tag, shard, position));
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// Stores the account settings of `account` in `region`.
    pub fn save_account(
        &self,
        account: &str,
        region: &str,
        settings: &CommitmentState,
    ) -> Result<(), AwsError> {
        let value = serde_json::to_vec(settings).expect("account settings serialise");
        let mut batch = self.storage.batch();
        batch.put(
            &self.accounts,
            format!("{account}/{region}").as_bytes(),
            &value,
        );
        self.storage.commit(batch).map_err(internal)
    }

    /// Every stored account's settings: (account, region, settings).
    pub fn load_accounts(&self) -> Result<Vec<(String, String, CommitmentState)>, StorageError> {
        let mut out = Vec::new();
        for entry in self.storage.scan(&self.accounts, b"") {
            let (key, value) = entry?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let (Some((account, region)), Ok(settings)) = (
                key.split_once('/'),
                serde_json::from_slice::<CommitmentState>(&value),
            ) else {
                tracing::error!(%key, "skipping stored account settings that cannot be decoded");
                continue;
            };
            out.push((account.to_owned(), region.to_owned(), settings));
        }
        Ok(out)
    }

    /// Every stored stream with its records, settled at `now_ms`.
    ///
    /// A transition that fell due before a crash may have been applied and written to (a
    /// re-shard's new shards took acknowledged records) without its snapshot reaching the
    /// disk: it is settled after the records of the shards the snapshot knows, and before the
    /// records of the shards it creates, so every stored record finds its shard.
    pub fn load(&self, now_ms: i64) -> Result<Vec<Recovered>, StorageError> {
        let mut out = Vec::new();
        for entry in self.storage.scan(&self.streams, b"") {
            let (key, value) = entry?;
            let arn = String::from_utf8_lossy(&key).into_owned();
            let Ok(snapshot) = serde_json::from_slice::<Snapshot>(&value) else {
                tracing::error!(%arn, "skipping a stored stream that cannot be decoded");
                continue;
            };
            let mut parts = arn.splitn(6, ':');
            let (Some(_), Some(_), Some(_), Some(region), Some(account)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                tracing::error!(%arn, "skipping a stored stream with a malformed ARN");
                continue;
            };
            let (region, account) = (region.to_owned(), account.to_owned());
            let tag = snapshot.tag();
            let stream = Stream::restore(snapshot);
            let known_shards = stream.shards.read().all.len();
            let mut for_new_shards = Vec::new();
            for entry in self.storage.scan(&self.records, &tag.to_be_bytes()) {
                let (key, value) = entry?;
                let Some(record) = decode_record(&key, &value) else {
                    continue;
                };
                if record.shard as usize >= known_shards {
                    for_new_shards.push((key, value));
                    continue;
                }
                record.restore_into(&stream);
            }
            let settled = stream.settle_restored(now_ms);
            for (key, value) in &for_new_shards {
                if let Some(record) = decode_record(key, value) {
                    record.restore_into(&stream);
                }
            }
            out.push(Recovered {
                account,
                region,
                stream,
                settled,
            });
        }
        Ok(out)
    }
}

/// A stored record's key and value, decoded.
struct DecodedRecord<'a> {
    shard: u32,
    position: u64,
    counter: u64,
    arrival_ms: i64,
    partition_key: &'a str,
    data: &'a [u8],
}

impl DecodedRecord<'_> {
    fn restore_into(&self, stream: &Stream) {
        stream.restore_record(
            self.shard,
            self.position,
            self.counter,
            self.arrival_ms,
            self.partition_key,
            self.data,
        );
    }
}

/// Decodes a record entry; `None` for one that is not whole (skipped).
fn decode_record<'a>(key: &[u8], value: &'a [u8]) -> Option<DecodedRecord<'a>> {
    if key.len() != 20 || value.len() < 18 {
        return None;
    }
    let key_len = u16::from_be_bytes(value[16..18].try_into().ok()?) as usize;
    Some(DecodedRecord {
        shard: u32::from_be_bytes(key[8..12].try_into().ok()?),
        position: u64::from_be_bytes(key[12..20].try_into().ok()?),
        counter: u64::from_be_bytes(value[..8].try_into().ok()?),
        arrival_ms: i64::from_be_bytes(value[8..16].try_into().ok()?),
        partition_key: std::str::from_utf8(value.get(18..18 + key_len)?).ok()?,
        data: &value[18 + key_len..],
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::emulator::clock::Clock;
    use crate::emulator::kinesis::reader::Checkpoint;
    use crate::emulator::kinesis::testing::{call, create_stream, ctx, put, texts};
    use crate::emulator::kinesis::{Ctx, Kinesis};

    const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

    fn open(dir: &Path) -> Kinesis {
        let storage = Arc::new(Storage::open(dir).unwrap());
        Kinesis::with_storage(Default::default(), Arc::new(Clock::default()), storage).unwrap()
    }

    fn stream(k: &Kinesis, ctx: &Ctx) -> Option<Arc<Stream>> {
        k.region(ctx).streams.read().get("s").cloned()
    }

    fn stored_texts(k: &Kinesis, ctx: &Ctx) -> Vec<String> {
        let stream_tag = k.latest_checkpoint(ctx, ARN).unwrap().stream_tag;
        let from = Checkpoint {
            stream_tag,
            ..Checkpoint::default()
        };
        texts(&k.read_from(ctx, ARN, &from, 1000).unwrap().0)
    }

    #[test]
    fn a_reshard_settled_but_not_stored_before_a_crash_keeps_its_new_shards_records() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx();
        {
            let k = open(dir.path());
            create_stream(&k, &ctx);
            put(&k, &ctx, "to the parent");
            // Stored with the re-shard pending.
            call(
                &k,
                &ctx,
                "UpdateShardCount",
                serde_json::json!({"StreamName": "s", "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"}),
            );
            // The re-shard settles in memory and the new shards take a record; the process dies
            // before the settled snapshot is stored.
            let s = stream(&k, &ctx).unwrap();
            assert_eq!(s.settle(k.now()), Settled::Changed);
            put(&k, &ctx, "to a child");
        }
        let k = open(dir.path());
        assert_eq!(stored_texts(&k, &ctx), ["to the parent", "to a child"]);
        assert_eq!(stream(&k, &ctx).unwrap().open_shard_count(), 2);
        drop(k);
        let k = open(dir.path());
        assert_eq!(
            stored_texts(&k, &ctx),
            ["to the parent", "to a child"],
            "the settled re-shard was stored at recovery"
        );
    }

    #[test]
    fn a_deletion_settled_but_not_forgotten_before_a_crash_is_finished_at_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx();
        {
            let k = open(dir.path());
            create_stream(&k, &ctx);
            put(&k, &ctx, "doomed");
            call(
                &k,
                &ctx,
                "DeleteStream",
                serde_json::json!({"StreamName": "s"}),
            );
            // The deletion settles, a late store writes the DELETING stream with nothing
            // pending, and the process dies before the stream is forgotten.
            let s = stream(&k, &ctx).unwrap();
            assert_eq!(s.settle(k.now()), Settled::Removed);
            k.durable.as_ref().unwrap().save(&s).unwrap();
        }
        let k = open(dir.path());
        assert!(
            stream(&k, &ctx).is_none(),
            "the deleted stream stays deleted"
        );
        let d = k.durable.as_ref().unwrap();
        assert_eq!(d.storage.scan(&d.streams, b"").count(), 0);
        assert_eq!(d.storage.scan(&d.records, b"").count(), 0);
    }
}
