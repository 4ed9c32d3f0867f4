//! A real Kubernetes control plane for a test binary, the way controller-runtime's envtest
//! provides one: etcd + kube-apiserver (built by `make tools`) on free loopback ports, started
//! once per test binary by `tools/cluster.sh` with the CRDs of this crate installed.
//!
//! Teardown is owned by the script's watchdog, which stops the control plane and removes its
//! directory as soon as the test process exits, whether the tests passed, panicked or the
//! process was killed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Where the crate lives; the scripts and binaries are found from here.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A running control plane shared by every test of one test binary.
pub struct ControlPlane {
    dir: PathBuf,
}

static CONTROL_PLANE: OnceLock<ControlPlane> = OnceLock::new();

/// The control plane of this test binary, started (and the CRDs installed) on first use.
///
/// Panics with the reason, and what to do, when it cannot start: missing binaries say to run
/// `make tools`. A test that needs the control plane therefore fails; it is never skipped.
pub fn control_plane() -> &'static ControlPlane {
    CONTROL_PLANE.get_or_init(|| {
        // Start on a plain thread: the caller may be inside a tokio runtime, and installing
        // the CRDs needs one of its own.
        std::thread::spawn(ControlPlane::start)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl ControlPlane {
    fn start() -> ControlPlane {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("envtest-{}", std::process::id()));
        ControlPlane::start_in(dir, &[], true)
    }

    /// A control plane of its own (not the shared one of [`control_plane`]), its kube-apiserver
    /// started with the extra flags `apiserver_args` (e.g. an audit policy), the CRDs
    /// installed; stopped when the test process exits. `name` tells it apart from the others
    /// of the process. Call it from a plain thread or outside any tokio runtime.
    pub fn dedicated(name: &str, apiserver_args: &[String]) -> ControlPlane {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("envtest-{}-{name}", std::process::id()));
        ControlPlane::start_in(dir, apiserver_args, true)
    }

    /// A control plane of its own without this crate's CRDs (e.g. to install an older
    /// version of them first); otherwise as [`ControlPlane::dedicated`].
    pub fn bare(name: &str, apiserver_args: &[String]) -> ControlPlane {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("envtest-{}-{name}", std::process::id()));
        ControlPlane::start_in(dir, apiserver_args, false)
    }

    fn start_in(dir: PathBuf, apiserver_args: &[String], install_crds: bool) -> ControlPlane {
        for tool in ["etcd", "kube-apiserver", "kubectl"] {
            let path = tools_bin().join(tool);
            assert!(
                path.is_file(),
                "{} is missing: run `make tools` to build the local control plane binaries \
                 (tests need a real kube-apiserver and are never skipped)",
                path.display()
            );
        }
        let out = Command::new(Path::new(ROOT).join("tools/cluster.sh"))
            .arg("up")
            .arg(&dir)
            .arg("--owner-pid")
            .arg(std::process::id().to_string())
            .args(
                apiserver_args
                    .iter()
                    .flat_map(|a| ["--apiserver-arg", a.as_str()]),
            )
            .output()
            .expect("running tools/cluster.sh");
        assert!(
            out.status.success(),
            "tools/cluster.sh up failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cp = ControlPlane { dir };
        if !install_crds {
            return cp;
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(cp.install_crds());
        cp
    }

    /// Installs every CRD of the crate with server-side apply and waits until each is
    /// Established.
    async fn install_crds(&self) {
        let client = self.admin().await;
        let api: Api<CustomResourceDefinition> = Api::all(client);
        let pp = PatchParams::apply("envtest").force();
        for (_, crd) in kinesis_operator::api::crds() {
            let name = crd.metadata.name.clone().expect("CRDs are named");
            api.patch(&name, &pp, &kube::api::Patch::Apply(&crd))
                .await
                .unwrap_or_else(|e| panic!("installing CRD {name}: {e}"));
        }
        for (_, crd) in kinesis_operator::api::crds() {
            let name = crd.metadata.name.expect("CRDs are named");
            wait_for(Duration::from_secs(30), || async {
                let crd = api.get(&name).await.ok()?;
                crd.status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            })
            .await
            .unwrap_or_else(|| panic!("CRD {name} was not Established within 30 s"));
        }
    }

    /// Path of the admin kubeconfig (user `admin` in `system:masters`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// A client with cluster-admin rights.
    pub async fn admin(&self) -> Client {
        client_from_kubeconfig(&self.kubeconfig()).await
    }

    /// A client authenticated as user `name` in `groups`, by a client certificate signed by
    /// the control plane's CA. RBAC decides what it may do.
    pub async fn user(&self, name: &str, groups: &[&str]) -> Client {
        let out = Command::new(Path::new(ROOT).join("tools/cluster.sh"))
            .arg("user")
            .arg(&self.dir)
            .arg(name)
            .args(groups)
            .output()
            .expect("running tools/cluster.sh user");
        assert!(
            out.status.success(),
            "tools/cluster.sh user failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8(out.stdout).expect("a path");
        client_from_kubeconfig(Path::new(path.trim())).await
    }

    /// A client authenticated as ServiceAccount `namespace/name` (created if missing) with a
    /// token from the TokenRequest API.
    pub async fn service_account(&self, namespace: &str, name: &str) -> Client {
        let kubeconfig = self.service_account_kubeconfig(namespace, name).await;
        client_from_kubeconfig(&kubeconfig).await
    }

    /// A kubeconfig file (for a process: kubectl, helm, the operator binary) authenticated as
    /// ServiceAccount `namespace/name` (created if missing) with a token from the TokenRequest
    /// API, valid for an hour.
    pub async fn service_account_kubeconfig(&self, namespace: &str, name: &str) -> PathBuf {
        let admin = self.admin().await;
        let sas: Api<ServiceAccount> = Api::namespaced(admin, namespace);
        let sa = ServiceAccount {
            metadata: kube::api::ObjectMeta {
                name: Some(name.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        match sas.create(&PostParams::default(), &sa).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => panic!("creating ServiceAccount {namespace}/{name}: {e}"),
        }
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![],
                expiration_seconds: Some(3600),
                ..Default::default()
            },
            ..Default::default()
        };
        let token = sas
            .create_token_request(name, &PostParams::default(), &request)
            .await
            .unwrap_or_else(|e| panic!("requesting a token for {namespace}/{name}: {e}"))
            .status
            .expect("a TokenRequest answer has a status")
            .token;
        let mut kubeconfig = Kubeconfig::read_from(self.kubeconfig()).expect("admin kubeconfig");
        for user in &mut kubeconfig.auth_infos {
            if let Some(auth) = user.auth_info.as_mut() {
                auth.client_certificate_data = None;
                auth.client_key_data = None;
                auth.token = Some(token.clone().into());
            }
        }
        let users = self.dir.join("users");
        std::fs::create_dir_all(&users).expect("the users directory");
        let path = users.join(format!("sa-{namespace}-{name}.kubeconfig"));
        let yaml = serde_norway::to_string(&kubeconfig).expect("a kubeconfig serialises");
        std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// The directory holding its kubeconfig, logs and data.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a namespace named `<prefix>-<random>` and returns its name. Tests use one each
    /// so that they do not see each other's objects.
    pub async fn namespace(&self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", random_suffix());
        let api: Api<Namespace> = Api::all(self.admin().await);
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        api.create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        name
    }

    /// `kubectl` from `make tools`, pointed at this control plane.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(tools_bin().join("kubectl"));
        cmd.env("KUBECONFIG", self.kubeconfig());
        cmd
    }
}

/// `target/tools/bin`, where `make tools` puts the binaries.
pub fn tools_bin() -> PathBuf {
    Path::new(ROOT).join("target/tools/bin")
}

async fn client_from_kubeconfig(path: &Path) -> Client {
    let kubeconfig =
        Kubeconfig::read_from(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("client config from {}: {e}", path.display()));
    Client::try_from(config).expect("a kube client")
}

/// Polls `check` every 100 ms until it returns `Some`, or `None` after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Eight lowercase hex digits, different on every call.
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:08x}", h.finish() as u32)
}
