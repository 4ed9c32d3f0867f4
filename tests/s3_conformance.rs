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
use support::emulator::{request, start_default};
use support::process::EmulatorProcess;

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
    assert_eq!(
        first.last_modified().map(|t| t.subsec_nanos()),
        Some(0),
        "S3 keeps times to the second"
    );
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

#[tokio::test]
async fn invalid_bucket_names_are_refused() {
    let emu = start_default().await;
    let client = s3(&emu);
    for name in [
        "ab",
        "UpperCase",
        "under_score",
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.0.1",
        "xn--punycode",
        "name-s3alias",
    ] {
        let (code, message, status) = err(client.create_bucket().bucket(name).send().await);
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            (
                "InvalidBucketName",
                "The specified bucket is not valid.",
                400
            ),
            "{name}"
        );
    }
    let long = "a".repeat(64);
    let answer = request(&emu, "PUT", &format!("/{long}"), &[], b"").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidBucketName"));
    assert_eq!(answer.element("BucketName"), Some(long));
}

#[tokio::test]
async fn recreating_a_bucket_follows_aws_per_region_and_owner() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "mine").await;
    // us-east-1's legacy answer: re-creating your own bucket there succeeds.
    client.create_bucket().bucket("mine").send().await.unwrap();
    let other = s3_as(&emu, "111122223333", "us-east-1");
    let (code, message, status) = err(other.create_bucket().bucket("mine").send().await);
    assert_eq!((code.as_str(), status), ("BucketAlreadyExists", 409));
    assert!(message.starts_with("The requested bucket name is not available."));

    let west = s3_as(&emu, "AKIDTEST", "eu-west-1");
    west.create_bucket()
        .bucket("mine-west")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, message, status) = err(west
        .create_bucket()
        .bucket("mine-west")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            409
        )
    );
}

#[tokio::test]
async fn location_constraints_set_the_bucket_region() {
    let emu = start_default().await;
    let west = s3_as(&emu, "AKIDTEST", "eu-west-1");
    let (code, message, status) = err(west.create_bucket().bucket("no-constraint").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            400
        )
    );
    let client = s3(&emu);
    client
        .create_bucket()
        .bucket("in-west")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    create_bucket(&client, "in-east").await;
    let location = client
        .get_bucket_location()
        .bucket("in-west")
        .send()
        .await
        .unwrap();
    assert_eq!(
        location.location_constraint(),
        Some(&aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
    );
    let east = client
        .get_bucket_location()
        .bucket("in-east")
        .send()
        .await
        .unwrap();
    assert!(
        east.location_constraint()
            .is_none_or(|c| c.as_str().is_empty()),
        "us-east-1 is an empty LocationConstraint: {east:?}"
    );
    let head = client.head_bucket().bucket("in-west").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let (code, message, status) = err(client
        .create_bucket()
        .bucket("east-named")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    "us-east-1",
                ))
                .build(),
        )
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
            400
        )
    );
}

#[tokio::test]
async fn list_buckets_shows_the_callers_buckets_and_owner() {
    let emu = start_default().await;
    let client = s3(&emu);
    let other = s3_as(&emu, "111122223333", "us-east-1");
    create_bucket(&client, "b-two").await;
    create_bucket(&client, "a-one").await;
    create_bucket(&other, "c-theirs").await;
    let mine = client.list_buckets().send().await.unwrap();
    let names: Vec<_> = mine.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["a-one", "b-two"]);
    assert!(mine.buckets()[0].creation_date().is_some());
    assert_eq!(mine.buckets()[0].bucket_region(), Some("us-east-1"));
    let owner = mine.owner().and_then(|o| o.id()).unwrap_or_default();
    assert_eq!(owner.len(), 64, "a canonical user ID: {owner}");
    let theirs = other.list_buckets().send().await.unwrap();
    let names: Vec<_> = theirs.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["c-theirs"]);
    assert_ne!(theirs.owner().and_then(|o| o.id()), Some(owner));
    let page = client.list_buckets().max_buckets(1).send().await.unwrap();
    assert_eq!(page.buckets().len(), 1);
    let rest = client
        .list_buckets()
        .continuation_token(page.continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = rest.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["b-two"]);
}

#[tokio::test]
async fn other_accounts_are_denied_a_bucket() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "private").await;
    put(&client, "private", "k", b"v").await;
    let other = s3_as(&emu, "111122223333", "us-east-1");
    let (code, message, status) = err(other.get_object().bucket("private").key("k").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("AccessDenied", "Access Denied", 403)
    );
    let (_, _, status) = err(other.head_bucket().bucket("private").send().await);
    assert_eq!(status, 403);
    let (code, _, status) = err(client
        .get_object()
        .bucket("private")
        .key("k")
        .expected_bucket_owner("111122223333")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    client
        .get_object()
        .bucket("private")
        .key("k")
        .expected_bucket_owner("000000000000")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_bucket_needs_it_empty() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "full").await;
    put(&client, "full", "k", b"v").await;
    let (code, message, status) = err(client.delete_bucket().bucket("full").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
            409
        )
    );
    client
        .delete_object()
        .bucket("full")
        .key("k")
        .send()
        .await
        .unwrap();
    client.delete_bucket().bucket("full").send().await.unwrap();
    let (code, _, status) = err(client.head_bucket().bucket("full").send().await);
    assert_eq!((code.as_str(), status), ("NotFound", 404));
    let (code, _, status) = err(client.delete_bucket().bucket("full").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

#[tokio::test]
async fn object_headers_and_metadata_round_trip() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "meta").await;
    client
        .put_object()
        .bucket("meta")
        .key("page.html")
        .body(ByteStream::from_static(b"<html/>"))
        .content_type("text/html")
        .content_encoding("identity")
        .content_disposition("attachment; filename=\"page.html\"")
        .content_language("en-GB")
        .cache_control("max-age=60")
        .expires(aws_sdk_s3::primitives::DateTime::from_secs(1_900_000_000))
        .metadata("Owner", "team-a")
        .metadata("purpose", "test page")
        .tagging("env=dev&tier=web")
        .send()
        .await
        .unwrap();
    let head = client
        .head_object()
        .bucket("meta")
        .key("page.html")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/html"));
    assert_eq!(head.content_encoding(), Some("identity"));
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"page.html\"")
    );
    assert_eq!(head.content_language(), Some("en-GB"));
    assert_eq!(head.cache_control(), Some("max-age=60"));
    assert_eq!(head.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    assert_eq!(head.content_length(), Some(7));
    let metadata = head.metadata().unwrap();
    assert_eq!(metadata.get("owner").map(String::as_str), Some("team-a"));
    assert_eq!(
        metadata.get("purpose").map(String::as_str),
        Some("test page")
    );
    assert_eq!(head.tag_count(), Some(2));
    let got = client
        .get_object()
        .bucket("meta")
        .key("page.html")
        .send()
        .await
        .unwrap();
    assert_eq!(got.tag_count(), Some(2));
    assert_eq!(got.accept_ranges(), Some("bytes"));
    assert_eq!(
        got.server_side_encryption(),
        Some(&aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );

    let unicode = client
        .put_object()
        .bucket("meta")
        .key("ünïcödé/ключ")
        .metadata("note", "café ☕")
        .content_disposition("attachment; filename=\"naïve.txt\"")
        .body(ByteStream::from_static(b"u"))
        .send()
        .await
        .unwrap();
    assert!(unicode.e_tag().is_some());
    let head = client
        .head_object()
        .bucket("meta")
        .key("ünïcödé/ключ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.metadata().unwrap().get("note").map(String::as_str),
        Some("café ☕")
    );
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"naïve.txt\"")
    );
}

