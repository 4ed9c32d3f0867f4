//! IAM (and STS's GetCallerIdentity) for the controller: the calls a `StreamPolicy` needs.
//!
//! IAM is a global service: one client serves every region. Policy documents come back
//! URL-encoded from IAM (RFC 3986); they are decoded here so that callers see JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iam::types::{EntityType, Tag};

use super::call::{CallCounter, Caller};
use super::errors::{AwsCallError, ErrorClass};
use super::rate_limit::RateLimiter;

/// The operator's budget for IAM and STS calls. IAM documents no per-API rate; it throttles
/// per account across all callers, so the operator keeps to a modest 5 calls per second per
/// operation.
pub fn iam_quota(_operation: &str) -> f64 {
    5.0
}

/// A managed policy as GetPolicy reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyView {
    /// ARN.
    pub arn: String,
    /// IAM's unique id of the policy: a policy deleted and created again under the same
    /// name has another, so that what was known of the first is not taken for the second.
    pub id: String,
    /// The version in effect.
    pub default_version_id: String,
    /// Users, groups and roles it is attached to.
    pub attachment_count: i32,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// One version of a managed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionView {
    /// `v1`, `v2`, ...
    pub version_id: String,
    /// Whether it is the version in effect.
    pub is_default: bool,
    /// When it was created, in seconds since the epoch.
    pub created_at: i64,
}

/// Who the operator's credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The partition of ARNs (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The 12-digit account id.
    pub account: String,
}

impl Identity {
    /// The ARN of the customer managed policy `name` under `path`.
    pub fn policy_arn(&self, path: &str, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:policy{}{}",
            self.partition, self.account, path, name
        )
    }
}

/// The IAM calls the controller makes, each rate-limited and counted in the metrics.
#[derive(Clone)]
pub struct IamApi {
    client: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    caller: Caller,
}

impl IamApi {
    /// Calls through `client` and `sts`, paced by `limiter`, counted in `metrics`.
    pub fn new(
        client: aws_sdk_iam::Client,
        sts: aws_sdk_sts::Client,
        metrics: Arc<dyn CallCounter>,
        limiter: Arc<RateLimiter>,
    ) -> Self {
        IamApi {
            client,
            sts,
            caller: Caller::new(metrics, limiter),
        }
    }

    /// The account and partition of the operator's credentials.
    pub async fn identity(&self) -> Result<Identity, AwsCallError> {
        let out = self
            .caller
            .call("sts:GetCallerIdentity", || {
                self.sts.get_caller_identity().send()
            })
            .await?;
        let arn = out.arn.unwrap_or_default();
        let partition = arn.split(':').nth(1).unwrap_or("aws").to_owned();
        Ok(Identity {
            partition: if partition.is_empty() {
                "aws".to_owned()
            } else {
                partition
            },
            account: out.account.unwrap_or_default(),
        })
    }

