//! The StreamPolicy controller on a real control plane against the emulator's IAM: what a
//! user sees in conditions and status, and what exists in "IAM".

mod support;

use std::cell::Cell;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::{BehaviorVersion, Region};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, PolicyScopeType};
use kinesis_operator::api::KinesisStream;
use kinesis_operator::api::stream_policy::StreamPolicy;
use kinesis_operator::emulator::Emulator;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use support::emulator::start_default;
use support::envtest::{control_plane, wait_for};
use support::operator::{
    self as kst, Operator, apply, condition, event_reasons, is_ready, service_account_with_rules,
    wait_until,
};
use tokio::sync::RwLock;

const ACCOUNT: &str = "000000000000";

/// The test of a cross-namespace reference runs an operator over every namespace; while it
/// runs no other test of this binary may (that operator would reconcile their objects too).
static ALL_NAMESPACES: RwLock<()> = RwLock::const_new(());

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn stream_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}")
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// An IAM client for `emulator`, without retries so that errors are seen as sent.
fn iam(emulator: &Emulator) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

async fn create_role(aws: &aws_sdk_iam::Client, name: &str) {
    aws.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
}

/// The roles `arn` is attached to, sorted.
async fn attached(aws: &aws_sdk_iam::Client, arn: &str) -> Vec<String> {
    let mut roles: Vec<String> = aws
        .list_entities_for_policy()
        .policy_arn(arn)
        .entity_filter(EntityType::Role)
        .send()
        .await
        .unwrap()
        .policy_roles
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.role_name)
        .collect();
    roles.sort();
    roles
}

/// The default version id of `arn` and its document, decoded.
async fn default_document(aws: &aws_sdk_iam::Client, arn: &str) -> (String, String) {
    let policy = aws
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let version = policy.default_version_id.unwrap();
    let document = aws
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap()
        .document
        .unwrap();
    let decoded = percent_encoding::percent_decode_str(&document)
        .decode_utf8()
        .unwrap()
        .into_owned();
    (version, decoded)
}

async fn version_ids(aws: &aws_sdk_iam::Client, arn: &str) -> Vec<String> {
    aws.list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .unwrap()
        .versions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.version_id)
        .collect()
}

async fn policy_tags(aws: &aws_sdk_iam::Client, arn: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = aws
        .list_policy_tags()
        .policy_arn(arn)
        .send()
        .await
        .unwrap()
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    tags.sort();
    tags
}

/// The customer managed policies in the account.
async fn local_policies(aws: &aws_sdk_iam::Client) -> Vec<String> {
    aws.list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap()
        .policies
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.policy_name)
        .collect()
}

/// The (reason, message) of the events about object `name` in `ns`.
async fn events(client: kube::Client, ns: &str, name: &str) -> Vec<(String, String)> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client, ns);
    events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

fn current(o: &StreamPolicy) -> bool {
    o.status.as_ref().and_then(|s| s.common.observed_generation) == o.metadata.generation
}

/// Stalled=True with `reason` for the current generation.
fn stalled_for(reason: &str) -> impl Fn(&StreamPolicy) -> bool + '_ {
    move |o| {
        current(o)
            && condition(o, "Stalled").is_some_and(|c| c.status == "True" && c.reason == reason)
    }
}

async fn wait_gone(api: &Api<StreamPolicy>, name: &str) {
    kst::wait_gone(api, name, Duration::from_secs(60), "released within 60 s").await;
}

