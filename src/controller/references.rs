//! References between objects of this API (DESIGN §3.1): an object that names a
//! `KinesisStream` (a DeliveryStream's `streamRef`, a StreamPolicy's streams, an
//! AnalyticsApplication's `streamRefs`) waits, `Ready=False` with reason
//! `WaitingForDependency`, until the named stream is Ready, and then uses its ARN.
//!
//! The wait is not a poll: each referring kind watches KinesisStreams ([`watch_streams`]) and
//! maps a changed stream to the objects naming it ([`referring`]), so they are reconciled as
//! soon as it becomes Ready. Only what a reference resolves to triggers them (the stream
//! appearing or going, its readiness, ARN, deletion and consent annotation), not the stream's
//! other status writes; and an object already Ready with the stream's ARN is left alone, so a
//! dependent that saw its stream Ready before the watch did costs no second pass. A reference
//! into another namespace is refused unless the stream allows it ([`ALLOW_REFERENCES_FROM`]),
//! so that a team cannot point its pipeline at another team's stream without that team's
//! consent.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::TryStreamExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::api::kinesis_stream::KinesisStream;
use crate::api::shared::{ALLOW_REFERENCES_FROM, ObjectReference};
use crate::controller::runtime::WatchScope;
use crate::controller::runtime::status::says_ready;

/// Where a reference stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The referenced stream is Ready: its ARN.
    Arn(String),
    /// Not yet: what is missing, in words (reason `WaitingForDependency`).
    Waiting(String),
    /// Never, until a human changes something (reason `ReferenceNotAllowed`).
    Refused(String),
}

/// The namespace and name `reference` points at, from an object in `from`.
pub fn target<'a>(reference: &'a ObjectReference, from: &'a str) -> (&'a str, &'a str) {
    (
        reference.namespace.as_deref().unwrap_or(from),
        &reference.name,
    )
}

/// Whether an object of namespace `from` may reference `stream`.
pub fn allowed(stream: &KinesisStream, from: &str) -> bool {
    if stream.namespace().as_deref() == Some(from) {
        return true;
    }
    stream
        .annotations()
        .get(ALLOW_REFERENCES_FROM)
        .is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|ns| ns == "*" || ns == from)
        })
}

/// What `reference` (from an object in `from`) resolves to, given the stream it names
/// (`None`: no such object).
pub fn resolve(
    reference: &ObjectReference,
    from: &str,
    stream: Option<&KinesisStream>,
) -> Resolved {
    let (namespace, name) = target(reference, from);
    let Some(stream) = stream else {
        return Resolved::Waiting(format!(
            "waiting for KinesisStream {namespace}/{name}: it does not exist"
        ));
    };
    if !allowed(stream, from) {
        return Resolved::Refused(format!(
            "KinesisStream {namespace}/{name} does not allow references from namespace {from}: \
             annotate it with {ALLOW_REFERENCES_FROM}: {from} (or reference a stream of namespace {from})"
        ));
    }
    if stream.meta().deletion_timestamp.is_some() {
        return Resolved::Waiting(format!(
            "waiting for KinesisStream {namespace}/{name}: it is being deleted"
        ));
    }
    match stream.status.as_ref().and_then(|s| s.common.arn.clone()) {
        Some(arn) if serves(stream) => Resolved::Arn(arn),
        _ => Resolved::Waiting(format!(
            "waiting for KinesisStream {namespace}/{name} to be Ready"
        )),
    }
}

/// Whether `stream` serves the objects that name it: Ready; or, once it has an ARN, still
/// ACTIVE or UPDATING in AWS (both take reads and writes) while it converges on a newer spec,
/// so that a tag, retention or shard-count change of a stream does not make the objects
/// reading it wait.
fn serves(stream: &KinesisStream) -> bool {
    let status = stream.status.as_ref();
    says_ready(status.map(|s| &s.common), stream.meta().generation)
        || status.is_some_and(|s| {
            s.common.arn.is_some()
                && matches!(s.stream_status.as_deref(), Some("ACTIVE" | "UPDATING"))
        })
}

