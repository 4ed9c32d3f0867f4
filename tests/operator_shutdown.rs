//! The real `kinesis-operator run` binary stops when told: a SIGTERM at any moment of its
//! start ends it; while a graceful stop waits for a reconcile stuck in an AWS call that never
//! answers, a second signal exits at once, and `--shutdown-timeout` ends the wait otherwise.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kinesis_operator::api::KinesisStream;
use kube::api::Api;
use serde_json::json;
use support::emulator::start_default;
use support::envtest::{control_plane, wait_for};
use support::operator::apply;
use support::process::OperatorProcess;

/// An AWS endpoint that accepts connections and never answers.
struct Blackhole {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl Blackhole {
    async fn start() -> Blackhole {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(conn);
            }
        });
        Blackhole { url, accepted }
    }
}

/// SIGTERM at every moment of the start (connecting, starting the controllers, running) ends
/// the process; once it runs, the stop is graceful and says so.
#[tokio::test]
async fn sigterm_at_any_moment_of_the_start_stops_the_operator() {
    let cp = control_plane();
    let ns = cp.namespace("stop").await;
    let emulator = start_default().await;
    for delay_ms in [0, 5, 20, 50, 100, 200, 400, 700, 1000, 1500] {
        let mut operator =
            OperatorProcess::start(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, &[], &[]);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        operator.signal(libc::SIGTERM);
        let status = operator
            .exit_within(
                Duration::from_secs(40),
                &format!("SIGTERM {delay_ms} ms after start"),
            )
            .await;
        // Before the runtime installs its handler, SIGTERM's default action ends the process.
        assert!(
            status.success() || status.signal() == Some(libc::SIGTERM),
            "SIGTERM {delay_ms} ms after start: {status:?}\n{}",
            operator.log_text()
        );
        if status.success() {
            assert!(
                operator.log_text().contains("SIGTERM received: stopping"),
                "{}",
                operator.log_text()
            );
        }
    }
    // Once running, a stop is always the graceful one.
    let mut operator =
        OperatorProcess::start(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, &[], &[]);
    operator.wait_for_log("operator running").await;
    operator.signal(libc::SIGTERM);
    let status = operator
        .exit_within(Duration::from_secs(40), "SIGTERM while running")
        .await;
    assert!(status.success(), "{status:?}\n{}", operator.log_text());
    let log = operator.log_text();
    assert!(log.contains("SIGTERM received: stopping"), "{log}");
    assert!(log.contains("operator stopped"), "{log}");
    emulator.shutdown().await;
}

/// Starts an operator whose AWS endpoint never answers and waits until a reconcile is stuck in
/// its CreateStream call.
async fn stuck_operator(extra: &[&str]) -> (OperatorProcess, Blackhole) {
    let cp = control_plane();
    let ns = cp.namespace("stuck").await;
    let aws = Blackhole::start().await;
    let operator = OperatorProcess::start(&cp.kubeconfig(), &aws.url, &ns, extra, &[]);
    operator.wait_for_log("operator running").await;
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&api, "stuck", json!({"shardCount": 1})).await;
    wait_for(Duration::from_secs(30), || async {
        (aws.accepted.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await
    .expect("the operator calls AWS");
    (operator, aws)
}

/// While the graceful stop waits for a reconcile stuck in an AWS call, a second SIGTERM exits
/// at once.
#[tokio::test]
async fn a_second_signal_exits_at_once_while_a_stop_waits() {
    let (mut operator, _aws) = stuck_operator(&[]).await;
    operator.signal(libc::SIGTERM);
    operator.wait_for_log("SIGTERM received: stopping").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        operator.child.try_wait().unwrap().is_none(),
        "the stop waits for the reconcile in progress\n{}",
        operator.log_text()
    );
    operator.signal(libc::SIGTERM);
    let status = operator
        .exit_within(Duration::from_secs(10), "a second SIGTERM")
        .await;
    assert_eq!(
        status.code(),
        Some(kinesis_operator::shutdown::EXIT_SECOND_SIGNAL),
        "{}",
        operator.log_text()
    );
    assert!(
        operator
            .log_text()
            .contains("SIGTERM received again while stopping: exiting at once"),
        "{}",
        operator.log_text()
    );
}

/// A graceful stop that cannot finish ends at `--shutdown-timeout`, saying so.
#[tokio::test]
async fn the_shutdown_timeout_ends_a_stop_that_hangs() {
    let (mut operator, _aws) = stuck_operator(&["--shutdown-timeout", "2s"]).await;
    operator.signal(libc::SIGTERM);
    let status = operator
        .exit_within(Duration::from_secs(15), "a stop past its deadline")
        .await;
    assert_eq!(
        status.code(),
        Some(kinesis_operator::shutdown::EXIT_DEADLINE),
        "{}",
        operator.log_text()
    );
    assert!(
        operator
            .log_text()
            .contains("did not stop within 2 s of SIGTERM: exiting without waiting further"),
        "{}",
        operator.log_text()
    );
}
