//! Amazon Managed Service for Apache Flink (kinesisanalyticsv2) for the controller: the calls
//! an `AnalyticsApplication` needs, the spec translated into AWS's request shapes, and
//! DescribeApplication translated back into the spec's terms ([`AppSettings`]) so that drift is
//! a plain comparison of two values of the same type.
//!
//! AWS's `DEFAULT` configuration types are resolved to the values they stand for (checkpoints
//! on every 60 s; parallelism 1, 1 per KPU, auto scaling on), so a spec that leaves them out
//! and an application created with them explicitly compare equal.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationCodeConfiguration, ApplicationCodeConfigurationUpdate, ApplicationConfiguration,
    ApplicationConfigurationUpdate, ApplicationDetail, ApplicationRestoreConfiguration,
    ApplicationRestoreType, ApplicationSnapshotConfiguration,
    ApplicationSnapshotConfigurationUpdate, CheckpointConfiguration, CheckpointConfigurationUpdate,
    CodeContent, CodeContentType, CodeContentUpdate, ConfigurationType, EnvironmentProperties,
    EnvironmentPropertyUpdates, FlinkApplicationConfiguration, FlinkApplicationConfigurationUpdate,
    OperationStatus, ParallelismConfiguration, ParallelismConfigurationUpdate, PropertyGroup,
    RunConfiguration, RuntimeEnvironment, S3ContentLocation, S3ContentLocationUpdate,
    SnapshotStatus, Tag,
};
use aws_smithy_types::DateTime;
use parking_lot::Mutex;

use super::call::{CallCounter, Caller};
use super::errors::{AwsCallError, ErrorClass};
use super::rate_limit::RateLimiter;
use crate::api::analytics_application::{
    AnalyticsApplicationSpec, S3Code, SQL_CHUNK_LEN, SQL_PROPERTY_GROUP,
};

/// AWS's quota for the Managed Service for Apache Flink control plane is not published per
/// operation; the adaptive pacing learns it. Five calls per second per account and region is
/// what the fixed `aws` pacing assumes.
pub fn analytics_quota(_operation: &str) -> f64 {
    5.0
}

/// AWS's checkpoint interval under `DEFAULT`.
const DEFAULT_CHECKPOINT_INTERVAL_MS: i64 = 60_000;

/// An application's settings in the spec's terms, as the spec asks for them or as Describe
/// reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSettings {
    /// `FLINK-1_20` and the like.
    pub runtime: String,
    /// The service execution role.
    pub role_arn: String,
    /// The JAR or ZIP in S3, when there is one.
    pub code: Option<S3Code>,
    /// Every property group, the SQL's (`kinesis.operator.sql`) included.
    pub properties: BTreeMap<String, BTreeMap<String, String>>,
    /// Parallelism, parallelism per KPU, auto scaling.
    pub parallelism: (i32, i32, bool),
    /// Checkpointing on, interval in milliseconds.
    pub checkpointing: (bool, i64),
    /// Snapshots on.
    pub snapshots: bool,
}

impl AppSettings {
    /// The settings `spec` asks for.
    pub fn from_spec(spec: &AnalyticsApplicationSpec) -> Self {
        let runtime = serde_json::to_value(spec.runtime)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut properties = spec.properties.0.clone();
        if let Some(sql) = &spec.code.sql {
            properties.insert(SQL_PROPERTY_GROUP.to_owned(), sql_properties(sql));
        }
        AppSettings {
            runtime,
            role_arn: spec.service_execution_role_arn.clone(),
            code: spec.code.s3.clone(),
            properties,
            parallelism: spec.parallelism.as_ref().map_or((1, 1, true), |p| {
                (p.parallelism, p.parallelism_per_kpu, p.auto_scaling)
            }),
            checkpointing: spec
                .checkpointing
                .as_ref()
                .map_or((true, DEFAULT_CHECKPOINT_INTERVAL_MS), |c| {
                    (c.enabled, c.interval_millis)
                }),
            snapshots: spec.snapshots_enabled(),
        }
    }

