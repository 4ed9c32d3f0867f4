//! The Helm charts (`charts/kinesis-operator`, `charts/kinesis-operator-crds`) on the real
//! tools and API server: `helm lint --strict` and the schema's refusals, every main value
//! combination rendered by `helm template` and validated by kube-apiserver (server-side dry
//! run, strict field validation), the pods admitted by Pod Security `restricted`, and the RBAC
//! proven: the chart installed with `helm install`, the operator binary run as the chart's
//! ServiceAccount through every reconciled kind's lifecycle, cluster-wide and namespaced, with
//! no 403 and with the granted (resource, verb) pairs equal to the ones the API server's audit
//! log saw it use; and upgrades from the previous release (the 0.1.0 packages in
//! tests/fixtures/charts-0.1.0): CRD changes additive, and `helm upgrade` of both charts, the
//! CRD chart's way and by its takeover of the operator chart's crds/, with live objects and the
//! operator run before and after: every condition and AWS resource kept, no write, no 403.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_credential_types::Credentials;
use k8s_openapi::api::core::v1::Secret;
use kinesis_operator::api::{AnalyticsApplication, DeliveryStream, KinesisStream, StreamPolicy};
use kinesis_operator::emulator::Emulator;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};
use serde::Deserialize;
use serde_json::{Value, json};
use support::emulator::{delivery_stream, stream_summary};
use support::envtest::{ControlPlane, control_plane, tools_bin, wait_for};
use support::operator::{apply, condition, event_notes, is_ready, wait_gone, wait_until};
use support::process::OperatorProcess;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The value combinations the chart is checked with (the Makefile's `chart-lint` lints the
/// same). `{apps}` and `{web}` stand for namespaces the test creates.
const VALUE_SETS: &[&str] = &[
    "",
    "replicaCount=1",
    "watchNamespace={apps}",
    "emulator.enabled=true",
    "emulator.enabled=true,emulator.persistence.enabled=false,replicaCount=1",
    "emulator.enabled=true,emulator.flink.enabled=false,image.tag=1.2.3",
    "metrics.serviceMonitor.enabled=true,rbac.secrets.namespaces={{apps},{web}}",
    "rbac.create=false,serviceAccount.create=false,serviceAccount.name=existing",
    "metrics.prometheusRule.enabled=true,metrics.prometheusRule.groups.leader=false,metrics.grafanaDashboard.enabled=true",
];

fn chart() -> PathBuf {
    Path::new(ROOT).join("charts/kinesis-operator")
}

fn crd_chart() -> PathBuf {
    Path::new(ROOT).join("charts/kinesis-operator-crds")
}

/// Runs `cmd` (with `stdin` on its standard input) and returns its stdout, or its stderr as
/// the error when it fails.
fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let input = stdin.unwrap_or_default().to_owned();
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the command ends");
    writer
        .join()
        .expect("the stdin writer")
        .expect("writing stdin");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

fn helm() -> Command {
    let mut cmd = Command::new(tools_bin().join("helm"));
    // No user configuration or cache of the machine is read or written.
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("helm-home");
    cmd.env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"));
    cmd
}

/// `--set` arguments for `values` (empty: none).
fn set_args(values: &str) -> Vec<String> {
    if values.is_empty() {
        Vec::new()
    } else {
        vec!["--set".into(), values.into()]
    }
}

/// `helm template <release> <chart> -n <namespace> --set <values>`.
fn template(chart: &Path, release: &str, namespace: &str, values: &str) -> Result<String, String> {
    run(
        helm()
            .args(["template", release])
            .arg(chart)
            .args(["--namespace", namespace])
            .args(set_args(values)),
        None,
    )
}

/// The documents of a YAML stream, as JSON values (empty documents left out).
fn documents(yaml: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).expect("helm renders valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

fn name_of(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

/// `values` with the namespace placeholders replaced.
fn values_for(values: &str, apps: &str, web: &str) -> String {
    values.replace("{apps}", apps).replace("{web}", web)
}

/// The chart's two copies of the CRDs are `crds/` byte for byte (crds/ itself is checked
/// against the Rust types by `cli::tests::committed_crds_match_the_types`), and the CRD
/// chart renders each one unchanged but for Helm's keep policy and its labels.
#[test]
fn the_charts_crds_are_the_generated_ones() {
    let generated = Path::new(ROOT).join("crds");
    let mut files: Vec<_> = std::fs::read_dir(&generated)
        .expect("crds/")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "one CRD per kind in crds/");
    for copy in [chart().join("crds"), crd_chart().join("files")] {
        let mut present: Vec<_> = std::fs::read_dir(&copy)
            .unwrap_or_else(|e| panic!("{}: {e}", copy.display()))
            .map(|e| e.expect("an entry").file_name())
            .collect();
        present.sort();
        assert_eq!(
            present,
            files,
            "{} holds other files than crds/: run `make crds`",
            copy.display()
        );
        for file in &files {
            let want = std::fs::read(generated.join(file)).expect("a CRD");
            let got = std::fs::read(copy.join(file)).expect("a CRD copy");
            assert!(
                want == got,
                "{}/{} differs from crds/: run `make crds` and commit it",
                copy.display(),
                file.to_string_lossy()
            );
        }
    }

    let rendered = documents(&template(&crd_chart(), "crds", "default", "").unwrap());
    let generated: Vec<Value> = kinesis_operator::api::crds()
        .into_iter()
        .map(|(_, crd)| serde_json::to_value(crd).expect("a CRD serialises"))
        .collect();
    assert_eq!(rendered.len(), generated.len());
    for want in &generated {
        let name = name_of(want);
        let got = rendered
            .iter()
            .find(|d| name_of(d) == name)
            .unwrap_or_else(|| panic!("the CRD chart renders no {name}"));
        assert_eq!(
            got["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
            "{name} is kept on uninstall"
        );
        assert!(
            got["spec"] == want["spec"],
            "{name}'s spec changed in the CRD chart's templating"
        );
    }
    let unkept = documents(&template(&crd_chart(), "crds", "default", "keep=false").unwrap());
    assert!(
        unkept
            .iter()
            .all(|d| d["metadata"]["annotations"]["helm.sh/resource-policy"].is_null())
    );
}

/// `helm lint --strict` passes for every main value combination, and for the CRD chart.
#[test]
fn helm_lint_strict_passes() {
    for values in VALUE_SETS {
        let values = values_for(values, "apps", "web");
        run(
            helm()
                .args(["lint", "--strict"])
                .arg(chart())
                .args(set_args(&values)),
            None,
        )
        .unwrap_or_else(|e| panic!("helm lint --strict --set '{values}':\n{e}"));
    }
    run(helm().args(["lint", "--strict"]).arg(crd_chart()), None)
        .unwrap_or_else(|e| panic!("helm lint --strict the CRD chart:\n{e}"));
}

/// Bad values are refused before anything is rendered, with the key and what is wrong.
#[test]
fn bad_values_are_refused_naming_the_key() {
    for (values, says) in [
        (
            "replicaCount=0",
            "at '/replicaCount': minimum: got 0, want 1",
        ),
        ("replicas=2", "additional properties 'replicas' not allowed"),
        (
            "image.tagg=v1",
            "at '/image': additional properties 'tagg' not allowed",
        ),
        (
            "aws.rateLimits=fast",
            "at '/aws/rateLimits': value must be one of 'adaptive', 'aws', 'off'",
        ),
        ("aws.region=Frankfurt", "at '/aws/region'"),
        ("resyncInterval=10x", "at '/resyncInterval'"),
        ("watchNamespace=Team_A", "at '/watchNamespace'"),
        (
            "leaderElection.enabled=maybe",
            "at '/leaderElection/enabled'",
        ),
        ("emulator.accountId=123", "at '/emulator/accountId'"),
        (
            "leaderElection.leaseDuration=15",
            "at '/leaderElection/leaseDuration'",
        ),
        ("metrics.port=70000", "at '/metrics/port'"),
        (
            "leaderElection.enabled=false",
            "leaderElection.enabled=false with replicaCount=2: every replica would reconcile the same objects",
        ),
        (
            "metrics.prometheusRule.groups.latency=false",
            "at '/metrics/prometheusRule/groups': additional properties 'latency' not allowed",
        ),
        (
            "metrics.grafanaDashboard.namespace=Grafana",
            "at '/metrics/grafanaDashboard/namespace'",
        ),
        (
            "metrics.serviceMonitor.enabled=true,metrics.service.enabled=false",
            "metrics.serviceMonitor.enabled=true needs metrics.service.enabled=true",
        ),
        // What `helm upgrade --reuse-values` from 0.1.0 renders: keys added since, missing.
        (
            "leaderElection.leaseDuration=null",
            "leaderElection.leaseDuration is missing: `helm upgrade --reuse-values` keeps the values of the chart version the release was installed with",
        ),
        (
            "emulator.enabled=true,emulator.flink=null",
            "emulator.flink is missing: `helm upgrade --reuse-values`",
        ),
    ] {
        match template(&chart(), "r", "ops", values) {
            Ok(_) => panic!("--set {values} was accepted"),
            Err(e) => assert!(
                e.contains(says),
                "--set {values}: the error does not say {says:?}:\n{e}"
            ),
        }
    }
}

/// What the default values render: 2 replicas with leader election on a Lease of their own,
/// a PDB, a preferred spread, probes, requests, a hardened pod; the Lease's RBAC by name.
#[test]
fn defaults_are_what_a_careful_sre_would_choose() {
    let docs = documents(&template(&chart(), "r", "ops", "").unwrap());
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| kind_of(d) == kind && name_of(d) == name)
            .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
    };
    let deployment = find("Deployment", "r-kinesis-operator");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for arg in [
        "--leader-elect",
        "--leader-elect-namespace=ops",
        "--leader-elect-lease=r-kinesis-operator",
        "--leader-elect-lease-duration=15s",
        "--leader-elect-renew-deadline=10s",
        "--leader-elect-retry-period=2s",
        "--aws-rate-limits=adaptive",
        "--shutdown-timeout=25s",
    ] {
        assert!(args.contains(&arg), "{arg} in {args:?}");
    }
    assert!(!args.iter().any(|a| a.starts_with("--endpoint-url")));
    assert_eq!(
        container["image"],
        "ghcr.io/kinesis-operator/kinesis-operator:0.1.0"
    );
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(container["resources"]["requests"]["cpu"].is_string());
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"],
        json!(["ALL"])
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let spread = pod["topologySpreadConstraints"].as_array().unwrap();
    let keys: Vec<_> = spread.iter().map(|c| c["topologyKey"].clone()).collect();
    assert_eq!(
        keys,
        [
            json!("kubernetes.io/hostname"),
            json!("topology.kubernetes.io/zone")
        ]
    );
    assert!(
        spread
            .iter()
            .all(|c| c["whenUnsatisfiable"] == "ScheduleAnyway"),
        "preferred, not required: small clusters still schedule every replica"
    );
    assert!(pod["affinity"].is_null());
    assert_eq!(
        find("PodDisruptionBudget", "r-kinesis-operator")["spec"]["maxUnavailable"],
        1
    );
    let lease_rules = &find("Role", "r-kinesis-operator-leader-election")["rules"];
    assert_eq!(
        lease_rules,
        &json!([
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "resourceNames": ["r-kinesis-operator"], "verbs": ["get", "update"]}
        ])
    );
    for (role, aggregates_to) in [
        ("r-kinesis-operator-view", vec!["view", "edit", "admin"]),
        ("r-kinesis-operator-edit", vec!["edit", "admin"]),
    ] {
        let labels = &find("ClusterRole", role)["metadata"]["labels"];
        for to in aggregates_to {
            assert_eq!(
                labels[format!("rbac.authorization.k8s.io/aggregate-to-{to}")],
                "true",
                "{role} aggregates to {to}"
            );
        }
    }

    // One replica: no leader election, no Lease rights, no PDB (it would block every drain).
    let single = documents(&template(&chart(), "r", "ops", "replicaCount=1").unwrap());
    assert!(!single.iter().any(|d| kind_of(d) == "PodDisruptionBudget"));
    assert!(
        !single
            .iter()
            .any(|d| name_of(d) == "r-kinesis-operator-leader-election")
    );
    // The emulator: the operator points at it with rate limits off.
    let emulated = documents(&template(&chart(), "r", "ops", "emulator.enabled=true").unwrap());
    let operator = emulated
        .iter()
        .find(|d| kind_of(d) == "Deployment" && name_of(d) == "r-kinesis-operator")
        .unwrap();
    let args = &operator["spec"]["template"]["spec"]["containers"][0]["args"];
    let args: Vec<&str> = args
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&"--endpoint-url=http://r-kinesis-operator-emulator.ops.svc:4566"));
    assert!(args.contains(&"--aws-rate-limits=off"));
    for (kind, name) in [
        ("Deployment", "r-kinesis-operator-emulator"),
        ("Service", "r-kinesis-operator-emulator"),
        ("PersistentVolumeClaim", "r-kinesis-operator-emulator"),
    ] {
        assert!(
            emulated
                .iter()
                .any(|d| kind_of(d) == kind && name_of(d) == name),
            "{kind} {name} rendered with emulator.enabled=true"
        );
    }
    // Flink on (the default): the `-flink` image, with the heap per application; off: the
    // operator's own image and no Flink flag.
    let emulator_container = |values: &str| {
        let docs = documents(&template(&chart(), "r", "ops", values).unwrap());
        docs.iter()
            .find(|d| kind_of(d) == "Deployment" && name_of(d) == "r-kinesis-operator-emulator")
            .map(|d| d["spec"]["template"]["spec"]["containers"][0].clone())
            .unwrap()
    };
    for (values, image, flink_arg) in [
        (
            "emulator.enabled=true,image.tag=1.2.3",
            "ghcr.io/kinesis-operator/kinesis-operator:1.2.3-flink",
            Some("--analytics-memory-mib=128"),
        ),
        (
            "emulator.enabled=true,image.tag=1.2.3,emulator.flink.heapMiB=256,emulator.flink.image.tag=mine",
            "ghcr.io/kinesis-operator/kinesis-operator:mine",
            Some("--analytics-memory-mib=256"),
        ),
        (
            "emulator.enabled=true,image.tag=1.2.3,emulator.flink.enabled=false",
            "ghcr.io/kinesis-operator/kinesis-operator:1.2.3",
            None,
        ),
    ] {
        let container = emulator_container(values);
        assert_eq!(container["image"], image, "{values}");
        let flink_args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|a| a.starts_with("--analytics-memory-mib"))
            .collect();
        assert_eq!(
            flink_args,
            flink_arg.into_iter().collect::<Vec<_>>(),
            "{values}"
        );
    }
}

