//! Stream lifecycle and settings: create, delete, describe, list, retention, encryption,
//! enhanced monitoring, capacity mode, limits.

use std::sync::Arc;

use super::limits::{
    DAY_MS, MAX_CREATING_STREAMS, MODE_SWITCHES_PER_DAY, ON_DEMAND_STREAM_LIMIT, SHARD_LIMIT,
    rolling_day,
};
use super::model::*;
use super::stream::{Mode, NewStream, Status, Stream, Transition};
use super::tagging::{check_tag_characters, validate_tags};
use super::{Ctx, Kinesis, validate_stream_name};
use crate::emulator::error::{AwsError, Validation};
use crate::emulator::protocol::Timestamp;

/// Shards an on-demand stream starts with.
const ON_DEMAND_INITIAL_SHARDS: u32 = 4;

/// The shard-level metric names AWS accepts.
pub const METRICS: [&str; 8] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
    "ALL",
];

fn parse_mode(v: &mut Validation, path: &str, details: &Option<StreamModeDetails>) -> Option<Mode> {
    let details = details.as_ref()?;
    if !v.required(path, &details.stream_mode) {
        return None;
    }
    let mode = details.stream_mode.as_deref().unwrap_or_default();
    v.one_of(path, mode, &["PROVISIONED", "ON_DEMAND"]);
    match mode {
        "PROVISIONED" => Some(Mode::Provisioned),
        "ON_DEMAND" => Some(Mode::OnDemand),
        _ => None,
    }
}

pub(super) fn create_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: CreateStreamInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    if v.required("streamName", &input.stream_name) {
        validate_stream_name(
            &mut v,
            "streamName",
            input.stream_name.as_deref().unwrap_or_default(),
        );
    }
    if let Some(n) = input.shard_count {
        v.range("shardCount", n, 1, 100_000);
    }
    let mode = parse_mode(
        &mut v,
        "streamModeDetails.streamMode",
        &input.stream_mode_details,
    )
    .unwrap_or(Mode::Provisioned);
    if let Some(tags) = &input.tags {
        validate_tags(&mut v, "tags", tags);
    }
    if let Some(size) = input.max_record_size_in_ki_b {
        v.range("maxRecordSizeInKiB", size, 1024, 10240);
    }
    if let Some(warm) = input.warm_throughput_mi_bps {
        v.range("warmThroughputMiBps", warm, 0, 2_000_000);
    }
    if let Some(strategy) = &input.record_distribution_strategy {
        v.one_of(
            "recordDistributionStrategy",
            strategy,
            &["AUTO", "USER_PARTITION_KEY"],
        );
    }
    v.finish()?;
    let name = input.stream_name.unwrap_or_default();

    let shard_count = match (mode, input.shard_count) {
        (Mode::Provisioned, Some(n)) => n as u32,
        (Mode::Provisioned, None) => {
            return Err(AwsError::invalid_argument(
                "ShardCount is required for streams in PROVISIONED mode.",
            ));
        }
        (Mode::OnDemand, Some(_)) => {
            return Err(AwsError::invalid_argument(
                "ShardCount cannot be specified for streams in ON_DEMAND mode.",
            ));
        }
        (Mode::OnDemand, None) => ON_DEMAND_INITIAL_SHARDS,
    };
    if input.warm_throughput_mi_bps.is_some() && mode != Mode::OnDemand {
        return Err(AwsError::invalid_argument(
            "WarmThroughputMiBps can only be specified for streams in ON_DEMAND mode.",
        ));
    }
    if input.record_distribution_strategy.is_some() && mode != Mode::OnDemand {
        return Err(AwsError::invalid_argument(
            "RecordDistributionStrategy can only be specified for streams in ON_DEMAND mode.",
        ));
    }
    if input.warm_throughput_mi_bps.is_some_and(|w| w > 0)
        && !k.region(ctx).commitment.lock().enabled(k.now())
    {
        return Err(commitment_required(ctx));
    }

    if let Some(tags) = &input.tags {
        check_tag_characters(tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))?;
    }

    let now = k.now();
    let existing = k.all_streams(ctx);
    if existing.iter().any(|s| s.name == name) {
        return Err(AwsError::in_use(format!(
            "Stream {name} under account {} already exists.",
            ctx.account
        )));
    }
    if !k.settings.relax_limits {
        check_in_transition_limit(&existing, ctx)?;
        let open: i64 = existing.iter().map(|s| s.open_shard_count() as i64).sum();
        if open + shard_count as i64 > SHARD_LIMIT {
            return Err(AwsError::limit_exceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {open}. Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {shard_count}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
                ctx.account, ctx.region
            )));
        }
    }

    let stream = Arc::new(Stream::new(NewStream {
        arn: Kinesis::stream_arn(ctx, &name),
        name: name.clone(),
        created_ms: now,
        tag: k.new_tag(),
        mode,
        shard_count,
        tags: input.tags.unwrap_or_default(),
        max_record_kib: input.max_record_size_in_ki_b.unwrap_or(1024),
        warm_mibps: input.warm_throughput_mi_bps,
        distribution: input.record_distribution_strategy.clone(),
        active_at_ms: now + k.settings.create_delay.as_millis() as i64,
    }));
    let region = k.region(ctx);
    let mut streams = region.streams.write();
    if streams.contains_key(&name) {
        return Err(AwsError::in_use(format!(
            "Stream {name} under account {} already exists.",
            ctx.account
        )));
    }
    streams.insert(name, stream);
    Ok(Empty {})
}

