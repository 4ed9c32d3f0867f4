//! Secrets stay secret: the operator's AWS secret key and an HTTP endpoint's access key (read
//! from a Kubernetes Secret, then rotated) appear in none of what the operator writes: its
//! logs at debug level, the events, the objects' status, the metrics.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kinesis_operator::api::DeliveryStream;
use kinesis_operator::emulator::Emulator;
use kube::api::{Api, PostParams};
use serde_json::json;
use support::envtest::control_plane;
use support::operator::{Operator, event_notes, is_ready, wait_until};

const AWS_SECRET: &str = "wJalrXUtnFEMI-operator-aws-secret-7f3a";
const FIRST_KEY: &str = "collector-access-key-first-91c2";
const ROTATED_KEY: &str = "collector-access-key-rotated-4be8";

/// Everything logged by this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn credentials_and_access_keys_appear_in_no_log_event_status_or_metric() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .init();

    let cp = control_plane();
    let ns = cp.namespace("secrets").await;
    let emulator = Emulator::start(Default::default()).await.unwrap();
    let operator = Operator::start_as(
        cp.admin().await,
        &emulator,
        Some(&ns),
        Duration::from_secs(2),
        ("AKIDSECRETSTEST", AWS_SECRET),
    )
    .await;
    let api: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let secrets: Api<Secret> = Api::namespaced(cp.admin().await, &ns);
    let secret = |key: &str| {
        serde_json::from_value::<Secret>(json!({
            "metadata": {"name": "collector-key"}, "stringData": {"accessKey": key}}))
        .unwrap()
    };
    secrets
        .create(&PostParams::default(), &secret(FIRST_KEY))
        .await
        .unwrap();
    support::operator::apply(
        &api,
        "webhook",
        json!({"destination": {"httpEndpoint": {
            "url": "https://collector.example.com/ingest",
            "accessKeySecretRef": {"name": "collector-key", "key": "accessKey"},
            "s3Backup": {"bucketARN": "arn:aws:s3:::failed",
                         "roleARN": "arn:aws:iam::000000000000:role/firehose"}}}}),
    )
    .await;
    wait_until(&api, "webhook", "Ready", is_ready).await;
    secrets
        .replace(
            "collector-key",
            &PostParams::default(),
            &secret(ROTATED_KEY),
        )
        .await
        .unwrap();
    let rotated = wait_until(&api, "webhook", "the rotated key sent", |o| {
        is_ready(o) && o.status.as_ref().unwrap().version_id.as_deref() == Some("2")
    })
    .await;

    let mut written = vec![
        ("status", serde_json::to_string(&rotated.status).unwrap()),
        ("metrics", operator.metrics.encode()),
        (
            "events",
            format!("{:?}", event_notes(cp.admin().await, &ns, "webhook").await),
        ),
    ];
    operator.stop().await;
    emulator.shutdown().await;
    written.push((
        "logs",
        String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned(),
    ));
    assert!(
        written[3].1.contains("webhook"),
        "the logs were captured (they name the object)"
    );
    for (what, text) in &written {
        for secret in [AWS_SECRET, FIRST_KEY, ROTATED_KEY] {
            assert!(!text.contains(secret), "{what} contain a secret ({secret})");
        }
    }
}