/// Creates namespace `name` on `cp` unless it exists, with `labels`.
fn ensure_namespace(cp: &ControlPlane, name: &str, labels: &[&str]) {
    let _ = run(cp.kubectl().args(["create", "namespace", name]), None);
    if !labels.is_empty() {
        run(
            cp.kubectl()
                .args(["label", "--overwrite", "namespace", name])
                .args(labels),
            None,
        )
        .unwrap_or_else(|e| panic!("labelling namespace {name}: {e}"));
    }
}

/// The PrometheusRule carries the groups of `files/alerts.yaml` (the file promtool checks and
/// unit-tests in tests/observability.rs) unchanged, less those switched off, and none is
/// rendered by default or with every group off; the dashboard ConfigMap carries
/// `files/dashboard.json` unchanged with the Grafana sidecar's label, only when enabled.
#[test]
fn alert_rules_and_dashboard_are_their_files_switchable() {
    let file: Value = serde_norway::from_str(
        &std::fs::read_to_string(chart().join("files/alerts.yaml")).expect("files/alerts.yaml"),
    )
    .expect("files/alerts.yaml is YAML");
    let all_groups = file["groups"].as_array().expect("groups").clone();
    let rule = |values: &str| -> Option<Value> {
        documents(&template(&chart(), "r", "ops", values).unwrap())
            .into_iter()
            .find(|d| kind_of(d) == "PrometheusRule")
    };
    let default = documents(&template(&chart(), "r", "ops", "").unwrap());
    assert!(
        !default
            .iter()
            .any(|d| kind_of(d) == "PrometheusRule" || name_of(d) == "r-kinesis-operator-dashboard"),
        "neither the PrometheusRule nor the dashboard by default"
    );

    let on = "metrics.prometheusRule.enabled=true,metrics.prometheusRule.labels.release=prometheus";
    let full = rule(on).expect("a PrometheusRule when enabled");
    assert_eq!(full["spec"]["groups"], Value::Array(all_groups.clone()));
    assert_eq!(full["metadata"]["namespace"], "ops");
    assert_eq!(full["metadata"]["labels"]["release"], "prometheus");
    let switches = [
        ("stalled", "kinesis-operator-stalled"),
        ("awsErrors", "kinesis-operator-aws-errors"),
        ("reconcileLatency", "kinesis-operator-reconcile-latency"),
        ("leader", "kinesis-operator-leader"),
    ];
    assert_eq!(all_groups.len(), switches.len(), "one switch per group");
    for (key, group) in switches {
        let rendered = rule(&format!("{on},metrics.prometheusRule.groups.{key}=false"))
            .expect("a PrometheusRule with three groups");
        let names: Vec<&str> = rendered["spec"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = all_groups
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .filter(|n| *n != group)
            .collect();
        assert_eq!(names, expected, "groups.{key}=false leaves out {group}");
    }
    let all_off: String = switches
        .iter()
        .map(|(key, _)| format!(",metrics.prometheusRule.groups.{key}=false"))
        .collect();
    assert!(
        rule(&format!("{on}{all_off}")).is_none(),
        "no PrometheusRule without groups"
    );

    let docs = documents(
        &template(
            &chart(),
            "r",
            "ops",
            "metrics.grafanaDashboard.enabled=true,metrics.grafanaDashboard.namespace=monitoring",
        )
        .unwrap(),
    );
    let map = docs
        .iter()
        .find(|d| kind_of(d) == "ConfigMap" && name_of(d) == "r-kinesis-operator-dashboard")
        .expect("the dashboard ConfigMap when enabled");
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(map["metadata"]["namespace"], "monitoring");
    let shipped: Value =
        serde_json::from_str(map["data"]["kinesis-operator.json"].as_str().unwrap())
            .expect("the ConfigMap holds JSON");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(chart().join("files/dashboard.json")).unwrap(),
    )
    .expect("files/dashboard.json is JSON");
    assert_eq!(shipped, file);
}

