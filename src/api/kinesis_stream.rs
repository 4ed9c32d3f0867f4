//! `KinesisStream`: an Amazon Kinesis data stream.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shared::{CommonStatus, DeletionPolicy, REGION_PATTERN, Tags};

/// Desired state of a Kinesis data stream.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "kinesis.operator.dev",
    version = "v1alpha1",
    kind = "KinesisStream",
    namespaced,
    status = "KinesisStreamStatus",
    shortname = "kst",
    category = "kinesis",
    doc = "An Amazon Kinesis data stream, created and kept matching this spec by kinesis-operator.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.streamStatus"),
    printcolumn(name = "Mode", type_ = "string", json_path = ".status.mode"),
    printcolumn(name = "Shards", type_ = "integer", json_path = ".status.openShardCount"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.arn", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("(has(self.spec.streamName) ? self.spec.streamName : self.metadata.name) == (has(oldSelf.spec.streamName) ? oldSelf.spec.streamName : oldSelf.metadata.name)")
        .message("spec.streamName is immutable: a stream cannot be renamed; create a new KinesisStream for the new name")
        .field_path(".spec.streamName"),
    validation = Rule::new("has(self.spec.streamName) || size(self.metadata.name) <= 128")
        .message("spec.streamName: metadata.name is longer than the 128 characters AWS allows in a stream name; set spec.streamName")
        .field_path(".spec.streamName")
)]
#[x_kube(
    validation = Rule::new("has(self.region) == has(oldSelf.region) && (!has(self.region) || self.region == oldSelf.region)")
        .message("spec.region is immutable: it cannot be added, changed or removed after creation; create a new KinesisStream in the other region")
        .field_path(".region"),
    validation = Rule::new("self.mode != 'OnDemand' || !has(self.shardCount)")
        .message("spec.shardCount must not be set when spec.mode is OnDemand (AWS sizes on-demand streams itself); remove spec.shardCount")
        .field_path(".shardCount"),
    validation = Rule::new("self.mode == 'OnDemand' || has(self.shardCount)")
        .message("spec.shardCount is required when spec.mode is Provisioned; set it to the number of shards (at least 1)")
        .field_path(".shardCount"),
    validation = Rule::new("!has(self.warmThroughputMiBps) || self.mode == 'OnDemand'")
        .message("spec.warmThroughputMiBps applies to OnDemand streams only; remove it or set spec.mode to OnDemand")
        .field_path(".warmThroughputMiBps")
)]
#[serde(rename_all = "camelCase")]
pub struct KinesisStreamSpec {
    /// Name of the stream in AWS: 1-128 characters of `a-z A-Z 0-9 _ . -`. Defaults to
    /// `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[a-zA-Z0-9_.-]+$"))]
    pub stream_name: Option<String>,

    /// AWS region of the stream, such as `us-west-2`. Defaults to the operator's region.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = REGION_PATTERN))]
    pub region: Option<String>,

    /// Capacity mode: `Provisioned` (you choose `shardCount`) or `OnDemand` (AWS scales).
    /// AWS allows two mode switches per stream per rolling 24 hours.
    #[serde(default)]
    pub mode: StreamMode,

    /// Number of open shards. Required when `mode` is Provisioned, forbidden when OnDemand.
    /// Changes are applied by UpdateShardCount in steps that at most double or halve the shard
    /// count (AWS's rule), at most 10 steps per rolling 24 hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100000))]
    pub shard_count: Option<i32>,

    /// How long records stay readable, in hours: 24 (one day) to 8760 (365 days).
    #[serde(default = "default_retention")]
    #[schemars(range(min = 24, max = 8760))]
    pub retention_period_hours: i32,

    /// Server-side encryption with a KMS key. Absent means no encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<StreamEncryption>,

