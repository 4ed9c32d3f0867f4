//! What users watch the operator with, on the real tools: the chart's alert rules
//! (`charts/kinesis-operator/files/alerts.yaml`) pass `promtool check rules` and their unit tests
//! (`promtool test rules`, a firing and a silent case for every alert); every query of the
//! Grafana dashboard (`files/dashboard.json`) parses; and a real Prometheus (Debian's package,
//! unpacked by `make tools`) scrapes the real operator binary through an object's lifecycle:
//! the operator's series arrive, the alert rules evaluate without error against them, the
//! Stalled alert goes pending for a Stalled object, and every metric the rules and the
//! dashboard name is one the operator exports.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kinesis_operator::api::KinesisStream;
use kube::api::Api;
use serde_json::{Value, json};
use support::emulator::start_default;
use support::envtest::{control_plane, tools_bin, wait_for};
use support::operator::{apply, is_ready, is_stalled, wait_until};
use support::process::OperatorProcess;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn alerts_file() -> PathBuf {
    Path::new(ROOT).join("charts/kinesis-operator/files/alerts.yaml")
}

fn alerts_tests() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/prometheus/alerts_test.yaml")
}

fn dashboard_file() -> PathBuf {
    Path::new(ROOT).join("charts/kinesis-operator/files/dashboard.json")
}

/// `promtool <args>`: its output, or the output as the error when it fails.
fn promtool(args: &[&str]) -> Result<String, String> {
    let out = Command::new(tools_bin().join("promtool"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("promtool (run `make tools`): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every rule of the rules file: (alert name, expression).
fn alert_rules() -> Vec<(String, String)> {
    yaml(&alerts_file())["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .map(|r| {
            (
                r["alert"].as_str().expect("an alert").to_owned(),
                r["expr"].as_str().expect("an expr").to_owned(),
            )
        })
        .collect()
}

/// Every panel query of the dashboard, with Grafana's `$__rate_interval` replaced by a
/// duration (it is Grafana's, not PromQL).
fn dashboard_queries() -> Vec<(String, String)> {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(dashboard_file()).unwrap()).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().unwrap_or_default();
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("every target has an expr");
            queries.push((title.to_owned(), expr.replace("$__rate_interval", "1m")));
        }
    }
    queries
}

/// The `kinesis_operator_*` metric names in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let re = regex_lite::Regex::new(r"\bkinesis_operator_[a-z0-9_]+").unwrap();
    re.find_iter(expr).map(|m| m.as_str().to_owned()).collect()
}

/// The alert rules pass `promtool check rules` and their unit tests; the unit tests give every
/// alert of the file a case where it fires and one where it must stay silent.
#[test]
fn alert_rules_pass_promtool_check_and_unit_tests() {
    let alerts = alerts_file();
    let out = promtool(&["check", "rules", alerts.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("promtool check rules:\n{e}"));
    let rules = alert_rules();
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", rules.len())),
        "{out}"
    );
    assert_eq!(rules.len(), 4, "stalled, AWS errors, latency, leader");

    let tests = alerts_tests();
    let out = promtool(&["test", "rules", tests.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("promtool test rules:\n{e}"));
    assert!(out.contains("SUCCESS"), "{out}");

    let cases: Vec<(String, bool)> = yaml(&tests)["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            let fires = c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
            (c["alertname"].as_str().unwrap().to_owned(), fires)
        })
        .collect();
    for (alert, _) in &rules {
        for fires in [true, false] {
            assert!(
                cases.contains(&(alert.clone(), fires)),
                "{}: no case where {alert} {}",
                tests.display(),
                if fires { "fires" } else { "stays silent" }
            );
        }
    }
}

