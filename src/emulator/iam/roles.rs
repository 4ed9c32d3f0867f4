//! Roles: their trust policies, settings and tags, and the inline policies embedded in them
//! (Firehose and Flink roles commonly carry their permissions inline).

use super::document::{self, Kind};
use super::model::{self, Account, Role};
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, policies};
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
    let name = p.owned("RoleName");
    query::name(v, "roleName", &name, 64);
    name.unwrap_or_default()
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

/// `CreateRole`.
pub fn create(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let path = p.owned("Path");
    query::entity_path(&mut v, &path);
    let trust = p.owned("AssumeRolePolicyDocument");
    query::document(&mut v, "assumeRolePolicyDocument", &trust);
    let description = p.owned("Description");
    if let Some(d) = &description {
        v.length("description", d, 0, 1000);
    }
    let max_session = p.integer("MaxSessionDuration")?;
    if let Some(m) = max_session {
        v.range("maxSessionDuration", m, 3600, 43200);
    }
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

/// `ListRoles`.
pub fn list(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let prefix = p.get("PathPrefix").unwrap_or("/");
    v.length("pathPrefix", prefix, 1, 512);
    v.pattern(
        "pathPrefix",
        prefix,
        query::PATH_PREFIX_PATTERN,
        query::is_path_prefix,
    );
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let items: Vec<(String, &Role)> = state
            .roles
            .iter()
            .filter(|(_, r)| r.path.starts_with(prefix))
            .map(|(k, r)| (k.clone(), r))
            .collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("Roles", &page, |x, r| xml::role(x, &ctx.account, r, false));
        Ok(Some(x.page(marker.as_deref()).finish()))
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
    let description = p.owned("Description");
    if let Some(d) = &description {
        v.length("description", d, 0, 1000);
    }
    let max_session = p.integer("MaxSessionDuration")?;
    if let Some(m) = max_session {
        v.range("maxSessionDuration", m, 3600, 43200);
    }
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

/// `TagRole`.
pub fn tag(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        query::merge_tags(&mut find_mut(state, &name)?.tags, tags)?;
        Ok(None)
    })
}

/// `UntagRole`.
pub fn untag(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let keys = query::tag_keys(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        find_mut(state, &name)?
            .tags
            .retain(|t| !keys.contains(&t.key));
        Ok(None)
    })
}

/// `ListRoleTags`.
pub fn list_tags(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        Ok(Some(policies::tag_page(&find(state, &name)?.tags, p, max)))
    })
}

/// The inline policy name and document members of `Put*Policy`.
pub fn inline_params(p: &Params, v: &mut Validation) -> (String, Option<String>) {
    let policy = p.owned("PolicyName");
    query::name(v, "policyName", &policy, 128);
    let text = p.owned("PolicyDocument");
    query::document(v, "policyDocument", &text);
    (policy.unwrap_or_default(), text)
}

/// `PutRolePolicy`.
pub fn put_inline(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let (policy, text) = inline_params(p, &mut v);
    query::finish(v)?;
    let text = text.unwrap_or_default();
    document::validate(&text, Kind::Identity)?;
    iam.write(&ctx.account, |state| {
        let role = find_mut(state, &name)?;
        let others: usize = role
            .inline
            .iter()
            .filter(|(n, _)| **n != policy)
            .map(|(_, d)| document::size(d))
            .sum();
        if others + document::size(&text) > MAX_INLINE_TOTAL {
            return Err(conflict(
                "LimitExceeded",
                format!(
                    "Maximum policy size of {MAX_INLINE_TOTAL} bytes exceeded for role {}",
                    role.name
                ),
            ));
        }
        role.inline.insert(policy, text);
        Ok(None)
    })
}

/// `NoSuchEntity` for a missing inline policy of `kind` (`role` or `user`).
pub fn no_inline(kind: &str, policy: &str) -> AwsError {
    no_such_entity(format!(
        "The {kind} policy with name {policy} cannot be found."
    ))
}

fn policy_name(p: &Params, v: &mut Validation) -> String {
    let policy = p.owned("PolicyName");
    query::name(v, "policyName", &policy, 128);
    policy.unwrap_or_default()
}

/// `GetRolePolicy`.
pub fn get_inline(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let policy = policy_name(p, &mut v);
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let role = find(state, &name)?;
        let text = role
            .inline
            .get(&policy)
            .ok_or_else(|| no_inline("role", &policy))?;
        let mut x = Xml::new();
        x.text("RoleName", &role.name)
            .text("PolicyName", &policy)
            .text("PolicyDocument", &query::encode_document(text));
        Ok(Some(x.finish()))
    })
}

/// `DeleteRolePolicy`.
pub fn delete_inline(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let policy = policy_name(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        find_mut(state, &name)?
            .inline
            .remove(&policy)
            .map(|_| None)
            .ok_or_else(|| no_inline("role", &policy))
    })
}

/// One page of inline policy names.
pub fn names_page(names: Vec<String>, p: &Params, max: usize) -> String {
    let items = names.into_iter().map(|n| (n.clone(), n)).collect();
    let (page, marker) = xml::paginate(items, p.get("Marker"), max);
    let mut x = Xml::new();
    x.members("PolicyNames", &page, |x, n| {
        x.escaped(n);
    });
    x.page(marker.as_deref()).finish()
}

/// `ListRolePolicies`.
pub fn list_inline(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = role_name(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let names = find(state, &name)?.inline.keys().cloned().collect();
        Ok(Some(names_page(names, p, max)))
    })
}
