//! Firehose state on disk (`--data-dir`). Three keyspaces, keyed by the delivery stream's
//! incarnation tag so that a re-created name never sees an old stream's records:
//!
//! - `firehose_streams`: tag -> settings and status (JSON [`Snapshot`]);
//! - `firehose_records`: tag + buffer sequence -> arrival time + payload, written before a
//!   record is acknowledged and removed once its object is written;
//! - `firehose_progress`: tag + `c` -> next sequence number (so sequence numbers, and therefore
//!   object names, are never reused), tag + `p` -> the delivery in progress ([`Pending`]),
//!   tag + `k` -> the Kinesis source checkpoint, always written in the batch that stores the
//!   records it covers.
//!
//! Exactly-once delivery rests on the order of writes: records (and checkpoint) together; the
//! pending delivery (its range and key) before the object; the removal of the records, the
//! pending entry and the new cursor together after it. A crash between the object and the
//! removal replays the stored pending delivery: the same key, the same bytes.

use std::sync::Arc;

use fjall::Keyspace;

use super::stream::{Buffer, Buffered, Pending, Snapshot};
use crate::emulator::error::AwsError;
use crate::emulator::kinesis::reader::Checkpoint;
use crate::emulator::storage::{Storage, StorageError};

/// A unit test's [`Durable::before_save`] hook.
#[cfg(test)]
pub(super) type SaveHook = Arc<dyn Fn() -> Result<(), AwsError> + Send + Sync>;

/// Firehose's keyspaces.
pub struct Durable {
    storage: Arc<Storage>,
    streams: Keyspace,
    records: Keyspace,
    progress: Keyspace,
    /// Unit tests: run before a stream's settings are stored, to make the store fail.
    #[cfg(test)]
    pub(super) before_save: parking_lot::Mutex<Option<SaveHook>>,
}

fn internal(e: StorageError) -> AwsError {
    tracing::error!(error = %e, "storage failure");
    AwsError::client(
        "ServiceUnavailableException",
        format!("The emulator could not store the change: {e}"),
    )
}

fn record_key(tag: u64, seq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&tag.to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn progress_key(tag: u64, kind: u8) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[..8].copy_from_slice(&tag.to_be_bytes());
    key[8] = kind;
    key
}

/// A record to store.
pub struct NewRecord<'a> {
    /// Buffer sequence number.
    pub seq: u64,
    /// Arrival time, epoch ms.
    pub arrival_ms: i64,
    /// Payload.
    pub data: &'a [u8],
}

/// A delivery stream read back from disk.
pub struct Recovered {
    /// Settings and status.
    pub snapshot: Snapshot,
    /// Undelivered records, cursor, checkpoint and pending delivery.
    pub buffer: Buffer,
}

impl Durable {
    /// Firehose's keyspaces in `storage`.
    pub fn open(storage: Arc<Storage>) -> Result<Durable, StorageError> {
        Ok(Durable {
            streams: storage.keyspace("firehose_streams")?,
            records: storage.keyspace("firehose_records")?,
            progress: storage.keyspace("firehose_progress")?,
            storage,
            #[cfg(test)]
            before_save: parking_lot::Mutex::new(None),
        })
    }