#[tokio::test]
async fn a_policy_is_created_ready_attached_tagged_and_kept_so_with_reads_only() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("pol").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    for role in ["writer", "reader", "auditor"] {
        create_role(&aws, role).await;
    }
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "clicks-rw",
        json!({
            "statements": [
                {"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Write", "Read"]},
                {"streams": [{"streamARN": stream_arn("audit")}], "access": ["Describe"]}
            ],
            "attachToRoles": ["writer", "reader"],
            "tags": {"team": "data"}
        }),
    )
    .await;
    let ready = wait_until(&api, "clicks-rw", "Ready", is_ready).await;
    let status = ready.status.clone().unwrap();
    let arn = policy_arn("clicks-rw");
    assert_eq!(status.common.arn.as_deref(), Some(arn.as_str()));
    assert_eq!(status.default_version_id.as_deref(), Some("v1"));
    assert_eq!(status.attached_roles, ["reader", "writer"]);
    let (version, held) = default_document(&aws, &arn).await;
    assert_eq!(version, "v1");
    assert_eq!(
        status.rendered_document.as_deref(),
        Some(held.as_str()),
        "the rendered document is what IAM holds, byte for byte"
    );
    let clicks = stream_arn("clicks");
    let audit = stream_arn("audit");
    let expected = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards","kinesis:ListStreamConsumers","kinesis:PutRecord","kinesis:PutRecords"],"Resource":["{clicks}"]}},{{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:DescribeStreamSummary","kinesis:ListShards","kinesis:ListStreamConsumers","kinesis:ListTagsForStream"],"Resource":["{audit}"]}},{{"Effect":"Allow","Action":["kinesis:DescribeStreamConsumer"],"Resource":["{audit}/consumer/*"]}},{{"Effect":"Allow","Action":["kinesis:DescribeStreamConsumer","kinesis:SubscribeToShard"],"Resource":["{clicks}/consumer/*"]}}]}}"#
    );
    assert_eq!(held, expected);
    assert_eq!(attached(&aws, &arn).await, ["reader", "writer"]);
    let uid = ready.metadata.uid.clone().unwrap();
    assert_eq!(
        policy_tags(&aws, &arn).await,
        [
            (
                "kinesis.operator.dev/owner".to_owned(),
                format!("{ns}/clicks-rw")
            ),
            ("kinesis.operator.dev/uid".to_owned(), uid.clone()),
            ("team".to_owned(), "data".to_owned()),
        ]
    );
    let c = condition(&ready, "Ready").unwrap();
    assert_eq!(c.reason, "Active");
    assert_eq!(
        c.message,
        "policy clicks-rw v1 is in force and matches the spec, attached to reader and writer"
    );

    // A settled policy costs reads only, and few of them: three resyncs (2 s each) later,
    // nothing was written.
    let before = operator.aws_calls();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = operator.aws_calls();
    let grown: Vec<(&String, u64)> = after
        .iter()
        .map(|(op, n)| (op, n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    for (op, _) in &grown {
        assert!(
            ["GetPolicy", "ListEntitiesForPolicy"].contains(&op.as_str()),
            "only reads while settled: {grown:?}"
        );
    }
    let gets = grown
        .iter()
        .find(|(op, _)| *op == "GetPolicy")
        .map_or(0, |(_, n)| *n);
    assert!(
        (2..=5).contains(&gets),
        "one GetPolicy per resync: {grown:?}"
    );

    // Someone adds a tag and detaches a role behind the operator's back; the spec drops a
    // role and adds another.
    aws.tag_policy()
        .policy_arn(&arn)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("rogue")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    aws.detach_role_policy()
        .role_name("writer")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    apply(
        &api,
        "clicks-rw",
        json!({
            "statements": [
                {"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Write", "Read"]},
                {"streams": [{"streamARN": stream_arn("audit")}], "access": ["Describe"]}
            ],
            "attachToRoles": ["writer", "auditor"],
            "tags": {"team": "data"}
        }),
    )
    .await;
    let moved = wait_until(
        &api,
        "clicks-rw",
        "Ready attached to auditor and writer",
        |o| is_ready(o) && o.status.as_ref().unwrap().attached_roles == ["auditor", "writer"],
    )
    .await;
    assert_eq!(
        moved.status.unwrap().default_version_id.as_deref(),
        Some("v1"),
        "the same grants make no new version"
    );
    assert_eq!(attached(&aws, &arn).await, ["auditor", "writer"]);
    assert_eq!(version_ids(&aws, &arn).await, ["v1"]);
    let tags = policy_tags(&aws, &arn).await;
    assert!(!tags.iter().any(|(k, _)| k == "rogue"), "{tags:?}");
    let said = events(cp.admin().await, &ns, "clicks-rw").await;
    // (Repeats of a reason are merged into the first event's series by kube's recorder, so
    // the later attachment's own words are not looked for.)
    for (reason, note) in [
        ("Created", "CreatePolicy clicks-rw"),
        ("Attached", "AttachRolePolicy to roles reader and writer"),
        (
            "Detached",
            "DetachRolePolicy from role reader: not in spec.attachToRoles",
        ),
        ("TagsChanged", "UntagPolicy rogue"),
    ] {
        assert!(
            said.contains(&(reason.to_owned(), note.to_owned())),
            "{reason}: {note} in {said:?}"
        );
    }
    operator.stop().await;
    emulator.shutdown().await;
}

