//! What differs between the spec and the stream in AWS (pure): settings, tags and consumers.
//! Each function returns the change to make, or nothing when AWS already matches, so that a
//! pass over a stream that matches its spec makes no mutating call.

use std::collections::BTreeSet;

use crate::api::kinesis_stream::{KinesisStream, ShardLevelMetric};
use crate::aws::kinesis::{ConsumerView, StreamView};

/// Every shard-level metric, which `ALL` stands for.
pub const ALL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// A settings change to make, one per pass (AWS refuses a second while the stream is
/// UPDATING).
#[derive(Debug, PartialEq, Eq)]
pub enum SettingsStep {
    /// StartStreamEncryption with this key.
    Encrypt(String),
    /// StopStreamEncryption with the current key.
    Decrypt(String),
    /// Enable and disable shard-level metrics.
    Metrics {
        /// Metrics to enable.
        enable: Vec<String>,
        /// Metrics to disable.
        disable: Vec<String>,
    },
    /// UpdateMaxRecordSize.
    MaxRecordSize(i32),
    /// UpdateStreamWarmThroughput (0 turns it off).
    WarmThroughput(i32),
}

impl std::fmt::Display for SettingsStep {
    /// The AWS call in words, for events: `StartStreamEncryption with KMS key alias/aws/kinesis`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingsStep::Encrypt(key) => write!(f, "StartStreamEncryption with KMS key {key}"),
            SettingsStep::Decrypt(key) => write!(f, "StopStreamEncryption (KMS key {key})"),
            SettingsStep::Metrics { enable, disable } => {
                let mut parts = Vec::new();
                if !enable.is_empty() {
                    parts.push(format!("EnableEnhancedMonitoring {}", enable.join(", ")));
                }
                if !disable.is_empty() {
                    parts.push(format!("DisableEnhancedMonitoring {}", disable.join(", ")));
                }
                write!(f, "{}", parts.join("; "))
            }
            SettingsStep::MaxRecordSize(kib) => write!(f, "UpdateMaxRecordSize to {kib} KiB"),
            SettingsStep::WarmThroughput(0) => write!(f, "UpdateStreamWarmThroughput off"),
            SettingsStep::WarmThroughput(mibps) => {
                write!(f, "UpdateStreamWarmThroughput to {mibps} MiB/s")
            }
        }
    }
}

/// The metric names a spec list stands for, `ALL` expanded.
fn wanted_metrics(spec: &[ShardLevelMetric]) -> BTreeSet<String> {
    spec.iter()
        .flat_map(|m| match m {
            ShardLevelMetric::All => ALL_METRICS.iter().map(|s| (*s).to_owned()).collect(),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .into_iter()
                .collect::<Vec<_>>(),
        })
        .collect()
}

/// The next settings change the spec asks for.
pub fn settings_step(obj: &KinesisStream, view: &StreamView) -> Option<SettingsStep> {
    let spec = &obj.spec;
    match (&spec.encryption, view.key_id.as_deref()) {
        (Some(e), current) if current != Some(e.key_id.as_str()) => {
            return Some(SettingsStep::Encrypt(e.key_id.clone()));
        }
        (None, Some(current)) if view.encryption == "KMS" => {
            return Some(SettingsStep::Decrypt(current.to_owned()));
        }
        _ => {}
    }
    let wanted = wanted_metrics(&spec.shard_level_metrics);
    let current: BTreeSet<String> = view.shard_level_metrics.iter().cloned().collect();
    let enable: Vec<_> = wanted.difference(&current).cloned().collect();
    let disable: Vec<_> = current.difference(&wanted).cloned().collect();
    if !enable.is_empty() || !disable.is_empty() {
        return Some(SettingsStep::Metrics { enable, disable });
    }
    if view
        .max_record_kib
        .is_some_and(|kib| kib != spec.max_record_size_in_ki_b)
    {
        return Some(SettingsStep::MaxRecordSize(spec.max_record_size_in_ki_b));
    }
    if view.on_demand {
        let current = view.warm_throughput_mibps.unwrap_or(0);
        let wanted = spec.warm_throughput_mi_bps.unwrap_or(0);
        if current != wanted {
            return Some(SettingsStep::WarmThroughput(wanted));
        }
    }
    None
}

pub use crate::controller::runtime::ownership::{TagChanges, tag_changes};

/// AWS lets at most this many consumers of a stream be CREATING at once.
pub const MAX_CREATING: usize = 5;

/// Consumer changes: names to register and names to deregister.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConsumerChanges {
    /// Names to register now.
    pub register: Vec<String>,
    /// Names to deregister.
    pub deregister: Vec<String>,
}

