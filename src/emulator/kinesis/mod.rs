//! Kinesis Data Streams (`Kinesis_20131202`): state per account and region, operation dispatch,
//! and the handlers, one module per group of operations.
//!
//! Regions. The region is the one the request's credential scope names. Only AWS's regions
//! ([`REGIONS`], those of the AWS SDKs' partition list) are served: a request signed for any
//! other name (`us-nowhere-1`, garbage) is refused as AWS refuses it, with
//! `InvalidSignatureException` "Credential should be scoped to a valid region." before any
//! state is looked up, so that per-region state exists only for real regions and a client
//! sending a new made-up region with each request cannot grow the emulator's memory.

mod account;
mod consumers;
mod control;
mod data;
mod durable;
pub mod keys;
pub mod limits;
pub mod model;
mod policy;
pub mod quota;
pub mod records;
mod shards;
pub mod stream;
pub mod subscribe;
mod tagging;
#[cfg(test)]
mod testing;

// Reading streams from inside the emulator (Firehose's Kinesis sources).
pub mod reader;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::clock::Clock;
use super::error::{AwsError, Validation, is_name};
use super::protocol::Protocol;
use super::storage::{Storage, StorageError};
use durable::Durable;
use stream::{Settled, Stream};

/// The `X-Amz-Target` prefix of Kinesis operations.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

/// The name of the stream a shard iterator names (for `--iam-enforce`, which must know the
/// resource a `GetRecords` call reads), if the emulator issued it.
pub fn iterator_stream(iterator: &str) -> Option<String> {
    data::iterator_stream(iterator)
}

/// Operations that change a stream's settings or shards, stored after they succeed.
const MUTATING: [&str; 23] = [
    "CreateStream",
    "DeleteStream",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "UpdateStreamMode",
    "UpdateShardCount",
    "SplitShard",
    "MergeShards",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "TagResource",
    "UntagResource",
    "RegisterStreamConsumer",
    "DeregisterStreamConsumer",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "UpdateMaxRecordSize",
    "UpdateStreamWarmThroughput",
    "UpdateStreamRecordDistributionStrategy",
];

/// Behaviour switches of the emulated Kinesis.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// How long a new stream stays CREATING.
    pub create_delay: Duration,
    /// How long an updated stream stays UPDATING.
    pub update_delay: Duration,
    /// How long a deleted stream stays DELETING.
    pub delete_delay: Duration,
    /// Relax AWS's throughput limits, control-plane call rates ([`quota`]) and per-day budgets
    /// (for load tests).
    pub relax_limits: bool,
}

pub use super::dispatch::Ctx;

/// Streams of one account in one region.
#[derive(Default)]
pub struct Region {
    streams: RwLock<BTreeMap<String, Arc<Stream>>>,
    commitment: parking_lot::Mutex<account::CommitmentState>,
    quotas: quota::Quotas,
}

/// The emulated Kinesis Data Streams service.
pub struct Kinesis {
    regions: RwLock<HashMap<(String, String), Arc<Region>>>,
    settings: Settings,
    clock: Arc<Clock>,
    next_tag: AtomicU64,
    durable: Option<Durable>,
}

impl Kinesis {
    /// An empty service holding everything in memory.
    pub fn new(settings: Settings, clock: Arc<Clock>) -> Self {
        let seed = clock.now_ms().max(0) as u64;
        Kinesis {
            regions: RwLock::new(HashMap::new()),
            settings,
            clock,
            next_tag: AtomicU64::new(seed),
            durable: None,
        }
    }

    /// A service whose state lives in `storage` too: what it holds is loaded now, and every
    /// acknowledged change is stored before it is acknowledged.
    pub fn with_storage(
        settings: Settings,
        clock: Arc<Clock>,
        storage: Arc<Storage>,
    ) -> Result<Self, StorageError> {
        let mut kinesis = Kinesis::new(settings, clock);
        let durable = Durable::open(storage)?;
        let recovered = durable.load(kinesis.now())?;
        let mut max_tag = 0;
        let mut count = 0usize;
        for r in recovered {
            max_tag = max_tag.max(r.stream.tag);
            let stored = match r.settled {
                Settled::Unchanged => Ok(()),
                Settled::Changed => durable.save(&r.stream),
                Settled::Removed => durable.forget(&r.stream),
            };
            if let Err(e) = stored {
                tracing::error!(stream = %r.stream.name, error = %e, "storing the stream settled at recovery failed");
            }
            if r.settled == Settled::Removed {
                continue;
            }
            let region = kinesis.region(&Ctx {
                account: r.account,
                region: r.region,
            });
            region
                .streams
                .write()
                .insert(r.stream.name.clone(), Arc::new(r.stream));
            count += 1;
        }
        kinesis.next_tag.fetch_max(max_tag + 1, Ordering::Relaxed);
        for (account, region, settings) in durable.load_accounts()? {
            *kinesis.region(&Ctx { account, region }).commitment.lock() = settings;
        }
        kinesis.durable = Some(durable);
        tracing::info!(
            streams = count,
            "Kinesis state recovered from the data directory"
        );
        Ok(kinesis)
    }

