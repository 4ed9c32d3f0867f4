//! Managed Service for Apache Flink JAR applications against the emulator, through the real
//! aws-sdk-s3 and aws-sdk-kinesisanalyticsv2 clients and the REAL Flink runner: the example
//! DataStream job (`runners/flink/examples/uppercase`, built by `make runner-flink`: a shaded
//! JAR bundling flink-connector-kinesis and aws-kinesisanalytics-runtime, its connectors given
//! only a region) is uploaded to the emulated S3, created with S3 code and started; it reads
//! its settings with `KinesisAnalyticsRuntime.getApplicationProperties()` and turns exactly the
//! expected records around through the emulator's Kinesis; a stop takes a snapshot and a start
//! from it neither loses nor repeats a record. The same JAR's Table API pipeline (Kinesis tables
//! naming only a region, `TableResult.await()`) runs pointed at the emulator as well. A code
//! object deleted after CreateApplication
//! fails the start with an operation error naming the bucket and key; a JAR without a main
//! class, and a main class that throws, fail it with what went wrong.
//!
//! Needs a JDK 17, Maven and make on `PATH`.

mod support;

use std::path::PathBuf;
use std::time::Duration;
use support::flink::{
    REGION, ROLE, client_at, create_app, create_stream, expect_texts, failed_start, kinesis_at,
    s3_at, start, wait_operation_end, wait_status,
};
use support::records::put_texts;

use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationCodeConfiguration, ApplicationConfiguration, ApplicationConfigurationUpdate,
    ApplicationRestoreType, ApplicationSnapshotConfiguration, ApplicationStatus,
    CheckpointConfiguration, CodeContent, CodeContentType, ConfigurationType,
    EnvironmentProperties, EnvironmentPropertyUpdates, FlinkApplicationConfiguration,
    OperationStatus, PropertyGroup, RuntimeEnvironment, S3ContentLocation,
};
use kinesis_operator::emulator::Emulator;
use tokio::sync::Semaphore;

/// The example's property group and the prefix it puts before each record.
const GROUP: &str = "UppercaseApplication";
const PREFIX: &str = "from the properties: ";

/// At most two runner JVMs at once across this binary's tests: each takes ~300 MB and its
/// start is CPU-bound.
static JVMS: Semaphore = Semaphore::const_new(2);

/// The runner jar and the example JAR application (`make runner-flink`).
fn jars() -> (PathBuf, PathBuf) {
    let built = support::flink::runners();
    (built.runner.clone(), built.uppercase.clone())
}

/// An in-process emulator whose applications run on `runner` (or on a runner jar that does
/// not exist).
async fn emulator(runner: Option<PathBuf>) -> Emulator {
    support::flink::emulator_with_runner(runner, None, Duration::ZERO).await
}

/// Creates bucket `bucket` and puts `body` at `key`.
async fn upload(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject s3://{bucket}/{key}: {e:?}"));
}

/// The example's configuration: code at `s3://bucket/key`, its property group naming the
/// streams and the prefix, checkpoints every second, snapshots on.
fn configuration(bucket: &str, key: &str, input: &str, output: &str) -> ApplicationConfiguration {
    configuration_with_group(GROUP, None, bucket, key, input, output)
}

