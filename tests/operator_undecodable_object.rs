//! One object the operator cannot decode (here: the CRD was loosened by someone, so the API
//! server accepts a shard count of "two") is reported with a Warning event and never blocks or
//! crashes the controller: the other objects still become Ready. This binary has its own
//! control plane, since it changes a CRD.

mod support;

use kinesis_operator::api::KinesisStream;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use serde_json::json;
use std::time::Duration;
use support::emulator::start_default;
use support::envtest::{control_plane, wait_for};
use support::operator::{Operator, apply, event_notes, is_ready, wait_until};

#[tokio::test]
async fn an_undecodable_object_is_reported_and_does_not_block_the_others() {
    let cp = control_plane();
    let client = cp.admin().await;
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::erase::<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        >(&()),
    );
    let mut crd = crds
        .get("kinesisstreams.kinesis.operator.dev")
        .await
        .unwrap();
    crd.data["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["shardCount"] =
        json!({"x-kubernetes-int-or-string": true, "description": "loosened by a test"});
    crds.replace(
        "kinesisstreams.kinesis.operator.dev",
        &PostParams::default(),
        &crd,
    )
    .await
    .expect("loosening the CRD");

    let ns = cp.namespace("undecodable").await;
    let emulator = start_default().await;
    let operator = Operator::start(client.clone(), &emulator, &ns).await;
    let resource = ApiResource::erase::<KinesisStream>(&());
    let raw: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kinesis.operator.dev/v1alpha1", "kind": "KinesisStream",
        "metadata": {"name": "bad"}, "spec": {"shardCount": "two"}
    }))
    .unwrap();
    wait_for(Duration::from_secs(20), || async {
        raw.patch(
            "bad",
            &PatchParams::apply("test").force(),
            &Patch::Apply(&bad),
        )
        .await
        .ok()
    })
    .await
    .expect("the loosened CRD accepts a string shard count");

    let api: Api<KinesisStream> = Api::namespaced(client.clone(), &ns);
    apply(&api, "good", json!({"shardCount": 1})).await;
    wait_until(
        &api,
        "good",
        "Ready next to an undecodable object",
        is_ready,
    )
    .await;
    let reported = wait_for(Duration::from_secs(30), || async {
        event_notes(client.clone(), &ns, "bad")
            .await
            .into_iter()
            .find(|(reason, ..)| reason == "InvalidObject")
            .map(|(_, note, _)| note)
    })
    .await
    .expect("an InvalidObject event names the bad object");
    // What is wrong, in serde's words, and what to do.
    assert!(
        reported.starts_with(
            "the object does not match the KinesisStream schema this operator knows: "
        ) && reported.contains("string \"two\"")
            && reported.ends_with("; fix or re-apply it"),
        "{reported}"
    );
    operator.stop().await;
    emulator.shutdown().await;
}