pub(super) fn delete_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: DeleteStreamInput,
) -> Result<Empty, AwsError> {
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let meta = stream.meta.lock();
    if meta.status == Status::Deleting {
        return Ok(Empty {});
    }
    let now = k.now();
    let active_consumers = meta.consumers.iter().any(|c| c.status(now).is_some());
    if active_consumers && !input.enforce_consumer_deletion.unwrap_or(false) {
        return Err(AwsError::in_use(format!(
            "Stream {} under account {} has registered consumers. Deregister them, or delete the stream with EnforceConsumerDeletion.",
            stream.name, ctx.account
        )));
    }
    drop(meta);
    if !k.settings.relax_limits {
        let others: Vec<_> = k
            .all_streams(ctx)
            .into_iter()
            .filter(|s| s.name != stream.name)
            .collect();
        check_in_transition_limit(&others, ctx)?;
    }
    let mut meta = stream.meta.lock();
    let at = k.now() + k.settings.delete_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Deleting, Transition::Remove, at);
    Ok(Empty {})
}

/// AWS lets at most five streams of an account be CREATING or DELETING at once.
fn check_in_transition_limit(streams: &[Arc<Stream>], ctx: &Ctx) -> Result<(), AwsError> {
    let busy = streams
        .iter()
        .filter(|s| matches!(s.meta.lock().status, Status::Creating | Status::Deleting))
        .count();
    if busy >= MAX_CREATING_STREAMS {
        return Err(AwsError::limit_exceeded(format!(
            "This request would have exceed the limit on the number of streams that can simultaneously be in CREATING or DELETING for the account {}. Limit: {MAX_CREATING_STREAMS}.",
            ctx.account
        )));
    }
    Ok(())
}

/// Renders the shards of `stream` for DescribeStream and ListShards.
pub(super) fn shard_view(k: &Kinesis, stream: &Stream, shard: &super::stream::Shard) -> Shard {
    let closed_at = shard.state.lock().closed_at;
    let _ = k;
    Shard {
        shard_id: shard.id.clone(),
        parent_shard_id: shard.parent.map(super::keys::shard_id),
        adjacent_parent_shard_id: shard.adjacent_parent.map(super::keys::shard_id),
        hash_key_range: HashKeyRange {
            starting_hash_key: shard.start_hash.to_string(),
            ending_hash_key: shard.end_hash.to_string(),
        },
        sequence_number_range: SequenceNumberRange {
            starting_sequence_number: super::keys::sequence_number(
                stream.tag,
                shard.starting_counter,
                shard.index,
            ),
            ending_sequence_number: closed_at
                .map(|c| super::keys::sequence_number(stream.tag, c, shard.index)),
        },
    }
}

fn metrics_view(meta: &super::stream::Meta) -> Vec<EnhancedMetrics> {
    vec![EnhancedMetrics {
        shard_level_metrics: meta.metrics.iter().cloned().collect(),
    }]
}

