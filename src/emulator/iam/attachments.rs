//! Managed policies attached to roles and users: attach (at most ten per entity), detach, and
//! the listings both ways (an entity's policies, a policy's entities).

use super::model::Account;
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, policies, roles, users};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Managed policies one role or user may have attached.
pub const MAX_ATTACHED: usize = 10;

/// What a policy is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A role (`RoleName`).
    Role,
    /// A user (`UserName`).
    User,
}

impl Entity {
    fn param(self) -> (&'static str, &'static str) {
        match self {
            Entity::Role => ("RoleName", "roleName"),
            Entity::User => ("UserName", "userName"),
        }
    }

    fn name(self, p: &Params, v: &mut Validation) -> String {
        let (param, path) = self.param();
        let name = p.owned(param);
        query::name(v, path, &name, 64);
        name.unwrap_or_default()
    }

    /// The attached policy ARNs of the entity `name`.
    fn attached<'a>(self, state: &'a Account, name: &str) -> Result<&'a Vec<String>, AwsError> {
        match self {
            Entity::Role => roles::find(state, name).map(|r| &r.attached),
            Entity::User => users::find(state, name).map(|u| &u.attached),
        }
    }

    fn attached_mut<'a>(
        self,
        state: &'a mut Account,
        name: &str,
    ) -> Result<&'a mut Vec<String>, AwsError> {
        match self {
            Entity::Role => roles::find_mut(state, name).map(|r| &mut r.attached),
            Entity::User => users::find_mut(state, name).map(|u| &mut u.attached),
        }
    }
}

fn policy_arn(p: &Params, v: &mut Validation) -> String {
    let arn = p.owned("PolicyArn");
    query::arn(v, "policyArn", &arn);
    arn.unwrap_or_default()
}

/// `AttachRolePolicy` / `AttachUserPolicy`.
pub fn attach(iam: &Iam, ctx: &Ctx, p: &Params, entity: Entity) -> Answer {
    let mut v = Validation::new();
    let name = entity.name(p, &mut v);
    let arn = policy_arn(p, &mut v);
    query::finish(v)?;
    policies::check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        entity.attached(state, &name)?;
        if policies::find(state, &ctx.account, &arn).is_none() {
            return Err(no_such_entity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
        let attached = entity.attached_mut(state, &name)?;
        if attached.contains(&arn) {
            return Ok(None);
        }
        if attached.len() >= MAX_ATTACHED {
            let quota = match entity {
                Entity::Role => "PoliciesPerRole",
                Entity::User => "PoliciesPerUser",
            };
            return Err(conflict(
                "LimitExceeded",
                format!("Cannot exceed quota for {quota}: {MAX_ATTACHED}"),
            ));
        }
        attached.push(arn);
        Ok(None)
    })
}

/// `DetachRolePolicy` / `DetachUserPolicy`.
pub fn detach(iam: &Iam, ctx: &Ctx, p: &Params, entity: Entity) -> Answer {
    let mut v = Validation::new();
    let name = entity.name(p, &mut v);
    let arn = policy_arn(p, &mut v);
    query::finish(v)?;
    policies::check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let attached = entity.attached_mut(state, &name)?;
        let before = attached.len();
        attached.retain(|a| *a != arn);
        if attached.len() == before {
            return Err(no_such_entity(format!("Policy {arn} was not found.")));
        }
        Ok(None)
    })
}

fn path_prefix<'a>(p: &'a Params, v: &mut Validation) -> &'a str {
    let prefix = p.get("PathPrefix").unwrap_or("/");
    v.length("pathPrefix", prefix, 1, 512);
    v.pattern(
        "pathPrefix",
        prefix,
        query::PATH_PREFIX_PATTERN,
        query::is_path_prefix,
    );
    prefix
}

/// `ListAttachedRolePolicies` / `ListAttachedUserPolicies`.
pub fn list_attached(iam: &Iam, ctx: &Ctx, p: &Params, entity: Entity) -> Answer {
    let mut v = Validation::new();
    let name = entity.name(p, &mut v);
    let prefix = path_prefix(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let items: Vec<(String, (String, String))> = entity
            .attached(state, &name)?
            .iter()
            .filter_map(|arn| {
                let (_, path, policy) = policies::parse_arn(arn)?;
                path.starts_with(prefix)
                    .then(|| (arn.clone(), (policy.to_owned(), arn.clone())))
            })
            .enumerate()
            .map(|(i, (_, item))| (format!("{i:04}"), item))
            .collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("AttachedPolicies", &page, |x, (policy, arn)| {
            x.text("PolicyName", policy).text("PolicyArn", arn);
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}

/// `ListEntitiesForPolicy`.
pub fn list_entities(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn(p, &mut v);
    let filter = p.get("EntityFilter");
    if let Some(f) = filter {
        v.one_of(
            "entityFilter",
            f,
            &[
                "User",
                "Role",
                "Group",
                "LocalManagedPolicy",
                "AWSManagedPolicy",
            ],
        );
    }
    if let Some(u) = p.get("PolicyUsageFilter") {
        v.one_of(
            "policyUsageFilter",
            u,
            &["PermissionsPolicy", "PermissionsBoundary"],
        );
    }
    let boundary = p.get("PolicyUsageFilter") == Some("PermissionsBoundary");
    let prefix = path_prefix(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    policies::check_arn(&arn)?;
    iam.read(&ctx.account, |state| {
        if policies::find(state, &ctx.account, &arn).is_none() {
            return Err(no_such_entity(format!("Policy {arn} was not found.")));
        }
        let uses = |attached: &[String], bound: &Option<String>| {
            if boundary {
                bound.as_deref() == Some(arn.as_str())
            } else {
                attached.contains(&arn)
            }
        };
        // Roles and users in one sequence, so that one marker pages through both.
        let mut items: Vec<(String, (bool, String, String))> = Vec::new();
        if filter.is_none_or(|f| f == "User") {
            for (key, u) in &state.users {
                if u.path.starts_with(prefix) && uses(&u.attached, &u.permissions_boundary) {
                    items.push((format!("u/{key}"), (true, u.name.clone(), u.id.clone())));
                }
            }
        }
        if filter.is_none_or(|f| f == "Role") {
            for (key, r) in &state.roles {
                if r.path.starts_with(prefix) && uses(&r.attached, &r.permissions_boundary) {
                    items.push((format!("r/{key}"), (false, r.name.clone(), r.id.clone())));
                }
            }
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let users: Vec<&(bool, String, String)> = page.iter().filter(|e| e.0).collect();
        let roles: Vec<&(bool, String, String)> = page.iter().filter(|e| !e.0).collect();
        let mut x = Xml::new();
        x.raw("PolicyGroups", "");
        x.members("PolicyUsers", &users, |x, (_, name, id)| {
            x.text("UserName", name).text("UserId", id);
        });
        x.members("PolicyRoles", &roles, |x, (_, name, id)| {
            x.text("RoleName", name).text("RoleId", id);
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}