/// What to register (spec names AWS lacks, keeping at most [`MAX_CREATING`] CREATING) and
/// deregister (names the operator registered before, `managed`, that left the spec).
/// Consumers someone else registered are never touched.
pub fn consumer_changes(
    spec: &[String],
    managed: &[String],
    aws: &[ConsumerView],
) -> ConsumerChanges {
    let creating = aws.iter().filter(|c| c.status == "CREATING").count();
    let present = |name: &str| aws.iter().any(|c| c.name == name);
    ConsumerChanges {
        register: spec
            .iter()
            .filter(|n| !present(n))
            .take(MAX_CREATING.saturating_sub(creating))
            .cloned()
            .collect(),
        deregister: managed
            .iter()
            .filter(|n| !spec.contains(n))
            .filter(|n| aws.iter().any(|c| &c.name == *n && c.status != "DELETING"))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_steps_read_as_sentences() {
        let cases = [
            (
                SettingsStep::Encrypt("alias/aws/kinesis".into()),
                "StartStreamEncryption with KMS key alias/aws/kinesis",
            ),
            (
                SettingsStep::Metrics {
                    enable: vec!["IncomingBytes".into(), "IncomingRecords".into()],
                    disable: vec!["ReadProvisionedThroughputExceeded".into()],
                },
                "EnableEnhancedMonitoring IncomingBytes, IncomingRecords; DisableEnhancedMonitoring ReadProvisionedThroughputExceeded",
            ),
            (
                SettingsStep::Decrypt("alias/aws/kinesis".into()),
                "StopStreamEncryption (KMS key alias/aws/kinesis)",
            ),
            (
                SettingsStep::Metrics {
                    enable: vec![],
                    disable: vec!["IncomingBytes".into()],
                },
                "DisableEnhancedMonitoring IncomingBytes",
            ),
            (
                SettingsStep::WarmThroughput(0),
                "UpdateStreamWarmThroughput off",
            ),
            (
                SettingsStep::MaxRecordSize(2048),
                "UpdateMaxRecordSize to 2048 KiB",
            ),
            (
                SettingsStep::WarmThroughput(10),
                "UpdateStreamWarmThroughput to 10 MiB/s",
            ),
        ];
        for (step, words) in cases {
            assert_eq!(step.to_string(), words);
        }
    }

    fn stream(spec: serde_json::Value) -> KinesisStream {
        KinesisStream::new("s", serde_json::from_value(spec).unwrap())
    }

    fn view(key: Option<&str>, metrics: &[&str], kib: i32) -> StreamView {
        StreamView {
            arn: "arn".into(),
            status: "ACTIVE".into(),
            on_demand: false,
            open_shards: 1,
            retention_hours: 24,
            encryption: if key.is_some() { "KMS" } else { "NONE" }.into(),
            max_record_kib: Some(kib),
            key_id: key.map(str::to_owned),
            shard_level_metrics: metrics.iter().map(|m| (*m).to_owned()).collect(),
            created_at: 0,
            consumer_count: 0,
            warm_throughput_mibps: None,
        }
    }

    fn on_demand(warm: Option<i32>) -> StreamView {
        StreamView {
            on_demand: true,
            warm_throughput_mibps: warm,
            ..view(None, &[], 1024)
        }
    }

    #[test]
    fn settings_steps_in_order_encryption_metrics_record_size_warm_throughput() {
        let cases: Vec<(serde_json::Value, StreamView, Option<SettingsStep>)> = vec![
            (
                serde_json::json!({"shardCount": 1}),
                view(None, &[], 1024),
                None,
            ),
            (
                serde_json::json!({"shardCount": 1, "encryption": {"keyId": "alias/aws/kinesis"}}),
                view(None, &[], 1024),
                Some(SettingsStep::Encrypt("alias/aws/kinesis".into())),
            ),
            (
                serde_json::json!({"shardCount": 1}),
                view(Some("k"), &[], 1024),
                Some(SettingsStep::Decrypt("k".into())),
            ),
            (
                serde_json::json!({"shardCount": 1, "shardLevelMetrics": ["IncomingBytes"]}),
                view(None, &["OutgoingBytes"], 1024),
                Some(SettingsStep::Metrics {
                    enable: vec!["IncomingBytes".into()],
                    disable: vec!["OutgoingBytes".into()],
                }),
            ),
            (
                serde_json::json!({"shardCount": 1, "shardLevelMetrics": ["ALL"]}),
                view(None, &ALL_METRICS, 1024),
                None,
            ),
            (
                serde_json::json!({"shardCount": 1, "maxRecordSizeInKiB": 2048}),
                view(None, &[], 1024),
                Some(SettingsStep::MaxRecordSize(2048)),
            ),
            (
                serde_json::json!({"mode": "OnDemand", "warmThroughputMiBps": 100}),
                on_demand(None),
                Some(SettingsStep::WarmThroughput(100)),
            ),
            (
                serde_json::json!({"mode": "OnDemand", "warmThroughputMiBps": 100}),
                on_demand(Some(100)),
                None,
            ),
            (
                serde_json::json!({"mode": "OnDemand"}),
                on_demand(Some(100)),
                Some(SettingsStep::WarmThroughput(0)),
            ),
            (
                serde_json::json!({"mode": "OnDemand"}),
                on_demand(Some(0)),
                None,
            ),
        ];
        for (spec, view, expected) in cases {
            assert_eq!(
                settings_step(&stream(spec.clone()), &view),
                expected,
                "{spec}"
            );
        }
    }

    #[test]
    fn consumers_registered_and_deregistered_only_when_ours() {
        let c = |name: &str, status: &str| ConsumerView {
            name: name.into(),
            arn: format!("arn/{name}"),
            status: status.into(),
        };
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let cases = [
            (
                "register missing, keep foreign",
                names(&["a", "b"]),
                names(&[]),
                vec![c("a", "ACTIVE"), c("theirs", "ACTIVE")],
                ConsumerChanges {
                    register: names(&["b"]),
                    deregister: vec![],
                },
            ),
            (
                "deregister ours that left the spec",
                names(&["a"]),
                names(&["a", "gone", "going"]),
                vec![
                    c("a", "ACTIVE"),
                    c("gone", "ACTIVE"),
                    c("going", "DELETING"),
                ],
                ConsumerChanges {
                    register: vec![],
                    deregister: names(&["gone"]),
                },
            ),
            (
                "at most five CREATING",
                names(&["a", "b", "c", "d", "e", "f", "g"]),
                names(&[]),
                vec![c("a", "CREATING"), c("b", "CREATING")],
                ConsumerChanges {
                    register: names(&["c", "d", "e"]),
                    deregister: vec![],
                },
            ),
        ];
        for (what, spec, managed, aws, expected) in cases {
            assert_eq!(consumer_changes(&spec, &managed, &aws), expected, "{what}");
        }
    }
}
