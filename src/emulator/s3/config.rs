//! Bucket configuration: bucket tags (Put/Get/DeleteBucketTagging, stored), and the answers
//! S3 gives for a bucket whose other configurations were never set (the emulator offers no
//! way to set them, so these answers are exact): versioning never enabled, no policy, CORS,
//! lifecycle, website, replication or Object Lock configuration, default SSE-S3 encryption,
//! Block Public Access on and BucketOwnerEnforced ownership as for every new bucket since
//! 2023, and an ACL granting the owner FULL_CONTROL. Tools that read a bucket's whole
//! configuration (Terraform, the CDK, `aws s3api`) get what AWS would answer.

use http::StatusCode;

use super::errors::{S3Error, S3Result};
use super::{Call, S3, empty, owner_id, tagging, xml, xml_ok};
use crate::emulator::rest::RestResponse;

/// Most tags a bucket may carry.
const MAX_BUCKET_TAGS: usize = 50;

/// The GET sub-resources answered from a bucket's defaults.
pub const DEFAULTS: [&str; 15] = [
    "versioning",
    "acl",
    "policy",
    "cors",
    "lifecycle",
    "website",
    "encryption",
    "publicAccessBlock",
    "ownershipControls",
    "accelerate",
    "requestPayment",
    "logging",
    "notification",
    "object-lock",
    "replication",
];

/// A 404 saying the bucket has no configuration of some kind.
fn none_configured(code: &'static str, message: &str, bucket: &str) -> S3Error {
    S3Error::new(404, code, message).with("BucketName", bucket)
}

/// The owner-only ACL every bucket and object has here.
fn owner_acl(account: &str) -> String {
    let id = owner_id(account);
    let mut out = format!("<AccessControlPolicy xmlns=\"{}\"><Owner>", xml::NS);
    xml::element(&mut out, "ID", &id);
    out.push_str(
        "</Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">",
    );
    xml::element(&mut out, "ID", &id);
    out.push_str("</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>");
    out
}

impl S3 {
    /// GET of a configuration sub-resource in [`DEFAULTS`].
    pub(super) fn bucket_configuration(
        &self,
        call: &Call<'_>,
        sub: &str,
    ) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let name = bucket.name.as_str();
        let ns = xml::NS;
        let body = match sub {
            "versioning" => format!("<VersioningConfiguration xmlns=\"{ns}\"/>"),
            "acl" => owner_acl(&bucket.info.owner),
            "encryption" => format!(
                "<ServerSideEncryptionConfiguration xmlns=\"{ns}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
            ),
            "publicAccessBlock" => format!(
                "<PublicAccessBlockConfiguration xmlns=\"{ns}\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
            ),
            "ownershipControls" => format!(
                "<OwnershipControls xmlns=\"{ns}\"><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>"
            ),
            "accelerate" => format!("<AccelerateConfiguration xmlns=\"{ns}\"/>"),
            "requestPayment" => format!(
                "<RequestPaymentConfiguration xmlns=\"{ns}\"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>"
            ),
            "logging" => format!("<BucketLoggingStatus xmlns=\"{ns}\"/>"),
            "notification" => format!("<NotificationConfiguration xmlns=\"{ns}\"/>"),
            "policy" => {
                return Err(none_configured(
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                    name,
                ));
            }
            "cors" => {
                return Err(none_configured(
                    "NoSuchCORSConfiguration",
                    "The CORS configuration does not exist",
                    name,
                ));
            }
            "lifecycle" => {
                return Err(none_configured(
                    "NoSuchLifecycleConfiguration",
                    "The lifecycle configuration does not exist",
                    name,
                ));
            }
            "website" => {
                return Err(none_configured(
                    "NoSuchWebsiteConfiguration",
                    "The specified bucket does not have a website configuration",
                    name,
                ));
            }
            "object-lock" => {
                return Err(none_configured(
                    "ObjectLockConfigurationNotFoundError",
                    "Object Lock configuration does not exist for this bucket",
                    name,
                ));
            }
            "replication" => {
                return Err(none_configured(
                    "ReplicationConfigurationNotFoundError",
                    "The replication configuration was not found",
                    name,
                ));
            }
            other => return Err(S3Error::not_implemented(&format!("GetBucket ?{other}"))),
        };
        Ok(xml_ok(body))
    }

    /// GetObjectAcl: the owner holds FULL_CONTROL.
    pub(super) fn get_object_acl(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        if bucket.get(&call.key).is_none() {
            return Err(S3Error::no_such_key(&call.key));
        }
        Ok(xml_ok(owner_acl(&bucket.info.owner)))
    }

    /// Replaces a bucket's tags, stored first.
    fn set_bucket_tags(&self, call: &Call<'_>, tags: tagging::Tags) -> S3Result<()> {
        let bucket = self.owned_bucket(call)?;
        let _bucket = bucket.write_bucket()?;
        if let Some(durable) = &self.durable {
            durable.put_bucket(&bucket.name, &bucket.info, &tags)?;
        }
        *bucket.tags.write() = tags;
        Ok(())
    }

    /// PutBucketTagging: 204.
    pub(super) fn put_bucket_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let body = super::payload::read(call.req)?.body;
        let tags = tagging::from_xml(&body)?;
        if tags.len() > MAX_BUCKET_TAGS {
            return Err(S3Error::new(
                400,
                "InvalidTag",
                "The number of tags exceeds the limit of 50 tags",
            ));
        }
        self.set_bucket_tags(call, tags)?;
        Ok(empty(StatusCode::NO_CONTENT))
    }

    /// GetBucketTagging: `NoSuchTagSet` (404) when the bucket has no tags.
    pub(super) fn get_bucket_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let bucket = self.owned_bucket(call)?;
        let tags = bucket.tags.read().clone();
        if tags.is_empty() {
            return Err(none_configured(
                "NoSuchTagSet",
                "The TagSet does not exist",
                &bucket.name,
            ));
        }
        Ok(xml_ok(tagging::to_xml(&tags)))
    }

    /// DeleteBucketTagging: 204.
    pub(super) fn delete_bucket_tagging(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        self.set_bucket_tags(call, Vec::new())?;
        Ok(empty(StatusCode::NO_CONTENT))
    }
}
