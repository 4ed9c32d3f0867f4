//! S3's state in memory: the global namespace of buckets, each owned by an account, and each
//! bucket's objects in key order (so listings are range scans). Object bodies are
//! reference-counted `Bytes`: a GetObject or a range of one is a slice, never a copy.
//!
//! Locking: the bucket map and each bucket's object map are behind read-write locks held only
//! for map operations; readers never wait for storage. A write is stored first and then
//! published in memory, so that what was acknowledged is stored. Two writes of the same key
//! are ordered by one of the bucket's key locks (a key hashes to one of [`KEY_LOCKS`]), held
//! from the precondition check through the store to the publication, so that storage and
//! memory agree on which came last; writes of other keys of the bucket store in parallel
//! (they only share the bucket's `writes` lock). Bucket-wide changes (DeleteBucket, bucket
//! tags) take `writes` exclusively, so they wait for the writes in progress and hold back new
//! ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde::{Deserialize, Serialize};

use super::checksum::Checksum;
use super::errors::S3Error;
use super::multipart::Upload;

/// The stored description of an object (everything but its bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The ETag, quoted (`"md5hex"` or `"md5hex-N"`).
    pub etag: String,
    /// When it was written, epoch milliseconds.
    pub last_modified_ms: i64,
    /// `Content-Type` as given (`None`: S3 answers `binary/octet-stream`).
    pub content_type: Option<String>,
    /// Other standard headers stored with the object, lowercase names (`content-encoding`,
    /// `content-disposition`, `content-language`, `cache-control`, `expires`).
    pub headers: Vec<(String, String)>,
    /// User metadata (`x-amz-meta-*`), names lowercased without the prefix.
    pub metadata: Vec<(String, String)>,
    /// Object tags, in the order given.
    pub tags: Vec<(String, String)>,
    /// The object's checksum (the client's, or a CRC64NVME S3 computes).
    pub checksum: Option<Checksum>,
    /// Sizes of the parts of a multipart upload, in order; empty for a single upload.
    pub parts: Vec<u64>,
}

/// An object: description and bytes.
#[derive(Debug)]
pub struct Object {
    /// Description.
    pub meta: ObjectMeta,
    /// Bytes.
    pub body: Bytes,
}

/// How a bucket is stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BucketInfo {
    /// Owning account.
    pub owner: String,
    /// Region it was created in.
    pub region: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: i64,
}

/// A bucket with its objects and in-progress multipart uploads.
#[derive(Debug)]
pub struct Bucket {
    /// Name.
    pub name: String,
    /// Owner, region, creation time.
    pub info: BucketInfo,
    /// Objects by key.
    pub objects: RwLock<BTreeMap<String, Arc<Object>>>,
    /// In-progress multipart uploads by upload ID.
    pub uploads: Mutex<BTreeMap<String, Upload>>,
    /// Shared by the writes in progress, exclusive for bucket-wide changes (see the module
    /// doc); `true` once deleted.
    writes: RwLock<bool>,
    /// Order the writes of each key (see the module doc).
    keys: Box<[Mutex<()>]>,
    /// The bucket's tags (PutBucketTagging), in the order given.
    pub tags: RwLock<Vec<(String, String)>>,
}

impl Bucket {
    /// A bucket with nothing in it.
    pub fn new(name: String, info: BucketInfo) -> Bucket {
        Bucket {
            name,
            info,
            objects: RwLock::default(),
            uploads: Mutex::default(),
            writes: RwLock::new(false),
            keys: (0..KEY_LOCKS).map(|_| Mutex::new(())).collect(),
            tags: RwLock::default(),
        }
    }