/// Reads the stream `reference` names from `obj` and resolves it, remembering the ARN it
/// resolved to in `resolutions`. A failed read is returned (it is retried with the object).
pub async fn stream_arn<K: Resource>(
    client: &kube::Client,
    resolutions: &Resolutions,
    obj: &K,
    reference: &ObjectReference,
) -> Result<Resolved, kube::Error> {
    let from = obj.meta().namespace.as_deref().unwrap_or_default();
    let (namespace, name) = target(reference, from);
    let api: Api<KinesisStream> = Api::namespaced(client.clone(), namespace);
    let stream = api.get_opt(name).await?;
    let resolved = resolve(reference, from, stream.as_ref());
    resolutions.record(obj, namespace, name, &resolved);
    Ok(resolved)
}

/// What each object's latest pass resolved its references to: `(object UID, stream namespace,
/// stream name)` to the object's generation and the stream's ARN, for the references that
/// resolved to an ARN.
///
/// The watch of KinesisStreams consults it (beside the object's status) to leave alone an
/// object whose pass, finished or still running, already used the stream's ARN: the stream's
/// Ready event often arrives while that pass is in flight, and a second pass would cost AWS
/// calls for nothing. A pass that fails after resolving is retried by the error policy.
#[derive(Default)]
pub struct Resolutions(Mutex<HashMap<ResolutionKey, (Option<i64>, String)>>);

/// The object's UID, the stream's namespace and name.
type ResolutionKey = (String, String, String);

impl Resolutions {
    /// Records what a pass of `obj` resolved the stream `namespace/name` to.
    fn record<K: Resource>(&self, obj: &K, namespace: &str, name: &str, resolved: &Resolved) {
        let key = (
            obj.meta().uid.clone().unwrap_or_default(),
            namespace.to_owned(),
            name.to_owned(),
        );
        let mut map = self.0.lock();
        match resolved {
            Resolved::Arn(arn) => {
                map.insert(key, (obj.meta().generation, arn.clone()));
            }
            Resolved::Waiting(_) | Resolved::Refused(_) => {
                map.remove(&key);
            }
        }
    }

    /// Whether a pass of object `uid` at `generation` resolved `namespace/name` to `arn`.
    fn used(
        &self,
        uid: &str,
        generation: Option<i64>,
        namespace: &str,
        name: &str,
        arn: &str,
    ) -> bool {
        self.0
            .lock()
            .get(&(uid.to_owned(), namespace.to_owned(), name.to_owned()))
            .is_some_and(|(g, a)| *g == generation && a == arn)
    }

    /// Forgets object `uid` (it is gone).
    pub fn forget(&self, uid: &str) {
        self.0.lock().retain(|(u, _, _), _| u != uid);
    }
}

/// How a referring kind names streams and tells whether an object already uses one.
pub trait Referring:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The KinesisStreams `self` names.
    fn stream_refs(&self) -> Vec<ObjectReference>;
    /// Whether `self` is Ready at its generation using the stream whose ARN is `arn`: a
    /// change of that stream that leaves it Ready with this ARN needs no pass.
    fn settled_with(&self, arn: &str) -> bool;
}

/// What a reference to `stream` resolves to, as a hash: the watch's predicate, so that only
/// a change of it triggers the referring objects.
fn reference_state(stream: &DeserializeGuard<KinesisStream>) -> Option<u64> {
    let mut h = DefaultHasher::new();
    stream.meta().uid.hash(&mut h);
    stream.meta().deletion_timestamp.is_some().hash(&mut h);
    released(stream.meta()).hash(&mut h);
    if let Ok(stream) = &stream.0 {
        ready_arn(stream).hash(&mut h);
        stream
            .status
            .as_ref()
            .and_then(|s| s.common.arn.as_deref())
            .hash(&mut h);
        stream.annotations().get(ALLOW_REFERENCES_FROM).hash(&mut h);
    }
    Some(h.finish())
}

/// Whether a stream being deleted has been released by its finalizers, that is, is gone: only
/// a deletion event marked by [`mark_released`] says so.
fn released(meta: &kube::core::ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some() && meta.finalizers.as_ref().is_none_or(Vec::is_empty)
}

