//! The control plane: CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams and
//! DeleteDeliveryStream (UpdateDestination is in `update.rs`, encryption in `encryption.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::describe::{DESTINATION_ID, describe as description};
use super::encryption::{encryption_input, encryption_key};
use super::model::{
    CreateInput, CreateOutput, DescribeOutput, Empty, EncryptionDescription, ListInput, ListOutput,
    NamedInput,
};
use super::stream::{
    Buffer, DeliveryStream, Destination, EncryptionChange, Meta, Source, Status, Throughput, arn,
};
use super::{Firehose, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Delivery stream types of the model.
const TYPES: [&str; 4] = [
    "DirectPut",
    "KinesisStreamAsSource",
    "MSKAsSource",
    "DatabaseAsSource",
];

/// Delivery streams per account and region (AWS's default quota).
const MAX_STREAMS: usize = 5000;

/// `InvalidArgumentException` for a destination kind the emulator does not deliver to.
pub(super) fn unsupported_destination(kind: &str) -> AwsError {
    AwsError::invalid_argument(format!(
        "{kind} destinations are not delivered to by this emulator; use an S3, extended S3 or HTTP endpoint destination."
    ))
}

/// The model constraints of a CreateDeliveryStream request.
fn validate_create(input: &CreateInput) -> Result<(), AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "deliveryStreamName", &input.delivery_stream_name);
    if let Some(t) = &input.delivery_stream_type {
        v.one_of("deliveryStreamType", t, &TYPES);
    }
    if let Some(src) = &input.kinesis_stream_source_configuration {
        let p = "kinesisStreamSourceConfiguration.kinesisStreamARN";
        match &src.kinesis_stream_arn {
            None => {
                v.required(p, &src.kinesis_stream_arn);
            }
            Some(a) => {
                v.length(p, a, 1, 512);
                v.pattern(
                    p,
                    a,
                    "arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+",
                    validate::is_stream_arn,
                );
            }
        }
        let p = "kinesisStreamSourceConfiguration.roleARN";
        match &src.role_arn {
            None => {
                v.required(p, &src.role_arn);
            }
            Some(r) => {
                v.length(p, r, 1, 512);
                v.pattern(
                    p,
                    r,
                    "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
                    validate::is_role_arn,
                );
            }
        }
    }
    encryption_input(
        &mut v,
        "deliveryStreamEncryptionConfigurationInput",
        &input.delivery_stream_encryption_configuration_input,
    );
    if let Some(d) = &input.s3_destination_configuration {
        validate::s3(&mut v, "s3DestinationConfiguration", d, true);
    }
    if let Some(d) = &input.extended_s3_destination_configuration {
        validate::s3(&mut v, "extendedS3DestinationConfiguration", d, true);
    }
    if let Some(d) = &input.http_endpoint_destination_configuration {
        validate::http(&mut v, "httpEndpointDestinationConfiguration", d, true);
    }
    if let Some(tags) = &input.tags {
        validate::tags(&mut v, "tags", tags, 50);
    }
    v.finish()
}

/// The one destination a CreateDeliveryStream request configures, checked as AWS checks it.
fn destination_of(input: &mut CreateInput) -> Result<Destination, AwsError> {
    let unsupported = [
        (
            "Redshift",
            input.redshift_destination_configuration.is_some(),
        ),
        (
            "Elasticsearch",
            input.elasticsearch_destination_configuration.is_some(),
        ),
        (
            "Amazon OpenSearch Service",
            input
                .amazonopensearchservice_destination_configuration
                .is_some(),
        ),
        ("Splunk", input.splunk_destination_configuration.is_some()),
        (
            "Snowflake",
            input.snowflake_destination_configuration.is_some(),
        ),
        ("Iceberg", input.iceberg_destination_configuration.is_some()),
        (
            "Amazon OpenSearch Serverless",
            input
                .amazon_open_search_serverless_destination_configuration
                .is_some(),
        ),
    ];
    let supported = [
        input.s3_destination_configuration.is_some(),
        input.extended_s3_destination_configuration.is_some(),
        input.http_endpoint_destination_configuration.is_some(),
    ];
    let count =
        supported.iter().filter(|b| **b).count() + unsupported.iter().filter(|(_, b)| *b).count();
    if count != 1 {
        return Err(AwsError::invalid_argument(
            "Exactly one destination configuration must be specified.",
        ));
    }
    if let Some((kind, _)) = unsupported.iter().find(|(_, b)| *b) {
        return Err(unsupported_destination(kind));
    }
    let destination = if let Some(d) = input.http_endpoint_destination_configuration.take() {
        if let Some(s3) = &d.s3_configuration {
            validate::prefixes(s3)?;
        }
        Destination::Http(Box::new(d))
    } else {
        let d = input
            .extended_s3_destination_configuration
            .take()
            .or(input.s3_destination_configuration.take())
            .unwrap_or_default();
        validate::prefixes(&d)?;
        Destination::S3(Box::new(d))
    };
    Ok(destination)
}

