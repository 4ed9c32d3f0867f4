//! DeliveryStream on a real control plane against the emulator: what a user sees in status,
//! events and AWS when they create, change, share and delete delivery streams, and records
//! travelling from a Kinesis stream through Firehose into S3.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kinesis_operator::api::{DeliveryStream, KinesisStream};
use kinesis_operator::emulator::{Config, Emulator, firehose};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use support::emulator::{delivery_stream, firehose as firehose_client, kinesis, s3, s3_bodies};
use support::envtest::{control_plane, wait_for};
use support::operator::{
    Operator, apply, condition, event_notes, event_reasons, is_ready, is_stalled, is_waiting,
    service_account_with_rules, wait_gone, wait_until,
};
use support::records::put_texts;

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

/// An emulator that delivers Firehose buffers within half a second.
async fn start_emulator() -> Emulator {
    Emulator::start(Config {
        firehose: firehose::Settings {
            flush_interval: Some(Duration::from_millis(500)),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {e:?}"));
}

/// An S3 destination spec writing to `bucket` under `prefix`.
fn s3_destination(bucket: &str, prefix: &str) -> serde_json::Value {
    json!({"s3": {"bucketARN": format!("arn:aws:s3:::{bucket}"), "roleARN": ROLE,
        "prefix": prefix, "bufferingHints": {"sizeInMBs": 1, "intervalInSeconds": 60}}})
}

/// The tag keys of delivery stream `name`, sorted.
async fn tag_keys(aws: &aws_sdk_firehose::Client, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = aws
        .list_tags_for_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .unwrap()
        .tags
        .into_iter()
        .map(|t| t.key)
        .collect();
    keys.sort();
    keys
}

/// Waits until the objects under `prefix` in `bucket` hold exactly `expected`.
async fn wait_for_delivery(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, expected: &[u8]) {
    let delivered = wait_for(Duration::from_secs(30), || async {
        let got = s3_bodies(s3, bucket, prefix).await;
        (got.len() >= expected.len()).then_some(got)
    })
    .await;
    assert_eq!(
        delivered.as_deref().map(String::from_utf8_lossy),
        Some(String::from_utf8_lossy(expected)),
        "what reached s3://{bucket}/{prefix}"
    );
}

/// A DirectPut delivery stream to S3 is created Ready with its status fields and ownership
/// tags, delivers what is put byte for byte, and follows a destination change through
/// UpdateDestination with a new version.
#[tokio::test]
async fn direct_put_to_s3_is_ready_delivers_and_follows_destination_changes() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-s3").await;
    let emulator = start_emulator().await;
    let (aws, s3) = (firehose_client(&emulator), s3(&emulator));
    create_bucket(&s3, "landing").await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "events",
        json!({"destination": s3_destination("landing", "raw/"), "tags": {"team": "data"}}),
    )
    .await;
    let ready = wait_until(&api, "events", "Ready", is_ready).await;
    let status = ready.status.unwrap();
    assert_eq!(status.delivery_stream_status.as_deref(), Some("ACTIVE"));
    assert_eq!(status.version_id.as_deref(), Some("1"));
    assert!(status.destination_id.is_some(), "{status:?}");
    let arn = status.common.arn.clone().unwrap();
    assert_eq!(
        arn,
        delivery_stream(&aws, "events").await.delivery_stream_arn
    );
    assert_eq!(
        tag_keys(&aws, "events").await,
        [
            "kinesis.operator.dev/owner",
            "kinesis.operator.dev/uid",
            "team"
        ]
    );

    for record in ["{\"click\":1}\n", "{\"click\":2}\n"] {
        aws.put_record()
            .delivery_stream_name("events")
            .record(
                aws_sdk_firehose::types::Record::builder()
                    .data(aws_sdk_firehose::primitives::Blob::new(record))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    wait_for_delivery(&s3, "landing", "raw/", b"{\"click\":1}\n{\"click\":2}\n").await;

    let mut changed = s3_destination("landing", "v2/");
    changed["s3"]["compression"] = json!("GZIP");
    apply(
        &api,
        "events",
        json!({"destination": changed, "tags": {"team": "data"}}),
    )
    .await;
    let updated = wait_until(&api, "events", "Ready at version 2", |o| {
        is_ready(o) && o.status.as_ref().unwrap().version_id.as_deref() == Some("2")
    })
    .await;
    let described = delivery_stream(&aws, "events").await;
    let s3_desc = described.destinations[0]
        .extended_s3_destination_description
        .as_ref()
        .unwrap();
    assert_eq!(s3_desc.prefix.as_deref(), Some("v2/"));
    assert_eq!(s3_desc.compression_format.as_str(), "GZIP");
    assert_eq!(
        updated.status.unwrap().common.arn.as_deref(),
        Some(arn.as_str())
    );
    let reasons = event_reasons(cp.admin().await, &ns, "events").await;
    assert!(reasons.contains(&"Created".to_owned()), "{reasons:?}");
    assert!(
        reasons.contains(&"DestinationUpdated".to_owned()),
        "{reasons:?}"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A delivery stream reading a KinesisStream by reference waits for it, is reconciled as
/// soon as it is Ready (no polling: the resync here is ten minutes), reads it by its ARN,
/// and delivers records put to the stream byte for byte.
#[tokio::test]
async fn a_stream_source_waits_for_its_kinesis_stream_then_delivers_its_records() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-ref").await;
    let emulator = start_emulator().await;
    let s3 = s3(&emulator);
    create_bucket(&s3, "archive").await;
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(600)).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let deliveries: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &deliveries,
        "archive",
        json!({"source": {"kinesisStream": {"streamRef": {"name": "clicks"}, "roleARN": ROLE}},
               "destination": s3_destination("archive", "clicks/")}),
    )
    .await;
    let waiting = wait_until(&deliveries, "archive", "WaitingForDependency", |o| {
        is_waiting(o, "WaitingForDependency")
    })
    .await;
    assert_eq!(
        condition(&waiting, "Ready").unwrap().message,
        format!("waiting for KinesisStream {ns}/clicks: it does not exist")
    );

    apply(&streams, "clicks", json!({"shardCount": 1})).await;
    let stream = wait_until(&streams, "clicks", "Ready", is_ready).await;
    let stream_arn = stream.status.unwrap().common.arn.unwrap();
    let ready = wait_for(Duration::from_secs(10), || async {
        deliveries.get("archive").await.ok().filter(is_ready)
    })
    .await;
    let ready = ready.expect(
        "the delivery stream is Ready within seconds of its stream, without waiting for a resync",
    );
    assert_eq!(
        ready.status.unwrap().source_stream_arn.as_deref(),
        Some(stream_arn.as_str()),
        "status says which stream it reads"
    );
    let described = delivery_stream(&firehose_client(&emulator), "archive").await;
    assert_eq!(
        described
            .source
            .and_then(|s| s.kinesis_stream_source_description)
            .and_then(|k| k.kinesis_stream_arn),
        Some(stream_arn)
    );

    put_texts(&kinesis(&emulator), "clicks", &["a,1\n", "b,2\n", "c,3\n"]).await;
    wait_for_delivery(&s3, "archive", "clicks/", b"a,1\nb,2\nc,3\n").await;
    operator.stop().await;
    emulator.shutdown().await;
}

/// A reference into another namespace is refused (Stalled, naming the annotation that
/// allows it) until the stream's owners consent with the annotation.
#[tokio::test]
async fn a_reference_into_another_namespace_needs_the_streams_consent() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-xns").await;
    let shared = cp.namespace("kdf-shared").await;
    let emulator = start_emulator().await;
    let operator_here = Operator::start(cp.admin().await, &emulator, &ns).await;
    let operator_there = Operator::start(cp.admin().await, &emulator, &shared).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &shared);
    let deliveries: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&streams, "common", json!({"shardCount": 1})).await;
    wait_until(&streams, "common", "Ready", is_ready).await;

    apply(
        &deliveries,
        "borrower",
        json!({"source": {"kinesisStream": {"streamRef": {"name": "common", "namespace": shared}, "roleARN": ROLE}},
               "destination": s3_destination("anywhere", "")}),
    )
    .await;
    let refused = wait_until(&deliveries, "borrower", "Stalled", is_stalled).await;
    let stalled = condition(&refused, "Stalled").unwrap();
    assert_eq!(stalled.reason, "ReferenceNotAllowed");
    assert!(
        stalled
            .message
            .contains(&format!("kinesis.operator.dev/allow-references-from: {ns}")),
        "{}",
        stalled.message
    );

    streams
        .patch(
            "common",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "kinesis.operator.dev/allow-references-from": format!("other, {ns}")}}})),
        )
        .await
        .unwrap();
    // An operator watching all namespaces sees the annotation at once; these watch one
    // each, so the refused object's periodic look (every 20 s) finds it.
    let ready = wait_for(Duration::from_secs(45), || async {
        deliveries.get("borrower").await.ok().filter(is_ready)
    })
    .await;
    assert!(
        ready.is_some(),
        "Ready once the stream allows the reference"
    );
    operator_here.stop().await;
    operator_there.stop().await;
    emulator.shutdown().await;
}