/// Marks the stream of a deletion event as released (a deletion time, no finalizer left).
///
/// The API server's deletion event carries the object as it was last stored, still holding
/// the finalizer whose removal deleted it: the predicate could not tell it from the "being
/// deleted" update before it and would drop it, and the objects naming the stream would go on
/// saying it is being deleted until their next resync instead of saying it no longer exists.
fn mark_released(
    event: watcher::Event<DeserializeGuard<KinesisStream>>,
) -> watcher::Event<DeserializeGuard<KinesisStream>> {
    match event {
        watcher::Event::Delete(mut stream) => {
            let meta = stream.meta_mut();
            meta.finalizers = None;
            meta.deletion_timestamp.get_or_insert_with(|| {
                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::now(),
                )
            });
            watcher::Event::Delete(stream)
        }
        other => other,
    }
}

/// The ARN of `stream` when it [serves](serves) the objects naming it and is not being deleted.
fn ready_arn(stream: &KinesisStream) -> Option<&str> {
    (stream.meta().deletion_timestamp.is_none() && serves(stream))
        .then(|| stream.status.as_ref().and_then(|s| s.common.arn.as_deref()))
        .flatten()
}

/// Adds to `controller` the watch of KinesisStreams that reconciles the objects naming a
/// stream when what the reference resolves to changes.
pub fn watch_streams<K: Referring>(
    controller: Controller<DeserializeGuard<K>>,
    scope: &WatchScope<'_>,
) -> Controller<DeserializeGuard<K>> {
    let store = controller.store();
    let streams = watcher(
        scope.api::<DeserializeGuard<KinesisStream>>(),
        watcher::Config::default(),
    )
    .default_backoff()
    .map_ok(mark_released)
    .touched_objects()
    .predicate_filter(reference_state, Default::default());
    let ctx = scope.ctx.clone();
    controller.watches_stream(streams, move |stream| match &stream.0 {
        Ok(stream) => referring(&store, stream, &ctx.resolutions),
        Err(_) => Vec::new(),
    })
}

