//! What roles and users have alike: a name, tags and inline policies. Their `Tag*`,
//! `Untag*`, `List*Tags` and `Put/Get/Delete/List*Policy` operations (and the attachments in
//! [`super::attachments`]) differ only in the parameter that names the principal, the noun in
//! the messages and the quotas, so they are written once over [`Principal`].

use std::collections::BTreeMap;

use super::document::{self, Kind};
use super::model::{Account, Role, Tag, User};
use super::query::{self, Params};
use super::xml::{self, Xml};
use super::{Answer, Iam, conflict, no_such_entity, policies, roles, users};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// A role or a user, as its shared operations see it.
pub trait Principal: Sized {
    /// `role` or `user`, as AWS's messages name it.
    const NOUN: &'static str;
    /// The request member (and answer element) naming it: `RoleName`, `UserName`.
    const NAME_MEMBER: &'static str;
    /// The member's name in validation messages: `roleName`, `userName`.
    const NAME_FIELD: &'static str;
    /// Largest total size of its inline policies, in non-whitespace characters.
    const MAX_INLINE_TOTAL: usize;
    /// The quota named when too many managed policies are attached: `PoliciesPerRole`.
    const ATTACHED_QUOTA: &'static str;
    /// The element listing them: `Roles`, `Users`.
    const LIST_ELEMENT: &'static str;

    /// All of them in an account, by lowercased name.
    fn all(state: &Account) -> &BTreeMap<String, Self>;
    /// Writes its members as `Get*` (`full`) or `List*` show them.
    fn write(&self, x: &mut Xml, account: &str, full: bool);
    /// Its path.
    fn path(&self) -> &str;

    /// The principal `name`, or `NoSuchEntity`.
    fn find<'a>(state: &'a Account, name: &str) -> Result<&'a Self, AwsError>;
    /// The principal `name` for changes, or `NoSuchEntity`.
    fn find_mut<'a>(state: &'a mut Account, name: &str) -> Result<&'a mut Self, AwsError>;
    /// Its name as created.
    fn name(&self) -> &str;
    /// Its tags.
    fn tags(&self) -> &[Tag];
    /// Its tags, for changes.
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
    /// Its inline policies by name.
    fn inline(&self) -> &BTreeMap<String, String>;
    /// Its inline policies by name, for changes.
    fn inline_mut(&mut self) -> &mut BTreeMap<String, String>;
    /// ARNs of its attached managed policies, in attachment order.
    fn attached(&self) -> &[String];
    /// ARNs of its attached managed policies, for changes.
    fn attached_mut(&mut self) -> &mut Vec<String>;
}

/// Implements [`Principal`] for a model type whose fields are named alike (`name`, `path`,
/// `tags`, `inline`, `attached`): `module` has its `find`, `find_mut` and `MAX_INLINE_TOTAL`,
/// `map` is its field of [`Account`], `xml` writes it.
macro_rules! principal {
    ($ty:ident {
        module: $module:ident,
        noun: $noun:literal,
        member: $member:literal,
        field: $field:literal,
        quota: $quota:literal,
        list: $list:literal,
        map: $map:ident,
        xml: $xml:path,
    }) => {
        impl Principal for $ty {
            const NOUN: &'static str = $noun;
            const NAME_MEMBER: &'static str = $member;
            const NAME_FIELD: &'static str = $field;
            const MAX_INLINE_TOTAL: usize = $module::MAX_INLINE_TOTAL;
            const ATTACHED_QUOTA: &'static str = $quota;
            const LIST_ELEMENT: &'static str = $list;

            fn all(state: &Account) -> &BTreeMap<String, Self> {
                &state.$map
            }
            fn write(&self, x: &mut Xml, account: &str, full: bool) {
                $xml(x, account, self, full)
            }
            fn path(&self) -> &str {
                &self.path
            }

            fn find<'a>(state: &'a Account, name: &str) -> Result<&'a Self, AwsError> {
                $module::find(state, name)
            }
            fn find_mut<'a>(state: &'a mut Account, name: &str) -> Result<&'a mut Self, AwsError> {
                $module::find_mut(state, name)
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn tags(&self) -> &[Tag] {
                &self.tags
            }
            fn tags_mut(&mut self) -> &mut Vec<Tag> {
                &mut self.tags
            }
            fn inline(&self) -> &BTreeMap<String, String> {
                &self.inline
            }
            fn inline_mut(&mut self) -> &mut BTreeMap<String, String> {
                &mut self.inline
            }
            fn attached(&self) -> &[String] {
                &self.attached
            }
            fn attached_mut(&mut self) -> &mut Vec<String> {
                &mut self.attached
            }
        }
    };
}

