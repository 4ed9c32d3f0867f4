//! Single-object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects
//! and CopyObject, with the headers S3 stores and returns (metadata, standard headers, tags,
//! checksums), ranges, preconditions and `response-*` overrides.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use percent_encoding::percent_decode_str;

use super::checksum::{self, Algorithm, Checksum};
use super::conditions::{self, Preconditions, Verdict, WriteCondition};
use super::errors::{S3Error, S3Result};
use super::state::{Bucket, Object, ObjectMeta};
use super::{Call, S3, empty, hex, payload, set_header, tagging, xml, xml_ok};
use crate::emulator::dates;
use crate::emulator::rest::RestResponse;

/// Standard headers stored with an object and returned on reads, besides `Content-Type`.
const STORED_HEADERS: [&str; 6] = [
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-amz-website-redirect-location",
];

/// The `response-*` query parameters of GetObject and the headers they override.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Largest key S3 accepts, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// Largest user metadata S3 accepts (names and values), in bytes.
const MAX_METADATA_BYTES: usize = 2048;

/// The description an upload's headers give the object: content type, stored standard
/// headers, `x-amz-meta-*` and `x-amz-tagging`.
pub fn meta_from_headers(call: &Call<'_>) -> S3Result<ObjectMeta> {
    let text = |name: &str| {
        call.req
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut meta = ObjectMeta {
        content_type: text("content-type"),
        tags: tagging::from_header(call.header("x-amz-tagging"))?,
        ..ObjectMeta::default()
    };
    for name in STORED_HEADERS {
        let Some(value) = text(name) else {
            continue;
        };
        let value = if name == "content-encoding" {
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && *e != "aws-chunked")
                .collect();
            if kept.is_empty() {
                continue;
            }
            kept.join(",")
        } else {
            value
        };
        meta.headers.push((name.to_owned(), value));
    }
    let mut size = 0;
    for (name, value) in call.req.headers.iter() {
        if let Some(user) = name.as_str().strip_prefix("x-amz-meta-") {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            size += user.len() + value.len();
            meta.metadata.push((user.to_owned(), value));
        }
    }
    if size > MAX_METADATA_BYTES {
        return Err(S3Error::new(
            400,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .with("Size", size.to_string())
        .with("MaxSizeAllowed", MAX_METADATA_BYTES.to_string()));
    }
    Ok(meta)
}

/// `KeyTooLongError` when `key` is longer than S3 allows.
pub fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(400, "KeyTooLongError", "Your key is too long")
            .with("Size", key.len().to_string())
            .with("MaxSizeAllowed", MAX_KEY_BYTES.to_string()));
    }
    Ok(())
}

/// Marks an answer as about an object encrypted at rest with S3-managed keys, as every
/// object in S3 is since 2023.
pub fn set_encryption_header(answer: &mut RestResponse) {
    set_header(answer, "x-amz-server-side-encryption", "AES256");
}

/// Sets the checksum headers (`x-amz-checksum-<algorithm>`, `x-amz-checksum-type`).
pub fn set_checksum_headers(answer: &mut RestResponse, checksum: &Checksum) {
    set_header(answer, checksum.algorithm.header(), &checksum.value);
    set_header(answer, "x-amz-checksum-type", checksum.kind());
}

/// Appends the `<ChecksumXXX>` and `<ChecksumType>` elements of `checksum`.
pub fn checksum_elements(out: &mut String, checksum: &Checksum) {
    xml::element(out, checksum.algorithm.element(), &checksum.value);
    xml::element(out, "ChecksumType", checksum.kind());
}

impl S3 {
    /// PutObject.
    pub(super) fn put_object(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        check_key(&call.key)?;
        let bucket = self.owned_bucket(call)?;
        let meta = meta_from_headers(call)?;
        let condition =
            WriteCondition::from_headers(call.header("if-match"), call.header("if-none-match"))?;
        let payload = payload::read(call.req)?;
        let object = self.store_object(&bucket, &call.key, meta, payload, &condition)?;
        let mut answer = empty(StatusCode::OK);
        set_header(&mut answer, "etag", &object.meta.etag);
        set_encryption_header(&mut answer);
        if let Some(checksum) = &object.meta.checksum {
            set_checksum_headers(&mut answer, checksum);
        }
        Ok(answer)
    }

