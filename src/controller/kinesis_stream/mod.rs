//! The KinesisStream reconciler, shaped as a pipeline: observe AWS and take the next step
//! ([`converge`], with the pure decisions in [`diff`] and [`plan`]), then write status
//! ([`status`]) and publish events.
//!
//! A stream is recognised as the object's own by its ownership tags, so an operator killed
//! between CreateStream and the status write finds its stream again instead of creating a
//! second one or reporting `AlreadyExists`.
//!
//! The watch passes on only changes a reconcile must act on (generation, finalizers,
//! deletion), not the operator's own status writes, and objects that cannot be decoded are
//! reported instead of stopping the watch.

pub mod converge;
pub mod diff;
pub mod plan;
pub mod status;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::reflector::{self, reflector};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use parking_lot::Mutex;
use tracing::Instrument;

use self::converge::{Known, Observed, Outcome, Pass};
use super::backoff::Backoff;
use super::conditions::Health;
use super::context::Context;
use crate::api::kinesis_stream::KinesisStream;
use crate::api::shared::{DeletionPolicy, OWNER_UID_TAG};
use crate::aws::errors::{AwsCallError, ErrorClass};

/// Finalizer that holds the object until its stream is gone from AWS.
pub const FINALIZER: &str = "kinesis.operator.dev/cleanup";

/// How often a stream in a transition (CREATING, UPDATING, ...) is looked at again.
const POLL: Duration = Duration::from_secs(1);

/// Tags, consumers and the resource policy are read on every this-many-th resync.
const DEEP_EVERY_RESYNCS: u32 = 6;

/// What can go wrong in a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    /// Reading or writing the object failed.
    #[error("writing status of {0}: {1}")]
    Kube(String, #[source] kube::Error),
    /// Deletion is under way; the finalizer stays until AWS reports the stream gone.
    #[error("stream {0} is being deleted")]
    Deleting(String),
    /// The finalizer machinery failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// A short label for metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Aws(e) => e.class.as_str(),
            Error::Kube(..) => "kubernetes",
            Error::Deleting(_) => "deleting",
            Error::Finalizer(_) => "finalizer",
        }
    }
}

/// The AWS name of the stream of `obj`.
pub fn stream_name(obj: &KinesisStream) -> String {
    obj.spec
        .stream_name
        .clone()
        .unwrap_or_else(|| obj.name_any())
}

/// The controller's state: the shared context, what it knows of each object's stream, and
/// each object's failure count.
pub struct State {
    ctx: Arc<Context>,
    known: Mutex<HashMap<String, Known>>,
    backoff: Backoff,
}

impl State {
    /// State over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        State {
            ctx,
            known: Mutex::new(HashMap::new()),
            backoff: Backoff::default(),
        }
    }
}

/// Publishes an event about the object `reference`; a failure to publish is logged, never
/// fatal.
async fn publish(
    ctx: &Context,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let event = KubeEvent {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, reference).await {
        tracing::warn!(object = ?reference.name, error = %e, "publishing an event failed");
    }
}

fn region_of(obj: &KinesisStream, ctx: &Context) -> String {
    obj.spec
        .region
        .clone()
        .unwrap_or_else(|| ctx.settings.region.clone())
}

