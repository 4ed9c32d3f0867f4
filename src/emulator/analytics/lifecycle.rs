//! StartApplication, StopApplication, the snapshot calls and the operation calls.
//!
//! Start and stop only record the request (status, operation) and hand it to the runner
//! supervision (`runner.rs`), which moves the application on as its JVM reports.

use std::sync::atomic::{AtomicU64, Ordering};

use super::app::{App, Operation, RunRequest, Snapshot, Status};
use super::model::{
    Empty, ListOperationsOutput, ListSnapshotsOutput, NamedInput, OperationDetails,
    OperationIdOutput, OperationInfo, OperationOutput, RestoreConfiguration, SnapshotDetails,
    SnapshotOutput,
};
use super::runner::Command;
use super::{Analytics, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};
use crate::emulator::protocol::Timestamp;

/// Snapshots per application (AWS's quota).
const MAX_SNAPSHOTS: usize = 1000;

/// Operations kept per application (the oldest are dropped).
const MAX_OPERATIONS: usize = 200;

const RESTORE_TYPES: [&str; 3] = [
    "SKIP_RESTORE_FROM_SNAPSHOT",
    "RESTORE_FROM_LATEST_SNAPSHOT",
    "RESTORE_FROM_CUSTOM_SNAPSHOT",
];

/// Records a new IN_PROGRESS operation and returns its ID.
pub(super) fn new_operation(an: &Analytics, app: &mut App, operation: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    use sha2::Digest;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let now = an.now();
    let digest = sha2::Sha256::digest(format!("{}/{now}/{n}/{}", app.arn(), std::process::id()));
    let id: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    app.operations.push(Operation {
        id: id.clone(),
        operation: operation.to_owned(),
        start_ms: now,
        end_ms: None,
        status: "IN_PROGRESS".into(),
        version_change: None,
        error: None,
    });
    if app.operations.len() > MAX_OPERATIONS {
        let extra = app.operations.len() - MAX_OPERATIONS;
        app.operations.drain(..extra);
    }
    id
}

fn wrong_state(name: &str, status: Status, call: &str, needs: &str) -> AwsError {
    AwsError::in_use(format!(
        "Application {name} is {}; {call} needs it {needs}.",
        status.as_str()
    ))
}

/// StartApplication: READY -> STARTING; the runner takes it to RUNNING (or back to READY
/// with the operation FAILED and Flink's message).
pub(super) fn start(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<OperationIdOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    let run = input.run_configuration.unwrap_or_default();
    let restore = run
        .application_restore_configuration
        .unwrap_or(RestoreConfiguration {
            application_restore_type: Some("RESTORE_FROM_LATEST_SNAPSHOT".into()),
            snapshot_name: None,
        });
    match &restore.application_restore_type {
        None => {
            v.required(
                "runConfiguration.applicationRestoreConfiguration.applicationRestoreType",
                &restore.application_restore_type,
            );
        }
        Some(t) => v.one_of(
            "runConfiguration.applicationRestoreConfiguration.applicationRestoreType",
            t,
            &RESTORE_TYPES,
        ),
    }
    if let Some(s) = &restore.snapshot_name {
        validate::name(
            &mut v,
            "runConfiguration.applicationRestoreConfiguration.snapshotName",
            &Some(s.clone()),
            256,
        );
    }
    v.finish()?;
    if run.sql_run_configurations.is_some() {
        return Err(AwsError::invalid_argument(
            "SqlRunConfigurations is only for SQL-1_0 applications; a Flink application takes FlinkRunConfiguration and ApplicationRestoreConfiguration.",
        ));
    }
    let name = input.application_name.unwrap_or_default();
    let (key, app) = an.find(ctx, &name)?;
    let op = an.change(&app, |a| {
        if a.status != Status::Ready {
            return Err(wrong_state(&name, a.status, "StartApplication", "READY (stop it first)"));
        }
        if restore.application_restore_type.as_deref() == Some("RESTORE_FROM_CUSTOM_SNAPSHOT") {
            let Some(s) = &restore.snapshot_name else {
                return Err(AwsError::invalid_argument(
                    "RESTORE_FROM_CUSTOM_SNAPSHOT needs RunConfiguration.ApplicationRestoreConfiguration.SnapshotName.",
                ));
            };
            if a.snapshots.get(s).is_none_or(|s| s.status != "READY") {
                return Err(AwsError::invalid_argument(format!(
                    "Snapshot {s} of application {name} does not exist or is not READY; ListApplicationSnapshots shows the snapshots."
                )));
            }
        }
        a.run = RunRequest {
            restore: restore.clone(),
            allow_non_restored_state: run
                .flink_run_configuration
                .as_ref()
                .and_then(|f| f.allow_non_restored_state)
                .unwrap_or(false),
            started_ms: an.now(),
        };
        a.status = Status::Starting;
        Ok(new_operation(an, a, "StartApplication"))
    })?;
    an.runs.send(Command::Start {
        key,
        operation: op.clone(),
    });
    Ok(OperationIdOutput {
        operation_id: Some(op),
    })
}

