//! Conformance of the emulated Firehose with AWS, through the real aws-sdk-firehose client (and
//! aws-sdk-s3 / aws-sdk-kinesis to read what it delivered): one test per behaviour.

mod support;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_firehose::Client;
use aws_sdk_firehose::config::retry::RetryConfig;
use aws_sdk_firehose::config::{BehaviorVersion, Region};
use aws_sdk_firehose::error::ProvideErrorMetadata;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamEncryptionConfigurationInput,
    DeliveryStreamStatus, DeliveryStreamType, ExtendedS3DestinationConfiguration,
    ExtendedS3DestinationUpdate, HttpEndpointConfiguration, HttpEndpointDestinationConfiguration,
    KeyType, KinesisStreamSourceConfiguration, Record, S3DestinationConfiguration, Tag,
};
use kinesis_operator::emulator::{Config, Emulator, firehose::Settings};
use support::emulator::{delivery_stream, post};

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

/// Starts an emulator with `settings`.
async fn start(settings: Settings) -> Emulator {
    Emulator::start(Config {
        firehose: settings,
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

/// Starts an emulator without delays.
async fn start_default() -> Emulator {
    start(Settings::default()).await
}

/// A Firehose client in `region` without retries.
fn firehose_in(emulator: &Emulator, region: &str) -> Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A Firehose client in us-east-1 without retries.
fn firehose(emulator: &Emulator) -> Client {
    firehose_in(emulator, "us-east-1")
}

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

/// An extended S3 destination writing to `bucket`.
fn s3_dest(
    bucket: &str,
) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
}

/// Creates a DirectPut delivery stream to an extended S3 destination.
async fn create_s3(client: &Client, name: &str, dest: ExtendedS3DestinationConfiguration) {
    client
        .create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(dest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDeliveryStream {name}: {e:?}"));
}

#[tokio::test]
async fn create_and_describe_an_extended_s3_stream() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    let out = client
        .create_delivery_stream()
        .delivery_stream_name("orders")
        .delivery_stream_type(DeliveryStreamType::DirectPut)
        .extended_s3_destination_configuration(
            s3_dest("bucket")
                .prefix("raw/")
                .compression_format(CompressionFormat::Gzip)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.delivery_stream_arn(),
        Some("arn:aws:firehose:us-east-1:000000000000:deliverystream/orders")
    );
    let d = delivery_stream(&client, "orders").await;
    assert_eq!(d.delivery_stream_status(), &DeliveryStreamStatus::Active);
    assert_eq!(d.delivery_stream_type(), &DeliveryStreamType::DirectPut);
    assert_eq!(d.version_id(), "1");
    assert!(d.create_timestamp().is_some());
    assert!(!d.has_more_destinations());
    assert_eq!(
        d.delivery_stream_encryption_configuration()
            .and_then(|e| e.status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let dest = &d.destinations()[0];
    assert_eq!(dest.destination_id(), "destinationId-000000000001");
    let ext = dest.extended_s3_destination_description().unwrap();
    assert_eq!(ext.bucket_arn(), "arn:aws:s3:::bucket");
    assert_eq!(ext.role_arn(), ROLE);
    assert_eq!(ext.prefix(), Some("raw/"));
    assert_eq!(ext.compression_format(), &CompressionFormat::Gzip);
    let hints = ext.buffering_hints().unwrap();
    assert_eq!(
        (hints.size_in_mbs(), hints.interval_in_seconds()),
        (Some(5), Some(300))
    );
    assert_eq!(ext.s3_backup_mode().map(|m| m.as_str()), Some("Disabled"));
    // AWS describes an S3 destination in its deprecated form too.
    let plain = dest.s3_destination_description().unwrap();
    assert_eq!(plain.bucket_arn(), "arn:aws:s3:::bucket");
    assert_eq!(plain.compression_format(), &CompressionFormat::Gzip);
}

#[tokio::test]
#[allow(deprecated)]
async fn deprecated_s3_destination_is_accepted_and_described() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    client
        .create_delivery_stream()
        .delivery_stream_name("old-style")
        .s3_destination_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn("arn:aws:s3:::b")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "old-style").await;
    let dest = &d.destinations()[0];
    assert!(dest.s3_destination_description().is_some());
    assert!(dest.extended_s3_destination_description().is_some());
}

#[tokio::test]
async fn creating_becomes_active_after_the_delay() {
    let emulator = start(Settings {
        create_delay: Duration::from_secs(60),
        ..Settings::default()
    })
    .await;
    let client = firehose(&emulator);
    create_s3(&client, "slow", s3_dest("b").build().unwrap()).await;
    let d = delivery_stream(&client, "slow").await;
    assert_eq!(d.delivery_stream_status(), &DeliveryStreamStatus::Creating);
    let (code, _) = err(client
        .put_record()
        .delivery_stream_name("slow")
        .record(Record::builder().data(Blob::new("x")).build().unwrap())
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = err(client
        .delete_delivery_stream()
        .delivery_stream_name("slow")
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    emulator.clock().advance(Duration::from_secs(61));
    let d = delivery_stream(&client, "slow").await;
    assert_eq!(d.delivery_stream_status(), &DeliveryStreamStatus::Active);
}

#[tokio::test]
async fn deleting_then_gone_after_the_delay() {
    let emulator = start(Settings {
        delete_delay: Duration::from_secs(60),
        ..Settings::default()
    })
    .await;
    let client = firehose(&emulator);
    create_s3(&client, "doomed", s3_dest("b").build().unwrap()).await;
    client
        .delete_delivery_stream()
        .delivery_stream_name("doomed")
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "doomed").await;
    assert_eq!(d.delivery_stream_status(), &DeliveryStreamStatus::Deleting);
    emulator.clock().advance(Duration::from_secs(61));
    let (code, message) = err(client
        .describe_delivery_stream()
        .delivery_stream_name("doomed")
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Firehose doomed under account 000000000000 not found."
    );
}

#[tokio::test]
async fn missing_and_duplicate_streams() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    let (code, message) = err(client
        .describe_delivery_stream()
        .delivery_stream_name("nope")
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Firehose nope under account 000000000000 not found."
    );
    create_s3(&client, "twice", s3_dest("b").build().unwrap()).await;
    let (code, message) = err(client
        .create_delivery_stream()
        .delivery_stream_name("twice")
        .extended_s3_destination_configuration(s3_dest("b").build().unwrap())
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        message,
        "Firehose twice under accountId 000000000000 already exists"
    );
}

#[tokio::test]
async fn create_validation_errors() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    let long_name = "n".repeat(65);
    let hints = |size, interval| {
        BufferingHints::builder()
            .size_in_mbs(size)
            .interval_in_seconds(interval)
            .build()
    };
    let cases: Vec<(&str, ExtendedS3DestinationConfiguration, &str, &str)> = vec![
        (
            "bad name",
            s3_dest("b").build().unwrap(),
            "ValidationException",
            "1 validation error detected: Value 'bad name' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            &long_name,
            s3_dest("b").build().unwrap(),
            "ValidationException",
            "Member must have length less than or equal to 64",
        ),
        (
            "size",
            s3_dest("b")
                .buffering_hints(hints(129, 60))
                .build()
                .unwrap(),
            "ValidationException",
            "1 validation error detected: Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128",
        ),
        (
            "interval",
            s3_dest("b").buffering_hints(hints(1, 901)).build().unwrap(),
            "ValidationException",
            "Value '901' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900",
        ),
        (
            "compression",
            s3_dest("b")
                .compression_format(CompressionFormat::from("LZ4"))
                .build()
                .unwrap(),
            "ValidationException",
            "Value 'LZ4' at 'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]",
        ),
        (
            "role",
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("not-a-role")
                .bucket_arn("arn:aws:s3:::b")
                .build()
                .unwrap(),
            "ValidationException",
            "at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
        ),
        (
            "bucket",
            ExtendedS3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn("bucket")
                .build()
                .unwrap(),
            "ValidationException",
            "Value 'bucket' at 'extendedS3DestinationConfiguration.bucketARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}",
        ),
        (
            "expressions",
            s3_dest("b")
                .prefix("data/!{timestamp:yyyy}/")
                .build()
                .unwrap(),
            "InvalidArgumentException",
            "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.",
        ),
        (
            "error-type-in-prefix",
            s3_dest("b")
                .prefix("!{firehose:error-output-type}/")
                .error_output_prefix("e/")
                .build()
                .unwrap(),
            "InvalidArgumentException",
            "The expression !{firehose:error-output-type} is not supported in the Prefix.",
        ),
    ];
    for (name, dest, code, message) in cases {
        let (got_code, got_message) = err(client
            .create_delivery_stream()
            .delivery_stream_name(name)
            .extended_s3_destination_configuration(dest)
            .send()
            .await);
        assert_eq!(got_code, code, "{name}");
        assert!(
            got_message.contains(message),
            "{name}: {got_message:?} should contain {message:?}"
        );
    }
    let (code, message) = err(client
        .create_delivery_stream()
        .delivery_stream_name("nowhere")
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert_eq!(
        message,
        "Exactly one destination configuration must be specified."
    );
}

#[tokio::test]
async fn list_pages_and_filters_by_type() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    for name in ["a", "b", "c"] {
        create_s3(&client, name, s3_dest("b").build().unwrap()).await;
    }
    let page = client
        .list_delivery_streams()
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.delivery_stream_names(), ["a", "b"]);
    assert!(page.has_more_delivery_streams());
    let page = client
        .list_delivery_streams()
        .exclusive_start_delivery_stream_name("b")
        .send()
        .await
        .unwrap();
    assert_eq!(page.delivery_stream_names(), ["c"]);
    assert!(!page.has_more_delivery_streams());
    let page = client
        .list_delivery_streams()
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .send()
        .await
        .unwrap();
    assert!(page.delivery_stream_names().is_empty());
    let other_region = firehose_in(&emulator, "eu-west-1")
        .list_delivery_streams()
        .send()
        .await
        .unwrap();
    assert!(other_region.delivery_stream_names().is_empty());
    let (code, _) = err(client.list_delivery_streams().limit(0).send().await);
    assert_eq!(code, "ValidationException");
}

