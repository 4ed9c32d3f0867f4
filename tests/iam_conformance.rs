//! Conformance of the emulated IAM with AWS, through the real aws-sdk-iam client (and raw
//! HTTP where no SDK would send the request): one test per behaviour.

mod support;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_iam::Client;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::{BehaviorVersion, Region};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, PolicyScopeType, StatusType, Tag};
use kinesis_operator::emulator::{Config, Emulator};
use support::emulator::{post, start_default};
use support::process::EmulatorProcess;

const ACCOUNT: &str = "000000000000";

const WRITE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Write", "Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
     "Resource": "arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}
  ]
}"#;

const READ_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator","kinesis:DescribeStream"],"Resource":"arn:aws:kinesis:us-west-2:123456789012:stream/MyStream"}]}"#;

const FIREHOSE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An IAM client for `emulator`, without retries so that errors are seen as sent.
fn iam(emulator: &Emulator) -> Client {
    iam_as(emulator, "AKIDTEST", "secret")
}

/// An IAM client signing with `access_key` and `secret`.
fn iam_as(emulator: &Emulator, access_key: &str, secret: &str) -> Client {
    iam_at(&emulator.endpoint_url(), access_key, secret)
}

/// An IAM client for the emulator at `endpoint`.
fn iam_at(endpoint: &str, access_key: &str, secret: &str) -> Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            aws_sdk_iam::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// The error code and message of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

fn decode(document: &str) -> String {
    percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .expect("UTF-8 document")
        .into_owned()
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

async fn create_policy(client: &Client, name: &str, document: &str) -> String {
    client
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreatePolicy {name}: {e:?}"))
        .policy
        .and_then(|p| p.arn)
        .expect("an ARN")
}

async fn create_role(client: &Client, name: &str) {
    client
        .create_role()
        .role_name(name)
        .assume_role_policy_document(FIREHOSE_TRUST)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
}

async fn create_user(client: &Client, name: &str) {
    client
        .create_user()
        .user_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateUser {name}: {e:?}"));
}

#[tokio::test]
async fn managed_policy_lifecycle_with_versions_and_the_five_version_wall() {
    let emu = start_default().await;
    let client = iam(&emu);
    let created = client
        .create_policy()
        .policy_name("writer")
        .path("/streams/")
        .description("Writes MyStream")
        .policy_document(WRITE_POLICY)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let arn = created.arn().unwrap().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:policy/streams/writer"));
    let id = created.policy_id().unwrap();
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");
    assert_eq!(created.default_version_id(), Some("v1"));
    assert_eq!(created.attachment_count(), Some(0));
    assert!(created.is_attachable());

    let got = client.get_policy().policy_arn(&arn).send().await.unwrap();
    let got = got.policy.unwrap();
    assert_eq!(got.description(), Some("Writes MyStream"));
    assert_eq!(got.path(), Some("/streams/"));

    for n in 2..=5 {
        let version = client
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(READ_POLICY)
            .set_as_default(n == 3)
            .send()
            .await
            .unwrap()
            .policy_version
            .unwrap();
        assert_eq!(version.version_id(), Some(format!("v{n}").as_str()));
        assert_eq!(version.is_default_version(), n == 3);
    }
    let sixth = client
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(READ_POLICY)
        .send()
        .await;
    assert_eq!(
        err(sixth),
        (
            "LimitExceeded".to_owned(),
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".to_owned()
        )
    );
    let versions = client
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids, ["v5", "v4", "v3", "v2", "v1"]);
    let policy = client.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(policy.policy.unwrap().default_version_id(), Some("v3"));

    client
        .set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let refused = client.delete_policy().policy_arn(&arn).send().await;
    assert_eq!(
        err(refused),
        (
            "DeleteConflict".to_owned(),
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".to_owned()
        )
    );
    for n in 2..=5 {
        client
            .delete_policy_version()
            .policy_arn(&arn)
            .version_id(format!("v{n}"))
            .send()
            .await
            .unwrap();
    }
    client
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = client.get_policy().policy_arn(&arn).send().await;
    assert_eq!(
        err(gone),
        (
            "NoSuchEntity".to_owned(),
            format!("Policy {arn} was not found.")
        )
    );
}

