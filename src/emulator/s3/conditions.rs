//! Reads that depend on the object: `Range` (`bytes=a-b`, `bytes=a-`, `bytes=-n`) and the
//! preconditions `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since`,
//! evaluated in the order S3 documents (RFC 7232).

use super::errors::S3Error;
use crate::emulator::dates::parse_http_date;

/// What the preconditions decide.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Serve the object.
    Proceed,
    /// 304 Not Modified.
    NotModified,
}

/// The headers of the preconditions, by name (`if-match`, ...), from a request.
pub struct Preconditions<'a> {
    /// `If-Match`.
    pub if_match: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a str>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a str>,
}

/// True when the ETag list `header` (`"a", "b"`, `*`, or unquoted) holds `etag` (quoted).
pub fn etag_matches(header: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.trim_start_matches("W/").trim_matches('"') == bare
    })
}

/// `PreconditionFailed` (412) naming the condition that failed.
pub fn precondition_failed(condition: &str) -> S3Error {
    S3Error::new(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .with("Condition", condition)
}

impl Preconditions<'_> {
    /// Evaluates the preconditions against an object with `etag` written at
    /// `last_modified_ms`. Dates that do not parse are ignored, as S3 does.
    pub fn evaluate(&self, etag: &str, last_modified_ms: i64) -> Result<Verdict, S3Error> {
        let modified_s = last_modified_ms.div_euclid(1000);
        let since =
            |text: Option<&str>| text.and_then(parse_http_date).map(|ms| ms.div_euclid(1000));
        match self.if_match {
            Some(list) if !etag_matches(list, etag) => return Err(precondition_failed("If-Match")),
            Some(_) => {}
            None => {
                if let Some(at) = since(self.if_unmodified_since)
                    && modified_s > at
                {
                    return Err(precondition_failed("If-Unmodified-Since"));
                }
            }
        }
        match self.if_none_match {
            Some(list) if etag_matches(list, etag) => return Ok(Verdict::NotModified),
            Some(_) => {}
            None => {
                if let Some(at) = since(self.if_modified_since)
                    && modified_s <= at
                {
                    return Ok(Verdict::NotModified);
                }
            }
        }
        Ok(Verdict::Proceed)
    }
}

