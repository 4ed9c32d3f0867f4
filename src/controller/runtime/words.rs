//! Test support: a kind's steps driven the way the runtime drives them, against the
//! in-process emulator and without Kubernetes, so that a test can read every event and
//! condition a user would see on the object, word for word.
//!
//! Why not only the control-plane tests: they cost seconds each and see what a whole flow
//! published; this sees what every single pass said, including transitions (CREATING,
//! UPDATING) that a flow test rarely catches, in milliseconds.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::core::object::HasStatus;

use super::events::{corrects_drift, reason_and_action};
use super::reconciler::{Deletion, KindStatus, Reconciler, Removal, Step};
use super::{Tracked, status};
use crate::aws::errors::AwsCallError;
use crate::controller::conditions::Health;
use crate::controller::context::{Context, Settings};
use crate::emulator::{Config, Emulator};

/// The region objects are reconciled in.
pub const REGION: &str = "us-east-1";

/// What a user reads after some passes: events as `Reason: note` and the `Ready` condition
/// as `Reason: message`, each condition once in a row.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Words {
    /// The events, in order.
    pub events: Vec<String>,
    /// The successive Ready conditions.
    pub conditions: Vec<String>,
}

impl Words {
    /// Passes that changed nothing in AWS (no event) and showed `conditions`.
    pub fn quiet(conditions: &[&str]) -> Self {
        Words {
            events: vec![],
            conditions: strings(conditions),
        }
    }
}

/// `Reason: message` of a condition.
pub fn said(health: &Health) -> String {
    let (Health::Ready { reason, message }
    | Health::Progressing { reason, message }
    | Health::Stalled { reason, message }) = health;
    format!("{reason}: {message}")
}

/// A kind's reconciler against an emulator, with what the runtime would track of one object.
pub struct Driver<R: Reconciler> {
    /// The emulator.
    pub emulator: Emulator,
    /// The context the steps get (its Kubernetes client reaches nothing).
    pub ctx: Context,
    /// The AWS configuration of the emulator, for clients a test uses to act outside the
    /// operator.
    pub sdk: aws_config::SdkConfig,
    reconciler: R,
    tracked: Tracked<R::Known>,
}

impl<R: Reconciler> Driver<R> {
    /// `reconciler` against a new emulator started with `config`.
    pub async fn start(reconciler: R, config: Config) -> Self {
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .build();
        let kube = kube::Client::try_from(kube::Config::new(
            "http://127.0.0.1:9".parse().expect("a URL"),
        ))
        .expect("a client");
        let ctx = Context::new(
            kube,
            sdk.clone(),
            Settings {
                region: REGION.into(),
                resync: Duration::from_secs(60),
                field_manager: "test".into(),
                pacing: crate::aws::rate_limit::Pacing::Off,
            },
        );
        Driver {
            emulator,
            ctx,
            sdk,
            reconciler,
            tracked: Tracked::default(),
        }
    }

    /// Forgets what this process knew of the object (an operator restart).
    pub fn restart(&mut self) {
        self.tracked = Tracked::default();
    }

    /// One converge pass over `obj`, whose status becomes the one the runtime would write;
    /// the events it would publish are appended to `words`.
    pub async fn pass(
        &mut self,
        obj: &mut R::Object,
        words: &mut Words,
    ) -> Result<Health, AwsCallError> {
        let generation = obj.meta().generation;
        let was_ready = status::says_ready(obj.status().map(KindStatus::common), generation);
        let drift = corrects_drift(was_ready, generation, self.tracked.ready_generation);
        let mut notes = Vec::new();
        let now = Timestamp::now();
        let converged = self
            .reconciler
            .converge(Step {
                obj,
                ctx: &self.ctx,
                region: REGION,
                known: &mut self.tracked,
                notes: &mut notes,
                now,
            })
            .await;
        for note in &notes {
            let (reason, _) = reason_and_action(note, drift);
            words.events.push(format!("{reason}: {}", note.message));
        }
        let outcome = converged?;
        if matches!(outcome.health, Health::Ready { .. }) {
            self.tracked.ready_generation = generation;
        }
        let new = status::build::<R>(obj, REGION, &outcome.health, &outcome.report, now);
        *obj.status_mut() = Some(new);
        let condition = said(&outcome.health);
        if words.conditions.last() != Some(&condition) {
            words.conditions.push(condition);
        }
        Ok(outcome.health)
    }

    /// Passes until `obj` is Ready or Stalled (a transient error fails the test), a moment
    /// apart while AWS is in a transition; returns what they said.
    pub async fn settle(&mut self, obj: &mut R::Object) -> Words {
        let mut words = Words::default();
        for _ in 0..200 {
            let health = self
                .pass(obj, &mut words)
                .await
                .unwrap_or_else(|e| panic!("{e}; so far {words:?}"));
            if !matches!(health, Health::Progressing { .. }) {
                return words;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("not settled after 200 passes: {words:?}")
    }

    /// Deletion steps until the resource is gone; returns the events.
    pub async fn delete(&mut self, obj: &R::Object) -> Vec<String> {
        let name = R::aws_name(obj);
        let mut events = Vec::new();
        for _ in 0..200 {
            let mut notes = Vec::new();
            let deleted = self
                .reconciler
                .delete(Removal {
                    obj,
                    ctx: &self.ctx,
                    region: REGION,
                    name: &name,
                    known: Some(self.tracked.known()),
                    notes: &mut notes,
                })
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            events.extend(notes.iter().map(|n| format!("{}: {}", n.reason, n.message)));
            if deleted == Deletion::Gone {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("not deleted after 200 steps: {events:?}")
    }
}

/// Object `name` of kind `K` with `spec` (JSON), as the API server would hand it over: in
/// namespace `data`, with a UID and generation 1.
pub fn object<K>(name: &str, spec: serde_json::Value) -> K
where
    K: Resource<DynamicType = ()> + serde::de::DeserializeOwned,
{
    serde_json::from_value(serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name, "namespace": "data", "uid": "0f6b2c1e-words", "generation": 1},
        "spec": spec,
    }))
    .expect("a valid object")
}

/// `obj` as another object of the same name and kind would be (another UID): the resource
/// it finds in AWS is not its own.
pub fn someone_elses<K: Resource>(mut obj: K) -> K {
    obj.meta_mut().uid = Some("another-object".into());
    obj
}

/// `obj` with a new `spec` (JSON): the next generation, status kept.
pub fn respec<K>(obj: &mut K, spec: serde_json::Value)
where
    K: Resource + serde::Serialize + serde::de::DeserializeOwned,
{
    let mut whole = serde_json::to_value(&*obj).expect("an object serializes");
    whole["spec"] = spec;
    *obj = serde_json::from_value(whole).expect("a valid spec");
    let meta = obj.meta_mut();
    meta.generation = Some(meta.generation.unwrap_or(0) + 1);
}

/// Owned copies of `list`, to compare with [`Words`].
pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
