//! StartDeliveryStreamEncryption and StopDeliveryStreamEncryption (DirectPut streams only, as
//! AWS allows), and the checks of an encryption input shared with CreateDeliveryStream. The
//! status goes ENABLING -> ENABLED and DISABLING -> DISABLED after the create delay.

use std::sync::Arc;

use super::control::named;
use super::model::{Empty, EncryptionDescription, EncryptionInput, NamedInput};
use super::stream::{DeliveryStream, EncryptionChange, Source, Status};
use super::{Firehose, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Validates a `DeliveryStreamEncryptionConfigurationInput` at `path`.
pub(super) fn encryption_input(v: &mut Validation, path: &str, e: &Option<EncryptionInput>) {
    let Some(e) = e else { return };
    if let Some(k) = &e.key_arn {
        let p = format!("{path}.keyARN");
        v.length(&p, k, 1, 512);
        v.pattern(
            &p,
            k,
            "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+",
            validate::is_kms_arn,
        );
    }
    let p = format!("{path}.keyType");
    match &e.key_type {
        None => {
            v.required(&p, &e.key_type);
        }
        Some(t) => v.one_of(&p, t, &["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
    }
}

/// The key type and ARN an encryption input asks for, checked as AWS checks them.
pub(super) fn encryption_key(e: &EncryptionInput) -> Result<(String, Option<String>), AwsError> {
    let key_type = e.key_type.clone().unwrap_or_else(|| "AWS_OWNED_CMK".into());
    match (key_type.as_str(), &e.key_arn) {
        ("CUSTOMER_MANAGED_CMK", None) => Err(AwsError::invalid_argument(
            "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.",
        )),
        ("AWS_OWNED_CMK", Some(_)) => Err(AwsError::invalid_argument(
            "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.",
        )),
        _ => Ok((key_type, e.key_arn.clone())),
    }
}

fn encryption_target(
    f: &Firehose,
    ctx: &Ctx,
    input: &NamedInput,
) -> Result<Arc<DeliveryStream>, AwsError> {
    let name = input.delivery_stream_name.as_deref().unwrap_or_default();
    let stream = f.find(ctx, name)?;
    let meta = stream.meta.lock();
    if matches!(meta.source, Source::Kinesis { .. }) {
        return Err(AwsError::invalid_argument(format!(
            "Firehose {name} under account {} has a Kinesis stream as source; server-side encryption is only supported for DirectPut delivery streams.",
            ctx.account
        )));
    }
    if meta.status != Status::Active {
        return Err(AwsError::in_use(format!(
            "Firehose {name} under account {} is not ACTIVE (it is {}).",
            ctx.account,
            meta.status.as_str()
        )));
    }
    drop(meta);
    Ok(stream)
}

/// StartDeliveryStreamEncryption.
pub(super) fn start_encryption(
    f: &Firehose,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    encryption_input(
        &mut v,
        "deliveryStreamEncryptionConfigurationInput",
        &input.delivery_stream_encryption_configuration_input,
    );
    v.finish()?;
    let stream = encryption_target(f, ctx, &input)?;
    let (key_type, key_arn) = encryption_key(
        &input
            .delivery_stream_encryption_configuration_input
            .unwrap_or_default(),
    )?;
    f.change(&stream, |meta| {
        let now = f.now();
        meta.encryption = EncryptionDescription {
            key_arn,
            key_type: Some(key_type),
            status: "ENABLING".into(),
        };
        meta.encryption_change = Some(EncryptionChange {
            at_ms: now + f.settings.create_delay.as_millis() as i64,
            status: "ENABLED".into(),
        });
        meta.settle(now);
        Ok(())
    })?;
    Ok(Empty {})
}

/// StopDeliveryStreamEncryption.
pub(super) fn stop_encryption(
    f: &Firehose,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<Empty, AwsError> {
    let mut v = Validation::new();
    named(&mut v, &input.delivery_stream_name);
    v.finish()?;
    let stream = encryption_target(f, ctx, &input)?;
    f.change(&stream, |meta| {
        if meta.encryption.status == "DISABLED" {
            return Ok(());
        }
        let now = f.now();
        meta.encryption.status = "DISABLING".into();
        meta.encryption_change = Some(EncryptionChange {
            at_ms: now + f.settings.create_delay.as_millis() as i64,
            status: "DISABLED".into(),
        });
        meta.settle(now);
        Ok(())
    })?;
    Ok(Empty {})
}
