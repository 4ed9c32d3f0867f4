//! The two value kinds whose encoding differs between the JSON and CBOR protocols.
//!
//! - [`Blob`]: base64 text in JSON; a CBOR byte string (text is accepted too, as some clients
//!   send base64 text in CBOR).
//! - [`Timestamp`]: epoch seconds as a number in JSON; in CBOR, tag 1 with epoch milliseconds
//!   as an integer, which is what the AWS SDKs for Java write and read.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// Binary data.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&base64::display::Base64Display::new(&self.0, &STANDARD))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlobVisitor;
        impl<'de> Visitor<'de> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("base64 text or a byte string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
                STANDARD
                    .decode(v)
                    .map(Blob)
                    .map_err(|_| E::custom(base64_error(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                // Some CBOR encoders send byte strings as arrays of small integers.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        deserializer.deserialize_any(BlobVisitor)
    }
}

/// AWS's `SerializationException` text for base64 text that does not decode.
fn base64_error(text: &str) -> String {
    let prefix = format!("'{text}' can not be converted to a Blob");
    if !text.len().is_multiple_of(4) {
        return format!(
            "{prefix}: Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        );
    }
    let body = text.trim_end_matches('=');
    if let Some(c) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/')))
    {
        return format!("{prefix}: Invalid Base64 character: '{c}'");
    }
    if text.len() - body.len() > 2 {
        return format!("{prefix}: Invalid Base64 character: '='");
    }
    // AWS's own spelling.
    format!("{prefix}: Invalid last non-pad Base64 character dectected")
}

/// A point in time, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        } else {
            ciborium::tag::Required::<i64, 1>(self.0).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let human = deserializer.is_human_readable();
        #[derive(Clone, Copy)]
        struct TsVisitor {
            human: bool,
        }
        impl<'de> de::DeserializeSeed<'de> for TsVisitor {
            type Value = Timestamp;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Timestamp, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for TsVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp (epoch seconds, or epoch milliseconds in CBOR)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                if !v.is_finite() {
                    return Err(E::custom(
                        "NUMBER_VALUE can not be converted to a Timestamp",
                    ));
                }
                // JSON carries seconds; CBOR floats are seconds too (RFC 8949 tag 1).
                Ok(Timestamp((v * 1000.0).round() as i64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                if self.human {
                    Ok(Timestamp(v.saturating_mul(1000)))
                } else {
                    Ok(Timestamp(v))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                self.visit_i64(
                    i64::try_from(v).map_err(|_| {
                        E::custom("NUMBER_VALUE can not be converted to a Timestamp")
                    })?,
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| E::custom("STRING_VALUE can not be converted to a Timestamp"))
                    .and_then(|s| self.visit_f64(s))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Timestamp, D::Error> {
                d.deserialize_any(self)
            }
            /// A CBOR tag (ciborium presents it as an enum) wraps the epoch time: integer
            /// milliseconds (the AWS SDKs' convention) or float seconds.
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Timestamp, A::Error> {
                use de::VariantAccess;
                let (_, variant): (de::IgnoredAny, A::Variant) = data.variant()?;
                variant.newtype_variant_seed(TsVisitor { human: false })
            }
        }
        deserializer.deserialize_any(TsVisitor { human })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_is_base64_in_json() {
        let json = serde_json::to_string(&Blob(b"hello".to_vec())).unwrap();
        assert_eq!(json, "\"aGVsbG8=\"");
        let back: Blob = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, b"hello");
        assert!(serde_json::from_str::<Blob>("\"not base64!\"").is_err());
    }

    #[test]
    fn timestamp_is_epoch_seconds_in_json() {
        assert_eq!(
            serde_json::to_string(&Timestamp(1_500_000_000_123)).unwrap(),
            "1500000000.123"
        );
        let cases = [
            ("1500000000", 1_500_000_000_000),
            ("1500000000.5", 1_500_000_000_500),
        ];
        for (text, ms) in cases {
            assert_eq!(
                serde_json::from_str::<Timestamp>(text).unwrap(),
                Timestamp(ms)
            );
        }
    }
}