    /// Stores a stream's settings and shards (no-op in memory mode).
    fn save(&self, stream: &Stream) -> Result<(), AwsError> {
        match &self.durable {
            Some(d) => d.save(stream),
            None => Ok(()),
        }
    }

    /// Settles a stream's due transition, storing the outcome; true when it is gone.
    fn settle(&self, region: &Region, stream: &Stream) -> bool {
        match stream.settle(self.now()) {
            Settled::Unchanged => false,
            Settled::Changed => {
                if let Err(e) = self.save(stream) {
                    tracing::error!(stream = %stream.name, error = %e, "storing a status change failed");
                }
                false
            }
            Settled::Removed => {
                region.streams.write().remove(&stream.name);
                if let Some(d) = &self.durable
                    && let Err(e) = d.forget(stream)
                {
                    tracing::error!(stream = %stream.name, error = %e, "removing a deleted stream from storage failed");
                }
                true
            }
        }
    }

    /// Handles one operation: decodes `body`, runs the operation, encodes the answer.
    pub fn handle(
        &self,
        ctx: &Ctx,
        operation: &str,
        protocol: Protocol,
        body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        check_region(&ctx.region)?;
        if !self.settings.relax_limits {
            self.take_rate(ctx, operation, protocol, body)?;
        }
        macro_rules! ops {
            ($($name:literal => $handler:path),* $(,)?) => {
                match operation {
                    $($name => self.call(ctx, protocol, body, $handler),)*
                    _ => Err(AwsError::client(
                        "UnknownOperationException",
                        format!("Operation {operation} is not supported by Kinesis_20131202."),
                    )),
                }
            };
        }
        let answer = ops! {
            "CreateStream" => control::create_stream,
            "DeleteStream" => control::delete_stream,
            "DescribeStream" => control::describe_stream,
            "DescribeStreamSummary" => control::describe_stream_summary,
            "ListStreams" => control::list_streams,
            "IncreaseStreamRetentionPeriod" => control::increase_retention,
            "DecreaseStreamRetentionPeriod" => control::decrease_retention,
            "StartStreamEncryption" => control::start_encryption,
            "StopStreamEncryption" => control::stop_encryption,
            "EnableEnhancedMonitoring" => control::enable_monitoring,
            "DisableEnhancedMonitoring" => control::disable_monitoring,
            "UpdateStreamMode" => control::update_stream_mode,
            "DescribeLimits" => control::describe_limits,
            "ListShards" => shards::list_shards,
            "UpdateShardCount" => shards::update_shard_count,
            "SplitShard" => shards::split_shard,
            "MergeShards" => shards::merge_shards,
            "PutRecord" => data::put_record,
            "PutRecords" => data::put_records,
            "GetShardIterator" => data::get_shard_iterator,
            "GetRecords" => data::get_records,
            "AddTagsToStream" => tagging::add_tags_to_stream,
            "RemoveTagsFromStream" => tagging::remove_tags_from_stream,
            "ListTagsForStream" => tagging::list_tags_for_stream,
            "TagResource" => tagging::tag_resource,
            "UntagResource" => tagging::untag_resource,
            "ListTagsForResource" => tagging::list_tags_for_resource,
            "RegisterStreamConsumer" => consumers::register,
            "DeregisterStreamConsumer" => consumers::deregister,
            "DescribeStreamConsumer" => consumers::describe,
            "ListStreamConsumers" => consumers::list,
            "PutResourcePolicy" => policy::put,
            "GetResourcePolicy" => policy::get,
            "DeleteResourcePolicy" => policy::delete,
            "UpdateMaxRecordSize" => control::update_max_record_size,
            "UpdateStreamWarmThroughput" => control::update_warm_throughput,
            "UpdateStreamRecordDistributionStrategy" => control::update_distribution,
            "DescribeAccountSettings" => account::describe,
            "UpdateAccountSettings" => account::update,
        }?;
        if let Some(durable) = &self.durable {
            if MUTATING.contains(&operation) {
                self.store_addressed(ctx, protocol, body)?;
            } else if operation == "UpdateAccountSettings" {
                let settings = *self.region(ctx).commitment.lock();
                durable.save_account(&ctx.account, &ctx.region, &settings)?;
            }
        }
        Ok(answer)
    }

