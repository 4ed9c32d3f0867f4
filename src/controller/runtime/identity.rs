//! What a process verified of an object's AWS resource between passes, for every kind whose
//! resource has an ARN and a creation time: which resource is the object's own, whether this
//! process created it, and when the parts Describe does not show (tags and the like) were last
//! read. A resource recognised here costs no tag read per pass; one not recognised yet (after a
//! restart, or made by someone else) is checked by its ownership tags.

use std::time::{Duration, Instant};

/// A resource as Describe shows it: its ARN and creation time identify it.
pub trait Described {
    /// The ARN.
    fn arn(&self) -> &str;
    /// When it was created (epoch seconds, as AWS reports it).
    fn created_at(&self) -> i64;
}

/// What a kind remembers of its resource that holds its [`Identity`].
pub trait KnownIdentity {
    /// The identity.
    fn identity_mut(&mut self) -> &mut Identity;
}

/// The verified identity of an object's AWS resource.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// ARN and creation time of the resource verified as the object's own (by its ownership
    /// tags, or because this process created it).
    owned: Option<(String, i64)>,
    /// This process created the resource; its identity is taken on the first describe.
    created: bool,
    /// When the parts Describe does not show were last read, and for which generation.
    deep: Option<(Instant, Option<i64>)>,
}

impl Identity {
    /// The identity of a resource this process has just created for `generation` (with the
    /// tags it asked for: nothing to read back).
    pub fn created(generation: Option<i64>) -> Self {
        Identity {
            owned: None,
            created: true,
            deep: Some((Instant::now(), generation)),
        }
    }

    /// Whether a pass should create the resource without describing it first: status shows
    /// no ARN (`status_arn`) and this process has neither verified nor created one.
    pub fn never_seen(&self, status_arn: Option<&str>) -> bool {
        status_arn.is_none() && self.owned.is_none() && !self.created
    }

    /// Takes the identity Describe shows of a resource this process created.
    pub fn described(&mut self, arn: &str, created_at: i64) {
        if self.created && self.owned.is_none() {
            self.owned = Some((arn.to_owned(), created_at));
        }
    }

    /// Whether the resource with `arn`, created at `created_at`, is the one verified as the
    /// object's own (a resource re-created under the same name is not).
    pub fn owns(&self, arn: &str, created_at: i64) -> bool {
        self.owned
            .as_ref()
            .is_some_and(|(a, c)| a == arn && *c == created_at)
    }

    /// Records that the ownership tags showed the resource to be the object's own.
    pub fn verified(&mut self, arn: &str, created_at: i64) {
        self.owned = Some((arn.to_owned(), created_at));
    }

    /// Whether the parts Describe does not show are to be read in this pass: the resource is
    /// not verified, they were read longer than `every` ago, or the object changed since.
    pub fn deep_due(
        &self,
        arn: &str,
        created_at: i64,
        every: Duration,
        generation: Option<i64>,
    ) -> bool {
        !self.owns(arn, created_at)
            || self
                .deep
                .is_none_or(|(at, g)| at.elapsed() >= every || g != generation)
    }

    /// Records that they were read (and match the spec of `generation`).
    pub fn deep_done(&mut self, generation: Option<i64>) {
        self.deep = Some((Instant::now(), generation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_created_resource_is_owned_from_its_first_describe_and_not_after_a_re_creation() {
        let mut id = Identity::default();
        assert!(
            id.never_seen(None),
            "nothing known: create without describing"
        );
        assert!(
            !id.never_seen(Some(ARN)),
            "status shows an ARN: describe first"
        );
        id = Identity::created(Some(1));
        assert!(!id.never_seen(None), "created by this process");
        id.described(ARN, 100);
        assert!(id.owns(ARN, 100));
        assert!(
            !id.owns(ARN, 200),
            "the same name created again by someone else"
        );
        assert!(!id.deep_due(ARN, 100, HOUR, Some(1)), "tags just written");
        assert!(id.deep_due(ARN, 100, HOUR, Some(2)), "the object changed");
        assert!(
            id.deep_due(ARN, 200, HOUR, Some(1)),
            "not the verified resource"
        );
        assert!(
            id.deep_due(ARN, 100, Duration::ZERO, Some(1)),
            "due by time"
        );
    }

    #[test]
    fn a_resource_found_after_a_restart_is_owned_once_its_tags_are_read() {
        let mut id = Identity::default();
        id.described(ARN, 100);
        assert!(!id.owns(ARN, 100), "not created here: its tags decide");
        assert!(id.deep_due(ARN, 100, HOUR, Some(1)));
        id.verified(ARN, 100);
        id.deep_done(Some(1));
        assert!(id.owns(ARN, 100));
        assert!(!id.deep_due(ARN, 100, HOUR, Some(1)));
    }
}