/// Applied before its stream, a policy waits, naming the stream, and is Ready within seconds
/// of the stream becoming Ready (woken by the watch: the resync here is a minute).
#[tokio::test]
async fn a_policy_naming_a_stream_waits_for_it_and_follows_within_seconds() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("polref").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    let operator =
        Operator::start_with(cp.admin().await, &emulator, &ns, Duration::from_secs(60)).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "clicks-read",
        json!({
            "statements": [{"streams": [{"streamRef": {"name": "clicks"}}], "access": ["Read"]}]
        }),
    )
    .await;
    let waiting = wait_until(&api, "clicks-read", "WaitingForDependency", |o| {
        current(o) && condition(o, "Ready").is_some_and(|c| c.reason == "WaitingForDependency")
    })
    .await;
    let c = condition(&waiting, "Ready").unwrap();
    assert_eq!(c.status, "False");
    assert_eq!(
        c.message,
        format!("waiting for KinesisStream {ns}/clicks: it does not exist")
    );
    assert_eq!(condition(&waiting, "Reconciling").unwrap().status, "True");
    assert_eq!(condition(&waiting, "Stalled").unwrap().status, "False");
    assert!(local_policies(&aws).await.is_empty(), "nothing in IAM yet");

    kst::apply(&streams, "clicks", json!({"shardCount": 1})).await;
    // Poll both closely: the gap between them is what the watch makes short.
    let stream_ready: Cell<Option<Instant>> = Cell::new(None);
    let policy_ready = wait_for(Duration::from_secs(60), || async {
        if stream_ready.get().is_none()
            && streams
                .get("clicks")
                .await
                .ok()
                .is_some_and(|s| kst::is_ready(&s))
        {
            stream_ready.set(Some(Instant::now()));
        }
        api.get("clicks-read")
            .await
            .ok()
            .filter(is_ready)
            .map(|p| (p, Instant::now()))
    })
    .await;
    let (ready, at) = policy_ready.expect("the policy is Ready once its stream is");
    let lag = at.duration_since(stream_ready.get().unwrap_or(at));
    assert!(
        lag < Duration::from_secs(3),
        "Ready {lag:?} after the stream was"
    );
    let status = ready.status.unwrap();
    let rendered = status.rendered_document.unwrap();
    assert!(
        rendered.contains(&format!("\"Resource\":[\"{}\"]", stream_arn("clicks"))),
        "the stream's ARN reached the policy: {rendered}"
    );
    assert_eq!(
        default_document(&aws, &policy_arn("clicks-read")).await.1,
        rendered
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A reference into another namespace is refused until the stream consents with its
/// annotation; the consent wakes the policy (an operator watching every namespace).
#[tokio::test]
async fn a_cross_namespace_reference_is_refused_until_the_stream_allows_it() {
    let _alone = ALL_NAMESPACES.write().await;
    let cp = control_plane();
    let shared = cp.namespace("polshared").await;
    let team = cp.namespace("polteam").await;
    let emulator = start_default().await;
    let operator =
        Operator::start_scoped(cp.admin().await, &emulator, None, Duration::from_secs(60)).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &shared);
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &team);

    kst::apply(&streams, "events", json!({"shardCount": 1})).await;
    kst::wait_until(&streams, "events", "Ready", kst::is_ready).await;
    apply(&api, "events-write", json!({
        "statements": [{"streams": [{"streamRef": {"name": "events", "namespace": shared}}], "access": ["Write"]}]
    }))
    .await;
    let refused = wait_until(
        &api,
        "events-write",
        "Stalled ReferenceNotAllowed",
        stalled_for("ReferenceNotAllowed"),
    )
    .await;
    assert_eq!(
        condition(&refused, "Stalled").unwrap().message,
        format!(
            "KinesisStream {shared}/events does not allow references from namespace {team}: annotate it with kinesis.operator.dev/allow-references-from: {team} (or reference a stream of namespace {team})"
        )
    );
    // (Objects other tests left in their namespaces are this operator's too: only this
    // test's policy is looked for.)
    assert!(
        !local_policies(&iam(&emulator))
            .await
            .contains(&"events-write".to_owned()),
        "nothing in IAM for a refused reference"
    );

    streams
        .patch(
            "events",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "kinesis.operator.dev/allow-references-from": format!("other, {team}")
            }}})),
        )
        .await
        .unwrap();
    let ready = wait_until(&api, "events-write", "Ready once allowed", is_ready).await;
    assert!(
        ready
            .status
            .unwrap()
            .rendered_document
            .unwrap()
            .contains(&stream_arn("events"))
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// Ten updates in a row keep IAM at 5 versions (the oldest non-default pruned first, never
/// LimitExceeded) and the attachments in place.
#[tokio::test]
async fn a_policy_updated_ten_times_never_exceeds_five_versions() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("polver").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    create_role(&aws, "consumer").await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    let arn = policy_arn("churn");
    let spec = |n: usize| {
        let streams: Vec<_> = (0..=n)
            .map(|i| json!({"streamARN": stream_arn(&format!("s{i}"))}))
            .collect();
        json!({"statements": [{"streams": streams, "access": ["Read"]}], "attachToRoles": ["consumer"]})
    };
    apply(&api, "churn", spec(0)).await;
    wait_until(&api, "churn", "Ready", is_ready).await;
    for n in 1..=10 {
        apply(&api, "churn", spec(n)).await;
        let expected = format!("v{}", n + 1);
        let ready = wait_until(&api, "churn", &format!("Ready at {expected}"), |o| {
            assert!(
                condition(o, "Stalled").is_none_or(|c| c.status != "True"),
                "never stalled: {:?}",
                condition(o, "Stalled")
            );
            is_ready(o)
                && o.status.as_ref().unwrap().default_version_id.as_deref() == Some(&expected)
        })
        .await;
        let versions = version_ids(&aws, &arn).await;
        assert!(versions.len() <= 5, "update {n}: {versions:?}");
        assert_eq!(ready.status.unwrap().attached_roles, ["consumer"]);
    }
    let mut versions = version_ids(&aws, &arn).await;
    versions.sort_by_key(|v| v[1..].parse::<u32>().unwrap());
    assert_eq!(versions, ["v7", "v8", "v9", "v10", "v11"]);
    let (default, document) = default_document(&aws, &arn).await;
    assert_eq!(default, "v11");
    assert!(document.contains(&stream_arn("s10")), "{document}");
    assert_eq!(attached(&aws, &arn).await, ["consumer"]);
    let said = events(cp.admin().await, &ns, "churn").await;
    // Each version its own event; a full history makes room first, and says so.
    for note in [
        "CreatePolicyVersion v2 as the default (was v1)",
        "CreatePolicyVersion v11 as the default (was v10), after DeletePolicyVersion v6 (IAM keeps at most 5 versions)",
    ] {
        assert!(
            said.contains(&("Updated".to_owned(), note.to_owned())),
            "{said:?}"
        );
    }
    operator.stop().await;
    emulator.shutdown().await;
}

