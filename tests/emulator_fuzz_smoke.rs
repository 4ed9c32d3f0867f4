//! A deterministic, stable-Rust run of the fuzz target's entry point (`fuzz/`): valid
//! requests of every operation, mutated byte by byte, truncated and spliced, in JSON and CBOR.
//! Any panic fails the test.

use kinesis_operator::emulator::fuzz::{OPERATIONS, exercise, target};

/// Seed bodies: one meaningful request per family of operations.
const SEEDS: [&str; 8] = [
    r#"{"StreamName":"s","ShardCount":2,"Tags":{"a":"b"}}"#,
    r#"{"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"k","ExplicitHashKey":"12"}"#,
    r#"{"StreamName":"s","Records":[{"Data":"eA==","PartitionKey":"a"},{"Data":"eQ==","PartitionKey":"b"}]}"#,
    r#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.5e9}"#,
    r#"{"ShardIterator":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHM=","Limit":10}"#,
    r#"{"StreamName":"s","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}"#,
    r#"{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c"}"#,
    r#"{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Policy":"{\"Statement\":[]}"}"#,
];

/// xorshift64*, seeded: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cbor_of(json: &str) -> Vec<u8> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out = Vec::new();
    ciborium::ser::into_writer(&value, &mut out).unwrap();
    out
}

fn mutate(rng: &mut Rng, mut body: Vec<u8>, seeds: &[Vec<u8>]) -> Vec<u8> {
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !body.is_empty() => {
                let i = rng.below(body.len());
                body[i] = rng.next() as u8;
            }
            1 if !body.is_empty() => body.truncate(rng.below(body.len())),
            2 => {
                let i = rng.below(body.len() + 1);
                let junk: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                body.splice(i..i, junk);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let at = rng.below(body.len() + 1);
                let from = rng.below(other.len());
                body.truncate(at);
                body.extend_from_slice(&other[from..]);
            }
            4 if !body.is_empty() => {
                let i = rng.below(body.len());
                body[i] = b"{}[]\":,0-9.eE\\"[rng.below(14)];
            }
            _ => {
                let i = rng.below(body.len() + 1);
                body.splice(
                    i..i,
                    [0xff, 0xbf, 0x9f, 0x5b, 0x7b, 0xc1][rng.below(6)..]
                        .iter()
                        .copied()
                        .take(1),
                );
            }
        }
    }
    body
}

#[test]
fn arbitrary_requests_never_panic() {
    let kinesis = target();
    let mut seeds: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    seeds.extend(SEEDS.iter().map(|s| cbor_of(s)));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200_000usize {
        let seed = seeds[rng.below(seeds.len())].clone();
        let body = if round % 10 == 0 {
            seed
        } else {
            mutate(&mut rng, seed, &seeds)
        };
        let cbor = body.first().is_some_and(|b| *b >= 0x80);
        let op = rng.below(OPERATIONS.len()) as u8 | if cbor { 0x80 } else { 0 };
        let mut data = vec![op];
        data.extend_from_slice(&body);
        exercise(&kinesis, &data);
    }
}
