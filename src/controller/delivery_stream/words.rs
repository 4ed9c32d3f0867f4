//! The DeliveryStream's words that are not a plain statement of an AWS call: what a user reads
//! when the operator cannot or will not go on ([`unsupported_destination`],
//! [`encryption_failed`]), built here so that each sentence is checked word for word.
//!
//! Its tests check every event and condition a DeliveryStream shows: its life driven against
//! the emulator pass by pass ([`crate::controller::runtime::words`]), and the sentences the
//! emulator cannot provoke (a destination kind it does not deliver to, a failed encryption)
//! from a table. A message that changes wording, or leaks a Rust Debug string, fails here.

use std::time::Duration;

/// Why delivery stream `name`, which delivers to `kind` (such as `Splunk`), is not changed:
/// the operator manages S3 and HTTP endpoint destinations only.
pub(super) fn unsupported_destination(name: &str, kind: &str) -> String {
    format!(
        "delivery stream {name} delivers to {kind}, which kinesis-operator does not manage; delete it in AWS or choose another spec.deliveryStreamName"
    )
}

/// Why server-side encryption of delivery stream `name` is stuck at `status`
/// (`ENABLING_FAILED` or `DISABLING_FAILED`), what to check, and how often it is tried again.
pub(super) fn encryption_failed(name: &str, status: &str, retry: Duration) -> String {
    format!(
        "server-side encryption of delivery stream {name} is {status}; check that the KMS key exists and its key policy lets Firehose use it (tried again every {} minutes)",
        retry.as_secs() / 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::DeliveryStreams;
    use crate::api::delivery_stream::DeliveryStream;
    use crate::controller::runtime::words::{
        Driver, REGION, Words, object, respec, said, someone_elses, strings,
    };
    use crate::emulator::{Config, firehose};

    const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

    fn delivery(name: &str, spec: serde_json::Value) -> DeliveryStream {
        object(name, spec)
    }

    /// An S3 destination writing under `prefix`.
    fn s3(prefix: &str) -> serde_json::Value {
        serde_json::json!({"s3": {"bucketARN": "arn:aws:s3:::bucket", "roleARN": ROLE, "prefix": prefix}})
    }

    /// An emulator whose delivery streams stay CREATING and DELETING a moment, so that passes
    /// see the transitions.
    async fn driver() -> Driver<DeliveryStreams> {
        let moment = Duration::from_millis(1000);
        Driver::start(
            DeliveryStreams,
            Config {
                firehose: firehose::Settings {
                    create_delay: moment,
                    delete_delay: moment,
                    ..firehose::Settings::default()
                },
                ..Config::default()
            },
        )
        .await
    }

    #[tokio::test]
    async fn a_delivery_streams_life_in_words() {
        let mut d = driver().await;
        let mut s = delivery(
            "logs",
            serde_json::json!({"destination": s3("a/"), "tags": {"env": "dev"},
            "encryption": {"keyType": "AWS_OWNED_CMK"}}),
        );
        assert_eq!(
            d.settle(&mut s).await,
            Words {
                events: strings(&["Created: CreateDeliveryStream logs"]),
                conditions: strings(&[
                    "Creating: delivery stream is CREATING",
                    "Active: delivery stream logs is ACTIVE and matches the spec",
                ]),
            }
        );

        respec(
            &mut s,
            serde_json::json!({"destination": s3("b/"), "tags": {"team": "data"}}),
        );
        assert_eq!(
            d.settle(&mut s).await,
            Words {
                events: strings(&[
                    "DestinationUpdated: UpdateDestination logs: the destination differs from spec.destination (version 1 of destination destinationId-000000000001)",
                    "EncryptionChanged: StopDeliveryStreamEncryption logs",
                    "TagsChanged: TagDeliveryStream logs: team",
                    "TagsChanged: UntagDeliveryStream logs: env",
                ]),
                conditions: strings(&[
                    "Updating: UpdateDestination logs sent",
                    "Updating: StopDeliveryStreamEncryption logs sent",
                    "Updating: server-side encryption is DISABLING",
                    "Active: delivery stream logs is ACTIVE and matches the spec",
                ]),
            }
        );

        respec(
            &mut s,
            serde_json::json!({"destination": s3("b/"), "tags": {"team": "data"},
            "encryption": {"keyType": "CUSTOMER_MANAGED_CMK",
                "keyARN": "arn:aws:kms:us-east-1:000000000000:key/1234"}}),
        );
        assert_eq!(
            d.settle(&mut s).await,
            Words {
                events: strings(&[
                    "EncryptionChanged: StartDeliveryStreamEncryption logs with KMS key arn:aws:kms:us-east-1:000000000000:key/1234",
                ]),
                conditions: strings(&[
                    "Updating: StartDeliveryStreamEncryption logs with KMS key arn:aws:kms:us-east-1:000000000000:key/1234 sent",
                    "Updating: server-side encryption is ENABLING",
                    "Active: delivery stream logs is ACTIVE and matches the spec",
                ]),
            }
        );

        // Deleted behind the operator's back: seen going, then created again as a correction
        // (by a pass past FRESH_FOR: one right after a Ready pass reuses what that pass saw).
        tokio::time::sleep(crate::controller::runtime::outcome::FRESH_FOR).await;
        d.ctx.aws.firehose(REGION).delete("logs").await.unwrap();
        assert_eq!(
            d.settle(&mut s).await,
            Words {
                events: strings(&["DriftCorrected: CreateDeliveryStream logs"]),
                conditions: strings(&[
                    "Deleting: delivery stream is DELETING outside the operator; it is re-created once gone",
                    "Creating: CreateDeliveryStream logs sent",
                    "Creating: delivery stream is CREATING",
                    "Active: delivery stream logs is ACTIVE and matches the spec",
                ]),
            }
        );

        assert_eq!(
            d.delete(&s).await,
            strings(&["Deleting: DeleteDeliveryStream logs"])
        );
    }

    #[tokio::test]
    async fn what_the_operator_cannot_change_is_named() {
        let mut d = driver().await;
        let kinesis = d.ctx.aws.kinesis(REGION);
        let tags = [("team".to_owned(), "data".to_owned())].into();
        kinesis
            .create(
                "clicks",
                &crate::aws::kinesis::NewStream {
                    shards: Some(1),
                    on_demand: false,
                    max_record_kib: 1024,
                    warm_throughput_mibps: None,
                    tags: &tags,
                },
            )
            .await
            .unwrap();
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks";
        let mut nameless = delivery(
            "nameless",
            serde_json::json!({"source": {"kinesisStream": {"roleARN": ROLE}}, "destination": s3("a/")}),
        );
        assert_eq!(
            d.settle(&mut nameless).await.conditions,
            strings(&["InvalidSpec: spec.source.kinesisStream: set streamRef or streamARN"])
        );
        d.restart();
        let mut s = delivery(
            "archive",
            serde_json::json!({"source": {"kinesisStream": {"streamARN": arn, "roleARN": ROLE}},
            "destination": s3("a/")}),
        );
        d.settle(&mut s).await;
        respec(&mut s, serde_json::json!({"destination": s3("a/")}));
        assert_eq!(
            d.settle(&mut s).await.conditions,
            strings(&[&format!(
                "SourceMismatch: delivery stream archive reads from Kinesis stream {arn} but spec.source asks for DirectPut; AWS cannot change a delivery stream's source: delete the delivery stream in AWS (it is re-created) or change spec.source back"
            )])
        );

        // Someone else's delivery stream of the same name.
        let mut theirs = someone_elses(delivery(
            "archive",
            serde_json::json!({"destination": s3("a/")}),
        ));
        d.restart();
        assert_eq!(
            d.settle(&mut theirs).await,
            Words::quiet(&[
                "AlreadyExists: delivery stream archive already exists in AWS and is not this object's (owned by data/archive); set spec.adopt: true to take it over, or choose another spec.deliveryStreamName"
            ])
        );
        respec(
            &mut theirs,
            serde_json::json!({"destination": s3("a/"), "adopt": true,
            "source": {"kinesisStream": {"streamARN": arn, "roleARN": ROLE}}}),
        );
        assert_eq!(
            d.settle(&mut theirs).await,
            Words {
                events: strings(&[
                    "Adopted: took over delivery stream archive (arn:aws:firehose:us-east-1:000000000000:deliverystream/archive) (spec.adopt) and tagged it as this object's"
                ]),
                conditions: strings(&[
                    "Active: delivery stream archive is ACTIVE and matches the spec"
                ]),
            }
        );
    }

    #[test]
    fn failed_transitions_say_what_aws_said_and_what_to_do() {
        let view = |status: &str, failure: Option<&str>| crate::aws::firehose::DeliveryView {
            arn: "arn".into(),
            status: status.into(),
            failure: failure.map(str::to_owned),
            version_id: "1".into(),
            created_at: 0,
            source: crate::aws::firehose::SourceView::DirectPut,
            destination_id: "destinationId-000000000001".into(),
            destination: crate::aws::firehose::DestinationSettings::Other("Splunk".into()),
            encryption: Default::default(),
        };
        let cases = [
            (
                view(
                    "CREATING_FAILED",
                    Some("INVALID_KMS_KEY: the key is disabled"),
                ),
                "CreateFailed: AWS could not create the delivery stream: INVALID_KMS_KEY: the key is disabled; fix the cause (often the role's permissions), then delete it in AWS to have it re-created",
            ),
            (
                view("DELETING_FAILED", None),
                "DeleteFailed: AWS could not delete the delivery stream",
            ),
            (
                view("SUSPENDED", None),
                "Updating: delivery stream is SUSPENDED",
            ),
        ];
        for (view, words) in cases {
            let outcome = super::super::converge::transition(&view).expect("not ACTIVE");
            assert_eq!(said(&outcome.health), words);
        }
    }

    #[test]
    fn what_the_emulator_cannot_provoke_is_said_in_full_sentences() {
        let cases = [
            (
                super::unsupported_destination("orders", "Splunk"),
                "delivery stream orders delivers to Splunk, which kinesis-operator does not manage; delete it in AWS or choose another spec.deliveryStreamName",
            ),
            (
                super::unsupported_destination("audit", "Redshift"),
                "delivery stream audit delivers to Redshift, which kinesis-operator does not manage; delete it in AWS or choose another spec.deliveryStreamName",
            ),
            (
                super::encryption_failed("orders", "ENABLING_FAILED", Duration::from_secs(300)),
                "server-side encryption of delivery stream orders is ENABLING_FAILED; check that the KMS key exists and its key policy lets Firehose use it (tried again every 5 minutes)",
            ),
            (
                super::encryption_failed("orders", "DISABLING_FAILED", Duration::from_secs(600)),
                "server-side encryption of delivery stream orders is DISABLING_FAILED; check that the KMS key exists and its key policy lets Firehose use it (tried again every 10 minutes)",
            ),
        ];
        for (said, words) in cases {
            assert_eq!(said, words);
        }
    }
}
