//! Managed Service for Apache Flink (kinesisanalyticsv2) against the emulator, through the real
//! aws-sdk-kinesisanalyticsv2: the lifecycle and AWS's errors in each state, conditional
//! updates, versions, tags, options, snapshots, operations, delete's CreateTimestamp check and
//! durability across a restart; and with the REAL Flink runner (`make runner-flink`): the
//! tutorial's `LIKE '%error%'` filter created and started through the API turns exactly the
//! expected records around, invalid SQL leaves the application READY with the start's
//! operation FAILED carrying Flink's message, a stop with snapshots on and a start from the
//! latest snapshot neither lose nor repeat a record, and an emulator killed with `kill -9`
//! leaves no runner JVM behind and runs the application again after its restart.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::flink::{
    ACCOUNT, REGION, RUN_TIMEOUT, SETTLE, client_at, configuration, create_app, create_stream,
    emulator_with_runner, errors_of, expect_messages, failed_start, filter_sql, kinesis_at,
    log_lines, messages, operation, put, start, status, wait_operation_end, wait_status,
};

use aws_credential_types::Credentials;
use aws_sdk_kinesisanalyticsv2::Client;
use aws_sdk_kinesisanalyticsv2::error::ProvideErrorMetadata;
use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationConfiguration, ApplicationConfigurationUpdate, ApplicationRestoreType,
    ApplicationStatus, CloudWatchLoggingOption, EnvironmentPropertyUpdates, OperationStatus,
    PropertyGroup, RuntimeEnvironment, Tag, VpcConfiguration,
};
use kinesis_operator::emulator::analytics::{RunnerSetup, Settings};
use kinesis_operator::emulator::{Config, Emulator};
use serde_json::Value;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The tutorial's account and region.
/// What a call answered: nothing, or AWS's error code and message.
type CallResult = Result<(), (String, String)>;

/// At most two runner JVMs at once across this binary's tests: each takes ~300 MB and its
/// start is CPU-bound.
static JVMS: Semaphore = Semaphore::const_new(2);

async fn jvms(n: u32) -> SemaphorePermit<'static> {
    JVMS.acquire_many(n).await.expect("the JVM semaphore")
}

/// The runner jar (`make runner-flink`).
fn jar() -> PathBuf {
    support::flink::runners().runner.clone()
}

/// An in-process emulator whose applications run on the real runner (`jar`), or with a
/// runner jar that does not exist.
async fn emulator(runner: Option<PathBuf>, data_dir: Option<&Path>) -> Emulator {
    emulator_with_runner(runner, data_dir, Duration::ZERO).await
}

/// The error code and message of a failed call (panics on success).
fn error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    what: &str,
    result: Result<T, E>,
) -> (String, String) {
    match result {
        Ok(v) => panic!("{what} succeeded ({v:?}); an error was expected"),
        Err(e) => (
            e.code().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ),
    }
}

