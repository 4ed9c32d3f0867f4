//! One pass over a policy: resolve the document the spec asks for, observe IAM, then take the
//! steps toward the spec (ownership, document, tags, attachments).
//!
//! A pass makes as few IAM calls as it can. An object never seen in IAM is created without
//! looking first (CreatePolicy carries the document and every tag); one that exists is read
//! with GetPolicy, which also returns its tags and attachment count. Policy versions never
//! change once written, so the default version's document is read again only when the
//! default version (or the policy's id) differs from the one this process last saw; the
//! attached roles are listed again when the attachment count moved, when the spec changed,
//! and on every few resyncs (the "deep" check). A settled resync is one GetPolicy and no
//! write.

use std::time::{Duration, Instant};

use kube::Resource;

use super::desired::{self, Desired};
use super::diff::{self, listed, policy_name};
use super::versions;
use crate::aws::errors::{AwsCallError, ErrorClass};
use crate::aws::iam::{IamApi, PolicyView};
use crate::controller::kinesis_stream::diff::tag_changes;
use crate::controller::policy_doc;
use crate::controller::runtime::kube_words::kube_words;
use crate::controller::runtime::ownership::{self, Claim};
use crate::controller::runtime::{Note, Outcome, Requeue};

/// How long a policy with a role that does not exist waits at most before trying again: the
/// role may be created at any time, and nothing in Kubernetes says when. A shorter resync
/// interval retries sooner.
pub const ROLE_RETRY: Duration = Duration::from_secs(30);

/// How long to wait before reading a referenced KinesisStream again after the API server
/// failed to answer.
const READ_RETRY: Duration = Duration::from_secs(5);

/// What this process knows of an object's policy between passes.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// This process created or saw the object's policy: it exists unless deleted since.
    seen: bool,
    /// The default version's document, by (policy id, version id): versions are immutable.
    document: Option<(String, String, String)>,
    /// The roles the policy is attached to, and the attachment count GetPolicy reported
    /// with them (users and groups included).
    roles: Option<(Vec<String>, i32)>,
    /// When the attached roles were last listed, and for which generation of the object.
    deep: Option<(Instant, Option<i64>)>,
}

/// What a pass reports besides the conditions; `None` keeps the previous value.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The policy's ARN, once it is the object's own.
    pub arn: Option<String>,
    /// The version IAM uses.
    pub default_version_id: Option<String>,
    /// The roles it is attached to, sorted.
    pub attached_roles: Option<Vec<String>>,
    /// The document in force, as the operator sent it.
    pub rendered_document: Option<String>,
}

/// The inputs of a pass (the runtime's shape, with IAM).
pub type Pass<'a> = crate::controller::runtime::Pass<'a, super::StreamPolicies, IamApi>;

