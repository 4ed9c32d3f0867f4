//! The body of an upload as S3 reads it: `aws-chunked` decoding (signed and unsigned
//! streaming, with or without trailers), and the integrity checks S3 makes before it stores
//! anything: `x-amz-content-sha256`, `Content-MD5`, and the flexible checksums sent as a
//! header or a trailer.
//!
//! Chunk signatures are not re-verified: the seed signature of the request is (with
//! `--auth sigv4`), and each chunk's integrity is covered by the checksums.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::checksum::{self, Algorithm, Checksum};
use super::errors::{S3Error, S3Result};
use super::hex;
use crate::emulator::rest::RestRequest;

/// An upload's body, decoded and verified.
#[derive(Debug)]
pub struct Payload {
    /// The object bytes (chunk framing removed).
    pub body: Bytes,
    /// The checksum the client sent, verified; `None` when it sent none.
    pub checksum: Option<Checksum>,
    /// MD5 of the body (the ETag of a single upload).
    pub md5: [u8; 16],
}

/// `x-amz-content-sha256` values other than a hex digest.
const STREAMING: [&str; 5] = [
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
];

fn malformed_chunks(detail: &str) -> S3Error {
    S3Error::invalid_request(format!(
        "The aws-chunked request body is malformed: {detail}."
    ))
}

/// Decodes and verifies the body of `req`.
pub fn read(req: &RestRequest) -> S3Result<Payload> {
    let content_sha = req.header("x-amz-content-sha256");
    let chunked = req
        .header("content-encoding")
        .is_some_and(|e| e.split(',').any(|p| p.trim() == "aws-chunked"));
    let (body, trailers) = match content_sha {
        Some(s) if STREAMING.contains(&s) => dechunk(&req.body)?,
        _ if chunked => dechunk(&req.body)?,
        Some("UNSIGNED-PAYLOAD") | None => (req.body.clone(), Vec::new()),
        Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let computed = hex(&Sha256::digest(&req.body));
            if !computed.eq_ignore_ascii_case(s) {
                return Err(S3Error::new(
                    400,
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
                .with("ClientComputedContentSHA256", s)
                .with("S3ComputedContentSHA256", computed));
            }
            (req.body.clone(), Vec::new())
        }
        Some(s) => {
            return Err(S3Error::invalid_argument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                "x-amz-content-sha256",
                s,
            ));
        }
    };
    if let Some(declared) = req.header("x-amz-decoded-content-length")
        && (chunked || content_sha.is_some_and(|s| s.starts_with("STREAMING-")))
        && declared.trim().parse::<u64>().ok() != Some(body.len() as u64)
    {
        return Err(S3Error::new(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ));
    }
    let md5: [u8; 16] = Md5::digest(&body).into();
    if let Some(claimed) = req.header("content-md5") {
        let decoded = STANDARD
            .decode(claimed.trim())
            .ok()
            .filter(|d| d.len() == 16)
            .ok_or_else(|| {
                S3Error::new(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified was not valid.",
                )
                .with("Content-MD5", claimed)
            })?;
        if decoded != md5 {
            return Err(S3Error::new(
                400,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            )
            .with("ExpectedDigest", claimed)
            .with("CalculatedDigest", STANDARD.encode(md5)));
        }
    }
    let checksum = claimed_checksum(req, &trailers, &body)?;
    Ok(Payload {
        body,
        checksum,
        md5,
    })
}

