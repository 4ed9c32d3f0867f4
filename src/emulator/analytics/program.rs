//! What one run of an application executes: the Flink SQL of the `kinesis.operator.sql`
//! property group, or else the application's JAR, read from the emulated S3 at start and
//! copied into the run's directory for the runner (DESIGN §3.4: the SQL group wins when both
//! are set).
//!
//! Why at start: as on AWS, the code location is checked at CreateApplication and
//! UpdateApplication (InvalidArgumentException when the object is missing), and the object is
//! read when the application starts; one deleted in between fails the start with an operation
//! error naming the bucket and key.

use std::path::{Path, PathBuf};

use super::Analytics;
use super::app::{App, SQL_GROUP};

/// A run's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// The SQL script.
    Sql(String),
    /// The JAR, copied to `path`; `source` names it for messages (`s3://bucket/key`).
    Jar {
        /// The copy in the run's directory.
        path: PathBuf,
        /// Where it came from.
        source: String,
    },
}

/// The code `app`'s current version runs; a JAR is copied into `dir`. The error is the
/// start's operation error, written for the user.
pub fn program(an: &Analytics, app: &App, dir: &Path) -> Result<Program, String> {
    let config = app.config();
    if let Some(sql) = config.sql() {
        return Ok(Program::Sql(sql));
    }
    let name = &app.name;
    let Some(location) = config.code.as_ref().and_then(|c| c.s3.as_ref()) else {
        return Err(format!(
            "Application {name} has no code this emulator can run: give its Flink SQL in property group {SQL_GROUP} (key `statements`, or `statements.1`, `statements.2`, ...), or its JAR in ApplicationCodeConfiguration.CodeContent.S3ContentLocation (an inline ZipFileContent or TextContent is not run)."
        ));
    };
    let arn = location.bucket_arn.as_deref().unwrap_or_default();
    let bucket = arn.strip_prefix("arn:aws:s3:::").unwrap_or(arn);
    let key = location.file_key.as_deref().unwrap_or_default();
    let source = format!("s3://{bucket}/{key}");
    if let Some(version) = location
        .object_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "null")
    {
        return Err(format!(
            "Application {name} cannot start: its code {source} names ObjectVersion {version}, and the emulated S3 keeps no object versions (bucket versioning is not emulated); leave S3ContentLocation.ObjectVersion out to run the current object."
        ));
    }
    let Some((owner, body)) = an.s3.object_body(bucket, key) else {
        return Err(format!(
            "Application {name} cannot start: the application code object {key} in bucket {bucket} (ApplicationCodeConfiguration.CodeContent.S3ContentLocation) does not exist; upload the JAR to s3://{bucket}/{key} or update the application's code location."
        ));
    };
    if owner != app.account {
        return Err(format!(
            "Application {name} cannot start: bucket {bucket} holding its code belongs to account {owner}, not to the application's account {}; copy the JAR to a bucket of account {}.",
            app.account, app.account
        ));
    }
    let path = dir.join("application.jar");
    std::fs::write(&path, &body).map_err(|e| {
        format!(
            "Application {name} cannot start: copying its code {source} to {}: {e}.",
            path.display()
        )
    })?;
    Ok(Program::Jar { path, source })
}
