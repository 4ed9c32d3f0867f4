//! The API on a real kube-apiserver: CRDs become Established, every example applies with
//! server-side apply, invalid manifests are refused with messages that name the field, field
//! docs reach `kubectl explain`, the status subresource and RBAC behave.

mod support;

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kinesis_operator::api::{
    AnalyticsApplication, DeliveryStream, KinesisStream, KinesisStreamStatus, StreamPolicy,
};
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::envtest::{control_plane, wait_for};

const API_VERSION: &str = "kinesis.operator.dev/v1alpha1";

#[tokio::test]
async fn every_crd_is_established_with_names_and_category() {
    let cp = control_plane();
    let api: Api<CustomResourceDefinition> = Api::all(cp.admin().await);
    for plural in [
        "kinesisstreams",
        "deliverystreams",
        "analyticsapplications",
        "streampolicies",
    ] {
        let crd = api
            .get(&format!("{plural}.kinesis.operator.dev"))
            .await
            .expect("the CRD is installed");
        let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True"),
            "{plural} is not Established: {conditions:?}"
        );
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "NamesAccepted" && c.status == "True"),
            "{plural}: names not accepted"
        );
    }
}

#[tokio::test]
async fn every_example_applies_server_side_and_is_listed_by_the_kinesis_category() {
    let cp = control_plane();
    let ns = cp.namespace("examples").await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .expect("examples/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "the seed scenarios are in examples/");
    let mut expected_names = Vec::new();
    for file in &files {
        let out = cp
            .kubectl()
            .args([
                "apply",
                "--server-side",
                "--field-manager=examples-test",
                "-n",
                &ns,
                "-f",
            ])
            .arg(file)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl apply --server-side -f {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        for doc in serde_norway::Deserializer::from_str(&std::fs::read_to_string(file).unwrap()) {
            let value: Value = serde::Deserialize::deserialize(doc).expect("YAML");
            let kind = value["kind"].as_str().unwrap().to_lowercase();
            let name = value["metadata"]["name"].as_str().unwrap();
            expected_names.push(format!("{kind}.kinesis.operator.dev/{name}"));
        }
    }
    let out = cp
        .kubectl()
        .args(["get", "kinesis", "-n", &ns, "-o", "name"])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8(out.stdout).unwrap();
    for name in &expected_names {
        assert!(
            listed.lines().any(|l| l == name),
            "`kubectl get kinesis` does not list {name}:\n{listed}"
        );
    }

    // Defaults are filled in by the API server.
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let stream = streams.get("my-stream").await.expect("my-stream exists");
    assert_eq!(stream.spec.shard_count, Some(2));
    assert_eq!(stream.spec.retention_period_hours, 24);
    assert_eq!(stream.spec.max_record_size_in_ki_b, 1024);
    let delivery: Api<DeliveryStream> = Api::namespaced(cp.admin().await, &ns);
    let s3 = delivery
        .get("my-delivery-stream")
        .await
        .expect("my-delivery-stream exists")
        .spec
        .destination
        .s3
        .expect("an S3 destination");
    assert_eq!(s3.buffering_hints.size_in_m_bs, 123);
    assert_eq!(s3.buffering_hints.interval_in_seconds, 60);
    assert_eq!(s3.prefix.as_deref(), Some("kinesis-data/"));
}

/// An object this test creates, as JSON.
fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn resource(kind: &str) -> ApiResource {
    match kind {
        "KinesisStream" => ApiResource::erase::<KinesisStream>(&()),
        "DeliveryStream" => ApiResource::erase::<DeliveryStream>(&()),
        "AnalyticsApplication" => ApiResource::erase::<AnalyticsApplication>(&()),
        "StreamPolicy" => ApiResource::erase::<StreamPolicy>(&()),
        other => panic!("unknown kind {other}"),
    }
}

fn dynamic(client: &Client, ns: &str, kind: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource(kind))
}

async fn create(client: &Client, ns: &str, obj: &Value) -> Result<DynamicObject, kube::Error> {
    let kind = obj["kind"].as_str().unwrap();
    let dynamic_obj: DynamicObject = serde_json::from_value(obj.clone()).unwrap();
    dynamic(client, ns, kind)
        .create(&PostParams::default(), &dynamic_obj)
        .await
}

fn s3_destination() -> Value {
    json!({"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123456789012:role/firehose"}})
}

