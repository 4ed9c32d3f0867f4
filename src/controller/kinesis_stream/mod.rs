//! The KinesisStream reconciler, shaped as a pipeline: observe AWS, decide the next step
//! (pure, [`plan`]), act, write status.
//!
//! A stream is recognised as the object's own by its ownership tags, so an operator killed
//! between CreateStream and the status write finds its stream again instead of creating a
//! second one or reporting `AlreadyExists`.

pub mod plan;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use super::conditions::{Health, conditions};
use super::context::Context;
use crate::api::kinesis_stream::{KinesisStream, KinesisStreamStatus, ScalingStatus, StreamMode};
use crate::api::shared::{CommonStatus, DeletionPolicy, OWNER_TAG, OWNER_UID_TAG};
use crate::aws::errors::{AwsCallError, ErrorClass};
use crate::aws::kinesis::{KinesisApi, StreamView};

/// Finalizer that holds the object until its stream is gone from AWS.
pub const FINALIZER: &str = "kinesis.operator.dev/cleanup";

/// How often a stream in a transition (CREATING, UPDATING, ...) is looked at again.
const POLL: Duration = Duration::from_secs(1);

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

/// The tags a stream of `obj` carries: the spec's plus the ownership tags.
fn desired_tags(obj: &KinesisStream) -> BTreeMap<String, String> {
    let mut tags = obj.spec.tags.0.clone();
    tags.insert(
        OWNER_TAG.to_owned(),
        format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()),
    );
    tags.insert(OWNER_UID_TAG.to_owned(), obj.uid().unwrap_or_default());
    tags
}

/// What one pass concluded.
struct Outcome {
    view: Option<StreamView>,
    health: Health,
    scaling: Option<ScalingStatus>,
    requeue: Option<Duration>,
}

impl Outcome {
    fn progressing(view: Option<StreamView>, reason: &str, message: String) -> Self {
        Outcome {
            view,
            health: Health::Progressing {
                reason: reason.to_owned(),
                message,
            },
            scaling: None,
            requeue: Some(POLL),
        }
    }
}

/// Compares AWS with the spec and takes the next step toward it.
/// An AWS change a pass made, for a Kubernetes event.
struct Note {
    reason: &'static str,
    message: String,
}