/// Encryption and tags follow the spec, tags changed outside the operator are put back, a
/// delivery stream deleted outside the operator is re-created, and deleting the object
/// deletes the delivery stream.
#[tokio::test]
async fn encryption_tags_drift_and_deletion() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-life").await;
    let emulator = start_emulator().await;
    let aws = firehose_client(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let spec = |encrypted: bool| {
        let mut spec =
            json!({"destination": s3_destination("bucket", "p/"), "tags": {"env": "dev"}});
        if encrypted {
            spec["encryption"] = json!({"keyType": "AWS_OWNED_CMK"});
        }
        spec
    };
    let encryption = |d: aws_sdk_firehose::types::DeliveryStreamDescription| {
        d.delivery_stream_encryption_configuration
            .and_then(|e| e.status)
            .map(|s| s.as_str().to_owned())
    };

    apply(&api, "life", spec(true)).await;
    wait_until(&api, "life", "Ready", is_ready).await;
    assert_eq!(
        encryption(delivery_stream(&aws, "life").await).as_deref(),
        Some("ENABLED")
    );
    apply(&api, "life", spec(false)).await;
    wait_until(&api, "life", "Ready unencrypted", is_ready).await;
    assert_eq!(
        encryption(delivery_stream(&aws, "life").await).as_deref(),
        Some("DISABLED")
    );

    aws.tag_delivery_stream()
        .delivery_stream_name("life")
        .tags(
            aws_sdk_firehose::types::Tag::builder()
                .key("rogue")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let cleaned = wait_for(Duration::from_secs(30), || async {
        (!tag_keys(&aws, "life").await.contains(&"rogue".to_owned())).then_some(())
    })
    .await;
    assert!(
        cleaned.is_some(),
        "the rogue tag is removed at the drift check"
    );

    aws.delete_delivery_stream()
        .delivery_stream_name("life")
        .send()
        .await
        .unwrap();
    let back = wait_for(Duration::from_secs(30), || async {
        let reasons = event_reasons(cp.admin().await, &ns, "life").await;
        let exists = aws
            .describe_delivery_stream()
            .delivery_stream_name("life")
            .send()
            .await
            .is_ok();
        (exists && reasons.contains(&"DriftCorrected".to_owned())).then_some(())
    })
    .await;
    assert!(back.is_some(), "re-created with a DriftCorrected event");

    api.delete("life", &DeleteParams::default()).await.unwrap();
    wait_gone(
        &api,
        "life",
        Duration::from_secs(30),
        "the object is released",
    )
    .await;
    let gone = aws
        .describe_delivery_stream()
        .delivery_stream_name("life")
        .send()
        .await;
    assert_eq!(
        gone.map_err(|e| e.into_service_error().meta().code().map(str::to_owned))
            .err(),
        Some(Some("ResourceNotFoundException".to_owned()))
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A delivery stream of the same name made outside the operator is not taken over unless
/// `spec.adopt`; adopted, it is tagged as the object's and converged to the spec.
#[tokio::test]
async fn an_existing_delivery_stream_is_adopted_only_when_asked() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-adopt").await;
    let emulator = start_emulator().await;
    let aws = firehose_client(&emulator);
    aws.create_delivery_stream()
        .delivery_stream_name("legacy")
        .extended_s3_destination_configuration(
            aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
                .bucket_arn("arn:aws:s3:::old")
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "legacy",
        json!({"destination": s3_destination("new", "n/")}),
    )
    .await;
    let stalled = wait_until(&api, "legacy", "Stalled", is_stalled).await;
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "AlreadyExists");
    assert!(c.message.contains("set spec.adopt: true"), "{}", c.message);

    apply(
        &api,
        "legacy",
        json!({"destination": s3_destination("new", "n/"), "adopt": true}),
    )
    .await;
    wait_until(&api, "legacy", "Ready after adoption", is_ready).await;
    let described = delivery_stream(&aws, "legacy").await;
    assert_eq!(
        described.destinations[0]
            .extended_s3_destination_description
            .as_ref()
            .unwrap()
            .bucket_arn,
        "arn:aws:s3:::new"
    );
    assert!(
        tag_keys(&aws, "legacy")
            .await
            .contains(&"kinesis.operator.dev/uid".to_owned())
    );
    let reasons = event_reasons(cp.admin().await, &ns, "legacy").await;
    assert!(reasons.contains(&"Adopted".to_owned()), "{reasons:?}");
    operator.stop().await;
    emulator.shutdown().await;
}

/// An HTTP endpoint's access key comes from the Secret the spec names: the delivery stream
/// waits for the Secret, and a changed Secret is sent again with UpdateDestination.
#[tokio::test]
async fn an_http_endpoint_takes_its_access_key_from_a_secret() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-http").await;
    let emulator = start_emulator().await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let secrets: Api<Secret> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "webhook",
        json!({"destination": {"httpEndpoint": {
            "url": "https://collector.example.com/ingest", "name": "collector",
            "accessKeySecretRef": {"name": "collector-key", "key": "accessKey"},
            "s3Backup": {"bucketARN": "arn:aws:s3:::failed", "roleARN": ROLE}}}}),
    )
    .await;
    let waiting = wait_until(&api, "webhook", "waiting for the Secret", |o| {
        is_waiting(o, "WaitingForDependency")
    })
    .await;
    assert_eq!(
        condition(&waiting, "Ready").unwrap().message,
        format!(
            "waiting for Secret {ns}/collector-key (spec.destination.httpEndpoint.accessKeySecretRef): it does not exist"
        )
    );

    let secret = |key: &str| {
        serde_json::from_value::<Secret>(json!({
            "metadata": {"name": "collector-key"}, "stringData": {"accessKey": key}}))
        .unwrap()
    };
    secrets
        .create(&PostParams::default(), &secret("first-key"))
        .await
        .unwrap();
    let ready = wait_until(&api, "webhook", "Ready once the Secret exists", is_ready).await;
    let status = ready.status.unwrap();
    let first_version = status.access_key_secret_version;
    assert!(first_version.is_some());
    // Created with its key: no UpdateDestination until something changes.
    assert_eq!(status.version_id.as_deref(), Some("1"));
    let described = delivery_stream(&firehose_client(&emulator), "webhook").await;
    let http = described.destinations[0]
        .http_endpoint_destination_description
        .as_ref()
        .unwrap();
    assert_eq!(
        http.endpoint_configuration.as_ref().unwrap().url.as_deref(),
        Some("https://collector.example.com/ingest")
    );

    secrets
        .replace(
            "collector-key",
            &PostParams::default(),
            &secret("second-key"),
        )
        .await
        .unwrap();
    wait_until(&api, "webhook", "the new key sent", |o| {
        is_ready(o)
            && o.status.as_ref().unwrap().access_key_secret_version != first_version
            && o.status.as_ref().unwrap().version_id.as_deref() == Some("2")
    })
    .await;
    // The rotation is its own change, not drift, and says why it happened.
    let said = event_notes(cp.admin().await, &ns, "webhook").await;
    assert!(
        said.iter().any(|(reason, note, _)| reason == "DestinationUpdated"
            && note.starts_with("UpdateDestination webhook: the access key changed in its Secret (version 1 of destination ")),
        "{said:?}"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// An operator that dies after CreateDeliveryStream but before any status write leaves one
/// delivery stream, which the next operator recognises by its ownership tags.
#[tokio::test]
async fn a_crash_between_create_and_status_write_leaves_exactly_one_delivery_stream() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-crash").await;
    let admin = cp.admin().await;
    let crashy_client = service_account_with_rules(
        cp,
        &ns,
        "crashy",
        json!([{"apiGroups": ["kinesis.operator.dev"], "resources": ["deliverystreams", "kinesisstreams", "streampolicies"], "verbs": ["get", "list", "watch", "patch", "update"]}]),
    )
    .await;
    let emulator = start_emulator().await;
    let aws = firehose_client(&emulator);
    let api: Api<DeliveryStream> = Api::namespaced(admin.clone(), &ns);

    let crashy = Operator::start(crashy_client, &emulator, &ns).await;
    apply(
        &api,
        "once",
        json!({"destination": s3_destination("bucket", "")}),
    )
    .await;
    wait_for(Duration::from_secs(60), || async {
        aws.describe_delivery_stream()
            .delivery_stream_name("once")
            .send()
            .await
            .ok()
    })
    .await
    .expect("the first operator created the delivery stream");
    crashy.stop().await;
    assert!(
        api.get("once").await.unwrap().status.is_none(),
        "no status was written before the crash"
    );

    let operator = Operator::start(admin.clone(), &emulator, &ns).await;
    wait_until(&api, "once", "Ready after restart", is_ready).await;
    let names = aws
        .list_delivery_streams()
        .send()
        .await
        .unwrap()
        .delivery_stream_names;
    assert_eq!(names, ["once"], "exactly one delivery stream");
    operator.stop().await;
    emulator.shutdown().await;
}

