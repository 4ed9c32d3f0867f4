//! One pass over an application: wait for the streams it names, observe AWS, then take the
//! next step toward the spec: create, update (with the current version id, in place when it
//! runs, as AWS does), start or stop per `desiredState`, tags.
//!
//! `desiredState: Running` is an intent that holds: an application this operator started
//! that is found READY again failed or was stopped outside the operator. AWS's latest
//! operation says which; a failure (Flink's own message) is reported in `status.lastFailure`
//! and the application is started again after a backoff (10 s, then 20 s), `Stalled` with
//! that message once it failed [`STALLED_AFTER`] times in a row, and then tried every 5
//! minutes until the spec changes. Starts resume
//! from the latest snapshot when snapshots are on. As for the other kinds, a settled resync is
//! one DescribeApplication and no write.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kube::Resource;

use super::application_name;
use crate::api::analytics_application::{AnalyticsApplication, DesiredState};
use crate::aws::analytics::{AnalyticsApi, AppSettings, AppView, LatestOperation, Restore};
use crate::aws::errors::AwsCallError;
use crate::controller::conditions::Health;
use crate::controller::references::{self, Resolved};
use crate::controller::runtime::identity::Identity;
use crate::controller::runtime::kube_words::read_error;
use crate::controller::runtime::observe::{Looked, find_or_create};
use crate::controller::runtime::ownership::{self};
use crate::controller::runtime::{Note, Observed, Outcome, Requeue};

/// How often an application whose references are refused looks again: the fix is made on
/// another object.
const INPUTS_RETRY: Duration = Duration::from_secs(20);

/// The first wait before starting again an application that failed; it doubles per failure
/// in a row, up to [`MAX_RESTART_WAIT`].
const FIRST_RESTART_WAIT: Duration = Duration::from_secs(10);

/// The longest wait between starts of an application that keeps failing.
const MAX_RESTART_WAIT: Duration = Duration::from_secs(300);

/// Failures in a row after which the application is reported `Stalled` (still started again
/// every [`MAX_RESTART_WAIT`]).
pub const STALLED_AFTER: u32 = 3;

/// What this process knows of an object's application between passes.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// Which application is the object's own; when its tags were last read.
    identity: Identity,
    /// Its tags as last read or written.
    tags: Option<BTreeMap<String, String>>,
    /// This process started the application (or saw it RUNNING) and expects it to run.
    expect_running: bool,
    /// Failures in a row, at generation `failed_generation`.
    failures: u32,
    /// The generation the failures were counted at: a new spec starts the count again.
    failed_generation: Option<i64>,
    /// Not started again before this.
    retry_at: Option<Instant>,
    /// The latest failure, in AWS's (Flink's) words.
    failure: Option<String>,
}

/// What a pass reports besides the conditions.
#[derive(Debug, Default)]
pub struct Report {
    /// What it saw.
    pub observed: Observed<AppView>,
    /// `status.lastFailure`: `Some` sets it (`Some(None)` clears it), `None` keeps it.
    pub failure: Option<Option<String>>,
}

ownership::owned_kind!(known: Known, report: Report, view: AppView);

/// The inputs of a pass (the runtime's shape, with Managed Service for Apache Flink).
pub type Pass<'a> =
    crate::controller::runtime::Pass<'a, super::AnalyticsApplications, AnalyticsApi>;

/// The tags the application of `obj` carries: the spec's plus the ownership tags.
pub fn desired_tags(obj: &AnalyticsApplication) -> BTreeMap<String, String> {
    ownership::desired_tags(obj, &obj.spec.tags)
}

/// The wait before the next start after `failures` failures in a row: doubling from
/// [`FIRST_RESTART_WAIT`], and [`MAX_RESTART_WAIT`] once the application is reported Stalled.
pub fn restart_wait(failures: u32) -> Duration {
    if failures >= STALLED_AFTER {
        return MAX_RESTART_WAIT;
    }
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RESTART_WAIT
        .saturating_mul(1 << doublings)
        .min(MAX_RESTART_WAIT)
}

