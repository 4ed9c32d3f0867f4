//! Classification of AWS errors into what the controller does about them: back off and retry
//! (throttled), retry soon (transient), report `Stalled` and wait for a spec change (terminal),
//! or treat as absent (not found).

use std::fmt;

/// What kind of failure an AWS call had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// AWS asked us to slow down: retry with backoff and jitter, never `Stalled`.
    Throttled,
    /// Worth retrying: server errors, timeouts, connection failures, resource busy.
    Transient,
    /// Nothing changes until a human changes something: invalid spec, access denied, quota.
    Terminal,
    /// The resource does not exist.
    NotFound,
}

impl ErrorClass {
    /// A short label for metrics and event reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Throttled => "throttled",
            ErrorClass::Transient => "transient",
            ErrorClass::Terminal => "terminal",
            ErrorClass::NotFound => "not_found",
        }
    }
}

/// A failed AWS call: which operation, AWS's code and message verbatim, and its class.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct AwsCallError {
    /// Service and operation, e.g. `kinesis:CreateStream`.
    pub operation: &'static str,
    /// AWS's error code, e.g. `InvalidArgumentException`; empty when the call never got an
    /// answer.
    pub code: String,
    /// AWS's message, or the transport failure.
    pub message: String,
    /// What to do about it.
    pub class: ErrorClass,
}

impl fmt::Display for AwsCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            write!(f, "{} failed: {}", self.operation, self.message)
        } else {
            write!(
                f,
                "{} failed: {}: {}",
                self.operation, self.code, self.message
            )
        }
    }
}

/// Classifies an AWS error answer by its code, HTTP status and message.
pub fn classify(code: &str, status: Option<u16>, message: &str) -> ErrorClass {
    match code {
        "ResourceNotFoundException" | "NoSuchEntity" | "NoSuchBucket" | "NotFoundException" => {
            ErrorClass::NotFound
        }
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ProvisionedThroughputExceededException"
        | "SlowDown"
        | "RequestThrottled" => ErrorClass::Throttled,
        // Kinesis uses LimitExceededException both for its API rate ("Rate exceeded ...") and
        // for real limits (shard quota, daily UpdateShardCount budget).
        "LimitExceededException" if message.contains("Rate exceeded") => ErrorClass::Throttled,
        // ... and for the streams that may be CREATING, UPDATING or DELETING at once (5 per
        // account): a wait, not a human's fix.
        "LimitExceededException" if message.contains("simultaneously") => ErrorClass::Transient,
        "ResourceInUseException"
        | "ConcurrentModificationException"
        | "InternalFailure"
        | "InternalFailureException"
        | "InternalServerError"
        | "InternalError"
        | "ServiceFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "KMSThrottlingException" => ErrorClass::Transient,
        _ if status.is_some_and(|s| s >= 500) => ErrorClass::Transient,
        _ if status == Some(429) => ErrorClass::Throttled,
        _ => ErrorClass::Terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_actions() {
        let cases = [
            (
                "ResourceNotFoundException",
                Some(400),
                "Stream x not found.",
                ErrorClass::NotFound,
            ),
            ("NoSuchEntity", Some(404), "", ErrorClass::NotFound),
            (
                "LimitExceededException",
                Some(400),
                "Rate exceeded for stream s under account 1.",
                ErrorClass::Throttled,
            ),
            (
                "LimitExceededException",
                Some(400),
                "UpdateShardCount cannot scale up over double",
                ErrorClass::Terminal,
            ),
            (
                "LimitExceededException",
                Some(400),
                "This request would exceed the limit of 5 streams that can simultaneously be in CREATING or DELETING state for account 000000000000.",
                ErrorClass::Transient,
            ),
            (
                "ProvisionedThroughputExceededException",
                Some(400),
                "",
                ErrorClass::Throttled,
            ),
            ("ThrottlingException", Some(400), "", ErrorClass::Throttled),
            (
                "ResourceInUseException",
                Some(400),
                "not ACTIVE",
                ErrorClass::Transient,
            ),
            ("InternalFailure", Some(500), "", ErrorClass::Transient),
            ("ServiceFailure", Some(500), "", ErrorClass::Transient),
            (
                "Throttling",
                Some(400),
                "Rate exceeded",
                ErrorClass::Throttled,
            ),
            ("SlowDown", Some(503), "", ErrorClass::Throttled),
            ("Whatever", Some(503), "", ErrorClass::Transient),
            ("Whatever", Some(429), "", ErrorClass::Throttled),
            ("ValidationException", Some(400), "", ErrorClass::Terminal),
            (
                "InvalidArgumentException",
                Some(400),
                "",
                ErrorClass::Terminal,
            ),
            ("AccessDeniedException", Some(400), "", ErrorClass::Terminal),
        ];
        for (code, status, message, expected) in cases {
            assert_eq!(
                classify(code, status, message),
                expected,
                "{code} {status:?} {message}"
            );
        }
    }

    #[test]
    fn messages_name_the_operation_and_keep_aws_text() {
        let e = AwsCallError {
            operation: "kinesis:CreateStream",
            code: "InvalidArgumentException".into(),
            message: "ShardCount is required".into(),
            class: ErrorClass::Terminal,
        };
        assert_eq!(
            e.to_string(),
            "kinesis:CreateStream failed: InvalidArgumentException: ShardCount is required"
        );
    }
}
