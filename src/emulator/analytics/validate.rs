//! AWS's model constraints on the kinesisanalyticsv2 members the emulator reads, rendered as
//! AWS renders them (`1 validation error detected: Value ... at 'applicationName' ...`).

use super::model::Tag;
use crate::emulator::error::{AwsError, Validation, is_name};

/// Runtimes of the model; the emulator runs the `FLINK-*` ones.
pub const RUNTIMES: [&str; 13] = [
    "SQL-1_0",
    "FLINK-1_6",
    "FLINK-1_8",
    "FLINK-1_11",
    "FLINK-1_13",
    "FLINK-1_15",
    "FLINK-1_18",
    "FLINK-1_19",
    "FLINK-1_20",
    "FLINK-2_2",
    "ZEPPELIN-FLINK-1_0",
    "ZEPPELIN-FLINK-2_0",
    "ZEPPELIN-FLINK-3_0",
];

/// Tags per application.
pub const MAX_TAGS: usize = 50;

/// An application (or snapshot) name: 1-128 (256) characters of `[a-zA-Z0-9_.-]`.
pub fn name(v: &mut Validation, path: &str, value: &Option<String>, max: usize) {
    v.required_length(path, value, 1, max);
    if let Some(n) = value.as_deref().filter(|n| !n.is_empty()) {
        v.pattern(path, n, "[a-zA-Z0-9_.-]+", is_name);
    }
}

/// Just the application name, checked.
pub fn application_name(value: &Option<String>) -> Result<String, AwsError> {
    let mut v = Validation::new();
    name(&mut v, "applicationName", value, 128);
    v.finish()?;
    Ok(value.clone().unwrap_or_default())
}

/// A `DEFAULT | CUSTOM` configuration type.
pub fn configuration_type(v: &mut Validation, path: &str, value: &Option<String>) {
    if let Some(t) = value {
        v.one_of(path, t, &["DEFAULT", "CUSTOM"]);
    }
}

/// A version ID (1..999999999).
pub fn version_id(v: &mut Validation, path: &str, value: Option<i64>) {
    if let Some(n) = value {
        v.range(path, n, 1, 999_999_999);
    }
}

/// A list of tags: 1-200 in the model (the 50-tag limit is `TooManyTagsException`).
pub fn tags(v: &mut Validation, path: &str, tags: &[Tag]) {
    v.size(path, "'[...]'", tags.len(), 1, 200);
    for (i, t) in tags.iter().enumerate() {
        v.required_length(format!("{path}.{}.member.key", i + 1), &t.key, 1, 128);
        if let Some(value) = &t.value {
            v.length(format!("{path}.{}.member.value", i + 1), value, 0, 256);
        }
    }
}

/// An IAM role ARN (`arn:.*`, 1-2048 characters).
pub fn role(v: &mut Validation, path: &str, value: &str) {
    v.length(path, value, 1, 2048);
    v.pattern(path, value, "arn:.*", |r| r.starts_with("arn:"));
}

/// `TooManyTagsException` when `count` tags would exceed AWS's limit.
pub fn too_many_tags(arn: &str, count: usize) -> Result<(), AwsError> {
    if count > MAX_TAGS {
        return Err(AwsError::client(
            "TooManyTagsException",
            format!(
                "Application {arn} would have {count} tags; an application has at most {MAX_TAGS}. Remove tags with UntagResource first."
            ),
        ));
    }
    Ok(())
}

/// A list page size (1-50).
pub fn limit(v: &mut Validation, value: Option<i64>) {
    if let Some(l) = value {
        v.range("limit", l, 1, 50);
    }
}