#[tokio::test]
async fn update_destination_checks_the_version_id() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    create_s3(&client, "upd", s3_dest("b").build().unwrap()).await;
    client
        .update_destination()
        .delivery_stream_name("upd")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .prefix("v2/")
                .compression_format(CompressionFormat::Snappy)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "upd").await;
    assert_eq!(d.version_id(), "2");
    assert!(d.last_update_timestamp().is_some());
    let ext = d.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(ext.prefix(), Some("v2/"));
    assert_eq!(ext.compression_format(), &CompressionFormat::Snappy);
    assert_eq!(ext.bucket_arn(), "arn:aws:s3:::b");

    let (code, _) = err(client
        .update_destination()
        .delivery_stream_name("upd")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("x/").build())
        .send()
        .await);
    assert_eq!(code, "ConcurrentModificationException");
    let (code, _) = err(client
        .update_destination()
        .delivery_stream_name("upd")
        .current_delivery_stream_version_id("2")
        .destination_id("destinationId-000000000002")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("x/").build())
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
}

#[tokio::test]
async fn update_destination_switches_to_an_http_endpoint() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    create_s3(&client, "switch", s3_dest("b").build().unwrap()).await;
    client
        .update_destination()
        .delivery_stream_name("switch")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .http_endpoint_destination_update(
            aws_sdk_firehose::types::HttpEndpointDestinationUpdate::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("https://example.com/in")
                        .access_key("secret-key")
                        .build()
                        .unwrap(),
                )
                .s3_update(
                    aws_sdk_firehose::types::S3DestinationUpdate::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::backup")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "switch").await;
    let dest = &d.destinations()[0];
    assert!(dest.extended_s3_destination_description().is_none());
    let http = dest.http_endpoint_destination_description().unwrap();
    assert_eq!(
        http.endpoint_configuration().and_then(|e| e.url()),
        Some("https://example.com/in")
    );
    assert_eq!(
        http.s3_destination_description().map(|s| s.bucket_arn()),
        Some("arn:aws:s3:::backup")
    );
    assert_eq!(
        http.s3_backup_mode().map(|m| m.as_str()),
        Some("FailedDataOnly")
    );
}

