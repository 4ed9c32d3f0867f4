//! Deleting the object's stream: only its own (recognised by what this process verified, else
//! by its ownership tags), never someone else's stream of the same name.

use kube::ResourceExt;

use super::KinesisStreams;
use crate::api::shared::OWNER_UID_TAG;
use crate::aws::errors::AwsCallError;
use crate::controller::runtime::{Deletion, Note, Removal};

/// Deletes the stream of `removal` if it is the object's own: [`Deletion::Gone`] once it is
/// gone (or was never the object's), [`Deletion::InProgress`] while AWS is deleting it.
pub async fn delete(removal: Removal<'_, KinesisStreams>) -> Result<Deletion, AwsCallError> {
    let Removal {
        obj,
        ctx,
        region,
        name,
        known,
        notes,
    } = removal;
    let uid = obj.uid().unwrap_or_default();
    let aws = ctx.aws.kinesis(region);
    let Some(view) = aws.describe(name).await? else {
        return Ok(Deletion::Gone);
    };
    if view.status == "DELETING" {
        return Ok(Deletion::InProgress);
    }
    let verified = known.is_some_and(|k| k.owns(&view));
    let ours = verified || aws.tags(name).await?.get(OWNER_UID_TAG) == Some(&uid);
    if !ours {
        // Someone else's stream of the same name: never delete it.
        return Ok(Deletion::Gone);
    }
    aws.delete(name).await?;
    notes.push(Note::with_action(
        "Deleting",
        "DeleteStream",
        format!("DeleteStream {name}"),
    ));
    // Gone at once (an emulator without delays) releases the object in this pass.
    Ok(match aws.describe(name).await? {
        None => Deletion::Gone,
        Some(_) => Deletion::InProgress,
    })
}