    /// What differs from `other`, in words (`code`, `properties`, ...), for events.
    pub fn differences(&self, other: &AppSettings) -> Vec<&'static str> {
        let mut what = Vec::new();
        if self.runtime != other.runtime {
            what.push("runtime");
        }
        if self.role_arn != other.role_arn {
            what.push("serviceExecutionRoleARN");
        }
        if self.code != other.code {
            what.push("code.s3");
        }
        if self.properties.get(SQL_PROPERTY_GROUP) != other.properties.get(SQL_PROPERTY_GROUP) {
            what.push("code.sql");
        }
        let without_sql = |p: &BTreeMap<String, BTreeMap<String, String>>| {
            p.iter()
                .filter(|(g, _)| g.as_str() != SQL_PROPERTY_GROUP)
                .map(|(g, m)| (g.clone(), m.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        if without_sql(&self.properties) != without_sql(&other.properties) {
            what.push("properties");
        }
        if self.parallelism != other.parallelism {
            what.push("parallelism");
        }
        if self.checkpointing != other.checkpointing {
            what.push("checkpointing");
        }
        if self.snapshots != other.snapshots {
            what.push("snapshots");
        }
        what
    }
}

/// `sql` as the property map of the group `kinesis.operator.sql` (DESIGN §3.4): the key
/// `statements` when it fits in one value, else `statements.1`, `statements.2`, ... of at most
/// [`SQL_CHUNK_LEN`] characters each.
pub fn sql_properties(sql: &str) -> BTreeMap<String, String> {
    let chars: Vec<char> = sql.chars().collect();
    if chars.len() <= SQL_CHUNK_LEN {
        return [("statements".to_owned(), sql.to_owned())].into();
    }
    chars
        .chunks(SQL_CHUNK_LEN)
        .enumerate()
        .map(|(i, chunk)| (format!("statements.{}", i + 1), chunk.iter().collect()))
        .collect()
}

/// An application as DescribeApplication reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppView {
    /// ARN.
    pub arn: String,
    /// READY, STARTING, RUNNING, UPDATING, STOPPING, FORCE_STOPPING, DELETING, ...
    pub status: String,
    /// The version UpdateApplication must name.
    pub version_id: i64,
    /// When it was created, in seconds since the epoch (an application deleted and re-created
    /// under the same name has a new one).
    pub created_at: i64,
    /// Its settings.
    pub settings: AppSettings,
}

/// What an application's latest operation says about why it is not running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LatestOperation {
    /// It failed: AWS's (Flink's) words.
    Failed(String),
    /// A StopApplication (someone stopped it).
    Stopped,
    /// Anything else (it ran, then stopped on its own).
    Other,
}

/// How StartApplication restores state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restore {
    /// From the latest snapshot.
    Latest,
    /// From nothing.
    Skip,
}

/// The Managed Service for Apache Flink calls the controller makes, in one region, each
/// rate-limited below AWS's quota and counted in the metrics.
#[derive(Clone)]
pub struct AnalyticsApi {
    client: aws_sdk_kinesisanalyticsv2::Client,
    caller: Caller,
    /// ARN and creation time of each application last described: tagging calls take the ARN
    /// and DeleteApplication the creation time, which would otherwise cost a Describe each.
    seen: Arc<Mutex<HashMap<String, (String, DateTime)>>>,
}

impl AnalyticsApi {
    /// Calls through `client`, paced by `limiter`, counted in `metrics`.
    pub fn new(
        client: aws_sdk_kinesisanalyticsv2::Client,
        metrics: Arc<dyn CallCounter>,
        limiter: Arc<RateLimiter>,
    ) -> Self {
        AnalyticsApi {
            client,
            caller: Caller::new(metrics, limiter),
            seen: Arc::default(),
        }
    }

