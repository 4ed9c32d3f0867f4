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
use super::iam;
use super::iam::enforce::Caller;
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

/// S3 request bodies larger than this are handled on the blocking pool.
const BLOCKING_BODY_BYTES: usize = 256 << 10;

/// Which protocol family a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// `X-Amz-Target` services over JSON 1.1 or CBOR: Kinesis, Firehose.
    JsonRpc,
    /// IAM's query protocol (an unsigned one goes to STS when its action is STS's).
    Iam,
    /// STS's query protocol.
    Sts,
    /// S3 REST.
    S3,
}

/// Dispatches as AWS's endpoints would: an `X-Amz-Target` is a JSON-RPC call; otherwise the
/// SigV4 credential scope (header or presigned query) names the service; an unsigned request
/// with a JSON-RPC content type is JSON-RPC (it gets the JSON-RPC error for its missing
/// target), an unsigned form POST to `/` is IAM (or STS, by its action, once the body is
/// read), and anything else is S3. The scope comes
/// before the content type because an S3 object may carry any content type.
fn route(req: &Request<Incoming>) -> Route {
    let headers = req.headers();
    if headers.contains_key("x-amz-target") {
        return Route::JsonRpc;
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let query = req.uri().query().unwrap_or_default();
    match dispatch::scope_service(headers, query).as_deref() {
        Some("iam") => return Route::Iam,
        Some("sts") => return Route::Sts,
        Some("s3") => return Route::S3,
        Some("kinesis" | "firehose" | "kinesisanalytics") => return Route::JsonRpc,
        _ => {}
    }
    if content_type.starts_with("application/x-amz-json") || content_type.contains("cbor") {
        return Route::JsonRpc;
    }
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let query_action = query.split('&').any(|p| p.starts_with("Action="));
    if req.uri().path() == "/" && ((req.method() == Method::POST && form) || query_action) {
        return Route::Iam;
    }
    Route::S3
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
    if super::cors::is_preflight(req.method(), req.headers()) {
        let (status, headers) = super::cors::preflight(req.headers());
        let mut response = bytes_response(status, "text/plain", &request_id, Vec::new());
        response.headers_mut().remove(http::header::CONTENT_TYPE);
        response.headers_mut().extend(headers);
        return response;
    }
    let from_page = super::cors::from_page(req.headers());
    let mut response = match route(&req) {
        Route::JsonRpc => handle_json_rpc(services, req, peer, request_id).await,
        rest => handle_rest(services, req, rest, request_id).await,
    };
    if from_page {
        super::cors::expose(response.headers_mut());
    }
    response
}

/// The request's headers as name/value text pairs, with HTTP/2's `:authority` as `host`.
fn header_pairs(req: &Request<Incoming>) -> Vec<(String, String)> {
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
    if !headers.iter().any(|(n, _)| n == "host")
        && let Some(authority) = req.uri().authority()
    {
        headers.push(("host".to_owned(), authority.to_string()));
    }
    headers
}

/// Serves an S3 or IAM request: collects the body, checks the signature when asked to, and
/// hands the whole request to the service.
async fn handle_rest(
    services: Arc<Services>,
    req: Request<Incoming>,
    route: Route,
    request_id: String,
) -> Response<Body> {
    let error_answer = |e: &AwsError, route: Route| match route {
        Route::Iam => super::iam::error_response(e, &request_id),
        Route::Sts => super::sts::error_response(e, &request_id),
        _ => super::s3::error_response(e, &request_id),
    };
    // A presigned URL names its caller in the query's credential, as a header would.
    let presigned = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(n, _)| n == "X-Amz-Credential")
            .map(|(_, c)| format!("Credential={c}"))
    });
    let mut ctx = dispatch::context(
        req.headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .or(presigned.as_deref()),
        &services.config.account_id,
    );
    // Header text is only needed to check a signature (or to name an STS caller).
    let pairs = if services.verifier.is_some() || route == Route::Iam || route == Route::Sts {
        header_pairs(&req)
    } else {
        Vec::new()
    };
    let (parts, body) = req.into_parts();
    let mut headers = parts.headers;
    if !headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(http::header::HOST, host);
    }
    let limit = match route {
        Route::S3 => services.config.max_object_bytes,
        _ => services.config.max_body_bytes,
    };
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let error = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                match route {
                    Route::S3 => AwsError {
                        code: "EntityTooLarge",
                        message: format!(
                            "Your proposed upload exceeds the maximum allowed size of {limit} bytes the emulator accepts."
                        ),
                        status: 400,
                    },
                    _ => AwsError {
                        code: "RequestEntityTooLarge",
                        message: format!(
                            "The request body is larger than the {limit} bytes the emulator accepts."
                        ),
                        status: 413,
                    },
                }
            } else {
                AwsError::client(
                    "IncompleteBody",
                    format!("Reading the request body failed: {e}"),
                )
            };
            return rest_response(error_answer(&error, route), route, &request_id);
        }
    };
    let rest = super::rest::RestRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
        request_id: request_id.clone(),
    };
    let signed = super::auth::SignedRequest {
        method: rest.method.as_str(),
        path: &rest.path,
        query: &rest.query,
        headers: &pairs,
        body: &rest.body,
    };
    // An unsigned query-protocol request names its service only by its action.
    let route = if route == Route::Iam
        && dispatch::scope_service(&rest.headers, &rest.query).is_none()
        && iam::query::Params::parse(&rest.query, &rest.body)
            .get("Action")
            .is_some_and(|a| super::sts::ACTIONS.contains(&a))
    {
        Route::Sts
    } else {
        route
    };
    let caller = match services.authenticate(&signed) {
        Ok(Caller::Root) if services.verifier.is_none() && route == Route::Sts => {
            services.identify_unchecked(&signed)
        }
        Ok(caller) => caller,
        Err(e) => return rest_response(error_answer(&e, route), route, &request_id),
    };
    if let Some(account) = caller.account() {
        ctx.account = account.to_owned();
    }
    let mut may_delete: Option<Arc<super::s3::DeleteCheck>> = None;
    let enforced = services.config.iam_enforce && !matches!(caller, Caller::Root);
    // STS decides its own calls: AssumeRole by the role's trust policy, GetCallerIdentity
    // for anyone.
    if enforced && route != Route::Sts {
        let (target, delete_objects) = match route {
            Route::Iam => {
                let params = iam::query::Params::parse(&rest.query, &rest.body);
                (services.iam.iam_target(&ctx.account, &params), None)
            }
            _ => {
                let path = percent_encoding::percent_decode_str(&rest.path).decode_utf8_lossy();
                let (bucket, key) = services.s3.address(rest.header("host"), &path);
                let target =
                    iam::enforce::s3_target(rest.method.as_str(), &bucket, &key, &rest.query);
                let many = rest.method == Method::POST
                    && key.is_empty()
                    && target.action == "s3:DeleteObject";
                (target, many.then_some(bucket))
            }
        };
        // A copy also reads its source object.
        let copy_source = match route {
            Route::S3 => rest
                .header("x-amz-copy-source")
                .and_then(iam::enforce::s3_copy_source_target),
            _ => None,
        };
        match delete_objects {
            // DeleteObjects is allowed or refused key by key, in its answer.
            Some(bucket) => {
                let (services, caller, ctx) = (services.clone(), caller.clone(), ctx.clone());
                may_delete = Some(Arc::new(move |key: &str| {
                    let target = iam::enforce::Target {
                        action: "s3:DeleteObject".to_owned(),
                        resource: format!("arn:aws:s3:::{bucket}/{key}"),
                    };
                    services.iam.authorize(&caller, &target, &ctx).is_ok()
                }));
            }
            None => {
                let denied = std::iter::once(&target)
                    .chain(copy_source.as_ref())
                    .find_map(|t| services.iam.authorize(&caller, t, &ctx).err());
                if let Some(e) = denied {
                    let e = match route {
                        Route::S3 => AwsError {
                            code: "AccessDenied",
                            status: 403,
                            ..e
                        },
                        _ => e,
                    };
                    return rest_response(error_answer(&e, route), route, &request_id);
                }
            }
        }
    }
    if !services.faults.is_empty() {
        let operation = match route {
            Route::Iam | Route::Sts => iam::query::Params::parse(&rest.query, &rest.body)
                .get("Action")
                .unwrap_or_default()
                .to_owned(),
            _ => "S3".to_owned(),
        };
        let decision = services.faults.decide(&operation);
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        if let Some(e) = decision.error {
            return rest_response(
                error_answer(&rest_fault(e, route), route),
                route,
                &request_id,
            );
        }
    }
    let answer = match route {
        Route::Iam => services.iam.handle(&ctx, &rest),
        Route::Sts => services.sts.handle(&services.iam, &ctx, &caller, &rest),
        // Hashing, checksumming and storing a large body takes milliseconds: off the async
        // workers, so that Kinesis and Firehose calls are not held up behind an upload.
        _ if rest.body.len() > BLOCKING_BODY_BYTES => {
            let s3 = services.clone();
            let handled = tokio::task::spawn_blocking(move || {
                s3.s3.handle_checked(&ctx, &rest, may_delete.as_deref())
            })
            .await;
            match handled {
                Ok(answer) => answer,
                Err(e) => super::s3::error_response(
                    &AwsError::internal(format!("The S3 request failed: {e}")),
                    &request_id,
                ),
            }
        }
        _ => services
            .s3
            .handle_checked(&ctx, &rest, may_delete.as_deref()),
    };
    rest_response(answer, route, &request_id)
}

