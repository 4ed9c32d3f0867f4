//! Enforcement (`--iam-enforce`): what a signed request asks for, as IAM sees it (an action
//! such as `kinesis:PutRecord` and the ARN of the resource it names), and the decision for
//! the IAM user whose access key signed it.
//!
//! Requests signed with a `--credential` key are the account's root and are never evaluated;
//! requests signed with a key from `CreateAccessKey` are evaluated against that user's inline
//! and attached policies ([`super::evaluate`]), and requests signed with a role session's
//! temporary credentials (STS) against the role's, narrowed by the session policy. Kinesis, Firehose, S3 and IAM requests are
//! mapped; S3 is mapped for path-style and `<bucket>.localhost` / `<bucket>.s3.*` hosts.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use super::evaluate::{self, Decision, Request};
use super::{Iam, KeyOwner, model, query::Params};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::AwsError;
use crate::emulator::protocol::Protocol;

/// What a request asks: `service:Operation` and the resource ARN (`*` when it names none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The IAM action.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
}

/// The members of a JSON-RPC request that name its resource.
#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Names {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    shard_iterator: Option<String>,
    delivery_stream_name: Option<String>,
    application_name: Option<String>,
}

/// The target of a Kinesis (`Kinesis_20131202`), Firehose (`Firehose_20150804`) or Managed
/// Service for Apache Flink (`KinesisAnalytics_20180523`) call.
pub fn json_rpc_target(
    service: &str,
    operation: &str,
    protocol: Protocol,
    body: &[u8],
    ctx: &Ctx,
) -> Target {
    let names: Names = protocol.decode(body).unwrap_or_default();
    let (region, account) = (&ctx.region, &ctx.account);
    if service == crate::emulator::firehose::TARGET_PREFIX {
        let resource = match names.delivery_stream_name {
            Some(name) => format!("arn:aws:firehose:{region}:{account}:deliverystream/{name}"),
            None => names.resource_arn.unwrap_or_else(|| "*".to_owned()),
        };
        return Target {
            action: format!("firehose:{operation}"),
            resource,
        };
    }
    if service == crate::emulator::analytics::TARGET_PREFIX {
        let resource = match names.application_name {
            Some(name) => format!("arn:aws:kinesisanalytics:{region}:{account}:application/{name}"),
            None => names.resource_arn.unwrap_or_else(|| "*".to_owned()),
        };
        return Target {
            action: format!("kinesisanalytics:{operation}"),
            resource,
        };
    }
    let stream = names.stream_name.or_else(|| {
        names
            .shard_iterator
            .as_deref()
            .and_then(crate::emulator::kinesis::iterator_stream)
    });
    let resource = match (
        names.consumer_arn,
        names.stream_arn,
        stream,
        names.resource_arn,
    ) {
        (Some(consumer), _, _, _) => consumer,
        (None, Some(arn), _, _) => arn,
        (None, None, Some(name), _) => format!("arn:aws:kinesis:{region}:{account}:stream/{name}"),
        (None, None, None, Some(arn)) => arn,
        (None, None, None, None) => "*".to_owned(),
    };
    Target {
        action: format!("kinesis:{operation}"),
        resource,
    }
}

/// The object a CopyObject or UploadPartCopy reads, from its `x-amz-copy-source` header
/// (`bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=...`): the caller must
/// be allowed `s3:GetObject` on it as well as the write on the destination.
pub fn s3_copy_source_target(header: &str) -> Option<Target> {
    let source = header.split('?').next().unwrap_or_default();
    let source = percent_encoding::percent_decode_str(source).decode_utf8_lossy();
    let (bucket, key) = source.trim_start_matches('/').split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| Target {
        action: "s3:GetObject".to_owned(),
        resource: format!("arn:aws:s3:::{bucket}/{key}"),
    })
}

