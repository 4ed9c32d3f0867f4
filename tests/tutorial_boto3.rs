//! The tutorial's own calls made with boto3, the SDK the tutorial uses, against the
//! `kinesis-operator emulator` binary: runs `tests/python/test_tutorial_kinesis_boto3.py` (Kinesis Data
//! Streams) and `tests/python/test_tutorial_firehose_iam_boto3.py` (Firehose delivering to S3,
//! read back with boto3's S3; IAM policies) with pytest from a virtualenv in `target/python-venv` that holds the pinned
//! `tests/python/requirements.txt` (made by `support::python`: created once, rebuilt when that
//! file or the interpreter changes).
//!
//! Needs `python3` with the `venv` module and PyPI (or a pip find-links directory holding the
//! pinned wheels); without Python the test fails and says so, it is never skipped.

mod support;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, python};

/// How long pytest may run before the test gives up on it.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the emulator may take to answer `GET /health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long streams stay CREATING, UPDATING and DELETING: long enough that the boto3 waiters
/// really wait, short enough to keep the run fast.
const TRANSITION_DELAY: &str = "250ms";
/// How long Firehose buffers records at most: the tutorial's 60 s buffering interval shortened
/// so delivery is seen within the run (the API still reports 60 s).
const FIREHOSE_FLUSH_INTERVAL: &str = "1s";

/// A child process that is stopped (SIGTERM, then SIGKILL after 5 s) when dropped, also when
/// the test panics.
struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Whether the process has exited.
    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)) | Err(_))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.exited() {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a pid of our own child that has not been reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /health` answers 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// The last `lines` lines of the file at `path`.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts the emulator binary on a free loopback port and waits until it is healthy; retries
/// with another port when the chosen one was taken in the meantime.
fn start_emulator(log: &Path) -> (ChildGuard, SocketAddr) {
    let mut last_error = String::new();
    for _ in 0..3 {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let out = File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone the log file handle");
        let child = Command::new(env!("CARGO_BIN_EXE_kinesis-operator"))
            .arg("emulator")
            .arg("--listen")
            .arg(addr.to_string())
            .args(["--create-delay", TRANSITION_DELAY])
            .args(["--update-delay", TRANSITION_DELAY])
            .args(["--delete-delay", TRANSITION_DELAY])
            .args(["--firehose-flush-interval", FIREHOSE_FLUSH_INTERVAL])
            .env("LOG_FORMAT", "text")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the kinesis-operator emulator binary");
        let mut guard = ChildGuard { child };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if healthy(addr) {
                return (guard, addr);
            }
            if guard.exited() {
                last_error = format!("the emulator exited on {addr}:\n{}", tail(log, 40));
                break;
            }
            if Instant::now() > deadline {
                panic!(
                    "the emulator did not answer GET /health on {addr} within {STARTUP_TIMEOUT:?}:\n{}",
                    tail(log, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
    panic!("the emulator did not start: {last_error}");
}

#[test]
fn boto3_runs_the_tutorials_calls_as_aws_answers_them() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let requirements = manifest.join("tests/python/requirements.txt");
    let suites = [
        manifest.join("tests/python/test_tutorial_kinesis_boto3.py"),
        manifest.join("tests/python/test_tutorial_firehose_iam_boto3.py"),
    ];
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    fs::create_dir_all(scratch).expect("create target/tmp");

    let started = Instant::now();
    let python = python::virtualenv("python-venv", &requirements, "import boto3, pytest");
    let venv_time = started.elapsed();

    let emulator_log = scratch.join("tutorial_boto3-emulator.log");
    let (mut emulator, addr) = start_emulator(&emulator_log);

    let pytest_log = scratch.join("tutorial_boto3-pytest.log");
    let out = File::create(&pytest_log).expect("create the pytest log");
    let err = out.try_clone().expect("clone the pytest log handle");
    let started = Instant::now();
    let mut command = Command::new(&python);
    command
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rfE",
            "--color=no",
        ])
        .args(&suites)
        .current_dir(manifest)
        .env("KINESIS_ENDPOINT", format!("http://{addr}"));
    python::hermetic(&mut command);
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start pytest with {}: {e}", python.display()));
    let mut pytest = ChildGuard { child };
    let status = loop {
        if let Some(status) = pytest.child.try_wait().expect("wait for pytest") {
            break status;
        }
        if started.elapsed() > PYTEST_TIMEOUT {
            panic!(
                "pytest did not finish within {PYTEST_TIMEOUT:?}:\n{}\n--- emulator log ---\n{}",
                tail(&pytest_log, 200),
                tail(&emulator_log, 60)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let pytest_time = started.elapsed();
    let output = fs::read_to_string(&pytest_log).unwrap_or_default();

    assert!(
        !emulator.exited(),
        "the emulator died during the run:\n{}\n--- pytest ---\n{output}",
        tail(&emulator_log, 60)
    );
    assert!(
        status.success(),
        "pytest failed ({status}):\n{output}\n--- emulator log ({}) ---\n{}",
        emulator_log.display(),
        tail(&emulator_log, 60)
    );
    println!("{output}");
    println!("virtualenv ready in {venv_time:?}, pytest ran in {pytest_time:?}");
}
