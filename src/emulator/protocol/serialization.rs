//! AWS's `SerializationException` texts for request bodies whose values have the wrong type.
//!
//! AWS's JSON-RPC front end (Coral) reports a type mismatch in its own words, which clients and
//! test suites match on: "STRING_VALUE can not be converted to an Integer", "class
//! java.lang.Boolean can not be converted to an String", "Expected map or null", "Start of list
//! found where not expected". serde reports the same mismatch as "invalid type: string \"x\",
//! expected i32"; this module reads serde's two halves (what was found, what the shape wanted)
//! and writes AWS's sentence instead, for JSON and CBOR alike, so that every JSON-RPC service
//! (Kinesis, Firehose) answers the same way. Messages our own visitors write (blobs,
//! timestamps) are already in AWS's words and pass through.

use crate::emulator::error::AwsError;

/// What a request carried where the mismatch was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    String,
    Number,
    Boolean,
    List,
    Map,
    Other,
}

/// What the operation's shape wanted there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wanted {
    /// A scalar of the named model type (`String`, `Integer`, `Double`, `Boolean`,
    /// `Blob`, `Timestamp`).
    Scalar(&'static str),
    List,
    Map,
    Structure,
}

/// The `SerializationException` (or, for a missing required member, the
/// `ValidationException`) AWS answers for a serde data error with message `raw` (without any
/// location suffix).
pub fn from_serde(raw: &str) -> AwsError {
    if let Some(rest) = raw.strip_prefix("missing field `")
        && let Some(field) = rest.strip_suffix('`')
    {
        return AwsError::client(
            "ValidationException",
            format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(field)
            ),
        );
    }
    if raw == "expected bool" {
        // CBOR's decoder does not say what it found instead of a boolean.
        return AwsError::serialization("Value can not be converted to a Boolean");
    }
    if raw.starts_with("invalid length ") && raw.contains(", expected struct ") {
        // serde takes a list for a structure's members in order; AWS never does.
        return AwsError::serialization(
            message(Found::List, Wanted::Structure).unwrap_or_default(),
        );
    }
    let mismatch = raw
        .strip_prefix("invalid type: ")
        .or_else(|| raw.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let Some((found, wanted)) = mismatch else {
        return AwsError::serialization(raw);
    };
    match (found_kind(found), wanted_kind(wanted)) {
        (found, Some(wanted)) => AwsError::serialization(
            message(found, wanted)
                .unwrap_or_else(|| "The request body has a value of the wrong type.".to_owned()),
        ),
        (_, None) => AwsError::serialization(raw),
    }
}

/// `SerializationException` for a JSON body, from serde_json's error.
pub fn from_json(error: &serde_json::Error) -> AwsError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => {
            let text = error.to_string();
            let raw = match text.rfind(" at line ") {
                Some(at) => &text[..at],
                None => &text,
            };
            from_serde(raw)
        }
        Category::Syntax | Category::Eof | Category::Io => {
            AwsError::serialization("The request body is not valid JSON.")
        }
    }
}

/// `SerializationException` for a CBOR body, from ciborium's error.
pub fn from_cbor<T: std::fmt::Debug>(error: &ciborium::de::Error<T>) -> AwsError {
    match error {
        ciborium::de::Error::Semantic(_, raw) => from_serde(raw),
        ciborium::de::Error::RecursionLimitExceeded => {
            AwsError::serialization("The request body is nested too deeply.")
        }
        ciborium::de::Error::Syntax(_) | ciborium::de::Error::Io(_) => {
            AwsError::serialization("The request body is not valid CBOR.")
        }
    }
}

fn found_kind(unexpected: &str) -> Found {
    let starts = |p: &str| unexpected.starts_with(p);
    if starts("string") || starts("char") {
        Found::String
    } else if starts("integer") || starts("floating point") || starts("float") {
        Found::Number
    } else if starts("boolean") || starts("bool") {
        Found::Boolean
    } else if starts("sequence") || starts("array") {
        Found::List
    } else if starts("map") {
        Found::Map
    } else {
        Found::Other
    }
}

