//! The control plane: CreateApplication, DescribeApplication, ListApplications,
//! UpdateApplication, DeleteApplication, DescribeApplicationVersion and
//! ListApplicationVersions.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::app::{
    App, Checkpoint, Code, Config, Monitoring, Parallelism, RunRequest, Status, Version, Vpc, arn,
};
use super::model::{
    ApplicationConfiguration, ApplicationSummary, CodeConfiguration, ConfigurationUpdate,
    CreateInput, DetailOutput, FlinkConfiguration, ListOutput, ListVersionsOutput, NamedInput,
    UpdateInput, UpdateOutput, VersionOutput, VersionSummary,
};
use super::runner::Command;
use super::{Analytics, validate};
use crate::emulator::dispatch::Ctx;
use crate::emulator::error::{AwsError, Validation};

/// Applications per account and region (AWS's default quota).
const MAX_APPLICATIONS: usize = 100;

/// `UnsupportedOperationException` for a runtime the emulator does not run.
fn unsupported_runtime(runtime: &str) -> AwsError {
    AwsError::client(
        "UnsupportedOperationException",
        format!(
            "Runtime {runtime} is not run by this emulator: it runs Apache Flink applications (FLINK-1_15 to FLINK-2_2) in STREAMING mode; SQL-1_0 applications are discontinued by AWS and Studio (Zeppelin) notebooks are not emulated."
        ),
    )
}

/// Checks the runtime (and mode) is one the emulator runs.
fn check_runtime(runtime: &str, mode: &str) -> Result<(), AwsError> {
    if !runtime.starts_with("FLINK-") {
        return Err(unsupported_runtime(runtime));
    }
    if mode != "STREAMING" {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            format!(
                "ApplicationMode {mode} is for Studio notebooks, which this emulator does not run; use STREAMING."
            ),
        ));
    }
    Ok(())
}

/// Resolves a Flink configuration: `DEFAULT` members take AWS's defaults whatever else is
/// sent; `CUSTOM` ones take the values sent.
fn flink(v: &mut Validation, f: &Option<FlinkConfiguration>, c: &mut Config) {
    let Some(f) = f else { return };
    let p = "applicationConfiguration.flinkApplicationConfiguration";
    if let Some(cp) = &f.checkpoint_configuration {
        let path = format!("{p}.checkpointConfiguration.configurationType");
        v.required(&path, &cp.configuration_type);
        validate::configuration_type(v, &path, &cp.configuration_type);
        if let Some(i) = cp.checkpoint_interval {
            v.range(
                format!("{p}.checkpointConfiguration.checkpointInterval"),
                i,
                1,
                i64::MAX,
            );
        }
        if let Some(m) = cp.min_pause_between_checkpoints {
            v.range(
                format!("{p}.checkpointConfiguration.minPauseBetweenCheckpoints"),
                m,
                0,
                i64::MAX,
            );
        }
        c.checkpoint = match cp.configuration_type.as_deref() {
            Some("CUSTOM") => Checkpoint {
                configuration_type: "CUSTOM".into(),
                enabled: cp.checkpointing_enabled.unwrap_or(true),
                interval: cp.checkpoint_interval.unwrap_or(60_000),
                min_pause: cp.min_pause_between_checkpoints.unwrap_or(5_000),
            },
            _ => Checkpoint::default(),
        };
    }
    if let Some(m) = &f.monitoring_configuration {
        let path = format!("{p}.monitoringConfiguration.configurationType");
        v.required(&path, &m.configuration_type);
        validate::configuration_type(v, &path, &m.configuration_type);
        if let Some(l) = &m.metrics_level {
            v.one_of(
                format!("{p}.monitoringConfiguration.metricsLevel"),
                l,
                &["APPLICATION", "TASK", "OPERATOR", "PARALLELISM"],
            );
        }
        if let Some(l) = &m.log_level {
            v.one_of(
                format!("{p}.monitoringConfiguration.logLevel"),
                l,
                &["INFO", "WARN", "ERROR", "DEBUG"],
            );
        }
        c.monitoring = match m.configuration_type.as_deref() {
            Some("CUSTOM") => Monitoring {
                configuration_type: "CUSTOM".into(),
                metrics_level: m
                    .metrics_level
                    .clone()
                    .unwrap_or_else(|| "APPLICATION".into()),
                log_level: m.log_level.clone().unwrap_or_else(|| "INFO".into()),
            },
            _ => Monitoring::default(),
        };
    }
    if let Some(pc) = &f.parallelism_configuration {
        let path = format!("{p}.parallelismConfiguration.configurationType");
        v.required(&path, &pc.configuration_type);
        validate::configuration_type(v, &path, &pc.configuration_type);
        if let Some(n) = pc.parallelism {
            v.range(
                format!("{p}.parallelismConfiguration.parallelism"),
                n,
                1,
                i64::from(i32::MAX),
            );
        }
        if let Some(n) = pc.parallelism_per_kpu {
            v.range(
                format!("{p}.parallelismConfiguration.parallelismPerKPU"),
                n,
                1,
                i64::from(i32::MAX),
            );
        }
        c.parallelism = match pc.configuration_type.as_deref() {
            Some("CUSTOM") => Parallelism {
                configuration_type: "CUSTOM".into(),
                parallelism: pc.parallelism.unwrap_or(1),
                per_kpu: pc.parallelism_per_kpu.unwrap_or(1),
                auto_scaling: pc.auto_scaling_enabled.unwrap_or(false),
            },
            _ => Parallelism::default(),
        };
    }
}