impl Pass<'_> {
    /// Waits for every stream the spec names to be Ready.
    async fn streams_ready(&mut self) -> Result<Option<Outcome<Report>>, AwsCallError> {
        for reference in &self.obj.spec.stream_refs {
            match references::stream_arn(
                &self.ctx.client,
                &self.ctx.resolutions,
                self.obj,
                reference,
            )
            .await
            .map_err(read_error)?
            {
                Resolved::Arn(_) => {}
                Resolved::Waiting(message) => {
                    // The watch on KinesisStreams wakes it.
                    return Ok(Some(Outcome {
                        requeue: Requeue::Settled,
                        ..Outcome::progressing(
                            Observed::Unknown.into(),
                            "WaitingForDependency",
                            message,
                        )
                    }));
                }
                Resolved::Refused(message) => {
                    return Ok(Some(Outcome {
                        requeue: Requeue::After(INPUTS_RETRY),
                        ..Outcome::stalled(Observed::Unknown.into(), "ReferenceNotAllowed", message)
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Sends CreateApplication and remembers that this process created it.
    async fn create(
        &mut self,
        name: &str,
        wanted: &AppSettings,
    ) -> Result<Outcome<Report>, AwsCallError> {
        let tags = desired_tags(self.obj);
        self.aws.create(name, wanted, &tags).await?;
        self.known.restart(Known {
            identity: Identity::created(self.obj.meta().generation),
            tags: Some(tags),
            ..Known::default()
        });
        self.notes.push(Note::new(
            "Created",
            format!("CreateApplication {name} ({})", wanted.runtime),
        ));
        Ok(Outcome::progressing(
            Observed::Absent.into(),
            "Creating",
            format!("CreateApplication {name} sent"),
        ))
    }

    /// Takes the next step toward the spec.
    pub async fn converge(mut self) -> Result<Outcome<Report>, AwsCallError> {
        let obj = self.obj;
        let name = application_name(obj);
        if let Some(waiting) = self.streams_ready().await? {
            return Ok(waiting);
        }
        let wanted = AppSettings::from_spec(&obj.spec);
        let (view, just_created) = find_or_create!(self, &name, self.create(&name, &wanted));
        let generation = obj.meta().generation;
        let what = format!("{name} ({})", view.arn);
        let deep = match self
            .look(&name, &view, &what, obj.spec.adopt, "applicationName")
            .await?
        {
            Looked::Own { deep } => deep,
            Looked::Refused(stalled) => return Ok(stalled),
        };
        let outcome = self.settle(&name, view, &wanted, just_created).await?;
        if deep && matches!(outcome.health, Health::Ready { .. }) {
            self.known.identity.deep_done(generation);
        }
        Ok(outcome)
    }

    /// The steps after Describe: transition, configuration, run state, tags.
    async fn settle(
        &mut self,
        name: &str,
        view: AppView,
        wanted: &AppSettings,
        just_created: bool,
    ) -> Result<Outcome<Report>, AwsCallError> {
        if let Some(outcome) = transition(&view) {
            return Ok(outcome);
        }
        let seen = |failure: Option<Option<String>>| Report {
            observed: Observed::Seen(view.clone()),
            failure,
        };
        if view.settings != *wanted {
            let what = wanted.differences(&view.settings).join(", ");
            self.aws
                .update(name, view.version_id, &view.settings, wanted)
                .await?;
            self.notes.push(Note::with_action(
                "Updated",
                "UpdateApplication",
                format!(
                    "UpdateApplication {name} version {}: {what}",
                    view.version_id
                ),
            ));
            return Ok(Outcome::progressing(
                seen(None),
                "Updating",
                format!("UpdateApplication {name} sent ({what} differ from the spec)"),
            ));
        }
        let running = view.status == "RUNNING";
        match (self.obj.spec.desired_state, running) {
            (DesiredState::Running, true) => {
                self.known.expect_running = true;
                self.known.failures = 0;
                self.known.retry_at = None;
                self.known.failure = None;
                self.tags(name).await?;
                Ok(Outcome::ready(
                    seen(Some(None)),
                    "Running",
                    format!("application {name} is RUNNING and matches the spec"),
                ))
            }
            (DesiredState::Running, false) => self.start(name, &view, wanted, just_created).await,
            (DesiredState::Stopped, true) => {
                self.aws.stop(name).await?;
                self.known.expect_running = false;
                let snapshot = if wanted.snapshots {
                    " (taking a snapshot)"
                } else {
                    ""
                };
                self.notes.push(Note::with_action(
                    "Stopped",
                    "StopApplication",
                    format!("StopApplication {name}{snapshot}: spec.desiredState is Stopped"),
                ));
                Ok(Outcome::progressing(
                    seen(None),
                    "Stopping",
                    format!("StopApplication {name} sent"),
                ))
            }
            (DesiredState::Stopped, false) => {
                self.known.expect_running = false;
                self.tags(name).await?;
                Ok(Outcome::ready(
                    seen(Some(None)),
                    "Stopped",
                    format!(
                        "application {name} is {} (not running, as spec.desiredState asks) and matches the spec",
                        view.status
                    ),
                ))
            }
        }
    }

    /// Starts an application that should run: at once the first time, after a backoff when
    /// it failed, `Stalled` with Flink's message when it keeps failing.
    async fn start(
        &mut self,
        name: &str,
        view: &AppView,
        wanted: &AppSettings,
        just_created: bool,
    ) -> Result<Outcome<Report>, AwsCallError> {
        let generation = self.obj.meta().generation;
        if self.known.failed_generation != generation {
            self.known.failures = 0;
            self.known.retry_at = None;
            self.known.failed_generation = generation;
        }
        let was_running = self.known.expect_running
            || self
                .obj
                .status
                .as_ref()
                .and_then(|s| s.application_status.as_deref())
                == Some("RUNNING");
        let mut stopped_outside = false;
        if was_running && !just_created {
            self.known.expect_running = false;
            let failure = match self.aws.latest_operation(name).await? {
                LatestOperation::Failed(failure) => Some(failure),
                LatestOperation::Stopped => {
                    stopped_outside = true;
                    None
                }
                // A job that ran and ended (its restarts exhausted): a failure too, or an
                // application failing a while after each start would be started in a loop.
                LatestOperation::Other => Some(
                    "the Flink job stopped on its own after it was started (see the application's logs)"
                        .to_owned(),
                ),
            };
            if let Some(failure) = failure {
                self.known.failures += 1;
                self.known.retry_at = Some(Instant::now() + restart_wait(self.known.failures));
                self.known.failure = Some(failure);
            }
        }
        let report = |failure: &Option<String>| Report {
            observed: Observed::Seen(view.clone()),
            failure: Some(failure.clone()),
        };
        if let Some(at) = self.known.retry_at {
            let now = Instant::now();
            if at > now {
                let wait = at - now;
                let failure = self.known.failure.clone();
                let words = failure
                    .as_deref()
                    .unwrap_or("it stopped")
                    .trim_end_matches('.');
                let failures = self.known.failures;
                return Ok(if failures >= STALLED_AFTER {
                    Outcome {
                        requeue: Requeue::After(wait),
                        ..Outcome::stalled(
                            report(&failure),
                            "StartFailed",
                            format!(
                                "application {name} failed {failures} times in a row: {words}; fix spec.code (it is started again at once) or look at the application's logs; tried again every {} minutes",
                                MAX_RESTART_WAIT.as_secs() / 60
                            ),
                        )
                    }
                } else {
                    Outcome {
                        requeue: Requeue::After(wait),
                        ..Outcome::progressing(
                            report(&failure),
                            "Restarting",
                            format!(
                                "application {name}: {words}; starting it again in {} s",
                                wait.as_millis().div_ceil(1000)
                            ),
                        )
                    }
                });
            }
        }
        let restore = if wanted.snapshots && !just_created && self.aws.has_snapshot(name).await? {
            Restore::Latest
        } else {
            Restore::Skip
        };
        self.aws.start(name, restore).await?;
        self.known.expect_running = true;
        let from = match restore {
            Restore::Latest => " from its latest snapshot",
            Restore::Skip => "",
        };
        let why = if self.known.failures > 0 {
            format!(" (attempt {} after a failure)", self.known.failures + 1)
        } else if stopped_outside {
            " (it was stopped outside the operator)".to_owned()
        } else {
            String::new()
        };
        self.notes.push(Note::with_action(
            "Started",
            "StartApplication",
            format!("StartApplication {name}{from}{why}"),
        ));
        let failure = self.known.failure.clone();
        Ok(Outcome::progressing(
            report(&failure),
            "Starting",
            format!("StartApplication {name} sent"),
        ))
    }

    /// Tags: the spec's plus the ownership tags, no others.
    async fn tags(&mut self, name: &str) -> Result<(), AwsCallError> {
        self.sync_tags(name, desired_tags(self.obj)).await
    }
}

/// The outcome while the application is between states.
pub(super) fn transition(view: &AppView) -> Option<Outcome<Report>> {
    let seen = || -> Report { Observed::Seen(view.clone()).into() };
    let status = view.status.as_str();
    let (reason, message) = match status {
        "READY" | "RUNNING" | "ROLLED_BACK" => return None,
        "STARTING" => ("Starting", "application is STARTING".to_owned()),
        "STOPPING" | "FORCE_STOPPING" => ("Stopping", format!("application is {status}")),
        "DELETING" => (
            "Deleting",
            "application is DELETING outside the operator; it is re-created once gone".to_owned(),
        ),
        other => ("Updating", format!("application is {other}")),
    };
    Some(Outcome::progressing(seen(), reason, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_application_waits_longer_after_each_failure_and_five_minutes_once_stalled() {
        let cases = [(0, 10), (1, 10), (2, 20), (3, 300), (40, 300)];
        for (failures, seconds) in cases {
            assert_eq!(
                restart_wait(failures),
                Duration::from_secs(seconds),
                "{failures} failures"
            );
        }
    }
}
