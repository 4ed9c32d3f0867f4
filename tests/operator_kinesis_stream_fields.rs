//! The KinesisStream fields beyond capacity, on a real control plane against the emulator:
//! tags as the whole tag set, enhanced fan-out consumers, the resource policy (compared
//! semantically), warm throughput; and what the operator costs in AWS calls.

mod support;

use std::time::Duration;

use kinesis_operator::api::KinesisStream;
use kube::api::Api;
use serde_json::json;
use support::emulator::{kinesis, start, start_default, stream_summary};
use support::envtest::{control_plane, wait_for};
use support::operator::{
    Operator, apply, condition, event_reasons, is_ready, is_stalled, wait_until,
};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":["kinesis:GetRecords","kinesis:DescribeStreamSummary"],"Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/fields"}]}"#;

/// The same policy as AWS might hand it back: other key order, spacing, one-element lists.
const POLICY_REORDERED: &str = r#"{
  "Statement": {"Resource": ["arn:aws:kinesis:us-east-1:000000000000:stream/fields"],
                "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"],
                "Principal": {"AWS": ["arn:aws:iam::000000000000:root"]},
                "Effect": "Allow", "Sid": "read"},
  "Version": "2012-10-17"
}"#;

/// Calls `call` until it is not throttled: the tests poll faster than AWS's 5 calls per second
/// for ListTagsForStream and ListStreamConsumers, which the emulator enforces, so they wait
/// the throttling out as a client with retries would.
async fn unthrottled<T, E, F, Fut>(mut call: F) -> T
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    loop {
        match call().await {
            Ok(v) => return v,
            Err(e) if e.code() == Some("LimitExceededException") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

async fn aws_tags(aws: &aws_sdk_kinesis::Client, stream: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        unthrottled(|| aws.list_tags_for_stream().stream_name(stream).send())
            .await
            .tags
            .into_iter()
            .map(|t| t.key)
            .collect();
    keys.sort();
    keys
}

async fn aws_consumers(aws: &aws_sdk_kinesis::Client, arn: &str) -> Vec<String> {
    let mut names: Vec<String> = unthrottled(|| aws.list_stream_consumers().stream_arn(arn).send())
        .await
        .consumers
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.consumer_name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn tags_consumers_and_resource_policy_follow_the_spec() {
    let cp = control_plane();
    let ns = cp.namespace("fields").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "fields",
        json!({"shardCount": 1, "tags": {"team": "data", "env": "dev"},
        "consumers": ["analytics", "archiver"], "resourcePolicy": POLICY}),
    )
    .await;
    let ready = wait_until(&api, "fields", "Ready with two ACTIVE consumers", |o| {
        is_ready(o)
            && o.status.as_ref().is_some_and(|s| {
                s.consumers.len() == 2
                    && s.consumers
                        .iter()
                        .all(|c| c.status.as_deref() == Some("ACTIVE") && c.arn.is_some())
            })
    })
    .await;
    let arn = ready.status.unwrap().common.arn.unwrap();
    assert_eq!(
        aws_tags(&aws, "fields").await,
        [
            "env",
            "kinesis.operator.dev/owner",
            "kinesis.operator.dev/uid",
            "team"
        ]
    );
    assert_eq!(aws_consumers(&aws, &arn).await, ["analytics", "archiver"]);
    let stored = aws
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .policy;
    assert!(stored.contains("kinesis:GetRecords"), "{stored}");

    // Someone registers their own consumer and adds a tag behind the operator's back.
    unthrottled(|| {
        aws.register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("theirs")
            .send()
    })
    .await;
    unthrottled(|| {
        aws.add_tags_to_stream()
            .stream_name("fields")
            .tags("rogue", "x")
            .send()
    })
    .await;
    let puts_before = operator.aws_calls().get("PutResourcePolicy").copied();

    // Drop a tag and a consumer; the policy is the same document written differently.
    apply(
        &api,
        "fields",
        json!({"shardCount": 1, "tags": {"team": "data"},
        "consumers": ["analytics"], "resourcePolicy": POLICY_REORDERED}),
    )
    .await;
    wait_until(&api, "fields", "Ready with one consumer", |o| {
        is_ready(o) && o.status.as_ref().is_some_and(|s| s.consumers.len() == 1)
    })
    .await;
    assert_eq!(
        aws_tags(&aws, "fields").await,
        [
            "kinesis.operator.dev/owner",
            "kinesis.operator.dev/uid",
            "team"
        ],
        "tags not in the spec are removed"
    );
    assert_eq!(
        aws_consumers(&aws, &arn).await,
        ["analytics", "theirs"],
        "the consumer removed from the spec is deregistered; someone else's stays"
    );
    assert_eq!(
        operator.aws_calls().get("PutResourcePolicy").copied(),
        puts_before,
        "a reordered but equal policy is not drift"
    );

    // Without a resource policy in the spec the stream has none.
    apply(
        &api,
        "fields",
        json!({"shardCount": 1, "tags": {"team": "data"}, "consumers": ["analytics"]}),
    )
    .await;
    wait_until(&api, "fields", "Ready without policy", is_ready).await;
    let policy = aws
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .map(|p| p.policy)
        .unwrap_or_default();
    assert!(policy.is_empty() || policy == "{}", "policy left: {policy}");

    // A document that is not JSON is refused by name, before AWS sees it.
    apply(
        &api,
        "fields",
        json!({"shardCount": 1, "tags": {"team": "data"}, "consumers": ["analytics"],
        "resourcePolicy": "{not json"}),
    )
    .await;
    let stalled = wait_until(&api, "fields", "Stalled on the policy", is_stalled).await;
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "InvalidSpec");
    assert!(
        c.message
            .starts_with("spec.resourcePolicy is not valid JSON"),
        "{}",
        c.message
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A tag added outside the operator is removed at the next full drift check (every sixth
/// resync), with a DriftCorrected event.
#[tokio::test]
async fn tag_drift_is_corrected_on_the_full_drift_check() {
    let cp = control_plane();
    let ns = cp.namespace("tagdrift").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(1)).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(
        &api,
        "drifty",
        json!({"shardCount": 1, "tags": {"team": "data"}}),
    )
    .await;
    wait_until(&api, "drifty", "Ready", is_ready).await;
    unthrottled(|| {
        aws.add_tags_to_stream()
            .stream_name("drifty")
            .tags("rogue", "x")
            .send()
    })
    .await;
    // Poll at AWS's ListTagsForStream rate less the operator's share (5/s per account), so the
    // test's reads do not throttle the drift check it is waiting for.
    let removed = wait_for(Duration::from_secs(30), || async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        (!aws_tags(&aws, "drifty").await.contains(&"rogue".to_owned())).then_some(())
    })
    .await;
    assert!(removed.is_some(), "the rogue tag is removed");
    // The event is recorded after the call that removed the tag returns: wait for it too.
    let client = cp.admin().await;
    let recorded = wait_for(Duration::from_secs(10), || async {
        let reasons = event_reasons(client.clone(), &ns, "drifty").await;
        reasons.contains(&"DriftCorrected".to_owned()).then_some(())
    })
    .await;
    let reasons = event_reasons(client, &ns, "drifty").await;
    assert!(recorded.is_some(), "a DriftCorrected event: {reasons:?}");
    operator.stop().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn warm_throughput_needs_the_billing_commitment_and_then_follows_the_spec() {
    let cp = control_plane();
    let ns = cp.namespace("warm").await;
    let emulator = start_default().await;
    let aws = kinesis(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "warm",
        json!({"mode": "OnDemand", "warmThroughputMiBps": 50}),
    )
    .await;
    let stalled = wait_until(&api, "warm", "Stalled without commitment", is_stalled).await;
    let message = condition(&stalled, "Stalled").unwrap().message.clone();
    assert!(
        message.starts_with("InvalidArgumentException: Warm throughput requires the minimum throughput billing commitment"),
        "AWS's error verbatim: {message}"
    );

    aws.update_account_settings()
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
    apply(
        &api,
        "warm",
        json!({"mode": "OnDemand", "warmThroughputMiBps": 60}),
    )
    .await;
    let ready = wait_until(&api, "warm", "Ready with 60 MiB/s", |o| {
        is_ready(o)
            && o.status
                .as_ref()
                .is_some_and(|s| s.warm_throughput_mi_bps == Some(60))
    })
    .await;
    assert_eq!(
        ready.status.unwrap().mode,
        Some(kinesis_operator::api::kinesis_stream::StreamMode::OnDemand)
    );
    let summary = stream_summary(&aws, "warm").await;
    assert_eq!(summary.warm_throughput.unwrap().target_mibps, Some(60));

    apply(&api, "warm", json!({"mode": "OnDemand"})).await;
    wait_until(&api, "warm", "Ready without warm throughput", |o| {
        is_ready(o)
            && o.status
                .as_ref()
                .is_some_and(|s| s.warm_throughput_mi_bps.is_none())
    })
    .await;
    operator.stop().await;
    emulator.shutdown().await;
}

/// A stream to Ready costs one CreateStream and one DescribeStreamSummary; a settled stream
/// costs one read per resync and no write, and the operator's own status writes do not
/// trigger reconciles. Deleting it costs a describe, DeleteStream and a describe that finds it
/// gone (its ownership is known, so no tags are read).
#[tokio::test]
async fn a_stream_costs_two_calls_to_ready_and_one_read_per_resync() {
    let cp = control_plane();
    let ns = cp.namespace("calls").await;
    let emulator = start_default().await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(&api, "cheap", json!({"shardCount": 1})).await;
    wait_until(&api, "cheap", "Ready", is_ready).await;
    let calls = operator.aws_calls();
    assert_eq!(calls.get("CreateStream"), Some(&1), "{calls:?}");
    let total: u64 = calls.values().sum();
    assert_eq!(
        total, 2,
        "CreateStream, then one DescribeStreamSummary that finds it ACTIVE: {calls:?}"
    );
    assert!(
        operator.reconciles() <= 3,
        "one to add the finalizer, one to create it and report Ready (+1 at most): {} reconciles",
        operator.reconciles()
    );

    // Five seconds at a 2 s resync: at most three passes, each one DescribeStreamSummary.
    let before = operator.aws_calls();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = operator.aws_calls();
    let mut delta: Vec<(String, u64)> = after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    delta.sort();
    assert!(
        delta.iter().all(|(op, _)| op == "DescribeStreamSummary"),
        "only reads while settled: {delta:?}"
    );
    let reads = delta.first().map_or(0, |(_, n)| *n);
    assert!(
        (1..=3).contains(&reads),
        "one read per resync, {reads} in 5 s"
    );

    let before = operator.aws_calls();
    api.delete("cheap", &Default::default()).await.unwrap();
    support::operator::wait_gone(&api, "cheap", Duration::from_secs(30), "deleted").await;
    let after = operator.aws_calls();
    let delta =
        |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    assert_eq!(delta("DeleteStream"), 1);
    assert_eq!(delta("ListTagsForStream"), 0, "ownership already known");
    assert!(delta("DescribeStreamSummary") <= 2 + 1, "{after:?}");
    operator.stop().await;
    emulator.shutdown().await;
}

/// A route longer than AWS's budget of 10 UpdateShardCount calls per rolling 24 hours stops
/// after the tenth call, Stalled with reason ScalingLimit and the time the next step becomes
/// possible, without an eleventh call (even though this emulator would accept it).
#[tokio::test]
async fn the_daily_scaling_budget_pauses_a_route_with_next_step_after() {
    let cp = control_plane();
    let ns = cp.namespace("budget").await;
    let emulator = start(kinesis_operator::emulator::kinesis::Settings {
        relax_limits: true,
        ..Default::default()
    })
    .await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&api, "budget", json!({"shardCount": 1})).await;
    wait_until(&api, "budget", "Ready", is_ready).await;

    // 1 -> 2 -> 4 -> ... -> 1024 is ten calls; 2000 needs an eleventh.
    apply(&api, "budget", json!({"shardCount": 2000})).await;
    let stalled = wait_for(Duration::from_secs(120), || async {
        api.get("budget").await.ok().filter(is_stalled)
    })
    .await
    .expect("Stalled once the budget is spent");
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "ScalingLimit");
    assert!(
        c.message.contains("10 UpdateShardCount calls"),
        "{}",
        c.message
    );
    let status = stalled.status.clone().unwrap();
    assert_eq!(status.open_shard_count, Some(1024));
    assert_eq!(status.shard_count_updates.len(), 10);
    let scaling = status.scaling.expect("scaling progress");
    assert_eq!(
        (scaling.from, scaling.to, scaling.steps),
        (1024, 2000, vec![2000])
    );
    let next = scaling.next_step_after.expect("nextStepAfter").0;
    let first = status.shard_count_updates[0].0;
    assert_eq!(
        next.duration_since(first).as_secs(),
        24 * 3600,
        "the first call leaves the window 24 h after it was made"
    );
    assert_eq!(operator.aws_calls().get("UpdateShardCount"), Some(&10));
    operator.stop().await;
    emulator.shutdown().await;
}
