//! Enhanced fan-out consumers: RegisterStreamConsumer, DeregisterStreamConsumer,
//! DescribeStreamConsumer, ListStreamConsumers.

use std::sync::Arc;

use super::control::{decode_token, encode_token};
use super::model::*;
use super::stream::{Consumer, Stream};
use super::tagging::validate_tags;
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation, is_name};
use crate::emulator::protocol::Timestamp;

/// Consumers per stream.
const MAX_CONSUMERS: usize = 20;
/// Consumers of a stream that may be CREATING at once.
const MAX_CREATING_CONSUMERS: usize = 5;

fn validate_consumer_name(v: &mut Validation, name: &str) {
    v.pattern("consumerName", name, "[a-zA-Z0-9_.-]+", is_name);
    v.length("consumerName", name, 1, 128);
}

/// The stream and consumer name a consumer ARN (`<stream ARN>/consumer/<name>:<epoch>`) names.
fn split_consumer_arn(arn: &str) -> Option<(&str, &str)> {
    let (stream_arn, rest) = arn.split_once("/consumer/")?;
    let (name, epoch) = rest.rsplit_once(':')?;
    (!name.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit())).then_some((stream_arn, name))
}

fn consumer_not_found(ctx: &Ctx, what: &str) -> AwsError {
    AwsError::not_found(format!(
        "Consumer {what}, account {} not found.",
        ctx.account
    ))
}

/// The stream and the (not deregistered) consumer a request names, by ConsumerARN or by
/// StreamARN and ConsumerName.
pub(super) fn locate(
    k: &Kinesis,
    ctx: &Ctx,
    input: &ConsumerRefInput,
) -> Result<(Arc<Stream>, Consumer), AwsError> {
    let mut v = Validation::new();
    if let Some(name) = &input.consumer_name {
        validate_consumer_name(&mut v, name);
    }
    for (path, arn) in [
        ("streamARN", &input.stream_arn),
        ("consumerARN", &input.consumer_arn),
    ] {
        if let Some(a) = arn {
            v.length(path, a, 1, 2048);
        }
    }
    v.finish()?;
    let (stream_arn, name) = match (&input.consumer_arn, &input.stream_arn, &input.consumer_name) {
        (Some(arn), _, _) => {
            let (stream_arn, name) = split_consumer_arn(arn)
                .ok_or_else(|| AwsError::invalid_argument(format!("Invalid ConsumerARN {arn}.")))?;
            if input.consumer_name.as_deref().is_some_and(|n| n != name)
                || input.stream_arn.as_deref().is_some_and(|s| s != stream_arn)
            {
                return Err(AwsError::invalid_argument(
                    "ConsumerARN does not match the given StreamARN and ConsumerName.",
                ));
            }
            (stream_arn.to_owned(), name.to_owned())
        }
        (None, Some(stream_arn), Some(name)) => (stream_arn.clone(), name.clone()),
        _ => {
            return Err(AwsError::invalid_argument(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
            ));
        }
    };
    let stream = k.find(ctx, None, Some(&stream_arn))?;
    let now = k.now();
    let consumer = stream
        .meta
        .lock()
        .consumers
        .iter()
        .find(|c| c.name == name && c.status(now).is_some())
        .cloned();
    match consumer {
        Some(c) if input.consumer_arn.as_ref().is_none_or(|a| *a == c.arn) => Ok((stream, c)),
        _ => Err(consumer_not_found(
            ctx,
            input
                .consumer_arn
                .as_deref()
                .unwrap_or(&format!("{stream_arn}/consumer/{name}")),
        )),
    }
}

fn view(c: &Consumer, now: i64) -> ConsumerView {
    ConsumerView {
        consumer_name: c.name.clone(),
        consumer_arn: c.arn.clone(),
        consumer_status: c.status(now).unwrap_or("DELETING"),
        consumer_creation_timestamp: Timestamp(c.created_ms),
    }
}

