//! Every event and condition a KinesisStream shows, word for word: the stream's life driven
//! against the emulator pass by pass ([`crate::controller::runtime::words`]). A message that
//! changes wording, or leaks a Rust Debug string, fails here.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::KinesisStreams;
use crate::api::kinesis_stream::KinesisStream;
use crate::controller::conditions::Health;
use crate::controller::runtime::words::{Driver, REGION, Words, object, respec, said, strings};
use crate::emulator::{Config, kinesis};

fn stream(name: &str, spec: serde_json::Value) -> KinesisStream {
    object(name, spec)
}

/// An emulator whose streams stay CREATING, UPDATING and DELETING a moment, so that passes
/// see the transitions.
async fn driver() -> Driver<KinesisStreams> {
    let moment = Duration::from_millis(1000);
    Driver::start(
        KinesisStreams,
        Config {
            kinesis: kinesis::Settings {
                create_delay: moment,
                update_delay: moment,
                delete_delay: moment,
                relax_limits: false,
            },
            ..Config::default()
        },
    )
    .await
}

#[tokio::test]
async fn a_streams_life_in_words() {
    let mut d = driver().await;
    let mut s = stream(
        "clicks",
        serde_json::json!({"shardCount": 2, "tags": {"team": "data"}}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&["Created: CreateStream clicks"]),
            conditions: strings(&[
                "Creating: stream is CREATING",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    // 2 -> 5 goes through 4: each call its own event, in words.
    respec(
        &mut s,
        serde_json::json!({"shardCount": 5, "retentionPeriodHours": 48, "tags": {"team": "data"}}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "Scaling: UpdateShardCount 2 -> 4",
                "Scaling: UpdateShardCount 4 -> 5",
                "RetentionChanged: retention 24 h -> 48 h",
            ]),
            conditions: strings(&[
                "Scaling: UpdateShardCount 2 -> 4, on the route 2 -> 4 -> 5",
                "Scaling: stream is UPDATING: re-sharding to 5 shards, 2 open now (route 2 -> 4 -> 5)",
                "Scaling: UpdateShardCount 4 -> 5",
                "Scaling: stream is UPDATING: re-sharding to 5 shards, 4 open now (route 4 -> 5)",
                "Updating: changing the retention period 24 h -> 48 h",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    respec(
        &mut s,
        serde_json::json!({"shardCount": 5, "retentionPeriodHours": 48, "tags": {"team": "data"},
            "encryption": {"keyId": "alias/aws/kinesis"},
            "shardLevelMetrics": ["IncomingBytes", "IncomingRecords"], "maxRecordSizeInKiB": 2048}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "SettingsChanged: StartStreamEncryption with KMS key alias/aws/kinesis",
                "SettingsChanged: EnableEnhancedMonitoring IncomingBytes, IncomingRecords",
                "SettingsChanged: UpdateMaxRecordSize to 2048 KiB",
            ]),
            conditions: strings(&[
                "Updating: StartStreamEncryption with KMS key alias/aws/kinesis sent",
                "Updating: stream is UPDATING",
                "Updating: EnableEnhancedMonitoring IncomingBytes, IncomingRecords sent",
                "Updating: UpdateMaxRecordSize to 2048 KiB sent",
                "Updating: stream is UPDATING",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;
    respec(
        &mut s,
        serde_json::json!({"shardCount": 5, "retentionPeriodHours": 24, "tags": {"env": "prod"},
            "shardLevelMetrics": ["IncomingBytes"], "consumers": ["app"], "resourcePolicy": policy}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "RetentionChanged: retention 48 h -> 24 h",
                "SettingsChanged: StopStreamEncryption (KMS key alias/aws/kinesis)",
                "SettingsChanged: DisableEnhancedMonitoring IncomingRecords",
                "SettingsChanged: UpdateMaxRecordSize to 1024 KiB",
                "TagsChanged: AddTagsToStream clicks: env",
                "TagsChanged: RemoveTagsFromStream clicks: team",
                "PolicyChanged: PutResourcePolicy from spec.resourcePolicy",
                "ConsumerRegistered: RegisterStreamConsumer app",
            ]),
            conditions: strings(&[
                "Updating: changing the retention period 48 h -> 24 h",
                "Updating: StopStreamEncryption (KMS key alias/aws/kinesis) sent",
                "Updating: stream is UPDATING",
                "Updating: DisableEnhancedMonitoring IncomingRecords sent",
                "Updating: UpdateMaxRecordSize to 1024 KiB sent",
                "Updating: stream is UPDATING",
                "Updating: consumer app is CREATING",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    respec(
        &mut s,
        serde_json::json!({"mode": "OnDemand", "retentionPeriodHours": 24, "tags": {"env": "prod"},
            "shardLevelMetrics": ["IncomingBytes"], "resourcePolicy": "{"}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&["ModeChanged: UpdateStreamMode to ON_DEMAND"]),
            conditions: strings(&[
                "Updating: switching to ON_DEMAND mode",
                "Updating: stream is UPDATING",
                "InvalidSpec: spec.resourcePolicy is not valid JSON: EOF while parsing an object at line 1 column 1; fix the document",
            ]),
        }
    );
    respec(
        &mut s,
        serde_json::json!({"mode": "OnDemand", "retentionPeriodHours": 24, "tags": {"env": "prod"},
            "shardLevelMetrics": ["IncomingBytes"]}),
    );
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "PolicyChanged: DeleteResourcePolicy: spec.resourcePolicy is absent",
                "ConsumerDeregistered: DeregisterStreamConsumer app: removed from spec.consumers",
            ]),
            conditions: strings(&[
                "Updating: consumer app is DELETING",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    // Deleted behind the operator's back: seen going, then created again as a correction.
    d.ctx.aws.kinesis(REGION).delete("clicks").await.unwrap();
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "DriftCorrected: CreateStream clicks",
                "DriftCorrected: EnableEnhancedMonitoring IncomingBytes",
            ]),
            conditions: strings(&[
                "Deleting: stream is DELETING outside the operator; it is re-created once gone",
                "Creating: CreateStream clicks sent",
                "Creating: stream is CREATING",
                "Updating: EnableEnhancedMonitoring IncomingBytes sent",
                "Active: stream clicks is ACTIVE and matches the spec",
            ]),
        }
    );

    assert_eq!(
        d.delete(&s).await,
        strings(&["Deleting: DeleteStream clicks"])
    );
}

#[tokio::test]
async fn someone_elses_stream_is_named_and_adopted_only_when_asked() {
    let mut d = driver().await;
    let aws = d.ctx.aws.kinesis(REGION);
    let theirs = [("team".to_owned(), "web".to_owned())].into();
    aws.create(
        "theirs",
        &crate::aws::kinesis::NewStream {
            shards: Some(1),
            on_demand: false,
            max_record_kib: 1024,
            warm_throughput_mibps: None,
            tags: &theirs,
        },
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut s = stream("theirs", serde_json::json!({"shardCount": 1}));
    assert_eq!(
        d.settle(&mut s).await,
        Words::quiet(&[
            "AlreadyExists: stream theirs already exists in AWS and is not this object's (no owner tag); set spec.adopt: true to take it over, or choose another spec.streamName"
        ])
    );
    respec(&mut s, serde_json::json!({"shardCount": 1, "adopt": true}));
    assert_eq!(
        d.settle(&mut s).await,
        Words {
            events: strings(&[
                "Adopted: took over stream theirs (spec.adopt) and tagged it as this object's",
                "TagsChanged: RemoveTagsFromStream theirs: team",
            ]),
            conditions: strings(&["Active: stream theirs is ACTIVE and matches the spec"]),
        }
    );
}

#[tokio::test]
async fn limits_are_explained_with_aws_words_and_the_time_to_go_on() {
    let mut d = driver().await;
    let mut s = stream("limited", serde_json::json!({"shardCount": 2}));
    d.settle(&mut s).await;
    // Ten UpdateShardCount calls in the last ten hours: the next one waits for the oldest.
    let now = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let hours_ago = |h| now.checked_sub(SignedDuration::from_hours(h)).unwrap();
    s.status.as_mut().unwrap().shard_count_updates = (1..=10).map(|h| Time(hours_ago(h))).collect();
    respec(&mut s, serde_json::json!({"shardCount": 5}));
    let at = hours_ago(10)
        .checked_add(SignedDuration::from_hours(24))
        .unwrap();
    let health = d.pass(&mut s, &mut Words::default()).await.unwrap();
    assert_eq!(
        said(&health),
        format!(
            "ScalingLimit: AWS allows 10 UpdateShardCount calls per stream per rolling 24 hours and this stream has used them; the route 2 -> 4 -> 5 continues at {at}"
        )
    );
    assert!(matches!(health, Health::Stalled { .. }));

    // An AWS error is shown as AWS said it, with the call that failed (the runtime's
    // AWSError event; its Stalled condition is the code and message).
    let mut big = stream("big", serde_json::json!({"shardCount": 600}));
    let e = d.pass(&mut big, &mut Words::default()).await.unwrap_err();
    assert!(
        e.to_string().starts_with(
            "kinesis:CreateStream failed: LimitExceededException: This request would exceed the shard limit"
        ),
        "{e}"
    );
}
