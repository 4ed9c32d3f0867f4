//! The operator started in-process against a test's control plane and emulator, and helpers
//! to wait for what a user would see on its objects.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kinesis_operator::api::shared::CommonStatus;
use kinesis_operator::controller::context::{Context, Settings};
use kinesis_operator::controller::metrics::Metrics;
use kinesis_operator::controller::runtime::KindStatus;
use kinesis_operator::emulator::Emulator;
use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use serde_json::json;

use super::envtest::wait_for;

/// A running operator for one namespace, stopped when dropped.
pub struct Operator {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Every write request it sent to the API server, as `METHOD path`.
    writes: Arc<Mutex<Vec<String>>>,
}

/// A kube client service that records the write requests (every method but GET: watches and
/// reads are GETs) passing through it to `inner`, so that a test can count the Kubernetes
/// writes the operator makes (status patches, finalizers, events) as the bench does with the
/// API server's request counter, but for this operator alone.
#[derive(Clone)]
struct WriteRecorder {
    inner: kube::Client,
    writes: Arc<Mutex<Vec<String>>>,
}

impl tower_service::Service<http::Request<kube::client::Body>> for WriteRecorder {
    type Response = http::Response<kube::client::Body>;
    type Error = kube::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, kube::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), kube::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> Self::Future {
        if request.method() != http::Method::GET {
            self.writes.lock().unwrap().push(format!(
                "{} {}",
                request.method(),
                request.uri().path()
            ));
        }
        let inner = self.inner.clone();
        Box::pin(async move { inner.send(request).await })
    }
}

impl Operator {
    /// An operator with a 2 s resync and the default (adaptive) pacing of AWS calls.
    pub async fn start(client: kube::Client, emulator: &Emulator, namespace: &str) -> Operator {
        Operator::start_with(client, emulator, namespace, Duration::from_secs(2)).await
    }

    /// An operator with resync interval `resync`.
    pub async fn start_with(
        client: kube::Client,
        emulator: &Emulator,
        namespace: &str,
        resync: Duration,
    ) -> Operator {
        Operator::start_scoped(client, emulator, Some(namespace), resync).await
    }

    /// An operator watching `namespace`, or every namespace when `None`, with resync
    /// interval `resync`.
    pub async fn start_scoped(
        client: kube::Client,
        emulator: &Emulator,
        namespace: Option<&str>,
        resync: Duration,
    ) -> Operator {
        Operator::start_as(client, emulator, namespace, resync, ("AKIDTEST", "secret")).await
    }

    /// An operator as `start_scoped`, calling AWS with `credentials` (access key, secret).
    pub async fn start_as(
        client: kube::Client,
        emulator: &Emulator,
        namespace: Option<&str>,
        resync: Duration,
        credentials: (&str, &str),
    ) -> Operator {
        Operator::start_full(
            client,
            emulator,
            namespace,
            resync,
            credentials,
            "us-east-1",
        )
        .await
    }

    /// An operator as `start`, in `region` (`--region`): the tutorial's Flink SQL names
    /// `us-west-2` as its streams' region.
    pub async fn start_in(
        client: kube::Client,
        emulator: &Emulator,
        namespace: &str,
        region: &str,
    ) -> Operator {
        Operator::start_full(
            client,
            emulator,
            Some(namespace),
            Duration::from_secs(2),
            ("AKIDTEST", "secret"),
            region,
        )
        .await
    }

    async fn start_full(
        client: kube::Client,
        emulator: &Emulator,
        namespace: Option<&str>,
        resync: Duration,
        credentials: (&str, &str),
        region: &str,
    ) -> Operator {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                credentials.0,
                credentials.1,
                None,
                None,
                "test",
            )))
            .build();
        let writes = Arc::new(Mutex::new(Vec::new()));
        let namespace_default = client.default_namespace().to_owned();
        let client = kube::Client::new(
            WriteRecorder {
                inner: client,
                writes: writes.clone(),
            },
            namespace_default,
        );
        let ctx = Arc::new(Context::new(
            client,
            sdk,
            Settings {
                region: region.into(),
                resync,
                field_manager: "kinesis-operator".into(),
                pacing: kinesis_operator::aws::rate_limit::Pacing::Adaptive,
            },
        ));
        let metrics = ctx.metrics.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let namespace = namespace.map(str::to_owned);
        let task = tokio::spawn(async move {
            kinesis_operator::controller::run(ctx, namespace.as_deref(), 4, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Operator {
            stop: Some(stop),
            task,
            metrics,
            writes,
        }
    }

    /// The write requests (`METHOD path`) it sent to the API server so far: status patches,
    /// finalizers, events.
    pub fn kube_writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }

    /// Stops the operator and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// AWS calls made so far by operation (`CreateStream`, ...), whatever their outcome.
    pub fn aws_calls(&self) -> BTreeMap<String, u64> {
        counts(
            &self.metrics.encode(),
            "kinesis_operator_aws_calls_total",
            "operation",
        )
    }

    /// AWS calls made so far by operation that AWS throttled (every attempt counts).
    pub fn throttled_calls(&self) -> BTreeMap<String, u64> {
        let text = self.metrics.encode();
        let throttled: String = text
            .lines()
            .filter(|l| l.contains("outcome=\"throttled\""))
            .map(|l| format!("{l}\n"))
            .collect();
        counts(&throttled, "kinesis_operator_aws_calls_total", "operation")
    }

    /// Reconciles so far, whatever their result.
    pub fn reconciles(&self) -> u64 {
        counts(
            &self.metrics.encode(),
            "kinesis_operator_reconciles_total",
            "kind",
        )
        .values()
        .sum()
    }
}