/// The target of an S3 REST request with `method` and `query` for `bucket` and `key` (as
/// [`crate::emulator::s3::S3::address`] reads them from the Host and path; either may be
/// empty).
pub fn s3_target(method: &str, bucket: &str, key: &str, query: &str) -> Target {
    let has = |name: &str| {
        query
            .split('&')
            .any(|p| p == name || p.starts_with(&format!("{name}=")))
    };
    let by_method = |get: &str, put: &str, delete: &str| match method {
        "PUT" => put.to_owned(),
        "DELETE" => delete.to_owned(),
        _ => get.to_owned(),
    };
    let action = if bucket.is_empty() {
        "ListAllMyBuckets".to_owned()
    } else if key.is_empty() {
        if has("tagging") {
            by_method("GetBucketTagging", "PutBucketTagging", "PutBucketTagging")
        } else if has("policy") {
            by_method("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy")
        } else if has("location") {
            "GetBucketLocation".to_owned()
        } else if has("versioning") {
            by_method(
                "GetBucketVersioning",
                "PutBucketVersioning",
                "PutBucketVersioning",
            )
        } else if has("lifecycle") {
            by_method(
                "GetLifecycleConfiguration",
                "PutLifecycleConfiguration",
                "PutLifecycleConfiguration",
            )
        } else if has("cors") {
            by_method("GetBucketCORS", "PutBucketCORS", "PutBucketCORS")
        } else if has("encryption") {
            by_method(
                "GetEncryptionConfiguration",
                "PutEncryptionConfiguration",
                "PutEncryptionConfiguration",
            )
        } else if has("acl") {
            by_method("GetBucketAcl", "PutBucketAcl", "PutBucketAcl")
        } else if has("uploads") {
            "ListBucketMultipartUploads".to_owned()
        } else if has("versions") {
            "ListBucketVersions".to_owned()
        } else if has("delete") && method == "POST" {
            "DeleteObject".to_owned()
        } else {
            by_method("ListBucket", "CreateBucket", "DeleteBucket")
        }
    } else if has("uploadId") {
        match method {
            "DELETE" => "AbortMultipartUpload".to_owned(),
            "GET" => "ListMultipartUploadParts".to_owned(),
            _ => "PutObject".to_owned(),
        }
    } else if has("uploads") {
        "PutObject".to_owned()
    } else if has("tagging") {
        by_method(
            "GetObjectTagging",
            "PutObjectTagging",
            "DeleteObjectTagging",
        )
    } else if has("acl") {
        by_method("GetObjectAcl", "PutObjectAcl", "PutObjectAcl")
    } else {
        match method {
            "PUT" | "POST" => "PutObject".to_owned(),
            "DELETE" => "DeleteObject".to_owned(),
            _ => "GetObject".to_owned(),
        }
    };
    let resource = match (bucket, key) {
        ("", _) => "*".to_owned(),
        (bucket, "") => format!("arn:aws:s3:::{bucket}"),
        (bucket, key) => format!("arn:aws:s3:::{bucket}/{key}"),
    };
    Target {
        action: format!("s3:{action}"),
        resource,
    }
}

impl Iam {
    /// The target of an IAM request with parameters `params`: the policy, role or user it
    /// names.
    pub fn iam_target(&self, account: &str, params: &Params) -> Target {
        let action = format!("iam:{}", params.get("Action").unwrap_or_default());
        let resource = if let Some(arn) = params.get("PolicyArn") {
            arn.to_owned()
        } else if let Some(name) = params.get("RoleName") {
            let path = self.read(account, |s| {
                s.roles.get(&name.to_lowercase()).map(|r| r.path.clone())
            });
            let path = path.or_else(|| params.owned("Path"));
            model::arn(account, "role", path.as_deref().unwrap_or("/"), name)
        } else if let Some(name) = params.get("UserName") {
            let path = self.read(account, |s| {
                s.users.get(&name.to_lowercase()).map(|u| u.path.clone())
            });
            let path = path.or_else(|| params.owned("Path"));
            model::arn(account, "user", path.as_deref().unwrap_or("/"), name)
        } else if let Some(name) = params.get("PolicyName") {
            let path = params.get("Path").unwrap_or("/");
            model::arn(account, "policy", path, name)
        } else {
            "*".to_owned()
        };
        Target { action, resource }
    }