fn records(n: usize, size: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::builder()
                .data(Blob::new(vec![b'a' + (i % 26) as u8; size]))
                .build()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn put_record_batch_limits() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    create_s3(&client, "limits", s3_dest("b").build().unwrap()).await;
    let (code, message) = err(client
        .put_record_batch()
        .delivery_stream_name("limits")
        .set_records(Some(records(501, 1)))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '[...]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"
    );
    let (code, message) = err(client
        .put_record_batch()
        .delivery_stream_name("limits")
        .set_records(Some(records(1, 1_024_001)))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"
    );
    let (code, _) = err(client
        .put_record_batch()
        .delivery_stream_name("limits")
        .set_records(Some(records(5, 1_000_000)))
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    let out = client
        .put_record_batch()
        .delivery_stream_name("limits")
        .set_records(Some(records(500, 10)))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_put_count(), 0);
    let ids: std::collections::HashSet<_> = out
        .request_responses()
        .iter()
        .map(|r| r.record_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 500);
}

#[tokio::test]
async fn put_record_batch_reports_throttled_records_one_by_one() {
    let emulator = start_default().await;
    // Outside the three largest regions the quota is 1 MiB/s per delivery stream.
    let client = firehose_in(&emulator, "eu-central-1");
    create_s3(&client, "quota", s3_dest("b").build().unwrap()).await;
    let out = client
        .put_record_batch()
        .delivery_stream_name("quota")
        .set_records(Some(records(3, 400 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_put_count(), 1);
    let r = out.request_responses();
    assert!(r[0].record_id().is_some() && r[1].record_id().is_some());
    assert_eq!(r[2].record_id(), None);
    assert_eq!(r[2].error_code(), Some("ServiceUnavailableException"));
    assert_eq!(r[2].error_message(), Some("Slow down."));
}

#[tokio::test]
async fn encryption_starts_and_stops() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    create_s3(&client, "sse", s3_dest("b").build().unwrap()).await;
    client
        .start_delivery_stream_encryption()
        .delivery_stream_name("sse")
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::AwsOwnedCmk)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "sse").await;
    let e = d.delivery_stream_encryption_configuration().unwrap();
    assert_eq!(e.status().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(e.key_type(), Some(&KeyType::AwsOwnedCmk));
    let put = client
        .put_record()
        .delivery_stream_name("sse")
        .record(Record::builder().data(Blob::new("x")).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.encrypted(), Some(true));
    let (code, _) = err(client
        .start_delivery_stream_encryption()
        .delivery_stream_name("sse")
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::CustomerManagedCmk)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    client
        .stop_delivery_stream_encryption()
        .delivery_stream_name("sse")
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "sse").await;
    assert_eq!(
        d.delivery_stream_encryption_configuration()
            .and_then(|e| e.status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
}

#[tokio::test]
async fn encryption_goes_through_enabling_with_a_delay() {
    let emulator = start(Settings {
        create_delay: Duration::from_secs(60),
        ..Settings::default()
    })
    .await;
    let client = firehose(&emulator);
    client
        .create_delivery_stream()
        .delivery_stream_name("sse")
        .extended_s3_destination_configuration(s3_dest("b").build().unwrap())
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::AwsOwnedCmk)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let status = |d: aws_sdk_firehose::types::DeliveryStreamDescription| {
        d.delivery_stream_encryption_configuration()
            .and_then(|e| e.status())
            .map(|s| s.as_str().to_owned())
    };
    assert_eq!(
        status(delivery_stream(&client, "sse").await).as_deref(),
        Some("ENABLING")
    );
    emulator.clock().advance(Duration::from_secs(61));
    assert_eq!(
        status(delivery_stream(&client, "sse").await).as_deref(),
        Some("ENABLED")
    );
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    client
        .create_delivery_stream()
        .delivery_stream_name("tagged")
        .extended_s3_destination_configuration(s3_dest("b").build().unwrap())
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .unwrap();
    client
        .tag_delivery_stream()
        .delivery_stream_name("tagged")
        .tags(Tag::builder().key("env").value("test").build().unwrap())
        .tags(Tag::builder().key("team").value("ops").build().unwrap())
        .send()
        .await
        .unwrap();
    let page = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("tagged")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.tags().len(), 1);
    assert_eq!(page.tags()[0].key(), "env");
    assert!(page.has_more_tags());
    let rest = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("tagged")
        .exclusive_start_tag_key("env")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.tags()[0].key(), "team");
    assert_eq!(rest.tags()[0].value(), Some("ops"));
    assert!(!rest.has_more_tags());
    client
        .untag_delivery_stream()
        .delivery_stream_name("tagged")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let all = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(all.tags().len(), 1);

    let many: Vec<Tag> = (0..50)
        .map(|i| {
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap()
        })
        .collect();
    let (code, _) = err(client
        .tag_delivery_stream()
        .delivery_stream_name("tagged")
        .set_tags(Some(many))
        .send()
        .await);
    assert_eq!(code, "LimitExceededException");
    let (code, message) = err(client
        .tag_delivery_stream()
        .delivery_stream_name("tagged")
        .tags(Tag::builder().key("bad;key").build().unwrap())
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("at 'tags.1.member.key'"), "{message}");
}