/// Property groups, checked (at most 50 groups, 50 keys each, values up to 2,048 characters).
fn properties(
    v: &mut Validation,
    path: &str,
    groups: &[super::model::PropertyGroup],
) -> Result<super::app::PropertyGroups, AwsError> {
    v.size(path, "'[...]'", groups.len(), 0, 50);
    let mut out: super::app::PropertyGroups = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        v.required_length(format!("{p}.propertyGroupId"), &g.property_group_id, 1, 50);
        match &g.property_map {
            None => {
                v.required(format!("{p}.propertyMap"), &g.property_map);
            }
            Some(map) => {
                v.size(format!("{p}.propertyMap"), "'{...}'", map.len(), 1, 50);
                for (k, value) in map {
                    v.length(format!("{p}.propertyMap.key"), k, 1, 2048);
                    v.length(format!("{p}.propertyMap.value"), value, 1, 2048);
                }
            }
        }
        let id = g.property_group_id.clone().unwrap_or_default();
        if out.iter().any(|(other, _)| *other == id) {
            return Err(AwsError::invalid_argument(format!(
                "Property group {id} appears twice in {path}; give each group once."
            )));
        }
        out.push((id, g.property_map.clone().unwrap_or_default()));
    }
    Ok(out)
}

/// The code configuration, checked; an S3 location must name a bucket of the emulated S3.
fn code(an: &Analytics, v: &mut Validation, c: &CodeConfiguration) -> Result<Code, AwsError> {
    let p = "applicationConfiguration.applicationCodeConfiguration";
    v.required(format!("{p}.codeContentType"), &c.code_content_type);
    if let Some(t) = &c.code_content_type {
        v.one_of(format!("{p}.codeContentType"), t, &["PLAINTEXT", "ZIPFILE"]);
    }
    let mut out = Code {
        content_type: c.code_content_type.clone().unwrap_or_default(),
        ..Code::default()
    };
    let Some(content) = &c.code_content else {
        return Ok(out);
    };
    if let Some(text) = &content.text_content {
        v.length(format!("{p}.codeContent.textContent"), text, 0, 102_400);
        out.text = Some(text.clone());
    }
    if let Some(zip) = &content.zip_file_content {
        use md5::Digest;
        let md5 = md5::Md5::digest(&zip.0);
        out.zip = Some((
            md5.iter().map(|b| format!("{b:02x}")).collect(),
            zip.0.len() as i64,
        ));
    }
    if let Some(s3) = &content.s3_content_location {
        let lp = format!("{p}.codeContent.s3ContentLocation");
        v.required_length(format!("{lp}.bucketARN"), &s3.bucket_arn, 1, 2048);
        v.required_length(format!("{lp}.fileKey"), &s3.file_key, 1, 1024);
        if let Some(bucket) = s3.bucket_arn.as_deref() {
            let name = s3.bucket().unwrap_or_default();
            if name.is_empty() {
                v.fail(
                    format_args!("'{bucket}'"),
                    format!("{lp}.bucketARN"),
                    "Member must satisfy regular expression pattern: arn:.*",
                );
            } else if !an.s3.bucket_exists(name) {
                return Err(AwsError::invalid_argument(format!(
                    "Bucket {name} of ApplicationCodeConfiguration.CodeContent.S3ContentLocation.BucketARN does not exist; create it and upload the code first."
                )));
            } else if let Some(key) = s3.file_key.as_deref()
                && !an.s3.object_exists(name, key)
            {
                return Err(AwsError::invalid_argument(format!(
                    "Bucket {name} has no object {key} (ApplicationCodeConfiguration.CodeContent.S3ContentLocation.FileKey); upload the code first."
                )));
            }
        }
        out.s3 = Some(s3.clone());
    }
    Ok(out)
}

