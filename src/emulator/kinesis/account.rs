//! Account settings: the minimum throughput billing commitment that warm throughput needs
//! (DescribeAccountSettings, UpdateAccountSettings).

use super::model::*;
use super::{Ctx, Kinesis};
use crate::emulator::error::{AwsError, Validation};
use crate::emulator::protocol::Timestamp;

/// How long a commitment lasts at least once enabled.
const MINIMUM_COMMITMENT_MS: i64 = 24 * 3600 * 1000;

/// The commitment of an account in a region.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CommitmentState {
    /// When it was enabled.
    started_ms: Option<i64>,
    /// When it ends (or ended), once disabled.
    ends_ms: Option<i64>,
}

impl CommitmentState {
    /// True while the commitment is in force.
    pub fn enabled(&self, now: i64) -> bool {
        self.started_ms.is_some() && self.ends_ms.is_none_or(|end| now < end)
    }

    fn view(&self, now: i64) -> Option<Commitment> {
        let started = self.started_ms?;
        let earliest = started + MINIMUM_COMMITMENT_MS;
        let status = match self.ends_ms {
            None => "ENABLED",
            Some(end) if now < end => "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
            Some(_) => "DISABLED",
        };
        Some(Commitment {
            status,
            started_at: Some(Timestamp(started)),
            ended_at: self.ends_ms.map(Timestamp),
            earliest_allowed_end_at: Some(Timestamp(earliest)),
        })
    }
}

pub(super) fn describe(
    k: &Kinesis,
    ctx: &Ctx,
    _input: NoInput,
) -> Result<AccountSettingsOutput, AwsError> {
    let state = *k.region(ctx).commitment.lock();
    Ok(AccountSettingsOutput {
        minimum_throughput_billing_commitment: state.view(k.now()),
    })
}

pub(super) fn update(
    k: &Kinesis,
    ctx: &Ctx,
    input: UpdateAccountSettingsInput,
) -> Result<AccountSettingsOutput, AwsError> {
    let mut v = Validation::new();
    if v.required(
        "minimumThroughputBillingCommitment",
        &input.minimum_throughput_billing_commitment,
    ) {
        let status = &input
            .minimum_throughput_billing_commitment
            .as_ref()
            .expect("checked")
            .status;
        if v.required("minimumThroughputBillingCommitment.status", status) {
            v.one_of(
                "minimumThroughputBillingCommitment.status",
                status.as_deref().unwrap_or_default(),
                &["ENABLED", "DISABLED"],
            );
        }
    }
    v.finish()?;
    let enable = input
        .minimum_throughput_billing_commitment
        .and_then(|c| c.status)
        .is_some_and(|s| s == "ENABLED");
    let now = k.now();
    let region = k.region(ctx);
    let mut state = region.commitment.lock();
    if enable {
        if !state.enabled(now) {
            *state = CommitmentState {
                started_ms: Some(now),
                ends_ms: None,
            };
        } else {
            state.ends_ms = None;
        }
    } else if state.enabled(now) {
        let earliest = state.started_ms.unwrap_or(now) + MINIMUM_COMMITMENT_MS;
        state.ends_ms = Some(earliest.max(now));
    }
    Ok(AccountSettingsOutput {
        minimum_throughput_billing_commitment: state.view(now),
    })
}
