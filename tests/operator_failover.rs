//! Two replicas surviving the leader's death (DESIGN §6): two real `kinesis-operator run
//! --leader-elect` processes on the real control plane, the leader `SIGKILL`ed (no graceful
//! release of the Lease) while streams are being created, the emulator holding each new stream
//! in CREATING for a while so that reconciles are in flight. The other process takes over
//! within the lease duration; every stream ends Ready; each AWS stream exists once and was
//! created once; no object's status goes backwards (watched throughout).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kinesis_operator::api::KinesisStream;
use kinesis_operator::emulator::kinesis::Settings;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use support::emulator::{kinesis, start};
use support::envtest::{control_plane, wait_for};
use support::operator::{apply, is_ready, wait_until};
use support::process::OperatorProcess;

/// The replicas' lease duration, renew deadline and retry period (flags; the defaults are
/// client-go's 15 s / 10 s / 2 s): a follower takes over once the Lease has not been renewed
/// for the lease duration, checking every retry period.
const LEASE_DURATION: Duration = Duration::from_secs(6);
const RENEW_DEADLINE: Duration = Duration::from_secs(4);
const RETRY_PERIOD: Duration = Duration::from_secs(1);
/// Scheduling slack on a shared 2-core machine: process start, API server round trips.
const SLACK: Duration = Duration::from_secs(5);

/// Streams applied before the kill: the leader creates them (each CREATING for a while).
const FIRST_WAVE: usize = 3;
/// Streams applied right before the kill: the leader may or may not have reached them.
/// Together at most 5, the streams an account may have CREATING at once.
const SECOND_WAVE: usize = 2;
const STREAMS: usize = FIRST_WAVE + SECOND_WAVE;

async fn holder(api: &Api<Lease>) -> Option<String> {
    api.get("kinesis-operator")
        .await
        .ok()
        .and_then(|l| l.spec?.holder_identity)
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
            "--leader-elect-lease-duration",
            &format!("{}s", LEASE_DURATION.as_secs()),
            "--leader-elect-renew-deadline",
            &format!("{}s", RENEW_DEADLINE.as_secs()),
            "--leader-elect-retry-period",
            &format!("{}s", RETRY_PERIOD.as_secs()),
        ],
        &[("POD_NAME", name)],
    )
}

/// One observed version of an object: its resourceVersion, whether it was Ready for its
/// generation, and its status as JSON.
#[derive(Clone, Debug)]
struct Seen {
    resource_version: String,
    ready: bool,
    status: Value,
}

/// Every version of every KinesisStream in the namespace the watch delivered, by name.
type Timelines = Arc<Mutex<BTreeMap<String, Vec<Seen>>>>;

/// Records every version of the namespace's KinesisStreams until aborted.
fn record(api: Api<KinesisStream>) -> (Timelines, tokio::task::JoinHandle<()>) {
    let timelines: Timelines = Arc::default();
    let sink = timelines.clone();
    let task = tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .boxed();
        while let Some(event) = events.next().await {
            let Ok(obj) = event else { continue };
            let seen = Seen {
                resource_version: obj.metadata.resource_version.clone().unwrap_or_default(),
                ready: is_ready(&obj),
                status: serde_json::to_value(&obj.status).unwrap(),
            };
            let name = obj.metadata.name.clone().unwrap_or_default();
            let mut timelines = sink.lock().unwrap();
            let timeline = timelines.entry(name).or_default();
            if timeline.last().map(|s| &s.resource_version) != Some(&seen.resource_version) {
                timeline.push(seen);
            }
        }
    });
    (timelines, task)
}

/// The top-level status fields that are set (not null).
fn fields(status: &Value) -> BTreeSet<String> {
    status
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// No object's status went backwards: once Ready it stayed Ready, no status field once set
/// disappeared, and the ARN once set never changed.
fn assert_no_regression(timelines: &BTreeMap<String, Vec<Seen>>) {
    for (name, timeline) in timelines {
        for pair in timeline.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert!(
                !before.ready || after.ready,
                "{name}: Ready went back to not Ready at resourceVersion {}: {:#}",
                after.resource_version,
                after.status
            );
            let lost: Vec<String> = fields(&before.status)
                .difference(&fields(&after.status))
                .cloned()
                .collect();
            assert!(
                lost.is_empty(),
                "{name}: status fields {lost:?} lost at resourceVersion {}: {:#} -> {:#}",
                after.resource_version,
                before.status,
                after.status
            );
            if !before.status["arn"].is_null() {
                assert_eq!(
                    before.status["arn"], after.status["arn"],
                    "{name}: the stream ARN changed at resourceVersion {}",
                    after.resource_version
                );
            }
        }
    }
}

/// The emulator's streams: name -> creation time (ListStreams' summaries, every page).
async fn aws_streams(client: &aws_sdk_kinesis::Client) -> Vec<(String, i64)> {
    let mut streams = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_streams()
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListStreams");
        for s in page.stream_summaries() {
            let created = s
                .stream_creation_timestamp()
                .map(|t| t.to_millis().unwrap())
                .unwrap_or_default();
            streams.push((s.stream_name().to_owned(), created));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() || !page.has_more_streams() {
            return streams;
        }
    }
}