fn wanted_kind(expected: &str) -> Option<Wanted> {
    let wanted = match expected {
        "a string" | "a borrowed string" | "string" | "str" | "a character"
        | "variant identifier" => Wanted::Scalar("String"),
        // Every integer member of the Kinesis and Firehose inputs is an AWS Integer (their
        // Longs are all in outputs), whatever width the model here reads it into; CBOR's
        // decoder says "integer" for every width anyway.
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "integer" => Wanted::Scalar("Integer"),
        "f32" | "f64" | "float" => Wanted::Scalar("Double"),
        "a boolean" | "bool" => Wanted::Scalar("Boolean"),
        "a map" | "map" => Wanted::Map,
        "array" => Wanted::List,
        e if e.starts_with("enum ") => Wanted::Scalar("String"),
        e if e.starts_with("base64 ") => Wanted::Scalar("Blob"),
        e if e.starts_with("a timestamp") => Wanted::Scalar("Timestamp"),
        e if e.starts_with("a sequence") || e.starts_with("tuple") => Wanted::List,
        e if e.starts_with("struct ") => Wanted::Structure,
        _ => return None,
    };
    Some(wanted)
}

/// "an Integer", "a String": the article AWS's newer texts use.
fn with_article(type_name: &str) -> String {
    if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        format!("an {type_name}")
    } else {
        format!("a {type_name}")
    }
}

