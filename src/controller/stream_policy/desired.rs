//! The document a StreamPolicy asks for: rendered from its `statements` once every stream
//! they name resolves to an ARN, or its raw `document` once it is known to be a JSON object.
//!
//! A stream named by `streamRef` is read from the API server on every pass (never from a
//! cache that may lag behind the stream's Ready condition); the KinesisStream watch of
//! [`super::StreamPolicies`] wakes a waiting policy as soon as the stream changes.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use kube::ResourceExt;

use super::render::{self, Grant};
use crate::api::stream_policy::StreamPolicy;
use crate::controller::policy_doc;
use crate::controller::references::{self, Resolutions, Resolved};

/// What the object's spec asks for, or why it cannot be sent to IAM yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Desired {
    /// The document to hold in IAM.
    Document(String),
    /// A named stream is missing or not Ready: what, in words.
    Waiting(String),
    /// A named stream refuses references from this namespace: what to do.
    Refused(String),
    /// `spec.document` is not a policy document: what is wrong and how to fix it.
    Invalid(String),
}

/// The desired document of `obj`, reading the KinesisStreams its statements name.
pub async fn document(
    obj: &StreamPolicy,
    client: &kube::Client,
    resolutions: &Resolutions,
) -> Result<Desired, kube::Error> {
    if let Some(doc) = &obj.spec.document {
        return Ok(match policy_doc::validate("spec.document", doc) {
            Ok(()) => Desired::Document(doc.clone()),
            Err(message) => Desired::Invalid(message),
        });
    }
    let Some(statements) = &obj.spec.statements else {
        return Ok(Desired::Invalid(
            "spec: set exactly one of statements (rendered by the operator) or document (a raw IAM policy)".to_owned(),
        ));
    };
    let from = obj.namespace().unwrap_or_default();
    // Each stream is read once per pass, however many statements name it.
    let mut resolved: BTreeMap<(String, String), Resolved> = BTreeMap::new();
    for reference in statements
        .iter()
        .flat_map(|s| &s.streams)
        .filter_map(|t| t.stream_ref.as_ref())
    {
        let (namespace, name) = references::target(reference, &from);
        let key = (namespace.to_owned(), name.to_owned());
        if let Entry::Vacant(slot) = resolved.entry(key) {
            slot.insert(references::stream_arn(client, resolutions, obj, reference).await?);
        }
    }
    Ok(assemble(obj, &from, &resolved))
}

/// The desired document from the resolved references (pure): refused wins over waiting, and
/// every stream that blocks is named.
pub fn assemble(
    obj: &StreamPolicy,
    from: &str,
    resolved: &BTreeMap<(String, String), Resolved>,
) -> Desired {
    let refused: Vec<&str> = resolved
        .values()
        .filter_map(|r| match r {
            Resolved::Refused(m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    if !refused.is_empty() {
        return Desired::Refused(refused.join("; "));
    }
    let waiting: Vec<&str> = resolved
        .values()
        .filter_map(|r| match r {
            Resolved::Waiting(m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    if !waiting.is_empty() {
        return Desired::Waiting(waiting.join("; "));
    }
    let grants: Vec<Grant> = obj
        .spec
        .statements
        .iter()
        .flatten()
        .map(|statement| Grant {
            streams: statement
                .streams
                .iter()
                .filter_map(|target| match (&target.stream_arn, &target.stream_ref) {
                    (Some(arn), _) => Some(arn.clone()),
                    (None, Some(reference)) => {
                        let (namespace, name) = references::target(reference, from);
                        match resolved.get(&(namespace.to_owned(), name.to_owned())) {
                            Some(Resolved::Arn(arn)) => Some(arn.clone()),
                            _ => None,
                        }
                    }
                    (None, None) => None,
                })
                .collect(),
            access: statement.access.clone(),
        })
        .collect();
    Desired::Document(render::render(&grants))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::stream_policy::StreamPolicySpec;

    const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks";
    const OTHER: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/other";

    fn policy(spec: serde_json::Value) -> StreamPolicy {
        let spec: StreamPolicySpec = serde_json::from_value(spec).expect("a valid spec");
        let mut p = StreamPolicy::new("p", spec);
        p.metadata.namespace = Some("data".into());
        p
    }

    fn key(ns: &str, name: &str) -> (String, String) {
        (ns.to_owned(), name.to_owned())
    }

    #[test]
    fn references_and_arns_render_into_one_document() {
        let p = policy(serde_json::json!({"statements": [
            {"streams": [{"streamRef": {"name": "clicks"}}], "access": ["Write"]},
            {"streams": [{"streamARN": OTHER}], "access": ["Describe"]}
        ]}));
        let resolved = [(key("data", "clicks"), Resolved::Arn(ARN.into()))].into();
        let Desired::Document(doc) = assemble(&p, "data", &resolved) else {
            panic!("every stream resolved");
        };
        let expected = render::render(&[
            Grant {
                streams: vec![ARN.into()],
                access: vec![crate::api::stream_policy::AccessLevel::Write],
            },
            Grant {
                streams: vec![OTHER.into()],
                access: vec![crate::api::stream_policy::AccessLevel::Describe],
            },
        ]);
        assert_eq!(doc, expected);
    }

    #[test]
    fn a_refused_reference_wins_over_a_waiting_one_and_each_is_named() {
        let p = policy(serde_json::json!({"statements": [
            {"streams": [{"streamRef": {"name": "a"}}, {"streamRef": {"name": "b", "namespace": "shared"}}], "access": ["Read"]}
        ]}));
        let waiting: BTreeMap<_, _> = [
            (key("data", "a"), Resolved::Waiting("wait a".into())),
            (key("shared", "b"), Resolved::Waiting("wait b".into())),
        ]
        .into();
        assert_eq!(
            assemble(&p, "data", &waiting),
            Desired::Waiting("wait a; wait b".into())
        );
        let refused: BTreeMap<_, _> = [
            (key("data", "a"), Resolved::Waiting("wait a".into())),
            (key("shared", "b"), Resolved::Refused("no".into())),
        ]
        .into();
        assert_eq!(
            assemble(&p, "data", &refused),
            Desired::Refused("no".into())
        );
    }
}
