//! S3's errors: a code, a message and an HTTP status like every AWS error, plus the resource
//! fields S3 adds to its XML (`<BucketName>`, `<Key>`, `<UploadId>`...), with the exact codes,
//! statuses and messages AWS sends.

use http::StatusCode;

use super::xml;
use crate::emulator::error::AwsError;
use crate::emulator::rest::RestResponse;

/// An S3 error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    /// Error code (`NoSuchKey`, ...).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// HTTP status.
    pub status: u16,
    /// Extra elements of the XML error, in order (`BucketName`, `Key`, ...).
    pub fields: Vec<(&'static str, String)>,
}

/// What S3 handlers return.
pub type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    /// An error with no extra fields.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        S3Error {
            code,
            message: message.into(),
            status,
            fields: Vec::new(),
        }
    }

    /// Adds the element `<name>value</name>` to the XML error.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// `NoSuchBucket` (404).
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(404, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    /// `NoSuchKey` (404).
    pub fn no_such_key(key: &str) -> Self {
        Self::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    /// `NoSuchUpload` (404).
    pub fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            404,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    /// `InvalidArgument` (400) about `name` = `value`.
    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(400, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    /// `InvalidRequest` (400).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequest", message)
    }

    /// `MalformedXML` (400).
    pub fn malformed_xml() -> Self {
        Self::new(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    }

    /// `NotImplemented` (501) for `operation`.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            501,
            "NotImplemented",
            format!("The emulator does not implement the S3 operation {operation}."),
        )
    }

    /// `InternalError` (500): the emulator failed, not the request.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The XML answer, `<Error>...</Error>`; HEAD answers carry the status only.
    pub fn response(&self, request_id: &str, head: bool) -> RestResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        if head {
            return RestResponse::new(status, bytes::Bytes::new());
        }
        let mut body = String::with_capacity(256);
        body.push_str(xml::DECL);
        body.push_str("<Error>");
        xml::element(&mut body, "Code", self.code);
        xml::element(&mut body, "Message", &self.message);
        for (name, value) in &self.fields {
            xml::element(&mut body, name, value);
        }
        xml::element(&mut body, "RequestId", request_id);
        xml::element(&mut body, "HostId", &host_id(request_id));
        body.push_str("</Error>");
        RestResponse::xml(status, body)
    }
}

/// The `x-amz-id-2` / `<HostId>` S3 sends beside the request ID: opaque, derived from it.
pub fn host_id(request_id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(request_id.as_bytes()))
}

impl From<AwsError> for S3Error {
    /// A shared error (signature checks, storage) in S3's vocabulary.
    fn from(e: AwsError) -> Self {
        match e.code {
            "InvalidSignatureException" if e.message.starts_with("Signature expired") => {
                S3Error::new(
                    403,
                    "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.",
                )
            }
            "InvalidSignatureException" => S3Error::new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            ),
            "IncompleteSignatureException" => S3Error::new(
                400,
                "AuthorizationHeaderMalformed",
                format!("The authorization header is malformed; {}", e.message),
            ),
            "UnrecognizedClientException" => S3Error::new(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            "MissingAuthenticationTokenException" => {
                S3Error::new(403, "AccessDenied", "Access Denied")
            }
            "InvalidToken" => S3Error::new(
                400,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            ),
            "ExpiredToken" => S3Error::new(400, "ExpiredToken", "The provided token has expired."),
            "InternalFailure" => S3Error::internal(e.message),
            code => S3Error::new(e.status, code, e.message),
        }
    }
}