fn mode_view(mode: Mode) -> StreamModeDetails {
    StreamModeDetails {
        stream_mode: Some(mode.as_str().to_owned()),
    }
}

pub(super) fn describe_stream(
    k: &Kinesis,
    ctx: &Ctx,
    input: DescribeStreamInput,
) -> Result<DescribeStreamOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(limit) = input.limit {
        v.range("limit", limit, 1, 10000);
    }
    if let Some(id) = &input.exclusive_start_shard_id {
        v.length("exclusiveStartShardId", id, 1, 128);
    }
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let limit = input.limit.unwrap_or(100) as usize;
    let after = input
        .exclusive_start_shard_id
        .as_deref()
        .and_then(super::keys::parse_shard_id);
    // AWS lists no shards while a stream is CREATING.
    let creating = stream.meta.lock().status == Status::Creating;
    let all: Vec<_> = if creating {
        Vec::new()
    } else {
        stream.shards.read().all.clone()
    };
    let mut shards: Vec<Shard> = all
        .iter()
        .filter(|s| after.is_none_or(|a| s.index > a))
        .take(limit + 1)
        .map(|s| shard_view(k, &stream, s))
        .collect();
    let has_more = shards.len() > limit;
    shards.truncate(limit);
    let meta = stream.meta.lock();
    Ok(DescribeStreamOutput {
        stream_description: StreamDescription {
            stream_name: stream.name.clone(),
            stream_arn: stream.arn.clone(),
            stream_status: meta.status.as_str(),
            stream_mode_details: mode_view(meta.mode),
            shards,
            has_more_shards: has_more,
            retention_period_hours: meta.retention_hours,
            stream_creation_timestamp: Timestamp(stream.created_ms),
            enhanced_monitoring: metrics_view(&meta),
            encryption_type: if meta.kms_key.is_some() {
                "KMS"
            } else {
                "NONE"
            },
            key_id: meta.kms_key.clone(),
        },
    })
}

pub(super) fn describe_stream_summary(
    k: &Kinesis,
    ctx: &Ctx,
    input: DescribeStreamInput,
) -> Result<DescribeStreamSummaryOutput, AwsError> {
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let open = stream.open_shard_count() as i64;
    let meta = stream.meta.lock();
    Ok(DescribeStreamSummaryOutput {
        stream_description_summary: StreamDescriptionSummary {
            stream_name: stream.name.clone(),
            stream_arn: stream.arn.clone(),
            stream_status: meta.status.as_str(),
            stream_mode_details: mode_view(meta.mode),
            retention_period_hours: meta.retention_hours,
            stream_creation_timestamp: Timestamp(stream.created_ms),
            enhanced_monitoring: metrics_view(&meta),
            encryption_type: if meta.kms_key.is_some() {
                "KMS"
            } else {
                "NONE"
            },
            key_id: meta.kms_key.clone(),
            open_shard_count: open,
            consumer_count: meta
                .consumers
                .iter()
                .filter(|c| c.status(k.now()).is_some())
                .count() as i64,
            warm_throughput: meta.warm_mibps.map(|w| WarmThroughput {
                target_mi_bps: Some(w),
                current_mi_bps: Some(w),
            }),
            max_record_size_in_ki_b: meta.max_record_kib,
        },
    })
}

