//! Leader election on a real control plane: one replica leads, a successor takes over when it
//! releases the Lease or dies, a leader that loses the Lease knows it; and two real
//! `kinesis-operator run --leader-elect` processes never both reconcile.

mod support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kinesis_operator::api::KinesisStream;
use kinesis_operator::controller::lease::{LeaseConfig, acquire};
use kube::api::{Api, PostParams};
use serde_json::json;
use support::emulator::start_default;
use support::envtest::{control_plane, wait_for};
use support::operator::{apply, is_ready, wait_until};
use support::process::OperatorProcess;

fn config(ns: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(300),
        ..LeaseConfig::new(ns, "kinesis-operator", identity)
    }
}

async fn holder(api: &Api<Lease>) -> Option<String> {
    api.get("kinesis-operator")
        .await
        .ok()
        .and_then(|l| l.spec?.holder_identity)
}

#[tokio::test]
async fn one_replica_leads_and_a_successor_takes_over() {
    let cp = control_plane();
    let ns = cp.namespace("lease").await;
    let client = cp.admin().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);

    let a = acquire(client.clone(), config(&ns, "a")).await;
    assert_eq!(holder(&leases).await.as_deref(), Some("a"));
    let b = tokio::spawn(acquire(client.clone(), config(&ns, "b")));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !b.is_finished(),
        "b waits while a renews, even past the lease duration"
    );
    assert_eq!(holder(&leases).await.as_deref(), Some("a"));

    // A graceful stop hands over at once (within a retry period or two).
    a.release().await;
    let b = tokio::time::timeout(Duration::from_secs(2), b)
        .await
        .expect("b leads right after a releases")
        .unwrap();
    let lease = leases.get("kinesis-operator").await.unwrap().spec.unwrap();
    assert_eq!(lease.holder_identity.as_deref(), Some("b"));
    assert_eq!(lease.lease_transitions, Some(1));

    // A leader that dies without releasing is replaced once its lease runs out.
    drop(b);
    let c = tokio::time::timeout(
        Duration::from_secs(15),
        acquire(client.clone(), config(&ns, "c")),
    )
    .await
    .expect("c leads once b's lease expired");
    assert_eq!(holder(&leases).await.as_deref(), Some("c"));

    // Someone else writing the Lease takes leadership away, and the leader notices.
    let mut lease = leases.get("kinesis-operator").await.unwrap();
    lease.spec.as_mut().unwrap().holder_identity = Some("intruder".into());
    leases
        .replace("kinesis-operator", &PostParams::default(), &lease)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), c.lost())
        .await
        .expect("c knows it lost");
    assert!(c.is_lost());
}

/// A `kinesis-operator run --leader-elect` process named `name`.
fn replica(kubeconfig: &std::path::Path, endpoint: &str, ns: &str, name: &str) -> OperatorProcess {
    OperatorProcess::start(
        kubeconfig,
        endpoint,
        ns,
        &[
            "--leader-elect",
            "--leader-elect-namespace",
            ns,
            "--resync-interval",
            "5s",
        ],
        &[("POD_NAME", name)],
    )
}

#[tokio::test]
async fn two_operator_processes_never_both_reconcile() {
    let cp = control_plane();
    let ns = cp.namespace("ha").await;
    let emulator = start_default().await;
    let leases: Api<Lease> = Api::namespaced(cp.admin().await, &ns);
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    let mut first = replica(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "first");
    wait_for(Duration::from_secs(30), || async {
        holder(&leases).await.filter(|h| h.starts_with("first_"))
    })
    .await
    .expect("the first process leads");
    let second = replica(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "second");
    wait_for(Duration::from_secs(30), || async {
        second.aws_calls("CreateStream").await
    })
    .await
    .expect("the second process serves /metrics");

    apply(&api, "one", json!({"shardCount": 1})).await;
    wait_until(&api, "one", "Ready", is_ready).await;
    assert_eq!(
        first.aws_calls("CreateStream").await,
        Some(1),
        "the leader created the stream"
    );
    assert_eq!(
        second.aws_calls("CreateStream").await,
        Some(0),
        "the follower made no AWS call"
    );

    // The leader stops gracefully: it releases the Lease and the follower takes over.
    first.signal(libc::SIGTERM);
    let status = tokio::time::timeout(Duration::from_secs(30), first.child.wait())
        .await
        .expect("the leader exits on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    wait_for(Duration::from_secs(10), || async {
        holder(&leases).await.filter(|h| h.starts_with("second_"))
    })
    .await
    .expect("the second process leads");
    apply(&api, "two", json!({"shardCount": 1})).await;
    wait_until(&api, "two", "Ready", is_ready).await;
    assert_eq!(
        second.aws_calls("CreateStream").await,
        Some(1),
        "the new leader created it"
    );
    drop(second);
    emulator.shutdown().await;
}
