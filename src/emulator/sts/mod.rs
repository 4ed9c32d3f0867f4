//! AWS Security Token Service (query protocol, `Version=2011-06-15`): temporary credentials
//! for roles, so that an access key maps to an IAM user *or* to a role session.
//!
//! [`assume`] answers `AssumeRole` (the role's trust policy and the caller's own policies
//! decide under `--iam-enforce`, see [`trust`]), [`identity`] answers `GetCallerIdentity`,
//! and [`sessions`] keeps the issued credentials, durably with `--data-dir`. The server
//! checks every request signed with a session key against [`Sts::check`] before its
//! signature, and under `--iam-enforce` the session then acts as its role
//! ([`crate::emulator::iam::enforce`]). Requests and answers are IAM's query protocol and XML
//! shapes, in STS's namespace.

pub mod assume;
pub mod identity;
pub mod sessions;
pub mod trust;

use std::sync::Arc;

use http::StatusCode;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::iam::enforce::Caller;
use super::iam::query::Params;
use super::iam::xml::esc;
use super::iam::{self, Iam};
use super::rest::{RestRequest, RestResponse};
use super::storage::{Storage, StorageError};
use sessions::{Session, Sessions};

/// STS's XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The operations served; an unsigned query-protocol request naming one of them goes to STS,
/// any other to IAM.
pub const ACTIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// What an operation answers: the XML inside `<{Action}Result>`.
pub type Answer = Result<String, AwsError>;

/// The emulated STS.
pub struct Sts {
    sessions: Sessions,
    clock: Arc<Clock>,
    enforce: bool,
}

impl Sts {
    /// The service, recovering the sessions `storage` holds; `enforce` is `--iam-enforce`.
    pub fn new(
        storage: Option<Arc<Storage>>,
        clock: Arc<Clock>,
        enforce: bool,
    ) -> Result<Sts, StorageError> {
        Ok(Sts {
            sessions: Sessions::open(storage, clock.now_ms())?,
            clock,
            enforce,
        })
    }

    /// The live session of access key `key` presenting session token `token`: `None` when
    /// the key is no session's, `InvalidToken` or `ExpiredToken` when it is but the token is
    /// wrong, missing or expired.
    pub fn check(&self, key: &str, token: Option<&str>) -> Result<Option<Arc<Session>>, AwsError> {
        self.sessions.check(key, token, self.clock.now_ms())
    }

    /// The session of access key `key`, unchecked (for identifying callers when signatures
    /// are not verified).
    pub fn session(&self, key: &str) -> Option<Arc<Session>> {
        self.sessions.get(key)
    }

    /// Answers one STS request from `caller`.
    pub fn handle(&self, iam: &Iam, ctx: &Ctx, caller: &Caller, req: &RestRequest) -> RestResponse {
        let form = req
            .header("content-type")
            .is_none_or(|t| t.starts_with("application/x-www-form-urlencoded"));
        let body: &[u8] = if form { &req.body } else { b"" };
        let params = Params::parse(&req.query, body);
        let Some(action) = params.get("Action").map(str::to_owned) else {
            return error_response(
                &AwsError::client("MissingAction", "Missing Action"),
                &req.request_id,
            );
        };
        let result = match action.as_str() {
            "AssumeRole" => assume::assume_role(self, iam, ctx, caller, &params),
            "GetCallerIdentity" => Ok(identity::get_caller_identity(ctx, caller)),
            _ => Err(AwsError::client(
                "InvalidAction",
                format!("Could not find operation {action} for version 2011-06-15"),
            )),
        };
        match result {
            Ok(result) => RestResponse::xml(
                StatusCode::OK,
                format!(
                    "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
                    esc(&req.request_id)
                ),
            ),
            Err(e) => error_response(&e, &req.request_id),
        }
    }
}

/// An STS XML error answer for `error` (also used for failed signature checks).
pub fn error_response(error: &AwsError, request_id: &str) -> RestResponse {
    let (code, status) = iam::iam_code(error);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    RestResponse::xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            esc(&error.message),
            esc(request_id)
        ),
    )
}

/// A session-token refusal in the words of the JSON services (Kinesis, Firehose):
/// `UnrecognizedClientException` for an invalid token, `ExpiredTokenException` for an
/// expired one; other errors unchanged.
pub fn for_json(error: AwsError) -> AwsError {
    match error.code {
        "InvalidToken" => AwsError::client(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        "ExpiredToken" => AwsError::client(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8]) -> RestRequest {
        RestRequest {
            method: http::Method::POST,
            path: "/".to_owned(),
            query: String::new(),
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::copy_from_slice(body),
            request_id: "r".to_owned(),
        }
    }

    /// Valid requests mutated byte by byte and truncated: every answer is XML with a status,
    /// nothing panics.
    #[test]
    fn malformed_input_never_panics() {
        let iam = Iam::new(None).unwrap();
        let sts = Sts::new(None, Arc::new(Clock::default()), true).unwrap();
        let ctx = Ctx {
            account: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
        };
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}}"#;
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let create = format!(
            "Action=CreateRole&RoleName=r&AssumeRolePolicyDocument={}",
            encode(trust)
        );
        assert_eq!(iam.handle(&ctx, &request(create.as_bytes())).status, 200);
        let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let seeds = [
            format!(
                "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s1&DurationSeconds=900&ExternalId=abc&Policy={}",
                encode(policy)
            ),
            "Action=GetCallerIdentity".to_owned(),
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        };
        for round in 0..2000 {
            let mut body = seeds[round % seeds.len()].clone().into_bytes();
            let len = body.len() as u64;
            match next() % 3 {
                0 => {
                    let i = (next() % len) as usize;
                    body[i] = next() as u8;
                }
                1 => body.truncate((next() % len) as usize),
                _ => body.insert((next() % len) as usize, b'%'),
            }
            let answer = sts.handle(&iam, &ctx, &Caller::Root, &request(&body));
            assert!(answer.body.starts_with(b"<"), "{body:?}");
        }
    }
}
