//! Kinesis Data Streams for the controller: the calls it makes, with AWS errors classified.

use std::collections::BTreeMap;

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::{ScalingType, StreamMode, StreamModeDetails};

use std::sync::Arc;

use super::errors::{AwsCallError, ErrorClass, classify};
use super::rate_limit::RateLimiter;
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
    /// When the stream was created, in seconds since the epoch: a stream deleted and
    /// re-created under the same name (and so the same ARN) has a new one.
    pub created_at: i64,
    /// Registered enhanced fan-out consumers.
    pub consumer_count: i32,
    /// Warm throughput target in MiB/s, when set (OnDemand streams).
    pub warm_throughput_mibps: Option<i32>,
}

/// An enhanced fan-out consumer as ListStreamConsumers reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerView {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// CREATING, ACTIVE or DELETING.
    pub status: String,
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

/// The Kinesis calls the controller makes, in one region, each rate-limited below AWS's quota
/// and counted in the metrics.
#[derive(Clone)]
pub struct KinesisApi {
    client: aws_sdk_kinesis::Client,
    metrics: Arc<Metrics>,
    limiter: Arc<RateLimiter>,
}

impl KinesisApi {
    /// Calls through `client`, paced by `limiter`, counted in `metrics`.
    pub fn new(
        client: aws_sdk_kinesis::Client,
        metrics: Arc<Metrics>,
        limiter: Arc<RateLimiter>,
    ) -> Self {
        KinesisApi {
            client,
            metrics,
            limiter,
        }
    }

    /// Waits for `operation`'s rate limit.
    async fn pace(&self, operation: &'static str) {
        self.limiter.acquire(operation).await;
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

    /// Maps a failed call whose NotFound means "already as wanted" to `Ok`.
    fn not_found_ok<E, R>(
        &self,
        operation: &'static str,
        e: SdkError<E, R>,
    ) -> Result<(), AwsCallError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let e = self.failed(operation, e);
        if e.class == ErrorClass::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    }

