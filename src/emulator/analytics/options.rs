//! CloudWatch logging and VPC options (each change is a new version, as on AWS), and the
//! calls AWS serves only for other kinds of application.

use serde_json::Value;

use super::app::{Logging, Vpc, logging_descriptions, vpc_description};
use super::control::{check_version, new_version};
use super::model::{LoggingOutput, NamedInput, VpcOutput};
use super::runner::Command;
use super::{Analytics, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Checks the common members of a conditional change.
fn validate_change(input: &NamedInput) -> Result<String, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::version_id(
        &mut v,
        "currentApplicationVersionId",
        input.current_application_version_id,
    );
    if let Some(t) = &input.conditional_token {
        v.length("conditionalToken", t, 1, 512);
    }
    v.finish()?;
    Ok(input.application_name.clone().unwrap_or_default())
}

/// What an option change answers: the application's ARN, its new version, its logging
/// options, what `edit` returned, and the update operation of a running application.
struct Changed<T> {
    arn: String,
    version: i64,
    logging: Vec<Value>,
    out: T,
    operation: Option<String>,
}

/// Runs `edit` on a copy of the current configuration and makes it the next version; a
/// running application is UPDATING for the transition delay (its job is not restarted: the
/// options do not reach it).
fn change_options<T>(
    an: &Analytics,
    ctx: &Ctx,
    input: &NamedInput,
    operation: &str,
    edit: impl FnOnce(&mut super::app::App, &mut super::app::Config) -> Result<T, AwsError>,
) -> Result<Changed<T>, AwsError> {
    let name = validate_change(input)?;
    let (key, app) = an.find(ctx, &name)?;
    let (arn, version, logging, out, op, running) = an.change(&app, |a| {
        check_version(
            a,
            input.current_application_version_id,
            input.conditional_token.as_deref(),
        )?;
        if !matches!(
            a.status,
            super::app::Status::Ready | super::app::Status::Running
        ) {
            return Err(AwsError::in_use(format!(
                "Application {name} is {}; {operation} needs it READY or RUNNING.",
                a.status.as_str()
            )));
        }
        let mut c = a.config().clone();
        let out = edit(a, &mut c)?;
        let running = a.status == super::app::Status::Running;
        let op = new_version(an, a, operation, c);
        Ok((
            a.arn(),
            a.version,
            logging_descriptions(a.config()),
            out,
            op,
            running,
        ))
    })?;
    if running {
        an.runs.send(Command::Settle {
            key,
            operation: op.clone(),
        });
    }
    Ok(Changed {
        arn,
        version,
        logging,
        out,
        operation: running.then_some(op),
    })
}

