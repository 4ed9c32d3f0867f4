//! The DeliveryStream kind on the shared runtime ([`crate::controller::runtime`]): a pass
//! reads its inputs ([`inputs`]: the source stream's ARN through a reference, the HTTP
//! endpoint's access key from its Secret), observes Firehose and takes the next step
//! ([`converge`]); deletion removes the object's own delivery stream
//! ([`ownership::delete_own`]); [`status`]
//! adds `deliveryStreamStatus`, `versionId` and `destinationId`.
//!
//! A delivery stream whose source names a KinesisStream waits for it (`WaitingForDependency`)
//! and is reconciled as soon as that stream changes: the controller watches KinesisStreams
//! and maps each to the delivery streams naming it.

pub mod converge;
pub mod inputs;
pub mod status;
mod words;

use k8s_openapi::jiff::Timestamp;
use kube::core::DeserializeGuard;
use kube::runtime::Controller;
use kube::{Resource, ResourceExt};

use self::converge::{Known, Pass, Report};
use crate::api::delivery_stream::{DeliveryStream, DeliveryStreamStatus};
use crate::api::shared::{CommonStatus, ObjectReference};
use crate::aws::errors::AwsCallError;
use crate::controller::references;
use crate::controller::runtime::status::says_ready;
use crate::controller::runtime::{
    Deletion, Outcome, Reconciler, Removal, Step, WatchScope, ownership,
};

/// Tags are read on every this-many-th resync.
const DEEP_EVERY_RESYNCS: u32 = 6;

/// The AWS name of the delivery stream of `obj`.
pub fn delivery_stream_name(obj: &DeliveryStream) -> String {
    obj.spec
        .delivery_stream_name
        .clone()
        .unwrap_or_else(|| obj.name_any())
}

/// The DeliveryStream reconciler: Firehose delivery streams.
pub struct DeliveryStreams;

impl Reconciler for DeliveryStreams {
    type Object = DeliveryStream;
    type Known = Known;
    type Report = Report;
    const KIND: &'static str = "DeliveryStream";
    const NOUN: &'static str = "delivery stream";

    fn aws_name(obj: &DeliveryStream) -> String {
        delivery_stream_name(obj)
    }

    async fn converge(&self, step: Step<'_, Self>) -> Result<Outcome<Report>, AwsCallError> {
        let aws = step.ctx.aws.firehose(step.region);
        Pass::new(step, &aws, DEEP_EVERY_RESYNCS).converge().await
    }

    /// Deletes the object's own delivery stream only, never someone else's of the same name.
    async fn delete(&self, removal: Removal<'_, Self>) -> Result<Deletion, AwsCallError> {
        let aws = removal.ctx.aws.firehose(removal.region);
        ownership::delete_own(removal, &aws).await
    }

    fn arn(report: &Report) -> Option<String> {
        report.observed.view().map(|v| v.arn.clone())
    }

    fn build_status(
        obj: &DeliveryStream,
        common: CommonStatus,
        report: &Report,
        _now: Timestamp,
    ) -> DeliveryStreamStatus {
        status::build(obj, common, report)
    }

    /// A KinesisStream that changes (becomes Ready, is deleted) reconciles the delivery
    /// streams whose source names it.
    fn watches(
        &self,
        controller: Controller<DeserializeGuard<DeliveryStream>>,
        scope: &WatchScope<'_>,
    ) -> Controller<DeserializeGuard<DeliveryStream>> {
        references::watch_streams(controller, scope)
    }
}

impl references::Referring for DeliveryStream {
    fn stream_refs(&self) -> Vec<ObjectReference> {
        self.spec
            .source
            .kinesis_stream
            .as_ref()
            .and_then(|k| k.stream_ref.clone())
            .into_iter()
            .collect()
    }

    /// Ready at its generation, reading the stream whose ARN is `arn`.
    fn settled_with(&self, arn: &str) -> bool {
        let status = self.status.as_ref();
        says_ready(status.map(|s| &s.common), self.meta().generation)
            && status.and_then(|s| s.source_stream_arn.as_deref()) == Some(arn)
    }
}
