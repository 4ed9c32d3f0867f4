//! What every signed request reads, prepared once per IAM change: access keys to their
//! owners, and each user's and role's policies already parsed (a role's trust policy too).
//!
//! Why: under `--iam-enforce` every request is evaluated, and IAM state changes rarely. The
//! index of an account is rebuilt after each of its changes (so it can never show a stale
//! policy version), each distinct document parsed once per rebuild, and it sits behind its
//! own read-write lock: a request takes a read lock for a few map lookups and clones an
//! `Arc`, and neither waits behind an IAM write nor parses JSON.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::KeyOwner;
use super::model::{self, Account};
use super::policies;

/// Parsed policy documents.
pub type Documents = Arc<[Arc<Value>]>;

/// A role as enforcement and STS see it.
#[derive(Clone, Debug)]
pub struct RoleEntry {
    /// Name as created.
    pub name: String,
    /// `AROA...` ID.
    pub id: String,
    /// `arn:aws:iam::<account>:role/<path><name>`.
    pub arn: String,
    /// Longest session, seconds.
    pub max_session_duration: i64,
    /// The trust policy, parsed (`Null` if it no longer parses).
    pub trust: Arc<Value>,
    /// Its inline policies and the default versions of its attached managed policies.
    pub policies: Documents,
}

/// The index of every account.
#[derive(Default)]
pub struct Index {
    keys: HashMap<String, KeyOwner>,
    users: HashMap<(String, String), Documents>,
    roles: HashMap<(String, String), Arc<RoleEntry>>,
}

/// Parses documents, each distinct text once.
#[derive(Default)]
struct Parser(HashMap<String, Arc<Value>>);

impl Parser {
    fn parse(&mut self, text: &str) -> Arc<Value> {
        if let Some(parsed) = self.0.get(text) {
            return parsed.clone();
        }
        let parsed = Arc::new(serde_json::from_str(text).unwrap_or(Value::Null));
        self.0.insert(text.to_owned(), parsed.clone());
        parsed
    }

    /// The inline documents and the default versions of the attached managed policies.
    fn documents<'a>(
        &mut self,
        state: &Account,
        account: &str,
        inline: impl Iterator<Item = &'a String>,
        attached: &[String],
    ) -> Documents {
        let mut out: Vec<Arc<Value>> = inline.map(|text| self.parse(text)).collect();
        for arn in attached {
            if let Some(p) = policies::find(state, account, arn) {
                out.push(self.parse(p.default_document()));
            }
        }
        out.into()
    }
}

impl Index {
    /// Replaces what the index holds for `account` with what `state` says.
    pub fn rebuild(&mut self, account: &str, state: Option<&Account>) {
        self.keys.retain(|_, owner| owner.account != account);
        self.users.retain(|(a, _), _| a != account);
        self.roles.retain(|(a, _), _| a != account);
        let Some(state) = state else {
            return;
        };
        let mut parser = Parser::default();
        for (key, user) in &state.users {
            for k in &user.keys {
                self.keys.insert(
                    k.id.clone(),
                    KeyOwner {
                        account: account.to_owned(),
                        user: user.name.clone(),
                        user_id: user.id.clone(),
                        user_arn: model::arn(account, "user", &user.path, &user.name),
                        secret: k.secret.clone(),
                        active: k.status == "Active",
                    },
                );
            }
            let documents = parser.documents(state, account, user.inline.values(), &user.attached);
            self.users
                .insert((account.to_owned(), key.clone()), documents);
        }
        for (key, role) in &state.roles {
            let entry = RoleEntry {
                name: role.name.clone(),
                id: role.id.clone(),
                arn: model::arn(account, "role", &role.path, &role.name),
                max_session_duration: role.max_session_duration,
                trust: parser.parse(&role.trust_policy),
                policies: parser.documents(state, account, role.inline.values(), &role.attached),
            };
            self.roles
                .insert((account.to_owned(), key.clone()), Arc::new(entry));
        }
    }

    /// Replaces what the index holds for `account` with what `built` (an index of that
    /// account alone, prepared without the lock) holds.
    pub fn replace(&mut self, account: &str, built: Index) {
        self.keys.retain(|_, owner| owner.account != account);
        self.users.retain(|(a, _), _| a != account);
        self.roles.retain(|(a, _), _| a != account);
        self.keys.extend(built.keys);
        self.users.extend(built.users);
        self.roles.extend(built.roles);
    }

    /// The owner of access key `id`.
    pub fn key(&self, id: &str) -> Option<&KeyOwner> {
        self.keys.get(id)
    }

    /// The parsed policies of user `name` (any case) in `account`; none when it is gone.
    pub fn user_policies(&self, account: &str, name: &str) -> Documents {
        self.users
            .get(&(account.to_owned(), name.to_lowercase()))
            .cloned()
            .unwrap_or_else(|| Arc::new([]))
    }

    /// Role `name` (any case) of `account`.
    pub fn role(&self, account: &str, name: &str) -> Option<Arc<RoleEntry>> {
        self.roles
            .get(&(account.to_owned(), name.to_lowercase()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::iam::model::{ManagedPolicy, PolicyVersion, Role};

    #[test]
    fn a_change_replaces_the_parsed_documents_and_shares_equal_texts() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let mut state = Account::default();
        state.policies.insert(
            "p".to_owned(),
            ManagedPolicy {
                name: "p".to_owned(),
                id: "ANPA1".to_owned(),
                path: "/".to_owned(),
                description: None,
                created: 0,
                updated: 0,
                default_version: 1,
                next_version: 2,
                versions: [(
                    1,
                    PolicyVersion {
                        document: doc.to_owned(),
                        created: 0,
                    },
                )]
                .into(),
                tags: Vec::new(),
            },
        );
        state.roles.insert(
            "writer".to_owned(),
            Role {
                name: "Writer".to_owned(),
                id: "AROA1".to_owned(),
                path: "/".to_owned(),
                created: 0,
                trust_policy: "{}".to_owned(),
                description: None,
                max_session_duration: 3600,
                permissions_boundary: None,
                tags: Vec::new(),
                attached: vec!["arn:aws:iam::111122223333:policy/p".to_owned()],
                inline: [("i".to_owned(), doc.to_owned())].into(),
            },
        );
        let mut index = Index::default();
        index.rebuild("111122223333", Some(&state));
        let role = index.role("111122223333", "WRITER").expect("the role");
        assert_eq!(role.arn, "arn:aws:iam::111122223333:role/Writer");
        assert_eq!(role.policies.len(), 2);
        assert!(Arc::ptr_eq(&role.policies[0], &role.policies[1]));
        index.rebuild("111122223333", None);
        assert!(index.role("111122223333", "writer").is_none());
    }
}
