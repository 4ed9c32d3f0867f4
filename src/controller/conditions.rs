//! The kstatus conditions every kind reports (`Ready`, `Reconciling`, `Stalled`), computed
//! from what a reconcile observed. `lastTransitionTime` only moves when a condition's status
//! changes, so writing the same state twice changes nothing.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// What a reconcile concluded about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// The AWS resource exists, is usable and matches the spec.
    Ready {
        /// Why, e.g. `Active`.
        reason: String,
        /// Details for humans.
        message: String,
    },
    /// Work is in progress (creating, updating, scaling, deleting, waiting for a dependency,
    /// retrying after a transient error).
    Progressing {
        /// Why, e.g. `Creating`, `Scaling`, `WaitingForDependency`.
        reason: String,
        /// Details for humans.
        message: String,
    },
    /// Nothing will change until a human changes something.
    Stalled {
        /// Why, e.g. `InvalidSpec`, `AlreadyExists`, `ScalingLimit`.
        reason: String,
        /// AWS's error code and text verbatim, or the operator's explanation.
        message: String,
    },
}

fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time: now.clone(),
    }
}

/// The conditions for `health`, keeping each previous `lastTransitionTime` whose status did
/// not change.
pub fn conditions(
    previous: &[Condition],
    health: &Health,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let now = Time(now);
    let mut out = match health {
        Health::Ready { reason, message } => vec![
            condition("Ready", true, reason, message, generation, &now),
            condition("Reconciling", false, reason, message, generation, &now),
            condition("Stalled", false, reason, message, generation, &now),
        ],
        Health::Progressing { reason, message } => vec![
            condition("Ready", false, reason, message, generation, &now),
            condition("Reconciling", true, reason, message, generation, &now),
            condition("Stalled", false, reason, message, generation, &now),
        ],
        Health::Stalled { reason, message } => vec![
            condition("Ready", false, reason, message, generation, &now),
            condition("Reconciling", false, reason, message, generation, &now),
            condition("Stalled", true, reason, message, generation, &now),
        ],
    };
    for c in &mut out {
        if let Some(old) = previous.iter().find(|p| p.type_ == c.type_)
            && old.status == c.status
        {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn kstatus_shapes() {
        let ready = conditions(
            &[],
            &Health::Ready {
                reason: "Active".into(),
                message: "ok".into(),
            },
            Some(3),
            at(10),
        );
        let status: Vec<_> = ready
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("Ready", "True"),
                ("Reconciling", "False"),
                ("Stalled", "False")
            ]
        );
        assert!(ready.iter().all(|c| c.observed_generation == Some(3)));
        let stalled = conditions(
            &[],
            &Health::Stalled {
                reason: "InvalidSpec".into(),
                message: "bad".into(),
            },
            Some(3),
            at(10),
        );
        let status: Vec<_> = stalled
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("Ready", "False"),
                ("Reconciling", "False"),
                ("Stalled", "True")
            ]
        );
    }

    #[test]
    fn transition_times_move_only_when_status_changes() {
        let creating = Health::Progressing {
            reason: "Creating".into(),
            message: "CREATING".into(),
        };
        let first = conditions(&[], &creating, Some(1), at(10));
        let again = conditions(&first, &creating, Some(1), at(20));
        assert_eq!(first, again, "same state, same conditions");
        let ready = conditions(
            &again,
            &Health::Ready {
                reason: "Active".into(),
                message: "ACTIVE".into(),
            },
            Some(1),
            at(30),
        );
        assert_eq!(ready[0].last_transition_time, Time(at(30)), "Ready flipped");
        assert_eq!(
            ready[2].last_transition_time,
            Time(at(10)),
            "Stalled stayed False"
        );
    }
}