#[tokio::test]
async fn the_default_version_cannot_be_deleted() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    let refused = client
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await;
    assert_eq!(
        err(refused),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete the default version of a policy.".to_owned()
        )
    );
    let missing = client
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v7")
        .send()
        .await;
    assert_eq!(
        err(missing),
        (
            "NoSuchEntity".to_owned(),
            format!("Policy {arn} version v7 does not exist or is not attachable.")
        )
    );
}

#[tokio::test]
async fn an_attached_policy_cannot_be_deleted() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    create_role(&client, "r").await;
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let refused = client.delete_policy().policy_arn(&arn).send().await;
    assert_eq!(
        err(refused),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete a policy attached to entities.".to_owned()
        )
    );
    let policy = client.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(policy.policy.unwrap().attachment_count(), Some(1));
    client
        .detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    client
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn documents_come_back_url_encoded_and_decode_to_what_was_sent() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    let version = client
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    let encoded = version.document().unwrap();
    assert!(
        encoded.starts_with("%7B%0A%20%20%22Version%22"),
        "{encoded}"
    );
    assert_eq!(decode(encoded), WRITE_POLICY);
    assert!(version.is_default_version());

    create_role(&client, "r").await;
    let role = client.get_role().role_name("r").send().await.unwrap();
    let trust = role.role.unwrap().assume_role_policy_document.unwrap();
    assert_eq!(decode(&trust), FIREHOSE_TRUST);

    client
        .put_role_policy()
        .role_name("r")
        .policy_name("inline")
        .policy_document(READ_POLICY)
        .send()
        .await
        .unwrap();
    let inline = client
        .get_role_policy()
        .role_name("r")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(decode(inline.policy_document()), READ_POLICY);
}

#[tokio::test]
async fn roles_carry_trust_policies_and_settings() {
    let emu = start_default().await;
    let client = iam(&emu);
    let role = client
        .create_role()
        .role_name("firehose_delivery_role")
        .path("/service/")
        .description("Firehose delivers to S3")
        .max_session_duration(7200)
        .assume_role_policy_document(FIREHOSE_TRUST)
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/service/firehose_delivery_role")
    );
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(role.max_session_duration(), Some(7200));

    let duplicate = client
        .create_role()
        .role_name("FIREHOSE_DELIVERY_ROLE")
        .assume_role_policy_document(FIREHOSE_TRUST)
        .send()
        .await;
    assert_eq!(
        err(duplicate),
        (
            "EntityAlreadyExists".to_owned(),
            "Role with name FIREHOSE_DELIVERY_ROLE already exists.".to_owned()
        )
    );

    client
        .update_role()
        .role_name("firehose_delivery_role")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    let updated = client
        .update_role_description()
        .role_name("firehose_delivery_role")
        .description("new")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(updated.description(), Some("new"));
    assert_eq!(updated.max_session_duration(), Some(43200));

    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    client
        .update_assume_role_policy()
        .role_name("firehose_delivery_role")
        .policy_document(trust)
        .send()
        .await
        .unwrap();
    let got = client
        .get_role()
        .role_name("firehose_delivery_role")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(decode(got.assume_role_policy_document().unwrap()), trust);
    assert_eq!(got.tags().len(), 1);

    let missing = client.get_role().role_name("nope").send().await;
    assert_eq!(
        err(missing),
        (
            "NoSuchEntity".to_owned(),
            "The role with name nope cannot be found.".to_owned()
        )
    );
    client
        .delete_role()
        .role_name("firehose_delivery_role")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_role_with_policies_cannot_be_deleted() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    create_role(&client, "r").await;
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        err(client.delete_role().role_name("r").send().await),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete entity, must detach all policies first.".to_owned()
        )
    );
    client
        .detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    client
        .put_role_policy()
        .role_name("r")
        .policy_name("inline")
        .policy_document(READ_POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        err(client.delete_role().role_name("r").send().await),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete entity, must delete policies first.".to_owned()
        )
    );
    let names = client
        .list_role_policies()
        .role_name("r")
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["inline"]);
    client
        .delete_role_policy()
        .role_name("r")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    let missing = client
        .get_role_policy()
        .role_name("r")
        .policy_name("inline")
        .send()
        .await;
    assert_eq!(
        err(missing),
        (
            "NoSuchEntity".to_owned(),
            "The role policy with name inline cannot be found.".to_owned()
        )
    );
    client.delete_role().role_name("r").send().await.unwrap();
}

