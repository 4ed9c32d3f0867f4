//! AnalyticsApplication on a real control plane against the emulator, whose applications run
//! on real Apache Flink: the tutorial's two Flink SQL scenarios applied from `examples/` with
//! `kubectl apply` produce exactly the expected records; a failing job reaches the user in
//! Flink's words; stop and start resume from the snapshot without loss or duplicates; an
//! update reaches the running application with a new version; deletion removes it; a JAR
//! application from S3 runs its main class with the spec's properties.

mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use kinesis_operator::api::{AnalyticsApplication, KinesisStream};
use kinesis_operator::emulator::Emulator;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};
use support::emulator::kinesis_as;
use support::envtest::{control_plane, wait_for};
use support::operator::{
    Operator, apply, condition, event_notes, is_ready, is_stalled, is_waiting, wait_gone,
    wait_until,
};
use support::records::{put, read_all};

/// The region the tutorial's SQL names.
const REGION: &str = "us-west-2";
const ROLE: &str = "arn:aws:iam::123456789012:role/flink-application-role";
/// How long a Flink application may take from apply to RUNNING (a JVM start, ~7 s here, on a
/// busy CI machine).
const RUNNING_TIMEOUT: Duration = Duration::from_secs(120);
/// How long records may take through a running application.
const OUTPUT_TIMEOUT: Duration = Duration::from_secs(60);

async fn start_emulator() -> Emulator {
    Emulator::start(Default::default())
        .await
        .expect("the emulator starts")
}