#[tokio::test]
async fn head_object_answers_headers_only_and_bare_errors() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "heads").await;
    put(&client, "heads", "k", b"0123456789").await;
    let answer = request(&emu, "HEAD", "/heads/k", &[], b"").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-length"), Some("10"));
    assert!(answer.body.is_empty());
    assert!(answer.header("x-amz-request-id").is_some());
    let missing = request(&emu, "HEAD", "/heads/nope", &[], b"").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty(), "HEAD errors have no body");
    let (code, _, status) = err(client
        .head_object()
        .bucket("heads")
        .key("nope")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NotFound", 404));
}

#[tokio::test]
async fn ranges_select_bytes_or_are_refused() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "ranges").await;
    put(&client, "ranges", "k", b"0123456789").await;
    let table: &[(&str, &[u8], &str)] = &[
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ];
    for (range, body, content_range) in table {
        let got = client
            .get_object()
            .bucket("ranges")
            .key("k")
            .range(*range)
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_range(), Some(*content_range), "{range}");
        assert_eq!(got.content_length(), Some(body.len() as i64), "{range}");
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            *body,
            "{range}"
        );
    }
    let partial = request(&emu, "GET", "/ranges/k", &[("Range", "bytes=1-2")], b"").await;
    assert_eq!((partial.status, partial.body.as_slice()), (206, &b"12"[..]));
    let ignored = request(&emu, "GET", "/ranges/k", &[("Range", "bytes=5-1")], b"").await;
    assert_eq!(
        ignored.status, 200,
        "an invalid range is ignored, as S3 does"
    );
    for range in ["bytes=10-", "bytes=20-30", "bytes=-0"] {
        let (code, message, status) = err(client
            .get_object()
            .bucket("ranges")
            .key("k")
            .range(range)
            .send()
            .await);
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            (
                "InvalidRange",
                "The requested range is not satisfiable",
                416
            ),
            "{range}"
        );
    }
}

#[tokio::test]
async fn preconditions_decide_304_412_or_200() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "cond").await;
    let etag = put(&client, "cond", "k", b"body").await;
    let past = "Mon, 01 Jan 2001 00:00:00 GMT";
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";
    let table: &[(&str, &str, u16, Option<&str>)] = &[
        ("if-match", &etag, 200, None),
        ("if-match", "\"0000\"", 412, Some("If-Match")),
        ("if-match", "*", 200, None),
        ("if-none-match", &etag, 304, None),
        ("if-none-match", "\"0000\"", 200, None),
        ("if-modified-since", future, 304, None),
        ("if-modified-since", past, 200, None),
        (
            "if-unmodified-since",
            past,
            412,
            Some("If-Unmodified-Since"),
        ),
        ("if-unmodified-since", future, 200, None),
    ];
    for (header, value, status, condition) in table {
        let answer = request(&emu, "GET", "/cond/k", &[(header, value)], b"").await;
        assert_eq!(answer.status, *status, "{header}: {value}");
        match status {
            412 => {
                assert_eq!(
                    answer.element("Code").as_deref(),
                    Some("PreconditionFailed")
                );
                assert_eq!(
                    answer.element("Message").as_deref(),
                    Some("At least one of the pre-conditions you specified did not hold")
                );
                assert_eq!(answer.element("Condition").as_deref(), *condition);
            }
            304 => {
                assert!(answer.body.is_empty());
                assert_eq!(answer.header("etag"), Some(etag.as_str()));
            }
            _ => assert_eq!(answer.body, b"body"),
        }
    }
    let (code, _, status) = err(client
        .get_object()
        .bucket("cond")
        .key("k")
        .if_match("\"0000\"")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
}

#[tokio::test]
async fn response_overrides_replace_answer_headers() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "over").await;
    put(&client, "over", "k", b"x").await;
    let got = client
        .get_object()
        .bucket("over")
        .key("k")
        .response_content_type("text/plain")
        .response_content_disposition("inline")
        .response_cache_control("no-cache")
        .response_content_language("fr")
        .response_content_encoding("gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.content_disposition(), Some("inline"));
    assert_eq!(got.cache_control(), Some("no-cache"));
    assert_eq!(got.content_language(), Some("fr"));
    assert_eq!(got.content_encoding(), Some("gzip"));
}

#[tokio::test]
async fn conditional_put_refuses_to_overwrite() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "cput").await;
    client
        .put_object()
        .bucket("cput")
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"first"))
        .send()
        .await
        .unwrap();
    let (code, _, status) = err(client
        .put_object()
        .bucket("cput")
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"second"))
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    assert_eq!(get(&client, "cput", "k").await, b"first");
}

#[tokio::test]
async fn delete_object_is_idempotent() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "del").await;
    put(&client, "del", "k", b"v").await;
    for _ in 0..2 {
        let answer = request(&emu, "DELETE", "/del/k", &[], b"").await;
        assert_eq!(answer.status, 204);
    }
    client
        .delete_object()
        .bucket("del")
        .key("never-existed")
        .send()
        .await
        .unwrap();
    assert!(list_keys(&client, "del", None).await.is_empty());
}

#[tokio::test]
async fn delete_objects_reports_each_key_unless_quiet() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "multi").await;
    for key in ["a", "b", "c"] {
        put(&client, "multi", key, b"v").await;
    }
    let ids = |keys: &[&str]| {
        keys.iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
            .collect::<Vec<_>>()
    };
    let out = client
        .delete_objects()
        .bucket("multi")
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["a", "missing"])))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["a", "missing"]);
    assert!(out.errors().is_empty());
    let quiet = client
        .delete_objects()
        .bucket("multi")
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["b"])))
                .quiet(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(quiet.deleted().is_empty());
    assert_eq!(list_keys(&client, "multi", None).await, ["c"]);

    let body = b"<Delete><Object><Key>c</Key></Object></Delete>";
    let answer = request(&emu, "POST", "/multi?delete", &[], body).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidRequest"));
    assert_eq!(
        answer.element("Message").as_deref(),
        Some("Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
    );
    use base64::Engine;
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
    let answer = request(
        &emu,
        "POST",
        "/multi?delete",
        &[("Content-MD5", &md5)],
        body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.element("Key").as_deref(), Some("c"));
}

#[tokio::test]
async fn copy_object_copies_or_replaces_metadata() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "src").await;
    create_bucket(&client, "dst").await;
    client
        .put_object()
        .bucket("src")
        .key("dir/a file+ü.txt")
        .body(ByteStream::from_static(b"copy me"))
        .content_type("text/plain")
        .metadata("color", "blue")
        .tagging("t=1")
        .send()
        .await
        .unwrap();
    let source = "src/dir/a%20file%2B%C3%BC.txt";
    let copied = client
        .copy_object()
        .bucket("dst")
        .key("kept")
        .copy_source(source)
        .send()
        .await
        .unwrap();
    let result = copied.copy_object_result().unwrap();
    assert_eq!(result.e_tag(), Some(md5_etag(b"copy me").as_str()));
    assert!(result.last_modified().is_some());
    let head = client
        .head_object()
        .bucket("dst")
        .key("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata().unwrap().get("color").map(String::as_str),
        Some("blue")
    );
    assert_eq!(head.tag_count(), Some(1));

    client
        .copy_object()
        .bucket("dst")
        .key("replaced")
        .copy_source(source)
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("color", "red")
        .send()
        .await
        .unwrap();
    let head = client
        .head_object()
        .bucket("dst")
        .key("replaced")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.metadata().unwrap().get("color").map(String::as_str),
        Some("red")
    );
    assert_eq!(get(&client, "dst", "replaced").await, b"copy me");

    let (code, message, status) = err(client
        .copy_object()
        .bucket("src")
        .key("dir/a file+ü.txt")
        .copy_source(source)
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("InvalidRequest", 400));
    assert!(message.starts_with("This copy request is illegal"));
    let (code, _, status) = err(client
        .copy_object()
        .bucket("dst")
        .key("x")
        .copy_source(source)
        .copy_source_if_match("\"00000000000000000000000000000000\"")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    let (code, _, status) = err(client
        .copy_object()
        .bucket("dst")
        .key("x")
        .copy_source(source)
        .copy_source_if_none_match(md5_etag(b"copy me"))
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    client
        .copy_object()
        .bucket("dst")
        .key("x")
        .copy_source(source)
        .copy_source_if_match(md5_etag(b"copy me"))
        .send()
        .await
        .unwrap();
    let (code, _, status) = err(client
        .copy_object()
        .bucket("dst")
        .key("x")
        .copy_source("src/missing")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));
    let (code, _, status) = err(client
        .copy_object()
        .bucket("dst")
        .key("x")
        .copy_source("nobucket/missing")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

#[tokio::test]
async fn delimiters_group_keys_into_common_prefixes() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "tree").await;
    for key in ["a/1", "a/2", "b/x/1", "b/y", "c", "d/1"] {
        put(&client, "tree", key, b"").await;
    }
    let page = client
        .list_objects_v2()
        .bucket("tree")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/", "d/"]);
    let keys: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["c"]);
    assert_eq!(page.key_count(), Some(4));
    assert_eq!(page.delimiter(), Some("/"));
    let nested = client
        .list_objects_v2()
        .bucket("tree")
        .prefix("b/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = nested
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["b/x/"]);
    let keys: Vec<_> = nested.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["b/y"]);
}