fn flink(extra: Value) -> Value {
    let mut spec = json!({
        "serviceExecutionRoleARN": "arn:aws:iam::123456789012:role/flink",
        "code": {"sql": "SELECT 1;"}
    });
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    spec
}

fn stream_arn_policy(access: Value) -> Value {
    json!({"statements": [{"streams": [{"streamARN": "arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}], "access": access}]})
}

#[tokio::test]
async fn invalid_manifests_are_refused_with_a_message_naming_the_field() {
    let cp = control_plane();
    let client = cp.admin().await;
    let ns = cp.namespace("invalid").await;
    let long_name = "a".repeat(129);
    let consumers: Vec<String> = (0..21).map(|i| format!("c{i}")).collect();
    // (what is wrong, the object, text the error must contain)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "zero shards",
            object("KinesisStream", "zero", json!({"shardCount": 0})),
            "spec.shardCount",
        ),
        (
            "retention below 24 h",
            object(
                "KinesisStream",
                "ret-low",
                json!({"shardCount": 1, "retentionPeriodHours": 23}),
            ),
            "spec.retentionPeriodHours",
        ),
        (
            "retention above 8760 h",
            object(
                "KinesisStream",
                "ret-high",
                json!({"shardCount": 1, "retentionPeriodHours": 8761}),
            ),
            "spec.retentionPeriodHours",
        ),
        (
            "OnDemand with shardCount",
            object(
                "KinesisStream",
                "ondemand-shards",
                json!({"mode": "OnDemand", "shardCount": 2}),
            ),
            "spec.shardCount must not be set when spec.mode is OnDemand",
        ),
        (
            "Provisioned without shardCount",
            object("KinesisStream", "no-shards", json!({})),
            "spec.shardCount is required when spec.mode is Provisioned",
        ),
        (
            "unknown mode",
            object(
                "KinesisStream",
                "bad-mode",
                json!({"mode": "Elastic", "shardCount": 1}),
            ),
            "spec.mode",
        ),
        (
            "stream name with spaces",
            object(
                "KinesisStream",
                "bad-name",
                json!({"streamName": "my stream!", "shardCount": 1}),
            ),
            "spec.streamName",
        ),
        (
            "stream name too long",
            object(
                "KinesisStream",
                "long-name",
                json!({"streamName": long_name, "shardCount": 1}),
            ),
            "spec.streamName",
        ),
        (
            "malformed region",
            object(
                "KinesisStream",
                "bad-region",
                json!({"region": "US_WEST", "shardCount": 1}),
            ),
            "spec.region",
        ),
        (
            "warm throughput on Provisioned",
            object(
                "KinesisStream",
                "warm",
                json!({"shardCount": 1, "warmThroughputMiBps": 100}),
            ),
            "spec.warmThroughputMiBps",
        ),
        (
            "ALL with other metrics",
            object(
                "KinesisStream",
                "metrics",
                json!({"shardCount": 1, "shardLevelMetrics": ["ALL", "IncomingBytes"]}),
            ),
            "spec.shardLevelMetrics",
        ),
        (
            "record size below 1 MiB",
            object(
                "KinesisStream",
                "small-records",
                json!({"shardCount": 1, "maxRecordSizeInKiB": 512}),
            ),
            "spec.maxRecordSizeInKiB",
        ),
        (
            "21 consumers",
            object(
                "KinesisStream",
                "consumers",
                json!({"shardCount": 1, "consumers": consumers}),
            ),
            "spec.consumers",
        ),
        (
            "reserved tag key",
            object(
                "KinesisStream",
                "tags",
                json!({"shardCount": 1, "tags": {"kinesis.operator.dev/owner": "me"}}),
            ),
            "spec.tags",
        ),
        (
            "KMS encryption without a key",
            object(
                "KinesisStream",
                "kms",
                json!({"shardCount": 1, "encryption": {"type": "KMS"}}),
            ),
            "spec.encryption.keyId",
        ),
        (
            "two destinations",
            object(
                "DeliveryStream",
                "two-dest",
                json!({"destination": {"s3": s3_destination()["s3"], "httpEndpoint": {"url": "https://example.com", "s3Backup": {"bucketARN": "arn:aws:s3:::b-bucket", "roleARN": "arn:aws:iam::123456789012:role/r"}}}}),
            ),
            "spec.destination: set exactly one of s3 or httpEndpoint",
        ),
        (
            "no destination",
            object("DeliveryStream", "no-dest", json!({"destination": {}})),
            "spec.destination",
        ),
        (
            "malformed bucket ARN",
            object(
                "DeliveryStream",
                "bad-bucket",
                json!({"destination": {"s3": {"bucketARN": "my-bucket", "roleARN": "arn:aws:iam::123456789012:role/r"}}}),
            ),
            "spec.destination.s3.bucketARN",
        ),
        (
            "malformed role ARN",
            object(
                "DeliveryStream",
                "bad-role",
                json!({"destination": {"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123:role/r"}}}),
            ),
            "spec.destination.s3.roleARN",
        ),
        (
            "buffering 0 MB",
            object(
                "DeliveryStream",
                "buf-zero",
                json!({"destination": {"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123456789012:role/r", "bufferingHints": {"sizeInMBs": 0}}}}),
            ),
            "spec.destination.s3.bufferingHints.sizeInMBs",
        ),
        (
            "buffering 200 MB",
            object(
                "DeliveryStream",
                "buf-big",
                json!({"destination": {"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123456789012:role/r", "bufferingHints": {"sizeInMBs": 200}}}}),
            ),
            "spec.destination.s3.bufferingHints.sizeInMBs",
        ),
        (
            "buffering interval above 900 s",
            object(
                "DeliveryStream",
                "buf-long",
                json!({"destination": {"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123456789012:role/r", "bufferingHints": {"intervalInSeconds": 901}}}}),
            ),
            "spec.destination.s3.bufferingHints.intervalInSeconds",
        ),
        (
            "unknown compression",
            object(
                "DeliveryStream",
                "bad-compression",
                json!({"destination": {"s3": {"bucketARN": "arn:aws:s3:::my-bucket", "roleARN": "arn:aws:iam::123456789012:role/r", "compression": "BZIP2"}}}),
            ),
            "spec.destination.s3.compression",
        ),
        (
            "streamRef and streamARN",
            object(
                "DeliveryStream",
                "two-sources",
                json!({"source": {"kinesisStream": {"streamRef": {"name": "s"}, "streamARN": "arn:aws:kinesis:us-west-2:123456789012:stream/s", "roleARN": "arn:aws:iam::123456789012:role/r"}}, "destination": s3_destination()}),
            ),
            "spec.source.kinesisStream: set exactly one of streamRef or streamARN",
        ),
        (
            "directPut and kinesisStream",
            object(
                "DeliveryStream",
                "both-sources",
                json!({"source": {"directPut": {}, "kinesisStream": {"streamRef": {"name": "s"}, "roleARN": "arn:aws:iam::123456789012:role/r"}}, "destination": s3_destination()}),
            ),
            "spec.source: set exactly one of directPut or kinesisStream",
        ),
        (
            "encryption with a stream source",
            object(
                "DeliveryStream",
                "enc-source",
                json!({"source": {"kinesisStream": {"streamRef": {"name": "s"}, "roleARN": "arn:aws:iam::123456789012:role/r"}}, "destination": s3_destination(), "encryption": {"keyType": "AWS_OWNED_CMK"}}),
            ),
            "spec.encryption applies to DirectPut",
        ),
        (
            "customer key without ARN",
            object(
                "DeliveryStream",
                "cmk",
                json!({"destination": s3_destination(), "encryption": {"keyType": "CUSTOMER_MANAGED_CMK"}}),
            ),
            "spec.encryption.keyARN",
        ),
        (
            "both statements and document",
            object(
                "StreamPolicy",
                "both",
                json!({"document": "{}", "statements": stream_arn_policy(json!(["Read"]))["statements"]}),
            ),
            "set exactly one of statements",
        ),
        (
            "neither statements nor document",
            object("StreamPolicy", "neither", json!({})),
            "set exactly one of statements",
        ),
        (
            "unknown access level",
            object(
                "StreamPolicy",
                "access",
                stream_arn_policy(json!(["ReadWrite"])),
            ),
            "spec.statements[0].access[0]",
        ),
        (
            "malformed stream ARN",
            object(
                "StreamPolicy",
                "arn",
                json!({"statements": [{"streams": [{"streamARN": "arn:aws:kinesis:::MyStream"}], "access": ["Read"]}]}),
            ),
            "spec.statements[0].streams[0].streamARN",
        ),
        (
            "no code",
            object(
                "AnalyticsApplication",
                "no-code",
                json!({"serviceExecutionRoleARN": "arn:aws:iam::123456789012:role/flink", "code": {}}),
            ),
            "spec.code: set s3",
        ),
        (
            "unknown runtime",
            object(
                "AnalyticsApplication",
                "runtime",
                flink(json!({"runtime": "SQL-1_0"})),
            ),
            "spec.runtime",
        ),
        (
            "reserved property group",
            object(
                "AnalyticsApplication",
                "props",
                flink(json!({"properties": {"kinesis.operator.sql": {"statements": "x"}}})),
            ),
            "spec.properties",
        ),
        (
            "unknown desired state",
            object(
                "AnalyticsApplication",
                "state",
                flink(json!({"desiredState": "Paused"})),
            ),
            "spec.desiredState",
        ),
        (
            "unknown deletion policy",
            object(
                "KinesisStream",
                "policy",
                json!({"shardCount": 1, "deletionPolicy": "Orphan"}),
            ),
            "spec.deletionPolicy",
        ),
    ];
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (what, obj, expected) in &cases {
        match create(&client, &ns, obj).await {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(kube::Error::Api(status)) if status.code == 422 => {
                if !status.message.contains(expected) {
                    failures.push(format!(
                        "{what}: message does not contain {expected:?}: {}",
                        status.message
                    ));
                }
            }
            Err(e) => failures.push(format!("{what}: unexpected error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn immutable_fields_cannot_change_after_creation() {
    let cp = control_plane();
    let client = cp.admin().await;
    let ns = cp.namespace("immutable").await;
    // (what changes, original, the changed spec, text the error must contain)
    let cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "stream renamed",
            object(
                "KinesisStream",
                "rename",
                json!({"streamName": "a", "shardCount": 1}),
            ),
            json!({"streamName": "b", "shardCount": 1}),
            "spec.streamName is immutable",
        ),
        (
            "stream name set to something other than metadata.name",
            object("KinesisStream", "rename-default", json!({"shardCount": 1})),
            json!({"streamName": "other", "shardCount": 1}),
            "spec.streamName is immutable",
        ),
        (
            "region changed",
            object(
                "KinesisStream",
                "region",
                json!({"region": "us-west-2", "shardCount": 1}),
            ),
            json!({"region": "eu-west-1", "shardCount": 1}),
            "spec.region is immutable",
        ),
        (
            "region added",
            object("KinesisStream", "region-added", json!({"shardCount": 1})),
            json!({"region": "eu-west-1", "shardCount": 1}),
            "spec.region is immutable",
        ),
        (
            "delivery source changed",
            object(
                "DeliveryStream",
                "source",
                json!({"destination": s3_destination()}),
            ),
            json!({"source": {"kinesisStream": {"streamRef": {"name": "s"}, "roleARN": "arn:aws:iam::123456789012:role/r"}}, "destination": s3_destination()}),
            "spec.source is immutable",
        ),
        (
            "application renamed",
            object("AnalyticsApplication", "app", flink(json!({}))),
            flink(json!({"applicationName": "renamed"})),
            "spec.applicationName is immutable",
        ),
        (
            "policy path changed",
            object("StreamPolicy", "path", stream_arn_policy(json!(["Read"]))),
            {
                let mut spec = stream_arn_policy(json!(["Read"]));
                spec["path"] = json!("/other/");
                spec
            },
            "spec.path is immutable",
        ),
    ];
    let mut failures = Vec::new();
    for (what, original, changed_spec, expected) in cases {
        let created = create(&client, &ns, &original)
            .await
            .unwrap_or_else(|e| panic!("{what}: creating the original failed: {e}"));
        let kind = original["kind"].as_str().unwrap();
        let name = created.metadata.name.unwrap();
        let patch = json!({"apiVersion": API_VERSION, "kind": kind, "spec": changed_spec});
        let result = dynamic(&client, &ns, kind)
            .patch(
                &name,
                &PatchParams::apply("immutable-test").force(),
                &Patch::Apply(&patch),
            )
            .await;
        match result {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(kube::Error::Api(status)) if status.message.contains(expected) => {}
            Err(e) => failures.push(format!("{what}: unexpected error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Changing a mutable field is still allowed.
    let api = dynamic(&client, &ns, "KinesisStream");
    let patch = json!({"apiVersion": API_VERSION, "kind": "KinesisStream", "spec": {"streamName": "a", "shardCount": 4}});
    api.patch(
        "rename",
        &PatchParams::apply("immutable-test").force(),
        &Patch::Apply(&patch),
    )
    .await
    .expect("scaling a stream is allowed");
}

#[tokio::test]
async fn kubectl_explain_shows_field_docs() {
    let cp = control_plane();
    // Discovery of new CRDs can lag a moment behind Established.
    let explain = |path: &'static str| {
        let mut cmd = cp.kubectl();
        cmd.args(["explain", path]);
        cmd
    };
    for (path, expected) in [
        (
            "kinesisstream.spec.shardCount",
            "Required when `mode` is Provisioned",
        ),
        (
            "kinesisstream.spec.retentionPeriodHours",
            "24 (one day) to 8760",
        ),
        (
            "deliverystream.spec.destination.s3.bufferingHints",
            "whichever of size or interval",
        ),
        ("analyticsapplication.spec.code.sql", "kinesis.operator.sql"),
        ("streampolicy.spec.statements", "least-privilege"),
        ("kinesisstream.status.conditions", "Stalled"),
    ] {
        let text = wait_for(Duration::from_secs(20), || {
            let mut cmd = explain(path);
            async move {
                let out = cmd.output().ok()?;
                out.status
                    .success()
                    .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            }
        })
        .await
        .unwrap_or_else(|| panic!("kubectl explain {path} failed"));
        assert!(
            text.contains(expected),
            "kubectl explain {path} lacks {expected:?}:\n{text}"
        );
    }
}

#[tokio::test]
async fn status_is_a_subresource() {
    let cp = control_plane();
    let ns = cp.namespace("status").await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let mut stream = KinesisStream::new(
        "s",
        serde_json::from_value(json!({"shardCount": 1})).unwrap(),
    );
    stream.status = Some(KinesisStreamStatus {
        stream_status: Some("ACTIVE".into()),
        ..Default::default()
    });
    let created = api.create(&PostParams::default(), &stream).await.unwrap();
    assert_eq!(
        created.status, None,
        "status written through the main resource must be ignored"
    );
    let status = json!({
        "apiVersion": API_VERSION,
        "kind": "KinesisStream",
        "status": {
            "streamStatus": "ACTIVE",
            "openShardCount": 1,
            "arn": "arn:aws:kinesis:us-west-2:123456789012:stream/s",
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "Active", "message": "stream is ACTIVE",
                "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1
            }]
        }
    });
    let patched = api
        .patch_status(
            "s",
            &PatchParams::apply("status-test").force(),
            &Patch::Apply(&status),
        )
        .await
        .expect("status patch through the subresource");
    let status = patched.status.expect("status is set");
    assert_eq!(status.stream_status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        status.common.arn.as_deref(),
        Some("arn:aws:kinesis:us-west-2:123456789012:stream/s")
    );
    assert_eq!(
        status.common.conditions[0].type_, "Ready",
        "conditions round-trip"
    );
    // Printer columns show the status.
    let out = cp
        .kubectl()
        .args(["get", "kst", "s", "-n", &ns, "-o", "wide"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("ACTIVE")
            && table.contains("arn:aws:kinesis:us-west-2:123456789012:stream/s"),
        "{table}"
    );
    assert!(table.starts_with("NAME") && table.contains("READY") && table.contains("SHARDS"));
}

#[tokio::test]
async fn rbac_applies_to_users_and_service_accounts() {
    let cp = control_plane();
    let ns = cp.namespace("rbac").await;
    let admin = cp.admin().await;

    let alice = cp.user("alice", &["developers"]).await;
    let denied = Api::<KinesisStream>::namespaced(alice, &ns)
        .list(&Default::default())
        .await;
    assert!(
        matches!(&denied, Err(kube::Error::Api(s)) if s.code == 403),
        "a user without a role binding must be forbidden: {denied:?}"
    );

    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "kinesis-reader", "namespace": ns},
        "rules": [{"apiGroups": ["kinesis.operator.dev"], "resources": ["kinesisstreams"], "verbs": ["get", "list", "watch"]}]
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "kinesis-reader", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kinesis-reader"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "reader", "namespace": ns},
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "developers"}
        ]
    });
    let pp = PatchParams::apply("rbac-test");
    Api::<k8s_openapi::api::rbac::v1::Role>::namespaced(admin.clone(), &ns)
        .patch("kinesis-reader", &pp, &Patch::Apply(&role))
        .await
        .unwrap();
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(admin.clone(), &ns)
        .patch("kinesis-reader", &pp, &Patch::Apply(&binding))
        .await
        .unwrap();

    let reader = cp.service_account(&ns, "reader").await;
    let api = Api::<KinesisStream>::namespaced(reader, &ns);
    let listed = wait_for(Duration::from_secs(10), || async {
        api.list(&Default::default()).await.ok()
    })
    .await;
    assert!(
        listed.is_some(),
        "the bound ServiceAccount may list KinesisStreams"
    );
    let stream = KinesisStream::new(
        "nope",
        serde_json::from_value(json!({"shardCount": 1})).unwrap(),
    );
    let created = api.create(&PostParams::default(), &stream).await;
    assert!(
        matches!(&created, Err(kube::Error::Api(s)) if s.code == 403),
        "a read-only ServiceAccount must not create: {created:?}"
    );

    let alice = cp.user("alice", &["developers"]).await;
    let allowed = Api::<KinesisStream>::namespaced(alice, &ns)
        .list(&Default::default())
        .await;
    assert!(
        allowed.is_ok(),
        "the developers group may list: {allowed:?}"
    );
}