    /// Stores a stream's settings and status.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), AwsError> {
        #[cfg(test)]
        if let Some(hook) = self.before_save.lock().clone() {
            hook()?;
        }
        let value = serde_json::to_vec(snapshot).expect("snapshots serialise");
        let mut batch = self.storage.batch();
        batch.put(&self.streams, &snapshot.tag.to_be_bytes(), &value);
        self.storage.commit(batch).map_err(internal)
    }

    /// Stores accepted records (and the source checkpoint they advance to) in one batch.
    pub fn append(
        &self,
        tag: u64,
        records: &[NewRecord<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), AwsError> {
        let mut batch = self.storage.batch();
        let mut value = Vec::new();
        for r in records {
            value.clear();
            value.extend_from_slice(&r.arrival_ms.to_be_bytes());
            value.extend_from_slice(r.data);
            batch.put(&self.records, &record_key(tag, r.seq), &value);
        }
        if let Some(c) = checkpoint {
            let value = serde_json::to_vec(c).expect("checkpoints serialise");
            batch.put(&self.progress, &progress_key(tag, b'k'), &value);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// Stores the delivery about to be made.
    pub fn begin(&self, tag: u64, pending: &Pending) -> Result<(), AwsError> {
        let value = serde_json::to_vec(pending).expect("pending deliveries serialise");
        let mut batch = self.storage.batch();
        batch.put(&self.progress, &progress_key(tag, b'p'), &value);
        self.storage.commit(batch).map_err(internal)
    }

    /// Records that a delivery is done: its records and the pending entry go, the cursor moves.
    pub fn complete(&self, tag: u64, pending: &Pending) -> Result<(), AwsError> {
        let mut batch = self.storage.batch();
        for seq in pending.first..=pending.last {
            batch.delete(&self.records, &record_key(tag, seq));
        }
        batch.delete(&self.progress, &progress_key(tag, b'p'));
        batch.put(
            &self.progress,
            &progress_key(tag, b'c'),
            &(pending.last + 1).to_be_bytes(),
        );
        self.storage.commit(batch).map_err(internal)
    }

    /// Removes a deleted stream and everything it left.
    pub fn forget(&self, tag: u64) -> Result<(), AwsError> {
        let mut batch = self.storage.batch();
        batch.delete(&self.streams, &tag.to_be_bytes());
        for entry in self.storage.scan(&self.records, &tag.to_be_bytes()) {
            let (key, _) = entry.map_err(internal)?;
            batch.delete(&self.records, &key);
        }
        for kind in [b'c', b'p', b'k'] {
            batch.delete(&self.progress, &progress_key(tag, kind));
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// The stored buffer of the stream with incarnation `tag`: undelivered records, cursor,
    /// pending delivery and source checkpoint.
    pub fn load_buffer(&self, tag: u64) -> Result<Buffer, StorageError> {
        let mut buffer = Buffer::default();
        for entry in self.storage.scan(&self.records, &tag.to_be_bytes()) {
            let (key, value) = entry?;
            let (Some(seq), Some(arrival)) = (
                key.get(8..16).and_then(|k| k.try_into().ok()),
                value.get(..8).and_then(|v| v.try_into().ok()),
            ) else {
                continue;
            };
            let seq = u64::from_be_bytes(seq);
            buffer.bytes += value.len() - 8;
            buffer.records.push_back(Buffered {
                seq,
                arrival_ms: i64::from_be_bytes(arrival),
                data: bytes::Bytes::copy_from_slice(&value[8..]),
            });
            buffer.next_seq = buffer.next_seq.max(seq + 1);
        }
        for entry in self.storage.scan(&self.progress, &tag.to_be_bytes()) {
            let (key, value) = entry?;
            match key.get(8) {
                Some(b'c') => {
                    if let Some(c) = value.get(..8).and_then(|v| v.try_into().ok()) {
                        buffer.next_seq = buffer.next_seq.max(u64::from_be_bytes(c));
                    }
                }
                Some(b'p') => buffer.pending = serde_json::from_slice(&value).ok(),
                Some(b'k') => buffer.checkpoint = serde_json::from_slice(&value).ok(),
                _ => {}
            }
        }
        Ok(buffer)
    }

    /// Every stored delivery stream with its buffer.
    pub fn load(&self) -> Result<Vec<Recovered>, StorageError> {
        let mut out = Vec::new();
        for entry in self.storage.scan(&self.streams, b"") {
            let (key, value) = entry?;
            let Ok(snapshot) = serde_json::from_slice::<Snapshot>(&value) else {
                tracing::error!(
                    key = ?key,
                    "skipping a stored delivery stream that cannot be decoded"
                );
                continue;
            };
            let buffer = self.load_buffer(snapshot.tag)?;
            out.push(Recovered { snapshot, buffer });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_delivery_is_replayed_with_its_records_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let pending = Pending {
            first: 0,
            last: 1,
            key: "2026/01/01/00/ds-1-2026-01-01-00-00-00-uuid".into(),
            started_ms: 5,
            http: false,
        };
        {
            let storage = Arc::new(Storage::open(dir.path()).unwrap());
            let d = Durable::open(storage).unwrap();
            let records = [
                NewRecord {
                    seq: 0,
                    arrival_ms: 1,
                    data: b"a",
                },
                NewRecord {
                    seq: 1,
                    arrival_ms: 2,
                    data: b"b",
                },
                NewRecord {
                    seq: 2,
                    arrival_ms: 3,
                    data: b"c",
                },
            ];
            d.append(7, &records, None).unwrap();
            d.begin(7, &pending).unwrap();
            // The process dies here: after the object was written, before `complete`.
        }
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let d = Durable::open(storage).unwrap();
        let buffer = d.load_buffer(7).unwrap();
        assert_eq!(buffer.records.len(), 3);
        assert_eq!(buffer.next_seq, 3);
        assert_eq!(buffer.pending.as_ref(), Some(&pending));
        d.complete(7, &pending).unwrap();
        let left: Vec<_> = d
            .storage
            .scan(&d.records, &7u64.to_be_bytes())
            .map(|e| e.unwrap().0)
            .collect();
        assert_eq!(left, vec![record_key(7, 2).to_vec()]);
        let cursor = d
            .storage
            .scan(&d.progress, &7u64.to_be_bytes())
            .map(|e| e.unwrap())
            .find(|(k, _)| k[8] == b'c')
            .map(|(_, v)| u64::from_be_bytes(v[..8].try_into().unwrap()));
        assert_eq!(cursor, Some(2));
        let buffer = d.load_buffer(7).unwrap();
        assert_eq!(
            (buffer.records.len(), buffer.next_seq, buffer.pending),
            (1, 3, None)
        );
    }
}
