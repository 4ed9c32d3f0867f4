//! CORS, as AWS's endpoints answer it, so that the AWS SDK for JavaScript in a browser can reach
//! the emulator: a preflight (`OPTIONS` with `Origin`) is answered 200 for every service on the
//! port, allowing any origin and echoing the method and headers asked for, and every other
//! answer to a request with an `Origin` lets the page read it and the AWS headers the SDKs look
//! at (request IDs, error type, ETag...).

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderValue, ORIGIN,
};
use http::{Method, StatusCode};

/// Headers a browser page may read from an answer: those the AWS SDKs read.
const EXPOSED: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,x-amz-request-id,\
x-amz-id-2,x-amz-version-id,x-amz-delete-marker,x-amz-server-side-encryption,\
x-amz-checksum-crc32,x-amz-checksum-crc32c,x-amz-checksum-crc64nvme,x-amz-checksum-sha1,\
x-amz-checksum-sha256,x-amz-checksum-type,x-amz-bucket-region,x-amz-mp-parts-count,\
x-amz-tagging-count,ETag,Date,Content-Length,Content-Range,Last-Modified";

/// Methods allowed when a preflight names none.
const METHODS: &str = "GET,PUT,POST,DELETE,HEAD";

/// How long a browser may cache a preflight answer: two days, as AWS answers.
const MAX_AGE_SECS: &str = "172800";

/// Whether a request is a CORS preflight: `OPTIONS` with an `Origin`.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(ORIGIN)
}

/// The status and headers of the answer to a preflight whose request headers are `request`.
pub fn preflight(request: &HeaderMap) -> (StatusCode, HeaderMap) {
    let mut headers = HeaderMap::new();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let methods = request
        .get(ACCESS_CONTROL_REQUEST_METHOD)
        .cloned()
        .unwrap_or(HeaderValue::from_static(METHODS));
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
    if let Some(asked) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(
        ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECS),
    );
    (StatusCode::OK, headers)
}

/// Whether a request came from a page (has an `Origin`), so its answer needs [`expose`].
pub fn from_page(request: &HeaderMap) -> bool {
    request.contains_key(ORIGIN)
}

/// Adds the headers that let a page read an answer.
pub fn expose(answer: &mut HeaderMap) {
    answer.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    answer.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| {
                (
                    http::HeaderName::from_static(n),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn preflight_echoes_what_was_asked() {
        let request = headers(&[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,x-amz-target,x-amz-date,authorization",
            ),
        ]);
        assert!(is_preflight(&Method::OPTIONS, &request));
        assert!(!is_preflight(&Method::POST, &request));
        assert!(!is_preflight(&Method::OPTIONS, &HeaderMap::new()));
        let (status, answer) = preflight(&request);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(answer[ACCESS_CONTROL_ALLOW_METHODS], "POST");
        assert_eq!(
            answer[ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type,x-amz-target,x-amz-date,authorization"
        );
        assert_eq!(answer[ACCESS_CONTROL_MAX_AGE], "172800");
        let (_, bare) = preflight(&headers(&[("origin", "http://a")]));
        assert_eq!(bare[ACCESS_CONTROL_ALLOW_METHODS], METHODS);
        assert!(!bare.contains_key(ACCESS_CONTROL_ALLOW_HEADERS));
    }

    #[test]
    fn answers_expose_aws_headers_to_pages() {
        assert!(!from_page(&HeaderMap::new()));
        assert!(from_page(&headers(&[("origin", "http://a")])));
        let mut answer = HeaderMap::new();
        expose(&mut answer);
        assert_eq!(answer[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let exposed = answer[ACCESS_CONTROL_EXPOSE_HEADERS].to_str().unwrap();
        for name in [
            "x-amzn-RequestId",
            "x-amzn-ErrorType",
            "x-amz-request-id",
            "x-amz-id-2",
            "ETag",
        ] {
            assert!(exposed.split(',').any(|e| e == name), "{name}");
        }
    }
}
