//! Conformance of the emulated Kinesis Data Streams with AWS, through the real aws-sdk-kinesis
//! client (and raw HTTP where no SDK would send the request): one test per behaviour.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ScalingType, ShardFilter, ShardFilterType, ShardIteratorType,
    StreamMode, StreamModeDetails, StreamStatus,
};
use kinesis_operator::emulator::kinesis::Settings;
use md5::{Digest, Md5};
use support::emulator::{
    kinesis, kinesis_as, kinesis_json, post, start, start_default, stream_summary,
};

/// The error code and message of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

async fn create(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

async fn status(client: &Client, name: &str) -> StreamStatus {
    client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_status
}

/// Polls until the stream is ACTIVE (transitions are lazy, so this is quick), no faster than
/// AWS's 20 DescribeStreamSummary calls per second, which the emulator enforces.
async fn wait_active(client: &Client, name: &str) {
    for _ in 0..200 {
        if status(client, name).await == StreamStatus::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    panic!("{name} did not become ACTIVE");
}

async fn iterator(client: &Client, stream: &str, shard: &str, kind: ShardIteratorType) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap()
}

/// Every record of a shard from TRIM_HORIZON, as (sequence number, partition key, data).
async fn read_all(client: &Client, stream: &str, shard: &str) -> Vec<(String, String, Vec<u8>)> {
    let mut it = Some(iterator(client, stream, shard, ShardIteratorType::TrimHorizon).await);
    let mut out = Vec::new();
    while let Some(i) = it {
        let page = client.get_records().shard_iterator(i).send().await.unwrap();
        let empty = page.records.is_empty();
        for r in page.records {
            out.push((
                r.sequence_number,
                r.partition_key.unwrap_or_default(),
                r.data.into_inner(),
            ));
        }
        if empty {
            break;
        }
        it = page.next_shard_iterator;
    }
    out
}

fn md5_hash(key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(key.as_bytes()).into())
}

#[tokio::test]
async fn stream_lifecycle_goes_through_creating_active_deleting() {
    let emu = start(Settings {
        create_delay: Duration::from_millis(300),
        delete_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "life", 1).await;
    assert_eq!(status(&client, "life").await, StreamStatus::Creating);
    let described = client
        .describe_stream()
        .stream_name("life")
        .send()
        .await
        .unwrap();
    assert!(
        described.stream_description.unwrap().shards.is_empty(),
        "no shards while CREATING"
    );
    let (code, _) = err(client
        .put_record()
        .stream_name("life")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await);
    assert_eq!(
        code, "ResourceNotFoundException",
        "writes to a CREATING stream"
    );
    wait_active(&client, "life").await;

    let (code, message) = err(client
        .create_stream()
        .stream_name("life")
        .shard_count(1)
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        message,
        "Stream life under account 000000000000 already exists."
    );

    client
        .delete_stream()
        .stream_name("life")
        .send()
        .await
        .unwrap();
    assert_eq!(status(&client, "life").await, StreamStatus::Deleting);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (code, message) = err(client.describe_stream().stream_name("life").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, "Stream life under account 000000000000 not found.");
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_reports_arn_mode_retention_and_aws_hash_ranges() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "three", 3).await;
    let d = client
        .describe_stream()
        .stream_name("three")
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    assert_eq!(
        d.stream_arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/three"
    );
    assert_eq!(d.retention_period_hours, 24);
    assert_eq!(
        d.stream_mode_details.unwrap().stream_mode,
        StreamMode::Provisioned
    );
    // AWS's even split of 2^128 into three shards.
    let ranges: Vec<(String, String)> = d
        .shards
        .iter()
        .map(|s| {
            let r = s.hash_key_range.as_ref().unwrap();
            (r.starting_hash_key.clone(), r.ending_hash_key.clone())
        })
        .collect();
    assert_eq!(
        ranges,
        [
            ("0", "113427455640312821154458202477256070484"),
            (
                "113427455640312821154458202477256070485",
                "226854911280625642308916404954512140969"
            ),
            (
                "226854911280625642308916404954512140970",
                "340282366920938463463374607431768211455"
            ),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let ids: Vec<_> = d.shards.iter().map(|s| s.shard_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );

    let summary = client
        .describe_stream_summary()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/three")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(summary.open_shard_count, 3);
    assert_eq!(summary.stream_name, "three");
    assert_eq!(summary.max_record_size_in_kib, Some(1024));
    let created = summary.stream_creation_timestamp.secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - created).abs() < 60,
        "creation timestamp is now, not 1970"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn records_route_by_md5_and_read_back_in_order_with_56_digit_sequence_numbers() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "route", 4).await;
    let shards = client
        .list_shards()
        .stream_name("route")
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    let owner = |hash: u128| {
        shards
            .iter()
            .find(|s| {
                let r = s.hash_key_range.as_ref().unwrap();
                r.starting_hash_key.parse::<u128>().unwrap() <= hash
                    && hash <= r.ending_hash_key.parse::<u128>().unwrap()
            })
            .unwrap()
            .shard_id
            .clone()
    };
    let mut sent: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for i in 0..200 {
        let key = format!("user-{i}");
        let out = client
            .put_record()
            .stream_name("route")
            .partition_key(&key)
            .data(Blob::new(format!("payload {i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.shard_id,
            owner(md5_hash(&key)),
            "{key} goes to the shard owning MD5({key})"
        );
        assert_eq!(out.sequence_number.len(), 56);
        assert!(out.sequence_number.bytes().all(|b| b.is_ascii_digit()));
        sent.entry(out.shard_id)
            .or_default()
            .push((out.sequence_number, key));
    }
    // ExplicitHashKey overrides the partition key.
    let out = client
        .put_record()
        .stream_name("route")
        .partition_key("anything")
        .explicit_hash_key("340282366920938463463374607431768211455")
        .data(Blob::new("last"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.shard_id, "shardId-000000000003");
    sent.entry(out.shard_id)
        .or_default()
        .push((out.sequence_number, "anything".into()));

    for (shard, records) in &sent {
        let read = read_all(&client, "route", shard).await;
        let read_ids: Vec<_> = read
            .iter()
            .map(|(s, k, _)| (s.clone(), k.clone()))
            .collect();
        assert_eq!(&read_ids, records, "{shard}: every record once, in order");
        let mut sorted = read_ids.clone();
        sorted.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(&b.0)));
        assert_eq!(sorted, read_ids, "{shard}: sequence numbers increase");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn put_records_answers_per_record_in_request_order() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "batch", 2).await;
    let entries: Vec<_> = (0..500)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new(vec![b'x'; 750]))
                .build()
                .unwrap()
        })
        .collect();
    let out = client
        .put_records()
        .stream_name("batch")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_record_count, Some(0));
    assert_eq!(out.records.len(), 500);
    for (i, r) in out.records.iter().enumerate() {
        let expected = if md5_hash(&format!("k{i}")) < 1u128 << 127 {
            "shardId-000000000000"
        } else {
            "shardId-000000000001"
        };
        assert_eq!(r.shard_id.as_deref(), Some(expected), "record {i}");
    }
    let total: usize = [
        read_all(&client, "batch", "shardId-000000000000")
            .await
            .len(),
        read_all(&client, "batch", "shardId-000000000001")
            .await
            .len(),
    ]
    .iter()
    .sum();
    assert_eq!(total, 500);
    emu.shutdown().await;
}

