//! Roles: their trust policies and settings. Their listing, tags and the inline policies
//! embedded in them (Firehose and Flink roles commonly carry their permissions inline) are
//! handled with users' in [`super::principals`].

use super::document::{self, Kind};
use super::model::{self, Account, Role};
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, policies, principals};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Largest trust policy, in non-whitespace characters.
pub const MAX_TRUST_POLICY: usize = 2_048;
/// Largest total size of a role's inline policies, in non-whitespace characters.
pub const MAX_INLINE_TOTAL: usize = 10_240;

/// `NoSuchEntity` for a missing role.
pub fn not_found(name: &str) -> AwsError {
    no_such_entity(format!("The role with name {name} cannot be found."))
}

/// The role `name`.
pub fn find<'a>(state: &'a Account, name: &str) -> Result<&'a Role, AwsError> {
    state
        .roles
        .get(&name.to_lowercase())
        .ok_or_else(|| not_found(name))
}

/// The role `name`, for changes.
pub fn find_mut<'a>(state: &'a mut Account, name: &str) -> Result<&'a mut Role, AwsError> {
    state
        .roles
        .get_mut(&name.to_lowercase())
        .ok_or_else(|| not_found(name))
}

fn role_name(p: &Params, v: &mut Validation) -> String {
    principals::name_param::<Role>(p, v)
}

/// Checks a trust policy: grammar and quota.
fn check_trust(text: &str) -> Result<(), AwsError> {
    document::validate(text, Kind::Trust)?;
    if document::size(text) > MAX_TRUST_POLICY {
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"),
        ));
    }
    Ok(())
}

fn role_answer(ctx: &Ctx, role: &Role) -> Option<String> {
    let mut inner = Xml::new();
    xml::role(&mut inner, &ctx.account, role, true);
    Some(Xml::new().raw("Role", &inner.finish()).finish())
}

/// Checks that a permissions boundary names an existing managed policy.
pub fn check_boundary(state: &Account, ctx: &Ctx, arn: &Option<String>) -> Result<(), AwsError> {
    match arn {
        Some(arn) if policies::find(state, &ctx.account, arn).is_none() => Err(no_such_entity(
            format!("Policy {arn} does not exist or is not attachable."),
        )),
        _ => Ok(()),
    }
}

/// The optional `Description` and `MaxSessionDuration` members of `CreateRole` and
/// `UpdateRole`, checked.
fn settings(p: &Params, v: &mut Validation) -> Result<(Option<String>, Option<i64>), AwsError> {
    let description = p.owned("Description");
    if let Some(d) = &description {
        v.length("description", d, 0, 1000);
    }
    let max_session = p.integer("MaxSessionDuration")?;
    if let Some(m) = max_session {
        v.range("maxSessionDuration", m, 3600, 43200);
    }
    Ok((description, max_session))
}

/// `CreateRole`.
pub fn create(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let path = p.owned("Path");
    query::entity_path(&mut v, &path);
    let trust = p.owned("AssumeRolePolicyDocument");
    query::document(&mut v, "assumeRolePolicyDocument", &trust);
    let (description, max_session) = settings(p, &mut v)?;
    let boundary = p.owned("PermissionsBoundary");
    if boundary.is_some() {
        query::arn(&mut v, "permissionsBoundary", &boundary);
    }
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    let trust = trust.unwrap_or_default();
    check_trust(&trust)?;
    iam.write(&ctx.account, |state| {
        let key = name.to_lowercase();
        if state.roles.contains_key(&key) {
            return Err(conflict(
                "EntityAlreadyExists",
                format!("Role with name {name} already exists."),
            ));
        }
        check_boundary(state, ctx, &boundary)?;
        let mut merged = Vec::new();
        query::merge_tags(&mut merged, tags)?;
        let role = Role {
            name: name.clone(),
            id: model::new_id("AROA", 21),
            path: path.unwrap_or_else(|| "/".to_owned()),
            created: model::now(),
            trust_policy: trust,
            description,
            max_session_duration: max_session.unwrap_or(3600),
            permissions_boundary: boundary,
            tags: merged,
            attached: Vec::new(),
            inline: Default::default(),
        };
        let answer = role_answer(ctx, &role);
        state.roles.insert(key, role);
        Ok(answer)
    })
}

/// `GetRole`.
pub fn get(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        Ok(role_answer(ctx, find(state, &name)?))
    })
}

/// `DeleteRole`.
pub fn delete(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let role = find(state, &name)?;
        if !role.attached.is_empty() {
            return Err(conflict(
                "DeleteConflict",
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !role.inline.is_empty() {
            return Err(conflict(
                "DeleteConflict",
                "Cannot delete entity, must delete policies first.",
            ));
        }
        state.roles.remove(&name.to_lowercase());
        Ok(None)
    })
}

/// `UpdateRole`.
pub fn update(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let (description, max_session) = settings(p, &mut v)?;
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let role = find_mut(state, &name)?;
        if description.is_some() {
            role.description = description;
        }
        if let Some(m) = max_session {
            role.max_session_duration = m;
        }
        Ok(Some(String::new()))
    })
}

/// `UpdateRoleDescription`.
pub fn update_description(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let description = p.owned("Description");
    v.required_length("description", &description, 0, 1000);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        let role = find_mut(state, &name)?;
        role.description = description;
        Ok(role_answer(ctx, role))
    })
}

/// `UpdateAssumeRolePolicy`.
pub fn update_trust(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let trust = p.owned("PolicyDocument");
    query::document(&mut v, "policyDocument", &trust);
    query::finish(v)?;
    let trust = trust.unwrap_or_default();
    iam.write(&ctx.account, |state| {
        let role = find_mut(state, &name)?;
        check_trust(&trust)?;
        role.trust_policy = trust;
        Ok(None)
    })
}
