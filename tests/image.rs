//! The container image as `make image` assembles it (`tools/image.py`): an OCI layout that a
//! real OCI tool (umoci, Debian's package from `make tools`) reads and unpacks, whose binary
//! runs as the non-root user with the CA bundle, that is the same bytes when built twice, and
//! whose SBOM lists the crates Cargo.lock pins. The test assembles it around the test build's
//! binary (`make image` uses the static release one; assembling is the same).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::envtest::tools_bin;

/// Runs tools/image.py for the test binary into `out`, returning what it printed.
fn assemble(out: &Path) -> Value {
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
    let output = Command::new("python3")
        .arg(root.join("tools/image.py"))
        .args(["--binary", env!("CARGO_BIN_EXE_kinesis-operator")])
        .args(["--version", "0.0.0-test", "--epoch", "1765000000"])
        .arg("--ca-dir")
        .arg(&ca)
        .arg("--out")
        .arg(out)
        .current_dir(root)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "tools/image.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("image.py prints JSON")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_image_is_reproducible_readable_by_umoci_runs_as_nonroot_and_has_its_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = assemble(&a);
    let second = assemble(&b);
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
    let unpacked = Command::new(&umoci)
        .args(["unpack", "--rootless", "--image", &image])
        .arg(&bundle)
        .output()
        .expect("umoci runs");
    assert!(
        unpacked.status.success(),
        "umoci unpack (checks every blob's digest): {}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
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
