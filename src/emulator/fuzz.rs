//! The entry point shared by the fuzz target (`fuzz/`, cargo-fuzz) and the fuzz smoke test:
//! arbitrary bytes become a request to an arbitrary Kinesis operation, in JSON or CBOR.
//! Whatever the bytes, the emulator must answer (an error is fine) and never panic.

use std::sync::Arc;

use super::clock::Clock;
use super::kinesis::{Ctx, Kinesis, Settings};
use super::protocol::Protocol;

/// Every Kinesis operation the emulator serves, plus one it does not.
pub const OPERATIONS: [&str; 40] = [
    "CreateStream",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "UpdateStreamMode",
    "DescribeLimits",
    "ListShards",
    "UpdateShardCount",
    "SplitShard",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "RegisterStreamConsumer",
    "DeregisterStreamConsumer",
    "DescribeStreamConsumer",
    "ListStreamConsumers",
    "PutResourcePolicy",
    "GetResourcePolicy",
    "DeleteResourcePolicy",
    "UpdateMaxRecordSize",
    "UpdateStreamWarmThroughput",
    "UpdateStreamRecordDistributionStrategy",
    "DescribeAccountSettings",
    "UpdateAccountSettings",
    "NoSuchOperation",
];

/// A Kinesis with a stream `s` (2 shards) to aim requests at.
pub fn target() -> Kinesis {
    let kinesis = Kinesis::new(
        Settings {
            relax_limits: true,
            ..Default::default()
        },
        Arc::new(Clock::default()),
    );
    let _ = kinesis.handle(
        &ctx(),
        "CreateStream",
        Protocol::Json,
        br#"{"StreamName":"s","ShardCount":2}"#,
    );
    kinesis
}

fn ctx() -> Ctx {
    Ctx {
        account: "000000000000".to_owned(),
        region: "us-east-1".to_owned(),
    }
}

/// Sends `data` to `kinesis`: the first byte picks the operation and the protocol, the rest
/// is the body.
pub fn exercise(kinesis: &Kinesis, data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let operation = OPERATIONS[(selector & 0x7f) as usize % OPERATIONS.len()];
    let protocol = if selector & 0x80 == 0 {
        Protocol::Json
    } else {
        Protocol::Cbor
    };
    let _ = kinesis.handle(&ctx(), operation, protocol, body);
}
