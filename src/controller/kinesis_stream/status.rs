//! The status a pass reports, written with server-side apply on the status subresource under
//! the operator's field manager, and skipped when nothing but timestamps would change.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};

use super::Error;
use super::converge::{Observed, Outcome};
use super::plan;
use crate::api::kinesis_stream::{KinesisStream, KinesisStreamStatus, StreamMode};
use crate::api::shared::CommonStatus;
use crate::controller::conditions::{Health, conditions};
use crate::controller::context::Context;

/// The status `outcome` calls for. Observed fields come from the stream when the pass saw it,
/// are cleared when the stream does not exist, and are kept when the pass could not look.
pub fn build(
    obj: &KinesisStream,
    region: &str,
    outcome: &Outcome,
    now: Timestamp,
) -> KinesisStreamStatus {
    let previous = obj.status.clone().unwrap_or_default();
    let generation = obj.meta().generation;
    let updates = match &outcome.shard_updates {
        Some(u) => u.clone(),
        None => previous.shard_count_updates.iter().map(|t| t.0).collect(),
    };
    let mut status = KinesisStreamStatus {
        common: CommonStatus {
            arn: outcome
                .observed
                .view()
                .map(|v| v.arn.clone())
                .or(previous.common.arn.clone()),
            region: Some(region.to_owned()),
            observed_generation: generation,
            conditions: conditions(
                &previous.common.conditions,
                &outcome.health,
                generation,
                now,
            ),
        },
        consumers: outcome
            .consumers
            .clone()
            .unwrap_or(previous.consumers.clone()),
        scaling: outcome.scaling.clone(),
        shard_count_updates: plan::in_window(&updates, now)
            .into_iter()
            .map(Time)
            .collect(),
        ..previous
    };
    match &outcome.observed {
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

/// The condition an outcome puts the object in, for the objects-by-condition metric.
pub fn condition_name(health: &Health) -> &'static str {
    match health {
        Health::Ready { .. } => "Ready",
        Health::Progressing { .. } => "Reconciling",
        Health::Stalled { .. } => "Stalled",
    }
}

/// Writes `status` unless the object already has it.
pub async fn write(
    obj: &KinesisStream,
    ctx: &Context,
    status: KinesisStreamStatus,
) -> Result<(), Error> {
    if obj.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<KinesisStream> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let patch = serde_json::json!({
        "apiVersion": "kinesis.operator.dev/v1alpha1",
        "kind": "KinesisStream",
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(&ctx.settings.field_manager).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|e| Error::Kube(obj.name_any(), e))?;
    Ok(())
}
