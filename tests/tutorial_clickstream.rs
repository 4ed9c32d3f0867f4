//! The tutorial's clickstream pipeline (`examples/clickstream-pipeline.yaml`) as a user runs
//! it: one `kubectl apply` of the whole folder's manifest, its documents in reverse order (the
//! policy and the delivery stream before the streams they name), converging to all Ready on a
//! real control plane against the emulator; then click events put to the stream arrive in S3
//! byte for byte, the Flink application counts them per user and product and minute into
//! `clicks-per-minute`, and the policy lets the web tier write and the analytics team read.

mod support;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use aws_credential_types::Credentials;
use kinesis_operator::api::stream_policy::StreamPolicy;
use kinesis_operator::api::{AnalyticsApplication, DeliveryStream, KinesisStream};
use kinesis_operator::emulator::{Config, Emulator, firehose};
use kube::api::Api;
use support::emulator::{kinesis_as, s3};
use support::envtest::{control_plane, wait_for};
use support::operator::{Operator, is_ready, wait_until};
use support::records::read_all;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The example's documents, last first.
fn reversed_pipeline() -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clickstream-pipeline.yaml"),
    )
    .expect("the tutorial's example");
    let mut documents: Vec<&str> = text.split("\n---\n").collect();
    documents.reverse();
    documents.join("\n---\n")
}

/// Every object under `prefix` in `bucket`, gunzipped (the pipeline delivers GZIP), in key
/// order, concatenated.
async fn gunzipped(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<u8> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut all = Vec::new();
    for object in listed.contents() {
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(object.key().unwrap())
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        flate2::read::MultiGzDecoder::new(&body[..])
            .read_to_end(&mut all)
            .expect("a GZIP object");
    }
    all
}

