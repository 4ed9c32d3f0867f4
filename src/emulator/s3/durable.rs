//! S3 state on disk (`--data-dir`): one entry per bucket (keyed by name), per object (keyed
//! by bucket and key, description and bytes in one value so they commit together), per
//! in-progress multipart upload and per uploaded part. Every change is committed before the
//! request is acknowledged.

use std::sync::Arc;

use bytes::Bytes;
use fjall::Keyspace;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::S3Error;
use super::multipart::{Part, PartMeta, Upload, UploadInfo};
use super::state::{BucketInfo, Object, ObjectMeta};
use crate::emulator::storage::{Batch, Storage, StorageError};

/// S3's keyspaces in the data directory.
pub struct Durable {
    storage: Arc<Storage>,
    buckets: Keyspace,
    objects: Keyspace,
    uploads: Keyspace,
    parts: Keyspace,
    /// Unit tests: run before every commit, to observe what is visible meanwhile, to hold a
    /// commit back, or to make it fail.
    #[cfg(test)]
    pub(super) before_commit: parking_lot::Mutex<Option<CommitHook>>,
}

/// A unit test's [`Durable::before_commit`] hook.
#[cfg(test)]
pub(super) type CommitHook = Arc<dyn Fn() -> Result<(), S3Error> + Send + Sync>;

/// A bucket as stored: what it was created with, and its tags.
#[derive(Serialize, serde::Deserialize)]
struct StoredBucket {
    #[serde(flatten)]
    info: BucketInfo,
    #[serde(default)]
    tags: Vec<(String, String)>,
}

/// A bucket read back from disk, with its objects and uploads.
pub struct RecoveredBucket {
    /// Name.
    pub name: String,
    /// Owner, region, creation time.
    pub info: BucketInfo,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Objects by key.
    pub objects: Vec<(String, Object)>,
    /// Multipart uploads by ID.
    pub uploads: Vec<(String, Upload)>,
}

fn internal(e: StorageError) -> S3Error {
    tracing::error!(error = %e, "storage failure");
    S3Error::internal(format!("The emulator could not store the change: {e}"))
}

/// `bucket` NUL `rest`: bucket names never hold a NUL, so a bucket's entries are one prefix.
fn scoped(bucket: &str, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(bucket.len() + 1 + rest.len());
    key.extend_from_slice(bucket.as_bytes());
    key.push(0);
    key.extend_from_slice(rest);
    key
}

fn part_key(bucket: &str, upload_id: &str, part: u32) -> Vec<u8> {
    let mut rest = upload_id.as_bytes().to_vec();
    rest.push(0);
    rest.extend_from_slice(&part.to_be_bytes());
    scoped(bucket, &rest)
}

/// `[u32 length of the JSON description][description][bytes]`.
fn encode<T: Serialize>(meta: &T, body: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(meta).expect("S3 descriptions serialise");
    let mut value = Vec::with_capacity(4 + json.len() + body.len());
    value.extend_from_slice(&(json.len() as u32).to_be_bytes());
    value.extend_from_slice(&json);
    value.extend_from_slice(body);
    value
}

fn decode<T: DeserializeOwned>(value: &[u8]) -> Option<(T, Bytes)> {
    let len = u32::from_be_bytes(value.get(..4)?.try_into().ok()?) as usize;
    let json = value.get(4..4 + len)?;
    let meta = serde_json::from_slice(json).ok()?;
    Some((meta, Bytes::copy_from_slice(&value[4 + len..])))
}

impl Durable {
    /// Opens S3's keyspaces.
    pub fn open(storage: Arc<Storage>) -> Result<Durable, StorageError> {
        Ok(Durable {
            buckets: storage.keyspace("s3_buckets")?,
            objects: storage.keyspace("s3_objects")?,
            uploads: storage.keyspace("s3_uploads")?,
            parts: storage.keyspace("s3_parts")?,
            storage,
            #[cfg(test)]
            before_commit: parking_lot::Mutex::new(None),
        })
    }

    fn commit(&self, batch: Batch) -> Result<(), S3Error> {
        #[cfg(test)]
        {
            let hook = self.before_commit.lock().clone();
            if let Some(hook) = hook {
                hook()?;
            }
        }
        self.storage.commit(batch).map_err(internal)
    }

