//! Kubernetes events: one for every AWS change a step made and one for every AWS error.
//!
//! A change made while the object was already Ready for its current generation corrects
//! drift (someone changed or deleted the AWS resource outside the operator): its event's
//! reason is `DriftCorrected`, with the change's own reason as the event's action.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};

use crate::controller::context::Context;

/// Event reason of a change that corrected drift.
pub const DRIFT_CORRECTED: &str = "DriftCorrected";

/// An AWS change a step made, for a Kubernetes event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Event reason, e.g. `Created`.
    pub reason: &'static str,
    /// Event action: the AWS operation or the change's kind; the reason unless said.
    pub action: &'static str,
    /// What was done.
    pub message: String,
    /// The change follows an input outside the spec (a rotated Secret), not drift in AWS: it
    /// keeps its own reason even on a Ready object.
    pub follows_input: bool,
}

impl Note {
    /// A change whose action is its reason.
    pub fn new(reason: &'static str, message: String) -> Self {
        Note {
            reason,
            action: reason,
            message,
            follows_input: false,
        }
    }

    /// A change with an action of its own, e.g. reason `Deleting`, action `DeleteStream`.
    pub fn with_action(reason: &'static str, action: &'static str, message: String) -> Self {
        Note {
            reason,
            action,
            message,
            follows_input: false,
        }
    }

    /// A change that follows an input outside the spec, e.g. a rotated Secret.
    pub fn following_input(reason: &'static str, action: &'static str, message: String) -> Self {
        Note {
            follows_input: true,
            ..Note::with_action(reason, action, message)
        }
    }
}

/// Whether changes made by a pass correct drift: the object's status said Ready for its
/// current generation (`was_ready`), or this process reported Ready for it
/// (`ready_generation`) and only a transient error came in between.
pub fn corrects_drift(
    was_ready: bool,
    generation: Option<i64>,
    ready_generation: Option<i64>,
) -> bool {
    was_ready || (generation.is_some() && ready_generation == generation)
}

/// The (reason, action) of a change's event.
pub fn reason_and_action(note: &Note, drift: bool) -> (&'static str, &'static str) {
    if drift && !note.follows_input {
        (DRIFT_CORRECTED, note.reason)
    } else {
        (note.reason, note.action)
    }
}

/// Publishes an event about the object `reference`; a failure to publish is logged, never
/// fatal.
pub async fn publish(
    ctx: &Context,
    reference: &ObjectReference,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, reference).await {
        tracing::warn!(object = ?reference.name, error = %super::kube_words::kube_words(&e), "publishing an event failed");
    }
}

/// Publishes the events of `notes`, as drift corrections when `drift`.
pub async fn publish_notes(
    ctx: &Context,
    reference: &ObjectReference,
    notes: Vec<Note>,
    drift: bool,
) {
    for note in notes {
        let (reason, action) = reason_and_action(&note, drift);
        publish(
            ctx,
            reference,
            EventType::Normal,
            reason,
            action,
            note.message,
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_after_ready_for_the_same_generation_corrects_drift() {
        // (status said Ready for this generation, generation, generation last reported Ready)
        let cases = [
            (false, Some(1), None, false),
            (true, Some(1), None, true),
            (false, Some(2), Some(2), true),
            (false, Some(3), Some(2), false),
            (true, Some(3), Some(2), true),
            (false, None, None, false),
        ];
        for (was_ready, generation, ready_generation, expected) in cases {
            assert_eq!(
                corrects_drift(was_ready, generation, ready_generation),
                expected,
                "{was_ready} {generation:?} {ready_generation:?}"
            );
        }
    }

    #[test]
    fn drift_takes_the_reason_and_keeps_the_change_as_the_action() {
        let created = Note::new("Created", "CreateStream s".into());
        let deleting = Note::with_action("Deleting", "DeleteStream", "DeleteStream s".into());
        let rotated = Note::following_input(
            "DestinationUpdated",
            "UpdateDestination",
            "UpdateDestination d (the access key changed in its Secret)".into(),
        );
        let cases = [
            (&created, false, ("Created", "Created")),
            (&created, true, ("DriftCorrected", "Created")),
            (&deleting, false, ("Deleting", "DeleteStream")),
            (&deleting, true, ("DriftCorrected", "Deleting")),
            (&rotated, true, ("DestinationUpdated", "UpdateDestination")),
        ];
        for (note, drift, expected) in cases {
            assert_eq!(reason_and_action(note, drift), expected, "{note:?} {drift}");
        }
    }
}
