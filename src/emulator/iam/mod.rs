//! AWS Identity and Access Management (query protocol, `Version=2010-05-08`): managed
//! policies and their versions, roles, attachments, users and access keys. A global service:
//! one namespace per account, ARNs without a region.
//!
//! Requests are form parameters answered with XML ([`query`], [`xml`]); each group of
//! operations has its module ([`policies`], [`roles`], [`users`], [`attachments`], and
//! [`principals`] for what roles and users share); documents
//! are checked by the pure [`document`] validator and evaluated by the pure [`evaluate`]
//! module, which [`enforce`] applies to signed requests under `--iam-enforce` (reading the
//! prepared [`index`], never the state itself). State is one [`model::Account`] per account
//! behind one lock: IAM calls are rare
//! and short, and a change is applied to a copy, stored ([`durable`]) and only then made
//! visible, so a failed write changes nothing and an acknowledged one survives a crash.

pub mod attachments;
pub mod aws_managed;
pub mod document;
pub mod durable;
pub mod enforce;
pub mod evaluate;
pub mod index;
pub mod model;
pub mod policies;
pub mod principals;
pub mod query;
pub mod roles;
pub mod users;
pub mod xml;

use std::collections::HashMap;
use std::sync::Arc;

use http::StatusCode;
use parking_lot::{Mutex, RwLock};

use super::dispatch::Ctx;
use super::error::AwsError;
use super::rest::{RestRequest, RestResponse};
use super::storage::{Storage, StorageError};
use durable::Durable;
use index::{Documents, Index, RoleEntry};
use model::{Account, Role, User};
use query::Params;

/// What an operation answers: the XML inside `<{Action}Result>`, or nothing.
pub type Answer = Result<Option<String>, AwsError>;

/// The owner of an access key created through `CreateAccessKey`, for request signing and
/// enforcement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    /// Account ID.
    pub account: String,
    /// User name.
    pub user: String,
    /// The user's `AIDA...` ID.
    pub user_id: String,
    /// The user's ARN.
    pub user_arn: String,
    /// Secret access key.
    pub secret: String,
    /// False once the key was made `Inactive`.
    pub active: bool,
}

/// The emulated IAM.
pub struct Iam {
    accounts: Mutex<HashMap<String, Account>>,
    /// What enforcement reads per request, rebuilt after each change (see [`index`]).
    index: RwLock<Index>,
    durable: Option<Durable>,
}

impl Iam {
    /// The service, recovering what `storage` holds.
    pub fn new(storage: Option<Arc<Storage>>) -> Result<Iam, StorageError> {
        let durable = storage.map(Durable::open).transpose()?;
        let accounts = match &durable {
            Some(d) => d.load()?,
            None => HashMap::new(),
        };
        let mut index = Index::default();
        for (id, account) in &accounts {
            index.rebuild(id, Some(account));
        }
        Ok(Iam {
            accounts: Mutex::new(accounts),
            index: RwLock::new(index),
            durable,
        })
    }

    /// Answers one IAM request.
    pub fn handle(&self, ctx: &Ctx, req: &RestRequest) -> RestResponse {
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
        match self.dispatch(ctx, &action, &params) {
            Ok(result) => RestResponse::xml(
                StatusCode::OK,
                xml::envelope(&action, result.as_deref(), &req.request_id),
            ),
            Err(e) => error_response(&e, &req.request_id),
        }
    }