/// StopApplication: RUNNING -> STOPPING (a snapshot is taken when snapshots are on) -> READY;
/// `Force`: FORCE_STOPPING, no snapshot, from STARTING, UPDATING, STOPPING or RUNNING.
pub(super) fn stop(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<OperationIdOutput, AwsError> {
    let name = validate::application_name(&input.application_name)?;
    let force = input.force.unwrap_or(false);
    let (key, app) = an.find(ctx, &name)?;
    let op = an.change(&app, |a| {
        let allowed = if force {
            matches!(
                a.status,
                Status::Starting | Status::Running | Status::Updating | Status::Stopping
            )
        } else {
            a.status == Status::Running
        };
        if !allowed {
            return Err(wrong_state(
                &name,
                a.status,
                "StopApplication",
                if force {
                    "STARTING, RUNNING, UPDATING or STOPPING"
                } else {
                    "RUNNING (Force stops a STARTING, UPDATING or STOPPING one)"
                },
            ));
        }
        // The operation a forced stop cuts short is cancelled.
        let now = an.now();
        for o in a
            .operations
            .iter_mut()
            .filter(|o| o.status == "IN_PROGRESS")
        {
            o.status = "CANCELLED".into();
            o.end_ms = Some(now);
        }
        a.status = if force {
            Status::ForceStopping
        } else {
            Status::Stopping
        };
        Ok(new_operation(an, a, "StopApplication"))
    })?;
    an.runs.send(Command::Stop {
        key,
        operation: op.clone(),
        force,
    });
    Ok(OperationIdOutput {
        operation_id: Some(op),
    })
}

fn snapshot_details(app: &App, s: &Snapshot) -> SnapshotDetails {
    SnapshotDetails {
        snapshot_name: s.name.clone(),
        snapshot_status: s.status.clone(),
        application_version_id: s.version,
        snapshot_creation_timestamp: Timestamp(s.created_ms),
        runtime_environment: if s.runtime.is_empty() {
            app.config().runtime.clone()
        } else {
            s.runtime.clone()
        },
    }
}

/// CreateApplicationSnapshot: a savepoint of a RUNNING application's job, with snapshots on.
/// The snapshot is CREATING until the runner has written the savepoint (READY), or FAILED
/// with the reason.
pub(super) fn create_snapshot(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::name(&mut v, "snapshotName", &input.snapshot_name, 256);
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let snapshot = input.snapshot_name.unwrap_or_default();
    let (key, app) = an.find(ctx, &name)?;
    an.change(&app, |a| {
        if a.status != Status::Running {
            return Err(wrong_state(
                &name,
                a.status,
                "CreateApplicationSnapshot",
                "RUNNING",
            ));
        }
        if !a.config().snapshots_enabled {
            return Err(AwsError::client(
                "InvalidApplicationConfigurationException",
                format!(
                    "Snapshots are disabled for application {name}; enable them with ApplicationSnapshotConfigurationUpdate.SnapshotsEnabledUpdate first."
                ),
            ));
        }
        if a.snapshots.contains_key(&snapshot) {
            return Err(AwsError::invalid_argument(format!(
                "Application {name} already has a snapshot named {snapshot}; pick another SnapshotName."
            )));
        }
        if a.snapshots.len() >= MAX_SNAPSHOTS {
            return Err(AwsError::limit_exceeded(format!(
                "Application {name} has {MAX_SNAPSHOTS} snapshots, the limit; delete some with DeleteApplicationSnapshot."
            )));
        }
        let version = a.version;
        let runtime = a.config().runtime.clone();
        a.snapshots.insert(
            snapshot.clone(),
            Snapshot {
                name: snapshot.clone(),
                status: "CREATING".into(),
                version,
                runtime,
                created_ms: an.now(),
                path: None,
            },
        );
        Ok(())
    })?;
    an.runs.send(Command::Snapshot {
        key,
        name: snapshot,
    });
    Ok(Empty {})
}

/// ListApplicationSnapshots: oldest first, paged.
pub(super) fn list_snapshots(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<ListSnapshotsOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::limit(&mut v, input.limit);
    v.finish()?;
    let (_, app) = an.find(ctx, input.application_name.as_deref().unwrap_or_default())?;
    let app = app.lock();
    let skip: usize = match &input.next_token {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            AwsError::invalid_argument(format!(
                "NextToken {t} is not one ListApplicationSnapshots gave."
            ))
        })?,
    };
    let limit = input.limit.unwrap_or(50) as usize;
    let mut all: Vec<&Snapshot> = app.snapshots.values().collect();
    all.sort_by_key(|s| (s.created_ms, s.name.clone()));
    let page: Vec<SnapshotDetails> = all
        .iter()
        .skip(skip)
        .take(limit)
        .map(|s| snapshot_details(&app, s))
        .collect();
    let next_token = (all.len() > skip + limit).then(|| (skip + limit).to_string());
    Ok(ListSnapshotsOutput {
        snapshot_summaries: page,
        next_token,
    })
}

