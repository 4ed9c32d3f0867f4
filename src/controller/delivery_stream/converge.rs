//! One pass over a delivery stream: read the inputs (source stream, access key), observe AWS,
//! then take the next step toward the spec.
//!
//! As for streams, a pass makes as few AWS calls as it can: a delivery stream never seen is
//! created without describing first; one this process created or verified is recognised by
//! its ARN and creation time, so its tags are read only when the spec changed and on every
//! sixth resync. A settled resync is one DescribeDeliveryStream and no write: the destination
//! and encryption are compared with what Describe shows, in the spec's own terms
//! ([`DestinationSettings`]).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::Resource;

use super::delivery_stream_name;
use super::inputs::{self, AccessKey, Inputs};
use crate::api::delivery_stream::DeliveryStream;
use crate::aws::errors::AwsCallError;
use crate::aws::firehose::{
    DeliveryView, DestinationSettings, FirehoseApi, NewDelivery, SourceView,
};
use crate::controller::conditions::Health;
use crate::controller::runtime::identity::Identity;
use crate::controller::runtime::kube_words::read_error;
use crate::controller::runtime::observe::{Looked, find_or_create};
use crate::controller::runtime::ownership::{self};
use crate::controller::runtime::{Fresh, Note, Observed, Outcome, Requeue};

/// How soon a delivery stream waiting for a Secret looks again (Secrets are not watched).
const SECRET_RETRY: Duration = Duration::from_secs(15);

/// How often a delivery stream whose inputs are refused (a reference not allowed, a Secret
/// without its key) looks again: the fix is made on another object.
const INPUTS_RETRY: Duration = Duration::from_secs(20);

/// How often a delivery stream whose encryption failed in AWS tries again.
const ENCRYPTION_RETRY: Duration = Duration::from_secs(300);

/// What this process knows of an object's delivery stream between passes.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// Which delivery stream is the object's own; when its tags were last read.
    identity: Identity,
    /// Its tags as last read or written.
    tags: Option<BTreeMap<String, String>>,
    /// The access key Secret version this process last sent (status may not show it yet).
    key_version: Option<String>,
    /// The delivery stream as the last pass found it Ready, with that pass's inputs.
    fresh: Option<Fresh<DeliveryView>>,
}

/// What a pass reports besides the conditions.
#[derive(Debug, Default)]
pub struct Report {
    /// What it saw.
    pub observed: Observed<DeliveryView>,
    /// The access key Secret version now in AWS; `None` keeps the previous one.
    pub access_key_version: Option<String>,
}

ownership::owned_kind!(known: Known, report: Report, view: DeliveryView);

/// The inputs of a pass (the runtime's shape, with Firehose).
pub type Pass<'a> = crate::controller::runtime::Pass<'a, super::DeliveryStreams, FirehoseApi>;

/// The tags the resource of `obj` carries: the spec's plus the ownership tags.
pub fn desired_tags(obj: &DeliveryStream) -> BTreeMap<String, String> {
    ownership::desired_tags(obj, &obj.spec.tags)
}

/// The spec's source in words, for messages.
fn source_words(source: &SourceView) -> String {
    match source {
        SourceView::DirectPut => "DirectPut".to_owned(),
        SourceView::KinesisStream { stream_arn, .. } => format!("Kinesis stream {stream_arn}"),
        SourceView::Other(kind) => kind.clone(),
    }
}

