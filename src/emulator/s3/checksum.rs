//! The flexible checksums of S3 (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`,
//! `-sha256`): computing them, decoding what a client sent, and the errors S3 answers when
//! one is malformed or does not match.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::errors::S3Error;

/// A checksum algorithm S3 supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// CRC-32 (ISO-HDLC), 4 bytes.
    Crc32,
    /// CRC-32C (Castagnoli), 4 bytes.
    Crc32c,
    /// CRC-64/NVME, 8 bytes: what S3 computes when the client sends none.
    Crc64Nvme,
    /// SHA-1, 20 bytes.
    Sha1,
    /// SHA-256, 32 bytes.
    Sha256,
}

/// Every algorithm, in the order S3's headers are looked up.
pub const ALL: [Algorithm; 5] = [
    Algorithm::Crc32,
    Algorithm::Crc32c,
    Algorithm::Crc64Nvme,
    Algorithm::Sha1,
    Algorithm::Sha256,
];

impl Algorithm {
    /// The name in `x-amz-sdk-checksum-algorithm` and `ChecksumAlgorithm` (`CRC32`...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying the value (`x-amz-checksum-crc32`...).
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element of the value in list and copy answers (`ChecksumCRC32`...).
    pub fn element(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// The algorithm named `name` (case-insensitive), as sent in
    /// `x-amz-sdk-checksum-algorithm` or `x-amz-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        ALL.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The algorithm whose header is `header` (lowercase).
    pub fn from_header(header: &str) -> Option<Algorithm> {
        ALL.into_iter().find(|a| a.header() == header)
    }

    /// Length of a digest in bytes.
    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// The raw digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Crc32 => crc32fast::hash(data).to_be_bytes().to_vec(),
            Algorithm::Crc32c => crc32c::crc32c(data).to_be_bytes().to_vec(),
            Algorithm::Crc64Nvme => crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data)
                .to_be_bytes()
                .to_vec(),
            Algorithm::Sha1 => Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// The base64 digest of `data`, as S3 writes it.
    pub fn encode(self, data: &[u8]) -> String {
        STANDARD.encode(self.digest(data))
    }
}

/// A stored checksum: its algorithm and base64 value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Base64 value.
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE` (multipart uploads of SHA and CRC32/CRC32C parts).
    pub composite: bool,
}

impl Checksum {
    /// `FULL_OBJECT` or `COMPOSITE`, as in `x-amz-checksum-type`.
    pub fn kind(&self) -> &'static str {
        if self.composite {
            "COMPOSITE"
        } else {
            "FULL_OBJECT"
        }
    }
}

/// Checks a claimed base64 `value` of `algorithm` against `data`; the stored checksum when
/// it matches. `InvalidRequest` when the value is not a digest of that algorithm, `BadDigest`
/// when it does not match.
pub fn verify(algorithm: Algorithm, value: &str, data: &[u8]) -> Result<Checksum, S3Error> {
    let claimed = STANDARD
        .decode(value.trim())
        .ok()
        .filter(|d| d.len() == algorithm.digest_len())
        .ok_or_else(|| {
            S3Error::invalid_request(format!(
                "Value for {} header is invalid.",
                algorithm.header()
            ))
        })?;
    if claimed != algorithm.digest(data) {
        return Err(S3Error::new(
            400,
            "BadDigest",
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            ),
        ));
    }
    Ok(Checksum {
        algorithm,
        value: value.trim().to_owned(),
        composite: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_inputs() {
        let data = b"123456789";
        assert_eq!(Algorithm::Crc32.digest(data), 0xCBF4_3926u32.to_be_bytes());
        assert_eq!(Algorithm::Crc32c.digest(data), 0xE306_9283u32.to_be_bytes());
        assert_eq!(
            Algorithm::Crc64Nvme.digest(data),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(
            Algorithm::Sha256.encode(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn verification_errors() {
        let good = Algorithm::Crc32.encode(b"abc");
        assert!(verify(Algorithm::Crc32, &good, b"abc").is_ok());
        assert_eq!(
            verify(Algorithm::Crc32, &good, b"abd").unwrap_err().code,
            "BadDigest"
        );
        assert_eq!(
            verify(Algorithm::Crc32, "not base64!", b"abc")
                .unwrap_err()
                .code,
            "InvalidRequest"
        );
        assert_eq!(
            verify(Algorithm::Sha1, &good, b"abc").unwrap_err().code,
            "InvalidRequest"
        );
        assert_eq!(Algorithm::from_name("crc32c"), Some(Algorithm::Crc32c));
        assert_eq!(Algorithm::from_name("md5"), None);
    }
}
