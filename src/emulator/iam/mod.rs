//! AWS Identity and Access Management (query protocol, `Version=2010-05-08`): managed
//! policies and their versions, roles, attachments, users and access keys. A global service:
//! one namespace per account, ARNs without a region.

use http::StatusCode;

use super::dispatch::Ctx;
use super::error::AwsError;
use super::rest::{RestRequest, RestResponse};
use super::storage::{Storage, StorageError};

/// The emulated IAM.
pub struct Iam {
    #[allow(dead_code)]
    storage: Option<std::sync::Arc<Storage>>,
}

impl Iam {
    /// The service, recovering what `storage` holds.
    pub fn new(storage: Option<std::sync::Arc<Storage>>) -> Result<Iam, StorageError> {
        Ok(Iam { storage })
    }

    /// Answers one IAM request.
    pub fn handle(&self, _ctx: &Ctx, req: &RestRequest) -> RestResponse {
        error_response(
            &AwsError::client("InvalidAction", "IAM is not served yet."),
            &req.request_id,
        )
    }
}

/// An IAM XML error answer for `error` (also used for failed signature checks).
pub fn error_response(error: &AwsError, request_id: &str) -> RestResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    RestResponse::xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            error.code, error.message
        ),
    )
}