    /// The application named `name`, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<AppView>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("kinesisanalytics:DescribeApplication", || {
                self.client
                    .describe_application()
                    .application_name(name)
                    .send()
            })
            .await?;
        let Some(detail) = out.and_then(|o| o.application_detail) else {
            self.seen.lock().remove(name);
            return Ok(None);
        };
        if let Some(created) = detail.create_timestamp {
            self.seen
                .lock()
                .insert(name.to_owned(), (detail.application_arn.clone(), created));
        }
        Ok(Some(view(&detail)))
    }

    /// The ARN and creation time of `name`, from the last Describe or a new one.
    async fn identity(&self, name: &str) -> Result<Option<(String, DateTime)>, AwsCallError> {
        if let Some(seen) = self.seen.lock().get(name).cloned() {
            return Ok(Some(seen));
        }
        self.describe(name).await?;
        Ok(self.seen.lock().get(name).cloned())
    }

    /// Creates an application.
    pub async fn create(
        &self,
        name: &str,
        settings: &AppSettings,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        const OP: &str = "kinesisanalytics:CreateApplication";
        let request = self
            .client
            .create_application()
            .application_name(name)
            .runtime_environment(RuntimeEnvironment::from(settings.runtime.as_str()))
            .service_execution_role(&settings.role_arn)
            .application_configuration(configuration(settings).map_err(|e| build_error(OP, e))?)
            .set_tags(Some(aws_tags(tags).map_err(|e| build_error(OP, e))?));
        self.caller
            .call(OP, || request.clone().send())
            .await
            .map(drop)
    }

    /// Moves version `version_id` of the application from `current` to `wanted`, sending only
    /// what differs.
    pub async fn update(
        &self,
        name: &str,
        version_id: i64,
        current: &AppSettings,
        wanted: &AppSettings,
    ) -> Result<(), AwsCallError> {
        const OP: &str = "kinesisanalytics:UpdateApplication";
        let mut request = self
            .client
            .update_application()
            .application_name(name)
            .current_application_version_id(version_id);
        if current.runtime != wanted.runtime {
            request = request
                .runtime_environment_update(RuntimeEnvironment::from(wanted.runtime.as_str()));
        }
        if current.role_arn != wanted.role_arn {
            request = request.service_execution_role_update(&wanted.role_arn);
        }
        request = request.application_configuration_update(
            configuration_update(current, wanted).map_err(|e| build_error(OP, e))?,
        );
        self.caller
            .call(OP, || request.clone().send())
            .await
            .map(drop)
    }

    /// Starts the application, restoring as `restore` says.
    pub async fn start(&self, name: &str, restore: Restore) -> Result<(), AwsCallError> {
        const OP: &str = "kinesisanalytics:StartApplication";
        let restore = ApplicationRestoreConfiguration::builder()
            .application_restore_type(match restore {
                Restore::Latest => ApplicationRestoreType::RestoreFromLatestSnapshot,
                Restore::Skip => ApplicationRestoreType::SkipRestoreFromSnapshot,
            })
            .build()
            .map_err(|e| build_error(OP, e))?;
        let run = RunConfiguration::builder()
            .application_restore_configuration(restore)
            .build();
        self.caller
            .call(OP, || {
                self.client
                    .start_application()
                    .application_name(name)
                    .run_configuration(run.clone())
                    .send()
            })
            .await
            .map(drop)
    }

    /// Stops the application (taking a snapshot when snapshots are on).
    pub async fn stop(&self, name: &str) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesisanalytics:StopApplication", || {
                self.client
                    .stop_application()
                    .application_name(name)
                    .force(false)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Deletes the application; one already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), AwsCallError> {
        let Some((_, created)) = self.identity(name).await? else {
            return Ok(());
        };
        self.caller
            .call_unless_gone("kinesisanalytics:DeleteApplication", || {
                self.client
                    .delete_application()
                    .application_name(name)
                    .create_timestamp(created)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Whether the application has a snapshot to resume from.
    pub async fn has_snapshot(&self, name: &str) -> Result<bool, AwsCallError> {
        let out = self
            .caller
            .call("kinesisanalytics:ListApplicationSnapshots", || {
                self.client
                    .list_application_snapshots()
                    .application_name(name)
                    .limit(50)
                    .send()
            })
            .await?;
        Ok(out
            .snapshot_summaries()
            .iter()
            .any(|s| s.snapshot_status() == &SnapshotStatus::Ready))
    }

    /// The application's latest operation: why it failed, in AWS's (Flink's) words, or
    /// whether it was a StopApplication.
    pub async fn latest_operation(&self, name: &str) -> Result<LatestOperation, AwsCallError> {
        let out = self
            .caller
            .call("kinesisanalytics:ListApplicationOperations", || {
                self.client
                    .list_application_operations()
                    .application_name(name)
                    .limit(10)
                    .send()
            })
            .await?;
        let latest = out
            .application_operation_info_list()
            .iter()
            .max_by_key(|o| o.start_time().map(|t| (t.secs(), t.subsec_nanos())));
        let Some(latest) = latest else {
            return Ok(LatestOperation::Other);
        };
        if latest.operation_status() != Some(&OperationStatus::Failed) {
            return Ok(match latest.operation() {
                Some("StopApplication") => LatestOperation::Stopped,
                _ => LatestOperation::Other,
            });
        }
        let Some(id) = latest.operation_id() else {
            return Ok(LatestOperation::Other);
        };
        let operation = latest
            .operation()
            .unwrap_or("the latest operation")
            .to_owned();
        let details = self
            .caller
            .call("kinesisanalytics:DescribeApplicationOperation", || {
                self.client
                    .describe_application_operation()
                    .application_name(name)
                    .operation_id(id)
                    .send()
            })
            .await?;
        let message = details
            .application_operation_info_details()
            .and_then(|d| d.operation_failure_details())
            .and_then(|f| f.error_info())
            .and_then(|e| e.error_string())
            .unwrap_or("AWS gave no details");
        Ok(LatestOperation::Failed(format!(
            "{operation} failed: {message}"
        )))
    }

    /// The application's tags.
    pub async fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsCallError> {
        let Some((arn, _)) = self.identity(name).await? else {
            return Ok(BTreeMap::new());
        };
        let out = self
            .caller
            .call("kinesisanalytics:ListTagsForResource", || {
                self.client
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
            })
            .await?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect())
    }

    /// Adds or overwrites `tags`.
    pub async fn tag(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        const OP: &str = "kinesisanalytics:TagResource";
        let Some((arn, _)) = self.identity(name).await? else {
            return Ok(());
        };
        let tags = aws_tags(tags).map_err(|e| build_error(OP, e))?;
        self.caller
            .call(OP, || {
                self.client
                    .tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Removes the tags `keys`.
    pub async fn untag(&self, name: &str, keys: &[String]) -> Result<(), AwsCallError> {
        let Some((arn, _)) = self.identity(name).await? else {
            return Ok(());
        };
        self.caller
            .call("kinesisanalytics:UntagResource", || {
                self.client
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await
            .map(drop)
    }
}

super::owned_resource!(
    AnalyticsApi,
    AppView,
    "DeleteApplication",
    "TagResource",
    "UntagResource"
);

/// The spec's settings as CreateApplication's configuration.
fn configuration(
    settings: &AppSettings,
) -> Result<ApplicationConfiguration, aws_smithy_types::error::operation::BuildError> {
    let mut config = ApplicationConfiguration::builder()
        .flink_application_configuration(
            FlinkApplicationConfiguration::builder()
                .checkpoint_configuration(
                    CheckpointConfiguration::builder()
                        .configuration_type(ConfigurationType::Custom)
                        .checkpointing_enabled(settings.checkpointing.0)
                        .checkpoint_interval(settings.checkpointing.1)
                        .build()?,
                )
                .parallelism_configuration(
                    ParallelismConfiguration::builder()
                        .configuration_type(ConfigurationType::Custom)
                        .parallelism(settings.parallelism.0)
                        .parallelism_per_kpu(settings.parallelism.1)
                        .auto_scaling_enabled(settings.parallelism.2)
                        .build()?,
                )
                .build(),
        )
        .application_snapshot_configuration(
            ApplicationSnapshotConfiguration::builder()
                .snapshots_enabled(settings.snapshots)
                .build()?,
        );
    if !settings.properties.is_empty() {
        config = config.environment_properties(
            EnvironmentProperties::builder()
                .set_property_groups(Some(property_groups(&settings.properties)?))
                .build()?,
        );
    }
    if let Some(code) = &settings.code {
        config = config.application_code_configuration(
            ApplicationCodeConfiguration::builder()
                .code_content_type(CodeContentType::Zipfile)
                .code_content(
                    CodeContent::builder()
                        .s3_content_location(
                            S3ContentLocation::builder()
                                .bucket_arn(&code.bucket_arn)
                                .file_key(&code.file_key)
                                .set_object_version(code.object_version.clone())
                                .build()?,
                        )
                        .build(),
                )
                .build()?,
        );
    }
    Ok(config.build())
}

/// What UpdateApplication's configuration update carries to move `current` to `wanted`.
fn configuration_update(
    current: &AppSettings,
    wanted: &AppSettings,
) -> Result<ApplicationConfigurationUpdate, aws_smithy_types::error::operation::BuildError> {
    let mut update = ApplicationConfigurationUpdate::builder();
    if current.checkpointing != wanted.checkpointing || current.parallelism != wanted.parallelism {
        update = update.flink_application_configuration_update(
            FlinkApplicationConfigurationUpdate::builder()
                .checkpoint_configuration_update(
                    CheckpointConfigurationUpdate::builder()
                        .configuration_type_update(ConfigurationType::Custom)
                        .checkpointing_enabled_update(wanted.checkpointing.0)
                        .checkpoint_interval_update(wanted.checkpointing.1)
                        .build(),
                )
                .parallelism_configuration_update(
                    ParallelismConfigurationUpdate::builder()
                        .configuration_type_update(ConfigurationType::Custom)
                        .parallelism_update(wanted.parallelism.0)
                        .parallelism_per_kpu_update(wanted.parallelism.1)
                        .auto_scaling_enabled_update(wanted.parallelism.2)
                        .build(),
                )
                .build(),
        );
    }
    if current.properties != wanted.properties {
        update = update.environment_property_updates(
            EnvironmentPropertyUpdates::builder()
                .set_property_groups(Some(property_groups(&wanted.properties)?))
                .build()?,
        );
    }
    if current.snapshots != wanted.snapshots {
        update = update.application_snapshot_configuration_update(
            ApplicationSnapshotConfigurationUpdate::builder()
                .snapshots_enabled_update(wanted.snapshots)
                .build()?,
        );
    }
    if current.code != wanted.code
        && let Some(code) = &wanted.code
    {
        update = update.application_code_configuration_update(
            ApplicationCodeConfigurationUpdate::builder()
                .code_content_type_update(CodeContentType::Zipfile)
                .code_content_update(
                    CodeContentUpdate::builder()
                        .s3_content_location_update(
                            S3ContentLocationUpdate::builder()
                                .bucket_arn_update(&code.bucket_arn)
                                .file_key_update(&code.file_key)
                                .set_object_version_update(code.object_version.clone())
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    Ok(update.build())
}

fn property_groups(
    properties: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<PropertyGroup>, aws_smithy_types::error::operation::BuildError> {
    properties
        .iter()
        .map(|(group, map)| {
            PropertyGroup::builder()
                .property_group_id(group)
                .set_property_map(Some(map.clone().into_iter().collect()))
                .build()
        })
        .collect()
}

fn aws_tags(
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Tag>, aws_smithy_types::error::operation::BuildError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Describe's application in the spec's terms, `DEFAULT` configuration types resolved.
fn view(detail: &ApplicationDetail) -> AppView {
    let config = detail.application_configuration_description();
    let flink = config.and_then(|c| c.flink_application_configuration_description());
    let checkpointing = flink
        .and_then(|f| f.checkpoint_configuration_description())
        .map_or((true, DEFAULT_CHECKPOINT_INTERVAL_MS), |c| {
            if c.configuration_type() == Some(&ConfigurationType::Default) {
                (true, DEFAULT_CHECKPOINT_INTERVAL_MS)
            } else {
                (
                    c.checkpointing_enabled().unwrap_or(true),
                    c.checkpoint_interval()
                        .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MS),
                )
            }
        });
    let parallelism = flink
        .and_then(|f| f.parallelism_configuration_description())
        .map_or((1, 1, true), |p| {
            if p.configuration_type() == Some(&ConfigurationType::Default) {
                (1, 1, true)
            } else {
                (
                    p.parallelism().unwrap_or(1),
                    p.parallelism_per_kpu().unwrap_or(1),
                    p.auto_scaling_enabled().unwrap_or(true),
                )
            }
        });
    let properties = config
        .and_then(|c| c.environment_property_descriptions())
        .map(|e| {
            e.property_group_descriptions()
                .iter()
                .map(|g| {
                    (
                        g.property_group_id().to_owned(),
                        g.property_map()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let code = config
        .and_then(|c| c.application_code_configuration_description())
        .and_then(|c| c.code_content_description())
        .and_then(|c| c.s3_application_code_location_description())
        .map(|l| S3Code {
            bucket_arn: l.bucket_arn().to_owned(),
            file_key: l.file_key().to_owned(),
            object_version: l.object_version().map(str::to_owned),
        });
    let snapshots = config
        .and_then(|c| c.application_snapshot_configuration_description())
        .is_some_and(|s| s.snapshots_enabled());
    AppView {
        arn: detail.application_arn().to_owned(),
        status: detail.application_status().as_str().to_owned(),
        version_id: detail.application_version_id(),
        created_at: detail.create_timestamp().map_or(0, DateTime::secs),
        settings: AppSettings {
            runtime: detail.runtime_environment().as_str().to_owned(),
            role_arn: detail
                .service_execution_role()
                .unwrap_or_default()
                .to_owned(),
            code,
            properties,
            parallelism,
            checkpointing,
            snapshots,
        },
    }
}

/// A request the SDK refused to build: a field the spec left out that AWS requires. The
/// schema requires them all, so this names the field for the rare object that bypassed it.
fn build_error(
    operation: &'static str,
    e: aws_smithy_types::error::operation::BuildError,
) -> AwsCallError {
    AwsCallError {
        operation,
        code: "InvalidSpec".to_owned(),
        message: format!("the request could not be built from the spec: {e}"),
        class: ErrorClass::Terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_travels_in_one_value_or_in_ordered_pieces_of_at_most_2048_characters() {
        assert_eq!(
            sql_properties("SELECT 1"),
            BTreeMap::from([("statements".to_owned(), "SELECT 1".to_owned())])
        );
        let long: String = "é".repeat(SQL_CHUNK_LEN * 2 + 5);
        let pieces = sql_properties(&long);
        let keys: Vec<&str> = pieces.keys().map(String::as_str).collect();
        assert_eq!(keys, ["statements.1", "statements.2", "statements.3"]);
        assert_eq!(pieces["statements.1"].chars().count(), SQL_CHUNK_LEN);
        assert_eq!(pieces["statements.3"].chars().count(), 5);
        let joined: String = pieces.values().cloned().collect();
        assert_eq!(joined, long, "the pieces join back to the SQL");
    }

    #[test]
    fn each_changed_setting_is_named_and_only_it_is_sent() {
        let spec: AnalyticsApplicationSpec = serde_json::from_value(serde_json::json!({
            "serviceExecutionRoleARN": "arn:aws:iam::123456789012:role/flink",
            "code": {"sql": "SELECT 1", "s3": {"bucketARN": "arn:aws:s3:::code", "fileKey": "app.jar"}},
            "properties": {"app": {"k": "v"}},
        }))
        .unwrap();
        let base = AppSettings::from_spec(&spec);
        type Change = fn(&mut AppSettings);
        let cases: [(&str, Change); 8] = [
            ("runtime", |s| s.runtime = "FLINK-1_19".into()),
            ("serviceExecutionRoleARN", |s| {
                s.role_arn = "arn:aws:iam::123456789012:role/other".into()
            }),
            ("code.s3", |s| {
                s.code.as_mut().unwrap().file_key = "v2.jar".into()
            }),
            ("code.sql", |s| {
                s.properties
                    .insert(SQL_PROPERTY_GROUP.into(), sql_properties("SELECT 2"));
            }),
            ("properties", |s| {
                s.properties
                    .insert("app".into(), [("k".to_owned(), "w".to_owned())].into());
            }),
            ("parallelism", |s| s.parallelism = (4, 2, false)),
            ("checkpointing", |s| s.checkpointing = (false, 60_000)),
            ("snapshots", |s| s.snapshots = false),
        ];
        for (what, change) in cases {
            let mut wanted = base.clone();
            change(&mut wanted);
            assert_eq!(wanted.differences(&base), [what], "{what}");
            let update = configuration_update(&base, &wanted).unwrap();
            let sends = [
                update.flink_application_configuration_update.is_some(),
                update.environment_property_updates.is_some(),
                update.application_snapshot_configuration_update.is_some(),
                update.application_code_configuration_update.is_some(),
            ];
            let expected = match what {
                "parallelism" | "checkpointing" => [true, false, false, false],
                "code.sql" | "properties" => [false, true, false, false],
                "snapshots" => [false, false, true, false],
                "code.s3" => [false, false, false, true],
                _ => [false; 4],
            };
            assert_eq!(sends, expected, "{what}: only what differs is sent");
        }
    }

    #[test]
    fn a_spec_without_optional_settings_equals_what_aws_describes_for_defaults() {
        let spec: AnalyticsApplicationSpec = serde_json::from_value(serde_json::json!({
            "serviceExecutionRoleARN": "arn:aws:iam::123456789012:role/flink",
            "code": {"sql": "SELECT 1"},
        }))
        .unwrap();
        let wanted = AppSettings::from_spec(&spec);
        assert_eq!(wanted.runtime, "FLINK-1_20");
        assert_eq!(wanted.parallelism, (1, 1, true));
        assert_eq!(wanted.checkpointing, (true, 60_000));
        assert!(wanted.snapshots, "snapshots are on unless turned off");
        let detail = ApplicationDetail::builder()
            .application_arn("arn:aws:kinesisanalytics:us-east-1:123456789012:application/a")
            .application_name("a")
            .runtime_environment(RuntimeEnvironment::from("FLINK-1_20"))
            .service_execution_role("arn:aws:iam::123456789012:role/flink")
            .application_status(aws_sdk_kinesisanalyticsv2::types::ApplicationStatus::Ready)
            .application_version_id(1)
            .application_configuration_description(
                aws_sdk_kinesisanalyticsv2::types::ApplicationConfigurationDescription::builder()
                    .flink_application_configuration_description(
                        aws_sdk_kinesisanalyticsv2::types::FlinkApplicationConfigurationDescription::builder()
                            .checkpoint_configuration_description(
                                aws_sdk_kinesisanalyticsv2::types::CheckpointConfigurationDescription::builder()
                                    .configuration_type(ConfigurationType::Default)
                                    .build(),
                            )
                            .build(),
                    )
                    .environment_property_descriptions(
                        aws_sdk_kinesisanalyticsv2::types::EnvironmentPropertyDescriptions::builder()
                            .property_group_descriptions(
                                PropertyGroup::builder()
                                    .property_group_id(SQL_PROPERTY_GROUP)
                                    .property_map("statements", "SELECT 1")
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .application_snapshot_configuration_description(
                        aws_sdk_kinesisanalyticsv2::types::ApplicationSnapshotConfigurationDescription::builder()
                            .snapshots_enabled(true)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let seen = view(&detail);
        assert_eq!(seen.settings, wanted);
        assert!(seen.settings.differences(&wanted).is_empty());
        let mut changed = wanted.clone();
        changed
            .properties
            .insert(SQL_PROPERTY_GROUP.into(), sql_properties("SELECT 2"));
        changed.parallelism = (2, 1, true);
        assert_eq!(changed.differences(&wanted), ["code.sql", "parallelism"]);
    }
}
