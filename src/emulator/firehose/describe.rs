//! DeliveryStreamDescription as AWS renders it: the configuration as sent, with the defaults AWS
//! fills in (buffering hints 5 MiB / 300 s, UNCOMPRESSED, NoEncryption, logging disabled,
//! backup modes), an S3 destination described in both its S3 and extended S3 forms, and the
//! HTTP endpoint's access key never echoed.

use serde_json::{Map, Value, json};

use super::model::{
    BufferingHints, Description, HttpDestination, KinesisSourceDescription, S3Destination,
    SourceDescription,
};
use super::stream::{DeliveryStream, Destination, Source};
use crate::emulator::protocol::Timestamp;

/// The only destination ID of a delivery stream.
pub const DESTINATION_ID: &str = "destinationId-000000000001";

/// Members of the deprecated `S3DestinationDescription`.
const S3_COMMON: [&str; 8] = [
    "RoleARN",
    "BucketARN",
    "Prefix",
    "ErrorOutputPrefix",
    "BufferingHints",
    "CompressionFormat",
    "EncryptionConfiguration",
    "CloudWatchLoggingOptions",
];

/// Buffering hints with AWS's defaults filled in.
pub fn hints_with_defaults(h: &Option<BufferingHints>) -> BufferingHints {
    let h = h.clone().unwrap_or_default();
    BufferingHints {
        size_in_mbs: Some(h.size_in_mbs.unwrap_or(5)),
        interval_in_seconds: Some(h.interval_in_seconds.unwrap_or(300)),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The extended description of an S3 destination.
fn extended(d: &S3Destination) -> Map<String, Value> {
    let mut m = object(serde_json::to_value(d).unwrap_or(Value::Null));
    m.insert(
        "BufferingHints".into(),
        serde_json::to_value(hints_with_defaults(&d.buffering_hints)).unwrap_or(Value::Null),
    );
    m.entry("CompressionFormat")
        .or_insert_with(|| json!("UNCOMPRESSED"));
    m.entry("EncryptionConfiguration")
        .or_insert_with(|| json!({"NoEncryptionConfig": "NoEncryption"}));
    m.entry("CloudWatchLoggingOptions")
        .or_insert_with(|| json!({"Enabled": false}));
    m.entry("S3BackupMode").or_insert_with(|| json!("Disabled"));
    if let Some(backup) = m.remove("S3BackupConfiguration") {
        m.insert("S3BackupDescription".into(), backup);
    }
    m
}

/// The `S3DestinationDescription` form.
pub fn s3_common(d: &S3Destination) -> Map<String, Value> {
    let mut m = extended(d);
    m.retain(|k, _| S3_COMMON.contains(&k.as_str()));
    m
}

fn http(d: &HttpDestination) -> Map<String, Value> {
    let mut m = object(serde_json::to_value(d).unwrap_or(Value::Null));
    if let Some(Value::Object(endpoint)) = m.get_mut("EndpointConfiguration") {
        endpoint.remove("AccessKey");
    }
    m.insert(
        "BufferingHints".into(),
        serde_json::to_value(hints_with_defaults(&d.buffering_hints)).unwrap_or(Value::Null),
    );
    m.entry("CloudWatchLoggingOptions")
        .or_insert_with(|| json!({"Enabled": false}));
    m.entry("RequestConfiguration")
        .or_insert_with(|| json!({"ContentEncoding": "NONE"}));
    m.entry("RetryOptions")
        .or_insert_with(|| json!({"DurationInSeconds": 300}));
    m.entry("S3BackupMode")
        .or_insert_with(|| json!("FailedDataOnly"));
    m.remove("S3Configuration");
    if let Some(s3) = &d.s3_configuration {
        m.insert(
            "S3DestinationDescription".into(),
            Value::Object(s3_common(s3)),
        );
    }
    m
}

/// The description of `stream` as DescribeDeliveryStream answers it.
pub fn describe(stream: &DeliveryStream) -> Description {
    let meta = stream.meta.lock();
    let mut destination = Map::new();
    destination.insert("DestinationId".into(), json!(DESTINATION_ID));
    match &meta.destination {
        Destination::S3(d) => {
            destination.insert(
                "S3DestinationDescription".into(),
                Value::Object(s3_common(d)),
            );
            destination.insert(
                "ExtendedS3DestinationDescription".into(),
                Value::Object(extended(d)),
            );
        }
        Destination::Http(d) => {
            destination.insert(
                "HttpEndpointDestinationDescription".into(),
                Value::Object(http(d)),
            );
        }
    }
    let source = match &meta.source {
        Source::DirectPut => None,
        Source::Kinesis {
            stream_arn,
            role_arn,
            start_ms,
        } => Some(SourceDescription {
            kinesis_stream_source_description: Some(KinesisSourceDescription {
                kinesis_stream_arn: stream_arn.clone(),
                role_arn: role_arn.clone(),
                delivery_start_timestamp: Timestamp(*start_ms),
            }),
            direct_put_source_description: None,
        }),
    };
    Description {
        delivery_stream_name: stream.name.clone(),
        delivery_stream_arn: stream.arn.clone(),
        delivery_stream_status: meta.status.as_str(),
        delivery_stream_encryption_configuration: meta.encryption.clone(),
        delivery_stream_type: meta.source.type_name(),
        version_id: meta.version.to_string(),
        create_timestamp: Timestamp(stream.created_ms),
        last_update_timestamp: meta.updated_ms.map(Timestamp),
        source,
        destinations: vec![Value::Object(destination)],
        has_more_destinations: false,
    }
}
