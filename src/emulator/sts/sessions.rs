//! Issued role sessions: temporary credentials (an `ASIA...` access key, its secret and its
//! session token) until they expire, kept in memory for the signature check of every
//! request and, with `--data-dir`, stored before `AssumeRole` answers so that they survive a
//! restart.
//!
//! A request signed with a session's key must carry its token (`X-Amz-Security-Token`,
//! header or presigned query parameter); the token is checked before the signature, as STS
//! decodes the token first, so a wrong or missing one is refused even when the signature is
//! right, and an expired one is reported as expired. Sessions are forgotten a day after they
//! expire (AWS keeps answering "expired" for them; a day is long enough for any retry).

use std::collections::HashMap;
use std::sync::Arc;

use fjall::Keyspace;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::emulator::auth::SignedRequest;
use crate::emulator::error::AwsError;
use crate::emulator::iam::enforce::RoleSession;
use crate::emulator::storage::{Storage, StorageError};

/// How long an expired session is still recognised (and refused as expired).
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

/// One session's credentials, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    /// `ASIA...` access key ID.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
    /// Session token.
    pub token: String,
    /// Expiration, epoch milliseconds.
    pub expires_ms: i64,
    /// The role's account.
    pub account: String,
    /// The role's name.
    pub role_name: String,
    /// The role's ID when the session began.
    pub role_id: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// The session policy, as sent.
    pub policy: Option<String>,
}

/// A live session.
#[derive(Debug)]
pub struct Session {
    /// What is stored.
    pub stored: Stored,
    /// The principal its requests act as.
    pub caller: Arc<RoleSession>,
}

impl Session {
    /// The session of `stored`, its policy parsed once.
    pub fn new(stored: Stored) -> Session {
        let policy = stored
            .policy
            .as_deref()
            .map(|p| Arc::new(serde_json::from_str(p).unwrap_or(serde_json::Value::Null)));
        let caller = Arc::new(RoleSession {
            account: stored.account.clone(),
            role_name: stored.role_name.clone(),
            role_id: stored.role_id.clone(),
            session_name: stored.session_name.clone(),
            policy,
        });
        Session { stored, caller }
    }
}

/// Every issued session.
pub struct Sessions {
    live: RwLock<HashMap<String, Arc<Session>>>,
    durable: Option<(Arc<Storage>, Keyspace)>,
}

/// `InvalidToken`: a session key with a wrong or missing token (each front maps it to its
/// protocol's code).
pub fn invalid_token() -> AwsError {
    AwsError {
        code: "InvalidToken",
        message: "The security token included in the request is invalid.".to_owned(),
        status: 403,
    }
}

/// `ExpiredToken`: a session past its expiration.
pub fn expired_token() -> AwsError {
    AwsError {
        code: "ExpiredToken",
        message: "The security token included in the request is expired".to_owned(),
        status: 403,
    }
}

fn storage_error(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "storage failure");
    AwsError {
        code: "InternalFailure",
        message: format!("The emulator could not store the session: {e}"),
        status: 500,
    }
}