/// CreateDeliveryStream.
pub(super) fn create(
    f: &Firehose,
    ctx: &Ctx,
    mut input: CreateInput,
) -> Result<CreateOutput, AwsError> {
    validate_create(&input)?;
    let name = input.delivery_stream_name.clone().unwrap_or_default();
    let kind = input
        .delivery_stream_type
        .clone()
        .unwrap_or_else(|| "DirectPut".into());

    let destination = destination_of(&mut input)?;

    let now = f.now();
    let active_at_ms = now + f.settings.create_delay.as_millis() as i64;
    let (source, checkpoint) = match (kind.as_str(), input.kinesis_stream_source_configuration) {
        ("DirectPut", None) => (Source::DirectPut, None),
        ("DirectPut", Some(_)) => {
            return Err(AwsError::invalid_argument(
                "KinesisStreamSourceConfiguration is only valid for delivery streams of type KinesisStreamAsSource.",
            ));
        }
        ("KinesisStreamAsSource", None) => {
            return Err(AwsError::invalid_argument(
                "KinesisStreamSourceConfiguration is required for delivery streams of type KinesisStreamAsSource.",
            ));
        }
        ("KinesisStreamAsSource", Some(src)) => {
            let stream_arn = src.kinesis_stream_arn.unwrap_or_default();
            let source_ctx = source_ctx(&stream_arn);
            let checkpoint = f
                .kinesis
                .latest_checkpoint(&source_ctx, &stream_arn)
                .map_err(|_| {
                    AwsError::invalid_argument(format!(
                        "Kinesis stream {stream_arn} does not exist or is not accessible."
                    ))
                })?;
            (
                Source::Kinesis {
                    stream_arn,
                    role_arn: src.role_arn.unwrap_or_default(),
                    start_ms: now,
                },
                Some(checkpoint),
            )
        }
        (other, _) => {
            return Err(AwsError::invalid_argument(format!(
                "Delivery streams of type {other} are not supported by this emulator; use DirectPut or KinesisStreamAsSource."
            )));
        }
    };
    let mut encryption = EncryptionDescription {
        status: "DISABLED".into(),
        ..EncryptionDescription::default()
    };
    let mut encryption_change = None;
    if let Some(e) = &input.delivery_stream_encryption_configuration_input {
        if matches!(source, Source::Kinesis { .. }) {
            return Err(AwsError::invalid_argument(
                "Server-side encryption is not supported for delivery streams of type KinesisStreamAsSource; the records are encrypted in the source stream.",
            ));
        }
        let (key_type, key_arn) = encryption_key(e)?;
        encryption = EncryptionDescription {
            key_arn,
            key_type: Some(key_type),
            status: "ENABLING".into(),
        };
        encryption_change = Some(EncryptionChange {
            at_ms: active_at_ms,
            status: "ENABLED".into(),
        });
    }
    let tags: BTreeMap<String, String> = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();

    let key = (ctx.account.clone(), ctx.region.clone(), name.clone());
    let existing = f.streams.read().get(&key).cloned();
    if let Some(s) = existing
        && !f.settle(&s)
    {
        return Err(AwsError::in_use(format!(
            "Firehose {name} under accountId {} already exists",
            ctx.account
        )));
    }
    let mut streams = f.streams.write();
    if streams.contains_key(&key) {
        return Err(AwsError::in_use(format!(
            "Firehose {name} under accountId {} already exists",
            ctx.account
        )));
    }
    if !f.settings.relax_limits {
        let prefix = (ctx.account.clone(), ctx.region.clone(), String::new());
        let in_region = streams
            .range(prefix..)
            .take_while(|((a, r, _), _)| *a == ctx.account && *r == ctx.region)
            .count();
        if in_region >= MAX_STREAMS {
            return Err(AwsError::limit_exceeded(format!(
                "You have already reached the limit of {MAX_STREAMS} delivery streams in this account and region."
            )));
        }
    }
    let stream = Arc::new(DeliveryStream {
        arn: arn(&ctx.account, &ctx.region, &name),
        name: name.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        tag: f
            .next_tag
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        created_ms: now,
        meta: Mutex::new(Meta {
            status: Status::Creating,
            active_at_ms,
            gone_at_ms: None,
            version: 1,
            updated_ms: None,
            source,
            destination,
            tags,
            encryption,
            encryption_change,
        }),
        buffer: Mutex::new(Buffer {
            checkpoint: checkpoint.clone(),
            ..Buffer::default()
        }),
        control: Mutex::new(()),
        throughput: Mutex::new(Throughput::default()),
    });
    if let Some(d) = &f.durable {
        d.save(&stream.snapshot())?;
        if let Some(c) = &checkpoint {
            d.append(stream.tag, &[], Some(c))?;
        }
    }
    streams.insert(key, stream.clone());
    drop(streams);
    f.settle(&stream);
    f.wake.notify_one();
    Ok(CreateOutput {
        delivery_stream_arn: stream.arn.clone(),
    })
}

