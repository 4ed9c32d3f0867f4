//! Prometheus metrics of the operator (served at `/metrics`): reconciles by kind and result,
//! reconcile duration, AWS calls by service, operation and outcome, and objects by condition.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a reconcile.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// Kind, e.g. `KinesisStream`.
    pub kind: String,
    /// `ok` or the error class.
    pub result: String,
}

/// Labels of an AWS call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AwsCallLabels {
    /// Service, e.g. `kinesis`.
    pub service: String,
    /// Operation, e.g. `CreateStream`.
    pub operation: String,
    /// `ok`, `throttled`, `transient`, `terminal` or `not_found`.
    pub outcome: String,
}

/// Labels of the objects-by-condition gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    /// Kind.
    pub kind: String,
    /// `Ready`, `Reconciling` or `Stalled`.
    pub condition: String,
}

/// Labels holding only the kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// Kind.
    pub kind: String,
}

/// The operator's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    aws_calls: Family<AwsCallLabels, Counter>,
    objects: Family<ConditionLabels, Gauge>,
    leader: Gauge,
    /// Condition of each object, by kind and UID, to keep the gauge exact.
    states: Mutex<HashMap<(String, String), String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kinesis_operator");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        let objects = Family::<ConditionLabels, Gauge>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and result",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration",
            duration.clone(),
        );
        registry.register(
            "aws_calls",
            "AWS calls by service, operation and outcome",
            aws_calls.clone(),
        );
        registry.register(
            "objects",
            "Objects by kind and condition that is True",
            objects.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica reconciles (it holds the leader-election Lease, or runs without leader election), 0 while it waits",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            duration,
            aws_calls,
            objects,
            leader,
            states: Mutex::new(HashMap::new()),
        }
    }
}

impl Metrics {
    /// Whether this replica reconciles now.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Counts a reconcile of `kind` that took `took` and ended with `result`.
    pub fn reconciled(&self, kind: &str, result: &str, took: Duration) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                kind: kind.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        self.duration
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts an AWS call; `operation` is `service:Operation`.
    pub fn aws_call(&self, operation: &str, outcome: &str) {
        let (service, operation) = operation.split_once(':').unwrap_or(("aws", operation));
        self.aws_calls
            .get_or_create(&AwsCallLabels {
                service: service.to_owned(),
                operation: operation.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records that object `uid` of `kind` is now in `condition` (`None` once deleted).
    pub fn object_condition(&self, kind: &str, uid: &str, condition: Option<&str>) {
        let mut states = self.states.lock();
        let key = (kind.to_owned(), uid.to_owned());
        let previous = match condition {
            Some(c) => states.insert(key, c.to_owned()),
            None => states.remove(&key),
        };
        if previous.as_deref() == condition {
            return;
        }
        let gauge = |c: &str| {
            self.objects.get_or_create(&ConditionLabels {
                kind: kind.to_owned(),
                condition: c.to_owned(),
            })
        };
        if let Some(p) = previous {
            gauge(&p).dec();
        }
        if let Some(c) = condition {
            gauge(c).inc();
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

impl crate::aws::call::CallCounter for Metrics {
    fn aws_call(&self, operation: &str, outcome: &str) {
        Metrics::aws_call(self, operation, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reconciles_calls_and_conditions() {
        let m = Metrics::default();
        m.reconciled("KinesisStream", "ok", Duration::from_millis(20));
        m.aws_call("kinesis:CreateStream", "ok");
        m.object_condition("KinesisStream", "u1", Some("Reconciling"));
        m.object_condition("KinesisStream", "u1", Some("Ready"));
        m.object_condition("KinesisStream", "u2", Some("Ready"));
        let text = m.encode();
        assert!(
            text.contains(
                r#"kinesis_operator_reconciles_total{kind="KinesisStream",result="ok"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"kinesis_operator_aws_calls_total{service="kinesis",operation="CreateStream",outcome="ok"} 1"#), "{text}");
        assert!(
            text.contains(r#"kinesis_operator_objects{kind="KinesisStream",condition="Ready"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"kinesis_operator_objects{kind="KinesisStream",condition="Reconciling"} 0"#
            ),
            "{text}"
        );
        m.object_condition("KinesisStream", "u2", None);
        assert!(
            m.encode()
                .contains(r#"kinesis_operator_objects{kind="KinesisStream",condition="Ready"} 1"#)
        );
    }
}
