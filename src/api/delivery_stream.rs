//! `DeliveryStream`: an Amazon Data Firehose delivery stream.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shared::{
    BUCKET_ARN_PATTERN, CommonStatus, DeletionPolicy, KMS_KEY_ARN_PATTERN, ObjectReference,
    REGION_PATTERN, ROLE_ARN_PATTERN, STREAM_ARN_PATTERN, SecretKeyReference, Tags,
};

/// Desired state of a Firehose delivery stream.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "kinesis.operator.dev",
    version = "v1alpha1",
    kind = "DeliveryStream",
    namespaced,
    status = "DeliveryStreamStatus",
    shortname = "kdf",
    category = "kinesis",
    doc = "An Amazon Data Firehose delivery stream, created and kept matching this spec by kinesis-operator.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.deliveryStreamStatus"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.versionId"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.arn", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("(has(self.spec.deliveryStreamName) ? self.spec.deliveryStreamName : self.metadata.name) == (has(oldSelf.spec.deliveryStreamName) ? oldSelf.spec.deliveryStreamName : oldSelf.metadata.name)")
        .message("spec.deliveryStreamName is immutable: a delivery stream cannot be renamed; create a new DeliveryStream for the new name")
        .field_path(".spec.deliveryStreamName"),
    validation = Rule::new("has(self.spec.deliveryStreamName) || size(self.metadata.name) <= 64")
        .message("spec.deliveryStreamName: metadata.name is longer than the 64 characters AWS allows in a delivery stream name; set spec.deliveryStreamName")
        .field_path(".spec.deliveryStreamName")
)]
#[x_kube(
    validation = Rule::new("has(self.region) == has(oldSelf.region) && (!has(self.region) || self.region == oldSelf.region)")
        .message("spec.region is immutable: it cannot be added, changed or removed after creation; create a new DeliveryStream in the other region")
        .field_path(".region"),
    validation = Rule::new("!has(self.encryption) || has(self.source.directPut)")
        .message("spec.encryption applies to DirectPut delivery streams only (a stream source is encrypted by its KinesisStream); remove spec.encryption")
        .field_path(".encryption")
)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStreamSpec {
    /// Name of the delivery stream in AWS: 1-64 characters of `a-z A-Z 0-9 _ . -`. Defaults to
    /// `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[a-zA-Z0-9_.-]+$"))]
    pub delivery_stream_name: Option<String>,

    /// AWS region of the delivery stream, such as `us-west-2`. Defaults to the operator's
    /// region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = REGION_PATTERN))]
    pub region: Option<String>,

    /// Where records come from: `directPut` (producers call PutRecord/PutRecordBatch, the
    /// default) or `kinesisStream` (Firehose reads a Kinesis data stream). Immutable.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf")
        .message("spec.source is immutable: AWS cannot change a delivery stream's source; create a new DeliveryStream"))]
    pub source: DeliverySource,

    /// Where records are delivered: exactly one of `s3` or `httpEndpoint`.
    pub destination: Destination,

    /// Server-side encryption of buffered records (DirectPut only). Absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<DeliveryEncryption>,

    /// What happens to the delivery stream when this object is deleted: `Delete` (default) or
    /// `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// When true, a delivery stream of this name that this object did not create is taken
    /// over and converged to this spec. When false (default) it is reported as `Stalled` with
    /// reason `AlreadyExists`.
    #[serde(default)]
    pub adopt: bool,

    /// Tags of the delivery stream (at most 48; the operator adds its two ownership tags).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// The source of a delivery stream: exactly one of `directPut` or `kinesisStream`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.directPut) != has(self.kinesisStream)")
    .message("spec.source: set exactly one of directPut or kinesisStream"))]
#[serde(rename_all = "camelCase")]
pub struct DeliverySource {
    /// Producers write to the delivery stream directly (PutRecord, PutRecordBatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_put: Option<DirectPut>,
    /// Firehose reads records from a Kinesis data stream (KinesisStreamAsSource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_stream: Option<KinesisStreamSource>,
}

impl Default for DeliverySource {
    fn default() -> Self {
        Self {
            direct_put: Some(DirectPut {}),
            kinesis_stream: None,
        }
    }
}

/// DirectPut source; it has no settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct DirectPut {}

/// A Kinesis data stream as the source: a `streamRef` to a KinesisStream of this API (the
/// delivery stream waits until it is Ready) or a `streamARN`, and the role Firehose assumes to
/// read it.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.streamRef) != has(self.streamARN)")
    .message("spec.source.kinesisStream: set exactly one of streamRef or streamARN"))]
