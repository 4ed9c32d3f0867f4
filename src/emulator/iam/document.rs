//! Policy document validation, the way IAM checks a document before storing it, with IAM's own
//! `MalformedPolicyDocument` messages.
//!
//! IAM checks in a fixed order and reports only the first failure, so the order below is part
//! of the behaviour: JSON and grammar ("Syntax errors in policy."), the version, IAM's "legacy"
//! parser (case-sensitive `Effect`, truncated ARNs, malformed dates), `Sid` uniqueness, the
//! presence of actions, resource formats, principals, the presence of resources and finally
//! action prefixes. Identity policies (managed and inline) and trust policies
//! (`AssumeRolePolicyDocument`) differ in what they require and forbid: see [`Kind`].
//!
//! The module is pure: text in, verdict out.

use serde_json::{Map, Value};

use crate::emulator::error::AwsError;

/// What a document is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A permissions policy (managed or inline): needs resources, names no principal, and
    /// must be version 2012-10-17.
    Identity,
    /// A role's trust policy: names principals, has no resources, allows only STS actions; the
    /// older version 2008-10-17 is still accepted.
    Trust,
}

const TOP_FIELDS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];
const VERSIONS: &[&str] = &["2008-10-17", "2012-10-17"];
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];
/// Condition operators IAM knows (before `ForAnyValue:`/`ForAllValues:` and `IfExists`).
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];
/// The STS actions a trust policy may allow.
const TRUST_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];
const IAM_RESOURCE_PREFIXES: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// A document's size as IAM counts it against its quotas: characters other than whitespace.
pub fn size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// `MalformedPolicyDocument` with `message`.
pub fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::client("MalformedPolicyDocument", message)
}

fn syntax() -> AwsError {
    malformed("Syntax errors in policy.")
}

/// A string or a list of strings, as `Action`, `Resource` and condition values may be.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// The operator of a condition key with its set prefix and `IfExists` suffix removed.
pub fn base_operator(key: &str) -> &str {
    let key = key
        .strip_prefix("ForAnyValue:")
        .or_else(|| key.strip_prefix("ForAllValues:"))
        .unwrap_or(key);
    key.strip_suffix("IfExists").unwrap_or(key)
}

/// Checks `text` as a policy of `kind`; the error is IAM's first complaint.
pub fn validate(text: &str, kind: Kind) -> Result<(), AwsError> {
    let document: Value = serde_json::from_str(text).map_err(|_| syntax())?;
    let statements = check_syntax(&document)?;
    let version = document.get("Version").and_then(Value::as_str);
    if kind == Kind::Identity && version != Some("2012-10-17") {
        return Err(malformed(
            "Policy document must be version 2012-10-17 or greater.",
        ));
    }
    if !statements.iter().all(|s| legacy_parses(s)) {
        return Err(malformed("The policy failed legacy parsing"));
    }
    let mut sids = Vec::new();
    for statement in &statements {
        if let Some(sid) = statement.get("Sid").and_then(Value::as_str)
            && !sid.is_empty()
        {
            if sids.contains(&sid) {
                return Err(malformed(
                    "Statement IDs (SID) in a single policy must be unique.",
                ));
            }
            sids.push(sid);
        }
    }
    if !statements
        .iter()
        .all(|s| has_items(s, "Action") || has_items(s, "NotAction"))
    {
        return Err(malformed("Policy statement must contain actions."));
    }
    for statement in &statements {
        for key in ["Resource", "NotResource"] {
            if let Some(resources) = statement.get(key).and_then(strings) {
                let mut sorted = resources.clone();
                sorted.sort_unstable_by(|a, b| b.cmp(a));
                if let Some(message) = sorted.iter().find_map(|r| resource_error(r)) {
                    return Err(malformed(message));
                }
            }
        }
    }
    match kind {
        Kind::Identity => {
            if statements
                .iter()
                .any(|s| s.contains_key("Principal") || s.contains_key("NotPrincipal"))
            {
                return Err(malformed("Policy document should not specify a principal."));
            }
            if !statements
                .iter()
                .all(|s| has_items(s, "Resource") || has_items(s, "NotResource"))
            {
                return Err(malformed("Policy statement must contain resources."));
            }
        }
        Kind::Trust => check_trust(&statements)?,
    }
    for statement in &statements {
        for key in ["Action", "NotAction"] {
            for action in statement.get(key).and_then(strings).unwrap_or_default() {
                check_action(action)?;
            }
        }
    }
    Ok(())
}

