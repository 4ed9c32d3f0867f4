//! Managed policies: create, read, list and delete them, their versions (at most five, one of
//! them the default) and their tags. Customer managed policies live in the caller's account;
//! the AWS managed ones ([`super::aws_managed`]) are read-only.

use std::borrow::Cow;

use super::document::{self, Kind};
use super::model::{self, Account, ManagedPolicy, PolicyVersion};
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, aws_managed, conflict, no_such_entity};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Versions a managed policy may have.
pub const MAX_VERSIONS: usize = 5;
/// Largest managed policy document, in non-whitespace characters.
pub const MAX_DOCUMENT: usize = 6_144;

impl ManagedPolicy {
    /// The document of the default version.
    pub fn default_document(&self) -> &str {
        self.versions
            .get(&self.default_version)
            .map(|v| v.document.as_str())
            .unwrap_or_default()
    }
}

/// The (account, path, name) an `arn:aws:iam::<account>:policy/<path><name>` names.
pub fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("policy")?;
    let slash = path_and_name.rfind('/')?;
    let (path, name) = (&path_and_name[..=slash], &path_and_name[slash + 1..]);
    (path.starts_with('/') && !name.is_empty()).then_some((account, path, name))
}

/// The policy `arn` as seen from `account`: its own customer managed policies and the AWS
/// managed ones.
pub fn find<'a>(state: &'a Account, account: &str, arn: &str) -> Option<Cow<'a, ManagedPolicy>> {
    let (owner, path, name) = parse_arn(arn)?;
    if owner == "aws" {
        return aws_managed::policy(name)
            .filter(|p| p.path == path)
            .map(Cow::Owned);
    }
    if owner != account {
        return None;
    }
    state
        .policies
        .get(&name.to_lowercase())
        .filter(|p| p.path == path && p.name == name)
        .map(Cow::Borrowed)
}

fn not_found(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} was not found."))
}

/// The caller's own policy `arn`, for changes; AWS managed policies are refused.
fn own<'a>(
    state: &'a mut Account,
    ctx: &Ctx,
    arn: &str,
    action: &str,
) -> Result<&'a mut ManagedPolicy, AwsError> {
    match parse_arn(arn) {
        Some(("aws", _, name)) if aws_managed::policy(name).is_some() => Err(AwsError {
            code: "AccessDenied",
            message: format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: iam:{action} on resource: policy {arn}",
                ctx.account
            ),
            status: 403,
        }),
        Some((owner, path, name)) if owner == ctx.account => state
            .policies
            .get_mut(&name.to_lowercase())
            .filter(|p| p.path == path && p.name == name)
            .ok_or_else(|| not_found(arn)),
        _ => Err(not_found(arn)),
    }
}

/// Checks a managed policy document: grammar and quota.
fn check_document(text: &str) -> Result<(), AwsError> {
    document::validate(text, Kind::Identity)?;
    if document::size(text) > MAX_DOCUMENT {
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for PolicySize: {MAX_DOCUMENT}"),
        ));
    }
    Ok(())
}

fn policy_arn_param(p: &Params, v: &mut Validation) -> String {
    let arn = p.owned("PolicyArn");
    query::arn(v, "policyArn", &arn);
    arn.unwrap_or_default()
}

/// `InvalidInput` unless `arn` has the shape of an IAM ARN (checked after the model's
/// constraints, as IAM does).
pub fn check_arn(arn: &str) -> Result<(), AwsError> {
    let valid = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(account, resource)| {
            !account.is_empty() && !resource.is_empty() && !resource.contains(':')
        });
    if valid {
        Ok(())
    } else {
        Err(AwsError::client(
            "InvalidInput",
            format!("ARN {arn} is not valid."),
        ))
    }
}

fn version_param(p: &Params, v: &mut Validation) -> String {
    let id = p.owned("VersionId");
    v.required("versionId", &id);
    if let Some(id) = &id {
        v.pattern(
            "versionId",
            id,
            query::VERSION_PATTERN,
            query::is_version_id,
        );
    }
    id.unwrap_or_default()
}

