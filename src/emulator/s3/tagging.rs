//! Object tags: the `x-amz-tagging` header of uploads and copies, and PutObjectTagging,
//! GetObjectTagging and DeleteObjectTagging, with S3's limits (10 tags, keys up to 128 and
//! values up to 256 characters, no duplicate keys).

use http::StatusCode;

use super::errors::{S3Error, S3Result};
use super::state::Object;
use super::{Call, S3, empty, payload, xml, xml_ok};
use crate::emulator::rest::RestResponse;

/// Object tags, in order.
pub type Tags = Vec<(String, String)>;

fn invalid_tag(message: &str) -> S3Error {
    S3Error::new(400, "InvalidTag", message)
}

/// Checks object `tags` against S3's limits.
pub fn validate(tags: &Tags) -> S3Result<()> {
    if tags.len() > 10 {
        return Err(S3Error::new(
            400,
            "BadRequest",
            "Object tags cannot be greater than 10",
        ));
    }
    validate_entries(tags)
}

/// Checks each tag (key and value lengths, no duplicate keys).
pub fn validate_entries(tags: &Tags) -> S3Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    for (key, value) in tags {
        if key.is_empty() {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if key.chars().count() > 128 {
            return Err(invalid_tag(
                "The TagKey you have provided is too long, max 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(invalid_tag(
                "The TagValue you have provided is too long, max 256",
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// The tags of an `x-amz-tagging` header (URL query encoding: `a=1&b=2`).
pub fn from_header(header: Option<&str>) -> S3Result<Tags> {
    let Some(header) = header else {
        return Ok(Vec::new());
    };
    let tags: Tags = form_urlencoded::parse(header.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    validate(&tags)?;
    Ok(tags)
}

/// The tags of a `<Tagging>` document, each checked but not their number.
pub fn from_xml(body: &[u8]) -> S3Result<Tags> {
    let root = xml::parse(body)
        .filter(|r| r.name == "Tagging")
        .ok_or_else(S3Error::malformed_xml)?;
    let set = root.child("TagSet").ok_or_else(S3Error::malformed_xml)?;
    let mut tags = Vec::new();
    for tag in set.children_named("Tag") {
        let key = tag.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
        let value = tag.child_text("Value").ok_or_else(S3Error::malformed_xml)?;
        tags.push((key.to_owned(), value.to_owned()));
    }
    validate_entries(&tags)?;
    Ok(tags)
}

/// A `<Tagging>` document of `tags`.
pub fn to_xml(tags: &Tags) -> String {
    let mut out = format!("<Tagging xmlns=\"{}\"><TagSet>", xml::NS);
    for (key, value) in tags {
        out.push_str("<Tag>");
        xml::element(&mut out, "Key", key);
        xml::element(&mut out, "Value", value);
        out.push_str("</Tag>");
    }
    out.push_str("</TagSet></Tagging>");
    out
}

impl S3 {
    /// Replaces the tags of the object `call` names.
    fn retag(&self, call: &Call<'_>, tags: Tags) -> S3Result<()> {
        let bucket = self.owned_bucket(call)?;
        let _writing = bucket.write_keys(&[&call.key])?;
        let current = bucket
            .get(&call.key)
            .ok_or_else(|| S3Error::no_such_key(&call.key))?;
        let mut meta = current.meta.clone();
        meta.tags = tags;
        let object = Object {
            meta,
            body: current.body.clone(),
        };
        if let Some(durable) = &self.durable {
            durable.put_object(&bucket.name, &call.key, &object)?;
        }
        bucket
            .objects
            .write()
            .insert(call.key.clone(), std::sync::Arc::new(object));
        Ok(())
    }

    /// PutObjectTagging.
    pub(super) fn put_object_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let body = payload::read(call.req)?.body;
        let tags = from_xml(&body)?;
        validate(&tags)?;
        self.retag(call, tags)?;
        Ok(empty(StatusCode::OK))
    }

    /// GetObjectTagging.
    pub(super) fn get_object_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let object = bucket
            .get(&call.key)
            .ok_or_else(|| S3Error::no_such_key(&call.key))?;
        Ok(xml_ok(to_xml(&object.meta.tags)))
    }

    /// DeleteObjectTagging: 204.
    pub(super) fn delete_object_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        self.retag(call, Vec::new())?;
        Ok(empty(StatusCode::NO_CONTENT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_tags_and_limits() {
        assert_eq!(
            from_header(Some("a=1&b=two%20words")).unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "two words".into())]
        );
        assert_eq!(from_header(None).unwrap(), Vec::new());
        let eleven = (0..11)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(from_header(Some(&eleven)).unwrap_err().code, "BadRequest");
        assert_eq!(from_header(Some("a=1&a=2")).unwrap_err().code, "InvalidTag");
        let long = format!("{}=v", "k".repeat(129));
        assert_eq!(from_header(Some(&long)).unwrap_err().code, "InvalidTag");
    }
}
