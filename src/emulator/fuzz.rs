//! The entry point shared by the fuzz target (`fuzz/`, cargo-fuzz) and the fuzz smoke test:
//! arbitrary bytes become a request to one of the emulated services through its own decoder:
//! a Kinesis, Firehose or Managed Service for Apache Flink operation in JSON or CBOR, an IAM or STS query-protocol form, or a whole
//! S3 REST request (method, path, query, headers and body, so the path, query, header,
//! `aws-chunked` and XML decoders are all reached). Whatever the bytes, the emulator must
//! answer (an error is fine) and never panic.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::analytics::{self, Analytics};
use super::clock::Clock;
use super::dispatch::Ctx;
use super::firehose::{self, Firehose};
use super::iam::Iam;
use super::iam::enforce::{Caller, RoleSession};
use super::kinesis::{Kinesis, Settings};
use super::protocol::Protocol;
use super::rest::RestRequest;
use super::s3::S3;
use super::sts::Sts;

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

/// Managed Service for Apache Flink operations the fuzzer names, plus one it does not have.
pub const ANALYTICS_OPERATIONS: [&str; 25] = [
    "CreateApplication",
    "DescribeApplication",
    "ListApplications",
    "UpdateApplication",
    "DeleteApplication",
    "DescribeApplicationVersion",
    "ListApplicationVersions",
    "StartApplication",
    "StopApplication",
    "CreateApplicationSnapshot",
    "ListApplicationSnapshots",
    "DescribeApplicationSnapshot",
    "DeleteApplicationSnapshot",
    "ListApplicationOperations",
    "DescribeApplicationOperation",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "AddApplicationCloudWatchLoggingOption",
    "DeleteApplicationCloudWatchLoggingOption",
    "AddApplicationVpcConfiguration",
    "DeleteApplicationVpcConfiguration",
    "AddApplicationOutput",
    "RollbackApplication",
    "NoSuchOperation",
];

/// Every Firehose operation the emulator serves, plus one it does not.
pub const FIREHOSE_OPERATIONS: [&str; 13] = [
    "CreateDeliveryStream",
    "DescribeDeliveryStream",
    "ListDeliveryStreams",
    "DeleteDeliveryStream",
    "UpdateDestination",
    "StartDeliveryStreamEncryption",
    "StopDeliveryStreamEncryption",
    "PutRecord",
    "PutRecordBatch",
    "TagDeliveryStream",
    "UntagDeliveryStream",
    "ListTagsForDeliveryStream",
    "NoSuchOperation",
];

/// IAM actions the fuzzer names (the rest of the form comes from the input), plus one IAM
/// does not have.
pub const IAM_ACTIONS: [&str; 24] = [
    "CreatePolicy",
    "GetPolicy",
    "ListPolicies",
    "DeletePolicy",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "TagPolicy",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "ListEntitiesForPolicy",
    "CreateUser",
    "CreateAccessKey",
    "AttachUserPolicy",
    "NoSuchAction",
];

/// STS actions the fuzzer names (the rest of the form comes from the input), plus one STS
/// does not have.
pub const STS_ACTIONS: [&str; 3] = ["AssumeRole", "GetCallerIdentity", "NoSuchAction"];

/// The services under test, with something in each to aim requests at: stream `s`
/// (2 shards), bucket `bkt` with object `key`, delivery stream `d` into `bkt`, policy `p` and
/// role `r`, application `a`. No background task runs (no Flink runner starts): requests are
/// handled synchronously.
pub struct Targets {
    kinesis: Arc<Kinesis>,
    firehose: Firehose,
    analytics: Analytics,
    s3: Arc<S3>,
    iam: Iam,
    sts: Sts,
}

