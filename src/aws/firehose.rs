//! Amazon Data Firehose for the controller: the calls a `DeliveryStream` needs, the spec
//! translated into AWS's request shapes, and Describe translated back into the spec's terms so
//! that drift is a plain comparison of two values of the same type.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamEncryptionConfigurationInput,
    DeliveryStreamType, DestinationDescription, EncryptionConfiguration,
    ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate, HttpEndpointBufferingHints,
    HttpEndpointConfiguration, HttpEndpointDestinationConfiguration, HttpEndpointDestinationUpdate,
    HttpEndpointS3BackupMode, KeyType, KinesisStreamSourceConfiguration, KmsEncryptionConfig,
    NoEncryptionConfig, S3BackupMode, S3DestinationConfiguration, S3DestinationDescription,
    S3DestinationUpdate, Tag,
};

use super::call::{CallCounter, Caller};
use super::errors::{AwsCallError, ErrorClass};
use super::rate_limit::RateLimiter;
use crate::api::delivery_stream::{
    Compression, DeliveryEncryption, DeliveryKeyType, HttpBackupMode, HttpBufferingHints,
    HttpEndpointDestination, HttpS3Backup, S3Backup, S3BackupMode as SpecBackupMode,
    S3BufferingHints, S3Destination,
};

/// AWS's quota for Firehose control-plane calls: CreateDeliveryStream, DeleteDeliveryStream,
/// DescribeDeliveryStream, ListDeliveryStreams, UpdateDestination, the tagging calls and
/// Start/StopDeliveryStreamEncryption each allow 5 calls per second per account and region.
pub fn firehose_quota(_operation: &str) -> f64 {
    5.0
}

/// Where a delivery stream reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceView {
    /// Producers call PutRecord / PutRecordBatch.
    DirectPut,
    /// Firehose reads a Kinesis data stream.
    KinesisStream {
        /// The stream read.
        stream_arn: String,
        /// The role Firehose reads it as.
        role_arn: String,
    },
    /// A source the operator does not manage (MSK, database), by AWS's type name.
    Other(String),
}

/// A destination in the spec's terms, as the spec asks for it or as Describe reports it,
/// normalised ([`DestinationSettings::normalised`]) so that equal settings compare equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestinationSettings {
    /// Extended S3.
    S3(S3Destination),
    /// HTTP endpoint; the access key is write-only in AWS and so never part of the comparison
    /// (`access_key_secret_ref` is always `None` here).
    Http(HttpEndpointDestination),
    /// A destination type the operator does not manage, by AWS's name.
    Other(String),
}

impl DestinationSettings {
    /// The settings `spec` asks for.
    pub fn from_spec(s3: Option<&S3Destination>, http: Option<&HttpEndpointDestination>) -> Self {
        match (s3, http) {
            (Some(s3), _) => DestinationSettings::S3(s3.clone()),
            (None, Some(http)) => DestinationSettings::Http(HttpEndpointDestination {
                access_key_secret_ref: None,
                ..http.clone()
            }),
            (None, None) => DestinationSettings::Other("none".to_owned()),
        }
        .normalised()
    }

    /// The same settings with AWS's equivalences removed: an empty prefix is no prefix, a
    /// backup without its own role uses the destination's, and backup settings do not count
    /// while backup is disabled.
    pub fn normalised(self) -> Self {
        fn prefix(p: Option<String>) -> Option<String> {
            p.filter(|p| !p.is_empty())
        }
        match self {
            DestinationSettings::S3(mut s3) => {
                s3.prefix = prefix(s3.prefix);
                s3.error_output_prefix = prefix(s3.error_output_prefix);
                s3.backup = match s3.backup_mode {
                    SpecBackupMode::Disabled => None,
                    SpecBackupMode::Enabled => s3.backup.map(|b| S3Backup {
                        role_arn: Some(b.role_arn.unwrap_or_else(|| s3.role_arn.clone())),
                        prefix: prefix(b.prefix),
                        bucket_arn: b.bucket_arn,
                    }),
                };
                DestinationSettings::S3(s3)
            }
            DestinationSettings::Http(mut http) => {
                http.name = http.name.filter(|n| !n.is_empty());
                http.s3_backup.prefix = prefix(http.s3_backup.prefix);
                DestinationSettings::Http(http)
            }
            other => other,
        }
    }
}

