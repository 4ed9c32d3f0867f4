//! The container images as `make image` assembles them (`tools/image.py`): an OCI layout that
//! a real OCI tool (umoci, Debian's package from `make tools`) reads and unpacks, whose binary
//! runs as the non-root user with the CA bundle, that is the same bytes when built twice, and
//! whose SBOM lists the crates Cargo.lock pins; and the emulator's `-flink` image, run the way
//! the chart runs it (its Deployment's arguments, the image's environment and user, a
//! read-only image with /tmp and /data writable, in its own mount and PID namespaces, chrooted
//! into the unpacked root filesystem), running the tutorial's filter on real Flink with the
//! image's own Java. The tests assemble them around the test build's binary (`make image`
//! uses the static release one; assembling is the same).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::envtest::tools_bin;

/// Runs tools/image.py for the test binary into `out`, returning what it printed; with
/// `flink`, the `-flink` image too (the runner jar of `make runner-flink` and the Java packages
/// `make tools` unpacked).
fn assemble(out: &Path, flink: bool) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ca = std::fs::read_dir(root.join("target/tools"))
        .expect("target/tools (make tools)")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("ca-certificates-"))
        })
        .expect("Debian's ca-certificates unpacked by make tools");
    let mut command = Command::new("python3");
    command
        .arg(root.join("tools/image.py"))
        .args(["--binary", env!("CARGO_BIN_EXE_kinesis-operator")])
        .args(["--version", "0.0.0-test", "--epoch", "1765000000"])
        .arg("--ca-dir")
        .arg(&ca)
        .arg("--out")
        .arg(out)
        .current_dir(root);
    if flink {
        command
            .arg("--flink-runner")
            .arg(&support::flink::runners().runner)
            .arg("--jre-packages")
            .arg(root.join("target/tools/flink-image-packages.txt"));
    }
    let output = command.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "tools/image.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("image.py prints JSON")
}

/// `make image` asks for a static binary: a dynamically linked one (the test build is) is
/// refused before anything is written, naming the loader it asks for and how to build the
/// static one.
#[test]
fn a_dynamically_linked_binary_is_refused_for_the_image() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("python3")
        .arg(root.join("tools/image.py"))
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_kinesis-operator"),
            "--require-static",
        ])
        .args([
            "--version",
            "0.0.0-test",
            "--ca-dir",
            "/nonexistent",
            "--out",
        ])
        .arg(out.path().join("image"))
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    assert!(
        stderr.contains("is dynamically linked (it asks for /lib64/ld-linux-x86-64.so.2), but the image has no C library: build the static binary with `make build`"),
        "{stderr}"
    );
    assert!(!out.path().join("image").exists(), "nothing written");
}

