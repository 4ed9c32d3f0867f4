//! Types shared by the four kinds: deletion policy, references between objects, tags, conditions
//! and the patterns AWS names and ARNs must match.
//!
//! Validation lives in the schema (patterns, ranges, CEL rules) so that the API server rejects a
//! bad manifest at `kubectl apply` time, before anything reaches AWS.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Pattern of an AWS region name such as `us-west-2` or `us-gov-east-1`.
pub const REGION_PATTERN: &str = r"^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$";
/// Pattern of an IAM role ARN.
pub const ROLE_ARN_PATTERN: &str =
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\x21-\x7E]+/)?[\w+=,.@-]{1,64}$";
/// Pattern of a Kinesis data stream ARN.
pub const STREAM_ARN_PATTERN: &str =
    r"^arn:aws[a-z-]*:kinesis:[a-z]{2}(-[a-z0-9]+)+-[0-9]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$";
/// Pattern of an S3 bucket ARN.
pub const BUCKET_ARN_PATTERN: &str = r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/// Pattern of a KMS key ARN (key or alias).
pub const KMS_KEY_ARN_PATTERN: &str =
    r"^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z0-9]+)+-[0-9]+:[0-9]{12}:(key|alias)/[a-zA-Z0-9/_+=,.@-]+$";
/// AWS's tag character set (RE2, as the API server evaluates it): Unicode letters, space
/// separators and digits, and `_ . : / = + @ -`. The emulator refuses the same characters.
pub const TAG_PATTERN: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+@-]*$";
/// Prefix of the tag keys the operator reserves for its ownership tags.
pub const OWNER_TAG_PREFIX: &str = "kinesis.operator.dev/";
/// Ownership tag: `<namespace>/<name>` of the object that created the AWS resource.
pub const OWNER_TAG: &str = "kinesis.operator.dev/owner";
/// Ownership tag: UID of the object that created the AWS resource.
pub const OWNER_UID_TAG: &str = "kinesis.operator.dev/uid";
/// Annotation on a referenced object naming the namespaces (comma-separated, or `*`) whose
/// objects may reference it; without it only objects of its own namespace may.
pub const ALLOW_REFERENCES_FROM: &str = "kinesis.operator.dev/allow-references-from";

/// Where an object's AWS resource lives and what becomes of it when the object is deleted
/// (`spec.region` and `spec.deletionPolicy`, which every kind has).
pub trait Placement {
    /// `spec.region`: the resource's region when it is not the operator's.
    fn region(&self) -> Option<&str>;
    /// `spec.deletionPolicy`.
    fn deletion_policy(&self) -> DeletionPolicy;
}

/// Implements [`Placement`] for kinds whose spec has `region` and `deletion_policy`.
macro_rules! placed {
    ($($kind:ty),+) => {
        $(impl $crate::api::shared::Placement for $kind {
            fn region(&self) -> Option<&str> {
                self.spec.region.as_deref()
            }

            fn deletion_policy(&self) -> $crate::api::shared::DeletionPolicy {
                self.spec.deletion_policy
            }
        })+
    };
}
pub(crate) use placed;

/// What happens to the AWS resource when the Kubernetes object is deleted.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete the AWS resource, and remove the object only once AWS reports it gone.
    #[default]
    Delete,
    /// Leave the AWS resource in place (ownership tags stay, so it can be adopted again).
    Retain,
}

/// A reference to another object of this API, by name, in the same namespace unless
/// `namespace` is given.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct ObjectReference {
    /// Name of the referenced object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referenced object; defaults to the referring object's namespace. A
    /// reference into another namespace is refused unless the referenced object allows it
    /// with the annotation `kinesis.operator.dev/allow-references-from`, a comma-separated
    /// list of namespaces (or `*` for all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// A key in a Kubernetes Secret.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct SecretKeyReference {
    /// Name of the Secret, in the same namespace as the referring object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// AWS tags: a map of key to value. Keys starting with `kinesis.operator.dev/` (the operator's
/// ownership tags) or `aws:` (reserved by AWS) are refused.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Tags(pub BTreeMap<String, String>);

impl JsonSchema for Tags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tags".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "AWS tags, key to value. At most 48: the operator adds two ownership tags of its own and AWS allows 50.",
            "additionalProperties": {"type": "string", "maxLength": 256},
            "maxProperties": 48,
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(k, !k.startsWith('kinesis.operator.dev/') && !k.startsWith('aws:'))",
                    "message": "spec.tags: keys starting with 'kinesis.operator.dev/' (the operator's ownership tags) or 'aws:' (reserved by AWS) cannot be set; rename the tag"
                },
                {
                    "rule": "self.all(k, size(k) >= 1 && size(k) <= 128)",
                    "message": "spec.tags: AWS allows tag keys of 1-128 characters; shorten the key"
                },
                {
                    "rule": format!("self.all(k, k.matches(r'{TAG_PATTERN}') && self[k].matches(r'{TAG_PATTERN}'))"),
                    "message": "spec.tags: AWS allows only Unicode letters, digits, white space and _ . : / = + - @ in tag keys and values; remove other characters (such as ; , % or tabs)"
                }
            ]
        })
    }
}

impl Tags {
    /// True when no tag is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Status fields every kind reports.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// ARN of the AWS resource, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// AWS region the resource lives in (spec.region, or the operator's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The `metadata.generation` of the spec the operator last acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Reconciling` and `Stalled` (the kstatus convention), each with a reason and
    /// a message; `Stalled` carries AWS's error code and text verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

/// Returns the status (`"True"`, `"False"`, `"Unknown"`) of condition `type_`, if present.
pub fn condition_status<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a str> {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_pattern_matches_aws_regions_only() {
        let re = |s: &str| regex_lite_match(REGION_PATTERN, s);
        for ok in [
            "us-west-2",
            "eu-central-1",
            "us-gov-east-1",
            "ap-southeast-3",
        ] {
            assert!(re(ok), "{ok} should be a region");
        }
        for bad in ["US-WEST-2", "uswest2", "us-west", "", "us-west-2a"] {
            assert!(!re(bad), "{bad} should not be a region");
        }
    }

    /// The API server evaluates these patterns with Go's RE2 engine; `regex-lite` has the same
    /// semantics for the classes, groups, quantifiers and anchors they use.
    fn regex_lite_match(pattern: &str, s: &str) -> bool {
        regex_lite::Regex::new(pattern).unwrap().is_match(s)
    }
}
