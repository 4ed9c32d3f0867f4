//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts and ListMultipartUploads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::{Bytes, BytesMut};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::checksum::{Algorithm, Checksum};
use super::conditions::WriteCondition;
use super::errors::{S3Error, S3Result};
use super::objects::{
    check_key, checksum_elements, md5_of, meta_from_headers, parse_etag, set_encryption_header,
};
use super::state::{Bucket, Object, ObjectMeta};
use super::{Call, S3, empty, hex, owner_id, payload, set_header, xml, xml_ok};
use crate::emulator::dates;
use crate::emulator::rest::RestResponse;

/// What an upload was created with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadInfo {
    /// The object key.
    pub key: String,
    /// The account that started it.
    pub owner: String,
    /// When it was started, epoch milliseconds.
    pub initiated_ms: i64,
    /// The object's headers, metadata and tags (ETag and checksum filled on completion).
    pub meta: ObjectMeta,
    /// The checksum algorithm the parts carry, if one was named.
    pub checksum_algorithm: Option<Algorithm>,
    /// True for `x-amz-checksum-type: FULL_OBJECT`, false for composite.
    pub full_object: bool,
}

/// A stored part's description.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartMeta {
    /// The part's ETag, quoted.
    pub etag: String,
    /// When it was uploaded, epoch milliseconds.
    pub last_modified_ms: i64,
    /// The part's checksum.
    pub checksum: Option<Checksum>,
}

/// One uploaded part.
#[derive(Clone, Debug)]
pub struct Part {
    /// Description.
    pub meta: PartMeta,
    /// Bytes.
    pub body: Bytes,
}

/// An in-progress upload.
#[derive(Clone, Debug)]
pub struct Upload {
    /// What it was created with.
    pub info: UploadInfo,
    /// Parts by number.
    pub parts: BTreeMap<u32, Part>,
}

impl Upload {
    /// An upload with no part yet.
    pub fn new(info: UploadInfo) -> Upload {
        Upload {
            info,
            parts: BTreeMap::new(),
        }
    }
}

/// The smallest size of every part but the last, in bytes (5 MiB).
pub const MIN_PART_BYTES: u64 = 5 << 20;

/// A new upload ID: unique within the process and across restarts, and greater (as text) than
/// every ID made before it, so that the uploads of one key in upload-ID order are in the order
/// they were initiated. ListMultipartUploads lists them in that order and resumes after an
/// `upload-id-marker` by comparing IDs as text, as S3 does; both agree only because of this.
fn new_upload_id(bucket: &str, key: &str, now_ms: i64) -> String {
    use sha2::Digest;
    static LAST: AtomicU64 = AtomicU64::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(micros.max(last + 1))
        })
        .unwrap_or_default();
    let order = micros.max(previous + 1);
    let digest = sha2::Sha256::digest(format!("{bucket}/{key}/{now_ms}/{order}").as_bytes());
    format!("{order:016x}{}", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// Reads a `partNumber` (1 to 10000).
fn part_number(call: &Call<'_>) -> S3Result<u32> {
    let text = call.param("partNumber").unwrap_or_default();
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                text,
            )
        })
}

/// The ETag of a multipart object: MD5 of the concatenated part MD5s, dash, part count.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut joined = Vec::with_capacity(16 * part_md5s.len());
    for md5 in part_md5s {
        joined.extend_from_slice(md5);
    }
    format!("\"{}-{}\"", hex(&md5_of(&joined)), part_md5s.len())
}

impl S3 {
    /// The upload `call`'s `uploadId` names, for `call`'s key (`NoSuchUpload` otherwise).
    fn with_upload<T>(
        &self,
        bucket: &Bucket,
        call: &Call<'_>,
        f: impl FnOnce(&mut Upload) -> S3Result<T>,
    ) -> S3Result<T> {
        let id = call.param("uploadId").unwrap_or_default();
        let mut uploads = bucket.uploads.lock();
        match uploads.get_mut(id) {
            Some(upload) if upload.info.key == call.key => f(upload),
            _ => Err(S3Error::no_such_upload(id)),
        }
    }