    /// Decides whether `caller` may do `target`; the refusal is `AccessDeniedException` with
    /// AWS's message naming the user or assumed-role ARN (each front maps the code to its
    /// protocol's). The account's root may do anything. A role session gets what its role's
    /// current policies allow, narrowed by its session policy; a session whose role was
    /// deleted (or deleted and created again) gets nothing.
    pub fn authorize(&self, caller: &Caller, target: &Target, ctx: &Ctx) -> Result<(), AwsError> {
        let (arn, documents, session_policy, context) = match caller {
            Caller::Root => return Ok(()),
            Caller::User(owner) => (
                owner.user_arn.clone(),
                self.user_policies(&owner.account, &owner.user),
                None,
                condition_context(
                    ctx,
                    &owner.account,
                    &owner.user_arn,
                    &owner.user_id,
                    "User",
                    Some(&owner.user),
                ),
            ),
            Caller::Role(session) => {
                let role = self
                    .role(&session.account, &session.role_name)
                    .filter(|r| r.id == session.role_id);
                let role_arn = role.as_ref().map_or_else(
                    || model::arn(&session.account, "role", "/", &session.role_name),
                    |r| r.arn.clone(),
                );
                (
                    session.arn(),
                    role.map(|r| r.policies.clone())
                        .unwrap_or_else(|| Arc::new([])),
                    session.policy.clone(),
                    condition_context(
                        ctx,
                        &session.account,
                        &role_arn,
                        &session.user_id(),
                        "AssumedRole",
                        None,
                    ),
                )
            }
        };
        let request = Request {
            action: &target.action,
            resource: &target.resource,
            context: &context,
        };
        let denied = |decision, policy_type| {
            AwsError::client(
                "AccessDeniedException",
                evaluate::denial_message_for(&arn, &request, decision, policy_type),
            )
        };
        match evaluate::evaluate_parsed(&documents, &request) {
            Decision::Allow => {}
            decision => return Err(denied(decision, "identity-based")),
        }
        if let Some(policy) = session_policy {
            match evaluate::evaluate_parsed(&[policy], &request) {
                Decision::Allow => {}
                decision => return Err(denied(decision, "session")),
            }
        }
        Ok(())
    }
}

/// The global condition keys of a request by the principal `principal_arn`.
fn condition_context(
    ctx: &Ctx,
    account: &str,
    principal_arn: &str,
    user_id: &str,
    principal_type: &str,
    user_name: Option<&str>,
) -> HashMap<String, Vec<String>> {
    let now = model::now();
    let mut context: HashMap<String, Vec<String>> = [
        ("aws:PrincipalArn", principal_arn.to_owned()),
        ("aws:PrincipalAccount", account.to_owned()),
        ("aws:PrincipalType", principal_type.to_owned()),
        ("aws:userid", user_id.to_owned()),
        ("aws:SecureTransport", "false".to_owned()),
        ("aws:RequestedRegion", ctx.region.clone()),
        (
            "aws:CurrentTime",
            crate::emulator::dates::iso8601_seconds(now),
        ),
        ("aws:EpochTime", now.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), vec![v]))
    .collect();
    if let Some(name) = user_name {
        context.insert("aws:username".to_owned(), vec![name.to_owned()]);
    }
    context
}

/// Who signed a request, as enforcement sees them.
#[derive(Clone, Debug)]
pub enum Caller {
    /// The account's root: a `--credential` key (or any key when nothing is enforced).
    Root,
    /// An IAM user, by an access key from `CreateAccessKey`.
    User(KeyOwner),
    /// A role session, by temporary credentials from STS `AssumeRole`.
    Role(Arc<RoleSession>),
}

impl Caller {
    /// The account the caller belongs to; `None` for the root, whose account comes from the
    /// request's access key.
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Root => None,
            Caller::User(owner) => Some(&owner.account),
            Caller::Role(session) => Some(&session.account),
        }
    }
}

/// A role session as enforcement sees it.
#[derive(Clone, Debug)]
pub struct RoleSession {
    /// The role's account.
    pub account: String,
    /// The role's name as created.
    pub role_name: String,
    /// The role's `AROA...` ID when the session began.
    pub role_id: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// The session policy passed to `AssumeRole`, parsed.
    pub policy: Option<Arc<serde_json::Value>>,
}