    /// Shard-level CloudWatch metrics to enable (enhanced monitoring). `ALL` enables every
    /// metric and must then be the only entry. Empty disables enhanced monitoring.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(validation = Rule::new("!('ALL' in self) || size(self) == 1")
        .message("spec.shardLevelMetrics: ALL already enables every metric; list ALL alone or name the metrics"))]
    #[schemars(extend("x-kubernetes-list-type" = "set"), length(max = 8))]
    pub shard_level_metrics: Vec<ShardLevelMetric>,

    /// Largest record the stream accepts, in KiB: 1024 (1 MiB, AWS's default) to 10240 (10 MiB).
    #[serde(default = "default_max_record_size")]
    #[schemars(range(min = 1024, max = 10240))]
    pub max_record_size_in_ki_b: i32,

    /// Warm throughput in MiB/s that an OnDemand stream keeps ready. OnDemand only. AWS
    /// requires the account's minimum throughput billing commitment; without it AWS's error is
    /// reported in the Stalled condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub warm_throughput_mi_bps: Option<i32>,

    /// Enhanced fan-out consumers to register (at most 20 per stream). Names removed from the
    /// list are deregistered; consumers registered by others are left alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"), length(max = 20), inner(length(min = 1, max = 128), regex(pattern = r"^[a-zA-Z0-9_.-]+$")))]
    pub consumers: Vec<String>,

    /// Resource-based policy of the stream, as an IAM policy JSON document. Compared
    /// semantically with AWS (key order and single-vs-list values are not drift). Absent
    /// means no resource policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20480))]
    pub resource_policy: Option<String>,

    /// What happens to the stream when this object is deleted: `Delete` (default) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// When true, a stream of this name that this object did not create is taken over and
    /// converged to this spec. When false (default) such a stream is reported as
    /// `Stalled` with reason `AlreadyExists` and left alone.
    #[serde(default)]
    pub adopt: bool,

    /// Tags of the stream (at most 48; the operator adds its two ownership tags). This is the
    /// stream's whole tag set: other tags found on the stream are removed, except AWS's own
    /// `aws:` tags.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

fn default_retention() -> i32 {
    24
}

fn default_max_record_size() -> i32 {
    1024
}

/// Capacity mode of a stream.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum StreamMode {
    /// A fixed number of shards, set by `shardCount`.
    #[default]
    Provisioned,
    /// AWS scales the shards with the traffic.
    OnDemand,
}

/// Server-side encryption of a stream's records at rest.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StreamEncryption {
    /// Encryption type; `KMS` is the only one AWS offers.
    #[serde(rename = "type", default)]
    pub type_: EncryptionType,
    /// The KMS key: a key ID, key ARN, alias name (`alias/...`) or alias ARN. Use
    /// `alias/aws/kinesis` for the AWS-managed key.
    #[schemars(length(min = 1, max = 2048))]
    pub key_id: String,
}

/// Kind of server-side encryption.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum EncryptionType {
    /// AWS KMS.
    #[default]
    #[serde(rename = "KMS")]
    Kms,
}

/// A shard-level CloudWatch metric.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum ShardLevelMetric {
    /// Bytes put to the shard.
    IncomingBytes,
    /// Records put to the shard.
    IncomingRecords,
    /// Bytes read from the shard.
    OutgoingBytes,
    /// Records read from the shard.
    OutgoingRecords,
    /// Writes refused for exceeding the shard's throughput.
    WriteProvisionedThroughputExceeded,
    /// Reads refused for exceeding the shard's throughput.
    ReadProvisionedThroughputExceeded,
    /// Age of the last record read from the shard.
    IteratorAgeMilliseconds,
    /// Every metric above.
    #[serde(rename = "ALL")]
    All,
}

/// Observed state of a Kinesis data stream.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KinesisStreamStatus {
    /// ARN, observed generation and conditions.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// AWS status of the stream: CREATING, ACTIVE, UPDATING or DELETING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_status: Option<String>,
    /// Number of open shards AWS reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_shard_count: Option<i32>,
    /// Capacity mode AWS reports: Provisioned or OnDemand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<StreamMode>,
    /// Retention period AWS reports, in hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_period_hours: Option<i32>,
    /// Encryption type AWS reports: NONE or KMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
    /// Largest record size AWS reports, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_record_size_in_ki_b: Option<i32>,
    /// Registered enhanced fan-out consumers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerStatus>,
    /// Progress of a re-sharding route, present while one is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingStatus>,
    /// Warm throughput target AWS reports, in MiB/s (OnDemand streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput_mi_bps: Option<i32>,
    /// When the operator called UpdateShardCount on this stream during the last 24 hours,
    /// oldest first: AWS allows 10 calls per stream per rolling 24 hours, so this is the
    /// budget already spent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shard_count_updates: Vec<Time>,
}

/// An enhanced fan-out consumer as AWS reports it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerStatus {
    /// Consumer name.
    pub name: String,
    /// Consumer ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// CREATING, ACTIVE or DELETING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A re-sharding route in progress: AWS lets one UpdateShardCount at most double or halve the
/// open shards, so larger changes go through intermediate counts.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingStatus {
    /// Open shard count when the route started.
    pub from: i32,
    /// Target open shard count.
    pub to: i32,
    /// Shard counts still to reach, in order; the last one is `to`.
    #[serde(default)]
    pub steps: Vec<i32>,
    /// When AWS's budget of 10 UpdateShardCount calls per rolling 24 hours is spent: the time
    /// the next step becomes possible (the route continues by itself then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step_after: Option<Time>,
}