#[tokio::test]
async fn the_clickstream_pipeline_applied_at_once_delivers_clicks_to_s3() {
    let cp = control_plane();
    let ns = cp.namespace("tutorial").await;
    let emulator = Emulator::start(Config {
        firehose: firehose::Settings {
            flush_interval: Some(Duration::from_millis(500)),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("the emulator starts");
    let s3 = s3(&emulator);
    s3.create_bucket()
        .bucket("clickstream-archive")
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .build(),
    );
    for role in ["clickstream-web", "clickstream-analytics"] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    }
    // The pipeline's Flink SQL names us-west-2 as its streams' region, as the tutorial does.
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, "us-west-2").await;

    let mut kubectl = cp
        .kubectl()
        .args(["apply", "-n", &ns, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    kubectl
        .stdin
        .take()
        .unwrap()
        .write_all(reversed_pipeline().as_bytes())
        .unwrap();
    let applied = kubectl.wait_with_output().unwrap();
    assert!(
        applied.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let client = cp.admin().await;
    let streams: Api<KinesisStream> = Api::namespaced(client.clone(), &ns);
    let clickstream = wait_until(&streams, "clickstream", "Ready", is_ready).await;
    wait_until(&streams, "clicks-per-minute", "Ready", is_ready).await;
    let deliveries: Api<DeliveryStream> = Api::namespaced(client.clone(), &ns);
    wait_until(&deliveries, "clickstream-archive", "Ready", is_ready).await;
    let policies: Api<StreamPolicy> = Api::namespaced(client.clone(), &ns);
    let policy = wait_until(&policies, "clickstream-access", "Ready", is_ready).await;

    let clickstream_arn = clickstream.status.unwrap().common.arn.unwrap();
    let policy = policy.status.unwrap();
    assert_eq!(
        policy.attached_roles,
        ["clickstream-analytics", "clickstream-web"]
    );
    let document: serde_json::Value =
        serde_json::from_str(policy.rendered_document.as_deref().unwrap()).unwrap();
    let writes = document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .contains(&"kinesis:PutRecords".into())
        })
        .expect("a statement granting writes");
    assert_eq!(writes["Resource"], serde_json::json!([clickstream_arn]));

    // The Flink application reads from LATEST: clicks are put once it runs.
    let apps: Api<AnalyticsApplication> = Api::namespaced(client.clone(), &ns);
    wait_for(Duration::from_secs(120), || async {
        apps.get("clicks-per-minute").await.ok().filter(is_ready)
    })
    .await
    .unwrap_or_else(|| panic!("the analytics application is not RUNNING within 120 s"));

    let click = |at: &str, user: usize, product: usize| {
        format!(
            "{{\"timestamp\":\"2026-12-07 {at}.000\",\"user_id\":\"u{user}\",\"product_id\":\"p{product}\"}}\n"
        )
    };
    let minute: Vec<String> = (0..20)
        .map(|i| click(&format!("10:00:{i:02}"), i % 3, i % 5))
        .collect();
    let aws = kinesis_as(&emulator, "AKIDTEST", "us-west-2");
    for c in &minute {
        aws.put_record()
            .stream_name("clickstream")
            .partition_key(c.clone())
            .data(aws_sdk_kinesis::primitives::Blob::new(c.as_bytes()))
            .send()
            .await
            .unwrap();
    }
    // A click of the next minute on each of the four shards moves the watermark past the first
    // minute's end, so that the window closes. Put a few seconds later, as the next minute's
    // clicks would be: the four shards are read independently, and a next-minute click read
    // before another shard's clicks of this minute would make those late (dropped), on AWS
    // as here.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut clicks = minute.clone();
    for shard in 0..4u128 {
        let c = click("10:01:30", 9, 9);
        aws.put_record()
            .stream_name("clickstream")
            .partition_key("closer")
            .explicit_hash_key((shard * (1u128 << 126) + 1).to_string())
            .data(aws_sdk_kinesis::primitives::Blob::new(c.as_bytes()))
            .send()
            .await
            .unwrap();
        clicks.push(c);
    }
    let expected = clicks.concat();
    let delivered = wait_for(Duration::from_secs(30), || async {
        let got = gunzipped(&s3, "clickstream-archive", "clicks/").await;
        (got.len() >= expected.len()).then_some(got)
    })
    .await
    .expect("the clicks reach S3");
    // Four shards: records of one shard keep their order; compare as sorted lines.
    let mut got: Vec<&str> = std::str::from_utf8(&delivered).unwrap().lines().collect();
    let mut want: Vec<&str> = expected.lines().collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "every click delivered once, byte for byte");

    // Clicks per user and product in the minute: i % 3 and i % 5 repeat every 15 clicks, so
    // the first five pairs were clicked twice and the other ten once.
    let mut expected: Vec<(String, String, i64)> = Vec::new();
    for i in 0..15 {
        let twice = i < 5;
        expected.push((
            format!("u{}", i % 3),
            format!("p{}", i % 5),
            if twice { 2 } else { 1 },
        ));
    }
    expected.sort();
    let counted = wait_for(Duration::from_secs(60), || async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let got = read_all(&aws, "clicks-per-minute").await;
        (got.len() >= expected.len()).then_some(got)
    })
    .await;
    let Some(counted) = counted else {
        panic!(
            "the per-minute counts did not reach clicks-per-minute within 60 s; it holds {:?}; the application: {:?}",
            read_all(&aws, "clicks-per-minute").await,
            apps.get("clicks-per-minute").await.map(|a| a.status)
        );
    };
    let mut counts: Vec<(String, String, i64)> = counted
        .iter()
        .map(|r| {
            assert_eq!(r["window_end"], "2026-12-07 10:01:00", "{r}");
            (
                r["user_id"].as_str().unwrap().to_owned(),
                r["product_id"].as_str().unwrap().to_owned(),
                r["clicks"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(
        counts, expected,
        "one count per user and product for the minute"
    );
    operator.stop().await;
    emulator.shutdown().await;
}
