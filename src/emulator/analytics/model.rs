//! Managed Service for Apache Flink wire shapes (`KinesisAnalytics_20180523`), named as the
//! AWS model names them. Requests decode into these; answers are built from the stored
//! application (`app.rs`), whose configuration descriptions are rendered as JSON values (they
//! hold no timestamps, so JSON and CBOR render them alike).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::emulator::protocol::Timestamp;

/// `Tag`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub key: Option<String>,
    /// Tag value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `S3ContentLocation`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct S3ContentLocation {
    /// `arn:aws:s3:::bucket`.
    #[serde(rename = "BucketARN")]
    pub bucket_arn: Option<String>,
    /// Object key of the code.
    pub file_key: Option<String>,
    /// Object version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_version: Option<String>,
}

impl S3ContentLocation {
    /// The bucket's name from `BucketARN` (`arn:aws:s3:::NAME`, NAME possibly empty);
    /// `None` when it is not an S3 bucket ARN.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket_arn
            .as_deref()
            .and_then(|arn| arn.strip_prefix("arn:aws:s3:::"))
    }
}

/// `CodeContent`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeContent {
    /// Inline code text (SQL and Zeppelin runtimes).
    pub text_content: Option<String>,
    /// An inline ZIP (base64 in JSON).
    pub zip_file_content: Option<crate::emulator::protocol::Blob>,
    /// Code in S3.
    pub s3_content_location: Option<S3ContentLocation>,
}

/// `ApplicationCodeConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeConfiguration {
    /// The code.
    pub code_content: Option<CodeContent>,
    /// `PLAINTEXT | ZIPFILE`.
    pub code_content_type: Option<String>,
}

/// `CheckpointConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointConfiguration {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: Option<String>,
    /// Checkpointing on.
    pub checkpointing_enabled: Option<bool>,
    /// Milliseconds between checkpoints.
    pub checkpoint_interval: Option<i64>,
    /// Milliseconds between the end of one checkpoint and the start of the next.
    pub min_pause_between_checkpoints: Option<i64>,
}

/// `MonitoringConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MonitoringConfiguration {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: Option<String>,
    /// `APPLICATION | TASK | OPERATOR | PARALLELISM`.
    pub metrics_level: Option<String>,
    /// `INFO | WARN | ERROR | DEBUG`.
    pub log_level: Option<String>,
}

/// `ParallelismConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParallelismConfiguration {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type: Option<String>,
    /// Job parallelism.
    pub parallelism: Option<i64>,
    /// Parallel tasks per KPU.
    #[serde(rename = "ParallelismPerKPU")]
    pub parallelism_per_kpu: Option<i64>,
    /// Automatic scaling (recorded; the emulator runs at `Parallelism`).
    pub auto_scaling_enabled: Option<bool>,
}

/// `FlinkApplicationConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlinkConfiguration {
    /// Checkpointing.
    pub checkpoint_configuration: Option<CheckpointConfiguration>,
    /// Monitoring.
    pub monitoring_configuration: Option<MonitoringConfiguration>,
    /// Parallelism.
    pub parallelism_configuration: Option<ParallelismConfiguration>,
}

/// `PropertyGroup`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PropertyGroup {
    /// Group name.
    pub property_group_id: Option<String>,
    /// Keys and values.
    pub property_map: Option<BTreeMap<String, String>>,
}

/// `EnvironmentProperties` / `EnvironmentPropertyUpdates`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentProperties {
    /// The groups (they replace every group on update).
    pub property_groups: Option<Vec<PropertyGroup>>,
}

/// `ApplicationSnapshotConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotConfiguration {
    /// Snapshots on stop and on request.
    pub snapshots_enabled: Option<bool>,
}

/// `ApplicationSystemRollbackConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RollbackConfiguration {
    /// System rollback on a failed update.
    pub rollback_enabled: Option<bool>,
}

/// `VpcConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfiguration {
    /// Subnets.
    pub subnet_ids: Option<Vec<String>>,
    /// Security groups.
    pub security_group_ids: Option<Vec<String>>,
}