fn rest_response(
    answer: super::rest::RestResponse,
    route: Route,
    request_id: &str,
) -> Response<Body> {
    let mut response = Response::new(Full::new(answer.body).boxed());
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    if let Ok(id) = HeaderValue::from_str(request_id) {
        let name = match route {
            Route::S3 => "x-amz-request-id",
            _ => "x-amzn-requestid",
        };
        response.headers_mut().insert(name, id);
    }
    response
}

/// Serves a JSON-RPC (`X-Amz-Target`) request.
async fn handle_json_rpc(
    services: Arc<Services>,
    req: Request<Incoming>,
    peer: SocketAddr,
    request_id: String,
) -> Response<Body> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    // HTTP/2 carries the host as the :authority pseudo-header; clients sign it as `host`.
    let headers = if services.verifier.is_some() {
        header_pairs(&req)
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
    let mut ctx = dispatch::context(
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

    let signed = super::auth::SignedRequest {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    let caller = match services.authenticate(&signed) {
        Ok(caller) => caller,
        Err(e) => return error_response(protocol, &request_id, &super::sts::for_json(e)),
    };
    if let Some(account) = caller.account() {
        ctx.account = account.to_owned();
    }
    if services.config.iam_enforce && !matches!(caller, Caller::Root) {
        let target = iam::enforce::json_rpc_target(service, operation, protocol, &body, &ctx);
        if let Err(e) = services.iam.authorize(&caller, &target, &ctx) {
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
            super::firehose::TARGET_PREFIX => {
                services.firehose.handle(&ctx, operation, protocol, &body)
            }
            super::analytics::TARGET_PREFIX => {
                services.analytics.handle(&ctx, operation, protocol, &body)
            }
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

/// An injected fault in the words of a REST or query service: IAM and STS throttle with
/// `Throttling` and fail with `ServiceFailure`; S3 slows callers down with 503 `SlowDown` and
/// fails with `InternalError`.
fn rest_fault(e: AwsError, route: Route) -> AwsError {
    let (code, status, message): (&'static str, u16, String) = match (route, e.status) {
        (Route::S3, 503) => (
            "ServiceUnavailable",
            503,
            "Service is unable to handle request.".into(),
        ),
        (Route::S3, s) if s >= 500 => (
            "InternalError",
            500,
            "We encountered an internal error. Please try again.".into(),
        ),
        (Route::S3, _) => ("SlowDown", 503, "Please reduce your request rate.".into()),
        (_, 503) => ("ServiceUnavailable", 503, e.message),
        (_, s) if s >= 500 => ("ServiceFailure", 500, e.message),
        (_, _) => ("Throttling", 400, "Rate exceeded".into()),
    };
    AwsError {
        code,
        status,
        message,
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
