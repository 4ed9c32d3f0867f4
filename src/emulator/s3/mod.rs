//! Amazon S3 (REST): buckets and objects for any S3 client, and the destination Firehose
//! writes to. Path-style (`/bucket/key`) and virtual-hosted (`bucket.host/key`) requests on the
//! emulator's one port.

use std::sync::Arc;

use http::StatusCode;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::rest::{RestRequest, RestResponse};
use super::storage::{Storage, StorageError};

/// The emulated S3.
pub struct S3 {
    #[allow(dead_code)]
    clock: Arc<Clock>,
    #[allow(dead_code)]
    storage: Option<Arc<Storage>>,
}

impl S3 {
    /// The service, recovering what `storage` holds.
    pub fn new(clock: Arc<Clock>, storage: Option<Arc<Storage>>) -> Result<S3, StorageError> {
        Ok(S3 { clock, storage })
    }

    /// Answers one S3 request.
    pub fn handle(&self, _ctx: &Ctx, req: &RestRequest) -> RestResponse {
        error_response(
            &AwsError {
                code: "NotImplemented",
                message: "A header you provided implies functionality that is not implemented."
                    .to_owned(),
                status: 501,
            },
            &req.request_id,
        )
    }
}

/// An S3 XML error answer for `error` (also used for failed signature checks).
pub fn error_response(error: &AwsError, request_id: &str) -> RestResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    RestResponse::xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
            error.code, error.message
        ),
    )
}
