//! Writing an object to the emulated S3: the one place Firehose reaches into S3.

use bytes::Bytes;

use crate::emulator::error::AwsError;
use crate::emulator::s3::S3;

/// Writes `body` to `bucket`/`key` (stored durably by S3 before it returns);
/// `NoSuchBucket` while the bucket does not exist.
pub(super) fn put_object(
    s3: &S3,
    bucket: &str,
    key: &str,
    body: Bytes,
    content_type: &str,
) -> Result<(), AwsError> {
    s3.deliver(bucket, key, body, Some(content_type))
}
