//! Shards: ListShards and re-sharding (UpdateShardCount, SplitShard, MergeShards).

use super::control::shard_view;
use super::keys::{parse_hash_key, parse_shard_id};
use super::limits::{DAY_MS, SHARD_COUNT_UPDATES_PER_DAY, rolling_day};
use super::model::*;
use super::stream::{Mode, NewShard, Status, Stream, Transition, plan_uniform};
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation, is_decimal};
use crate::emulator::protocol::Timestamp;

/// How long a ListShards NextToken stays valid.
const NEXT_TOKEN_TTL_MS: i64 = 300_000;

/// What a ListShards NextToken remembers.
struct ShardPage {
    stream: String,
    after: u32,
    issued_ms: i64,
    filter: Option<String>,
}

fn encode_page(p: &ShardPage) -> String {
    use base64::Engine;
    let text = format!(
        "{}|{}|{}|{}",
        p.after,
        p.issued_ms,
        p.filter.as_deref().unwrap_or(""),
        p.stream
    );
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn decode_page(token: &str) -> Option<ShardPage> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(4, '|');
    let after = parts.next()?.parse().ok()?;
    let issued_ms = parts.next()?.parse().ok()?;
    let filter = Some(parts.next()?.to_owned()).filter(|f| !f.is_empty());
    let stream = parts.next()?.to_owned();
    Some(ShardPage {
        stream,
        after,
        issued_ms,
        filter,
    })
}

const FILTER_TYPES: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

pub(super) fn list_shards(
    k: &Kinesis,
    ctx: &Ctx,
    input: ListShardsInput,
) -> Result<ListShardsOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(max) = input.max_results {
        v.range("maxResults", max, 1, 10000);
    }
    if let Some(token) = &input.next_token {
        v.length("nextToken", token, 1, 1048576);
    }
    if let Some(id) = &input.exclusive_start_shard_id {
        v.length("exclusiveStartShardId", id, 1, 128);
    }
    if let Some(filter) = &input.shard_filter
        && v.required("shardFilter.type", &filter.type_)
    {
        v.one_of(
            "shardFilter.type",
            filter.type_.as_deref().unwrap_or_default(),
            &FILTER_TYPES,
        );
    }
    v.finish()?;
    let now = k.now();

    let (stream, after, filter_type) = if let Some(token) = &input.next_token {
        if input.stream_name.is_some() || input.stream_arn.is_some() {
            return Err(AwsError::invalid_argument(
                "NextToken and StreamName cannot be provided together.",
            ));
        }
        if input.exclusive_start_shard_id.is_some() || input.shard_filter.is_some() {
            return Err(AwsError::invalid_argument(
                "NextToken cannot be provided together with ExclusiveStartShardId or ShardFilter.",
            ));
        }
        let page = decode_page(token)
            .ok_or_else(|| AwsError::invalid_argument(format!("Invalid NextToken: {token}")))?;
        if now - page.issued_ms > NEXT_TOKEN_TTL_MS {
            return Err(AwsError::client(
                "ExpiredNextTokenException",
                "The timestamp in the NextToken has expired.",
            ));
        }
        let stream = k.find(ctx, Some(&page.stream), None)?;
        (stream, Some(page.after), page.filter)
    } else {
        if input.stream_name.is_none() && input.stream_arn.is_none() {
            return Err(AwsError::invalid_argument(
                "Either NextToken or StreamName should be provided.",
            ));
        }
        let stream = k.find(
            ctx,
            input.stream_name.as_deref(),
            input.stream_arn.as_deref(),
        )?;
        let mut after = match &input.exclusive_start_shard_id {
            None => None,
            Some(id) => Some(parse_shard_id(id).ok_or_else(|| {
                AwsError::invalid_argument(format!("Invalid ExclusiveStartShardId: {id}"))
            })?),
        };
        let filter = input.shard_filter.as_ref();
        let filter_type = filter.and_then(|f| f.type_.clone());
        if filter_type.as_deref() == Some("AFTER_SHARD_ID") {
            let id = filter.and_then(|f| f.shard_id.as_deref()).ok_or_else(|| {
                AwsError::invalid_argument("ShardId is required for the AFTER_SHARD_ID filter.")
            })?;
            after = Some(
                parse_shard_id(id)
                    .ok_or_else(|| AwsError::invalid_argument(format!("Invalid ShardId: {id}")))?,
            );
        }
        if matches!(
            filter_type.as_deref(),
            Some("AT_TIMESTAMP" | "FROM_TIMESTAMP")
        ) && filter.and_then(|f| f.timestamp).is_none()
        {
            return Err(AwsError::invalid_argument(
                "Timestamp is required for the AT_TIMESTAMP and FROM_TIMESTAMP filters.",
            ));
        }
        let filter_type = match (filter_type, filter.and_then(|f| f.timestamp)) {
            (Some(t), Some(ts)) if t.ends_with("TIMESTAMP") => Some(format!("{t}@{}", ts.0)),
            (t, _) => t,
        };
        (stream, after, filter_type)
    };

    let retention_ms = stream.meta.lock().retention_hours * 3_600_000;
    let max = input.max_results.unwrap_or(1000) as usize;
    let all = stream.shards.read().all.clone();
    let selected: Vec<_> = all
        .iter()
        .filter(|s| after.is_none_or(|a| s.index > a))
        .filter(|s| keep_shard(s, filter_type.as_deref(), now, retention_ms))
        .take(max + 1)
        .collect();
    let more = selected.len() > max;
    let page: Vec<_> = selected.into_iter().take(max).collect();
    let next_token = if more {
        page.last().map(|s| {
            encode_page(&ShardPage {
                stream: stream.name.clone(),
                after: s.index,
                issued_ms: now,
                filter: filter_type.clone(),
            })
        })
    } else {
        None
    };
    Ok(ListShardsOutput {
        shards: page.iter().map(|s| shard_view(k, &stream, s)).collect(),
        next_token,
    })
}