    /// GetObject (`head`: HeadObject, the same answer without a body).
    pub(super) fn get_object(&self, call: &Call<'_>, head: bool) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let object = bucket
            .get(&call.key)
            .ok_or_else(|| S3Error::no_such_key(&call.key))?;
        let meta = &object.meta;
        let preconditions = Preconditions {
            if_match: call.header("if-match"),
            if_none_match: call.header("if-none-match"),
            if_modified_since: call.header("if-modified-since"),
            if_unmodified_since: call.header("if-unmodified-since"),
        };
        if preconditions.evaluate(&meta.etag, meta.last_modified_ms)? == Verdict::NotModified {
            let mut answer = empty(StatusCode::NOT_MODIFIED);
            set_header(&mut answer, "etag", &meta.etag);
            set_header(
                &mut answer,
                "last-modified",
                &dates::http_date(meta.last_modified_ms),
            );
            return Ok(answer);
        }
        let size = object.body.len() as u64;
        let range_header = call.header("range");
        let selected = match call.param("partNumber") {
            Some(text) => {
                if range_header.is_some() {
                    return Err(S3Error::invalid_request(
                        "Cannot specify both Range header and partNumber query parameter",
                    ));
                }
                part_range(meta, size, text)?
            }
            None => match range_header {
                Some(header) => conditions::range(header, size)?,
                None => None,
            },
        };
        let (status, body) = match selected {
            Some((first, last)) => (
                StatusCode::PARTIAL_CONTENT,
                object.body.slice(first as usize..=last as usize),
            ),
            _ => (StatusCode::OK, object.body.clone()),
        };
        let length = body.len();
        let mut answer = RestResponse::new(status, if head { Bytes::new() } else { body });
        if head {
            set_header(&mut answer, "content-length", &length.to_string());
        }
        if status == StatusCode::PARTIAL_CONTENT
            && let Some((first, last)) = selected
        {
            set_header(
                &mut answer,
                "content-range",
                &format!("bytes {first}-{last}/{size}"),
            );
        }
        set_header(&mut answer, "etag", &meta.etag);
        set_header(
            &mut answer,
            "last-modified",
            &dates::http_date(meta.last_modified_ms),
        );
        set_header(&mut answer, "accept-ranges", "bytes");
        set_encryption_header(&mut answer);
        set_header(
            &mut answer,
            "content-type",
            meta.content_type
                .as_deref()
                .unwrap_or("binary/octet-stream"),
        );
        for (name, value) in &meta.headers {
            set_header(&mut answer, stored_header_name(name), value);
        }
        for (name, value) in &meta.metadata {
            if let Ok(header) =
                http::HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes())
                && let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes())
            {
                answer.headers.insert(header, value);
            }
        }
        if !meta.tags.is_empty() {
            set_header(
                &mut answer,
                "x-amz-tagging-count",
                &meta.tags.len().to_string(),
            );
        }
        if !meta.parts.is_empty() && call.has("partNumber") {
            set_header(
                &mut answer,
                "x-amz-mp-parts-count",
                &meta.parts.len().to_string(),
            );
        }
        if call
            .header("x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
            && status == StatusCode::OK
            && let Some(checksum) = &meta.checksum
        {
            set_checksum_headers(&mut answer, checksum);
        }
        for (param, header) in OVERRIDES {
            if let Some(value) = call.param(param) {
                set_header(&mut answer, header, value);
            }
        }
        Ok(answer)
    }

    /// DeleteObject: 204 whether or not the key held an object.
    pub(super) fn delete_object(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        self.remove_objects(&bucket, &[call.key.as_str()])?;
        Ok(empty(StatusCode::NO_CONTENT))
    }

    /// Removes `keys` from `bucket`, stored first.
    fn remove_objects(&self, bucket: &Bucket, keys: &[&str]) -> S3Result<()> {
        let _writing = bucket.write_keys(keys)?;
        let present: Vec<&str> = {
            let objects = bucket.objects.read();
            keys.iter()
                .copied()
                .filter(|k| objects.contains_key(*k))
                .collect()
        };
        if let Some(durable) = &self.durable {
            durable.delete_objects(&bucket.name, present.iter().copied())?;
        }
        let mut objects = bucket.objects.write();
        for key in present {
            objects.remove(key);
        }
        Ok(())
    }

    /// DeleteObjects: up to 1000 keys; the body must carry Content-MD5 or a checksum.
    pub(super) fn delete_objects(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let has_integrity = call.header("content-md5").is_some()
            || checksum::ALL
                .iter()
                .any(|a| call.header(a.header()).is_some())
            || call.header("x-amz-trailer").is_some();
        if !has_integrity {
            return Err(S3Error::invalid_request(
                "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
            ));
        }
        let body = payload::read(call.req)?.body;
        let root = xml::parse(&body)
            .filter(|r| r.name == "Delete")
            .ok_or_else(S3Error::malformed_xml)?;
        let quiet = root.child_text("Quiet").is_some_and(|q| q.trim() == "true");
        let keys: Vec<&str> = root
            .children_named("Object")
            .map(|o| o.child_text("Key").ok_or_else(S3Error::malformed_xml))
            .collect::<S3Result<_>>()?;
        if keys.is_empty() || keys.len() > 1000 {
            return Err(S3Error::malformed_xml());
        }
        let (valid, too_long): (Vec<&str>, Vec<&str>) =
            keys.iter().partition(|k| k.len() <= MAX_KEY_BYTES);
        let (valid, denied): (Vec<&str>, Vec<&str>) = match call.may_delete {
            Some(may_delete) => valid.iter().partition(|k| may_delete(k)),
            None => (valid, Vec::new()),
        };
        self.remove_objects(&bucket, &valid)?;
        let mut out = format!("<DeleteResult xmlns=\"{}\">", xml::NS);
        if !quiet {
            for key in &valid {
                out.push_str("<Deleted>");
                xml::element(&mut out, "Key", key);
                out.push_str("</Deleted>");
            }
        }
        for key in denied {
            out.push_str("<Error>");
            xml::element(&mut out, "Key", key);
            xml::element(&mut out, "Code", "AccessDenied");
            xml::element(&mut out, "Message", "Access Denied");
            out.push_str("</Error>");
        }
        for key in too_long {
            out.push_str("<Error>");
            xml::element(&mut out, "Key", key);
            xml::element(&mut out, "Code", "KeyTooLongError");
            xml::element(&mut out, "Message", "Your key is too long");
            out.push_str("</Error>");
        }
        out.push_str("</DeleteResult>");
        Ok(xml_ok(out))
    }

    /// The object named by `x-amz-copy-source` (`bucket/key`, URL-encoded, optionally
    /// with a leading `/` and a `?versionId=`), with its bucket and key.
    pub(super) fn copy_source(&self, call: &Call<'_>) -> S3Result<(String, String, Arc<Object>)> {
        let raw = call.header("x-amz-copy-source").unwrap_or_default();
        let raw = raw.split_once('?').map_or(raw, |(path, _)| path);
        let decoded = percent_decode_str(raw.trim_start_matches('/'))
            .decode_utf8()
            .map_err(|_| {
                S3Error::invalid_argument("Invalid copy source encoding", "x-amz-copy-source", raw)
            })?;
        let (bucket, key) = decoded
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Invalid copy source object key",
                    "x-amz-copy-source",
                    raw,
                )
            })?;
        let source_bucket = self
            .buckets
            .get(bucket)
            .ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        if source_bucket.info.owner != call.ctx.account {
            return Err(S3Error::new(403, "AccessDenied", "Access Denied"));
        }
        let object = source_bucket
            .get(key)
            .ok_or_else(|| S3Error::no_such_key(key))?;
        let preconditions = Preconditions {
            if_match: call.header("x-amz-copy-source-if-match"),
            if_none_match: call.header("x-amz-copy-source-if-none-match"),
            if_modified_since: call.header("x-amz-copy-source-if-modified-since"),
            if_unmodified_since: call.header("x-amz-copy-source-if-unmodified-since"),
        };
        let verdict = preconditions
            .evaluate(&object.meta.etag, object.meta.last_modified_ms)
            .map_err(|e| rename_condition(e, "x-amz-copy-source-"))?;
        if verdict == Verdict::NotModified {
            let condition = if preconditions.if_none_match.is_some() {
                "x-amz-copy-source-If-None-Match"
            } else {
                "x-amz-copy-source-If-Modified-Since"
            };
            return Err(conditions::precondition_failed(condition));
        }
        Ok((bucket.to_owned(), key.to_owned(), object))
    }

    /// CopyObject: the source's bytes under a new key, with its metadata (`COPY`, the
    /// default) or the request's (`REPLACE`); tags likewise by `x-amz-tagging-directive`.
    pub(super) fn copy_object(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        check_key(&call.key)?;
        let bucket = self.owned_bucket(call)?;
        let directive = |name: &str| -> S3Result<bool> {
            match call.header(name) {
                None | Some("COPY") => Ok(false),
                Some("REPLACE") => Ok(true),
                Some(other) => Err(S3Error::invalid_argument(
                    format!("Unknown {name}: {other}"),
                    name,
                    other,
                )),
            }
        };
        let replace_metadata = directive("x-amz-metadata-directive")?;
        let replace_tags = directive("x-amz-tagging-directive")?;
        let (source_bucket, source_key, source) = self.copy_source(call)?;
        if source_bucket == call.bucket && source_key == call.key && !replace_metadata {
            return Err(S3Error::invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let requested = meta_from_headers(call)?;
        let mut meta = if replace_metadata {
            ObjectMeta {
                tags: Vec::new(),
                ..requested.clone()
            }
        } else {
            ObjectMeta {
                content_type: source.meta.content_type.clone(),
                headers: source.meta.headers.clone(),
                metadata: source.meta.metadata.clone(),
                ..ObjectMeta::default()
            }
        };
        meta.tags = if replace_tags {
            requested.tags
        } else {
            source.meta.tags.clone()
        };
        let condition =
            WriteCondition::from_headers(call.header("if-match"), call.header("if-none-match"))?;
        let checksum = match call
            .header("x-amz-checksum-algorithm")
            .map(|name| {
                Algorithm::from_name(name).ok_or_else(|| {
                    S3Error::invalid_request(
                        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                    )
                })
            })
            .transpose()?
        {
            Some(algorithm) => Some(Checksum {
                algorithm,
                value: algorithm.encode(&source.body),
                composite: false,
            }),
            None => source.meta.checksum.clone().filter(|c| !c.composite),
        };
        let md5: [u8; 16] = if source.meta.parts.is_empty() {
            parse_etag(&source.meta.etag).unwrap_or_else(|| md5_of(&source.body))
        } else {
            md5_of(&source.body)
        };
        let payload = payload::Payload {
            body: source.body.clone(),
            md5,
            checksum,
        };
        let object = self.store_object(&bucket, &call.key, meta, payload, &condition)?;
        let mut out = String::from("<CopyObjectResult>");
        xml::element(
            &mut out,
            "LastModified",
            &dates::iso8601_millis(object.meta.last_modified_ms),
        );
        xml::element(&mut out, "ETag", &object.meta.etag);
        if let Some(checksum) = &object.meta.checksum {
            checksum_elements(&mut out, checksum);
        }
        out.push_str("</CopyObjectResult>");
        let mut answer = xml_ok(out);
        set_encryption_header(&mut answer);
        Ok(answer)
    }
}

/// The header name to answer with for a stored header (S3 answers `Expires` and the
/// `x-amz-website-redirect-location` under their own names).
fn stored_header_name(name: &str) -> &'static str {
    STORED_HEADERS
        .into_iter()
        .find(|h| *h == name)
        .unwrap_or("x-amz-meta-unknown")
}

