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

/// The name of a JAR application's copy in the run's directory.
pub const JAR_FILE: &str = "application.jar";

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
    let bucket = location
        .bucket()
        .or(location.bucket_arn.as_deref())
        .unwrap_or_default();
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
    let path = dir.join(JAR_FILE);
    std::fs::write(&path, &body).map_err(|e| {
        format!(
            "Application {name} cannot start: copying its code {source} to {}: {e}.",
            path.display()
        )
    })?;
    Ok(Program::Jar { path, source })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use http::Method;

    use super::*;
    use crate::emulator::analytics::{Settings, TARGET_PREFIX};
    use crate::emulator::clock::Clock;
    use crate::emulator::dispatch::Ctx;
    use crate::emulator::protocol::Protocol;
    use crate::emulator::rest::RestRequest;
    use crate::emulator::s3::S3;

    const ACCOUNT: &str = "123456789012";

    fn ctx(account: &str) -> Ctx {
        Ctx {
            account: account.into(),
            region: "us-west-2".into(),
        }
    }

    /// A service whose S3 has bucket `code` of `owner` holding `app.jar`.
    fn service(owner: &str) -> Analytics {
        let clock = Arc::new(Clock::default());
        let s3 = Arc::new(S3::new(clock.clone(), None).expect("an in-memory S3"));
        // No location constraint: a us-east-1 bucket (S3 refuses one elsewhere without it).
        let created = s3.handle(
            &Ctx {
                account: owner.into(),
                region: "us-east-1".into(),
            },
            &RestRequest {
                method: Method::PUT,
                path: "/code".into(),
                query: String::new(),
                headers: http::HeaderMap::new(),
                body: Bytes::new(),
                request_id: "req".into(),
            },
        );
        assert_eq!(created.status, 200, "CreateBucket");
        s3.deliver(
            "code",
            "app.jar",
            Bytes::from_static(b"PK\x05\x06jar"),
            None,
        )
        .expect("the code object");
        Analytics::new(Settings::default(), clock, s3, None, None).expect("the service")
    }

    /// Creates application `a` with code `s3://code/app.jar` (at `version` when given) and
    /// the property groups `groups` (JSON); returns it.
    fn app(an: &Analytics, version: Option<&str>, groups: &str) -> App {
        let version = version.map_or(String::new(), |v| format!(r#","ObjectVersion":"{v}""#));
        let body = format!(
            r#"{{"ApplicationName":"a","RuntimeEnvironment":"FLINK-1_19","ApplicationConfiguration":{{"ApplicationCodeConfiguration":{{"CodeContentType":"ZIPFILE","CodeContent":{{"S3ContentLocation":{{"BucketARN":"arn:aws:s3:::code","FileKey":"app.jar"{version}}}}}}},"EnvironmentProperties":{{"PropertyGroups":{groups}}}}}}}"#
        );
        an.handle(
            &ctx(ACCOUNT),
            "CreateApplication",
            Protocol::Json,
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{TARGET_PREFIX}.CreateApplication: {e:?}"));
        let key = (ACCOUNT.to_owned(), "us-west-2".to_owned(), "a".to_owned());
        an.apps.read()[&key].lock().clone()
    }

    #[test]
    fn the_sql_group_wins_over_a_jar() {
        let an = service(ACCOUNT);
        let app = app(
            &an,
            None,
            r#"[{"PropertyGroupId":"kinesis.operator.sql","PropertyMap":{"statements":"SELECT 1"}}]"#,
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            program(&an, &app, dir.path()),
            Ok(Program::Sql("SELECT 1".into()))
        );
        assert!(!dir.path().join("application.jar").exists());
    }

    #[test]
    fn the_jar_is_copied_into_the_run() {
        let an = service(ACCOUNT);
        let app = app(&an, Some("null"), "[]");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("application.jar");
        assert_eq!(
            program(&an, &app, dir.path()),
            Ok(Program::Jar {
                path: path.clone(),
                source: "s3://code/app.jar".into()
            })
        );
        assert_eq!(std::fs::read(path).unwrap(), b"PK\x05\x06jar");
    }

    #[test]
    fn a_missing_object_another_accounts_bucket_and_a_version_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let an = service(ACCOUNT);
        let gone = app(&an, None, "[]");
        an.s3.handle(
            &ctx(ACCOUNT),
            &RestRequest {
                method: Method::DELETE,
                path: "/code/app.jar".into(),
                query: String::new(),
                headers: http::HeaderMap::new(),
                body: Bytes::new(),
                request_id: "req".into(),
            },
        );
        let message = program(&an, &gone, dir.path()).unwrap_err();
        assert!(
            message.contains("object app.jar in bucket code") && message.contains("does not exist"),
            "{message}"
        );

        let an = service("210987654321");
        let foreign = app(&an, None, "[]");
        let message = program(&an, &foreign, dir.path()).unwrap_err();
        assert!(
            message.contains("bucket code") && message.contains("account 210987654321"),
            "{message}"
        );

        let an = service(ACCOUNT);
        let versioned = app(&an, Some("3HL4kqtJlcpXroDTDmJ"), "[]");
        let message = program(&an, &versioned, dir.path()).unwrap_err();
        assert!(
            message.contains("ObjectVersion 3HL4kqtJlcpXroDTDmJ"),
            "{message}"
        );
    }
}
