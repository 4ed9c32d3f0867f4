//! Ownership tags (DESIGN §3.1): every AWS resource the operator creates carries
//! `kinesis.operator.dev/owner: <namespace>/<name>` and `kinesis.operator.dev/uid: <uid>`, by
//! which a later pass recognises it as the object's own after a crash between create and the
//! status write, and deletion never touches someone else's resource ([`delete_own`], the
//! deletion flow of every kind whose resource carries the tags).

use std::collections::BTreeMap;

use kube::{Resource, ResourceExt};

use super::{Deletion, Note, Reconciler, Removal};
use crate::api::shared::{OWNER_TAG, OWNER_UID_TAG, Tags};
use crate::aws::{AwsCallError, OwnedResource};

/// The two ownership tags of `obj`.
pub fn ownership_tags<K: Resource>(obj: &K) -> BTreeMap<String, String> {
    [
        (
            OWNER_TAG.to_owned(),
            format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()),
        ),
        (OWNER_UID_TAG.to_owned(), obj.uid().unwrap_or_default()),
    ]
    .into()
}

/// The tags the resource of `obj` carries: `spec`'s plus the ownership tags.
pub fn desired_tags<K: Resource>(obj: &K, spec: &Tags) -> BTreeMap<String, String> {
    let mut tags = spec.0.clone();
    tags.extend(ownership_tags(obj));
    tags
}

/// Tag changes: what to add or change, and which keys to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    /// Tags to add or change.
    pub add: BTreeMap<String, String>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// The changes that make `current` equal `desired`, never touching AWS's own `aws:` tags.
pub fn tag_changes(
    desired: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
) -> TagChanges {
    TagChanges {
        add: desired
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        remove: current
            .keys()
            .filter(|k| !desired.contains_key(*k) && !k.starts_with("aws:"))
            .cloned()
            .collect(),
    }
}

/// Whether `tags` carry the UID of `obj` (an object without a UID owns nothing).
fn carries_uid<K: Resource>(tags: &BTreeMap<String, String>, obj: &K) -> bool {
    obj.uid()
        .is_some_and(|uid| tags.get(OWNER_UID_TAG) == Some(&uid))
}

/// What the tags of an existing AWS resource mean for an object that wants it.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// It carries the object's UID: the object's own.
    Own,
    /// Someone else's (or nobody's) and the object sets `spec.adopt`: tag it with these
    /// ownership tags and take it over.
    Adopt(BTreeMap<String, String>),
    /// Someone else's and the object does not set `spec.adopt`: `Stalled` with reason
    /// `AlreadyExists` and this message; its ARN and settings are not reported as the object's.
    Refuse(String),
}

/// What `tags` of an existing resource mean for `obj` (`adopt`: its `spec.adopt`). `existing`
/// says what exists, e.g. `stream clicks already exists in AWS`; `name_field` is the spec field
/// that names the resource, for the message that says how to choose another.
pub fn claim<K: Resource>(
    obj: &K,
    tags: &BTreeMap<String, String>,
    adopt: bool,
    existing: &str,
    name_field: &str,
) -> Claim {
    if carries_uid(tags, obj) {
        return Claim::Own;
    }
    if adopt {
        return Claim::Adopt(ownership_tags(obj));
    }
    let owner = tags
        .get(OWNER_TAG)
        .map_or_else(|| "no owner tag".to_owned(), |o| format!("owned by {o}"));
    Claim::Refuse(format!(
        "{existing} and is not this object's ({owner}); set spec.adopt: true to take it over, or choose another spec.{name_field}"
    ))
}

/// Implements what a kind whose resource carries the ownership tags needs of its `Known`,
/// `Report` and view types: [`KnownTags`](super::tagging::KnownTags),
/// [`KnownIdentity`](super::identity::KnownIdentity) and [`Recognises`] for `known` (which
/// has the fields `identity: Identity` and `tags`), `From<Observed<view>>` for `report`
/// (which has the field `observed`, the rest default), and
/// [`Described`](super::identity::Described) for `view` (fields `arn`, `created_at`).
macro_rules! owned_kind {
    (known: $known:ty, report: $report:ty, view: $view:ty) => {
        impl $crate::controller::runtime::tagging::KnownTags for $known {
            fn tags_mut(&mut self) -> &mut Option<std::collections::BTreeMap<String, String>> {
                &mut self.tags
            }
        }

        impl $crate::controller::runtime::identity::KnownIdentity for $known {
            fn identity_mut(&mut self) -> &mut $crate::controller::runtime::identity::Identity {
                &mut self.identity
            }
        }

        impl $crate::controller::runtime::ownership::Recognises<$view> for $known {
            fn owns(&self, view: &$view) -> bool {
                self.identity.owns(&view.arn, view.created_at)
            }
        }

        impl $crate::controller::runtime::identity::Described for $view {
            fn arn(&self) -> &str {
                &self.arn
            }

            fn created_at(&self) -> i64 {
                self.created_at
            }
        }

        impl From<$crate::controller::runtime::Observed<$view>> for $report {
            fn from(observed: $crate::controller::runtime::Observed<$view>) -> Self {
                Self {
                    observed,
                    ..Default::default()
                }
            }
        }
    };
}
pub(crate) use owned_kind;