#[tokio::test]
async fn the_leader_killed_mid_reconcile_is_replaced_without_duplicates_or_regressions() {
    let cp = control_plane();
    let ns = cp.namespace("failover").await;
    let emulator = start(Settings {
        create_delay: Duration::from_secs(4),
        ..Settings::default()
    })
    .await;
    let aws = kinesis(&emulator);
    let leases: Api<Lease> = Api::namespaced(cp.admin().await, &ns);
    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    let (timelines, recorder) = record(api.clone());

    let mut first = replica(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "first");
    wait_for(Duration::from_secs(30), || async {
        holder(&leases).await.filter(|h| h.starts_with("first_"))
    })
    .await
    .unwrap_or_else(|| panic!("the first process never led:\n{}", first.log_text()));
    let second = replica(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, "second");
    wait_for(Duration::from_secs(30), || async {
        second.aws_calls("CreateStream").await
    })
    .await
    .expect("the second process serves /metrics");

    for i in 0..FIRST_WAVE {
        apply(&api, &format!("s{i:02}"), json!({"shardCount": 1})).await;
    }
    // Mid-reconcile: the leader has created the first streams (CREATING for 4 s) and written
    // their statuses, none Ready yet; the second wave is applied and the leader killed at once.
    wait_for(Duration::from_secs(30), || async {
        let created = first.aws_calls("CreateStream").await?;
        let with_arn = timelines
            .lock()
            .unwrap()
            .values()
            .filter(|t| t.iter().any(|s| !s.status["arn"].is_null()))
            .count();
        (created >= FIRST_WAVE as u64 && with_arn >= 1).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("the leader never created streams:\n{}", first.log_text()));
    for i in FIRST_WAVE..STREAMS {
        apply(&api, &format!("s{i:02}"), json!({"shardCount": 1})).await;
    }
    let killed_at = Instant::now();
    first.signal(libc::SIGKILL);
    let status = first
        .exit_within(Duration::from_secs(10), "the SIGKILLed leader")
        .await;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL),
        "{status:?}"
    );
    let ready_at_kill: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|o| is_ready(*o))
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    assert!(
        ready_at_kill.len() < STREAMS,
        "killed mid-reconcile: some stream not Ready yet, but all were: {ready_at_kill:?}"
    );
    // What the dead leader created (a request it sent before dying has been answered by now).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let created_by_first: BTreeMap<String, i64> = aws_streams(&aws).await.into_iter().collect();
    assert!(!created_by_first.is_empty());
    let had_status_at_kill: BTreeMap<String, Value> = timelines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(n, t)| Some((n.clone(), t.last()?.status.clone())))
        .filter(|(_, s)| !s.is_null())
        .collect();

    // The follower takes over within the lease duration (plus a retry period and slack).
    wait_for(LEASE_DURATION + RETRY_PERIOD + SLACK + SLACK, || async {
        holder(&leases).await.filter(|h| h.starts_with("second_"))
    })
    .await
    .unwrap_or_else(|| panic!("the second process never led:\n{}", second.log_text()));
    let takeover = killed_at.elapsed();
    eprintln!(
        "takeover {takeover:.1?} after SIGKILL (lease {LEASE_DURATION:?}); {} of {STREAMS} streams created and {} statuses written by the killed leader",
        created_by_first.len(),
        had_status_at_kill.len()
    );
    assert!(
        takeover <= LEASE_DURATION + RETRY_PERIOD + SLACK,
        "takeover took {takeover:?}, more than the lease duration {LEASE_DURATION:?} + retry period {RETRY_PERIOD:?} + {SLACK:?}"
    );

    for i in 0..STREAMS {
        wait_until(
            &api,
            &format!("s{i:02}"),
            "Ready after the failover",
            is_ready,
        )
        .await;
    }

    // Each stream exists once; the ones the dead leader created are the same streams (same
    // creation time), and the new leader created exactly the others, trying no second create.
    let streams = aws_streams(&aws).await;
    let names: Vec<&str> = streams.iter().map(|(n, _)| n.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(
        names.len(),
        unique.len(),
        "a stream listed twice: {names:?}"
    );
    assert_eq!(unique.len(), STREAMS, "{names:?}");
    for (name, created) in &streams {
        if let Some(before) = created_by_first.get(name) {
            assert_eq!(
                created, before,
                "{name} was created again after the failover"
            );
        }
    }
    // Every attempt is counted: a transient answer retried (a busy machine) is a second
    // attempt of the same create, not a second create; what must hold is one successful
    // CreateStream per stream the dead leader had not created.
    let creates = second
        .aws_calls_by_outcome("CreateStream")
        .await
        .expect("the new leader's metrics");
    assert_eq!(
        creates.get("ok").copied().unwrap_or_default(),
        (STREAMS - created_by_first.len()) as u64,
        "the new leader creates only the streams the dead one had not: {} of {STREAMS} existed; its CreateStream attempts by outcome: {creates:?}; its log:\n{}",
        created_by_first.len(),
        second.log_text()
    );

    // No status went backwards, and the statuses the dead leader wrote were kept.
    recorder.abort();
    let timelines = timelines.lock().unwrap().clone();
    assert_eq!(timelines.len(), STREAMS);
    let versions: usize = timelines.values().map(Vec::len).sum();
    assert!(
        timelines
            .values()
            .all(|t| t.len() >= 2 && t.last().unwrap().ready),
        "the watch saw each stream before and at Ready: {timelines:#?}"
    );
    eprintln!("{versions} versions of {STREAMS} streams watched, none regressed");
    assert_no_regression(&timelines);
    for (name, before) in &had_status_at_kill {
        let after = &timelines[name].last().unwrap().status;
        if !before["arn"].is_null() {
            assert_eq!(before["arn"], after["arn"], "{name}: ARN changed");
        }
    }
    drop(second);
    emulator.shutdown().await;
}