pub(super) fn list_streams(
    k: &Kinesis,
    ctx: &Ctx,
    input: ListStreamsInput,
) -> Result<ListStreamsOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(limit) = input.limit {
        v.range("limit", limit, 1, 10000);
    }
    if let Some(start) = &input.exclusive_start_stream_name {
        validate_stream_name(&mut v, "exclusiveStartStreamName", start);
    }
    if let Some(token) = &input.next_token {
        v.length("nextToken", token, 1, 1048576);
    }
    v.finish()?;
    let after = match (&input.next_token, &input.exclusive_start_stream_name) {
        (Some(_), Some(_)) => {
            return Err(AwsError::invalid_argument(
                "NextToken and ExclusiveStartStreamName cannot be provided together.",
            ));
        }
        (Some(token), None) => Some(decode_token(token)?),
        (None, start) => start.clone(),
    };
    let limit = input.limit.unwrap_or(100) as usize;
    let streams = k.all_streams(ctx);
    let mut page: Vec<_> = streams
        .iter()
        .filter(|s| after.as_ref().is_none_or(|a| &s.name > a))
        .take(limit + 1)
        .collect();
    let has_more = page.len() > limit;
    page.truncate(limit);
    let next_token = if has_more {
        page.last().map(|s| encode_token(&s.name))
    } else {
        None
    };
    Ok(ListStreamsOutput {
        stream_names: page.iter().map(|s| s.name.clone()).collect(),
        has_more_streams: has_more,
        next_token,
        stream_summaries: page
            .iter()
            .map(|s| {
                let meta = s.meta.lock();
                StreamSummary {
                    stream_name: s.name.clone(),
                    stream_arn: s.arn.clone(),
                    stream_status: meta.status.as_str(),
                    stream_mode_details: mode_view(meta.mode),
                    stream_creation_timestamp: Timestamp(s.created_ms),
                }
            })
            .collect(),
    })
}

/// A pagination token holding the last name of a page.
pub(super) fn encode_token(last: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("v1:{last}"))
}

/// The last name of a page, from [`encode_token`].
pub(super) fn decode_token(token: &str) -> Result<String, AwsError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("v1:").map(str::to_owned))
        .ok_or_else(|| AwsError::invalid_argument(format!("Invalid NextToken: {token}")))
}

/// Checks that a stream accepts a control-plane change: ACTIVE.
pub(super) fn require_active(stream: &Stream, status: Status, ctx: &Ctx) -> Result<(), AwsError> {
    if status != Status::Active {
        return Err(AwsError::in_use(format!(
            "Stream {} under account {} not ACTIVE, instead in state {}",
            stream.name,
            ctx.account,
            status.as_str()
        )));
    }
    Ok(())
}

fn retention(
    k: &Kinesis,
    ctx: &Ctx,
    input: RetentionInput,
    increase: bool,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_range(
        "retentionPeriodHours",
        &input.retention_period_hours,
        1,
        8760,
    );
    v.finish()?;
    let hours = input.retention_period_hours.unwrap_or_default();
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    if hours < 24 {
        return Err(AwsError::invalid_argument(format!(
            "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    if hours > 8760 {
        return Err(AwsError::invalid_argument(format!(
            "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
        )));
    }
    let current = meta.retention_hours;
    if increase && hours < current {
        return Err(AwsError::invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API.",
            stream.name
        )));
    }
    if !increase && hours > current {
        return Err(AwsError::invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API.",
            stream.name
        )));
    }
    meta.retention_hours = hours;
    Ok(Empty {})
}

pub(super) fn increase_retention(
    k: &Kinesis,
    ctx: &Ctx,
    input: RetentionInput,
) -> Result<Empty, AwsError> {
    retention(k, ctx, input, true)
}

pub(super) fn decrease_retention(
    k: &Kinesis,
    ctx: &Ctx,
    input: RetentionInput,
) -> Result<Empty, AwsError> {
    retention(k, ctx, input, false)
}

fn validate_encryption(input: &EncryptionInput) -> Result<(), AwsError> {
    let mut v = Validation::new();
    if v.required("encryptionType", &input.encryption_type) {
        v.one_of(
            "encryptionType",
            input.encryption_type.as_deref().unwrap_or_default(),
            &["NONE", "KMS"],
        );
    }
    v.required_length("keyId", &input.key_id, 1, 2048);
    v.finish()
}

fn encryption(
    k: &Kinesis,
    ctx: &Ctx,
    input: EncryptionInput,
    start: bool,
) -> Result<Empty, AwsError> {
    validate_encryption(&input)?;
    if input.encryption_type.as_deref() != Some("KMS") {
        return Err(AwsError::invalid_argument(
            "Only KMS is a supported encryption type.",
        ));
    }
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    let key = input.key_id.unwrap_or_default();
    if !start && meta.kms_key.as_deref() != Some(key.as_str()) {
        if meta.kms_key.is_none() {
            // Stopping encryption on an unencrypted stream is a no-op on AWS.
            return Ok(Empty {});
        }
        return Err(AwsError::invalid_argument(format!(
            "The key {key} does not match the key the stream {} is encrypted with.",
            stream.name
        )));
    }
    meta.kms_key = start.then_some(key);
    let at = k.now() + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, Transition::Activate, at);
    Ok(Empty {})
}