/// Whether a shard passes a ShardFilter (`TYPE` or `TYPE@epoch-ms`).
fn keep_shard(
    shard: &super::stream::Shard,
    filter: Option<&str>,
    now: i64,
    retention_ms: i64,
) -> bool {
    let closed_ms = shard.state.lock().closed_ms;
    let (kind, at) = match filter {
        None => return true,
        Some(f) => match f.split_once('@') {
            Some((kind, at)) => (kind, at.parse::<i64>().unwrap_or(now)),
            None => (f, now),
        },
    };
    match kind {
        "AT_LATEST" => closed_ms.is_none(),
        "AT_TRIM_HORIZON" | "FROM_TRIM_HORIZON" => {
            closed_ms.is_none_or(|c| c >= now - retention_ms)
        }
        "AT_TIMESTAMP" => shard.created_ms <= at && closed_ms.is_none_or(|c| c > at),
        "FROM_TIMESTAMP" => closed_ms.is_none_or(|c| c > at),
        _ => true,
    }
}

fn require_active_provisioned(
    stream: &Stream,
    ctx: &Ctx,
    status: Status,
    mode: Mode,
) -> Result<(), AwsError> {
    super::control::require_active(stream, status, ctx)?;
    if mode == Mode::OnDemand {
        return Err(AwsError::client(
            "ValidationException",
            format!(
                "Request is invalid. Stream {} under account {} is in On-Demand mode.",
                stream.name, ctx.account
            ),
        ));
    }
    Ok(())
}

pub(super) fn update_shard_count(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateShardCountInput,
) -> Result<UpdateShardCountOutput, AwsError> {
    let mut v = Validation::new();
    v.required_range("targetShardCount", &input.target_shard_count, 1, 100_000);
    if v.required("scalingType", &input.scaling_type) {
        v.one_of(
            "scalingType",
            input.scaling_type.as_deref().unwrap_or_default(),
            &["UNIFORM_SCALING"],
        );
    }
    v.finish()?;
    let target = input.target_shard_count.unwrap_or_default();
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let now = k.now();
    let mut meta = stream.meta.lock();
    require_active_provisioned(&stream, ctx, meta.status, meta.mode)?;
    let open = stream.shards.read().open.clone();
    let current = open.len() as i64;
    if !k.settings.relax_limits {
        if target > current * 2 {
            return Err(AwsError::limit_exceeded(format!(
                "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current}, Target shard count: {target}"
            )));
        }
        if target * 2 < current {
            return Err(AwsError::limit_exceeded(format!(
                "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current}, Target shard count: {target}"
            )));
        }
        if rolling_day(&mut meta.shard_count_updates, now) >= SHARD_COUNT_UPDATES_PER_DAY {
            let next = meta.shard_count_updates.front().copied().unwrap_or(now) + DAY_MS;
            return Err(AwsError::limit_exceeded(format!(
                "UpdateShardCount failed for stream {} under account {}: the limit of {SHARD_COUNT_UPDATES_PER_DAY} scaling operations in a rolling 24-hour period has been reached. The next one is possible after {}.",
                stream.name,
                ctx.account,
                Timestamp(next).0 / 1000
            )));
        }
    }
    if target == current {
        return Err(AwsError::invalid_argument(format!(
            "UpdateShardCount failed for stream {} under account {}: the stream already has {current} open shards.",
            stream.name, ctx.account
        )));
    }
    meta.shard_count_updates.push_back(now);
    let transition = Transition::Reshard {
        close: open.iter().map(|s| s.index).collect(),
        open: plan_uniform(&open, target as u32),
    };
    let at = now + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, transition, at);
    Ok(UpdateShardCountOutput {
        stream_name: stream.name.clone(),
        current_shard_count: current,
        target_shard_count: target,
        stream_arn: stream.arn.clone(),
    })
}