/// Every main value combination renders objects that kube-apiserver accepts: a server-side
/// dry run with strict field validation checks each against the API's OpenAPI schemas (and
/// admission). The ServiceMonitor's and PrometheusRule's API (Prometheus Operator) is not
/// served here: they are only checked to be rendered.
#[test]
fn rendered_objects_pass_the_api_servers_validation() {
    let cp = control_plane();
    ensure_namespace(cp, "chart-ops", &[]);
    ensure_namespace(cp, "chart-apps", &[]);
    ensure_namespace(cp, "chart-web", &[]);
    for values in VALUE_SETS {
        let values = values_for(values, "chart-apps", "chart-web");
        let rendered = template(&chart(), "r", "chart-ops", &values)
            .unwrap_or_else(|e| panic!("helm template --set '{values}':\n{e}"));
        let docs = documents(&rendered);
        let (monitoring, checked): (Vec<Value>, Vec<Value>) = docs.into_iter().partition(|d| {
            d["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
        });
        for kind in ["ServiceMonitor", "PrometheusRule"] {
            let enabled = format!("{}{}.enabled=true", kind[..1].to_lowercase(), &kind[1..]);
            assert_eq!(
                monitoring.iter().any(|d| kind_of(d) == kind),
                values.contains(&enabled),
                "--set '{values}': a {kind} exactly when enabled"
            );
        }
        let stream: String = checked
            .iter()
            .map(|d| format!("---\n{}\n", serde_json::to_string(d).unwrap()))
            .collect();
        let out = run(
            cp.kubectl()
                .args(["apply", "--dry-run=server", "--validate=strict", "-f", "-"]),
            Some(&stream),
        )
        .unwrap_or_else(|e| panic!("--set '{values}': the API server refused:\n{e}"));
        assert_eq!(
            out.lines().count(),
            checked.len(),
            "--set '{values}': one line per object:\n{out}"
        );
    }
}

/// The operator's and the emulator's pods, as the chart renders them, are admitted in a
/// namespace that enforces Pod Security `restricted`; the same pod without the chart's
/// container securityContext is refused there (so the check is live).
#[test]
fn pods_are_admitted_at_pod_security_restricted() {
    let cp = control_plane();
    let ns = "chart-restricted";
    ensure_namespace(
        cp,
        ns,
        &[
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        ],
    );
    let docs = documents(&template(&chart(), "r", ns, "emulator.enabled=true").unwrap());
    let deployments: Vec<&Value> = docs.iter().filter(|d| kind_of(d) == "Deployment").collect();
    assert_eq!(deployments.len(), 2, "the operator and the emulator");
    let pod_of = |d: &Value| {
        let template = &d["spec"]["template"];
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name_of(d), "namespace": ns, "labels": template["metadata"]["labels"]},
            "spec": template["spec"],
        })
    };
    let dry_run = |pod: &Value| {
        run(
            cp.kubectl().args(["create", "--dry-run=server", "-f", "-"]),
            Some(&pod.to_string()),
        )
    };
    for d in &deployments {
        let pod = pod_of(d);
        dry_run(&pod)
            .unwrap_or_else(|e| panic!("the pod of {} is refused at restricted:\n{e}", name_of(d)));
        let mut loose = pod.clone();
        loose["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("securityContext");
        let refused = dry_run(&loose).expect_err("a pod without securityContext is refused");
        assert!(
            refused.contains("violates PodSecurity \"restricted:latest\""),
            "{refused}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// RBAC proven on an audited API server.
// ---------------------------------------------------------------------------------------

/// The audit policy: every request of a ServiceAccount at level Metadata (who, verb, object
/// reference, response code), nothing else.
const AUDIT_POLICY: &str = "\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: [\"system:serviceaccounts\"]
  - level: None
";

/// A control plane of its own named `name` whose kube-apiserver writes an audit log
/// ([`AUDIT_POLICY`]), with this crate's CRDs installed or (`with_crds` false) none, and the
/// log's path.
fn audited_control_plane(name: &str, with_crds: bool) -> (ControlPlane, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chart-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the audit directory");
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, AUDIT_POLICY).expect("the audit policy");
    let log = dir.join("audit.log");
    let args = vec![
        format!("--audit-policy-file={}", policy.display()),
        format!("--audit-log-path={}", log.display()),
        "--audit-log-format=json".to_owned(),
        "--audit-log-mode=blocking".to_owned(),
    ];
    let name = name.to_owned();
    let cp = std::thread::spawn(move || {
        if with_crds {
            ControlPlane::dedicated(&name, &args)
        } else {
            ControlPlane::bare(&name, &args)
        }
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    (cp, log)
}

/// The audited control plane of the RBAC tests, shared by them.
fn audited() -> &'static (ControlPlane, PathBuf) {
    static AUDITED: OnceLock<(ControlPlane, PathBuf)> = OnceLock::new();
    AUDITED.get_or_init(|| audited_control_plane("audit", true))
}

/// One (API group, resource[/subresource], verb) pair.
type Pair = (String, String, String);

/// One audited request of a user.
struct Request {
    pair: Pair,
    code: u16,
    uri: String,
}

/// The length of the audit log at `path` so far: [`audited_requests`] from there on reads
/// only what was logged afterwards.
fn audit_log_end(path: &Path) -> usize {
    std::fs::read(path).expect("the audit log").len()
}

/// The requests of `user` in the audit log at `path`, from byte `since` on.
fn audited_requests(path: &Path, user: &str, since: usize) -> Vec<Request> {
    let text = std::fs::read_to_string(path).expect("the audit log");
    text[since..]
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["user"]["username"] == user)
        .filter_map(|e| {
            let object = &e["objectRef"];
            let mut resource = object["resource"].as_str()?.to_owned();
            if let Some(sub) = object["subresource"].as_str() {
                resource = format!("{resource}/{sub}");
            }
            Some(Request {
                pair: (
                    object["apiGroup"].as_str().unwrap_or_default().to_owned(),
                    resource,
                    e["verb"].as_str()?.to_owned(),
                ),
                code: e["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
                uri: e["requestURI"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// The (group, resource, verb) pairs that the Roles and ClusterRoles of `manifest` grant to
/// ServiceAccount `namespace/name` through the manifest's bindings.
fn granted_pairs(manifest: &[Value], namespace: &str, name: &str) -> BTreeSet<Pair> {
    let mut pairs = BTreeSet::new();
    for binding in manifest
        .iter()
        .filter(|d| matches!(kind_of(d), "RoleBinding" | "ClusterRoleBinding"))
    {
        let binds_sa = binding["subjects"].as_array().is_some_and(|s| {
            s.iter().any(|s| {
                s["kind"] == "ServiceAccount" && s["name"] == name && s["namespace"] == namespace
            })
        });
        if !binds_sa {
            continue;
        }
        let role_ref = &binding["roleRef"];
        let role = manifest
            .iter()
            .find(|d| {
                kind_of(d) == role_ref["kind"].as_str().unwrap_or_default()
                    && d["metadata"]["name"] == role_ref["name"]
                    && d["metadata"]["namespace"] == binding["metadata"]["namespace"]
            })
            .unwrap_or_else(|| {
                panic!(
                    "{} binds a role the chart does not define",
                    name_of(binding)
                )
            });
        for rule in role["rules"].as_array().expect("rules") {
            for group in rule["apiGroups"].as_array().expect("apiGroups") {
                for resource in rule["resources"].as_array().expect("resources") {
                    for verb in rule["verbs"].as_array().expect("verbs") {
                        let text = |v: &Value| v.as_str().expect("a string").to_owned();
                        pairs.insert((text(group), text(resource), text(verb)));
                    }
                }
            }
        }
    }
    pairs
}

/// The objects release `release` in `namespace` installed (`helm get manifest`).
fn release_manifest(cp: &ControlPlane, release: &str, namespace: &str) -> Vec<Value> {
    documents(
        &run(
            helm()
                .args(["get", "manifest", release, "--namespace", namespace])
                .arg("--kubeconfig")
                .arg(cp.kubeconfig()),
            None,
        )
        .unwrap_or_else(|e| panic!("helm get manifest {release}:\n{e}")),
    )
}

/// How a release's Deployment runs the operator: its ServiceAccount (one the release
/// installs) and its arguments.
struct Deployed {
    service_account: String,
    args: Vec<String>,
}

impl Deployed {
    /// The operator's Deployment of release `release` in `manifest`.
    fn of(manifest: &[Value], release: &str) -> Deployed {
        let fullname = format!("{release}-kinesis-operator");
        let deployment = manifest
            .iter()
            .find(|d| kind_of(d) == "Deployment" && name_of(d) == fullname)
            .expect("the operator's Deployment is installed");
        let pod = &deployment["spec"]["template"]["spec"];
        let sa = pod["serviceAccountName"]
            .as_str()
            .expect("the Deployment names its ServiceAccount");
        assert!(
            manifest
                .iter()
                .any(|d| kind_of(d) == "ServiceAccount" && name_of(d) == sa),
            "the chart installs ServiceAccount {sa}"
        );
        let args = pod["containers"][0]["args"]
            .as_array()
            .expect("the operator's arguments")
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        Deployed {
            service_account: sa.to_owned(),
            args,
        }
    }

    /// Starts the operator binary out of cluster as the Deployment runs it, authenticated as
    /// its ServiceAccount in `release_ns` (a fresh token), and waits until it runs (leads,
    /// with leader election): its metrics and health endpoints on free loopback ports, AWS
    /// calls to `endpoint`, and a 2 s resync (a stalled object is tried again at each resync:
    /// 2 s instead of 10 minutes).
    async fn start(&self, cp: &ControlPlane, release_ns: &str, endpoint: &str) -> OperatorProcess {
        let mut args: Vec<String> = self
            .args
            .iter()
            .filter(|a| {
                !a.starts_with("--metrics-addr=")
                    && !a.starts_with("--health-addr=")
                    && !a.starts_with("--resync-interval=")
            })
            .cloned()
            .collect();
        args.push(format!("--endpoint-url={endpoint}"));
        args.push("--resync-interval=2s".to_owned());
        let kubeconfig = cp
            .service_account_kubeconfig(release_ns, &self.service_account)
            .await;
        let operator = OperatorProcess::start_args(
            &kubeconfig,
            &args,
            &[("POD_NAMESPACE", release_ns), ("POD_NAME", "operator-0")],
        );
        operator.wait_for_log("operator running").await;
        operator
    }
}

/// An IAM client for `emulator`.
fn iam(emulator: &Emulator) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

/// Creates IAM role `name` (trusting EC2) in the emulator.
async fn create_role(iam: &aws_sdk_iam::Client, name: &str) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
}

/// The world one lifecycle acts in: an admin client, the namespace of the objects, and
/// clients of the emulator the operator talks to.
struct World {
    admin: kube::Client,
    ns: String,
    iam: aws_sdk_iam::Client,
    kinesis: aws_sdk_kinesis::Client,
}

/// Deletes stream `name` in AWS (not its object) and waits until the operator re-created it.
async fn delete_out_of_band(w: &World, name: &str) {
    w.kinesis
        .delete_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteStream {name}: {e:?}"));
    wait_for(Duration::from_secs(60), || async {
        let summary = w
            .kinesis
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .ok()?;
        (summary.stream_description_summary?.stream_status
            == aws_sdk_kinesis::types::StreamStatus::Active)
            .then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("stream {name} was not re-created within 60 s"));
}

/// The lifecycle of one reconciled kind, in three steps run for every kind in turn (create
/// all in table order, update all, delete all in reverse order), so that kinds referring to
/// another find it. Adding a reconciled kind (AnalyticsApplication) is one more row of
/// [`LIFECYCLES`].
struct Lifecycle {
    /// The RBAC resource name (plural) of the kind.
    resource: &'static str,
    /// Creates the object(s) and waits until they are Ready.
    create: for<'a> fn(&'a World) -> futures::future::BoxFuture<'a, ()>,
    /// Changes them so that the operator updates AWS, and waits until Ready at the new state.
    update: for<'a> fn(&'a World) -> futures::future::BoxFuture<'a, ()>,
    /// Deletes them and waits until the finalizer released them.
    delete: for<'a> fn(&'a World) -> futures::future::BoxFuture<'a, ()>,
}

const LIFECYCLES: &[Lifecycle] = &[
    Lifecycle {
        resource: "kinesisstreams",
        create: |w| {
            Box::pin(async move {
                let api: Api<KinesisStream> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(&api, "clicks", json!({"shardCount": 1})).await;
                wait_until(&api, "clicks", "Ready", is_ready).await;
                // Deleted behind the operator's back twice: re-created each time with the same
                // DriftCorrected event, which the recorder counts by patching its series.
                for _ in 0..2 {
                    delete_out_of_band(w, "clicks").await;
                }
                wait_for(Duration::from_secs(30), || async {
                    event_notes(w.admin.clone(), &w.ns, "clicks")
                        .await
                        .into_iter()
                        .any(|(reason, _, count)| reason == "DriftCorrected" && count >= 2)
                        .then_some(())
                })
                .await
                .unwrap_or_else(|| {
                    panic!("no DriftCorrected event counted twice for KinesisStream clicks")
                });
                wait_until(&api, "clicks", "Ready", is_ready).await;
            })
        },
        update: |w| {
            Box::pin(async move {
                let api: Api<KinesisStream> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(&api, "clicks", json!({"shardCount": 2})).await;
                wait_until(&api, "clicks", "Ready with 2 shards", |o| {
                    is_ready(o) && o.status.as_ref().and_then(|s| s.open_shard_count) == Some(2)
                })
                .await;
            })
        },
        delete: |w| Box::pin(delete::<KinesisStream>(w, "clicks")),
    },
    Lifecycle {
        resource: "deliverystreams",
        create: |w| {
            Box::pin(async move {
                let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
                secrets
                    .create(&PostParams::default(), &access_key("first-key"))
                    .await
                    .expect("creating the access key Secret");
                let api: Api<DeliveryStream> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(
                    &api,
                    "webhook",
                    json!({
                        "source": {"kinesisStream": {"streamRef": {"name": "clicks"}, "roleARN": ROLE}},
                        "destination": {"httpEndpoint": {
                            "url": "https://collector.example.com/ingest", "name": "collector",
                            "accessKeySecretRef": {"name": "collector-key", "key": "accessKey"},
                            "s3Backup": {"bucketARN": "arn:aws:s3:::failed", "roleARN": ROLE}}}
                    }),
                )
                .await;
                wait_until(&api, "webhook", "Ready", is_ready).await;
            })
        },
        update: |w| {
            Box::pin(async move {
                let api: Api<DeliveryStream> = Api::namespaced(w.admin.clone(), &w.ns);
                let before = api.get("webhook").await.unwrap();
                let version = before.status.and_then(|s| s.access_key_secret_version);
                let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
                secrets
                    .replace(
                        "collector-key",
                        &PostParams::default(),
                        &access_key("second-key"),
                    )
                    .await
                    .expect("replacing the access key");
                // The operator does not watch Secrets: a spec change makes the next pass read it.
                apply(
                    &api,
                    "webhook",
                    json!({
                        "source": {"kinesisStream": {"streamRef": {"name": "clicks"}, "roleARN": ROLE}},
                        "destination": {"httpEndpoint": {
                            "url": "https://collector.example.com/ingest", "name": "collector",
                            "accessKeySecretRef": {"name": "collector-key", "key": "accessKey"},
                            "s3Backup": {"bucketARN": "arn:aws:s3:::failed", "roleARN": ROLE}}},
                        "tags": {"team": "web"}
                    }),
                )
                .await;
                wait_until(&api, "webhook", "Ready with the new key", |o| {
                    is_ready(o)
                        && o.status
                            .as_ref()
                            .and_then(|s| s.access_key_secret_version.clone())
                            != version
                })
                .await;
            })
        },
        delete: |w| Box::pin(delete::<DeliveryStream>(w, "webhook")),
    },
    Lifecycle {
        resource: "streampolicies",
        create: |w| {
            Box::pin(async move {
                let api: Api<StreamPolicy> = Api::namespaced(w.admin.clone(), &w.ns);
                // A role that does not exist yet: Stalled until it is created.
                apply(
                    &api,
                    "clicks-read",
                    json!({
                        "statements": [{"streams": [{"streamRef": {"name": "clicks"}}], "access": ["Read"]}],
                        "attachToRoles": ["app"]
                    }),
                )
                .await;
                wait_until(&api, "clicks-read", "Stalled for the missing role", |o| {
                    condition(o, "Stalled")
                        .is_some_and(|c| c.status == "True" && c.reason == "RoleNotFound")
                })
                .await;
                create_role(&w.iam, "app").await;
                wait_until(&api, "clicks-read", "Ready once the role exists", is_ready).await;
            })
        },
        update: |w| {
            Box::pin(async move {
                let api: Api<StreamPolicy> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(
                    &api,
                    "clicks-read",
                    json!({
                        "statements": [{"streams": [{"streamRef": {"name": "clicks"}}], "access": ["Read", "Write"]}],
                        "attachToRoles": ["app"]
                    }),
                )
                .await;
                wait_until(&api, "clicks-read", "Ready at v2", |o| {
                    is_ready(o)
                        && o.status
                            .as_ref()
                            .and_then(|s| s.default_version_id.as_deref())
                            == Some("v2")
                })
                .await;
            })
        },
        delete: |w| Box::pin(delete::<StreamPolicy>(w, "clicks-read")),
    },
    Lifecycle {
        resource: "analyticsapplications",
        // Stopped: the RBAC under test is the operator's, not the Flink job's.
        create: |w| {
            Box::pin(async move {
                let api: Api<AnalyticsApplication> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(&api, "clicks-per-minute", analytics_spec("v1")).await;
                wait_until(&api, "clicks-per-minute", "Ready", is_ready).await;
            })
        },
        update: |w| {
            Box::pin(async move {
                let api: Api<AnalyticsApplication> = Api::namespaced(w.admin.clone(), &w.ns);
                apply(&api, "clicks-per-minute", analytics_spec("v2")).await;
                wait_until(&api, "clicks-per-minute", "Ready at version 2", |o| {
                    is_ready(o)
                        && o.status.as_ref().and_then(|s| s.application_version_id) == Some(2)
                })
                .await;
            })
        },
        delete: |w| Box::pin(delete::<AnalyticsApplication>(w, "clicks-per-minute")),
    },
];

/// A stopped application reading stream `clicks`, with property `release` set to `release`.
fn analytics_spec(release: &str) -> Value {
    json!({
        "serviceExecutionRoleARN": "arn:aws:iam::000000000000:role/flink",
        "streamRefs": [{"name": "clicks"}],
        "desiredState": "Stopped",
        "properties": {"app": {"release": release}},
        "code": {"sql": "CREATE TABLE clicks (user_id STRING) WITH ('connector' = 'kinesis', 'stream' = 'clicks', 'format' = 'json');"}
    })
}

fn access_key(key: &str) -> Secret {
    serde_json::from_value(json!({
        "metadata": {"name": "collector-key"}, "stringData": {"accessKey": key}}))
    .expect("a Secret")
}

async fn delete<K>(w: &World, name: &str)
where
    K: support::operator::Kind + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let api: Api<K> = Api::namespaced(w.admin.clone(), &w.ns);
    api.delete(name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("deleting {name}: {e}"));
    wait_gone(
        &api,
        name,
        Duration::from_secs(60),
        "released by the operator",
    )
    .await;
}

/// Only one operator at a time on the audited control plane: a cluster-wide one would
/// reconcile the other variant's objects too.
static ONE_OPERATOR: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Installs the chart with `helm install` (the emulator disabled: no pod runs, there is no
/// kubelet), runs the operator binary out of cluster with the Deployment's own arguments as
/// the chart's ServiceAccount through every kind's lifecycle, and compares what the audit log
/// saw it do with what the chart grants. `values` are the `--set` values, `{apps}` standing
/// for the namespace of the objects.
async fn rbac_is_what_the_operator_uses(release: &str, values: &str) {
    let _one = ONE_OPERATOR.lock().await;
    let (cp, audit_log) = audited();
    let release_ns = cp.namespace(release).await;
    let apps_ns = cp.namespace(&format!("{release}-apps")).await;
    let values = values.replace("{apps}", &apps_ns);
    let watch_own_namespace = values.contains("watchNamespace=");
    let leader_elect = !values.contains("replicaCount=1");
    let installed = run(
        helm()
            .args(["install", release])
            .arg(chart())
            .args(["--namespace", &release_ns, "--kubeconfig"])
            .arg(cp.kubeconfig())
            .args(set_args(&values)),
        None,
    )
    .unwrap_or_else(|e| panic!("helm install --set '{values}':\n{e}"));
    // The notes say what to run next, in the namespaces of this installation.
    let scope = if watch_own_namespace {
        format!("-n {apps_ns} ")
    } else {
        String::new()
    };
    for next in [
        format!("kubectl -n {release_ns} rollout status deployment/{release}-kinesis-operator"),
        format!("| kubectl {scope}apply -f -"),
        format!("kubectl {scope}wait --for=condition=Ready kinesisstream/clicks"),
    ] {
        assert!(
            installed.contains(&next),
            "the notes say {next:?}:\n{installed}"
        );
    }
    let manifest = release_manifest(cp, release, &release_ns);
    let deployed = Deployed::of(&manifest, release);
    let sa = deployed.service_account.as_str();
    let kinds: Vec<&str> = manifest.iter().map(kind_of).collect();
    if watch_own_namespace {
        assert!(
            !kinds.contains(&"ClusterRoleBinding"),
            "namespaced: no cluster-wide grant to the operator ({kinds:?})"
        );
        for d in manifest
            .iter()
            .filter(|d| matches!(kind_of(d), "Role" | "RoleBinding"))
            .filter(|d| !name_of(d).ends_with("-leader-election"))
        {
            assert_eq!(
                d["metadata"]["namespace"],
                apps_ns.as_str(),
                "{}",
                name_of(d)
            );
        }
    }

    // The operator as the Deployment runs it, but out of cluster, AWS calls to an in-process
    // emulator.
    let emulator = support::emulator::start_default().await;
    assert_eq!(
        deployed.args.contains(&"--leader-elect".to_owned()),
        leader_elect,
        "leader election exactly with more than one replica: {:?}",
        deployed.args
    );
    let mut operator = deployed
        .start(cp, &release_ns, &emulator.endpoint_url())
        .await;

    let world = World {
        admin: cp.admin().await,
        ns: apps_ns.clone(),
        iam: iam(&emulator),
        kinesis: support::emulator::kinesis(&emulator),
    };
    for l in LIFECYCLES {
        (l.create)(&world).await;
    }
    for l in LIFECYCLES {
        (l.update)(&world).await;
    }
    for l in LIFECYCLES.iter().rev() {
        (l.delete)(&world).await;
    }
    let metrics = operator
        .metrics_text()
        .await
        .expect("the operator's metrics");
    operator.signal(libc::SIGTERM);
    let status = operator
        .exit_within(Duration::from_secs(30), "the operator after SIGTERM")
        .await;
    let log = operator.log_text();
    assert!(status.success(), "the operator stopped cleanly:\n{log}");
    let lower = log.to_lowercase();
    assert!(
        !lower.contains("forbidden") && !lower.contains(" 403"),
        "the operator met a refusal:\n{log}"
    );
    let failed: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("kinesis_operator_reconciles_total{"))
        .filter(|l| l.contains("result=\"kubernetes\"") || l.contains("result=\"finalizer\""))
        .collect();
    assert!(
        failed.is_empty(),
        "reconciles failed on a Kubernetes call: {failed:#?}"
    );

    let user = format!("system:serviceaccount:{release_ns}:{sa}");
    let requests = audited_requests(audit_log, &user, 0);
    assert!(
        !requests.is_empty(),
        "the audit log holds the operator's requests"
    );
    let refused: Vec<String> = requests
        .iter()
        .filter(|r| r.code == 403)
        .map(|r| format!("{:?} {}", r.pair, r.uri))
        .collect();
    assert!(refused.is_empty(), "refused requests: {refused:#?}");
    if watch_own_namespace {
        let outside: Vec<&String> = requests
            .iter()
            .map(|r| &r.uri)
            .filter(|u| {
                !u.contains(&format!("/namespaces/{apps_ns}/"))
                    && !u.contains(&format!("/namespaces/{release_ns}/"))
            })
            .collect();
        assert!(
            outside.is_empty(),
            "namespaced: every request stays in {apps_ns} (objects) or {release_ns} (Lease): {outside:#?}"
        );
    }
    let used: BTreeSet<Pair> = requests.into_iter().map(|r| r.pair).collect();
    let granted = granted_pairs(&manifest, &release_ns, sa);
    for l in LIFECYCLES {
        for verb in ["list", "watch", "patch"] {
            let pair = (
                "kinesis.operator.dev".to_owned(),
                l.resource.to_owned(),
                verb.to_owned(),
            );
            assert!(used.contains(&pair), "the lifecycle exercised {pair:?}");
        }
    }
    assert_eq!(
        granted.iter().any(|(_, resource, _)| resource == "leases"),
        leader_elect,
        "Lease rights exactly with leader election"
    );
    if values.contains("rbac.secrets.namespaces") {
        let secret_roles: Vec<(&str, &Value)> = manifest
            .iter()
            .filter(|d| {
                d["rules"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["resources"] == json!(["secrets"])))
            })
            .map(|d| (kind_of(d), &d["metadata"]["namespace"]))
            .collect();
        assert_eq!(
            secret_roles,
            [("Role", &json!(apps_ns))],
            "Secrets are readable in the listed namespace only"
        );
    }
    let unused: Vec<&Pair> = granted.difference(&used).collect();
    let ungranted: Vec<&Pair> = used.difference(&granted).collect();
    assert!(
        unused.is_empty() && ungranted.is_empty(),
        "the chart's grants differ from what the operator uses;\n granted, never used: {unused:#?}\n used, not granted: {ungranted:#?}"
    );
    run(
        helm()
            .args([
                "uninstall",
                release,
                "--namespace",
                &release_ns,
                "--kubeconfig",
            ])
            .arg(cp.kubeconfig()),
        None,
    )
    .expect("helm uninstall");
    emulator.shutdown().await;
}

/// The defaults: a ClusterRole, two replicas with leader election.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_cluster_wide_is_exactly_what_the_operator_uses() {
    rbac_is_what_the_operator_uses("kop-cluster", "").await;
}

/// `watchNamespace`: a Role and RoleBinding in that namespace only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_namespaced_is_exactly_what_the_operator_uses() {
    rbac_is_what_the_operator_uses("kop-ns", "watchNamespace={apps}").await;
}

/// One replica (no leader election, so no Lease rights) watching every namespace, Secrets
/// readable only in the namespace listed in `rbac.secrets.namespaces`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_single_replica_with_secrets_in_listed_namespaces_is_exactly_what_it_uses() {
    rbac_is_what_the_operator_uses("kop-one", "replicaCount=1,rbac.secrets.namespaces={{apps}}")
        .await;
}

// ---------------------------------------------------------------------------------------
// Upgrades from the previous release of the charts.
// ---------------------------------------------------------------------------------------

/// The previous release of the operator chart: 0.1.0 as `helm package` wrote it from commit
/// 9840a9b (tests/fixtures/charts-0.1.0/README.md says why that commit).
fn previous_chart() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/charts-0.1.0/kinesis-operator-0.1.0.tgz")
}

