//! `AssumeRole`: temporary credentials that act as a role.
//!
//! The checks come in AWS's order: the model's constraints (`ValidationError`), the session
//! policy (`MalformedPolicyDocument` with IAM's messages, `PackedPolicyTooLarge`), then who
//! may assume the role (`AccessDenied`, the same message whether the role is missing or
//! the caller is not trusted, so that a refusal does not reveal which roles exist), then the
//! duration against the role's `MaxSessionDuration`. Under `--iam-enforce` the role's trust
//! policy must allow the caller ([`super::trust`]) and, unless it names the caller itself in
//! the role's own account, the caller's identity policies must allow `sts:AssumeRole` on the
//! role; the account's root may not assume roles. Without enforcement an existing role is
//! enough. The answer's `PackedPolicySize` is the compressed session policy's share of an
//! allotment of 2048 bytes (AWS does not document its packing; this is an approximation).

use std::collections::HashMap;
use std::io::Write;

use super::sessions::Stored;
use super::trust::{self, Asker, Trust};
use super::{Answer, Sts};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};
use crate::emulator::iam::document::{self, Kind};
use crate::emulator::iam::enforce::{Caller, Target};
use crate::emulator::iam::query::{self, Params, validation_error};
use crate::emulator::iam::xml::Xml;
use crate::emulator::iam::{Iam, model};

/// Compressed bytes a session policy may take: its `PackedPolicySize` is the share of this.
const PACKED_ALLOTMENT: usize = 2048;
/// The largest session token STS issues, in bytes (`SessionTokenUtilization` is a share of it).
const MAX_TOKEN_BYTES: usize = 4096;
/// The longest session a role session may start (role chaining).
const CHAINED_MAX_SECONDS: i64 = 3600;

/// `[\w+=,.@-]*`.
fn is_session_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'))
}

/// `[\w+=,.@:\/-]*`.
fn is_external_id(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-')
    })
}

/// The account, path and name of `arn:aws:iam::<account>:role/<path><name>`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let resource = resource
        .strip_prefix("role")
        .filter(|r| r.starts_with('/'))?;
    let last = resource.rfind('/')?;
    let (path, name) = (&resource[..=last], &resource[last + 1..]);
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (valid_account && query::is_name(name)).then_some((account, path, name))
}

/// The percentage of [`PACKED_ALLOTMENT`] the session policy takes once compressed.
fn packed_size(policy: &str) -> usize {
    let minified: String = policy.chars().filter(|c| !c.is_whitespace()).collect();
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let packed = match encoder.write_all(minified.as_bytes()) {
        Ok(()) => encoder.finish().map_or(minified.len(), |b| b.len()),
        Err(_) => minified.len(),
    };
    (packed * 100).div_ceil(PACKED_ALLOTMENT)
}

fn access_denied(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "AccessDenied",
        message: message.into(),
        status: 403,
    }
}

/// A session token: opaque, as long as AWS's.
fn new_token() -> String {
    let mut token = "IQoJb3JpZ2luX2VjE".to_owned();
    for _ in 0..8 {
        token.push_str(&model::new_secret());
    }
    token
}