#[serde(rename_all = "camelCase")]
pub struct KinesisStreamSource {
    /// The KinesisStream object to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_ref: Option<ObjectReference>,
    /// ARN of the data stream to read, for a stream not managed by this API.
    #[serde(rename = "streamARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = STREAM_ARN_PATTERN))]
    pub stream_arn: Option<String>,
    /// ARN of the IAM role Firehose assumes to read the stream.
    #[serde(rename = "roleARN")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: String,
}

/// The destination of a delivery stream: exactly one of `s3` or `httpEndpoint`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.s3) != has(self.httpEndpoint)")
    .message("spec.destination: set exactly one of s3 or httpEndpoint"))]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// Amazon S3 (ExtendedS3DestinationConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Destination>,
    /// An HTTP endpoint (HttpEndpointDestinationConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_endpoint: Option<HttpEndpointDestination>,
}

/// Delivery to an S3 bucket.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("self.backupMode != 'Enabled' || has(self.backup)")
    .message("spec.destination.s3.backup is required when backupMode is Enabled: name the bucket that receives the source records")
    .field_path(".backup"))]
#[serde(rename_all = "camelCase")]
pub struct S3Destination {
    /// ARN of the bucket, such as `arn:aws:s3:::my-bucket`.
    #[serde(rename = "bucketARN")]
    #[schemars(regex(pattern = BUCKET_ARN_PATTERN))]
    pub bucket_arn: String,
    /// ARN of the IAM role Firehose assumes to write to the bucket.
    #[serde(rename = "roleARN")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: String,
    /// Prefix of the object keys, such as `kinesis-data/`. Firehose appends
    /// `YYYY/MM/DD/HH/` and the object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub prefix: Option<String>,
    /// Prefix of the object keys of records that failed delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub error_output_prefix: Option<String>,
    /// Compression of the delivered objects.
    #[serde(default)]
    pub compression: Compression,
    /// When Firehose flushes its buffer to S3: whichever of size or interval comes first.
    #[serde(default)]
    pub buffering_hints: S3BufferingHints,
    /// ARN of a KMS key to encrypt delivered objects with; absent means no encryption.
    #[serde(rename = "kmsKeyARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = KMS_KEY_ARN_PATTERN))]
    pub kms_key_arn: Option<String>,
    /// `Enabled` also copies every source record, untransformed, to `backup`.
    #[serde(default)]
    pub backup_mode: S3BackupMode,
    /// Where source records are copied when `backupMode` is Enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<S3Backup>,
}

/// Compression of objects written to S3.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    #[default]
    #[serde(rename = "UNCOMPRESSED")]
    Uncompressed,
    /// gzip.
    #[serde(rename = "GZIP")]
    Gzip,
    /// ZIP.
    #[serde(rename = "ZIP")]
    Zip,
    /// Snappy framing format.
    Snappy,
    /// Hadoop-compatible Snappy.
    #[serde(rename = "HADOOP_SNAPPY")]
    HadoopSnappy,
}

/// Buffering of an S3 destination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3BufferingHints {
    /// Buffer size in MiB before a flush: 1-128 (AWS default 5).
    #[serde(default = "default_s3_buffer_size")]
    #[schemars(range(min = 1, max = 128))]
    pub size_in_m_bs: i32,
    /// Seconds before a flush: 0-900 (AWS default 300).
    #[serde(default = "default_buffer_interval")]
    #[schemars(range(min = 0, max = 900))]
    pub interval_in_seconds: i32,
}

impl Default for S3BufferingHints {
    fn default() -> Self {
        Self {
            size_in_m_bs: default_s3_buffer_size(),
            interval_in_seconds: default_buffer_interval(),
        }
    }
}

fn default_s3_buffer_size() -> i32 {
    5
}

fn default_buffer_interval() -> i32 {
    300
}

/// Whether source records are also copied to a backup bucket.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum S3BackupMode {
    /// No backup copy.
    #[default]
    Disabled,
    /// Copy every source record to `backup`.
    Enabled,
}

/// A bucket receiving copies of source records.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3Backup {
    /// ARN of the backup bucket.
    #[serde(rename = "bucketARN")]
    #[schemars(regex(pattern = BUCKET_ARN_PATTERN))]
    pub bucket_arn: String,
    /// ARN of the IAM role Firehose assumes to write the copies; defaults to the destination's
    /// role.
    #[serde(rename = "roleARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: Option<String>,
    /// Prefix of the backup object keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub prefix: Option<String>,
}

