//! Durable storage for `--data-dir`: fjall, an embedded log-structured key-value store.
//!
//! Why fjall: every write goes first to its journal, and a write batch committed with
//! [`fjall::PersistMode::Buffer`] is in the operating system's buffers when `commit` returns,
//! so an acknowledged write survives `kill -9` of the emulator without an `fsync` per request
//! (which would cap throughput at the disk's sync rate). Recovery after a crash replays the
//! journal, checksummed; keyspaces and prefix scans map directly onto streams and shards; and
//! compaction reclaims the space of deleted and expired records in the background. It is pure
//! Rust, so it builds from crates.io alone.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

/// A storage error, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("storage: {action}: {source}")]
pub struct StorageError {
    action: &'static str,
    #[source]
    source: fjall::Error,
}

fn wrap(action: &'static str) -> impl FnOnce(fjall::Error) -> StorageError {
    move |source| StorageError { action, source }
}

/// An open data directory with one keyspace per purpose.
pub struct Storage {
    db: Database,
}

/// A set of writes applied atomically and durably (against process crashes) by
/// [`Storage::commit`].
pub struct Batch {
    inner: fjall::OwnedWriteBatch,
}

impl Storage {
    /// Opens (creating if needed) the store in `dir`, replaying its journal after a crash.
    pub fn open(dir: &Path) -> Result<Storage, StorageError> {
        let db = Database::builder(dir)
            .worker_threads(1)
            .cache_size(8 << 20)
            .open()
            .map_err(wrap("opening the data directory"))?;
        Ok(Storage { db })
    }

    /// The keyspace `name`, created on first use.
    pub fn keyspace(&self, name: &str) -> Result<Keyspace, StorageError> {
        self.db
            .keyspace(name, KeyspaceCreateOptions::default)
            .map_err(wrap("opening a keyspace"))
    }

    /// A new batch.
    pub fn batch(&self) -> Batch {
        Batch {
            inner: self.db.batch().durability(Some(PersistMode::Buffer)),
        }
    }

    /// Applies a batch; when this returns, the writes survive a crash of the process.
    pub fn commit(&self, batch: Batch) -> Result<(), StorageError> {
        batch
            .inner
            .commit()
            .map_err(wrap("committing a write batch"))
    }

    /// Every key and value under `prefix` in `keyspace`, in key order.
    pub fn scan(
        &self,
        keyspace: &Keyspace,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StorageError>> {
        keyspace.prefix(prefix).map(|guard| {
            guard
                .into_inner()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(wrap("reading"))
        })
    }
}

impl Batch {
    /// Sets `key` to `value`.
    pub fn put(&mut self, keyspace: &Keyspace, key: &[u8], value: &[u8]) {
        self.inner.insert(keyspace, key, value);
    }

    /// Removes `key`.
    pub fn delete(&mut self, keyspace: &Keyspace, key: &[u8]) {
        self.inner.remove(keyspace, key);
    }

    /// True when the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}
