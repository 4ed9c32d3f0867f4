//! Ownership tags (DESIGN §3.1): every AWS resource the operator creates carries
//! `kinesis.operator.dev/owner: <namespace>/<name>` and `kinesis.operator.dev/uid: <uid>`, by
//! which a later pass recognises it as the object's own after a crash between create and the
//! status write, and deletion never touches someone else's resource.

use std::collections::BTreeMap;

use kube::{Resource, ResourceExt};

use crate::api::shared::{OWNER_TAG, OWNER_UID_TAG, Tags};

/// The two ownership tags of `obj`.
pub fn ownership_tags<K: Resource>(obj: &K) -> BTreeMap<String, String> {
    [
        (
            OWNER_TAG.to_owned(),
            format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()),
        ),
        (OWNER_UID_TAG.to_owned(), obj.uid().unwrap_or_default()),
    ]
    .into()
}

/// The tags the resource of `obj` carries: `spec`'s plus the ownership tags.
pub fn desired_tags<K: Resource>(obj: &K, spec: &Tags) -> BTreeMap<String, String> {
    let mut tags = spec.0.clone();
    tags.extend(ownership_tags(obj));
    tags
}
