//! Analytics state on disk (`--data-dir`): one keyspace, `analytics_apps`, mapping
//! `account/region/name` to the whole application as JSON (versions, snapshots' metadata,
//! operations, the current run's request). Applications are small and change at human pace,
//! so each change stores the application whole, before it is acknowledged. Checkpoints and
//! savepoints are Flink's own directories under `<data-dir>/analytics/`.

use std::sync::Arc;

use fjall::Keyspace;

use super::Key;
use super::app::App;
use crate::emulator::error::AwsError;
use crate::emulator::storage::{Storage, StorageError};

/// The keyspace.
pub struct Durable {
    storage: Arc<Storage>,
    apps: Keyspace,
}

fn key_bytes(account: &str, region: &str, name: &str) -> Vec<u8> {
    format!("{account}/{region}/{name}").into_bytes()
}

fn unavailable(e: StorageError) -> AwsError {
    tracing::error!(error = %e, "storage failure");
    AwsError {
        code: "ServiceUnavailableException",
        message: format!("The emulator could not store the change: {e}"),
        status: 503,
    }
}

impl Durable {
    /// The keyspace in `storage`.
    pub fn open(storage: Arc<Storage>) -> Result<Durable, StorageError> {
        Ok(Durable {
            apps: storage.keyspace("analytics_apps")?,
            storage,
        })
    }

    /// Stores an application.
    pub fn save(&self, app: &App) -> Result<(), AwsError> {
        let value = serde_json::to_vec(app).expect("applications serialise");
        let mut batch = self.storage.batch();
        batch.put(
            &self.apps,
            &key_bytes(&app.account, &app.region, &app.name),
            &value,
        );
        self.storage.commit(batch).map_err(unavailable)
    }

    /// Removes an application.
    pub fn forget(&self, key: &Key) -> Result<(), AwsError> {
        let mut batch = self.storage.batch();
        batch.delete(&self.apps, &key_bytes(&key.0, &key.1, &key.2));
        self.storage.commit(batch).map_err(unavailable)
    }

    /// Every stored application.
    pub fn load(&self) -> Result<Vec<App>, StorageError> {
        let mut out = Vec::new();
        for entry in self.storage.scan(&self.apps, b"") {
            let (key, value) = entry?;
            match serde_json::from_slice::<App>(&value) {
                Ok(app) => out.push(app),
                Err(e) => tracing::error!(
                    key = %String::from_utf8_lossy(&key),
                    error = %e,
                    "skipping a stored application that cannot be decoded"
                ),
            }
        }
        Ok(out)
    }
}