/// The services, seeded.
pub fn target() -> Targets {
    let clock = Arc::new(Clock::default());
    let kinesis = Arc::new(Kinesis::new(
        Settings {
            relax_limits: true,
            ..Default::default()
        },
        clock.clone(),
    ));
    let s3 = Arc::new(S3::new(clock.clone(), None).expect("S3 in memory"));
    let firehose = Firehose::new(
        firehose::Settings {
            relax_limits: true,
            ..Default::default()
        },
        clock.clone(),
        s3.clone(),
        kinesis.clone(),
        None,
    )
    .expect("Firehose in memory");
    let analytics = Analytics::new(
        analytics::Settings::default(),
        clock.clone(),
        s3.clone(),
        None,
        None,
    )
    .expect("Analytics in memory");
    let iam = Iam::new(None).expect("IAM in memory");
    let sts = Sts::new(None, clock, false).expect("STS in memory");
    let targets = Targets {
        kinesis,
        firehose,
        analytics,
        s3,
        iam,
        sts,
    };
    let _ = targets.kinesis.handle(
        &ctx(),
        "CreateStream",
        Protocol::Json,
        br#"{"StreamName":"s","ShardCount":2}"#,
    );
    let _ = targets.analytics.handle(
        &ctx(),
        "CreateApplication",
        Protocol::Json,
        br#"{"ApplicationName":"a","RuntimeEnvironment":"FLINK-1_20","ApplicationConfiguration":{"EnvironmentProperties":{"PropertyGroups":[{"PropertyGroupId":"kinesis.operator.sql","PropertyMap":{"statements":"SELECT 1"}}]},"ApplicationSnapshotConfiguration":{"SnapshotsEnabled":true}}}"#,
    );
    targets.s3.handle(&ctx(), &s3_request(b"PUT /bkt\n\n"));
    targets
        .s3
        .handle(&ctx(), &s3_request(b"PUT /bkt/key\n\nhello"));
    let _ = targets.firehose.handle(
        &ctx(),
        "CreateDeliveryStream",
        Protocol::Json,
        br#"{"DeliveryStreamName":"d","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bkt"}}"#,
    );
    targets.iam.handle(
        &ctx(),
        &iam_request(
            "CreatePolicy",
            b"PolicyName=p&PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kinesis%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D",
        ),
    );
    targets.iam.handle(
        &ctx(),
        &iam_request(
            "CreateRole",
            b"RoleName=r&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22firehose.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
        ),
    );
    targets
}

fn ctx() -> Ctx {
    Ctx {
        account: "000000000000".to_owned(),
        region: "us-east-1".to_owned(),
    }
}

/// JSON when the selector's high bit is clear, CBOR when it is set.
fn protocol(selector: u8) -> Protocol {
    if selector & 0x80 == 0 {
        Protocol::Json
    } else {
        Protocol::Cbor
    }
}

/// An IAM request: `Action=<action>&Version=2010-05-08&` followed by `form`.
fn iam_request(action: &str, form: &[u8]) -> RestRequest {
    query_request(action, "2010-05-08", form)
}

/// A query-protocol request: `Action=<action>&Version=<version>&` followed by `form`.
fn query_request(action: &str, version: &str, form: &[u8]) -> RestRequest {
    let mut body = format!("Action={action}&Version={version}&").into_bytes();
    body.extend_from_slice(form);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    RestRequest {
        method: Method::POST,
        path: "/".to_owned(),
        query: String::new(),
        headers,
        body: Bytes::from(body),
        request_id: "fuzz".to_owned(),
    }
}

/// An S3 request from raw bytes: a first line `METHOD /path?query`, then `name: value` header
/// lines, an empty line and the body. Parts that are not valid HTTP are replaced by
/// defaults (GET, `/`) or left out (a header), as an HTTP server would refuse them first.
fn s3_request(raw: &[u8]) -> RestRequest {
    let (head, body) = match raw.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&raw[..i], &raw[i + 2..]),
        None => (raw, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut parts = first.splitn(2, ' ');
    let method =
        Method::from_bytes(parts.next().unwrap_or_default().as_bytes()).unwrap_or(Method::GET);
    let target = parts.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(http::header::HOST) {
        headers.insert(http::header::HOST, HeaderValue::from_static("127.0.0.1"));
    }
    RestRequest {
        method,
        path,
        query: query.to_owned(),
        headers,
        body: Bytes::copy_from_slice(body),
        request_id: "fuzz".to_owned(),
    }
}

