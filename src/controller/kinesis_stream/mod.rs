//! The KinesisStream kind on the shared runtime ([`crate::controller::runtime`]): a pass
//! observes AWS and takes the next step ([`converge`], with the pure decisions in [`diff`]
//! and [`plan`]), deletion removes the object's own stream
//! ([`ownership::delete_own`]), and [`status`] adds
//! the stream's fields to the common ones.
//!
//! A stream is recognised as the object's own by its ownership tags, so an operator killed
//! between CreateStream and the status write finds its stream again instead of creating a
//! second one or reporting `AlreadyExists`.

pub mod converge;
pub mod diff;
pub mod plan;
pub mod status;
#[cfg(test)]
mod words;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use self::converge::{Known, Pass, Report};
use crate::api::kinesis_stream::{KinesisStream, KinesisStreamStatus};
use crate::api::shared::CommonStatus;
use crate::aws::errors::AwsCallError;
use crate::controller::runtime::{Deletion, Outcome, Reconciler, Removal, Step, ownership};

/// Tags, consumers and the resource policy are read on every this-many-th resync.
const DEEP_EVERY_RESYNCS: u32 = 6;

/// The AWS name of the stream of `obj`.
pub fn stream_name(obj: &KinesisStream) -> String {
    obj.spec
        .stream_name
        .clone()
        .unwrap_or_else(|| obj.name_any())
}

/// The KinesisStream reconciler: Kinesis data streams.
pub struct KinesisStreams;

impl Reconciler for KinesisStreams {
    type Object = KinesisStream;
    type Known = Known;
    type Report = Report;
    const KIND: &'static str = "KinesisStream";
    const NOUN: &'static str = "stream";

    fn aws_name(obj: &KinesisStream) -> String {
        stream_name(obj)
    }

    async fn converge(&self, step: Step<'_, Self>) -> Result<Outcome<Report>, AwsCallError> {
        let aws = step.ctx.aws.kinesis(step.region);
        Pass::new(step, &aws, DEEP_EVERY_RESYNCS).converge().await
    }

    /// Deletes the object's own stream only, never someone else's of the same name.
    async fn delete(&self, removal: Removal<'_, Self>) -> Result<Deletion, AwsCallError> {
        let aws = removal.ctx.aws.kinesis(removal.region);
        ownership::delete_own(removal, &aws).await
    }

    fn arn(report: &Report) -> Option<String> {
        report.observed.view().map(|v| v.arn.clone())
    }

    fn build_status(
        obj: &KinesisStream,
        common: CommonStatus,
        report: &Report,
        now: Timestamp,
    ) -> KinesisStreamStatus {
        status::build(obj, common, report, now)
    }
}