    /// Counts a control-plane call against AWS's rate for it ([`quota::RATES`]), answering
    /// `LimitExceededException` as AWS does when the caller's account and region is above it.
    fn take_rate(
        &self,
        ctx: &Ctx,
        operation: &str,
        protocol: Protocol,
        body: &[u8],
    ) -> Result<(), AwsError> {
        if quota::rate(operation).is_none() {
            return Ok(());
        }
        let addressed: Addressed = protocol.decode(body).unwrap_or_default();
        let stream = addressed.stream_name.or_else(|| {
            [
                addressed.stream_arn,
                addressed.resource_arn,
                addressed.consumer_arn,
            ]
            .into_iter()
            .flatten()
            .find_map(|arn| {
                let (_, rest) = arn.split_once(":stream/")?;
                Some(rest.split('/').next().unwrap_or_default().to_owned())
            })
        });
        let region = self.region(ctx);
        if region
            .quotas
            .try_take(operation, stream.as_deref(), self.now())
        {
            return Ok(());
        }
        Err(AwsError::limit_exceeded(match stream {
            Some(name) => format!(
                "Rate exceeded for stream {name} under account {}.",
                ctx.account
            ),
            None => format!("Rate exceeded for account {}.", ctx.account),
        }))
    }

    /// Stores the stream a successful control-plane request addressed (data-directory mode).
    fn store_addressed(&self, ctx: &Ctx, protocol: Protocol, body: &[u8]) -> Result<(), AwsError> {
        let a: Addressed = protocol.decode(body)?;
        let arn = a.stream_arn.or(a.resource_arn);
        let name = self.resolve_name(ctx, a.stream_name.as_deref(), arn.as_deref())?;
        let stream = self.region(ctx).streams.read().get(&name).cloned();
        match stream {
            Some(s) => self.save(&s),
            None => Ok(()),
        }
    }

    fn call<I: DeserializeOwned, O: Serialize>(
        &self,
        ctx: &Ctx,
        protocol: Protocol,
        body: &[u8],
        handler: fn(&Kinesis, &Ctx, I) -> Result<O, AwsError>,
    ) -> Result<Vec<u8>, AwsError> {
        let input = protocol.decode::<I>(body)?;
        let output = handler(self, ctx, input)?;
        // Operations without output members ([`model::Empty`], the only zero-sized output)
        // answer with an empty body, as AWS does.
        if std::mem::size_of::<O>() == 0 {
            return Ok(Vec::new());
        }
        Ok(protocol.encode(&output))
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn region(&self, ctx: &Ctx) -> Arc<Region> {
        let key = (ctx.account.clone(), ctx.region.clone());
        if let Some(r) = self.regions.read().get(&key) {
            return r.clone();
        }
        self.regions.write().entry(key).or_default().clone()
    }

    fn new_tag(&self) -> u64 {
        self.next_tag.fetch_add(1, Ordering::Relaxed)
    }

    /// The ARN of stream `name`.
    fn stream_arn(ctx: &Ctx, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            ctx.region, ctx.account
        )
    }