#[tokio::test]
async fn attachments_are_listed_both_ways() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    create_role(&client, "r").await;
    create_user(&client, "u").await;
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    client
        .attach_user_policy()
        .user_name("u")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let aws_arn = "arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess";
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(aws_arn)
        .send()
        .await
        .unwrap();

    let attached = client
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, [arn.as_str(), aws_arn]);
    let user_attached = client
        .list_attached_user_policies()
        .user_name("u")
        .send()
        .await
        .unwrap();
    assert_eq!(
        user_attached.attached_policies()[0].policy_name(),
        Some("p")
    );

    let entities = client
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_roles()[0].role_name(), Some("r"));
    assert_eq!(entities.policy_users()[0].user_name(), Some("u"));
    let roles_only = client
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    assert_eq!(roles_only.policy_roles().len(), 1);
    assert!(roles_only.policy_users().is_empty());

    let attached_only = client
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached_only
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["p", "AmazonKinesisReadOnlyAccess"]);
    let aws_policy = client
        .get_policy()
        .policy_arn(aws_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(aws_policy.policy.unwrap().attachment_count(), Some(1));
}

#[tokio::test]
async fn attaching_needs_an_existing_entity_and_policy_and_stops_at_ten() {
    let emu = start_default().await;
    let client = iam(&emu);
    create_role(&client, "r").await;
    let arn = create_policy(&client, "p0", WRITE_POLICY).await;
    let missing_role = client
        .attach_role_policy()
        .role_name("ghost")
        .policy_arn(&arn)
        .send()
        .await;
    assert_eq!(
        err(missing_role),
        (
            "NoSuchEntity".to_owned(),
            "The role with name ghost cannot be found.".to_owned()
        )
    );
    let ghost = policy_arn("ghost");
    let missing_policy = client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&ghost)
        .send()
        .await;
    assert_eq!(
        err(missing_policy),
        (
            "NoSuchEntity".to_owned(),
            format!("Policy {ghost} does not exist or is not attachable.")
        )
    );
    for n in 0..10 {
        let arn = if n == 0 {
            arn.clone()
        } else {
            create_policy(&client, &format!("p{n}"), WRITE_POLICY).await
        };
        client
            .attach_role_policy()
            .role_name("r")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let eleventh = create_policy(&client, "p10", WRITE_POLICY).await;
    let refused = client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(eleventh)
        .send()
        .await;
    assert_eq!(
        err(refused),
        (
            "LimitExceeded".to_owned(),
            "Cannot exceed quota for PoliciesPerRole: 10".to_owned()
        )
    );
    let not_attached = client
        .detach_role_policy()
        .role_name("r")
        .policy_arn(&ghost)
        .send()
        .await;
    assert_eq!(
        err(not_attached),
        (
            "NoSuchEntity".to_owned(),
            format!("Policy {ghost} was not found.")
        )
    );
}

#[tokio::test]
async fn lists_are_paginated_with_markers() {
    let emu = start_default().await;
    let client = iam(&emu);
    for n in 0..5 {
        create_policy(&client, &format!("policy-{n}"), WRITE_POLICY).await;
        create_role(&client, &format!("role-{n}")).await;
    }
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let page = client
            .list_policies()
            .scope(PolicyScopeType::Local)
            .max_items(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.policies().len() <= 2);
        names.extend(
            page.policies()
                .iter()
                .filter_map(|p| p.policy_name().map(str::to_owned)),
        );
        if !page.is_truncated() {
            assert_eq!(page.marker(), None);
            break;
        }
        marker = page.marker().map(str::to_owned);
        assert!(marker.is_some());
    }
    assert_eq!(
        names,
        ["policy-0", "policy-1", "policy-2", "policy-3", "policy-4"]
    );

    let first = client.list_roles().max_items(3).send().await.unwrap();
    assert!(first.is_truncated());
    let rest = client
        .list_roles()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!rest.is_truncated());
    assert_eq!(first.roles().len() + rest.roles().len(), 5);
    let aws = client
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .send()
        .await
        .unwrap();
    assert!(
        aws.policies()
            .iter()
            .all(|p| p.arn().unwrap().starts_with("arn:aws:iam::aws:policy/"))
    );
    assert!(!aws.policies().is_empty());
}

