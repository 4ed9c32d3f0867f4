//! `AnalyticsApplication`: an Amazon Managed Service for Apache Flink application
//! (kinesisanalyticsv2).

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shared::{
    BUCKET_ARN_PATTERN, CommonStatus, DeletionPolicy, ObjectReference, REGION_PATTERN,
    ROLE_ARN_PATTERN, Tags,
};

/// The property group that carries `code.sql` to the application, split into ordered keys
/// `statements.1`, `statements.2`, ... of at most [`SQL_CHUNK_LEN`] characters.
pub const SQL_PROPERTY_GROUP: &str = "kinesis.operator.sql";
/// AWS's cap on the length of one property value.
pub const SQL_CHUNK_LEN: usize = 2048;

/// Desired state of a Managed Service for Apache Flink application.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "kinesis.operator.dev",
    version = "v1alpha1",
    kind = "AnalyticsApplication",
    namespaced,
    status = "AnalyticsApplicationStatus",
    shortname = "kaa",
    category = "kinesis",
    doc = "An Amazon Managed Service for Apache Flink application, created, run and kept matching this spec by kinesis-operator.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.applicationStatus"),
    printcolumn(name = "Runtime", type_ = "string", json_path = ".spec.runtime"),
    printcolumn(name = "Version", type_ = "integer", json_path = ".status.applicationVersionId"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.arn", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("(has(self.spec.applicationName) ? self.spec.applicationName : self.metadata.name) == (has(oldSelf.spec.applicationName) ? oldSelf.spec.applicationName : oldSelf.metadata.name)")
        .message("spec.applicationName is immutable: an application cannot be renamed; create a new AnalyticsApplication for the new name")
        .field_path(".spec.applicationName"),
    validation = Rule::new("has(self.spec.applicationName) || size(self.metadata.name) <= 128")
        .message("spec.applicationName: metadata.name is longer than the 128 characters AWS allows in an application name; set spec.applicationName")
        .field_path(".spec.applicationName")
)]
#[x_kube(
    validation = Rule::new("has(self.region) == has(oldSelf.region) && (!has(self.region) || self.region == oldSelf.region)")
        .message("spec.region is immutable: it cannot be added, changed or removed after creation; create a new AnalyticsApplication in the other region")
        .field_path(".region")
)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsApplicationSpec {
    /// Name of the application in AWS: 1-128 characters of `a-z A-Z 0-9 _ . -`. Defaults to
    /// `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[a-zA-Z0-9_.-]+$"))]
    pub application_name: Option<String>,

    /// AWS region of the application, such as `us-west-2`. Defaults to the operator's region.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = REGION_PATTERN))]
    pub region: Option<String>,

    /// Apache Flink runtime. AWS upgrades in place when this changes to a newer runtime.
    #[serde(default)]
    pub runtime: FlinkRuntime,

    /// ARN of the IAM role the application runs as (reads and writes its streams).
    #[serde(rename = "serviceExecutionRoleARN")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub service_execution_role_arn: String,

    /// The application's code: a JAR or ZIP in S3, Flink SQL, or both (the SQL is then read by
    /// the SQL runner the JAR contains).
    pub code: ApplicationCode,

    /// Runtime properties (EnvironmentProperties): property group ID to a map of key to value.
    /// The group `kinesis.operator.sql` is reserved for `code.sql`.
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub properties: Properties,

    /// Parallelism of the Flink job. Absent means AWS's defaults (parallelism 1, 1 per KPU,
    /// auto scaling on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<Parallelism>,

    /// Checkpointing of the Flink job. Absent means AWS's defaults (on, every 60 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpointing: Option<Checkpointing>,

    /// Snapshots of the application's state (AWS's ApplicationSnapshotConfiguration). Absent
    /// means on, as the AWS console creates applications: stopping takes a snapshot and
    /// starting resumes from the latest one, so a stop and start loses and repeats nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Snapshots>,

    /// KinesisStreams the application reads or writes. The application is created and started
    /// only once all of them are Ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub stream_refs: Vec<ObjectReference>,

    /// `Running` (default) starts the application; `Stopped` stops it.
    #[serde(default)]
    pub desired_state: DesiredState,

    /// What happens to the application when this object is deleted: `Delete` (default) or
    /// `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// When true, an application of this name that this object did not create is taken over
    /// and converged to this spec. When false (default) it is reported as `Stalled` with reason
    /// `AlreadyExists`.
    #[serde(default)]
    pub adopt: bool,

    /// Tags of the application (at most 48; the operator adds its two ownership tags).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Runtime properties: property group ID (1-50 characters, at most 49 groups besides the
/// reserved one) to a map of key (1-2048 characters) to value (1-2048 characters), at most 50
/// per group.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Properties(pub BTreeMap<String, BTreeMap<String, String>>);

impl Properties {
    /// True when no property group is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl JsonSchema for Properties {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Properties".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "Runtime properties (EnvironmentProperties): property group ID to a map of key to value. The group kinesis.operator.sql is reserved for spec.code.sql.",
            "maxProperties": 49,
            "additionalProperties": {
                "type": "object",
                "maxProperties": 50,
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2048},
                "x-kubernetes-validations": [{
                    "rule": "self.all(k, size(k) >= 1 && size(k) <= 2048)",
                    "message": "spec.properties: property keys must be 1-2048 characters"
                }]
            },
            "x-kubernetes-validations": [
                {
                    "rule": "!('kinesis.operator.sql' in self)",
                    "message": "spec.properties: the property group kinesis.operator.sql is reserved for spec.code.sql; rename the group"
                },
                {
                    "rule": "self.all(g, size(g) >= 1 && size(g) <= 50)",
                    "message": "spec.properties: property group IDs must be 1-50 characters"
                }
            ]
        })
    }
}