/// Whether the object's status says Ready for its current generation.
fn was_ready(obj: &KinesisStream) -> bool {
    obj.status.as_ref().is_some_and(|s| {
        s.common.observed_generation == obj.meta().generation
            && s.common
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

async fn apply(obj: Arc<KinesisStream>, state: &State) -> Result<Action, Error> {
    let ctx = &state.ctx;
    let uid = obj.uid().unwrap_or_default();
    let region = region_of(&obj, ctx);
    let aws = ctx.aws.kinesis(&region);
    let mut notes = Vec::new();
    let mut known = state.known.lock().get(&uid).cloned().unwrap_or_default();
    let now = k8s_openapi::jiff::Timestamp::now();
    let converged = Pass {
        obj: &obj,
        aws: &aws,
        known: &mut known,
        notes: &mut notes,
        deep_every: ctx.settings.resync * DEEP_EVERY_RESYNCS,
        now,
    }
    .converge()
    .await;
    let in_transition = matches!(
        &converged,
        Ok(Outcome {
            health: Health::Progressing { .. },
            requeue: Some(POLL),
            ..
        })
    );
    let poll = known.next_poll(in_transition);
    // A change made while the object was already Ready for its current generation corrects
    // drift: someone changed or deleted the stream outside the operator.
    let generation = obj.meta().generation;
    let drift = was_ready(&obj) || (generation.is_some() && known.ready_generation == generation);
    if matches!(
        &converged,
        Ok(Outcome {
            health: Health::Ready { .. },
            ..
        })
    ) {
        known.ready_generation = generation;
    }
    state.known.lock().insert(uid.clone(), known);
    let reference = obj.object_ref(&());
    for note in notes {
        let reason = if drift { "DriftCorrected" } else { note.reason };
        publish(
            ctx,
            &reference,
            EventType::Normal,
            reason,
            note.reason,
            note.message,
        )
        .await;
    }
    let outcome = match converged {
        Ok(o) => {
            state.backoff.succeeded(&uid);
            o
        }
        Err(e) if e.class == ErrorClass::Terminal => {
            publish(
                ctx,
                &reference,
                EventType::Warning,
                "AWSError",
                e.operation,
                e.to_string(),
            )
            .await;
            state.backoff.succeeded(&uid);
            Outcome::stalled(
                Observed::Unknown,
                "AWSError",
                format!("{}: {}", e.code, e.message),
            )
        }
        Err(e) => {
            publish(
                ctx,
                &reference,
                EventType::Warning,
                "Retrying",
                e.operation,
                e.to_string(),
            )
            .await;
            let wait = state.backoff.failed(&uid, e.class);
            tracing::info!(stream = %obj.name_any(), namespace = ?obj.namespace(), error = %e, retry_in = ?wait, "retrying");
            Outcome {
                requeue: Some(wait),
                ..Outcome::progressing(Observed::Unknown, "Retrying", e.to_string())
            }
        }
    };
    ctx.metrics.object_condition(
        "KinesisStream",
        &uid,
        Some(status::condition_name(&outcome.health)),
    );
    status::write(&obj, ctx, status::build(&obj, &region, &outcome, now)).await?;
    Ok(match outcome.requeue {
        Some(POLL) => Action::requeue(poll),
        Some(after) => Action::requeue(after),
        None if matches!(outcome.health, Health::Stalled { .. }) => Action::await_change(),
        None => Action::requeue(ctx.settings.resync),
    })
}

/// Deletes the object's stream if it is the object's own. `Ok(true)` once it is gone (or was
/// never the object's), `Ok(false)` while AWS is still deleting it.
async fn delete_stream(
    obj: &KinesisStream,
    state: &State,
    name: &str,
) -> Result<bool, AwsCallError> {
    let ctx = &state.ctx;
    let uid = obj.uid().unwrap_or_default();
    let aws = ctx.aws.kinesis(&region_of(obj, ctx));
    let Some(view) = aws.describe(name).await? else {
        return Ok(true);
    };
    if view.status == "DELETING" {
        return Ok(false);
    }
    let verified = state.known.lock().get(&uid).is_some_and(|k| k.owns(&view));
    let ours = verified || aws.tags(name).await?.get(OWNER_UID_TAG) == Some(&uid);
    if !ours {
        // Someone else's stream of the same name: never delete it.
        return Ok(true);
    }
    aws.delete(name).await?;
    publish(
        ctx,
        &obj.object_ref(&()),
        EventType::Normal,
        "Deleting",
        "DeleteStream",
        format!("DeleteStream {name}"),
    )
    .await;
    // Gone at once (an emulator without delays) releases the object in this pass.
    Ok(aws.describe(name).await?.is_none())
}

/// Deletes the stream per `deletionPolicy`, reporting progress and errors in status and
/// events; the finalizer stays until AWS says the stream is gone.
async fn cleanup(obj: Arc<KinesisStream>, state: &State) -> Result<Action, Error> {
    let ctx = &state.ctx;
    let uid = obj.uid().unwrap_or_default();
    let gone = || {
        ctx.metrics.object_condition("KinesisStream", &uid, None);
        state.known.lock().remove(&uid);
        state.backoff.succeeded(&uid);
        Ok(Action::await_change())
    };
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return gone();
    }
    let name = stream_name(&obj);
    let (health, result) = match delete_stream(&obj, state, &name).await {
        Ok(true) => return gone(),
        Ok(false) => (
            Health::Progressing {
                reason: "Deleting".to_owned(),
                message: format!("waiting for AWS to delete stream {name}"),
            },
            Error::Deleting(name),
        ),
        Err(e) => {
            let (reason, health) = if e.class == ErrorClass::Terminal {
                (
                    "AWSError",
                    Health::Stalled {
                        reason: "AWSError".to_owned(),
                        message: format!("deleting: {}: {}", e.code, e.message),
                    },
                )
            } else {
                (
                    "Retrying",
                    Health::Progressing {
                        reason: "Retrying".to_owned(),
                        message: e.to_string(),
                    },
                )
            };
            publish(
                ctx,
                &obj.object_ref(&()),
                EventType::Warning,
                reason,
                e.operation,
                e.to_string(),
            )
            .await;
            (health, Error::Aws(e))
        }
    };
    let outcome = Outcome::reporting(Observed::Unknown, health);
    let region = region_of(&obj, ctx);
    let now = k8s_openapi::jiff::Timestamp::now();
    status::write(&obj, ctx, status::build(&obj, &region, &outcome, now)).await?;
    Err(result)
}

/// Reconciles one KinesisStream; an object that cannot be decoded is reported and left alone
/// until it changes.
pub async fn reconcile(
    guard: Arc<DeserializeGuard<KinesisStream>>,
    state: Arc<State>,
) -> Result<Action, Error> {
    let obj = match &guard.0 {
        Ok(obj) => Arc::new(obj.clone()),
        Err(invalid) => {
            tracing::warn!(object = ?invalid.metadata.name, namespace = ?invalid.metadata.namespace, error = %invalid.error, "cannot decode KinesisStream");
            publish(
                &state.ctx,
                &guard.object_ref(&()),
                EventType::Warning,
                "InvalidObject",
                "Decode",
                format!(
                    "the object does not match the KinesisStream schema this operator knows: {}; fix or re-apply it",
                    invalid.error
                ),
            )
            .await;
            return Ok(Action::await_change());
        }
    };
    let span = tracing::info_span!(
        "reconcile",
        kind = "KinesisStream",
        namespace = %obj.namespace().unwrap_or_default(),
        name = %obj.name_any()
    );
    let started = std::time::Instant::now();
    let ctx = &state.ctx;
    let api: Api<KinesisStream> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => apply(o, &state).await,
            Event::Cleanup(o) => cleanup(o, &state).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    })
    .inspect(|_| {
        ctx.metrics
            .reconciled("KinesisStream", "ok", started.elapsed())
    })
    .inspect_err(|e| {
        ctx.metrics
            .reconciled("KinesisStream", e.class(), started.elapsed())
    })
}

