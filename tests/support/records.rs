//! Records in and out of Kinesis streams: texts put as a producer would, JSON read back as a
//! consumer of a Flink application sees it.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use serde_json::Value;

/// Puts `records` one by one (in order) with partition key `key(record)`.
pub async fn put(client: &Client, stream: &str, records: &[Value], key: impl Fn(&Value) -> String) {
    for r in records {
        client
            .put_record()
            .stream_name(stream)
            .partition_key(key(r))
            .data(Blob::new(r.to_string()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRecord to {stream}: {e:?}"));
    }
}

/// PutRecord each of `records` (its text as the data) to `stream`, in order, under one
/// partition key.
pub async fn put_texts(client: &Client, stream: &str, records: &[impl AsRef<str>]) {
    for r in records {
        client
            .put_record()
            .stream_name(stream)
            .partition_key("k")
            .data(Blob::new(r.as_ref().as_bytes()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRecord to {stream}: {e:?}"));
    }
}

/// Every record in `stream`, from every shard's start, parsed as JSON.
pub async fn read_all(client: &Client, stream: &str) -> Vec<Value> {
    let shards = client
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListShards {stream}: {e:?}"))
        .shards
        .unwrap_or_default();
    let mut out = Vec::new();
    for shard in shards {
        let mut iterator = client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetShardIterator {stream}: {e:?}"))
            .shard_iterator;
        while let Some(it) = iterator {
            let got = client
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GetRecords {stream}: {e:?}"));
            for r in &got.records {
                let data = r.data.as_ref();
                out.push(serde_json::from_slice(data).unwrap_or_else(|e| {
                    panic!(
                        "a record that is not JSON ({e}): {}",
                        String::from_utf8_lossy(data)
                    )
                }));
            }
            if got.records.is_empty() || got.millis_behind_latest == Some(0) {
                break;
            }
            iterator = got.next_shard_iterator;
        }
    }
    out
}