fn analytics(emulator: &Emulator) -> aws_sdk_kinesisanalyticsv2::Client {
    let config = aws_sdk_kinesisanalyticsv2::Config::builder()
        .behavior_version(aws_sdk_kinesisanalyticsv2::config::BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(aws_sdk_kinesisanalyticsv2::config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .build();
    aws_sdk_kinesisanalyticsv2::Client::from_conf(config)
}

/// `kubectl apply` of an example's manifests into `ns`.
fn kubectl_apply_example(ns: &str, example: &str) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example),
    )
    .expect("the example");
    let mut kubectl = control_plane()
        .kubectl()
        .args(["apply", "--server-side", "-n", ns, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    kubectl
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let applied = kubectl.wait_with_output().unwrap();
    assert!(
        applied.status.success(),
        "kubectl apply {example}: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
}

/// Waits until the application object is Ready (RUNNING, or stopped as asked).
async fn wait_ready(
    api: &Api<AnalyticsApplication>,
    name: &str,
    what: &str,
) -> AnalyticsApplication {
    let found = wait_for(RUNNING_TIMEOUT, || async {
        api.get(name).await.ok().filter(is_ready)
    })
    .await;
    match found {
        Some(app) => app,
        None => panic!(
            "{name}: {what} within {} s; last seen: {:?}",
            RUNNING_TIMEOUT.as_secs(),
            api.get(name).await.map(|a| a.status)
        ),
    }
}

/// The records of `stream` once there are at least `count` and no more came for 3 s. Read
/// twice a second: AWS allows five GetRecords per second per shard.
async fn wait_output(kinesis: &aws_sdk_kinesis::Client, stream: &str, count: usize) -> Vec<Value> {
    let reached = wait_for(OUTPUT_TIMEOUT, || async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let got = read_all(kinesis, stream).await;
        (got.len() >= count).then_some(())
    })
    .await;
    let got = read_all(kinesis, stream).await;
    assert!(
        reached.is_some(),
        "{count} records in {stream} within {} s; got {got:?}",
        OUTPUT_TIMEOUT.as_secs()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    read_all(kinesis, stream).await
}

fn log(n: usize, message: &str) -> Value {
    json!({"timestamp": format!("2026-12-07 10:00:{:02}.000", n % 60), "message": message})
}

fn messages(records: &[Value]) -> Vec<String> {
    let mut m: Vec<String> = records
        .iter()
        .map(|r| r["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    m.sort();
    m
}

/// The tutorial's LIKE '%error%' filter from `examples/analytics-filter.yaml`: created and
/// started once its streams are Ready, status with RUNNING and the version, and only the
/// error lines reach ErrorLogStream. Then stopped (a snapshot) and started again: what was
/// put while it was stopped is read from where it left off, nothing twice. An update of a
/// running application (parallelism) is made in place with a new version; deleting the
/// object deletes the application.
#[tokio::test]
async fn the_tutorials_error_filter_runs_stops_resumes_updates_and_is_deleted() {
    let cp = control_plane();
    let ns = cp.namespace("kaa-filter").await;
    let emulator = start_emulator().await;
    let (kinesis, flink) = (
        kinesis_as(&emulator, "AKIDTEST", REGION),
        analytics(&emulator),
    );
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, REGION).await;
    kubectl_apply_example(&ns, "analytics-filter.yaml");

    let apps: Api<AnalyticsApplication> = Api::namespaced(cp.admin().await, &ns);
    let running = wait_ready(&apps, "error-filter", "RUNNING").await;
    let status = running.status.clone().unwrap();
    assert_eq!(status.application_status.as_deref(), Some("RUNNING"));
    assert_eq!(status.application_version_id, Some(1));
    assert!(status.last_failure.is_none(), "{status:?}");
    let arn = status.common.arn.clone().unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:kinesisanalytics:{REGION}:000000000000:application/error-filter")
    );
    let ready = condition(&running, "Ready").unwrap();
    assert_eq!(
        (ready.reason.as_str(), ready.message.as_str()),
        (
            "Running",
            "application error-filter is RUNNING and matches the spec"
        )
    );
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    assert!(is_ready(&streams.get("logs").await.unwrap()));

    let first = [
        log(1, "user login ok"),
        log(2, "disk error on /dev/sda"),
        log(3, "request served"),
        log(4, "error: timeout talking to db"),
    ];
    put(&kinesis, "MyKinesisStream", &first, |r| {
        r["message"].to_string()
    })
    .await;
    let out = wait_output(&kinesis, "ErrorLogStream", 2).await;
    assert_eq!(
        messages(&out),
        ["disk error on /dev/sda", "error: timeout talking to db"]
    );

    // Stopped with a snapshot; what arrives meanwhile waits in the stream.
    apply(
        &apps,
        "error-filter",
        spec_of(&running, json!({"desiredState": "Stopped"})),
    )
    .await;
    let stopped = wait_ready(&apps, "error-filter", "stopped").await;
    let ready = condition(&stopped, "Ready").unwrap();
    assert_eq!(
        (ready.reason.as_str(), ready.message.as_str()),
        (
            "Stopped",
            "application error-filter is READY (not running, as spec.desiredState asks) and matches the spec"
        )
    );
    assert_eq!(
        stopped.status.unwrap().application_status.as_deref(),
        Some("READY")
    );
    let snapshots = flink
        .list_application_snapshots()
        .application_name("error-filter")
        .send()
        .await
        .unwrap();
    assert_eq!(
        snapshots.snapshot_summaries().len(),
        1,
        "stop took a snapshot"
    );
    put(
        &kinesis,
        "MyKinesisStream",
        &[log(5, "error while stopped"), log(6, "fine while stopped")],
        |r| r["message"].to_string(),
    )
    .await;
    apply(
        &apps,
        "error-filter",
        spec_of(&running, json!({"desiredState": "Running"})),
    )
    .await;
    wait_ready(&apps, "error-filter", "RUNNING again").await;
    put(
        &kinesis,
        "MyKinesisStream",
        &[log(7, "error after restart")],
        |r| r["message"].to_string(),
    )
    .await;
    let out = wait_output(&kinesis, "ErrorLogStream", 4).await;
    assert_eq!(
        messages(&out),
        [
            "disk error on /dev/sda",
            "error after restart",
            "error while stopped",
            "error: timeout talking to db",
        ],
        "resumed from the snapshot: nothing lost, nothing twice"
    );
    let notes = event_notes(cp.admin().await, &ns, "error-filter").await;
    let said: Vec<String> = notes
        .iter()
        .map(|(reason, note, _)| format!("{reason}: {note}"))
        .collect();
    assert_eq!(
        said,
        [
            "Created: CreateApplication error-filter (FLINK-1_20)",
            "Started: StartApplication error-filter",
            "Stopped: StopApplication error-filter (taking a snapshot): spec.desiredState is Stopped",
            "Started: StartApplication error-filter from its latest snapshot",
        ],
        "the events of a create, start, stop and resume, in words"
    );

    // An update while it runs: in place, a new version, still RUNNING.
    apply(
        &apps,
        "error-filter",
        spec_of(&running, json!({"parallelism": {"parallelism": 2}})),
    )
    .await;
    let updated = wait_ready(&apps, "error-filter", "updated").await;
    let status = updated.status.unwrap();
    assert_eq!(status.application_status.as_deref(), Some("RUNNING"));
    assert!(status.application_version_id > Some(1), "{status:?}");
    let detail = flink
        .describe_application()
        .application_name("error-filter")
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap();
    let parallelism = detail
        .application_configuration_description()
        .and_then(|c| c.flink_application_configuration_description())
        .and_then(|f| f.parallelism_configuration_description())
        .and_then(|p| p.parallelism());
    assert_eq!(parallelism, Some(2));

    apps.delete("error-filter", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(
        &apps,
        "error-filter",
        RUNNING_TIMEOUT,
        "the object is released",
    )
    .await;
    let gone = flink
        .describe_application()
        .application_name("error-filter")
        .send()
        .await;
    assert!(gone.is_err(), "the application is deleted in AWS");
    operator.stop().await;
    emulator.shutdown().await;
}

/// `running`'s spec with `changes` merged in, for a server-side apply.
fn spec_of(running: &AnalyticsApplication, changes: Value) -> Value {
    let mut spec = serde_json::to_value(&running.spec).unwrap();
    for (k, v) in changes.as_object().unwrap() {
        spec[k] = v.clone();
    }
    spec
}

/// The tutorial's tumbling window from `examples/analytics-tumbling-window.yaml`: one count
/// per user per minute, emitted when the watermark passes the window's end.
#[tokio::test]
async fn the_tutorials_tumbling_window_counts_actions_per_user_and_minute() {
    let cp = control_plane();
    let ns = cp.namespace("kaa-window").await;
    let emulator = start_emulator().await;
    let kinesis = kinesis_as(&emulator, "AKIDTEST", REGION);
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, REGION).await;
    kubectl_apply_example(&ns, "analytics-tumbling-window.yaml");
    let apps: Api<AnalyticsApplication> = Api::namespaced(cp.admin().await, &ns);
    wait_ready(&apps, "activity-per-minute", "RUNNING").await;

    let action = |second: &str, user: &str, action: &str| json!({"timestamp": format!("2026-12-07 10:{second}.000"), "user_id": user, "action": action});
    let records = [
        action("00:05", "alice", "click"),
        action("00:20", "bob", "view"),
        action("00:40", "alice", "click"),
        action("00:59", "alice", "buy"),
        // Past the window's end plus the 5 s watermark delay: the first window closes.
        action("01:30", "carol", "view"),
    ];
    put(&kinesis, "UserActivityStream", &records, |_| {
        "one-shard".into()
    })
    .await;
    let out = wait_output(&kinesis, "ActivitySummaryStream", 2).await;
    let mut counts: Vec<(String, i64, String)> = out
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().unwrap().to_owned(),
                r["action_count"].as_i64().unwrap(),
                r["window_end"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("alice".to_owned(), 3, "2026-12-07 10:01:00".to_owned()),
            ("bob".to_owned(), 1, "2026-12-07 10:01:00".to_owned()),
        ]
    );
    operator.stop().await;
    emulator.shutdown().await;
}

/// Jobs that cannot run (SQL Flink refuses; an updating aggregate into a Kinesis sink, which
/// is append-only, as the tutorial's word counts are) are reported in Flink's own words in
/// `status.lastFailure` and the Ready condition, started again after a backoff, and
/// `Stalled` once they failed three times in a row.
#[tokio::test]
async fn failing_jobs_reach_the_user_in_flinks_words_and_stall_after_three_failures() {
    let cp = control_plane();
    let ns = cp.namespace("kaa-fail").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, REGION).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    for (name, stream) in [("tweets", "Tweets"), ("counts", "WordCounts")] {
        apply(
            &streams,
            name,
            json!({"streamName": stream, "shardCount": 1}),
        )
        .await;
    }
    let table = |name: &str, stream: &str, columns: &str| {
        format!(
            "CREATE TABLE {name} ({columns}) WITH ('connector' = 'kinesis', 'stream' = '{stream}', \
             'aws.region' = '{REGION}', 'format' = 'json', 'scan.stream.initpos' = 'LATEST');"
        )
    };
    let cases = [
        (
            "bad-sql",
            format!(
                "{} INSERT INTO nowhere SELEC user_id FROM tweets;",
                table("tweets", "Tweets", "user_id STRING, text STRING")
            ),
            "SQL parse failed",
        ),
        (
            "word-counts",
            format!(
                "{} {} INSERT INTO counts SELECT user_id, COUNT(*) FROM tweets WHERE text LIKE '%flink%' GROUP BY user_id;",
                table("tweets", "Tweets", "user_id STRING, text STRING"),
                table("counts", "WordCounts", "user_id STRING, mentions BIGINT")
            ),
            "doesn't support consuming update changes",
        ),
    ];
    let apps: Api<AnalyticsApplication> = Api::namespaced(cp.admin().await, &ns);
    for (name, sql, _) in &cases {
        apply(
            &apps,
            name,
            json!({
                "serviceExecutionRoleARN": ROLE,
                "streamRefs": [{"name": "tweets"}, {"name": "counts"}],
                "code": {"sql": sql},
            }),
        )
        .await;
    }
    for (name, _, flink_says) in &cases {
        let restarting = wait_for(RUNNING_TIMEOUT, || async {
            apps.get(name)
                .await
                .ok()
                .filter(|a| is_waiting(a, "Restarting"))
        })
        .await
        .unwrap_or_else(|| panic!("{name} restarting after its failure"));
        let message = condition(&restarting, "Ready").unwrap().message.clone();
        assert!(message.contains(flink_says), "{name}: {message}");
        let failure = restarting.status.unwrap().last_failure.unwrap_or_default();
        assert!(failure.contains(flink_says), "{name}: {failure}");
    }
    let stalled = wait_for(Duration::from_secs(180), || async {
        apps.get("bad-sql").await.ok().filter(is_stalled)
    })
    .await
    .expect("bad-sql Stalled after three failures");
    let c = condition(&stalled, "Stalled").unwrap();
    assert_eq!(c.reason, "StartFailed");
    assert!(
        c.message.contains("failed 3 times in a row"),
        "{}",
        c.message
    );
    assert!(c.message.contains("SQL parse failed"), "{}", c.message);
    operator.stop().await;
    emulator.shutdown().await;
}

