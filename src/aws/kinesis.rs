//! Kinesis Data Streams for the controller: the calls it makes, with AWS errors classified.

use std::collections::BTreeMap;

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::{ScalingType, StreamMode, StreamModeDetails};

use std::sync::Arc;

use super::errors::{AwsCallError, ErrorClass, classify};
use crate::controller::metrics::Metrics;

/// A stream as DescribeStreamSummary reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamView {
    /// ARN.
    pub arn: String,
    /// CREATING, ACTIVE, UPDATING or DELETING.
    pub status: String,
    /// True for ON_DEMAND.
    pub on_demand: bool,
    /// Open shards.
    pub open_shards: i32,
    /// Retention in hours.
    pub retention_hours: i32,
    /// NONE or KMS.
    pub encryption: String,
    /// Largest record in KiB, when reported.
    pub max_record_kib: Option<i32>,
    /// KMS key, when encrypted.
    pub key_id: Option<String>,
    /// Enabled shard-level metrics.
    pub shard_level_metrics: Vec<String>,
}

/// Maps an SDK error to an [`AwsCallError`].
fn error<E, R>(operation: &'static str, e: SdkError<E, R>) -> AwsCallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("Unknown").to_owned();
            let message = err.message().unwrap_or_default().to_owned();
            AwsCallError {
                operation,
                class: classify(&code, None, &message),
                code,
                message,
            }
        }
        SdkError::ResponseError(_) => AwsCallError {
            operation,
            code: String::new(),
            message: format!("{e}"),
            class: ErrorClass::Transient,
        },
        _ => AwsCallError {
            operation,
            code: String::new(),
            message: format!("{}", aws_sdk_kinesis::error::DisplayErrorContext(&e)),
            class: ErrorClass::Transient,
        },
    }
}

/// The Kinesis calls the controller makes, in one region, each counted in the metrics.
#[derive(Clone)]
pub struct KinesisApi {
    client: aws_sdk_kinesis::Client,
    metrics: Arc<Metrics>,
}

impl KinesisApi {
    /// Calls through `client`, counted in `metrics`.
    pub fn new(client: aws_sdk_kinesis::Client, metrics: Arc<Metrics>) -> Self {
        KinesisApi { client, metrics }
    }

    /// Counts a successful call.
    fn ok(&self, operation: &'static str) {
        self.metrics.aws_call(operation, "ok");
    }

    /// Classifies and counts a failed call.
    fn failed<E, R>(&self, operation: &'static str, e: SdkError<E, R>) -> AwsCallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let e = error(operation, e);
        self.metrics.aws_call(operation, e.class.as_str());
        e
    }