impl RoleSession {
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account, self.role_name, self.session_name
        )
    }

    /// `AROA...:<session>`, the session's `aws:userid` and `UserId`.
    pub fn user_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_name_the_object_read() {
        let cases = [
            ("src/a%20b.txt", Some("arn:aws:s3:::src/a b.txt")),
            ("/src/dir/k?versionId=1", Some("arn:aws:s3:::src/dir/k")),
            ("src", None),
            ("/src/", None),
        ];
        for (header, expected) in cases {
            assert_eq!(
                s3_copy_source_target(header).map(|t| t.resource),
                expected.map(str::to_owned),
                "{header}"
            );
        }
    }
    use crate::emulator::clock::Clock;
    use crate::emulator::s3::S3;
    use std::sync::Arc;

    #[test]
    fn s3_requests_map_to_actions_and_arns() {
        let cases = [
            ("GET", "/", "", None, "s3:ListAllMyBuckets", "*"),
            ("PUT", "/b", "", None, "s3:CreateBucket", "arn:aws:s3:::b"),
            (
                "GET",
                "/b",
                "list-type=2",
                None,
                "s3:ListBucket",
                "arn:aws:s3:::b",
            ),
            (
                "GET",
                "/b/k%20y",
                "",
                None,
                "s3:GetObject",
                "arn:aws:s3:::b/k y",
            ),
            (
                "HEAD",
                "/b/a/b",
                "",
                None,
                "s3:GetObject",
                "arn:aws:s3:::b/a/b",
            ),
            (
                "PUT",
                "/b/k",
                "partNumber=1&uploadId=x",
                None,
                "s3:PutObject",
                "arn:aws:s3:::b/k",
            ),
            (
                "DELETE",
                "/b/k",
                "uploadId=x",
                None,
                "s3:AbortMultipartUpload",
                "arn:aws:s3:::b/k",
            ),
            (
                "DELETE",
                "/b/k",
                "",
                None,
                "s3:DeleteObject",
                "arn:aws:s3:::b/k",
            ),
            (
                "GET",
                "/b",
                "tagging",
                None,
                "s3:GetBucketTagging",
                "arn:aws:s3:::b",
            ),
            (
                "GET",
                "/k",
                "",
                Some("b.localhost:4566"),
                "s3:GetObject",
                "arn:aws:s3:::b/k",
            ),
            (
                "GET",
                "/",
                "",
                Some("b.s3.us-east-1.amazonaws.com"),
                "s3:ListBucket",
                "arn:aws:s3:::b",
            ),
            (
                "GET",
                "/b/k",
                "",
                Some("s3.localhost.localstack.cloud:4566"),
                "s3:GetObject",
                "arn:aws:s3:::b/k",
            ),
            (
                "GET",
                "/b/k",
                "",
                Some("emulator.default.svc:4566"),
                "s3:GetObject",
                "arn:aws:s3:::b/k",
            ),
        ];
        let s3 = S3::new(Arc::new(Clock::default()), None).unwrap();
        for (method, path, query, host, action, resource) in cases {
            let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
            let (bucket, key) = s3.address(host, &decoded);
            let target = s3_target(method, &bucket, &key, query);
            assert_eq!(
                (target.action.as_str(), target.resource.as_str()),
                (action, resource),
                "{method} {path}?{query}"
            );
        }
    }

    #[test]
    fn json_rpc_calls_name_their_streams() {
        let ctx = Ctx {
            account: "123456789012".to_owned(),
            region: "us-west-2".to_owned(),
        };
        let put = json_rpc_target(
            "Kinesis_20131202",
            "PutRecord",
            Protocol::Json,
            br#"{"StreamName":"MyStream","Data":"eA==","PartitionKey":"k"}"#,
            &ctx,
        );
        assert_eq!(put.action, "kinesis:PutRecord");
        assert_eq!(
            put.resource,
            "arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"
        );
        let list = json_rpc_target(
            "Kinesis_20131202",
            "ListStreams",
            Protocol::Json,
            b"{}",
            &ctx,
        );
        assert_eq!(list.resource, "*");
        let firehose = json_rpc_target(
            "Firehose_20150804",
            "PutRecord",
            Protocol::Json,
            br#"{"DeliveryStreamName":"my-delivery-stream"}"#,
            &ctx,
        );
        assert_eq!(
            (firehose.action.as_str(), firehose.resource.as_str()),
            (
                "firehose:PutRecord",
                "arn:aws:firehose:us-west-2:123456789012:deliverystream/my-delivery-stream"
            )
        );
        let garbage = json_rpc_target("Kinesis_20131202", "PutRecord", Protocol::Json, b"{", &ctx);
        assert_eq!(garbage.resource, "*");
    }
}
