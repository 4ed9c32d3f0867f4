//! UpdateDestination: the caller's version ID must be the current one
//! (`ConcurrentModificationException` otherwise); an update of the same destination kind is
//! merged into it, one of another kind (S3 <-> HTTP endpoint) replaces it and must then be
//! complete. Each update increments the version, which new object names carry.

use super::control::{named, unsupported_destination};
use super::describe::DESTINATION_ID;
use super::model::{Empty, HttpDestination, S3Destination, UpdateInput};
use super::stream::{Destination, Meta, Status};
use super::{Firehose, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

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
    let now_ms = f.now();
    f.change(&stream, |meta| update(meta, ctx, &name, input, now_ms))?;
    Ok(Empty {})
}

/// Applies an UpdateDestination to a copy of the stream's settings.
fn update(
    meta: &mut Meta,
    ctx: &Ctx,
    name: &str,
    input: UpdateInput,
    now_ms: i64,
) -> Result<(), AwsError> {
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
    meta.updated_ms = Some(now_ms);
    Ok(())
}
