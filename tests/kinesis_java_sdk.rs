//! Conformance of the emulated Kinesis with the real AWS SDKs for Java over CBOR
//! (`application/x-amz-cbor-1.1`, their default) and JSON: the Maven project in
//! `tests/java-sdk/` runs a scenario with the SDK for Java v2 (sync on `HttpURLConnection`,
//! async on Netty over HTTP/1.1 and HTTP/2) and v1 (`aws-java-sdk-kinesis`, the SDK of KCL 1.x
//! and Flink's Kinesis source) against a fresh emulator, and exits non-zero at the first
//! mismatch.
//!
//! Needs a JDK (17 or later) and Maven on `PATH`. The first build downloads the SDKs from Maven
//! Central into `~/.m2`; later builds need no network. Build output goes to
//! `<cargo target dir>/java-sdk`.

mod support;

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use kinesis_operator::emulator::auth::Credential;
use kinesis_operator::emulator::{Config, Emulator};

/// Upper bounds, so that a hung JVM fails the test instead of hanging it.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// What a finished child process printed.
struct Finished {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Finished {
    fn output(&self) -> String {
        format!(
            "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `command` to completion (killing it after `timeout`); a missing program fails the test
/// with `install`, the way to get it.
fn run(mut command: Command, timeout: Duration, install: &str) -> Finished {
    let program = command.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("`{program}` is not on PATH: {install}")
        }
        Err(e) => panic!("cannot start `{program}`: {e}"),
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let stdout = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let stderr = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let (success, status) = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break (status.success(), status.to_string());
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break (false, format!("killed after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        success,
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        took: started.elapsed(),
    }
}

const INSTALL_JDK: &str = "install a JDK 17 or later (Debian/Ubuntu: `apt-get install \
    openjdk-17-jdk-headless`) so that `java` is on PATH";
const INSTALL_MAVEN: &str = "install Apache Maven 3.8 or later (Debian/Ubuntu: `apt-get install \
    maven`) so that `mvn` is on PATH";

/// The Maven project's directory and where its build goes.
fn dirs() -> (PathBuf, PathBuf) {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java-sdk");
    // CARGO_TARGET_TMPDIR is `<target dir>/tmp`.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("java-sdk");
    (project, target)
}

/// The newest modification time of the project's inputs (`pom.xml` and `src/`).
fn newest_input(project: &Path) -> SystemTime {
    fn walk(path: &Path, newest: &mut SystemTime) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if let Ok(modified) = meta.modified() {
            *newest = (*newest).max(modified);
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    walk(&project.join("pom.xml"), &mut newest);
    walk(&project.join("src"), &mut newest);
    newest
}

/// The classpath of the last build, if it is newer than every input and every jar it names
/// is still in the local Maven repository: then Maven need not run (it takes seconds even
/// with nothing to do).
fn up_to_date(project: &Path, build_dir: &Path) -> Option<String> {
    let stamp = std::fs::metadata(build_dir.join(STAMP))
        .ok()?
        .modified()
        .ok()?;
    if stamp < newest_input(project) || !build_dir.join("classes").is_dir() {
        return None;
    }
    let classpath = std::fs::read_to_string(build_dir.join("classpath.txt")).ok()?;
    std::env::split_paths(classpath.trim())
        .all(|jar| jar.is_file())
        .then_some(classpath)
}

/// Written after a successful build.
const STAMP: &str = "built.stamp";

/// Builds the project with Maven (unless [`up_to_date`]) and returns the classpath to run it
/// with.
fn build(project: &Path, build_dir: &Path) -> String {
    // `java` first: without it Maven's own message is less clear.
    let java = run(
        {
            let mut c = Command::new("java");
            c.arg("-version");
            c
        },
        Duration::from_secs(60),
        INSTALL_JDK,
    );
    assert!(java.success, "`java -version` failed:\n{}", java.output());
    // Maven is required even when the last build is reused.
    let on_path = |program: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    assert!(on_path("mvn"), "`mvn` is not on PATH: {INSTALL_MAVEN}");

    let classpath = match up_to_date(project, build_dir) {
        Some(classpath) => {
            eprintln!(
                "mvn package: skipped, {} is up to date",
                build_dir.display()
            );
            classpath
        }
        None => maven_package(project, build_dir),
    };
    let mut entries = vec![build_dir.join("classes")];
    entries.extend(std::env::split_paths(classpath.trim()));
    std::env::join_paths(entries)
        .expect("a classpath")
        .into_string()
        .expect("a UTF-8 classpath")
}

/// `mvn package`, which also writes the runtime classpath to `classpath.txt`.
fn maven_package(project: &Path, build_dir: &Path) -> String {
    let _ = std::fs::remove_file(build_dir.join(STAMP));
    let mut mvn = Command::new("mvn");
    mvn.current_dir(project)
        .args(["-q", "-B", "-Dstyle.color=never", "package"])
        .arg(format!("-DbuildDir={}", build_dir.display()));
    let built = run(mvn, BUILD_TIMEOUT, INSTALL_MAVEN);
    assert!(
        built.success,
        "`mvn -q -B package` in {} failed (the first build needs Maven Central; later ones \
         use ~/.m2):\n{}",
        project.display(),
        built.output()
    );
    eprintln!("mvn package: {:.1} s", built.took.as_secs_f64());

    let classpath = std::fs::read_to_string(build_dir.join("classpath.txt"))
        .expect("the build writes classpath.txt");
    std::fs::write(build_dir.join(STAMP), "").expect("write the build stamp");
    classpath
}

/// The project, built once per test binary.
fn classpath() -> String {
    static CLASSPATH: OnceLock<String> = OnceLock::new();
    CLASSPATH
        .get_or_init(|| {
            let (project, build_dir) = dirs();
            build(&project, &build_dir)
        })
        .clone()
}

/// Runs the scenario against `emulator` (fresh: the scenario expects an empty account), with
/// `properties` given to the JVM.
async fn scenario(emulator: Emulator, properties: &[&str]) {
    let classpath = tokio::task::spawn_blocking(classpath)
        .await
        .expect("the build task");

    let endpoint = emulator.endpoint_url();
    let mut java = Command::new("java");
    java.args(properties).args([
        // A short-lived client: quick start over peak speed.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-cp",
        &classpath,
        "conformance.Main",
        &endpoint,
    ]);
    // Nothing in the environment may switch the protocol or route loopback through a proxy.
    for var in [
        "AWS_CBOR_DISABLE",
        "AWS_CBOR_ENABLED",
        "JAVA_TOOL_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        java.env_remove(var);
    }
    let ran = tokio::task::spawn_blocking(move || run(java, RUN_TIMEOUT, INSTALL_JDK))
        .await
        .expect("the java task");
    emulator.shutdown().await;

    eprintln!(
        "java scenario {properties:?}: {:.1} s",
        ran.took.as_secs_f64()
    );
    assert!(
        ran.success && ran.stdout.contains("\nOK: "),
        "the AWS SDK for Java scenario {properties:?} against {endpoint} failed:\n{}",
        ran.output()
    );
    println!("{}", ran.stdout);
}

/// Both SDKs with their default protocol, CBOR: timestamps as tag 1 + epoch milliseconds,
/// blobs as byte strings, errors as CBOR bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_for_java_v1_and_v2_over_cbor() {
    scenario(support::emulator::start_default().await, &[]).await;
}

/// The same with CBOR turned off, as Flink's own tests and many LocalStack setups run the SDKs.
/// The v1 SDK then sends AT_TIMESTAMP in milliseconds where JSON means seconds; AWS (and the
/// emulator) read it 1000x too late, aws/aws-sdk-java#2588.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_for_java_v1_and_v2_over_json() {
    scenario(
        support::emulator::start_default().await,
        &[
            "-Daws.cborEnabled=false",
            "-Dcom.amazonaws.sdk.disableCbor=true",
        ],
    )
    .await;
}

/// CBOR with SigV4 verification on: the signatures of both SDKs (v2 signs
/// `x-amz-content-sha256`, v1 signs `user-agent` and `amz-sdk-retry`) verify, over HTTP/1.1
/// and over HTTP/2 (where the signed host travels as the `:authority` pseudo-header).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_for_java_v1_and_v2_signatures_verify() {
    let credential = |key: &str| Credential {
        access_key: key.to_owned(),
        secret: "secret".to_owned(),
    };
    let emulator = Emulator::start(Config {
        sigv4: Some(vec![
            credential("AKIDJAVASDKV2"),
            credential("AKIDJAVASDKV1"),
        ]),
        ..Default::default()
    })
    .await
    .expect("the emulator starts");
    scenario(emulator, &[]).await;
}