/// The account and region a Kinesis stream ARN names.
pub(super) fn source_ctx(stream_arn: &str) -> Ctx {
    let mut parts = stream_arn.splitn(6, ':').skip(3);
    let region = parts.next().unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    Ctx { account, region }
}

/// Validates the `DeliveryStreamName` of a request.
pub(super) fn named(v: &mut Validation, name: &Option<String>) {
    validate::name(v, "deliveryStreamName", name);
}

/// DescribeDeliveryStream.
pub(super) fn describe(
    f: &Firehose,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<DescribeOutput, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    if let Some(l) = input.limit {
        v.range("limit", l, 1, 10_000);
    }
    if let Some(id) = &input.exclusive_start_destination_id {
        v.length("exclusiveStartDestinationId", id, 1, 100);
        v.pattern("exclusiveStartDestinationId", id, "[a-zA-Z0-9-]+", |s| {
            s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    }
    v.finish()?;
    let stream = f.find(
        ctx,
        input.delivery_stream_name.as_deref().unwrap_or_default(),
    )?;
    let mut d = description(&stream);
    if input.exclusive_start_destination_id.as_deref() == Some(DESTINATION_ID) {
        d.destinations.clear();
    }
    Ok(DescribeOutput {
        delivery_stream_description: d,
    })
}

/// ListDeliveryStreams.
pub(super) fn list(f: &Firehose, ctx: &Ctx, input: ListInput) -> Result<ListOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(l) = input.limit {
        v.range("limit", l, 1, 10_000);
    }
    if let Some(t) = &input.delivery_stream_type {
        v.one_of("deliveryStreamType", t, &TYPES);
    }
    if let Some(n) = &input.exclusive_start_delivery_stream_name {
        v.length("exclusiveStartDeliveryStreamName", n, 1, 64);
        v.pattern(
            "exclusiveStartDeliveryStreamName",
            n,
            "[a-zA-Z0-9_.-]+",
            crate::emulator::error::is_name,
        );
    }
    v.finish()?;
    let limit = input.limit.unwrap_or(10) as usize;
    let mut names: Vec<String> = f
        .all()
        .into_iter()
        .filter(|s| s.account == ctx.account && s.region == ctx.region)
        .filter(|s| {
            input
                .delivery_stream_type
                .as_deref()
                .is_none_or(|t| s.meta.lock().source.type_name() == t)
        })
        .filter(|s| {
            input
                .exclusive_start_delivery_stream_name
                .as_deref()
                .is_none_or(|after| s.name.as_str() > after)
        })
        .map(|s| s.name.clone())
        .collect();
    let has_more = names.len() > limit;
    names.truncate(limit);
    Ok(ListOutput {
        delivery_stream_names: names,
        has_more_delivery_streams: has_more,
    })
}

/// DeleteDeliveryStream.
pub(super) fn delete(f: &Firehose, ctx: &Ctx, input: NamedInput) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    v.finish()?;
    let name = input.delivery_stream_name.unwrap_or_default();
    let stream = f.find(ctx, &name)?;
    f.change(&stream, |meta| {
        match meta.status {
            Status::Creating => {
                return Err(AwsError::in_use(format!(
                    "Firehose {name} under account {} is in CREATING state and cannot be deleted; retry once it is ACTIVE.",
                    ctx.account
                )));
            }
            Status::Deleting => return Ok(()),
            Status::Active => {}
        }
        meta.status = Status::Deleting;
        meta.gone_at_ms = Some(f.now() + f.settings.delete_delay.as_millis() as i64);
        Ok(())
    })?;
    f.settle(&stream);
    Ok(Empty {})
}
