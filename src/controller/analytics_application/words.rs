//! Every event and condition an AnalyticsApplication shows, word for word: its life driven
//! against the emulator pass by pass ([`crate::controller::runtime::words`]). A message that
//! changes wording, or leaks a Rust Debug string, fails here. The emulator is given no Flink
//! runner, so a start fails as a Flink job that cannot start does, without a JVM.

use std::time::Duration;

use super::AnalyticsApplications;
use crate::api::analytics_application::AnalyticsApplication;
use crate::controller::runtime::words::{Driver, Words, object, respec, said, strings};
use crate::emulator::{Config, analytics};

const ROLE: &str = "arn:aws:iam::000000000000:role/flink";

fn application(spec: serde_json::Value) -> AnalyticsApplication {
    object("logs", spec)
}

/// An emulator whose transitions take a moment, so that passes see them, and whose Flink
/// runner does not exist.
async fn driver() -> Driver<AnalyticsApplications> {
    Driver::start(
        AnalyticsApplications,
        Config {
            analytics: analytics::Settings {
                transition_delay: Duration::from_millis(300),
                runner: analytics::RunnerSetup {
                    jar: Some("/nonexistent/flink-runner.jar".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Config::default()
        },
    )
    .await
}

#[tokio::test]
async fn an_applications_life_in_words() {
    let mut d = driver().await;
    let spec = |release: &str, state: &str, tags: serde_json::Value| {
        serde_json::json!({
            "serviceExecutionRoleARN": ROLE,
            "code": {"sql": "SELECT 1;"},
            "properties": {"app": {"release": release}},
            "desiredState": state,
            "tags": tags,
        })
    };
    let mut a = application(spec("1", "Stopped", serde_json::json!({"env": "dev"})));
    assert_eq!(
        d.settle(&mut a).await,
        Words {
            events: strings(&["Created: CreateApplication logs (FLINK-1_20)"]),
            conditions: strings(&[
                "Stopped: application logs is READY (not running, as spec.desiredState asks) and matches the spec"
            ]),
        }
    );

    respec(
        &mut a,
        spec("2", "Stopped", serde_json::json!({"team": "data"})),
    );
    assert_eq!(
        d.settle(&mut a).await,
        Words {
            events: strings(&[
                "Updated: UpdateApplication logs version 1: properties",
                "TagsChanged: TagResource logs: team",
                "TagsChanged: UntagResource logs: env",
            ]),
            conditions: strings(&[
                "Updating: UpdateApplication logs sent (properties differ from the spec)",
                "Stopped: application logs is READY (not running, as spec.desiredState asks) and matches the spec",
            ]),
        }
    );

    // Started with no runner: the start fails as a job Flink refuses does.
    respec(
        &mut a,
        spec("2", "Running", serde_json::json!({"team": "data"})),
    );
    let mut words = Words::default();
    for _ in 0..40 {
        let health = d.pass(&mut a, &mut words).await.expect("a pass");
        if said(&health).starts_with("Restarting") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        words,
        Words {
            events: strings(&["Started: StartApplication logs"]),
            conditions: strings(&[
                "Starting: StartApplication logs sent",
                "Restarting: application logs: StartApplication failed: Application logs cannot start: the Flink runner jar /nonexistent/flink-runner.jar does not exist: build it with `make runner-flink` (target/runners/flink-runner.jar) or pass --flink-runner PATH (env KINESIS_OPERATOR_FLINK_RUNNER); starting it again in 10 s",
            ]),
        }
    );
    assert_eq!(
        a.status.as_ref().and_then(|s| s.last_failure.as_deref()),
        Some(
            "StartApplication failed: Application logs cannot start: the Flink runner jar /nonexistent/flink-runner.jar does not exist: build it with `make runner-flink` (target/runners/flink-runner.jar) or pass --flink-runner PATH (env KINESIS_OPERATOR_FLINK_RUNNER)."
        )
    );

    assert_eq!(
        d.delete(&a).await,
        strings(&["Deleting: DeleteApplication logs"])
    );
}