    fn dispatch(&self, ctx: &Ctx, action: &str, p: &Params) -> Answer {
        match action {
            "CreatePolicy" => policies::create(self, ctx, p),
            "GetPolicy" => policies::get(self, ctx, p),
            "ListPolicies" => policies::list(self, ctx, p),
            "DeletePolicy" => policies::delete(self, ctx, p),
            "CreatePolicyVersion" => policies::create_version(self, ctx, p),
            "GetPolicyVersion" => policies::get_version(self, ctx, p),
            "ListPolicyVersions" => policies::list_versions(self, ctx, p),
            "DeletePolicyVersion" => policies::delete_version(self, ctx, p),
            "SetDefaultPolicyVersion" => policies::set_default_version(self, ctx, p),
            "TagPolicy" => policies::tag(self, ctx, p),
            "UntagPolicy" => policies::untag(self, ctx, p),
            "ListPolicyTags" => policies::list_tags(self, ctx, p),
            "CreateRole" => roles::create(self, ctx, p),
            "GetRole" => roles::get(self, ctx, p),
            "ListRoles" => principals::list::<Role>(self, ctx, p),
            "DeleteRole" => roles::delete(self, ctx, p),
            "UpdateRole" => roles::update(self, ctx, p),
            "UpdateRoleDescription" => roles::update_description(self, ctx, p),
            "UpdateAssumeRolePolicy" => roles::update_trust(self, ctx, p),
            "TagRole" => principals::tag::<Role>(self, ctx, p),
            "UntagRole" => principals::untag::<Role>(self, ctx, p),
            "ListRoleTags" => principals::list_tags::<Role>(self, ctx, p),
            "PutRolePolicy" => principals::put_inline::<Role>(self, ctx, p),
            "GetRolePolicy" => principals::get_inline::<Role>(self, ctx, p),
            "DeleteRolePolicy" => principals::delete_inline::<Role>(self, ctx, p),
            "ListRolePolicies" => principals::list_inline::<Role>(self, ctx, p),
            "AttachRolePolicy" => attachments::attach::<Role>(self, ctx, p),
            "DetachRolePolicy" => attachments::detach::<Role>(self, ctx, p),
            "ListAttachedRolePolicies" => attachments::list_attached::<Role>(self, ctx, p),
            "AttachUserPolicy" => attachments::attach::<User>(self, ctx, p),
            "DetachUserPolicy" => attachments::detach::<User>(self, ctx, p),
            "ListAttachedUserPolicies" => attachments::list_attached::<User>(self, ctx, p),
            "ListEntitiesForPolicy" => attachments::list_entities(self, ctx, p),
            "CreateUser" => users::create(self, ctx, p),
            "GetUser" => users::get(self, ctx, p),
            "ListUsers" => principals::list::<User>(self, ctx, p),
            "DeleteUser" => users::delete(self, ctx, p),
            "TagUser" => principals::tag::<User>(self, ctx, p),
            "UntagUser" => principals::untag::<User>(self, ctx, p),
            "ListUserTags" => principals::list_tags::<User>(self, ctx, p),
            "PutUserPolicy" => principals::put_inline::<User>(self, ctx, p),
            "GetUserPolicy" => principals::get_inline::<User>(self, ctx, p),
            "DeleteUserPolicy" => principals::delete_inline::<User>(self, ctx, p),
            "ListUserPolicies" => principals::list_inline::<User>(self, ctx, p),
            "CreateAccessKey" => users::create_key(self, ctx, p),
            "ListAccessKeys" => users::list_keys(self, ctx, p),
            "UpdateAccessKey" => users::update_key(self, ctx, p),
            "DeleteAccessKey" => users::delete_key(self, ctx, p),
            _ => Err(AwsError::client(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            )),
        }
    }

    /// Runs `f` on the state of `account` (empty when it has none yet).
    pub fn read<T>(&self, account: &str, f: impl FnOnce(&Account) -> T) -> T {
        let accounts = self.accounts.lock();
        match accounts.get(account) {
            Some(a) => f(a),
            None => f(&Account::default()),
        }
    }

    /// Applies `f` to a copy of the state of `account`, stores the copy and then makes it
    /// current; nothing changes when `f` or the store fails.
    pub fn write<T>(
        &self,
        account: &str,
        f: impl FnOnce(&mut Account) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let mut accounts = self.accounts.lock();
        let mut copy = accounts.get(account).cloned().unwrap_or_default();
        let out = f(&mut copy)?;
        if let Some(durable) = &self.durable {
            durable.save(account, &copy)?;
        }
        // Rebuilt under the accounts lock, so indexes are replaced in the order of the changes.
        let mut index = Index::default();
        index.rebuild(account, Some(&copy));
        self.index.write().replace(account, index);
        accounts.insert(account.to_owned(), copy);
        Ok(out)
    }

    /// The owner of access key `id` created through `CreateAccessKey`.
    pub fn key_owner(&self, id: &str) -> Option<KeyOwner> {
        self.index.read().key(id).cloned()
    }

    /// Role `name` (any case) of `account`, with its parsed policies.
    pub fn role(&self, account: &str, name: &str) -> Option<Arc<RoleEntry>> {
        self.index.read().role(account, name)
    }

    /// The parsed policies of user `name` of `account`.
    pub fn user_policies(&self, account: &str, name: &str) -> Documents {
        self.index.read().user_policies(account, name)
    }
}