/// `ApplicationConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplicationConfiguration {
    /// SQL-1_0 only: refused for Flink runtimes.
    pub sql_application_configuration: Option<Value>,
    /// Flink settings.
    pub flink_application_configuration: Option<FlinkConfiguration>,
    /// Runtime properties.
    pub environment_properties: Option<EnvironmentProperties>,
    /// The code.
    pub application_code_configuration: Option<CodeConfiguration>,
    /// Snapshots.
    pub application_snapshot_configuration: Option<SnapshotConfiguration>,
    /// System rollback.
    pub application_system_rollback_configuration: Option<RollbackConfiguration>,
    /// VPCs (at most one).
    pub vpc_configurations: Option<Vec<VpcConfiguration>>,
    /// Zeppelin runtimes only.
    pub zeppelin_application_configuration: Option<Value>,
    /// Kept as sent.
    pub application_encryption_configuration: Option<Value>,
}

/// `CloudWatchLoggingOption`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLoggingOption {
    /// The log stream.
    #[serde(rename = "LogStreamARN")]
    pub log_stream_arn: Option<String>,
}

/// CreateApplication's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    /// Name.
    pub application_name: Option<String>,
    /// Description.
    pub application_description: Option<String>,
    /// `FLINK-1_20`, ...
    pub runtime_environment: Option<String>,
    /// The role the application assumes.
    pub service_execution_role: Option<String>,
    /// Configuration.
    pub application_configuration: Option<ApplicationConfiguration>,
    /// Logging options (at most one).
    pub cloud_watch_logging_options: Option<Vec<CloudWatchLoggingOption>>,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
    /// `STREAMING | INTERACTIVE`.
    pub application_mode: Option<String>,
}

/// Updates of a Flink configuration (`...Update` members).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointUpdate {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type_update: Option<String>,
    /// Checkpointing on.
    pub checkpointing_enabled_update: Option<bool>,
    /// Interval.
    pub checkpoint_interval_update: Option<i64>,
    /// Minimum pause.
    pub min_pause_between_checkpoints_update: Option<i64>,
}

/// `MonitoringConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MonitoringUpdate {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type_update: Option<String>,
    /// Metrics level.
    pub metrics_level_update: Option<String>,
    /// Log level.
    pub log_level_update: Option<String>,
}

/// `ParallelismConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParallelismUpdate {
    /// `DEFAULT | CUSTOM`.
    pub configuration_type_update: Option<String>,
    /// Parallelism.
    pub parallelism_update: Option<i64>,
    /// Per KPU.
    #[serde(rename = "ParallelismPerKPUUpdate")]
    pub parallelism_per_kpu_update: Option<i64>,
    /// Autoscaling.
    pub auto_scaling_enabled_update: Option<bool>,
}

/// `FlinkApplicationConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlinkUpdate {
    /// Checkpointing.
    pub checkpoint_configuration_update: Option<CheckpointUpdate>,
    /// Monitoring.
    pub monitoring_configuration_update: Option<MonitoringUpdate>,
    /// Parallelism.
    pub parallelism_configuration_update: Option<ParallelismUpdate>,
}

/// `S3ContentLocationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3LocationUpdate {
    /// Bucket.
    #[serde(rename = "BucketARNUpdate")]
    pub bucket_arn_update: Option<String>,
    /// Key.
    pub file_key_update: Option<String>,
    /// Version.
    pub object_version_update: Option<String>,
}

/// `CodeContentUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeContentUpdate {
    /// Inline text.
    pub text_content_update: Option<String>,
    /// Inline ZIP.
    pub zip_file_content_update: Option<crate::emulator::protocol::Blob>,
    /// S3 location.
    pub s3_content_location_update: Option<S3LocationUpdate>,
}

/// `ApplicationCodeConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeUpdate {
    /// `PLAINTEXT | ZIPFILE`.
    pub code_content_type_update: Option<String>,
    /// The code.
    pub code_content_update: Option<CodeContentUpdate>,
}

/// `ApplicationSnapshotConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotUpdate {
    /// Snapshots on/off.
    pub snapshots_enabled_update: Option<bool>,
}

/// `ApplicationSystemRollbackConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RollbackUpdate {
    /// Rollback on/off.
    pub rollback_enabled_update: Option<bool>,
}

/// `ApplicationConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigurationUpdate {
    /// SQL-1_0 only.
    pub sql_application_configuration_update: Option<Value>,
    /// Code.
    pub application_code_configuration_update: Option<CodeUpdate>,
    /// Flink settings.
    pub flink_application_configuration_update: Option<FlinkUpdate>,
    /// Properties (replace all groups).
    pub environment_property_updates: Option<EnvironmentProperties>,
    /// Snapshots.
    pub application_snapshot_configuration_update: Option<SnapshotUpdate>,
    /// Rollback.
    pub application_system_rollback_configuration_update: Option<RollbackUpdate>,
    /// VPC updates (kept as sent).
    pub vpc_configuration_updates: Option<Value>,
    /// Zeppelin only.
    pub zeppelin_application_configuration_update: Option<Value>,
}

