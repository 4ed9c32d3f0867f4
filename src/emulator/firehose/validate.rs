//! Model constraints of Firehose inputs (AWS's `ValidationException` wording, member paths in
//! the model's lowerCamel form) and the semantic rules AWS answers with
//! `InvalidArgumentException`.

use super::model::{BufferingHints, HttpDestination, S3Destination, Tag};
use crate::emulator::error::{AwsError, Validation, is_name};

/// Compression formats of S3 destinations.
pub const COMPRESSION: [&str; 5] = ["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"];

/// `DeliveryStreamName`: 1..64 characters of `[a-zA-Z0-9_.-]`.
pub fn name(v: &mut Validation, path: &str, value: &Option<String>) {
    match value {
        None => {
            v.required(path, value);
        }
        Some(n) => {
            v.length(path, n, 1, 64);
            v.pattern(path, n, "[a-zA-Z0-9_.-]+", is_name);
        }
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn arn_parts(s: &str) -> Option<[&str; 6]> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [a, partition, service, region, account, resource] = parts[..] else {
        return None;
    };
    (a == "arn").then_some([a, partition, service, region, account, resource])
}

/// `arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+`.
pub fn is_role_arn(s: &str) -> bool {
    arn_parts(s).is_some_and(|[_, _, service, region, account, resource]| {
        service == "iam"
            && region.is_empty()
            && digits(account, 12)
            && resource.strip_prefix("role/").is_some_and(|r| {
                !r.is_empty()
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b))
            })
    })
}

/// `arn:.*:s3:::[\w\.\-]{1,255}`; the bucket name.
pub fn bucket_of(s: &str) -> Option<&str> {
    let [_, _, service, region, account, bucket] = arn_parts(s)?;
    (service == "s3"
        && region.is_empty()
        && account.is_empty()
        && (1..=255).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
    .then_some(bucket)
}

/// `arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+`.
pub fn is_stream_arn(s: &str) -> bool {
    arn_parts(s).is_some_and(|[_, _, service, region, account, resource]| {
        service == "kinesis"
            && !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && digits(account, 12)
            && resource.strip_prefix("stream/").is_some_and(is_name)
    })
}

/// `arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+`.
pub fn is_kms_arn(s: &str) -> bool {
    arn_parts(s).is_some_and(|[_, _, service, region, account, resource]| {
        service == "kms"
            && !region.is_empty()
            && digits(account, 12)
            && resource
                .strip_prefix("key/")
                .or_else(|| resource.strip_prefix("alias/"))
                .is_some_and(|r| {
                    !r.is_empty()
                        && r.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b))
                })
    })
}

fn role(v: &mut Validation, path: &str, value: &Option<String>, required: bool) {
    match value {
        None if required => {
            v.required(path, value);
        }
        None => {}
        Some(r) => {
            v.length(path, r, 1, 512);
            v.pattern(
                path,
                r,
                "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
                is_role_arn,
            );
        }
    }
}

fn hints(v: &mut Validation, path: &str, hints: &Option<BufferingHints>, max_mb: i64) {
    if let Some(h) = hints {
        if let Some(size) = h.size_in_mbs {
            v.range(format!("{path}.bufferingHints.sizeInMBs"), size, 1, max_mb);
        }
        if let Some(interval) = h.interval_in_seconds {
            v.range(
                format!("{path}.bufferingHints.intervalInSeconds"),
                interval,
                0,
                900,
            );
        }
    }
}

