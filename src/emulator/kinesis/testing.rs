//! Helpers for the Kinesis service's unit tests: requests sent through [`Kinesis::handle`] as
//! the SDK would send them.

use base64::Engine;

use super::reader::SourceRecord;
use super::{Ctx, Kinesis};
use crate::emulator::protocol::Protocol;

/// The account and region the tests use.
pub fn ctx() -> Ctx {
    Ctx {
        account: "000000000000".into(),
        region: "us-east-1".into(),
    }
}

/// Runs `op` with the JSON `body`; panics with AWS's error when it fails.
pub fn call(k: &Kinesis, ctx: &Ctx, op: &str, body: serde_json::Value) {
    k.handle(ctx, op, Protocol::Json, body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{op}: {e}"));
}

/// Creates stream `s` with one shard.
pub fn create_stream(k: &Kinesis, ctx: &Ctx) {
    call(
        k,
        ctx,
        "CreateStream",
        serde_json::json!({"StreamName": "s", "ShardCount": 1}),
    );
}

/// The payloads of `records`, as text.
pub fn texts(records: &[SourceRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect()
}

/// Puts `data` to stream `s` under a fixed partition key.
pub fn put(k: &Kinesis, ctx: &Ctx, data: &str) {
    let data = base64::engine::general_purpose::STANDARD.encode(data);
    call(
        k,
        ctx,
        "PutRecord",
        serde_json::json!({"StreamName": "s", "PartitionKey": "same", "Data": data}),
    );
}
