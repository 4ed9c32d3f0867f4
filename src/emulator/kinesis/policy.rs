//! Resource policies of streams and consumers: PutResourcePolicy, GetResourcePolicy,
//! DeleteResourcePolicy.

use super::consumers::resource;
use super::model::*;
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation};

fn validate(input: &ResourcePolicyInput, needs_policy: bool) -> Result<(), AwsError> {
    let mut v = Validation::new();
    v.required_length("resourceARN", &input.resource_arn, 1, 2048);
    if needs_policy {
        v.required("policy", &input.policy);
    }
    v.finish()
}

/// Sets (`Some`) or removes (`None`) the policy of the resource `arn`.
fn set(k: &Kinesis, ctx: &Ctx, arn: &str, policy: Option<String>) -> Result<(), AwsError> {
    let (stream, consumer) = resource(k, ctx, arn)?;
    let mut meta = stream.meta.lock();
    match consumer {
        None => meta.policy = policy,
        Some(consumer_arn) => {
            if let Some(c) = meta.consumers.iter_mut().find(|c| c.arn == consumer_arn) {
                c.policy = policy;
            }
        }
    }
    Ok(())
}

pub(super) fn put(k: &Kinesis, ctx: &Ctx, input: ResourcePolicyInput) -> Result<Empty, AwsError> {
    validate(&input, true)?;
    // The resource must exist before its policy is looked at, as AWS orders its checks.
    resource(k, ctx, input.resource_arn.as_deref().unwrap_or_default())?;
    let policy = input.policy.unwrap_or_default();
    let document: serde_json::Value = serde_json::from_str(&policy).map_err(|e| {
        AwsError::invalid_argument(format!("Policy is not a valid JSON document: {e}"))
    })?;
    if !document.is_object() || document.get("Statement").is_none() {
        return Err(AwsError::invalid_argument(
            "Policy must be a JSON object with a Statement.",
        ));
    }
    set(
        k,
        ctx,
        input.resource_arn.as_deref().unwrap_or_default(),
        Some(policy),
    )?;
    Ok(Empty {})
}

pub(super) fn get(
    k: &Kinesis,
    ctx: &Ctx,
    input: ResourcePolicyInput,
) -> Result<GetResourcePolicyOutput, AwsError> {
    validate(&input, false)?;
    let arn = input.resource_arn.unwrap_or_default();
    let (stream, consumer) = resource(k, ctx, &arn)?;
    let meta = stream.meta.lock();
    let policy = match consumer {
        None => meta.policy.clone(),
        Some(consumer_arn) => meta
            .consumers
            .iter()
            .find(|c| c.arn == consumer_arn)
            .and_then(|c| c.policy.clone()),
    };
    Ok(GetResourcePolicyOutput {
        policy: policy.unwrap_or_else(|| "{}".to_owned()),
    })
}

pub(super) fn delete(
    k: &Kinesis,
    ctx: &Ctx,
    input: ResourcePolicyInput,
) -> Result<Empty, AwsError> {
    validate(&input, false)?;
    set(
        k,
        ctx,
        input.resource_arn.as_deref().unwrap_or_default(),
        None,
    )?;
    Ok(Empty {})
}
