//! ListObjectsV2, ListObjects (v1) and ListObjectVersions: a key-ordered walk of a bucket from a marker, with
//! prefix filtering, delimiter grouping into CommonPrefixes, page size, and `encoding-type=url`.
//!
//! Resuming: the v2 continuation token is the base64 of the last key or common prefix
//! returned, and v1's marker is the same thing in clear. A page resumes after it: keys
//! greater than it, and common prefixes greater than it (so a common prefix is never
//! returned twice, and the keys inside it are skipped).

use std::ops::Bound;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::errors::{S3Error, S3Result};
use super::state::Bucket;
use super::{Call, S3, owner_id, xml, xml_ok};
use crate::emulator::dates;
use crate::emulator::rest::RestResponse;

/// One listed entry.
enum Entry {
    /// An object: key, ETag, size, last modified, checksum.
    Object(String, std::sync::Arc<super::state::Object>),
    /// A common prefix.
    Prefix(String),
}

/// A page of a listing.
struct Page {
    entries: Vec<Entry>,
    truncated: bool,
}

/// Walks `bucket` after `after`, keeping keys under `prefix`, grouped by `delimiter`, up to
/// `max` entries.
fn walk(bucket: &Bucket, prefix: &str, delimiter: &str, after: &str, max: usize) -> Page {
    let objects = bucket.objects.read();
    let mut entries = Vec::new();
    let mut last_prefix: Option<String> = None;
    let start = if after.as_bytes() >= prefix.as_bytes() {
        Bound::Excluded(after.to_owned())
    } else {
        Bound::Included(prefix.to_owned())
    };
    let mut range = objects.range::<String, _>((start, Bound::Unbounded));
    let mut truncated = false;
    if max == 0 {
        return Page { entries, truncated };
    }
    while let Some((key, object)) = range.next() {
        if !key.starts_with(prefix) {
            if key.as_str() > prefix {
                break;
            }
            continue;
        }
        let group = (!delimiter.is_empty())
            .then(|| {
                key[prefix.len()..]
                    .find(delimiter)
                    .map(|at| key[..prefix.len() + at + delimiter.len()].to_owned())
            })
            .flatten();
        match group {
            Some(common) => {
                if common.as_str() <= after || last_prefix.as_deref() == Some(common.as_str()) {
                    continue;
                }
                if entries.len() == max {
                    truncated = true;
                    break;
                }
                let skip_to = format!("{common}\u{10FFFF}");
                last_prefix = Some(common.clone());
                entries.push(Entry::Prefix(common));
                range = objects.range::<String, _>((Bound::Excluded(skip_to), Bound::Unbounded));
            }
            None => {
                if entries.len() == max {
                    truncated = true;
                    break;
                }
                entries.push(Entry::Object(key.clone(), object.clone()));
            }
        }
    }
    Page { entries, truncated }
}

/// `value` as S3 writes it with `encoding-type=url`.
fn url_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Reads `max-keys` (default and cap 1000).
fn max_keys(call: &Call<'_>) -> S3Result<usize> {
    match call.param("max-keys") {
        None => Ok(1000),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
            .map(|n| n.min(1000) as usize)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    text,
                )
            }),
    }
}

/// Whether `encoding-type=url` was asked for (`InvalidArgument` for other encodings).
fn url_encoding(call: &Call<'_>) -> S3Result<bool> {
    match call.param("encoding-type") {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(other) => Err(S3Error::invalid_argument(
            "Invalid Encoding Method specified in Request",
            "encoding-type",
            other,
        )),
    }
}

/// The members every listing reads, in the order S3 checks them.
struct Listing<'a> {
    prefix: &'a str,
    delimiter: &'a str,
    max: usize,
    /// `encoding-type=url`.
    encode: bool,
}