/// Builds a new application's configuration from CreateApplication's input.
fn config_of(an: &Analytics, input: &CreateInput) -> Result<Config, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    match &input.runtime_environment {
        None => {
            v.required("runtimeEnvironment", &input.runtime_environment);
        }
        Some(r) => v.one_of("runtimeEnvironment", r, &validate::RUNTIMES),
    }
    if let Some(d) = &input.application_description {
        v.length("applicationDescription", d, 0, 1024);
    }
    if let Some(r) = &input.service_execution_role {
        validate::role(&mut v, "serviceExecutionRole", r);
    }
    if let Some(m) = &input.application_mode {
        v.one_of("applicationMode", m, &["STREAMING", "INTERACTIVE"]);
    }
    if let Some(tags) = &input.tags {
        validate::tags(&mut v, "tags", tags);
    }
    let mut c = Config {
        description: input.application_description.clone(),
        runtime: input.runtime_environment.clone().unwrap_or_default(),
        role: input.service_execution_role.clone(),
        mode: input
            .application_mode
            .clone()
            .unwrap_or_else(|| "STREAMING".into()),
        code: None,
        checkpoint: Checkpoint::default(),
        monitoring: Monitoring::default(),
        parallelism: Parallelism::default(),
        properties: Vec::new(),
        snapshots_enabled: false,
        rollback_enabled: false,
        vpcs: Vec::new(),
        logging: Vec::new(),
        encryption: None,
    };
    let empty = ApplicationConfiguration::default();
    let ac = input.application_configuration.as_ref().unwrap_or(&empty);
    flink(&mut v, &ac.flink_application_configuration, &mut c);
    if let Some(p) = &ac.environment_properties {
        c.properties = properties(
            &mut v,
            "applicationConfiguration.environmentProperties.propertyGroups",
            p.property_groups.as_deref().unwrap_or_default(),
        )?;
    }
    if let Some(code_config) = &ac.application_code_configuration {
        c.code = Some(code(an, &mut v, code_config)?);
    }
    if let Some(s) = &ac.application_snapshot_configuration {
        v.required(
            "applicationConfiguration.applicationSnapshotConfiguration.snapshotsEnabled",
            &s.snapshots_enabled,
        );
        c.snapshots_enabled = s.snapshots_enabled.unwrap_or(false);
    }
    if let Some(r) = &ac.application_system_rollback_configuration {
        c.rollback_enabled = r.rollback_enabled.unwrap_or(false);
    }
    if let Some(vpcs) = &ac.vpc_configurations {
        v.size(
            "applicationConfiguration.vpcConfigurations",
            "'[...]'",
            vpcs.len(),
            0,
            1,
        );
        for (i, vpc) in vpcs.iter().enumerate() {
            c.vpcs.push(Vpc {
                id: format!("1.{}", i + 1),
                subnets: vpc.subnet_ids.clone().unwrap_or_default(),
                security_groups: vpc.security_group_ids.clone().unwrap_or_default(),
            });
        }
    }
    if let Some(options) = &input.cloud_watch_logging_options {
        v.size("cloudWatchLoggingOptions", "'[...]'", options.len(), 0, 1);
        for (i, o) in options.iter().enumerate() {
            v.required_length(
                format!("cloudWatchLoggingOptions.{}.member.logStreamARN", i + 1),
                &o.log_stream_arn,
                1,
                2048,
            );
            c.logging.push(super::app::Logging {
                id: format!("1.{}", i + 1),
                log_stream_arn: o.log_stream_arn.clone().unwrap_or_default(),
            });
        }
    }
    c.encryption = ac.application_encryption_configuration.clone();
    v.finish()?;
    check_runtime(&c.runtime, &c.mode)?;
    if ac.sql_application_configuration.is_some() {
        return Err(AwsError::invalid_argument(
            "SqlApplicationConfiguration is only for SQL-1_0 applications; a Flink application reads and writes its streams in its own code (here: the SQL of the kinesis.operator.sql property group).",
        ));
    }
    if ac.zeppelin_application_configuration.is_some() {
        return Err(AwsError::invalid_argument(
            "ZeppelinApplicationConfiguration is only for Studio (ZEPPELIN-FLINK) applications.",
        ));
    }
    Ok(c)
}

