//! IAM state on disk (`--data-dir`): one JSON snapshot per account, rewritten by every change
//! before the change is acknowledged.
//!
//! Why whole-account snapshots: IAM state is small (quotas bound versions, attachments and
//! document sizes) and changes rarely, so one write per change keeps recovery trivial (read
//! every account back) and a change that spans entities (an attachment touches a role and a
//! policy's count) is atomic without a log of its own.

use std::collections::HashMap;
use std::sync::Arc;

use fjall::Keyspace;

use super::model::Account;
use crate::emulator::error::AwsError;
use crate::emulator::storage::{Storage, StorageError};

/// IAM's keyspace in the data directory.
pub struct Durable {
    storage: Arc<Storage>,
    accounts: Keyspace,
}

impl Durable {
    /// IAM's keyspace in `storage`.
    pub fn open(storage: Arc<Storage>) -> Result<Durable, StorageError> {
        Ok(Durable {
            accounts: storage.keyspace("iam_accounts")?,
            storage,
        })
    }

    /// Stores the state of `account`; when this returns it survives a crash.
    pub fn save(&self, account: &str, state: &Account) -> Result<(), AwsError> {
        let value = serde_json::to_vec(state).map_err(|e| AwsError {
            code: "ServiceFailure",
            message: format!("The emulator could not encode the change: {e}"),
            status: 500,
        })?;
        let mut batch = self.storage.batch();
        batch.put(&self.accounts, account.as_bytes(), &value);
        self.storage.commit(batch).map_err(|e| {
            tracing::error!(error = %e, "storage failure");
            AwsError {
                code: "ServiceFailure",
                message: format!("The emulator could not store the change: {e}"),
                status: 500,
            }
        })
    }

    /// Every stored account.
    pub fn load(&self) -> Result<HashMap<String, Account>, StorageError> {
        let mut out = HashMap::new();
        for entry in self.storage.scan(&self.accounts, b"") {
            let (key, value) = entry?;
            let account = String::from_utf8_lossy(&key).into_owned();
            match serde_json::from_slice::<Account>(&value) {
                Ok(state) => {
                    out.insert(account, state);
                }
                Err(e) => {
                    tracing::error!(%account, error = %e, "skipping stored IAM state that cannot be decoded");
                }
            }
        }
        Ok(out)
    }
}