/// Delivery to an HTTP endpoint, with an S3 bucket for records that cannot be delivered.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HttpEndpointDestination {
    /// HTTPS URL records are POSTed to.
    #[schemars(length(min = 1, max = 1000), regex(pattern = r"^https://.+$"))]
    pub url: String,
    /// Display name of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
    /// Secret key holding the access key Firehose sends in the `X-Amz-Firehose-Access-Key`
    /// header, in the DeliveryStream's namespace. Read by the operator at reconcile time;
    /// never written to status or events. A changed Secret is sent to AWS at the next
    /// reconcile (within the resync interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret_ref: Option<SecretKeyReference>,
    /// When Firehose flushes its buffer to the endpoint.
    #[serde(default)]
    pub buffering_hints: HttpBufferingHints,
    /// ARN of the IAM role Firehose assumes for the delivery and the S3 backup.
    #[serde(rename = "roleARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: Option<String>,
    /// The S3 bucket receiving records that could not be delivered (or all records).
    pub s3_backup: HttpS3Backup,
}

/// Buffering of an HTTP endpoint destination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HttpBufferingHints {
    /// Buffer size in MiB before a flush: 1-64 (AWS default 5).
    #[serde(default = "default_s3_buffer_size")]
    #[schemars(range(min = 1, max = 64))]
    pub size_in_m_bs: i32,
    /// Seconds before a flush: 0-900 (AWS default 300).
    #[serde(default = "default_buffer_interval")]
    #[schemars(range(min = 0, max = 900))]
    pub interval_in_seconds: i32,
}

impl Default for HttpBufferingHints {
    fn default() -> Self {
        Self {
            size_in_m_bs: default_s3_buffer_size(),
            interval_in_seconds: default_buffer_interval(),
        }
    }
}

/// The S3 bucket behind an HTTP endpoint destination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HttpS3Backup {
    /// ARN of the bucket.
    #[serde(rename = "bucketARN")]
    #[schemars(regex(pattern = BUCKET_ARN_PATTERN))]
    pub bucket_arn: String,
    /// ARN of the IAM role Firehose assumes to write to the bucket.
    #[serde(rename = "roleARN")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: String,
    /// Prefix of the object keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub prefix: Option<String>,
    /// `FailedDataOnly` (default) or `AllData`.
    #[serde(default)]
    pub mode: HttpBackupMode,
}

/// Which records an HTTP endpoint destination copies to S3.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum HttpBackupMode {
    /// Only records the endpoint did not accept.
    #[default]
    FailedDataOnly,
    /// Every record.
    AllData,
}

/// Server-side encryption of a DirectPut delivery stream.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("(self.keyType == 'CUSTOMER_MANAGED_CMK') == has(self.keyARN)")
    .message("spec.encryption.keyARN is required with keyType CUSTOMER_MANAGED_CMK and not allowed with AWS_OWNED_CMK"))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryEncryption {
    /// `AWS_OWNED_CMK` (default) or `CUSTOMER_MANAGED_CMK`.
    #[serde(default)]
    pub key_type: DeliveryKeyType,
    /// ARN of the customer-managed KMS key.
    #[serde(rename = "keyARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = KMS_KEY_ARN_PATTERN))]
    pub key_arn: Option<String>,
}

/// Owner of the KMS key encrypting a delivery stream.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeliveryKeyType {
    /// A key AWS owns and manages.
    #[default]
    #[serde(rename = "AWS_OWNED_CMK")]
    AwsOwned,
    /// A key in your account, named by `keyARN`.
    #[serde(rename = "CUSTOMER_MANAGED_CMK")]
    CustomerManaged,
}

/// Observed state of a Firehose delivery stream.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStreamStatus {
    /// ARN, observed generation and conditions.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// AWS status: CREATING, ACTIVE, DELETING, CREATING_FAILED or DELETING_FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_stream_status: Option<String>,
    /// Version of the delivery stream's configuration, used by UpdateDestination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// ID of the destination, used by UpdateDestination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_id: Option<String>,
    /// The `resourceVersion` of the access key Secret last sent to AWS (never the key): a
    /// Secret changed since is sent again with UpdateDestination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret_version: Option<String>,
    /// ARN of the Kinesis data stream the delivery stream reads, as Firehose reports it
    /// (absent for Direct PUT).
    #[serde(
        default,
        rename = "sourceStreamARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_stream_arn: Option<String>,
}