/// CreateApplication: a READY application at version 1.
pub(super) fn create(
    an: &Analytics,
    ctx: &Ctx,
    input: CreateInput,
) -> Result<DetailOutput, AwsError> {
    let config = config_of(an, &input)?;
    let name = input.application_name.clone().unwrap_or_default();
    let tags: BTreeMap<String, String> = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    validate::too_many_tags(&arn(&ctx.region, &ctx.account, &name), tags.len())?;
    let now = an.now();
    let key = (ctx.account.clone(), ctx.region.clone(), name.clone());
    let mut apps = an.apps.write();
    if let Some(existing) = apps.get(&key) {
        let deleting = existing.lock().status == Status::Deleting;
        return Err(AwsError::in_use(if deleting {
            format!(
                "Application {name} is being deleted; create it again once DescribeApplication no longer finds it."
            )
        } else {
            format!(
                "Application {name} already exists in account {} and region {}; pick another ApplicationName or delete it first.",
                ctx.account, ctx.region
            )
        }));
    }
    let count = apps
        .keys()
        .filter(|k| k.0 == ctx.account && k.1 == ctx.region)
        .count();
    if count >= MAX_APPLICATIONS {
        return Err(AwsError::limit_exceeded(format!(
            "Account {} already has {count} applications in {}, the limit; delete one first.",
            ctx.account, ctx.region
        )));
    }
    let next_option = (config.logging.len() + config.vpcs.len() + 1) as u64;
    let app = App {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        name: name.clone(),
        create_ms: now,
        update_ms: None,
        status: Status::Ready,
        version: 1,
        versions: BTreeMap::from([(
            1,
            Version {
                config,
                created_ms: now,
                updated_from: None,
                status: Status::Ready,
            },
        )]),
        tags,
        snapshots: BTreeMap::new(),
        operations: Vec::new(),
        run: RunRequest::default(),
        next_option,
        delete_at_ms: None,
    };
    if let Some(d) = &an.durable {
        d.save(&app)?;
    }
    let detail = app.detail(1);
    apps.insert(key, Arc::new(Mutex::new(app)));
    Ok(DetailOutput {
        application_detail: detail,
    })
}

