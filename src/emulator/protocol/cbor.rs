//! `application/x-amz-cbor-1.1` bodies (RFC 8949), as the AWS SDKs for Java send them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::emulator::error::AwsError;

/// Decodes a CBOR request body. An empty body is an empty map.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body: &[u8] = if body.is_empty() { &[0xa0] } else { body };
    let mut reader = body;
    let value =
        ciborium::de::from_reader(&mut reader).map_err(|e| super::serialization::from_cbor(&e))?;
    if !reader.is_empty() {
        return Err(AwsError::serialization(
            "The request body is not valid CBOR: it has bytes after its first item.",
        ));
    }
    Ok(value)
}

/// Encodes an answer as CBOR.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    ciborium::ser::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::protocol::{Blob, Timestamp};

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(rename = "Data")]
        data: Blob,
        #[serde(rename = "At")]
        at: Timestamp,
    }

    #[test]
    fn blobs_are_byte_strings_and_timestamps_tagged_epoch_millis() {
        let bytes = encode(&Sample {
            data: Blob(b"hi".to_vec()),
            at: Timestamp(1_500_000_000_123),
        });
        // map(2) "Data" bytes(2) "hi" "At" tag(1) uint64
        let expected_prefix = [
            0xa2, 0x64, b'D', b'a', b't', b'a', 0x42, b'h', b'i', 0x62, b'A', b't', 0xc1, 0x1b,
        ];
        assert_eq!(&bytes[..expected_prefix.len()], &expected_prefix);
        assert_eq!(
            &bytes[expected_prefix.len()..],
            &1_500_000_000_123u64.to_be_bytes()
        );
        let back: Sample = decode(&bytes).unwrap();
        assert_eq!(back.data.0, b"hi");
        assert_eq!(back.at, Timestamp(1_500_000_000_123));
    }

    #[test]
    fn malformed_cbor_is_a_serialization_exception() {
        let cases: [&[u8]; 5] = [
            &[0xa1],                                                 // map with a missing entry
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 2^64-byte string
            &[0xff],         // break outside indefinite item
            &[0xa0, 0x00],   // trailing bytes
            &[0x81; 10_000], // deep nesting
        ];
        for body in cases {
            let err = decode::<std::collections::BTreeMap<String, Blob>>(body).unwrap_err();
            assert_eq!(err.code, "SerializationException", "{body:02x?}");
        }
    }
}