#[tokio::test]
async fn list_v2_pages_with_continuation_tokens_and_start_after() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "pages").await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let key = format!("k{i}");
        put(&client, "pages", &key, b"").await;
        expected.push(key);
    }
    for dir in ["p/1", "p/2", "q/1"] {
        put(&client, "pages", dir, b"").await;
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket("pages")
            .max_keys(3)
            .delimiter("/")
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(page.key_count().unwrap() <= 3);
        assert_eq!(page.max_keys(), Some(3));
        seen.extend(page.contents().iter().filter_map(|o| o.key.clone()));
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix.clone()),
        );
        if page.is_truncated() != Some(true) {
            assert!(page.next_continuation_token().is_none());
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
        assert!(token.is_some());
    }
    expected.extend(["p/".to_owned(), "q/".to_owned()]);
    seen.sort();
    assert_eq!(seen, expected);
    let after = client
        .list_objects_v2()
        .bucket("pages")
        .start_after("k4")
        .prefix("k")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["k5", "k6"]);
    assert_eq!(after.start_after(), Some("k4"));
    let (code, _, status) = err(client
        .list_objects_v2()
        .bucket("pages")
        .continuation_token("not a token!")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("InvalidArgument", 400));
}

#[tokio::test]
async fn list_v2_url_encoding_and_owner_on_request() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "enc").await;
    put(&client, "enc", "a b&c", b"").await;
    let page = client
        .list_objects_v2()
        .bucket("enc")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    let object = &page.contents()[0];
    assert_eq!(object.key(), Some("a+b%26c"));
    assert_eq!(
        page.encoding_type(),
        Some(&aws_sdk_s3::types::EncodingType::Url)
    );
    assert_eq!(object.owner().and_then(|o| o.id()).map(str::len), Some(64));
    let plain = client.list_objects_v2().bucket("enc").send().await.unwrap();
    assert_eq!(plain.contents()[0].key(), Some("a b&c"));
    assert!(plain.contents()[0].owner().is_none());
    let answer = request(
        &emu,
        "GET",
        "/enc?list-type=2&encoding-type=base64",
        &[],
        b"",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidArgument"));
    let answer = request(&emu, "GET", "/enc?list-type=2&max-keys=-1", &[], b"").await;
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidArgument"));
}

#[tokio::test]
async fn list_objects_v1_pages_with_markers() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "list-v1").await;
    for key in ["a", "b", "c/1", "c/2", "d"] {
        put(&client, "list-v1", key, b"").await;
    }
    let first = client
        .list_objects()
        .bucket("list-v1")
        .max_keys(2)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(first.next_marker(), Some("b"));
    let second = client
        .list_objects()
        .bucket("list-v1")
        .marker("b")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = second
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["c/"]);
    let keys: Vec<_> = second.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["d"]);
    assert_eq!(second.is_truncated(), Some(false));
    assert!(
        second.contents()[0].owner().is_some(),
        "v1 always lists owners"
    );
    let resumed = client
        .list_objects()
        .bucket("list-v1")
        .marker("c/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert!(
        resumed.common_prefixes().is_empty(),
        "c/ is not after itself"
    );
}

#[tokio::test]
async fn object_tagging_put_get_delete() {
    use aws_sdk_s3::types::{Tag, Tagging};
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "tags").await;
    put(&client, "tags", "k", b"v").await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    client
        .put_object_tagging()
        .bucket("tags")
        .key("k")
        .tagging(
            Tagging::builder()
                .tag_set(tag("team", "a&b"))
                .tag_set(tag("env", ""))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = client
        .get_object_tagging()
        .bucket("tags")
        .key("k")
        .send()
        .await
        .unwrap();
    let pairs: Vec<_> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("team", "a&b"), ("env", "")]);
    assert_eq!(
        get(&client, "tags", "k").await,
        b"v",
        "tagging keeps the body"
    );
    client
        .delete_object_tagging()
        .bucket("tags")
        .key("k")
        .send()
        .await
        .unwrap();
    let got = client
        .get_object_tagging()
        .bucket("tags")
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(got.tag_set().is_empty());
    let (code, _, status) = err(client
        .get_object_tagging()
        .bucket("tags")
        .key("nope")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));
    let (code, message, status) = err(client
        .put_object_tagging()
        .bucket("tags")
        .key("k")
        .tagging(
            Tagging::builder()
                .tag_set(tag("dup", "1"))
                .tag_set(tag("dup", "2"))
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
            400
        )
    );
    let eleven: Vec<Tag> = (0..11).map(|i| tag(&format!("k{i}"), "v")).collect();
    let (code, message, status) = err(client
        .put_object_tagging()
        .bucket("tags")
        .key("k")
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(eleven))
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("BadRequest", "Object tags cannot be greater than 10", 400)
    );
}