/// `ApplicationRestoreConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreConfiguration {
    /// `SKIP_RESTORE_FROM_SNAPSHOT | RESTORE_FROM_LATEST_SNAPSHOT | RESTORE_FROM_CUSTOM_SNAPSHOT`.
    pub application_restore_type: Option<String>,
    /// The snapshot of `RESTORE_FROM_CUSTOM_SNAPSHOT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_name: Option<String>,
}

/// `FlinkRunConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct FlinkRunConfiguration {
    /// Start even when the snapshot holds state no operator claims.
    pub allow_non_restored_state: Option<bool>,
}

/// `RunConfiguration` / `RunConfigurationUpdate`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfiguration {
    /// Flink options.
    pub flink_run_configuration: Option<FlinkRunConfiguration>,
    /// SQL-1_0 only.
    pub sql_run_configurations: Option<Value>,
    /// Where to start from.
    pub application_restore_configuration: Option<RestoreConfiguration>,
}

/// UpdateApplication's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    /// Name.
    pub application_name: Option<String>,
    /// The version the caller last saw.
    pub current_application_version_id: Option<i64>,
    /// Or the token it last saw.
    pub conditional_token: Option<String>,
    /// Configuration changes.
    pub application_configuration_update: Option<ConfigurationUpdate>,
    /// New role.
    pub service_execution_role_update: Option<String>,
    /// Run configuration for the restart of a running application.
    pub run_configuration_update: Option<RunConfiguration>,
    /// Logging changes (kept as sent).
    pub cloud_watch_logging_option_updates: Option<Value>,
    /// Runtime upgrade.
    pub runtime_environment_update: Option<String>,
}

/// The input of every call that names an application (and perhaps more).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamedInput {
    /// Name.
    pub application_name: Option<String>,
    /// Version for conditional changes.
    pub current_application_version_id: Option<i64>,
    /// Token for conditional changes.
    pub conditional_token: Option<String>,
    /// DeleteApplication's check.
    pub create_timestamp: Option<Timestamp>,
    /// StartApplication.
    pub run_configuration: Option<RunConfiguration>,
    /// StopApplication.
    pub force: Option<bool>,
    /// Snapshot calls.
    pub snapshot_name: Option<String>,
    /// DeleteApplicationSnapshot's check.
    pub snapshot_creation_timestamp: Option<Timestamp>,
    /// DescribeApplicationVersion.
    pub application_version_id: Option<i64>,
    /// DescribeApplicationOperation.
    pub operation_id: Option<String>,
    /// ListApplicationOperations filter.
    pub operation: Option<String>,
    /// ListApplicationOperations filter.
    pub operation_status: Option<String>,
    /// List calls.
    pub limit: Option<i64>,
    /// List calls.
    pub next_token: Option<String>,
    /// DescribeApplication (accepted, no effect).
    pub include_additional_details: Option<bool>,
    /// AddApplicationCloudWatchLoggingOption.
    pub cloud_watch_logging_option: Option<CloudWatchLoggingOption>,
    /// DeleteApplicationCloudWatchLoggingOption.
    pub cloud_watch_logging_option_id: Option<String>,
    /// AddApplicationVpcConfiguration.
    pub vpc_configuration: Option<VpcConfiguration>,
    /// DeleteApplicationVpcConfiguration.
    pub vpc_configuration_id: Option<String>,
}

/// TagResource / UntagResource / ListTagsForResource input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsInput {
    /// The application's ARN.
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    /// Tags to add.
    pub tags: Option<Vec<Tag>>,
    /// Keys to remove.
    pub tag_keys: Option<Vec<String>>,
}

/// An answer with no members.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