/// What to do after a failed reconcile: poll a deletion, back off per object otherwise.
pub fn error_policy(
    guard: Arc<DeserializeGuard<KinesisStream>>,
    error: &Error,
    state: Arc<State>,
) -> Action {
    let uid = guard.meta().uid.clone().unwrap_or_default();
    let name = guard.meta().name.clone().unwrap_or_default();
    match error {
        Error::Deleting(_) => Action::requeue(POLL),
        Error::Aws(e) => {
            let wait = state.backoff.failed(&uid, e.class);
            tracing::info!(stream = %name, namespace = ?guard.meta().namespace, error = %e, retry_in = ?wait, "reconcile failed");
            Action::requeue(wait)
        }
        other => {
            let wait = state.backoff.failed(&uid, ErrorClass::Transient);
            tracing::warn!(stream = %name, namespace = ?guard.meta().namespace, error = %other, retry_in = ?wait, "reconcile failed");
            Action::requeue(wait)
        }
    }
}

/// Runs the KinesisStream controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<DeserializeGuard<KinesisStream>> = match namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    let (reader, writer) = reflector::store();
    // The store sees every change (status included, so requeued passes read the latest);
    // reconciles are triggered only by what a reconcile must act on.
    // managedFields are dropped before the store: the reconciler never reads them and they
    // are most of an object's size.
    let objects = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut DeserializeGuard<KinesisStream>| {
            o.meta_mut().managed_fields = None;
        });
    let changes = reflector(writer, objects)
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::finalizers)
                .combine(|o: &DeserializeGuard<KinesisStream>| {
                    o.meta().deletion_timestamp.as_ref().map(|_| 1)
                }),
            Default::default(),
        );
    Controller::for_stream(changes, reader)
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, Arc::new(State::new(ctx)))
        .for_each(|_| async {})
        .await;
}
