//! Managed policies attached to roles and users: attach (at most ten per entity), detach, and
//! the listings both ways (an entity's policies, a policy's entities).

use super::principals::{self, Principal};
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, policies};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::Validation;

/// Managed policies one role or user may have attached.
pub const MAX_ATTACHED: usize = 10;

fn policy_arn(p: &Params, v: &mut Validation) -> String {
    let arn = p.owned("PolicyArn");
    query::arn(v, "policyArn", &arn);
    arn.unwrap_or_default()
}

/// `AttachRolePolicy` / `AttachUserPolicy`.
pub fn attach<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = principals::name_param::<P>(p, &mut v);
    let arn = policy_arn(p, &mut v);
    query::finish(v)?;
    policies::check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        P::find(state, &name)?;
        if policies::find(state, &ctx.account, &arn).is_none() {
            return Err(no_such_entity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
        let attached = P::find_mut(state, &name)?.attached_mut();
        if attached.contains(&arn) {
            return Ok(None);
        }
        if attached.len() >= MAX_ATTACHED {
            return Err(conflict(
                "LimitExceeded",
                format!(
                    "Cannot exceed quota for {}: {MAX_ATTACHED}",
                    P::ATTACHED_QUOTA
                ),
            ));
        }
        attached.push(arn);
        Ok(None)
    })
}

/// `DetachRolePolicy` / `DetachUserPolicy`.
pub fn detach<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = principals::name_param::<P>(p, &mut v);
    let arn = policy_arn(p, &mut v);
    query::finish(v)?;
    policies::check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let attached = P::find_mut(state, &name)?.attached_mut();
        let before = attached.len();
        attached.retain(|a| *a != arn);
        if attached.len() == before {
            return Err(no_such_entity(format!("Policy {arn} was not found.")));
        }
        Ok(None)
    })
}

/// `ListAttachedRolePolicies` / `ListAttachedUserPolicies`.
pub fn list_attached<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = principals::name_param::<P>(p, &mut v);
    let prefix = query::path_prefix(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let items: Vec<(String, (String, String))> = P::find(state, &name)?
            .attached()
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
    let prefix = query::path_prefix(p, &mut v);
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