/// Uploads `parts` as parts 1.. of a new upload of `bucket/key`; the upload ID and the
/// completed-part list.
async fn upload_parts(
    client: &Client,
    bucket: &str,
    key: &str,
    parts: &[&[u8]],
) -> (String, Vec<aws_sdk_s3::types::CompletedPart>) {
    let upload = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type("application/x-test")
        .metadata("stage", "multi")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap().to_owned();
    assert_eq!(upload.bucket(), Some(bucket));
    assert_eq!(upload.key(), Some(key));
    let mut completed = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        let out = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(part.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.e_tag(), Some(md5_etag(part).as_str()));
        completed.push(
            aws_sdk_s3::types::CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    (id, completed)
}

async fn complete(
    client: &Client,
    bucket: &str,
    key: &str,
    id: &str,
    parts: Vec<aws_sdk_s3::types::CompletedPart>,
) -> Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    SdkError<
        aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError,
        aws_sdk_s3::config::http::HttpResponse,
    >,
> {
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
}

#[tokio::test]
async fn multipart_upload_joins_parts_with_the_aws_etag() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "mpu").await;
    let first: Vec<u8> = (0..5 << 20).map(|i: u32| (i % 253) as u8).collect();
    let second = b"the tail".to_vec();
    let (id, parts) = upload_parts(&client, "mpu", "joined", &[&first, &second]).await;

    let listed = client
        .list_parts()
        .bucket("mpu")
        .key("joined")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let sizes: Vec<_> = listed.parts().iter().map(|p| p.size()).collect();
    assert_eq!(sizes, [Some(5 << 20), Some(8)]);
    let uploads = client
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = uploads
        .uploads()
        .iter()
        .filter_map(|u| u.upload_id())
        .collect();
    assert_eq!(ids, [id.as_str()]);

    let done = complete(&client, "mpu", "joined", &id, parts)
        .await
        .unwrap();
    let mut md5s = Md5::digest(&first).to_vec();
    md5s.extend_from_slice(&Md5::digest(&second));
    let expected = format!(
        "\"{}-2\"",
        Md5::digest(&md5s)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(done.e_tag(), Some(expected.as_str()));
    let mut whole = first.clone();
    whole.extend_from_slice(&second);
    assert_eq!(get(&client, "mpu", "joined").await, whole);
    let head = client
        .head_object()
        .bucket("mpu")
        .key("joined")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(
        head.metadata().unwrap().get("stage").map(String::as_str),
        Some("multi")
    );
    let part = client
        .get_object()
        .bucket("mpu")
        .key("joined")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(part.parts_count(), Some(2));
    assert_eq!(
        part.content_range(),
        Some(format!("bytes {}-{}/{}", 5 << 20, (5 << 20) + 7, (5 << 20) + 8).as_str())
    );
    assert_eq!(
        part.body.collect().await.unwrap().into_bytes().as_ref(),
        b"the tail"
    );
    let uploads = client
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "completed uploads are gone");
    let (code, _, status) = err(client
        .list_parts()
        .bucket("mpu")
        .key("joined")
        .upload_id(&id)
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404));
}

#[tokio::test]
async fn completing_checks_part_sizes_etags_and_order() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "checks").await;
    let (id, parts) = upload_parts(&client, "checks", "k", &[b"small", b"parts"]).await;
    let (code, message, status) = err(complete(&client, "checks", "k", &id, parts.clone()).await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size.",
            400
        )
    );
    let wrong = vec![
        aws_sdk_s3::types::CompletedPart::builder()
            .part_number(1)
            .e_tag("\"00000000000000000000000000000000\"")
            .build(),
    ];
    let (code, message, status) = err(complete(&client, "checks", "k", &id, wrong).await);
    assert_eq!((code.as_str(), status), ("InvalidPart", 400));
    assert!(message.starts_with("One or more of the specified parts could not be found."));
    let reversed: Vec<_> = parts.iter().rev().cloned().collect();
    let (code, message, status) = err(complete(&client, "checks", "k", &id, reversed).await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
            400
        )
    );
    let only_last = vec![parts[0].clone()];
    let done = complete(&client, "checks", "k", &id, only_last)
        .await
        .unwrap();
    assert!(done.e_tag().unwrap().ends_with("-1\""));
    assert_eq!(get(&client, "checks", "k").await, b"small");
}

#[tokio::test]
async fn aborted_uploads_are_gone() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "abort").await;
    let (id, _) = upload_parts(&client, "abort", "k", &[b"x"]).await;
    client
        .abort_multipart_upload()
        .bucket("abort")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let (code, message, status) = err(client
        .abort_multipart_upload()
        .bucket("abort")
        .key("k")
        .upload_id(&id)
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            404
        )
    );
    let (code, _, status) = err(client
        .upload_part()
        .bucket("abort")
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404));
}

#[tokio::test]
async fn upload_part_copy_takes_a_range_of_an_object() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "upc").await;
    put(&client, "upc", "source", b"0123456789").await;
    let upload = client
        .create_multipart_upload()
        .bucket("upc")
        .key("dest")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let copied = client
        .upload_part_copy()
        .bucket("upc")
        .key("dest")
        .upload_id(id)
        .part_number(1)
        .copy_source("upc/source")
        .copy_source_range("bytes=2-5")
        .send()
        .await
        .unwrap();
    let etag = copied.copy_part_result().and_then(|r| r.e_tag()).unwrap();
    assert_eq!(etag, md5_etag(b"2345"));
    let parts = vec![
        aws_sdk_s3::types::CompletedPart::builder()
            .part_number(1)
            .e_tag(etag)
            .build(),
    ];
    complete(&client, "upc", "dest", id, parts).await.unwrap();
    assert_eq!(get(&client, "upc", "dest").await, b"2345");
}

#[tokio::test]
async fn the_sdk_default_crc32_is_verified_stored_and_returned() {
    use aws_sdk_s3::types::ChecksumMode;
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "sums").await;
    let body = b"checksummed body";
    let put = client
        .put_object()
        .bucket("sums")
        .key("k")
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap();
    use base64::Engine;
    let crc32 =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes());
    assert_eq!(put.checksum_crc32(), Some(crc32.as_str()));
    let got = client
        .get_object()
        .bucket("sums")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.checksum_crc32(), Some(crc32.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        body
    );
    let head = client
        .head_object()
        .bucket("sums")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), None, "only with x-amz-checksum-mode");

    let (code, message, status) = err(client
        .put_object()
        .bucket("sums")
        .key("bad")
        .body(ByteStream::from_static(body))
        .checksum_crc32("AAAAAA==")
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
            400
        )
    );
    let (code, _, status) = err(client
        .put_object()
        .bucket("sums")
        .key("bad")
        .body(ByteStream::from_static(body))
        .checksum_sha256("short")
        .send()
        .await);
    assert_eq!((code.as_str(), status), ("InvalidRequest", 400));
    let (code, _, _) = err(client.head_object().bucket("sums").key("bad").send().await);
    assert_eq!(code, "NotFound", "refused uploads store nothing");
}

#[tokio::test]
async fn objects_without_a_checksum_get_crc64nvme() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "nvme").await;
    let answer = request(&emu, "PUT", "/nvme/k", &[], b"123456789").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("etag"), Some(md5_etag(b"123456789").as_str()));
    let got = request(
        &emu,
        "GET",
        "/nvme/k",
        &[("x-amz-checksum-mode", "ENABLED")],
        b"",
    )
    .await;
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(0xAE8B_1486_0A79_9888u64.to_be_bytes());
    assert_eq!(
        got.header("x-amz-checksum-crc64nvme"),
        Some(expected.as_str())
    );
    assert_eq!(got.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
}

#[tokio::test]
async fn content_md5_is_verified() {
    use base64::Engine;
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "md5").await;
    let good = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"abc"));
    let answer = request(&emu, "PUT", "/md5/ok", &[("Content-MD5", &good)], b"abc").await;
    assert_eq!(answer.status, 200);
    let answer = request(&emu, "PUT", "/md5/k", &[("Content-MD5", &good)], b"abd").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("BadDigest"));
    assert_eq!(
        answer.element("Message").as_deref(),
        Some("The Content-MD5 you specified did not match what we received.")
    );
    let answer = request(&emu, "PUT", "/md5/k", &[("Content-MD5", "nope")], b"abc").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidDigest"));
    assert_eq!(
        answer.element("Message").as_deref(),
        Some("The Content-MD5 you specified was not valid.")
    );
    let (code, _, _) = err(client.head_object().bucket("md5").key("k").send().await);
    assert_eq!(code, "NotFound");
}

