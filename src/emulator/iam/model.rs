//! IAM's entities as the emulator keeps them (and stores them, as JSON): one [`Account`] per
//! account ID holding its managed policies, roles and users. Names are unique per account
//! regardless of case, as in IAM, so maps are keyed by the lowercased name.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Everything IAM holds for one account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Account {
    /// Customer managed policies by lowercased name.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Roles by lowercased name.
    pub roles: BTreeMap<String, Role>,
    /// Users by lowercased name.
    pub users: BTreeMap<String, User>,
}

/// A tag on a policy, role or user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// One version of a managed policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// The document as sent.
    pub document: String,
    /// Creation time, epoch seconds.
    pub created: i64,
}

/// A customer managed policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Name.
    pub name: String,
    /// `ANPA...` ID.
    pub id: String,
    /// Path, `/` or `/a/b/`.
    pub path: String,
    /// Description given at creation.
    pub description: Option<String>,
    /// Creation time, epoch seconds.
    pub created: i64,
    /// Last change of the default version, epoch seconds.
    pub updated: i64,
    /// Number of the default version (`v3` is 3).
    pub default_version: u32,
    /// The number the next version gets.
    pub next_version: u32,
    /// Versions by number.
    pub versions: BTreeMap<u32, PolicyVersion>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A role.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    /// Name.
    pub name: String,
    /// `AROA...` ID.
    pub id: String,
    /// Path.
    pub path: String,
    /// Creation time, epoch seconds.
    pub created: i64,
    /// The trust policy as sent.
    pub trust_policy: String,
    /// Description.
    pub description: Option<String>,
    /// Longest session, seconds.
    pub max_session_duration: i64,
    /// ARN of the permissions boundary policy.
    pub permissions_boundary: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// ARNs of the attached managed policies, in attachment order.
    pub attached: Vec<String>,
    /// Inline policies by name.
    pub inline: BTreeMap<String, String>,
}

/// An access key of a user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AKIA...` ID.
    pub id: String,
    /// Secret access key.
    pub secret: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Creation time, epoch seconds.
    pub created: i64,
}

/// A user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// Name.
    pub name: String,
    /// `AIDA...` ID.
    pub id: String,
    /// Path.
    pub path: String,
    /// Creation time, epoch seconds.
    pub created: i64,
    /// ARN of the permissions boundary policy.
    pub permissions_boundary: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// ARNs of the attached managed policies.
    pub attached: Vec<String>,
    /// Inline policies by name.
    pub inline: BTreeMap<String, String>,
    /// Access keys.
    pub keys: Vec<AccessKey>,
}

/// `arn:aws:iam::<account>:<kind>/<path><name>` (the path starts and ends with `/`).
pub fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

impl Account {
    /// How many roles and users have the policy `arn` attached.
    pub fn attachment_count(&self, arn: &str) -> usize {
        let roles = self
            .roles
            .values()
            .filter(|r| r.attached.iter().any(|a| a == arn));
        let users = self
            .users
            .values()
            .filter(|u| u.attached.iter().any(|a| a == arn));
        roles.count() + users.count()
    }

    /// How many roles and users use the policy `arn` as their permissions boundary.
    pub fn boundary_count(&self, arn: &str) -> usize {
        let roles = self.roles.values();
        let users = self.users.values();
        roles
            .filter(|r| r.permissions_boundary.as_deref() == Some(arn))
            .count()
            + users
                .filter(|u| u.permissions_boundary.as_deref() == Some(arn))
                .count()
    }
}

/// Random-looking identifiers in IAM's alphabet: `prefix` followed by uppercase letters and
/// digits up to `len` characters.
pub fn new_id(prefix: &str, len: usize) -> String {
    random_chars(prefix, len, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
}

/// A 40-character secret access key.
pub fn new_secret() -> String {
    random_chars(
        "",
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    )
}

fn random_chars(prefix: &str, len: usize, alphabet: &[u8]) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut out = String::from(prefix);
    let mut round = 0u64;
    while out.len() < len {
        let mut hasher = state.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u64(round);
        let mut bits = hasher.finish();
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(alphabet[(bits % alphabet.len() as u64) as usize] as char);
            bits /= alphabet.len() as u64;
        }
        round += 1;
    }
    out
}

/// Now, epoch seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_dates_have_iams_shapes() {
        let id = new_id("AKIA", 20);
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_ne!(new_id("AKIA", 20), id);
        assert_eq!(new_secret().len(), 40);
    }
}