impl Pass<'_> {
    /// The Secret version last sent: by this process, else as status records it.
    fn sent_key_version(&self) -> Option<&str> {
        self.known.key_version.as_deref().or_else(|| {
            self.obj
                .status
                .as_ref()
                .and_then(|s| s.access_key_secret_version.as_deref())
        })
    }

    /// Sends CreateDeliveryStream and remembers that this process created it.
    async fn create(
        &mut self,
        name: &str,
        source: Option<&(String, String)>,
        access_key: Option<&AccessKey>,
    ) -> Result<Outcome<Report>, AwsCallError> {
        let spec = &self.obj.spec;
        let tags = desired_tags(self.obj);
        let destination = DestinationSettings::from_spec(
            spec.destination.s3.as_ref(),
            spec.destination.http_endpoint.as_ref(),
        );
        self.aws
            .create(
                name,
                &NewDelivery {
                    source: source.map(|(s, r)| (s.as_str(), r.as_str())),
                    destination: &destination,
                    access_key: access_key.map(|k| k.key.as_str()),
                    encryption: spec.encryption.as_ref(),
                    tags: &tags,
                },
            )
            .await?;
        self.known.restart(Known {
            identity: Identity::created(self.obj.meta().generation),
            tags: Some(tags),
            key_version: access_key.map(|k| k.version.clone()),
            fresh: None,
        });
        self.notes
            .push(Note::new("Created", format!("CreateDeliveryStream {name}")));
        Ok(Outcome::progressing(
            Report {
                observed: Observed::Absent,
                access_key_version: access_key.map(|k| k.version.clone()),
            },
            "Creating",
            format!("CreateDeliveryStream {name} sent"),
        ))
    }

    /// Takes the next step toward the spec.
    pub async fn converge(mut self) -> Result<Outcome<Report>, AwsCallError> {
        let obj = self.obj;
        let name = delivery_stream_name(obj);
        let (source, access_key) = match inputs::read(&self.ctx.client, &self.ctx.resolutions, obj)
            .await
            .map_err(read_error)?
        {
            Inputs::Ready { source, access_key } => (source, access_key),
            Inputs::Waiting(message) => {
                // The watch on KinesisStreams wakes it; a Secret is looked at again soon.
                let requeue = if message.contains("Secret") {
                    Requeue::After(SECRET_RETRY)
                } else {
                    Requeue::Settled
                };
                return Ok(Outcome {
                    requeue,
                    ..Outcome::progressing(
                        Observed::Unknown.into(),
                        "WaitingForDependency",
                        message,
                    )
                });
            }
            Inputs::Stalled { reason, message } => {
                // A human fixes this outside the object (an annotation on the stream, a key
                // in the Secret), so it is looked at again now and then, not only on change.
                return Ok(Outcome {
                    requeue: Requeue::After(INPUTS_RETRY),
                    ..Outcome::stalled(Observed::Unknown.into(), reason, message)
                });
            }
        };

        let generation = obj.meta().generation;
        let inputs = format!("{source:?} {:?}", access_key.as_ref().map(|k| &k.version));
        if let Some(view) = Fresh::reuse(self.known.fresh.as_ref(), generation, &inputs) {
            return Ok(ready(&name, view, access_key.as_ref()));
        }
        let (view, created) = find_or_create!(
            self,
            &name,
            self.create(&name, source.as_ref(), access_key.as_ref())
        );
        let what = format!("{name} ({})", view.arn);
        let deep = match self
            .look(&name, &view, &what, obj.spec.adopt, "deliveryStreamName")
            .await?
        {
            Looked::Own { deep } => deep,
            Looked::Refused(stalled) => return Ok(stalled),
        };

        // The key sent with CreateDeliveryStream in this pass is in AWS whatever this pass
        // reports next (a CREATING stream, say): status must say so, or the next pass would
        // send it again.
        let sent_at_create = created
            .then_some(access_key.as_ref())
            .flatten()
            .map(|k| k.version.clone());
        let mut outcome = self
            .settle(&name, view, source.as_ref(), access_key.as_ref())
            .await?;
        if outcome.report.access_key_version.is_none() {
            outcome.report.access_key_version = sent_at_create;
        }
        let is_ready = matches!(outcome.health, Health::Ready { .. });
        if deep && is_ready {
            self.known.identity.deep_done(generation);
        }
        self.known.fresh = outcome
            .report
            .observed
            .view()
            .filter(|_| is_ready)
            .map(|view| Fresh::new(generation, inputs, view.clone()));
        Ok(outcome)
    }

    /// The steps after Describe: transition, source, destination, encryption, tags.
    async fn settle(
        &mut self,
        name: &str,
        view: DeliveryView,
        source: Option<&(String, String)>,
        access_key: Option<&AccessKey>,
    ) -> Result<Outcome<Report>, AwsCallError> {
        if let Some(outcome) = transition(&view) {
            return Ok(outcome);
        }
        if let Some(outcome) = self.check_source(name, &view, source) {
            return Ok(outcome);
        }
        if let Some(outcome) = self.destination(name, &view, access_key).await? {
            return Ok(outcome);
        }
        if let Some(outcome) = self.encryption(name, &view).await? {
            return Ok(outcome);
        }
        self.tags(name).await?;
        Ok(ready(name, view, access_key))
    }

    /// A source other than the spec's cannot be changed in place.
    fn check_source(
        &self,
        name: &str,
        view: &DeliveryView,
        source: Option<&(String, String)>,
    ) -> Option<Outcome<Report>> {
        let wanted = match source {
            None => SourceView::DirectPut,
            Some((stream_arn, role_arn)) => SourceView::KinesisStream {
                stream_arn: stream_arn.clone(),
                role_arn: role_arn.clone(),
            },
        };
        let same_kind = match (&wanted, &view.source) {
            (SourceView::DirectPut, SourceView::DirectPut) => true,
            (
                SourceView::KinesisStream { stream_arn: a, .. },
                SourceView::KinesisStream { stream_arn: b, .. },
            ) => a == b,
            _ => false,
        };
        (!same_kind).then(|| {
            Outcome::stalled(
                Observed::Seen(view.clone()).into(),
                "SourceMismatch",
                format!(
                    "delivery stream {name} reads from {} but spec.source asks for {}; AWS cannot change a delivery stream's source: delete the delivery stream in AWS (it is re-created) or change spec.source back",
                    source_words(&view.source),
                    source_words(&wanted)
                ),
            )
        })
    }

    /// Moves the destination to the spec's with UpdateDestination (the current version id
    /// and destination id from Describe) when they differ, or when the access key Secret
    /// changed since it was last sent.
    async fn destination(
        &mut self,
        name: &str,
        view: &DeliveryView,
        access_key: Option<&AccessKey>,
    ) -> Result<Option<Outcome<Report>>, AwsCallError> {
        let spec = &self.obj.spec;
        let wanted = DestinationSettings::from_spec(
            spec.destination.s3.as_ref(),
            spec.destination.http_endpoint.as_ref(),
        );
        let key_changed =
            access_key.is_some_and(|k| self.sent_key_version() != Some(k.version.as_str()));
        if view.destination == wanted && !key_changed {
            return Ok(None);
        }
        if let DestinationSettings::Other(kind) = &view.destination {
            return Ok(Some(Outcome::stalled(
                Observed::Seen(view.clone()).into(),
                "UnsupportedDestination",
                super::words::unsupported_destination(name, kind),
            )));
        }
        self.aws
            .update_destination(
                name,
                &view.version_id,
                &view.destination_id,
                &wanted,
                access_key.map(|k| k.key.as_str()),
            )
            .await?;
        if let Some(k) = access_key {
            self.known.key_version = Some(k.version.clone());
        }
        let message = |what: &str| {
            format!(
                "UpdateDestination {name}: {what} (version {} of destination {})",
                view.version_id, view.destination_id
            )
        };
        self.notes.push(if view.destination == wanted {
            Note::following_input(
                "DestinationUpdated",
                "UpdateDestination",
                message("the access key changed in its Secret"),
            )
        } else {
            Note::with_action(
                "DestinationUpdated",
                "UpdateDestination",
                message("the destination differs from spec.destination"),
            )
        });
        Ok(Some(Outcome::progressing(
            Report {
                access_key_version: access_key.map(|k| k.version.clone()),
                ..Observed::Seen(view.clone()).into()
            },
            "Updating",
            format!("UpdateDestination {name} sent"),
        )))
    }

    /// Server-side encryption as the spec says (DirectPut only: the schema refuses it
    /// otherwise).
    async fn encryption(
        &mut self,
        name: &str,
        view: &DeliveryView,
    ) -> Result<Option<Outcome<Report>>, AwsCallError> {
        let wanted = self.obj.spec.encryption.as_ref();
        let seen = || -> Report { Observed::Seen(view.clone()).into() };
        match view.encryption.status.as_str() {
            "ENABLING" | "DISABLING" => {
                return Ok(Some(Outcome::progressing(
                    seen(),
                    "Updating",
                    format!("server-side encryption is {}", view.encryption.status),
                )));
            }
            status @ ("ENABLING_FAILED" | "DISABLING_FAILED") => {
                // Usually the KMS key or its policy: tried again now and then, not hot-looped.
                return Ok(Some(Outcome {
                    requeue: Requeue::After(ENCRYPTION_RETRY),
                    ..Outcome::stalled(
                        seen(),
                        "EncryptionFailed",
                        super::words::encryption_failed(name, status, ENCRYPTION_RETRY),
                    )
                }));
            }
            _ => {}
        }
        if view.encryption.matches(wanted) {
            return Ok(None);
        }
        self.aws.set_encryption(name, wanted).await?;
        let message = match wanted {
            Some(e) => match &e.key_arn {
                Some(key) => format!("StartDeliveryStreamEncryption {name} with KMS key {key}"),
                None => format!("StartDeliveryStreamEncryption {name} with an AWS owned key"),
            },
            None => format!("StopDeliveryStreamEncryption {name}"),
        };
        self.notes.push(Note::with_action(
            "EncryptionChanged",
            if wanted.is_some() {
                "StartDeliveryStreamEncryption"
            } else {
                "StopDeliveryStreamEncryption"
            },
            message.clone(),
        ));
        Ok(Some(Outcome::progressing(
            seen(),
            "Updating",
            format!("{message} sent"),
        )))
    }

    /// Tags: the spec's plus the ownership tags, no others.
    async fn tags(&mut self, name: &str) -> Result<(), AwsCallError> {
        self.sync_tags(name, desired_tags(self.obj)).await
    }
}

