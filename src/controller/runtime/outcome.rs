//! What a step concluded and when to look at the object again (pure).
//!
//! A step reports its [`Health`] (the conditions) and a [`Requeue`]: a resource in an AWS
//! transition is polled (every second at first, then less often as the transition lasts), a
//! step may ask for a given delay, and a settled object is looked at again at the resync
//! interval, or not until it changes when it is stalled.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use kube::runtime::controller::Action;

use crate::aws::errors::{AwsCallError, ErrorClass};
use crate::controller::conditions::Health;

/// How often a resource in a transition (CREATING, UPDATING, ...) is looked at again at first.
pub const POLL: Duration = Duration::from_secs(1);

/// What a pass saw of the object's AWS resource.
#[derive(Clone, Debug, Default)]
pub enum Observed<V> {
    /// Describe's answer.
    Seen(V),
    /// The resource does not exist (yet).
    Absent,
    /// The pass failed before it could look.
    #[default]
    Unknown,
}

impl<V> Observed<V> {
    /// The resource, when seen.
    pub fn view(&self) -> Option<&V> {
        match self {
            Observed::Seen(v) => Some(v),
            _ => None,
        }
    }
}

/// When to look at an object again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// Settled: at the resync interval (drift check), or only on change when stalled.
    Settled,
    /// In an AWS transition: soon, less often the longer it lasts.
    Poll,
    /// After this long.
    After(Duration),
}

/// What one step concluded.
#[derive(Debug)]
pub struct Outcome<R> {
    /// The conditions to report.
    pub health: Health,
    /// When to look again.
    pub requeue: Requeue,
    /// What the kind reports besides the conditions.
    pub report: R,
}

impl<R> Outcome<R> {
    /// Work under way in AWS: poll.
    pub fn progressing(report: R, reason: &str, message: String) -> Self {
        Outcome {
            requeue: Requeue::Poll,
            ..Outcome::reporting(
                report,
                Health::Progressing {
                    reason: reason.to_owned(),
                    message,
                },
            )
        }
    }

    /// Nothing changes until a human changes something.
    pub fn stalled(report: R, reason: &str, message: String) -> Self {
        Outcome::reporting(
            report,
            Health::Stalled {
                reason: reason.to_owned(),
                message,
            },
        )
    }

    /// The resource exists, is usable and matches the spec.
    pub fn ready(report: R, reason: &str, message: String) -> Self {
        Outcome::reporting(
            report,
            Health::Ready {
                reason: reason.to_owned(),
                message,
            },
        )
    }

    /// `health` with no requeue of its own.
    pub fn reporting(report: R, health: Health) -> Self {
        Outcome {
            health,
            requeue: Requeue::Settled,
            report,
        }
    }

    /// Whether the resource is in an AWS transition that is being polled.
    pub fn in_transition(&self) -> bool {
        matches!(self.health, Health::Progressing { .. }) && self.requeue == Requeue::Poll
    }
}

/// The action after a pass: `poll` is the current polling delay ([`Tracked::next_poll`]).
pub fn next_action(requeue: Requeue, health: &Health, poll: Duration, resync: Duration) -> Action {
    match requeue {
        Requeue::Poll => Action::requeue(poll),
        Requeue::After(after) => Action::requeue(after),
        Requeue::Settled if matches!(health, Health::Stalled { .. }) => Action::await_change(),
        Requeue::Settled => Action::requeue(resync),
    }
}

/// How long a Ready observation stays fresh ([`Fresh`]).
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// A resource as the last pass that found it Ready saw it, with the object generation and the
/// inputs (a referenced stream's ARN, a Secret's version) that pass used.
///
/// A pass that follows within [`FRESH_FOR`] at the same generation with the same inputs reuses
/// it instead of describing the resource again: such a pass is one that a referenced object's
/// watch event queued while the previous pass was running (the stream's Ready event arriving
/// after the pass had already read the stream Ready), and nothing it could act on changed.
#[derive(Clone, Debug)]
pub struct Fresh<V> {
    at: std::time::Instant,
    generation: Option<i64>,
    inputs: String,
    view: V,
}