/// The previous release of the CRD chart (0.1.0, the same commit).
fn previous_crd_chart() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/charts-0.1.0/kinesis-operator-crds-0.1.0.tgz")
}

/// `helm show chart <chart>`: its Chart.yaml.
fn chart_metadata(chart: &Path) -> Value {
    documents(
        &run(helm().args(["show", "chart"]).arg(chart), None)
            .unwrap_or_else(|e| panic!("helm show chart {}:\n{e}", chart.display())),
    )
    .remove(0)
}

/// `major.minor.patch` of a chart version, to compare versions.
fn version_triple(version: &Value) -> (u64, u64, u64) {
    let text = version.as_str().expect("a chart version");
    let parts: Vec<u64> = text
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap_or_else(|_| panic!("chart version {text}")))
        .collect();
    (parts[0], parts[1], parts[2])
}

/// Both charts share one version, later than the previous release's (so `helm upgrade` from
/// the fixtures is an upgrade), and their appVersion is the crate's version: the tag
/// `make image` gives the image, which the chart's default image reference names.
#[test]
fn the_charts_are_versioned_after_the_previous_release() {
    let (main, crds) = (chart_metadata(&chart()), chart_metadata(&crd_chart()));
    let (old_main, old_crds) = (
        chart_metadata(&previous_chart()),
        chart_metadata(&previous_crd_chart()),
    );
    assert_eq!(
        main["version"], crds["version"],
        "one version for both charts"
    );
    assert_eq!(
        old_main["version"], "0.1.0",
        "the fixture is the 0.1.0 release"
    );
    assert_eq!(
        old_crds["version"], "0.1.0",
        "the fixture is the 0.1.0 release"
    );
    assert!(
        version_triple(&main["version"]) > version_triple(&old_main["version"]),
        "charts/kinesis-operator {} is not later than the previous release {}",
        main["version"],
        old_main["version"]
    );
    for meta in [&main, &crds] {
        assert_eq!(
            meta["appVersion"],
            env!("CARGO_PKG_VERSION"),
            "{}: appVersion is the crate version (the image tag of `make image`)",
            meta["name"]
        );
    }
}

