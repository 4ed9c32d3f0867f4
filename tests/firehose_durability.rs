//! With `--data-dir`, every record Firehose acknowledged (or Kinesis acknowledged, for a
//! delivery stream reading it) is delivered to S3 exactly once, even when the real emulator
//! binary is killed with `kill -9` while producers put and batches are being delivered, and then
//! restarted.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{ExtendedS3DestinationConfiguration, Record};
use support::process::EmulatorProcess;

/// The flags every run here uses: no per-shard limits, buffers delivered within 50 ms.
const FLAGS: [&str; 3] = ["--relax-limits", "--firehose-flush-interval", "50ms"];

fn firehose(port: u16) -> aws_sdk_firehose::Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_sdk_firehose::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_firehose::Client::from_conf(config)
}

fn s3(port: u16) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// How many times each record (`;`-terminated) appears across every object of `bucket`.
async fn delivered(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        for o in page.contents() {
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(o.key().unwrap())
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            for record in String::from_utf8(body.to_vec())
                .unwrap()
                .split_terminator(';')
            {
                *counts.entry(record.to_owned()).or_insert(0) += 1;
            }
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return counts;
        }
    }
}

/// After the restart: waits until every acknowledged record is in `bucket`, then asserts none
/// is missing (`lost` says what a missing one means) and, after a further wait, none appears
/// twice.
async fn assert_delivered_exactly_once(
    s3c: &aws_sdk_s3::Client,
    bucket: &str,
    acknowledged: &BTreeSet<String>,
    lost: &str,
) {
    let mut counts = BTreeMap::new();
    for _ in 0..200 {
        counts = delivered(s3c, bucket).await;
        if acknowledged.iter().all(|id| counts.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} {lost}, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    // Let any further (wrong) delivery happen before checking for duplicates.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = delivered(s3c, bucket).await;
    let duplicated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "records delivered twice: {duplicated:?}"
    );
}

#[tokio::test]
async fn acknowledged_records_are_delivered_exactly_once_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &FLAGS).await;
    let port = emulator.port();
    let (client, s3c) = (firehose(port), s3(port));
    s3c.create_bucket().bucket("sink").send().await.unwrap();
    client
        .create_delivery_stream()
        .delivery_stream_name("durable")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::000000000000:role/firehose")
                .bucket_arn("arn:aws:s3:::sink")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let producer = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut acknowledged = BTreeSet::new();
            for batch in 0.. {
                let ids: Vec<String> = (0..50).map(|i| format!("r{batch:05}-{i:02}")).collect();
                let records = ids
                    .iter()
                    .map(|id| {
                        Record::builder()
                            .data(Blob::new(format!("{id};")))
                            .build()
                            .unwrap()
                    })
                    .collect();
                match client
                    .put_record_batch()
                    .delivery_stream_name("durable")
                    .set_records(Some(records))
                    .send()
                    .await
                {
                    Ok(out) if out.failed_put_count() == 0 => acknowledged.extend(ids),
                    Ok(out) => panic!("records refused: {out:?}"),
                    Err(_) => return acknowledged,
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    emulator.kill_9().await;
    let acknowledged = producer.await.unwrap();
    assert!(acknowledged.len() > 100, "the producer made progress");

    emulator.restart().await;
    assert_delivered_exactly_once(
        &s3(port),
        "sink",
        &acknowledged,
        "acknowledged records lost",
    )
    .await;
}

fn kinesis(port: u16) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

#[tokio::test]
async fn a_kinesis_source_loses_and_repeats_nothing_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &FLAGS).await;
    let port = emulator.port();
    let (client, s3c, kinesis) = (firehose(port), s3(port), kinesis(port));
    s3c.create_bucket()
        .bucket("from-source")
        .send()
        .await
        .unwrap();
    kinesis
        .create_stream()
        .stream_name("source")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    client
        .create_delivery_stream()
        .delivery_stream_name("reader")
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            aws_sdk_firehose::types::KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/source")
                .role_arn("arn:aws:iam::000000000000:role/firehose")
                .build()
                .unwrap(),
        )
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::000000000000:role/firehose")
                .bucket_arn("arn:aws:s3:::from-source")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let producer = {
        let kinesis = kinesis.clone();
        tokio::spawn(async move {
            let mut acknowledged = BTreeSet::new();
            for batch in 0.. {
                let ids: Vec<String> = (0..50).map(|i| format!("k{batch:05}-{i:02}")).collect();
                let entries = ids
                    .iter()
                    .map(|id| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .partition_key(id)
                            .data(aws_sdk_kinesis::primitives::Blob::new(format!("{id};")))
                            .build()
                            .unwrap()
                    })
                    .collect();
                match kinesis
                    .put_records()
                    .stream_name("source")
                    .set_records(Some(entries))
                    .send()
                    .await
                {
                    Ok(out) if out.failed_record_count() == Some(0) => acknowledged.extend(ids),
                    Ok(out) => panic!("records refused: {out:?}"),
                    Err(_) => return acknowledged,
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    emulator.kill_9().await;
    let acknowledged = producer.await.unwrap();
    assert!(acknowledged.len() > 100, "the producer made progress");

    emulator.restart().await;
    assert_delivered_exactly_once(
        &s3(port),
        "from-source",
        &acknowledged,
        "acknowledged source records never delivered",
    )
    .await;
}
