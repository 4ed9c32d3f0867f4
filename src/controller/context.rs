//! What every reconciler shares: the Kubernetes client, AWS clients per region, settings,
//! the event recorder and the metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::metrics::Metrics;
use crate::aws::firehose::{FirehoseApi, firehose_quota};
use crate::aws::iam::{IamApi, Identity, iam_quota};
use crate::aws::kinesis::KinesisApi;
use crate::aws::rate_limit::{RateLimiter, kinesis_quota};

/// Operator settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Region of objects without `spec.region`.
    pub region: String,
    /// How often a settled object is compared with AWS again (drift check).
    pub resync: Duration,
    /// Field manager of status writes.
    pub field_manager: String,
    /// Pace AWS calls below AWS's per-API quotas ([`crate::aws::rate_limit`]). Off only
    /// against an emulator that enforces no control-plane quotas.
    pub rate_limits: bool,
}

/// AWS clients, one per region, built from one shared configuration.
pub struct AwsClients {
    config: aws_config::SdkConfig,
    kinesis: Mutex<HashMap<String, KinesisApi>>,
    firehose: Mutex<HashMap<String, FirehoseApi>>,
    /// IAM is global: one client, built on first use.
    iam: Mutex<Option<IamApi>>,
    /// The account and partition of the credentials, asked once.
    identity: tokio::sync::OnceCell<Identity>,
    metrics: Arc<Metrics>,
    rate_limits: bool,
}

impl AwsClients {
    /// Clients from `config` (credentials, endpoint, retry and timeout settings), counting
    /// their calls in `metrics`.
    /// Calls are paced below AWS's quotas when `rate_limits` is set.
    pub fn new(config: aws_config::SdkConfig, metrics: Arc<Metrics>, rate_limits: bool) -> Self {
        AwsClients {
            config,
            kinesis: Mutex::new(HashMap::new()),
            firehose: Mutex::new(HashMap::new()),
            iam: Mutex::new(None),
            identity: tokio::sync::OnceCell::new(),
            metrics,
            rate_limits,
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
                    Arc::new(RateLimiter::new(kinesis_quota, self.rate_limits)),
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
                    Arc::new(RateLimiter::new(firehose_quota, self.rate_limits)),
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
                    Arc::new(RateLimiter::new(iam_quota, self.rate_limits)),
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
            aws: AwsClients::new(aws_config, metrics.clone(), settings.rate_limits),
            settings,
            recorder,
            metrics,
        }
    }
}
