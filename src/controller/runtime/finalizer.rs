//! One reconcile of any kind: objects that cannot be decoded are reported and left alone;
//! the finalizer is added before anything reaches AWS; a live object converges
//! ([`Reconciler::converge`]) and a deleted one is cleaned up per `deletionPolicy`
//! ([`Reconciler::delete`]), the finalizer staying until AWS reports the resource gone.
//!
//! Errors are handled here, identically for every kind: a terminal AWS error is `Stalled`
//! with AWS's code and text verbatim and not retried until the object changes; any other is
//! `Retrying`, with a per-object backoff with jitter. Every error is a Warning event; every
//! reconcile is counted in the metrics by kind and result.

use std::sync::Arc;

use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use super::events::{corrects_drift, publish, publish_notes};
use super::outcome::{Outcome, POLL, failure, next_action};
use super::reconciler::{Deletion, KindStatus, Reconciler, Removal, Step};
use super::{Error, FINALIZER, State, status};
use crate::api::shared::{DeletionPolicy, Placement};
use crate::aws::errors::ErrorClass;
use crate::controller::conditions::Health;

/// Reconciles one object of kind `R`; an object that cannot be decoded is reported and left
/// alone until it changes.
pub async fn reconcile<R: Reconciler>(
    guard: Arc<DeserializeGuard<R::Object>>,
    state: Arc<State<R>>,
) -> Result<Action, Error> {
    let _running = super::Running::start(&state.in_flight);
    let obj = match &guard.0 {
        Ok(obj) => Arc::new(obj.clone()),
        Err(invalid) => {
            tracing::warn!(object = ?invalid.metadata.name, namespace = ?invalid.metadata.namespace, error = %invalid.error, "cannot decode {}", R::KIND);
            publish(
                &state.ctx,
                &guard.object_ref(&()),
                EventType::Warning,
                "InvalidObject",
                "Decode",
                format!(
                    "the object does not match the {} schema this operator knows: {}; fix or re-apply it",
                    R::KIND,
                    invalid.error
                ),
            )
            .await;
            return Ok(Action::await_change());
        }
    };
    let span = tracing::info_span!(
        "reconcile",
        kind = R::KIND,
        namespace = %obj.namespace().unwrap_or_default(),
        name = %obj.name_any()
    );
    let started = std::time::Instant::now();
    let ctx = &state.ctx;
    let api: Api<R::Object> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => apply(o, &state).await,
            Event::Cleanup(o) => cleanup(o, &state).await,
        }
    })
    .instrument(span)
    .await
    .or_else(|e| match e {
        // The pass started from a copy older than the object (a reference's watch woke it
        // before the watch of the kind delivered the finalizer an earlier pass added): the
        // newer object brings a pass of its own, so this one has nothing to do.
        kube::runtime::finalizer::Error::AddFinalizer(kube::Error::Api(e)) if e.code == 422 => {
            tracing::debug!(kind = R::KIND, "the finalizer list changed since this copy of the object; waiting for the newer one");
            Ok(Action::await_change())
        }
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => Err(e),
        other => Err(Error::Finalizer(other.to_string())),
    })
    .inspect(|_| ctx.metrics.reconciled(R::KIND, "ok", started.elapsed()))
    .inspect_err(|e| {
        ctx.metrics
            .reconciled(R::KIND, e.class(), started.elapsed())
    })
}