/// An answer that is only an operation ID (StartApplication, StopApplication).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationIdOutput {
    /// The operation started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// `ApplicationDetail` (and `ApplicationVersionDetail`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplicationDetail {
    /// ARN.
    #[serde(rename = "ApplicationARN")]
    pub application_arn: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_description: Option<String>,
    /// Name.
    pub application_name: String,
    /// Runtime.
    pub runtime_environment: String,
    /// Role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_execution_role: Option<String>,
    /// Status.
    pub application_status: String,
    /// Version.
    pub application_version_id: i64,
    /// Created.
    pub create_timestamp: Timestamp,
    /// Last updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_timestamp: Option<Timestamp>,
    /// The configuration, described.
    pub application_configuration_description: Value,
    /// Logging options.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cloud_watch_logging_option_descriptions: Vec<Value>,
    /// Maintenance window.
    pub application_maintenance_configuration_description: Value,
    /// The version this one was updated from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_version_updated_from: Option<i64>,
    /// When this version was made.
    pub application_version_create_timestamp: Timestamp,
    /// Token for conditional changes.
    pub conditional_token: String,
    /// `STREAMING | INTERACTIVE`.
    pub application_mode: String,
}

/// DescribeApplication / CreateApplication output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetailOutput {
    /// The application.
    pub application_detail: ApplicationDetail,
}

/// UpdateApplication output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateOutput {
    /// The application after the update.
    pub application_detail: ApplicationDetail,
    /// The update operation, when the application was running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// DescribeApplicationVersion output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionOutput {
    /// The version.
    pub application_version_detail: ApplicationDetail,
}

/// `ApplicationSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplicationSummary {
    /// Name.
    pub application_name: String,
    /// ARN.
    #[serde(rename = "ApplicationARN")]
    pub application_arn: String,
    /// Status.
    pub application_status: String,
    /// Version.
    pub application_version_id: i64,
    /// Runtime.
    pub runtime_environment: String,
    /// Mode.
    pub application_mode: String,
}

/// ListApplications output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOutput {
    /// One page.
    pub application_summaries: Vec<ApplicationSummary>,
    /// The next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ApplicationVersionSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionSummary {
    /// Version.
    pub application_version_id: i64,
    /// Status the application had in that version.
    pub application_status: String,
}

/// ListApplicationVersions output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListVersionsOutput {
    /// One page, newest first.
    pub application_version_summaries: Vec<VersionSummary>,
    /// The next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `SnapshotDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotDetails {
    /// Name.
    pub snapshot_name: String,
    /// `CREATING | READY | DELETING | FAILED`.
    pub snapshot_status: String,
    /// Version it was taken from.
    pub application_version_id: i64,
    /// When.
    pub snapshot_creation_timestamp: Timestamp,
    /// Runtime.
    pub runtime_environment: String,
}

/// ListApplicationSnapshots output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSnapshotsOutput {
    /// One page.
    pub snapshot_summaries: Vec<SnapshotDetails>,
    /// The next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// DescribeApplicationSnapshot output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotOutput {
    /// The snapshot.
    pub snapshot_details: SnapshotDetails,
}

/// `ApplicationOperationInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationInfo {
    /// `StartApplication`, ...
    pub operation: String,
    /// ID.
    pub operation_id: String,
    /// Started.
    pub start_time: Timestamp,
    /// Ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// `IN_PROGRESS | SUCCESSFUL | FAILED | CANCELLED`.
    pub operation_status: String,
}

/// ListApplicationOperations output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOperationsOutput {
    /// One page, newest first.
    pub application_operation_info_list: Vec<OperationInfo>,
    /// The next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ApplicationOperationInfoDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationDetails {
    /// `StartApplication`, ...
    pub operation: String,
    /// Started.
    pub start_time: Timestamp,
    /// Ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Status.
    pub operation_status: String,
    /// Version change of an update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_version_change_details: Option<Value>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_failure_details: Option<Value>,
}

/// DescribeApplicationOperation output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationOutput {
    /// The operation.
    pub application_operation_info_details: OperationDetails,
}

/// ListTagsForResource output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOutput {
    /// The tags.
    pub tags: Vec<Tag>,
}

/// Add/DeleteApplicationCloudWatchLoggingOption output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingOutput {
    /// ARN.
    #[serde(rename = "ApplicationARN")]
    pub application_arn: String,
    /// The new version.
    pub application_version_id: i64,
    /// Logging options now.
    pub cloud_watch_logging_option_descriptions: Vec<Value>,
    /// The update operation of a running application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// Add/DeleteApplicationVpcConfiguration output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcOutput {
    /// ARN.
    #[serde(rename = "ApplicationARN")]
    pub application_arn: String,
    /// The new version.
    pub application_version_id: i64,
    /// The VPC configuration added (Add only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_configuration_description: Option<Value>,
    /// The update operation of a running application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}
