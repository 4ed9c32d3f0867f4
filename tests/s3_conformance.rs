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

/// An HTTP answer read by [`raw`].
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<name>` element of the body.
    fn element(&self, name: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_owned())
    }
}

/// Sends one unsigned HTTP/1.1 request (with `Host` set to the emulator unless `headers`
/// set it) and reads the whole answer.
async fn raw(
    emulator: &Emulator,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    let mut request = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {}\r\n", emulator.addr()));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: answer[split + 4..].to_vec(),
    }
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
    let answer = raw(&emu, "PUT", &format!("/{long}"), &[], b"").await;
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
}

#[tokio::test]
async fn head_object_answers_headers_only_and_bare_errors() {
    let emu = start_default().await;
    let client = s3(&emu);
    create_bucket(&client, "heads").await;
    put(&client, "heads", "k", b"0123456789").await;
    let answer = raw(&emu, "HEAD", "/heads/k", &[], b"").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-length"), Some("10"));
    assert!(answer.body.is_empty());
    assert!(answer.header("x-amz-request-id").is_some());
    let missing = raw(&emu, "HEAD", "/heads/nope", &[], b"").await;
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
    let partial = raw(&emu, "GET", "/ranges/k", &[("Range", "bytes=1-2")], b"").await;
    assert_eq!((partial.status, partial.body.as_slice()), (206, &b"12"[..]));
    let ignored = raw(&emu, "GET", "/ranges/k", &[("Range", "bytes=5-1")], b"").await;
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
        let answer = raw(&emu, "GET", "/cond/k", &[(header, value)], b"").await;
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
        let answer = raw(&emu, "DELETE", "/del/k", &[], b"").await;
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
    let answer = raw(&emu, "POST", "/multi?delete", &[], body).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.element("Code").as_deref(), Some("InvalidRequest"));
    assert_eq!(
        answer.element("Message").as_deref(),
        Some("Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
    );
    use base64::Engine;
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
    let answer = raw(
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