/// DescribeApplication.
pub(super) fn describe(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<DetailOutput, AwsError> {
    let name = validate::application_name(&input.application_name)?;
    let (_, app) = an.find(ctx, &name)?;
    let app = app.lock();
    Ok(DetailOutput {
        application_detail: app.detail(app.version),
    })
}

/// ListApplications: in name order, paged by name.
pub(super) fn list(an: &Analytics, ctx: &Ctx, input: NamedInput) -> Result<ListOutput, AwsError> {
    let mut v = Validation::new();
    validate::limit(&mut v, input.limit);
    if let Some(t) = &input.next_token {
        v.length("nextToken", t, 1, 128);
    }
    v.finish()?;
    let limit = input.limit.unwrap_or(50) as usize;
    let mut summaries: Vec<ApplicationSummary> = an
        .all(ctx)
        .into_iter()
        .map(|a| {
            let a = a.lock();
            let c = a.config();
            ApplicationSummary {
                application_name: a.name.clone(),
                application_arn: a.arn(),
                application_status: a.status.as_str().into(),
                application_version_id: a.version,
                runtime_environment: c.runtime.clone(),
                application_mode: c.mode.clone(),
            }
        })
        .filter(|s| {
            input
                .next_token
                .as_deref()
                .is_none_or(|after| s.application_name.as_str() > after)
        })
        .collect();
    let next_token =
        (summaries.len() > limit).then(|| summaries[limit - 1].application_name.clone());
    summaries.truncate(limit);
    Ok(ListOutput {
        application_summaries: summaries,
        next_token,
    })
}

/// Checks the caller's CurrentApplicationVersionId or ConditionalToken against the current
/// version: one of them is required, a stale one is `ConcurrentModificationException`.
pub(super) fn check_version(
    app: &App,
    version: Option<i64>,
    token: Option<&str>,
) -> Result<(), AwsError> {
    match (version, token) {
        (None, None) => Err(AwsError::invalid_argument(format!(
            "Give CurrentApplicationVersionId or ConditionalToken (application {} is at version {}; DescribeApplication shows both).",
            app.name, app.version
        ))),
        (_, Some(t)) if t != app.token(app.version) => Err(AwsError::client(
            "ConcurrentModificationException",
            format!(
                "ConditionalToken {t} is not the current token of application {}: it changed since you read it. Describe the application again and retry with its ConditionalToken.",
                app.name
            ),
        )),
        (Some(v), None) if v != app.version => Err(AwsError::client(
            "ConcurrentModificationException",
            format!(
                "CurrentApplicationVersionId {v} is not the current version of application {} (it is {}): it changed since you read it. Describe the application again and retry with the current version.",
                app.name, app.version
            ),
        )),
        _ => Ok(()),
    }
}

/// Makes `config` the application's next version; a running application goes UPDATING
/// with an operation (returned), a READY one records a completed one.
pub(super) fn new_version(
    an: &Analytics,
    app: &mut App,
    operation: &str,
    config: Config,
) -> String {
    let now = an.now();
    let from = app.version;
    app.version += 1;
    app.update_ms = Some(now);
    app.versions.insert(
        app.version,
        Version {
            config,
            created_ms: now,
            updated_from: Some(from),
            status: app.status,
        },
    );
    let id = super::lifecycle::new_operation(an, app, operation);
    if let Some(op) = app.operation_mut(&id) {
        op.version_change = Some((from, from + 1));
    }
    if app.status == Status::Running {
        app.status = Status::Updating;
    } else {
        app.finish_operation(&id, now, None);
    }
    id
}

/// Applies UpdateApplication's configuration changes to `c`.
fn apply_update(
    an: &Analytics,
    v: &mut Validation,
    u: &ConfigurationUpdate,
    c: &mut Config,
) -> Result<(), AwsError> {
    if u.sql_application_configuration_update.is_some() {
        return Err(AwsError::invalid_argument(
            "SqlApplicationConfigurationUpdate is only for SQL-1_0 applications.",
        ));
    }
    if u.zeppelin_application_configuration_update.is_some() {
        return Err(AwsError::invalid_argument(
            "ZeppelinApplicationConfigurationUpdate is only for Studio (ZEPPELIN-FLINK) applications.",
        ));
    }
    if let Some(f) = &u.flink_application_configuration_update {
        let p = "applicationConfigurationUpdate.flinkApplicationConfigurationUpdate";
        if let Some(cp) = &f.checkpoint_configuration_update {
            validate::configuration_type(
                v,
                &format!("{p}.checkpointConfigurationUpdate.configurationTypeUpdate"),
                &cp.configuration_type_update,
            );
            match cp.configuration_type_update.as_deref() {
                Some("DEFAULT") => c.checkpoint = Checkpoint::default(),
                _ => {
                    if cp.configuration_type_update.is_some() {
                        c.checkpoint.configuration_type = "CUSTOM".into();
                    }
                    if let Some(e) = cp.checkpointing_enabled_update {
                        c.checkpoint.enabled = e;
                    }
                    if let Some(i) = cp.checkpoint_interval_update {
                        v.range(
                            format!("{p}.checkpointConfigurationUpdate.checkpointIntervalUpdate"),
                            i,
                            1,
                            i64::MAX,
                        );
                        c.checkpoint.interval = i;
                    }
                    if let Some(m) = cp.min_pause_between_checkpoints_update {
                        v.range(
                            format!(
                                "{p}.checkpointConfigurationUpdate.minPauseBetweenCheckpointsUpdate"
                            ),
                            m,
                            0,
                            i64::MAX,
                        );
                        c.checkpoint.min_pause = m;
                    }
                }
            }
        }
        if let Some(m) = &f.monitoring_configuration_update {
            validate::configuration_type(
                v,
                &format!("{p}.monitoringConfigurationUpdate.configurationTypeUpdate"),
                &m.configuration_type_update,
            );
            match m.configuration_type_update.as_deref() {
                Some("DEFAULT") => c.monitoring = Monitoring::default(),
                _ => {
                    if m.configuration_type_update.is_some() {
                        c.monitoring.configuration_type = "CUSTOM".into();
                    }
                    if let Some(l) = &m.metrics_level_update {
                        c.monitoring.metrics_level = l.clone();
                    }
                    if let Some(l) = &m.log_level_update {
                        c.monitoring.log_level = l.clone();
                    }
                }
            }
        }
        if let Some(pu) = &f.parallelism_configuration_update {
            validate::configuration_type(
                v,
                &format!("{p}.parallelismConfigurationUpdate.configurationTypeUpdate"),
                &pu.configuration_type_update,
            );
            match pu.configuration_type_update.as_deref() {
                Some("DEFAULT") => c.parallelism = Parallelism::default(),
                _ => {
                    if pu.configuration_type_update.is_some() {
                        c.parallelism.configuration_type = "CUSTOM".into();
                    }
                    if let Some(n) = pu.parallelism_update {
                        v.range(
                            format!("{p}.parallelismConfigurationUpdate.parallelismUpdate"),
                            n,
                            1,
                            i64::from(i32::MAX),
                        );
                        c.parallelism.parallelism = n;
                    }
                    if let Some(n) = pu.parallelism_per_kpu_update {
                        v.range(
                            format!("{p}.parallelismConfigurationUpdate.parallelismPerKPUUpdate"),
                            n,
                            1,
                            i64::from(i32::MAX),
                        );
                        c.parallelism.per_kpu = n;
                    }
                    if let Some(a) = pu.auto_scaling_enabled_update {
                        c.parallelism.auto_scaling = a;
                    }
                }
            }
        }
    }
    if let Some(p) = &u.environment_property_updates {
        c.properties = properties(
            v,
            "applicationConfigurationUpdate.environmentPropertyUpdates.propertyGroups",
            p.property_groups.as_deref().unwrap_or_default(),
        )?;
    }
    if let Some(cu) = &u.application_code_configuration_update {
        let mut next = c.code.clone().unwrap_or_default();
        if let Some(t) = &cu.code_content_type_update {
            v.one_of("applicationConfigurationUpdate.applicationCodeConfigurationUpdate.codeContentTypeUpdate", t, &["PLAINTEXT", "ZIPFILE"]);
            next.content_type = t.clone();
        }
        if let Some(content) = &cu.code_content_update {
            if let Some(text) = &content.text_content_update {
                next.text = Some(text.clone());
            }
            if let Some(zip) = &content.zip_file_content_update {
                use md5::Digest;
                let md5 = md5::Md5::digest(&zip.0);
                next.zip = Some((
                    md5.iter().map(|b| format!("{b:02x}")).collect(),
                    zip.0.len() as i64,
                ));
                next.s3 = None;
            }
            if let Some(s3) = &content.s3_content_location_update {
                let mut loc = next.s3.clone().unwrap_or_default();
                if let Some(b) = &s3.bucket_arn_update {
                    loc.bucket_arn = Some(b.clone());
                }
                if let Some(k) = &s3.file_key_update {
                    loc.file_key = Some(k.clone());
                }
                if let Some(o) = &s3.object_version_update {
                    loc.object_version = Some(o.clone());
                }
                if let Some(name) = loc.bucket()
                    && !loc
                        .file_key
                        .as_deref()
                        .is_some_and(|key| an.s3.object_exists(name, key))
                {
                    return Err(AwsError::invalid_argument(format!(
                        "ApplicationCodeConfigurationUpdate.CodeContentUpdate.S3ContentLocationUpdate names no object of the emulated S3 (bucket {name}, key {}); upload the code first.",
                        loc.file_key.as_deref().unwrap_or_default()
                    )));
                }
                next.s3 = Some(loc);
                next.zip = None;
            }
        }
        c.code = Some(next);
    }
    if let Some(s) = &u.application_snapshot_configuration_update
        && let Some(e) = s.snapshots_enabled_update
    {
        c.snapshots_enabled = e;
    }
    if let Some(r) = &u.application_system_rollback_configuration_update
        && let Some(e) = r.rollback_enabled_update
    {
        c.rollback_enabled = e;
    }
    Ok(())
}

/// UpdateApplication: a new version; a running application is UPDATING while its job is
/// restarted with the new configuration (from a snapshot when snapshots are on).
pub(super) fn update(
    an: &Analytics,
    ctx: &Ctx,
    input: UpdateInput,
) -> Result<UpdateOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::version_id(
        &mut v,
        "currentApplicationVersionId",
        input.current_application_version_id,
    );
    if let Some(r) = &input.service_execution_role_update {
        validate::role(&mut v, "serviceExecutionRoleUpdate", r);
    }
    if let Some(r) = &input.runtime_environment_update {
        v.one_of("runtimeEnvironmentUpdate", r, &validate::RUNTIMES);
    }
    v.finish()?;
    let name = input.application_name.clone().unwrap_or_default();
    let (key, app) = an.find(ctx, &name)?;
    let (detail, op, running) = an.change(&app, |a| {
        check_version(a, input.current_application_version_id, input.conditional_token.as_deref())?;
        if !matches!(a.status, Status::Ready | Status::Running) {
            return Err(AwsError::in_use(format!(
                "Application {name} is {}; UpdateApplication needs it READY or RUNNING. Wait for the current operation to end.",
                a.status.as_str()
            )));
        }
        let mut c = a.config().clone();
        let mut v = Validation::new();
        if let Some(u) = &input.application_configuration_update {
            apply_update(an, &mut v, u, &mut c)?;
        }
        if let Some(r) = &input.service_execution_role_update {
            c.role = Some(r.clone());
        }
        if let Some(r) = &input.runtime_environment_update {
            check_runtime(r, &c.mode)?;
            c.runtime = r.clone();
        }
        v.finish()?;
        if input.cloud_watch_logging_option_updates.is_some() {
            return Err(AwsError::invalid_argument(
                "CloudWatchLoggingOptionUpdates is not applied by this emulator; use DeleteApplicationCloudWatchLoggingOption and AddApplicationCloudWatchLoggingOption.",
            ));
        }
        let running = a.status == Status::Running;
        if running && let Some(r) = &input.run_configuration_update {
            if let Some(rc) = &r.application_restore_configuration {
                a.run.restore = rc.clone();
            }
            if let Some(f) = &r.flink_run_configuration {
                a.run.allow_non_restored_state = f.allow_non_restored_state.unwrap_or(false);
            }
        }
        let op = new_version(an, a, "UpdateApplication", c);
        Ok((a.detail(a.version), op, running))
    })?;
    if running {
        an.runs.send(Command::Restart {
            key,
            operation: op.clone(),
        });
    }
    Ok(UpdateOutput {
        application_detail: detail,
        operation_id: Some(op),
    })
}

