//! IAM's XML answers: the `<XResponse><XResult>..</XResult><ResponseMetadata>` envelope, and
//! the shapes several operations share (policies, roles, users, tags), every echoed value
//! escaped.

use std::fmt::Write;

use super::model::{self, Account, ManagedPolicy, Role, Tag, User};

/// IAM's XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// `text` with `&`, `<` and `>` escaped (quotes need none in element content).
pub fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(text)
}

/// The answer of `action` with `result` (already XML) inside `<{action}Result>`.
pub fn envelope(action: &str, result: Option<&str>, request_id: &str) -> String {
    let result = match result {
        Some(r) => format!("<{action}Result>{r}</{action}Result>"),
        None => String::new(),
    };
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        esc(request_id)
    )
}

/// Builds an XML fragment.
#[derive(Default)]
pub struct Xml(String);

impl Xml {
    /// An empty fragment.
    pub fn new() -> Xml {
        Xml::default()
    }

    /// `<name>value</name>`, escaped.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", esc(value));
        self
    }

    /// `<name>value</name>` when `value` is set.
    pub fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// `text`, escaped, with no element around it.
    pub fn escaped(&mut self, text: &str) -> &mut Self {
        self.0.push_str(&esc(text));
        self
    }

    /// `<name>` with a date.
    pub fn date(&mut self, name: &str, secs: i64) -> &mut Self {
        self.text(name, &crate::emulator::dates::iso8601_seconds(secs))
    }

    /// `<name>` with a number or boolean.
    pub fn value(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.0, "<{name}>{value}</{name}>");
        self
    }

    /// `<name>inner</name>` with `inner` already XML.
    pub fn raw(&mut self, name: &str, inner: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>{inner}</{name}>");
        self
    }

    /// `<name><member>..</member>...</name>` with one member per item, built by `each`.
    pub fn members<T>(
        &mut self,
        name: &str,
        items: &[T],
        each: impl Fn(&mut Xml, &T),
    ) -> &mut Self {
        let _ = write!(self.0, "<{name}>");
        for item in items {
            self.0.push_str("<member>");
            each(self, item);
            self.0.push_str("</member>");
        }
        let _ = write!(self.0, "</{name}>");
        self
    }

    /// `<IsTruncated>` and, when truncated, `<Marker>`.
    pub fn page(&mut self, marker: Option<&str>) -> &mut Self {
        self.value("IsTruncated", marker.is_some());
        self.opt("Marker", marker)
    }

    /// The fragment.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

/// `<Tags>` of `tags` (omitted when empty, as IAM does in entity shapes).
pub fn tags(x: &mut Xml, tags: &[Tag]) {
    if !tags.is_empty() {
        tag_list(x, tags);
    }
}

/// `<Tags>` of `tags`, even when empty (the `List*Tags` answers).
pub fn tag_list(x: &mut Xml, tags: &[Tag]) {
    x.members("Tags", tags, |x, t| {
        x.text("Key", &t.key).text("Value", &t.value);
    });
}

/// The `Policy` shape; `full` adds the description and tags (`GetPolicy`, `CreatePolicy`).
pub fn policy(x: &mut Xml, account: &str, p: &ManagedPolicy, state: &Account, full: bool) {
    let arn = model::arn(account, "policy", &p.path, &p.name);
    x.text("PolicyName", &p.name)
        .text("PolicyId", &p.id)
        .text("Arn", &arn)
        .text("Path", &p.path)
        .text("DefaultVersionId", &format!("v{}", p.default_version))
        .value("AttachmentCount", state.attachment_count(&arn))
        .value("PermissionsBoundaryUsageCount", state.boundary_count(&arn))
        .value("IsAttachable", true);
    if full {
        x.opt("Description", p.description.as_deref());
    }
    x.date("CreateDate", p.created)
        .date("UpdateDate", p.updated);
    if full {
        tags(x, &p.tags);
    }
}

/// A `PermissionsBoundary` element for `arn`.
fn boundary(x: &mut Xml, arn: Option<&str>) {
    if let Some(arn) = arn {
        let inner = Xml::new()
            .text("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
            .text("PermissionsBoundaryArn", arn)
            .finish();
        x.raw("PermissionsBoundary", &inner);
    }
}

/// The `Role` shape (trust policy URL-encoded); `full` adds the tags and `RoleLastUsed`,
/// which `ListRoles` leaves out.
pub fn role(x: &mut Xml, account: &str, r: &Role, full: bool) {
    x.text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.id)
        .text("Arn", &model::arn(account, "role", &r.path, &r.name))
        .date("CreateDate", r.created)
        .text(
            "AssumeRolePolicyDocument",
            &super::query::encode_document(&r.trust_policy),
        )
        .opt("Description", r.description.as_deref())
        .value("MaxSessionDuration", r.max_session_duration);
    boundary(x, r.permissions_boundary.as_deref());
    if full {
        tags(x, &r.tags);
        x.raw("RoleLastUsed", "");
    }
}

/// The `User` shape; `full` adds the tags, which `ListUsers` leaves out.
pub fn user(x: &mut Xml, account: &str, u: &User, full: bool) {
    x.text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.id)
        .text("Arn", &model::arn(account, "user", &u.path, &u.name))
        .date("CreateDate", u.created);
    boundary(x, u.permissions_boundary.as_deref());
    if full {
        tags(x, &u.tags);
    }
}

/// One page of `items` (sorted by key) from `marker` (an item key) on, with the marker of
/// the next page.
pub fn paginate<T>(
    items: Vec<(String, T)>,
    marker: Option<&str>,
    max: usize,
) -> (Vec<T>, Option<String>) {
    let mut page = Vec::new();
    let mut next = None;
    for (key, item) in items {
        if marker.is_some_and(|m| key.as_str() < m) {
            continue;
        }
        if page.len() == max {
            next = Some(key);
            break;
        }
        page.push(item);
    }
    (page, next)
}
