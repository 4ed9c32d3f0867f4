//! Wire protocols of the JSON-RPC style AWS services (Kinesis, Firehose, Analytics): the body is
//! `application/x-amz-json-1.1` or `application/x-amz-cbor-1.1`, the operation is named by
//! `X-Amz-Target`. Both encodings go through the same serde shapes; [`Blob`] and [`Timestamp`]
//! encode differently in each (base64 text vs byte string; epoch seconds vs CBOR epoch tag).

pub mod blob;
pub mod cbor;
pub mod eventstream;
pub mod serialization;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use blob::{Blob, Timestamp};

use super::error::AwsError;

/// Body encoding of a request, and therefore of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1` (also answered for `application/json` and a missing type).
    Json,
    /// `application/x-amz-cbor-1.1`, the default of the AWS SDK for Java and the KCL.
    Cbor,
}

impl Protocol {
    /// The protocol named by a request's `Content-Type`, or `None` for one no AWS JSON-RPC
    /// service accepts.
    pub fn from_content_type(content_type: Option<&str>) -> Option<Self> {
        let Some(ct) = content_type else {
            return Some(Protocol::Json);
        };
        let essence = ct.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/x-amz-json-1.1"
            | "application/x-amz-json-1.0"
            | "application/json"
            | "" => Some(Protocol::Json),
            "application/x-amz-cbor-1.1" | "application/cbor" => Some(Protocol::Cbor),
            _ => None,
        }
    }

    /// The `Content-Type` of answers in this protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json => "application/x-amz-json-1.1",
            Protocol::Cbor => "application/x-amz-cbor-1.1",
        }
    }

    /// Decodes a request body; an empty body is an empty object, as the SDKs send for
    /// operations without input. Undecodable input is a `SerializationException` in AWS's
    /// words ([`serialization`]).
    pub fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, AwsError> {
        match self {
            Protocol::Json => {
                let body = if body.iter().all(u8::is_ascii_whitespace) {
                    b"{}".as_slice()
                } else {
                    body
                };
                if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                    // serde would read a list as a structure's members in order.
                    return Err(AwsError::serialization(
                        "Start of list found where not expected",
                    ));
                }
                serde_json::from_slice(body).map_err(|e| serialization::from_json(&e))
            }
            Protocol::Cbor => cbor::decode(body),
        }
    }

    /// Encodes an answer.
    pub fn encode<T: Serialize>(self, value: &T) -> Vec<u8> {
        match self {
            Protocol::Json => serde_json::to_vec(value).expect("answers always serialise to JSON"),
            Protocol::Cbor => cbor::encode(value),
        }
    }

    /// Encodes an error body: `{"__type": code, "message": text}` (AWS spells it `Message` in
    /// a `SerializationException`).
    pub fn encode_error(self, error: &AwsError) -> Vec<u8> {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            #[serde(rename = "__type")]
            type_: &'a str,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct SerializationBody<'a> {
            #[serde(rename = "__type")]
            type_: &'a str,
            #[serde(rename = "Message")]
            message: &'a str,
        }
        if error.code == "SerializationException" {
            self.encode(&SerializationBody {
                type_: error.code,
                message: &error.message,
            })
        } else {
            self.encode(&ErrorBody {
                type_: error.code,
                message: &error.message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            (None, Some(Protocol::Json)),
            (Some("application/x-amz-json-1.1"), Some(Protocol::Json)),
            (
                Some("application/x-amz-json-1.1; charset=utf-8"),
                Some(Protocol::Json),
            ),
            (Some("application/x-amz-cbor-1.1"), Some(Protocol::Cbor)),
            (Some("text/plain"), None),
            (Some("application/xml"), None),
        ];
        for (ct, expected) in cases {
            assert_eq!(Protocol::from_content_type(ct), expected, "{ct:?}");
        }
    }

    #[test]
    fn malformed_json_is_a_serialization_exception() {
        for body in [&b"{"[..], b"[1,2", b"\xff\xfe", b"{\"StreamName\": 5}"] {
            #[derive(serde::Deserialize)]
            #[allow(dead_code)]
            struct In {
                #[serde(rename = "StreamName")]
                stream_name: Option<String>,
            }
            let err = Protocol::Json.decode::<In>(body).err().expect("an error");
            assert_eq!(err.code, "SerializationException");
        }
    }
}