/// The verified checksum a request carries, as a header or a trailer.
fn claimed_checksum(
    req: &RestRequest,
    trailers: &[(String, String)],
    body: &[u8],
) -> S3Result<Option<Checksum>> {
    let mut claimed: Vec<(Algorithm, &str)> = checksum::ALL
        .into_iter()
        .filter_map(|a| req.header(a.header()).map(|v| (a, v)))
        .collect();
    claimed.extend(
        trailers
            .iter()
            .filter_map(|(n, v)| Algorithm::from_header(n).map(|a| (a, v.as_str()))),
    );
    if claimed.len() > 1 {
        return Err(S3Error::invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let sdk_algorithm = req.header("x-amz-sdk-checksum-algorithm");
    if let Some(name) = sdk_algorithm
        && Algorithm::from_name(name).is_none()
    {
        return Err(S3Error::invalid_request(
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        ));
    }
    match claimed.first() {
        Some((algorithm, value)) => {
            if let Some(name) = sdk_algorithm
                && Algorithm::from_name(name) != Some(*algorithm)
            {
                return Err(S3Error::invalid_request(format!(
                    "Value for x-amz-sdk-checksum-algorithm header is invalid: it names {name} but the request carries {}.",
                    algorithm.header()
                )));
            }
            checksum::verify(*algorithm, value, body).map(Some)
        }
        None if sdk_algorithm.is_some() => Err(S3Error::invalid_request(
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
        )),
        None => Ok(None),
    }
}

/// Splits an `aws-chunked` body into its data (one slice of the request when it is a single
/// chunk) and its trailers (names lowercased).
pub fn dechunk(raw: &Bytes) -> S3Result<(Bytes, Vec<(String, String)>)> {
    let mut at = 0;
    let mut pieces: Vec<Bytes> = Vec::new();
    loop {
        let line_end =
            find_crlf(raw, at).ok_or_else(|| malformed_chunks("a chunk header has no CRLF"))?;
        let header = std::str::from_utf8(&raw[at..line_end])
            .map_err(|_| malformed_chunks("a chunk header is not text"))?;
        let size_text = header.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| malformed_chunks("a chunk size is not hexadecimal"))?;
        at = line_end + 2;
        if size == 0 {
            break;
        }
        let end = at
            .checked_add(size)
            .filter(|&e| e.checked_add(2).is_some_and(|after| after <= raw.len()))
            .ok_or_else(|| malformed_chunks("a chunk is shorter than its size"))?;
        if &raw[end..end + 2] != b"\r\n" {
            return Err(malformed_chunks("a chunk does not end with CRLF"));
        }
        pieces.push(raw.slice(at..end));
        at = end + 2;
    }
    let mut trailers = Vec::new();
    while at < raw.len() {
        let line_end = find_crlf(raw, at).unwrap_or(raw.len());
        let line = std::str::from_utf8(&raw[at..line_end])
            .map_err(|_| malformed_chunks("a trailer is not text"))?;
        at = line_end + 2;
        if line.is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed_chunks("a trailer has no colon"))?;
        trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let body = match pieces.len() {
        0 => Bytes::new(),
        1 => pieces.swap_remove(0),
        _ => {
            let mut joined = BytesMut::with_capacity(pieces.iter().map(Bytes::len).sum());
            for piece in &pieces {
                joined.extend_from_slice(piece);
            }
            joined.freeze()
        }
    };
    Ok((body, trailers))
}

fn find_crlf(data: &[u8], from: usize) -> Option<usize> {
    data.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_signed_and_trailer_bodies() {
        let signed = Bytes::from_static(
            b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=ghi\r\n\r\n",
        );
        let (body, trailers) = dechunk(&signed).unwrap();
        assert_eq!(&body[..], b"hello world");
        assert!(trailers.is_empty());
        let trailer = Bytes::from_static(
            b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-trailer-signature:00\r\n\r\n",
        );
        let (body, trailers) = dechunk(&trailer).unwrap();
        assert_eq!(&body[..], b"abc");
        assert_eq!(
            trailers[0],
            ("x-amz-checksum-crc32".to_owned(), "NSRBwg==".to_owned())
        );
    }

    #[test]
    fn refuses_malformed_chunks() {
        for raw in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"10\r\nabc\r\n0\r\n\r\n",
            b"3\r\nabcXX0\r\n",
            b"3",
            b"ffffffffffffffed\r\n",
            b"ffffffffffffffff\r\n",
        ] {
            assert_eq!(
                dechunk(&Bytes::copy_from_slice(raw)).unwrap_err().code,
                "InvalidRequest",
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