    /// The policy `arn`, or `None` when it does not exist.
    pub async fn policy(&self, arn: &str) -> Result<Option<PolicyView>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("iam:GetPolicy", || {
                self.client.get_policy().policy_arn(arn).send()
            })
            .await?;
        Ok(out.and_then(|o| o.policy).map(policy_view))
    }

    /// The document of version `version_id` of `arn`, decoded; `None` when either is gone.
    pub async fn document(
        &self,
        arn: &str,
        version_id: &str,
    ) -> Result<Option<String>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("iam:GetPolicyVersion", || {
                self.client
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(version_id)
                    .send()
            })
            .await?;
        Ok(out
            .and_then(|o| o.policy_version)
            .and_then(|v| v.document)
            .map(|d| decode_document(&d)))
    }

    /// Every version of `arn`, oldest first.
    pub async fn versions(&self, arn: &str) -> Result<Vec<VersionView>, AwsCallError> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_policy_versions()
                .policy_arn(arn)
                .set_marker(marker.clone());
            let out = self
                .caller
                .call("iam:ListPolicyVersions", || request.clone().send())
                .await?;
            all.extend(
                out.versions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| VersionView {
                        version_id: v.version_id.unwrap_or_default(),
                        is_default: v.is_default_version,
                        created_at: v.create_date.map(|d| d.secs()).unwrap_or_default(),
                    }),
            );
            match (out.is_truncated, out.marker) {
                (true, Some(m)) => marker = Some(m),
                _ => break,
            }
        }
        all.sort_by_key(|v| (v.created_at, version_number(&v.version_id)));
        Ok(all)
    }

    /// Creates the policy with `document` as its first (default) version.
    pub async fn create_policy(
        &self,
        name: &str,
        path: &str,
        description: Option<&str>,
        document: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<PolicyView, AwsCallError> {
        let out = self
            .caller
            .call("iam:CreatePolicy", || {
                self.client
                    .create_policy()
                    .policy_name(name)
                    .path(path)
                    .set_description(description.map(str::to_owned))
                    .policy_document(document)
                    .set_tags(Some(iam_tags(tags)))
                    .send()
            })
            .await?;
        out.policy.map(policy_view).ok_or_else(|| AwsCallError {
            operation: "iam:CreatePolicy",
            code: String::new(),
            message: format!("IAM created policy {name} but did not return it"),
            class: ErrorClass::Transient,
        })
    }

    /// Adds `document` as a new version of `arn` and makes it the default; returns its id.
    pub async fn create_version(&self, arn: &str, document: &str) -> Result<String, AwsCallError> {
        let out = self
            .caller
            .call("iam:CreatePolicyVersion", || {
                self.client
                    .create_policy_version()
                    .policy_arn(arn)
                    .policy_document(document)
                    .set_as_default(true)
                    .send()
            })
            .await?;
        Ok(out
            .policy_version
            .and_then(|v| v.version_id)
            .unwrap_or_default())
    }

    /// Makes `version_id` the default version of `arn`.
    pub async fn set_default_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> Result<(), AwsCallError> {
        self.caller
            .call("iam:SetDefaultPolicyVersion", || {
                self.client
                    .set_default_policy_version()
                    .policy_arn(arn)
                    .version_id(version_id)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Deletes a non-default version; one already gone is not an error.
    pub async fn delete_version(&self, arn: &str, version_id: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("iam:DeletePolicyVersion", || {
                self.client
                    .delete_policy_version()
                    .policy_arn(arn)
                    .version_id(version_id)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Deletes the policy (it must have no other versions and no attachments); one already
    /// gone is not an error.
    pub async fn delete_policy(&self, arn: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("iam:DeletePolicy", || {
                self.client.delete_policy().policy_arn(arn).send()
            })
            .await
            .map(drop)
    }

    /// The names of the roles `arn` is attached to, sorted.
    pub async fn attached_roles(&self, arn: &str) -> Result<Vec<String>, AwsCallError> {
        let mut roles = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_entities_for_policy()
                .policy_arn(arn)
                .entity_filter(EntityType::Role)
                .set_marker(marker.clone());
            let out = self
                .caller
                .call("iam:ListEntitiesForPolicy", || request.clone().send())
                .await?;
            roles.extend(
                out.policy_roles
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.role_name),
            );
            match (out.is_truncated, out.marker) {
                (true, Some(m)) => marker = Some(m),
                _ => break,
            }
        }
        roles.sort();
        Ok(roles)
    }

    /// Attaches `arn` to the role `role`.
    pub async fn attach(&self, role: &str, arn: &str) -> Result<(), AwsCallError> {
        self.caller
            .call("iam:AttachRolePolicy", || {
                self.client
                    .attach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Detaches `arn` from the role `role`; a role (or attachment) already gone is not an
    /// error.
    pub async fn detach(&self, role: &str, arn: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("iam:DetachRolePolicy", || {
                self.client
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Adds or overwrites tags on the policy.
    pub async fn tag(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        self.caller
            .call("iam:TagPolicy", || {
                self.client
                    .tag_policy()
                    .policy_arn(arn)
                    .set_tags(Some(iam_tags(tags)))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Removes the tags `keys` from the policy.
    pub async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), AwsCallError> {
        self.caller
            .call("iam:UntagPolicy", || {
                self.client
                    .untag_policy()
                    .policy_arn(arn)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await
            .map(drop)
    }
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

fn policy_view(p: aws_sdk_iam::types::Policy) -> PolicyView {
    PolicyView {
        arn: p.arn.unwrap_or_default(),
        id: p.policy_id.unwrap_or_default(),
        default_version_id: p.default_version_id.unwrap_or_default(),
        attachment_count: p.attachment_count.unwrap_or_default(),
        tags: p
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
    }
}

/// `v12` -> 12, for ordering versions created in the same second.
fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(0)
}

/// A policy document as IAM returns it (URL-encoded), as JSON text. A document that is not
/// encoded (some emulators) is returned unchanged.
pub fn decode_document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        return raw.to_owned();
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|d| d.into_owned())
        .unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_decoded_from_iam_url_encoding() {
        let cases = [
            (
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
                r#"{"Version":"2012-10-17","Statement":[]}"#,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                r#"{"Version":"2012-10-17","Statement":[]}"#,
            ),
            ("%7B%22a%22%3A%22100%25%22%7D", r#"{"a":"100%"}"#),
        ];
        for (raw, json) in cases {
            assert_eq!(decode_document(raw), json);
        }
    }

    #[test]
    fn policy_arns_follow_partition_account_path_and_name() {
        let id = Identity {
            partition: "aws".into(),
            account: "123456789012".into(),
        };
        assert_eq!(
            id.policy_arn("/", "clicks-rw"),
            "arn:aws:iam::123456789012:policy/clicks-rw"
        );
        assert_eq!(
            id.policy_arn("/teams/data/", "clicks-rw"),
            "arn:aws:iam::123456789012:policy/teams/data/clicks-rw"
        );
    }

    #[test]
    fn versions_order_by_number_within_a_second() {
        let mut ids = ["v10", "v9", "v11"].map(|v| (0i64, version_number(v)));
        ids.sort();
        assert_eq!(ids.map(|(_, n)| n), [9, 10, 11]);
    }
}