/// The grammar: top-level and statement fields, their types, `Effect` in any case, condition
/// blocks. Returns the statements.
fn check_syntax(document: &Value) -> Result<Vec<&Map<String, Value>>, AwsError> {
    let top = document.as_object().ok_or_else(syntax)?;
    if top.keys().any(|k| !TOP_FIELDS.contains(&k.as_str())) {
        return Err(syntax());
    }
    if let Some(version) = top.get("Version")
        && !version.as_str().is_some_and(|v| VERSIONS.contains(&v))
    {
        return Err(syntax());
    }
    if top.get("Id").is_some_and(|id| !id.is_string()) {
        return Err(syntax());
    }
    let statements: Vec<&Map<String, Value>> = match top.get("Statement") {
        Some(Value::Object(statement)) => vec![statement],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(Value::as_object)
            .collect::<Option<_>>()
            .ok_or_else(syntax)?,
        _ => return Err(syntax()),
    };
    for statement in &statements {
        check_statement_syntax(statement)?;
    }
    Ok(statements)
}

fn check_statement_syntax(statement: &Map<String, Value>) -> Result<(), AwsError> {
    if statement
        .keys()
        .any(|k| !STATEMENT_FIELDS.contains(&k.as_str()))
    {
        return Err(syntax());
    }
    let both = |a: &str, b: &str| statement.contains_key(a) && statement.contains_key(b);
    if both("Action", "NotAction")
        || both("Resource", "NotResource")
        || both("Principal", "NotPrincipal")
    {
        return Err(syntax());
    }
    let effect = statement
        .get("Effect")
        .and_then(Value::as_str)
        .ok_or_else(syntax)?;
    if !effect.eq_ignore_ascii_case("Allow") && !effect.eq_ignore_ascii_case("Deny") {
        return Err(syntax());
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(value) = statement.get(key)
            && strings(value).is_none()
        {
            return Err(syntax());
        }
    }
    if statement.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Err(syntax());
    }
    if let Some(condition) = statement.get("Condition") {
        let blocks = condition.as_object().ok_or_else(syntax)?;
        for (operator, block) in blocks {
            let entries = block.as_object().ok_or_else(syntax)?;
            if entries.values().any(|v| strings_or_scalars(v).is_none()) {
                return Err(syntax());
            }
            if !OPERATORS.contains(&base_operator(operator)) && !entries.is_empty() {
                return Err(syntax());
            }
        }
    }
    Ok(())
}

