//! One application as stored: its versioned configuration (every version kept, for
//! DescribeApplicationVersion), its status, snapshots and operations, and how it is described.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{ApplicationDetail, RestoreConfiguration, S3ContentLocation};
use crate::emulator::protocol::Timestamp;

/// The property group whose `statements` (or `statements.1`, `statements.2`, ...) hold the SQL
/// the emulator runs (DESIGN §3.4).
pub const SQL_GROUP: &str = "kinesis.operator.sql";

/// Application statuses, as AWS names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Stopped, startable.
    Ready,
    /// A start is in progress.
    Starting,
    /// The job runs.
    Running,
    /// A running application is being updated (its job restarted).
    Updating,
    /// A stop (with a snapshot when enabled) is in progress.
    Stopping,
    /// A forced stop is in progress.
    ForceStopping,
    /// Being deleted.
    Deleting,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Starting => "STARTING",
            Status::Running => "RUNNING",
            Status::Updating => "UPDATING",
            Status::Stopping => "STOPPING",
            Status::ForceStopping => "FORCE_STOPPING",
            Status::Deleting => "DELETING",
        }
    }
}

/// Where the code is.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Code {
    /// `PLAINTEXT | ZIPFILE`.
    pub content_type: String,
    /// Inline text.
    pub text: Option<String>,
    /// MD5 (hex) and size of an inline ZIP.
    pub zip: Option<(String, i64)>,
    /// Code in S3.
    pub s3: Option<S3ContentLocation>,
}

/// `CheckpointConfiguration`, resolved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: String,
    /// On.
    pub enabled: bool,
    /// Interval (ms).
    pub interval: i64,
    /// Minimum pause (ms).
    pub min_pause: i64,
}

impl Default for Checkpoint {
    /// AWS's DEFAULT: on, every minute, 5 s apart.
    fn default() -> Self {
        Checkpoint {
            configuration_type: "DEFAULT".into(),
            enabled: true,
            interval: 60_000,
            min_pause: 5_000,
        }
    }
}

/// `MonitoringConfiguration`, resolved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Monitoring {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: String,
    /// Metrics level.
    pub metrics_level: String,
    /// Log level.
    pub log_level: String,
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            configuration_type: "DEFAULT".into(),
            metrics_level: "APPLICATION".into(),
            log_level: "INFO".into(),
        }
    }
}

/// `ParallelismConfiguration`, resolved.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Parallelism {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: String,
    /// Parallelism.
    pub parallelism: i64,
    /// Per KPU.
    pub per_kpu: i64,
    /// Autoscaling (recorded only).
    pub auto_scaling: bool,
}

impl Default for Parallelism {
    fn default() -> Self {
        Parallelism {
            configuration_type: "DEFAULT".into(),
            parallelism: 1,
            per_kpu: 1,
            auto_scaling: true,
        }
    }
}

/// A CloudWatch logging option.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Logging {
    /// `1.1`, `1.2`, ...
    pub id: String,
    /// The log stream.
    pub log_stream_arn: String,
}

/// A VPC configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Vpc {
    /// `1.1`, ...
    pub id: String,
    /// Subnets.
    pub subnets: Vec<String>,
    /// Security groups.
    pub security_groups: Vec<String>,
}

/// Property groups in the order given: group ID, keys and values.
pub type PropertyGroups = Vec<(String, BTreeMap<String, String>)>;

/// Everything a version fixes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// Description.
    pub description: Option<String>,
    /// Runtime.
    pub runtime: String,
    /// Role.
    pub role: Option<String>,
    /// Mode.
    pub mode: String,
    /// Code.
    pub code: Option<Code>,
    /// Checkpointing.
    pub checkpoint: Checkpoint,
    /// Monitoring.
    pub monitoring: Monitoring,
    /// Parallelism.
    pub parallelism: Parallelism,
    /// Property groups, in the order given.
    pub properties: PropertyGroups,
    /// Snapshots enabled.
    pub snapshots_enabled: bool,
    /// System rollback enabled (recorded).
    pub rollback_enabled: bool,
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Logging options.
    pub logging: Vec<Logging>,
    /// Encryption configuration, as sent.
    pub encryption: Option<Value>,
}

impl Config {
    /// The SQL of the `kinesis.operator.sql` group: `statements`, or `statements.1`,
    /// `statements.2`, ... joined in numeric order.
    pub fn sql(&self) -> Option<String> {
        let (_, group) = self.properties.iter().find(|(id, _)| id == SQL_GROUP)?;
        if let Some(sql) = group.get("statements") {
            return Some(sql.clone());
        }
        let mut parts: Vec<(u64, &String)> = group
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("statements.")?.parse().ok()?, v)))
            .collect();
        if parts.is_empty() {
            return None;
        }
        parts.sort_by_key(|(n, _)| *n);
        Some(parts.into_iter().map(|(_, v)| v.as_str()).collect())
    }
}