    /// The stream named `name`, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<StreamView>, AwsCallError> {
        match self
            .client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
        {
            Ok(out) => {
                let Some(s) = out.stream_description_summary else {
                    return Ok(None);
                };
                Ok(Some(StreamView {
                    arn: s.stream_arn,
                    status: s.stream_status.as_str().to_owned(),
                    on_demand: s
                        .stream_mode_details
                        .is_some_and(|m| m.stream_mode == StreamMode::OnDemand),
                    open_shards: s.open_shard_count,
                    retention_hours: s.retention_period_hours,
                    encryption: s
                        .encryption_type
                        .map_or_else(|| "NONE".to_owned(), |e| e.as_str().to_owned()),
                    max_record_kib: s.max_record_size_in_kib,
                    key_id: s.key_id,
                    shard_level_metrics: s
                        .enhanced_monitoring
                        .iter()
                        .flat_map(|m| m.shard_level_metrics.iter().flatten())
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                }))
            }
            Err(e) => {
                let e = self.failed("kinesis:DescribeStreamSummary", e);
                if e.class == ErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The stream's tags.
    pub async fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsCallError> {
        let out = self
            .client
            .list_tags_for_stream()
            .stream_name(name)
            .limit(50)
            .send()
            .await
            .map_err(|e| self.failed("kinesis:ListTagsForStream", e))?;
        self.ok("kinesis:ListTagsForStream");
        Ok(out
            .tags
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect())
    }

    /// Creates a stream.
    pub async fn create(
        &self,
        name: &str,
        shards: Option<i32>,
        on_demand: bool,
        max_record_kib: i32,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        let mode = if on_demand {
            StreamMode::OnDemand
        } else {
            StreamMode::Provisioned
        };
        let mut request = self
            .client
            .create_stream()
            .stream_name(name)
            .set_shard_count(shards)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(mode)
                    .build()
                    .expect("mode is set"),
            )
            .set_tags(Some(tags.clone().into_iter().collect()));
        if max_record_kib != 1024 {
            request = request.max_record_size_in_kib(max_record_kib);
        }
        request
            .send()
            .await
            .map_err(|e| self.failed("kinesis:CreateStream", e))?;
        self.ok("kinesis:CreateStream");
        Ok(())
    }

    /// Deletes a stream (and its consumers).
    pub async fn delete(&self, name: &str) -> Result<(), AwsCallError> {
        match self
            .client
            .delete_stream()
            .stream_name(name)
            .enforce_consumer_deletion(true)
            .send()
            .await
        {
            Ok(_) => {
                self.ok("kinesis:DeleteStream");
                Ok(())
            }
            Err(e) => {
                let e = self.failed("kinesis:DeleteStream", e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// One UpdateShardCount step.
    pub async fn update_shard_count(&self, name: &str, target: i32) -> Result<(), AwsCallError> {
        self.client
            .update_shard_count()
            .stream_name(name)
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .map_err(|e| self.failed("kinesis:UpdateShardCount", e))?;
        self.ok("kinesis:UpdateShardCount");
        Ok(())
    }

    /// Moves retention from `current` to `target` hours.
    pub async fn set_retention(
        &self,
        name: &str,
        current: i32,
        target: i32,
    ) -> Result<(), AwsCallError> {
        if target > current {
            self.client
                .increase_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(target)
                .send()
                .await
                .map_err(|e| self.failed("kinesis:IncreaseStreamRetentionPeriod", e))?;
            self.ok("kinesis:IncreaseStreamRetentionPeriod");
        } else {
            self.client
                .decrease_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(target)
                .send()
                .await
                .map_err(|e| self.failed("kinesis:DecreaseStreamRetentionPeriod", e))?;
            self.ok("kinesis:DecreaseStreamRetentionPeriod");
        }
        Ok(())
    }

    /// Switches the capacity mode.
    pub async fn set_mode(&self, arn: &str, on_demand: bool) -> Result<(), AwsCallError> {
        let mode = if on_demand {
            StreamMode::OnDemand
        } else {
            StreamMode::Provisioned
        };
        self.client
            .update_stream_mode()
            .stream_arn(arn)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(mode)
                    .build()
                    .expect("mode is set"),
            )
            .send()
            .await
            .map_err(|e| self.failed("kinesis:UpdateStreamMode", e))?;
        self.ok("kinesis:UpdateStreamMode");
        Ok(())
    }

    /// Encrypts the stream with `key_id`, or stops encryption with the current key.
    pub async fn set_encryption(
        &self,
        name: &str,
        key_id: &str,
        start: bool,
    ) -> Result<(), AwsCallError> {
        let kms = aws_sdk_kinesis::types::EncryptionType::Kms;
        if start {
            self.client
                .start_stream_encryption()
                .stream_name(name)
                .encryption_type(kms)
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| self.failed("kinesis:StartStreamEncryption", e))?;
            self.ok("kinesis:StartStreamEncryption");
        } else {
            self.client
                .stop_stream_encryption()
                .stream_name(name)
                .encryption_type(kms)
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| self.failed("kinesis:StopStreamEncryption", e))?;
            self.ok("kinesis:StopStreamEncryption");
        }
        Ok(())
    }

    /// Enables (`enable`) or disables shard-level metrics.
    pub async fn set_metrics(
        &self,
        name: &str,
        metrics: &[String],
        enable: bool,
    ) -> Result<(), AwsCallError> {
        let metrics: Vec<_> = metrics
            .iter()
            .map(|m| aws_sdk_kinesis::types::MetricsName::from(m.as_str()))
            .collect();
        if enable {
            self.client
                .enable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics))
                .send()
                .await
                .map_err(|e| self.failed("kinesis:EnableEnhancedMonitoring", e))?;
            self.ok("kinesis:EnableEnhancedMonitoring");
        } else {
            self.client
                .disable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics))
                .send()
                .await
                .map_err(|e| self.failed("kinesis:DisableEnhancedMonitoring", e))?;
            self.ok("kinesis:DisableEnhancedMonitoring");
        }
        Ok(())
    }

    /// Sets the largest record size.
    pub async fn set_max_record_size(&self, arn: &str, kib: i32) -> Result<(), AwsCallError> {
        self.client
            .update_max_record_size()
            .stream_arn(arn)
            .max_record_size_in_kib(kib)
            .send()
            .await
            .map_err(|e| self.failed("kinesis:UpdateMaxRecordSize", e))?;
        self.ok("kinesis:UpdateMaxRecordSize");
        Ok(())
    }

    /// Adds or changes tags.
    pub async fn add_tags(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        self.client
            .add_tags_to_stream()
            .stream_name(name)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| self.failed("kinesis:AddTagsToStream", e))?;
        self.ok("kinesis:AddTagsToStream");
        Ok(())
    }
}