    /// The stream named `name`, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<StreamView>, AwsCallError> {
        const OP: &str = "kinesis:DescribeStreamSummary";
        self.pace(OP).await;
        match self
            .client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
        {
            Ok(out) => {
                self.ok(OP);
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
                    created_at: s.stream_creation_timestamp.secs(),
                    consumer_count: s.consumer_count.unwrap_or_default(),
                    warm_throughput_mibps: s.warm_throughput.and_then(|w| w.target_mibps),
                }))
            }
            Err(e) => {
                let e = self.failed(OP, e);
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
        const OP: &str = "kinesis:ListTagsForStream";
        self.pace(OP).await;
        let out = self
            .client
            .list_tags_for_stream()
            .stream_name(name)
            .limit(50)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(out
            .tags
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect())
    }

    /// Creates a stream.
    pub async fn create(&self, name: &str, stream: &NewStream<'_>) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:CreateStream";
        let mode = if stream.on_demand {
            StreamMode::OnDemand
        } else {
            StreamMode::Provisioned
        };
        let mut request = self
            .client
            .create_stream()
            .stream_name(name)
            .set_shard_count(stream.shards)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(mode)
                    .build()
                    .expect("mode is set"),
            )
            .set_warm_throughput_mibps(stream.warm_throughput_mibps)
            .set_tags(Some(stream.tags.clone().into_iter().collect()));
        if stream.max_record_kib != 1024 {
            request = request.max_record_size_in_kib(stream.max_record_kib);
        }
        self.pace(OP).await;
        request.send().await.map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// Deletes a stream (and its consumers); a stream already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:DeleteStream";
        self.pace(OP).await;
        match self
            .client
            .delete_stream()
            .stream_name(name)
            .enforce_consumer_deletion(true)
            .send()
            .await
        {
            Ok(_) => {
                self.ok(OP);
                Ok(())
            }
            Err(e) => self.not_found_ok(OP, e),
        }
    }

    /// One UpdateShardCount step.
    pub async fn update_shard_count(&self, name: &str, target: i32) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:UpdateShardCount";
        self.pace(OP).await;
        self.client
            .update_shard_count()
            .stream_name(name)
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
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
            const OP: &str = "kinesis:IncreaseStreamRetentionPeriod";
            self.pace(OP).await;
            self.client
                .increase_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(target)
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
        } else {
            const OP: &str = "kinesis:DecreaseStreamRetentionPeriod";
            self.pace(OP).await;
            self.client
                .decrease_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(target)
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
        }
        Ok(())
    }

    /// Switches the capacity mode.
    pub async fn set_mode(&self, arn: &str, on_demand: bool) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:UpdateStreamMode";
        let mode = if on_demand {
            StreamMode::OnDemand
        } else {
            StreamMode::Provisioned
        };
        self.pace(OP).await;
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
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
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
            const OP: &str = "kinesis:StartStreamEncryption";
            self.pace(OP).await;
            self.client
                .start_stream_encryption()
                .stream_name(name)
                .encryption_type(kms)
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
        } else {
            const OP: &str = "kinesis:StopStreamEncryption";
            self.pace(OP).await;
            self.client
                .stop_stream_encryption()
                .stream_name(name)
                .encryption_type(kms)
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
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
            const OP: &str = "kinesis:EnableEnhancedMonitoring";
            self.pace(OP).await;
            self.client
                .enable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics))
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
        } else {
            const OP: &str = "kinesis:DisableEnhancedMonitoring";
            self.pace(OP).await;
            self.client
                .disable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics))
                .send()
                .await
                .map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
        }
        Ok(())
    }

    /// Sets the largest record size.
    pub async fn set_max_record_size(&self, arn: &str, kib: i32) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:UpdateMaxRecordSize";
        self.pace(OP).await;
        self.client
            .update_max_record_size()
            .stream_arn(arn)
            .max_record_size_in_kib(kib)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// Sets the warm throughput of an OnDemand stream (0 turns it off).
    pub async fn set_warm_throughput(&self, arn: &str, mibps: i32) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:UpdateStreamWarmThroughput";
        self.pace(OP).await;
        self.client
            .update_stream_warm_throughput()
            .stream_arn(arn)
            .warm_throughput_mibps(mibps)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// Adds or changes tags.
    pub async fn add_tags(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:AddTagsToStream";
        self.pace(OP).await;
        self.client
            .add_tags_to_stream()
            .stream_name(name)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// Removes tags.
    pub async fn remove_tags(&self, name: &str, keys: &[String]) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:RemoveTagsFromStream";
        self.pace(OP).await;
        self.client
            .remove_tags_from_stream()
            .stream_name(name)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// The stream's enhanced fan-out consumers.
    pub async fn consumers(&self, stream_arn: &str) -> Result<Vec<ConsumerView>, AwsCallError> {
        const OP: &str = "kinesis:ListStreamConsumers";
        let mut consumers = Vec::new();
        let mut token = None;
        loop {
            self.pace(OP).await;
            let request = match token.take() {
                Some(t) => self.client.list_stream_consumers().next_token(t),
                None => self.client.list_stream_consumers().stream_arn(stream_arn),
            };
            let out = request.send().await.map_err(|e| self.failed(OP, e))?;
            self.ok(OP);
            consumers.extend(
                out.consumers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| ConsumerView {
                        name: c.consumer_name,
                        arn: c.consumer_arn,
                        status: c.consumer_status.as_str().to_owned(),
                    }),
            );
            match out.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(consumers),
            }
        }
    }

    /// Registers an enhanced fan-out consumer.
    pub async fn register_consumer(
        &self,
        stream_arn: &str,
        name: &str,
    ) -> Result<ConsumerView, AwsCallError> {
        const OP: &str = "kinesis:RegisterStreamConsumer";
        self.pace(OP).await;
        let out = self
            .client
            .register_stream_consumer()
            .stream_arn(stream_arn)
            .consumer_name(name)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(out.consumer.map_or_else(
            || ConsumerView {
                name: name.to_owned(),
                arn: String::new(),
                status: "CREATING".to_owned(),
            },
            |c| ConsumerView {
                name: c.consumer_name,
                arn: c.consumer_arn,
                status: c.consumer_status.as_str().to_owned(),
            },
        ))
    }

    /// Deregisters an enhanced fan-out consumer; one already gone is not an error.
    pub async fn deregister_consumer(
        &self,
        stream_arn: &str,
        name: &str,
    ) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:DeregisterStreamConsumer";
        self.pace(OP).await;
        match self
            .client
            .deregister_stream_consumer()
            .stream_arn(stream_arn)
            .consumer_name(name)
            .send()
            .await
        {
            Ok(_) => {
                self.ok(OP);
                Ok(())
            }
            Err(e) => self.not_found_ok(OP, e),
        }
    }

    /// The stream's resource policy, `None` when it has none.
    pub async fn resource_policy(&self, arn: &str) -> Result<Option<String>, AwsCallError> {
        const OP: &str = "kinesis:GetResourcePolicy";
        self.pace(OP).await;
        match self
            .client
            .get_resource_policy()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(out) => {
                self.ok(OP);
                let policy = out.policy;
                Ok((!policy.trim().is_empty() && policy.trim() != "{}").then_some(policy))
            }
            Err(e) => {
                let e = self.failed(OP, e);
                if e.class == ErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Sets the stream's resource policy.
    pub async fn put_resource_policy(&self, arn: &str, policy: &str) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:PutResourcePolicy";
        self.pace(OP).await;
        self.client
            .put_resource_policy()
            .resource_arn(arn)
            .policy(policy)
            .send()
            .await
            .map_err(|e| self.failed(OP, e))?;
        self.ok(OP);
        Ok(())
    }

    /// Removes the stream's resource policy; none there is not an error.
    pub async fn delete_resource_policy(&self, arn: &str) -> Result<(), AwsCallError> {
        const OP: &str = "kinesis:DeleteResourcePolicy";
        self.pace(OP).await;
        match self
            .client
            .delete_resource_policy()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(_) => {
                self.ok(OP);
                Ok(())
            }
            Err(e) => self.not_found_ok(OP, e),
        }
    }
}

/// What CreateStream is asked for.
#[derive(Clone, Debug)]
pub struct NewStream<'a> {
    /// Shards (Provisioned).
    pub shards: Option<i32>,
    /// OnDemand mode.
    pub on_demand: bool,
    /// Largest record in KiB.
    pub max_record_kib: i32,
    /// Warm throughput in MiB/s (OnDemand).
    pub warm_throughput_mibps: Option<i32>,
    /// Tags, the ownership tags included.
    pub tags: &'a BTreeMap<String, String>,
}
