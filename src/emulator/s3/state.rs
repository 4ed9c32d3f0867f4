//! S3's state in memory: the global namespace of buckets, each owned by an account, and each
//! bucket's objects in key order (so listings are range scans). Object bodies are
//! reference-counted `Bytes`: a GetObject or a range of one is a slice, never a copy.
//!
//! Locking: the bucket map and each bucket's object map are behind read-write locks held only
//! for map operations. Writes to one bucket are ordered by its `writes` mutex, held while the
//! change is stored and then applied, so that storage and memory agree on which of two racing
//! writes came last; readers never wait for storage.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::checksum::Checksum;
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
    /// Orders the writes to this bucket (see the module doc); `true` once deleted.
    pub writes: Mutex<bool>,
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
            writes: Mutex::new(false),
            tags: RwLock::default(),
        }
    }

    /// The object at `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.objects.read().get(key).cloned()
    }
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