/// The outcome of a delivery stream found ACTIVE and matching the spec.
fn ready(name: &str, view: DeliveryView, access_key: Option<&AccessKey>) -> Outcome<Report> {
    Outcome::ready(
        Report {
            access_key_version: access_key.map(|k| k.version.clone()),
            ..Observed::Seen(view).into()
        },
        "Active",
        format!("delivery stream {name} is ACTIVE and matches the spec"),
    )
}

/// The outcome while the delivery stream is not ACTIVE.
pub(super) fn transition(view: &DeliveryView) -> Option<Outcome<Report>> {
    let seen = || -> Report { Observed::Seen(view.clone()).into() };
    let failure = view
        .failure
        .as_deref()
        .map_or_else(String::new, |f| format!(": {f}"));
    Some(match view.status.as_str() {
        "ACTIVE" => return None,
        "CREATING" => {
            Outcome::progressing(seen(), "Creating", "delivery stream is CREATING".into())
        }
        "DELETING" => Outcome::progressing(
            seen(),
            "Deleting",
            "delivery stream is DELETING outside the operator; it is re-created once gone".into(),
        ),
        "CREATING_FAILED" => Outcome::stalled(
            seen(),
            "CreateFailed",
            format!(
                "AWS could not create the delivery stream{failure}; fix the cause (often the role's permissions), then delete it in AWS to have it re-created"
            ),
        ),
        "DELETING_FAILED" => Outcome::stalled(
            seen(),
            "DeleteFailed",
            format!("AWS could not delete the delivery stream{failure}"),
        ),
        other => Outcome::progressing(seen(), "Updating", format!("delivery stream is {other}")),
    })
}
