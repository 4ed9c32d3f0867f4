//! Firehose wire shapes (`Firehose_20150804`), named as the AWS model names them.
//!
//! Destination configurations are stored as received (the same structs are the stored state and
//! the base of the descriptions), so members the emulator does not act on (processing, data
//! format conversion, CloudWatch logging...) are kept as opaque JSON and described back as sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::emulator::protocol::{Blob, Timestamp};

/// An opaque structure kept and described back as sent.
pub type Opaque = Option<Value>;

/// `BufferingHints` / `HttpEndpointBufferingHints`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct BufferingHints {
    /// Megabytes (MiB) buffered before a delivery.
    #[serde(rename = "SizeInMBs", skip_serializing_if = "Option::is_none")]
    pub size_in_mbs: Option<i64>,
    /// Seconds buffered before a delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_in_seconds: Option<i64>,
}

/// `S3DestinationConfiguration` and `ExtendedS3DestinationConfiguration` (the second adds
/// members; one struct keeps both, as AWS describes an S3 destination in both forms).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Destination {
    /// Role Firehose assumes.
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `arn:aws:s3:::bucket`.
    #[serde(rename = "BucketARN", skip_serializing_if = "Option::is_none")]
    pub bucket_arn: Option<String>,
    /// Key prefix (with optional `!{...}` expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Key prefix of failed records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output_prefix: Option<String>,
    /// Size and interval buffering hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    /// `UNCOMPRESSED | GZIP | ZIP | Snappy | HADOOP_SNAPPY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_format: Option<String>,
    /// `NoEncryptionConfig` / `KMSEncryptionConfig`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Opaque,
    /// CloudWatch logging options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Opaque,
    /// Lambda processing (kept, not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Opaque,
    /// `Disabled | Enabled` (extended only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    /// Source-record backup (extended only, kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_configuration: Opaque,
    /// Format conversion (kept, not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_format_conversion_configuration: Opaque,
    /// Dynamic partitioning (kept, not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_partitioning_configuration: Opaque,
    /// Object name extension replacing the compression's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_extension: Option<String>,
    /// Time zone of prefix timestamps (kept; keys use UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_time_zone: Option<String>,
}

/// `HttpEndpointConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointConfiguration {
    /// `https://...` endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sent as `X-Amz-Firehose-Access-Key`; never described back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

/// `HttpEndpointCommonAttribute`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonAttribute {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_name: Option<String>,
    /// Value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_value: Option<String>,
}

/// `HttpEndpointRequestConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestConfiguration {
    /// `NONE | GZIP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Sent in `X-Amz-Firehose-Common-Attributes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_attributes: Option<Vec<CommonAttribute>>,
}

/// `HttpEndpointRetryOptions`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryOptions {
    /// How long failed requests are retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
}

/// `HttpEndpointDestinationConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpDestination {
    /// Where records are POSTed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<HttpEndpointConfiguration>,
    /// Buffering hints (1..100 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    /// CloudWatch logging options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Opaque,
    /// Content encoding and common attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_configuration: Option<RequestConfiguration>,
    /// Lambda processing (kept, not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Opaque,
    /// Role Firehose assumes.
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Retry window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_options: Option<RetryOptions>,
    /// `FailedDataOnly | AllData`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    /// The backup bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_configuration: Option<S3Destination>,
    /// Changes to the backup bucket (`HttpEndpointDestinationUpdate` only; merged into
    /// `s3_configuration`, never stored).
    #[serde(rename = "S3Update", skip_serializing)]
    pub s3_update: Option<S3Destination>,
    /// Secrets Manager (kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets_manager_configuration: Opaque,
}

/// `KinesisStreamSourceConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisSourceConfiguration {
    /// Source stream.
    #[serde(rename = "KinesisStreamARN")]
    pub kinesis_stream_arn: Option<String>,
    /// Role Firehose assumes to read it.
    #[serde(rename = "RoleARN")]
    pub role_arn: Option<String>,
}

/// `DeliveryStreamEncryptionConfigurationInput`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionInput {
    /// KMS key (required for `CUSTOMER_MANAGED_CMK`).
    #[serde(rename = "KeyARN")]
    pub key_arn: Option<String>,
    /// `AWS_OWNED_CMK | CUSTOMER_MANAGED_CMK`.
    pub key_type: Option<String>,
}

/// `Tag`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: Option<String>,
    /// Value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `CreateDeliveryStreamInput`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    /// Name.
    pub delivery_stream_name: Option<String>,
    /// `DirectPut | KinesisStreamAsSource` (others are refused).
    pub delivery_stream_type: Option<String>,
    /// Kinesis source.
    pub kinesis_stream_source_configuration: Option<KinesisSourceConfiguration>,
    /// Server-side encryption.
    pub delivery_stream_encryption_configuration_input: Option<EncryptionInput>,
    /// Deprecated S3 destination.
    pub s3_destination_configuration: Option<S3Destination>,
    /// Extended S3 destination.
    pub extended_s3_destination_configuration: Option<S3Destination>,
    /// HTTP endpoint destination.
    pub http_endpoint_destination_configuration: Option<HttpDestination>,
    /// Destinations the emulator does not deliver to.
    pub redshift_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub elasticsearch_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub amazonopensearchservice_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub splunk_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub snowflake_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub iceberg_destination_configuration: Opaque,
    /// See `redshift_destination_configuration`.
    pub amazon_open_search_serverless_destination_configuration: Opaque,
    /// MSK source (refused).
    #[serde(rename = "MSKSourceConfiguration")]
    pub msk_source_configuration: Opaque,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
}

