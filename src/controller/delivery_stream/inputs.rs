//! What a DeliveryStream needs from Kubernetes before it can talk to AWS: the ARN of the
//! KinesisStream its source names (through [`crate::controller::references`]) and the HTTP
//! endpoint's access key from the Secret it names.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;

use crate::api::delivery_stream::DeliveryStream;
use crate::api::shared::SecretKeyReference;
use crate::controller::references::{self, Resolutions, Resolved};

/// The access key read from its Secret, with the Secret's version (which, never the key, is
/// what status records).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    /// The key.
    pub key: String,
    /// The Secret's `resourceVersion`.
    pub version: String,
}

/// The inputs of a pass, or why the object must wait or stall.
#[derive(Debug)]
pub enum Inputs {
    /// Everything is at hand.
    Ready {
        /// `(stream ARN, role ARN)` of a Kinesis source; `None` for DirectPut.
        source: Option<(String, String)>,
        /// The HTTP endpoint's access key, when it names one.
        access_key: Option<AccessKey>,
    },
    /// A dependency is missing or not Ready yet (reason `WaitingForDependency`).
    Waiting(String),
    /// A reference is refused or a Secret lacks its key: a human must act.
    Stalled {
        /// Condition reason.
        reason: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The access key `r` names in `secret` (`None`: the Secret does not exist), or why the
/// object waits or stalls, in words that name the Secret and the key.
pub fn access_key(
    namespace: &str,
    r: &SecretKeyReference,
    secret: Option<&Secret>,
) -> Result<AccessKey, Inputs> {
    let Some(secret) = secret else {
        return Err(Inputs::Waiting(format!(
            "waiting for Secret {namespace}/{} (spec.destination.httpEndpoint.accessKeySecretRef): it does not exist",
            r.name
        )));
    };
    let Some(value) = secret.data.as_ref().and_then(|d| d.get(&r.key)) else {
        return Err(Inputs::Stalled {
            reason: "InvalidSpec",
            message: format!(
                "Secret {namespace}/{} has no key {} (spec.destination.httpEndpoint.accessKeySecretRef.key); add it or name another key",
                r.name, r.key
            ),
        });
    };
    let Ok(key) = String::from_utf8(value.0.clone()) else {
        return Err(Inputs::Stalled {
            reason: "InvalidSpec",
            message: format!(
                "key {} of Secret {namespace}/{} is not UTF-8 text; Firehose sends the access key as a header",
                r.key, r.name
            ),
        });
    };
    Ok(AccessKey {
        key,
        version: secret.resource_version().unwrap_or_default(),
    })
}

/// Reads the inputs of `obj`.
pub async fn read(
    client: &kube::Client,
    resolutions: &Resolutions,
    obj: &DeliveryStream,
) -> Result<Inputs, kube::Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let source = match &obj.spec.source.kinesis_stream {
        None => None,
        Some(k) => {
            let arn = match (&k.stream_arn, &k.stream_ref) {
                (Some(arn), _) => arn.clone(),
                (None, Some(reference)) => {
                    match references::stream_arn(client, resolutions, obj, reference).await? {
                        Resolved::Arn(arn) => arn,
                        Resolved::Waiting(message) => return Ok(Inputs::Waiting(message)),
                        Resolved::Refused(message) => {
                            return Ok(Inputs::Stalled {
                                reason: "ReferenceNotAllowed",
                                message,
                            });
                        }
                    }
                }
                (None, None) => {
                    return Ok(Inputs::Stalled {
                        reason: "InvalidSpec",
                        message: "spec.source.kinesisStream: set streamRef or streamARN".into(),
                    });
                }
            };
            Some((arn, k.role_arn.clone()))
        }
    };
    let access_key = match obj
        .spec
        .destination
        .http_endpoint
        .as_ref()
        .and_then(|h| h.access_key_secret_ref.as_ref())
    {
        None => None,
        Some(r) => {
            let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
            let secret = secrets.get_opt(&r.name).await?;
            match access_key(&namespace, r, secret.as_ref()) {
                Ok(key) => Some(key),
                Err(not_yet) => return Ok(not_yet),
            }
        }
    };
    Ok(Inputs::Ready { source, access_key })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;

    use super::*;

    fn secret(key: &str, value: &[u8]) -> Secret {
        let mut s = Secret::default();
        s.metadata.resource_version = Some("7".into());
        s.data = Some([(key.to_owned(), ByteString(value.to_vec()))].into());
        s
    }

    #[test]
    fn a_missing_secret_waits_and_a_bad_one_says_what_to_fix() {
        let r = SecretKeyReference {
            name: "collector-key".into(),
            key: "accessKey".into(),
        };
        let cases = [
            (
                None,
                "Waiting: waiting for Secret web/collector-key (spec.destination.httpEndpoint.accessKeySecretRef): it does not exist",
            ),
            (
                Some(secret("other", b"k")),
                "InvalidSpec: Secret web/collector-key has no key accessKey (spec.destination.httpEndpoint.accessKeySecretRef.key); add it or name another key",
            ),
            (
                Some(secret("accessKey", &[0xff, 0xfe])),
                "InvalidSpec: key accessKey of Secret web/collector-key is not UTF-8 text; Firehose sends the access key as a header",
            ),
        ];
        for (secret, words) in cases {
            let said = match access_key("web", &r, secret.as_ref()) {
                Err(Inputs::Waiting(message)) => format!("Waiting: {message}"),
                Err(Inputs::Stalled { reason, message }) => format!("{reason}: {message}"),
                other => panic!("{other:?}"),
            };
            assert_eq!(said, words);
        }
        assert_eq!(
            access_key("web", &r, Some(&secret("accessKey", b"k1"))).unwrap(),
            AccessKey {
                key: "k1".into(),
                version: "7".into()
            }
        );
    }
}
