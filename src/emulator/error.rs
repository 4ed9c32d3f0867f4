//! The error every emulated service answers with: an AWS error code (`__type`), a message and an
//! HTTP status, plus the builder of AWS's model-validation messages.

use std::fmt;

/// An AWS error as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    /// Error code, sent as `__type` and in the `x-amzn-ErrorType` header.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

impl AwsError {
    /// An error with HTTP status 400 (every Kinesis client error).
    pub fn client(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: 400,
        }
    }

    /// `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::client("ResourceNotFoundException", message)
    }

    /// `ResourceInUseException`.
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::client("ResourceInUseException", message)
    }

    /// `InvalidArgumentException`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::client("InvalidArgumentException", message)
    }

    /// `LimitExceededException`.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::client("LimitExceededException", message)
    }

    /// `SerializationException`: the body could not be decoded.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    /// `InternalFailure` with HTTP status 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: "InternalFailure",
            message: message.into(),
            status: 500,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}

/// `[a-zA-Z0-9_.-]+`: the pattern of stream, shard and consumer names.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `0|([1-9]\d{0,max_digits-1})`: a decimal integer without leading zeros.
pub fn is_decimal(s: &str, max_digits: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_digits
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

/// How AWS renders a blob value of `len` bytes in a validation message (rendered only when a
/// message is made).
pub fn blob_value(len: usize) -> impl fmt::Display {
    BlobValue(len)
}

struct BlobValue(usize);

impl fmt::Display for BlobValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0;
        write!(f, "'java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]'")
    }
}

/// The path of member `field` of entry `index` (0-based) of list `list` in a request
/// (`records.3.member.data`), rendered only when a message names it: a request with hundreds
/// of entries makes no string per entry.
#[derive(Clone, Copy)]
pub struct ListMember {
    /// The list, e.g. `records`.
    pub list: &'static str,
    /// The entry, 0-based.
    pub index: usize,
    /// The member, e.g. `data`.
    pub field: &'static str,
}

impl fmt::Display for ListMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.member.{}", self.list, self.index + 1, self.field)
    }
}

/// Collects model-constraint violations and renders them the way AWS does:
/// `2 validation errors detected: Value 'x' at 'streamName' failed to satisfy constraint:
/// Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at ...`.
#[derive(Default)]
pub struct Validation {
    errors: Vec<String>,
}

impl Validation {
    /// A validator with no violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation of `constraint` by `value` (already rendered, e.g. `'x'` or `null`)
    /// at member `path`. Paths are anything printable, so that a request with many members
    /// renders a member's path only when it fails (`records.7.member.data`).
    pub fn fail(
        &mut self,
        value: impl fmt::Display,
        path: impl fmt::Display,
        constraint: impl fmt::Display,
    ) {
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// The member must be present.
    pub fn required<T>(&mut self, path: impl fmt::Display, value: &Option<T>) -> bool {
        if value.is_none() {
            self.fail("null", path, "Member must not be null");
            false
        } else {
            true
        }
    }

    /// The member must be present and its length (in characters) within `min..=max`.
    pub fn required_length(
        &mut self,
        path: impl fmt::Display,
        value: &Option<String>,
        min: usize,
        max: usize,
    ) {
        if let Some(v) = value {
            self.length(path, v, min, max);
        } else {
            self.required(path, value);
        }
    }

    /// The member must be present and its value within `min..=max`.
    pub fn required_range(
        &mut self,
        path: impl fmt::Display,
        value: &Option<i64>,
        min: i64,
        max: i64,
    ) {
        match value {
            Some(v) => self.range(path, *v, min, max),
            None => {
                self.required(path, value);
            }
        }
    }

    /// String length (in characters) within `min..=max`.
    pub fn length(&mut self, path: impl fmt::Display, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Blob or list size within `min..=max`; `shown` is how the value is rendered.
    pub fn size(
        &mut self,
        path: impl fmt::Display,
        shown: impl fmt::Display,
        len: usize,
        min: usize,
        max: usize,
    ) {
        if len < min {
            self.fail(
                shown,
                path,
                format_args!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.fail(
                shown,
                path,
                format_args!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Number within `min..=max`.
    pub fn range(&mut self, path: impl fmt::Display, value: i64, min: i64, max: i64) {
        if value < min {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!("Member must have value greater than or equal to {min}"),
            );
        } else if value > max {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// String matching `pattern` (the regular expression AWS quotes in its message), as decided
    /// by `matches`.
    pub fn pattern(
        &mut self,
        path: impl fmt::Display,
        value: &str,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
    ) {
        if !matches(value) {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// String that must be one of `values`.
    pub fn one_of(&mut self, path: impl fmt::Display, value: &str, values: &[&str]) {
        if !values.contains(&value) {
            self.fail(
                format_args!("'{value}'"),
                path,
                format_args!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            );
        }
    }

    /// `Ok` when nothing failed, else a `ValidationException` listing every violation.
    pub fn finish(self) -> Result<(), AwsError> {
        match self.errors.len() {
            0 => Ok(()),
            n => {
                // AWS reports at most ten violations.
                let n = n.min(10);
                Err(AwsError::client(
                    "ValidationException",
                    format!(
                        "{n} validation error{} detected: {}",
                        if n == 1 { "" } else { "s" },
                        self.errors[..n].join("; ")
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_aws_format() {
        type Build = Box<dyn Fn(&mut Validation)>;
        let cases: Vec<(Build, &str)> = vec![
            (
                Box::new(|v| {
                    v.required::<String>("streamName", &None);
                }),
                "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null",
            ),
            (
                Box::new(|v| v.length("streamName", "", 1, 128)),
                "1 validation error detected: Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ),
            (
                Box::new(|v| {
                    v.pattern("streamName", "a b", "[a-zA-Z0-9_.-]+", |s| !s.contains(' '));
                    v.range("shardCount", 0, 1, 100_000);
                }),
                "2 validation errors detected: Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
        ];
        for (build, expected) in cases {
            let mut v = Validation::new();
            build(&mut v);
            let err = v.finish().unwrap_err();
            assert_eq!(err.code, "ValidationException");
            assert_eq!(err.message, expected);
        }
        assert!(Validation::new().finish().is_ok());
    }
}
