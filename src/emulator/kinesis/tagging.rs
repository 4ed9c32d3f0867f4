//! Tags: the stream-name operations (AddTagsToStream, RemoveTagsFromStream, ListTagsForStream)
//! and the ARN-based ones (TagResource, UntagResource, ListTagsForResource).

use std::collections::BTreeMap;

use super::model::*;
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation};

/// AWS's limit of tags per stream.
const MAX_TAGS: usize = 50;

/// Validates a tag map against the model: 1-200 entries, keys 1-128 and values 0-256
/// characters; key and value violations are reported at the map, as AWS does.
pub(super) fn validate_tags(v: &mut Validation, path: &str, tags: &BTreeMap<String, String>) {
    let shown = || {
        let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("'{{{}}}'", pairs.join(", "))
    };
    v.size(path, shown(), tags.len(), 1, 200);
    if tags.keys().any(|k| k.is_empty() || k.chars().count() > 128) {
        v.fail(
            shown(),
            path,
            "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]",
        );
    }
    if tags.values().any(|v| v.chars().count() > 256) {
        v.fail(
            shown(),
            path,
            "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]",
        );
    }
}

/// Whether `c` is in AWS's tag character set: Unicode letters, digits and space separators,
/// and `_ . : / = + - @` (AWS's `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`; tabs, line breaks, `;`, `,`
/// and `%` are outside it).
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
        // \p{Z}: space separators, the line separator and the paragraph separator.
        || matches!(
            c,
            ' ' | '\u{a0}'
                | '\u{1680}'
                | '\u{2000}'..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
        )
}

/// Refuses tag keys or values with characters outside AWS's set, as AWS does (after model
/// validation and the stream's existence).
pub(super) fn check_tag_characters<'a>(
    mut texts: impl Iterator<Item = &'a str>,
) -> Result<(), AwsError> {
    if texts.any(|t| !t.chars().all(is_tag_char)) {
        return Err(AwsError::invalid_argument(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.",
        ));
    }
    Ok(())
}

fn validate_keys(v: &mut Validation, path: &str, keys: &Option<Vec<String>>) {
    if v.required(path, keys) {
        let keys = keys.as_deref().unwrap_or_default();
        let shown = format!("'[{}]'", keys.join(", "));
        v.size(path, &shown, keys.len(), 1, MAX_TAGS);
        if keys.iter().any(|k| k.is_empty() || k.chars().count() > 128) {
            v.fail(
                &shown,
                path,
                "Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]",
            );
        }
    }
}

fn add(
    k: &Kinesis,
    ctx: &Ctx,
    name: Option<&str>,
    arn: Option<&str>,
    tags: BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let stream = k.find(ctx, name, arn)?;
    check_tag_characters(tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))?;
    let mut meta = stream.meta.lock();
    let added = tags
        .keys()
        .filter(|key| !meta.tags.contains_key(*key))
        .count();
    if meta.tags.len() + added > MAX_TAGS {
        return Err(AwsError::invalid_argument(format!(
            "Failed to add tags to stream {} under account {} because a given stream cannot have more than {MAX_TAGS} tags associated with it.",
            stream.name, ctx.account
        )));
    }
    meta.tags.extend(tags);
    Ok(())
}

fn remove(
    k: &Kinesis,
    ctx: &Ctx,
    name: Option<&str>,
    arn: Option<&str>,
    keys: Vec<String>,
) -> Result<(), AwsError> {
    let stream = k.find(ctx, name, arn)?;
    check_tag_characters(keys.iter().map(String::as_str))?;
    let mut meta = stream.meta.lock();
    for key in keys {
        meta.tags.remove(&key);
    }
    Ok(())
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag {
            key: key.clone(),
            value: Some(value.clone()),
        })
        .collect()
}

pub(super) fn add_tags_to_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: AddTagsInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    if v.required("tags", &input.tags) {
        validate_tags(&mut v, "tags", input.tags.as_ref().expect("checked"));
    }
    v.finish()?;
    add(
        k,
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
        input.tags.unwrap_or_default(),
    )?;
    Ok(Empty {})
}

pub(super) fn remove_tags_from_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: RemoveTagsInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate_keys(&mut v, "tagKeys", &input.tag_keys);
    v.finish()?;
    remove(
        k,
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
        input.tag_keys.unwrap_or_default(),
    )?;
    Ok(Empty {})
}

pub(super) fn list_tags_for_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: ListTagsForStreamInput,
) -> Result<ListTagsForStreamOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(limit) = input.limit {
        v.range("limit", limit, 1, 50);
    }
    if let Some(key) = &input.exclusive_start_tag_key {
        v.length("exclusiveStartTagKey", key, 1, 128);
    }
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let meta = stream.meta.lock();
    let limit = input.limit.unwrap_or(50) as usize;
    let mut tags: Vec<Tag> = tag_list(&meta.tags)
        .into_iter()
        .filter(|t| {
            input
                .exclusive_start_tag_key
                .as_ref()
                .is_none_or(|s| &t.key > s)
        })
        .take(limit + 1)
        .collect();
    let has_more = tags.len() > limit;
    tags.truncate(limit);
    Ok(ListTagsForStreamOutput {
        tags,
        has_more_tags: has_more,
    })
}

pub(super) fn tag_resource(
    k: &Kinesis,
    ctx: &Ctx,
    input: TagResourceInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("resourceARN", &input.resource_arn, 1, 2048);
    if v.required("tags", &input.tags) {
        validate_tags(&mut v, "tags", input.tags.as_ref().expect("checked"));
    }
    v.finish()?;
    add(
        k,
        ctx,
        None,
        input.resource_arn.as_deref(),
        input.tags.unwrap_or_default(),
    )?;
    Ok(Empty {})
}

pub(super) fn untag_resource(
    k: &Kinesis,
    ctx: &Ctx,
    input: UntagResourceInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("resourceARN", &input.resource_arn, 1, 2048);
    validate_keys(&mut v, "tagKeys", &input.tag_keys);
    v.finish()?;
    remove(
        k,
        ctx,
        None,
        input.resource_arn.as_deref(),
        input.tag_keys.unwrap_or_default(),
    )?;
    Ok(Empty {})
}

pub(super) fn list_tags_for_resource(
    k: &Kinesis,
    ctx: &Ctx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("resourceARN", &input.resource_arn, 1, 2048);
    v.finish()?;
    let stream = k.find(ctx, None, input.resource_arn.as_deref())?;
    let meta = stream.meta.lock();
    Ok(ListTagsForResourceOutput {
        tags: tag_list(&meta.tags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_characters_are_aws_set() {
        let allowed = [
            "env",
            "Prod 1",
            "a_b.c:d/e=f+g-h@i",
            "Größe",
            "日本語",
            "٣",
            "",
            "a\u{a0}b",
        ];
        for text in allowed {
            assert!(check_tag_characters([text].into_iter()).is_ok(), "{text:?}");
        }
        let refused = [
            "a;b", "a\tb", "a\nb", "a,b", "50%", "a*b", "a#b", "a\"b", "<x>",
        ];
        for text in refused {
            let err = check_tag_characters(["ok", text].into_iter()).unwrap_err();
            assert_eq!(err.code, "InvalidArgumentException", "{text:?}");
            assert_eq!(
                err.message,
                "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
            );
        }
    }
}