async fn converge(
    obj: &KinesisStream,
    aws: &KinesisApi,
    notes: &mut Vec<Note>,
) -> Result<Outcome, AwsCallError> {
    let name = stream_name(obj);
    let spec = &obj.spec;
    let on_demand = spec.mode == StreamMode::OnDemand;
    let Some(view) = aws.describe(&name).await? else {
        let shards = if on_demand { None } else { spec.shard_count };
        aws.create(
            &name,
            shards,
            on_demand,
            spec.max_record_size_in_ki_b,
            &desired_tags(obj),
        )
        .await?;
        notes.push(Note {
            reason: "Created",
            message: format!("CreateStream {name}"),
        });
        return Ok(Outcome::progressing(
            None,
            "Creating",
            format!("CreateStream {name} sent"),
        ));
    };

    let tags = aws.tags(&name).await?;
    let uid = obj.uid().unwrap_or_default();
    if tags.get(OWNER_UID_TAG) != Some(&uid) {
        if !spec.adopt {
            let owner = tags
                .get(OWNER_TAG)
                .map_or_else(|| "no owner tag".to_owned(), |o| format!("owned by {o}"));
            return Ok(Outcome {
                view: Some(view),
                health: Health::Stalled {
                    reason: "AlreadyExists".to_owned(),
                    message: format!(
                        "stream {name} already exists in AWS and is not this object's ({owner}); set spec.adopt: true to take it over, or choose another spec.streamName"
                    ),
                },
                scaling: None,
                requeue: None,
            });
        }
        aws.add_tags(&name, &desired_tags(obj)).await?;
        notes.push(Note {
            reason: "Adopted",
            message: format!("took over stream {name} (spec.adopt) and tagged it as this object's"),
        });
    }

    let scaling = match (on_demand, spec.shard_count) {
        (false, Some(target)) if view.open_shards != target => Some(ScalingStatus {
            from: view.open_shards,
            to: target,
            steps: plan::route(view.open_shards, target),
            next_step_after: None,
        }),
        _ => None,
    };
    if view.status == "UPDATING"
        && let Some(scaling) = scaling
    {
        return Ok(Outcome {
            health: Health::Progressing {
                reason: "Scaling".to_owned(),
                message: format!(
                    "re-sharding: {} open shards, next {:?}",
                    view.open_shards, scaling.steps
                ),
            },
            view: Some(view),
            scaling: Some(scaling),
            requeue: Some(POLL),
        });
    }
    match view.status.as_str() {
        "ACTIVE" => {}
        "CREATING" => {
            return Ok(Outcome::progressing(
                Some(view),
                "Creating",
                "stream is CREATING".into(),
            ));
        }
        "DELETING" => {
            return Ok(Outcome::progressing(
                Some(view),
                "Deleting",
                "stream is DELETING outside the operator; it is re-created once gone".into(),
            ));
        }
        other => {
            let message = format!("stream is {other}");
            return Ok(Outcome::progressing(Some(view), "Updating", message));
        }
    }

    if view.on_demand != on_demand {
        aws.set_mode(&view.arn, on_demand).await?;
        notes.push(Note {
            reason: "ModeChanged",
            message: format!("UpdateStreamMode to {:?}", spec.mode),
        });
        return Ok(Outcome::progressing(
            Some(view),
            "Updating",
            format!("switching to {:?} mode", spec.mode),
        ));
    }
    if let (false, Some(target)) = (on_demand, spec.shard_count)
        && view.open_shards != target
    {
        let steps = plan::route(view.open_shards, target);
        let next = steps[0];
        let scaling = ScalingStatus {
            from: view.open_shards,
            to: target,
            steps: steps.clone(),
            next_step_after: None,
        };
        return match aws.update_shard_count(&name, next).await {
            Ok(()) => {
                notes.push(Note {
                    reason: "Scaling",
                    message: format!("UpdateShardCount {} -> {next}", view.open_shards),
                });
                Ok(Outcome {
                    health: Health::Progressing {
                        reason: "Scaling".to_owned(),
                        message: format!(
                            "UpdateShardCount {} -> {next} (route {:?})",
                            view.open_shards, steps
                        ),
                    },
                    view: Some(view),
                    scaling: Some(scaling),
                    requeue: Some(POLL),
                })
            }
            Err(e) if e.class == ErrorClass::Terminal && e.code == "LimitExceededException" => {
                Ok(Outcome {
                    health: Health::Stalled {
                        reason: "ScalingLimit".to_owned(),
                        message: format!("{}: {}", e.code, e.message),
                    },
                    view: Some(view),
                    scaling: Some(scaling),
                    requeue: Some(Duration::from_secs(3600)),
                })
            }
            Err(e) => Err(e),
        };
    }
    if view.retention_hours != spec.retention_period_hours {
        aws.set_retention(&name, view.retention_hours, spec.retention_period_hours)
            .await?;
        notes.push(Note {
            reason: "RetentionChanged",
            message: format!(
                "retention {} h -> {} h",
                view.retention_hours, spec.retention_period_hours
            ),
        });
        return Ok(Outcome::progressing(
            Some(view),
            "Updating",
            "changing the retention period".into(),
        ));
    }
    if let Some(step) = settings_step(obj, &view) {
        notes.push(Note {
            reason: "SettingsChanged",
            message: format!("{step:?}"),
        });
        match step {
            SettingsStep::Encrypt(key) => aws.set_encryption(&name, &key, true).await?,
            SettingsStep::Decrypt(key) => aws.set_encryption(&name, &key, false).await?,
            SettingsStep::Metrics { enable, disable } => {
                if !enable.is_empty() {
                    aws.set_metrics(&name, &enable, true).await?;
                }
                if !disable.is_empty() {
                    aws.set_metrics(&name, &disable, false).await?;
                }
            }
            SettingsStep::MaxRecordSize(kib) => aws.set_max_record_size(&view.arn, kib).await?,
        }
        return Ok(Outcome::progressing(
            Some(view),
            "Updating",
            "applying stream settings".into(),
        ));
    }
    let missing: BTreeMap<_, _> = spec
        .tags
        .0
        .iter()
        .filter(|(k, v)| tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() {
        aws.add_tags(&name, &missing).await?;
        notes.push(Note {
            reason: "TagsChanged",
            message: format!("AddTagsToStream {:?}", missing.keys().collect::<Vec<_>>()),
        });
    }
    Ok(Outcome {
        health: Health::Ready {
            reason: "Active".to_owned(),
            message: format!("stream {name} is ACTIVE and matches the spec"),
        },
        view: Some(view),
        scaling: None,
        requeue: None,
    })
}

/// A settings change to make, one per pass.
#[derive(Debug, PartialEq, Eq)]
enum SettingsStep {
    /// StartStreamEncryption with this key.
    Encrypt(String),
    /// StopStreamEncryption with the current key.
    Decrypt(String),
    /// Enable and disable shard-level metrics.
    Metrics {
        enable: Vec<String>,
        disable: Vec<String>,
    },
    /// UpdateMaxRecordSize.
    MaxRecordSize(i32),
}

/// The next settings change the spec asks for (pure).
fn settings_step(obj: &KinesisStream, view: &StreamView) -> Option<SettingsStep> {
    let spec = &obj.spec;
    match (&spec.encryption, view.key_id.as_deref()) {
        (Some(e), current) if current != Some(e.key_id.as_str()) => {
            return Some(SettingsStep::Encrypt(e.key_id.clone()));
        }
        (None, Some(current)) if view.encryption == "KMS" => {
            return Some(SettingsStep::Decrypt(current.to_owned()));
        }
        _ => {}
    }
    let wanted: std::collections::BTreeSet<String> = spec
        .shard_level_metrics
        .iter()
        .flat_map(|m| {
            match serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
            {
                Some(all) if all == "ALL" => ALL_METRICS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect::<Vec<_>>(),
                Some(one) => vec![one],
                None => vec![],
            }
        })
        .collect();
    let current: std::collections::BTreeSet<String> =
        view.shard_level_metrics.iter().cloned().collect();
    let enable: Vec<_> = wanted.difference(&current).cloned().collect();
    let disable: Vec<_> = current.difference(&wanted).cloned().collect();
    if !enable.is_empty() || !disable.is_empty() {
        return Some(SettingsStep::Metrics { enable, disable });
    }
    if view
        .max_record_kib
        .is_some_and(|kib| kib != spec.max_record_size_in_ki_b)
    {
        return Some(SettingsStep::MaxRecordSize(spec.max_record_size_in_ki_b));
    }
    None
}

/// Every shard-level metric, which `ALL` stands for.
const ALL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// Writes status (server-side apply on the status subresource) unless nothing but timestamps
/// would change.
async fn write_status(
    obj: &KinesisStream,
    ctx: &Context,
    region: &str,
    outcome: &Outcome,
) -> Result<(), Error> {
    let previous = obj.status.clone().unwrap_or_default();
    let view = outcome.view.as_ref();
    let status = KinesisStreamStatus {
        common: CommonStatus {
            arn: view.map(|v| v.arn.clone()).or(previous.common.arn.clone()),
            region: Some(region.to_owned()),
            observed_generation: obj.meta().generation,
            conditions: conditions(
                &previous.common.conditions,
                &outcome.health,
                obj.meta().generation,
                k8s_openapi::jiff::Timestamp::now(),
            ),
        },
        stream_status: view.map(|v| v.status.clone()),
        open_shard_count: view.map(|v| v.open_shards),
        mode: view.map(|v| {
            if v.on_demand {
                StreamMode::OnDemand
            } else {
                StreamMode::Provisioned
            }
        }),
        retention_period_hours: view.map(|v| v.retention_hours),
        encryption_type: view.map(|v| v.encryption.clone()),
        max_record_size_in_ki_b: view.and_then(|v| v.max_record_kib),
        consumers: Vec::new(),
        scaling: outcome.scaling.clone(),
    };
    let condition = match outcome.health {
        Health::Ready { .. } => "Ready",
        Health::Progressing { .. } => "Reconciling",
        Health::Stalled { .. } => "Stalled",
    };
    ctx.metrics.object_condition(
        "KinesisStream",
        &obj.uid().unwrap_or_default(),
        Some(condition),
    );
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

/// Publishes an event about `obj`; a failure to publish is logged, never fatal.
async fn publish(
    ctx: &Context,
    obj: &KinesisStream,
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
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(stream = %obj.name_any(), error = %e, "publishing an event failed");
    }
}

fn region_of(obj: &KinesisStream, ctx: &Context) -> String {
    obj.spec
        .region
        .clone()
        .unwrap_or_else(|| ctx.settings.region.clone())
}

async fn apply(obj: Arc<KinesisStream>, ctx: &Context) -> Result<Action, Error> {
    let region = region_of(&obj, ctx);
    let aws = ctx.aws.kinesis(&region);
    let mut notes = Vec::new();
    let converged = converge(&obj, &aws, &mut notes).await;
    // A change made while the object was already Ready for its current generation corrects
    // drift: someone changed or deleted the stream outside the operator.
    let was_ready = obj.status.as_ref().is_some_and(|s| {
        s.common.observed_generation == obj.meta().generation
            && s.common
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
    });
    for note in notes {
        let reason = if was_ready {
            "DriftCorrected"
        } else {
            note.reason
        };
        publish(
            ctx,
            &obj,
            EventType::Normal,
            reason,
            note.reason,
            note.message,
        )
        .await;
    }
    if let Err(e) = &converged {
        let reason = if e.class == ErrorClass::Terminal {
            "AWSError"
        } else {
            "Retrying"
        };
        publish(
            ctx,
            &obj,
            EventType::Warning,
            reason,
            e.operation,
            e.to_string(),
        )
        .await;
    }
    let outcome = match converged {
        Ok(o) => o,
        Err(e) if e.class == ErrorClass::Terminal => Outcome {
            view: None,
            health: Health::Stalled {
                reason: "AWSError".to_owned(),
                message: format!("{}: {}", e.code, e.message),
            },
            scaling: None,
            requeue: None,
        },
        Err(e) => {
            tracing::info!(stream = %obj.name_any(), namespace = ?obj.namespace(), error = %e, "retrying");
            Outcome {
                view: None,
                health: Health::Progressing {
                    reason: "Retrying".to_owned(),
                    message: e.to_string(),
                },
                scaling: None,
                requeue: Some(backoff(e.class)),
            }
        }
    };
    write_status(&obj, ctx, &region, &outcome).await?;
    Ok(match outcome.requeue {
        Some(after) => Action::requeue(after),
        None if matches!(outcome.health, Health::Stalled { .. }) => Action::await_change(),
        None => Action::requeue(ctx.settings.resync),
    })
}

/// Retry delay for a failed call, with jitter so that many objects do not retry in step.
fn backoff(class: ErrorClass) -> Duration {
    let base = match class {
        ErrorClass::Throttled => 2000,
        _ => 1000,
    };
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis() as u64 % base);
    Duration::from_millis(base + jitter)
}

