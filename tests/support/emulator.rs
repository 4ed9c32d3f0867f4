//! The emulator started in-process for a test, and clients for it: the real aws-sdk-kinesis,
//! and raw HTTP for what no SDK sends (malformed bodies, CBOR as the Java SDK encodes it,
//! unsigned or hand-built S3 requests).

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::{BehaviorVersion, Region};
use kinesis_operator::emulator::{Config, Emulator, kinesis::Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts an emulator on a free loopback port with `settings`.
pub async fn start(settings: Settings) -> Emulator {
    Emulator::start(Config {
        kinesis: settings,
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

/// Starts an emulator with AWS's limits and no delays.
pub async fn start_default() -> Emulator {
    start(Settings::default()).await
}

/// A Kinesis client for account `000000000000` in `us-east-1`, without retries so that
/// errors are seen as the emulator sends them.
pub fn kinesis(emulator: &Emulator) -> aws_sdk_kinesis::Client {
    kinesis_as(emulator, "AKIDTEST", "us-east-1")
}

/// A Kinesis client with access key `access_key` (a 12-digit key is taken as the account ID)
/// in `region`, without retries.
pub fn kinesis_as(emulator: &Emulator, access_key: &str, region: &str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            aws_sdk_kinesis::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// A Firehose client for account `000000000000` in `us-east-1`, without retries.
pub fn firehose(emulator: &Emulator) -> aws_sdk_firehose::Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(aws_sdk_firehose::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_firehose::Client::from_conf(config)
}

/// A path-style S3 client for account `000000000000` in `us-east-1`, without retries.
pub fn s3(emulator: &Emulator) -> aws_sdk_s3::Client {
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

/// The bodies of every object in `bucket` under `prefix`, in key order, concatenated.
pub async fn s3_bodies(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<u8> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListObjectsV2 {bucket}: {e:?}"));
    let mut all = Vec::new();
    for object in listed.contents() {
        let key = object.key().unwrap_or_default();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {bucket}/{key}: {e:?}"))
            .body
            .collect()
            .await
            .expect("the object body")
            .into_bytes();
        all.extend_from_slice(&body);
    }
    all
}

/// DescribeStreamSummary of `stream`, which must exist.
pub async fn stream_summary(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
) -> aws_sdk_kinesis::types::StreamDescriptionSummary {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeStreamSummary {stream}: {e:?}"))
        .stream_description_summary
        .unwrap_or_else(|| panic!("no summary of {stream}"))
}

/// DescribeDeliveryStream of `name`, which must exist.
pub async fn delivery_stream(
    client: &aws_sdk_firehose::Client,
    name: &str,
) -> aws_sdk_firehose::types::DeliveryStreamDescription {
    client
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeDeliveryStream {name}: {e:?}"))
        .delivery_stream_description
        .unwrap_or_else(|| panic!("no description of {name}"))
}

/// An HTTP answer.
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<name>` element of an XML body.
    pub fn element(&self, name: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_owned())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// POSTs `body` to `/` with the given headers over a fresh HTTP/1.1 connection.
pub async fn post(emulator: &Emulator, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
    request(emulator, "POST", "/", headers, body).await
}

/// Sends one unsigned HTTP/1.1 request over a fresh connection and reads the whole answer;
/// `Host` (the emulator's address) and `Content-Length` are added unless `headers` set them.
pub async fn request(
    emulator: &Emulator,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .expect("connect to the emulator");
    let mut request = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    let given = |wanted: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(wanted));
    if !given("host") {
        request.push_str(&format!("Host: {}\r\n", emulator.addr()));
    }
    if !given("content-length") {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    // The emulator may answer (a body over its limit: 413) and close before it has read the
    // whole body, so a failed body write or a reset after the answer is not the test's concern:
    // the answer is, and `parse_response` insists on a complete one.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// POSTs a Kinesis JSON request for `operation`.
pub async fn kinesis_json(emulator: &Emulator, operation: &str, body: &[u8]) -> RawResponse {
    let target = format!("Kinesis_20131202.{operation}");
    post(
        emulator,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &target),
        ],
        body,
    )
    .await
}