    /// Stores a bucket (new, or with new tags).
    pub fn put_bucket(
        &self,
        name: &str,
        info: &BucketInfo,
        tags: &[(String, String)],
    ) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        let stored = StoredBucket {
            info: info.clone(),
            tags: tags.to_vec(),
        };
        let value = serde_json::to_vec(&stored).expect("bucket info serialises");
        batch.put(&self.buckets, name.as_bytes(), &value);
        self.commit(batch)
    }

    /// Removes a bucket and its in-progress uploads (it holds no object).
    pub fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        batch.delete(&self.buckets, name.as_bytes());
        for table in [&self.uploads, &self.parts, &self.objects] {
            for entry in self.storage.scan(table, &scoped(name, b"")) {
                let (key, _) = entry.map_err(internal)?;
                batch.delete(table, &key);
            }
        }
        self.commit(batch)
    }

    /// Stores an object (replacing any at the key).
    pub fn put_object(&self, bucket: &str, key: &str, object: &Object) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        batch.put(
            &self.objects,
            &scoped(bucket, key.as_bytes()),
            &encode(&object.meta, &object.body),
        );
        self.commit(batch)
    }

    /// Removes objects.
    pub fn delete_objects<'a>(
        &self,
        bucket: &str,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        for key in keys {
            batch.delete(&self.objects, &scoped(bucket, key.as_bytes()));
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.commit(batch)
    }

    /// Stores a new multipart upload.
    pub fn put_upload(&self, bucket: &str, id: &str, info: &UploadInfo) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        let value = serde_json::to_vec(info).expect("upload info serialises");
        batch.put(&self.uploads, &scoped(bucket, id.as_bytes()), &value);
        self.commit(batch)
    }

    /// Stores one part of an upload (replacing any with its number).
    pub fn put_part(
        &self,
        bucket: &str,
        id: &str,
        number: u32,
        part: &Part,
    ) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        batch.put(
            &self.parts,
            &part_key(bucket, id, number),
            &encode(&part.meta, &part.body),
        );
        self.commit(batch)
    }

    /// Ends an upload: removes it and its parts and, when it completed, stores the object, all
    /// in one commit.
    pub fn finish_upload(
        &self,
        bucket: &str,
        id: &str,
        parts: impl IntoIterator<Item = u32>,
        completed: Option<(&str, &Object)>,
    ) -> Result<(), S3Error> {
        let mut batch = self.storage.batch();
        batch.delete(&self.uploads, &scoped(bucket, id.as_bytes()));
        for number in parts {
            batch.delete(&self.parts, &part_key(bucket, id, number));
        }
        if let Some((key, object)) = completed {
            batch.put(
                &self.objects,
                &scoped(bucket, key.as_bytes()),
                &encode(&object.meta, &object.body),
            );
        }
        self.commit(batch)
    }

    /// Everything stored.
    pub fn load(&self) -> Result<Vec<RecoveredBucket>, StorageError> {
        let mut out = Vec::new();
        for entry in self.storage.scan(&self.buckets, b"") {
            let (key, value) = entry?;
            let name = String::from_utf8_lossy(&key).into_owned();
            let Ok(StoredBucket { info, tags }) = serde_json::from_slice::<StoredBucket>(&value)
            else {
                tracing::error!(bucket = %name, "skipping a stored bucket that cannot be decoded");
                continue;
            };
            let prefix = scoped(&name, b"");
            let mut objects = Vec::new();
            for entry in self.storage.scan(&self.objects, &prefix) {
                let (key, value) = entry?;
                let key = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                match decode::<ObjectMeta>(&value) {
                    Some((meta, body)) => objects.push((key, Object { meta, body })),
                    None => {
                        tracing::error!(bucket = %name, %key, "skipping a stored object that cannot be decoded")
                    }
                }
            }
            let mut uploads = Vec::new();
            for entry in self.storage.scan(&self.uploads, &prefix) {
                let (key, value) = entry?;
                let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                let Ok(info) = serde_json::from_slice::<UploadInfo>(&value) else {
                    tracing::error!(bucket = %name, upload = %id, "skipping a stored upload that cannot be decoded");
                    continue;
                };
                let mut upload = Upload::new(info);
                let part_prefix = scoped(&name, format!("{id}\0").as_bytes());
                for entry in self.storage.scan(&self.parts, &part_prefix) {
                    let (key, value) = entry?;
                    let Some(number) = key
                        .get(part_prefix.len()..)
                        .and_then(|n| <[u8; 4]>::try_from(n).ok())
                        .map(u32::from_be_bytes)
                    else {
                        continue;
                    };
                    if let Some((meta, body)) = decode::<PartMeta>(&value) {
                        upload.parts.insert(number, Part { meta, body });
                    }
                }
                uploads.push((id, upload));
            }
            out.push(RecoveredBucket {
                name,
                info,
                tags,
                objects,
                uploads,
            });
        }
        Ok(out)
    }
}