/// The byte range a `Range` header selects in an object of `size` bytes: `Ok(None)` when
/// the header does not parse or names several ranges (S3 then serves the whole object),
/// `InvalidRange` (416) when it cannot be satisfied.
pub fn range(header: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = || {
        S3Error::new(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", header)
        .with("ActualObjectSize", size.to_string())
    };
    let parsed = |t: &str| t.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, false) => {
            let Some(n) = parsed(last) else {
                return Ok(None);
            };
            if n == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            Ok(Some((size.saturating_sub(n), size - 1)))
        }
        (false, _) => {
            let Some(a) = parsed(first) else {
                return Ok(None);
            };
            let b = if last.is_empty() {
                u64::MAX
            } else {
                match parsed(last) {
                    Some(b) if b >= a => b,
                    _ => return Ok(None),
                }
            };
            if a >= size {
                return Err(unsatisfiable());
            }
            Ok(Some((a, b.min(size - 1))))
        }
        (true, true) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Selected = Result<Option<(u64, u64)>, &'static str>;

    #[test]
    fn ranges() {
        let table: &[(&str, u64, Selected)] = &[
            ("bytes=0-4", 10, Ok(Some((0, 4)))),
            ("bytes=5-", 10, Ok(Some((5, 9)))),
            ("bytes=-3", 10, Ok(Some((7, 9)))),
            ("bytes=-30", 10, Ok(Some((0, 9)))),
            ("bytes=8-100", 10, Ok(Some((8, 9)))),
            ("bytes=10-", 10, Err("InvalidRange")),
            ("bytes=-0", 10, Err("InvalidRange")),
            ("bytes=0-", 0, Err("InvalidRange")),
            ("bytes=5-2", 10, Ok(None)),
            ("bytes=0-1,3-4", 10, Ok(None)),
            ("items=0-1", 10, Ok(None)),
            ("bytes=x-", 10, Ok(None)),
            ("bytes=-", 10, Ok(None)),
        ];
        for (header, size, expected) in table {
            let got = range(header, *size).map_err(|e| e.code);
            assert_eq!(got, *expected, "{header} of {size}");
        }
    }

    #[test]
    fn preconditions() {
        let etag = "\"abc\"";
        let at = 1_000_000_000_000;
        let before = "Sat, 08 Sep 2001 00:00:00 GMT";
        let after = "Mon, 10 Sep 2001 00:00:00 GMT";
        type Headers = [Option<&'static str>; 4];
        let table: &[(Headers, Result<Verdict, &str>)] = &[
            ([None, None, None, None], Ok(Verdict::Proceed)),
            ([Some("\"abc\""), None, None, None], Ok(Verdict::Proceed)),
            ([Some("abc"), None, None, None], Ok(Verdict::Proceed)),
            ([Some("*"), None, None, None], Ok(Verdict::Proceed)),
            ([Some("\"x\""), None, None, None], Err("If-Match")),
            (
                [None, Some("\"abc\""), None, None],
                Ok(Verdict::NotModified),
            ),
            ([None, Some("\"x\""), None, None], Ok(Verdict::Proceed)),
            ([None, None, Some(after), None], Ok(Verdict::NotModified)),
            ([None, None, Some(before), None], Ok(Verdict::Proceed)),
            ([None, None, None, Some(before)], Err("If-Unmodified-Since")),
            ([None, None, None, Some(after)], Ok(Verdict::Proceed)),
            (
                [Some("\"abc\""), None, None, Some(before)],
                Ok(Verdict::Proceed),
            ),
            (
                [None, Some("\"x\""), Some(after), None],
                Ok(Verdict::Proceed),
            ),
            ([None, None, Some("garbage"), None], Ok(Verdict::Proceed)),
        ];
        for ([m, n, ms, us], expected) in table {
            let p = Preconditions {
                if_match: *m,
                if_none_match: *n,
                if_modified_since: *ms,
                if_unmodified_since: *us,
            };
            let got = p.evaluate(etag, at).map_err(|e| {
                e.fields
                    .iter()
                    .find(|(n, _)| *n == "Condition")
                    .map(|(_, v)| v.clone())
                    .unwrap()
            });
            let expected = expected.as_ref().map_err(|c| c.to_string());
            assert_eq!(
                got.as_ref(),
                expected.as_ref().map(|v| *v),
                "{m:?} {n:?} {ms:?} {us:?}"
            );
        }
    }
}

/// The conditions of a conditional write (PutObject, CompleteMultipartUpload, CopyObject):
/// `If-None-Match: *` (only when no object is there) and `If-Match: etag`.
#[derive(Debug, Default)]
pub struct WriteCondition {
    /// `If-Match`: the ETag the current object must have.
    pub if_match: Option<String>,
    /// `If-None-Match: *`: there must be no object.
    pub if_none_match: bool,
}

impl WriteCondition {
    /// The conditions of a request's headers; `NotImplemented` for an `If-None-Match` other
    /// than `*`, as S3 answers.
    pub fn from_headers(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
    ) -> Result<Self, S3Error> {
        if let Some(value) = if_none_match
            && value.trim() != "*"
        {
            return Err(S3Error::new(
                501,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
            )
            .with("Header", "If-None-Match"));
        }
        Ok(WriteCondition {
            if_match: if_match.map(str::to_owned),
            if_none_match: if_none_match.is_some(),
        })
    }

    /// Checks the conditions against the current object at the key (its ETag, if any).
    pub fn check(&self, key: &str, current: Option<&str>) -> Result<(), S3Error> {
        if self.if_none_match && current.is_some() {
            return Err(precondition_failed("If-None-Match"));
        }
        if let Some(expected) = &self.if_match {
            match current {
                None => return Err(S3Error::no_such_key(key)),
                Some(etag) if !etag_matches(expected, etag) => {
                    return Err(precondition_failed("If-Match"));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}
