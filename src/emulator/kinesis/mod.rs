//! Kinesis Data Streams (`Kinesis_20131202`): state per account and region, operation dispatch,
//! and the handlers, one module per group of operations.

mod control;
mod data;
pub mod keys;
pub mod limits;
pub mod model;
pub mod records;
mod shards;
pub mod stream;
mod tagging;

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
use stream::Stream;

/// The `X-Amz-Target` prefix of Kinesis operations.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

/// Behaviour switches of the emulated Kinesis.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// How long a new stream stays CREATING.
    pub create_delay: Duration,
    /// How long an updated stream stays UPDATING.
    pub update_delay: Duration,
    /// How long a deleted stream stays DELETING.
    pub delete_delay: Duration,
    /// Relax AWS's throughput limits and per-day budgets (for load tests).
    pub relax_limits: bool,
}

/// Who is calling and where: from the request's credential scope and access key.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// 12-digit account ID.
    pub account: String,
    /// Region, such as `us-east-1`.
    pub region: String,
}

/// Streams of one account in one region.
#[derive(Default)]
pub struct Region {
    streams: RwLock<BTreeMap<String, Arc<Stream>>>,
}

/// The emulated Kinesis Data Streams service.
pub struct Kinesis {
    regions: RwLock<HashMap<(String, String), Arc<Region>>>,
    settings: Settings,
    clock: Arc<Clock>,
    next_tag: AtomicU64,
}

impl Kinesis {
    /// An empty service.
    pub fn new(settings: Settings, clock: Arc<Clock>) -> Self {
        let seed = clock.now_ms().max(0) as u64;
        Kinesis {
            regions: RwLock::new(HashMap::new()),
            settings,
            clock,
            next_tag: AtomicU64::new(seed),
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
        ops! {
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
            Some(s) if s.settle(self.now()) => {
                region.streams.write().remove(&name);
                Err(not_found(ctx, &name))
            }
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
        let now = self.now();
        let streams: Vec<_> = region.streams.read().values().cloned().collect();
        let mut alive = Vec::with_capacity(streams.len());
        for s in streams {
            if s.settle(now) {
                region.streams.write().remove(&s.name);
            } else {
                alive.push(s);
            }
        }
        alive
    }
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