/// Condition values: strings, numbers or booleans, alone or in a list, rendered as text.
pub fn strings_or_scalars(value: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn has_items(statement: &Map<String, Value>, key: &str) -> bool {
    match statement.get(key) {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    }
}

/// IAM's older parser: exact-case `Effect`, ARNs not cut short, dates that parse.
fn legacy_parses(statement: &Map<String, Value>) -> bool {
    let effect = statement.get("Effect").and_then(Value::as_str);
    if !matches!(effect, Some("Allow" | "Deny")) {
        return false;
    }
    for key in ["Resource", "NotResource"] {
        for resource in statement.get(key).and_then(strings).unwrap_or_default() {
            if resource == "*" || resource_error(resource).is_some() {
                continue;
            }
            let parts: Vec<&str> = resource.split(':').collect();
            if parts.len() < 6 && resource.contains("::") {
                return false;
            }
            if parts.get(2).is_some_and(|service| service.is_empty()) {
                return false;
            }
        }
    }
    let Some(blocks) = statement.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    blocks.iter().all(|(operator, block)| {
        !base_operator(operator).starts_with("Date")
            || block.as_object().is_none_or(|entries| {
                entries.values().all(|v| {
                    strings_or_scalars(v)
                        .unwrap_or_default()
                        .iter()
                        .all(|d| legacy_date(d))
                })
            })
    })
}

/// An ISO 8601 date or time, or epoch seconds.
fn legacy_date(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if !lower.contains('t') && !value.contains('-') {
        return value.parse::<u64>().is_ok_and(|n| n <= i64::MAX as u64);
    }
    let (date, time) = lower.split_once('t').unwrap_or((&lower, ""));
    let in_range =
        |s: &str, lo: i64, hi: i64| s.parse::<i64>().is_ok_and(|n| (lo..=hi).contains(&n));
    let date_parts: Vec<&str> = date.split('-').collect();
    let ok_date = match date_parts.as_slice() {
        [y] => in_range(y, 0, 292_278_993),
        [y, m] => in_range(y, 0, 292_278_993) && in_range(m, 1, 12),
        [y, m, d] => in_range(y, 0, 292_278_993) && in_range(m, 1, 12) && in_range(d, 1, 31),
        _ => false,
    };
    if !ok_date {
        return false;
    }
    if time.is_empty() {
        return true;
    }
    let time_parts: Vec<&str> = time.split(':').collect();
    if time_parts.len() > 4 || !in_range(time_parts[0], 0, 23) {
        return false;
    }
    if let Some(minutes) = time_parts.get(1)
        && !in_range(minutes, 0, 59)
    {
        return false;
    }
    let Some(seconds) = time_parts.get(2) else {
        return true;
    };
    let (seconds, zone) = match seconds.find(['z', '+']) {
        Some(i) => (&seconds[..i], &seconds[i..]),
        None => (*seconds, ""),
    };
    let zone_ok = match zone.strip_prefix('+') {
        None => zone.is_empty() || zone == "z",
        Some(hours) => {
            hours.len() == 2
                && in_range(hours, 0, 23)
                && time_parts
                    .get(3)
                    .is_none_or(|m| m.len() == 2 && in_range(m, 0, 59))
        }
    };
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
    zone_ok && in_range(whole, 0, 59) && in_range(fraction, 0, 999_999_999)
}

/// IAM's complaint about one resource's format, if any.
fn resource_error(resource: &str) -> Option<String> {
    if resource == "*" {
        return None;
    }
    let Some((_, rest)) = resource.split_once(':') else {
        return Some(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    };
    let (partition, rest) = rest.split_once(':').unwrap_or((rest, ""));
    if partition != "*" && !PARTITIONS.contains(&partition) {
        let parts: Vec<&str> = rest.split(':').collect();
        let part = |i: usize| match parts.get(i) {
            Some(p) if !(i == 0 && p.is_empty() && parts.len() == 1) => p.to_string(),
            _ => "*".to_owned(),
        };
        let tail = if parts.len() > 3 {
            parts[3..].join(":")
        } else {
            "*".to_owned()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{}:{}:{}:{tail}\".",
            part(0),
            part(1),
            part(2)
        ));
    }
    if !resource[resource.find(':').unwrap_or(0) + 1..].contains(':') {
        return Some(
            "Resource vendor must be fully qualified and cannot contain regexes.".to_owned(),
        );
    }
    let (service, after_service) = rest.split_once(':').unwrap_or((rest, ""));
    let (region, after_region) = after_service.split_once(':').unwrap_or((after_service, ""));
    let (_account, path) = after_region.split_once(':').unwrap_or((after_region, ""));
    let has_region = !after_service.starts_with(':') && !region.is_empty();
    match service {
        "iam" if has_region => Some(format!(
            "IAM resource {resource} cannot contain region information."
        )),
        "s3" if has_region && !path.starts_with("accesspoint/") => Some(format!(
            "Resource {resource} can not contain region information."
        )),
        "iam" if path != "root" && !IAM_RESOURCE_PREFIXES.iter().any(|p| path.starts_with(p)) => {
            Some(format!(
                "IAM resource path must either be \"*\" or start with {}.",
                IAM_RESOURCE_PREFIXES.join(", ")
            ))
        }
        _ => None,
    }
}

/// A trust policy: principals named, no resources, only STS actions.
fn check_trust(statements: &[&Map<String, Value>]) -> Result<(), AwsError> {
    for statement in statements {
        if statement.contains_key("Resource") || statement.contains_key("NotResource") {
            return Err(malformed("Has prohibited field Resource"));
        }
        let Some(principal) = statement
            .get("Principal")
            .or_else(|| statement.get("NotPrincipal"))
        else {
            return Err(malformed("Missing required field Principal"));
        };
        check_principal(principal)?;
        for action in statement
            .get("Action")
            .and_then(strings)
            .unwrap_or_default()
        {
            if !TRUST_ACTIONS.contains(&action) && action != "sts:*" {
                return Err(malformed(
                    "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity",
                ));
            }
        }
    }
    Ok(())
}

fn check_principal(principal: &Value) -> Result<(), AwsError> {
    if principal.as_str() == Some("*") {
        return Ok(());
    }
    let map = principal.as_object().ok_or_else(syntax)?;
    if map.is_empty() {
        return Err(syntax());
    }
    for (kind, value) in map {
        let ids = strings(value).ok_or_else(syntax)?;
        for id in ids {
            let valid = match kind.as_str() {
                "AWS" => {
                    id == "*"
                        || (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
                        || id.starts_with("arn:aws:iam::")
                        || id.starts_with("arn:aws:sts::")
                }
                "Service" => id.ends_with(".amazonaws.com") || id.ends_with(".amazonaws.com.cn"),
                "Federated" => {
                    id.starts_with("arn:aws:iam::") || id.contains('.') && !id.contains(' ')
                }
                "CanonicalUser" => !id.is_empty(),
                _ => return Err(syntax()),
            };
            if !valid {
                return Err(malformed(format!(
                    "Invalid principal in policy: \"{}\":\"{id}\"",
                    if kind == "Service" {
                        "SERVICE"
                    } else {
                        kind.as_str()
                    }
                )));
            }
        }
    }
    Ok(())
}

/// An action must name its service: `service:Operation`, one colon, a plain vendor.
fn check_action(action: &str) -> Result<(), AwsError> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() == 1 && parts[0] != "*" {
        return Err(malformed(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ));
    }
    if parts.len() > 2 {
        return Err(malformed("Actions/Condition can contain only one colon."));
    }
    let vendor = parts[0];
    if vendor != "*"
        && !vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(malformed(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_STATEMENT: &str =
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}"#;

    fn doc(statement: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":{statement}}}"#)
    }

    #[test]
    fn identity_documents_are_refused_with_iams_messages() {
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "Syntax errors in policy."),
            ("[]".into(), "Syntax errors in policy."),
            (
                r#"{"Version":"2012-10-17"}"#.into(),
                "Syntax errors in policy.",
            ),
            (doc("[]"), "Syntax errors in policy."),
            (doc(r#"["x"]"#), "Syntax errors in policy."),
            (
                format!(r#"{{"Version":"2013-10-17","Statement":{OK_STATEMENT}}}"#),
                "Syntax errors in policy.",
            ),
            (
                format!(r#"{{"Version":"2012-10-17","Extra":1,"Statement":{OK_STATEMENT}}}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"*","Extra":1}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Effect":"invalid","Action":"s3:X","Resource":"*"}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Action":"s3:X","Resource":"*"}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":{},"Resource":"*"}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","NotAction":"s3:Y","Resource":"*"}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"*","Condition":[]}"#),
                "Syntax errors in policy.",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Action":"s3:X","Resource":"*","Condition":{"x":{"a":"1"}}}"#,
                ),
                "Syntax errors in policy.",
            ),
            (
                format!(r#"{{"Statement":{OK_STATEMENT}}}"#),
                "Policy document must be version 2012-10-17 or greater.",
            ),
            (
                format!(r#"{{"Version":"2008-10-17","Statement":{OK_STATEMENT}}}"#),
                "Policy document must be version 2012-10-17 or greater.",
            ),
            (
                doc(r#"{"Effect":"allow","Action":"s3:X","Resource":"*"}"#),
                "The policy failed legacy parsing",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws:s3::example_bucket"}"#,
                ),
                "The policy failed legacy parsing",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Action":"s3:X","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"soon"}}}"#,
                ),
                "The policy failed legacy parsing",
            ),
            (
                doc(&format!(
                    r#"[{OK_STATEMENT},{{"Sid":"a","Effect":"Allow"}},{{"Sid":"a","Effect":"Allow"}}]"#
                )),
                "Statement IDs (SID) in a single policy must be unique.",
            ),
            (
                doc(r#"{"Effect":"Allow","Resource":"*"}"#),
                "Policy statement must contain actions.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#),
                "Policy statement must contain actions.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"bucket"}"#),
                "Resource bucket must be in ARN format or \"*\".",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:error:s3:::b"}"#),
                "Partition \"error\" is not valid for resource \"arn:error:s3:::b\".",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws"}"#),
                "Resource vendor must be fully qualified and cannot contain regexes.",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws:iam:us-east-1::user/x"}"#,
                ),
                "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws:s3:us-east-1::b"}"#),
                "Resource arn:aws:s3:us-east-1::b can not contain region information.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":"*","Principal":"*"}"#),
                "Policy document should not specify a principal.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X"}"#),
                "Policy statement must contain resources.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:X","Resource":[]}"#),
                "Policy statement must contain resources.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"PutRecord","Resource":"*"}"#),
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"s3:List:Bucket","Resource":"*"}"#),
                "Actions/Condition can contain only one colon.",
            ),
            (
                doc(r#"{"Effect":"Allow","Action":"a a:List","Resource":"*"}"#),
                "Vendor a a is not valid",
            ),
        ];
        for (text, message) in cases {
            let error = validate(&text, Kind::Identity).expect_err(&text);
            assert_eq!(error.code, "MalformedPolicyDocument", "{text}");
            assert_eq!(error.message, message, "{text}");
        }
    }

    #[test]
    fn valid_identity_documents_pass() {
        let statements = [
            OK_STATEMENT,
            r#"[{"Sid":"Write","Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}]"#,
            r#"{"Effect":"Deny","NotAction":"iam:*","NotResource":["arn:aws:s3:::a","*"]}"#,
            r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2017-07-01T00:00:00Z"},"Bool":{"aws:SecureTransport":true}}}"#,
            r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws:s3:::b","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["Department"]}}}"#,
            r#"{"Effect":"Allow","Action":"s3:X","Resource":"arn:aws:iam::123456789012:user/x"}"#,
        ];
        for statement in statements {
            let text = doc(statement);
            assert_eq!(validate(&text, Kind::Identity), Ok(()), "{text}");
        }
    }

    #[test]
    fn trust_policies_name_principals_and_no_resources() {
        let ok = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","111122223333"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"]}}"#,
        ];
        for text in ok {
            assert_eq!(validate(text, Kind::Trust), Ok(()), "{text}");
        }
        let refused = [
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
                "Missing required field Principal",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}"#,
                "Has prohibited field Resource",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"nowhere"},"Action":"sts:AssumeRole"}}"#,
                "Invalid principal in policy: \"SERVICE\":\"nowhere\"",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}"#,
                "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity",
            ),
        ];
        for (text, message) in refused {
            assert_eq!(validate(text, Kind::Trust).unwrap_err().message, message);
        }
    }

    #[test]
    fn dates_in_conditions() {
        for ok in [
            "2017-07-01T00:00:00Z",
            "2016-12-13",
            "1490000000",
            "2016-12-13T12:00:00.5+01:00",
        ] {
            assert!(legacy_date(ok), "{ok}");
        }
        for bad in [
            "234-13",
            "soon",
            "2016-12-13t2:00:00.593194+1",
            "9223372036854775808",
        ] {
            assert!(!legacy_date(bad), "{bad}");
        }
    }
}