    /// CreateMultipartUpload.
    pub(super) fn create_multipart_upload(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        check_key(&call.key)?;
        let bucket = self.owned_bucket(call)?;
        let meta = meta_from_headers(call)?;
        let checksum_algorithm = match call.header("x-amz-checksum-algorithm") {
            None => None,
            Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
                S3Error::invalid_request(
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                )
            })?),
        };
        let full_object = match call.header("x-amz-checksum-type") {
            None => checksum_algorithm == Some(Algorithm::Crc64Nvme),
            Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => true,
            Some(t) if t.eq_ignore_ascii_case("COMPOSITE") => false,
            Some(other) => {
                return Err(S3Error::invalid_request(format!(
                    "Value for x-amz-checksum-type header is invalid: {other}"
                )));
            }
        };
        match (checksum_algorithm, full_object) {
            (Some(Algorithm::Sha1 | Algorithm::Sha256), true)
            | (Some(Algorithm::Crc64Nvme), false) => {
                return Err(S3Error::invalid_request(format!(
                    "The {} checksum type cannot be used with the {} checksum algorithm.",
                    if full_object {
                        "FULL_OBJECT"
                    } else {
                        "COMPOSITE"
                    },
                    checksum_algorithm
                        .map_or("", |a| a.name())
                        .to_ascii_lowercase()
                )));
            }
            (None, true) => {
                return Err(S3Error::invalid_request(
                    "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
                ));
            }
            _ => {}
        }
        let now = self.now_ms();
        let id = new_upload_id(&bucket.name, &call.key, now);
        let info = UploadInfo {
            key: call.key.clone(),
            owner: call.ctx.account.clone(),
            initiated_ms: now,
            meta,
            checksum_algorithm,
            full_object,
        };
        {
            let _writing = bucket.write_keys(&[&call.key])?;
            if let Some(durable) = &self.durable {
                durable.put_upload(&bucket.name, &id, &info)?;
            }
            bucket.uploads.lock().insert(id.clone(), Upload::new(info));
        }
        let mut out = format!("<InitiateMultipartUploadResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Bucket", &bucket.name);
        xml::element(&mut out, "Key", &call.key);
        xml::element(&mut out, "UploadId", &id);
        out.push_str("</InitiateMultipartUploadResult>");
        let mut answer = xml_ok(out);
        if let Some(algorithm) = checksum_algorithm {
            set_header(&mut answer, "x-amz-checksum-algorithm", algorithm.name());
            set_header(
                &mut answer,
                "x-amz-checksum-type",
                if full_object {
                    "FULL_OBJECT"
                } else {
                    "COMPOSITE"
                },
            );
        }
        Ok(answer)
    }

    /// Stores part `number` of the upload `call` names.
    fn store_part(
        &self,
        bucket: &Bucket,
        call: &Call<'_>,
        number: u32,
        body: Bytes,
        md5: [u8; 16],
        checksum: Option<Checksum>,
    ) -> S3Result<Part> {
        let id = call.param("uploadId").unwrap_or_default().to_owned();
        let algorithm = self.with_upload(bucket, call, |u| Ok(u.info.checksum_algorithm))?;
        if let (Some(expected), Some(sent)) = (algorithm, &checksum)
            && sent.algorithm != expected
        {
            return Err(S3Error::invalid_request(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                expected.name().to_ascii_lowercase(),
                sent.algorithm.name().to_ascii_lowercase()
            )));
        }
        let checksum = checksum.or_else(|| {
            algorithm.map(|a| Checksum {
                algorithm: a,
                value: a.encode(&body),
                composite: false,
            })
        });
        let part = Part {
            meta: PartMeta {
                etag: format!("\"{}\"", hex(&md5)),
                last_modified_ms: self.now_ms(),
                checksum,
            },
            body,
        };
        let writing = bucket.write_keys(&[&call.key])?;
        self.with_upload(bucket, call, |_| Ok(()))?;
        if let Some(durable) = &self.durable {
            durable.put_part(&bucket.name, &id, number, &part)?;
        }
        self.with_upload(bucket, call, |u| {
            u.parts.insert(number, part.clone());
            Ok(())
        })?;
        drop(writing);
        Ok(part)
    }

    /// UploadPart.
    pub(super) fn upload_part(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let number = part_number(call)?;
        self.with_upload(&bucket, call, |_| Ok(()))?;
        let payload = payload::read(call.req)?;
        let part = self.store_part(
            &bucket,
            call,
            number,
            payload.body,
            payload.md5,
            payload.checksum,
        )?;
        let mut answer = empty(StatusCode::OK);
        set_header(&mut answer, "etag", &part.meta.etag);
        set_encryption_header(&mut answer);
        if let Some(checksum) = &part.meta.checksum {
            set_header(&mut answer, checksum.algorithm.header(), &checksum.value);
        }
        Ok(answer)
    }

    /// UploadPartCopy: a part from (a range of) an existing object.
    pub(super) fn upload_part_copy(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let number = part_number(call)?;
        self.with_upload(&bucket, call, |_| Ok(()))?;
        let (_, _, source) = self.copy_source(call)?;
        let size = source.body.len() as u64;
        let body = match call.header("x-amz-copy-source-range") {
            None => source.body.clone(),
            Some(range) => {
                let invalid = || {
                    S3Error::invalid_argument(
                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                        "x-amz-copy-source-range",
                        range,
                    )
                };
                let (first, last) = range
                    .trim()
                    .strip_prefix("bytes=")
                    .and_then(|r| r.split_once('-'))
                    .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
                    .filter(|(a, b)| a <= b)
                    .ok_or_else(invalid)?;
                if last >= size {
                    return Err(S3Error::invalid_request(format!(
                        "The specified copy range is invalid for the source object size: {size}"
                    )));
                }
                source.body.slice(first as usize..=last as usize)
            }
        };
        let md5 = md5_of(&body);
        let part = self.store_part(&bucket, call, number, body, md5, None)?;
        let mut out = String::from("<CopyPartResult>");
        xml::element(
            &mut out,
            "LastModified",
            &dates::iso8601_millis(part.meta.last_modified_ms),
        );
        xml::element(&mut out, "ETag", &part.meta.etag);
        if let Some(checksum) = &part.meta.checksum {
            xml::element(&mut out, checksum.algorithm.element(), &checksum.value);
        }
        out.push_str("</CopyPartResult>");
        Ok(xml_ok(out))
    }

    /// CompleteMultipartUpload: checks the part list (ascending, known parts with their
    /// ETags, all but the last at least 5 MiB) and stores the object.
    pub(super) fn complete_multipart_upload(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let id = call.param("uploadId").unwrap_or_default().to_owned();
        let upload = self.with_upload(&bucket, call, |u| Ok(u.clone()))?;
        let condition =
            WriteCondition::from_headers(call.header("if-match"), call.header("if-none-match"))?;
        let body = payload::read(call.req)?.body;
        let root = xml::parse(&body)
            .filter(|r| r.name == "CompleteMultipartUpload")
            .ok_or_else(S3Error::malformed_xml)?;
        let composite = upload
            .info
            .checksum_algorithm
            .filter(|_| !upload.info.full_object);
        let mut listed: Vec<(u32, String)> = Vec::new();
        let mut listed_checksums: Vec<Option<String>> = Vec::new();
        for part in root.children_named("Part") {
            let number = part
                .child_text("PartNumber")
                .and_then(|n| n.trim().parse::<u32>().ok())
                .ok_or_else(S3Error::malformed_xml)?;
            let etag = part
                .child_text("ETag")
                .unwrap_or_default()
                .trim()
                .to_owned();
            listed.push((number, etag));
            listed_checksums.push(
                composite
                    .and_then(|a| part.child_text(a.element()))
                    .map(|c| c.trim().to_owned()),
            );
        }
        if listed.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::new(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
            .with("UploadId", &id));
        }
        let mut parts: Vec<&Part> = Vec::with_capacity(listed.len());
        for ((number, etag), checksum) in listed.iter().zip(&listed_checksums) {
            if let Some(algorithm) = composite
                && checksum.is_none()
            {
                return Err(S3Error::invalid_request(format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {number} in the request.",
                    algorithm.name().to_ascii_lowercase()
                )));
            }
            let found = upload
                .parts
                .get(number)
                .filter(|p| p.meta.etag.trim_matches('"') == etag.trim_matches('"'))
                .filter(|p| {
                    checksum.is_none()
                        || p.meta.checksum.as_ref().map(|c| &c.value) == checksum.as_ref()
                });
            let Some(part) = found else {
                return Err(S3Error::new(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                )
                .with("UploadId", &id)
                .with("PartNumber", number.to_string())
                .with("ETag", etag));
            };
            parts.push(part);
        }
        for (i, part) in parts.iter().enumerate().take(parts.len() - 1) {
            let size = part.body.len() as u64;
            if size < MIN_PART_BYTES {
                return Err(S3Error::new(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                )
                .with("ProposedSize", size.to_string())
                .with("MinSizeAllowed", MIN_PART_BYTES.to_string())
                .with("PartNumber", listed[i].0.to_string())
                .with("ETag", &part.meta.etag));
            }
        }
        let total: usize = parts.iter().map(|p| p.body.len()).sum();
        let joined = if parts.len() == 1 {
            parts[0].body.clone()
        } else {
            let mut joined = BytesMut::with_capacity(total);
            for part in &parts {
                joined.extend_from_slice(&part.body);
            }
            joined.freeze()
        };
        let md5s: Vec<[u8; 16]> = parts
            .iter()
            .map(|p| parse_etag(&p.meta.etag).unwrap_or_default())
            .collect();
        let checksum = match upload.info.checksum_algorithm {
            Some(algorithm) if !upload.info.full_object => {
                let mut raw = Vec::new();
                for part in &parts {
                    let value = part
                        .meta
                        .checksum
                        .as_ref()
                        .filter(|c| c.algorithm == algorithm)
                        .and_then(|c| STANDARD.decode(&c.value).ok())
                        .unwrap_or_else(|| algorithm.digest(&part.body));
                    raw.extend_from_slice(&value);
                }
                Checksum {
                    algorithm,
                    value: format!(
                        "{}-{}",
                        STANDARD.encode(algorithm.digest(&raw)),
                        parts.len()
                    ),
                    composite: true,
                }
            }
            algorithm => {
                let algorithm = algorithm.unwrap_or(Algorithm::Crc64Nvme);
                Checksum {
                    algorithm,
                    value: algorithm.encode(&joined),
                    composite: false,
                }
            }
        };
        let mut meta = upload.info.meta.clone();
        meta.etag = multipart_etag(&md5s);
        meta.checksum = Some(checksum);
        meta.parts = parts.iter().map(|p| p.body.len() as u64).collect();
        let numbers: Vec<u32> = upload.parts.keys().copied().collect();
        let object = {
            let _writing = bucket.write_keys(&[&call.key])?;
            self.with_upload(&bucket, call, |_| Ok(()))?;
            condition.check(
                &call.key,
                bucket
                    .get(&call.key)
                    .as_deref()
                    .map(|o| o.meta.etag.as_str()),
            )?;
            meta.last_modified_ms = self.now_ms();
            let object = Object { meta, body: joined };
            if let Some(durable) = &self.durable {
                durable.finish_upload(&bucket.name, &id, numbers, Some((&call.key, &object)))?;
            }
            bucket.uploads.lock().remove(&id);
            let object = Arc::new(object);
            bucket
                .objects
                .write()
                .insert(call.key.clone(), object.clone());
            object
        };
        let host = call.header("host").unwrap_or("localhost");
        let mut out = format!("<CompleteMultipartUploadResult xmlns=\"{}\">", xml::NS);
        xml::element(
            &mut out,
            "Location",
            &format!("http://{host}/{}/{}", bucket.name, call.key),
        );
        xml::element(&mut out, "Bucket", &bucket.name);
        xml::element(&mut out, "Key", &call.key);
        xml::element(&mut out, "ETag", &object.meta.etag);
        if let Some(checksum) = &object.meta.checksum {
            checksum_elements(&mut out, checksum);
        }
        out.push_str("</CompleteMultipartUploadResult>");
        let mut answer = xml_ok(out);
        set_encryption_header(&mut answer);
        Ok(answer)
    }

    /// AbortMultipartUpload: 204.
    pub(super) fn abort_multipart_upload(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let id = call.param("uploadId").unwrap_or_default().to_owned();
        let writing = bucket.write_keys(&[&call.key])?;
        let numbers: Vec<u32> =
            self.with_upload(&bucket, call, |u| Ok(u.parts.keys().copied().collect()))?;
        if let Some(durable) = &self.durable {
            durable.finish_upload(&bucket.name, &id, numbers, None)?;
        }
        bucket.uploads.lock().remove(&id);
        drop(writing);
        Ok(empty(StatusCode::NO_CONTENT))
    }

    /// ListParts (`max-parts`, `part-number-marker`).
    pub(super) fn list_parts(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let id = call.param("uploadId").unwrap_or_default().to_owned();
        let max = bounded(call, "max-parts", 1000)?.min(1000);
        let marker = bounded(call, "part-number-marker", 0)?.min(10_000) as u32;
        let upload = self.with_upload(&bucket, call, |u| Ok(u.clone()))?;
        let after: Vec<(&u32, &Part)> = upload.parts.range(marker + 1..).collect();
        let truncated = after.len() > max;
        let shown = &after[..after.len().min(max)];
        let mut out = format!("<ListPartsResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Bucket", &bucket.name);
        xml::element(&mut out, "Key", &call.key);
        xml::element(&mut out, "UploadId", &id);
        xml::element(&mut out, "PartNumberMarker", &marker.to_string());
        if let Some((last, _)) = shown.last() {
            xml::element(&mut out, "NextPartNumberMarker", &last.to_string());
        }
        xml::element(&mut out, "MaxParts", &max.to_string());
        xml::element(
            &mut out,
            "IsTruncated",
            if truncated { "true" } else { "false" },
        );
        for (number, part) in shown {
            out.push_str("<Part>");
            xml::element(&mut out, "PartNumber", &number.to_string());
            xml::element(
                &mut out,
                "LastModified",
                &dates::iso8601_millis(part.meta.last_modified_ms),
            );
            xml::element(&mut out, "ETag", &part.meta.etag);
            xml::element(&mut out, "Size", &part.body.len().to_string());
            if let Some(checksum) = &part.meta.checksum {
                xml::element(&mut out, checksum.algorithm.element(), &checksum.value);
            }
            out.push_str("</Part>");
        }
        let owner = owner_id(&upload.info.owner);
        out.push_str("<Initiator>");
        xml::element(&mut out, "ID", &owner);
        out.push_str("</Initiator><Owner>");
        xml::element(&mut out, "ID", &owner);
        out.push_str("</Owner>");
        xml::element(&mut out, "StorageClass", "STANDARD");
        if let Some(algorithm) = upload.info.checksum_algorithm {
            xml::element(&mut out, "ChecksumAlgorithm", algorithm.name());
            xml::element(
                &mut out,
                "ChecksumType",
                if upload.info.full_object {
                    "FULL_OBJECT"
                } else {
                    "COMPOSITE"
                },
            );
        }
        out.push_str("</ListPartsResult>");
        Ok(xml_ok(out))
    }

    /// ListMultipartUploads (`prefix`, `key-marker`, `upload-id-marker`, `max-uploads`), in
    /// key order, then by initiation time (which is upload-ID order, see [`new_upload_id`]).
    /// After a `key-marker` alone come the keys greater than it; with an `upload-id-marker`
    /// also the uploads of the marker's key whose IDs are greater than it. `max-uploads` is
    /// 0 to 2147483647, at most 1000 listed.
    pub(super) fn list_multipart_uploads(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let prefix = call.param("prefix").unwrap_or_default();
        let key_marker = call.param("key-marker").unwrap_or_default();
        let id_marker = call.param("upload-id-marker").unwrap_or_default();
        let max = bounded(call, "max-uploads", 1000)?.min(1000);
        let mut uploads: Vec<(String, UploadInfo)> = bucket
            .uploads
            .lock()
            .iter()
            .filter(|(_, u)| u.info.key.starts_with(prefix))
            .map(|(id, u)| (id.clone(), u.info.clone()))
            .collect();
        uploads.sort_by(|a, b| {
            (a.1.key.as_str(), a.0.as_str()).cmp(&(b.1.key.as_str(), b.0.as_str()))
        });
        let after_marker = |(id, info): &(String, UploadInfo)| {
            key_marker.is_empty()
                || info.key.as_str() > key_marker
                || (info.key == key_marker && !id_marker.is_empty() && id.as_str() > id_marker)
        };
        let remaining: Vec<&(String, UploadInfo)> =
            uploads.iter().filter(|u| after_marker(u)).collect();
        // As listings with `max-keys=0`: nothing listed, and nothing to resume from.
        let truncated = max > 0 && remaining.len() > max;
        let shown = &remaining[..remaining.len().min(max)];
        let mut out = format!("<ListMultipartUploadsResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Bucket", &bucket.name);
        xml::element(&mut out, "KeyMarker", key_marker);
        xml::element(&mut out, "UploadIdMarker", id_marker);
        if let Some((id, info)) = shown.last().copied() {
            xml::element(&mut out, "NextKeyMarker", &info.key);
            xml::element(&mut out, "NextUploadIdMarker", id);
        }
        if !prefix.is_empty() {
            xml::element(&mut out, "Prefix", prefix);
        }
        xml::element(&mut out, "MaxUploads", &max.to_string());
        xml::element(
            &mut out,
            "IsTruncated",
            if truncated { "true" } else { "false" },
        );
        for (id, info) in shown.iter().copied() {
            let owner = owner_id(&info.owner);
            out.push_str("<Upload>");
            xml::element(&mut out, "Key", &info.key);
            xml::element(&mut out, "UploadId", id);
            out.push_str("<Initiator>");
            xml::element(&mut out, "ID", &owner);
            out.push_str("</Initiator><Owner>");
            xml::element(&mut out, "ID", &owner);
            out.push_str("</Owner>");
            xml::element(&mut out, "StorageClass", "STANDARD");
            xml::element(
                &mut out,
                "Initiated",
                &dates::iso8601_millis(info.initiated_ms),
            );
            if let Some(algorithm) = info.checksum_algorithm {
                xml::element(&mut out, "ChecksumAlgorithm", algorithm.name());
            }
            out.push_str("</Upload>");
        }
        out.push_str("</ListMultipartUploadsResult>");
        Ok(xml_ok(out))
    }
}

/// A non-negative integer query parameter within `i32` (`default` when absent); callers cap
/// page sizes at 1000 and markers at their own range.
fn bounded(call: &Call<'_>, name: &str, default: usize) -> S3Result<usize> {
    match call.param(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
            .map(|n| n as usize)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Provided {name} not an integer or within integer range"),
                    name,
                    text,
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_etag_is_md5_of_part_md5s() {
        let a = md5_of(b"a");
        let b = md5_of(b"b");
        let mut joined = a.to_vec();
        joined.extend_from_slice(&b);
        assert_eq!(
            multipart_etag(&[a, b]),
            format!("\"{}-2\"", hex(&md5_of(&joined)))
        );
        assert_eq!(parse_etag(&format!("\"{}\"", hex(&a))), Some(a));
    }
}
