//! The KinesisStream controller on a real control plane against the emulator: what a user sees
//! in conditions and status, and what exists in "AWS".

mod support;

use std::time::Duration;

use kinesis_operator::api::KinesisStream;
use kinesis_operator::controller::runtime;
use kinesis_operator::emulator::Emulator;
use kube::api::{Api, DeleteParams};
use serde_json::json;
use support::emulator::{kinesis, start_default, stream_summary};
use support::envtest::{control_plane, wait_for};
use support::operator::{
    Operator, apply, condition, event_notes, event_reasons, is_ready, is_stalled,
    service_account_with_rules, wait_gone, wait_until,
};

#[tokio::test]
async fn a_stream_is_created_scaled_reconfigured_and_deleted() {
    let cp = control_plane();
    let ns = cp.namespace("kst").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "my-stream",
        json!({"shardCount": 2, "tags": {"team": "data"}}),
    )
    .await;
    let ready = wait_until(&api, "my-stream", "Ready", is_ready).await;
    let status = ready.status.clone().unwrap();
    assert_eq!(
        status.common.arn.as_deref(),
        Some("arn:aws:kinesis:us-east-1:000000000000:stream/my-stream")
    );
    assert_eq!(status.stream_status.as_deref(), Some("ACTIVE"));
    assert_eq!(status.open_shard_count, Some(2));
    assert_eq!(status.retention_period_hours, Some(24));
    assert!(
        ready
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&runtime::FINALIZER.to_owned())
    );
    let tags = aws
        .list_tags_for_stream()
        .stream_name("my-stream")
        .send()
        .await
        .unwrap()
        .tags;
    let keys: Vec<_> = tags.iter().map(|t| t.key.as_str()).collect();
    assert!(
        keys.contains(&"team")
            && keys.contains(&"kinesis.operator.dev/owner")
            && keys.contains(&"kinesis.operator.dev/uid"),
        "{keys:?}"
    );

    // 2 -> 5 goes 2 -> 4 -> 5.
    apply(
        &api,
        "my-stream",
        json!({"shardCount": 5, "retentionPeriodHours": 48, "tags": {"team": "data"}}),
    )
    .await;
    let scaled = wait_until(&api, "my-stream", "Ready with 5 shards and 48 h", |o| {
        is_ready(o)
            && o.status.as_ref().is_some_and(|s| {
                s.open_shard_count == Some(5) && s.retention_period_hours == Some(48)
            })
    })
    .await;
    assert!(
        scaled.status.unwrap().scaling.is_none(),
        "no scaling in progress once Ready"
    );
    // Each step is its own event, in words, once (not the first step counted twice).
    let scaling: Vec<(String, i32)> = event_notes(cp.admin().await, &ns, "my-stream")
        .await
        .into_iter()
        .filter(|(reason, ..)| reason == "Scaling")
        .map(|(_, note, count)| (note, count))
        .collect();
    assert_eq!(
        scaling,
        [
            ("UpdateShardCount 2 -> 4".to_owned(), 1),
            ("UpdateShardCount 4 -> 5".to_owned(), 1)
        ]
    );
    let summary = stream_summary(&aws, "my-stream").await;
    assert_eq!(
        (summary.open_shard_count, summary.retention_period_hours),
        (5, 48)
    );
    let all_shards = aws
        .list_shards()
        .stream_name("my-stream")
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    assert_eq!(
        all_shards.len(),
        2 + 4 + 5,
        "two re-shards: 2 closed, then 4 closed, 5 open"
    );

    // Encryption, shard-level metrics and the record size follow the spec, both ways.
    apply(&api, "my-stream", json!({"shardCount": 5, "retentionPeriodHours": 48, "tags": {"team": "data"},
        "encryption": {"keyId": "alias/aws/kinesis"}, "shardLevelMetrics": ["ALL"], "maxRecordSizeInKiB": 2048})).await;
    let configured = wait_until(&api, "my-stream", "Ready encrypted", |o| {
        is_ready(o)
            && o.status.as_ref().is_some_and(|s| {
                s.encryption_type.as_deref() == Some("KMS")
                    && s.max_record_size_in_ki_b == Some(2048)
            })
    })
    .await;
    assert_eq!(configured.status.unwrap().open_shard_count, Some(5));
    let summary = stream_summary(&aws, "my-stream").await;
    assert_eq!(summary.key_id.as_deref(), Some("alias/aws/kinesis"));
    let metrics = summary
        .enhanced_monitoring
        .into_iter()
        .flat_map(|m| m.shard_level_metrics.unwrap_or_default())
        .count();
    assert_eq!(metrics, 7, "ALL enables the seven shard-level metrics");
    apply(
        &api,
        "my-stream",
        json!({"shardCount": 5, "retentionPeriodHours": 48, "tags": {"team": "data"}}),
    )
    .await;
    wait_until(&api, "my-stream", "Ready unencrypted", |o| {
        is_ready(o)
            && o.status.as_ref().is_some_and(|s| {
                s.encryption_type.as_deref() == Some("NONE")
                    && s.max_record_size_in_ki_b == Some(1024)
            })
    })
    .await;
    let summary = stream_summary(&aws, "my-stream").await;
    assert!(
        summary
            .enhanced_monitoring
            .iter()
            .all(|m| m.shard_level_metrics.as_ref().is_none_or(|v| v.is_empty()))
    );

    api.delete("my-stream", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(
        &api,
        "my-stream",
        Duration::from_secs(60),
        "the object goes once the stream is gone",
    )
    .await;
    let err = aws
        .describe_stream_summary()
        .stream_name("my-stream")
        .send()
        .await;
    assert!(err.is_err(), "the stream is deleted from AWS");
    operator.stop().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_stream_it_does_not_own_is_stalled_unless_adopted_and_never_deleted() {
    let cp = control_plane();
    let ns = cp.namespace("adopt").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    aws.create_stream()
        .stream_name("theirs")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(&api, "theirs", json!({"shardCount": 1})).await;
    let stalled = wait_until(&api, "theirs", "Stalled", is_stalled).await;
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "AlreadyExists");
    assert!(c.message.contains("set spec.adopt: true"), "{}", c.message);
    assert_eq!(condition(&stalled, "Ready").unwrap().status, "False");
    assert!(
        stalled.status.as_ref().unwrap().common.arn.is_none(),
        "someone else's stream is not reported as this object's"
    );

    // Deleting the object leaves the stream that was never ours.
    api.delete("theirs", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "theirs", Duration::from_secs(30), "the object goes").await;
    assert!(
        aws.describe_stream_summary()
            .stream_name("theirs")
            .send()
            .await
            .is_ok(),
        "someone else's stream is never deleted"
    );

    apply(&api, "theirs", json!({"shardCount": 2, "adopt": true})).await;
    let adopted = wait_until(&api, "theirs", "Ready after adoption", |o| {
        is_ready(o)
            && o.status
                .as_ref()
                .is_some_and(|s| s.open_shard_count == Some(2))
    })
    .await;
    assert_eq!(
        adopted.status.unwrap().stream_status.as_deref(),
        Some("ACTIVE")
    );
    operator.stop().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn impossible_specs_are_stalled_with_aws_error_verbatim() {
    let cp = control_plane();
    let ns = cp.namespace("stall").await;
    let emulator = start_default().await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    // 600 shards exceed the account's shard limit of 500.
    apply(&api, "too-big", json!({"shardCount": 600})).await;
    let stalled = wait_until(&api, "too-big", "Stalled", is_stalled).await;
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "AWSError");
    assert!(
        c.message
            .starts_with("LimitExceededException: This request would exceed the shard limit"),
        "{}",
        c.message
    );
    // The Warning event names the call that failed, then AWS's words.
    let said = event_notes(cp.admin().await, &ns, "too-big").await;
    assert!(
        said.iter().any(|(reason, note, _)| reason == "AWSError"
            && note.starts_with("kinesis:CreateStream failed: LimitExceededException: This request would exceed the shard limit")),
        "{said:?}"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// An operator that dies after CreateStream but before any status write (here: it may not
/// write status at all, and is stopped once the stream exists) leaves one stream, which the
/// next operator recognises by its ownership tags and reports Ready.
#[tokio::test]
async fn a_crash_between_create_and_status_write_leaves_exactly_one_stream() {
    let cp = control_plane();
    let ns = cp.namespace("crash").await;
    let admin = cp.admin().await;
    let crashy_client = service_account_with_rules(
        cp,
        &ns,
        "crashy",
        json!([{"apiGroups": ["kinesis.operator.dev"], "resources": ["kinesisstreams"], "verbs": ["get", "list", "watch", "patch", "update"]}]),
    )
    .await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let api: Api<KinesisStream> = Api::namespaced(admin.clone(), &ns);

    let crashy = Operator::start(crashy_client, &emulator, &ns).await;
    apply(&api, "once", json!({"shardCount": 2})).await;
    wait_for(Duration::from_secs(60), || async {
        aws.describe_stream_summary()
            .stream_name("once")
            .send()
            .await
            .ok()
    })
    .await
    .expect("the first operator created the stream");
    crashy.stop().await;
    let obj = api.get("once").await.unwrap();
    assert!(
        obj.status.is_none(),
        "no status was written before the crash"
    );

    let operator = Operator::start(admin.clone(), &emulator, &ns).await;
    let ready = wait_until(&api, "once", "Ready after restart", is_ready).await;
    assert_eq!(ready.status.unwrap().open_shard_count, Some(2));
    let streams = aws.list_streams().send().await.unwrap().stream_names;
    assert_eq!(streams, ["once"], "exactly one stream");
    operator.stop().await;
    emulator.shutdown().await;
}

/// With 30% of AWS calls throttled and 10% failing with 5xx, every stream still becomes Ready
/// and none goes Stalled.
#[tokio::test]
async fn streams_converge_through_throttling_and_server_errors() {
    let cp = control_plane();
    let ns = cp.namespace("faults").await;
    let emulator = Emulator::start(kinesis_operator::emulator::Config {
        faults: vec![
            "*:throttle:0.3".parse().unwrap(),
            "*:5xx:0.1".parse().unwrap(),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    // Resyncs every 30 s: the streams converge through the faults, not through resyncs.
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(30)).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    for i in 0..10 {
        apply(
            &api,
            &format!("flaky-{i}"),
            json!({"shardCount": 2, "retentionPeriodHours": 48}),
        )
        .await;
    }
    for i in 0..10 {
        let name = format!("flaky-{i}");
        let ready = wait_until(&api, &name, "Ready despite faults", |o| {
            assert!(
                condition(o, "Stalled").is_none_or(|c| c.status != "True"),
                "{}: Stalled under transient faults: {:?}",
                o.metadata.name.as_deref().unwrap_or_default(),
                condition(o, "Stalled")
            );
            is_ready(o)
        })
        .await;
        assert_eq!(ready.status.unwrap().retention_period_hours, Some(48));
    }
    operator.stop().await;
    emulator.shutdown().await;
}

/// 200 KinesisStreams applied at once all become Ready.
#[tokio::test]
async fn two_hundred_streams_applied_at_once_all_become_ready() {
    let cp = control_plane();
    let ns = cp.namespace("many").await;
    let emulator =
        kinesis_operator::emulator::Emulator::start(kinesis_operator::emulator::Config {
            kinesis: kinesis_operator::emulator::kinesis::Settings {
                relax_limits: true,
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let applies = (0..200).map(|i| {
        let api = api.clone();
        async move { apply(&api, &format!("s{i:03}"), json!({"shardCount": 1})).await }
    });
    futures::future::join_all(applies).await;
    let all_ready = wait_for(Duration::from_secs(120), || async {
        let list = api.list(&Default::default()).await.ok()?;
        (list.items.len() == 200 && list.items.iter().all(is_ready)).then_some(())
    })
    .await;
    let ready = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|o| is_ready(*o))
        .count();
    assert!(all_ready.is_some(), "{ready} of 200 Ready within 120 s");
    let streams = kinesis(&emulator)
        .list_streams()
        .limit(1000)
        .send()
        .await
        .unwrap()
        .stream_names;
    assert_eq!(streams.len(), 200);
    operator.stop().await;
    emulator.shutdown().await;
}

/// Against AWS's quotas (the emulator enforces CreateStream's 5 per second), 60 streams
/// applied at once all become Ready, each created once: the operator's adaptive pacing slows
/// down when throttled instead of hammering, so throttled attempts stay a small share of the
/// calls; nothing is ever Stalled by throttling.
#[tokio::test]
async fn streams_applied_at_once_against_aws_quotas_are_paced_by_the_throttling() {
    let cp = control_plane();
    let ns = cp.namespace("quotas").await;
    let emulator = start_default().await;
    // No resync while they converge: only the creation is paced.
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(600)).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let applies = (0..60).map(|i| {
        let api = api.clone();
        async move { apply(&api, &format!("q{i:02}"), json!({"shardCount": 1})).await }
    });
    futures::future::join_all(applies).await;
    for i in 0..60 {
        wait_until(&api, &format!("q{i:02}"), "Ready under AWS's quotas", |o| {
            assert!(
                !is_stalled(o),
                "Stalled by throttling: {:?}",
                condition(o, "Stalled")
            );
            is_ready(o)
        })
        .await;
    }
    let calls = operator.aws_calls();
    let throttled = operator.throttled_calls();
    let creates = calls.get("CreateStream").copied().unwrap_or(0);
    let throttled_creates = throttled.get("CreateStream").copied().unwrap_or(0);
    assert!(
        throttled_creates > 0,
        "60 CreateStream at once exceed 5/s: some are throttled ({calls:?})"
    );
    assert_eq!(
        creates - throttled_creates,
        60,
        "each stream created once: {calls:?}, throttled {throttled:?}"
    );
    let all: u64 = calls.values().sum();
    let all_throttled: u64 = throttled.values().sum();
    assert!(
        all_throttled * 5 <= all,
        "{all_throttled} of {all} calls throttled: the operator did not slow down ({throttled:?})"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// The reasons of the events about object `name`.
/// A stream deleted behind the operator's back is re-created on the next resync, with a
/// DriftCorrected event; the creation itself was recorded as an event too.
#[tokio::test]
async fn out_of_band_deletion_is_corrected_with_an_event() {
    let cp = control_plane();
    let ns = cp.namespace("drift").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&api, "drifty", json!({"shardCount": 1})).await;
    wait_until(&api, "drifty", "Ready", is_ready).await;
    let reasons = event_reasons(cp.admin().await, &ns, "drifty").await;
    assert!(reasons.iter().any(|r| r == "Created"), "{reasons:?}");

    aws.delete_stream()
        .stream_name("drifty")
        .send()
        .await
        .unwrap();
    let back = wait_for(Duration::from_secs(60), || async {
        let reasons = event_reasons(cp.admin().await, &ns, "drifty").await;
        let exists = aws
            .describe_stream_summary()
            .stream_name("drifty")
            .send()
            .await
            .is_ok();
        (exists && reasons.iter().any(|r| r == "DriftCorrected")).then_some(())
    })
    .await;
    assert!(
        back.is_some(),
        "re-created with a DriftCorrected event: {:?}",
        event_reasons(cp.admin().await, &ns, "drifty").await
    );
    wait_until(&api, "drifty", "Ready again", is_ready).await;
    // What was done, in the same words as the first time, under the reason that says why.
    let said: Vec<(String, String)> = event_notes(cp.admin().await, &ns, "drifty")
        .await
        .into_iter()
        .map(|(reason, note, _)| (reason, note))
        .collect();
    assert_eq!(
        said,
        [
            ("Created".to_owned(), "CreateStream drifty".to_owned()),
            (
                "DriftCorrected".to_owned(),
                "CreateStream drifty".to_owned()
            )
        ]
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// While AWS deletes the stream the object shows Ready=False (reason Deleting) and keeps its
/// finalizer; with deletionPolicy Retain the object goes and the stream stays.
#[tokio::test]
async fn deletion_is_reported_until_aws_is_done_and_retain_keeps_the_stream() {
    let cp = control_plane();
    let ns = cp.namespace("deleting").await;
    let emulator = support::emulator::start(kinesis_operator::emulator::kinesis::Settings {
        delete_delay: Duration::from_secs(3),
        ..Default::default()
    })
    .await;
    let aws = kinesis(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(&api, "slow", json!({"shardCount": 1})).await;
    apply(
        &api,
        "kept",
        json!({"shardCount": 1, "deletionPolicy": "Retain"}),
    )
    .await;
    wait_until(&api, "slow", "Ready", is_ready).await;
    wait_until(&api, "kept", "Ready", is_ready).await;

    api.delete("slow", &DeleteParams::default()).await.unwrap();
    let deleting = wait_until(&api, "slow", "reported as Deleting", |o| {
        condition(o, "Ready").is_some_and(|c| c.status == "False" && c.reason == "Deleting")
    })
    .await;
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert_eq!(
        condition(&deleting, "Ready").unwrap().message,
        "waiting for AWS to delete stream slow"
    );
    assert_eq!(
        condition(&deleting, "Reconciling").map(|c| c.status.as_str()),
        Some("True")
    );
    wait_gone(
        &api,
        "slow",
        Duration::from_secs(30),
        "gone once AWS is done",
    )
    .await;
    assert!(
        aws.describe_stream_summary()
            .stream_name("slow")
            .send()
            .await
            .is_err()
    );

    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(
        &api,
        "kept",
        Duration::from_secs(30),
        "a retained stream's object goes",
    )
    .await;
    let kept = aws
        .describe_stream_summary()
        .stream_name("kept")
        .send()
        .await
        .expect("deletionPolicy Retain leaves the stream")
        .stream_description_summary
        .unwrap();
    assert_eq!(kept.stream_status.as_str(), "ACTIVE");
    operator.stop().await;
    emulator.shutdown().await;
}
