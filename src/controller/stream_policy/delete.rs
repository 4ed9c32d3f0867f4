//! Deleting the object's policy: only its own (recognised by its ownership tags), never
//! someone else's policy of the same name. IAM refuses to delete a policy that is attached or
//! has other versions, so the policy is first detached from every role and its non-default
//! versions deleted.

use kube::ResourceExt;

use super::StreamPolicies;
use super::diff::listed;
use super::versions;
use crate::api::shared::OWNER_UID_TAG;
use crate::aws::errors::AwsCallError;
use crate::controller::runtime::{Deletion, Note, Removal};

/// Deletes the policy of `removal` if it is the object's own: [`Deletion::Gone`] once it is
/// gone (or was never the object's).
pub async fn delete(removal: Removal<'_, StreamPolicies>) -> Result<Deletion, AwsCallError> {
    let Removal {
        obj,
        ctx,
        region,
        name,
        notes,
        ..
    } = removal;
    let aws = ctx.aws.iam(region);
    let arn = ctx
        .aws
        .identity(region)
        .await?
        .policy_arn(&obj.spec.path, name);
    let Some(view) = aws.policy(&arn).await? else {
        return Ok(Deletion::Gone);
    };
    if view.tags.get(OWNER_UID_TAG) != obj.uid().as_ref() {
        // Someone else's policy of the same name: never delete it.
        return Ok(Deletion::Gone);
    }
    let roles = aws.attached_roles(&arn).await?;
    for role in &roles {
        aws.detach(role, &arn).await?;
    }
    let old: Vec<String> = versions::non_default(&aws.versions(&arn).await?)
        .map(str::to_owned)
        .collect();
    for version in &old {
        aws.delete_version(&arn, version).await?;
    }
    aws.delete_policy(&arn).await?;
    let detached = if roles.is_empty() {
        String::new()
    } else {
        format!(", after detaching it from {}", listed(&roles))
    };
    notes.push(Note::with_action(
        "Deleting",
        "DeletePolicy",
        format!("DeletePolicy {name}{detached}"),
    ));
    Ok(Deletion::Gone)
}