/// Every property path of an OpenAPI schema with its type, and the required fields of each
/// object path.
fn schema_paths(
    schema: &Value,
    path: &str,
    types: &mut std::collections::BTreeMap<String, Value>,
    required: &mut std::collections::BTreeMap<String, BTreeSet<String>>,
) {
    types.insert(path.to_owned(), schema["type"].clone());
    if let Some(r) = schema["required"].as_array() {
        required.insert(
            path.to_owned(),
            r.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect(),
        );
    }
    if let Some(props) = schema["properties"].as_object() {
        for (name, sub) in props {
            schema_paths(sub, &format!("{path}.{name}"), types, required);
        }
    }
    if schema["items"].is_object() {
        schema_paths(&schema["items"], &format!("{path}[]"), types, required);
    }
    if schema["additionalProperties"].is_object() {
        schema_paths(
            &schema["additionalProperties"],
            &format!("{path}{{}}"),
            types,
            required,
        );
    }
}

/// The CRDs of the previous release can be replaced by the current ones without breaking a
/// stored object: every version still served, no property removed or retyped, no field newly
/// required. The previous CRDs are what the previous CRD chart renders.
#[test]
fn crd_changes_since_the_previous_crds_are_additive() {
    let previous = documents(
        &run(
            helm().args(["template", "crds"]).arg(previous_crd_chart()),
            None,
        )
        .expect("helm template the previous CRD chart"),
    );
    for (file, crd) in kinesis_operator::api::crds() {
        let new = serde_json::to_value(&crd).expect("a CRD serialises");
        let old = previous
            .iter()
            .find(|d| name_of(d) == name_of(&new))
            .unwrap_or_else(|| panic!("{file}: the previous release has no {}", name_of(&new)));
        for old_version in old["spec"]["versions"].as_array().expect("versions") {
            let name = old_version["name"].as_str().expect("a version name");
            let new_version = new["spec"]["versions"]
                .as_array()
                .expect("versions")
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{file}: version {name} is no longer served"));
            assert_eq!(new_version["served"], true, "{file}: {name} still served");
            let (mut old_types, mut old_required) = Default::default();
            let (mut new_types, mut new_required) = Default::default();
            schema_paths(
                &old_version["schema"]["openAPIV3Schema"],
                "",
                &mut old_types,
                &mut old_required,
            );
            schema_paths(
                &new_version["schema"]["openAPIV3Schema"],
                "",
                &mut new_types,
                &mut new_required,
            );
            for (path, old_type) in &old_types {
                let new_type = new_types
                    .get(path)
                    .unwrap_or_else(|| panic!("{file} {name}: property {path} was removed"));
                assert_eq!(new_type, old_type, "{file} {name}: {path} changed its type");
            }
            for (path, fields) in &new_required {
                if !old_types.contains_key(path) {
                    continue;
                }
                let before = old_required.get(path).cloned().unwrap_or_default();
                let added: Vec<_> = fields.difference(&before).collect();
                assert!(
                    added.is_empty(),
                    "{file} {name}: {path} newly requires {added:?}"
                );
            }
        }
    }
}