    /// Finds a stream by name or ARN (validating both), settling due transitions; a stream
    /// whose deletion completed is removed and reported as not found.
    fn find(
        &self,
        ctx: &Ctx,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<Arc<Stream>, AwsError> {
        let name = self.resolve_name(ctx, name, arn)?;
        let region = self.region(ctx);
        let stream = region.streams.read().get(&name).cloned();
        match stream {
            Some(s) if self.settle(&region, &s) => Err(not_found(ctx, &name)),
            Some(s) => Ok(s),
            None => Err(not_found(ctx, &name)),
        }
    }

    /// The stream name a request addresses, from `StreamName` and/or `StreamARN`.
    fn resolve_name(
        &self,
        ctx: &Ctx,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<String, AwsError> {
        let mut v = Validation::new();
        if let Some(n) = name {
            validate_stream_name(&mut v, "streamName", n);
        }
        if let Some(a) = arn {
            v.length("streamARN", a, 1, 2048);
        }
        v.finish()?;
        let from_arn = match arn {
            None => None,
            Some(a) => Some(parse_stream_arn(ctx, a)?),
        };
        match (name, from_arn) {
            (Some(n), Some(a)) if n != a => Err(AwsError::invalid_argument(format!(
                "StreamARN {} and StreamName {n} do not refer to the same stream.",
                arn.unwrap_or_default()
            ))),
            (Some(n), _) => Ok(n.to_owned()),
            (None, Some(a)) => Ok(a),
            (None, None) => Err(AwsError::client(
                "ValidationException",
                "Either StreamName or StreamARN should be provided.",
            )),
        }
    }

    /// Every stream of the caller's account and region, settled, in name order.
    fn all_streams(&self, ctx: &Ctx) -> Vec<Arc<Stream>> {
        let region = self.region(ctx);
        let streams: Vec<_> = region.streams.read().values().cloned().collect();
        streams
            .into_iter()
            .filter(|s| !self.settle(&region, s))
            .collect()
    }
}

/// The stream members of a request, read without its operation's shape (storing what a
/// mutation changed, naming the stream in a throttling message).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Addressed {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
}

/// `ResourceNotFoundException` for a stream.
fn not_found(ctx: &Ctx, name: &str) -> AwsError {
    AwsError::not_found(format!(
        "Stream {name} under account {} not found.",
        ctx.account
    ))
}

/// Validates a stream name against the model (1-128 characters of `[a-zA-Z0-9_.-]`).
fn validate_stream_name(v: &mut Validation, path: &str, name: &str) {
    v.pattern(path, name, "[a-zA-Z0-9_.-]+", is_name);
    v.length(path, name, 1, 128);
}

/// The stream name in a stream ARN of the caller's account and region.
fn parse_stream_arn(ctx: &Ctx, arn: &str) -> Result<String, AwsError> {
    let invalid = || {
        AwsError::invalid_argument(format!(
            "Invalid StreamARN {arn}: expected arn:aws:kinesis:{}:{}:stream/<name>",
            ctx.region, ctx.account
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_arn, _partition, service, region, account, resource] = parts[..] else {
        return Err(invalid());
    };
    if service != "kinesis" {
        return Err(invalid());
    }
    let name = resource.strip_prefix("stream/").ok_or_else(invalid)?;
    let name = name.split('/').next().unwrap_or_default();
    if region != ctx.region || account != ctx.account {
        return Err(not_found(ctx, name));
    }
    Ok(name.to_owned())
}

/// AWS's regions, in every partition (from the AWS SDKs' partition list).
pub const REGIONS: [&str; 46] = [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

/// True when `region` is one of AWS's regions.
pub fn is_region(region: &str) -> bool {
    REGIONS.contains(&region)
}

/// AWS's answer to a request signed for a region that does not exist (the JSON services').
pub fn check_region(region: &str) -> Result<(), AwsError> {
    if is_region(region) {
        return Ok(());
    }
    Err(AwsError::client(
        "InvalidSignatureException",
        "Credential should be scoped to a valid region. ",
    ))
}

#[cfg(test)]
mod region_tests {
    use super::*;

    /// A request signed for a region that does not exist is refused, and leaves no state.
    #[test]
    fn unknown_regions_are_refused_without_state() {
        let k = Kinesis::new(Default::default(), Arc::new(Clock::default()));
        for region in ["us-nowhere-1", "garbage", "", "US-EAST-1"] {
            let ctx = Ctx {
                account: "000000000000".into(),
                region: region.into(),
            };
            let e = k
                .handle(&ctx, "ListStreams", Protocol::Json, b"{}")
                .expect_err(region);
            assert_eq!(
                (e.code, e.message.as_str(), e.status),
                (
                    "InvalidSignatureException",
                    "Credential should be scoped to a valid region. ",
                    400
                ),
                "{region}"
            );
        }
        assert!(k.regions.read().is_empty());
        let ctx = Ctx {
            account: "000000000000".into(),
            region: "ap-southeast-4".into(),
        };
        k.handle(&ctx, "ListStreams", Protocol::Json, b"{}")
            .unwrap();
        assert_eq!(k.regions.read().len(), 1);
    }
}
