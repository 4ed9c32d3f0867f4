//! References between objects of this API (DESIGN §3.1): an object that names a
//! `KinesisStream` (a DeliveryStream's `streamRef`, a StreamPolicy's streams, an
//! AnalyticsApplication's `streamRefs`) waits, `Ready=False` with reason
//! `WaitingForDependency`, until the named stream is Ready, and then uses its ARN.
//!
//! The wait is not a poll: each referring kind watches KinesisStreams and maps a changed
//! stream to the objects naming it ([`referring`]), so they are reconciled as soon as it
//! becomes Ready. A reference into another namespace is refused unless the stream allows it
//! ([`ALLOW_REFERENCES_FROM`]), so that a team cannot point its pipeline at another team's
//! stream without that team's consent.

use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};

use crate::api::kinesis_stream::KinesisStream;
use crate::api::shared::{ALLOW_REFERENCES_FROM, ObjectReference};
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
    let status = stream.status.as_ref().map(|s| &s.common);
    match status.and_then(|s| s.arn.clone()) {
        Some(arn) if says_ready(status, stream.meta().generation) => Resolved::Arn(arn),
        _ => Resolved::Waiting(format!(
            "waiting for KinesisStream {namespace}/{name} to be Ready"
        )),
    }
}

/// Reads the stream `reference` names (from an object in `from`) and resolves it. A failed
/// read waits (it is retried with the object).
pub async fn stream_arn(
    client: &kube::Client,
    reference: &ObjectReference,
    from: &str,
) -> Result<Resolved, kube::Error> {
    let (namespace, name) = target(reference, from);
    let api: Api<KinesisStream> = Api::namespaced(client.clone(), namespace);
    let stream = api.get_opt(name).await?;
    Ok(resolve(reference, from, stream.as_ref()))
}

/// The objects in `store` that name `stream` through one of the references `refs` returns:
/// what a KinesisStream watch maps a changed stream to.
pub fn referring<K, I>(
    store: &Store<K>,
    stream: &KinesisStream,
    refs: impl Fn(&K) -> I,
) -> Vec<ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
    I: IntoIterator<Item = ObjectReference>,
{
    let (Some(namespace), name) = (stream.namespace(), stream.name_any()) else {
        return Vec::new();
    };
    store
        .state()
        .iter()
        .filter(|obj| {
            let from = obj.namespace().unwrap_or_default();
            refs(obj).into_iter().any(|r| {
                let (ns, n) = target(&r, &from);
                ns == namespace && n == name
            })
        })
        .map(|obj| ObjectRef::from_obj(obj.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
    use kube::core::ObjectMeta;

    use super::*;
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

    fn reference(namespace: Option<&str>) -> ObjectReference {
        ObjectReference {
            name: "clickstream".into(),
            namespace: namespace.map(str::to_owned),
        }
    }

    #[test]
    fn references_resolve_to_the_arn_only_when_ready_and_allowed() {
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
}
