//! The trait a kind implements to run on the shared runtime.
//!
//! A kind says what its objects are ([`Reconciler::Object`]), what it remembers of each
//! object's AWS resource between passes ([`Reconciler::Known`]), what a pass saw besides its
//! health ([`Reconciler::Report`]), and supplies two AWS steps: [`Reconciler::converge`] (observe
//! AWS, take the next step toward the spec) and [`Reconciler::delete`]. It never touches the
//! finalizer, conditions, events of errors, backoff or metrics: the runtime does, identically
//! for every kind.

use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::core::DeserializeGuard;
use kube::core::object::HasStatus;
use kube::runtime::Controller;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::events::Note;
use super::outcome::{Outcome, Tracked};
use super::watch::WatchScope;
use crate::api::shared::{CommonStatus, Placement};
use crate::aws::errors::AwsCallError;
use crate::controller::context::Context;

/// A kind's status type: the fields every kind reports ([`CommonStatus`]) plus its own.
pub trait KindStatus: Serialize + PartialEq + Clone + Send + Sync {
    /// The fields every kind reports.
    fn common(&self) -> &CommonStatus;
}

/// The inputs of one [`Reconciler::converge`] step.
pub struct Step<'a, R: Reconciler> {
    /// The object.
    pub obj: &'a R::Object,
    /// The shared context (AWS clients, settings).
    pub ctx: &'a Context,
    /// The object's region (`spec.region`, else the operator's).
    pub region: &'a str,
    /// What this process knew of the AWS resource; the step updates it.
    pub known: &'a mut Tracked<R::Known>,
    /// AWS changes the step made, published as events by the runtime.
    pub notes: &'a mut Vec<Note>,
    /// The time of the pass.
    pub now: Timestamp,
}

/// The inputs of one [`Reconciler::delete`] step.
pub struct Removal<'a, R: Reconciler> {
    /// The object being deleted.
    pub obj: &'a R::Object,
    /// The shared context.
    pub ctx: &'a Context,
    /// The object's region.
    pub region: &'a str,
    /// The AWS name of the resource.
    pub name: &'a str,
    /// What this process knew of the AWS resource, if anything.
    pub known: Option<&'a R::Known>,
    /// AWS changes the step made (the delete call), published as events by the runtime.
    pub notes: &'a mut Vec<Note>,
}

/// Where a deletion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// The AWS resource is gone, or was never the object's: the finalizer may go.
    Gone,
    /// AWS is still deleting it: look again soon.
    InProgress,
}

/// One kind of the API, reconciled against its AWS resource by the shared runtime.
///
/// Methods that take `&self` may use what the reconciler holds (for instance the store of a
/// kind its objects reference); the others read only the object.
pub trait Reconciler: Send + Sync + Sized + 'static {
    /// The custom resource.
    type Object: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus<Status: KindStatus>
        + Placement
        + Clone
        + Debug
        + DeserializeOwned
        + Serialize
        + Send
        + Sync
        + 'static;
    /// What this process remembers of an object's AWS resource between passes (its verified
    /// identity, values last read...), so that a pass can skip reads. Forgotten on deletion.
    type Known: Clone + Default + Send + Sync + 'static;
    /// What a step saw and wants reported besides the conditions (the kind's status
    /// fields). `Default` is "nothing seen": the runtime uses it when a step failed.
    type Report: Default + Send + Sync;

    /// The kind, e.g. `KinesisStream`: metrics labels, log spans and messages.
    const KIND: &'static str;
    /// What the AWS resource is called in messages, e.g. `stream`.
    const NOUN: &'static str;

    /// The AWS name of the object's resource (its name field, else `metadata.name`).
    fn aws_name(obj: &Self::Object) -> String;

    /// Observes the AWS resource and takes the next step toward the spec. An AWS error is
    /// returned as is: the runtime reports a terminal one as `Stalled` and backs off on the
    /// others.
    fn converge(
        &self,
        step: Step<'_, Self>,
    ) -> impl Future<Output = Result<Outcome<Self::Report>, AwsCallError>> + Send;

    /// Deletes the object's AWS resource if it is the object's own (never someone else's).
    fn delete(
        &self,
        removal: Removal<'_, Self>,
    ) -> impl Future<Output = Result<Deletion, AwsCallError>> + Send;

    /// The ARN `report` saw, if any (kept from the previous status otherwise).
    fn arn(report: &Self::Report) -> Option<String>;

    /// The status to report: `common` (ARN, region, observedGeneration, conditions) is the
    /// runtime's; the kind adds its own fields from `report`, starting from the object's
    /// previous status.
    fn build_status(
        obj: &Self::Object,
        common: CommonStatus,
        report: &Self::Report,
        now: Timestamp,
    ) -> <Self::Object as HasStatus>::Status;

    /// Adds watches beside the kind's own: changes of another resource mapped to objects of
    /// this kind, each mapped object then reconciled. The default adds none.
    ///
    /// A kind whose objects name another (a DeliveryStream naming its KinesisStream) uses it
    /// to be reconciled as soon as the named object changes, by looking the changed object up
    /// in its own store (`controller.store()`):
    ///
    /// ```ignore
    /// fn watches(&self, controller: Controller<DeserializeGuard<DeliveryStream>>, scope: &WatchScope<'_>)
    ///     -> Controller<DeserializeGuard<DeliveryStream>> {
    ///     let store = controller.store();
    ///     controller.watches(scope.api::<KinesisStream>(), Default::default(), move |stream| {
    ///         referring(&store, &stream) // the DeliveryStreams whose streamRef names it
    ///     })
    /// }
    /// ```
    fn watches(
        &self,
        controller: Controller<DeserializeGuard<Self::Object>>,
        scope: &WatchScope<'_>,
    ) -> Controller<DeserializeGuard<Self::Object>> {
        let _ = scope;
        controller
    }
}
