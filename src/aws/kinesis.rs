//! Kinesis Data Streams for the controller: the calls it makes, with AWS errors classified.

use std::collections::BTreeMap;

use std::sync::Arc;

use aws_sdk_kinesis::types::{ScalingType, StreamMode, StreamModeDetails};

use super::call::{CallCounter, Caller};
use super::errors::AwsCallError;
use super::rate_limit::RateLimiter;

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

/// The Kinesis calls the controller makes, in one region, each rate-limited below AWS's quota
/// and counted in the metrics.
#[derive(Clone)]
pub struct KinesisApi {
    client: aws_sdk_kinesis::Client,
    caller: Caller,
}

impl KinesisApi {
    /// Calls through `client`, paced by `limiter`, counted in `metrics`.
    pub fn new(
        client: aws_sdk_kinesis::Client,
        metrics: Arc<dyn CallCounter>,
        limiter: Arc<RateLimiter>,
    ) -> Self {
        KinesisApi {
            client,
            caller: Caller::new(metrics, limiter),
        }
    }

    /// The stream named `name`, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<StreamView>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("kinesis:DescribeStreamSummary", || {
                self.client
                    .describe_stream_summary()
                    .stream_name(name)
                    .send()
            })
            .await?;
        let Some(s) = out.and_then(|o| o.stream_description_summary) else {
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

    /// The stream's tags.
    pub async fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsCallError> {
        let out = self
            .caller
            .call("kinesis:ListTagsForStream", || {
                self.client
                    .list_tags_for_stream()
                    .stream_name(name)
                    .limit(50)
                    .send()
            })
            .await?;
        Ok(out
            .tags
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect())
    }

    /// Creates a stream.
    pub async fn create(&self, name: &str, stream: &NewStream<'_>) -> Result<(), AwsCallError> {
        let mut request = self
            .client
            .create_stream()
            .stream_name(name)
            .set_shard_count(stream.shards)
            .stream_mode_details(mode_details(stream.on_demand))
            .set_warm_throughput_mibps(stream.warm_throughput_mibps)
            .set_tags(Some(stream.tags.clone().into_iter().collect()));
        if stream.max_record_kib != 1024 {
            request = request.max_record_size_in_kib(stream.max_record_kib);
        }
        self.caller
            .call("kinesis:CreateStream", || request.clone().send())
            .await
            .map(drop)
    }

    /// Deletes a stream (and its consumers); a stream already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("kinesis:DeleteStream", || {
                self.client
                    .delete_stream()
                    .stream_name(name)
                    .enforce_consumer_deletion(true)
                    .send()
            })
            .await
            .map(drop)
    }

    /// One UpdateShardCount step.
    pub async fn update_shard_count(&self, name: &str, target: i32) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:UpdateShardCount", || {
                self.client
                    .update_shard_count()
                    .stream_name(name)
                    .target_shard_count(target)
                    .scaling_type(ScalingType::UniformScaling)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Moves retention from `current` to `target` hours.
    pub async fn set_retention(
        &self,
        name: &str,
        current: i32,
        target: i32,
    ) -> Result<(), AwsCallError> {
        if target > current {
            self.caller
                .call("kinesis:IncreaseStreamRetentionPeriod", || {
                    self.client
                        .increase_stream_retention_period()
                        .stream_name(name)
                        .retention_period_hours(target)
                        .send()
                })
                .await
                .map(drop)
        } else {
            self.caller
                .call("kinesis:DecreaseStreamRetentionPeriod", || {
                    self.client
                        .decrease_stream_retention_period()
                        .stream_name(name)
                        .retention_period_hours(target)
                        .send()
                })
                .await
                .map(drop)
        }
    }

    /// Switches the capacity mode.
    pub async fn set_mode(&self, arn: &str, on_demand: bool) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:UpdateStreamMode", || {
                self.client
                    .update_stream_mode()
                    .stream_arn(arn)
                    .stream_mode_details(mode_details(on_demand))
                    .send()
            })
            .await
            .map(drop)
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
            self.caller
                .call("kinesis:StartStreamEncryption", || {
                    self.client
                        .start_stream_encryption()
                        .stream_name(name)
                        .encryption_type(kms.clone())
                        .key_id(key_id)
                        .send()
                })
                .await
                .map(drop)
        } else {
            self.caller
                .call("kinesis:StopStreamEncryption", || {
                    self.client
                        .stop_stream_encryption()
                        .stream_name(name)
                        .encryption_type(kms.clone())
                        .key_id(key_id)
                        .send()
                })
                .await
                .map(drop)
        }
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
            self.caller
                .call("kinesis:EnableEnhancedMonitoring", || {
                    self.client
                        .enable_enhanced_monitoring()
                        .stream_name(name)
                        .set_shard_level_metrics(Some(metrics.clone()))
                        .send()
                })
                .await
                .map(drop)
        } else {
            self.caller
                .call("kinesis:DisableEnhancedMonitoring", || {
                    self.client
                        .disable_enhanced_monitoring()
                        .stream_name(name)
                        .set_shard_level_metrics(Some(metrics.clone()))
                        .send()
                })
                .await
                .map(drop)
        }
    }

    /// Sets the largest record size.
    pub async fn set_max_record_size(&self, arn: &str, kib: i32) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:UpdateMaxRecordSize", || {
                self.client
                    .update_max_record_size()
                    .stream_arn(arn)
                    .max_record_size_in_kib(kib)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Sets the warm throughput of an OnDemand stream (0 turns it off).
    pub async fn set_warm_throughput(&self, arn: &str, mibps: i32) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:UpdateStreamWarmThroughput", || {
                self.client
                    .update_stream_warm_throughput()
                    .stream_arn(arn)
                    .warm_throughput_mibps(mibps)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Adds or changes tags.
    pub async fn tag(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:AddTagsToStream", || {
                self.client
                    .add_tags_to_stream()
                    .stream_name(name)
                    .set_tags(Some(tags.clone().into_iter().collect()))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Removes tags.
    pub async fn untag(&self, name: &str, keys: &[String]) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:RemoveTagsFromStream", || {
                self.client
                    .remove_tags_from_stream()
                    .stream_name(name)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await
            .map(drop)
    }

    /// The stream's enhanced fan-out consumers.
    pub async fn consumers(&self, stream_arn: &str) -> Result<Vec<ConsumerView>, AwsCallError> {
        let mut consumers = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match token.take() {
                Some(t) => self.client.list_stream_consumers().next_token(t),
                None => self.client.list_stream_consumers().stream_arn(stream_arn),
            };
            let out = self
                .caller
                .call("kinesis:ListStreamConsumers", || request.clone().send())
                .await?;
            consumers.extend(out.consumers.unwrap_or_default().into_iter().map(consumer));
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
        let out = self
            .caller
            .call("kinesis:RegisterStreamConsumer", || {
                self.client
                    .register_stream_consumer()
                    .stream_arn(stream_arn)
                    .consumer_name(name)
                    .send()
            })
            .await?;
        Ok(out.consumer.map_or_else(
            || ConsumerView {
                name: name.to_owned(),
                arn: String::new(),
                status: "CREATING".to_owned(),
            },
            consumer,
        ))
    }

    /// Deregisters an enhanced fan-out consumer; one already gone is not an error.
    pub async fn deregister_consumer(
        &self,
        stream_arn: &str,
        name: &str,
    ) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("kinesis:DeregisterStreamConsumer", || {
                self.client
                    .deregister_stream_consumer()
                    .stream_arn(stream_arn)
                    .consumer_name(name)
                    .send()
            })
            .await
            .map(drop)
    }

    /// The stream's resource policy, `None` when it has none.
    pub async fn resource_policy(&self, arn: &str) -> Result<Option<String>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("kinesis:GetResourcePolicy", || {
                self.client.get_resource_policy().resource_arn(arn).send()
            })
            .await?;
        Ok(out
            .map(|o| o.policy)
            .filter(|p| !p.trim().is_empty() && p.trim() != "{}"))
    }

    /// Sets the stream's resource policy.
    pub async fn put_resource_policy(&self, arn: &str, policy: &str) -> Result<(), AwsCallError> {
        self.caller
            .call("kinesis:PutResourcePolicy", || {
                self.client
                    .put_resource_policy()
                    .resource_arn(arn)
                    .policy(policy)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Removes the stream's resource policy; none there is not an error.
    pub async fn delete_resource_policy(&self, arn: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("kinesis:DeleteResourcePolicy", || {
                self.client
                    .delete_resource_policy()
                    .resource_arn(arn)
                    .send()
            })
            .await
            .map(drop)
    }
}

/// The SDK's mode details for Provisioned or OnDemand.
fn mode_details(on_demand: bool) -> StreamModeDetails {
    StreamModeDetails::builder()
        .stream_mode(if on_demand {
            StreamMode::OnDemand
        } else {
            StreamMode::Provisioned
        })
        .build()
        .expect("the mode is set")
}

/// A consumer as the SDK reports it.
fn consumer(c: aws_sdk_kinesis::types::Consumer) -> ConsumerView {
    ConsumerView {
        name: c.consumer_name,
        arn: c.consumer_arn,
        status: c.consumer_status.as_str().to_owned(),
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

super::owned_resource!(
    KinesisApi,
    StreamView,
    "DeleteStream",
    "AddTagsToStream",
    "RemoveTagsFromStream"
);
