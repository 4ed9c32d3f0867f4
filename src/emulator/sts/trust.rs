//! Whether a role's trust policy (its `AssumeRolePolicyDocument`) lets a caller assume it.
//!
//! IAM's rule for the same account: a trust policy that names the caller itself (its user
//! ARN, its role ARN or session ARN, or `*`) is enough on its own; one that names the whole
//! account (`arn:aws:iam::<account>:root` or the bare account ID) delegates to the account,
//! so the caller's own identity-based policies must also allow `sts:AssumeRole` on the role.
//! An explicit `Deny` that matches refuses. Conditions (such as `sts:ExternalId`) are
//! evaluated with IAM's evaluator. `NotPrincipal` is not supported in trust policies and
//! never matches. The module is pure.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::emulator::iam::evaluate::{self, Request};

/// What a trust policy grants a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trust {
    /// No statement allows the caller, or one denies it.
    Refused,
    /// A statement allows the caller's whole account: its identity policies must allow too.
    Account,
    /// A statement names the caller itself.
    Direct,
}

/// The caller of `AssumeRole`, as principals in a trust policy name it.
pub struct Asker<'a> {
    /// Its account ID.
    pub account: &'a str,
    /// The ARNs that name it directly: an IAM user's ARN; a role session's role ARN and
    /// assumed-role ARN.
    pub arns: &'a [String],
}

/// Decides the trust policy `trust` for `asker` asking to assume role `role_arn`, with the
/// condition keys `context` (`sts:ExternalId`, `aws:PrincipalArn`, ...).
pub fn decide(
    trust: &Value,
    asker: &Asker<'_>,
    role_arn: &str,
    context: &HashMap<String, Vec<String>>,
) -> Trust {
    let statements: Vec<&Map<String, Value>> = match trust.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => return Trust::Refused,
    };
    let request = Request {
        action: "sts:AssumeRole",
        resource: role_arn,
        context,
    };
    let mut granted = Trust::Refused;
    for statement in statements {
        let Some(named) = statement.get("Principal").map(|p| principal(p, asker)) else {
            continue;
        };
        if named == Trust::Refused
            || !evaluate::action_applies(statement, request.action)
            || !evaluate::conditions_hold(statement, &request)
        {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Trust::Refused,
            Some("Allow") => granted = granted.max(named),
            _ => {}
        }
    }
    granted
}

/// How the `Principal` element names `asker`.
fn principal(value: &Value, asker: &Asker<'_>) -> Trust {
    let aws = match value {
        Value::String(s) if s == "*" => return Trust::Direct,
        Value::Object(map) => evaluate::list(map.get("AWS")),
        _ => return Trust::Refused,
    };
    let root = format!("arn:aws:iam::{}:root", asker.account);
    let mut named = Trust::Refused;
    for p in aws {
        if p == "*" || asker.arns.iter().any(|arn| arn == p) {
            return Trust::Direct;
        }
        if p == asker.account || p == root {
            named = Trust::Account;
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const ROLE: &str = "arn:aws:iam::123456789012:role/writer";

    fn decide_for(trust: &str, arn: &str, external_id: Option<&str>) -> Trust {
        let trust: Value = serde_json::from_str(trust).unwrap();
        let arns = vec![arn.to_owned()];
        let mut context = HashMap::new();
        if let Some(id) = external_id {
            context.insert("sts:ExternalId".to_owned(), vec![id.to_owned()]);
        }
        decide(
            &trust,
            &Asker {
                account: ACCOUNT,
                arns: &arns,
            },
            ROLE,
            &context,
        )
    }

    #[test]
    fn principals_name_the_caller_or_its_account() {
        let policy = |principal: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
            )
        };
        let bob = "arn:aws:iam::123456789012:user/bob";
        let cases = [
            (
                policy(r#"{"AWS":"arn:aws:iam::123456789012:user/bob"}"#),
                Trust::Direct,
            ),
            (
                policy(r#"{"AWS":["arn:aws:iam::123456789012:user/alice"]}"#),
                Trust::Refused,
            ),
            (
                policy(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#),
                Trust::Account,
            ),
            (policy(r#"{"AWS":"123456789012"}"#), Trust::Account),
            (policy(r#"{"AWS":"210987654321"}"#), Trust::Refused),
            (policy(r#""*""#), Trust::Direct),
            (policy(r#"{"AWS":"*"}"#), Trust::Direct),
            (
                policy(r#"{"Service":"firehose.amazonaws.com"}"#),
                Trust::Refused,
            ),
        ];
        for (trust, expected) in cases {
            assert_eq!(decide_for(&trust, bob, None), expected, "{trust}");
        }
    }

    #[test]
    fn external_ids_actions_and_denials() {
        let bob = "arn:aws:iam::123456789012:user/bob";
        let external = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}}"#;
        assert_eq!(decide_for(external, bob, Some("s3cret")), Trust::Account);
        assert_eq!(decide_for(external, bob, Some("guess")), Trust::Refused);
        assert_eq!(decide_for(external, bob, None), Trust::Refused);
        let saml_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithSAML"}}"#;
        assert_eq!(decide_for(saml_only, bob, None), Trust::Refused);
        let denied = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:*"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(decide_for(denied, bob, None), Trust::Refused);
        assert_eq!(
            decide_for(denied, "arn:aws:iam::123456789012:user/alice", None),
            Trust::Direct
        );
    }
}