/// What a kind remembers of its resource that recognises it as the object's own.
pub trait Recognises<V> {
    /// Whether `view` shows the resource this process verified as the object's own.
    fn owns(&self, view: &V) -> bool;
}

/// The deletion step of a kind whose resource carries the ownership tags: deletes the
/// resource of `removal` through `aws` if it is the object's own, recognised by what this
/// process verified or else by its ownership tag. [`Deletion::Gone`] once it is gone or was
/// never the object's (someone else's resource of the same name is never deleted),
/// [`Deletion::InProgress`] while AWS deletes it. The delete call is noted for the event.
pub async fn delete_own<R, A>(removal: Removal<'_, R>, aws: &A) -> Result<Deletion, AwsCallError>
where
    R: Reconciler,
    R::Known: Recognises<A::View>,
    A: OwnedResource,
{
    let name = removal.name;
    let Some(view) = aws.state(name).await? else {
        return Ok(Deletion::Gone);
    };
    if A::is_deleting(&view) {
        return Ok(Deletion::InProgress);
    }
    let verified = removal.known.is_some_and(|k| k.owns(&view));
    let ours = verified || carries_uid(&aws.owner_tags(name).await?, removal.obj);
    if !ours {
        return Ok(Deletion::Gone);
    }
    aws.remove(name).await?;
    let operation = A::DELETE_OPERATION;
    removal.notes.push(Note::with_action(
        "Deleting",
        operation,
        format!("{operation} {name}"),
    ));
    // Gone at once (an emulator without delays) releases the object in this pass.
    Ok(match aws.state(name).await? {
        None => Deletion::Gone,
        Some(_) => Deletion::InProgress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::kinesis_stream::KinesisStream;

    fn object() -> KinesisStream {
        let mut obj = KinesisStream::new(
            "clicks",
            serde_json::from_value(serde_json::json!({"shardCount": 1})).unwrap(),
        );
        obj.metadata.namespace = Some("web".into());
        obj.metadata.uid = Some("u-1".into());
        obj
    }

    #[test]
    fn the_tags_of_an_existing_resource_decide_whether_the_object_may_take_it() {
        let obj = object();
        let ours = ownership_tags(&obj);
        let theirs: BTreeMap<String, String> = [
            (OWNER_TAG.to_owned(), "other/clicks".to_owned()),
            (OWNER_UID_TAG.to_owned(), "u-2".to_owned()),
        ]
        .into();
        let existing = "stream clicks already exists in AWS";
        let cases = [
            (&ours, false, Claim::Own),
            (&ours, true, Claim::Own),
            (&theirs, true, Claim::Adopt(ours.clone())),
            (
                &theirs,
                false,
                Claim::Refuse(
                    "stream clicks already exists in AWS and is not this object's (owned by other/clicks); set spec.adopt: true to take it over, or choose another spec.streamName".into(),
                ),
            ),
            (
                &BTreeMap::new(),
                false,
                Claim::Refuse(
                    "stream clicks already exists in AWS and is not this object's (no owner tag); set spec.adopt: true to take it over, or choose another spec.streamName".into(),
                ),
            ),
        ];
        for (tags, adopt, expected) in cases {
            assert_eq!(
                claim(&obj, tags, adopt, existing, "streamName"),
                expected,
                "{tags:?} adopt={adopt}"
            );
        }
        assert_eq!(ours[OWNER_TAG], "web/clicks");
        assert_eq!(ours[OWNER_UID_TAG], "u-1");
    }

    #[test]
    fn tags_converge_to_the_spec_but_aws_tags_stay() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let desired = map(&[("team", "data"), ("env", "prod")]);
        let current = map(&[
            ("team", "web"),
            ("old", "x"),
            ("aws:cloudformation:stack-name", "s"),
        ]);
        assert_eq!(
            tag_changes(&desired, &current),
            TagChanges {
                add: map(&[("env", "prod"), ("team", "data")]),
                remove: vec!["old".into()],
            }
        );
        assert_eq!(tag_changes(&desired, &desired), TagChanges::default());
    }
}