/// Unpacks `image` (`LAYOUT:TAG`) with umoci into `bundle`, checking every blob's digest.
fn unpack(image: &str, bundle: &Path) {
    let unpacked = Command::new(tools_bin().join("umoci"))
        .args(["unpack", "--rootless", "--image", image])
        .arg(bundle)
        .output()
        .expect("umoci runs");
    assert!(
        unpacked.status.success(),
        "umoci unpack (checks every blob's digest): {}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_image_is_reproducible_readable_by_umoci_runs_as_nonroot_and_has_its_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = assemble(&a, false);
    let second = assemble(&b, false);
    assert_eq!(
        first["manifest_digest"], second["manifest_digest"],
        "the same inputs give the same image"
    );
    assert_eq!(
        read(a.join("kinesis-operator-0.0.0-test.oci.tar")),
        read(b.join("kinesis-operator-0.0.0-test.oci.tar")),
        "and the same archive, byte for byte"
    );

    let umoci = tools_bin().join("umoci");
    let image = format!("{}:0.0.0-test", a.join("oci").display());
    let stat = Command::new(&umoci)
        .args(["stat", "--json", "--image", &image])
        .output()
        .expect("umoci runs");
    assert!(
        stat.status.success(),
        "umoci stat: {}",
        String::from_utf8_lossy(&stat.stderr)
    );
    let bundle = dir.path().join("bundle");
    unpack(&image, &bundle);
    let rootfs = bundle.join("rootfs");
    let version = Command::new(rootfs.join("usr/local/bin/kinesis-operator"))
        .arg("version")
        .output()
        .expect("the image's binary runs");
    assert!(
        String::from_utf8_lossy(&version.stdout).starts_with("kinesis-operator "),
        "{version:?}"
    );
    let runtime: Value = serde_json::from_slice(&read(bundle.join("config.json"))).unwrap();
    assert_eq!(runtime["process"]["user"]["uid"], 65532, "non-root");
    assert_eq!(
        runtime["process"]["args"],
        serde_json::json!(["/usr/local/bin/kinesis-operator", "run"])
    );
    let env: Vec<&str> = runtime["process"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        env.contains(&"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"),
        "{env:?}"
    );
    let bundle_pem =
        String::from_utf8(read(rootfs.join("etc/ssl/certs/ca-certificates.crt"))).unwrap();
    assert!(
        bundle_pem.matches("BEGIN CERTIFICATE").count() > 100,
        "Debian's Mozilla CA bundle"
    );
    assert!(
        String::from_utf8(read(rootfs.join("etc/passwd")))
            .unwrap()
            .contains("nonroot:x:65532:65532"),
    );
    check_sbom(&a);
}

/// The SBOM `assemble` wrote into `dir` lists the crates Cargo.lock pins in the binary.
fn check_sbom(dir: &Path) {
    let sbom: Value =
        serde_json::from_slice(&read(dir.join("kinesis-operator-0.0.0-test.spdx.json"))).unwrap();
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    let lock = String::from_utf8(read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
    ))
    .unwrap();
    let locked = |name: &str| -> String {
        let at = lock
            .find(&format!("name = \"{name}\"\nversion = \""))
            .unwrap_or_else(|| panic!("{name} in Cargo.lock"));
        lock[at..].lines().nth(1).unwrap()["version = \"".len()..]
            .trim_end_matches('"')
            .to_owned()
    };
    let packages = sbom["packages"].as_array().unwrap();
    let version_of = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["versionInfo"].as_str().unwrap().to_owned())
    };
    for name in [
        "kube",
        "aws-sdk-kinesis",
        "aws-sdk-kinesisanalyticsv2",
        "tokio",
        "rustls",
    ] {
        assert_eq!(version_of(name), Some(locked(name)), "{name}");
    }
    assert_eq!(
        version_of("aws-sdk-s3"),
        None,
        "a dev-dependency is not in the binary"
    );
}

/// The emulator's container as a container runtime would start it from the `-flink` image:
/// its own mount and PID namespaces (the emulator is PID 1, so its JVMs die with it), /proc and
/// /dev mounted, chrooted into the unpacked root filesystem, as the image's user, with only
/// the image's and the Deployment's environment. Killed on drop.
struct Container {
    unshare: std::process::Child,
    log: PathBuf,
}