impl<V: Clone> Fresh<V> {
    /// `view`, seen Ready now at `generation` with `inputs`.
    pub fn new(generation: Option<i64>, inputs: String, view: V) -> Self {
        Fresh {
            at: std::time::Instant::now(),
            generation,
            inputs,
            view,
        }
    }

    /// The view of `fresh` when it is still fresh for `generation` and `inputs`.
    pub fn reuse(fresh: Option<&Self>, generation: Option<i64>, inputs: &str) -> Option<V> {
        fresh
            .filter(|f| {
                f.generation == generation && f.inputs == inputs && f.at.elapsed() < FRESH_FOR
            })
            .map(|f| f.view.clone())
    }
}

/// What the runtime tracks of an object between passes: the kind's [`Known`] state (reached
/// through `Deref`), how long its current AWS transition has been polled, and the generation
/// last reported Ready.
///
/// [`Known`]: super::Reconciler::Known
#[derive(Clone, Debug, Default)]
pub struct Tracked<K> {
    known: K,
    /// Consecutive passes that found the resource in a transition.
    polls: u32,
    /// The object generation this process last reported Ready: a later change to AWS for the
    /// same generation corrects drift, even when a transient error in between (a throttled
    /// read) left the status saying Retrying.
    pub ready_generation: Option<i64>,
}

impl<K> Tracked<K> {
    /// Starts over with `known` (the step created the resource): a new transition begins.
    pub fn restart(&mut self, known: K) {
        self.known = known;
        self.polls = 0;
    }

    /// The kind's state.
    pub fn known(&self) -> &K {
        &self.known
    }

    /// How long to wait before looking at a resource in a transition again: every second at
    /// first, then less often for long transitions (AWS creates and re-shards take seconds to
    /// minutes), at most every 5 s. `in_transition` false resets the count.
    pub fn next_poll(&mut self, in_transition: bool) -> Duration {
        if !in_transition {
            self.polls = 0;
            return POLL;
        }
        self.polls = self.polls.saturating_add(1);
        match self.polls {
            0..=3 => POLL,
            4..=6 => POLL * 2,
            7..=9 => POLL * 4,
            _ => POLL * 5,
        }
    }
}

impl<K> Deref for Tracked<K> {
    type Target = K;

    fn deref(&self) -> &K {
        &self.known
    }
}

impl<K> DerefMut for Tracked<K> {
    fn deref_mut(&mut self) -> &mut K {
        &mut self.known
    }
}

