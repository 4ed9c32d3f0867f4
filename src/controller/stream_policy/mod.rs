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

use std::hash::{DefaultHasher, Hash, Hasher};

use k8s_openapi::jiff::Timestamp;
use kube::core::DeserializeGuard;
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};

use self::converge::{Known, Pass, Report};
use crate::api::kinesis_stream::KinesisStream;
use crate::api::shared::{ALLOW_REFERENCES_FROM, CommonStatus, DeletionPolicy, ObjectReference};
use crate::api::stream_policy::{StreamPolicy, StreamPolicyStatus};
use crate::aws::errors::AwsCallError;
use crate::controller::references::referring;
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

    fn region(obj: &StreamPolicy) -> Option<&str> {
        obj.spec.region.as_deref()
    }

    fn deletion_policy(obj: &StreamPolicy) -> DeletionPolicy {
        obj.spec.deletion_policy
    }

    async fn converge(&self, step: Step<'_, Self>) -> Result<Outcome<Report>, AwsCallError> {
        let aws = step.ctx.aws.iam(step.region);
        Pass {
            obj: step.obj,
            ctx: step.ctx,
            aws: &aws,
            region: step.region,
            known: step.known,
            notes: step.notes,
            deep_every: step.ctx.settings.resync * DEEP_EVERY_RESYNCS,
            role_retry: step.ctx.settings.resync.min(converge::ROLE_RETRY),
        }
        .converge()
        .await
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
    /// the policies whose statements name it.
    fn watches(
        &self,
        controller: Controller<DeserializeGuard<StreamPolicy>>,
        scope: &WatchScope<'_>,
    ) -> Controller<DeserializeGuard<StreamPolicy>> {
        let store = controller.store();
        let streams = watcher(
            scope.api::<DeserializeGuard<KinesisStream>>(),
            watcher::Config::default(),
        )
        .default_backoff()
        .touched_objects()
        .predicate_filter(reference_state, Default::default());
        controller.watches_stream(streams, move |stream| match &stream.0 {
            Ok(stream) => referring(&store, stream, named_streams),
            Err(_) => Vec::new(),
        })
    }
}

/// The KinesisStreams the statements of `policy` name by reference.
pub fn named_streams(policy: &DeserializeGuard<StreamPolicy>) -> Vec<ObjectReference> {
    let Ok(policy) = &policy.0 else {
        return Vec::new();
    };
    policy
        .spec
        .statements
        .iter()
        .flatten()
        .flat_map(|s| &s.streams)
        .filter_map(|t| t.stream_ref.clone())
        .collect()
}

/// What of a KinesisStream a reference depends on, hashed: a stream event that changes none
/// of it (a status write while scaling, say) wakes no policy.
fn reference_state(stream: &DeserializeGuard<KinesisStream>) -> Option<u64> {
    let mut h = DefaultHasher::new();
    stream.meta().uid.hash(&mut h);
    stream.meta().deletion_timestamp.is_some().hash(&mut h);
    if let Ok(stream) = &stream.0 {
        let status = stream.status.as_ref().map(|s| &s.common);
        says_ready(status, stream.meta().generation).hash(&mut h);
        status.and_then(|s| s.arn.as_deref()).hash(&mut h);
        stream.annotations().get(ALLOW_REFERENCES_FROM).hash(&mut h);
    }
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use kube::core::ObjectMeta;

    use super::*;

    #[test]
    fn statements_name_their_referenced_streams() {
        let spec = serde_json::from_value(serde_json::json!({"statements": [
            {"streams": [{"streamRef": {"name": "a"}}, {"streamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/x"}], "access": ["Read"]},
            {"streams": [{"streamRef": {"name": "b", "namespace": "shared"}}], "access": ["Write"]}
        ]}))
        .unwrap();
        let policy = DeserializeGuard(Ok(StreamPolicy::new("p", spec)));
        let names: Vec<_> = named_streams(&policy)
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

    #[test]
    fn only_what_a_reference_depends_on_wakes_policies() {
        let spec = serde_json::from_value(serde_json::json!({"shardCount": 1})).unwrap();
        let mut stream = KinesisStream::new("s", spec);
        stream.metadata = ObjectMeta {
            name: Some("s".into()),
            uid: Some("u".into()),
            generation: Some(1),
            ..Default::default()
        };
        let hash = |s: &KinesisStream| reference_state(&DeserializeGuard(Ok(s.clone())));
        let before = hash(&stream);
        let mut scaled = stream.clone();
        scaled.status = Some(Default::default());
        scaled.status.as_mut().unwrap().open_shard_count = Some(2);
        assert_eq!(
            hash(&scaled),
            before,
            "a status change that is not readiness"
        );
        let mut allowed = stream.clone();
        allowed
            .annotations_mut()
            .insert(ALLOW_REFERENCES_FROM.into(), "web".into());
        assert_ne!(hash(&allowed), before, "consent given");
        let mut with_arn = stream.clone();
        with_arn.status = Some(Default::default());
        with_arn.status.as_mut().unwrap().common.arn = Some("arn".into());
        assert_ne!(hash(&with_arn), before, "an ARN");
    }
}