#[tokio::test]
async fn tags_outside_aws_character_set_are_refused_at_apply() {
    let cp = control_plane();
    let client = cp.admin().await;
    let ns = cp.namespace("tags").await;
    let specs = [
        ("KinesisStream", json!({"shardCount": 1})),
        ("DeliveryStream", json!({"destination": s3_destination()})),
        ("AnalyticsApplication", flink(json!({}))),
        ("StreamPolicy", stream_arn_policy(json!(["Read"]))),
    ];
    let bad_tags = [
        json!({"team;ops": "a"}),
        json!({"team": "a\tb"}),
        json!({"team": "line\nbreak"}),
        json!({"cost,center": "1"}),
        json!({"share": "50%"}),
    ];
    let apply = PatchParams::apply("tags-test");
    let mut failures = Vec::new();
    for (kind, spec) in &specs {
        for (i, tags) in bad_tags.iter().enumerate() {
            let mut spec = spec.clone();
            spec["tags"] = tags.clone();
            let name = format!("{}-{i}", kind.to_ascii_lowercase());
            let obj = object(kind, &name, spec);
            match dynamic(&client, &ns, kind)
                .patch(&name, &apply, &Patch::Apply(&obj))
                .await
            {
                Ok(_) => failures.push(format!("{kind} with tags {tags}: accepted")),
                Err(kube::Error::Api(status))
                    if status.code == 422
                        && status.message.contains(
                            "spec.tags: AWS allows only Unicode letters, digits, white space and _ . : / = + - @",
                        ) => {}
                Err(e) => failures.push(format!("{kind} with tags {tags}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let good = object(
        "KinesisStream",
        "good-tags",
        json!({"shardCount": 1, "tags": {"Größe / 日本語": "a_b.c:d=e+f-g@h i", "empty": ""}}),
    );
    dynamic(&client, &ns, "KinesisStream")
        .patch("good-tags", &apply, &Patch::Apply(&good))
        .await
        .expect("letters, digits, spaces and _ . : / = + - @ are AWS's set");
}