principal!(Role {
    module: roles,
    noun: "role",
    member: "RoleName",
    field: "roleName",
    quota: "PoliciesPerRole",
    list: "Roles",
    map: roles,
    xml: xml::role,
});
principal!(User {
    module: users,
    noun: "user",
    member: "UserName",
    field: "userName",
    quota: "PoliciesPerUser",
    list: "Users",
    map: users,
    xml: xml::user,
});

/// The required name member of `P` (`RoleName`, `UserName`), checked as IAM names are.
pub fn name_param<P: Principal>(p: &Params, v: &mut Validation) -> String {
    let name = p.owned(P::NAME_MEMBER);
    query::name(v, P::NAME_FIELD, &name, 64);
    name.unwrap_or_default()
}

/// `ListRoles`, `ListUsers`: those under `PathPrefix`, a page at a time.
pub fn list<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let prefix = query::path_prefix(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let items: Vec<(String, &P)> = P::all(state)
            .iter()
            .filter(|(_, e)| e.path().starts_with(prefix))
            .map(|(k, e)| (k.clone(), e))
            .collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members(P::LIST_ELEMENT, &page, |x, e| {
            e.write(x, &ctx.account, false)
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}

/// `TagRole`, `TagUser`.
pub fn tag<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let tags = query::tag_param(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        query::merge_tags(P::find_mut(state, &name)?.tags_mut(), tags)?;
        Ok(None)
    })
}

/// `UntagRole`, `UntagUser`.
pub fn untag<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let keys = query::tag_keys(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        P::find_mut(state, &name)?
            .tags_mut()
            .retain(|t| !keys.contains(&t.key));
        Ok(None)
    })
}

/// `ListRoleTags`, `ListUserTags`.
pub fn list_tags<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        Ok(Some(policies::tag_page(
            P::find(state, &name)?.tags(),
            p,
            max,
        )))
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

/// `PutRolePolicy`, `PutUserPolicy`: the document must be a valid identity policy and the
/// principal's inline policies together stay within its quota.
pub fn put_inline<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let policy = policy_name(p, &mut v);
    let text = p.owned("PolicyDocument");
    query::document(&mut v, "policyDocument", &text);
    query::finish(v)?;
    let text = text.unwrap_or_default();
    document::validate(&text, Kind::Identity)?;
    iam.write(&ctx.account, |state| {
        let principal = P::find_mut(state, &name)?;
        let others: usize = principal
            .inline()
            .iter()
            .filter(|(n, _)| **n != policy)
            .map(|(_, d)| document::size(d))
            .sum();
        if others + document::size(&text) > P::MAX_INLINE_TOTAL {
            return Err(conflict(
                "LimitExceeded",
                format!(
                    "Maximum policy size of {} bytes exceeded for {} {}",
                    P::MAX_INLINE_TOTAL,
                    P::NOUN,
                    principal.name()
                ),
            ));
        }
        principal.inline_mut().insert(policy, text);
        Ok(None)
    })
}

/// `GetRolePolicy`, `GetUserPolicy`.
pub fn get_inline<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let policy = policy_name(p, &mut v);
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let principal = P::find(state, &name)?;
        let text = principal
            .inline()
            .get(&policy)
            .ok_or_else(|| no_inline(P::NOUN, &policy))?;
        let mut x = Xml::new();
        x.text(P::NAME_MEMBER, principal.name())
            .text("PolicyName", &policy)
            .text("PolicyDocument", &query::encode_document(text));
        Ok(Some(x.finish()))
    })
}

/// `DeleteRolePolicy`, `DeleteUserPolicy`.
pub fn delete_inline<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let policy = policy_name(p, &mut v);
    query::finish(v)?;
    iam.write(&ctx.account, |state| {
        P::find_mut(state, &name)?
            .inline_mut()
            .remove(&policy)
            .map(|_| None)
            .ok_or_else(|| no_inline(P::NOUN, &policy))
    })
}

/// `ListRolePolicies`, `ListUserPolicies`: one page of inline policy names.
pub fn list_inline<P: Principal>(iam: &Iam, ctx: &Ctx, p: &Params) -> Answer {
    let mut v = Validation::new();
    let name = name_param::<P>(p, &mut v);
    let max = query::paging(p, &mut v)?;
    query::finish(v)?;
    iam.read(&ctx.account, |state| {
        let names: Vec<String> = P::find(state, &name)?.inline().keys().cloned().collect();
        let items = names.into_iter().map(|n| (n.clone(), n)).collect();
        let (page, marker) = xml::paginate(items, p.get("Marker"), max);
        let mut x = Xml::new();
        x.members("PolicyNames", &page, |x, n| {
            x.escaped(n);
        });
        Ok(Some(x.page(marker.as_deref()).finish()))
    })
}