/// What a failed AWS call leaves in the conditions, and the reason of the Warning event that
/// reports it: a terminal error is `Stalled` (`AWSError`) with AWS's code and message verbatim
/// (`deleting: ` first when the object is being deleted), anything else `Retrying` with the
/// call that failed.
pub fn failure(e: &AwsCallError, deleting: bool) -> (&'static str, Health) {
    if e.class == ErrorClass::Terminal {
        let during = if deleting { "deleting: " } else { "" };
        (
            "AWSError",
            Health::Stalled {
                reason: "AWSError".to_owned(),
                message: format!("{during}{}: {}", e.code, e.message),
            },
        )
    } else {
        (
            "Retrying",
            Health::Progressing {
                reason: "Retrying".to_owned(),
                message: e.to_string(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(kind: &str) -> Health {
        let (reason, message) = ("R".to_owned(), "m".to_owned());
        match kind {
            "ready" => Health::Ready { reason, message },
            "progressing" => Health::Progressing { reason, message },
            _ => Health::Stalled { reason, message },
        }
    }

    #[test]
    fn the_action_follows_the_requeue_and_the_health() {
        let poll = Duration::from_secs(2);
        let resync = Duration::from_secs(600);
        let wait = Duration::from_secs(7);
        let cases = [
            (Requeue::Poll, "progressing", Action::requeue(poll)),
            (Requeue::After(wait), "progressing", Action::requeue(wait)),
            (Requeue::After(wait), "stalled", Action::requeue(wait)),
            (Requeue::Settled, "ready", Action::requeue(resync)),
            (Requeue::Settled, "progressing", Action::requeue(resync)),
            (Requeue::Settled, "stalled", Action::await_change()),
        ];
        for (requeue, kind, expected) in cases {
            assert_eq!(
                next_action(requeue, &health(kind), poll, resync),
                expected,
                "{requeue:?} {kind}"
            );
        }
    }

    #[test]
    fn only_a_polled_progressing_outcome_is_a_transition() {
        let cases = [
            (Outcome::progressing((), "Creating", "m".into()), true),
            (
                Outcome {
                    requeue: Requeue::After(POLL),
                    ..Outcome::progressing((), "Retrying", "m".into())
                },
                false,
            ),
            (Outcome::stalled((), "ScalingLimit", "m".into()), false),
            (
                Outcome {
                    requeue: Requeue::Poll,
                    ..Outcome::stalled((), "ScalingLimit", "m".into())
                },
                false,
            ),
            (Outcome::ready((), "Active", "m".into()), false),
        ];
        for (outcome, expected) in cases {
            assert_eq!(outcome.in_transition(), expected, "{outcome:?}");
        }
    }

    #[test]
    fn polling_slows_down_in_long_transitions_and_resets() {
        let mut tracked = Tracked::<()>::default();
        let delays: Vec<u64> = (0..11).map(|_| tracked.next_poll(true).as_secs()).collect();
        assert_eq!(delays, [1, 1, 1, 2, 2, 2, 4, 4, 4, 5, 5]);
        assert_eq!(tracked.next_poll(false), POLL);
        assert_eq!(tracked.next_poll(true), POLL, "the count was reset");
        for _ in 0..5 {
            tracked.next_poll(true);
        }
        tracked.restart(());
        assert_eq!(
            tracked.next_poll(true),
            POLL,
            "a restart begins a new transition"
        );
    }

    #[test]
    fn a_failed_call_reads_as_aws_said_it() {
        let error = |class, code: &str, message: &str| AwsCallError {
            operation: "kinesis:CreateStream",
            code: code.to_owned(),
            message: message.to_owned(),
            class,
        };
        let stalled = |m: &str| Health::Stalled {
            reason: "AWSError".into(),
            message: m.into(),
        };
        let retrying = |m: &str| Health::Progressing {
            reason: "Retrying".into(),
            message: m.into(),
        };
        let limit = error(
            ErrorClass::Terminal,
            "LimitExceededException",
            "This request would exceed the shard limit for the account.",
        );
        let throttled = error(
            ErrorClass::Throttled,
            "ThrottlingException",
            "Rate exceeded",
        );
        let timeout = error(ErrorClass::Transient, "", "connection timed out");
        let cases = [
            (
                &limit,
                false,
                "AWSError",
                stalled(
                    "LimitExceededException: This request would exceed the shard limit for the account.",
                ),
            ),
            (
                &limit,
                true,
                "AWSError",
                stalled(
                    "deleting: LimitExceededException: This request would exceed the shard limit for the account.",
                ),
            ),
            (
                &throttled,
                false,
                "Retrying",
                retrying("kinesis:CreateStream failed: ThrottlingException: Rate exceeded"),
            ),
            (
                &throttled,
                true,
                "Retrying",
                retrying("kinesis:CreateStream failed: ThrottlingException: Rate exceeded"),
            ),
            (
                &timeout,
                false,
                "Retrying",
                retrying("kinesis:CreateStream failed: connection timed out"),
            ),
        ];
        for (e, deleting, reason, health) in cases {
            assert_eq!(
                failure(e, deleting),
                (reason, health),
                "{e} deleting={deleting}"
            );
        }
    }
}