/// The byte range of part `text` of an object (`InvalidPartNumber` when there is no such
/// part); a single-part object has one part, the whole object (`None` when it is empty).
fn part_range(meta: &ObjectMeta, size: u64, text: &str) -> S3Result<Option<(u64, u64)>> {
    let number = text
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                text,
            )
        })?;
    let not_satisfiable = || {
        S3Error::new(
            416,
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
        )
        .with("PartNumberRequested", number.to_string())
        .with("ActualPartCount", meta.parts.len().max(1).to_string())
    };
    if meta.parts.is_empty() {
        return match (number, size) {
            (1, 0) => Ok(None),
            (1, _) => Ok(Some((0, size - 1))),
            _ => Err(not_satisfiable()),
        };
    }
    let sizes = meta.parts.get(..number).ok_or_else(not_satisfiable)?;
    let first: u64 = sizes[..number - 1].iter().sum();
    let last = first + sizes[number - 1];
    if last > size {
        return Err(not_satisfiable());
    }
    Ok((last > first).then(|| (first, last - 1)))
}

/// `PreconditionFailed` of a copy names the `x-amz-copy-source-` header.
fn rename_condition(mut error: S3Error, prefix: &str) -> S3Error {
    for (name, value) in &mut error.fields {
        if *name == "Condition" {
            *value = format!("{prefix}{value}");
        }
    }
    error
}

/// The MD5 of `data`.
pub fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

/// The MD5 a single-upload or part ETag (`"hex"`) holds.
pub fn parse_etag(etag: &str) -> Option<[u8; 16]> {
    let hex_text = etag.trim_matches('"');
    if hex_text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex_text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (hex(&out) == hex_text.to_ascii_lowercase()).then_some(out)
}