/// DeleteApplication: CreateTimestamp must match; the application is DELETING (its job
/// stopped, its checkpoints and snapshots removed) and then gone.
pub(super) fn delete(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<super::model::Empty, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    v.required("createTimestamp", &input.create_timestamp);
    v.finish()?;
    let name = input.application_name.clone().unwrap_or_default();
    let (key, app) = an.find(ctx, &name)?;
    let delay = an.settings.transition_delay.as_millis() as i64;
    let was_active = an.change(&app, |a| {
        let given = input.create_timestamp.map_or(0, |t| t.0);
        if given != a.create_ms {
            return Err(AwsError::invalid_argument(format!(
                "CreateTimestamp {} does not match the creation time of application {name} ({}); DescribeApplication shows it.",
                crate::emulator::dates::iso8601_millis(given),
                crate::emulator::dates::iso8601_millis(a.create_ms)
            )));
        }
        if !matches!(a.status, Status::Ready | Status::Running) {
            return Err(AwsError::in_use(format!(
                "Application {name} is {}; DeleteApplication needs it READY or RUNNING. Wait for the current operation to end.",
                a.status.as_str()
            )));
        }
        let was_active = a.status == Status::Running;
        a.status = Status::Deleting;
        a.delete_at_ms = Some(an.now() + delay);
        Ok(was_active)
    })?;
    if was_active {
        an.runs.send(Command::Delete { key });
    }
    Ok(super::model::Empty {})
}