/// A delivery stream's server-side encryption as Describe reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncryptionView {
    /// ENABLED, ENABLING, ENABLING_FAILED, DISABLED, DISABLING or DISABLING_FAILED.
    pub status: String,
    /// AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK, while enabled.
    pub key_type: Option<DeliveryKeyType>,
    /// The customer managed key, when one is used.
    pub key_arn: Option<String>,
}

impl EncryptionView {
    /// Whether encryption is on (or being turned on) as `wanted` asks; `None` wants it off.
    pub fn matches(&self, wanted: Option<&DeliveryEncryption>) -> bool {
        match wanted {
            None => matches!(self.status.as_str(), "DISABLED" | "DISABLING" | ""),
            Some(w) => {
                matches!(self.status.as_str(), "ENABLED" | "ENABLING")
                    && self.key_type == Some(w.key_type)
                    && (w.key_type == DeliveryKeyType::AwsOwned || self.key_arn == w.key_arn)
            }
        }
    }
}

/// A delivery stream as DescribeDeliveryStream reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryView {
    /// ARN.
    pub arn: String,
    /// CREATING, CREATING_FAILED, ACTIVE, DELETING or DELETING_FAILED.
    pub status: String,
    /// AWS's explanation of a failed status, `TYPE: details`.
    pub failure: Option<String>,
    /// The version UpdateDestination must name.
    pub version_id: String,
    /// When the delivery stream was created, in seconds since the epoch (a stream deleted and
    /// re-created under the same name has a new one).
    pub created_at: i64,
    /// Where it reads from.
    pub source: SourceView,
    /// The id UpdateDestination must name.
    pub destination_id: String,
    /// Where it delivers to.
    pub destination: DestinationSettings,
    /// Server-side encryption.
    pub encryption: EncryptionView,
}

/// What CreateDeliveryStream is asked for.
pub struct NewDelivery<'a> {
    /// `None`: DirectPut; `Some((stream ARN, role ARN))`: KinesisStreamAsSource.
    pub source: Option<(&'a str, &'a str)>,
    /// The destination.
    pub destination: &'a DestinationSettings,
    /// The HTTP endpoint's access key, read from the Secret the spec names.
    pub access_key: Option<&'a str>,
    /// Server-side encryption (DirectPut only).
    pub encryption: Option<&'a DeliveryEncryption>,
    /// All tags, ownership tags included.
    pub tags: &'a BTreeMap<String, String>,
}

/// The Firehose calls the controller makes, in one region, each rate-limited below AWS's quota
/// and counted in the metrics.
#[derive(Clone)]
pub struct FirehoseApi {
    client: aws_sdk_firehose::Client,
    caller: Caller,
}

impl FirehoseApi {
    /// Calls through `client`, paced by `limiter`, counted in `metrics`.
    pub fn new(
        client: aws_sdk_firehose::Client,
        metrics: Arc<dyn CallCounter>,
        limiter: Arc<RateLimiter>,
    ) -> Self {
        FirehoseApi {
            client,
            caller: Caller::new(metrics, limiter),
        }
    }

