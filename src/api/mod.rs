//! The custom resources of `kinesis.operator.dev/v1alpha1`: one module per kind, plus the types
//! they share. The CRDs in `crds/` are generated from these types (`make crds`).

pub mod analytics_application;
pub mod delivery_stream;
pub mod kinesis_stream;
pub mod shared;
pub mod stream_policy;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use analytics_application::{
    AnalyticsApplication, AnalyticsApplicationSpec, AnalyticsApplicationStatus,
};
pub use delivery_stream::{DeliveryStream, DeliveryStreamSpec, DeliveryStreamStatus};
pub use kinesis_stream::{KinesisStream, KinesisStreamSpec, KinesisStreamStatus};
pub use stream_policy::{StreamPolicy, StreamPolicySpec, StreamPolicyStatus};

shared::placed!(
    KinesisStream,
    DeliveryStream,
    StreamPolicy,
    AnalyticsApplication
);

/// API group of every kind.
pub const GROUP: &str = "kinesis.operator.dev";
/// API version of every kind.
pub const VERSION: &str = "v1alpha1";

/// Every CRD of the API, paired with the file name it is written to under `crds/`.
pub fn crds() -> Vec<(&'static str, CustomResourceDefinition)> {
    [
        ("kinesisstream.yaml", KinesisStream::crd()),
        ("deliverystream.yaml", DeliveryStream::crd()),
        ("analyticsapplication.yaml", AnalyticsApplication::crd()),
        ("streampolicy.yaml", StreamPolicy::crd()),
    ]
    .into_iter()
    .map(|(file, crd)| (file, unwrap_descriptions(crd)))
    .collect()
}

/// Doc comments are wrapped at 100 columns; `kubectl explain` re-wraps text itself, so each
/// paragraph of a description becomes one line (blank lines still separate paragraphs).
fn unwrap_descriptions(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(text) if key == "description" => {
                            *text = unwrap_paragraphs(text);
                        }
                        _ => walk(v),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&crd).expect("a CRD serialises to JSON");
    walk(&mut value);
    serde_json::from_value(value).expect("unwrapping descriptions keeps the CRD valid")
}

/// Joins the lines of each paragraph of `text` with spaces.
fn unwrap_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_single_lines() {
        assert_eq!(unwrap_paragraphs("a\nb\n\nc\nd"), "a b\n\nc d");
        assert_eq!(unwrap_paragraphs("one line"), "one line");
    }

    #[test]
    fn every_kind_is_namespaced_in_the_kinesis_category_with_its_short_name() {
        let expected = [
            ("KinesisStream", "kst"),
            ("DeliveryStream", "kdf"),
            ("AnalyticsApplication", "kaa"),
            ("StreamPolicy", "kpol"),
        ];
        let crds = crds();
        assert_eq!(crds.len(), expected.len());
        for (kind, short) in expected {
            let (_, crd) = crds
                .iter()
                .find(|(_, c)| c.spec.names.kind == kind)
                .unwrap_or_else(|| panic!("no CRD for {kind}"));
            assert_eq!(crd.spec.group, GROUP);
            assert_eq!(crd.spec.scope, "Namespaced");
            assert_eq!(
                crd.spec.names.short_names.as_deref(),
                Some(&[short.to_owned()][..])
            );
            assert_eq!(
                crd.spec.names.categories.as_deref(),
                Some(&["kinesis".to_owned()][..])
            );
            let version = &crd.spec.versions[0];
            assert_eq!(version.name, VERSION);
            assert!(
                version
                    .subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some()
            );
            let columns: Vec<_> = version
                .additional_printer_columns
                .iter()
                .flatten()
                .map(|c| c.name.as_str())
                .collect();
            assert_eq!(columns.first(), Some(&"Ready"), "{kind}");
            assert!(
                columns.contains(&"Status") && columns.contains(&"ARN") && columns.contains(&"Age"),
                "{kind}: {columns:?}"
            );
        }
    }
}