/// The access key and session token a request presents: from its `Authorization` header and
/// `X-Amz-Security-Token` header, or from a presigned URL's query.
pub fn presented(req: &SignedRequest<'_>) -> (Option<String>, Option<String>) {
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let query = |name: &str| {
        form_urlencoded::parse(req.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    };
    let key = match header("authorization") {
        Some(h) => crate::emulator::dispatch::parse_authorization(&h)
            .access_key
            .map(str::to_owned),
        None => query("X-Amz-Credential").and_then(|c| c.split('/').next().map(str::to_owned)),
    };
    let token = header("x-amz-security-token").or_else(|| query("X-Amz-Security-Token"));
    (key, token)
}

impl Sessions {
    /// The sessions `storage` holds (none without storage), expired ones forgotten.
    pub fn open(storage: Option<Arc<Storage>>, now_ms: i64) -> Result<Sessions, StorageError> {
        let mut live = HashMap::new();
        let durable = match storage {
            None => None,
            Some(storage) => {
                let keyspace = storage.keyspace("sts_sessions")?;
                for entry in storage.scan(&keyspace, b"") {
                    let (key, value) = entry?;
                    match serde_json::from_slice::<Stored>(&value) {
                        Ok(stored) if stored.expires_ms + FORGET_AFTER_MS > now_ms => {
                            live.insert(stored.access_key.clone(), Arc::new(Session::new(stored)));
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(
                            key = %String::from_utf8_lossy(&key),
                            error = %e,
                            "skipping a stored STS session that cannot be decoded"
                        ),
                    }
                }
                Some((storage, keyspace))
            }
        };
        Ok(Sessions {
            live: RwLock::new(live),
            durable,
        })
    }

    /// Stores `stored` (durably first, with the removal of long-expired sessions) and makes
    /// it usable.
    pub fn issue(&self, stored: Stored, now_ms: i64) -> Result<(), AwsError> {
        let forgotten: Vec<String> = self
            .live
            .read()
            .values()
            .filter(|s| s.stored.expires_ms + FORGET_AFTER_MS <= now_ms)
            .map(|s| s.stored.access_key.clone())
            .collect();
        if let Some((storage, keyspace)) = &self.durable {
            let value = serde_json::to_vec(&stored).map_err(storage_error)?;
            let mut batch = storage.batch();
            batch.put(keyspace, stored.access_key.as_bytes(), &value);
            for key in &forgotten {
                batch.delete(keyspace, key.as_bytes());
            }
            storage.commit(batch).map_err(storage_error)?;
        }
        let mut live = self.live.write();
        for key in &forgotten {
            live.remove(key);
        }
        live.insert(stored.access_key.clone(), Arc::new(Session::new(stored)));
        Ok(())
    }

    /// The session of access key `key`, if there is one.
    pub fn get(&self, key: &str) -> Option<Arc<Session>> {
        self.live.read().get(key).cloned()
    }

    /// The session of access key `key` presenting `token` at `now_ms`: `None` when `key` is
    /// no session's; `InvalidToken` for a wrong or missing token; `ExpiredToken` after its
    /// expiration.
    pub fn check(
        &self,
        key: &str,
        token: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<Arc<Session>>, AwsError> {
        let Some(session) = self.get(key) else {
            return Ok(None);
        };
        if token != Some(session.stored.token.as_str()) {
            return Err(invalid_token());
        }
        if now_ms >= session.stored.expires_ms {
            return Err(expired_token());
        }
        Ok(Some(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(key: &str, expires_ms: i64) -> Stored {
        Stored {
            access_key: key.to_owned(),
            secret: "s".to_owned(),
            token: "t".to_owned(),
            expires_ms,
            account: "123456789012".to_owned(),
            role_name: "writer".to_owned(),
            role_id: "AROA1".to_owned(),
            session_name: "s1".to_owned(),
            policy: None,
        }
    }

    #[test]
    fn tokens_and_expiry_are_checked_and_old_sessions_forgotten() {
        let sessions = Sessions::open(None, 0).unwrap();
        sessions.issue(stored("ASIA1", 1_000), 0).unwrap();
        assert!(sessions.check("AKIA1", None, 0).unwrap().is_none());
        assert_eq!(
            sessions.check("ASIA1", None, 0).unwrap_err().code,
            "InvalidToken"
        );
        assert_eq!(
            sessions.check("ASIA1", Some("x"), 0).unwrap_err().code,
            "InvalidToken"
        );
        let session = sessions.check("ASIA1", Some("t"), 999).unwrap().unwrap();
        assert_eq!(
            session.caller.arn(),
            "arn:aws:sts::123456789012:assumed-role/writer/s1"
        );
        assert_eq!(
            sessions.check("ASIA1", Some("t"), 1_000).unwrap_err().code,
            "ExpiredToken"
        );
        sessions
            .issue(
                stored("ASIA2", 2 * FORGET_AFTER_MS),
                1_000 + FORGET_AFTER_MS,
            )
            .unwrap();
        assert!(sessions.get("ASIA1").is_none());
        assert!(sessions.get("ASIA2").is_some());
    }
}