#[tokio::test]
async fn kinesis_source_refuses_direct_puts_and_needs_its_stream() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    let source = |arn: &str| {
        KinesisStreamSourceConfiguration::builder()
            .kinesis_stream_arn(arn)
            .role_arn(ROLE)
            .build()
            .unwrap()
    };
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/src";
    let (code, _) = err(client
        .create_delivery_stream()
        .delivery_stream_name("from-kinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(source(arn))
        .extended_s3_destination_configuration(s3_dest("b").build().unwrap())
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    let kinesis = support::emulator::kinesis(&emulator);
    kinesis
        .create_stream()
        .stream_name("src")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    client
        .create_delivery_stream()
        .delivery_stream_name("from-kinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(source(arn))
        .extended_s3_destination_configuration(s3_dest("b").build().unwrap())
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "from-kinesis").await;
    assert_eq!(
        d.delivery_stream_type(),
        &DeliveryStreamType::KinesisStreamAsSource
    );
    let src = d
        .source()
        .unwrap()
        .kinesis_stream_source_description()
        .unwrap();
    assert_eq!(src.kinesis_stream_arn(), Some(arn));
    assert!(src.delivery_start_timestamp().is_some());
    let (code, message) = err(client
        .put_record()
        .delivery_stream_name("from-kinesis")
        .record(Record::builder().data(Blob::new("x")).build().unwrap())
        .send()
        .await);
    assert_eq!(code, "InvalidArgumentException");
    assert_eq!(
        message,
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    );
}

#[tokio::test]
async fn http_endpoint_destination_is_described_without_its_access_key() {
    let emulator = start_default().await;
    let client = firehose(&emulator);
    client
        .create_delivery_stream()
        .delivery_stream_name("web")
        .http_endpoint_destination_configuration(
            HttpEndpointDestinationConfiguration::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("https://example.com/in")
                        .name("example")
                        .access_key("secret-key")
                        .build()
                        .unwrap(),
                )
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::backup")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let d = delivery_stream(&client, "web").await;
    let http = d.destinations()[0]
        .http_endpoint_destination_description()
        .unwrap();
    let endpoint = http.endpoint_configuration().unwrap();
    assert_eq!(endpoint.url(), Some("https://example.com/in"));
    assert_eq!(endpoint.name(), Some("example"));
    assert_eq!(
        http.retry_options().and_then(|r| r.duration_in_seconds()),
        Some(300)
    );
    let (code, message) = err(client
        .create_delivery_stream()
        .delivery_stream_name("plain-http")
        .http_endpoint_destination_configuration(
            HttpEndpointDestinationConfiguration::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("http://example.com/in")
                        .build()
                        .unwrap(),
                )
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::backup")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Member must satisfy regular expression pattern: https://.*"));
}

#[tokio::test]
async fn cbor_requests_are_answered_in_cbor() {
    let emulator = start_default().await;
    let body = [0xa1u8, 0x65]
        .iter()
        .copied()
        .chain(*b"Limit")
        .chain([0x05])
        .collect::<Vec<u8>>();
    let response = post(
        &emulator,
        &[
            ("Content-Type", "application/x-amz-cbor-1.1"),
            ("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams"),
        ],
        &body,
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/x-amz-cbor-1.1")
    );
}

#[tokio::test]
async fn unknown_operations_and_malformed_bodies() {
    let emulator = start_default().await;
    let response = post(
        &emulator,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Firehose_20150804.DescribeDeliveryStream"),
        ],
        b"{\"DeliveryStreamName\": 5",
    )
    .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["__type"], "SerializationException");
    let response = post(
        &emulator,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Firehose_20150804.Nope"),
        ],
        b"{}",
    )
    .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["__type"], "UnknownOperationException");
}

// ---- Delivery -------------------------------------------------------------------------------

/// An S3 client (path style) without retries.
fn s3(emulator: &Emulator) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {e:?}"));
}

/// Every object under `prefix` in `bucket`: (key, body), in key order.
async fn objects(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let list = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListObjectsV2 {bucket}: {e:?}"));
    let mut out = Vec::new();
    for o in list.contents() {
        let key = o.key().unwrap().to_owned();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        out.push((key, body));
    }
    out
}

/// Waits (up to 10 s) until `bucket` holds at least `n` objects under `prefix`.
async fn wait_for_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    n: usize,
) -> Vec<(String, Vec<u8>)> {
    for _ in 0..200 {
        let found = objects(s3, bucket, prefix).await;
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{n} object(s) expected under {bucket}/{prefix}, found {:?}",
        objects(s3, bucket, prefix)
            .await
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    );
}

/// Settings delivering after at most `ms` milliseconds.
fn flushing(ms: u64) -> Settings {
    Settings {
        flush_interval: Some(Duration::from_millis(ms)),
        ..Settings::default()
    }
}

