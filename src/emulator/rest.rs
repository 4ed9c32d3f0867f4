//! Requests and answers of the REST-style services: S3 (REST with XML bodies) and IAM (the
//! query protocol, form-encoded request and XML answer). Unlike the JSON-RPC services, these
//! read the method, path, query and headers, and set status and headers of their answers.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

/// One request, body collected.
#[derive(Debug)]
pub struct RestRequest {
    /// HTTP method.
    pub method: Method,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The query string as sent, without `?` (still percent-encoded).
    pub query: String,
    /// Headers; for HTTP/2 the `:authority` is copied to `host`.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The request ID the answer carries (`x-amz-request-id` / `RequestId`).
    pub request_id: String,
}

impl RestRequest {
    /// The value of header `name` when it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One answer.
#[derive(Debug)]
pub struct RestResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl RestResponse {
    /// An answer with `status` and `body` and no headers yet.
    pub fn new(status: StatusCode, body: impl Into<Bytes>) -> Self {
        RestResponse {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// An XML answer (`Content-Type: application/xml`).
    pub fn xml(status: StatusCode, body: impl Into<Bytes>) -> Self {
        RestResponse::new(status, body).with_header(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        )
    }

    /// Sets header `name` to `value`.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
}
