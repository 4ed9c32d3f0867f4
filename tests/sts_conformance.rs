//! Conformance of the emulated STS with AWS through the real aws-sdk-sts client, and of the
//! temporary credentials it issues as the Kinesis, S3 and STS clients use them: one test per
//! behaviour.

mod support;

use std::path::Path;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use kinesis_operator::emulator::{Config, Emulator};
use support::emulator::{post, start_default};

const ACCOUNT: &str = "123456789012";

/// The tutorial's writer: may put records on MyStream.
const WRITE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords","kinesis:DescribeStreamSummary"],"Resource":"arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}]}"#;

/// Trusts every principal of the account whose own policies allow sts:AssumeRole.
const ACCOUNT_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// Lets its holder assume any role of the account.
const MAY_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/*"}]}"#;

/// An emulator for account 123456789012 that checks signatures (`AKIDADMIN` is the root)
/// and, when `enforce`, enforces IAM.
async fn start(enforce: bool, data_dir: Option<&Path>) -> Emulator {
    Emulator::start(Config {
        account_id: ACCOUNT.to_owned(),
        sigv4: Some(vec!["AKIDADMIN:adminsecret".parse().unwrap()]),
        iam_enforce: enforce,
        data_dir: data_dir.map(Path::to_owned),
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

fn root() -> Credentials {
    Credentials::new("AKIDADMIN", "adminsecret", None, None, "test")
}

fn sts(emu: &Emulator, credentials: Credentials) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_sts::config::Region::new("us-west-2"))
            .credentials_provider(credentials)
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .build(),
    )
}

fn iam(emu: &Emulator, credentials: Credentials) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
            .build(),
    )
}

fn kinesis(emu: &Emulator, credentials: Credentials) -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::from_conf(
        aws_sdk_kinesis::Config::builder()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_kinesis::config::Region::new("us-west-2"))
            .credentials_provider(credentials)
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
            .build(),
    )
}

fn s3(emu: &Emulator, credentials: Credentials) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .force_path_style(true)
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    )
}

/// The error code and message of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

fn pair(code: &str, message: &str) -> (String, String) {
    (code.to_owned(), message.to_owned())
}

/// Creates role `name` trusting `trust`, with the inline policy `policy` if any.
async fn create_role(admin: &aws_sdk_iam::Client, name: &str, trust: &str, policy: Option<&str>) {
    admin
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
    if let Some(policy) = policy {
        admin
            .put_role_policy()
            .role_name(name)
            .policy_name("access")
            .policy_document(policy)
            .send()
            .await
            .unwrap();
    }
}

/// Creates user `name` with the inline policy `policy` if any; returns its credentials.
async fn create_user(admin: &aws_sdk_iam::Client, name: &str, policy: Option<&str>) -> Credentials {
    admin.create_user().user_name(name).send().await.unwrap();
    if let Some(policy) = policy {
        admin
            .put_user_policy()
            .user_name(name)
            .policy_name("access")
            .policy_document(policy)
            .send()
            .await
            .unwrap();
    }
    let key = admin
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    Credentials::new(
        key.access_key_id(),
        key.secret_access_key(),
        None,
        None,
        "test",
    )
}

/// The session credentials of a successful AssumeRole.
fn session_credentials(out: &aws_sdk_sts::operation::assume_role::AssumeRoleOutput) -> Credentials {
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "session",
    )
}

/// The tutorial's setup: stream MyStream, role `writer` (trusting the account, allowed to
/// write to MyStream) and user `alice`, who may assume roles. Returns alice's credentials.
async fn writer_setup(emu: &Emulator) -> Credentials {
    let admin = iam(emu, root());
    kinesis(emu, root())
        .create_stream()
        .stream_name("MyStream")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    create_role(&admin, "writer", ACCOUNT_TRUST, Some(WRITE_POLICY)).await;
    create_user(&admin, "alice", Some(MAY_ASSUME)).await
}

async fn assume(
    client: &aws_sdk_sts::Client,
    role: &str,
    session: &str,
) -> aws_sdk_sts::operation::assume_role::AssumeRoleOutput {
    client
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
        .role_session_name(session)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AssumeRole {role}: {e:?}"))
}

fn blob(data: &[u8]) -> aws_sdk_kinesis::primitives::Blob {
    aws_sdk_kinesis::primitives::Blob::new(data.to_vec())
}

#[tokio::test]
async fn assume_role_refuses_what_the_model_and_the_role_forbid() {
    let emu = start_default().await;
    let default = Credentials::new("AKIDTEST", "secret", None, None, "test");
    create_role(
        &iam(&emu, default.clone()),
        "r",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        None,
    )
    .await;
    let client = sts(&emu, default);
    let role = "arn:aws:iam::000000000000:role/r";
    // (RoleArn, RoleSessionName, DurationSeconds, Policy, expected error)
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<i32>,
        Option<&'a str>,
        (String, String),
    );
    let cases: Vec<Case> = vec![
        (
            role,
            "a",
            None,
            None,
            pair(
                "ValidationError",
                "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
            ),
        ),
        (
            role,
            "a b",
            None,
            None,
            pair(
                "ValidationError",
                r"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
            ),
        ),
        (
            role,
            "s1",
            Some(899),
            None,
            pair(
                "ValidationError",
                "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
            ),
        ),
        (
            role,
            "s1",
            Some(43201),
            None,
            pair(
                "ValidationError",
                "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
            ),
        ),
        (
            role,
            "s1",
            Some(7200),
            None,
            pair(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
        ),
        (
            "arn:aws:iam::000000000000:user/r",
            "s1",
            None,
            None,
            pair("ValidationError", "Request ARN is invalid"),
        ),
        (
            "arn:aws:iam::0:role",
            "s1",
            None,
            None,
            pair(
                "ValidationError",
                "1 validation error detected: Value 'arn:aws:iam::0:role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
            ),
        ),
        (
            role,
            "s1",
            None,
            Some("{"),
            pair("MalformedPolicyDocument", "Syntax errors in policy."),
        ),
        (
            role,
            "s1",
            None,
            Some(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#),
            pair(
                "MalformedPolicyDocument",
                "Policy statement must contain resources.",
            ),
        ),
        (
            "arn:aws:iam::000000000000:role/missing",
            "s1",
            None,
            None,
            pair(
                "AccessDenied",
                "User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/missing",
            ),
        ),
    ];
    for (arn, session, duration, policy, expected) in cases {
        let result = client
            .assume_role()
            .role_arn(arn)
            .role_session_name(session)
            .set_duration_seconds(duration)
            .set_policy(policy.map(str::to_owned))
            .send()
            .await;
        assert_eq!(
            err(result),
            expected,
            "{arn} {session} {duration:?} {policy:?}"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn the_trust_policy_decides_who_may_assume_a_role() {
    let emu = start(true, None).await;
    let admin = iam(&emu, root());
    let firehose_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let names_bob = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}]}"#;
    let external = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique-1"}}}]}"#;
    create_role(&admin, "delivery", firehose_trust, None).await;
    create_role(&admin, "account", ACCOUNT_TRUST, None).await;
    create_role(&admin, "bobs", names_bob, None).await;
    create_role(&admin, "partner", external, None).await;
    let alice = sts(&emu, create_user(&admin, "alice", Some(MAY_ASSUME)).await);
    let bob = sts(&emu, create_user(&admin, "bob", None).await);
    let refused = |who: &str, role: &str| {
        pair(
            "AccessDenied",
            &format!(
                "User: arn:aws:iam::123456789012:user/{who} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/{role}"
            ),
        )
    };

    // A service role trusts no user, whatever the user's own policies allow.
    let result = alice
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/delivery")
        .role_session_name("s1")
        .send()
        .await;
    assert_eq!(err(result), refused("alice", "delivery"));
    // Trusting the account delegates to the caller's policies: alice may, bob may not.
    assume(&alice, "account", "s1").await;
    let result = bob
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/account")
        .role_session_name("s1")
        .send()
        .await;
    assert_eq!(err(result), refused("bob", "account"));
    // A trust policy naming the user itself needs nothing more; it names nobody else.
    assume(&bob, "bobs", "s1").await;
    let result = alice
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/bobs")
        .role_session_name("s1")
        .send()
        .await;
    assert_eq!(err(result), refused("alice", "bobs"));
    // An external ID condition needs the right ExternalId.
    for external_id in [None, Some("wrong")] {
        let result = alice
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/partner")
            .role_session_name("s1")
            .set_external_id(external_id.map(str::to_owned))
            .send()
            .await;
        assert_eq!(err(result), refused("alice", "partner"), "{external_id:?}");
    }
    alice
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/partner")
        .role_session_name("s1")
        .external_id("Unique-1")
        .send()
        .await
        .expect("the right external ID");
    // The account's root may not assume roles at all.
    let result = sts(&emu, root())
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/account")
        .role_session_name("s1")
        .send()
        .await;
    assert_eq!(
        err(result),
        pair("AccessDenied", "Roles may not be assumed by root accounts.")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_assumed_writer_role_can_put_and_cannot_read() {
    let emu = start(true, None).await;
    let alice = writer_setup(&emu).await;
    let out = assume(&sts(&emu, alice), "writer", "s1").await;
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/writer/s1"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":s1"));
    let credentials = out.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(credentials.access_key_id().len(), 20);
    let expires = credentials.expiration().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now + 3590..=now + 3601).contains(&expires), "{expires}");
    #[allow(deprecated)]
    let packed = out.packed_policy_size();
    assert_eq!(packed, None);
    let token = credentials.session_token();
    assert_eq!(out.session_token_size(), Some(token.len() as i32));
    assert!(matches!(out.session_token_utilization(), Some(1..=100)));

    let writer = kinesis(&emu, session_credentials(&out));
    writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("12345")
        .data(blob(b"{\"amount\":1}"))
        .send()
        .await
        .expect("the writer role may put");
    let result = writer
        .get_shard_iterator()
        .stream_name("MyStream")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await;
    assert_eq!(
        err(result),
        pair(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/writer/s1 is not authorized to perform: kinesis:GetShardIterator on resource: arn:aws:kinesis:us-west-2:123456789012:stream/MyStream because no identity-based policy allows the kinesis:GetShardIterator action"
        )
    );
    let iterator = kinesis(&emu, root())
        .get_shard_iterator()
        .stream_name("MyStream")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let result = writer.get_records().shard_iterator(iterator).send().await;
    assert_eq!(
        err(result),
        pair(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/writer/s1 is not authorized to perform: kinesis:GetRecords on resource: arn:aws:kinesis:us-west-2:123456789012:stream/MyStream because no identity-based policy allows the kinesis:GetRecords action"
        )
    );
    // The role's policies are read at each request: removing them takes the right away.
    iam(&emu, root())
        .delete_role_policy()
        .role_name("writer")
        .policy_name("access")
        .send()
        .await
        .unwrap();
    let (code, _) = err(writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(blob(b"x"))
        .send()
        .await);
    assert_eq!(code, "AccessDeniedException");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_session_policy_narrows_the_roles_permissions() {
    let emu = start(true, None).await;
    let alice = writer_setup(&emu).await;
    let only_describe = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"*"}]}"#;
    let out = sts(&emu, alice)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/writer")
        .role_session_name("narrow")
        .policy(only_describe)
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole with a session policy");
    #[allow(deprecated)]
    let packed = out.packed_policy_size().expect("PackedPolicySize");
    assert!((1..=100).contains(&packed), "{packed}");
    let narrow = kinesis(&emu, session_credentials(&out));
    narrow
        .describe_stream_summary()
        .stream_name("MyStream")
        .send()
        .await
        .expect("allowed by the role and the session policy");
    let result = narrow
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(blob(b"x"))
        .send()
        .await;
    assert_eq!(
        err(result),
        pair(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/writer/narrow is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:us-west-2:123456789012:stream/MyStream because no session policy allows the kinesis:PutRecord action"
        )
    );
    // A session policy cannot grant what the role lacks.
    let result = narrow
        .get_shard_iterator()
        .stream_name("MyStream")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await;
    let (code, message) = err(result);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with(
            "because no identity-based policy allows the kinesis:GetShardIterator action"
        ),
        "{message}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn session_credentials_need_their_own_token() {
    let emu = start(true, None).await;
    let alice = writer_setup(&emu).await;
    let out = assume(&sts(&emu, alice), "writer", "s1").await;
    let c = out.credentials().unwrap();
    let missing = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "t");
    let wrong = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some("IQoJb3JpZ2luX2VjEnotthetoken".to_owned()),
        None,
        "t",
    );
    for credentials in [missing, wrong.clone()] {
        let result = kinesis(&emu, credentials.clone())
            .put_record()
            .stream_name("MyStream")
            .partition_key("k")
            .data(blob(b"x"))
            .send()
            .await;
        assert_eq!(
            err(result),
            pair(
                "UnrecognizedClientException",
                "The security token included in the request is invalid."
            )
        );
        let result = sts(&emu, credentials).get_caller_identity().send().await;
        assert_eq!(
            err(result),
            pair(
                "InvalidClientTokenId",
                "The security token included in the request is invalid."
            )
        );
    }
    let result = s3(&emu, wrong).list_buckets().send().await;
    assert_eq!(
        err(result),
        pair(
            "InvalidToken",
            "The provided token is malformed or otherwise invalid."
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_session_credentials_are_refused() {
    let emu = start(true, None).await;
    let alice = writer_setup(&emu).await;
    let out = sts(&emu, alice)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/writer")
        .role_session_name("short")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let credentials = session_credentials(&out);
    let writer = kinesis(&emu, credentials.clone());
    writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(blob(b"x"))
        .send()
        .await
        .expect("fresh credentials work");
    emu.clock().advance(Duration::from_secs(901));
    let result = writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(blob(b"x"))
        .send()
        .await;
    assert_eq!(
        err(result),
        pair(
            "ExpiredTokenException",
            "The security token included in the request is expired"
        )
    );
    let result = sts(&emu, credentials.clone())
        .get_caller_identity()
        .send()
        .await;
    assert_eq!(
        err(result),
        pair(
            "ExpiredToken",
            "The security token included in the request is expired"
        )
    );
    let result = s3(&emu, credentials).list_buckets().send().await;
    assert_eq!(
        err(result),
        pair("ExpiredToken", "The provided token has expired.")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn get_caller_identity_names_the_root_a_user_and_a_role_session() {
    let emu = start(true, None).await;
    let alice = writer_setup(&emu).await;
    let admin = iam(&emu, root());
    let me = sts(&emu, root())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        (me.user_id(), me.account(), me.arn()),
        (
            Some(ACCOUNT),
            Some(ACCOUNT),
            Some("arn:aws:iam::123456789012:root")
        )
    );
    let user_id = admin
        .get_user()
        .user_name("alice")
        .send()
        .await
        .unwrap()
        .user
        .unwrap()
        .user_id;
    let me = sts(&emu, alice.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        (me.user_id(), me.account(), me.arn()),
        (
            Some(user_id.as_str()),
            Some(ACCOUNT),
            Some("arn:aws:iam::123456789012:user/alice")
        )
    );
    let role_id = admin
        .get_role()
        .role_name("writer")
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .role_id;
    let out = assume(&sts(&emu, alice), "writer", "s1").await;
    // Any caller may ask who it is, even one whose policies allow nothing of STS.
    let me = sts(&emu, session_credentials(&out))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        (me.user_id(), me.account(), me.arn()),
        (
            Some(format!("{role_id}:s1").as_str()),
            Some(ACCOUNT),
            Some("arn:aws:sts::123456789012:assumed-role/writer/s1")
        )
    );
    emu.shutdown().await;

    // Without signature checks the default test credentials are the default account's root.
    let emu = start_default().await;
    let me = sts(
        &emu,
        Credentials::new("AKIDTEST", "secret", None, None, "t"),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap();
    assert_eq!(
        (me.user_id(), me.arn()),
        (Some("000000000000"), Some("arn:aws:iam::000000000000:root"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn without_enforcement_assumed_credentials_work_and_unsigned_calls_reach_sts() {
    let emu = start(false, None).await;
    create_role(&iam(&emu, root()), "anything", ACCOUNT_TRUST, None).await;
    let out = assume(&sts(&emu, root()), "anything", "free").await;
    let session = kinesis(&emu, session_credentials(&out));
    session
        .list_streams()
        .send()
        .await
        .expect("session credentials sign requests without enforcement");
    let me = sts(&emu, session_credentials(&out))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/anything/free")
    );
    emu.shutdown().await;

    let emu = start_default().await;
    let answer = post(
        &emu,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.text().starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><UserId>000000000000</UserId>"
        ),
        "{}",
        answer.text()
    );
    let answer = post(
        &emu,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=ListUsers&Version=2010-05-08",
    )
    .await;
    assert!(
        answer.text().contains("<ListUsersResponse"),
        "{}",
        answer.text()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn sessions_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(true, Some(dir.path())).await;
    let alice = writer_setup(&emu).await;
    let out = assume(&sts(&emu, alice), "writer", "s1").await;
    emu.shutdown().await;

    let emu = start(true, Some(dir.path())).await;
    let credentials = session_credentials(&out);
    let me = sts(&emu, credentials.clone())
        .get_caller_identity()
        .send()
        .await
        .expect("the session is still known");
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/writer/s1")
    );
    kinesis(&emu, credentials)
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(blob(b"x"))
        .send()
        .await
        .expect("and still acts as the writer role");
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_objects_is_authorized_key_by_key_on_decoded_keys() {
    let emu = start(true, None).await;
    let admin = iam(&emu, root());
    let owner = s3(&emu, root());
    owner
        .create_bucket()
        .bucket("cleanup-bucket")
        .send()
        .await
        .unwrap();
    let keys = ["public/a b%25.txt", "public/ü", "private/x"];
    for key in keys {
        owner
            .put_object()
            .bucket("cleanup-bucket")
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:DeleteObject","s3:GetObject"],"Resource":"arn:aws:s3:::cleanup-bucket/public/*"}]}"#;
    create_role(&admin, "cleaner", ACCOUNT_TRUST, Some(policy)).await;
    let alice = create_user(&admin, "alice", Some(MAY_ASSUME)).await;
    let out = assume(&sts(&emu, alice), "cleaner", "s1").await;
    let cleaner = s3(&emu, session_credentials(&out));
    cleaner
        .get_object()
        .bucket("cleanup-bucket")
        .key("public/a b%25.txt")
        .send()
        .await
        .expect("an encoded key is matched decoded");
    let objects: Vec<_> = keys
        .iter()
        .map(|k| {
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key(*k)
                .build()
                .unwrap()
        })
        .collect();
    let result = cleaner
        .delete_objects()
        .bucket("cleanup-bucket")
        .delete(
            aws_sdk_s3::types::Delete::builder()
                .set_objects(Some(objects))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DeleteObjects answers per key");
    let deleted: Vec<&str> = result.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["public/a b%25.txt", "public/ü"]);
    let errors: Vec<(Option<&str>, Option<&str>, Option<&str>)> = result
        .errors()
        .iter()
        .map(|e| (e.key(), e.code(), e.message()))
        .collect();
    assert_eq!(
        errors,
        [(
            Some("private/x"),
            Some("AccessDenied"),
            Some("Access Denied")
        )]
    );
    let left = owner
        .list_objects_v2()
        .bucket("cleanup-bucket")
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["private/x"]);
    emu.shutdown().await;
}