#[tokio::test]
async fn tags_on_policies_roles_and_users() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    create_role(&client, "r").await;
    create_user(&client, "u").await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    client
        .tag_policy()
        .policy_arn(&arn)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .unwrap();
    client
        .tag_policy()
        .policy_arn(&arn)
        .tags(tag("a", "changed"))
        .send()
        .await
        .unwrap();
    client
        .untag_policy()
        .policy_arn(&arn)
        .tag_keys("b")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("a", "changed")]);

    client
        .tag_role()
        .role_name("r")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    let role_tags = client.list_role_tags().role_name("r").send().await.unwrap();
    assert_eq!(role_tags.tags()[0].value(), "dev");
    client
        .untag_role()
        .role_name("r")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let role_tags = client.list_role_tags().role_name("r").send().await.unwrap();
    assert!(role_tags.tags().is_empty());

    client
        .tag_user()
        .user_name("u")
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    let user_tags = client.list_user_tags().user_name("u").send().await.unwrap();
    assert_eq!(user_tags.tags()[0].key(), "k");
    client
        .untag_user()
        .user_name("u")
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let user = client.get_user().user_name("u").send().await.unwrap();
    assert!(user.user.unwrap().tags().is_empty());
}

#[tokio::test]
async fn users_and_access_keys() {
    let emu = start_default().await;
    let client = iam(&emu);
    let user = client
        .create_user()
        .user_name("writer")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    assert_eq!(user.arn(), format!("arn:aws:iam::{ACCOUNT}:user/writer"));
    assert!(user.user_id().starts_with("AIDA") && user.user_id().len() == 21);

    let key = client
        .create_access_key()
        .user_name("writer")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    assert!(key.access_key_id().starts_with("AKIA") && key.access_key_id().len() == 20);
    assert!(
        key.access_key_id()
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    assert_eq!(key.secret_access_key().len(), 40);
    assert_eq!(key.status(), &StatusType::Active);
    client
        .create_access_key()
        .user_name("writer")
        .send()
        .await
        .unwrap();
    let third = client.create_access_key().user_name("writer").send().await;
    assert_eq!(
        err(third),
        (
            "LimitExceeded".to_owned(),
            "Cannot exceed quota for AccessKeysPerUser: 2".to_owned()
        )
    );
    client
        .update_access_key()
        .user_name("writer")
        .access_key_id(key.access_key_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let keys = client
        .list_access_keys()
        .user_name("writer")
        .send()
        .await
        .unwrap();
    let statuses: Vec<(&str, Option<&StatusType>)> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap(), k.status()))
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&(key.access_key_id(), Some(&StatusType::Inactive))));

    assert_eq!(
        err(client.delete_user().user_name("writer").send().await),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete entity, must delete access keys first.".to_owned()
        )
    );
    for k in keys.access_key_metadata() {
        client
            .delete_access_key()
            .user_name("writer")
            .access_key_id(k.access_key_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    let gone = client
        .delete_access_key()
        .user_name("writer")
        .access_key_id(key.access_key_id())
        .send()
        .await;
    assert_eq!(
        err(gone),
        (
            "NoSuchEntity".to_owned(),
            format!(
                "The Access Key with id {} cannot be found.",
                key.access_key_id()
            )
        )
    );
    client
        .put_user_policy()
        .user_name("writer")
        .policy_name("w")
        .policy_document(WRITE_POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .list_user_policies()
            .user_name("writer")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["w"]
    );
    let inline = client
        .get_user_policy()
        .user_name("writer")
        .policy_name("w")
        .send()
        .await
        .unwrap();
    assert_eq!(decode(inline.policy_document()), WRITE_POLICY);
    assert_eq!(
        err(client.delete_user().user_name("writer").send().await).0,
        "DeleteConflict"
    );
    client
        .delete_user_policy()
        .user_name("writer")
        .policy_name("w")
        .send()
        .await
        .unwrap();
    client
        .delete_user()
        .user_name("writer")
        .send()
        .await
        .unwrap();
    let users = client.list_users().send().await.unwrap();
    assert!(users.users().is_empty());
    assert_eq!(
        err(client.get_user().user_name("writer").send().await),
        (
            "NoSuchEntity".to_owned(),
            "The user with name writer cannot be found.".to_owned()
        )
    );
}

#[tokio::test]
async fn malformed_policy_documents_are_refused_with_iams_messages() {
    let emu = start_default().await;
    let client = iam(&emu);
    let statement = |s: &str| format!(r#"{{"Version":"2012-10-17","Statement":{s}}}"#);
    let cases = [
        ("not json".to_owned(), "Syntax errors in policy."),
        (
            statement(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Bogus":1}"#),
            "Syntax errors in policy.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#.to_owned(),
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            statement(r#"{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}"#),
            "The policy failed legacy parsing",
        ),
        (
            statement(
                r#"[{"Sid":"a","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]"#,
            ),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            statement(r#"{"Effect":"Allow","Resource":"*"}"#),
            "Policy statement must contain actions.",
        ),
        (
            statement(r#"{"Effect":"Allow","Action":"s3:GetObject"}"#),
            "Policy statement must contain resources.",
        ),
        (
            statement(
                r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"}"#,
            ),
            "Policy document should not specify a principal.",
        ),
        (
            statement(r#"{"Effect":"Allow","Action":"GetObject","Resource":"*"}"#),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            statement(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket"}"#),
            "Resource bucket must be in ARN format or \"*\".",
        ),
    ];
    for (document, message) in cases {
        let refused = client
            .create_policy()
            .policy_name("bad")
            .policy_document(&document)
            .send()
            .await;
        assert_eq!(
            err(refused),
            ("MalformedPolicyDocument".to_owned(), message.to_owned()),
            "{document}"
        );
    }
    let trust_cases = [
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
            "Missing required field Principal",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
            "Has prohibited field Resource",
        ),
    ];
    for (document, message) in trust_cases {
        let refused = client
            .create_role()
            .role_name("bad")
            .assume_role_policy_document(document)
            .send()
            .await;
        assert_eq!(
            err(refused),
            ("MalformedPolicyDocument".to_owned(), message.to_owned()),
            "{document}"
        );
    }
    let big = statement(&format!(
        r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":["{}"]}}"#,
        vec!["arn:aws:s3:::bucket/key"; 300].join("\",\"")
    ));
    let too_big = client
        .create_policy()
        .policy_name("big")
        .policy_document(big)
        .send()
        .await;
    assert_eq!(
        err(too_big),
        (
            "LimitExceeded".to_owned(),
            "Cannot exceed quota for PolicySize: 6144".to_owned()
        )
    );
}

#[tokio::test]
async fn model_constraints_are_validation_errors() {
    let emu = start_default().await;
    let client = iam(&emu);
    let bad_name = client
        .create_policy()
        .policy_name("has space")
        .policy_document(WRITE_POLICY)
        .send()
        .await;
    assert_eq!(
        err(bad_name),
        (
            "ValidationError".to_owned(),
            r"1 validation error detected: Value 'has space' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+".to_owned()
        )
    );
    let short_session = client
        .create_role()
        .role_name("r")
        .max_session_duration(60)
        .assume_role_policy_document(FIREHOSE_TRUST)
        .send()
        .await;
    assert_eq!(
        err(short_session),
        (
            "ValidationError".to_owned(),
            "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600".to_owned()
        )
    );
    let bad_path = client
        .create_user()
        .user_name("u")
        .path("nopath")
        .send()
        .await;
    assert_eq!(
        err(bad_path),
        (
            "ValidationError".to_owned(),
            r"1 validation error detected: Value 'nopath' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)".to_owned()
        )
    );
    let star_path = client
        .create_policy()
        .policy_name("p")
        .path("/a*/")
        .policy_document(WRITE_POLICY)
        .send()
        .await;
    assert_eq!(
        err(star_path),
        (
            "ValidationError".to_owned(),
            r"1 validation error detected: Value '/a*/' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/".to_owned()
        )
    );
    let long_name = "r".repeat(65);
    let (code, message) = err(client
        .create_role()
        .role_name(&long_name)
        .assume_role_policy_document(FIREHOSE_TRUST)
        .send()
        .await);
    assert_eq!(code, "ValidationError");
    assert!(
        message.ends_with("Member must have length less than or equal to 64"),
        "{message}"
    );
    let bad_version = client
        .get_policy_version()
        .policy_arn(policy_arn("p"))
        .version_id("1")
        .send()
        .await;
    assert_eq!(err(bad_version).0, "ValidationError");
}

#[tokio::test]
async fn names_are_unique_regardless_of_case() {
    let emu = start_default().await;
    let client = iam(&emu);
    create_policy(&client, "Writer", WRITE_POLICY).await;
    let duplicate = client
        .create_policy()
        .policy_name("writer")
        .policy_document(WRITE_POLICY)
        .send()
        .await;
    assert_eq!(
        err(duplicate),
        (
            "EntityAlreadyExists".to_owned(),
            "A policy called writer already exists. Duplicate names are not allowed.".to_owned()
        )
    );
    create_user(&client, "Bob").await;
    let again = client.create_user().user_name("bob").send().await;
    assert_eq!(
        err(again),
        (
            "EntityAlreadyExists".to_owned(),
            "User with name bob already exists.".to_owned()
        )
    );
}

#[tokio::test]
async fn aws_managed_policies_are_readable_but_not_changeable() {
    let emu = start_default().await;
    let client = iam(&emu);
    let arn = "arn:aws:iam::aws:policy/AmazonKinesisFullAccess";
    let version = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id("v1")
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    assert!(decode(version.document().unwrap()).contains("kinesis:*"));
    let (code, _) = err(client.delete_policy().policy_arn(arn).send().await);
    assert_eq!(code, "AccessDenied");
}

#[tokio::test]
async fn state_survives_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let emu = Emulator::start(config()).await.unwrap();
    let client = iam(&emu);
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    client
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(READ_POLICY)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    create_role(&client, "r").await;
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    create_user(&client, "u").await;
    let key = client
        .create_access_key()
        .user_name("u")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    emu.shutdown().await;

    let emu = Emulator::start(config()).await.unwrap();
    let client = iam(&emu);
    let policy = client.get_policy().policy_arn(&arn).send().await.unwrap();
    let policy = policy.policy.unwrap();
    assert_eq!(policy.default_version_id(), Some("v2"));
    assert_eq!(policy.attachment_count(), Some(1));
    let version = client
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        decode(version.policy_version.unwrap().document().unwrap()),
        READ_POLICY
    );
    let keys = client
        .list_access_keys()
        .user_name("u")
        .send()
        .await
        .unwrap();
    assert_eq!(
        keys.access_key_metadata()[0].access_key_id(),
        Some(key.access_key_id())
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_and_missing_actions_are_refused() {
    let emu = start_default().await;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let unknown = post(&emu, &form, b"Action=FlyToTheMoon&Version=2010-05-08").await;
    assert_eq!(unknown.status, 400);
    let body = String::from_utf8_lossy(&unknown.body);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(
        body.contains("The action FlyToTheMoon is not valid for this web service."),
        "{body}"
    );
    assert!(body.contains("<Type>Sender</Type>"), "{body}");
    let missing = post(&emu, &form, b"Version=2010-05-08&RoleName=x").await;
    assert_eq!(missing.status, 400);
    assert!(String::from_utf8_lossy(&missing.body).contains("<Code>MissingAction</Code>"));
    let echoed = post(
        &emu,
        &form,
        b"Action=GetRole&Version=2010-05-08&RoleName=a%3Cb",
    )
    .await;
    let body = String::from_utf8_lossy(&echoed.body);
    assert!(body.contains("Value 'a&lt;b' at 'roleName'"), "{body}");
}

/// A Kinesis client in us-west-2 signing with `access_key` and `secret`, without retries.
fn kinesis_signed(emulator: &Emulator, access_key: &str, secret: &str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(aws_sdk_kinesis::config::Region::new("us-west-2"))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// Creates user `name` with the inline policy `document` and returns its key and secret.
async fn user_with_policy(admin: &Client, name: &str, document: &str) -> (String, String) {
    create_user(admin, name).await;
    admin
        .put_user_policy()
        .user_name(name)
        .policy_name("access")
        .policy_document(document)
        .send()
        .await
        .unwrap();
    let key = admin
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

#[tokio::test]
async fn enforced_policies_let_the_writer_put_and_not_read() {
    let emu = Emulator::start(Config {
        account_id: "123456789012".to_owned(),
        sigv4: Some(vec!["AKIDADMIN:adminsecret".parse().unwrap()]),
        iam_enforce: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let admin = iam_as(&emu, "AKIDADMIN", "adminsecret");
    let root_kinesis = kinesis_signed(&emu, "AKIDADMIN", "adminsecret");
    root_kinesis
        .create_stream()
        .stream_name("MyStream")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let (writer_key, writer_secret) = user_with_policy(&admin, "writer", WRITE_POLICY).await;
    let (reader_key, reader_secret) = user_with_policy(&admin, "reader", READ_POLICY).await;

    let writer = kinesis_signed(&emu, &writer_key, &writer_secret);
    writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("12345")
        .data(aws_sdk_kinesis::primitives::Blob::new(
            b"{\"amount\":1}".to_vec(),
        ))
        .send()
        .await
        .expect("the writer may put");
    let refused = writer
        .get_shard_iterator()
        .stream_name("MyStream")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await;
    assert_eq!(
        err(refused),
        (
            "AccessDeniedException".to_owned(),
            "User: arn:aws:iam::123456789012:user/writer is not authorized to perform: kinesis:GetShardIterator on resource: arn:aws:kinesis:us-west-2:123456789012:stream/MyStream because no identity-based policy allows the kinesis:GetShardIterator action".to_owned()
        )
    );

    let reader = kinesis_signed(&emu, &reader_key, &reader_secret);
    let iterator = reader
        .get_shard_iterator()
        .stream_name("MyStream")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("the reader may get an iterator")
        .shard_iterator
        .unwrap();
    let records = reader
        .get_records()
        .shard_iterator(&iterator)
        .send()
        .await
        .expect("the reader may read");
    assert_eq!(records.records().len(), 1);
    let (code, message) = err(reader
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new(b"x".to_vec()))
        .send()
        .await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("kinesis:PutRecord"), "{message}");
    let (code, _) = err(writer.get_records().shard_iterator(iterator).send().await);
    assert_eq!(code, "AccessDeniedException");

    let writer_iam = iam_as(&emu, &writer_key, &writer_secret);
    let (code, message) = err(writer_iam.create_user().user_name("mallory").send().await);
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("iam:CreateUser"), "{message}");

    admin
        .update_access_key()
        .user_name("writer")
        .access_key_id(&writer_key)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let (code, _) = err(writer
        .put_record()
        .stream_name("MyStream")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new(b"x".to_vec()))
        .send()
        .await);
    assert_eq!(code, "UnrecognizedClientException");
    let unknown = iam_as(&emu, "AKIAUNKNOWNKEY000000", "x");
    let (code, _) = err(unknown.list_users().send().await);
    assert_eq!(code, "InvalidClientTokenId");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_malformed_policy_arn_is_invalid_input() {
    let emu = start_default().await;
    let client = iam(&emu);
    create_role(&client, "r").await;
    let refused = client
        .attach_role_policy()
        .role_name("r")
        .policy_arn("not-an-arn-at-all-really")
        .send()
        .await;
    assert_eq!(
        err(refused),
        (
            "InvalidInput".to_owned(),
            "ARN not-an-arn-at-all-really is not valid.".to_owned()
        )
    );
    let (code, _) = err(client
        .get_policy()
        .policy_arn("arn:aws:s3:::some-bucket-name")
        .send()
        .await);
    assert_eq!(code, "InvalidInput");
}

#[tokio::test]
async fn the_root_user_is_described_without_a_user_name() {
    let emu = start_default().await;
    let client = iam(&emu);
    let user = client.get_user().send().await.unwrap().user.unwrap();
    assert_eq!(user.arn(), format!("arn:aws:iam::{ACCOUNT}:root"));
    let keys = client.list_access_keys().send().await.unwrap();
    assert!(keys.access_key_metadata().is_empty());
}

#[tokio::test]
async fn query_string_requests_are_served_too() {
    let emu = start_default().await;
    create_user(&iam(&emu), "bob").await;
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let request = format!(
        "GET /?Action=GetUser&Version=2010-05-08&UserName=bob HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        emu.addr()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User><Path>/</Path><UserName>bob</UserName>"),
        "{text}"
    );
    assert!(text.contains("<ResponseMetadata><RequestId>"), "{text}");
}

#[tokio::test]
async fn enforced_policies_cover_firehose_and_s3() {
    let emu = Emulator::start(Config {
        account_id: "123456789012".to_owned(),
        sigv4: Some(vec!["AKIDADMIN:adminsecret".parse().unwrap()]),
        iam_enforce: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let admin = iam_as(&emu, "AKIDADMIN", "adminsecret");
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"firehose:PutRecord","Resource":"arn:aws:firehose:us-west-2:123456789012:deliverystream/my-delivery-stream"},
        {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket/*"},
        {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}"#;
    let (key, secret) = user_with_policy(&admin, "producer", policy).await;
    let credentials = Credentials::new(&key, &secret, None, None, "test");

    let firehose = aws_sdk_firehose::Client::from_conf(
        aws_sdk_firehose::Config::builder()
            .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_firehose::config::Region::new("us-west-2"))
            .credentials_provider(credentials.clone())
            .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled())
            .build(),
    );
    let record = || {
        aws_sdk_firehose::types::Record::builder()
            .data(aws_sdk_firehose::primitives::Blob::new(b"x".to_vec()))
            .build()
            .unwrap()
    };
    let batch = firehose
        .put_record_batch()
        .delivery_stream_name("my-delivery-stream")
        .records(record())
        .send()
        .await;
    assert_eq!(
        err(batch),
        (
            "AccessDeniedException".to_owned(),
            "User: arn:aws:iam::123456789012:user/producer is not authorized to perform: firehose:PutRecordBatch on resource: arn:aws:firehose:us-west-2:123456789012:deliverystream/my-delivery-stream because no identity-based policy allows the firehose:PutRecordBatch action".to_owned()
        )
    );
    let allowed = firehose
        .put_record()
        .delivery_stream_name("my-delivery-stream")
        .record(record())
        .send()
        .await;
    if let Err(e) = allowed {
        assert_ne!(e.code(), Some("AccessDeniedException"), "{e:?}");
    }

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint_url())
            .region(aws_sdk_s3::config::Region::new("us-west-2"))
            .credentials_provider(credentials)
            .force_path_style(true)
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    );
    let (code, message) = err(s3.list_buckets().send().await);
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("s3:ListAllMyBuckets"), "{message}");
    let (code, message) = err(s3
        .delete_object()
        .bucket("my-bucket")
        .key("a/b")
        .send()
        .await);
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        message,
        "User: arn:aws:iam::123456789012:user/producer is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::my-bucket/a/b with an explicit deny in an identity-based policy"
    );
    let (code, _) = err(s3.get_object().bucket("other-bucket").key("k").send().await);
    assert_eq!(code, "AccessDenied");
    if let Err(e) = s3.get_object().bucket("my-bucket").key("k").send().await {
        assert_ne!(e.code(), Some("AccessDenied"), "{e:?}");
    }
    // A copy writes into my-bucket (allowed) but reads other-bucket (not allowed).
    let (code, message) = err(s3
        .copy_object()
        .bucket("my-bucket")
        .key("copy")
        .copy_source("other-bucket/secret")
        .send()
        .await);
    assert_eq!(code, "AccessDenied");
    assert!(
        message.contains("s3:GetObject on resource: arn:aws:s3:::other-bucket/secret"),
        "{message}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn acknowledged_changes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = EmulatorProcess::start(dir.path(), &[]).await;
    let client = iam_at(&emulator.endpoint_url(), "AKIDTEST", "secret");
    let arn = create_policy(&client, "p", WRITE_POLICY).await;
    create_role(&client, "r").await;
    client
        .attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    client
        .put_role_policy()
        .role_name("r")
        .policy_name("inline")
        .policy_document(READ_POLICY)
        .send()
        .await
        .unwrap();
    emulator.kill_9().await;

    emulator.restart().await;
    let client = iam_at(&emulator.endpoint_url(), "AKIDTEST", "secret");
    let attached = client
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let inline = client
        .get_role_policy()
        .role_name("r")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(decode(inline.policy_document()), READ_POLICY);
    emulator.kill_9().await;
}

#[test]
fn iam_enforcement_needs_signed_requests() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kinesis-operator"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--iam-enforce"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--iam-enforce needs --auth sigv4"),
        "{stderr}"
    );
}
