//! Bucket operations: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation and
//! ListBuckets. Buckets share one global namespace, each owned by the account that created it;
//! other accounts are denied access.

use std::sync::Arc;

use http::StatusCode;

use super::errors::{S3Error, S3Result};
use super::state::{Bucket, BucketInfo, Taken};
use super::{Call, S3, empty, owner_id, set_header, xml, xml_ok};
use crate::emulator::dates;
use crate::emulator::rest::RestResponse;

/// Why `name` is not a valid general-purpose bucket name (AWS's naming rules), if it is not.
pub fn invalid_bucket_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Some("must be between 3 and 63 characters long");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
    {
        return Some("can consist only of lowercase letters, numbers, periods and hyphens");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Some("must begin and end with a letter or number");
    }
    if name.contains("..") {
        return Some("must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("must not be formatted as an IP address");
    }
    if ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| name.starts_with(p))
        || ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|s| name.ends_with(s))
    {
        return Some("must not use a prefix or suffix reserved by Amazon S3");
    }
    None
}

/// True when `name` has the shape of an AWS region (`eu-west-1`, `us-gov-east-1`), or is
/// `EU`, S3's legacy name for eu-west-1.
fn is_region(name: &str) -> bool {
    if name == "EU" {
        return true;
    }
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

impl S3 {
    /// The bucket `call` names when it exists, the caller owns it and it is owned by the
    /// account `x-amz-expected-bucket-owner` names, if any (`NoSuchBucket`, `AccessDenied`
    /// otherwise).
    pub(super) fn owned_bucket(&self, call: &Call<'_>) -> S3Result<Arc<Bucket>> {
        let bucket = self.bucket(call)?;
        let expected = call.header("x-amz-expected-bucket-owner");
        if bucket.info.owner != call.ctx.account
            || expected.is_some_and(|owner| owner != bucket.info.owner)
        {
            return Err(S3Error::new(403, "AccessDenied", "Access Denied"));
        }
        Ok(bucket)
    }

    /// CreateBucket.
    pub(super) fn create_bucket(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let name = &call.bucket;
        if invalid_bucket_name(name).is_some() {
            return Err(S3Error::new(
                400,
                "InvalidBucketName",
                "The specified bucket is not valid.",
            )
            .with("BucketName", name));
        }
        let constraint = if call.req.body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let root = xml::parse(&call.req.body)
                .filter(|r| r.name == "CreateBucketConfiguration")
                .ok_or_else(S3Error::malformed_xml)?;
            root.child_text("LocationConstraint")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        };
        let endpoint = call.ctx.region.as_str();
        let region = match constraint.as_deref() {
            Some("us-east-1") => {
                return Err(S3Error::new(
                    400,
                    "InvalidLocationConstraint",
                    "The specified location-constraint is not valid",
                )
                .with("LocationConstraint", "us-east-1"));
            }
            Some(c) if !is_region(c) => {
                return Err(S3Error::new(
                    400,
                    "InvalidLocationConstraint",
                    "The specified location-constraint is not valid",
                )
                .with("LocationConstraint", c));
            }
            Some(c) if endpoint != "us-east-1" && c != endpoint => {
                return Err(S3Error::new(
                    400,
                    "IllegalLocationConstraintException",
                    format!(
                        "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
                    ),
                ));
            }
            Some(c) => c.to_owned(),
            None if endpoint != "us-east-1" => {
                return Err(S3Error::new(
                    400,
                    "IllegalLocationConstraintException",
                    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
                ));
            }
            None => "us-east-1".to_owned(),
        };
        let bucket = Arc::new(Bucket::new(
            name.clone(),
            BucketInfo {
                owner: call.ctx.account.clone(),
                region,
                created_ms: self.now_ms(),
            },
        ));
        match self.buckets.reserve(name) {
            Ok(()) => {}
            Err(Taken::Creating) => {
                return Err(S3Error::new(
                    409,
                    "OperationAborted",
                    "A conflicting conditional operation is currently in progress against this resource. Please try again.",
                ));
            }
            Err(Taken::By(existing)) => {
                if existing.info.owner != call.ctx.account {
                    return Err(S3Error::new(
                        409,
                        "BucketAlreadyExists",
                        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                    )
                    .with("BucketName", name));
                }
                // AWS's legacy us-east-1 behaviour: re-creating your own bucket there succeeds.
                if existing.info.region == "us-east-1" && endpoint == "us-east-1" {
                    return Ok(created(name));
                }
                return Err(S3Error::new(
                    409,
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                )
                .with("BucketName", name));
            }
        }
        // Stored first, then visible: a bucket that could not be stored is never seen.
        if let Some(durable) = &self.durable
            && let Err(e) = durable.put_bucket(name, &bucket.info, &[])
        {
            self.buckets.release(name);
            return Err(e);
        }
        self.buckets.publish(bucket);
        Ok(created(name))
    }

    /// HeadBucket: 200 with the region, or a bare 404/403.
    pub(super) fn head_bucket(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let mut answer = empty(StatusCode::OK);
        set_header(&mut answer, "x-amz-bucket-region", &bucket.info.region);
        set_header(&mut answer, "x-amz-access-point-alias", "false");
        Ok(answer)
    }

    /// DeleteBucket: 204, or `BucketNotEmpty` while it holds objects.
    pub(super) fn delete_bucket(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let mut deleted = bucket.write_bucket()?;
        if !bucket.objects.read().is_empty() {
            return Err(S3Error::new(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            )
            .with("BucketName", &call.bucket));
        }
        if let Some(durable) = &self.durable {
            durable.delete_bucket(&call.bucket)?;
        }
        *deleted = true;
        bucket.uploads.lock().clear();
        self.buckets.remove(&call.bucket);
        Ok(empty(StatusCode::NO_CONTENT))
    }

    /// GetBucketLocation: empty for us-east-1, as AWS answers.
    pub(super) fn get_bucket_location(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        Ok(xml_ok(match bucket.info.region.as_str() {
            "us-east-1" => format!("<LocationConstraint xmlns=\"{}\"/>", xml::NS),
            region => format!(
                "<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                xml::NS,
                xml::escape(region)
            ),
        }))
    }

    /// ListBuckets: the caller's buckets in name order (`prefix`, `bucket-region`,
    /// `max-buckets`, `continuation-token`).
    pub(super) fn list_buckets(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let prefix = call.param("prefix").unwrap_or_default();
        let region = call.param("bucket-region");
        let after = call.param("continuation-token").unwrap_or_default();
        let max = match call.param("max-buckets") {
            None => 10_000,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "Argument max-buckets must be an integer between 1 and 10000.",
                        "max-buckets",
                        text,
                    )
                })?,
        };
        let mine: Vec<Arc<Bucket>> = self
            .buckets
            .all()
            .into_iter()
            .filter(|b| b.info.owner == call.ctx.account)
            .filter(|b| b.name.starts_with(prefix) && b.name.as_str() > after)
            .filter(|b| region.is_none_or(|r| b.info.region == r))
            .collect();
        let mut out = format!("<ListAllMyBucketsResult xmlns=\"{}\"><Buckets>", xml::NS);
        for bucket in mine.iter().take(max) {
            out.push_str("<Bucket>");
            xml::element(&mut out, "Name", &bucket.name);
            xml::element(
                &mut out,
                "CreationDate",
                &dates::iso8601_millis(bucket.info.created_ms),
            );
            xml::element(&mut out, "BucketRegion", &bucket.info.region);
            out.push_str("</Bucket>");
        }
        out.push_str("</Buckets><Owner>");
        xml::element(&mut out, "ID", &owner_id(&call.ctx.account));
        out.push_str("</Owner>");
        if mine.len() > max {
            xml::element(&mut out, "ContinuationToken", &mine[max - 1].name);
        }
        if let Some(p) = call.param("prefix") {
            xml::element(&mut out, "Prefix", p);
        }
        out.push_str("</ListAllMyBucketsResult>");
        Ok(xml_ok(out))
    }
}

/// The answer to a successful CreateBucket.
fn created(name: &str) -> RestResponse {
    let mut answer = empty(StatusCode::OK);
    set_header(&mut answer, "location", &format!("/{name}"));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for good in ["eu-west-1", "us-gov-east-1", "ap-southeast-4", "EU"] {
            assert!(is_region(good), "{good}");
        }
        for bad in ["x", "us-east", "US-EAST-1", "eu-west-", "e-west-1", ""] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn bucket_name_rules() {
        for good in ["abc", "my-bucket.logs", "a1b2", &"a".repeat(63)] {
            assert_eq!(invalid_bucket_name(good), None, "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "under_score",
            "-start",
            "end.",
            "two..dots",
            "192.168.1.1",
            "xn--bucket",
            "bucket-s3alias",
        ] {
            assert!(invalid_bucket_name(bad).is_some(), "{bad}");
        }
    }
}