/// The objects in `store` that name `stream` and are not already settled with it: what a
/// KinesisStream watch maps a changed stream to. An object is settled when its status says it
/// is Ready using the stream's ARN, or when a pass at its generation (finished, or running
/// now) resolved the reference to that ARN ([`Resolutions`]).
pub fn referring<K: Referring>(
    store: &Store<DeserializeGuard<K>>,
    stream: &KinesisStream,
    resolutions: &Resolutions,
) -> Vec<ObjectRef<DeserializeGuard<K>>> {
    let (Some(namespace), name) = (stream.namespace(), stream.name_any()) else {
        return Vec::new();
    };
    let arn = ready_arn(stream);
    store
        .state()
        .iter()
        .filter(|guard| {
            let Ok(obj) = &guard.0 else {
                return false;
            };
            let from = obj.namespace().unwrap_or_default();
            let names = obj.stream_refs().iter().any(|r| {
                let (ns, n) = target(r, &from);
                ns == namespace && n == name
            });
            let settled = |arn: &str| {
                obj.settled_with(arn)
                    || resolutions.used(
                        &obj.uid().unwrap_or_default(),
                        obj.meta().generation,
                        &namespace,
                        &name,
                        arn,
                    )
            };
            names && !arn.is_some_and(settled)
        })
        .map(|guard| ObjectRef::from_obj(guard.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
    use kube::core::ObjectMeta;

    use super::*;
    use crate::api::delivery_stream::{DeliveryStream, DeliveryStreamStatus};
    use crate::api::kinesis_stream::{KinesisStreamSpec, KinesisStreamStatus};
    use crate::api::shared::CommonStatus;

    const ARN: &str = "arn:aws:kinesis:us-west-2:123456789012:stream/clickstream";

    fn stream(namespace: &str, ready: bool, allow: Option<&str>) -> KinesisStream {
        let spec: KinesisStreamSpec =
            serde_json::from_value(serde_json::json!({"shardCount": 1})).expect("a minimal spec");
        let mut s = KinesisStream::new("clickstream", spec);
        s.metadata = ObjectMeta {
            name: Some("clickstream".into()),
            namespace: Some(namespace.into()),
            generation: Some(3),
            annotations: allow.map(|a| [(ALLOW_REFERENCES_FROM.to_owned(), a.to_owned())].into()),
            ..Default::default()
        };
        s.status = Some(KinesisStreamStatus {
            common: CommonStatus {
                arn: Some(ARN.into()),
                observed_generation: Some(3),
                conditions: vec![Condition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    reason: "Active".into(),
                    message: String::new(),
                    last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
                    observed_generation: Some(3),
                }],
                ..Default::default()
            },
            ..Default::default()
        });
        s
    }

    /// A stream that was Ready, with a newer spec it is converging on, in AWS status
    /// `aws_status`.
    fn converging(aws_status: Option<&str>) -> KinesisStream {
        let mut s = stream("data", false, None);
        s.metadata.generation = Some(4);
        let status = s.status.as_mut().expect("a status");
        status.stream_status = aws_status.map(str::to_owned);
        if aws_status == Some("CREATING") {
            status.common.arn = None;
        }
        s
    }

    fn reference(namespace: Option<&str>) -> ObjectReference {
        ObjectReference {
            name: "clickstream".into(),
            namespace: namespace.map(str::to_owned),
        }
    }

    #[test]
    fn references_resolve_to_the_arn_when_the_stream_serves_and_allows_them() {
        let waiting = |m: &str| Resolved::Waiting(m.to_owned());
        let cases = [
            (
                "same namespace, ready",
                reference(None),
                Some(stream("data", true, None)),
                Resolved::Arn(ARN.into()),
            ),
            (
                "same namespace, not ready",
                reference(None),
                Some(stream("data", false, None)),
                waiting("waiting for KinesisStream data/clickstream to be Ready"),
            ),
            (
                "its newer spec not applied yet, the stream ACTIVE",
                reference(None),
                Some(converging(Some("ACTIVE"))),
                Resolved::Arn(ARN.into()),
            ),
            (
                "re-sharding for its newer spec (UPDATING)",
                reference(None),
                Some(converging(Some("UPDATING"))),
                Resolved::Arn(ARN.into()),
            ),
            (
                "being created",
                reference(None),
                Some(converging(Some("CREATING"))),
                waiting("waiting for KinesisStream data/clickstream to be Ready"),
            ),
            (
                "missing",
                reference(None),
                None,
                waiting("waiting for KinesisStream data/clickstream: it does not exist"),
            ),
            (
                "other namespace, allowed by name",
                reference(Some("shared")),
                Some(stream("shared", true, Some("web, data"))),
                Resolved::Arn(ARN.into()),
            ),
            (
                "other namespace, allowed for all",
                reference(Some("shared")),
                Some(stream("shared", true, Some("*"))),
                Resolved::Arn(ARN.into()),
            ),
        ];
        for (what, r, s, expected) in cases {
            assert_eq!(resolve(&r, "data", s.as_ref()), expected, "{what}");
        }
    }

    #[test]
    fn a_reference_into_another_namespace_needs_the_streams_consent() {
        for allow in [None, Some("web"), Some("")] {
            let s = stream("shared", true, allow);
            let Resolved::Refused(message) = resolve(&reference(Some("shared")), "data", Some(&s))
            else {
                panic!("refused without consent ({allow:?})");
            };
            assert_eq!(
                message,
                "KinesisStream shared/clickstream does not allow references from namespace data: \
                 annotate it with kinesis.operator.dev/allow-references-from: data (or reference a stream of namespace data)"
            );
        }
    }

    #[test]
    fn a_stream_being_deleted_is_waited_for() {
        let mut s = stream("data", true, None);
        s.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        assert_eq!(
            resolve(&reference(None), "data", Some(&s)),
            Resolved::Waiting(
                "waiting for KinesisStream data/clickstream: it is being deleted".into()
            )
        );
    }

    #[test]
    fn only_what_a_reference_depends_on_triggers_the_referring_objects() {
        let hash = |s: &KinesisStream| reference_state(&DeserializeGuard(Ok(s.clone())));
        let ready = stream("team", true, None);
        let before = hash(&ready);
        let mut scaled = ready.clone();
        scaled.status.as_mut().unwrap().open_shard_count = Some(2);
        assert_eq!(
            hash(&scaled),
            before,
            "a status change that is not readiness"
        );
        let mut allowed = ready.clone();
        allowed
            .annotations_mut()
            .insert(ALLOW_REFERENCES_FROM.into(), "web".into());
        assert_ne!(hash(&allowed), before, "consent given");
        assert_ne!(hash(&stream("team", false, None)), before, "readiness lost");
        let mut renamed = ready.clone();
        renamed.status.as_mut().unwrap().common.arn = Some("arn:other".into());
        assert_ne!(hash(&renamed), before, "another ARN");
        let mut deleting = ready.clone();
        deleting.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        assert_ne!(hash(&deleting), before, "deletion");
        deleting.metadata.finalizers = Some(vec!["kinesis.operator.dev/cleanup".into()]);
        // The deletion event carries the object as last stored, finalizer included.
        let watcher::Event::Delete(DeserializeGuard(Ok(gone))) = mark_released(
            watcher::Event::Delete(DeserializeGuard(Ok(deleting.clone()))),
        ) else {
            panic!("a deletion stays a deletion");
        };
        assert_ne!(hash(&gone), hash(&deleting), "deleted: gone at last");
        let watcher::Event::Delete(DeserializeGuard(Ok(gone))) =
            mark_released(watcher::Event::Delete(DeserializeGuard(Ok(ready.clone()))))
        else {
            panic!("a deletion stays a deletion");
        };
        assert_ne!(hash(&gone), before, "deleted without a finalizer");
    }

    /// A DeliveryStream in namespace `team` reading `clickstream`, Ready at its generation
    /// reading `source_arn` when that is given.
    fn delivery(name: &str, source_arn: Option<&str>) -> DeliveryStream {
        let spec = serde_json::from_value(serde_json::json!({
            "source": {"kinesisStream": {"streamRef": {"name": "clickstream"},
                "roleARN": "arn:aws:iam::000000000000:role/firehose"}},
            "destination": {"s3": {"bucketARN": "arn:aws:s3:::b",
                "roleARN": "arn:aws:iam::000000000000:role/firehose"}}
        }))
        .expect("a delivery stream spec");
        let mut d = DeliveryStream::new(name, spec);
        d.metadata.namespace = Some("team".into());
        d.metadata.uid = Some(name.into());
        d.metadata.generation = Some(1);
        d.status = source_arn.map(|arn| DeliveryStreamStatus {
            common: CommonStatus {
                observed_generation: Some(1),
                conditions: vec![Condition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    reason: "Active".into(),
                    message: String::new(),
                    last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
                    observed_generation: Some(1),
                }],
                ..Default::default()
            },
            source_stream_arn: Some(arn.into()),
            ..Default::default()
        });
        d
    }

    #[test]
    fn a_stream_change_wakes_the_objects_naming_it_that_are_not_settled_with_it() {
        let (store, mut writer) = kube::runtime::reflector::store();
        let resolutions = Resolutions::default();
        for d in [
            delivery("settled", Some(ARN)),
            delivery("waiting", None),
            delivery(
                "stale",
                Some("arn:aws:kinesis:us-west-2:123456789012:stream/old"),
            ),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(DeserializeGuard(Ok(d))));
        }
        let woken = |s: &KinesisStream| {
            let mut names: Vec<String> = referring(&store, s, &resolutions)
                .into_iter()
                .map(|r| r.name)
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            woken(&stream("team", true, None)),
            ["stale", "waiting"],
            "Ready: the one already reading it is left alone"
        );
        assert_eq!(
            woken(&stream("team", false, None)),
            ["settled", "stale", "waiting"],
            "not Ready: every one reports it"
        );
        assert!(
            woken(&stream("elsewhere", true, Some("*"))).is_empty(),
            "another stream"
        );
        // A pass of "waiting" (still running: its status is not written) read the stream
        // Ready: the stream's Ready event does not queue a second pass.
        let waiting = delivery("waiting", None);
        let arn = Resolved::Arn(ARN.into());
        resolutions.record(&waiting, "team", "clickstream", &arn);
        assert_eq!(
            woken(&stream("team", true, None)),
            ["stale"],
            "resolved in flight"
        );
        let mut changed = waiting.clone();
        changed.metadata.generation = Some(2);
        writer.apply_watcher_event(&watcher::Event::Apply(DeserializeGuard(Ok(changed))));
        assert_eq!(
            woken(&stream("team", true, None)),
            ["stale", "waiting"],
            "resolved for an older generation"
        );
        let waited = Resolved::Waiting("waiting".into());
        resolutions.record(&waiting, "team", "clickstream", &waited);
        resolutions.record(&delivery("stale", None), "team", "clickstream", &arn);
        resolutions.forget("stale");
        assert_eq!(
            woken(&stream("team", true, None)),
            ["stale", "waiting"],
            "a later pass that waited, or an object gone, is forgotten"
        );
    }
}
