//! The policy's own status fields (the common ones, conditions included, are the runtime's:
//! [`crate::controller::runtime::status`]).

use super::converge::Report;
use crate::api::shared::CommonStatus;
use crate::api::stream_policy::{StreamPolicy, StreamPolicyStatus};
use crate::controller::runtime::KindStatus;

impl KindStatus for StreamPolicyStatus {
    fn common(&self) -> &CommonStatus {
        &self.common
    }
}

/// The status `report` calls for beside `common`: what the pass saw replaces the previous
/// value; what it did not look at is kept.
pub fn build(obj: &StreamPolicy, common: CommonStatus, report: &Report) -> StreamPolicyStatus {
    let previous = obj.status.clone().unwrap_or_default();
    StreamPolicyStatus {
        common,
        default_version_id: report
            .default_version_id
            .clone()
            .or(previous.default_version_id),
        attached_roles: report
            .attached_roles
            .clone()
            .unwrap_or(previous.attached_roles),
        rendered_document: report
            .rendered_document
            .clone()
            .or(previous.rendered_document),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_pass_saw_replaces_the_previous_status_and_the_rest_is_kept() {
        let spec = serde_json::from_value(serde_json::json!({"document": "{}"})).unwrap();
        let mut obj = StreamPolicy::new("p", spec);
        obj.status = Some(StreamPolicyStatus {
            default_version_id: Some("v1".into()),
            attached_roles: vec!["old".into()],
            rendered_document: Some("{}".into()),
            ..Default::default()
        });
        let kept = build(&obj, CommonStatus::default(), &Report::default());
        assert_eq!(kept.default_version_id.as_deref(), Some("v1"));
        assert_eq!(kept.attached_roles, ["old"]);
        let seen = build(
            &obj,
            CommonStatus::default(),
            &Report {
                arn: None,
                default_version_id: Some("v2".into()),
                attached_roles: Some(Vec::new()),
                rendered_document: Some(r#"{"Version":"2012-10-17"}"#.into()),
            },
        );
        assert_eq!(seen.default_version_id.as_deref(), Some("v2"));
        assert!(seen.attached_roles.is_empty());
        assert_eq!(
            seen.rendered_document.as_deref(),
            Some(r#"{"Version":"2012-10-17"}"#)
        );
    }
}