/// AWS's text for `found` where the shape wants `wanted`; `None` for combinations AWS has no
/// distinct text for.
fn message(found: Found, wanted: Wanted) -> Option<String> {
    let text = match (found, wanted) {
        (Found::List, Wanted::List) | (Found::Map, Wanted::Map | Wanted::Structure) => return None,
        (Found::List, _) => "Start of list found where not expected".to_owned(),
        (Found::Map, _) => "Start of structure or map found where not expected.".to_owned(),
        (_, Wanted::List) => "Expected list or null".to_owned(),
        (_, Wanted::Map) => "Expected map or null".to_owned(),
        (_, Wanted::Structure) => "Expected null".to_owned(),
        // AWS's text for a boolean keeps the older wording, "an" before every type but Blob.
        (Found::Boolean, Wanted::Scalar("Blob")) => {
            "class java.lang.Boolean can not be converted to a Blob".to_owned()
        }
        (Found::Boolean, Wanted::Scalar(t)) => {
            format!("class java.lang.Boolean can not be converted to an {t}")
        }
        (Found::String, Wanted::Scalar(t)) => {
            format!("STRING_VALUE can not be converted to {}", with_article(t))
        }
        (Found::Number, Wanted::Scalar(t)) => {
            format!("NUMBER_VALUE can not be converted to {}", with_article(t))
        }
        (Found::Other, _) => return None,
    };
    Some(text)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::emulator::protocol::{Blob, Protocol, Timestamp};
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)]
    struct Inner {
        name: Option<String>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)]
    struct Shape {
        s: Option<String>,
        i: Option<i32>,
        l: Option<i64>,
        d: Option<f64>,
        b: Option<bool>,
        data: Option<Blob>,
        at: Option<Timestamp>,
        list: Option<Vec<String>>,
        tags: Option<BTreeMap<String, String>>,
        inner: Option<Inner>,
    }

    #[test]
    fn json_type_mismatches_read_as_aws_writes_them() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"S": true}"#,
                "class java.lang.Boolean can not be converted to an String",
            ),
            (
                r#"{"S": 5}"#,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                r#"{"S": 5.5}"#,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (r#"{"S": [1]}"#, "Start of list found where not expected"),
            (
                r#"{"S": {}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                r#"{"I": "ten"}"#,
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                r#"{"I": false}"#,
                "class java.lang.Boolean can not be converted to an Integer",
            ),
            (
                r#"{"I": 3000000000}"#,
                "NUMBER_VALUE can not be converted to an Integer",
            ),
            (
                r#"{"L": "x"}"#,
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                r#"{"D": "x"}"#,
                "STRING_VALUE can not be converted to a Double",
            ),
            (
                r#"{"B": "yes"}"#,
                "STRING_VALUE can not be converted to a Boolean",
            ),
            (
                r#"{"B": 1}"#,
                "NUMBER_VALUE can not be converted to a Boolean",
            ),
            (
                r#"{"Data": 5}"#,
                "NUMBER_VALUE can not be converted to a Blob",
            ),
            (
                r#"{"Data": true}"#,
                "class java.lang.Boolean can not be converted to a Blob",
            ),
            (
                r#"{"Data": {}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                r#"{"At": true}"#,
                "class java.lang.Boolean can not be converted to an Timestamp",
            ),
            (
                r#"{"At": "noon"}"#,
                "STRING_VALUE can not be converted to a Timestamp",
            ),
            (r#"{"List": "a"}"#, "Expected list or null"),
            (
                r#"{"List": {}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                r#"{"List": [5]}"#,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (r#"{"Tags": "a"}"#, "Expected map or null"),
            (r#"{"Tags": []}"#, "Start of list found where not expected"),
            (
                r#"{"Tags": {"k": 1}}"#,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (r#"{"Inner": "a"}"#, "Expected null"),
            (r#"{"Inner": []}"#, "Start of list found where not expected"),
            (
                r#"{"Inner": {"Name": false}}"#,
                "class java.lang.Boolean can not be converted to an String",
            ),
            ("[1, 2]", "Start of list found where not expected"),
            ("{", "The request body is not valid JSON."),
            (
                "{\"S\": \"x\"} trailing",
                "The request body is not valid JSON.",
            ),
        ];
        for (body, expected) in cases {
            let err = Protocol::Json
                .decode::<Shape>(body.as_bytes())
                .expect_err(body);
            assert_eq!(err.code, "SerializationException", "{body}");
            assert_eq!(err.message, *expected, "{body}");
        }
    }

    #[test]
    fn invalid_base64_reads_as_aws_writes_it() {
        let cases = [
            (
                r#"{"Data": "abc"}"#,
                "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
            (
                r#"{"Data": "ab;d"}"#,
                "'ab;d' can not be converted to a Blob: Invalid Base64 character: ';'",
            ),
            (
                r#"{"Data": "YR=="}"#,
                "'YR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected",
            ),
        ];
        for (body, expected) in cases {
            let err = Protocol::Json
                .decode::<Shape>(body.as_bytes())
                .expect_err(body);
            assert_eq!(err.code, "SerializationException", "{body}");
            assert_eq!(err.message, expected, "{body}");
        }
    }

    #[test]
    fn cbor_type_mismatches_read_the_same() {
        let encode = |v: &serde_json::Value| Protocol::Cbor.encode(v);
        let cases = [
            (
                serde_json::json!({"S": true}),
                "class java.lang.Boolean can not be converted to an String",
            ),
            (
                serde_json::json!({"I": "ten"}),
                "STRING_VALUE can not be converted to an Integer",
            ),
            (serde_json::json!({"Tags": 5}), "Expected map or null"),
            (
                serde_json::json!({"Tags": [1]}),
                "Start of list found where not expected",
            ),
            (serde_json::json!({"List": 5}), "Expected list or null"),
            (
                serde_json::json!({"B": 1}),
                "Value can not be converted to a Boolean",
            ),
            (
                serde_json::json!({"S": 1.5}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            // CBOR's decoder does not tell a structure from a map.
            (serde_json::json!({"Inner": "x"}), "Expected map or null"),
            (
                serde_json::json!({"Data": 5}),
                "NUMBER_VALUE can not be converted to a Blob",
            ),
            (
                serde_json::json!({"List": {}}),
                "Start of structure or map found where not expected.",
            ),
        ];
        for (value, expected) in cases {
            let err = Protocol::Cbor
                .decode::<Shape>(&encode(&value))
                .expect_err("a mismatch");
            assert_eq!(err.code, "SerializationException", "{value}");
            assert_eq!(err.message, expected, "{value}");
        }
        let err = Protocol::Cbor.decode::<Shape>(&[0xbf, 0x61]).unwrap_err();
        assert_eq!(err.message, "The request body is not valid CBOR.");
    }

    #[test]
    fn a_missing_required_member_is_a_validation_error() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "PascalCase")]
        #[allow(dead_code)]
        struct Required {
            stream_mode: String,
        }
        let err = Protocol::Json.decode::<Required>(b"{}").unwrap_err();
        assert_eq!(err.code, "ValidationException");
        assert_eq!(
            err.message,
            "1 validation error detected: Value null at 'streamMode' failed to satisfy constraint: Member must not be null"
        );
    }
}
