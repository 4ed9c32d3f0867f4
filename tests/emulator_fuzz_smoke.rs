//! A deterministic, stable-Rust run of the fuzz target's entry point (`fuzz/`): valid
//! requests of every service, mutated byte by byte, truncated and spliced: Kinesis and
//! Firehose operations in JSON and CBOR, IAM query forms, and whole S3 REST requests (path,
//! query, headers, XML and `aws-chunked` bodies). Any panic fails the test.

use kinesis_operator::emulator::fuzz::{
    ANALYTICS_OPERATIONS, FIREHOSE_OPERATIONS, IAM_ACTIONS, OPERATIONS, exercise, target,
};

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

/// Firehose seed bodies.
/// Managed Service for Apache Flink requests naming the seeded application `a`.
const ANALYTICS_SEEDS: [&str; 3] = [
    r#"{"ApplicationName":"b","RuntimeEnvironment":"FLINK-1_20","ServiceExecutionRole":"arn:aws:iam::000000000000:role/r","ApplicationConfiguration":{"FlinkApplicationConfiguration":{"CheckpointConfiguration":{"ConfigurationType":"CUSTOM","CheckpointInterval":1000}},"EnvironmentProperties":{"PropertyGroups":[{"PropertyGroupId":"kinesis.operator.sql","PropertyMap":{"statements.1":"SELECT 1"}}]}},"Tags":[{"Key":"k","Value":"v"}]}"#,
    r#"{"ApplicationName":"a","CurrentApplicationVersionId":1,"ApplicationConfigurationUpdate":{"ApplicationSnapshotConfigurationUpdate":{"SnapshotsEnabledUpdate":false}},"RunConfiguration":{"ApplicationRestoreConfiguration":{"ApplicationRestoreType":"RESTORE_FROM_CUSTOM_SNAPSHOT","SnapshotName":"s"}},"CreateTimestamp":1700000000,"Force":true,"Limit":1}"#,
    r#"{"ResourceARN":"arn:aws:kinesisanalytics:us-east-1:000000000000:application/a","Tags":[{"Key":"k","Value":"v"}],"TagKeys":["k"],"ApplicationName":"a","VpcConfiguration":{"SubnetIds":["s"],"SecurityGroupIds":["g"]},"CloudWatchLoggingOption":{"LogStreamARN":"arn:x"}}"#,
];

const FIREHOSE_SEEDS: [&str; 4] = [
    r#"{"DeliveryStreamName":"e","DeliveryStreamType":"DirectPut","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bkt","Prefix":"p/!{timestamp:yyyy/MM/dd}/","ErrorOutputPrefix":"err/!{firehose:error-output-type}/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0},"CompressionFormat":"GZIP"}}"#,
    r#"{"DeliveryStreamName":"d","Records":[{"Data":"eA=="},{"Data":"eQ=="}]}"#,
    r#"{"DeliveryStreamName":"d","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"Prefix":"q/"}}"#,
    r#"{"DeliveryStreamName":"h","DeliveryStreamType":"KinesisStreamAsSource","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","RoleARN":"arn:aws:iam::000000000000:role/r"},"HttpEndpointDestinationConfiguration":{"EndpointConfiguration":{"Url":"https://127.0.0.1:1/","AccessKey":"k"},"S3Configuration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bkt"}}}"#,
];

/// IAM seed forms (after `Action=...&Version=...&`).
const IAM_SEEDS: [&str; 4] = [
    "PolicyName=q&Path=%2Fa%2F&PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%5B%22s3%3A*%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Abkt%2F*%22%2C%22Condition%22%3A%7B%22StringLike%22%3A%7B%22aws%3Ausername%22%3A%22x*%22%7D%7D%7D%7D",
    "PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fp&SetAsDefault=true&PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
    "RoleName=r&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fp&Tags.member.1.Key=a&Tags.member.1.Value=b",
    "UserName=u&MaxItems=1&Marker=abc&PathPrefix=%2F",
];

