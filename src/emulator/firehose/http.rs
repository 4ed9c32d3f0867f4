//! HTTP endpoint destinations: each batch is POSTed as AWS's request envelope
//! (`{"requestId", "timestamp", "records": [{"data": base64}]}`) with AWS's headers
//! (`X-Amz-Firehose-Protocol-Version`, `-Request-Id`, `-Source-Arn`, `-Access-Key`,
//! `-Common-Attributes`), optionally gzip-encoded. Success is a 200 answer (any other status,
//! other 2xx included, is a failure, as AWS documents) whose JSON body echoes the `requestId`.
//! A failed request is retried (the delivery task's backoff) until
//! `RetryOptions.DurationInSeconds` has passed since the first attempt; the batch then goes to
//! the backup bucket under the error prefix (`http-endpoint-failed`). With `S3BackupMode`
//! `AllData` every batch is also written to the backup bucket.
//!
//! The request ID is derived from the batch, so a batch repeated after a crash carries the same
//! ID and the endpoint can recognise it. Only `http://` endpoints are reachable (the emulator
//! has no TLS client); `https://` ones fail and go to the backup bucket.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::Firehose;
use super::deliver::{backup_key, failed_key, write_s3};
use super::model::HttpDestination;
use super::stream::{DeliveryStream, Pending};
use crate::emulator::error::AwsError;

/// How long the endpoint has to answer one request (AWS gives it 3 minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);

/// The request envelope of a batch.
fn envelope(request_id: &str, timestamp_ms: i64, parts: &[Bytes]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(parts.iter().map(|p| p.len() * 4 / 3 + 16).sum::<usize>() + 96);
    out.extend_from_slice(b"{\"requestId\":\"");
    out.extend_from_slice(request_id.as_bytes());
    out.extend_from_slice(format!("\",\"timestamp\":{timestamp_ms},\"records\":[").as_bytes());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"data\":\"");
        out.extend_from_slice(STANDARD.encode(p).as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// One POST; the status and body of the answer.
async fn post(
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<(u16, Bytes), String> {
    let uri: ::http::Uri = url
        .parse()
        .map_err(|e| format!("the endpoint URL {url} is not valid: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "the emulator has no TLS client, so it cannot reach {url}; use an http:// endpoint on this machine"
        ));
    }
    let host = uri.host().unwrap_or("localhost").to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| format!("talking to {url}: {e}"))?;
    tokio::spawn(connection);
    let mut request =
        ::http::Request::post(uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()).header(
            ::http::header::HOST,
            uri.authority().map_or(host.clone(), |a| a.to_string()),
        );
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("building the request to {url}: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending to {url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer of {url}: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// One attempt to deliver a batch to the endpoint.
async fn attempt(
    stream: &DeliveryStream,
    d: &HttpDestination,
    pending: &Pending,
    parts: &[Bytes],
) -> Result<(), String> {
    let endpoint = d.endpoint_configuration.clone().unwrap_or_default();
    let url = endpoint.url.unwrap_or_default();
    let request_id = pending.key.as_str();
    let mut body = envelope(request_id, pending.started_ms, parts);
    let gzip = d
        .request_configuration
        .as_ref()
        .and_then(|r| r.content_encoding.as_deref())
        == Some("GZIP");
    let mut headers: Vec<(&str, String)> = vec![
        ("content-type", "application/json".into()),
        ("x-amz-firehose-protocol-version", "1.0".into()),
        ("x-amz-firehose-request-id", request_id.to_owned()),
        ("x-amz-firehose-source-arn", stream.arn.clone()),
        (
            "user-agent",
            "Amazon Kinesis Data Firehose Agent/1.0".into(),
        ),
    ];
    if let Some(key) = endpoint.access_key {
        headers.push(("x-amz-firehose-access-key", key));
    }
    if let Some(attrs) = d
        .request_configuration
        .as_ref()
        .and_then(|r| r.common_attributes.as_ref())
        .filter(|a| !a.is_empty())
    {
        let map: serde_json::Map<String, serde_json::Value> = attrs
            .iter()
            .map(|a| {
                (
                    a.attribute_name.clone().unwrap_or_default(),
                    serde_json::Value::String(a.attribute_value.clone().unwrap_or_default()),
                )
            })
            .collect();
        headers.push((
            "x-amz-firehose-common-attributes",
            serde_json::json!({ "commonAttributes": map }).to_string(),
        ));
    }
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).map_err(|e| e.to_string())?;
        body = enc.finish().map_err(|e| e.to_string())?;
        headers.push(("content-encoding", "gzip".into()));
    }
    let (status, answer) = tokio::time::timeout(REQUEST_TIMEOUT, post(&url, &headers, body))
        .await
        .map_err(|_| format!("{url} did not answer within {REQUEST_TIMEOUT:?}"))??;
    // AWS accepts only 200; any other status (2xx included) is a destination exception.
    if status != 200 {
        let shown = String::from_utf8_lossy(&answer[..answer.len().min(1024)]).into_owned();
        return Err(format!(
            "HttpEndpoint.DestinationException: the following response was received from the endpoint destination {url}. {status}: {shown}"
        ));
    }
    let echoed = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| {
            v.get("requestId")
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        });
    if echoed.as_deref() != Some(request_id) {
        return Err(format!(
            "{url} answered HTTP {status} without the request ID {request_id} in a JSON body"
        ));
    }
    Ok(())
}

/// Delivers a batch to an HTTP endpoint (and its backups); `Ok` when the batch is done with.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver(
    f: &Arc<Firehose>,
    stream: &DeliveryStream,
    d: &HttpDestination,
    pending: &Pending,
    parts: Vec<Bytes>,
    version: u64,
    arrival_ms: i64,
    now: i64,
) -> Result<(), AwsError> {
    let backup = d.s3_configuration.clone().unwrap_or_default();
    if d.s3_backup_mode.as_deref() == Some("AllData") {
        let key = backup_key(stream, &backup, version, pending, arrival_ms);
        write_s3(f, &backup, key, parts.clone()).await?;
    }
    let error = match attempt(stream, d, pending, &parts).await {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let window_ms = d
        .retry_options
        .as_ref()
        .and_then(|r| r.duration_in_seconds)
        .unwrap_or(300)
        * 1000;
    if now - pending.started_ms < window_ms {
        return Err(AwsError::internal(format!(
            "HTTP endpoint delivery failed: {error}"
        )));
    }
    tracing::warn!(delivery_stream = %stream.name, %error, "HTTP endpoint delivery failed for the whole retry window; the batch goes to the S3 backup");
    let key = failed_key(
        stream,
        &backup,
        version,
        pending,
        arrival_ms,
        "http-endpoint-failed",
    );
    write_s3(f, &backup, key, parts).await
}
