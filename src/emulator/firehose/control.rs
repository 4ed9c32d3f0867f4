//! The control plane: CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams,
//! DeleteDeliveryStream, UpdateDestination and Start/StopDeliveryStreamEncryption.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::describe::{DESTINATION_ID, describe as description};
use super::model::{
    CreateInput, CreateOutput, DescribeOutput, Empty, EncryptionDescription, EncryptionInput,
    HttpDestination, ListInput, ListOutput, NamedInput, S3Destination, UpdateInput,
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

fn encryption_input(v: &mut Validation, path: &str, e: &Option<EncryptionInput>) {
    let Some(e) = e else { return };
    if let Some(k) = &e.key_arn {
        let p = format!("{path}.keyARN");
        v.length(&p, k, 1, 512);
        v.pattern(
            &p,
            k,
            "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+",
            validate::is_kms_arn,
        );
    }
    let p = format!("{path}.keyType");
    match &e.key_type {
        None => {
            v.required(&p, &e.key_type);
        }
        Some(t) => v.one_of(&p, t, &["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
    }
}

/// The key type and ARN an encryption input asks for, checked as AWS checks them.
fn encryption_key(e: &EncryptionInput) -> Result<(String, Option<String>), AwsError> {
    let key_type = e.key_type.clone().unwrap_or_else(|| "AWS_OWNED_CMK".into());
    match (key_type.as_str(), &e.key_arn) {
        ("CUSTOMER_MANAGED_CMK", None) => Err(AwsError::invalid_argument(
            "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.",
        )),
        ("AWS_OWNED_CMK", Some(_)) => Err(AwsError::invalid_argument(
            "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.",
        )),
        _ => Ok((key_type, e.key_arn.clone())),
    }
}

fn unsupported_destination(kind: &str) -> AwsError {
    AwsError::invalid_argument(format!(
        "{kind} destinations are not delivered to by this emulator; use an S3, extended S3 or HTTP endpoint destination."
    ))
}

/// CreateDeliveryStream.
pub(super) fn create(
    f: &Firehose,
    ctx: &Ctx,
    input: CreateInput,
) -> Result<CreateOutput, AwsError> {
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
    v.finish()?;
    let name = input.delivery_stream_name.clone().unwrap_or_default();
    let kind = input
        .delivery_stream_type
        .clone()
        .unwrap_or_else(|| "DirectPut".into());

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
    let destination = if let Some(d) = input.http_endpoint_destination_configuration {
        if let Some(s3) = &d.s3_configuration {
            validate::prefixes(s3)?;
        }
        Destination::Http(Box::new(d))
    } else {
        let d = input
            .extended_s3_destination_configuration
            .or(input.s3_destination_configuration)
            .unwrap_or_default();
        validate::prefixes(&d)?;
        Destination::S3(Box::new(d))
    };

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

fn named(v: &mut Validation, name: &Option<String>) {
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
    {
        let mut meta = stream.meta.lock();
        match meta.status {
            Status::Creating => {
                return Err(AwsError::in_use(format!(
                    "Firehose {name} under account {} is in CREATING state and cannot be deleted; retry once it is ACTIVE.",
                    ctx.account
                )));
            }
            Status::Deleting => return Ok(Empty {}),
            Status::Active => {}
        }
        meta.status = Status::Deleting;
        meta.gone_at_ms = Some(f.now() + f.settings.delete_delay.as_millis() as i64);
    }
    f.save(&stream)?;
    f.settle(&stream);
    Ok(Empty {})
}

/// Merges the members set in `update` into `into`.
fn merge_s3(into: &mut S3Destination, update: S3Destination) {
    macro_rules! take {
        ($($field:ident),*) => { $(if update.$field.is_some() { into.$field = update.$field; })* };
    }
    take!(
        role_arn,
        bucket_arn,
        prefix,
        error_output_prefix,
        compression_format,
        encryption_configuration,
        cloud_watch_logging_options,
        processing_configuration,
        s3_backup_mode,
        s3_backup_configuration,
        data_format_conversion_configuration,
        dynamic_partitioning_configuration,
        file_extension,
        custom_time_zone
    );
    if let Some(h) = update.buffering_hints {
        let current = into.buffering_hints.get_or_insert_default();
        if h.size_in_mbs.is_some() {
            current.size_in_mbs = h.size_in_mbs;
        }
        if h.interval_in_seconds.is_some() {
            current.interval_in_seconds = h.interval_in_seconds;
        }
    }
}

fn merge_http(into: &mut HttpDestination, update: HttpDestination) {
    macro_rules! take {
        ($($field:ident),*) => { $(if update.$field.is_some() { into.$field = update.$field; })* };
    }
    take!(
        buffering_hints,
        cloud_watch_logging_options,
        request_configuration,
        processing_configuration,
        role_arn,
        retry_options,
        s3_backup_mode,
        secrets_manager_configuration
    );
    if let Some(e) = update.endpoint_configuration {
        let current = into.endpoint_configuration.get_or_insert_default();
        if e.url.is_some() {
            current.url = e.url;
        }
        if e.name.is_some() {
            current.name = e.name;
        }
        if e.access_key.is_some() {
            current.access_key = e.access_key;
        }
    }
    if let Some(s3) = update.s3_update.or(update.s3_configuration) {
        merge_s3(into.s3_configuration.get_or_insert_default(), s3);
    }
}

/// UpdateDestination.
pub(super) fn update_destination(
    f: &Firehose,
    ctx: &Ctx,
    input: UpdateInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    let version_path = "currentDeliveryStreamVersionId";
    match &input.current_delivery_stream_version_id {
        None => {
            v.required(version_path, &input.current_delivery_stream_version_id);
        }
        Some(id) => {
            v.length(version_path, id, 1, 50);
            v.pattern(version_path, id, "[0-9]+", |s| {
                s.bytes().all(|b| b.is_ascii_digit())
            });
        }
    }
    match &input.destination_id {
        None => {
            v.required("destinationId", &input.destination_id);
        }
        Some(id) => {
            v.length("destinationId", id, 1, 100);
            v.pattern("destinationId", id, "[a-zA-Z0-9-]+", |s| {
                s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        }
    }
    if let Some(d) = &input.s3_destination_update {
        validate::s3(&mut v, "s3DestinationUpdate", d, false);
    }
    if let Some(d) = &input.extended_s3_destination_update {
        validate::s3(&mut v, "extendedS3DestinationUpdate", d, false);
    }
    if let Some(d) = &input.http_endpoint_destination_update {
        validate::http(&mut v, "httpEndpointDestinationUpdate", d, false);
        if let Some(s3) = &d.s3_update {
            validate::s3(&mut v, "httpEndpointDestinationUpdate.s3Update", s3, false);
        }
    }
    v.finish()?;
    let name = input.delivery_stream_name.clone().unwrap_or_default();
    let stream = f.find(ctx, &name)?;
    let mut meta = stream.meta.lock();
    if meta.status != Status::Active {
        return Err(AwsError::in_use(format!(
            "Firehose {name} under account {} is not ACTIVE (it is {}).",
            ctx.account,
            meta.status.as_str()
        )));
    }
    let given = input
        .current_delivery_stream_version_id
        .clone()
        .unwrap_or_default();
    if given.parse::<u64>().ok() != Some(meta.version) {
        return Err(AwsError::client(
            "ConcurrentModificationException",
            format!(
                "Cannot update Firehose {name} under account {}: version id {given} is not the current version id {}. Describe the delivery stream and retry with its current version id.",
                ctx.account, meta.version
            ),
        ));
    }
    let destination_id = input.destination_id.clone().unwrap_or_default();
    if destination_id != DESTINATION_ID {
        return Err(AwsError::invalid_argument(format!(
            "Destination Id {destination_id} not found for Firehose {name} under account {}.",
            ctx.account
        )));
    }
    let unsupported = [
        ("Redshift", input.redshift_destination_update.is_some()),
        (
            "Elasticsearch",
            input.elasticsearch_destination_update.is_some(),
        ),
        (
            "Amazon OpenSearch Service",
            input.amazonopensearchservice_destination_update.is_some(),
        ),
        ("Splunk", input.splunk_destination_update.is_some()),
        ("Snowflake", input.snowflake_destination_update.is_some()),
        ("Iceberg", input.iceberg_destination_update.is_some()),
        (
            "Amazon OpenSearch Serverless",
            input
                .amazon_open_search_serverless_destination_update
                .is_some(),
        ),
    ];
    let count = [
        input.s3_destination_update.is_some(),
        input.extended_s3_destination_update.is_some(),
        input.http_endpoint_destination_update.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count()
        + unsupported.iter().filter(|(_, b)| *b).count();
    if count != 1 {
        return Err(AwsError::invalid_argument(
            "Exactly one destination update must be specified.",
        ));
    }
    if let Some((kind, _)) = unsupported.iter().find(|(_, b)| *b) {
        return Err(unsupported_destination(kind));
    }
    let s3_update = input
        .extended_s3_destination_update
        .or(input.s3_destination_update);
    let next = match (
        meta.destination.clone(),
        s3_update,
        input.http_endpoint_destination_update,
    ) {
        (Destination::S3(mut current), Some(update), _) => {
            merge_s3(&mut current, update);
            validate::prefixes(&current)?;
            Destination::S3(current)
        }
        (Destination::Http(_), Some(update), _) => {
            // A change of destination kind: the update must be a whole configuration.
            let mut v = Validation::new();
            validate::s3(&mut v, "extendedS3DestinationUpdate", &update, true);
            v.finish()?;
            validate::prefixes(&update)?;
            Destination::S3(Box::new(update))
        }
        (Destination::Http(mut current), None, Some(update)) => {
            merge_http(&mut current, update);
            if let Some(s3) = &current.s3_configuration {
                validate::prefixes(s3)?;
            }
            Destination::Http(current)
        }
        (Destination::S3(_), None, Some(mut update)) => {
            if update.s3_configuration.is_none() {
                update.s3_configuration = update.s3_update.take();
            }
            let mut v = Validation::new();
            validate::http(&mut v, "httpEndpointDestinationUpdate", &update, true);
            v.finish()?;
            if let Some(s3) = &update.s3_configuration {
                validate::prefixes(s3)?;
            }
            update.s3_update = None;
            Destination::Http(Box::new(update))
        }
        (_, None, None) => {
            return Err(AwsError::invalid_argument(
                "Exactly one destination update must be specified.",
            ));
        }
    };
    meta.destination = next;
    meta.version += 1;
    meta.updated_ms = Some(f.now());
    drop(meta);
    f.save(&stream)?;
    Ok(Empty {})
}

fn encryption_target(
    f: &Firehose,
    ctx: &Ctx,
    input: &NamedInput,
) -> Result<Arc<DeliveryStream>, AwsError> {
    let name = input.delivery_stream_name.as_deref().unwrap_or_default();
    let stream = f.find(ctx, name)?;
    let meta = stream.meta.lock();
    if matches!(meta.source, Source::Kinesis { .. }) {
        return Err(AwsError::invalid_argument(format!(
            "Firehose {name} under account {} has a Kinesis stream as source; server-side encryption is only supported for DirectPut delivery streams.",
            ctx.account
        )));
    }
    if meta.status != Status::Active {
        return Err(AwsError::in_use(format!(
            "Firehose {name} under account {} is not ACTIVE (it is {}).",
            ctx.account,
            meta.status.as_str()
        )));
    }
    drop(meta);
    Ok(stream)
}

/// StartDeliveryStreamEncryption.
pub(super) fn start_encryption(
    f: &Firehose,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    encryption_input(
        &mut v,
        "deliveryStreamEncryptionConfigurationInput",
        &input.delivery_stream_encryption_configuration_input,
    );
    v.finish()?;
    let stream = encryption_target(f, ctx, &input)?;
    let (key_type, key_arn) = encryption_key(
        &input
            .delivery_stream_encryption_configuration_input
            .unwrap_or_default(),
    )?;
    {
        let mut meta = stream.meta.lock();
        let now = f.now();
        meta.encryption = EncryptionDescription {
            key_arn,
            key_type: Some(key_type),
            status: "ENABLING".into(),
        };
        meta.encryption_change = Some(EncryptionChange {
            at_ms: now + f.settings.create_delay.as_millis() as i64,
            status: "ENABLED".into(),
        });
        meta.settle(now);
    }
    f.save(&stream)?;
    Ok(Empty {})
}

/// StopDeliveryStreamEncryption.
pub(super) fn stop_encryption(
    f: &Firehose,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    v.finish()?;
    let stream = encryption_target(f, ctx, &input)?;
    {
        let mut meta = stream.meta.lock();
        if meta.encryption.status == "DISABLED" {
            return Ok(Empty {});
        }
        let now = f.now();
        meta.encryption.status = "DISABLING".into();
        meta.encryption_change = Some(EncryptionChange {
            at_ms: now + f.settings.create_delay.as_millis() as i64,
            status: "DISABLED".into(),
        });
        meta.settle(now);
    }
    f.save(&stream)?;
    Ok(Empty {})
}