    /// The delivery stream named `name`, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<DeliveryView>, AwsCallError> {
        let out = self
            .caller
            .call_unless_gone("firehose:DescribeDeliveryStream", || {
                self.client
                    .describe_delivery_stream()
                    .delivery_stream_name(name)
                    .send()
            })
            .await?;
        Ok(out
            .and_then(|o| o.delivery_stream_description)
            .map(|d| view(&d)))
    }

    /// Creates a delivery stream.
    pub async fn create(&self, name: &str, new: &NewDelivery<'_>) -> Result<(), AwsCallError> {
        let mut request = self
            .client
            .create_delivery_stream()
            .delivery_stream_name(name)
            .set_tags(Some(tags(new.tags)));
        request = match new.source {
            None => request.delivery_stream_type(DeliveryStreamType::DirectPut),
            Some((stream_arn, role_arn)) => request
                .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
                .kinesis_stream_source_configuration(
                    KinesisStreamSourceConfiguration::builder()
                        .kinesis_stream_arn(stream_arn)
                        .role_arn(role_arn)
                        .build()
                        .map_err(|e| build_error("firehose:CreateDeliveryStream", e))?,
                ),
        };
        if let Some(encryption) = new.encryption {
            request = request.delivery_stream_encryption_configuration_input(
                encryption_input(encryption)
                    .map_err(|e| build_error("firehose:CreateDeliveryStream", e))?,
            );
        }
        request = match new.destination {
            DestinationSettings::S3(s3) => request.extended_s3_destination_configuration(
                s3_configuration(s3)
                    .map_err(|e| build_error("firehose:CreateDeliveryStream", e))?,
            ),
            DestinationSettings::Http(http) => request.http_endpoint_destination_configuration(
                http_configuration(http, new.access_key)
                    .map_err(|e| build_error("firehose:CreateDeliveryStream", e))?,
            ),
            DestinationSettings::Other(kind) => {
                return Err(unsupported("firehose:CreateDeliveryStream", kind));
            }
        };
        self.caller
            .call("firehose:CreateDeliveryStream", || request.clone().send())
            .await
            .map(drop)
    }

    /// Moves the destination `destination_id` of version `version_id` to `wanted`; an HTTP
    /// endpoint's access key is sent again when `access_key` is given.
    pub async fn update_destination(
        &self,
        name: &str,
        version_id: &str,
        destination_id: &str,
        wanted: &DestinationSettings,
        access_key: Option<&str>,
    ) -> Result<(), AwsCallError> {
        let request = self
            .client
            .update_destination()
            .delivery_stream_name(name)
            .current_delivery_stream_version_id(version_id)
            .destination_id(destination_id);
        let request = match wanted {
            DestinationSettings::S3(s3) => request.extended_s3_destination_update(
                s3_update(s3).map_err(|e| build_error("firehose:UpdateDestination", e))?,
            ),
            DestinationSettings::Http(http) => request.http_endpoint_destination_update(
                http_update(http, access_key)
                    .map_err(|e| build_error("firehose:UpdateDestination", e))?,
            ),
            DestinationSettings::Other(kind) => {
                return Err(unsupported("firehose:UpdateDestination", kind));
            }
        };
        self.caller
            .call("firehose:UpdateDestination", || request.clone().send())
            .await
            .map(drop)
    }

    /// Deletes a delivery stream; one already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), AwsCallError> {
        self.caller
            .call_unless_gone("firehose:DeleteDeliveryStream", || {
                self.client
                    .delete_delivery_stream()
                    .delivery_stream_name(name)
                    .send()
            })
            .await
            .map(drop)
    }

    /// The delivery stream's tags (all pages).
    pub async fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsCallError> {
        let mut all = BTreeMap::new();
        let mut start: Option<String> = None;
        loop {
            let request = self
                .client
                .list_tags_for_delivery_stream()
                .delivery_stream_name(name)
                .set_exclusive_start_tag_key(start.clone())
                .limit(50);
            let out = self
                .caller
                .call("firehose:ListTagsForDeliveryStream", || {
                    request.clone().send()
                })
                .await?;
            let more = out.has_more_tags;
            let last = out.tags.last().map(|t| t.key.clone());
            all.extend(
                out.tags
                    .into_iter()
                    .map(|t| (t.key, t.value.unwrap_or_default())),
            );
            match (more, last) {
                (true, Some(last)) => start = Some(last),
                _ => return Ok(all),
            }
        }
    }

    /// Adds or overwrites `tags`.
    pub async fn tag(
        &self,
        name: &str,
        tags_to_set: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        self.caller
            .call("firehose:TagDeliveryStream", || {
                self.client
                    .tag_delivery_stream()
                    .delivery_stream_name(name)
                    .set_tags(Some(tags(tags_to_set)))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Removes the tags `keys`.
    pub async fn untag(&self, name: &str, keys: &[String]) -> Result<(), AwsCallError> {
        self.caller
            .call("firehose:UntagDeliveryStream", || {
                self.client
                    .untag_delivery_stream()
                    .delivery_stream_name(name)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Turns server-side encryption on as `encryption` says, or off.
    pub async fn set_encryption(
        &self,
        name: &str,
        encryption: Option<&DeliveryEncryption>,
    ) -> Result<(), AwsCallError> {
        match encryption {
            Some(encryption) => {
                let input = encryption_input(encryption)
                    .map_err(|e| build_error("firehose:StartDeliveryStreamEncryption", e))?;
                self.caller
                    .call("firehose:StartDeliveryStreamEncryption", || {
                        self.client
                            .start_delivery_stream_encryption()
                            .delivery_stream_name(name)
                            .delivery_stream_encryption_configuration_input(input.clone())
                            .send()
                    })
                    .await
                    .map(drop)
            }
            None => self
                .caller
                .call("firehose:StopDeliveryStreamEncryption", || {
                    self.client
                        .stop_delivery_stream_encryption()
                        .delivery_stream_name(name)
                        .send()
                })
                .await
                .map(drop),
        }
    }
}

/// A request the SDK refused to build: a field the spec left out that AWS requires. The
/// schema requires them all, so this names the field for the rare object that bypassed it.
fn build_error(
    operation: &'static str,
    e: aws_smithy_types::error::operation::BuildError,
) -> AwsCallError {
    AwsCallError {
        operation,
        code: "InvalidSpec".to_owned(),
        message: format!("the request could not be built from the spec: {e}"),
        class: ErrorClass::Terminal,
    }
}

fn unsupported(operation: &'static str, kind: &str) -> AwsCallError {
    AwsCallError {
        operation,
        code: "InvalidSpec".to_owned(),
        message: format!(
            "the destination type {kind} is not managed by kinesis-operator; set spec.destination.s3 or spec.destination.httpEndpoint"
        ),
        class: ErrorClass::Terminal,
    }
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

fn compression(c: Compression) -> CompressionFormat {
    match c {
        Compression::Uncompressed => CompressionFormat::Uncompressed,
        Compression::Gzip => CompressionFormat::Gzip,
        Compression::Zip => CompressionFormat::Zip,
        Compression::Snappy => CompressionFormat::Snappy,
        Compression::HadoopSnappy => CompressionFormat::HadoopSnappy,
    }
}

fn compression_of(c: &CompressionFormat) -> Compression {
    match c {
        CompressionFormat::Gzip => Compression::Gzip,
        CompressionFormat::Zip => Compression::Zip,
        CompressionFormat::Snappy => Compression::Snappy,
        CompressionFormat::HadoopSnappy => Compression::HadoopSnappy,
        _ => Compression::Uncompressed,
    }
}

fn buffering(h: &S3BufferingHints) -> BufferingHints {
    BufferingHints::builder()
        .size_in_mbs(h.size_in_m_bs)
        .interval_in_seconds(h.interval_in_seconds)
        .build()
}

fn encryption(
    kms_key_arn: Option<&str>,
) -> Result<EncryptionConfiguration, aws_smithy_types::error::operation::BuildError> {
    Ok(match kms_key_arn {
        Some(key) => EncryptionConfiguration::builder()
            .kms_encryption_config(KmsEncryptionConfig::builder().awskms_key_arn(key).build()?)
            .build(),
        None => EncryptionConfiguration::builder()
            .no_encryption_config(NoEncryptionConfig::NoEncryption)
            .build(),
    })
}

fn encryption_input(
    e: &DeliveryEncryption,
) -> Result<
    DeliveryStreamEncryptionConfigurationInput,
    aws_smithy_types::error::operation::BuildError,
> {
    DeliveryStreamEncryptionConfigurationInput::builder()
        .key_type(match e.key_type {
            DeliveryKeyType::AwsOwned => KeyType::AwsOwnedCmk,
            DeliveryKeyType::CustomerManaged => KeyType::CustomerManagedCmk,
        })
        .set_key_arn(e.key_arn.clone())
        .build()
}

fn backup_mode(m: SpecBackupMode) -> S3BackupMode {
    match m {
        SpecBackupMode::Disabled => S3BackupMode::Disabled,
        SpecBackupMode::Enabled => S3BackupMode::Enabled,
    }
}

/// A plain S3 configuration (backups): UNCOMPRESSED, AWS's default buffering.
fn plain_s3(
    bucket_arn: &str,
    role_arn: &str,
    prefix: Option<&str>,
) -> Result<S3DestinationConfiguration, aws_smithy_types::error::operation::BuildError> {
    S3DestinationConfiguration::builder()
        .bucket_arn(bucket_arn)
        .role_arn(role_arn)
        .prefix(prefix.unwrap_or_default())
        .build()
}

/// The ExtendedS3DestinationConfiguration `s3` asks for.
pub fn s3_configuration(
    s3: &S3Destination,
) -> Result<ExtendedS3DestinationConfiguration, aws_smithy_types::error::operation::BuildError> {
    let mut b = ExtendedS3DestinationConfiguration::builder()
        .bucket_arn(&s3.bucket_arn)
        .role_arn(&s3.role_arn)
        .prefix(s3.prefix.clone().unwrap_or_default())
        .set_error_output_prefix(s3.error_output_prefix.clone())
        .compression_format(compression(s3.compression))
        .buffering_hints(buffering(&s3.buffering_hints))
        .encryption_configuration(encryption(s3.kms_key_arn.as_deref())?)
        .s3_backup_mode(backup_mode(s3.backup_mode));
    if let (SpecBackupMode::Enabled, Some(backup)) = (s3.backup_mode, &s3.backup) {
        b = b.s3_backup_configuration(plain_s3(
            &backup.bucket_arn,
            backup.role_arn.as_deref().unwrap_or(&s3.role_arn),
            backup.prefix.as_deref(),
        )?);
    }
    b.build()
}

/// The ExtendedS3DestinationUpdate that moves a destination to `s3`: every managed field
/// is sent, so a field removed from the spec returns to AWS's default.
pub fn s3_update(
    s3: &S3Destination,
) -> Result<ExtendedS3DestinationUpdate, aws_smithy_types::error::operation::BuildError> {
    let mut b = ExtendedS3DestinationUpdate::builder()
        .bucket_arn(&s3.bucket_arn)
        .role_arn(&s3.role_arn)
        .prefix(s3.prefix.clone().unwrap_or_default())
        .error_output_prefix(s3.error_output_prefix.clone().unwrap_or_default())
        .compression_format(compression(s3.compression))
        .buffering_hints(buffering(&s3.buffering_hints))
        .encryption_configuration(encryption(s3.kms_key_arn.as_deref())?)
        .s3_backup_mode(backup_mode(s3.backup_mode));
    if let (SpecBackupMode::Enabled, Some(backup)) = (s3.backup_mode, &s3.backup) {
        b = b.s3_backup_update(
            S3DestinationUpdate::builder()
                .bucket_arn(&backup.bucket_arn)
                .role_arn(backup.role_arn.as_deref().unwrap_or(&s3.role_arn))
                .prefix(backup.prefix.clone().unwrap_or_default())
                .build(),
        );
    }
    Ok(b.build())
}

fn http_buffering(h: &HttpBufferingHints) -> HttpEndpointBufferingHints {
    HttpEndpointBufferingHints::builder()
        .size_in_mbs(h.size_in_m_bs)
        .interval_in_seconds(h.interval_in_seconds)
        .build()
}

fn http_backup_mode(m: HttpBackupMode) -> HttpEndpointS3BackupMode {
    match m {
        HttpBackupMode::FailedDataOnly => HttpEndpointS3BackupMode::FailedDataOnly,
        HttpBackupMode::AllData => HttpEndpointS3BackupMode::AllData,
    }
}

/// The HttpEndpointDestinationConfiguration `http` asks for, with its access key.
pub fn http_configuration(
    http: &HttpEndpointDestination,
    access_key: Option<&str>,
) -> Result<HttpEndpointDestinationConfiguration, aws_smithy_types::error::operation::BuildError> {
    Ok(HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url(&http.url)
                .set_name(http.name.clone())
                .set_access_key(access_key.map(str::to_owned))
                .build()?,
        )
        .buffering_hints(http_buffering(&http.buffering_hints))
        .set_role_arn(http.role_arn.clone())
        .s3_backup_mode(http_backup_mode(http.s3_backup.mode))
        .s3_configuration(plain_s3(
            &http.s3_backup.bucket_arn,
            &http.s3_backup.role_arn,
            http.s3_backup.prefix.as_deref(),
        )?)
        .build())
}

/// The HttpEndpointDestinationUpdate that moves a destination to `http`; the access key is
/// sent only when given (AWS keeps the previous one otherwise).
pub fn http_update(
    http: &HttpEndpointDestination,
    access_key: Option<&str>,
) -> Result<HttpEndpointDestinationUpdate, aws_smithy_types::error::operation::BuildError> {
    Ok(HttpEndpointDestinationUpdate::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url(&http.url)
                .set_name(http.name.clone())
                .set_access_key(access_key.map(str::to_owned))
                .build()?,
        )
        .buffering_hints(http_buffering(&http.buffering_hints))
        .set_role_arn(http.role_arn.clone())
        .s3_backup_mode(http_backup_mode(http.s3_backup.mode))
        .s3_update(
            S3DestinationUpdate::builder()
                .bucket_arn(&http.s3_backup.bucket_arn)
                .role_arn(&http.s3_backup.role_arn)
                .prefix(http.s3_backup.prefix.clone().unwrap_or_default())
                .build(),
        )
        .build())
}

fn kms_key(e: Option<&EncryptionConfiguration>) -> Option<String> {
    e.and_then(|e| e.kms_encryption_config.as_ref())
        .map(|k| k.awskms_key_arn.clone())
}

fn s3_buffering(h: Option<&BufferingHints>) -> S3BufferingHints {
    let default = S3BufferingHints::default();
    S3BufferingHints {
        size_in_m_bs: h
            .and_then(|h| h.size_in_mbs)
            .unwrap_or(default.size_in_m_bs),
        interval_in_seconds: h
            .and_then(|h| h.interval_in_seconds)
            .unwrap_or(default.interval_in_seconds),
    }
}

fn backup_of(d: Option<&S3DestinationDescription>) -> Option<S3Backup> {
    d.map(|b| S3Backup {
        bucket_arn: b.bucket_arn.clone(),
        role_arn: Some(b.role_arn.clone()),
        prefix: b.prefix.clone(),
    })
}

/// The destination of `d` in the spec's terms.
fn destination_of(d: &DestinationDescription) -> DestinationSettings {
    let settings = if let Some(s3) = &d.extended_s3_destination_description {
        DestinationSettings::S3(S3Destination {
            bucket_arn: s3.bucket_arn.clone(),
            role_arn: s3.role_arn.clone(),
            prefix: s3.prefix.clone(),
            error_output_prefix: s3.error_output_prefix.clone(),
            compression: compression_of(&s3.compression_format),
            buffering_hints: s3_buffering(s3.buffering_hints.as_ref()),
            kms_key_arn: kms_key(s3.encryption_configuration.as_ref()),
            backup_mode: match s3.s3_backup_mode {
                Some(S3BackupMode::Enabled) => SpecBackupMode::Enabled,
                _ => SpecBackupMode::Disabled,
            },
            backup: backup_of(s3.s3_backup_description.as_ref()),
        })
    } else if let Some(s3) = &d.s3_destination_description {
        // A plain S3 destination reads back as extended S3 without backup.
        DestinationSettings::S3(S3Destination {
            bucket_arn: s3.bucket_arn.clone(),
            role_arn: s3.role_arn.clone(),
            prefix: s3.prefix.clone(),
            error_output_prefix: s3.error_output_prefix.clone(),
            compression: compression_of(&s3.compression_format),
            buffering_hints: s3_buffering(s3.buffering_hints.as_ref()),
            kms_key_arn: kms_key(s3.encryption_configuration.as_ref()),
            backup_mode: SpecBackupMode::Disabled,
            backup: None,
        })
    } else if let Some(http) = &d.http_endpoint_destination_description {
        let endpoint = http.endpoint_configuration.as_ref();
        let backup = http.s3_destination_description.as_ref();
        let default = HttpBufferingHints::default();
        DestinationSettings::Http(HttpEndpointDestination {
            url: endpoint.and_then(|e| e.url.clone()).unwrap_or_default(),
            name: endpoint.and_then(|e| e.name.clone()),
            access_key_secret_ref: None,
            buffering_hints: HttpBufferingHints {
                size_in_m_bs: http
                    .buffering_hints
                    .as_ref()
                    .and_then(|h| h.size_in_mbs)
                    .unwrap_or(default.size_in_m_bs),
                interval_in_seconds: http
                    .buffering_hints
                    .as_ref()
                    .and_then(|h| h.interval_in_seconds)
                    .unwrap_or(default.interval_in_seconds),
            },
            role_arn: http.role_arn.clone(),
            s3_backup: HttpS3Backup {
                bucket_arn: backup.map(|b| b.bucket_arn.clone()).unwrap_or_default(),
                role_arn: backup.map(|b| b.role_arn.clone()).unwrap_or_default(),
                prefix: backup.and_then(|b| b.prefix.clone()),
                mode: match http.s3_backup_mode {
                    Some(HttpEndpointS3BackupMode::AllData) => HttpBackupMode::AllData,
                    _ => HttpBackupMode::FailedDataOnly,
                },
            },
        })
    } else {
        DestinationSettings::Other(other_destination_type(d).to_owned())
    };
    settings.normalised()
}

fn other_destination_type(d: &DestinationDescription) -> &'static str {
    if d.redshift_destination_description.is_some() {
        "Redshift"
    } else if d.splunk_destination_description.is_some() {
        "Splunk"
    } else if d.snowflake_destination_description.is_some() {
        "Snowflake"
    } else if d.iceberg_destination_description.is_some() {
        "Iceberg"
    } else if d.elasticsearch_destination_description.is_some()
        || d.amazonopensearchservice_destination_description.is_some()
        || d.amazon_open_search_serverless_destination_description
            .is_some()
    {
        "OpenSearch"
    } else {
        "unknown"
    }
}

/// A Describe answer in the operator's terms.
fn view(d: &aws_sdk_firehose::types::DeliveryStreamDescription) -> DeliveryView {
    let source = match d.delivery_stream_type {
        DeliveryStreamType::DirectPut => SourceView::DirectPut,
        DeliveryStreamType::KinesisStreamAsSource => {
            let k = d
                .source
                .as_ref()
                .and_then(|s| s.kinesis_stream_source_description.as_ref());
            SourceView::KinesisStream {
                stream_arn: k
                    .and_then(|k| k.kinesis_stream_arn.clone())
                    .unwrap_or_default(),
                role_arn: k.and_then(|k| k.role_arn.clone()).unwrap_or_default(),
            }
        }
        ref other => SourceView::Other(other.as_str().to_owned()),
    };
    let first = d.destinations.first();
    let encryption = d
        .delivery_stream_encryption_configuration
        .as_ref()
        .map(|e| EncryptionView {
            status: e
                .status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            key_type: e.key_type.as_ref().map(|k| match k {
                KeyType::CustomerManagedCmk => DeliveryKeyType::CustomerManaged,
                _ => DeliveryKeyType::AwsOwned,
            }),
            key_arn: e.key_arn.clone(),
        })
        .unwrap_or_default();
    DeliveryView {
        arn: d.delivery_stream_arn.clone(),
        status: d.delivery_stream_status.as_str().to_owned(),
        failure: d
            .failure_description
            .as_ref()
            .map(|f| format!("{}: {}", f.r#type.as_str(), f.details)),
        version_id: d.version_id.clone(),
        created_at: d.create_timestamp.map(|t| t.secs()).unwrap_or_default(),
        source,
        destination_id: first.map(|f| f.destination_id.clone()).unwrap_or_default(),
        destination: first
            .map(destination_of)
            .unwrap_or_else(|| DestinationSettings::Other("none".to_owned())),
        encryption,
    }
}

super::owned_resource!(
    FirehoseApi,
    DeliveryView,
    "DeleteDeliveryStream",
    "TagDeliveryStream",
    "UntagDeliveryStream"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> S3Destination {
        S3Destination {
            bucket_arn: "arn:aws:s3:::clicks".into(),
            role_arn: "arn:aws:iam::123456789012:role/firehose".into(),
            prefix: Some("raw/".into()),
            error_output_prefix: None,
            compression: Compression::Gzip,
            buffering_hints: S3BufferingHints {
                size_in_m_bs: 64,
                interval_in_seconds: 60,
            },
            kms_key_arn: None,
            backup_mode: SpecBackupMode::Enabled,
            backup: Some(S3Backup {
                bucket_arn: "arn:aws:s3:::clicks-backup".into(),
                role_arn: None,
                prefix: None,
            }),
        }
    }

    /// What the spec asks for reads back equal from Describe of what it created.
    #[test]
    fn s3_spec_round_trips_through_the_request_and_description() {
        let spec = s3();
        let config = s3_configuration(&spec).unwrap();
        let backup = config.s3_backup_configuration.clone().unwrap();
        let description = DestinationDescription::builder()
            .destination_id("destinationId-000000000001")
            .extended_s3_destination_description(
                aws_sdk_firehose::types::ExtendedS3DestinationDescription::builder()
                    .bucket_arn(&config.bucket_arn)
                    .role_arn(&config.role_arn)
                    .set_prefix(config.prefix.clone())
                    .compression_format(config.compression_format.clone().unwrap())
                    .set_buffering_hints(config.buffering_hints.clone())
                    .set_encryption_configuration(config.encryption_configuration.clone())
                    .set_s3_backup_mode(config.s3_backup_mode.clone())
                    .s3_backup_description(
                        S3DestinationDescription::builder()
                            .bucket_arn(&backup.bucket_arn)
                            .role_arn(&backup.role_arn)
                            .set_prefix(backup.prefix.clone())
                            .compression_format(CompressionFormat::Uncompressed)
                            .buffering_hints(BufferingHints::builder().build())
                            .encryption_configuration(encryption(None).unwrap())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(
            destination_of(&description),
            DestinationSettings::from_spec(Some(&spec), None)
        );
    }

    #[test]
    fn equivalent_settings_compare_equal_and_real_changes_do_not() {
        let base = DestinationSettings::from_spec(Some(&s3()), None);
        let equivalent = [
            S3Destination {
                prefix: Some("raw/".into()),
                error_output_prefix: Some(String::new()),
                ..s3()
            },
            S3Destination {
                backup: Some(S3Backup {
                    role_arn: Some("arn:aws:iam::123456789012:role/firehose".into()),
                    prefix: Some(String::new()),
                    ..s3().backup.unwrap()
                }),
                ..s3()
            },
        ];
        for e in equivalent {
            assert_eq!(
                DestinationSettings::from_spec(Some(&e), None),
                base,
                "{e:?}"
            );
        }
        let different = [
            S3Destination {
                compression: Compression::Snappy,
                ..s3()
            },
            S3Destination {
                prefix: None,
                ..s3()
            },
            S3Destination {
                backup_mode: SpecBackupMode::Disabled,
                ..s3()
            },
            S3Destination {
                buffering_hints: S3BufferingHints {
                    size_in_m_bs: 5,
                    interval_in_seconds: 60,
                },
                ..s3()
            },
        ];
        for d in different {
            assert_ne!(
                DestinationSettings::from_spec(Some(&d), None),
                base,
                "{d:?}"
            );
        }
    }

    #[test]
    fn encryption_matches_what_is_wanted() {
        let on = |status: &str, key_type, key_arn: Option<&str>| EncryptionView {
            status: status.into(),
            key_type,
            key_arn: key_arn.map(str::to_owned),
        };
        let aws_owned = DeliveryEncryption {
            key_type: DeliveryKeyType::AwsOwned,
            key_arn: None,
        };
        let cmk = DeliveryEncryption {
            key_type: DeliveryKeyType::CustomerManaged,
            key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
        };
        let cases = [
            (on("DISABLED", None, None), None, true),
            (on("", None, None), None, true),
            (
                on("ENABLED", Some(DeliveryKeyType::AwsOwned), None),
                None,
                false,
            ),
            (
                on("ENABLED", Some(DeliveryKeyType::AwsOwned), None),
                Some(&aws_owned),
                true,
            ),
            (
                on("ENABLING", Some(DeliveryKeyType::AwsOwned), None),
                Some(&aws_owned),
                true,
            ),
            (on("DISABLED", None, None), Some(&aws_owned), false),
            (
                on("ENABLED", Some(DeliveryKeyType::AwsOwned), None),
                Some(&cmk),
                false,
            ),
            (
                on(
                    "ENABLED",
                    Some(DeliveryKeyType::CustomerManaged),
                    Some("arn:aws:kms:us-east-1:123456789012:key/k"),
                ),
                Some(&cmk),
                true,
            ),
        ];
        for (view, wanted, expected) in cases {
            assert_eq!(view.matches(wanted), expected, "{view:?} vs {wanted:?}");
        }
    }
}
