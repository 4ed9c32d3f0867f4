//! TagDeliveryStream, UntagDeliveryStream and ListTagsForDeliveryStream (at most 50 tags per
//! delivery stream, AWS's character set for keys and values).

use super::model::{Empty, ListTagsOutput, NamedInput, Tag};
use super::{Firehose, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Tags per delivery stream.
const MAX_TAGS: usize = 50;

/// TagDeliveryStream: adds or overwrites tags.
pub(super) fn tag(f: &Firehose, ctx: &Ctx, input: NamedInput) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    match &input.tags {
        None => {
            v.required("tags", &input.tags);
        }
        Some(tags) => validate::tags(&mut v, "tags", tags, MAX_TAGS),
    }
    v.finish()?;
    let name = input.delivery_stream_name.unwrap_or_default();
    let stream = f.find(ctx, &name)?;
    let tags = input.tags.unwrap_or_default();
    f.change(&stream, |meta| {
        let added = tags
            .iter()
            .filter_map(|t| t.key.as_ref())
            .filter(|k| !meta.tags.contains_key(*k))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if meta.tags.len() + added > MAX_TAGS {
            return Err(AwsError::limit_exceeded(format!(
                "Firehose {name} under account {} would have {} tags; the limit is {MAX_TAGS}.",
                ctx.account,
                meta.tags.len() + added
            )));
        }
        for t in tags {
            meta.tags
                .insert(t.key.unwrap_or_default(), t.value.unwrap_or_default());
        }
        Ok(())
    })?;
    Ok(Empty {})
}

/// UntagDeliveryStream: removes tags by key (absent keys are ignored).
pub(super) fn untag(f: &Firehose, ctx: &Ctx, input: NamedInput) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    match &input.tag_keys {
        None => {
            v.required("tagKeys", &input.tag_keys);
        }
        Some(keys) => {
            v.size("tagKeys", "'[...]'", keys.len(), 1, MAX_TAGS);
            for (i, k) in keys.iter().enumerate() {
                v.length(format!("tagKeys.{}.member", i + 1), k, 1, 128);
            }
        }
    }
    v.finish()?;
    let name = input.delivery_stream_name.unwrap_or_default();
    let stream = f.find(ctx, &name)?;
    f.change(&stream, |meta| {
        for k in input.tag_keys.unwrap_or_default() {
            meta.tags.remove(&k);
        }
        Ok(())
    })?;
    Ok(Empty {})
}

/// ListTagsForDeliveryStream: tags in key order, paged.
pub(super) fn list(f: &Firehose, ctx: &Ctx, input: NamedInput) -> Result<ListTagsOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    if let Some(k) = &input.exclusive_start_tag_key {
        v.length("exclusiveStartTagKey", k, 1, 128);
    }
    if let Some(l) = input.limit {
        v.range("limit", l, 1, MAX_TAGS as i64);
    }
    v.finish()?;
    let stream = f.find(
        ctx,
        input.delivery_stream_name.as_deref().unwrap_or_default(),
    )?;
    let limit = input.limit.unwrap_or(MAX_TAGS as i64) as usize;
    let meta = stream.meta.lock();
    let mut tags: Vec<Tag> = meta
        .tags
        .iter()
        .filter(|(k, _)| {
            input
                .exclusive_start_tag_key
                .as_deref()
                .is_none_or(|after| k.as_str() > after)
        })
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect();
    let has_more = tags.len() > limit;
    tags.truncate(limit);
    Ok(ListTagsOutput {
        tags,
        has_more_tags: has_more,
    })
}
