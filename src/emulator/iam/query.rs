//! The query protocol's input: form parameters from the body (POST) and the query string
//! (GET), lists as `Name.member.N`, and the checks IAM's model puts on its members, reported
//! as IAM's `ValidationError`.

use std::collections::HashMap;

use super::model::Tag;
use crate::emulator::error::{AwsError, Validation};

/// `[\w+=,.@-]+`: names of policies, roles and users.
pub const NAME_PATTERN: &str = r"[\w+=,.@-]+";
/// Paths: `/` or `/a/b/`.
pub const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
/// Paths of managed policies (no `*`, no empty segment).
pub const POLICY_PATH_PATTERN: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
/// Path prefixes in list operations.
pub const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007E]*";
/// Policy version IDs.
pub const VERSION_PATTERN: &str = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?";

/// The request's parameters.
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Parameters of the query string and, when it is a form, the body.
    pub fn parse(query: &str, body: &[u8]) -> Params {
        let mut values: HashMap<String, String> = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            values.insert(k.into_owned(), v.into_owned());
        }
        for (k, v) in form_urlencoded::parse(body) {
            values.insert(k.into_owned(), v.into_owned());
        }
        Params { values }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `name`, owned.
    pub fn owned(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// The items of list `name` (`name.member.1`, `name.member.2`, ...), in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..)
            .map_while(|i| self.values.get(&format!("{name}.member.{i}")).cloned())
            .collect()
    }

    /// Tags of `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self) -> Vec<(Option<String>, Option<String>)> {
        (1..)
            .map_while(|i| {
                let key = self.owned(&format!("Tags.member.{i}.Key"));
                let value = self.owned(&format!("Tags.member.{i}.Value"));
                (key.is_some() || value.is_some()).then_some((key, value))
            })
            .collect()
    }

    /// A boolean member (`true`/`false`); a malformed value is a validation error.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, AwsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(validation_error(format!(
                "Invalid value for parameter {name}, value: {v}, type: boolean"
            ))),
        }
    }

    /// An integer member; a malformed value is a validation error.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                validation_error(format!(
                    "Invalid value for parameter {name}, value: {v}, type: integer"
                ))
            }),
        }
    }
}

/// IAM's `ValidationError` (400).
pub fn validation_error(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", message)
}

/// The [`Validation`] result with IAM's error code.
pub fn finish(v: Validation) -> Result<(), AwsError> {
    v.finish().map_err(|e| validation_error(e.message))
}

/// `[\w+=,.@-]+`, where `\w` is ASCII letters, digits and `_` (Java regular expressions).
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
        })
}

/// `/` or `/` + printable ASCII + `/`.
pub fn is_path(s: &str) -> bool {
    s == "/"
        || (s.len() >= 2
            && s.starts_with('/')
            && s.ends_with('/')
            && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
}

/// `/` or `/seg/seg/` with segments of letters, digits and `.,+@=_-`.
pub fn is_policy_path(s: &str) -> bool {
    s == "/"
        || (s.len() >= 2
            && s.starts_with('/')
            && s.ends_with('/')
            && s[1..s.len() - 1].split('/').all(|segment| {
                !segment.is_empty()
                    && segment.bytes().all(|b| {
                        b.is_ascii_alphanumeric()
                            || matches!(b, b'.' | b',' | b'+' | b'@' | b'=' | b'_' | b'-')
                    })
            }))
}

/// `/` followed by printable ASCII.
pub fn is_path_prefix(s: &str) -> bool {
    s.starts_with('/') && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The optional `PathPrefix` member of the `List*` calls (`/` when absent), checked.
pub fn path_prefix<'a>(p: &'a Params, v: &mut Validation) -> &'a str {
    let prefix = p.get("PathPrefix").unwrap_or("/");
    v.length("pathPrefix", prefix, 1, 512);
    v.pattern("pathPrefix", prefix, PATH_PREFIX_PATTERN, is_path_prefix);
    prefix
}

/// Characters IAM accepts in documents: tab, newline, carriage return, and U+0020..U+00FF.
pub fn is_document_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c))
}

/// `vN` or `vN.x`.
pub fn is_version_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let (number, suffix) = rest.split_once('.').unwrap_or((rest, ""));
    !number.is_empty()
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
        && suffix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Checks an entity name member: required, `1..=max` characters, [`NAME_PATTERN`].
pub fn name(v: &mut Validation, path: &str, value: &Option<String>, max: usize) {
    v.required_length(path, value, 1, max);
    if let Some(s) = value {
        v.pattern(path, s, NAME_PATTERN, is_name);
    }
}

/// Checks an optional path member.
pub fn entity_path(v: &mut Validation, value: &Option<String>) {
    if let Some(s) = value {
        v.length("path", s, 1, 512);
        v.pattern("path", s, PATH_PATTERN, is_path);
    }
}