#[tokio::test]
async fn a_payload_hash_that_does_not_match_is_refused() {
    use sha2::Sha256;
    let emu = start_default().await;
    let good: String = Sha256::digest(b"abc")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let answer = request(&emu, "PUT", "/sha", &[], b"").await;
    assert_eq!(answer.status, 200);
    let answer = request(
        &emu,
        "PUT",
        "/sha/ok",
        &[("x-amz-content-sha256", &good)],
        b"abc",
    )
    .await;
    assert_eq!(answer.status, 200);
    let answer = request(
        &emu,
        "PUT",
        "/sha/k",
        &[("x-amz-content-sha256", &good)],
        b"abd",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.element("Code").as_deref(),
        Some("XAmzContentSHA256Mismatch")
    );
    assert_eq!(answer.element("ClientComputedContentSHA256"), Some(good));
    let answer = request(
        &emu,
        "PUT",
        "/sha/k",
        &[("x-amz-content-sha256", "bogus")],
        b"abc",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidArgument"));
}

#[tokio::test]
async fn streaming_uploads_from_the_sdk_are_decoded() {
    use aws_sdk_s3::types::ChecksumMode;
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "stream").await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let put = client
        .put_object()
        .bucket("stream")
        .key("from-file")
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(md5_etag(&body).as_str()));
    let got = client
        .get_object()
        .bucket("stream")
        .key("from-file")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    use base64::Engine;
    let crc32 =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&body).to_be_bytes());
    assert_eq!(got.checksum_crc32(), Some(crc32.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        body
    );
}

#[tokio::test]
async fn raw_aws_chunked_uploads_signed_and_with_trailers() {
    use base64::Engine;
    let emu = start_default().await;
    request(&emu, "PUT", "/chunks", &[], b"").await;
    let signed = b"5;chunk-signature=0000000000000000000000000000000000000000000000000000000000000000\r\nhello\r\n6;chunk-signature=1111111111111111111111111111111111111111111111111111111111111111\r\n world\r\n0;chunk-signature=2222222222222222222222222222222222222222222222222222222222222222\r\n\r\n";
    let answer = request(
        &emu,
        "PUT",
        "/chunks/signed",
        &[
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "11"),
        ],
        signed,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("etag"),
        Some(md5_etag(b"hello world").as_str())
    );
    let got = request(&emu, "GET", "/chunks/signed", &[], b"").await;
    assert_eq!(got.body, b"hello world");
    assert_eq!(
        got.header("content-encoding"),
        None,
        "aws-chunked is not stored"
    );

    let crc =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(b"abc").to_be_bytes());
    let trailer = format!("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
    let headers = [
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "3"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let answer = request(&emu, "PUT", "/chunks/trailer", &headers, trailer.as_bytes()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("x-amz-checksum-crc32"), Some(crc.as_str()));
    let bad = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let answer = request(&emu, "PUT", "/chunks/bad", &headers, bad.as_bytes()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.element("Code").as_deref(), Some("BadDigest"));
    let short = request(
        &emu,
        "PUT",
        "/chunks/short",
        &[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "4"),
        ],
        b"3\r\nabc\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(short.status, 400);
    assert_eq!(short.element("Code").as_deref(), Some("IncompleteBody"));
    let garbage = request(
        &emu,
        "PUT",
        "/chunks/garbage",
        &[("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")],
        b"zz;chunk-signature=0\r\nabc",
    )
    .await;
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.element("Code").as_deref(), Some("InvalidRequest"));
}

#[tokio::test]
async fn virtual_hosted_requests_name_the_bucket_in_the_host() {
    let emu = start_default().await;
    let port = emu.addr().port();
    let host = format!("vhost.localhost:{port}");
    let answer = request(&emu, "PUT", "/", &[("Host", &host)], b"").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = request(&emu, "PUT", "/dir/key.txt", &[("Host", &host)], b"virtual").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let client = s3(&emu);
    assert_eq!(get(&client, "vhost", "dir/key.txt").await, b"virtual");
    let localstack = format!("vhost.s3.localhost.localstack.cloud:{port}");
    let answer = request(&emu, "GET", "/dir/key.txt", &[("Host", &localstack)], b"").await;
    assert_eq!(answer.body, b"virtual");
    let answer = request(&emu, "GET", "/?list-type=2", &[("Host", &host)], b"").await;
    assert_eq!(answer.element("Key").as_deref(), Some("dir/key.txt"));
    let path_style = request(
        &emu,
        "GET",
        "/vhost/dir/key.txt",
        &[("Host", &format!("localhost:{port}"))],
        b"",
    )
    .await;
    assert_eq!(path_style.body, b"virtual");
}

#[tokio::test]
async fn malformed_requests_get_s3_errors_and_never_crash() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "robust").await;
    /// Method, target, headers, body, expected status and code.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [u8],
        u16,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            "PUT",
            "/robust-two",
            &[],
            b"<CreateBucketConfiguration><Loc",
            400,
            "MalformedXML",
        ),
        (
            "PUT",
            "/robust-two",
            &[],
            b"\xff\xfe\x00",
            400,
            "MalformedXML",
        ),
        (
            "POST",
            "/robust?delete",
            &[("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")],
            b"",
            400,
            "BadDigest",
        ),
        (
            "POST",
            "/robust?delete",
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            b"",
            400,
            "MalformedXML",
        ),
        (
            "PUT",
            "/robust/k?tagging",
            &[],
            b"<Tagging><TagSet><Tag><Key>a</Key></Tag>",
            400,
            "MalformedXML",
        ),
        (
            "POST",
            "/robust/k?uploadId=nope",
            &[],
            b"<CompleteMultipartUpload/>",
            404,
            "NoSuchUpload",
        ),
        (
            "GET",
            "/robust/k?uploadId=nope",
            &[],
            b"",
            404,
            "NoSuchUpload",
        ),
        (
            "PUT",
            "/robust/k?partNumber=0&uploadId=x",
            &[],
            b"",
            400,
            "InvalidArgument",
        ),
        ("GET", "/robust/%ff%fe", &[], b"", 400, "InvalidURI"),
        ("PUT", "/robust?versioning", &[], b"", 501, "NotImplemented"),
        ("POST", "/robust/k", &[], b"", 405, "MethodNotAllowed"),
        ("DELETE", "/", &[], b"", 405, "MethodNotAllowed"),
        (
            "PUT",
            "/robust/k",
            &[("x-amz-sdk-checksum-algorithm", "CRC32")],
            b"x",
            400,
            "InvalidRequest",
        ),
        (
            "PUT",
            "/robust/k",
            &[("x-amz-sdk-checksum-algorithm", "MD4")],
            b"x",
            400,
            "InvalidRequest",
        ),
        (
            "PUT",
            "/robust/k",
            &[("x-amz-tagging", "a=1&a=2")],
            b"x",
            400,
            "InvalidTag",
        ),
        (
            "PUT",
            "/robust/k",
            &[("If-None-Match", "\"abc\"")],
            b"x",
            501,
            "NotImplemented",
        ),
        (
            "PUT",
            "/robust/k",
            &[("x-amz-copy-source", "nonsense")],
            b"",
            400,
            "InvalidArgument",
        ),
        (
            "PUT",
            "/robust/k",
            &[
                ("x-amz-copy-source", "robust/k"),
                ("x-amz-metadata-directive", "MERGE"),
            ],
            b"",
            400,
            "InvalidArgument",
        ),
    ];
    for (method, target, headers, body, status, code) in cases {
        let answer = request(&emu, method, target, headers, body).await;
        assert_eq!(
            answer.status,
            *status,
            "{method} {target}: {}",
            answer.text()
        );
        assert_eq!(
            answer.element("Code").as_deref(),
            Some(*code),
            "{method} {target}"
        );
        assert!(answer.element("RequestId").is_some());
        assert_eq!(answer.header("content-type"), Some("application/xml"));
    }
    let answer = request(&emu, "PUT", "/robust?versioning", &[], b"").await;
    assert_eq!(
        answer.element("Message").as_deref(),
        Some("The emulator does not implement the S3 operation PutBucketVersioning.")
    );
    let long_key = format!("/robust/{}", "k".repeat(1025));
    let answer = request(&emu, "PUT", &long_key, &[], b"x").await;
    assert_eq!(answer.element("Code").as_deref(), Some("KeyTooLongError"));
    let escaped = request(&emu, "GET", "/robust/%3Cscript%3E%26", &[], b"").await;
    assert!(
        escaped.text().contains("<Key>&lt;script&gt;&amp;</Key>"),
        "{}",
        escaped.text()
    );
    put(&client, "robust", "still", b"alive").await;
    assert_eq!(get(&client, "robust", "still").await, b"alive");
}

