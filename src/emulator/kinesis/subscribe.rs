//! SubscribeToShard: enhanced fan-out delivery over an AWS event stream. The answer is an
//! `initial-response` event followed by `SubscribeToShardEvent`s pushed as records arrive
//! (and at least once a second), for up to five minutes or until a closed shard is read to its
//! end (the last event then names its ChildShards).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::data::{StartingPoint, children, read_batch, record_encryption, starting_position};
use super::keys::{parse_shard_id, sequence_number};
use super::limits::GET_RECORDS_MAX;
use super::model::{ChildShard, ConsumerRefInput, Record};
use super::stream::{Shard, Stream};
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation, is_name};
use crate::emulator::protocol::{Protocol, Timestamp, eventstream};

/// How long one subscription lasts.
const SUBSCRIPTION_MS: i64 = 5 * 60 * 1000;

/// StartingPosition.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartingPosition {
    #[serde(rename = "Type")]
    type_: Option<String>,
    sequence_number: Option<String>,
    timestamp: Option<Timestamp>,
}

/// SubscribeToShard input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubscribeInput {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
    shard_id: Option<String>,
    starting_position: Option<StartingPosition>,
}

/// SubscribeToShardEvent.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ShardEvent {
    records: Vec<Record>,
    continuation_sequence_number: String,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShard>>,
}

/// An open subscription.
pub struct Subscription {
    stream: Arc<Stream>,
    shard: Arc<Shard>,
    position: u64,
    /// Counter of the last record delivered (for ContinuationSequenceNumber).
    last_counter: u64,
    protocol: Protocol,
    ends_at_ms: i64,
}

/// The next frame of a subscription.
pub enum Step {
    /// An event frame; more may follow.
    Event(Vec<u8>),
    /// The last frame; the stream ends after it.
    Last(Vec<u8>),
}

impl Subscription {
    /// How long to wait before polling again after nothing new arrived.
    pub fn idle_interval() -> std::time::Duration {
        std::time::Duration::from_millis(100)
    }
}

/// Validates a SubscribeToShard request and opens the subscription.
pub fn subscribe(
    k: &Kinesis,
    ctx: &Ctx,
    protocol: Protocol,
    body: &[u8],
) -> Result<(Subscription, Vec<u8>), AwsError> {
    let input: SubscribeInput = protocol.decode(body)?;
    let mut v = Validation::new();
    v.required_length("consumerARN", &input.consumer_arn, 1, 2048);
    if v.required("shardId", &input.shard_id) {
        let id = input.shard_id.as_deref().unwrap_or_default();
        v.pattern("shardId", id, "[a-zA-Z0-9_.-]+", is_name);
        v.length("shardId", id, 1, 128);
    }
    if v.required("startingPosition", &input.starting_position) {
        let kind = &input.starting_position.as_ref().expect("checked").type_;
        if v.required("startingPosition.type", kind) {
            v.one_of(
                "startingPosition.type",
                kind.as_deref().unwrap_or_default(),
                &[
                    "AT_SEQUENCE_NUMBER",
                    "AFTER_SEQUENCE_NUMBER",
                    "TRIM_HORIZON",
                    "LATEST",
                    "AT_TIMESTAMP",
                ],
            );
        }
    }
    v.finish()?;
    let consumer_arn = input.consumer_arn.unwrap_or_default();
    let (stream, consumer) = super::consumers::locate(
        k,
        ctx,
        &ConsumerRefInput {
            consumer_arn: Some(consumer_arn),
            ..Default::default()
        },
    )?;
    let now = k.now();
    if consumer.status(now) != Some("ACTIVE") {
        return Err(AwsError::in_use(format!(
            "Consumer {} with creation timestamp {} under stream: {} , account {} is not in ACTIVE status.",
            consumer.name,
            consumer.created_ms / 1000,
            stream.name,
            ctx.account
        )));
    }
    let shard_id = input.shard_id.unwrap_or_default();
    let shard = parse_shard_id(&shard_id)
        .and_then(|i| stream.shards.read().get(i).cloned())
        .ok_or_else(|| {
            AwsError::not_found(format!(
                "Shard {shard_id} in stream {} under account {} does not exist",
                stream.name, ctx.account
            ))
        })?;
    let start = input.starting_position.unwrap_or_default();
    let kind = start.type_.unwrap_or_default();
    let retention_ms = stream.meta.lock().retention_hours * 3_600_000;
    let position = {
        let state = shard.state.lock();
        starting_position(
            &StartingPoint {
                stream: &stream,
                shard: &shard,
                kind: &kind,
                sequence_number: start.sequence_number.as_deref(),
                timestamp: start.timestamp,
                now,
                retention_ms,
                ctx,
            },
            &state.log,
        )?
    };
    let last_counter = {
        let state = shard.state.lock();
        position
            .checked_sub(1)
            .and_then(|p| state.log.get(p))
            .map_or(shard.starting_counter, |r| r.counter)
    };
    let initial = eventstream::event(
        "initial-response",
        protocol.content_type(),
        &protocol.encode(&serde_json::json!({})),
    );
    Ok((
        Subscription {
            stream,
            shard,
            position,
            last_counter,
            protocol,
            ends_at_ms: now + SUBSCRIPTION_MS,
        },
        initial,
    ))
}

/// Reads what arrived since the last event. `None` when there is nothing new and
/// `heartbeat` is false.
pub fn poll(k: &Kinesis, sub: &mut Subscription, heartbeat: bool) -> Option<Step> {
    let now = k.now();
    let retention_ms = sub.stream.meta.lock().retention_hours * 3_600_000;
    let encryption = record_encryption(&sub.stream);
    let mut state = sub.shard.state.lock();
    let batch = read_batch(
        k,
        &sub.stream,
        &sub.shard,
        &mut state,
        sub.position,
        GET_RECORDS_MAX,
        now,
        retention_ms,
        encryption,
    );
    let closed = state.closed_at.is_some();
    drop(state);
    if batch.records.is_empty() && !heartbeat && !(closed && batch.at_end) && now < sub.ends_at_ms {
        return None;
    }
    if let Some(last) = batch.records.last() {
        sub.last_counter = super::keys::parse_sequence_number(&last.sequence_number)
            .map_or(sub.last_counter, |p| p.counter);
    }
    sub.position = batch.next;
    let finished = closed && batch.at_end;
    let event = ShardEvent {
        records: batch.records,
        continuation_sequence_number: sequence_number(
            sub.stream.tag,
            sub.last_counter,
            sub.shard.index,
        ),
        millis_behind_latest: batch.millis_behind,
        child_shards: finished.then(|| children(&sub.stream, &sub.shard)),
    };
    let frame = eventstream::event(
        "SubscribeToShardEvent",
        sub.protocol.content_type(),
        &sub.protocol.encode(&event),
    );
    Some(if finished || now >= sub.ends_at_ms {
        Step::Last(frame)
    } else {
        Step::Event(frame)
    })
}
