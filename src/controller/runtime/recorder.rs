//! Publishes Kubernetes events (`events.k8s.io/v1`), merging repeats into a series as kube's
//! recorder does, but only repeats of the same message. kube's recorder keys a series by
//! (type, reason, action, object) and ignores the note, so two different changes with the same
//! reason (UpdateShardCount 2 -> 4, then 4 -> 5) showed as the first one counted twice.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType};
use parking_lot::Mutex;

/// How long a published event can still be extended into a series.
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

/// What makes two events the same: everything a reader sees but the time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    type_: &'static str,
    reason: String,
    action: String,
    note: Option<String>,
    regarding: (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
}

/// Publishes events as `controller`, merging identical repeats into series.
pub struct Recorder {
    client: kube::Client,
    controller: String,
    cache: Mutex<HashMap<Key, K8sEvent>>,
}

fn type_name(t: EventType) -> &'static str {
    match t {
        EventType::Normal => "Normal",
        EventType::Warning => "Warning",
    }
}

impl Recorder {
    /// A recorder reporting as `controller` (the events' reportingController).
    pub fn new(client: kube::Client, controller: &str) -> Self {
        Recorder {
            client,
            controller: controller.to_owned(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes `ev` about `regarding`: a new event, or the next count of the same event
    /// published within the last six minutes.
    pub async fn publish(
        &self,
        ev: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let key = Key {
            type_: type_name(ev.type_),
            reason: ev.reason.clone(),
            action: ev.action.clone(),
            note: ev.note.clone(),
            regarding: (
                regarding.namespace.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
                regarding.kind.clone(),
            ),
        };
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), &namespace);
        let previous = {
            let mut cache = self.cache.lock();
            cache.retain(|_, e| {
                let last = e
                    .series
                    .as_ref()
                    .map(|s| s.last_observed_time.0)
                    .or(e.event_time.as_ref().map(|t| t.0));
                last.is_some_and(|t| {
                    now.duration_since(t)
                        .try_into()
                        .is_ok_and(|d: Duration| d < SERIES_WINDOW)
                })
            });
            cache.get(&key).cloned()
        };
        // The lock is not held across the API call: events of other objects go on meanwhile.
        let event = match previous {
            Some(previous) => {
                let mut event = previous.clone();
                event.series = Some(EventSeries {
                    count: previous.series.as_ref().map_or(2, |s| s.count + 1),
                    last_observed_time: MicroTime(now),
                });
                events
                    .patch(
                        &event.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(&event),
                    )
                    .await?;
                event
            }
            None => {
                let event = K8sEvent {
                    action: Some(ev.action.clone()),
                    reason: Some(ev.reason.clone()),
                    note: ev.note.clone(),
                    event_time: Some(MicroTime(now)),
                    regarding: Some(regarding.clone()),
                    related: ev.secondary.clone(),
                    reporting_controller: Some(self.controller.clone()),
                    reporting_instance: Some(self.controller.clone()),
                    type_: Some(key.type_.to_owned()),
                    metadata: ObjectMeta {
                        namespace: Some(namespace.clone()),
                        name: Some(format!(
                            "{}.{:x}",
                            regarding.name.as_deref().unwrap_or(&self.controller),
                            now.as_nanosecond()
                        )),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                events.create(&PostParams::default(), &event).await?
            }
        };
        self.cache.lock().insert(key, event);
        Ok(())
    }
}