#[tokio::test]
async fn signatures_are_checked_with_sigv4_auth() {
    use kinesis_operator::emulator::auth::Credential;
    let emu = Emulator::start(Config {
        sigv4: Some(vec![Credential {
            access_key: "AKIDGOOD".to_owned(),
            secret: "secret".to_owned(),
        }]),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = s3_as(&emu, "AKIDGOOD", "us-east-1");
    create_bucket(&client, "signed").await;
    put(&client, "signed", "dir/a key+with spaces", b"signed body").await;
    assert_eq!(
        list_keys(&client, "signed", Some("dir/")).await,
        ["dir/a key+with spaces"]
    );
    assert_eq!(
        get(&client, "signed", "dir/a key+with spaces").await,
        b"signed body"
    );
    let (id, parts) = upload_parts(&client, "signed", "mp", &[b"part"]).await;
    complete(&client, "signed", "mp", &id, parts).await.unwrap();
    client
        .delete_objects()
        .bucket("signed")
        .delete(
            aws_sdk_s3::types::Delete::builder()
                .objects(
                    aws_sdk_s3::types::ObjectIdentifier::builder()
                        .key("mp")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let wrong = aws_sdk_s3::Client::from_conf(
        client
            .config()
            .to_builder()
            .credentials_provider(Credentials::new("AKIDGOOD", "wrong", None, None, "test"))
            .build(),
    );
    let (code, _, status) = err(wrong.list_buckets().send().await);
    assert_eq!((code.as_str(), status), ("SignatureDoesNotMatch", 403));
    let unknown = s3_as(&emu, "AKIDUNKNOWN", "us-east-1");
    let (code, message, status) = err(unknown.list_buckets().send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403
        )
    );
    let anonymous = request(&emu, "GET", "/signed/mp", &[], b"").await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(anonymous.element("Code").as_deref(), Some("AccessDenied"));
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use kinesis_operator::emulator::auth::Credential;
    let emu = Emulator::start(Config {
        sigv4: Some(vec![Credential {
            access_key: "AKIDGOOD".to_owned(),
            secret: "secret".to_owned(),
        }]),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = s3_as(&emu, "AKIDGOOD", "us-east-1");
    create_bucket(&client, "presigned").await;
    let upload = client
        .put_object()
        .bucket("presigned")
        .key("dir/up load.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let target = |uri: &str| uri.splitn(4, '/').nth(3).map(|t| format!("/{t}")).unwrap();
    let answer = request(
        &emu,
        "PUT",
        &target(upload.uri()),
        &[],
        b"via presigned PUT",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let download = client
        .get_object()
        .bucket("presigned")
        .key("dir/up load.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let answer = request(&emu, "GET", &target(download.uri()), &[], b"").await;
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (200, &b"via presigned PUT"[..])
    );
    let tampered = target(download.uri()).replace("up%20load", "other");
    let answer = request(&emu, "GET", &tampered, &[], b"").await;
    assert_eq!(
        answer.element("Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    emu.clock().advance(Duration::from_secs(120));
    let answer = request(&emu, "GET", &target(download.uri()), &[], b"").await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        (
            answer.element("Code").as_deref(),
            answer.element("Message").as_deref()
        ),
        (Some("AccessDenied"), Some("Request has expired"))
    );
}

#[tokio::test]
async fn multipart_uploads_and_tags_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let emu = Emulator::start(config.clone()).await.unwrap();
    let client = s3(&emu);
    create_bucket(&client, "resume").await;
    let (id, parts) = upload_parts(&client, "resume", "big", &[b"only part"]).await;
    client
        .put_object()
        .bucket("resume")
        .key("tagged")
        .tagging("a=1")
        .body(ByteStream::from_static(b"t"))
        .send()
        .await
        .unwrap();
    create_bucket(&client, "dropped").await;
    client
        .delete_bucket()
        .bucket("dropped")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;

    let emu = Emulator::start(config).await.unwrap();
    let client = s3(&emu);
    let listed = client
        .list_parts()
        .bucket("resume")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 1);
    complete(&client, "resume", "big", &id, parts)
        .await
        .unwrap();
    assert_eq!(get(&client, "resume", "big").await, b"only part");
    let tags = client
        .get_object_tagging()
        .bucket("resume")
        .key("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set().len(), 1);
    let names: Vec<_> = client
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name.clone())
        .collect();
    assert_eq!(names, ["resume"]);
    emu.shutdown().await;

    let emu = Emulator::start(Config {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = s3(&emu);
    assert_eq!(
        get(&client, "resume", "big").await,
        b"only part",
        "completion was stored"
    );
    let uploads = client
        .list_multipart_uploads()
        .bucket("resume")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_the_aws_cli_read_what_the_rust_sdk_wrote() {
    use support::python::{hermetic, virtualenv};
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = tokio::task::spawn_blocking(move || {
        let boto3 = virtualenv(
            "python-venv",
            &manifest.join("tests/python/requirements.txt"),
            "import boto3, pytest",
        );
        let cli = virtualenv(
            "python-venv-awscli",
            &manifest.join("tests/python/requirements-awscli.txt"),
            "import awscli",
        );
        (boto3, cli.with_file_name("aws"))
    })
    .await
    .unwrap();
    let (python, aws) = python;

    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "from-rust").await;
    client
        .put_object()
        .bucket("from-rust")
        .key("docs/a.txt")
        .content_type("text/plain")
        .metadata("writer", "rust")
        .body(ByteStream::from_static(b"hello from the Rust SDK"))
        .send()
        .await
        .unwrap();
    put(&client, "from-rust", "docs/b.json", b"{}").await;
    let big: Vec<u8> = (0..(5 << 20) + 100).map(|i: u32| (i % 251) as u8).collect();
    let (id, parts) = upload_parts(
        &client,
        "from-rust",
        "big.bin",
        &[&big[..5 << 20], &big[5 << 20..]],
    )
    .await;
    complete(&client, "from-rust", "big.bin", &id, parts)
        .await
        .unwrap();

    let mut command = tokio::process::Command::new(&python);
    command
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rfE",
            "--color=no",
            "-q",
        ])
        .arg(manifest.join("tests/python/test_s3_boto3.py"))
        .current_dir(manifest)
        .env("S3_ENDPOINT", emu.endpoint_url())
        .env("AWS_CLI", &aws)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    hermetic(command.as_std_mut());
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("pytest finishes within 5 minutes")
        .expect("pytest runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "pytest failed:\n{text}");
    println!("{text}");
}

#[tokio::test]
async fn every_checksum_algorithm_is_verified_and_returned() {
    use base64::Engine;
    use sha2::Sha256;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let body = b"123456789";
    let table = [
        (
            "x-amz-checksum-crc32",
            encode(&0xCBF4_3926u32.to_be_bytes()),
        ),
        (
            "x-amz-checksum-crc32c",
            encode(&0xE306_9283u32.to_be_bytes()),
        ),
        (
            "x-amz-checksum-crc64nvme",
            encode(&0xAE8B_1486_0A79_9888u64.to_be_bytes()),
        ),
        ("x-amz-checksum-sha1", encode(&sha1::Sha1::digest(body))),
        ("x-amz-checksum-sha256", encode(&Sha256::digest(body))),
    ];
    let emu = start_default().await;
    request(&emu, "PUT", "/algos", &[], b"").await;
    for (header, value) in &table {
        let answer = request(&emu, "PUT", "/algos/k", &[(header, value)], body).await;
        assert_eq!(answer.status, 200, "{header}: {}", answer.text());
        assert_eq!(answer.header(header), Some(value.as_str()));
        let got = request(
            &emu,
            "HEAD",
            "/algos/k",
            &[("x-amz-checksum-mode", "ENABLED")],
            b"",
        )
        .await;
        assert_eq!(got.header(header), Some(value.as_str()), "{header}");
        let wrong = request(&emu, "PUT", "/algos/k", &[(header, value)], b"12345678X").await;
        assert_eq!(wrong.status, 400, "{header}");
        assert_eq!(
            wrong.element("Code").as_deref(),
            Some("BadDigest"),
            "{header}"
        );
    }
    let two = request(
        &emu,
        "PUT",
        "/algos/k",
        &[(table[0].0, &table[0].1), (table[1].0, &table[1].1)],
        body,
    )
    .await;
    assert_eq!(two.element("Code").as_deref(), Some("InvalidRequest"));
}

#[tokio::test]
async fn composite_multipart_checksums_need_every_part_checksum() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedPart};
    use base64::Engine;
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "composite").await;
    let upload = client
        .create_multipart_upload()
        .bucket("composite")
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.checksum_type(), Some(&ChecksumType::Composite));
    let id = upload.upload_id().unwrap();
    let part = client
        .upload_part()
        .bucket("composite")
        .key("k")
        .upload_id(id)
        .part_number(1)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();
    let crc = part.checksum_crc32().unwrap().to_owned();
    let without = vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag(part.e_tag().unwrap())
            .build(),
    ];
    let (code, message, status) = err(complete(&client, "composite", "k", id, without).await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidRequest",
            "The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.",
            400
        )
    );
    let with = vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag(part.e_tag().unwrap())
            .checksum_crc32(&crc)
            .build(),
    ];
    let done = complete(&client, "composite", "k", id, with).await.unwrap();
    let raw_crc = base64::engine::general_purpose::STANDARD
        .decode(&crc)
        .unwrap();
    let expected = format!(
        "{}-1",
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&raw_crc).to_be_bytes())
    );
    assert_eq!(done.checksum_crc32(), Some(expected.as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let head = client
        .head_object()
        .bucket("composite")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(expected.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_objects_survive_kill_9() {
    fn client(port: u16) -> Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .retry_config(RetryConfig::disabled())
            .force_path_style(true)
            .build();
        Client::from_conf(config)
    }
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &[]).await;
    let c = client(emulator.port());
    create_bucket(&c, "crash").await;
    let (id, parts) = upload_parts(&c, "crash", "pending", &[b"in flight"]).await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let c = c.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..10_000 {
                let key = format!("w{w}/{i:05}");
                let body = format!("{key}:{}", "x".repeat(i % 300));
                let sent = c
                    .put_object()
                    .bucket("crash")
                    .key(&key)
                    .body(ByteStream::from(body.clone().into_bytes()))
                    .send()
                    .await;
                match sent {
                    Ok(_) => acked.push((key, body)),
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    emulator.kill_9().await;
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert!(acked.len() > 50, "the writers got going: {}", acked.len());

    emulator.restart().await;
    let c = client(emulator.port());
    for (key, body) in &acked {
        assert_eq!(get(&c, "crash", key).await, body.as_bytes(), "{key}");
    }
    complete(&c, "crash", "pending", &id, parts).await.unwrap();
    assert_eq!(get(&c, "crash", "pending").await, b"in flight");
}

#[tokio::test]
async fn bucket_configuration_reads_answer_as_for_a_new_bucket() {
    use aws_sdk_s3::types::{ObjectOwnership, Permission, ServerSideEncryption};
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "config").await;
    let versioning = client
        .get_bucket_versioning()
        .bucket("config")
        .send()
        .await
        .unwrap();
    assert!(
        versioning.status().is_none(),
        "versioning was never enabled"
    );
    let encryption = client
        .get_bucket_encryption()
        .bucket("config")
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm()),
        Some(&ServerSideEncryption::Aes256)
    );
    let block = client
        .get_public_access_block()
        .bucket("config")
        .send()
        .await
        .unwrap();
    assert_eq!(
        block
            .public_access_block_configuration()
            .and_then(|c| c.block_public_acls()),
        Some(true)
    );
    let ownership = client
        .get_bucket_ownership_controls()
        .bucket("config")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let acl = client
        .get_bucket_acl()
        .bucket("config")
        .send()
        .await
        .unwrap();
    assert_eq!(acl.grants()[0].permission(), Some(&Permission::FullControl));
    assert_eq!(
        acl.grants()[0].grantee().and_then(|g| g.id()),
        acl.owner().and_then(|o| o.id())
    );
    let (code, message, status) = err(client.get_bucket_policy().bucket("config").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
            404
        )
    );
    let (code, _, status) = err(client.get_bucket_cors().bucket("config").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchCORSConfiguration", 404));
    let (code, _, status) = err(client
        .get_bucket_lifecycle_configuration()
        .bucket("config")
        .send()
        .await);
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchLifecycleConfiguration", 404)
    );
    put(&client, "config", "k", b"v").await;
    let acl = client
        .get_object_acl()
        .bucket("config")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(acl.grants().len(), 1);
}