/// A role that does not exist stalls the policy, naming the role; once the role is created
/// the policy is attached and Ready, with no change to the spec.
#[tokio::test]
async fn a_missing_role_is_stalled_and_recovered_once_it_exists() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("polrole").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    create_role(&aws, "present").await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);

    apply(
        &api,
        "late-role",
        json!({
            "statements": [{"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Write"]}],
            "attachToRoles": ["present", "ingest-late"]
        }),
    )
    .await;
    let stalled = wait_until(
        &api,
        "late-role",
        "Stalled RoleNotFound",
        stalled_for("RoleNotFound"),
    )
    .await;
    assert_eq!(
        condition(&stalled, "Stalled").unwrap().message,
        "IAM role ingest-late does not exist, so policy late-role is not attached to it: create the role or remove it from spec.attachToRoles (the operator tries again every 2 s)"
    );
    assert_eq!(condition(&stalled, "Ready").unwrap().status, "False");
    let status = stalled.status.clone().unwrap();
    assert_eq!(
        status.attached_roles,
        ["present"],
        "the roles that exist are attached"
    );
    assert_eq!(
        status.common.arn.as_deref(),
        Some(policy_arn("late-role").as_str())
    );

    create_role(&aws, "ingest-late").await;
    let ready = wait_until(&api, "late-role", "Ready once the role exists", is_ready).await;
    assert_eq!(
        ready.metadata.generation, stalled.metadata.generation,
        "no spec change"
    );
    assert_eq!(
        ready.status.unwrap().attached_roles,
        ["ingest-late", "present"]
    );
    assert_eq!(
        attached(&aws, &policy_arn("late-role")).await,
        ["ingest-late", "present"]
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A `document` that is not a JSON object is refused before IAM is called, naming the field;
/// one IAM rejects is Stalled with IAM's code and message verbatim.
#[tokio::test]
async fn invalid_documents_are_stalled_with_the_reason() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("poldoc").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);

    let no_statement = r#"{"Version":"2012-10-17"}"#;
    let iam_says = aws
        .create_policy()
        .policy_name("probe")
        .policy_document(no_statement)
        .send()
        .await
        .expect_err("IAM refuses a document without a Statement");
    let iam_says = format!(
        "{}: {}",
        iam_says.code().unwrap(),
        iam_says.message().unwrap()
    );
    let cases = [
        ("not-json", "{\"Version\": ", "InvalidSpec", "spec.document is not valid JSON: EOF while parsing a value at line 1 column 12; fix the document".to_owned()),
        ("not-object", "[\"kinesis:*\"]", "InvalidSpec", "spec.document must be a JSON object (a policy document with Version and Statement)".to_owned()),
        ("malformed", no_statement, "AWSError", iam_says),
    ];
    for (name, document, _, _) in &cases {
        apply(&api, name, json!({"document": document})).await;
    }
    for (name, _, reason, message) in cases {
        let stalled = wait_until(&api, name, "Stalled", stalled_for(reason)).await;
        assert_eq!(
            condition(&stalled, "Stalled").unwrap().message,
            message,
            "{name}"
        );
        assert!(stalled.status.unwrap().common.arn.is_none());
    }
    assert!(local_policies(&aws).await.is_empty());
    operator.stop().await;
    emulator.shutdown().await;
}