/// One kept version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Version {
    /// Its configuration.
    pub config: Config,
    /// When it was made.
    pub created_ms: i64,
    /// The version it was made from.
    pub updated_from: Option<i64>,
    /// The status the application had when it was made.
    pub status: Status,
}

/// A snapshot's metadata; the savepoint itself is a directory on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Name.
    pub name: String,
    /// `CREATING | READY | DELETING | FAILED`.
    pub status: String,
    /// Version taken from.
    pub version: i64,
    /// Runtime.
    pub runtime: String,
    /// When.
    pub created_ms: i64,
    /// The savepoint directory.
    pub path: Option<String>,
}

/// An operation (StartApplication, StopApplication, UpdateApplication, ...).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Operation {
    /// ID.
    pub id: String,
    /// Name.
    pub operation: String,
    /// Started.
    pub start_ms: i64,
    /// Ended.
    pub end_ms: Option<i64>,
    /// `IN_PROGRESS | SUCCESSFUL | FAILED`.
    pub status: String,
    /// Versions of an update.
    pub version_change: Option<(i64, i64)>,
    /// Why it failed.
    pub error: Option<String>,
}

/// How the current run was asked to start.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunRequest {
    /// The restore configuration of the start.
    pub restore: RestoreConfiguration,
    /// AllowNonRestoredState.
    pub allow_non_restored_state: bool,
    /// When the current run started (a recovery restores only from state newer than this).
    pub started_ms: i64,
}

/// An application.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct App {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Created.
    pub create_ms: i64,
    /// Last updated.
    pub update_ms: Option<i64>,
    /// Status.
    pub status: Status,
    /// Current version.
    pub version: i64,
    /// Every version's configuration (the current one included).
    pub versions: BTreeMap<i64, Version>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Snapshots by name.
    pub snapshots: BTreeMap<String, Snapshot>,
    /// Operations, oldest first.
    pub operations: Vec<Operation>,
    /// The current (or last) run's start request.
    pub run: RunRequest,
    /// Next logging / VPC option number.
    pub next_option: u64,
    /// When a DELETING application is gone.
    pub delete_at_ms: Option<i64>,
}

/// `arn:aws:kinesisanalytics:<region>:<account>:application/<name>`.
pub fn arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesisanalytics:{region}:{account}:application/{name}")
}

impl App {
    /// The ARN.
    pub fn arn(&self) -> String {
        arn(&self.region, &self.account, &self.name)
    }

    /// The current configuration.
    pub fn config(&self) -> &Config {
        &self.versions[&self.version].config
    }