/// A JAR application (`code.s3` only, as AWS's templates build one): the example DataStream
/// job uploaded to S3 is created and started by the operator, and its main class runs on
/// Flink with the spec's properties (its input and output streams come from
/// `spec.properties`): every record put to the input stream comes out upper-cased.
#[tokio::test]
async fn a_jar_application_runs_its_main_class_with_the_specs_properties() {
    let cp = control_plane();
    let ns = cp.namespace("kaa-jar").await;
    let emulator = start_emulator().await;
    let s3 = support::emulator::s3(&emulator);
    s3.create_bucket()
        .bucket("flink-code")
        .send()
        .await
        .expect("CreateBucket");
    let jar = std::fs::read(&support::flink::runners().uppercase).expect("the example job");
    s3.put_object()
        .bucket("flink-code")
        .key("apps/uppercase.jar")
        .body(jar.into())
        .send()
        .await
        .expect("PutObject of the job's JAR");
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, REGION).await;
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&streams, "words", json!({"shardCount": 1})).await;
    apply(&streams, "shouted", json!({"shardCount": 1})).await;
    let apps: Api<AnalyticsApplication> = Api::namespaced(cp.admin().await, &ns);
    apply(
        &apps,
        "uppercase",
        json!({
            "serviceExecutionRoleARN": ROLE,
            "streamRefs": [{"name": "words"}, {"name": "shouted"}],
            "code": {"s3": {
                "bucketARN": "arn:aws:s3:::flink-code",
                "fileKey": "apps/uppercase.jar",
            }},
            "properties": {"UppercaseApplication": {
                "input.stream": "words",
                "output.stream": "shouted",
                "aws.region": REGION,
            }},
        }),
    )
    .await;
    let running = wait_ready(&apps, "uppercase", "the JAR's job RUNNING").await;
    assert_eq!(
        running.status.unwrap().application_status.as_deref(),
        Some("RUNNING")
    );

    let kinesis = kinesis_as(&emulator, "AKIDTEST", REGION);
    let words: Vec<Value> = (0..12)
        .map(|i| json!({"word": format!("hello {i}")}))
        .collect();
    put(&kinesis, "words", &words, |w| w["word"].to_string()).await;
    let shouted = wait_output(&kinesis, "shouted", words.len()).await;
    let mut got: Vec<String> = shouted
        .iter()
        .map(|r| r["WORD"].as_str().unwrap_or_default().to_owned())
        .collect();
    got.sort();
    let mut expected: Vec<String> = (0..12).map(|i| format!("HELLO {i}")).collect();
    expected.sort();
    assert_eq!(got, expected, "every word once, upper-cased: {shouted:?}");
    operator.stop().await;
    emulator.shutdown().await;
}

