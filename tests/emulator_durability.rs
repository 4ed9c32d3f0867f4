//! With `--data-dir`, every acknowledged write survives `kill -9` of the emulator and a
//! restart: the real binary is killed in the middle of concurrent writes and a re-shard.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::{BehaviorVersion, Region};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ScalingType, ShardIteratorType, StreamStatus,
};
use support::process::EmulatorProcess;

fn client(port: u16) -> Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

async fn read_everything(client: &Client, stream: &str) -> Vec<(String, String, Vec<u8>)> {
    let shards = client
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap()
        .shards
        .unwrap();
    let mut out = Vec::new();
    for shard in shards {
        let mut it = client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(&shard.shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        while let Some(i) = it {
            let page = client.get_records().shard_iterator(i).send().await.unwrap();
            if page.records.is_empty() {
                break;
            }
            for r in page.records {
                out.push((
                    shard.shard_id.clone(),
                    r.sequence_number,
                    r.data.into_inner(),
                ));
            }
            it = page.next_shard_iterator;
        }
    }
    out
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &["--relax-limits"]).await;
    let c = client(emulator.port());
    c.create_stream()
        .stream_name("durable")
        .shard_count(3)
        .send()
        .await
        .unwrap();
    c.add_tags_to_stream()
        .stream_name("durable")
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    c.increase_stream_retention_period()
        .stream_name("durable")
        .retention_period_hours(48)
        .send()
        .await
        .unwrap();

    // Eight writers put batches until the emulator dies; a re-shard happens on the way.
    let mut writers = Vec::new();
    for w in 0..8 {
        let c = c.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for batch in 0.. {
                let entries: Vec<_> = (0..50)
                    .map(|i| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(format!("w{w}-{batch}-{i}"))
                            .data(Blob::new(format!("w{w}-{batch}-{i}")))
                            .build()
                            .unwrap()
                    })
                    .collect();
                match c
                    .put_records()
                    .stream_name("durable")
                    .set_records(Some(entries))
                    .send()
                    .await
                {
                    Ok(out) => {
                        for r in out.records {
                            if let (Some(shard), Some(seq)) = (r.shard_id, r.sequence_number) {
                                acked.push((shard, seq));
                            }
                        }
                    }
                    Err(_) => return acked,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.update_shard_count()
        .stream_name("durable")
        .target_shard_count(6)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    emulator.kill_9().await;
    let mut acked = BTreeSet::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert!(acked.len() > 1000, "the writers got going: {}", acked.len());

    emulator.restart().await;
    let c = client(emulator.port());
    let summary = c
        .describe_stream_summary()
        .stream_name("durable")
        .send()
        .await
        .expect("the stream survived")
        .stream_description_summary
        .unwrap();
    assert_eq!(summary.retention_period_hours, 48);
    assert_eq!(summary.stream_status, StreamStatus::Active);
    assert_eq!(summary.open_shard_count, 6, "the re-shard survived");
    let tags = c
        .list_tags_for_stream()
        .stream_name("durable")
        .send()
        .await
        .unwrap()
        .tags;
    assert_eq!(tags.len(), 1);

    let read = read_everything(&c, "durable").await;
    let read_ids: BTreeSet<_> = read
        .iter()
        .map(|(s, q, _)| (s.clone(), q.clone()))
        .collect();
    assert_eq!(read_ids.len(), read.len(), "no record is read twice");
    let lost: Vec<_> = acked.difference(&read_ids).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged records lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );

    // Writing goes on, with sequence numbers after everything stored before the crash.
    let out = c
        .put_record()
        .stream_name("durable")
        .partition_key("after")
        .data(Blob::new("after restart"))
        .send()
        .await
        .unwrap();
    let newest_before = read
        .iter()
        .filter(|(s, _, _)| *s == out.shard_id)
        .map(|(_, q, _)| q.clone())
        .max();
    if let Some(before) = newest_before {
        assert!(out.sequence_number > before);
    }
}

#[tokio::test]
async fn deleted_streams_stay_deleted_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &["--relax-limits"]).await;
    let c = client(emulator.port());
    c.create_stream()
        .stream_name("gone")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    c.create_stream()
        .stream_name("kept")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    c.put_record()
        .stream_name("gone")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap();
    c.delete_stream().stream_name("gone").send().await.unwrap();
    // Observe the deletion complete before the crash.
    assert!(
        c.describe_stream()
            .stream_name("gone")
            .send()
            .await
            .is_err()
    );
    emulator.kill_9().await;

    emulator.restart().await;
    let c = client(emulator.port());
    let names = c.list_streams().send().await.unwrap().stream_names;
    assert_eq!(names, ["kept"]);
    c.create_stream()
        .stream_name("gone")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let read = read_everything(&c, "gone").await;
    assert!(read.is_empty(), "a new stream of an old name starts empty");
}

#[tokio::test]
async fn account_settings_survive_kill_9_and_restart() {
    use aws_sdk_kinesis::types::{
        MinimumThroughputBillingCommitmentInput, MinimumThroughputBillingCommitmentInputStatus,
        MinimumThroughputBillingCommitmentOutputStatus, StreamMode, StreamModeDetails,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &["--relax-limits"]).await;
    let c = client(emulator.port());
    c.update_account_settings()
        .minimum_throughput_billing_commitment(
            MinimumThroughputBillingCommitmentInput::builder()
                .status(MinimumThroughputBillingCommitmentInputStatus::Enabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    emulator.kill_9().await;

    emulator.restart().await;
    let c = client(emulator.port());
    let settings = c.describe_account_settings().send().await.unwrap();
    assert_eq!(
        settings
            .minimum_throughput_billing_commitment
            .unwrap()
            .status,
        MinimumThroughputBillingCommitmentOutputStatus::Enabled,
        "the acknowledged commitment is still in force"
    );
    c.create_stream()
        .stream_name("warm")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .unwrap(),
        )
        .warm_throughput_mibps(100)
        .send()
        .await
        .expect("warm throughput is allowed under the recovered commitment");
}
