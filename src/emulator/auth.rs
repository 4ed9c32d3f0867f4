//! Optional SigV4 verification (`--auth sigv4`): requests must be signed with one of the
//! configured credentials, as AWS requires. Off by default (`--auth none`), when any
//! credentials are accepted and only the credential scope is read.
//!
//! Both of SigV4's forms are checked: the `Authorization` header (every service) and the
//! query-string form of presigned URLs (S3), whose payload is unsigned and which expire
//! `X-Amz-Expires` seconds after `X-Amz-Date`.

use std::collections::HashMap;
use std::str::FromStr;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::dates::parse_amz_date;
use super::error::AwsError;

type HmacSha256 = hmac::Hmac<Sha256>;

/// How long a signature stays valid around its `X-Amz-Date`.
const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// An access key and its secret, from `--credential ACCESS_KEY:SECRET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Access key ID.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
}

impl FromStr for Credential {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some((key, secret)) if !key.is_empty() && !secret.is_empty() => Ok(Credential {
                access_key: key.to_owned(),
                secret: secret.to_owned(),
            }),
            _ => Err("--credential: expected ACCESS_KEY:SECRET".to_owned()),
        }
    }
}

/// The request parts a signature covers.
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, as sent.
    pub path: &'a str,
    /// Query string, as sent (without `?`).
    pub query: &'a str,
    /// Headers (names in any case).
    pub headers: &'a [(String, String)],
    /// Body.
    pub body: &'a [u8],
}

/// Verifies SigV4 signatures against known credentials.
#[derive(Debug, Default)]
pub struct Verifier {
    secrets: HashMap<String, String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn denied(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        code,
        message: message.into(),
        status: 400,
    }
}

impl Verifier {
    /// A verifier accepting `credentials`.
    pub fn new(credentials: &[Credential]) -> Self {
        Verifier {
            secrets: credentials
                .iter()
                .map(|c| (c.access_key.clone(), c.secret.clone()))
                .collect(),
        }
    }

