//! The runner's job file (runners/flink/README.md): what one run of an application executes
//! and where it keeps its files.

use std::path::Path;

use serde_json::{Value, json};

use super::app::App;
use super::program::Program;

/// Where one run's files go.
pub struct Paths<'a> {
    /// The status file the runner rewrites.
    pub status: &'a Path,
    /// Retained checkpoints (kept across runs, for recovery).
    pub checkpoints: &'a Path,
    /// Savepoints taken on stop.
    pub snapshots: &'a Path,
}

/// The job file of `app`'s current version running `program` (its SQL or its JAR, with the
/// application's property groups for the JAR's KinesisAnalyticsRuntime) against the emulator at
/// `endpoint` (signing as the application's account with `secret`), restoring from
/// `restore_from` when set.
pub fn job(
    app: &App,
    program: &Program,
    endpoint: &str,
    secret: &str,
    paths: &Paths<'_>,
    restore_from: Option<&Path>,
) -> Value {
    let c = app.config();
    let properties: Vec<Value> = c
        .properties
        .iter()
        .map(|(id, map)| json!({"PropertyGroupId": id, "PropertyMap": map}))
        .collect();
    let mut job = json!({
        "applicationName": app.name,
        "applicationProperties": properties,
        "endpoint": endpoint,
        "region": app.region,
        // The emulator takes a 12-digit access key as the account: the application's own.
        "accessKeyId": app.account,
        "secretAccessKey": secret,
        "parallelism": c.parallelism.parallelism,
        "checkpointing": {
            "enabled": c.checkpoint.enabled,
            "intervalMillis": c.checkpoint.interval,
            "minPauseBetweenCheckpointsMillis": c.checkpoint.min_pause,
            "directory": paths.checkpoints,
        },
        "snapshots": {
            "enabled": c.snapshots_enabled,
            "directory": paths.snapshots,
            "restoreFrom": restore_from,
            "allowNonRestoredState": app.run.allow_non_restored_state,
        },
        "exitWithParent": true,
        "statusFile": paths.status,
    });
    match program {
        Program::Sql(sql) => job["sql"] = json!(sql),
        Program::Jar { path, source } => {
            job["jar"] = json!(path);
            job["jarSource"] = json!(source);
        }
    }
    job
}
