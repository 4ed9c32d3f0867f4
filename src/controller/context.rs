//! What every reconciler shares: the Kubernetes client, AWS clients per region, settings,
//! the event recorder and the metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::metrics::Metrics;
use crate::aws::analytics::{AnalyticsApi, analytics_quota};
use crate::aws::firehose::{FirehoseApi, firehose_quota};
use crate::aws::iam::{IamApi, Identity, iam_quota};
use crate::aws::kinesis::KinesisApi;
use crate::aws::rate_limit::{Pacing, RateLimiter, kinesis_quota};

/// Operator settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Region of objects without `spec.region`.
    pub region: String,
    /// How often a settled object is compared with AWS again (drift check).
    pub resync: Duration,
    /// Field manager of status writes.
    pub field_manager: String,
    /// How AWS calls are paced ([`crate::aws::rate_limit`]): adaptive by default.
    pub pacing: Pacing,
}

/// How long an AWS call attempt may wait for its answer (AWS's control-plane calls answer in
/// well under a second; a slow region or a large ListTags page in a few).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long connecting to an AWS endpoint may take (the AWS SDKs' default).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// AWS clients, one per region, built from one shared configuration.
pub struct AwsClients {
    config: aws_config::SdkConfig,
    kinesis: Mutex<HashMap<String, KinesisApi>>,
    firehose: Mutex<HashMap<String, FirehoseApi>>,
    analytics: Mutex<HashMap<String, AnalyticsApi>>,
    /// IAM is global: one client, built on first use.
    iam: Mutex<Option<IamApi>>,
    /// The account and partition of the credentials, asked once.
    identity: tokio::sync::OnceCell<Identity>,
    metrics: Arc<Metrics>,
    pacing: Pacing,
}

impl AwsClients {
    /// Clients from `config` (credentials, endpoint and timeout settings), counting their
    /// calls in `metrics` and pacing them by `pacing`. The SDK's own retries are off: the
    /// facades retry (see [`crate::aws::call`]) so that pacing learns from every attempt.
    pub fn new(config: aws_config::SdkConfig, metrics: Arc<Metrics>, pacing: Pacing) -> Self {
        // An attempt that never gets an answer would hold its reconcile slot (and a graceful
        // stop) forever: give up on it after ATTEMPT_TIMEOUT, and the caller retries.
        let timeouts = match config.timeout_config() {
            Some(t) if t.operation_attempt_timeout().is_some() => t.clone(),
            _ => aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        };
        let config = config
            .into_builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(timeouts)
            .build();
        AwsClients {
            config,
            kinesis: Mutex::new(HashMap::new()),
            firehose: Mutex::new(HashMap::new()),
            analytics: Mutex::new(HashMap::new()),
            iam: Mutex::new(None),
            identity: tokio::sync::OnceCell::new(),
            metrics,
            pacing,
        }
    }

    /// The Kinesis calls in `region`.
    pub fn kinesis(&self, region: &str) -> KinesisApi {
        self.kinesis
            .lock()
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_kinesis::config::Builder::from(&self.config)
                    .region(aws_sdk_kinesis::config::Region::new(region.to_owned()))
                    .build();
                KinesisApi::new(
                    aws_sdk_kinesis::Client::from_conf(config),
                    self.metrics.clone(),
                    Arc::new(RateLimiter::new(kinesis_quota, self.pacing)),
                )
            })
            .clone()
    }
}

impl AwsClients {
    /// The Firehose calls in `region`.
    pub fn firehose(&self, region: &str) -> FirehoseApi {
        self.firehose
            .lock()
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_firehose::config::Builder::from(&self.config)
                    .region(aws_sdk_firehose::config::Region::new(region.to_owned()))
                    .build();
                FirehoseApi::new(
                    aws_sdk_firehose::Client::from_conf(config),
                    self.metrics.clone(),
                    Arc::new(RateLimiter::new(firehose_quota, self.pacing)),
                )
            })
            .clone()
    }

    /// The Managed Service for Apache Flink calls in `region`.
    pub fn analytics(&self, region: &str) -> AnalyticsApi {
        self.analytics
            .lock()
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_kinesisanalyticsv2::config::Builder::from(&self.config)
                    .region(aws_sdk_kinesisanalyticsv2::config::Region::new(
                        region.to_owned(),
                    ))
                    .build();
                AnalyticsApi::new(
                    aws_sdk_kinesisanalyticsv2::Client::from_conf(config),
                    self.metrics.clone(),
                    Arc::new(RateLimiter::new(analytics_quota, self.pacing)),
                )
            })
            .clone()
    }

    /// The IAM (and STS GetCallerIdentity) calls. IAM is global; `region` only picks the
    /// endpoint of the first call (every commercial region signs for the same global IAM).
    pub fn iam(&self, region: &str) -> IamApi {
        self.iam
            .lock()
            .get_or_insert_with(|| {
                let region = aws_sdk_iam::config::Region::new(region.to_owned());
                let iam = aws_sdk_iam::config::Builder::from(&self.config)
                    .region(region.clone())
                    .build();
                let sts = aws_sdk_sts::config::Builder::from(&self.config)
                    .region(region)
                    .build();
                IamApi::new(
                    aws_sdk_iam::Client::from_conf(iam),
                    aws_sdk_sts::Client::from_conf(sts),
                    self.metrics.clone(),
                    Arc::new(RateLimiter::new(iam_quota, self.pacing)),
                )
            })
            .clone()
    }

    /// The account and partition of the operator's credentials (STS GetCallerIdentity, asked
    /// once per process).
    pub async fn identity(&self, region: &str) -> Result<Identity, crate::aws::AwsCallError> {
        self.identity
            .get_or_try_init(|| async { self.iam(region).identity().await })
            .await
            .cloned()
    }
}

/// The shared context of the reconcilers.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// AWS clients.
    pub aws: AwsClients,
    /// Settings.
    pub settings: Settings,
    /// Publishes Kubernetes events (identical repeats are merged into series).
    pub recorder: super::runtime::recorder::Recorder,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// What the objects' latest passes resolved their references to.
    pub resolutions: super::references::Resolutions,
}

impl Context {
    /// A context calling AWS as `aws_config` says, reporting events as `kinesis-operator`.
    pub fn new(
        client: kube::Client,
        aws_config: aws_config::SdkConfig,
        settings: Settings,
    ) -> Self {
        let recorder = super::runtime::recorder::Recorder::new(client.clone(), "kinesis-operator");
        let metrics = Arc::new(Metrics::default());
        Context {
            client,
            aws: AwsClients::new(aws_config, metrics.clone(), settings.pacing),
            settings,
            recorder,
            metrics,
            resolutions: Default::default(),
        }
    }
}
