//! Deleting the object's delivery stream: only its own (recognised by what this process
//! verified, else by its ownership tags), never someone else's of the same name.

use kube::ResourceExt;

use super::DeliveryStreams;
use crate::api::shared::OWNER_UID_TAG;
use crate::aws::errors::AwsCallError;
use crate::controller::runtime::{Deletion, Note, Removal};

/// Deletes the delivery stream of `removal` if it is the object's own: [`Deletion::Gone`]
/// once it is gone (or was never the object's), [`Deletion::InProgress`] while AWS deletes.
pub async fn delete(removal: Removal<'_, DeliveryStreams>) -> Result<Deletion, AwsCallError> {
    let Removal {
        obj,
        ctx,
        region,
        name,
        known,
        notes,
    } = removal;
    let uid = obj.uid().unwrap_or_default();
    let aws = ctx.aws.firehose(region);
    let Some(view) = aws.describe(name).await? else {
        return Ok(Deletion::Gone);
    };
    if view.status == "DELETING" {
        return Ok(Deletion::InProgress);
    }
    let verified = known.is_some_and(|k| k.owns(&view));
    let ours = verified || aws.tags(name).await?.get(OWNER_UID_TAG) == Some(&uid);
    if !ours {
        // Someone else's delivery stream of the same name: never delete it.
        return Ok(Deletion::Gone);
    }
    aws.delete(name).await?;
    notes.push(Note::with_action(
        "Deleting",
        "DeleteDeliveryStream",
        format!("DeleteDeliveryStream {name}"),
    ));
    Ok(match aws.describe(name).await? {
        None => Deletion::Gone,
        Some(_) => Deletion::InProgress,
    })
}