pub(super) fn register(
    k: &Kinesis,
    ctx: &Ctx,
    input: RegisterConsumerInput,
) -> Result<RegisterConsumerOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("streamARN", &input.stream_arn, 1, 2048);
    if v.required("consumerName", &input.consumer_name) {
        validate_consumer_name(&mut v, input.consumer_name.as_deref().unwrap_or_default());
    }
    if let Some(tags) = &input.tags {
        validate_tags(&mut v, "tags", tags);
    }
    v.finish()?;
    let name = input.consumer_name.unwrap_or_default();
    let stream = k.find(ctx, None, input.stream_arn.as_deref())?;
    let now = k.now();
    let mut meta = stream.meta.lock();
    super::control::require_active(&stream, meta.status, ctx)?;
    meta.consumers.retain(|c| c.status(now).is_some());
    if meta.consumers.iter().any(|c| c.name == name) {
        return Err(AwsError::in_use(format!(
            "Consumer {name} under stream {} and account {} already exists.",
            stream.name, ctx.account
        )));
    }
    if !k.settings.relax_limits {
        if meta.consumers.len() >= MAX_CONSUMERS {
            return Err(AwsError::limit_exceeded(format!(
                "Stream {} under account {} already has the maximum of {MAX_CONSUMERS} registered consumers.",
                stream.name, ctx.account
            )));
        }
        let creating = meta
            .consumers
            .iter()
            .filter(|c| c.status(now) == Some("CREATING"))
            .count();
        if creating >= MAX_CREATING_CONSUMERS {
            return Err(AwsError::limit_exceeded(format!(
                "Stream {} under account {} already has {MAX_CREATING_CONSUMERS} consumers in CREATING status.",
                stream.name, ctx.account
            )));
        }
    }
    let consumer = Consumer {
        arn: format!("{}/consumer/{name}:{}", stream.arn, now.div_euclid(1000)),
        name,
        created_ms: now,
        active_at_ms: now + k.settings.create_delay.as_millis() as i64,
        gone_at_ms: None,
        policy: None,
    };
    let out = view(&consumer, now);
    meta.consumers.push(consumer);
    Ok(RegisterConsumerOutput { consumer: out })
}

pub(super) fn deregister(
    k: &Kinesis,
    ctx: &Ctx,
    input: ConsumerRefInput,
) -> Result<Empty, AwsError> {
    let (stream, consumer) = locate(k, ctx, &input)?;
    let gone_at = k.now() + k.settings.delete_delay.as_millis() as i64;
    let mut meta = stream.meta.lock();
    if let Some(c) = meta.consumers.iter_mut().find(|c| c.arn == consumer.arn) {
        c.gone_at_ms.get_or_insert(gone_at);
    }
    Ok(Empty {})
}

pub(super) fn describe(
    k: &Kinesis,
    ctx: &Ctx,
    input: ConsumerRefInput,
) -> Result<DescribeConsumerOutput, AwsError> {
    let (stream, consumer) = locate(k, ctx, &input)?;
    let now = k.now();
    Ok(DescribeConsumerOutput {
        consumer_description: ConsumerDescription {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn.clone(),
            consumer_status: consumer.status(now).unwrap_or("DELETING"),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
            stream_arn: stream.arn.clone(),
        },
    })
}

pub(super) fn list(
    k: &Kinesis,
    ctx: &Ctx,
    input: ListConsumersInput,
) -> Result<ListConsumersOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("streamARN", &input.stream_arn, 1, 2048);
    if let Some(max) = input.max_results {
        v.range("maxResults", max, 1, 10000);
    }
    if let Some(token) = &input.next_token {
        v.length("nextToken", token, 1, 1048576);
    }
    v.finish()?;
    let stream = k.find(ctx, None, input.stream_arn.as_deref())?;
    let after = input.next_token.as_deref().map(decode_token).transpose()?;
    let max = input.max_results.unwrap_or(100) as usize;
    let now = k.now();
    let meta = stream.meta.lock();
    let mut page: Vec<_> = meta
        .consumers
        .iter()
        .filter(|c| c.status(now).is_some())
        .filter(|c| after.as_ref().is_none_or(|a| &c.name > a))
        .take(max + 1)
        .collect();
    page.sort_by(|a, b| a.name.cmp(&b.name));
    let more = page.len() > max;
    page.truncate(max);
    Ok(ListConsumersOutput {
        next_token: if more {
            page.last().map(|c| encode_token(&c.name))
        } else {
            None
        },
        consumers: page.into_iter().map(|c| view(c, now)).collect(),
    })
}

/// The stream (and consumer, for a consumer ARN) a resource ARN names.
pub(super) fn resource(
    k: &Kinesis,
    ctx: &Ctx,
    arn: &str,
) -> Result<(Arc<Stream>, Option<String>), AwsError> {
    match split_consumer_arn(arn) {
        Some(_) => {
            let (stream, consumer) = locate(
                k,
                ctx,
                &ConsumerRefInput {
                    consumer_arn: Some(arn.to_owned()),
                    ..Default::default()
                },
            )?;
            Ok((stream, Some(consumer.arn)))
        }
        None => Ok((k.find(ctx, None, Some(arn))?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arns_split_into_stream_and_name() {
        let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c1:1572383852";
        assert_eq!(
            split_consumer_arn(arn),
            Some(("arn:aws:kinesis:us-east-1:123456789012:stream/s", "c1"))
        );
        assert_eq!(
            split_consumer_arn("arn:aws:kinesis:us-east-1:123456789012:stream/s"),
            None
        );
        assert_eq!(split_consumer_arn("x/consumer/c1:abc"), None);
    }
}