/// Every dashboard query parses: each becomes a recording rule of a rules file that
/// `promtool check rules` accepts; the same check refuses a broken query (so it is live).
#[test]
fn dashboard_queries_parse() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 8, "{queries:?}");
    let dir = tempfile::tempdir().unwrap();
    let rules_file = |queries: &[(String, String)]| -> PathBuf {
        let rules: Vec<Value> = queries
            .iter()
            .enumerate()
            .map(|(i, (_, expr))| json!({"record": format!("dashboard:query_{i}"), "expr": expr}))
            .collect();
        let path = dir.path().join(format!("dashboard-{}.yaml", queries.len()));
        let doc = json!({"groups": [{"name": "dashboard", "rules": rules}]});
        std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
        path
    };
    let path = rules_file(&queries);
    let out = promtool(&["check", "rules", path.to_str().unwrap()]).unwrap_or_else(|e| {
        panic!("a dashboard query does not parse:\n{e}\nqueries: {queries:#?}")
    });
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{out}"
    );
    let broken = [(
        "broken".to_owned(),
        "sum by (kind (kinesis_operator_objects)".to_owned(),
    )];
    let refused = promtool(&["check", "rules", rules_file(&broken).to_str().unwrap()]);
    assert!(
        refused.is_err(),
        "promtool accepted a broken query: {refused:?}"
    );
}

/// `s` percent-encoded for a URL query.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A running `prometheus` binary with its data in a temporary directory; killed when dropped.
struct Prometheus {
    _child: tokio::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `/metrics` on 127.0.0.1:`target` every second as job
    /// `kinesis-operator`, evaluating the chart's alert rules every second.
    async fn start(target: u16) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("prometheus.yml");
        let doc = json!({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [alerts_file()],
            "scrape_configs": [{
                "job_name": "kinesis-operator",
                "static_configs": [{"targets": [format!("127.0.0.1:{target}")]}],
            }],
        });
        std::fs::write(&config, serde_json::to_string(&doc).unwrap()).unwrap();
        let port = support::free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = tokio::process::Command::new(tools_bin().join("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("prometheus (run `make tools`): {e}"));
        let prometheus = Prometheus {
            _child: child,
            port,
            dir,
        };
        wait_for(Duration::from_secs(30), || async {
            prometheus.get("/-/ready").await.map(|_| ())
        })
        .await
        .unwrap_or_else(|| panic!("Prometheus never ready:\n{}", prometheus.log()));
        prometheus
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The body of `GET path` when the answer is 200.
    async fn get(&self, path: &str) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut text = String::new();
        conn.read_to_string(&mut text).await.ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.0 200")
            .then(|| body.to_owned())
            .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_owned()))
    }

    /// `GET /api/v1/<what>` as JSON `data`.
    async fn api(&self, what: &str) -> Value {
        let body = self
            .get(&format!("/api/v1/{what}"))
            .await
            .unwrap_or_else(|| panic!("GET /api/v1/{what} failed:\n{}", self.log()));
        let v: Value = serde_json::from_str(&body).expect("Prometheus answers JSON");
        assert_eq!(v["status"], "success", "{v}");
        v["data"].clone()
    }

    /// The instant query `promql`'s samples: (labels, value).
    async fn query(&self, promql: &str) -> Vec<(Value, f64)> {
        let data = self.api(&format!("query?query={}", encode(promql))).await;
        data["result"]
            .as_array()
            .expect("a vector")
            .iter()
            .map(|s| {
                let value = s["value"][1].as_str().unwrap().parse().unwrap();
                (s["metric"].clone(), value)
            })
            .collect()
    }
}