/// DescribeApplicationVersion.
pub(super) fn describe_version(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<VersionOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    v.required("applicationVersionId", &input.application_version_id);
    validate::version_id(&mut v, "applicationVersionId", input.application_version_id);
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let (_, app) = an.find(ctx, &name)?;
    let app = app.lock();
    let version = input.application_version_id.unwrap_or_default();
    if !app.versions.contains_key(&version) {
        return Err(AwsError::not_found(format!(
            "Application {name} has no version {version}; ListApplicationVersions shows its versions (1 to {}).",
            app.version
        )));
    }
    Ok(VersionOutput {
        application_version_detail: app.detail(version),
    })
}

/// ListApplicationVersions: newest first, paged.
pub(super) fn list_versions(
    an: &Analytics,
    ctx: &Ctx,
    input: NamedInput,
) -> Result<ListVersionsOutput, AwsError> {
    let mut v = Validation::new();
    validate::name(&mut v, "applicationName", &input.application_name, 128);
    validate::limit(&mut v, input.limit);
    v.finish()?;
    let name = input.application_name.unwrap_or_default();
    let (_, app) = an.find(ctx, &name)?;
    let app = app.lock();
    let before: i64 = match &input.next_token {
        None => i64::MAX,
        Some(t) => t.parse().map_err(|_| {
            AwsError::invalid_argument(format!(
                "NextToken {t} is not one ListApplicationVersions gave."
            ))
        })?,
    };
    let limit = input.limit.unwrap_or(50) as usize;
    let mut summaries: Vec<VersionSummary> = app
        .versions
        .iter()
        .rev()
        .filter(|(id, _)| **id < before)
        .map(|(id, ver)| VersionSummary {
            application_version_id: *id,
            application_status: if *id == app.version {
                app.status
            } else {
                ver.status
            }
            .as_str()
            .into(),
        })
        .collect();
    let next_token =
        (summaries.len() > limit).then(|| summaries[limit - 1].application_version_id.to_string());
    summaries.truncate(limit);
    Ok(ListVersionsOutput {
        application_version_summaries: summaries,
        next_token,
    })
}