/// A policy the object does not own is Stalled AlreadyExists and never deleted; with
/// `adopt: true` it is taken over and converged.
#[tokio::test]
async fn a_policy_it_does_not_own_is_stalled_unless_adopted() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("poladopt").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:ListStreams","Resource":"*"}]}"#;
    aws.create_policy()
        .policy_name("legacy")
        .policy_document(theirs)
        .send()
        .await
        .unwrap();
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    let spec = |adopt: bool| json!({"statements": [{"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Read"]}], "adopt": adopt});

    apply(&api, "legacy", spec(false)).await;
    let stalled = wait_until(
        &api,
        "legacy",
        "Stalled AlreadyExists",
        stalled_for("AlreadyExists"),
    )
    .await;
    assert_eq!(
        condition(&stalled, "Stalled").unwrap().message,
        "policy legacy already exists in IAM and is not this object's (no owner tag); set spec.adopt: true to take it over, or choose another spec.policyName"
    );
    assert!(stalled.status.unwrap().common.arn.is_none());
    api.delete("legacy", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "legacy").await;
    let arn = policy_arn("legacy");
    assert_eq!(
        default_document(&aws, &arn).await,
        ("v1".to_owned(), theirs.to_owned()),
        "someone else's policy is never changed or deleted"
    );

    apply(&api, "legacy", spec(true)).await;
    let adopted = wait_until(&api, "legacy", "Ready after adoption", is_ready).await;
    let status = adopted.status.unwrap();
    assert_eq!(status.default_version_id.as_deref(), Some("v2"));
    let (_, held) = default_document(&aws, &arn).await;
    assert_eq!(status.rendered_document.as_deref(), Some(held.as_str()));
    let uid = adopted.metadata.uid.unwrap();
    assert!(
        policy_tags(&aws, &arn)
            .await
            .contains(&("kinesis.operator.dev/uid".to_owned(), uid))
    );
    let said = events(cp.admin().await, &ns, "legacy").await;
    assert!(
        said.contains(&(
            "Adopted".to_owned(),
            "took over policy legacy (spec.adopt) and tagged it as this object's".to_owned()
        )),
        "{said:?}"
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// A policy deleted behind the operator's back is created again, with a DriftCorrected event.
#[tokio::test]
async fn out_of_band_deletion_is_corrected() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("poldrift").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    apply(
        &api,
        "drifty",
        json!({
            "statements": [{"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Admin"]}]
        }),
    )
    .await;
    let ready = wait_until(&api, "drifty", "Ready", is_ready).await;
    let arn = policy_arn("drifty");
    aws.delete_policy().policy_arn(&arn).send().await.unwrap();
    let back = wait_for(Duration::from_secs(60), || async {
        let reasons = event_reasons(cp.admin().await, &ns, "drifty").await;
        let exists = aws.get_policy().policy_arn(&arn).send().await.is_ok();
        (exists && reasons.iter().any(|r| r == "DriftCorrected")).then_some(())
    })
    .await;
    assert!(
        back.is_some(),
        "re-created with a DriftCorrected event: {:?}",
        event_reasons(cp.admin().await, &ns, "drifty").await
    );
    let again = wait_until(&api, "drifty", "Ready again", is_ready).await;
    assert_eq!(
        again.status.unwrap().rendered_document,
        ready.status.unwrap().rendered_document
    );
    assert_eq!(default_document(&aws, &arn).await.0, "v1");
    operator.stop().await;
    emulator.shutdown().await;
}

