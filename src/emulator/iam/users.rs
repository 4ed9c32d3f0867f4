//! Users and their access keys (their listing, tags and inline policies are handled with
//! roles' in [`super::principals`]). Access keys made here are what `--iam-enforce` accepts
//! as signing credentials, mapped back to their user.

use super::model::{self, AccessKey, Account, User};
use super::query::{self, Params};
use super::roles::check_boundary;
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, principals};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Access keys a user may have.
pub const MAX_KEYS: usize = 2;
/// Largest total size of a user's inline policies, in non-whitespace characters.
pub const MAX_INLINE_TOTAL: usize = 2_048;

/// `NoSuchEntity` for a missing user.
pub fn not_found(name: &str) -> AwsError {
    no_such_entity(format!("The user with name {name} cannot be found."))
}

/// The user `name`.
pub fn find<'a>(state: &'a Account, name: &str) -> Result<&'a User, AwsError> {
    state
        .users
        .get(&name.to_lowercase())
        .ok_or_else(|| not_found(name))
}

/// The user `name`, for changes.
pub fn find_mut<'a>(state: &'a mut Account, name: &str) -> Result<&'a mut User, AwsError> {
    state
        .users
        .get_mut(&name.to_lowercase())
        .ok_or_else(|| not_found(name))
}

fn user_name(p: &Params, v: &mut Validation) -> String {
    principals::name_param::<User>(p, v)
}

fn optional_user_name(p: &Params, v: &mut Validation) -> Option<String> {
    let name = p.owned("UserName");
    if let Some(n) = &name {
        v.length("userName", n, 1, 64);
        v.pattern("userName", n, query::NAME_PATTERN, query::is_name);
    }
    name
}

fn user_answer(ctx: &Ctx, user: &User) -> Option<String> {
    let mut inner = Xml::new();
    xml::user(&mut inner, &ctx.account, user, true);
    Some(Xml::new().raw("User", &inner.finish()).finish())
}

/// `CreateUser`.
pub fn create(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = user_name(p, &mut v);
    let path = p.owned("Path");
    query::entity_path(&mut v, &path);
    let boundary = p.owned("PermissionsBoundary");
    if boundary.is_some() {
        query::arn(&mut v, "permissionsBoundary", &boundary);
    }
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let key = name.to_lowercase();
        if state.users.contains_key(&key) {
            return Err(conflict(
                "EntityAlreadyExists",
                format!("User with name {name} already exists."),
            ));
        }
        check_boundary(state, ctx, &boundary)?;
        let mut merged = Vec::new();
        query::merge_tags(&mut merged, tags)?;
        let user = User {
            name: name.clone(),
            id: model::new_id("AIDA", 21),
            path: path.unwrap_or_else(|| "/".to_owned()),
            created: model::now(),
            permissions_boundary: boundary,
            tags: merged,
            attached: Vec::new(),
            inline: Default::default(),
            keys: Vec::new(),
        };
        let answer = user_answer(ctx, &user);
        state.users.insert(key, user);
        Ok(answer)
    })
}

/// `GetUser`; without a user name, the account's root user.
pub fn get(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = optional_user_name(p, &mut v);
    query::finish(v)?;
    let Some(name) = name else {
        let mut inner = Xml::new();
        inner
            .text("Path", "/")
            .text("UserId", &ctx.account)
            .text("Arn", &format!("arn:aws:iam::{}:root", ctx.account))
            .date("CreateDate", 0);
        return Ok(Some(Xml::new().raw("User", &inner.finish()).finish()));
    };
    iam.read(&ctx.account, |state| {
        Ok(user_answer(ctx, find(state, &name)?))
    })
}

/// `DeleteUser`.
pub fn delete(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = user_name(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let user = find(state, &name)?;
        let blocker = if !user.keys.is_empty() {
            Some("Cannot delete entity, must delete access keys first.")
        } else if !user.attached.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else if !user.inline.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else {
            None
        };
        if let Some(message) = blocker {
            return Err(conflict("DeleteConflict", message));
        }
        state.users.remove(&name.to_lowercase());
        Ok(None)
    })
}

/// The user named by `UserName`, which key operations require of root credentials.
fn key_user(p: &Params, v: &mut Validation) -> Result<String, AwsError> {
    optional_user_name(p, v).ok_or_else(|| {
        query::validation_error("Must specify userName when calling with non-User credentials")
    })
}

fn key_id(p: &Params, v: &mut Validation) -> String {
    let id = p.owned("AccessKeyId");
    v.required_length("accessKeyId", &id, 16, 128);
    if let Some(id) = &id {
        v.pattern("accessKeyId", id, r"[\w]+", |s| {
            s.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    }
    id.unwrap_or_default()
}

fn key_not_found(id: &str) -> AwsError {
    no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// `CreateAccessKey`.
pub fn create_key(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = key_user(p, &mut v)?;
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let user = find_mut(state, &name)?;
        if user.keys.len() >= MAX_KEYS {
            return Err(conflict(
                "LimitExceeded",
                format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}"),
            ));
        }
        let key = AccessKey {
            id: model::new_id("AKIA", 20),
            secret: model::new_secret(),
            status: "Active".to_owned(),
            created: model::now(),
        };
        let inner = Xml::new()
            .text("UserName", &user.name)
            .text("AccessKeyId", &key.id)
            .text("Status", &key.status)
            .text("SecretAccessKey", &key.secret)
            .date("CreateDate", key.created)
            .finish();
        user.keys.push(key);
        Ok(Some(Xml::new().raw("AccessKey", &inner).finish()))
    })
}

/// `ListAccessKeys`; without a user name, the root user's keys, of which IAM knows none (the
/// root's keys are the emulator's `--credential`s).
pub fn list_keys(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = optional_user_name(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let keys = match &name {
            Some(name) => find(state, name)?.keys.as_slice(),
            None => &[],
        };
        let user_name = name
            .as_deref()
            .and_then(|n| state.users.get(&n.to_lowercase()))
            .map(|u| u.name.as_str())
            .unwrap_or_default();
        let items = keys.iter().map(|k| (k.id.clone(), k)).collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("AccessKeyMetadata", &page, |x, k| {
            x.text("UserName", user_name)
                .text("AccessKeyId", &k.id)
                .text("Status", &k.status)
                .date("CreateDate", k.created);
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}

/// `UpdateAccessKey`.
pub fn update_key(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = key_user(p, &mut v)?;
    let id = key_id(p, &mut v);
    let status = p.owned("Status");
    v.required("status", &status);
    if let Some(s) = &status {
        v.one_of("status", s, &["Active", "Inactive"]);
    }
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let user = find_mut(state, &name)?;
        let key = user
            .keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| key_not_found(&id))?;
        key.status = status.unwrap_or_default();
        Ok(None)
    })
}

/// `DeleteAccessKey`.
pub fn delete_key(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = key_user(p, &mut v)?;
    let id = key_id(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let user = find_mut(state, &name)?;
        let before = user.keys.len();
        user.keys.retain(|k| k.id != id);
        if user.keys.len() == before {
            return Err(key_not_found(&id));
        }
        Ok(None)
    })
}