pub(super) fn start_encryption(
    k: &Kinesis,
    ctx: &Ctx,
    input: EncryptionInput,
) -> Result<Empty, AwsError> {
    encryption(k, ctx, input, true)
}

pub(super) fn stop_encryption(
    k: &Kinesis,
    ctx: &Ctx,
    input: EncryptionInput,
) -> Result<Empty, AwsError> {
    encryption(k, ctx, input, false)
}

fn monitoring(
    k: &Kinesis,
    ctx: &Ctx,
    input: MonitoringInput,
    enable: bool,
) -> Result<MonitoringOutput, AwsError> {
    let mut v = Validation::new();
    if v.required("shardLevelMetrics", &input.shard_level_metrics) {
        let metrics = input.shard_level_metrics.as_deref().unwrap_or_default();
        v.size(
            "shardLevelMetrics",
            format_args!("{metrics:?}"),
            metrics.len(),
            1,
            7,
        );
        for (i, m) in metrics.iter().enumerate() {
            v.one_of(format!("shardLevelMetrics.{}.member", i + 1), m, &METRICS);
        }
    }
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    let current: Vec<String> = meta.metrics.iter().cloned().collect();
    let requested = input.shard_level_metrics.unwrap_or_default();
    let expanded: Vec<String> = if requested.iter().any(|m| m == "ALL") {
        METRICS[..7].iter().map(|m| (*m).to_owned()).collect()
    } else {
        requested
    };
    for m in expanded {
        if enable {
            meta.metrics.insert(m);
        } else {
            meta.metrics.remove(&m);
        }
    }
    Ok(MonitoringOutput {
        stream_name: stream.name.clone(),
        current_shard_level_metrics: current,
        desired_shard_level_metrics: meta.metrics.iter().cloned().collect(),
        stream_arn: stream.arn.clone(),
    })
}

pub(super) fn enable_monitoring(
    k: &Kinesis,
    ctx: &Ctx,
    input: MonitoringInput,
) -> Result<MonitoringOutput, AwsError> {
    monitoring(k, ctx, input, true)
}

pub(super) fn disable_monitoring(
    k: &Kinesis,
    ctx: &Ctx,
    input: MonitoringInput,
) -> Result<MonitoringOutput, AwsError> {
    monitoring(k, ctx, input, false)
}

pub(super) fn update_stream_mode(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateStreamModeInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("streamARN", &input.stream_arn, 1, 2048);
    let mode = if v.required("streamModeDetails", &input.stream_mode_details) {
        parse_mode(
            &mut v,
            "streamModeDetails.streamMode",
            &input.stream_mode_details,
        )
    } else {
        None
    };
    v.finish()?;
    let mode = mode.expect("validated");
    let stream = k.find(ctx, None, input.stream_arn.as_deref())?;
    let now = k.now();
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    if meta.mode == mode {
        return Err(AwsError::invalid_argument(format!(
            "Stream {} under account {} is already in {} mode.",
            stream.name,
            ctx.account,
            mode.as_str()
        )));
    }
    if !k.settings.relax_limits
        && rolling_day(&mut meta.mode_switches, now) >= MODE_SWITCHES_PER_DAY
    {
        return Err(AwsError::limit_exceeded(format!(
            "Stream {} under account {} has exceeded the limit of {MODE_SWITCHES_PER_DAY} capacity mode switches in a rolling 24-hour period. Try again after {}.",
            stream.name,
            ctx.account,
            Timestamp(meta.mode_switches.front().copied().unwrap_or(now) + DAY_MS).0
        )));
    }
    if mode == Mode::OnDemand {
        let on_demand = k
            .all_streams(ctx)
            .iter()
            .filter(|s| s.name != stream.name && s.meta.lock().mode == Mode::OnDemand)
            .count() as i64;
        if !k.settings.relax_limits && on_demand >= ON_DEMAND_STREAM_LIMIT {
            return Err(AwsError::limit_exceeded(format!(
                "This request would exceed the limit of {ON_DEMAND_STREAM_LIMIT} on-demand streams for account {}.",
                ctx.account
            )));
        }
    }
    meta.mode_switches.push_back(now);
    meta.mode = mode;
    if mode == Mode::Provisioned {
        meta.warm_mibps = None;
    }
    let at = now + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, Transition::Activate, at);
    Ok(Empty {})
}

