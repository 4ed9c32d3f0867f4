//! The AWS managed policies a Kinesis, Firehose or S3 user commonly attaches
//! (`arn:aws:iam::aws:policy/...`), served read-only with their documents as AWS publishes
//! them (their IDs and dates are the emulator's own).

use std::collections::BTreeMap;

use super::model::{ManagedPolicy, PolicyVersion};

/// (name, description, document).
const POLICIES: &[(&str, &str, &str)] = &[
    (
        "AmazonKinesisFirehoseFullAccess",
        "Provides full access to all Amazon Kinesis Firehose Delivery Streams.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["firehose:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonKinesisFirehoseReadOnlyAccess",
        "Provides read only access to all Amazon Kinesis Firehose Delivery Streams.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["firehose:Describe*","firehose:List*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonKinesisFullAccess",
        "Provides full access to all streams via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}"#,
    ),
    (
        "AmazonKinesisReadOnlyAccess",
        "Provide read only access to Amazon Kinesis Streams",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:Get*","kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3FullAccess",
        "Provides full access to all buckets via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        "Provides read only access to all buckets via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
];

/// 2015-02-06T18:40:00Z, when AWS published most of these.
const PUBLISHED: i64 = 1_423_248_000;

/// Names of the served AWS managed policies, in name order.
pub fn names() -> impl Iterator<Item = &'static str> {
    POLICIES.iter().map(|(name, _, _)| *name)
}

/// The AWS managed policy `name`, if served.
pub fn policy(name: &str) -> Option<ManagedPolicy> {
    let (index, (name, description, document)) = POLICIES
        .iter()
        .enumerate()
        .find(|(_, (n, _, _))| *n == name)?;
    let mut versions = BTreeMap::new();
    versions.insert(
        1,
        PolicyVersion {
            document: (*document).to_owned(),
            created: PUBLISHED,
        },
    );
    Some(ManagedPolicy {
        name: (*name).to_owned(),
        id: format!("ANPAAWSMANAGED{index:07}"),
        path: "/".to_owned(),
        description: Some((*description).to_owned()),
        created: PUBLISHED,
        updated: PUBLISHED,
        default_version: 1,
        next_version: 2,
        versions,
        tags: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::iam::document::{Kind, validate};

    #[test]
    fn served_documents_are_valid_and_ids_have_iams_length() {
        for name in names() {
            let p = policy(name).unwrap();
            assert_eq!(p.id.len(), 21);
            assert_eq!(validate(&p.versions[&1].document, Kind::Identity), Ok(()));
        }
        assert!(policy("Nope").is_none());
    }
}
