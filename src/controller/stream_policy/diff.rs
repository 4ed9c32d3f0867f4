//! What differs between the spec and IAM (pure): the tags the policy must carry and the roles
//! to attach and detach.

use std::collections::{BTreeMap, BTreeSet};

use kube::ResourceExt;

use crate::api::stream_policy::StreamPolicy;
use crate::controller::runtime::ownership;

/// The IAM name of the policy of `obj`: `spec.policyName`, else `metadata.name`.
pub fn policy_name(obj: &StreamPolicy) -> String {
    obj.spec
        .policy_name
        .clone()
        .unwrap_or_else(|| obj.name_any())
}

/// The tags the policy of `obj` carries: the spec's plus the ownership tags.
pub fn desired_tags(obj: &StreamPolicy) -> BTreeMap<String, String> {
    ownership::desired_tags(obj, &obj.spec.tags)
}

/// Role attachments to change.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoleChanges {
    /// Roles named in the spec the policy is not attached to, sorted.
    pub attach: Vec<String>,
    /// Roles the policy is attached to that the spec does not name, sorted. The policy is the
    /// object's own, so every such attachment goes, whoever made it.
    pub detach: Vec<String>,
}

/// The changes that make the policy attached to exactly `desired`, given `current`.
pub fn role_changes(desired: &[String], current: &[String]) -> RoleChanges {
    let desired: BTreeSet<&String> = desired.iter().collect();
    let current: BTreeSet<&String> = current.iter().collect();
    RoleChanges {
        attach: desired.difference(&current).map(|r| (*r).clone()).collect(),
        detach: current.difference(&desired).map(|r| (*r).clone()).collect(),
    }
}

/// `names` as a person reads them: `a`, `a and b`, `a, b and c`.
pub fn listed(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn roles_are_attached_and_detached_to_match_the_spec() {
        // (desired, current, attach, detach)
        type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let cases: [Case; 4] = [
            (&["a", "b"], &[], &["a", "b"], &[]),
            (&["a"], &["a"], &[], &[]),
            (&["b", "a"], &["a", "c"], &["b"], &["c"]),
            (&[], &["x", "a"], &[], &["a", "x"]),
        ];
        for (desired, current, attach, detach) in cases {
            assert_eq!(
                role_changes(&names(desired), &names(current)),
                RoleChanges {
                    attach: names(attach),
                    detach: names(detach)
                },
                "{desired:?} {current:?}"
            );
        }
    }

    #[test]
    fn names_are_listed_as_a_sentence() {
        let cases: [(&[&str], &str); 4] = [
            (&[], ""),
            (&["reader"], "reader"),
            (&["reader", "writer"], "reader and writer"),
            (&["a", "b", "c"], "a, b and c"),
        ];
        for (given, expected) in cases {
            assert_eq!(listed(&names(given)), expected);
        }
    }

    #[test]
    fn the_policy_carries_the_spec_tags_and_the_ownership_tags() {
        let spec = serde_json::from_value(serde_json::json!({
            "document": "{}", "tags": {"team": "data"}
        }))
        .unwrap();
        let mut p = StreamPolicy::new("rw", spec);
        p.metadata.namespace = Some("data".into());
        p.metadata.uid = Some("u-1".into());
        assert_eq!(
            desired_tags(&p),
            [
                (
                    "kinesis.operator.dev/owner".to_owned(),
                    "data/rw".to_owned()
                ),
                ("kinesis.operator.dev/uid".to_owned(), "u-1".to_owned()),
                ("team".to_owned(), "data".to_owned()),
            ]
            .into()
        );
        assert_eq!(policy_name(&p), "rw");
    }
}
