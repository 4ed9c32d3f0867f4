//! What every kind's converge pass works from, built from the runtime's [`Step`]: the object,
//! the shared context (the Kubernetes client and what references resolved to), the region,
//! the kind's AWS API, what this process knew (updated by the pass), the notes that become
//! events, how often the slow reads are repeated, and the time. A kind's `converge.rs`
//! names it as `type Pass<'a> = runtime::Pass<'a, TheKind, TheApi>` and adds its own steps in
//! an `impl Pass<'_>`, so the four kinds share one shape and no copy of it.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::{Note, Reconciler, Step, Tracked};
use crate::controller::context::Context;

/// The inputs of one converge pass of kind `R` against its AWS API `A`.
pub struct Pass<'a, R: Reconciler, A> {
    /// The object.
    pub obj: &'a R::Object,
    /// The shared context: the Kubernetes client (references, Secrets), what references
    /// resolved to, the settings.
    pub ctx: &'a Context,
    /// The object's region (`spec.region`, else the operator's).
    pub region: &'a str,
    /// The kind's AWS API in that region.
    pub aws: &'a A,
    /// What this process knew of the AWS resource; updated by the pass.
    pub known: &'a mut Tracked<R::Known>,
    /// AWS changes made, for events.
    pub notes: &'a mut Vec<Note>,
    /// How often what rarely changes (tags and the like) is read even if nothing changed:
    /// every this-many resync intervals.
    pub deep_every: Duration,
    /// The time of the pass.
    pub now: Timestamp,
}

impl<'a, R: Reconciler, A> Pass<'a, R, A> {
    /// The pass for `step` against `aws`, reading what rarely changes every
    /// `deep_every_resyncs` resync intervals.
    pub fn new(step: Step<'a, R>, aws: &'a A, deep_every_resyncs: u32) -> Self {
        Pass {
            obj: step.obj,
            ctx: step.ctx,
            region: step.region,
            aws,
            known: step.known,
            notes: step.notes,
            deep_every: step.ctx.settings.resync * deep_every_resyncs,
            now: step.now,
        }
    }
}