/// AddApplicationCloudWatchLoggingOption (one per application).
pub(super) fn add_logging(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<LoggingOutput, AwsError> {
    let mut v = Validation::new();
    match &input.cloud_watch_logging_option {
        None => {
            v.required("cloudWatchLoggingOption", &input.cloud_watch_logging_option);
        }
        Some(o) => v.required_length(
            "cloudWatchLoggingOption.logStreamARN",
            &o.log_stream_arn,
            1,
            2048,
        ),
    }
    v.finish()?;
    let arn = input
        .cloud_watch_logging_option
        .as_ref()
        .and_then(|o| o.log_stream_arn.clone())
        .unwrap_or_default();
    let Changed {
        arn: application_arn,
        version,
        logging,
        operation: op,
        ..
    } = change_options(
        an,
        ctx,
        &input,
        "AddApplicationCloudWatchLoggingOption",
        |a, c| {
            if !c.logging.is_empty() {
                return Err(AwsError::invalid_argument(format!(
                    "Application {} already has a CloudWatch logging option ({}); an application has at most one. Delete it first.",
                    a.name, c.logging[0].id
                )));
            }
            c.logging.push(Logging {
                id: format!("{}.1", a.next_option),
                log_stream_arn: arn,
            });
            a.next_option += 1;
            Ok(())
        },
    )?;
    Ok(LoggingOutput {
        application_arn,
        application_version_id: version,
        cloud_watch_logging_option_descriptions: logging,
        operation_id: op,
    })
}

/// DeleteApplicationCloudWatchLoggingOption.
pub(super) fn delete_logging(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<LoggingOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length(
        "cloudWatchLoggingOptionId",
        &input.cloud_watch_logging_option_id,
        1,
        50,
    );
    v.finish()?;
    let id = input
        .cloud_watch_logging_option_id
        .clone()
        .unwrap_or_default();
    let Changed {
        arn: application_arn,
        version,
        logging,
        operation: op,
        ..
    } = change_options(
        an,
        ctx,
        &input,
        "DeleteApplicationCloudWatchLoggingOption",
        |a, c| {
            let before = c.logging.len();
            c.logging.retain(|l| l.id != id);
            if c.logging.len() == before {
                return Err(AwsError::not_found(format!(
                    "Application {} has no CloudWatch logging option {id}; DescribeApplication lists its options.",
                    a.name
                )));
            }
            Ok(())
        },
    )?;
    Ok(LoggingOutput {
        application_arn,
        application_version_id: version,
        cloud_watch_logging_option_descriptions: logging,
        operation_id: op,
    })
}

/// AddApplicationVpcConfiguration (one per application; recorded only).
pub(super) fn add_vpc(an: &Analytics, ctx: &Ctx, input: NamedInput) -> Result<VpcOutput, AwsError> {
    let mut v = Validation::new();
    match &input.vpc_configuration {
        None => {
            v.required("vpcConfiguration", &input.vpc_configuration);
        }
        Some(c) => {
            match &c.subnet_ids {
                None => {
                    v.required("vpcConfiguration.subnetIds", &c.subnet_ids);
                }
                Some(s) => v.size("vpcConfiguration.subnetIds", "'[...]'", s.len(), 1, 16),
            }
            match &c.security_group_ids {
                None => {
                    v.required("vpcConfiguration.securityGroupIds", &c.security_group_ids);
                }
                Some(s) => v.size(
                    "vpcConfiguration.securityGroupIds",
                    "'[...]'",
                    s.len(),
                    1,
                    5,
                ),
            }
        }
    }
    v.finish()?;
    let given = input.vpc_configuration.clone().unwrap_or_default();
    let Changed {
        arn: application_arn,
        version,
        out: added,
        operation: op,
        ..
    } = change_options(an, ctx, &input, "AddApplicationVpcConfiguration", |a, c| {
        if !c.vpcs.is_empty() {
            return Err(AwsError::invalid_argument(format!(
                "Application {} already has a VPC configuration ({}); an application has at most one. Delete it first.",
                a.name, c.vpcs[0].id
            )));
        }
        let vpc = Vpc {
            id: format!("{}.1", a.next_option),
            subnets: given.subnet_ids.unwrap_or_default(),
            security_groups: given.security_group_ids.unwrap_or_default(),
        };
        a.next_option += 1;
        c.vpcs.push(vpc.clone());
        Ok(vpc_description(&vpc))
    })?;
    Ok(VpcOutput {
        application_arn,
        application_version_id: version,
        vpc_configuration_description: Some(added),
        operation_id: op,
    })
}

/// DeleteApplicationVpcConfiguration.
pub(super) fn delete_vpc(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<VpcOutput, AwsError> {
    let mut v = Validation::new();
    v.required_length("vpcConfigurationId", &input.vpc_configuration_id, 1, 50);
    v.finish()?;
    let id = input.vpc_configuration_id.clone().unwrap_or_default();
    let Changed {
        arn: application_arn,
        version,
        operation: op,
        ..
    } = change_options(
        an,
        ctx,
        &input,
        "DeleteApplicationVpcConfiguration",
        |a, c| {
            let before = c.vpcs.len();
            c.vpcs.retain(|v| v.id != id);
            if c.vpcs.len() == before {
                return Err(AwsError::not_found(format!(
                    "Application {} has no VPC configuration {id}; DescribeApplication lists it.",
                    a.name
                )));
            }
            Ok(())
        },
    )?;
    Ok(VpcOutput {
        application_arn,
        application_version_id: version,
        vpc_configuration_description: None,
        operation_id: op,
    })
}

/// The input, output, reference-data and input-processing calls: SQL-1_0 applications only.
/// The application must exist (ResourceNotFoundException first, as AWS checks it first).
pub(super) fn sql_only(an: &Analytics, ctx: &Ctx, input: NamedInput) -> Result<Value, AwsError> {
    let name = validate::application_name(&input.application_name)?;
    let (_, app) = an.find(ctx, &name)?;
    let runtime = app.lock().config().runtime.clone();
    Err(AwsError::invalid_argument(format!(
        "Application {name} runs {runtime}: inputs, outputs, reference data sources and input processing are configured only for SQL-1_0 applications. A Flink application connects to its streams in its own code (its SQL's CREATE TABLE ... WITH ('connector' = 'kinesis', ...))."
    )))
}

/// DiscoverInputSchema: SQL-1_0 only.
pub(super) fn discover_input_schema(
    _an: &Analytics,
    _ctx: &Ctx,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(AwsError::client(
        "UnsupportedOperationException",
        "DiscoverInputSchema serves SQL-1_0 applications, which AWS has discontinued and this emulator does not run.",
    ))
}

/// Calls the emulator does not serve (see the module docs).
pub(super) fn unsupported(
    _an: &Analytics,
    _ctx: &Ctx,
    input: NamedInput,
) -> Result<Value, AwsError> {
    Err(AwsError::client(
        "UnsupportedOperationException",
        format!(
            "This emulator does not serve RollbackApplication, UpdateApplicationMaintenanceConfiguration or CreateApplicationPresignedUrl{}.",
            input
                .application_name
                .map(|n| format!(" (application {n})"))
                .unwrap_or_default()
        ),
    ))
}
