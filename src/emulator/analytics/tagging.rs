//! TagResource, UntagResource and ListTagsForResource (at most 50 tags per application).

use super::model::{Empty, ListTagsOutput, Tag, TagsInput};
use super::{Analytics, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// The application named by `ResourceARN`, which must be the caller's.
fn application(
    an: &Analytics,
    ctx: &Ctx,
    arn: &Option<String>,
) -> Result<std::sync::Arc<parking_lot::Mutex<super::app::App>>, AwsError> {
    let arn = arn.as_deref().unwrap_or_default();
    let prefix = format!(
        "arn:aws:kinesisanalytics:{}:{}:application/",
        ctx.region, ctx.account
    );
    let Some(name) = arn.strip_prefix(&prefix).filter(|n| !n.is_empty()) else {
        return Err(AwsError::invalid_argument(format!(
            "ResourceARN {arn} is not an application ARN of account {} in {} (arn:aws:kinesisanalytics:{}:{}:application/NAME).",
            ctx.account, ctx.region, ctx.region, ctx.account
        )));
    };
    Ok(an.find(ctx, name)?.1)
}

fn validate_arn(v: &mut Validation, arn: &Option<String>) {
    v.required_length("resourceARN", arn, 1, 2048);
    if let Some(a) = arn.as_deref().filter(|a| !a.is_empty()) {
        v.pattern("resourceARN", a, "arn:.*", |a| a.starts_with("arn:"));
    }
}

/// TagResource: adds or overwrites tags.
pub(super) fn tag(an: &Analytics, ctx: &Ctx, input: TagsInput) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate_arn(&mut v, &input.resource_arn);
    match &input.tags {
        None => {
            v.required("tags", &input.tags);
        }
        Some(tags) => validate::tags(&mut v, "tags", tags),
    }
    v.finish()?;
    let app = application(an, ctx, &input.resource_arn)?;
    let tags = input.tags.unwrap_or_default();
    an.change(&app, |a| {
        let mut next = a.tags.clone();
        for t in tags {
            next.insert(t.key.unwrap_or_default(), t.value.unwrap_or_default());
        }
        validate::too_many_tags(&a.arn(), next.len())?;
        a.tags = next;
        Ok(())
    })?;
    Ok(Empty {})
}

/// UntagResource: removes tags by key (absent keys are ignored).
pub(super) fn untag(an: &Analytics, ctx: &Ctx, input: TagsInput) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate_arn(&mut v, &input.resource_arn);
    match &input.tag_keys {
        None => {
            v.required("tagKeys", &input.tag_keys);
        }
        Some(keys) => {
            v.size("tagKeys", "'[...]'", keys.len(), 1, 200);
            for (i, k) in keys.iter().enumerate() {
                v.length(format!("tagKeys.{}.member", i + 1), k, 1, 128);
            }
        }
    }
    v.finish()?;
    let app = application(an, ctx, &input.resource_arn)?;
    an.change(&app, |a| {
        for k in input.tag_keys.unwrap_or_default() {
            a.tags.remove(&k);
        }
        Ok(())
    })?;
    Ok(Empty {})
}

/// ListTagsForResource: every tag, in key order.
pub(super) fn list(
    an: &Analytics,
    ctx: &Ctx,
    input: TagsInput,
) -> Result<ListTagsOutput, AwsError> {
    let mut v = Validation::new();
    validate_arn(&mut v, &input.resource_arn);
    v.finish()?;
    let app = application(an, ctx, &input.resource_arn)?;
    let tags = app
        .lock()
        .tags
        .iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect();
    Ok(ListTagsOutput { tags })
}