/// Whether CRD `name`'s status schema has property `field`.
fn status_has(cp: &ControlPlane, crd: &str, field: &str) -> bool {
    let out = run(cp.kubectl().args(["get", "crd", crd, "-o", "json"]), None)
        .unwrap_or_else(|e| panic!("kubectl get crd {crd}: {e}"));
    let crd: Value = serde_json::from_str(&out).expect("a CRD as JSON");
    !crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
        [field]
        .is_null()
}

/// Waits until every CRD is Established (`kubectl wait` refuses a CRD created a moment ago,
/// which has no conditions yet, so it is asked again until it agrees, for up to 30 s).
fn wait_established(cp: &ControlPlane) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waited = run(
            cp.kubectl().args([
                "wait",
                "--for=condition=Established",
                "crd",
                "--all",
                "--timeout=30s",
            ]),
            None,
        );
        match waited {
            Ok(_) => return,
            Err(e) if std::time::Instant::now() >= deadline => {
                panic!("the CRDs are not Established within 30 s:\n{e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The releases in `namespace` with their charts, e.g. `("kop", "kinesis-operator-0.1.0")`.
fn release_charts(cp: &ControlPlane, namespace: &str) -> Vec<(String, String)> {
    let out = run(
        helm()
            .args(["list", "--namespace", namespace, "--output", "json"])
            .arg("--kubeconfig")
            .arg(cp.kubeconfig()),
        None,
    )
    .expect("helm list");
    let releases: Value = serde_json::from_str(&out).expect("helm list --output json");
    let mut found: Vec<(String, String)> = releases
        .as_array()
        .expect("a list of releases")
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (text("name"), text("chart"))
        })
        .collect();
    found.sort();
    found
}

/// `<name>-<version>` of a chart directory or package, as `helm list` shows it.
fn chart_ref(chart: &Path) -> String {
    let meta = chart_metadata(chart);
    format!(
        "{}-{}",
        meta["name"].as_str().unwrap(),
        meta["version"].as_str().unwrap()
    )
}

/// How the previous release got its CRDs, and so how the upgrade upgrades them: the two
/// paths of the chart README's "CRDs and upgrades".
#[derive(Clone, Copy, Debug)]
enum CrdPath {
    /// The CRD chart installed first, the operator chart with `--skip-crds`; `helm upgrade`
    /// of the CRD chart, then of the operator chart.
    CrdChart,
    /// The operator chart's own `crds/` (Helm's default, which Helm never upgrades); the
    /// upgrade installs the CRD chart with `--take-ownership`, which takes them over and
    /// upgrades them, then upgrades the operator chart.
    TakeOver,
}

/// What one object looks like to a user, as the upgrade must keep it: its UID and every
/// condition's type, status, reason, lastTransitionTime and observedGeneration (the message
/// is left out: a release may word it better).
fn object_state<K: support::operator::Kind>(obj: &K) -> String {
    use kinesis_operator::controller::runtime::KindStatus;
    let conditions: Vec<String> = obj
        .status()
        .map(|s| s.common().conditions.clone())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            format!(
                "{}={} ({}) since {} for generation {:?}",
                c.type_, c.status, c.reason, c.last_transition_time.0, c.observed_generation
            )
        })
        .collect();
    format!(
        "uid {}, generation {:?}, status for generation {:?}: {}",
        obj.meta().uid.as_deref().unwrap_or_default(),
        obj.meta().generation,
        obj.status().and_then(|s| s.common().observed_generation),
        conditions.join("; ")
    )
}

/// `seconds.nanoseconds` of an AWS timestamp.
fn timestamp(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.map(|t| format!("{}.{:09}", t.secs(), t.subsec_nanos()))
        .unwrap_or_else(|| "no timestamp".to_owned())
}

/// Clients of the emulator for every AWS resource the upgraded objects own.
struct Aws {
    kinesis: aws_sdk_kinesis::Client,
    firehose: aws_sdk_firehose::Client,
    iam: aws_sdk_iam::Client,
}

impl Aws {
    /// Every stream, delivery stream and customer managed policy in the account, by name, with
    /// its identity: ARN and creation time (and a policy's default version and the roles it is
    /// attached to). A resource re-created, deleted or added shows here.
    async fn resources(&self) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        let streams = self
            .kinesis
            .list_streams()
            .send()
            .await
            .expect("ListStreams");
        for name in streams.stream_names() {
            let summary = stream_summary(&self.kinesis, name).await;
            found.insert(
                format!("Kinesis stream {name}"),
                format!(
                    "{} created {}",
                    summary.stream_arn,
                    timestamp(Some(&summary.stream_creation_timestamp))
                ),
            );
        }
        let deliveries = self
            .firehose
            .list_delivery_streams()
            .send()
            .await
            .expect("ListDeliveryStreams");
        for name in deliveries.delivery_stream_names() {
            let d = delivery_stream(&self.firehose, name).await;
            found.insert(
                format!("Firehose delivery stream {name}"),
                format!(
                    "{} created {}",
                    d.delivery_stream_arn,
                    timestamp(d.create_timestamp.as_ref())
                ),
            );
        }
        let policies = self
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .send()
            .await
            .expect("ListPolicies");
        for p in policies.policies() {
            let arn = p.arn().expect("a policy ARN");
            let mut roles: Vec<String> = self
                .iam
                .list_entities_for_policy()
                .policy_arn(arn)
                .send()
                .await
                .unwrap_or_else(|e| panic!("ListEntitiesForPolicy {arn}: {e:?}"))
                .policy_roles()
                .iter()
                .filter_map(|r| r.role_name.clone())
                .collect();
            roles.sort();
            found.insert(
                format!("IAM policy {}", p.policy_name().unwrap_or_default()),
                format!(
                    "{arn} created {}, default version {}, attached to {roles:?}",
                    timestamp(p.create_date()),
                    p.default_version_id().unwrap_or_default()
                ),
            );
        }
        found
    }
}