impl Container {
    fn start(
        rootfs: &Path,
        user: &str,
        env: &[(String, String)],
        args: &[String],
        log: PathBuf,
    ) -> Container {
        let host_tool = |name: &str| {
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{name} (util-linux / coreutils) on this machine"))
        };
        let (mount, chroot) = (host_tool("mount"), host_tool("chroot"));
        let quote = |p: &Path| format!("'{}'", p.display());
        // Root switches to the image's user; anyone else runs as root of a user namespace.
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let userspec = if root {
            format!("--userspec={user} ")
        } else {
            String::new()
        };
        let script = format!(
            "{mount} -t proc proc {proc} && {mount} --rbind /dev {dev} && exec {chroot} {userspec}{rootfs} \"$@\"",
            mount = quote(&mount),
            chroot = quote(&chroot),
            proc = quote(&rootfs.join("proc")),
            dev = quote(&rootfs.join("dev")),
            rootfs = quote(rootfs),
        );
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(host_tool("unshare"));
        if !root {
            command.args(["--user", "--map-root-user"]);
        }
        let unshare = command
            .args([
                "--mount",
                "--pid",
                "--fork",
                "/bin/sh",
                "-c",
                &script,
                "container",
            ])
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("unshare runs");
        Container { unshare, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Host PIDs of the container's processes (the emulator and the JVMs it started).
    fn processes(&self) -> Vec<i32> {
        let mut found = Vec::new();
        let mut todo = vec![self.unshare.id() as i32];
        while let Some(pid) = todo.pop() {
            // A child is listed under the thread that started it.
            let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
                .into_iter()
                .flatten();
            for task in tasks.filter_map(Result::ok) {
                let children =
                    std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
                for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                    found.push(child);
                    todo.push(child);
                }
            }
        }
        found
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // The emulator is the namespace's PID 1: killing it ends every process in it.
        for pid in self.processes() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// The chart's emulator Deployment rendered with `values`: its container.
fn chart_emulator_container(values: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(tools_bin().join("helm"))
        .args(["template", "r", "--namespace", "ops", "--set", values])
        .arg(root.join("charts/kinesis-operator"))
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let yaml = String::from_utf8(output.stdout).unwrap();
    yaml.split("\n---")
        .filter_map(|doc| serde_norway::from_str::<Value>(doc).ok())
        .find(|d| {
            d["kind"] == "Deployment" && d["metadata"]["name"] == "r-kinesis-operator-emulator"
        })
        .map(|d| d["spec"]["template"]["spec"]["containers"][0].clone())
        .expect("the emulator Deployment")
}

/// The `-flink` image runs a Managed Flink application as the chart deploys it: `make image`'s
/// second image (Debian's OpenJDK 17 and the Flink runner over the same first layer) unpacks
/// with umoci; started with the chart's emulator arguments and the image's own environment
/// and user, the emulator runs the tutorial's `LIKE '%error%'` filter with the image's Java
/// (the JVM's executable is inside the image) and exactly the error lines come out; its SBOM
/// names the Java packages and Flink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flink_image_runs_the_tutorial_filter_as_the_chart_starts_the_emulator() {
    use aws_sdk_kinesisanalyticsv2::types::{ApplicationRestoreType, ApplicationStatus};
    use support::flink::{
        client_at, configuration, create_app, create_stream, errors_of, expect_messages,
        kinesis_at, log_lines, put, start, wait_status,
    };

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("image");
    let report = assemble(&out, true);
    let flink = &report["images"]["0.0.0-test-flink"];
    assert_eq!(
        flink["reference"],
        "ghcr.io/kinesis-operator/kinesis-operator:0.0.0-test-flink"
    );
    // The chart's default emulator image is this one, for the same release.
    let container = chart_emulator_container("emulator.enabled=true,image.tag=0.0.0-test");
    assert_eq!(container["image"], flink["reference"]);

    let bundle = dir.path().join("bundle");
    unpack(
        &format!("{}:0.0.0-test-flink", out.join("oci").display()),
        &bundle,
    );
    let runtime: Value = serde_json::from_slice(&read(bundle.join("config.json"))).unwrap();
    let user = &runtime["process"]["user"];
    assert_eq!(user["uid"], 65532, "non-root");
    let rootfs = bundle.join("rootfs");
    assert!(
        rootfs
            .join("usr/lib/jvm/java-17-openjdk-amd64/bin/java")
            .is_file()
    );
    // Each Debian package's copyright file ships with it; its manuals and changelogs do not.
    for package in ["openjdk-17-jre-headless", "libc6", "gcc-12-base", "zlib1g"] {
        let copyright = rootfs.join("usr/share/doc").join(package).join("copyright");
        assert!(copyright.is_file(), "{}", copyright.display());
    }
    assert!(
        !rootfs
            .join("usr/share/doc/libc6/changelog.Debian.gz")
            .exists()
    );
    assert!(!rootfs.join("usr/share/man").exists());

    // What a container runtime adds: mount points, and the Deployment's writable volumes.
    for d in ["proc", "dev", "data"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::os::unix::fs::chown(rootfs.join("data"), Some(65532), Some(65532)).unwrap();
    // And, as the kubelet does, /etc/hosts naming the pod's host name (Flink's MiniCluster
    // resolves it) and the cluster's resolv.conf.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    std::fs::write(
        rootfs.join("etc/hosts"),
        format!("127.0.0.1\tlocalhost\n127.0.0.1\t{}\n", hostname.trim()),
    )
    .unwrap();
    if let Ok(resolv) = std::fs::read("/etc/resolv.conf") {
        std::fs::write(rootfs.join("etc/resolv.conf"), resolv).unwrap();
    }
    let mut env: Vec<(String, String)> = runtime["process"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for e in container["env"].as_array().unwrap() {
        env.push((
            e["name"].as_str().unwrap().to_owned(),
            e["value"].as_str().unwrap().to_owned(),
        ));
    }
    // The Deployment's arguments, listening on a free loopback port instead of the pod's 4566.
    let port = support::free_port();
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .map(|a| {
            if a.starts_with("--listen=") {
                format!("--listen=127.0.0.1:{port}")
            } else {
                a.to_owned()
            }
        })
        .collect();
    assert!(args.iter().any(|a| a == "--data-dir=/data"), "{args:?}");
    assert!(
        args.iter()
            .any(|a| a.starts_with("--analytics-memory-mib=")),
        "{args:?}"
    );
    let mut argv = vec!["/usr/local/bin/kinesis-operator".to_owned()];
    argv.extend(args);
    let user = format!("{}:{}", user["uid"], user["gid"]);
    let emulator = Container::start(&rootfs, &user, &env, &argv, dir.path().join("emulator.log"));

    let endpoint = format!("http://127.0.0.1:{port}");
    let kinesis = kinesis_at(&endpoint);
    let answered = support::envtest::wait_for(Duration::from_secs(30), || async {
        kinesis.list_streams().send().await.ok()
    })
    .await;
    assert!(
        answered.is_some(),
        "the emulator never answered:\n{}",
        emulator.log()
    );

    create_stream(&kinesis, "logs").await;
    create_stream(&kinesis, "errors").await;
    let client = client_at(&endpoint);
    let sql = support::flink::filter_sql("logs", "errors");
    create_app(&client, "filter", configuration(&sql, 1000, false)).await;
    start(
        &client,
        "filter",
        ApplicationRestoreType::SkipRestoreFromSnapshot,
    )
    .await;
    wait_status(&client, "filter", ApplicationStatus::Running).await;

    // The JVM running it is the image's Java, as the image's user.
    let jvm = emulator
        .processes()
        .into_iter()
        .find(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|exe| exe.ends_with("usr/lib/jvm/java-17-openjdk-amd64/bin/java"))
        })
        .unwrap_or_else(|| panic!("no Flink JVM in the container:\n{}", emulator.log()));
    let exe = std::fs::read_link(format!("/proc/{jvm}/exe")).unwrap();
    assert!(
        exe.starts_with(&rootfs),
        "{} is not the image's",
        exe.display()
    );

    let lines = log_lines(0, 30);
    put(&kinesis, "logs", &lines).await;
    expect_messages(&kinesis, "errors", &errors_of(&lines)).await;

    // The SBOM names what the image adds: Debian's Java and what the runner shades in.
    let sbom: Value = serde_json::from_slice(&read(
        out.join("kinesis-operator-0.0.0-test-flink.spdx.json"),
    ))
    .unwrap();
    let names: Vec<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "openjdk-17-jre-headless",
        "libc6",
        "org.apache.flink:flink-connector-kinesis",
        "kube",
    ] {
        assert!(names.contains(&name), "{name} in the -flink SBOM");
    }
    drop(emulator);
}