impl<'a> Listing<'a> {
    /// Reads `prefix`, `delimiter`, `max-keys` and `encoding-type` of `call`.
    fn read(call: &'a Call<'_>) -> S3Result<Listing<'a>> {
        Ok(Listing {
            prefix: call.param("prefix").unwrap_or_default(),
            delimiter: call.param("delimiter").unwrap_or_default(),
            max: max_keys(call)?,
            encode: url_encoding(call)?,
        })
    }

    /// `value` as the answer shows it: URL-encoded when asked.
    fn shown(&self, value: &str) -> String {
        if self.encode {
            url_encode(value)
        } else {
            value.to_owned()
        }
    }

    /// Appends `MaxKeys`, `Delimiter` (when given) and `IsTruncated` of `page`.
    fn write_limits(&self, out: &mut String, page: &Page) {
        xml::element(out, "MaxKeys", &self.max.to_string());
        if !self.delimiter.is_empty() {
            xml::element(out, "Delimiter", &self.shown(self.delimiter));
        }
        xml::element(
            out,
            "IsTruncated",
            if page.truncated { "true" } else { "false" },
        );
    }
}

impl Page {
    /// Where the next page starts: the last key or common prefix of a truncated page.
    fn next_marker(&self) -> Option<&str> {
        if !self.truncated {
            return None;
        }
        self.entries.last().map(|last| match last {
            Entry::Object(key, _) => key.as_str(),
            Entry::Prefix(p) => p.as_str(),
        })
    }
}

impl S3 {
    /// ListObjectsV2.
    pub(super) fn list_objects_v2(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let list = Listing::read(call)?;
        let fetch_owner = call.param("fetch-owner") == Some("true");
        let start_after = call.param("start-after").unwrap_or_default();
        let token = call.param("continuation-token");
        let after = match token {
            Some(token) => STANDARD
                .decode(token)
                .ok()
                .and_then(|t| String::from_utf8(t).ok())
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "The continuation token provided is incorrect",
                        "continuation-token",
                        token,
                    )
                })?,
            None => start_after.to_owned(),
        };
        let after = after.as_str().max(start_after).to_owned();
        let page = walk(&bucket, list.prefix, list.delimiter, &after, list.max);
        let shown = |v: &str| list.shown(v);
        let mut out = format!("<ListBucketResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Name", &bucket.name);
        xml::element(&mut out, "Prefix", &shown(list.prefix));
        if let Some(token) = token {
            xml::element(&mut out, "ContinuationToken", token);
        }
        if let Some(marker) = page.next_marker() {
            xml::element(&mut out, "NextContinuationToken", &STANDARD.encode(marker));
        }
        xml::element(&mut out, "KeyCount", &page.entries.len().to_string());
        list.write_limits(&mut out, &page);
        if list.encode {
            xml::element(&mut out, "EncodingType", "url");
        }
        if !start_after.is_empty() {
            xml::element(&mut out, "StartAfter", &shown(start_after));
        }
        write_entries(
            &mut out,
            &page.entries,
            fetch_owner.then_some(&bucket.info.owner),
            &shown,
        );
        out.push_str("</ListBucketResult>");
        Ok(xml_ok(out))
    }

    /// ListObjects (v1).
    pub(super) fn list_objects_v1(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let list = Listing::read(call)?;
        let marker = call.param("marker").unwrap_or_default();
        let page = walk(&bucket, list.prefix, list.delimiter, marker, list.max);
        let shown = |v: &str| list.shown(v);
        let mut out = format!("<ListBucketResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Name", &bucket.name);
        xml::element(&mut out, "Prefix", &shown(list.prefix));
        xml::element(&mut out, "Marker", &shown(marker));
        list.write_limits(&mut out, &page);
        if !list.delimiter.is_empty()
            && let Some(next) = page.next_marker()
        {
            xml::element(&mut out, "NextMarker", &shown(next));
        }
        if list.encode {
            xml::element(&mut out, "EncodingType", "url");
        }
        write_entries(&mut out, &page.entries, Some(&bucket.info.owner), &shown);
        out.push_str("</ListBucketResult>");
        Ok(xml_ok(out))
    }
}