/// An application waits for the streams it names, and is created only once they are Ready.
#[tokio::test]
async fn an_application_waits_for_its_streams() {
    let cp = control_plane();
    let ns = cp.namespace("kaa-wait").await;
    let emulator = start_emulator().await;
    let flink = analytics(&emulator);
    let operator = Operator::start_in(cp.admin().await, &emulator, &ns, REGION).await;
    let apps: Api<AnalyticsApplication> = Api::namespaced(cp.admin().await, &ns);
    apply(
        &apps,
        "later",
        json!({
            "serviceExecutionRoleARN": ROLE,
            "streamRefs": [{"name": "source"}],
            "desiredState": "Stopped",
            "code": {"sql": "SELECT 1;"},
        }),
    )
    .await;
    let waiting = wait_until(&apps, "later", "waiting", |a| {
        is_waiting(a, "WaitingForDependency")
    })
    .await;
    assert_eq!(
        condition(&waiting, "Ready").unwrap().message,
        format!("waiting for KinesisStream {ns}/source: it does not exist")
    );
    assert!(
        flink
            .describe_application()
            .application_name("later")
            .send()
            .await
            .is_err(),
        "not created before its stream"
    );
    let streams: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&streams, "source", json!({"shardCount": 1})).await;
    let ready = wait_ready(&apps, "later", "created, stopped as asked").await;
    let status = ready.status.unwrap();
    assert_eq!(status.application_status.as_deref(), Some("READY"));
    assert_eq!(condition_reason(&apps, "later").await, "Stopped");
    operator.stop().await;
    emulator.shutdown().await;
}

async fn condition_reason(apps: &Api<AnalyticsApplication>, name: &str) -> String {
    condition(&apps.get(name).await.unwrap(), "Ready")
        .unwrap()
        .reason
        .clone()
}
