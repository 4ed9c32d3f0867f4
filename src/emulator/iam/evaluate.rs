//! Identity-based policy evaluation: given the policies of a principal (its inline policies
//! and the default versions of its attached managed policies), an action and a resource,
//! decide as IAM does within one account: an explicit `Deny` wins, otherwise an `Allow` is
//! needed, otherwise the request is implicitly denied.
//!
//! Matching follows IAM: actions match case-insensitively with `*` and `?` wildcards,
//! resources case-sensitively with the same wildcards, `NotAction` and `NotResource` invert
//! the match, and policy variables such as `${aws:username}` are replaced from the request
//! context. Conditions support the string, ARN, `Bool` and `Null` operators (with
//! `ForAnyValue:`/`ForAllValues:` and `IfExists`) on the keys the request context carries.
//! A condition the evaluator cannot evaluate (numeric, date, IP and binary operators, or an
//! operator it does not know) is treated as not matching: an `Allow` guarded by it grants
//! nothing and a `Deny` guarded by it denies nothing, so the emulator never grants more than
//! the policy's unconditional statements do.
//!
//! Documents are evaluated already parsed ([`evaluate_parsed`]): IAM keeps every policy it
//! enforces parsed once per change, so a request parses nothing. A role session's session
//! policy is one more set of documents its caller evaluates after the role's (the
//! permissions are the intersection). Resource-based policies, permissions boundaries and
//! SCPs are not evaluated; trust policies are matched by STS with [`conditions_hold`] and
//! [`glob`]. The module is pure.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::document::{base_operator, strings_or_scalars};

/// The outcome of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A statement allows the request and none denies it.
    Allow,
    /// No statement allows the request.
    ImplicitDeny,
    /// A statement denies the request.
    ExplicitDeny,
}

/// What is asked.
#[derive(Debug)]
pub struct Request<'a> {
    /// `service:Operation`, such as `kinesis:PutRecord`.
    pub action: &'a str,
    /// The ARN of the resource.
    pub resource: &'a str,
    /// Condition keys (such as `aws:username`, `aws:SecureTransport`) and their values; keys
    /// are matched case-insensitively.
    pub context: &'a HashMap<String, Vec<String>>,
}