pub(super) fn describe_limits(
    k: &Kinesis,
    ctx: &Ctx,
    _input: NoInput,
) -> Result<DescribeLimitsOutput, AwsError> {
    let streams = k.all_streams(ctx);
    Ok(DescribeLimitsOutput {
        shard_limit: SHARD_LIMIT,
        open_shard_count: streams.iter().map(|s| s.open_shard_count() as i64).sum(),
        on_demand_stream_count: streams
            .iter()
            .filter(|s| s.meta.lock().mode == Mode::OnDemand)
            .count() as i64,
        on_demand_stream_count_limit: ON_DEMAND_STREAM_LIMIT,
    })
}

pub(super) fn update_max_record_size(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateMaxRecordSizeInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("streamARN", &input.stream_arn, 1, 2048);
    v.required_range(
        "maxRecordSizeInKiB",
        &input.max_record_size_in_ki_b,
        1024,
        10240,
    );
    v.finish()?;
    let stream = k.find(ctx, None, input.stream_arn.as_deref())?;
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    meta.max_record_kib = input.max_record_size_in_ki_b.unwrap_or(1024);
    let at = k.now() + k.settings.update_delay.as_millis() as i64;
    stream.begin(&mut meta, Status::Updating, Transition::Activate, at);
    Ok(Empty {})
}

/// AWS's error when warm throughput is asked for without the account's commitment.
pub(super) fn commitment_required(ctx: &Ctx) -> AwsError {
    AwsError::invalid_argument(format!(
        "Warm throughput requires the minimum throughput billing commitment of account {} in {}; enable it with UpdateAccountSettings.",
        ctx.account, ctx.region
    ))
}

pub(super) fn update_warm_throughput(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateWarmThroughputInput,
) -> Result<UpdateWarmThroughputOutput, AwsError> {
    let mut v = Validation::new();
    if let Some(name) = &input.stream_name {
        validate_stream_name(&mut v, "streamName", name);
    }
    v.required_range(
        "warmThroughputMiBps",
        &input.warm_throughput_mi_bps,
        0,
        2_000_000,
    );
    v.finish()?;
    let stream = k.find(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    if !k.region(ctx).commitment.lock().enabled(k.now()) {
        return Err(commitment_required(ctx));
    }
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    if meta.mode != Mode::OnDemand {
        return Err(AwsError::invalid_argument(format!(
            "Warm throughput can only be set on streams in ON_DEMAND mode; stream {} under account {} is PROVISIONED.",
            stream.name, ctx.account
        )));
    }
    let target = input.warm_throughput_mi_bps.unwrap_or_default();
    meta.warm_mibps = Some(target);
    Ok(UpdateWarmThroughputOutput {
        stream_arn: stream.arn.clone(),
        stream_name: stream.name.clone(),
        warm_throughput: WarmThroughput {
            target_mi_bps: Some(target),
            current_mi_bps: Some(target),
        },
    })
}

pub(super) fn update_distribution(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateDistributionInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    v.required_length("streamARN", &input.stream_arn, 1, 2048);
    if v.required(
        "recordDistributionStrategy",
        &input.record_distribution_strategy,
    ) {
        v.one_of(
            "recordDistributionStrategy",
            input
                .record_distribution_strategy
                .as_deref()
                .unwrap_or_default(),
            &["AUTO", "USER_PARTITION_KEY"],
        );
    }
    v.finish()?;
    let stream = k.find(ctx, None, input.stream_arn.as_deref())?;
    let mut meta = stream.meta.lock();
    require_active(&stream, meta.status, ctx)?;
    if meta.mode != Mode::OnDemand {
        return Err(AwsError::invalid_argument(format!(
            "The record distribution strategy can only be set on streams in ON_DEMAND mode; stream {} under account {} is PROVISIONED.",
            stream.name, ctx.account
        )));
    }
    meta.distribution = input.record_distribution_strategy;
    Ok(Empty {})
}
