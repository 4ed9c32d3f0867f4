//! The stream's own status fields (the common ones, conditions included, are the runtime's:
//! [`crate::controller::runtime::status`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::converge::{Observed, Report};
use super::plan;
use crate::api::kinesis_stream::{KinesisStream, KinesisStreamStatus, StreamMode};
use crate::api::shared::CommonStatus;
use crate::controller::runtime::KindStatus;

impl KindStatus for KinesisStreamStatus {
    fn common(&self) -> &CommonStatus {
        &self.common
    }
}

/// The status `report` calls for beside `common`. Observed fields come from the stream when
/// the pass saw it, are cleared when the stream does not exist, and are kept when the pass
/// could not look.
pub fn build(
    obj: &KinesisStream,
    common: CommonStatus,
    report: &Report,
    now: Timestamp,
) -> KinesisStreamStatus {
    let previous = obj.status.clone().unwrap_or_default();
    let updates = match &report.shard_updates {
        Some(u) => u.clone(),
        None => previous.shard_count_updates.iter().map(|t| t.0).collect(),
    };
    let mut status = KinesisStreamStatus {
        common,
        consumers: report
            .consumers
            .clone()
            .unwrap_or(previous.consumers.clone()),
        scaling: report.scaling.clone(),
        shard_count_updates: plan::in_window(&updates, now)
            .into_iter()
            .map(Time)
            .collect(),
        ..previous
    };
    match &report.observed {
        Observed::Seen(v) => {
            status.stream_status = Some(v.status.clone());
            status.open_shard_count = Some(v.open_shards);
            status.mode = Some(if v.on_demand {
                StreamMode::OnDemand
            } else {
                StreamMode::Provisioned
            });
            status.retention_period_hours = Some(v.retention_hours);
            status.encryption_type = Some(v.encryption.clone());
            status.max_record_size_in_ki_b = v.max_record_kib;
            status.warm_throughput_mi_bps = v.warm_throughput_mibps.filter(|w| *w > 0);
        }
        Observed::Absent => {
            status.stream_status = None;
            status.open_shard_count = None;
            status.mode = None;
            status.retention_period_hours = None;
            status.encryption_type = None;
            status.max_record_size_in_ki_b = None;
            status.warm_throughput_mi_bps = None;
        }
        Observed::Unknown => {}
    }
    status
}