/// `AssumeRole`.
pub fn assume_role(sts: &Sts, iam: &Iam, ctx: &Ctx, caller: &Caller, p: &Params) -> Answer {
    let mut v = Validation::new();
    let role_arn = p.owned("RoleArn");
    v.required_length("roleArn", &role_arn, 20, 2048);
    let session_name = p.owned("RoleSessionName");
    v.required_length("roleSessionName", &session_name, 2, 64);
    if let Some(s) = &session_name {
        v.pattern("roleSessionName", s, r"[\w+=,.@-]*", is_session_name);
    }
    let policy = p.owned("Policy");
    if let Some(text) = &policy {
        v.length("policy", text, 1, 2048);
        v.pattern(
            "policy",
            text,
            r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            query::is_document_text,
        );
    }
    let duration = p.integer("DurationSeconds")?;
    if let Some(d) = duration {
        v.range("durationSeconds", d, 900, 43200);
    }
    let external_id = p.owned("ExternalId");
    if let Some(id) = &external_id {
        v.length("externalId", id, 2, 1224);
        v.pattern("externalId", id, r"[\w+=,.@:\/-]*", is_external_id);
    }
    query::finish(v)?;
    let (role_arn, session_name) = (
        role_arn.unwrap_or_default(),
        session_name.unwrap_or_default(),
    );
    let packed = match &policy {
        Some(text) => {
            document::validate(text, Kind::Identity)?;
            let size = packed_size(text);
            if size > 100 {
                return Err(AwsError::client(
                    "PackedPolicyTooLarge",
                    format!(
                        "Packed policy consumes {size}% of allotted space, please use smaller policy."
                    ),
                ));
            }
            Some(size)
        }
        None => None,
    };
    let (account, path, name) =
        parse_role_arn(&role_arn).ok_or_else(|| validation_error("Request ARN is invalid"))?;

    let caller_account = caller.account().unwrap_or(&ctx.account).to_owned();
    let caller_arn = match caller {
        Caller::Root => format!("arn:aws:iam::{caller_account}:root"),
        Caller::User(owner) => owner.user_arn.clone(),
        Caller::Role(session) => session.arn(),
    };
    let denied = || {
        access_denied(format!(
            "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ))
    };
    if sts.enforce && matches!(caller, Caller::Root) {
        return Err(access_denied("Roles may not be assumed by root accounts."));
    }
    let role = iam
        .role(account, name)
        .filter(|r| {
            r.arn
                .eq_ignore_ascii_case(&model::arn(account, "role", path, name))
        })
        .ok_or_else(denied)?;
    if sts.enforce {
        let (arns, principal_arn, user_id, user_name) = match caller {
            Caller::User(owner) => (
                vec![owner.user_arn.clone()],
                owner.user_arn.clone(),
                owner.user_id.clone(),
                Some(owner.user.clone()),
            ),
            Caller::Role(session) => {
                let role_arn = iam.role(&session.account, &session.role_name).map_or_else(
                    || model::arn(&session.account, "role", "/", &session.role_name),
                    |r| r.arn.clone(),
                );
                (
                    vec![role_arn.clone(), session.arn()],
                    role_arn,
                    session.user_id(),
                    None,
                )
            }
            Caller::Root => (Vec::new(), caller_arn.clone(), caller_account.clone(), None),
        };
        let mut context: HashMap<String, Vec<String>> = [
            ("aws:PrincipalArn", principal_arn),
            ("aws:PrincipalAccount", caller_account.clone()),
            ("aws:userid", user_id),
            ("sts:RoleSessionName", session_name.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v]))
        .collect();
        if let Some(id) = &external_id {
            context.insert("sts:ExternalId".to_owned(), vec![id.clone()]);
        }
        if let Some(name) = user_name {
            context.insert("aws:username".to_owned(), vec![name]);
        }
        let asker = Asker {
            account: &caller_account,
            arns: &arns,
        };
        let trusted = trust::decide(&role.trust, &asker, &role.arn, &context);
        let needs_identity = !(trusted == Trust::Direct && caller_account == account);
        let target = Target {
            action: "sts:AssumeRole".to_owned(),
            resource: role.arn.clone(),
        };
        if trusted == Trust::Refused
            || (needs_identity && iam.authorize(caller, &target, ctx).is_err())
        {
            return Err(denied());
        }
    }
    let duration = duration.unwrap_or(3600);
    if matches!(caller, Caller::Role(_)) && duration > CHAINED_MAX_SECONDS {
        return Err(validation_error(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > role.max_session_duration {
        return Err(validation_error(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }

    let now_ms = sts.clock.now_ms();
    let expires_ms = now_ms.div_euclid(1000) * 1000 + duration * 1000;
    let stored = Stored {
        access_key: model::new_id("ASIA", 20),
        secret: model::new_secret(),
        token: new_token(),
        expires_ms,
        account: account.to_owned(),
        role_name: role.name.clone(),
        role_id: role.id.clone(),
        session_name: session_name.clone(),
        policy,
    };
    let assumed_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
        role.name
    );
    let assumed_id = format!("{}:{session_name}", role.id);
    let token_size = stored.token.len();
    let credentials = Xml::new()
        .text("AccessKeyId", &stored.access_key)
        .text("SecretAccessKey", &stored.secret)
        .text("SessionToken", &stored.token)
        .date("Expiration", expires_ms / 1000)
        .finish();
    sts.sessions.issue(stored, now_ms)?;
    let user = Xml::new()
        .text("AssumedRoleId", &assumed_id)
        .text("Arn", &assumed_arn)
        .finish();
    let mut x = Xml::new();
    x.raw("Credentials", &credentials)
        .raw("AssumedRoleUser", &user);
    if let Some(size) = packed {
        x.value("PackedPolicySize", size);
    }
    x.value(
        "SessionTokenUtilization",
        (token_size * 100).div_ceil(MAX_TOKEN_BYTES),
    )
    .value("SessionTokenSize", token_size);
    Ok(x.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_account_path_and_role() {
        let cases = [
            (
                "arn:aws:iam::123456789012:role/writer",
                Some(("123456789012", "/", "writer")),
            ),
            (
                "arn:aws:iam::123456789012:role/app/kinesis/writer",
                Some(("123456789012", "/app/kinesis/", "writer")),
            ),
            ("arn:aws:iam::123456789012:user/writer", None),
            ("arn:aws:iam::12345:role/writer", None),
            ("arn:aws:s3:::bucket/role/writer", None),
            ("arn:aws:iam::123456789012:role/", None),
            ("not an arn at all, really", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(parse_role_arn(arn), expected, "{arn}");
        }
    }

    #[test]
    fn names_and_packed_sizes() {
        assert!(is_session_name("s1+=,.@-_") && !is_session_name("a b"));
        assert!(is_external_id("a:b/c") && !is_external_id("a b"));
        let small = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        assert!((1..=10).contains(&packed_size(small)));
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let noisy: String = (0..4000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .collect();
        assert!(packed_size(&noisy) > 100);
    }
}
