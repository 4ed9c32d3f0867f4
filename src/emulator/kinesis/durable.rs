//! Kinesis state on disk (`--data-dir`): one stored snapshot per stream (its settings and
//! shards, keyed by ARN), one entry per record (keyed by stream incarnation, shard and
//! position) and the account settings of each account and region, written before the request
//! is acknowledged.

use std::sync::Arc;

use fjall::Keyspace;

use super::account::CommitmentState;
use super::stream::{Snapshot, Stream};
use crate::emulator::error::AwsError;
use crate::emulator::storage::{Storage, StorageError};

/// Kinesis's keyspaces in the data directory.
pub struct Durable {
    storage: Arc<Storage>,
    streams: Keyspace,
    records: Keyspace,
    accounts: Keyspace,
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
        })
    }

    /// Stores the stream's current settings and shards.
    pub fn save(&self, stream: &Stream) -> Result<(), AwsError> {
        let snapshot = serde_json::to_vec(&stream.snapshot()).expect("snapshots serialise");
        let mut batch = self.storage.batch();
        batch.put(&self.streams, stream.arn.as_bytes(), &snapshot);
        self.storage.commit(batch).map_err(internal)
    }

    /// Removes a deleted stream and its records.
    pub fn forget(&self, stream: &Stream) -> Result<(), AwsError> {
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

    /// Every stored stream with its records.
    pub fn load(&self) -> Result<Vec<Recovered>, StorageError> {
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
            for entry in self.storage.scan(&self.records, &tag.to_be_bytes()) {
                let (key, value) = entry?;
                if key.len() != 20 || value.len() < 18 {
                    continue;
                }
                let shard = u32::from_be_bytes(key[8..12].try_into().expect("4 bytes"));
                let position = u64::from_be_bytes(key[12..20].try_into().expect("8 bytes"));
                let counter = u64::from_be_bytes(value[..8].try_into().expect("8 bytes"));
                let arrival = i64::from_be_bytes(value[8..16].try_into().expect("8 bytes"));
                let key_len =
                    u16::from_be_bytes(value[16..18].try_into().expect("2 bytes")) as usize;
                let Some(partition_key) = value
                    .get(18..18 + key_len)
                    .and_then(|k| std::str::from_utf8(k).ok())
                else {
                    continue;
                };
                stream.restore_record(
                    shard,
                    position,
                    counter,
                    arrival,
                    partition_key,
                    &value[18 + key_len..],
                );
            }
            out.push(Recovered {
                account,
                region,
                stream,
            });
        }
        Ok(out)
    }
}