/// Maps the signature checker's JSON-RPC error codes to IAM's codes and statuses.
pub fn iam_code(error: &AwsError) -> (&'static str, u16) {
    match error.code {
        "InvalidSignatureException" => ("SignatureDoesNotMatch", 403),
        "UnrecognizedClientException" | "InvalidToken" => ("InvalidClientTokenId", 403),
        "ExpiredToken" => ("ExpiredToken", 403),
        "MissingAuthenticationTokenException" => ("MissingAuthenticationToken", 403),
        "IncompleteSignatureException" => ("IncompleteSignature", 400),
        "AccessDeniedException" => ("AccessDenied", 403),
        other => (other, error.status),
    }
}

/// An IAM XML error answer for `error` (also used for failed signature checks).
pub fn error_response(error: &AwsError, request_id: &str) -> RestResponse {
    let (code, status) = iam_code(error);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    RestResponse::xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            xml::NAMESPACE,
            code,
            xml::esc(&error.message),
            xml::esc(request_id)
        ),
    )
}

/// `NoSuchEntity` (404).
pub fn no_such_entity(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "NoSuchEntity",
        message: message.into(),
        status: 404,
    }
}

/// A 409 conflict: `EntityAlreadyExists`, `DeleteConflict` or `LimitExceeded`.
pub fn conflict(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        code,
        message: message.into(),
        status: 409,
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

    /// Valid requests mutated byte by byte, truncated and spliced: every answer is XML with a
    /// status, nothing panics.
    #[test]
    fn malformed_input_never_panics() {
        let document = r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":["s3:Get*"],"Resource":"arn:aws:s3:::b/*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2017-07-01T00:00:00Z"},"ForAnyValue:StringLike":{"k":["v*"]}}}]}"#;
        let trust = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let seeds: Vec<String> = vec![
            format!("Action=CreatePolicy&PolicyName=p&Path=/a/&PolicyDocument={}&Tags.member.1.Key=k&Tags.member.1.Value=v", encode(document)),
            format!("Action=CreateRole&RoleName=r&AssumeRolePolicyDocument={}&MaxSessionDuration=3600", encode(trust)),
            format!("Action=PutRolePolicy&RoleName=r&PolicyName=i&PolicyDocument={}", encode(document)),
            "Action=AttachRolePolicy&RoleName=r&PolicyArn=arn:aws:iam::000000000000:policy/a/p".to_owned(),
            "Action=ListPolicies&Scope=Local&MaxItems=1&Marker=arn&OnlyAttached=true".to_owned(),
            "Action=CreateUser&UserName=u&Path=/".to_owned(),
            "Action=CreateAccessKey&UserName=u".to_owned(),
            "Action=ListEntitiesForPolicy&PolicyArn=arn:aws:iam::aws:policy/AmazonKinesisFullAccess&EntityFilter=Role".to_owned(),
            "Action=GetPolicyVersion&PolicyArn=arn:aws:iam::000000000000:policy/a/p&VersionId=v1".to_owned(),
        ];
        let iam = Iam::new(None).expect("memory-only IAM");
        let ctx = Ctx {
            account: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for seed in &seeds {
            assert_eq!(
                iam.handle(&ctx, &request(seed.as_bytes())).status,
                StatusCode::OK,
                "{seed}"
            );
        }
        for round in 0..3000 {
            let mut body = seeds[round % seeds.len()].clone().into_bytes();
            for _ in 0..=(next() % 4) {
                let len = body.len().max(1) as u64;
                match next() % 4 {
                    0 if !body.is_empty() => {
                        let i = (next() % len) as usize;
                        body[i] = next() as u8;
                    }
                    1 => body.truncate((next() % len) as usize),
                    2 => {
                        let other = seeds[(next() % seeds.len() as u64) as usize].as_bytes();
                        let at = (next() % other.len() as u64) as usize;
                        body.extend_from_slice(&other[at..]);
                    }
                    _ => {
                        let i = (next() % len) as usize;
                        body.insert(
                            i.min(body.len()),
                            b"%{}[]\":,&=\x00"[(next() % 11) as usize],
                        );
                    }
                }
            }
            let answer = iam.handle(&ctx, &request(&body));
            assert!(
                answer.body.starts_with(b"<"),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        for seed in [document, trust] {
            for cut in 0..seed.len() {
                let _ = document::validate(&seed[..cut], document::Kind::Identity);
                let _ = document::validate(&seed[..cut], document::Kind::Trust);
            }
        }
    }

    #[test]
    fn signature_errors_use_iams_codes() {
        let e = AwsError {
            code: "InvalidSignatureException",
            message: "bad <sig>".into(),
            status: 403,
        };
        let answer = error_response(&e, "id");
        let body = String::from_utf8_lossy(&answer.body);
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(
            body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{body}"
        );
        assert!(body.contains("bad &lt;sig&gt;"), "{body}");
    }
}