async fn cleanup(obj: Arc<KinesisStream>, ctx: &Context) -> Result<Action, Error> {
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Action::await_change());
    }
    let name = stream_name(&obj);
    let aws = ctx.aws.kinesis(&region_of(&obj, ctx));
    let Some(view) = aws.describe(&name).await? else {
        ctx.metrics
            .object_condition("KinesisStream", &obj.uid().unwrap_or_default(), None);
        return Ok(Action::await_change());
    };
    let ours = aws.tags(&name).await?.get(OWNER_UID_TAG) == obj.uid().as_ref();
    if !ours {
        // Someone else's stream of the same name: never delete it.
        return Ok(Action::await_change());
    }
    if view.status != "DELETING" {
        aws.delete(&name).await?;
    }
    Err(Error::Deleting(name))
}

/// Reconciles one KinesisStream.
pub async fn reconcile(obj: Arc<KinesisStream>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let api: Api<KinesisStream> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => apply(o, &ctx).await,
            Event::Cleanup(o) => cleanup(o, &ctx).await,
        }
    })
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

/// What to do after a failed reconcile.
pub fn error_policy(obj: Arc<KinesisStream>, error: &Error, _ctx: Arc<Context>) -> Action {
    match error {
        Error::Deleting(_) => Action::requeue(POLL),
        Error::Aws(e) => {
            tracing::info!(stream = %obj.name_any(), error = %e, "reconcile failed");
            Action::requeue(backoff(e.class))
        }
        other => {
            tracing::warn!(stream = %obj.name_any(), error = %other, "reconcile failed");
            Action::requeue(Duration::from_secs(2))
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
    let api: Api<KinesisStream> = match namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    Controller::new(api, watcher::Config::default())
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(spec: serde_json::Value) -> KinesisStream {
        KinesisStream::new("s", serde_json::from_value(spec).unwrap())
    }

    fn view(key: Option<&str>, metrics: &[&str], kib: i32) -> StreamView {
        StreamView {
            arn: "arn".into(),
            status: "ACTIVE".into(),
            on_demand: false,
            open_shards: 1,
            retention_hours: 24,
            encryption: if key.is_some() { "KMS" } else { "NONE" }.into(),
            max_record_kib: Some(kib),
            key_id: key.map(str::to_owned),
            shard_level_metrics: metrics.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    #[test]
    fn settings_steps_in_order_encryption_metrics_record_size() {
        let cases: Vec<(serde_json::Value, StreamView, Option<SettingsStep>)> = vec![
            (
                serde_json::json!({"shardCount": 1}),
                view(None, &[], 1024),
                None,
            ),
            (
                serde_json::json!({"shardCount": 1, "encryption": {"keyId": "alias/aws/kinesis"}}),
                view(None, &[], 1024),
                Some(SettingsStep::Encrypt("alias/aws/kinesis".into())),
            ),
            (
                serde_json::json!({"shardCount": 1}),
                view(Some("k"), &[], 1024),
                Some(SettingsStep::Decrypt("k".into())),
            ),
            (
                serde_json::json!({"shardCount": 1, "shardLevelMetrics": ["IncomingBytes"]}),
                view(None, &["OutgoingBytes"], 1024),
                Some(SettingsStep::Metrics {
                    enable: vec!["IncomingBytes".into()],
                    disable: vec!["OutgoingBytes".into()],
                }),
            ),
            (
                serde_json::json!({"shardCount": 1, "shardLevelMetrics": ["ALL"]}),
                view(None, &ALL_METRICS, 1024),
                None,
            ),
            (
                serde_json::json!({"shardCount": 1, "maxRecordSizeInKiB": 2048}),
                view(None, &[], 1024),
                Some(SettingsStep::MaxRecordSize(2048)),
            ),
        ];
        for (spec, view, expected) in cases {
            assert_eq!(
                settings_step(&stream(spec.clone()), &view),
                expected,
                "{spec}"
            );
        }
    }
}