fn version_number(id: &str) -> Option<u32> {
    id.strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// `CreatePolicy`.
pub fn create(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = p.owned("PolicyName");
    query::name(&mut v, "policyName", &name, 128);
    let path = p.owned("Path");
    query::policy_path(&mut v, &path);
    let text = p.owned("PolicyDocument");
    query::document(&mut v, "policyDocument", &text);
    let description = p.owned("Description");
    if let Some(d) = &description {
        v.length("description", d, 0, 1000);
    }
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    let (name, text) = (name.unwrap_or_default(), text.unwrap_or_default());
    check_document(&text)?;
    let path = path.unwrap_or_else(|| "/".to_owned());
    iam.write(&ctx.account, |state| {
        let key = name.to_lowercase();
        if state.policies.contains_key(&key) {
            return Err(conflict(
                "EntityAlreadyExists",
                format!("A policy called {name} already exists. Duplicate names are not allowed."),
            ));
        }
        let now = model::now();
        let mut merged = Vec::new();
        query::merge_tags(&mut merged, tags)?;
        let policy = ManagedPolicy {
            name: name.clone(),
            id: model::new_id("ANPA", 21),
            path,
            description,
            created: now,
            updated: now,
            default_version: 1,
            next_version: 2,
            versions: [(
                1,
                PolicyVersion {
                    document: text,
                    created: now,
                },
            )]
            .into(),
            tags: merged,
        };
        state.policies.insert(key.clone(), policy);
        let mut inner = Xml::new();
        xml::policy(&mut inner, &ctx.account, &state.policies[&key], state, true);
        Ok(Some(Xml::new().raw("Policy", &inner.finish()).finish()))
    })
}

/// `GetPolicy`.
pub fn get(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.read(&ctx.account, |state| {
        let policy = find(state, &ctx.account, &arn).ok_or_else(|| not_found(&arn))?;
        let owner = parse_arn(&arn).map_or("", |(a, _, _)| a);
        let mut inner = Xml::new();
        xml::policy(&mut inner, owner, &policy, state, true);
        Ok(Some(Xml::new().raw("Policy", &inner.finish()).finish()))
    })
}

/// `ListPolicies`.
pub fn list(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let scope = p.get("Scope").unwrap_or("All");
    v.one_of("scope", scope, &["All", "AWS", "Local"]);
    let usage = p.get("PolicyUsageFilter");
    if let Some(u) = usage {
        v.one_of(
            "policyUsageFilter",
            u,
            &["PermissionsPolicy", "PermissionsBoundary"],
        );
    }
    let prefix = query::path_prefix(p, &mut v);
    let only_attached = p.boolean("OnlyAttached")?.unwrap_or(false);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let mut items: Vec<(String, (String, Cow<'_, ManagedPolicy>))> = Vec::new();
        if scope != "AWS" {
            for policy in state.policies.values() {
                let arn = model::arn(&ctx.account, "policy", &policy.path, &policy.name);
                items.push((arn, (ctx.account.clone(), Cow::Borrowed(policy))));
            }
        }
        if scope != "Local" {
            for policy in aws_managed::names().filter_map(aws_managed::policy) {
                let arn = model::arn("aws", "policy", &policy.path, &policy.name);
                items.push((arn, ("aws".to_owned(), Cow::Owned(policy))));
            }
        }
        items.retain(|(arn, (_, policy))| {
            let attachments = state.attachment_count(arn);
            let boundaries = state.boundary_count(arn);
            policy.path.starts_with(prefix)
                && (!only_attached || attachments + boundaries > 0)
                && match usage {
                    Some("PermissionsBoundary") => boundaries > 0,
                    _ => true,
                }
        });
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("Policies", &page, |x, (owner, policy)| {
            xml::policy(x, owner, policy, state, false)
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}

/// `DeletePolicy`.
pub fn delete(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let attached = state.attachment_count(&arn) + state.boundary_count(&arn);
        let policy = own(state, ctx, &arn, "DeletePolicy")?;
        if attached > 0 {
            return Err(conflict(
                "DeleteConflict",
                "Cannot delete a policy attached to entities.",
            ));
        }
        if policy.versions.len() > 1 {
            return Err(conflict(
                "DeleteConflict",
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        let key = policy.name.to_lowercase();
        state.policies.remove(&key);
        Ok(None)
    })
}

fn version_xml(
    x: &mut Xml,
    policy: &ManagedPolicy,
    number: u32,
    version: &PolicyVersion,
    with_document: bool,
) {
    if with_document {
        x.text("Document", &query::encode_document(&version.document));
    }
    x.text("VersionId", &format!("v{number}"))
        .value("IsDefaultVersion", number == policy.default_version)
        .date("CreateDate", version.created);
}

/// `CreatePolicyVersion`.
pub fn create_version(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let text = p.owned("PolicyDocument");
    query::document(&mut v, "policyDocument", &text);
    let set_default = p.boolean("SetAsDefault")?.unwrap_or(false);
    query::finish(v)?;
    check_arn(&arn)?;
    let text = text.unwrap_or_default();
    iam.write(&ctx.account, |state| {
        let policy = own(state, ctx, &arn, "CreatePolicyVersion")?;
        check_document(&text)?;
        if policy.versions.len() >= MAX_VERSIONS {
            return Err(conflict(
                "LimitExceeded",
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let number = policy.next_version;
        let now = model::now();
        policy.next_version += 1;
        policy.versions.insert(
            number,
            PolicyVersion {
                document: text,
                created: now,
            },
        );
        if set_default {
            policy.default_version = number;
            policy.updated = now;
        }
        let mut inner = Xml::new();
        version_xml(&mut inner, policy, number, &policy.versions[&number], false);
        Ok(Some(Xml::new().raw("PolicyVersion", &inner.finish()).finish()))
    })
}

fn no_version(arn: &str, id: &str) -> AwsError {
    no_such_entity(format!(
        "Policy {arn} version {id} does not exist or is not attachable."
    ))
}

/// `GetPolicyVersion`.
pub fn get_version(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let id = version_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.read(&ctx.account, |state| {
        let policy = find(state, &ctx.account, &arn).ok_or_else(|| not_found(&arn))?;
        let number = version_number(&id).filter(|n| policy.versions.contains_key(n));
        let Some(number) = number else {
            return Err(no_version(&arn, &id));
        };
        let mut inner = Xml::new();
        version_xml(&mut inner, &policy, number, &policy.versions[&number], true);
        Ok(Some(
            Xml::new().raw("PolicyVersion", &inner.finish()).finish(),
        ))
    })
}

/// `ListPolicyVersions` (newest first).
pub fn list_versions(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    check_arn(&arn)?;
    iam.read(&ctx.account, |state| {
        let policy = find(state, &ctx.account, &arn).ok_or_else(|| not_found(&arn))?;
        let items: Vec<(String, u32)> = policy
            .versions
            .keys()
            .rev()
            .map(|n| (format!("{:010}", u32::MAX - n), *n))
            .collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("Versions", &page, |x, n| {
            version_xml(x, &policy, *n, &policy.versions[n], false)
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}

/// `DeletePolicyVersion`.
pub fn delete_version(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let id = version_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let policy = own(state, ctx, &arn, "DeletePolicyVersion")?;
        let number = version_number(&id)
            .filter(|n| policy.versions.contains_key(n))
            .ok_or_else(|| no_version(&arn, &id))?;
        if number == policy.default_version {
            return Err(conflict(
                "DeleteConflict",
                "Cannot delete the default version of a policy.",
            ));
        }
        policy.versions.remove(&number);
        Ok(None)
    })
}

/// `SetDefaultPolicyVersion`.
pub fn set_default_version(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let id = version_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let policy = own(state, ctx, &arn, "SetDefaultPolicyVersion")?;
        let number = version_number(&id)
            .filter(|n| policy.versions.contains_key(n))
            .ok_or_else(|| no_version(&arn, &id))?;
        if number != policy.default_version {
            policy.default_version = number;
            policy.updated = model::now();
        }
        Ok(None)
    })
}

/// `TagPolicy`.
pub fn tag(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let policy = own(state, ctx, &arn, "TagPolicy")?;
        query::merge_tags(&mut policy.tags, tags)?;
        Ok(None)
    })
}

/// `UntagPolicy`.
pub fn untag(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let keys = query::tag_keys(p, &mut v);
    query::finish(v)?;
    check_arn(&arn)?;
    iam.write(&ctx.account, |state| {
        let policy = own(state, ctx, &arn, "UntagPolicy")?;
        policy.tags.retain(|t| !keys.contains(&t.key));
        Ok(None)
    })
}

/// `ListPolicyTags`.
pub fn list_tags(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let arn = policy_arn_param(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    check_arn(&arn)?;
    iam.read(&ctx.account, |state| {
        let policy = find(state, &ctx.account, &arn).ok_or_else(|| not_found(&arn))?;
        Ok(Some(tag_page(&policy.tags, p, max)))
    })
}

/// One page of `tags` as a `List*Tags` answer; the marker is the position of the next tag.
pub fn tag_page(tags: &[model::Tag], p: &Params, max: usize) -> String {
    let items: Vec<(String, model::Tag)> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{i:04}"), t.clone()))
        .collect();
    let (page, marker) = xml::paginate(items, p.get("Marker"), max);
    let mut x = Xml::new();
    xml::tag_list(&mut x, &page);
    x.page(marker.as_deref()).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns() {
        assert_eq!(
            parse_arn("arn:aws:iam::123456789012:policy/a/b/Writer"),
            Some(("123456789012", "/a/b/", "Writer"))
        );
        assert_eq!(
            parse_arn("arn:aws:iam::aws:policy/AmazonKinesisFullAccess"),
            Some(("aws", "/", "AmazonKinesisFullAccess"))
        );
        for bad in ["arn:aws:iam::1:role/x", "arn:aws:iam::1:policy/", "nope"] {
            assert_eq!(parse_arn(bad), None, "{bad}");
        }
        assert_eq!(version_number("v12"), Some(12));
    }
}