/// An S3 destination (configuration when `full`, else an update) at `path`.
pub fn s3(v: &mut Validation, path: &str, d: &S3Destination, full: bool) {
    role(v, &format!("{path}.roleARN"), &d.role_arn, full);
    let bucket_path = format!("{path}.bucketARN");
    match &d.bucket_arn {
        None if full => {
            v.required(&bucket_path, &d.bucket_arn);
        }
        None => {}
        Some(b) => {
            v.length(&bucket_path, b, 1, 2048);
            v.pattern(&bucket_path, b, "arn:.*:s3:::[\\w\\.\\-]{1,255}", |s| {
                bucket_of(s).is_some()
            });
        }
    }
    if let Some(p) = &d.prefix {
        v.length(format!("{path}.prefix"), p, 0, 1024);
    }
    if let Some(p) = &d.error_output_prefix {
        v.length(format!("{path}.errorOutputPrefix"), p, 0, 1024);
    }
    hints(v, path, &d.buffering_hints, 128);
    if let Some(c) = &d.compression_format {
        v.one_of(format!("{path}.compressionFormat"), c, &COMPRESSION);
    }
    if let Some(mode) = &d.s3_backup_mode {
        v.one_of(
            format!("{path}.s3BackupMode"),
            mode,
            &["Disabled", "Enabled"],
        );
    }
    if let Some(ext) = &d.file_extension {
        let p = format!("{path}.fileExtension");
        v.length(&p, ext, 0, 128);
        v.pattern(&p, ext, "^$|\\.[0-9a-z!\\-_.*'()]+", |s| {
            s.is_empty()
                || s.strip_prefix('.').is_some_and(|rest| {
                    !rest.is_empty()
                        && rest.bytes().all(|b| {
                            b.is_ascii_digit() || b.is_ascii_lowercase() || b"!-_.*'()".contains(&b)
                        })
                })
        });
    }
}

/// `https://...` (and, for endpoints on this machine, `http://`: AWS cannot reach those at
/// all, and tests of the emulator run their receivers without TLS).
pub fn is_endpoint_url(s: &str) -> bool {
    if s.starts_with("https://") {
        return true;
    }
    let Some(rest) = s.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// An HTTP endpoint destination (configuration when `full`, else an update) at `path`.
pub fn http(v: &mut Validation, path: &str, d: &HttpDestination, full: bool) {
    let endpoint_path = format!("{path}.endpointConfiguration");
    match &d.endpoint_configuration {
        None if full => {
            v.required(&endpoint_path, &d.endpoint_configuration);
        }
        None => {}
        Some(e) => {
            let url_path = format!("{endpoint_path}.url");
            match &e.url {
                None => {
                    v.required(&url_path, &e.url);
                }
                Some(url) => {
                    v.length(&url_path, url, 1, 1000);
                    v.pattern(&url_path, url, "https://.*", is_endpoint_url);
                }
            }
            if let Some(n) = &e.name {
                v.length(format!("{endpoint_path}.name"), n, 1, 256);
            }
            if let Some(k) = &e.access_key {
                v.length(format!("{endpoint_path}.accessKey"), k, 0, 4096);
            }
        }
    }
    hints(v, path, &d.buffering_hints, 100);
    role(v, &format!("{path}.roleARN"), &d.role_arn, false);
    if let Some(r) = &d.retry_options
        && let Some(s) = r.duration_in_seconds
    {
        v.range(format!("{path}.retryOptions.durationInSeconds"), s, 0, 7200);
    }
    if let Some(mode) = &d.s3_backup_mode {
        v.one_of(
            format!("{path}.s3BackupMode"),
            mode,
            &["FailedDataOnly", "AllData"],
        );
    }
    if let Some(rc) = &d.request_configuration
        && let Some(enc) = &rc.content_encoding
    {
        v.one_of(
            format!("{path}.requestConfiguration.contentEncoding"),
            enc,
            &["NONE", "GZIP"],
        );
    }
    let s3_path = format!("{path}.s3Configuration");
    match &d.s3_configuration {
        None if full => {
            v.required(&s3_path, &d.s3_configuration);
        }
        None => {}
        Some(s) => s3(v, &s3_path, s, full),
    }
}

/// The `!{namespace:value}` expressions of a prefix, or the text of a malformed one.
pub fn expressions(prefix: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = prefix;
    while let Some(i) = rest.find("!{") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(rest[i..].to_owned());
        };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// AWS's rules for custom prefixes: known expressions only, `firehose:error-output-type` only
/// in the error prefix, an error prefix whenever the prefix has expressions. Dynamic
/// partitioning keys are refused: the emulator does not evaluate them, and an object name
/// without them would be wrong without a word.
pub fn prefixes(d: &S3Destination) -> Result<(), AwsError> {
    let prefix = d.prefix.as_deref().unwrap_or_default();
    let error_prefix = d.error_output_prefix.as_deref().unwrap_or_default();
    let check = |text: &str, is_error: bool| -> Result<bool, AwsError> {
        let exprs = expressions(text).map_err(|bad| {
            AwsError::invalid_argument(format!(
                "The expression {bad} in the {} is not closed with '}}'.",
                if is_error {
                    "ErrorOutputPrefix"
                } else {
                    "Prefix"
                }
            ))
        })?;
        for e in &exprs {
            if e.starts_with("partitionKeyFromQuery:") || e.starts_with("partitionKeyFromLambda:") {
                // Keys from dynamic partitioning would silently be missing from object names.
                return Err(AwsError::invalid_argument(format!(
                    "The expression !{{{e}}} needs dynamic partitioning, which this emulator does not run; use !{{timestamp:...}} and !{{firehose:random-string}} expressions."
                )));
            }
            let known = e.starts_with("timestamp:")
                || *e == "firehose:random-string"
                || (is_error && *e == "firehose:error-output-type");
            if !known {
                return Err(AwsError::invalid_argument(format!(
                    "The expression !{{{e}}} is not supported in the {}.",
                    if is_error {
                        "ErrorOutputPrefix"
                    } else {
                        "Prefix"
                    }
                )));
            }
        }
        Ok(!exprs.is_empty())
    };
    let prefix_has = check(prefix, false)?;
    check(error_prefix, true)?;
    if prefix_has && error_prefix.is_empty() {
        return Err(AwsError::invalid_argument(
            "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.",
        ));
    }
    Ok(())
}

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@%".contains(c)
}

