//! Renders a StreamPolicy's `statements` into an IAM policy document: least privilege (each
//! access level grants exactly the actions its field docs list, on exactly the streams named)
//! and stable (the same grants always render to byte-identical JSON, whatever their order in
//! the spec), so that an unchanged spec never creates a new policy version.
//!
//! Actions whose resource is a stream's enhanced fan-out consumer (SubscribeToShard,
//! DescribeStreamConsumer) are granted on `<stream ARN>/consumer/*`, the resource IAM checks
//! them against; the others on the stream ARN itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::api::stream_policy::AccessLevel;

/// The actions of `level` whose resource is the stream.
fn stream_actions(level: AccessLevel) -> &'static [&'static str] {
    match level {
        AccessLevel::Read => &[
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kinesis:ListStreamConsumers",
        ],
        AccessLevel::Write => &["kinesis:PutRecord", "kinesis:PutRecords"],
        AccessLevel::Describe => &[
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:ListShards",
            "kinesis:ListStreamConsumers",
            "kinesis:ListTagsForStream",
        ],
        AccessLevel::Admin => &["kinesis:*"],
    }
}

/// The actions of `level` whose resource is one of the stream's consumers.
fn consumer_actions(level: AccessLevel) -> &'static [&'static str] {
    match level {
        AccessLevel::Read => &["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
        AccessLevel::Write => &[],
        AccessLevel::Describe => &["kinesis:DescribeStreamConsumer"],
        AccessLevel::Admin => &["kinesis:*"],
    }
}

/// One grant with its streams resolved to ARNs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Stream ARNs.
    pub streams: Vec<String>,
    /// Access levels on all of them.
    pub access: Vec<AccessLevel>,
}

#[derive(Serialize)]
struct Document {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Serialize)]
struct Statement {
    #[serde(rename = "Effect")]
    effect: &'static str,
    #[serde(rename = "Action")]
    action: Vec<&'static str>,
    #[serde(rename = "Resource")]
    resource: Vec<String>,
}

/// The policy document granting `grants`: per resource the union of its actions, resources
/// with the same actions in one statement, everything sorted.
pub fn render(grants: &[Grant]) -> String {
    // Resource -> actions on it.
    let mut by_resource: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for grant in grants {
        for stream in &grant.streams {
            for &level in &grant.access {
                let on_stream = by_resource.entry(stream.clone()).or_default();
                on_stream.extend(stream_actions(level));
                let consumers = consumer_actions(level);
                if !consumers.is_empty() {
                    by_resource
                        .entry(format!("{stream}/consumer/*"))
                        .or_default()
                        .extend(consumers);
                }
            }
        }
    }
    // A wildcard covers every other action on the same resource.
    for actions in by_resource.values_mut() {
        if actions.contains("kinesis:*") {
            actions.retain(|a| *a == "kinesis:*");
        }
    }
    // Actions -> resources with exactly those actions.
    let mut by_actions: BTreeMap<Vec<&'static str>, Vec<String>> = BTreeMap::new();
    for (resource, actions) in by_resource {
        by_actions
            .entry(actions.into_iter().collect())
            .or_default()
            .push(resource);
    }
    let document = Document {
        version: "2012-10-17",
        statement: by_actions
            .into_iter()
            .map(|(action, resource)| Statement {
                effect: "Allow",
                action,
                resource,
            })
            .collect(),
    };
    serde_json::to_string(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::policy_doc;

    const A: &str = "arn:aws:kinesis:us-west-2:123456789012:stream/clickstream";
    const B: &str = "arn:aws:kinesis:us-west-2:123456789012:stream/clicks-per-minute";

    fn grant(streams: &[&str], access: &[AccessLevel]) -> Grant {
        Grant {
            streams: streams.iter().map(|s| (*s).to_owned()).collect(),
            access: access.to_vec(),
        }
    }

    #[test]
    fn the_tutorials_write_and_read_grants_render_least_privilege() {
        let doc = render(&[grant(&[A], &[AccessLevel::Write, AccessLevel::Read])]);
        let expected = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards","kinesis:ListStreamConsumers","kinesis:PutRecord","kinesis:PutRecords"],"Resource":["{A}"]}},{{"Effect":"Allow","Action":["kinesis:DescribeStreamConsumer","kinesis:SubscribeToShard"],"Resource":["{A}/consumer/*"]}}]}}"#
        );
        assert_eq!(doc, expected);
        policy_doc::validate("rendered", &doc).unwrap();
    }

    #[test]
    fn the_same_grants_in_any_order_render_byte_identical() {
        let one = render(&[
            grant(&[A], &[AccessLevel::Write]),
            grant(&[A, B], &[AccessLevel::Read, AccessLevel::Describe]),
        ]);
        let two = render(&[
            grant(&[B, A], &[AccessLevel::Describe, AccessLevel::Read]),
            grant(&[A], &[AccessLevel::Write]),
        ]);
        assert_eq!(one, two);
    }

    #[test]
    fn each_level_grants_what_its_docs_list() {
        let cases: [(AccessLevel, &[&str]); 4] = [
            (
                AccessLevel::Write,
                &["kinesis:PutRecord", "kinesis:PutRecords"],
            ),
            (
                AccessLevel::Describe,
                &[
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:ListShards",
                    "kinesis:ListStreamConsumers",
                    "kinesis:ListTagsForStream",
                ],
            ),
            (
                AccessLevel::Read,
                &[
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreamConsumers",
                ],
            ),
            (AccessLevel::Admin, &["kinesis:*"]),
        ];
        for (level, actions) in cases {
            let doc: serde_json::Value =
                serde_json::from_str(&render(&[grant(&[A], &[level])])).unwrap();
            let on_stream = doc["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Resource"][0] == A)
                .unwrap();
            assert_eq!(on_stream["Action"], serde_json::json!(actions), "{level:?}");
        }
    }

    #[test]
    fn admin_subsumes_other_levels_and_streams_with_equal_actions_share_a_statement() {
        let doc: serde_json::Value = serde_json::from_str(&render(&[
            grant(&[A], &[AccessLevel::Admin, AccessLevel::Read]),
            grant(&[B], &[AccessLevel::Admin]),
        ]))
        .unwrap();
        assert_eq!(
            doc["Statement"],
            serde_json::json!([{
                "Effect": "Allow",
                "Action": ["kinesis:*"],
                "Resource": [B, format!("{B}/consumer/*"), A, format!("{A}/consumer/*")]
            }])
        );
    }
}
