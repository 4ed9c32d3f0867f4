//! The HTTP front of the emulator: one port for every service, HTTP/1.1 and HTTP/2 (h2c),
//! bounded request bodies, a health endpoint, and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Services;
use super::dispatch;
use super::error::AwsError;
use super::kinesis;
use super::protocol::Protocol;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A response body fed by a channel: one frame per message, ending when the sender is dropped.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|frame| frame.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

/// Accepts connections until `shutdown` flips, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let services = services.clone();
                let service = service_fn(move |req| {
                    let services = services.clone();
                    async move { Ok::<_, Infallible>(handle(services, req, peer).await) }
                });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("open connections did not finish within 10 s of shutdown");
        }
    }
}

async fn handle(
    services: Arc<Services>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let request_id = request_id();
    if req.method() == Method::GET && matches!(req.uri().path(), "/health" | "/healthz" | "/readyz")
    {
        return json_response(StatusCode::OK, &request_id, services.health());
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = if services.verifier.is_some() {
        let mut headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // HTTP/2 carries the host as the :authority pseudo-header; clients sign it as `host`.
        if !headers.iter().any(|(n, _)| n == "host")
            && let Some(authority) = req.uri().authority()
        {
            headers.push(("host".to_owned(), authority.to_string()));
        }
        headers
    } else {
        Vec::new()
    };
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ctx = dispatch::context(
        req.headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        &services.config.account_id,
    );
    let protocol = Protocol::from_content_type(content_type.as_deref());
    let answer_protocol = protocol.unwrap_or(Protocol::Json);

    let Some(target) = target else {
        return error_response(
            answer_protocol,
            &request_id,
            &AwsError::client(
                "UnknownOperationException",
                "The request names no operation: the X-Amz-Target header is missing.",
            ),
        );
    };
    let (service, operation) = target.split_once('.').unwrap_or((target.as_str(), ""));
    let Some(protocol) = protocol else {
        return error_response(
            answer_protocol,
            &request_id,
            &AwsError::serialization(format!(
                "Unsupported Content-Type {:?}: send application/x-amz-json-1.1 or application/x-amz-cbor-1.1.",
                content_type.unwrap_or_default()
            )),
        );
    };
    if req.method() != Method::POST {
        return error_response(
            protocol,
            &request_id,
            &AwsError::client(
                "UnknownOperationException",
                format!("{} requests carry no operation; use POST.", req.method()),
            ),
        );
    }
    let body = match Limited::new(req.into_body(), services.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let error = if too_large {
                AwsError {
                    code: "SerializationException",
                    message: format!(
                        "The request body is larger than the {} bytes the emulator accepts.",
                        services.config.max_body_bytes
                    ),
                    status: 413,
                }
            } else {
                AwsError::serialization(format!("Reading the request body failed: {e}"))
            };
            return error_response(protocol, &request_id, &error);
        }
    };

    if let Some(verifier) = &services.verifier {
        let signed = super::auth::SignedRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        if let Err(e) = verifier.verify(&signed, services.clock.now_ms()) {
            return error_response(protocol, &request_id, &e);
        }
    }
    let decision = services.faults.decide(operation);
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if service == kinesis::TARGET_PREFIX
        && operation == "SubscribeToShard"
        && decision.error.is_none()
    {
        return match kinesis::subscribe::subscribe(&services.kinesis, &ctx, protocol, &body) {
            Ok((subscription, initial)) => {
                event_stream_response(services.clone(), subscription, initial, &request_id)
            }
            Err(e) => error_response(protocol, &request_id, &e),
        };
    }
    let result = match decision.error {
        Some(e) => Err(e),
        None => match service {
            kinesis::TARGET_PREFIX => services.kinesis.handle(&ctx, operation, protocol, &body),
            _ => Err(AwsError::client(
                "UnknownOperationException",
                format!("The emulator does not serve {target}."),
            )),
        },
    };
    match result {
        Ok(bytes) => {
            tracing::debug!(%peer, operation, account = %ctx.account, region = %ctx.region, "ok");
            bytes_response(StatusCode::OK, protocol.content_type(), &request_id, bytes)
        }
        Err(e) => {
            tracing::debug!(%peer, operation, code = e.code, message = %e.message, "error");
            error_response(protocol, &request_id, &e)
        }
    }
}

fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
    body: Vec<u8>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn json_response(status: StatusCode, request_id: &str, body: serde_json::Value) -> Response<Body> {
    bytes_response(
        status,
        "application/json",
        request_id,
        body.to_string().into_bytes(),
    )
}

fn error_response(protocol: Protocol, request_id: &str, error: &AwsError) -> Response<Body> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = bytes_response(
        status,
        protocol.content_type(),
        request_id,
        protocol.encode_error(error),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error.code));
    response
}

/// Streams a subscription's events: the initial response, then an event whenever records
/// arrive (at least once a second), until the subscription ends or the client goes away.
fn event_stream_response(
    services: Arc<Services>,
    mut subscription: kinesis::subscribe::Subscription,
    initial: Vec<u8>,
    request_id: &str,
) -> Response<Body> {
    use kinesis::subscribe::{Step, Subscription, poll};
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        if tx.send(Bytes::from(initial)).await.is_err() {
            return;
        }
        let mut last_sent = tokio::time::Instant::now();
        while !services.stopping() {
            let heartbeat = last_sent.elapsed() >= std::time::Duration::from_secs(1);
            match poll(&services.kinesis, &mut subscription, heartbeat) {
                Some(Step::Event(frame)) => {
                    if tx.send(Bytes::from(frame)).await.is_err() {
                        return;
                    }
                    last_sent = tokio::time::Instant::now();
                }
                Some(Step::Last(frame)) => {
                    let _ = tx.send(Bytes::from(frame)).await;
                    return;
                }
                None => {
                    if tx.is_closed() {
                        return;
                    }
                    tokio::time::sleep(Subscription::idle_interval()).await;
                }
            }
        }
    });
    let mut response = Response::new(ChannelBody(rx).boxed());
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// A request ID in UUID form, unique within the process.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let a = start ^ n.rotate_left(32);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}