/// The API without a running job: validation, the READY state's errors, conditional updates
/// and versions, options, tags, the SQL-only calls, listing, delete's CreateTimestamp, and a
/// start that cannot run (no runner jar; no SQL) failing its operation with what to do.
#[tokio::test]
async fn api_lifecycle_versions_tags_and_errors() {
    let emulator = emulator(None, None).await;
    let client = client_at(&emulator.endpoint_url());
    let name = "error-filter";
    create_app(
        &client,
        name,
        configuration(&filter_sql("in", "out"), 60_000, true),
    )
    .await;

    // Creation errors, table-driven.
    let (code, message) = error(
        "a bad name",
        client
            .create_application()
            .application_name("bad name")
            .runtime_environment(RuntimeEnvironment::Flink120)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'applicationName'"), "{message}");
    let (code, message) = error(
        "SQL-1_0",
        client
            .create_application()
            .application_name("sql-app")
            .runtime_environment(RuntimeEnvironment::Sql10)
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedOperationException", "{message}");
    let (code, _) = error(
        "a duplicate",
        client
            .create_application()
            .application_name(name)
            .runtime_environment(RuntimeEnvironment::Flink120)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceInUseException");
    let (code, message) = error(
        "a missing app",
        client
            .describe_application()
            .application_name("nope")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert!(message.contains("nope"), "{message}");

    // The READY state's refusals.
    let cases: Vec<(&str, CallResult)> = vec![
        (
            "StopApplication",
            client
                .stop_application()
                .application_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        e.code().unwrap_or_default().to_owned(),
                        e.message().unwrap_or_default().to_owned(),
                    )
                }),
        ),
        (
            "StopApplication Force",
            client
                .stop_application()
                .application_name(name)
                .force(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        e.code().unwrap_or_default().to_owned(),
                        e.message().unwrap_or_default().to_owned(),
                    )
                }),
        ),
        (
            "CreateApplicationSnapshot",
            client
                .create_application_snapshot()
                .application_name(name)
                .snapshot_name("s1")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        e.code().unwrap_or_default().to_owned(),
                        e.message().unwrap_or_default().to_owned(),
                    )
                }),
        ),
    ];
    for (call, result) in cases {
        let (code, message) = result.expect_err(call);
        assert_eq!(code, "ResourceInUseException", "{call}: {message}");
        assert!(message.contains("READY"), "{call}: {message}");
    }

    // Conditional updates: a stale version, no version, then by version and by token.
    let detail = client
        .describe_application()
        .application_name(name)
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap();
    assert_eq!(detail.application_version_id, 1);
    assert_eq!(
        detail.application_arn,
        format!("arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/{name}")
    );
    let props = |value: &str| {
        ApplicationConfigurationUpdate::builder()
            .environment_property_updates(
                EnvironmentPropertyUpdates::builder()
                    .property_groups(
                        PropertyGroup::builder()
                            .property_group_id("kinesis.operator.sql")
                            .property_map("statements", value)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let (code, message) = error(
        "a stale version",
        client
            .update_application()
            .application_name(name)
            .current_application_version_id(7)
            .application_configuration_update(props("x"))
            .send()
            .await,
    );
    assert_eq!(code, "ConcurrentModificationException");
    assert!(
        message.contains("CurrentApplicationVersionId 7"),
        "{message}"
    );
    let (code, _) = error(
        "no version",
        client
            .update_application()
            .application_name(name)
            .application_configuration_update(props("x"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidArgumentException");
    let updated = client
        .update_application()
        .application_name(name)
        .current_application_version_id(1)
        .application_configuration_update(props(&filter_sql("in2", "out2")))
        .send()
        .await
        .expect("an update by version")
        .application_detail
        .unwrap();
    assert_eq!(
        (
            updated.application_version_id,
            updated.application_version_updated_from
        ),
        (2, Some(1))
    );
    let token = updated.conditional_token.clone().expect("a token");
    assert_ne!(Some(token.clone()), detail.conditional_token);
    let (code, _) = error(
        "a stale token",
        client
            .update_application()
            .application_name(name)
            .conditional_token(detail.conditional_token.unwrap())
            .application_configuration_update(props("y"))
            .send()
            .await,
    );
    assert_eq!(code, "ConcurrentModificationException");
    let v3 = client
        .update_application()
        .application_name(name)
        .conditional_token(token)
        .application_configuration_update(props(&filter_sql("in3", "out3")))
        .send()
        .await
        .expect("an update by token")
        .application_detail
        .unwrap();
    assert_eq!(v3.application_version_id, 3);

    // Options: each is a version.
    let added = client
        .add_application_cloud_watch_logging_option()
        .application_name(name)
        .current_application_version_id(3)
        .cloud_watch_logging_option(
            CloudWatchLoggingOption::builder()
                .log_stream_arn("arn:aws:logs:us-west-2:123456789012:log-group:g:log-stream:s")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AddApplicationCloudWatchLoggingOption");
    assert_eq!(added.application_version_id, Some(4));
    let option_id = added.cloud_watch_logging_option_descriptions()[0]
        .cloud_watch_logging_option_id
        .clone()
        .unwrap();
    let vpc = client
        .add_application_vpc_configuration()
        .application_name(name)
        .current_application_version_id(4)
        .vpc_configuration(
            VpcConfiguration::builder()
                .subnet_ids("subnet-1")
                .security_group_ids("sg-1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AddApplicationVpcConfiguration");
    assert_eq!(vpc.application_version_id, Some(5));
    let vpc_id = vpc
        .vpc_configuration_description
        .unwrap()
        .vpc_configuration_id;
    client
        .delete_application_vpc_configuration()
        .application_name(name)
        .current_application_version_id(5)
        .vpc_configuration_id(vpc_id)
        .send()
        .await
        .expect("DeleteApplicationVpcConfiguration");
    let deleted = client
        .delete_application_cloud_watch_logging_option()
        .application_name(name)
        .current_application_version_id(6)
        .cloud_watch_logging_option_id(option_id)
        .send()
        .await
        .expect("DeleteApplicationCloudWatchLoggingOption");
    assert_eq!(deleted.application_version_id, Some(7));
    assert!(deleted.cloud_watch_logging_option_descriptions().is_empty());

    // Versions: every one kept, newest first.
    let versions = client
        .list_application_versions()
        .application_name(name)
        .limit(5)
        .send()
        .await
        .unwrap();
    let ids: Vec<i64> = versions
        .application_version_summaries()
        .iter()
        .map(|v| v.application_version_id)
        .collect();
    assert_eq!(ids, vec![7, 6, 5, 4, 3]);
    let rest = client
        .list_application_versions()
        .application_name(name)
        .limit(5)
        .next_token(versions.next_token.unwrap())
        .send()
        .await
        .unwrap();
    let ids: Vec<i64> = rest
        .application_version_summaries()
        .iter()
        .map(|v| v.application_version_id)
        .collect();
    assert_eq!(ids, vec![2, 1]);
    let v2 = client
        .describe_application_version()
        .application_name(name)
        .application_version_id(2)
        .send()
        .await
        .unwrap()
        .application_version_detail
        .unwrap();
    let groups = v2
        .application_configuration_description
        .unwrap()
        .environment_property_descriptions
        .unwrap()
        .property_group_descriptions
        .unwrap();
    assert_eq!(
        groups[0].property_map["statements"],
        filter_sql("in2", "out2")
    );
    let (code, _) = error(
        "version 99",
        client
            .describe_application_version()
            .application_name(name)
            .application_version_id(99)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    // The SQL-only calls.
    let (code, message) = error(
        "AddApplicationOutput",
        client
            .delete_application_output()
            .application_name(name)
            .current_application_version_id(7)
            .output_id("1.1")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidArgumentException");
    assert!(message.contains("SQL-1_0"), "{message}");

    // Tags.
    let arn = detail.application_arn.clone();
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .expect("TagResource");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("dev").build().unwrap())
        .send()
        .await
        .expect("TagResource");
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .expect("UntagResource");
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags
        .tags()
        .iter()
        .map(|t| (t.key(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags, vec![("team", "data")]);
    let mut too_many = client.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        too_many = too_many.tags(
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap(),
        );
    }
    let (code, _) = error("51 tags", too_many.send().await);
    assert_eq!(code, "TooManyTagsException");

    // Listing, paged.
    for other in ["b-app", "c-app"] {
        create_app(&client, other, configuration("SELECT 1;", 60_000, false)).await;
    }
    let page = client.list_applications().limit(2).send().await.unwrap();
    let names: Vec<&str> = page
        .application_summaries()
        .iter()
        .map(|s| s.application_name())
        .collect();
    assert_eq!(names, vec!["b-app", "c-app"]);
    let page = client
        .list_applications()
        .limit(2)
        .next_token(page.next_token.unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = page
        .application_summaries()
        .iter()
        .map(|s| s.application_name())
        .collect();
    assert_eq!(
        (names, page.next_token.as_deref()),
        (vec!["error-filter"], None)
    );

    // A start that cannot run: no runner jar. The operation fails saying what to do; READY.
    let op = start(
        &client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Ready).await;
    let (status, message) = wait_operation_end(&client, name, &op).await;
    assert_eq!(status, OperationStatus::Failed);
    let message = message.expect("a failure message");
    assert!(
        message.contains("make runner-flink") && message.contains("--flink-runner"),
        "{message}"
    );
    let listed = client
        .list_application_operations()
        .application_name(name)
        .operation_status(OperationStatus::Failed)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.application_operation_info_list()[0]
            .operation_id
            .as_deref(),
        Some(op.as_str())
    );

    // Code in S3: the object must exist; the JAR is read at start (here the runner jar is
    // what is missing; tests/emulator_analytics_jar.rs runs JARs).
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(aws_sdk_s3::config::Region::new(REGION))
            .credentials_provider(Credentials::new(ACCOUNT, "secret", None, None, "test"))
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("code")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket");
    let jar_code = |key: &str| {
        ApplicationConfiguration::builder()
            .application_code_configuration(
                aws_sdk_kinesisanalyticsv2::types::ApplicationCodeConfiguration::builder()
                    .code_content_type(aws_sdk_kinesisanalyticsv2::types::CodeContentType::Zipfile)
                    .code_content(
                        aws_sdk_kinesisanalyticsv2::types::CodeContent::builder()
                            .s3_content_location(
                                aws_sdk_kinesisanalyticsv2::types::S3ContentLocation::builder()
                                    .bucket_arn("arn:aws:s3:::code")
                                    .file_key(key)
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let (code, message) = error(
        "a missing code object",
        client
            .create_application()
            .application_name("jar-app")
            .runtime_environment(RuntimeEnvironment::Flink120)
            .application_configuration(jar_code("app.jar"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidArgumentException");
    assert!(message.contains("app.jar"), "{message}");
    s3.put_object()
        .bucket("code")
        .key("app.jar")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"PK\x03\x04",
        ))
        .send()
        .await
        .expect("PutObject");
    create_app(&client, "jar-app", jar_code("app.jar")).await;
    let message = failed_start(&client, "jar-app").await;
    assert!(message.contains("make runner-flink"), "{message}");

    // Delete: CreateTimestamp must match.
    let created = detail.create_timestamp.unwrap();
    let (code, message) = error(
        "a wrong CreateTimestamp",
        client
            .delete_application()
            .application_name(name)
            .create_timestamp(aws_smithy_types::DateTime::from_secs(created.secs() - 5))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidArgumentException");
    assert!(message.contains("CreateTimestamp"), "{message}");
    client
        .delete_application()
        .application_name(name)
        .create_timestamp(created)
        .send()
        .await
        .expect("DeleteApplication");
    let (code, _) = error(
        "a deleted app",
        client
            .describe_application()
            .application_name(name)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    emulator.shutdown().await;
}

/// Applications, versions, tags, operations and snapshots' metadata survive a restart of the
/// emulator on the same `--data-dir`.
#[tokio::test]
async fn applications_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = emulator(None, Some(dir.path())).await;
    let client = client_at(&first.endpoint_url());
    create_app(
        &client,
        "kept",
        configuration(&filter_sql("a", "b"), 60_000, true),
    )
    .await;
    let arn = format!("arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/kept");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .unwrap();
    let before = client
        .update_application()
        .application_name("kept")
        .current_application_version_id(1)
        .application_configuration_update(
            ApplicationConfigurationUpdate::builder()
                .application_snapshot_configuration_update(
                    aws_sdk_kinesisanalyticsv2::types::ApplicationSnapshotConfigurationUpdate::builder().snapshots_enabled_update(false).build().unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap();
    let op = start(
        &client,
        "kept",
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_operation_end(&client, "kept", &op).await;
    first.shutdown().await;

    let second = emulator(None, Some(dir.path())).await;
    let client = client_at(&second.endpoint_url());
    let after = client
        .describe_application()
        .application_name("kept")
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap();
    assert_eq!(after.application_version_id, 2);
    assert_eq!(after.create_timestamp, before.create_timestamp);
    assert_eq!(after.conditional_token, before.conditional_token);
    assert_eq!(after.application_status, ApplicationStatus::Ready);
    let snapshots = after
        .application_configuration_description
        .unwrap()
        .application_snapshot_configuration_description
        .unwrap();
    assert!(!snapshots.snapshots_enabled);
    let versions = client
        .list_application_versions()
        .application_name("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.application_version_summaries().len(), 2);
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    let (status, message) = operation(&client, "kept", &op).await;
    assert_eq!(status, OperationStatus::Failed);
    assert!(message.unwrap().contains("flink-runner"));
    second.shutdown().await;
}

/// The tutorial's filter on real Flink through the API: STARTING refuses what it must, RUNNING
/// turns exactly the expected records around; a snapshot of the running job; a stop with
/// snapshots on takes a snapshot, records put while stopped are read after a start from the
/// latest snapshot, and none is repeated.
#[tokio::test]
async fn filter_runs_stops_with_a_snapshot_and_resumes_from_it() {
    let _permit = jvms(1).await;
    let jar = tokio::task::spawn_blocking(jar).await.unwrap();
    let emulator = emulator(Some(jar), None).await;
    let client = client_at(&emulator.endpoint_url());
    let kinesis = kinesis_at(&emulator.endpoint_url());
    create_stream(&kinesis, "MyKinesisStream").await;
    create_stream(&kinesis, "ErrorLogStream").await;
    let name = "error-filter";
    create_app(
        &client,
        name,
        configuration(
            &filter_sql("MyKinesisStream", "ErrorLogStream"),
            1_000,
            true,
        ),
    )
    .await;

    let op = start(
        &client,
        name,
        ApplicationRestoreType::RestoreFromLatestSnapshot,
    )
    .await;
    assert_eq!(status(&client, name).await, ApplicationStatus::Starting);
    assert_eq!(
        operation(&client, name, &op).await.0,
        OperationStatus::InProgress
    );
    // STARTING refuses a second start, an update, a delete and a stop without Force.
    let created = client
        .describe_application()
        .application_name(name)
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap()
        .create_timestamp
        .unwrap();
    let refusals: Vec<(&str, Option<String>)> = vec![
        (
            "StartApplication",
            client
                .start_application()
                .application_name(name)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "UpdateApplication",
            client
                .update_application()
                .application_name(name)
                .current_application_version_id(1)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "DeleteApplication",
            client
                .delete_application()
                .application_name(name)
                .create_timestamp(created)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "StopApplication",
            client
                .stop_application()
                .application_name(name)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
    ];
    for (call, code) in refusals {
        assert_eq!(
            code.as_deref(),
            Some("ResourceInUseException"),
            "{call} while STARTING"
        );
    }
    wait_status(&client, name, ApplicationStatus::Running).await;
    assert_eq!(
        operation(&client, name, &op).await,
        (OperationStatus::Successful, None)
    );
    let (code, message) = error(
        "a start while RUNNING",
        client
            .start_application()
            .application_name(name)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceInUseException");
    assert!(message.contains("RUNNING"), "{message}");

    let first = log_lines(0, 12);
    put(&kinesis, "MyKinesisStream", &first).await;
    let mut expected = errors_of(&first);
    expect_messages(&kinesis, "ErrorLogStream", &expected).await;

    // A snapshot of the running job: a savepoint, CREATING until the runner wrote it.
    client
        .create_application_snapshot()
        .application_name(name)
        .snapshot_name("manual-1")
        .send()
        .await
        .expect("CreateApplicationSnapshot");
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let snap = client
            .describe_application_snapshot()
            .application_name(name)
            .snapshot_name("manual-1")
            .send()
            .await
            .unwrap()
            .snapshot_details
            .unwrap();
        match snap.snapshot_status {
            aws_sdk_kinesisanalyticsv2::types::SnapshotStatus::Ready => break,
            aws_sdk_kinesisanalyticsv2::types::SnapshotStatus::Creating => {}
            other => panic!("snapshot manual-1 is {other:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "snapshot manual-1 is still CREATING"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, _) = error(
        "a duplicate snapshot name",
        client
            .create_application_snapshot()
            .application_name(name)
            .snapshot_name("manual-1")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidArgumentException");

    // Stop: a savepoint becomes the latest snapshot.
    let stop = client
        .stop_application()
        .application_name(name)
        .send()
        .await
        .expect("StopApplication")
        .operation_id
        .unwrap();
    assert_eq!(status(&client, name).await, ApplicationStatus::Stopping);
    wait_status(&client, name, ApplicationStatus::Ready).await;
    assert_eq!(
        operation(&client, name, &stop).await.0,
        OperationStatus::Successful
    );
    let snapshots = client
        .list_application_snapshots()
        .application_name(name)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = snapshots
        .snapshot_summaries()
        .iter()
        .map(|s| s.snapshot_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[1].starts_with("stop-"), "{names:?}");

    // Records put while stopped are read after the restore; none of the first is repeated.
    let second = log_lines(12, 24);
    put(&kinesis, "MyKinesisStream", &second).await;
    let op = start(
        &client,
        name,
        ApplicationRestoreType::RestoreFromLatestSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    assert_eq!(
        operation(&client, name, &op).await.0,
        OperationStatus::Successful
    );
    let third = log_lines(24, 30);
    put(&kinesis, "MyKinesisStream", &third).await;
    expected.extend(errors_of(&second));
    expected.extend(errors_of(&third));
    expect_messages(&kinesis, "ErrorLogStream", &expected).await;

    // An update of the running application restarts its job with the new SQL (from a
    // savepoint: nothing put meanwhile is lost or repeated).
    let detail = client
        .describe_application()
        .application_name(name)
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap();
    let new_sql =
        filter_sql("MyKinesisStream", "ErrorLogStream").replace("'%error%'", "'%line 3%'");
    let update = client
        .update_application()
        .application_name(name)
        .conditional_token(detail.conditional_token.unwrap())
        .application_configuration_update(
            ApplicationConfigurationUpdate::builder()
                .environment_property_updates(
                    EnvironmentPropertyUpdates::builder()
                        .property_groups(
                            PropertyGroup::builder()
                                .property_group_id("kinesis.operator.sql")
                                .property_map("statements", new_sql)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateApplication of a running application");
    assert_eq!(
        update.application_detail.unwrap().application_status,
        ApplicationStatus::Updating
    );
    let update_op = update.operation_id.expect("the update's operation");
    let during = log_lines(30, 36);
    put(&kinesis, "MyKinesisStream", &during).await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    let details = client
        .describe_application_operation()
        .application_name(name)
        .operation_id(&update_op)
        .send()
        .await
        .unwrap()
        .application_operation_info_details
        .unwrap();
    assert_eq!(details.operation_status, OperationStatus::Successful);
    let change = details.application_version_change_details.unwrap();
    assert_eq!(
        (
            change.application_version_updated_from,
            change.application_version_updated_to
        ),
        (1, 2)
    );
    let after = log_lines(36, 40);
    put(&kinesis, "MyKinesisStream", &after).await;
    // Lines put during the update went through the old SQL (before its savepoint) or the new
    // one (after it), each once; the new SQL keeps the lines that mention "line 3".
    let updated: Vec<String> = after
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .filter(|m| m.contains("line 3"))
        .collect();
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let got = messages(&kinesis, "ErrorLogStream").await;
        if updated.iter().all(|u| got.contains(u)) {
            tokio::time::sleep(SETTLE).await;
            let got = messages(&kinesis, "ErrorLogStream").await;
            assert_eq!(
                got[..expected.len()],
                expected[..],
                "the output before the update"
            );
            let mut during_out = got[expected.len()..].to_vec();
            let tail = during_out.split_off(during_out.len() - updated.len());
            assert_eq!(tail, updated, "the new SQL's output: {got:?}");
            for m in &during_out {
                assert!(
                    during.iter().any(|l| l["message"] == m.as_str()),
                    "{m} is a line put during the update: {got:?}"
                );
            }
            let mut unique = during_out.clone();
            unique.dedup();
            assert_eq!(unique, during_out, "no line twice: {got:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the updated SQL's output never came: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A forced stop takes no snapshot.
    let before = client
        .list_application_snapshots()
        .application_name(name)
        .send()
        .await
        .unwrap()
        .snapshot_summaries()
        .len();
    client
        .stop_application()
        .application_name(name)
        .force(true)
        .send()
        .await
        .expect("a forced stop");
    wait_status(&client, name, ApplicationStatus::Ready).await;
    let snapshots = client
        .list_application_snapshots()
        .application_name(name)
        .send()
        .await
        .unwrap();
    assert_eq!(snapshots.snapshot_summaries().len(), before);
    emulator.shutdown().await;
}

/// Flink refusing the SQL (a parse error; an updating aggregate into the append-only Kinesis
/// sink): the application is READY again and the start's operation FAILED with Flink's own
/// message in OperationFailureDetails.ErrorInfo.ErrorString.
#[tokio::test]
async fn sql_flink_refuses_fails_the_start_with_flinks_message() {
    let _permit = jvms(2).await;
    let jar = tokio::task::spawn_blocking(jar).await.unwrap();
    let emulator = emulator(Some(jar), None).await;
    let client = client_at(&emulator.endpoint_url());
    let kinesis = kinesis_at(&emulator.endpoint_url());
    create_stream(&kinesis, "TweetStream").await;
    create_stream(&kinesis, "CountStream").await;
    let typo = filter_sql("TweetStream", "CountStream").replace(
        "SELECT `timestamp`, message FROM",
        "SELECT `timestamp`, message FROMM",
    );
    let aggregate = filter_sql("TweetStream", "CountStream").replace(
        "INSERT INTO error_logs\nSELECT `timestamp`, message FROM log_data WHERE message LIKE '%error%';",
        "INSERT INTO error_logs\nSELECT MAX(`timestamp`), message FROM log_data GROUP BY message;",
    );
    let cases = [
        ("typo", typo, "SQL parse failed"),
        (
            "aggregate",
            aggregate,
            "doesn't support consuming update changes",
        ),
    ];
    let mut ops = Vec::new();
    for (name, sql, _) in &cases {
        create_app(&client, name, configuration(sql, 60_000, false)).await;
        ops.push(
            start(
                &client,
                name,
                ApplicationRestoreType::SkipRestoreFromSnapshot,
            )
            .await,
        );
    }
    for ((name, _, words), op) in cases.iter().zip(&ops) {
        let (status, message) = wait_operation_end(&client, name, op).await;
        assert_eq!(status, OperationStatus::Failed, "{name}");
        let message = message.expect("Flink's message");
        assert!(message.contains(words), "{name}: {message}");
        assert_eq!(
            self::status(&client, name).await,
            ApplicationStatus::Ready,
            "{name}"
        );
    }
    emulator.shutdown().await;
}

/// The pid of the runner of `app` under the emulator's data directory, from its status file.
fn runner_pid(data_dir: &Path, app: &str) -> Option<i32> {
    let base = data_dir.join("analytics").join(ACCOUNT).join(REGION);
    for entry in std::fs::read_dir(&base).ok()?.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("{app}-"))
        {
            continue;
        }
        // One run directory at a time: each launch removes the earlier ones.
        let run = std::fs::read_dir(entry.path().join("runs"))
            .ok()?
            .flatten()
            .next()?;
        let text = std::fs::read_to_string(run.path().join("status.json")).ok()?;
        let status: Value = serde_json::from_str(&text).ok()?;
        return status["pid"].as_i64().map(|p| p as i32);
    }
    None
}

/// True while `pid` is a live process (a zombie no one reaps counts as gone).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// `kill -9` of the emulator with a running application: its runner JVM goes too, and after a
/// restart on the same data directory the application is RUNNING again and filters new
/// records.
#[tokio::test]
async fn a_killed_emulator_leaves_no_runner_and_runs_the_application_again() {
    let _permit = jvms(1).await;
    let jar = tokio::task::spawn_blocking(jar).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jar_flag = jar.display().to_string();
    let mut process =
        support::process::EmulatorProcess::start(dir.path(), &["--flink-runner", &jar_flag]).await;
    let client = client_at(&process.endpoint_url());
    let kinesis = kinesis_at(&process.endpoint_url());
    create_stream(&kinesis, "LogIn").await;
    create_stream(&kinesis, "LogOut").await;
    let name = "survivor";
    create_app(
        &client,
        name,
        configuration(&filter_sql("LogIn", "LogOut"), 1_000, false),
    )
    .await;
    start(
        &client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    let first = log_lines(0, 6);
    put(&kinesis, "LogIn", &first).await;
    let mut expected = errors_of(&first);
    expect_messages(&kinesis, "LogOut", &expected).await;
    let (code, message) = error(
        "a snapshot with snapshots disabled",
        client
            .create_application_snapshot()
            .application_name(name)
            .snapshot_name("nope")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidApplicationConfigurationException");
    assert!(message.contains("SnapshotsEnabledUpdate"), "{message}");
    let pid = runner_pid(dir.path(), name).expect("the runner's pid in its status file");
    assert!(alive(pid), "the runner {pid} runs");
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("measured: the runner JVM of a running application: {rss}");
    // A checkpoint after the records (one a second) to restore from.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    process.kill_9().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let killed = std::time::Instant::now();
    while alive(pid) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "runner {pid} outlived the killed emulator by 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    eprintln!(
        "measured: the runner exited {:?} after the emulator was killed",
        killed.elapsed()
    );
    let restarted = std::time::Instant::now();
    process.restart().await;
    let client = client_at(&process.endpoint_url());
    let kinesis = kinesis_at(&process.endpoint_url());
    wait_status(&client, name, ApplicationStatus::Running).await;
    eprintln!(
        "measured: RUNNING again {:?} after the emulator's restart",
        restarted.elapsed()
    );
    let second = log_lines(6, 15);
    put(&kinesis, "LogIn", &second).await;
    expected.extend(errors_of(&second));
    expect_messages(&kinesis, "LogOut", &expected).await;
    let new_pid = runner_pid(dir.path(), name).expect("the new runner's pid");
    assert_ne!(new_pid, pid);
    process.kill_9().await;
}

/// A job that fails after it ran (its sink's stream deleted under it) keeps the application
/// RUNNING, as AWS's Flink keeps restarting a failing job: the emulator starts it again from
/// its latest checkpoint, and once the stream is back the records flow again.
#[tokio::test]
async fn a_job_failing_while_running_is_restarted_and_the_application_stays_running() {
    let _permit = jvms(1).await;
    let jar = tokio::task::spawn_blocking(jar).await.unwrap();
    let emulator = emulator(Some(jar), None).await;
    let client = client_at(&emulator.endpoint_url());
    let kinesis = kinesis_at(&emulator.endpoint_url());
    create_stream(&kinesis, "FlakyIn").await;
    create_stream(&kinesis, "FlakyOut").await;
    let name = "flaky";
    create_app(
        &client,
        name,
        configuration(&filter_sql("FlakyIn", "FlakyOut"), 1_000, false),
    )
    .await;
    let started = std::time::Instant::now();
    start(
        &client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    eprintln!(
        "measured: StartApplication to RUNNING (reading its shard) in {:?}",
        started.elapsed()
    );
    put(&kinesis, "FlakyIn", &log_lines(0, 3)).await;
    expect_messages(&kinesis, "FlakyOut", &errors_of(&log_lines(0, 3))).await;

    // The sink's stream goes: the next error line fails the job (after the runner's own
    // restarts), and the emulator starts it again; the application stays RUNNING throughout.
    kinesis
        .delete_stream()
        .stream_name("FlakyOut")
        .send()
        .await
        .expect("DeleteStream");
    put(&kinesis, "FlakyIn", &log_lines(3, 4)).await;
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        assert_eq!(
            status(&client, name).await,
            ApplicationStatus::Running,
            "while its job fails and restarts"
        );
        // A new run directory means the emulator started the job again.
        if launches(name) > 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the failed job was not started again"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    create_stream(&kinesis, "FlakyOut").await;
    let more = log_lines(6, 10);
    let wanted = errors_of(&more);
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        put(&kinesis, "FlakyIn", &more).await;
        let got = messages(&kinesis, "FlakyOut").await;
        if wanted.iter().all(|w| got.contains(w)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no output after the restart: {got:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(status(&client, name).await, ApplicationStatus::Running);
    let stopped = std::time::Instant::now();
    client
        .stop_application()
        .application_name(name)
        .send()
        .await
        .expect("StopApplication");
    wait_status(&client, name, ApplicationStatus::Ready).await;
    eprintln!(
        "measured: StopApplication to READY in {:?}",
        stopped.elapsed()
    );
    emulator.shutdown().await;
}

/// How many times an in-process emulator of this test binary has launched a runner for `app`
/// so far: every launch makes a run directory of its own under the emulator's temporary work
/// directory (and removes the earlier ones), so the directories seen are remembered.
fn launches(app: &str) -> usize {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap();
    let root = std::env::temp_dir();
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let base = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(&format!(
            "kinesis-emulator-analytics-{}-",
            std::process::id()
        )) {
            continue;
        }
        let apps = base.join(ACCOUNT).join(REGION);
        for a in std::fs::read_dir(&apps).into_iter().flatten().flatten() {
            if !a
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{app}-"))
            {
                continue;
            }
            for run in std::fs::read_dir(a.path().join("runs"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let id = format!(
                    "{}/{}",
                    a.path().display(),
                    run.file_name().to_string_lossy()
                );
                if !seen.contains(&id) {
                    seen.push(id);
                }
            }
        }
    }
    seen.iter()
        .filter(|s| s.contains(&format!("/{app}-")))
        .count()
}

/// With `--analytics-transition-delay`, DELETING lasts that long and refuses what AWS refuses
/// in it (a start, an update, a second delete, a new application of the same name).
#[tokio::test]
async fn deleting_lasts_the_transition_delay_and_refuses_changes() {
    let emulator = emulator_with_runner(None, None, Duration::from_millis(1500)).await;
    let client = client_at(&emulator.endpoint_url());
    create_app(&client, "going", configuration("SELECT 1;", 60_000, false)).await;
    let created = client
        .describe_application()
        .application_name("going")
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap()
        .create_timestamp
        .unwrap();
    let asked = std::time::Instant::now();
    client
        .delete_application()
        .application_name("going")
        .create_timestamp(created)
        .send()
        .await
        .expect("DeleteApplication");
    assert_eq!(status(&client, "going").await, ApplicationStatus::Deleting);
    let refusals: Vec<(&str, Option<String>)> = vec![
        (
            "StartApplication",
            client
                .start_application()
                .application_name("going")
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "UpdateApplication",
            client
                .update_application()
                .application_name("going")
                .current_application_version_id(1)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "DeleteApplication",
            client
                .delete_application()
                .application_name("going")
                .create_timestamp(created)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
        (
            "CreateApplication",
            client
                .create_application()
                .application_name("going")
                .runtime_environment(RuntimeEnvironment::Flink120)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned)),
        ),
    ];
    for (call, code) in refusals {
        assert_eq!(
            code.as_deref(),
            Some("ResourceInUseException"),
            "{call} while DELETING"
        );
    }
    loop {
        match client
            .describe_application()
            .application_name("going")
            .send()
            .await
        {
            Ok(_) => assert!(
                asked.elapsed() < Duration::from_secs(10),
                "still there after 10 s"
            ),
            Err(e) => {
                assert_eq!(e.code(), Some("ResourceNotFoundException"));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        asked.elapsed() >= Duration::from_millis(1500),
        "gone after {:?}",
        asked.elapsed()
    );
    emulator.shutdown().await;
}

/// Under `--auth sigv4` the runner signs its Kinesis calls as the application's account with
/// that key's configured secret, and the job runs; an application of an account without a
/// `--credential` of its own cannot start, and its operation says which flag to add.
#[tokio::test]
async fn under_sigv4_the_runner_signs_as_the_account() {
    let _permit = jvms(1).await;
    let jar = tokio::task::spawn_blocking(jar).await.unwrap();
    let credential = |key: &str, secret: &str| kinesis_operator::emulator::auth::Credential {
        access_key: key.to_owned(),
        secret: secret.to_owned(),
    };
    let emulator = Emulator::start(Config {
        analytics: Settings {
            runner: RunnerSetup {
                jar: Some(jar),
                ..RunnerSetup::default()
            },
            ..Settings::default()
        },
        sigv4: Some(vec![
            credential(ACCOUNT, "secret"),
            credential("AKIDOTHER", "other-secret"),
        ]),
        ..Default::default()
    })
    .await
    .expect("the emulator starts");
    let client = client_at(&emulator.endpoint_url());
    let kinesis = kinesis_at(&emulator.endpoint_url());
    create_stream(&kinesis, "SignedIn").await;
    create_stream(&kinesis, "SignedOut").await;
    create_app(
        &client,
        "signed",
        configuration(&filter_sql("SignedIn", "SignedOut"), 60_000, false),
    )
    .await;
    start(
        &client,
        "signed",
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;

    // A caller whose key is not an account acts in the default account, which has no
    // credential of its own for the runner.
    let other = Client::from_conf(
        aws_sdk_kinesisanalyticsv2::Config::builder()
            .behavior_version(aws_sdk_kinesisanalyticsv2::config::BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(aws_sdk_kinesisanalyticsv2::config::Region::new(REGION))
            .credentials_provider(Credentials::new(
                "AKIDOTHER",
                "other-secret",
                None,
                None,
                "test",
            ))
            .retry_config(aws_sdk_kinesisanalyticsv2::config::retry::RetryConfig::disabled())
            .build(),
    );
    create_app(
        &other,
        "unsigned",
        configuration(&filter_sql("a", "b"), 60_000, false),
    )
    .await;
    let op = start(
        &other,
        "unsigned",
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    let (status, message) = wait_operation_end(&other, "unsigned", &op).await;
    assert_eq!(status, OperationStatus::Failed);
    let message = message.unwrap_or_default();
    assert!(
        message.contains("--credential 000000000000:SECRET"),
        "{message}"
    );

    wait_status(&client, "signed", ApplicationStatus::Running).await;
    let lines = log_lines(0, 6);
    put(&kinesis, "SignedIn", &lines).await;
    expect_messages(&kinesis, "SignedOut", &errors_of(&lines)).await;
    emulator.shutdown().await;
}
