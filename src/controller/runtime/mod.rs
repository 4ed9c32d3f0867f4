//! The runtime every kind shares, so that a kind's folder holds its AWS logic alone.
//!
//! A kind implements [`Reconciler`]: its AWS name, region and deletion policy, one
//! [`converge`](Reconciler::converge) step that observes AWS and takes the next step toward
//! the spec, one [`delete`](Reconciler::delete) step, and the status fields it adds to the
//! common ones. The runtime does the rest, the same way for every kind:
//!
//! - [`watch`]: the watch with its predicate (only changes a reconcile must act on trigger
//!   one) and reflector, and a hook for extra watches (references between kinds);
//! - [`finalizer`]: the finalizer and deletion flow, objects that cannot be decoded, the
//!   error policy with per-object backoff, and metrics;
//! - [`events`]: the Kubernetes events of AWS changes and errors, `DriftCorrected` included;
//! - [`status`]: the kstatus conditions with observedGeneration, written with server-side
//!   apply only when something but timestamps changed;
//! - [`outcome`]: what a step concluded and when to look again;
//! - [`pass`]: the inputs of a kind's converge pass, one shape for every kind;
//! - [`observe`]: a pass's first steps: find (or create) the resource and look at it;
//! - [`tagging`]: claiming a resource by its ownership tags and keeping its tags the spec's.
//!
//! Starting a kind is one line: `runtime::run(KindReconciler, ctx, namespace, concurrency,
//! shutdown)` (see [`crate::controller::run`]).

pub mod events;
pub mod finalizer;
pub mod identity;
pub mod kube_words;
pub mod observe;
pub mod outcome;
pub mod ownership;
pub mod pass;
pub mod reconciler;
pub mod recorder;
pub mod status;
pub mod tagging;
pub mod watch;
#[cfg(test)]
pub mod words;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::api::shared::Placement;

pub use self::events::Note;
pub use self::outcome::{Fresh, Observed, Outcome, Requeue, Tracked};
pub use self::pass::Pass;
pub use self::reconciler::{Deletion, KindStatus, Reconciler, Removal, Step};
pub use self::watch::{WatchScope, run};
use super::backoff::Backoff;
use super::context::Context;
use crate::aws::errors::AwsCallError;

/// Finalizer that holds an object until its AWS resource is gone (every kind uses it).
pub const FINALIZER: &str = "kinesis.operator.dev/cleanup";

/// What can go wrong in a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    /// Reading or writing the object failed.
    #[error("writing status of {name}: {words}", name = .0, words = kube_words::kube_words(.1))]
    Kube(String, #[source] kube::Error),
    /// Deletion is under way; the finalizer stays until AWS reports the resource gone.
    #[error("{noun} {name} is being deleted")]
    Deleting {
        /// What the AWS resource is, e.g. `stream`.
        noun: &'static str,
        /// Its AWS name.
        name: String,
    },
    /// The finalizer machinery failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// A short label for metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Aws(e) => e.class.as_str(),
            Error::Kube(..) => "kubernetes",
            Error::Deleting { .. } => "deleting",
            Error::Finalizer(_) => "finalizer",
        }
    }
}

/// A kind's controller state: its reconciler, the shared context, what this process knows of
/// each object's AWS resource (by UID), and each object's failure count.
pub struct State<R: Reconciler> {
    reconciler: R,
    ctx: Arc<Context>,
    tracked: Mutex<HashMap<String, Tracked<R::Known>>>,
    backoff: Backoff,
    /// Reconciles running now, so that a stop waits for them and for nothing else.
    in_flight: AtomicUsize,
}

/// Counts a reconcile as running while it lives.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Running(count)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<R: Reconciler> State<R> {
    /// State of `reconciler` over `ctx`.
    pub fn new(reconciler: R, ctx: Arc<Context>) -> Self {
        State {
            reconciler,
            ctx,
            tracked: Mutex::new(HashMap::new()),
            backoff: Backoff::default(),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Whether a reconcile is running.
    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) > 0
    }

    /// The region of `obj`: its `spec.region`, else the operator's.
    fn region_of(&self, obj: &R::Object) -> String {
        obj.region()
            .map(str::to_owned)
            .unwrap_or_else(|| self.ctx.settings.region.clone())
    }
}