    /// The conditional token of `version`: opaque to callers, it changes with every version.
    pub fn token(&self, version: i64) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!(
            "{}/{}/{}/{}/{version}",
            self.account, self.region, self.name, self.create_ms
        ));
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The operation `id`, mutably.
    pub fn operation_mut(&mut self, id: &str) -> Option<&mut Operation> {
        self.operations.iter_mut().find(|o| o.id == id)
    }

    /// The newest operation still in progress.
    pub fn pending_operation(&self) -> Option<&Operation> {
        self.operations
            .iter()
            .rev()
            .find(|o| o.status == "IN_PROGRESS")
    }

    /// Ends operation `id` (if still in progress) at `now`, failed with `error` or successful.
    pub fn finish_operation(&mut self, id: &str, now: i64, error: Option<String>) {
        if let Some(op) = self.operation_mut(id)
            && op.status == "IN_PROGRESS"
        {
            op.end_ms = Some(now);
            op.status = if error.is_some() {
                "FAILED"
            } else {
                "SUCCESSFUL"
            }
            .into();
            op.error = error;
        }
    }

    /// The newest READY snapshot.
    pub fn latest_snapshot(&self) -> Option<&Snapshot> {
        self.snapshots
            .values()
            .filter(|s| s.status == "READY")
            .max_by_key(|s| s.created_ms)
    }

    /// The detail of `version` (the current version described with the current status).
    pub fn detail(&self, version: i64) -> ApplicationDetail {
        let v = &self.versions[&version];
        let status = if version == self.version {
            self.status
        } else {
            v.status
        };
        let c = &v.config;
        ApplicationDetail {
            application_arn: self.arn(),
            application_description: c.description.clone(),
            application_name: self.name.clone(),
            runtime_environment: c.runtime.clone(),
            service_execution_role: c.role.clone(),
            application_status: status.as_str().into(),
            application_version_id: version,
            create_timestamp: Timestamp(self.create_ms),
            last_update_timestamp: self.update_ms.map(Timestamp),
            application_configuration_description: self.configuration_description(version),
            cloud_watch_logging_option_descriptions: logging_descriptions(c),
            application_maintenance_configuration_description: json!({
                "ApplicationMaintenanceWindowStartTime": "06:00",
                "ApplicationMaintenanceWindowEndTime": "14:00",
            }),
            application_version_updated_from: v.updated_from,
            application_version_create_timestamp: Timestamp(v.created_ms),
            conditional_token: self.token(version),
            application_mode: c.mode.clone(),
        }
    }

    fn configuration_description(&self, version: i64) -> Value {
        let c = &self.versions[&version].config;
        let mut d = serde_json::Map::new();
        if let Some(code) = &c.code {
            let mut content = serde_json::Map::new();
            if let Some(text) = &code.text {
                content.insert("TextContent".into(), json!(text));
            }
            if let Some((md5, size)) = &code.zip {
                content.insert("CodeMD5".into(), json!(md5));
                content.insert("CodeSize".into(), json!(size));
            }
            if let Some(s3) = &code.s3 {
                content.insert(
                    "S3ApplicationCodeLocationDescription".into(),
                    serde_json::to_value(s3).expect("a location serialises"),
                );
            }
            d.insert(
                "ApplicationCodeConfigurationDescription".into(),
                json!({"CodeContentType": code.content_type, "CodeContentDescription": content}),
            );
        }
        let mut run = json!({
            "ApplicationRestoreConfigurationDescription": {
                "ApplicationRestoreType": self.run.restore.application_restore_type.clone()
                    .unwrap_or_else(|| "RESTORE_FROM_LATEST_SNAPSHOT".into()),
            },
            "FlinkRunConfigurationDescription": {
                "AllowNonRestoredState": self.run.allow_non_restored_state,
            },
        });
        if let Some(name) = &self.run.restore.snapshot_name {
            run["ApplicationRestoreConfigurationDescription"]["SnapshotName"] = json!(name);
        }
        d.insert("RunConfigurationDescription".into(), run);
        d.insert(
            "FlinkApplicationConfigurationDescription".into(),
            json!({
                "CheckpointConfigurationDescription": {
                    "ConfigurationType": c.checkpoint.configuration_type,
                    "CheckpointingEnabled": c.checkpoint.enabled,
                    "CheckpointInterval": c.checkpoint.interval,
                    "MinPauseBetweenCheckpoints": c.checkpoint.min_pause,
                },
                "MonitoringConfigurationDescription": {
                    "ConfigurationType": c.monitoring.configuration_type,
                    "MetricsLevel": c.monitoring.metrics_level,
                    "LogLevel": c.monitoring.log_level,
                },
                "ParallelismConfigurationDescription": {
                    "ConfigurationType": c.parallelism.configuration_type,
                    "Parallelism": c.parallelism.parallelism,
                    "ParallelismPerKPU": c.parallelism.per_kpu,
                    "CurrentParallelism": c.parallelism.parallelism,
                    "AutoScalingEnabled": c.parallelism.auto_scaling,
                },
            }),
        );
        if !c.properties.is_empty() {
            let groups: Vec<Value> = c
                .properties
                .iter()
                .map(|(id, map)| json!({"PropertyGroupId": id, "PropertyMap": map}))
                .collect();
            d.insert(
                "EnvironmentPropertyDescriptions".into(),
                json!({"PropertyGroupDescriptions": groups}),
            );
        }
        d.insert(
            "ApplicationSnapshotConfigurationDescription".into(),
            json!({"SnapshotsEnabled": c.snapshots_enabled}),
        );
        d.insert(
            "ApplicationSystemRollbackConfigurationDescription".into(),
            json!({"RollbackEnabled": c.rollback_enabled}),
        );
        if !c.vpcs.is_empty() {
            d.insert(
                "VpcConfigurationDescriptions".into(),
                Value::Array(c.vpcs.iter().map(vpc_description).collect()),
            );
        }
        if let Some(e) = &c.encryption {
            d.insert(
                "ApplicationEncryptionConfigurationDescription".into(),
                e.clone(),
            );
        }
        Value::Object(d)
    }
}

/// `CloudWatchLoggingOptionDescription`s of a configuration.
pub fn logging_descriptions(c: &Config) -> Vec<Value> {
    c.logging
        .iter()
        .map(|l| json!({"CloudWatchLoggingOptionId": l.id, "LogStreamARN": l.log_stream_arn}))
        .collect()
}

/// `VpcConfigurationDescription`.
pub fn vpc_description(v: &Vpc) -> Value {
    json!({
        "VpcConfigurationId": v.id,
        // The emulator has no VPCs; the ID is derived from the first subnet.
        "VpcId": format!("vpc-{}", v.subnets.first().map_or("0", |s| s.trim_start_matches("subnet-"))),
        "SubnetIds": v.subnets,
        "SecurityGroupIds": v.security_groups,
    })
}