/// DescribeApplicationSnapshot.
pub(super) fn describe_snapshot(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<SnapshotOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::name(&mut v, "snapshotName", &input.snapshot_name, 256);
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let snapshot = input.snapshot_name.unwrap_or_default();
    let (_, app) = an.find(ctx, &name)?;
    let app = app.lock();
    let s = app.snapshots.get(&snapshot).ok_or_else(|| {
        AwsError::not_found(format!(
            "Application {name} has no snapshot named {snapshot}."
        ))
    })?;
    Ok(SnapshotOutput {
        snapshot_details: snapshot_details(&app, s),
    })
}

/// DeleteApplicationSnapshot: SnapshotCreationTimestamp must match.
pub(super) fn delete_snapshot(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::name(&mut v, "snapshotName", &input.snapshot_name, 256);
    v.required(
        "snapshotCreationTimestamp",
        &input.snapshot_creation_timestamp,
    );
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let snapshot = input.snapshot_name.unwrap_or_default();
    let (_, app) = an.find(ctx, &name)?;
    let removed = an.change(&app, |a| {
        let s = a.snapshots.get(&snapshot).ok_or_else(|| {
            AwsError::not_found(format!("Application {name} has no snapshot named {snapshot}."))
        })?;
        let given = input.snapshot_creation_timestamp.map_or(0, |t| t.0);
        if given != s.created_ms {
            return Err(AwsError::invalid_argument(format!(
                "SnapshotCreationTimestamp {} does not match the creation time of snapshot {snapshot} ({}); DescribeApplicationSnapshot shows it.",
                crate::emulator::dates::iso8601_millis(given),
                crate::emulator::dates::iso8601_millis(s.created_ms)
            )));
        }
        Ok(a.snapshots.remove(&snapshot))
    })?;
    if let Some(path) = removed.and_then(|s| s.path) {
        let _ = std::fs::remove_dir_all(path);
    }
    Ok(Empty {})
}

/// ListApplicationOperations: newest first, filtered by Operation and OperationStatus, paged.
pub(super) fn list_operations(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<ListOperationsOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::limit(&mut v, input.limit);
    if let Some(s) = &input.operation_status {
        v.one_of(
            "operationStatus",
            s,
            &["IN_PROGRESS", "CANCELLED", "SUCCESSFUL", "FAILED"],
        );
    }
    v.finish()?;
    let (_, app) = an.find(ctx, input.application_name.as_deref().unwrap_or_default())?;
    let app = app.lock();
    let skip: usize = match &input.next_token {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            AwsError::invalid_argument(format!(
                "NextToken {t} is not one ListApplicationOperations gave."
            ))
        })?,
    };
    let limit = input.limit.unwrap_or(50) as usize;
    let matching: Vec<&Operation> = app
        .operations
        .iter()
        .rev()
        .filter(|o| input.operation.as_deref().is_none_or(|w| o.operation == w))
        .filter(|o| {
            input
                .operation_status
                .as_deref()
                .is_none_or(|w| o.status == w)
        })
        .collect();
    let page = matching
        .iter()
        .skip(skip)
        .take(limit)
        .map(|o| OperationInfo {
            operation: o.operation.clone(),
            operation_id: o.id.clone(),
            start_time: Timestamp(o.start_ms),
            end_time: o.end_ms.map(Timestamp),
            operation_status: o.status.clone(),
        })
        .collect();
    Ok(ListOperationsOutput {
        application_operation_info_list: page,
        next_token: (matching.len() > skip + limit).then(|| (skip + limit).to_string()),
    })
}

/// DescribeApplicationOperation: a failed one carries the reason in
/// `OperationFailureDetails.ErrorInfo.ErrorString` (for a failed start, Flink's message).
pub(super) fn describe_operation(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<OperationOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    v.required_length("operationId", &input.operation_id, 1, 64);
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let id = input.operation_id.unwrap_or_default();
    let (_, app) = an.find(ctx, &name)?;
    let app = app.lock();
    let o = app
        .operations
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| AwsError::not_found(format!("Application {name} has no operation {id}; ListApplicationOperations shows its operations.")))?;
    Ok(OperationOutput {
        application_operation_info_details: OperationDetails {
            operation: o.operation.clone(),
            start_time: Timestamp(o.start_ms),
            end_time: o.end_ms.map(Timestamp),
            operation_status: o.status.clone(),
            application_version_change_details: o.version_change.map(|(from, to)| {
                serde_json::json!({"ApplicationVersionUpdatedFrom": from, "ApplicationVersionUpdatedTo": to})
            }),
            operation_failure_details: o.error.as_ref().map(|e| {
                serde_json::json!({"ErrorInfo": {"ErrorString": e}})
            }),
        },
    })
}