impl Request<'_> {
    fn values(&self, key: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

/// Decides `request` against the policy `documents` (JSON text, already validated; a
/// document that does not parse grants nothing).
pub fn evaluate<S: AsRef<str>>(documents: &[S], request: &Request<'_>) -> Decision {
    let parsed: Vec<Arc<Value>> = documents
        .iter()
        .filter_map(|d| serde_json::from_str(d.as_ref()).ok().map(Arc::new))
        .collect();
    evaluate_parsed(&parsed, request)
}

/// Decides `request` against parsed policy `documents`.
pub fn evaluate_parsed(documents: &[Arc<Value>], request: &Request<'_>) -> Decision {
    let mut allowed = false;
    for parsed in documents {
        let statements: Vec<&Map<String, Value>> = match parsed.get("Statement") {
            Some(Value::Object(s)) => vec![s],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
            _ => continue,
        };
        for statement in statements {
            if !applies(statement, request) {
                continue;
            }
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// The message of AWS's `AccessDenied` for `principal_arn` refused by `decision` of its
/// identity-based policies.
pub fn denial_message(principal_arn: &str, request: &Request<'_>, decision: Decision) -> String {
    denial_message_for(principal_arn, request, decision, "identity-based")
}

/// The message of AWS's `AccessDenied` for `principal_arn` refused by `decision` of its
/// policies of `policy_type` (`identity-based`, `session`).
pub fn denial_message_for(
    principal_arn: &str,
    request: &Request<'_>,
    decision: Decision,
    policy_type: &str,
) -> String {
    let (action, resource) = (request.action, request.resource);
    let reason = match decision {
        Decision::ExplicitDeny => {
            let article = if policy_type.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("with an explicit deny in {article} {policy_type} policy")
        }
        _ => format!("because no {policy_type} policy allows the {action} action"),
    };
    format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
    )
}

/// A string or a list of strings as the strings it holds (nothing for other shapes).
pub fn list(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the statement's `Action` (or `NotAction`) covers `action`, case-insensitively.
pub fn action_applies(statement: &Map<String, Value>, action: &str) -> bool {
    let action_matches = |patterns: Vec<&str>| {
        patterns
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
    };
    if statement.contains_key("Action") {
        action_matches(list(statement.get("Action")))
    } else if statement.contains_key("NotAction") {
        !action_matches(list(statement.get("NotAction")))
    } else {
        false
    }
}

fn applies(statement: &Map<String, Value>, request: &Request<'_>) -> bool {
    if !action_applies(statement, request.action) {
        return false;
    }
    let resource_matches = |patterns: Vec<&str>| {
        patterns
            .iter()
            .any(|p| substitute(p, request).is_some_and(|p| glob(&p, request.resource)))
    };
    let resource = if statement.contains_key("Resource") {
        resource_matches(list(statement.get("Resource")))
    } else if statement.contains_key("NotResource") {
        !resource_matches(list(statement.get("NotResource")))
    } else {
        false
    };
    resource && conditions_hold(statement, request)
}

/// Whether every condition of the statement holds for `request` (true when it has none).
pub fn conditions_hold(statement: &Map<String, Value>, request: &Request<'_>) -> bool {
    match statement.get("Condition") {
        None => true,
        Some(Value::Object(blocks)) => blocks.iter().all(|(operator, block)| {
            block.as_object().is_some_and(|entries| {
                entries
                    .iter()
                    .all(|(key, values)| condition(operator, key, values, request))
            })
        }),
        Some(_) => false,
    }
}

/// `pattern` with `${key}` policy variables replaced from the request context; `None` when a
/// variable has no value.
fn substitute(pattern: &str, request: &Request<'_>) -> Option<String> {
    if !pattern.contains("${") {
        return Some(pattern.to_owned());
    }
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let variable = &after[..end];
        match variable {
            "*" => out.push('*'),
            "?" => out.push('?'),
            "$" => out.push('$'),
            key => {
                let values = request.values(key)?;
                out.push_str(values.first()?);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// One condition `operator: {key: values}`.
fn condition(operator: &str, key: &str, values: &Value, request: &Request<'_>) -> bool {
    let Some(expected) = strings_or_scalars(values) else {
        return false;
    };
    let expected: Vec<String> = expected
        .iter()
        .filter_map(|v| substitute(v, request))
        .collect();
    let base = base_operator(operator);
    let if_exists = operator.ends_with("IfExists");
    let for_all = operator.starts_with("ForAllValues:");
    let for_any = operator.starts_with("ForAnyValue:");
    let actual = request.values(key);
    if base == "Null" {
        let absent = actual.is_none_or(|v| v.is_empty());
        return expected
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&absent.to_string()));
    }
    let Some(test) = value_test(base) else {
        return false;
    };
    let negated = base.contains("Not");
    let actual = match actual {
        Some(v) if !v.is_empty() => v,
        _ => return if_exists || for_all || (negated && !for_any),
    };
    let one = |value: &str| {
        let hit = expected.iter().any(|e| test(e, value));
        if negated { !hit } else { hit }
    };
    if for_all {
        actual.iter().all(|v| one(v))
    } else if for_any {
        actual.iter().any(|v| one(v))
    } else {
        one(&actual[0])
    }
}

type Test = fn(&str, &str) -> bool;

/// The comparison of a supported operator: (policy value, request value) -> matches, before
/// negation.
fn value_test(base: &str) -> Option<Test> {
    Some(match base {
        "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => |e, v| e == v,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            |e, v| e.to_lowercase() == v.to_lowercase()
        }
        "StringLike" | "StringNotLike" => glob,
        "ArnLike" | "ArnNotLike" => arn_like,
        "Bool" => |e, v| e.eq_ignore_ascii_case(v),
        _ => return None,
    })
}

/// ARN matching: the six colon-separated parts match one by one, each with wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == a.len() && p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "arn:aws:kinesis:us-west-2:123456789012:stream/MyStream";

    /// The tutorial's writer: may put records on MyStream.
    const WRITER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}]}"#;
    /// The tutorial's reader.
    const READER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator","kinesis:DescribeStream"],"Resource":"arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}]}"#;

    fn decide(documents: &[&str], action: &str, resource: &str) -> Decision {
        decide_with(documents, action, resource, &[])
    }

    fn decide_with(
        documents: &[&str],
        action: &str,
        resource: &str,
        context: &[(&str, &[&str])],
    ) -> Decision {
        let context: HashMap<String, Vec<String>> = context
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        evaluate(
            documents,
            &Request {
                action,
                resource,
                context: &context,
            },
        )
    }

    #[test]
    fn the_tutorials_writer_can_put_and_cannot_read() {
        use Decision::*;
        let cases = [
            (&[WRITER][..], "kinesis:PutRecord", STREAM, Allow),
            (&[WRITER], "kinesis:PutRecords", STREAM, Allow),
            (&[WRITER], "kinesis:GetRecords", STREAM, ImplicitDeny),
            (&[WRITER], "kinesis:DescribeStream", STREAM, ImplicitDeny),
            (
                &[WRITER],
                "kinesis:PutRecord",
                "arn:aws:kinesis:us-west-2:123456789012:stream/Other",
                ImplicitDeny,
            ),
            (&[READER], "kinesis:GetRecords", STREAM, Allow),
            (&[READER], "kinesis:PutRecord", STREAM, ImplicitDeny),
            (&[WRITER, READER], "kinesis:GetShardIterator", STREAM, Allow),
            (&[], "kinesis:PutRecord", STREAM, ImplicitDeny),
        ];
        for (documents, action, resource, expected) in cases {
            assert_eq!(
                decide(documents, action, resource),
                expected,
                "{action} {resource}"
            );
        }
    }

    #[test]
    fn wildcards_case_and_explicit_deny() {
        use Decision::*;
        let all = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","Resource":"arn:aws:kinesis:*:*:stream/My*"}}"#;
        let deny_delete = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:Delete?tream","Resource":"*"}}"#;
        let not_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"kinesis:Get*","NotResource":"arn:aws:kinesis:*:*:stream/secret"}}"#;
        let cases = [
            (&[all][..], "Kinesis:putrecord", STREAM, Allow),
            (
                &[all],
                "kinesis:PutRecord",
                "arn:aws:kinesis:us-west-2:123456789012:stream/mystream",
                ImplicitDeny,
            ),
            (&[all], "firehose:PutRecord", STREAM, ImplicitDeny),
            (
                &[all, deny_delete],
                "kinesis:DeleteStream",
                STREAM,
                ExplicitDeny,
            ),
            (
                &[deny_delete, all],
                "kinesis:DeleteStream",
                STREAM,
                ExplicitDeny,
            ),
            (&[all, deny_delete], "kinesis:CreateStream", STREAM, Allow),
            (&[not_action], "kinesis:PutRecord", STREAM, Allow),
            (&[not_action], "kinesis:GetRecords", STREAM, ImplicitDeny),
            (
                &[not_action],
                "kinesis:PutRecord",
                "arn:aws:kinesis:us-west-2:1:stream/secret",
                ImplicitDeny,
            ),
            (&["not json"], "kinesis:PutRecord", STREAM, ImplicitDeny),
        ];
        for (documents, action, resource, expected) in cases {
            assert_eq!(
                decide(documents, action, resource),
                expected,
                "{action} {resource}"
            );
        }
    }

    #[test]
    fn conditions_on_known_keys_and_unknown_operators() {
        use Decision::*;
        let policy = |condition: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${{aws:username}}/*","Condition":{condition}}}}}"#
            )
        };
        let object = "arn:aws:s3:::bucket/alice/a.txt";
        let secure = policy(r#"{"Bool":{"aws:SecureTransport":"true"}}"#);
        let like = policy(r#"{"StringLike":{"aws:username":"al*"}}"#);
        let arn = policy(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/al*"}}"#);
        let not_equals = policy(r#"{"StringNotEquals":{"aws:username":"bob"}}"#);
        let if_exists = policy(r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#);
        let null = policy(r#"{"Null":{"aws:SourceVpc":"true"}}"#);
        let numeric = policy(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#);
        let any = policy(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","env"]}}"#);
        let all = policy(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#);
        let context: &[(&str, &[&str])] = &[
            ("aws:username", &["alice"]),
            ("aws:SecureTransport", &["false"]),
            (
                "aws:PrincipalArn",
                &["arn:aws:iam::123456789012:user/alice"],
            ),
            ("aws:TagKeys", &["team", "owner"]),
        ];
        let cases = [
            (&secure, ImplicitDeny),
            (&like, Allow),
            (&arn, Allow),
            (&not_equals, Allow),
            (&if_exists, Allow),
            (&null, Allow),
            (&numeric, ImplicitDeny),
            (&any, Allow),
            (&all, ImplicitDeny),
        ];
        for (document, expected) in cases {
            assert_eq!(
                decide_with(&[document], "s3:GetObject", object, context),
                expected,
                "{document}"
            );
        }
        let other_user = "arn:aws:s3:::bucket/bob/a.txt";
        assert_eq!(
            decide_with(&[&like], "s3:GetObject", other_user, context),
            ImplicitDeny
        );
        assert_eq!(decide(&[&like], "s3:GetObject", object), ImplicitDeny);
    }

    #[test]
    fn glob_and_messages() {
        assert!(glob("a*c", "abbbc") && glob("a?c", "abc") && glob("*", ""));
        assert!(!glob("a?c", "ac") && !glob("abc", "abcd"));
        let context = HashMap::new();
        let request = Request {
            action: "kinesis:GetRecords",
            resource: "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
            context: &context,
        };
        assert_eq!(
            denial_message(
                "arn:aws:iam::123456789012:user/writer",
                &request,
                Decision::ImplicitDeny
            ),
            "User: arn:aws:iam::123456789012:user/writer is not authorized to perform: kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:123456789012:stream/clicks because no identity-based policy allows the kinesis:GetRecords action"
        );
    }
}
