//! The StreamPolicy kind on the shared runtime ([`crate::controller::runtime`]): an IAM
//! managed policy rendered from the object's grants ([`render`], with the streams resolved
//! in [`desired`]) or taken from its raw document, kept below IAM's version limit
//! ([`versions`]), attached to the roles named ([`diff`]). A pass observes IAM and converges
//! ([`converge`]); deletion detaches and removes the object's own policy ([`delete`]);
//! [`status`] adds the policy's fields to the common ones.
//!
//! A policy is recognised as the object's own by its ownership tags, so an operator killed
//! between CreatePolicy and the status write finds its policy again (its ARN follows from the
//! account, path and name) instead of creating a second one or reporting `AlreadyExists`.
//!
//! A policy waiting for a KinesisStream it names is woken by a watch on KinesisStreams, not
//! by polling: a stream whose readiness, ARN or consent annotation changes is mapped to the
//! policies whose statements name it.

pub mod converge;
pub mod delete;
pub mod desired;
pub mod diff;
pub mod render;
pub mod status;
pub mod versions;
#[cfg(test)]
mod words;

use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::core::DeserializeGuard;
use kube::runtime::Controller;

use self::converge::{Known, Pass, Report};
use crate::api::shared::{CommonStatus, ObjectReference};
use crate::api::stream_policy::{StreamPolicy, StreamPolicyStatus};
use crate::aws::errors::AwsCallError;
use crate::controller::references;
use crate::controller::runtime::status::says_ready;
use crate::controller::runtime::{Deletion, Outcome, Reconciler, Removal, Step, WatchScope};

/// The attached roles are listed on every this-many-th resync even if nothing changed.
const DEEP_EVERY_RESYNCS: u32 = 6;

/// The StreamPolicy reconciler: IAM managed policies.
pub struct StreamPolicies;

impl Reconciler for StreamPolicies {
    type Object = StreamPolicy;
    type Known = Known;
    type Report = Report;
    const KIND: &'static str = "StreamPolicy";
    const NOUN: &'static str = "policy";

    fn aws_name(obj: &StreamPolicy) -> String {
        diff::policy_name(obj)
    }

    async fn converge(&self, step: Step<'_, Self>) -> Result<Outcome<Report>, AwsCallError> {
        let aws = step.ctx.aws.iam(step.region);
        Pass::new(step, &aws, DEEP_EVERY_RESYNCS).converge().await
    }

    async fn delete(&self, removal: Removal<'_, Self>) -> Result<Deletion, AwsCallError> {
        delete::delete(removal).await
    }

    fn arn(report: &Report) -> Option<String> {
        report.arn.clone()
    }

    fn build_status(
        obj: &StreamPolicy,
        common: CommonStatus,
        report: &Report,
        _now: Timestamp,
    ) -> StreamPolicyStatus {
        status::build(obj, common, report)
    }

    /// A KinesisStream whose readiness, ARN, consent annotation or deletion changes wakes
    /// the policies whose statements name it ([`references::watch_streams`]).
    fn watches(
        &self,
        controller: Controller<DeserializeGuard<StreamPolicy>>,
        scope: &WatchScope<'_>,
    ) -> Controller<DeserializeGuard<StreamPolicy>> {
        references::watch_streams(controller, scope)
    }
}

impl references::Referring for StreamPolicy {
    fn stream_refs(&self) -> Vec<ObjectReference> {
        self.spec
            .statements
            .iter()
            .flatten()
            .flat_map(|s| &s.streams)
            .filter_map(|t| t.stream_ref.clone())
            .collect()
    }

    /// Ready at its generation with a document that grants on `arn`.
    fn settled_with(&self, arn: &str) -> bool {
        let status = self.status.as_ref();
        says_ready(status.map(|s| &s.common), self.meta().generation)
            && status
                .and_then(|s| s.rendered_document.as_deref())
                .is_some_and(|doc| doc.contains(&format!("\"{arn}\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::references::Referring;

    #[test]
    fn statements_name_their_referenced_streams() {
        let spec = serde_json::from_value(serde_json::json!({"statements": [
            {"streams": [{"streamRef": {"name": "a"}}, {"streamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/x"}], "access": ["Read"]},
            {"streams": [{"streamRef": {"name": "b", "namespace": "shared"}}], "access": ["Write"]}
        ]}))
        .unwrap();
        let policy = StreamPolicy::new("p", spec);
        let names: Vec<_> = policy
            .stream_refs()
            .into_iter()
            .map(|r| (r.namespace, r.name))
            .collect();
        assert_eq!(
            names,
            [
                (None, "a".to_owned()),
                (Some("shared".to_owned()), "b".to_owned())
            ]
        );
    }
}