/// Deleting the object detaches the policy from its roles, deletes its older versions and
/// the policy; with deletionPolicy Retain the policy stays.
#[tokio::test]
async fn deletion_detaches_and_deletes_and_retain_keeps_the_policy() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("poldel").await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    create_role(&aws, "app").await;
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    let spec = |access: &str, retain: bool| {
        json!({
            "statements": [{"streams": [{"streamARN": stream_arn("clicks")}], "access": [access]}],
            "attachToRoles": ["app"],
            "deletionPolicy": if retain { "Retain" } else { "Delete" }
        })
    };
    apply(&api, "gone", spec("Read", false)).await;
    apply(&api, "kept", spec("Write", true)).await;
    wait_until(&api, "gone", "Ready", is_ready).await;
    wait_until(&api, "kept", "Ready", is_ready).await;
    apply(&api, "gone", spec("Describe", false)).await;
    wait_until(&api, "gone", "Ready at v2", |o| {
        is_ready(o) && o.status.as_ref().unwrap().default_version_id.as_deref() == Some("v2")
    })
    .await;
    // Someone else attaches it to another role too: deletion detaches it there as well.
    create_role(&aws, "other").await;
    aws.attach_role_policy()
        .role_name("other")
        .policy_arn(policy_arn("gone"))
        .send()
        .await
        .unwrap();

    api.delete("gone", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "gone").await;
    let err = aws
        .get_policy()
        .policy_arn(policy_arn("gone"))
        .send()
        .await
        .expect_err("the policy is deleted");
    assert_eq!(err.code(), Some("NoSuchEntity"));
    for role in ["app", "other"] {
        let left: Vec<String> = aws
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap()
            .attached_policies
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.policy_name)
            .collect();
        let expected: &[&str] = if role == "app" { &["kept"] } else { &[] };
        assert_eq!(left, expected, "{role}");
    }

    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "kept").await;
    assert_eq!(
        local_policies(&aws).await,
        ["kept"],
        "Retain leaves the policy"
    );
    let said = events(cp.admin().await, &ns, "gone").await;
    assert!(
        said.contains(&(
            "Deleting".to_owned(),
            "DeletePolicy gone, after detaching it from app and other".to_owned()
        )),
        "{said:?}"
    );
    assert_eq!(attached(&aws, &policy_arn("kept")).await, ["app"]);
    operator.stop().await;
    emulator.shutdown().await;
}