/// [`configuration`] with the settings in property group `group`, and `api` (`table`: the
/// example's Table API pipeline) when given.
fn configuration_with_group(
    group: &str,
    api: Option<&str>,
    bucket: &str,
    key: &str,
    input: &str,
    output: &str,
) -> ApplicationConfiguration {
    let mut properties = PropertyGroup::builder()
        .property_group_id(group)
        .property_map("input.stream", input)
        .property_map("output.stream", output)
        .property_map("prefix", PREFIX)
        .property_map("aws.region", REGION);
    if let Some(api) = api {
        properties = properties.property_map("api", api);
    }
    ApplicationConfiguration::builder()
        .application_code_configuration(
            ApplicationCodeConfiguration::builder()
                .code_content_type(CodeContentType::Zipfile)
                .code_content(
                    CodeContent::builder()
                        .s3_content_location(
                            S3ContentLocation::builder()
                                .bucket_arn(format!("arn:aws:s3:::{bucket}"))
                                .file_key(key)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .environment_properties(
            EnvironmentProperties::builder()
                .property_groups(properties.build().unwrap())
                .build()
                .unwrap(),
        )
        .flink_application_configuration(
            FlinkApplicationConfiguration::builder()
                .checkpoint_configuration(
                    CheckpointConfiguration::builder()
                        .configuration_type(ConfigurationType::Custom)
                        .checkpointing_enabled(true)
                        .checkpoint_interval(1_000)
                        .min_pause_between_checkpoints(0)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .application_snapshot_configuration(
            ApplicationSnapshotConfiguration::builder()
                .snapshots_enabled(true)
                .build()
                .unwrap(),
        )
        .build()
}

/// Lines `from..to` of input.
fn lines(from: usize, to: usize) -> Vec<String> {
    (from..to)
        .map(|i| format!("record {i} of the input"))
        .collect()
}

/// What the example makes of `lines`.
fn uppercased(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{PREFIX}{}", l.to_uppercase()))
        .collect()
}

/// The example JAR from the emulated S3 runs unedited: its properties come from the
/// application's EnvironmentProperties, its region-only connectors reach the emulator, exactly
/// the expected records come out; stopped with a snapshot and started from it, it reads on
/// from where it stopped (its source starts at TRIM_HORIZON, so a start that ignored the
/// snapshot would repeat every record); updated with a new prefix while running, it restarts
/// from a savepoint with the new properties.
#[tokio::test]
async fn jar_from_s3_runs_with_its_properties_resumes_from_its_snapshot_and_takes_an_update() {
    let _permit = JVMS.acquire().await.expect("the JVM semaphore");
    let (runner, example) = tokio::task::spawn_blocking(jars).await.unwrap();
    let emulator = emulator(Some(runner)).await;
    let endpoint = emulator.endpoint_url();
    let client = client_at(&endpoint);
    let kinesis = kinesis_at(&endpoint);
    create_stream(&kinesis, "words").await;
    create_stream(&kinesis, "shouts").await;
    let body = std::fs::read(&example).expect("the example JAR");
    upload(
        &s3_at(&endpoint),
        "flink-code",
        "apps/uppercase-1.0.jar",
        body,
    )
    .await;
    let name = "uppercase";
    create_app(
        &client,
        name,
        configuration("flink-code", "apps/uppercase-1.0.jar", "words", "shouts"),
    )
    .await;

    let first = lines(0, 6);
    put_texts(&kinesis, "words", &first[..3]).await;
    let started = std::time::Instant::now();
    let op = start(
        &client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    eprintln!("StartApplication to RUNNING: {:?}", started.elapsed());
    assert_eq!(
        wait_operation_end(&client, name, &op).await,
        (OperationStatus::Successful, None)
    );
    put_texts(&kinesis, "words", &first[3..]).await;
    let mut expected = uppercased(&first);
    expect_texts(&kinesis, "shouts", &expected).await;
    eprintln!("StartApplication to all output: {:?}", started.elapsed());

    // Stop: the savepoint is the latest snapshot; records put meanwhile wait for the restart.
    let stop = client
        .stop_application()
        .application_name(name)
        .send()
        .await
        .expect("StopApplication")
        .operation_id
        .unwrap();
    wait_status(&client, name, ApplicationStatus::Ready).await;
    assert_eq!(
        wait_operation_end(&client, name, &stop).await,
        (OperationStatus::Successful, None)
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
    assert!(
        names.len() == 1 && names[0].starts_with("stop-"),
        "the stop's snapshot: {names:?}"
    );
    let second = lines(6, 10);
    put_texts(&kinesis, "words", &second).await;
    let op = start(
        &client,
        name,
        ApplicationRestoreType::RestoreFromLatestSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    assert_eq!(
        wait_operation_end(&client, name, &op).await,
        (OperationStatus::Successful, None)
    );
    expected.extend(uppercased(&second));
    expect_texts(&kinesis, "shouts", &expected).await;

    // UpdateApplication of the running JAR application with a new prefix: the job restarts
    // from a savepoint and reads the new properties.
    let token = client
        .describe_application()
        .application_name(name)
        .send()
        .await
        .unwrap()
        .application_detail
        .unwrap()
        .conditional_token
        .unwrap();
    let update = client
        .update_application()
        .application_name(name)
        .conditional_token(token)
        .application_configuration_update(
            ApplicationConfigurationUpdate::builder()
                .environment_property_updates(
                    EnvironmentPropertyUpdates::builder()
                        .property_groups(
                            PropertyGroup::builder()
                                .property_group_id(GROUP)
                                .property_map("input.stream", "words")
                                .property_map("output.stream", "shouts")
                                .property_map("prefix", "updated: ")
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
        .expect("UpdateApplication of the running application");
    let update_op = update.operation_id.expect("the update's operation");
    wait_status(&client, name, ApplicationStatus::Running).await;
    assert_eq!(
        wait_operation_end(&client, name, &update_op).await,
        (OperationStatus::Successful, None)
    );
    let third = lines(10, 13);
    put_texts(&kinesis, "words", &third).await;
    expected.extend(
        third
            .iter()
            .map(|l| format!("updated: {}", l.to_uppercase())),
    );
    expect_texts(&kinesis, "shouts", &expected).await;

    client
        .stop_application()
        .application_name(name)
        .force(true)
        .send()
        .await
        .expect("StopApplication (force)");
    wait_status(&client, name, ApplicationStatus::Ready).await;
    emulator.shutdown().await;
}

/// The same JAR with its Table API pipeline (`api` = `table`: two `'connector' = 'kinesis'`
/// tables naming only a region, an INSERT whose result the code awaits): its tables become
/// Kinesis operators that are pointed at the emulator in the job graph as well, and the
/// runner follows the job while the code blocks in `TableResult.await()`; a stop ends it.
#[tokio::test]
async fn a_table_api_jar_runs_pointed_at_the_emulator() {
    let _permit = JVMS.acquire().await.expect("the JVM semaphore");
    let (runner, example) = tokio::task::spawn_blocking(jars).await.unwrap();
    let emulator = emulator(Some(runner)).await;
    let endpoint = emulator.endpoint_url();
    let client = client_at(&endpoint);
    let kinesis = kinesis_at(&endpoint);
    create_stream(&kinesis, "table-words").await;
    create_stream(&kinesis, "table-shouts").await;
    upload(
        &s3_at(&endpoint),
        "table-code",
        "uppercase.jar",
        std::fs::read(&example).unwrap(),
    )
    .await;
    let name = "uppercase-table";
    create_app(
        &client,
        name,
        configuration_with_group(
            GROUP,
            Some("table"),
            "table-code",
            "uppercase.jar",
            "table-words",
            "table-shouts",
        ),
    )
    .await;
    let input = lines(0, 5);
    put_texts(&kinesis, "table-words", &input).await;
    let op = start(
        &client,
        name,
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, name, ApplicationStatus::Running).await;
    assert_eq!(
        wait_operation_end(&client, name, &op).await,
        (OperationStatus::Successful, None)
    );
    expect_texts(&kinesis, "table-shouts", &uppercased(&input)).await;
    let stop = client
        .stop_application()
        .application_name(name)
        .send()
        .await
        .expect("StopApplication")
        .operation_id
        .unwrap();
    wait_status(&client, name, ApplicationStatus::Ready).await;
    assert_eq!(
        wait_operation_end(&client, name, &stop).await,
        (OperationStatus::Successful, None)
    );
    emulator.shutdown().await;
}

/// The code object is checked at CreateApplication (AWS's InvalidArgumentException) and read
/// at start: one deleted in between fails the start with an operation error naming the bucket
/// and the key, and the application is READY again. No JVM is started.
#[tokio::test]
async fn a_code_object_gone_at_start_fails_the_start_naming_it() {
    let emulator = emulator(None).await;
    let endpoint = emulator.endpoint_url();
    let client = client_at(&endpoint);
    let s3 = s3_at(&endpoint);
    upload(&s3, "flink-code", "apps/app.jar", b"PK\x05\x06".to_vec()).await;

    let refused = client
        .create_application()
        .application_name("missing")
        .runtime_environment(RuntimeEnvironment::Flink119)
        .service_execution_role(ROLE)
        .application_configuration(configuration("flink-code", "apps/other.jar", "a", "b"))
        .send()
        .await
        .expect_err("CreateApplication with a missing code object");
    use aws_sdk_kinesisanalyticsv2::error::ProvideErrorMetadata;
    assert_eq!(refused.code(), Some("InvalidArgumentException"));
    assert!(
        refused
            .message()
            .unwrap_or_default()
            .contains("apps/other.jar"),
        "{refused:?}"
    );

    create_app(
        &client,
        "gone",
        configuration("flink-code", "apps/app.jar", "a", "b"),
    )
    .await;
    s3.delete_object()
        .bucket("flink-code")
        .key("apps/app.jar")
        .send()
        .await
        .expect("DeleteObject");
    let message = failed_start(&client, "gone").await;
    assert!(
        message.contains("apps/app.jar")
            && message.contains("bucket flink-code")
            && message.contains("does not exist"),
        "{message}"
    );
    emulator.shutdown().await;
}

/// A JAR whose manifest names no main class (here made by the JDK's `jar` tool, which writes
/// a manifest without `Main-Class`) fails the start with the runner's message saying what is
/// missing and how to build it; a main class that throws (the example, its property group
/// misnamed) fails it with the code's own error. Each time the application is READY again.
#[tokio::test]
async fn a_jar_without_a_main_class_or_whose_main_throws_fails_the_start_saying_so() {
    let _permit = JVMS.acquire().await.expect("the JVM semaphore");
    let (runner, example) = tokio::task::spawn_blocking(jars).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.txt"), "no code here\n").unwrap();
    let jar = dir.path().join("no-main.jar");
    let made = std::process::Command::new("jar")
        .args(["--create", "--file"])
        .arg(&jar)
        .arg("-C")
        .arg(dir.path())
        .arg("README.txt")
        .status()
        .expect("the JDK's jar tool");
    assert!(made.success(), "jar --create: {made}");

    let emulator = emulator(Some(runner)).await;
    let endpoint = emulator.endpoint_url();
    let client = client_at(&endpoint);
    upload(
        &s3_at(&endpoint),
        "flink-code",
        "no-main.jar",
        std::fs::read(&jar).unwrap(),
    )
    .await;
    create_app(
        &client,
        "no-main",
        configuration("flink-code", "no-main.jar", "a", "b"),
    )
    .await;
    let message = failed_start(&client, "no-main").await;
    assert!(
        message.contains("s3://flink-code/no-main.jar")
            && message.contains("'Main-Class'")
            && message.contains("ManifestResourceTransformer"),
        "{message}"
    );

    upload(
        &s3_at(&endpoint),
        "more-code",
        "uppercase.jar",
        std::fs::read(&example).unwrap(),
    )
    .await;
    create_app(
        &client,
        "misnamed",
        configuration_with_group("Uppercase", None, "more-code", "uppercase.jar", "a", "b"),
    )
    .await;
    let message = failed_start(&client, "misnamed").await;
    assert!(
        message.contains("main class dev.kinesisoperator.examples.Uppercase failed")
            && message.contains("no property group UppercaseApplication")
            && message.contains("[Uppercase]"),
        "{message}"
    );
    emulator.shutdown().await;
}