    /// Checks the request's signature at time `now_ms`: its `Authorization` header, or for a
    /// presigned URL (no header, `X-Amz-Signature` in the query) the query-string signature.
    pub fn verify(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<(), AwsError> {
        self.verify_with(req, now_ms, &|_| None).map(|_| ())
    }

    /// Checks the request's signature against the configured credentials and, for other
    /// access keys, the secret `extra` knows (keys made by IAM with `--iam-enforce`); returns
    /// the access key that signed the request.
    pub fn verify_with(
        &self,
        req: &SignedRequest<'_>,
        now_ms: i64,
        extra: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, AwsError> {
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let Some(authorization) = header("authorization") else {
            if query_param(req.query, "X-Amz-Signature").is_some() {
                return self.verify_presigned(req, now_ms, extra);
            }
            return Err(denied(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ));
        };
        let incomplete = || {
            denied(
                "IncompleteSignatureException",
                format!(
                    "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature': {authorization}"
                ),
            )
        };
        let rest = authorization
            .strip_prefix("AWS4-HMAC-SHA256")
            .ok_or_else(incomplete)?;
        let field = |name: &str| {
            rest.split(',')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        };
        let (Some(credential), Some(signed_headers), Some(signature)) = (
            field("Credential"),
            field("SignedHeaders"),
            field("Signature"),
        ) else {
            return Err(incomplete());
        };
        let amz_date = header("x-amz-date").ok_or_else(incomplete)?;
        let signed_at = parse_amz_date(amz_date).ok_or_else(incomplete)?;
        if (now_ms - signed_at).abs() > MAX_SKEW_MS {
            return Err(denied(
                "InvalidSignatureException",
                format!(
                    "Signature expired: {amz_date} is now earlier or later than the allowed 5 minutes from the emulator's clock."
                ),
            ));
        }
        let payload_hash = match header("x-amz-content-sha256") {
            Some(h) => h.to_owned(),
            None => hex(&Sha256::digest(req.body)),
        };
        let query = canonical_query(req.query, None);
        self.check(
            req,
            &Signed {
                credential,
                signed_headers,
                signature,
                amz_date,
                query: &query,
                payload_hash: &payload_hash,
            },
            extra,
            incomplete,
        )
    }

    /// Checks a presigned URL: `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    /// `X-Amz-SignedHeaders` and `X-Amz-Signature` in the query; the payload is unsigned.
    fn verify_presigned(
        &self,
        req: &SignedRequest<'_>,
        now_ms: i64,
        extra: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, AwsError> {
        let incomplete = || {
            denied(
                "IncompleteSignatureException",
                "A presigned URL requires X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature.",
            )
        };
        let param = |name: &str| query_param(req.query, name);
        if param("X-Amz-Algorithm").as_deref() != Some("AWS4-HMAC-SHA256") {
            return Err(incomplete());
        }
        let (Some(credential), Some(amz_date), Some(signed_headers), Some(signature)) = (
            param("X-Amz-Credential"),
            param("X-Amz-Date"),
            param("X-Amz-SignedHeaders"),
            param("X-Amz-Signature"),
        ) else {
            return Err(incomplete());
        };
        let signed_at = parse_amz_date(&amz_date).ok_or_else(incomplete)?;
        let expires_s = match param("X-Amz-Expires") {
            None => 604_800,
            Some(e) => e
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=604_800).contains(s))
                .ok_or_else(|| AwsError {
                    code: "AuthorizationQueryParametersError",
                    message: "X-Amz-Expires must be less than a week (in seconds) that is 604800"
                        .to_owned(),
                    status: 400,
                })?,
        };
        if now_ms > signed_at.saturating_add(expires_s * 1000)
            || now_ms.saturating_add(MAX_SKEW_MS) < signed_at
        {
            return Err(AwsError {
                code: "AccessDenied",
                message: "Request has expired".to_owned(),
                status: 403,
            });
        }
        let query = canonical_query(req.query, Some("X-Amz-Signature"));
        self.check(
            req,
            &Signed {
                credential: &credential,
                signed_headers: &signed_headers,
                signature: &signature,
                amz_date: &amz_date,
                query: &query,
                payload_hash: "UNSIGNED-PAYLOAD",
            },
            extra,
            incomplete,
        )
    }

    /// Recomputes the signature of `req` from what `signed` says was signed, with the secret of
    /// a configured credential or else the one `extra` knows; returns the signing access key.
    fn check(
        &self,
        req: &SignedRequest<'_>,
        signed: &Signed<'_>,
        extra: &dyn Fn(&str) -> Option<String>,
        incomplete: impl Fn() -> AwsError,
    ) -> Result<String, AwsError> {
        let (access_key, scope) = signed.credential.split_once('/').ok_or_else(&incomplete)?;
        let secret = match self.secrets.get(access_key) {
            Some(secret) => secret.clone(),
            None => extra(access_key).ok_or_else(|| {
                denied(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                )
            })?,
        };
        let mut canonical_headers = String::new();
        for name in signed.signed_headers.split(';') {
            let values: Vec<String> = req
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let canonical_request = format!(
            "{}\n{}\n{}\n{canonical_headers}\n{}\n{}",
            req.method,
            if req.path.is_empty() { "/" } else { req.path },
            signed.query,
            signed.signed_headers,
            signed.payload_hash
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            signed.amz_date,
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let mut key = format!("AWS4{secret}").into_bytes();
        for part in scope.split('/') {
            key = hmac(&key, part.as_bytes());
        }
        let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
        if expected != signed.signature {
            return Err(denied(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            ));
        }
        Ok(access_key.to_owned())
    }
}

/// What a request says it signed (from its `Authorization` header or presigned query).
struct Signed<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: &'a str,
    query: &'a str,
    payload_hash: &'a str,
}

/// The decoded value of query parameter `name`.
fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// SigV4's canonical query string: every `name=value` pair as sent (already URI-encoded),
/// `=` added to bare names (`?uploads` is `uploads=`), sorted by name then value, without
/// the parameter `skip` (a presigned URL's signature).
fn canonical_query(query: &str, skip: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(n, _)| Some(*n) != skip)
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_queries_add_equals_and_sort() {
        assert_eq!(canonical_query("uploads", None), "uploads=");
        assert_eq!(
            canonical_query("prefix=a%2Fb&list-type=2&delimiter=", None),
            "delimiter=&list-type=2&prefix=a%2Fb"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&X-Amz-Date=1", Some("X-Amz-Signature")),
            "X-Amz-Date=1"
        );
    }

    /// AWS's documented example (IAM ListUsers, "get-vanilla" style), signing key and all.
    #[test]
    fn hostile_presigned_parameters_are_refused_not_panicking() {
        let verifier = Verifier::new(&["AKIDEXAMPLE:secret".parse().unwrap()]);
        let at = parse_amz_date("20150830T123600Z").unwrap();
        let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let cases = [
            (
                format!("{base}&X-Amz-Date=20150830T123600Z&X-Amz-Expires=9223372036854775807"),
                "AuthorizationQueryParametersError",
            ),
            (
                format!("{base}&X-Amz-Date=20150830T123600Z&X-Amz-Expires=0"),
                "AuthorizationQueryParametersError",
            ),
            (
                format!("{base}&X-Amz-Date=2015083%C3%A9000000Z"),
                "IncompleteSignatureException",
            ),
        ];
        for (query, code) in cases {
            let req = SignedRequest {
                method: "GET",
                path: "/b/k",
                query: &query,
                headers: &[("host".to_owned(), "127.0.0.1".to_owned())],
                body: b"",
            };
            assert_eq!(verifier.verify(&req, at).unwrap_err().code, code, "{query}");
        }
    }

    #[test]
    fn verifies_aws_documented_signature() {
        let headers = vec![
            ("Host".to_owned(), "iam.amazonaws.com".to_owned()),
            ("Content-Type".to_owned(), "application/x-www-form-urlencoded; charset=utf-8".to_owned()),
            ("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()),
            (
                "Authorization".to_owned(),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".to_owned(),
            ),
        ];
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
        };
        let verifier = Verifier::new(&["AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            .parse()
            .unwrap()]);
        let at = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(verifier.verify(&req, at), Ok(()));
        let wrong = Verifier::new(&["AKIDEXAMPLE:other".parse().unwrap()]);
        assert_eq!(
            wrong.verify(&req, at).unwrap_err().code,
            "InvalidSignatureException"
        );
        assert_eq!(
            Verifier::new(&[]).verify(&req, at).unwrap_err().code,
            "UnrecognizedClientException"
        );
        assert_eq!(
            verifier.verify(&req, at + 600_000).unwrap_err().code,
            "InvalidSignatureException"
        );
        let iam_key = |key: &str| {
            (key == "AKIDEXAMPLE").then(|| "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned())
        };
        assert_eq!(
            Verifier::new(&[]).verify_with(&req, at, &iam_key),
            Ok("AKIDEXAMPLE".to_owned())
        );
    }
}