/// Sums the samples of counter `name` in Prometheus text, by the value of label `label`.
pub fn counts(text: &str, name: &str, label: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(&format!("{name}{{"))) {
        let key = line
            .split(&format!("{label}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        let value: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        *out.entry(key).or_default() += value as u64;
    }
    out
}

/// An object of one of the operator's kinds, as the helpers below need it.
pub trait Kind:
    kube::Resource<DynamicType = ()>
    + HasStatus<Status: KindStatus>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
{
}

impl<K> Kind for K where
    K: kube::Resource<DynamicType = ()>
        + HasStatus<Status: KindStatus>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
{
}

/// The common status of `obj`, when it has one.
fn common<K: Kind>(obj: &K) -> Option<&CommonStatus> {
    obj.status().map(|s| s.common())
}

/// The condition `type_` of `obj`.
pub fn condition<'a, K: Kind>(obj: &'a K, type_: &str) -> Option<&'a Condition> {
    common(obj)?.conditions.iter().find(|c| c.type_ == type_)
}

/// Waits until `check` holds for the object, returning it.
pub async fn wait_until<K: Kind>(
    api: &Api<K>,
    name: &str,
    what: &str,
    check: impl Fn(&K) -> bool,
) -> K {
    let found = wait_for(Duration::from_secs(60), || async {
        api.get(name).await.ok().filter(|o| check(o))
    })
    .await;
    match found {
        Some(obj) => obj,
        None => {
            let last = api.get(name).await.map(|o| common(&o).cloned());
            panic!("{name}: {what} within 60 s; last seen: {last:?}")
        }
    }
}

/// Waits until object `name` no longer exists (its finalizer released it).
pub async fn wait_gone<K: Kind>(api: &Api<K>, name: &str, timeout: Duration, what: &str) {
    wait_for(timeout, || async {
        api.get_opt(name)
            .await
            .ok()
            .and_then(|o| o.is_none().then_some(()))
    })
    .await
    .expect(what);
}

/// Whether condition `type_` is True for the current generation.
fn holds<K: Kind>(o: &K, type_: &str) -> bool {
    condition(o, type_).is_some_and(|c| c.status == "True")
        && common(o).and_then(|s| s.observed_generation) == o.meta().generation
}

/// Ready=True for the current generation.
pub fn is_ready<K: Kind>(o: &K) -> bool {
    holds(o, "Ready")
}

/// Stalled=True.
pub fn is_stalled<K: Kind>(o: &K) -> bool {
    holds(o, "Stalled")
}

/// Ready=False with reason `reason` for the current generation.
pub fn is_waiting<K: Kind>(o: &K, reason: &str) -> bool {
    condition(o, "Ready").is_some_and(|c| c.status == "False" && c.reason == reason)
        && common(o).and_then(|s| s.observed_generation) == o.meta().generation
}

/// Server-side applies an object of `api`'s kind named `name` with `spec`.
pub async fn apply<K: Kind>(api: &Api<K>, name: &str, spec: serde_json::Value) {
    let obj = json!({"apiVersion": K::api_version(&()), "kind": K::kind(&()), "metadata": {"name": name}, "spec": spec});
    api.patch(
        name,
        &PatchParams::apply("test").force(),
        &Patch::Apply(&obj),
    )
    .await
    .unwrap_or_else(|e| panic!("applying {name}: {e}"));
}

/// The reasons of the events about object `name` in `ns`.
pub async fn event_reasons(client: kube::Client, ns: &str, name: &str) -> Vec<String> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client, ns);
    events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter_map(|e| e.reason)
        .collect()
}

/// The (reason, note, count) of the events about object `name` in `ns`, oldest first; a
/// series counts its repeats.
pub async fn event_notes(client: kube::Client, ns: &str, name: &str) -> Vec<(String, String, i32)> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client, ns);
    let mut items: Vec<_> = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect();
    items.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    items
        .into_iter()
        .map(|e| {
            (
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
                e.series.map_or(1, |s| s.count),
            )
        })
        .collect()
}

/// A client for ServiceAccount `namespace/name` allowed only `rules` (RBAC rules of a Role in
/// `namespace`), e.g. everything on its objects but their status: an operator that can create
/// AWS resources but dies, in effect, before its first status write.
pub async fn service_account_with_rules(
    cp: &super::envtest::ControlPlane,
    namespace: &str,
    name: &str,
    rules: serde_json::Value,
) -> kube::Client {
    let admin = cp.admin().await;
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": rules
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    });
    Api::<k8s_openapi::api::rbac::v1::Role>::namespaced(admin.clone(), namespace)
        .patch(name, &PatchParams::apply("test"), &Patch::Apply(&role))
        .await
        .unwrap_or_else(|e| panic!("applying Role {namespace}/{name}: {e}"));
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(admin, namespace)
        .patch(name, &PatchParams::apply("test"), &Patch::Apply(&binding))
        .await
        .unwrap_or_else(|e| panic!("applying RoleBinding {namespace}/{name}: {e}"));
    cp.service_account(namespace, name).await
}
