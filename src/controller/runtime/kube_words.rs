//! Kubernetes API errors in words: kube's own `Display` of an API error carries a Rust
//! `Debug` dump of the Status object, which must never reach a condition, event or log line.

use crate::aws::errors::{AwsCallError, ErrorClass};

/// `e` as a person reads it: the API server's reason, code and message, and for a 403 what to
/// grant.
pub fn kube_words(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                "Error"
            } else {
                status.reason.as_str()
            };
            let fix = if status.code == 403 {
                "; grant the operator's ServiceAccount this permission (the Helm chart's ClusterRole, or Role with watchNamespace, has every permission the operator uses)"
            } else {
                ""
            };
            format!("{reason} ({}): {}{fix}", status.code, status.message)
        }
        other => other.to_string(),
    }
}

/// A failed Kubernetes read during a pass, as the runtime retries it: transient, in words.
pub fn read_error(e: kube::Error) -> AwsCallError {
    AwsCallError {
        operation: "kubernetes:get",
        code: String::new(),
        message: kube_words(&e),
        class: ErrorClass::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_read_as_words_with_the_fix_for_a_403() {
        let forbidden = kube::Error::Api(Box::new(kube::core::Status::failure(
            "kinesisstreams.kinesis.operator.dev \"clicks\" is forbidden: User \"system:serviceaccount:ops:op\" cannot get resource \"kinesisstreams\"",
            "Forbidden",
        ).with_code(403)));
        let words = kube_words(&forbidden);
        assert!(
            words.starts_with(
                "Forbidden (403): kinesisstreams.kinesis.operator.dev \"clicks\" is forbidden"
            ),
            "{words}"
        );
        assert!(
            words.contains("grant the operator's ServiceAccount"),
            "{words}"
        );
        assert!(!words.contains("Status {"), "no Debug dump: {words}");
        let gone = kube::Error::Api(Box::new(
            kube::core::Status::failure("too old resource version", "Expired").with_code(410),
        ));
        assert_eq!(kube_words(&gone), "Expired (410): too old resource version");
    }
}