/// The objects of the upgrade test, each as [`object_state`] shows it, by kind and name.
async fn object_states(admin: &kube::Client, ns: &str) -> BTreeMap<String, String> {
    let mut states = BTreeMap::new();
    let streams: Api<KinesisStream> = Api::namespaced(admin.clone(), ns);
    for o in streams.list(&Default::default()).await.unwrap() {
        states.insert(format!("KinesisStream {}", o.name_any()), object_state(&o));
    }
    let deliveries: Api<DeliveryStream> = Api::namespaced(admin.clone(), ns);
    for o in deliveries.list(&Default::default()).await.unwrap() {
        states.insert(format!("DeliveryStream {}", o.name_any()), object_state(&o));
    }
    let policies: Api<StreamPolicy> = Api::namespaced(admin.clone(), ns);
    for o in policies.list(&Default::default()).await.unwrap() {
        states.insert(format!("StreamPolicy {}", o.name_any()), object_state(&o));
    }
    states
}

/// Every version of every object of `api`'s kind that a watch delivered while not Ready for
/// its generation, or its deletion, until the task is aborted: a Ready condition that flapped
/// for a moment shows here even when it came back with the same lastTransitionTime second.
fn record_unready<K>(api: Api<K>, seen: Arc<Mutex<Vec<String>>>) -> tokio::task::JoinHandle<()>
where
    K: support::operator::Kind + Send + Sync + 'static,
{
    tokio::spawn(async move {
        use futures::StreamExt;
        use kube::runtime::{WatchStreamExt, watcher};
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(event) = events.next().await {
            let (obj, deleted) = match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => (o, false),
                Ok(watcher::Event::Delete(o)) => (o, true),
                _ => continue,
            };
            if deleted || !is_ready(&obj) {
                seen.lock().unwrap().push(format!(
                    "{} {}{}: {}",
                    K::kind(&()),
                    obj.name_any(),
                    if deleted { " deleted" } else { "" },
                    object_state(&obj)
                ));
            }
        }
    })
}

/// The AWS operations in `calls` that change something (anything but Describe*, List*, Get*).
fn writes(calls: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    calls
        .iter()
        .filter(|(op, _)| {
            !["Describe", "List", "Get"]
                .iter()
                .any(|r| op.starts_with(r))
        })
        .map(|(op, n)| (op.clone(), *n))
        .collect()
}

/// AWS calls so far by operation, and reconciles by kind, from an operator's /metrics.
async fn calls_and_reconciles(
    operator: &OperatorProcess,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let text = operator
        .metrics_text()
        .await
        .expect("the operator's metrics");
    (
        support::operator::counts(&text, "kinesis_operator_aws_calls_total", "operation"),
        support::operator::counts(&text, "kinesis_operator_reconciles_total", "kind"),
    )
}

/// Stops the operator with SIGTERM (as Kubernetes does when a Deployment rolls) and returns
/// its log, after checking it stopped cleanly.
async fn stop_operator(mut operator: OperatorProcess) -> String {
    operator.signal(libc::SIGTERM);
    let status = operator
        .exit_within(Duration::from_secs(30), "the operator after SIGTERM")
        .await;
    let log = operator.log_text();
    assert!(status.success(), "the operator stopped cleanly:\n{log}");
    log
}

