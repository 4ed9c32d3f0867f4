//! IAM keeps at most 5 versions of a managed policy, and CreatePolicyVersion fails with
//! LimitExceeded at the sixth. Before adding a version the operator deletes the oldest
//! non-default one, so that the wall is never hit and the version in effect is never touched.

use crate::aws::iam::VersionView;

/// IAM's limit on versions of one managed policy.
pub const MAX_VERSIONS: usize = 5;

/// The version to delete before one more can be created, if the policy is at the limit:
/// the oldest that is not the default. `versions` is oldest first.
pub fn to_prune(versions: &[VersionView]) -> Option<&str> {
    if versions.len() < MAX_VERSIONS {
        return None;
    }
    versions
        .iter()
        .find(|v| !v.is_default)
        .map(|v| v.version_id.as_str())
}

/// The non-default versions, oldest first: what deletion removes before DeletePolicy.
pub fn non_default(versions: &[VersionView]) -> impl Iterator<Item = &str> {
    versions
        .iter()
        .filter(|v| !v.is_default)
        .map(|v| v.version_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(ids: &[(&str, bool)]) -> Vec<VersionView> {
        ids.iter()
            .enumerate()
            .map(|(i, (id, is_default))| VersionView {
                version_id: (*id).to_owned(),
                is_default: *is_default,
                created_at: i as i64,
            })
            .collect()
    }

    /// Versions (id, is default), oldest first, and the one expected to be pruned.
    type Case<'a> = (&'a [(&'a str, bool)], Option<&'a str>);

    #[test]
    fn the_oldest_non_default_goes_only_at_the_limit() {
        let cases: [Case; 4] = [
            (&[("v1", true)], None),
            (
                &[("v1", false), ("v2", false), ("v3", false), ("v4", true)],
                None,
            ),
            (
                &[
                    ("v1", false),
                    ("v2", false),
                    ("v3", false),
                    ("v4", false),
                    ("v5", true),
                ],
                Some("v1"),
            ),
            (
                &[
                    ("v1", true),
                    ("v2", false),
                    ("v3", false),
                    ("v4", false),
                    ("v5", false),
                ],
                Some("v2"),
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(to_prune(&versions(given)), expected, "{given:?}");
        }
    }

    #[test]
    fn deletion_removes_every_version_but_the_default() {
        let v = versions(&[("v3", false), ("v4", true), ("v5", false)]);
        assert_eq!(non_default(&v).collect::<Vec<_>>(), ["v3", "v5"]);
    }
}