#[tokio::test]
async fn bucket_tags_are_stored_and_survive_a_restart() {
    use aws_sdk_s3::types::{Tag, Tagging};
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let emu = Emulator::start(config.clone()).await.unwrap();
    let client = s3(&emu);
    create_bucket(&client, "tagged-bucket").await;
    let (code, message, status) = err(client
        .get_bucket_tagging()
        .bucket("tagged-bucket")
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("NoSuchTagSet", "The TagSet does not exist", 404)
    );
    client
        .put_bucket_tagging()
        .bucket("tagged-bucket")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("team").value("data").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    emu.shutdown().await;

    let emu = Emulator::start(config).await.unwrap();
    let client = s3(&emu);
    let tags = client
        .get_bucket_tagging()
        .bucket("tagged-bucket")
        .send()
        .await
        .unwrap();
    let pairs: Vec<_> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(pairs, [("team", "data")]);
    client
        .delete_bucket_tagging()
        .bucket("tagged-bucket")
        .send()
        .await
        .unwrap();
    let (code, _, _) = err(client
        .get_bucket_tagging()
        .bucket("tagged-bucket")
        .send()
        .await);
    assert_eq!(code, "NoSuchTagSet");
    emu.shutdown().await;
}

#[tokio::test]
async fn list_object_versions_shows_each_object_as_its_null_version() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "versions").await;
    for key in ["a", "b", "dir/c"] {
        put(&client, "versions", key, key.as_bytes()).await;
    }
    let listed = client
        .list_object_versions()
        .bucket("versions")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let versions: Vec<_> = listed
        .versions()
        .iter()
        .map(|v| (v.key().unwrap(), v.version_id().unwrap(), v.is_latest()))
        .collect();
    assert_eq!(
        versions,
        [("a", "null", Some(true)), ("b", "null", Some(true))]
    );
    let prefixes: Vec<_> = listed
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/"]);
    let page = client
        .list_object_versions()
        .bucket("versions")
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.next_key_marker(), Some("a"));
    let ids: Vec<ObjectIdentifier> = ["a", "b", "dir/c"]
        .iter()
        .map(|k| {
            ObjectIdentifier::builder()
                .key(*k)
                .version_id("null")
                .build()
                .unwrap()
        })
        .collect();
    client
        .delete_objects()
        .bucket("versions")
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();
    client
        .delete_bucket()
        .bucket("versions")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn objects_with_json_rpc_content_types_are_still_s3_requests() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "typed").await;
    for (key, content_type) in [
        ("a.json", "application/x-amz-json-1.1"),
        ("b.cbor", "application/cbor"),
        ("c.cbor", "application/x-amz-cbor-1.1"),
    ] {
        client
            .put_object()
            .bucket("typed")
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from_static(b"{}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key} ({content_type}): {e:?}"));
        let got = client
            .get_object()
            .bucket("typed")
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_type(), Some(content_type));
    }
}