/// `helm upgrade` from the previous release (the 0.1.0 packages) to `charts/`, with live
/// objects and the real operator, on the CRD path `path`:
/// - 0.1.0 installed with `helm install` (the emulator off: there is no kubelet; an in-process
///   emulator serves AWS), the operator binary run out of cluster as 0.1.0's Deployment runs
///   it, as its ServiceAccount; a KinesisStream, a DeliveryStream reading it (streamRef) into
///   S3 and a StreamPolicy naming it, attached to a role, all Ready; every condition and AWS
///   resource identity recorded; the operator stopped with SIGTERM.
/// - Both charts upgraded (the CRDs really change: 0.1.0's AnalyticsApplication CRD lacks
///   `status.lastFailure`), the operator started again as the upgraded Deployment runs it.
/// - Then: every condition as it was (status, reason, lastTransitionTime, observedGeneration)
///   and never not Ready in between (a watch saw every version); every AWS resource the same
///   (ARN, creation time, policy version, attachments; none added or deleted); the new
///   operator made no AWS call that changes anything, no request of it was refused (audit
///   log), and a spec change (a tag) made afterwards reaches AWS.
///
/// The operator before the upgrade is today's binary (0.1.0's image is not kept): it also
/// watches AnalyticsApplications, which 0.1.0's RBAC does not grant (0.1.0 had no such
/// controller), so those requests, and only those, are refused before the upgrade.
async fn helm_upgrade_keeps_aws_resources_and_conditions(path: CrdPath) {
    /// A value the release was installed with, which the upgrade keeps (in the values file,
    /// or set with --set).
    const VALUE: &str = "maxConcurrentReconciles=4";
    let name = match path {
        CrdPath::CrdChart => "upgrade",
        CrdPath::TakeOver => "takeover",
    };
    let (cp, audit_log) = audited_control_plane(name, false);
    let kubeconfig = cp.kubeconfig();
    let helm_on = |args: &[&str]| {
        run(helm().args(args).arg("--kubeconfig").arg(&kubeconfig), None)
            .unwrap_or_else(|e| panic!("helm {}:\n{e}", args.join(" ")))
    };
    let ns = cp.namespace(&format!("kop-{name}")).await;
    let apps = cp.namespace(&format!("kop-{name}-apps")).await;
    let previous = previous_chart();
    let previous = previous.to_str().unwrap();
    let previous_crds = previous_crd_chart();
    let previous_crds = previous_crds.to_str().unwrap();

    // 0.1.0, as its README installs it, with a value of the user's own (a values file, or
    // --set).
    let values_dir = tempfile::tempdir().expect("a temporary directory");
    let values = values_dir.path().join("values.yaml");
    std::fs::write(&values, "maxConcurrentReconciles: 4\n").expect("the values file");
    let values = values.to_str().unwrap();
    match path {
        CrdPath::CrdChart => {
            helm_on(&["install", "kop-crds", previous_crds, "-n", &ns]);
            wait_established(&cp);
            helm_on(&[
                "install",
                "kop",
                previous,
                "-n",
                &ns,
                "--skip-crds",
                "-f",
                values,
            ]);
        }
        CrdPath::TakeOver => {
            helm_on(&["install", "kop", previous, "-n", &ns, "--set", VALUE]);
            wait_established(&cp);
        }
    }
    let mut installed = vec![("kop".to_owned(), chart_ref(&previous_chart()))];
    if let CrdPath::CrdChart = path {
        installed.push(("kop-crds".to_owned(), chart_ref(&previous_crd_chart())));
    }
    assert_eq!(release_charts(&cp, &ns), installed);
    let analytics_crd = "analyticsapplications.kinesis.operator.dev";
    assert!(
        !status_has(&cp, analytics_crd, "lastFailure"),
        "0.1.0's CRDs are installed"
    );

    let emulator = support::emulator::start_default().await;
    let aws = Aws {
        kinesis: support::emulator::kinesis(&emulator),
        firehose: support::emulator::firehose(&emulator),
        iam: iam(&emulator),
    };
    create_role(&aws.iam, "app").await;
    support::emulator::s3(&emulator)
        .create_bucket()
        .bucket("clicks-archive")
        .send()
        .await
        .expect("CreateBucket clicks-archive");
    let old = Deployed::of(&release_manifest(&cp, "kop", &ns), "kop");
    let operator = old.start(&cp, &ns, &emulator.endpoint_url()).await;

    let admin = cp.admin().await;
    let streams: Api<KinesisStream> = Api::namespaced(admin.clone(), &apps);
    let deliveries: Api<DeliveryStream> = Api::namespaced(admin.clone(), &apps);
    let policies: Api<StreamPolicy> = Api::namespaced(admin.clone(), &apps);
    apply(
        &streams,
        "clicks",
        json!({"shardCount": 1, "tags": {"team": "web"}}),
    )
    .await;
    apply(
        &deliveries,
        "clicks-archive",
        json!({
            "source": {"kinesisStream": {"streamRef": {"name": "clicks"}, "roleARN": ROLE}},
            "destination": {"s3": {"bucketARN": "arn:aws:s3:::clicks-archive", "roleARN": ROLE,
                                   "prefix": "clicks/"}},
            "tags": {"team": "web"}
        }),
    )
    .await;
    apply(
        &policies,
        "clicks-read",
        json!({
            "statements": [{"streams": [{"streamRef": {"name": "clicks"}}], "access": ["Read"]}],
            "attachToRoles": ["app"]
        }),
    )
    .await;
    let clicks = wait_until(&streams, "clicks", "Ready", is_ready).await;
    wait_until(&deliveries, "clicks-archive", "Ready", is_ready).await;
    wait_until(&policies, "clicks-read", "Ready", is_ready).await;
    let objects_before = object_states(&admin, &apps).await;
    assert_eq!(
        objects_before.keys().collect::<Vec<_>>(),
        [
            "DeliveryStream clicks-archive",
            "KinesisStream clicks",
            "StreamPolicy clicks-read"
        ]
    );
    for (object, state) in &objects_before {
        assert!(state.contains("Ready=True"), "{object}: {state}");
    }
    let aws_before = aws.resources().await;
    assert_eq!(
        aws_before.keys().collect::<Vec<_>>(),
        [
            "Firehose delivery stream clicks-archive",
            "IAM policy clicks-read",
            "Kinesis stream clicks"
        ],
        "the objects' AWS resources: {aws_before:#?}"
    );
    // The counters the upgraded operator is judged by count this one's creations.
    let (calls, _) = calls_and_reconciles(&operator).await;
    let created = writes(&calls);
    for op in ["CreateStream", "CreateDeliveryStream", "CreatePolicy"] {
        assert!(
            created.contains_key(op),
            "the operator before the upgrade called {op}: {calls:?}"
        );
    }
    stop_operator(operator).await;

    let user = format!("system:serviceaccount:{ns}:{}", old.service_account);
    let refused_before: BTreeSet<String> = audited_requests(&audit_log, &user, 0)
        .into_iter()
        .filter(|r| r.code == 403)
        .map(|r| r.pair.1)
        .collect();
    assert_eq!(
        refused_before,
        BTreeSet::from(["analyticsapplications".to_owned()]),
        "before the upgrade only the kind 0.1.0 did not reconcile is refused"
    );
    let upgraded_from = audit_log_end(&audit_log);

    // From here on every version of every object is seen.
    let unready = Arc::new(Mutex::new(Vec::new()));
    let watches = [
        record_unready(streams.clone(), unready.clone()),
        record_unready(deliveries.clone(), unready.clone()),
        record_unready(policies.clone(), unready.clone()),
    ];

    // The upgrade, the CRDs first.
    let crds = crd_chart();
    let crds = crds.to_str().unwrap();
    match path {
        CrdPath::CrdChart => helm_on(&["upgrade", "kop-crds", crds, "-n", &ns]),
        CrdPath::TakeOver => helm_on(&["install", "kop-crds", crds, "-n", &ns, "--take-ownership"]),
    };
    wait_established(&cp);
    assert!(
        status_has(&cp, analytics_crd, "lastFailure"),
        "the CRD chart upgraded the CRDs"
    );
    let crd: Value = serde_json::from_str(
        &run(
            cp.kubectl()
                .args(["get", "crd", analytics_crd, "-o", "json"]),
            None,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        crd["metadata"]["annotations"]["meta.helm.sh/release-name"], "kop-crds",
        "the CRD chart owns the CRDs"
    );
    assert_eq!(
        crd["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    let current = chart();
    let upgrade = [
        "upgrade",
        "kop",
        current.to_str().unwrap(),
        "-n",
        &ns,
        "--skip-crds",
    ];
    match path {
        CrdPath::CrdChart => helm_on(&[&upgrade[..], &["-f", values]].concat()),
        CrdPath::TakeOver => {
            // --reuse-values renders this version with 0.1.0's values, which lack the keys
            // added since: refused, naming the key and the fix, before anything changes.
            let refused = run(
                helm()
                    .args(upgrade)
                    .arg("--reuse-values")
                    .arg("--kubeconfig")
                    .arg(&kubeconfig),
                None,
            )
            .expect_err("helm upgrade --reuse-values from 0.1.0 is refused");
            assert!(
                refused.contains("leaderElection.leaseDuration is missing")
                    && refused.contains("upgrade with --reset-then-reuse-values"),
                "{refused}"
            );
            assert_eq!(
                release_charts(&cp, &ns)[0],
                ("kop".to_owned(), chart_ref(&previous_chart())),
                "the refused upgrade left the release as it was"
            );
            helm_on(&[&upgrade[..], &["--reset-then-reuse-values"]].concat())
        }
    };
    assert_eq!(
        release_charts(&cp, &ns),
        [
            ("kop".to_owned(), chart_ref(&chart())),
            ("kop-crds".to_owned(), chart_ref(&crd_chart()))
        ]
    );
    let new = Deployed::of(&release_manifest(&cp, "kop", &ns), "kop");
    assert!(
        new.args
            .contains(&"--leader-elect-lease-duration=15s".to_owned())
            && !old
                .args
                .iter()
                .any(|a| a.starts_with("--leader-elect-lease-duration")),
        "the operator runs the upgraded Deployment's arguments: {:?}",
        new.args
    );
    for deployed in [&old, &new] {
        assert!(
            deployed
                .args
                .contains(&"--max-concurrent-reconciles=4".to_owned()),
            "the release's own value {VALUE} is kept: {:?}",
            deployed.args
        );
    }
    let operator = new.start(&cp, &ns, &emulator.endpoint_url()).await;

    // The new operator has been through every object twice (its first pass and a resync).
    let settled = wait_for(Duration::from_secs(30), || async {
        let (_, reconciles) = calls_and_reconciles(&operator).await;
        ["KinesisStream", "DeliveryStream", "StreamPolicy"]
            .iter()
            .all(|k| reconciles.get(*k).copied().unwrap_or(0) >= 2)
            .then_some(())
    })
    .await;
    let (calls, reconciles) = calls_and_reconciles(&operator).await;
    assert!(
        settled.is_some(),
        "the upgraded operator did not reconcile every kind twice within 30 s: {reconciles:?}\n{}",
        operator.log_text()
    );
    assert_eq!(
        *unready.lock().unwrap(),
        Vec::<String>::new(),
        "an object was not Ready, or deleted, during the upgrade"
    );
    assert_eq!(
        object_states(&admin, &apps).await,
        objects_before,
        "the objects' conditions changed in the upgrade"
    );
    assert_eq!(
        aws.resources().await,
        aws_before,
        "an AWS resource was re-created, deleted or changed"
    );
    assert_eq!(
        writes(&calls),
        BTreeMap::new(),
        "the upgraded operator changed something in AWS (all calls: {calls:?})"
    );

    // The upgraded operator still acts on a spec change.
    apply(
        &streams,
        "clicks",
        json!({"shardCount": 1, "tags": {"team": "web", "release": "0.2.0"}}),
    )
    .await;
    let changed = wait_until(&streams, "clicks", "Ready at generation 2", |o| {
        is_ready(o) && o.metadata.generation == Some(2)
    })
    .await;
    let tags: BTreeMap<String, String> = aws
        .kinesis
        .list_tags_for_stream()
        .stream_name("clicks")
        .send()
        .await
        .expect("ListTagsForStream")
        .tags
        .into_iter()
        .map(|t| (t.key, t.value.unwrap_or_default()))
        .collect();
    assert_eq!(
        tags.get("release").map(String::as_str),
        Some("0.2.0"),
        "the new tag reached the stream: {tags:?}"
    );
    assert_eq!(
        condition(&changed, "Ready").map(|c| &c.last_transition_time),
        condition(&clicks, "Ready").map(|c| &c.last_transition_time),
        "Ready did not transition for a tag change"
    );
    // The watch saw the stream's version that was not yet Ready for generation 2: it would
    // have seen a flap during the upgrade.
    let changing = |seen: &String| {
        seen.starts_with("KinesisStream clicks: ") && seen.contains("generation Some(2)")
    };
    wait_for(Duration::from_secs(10), || async {
        unready.lock().unwrap().iter().any(changing).then_some(())
    })
    .await
    .expect("the watch saw the stream at generation 2 before it was Ready");
    for w in &watches {
        w.abort();
    }
    assert_eq!(aws.resources().await, aws_before);
    let (calls, _) = calls_and_reconciles(&operator).await;
    assert_eq!(
        writes(&calls).into_keys().collect::<Vec<_>>(),
        ["AddTagsToStream"],
        "a tag change adds the tag, and nothing else changes (all calls: {calls:?})"
    );

    let log = stop_operator(operator).await;
    let lower = log.to_lowercase();
    assert!(
        !lower.contains("forbidden") && !lower.contains(" 403"),
        "the upgraded operator met a refusal:\n{log}"
    );
    let refused: Vec<String> = audited_requests(&audit_log, &user, upgraded_from)
        .iter()
        .filter(|r| r.code == 403)
        .map(|r| format!("{:?} {}", r.pair, r.uri))
        .collect();
    assert!(
        refused.is_empty(),
        "requests refused after the upgrade: {refused:#?}"
    );
    emulator.shutdown().await;
}

/// The CRD chart path: both charts installed at 0.1.0, both upgraded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_upgrade_from_the_previous_release_keeps_aws_resources_and_conditions() {
    helm_upgrade_keeps_aws_resources_and_conditions(CrdPath::CrdChart).await;
}

/// The takeover path: 0.1.0 installed with the operator chart's own crds/; the upgrade lets
/// the CRD chart take them over (`--take-ownership`) and upgrades the operator chart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_upgrade_from_the_previous_release_taking_the_crds_over_keeps_everything() {
    helm_upgrade_keeps_aws_resources_and_conditions(CrdPath::TakeOver).await;
}
