//! Semantic comparison of IAM-style policy documents. AWS hands a stored policy back with its
//! own key order and spacing, and IAM treats a one-element list and the bare value alike, as
//! it treats the order of statements and of values in a list; none of that is drift.

use serde_json::Value;

/// The canonical form of a policy document: object keys sorted, one-element lists reduced to
/// their element, lists sorted and without duplicates, no whitespace.
pub fn canonical(doc: &Value) -> String {
    match doc {
        Value::Object(map) => {
            let mut entries: Vec<(&String, String)> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort();
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let mut items: Vec<String> = items.iter().map(canonical).collect();
            items.sort();
            items.dedup();
            if items.len() == 1 {
                items.remove(0)
            } else {
                format!("[{}]", items.join(","))
            }
        }
        other => other.to_string(),
    }
}

/// Whether two policy documents (JSON text) say the same thing. Text that is not JSON is
/// compared verbatim.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => canonical(&a) == canonical(&b),
        _ => a.trim() == b.trim(),
    }
}

/// Checks that `doc` is a JSON object, naming `field` and what is wrong when it is not.
pub fn validate(field: &str, doc: &str) -> Result<(), String> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(format!(
            "{field} must be a JSON object (a policy document with Version and Statement)"
        )),
        Err(e) => Err(format!("{field} is not valid JSON: {e}; fix the document")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalence_ignores_what_iam_ignores() {
        let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["kinesis:GetRecords","kinesis:DescribeStreamSummary"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}"#;
        let cases = [
            (
                "key order and spacing",
                r#"{ "Statement": [ { "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "Action": ["kinesis:GetRecords", "kinesis:DescribeStreamSummary"], "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Effect": "Allow" } ],
                   "Version": "2012-10-17" }"#,
                true,
            ),
            (
                "single value vs one-element list",
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["kinesis:DescribeStreamSummary","kinesis:GetRecords"],"Resource":["arn:aws:kinesis:us-east-1:123456789012:stream/s"]}}"#,
                true,
            ),
            (
                "another action",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["kinesis:GetRecords","kinesis:PutRecord"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}"#,
                false,
            ),
            (
                "Deny instead of Allow",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["kinesis:GetRecords","kinesis:DescribeStreamSummary"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}"#,
                false,
            ),
        ];
        for (what, other, same) in cases {
            assert_eq!(equivalent(base, other), same, "{what}");
            assert_eq!(equivalent(other, base), same, "{what}, reversed");
        }
    }

    #[test]
    fn validation_names_the_field() {
        assert!(validate("spec.resourcePolicy", r#"{"Version":"2012-10-17"}"#).is_ok());
        let err = validate("spec.resourcePolicy", "{not json").unwrap_err();
        assert!(
            err.starts_with("spec.resourcePolicy is not valid JSON"),
            "{err}"
        );
        let err = validate("spec.resourcePolicy", "[1]").unwrap_err();
        assert!(err.contains("must be a JSON object"), "{err}");
    }
}
