//! The AnalyticsApplication kind on the shared runtime ([`crate::controller::runtime`]): a
//! pass waits for the KinesisStreams the application names (through the shared references
//! mechanism), observes Managed Service for Apache Flink and takes the next step
//! ([`converge`]); deletion removes the object's own application
//! ([`ownership::delete_own`]); [`status`] adds `applicationStatus`, `applicationVersionId`
//! and `lastFailure`.

pub mod converge;
pub mod status;
#[cfg(test)]
mod words;

use k8s_openapi::jiff::Timestamp;
use kube::core::DeserializeGuard;
use kube::runtime::Controller;
use kube::{Resource, ResourceExt};

use self::converge::{Known, Pass, Report};
use crate::api::analytics_application::{AnalyticsApplication, AnalyticsApplicationStatus};
use crate::api::shared::{CommonStatus, ObjectReference};
use crate::aws::errors::AwsCallError;
use crate::controller::references;
use crate::controller::runtime::status::says_ready;
use crate::controller::runtime::{
    Deletion, Outcome, Reconciler, Removal, Step, WatchScope, ownership,
};

/// Tags are read on every this-many-th resync.
const DEEP_EVERY_RESYNCS: u32 = 6;

/// The AWS name of the application of `obj`.
pub fn application_name(obj: &AnalyticsApplication) -> String {
    obj.spec
        .application_name
        .clone()
        .unwrap_or_else(|| obj.name_any())
}

/// The AnalyticsApplication reconciler: Managed Service for Apache Flink applications.
pub struct AnalyticsApplications;

impl Reconciler for AnalyticsApplications {
    type Object = AnalyticsApplication;
    type Known = Known;
    type Report = Report;
    const KIND: &'static str = "AnalyticsApplication";
    const NOUN: &'static str = "application";

    fn aws_name(obj: &AnalyticsApplication) -> String {
        application_name(obj)
    }

    async fn converge(&self, step: Step<'_, Self>) -> Result<Outcome<Report>, AwsCallError> {
        let aws = step.ctx.aws.analytics(step.region);
        Pass::new(step, &aws, DEEP_EVERY_RESYNCS).converge().await
    }

    /// Deletes the object's own application only, never someone else's of the same name.
    async fn delete(&self, removal: Removal<'_, Self>) -> Result<Deletion, AwsCallError> {
        let aws = removal.ctx.aws.analytics(removal.region);
        ownership::delete_own(removal, &aws).await
    }

    fn arn(report: &Report) -> Option<String> {
        report.observed.view().map(|v| v.arn.clone())
    }

    fn build_status(
        obj: &AnalyticsApplication,
        common: CommonStatus,
        report: &Report,
        _now: Timestamp,
    ) -> AnalyticsApplicationStatus {
        status::build(obj, common, report)
    }

    /// A KinesisStream that changes (becomes Ready, is deleted) reconciles the applications
    /// that name it.
    fn watches(
        &self,
        controller: Controller<DeserializeGuard<AnalyticsApplication>>,
        scope: &WatchScope<'_>,
    ) -> Controller<DeserializeGuard<AnalyticsApplication>> {
        references::watch_streams(controller, scope)
    }
}

impl references::Referring for AnalyticsApplication {
    fn stream_refs(&self) -> Vec<ObjectReference> {
        self.spec.stream_refs.clone()
    }

    /// Ready at its generation: the application does not carry the stream's ARN (its code
    /// names the stream), so a stream that stays Ready changes nothing for it.
    fn settled_with(&self, _arn: &str) -> bool {
        says_ready(
            self.status.as_ref().map(|s| &s.common),
            self.meta().generation,
        )
    }
}