    /// The object at `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.objects.read().get(key).cloned()
    }

    /// The right to change `keys` (objects, or the uploads and parts of uploads of them):
    /// waits for the writes of the same keys in progress and for a bucket-wide change;
    /// `NoSuchBucket` once the bucket is deleted. Hold it from the check of what the change
    /// depends on until the change is stored and published.
    pub fn write_keys(&self, keys: &[&str]) -> Result<KeyWrites<'_>, S3Error> {
        let bucket = self.writes.read();
        if *bucket {
            return Err(S3Error::no_such_bucket(&self.name));
        }
        // Taken in index order, so that two multi-key writes never wait for each other.
        let mut stripes: Vec<usize> = keys.iter().map(|k| stripe(k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let keys = stripes.into_iter().map(|i| self.keys[i].lock()).collect();
        Ok(KeyWrites {
            _keys: keys,
            _bucket: bucket,
        })
    }

    /// The right to change the bucket as a whole: waits for every write in progress and holds
    /// back new ones; `NoSuchBucket` once deleted. Set the flag it guards to `true` when the
    /// change deletes the bucket.
    pub fn write_bucket(&self) -> Result<RwLockWriteGuard<'_, bool>, S3Error> {
        let bucket = self.writes.write();
        if *bucket {
            return Err(S3Error::no_such_bucket(&self.name));
        }
        Ok(bucket)
    }
}

/// How many key locks a bucket has: writes of keys that hash alike wait for each other.
pub const KEY_LOCKS: usize = 32;

/// The key lock of `key`.
fn stripe(key: &str) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % KEY_LOCKS
}

/// Held while keys of a bucket are changed (see [`Bucket::write_keys`]).
pub struct KeyWrites<'a> {
    // Released before the bucket's lock (fields drop in order).
    _keys: Vec<MutexGuard<'a, ()>>,
    _bucket: RwLockReadGuard<'a, bool>,
}

/// Every bucket, by name (one namespace for all accounts, as in AWS), and the names of the
/// buckets being created: a new bucket is stored before it is published, and its name is
/// reserved meanwhile so that no other request can take it or see a bucket not yet stored.
#[derive(Debug, Default)]
pub struct Buckets {
    map: RwLock<BTreeMap<String, Arc<Bucket>>>,
    creating: Mutex<BTreeSet<String>>,
}

/// Why a bucket name cannot be reserved.
#[derive(Debug)]
pub enum Taken {
    /// A bucket holds the name.
    By(Arc<Bucket>),
    /// Another request is creating a bucket of that name right now.
    Creating,
}

impl Buckets {
    /// The bucket `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Bucket>> {
        self.map.read().get(name).cloned()
    }

    /// Every bucket, in name order.
    pub fn all(&self) -> Vec<Arc<Bucket>> {
        self.map.read().values().cloned().collect()
    }

    /// Adds `bucket` unless its name is taken; the bucket holding the name otherwise.
    pub fn insert(&self, bucket: Arc<Bucket>) -> Result<(), Arc<Bucket>> {
        let mut map = self.map.write();
        if let Some(existing) = map.get(&bucket.name) {
            return Err(existing.clone());
        }
        map.insert(bucket.name.clone(), bucket);
        Ok(())
    }

    /// Reserves `name` for a bucket about to be stored, unless a bucket holds it or another
    /// request has reserved it. The reservation ends with [`Buckets::publish`] or
    /// [`Buckets::release`].
    pub fn reserve(&self, name: &str) -> Result<(), Taken> {
        let map = self.map.read();
        if let Some(existing) = map.get(name) {
            return Err(Taken::By(existing.clone()));
        }
        if !self.creating.lock().insert(name.to_owned()) {
            return Err(Taken::Creating);
        }
        Ok(())
    }

    /// Makes a stored bucket whose name was reserved visible, ending the reservation.
    pub fn publish(&self, bucket: Arc<Bucket>) {
        let mut map = self.map.write();
        self.creating.lock().remove(&bucket.name);
        map.insert(bucket.name.clone(), bucket);
    }

    /// Ends the reservation of `name` without a bucket (storing it failed).
    pub fn release(&self, name: &str) {
        self.creating.lock().remove(name);
    }

    /// Removes the bucket `name`.
    pub fn remove(&self, name: &str) {
        self.map.write().remove(name);
    }
}