/// An operator that dies after CreatePolicy but before any status write (here: it may not
/// write status at all, and is stopped once the policy exists) leaves one policy, which the
/// next operator recognises by its ownership tags and reports Ready.
#[tokio::test]
async fn a_crash_between_create_and_status_write_leaves_exactly_one_policy() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("polcrash").await;
    let admin = cp.admin().await;
    let crashy_client = service_account_with_rules(
        cp,
        &ns,
        "crashy",
        json!([
            {"apiGroups": ["kinesis.operator.dev"], "resources": ["streampolicies"], "verbs": ["get", "list", "watch", "patch", "update"]},
            {"apiGroups": ["kinesis.operator.dev"], "resources": ["kinesisstreams"], "verbs": ["get", "list", "watch"]}
        ]),
    )
    .await;
    let emulator = start_default().await;
    let aws = iam(&emulator);
    let api: Api<StreamPolicy> = Api::namespaced(admin.clone(), &ns);

    let crashy = Operator::start(crashy_client, &emulator, &ns).await;
    apply(
        &api,
        "once",
        json!({
            "statements": [{"streams": [{"streamARN": stream_arn("clicks")}], "access": ["Read"]}]
        }),
    )
    .await;
    wait_for(Duration::from_secs(60), || async {
        aws.get_policy()
            .policy_arn(policy_arn("once"))
            .send()
            .await
            .ok()
    })
    .await
    .expect("the first operator created the policy");
    crashy.stop().await;
    assert!(
        api.get("once").await.unwrap().status.is_none(),
        "no status was written before the crash"
    );

    let operator = Operator::start(admin.clone(), &emulator, &ns).await;
    let ready = wait_until(&api, "once", "Ready after restart", is_ready).await;
    assert_eq!(
        ready.status.unwrap().default_version_id.as_deref(),
        Some("v1")
    );
    assert_eq!(local_policies(&aws).await, ["once"], "exactly one policy");
    assert_eq!(version_ids(&aws, &policy_arn("once")).await, ["v1"]);
    operator.stop().await;
    emulator.shutdown().await;
}

/// With 30% of IAM calls throttled and 10% failing with 5xx, policies still become Ready and
/// attached, none goes Stalled, and none is created twice.
#[tokio::test]
async fn policies_converge_through_throttling_and_server_errors() {
    let _shared = ALL_NAMESPACES.read().await;
    let cp = control_plane();
    let ns = cp.namespace("polfaults").await;
    let emulator = Emulator::start(kinesis_operator::emulator::Config {
        faults: vec![
            "*:throttle:0.3".parse().unwrap(),
            "*:5xx:0.1".parse().unwrap(),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let aws = iam(&emulator);
    // The test's own calls meet the faults too: it retries them as a client would.
    while aws
        .create_role()
        .role_name("flaky-consumer")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .is_err_and(|e| e.code() != Some("EntityAlreadyExists"))
    {}
    let operator = Operator::start(cp.admin().await, &emulator, &ns).await;
    let api: Api<StreamPolicy> = Api::namespaced(cp.admin().await, &ns);
    for i in 0..3 {
        apply(
            &api,
            &format!("flaky-{i}"),
            json!({"statements": [{"streams": [{"streamARN": stream_arn(&format!("s{i}"))}],
                   "access": ["Write"]}], "attachToRoles": ["flaky-consumer"]}),
        )
        .await;
    }
    for i in 0..3 {
        let name = format!("flaky-{i}");
        wait_until(&api, &name, "Ready despite faults", |o| {
            assert!(
                condition(o, "Stalled").is_none_or(|c| c.status != "True"),
                "{name}: Stalled under transient faults: {:?}",
                condition(o, "Stalled")
            );
            is_ready(o)
        })
        .await;
    }
    let mut names = loop {
        if let Ok(out) = aws
            .list_policies()
            .scope(PolicyScopeType::Local)
            .send()
            .await
        {
            break out
                .policies
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.policy_name)
                .collect::<Vec<_>>();
        }
    };
    names.sort();
    assert_eq!(
        names,
        ["flaky-0", "flaky-1", "flaky-2"],
        "each created once"
    );
    operator.stop().await;
    emulator.shutdown().await;
}
