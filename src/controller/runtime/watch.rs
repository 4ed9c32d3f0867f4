//! The watch of a kind and the controller over it.
//!
//! The reflector's store sees every change (status included, so requeued passes read the
//! latest), but reconciles are triggered only by what a reconcile must act on: generation,
//! finalizers, deletion, not the operator's own status writes. Objects are watched as
//! `DeserializeGuard`s, so one that cannot be decoded is reported instead of stopping the
//! watch. A kind adds watches of other resources through [`Reconciler::watches`].

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::{self, reflector};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use serde::de::DeserializeOwned;

use super::State;
use super::finalizer::{error_policy, reconcile};
use super::reconciler::Reconciler;
use crate::controller::context::Context;

/// What a kind's extra watches may use: the client, through [`WatchScope::api`], scoped to
/// the namespace the operator watches.
pub struct WatchScope<'a> {
    /// The shared context.
    pub ctx: &'a Arc<Context>,
    /// The namespace the operator watches; all when `None`.
    pub namespace: Option<&'a str>,
}

impl WatchScope<'_> {
    /// The API of kind `K` in the watched namespace (or all namespaces).
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + DeserializeOwned,
    {
        match self.namespace {
            Some(ns) => Api::namespaced(self.ctx.client.clone(), ns),
            None => Api::all(self.ctx.client.clone()),
        }
    }
}

/// The controller of kind `R` over its watch, with the kind's extra watches.
pub fn controller<R: Reconciler>(
    reconciler: &R,
    ctx: &Arc<Context>,
    namespace: Option<&str>,
) -> Controller<DeserializeGuard<R::Object>> {
    let scope = WatchScope { ctx, namespace };
    let api: Api<DeserializeGuard<R::Object>> = scope.api();
    let (reader, writer) = reflector::store();
    // managedFields are dropped before the store: the reconciler never reads them and they
    // are most of an object's size.
    let objects = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut DeserializeGuard<R::Object>| {
            o.meta_mut().managed_fields = None;
        });
    let changes = reflector(writer, objects)
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::finalizers)
                .combine(|o: &DeserializeGuard<R::Object>| {
                    o.meta().deletion_timestamp.as_ref().map(|_| 1)
                }),
            Default::default(),
        );
    reconciler.watches(Controller::for_stream(changes, reader), &scope)
}

/// Runs the controller of kind `R` until `shutdown` resolves, `concurrency` objects at a time.
pub async fn run<R: Reconciler>(
    reconciler: R,
    ctx: Arc<Context>,
    namespace: Option<&str>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    let controller = controller(&reconciler, &ctx, namespace);
    tracing::debug!(kind = R::KIND, namespace = ?namespace, "watching");
    let stopped = shutdown.clone();
    let state = Arc::new(State::new(reconciler, ctx));
    let running = controller
        .with_config(Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::<R>, error_policy::<R>, state.clone())
        .for_each(|_| async {});
    // After the shutdown, the controller is given what its reconciles in progress need, up
    // to SHUTDOWN_GRACE, and no more: a controller still starting its watch, or whose watch
    // keeps failing (its CRD missing, its RBAC denied), would not notice the shutdown by
    // itself, and a stop must always end well within a pod's grace period.
    tokio::select! {
        () = running => {}
        finished = async {
            stopped.await;
            let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
            while state.busy() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            !state.busy()
        } => {
            if !finished {
                tracing::warn!(kind = R::KIND, "the {} controller's reconciles did not finish within {} s of the shutdown; stopped them", R::KIND, SHUTDOWN_GRACE.as_secs());
            }
        }
    }
}

/// How long a controller may take to finish its reconciles after the shutdown signal: below
/// the 30 s a pod is given by default between SIGTERM and SIGKILL.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::jiff::Timestamp;
    use kube::ResourceExt;
    use kube::runtime::reflector::ObjectRef;

    use super::*;
    use crate::api::kinesis_stream::{KinesisStream, KinesisStreamStatus};
    use crate::api::shared::CommonStatus;
    use crate::aws::errors::AwsCallError;
    use crate::controller::context::Settings;
    use crate::controller::runtime::{Deletion, Outcome, Removal, Step};

    /// A kind whose objects are re-reconciled when a ConfigMap of their name changes: the
    /// shape a reference between kinds takes.
    #[derive(Default)]
    struct Referring {
        hooked: AtomicBool,
    }

    impl Reconciler for Referring {
        type Object = KinesisStream;
        type Known = ();
        type Report = ();
        const KIND: &'static str = "KinesisStream";
        const NOUN: &'static str = "stream";

        fn aws_name(obj: &KinesisStream) -> String {
            obj.name_any()
        }

        async fn converge(&self, _: Step<'_, Self>) -> Result<Outcome<()>, AwsCallError> {
            Ok(Outcome::ready((), "Active", String::new()))
        }

        async fn delete(&self, _: Removal<'_, Self>) -> Result<Deletion, AwsCallError> {
            Ok(Deletion::Gone)
        }

        fn arn(_: &()) -> Option<String> {
            None
        }

        fn build_status(
            _: &KinesisStream,
            common: CommonStatus,
            _: &(),
            _: Timestamp,
        ) -> KinesisStreamStatus {
            KinesisStreamStatus {
                common,
                ..Default::default()
            }
        }

        fn watches(
            &self,
            controller: Controller<DeserializeGuard<KinesisStream>>,
            scope: &WatchScope<'_>,
        ) -> Controller<DeserializeGuard<KinesisStream>> {
            self.hooked.store(true, Ordering::Relaxed);
            let store = controller.store();
            controller.watches(
                scope.api::<ConfigMap>(),
                watcher::Config::default(),
                move |cm: ConfigMap| {
                    store
                        .state()
                        .into_iter()
                        .filter(|o| o.meta().name == cm.metadata.name)
                        .map(|o| ObjectRef::from_obj(o.as_ref()))
                        .collect::<Vec<_>>()
                },
            )
        }
    }

    #[tokio::test]
    async fn a_kind_adds_watches_of_other_resources() {
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let ctx = Arc::new(Context::new(
            client,
            aws_config::SdkConfig::builder().build(),
            Settings {
                region: "us-east-1".into(),
                resync: std::time::Duration::from_secs(60),
                field_manager: "test".into(),
                pacing: crate::aws::rate_limit::Pacing::Off,
            },
        ));
        let reconciler = Referring::default();
        let controller = controller(&reconciler, &ctx, Some("ns"));
        assert!(reconciler.hooked.load(Ordering::Relaxed), "the hook ran");
        assert!(controller.store().is_empty(), "nothing watched yet");
    }
}
