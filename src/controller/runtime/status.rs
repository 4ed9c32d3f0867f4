//! The status every kind reports: ARN, region, observedGeneration and the kstatus conditions
//! ([`crate::controller::conditions`]), written with server-side apply on the status
//! subresource under the operator's field manager, and skipped when nothing but timestamps
//! would change.

use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::{Resource, ResourceExt};

use super::Error;
use super::reconciler::{KindStatus, Reconciler};
use crate::api::shared::CommonStatus;
use crate::controller::conditions::{Health, conditions};
use crate::controller::context::Context;

/// The fields every kind reports after a pass: `arn` when the pass saw one, else the
/// previous one; the conditions keep each `lastTransitionTime` whose status did not change.
pub fn common(
    previous: &CommonStatus,
    arn: Option<String>,
    region: &str,
    health: &Health,
    generation: Option<i64>,
    now: Timestamp,
) -> CommonStatus {
    CommonStatus {
        arn: arn.or_else(|| previous.arn.clone()),
        region: Some(region.to_owned()),
        observed_generation: generation,
        conditions: conditions(&previous.conditions, health, generation, now),
    }
}

/// The condition an outcome puts the object in, for the objects-by-condition metric.
pub fn condition_name(health: &Health) -> &'static str {
    match health {
        Health::Ready { .. } => "Ready",
        Health::Progressing { .. } => "Reconciling",
        Health::Stalled { .. } => "Stalled",
    }
}

/// Whether `status` says Ready for `generation`.
pub fn says_ready(status: Option<&CommonStatus>, generation: Option<i64>) -> bool {
    status.is_some_and(|s| {
        s.observed_generation == generation
            && s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// The status of `obj` after a pass that concluded `health` and saw `report`.
pub fn build<R: Reconciler>(
    obj: &R::Object,
    region: &str,
    health: &Health,
    report: &R::Report,
    now: Timestamp,
) -> <R::Object as HasStatus>::Status {
    let previous = obj.status().map(|s| s.common().clone()).unwrap_or_default();
    let common = common(
        &previous,
        R::arn(report),
        region,
        health,
        obj.meta().generation,
        now,
    );
    R::build_status(obj, common, report, now)
}

/// Writes `status` unless the object already has it.
pub async fn write<R: Reconciler>(
    obj: &R::Object,
    ctx: &Context,
    status: <R::Object as HasStatus>::Status,
) -> Result<(), Error> {
    if obj.status() == Some(&status) {
        return Ok(());
    }
    let api: Api<R::Object> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let patch = serde_json::json!({
        "apiVersion": R::Object::api_version(&()),
        "kind": R::Object::kind(&()),
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

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    use super::*;

    fn ready_at(generation: i64, status: &str) -> CommonStatus {
        CommonStatus {
            observed_generation: Some(generation),
            conditions: vec![Condition {
                type_: "Ready".into(),
                status: status.into(),
                reason: "Active".into(),
                message: String::new(),
                observed_generation: Some(generation),
                last_transition_time: Time(Timestamp::from_second(10).unwrap()),
            }],
            ..CommonStatus::default()
        }
    }

    #[test]
    fn ready_only_for_the_generation_it_was_observed_at() {
        let cases = [
            (None, Some(1), false),
            (Some(ready_at(1, "True")), Some(1), true),
            (Some(ready_at(1, "True")), Some(2), false),
            (Some(ready_at(2, "False")), Some(2), false),
        ];
        for (status, generation, expected) in cases {
            assert_eq!(
                says_ready(status.as_ref(), generation),
                expected,
                "{status:?} {generation:?}"
            );
        }
    }

    #[test]
    fn the_arn_seen_wins_and_an_unseen_one_is_kept() {
        let previous = CommonStatus {
            arn: Some("arn:old".into()),
            ..CommonStatus::default()
        };
        let health = Health::Ready {
            reason: "Active".into(),
            message: "ok".into(),
        };
        let now = Timestamp::from_second(10).unwrap();
        let cases = [
            (Some("arn:new".to_owned()), Some("arn:new")),
            (None, Some("arn:old")),
        ];
        for (seen, expected) in cases {
            let common = common(&previous, seen.clone(), "eu-west-1", &health, Some(4), now);
            assert_eq!(common.arn.as_deref(), expected, "{seen:?}");
            assert_eq!(common.region.as_deref(), Some("eu-west-1"));
            assert_eq!(common.observed_generation, Some(4));
            assert_eq!(common.conditions.len(), 3);
        }
    }

    #[test]
    fn condition_names() {
        let (reason, message) = (String::new(), String::new());
        let cases = [
            (
                Health::Ready {
                    reason: reason.clone(),
                    message: message.clone(),
                },
                "Ready",
            ),
            (
                Health::Progressing {
                    reason: reason.clone(),
                    message: message.clone(),
                },
                "Reconciling",
            ),
            (Health::Stalled { reason, message }, "Stalled"),
        ];
        for (health, expected) in cases {
            assert_eq!(condition_name(&health), expected);
        }
    }
}
