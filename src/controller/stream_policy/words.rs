//! Every event and condition a StreamPolicy shows, word for word: its life driven against
//! the emulator's IAM pass by pass ([`crate::controller::runtime::words`]). A message that
//! changes wording, or leaks a Rust Debug string, fails here.

use super::StreamPolicies;
use crate::api::stream_policy::StreamPolicy;
use crate::controller::runtime::words::{Driver, Words, object, respec, someone_elses, strings};
use crate::emulator::Config;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

const CLICKS: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks";

fn policy(name: &str, spec: serde_json::Value) -> StreamPolicy {
    object(name, spec)
}

/// Statements granting `access` on the clicks stream.
fn on_clicks(access: &str) -> serde_json::Value {
    serde_json::json!([{"streams": [{"streamARN": CLICKS}], "access": [access]}])
}

async fn driver() -> (Driver<StreamPolicies>, aws_sdk_iam::Client) {
    let d = Driver::start(StreamPolicies, Config::default()).await;
    let iam = aws_sdk_iam::Client::new(&d.sdk);
    for role in ["writer", "reader"] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    }
    (d, iam)
}

#[tokio::test]
async fn a_policys_life_in_words() {
    let (mut d, _iam) = driver().await;
    let mut p = policy(
        "clicks-rw",
        serde_json::json!({"statements": on_clicks("Write"),
            "attachToRoles": ["writer", "reader", "ghost"], "tags": {"team": "data"}}),
    );
    assert_eq!(
        d.settle(&mut p).await,
        Words {
            events: strings(&[
                "Created: CreatePolicy clicks-rw",
                "Attached: AttachRolePolicy to roles reader and writer",
            ]),
            conditions: strings(&[
                "RoleNotFound: IAM role ghost does not exist, so policy clicks-rw is not attached to it: create the role or remove it from spec.attachToRoles (the operator tries again every 30 s)"
            ]),
        }
    );

    respec(
        &mut p,
        serde_json::json!({"statements": on_clicks("Read"), "attachToRoles": ["writer"],
            "tags": {"env": "prod"}}),
    );
    assert_eq!(
        d.settle(&mut p).await,
        Words {
            events: strings(&[
                "Updated: CreatePolicyVersion v2 as the default (was v1)",
                "TagsChanged: TagPolicy env",
                "TagsChanged: UntagPolicy team",
                "Detached: DetachRolePolicy from role reader: not in spec.attachToRoles",
            ]),
            conditions: strings(&[
                "Active: policy clicks-rw v2 is in force and matches the spec, attached to writer"
            ]),
        }
    );

    // The sixth version makes room first.
    for access in ["Describe", "Admin", "Write"] {
        respec(
            &mut p,
            serde_json::json!({"statements": on_clicks(access), "attachToRoles": ["writer"],
                "tags": {"env": "prod"}}),
        );
        d.settle(&mut p).await;
    }
    respec(
        &mut p,
        serde_json::json!({"statements": on_clicks("Read"), "attachToRoles": ["writer"],
            "tags": {"env": "prod"}}),
    );
    assert_eq!(
        d.settle(&mut p).await.events,
        strings(&[
            "Updated: CreatePolicyVersion v6 as the default (was v5), after DeletePolicyVersion v1 (IAM keeps at most 5 versions)"
        ])
    );

    respec(&mut p, serde_json::json!({"attachToRoles": ["writer"]}));
    assert_eq!(
        d.settle(&mut p).await.conditions,
        strings(&[
            "InvalidSpec: spec: set exactly one of statements (rendered by the operator) or document (a raw IAM policy)"
        ])
    );
    respec(
        &mut p,
        serde_json::json!({"document": "{", "attachToRoles": ["writer"]}),
    );
    assert_eq!(
        d.settle(&mut p).await.conditions,
        strings(&[
            "InvalidSpec: spec.document is not valid JSON: EOF while parsing an object at line 1 column 1; fix the document"
        ])
    );

    // Someone else's policy of the same name.
    let mut theirs = someone_elses(policy(
        "clicks-rw",
        serde_json::json!({"statements": on_clicks("Read")}),
    ));
    d.restart();
    assert_eq!(
        d.settle(&mut theirs).await,
        Words::quiet(&[
            "AlreadyExists: policy clicks-rw already exists in IAM and is not this object's (owned by data/clicks-rw); set spec.adopt: true to take it over, or choose another spec.policyName"
        ])
    );
    respec(
        &mut theirs,
        serde_json::json!({"statements": on_clicks("Read"), "adopt": true, "attachToRoles": ["reader"]}),
    );
    assert_eq!(
        d.settle(&mut theirs).await,
        Words {
            events: strings(&[
                "Adopted: took over policy clicks-rw (spec.adopt) and tagged it as this object's",
                "TagsChanged: UntagPolicy env",
                "Attached: AttachRolePolicy to role reader",
                "Detached: DetachRolePolicy from role writer: not in spec.attachToRoles",
            ]),
            conditions: strings(&[
                "Active: policy clicks-rw v6 is in force and matches the spec, attached to reader"
            ]),
        }
    );

    assert_eq!(
        d.delete(&theirs).await,
        strings(&["Deleting: DeletePolicy clicks-rw, after detaching it from reader"])
    );
}

#[tokio::test]
async fn a_name_taken_under_another_path_is_explained() {
    let (mut d, iam) = driver().await;
    iam.create_policy()
        .policy_name("pathy")
        .path("/other/")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:ListStreams","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let mut p = policy(
        "pathy",
        serde_json::json!({"statements": on_clicks("Read")}),
    );
    // IAM's own words in the middle.
    assert_eq!(
        d.settle(&mut p).await.conditions,
        strings(&[
            "AlreadyExists: a policy named pathy already exists in IAM under another path than / (A policy called pathy already exists. Duplicate names are not allowed.); IAM policy names are unique in an account: choose another spec.policyName"
        ])
    );
}