/// Apache Flink runtimes offered by Managed Service for Apache Flink.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum FlinkRuntime {
    /// Apache Flink 1.15.
    #[serde(rename = "FLINK-1_15")]
    Flink1_15,
    /// Apache Flink 1.18.
    #[serde(rename = "FLINK-1_18")]
    Flink1_18,
    /// Apache Flink 1.19.
    #[serde(rename = "FLINK-1_19")]
    Flink1_19,
    /// Apache Flink 1.20.
    #[default]
    #[serde(rename = "FLINK-1_20")]
    Flink1_20,
    /// Apache Flink 2.2.
    #[serde(rename = "FLINK-2_2")]
    Flink2_2,
    /// Apache Flink 2.3.
    #[serde(rename = "FLINK-2_3")]
    Flink2_3,
}

/// The application's code: at least one of `s3` and `sql`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.s3) || has(self.sql)")
    .message("spec.code: set s3 (a JAR or ZIP), sql (Flink SQL), or both"))]
#[serde(rename_all = "camelCase")]
pub struct ApplicationCode {
    /// A JAR or ZIP in S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Code>,
    /// Flink SQL statements separated by `;`. They travel to the application as the property
    /// group `kinesis.operator.sql` (keys `statements.1`, `statements.2`, ... of at most 2048
    /// characters each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100000))]
    pub sql: Option<String>,
}

/// Application code stored in S3.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3Code {
    /// ARN of the bucket holding the code.
    #[serde(rename = "bucketARN")]
    #[schemars(regex(pattern = BUCKET_ARN_PATTERN))]
    pub bucket_arn: String,
    /// Object key of the JAR or ZIP.
    #[schemars(length(min = 1, max = 1024))]
    pub file_key: String,
    /// Object version, for versioned buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub object_version: Option<String>,
}

/// Parallelism settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Parallelism {
    /// Initial number of parallel tasks.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10000))]
    pub parallelism: i32,
    /// Parallel tasks per Kinesis Processing Unit.
    #[serde(default = "one", rename = "parallelismPerKPU")]
    #[schemars(range(min = 1, max = 8))]
    pub parallelism_per_kpu: i32,
    /// Whether AWS scales parallelism with the load (AWS's default: true).
    #[serde(default = "yes")]
    pub auto_scaling: bool,
}

fn one() -> i32 {
    1
}

/// Checkpointing settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Checkpointing {
    /// Whether the job takes checkpoints.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Milliseconds between checkpoints.
    #[serde(default = "default_checkpoint_interval")]
    #[schemars(range(min = 1))]
    pub interval_millis: i64,
}

fn yes() -> bool {
    true
}

fn default_checkpoint_interval() -> i64 {
    60_000
}

/// Snapshot settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshots {
    /// Whether stopping the application takes a snapshot that the next start resumes from.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl AnalyticsApplicationSpec {
    /// Whether snapshots are on (the default).
    pub fn snapshots_enabled(&self) -> bool {
        self.snapshots.as_ref().is_none_or(|s| s.enabled)
    }
}

/// Whether the application should run.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DesiredState {
    /// Start the application and keep it running.
    #[default]
    Running,
    /// Stop the application (it stays READY and can be started again).
    Stopped,
}

/// Observed state of a Managed Service for Apache Flink application.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsApplicationStatus {
    /// ARN, observed generation and conditions.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// AWS status: READY, STARTING, RUNNING, UPDATING, STOPPING, DELETING, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_status: Option<String>,
    /// Current application version, used by UpdateApplication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_version_id: Option<i64>,
    /// Why the application last failed to start or stopped on its own, in Flink's words
    /// (AWS's operation failure details); absent while it runs as asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}
