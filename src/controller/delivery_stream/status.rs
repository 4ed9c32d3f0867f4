//! The delivery stream's own status fields (the common ones, conditions included, are the
//! runtime's: [`crate::controller::runtime::status`]).

use super::converge::Report;
use crate::api::delivery_stream::{DeliveryStream, DeliveryStreamStatus};
use crate::api::shared::CommonStatus;
use crate::aws::firehose::SourceView;
use crate::controller::runtime::{KindStatus, Observed};

impl KindStatus for DeliveryStreamStatus {
    fn common(&self) -> &CommonStatus {
        &self.common
    }
}

/// The status `report` calls for beside `common`: observed fields from the delivery stream
/// when the pass saw it, cleared when it does not exist, kept when the pass could not look.
pub fn build(obj: &DeliveryStream, common: CommonStatus, report: &Report) -> DeliveryStreamStatus {
    let previous = obj.status.clone().unwrap_or_default();
    let mut status = DeliveryStreamStatus {
        common,
        access_key_secret_version: report
            .access_key_version
            .clone()
            .or(previous.access_key_secret_version.clone()),
        ..previous
    };
    match &report.observed {
        Observed::Seen(v) => {
            status.delivery_stream_status = Some(v.status.clone());
            status.version_id = Some(v.version_id.clone());
            status.destination_id = Some(v.destination_id.clone()).filter(|d| !d.is_empty());
            status.source_stream_arn = match &v.source {
                SourceView::KinesisStream { stream_arn, .. } => Some(stream_arn.clone()),
                SourceView::DirectPut | SourceView::Other(_) => None,
            };
        }
        Observed::Absent => {
            status.delivery_stream_status = None;
            status.version_id = None;
            status.destination_id = None;
            status.source_stream_arn = None;
        }
        Observed::Unknown => {}
    }
    status
}