/// A real Prometheus scrapes the real operator binary while a KinesisStream becomes Ready and
/// another Stalled (600 shards, over the account's limit): `up` is 1, the reconcile counter
/// and the objects gauge arrive; every alert rule evaluates with health `ok`; the Stalled
/// alert's expression returns the Stalled kind and the alert is pending (it fires after 15
/// minutes); the dashboard's queries return data; every metric the rules and the dashboard
/// name is on the operator's `/metrics`.
#[tokio::test]
async fn prometheus_scrapes_the_operator_and_evaluates_the_alerts() {
    let cp = control_plane();
    let ns = cp.namespace("observe").await;
    let emulator = start_default().await;
    let operator =
        OperatorProcess::start(&cp.kubeconfig(), &emulator.endpoint_url(), &ns, &[], &[]);
    let prometheus = Prometheus::start(operator.metrics_port()).await;

    let api: Api<KinesisStream> = Api::namespaced(cp.admin().await, &ns);
    apply(&api, "clicks", json!({"shardCount": 1})).await;
    apply(&api, "too-big", json!({"shardCount": 600})).await;
    wait_until(&api, "clicks", "Ready", is_ready).await;
    wait_until(&api, "too-big", "Stalled", is_stalled).await;

    let scraped = wait_for(Duration::from_secs(30), || async {
        let up = prometheus.query(r#"up{job="kinesis-operator"} == 1"#).await;
        let reconciles = prometheus
            .query("sum(kinesis_operator_reconciles_total) > 0")
            .await;
        let stalled = prometheus
            .query(r#"kinesis_operator_objects{condition="Stalled"} == 1"#)
            .await;
        (up.len() == 1 && reconciles.len() == 1 && stalled.len() == 1).then_some(reconciles)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "Prometheus never had the operator's series; operator log:\n{}\nPrometheus log:\n{}",
            operator.log_text(),
            prometheus.log()
        )
    });
    assert!(scraped[0].1 >= 2.0, "{scraped:?}");

    // The Stalled alert's expression, evaluated by Prometheus on the scraped series.
    let (_, stalled_expr) = alert_rules()
        .into_iter()
        .find(|(name, _)| name == "KinesisOperatorObjectsStalled")
        .unwrap();
    let result = prometheus.query(&stalled_expr).await;
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0].0, json!({"kind": "KinesisStream"}));
    assert_eq!(result[0].1, 1.0);

    // Prometheus evaluates the loaded rules: every one healthy, the Stalled alert pending.
    let pending = wait_for(Duration::from_secs(30), || async {
        let alerts = prometheus.api("alerts").await;
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["alertname"] == "KinesisOperatorObjectsStalled")
            .cloned()
    })
    .await
    .expect("KinesisOperatorObjectsStalled becomes pending");
    assert_eq!(pending["state"], "pending", "{pending}");
    assert_eq!(pending["labels"]["kind"], "KinesisStream");
    let rules = prometheus.api("rules").await;
    let evaluated: Vec<&Value> = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(evaluated.len(), alert_rules().len());
    for rule in &evaluated {
        assert_eq!(rule["health"], "ok", "{rule}");
        assert!(rule["lastEvaluation"].as_str().is_some(), "{rule}");
    }
    // The leader alert may be pending from an evaluation that ran before the first scrape
    // (its expression falls back to 0 when the series is missing); once Prometheus has
    // evaluated it on the scraped `kinesis_operator_leader` it must be inactive.
    let no_leader = wait_for(Duration::from_secs(30), || async {
        let rules = prometheus.api("rules").await;
        let rule = rules["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .find(|r| r["name"] == "KinesisOperatorNoLeader")
            .cloned()
            .expect("the NoLeader rule is loaded");
        (rule["state"] == "inactive").then_some(rule)
    })
    .await;
    assert!(
        no_leader.is_some(),
        "a running leader is not absent: {:?}",
        prometheus.api("rules").await
    );

    // Every dashboard query returns data on the real series; but the error ratio and the
    // throttling, which have none while no AWS call failed or was throttled.
    for (title, expr) in dashboard_queries() {
        if title == "AWS error ratio" || title == "AWS throttling" {
            continue;
        }
        let found = wait_for(Duration::from_secs(10), || async {
            let r = prometheus.query(&expr).await;
            (!r.is_empty()).then_some(r)
        })
        .await;
        assert!(
            found.is_some(),
            "dashboard panel {title:?}: no data for {expr}"
        );
    }

    // Every metric the rules and the dashboard name is one the operator exports.
    let exported: BTreeSet<String> = operator
        .metrics_text()
        .await
        .expect("the operator serves /metrics")
        .split_once("\r\n\r\n")
        .expect("an HTTP response")
        .1
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let named: BTreeSet<String> = alert_rules()
        .iter()
        .map(|(_, expr)| expr.clone())
        .chain(dashboard_queries().into_iter().map(|(_, expr)| expr))
        .flat_map(|expr| metric_names(&expr))
        .collect();
    assert!(named.len() >= 4, "{named:?}");
    let unknown: Vec<&String> = named.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "named by the rules or the dashboard but not exported: {unknown:?}\nexported: {exported:?}"
    );
    drop(prometheus);
    drop(operator);
    emulator.shutdown().await;
}
