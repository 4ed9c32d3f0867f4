//! The two tag steps every kind whose AWS resource carries tags takes the same way, as
//! methods of the runtime's [`Pass`]: claiming an existing resource (its ownership tags say
//! whose it is; `spec.adopt` takes over someone else's by tagging it) and making its tags the
//! spec's plus the ownership tags, no others, with an event for each change.

use std::collections::BTreeMap;

use super::ownership::{self, Claim};
use super::{Note, Pass, Reconciler};
use crate::aws::OwnedResource;
use crate::aws::errors::AwsCallError;

/// What a kind remembers of its resource's tags.
pub trait KnownTags {
    /// The tags as last read or written; `None` when not known.
    fn tags_mut(&mut self) -> &mut Option<BTreeMap<String, String>>;
}

impl<R, A> Pass<'_, R, A>
where
    R: Reconciler,
    R::Known: KnownTags,
    A: OwnedResource,
{
    /// Reads the tags of the resource `name` and checks that it is the object's own. One that
    /// is someone else's is refused (the message, naming `spec.<name_field>` and
    /// `spec.adopt`) unless `adopt`, which tags it as the object's (an `Adopted` event naming
    /// `what`, e.g. the name and ARN). The tags read are remembered.
    pub async fn claim(
        &mut self,
        name: &str,
        what: &str,
        adopt: bool,
        name_field: &str,
    ) -> Result<Option<String>, AwsCallError> {
        let mut tags = self.aws.owner_tags(name).await?;
        let existing = format!("{} {name} already exists in AWS", R::NOUN);
        match ownership::claim(self.obj, &tags, adopt, &existing, name_field) {
            Claim::Own => {}
            Claim::Refuse(message) => return Ok(Some(message)),
            Claim::Adopt(ownership) => {
                self.aws.add_tags(name, &ownership).await?;
                self.notes.push(Note::new(
                    "Adopted",
                    format!(
                        "took over {} {what} (spec.adopt) and tagged it as this object's",
                        R::NOUN
                    ),
                ));
                tags.extend(ownership);
            }
        }
        *self.known.tags_mut() = Some(tags);
        Ok(None)
    }

    /// Makes the tags of the resource `name` exactly `wanted` (AWS's own `aws:` tags aside),
    /// compared with the tags last read or written (read when unknown): one call to add or
    /// change, one to remove, each an event naming the keys.
    pub async fn sync_tags(
        &mut self,
        name: &str,
        wanted: BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        let current = match self.known.tags_mut().clone() {
            Some(tags) => tags,
            None => self.aws.owner_tags(name).await?,
        };
        let changes = ownership::tag_changes(&wanted, &current);
        if !changes.add.is_empty() {
            self.aws.add_tags(name, &changes.add).await?;
            let operation = A::TAG_OPERATION;
            let keys: Vec<&str> = changes.add.keys().map(String::as_str).collect();
            self.notes.push(Note::with_action(
                "TagsChanged",
                operation,
                format!("{operation} {name}: {}", keys.join(", ")),
            ));
        }
        if !changes.remove.is_empty() {
            self.aws.remove_tags(name, &changes.remove).await?;
            let operation = A::UNTAG_OPERATION;
            self.notes.push(Note::with_action(
                "TagsChanged",
                operation,
                format!("{operation} {name}: {}", changes.remove.join(", ")),
            ));
        }
        *self.known.tags_mut() = Some(wanted);
        Ok(())
    }
}