async fn put_all(client: &Client, name: &str, payloads: &[&[u8]]) {
    let out = client
        .put_record_batch()
        .delivery_stream_name(name)
        .set_records(Some(
            payloads
                .iter()
                .map(|p| {
                    Record::builder()
                        .data(Blob::new(p.to_vec()))
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_put_count(), 0);
}

const UUID: &str = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

#[tokio::test]
async fn records_are_delivered_byte_for_byte_under_aws_key_format() {
    let emulator = start(flushing(200)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3, "lake").await;
    create_s3(
        &client,
        "events",
        s3_dest("lake").prefix("raw/").build().unwrap(),
    )
    .await;
    let payloads: [&[u8]; 3] = [b"{\"a\":1}", b"\x00\xff binary \r\n", b"no newline added"];
    put_all(&client, "events", &payloads).await;
    let found = wait_for_objects(&s3, "lake", "raw/", 1).await;
    assert_eq!(found.len(), 1);
    let (key, body) = &found[0];
    assert_eq!(body, &payloads.concat());
    let re = regex_lite::Regex::new(&format!(
        r"^raw/(\d{{4}})/(\d{{2}})/(\d{{2}})/(\d{{2}})/events-1-(\d{{4}})-(\d{{2}})-(\d{{2}})-(\d{{2}})-\d{{2}}-\d{{2}}-{UUID}$"
    ))
    .unwrap();
    let caps = re
        .captures(key)
        .unwrap_or_else(|| panic!("unexpected key {key}"));
    for i in 1..=4 {
        assert_eq!(&caps[i], &caps[i + 4], "{key}");
    }
}

#[tokio::test]
async fn compressed_deliveries_decompress_to_the_records() {
    use std::io::Read;
    let emulator = start(flushing(200)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3, "packed").await;
    let payloads: [&[u8]; 3] = [b"first,", &[b'x'; 70_000], b",last"];
    let expected = payloads.concat();
    let cases: [(CompressionFormat, &str, &str); 4] = [
        (CompressionFormat::Gzip, "gzip/", ".gz"),
        (CompressionFormat::Zip, "zip/", ".zip"),
        (CompressionFormat::Snappy, "snappy/", ".snappy"),
        (CompressionFormat::HadoopSnappy, "hadoop/", ".snappy"),
    ];
    for (i, (format, prefix, _)) in cases.iter().enumerate() {
        let name = format!("c{i}");
        create_s3(
            &client,
            &name,
            s3_dest("packed")
                .prefix(*prefix)
                .compression_format(format.clone())
                .build()
                .unwrap(),
        )
        .await;
        put_all(&client, &name, &payloads).await;
    }
    for (format, prefix, extension) in cases {
        let found = wait_for_objects(&s3, "packed", prefix, 1).await;
        let (key, body) = &found[0];
        assert!(key.ends_with(extension), "{key}");
        let mut out = Vec::new();
        match format {
            CompressionFormat::Gzip => {
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            CompressionFormat::Zip => {
                let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body.clone())).unwrap();
                assert_eq!(archive.len(), 1);
                archive.by_index(0).unwrap().read_to_end(&mut out).unwrap();
            }
            CompressionFormat::Snappy => {
                snap::read::FrameDecoder::new(&body[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            _ => {
                let mut rest = &body[..];
                while !rest.is_empty() {
                    let raw = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                    let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
                    let block = snap::raw::Decoder::new()
                        .decompress_vec(&rest[8..8 + len])
                        .unwrap();
                    assert_eq!(block.len(), raw);
                    out.extend_from_slice(&block);
                    rest = &rest[8 + len..];
                }
            }
        }
        assert_eq!(out, expected, "{key}");
    }
}

#[tokio::test]
async fn prefix_expressions_are_evaluated() {
    let emulator = start(flushing(200)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3, "parts").await;
    create_s3(
        &client,
        "expr",
        s3_dest("parts")
            .prefix("year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}/")
            .error_output_prefix("errors/!{firehose:error-output-type}/")
            .file_extension(".json")
            .build()
            .unwrap(),
    )
    .await;
    put_all(&client, "expr", &[b"x"]).await;
    let found = wait_for_objects(&s3, "parts", "year=", 1).await;
    let re = regex_lite::Regex::new(&format!(
        r"^year=\d{{4}}/month=\d{{2}}/[a-z0-9]{{11}}/expr-1-\d{{4}}(-\d{{2}}){{5}}-{UUID}\.json$"
    ))
    .unwrap();
    assert!(re.is_match(&found[0].0), "{}", found[0].0);
}

#[tokio::test]
async fn a_full_buffer_is_delivered_before_its_interval() {
    // No flush interval: the configured 900 s would hold the records; the size hint must not.
    let emulator = start_default().await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3, "sized").await;
    create_s3(
        &client,
        "sized",
        s3_dest("sized")
            .buffering_hints(
                BufferingHints::builder()
                    .size_in_mbs(1)
                    .interval_in_seconds(900)
                    .build(),
            )
            .build()
            .unwrap(),
    )
    .await;
    let record = vec![b'r'; 100_000];
    for _ in 0..11 {
        put_all(&client, "sized", &[&record]).await;
    }
    let found = wait_for_objects(&s3, "sized", "", 1).await;
    assert_eq!(found.len(), 1);
    // Ten 100,000-byte records fit in 1 MiB; the eleventh waits for the next batch.
    assert_eq!(found[0].1.len(), 1_000_000);
}

#[tokio::test]
async fn the_flush_interval_caps_the_buffering_interval_but_not_what_is_reported() {
    let emulator = start(flushing(300)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3, "quick").await;
    create_s3(
        &client,
        "quick",
        s3_dest("quick")
            .buffering_hints(BufferingHints::builder().interval_in_seconds(900).build())
            .build()
            .unwrap(),
    )
    .await;
    put_all(&client, "quick", &[b"soon"]).await;
    let found = wait_for_objects(&s3, "quick", "", 1).await;
    assert_eq!(found[0].1, b"soon");
    let d = delivery_stream(&client, "quick").await;
    let hints = d.destinations()[0]
        .extended_s3_destination_description()
        .unwrap()
        .buffering_hints()
        .unwrap();
    assert_eq!(hints.interval_in_seconds(), Some(900));
}

/// As AWS documents for a DirectPut stream: a batch that cannot be written to S3 for 24
/// hours is given up (its records are lost); records that arrive later are delivered.
#[tokio::test]
async fn a_direct_put_batch_failing_for_24_hours_is_given_up() {
    let emulator = start(flushing(50)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_s3(&client, "doomed", s3_dest("gone").build().unwrap()).await;
    put_all(&client, "doomed", &[b"lost"]).await;
    // Attempts fail while the bucket is missing; a day later the batch is given up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    emulator.clock().advance(Duration::from_secs(24 * 3600 + 1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_bucket(&s3, "gone").await;
    put_all(&client, "doomed", &[b"kept"]).await;
    let found = wait_for_objects(&s3, "gone", "", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bodies: Vec<Vec<u8>> = objects(&s3, "gone", "")
        .await
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    assert_eq!(bodies, [b"kept".to_vec()], "{found:?}");
}

#[tokio::test]
async fn records_wait_for_a_missing_bucket_and_arrive_once_it_exists() {
    let emulator = start(flushing(100)).await;
    let (client, s3) = (firehose(&emulator), s3(&emulator));
    create_s3(&client, "patient", s3_dest("later").build().unwrap()).await;
    put_all(&client, "patient", &[b"one,", b"two,"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    put_all(&client, "patient", &[b"three"]).await;
    create_bucket(&s3, "later").await;
    wait_for_objects(&s3, "later", "", 1).await;
    // Give a second batch the time it would need to appear; everything arrives exactly once.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let found = objects(&s3, "later", "").await;
    // The batch attempted while the bucket was missing is delivered as it was formed (the
    // record put afterwards follows in a batch of its own, or joins it if no attempt was made
    // yet): every record once, in order.
    let mut bodies: Vec<Vec<u8>> = found.into_iter().map(|(_, b)| b).collect();
    bodies.sort();
    assert_eq!(bodies.concat(), b"one,two,three");
}

async fn start_in(dir: &std::path::Path, settings: Settings) -> Emulator {
    Emulator::start(Config {
        firehose: settings,
        data_dir: Some(dir.to_owned()),
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

#[tokio::test]
async fn buffered_records_and_settings_survive_a_restart_and_are_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    // First run: AWS's default 300 s interval, so nothing is delivered before the restart.
    let emulator = start_in(dir.path(), Settings::default()).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3c, "kept").await;
    client
        .create_delivery_stream()
        .delivery_stream_name("kept")
        .extended_s3_destination_configuration(s3_dest("kept").prefix("p/").build().unwrap())
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    put_all(&client, "kept", &[b"alpha,", b"beta,"]).await;
    put_all(&client, "kept", &[b"gamma"]).await;
    emulator.shutdown().await;

    let emulator = start_in(dir.path(), flushing(100)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    let d = delivery_stream(&client, "kept").await;
    assert_eq!(d.delivery_stream_status(), &DeliveryStreamStatus::Active);
    let tags = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    wait_for_objects(&s3c, "kept", "p/", 1).await;
    put_all(&client, "kept", &[b"delta"]).await;
    wait_for_objects(&s3c, "kept", "p/", 2).await;
    emulator.shutdown().await;

    // A third run delivers nothing again and keeps both objects.
    let emulator = start_in(dir.path(), flushing(100)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let found = objects(&s3(&emulator), "kept", "p/").await;
    let mut bodies: Vec<Vec<u8>> = found.into_iter().map(|(_, b)| b).collect();
    bodies.sort();
    assert_eq!(bodies, [b"alpha,beta,gamma".to_vec(), b"delta".to_vec()]);
    emulator.shutdown().await;
}

// ---- Kinesis stream as source ------------------------------------------------------------------

/// Creates a KinesisStreamAsSource delivery stream `name` reading `stream` into `bucket`.
async fn create_from_kinesis(client: &Client, name: &str, stream: &str, bucket: &str) {
    client
        .create_delivery_stream()
        .delivery_stream_name(name)
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn(format!(
                    "arn:aws:kinesis:us-east-1:000000000000:stream/{stream}"
                ))
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .extended_s3_destination_configuration(s3_dest(bucket).build().unwrap())
        .send()
        .await
        .unwrap();
}

async fn put_kinesis(kinesis: &aws_sdk_kinesis::Client, stream: &str, key: &str, data: &str) {
    kinesis
        .put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(aws_sdk_kinesis::primitives::Blob::new(data))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn kinesis_source_delivers_from_latest_at_creation() {
    let emulator = start(flushing(300)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    let kinesis = support::emulator::kinesis(&emulator);
    create_bucket(&s3c, "from-stream").await;
    kinesis
        .create_stream()
        .stream_name("clicks")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    put_kinesis(&kinesis, "clicks", "a", "before;").await;
    create_from_kinesis(&client, "clicks-to-s3", "clicks", "from-stream").await;
    for i in 0..6 {
        put_kinesis(
            &kinesis,
            "clicks",
            &format!("key{i}"),
            &format!("after{i};"),
        )
        .await;
    }
    wait_for_objects(&s3c, "from-stream", "", 1).await;
    // Let a second batch (records read in a later poll) arrive too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let found = objects(&s3c, "from-stream", "").await;
    let mut records: Vec<String> = found
        .iter()
        .flat_map(|(_, b)| {
            String::from_utf8(b.clone())
                .unwrap()
                .split_terminator(';')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    records.sort();
    assert_eq!(
        records,
        (0..6).map(|i| format!("after{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn kinesis_source_follows_a_reshard_parents_first() {
    let emulator = start(flushing(1000)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    let kinesis = support::emulator::kinesis(&emulator);
    create_bucket(&s3c, "resharded").await;
    kinesis
        .create_stream()
        .stream_name("split-me")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    create_from_kinesis(&client, "follow", "split-me", "resharded").await;
    // The clock stands still while the records are put and read, so they form one batch.
    emulator.clock().freeze();
    for i in 0..3 {
        put_kinesis(&kinesis, "split-me", "same-key", &format!("p{i};")).await;
    }
    kinesis
        .split_shard()
        .stream_name("split-me")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        put_kinesis(&kinesis, "split-me", "same-key", &format!("c{i};")).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    emulator.clock().advance(Duration::from_secs(2));
    let found = wait_for_objects(&s3c, "resharded", "", 1).await;
    assert_eq!(found.len(), 1, "one batch");
    assert_eq!(found[0].1, b"p0;p1;p2;c0;c1;c2;");
}

#[tokio::test]
async fn kinesis_source_checkpoint_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start_in(dir.path(), Settings::default()).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    let kinesis = support::emulator::kinesis(&emulator);
    create_bucket(&s3c, "checkpointed").await;
    kinesis
        .create_stream()
        .stream_name("src")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    create_from_kinesis(&client, "cp", "src", "checkpointed").await;
    put_kinesis(&kinesis, "src", "k", "one;").await;
    put_kinesis(&kinesis, "src", "k", "two;").await;
    // Read into the buffer (the 300 s interval keeps it there), then restart.
    tokio::time::sleep(Duration::from_millis(400)).await;
    emulator.shutdown().await;

    let emulator = start_in(dir.path(), flushing(100)).await;
    let kinesis = support::emulator::kinesis(&emulator);
    put_kinesis(&kinesis, "src", "k", "three;").await;
    let s3c = s3(&emulator);
    wait_for_objects(&s3c, "checkpointed", "", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all: Vec<u8> = objects(&s3c, "checkpointed", "")
        .await
        .into_iter()
        .flat_map(|(_, b)| b)
        .collect();
    let mut records: Vec<&str> = std::str::from_utf8(&all)
        .unwrap()
        .split_terminator(';')
        .collect();
    records.sort();
    assert_eq!(records, ["one", "three", "two"]);
    emulator.shutdown().await;
}

// ---- HTTP endpoint destination -----------------------------------------------------------------

/// A request the test endpoint received.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

/// A tiny HTTP endpoint on a free port answering with `status`: the AWS response shape
/// (`requestId` echoed) when 200. Returns its URL and what it received.
async fn endpoint(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ingest", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let log = log.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.unwrap().to_bytes().to_vec();
                            let id = parts
                                .headers
                                .get("x-amz-firehose-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            log.lock().unwrap().push(Received {
                                path: parts.uri.path().to_owned(),
                                headers: parts.headers,
                                body,
                            });
                            let answer =
                                serde_json::json!({"requestId": id, "timestamp": 1}).to_string();
                            Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(http_body_util::Full::new(bytes::Bytes::from(answer)))
                                    .unwrap(),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (url, seen)
}

/// Creates an HTTP endpoint delivery stream backed up to bucket `backup`.
async fn create_http(
    client: &Client,
    name: &str,
    url: &str,
    backup: &str,
    configure: impl FnOnce(
        aws_sdk_firehose::types::builders::HttpEndpointDestinationConfigurationBuilder,
    ) -> aws_sdk_firehose::types::builders::HttpEndpointDestinationConfigurationBuilder,
) {
    let builder = HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url(url)
                .name("test endpoint")
                .access_key("the-access-key")
                .build()
                .unwrap(),
        )
        .s3_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn(format!("arn:aws:s3:::{backup}"))
                .build()
                .unwrap(),
        );
    client
        .create_delivery_stream()
        .delivery_stream_name(name)
        .http_endpoint_destination_configuration(configure(builder).build())
        .send()
        .await
        .unwrap();
}

async fn wait_for_requests(seen: &std::sync::Mutex<Vec<Received>>, n: usize) -> Vec<Received> {
    for _ in 0..200 {
        let got = seen.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} request(s) expected at the endpoint");
}

fn decoded_records(envelope: &serde_json::Value) -> Vec<Vec<u8>> {
    use base64::Engine;
    envelope["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            base64::engine::general_purpose::STANDARD
                .decode(r["data"].as_str().unwrap())
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn http_endpoint_receives_aws_request_envelope() {
    let emulator = start(flushing(100)).await;
    let client = firehose(&emulator);
    let (url, seen) = endpoint(200).await;
    create_http(&client, "to-web", &url, "unused", |b| {
        b.request_configuration(
            aws_sdk_firehose::types::HttpEndpointRequestConfiguration::builder()
                .common_attributes(
                    aws_sdk_firehose::types::HttpEndpointCommonAttribute::builder()
                        .attribute_name("env")
                        .attribute_value("test")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
    })
    .await;
    put_all(&client, "to-web", &[b"{\"n\":1}", b"\x00raw\xff"]).await;
    let got = wait_for_requests(&seen, 1).await;
    let r = &got[0];
    assert_eq!(r.path, "/ingest");
    let header = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-amz-firehose-access-key"), "the-access-key");
    assert_eq!(header("x-amz-firehose-protocol-version"), "1.0");
    assert_eq!(
        header("x-amz-firehose-source-arn"),
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/to-web"
    );
    let attributes: serde_json::Value =
        serde_json::from_str(header("x-amz-firehose-common-attributes")).unwrap();
    assert_eq!(
        attributes,
        serde_json::json!({"commonAttributes": {"env": "test"}})
    );
    let envelope: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(envelope["requestId"], header("x-amz-firehose-request-id"));
    assert!(envelope["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(
        decoded_records(&envelope),
        [b"{\"n\":1}".to_vec(), b"\x00raw\xff".to_vec()]
    );
    // Delivered once: no further request for the same batch.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn http_endpoint_requests_can_be_gzip_encoded() {
    use std::io::Read;
    let emulator = start(flushing(100)).await;
    let client = firehose(&emulator);
    let (url, seen) = endpoint(200).await;
    create_http(&client, "gz-web", &url, "unused", |b| {
        b.request_configuration(
            aws_sdk_firehose::types::HttpEndpointRequestConfiguration::builder()
                .content_encoding(aws_sdk_firehose::types::ContentEncoding::Gzip)
                .build(),
        )
    })
    .await;
    put_all(&client, "gz-web", &[b"zipped"]).await;
    let got = wait_for_requests(&seen, 1).await;
    assert_eq!(
        got[0].headers.get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&got[0].body[..])
        .read_to_end(&mut json)
        .unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(decoded_records(&envelope), [b"zipped".to_vec()]);
}

#[tokio::test]
async fn a_failing_endpoint_sends_the_batch_to_the_s3_backup() {
    let emulator = start(flushing(100)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3c, "backup").await;
    let (url, seen) = endpoint(500).await;
    create_http(&client, "down", &url, "backup", |b| {
        b.retry_options(
            aws_sdk_firehose::types::HttpEndpointRetryOptions::builder()
                .duration_in_seconds(1)
                .build(),
        )
    })
    .await;
    put_all(&client, "down", &[b"lost?", b" no"]).await;
    let found = wait_for_objects(&s3c, "backup", "http-endpoint-failed/", 1).await;
    assert_eq!(found[0].1, b"lost? no");
    assert!(
        seen.lock().unwrap().len() >= 2,
        "the endpoint was retried before giving up"
    );
    let re = regex_lite::Regex::new(&format!(
        r"^http-endpoint-failed/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/down-1-\d{{4}}(-\d{{2}}){{5}}-{UUID}$"
    ))
    .unwrap();
    assert!(re.is_match(&found[0].0), "{}", found[0].0);
}

#[tokio::test]
async fn all_data_backup_writes_every_batch_to_s3_too() {
    let emulator = start(flushing(100)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3c, "everything").await;
    let (url, seen) = endpoint(200).await;
    create_http(&client, "both", &url, "everything", |b| {
        b.s3_backup_mode(aws_sdk_firehose::types::HttpEndpointS3BackupMode::AllData)
    })
    .await;
    put_all(&client, "both", &[b"copy"]).await;
    wait_for_requests(&seen, 1).await;
    let found = wait_for_objects(&s3c, "everything", "", 1).await;
    assert_eq!(found[0].1, b"copy");
}

#[tokio::test]
async fn kinesis_source_deaggregates_kpl_records() {
    use md5::{Digest, Md5};
    let field = |number: u8, payload: &[u8]| {
        let mut out = vec![(number << 3) | 2, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    };
    let mut message = field(1, b"pk");
    for r in [&b"user-1;"[..], b"user-2;"] {
        let mut sub = vec![0x08, 0x00];
        sub.extend(field(3, r));
        message.extend(field(3, &sub));
    }
    let mut aggregated = vec![0xF3, 0x89, 0x9A, 0xC2];
    aggregated.extend_from_slice(&message);
    aggregated.extend_from_slice(&Md5::digest(&message));

    let emulator = start(flushing(200)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    let kinesis = support::emulator::kinesis(&emulator);
    create_bucket(&s3c, "kpl").await;
    kinesis
        .create_stream()
        .stream_name("kpl-src")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    create_from_kinesis(&client, "kpl", "kpl-src", "kpl").await;
    // The clock stands still while the records are put and read, so they form one batch.
    emulator.clock().freeze();
    kinesis
        .put_record()
        .stream_name("kpl-src")
        .partition_key("pk")
        .data(aws_sdk_kinesis::primitives::Blob::new(aggregated))
        .send()
        .await
        .unwrap();
    put_kinesis(&kinesis, "kpl-src", "pk", "plain;").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    emulator.clock().advance(Duration::from_secs(1));
    let found = wait_for_objects(&s3c, "kpl", "", 1).await;
    assert_eq!(found[0].1, b"user-1;user-2;plain;");
}

#[tokio::test]
async fn objects_name_the_version_after_an_update() {
    let emulator = start(flushing(200)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3c, "versions").await;
    create_s3(
        &client,
        "ver",
        s3_dest("versions").prefix("v1/").build().unwrap(),
    )
    .await;
    client
        .update_destination()
        .delivery_stream_name("ver")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .prefix("v2/")
                .compression_format(CompressionFormat::Gzip)
                .build(),
        )
        .send()
        .await
        .unwrap();
    put_all(&client, "ver", &[b"after the update"]).await;
    let found = wait_for_objects(&s3c, "versions", "v2/", 1).await;
    let re = regex_lite::Regex::new(&format!(
        r"^v2/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/ver-2-\d{{4}}(-\d{{2}}){{5}}-{UUID}\.gz$"
    ))
    .unwrap();
    assert!(re.is_match(&found[0].0), "{}", found[0].0);
}

#[tokio::test]
async fn calls_in_the_wrong_state_or_for_the_wrong_type_are_refused() {
    let emulator = start(Settings {
        create_delay: Duration::from_secs(60),
        ..Settings::default()
    })
    .await;
    let client = firehose(&emulator);
    create_s3(&client, "young", s3_dest("b").build().unwrap()).await;
    let (code, _) = err(client
        .update_destination()
        .delivery_stream_name("young")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("x/").build())
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    let (code, _) = err(client
        .start_delivery_stream_encryption()
        .delivery_stream_name("young")
        .send()
        .await);
    assert_eq!(code, "ResourceInUseException");
    let (code, message) = err(client
        .put_record_batch()
        .delivery_stream_name("young")
        .set_records(Some(records(1, 1)))
        .send()
        .await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Firehose young under account 000000000000 not found."
    );
}

#[tokio::test]
async fn only_a_200_answer_counts_as_delivered() {
    let emulator = start(flushing(100)).await;
    let (client, s3c) = (firehose(&emulator), s3(&emulator));
    create_bucket(&s3c, "not-ok").await;
    let (url, seen) = endpoint(202).await;
    create_http(&client, "accepted", &url, "not-ok", |b| {
        b.retry_options(
            aws_sdk_firehose::types::HttpEndpointRetryOptions::builder()
                .duration_in_seconds(0)
                .build(),
        )
    })
    .await;
    put_all(&client, "accepted", &[b"202 is not 200"]).await;
    let found = wait_for_objects(&s3c, "not-ok", "http-endpoint-failed/", 1).await;
    assert_eq!(found[0].1, b"202 is not 200");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no retry with a zero retry window"
    );
}
