//! `StreamPolicy`: an IAM managed policy granting access to Kinesis streams, optionally
//! attached to roles.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shared::{
    CommonStatus, DeletionPolicy, ObjectReference, REGION_PATTERN, STREAM_ARN_PATTERN, Tags,
};

/// Desired state of an IAM managed policy for Kinesis streams.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "kinesis.operator.dev",
    version = "v1alpha1",
    kind = "StreamPolicy",
    namespaced,
    status = "StreamPolicyStatus",
    shortname = "kpol",
    category = "kinesis",
    doc = "An IAM managed policy granting access to Kinesis data streams, created and kept matching this spec by kinesis-operator.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.defaultVersionId"),
    printcolumn(name = "Roles", type_ = "string", json_path = ".status.attachedRoles"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.arn", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("(has(self.spec.policyName) ? self.spec.policyName : self.metadata.name) == (has(oldSelf.spec.policyName) ? oldSelf.spec.policyName : oldSelf.metadata.name)")
        .message("spec.policyName is immutable: IAM cannot rename a policy; create a new StreamPolicy for the new name")
        .field_path(".spec.policyName"),
    validation = Rule::new("has(self.spec.policyName) || size(self.metadata.name) <= 128")
        .message("spec.policyName: metadata.name is longer than the 128 characters IAM allows in a policy name; set spec.policyName")
        .field_path(".spec.policyName")
)]
#[x_kube(
    validation = Rule::new("has(self.region) == has(oldSelf.region) && (!has(self.region) || self.region == oldSelf.region)")
        .message("spec.region is immutable: it cannot be added, changed or removed after creation; create a new StreamPolicy")
        .field_path(".region"),
    validation = Rule::new("has(self.statements) != has(self.document)")
        .message("spec: set exactly one of statements (rendered by the operator) or document (a raw IAM policy)"),
    validation = Rule::new("self.path == oldSelf.path")
        .message("spec.path is immutable: IAM cannot move a policy; create a new StreamPolicy")
        .field_path(".path"),
    validation = Rule::new("has(self.description) == has(oldSelf.description) && (!has(self.description) || self.description == oldSelf.description)")
        .message("spec.description is immutable: IAM cannot change a policy's description; create a new StreamPolicy")
        .field_path(".description")
)]
#[serde(rename_all = "camelCase")]
pub struct StreamPolicySpec {
    /// Name of the IAM policy: 1-128 characters of `a-z A-Z 0-9 + = , . @ _ -`. Defaults to
    /// `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[\w+=,.@-]+$"))]
    pub policy_name: Option<String>,

    /// IAM path of the policy, such as `/` (default) or `/streaming/`. Immutable.
    #[serde(default = "default_path")]
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^/([\x21-\x7E]*/)?$"))]
    pub path: String,

    /// Description of the policy (at most 1000 characters). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,

    /// IAM is global: the region only selects the endpoint used, and is the default region of
    /// streams named by `streamRef` whose ARN is not known yet. Defaults to the operator's
    /// region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = REGION_PATTERN))]
    pub region: Option<String>,

    /// Grants rendered by the operator into a least-privilege policy document. Access levels
    /// map to actions as follows. `Read`: kinesis:GetRecords, GetShardIterator, DescribeStream,
    /// DescribeStreamSummary, ListShards, SubscribeToShard, DescribeStreamConsumer,
    /// ListStreamConsumers. `Write`: kinesis:PutRecord, PutRecords. `Describe`:
    /// kinesis:DescribeStream, DescribeStreamSummary, ListShards, ListTagsForStream,
    /// DescribeStreamConsumer, ListStreamConsumers. `Admin`: every `kinesis:*` action on the
    /// stream. SubscribeToShard and DescribeStreamConsumer are granted on the stream's
    /// consumers (`<stream ARN>/consumer/*`), the resource IAM checks them against; the others
    /// on the stream ARN. The same grants always render the same document, whatever their
    /// order. Exactly one of `statements` or `document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub statements: Option<Vec<PolicyStatement>>,

    /// A raw IAM policy JSON document, used as is. Compared semantically with AWS. Exactly
    /// one of `statements` or `document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 6144))]
    pub document: Option<String>,

    /// Names of IAM roles to attach the policy to: it is attached to exactly these, and
    /// detached from any other role (whoever attached it there). A role that does not exist
    /// is reported as `Stalled` (reason `RoleNotFound`) and attached once it exists. On
    /// deletion the policy is detached from every role first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"), length(max = 100), inner(length(min = 1, max = 64), regex(pattern = r"^[\w+=,.@-]+$")))]
    pub attach_to_roles: Vec<String>,

    /// What happens to the policy when this object is deleted: `Delete` (default) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// When true, a policy of this name that this object did not create is taken over and
    /// converged to this spec. When false (default) it is reported as `Stalled` with reason
    /// `AlreadyExists`.
    #[serde(default)]
    pub adopt: bool,

    /// Tags of the policy (at most 48; the operator adds its two ownership tags).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

fn default_path() -> String {
    "/".to_owned()
}

/// One grant: access levels on a set of streams.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyStatement {
    /// The streams the grant covers.
    #[schemars(length(min = 1, max = 100))]
    pub streams: Vec<StreamTarget>,
    /// What the grant allows: any of `Read`, `Write`, `Describe`, `Admin`.
    #[schemars(extend("x-kubernetes-list-type" = "set"), length(min = 1, max = 4))]
    pub access: Vec<AccessLevel>,
}

/// A stream named by a reference to a KinesisStream of this API or by its ARN.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.streamRef) != has(self.streamARN)")
    .message("spec.statements[].streams[]: set exactly one of streamRef or streamARN"))]
#[serde(rename_all = "camelCase")]
pub struct StreamTarget {
    /// A KinesisStream object; the policy waits until it is Ready and uses its ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_ref: Option<ObjectReference>,
    /// ARN of a stream, such as `arn:aws:kinesis:us-west-2:123456789012:stream/MyStream`.
    #[serde(rename = "streamARN", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = STREAM_ARN_PATTERN))]
    pub stream_arn: Option<String>,
}

/// An access level on a stream.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum AccessLevel {
    /// Read records: GetRecords, GetShardIterator, DescribeStream, DescribeStreamSummary,
    /// ListShards, SubscribeToShard, DescribeStreamConsumer, ListStreamConsumers.
    Read,
    /// Write records: PutRecord, PutRecords.
    Write,
    /// Describe the stream: DescribeStream, DescribeStreamSummary, ListShards,
    /// ListTagsForStream, DescribeStreamConsumer, ListStreamConsumers.
    Describe,
    /// Every Kinesis action on the stream.
    Admin,
}

/// Observed state of an IAM managed policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StreamPolicyStatus {
    /// ARN, observed generation and conditions.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The policy version IAM uses, such as `v3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    /// Roles the policy is attached to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_roles: Vec<String>,
    /// The policy document in force, as rendered from `statements` or given in `document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered_document: Option<String>,
}