#[tokio::test]
async fn a_bucket_named_like_the_emulators_host_does_not_capture_path_style_requests() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "emulator").await;
    create_bucket(&client, "data").await;
    put(&client, "data", "k", b"from data").await;
    put(&client, "emulator", "k", b"from emulator").await;
    let host = format!("emulator.default.svc:{}", emu.addr().port());
    // Path-style to an existing bucket through a host whose first label is another bucket.
    let got = request(&emu, "GET", "/data/k", &[("Host", &host)], b"").await;
    assert_eq!((got.status, got.body.as_slice()), (200, &b"from data"[..]));
    // Otherwise the host names the bucket (virtual-hosted).
    let got = request(&emu, "GET", "/k", &[("Host", &host)], b"").await;
    assert_eq!(
        (got.status, got.body.as_slice()),
        (200, &b"from emulator"[..])
    );
}

/// ListMultipartUploads pages by key, then by initiation time within a key, and resumes after
/// `key-marker` + `upload-id-marker`: with `max-uploads=1` every upload (several of one key,
/// initiated seconds apart) is listed once, in order, and the last page is not truncated.
#[tokio::test]
async fn list_multipart_uploads_pages_uploads_of_one_key_in_initiation_order() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "uploads").await;
    let mut initiated = Vec::new();
    for key in ["a", "same", "same", "same", "same", "z"] {
        let id = client
            .create_multipart_upload()
            .bucket("uploads")
            .key(key)
            .send()
            .await
            .unwrap()
            .upload_id
            .unwrap();
        initiated.push((key.to_owned(), id));
        emu.clock().advance(Duration::from_secs(2));
    }
    let mut listed = Vec::new();
    let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
    for page in 0.. {
        assert!(page < initiated.len(), "paging does not end: {listed:?}");
        let out = client
            .list_multipart_uploads()
            .bucket("uploads")
            .max_uploads(1)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(out.max_uploads(), Some(1));
        assert_eq!(
            out.key_marker().unwrap_or_default(),
            key_marker.as_deref().unwrap_or_default()
        );
        assert_eq!(
            out.upload_id_marker().unwrap_or_default(),
            id_marker.as_deref().unwrap_or_default()
        );
        let [upload] = out.uploads() else {
            panic!("page {page}: {out:?}");
        };
        let entry = (
            upload.key().unwrap().to_owned(),
            upload.upload_id().unwrap().to_owned(),
        );
        assert_eq!(out.next_key_marker(), Some(entry.0.as_str()));
        assert_eq!(out.next_upload_id_marker(), Some(entry.1.as_str()));
        listed.push(entry);
        if !out.is_truncated().unwrap_or_default() {
            break;
        }
        key_marker = out.next_key_marker().map(str::to_owned);
        id_marker = out.next_upload_id_marker().map(str::to_owned);
    }
    assert_eq!(listed, initiated);

    // A key-marker alone resumes after every upload of that key.
    let after = client
        .list_multipart_uploads()
        .bucket("uploads")
        .key_marker("same")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = after.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["z"]);
    assert_eq!(after.is_truncated(), Some(false));
    // An upload-id-marker without a key-marker is ignored.
    let all = client
        .list_multipart_uploads()
        .bucket("uploads")
        .upload_id_marker(&initiated[3].1)
        .send()
        .await
        .unwrap();
    assert_eq!(all.uploads().len(), initiated.len());
}

/// `max-uploads`: 0 lists nothing (not truncated), above 1000 lists at most 1000, and a value
/// that is not an integer from 0 to 2147483647 is refused with AWS's InvalidArgument.
#[tokio::test]
async fn list_multipart_uploads_max_uploads_range() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "maxup").await;
    client
        .create_multipart_upload()
        .bucket("maxup")
        .key("k")
        .send()
        .await
        .unwrap();
    let none = client
        .list_multipart_uploads()
        .bucket("maxup")
        .max_uploads(0)
        .send()
        .await
        .unwrap();
    assert!(none.uploads().is_empty());
    assert_eq!(
        (none.max_uploads(), none.is_truncated()),
        (Some(0), Some(false))
    );
    let capped = client
        .list_multipart_uploads()
        .bucket("maxup")
        .max_uploads(5000)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (capped.max_uploads(), capped.uploads().len()),
        (Some(1000), 1)
    );
    for bad in ["-1", "2147483648", "ten"] {
        let answer = request(
            &emu,
            "GET",
            &format!("/maxup?uploads&max-uploads={bad}"),
            &[],
            b"",
        )
        .await;
        assert_eq!(answer.status, 400, "{bad}");
        assert_eq!(
            answer.element("Code").as_deref(),
            Some("InvalidArgument"),
            "{bad}"
        );
        assert_eq!(
            answer.element("Message").as_deref(),
            Some("Provided max-uploads not an integer or within integer range"),
            "{bad}"
        );
        assert_eq!(
            answer.element("ArgumentName").as_deref(),
            Some("max-uploads")
        );
        assert_eq!(answer.element("ArgumentValue").as_deref(), Some(bad));
    }
}

/// A request signed for a region that does not exist is refused as S3 refuses it, naming the
/// region expected (the bucket's).
#[tokio::test]
async fn a_request_signed_for_an_unknown_region_is_malformed() {
    let emu = start_default().await;
    create_bucket(&s3(&emu), "regional").await;
    let nowhere = s3_as(&emu, "AKIDTEST", "us-nowhere-1");
    let (code, message, status) = err(nowhere.list_objects_v2().bucket("regional").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region 'us-nowhere-1' is wrong; expecting 'us-east-1'",
            400
        )
    );
    let (code, _, _) = err(nowhere.create_bucket().bucket("elsewhere").send().await);
    assert_eq!(code, "AuthorizationHeaderMalformed");
}