/// `CreateDeliveryStreamOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateOutput {
    /// ARN of the new stream.
    #[serde(rename = "DeliveryStreamARN")]
    pub delivery_stream_arn: String,
}

/// An input naming one delivery stream (Describe, Delete, encryption, tags).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamedInput {
    /// Name.
    pub delivery_stream_name: Option<String>,
    /// DescribeDeliveryStream: page size of destinations.
    pub limit: Option<i64>,
    /// DescribeDeliveryStream: destination to start after.
    pub exclusive_start_destination_id: Option<String>,
    /// DeleteDeliveryStream.
    pub allow_force_delete: Option<bool>,
    /// StartDeliveryStreamEncryption.
    pub delivery_stream_encryption_configuration_input: Option<EncryptionInput>,
    /// TagDeliveryStream.
    pub tags: Option<Vec<Tag>>,
    /// UntagDeliveryStream.
    pub tag_keys: Option<Vec<String>>,
    /// ListTagsForDeliveryStream.
    pub exclusive_start_tag_key: Option<String>,
}

/// `ListDeliveryStreamsInput`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    /// Page size (1..10000, default 10).
    pub limit: Option<i64>,
    /// Type filter.
    pub delivery_stream_type: Option<String>,
    /// Name to start after.
    pub exclusive_start_delivery_stream_name: Option<String>,
}

/// `ListDeliveryStreamsOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOutput {
    /// Names, in order.
    pub delivery_stream_names: Vec<String>,
    /// More after these.
    pub has_more_delivery_streams: bool,
}

/// `UpdateDestinationInput`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    /// Name.
    pub delivery_stream_name: Option<String>,
    /// The version the caller last saw.
    pub current_delivery_stream_version_id: Option<String>,
    /// `destinationId-000000000001`.
    pub destination_id: Option<String>,
    /// Deprecated S3 update.
    pub s3_destination_update: Option<S3Destination>,
    /// Extended S3 update.
    pub extended_s3_destination_update: Option<S3Destination>,
    /// HTTP endpoint update.
    pub http_endpoint_destination_update: Option<HttpDestination>,
    /// Destinations the emulator does not deliver to.
    pub redshift_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub elasticsearch_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub amazonopensearchservice_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub splunk_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub snowflake_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub iceberg_destination_update: Opaque,
    /// See `redshift_destination_update`.
    pub amazon_open_search_serverless_destination_update: Opaque,
}

/// `Record`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    /// Payload.
    pub data: Option<Blob>,
}

/// `PutRecordInput` and `PutRecordBatchInput`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    /// Name.
    pub delivery_stream_name: Option<String>,
    /// PutRecord.
    pub record: Option<Record>,
    /// PutRecordBatch.
    pub records: Option<Vec<Record>>,
}

/// `PutRecordOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordOutput {
    /// ID of the record.
    pub record_id: String,
    /// Server-side encryption on.
    pub encrypted: bool,
}

/// `PutRecordBatchResponseEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchEntry {
    /// ID of an accepted record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Why a record was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Message of the refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `PutRecordBatchOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordBatchOutput {
    /// Records refused.
    pub failed_put_count: i64,
    /// Server-side encryption on.
    pub encrypted: bool,
    /// One entry per record, in order.
    pub request_responses: Vec<BatchEntry>,
}

/// `ListTagsForDeliveryStreamOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOutput {
    /// Tags, by key.
    pub tags: Vec<Tag>,
    /// More after these.
    pub has_more_tags: bool,
}

/// `DescribeDeliveryStreamOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeOutput {
    /// The description.
    pub delivery_stream_description: Description,
}

/// `DeliveryStreamDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Description {
    /// Name.
    pub delivery_stream_name: String,
    /// ARN.
    #[serde(rename = "DeliveryStreamARN")]
    pub delivery_stream_arn: String,
    /// `CREATING | ACTIVE | DELETING`.
    pub delivery_stream_status: &'static str,
    /// Server-side encryption.
    pub delivery_stream_encryption_configuration: EncryptionDescription,
    /// `DirectPut | KinesisStreamAsSource`.
    pub delivery_stream_type: &'static str,
    /// Version, incremented by each destination update.
    pub version_id: String,
    /// Creation time.
    pub create_timestamp: Timestamp,
    /// Last destination update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_timestamp: Option<Timestamp>,
    /// Source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceDescription>,
    /// The one destination.
    pub destinations: Vec<Value>,
    /// Always false: a delivery stream has one destination.
    pub has_more_destinations: bool,
}

/// `DeliveryStreamEncryptionConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionDescription {
    /// KMS key.
    #[serde(rename = "KeyARN", skip_serializing_if = "Option::is_none")]
    pub key_arn: Option<String>,
    /// Key type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// `ENABLED | ENABLING | DISABLED | DISABLING`.
    pub status: String,
}

/// `SourceDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceDescription {
    /// Kinesis source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinesis_stream_source_description: Option<KinesisSourceDescription>,
    /// DirectPut source (throughput hint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_put_source_description: Option<Value>,
}

/// `KinesisStreamSourceDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisSourceDescription {
    /// Source stream.
    #[serde(rename = "KinesisStreamARN")]
    pub kinesis_stream_arn: String,
    /// Role.
    #[serde(rename = "RoleARN")]
    pub role_arn: String,
    /// From when records are delivered (the creation time: LATEST).
    pub delivery_start_timestamp: Timestamp,
}

/// An output without members (answered as `{}`).
#[derive(Debug, Serialize)]
pub struct Empty {}
