//! The application's own status fields (the common ones, conditions included, are the
//! runtime's: [`crate::controller::runtime::status`]).

use super::converge::Report;
use crate::api::analytics_application::{AnalyticsApplication, AnalyticsApplicationStatus};
use crate::api::shared::CommonStatus;
use crate::controller::runtime::{KindStatus, Observed};

impl KindStatus for AnalyticsApplicationStatus {
    fn common(&self) -> &CommonStatus {
        &self.common
    }
}

/// The status `report` calls for beside `common`: observed fields from the application when
/// the pass saw it, cleared when it does not exist, kept when the pass could not look.
pub fn build(
    obj: &AnalyticsApplication,
    common: CommonStatus,
    report: &Report,
) -> AnalyticsApplicationStatus {
    let previous = obj.status.clone().unwrap_or_default();
    let mut status = AnalyticsApplicationStatus {
        common,
        last_failure: match &report.failure {
            Some(failure) => failure.clone(),
            None => previous.last_failure.clone(),
        },
        ..previous
    };
    match &report.observed {
        Observed::Seen(v) => {
            status.application_status = Some(v.status.clone());
            status.application_version_id = Some(v.version_id);
        }
        Observed::Absent => {
            status.application_status = None;
            status.application_version_id = None;
        }
        Observed::Unknown => {}
    }
    status
}
