//! What a converge pass does first with its AWS resource, the same way for every kind whose
//! resource carries the ownership tags: find it ([`find_or_create!`]: creating it when this
//! process has never seen it, and again when it is gone) and look at it ([`Pass::look`]: take
//! the identity of one it created; when due, check by its tags whose it is). A kind's pass
//! starts with these two steps and goes on with its own.

use kube::Resource;
use kube::core::object::HasStatus;

use super::identity::{Described, KnownIdentity};
use super::reconciler::KindStatus;
use super::tagging::KnownTags;
use super::{Observed, Outcome, Pass, Reconciler};
use crate::aws::OwnedResource;
use crate::aws::errors::AwsCallError;

/// Runs a converge pass's first step in a kind's `impl Pass`: evaluates to `(view, created)`,
/// the resource `name` as Describe shows it and whether this pass created it, or returns the
/// pass's outcome. When this process has never seen the object's resource
/// ([`Pass::create_first`]), `create` (the kind's create step, an `Outcome` future) is sent
/// first, without a Describe before it: one that exists already (ours from before a crash, or
/// someone else's) answers `ResourceInUseException` and is looked at. Right after the create,
/// a resource Describe does not show yet ends the pass with the create's outcome; one that is
/// gone otherwise (deleted outside the operator) is created again. A macro, not a method,
/// because the step it takes twice is the kind's own and the pass returns from it.
macro_rules! find_or_create {
    ($pass:ident, $name:expr, $create:expr) => {{
        let mut created = None;
        if $pass.create_first() {
            created = $crate::controller::runtime::observe::unless_in_use($create.await)?;
        }
        match $crate::aws::OwnedResource::state($pass.aws, $name).await? {
            Some(view) => (view, created.is_some()),
            None => {
                return match created {
                    Some(creating) => Ok(creating),
                    None => $create.await,
                };
            }
        }
    }};
}
pub(crate) use find_or_create;

/// The outcome of a create sent before any Describe; `None` when the resource exists already
/// (`ResourceInUseException`: it is looked at instead).
pub fn unless_in_use<T>(created: Result<T, AwsCallError>) -> Result<Option<T>, AwsCallError> {
    match created {
        Ok(outcome) => Ok(Some(outcome)),
        Err(e) if e.code == "ResourceInUseException" => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a pass concluded from the resource Describe showed.
pub enum Looked<Report> {
    /// The object's own. `deep`: the parts Describe does not show (tags and the like) are due
    /// to be read in this pass (see [`Identity::deep_due`](super::identity::Identity::deep_due)).
    Own {
        /// Read the parts Describe does not show.
        deep: bool,
    },
    /// Someone else's: the pass ends `Stalled` (`AlreadyExists`) with this outcome.
    Refused(Outcome<Report>),
}

impl<R, A> Pass<'_, R, A>
where
    R: Reconciler,
    R::Known: KnownTags + KnownIdentity,
    R::Report: From<Observed<A::View>>,
    A: OwnedResource,
    A::View: Described,
{
    /// Whether the pass creates the resource without describing it first: status shows no
    /// ARN and this process has neither verified nor created one (see [`find_or_create!`]).
    pub fn create_first(&mut self) -> bool {
        let status_arn = self.obj.status().and_then(|s| s.common().arn.as_deref());
        self.known.identity_mut().never_seen(status_arn)
    }

    /// Takes what Describe showed of the resource `name`: the identity of one this process
    /// created; and when the parts Describe does not show are due, whose it is, by its
    /// ownership tags ([`Pass::claim`]: `what`, `adopt` and `name_field` as there). A
    /// resource found to be the object's own is recognised from then on without a tag read.
    pub async fn look(
        &mut self,
        name: &str,
        view: &A::View,
        what: &str,
        adopt: bool,
        name_field: &str,
    ) -> Result<Looked<R::Report>, AwsCallError> {
        let (arn, created_at) = (view.arn(), view.created_at());
        let generation = self.obj.meta().generation;
        let identity = self.known.identity_mut();
        identity.described(arn, created_at);
        let deep = identity.deep_due(arn, created_at, self.deep_every, generation);
        if deep {
            if let Some(message) = self.claim(name, what, adopt, name_field).await? {
                return Ok(Looked::Refused(Outcome::stalled(
                    Observed::Unknown.into(),
                    "AlreadyExists",
                    message,
                )));
            }
            self.known.identity_mut().verified(arn, created_at);
        }
        Ok(Looked::Own { deep })
    }
}