/// With 30% of AWS calls throttled and 10% failing with 5xx, delivery streams still become
/// Ready, none goes Stalled, and none is created twice.
#[tokio::test]
async fn delivery_streams_converge_through_throttling_and_server_errors() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-faults").await;
    let emulator = Emulator::start(Config {
        faults: vec![
            "*:throttle:0.3".parse().unwrap(),
            "*:5xx:0.1".parse().unwrap(),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    for i in 0..5 {
        apply(
            &api,
            &format!("flaky-{i}"),
            json!({"destination": s3_destination("bucket", &format!("{i}/"))}),
        )
        .await;
    }
    for i in 0..5 {
        let name = format!("flaky-{i}");
        wait_until(&api, &name, "Ready despite faults", |o| {
            assert!(
                !is_stalled(o),
                "{name}: Stalled under transient faults: {:?}",
                condition(o, "Stalled")
            );
            is_ready(o)
        })
        .await;
    }
    let aws = firehose_client(&emulator);
    let mut names = loop {
        // The listing itself may be throttled or fail: retry it.
        if let Ok(out) = aws.list_delivery_streams().send().await {
            break out.delivery_stream_names;
        }
    };
    names.sort();
    assert_eq!(
        names,
        (0..5).map(|i| format!("flaky-{i}")).collect::<Vec<_>>(),
        "each created once"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// The error code of a failed AWS call, as a user of the SDK reads it.
fn error_code<E: aws_sdk_firehose::error::ProvideErrorMetadata>(e: E) -> Option<String> {
    e.code().map(str::to_owned)
}

/// How many calls of each operation were made between `before` and `after`, leaving out
/// those made no more often.
fn calls_between(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Deleting a KinesisStream that a delivery stream reads is not blocked: the object goes and
/// its Kinesis stream with it. The delivery stream, told by the watch (the resync here is ten
/// minutes), says which stream it lost in its Ready condition and keeps its Firehose delivery
/// stream. When a KinesisStream of that name is created again the delivery stream is Ready
/// again within seconds of it, its status naming the new stream's ARN (the same name, so the
/// same ARN).
#[tokio::test]
async fn deleting_the_source_stream_is_not_blocked_and_the_delivery_stream_says_so() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-srcgone").await;
    let emulator = start_emulator().await;
    let (aws, s3) = (firehose_client(&emulator), s3(&emulator));
    create_bucket(&s3, "relay").await;
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(600)).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let deliveries: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let spec = json!({"source": {"kinesisStream": {"streamRef": {"name": "feed"}, "roleARN": ROLE}},
        "destination": s3_destination("relay", "feed/")});
    apply(&streams, "feed", json!({"shardCount": 1})).await;
    apply(&deliveries, "relay", spec).await;
    wait_until(&streams, "feed", "Ready", is_ready).await;
    wait_until(&deliveries, "relay", "Ready", is_ready).await;

    streams
        .delete("feed", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(
        &streams,
        "feed",
        Duration::from_secs(30),
        "the KinesisStream is deleted although a delivery stream reads it",
    )
    .await;
    let kinesis = kinesis(&emulator);
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("feed")
        .send()
        .await;
    assert_eq!(
        summary
            .map_err(|e| e.into_service_error().meta().code().map(str::to_owned))
            .err(),
        Some(Some("ResourceNotFoundException".to_owned())),
        "the Kinesis stream is deleted in AWS"
    );
    let lost = format!("waiting for KinesisStream {ns}/feed: it does not exist");
    let told = wait_for(Duration::from_secs(10), || async {
        deliveries.get("relay").await.ok().filter(|o| {
            is_waiting(o, "WaitingForDependency")
                && condition(o, "Ready").is_some_and(|c| c.message == lost)
        })
    })
    .await;
    let last = deliveries.get("relay").await.unwrap();
    assert!(
        told.is_some(),
        "within 10 s of the stream going, Ready=False WaitingForDependency: {lost:?}; last seen {:?}",
        condition(&last, "Ready")
    );
    assert!(!is_stalled(&last), "waiting, not stalled");
    assert_eq!(
        delivery_stream(&aws, "relay")
            .await
            .delivery_stream_status
            .as_str(),
        "ACTIVE",
        "the Firehose delivery stream is kept while its source is missing"
    );

    apply(&streams, "feed", json!({"shardCount": 1})).await;
    let again = wait_until(&streams, "feed", "Ready again", is_ready).await;
    let arn = again.status.unwrap().common.arn.unwrap();
    let ready = wait_for(Duration::from_secs(10), || async {
        deliveries.get("relay").await.ok().filter(is_ready)
    })
    .await
    .expect("Ready within 10 s of the re-created stream being Ready");
    assert_eq!(
        ready.status.unwrap().source_stream_arn.as_deref(),
        Some(arn.as_str())
    );
    // The kept Firehose delivery stream reads the new stream (same ARN) from its start.
    put_texts(&kinesis, "feed", &["after,1\n"]).await;
    wait_for_delivery(&s3, "relay", "feed/", b"after,1\n").await;
    operator.stop().await;
    emulator.shutdown().await;
}

/// `deletionPolicy: Retain` releases the object and leaves its delivery stream in AWS, ACTIVE
/// and still tagged as the object's; the default (`Delete`) removes it.
#[tokio::test]
async fn deletion_policy_retain_keeps_the_delivery_stream_and_delete_removes_it() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-retain").await;
    let emulator = start_emulator().await;
    let aws = firehose_client(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    apply(
        &api,
        "kept",
        json!({"destination": s3_destination("bucket", "k/"), "deletionPolicy": "Retain"}),
    )
    .await;
    apply(
        &api,
        "dropped",
        json!({"destination": s3_destination("bucket", "d/")}),
    )
    .await;
    wait_until(&api, "kept", "Ready", is_ready).await;
    wait_until(&api, "dropped", "Ready", is_ready).await;

    for name in ["kept", "dropped"] {
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
    for name in ["kept", "dropped"] {
        wait_gone(
            &api,
            name,
            Duration::from_secs(30),
            "the object is released",
        )
        .await;
    }
    let kept = delivery_stream(&aws, "kept").await;
    assert_eq!(kept.delivery_stream_status.as_str(), "ACTIVE");
    assert_eq!(
        tag_keys(&aws, "kept").await,
        ["kinesis.operator.dev/owner", "kinesis.operator.dev/uid"],
        "retained as it was"
    );
    let dropped = aws
        .describe_delivery_stream()
        .delivery_stream_name("dropped")
        .send()
        .await;
    assert_eq!(
        dropped.map_err(error_code).err().flatten().as_deref(),
        Some("ResourceNotFoundException")
    );
    let names = aws
        .list_delivery_streams()
        .send()
        .await
        .unwrap()
        .delivery_stream_names;
    assert_eq!(names, ["kept"]);
    operator.stop().await;
    emulator.shutdown().await;
}

/// Firehose refusing a create or an update is shown as AWS said it: Stalled=True and
/// Ready=False with reason AWSError and AWS's code and message verbatim, a Warning event with
/// the same words; the refused call is not repeated while the spec stays the same (checked over
/// ten seconds of 2 s resyncs), and a corrected spec is Ready. The refusal here is AWS's rule
/// that a prefix with `!{...}` expressions needs an error output prefix, which the CRD schema
/// does not check.
#[tokio::test]
async fn an_aws_refusal_is_stalled_verbatim_and_not_retried_until_the_spec_changes() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-refused").await;
    let emulator = start_emulator().await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let refused = s3_destination("bucket", "raw/!{timestamp:yyyy}/");
    let aws_said = "InvalidArgumentException: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.";

    // Refused at create.
    apply(&api, "born-bad", json!({"destination": refused})).await;
    // Refused at update, once Ready with an accepted prefix.
    apply(
        &api,
        "turned-bad",
        json!({"destination": s3_destination("bucket", "raw/")}),
    )
    .await;
    wait_until(&api, "turned-bad", "Ready", is_ready).await;
    apply(&api, "turned-bad", json!({"destination": refused})).await;

    for (name, operation) in [
        ("born-bad", "CreateDeliveryStream"),
        ("turned-bad", "UpdateDestination"),
    ] {
        let stalled = wait_until(&api, name, "Stalled", is_stalled).await;
        for type_ in ["Stalled", "Ready"] {
            let c = condition(&stalled, type_).unwrap();
            assert_eq!(
                (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
                (
                    if type_ == "Stalled" { "True" } else { "False" },
                    "AWSError",
                    aws_said
                ),
                "{name}: {type_}"
            );
        }
        let said = event_notes(cp.admin().await, &ns, name).await;
        let warning = format!("firehose:{operation} failed: {aws_said}");
        assert!(
            said.iter()
                .any(|(reason, note, _)| reason == "AWSError" && *note == warning),
            "{name}: an AWSError event {warning:?} in {said:?}"
        );
    }

    let before = operator.aws_calls();
    let events_before = event_notes(cp.admin().await, &ns, "born-bad").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = operator.aws_calls();
    let writes: Vec<(String, u64)> = calls_between(&before, &after)
        .into_iter()
        .filter(|(op, _)| !op.starts_with("Describe") && !op.starts_with("List"))
        .collect();
    assert_eq!(
        writes,
        [],
        "no AWS write while the refused spec stays the same"
    );
    assert_eq!(
        after.get("CreateDeliveryStream"),
        Some(&2),
        "one refused create and the accepted one: {after:?}"
    );
    assert_eq!(
        after.get("UpdateDestination"),
        Some(&1),
        "one refused update: {after:?}"
    );
    assert_eq!(
        event_notes(cp.admin().await, &ns, "born-bad").await,
        events_before,
        "no further event"
    );

    let mut fixed = refused.clone();
    fixed["s3"]["errorOutputPrefix"] = json!("errors/");
    apply(&api, "born-bad", json!({"destination": fixed})).await;
    wait_until(&api, "born-bad", "Ready once the spec is fixed", is_ready).await;
    operator.stop().await;
    emulator.shutdown().await;
}

/// A delivery stream from nothing to Ready costs one CreateDeliveryStream and one
/// DescribeDeliveryStream (the bench's minimum); settled, each resync costs exactly one
/// DescribeDeliveryStream and writes nothing, to AWS or to Kubernetes (no status patch, no
/// event).
#[tokio::test]
async fn a_delivery_stream_costs_two_calls_to_ready_and_one_read_per_resync() {
    let cp = control_plane();
    let ns = cp.namespace("kdf-calls").await;
    let emulator = start_emulator().await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "cheap",
        json!({"destination": s3_destination("bucket", "c/"), "tags": {"team": "data"}}),
    )
    .await;
    wait_until(&api, "cheap", "Ready", is_ready).await;
    let calls = operator.aws_calls();
    assert_eq!(
        calls,
        [
            ("CreateDeliveryStream".to_owned(), 1),
            ("DescribeDeliveryStream".to_owned(), 1)
        ]
        .into(),
        "CreateDeliveryStream, then one DescribeDeliveryStream that finds it ACTIVE"
    );

    // Let the status write of the Ready pass land, then watch 5 s of 2 s resyncs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (before, reconciles_before) = (operator.aws_calls(), operator.reconciles());
    let writes_before = operator.kube_writes().len();
    let events_before = event_notes(cp.admin().await, &ns, "cheap").await;
    let version_before = api.get("cheap").await.unwrap().metadata.resource_version;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let delta = calls_between(&before, &operator.aws_calls());
    let resyncs = operator.reconciles() - reconciles_before;
    assert!(
        (1..=3).contains(&resyncs),
        "a 2 s resync: at most 3 passes in 5 s (2 or 3 on a machine not loaded), saw {resyncs}"
    );
    assert_eq!(
        delta,
        [("DescribeDeliveryStream".to_owned(), resyncs)].into(),
        "exactly one read per resync, no write"
    );
    assert_eq!(
        operator.kube_writes()[writes_before..],
        [] as [String; 0],
        "no Kubernetes write while settled"
    );
    assert_eq!(
        api.get("cheap").await.unwrap().metadata.resource_version,
        version_before,
        "the object is unchanged"
    );
    assert_eq!(
        event_notes(cp.admin().await, &ns, "cheap").await,
        events_before,
        "no event while settled"
    );
    operator.stop().await;
    emulator.shutdown().await;
}