/// S3 seed requests: first line, headers, an empty line and the body (CR LF spelled `\r\n`).
const S3_SEEDS: [&str; 8] = [
    "PUT /other-bucket\ncontent-type: application/xml\n\n<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
    "PUT /bkt/o?tagging\n\n<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
    "POST /bkt?delete\ncontent-md5: 1B2M2Y8AsgTpgAEcfoqKuw==\n\n<Delete><Quiet>true</Quiet><Object><Key>key</Key></Object><Object><Key>x</Key></Object></Delete>",
    "PUT /bkt/c\ncontent-encoding: aws-chunked\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\nx-amz-decoded-content-length: 5\nx-amz-trailer: x-amz-checksum-crc32\n\n5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
    "GET /bkt/key\nrange: bytes=1-3\nif-none-match: \"x\"\nx-amz-checksum-mode: ENABLED\n\n",
    "GET /bkt?list-type=2&prefix=k&delimiter=%2F&max-keys=1&start-after=a&encoding-type=url\n\n",
    "POST /bkt/m?uploadId=abc\n\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag></Part></CompleteMultipartUpload>",
    "PUT /bkt/copy\nx-amz-copy-source: /bkt/key\nx-amz-metadata-directive: REPLACE\nx-amz-meta-a: b\nx-amz-checksum-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
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

/// Runs `rounds` mutations of `seeds` through `exercise`, each prefixed by `prefix(rng, body)`.
fn run(
    rounds: usize,
    seeds: &[Vec<u8>],
    rng: &mut Rng,
    mut prefix: impl FnMut(&mut Rng, &[u8]) -> Vec<u8>,
    exercise: &mut impl FnMut(&[u8]),
) {
    for round in 0..rounds {
        let seed = seeds[rng.below(seeds.len())].clone();
        let body = if round % 10 == 0 {
            seed
        } else {
            mutate(rng, seed, seeds)
        };
        let mut data = prefix(rng, &body);
        data.extend_from_slice(&body);
        exercise(&data);
    }
}

/// Seeds as JSON and as CBOR.
fn json_and_cbor(seeds: &[&str]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    out.extend(seeds.iter().map(|s| cbor_of(s)));
    out
}

/// The first byte picks the service (0 Kinesis, 1 Firehose or, with bit 6 of the second,
/// Managed Service for Apache Flink, 2 IAM, 3 S3), the second, for all but S3, the operation;
/// CBOR bodies (first byte >= 0x80) are sent as CBOR.
fn selector(service: u8, operations: usize) -> impl FnMut(&mut Rng, &[u8]) -> Vec<u8> {
    move |rng, body| {
        let cbor = body.first().is_some_and(|b| *b >= 0x80);
        let op = rng.below(operations) as u8 | if cbor { 0x80 } else { 0 };
        vec![service, op]
    }
}

#[test]
fn arbitrary_requests_never_panic() {
    let targets = target();
    let mut exercise = |data: &[u8]| exercise(&targets, data);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let kinesis = json_and_cbor(&SEEDS);
    run(
        120_000,
        &kinesis,
        &mut rng,
        selector(0, OPERATIONS.len()),
        &mut exercise,
    );
    let firehose = json_and_cbor(&FIREHOSE_SEEDS);
    run(
        40_000,
        &firehose,
        &mut rng,
        selector(1, FIREHOSE_OPERATIONS.len()),
        &mut exercise,
    );
    let analytics = json_and_cbor(&ANALYTICS_SEEDS);
    let mut flink = selector(1, ANALYTICS_OPERATIONS.len());
    run(
        20_000,
        &analytics,
        &mut rng,
        move |rng, body| {
            let mut picked = flink(rng, body);
            picked[1] |= 0x40;
            picked
        },
        &mut exercise,
    );
    let iam: Vec<Vec<u8>> = IAM_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    run(
        20_000,
        &iam,
        &mut rng,
        |rng, _| vec![2, rng.below(IAM_ACTIONS.len()) as u8],
        &mut exercise,
    );
    // The seeds spell CR LF as `\r\n` to stay readable.
    let s3: Vec<Vec<u8>> = S3_SEEDS
        .iter()
        .map(|s| s.replace("\\r\\n", "\r\n").into_bytes())
        .collect();
    run(40_000, &s3, &mut rng, |_, _| vec![3], &mut exercise);
}