/// Converges a live object, then reports the outcome in events, status and metrics.
async fn apply<R: Reconciler>(obj: Arc<R::Object>, state: &State<R>) -> Result<Action, Error> {
    let ctx = &state.ctx;
    let uid = obj.uid().unwrap_or_default();
    let region = state.region_of(&obj);
    let mut notes = Vec::new();
    let mut tracked = state.tracked.lock().get(&uid).cloned().unwrap_or_default();
    let now = k8s_openapi::jiff::Timestamp::now();
    let converged = state
        .reconciler
        .converge(Step {
            obj: &obj,
            ctx,
            region: &region,
            known: &mut tracked,
            notes: &mut notes,
            now,
        })
        .await;
    let poll = tracked.next_poll(converged.as_ref().is_ok_and(Outcome::in_transition));
    let generation = obj.meta().generation;
    let was_ready = status::says_ready(obj.status().map(KindStatus::common), generation);
    let drift = corrects_drift(was_ready, generation, tracked.ready_generation);
    if let Ok(Outcome {
        health: Health::Ready { .. },
        ..
    }) = &converged
    {
        tracked.ready_generation = generation;
    }
    state.tracked.lock().insert(uid.clone(), tracked);
    let reference = obj.object_ref(&());
    publish_notes(ctx, &reference, notes, drift).await;
    let outcome = match converged {
        Ok(o) => {
            state.backoff.succeeded(&uid);
            o
        }
        Err(e) => {
            let (reason, health) = failure(&e, false);
            publish(
                ctx,
                &reference,
                EventType::Warning,
                reason,
                e.operation,
                e.to_string(),
            )
            .await;
            if e.class == ErrorClass::Terminal {
                // Not retried until the spec changes.
                state.backoff.succeeded(&uid);
                Outcome::reporting(R::Report::default(), health)
            } else {
                let wait = state.backoff.failed(&uid, e.class);
                tracing::info!(kind = R::KIND, name = %obj.name_any(), namespace = ?obj.namespace(), error = %e, retry_in = ?wait, "retrying");
                Outcome {
                    requeue: super::Requeue::After(wait),
                    ..Outcome::reporting(R::Report::default(), health)
                }
            }
        }
    };
    ctx.metrics
        .object_condition(R::KIND, &uid, Some(status::condition_name(&outcome.health)));
    let new_status = status::build::<R>(&obj, &region, &outcome.health, &outcome.report, now);
    status::write::<R>(&obj, ctx, new_status).await?;
    Ok(next_action(
        outcome.requeue,
        &outcome.health,
        poll,
        ctx.settings.resync,
    ))
}

/// Deletes the AWS resource per `deletionPolicy`, reporting progress and errors in status and
/// events; the finalizer stays until AWS says the resource is gone.
async fn cleanup<R: Reconciler>(obj: Arc<R::Object>, state: &State<R>) -> Result<Action, Error> {
    let ctx = &state.ctx;
    let uid = obj.uid().unwrap_or_default();
    let gone = || {
        ctx.metrics.object_condition(R::KIND, &uid, None);
        ctx.resolutions.forget(&uid);
        state.tracked.lock().remove(&uid);
        state.backoff.succeeded(&uid);
        Ok(Action::await_change())
    };
    if obj.deletion_policy() == DeletionPolicy::Retain {
        return gone();
    }
    let name = R::aws_name(&obj);
    let region = state.region_of(&obj);
    let known = state.tracked.lock().get(&uid).map(|t| t.known().clone());
    let mut notes = Vec::new();
    let deleted = state
        .reconciler
        .delete(Removal {
            obj: &obj,
            ctx,
            region: &region,
            name: &name,
            known: known.as_ref(),
            notes: &mut notes,
        })
        .await;
    let reference = obj.object_ref(&());
    publish_notes(ctx, &reference, notes, false).await;
    let (health, result) = match deleted {
        Ok(Deletion::Gone) => return gone(),
        Ok(Deletion::InProgress) => (
            Health::Progressing {
                reason: "Deleting".to_owned(),
                message: format!("waiting for AWS to delete {} {name}", R::NOUN),
            },
            Error::Deleting {
                noun: R::NOUN,
                name,
            },
        ),
        Err(e) => {
            let (reason, health) = failure(&e, true);
            publish(
                ctx,
                &reference,
                EventType::Warning,
                reason,
                e.operation,
                e.to_string(),
            )
            .await;
            (health, Error::Aws(e))
        }
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    let new_status = status::build::<R>(&obj, &region, &health, &R::Report::default(), now);
    status::write::<R>(&obj, ctx, new_status).await?;
    Err(result)
}

/// What to do after a failed reconcile: poll a deletion, back off per object otherwise.
pub fn error_policy<R: Reconciler>(
    guard: Arc<DeserializeGuard<R::Object>>,
    error: &Error,
    state: Arc<State<R>>,
) -> Action {
    let uid = guard.meta().uid.clone().unwrap_or_default();
    let name = guard.meta().name.clone().unwrap_or_default();
    match error {
        Error::Deleting { .. } => Action::requeue(POLL),
        Error::Aws(e) => {
            let wait = state.backoff.failed(&uid, e.class);
            tracing::info!(kind = R::KIND, name = %name, namespace = ?guard.meta().namespace, error = %e, retry_in = ?wait, "reconcile failed");
            Action::requeue(wait)
        }
        other => {
            let wait = state.backoff.failed(&uid, ErrorClass::Transient);
            tracing::warn!(kind = R::KIND, name = %name, namespace = ?guard.meta().namespace, error = %other, retry_in = ?wait, "reconcile failed");
            Action::requeue(wait)
        }
    }
}