#[tokio::test]
async fn all_five_iterator_types() {
    // Many reads of one shard in a second: relax the 5 reads/s limit.
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "iters", 1).await;
    let shard = "shardId-000000000000";
    let mut seqs = Vec::new();
    for i in 0..5 {
        let out = client
            .put_record()
            .stream_name("iters")
            .partition_key("k")
            .data(Blob::new(format!("r{i}")))
            .send()
            .await
            .unwrap();
        seqs.push(out.sequence_number);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let data_from = |it: String| {
        let client = client.clone();
        async move {
            let page = client
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .unwrap();
            page.records
                .into_iter()
                .map(|r| String::from_utf8(r.data.into_inner()).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let trim = iterator(&client, "iters", shard, ShardIteratorType::TrimHorizon).await;
    assert_eq!(data_from(trim).await, ["r0", "r1", "r2", "r3", "r4"]);
    let latest = iterator(&client, "iters", shard, ShardIteratorType::Latest).await;
    assert!(data_from(latest).await.is_empty());
    let at = client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(&seqs[2])
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    assert_eq!(data_from(at).await, ["r2", "r3", "r4"]);
    let after = client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .starting_sequence_number(&seqs[2])
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    assert_eq!(data_from(after).await, ["r3", "r4"]);
    // AT_TIMESTAMP: the arrival time of r3.
    let page = client
        .get_records()
        .shard_iterator(iterator(&client, "iters", shard, ShardIteratorType::TrimHorizon).await)
        .send()
        .await
        .unwrap();
    let ts = page.records[3].approximate_arrival_timestamp.unwrap();
    let at_time = client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(ts)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    assert_eq!(data_from(at_time).await, ["r3", "r4"]);

    // Type and sequence number must agree; AT_TIMESTAMP needs a timestamp.
    let (code, message) = err(client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert!(
        message.ends_with("Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."),
        "{message}"
    );
    let (code, _) = err(client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    let (code, message) = err(client
        .get_shard_iterator()
        .stream_name("iters")
        .shard_id("shardId-000000000009")
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Shard shardId-000000000009 in stream iters under account 000000000000 does not exist"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn iterators_expire_after_five_minutes_and_reject_tampering() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "expiry", 1).await;
    let it = iterator(
        &client,
        "expiry",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    client
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect("fresh iterator works");
    emu.clock().advance(Duration::from_secs(299));
    client
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect("still valid at 4:59");
    emu.clock().advance(Duration::from_secs(2));
    let (code, message) = err(client.get_records().shard_iterator(&it).send().await);
    assert_eq!(code, "ExpiredIteratorException");
    assert!(
        message.starts_with("Iterator expired. The iterator was created at time "),
        "{message}"
    );
    assert!(message.ends_with(
        "which is further in the future than the tolerated delay of 300000 milliseconds."
    ));

    let (code, message) = err(client
        .get_records()
        .shard_iterator("AAAAAAAAAAGarbage==")
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert_eq!(message, "Invalid ShardIterator.");
    emu.shutdown().await;
}

#[tokio::test]
async fn get_records_limits_and_millis_behind_latest() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "behind", 1).await;
    for i in 0..30 {
        client
            .put_record()
            .stream_name("behind")
            .partition_key("k")
            .data(Blob::new(format!("{i}")))
            .send()
            .await
            .unwrap();
    }
    emu.clock().advance(Duration::from_secs(10));
    let it = iterator(
        &client,
        "behind",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    let page = client
        .get_records()
        .shard_iterator(it)
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.records.len(), 10);
    assert!(
        page.millis_behind_latest.unwrap() >= 10_000,
        "10 s behind: {:?}",
        page.millis_behind_latest
    );
    let page = client
        .get_records()
        .shard_iterator(page.next_shard_iterator.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.records.len(), 20);
    assert_eq!(page.millis_behind_latest, Some(0), "caught up");
    let next = page
        .next_shard_iterator
        .expect("an open shard always has a next iterator");
    let page = client
        .get_records()
        .shard_iterator(next)
        .send()
        .await
        .unwrap();
    assert!(page.records.is_empty());
    let (code, _) = err(client
        .get_records()
        .shard_iterator("x")
        .limit(10_001)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    emu.shutdown().await;
}

#[tokio::test]
async fn update_shard_count_reshards_with_parents_children_and_child_shards() {
    let emu = start(Settings {
        update_delay: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "scale", 2).await;
    let before = client
        .put_record()
        .stream_name("scale")
        .partition_key("a")
        .data(Blob::new("before"))
        .send()
        .await
        .unwrap();
    let out = client
        .update_shard_count()
        .stream_name("scale")
        .target_shard_count(4)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.current_shard_count, out.target_shard_count),
        (Some(2), Some(4))
    );
    assert_eq!(status(&client, "scale").await, StreamStatus::Updating);
    let (code, message) = err(client
        .update_shard_count()
        .stream_name("scale")
        .target_shard_count(3)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        message,
        "Stream scale under account 000000000000 not ACTIVE, instead in state UPDATING"
    );
    wait_active(&client, "scale").await;

    let shards = client
        .list_shards()
        .stream_name("scale")
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    assert_eq!(
        shards.len(),
        6,
        "2 closed parents + 4 open children (AWS keeps closed shards)"
    );
    let closed: Vec<_> = shards
        .iter()
        .filter(|s| {
            s.sequence_number_range
                .as_ref()
                .unwrap()
                .ending_sequence_number
                .is_some()
        })
        .map(|s| s.shard_id.as_str())
        .collect();
    assert_eq!(closed, ["shardId-000000000000", "shardId-000000000001"]);
    for child in &shards[2..] {
        assert!(
            child.parent_shard_id.is_some(),
            "{} has a parent",
            child.shard_id
        );
    }
    let summary = client
        .describe_stream_summary()
        .stream_name("scale")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.stream_description_summary.unwrap().open_shard_count,
        4
    );

    // Reading a closed parent to its end yields ChildShards and no next iterator.
    let parent = &before.shard_id;
    let mut it = iterator(&client, "scale", parent, ShardIteratorType::TrimHorizon).await;
    let children = loop {
        let page = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        if let Some(children) = page.child_shards {
            assert!(page.next_shard_iterator.is_none());
            break children;
        }
        it = page
            .next_shard_iterator
            .expect("a next iterator until the end");
    };
    assert_eq!(children.len(), 2, "a doubled shard has two children");
    for c in &children {
        assert_eq!(c.parent_shards, std::slice::from_ref(parent));
    }
    // New records go to children and sort after the parent's.
    let after = client
        .put_record()
        .stream_name("scale")
        .partition_key("a")
        .data(Blob::new("after"))
        .send()
        .await
        .unwrap();
    assert!(children.iter().any(|c| c.shard_id == after.shard_id));
    assert!(after.sequence_number > before.sequence_number);
    emu.shutdown().await;
}

#[tokio::test]
async fn update_shard_count_rules_double_half_and_ten_per_day() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "rules", 4).await;
    let scale = |target: i32| {
        client
            .update_shard_count()
            .stream_name("rules")
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
    };
    let (code, message) = err(scale(9).await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 4, Target shard count: 9"
    );
    let (code, message) = err(scale(1).await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, Target shard count: 1"
    );
    // Ten changes within 24 hours are allowed, the eleventh is not (one a second, within
    // AWS's 5 calls per second).
    for i in 0..10 {
        emu.clock().advance(Duration::from_secs(1));
        scale(if i % 2 == 0 { 5 } else { 4 })
            .await
            .unwrap_or_else(|e| panic!("change {i}: {e:?}"));
        wait_active(&client, "rules").await;
    }
    let (code, _) = err(scale(5).await);
    assert_eq!(code, "LimitExceededException");
    emu.clock().advance(Duration::from_secs(24 * 3600));
    scale(5).await.expect("the rolling window has passed");
    emu.shutdown().await;
}

#[tokio::test]
async fn mode_switches_are_limited_to_two_per_day() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "modes", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/modes";
    let switch = |mode: StreamMode| {
        client
            .update_stream_mode()
            .stream_arn(arn)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(mode)
                    .build()
                    .unwrap(),
            )
            .send()
    };
    switch(StreamMode::OnDemand).await.unwrap();
    wait_active(&client, "modes").await;
    let summary = client
        .describe_stream_summary()
        .stream_name("modes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary
            .stream_description_summary
            .unwrap()
            .stream_mode_details
            .unwrap()
            .stream_mode,
        StreamMode::OnDemand
    );
    let (code, message) = err(client
        .update_shard_count()
        .stream_name("modes")
        .target_shard_count(2)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("is in On-Demand mode"), "{message}");
    switch(StreamMode::Provisioned).await.unwrap();
    wait_active(&client, "modes").await;
    let (code, _) = err(switch(StreamMode::OnDemand).await);
    assert_eq!(code, "LimitExceededException", "a third switch within 24 h");
    emu.clock().advance(Duration::from_secs(24 * 3600 + 1));
    switch(StreamMode::OnDemand)
        .await
        .expect("allowed after 24 h");
    emu.shutdown().await;
}

#[tokio::test]
async fn split_and_merge_shards() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "sm", 2).await;
    let (code, message) = err(client
        .split_shard()
        .stream_name("sm")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("0")
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert!(
        message
            .starts_with("NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000000"),
        "{message}"
    );
    client
        .split_shard()
        .stream_name("sm")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .unwrap();
    wait_active(&client, "sm").await;
    let shards = client
        .list_shards()
        .stream_name("sm")
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    assert_eq!(shards.len(), 4);
    let first_child = &shards[2];
    assert_eq!(
        first_child.parent_shard_id.as_deref(),
        Some("shardId-000000000000")
    );
    assert_eq!(
        first_child.hash_key_range.as_ref().unwrap().ending_hash_key,
        "999"
    );

    let (code, message) = err(client
        .merge_shards()
        .stream_name("sm")
        .shard_to_merge("shardId-000000000002")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await);
    assert_eq!(
        code, "InvalidArgumentException",
        "2 covers 0..999, 1 starts at 2^127: not adjacent"
    );
    assert!(
        message.ends_with("are not an adjacent pair of shards eligible for merging"),
        "{message}"
    );
    client
        .merge_shards()
        .stream_name("sm")
        .shard_to_merge("shardId-000000000003")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await
        .unwrap();
    wait_active(&client, "sm").await;
    let shards = client
        .list_shards()
        .stream_name("sm")
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    let merged = shards.last().unwrap();
    assert_eq!(
        merged.parent_shard_id.as_deref(),
        Some("shardId-000000000003")
    );
    assert_eq!(
        merged.adjacent_parent_shard_id.as_deref(),
        Some("shardId-000000000001")
    );
    assert_eq!(
        merged.hash_key_range.as_ref().unwrap().starting_hash_key,
        "1000"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn retention_changes_and_trimming() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "ret", 1).await;
    let (code, message) = err(client
        .decrease_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(12)
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert_eq!(
        message,
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short."
    );
    let (code, message) = err(client
        .increase_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(8761)
        .send()
        .await);
    assert_eq!(
        code, "ValidationException",
        "above the model maximum: {message}"
    );
    client
        .increase_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(48)
        .send()
        .await
        .unwrap();
    let (code, message) = err(client
        .decrease_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(72)
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert!(
        message.contains("can not be longer than existing retention period (48 hours)"),
        "{message}"
    );
    client
        .decrease_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(24)
        .send()
        .await
        .unwrap();

    client
        .put_record()
        .stream_name("ret")
        .partition_key("k")
        .data(Blob::new("old"))
        .send()
        .await
        .unwrap();
    emu.clock().advance(Duration::from_secs(23 * 3600));
    client
        .put_record()
        .stream_name("ret")
        .partition_key("k")
        .data(Blob::new("new"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read_all(&client, "ret", "shardId-000000000000").await.len(),
        2
    );
    emu.clock().advance(Duration::from_secs(2 * 3600));
    let left: Vec<_> = read_all(&client, "ret", "shardId-000000000000")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        left,
        [b"new".to_vec()],
        "records older than the retention period are gone"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn at_most_five_streams_creating_at_once() {
    let emu = start(Settings {
        create_delay: Duration::from_secs(3600),
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    for i in 0..5 {
        create(&client, &format!("c{i}"), 1).await;
    }
    // A second later, so that CreateStream's 5 calls per second are not what refuses it.
    emu.clock().advance(Duration::from_secs(1));
    let (code, message) = err(client
        .create_stream()
        .stream_name("c5")
        .shard_count(1)
        .send()
        .await);
    assert_eq!(code, "LimitExceededException");
    assert!(
        message.contains("simultaneously be in CREATING or DELETING"),
        "{message}"
    );
    emu.clock().advance(Duration::from_secs(3601));
    create(&client, "c5", 1).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn per_shard_write_limits_answer_provisioned_throughput_exceeded() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "limits", 1).await;
    // 3 x 500 records within one second: the 1,000 records/s limit cuts in.
    emu.clock().freeze();
    let mut failed = 0;
    let mut messages = Vec::new();
    for _ in 0..3 {
        let entries: Vec<_> = (0..500)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("k{i}"))
                    .data(Blob::new("x"))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = client
            .put_records()
            .stream_name("limits")
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        failed += out.failed_record_count.unwrap_or(0);
        for r in out.records.iter().filter(|r| r.error_code.is_some()) {
            assert_eq!(
                r.error_code.as_deref(),
                Some("ProvisionedThroughputExceededException")
            );
            assert!(r.sequence_number.is_none());
            messages.push(r.error_message.clone().unwrap());
        }
    }
    assert_eq!(failed, 500, "the third batch exceeds 1000 records/s");
    assert_eq!(
        messages[0],
        "Rate exceeded for shard shardId-000000000000 in stream limits under account 000000000000."
    );
    // 1 MiB/s: two 600 KiB records in one second.
    emu.clock().advance(Duration::from_secs(2));
    let big = Blob::new(vec![0u8; 600 * 1024]);
    let mut codes = Vec::new();
    for _ in 0..2 {
        codes.push(
            match client
                .put_record()
                .stream_name("limits")
                .partition_key("k")
                .data(big.clone())
                .send()
                .await
            {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.code().unwrap_or_default().to_owned(),
            },
        );
    }
    assert_eq!(codes, ["ok", "ProvisionedThroughputExceededException"]);
    // Reads: five GetRecords calls per shard per second.
    emu.clock().advance(Duration::from_secs(2));
    let it = iterator(
        &client,
        "limits",
        "shardId-000000000000",
        ShardIteratorType::Latest,
    )
    .await;
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(
            client
                .get_records()
                .shard_iterator(&it)
                .send()
                .await
                .map_err(|e| e.code().unwrap_or_default().to_owned())
                .is_ok(),
        );
    }
    assert_eq!(outcomes, [true, true, true, true, true, false]);
    emu.shutdown().await;
}

#[tokio::test]
async fn relaxed_limits_accept_any_rate() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "fast", 1).await;
    for _ in 0..4 {
        let entries: Vec<_> = (0..500)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("k{i}"))
                    .data(Blob::new("x"))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = client
            .put_records()
            .stream_name("fast")
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_record_count, Some(0));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn model_violations_are_validation_exceptions_in_aws_format() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "valid", 1).await;
    let (code, message) = err(client
        .create_stream()
        .stream_name("bad name!")
        .shard_count(1)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    );
    let (code, message) = err(client
        .put_record()
        .stream_name("valid")
        .partition_key("k".repeat(257))
        .data(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"), "{message}");
    let (code, message) = err(client
        .put_record()
        .stream_name("valid")
        .partition_key("k")
        .data(Blob::new(vec![0u8; 1024 * 1024]))
        .send()
        .await);
    assert_eq!(
        code, "ValidationException",
        "1 MiB of data plus the key exceeds the 1 MiB default: {message}"
    );
    let entries: Vec<_> = (0..501)
        .map(|_| {
            PutRecordsRequestEntry::builder()
                .partition_key("k")
                .data(Blob::new("x"))
                .build()
                .unwrap()
        })
        .collect();
    let (code, message) = err(client
        .put_records()
        .stream_name("valid")
        .set_records(Some(entries))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"), "{message}");
    let (code, message) = err(client
        .put_record()
        .stream_name("valid")
        .partition_key("k")
        .explicit_hash_key("340282366920938463463374607431768211456")
        .data(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert!(message.starts_with("Invalid ExplicitHashKey."), "{message}");
    let (code, _) = err(client.describe_stream().stream_name("missing").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_requests_never_crash_the_emulator() {
    let emu = start_default().await;
    /// (what is wrong, headers, body, expected status, expected error code)
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "unknown operation",
            vec![
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.Explode"),
            ],
            b"{}".to_vec(),
            400,
            "UnknownOperationException",
        ),
        (
            "no target",
            vec![("Content-Type", "application/x-amz-json-1.1")],
            b"{}".to_vec(),
            400,
            "UnknownOperationException",
        ),
        (
            "malformed JSON",
            vec![
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ],
            b"{\"Limit\":".to_vec(),
            400,
            "SerializationException",
        ),
        (
            "wrong type",
            vec![
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ],
            b"{\"Limit\":\"ten\"}".to_vec(),
            400,
            "SerializationException",
        ),
        (
            "not an object",
            vec![
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ],
            b"[1,2,3]".to_vec(),
            400,
            "SerializationException",
        ),
        (
            "wrong content type",
            vec![
                ("Content-Type", "text/xml"),
                ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ],
            b"<x/>".to_vec(),
            400,
            "SerializationException",
        ),
        (
            "malformed CBOR",
            vec![
                ("Content-Type", "application/x-amz-cbor-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ],
            vec![0xbf, 0x61],
            400,
            "SerializationException",
        ),
        (
            "huge body",
            vec![
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
            ],
            vec![b' '; 25 << 20],
            413,
            "SerializationException",
        ),
    ];
    for (what, headers, body, status, code) in cases {
        let r = post(&emu, &headers, &body).await;
        assert_eq!(r.status, status, "{what}");
        assert_eq!(r.header("x-amzn-errortype"), Some(code), "{what}");
        if r.header("content-type") == Some("application/x-amz-json-1.1") {
            assert_eq!(r.json()["__type"], code, "{what}");
        }
    }
    let ok = kinesis_json(&emu, "ListStreams", b"{}").await;
    assert_eq!(ok.status, 200, "still serving after bad input");
    emu.shutdown().await;
}

#[tokio::test]
async fn tags_by_stream_name_and_by_arn() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    client
        .create_stream()
        .stream_name("tagged")
        .shard_count(1)
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    client
        .add_tags_to_stream()
        .stream_name("tagged")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/tagged";
    client
        .tag_resource()
        .resource_arn(arn)
        .tags("owner", "me")
        .send()
        .await
        .unwrap();
    let listed = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<_, _> = listed
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        tags,
        BTreeMap::from([
            ("env".into(), "dev".into()),
            ("owner".into(), "me".into()),
            ("team".into(), "data".into())
        ])
    );
    assert!(!listed.has_more_tags);
    client
        .remove_tags_from_stream()
        .stream_name("tagged")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("owner")
        .send()
        .await
        .unwrap();
    let left = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key, "team");
    let page = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .limit(1)
        .exclusive_start_tag_key("a")
        .send()
        .await
        .unwrap();
    assert_eq!(page.tags.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn encryption_and_enhanced_monitoring_flags() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "flags", 1).await;
    client
        .start_stream_encryption()
        .stream_name("flags")
        .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .unwrap();
    wait_active(&client, "flags").await;
    let put = client
        .put_record()
        .stream_name("flags")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.encryption_type,
        Some(aws_sdk_kinesis::types::EncryptionType::Kms)
    );
    let summary = client
        .describe_stream_summary()
        .stream_name("flags")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(summary.key_id.as_deref(), Some("alias/aws/kinesis"));
    let out = client
        .enable_enhanced_monitoring()
        .stream_name("flags")
        .shard_level_metrics(aws_sdk_kinesis::types::MetricsName::IncomingBytes)
        .send()
        .await
        .unwrap();
    assert_eq!(out.desired_shard_level_metrics.unwrap().len(), 1);
    let out = client
        .enable_enhanced_monitoring()
        .stream_name("flags")
        .shard_level_metrics(aws_sdk_kinesis::types::MetricsName::All)
        .send()
        .await
        .unwrap();
    assert_eq!(out.desired_shard_level_metrics.unwrap().len(), 7);
    let out = client
        .disable_enhanced_monitoring()
        .stream_name("flags")
        .shard_level_metrics(aws_sdk_kinesis::types::MetricsName::All)
        .send()
        .await
        .unwrap();
    assert!(
        out.desired_shard_level_metrics
            .unwrap_or_default()
            .is_empty()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn list_streams_and_list_shards_paginate() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    for i in 0..7 {
        create(&client, &format!("p{i}"), 1).await;
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_streams()
            .limit(3)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            page.stream_summaries.as_ref().unwrap().len(),
            page.stream_names.len()
        );
        names.extend(page.stream_names);
        if !page.has_more_streams {
            break;
        }
        token = page.next_token;
    }
    assert_eq!(names, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());

    create(&client, "many", 25).await;
    let mut ids = Vec::new();
    let first = client
        .list_shards()
        .stream_name("many")
        .max_results(10)
        .send()
        .await
        .unwrap();
    ids.extend(first.shards.unwrap().into_iter().map(|s| s.shard_id));
    let mut token = first.next_token;
    while let Some(t) = token {
        let (code, message) = err(client
            .list_shards()
            .stream_name("many")
            .next_token(&t)
            .send()
            .await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            (
                "InvalidArgumentException",
                "NextToken and StreamName cannot be provided together."
            )
        );
        let page = client
            .list_shards()
            .next_token(t)
            .max_results(10)
            .send()
            .await
            .unwrap();
        ids.extend(page.shards.unwrap().into_iter().map(|s| s.shard_id));
        token = page.next_token;
    }
    assert_eq!(ids.len(), 25);
    let after = client
        .list_shards()
        .stream_name("many")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AfterShardId)
                .shard_id("shardId-000000000020")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(after.shards.unwrap().len(), 4);
    let (code, message) = err(client.list_shards().send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidArgumentException",
            "Either NextToken or StreamName should be provided."
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let emu = start_default().await;
    let a = kinesis_as(&emu, "111111111111", "us-west-2");
    let b = kinesis_as(&emu, "222222222222", "us-west-2");
    let a_east = kinesis_as(&emu, "111111111111", "us-east-1");
    create(&a, "shared-name", 1).await;
    create(&b, "shared-name", 2).await;
    assert!(
        a_east
            .describe_stream()
            .stream_name("shared-name")
            .send()
            .await
            .is_err()
    );
    let arn_a = a
        .describe_stream_summary()
        .stream_name("shared-name")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_arn;
    assert_eq!(
        arn_a,
        "arn:aws:kinesis:us-west-2:111111111111:stream/shared-name"
    );
    let b_summary = b
        .describe_stream_summary()
        .stream_name("shared-name")
        .send()
        .await
        .unwrap();
    assert_eq!(
        b_summary
            .stream_description_summary
            .unwrap()
            .open_shard_count,
        2
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn concurrent_writers_lose_nothing_and_keep_per_shard_order() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "concurrent", 4).await;
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = client.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for batch in 0..10 {
                let entries: Vec<_> = (0..100)
                    .map(|i| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(format!("w{w}-b{batch}-{i}"))
                            .data(Blob::new(format!("w{w}-b{batch}-{i}")))
                            .build()
                            .unwrap()
                    })
                    .collect();
                let out = client
                    .put_records()
                    .stream_name("concurrent")
                    .set_records(Some(entries))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(out.failed_record_count, Some(0));
                for r in out.records {
                    acked.push((r.shard_id.unwrap(), r.sequence_number.unwrap()));
                }
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert_eq!(acked.len(), 8000);
    let mut read = Vec::new();
    for shard in 0..4 {
        let id = format!("shardId-{shard:012}");
        let records = read_all(&client, "concurrent", &id).await;
        let seqs: Vec<_> = records.iter().map(|r| r.0.clone()).collect();
        let mut sorted = seqs.clone();
        sorted.sort();
        assert_eq!(seqs, sorted, "{id} reads in sequence-number order");
        read.extend(seqs.into_iter().map(|s| (id.clone(), s)));
    }
    let mut acked_sorted = acked.clone();
    acked_sorted.sort();
    read.sort();
    assert_eq!(
        read, acked_sorted,
        "every acknowledged record is read exactly once"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_limits_counts_shards() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "l1", 2).await;
    create(&client, "l2", 3).await;
    let limits = client.describe_limits().send().await.unwrap();
    assert_eq!(limits.shard_limit, 500);
    assert_eq!(limits.open_shard_count, 5);
    assert_eq!(limits.on_demand_stream_count, 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_are_injected_at_the_configured_rate() {
    let emu = kinesis_operator::emulator::Emulator::start(kinesis_operator::emulator::Config {
        faults: vec![
            "ListStreams:throttle:1".parse().unwrap(),
            "DescribeLimits:5xx:1".parse().unwrap(),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let client = kinesis(&emu);
    let (code, _) = err(client.list_streams().send().await);
    assert_eq!(code, "LimitExceededException");
    let e = client.describe_limits().send().await.unwrap_err();
    let raw = e.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(500));
    client
        .create_stream()
        .stream_name("unaffected")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn timestamps_are_epoch_seconds_in_json() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "ts", 1).await;
    client
        .put_record()
        .stream_name("ts")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap();
    let it = iterator(
        &client,
        "ts",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    let body = format!("{{\"ShardIterator\":\"{it}\"}}");
    let raw = kinesis_json(&emu, "GetRecords", body.as_bytes()).await;
    let record = &raw.json()["Records"][0];
    let arrival = record["ApproximateArrivalTimestamp"].as_f64().unwrap();
    let now = DateTime::from(std::time::SystemTime::now()).as_secs_f64();
    assert!((now - arrival).abs() < 60.0, "epoch seconds: {arrival}");
    assert_eq!(record["Data"], "eA==", "base64 data");
    emu.shutdown().await;
}

#[tokio::test]
async fn enhanced_fan_out_consumers_register_describe_list_deregister() {
    let emu = start(Settings {
        create_delay: Duration::from_millis(200),
        delete_delay: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "efo", 1).await;
    wait_active(&client, "efo").await;
    let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/efo";
    let registered = client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("app1")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap();
    assert_eq!(
        registered.consumer_status,
        aws_sdk_kinesis::types::ConsumerStatus::Creating
    );
    let prefix = format!("{stream_arn}/consumer/app1:");
    assert!(
        registered.consumer_arn.starts_with(&prefix),
        "{}",
        registered.consumer_arn
    );
    let (code, _) = err(client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("app1")
        .send()
        .await);
    assert_eq!(
        code, "ResourceInUseException",
        "a second consumer of the same name"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let described = client
        .describe_stream_consumer()
        .consumer_arn(&registered.consumer_arn)
        .send()
        .await
        .unwrap()
        .consumer_description
        .unwrap();
    assert_eq!(
        described.consumer_status,
        aws_sdk_kinesis::types::ConsumerStatus::Active
    );
    assert_eq!(described.stream_arn, stream_arn);
    let by_name = client
        .describe_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("app1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_name.consumer_description.unwrap().consumer_arn,
        registered.consumer_arn
    );
    let summary = client
        .describe_stream_summary()
        .stream_name("efo")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.stream_description_summary.unwrap().consumer_count,
        Some(1)
    );
    let listed = client
        .list_stream_consumers()
        .stream_arn(stream_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.consumers.unwrap().len(), 1);

    let (code, _) = err(client.delete_stream().stream_name("efo").send().await);
    assert_eq!(
        code, "ResourceInUseException",
        "a stream with consumers needs EnforceConsumerDeletion"
    );
    client
        .deregister_stream_consumer()
        .consumer_arn(&registered.consumer_arn)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (code, _) = err(client
        .describe_stream_consumer()
        .consumer_arn(&registered.consumer_arn)
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    client
        .delete_stream()
        .stream_name("efo")
        .send()
        .await
        .expect("no consumers left");
    emu.shutdown().await;
}

#[tokio::test]
async fn resource_policies_on_streams_and_consumers() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "pol", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/pol";
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/pol"}]}"#;
    client
        .put_resource_policy()
        .resource_arn(arn)
        .policy(policy)
        .send()
        .await
        .unwrap();
    let got = client
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy, policy);
    let (code, _) = err(client
        .put_resource_policy()
        .resource_arn(arn)
        .policy("not json")
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    client
        .delete_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .get_resource_policy()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .policy,
        "{}"
    );

    let consumer = client
        .register_stream_consumer()
        .stream_arn(arn)
        .consumer_name("c")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap();
    client
        .put_resource_policy()
        .resource_arn(&consumer.consumer_arn)
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .get_resource_policy()
            .resource_arn(&consumer.consumer_arn)
            .send()
            .await
            .unwrap()
            .policy,
        policy
    );
    assert_eq!(
        client
            .get_resource_policy()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .policy,
        "{}",
        "the stream's own policy is separate"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn max_record_size_up_to_10_mib() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "big", 1).await;
    let two_mib = Blob::new(vec![7u8; 2 << 20]);
    let (code, _) = err(client
        .put_record()
        .stream_name("big")
        .partition_key("k")
        .data(two_mib.clone())
        .send()
        .await);
    assert_eq!(code, "ValidationException", "1 MiB by default");
    client
        .update_max_record_size()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/big")
        .max_record_size_in_kib(4096)
        .send()
        .await
        .unwrap();
    wait_active(&client, "big").await;
    client
        .put_record()
        .stream_name("big")
        .partition_key("k")
        .data(two_mib)
        .send()
        .await
        .expect("2 MiB fits in 4 MiB");
    let read = read_all(&client, "big", "shardId-000000000000").await;
    assert_eq!(read[0].2.len(), 2 << 20);
    let summary = client
        .describe_stream_summary()
        .stream_name("big")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary
            .stream_description_summary
            .unwrap()
            .max_record_size_in_kib,
        Some(4096)
    );
    let (code, _) = err(client
        .update_max_record_size()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/big")
        .max_record_size_in_kib(20480)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    emu.shutdown().await;
}

#[tokio::test]
async fn warm_throughput_needs_on_demand_and_the_billing_commitment() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    let on_demand = || {
        StreamModeDetails::builder()
            .stream_mode(StreamMode::OnDemand)
            .build()
            .unwrap()
    };
    let (code, message) = err(client
        .create_stream()
        .stream_name("warm")
        .stream_mode_details(on_demand())
        .warm_throughput_mibps(100)
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert!(
        message.contains("minimum throughput billing commitment"),
        "{message}"
    );
    let settings = client.describe_account_settings().send().await.unwrap();
    assert!(settings.minimum_throughput_billing_commitment.is_none());
    let updated = client
        .update_account_settings()
        .minimum_throughput_billing_commitment(
            aws_sdk_kinesis::types::MinimumThroughputBillingCommitmentInput::builder()
                .status(
                    aws_sdk_kinesis::types::MinimumThroughputBillingCommitmentInputStatus::Enabled,
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated
            .minimum_throughput_billing_commitment
            .unwrap()
            .status,
        aws_sdk_kinesis::types::MinimumThroughputBillingCommitmentOutputStatus::Enabled
    );
    client
        .create_stream()
        .stream_name("warm")
        .stream_mode_details(on_demand())
        .warm_throughput_mibps(100)
        .send()
        .await
        .unwrap();
    let out = client
        .update_stream_warm_throughput()
        .stream_name("warm")
        .warm_throughput_mibps(200)
        .send()
        .await
        .unwrap();
    assert_eq!(out.warm_throughput.unwrap().target_mibps, Some(200));
    let summary = client
        .describe_stream_summary()
        .stream_name("warm")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(
        summary.open_shard_count, 4,
        "on-demand streams start with 4 shards"
    );
    assert_eq!(summary.warm_throughput.unwrap().target_mibps, Some(200));
    emu.shutdown().await;
}

#[tokio::test]
async fn auto_distribution_takes_records_without_partition_keys() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "keyed", 1).await;
    let (code, message) = err(client
        .put_record()
        .stream_name("keyed")
        .data(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("Value null at 'partitionKey'"),
        "{message}"
    );
    client
        .create_stream()
        .stream_name("auto")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .unwrap(),
        )
        .record_distribution_strategy(aws_sdk_kinesis::types::RecordDistributionStrategy::Auto)
        .send()
        .await
        .unwrap();
    let mut shards = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let out = client
            .put_record()
            .stream_name("auto")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap();
        shards.insert(out.shard_id);
    }
    assert!(
        shards.len() > 1,
        "records without keys spread over the shards: {shards:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn subscribe_to_shard_pushes_records_over_an_event_stream() {
    use aws_sdk_kinesis::types::{StartingPosition, SubscribeToShardEventStream};
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "efo-push", 1).await;
    let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/efo-push";
    let consumer = client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("pusher")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap();
    for i in 0..3 {
        client
            .put_record()
            .stream_name("efo-push")
            .partition_key("k")
            .data(Blob::new(format!("before {i}")))
            .send()
            .await
            .unwrap();
    }
    let mut output = client
        .subscribe_to_shard()
        .consumer_arn(&consumer.consumer_arn)
        .shard_id("shardId-000000000000")
        .starting_position(
            StartingPosition::builder()
                .r#type(ShardIteratorType::TrimHorizon)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("subscribe");
    let mut seen = Vec::new();
    let mut continuation = String::new();
    let mut wrote_more = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 5 && tokio::time::Instant::now() < deadline {
        match output.event_stream.recv().await.expect("an event") {
            Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)) => {
                for r in event.records {
                    seen.push(String::from_utf8(r.data.into_inner()).unwrap());
                }
                continuation = event.continuation_sequence_number;
                assert_eq!(event.millis_behind_latest, 0);
                if !wrote_more {
                    wrote_more = true;
                    for i in 0..2 {
                        client
                            .put_record()
                            .stream_name("efo-push")
                            .partition_key("k")
                            .data(Blob::new(format!("after {i}")))
                            .send()
                            .await
                            .unwrap();
                    }
                }
            }
            Some(other) => panic!("unexpected event {other:?}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["before 0", "before 1", "before 2", "after 0", "after 1"],
        "pushed in order, including records written while subscribed"
    );
    assert_eq!(continuation.len(), 56);
    let (code, _) = err(client
        .subscribe_to_shard()
        .consumer_arn(format!("{stream_arn}/consumer/nobody:1"))
        .shard_id("shardId-000000000000")
        .starting_position(
            StartingPosition::builder()
                .r#type(ShardIteratorType::Latest)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    emu.shutdown().await;
}

#[tokio::test]
async fn sigv4_verification_accepts_valid_signatures_only() {
    let emu = kinesis_operator::emulator::Emulator::start(kinesis_operator::emulator::Config {
        sigv4: Some(vec!["AKIDTEST:secret".parse().unwrap()]),
        ..Default::default()
    })
    .await
    .unwrap();
    let good = kinesis(&emu);
    good.create_stream()
        .stream_name("signed")
        .shard_count(1)
        .send()
        .await
        .expect("a valid signature");
    good.put_record()
        .stream_name("signed")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap();

    let wrong_secret = {
        let config = aws_sdk_kinesis::Config::builder()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDTEST",
                "not-the-secret",
                None,
                None,
                "test",
            ))
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
            .build();
        Client::from_conf(config)
    };
    let (code, message) = err(wrong_secret.list_streams().send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    let (code, _) = err(kinesis_as(&emu, "AKIDUNKNOWN", "us-east-1")
        .list_streams()
        .send()
        .await);
    assert_eq!(code, "UnrecognizedClientException");
    let unsigned = kinesis_json(&emu, "ListStreams", b"{}").await;
    assert_eq!(
        unsigned.header("x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn control_plane_calls_above_aws_rates_are_throttled() {
    let emu = start_default().await;
    emu.clock().freeze();
    let client = kinesis(&emu);
    for i in 0..5 {
        create(&client, &format!("q{i}"), 1).await;
    }
    let (code, message) = err(client
        .create_stream()
        .stream_name("q5")
        .shard_count(1)
        .send()
        .await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        "Rate exceeded for stream q5 under account 000000000000."
    );
    // Other operations have budgets of their own; an operation naming no stream names the
    // account.
    for _ in 0..5 {
        client.list_streams().send().await.expect("ListStreams");
    }
    let (code, message) = err(client.list_streams().send().await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(message, "Rate exceeded for account 000000000000.");
    // A stream named by ARN is named in the message too.
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/q0";
    for _ in 0..5 {
        client
            .list_stream_consumers()
            .stream_arn(arn)
            .send()
            .await
            .expect("ListStreamConsumers");
    }
    let (code, message) = err(client.list_stream_consumers().stream_arn(arn).send().await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        "Rate exceeded for stream q0 under account 000000000000."
    );
    // Accounts and regions are counted apart.
    kinesis_as(&emu, "111111111111", "us-east-1")
        .create_stream()
        .stream_name("q5")
        .shard_count(1)
        .send()
        .await
        .expect("another account");
    // The budget refills with time: one CreateStream per 200 ms.
    emu.clock().advance(Duration::from_millis(200));
    create(&client, "q5", 1).await;
    // The data plane is not counted.
    for i in 0..50 {
        client
            .put_record()
            .stream_name("q0")
            .partition_key("k")
            .data(Blob::new(format!("r{i}")))
            .send()
            .await
            .expect("PutRecord is not a control-plane call");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn relax_limits_lifts_control_plane_rates() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    emu.clock().freeze();
    let client = kinesis(&emu);
    for i in 0..12 {
        create(&client, &format!("r{i}"), 1).await;
    }
    for _ in 0..30 {
        client.list_streams().send().await.expect("ListStreams");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn type_mismatches_are_serialization_exceptions_in_aws_words() {
    let emu = start_default().await;
    let cases: [(&str, &[u8], &str); 9] = [
        (
            "ListStreams",
            br#"{"Limit": "ten"}"#,
            "STRING_VALUE can not be converted to an Integer",
        ),
        (
            "ListStreams",
            br#"{"ExclusiveStartStreamName": true}"#,
            "class java.lang.Boolean can not be converted to an String",
        ),
        (
            "CreateStream",
            br#"{"StreamName": "s", "Tags": "a=b"}"#,
            "Expected map or null",
        ),
        (
            "CreateStream",
            br#"{"StreamName": "s", "StreamModeDetails": "ON_DEMAND"}"#,
            "Expected null",
        ),
        (
            "PutRecord",
            br#"{"StreamName": "s", "PartitionKey": "k", "Data": 5}"#,
            "NUMBER_VALUE can not be converted to a Blob",
        ),
        (
            "PutRecords",
            br#"{"StreamName": "s", "Records": {"Data": "YQ=="}}"#,
            "Start of structure or map found where not expected.",
        ),
        (
            "RemoveTagsFromStream",
            br#"{"StreamName": "s", "TagKeys": "k"}"#,
            "Expected list or null",
        ),
        (
            "DescribeStream",
            br#"{"StreamName": ["s"]}"#,
            "Start of list found where not expected",
        ),
        (
            "PutRecord",
            br#"{"StreamName": "s", "PartitionKey": "k", "Data": "abc"}"#,
            "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
        ),
    ];
    for (operation, body, message) in cases {
        let r = kinesis_json(&emu, operation, body).await;
        let what = String::from_utf8_lossy(body);
        assert_eq!(r.status, 400, "{operation} {what}");
        let json = r.json();
        assert_eq!(
            json["__type"], "SerializationException",
            "{operation} {what}"
        );
        assert_eq!(json["Message"], message, "{operation} {what}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn tags_with_characters_outside_aws_set_are_refused() {
    let emu = start_default().await;
    let client = kinesis(&emu);
    create(&client, "tagged", 1).await;
    let arn = stream_summary(&client, "tagged").await.stream_arn;
    const INVALID: &str = "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.";
    for bad in ["a;b", "tab\there", "line\nbreak", "a,b", "50%"] {
        let as_key = client
            .add_tags_to_stream()
            .stream_name("tagged")
            .tags(bad, "v")
            .send()
            .await;
        let as_value = client
            .add_tags_to_stream()
            .stream_name("tagged")
            .tags("k", bad)
            .send()
            .await;
        let by_arn = client
            .tag_resource()
            .resource_arn(&arn)
            .tags(bad, "v")
            .send()
            .await;
        let remove = client
            .remove_tags_from_stream()
            .stream_name("tagged")
            .tag_keys(bad)
            .send()
            .await;
        let untag = client
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys(bad)
            .send()
            .await;
        let at_creation = client
            .create_stream()
            .stream_name("born-tagged")
            .shard_count(1)
            .tags("k", bad)
            .send()
            .await;
        let outcomes = [
            ("AddTagsToStream key", err(as_key)),
            ("AddTagsToStream value", err(as_value)),
            ("TagResource", err(by_arn)),
            ("RemoveTagsFromStream", err(remove)),
            ("UntagResource", err(untag)),
            ("CreateStream", err(at_creation)),
        ];
        for (operation, (code, message)) in outcomes {
            assert_eq!(code, "InvalidArgumentException", "{operation} {bad:?}");
            assert_eq!(message, INVALID, "{operation} {bad:?}");
        }
        // Six calls of the five-per-second operations per round.
        emu.clock().advance(Duration::from_secs(1));
    }
    client
        .add_tags_to_stream()
        .stream_name("tagged")
        .tags("Größe / 日本語", "a_b.c:d=e+f-g@h i")
        .send()
        .await
        .expect("letters, digits, spaces and _ . : / = + - @ are AWS's set");
    let tags = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .unwrap()
        .tags;
    assert_eq!(tags.len(), 1, "nothing of the refused calls was stored");
    emu.shutdown().await;
}

/// Sends a raw HTTP/1.1 request and returns the status and the lowercased headers.
async fn raw_http(
    emu: &kinesis_operator::emulator::Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HashMap<String, String>) {
    let answer = support::emulator::request(emu, method, path, headers, b"").await;
    (answer.status, answer.headers.into_iter().collect())
}

#[tokio::test]
async fn cors_preflights_are_answered_and_answers_are_readable_by_pages() {
    let emu = start_default().await;
    let origin = ("Origin", "http://localhost:3000");
    // Preflights, for a JSON-RPC call (Kinesis) and an S3-style path.
    let cases = [
        (
            "/",
            "POST",
            "content-type,x-amz-target,x-amz-date,authorization,x-amz-user-agent",
        ),
        (
            "/my-bucket/some/key.txt",
            "PUT",
            "content-type,x-amz-content-sha256,x-amz-date,authorization",
        ),
    ];
    for (path, method, asked) in cases {
        let (status, headers) = raw_http(
            &emu,
            "OPTIONS",
            path,
            &[
                origin,
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", asked),
            ],
        )
        .await;
        assert_eq!(status, 200, "preflight of {path}");
        assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
        assert_eq!(headers["access-control-allow-methods"], method, "{path}");
        assert_eq!(headers["access-control-allow-headers"], asked, "{path}");
        assert_eq!(headers["access-control-max-age"], "172800", "{path}");
    }
    // The actual calls carry the headers that let the page read them.
    let kinesis_answer = kinesis_json_with(&emu, "ListStreams", &[origin]).await;
    assert_eq!(kinesis_answer.status, 200);
    let s3_answer = raw_http(&emu, "GET", "/no-such-bucket/key", &[origin]).await;
    for (what, headers) in [
        ("Kinesis", kinesis_answer.headers.into_iter().collect()),
        ("S3", s3_answer.1),
    ] {
        let headers: HashMap<String, String> = headers;
        assert_eq!(headers["access-control-allow-origin"], "*", "{what}");
        let exposed = &headers["access-control-expose-headers"];
        for name in [
            "x-amzn-RequestId",
            "x-amzn-ErrorType",
            "x-amz-request-id",
            "ETag",
        ] {
            assert!(
                exposed.split(',').any(|e| e == name),
                "{what}: {name} in {exposed}"
            );
        }
    }
    // Without an Origin, no CORS headers.
    let plain = kinesis_json(&emu, "ListStreams", b"{}").await;
    assert_eq!(plain.header("access-control-allow-origin"), None);
    emu.shutdown().await;
}

async fn kinesis_json_with(
    emu: &kinesis_operator::emulator::Emulator,
    operation: &str,
    extra: &[(&str, &str)],
) -> support::emulator::RawResponse {
    let target = format!("Kinesis_20131202.{operation}");
    let mut headers = vec![
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", target.as_str()),
    ];
    headers.extend_from_slice(extra);
    post(emu, &headers, b"{}").await
}

#[tokio::test]
async fn a_missing_stream_is_reported_before_anything_about_its_shards_or_arguments() {
    let emu = start(Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/ghost";
    let too_big_hash = "340282366920938463463374607431768211456";
    let cases: Vec<(&str, String)> = vec![
        (
            "GetShardIterator",
            r#"{"StreamName": "ghost", "ShardId": "shardId-000000000099", "ShardIteratorType": "AFTER_SEQUENCE_NUMBER"}"#.into(),
        ),
        (
            "GetShardIterator",
            r#"{"StreamName": "ghost", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"}"#.into(),
        ),
        (
            "SplitShard",
            r#"{"StreamName": "ghost", "ShardToSplit": "shardId-000000000099", "NewStartingHashKey": "1"}"#.into(),
        ),
        (
            "MergeShards",
            r#"{"StreamName": "ghost", "ShardToMerge": "shardId-000000000098", "AdjacentShardToMerge": "shardId-000000000099"}"#.into(),
        ),
        (
            "ListShards",
            r#"{"StreamName": "ghost", "ExclusiveStartShardId": "shardId-000000000099"}"#.into(),
        ),
        (
            "ListShards",
            r#"{"StreamName": "ghost", "ShardFilter": {"Type": "AFTER_SHARD_ID"}}"#.into(),
        ),
        (
            "DescribeStream",
            r#"{"StreamName": "ghost", "ExclusiveStartShardId": "shardId-000000000099"}"#.into(),
        ),
        (
            "UpdateShardCount",
            r#"{"StreamName": "ghost", "TargetShardCount": 5000, "ScalingType": "UNIFORM_SCALING"}"#.into(),
        ),
        (
            "IncreaseStreamRetentionPeriod",
            r#"{"StreamName": "ghost", "RetentionPeriodHours": 1}"#.into(),
        ),
        (
            "DecreaseStreamRetentionPeriod",
            r#"{"StreamName": "ghost", "RetentionPeriodHours": 8760}"#.into(),
        ),
        (
            "PutRecord",
            format!(r#"{{"StreamName": "ghost", "PartitionKey": "k", "Data": "YQ==", "ExplicitHashKey": "{too_big_hash}"}}"#),
        ),
        (
            "PutRecords",
            format!(r#"{{"StreamName": "ghost", "Records": [{{"PartitionKey": "k", "Data": "YQ==", "ExplicitHashKey": "{too_big_hash}"}}]}}"#),
        ),
        (
            "StartStreamEncryption",
            r#"{"StreamName": "ghost", "EncryptionType": "KMS", "KeyId": "alias/nope"}"#.into(),
        ),
        (
            "StopStreamEncryption",
            r#"{"StreamName": "ghost", "EncryptionType": "KMS", "KeyId": "alias/nope"}"#.into(),
        ),
        (
            "EnableEnhancedMonitoring",
            r#"{"StreamName": "ghost", "ShardLevelMetrics": ["IncomingBytes"]}"#.into(),
        ),
        (
            "AddTagsToStream",
            r#"{"StreamName": "ghost", "Tags": {"bad;key": "v"}}"#.into(),
        ),
        (
            "RemoveTagsFromStream",
            r#"{"StreamName": "ghost", "TagKeys": ["bad;key"]}"#.into(),
        ),
        (
            "TagResource",
            format!(r#"{{"ResourceARN": "{arn}", "Tags": {{"bad;key": "v"}}}}"#),
        ),
        (
            "RegisterStreamConsumer",
            format!(r#"{{"StreamARN": "{arn}", "ConsumerName": "c"}}"#),
        ),
        (
            "DescribeStreamConsumer",
            format!(r#"{{"StreamARN": "{arn}", "ConsumerName": "c"}}"#),
        ),
        (
            "ListStreamConsumers",
            format!(r#"{{"StreamARN": "{arn}", "NextToken": "garbage"}}"#),
        ),
        (
            "UpdateStreamMode",
            format!(r#"{{"StreamARN": "{arn}", "StreamModeDetails": {{"StreamMode": "ON_DEMAND"}}}}"#),
        ),
        (
            "UpdateMaxRecordSize",
            format!(r#"{{"StreamARN": "{arn}", "MaxRecordSizeInKiB": 2048}}"#),
        ),
        (
            "PutResourcePolicy",
            format!(r#"{{"ResourceARN": "{arn}", "Policy": "not a policy"}}"#),
        ),
        ("DeleteStream", r#"{"StreamName": "ghost"}"#.into()),
        (
            "DeregisterStreamConsumer",
            format!(r#"{{"StreamARN": "{arn}", "ConsumerName": "c"}}"#),
        ),
        (
            "GetResourcePolicy",
            format!(r#"{{"ResourceARN": "{arn}/consumer/c:1"}}"#),
        ),
    ];
    let mut failures = Vec::new();
    for (operation, body) in &cases {
        let r = kinesis_json(&emu, operation, body.as_bytes()).await;
        let json = r.json();
        let (code, message) = (
            json["__type"].as_str().unwrap_or_default().to_owned(),
            json["message"].as_str().unwrap_or_default().to_owned(),
        );
        if code != "ResourceNotFoundException"
            || message != "Stream ghost under account 000000000000 not found."
        {
            failures.push(format!("{operation} {body}: {code}: {message}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_stream_still_creating_is_not_found_by_the_data_plane() {
    let emu = start(Settings {
        create_delay: Duration::from_secs(3600),
        ..Default::default()
    })
    .await;
    let client = kinesis(&emu);
    create(&client, "young", 1).await;
    let (code, message) = err(client
        .get_shard_iterator()
        .stream_name("young")
        .shard_id("shardId-000000000099")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Stream young under account 000000000000 not found."
    );
    emu.shutdown().await;
}