impl S3 {
    /// ListObjectVersions: buckets here are never versioned, so each object is its only
    /// version, `null`, and the latest (as S3 lists objects of an unversioned bucket).
    pub(super) fn list_object_versions(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let list = Listing::read(call)?;
        let marker = call.param("key-marker").unwrap_or_default();
        let page = walk(&bucket, list.prefix, list.delimiter, marker, list.max);
        let shown = |v: &str| list.shown(v);
        let mut out = format!("<ListVersionsResult xmlns=\"{}\">", xml::NS);
        xml::element(&mut out, "Name", &bucket.name);
        xml::element(&mut out, "Prefix", &shown(list.prefix));
        xml::element(&mut out, "KeyMarker", &shown(marker));
        xml::element(
            &mut out,
            "VersionIdMarker",
            call.param("version-id-marker").unwrap_or_default(),
        );
        if let Some(next) = page.next_marker() {
            xml::element(&mut out, "NextKeyMarker", &shown(next));
            xml::element(&mut out, "NextVersionIdMarker", "null");
        }
        list.write_limits(&mut out, &page);
        if list.encode {
            xml::element(&mut out, "EncodingType", "url");
        }
        for entry in &page.entries {
            if let Entry::Object(key, object) = entry {
                out.push_str("<Version>");
                xml::element(&mut out, "Key", &shown(key));
                xml::element(&mut out, "VersionId", "null");
                xml::element(&mut out, "IsLatest", "true");
                xml::element(
                    &mut out,
                    "LastModified",
                    &dates::iso8601_millis(object.meta.last_modified_ms),
                );
                xml::element(&mut out, "ETag", &object.meta.etag);
                xml::element(&mut out, "Size", &object.body.len().to_string());
                out.push_str("<Owner>");
                xml::element(&mut out, "ID", &owner_id(&bucket.info.owner));
                out.push_str("</Owner>");
                xml::element(&mut out, "StorageClass", "STANDARD");
                out.push_str("</Version>");
            }
        }
        for entry in &page.entries {
            if let Entry::Prefix(p) = entry {
                out.push_str("<CommonPrefixes>");
                xml::element(&mut out, "Prefix", &shown(p));
                out.push_str("</CommonPrefixes>");
            }
        }
        out.push_str("</ListVersionsResult>");
        Ok(xml_ok(out))
    }
}

/// Appends `<Contents>` for the objects and then `<CommonPrefixes>` for the prefixes.
fn write_entries(
    out: &mut String,
    entries: &[Entry],
    owner: Option<&String>,
    shown: &dyn Fn(&str) -> String,
) {
    for entry in entries {
        if let Entry::Object(key, object) = entry {
            out.push_str("<Contents>");
            xml::element(out, "Key", &shown(key));
            xml::element(
                out,
                "LastModified",
                &dates::iso8601_millis(object.meta.last_modified_ms),
            );
            xml::element(out, "ETag", &object.meta.etag);
            if let Some(checksum) = &object.meta.checksum {
                xml::element(out, "ChecksumAlgorithm", checksum.algorithm.name());
                xml::element(out, "ChecksumType", checksum.kind());
            }
            xml::element(out, "Size", &object.body.len().to_string());
            if let Some(owner) = owner {
                out.push_str("<Owner>");
                xml::element(out, "ID", &owner_id(owner));
                out.push_str("</Owner>");
            }
            xml::element(out, "StorageClass", "STANDARD");
            out.push_str("</Contents>");
        }
    }
    for entry in entries {
        if let Entry::Prefix(prefix) = entry {
            out.push_str("<CommonPrefixes>");
            xml::element(out, "Prefix", &shown(prefix));
            out.push_str("</CommonPrefixes>");
        }
    }
}
