//! One pass over a stream: observe AWS, then take the next step toward the spec.
//!
//! A pass makes as few AWS calls as it can. An object never seen in AWS is created without
//! describing first; a stream this process created or verified is recognised by its ARN and
//! creation time, so its tags are not read again on every pass. Tags, consumers and the
//! resource policy (the parts DescribeStreamSummary does not show) are read when the spec
//! changed and on every sixth resync (the "deep" check); a plain resync of a settled stream is
//! one DescribeStreamSummary and no write.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::Resource;

use super::diff::{self, SettingsStep};
use super::plan;
use super::stream_name;
use crate::api::kinesis_stream::{ConsumerStatus, KinesisStream, ScalingStatus, StreamMode};
use crate::aws::errors::{AwsCallError, ErrorClass};
use crate::aws::kinesis::{ConsumerView, KinesisApi, NewStream, StreamView};
use crate::controller::policy_doc;
use crate::controller::runtime::identity::Identity;
use crate::controller::runtime::observe::{Looked, find_or_create};
use crate::controller::runtime::outcome::POLL;
use crate::controller::runtime::ownership::{self};
use crate::controller::runtime::{Note, Outcome, Requeue};

/// What this process knows of an object's stream between passes.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// Which stream is the object's own; when tags, consumers and the resource policy were
    /// last read.
    identity: Identity,
    /// The stream's tags as last read or written.
    tags: Option<BTreeMap<String, String>>,
    /// The stream's resource policy as last read or written (`Some(None)`: none).
    policy: Option<Option<String>>,
}

/// What a pass saw of the stream.
pub type Observed = crate::controller::runtime::Observed<StreamView>;

/// What a pass reports besides the conditions: the stream's status fields.
#[derive(Debug, Default)]
pub struct Report {
    /// What it saw.
    pub observed: Observed,
    /// Re-sharding progress.
    pub scaling: Option<ScalingStatus>,
    /// Consumers to report; `None` keeps the previous list.
    pub consumers: Option<Vec<ConsumerStatus>>,
    /// UpdateShardCount calls of the last 24 hours; `None` keeps the previous list.
    pub shard_updates: Option<Vec<Timestamp>>,
}

ownership::owned_kind!(known: Known, report: Report, view: StreamView);

/// The inputs of a pass (the runtime's shape, with Kinesis).
pub type Pass<'a> = crate::controller::runtime::Pass<'a, super::KinesisStreams, KinesisApi>;

/// The tags the resource of `obj` carries: the spec's plus the ownership tags.
pub fn desired_tags(obj: &KinesisStream) -> BTreeMap<String, String> {
    ownership::desired_tags(obj, &obj.spec.tags)
}