/// Checks an optional managed policy path member.
pub fn policy_path(v: &mut Validation, value: &Option<String>) {
    if let Some(s) = value {
        v.length("path", s, 1, 512);
        v.pattern("path", s, POLICY_PATH_PATTERN, is_policy_path);
    }
}

/// Checks an ARN member (`20..=2048` characters).
pub fn arn(v: &mut Validation, path: &str, value: &Option<String>) {
    v.required_length(path, value, 20, 2048);
}

/// Checks a required policy document member (`1..=131072` characters of document text).
pub fn document(v: &mut Validation, path: &str, value: &Option<String>) {
    v.required_length(path, value, 1, 131_072);
    if let Some(s) = value {
        v.pattern(
            path,
            s,
            r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            is_document_text,
        );
    }
}

/// Checks `Marker` and `MaxItems`; returns the page size (100 unless given).
pub fn paging(params: &Params, v: &mut Validation) -> Result<usize, AwsError> {
    if let Some(marker) = params.get("Marker") {
        v.length("marker", marker, 1, 320);
    }
    let max = params.integer("MaxItems")?;
    if let Some(n) = max {
        v.range("maxItems", n, 1, 1000);
    }
    Ok(max.unwrap_or(100).clamp(1, 1000) as usize)
}

/// Checks tags (`Tags.member.N`): keys `1..=128`, values `0..=256`, at most 50.
pub fn tags(v: &mut Validation, tags: &[(Option<String>, Option<String>)]) {
    if tags.len() > 50 {
        v.fail(
            "'[...]'",
            "tags",
            "Member must have length less than or equal to 50",
        );
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        let n = i + 1;
        v.required_length(format!("tags.{n}.member.key"), key, 1, 128);
        v.required_length(format!("tags.{n}.member.value"), value, 0, 256);
    }
}

/// The tags of the request (`Tags.member.N`), checked.
pub fn tag_param(params: &Params, v: &mut Validation) -> Vec<Tag> {
    let raw = params.tags();
    tags(v, &raw);
    raw.into_iter()
        .map(|(key, value)| Tag {
            key: key.unwrap_or_default(),
            value: value.unwrap_or_default(),
        })
        .collect()
}

/// Adds `new` to `tags`, replacing the values of keys already there; refuses more than 50.
pub fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), AwsError> {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => tags.push(tag),
        }
    }
    if tags.len() > 50 {
        return Err(super::conflict(
            "LimitExceeded",
            "The number of tags has reached the maximum limit.",
        ));
    }
    Ok(())
}

/// The `TagKeys.member.N` of an untag request, checked.
pub fn tag_keys(params: &Params, v: &mut Validation) -> Vec<String> {
    let keys = params.list("TagKeys");
    if keys.len() > 50 {
        v.fail(
            "'[...]'",
            "tagKeys",
            "Member must have length less than or equal to 50",
        );
    }
    for (i, key) in keys.iter().enumerate() {
        v.length(format!("tagKeys.{}.member", i + 1), key, 1, 128);
    }
    keys
}

/// Every character except RFC 3986's unreserved ones is percent-encoded.
const DOCUMENT_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A document as IAM returns it: RFC 3986 percent-encoded.
pub fn encode_document(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, DOCUMENT_ENCODE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_lists_and_tags() {
        let p = Params::parse(
            "Action=TagRole",
            b"RoleName=r&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=&TagKeys.member.1=x%20y",
        );
        assert_eq!(p.get("Action"), Some("TagRole"));
        assert_eq!(p.get("RoleName"), Some("r"));
        assert_eq!(p.list("TagKeys"), vec!["x y".to_owned()]);
        assert_eq!(
            p.tags(),
            vec![
                (Some("a".to_owned()), Some("1".to_owned())),
                (Some("b".to_owned()), Some(String::new()))
            ]
        );
    }

    #[test]
    fn patterns() {
        assert!(is_name("firehose_delivery_role+=,.@-"));
        assert!(!is_name("a b") && !is_name("") && !is_name("a/b") && !is_name("rôle"));
        assert!(is_path("/") && is_path("/a/b/"));
        assert!(!is_path("a/") && !is_path("/a") && !is_path("//x y/"));
        assert!(is_policy_path("/") && is_policy_path("/streams/kinesis/"));
        assert!(!is_policy_path("/a*/") && !is_policy_path("//") && !is_policy_path("/a"));
        assert!(is_version_id("v1") && is_version_id("v12"));
        assert!(!is_version_id("v0") && !is_version_id("1") && !is_version_id("v"));
        assert_eq!(
            encode_document(r#"{"A": "b*"}"#),
            "%7B%22A%22%3A%20%22b%2A%22%7D"
        );
    }
}