/// The open shard named `id`, or the AWS error for a missing or closed one.
fn open_shard(
    stream: &Stream,
    ctx: &Ctx,
    id: &str,
) -> Result<std::sync::Arc<super::stream::Shard>, AwsError> {
    let missing = || {
        AwsError::not_found(format!(
            "Could not find shard {id} in stream {} under account {}.",
            stream.name, ctx.account
        ))
    };
    let index = parse_shard_id(id).ok_or_else(missing)?;
    let shards = stream.shards.read();
    let shard = shards.get(index).ok_or_else(missing)?;
    if !shards.open.iter().any(|s| s.index == index) {
        return Err(AwsError::in_use(format!(
            "Shard {id} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
            stream.name, ctx.account
        )));
    }
    Ok(shard.clone())
}

pub(super) fn split_shard(
    k: &Kinesis,
    ctx: &Ctx,
    input: SplitShardInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("shardToSplit", &input.shard_to_split, 1, 128);
    if v.required("newStartingHashKey", &input.new_starting_hash_key) {
        let key = input.new_starting_hash_key.as_deref().unwrap_or_default();
        v.pattern("newStartingHashKey", key, "0|([1-9]\\d{0,38})", |s| {
            is_decimal(s, 39)
        });
    }
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let mut meta = stream.meta.lock();
    require_active_provisioned(&stream, ctx, meta.status, meta.mode)?;
    let shard = open_shard(
        &stream,
        ctx,
        input.shard_to_split.as_deref().unwrap_or_default(),
    )?;
    let key_text = input.new_starting_hash_key.unwrap_or_default();
    let key = parse_hash_key(&key_text).filter(|k| *k > shard.start_hash && *k <= shard.end_hash);
    let Some(key) = key else {
        return Err(AwsError::invalid_argument(format!(
            "NewStartingHashKey {key_text} used in SplitShard() on shard {} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
            shard.id, stream.name, ctx.account, shard.start_hash, shard.end_hash
        )));
    };
    let transition = Transition::Reshard {
        close: vec![shard.index],
        open: vec![
            NewShard {
                start: shard.start_hash,
                end: key - 1,
                parents: vec![shard.index],
            },
            NewShard {
                start: key,
                end: shard.end_hash,
                parents: vec![shard.index],
            },
        ],
    };
    let at = k.now() + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, transition, at);
    Ok(Empty {})
}

pub(super) fn merge_shards(
    k: &Kinesis,
    ctx: &Ctx,
    input: MergeShardsInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("shardToMerge", &input.shard_to_merge, 1, 128);
    v.required_length(
        "adjacentShardToMerge",
        &input.adjacent_shard_to_merge,
        1,
        128,
    );
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let mut meta = stream.meta.lock();
    require_active_provisioned(&stream, ctx, meta.status, meta.mode)?;
    let a = open_shard(
        &stream,
        ctx,
        input.shard_to_merge.as_deref().unwrap_or_default(),
    )?;
    let b = open_shard(
        &stream,
        ctx,
        input.adjacent_shard_to_merge.as_deref().unwrap_or_default(),
    )?;
    let adjacent = a.end_hash.checked_add(1) == Some(b.start_hash)
        || b.end_hash.checked_add(1) == Some(a.start_hash);
    if !adjacent {
        return Err(AwsError::invalid_argument(format!(
            "Shards {} and {} in stream {} under account {} are not an adjacent pair of shards eligible for merging",
            a.id, b.id, stream.name, ctx.account
        )));
    }
    let transition = Transition::Reshard {
        close: vec![a.index, b.index],
        open: vec![NewShard {
            start: a.start_hash.min(b.start_hash),
            end: a.end_hash.max(b.end_hash),
            parents: vec![a.index, b.index],
        }],
    };
    let at = k.now() + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, transition, at);
    Ok(Empty {})
}