impl Pass<'_> {
    /// Sends CreateStream and remembers that this process created the stream.
    async fn create(&mut self, name: &str) -> Result<Outcome<Report>, AwsCallError> {
        let spec = &self.obj.spec;
        let on_demand = spec.mode == StreamMode::OnDemand;
        let tags = desired_tags(self.obj);
        self.aws
            .create(
                name,
                &NewStream {
                    shards: if on_demand { None } else { spec.shard_count },
                    on_demand,
                    max_record_kib: spec.max_record_size_in_ki_b,
                    warm_throughput_mibps: spec.warm_throughput_mi_bps.filter(|_| on_demand),
                    tags: &tags,
                },
            )
            .await?;
        self.known.restart(Known {
            identity: Identity::created(self.obj.meta().generation),
            tags: Some(tags),
            policy: Some(None),
        });
        self.notes
            .push(Note::new("Created", format!("CreateStream {name}")));
        Ok(Outcome::progressing(
            Report {
                consumers: Some(Vec::new()),
                ..Observed::Absent.into()
            },
            "Creating",
            format!("CreateStream {name} sent"),
        ))
    }

    /// Takes the next step toward the spec.
    pub async fn converge(mut self) -> Result<Outcome<Report>, AwsCallError> {
        let obj = self.obj;
        let name = stream_name(obj);
        let (view, _) = find_or_create!(self, &name, self.create(&name));
        let deep = match self
            .look(&name, &view, &name, obj.spec.adopt, "streamName")
            .await?
        {
            Looked::Own { deep } => deep,
            Looked::Refused(stalled) => return Ok(stalled),
        };
        if deep {
            self.known.policy = None;
        }

        if let Some(outcome) = self.transition(&view) {
            return Ok(outcome);
        }
        if let Some(outcome) = self.capacity(&name, &view).await? {
            return Ok(outcome);
        }
        if let Some(outcome) = self.settings(&name, &view).await? {
            return Ok(outcome);
        }
        self.tags(&name).await?;
        if let Some(outcome) = self.resource_policy(&view).await? {
            return Ok(outcome);
        }
        let consumers = self.consumers(&view, deep).await?;
        if deep {
            self.known.identity.deep_done(obj.meta().generation);
        }
        if let Some(pending) = consumers
            .as_ref()
            .and_then(|c| c.iter().find(|c| c.status.as_deref() != Some("ACTIVE")))
        {
            let message = format!(
                "consumer {} is {}",
                pending.name,
                pending.status.as_deref().unwrap_or("being registered")
            );
            return Ok(Outcome::progressing(
                Report {
                    consumers,
                    ..Observed::Seen(view).into()
                },
                "Updating",
                message,
            ));
        }
        Ok(Outcome::ready(
            Report {
                consumers,
                ..Observed::Seen(view).into()
            },
            "Active",
            format!("stream {name} is ACTIVE and matches the spec"),
        ))
    }

    /// The outcome while the stream is in a transition (CREATING, UPDATING, DELETING).
    fn transition(&self, view: &StreamView) -> Option<Outcome<Report>> {
        let spec = &self.obj.spec;
        let (reason, message) = match view.status.as_str() {
            "ACTIVE" => return None,
            "UPDATING" => match (spec.mode, spec.shard_count) {
                (StreamMode::Provisioned, Some(target)) if view.open_shards != target => {
                    let steps = plan::route(view.open_shards, target);
                    return Some(Outcome::progressing(
                        Report {
                            scaling: Some(ScalingStatus {
                                from: view.open_shards,
                                to: target,
                                steps: steps.clone(),
                                next_step_after: None,
                            }),
                            ..Observed::Seen(view.clone()).into()
                        },
                        "Scaling",
                        format!(
                            "stream is UPDATING: re-sharding to {target} shards, {} open now (route {})",
                            view.open_shards,
                            plan::route_words(view.open_shards, &steps)
                        ),
                    ));
                }
                _ => ("Updating", "stream is UPDATING".to_owned()),
            },
            "CREATING" => ("Creating", "stream is CREATING".to_owned()),
            "DELETING" => (
                "Deleting",
                "stream is DELETING outside the operator; it is re-created once gone".to_owned(),
            ),
            other => ("Updating", format!("stream is {other}")),
        };
        Some(Outcome::progressing(
            Observed::Seen(view.clone()).into(),
            reason,
            message,
        ))
    }

    /// Capacity: mode switch, then the next re-shard step within AWS's daily budget.
    async fn capacity(
        &mut self,
        name: &str,
        view: &StreamView,
    ) -> Result<Option<Outcome<Report>>, AwsCallError> {
        let spec = &self.obj.spec;
        let on_demand = spec.mode == StreamMode::OnDemand;
        if view.on_demand != on_demand {
            self.aws.set_mode(&view.arn, on_demand).await?;
            let mode = if on_demand {
                "ON_DEMAND"
            } else {
                "PROVISIONED"
            };
            self.notes.push(Note::new(
                "ModeChanged",
                format!("UpdateStreamMode to {mode}"),
            ));
            return Ok(Some(Outcome::progressing(
                Observed::Seen(view.clone()).into(),
                "Updating",
                format!("switching to {mode} mode"),
            )));
        }
        let (false, Some(target)) = (on_demand, spec.shard_count) else {
            return Ok(None);
        };
        if view.open_shards == target {
            return Ok(None);
        }
        let steps = plan::route(view.open_shards, target);
        let next = steps[0];
        let mut updates = plan::in_window(&previous_updates(self.obj), self.now);
        let mut scaling = ScalingStatus {
            from: view.open_shards,
            to: target,
            steps: steps.clone(),
            next_step_after: None,
        };
        if let Some(after) = plan::next_update_after(&updates, self.now) {
            scaling.next_step_after =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(after));
            let wait = self.now.duration_until(after).unsigned_abs();
            return Ok(Some(Outcome {
                requeue: Requeue::After(wait.max(POLL)),
                ..Outcome::stalled(
                    Report {
                        scaling: Some(scaling),
                        shard_updates: Some(updates),
                        ..Observed::Seen(view.clone()).into()
                    },
                    "ScalingLimit",
                    format!(
                        "AWS allows {} UpdateShardCount calls per stream per rolling 24 hours and this stream has used them; the route {} continues at {after}",
                        plan::DAILY_UPDATES,
                        plan::route_words(view.open_shards, &steps)
                    ),
                )
            }));
        }
        match self.aws.update_shard_count(name, next).await {
            Ok(()) => {
                updates.push(self.now);
                self.notes.push(Note::new(
                    "Scaling",
                    format!("UpdateShardCount {} -> {next}", view.open_shards),
                ));
                Ok(Some(Outcome::progressing(
                    Report {
                        scaling: Some(scaling),
                        shard_updates: Some(updates),
                        ..Observed::Seen(view.clone()).into()
                    },
                    "Scaling",
                    if steps.len() > 1 {
                        format!(
                            "UpdateShardCount {} -> {next}, on the route {}",
                            view.open_shards,
                            plan::route_words(view.open_shards, &steps)
                        )
                    } else {
                        format!("UpdateShardCount {} -> {next}", view.open_shards)
                    },
                )))
            }
            // AWS counts calls this process did not see (another tool, or a lost status
            // write): its word wins; look again in an hour.
            Err(e) if e.class == ErrorClass::Terminal && e.code == "LimitExceededException" => {
                Ok(Some(Outcome {
                    requeue: Requeue::After(Duration::from_secs(3600)),
                    ..Outcome::stalled(
                        Report {
                            scaling: Some(scaling),
                            shard_updates: Some(updates),
                            ..Observed::Seen(view.clone()).into()
                        },
                        "ScalingLimit",
                        format!("{}: {}", e.code, e.message),
                    )
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// Retention, then one settings change (encryption, metrics, record size, warm
    /// throughput).
    async fn settings(
        &mut self,
        name: &str,
        view: &StreamView,
    ) -> Result<Option<Outcome<Report>>, AwsCallError> {
        let spec = &self.obj.spec;
        if view.retention_hours != spec.retention_period_hours {
            self.aws
                .set_retention(name, view.retention_hours, spec.retention_period_hours)
                .await?;
            self.notes.push(Note::new(
                "RetentionChanged",
                format!(
                    "retention {} h -> {} h",
                    view.retention_hours, spec.retention_period_hours
                ),
            ));
            return Ok(Some(Outcome::progressing(
                Observed::Seen(view.clone()).into(),
                "Updating",
                format!(
                    "changing the retention period {} h -> {} h",
                    view.retention_hours, spec.retention_period_hours
                ),
            )));
        }
        let Some(step) = diff::settings_step(self.obj, view) else {
            return Ok(None);
        };
        let words = step.to_string();
        self.notes.push(Note::new("SettingsChanged", words.clone()));
        match step {
            SettingsStep::Encrypt(key) => self.aws.set_encryption(name, &key, true).await?,
            SettingsStep::Decrypt(key) => self.aws.set_encryption(name, &key, false).await?,
            SettingsStep::Metrics { enable, disable } => {
                if !enable.is_empty() {
                    self.aws.set_metrics(name, &enable, true).await?;
                }
                if !disable.is_empty() {
                    self.aws.set_metrics(name, &disable, false).await?;
                }
            }
            SettingsStep::MaxRecordSize(kib) => {
                self.aws.set_max_record_size(&view.arn, kib).await?;
            }
            SettingsStep::WarmThroughput(mibps) => {
                self.aws.set_warm_throughput(&view.arn, mibps).await?;
            }
        }
        Ok(Some(Outcome::progressing(
            Observed::Seen(view.clone()).into(),
            "Updating",
            format!("{words} sent"),
        )))
    }

    /// Makes the stream's tags the spec's (plus the ownership tags).
    async fn tags(&mut self, name: &str) -> Result<(), AwsCallError> {
        self.sync_tags(name, desired_tags(self.obj)).await
    }

    /// Makes the stream's resource policy the spec's (compared semantically).
    async fn resource_policy(
        &mut self,
        view: &StreamView,
    ) -> Result<Option<Outcome<Report>>, AwsCallError> {
        let wanted = self.obj.spec.resource_policy.as_deref();
        if let Some(doc) = wanted
            && let Err(message) = policy_doc::validate("spec.resourcePolicy", doc)
        {
            return Ok(Some(Outcome::stalled(
                Observed::Seen(view.clone()).into(),
                "InvalidSpec",
                message,
            )));
        }
        let current = match &self.known.policy {
            Some(p) => p.clone(),
            None => self.aws.resource_policy(&view.arn).await?,
        };
        match (wanted, &current) {
            (Some(doc), Some(have)) if policy_doc::equivalent(doc, have) => {}
            (Some(doc), _) => {
                self.aws.put_resource_policy(&view.arn, doc).await?;
                self.notes.push(Note::new(
                    "PolicyChanged",
                    "PutResourcePolicy from spec.resourcePolicy".into(),
                ));
            }
            (None, Some(_)) => {
                self.aws.delete_resource_policy(&view.arn).await?;
                self.notes.push(Note::new(
                    "PolicyChanged",
                    "DeleteResourcePolicy: spec.resourcePolicy is absent".into(),
                ));
            }
            (None, None) => {}
        }
        self.known.policy = Some(wanted.map(str::to_owned));
        Ok(None)
    }

    /// Registers the spec's consumers and deregisters the ones the operator registered that
    /// left the spec. Returns the consumers to report, `None` when nothing was looked at.
    async fn consumers(
        &mut self,
        view: &StreamView,
        deep: bool,
    ) -> Result<Option<Vec<ConsumerStatus>>, AwsCallError> {
        let spec = &self.obj.spec.consumers;
        let previous: Vec<ConsumerStatus> = self
            .obj
            .status
            .as_ref()
            .map(|s| s.consumers.clone())
            .unwrap_or_default();
        let managed: Vec<String> = previous.iter().map(|c| c.name.clone()).collect();
        let settled = previous.len() == spec.len()
            && previous
                .iter()
                .all(|c| spec.contains(&c.name) && c.status.as_deref() == Some("ACTIVE"));
        if (spec.is_empty() && managed.is_empty()) || (settled && !deep) {
            return Ok(None);
        }
        let mut aws = self.aws.consumers(&view.arn).await?;
        let changes = diff::consumer_changes(spec, &managed, &aws);
        for name in &changes.register {
            let registered = self.aws.register_consumer(&view.arn, name).await?;
            self.notes.push(Note::new(
                "ConsumerRegistered",
                format!("RegisterStreamConsumer {name}"),
            ));
            aws.push(registered);
        }
        for name in &changes.deregister {
            self.aws.deregister_consumer(&view.arn, name).await?;
            self.notes.push(Note::new(
                "ConsumerDeregistered",
                format!("DeregisterStreamConsumer {name}: removed from spec.consumers"),
            ));
            if let Some(c) = aws.iter_mut().find(|c| &c.name == name) {
                c.status = "DELETING".to_owned();
            }
        }
        let mut report: Vec<ConsumerStatus> = aws
            .into_iter()
            .filter(|c| spec.contains(&c.name) || managed.contains(&c.name))
            .map(|c: ConsumerView| ConsumerStatus {
                name: c.name,
                arn: (!c.arn.is_empty()).then_some(c.arn),
                status: Some(c.status),
            })
            .collect();
        // Spec names still waiting for a registration slot.
        for name in spec {
            if !report.iter().any(|c| &c.name == name) {
                report.push(ConsumerStatus {
                    name: name.clone(),
                    arn: None,
                    status: None,
                });
            }
        }
        report.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(report))
    }
}

/// The UpdateShardCount times recorded in the object's status.
fn previous_updates(obj: &KinesisStream) -> Vec<Timestamp> {
    obj.status
        .as_ref()
        .map(|s| s.shard_count_updates.iter().map(|t| t.0).collect())
        .unwrap_or_default()
}