impl Pass<'_> {
    /// How long to wait before attaching to a role that did not exist: [`ROLE_RETRY`], or
    /// the resync interval when that is shorter.
    fn role_retry(&self) -> Duration {
        self.ctx.settings.resync.min(ROLE_RETRY)
    }

    /// Takes the next steps toward the spec.
    pub async fn converge(mut self) -> Result<Outcome<Report>, AwsCallError> {
        let obj = self.obj;
        let document = match desired::document(obj, &self.ctx.client, &self.ctx.resolutions).await {
            Ok(Desired::Document(d)) => d,
            Ok(Desired::Waiting(message)) => {
                // The KinesisStream watch wakes the object when the stream changes.
                return Ok(Outcome {
                    requeue: Requeue::Settled,
                    ..Outcome::progressing(Report::default(), "WaitingForDependency", message)
                });
            }
            Ok(Desired::Refused(message)) => {
                return Ok(Outcome::stalled(
                    Report::default(),
                    "ReferenceNotAllowed",
                    message,
                ));
            }
            Ok(Desired::Invalid(message)) => {
                return Ok(Outcome::stalled(Report::default(), "InvalidSpec", message));
            }
            // An operator limited to one namespace may not read streams of another.
            Err(kube::Error::Api(e)) if e.code == 403 => {
                return Ok(Outcome::stalled(
                    Report::default(),
                    "ReferenceNotAllowed",
                    format!(
                        "the operator may not read a KinesisStream spec.statements names: {}; name streams of namespaces the operator watches, or use streamARN",
                        e.message
                    ),
                ));
            }
            Err(e) => {
                return Ok(Outcome {
                    requeue: Requeue::After(READ_RETRY),
                    ..Outcome::progressing(
                        Report::default(),
                        "Retrying",
                        format!(
                            "reading the KinesisStreams spec.statements names failed: {}",
                            kube_words(&e)
                        ),
                    )
                });
            }
        };
        let name = policy_name(obj);
        let arn = self
            .ctx
            .aws
            .identity(self.region)
            .await?
            .policy_arn(&obj.spec.path, &name);

        let never_seen = obj
            .status
            .as_ref()
            .and_then(|s| s.common.arn.as_ref())
            .is_none()
            && !self.known.seen;
        let mut created = None;
        if never_seen {
            match self.create(&name, &document).await {
                Ok(view) => created = Some(view),
                // Ours from before a crash, or someone else's: look at it below.
                Err(e) if e.code == "EntityAlreadyExists" => {}
                Err(e) => return Err(e),
            }
        }
        let mut view = match created {
            Some(view) => view,
            None => match self.aws.policy(&arn).await? {
                Some(view) => view,
                // Deleted outside the operator (or never created): create it (again).
                None => match self.create(&name, &document).await {
                    Ok(view) => view,
                    Err(e) if e.code == "EntityAlreadyExists" => {
                        return Ok(Outcome::stalled(
                            Report::default(),
                            "AlreadyExists",
                            format!(
                                "a policy named {name} already exists in IAM under another path than {} ({}); IAM policy names are unique in an account: choose another spec.policyName",
                                obj.spec.path, e.message
                            ),
                        ));
                    }
                    Err(e) => return Err(e),
                },
            },
        };
        self.known.seen = true;

        let existing = format!("policy {name} already exists in IAM");
        match ownership::claim(obj, &view.tags, obj.spec.adopt, &existing, "policyName") {
            Claim::Own => {}
            Claim::Refuse(message) => {
                // Not ours: its ARN and document are not reported as this object's.
                return Ok(Outcome::stalled(
                    Report::default(),
                    "AlreadyExists",
                    message,
                ));
            }
            Claim::Adopt(ownership) => {
                self.aws.tag(&view.arn, &ownership).await?;
                self.notes.push(Note::new(
                    "Adopted",
                    format!("took over policy {name} (spec.adopt) and tagged it as this object's"),
                ));
                view.tags.extend(ownership);
                self.known.document = None;
                self.known.roles = None;
            }
        }

        let version = self.document(&view, &document).await?;
        self.tags(&view).await?;
        let (roles, missing) = self.roles(&view).await?;
        let report = Report {
            arn: Some(view.arn.clone()),
            default_version_id: Some(version.clone()),
            attached_roles: Some(roles.clone()),
            rendered_document: Some(document),
        };
        if !missing.is_empty() {
            let (noun, verb) = if missing.len() == 1 {
                ("role", "does")
            } else {
                ("roles", "do")
            };
            return Ok(Outcome {
                requeue: Requeue::After(self.role_retry()),
                ..Outcome::stalled(
                    report,
                    "RoleNotFound",
                    format!(
                        "IAM {noun} {} {verb} not exist, so policy {name} is not attached to it: create the {noun} or remove it from spec.attachToRoles (the operator tries again every {} s)",
                        listed(&missing),
                        self.role_retry().as_secs().max(1)
                    ),
                )
            });
        }
        let attached = if roles.is_empty() {
            "attached to no role".to_owned()
        } else {
            format!("attached to {}", listed(&roles))
        };
        Ok(Outcome::ready(
            report,
            "Active",
            format!("policy {name} {version} is in force and matches the spec, {attached}"),
        ))
    }

    /// Sends CreatePolicy with the document and every tag, and remembers what IAM now holds.
    async fn create(&mut self, name: &str, document: &str) -> Result<PolicyView, AwsCallError> {
        let spec = &self.obj.spec;
        let tags = diff::desired_tags(self.obj);
        let mut view = self
            .aws
            .create_policy(
                name,
                &spec.path,
                spec.description.as_deref(),
                document,
                &tags,
            )
            .await?;
        // The tags just sent, should the answer leave them out.
        if view.tags.is_empty() {
            view.tags = tags;
        }
        self.known.restart(Known {
            seen: true,
            document: Some((
                view.id.clone(),
                view.default_version_id.clone(),
                document.to_owned(),
            )),
            roles: Some((Vec::new(), 0)),
            deep: Some((Instant::now(), self.obj.meta().generation)),
        });
        self.notes
            .push(Note::new("Created", format!("CreatePolicy {name}")));
        Ok(view)
    }

    /// Makes `document` the policy's default version unless it already says the same
    /// (compared semantically); returns the default version id.
    async fn document(
        &mut self,
        view: &PolicyView,
        document: &str,
    ) -> Result<String, AwsCallError> {
        let current = match &self.known.document {
            Some((id, version, doc)) if *id == view.id && *version == view.default_version_id => {
                Some(doc.clone())
            }
            _ => {
                self.aws
                    .document(&view.arn, &view.default_version_id)
                    .await?
            }
        };
        if let Some(current) = current
            && policy_doc::equivalent(document, &current)
        {
            self.known.document = Some((view.id.clone(), view.default_version_id.clone(), current));
            return Ok(view.default_version_id.clone());
        }
        // IAM keeps 5 versions: make room first, never touching the version in force.
        let existing = self.aws.versions(&view.arn).await?;
        let pruned = versions::to_prune(&existing).map(str::to_owned);
        if let Some(old) = &pruned {
            self.aws.delete_version(&view.arn, old).await?;
        }
        let version = self.aws.create_version(&view.arn, document).await?;
        let pruned = pruned.map_or_else(String::new, |old| {
            format!(", after DeletePolicyVersion {old} (IAM keeps at most 5 versions)")
        });
        self.notes.push(Note::with_action(
            "Updated",
            "CreatePolicyVersion",
            format!(
                "CreatePolicyVersion {version} as the default (was {}){pruned}",
                view.default_version_id
            ),
        ));
        self.known.document = Some((view.id.clone(), version.clone(), document.to_owned()));
        Ok(version)
    }

    /// Makes the policy's tags the spec's plus the ownership tags.
    async fn tags(&mut self, view: &PolicyView) -> Result<(), AwsCallError> {
        let changes = tag_changes(&diff::desired_tags(self.obj), &view.tags);
        if !changes.add.is_empty() {
            self.aws.tag(&view.arn, &changes.add).await?;
            self.notes.push(Note::with_action(
                "TagsChanged",
                "TagPolicy",
                format!("TagPolicy {}", keys(changes.add.keys())),
            ));
        }
        if !changes.remove.is_empty() {
            self.aws.untag(&view.arn, &changes.remove).await?;
            self.notes.push(Note::with_action(
                "TagsChanged",
                "UntagPolicy",
                format!("UntagPolicy {}", keys(changes.remove.iter())),
            ));
        }
        Ok(())
    }

    /// Attaches the policy to the spec's roles and detaches it from every other. Returns the
    /// roles it is attached to and the spec's roles that do not exist.
    async fn roles(
        &mut self,
        view: &PolicyView,
    ) -> Result<(Vec<String>, Vec<String>), AwsCallError> {
        let generation = self.obj.meta().generation;
        let deep = self
            .known
            .deep
            .is_none_or(|(at, g)| at.elapsed() >= self.deep_every || g != generation);
        let current = match &self.known.roles {
            Some((roles, count)) if !deep && *count == view.attachment_count => roles.clone(),
            _ => {
                let roles = self.aws.attached_roles(&view.arn).await?;
                self.known.deep = Some((Instant::now(), generation));
                roles
            }
        };
        let changes = diff::role_changes(&self.obj.spec.attach_to_roles, &current);
        let mut attached: Vec<String> = current;
        let mut count = view.attachment_count;
        let mut missing = Vec::new();
        let mut newly = Vec::new();
        let mut result = Ok(());
        for role in changes.attach {
            match self.aws.attach(&role, &view.arn).await {
                Ok(()) => newly.push(role),
                Err(e) if e.class == ErrorClass::NotFound => missing.push(role),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let mut gone = Vec::new();
        if result.is_ok() {
            for role in changes.detach {
                match self.aws.detach(&role, &view.arn).await {
                    Ok(()) => gone.push(role),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        if !newly.is_empty() {
            self.notes.push(Note::with_action(
                "Attached",
                "AttachRolePolicy",
                format!("AttachRolePolicy to {}", roles_named(&newly)),
            ));
        }
        if !gone.is_empty() {
            self.notes.push(Note::with_action(
                "Detached",
                "DetachRolePolicy",
                format!(
                    "DetachRolePolicy from {}: not in spec.attachToRoles",
                    roles_named(&gone)
                ),
            ));
        }
        if let Err(e) = result {
            // What was attached so far is listed again on the next pass.
            self.known.roles = None;
            return Err(e);
        }
        count += newly.len() as i32 - gone.len() as i32;
        attached.extend(newly);
        attached.retain(|r| !gone.contains(r));
        attached.sort();
        self.known.roles = Some((attached.clone(), count));
        Ok((attached, missing))
    }
}

/// `role a` or `roles a and b`.
fn roles_named(roles: &[String]) -> String {
    let noun = if roles.len() == 1 { "role" } else { "roles" };
    format!("{noun} {}", listed(roles))
}

/// Tag keys as a person reads them.
fn keys<'k>(keys: impl Iterator<Item = &'k String>) -> String {
    let keys: Vec<String> = keys.cloned().collect();
    listed(&keys)
}
