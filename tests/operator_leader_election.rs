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
use support::free_port;
use support::operator::{apply, is_ready, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// A `kinesis-operator run` process, killed when dropped.
struct Process {
    child: tokio::process::Child,
    metrics: u16,
}

impl Process {
    fn start(kubeconfig: &std::path::Path, endpoint: &str, ns: &str, name: &str) -> Process {
        let metrics = free_port();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kinesis-operator"))
            .args([
                "run",
                "--endpoint-url",
                endpoint,
                "--region",
                "us-east-1",
                "--watch-namespace",
                ns,
                "--leader-elect",
                "--leader-elect-namespace",
                ns,
                "--metrics-addr",
                &format!("127.0.0.1:{metrics}"),
                "--health-addr",
                &format!("127.0.0.1:{}", free_port()),
                "--resync-interval",
                "5s",
            ])
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("POD_NAME", name)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("kinesis-operator starts");
        Process { child, metrics }
    }

    /// CreateStream calls this process made, from its /metrics.
    async fn creates(&self) -> Option<u64> {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics))
            .await
            .ok()?;
        conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut text = String::new();
        conn.read_to_string(&mut text).await.ok()?;
        Some(
            text.lines()
                .filter(|l| {
                    l.starts_with("kinesis_operator_aws_calls_total{")
                        && l.contains("operation=\"CreateStream\"")
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64,
        )
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("running") as i32;
        // SAFETY: sending SIGTERM to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

#[tokio::test]
async fn two_operator_processes_never_both_reconcile() {
    let cp = control_plane();
    let ns = cp.namespace("ha").await;
    let emulator = start_default().await;
    let leases: Api<Lease> = Api::namespaced(cp.admin().await, &ns);
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);

    let mut first = Process::start(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "first");
    wait_for(Duration::from_secs(30), || async {
        holder(&leases).await.filter(|h| h.starts_with("first_"))
    })
    .await
    .expect("the first process leads");
    let second = Process::start(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "second");
    wait_for(Duration::from_secs(30), || async { second.creates().await })
        .await
        .expect("the second process serves /metrics");

    apply(&api, "one", json!({"shardCount": 1})).await;
    wait_until(&api, "one", "Ready", is_ready).await;
    assert_eq!(
        first.creates().await,
        Some(1),
        "the leader created the stream"
    );
    assert_eq!(
        second.creates().await,
        Some(0),
        "the follower made no AWS call"
    );

    // The leader stops gracefully: it releases the Lease and the follower takes over.
    first.terminate();
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
    assert_eq!(second.creates().await, Some(1), "the new leader created it");
    drop(second);
    emulator.shutdown().await;
}