/// A list of tags at `path` (`tags`), 1..50 of them.
pub fn tags(v: &mut Validation, path: &str, tags: &[Tag], max: usize) {
    v.size(path, "'[...]'", tags.len(), 1, max);
    for (i, t) in tags.iter().enumerate() {
        let key_path = format!("{path}.{}.member.key", i + 1);
        match &t.key {
            None => {
                v.required(&key_path, &t.key);
            }
            Some(k) => {
                v.length(&key_path, k, 1, 128);
                v.pattern(
                    &key_path,
                    k,
                    "^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$",
                    |s| !s.starts_with("aws:") && s.chars().all(tag_char),
                );
            }
        }
        if let Some(val) = &t.value {
            let value_path = format!("{path}.{}.member.value", i + 1);
            v.length(&value_path, val, 0, 256);
            v.pattern(
                &value_path,
                val,
                "^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$",
                |s| s.chars().all(tag_char),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_patterns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/firehose"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/firehose"));
        assert!(!is_role_arn("role/firehose"));
        assert_eq!(bucket_of("arn:aws:s3:::my-bucket"), Some("my-bucket"));
        assert_eq!(bucket_of("arn:aws:s3:us-east-1::b"), None);
        assert!(is_stream_arn(
            "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        ));
        assert!(!is_stream_arn("arn:aws:kinesis:us-east-1:1:stream/s"));
        assert!(is_kms_arn("arn:aws:kms:us-east-1:123456789012:key/abc-1"));
    }

    #[test]
    fn endpoint_urls() {
        for (url, ok) in [
            ("https://example.com/x", true),
            ("http://127.0.0.1:8080/in", true),
            ("http://localhost/in", true),
            ("http://example.com/in", false),
            ("ftp://x", false),
        ] {
            assert_eq!(is_endpoint_url(url), ok, "{url}");
        }
    }

    #[test]
    fn prefix_expressions() {
        assert_eq!(
            expressions("a/!{timestamp:yyyy}/!{firehose:random-string}/"),
            Ok(vec!["timestamp:yyyy", "firehose:random-string"])
        );
        assert!(expressions("a/!{timestamp:yyyy").is_err());
        let with = |p: &str, e: Option<&str>| S3Destination {
            prefix: Some(p.to_owned()),
            error_output_prefix: e.map(str::to_owned),
            ..S3Destination::default()
        };
        assert!(prefixes(&with("plain/", None)).is_ok());
        assert!(prefixes(&with("!{timestamp:yyyy}/", None)).is_err());
        assert!(prefixes(&with("!{timestamp:yyyy}/", Some("err/"))).is_ok());
        assert!(prefixes(&with("!{firehose:error-output-type}/", Some("e/"))).is_err());
        assert!(prefixes(&with("p/", Some("!{firehose:error-output-type}/"))).is_ok());
        assert!(prefixes(&with("!{nope}/", Some("e/"))).is_err());
        assert!(prefixes(&with("!{partitionKeyFromQuery:id}/", Some("e/"))).is_err());
    }
}