/// Sends `data` to one of the services. The first byte picks the service (its value modulo
/// 4: Kinesis, Firehose or Managed Service for Apache Flink, IAM or STS, S3); for those three
/// JSON-RPC services the second byte picks the operation and the protocol (for the second
/// value, bit 6 picks Flink over Firehose) and the rest is the body; for IAM and STS the second byte picks
/// the service (high bit: STS), the action and, for STS, the caller (bit 6: a role session
/// rather than the root), and the rest is the form; for S3 the rest is the raw request.
pub fn exercise(targets: &Targets, data: &[u8]) {
    let Some((&service, rest)) = data.split_first() else {
        return;
    };
    match service % 4 {
        0 | 1 => {
            let Some((&selector, body)) = rest.split_first() else {
                return;
            };
            if service % 4 == 0 {
                let operation = OPERATIONS[(selector & 0x7f) as usize % OPERATIONS.len()];
                let _ = targets
                    .kinesis
                    .handle(&ctx(), operation, protocol(selector), body);
            } else if selector & 0x40 != 0 {
                let operation =
                    ANALYTICS_OPERATIONS[(selector & 0x3f) as usize % ANALYTICS_OPERATIONS.len()];
                let _ = targets
                    .analytics
                    .handle(&ctx(), operation, protocol(selector), body);
            } else {
                let operation =
                    FIREHOSE_OPERATIONS[(selector & 0x3f) as usize % FIREHOSE_OPERATIONS.len()];
                let _ = targets
                    .firehose
                    .handle(&ctx(), operation, protocol(selector), body);
            }
        }
        2 => {
            let Some((&selector, form)) = rest.split_first() else {
                return;
            };
            if selector & 0x80 == 0 {
                let action = IAM_ACTIONS[selector as usize % IAM_ACTIONS.len()];
                targets.iam.handle(&ctx(), &iam_request(action, form));
                return;
            }
            let action = STS_ACTIONS[(selector & 0x3f) as usize % STS_ACTIONS.len()];
            let caller = if selector & 0x40 == 0 {
                Caller::Root
            } else {
                Caller::Role(Arc::new(RoleSession {
                    account: "000000000000".to_owned(),
                    role_name: "r".to_owned(),
                    role_id: "AROAFUZZ".to_owned(),
                    session_name: "fuzz".to_owned(),
                    policy: None,
                }))
            };
            let request = query_request(action, "2011-06-15", form);
            targets.sts.handle(&targets.iam, &ctx(), &caller, &request);
        }
        _ => {
            targets.s3.handle(&ctx(), &s3_request(rest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_s3_requests_are_split_into_their_parts() {
        let r = s3_request(b"PUT /bkt/key?tagging\ncontent-type: text/plain\nbad header\n\nbody");
        assert_eq!(r.method, Method::PUT);
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/bkt/key", "tagging"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("host"), Some("127.0.0.1"));
        assert_eq!(&r.body[..], b"body");
        let r = s3_request(b"\xff\xfe b");
        assert_eq!((r.method, r.path.as_str()), (Method::GET, "/b"));
    }

    #[test]
    fn the_seeded_targets_hold_what_requests_aim_at() {
        let t = target();
        let get = t.s3.handle(&ctx(), &s3_request(b"GET /bkt/key\n\n"));
        assert_eq!((get.status.as_u16(), &get.body[..]), (200, &b"hello"[..]));
        let described = t
            .firehose
            .handle(
                &ctx(),
                "DescribeDeliveryStream",
                Protocol::Json,
                br#"{"DeliveryStreamName":"d"}"#,
            )
            .expect("delivery stream d exists");
        assert!(String::from_utf8_lossy(&described).contains("arn:aws:s3:::bkt"));
        let role = t.iam.handle(&ctx(), &iam_request("GetRole", b"RoleName=r"));
        assert_eq!(role.status.as_u16(), 200);
        let policy = t.iam.handle(
            &ctx(),
            &iam_request(
                "GetPolicy",
                b"PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fp",
            ),
        );
        assert_eq!(policy.status.as_u16(), 200);
        let assumed = t.sts.handle(
            &t.iam,
            &ctx(),
            &Caller::Root,
            &query_request(
                STS_ACTIONS[0],
                "2011-06-15",
                b"RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=fuzz",
            ),
        );
        assert_eq!(assumed.status.as_u16(), 200);
        exercise(&t, b"\x02\xc0RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s&DurationSeconds=7200");
    }
}
