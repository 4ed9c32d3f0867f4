//! Conformance of the emulated S3 with AWS, through the real aws-sdk-s3 client (and raw HTTP
//! where no SDK would send the request): one test per behaviour.

mod support;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use kinesis_operator::emulator::{Config, Emulator};
use md5::{Digest, Md5};
use support::emulator::start_default;

/// An S3 client (path-style) with access key `access_key` in `region`, without retries.
fn s3_as(emulator: &Emulator, access_key: &str, region: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .force_path_style(true)
        .timeout_config(
            aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// An S3 client for account `000000000000` in `us-east-1`.
fn s3(emulator: &Emulator) -> Client {
    s3_as(emulator, "AKIDTEST", "us-east-1")
}

/// The error code, message and HTTP status of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (String, String, u16) {
    let e = r.expect_err("the call should fail");
    let status = e.raw_response().map_or(0, |r| r.status().as_u16());
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
        status,
    )
}

async fn create_bucket(client: &Client, name: &str) {
    client
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

async fn put(client: &Client, bucket: &str, key: &str, body: &[u8]) -> String {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"))
        .e_tag
        .unwrap_or_default()
}

async fn get(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {bucket}/{key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

fn md5_etag(body: &[u8]) -> String {
    let digest = Md5::digest(body);
    format!(
        "\"{}\"",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

async fn list_keys(client: &Client, bucket: &str, prefix: Option<&str>) -> Vec<String> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .set_prefix(prefix.map(str::to_owned))
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key.clone())
        .collect()
}

#[tokio::test]
async fn put_then_get_returns_the_bytes_with_an_md5_etag() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "data").await;
    let body = b"hello, s3".to_vec();
    let etag = put(&client, "data", "dir/greeting.txt", &body).await;
    assert_eq!(etag, md5_etag(&body));
    let got = client
        .get_object()
        .bucket("data")
        .key("dir/greeting.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert_eq!(
        got.content_type(),
        Some("application/octet-stream"),
        "the SDK's default"
    );
    assert!(got.last_modified().is_some());
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        body
    );
}

#[tokio::test]
async fn list_objects_v2_filters_by_prefix_in_key_order() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "list").await;
    for key in ["logs/b", "logs/a", "data/x", "logsz"] {
        put(&client, "list", key, key.as_bytes()).await;
    }
    assert_eq!(
        list_keys(&client, "list", Some("logs/")).await,
        ["logs/a", "logs/b"]
    );
    assert_eq!(
        list_keys(&client, "list", None).await,
        ["data/x", "logs/a", "logs/b", "logsz"]
    );
    let page = client
        .list_objects_v2()
        .bucket("list")
        .send()
        .await
        .unwrap();
    assert_eq!(page.key_count(), Some(4));
    assert_eq!(page.is_truncated(), Some(false));
    let first = &page.contents()[0];
    assert_eq!(first.size(), Some(6));
    assert_eq!(first.e_tag(), Some(md5_etag(b"data/x").as_str()));
    assert!(first.last_modified().is_some());
}

#[tokio::test]
async fn a_missing_bucket_or_key_is_a_404_with_the_s3_code() {
    let emu = start_default().await;
    let client = s3(&emu);
    let (code, message, status) = err(client.get_object().bucket("nope").key("k").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("NoSuchBucket", "The specified bucket does not exist", 404)
    );
    create_bucket(&client, "here").await;
    let (code, message, status) = err(client.get_object().bucket("here").key("k").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("NoSuchKey", "The specified key does not exist.", 404)
    );
    let (code, _, status) = err(client.list_objects_v2().bucket("nope").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

#[tokio::test]
async fn durable_objects_survive_a_restart_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let emu = Emulator::start(config.clone()).await.unwrap();
    let client = s3(&emu);
    create_bucket(&client, "keep").await;
    let etag = put(&client, "keep", "big.bin", &body).await;
    put(&client, "keep", "gone", b"x").await;
    client
        .delete_object()
        .bucket("keep")
        .key("gone")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;

    let emu = Emulator::start(config).await.unwrap();
    let client = s3(&emu);
    assert_eq!(get(&client, "keep", "big.bin").await, body);
    assert_eq!(list_keys(&client, "keep", None).await, ["big.bin"]);
    let head = client
        .head_object()
        .bucket("keep")
        .key("big.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    emu.shutdown().await;
}
