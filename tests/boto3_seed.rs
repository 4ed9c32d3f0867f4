//! The seed tutorial's Kinesis Data Streams calls made with boto3, the SDK the tutorial uses,
//! against the `kinesis-operator emulator` binary: runs `tests/python/test_seed_boto3.py` with
//! pytest from a virtualenv in `target/python-venv` that holds the pinned
//! `tests/python/requirements.txt` (created once, rebuilt when that file or the interpreter
//! changes).
//!
//! Needs `python3` with the `venv` module and PyPI (or a pip find-links directory holding the
//! pinned wheels); without Python the test fails and says so, it is never skipped.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The interpreter the virtualenv is made from.
const PYTHON: &str = "python3";
/// How long pytest may run before the test gives up on it.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the emulator may take to answer `GET /health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long streams stay CREATING, UPDATING and DELETING: long enough that the boto3 waiters
/// really wait, short enough to keep the run fast.
const TRANSITION_DELAY: &str = "250ms";

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

/// `target/`, found from the integration-test scratch directory `target/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies inside the target directory")
        .to_path_buf()
}

/// Runs `command` to completion, panicking with its output when it cannot start or fails.
fn run(what: &str, command: &mut Command) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}): {command:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    output
}

/// The base interpreter's identity (path and version): a change rebuilds the virtualenv.
fn base_python() -> String {
    let output = Command::new(PYTHON)
        .args([
            "-c",
            "import os, sys; print(os.path.realpath(sys.executable)); print(sys.version)",
        ])
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!(
            "`{PYTHON}` is on PATH but does not run ({}): {}\nThis test needs Python 3 to run \
             the boto3 conformance suite; install it (Debian: apt-get install python3 python3-venv).",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "`{PYTHON}` was not found ({e}). This test needs Python 3 with the venv module to run \
             the boto3 conformance suite (tests/python/test_seed_boto3.py); install it \
             (Debian: apt-get install python3 python3-venv) and run the test again."
        ),
    }
}

/// Holds an exclusive flock(2) on a file until dropped, so that two `cargo test` runs sharing
/// `target/` do not build the virtualenv at the same time.
struct FileLock(File);

impl FileLock {
    fn acquire(path: &Path) -> FileLock {
        let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        // SAFETY: flock(2) on a descriptor that `file` owns for the lifetime of the lock.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(
            rc,
            0,
            "flock {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        FileLock(file)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: as in `acquire`; closing the file would release the lock as well.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// The virtualenv's interpreter, with `requirements` installed: reused when it was built from
/// the same requirements and base interpreter and still imports boto3 and pytest, else built
/// anew.
fn virtualenv(target: &Path, requirements: &Path) -> PathBuf {
    let identity = base_python();
    let pins = fs::read_to_string(requirements)
        .unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
    let wanted = format!("{identity}---\n{pins}");

    fs::create_dir_all(target).expect("create the target directory");
    let _lock = FileLock::acquire(&target.join("python-venv.lock"));
    let dir = target.join("python-venv");
    let python = dir.join("bin").join("python");
    let stamp = dir.join("requirements.installed");

    let up_to_date = fs::read_to_string(&stamp).is_ok_and(|s| s == wanted)
        && Command::new(&python)
            .args(["-c", "import boto3, pytest"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if up_to_date {
        return python;
    }

    if dir.exists() {
        fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("remove the stale {}: {e}", dir.display()));
    }
    run(
        "creating the virtualenv (Debian needs the python3-venv package)",
        Command::new(PYTHON).arg("-m").arg("venv").arg(&dir),
    );
    run(
        "installing tests/python/requirements.txt with pip",
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "--requirement",
            ])
            .arg(requirements),
    );
    fs::write(&stamp, &wanted).unwrap_or_else(|e| panic!("write {}: {e}", stamp.display()));
    python
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
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
fn boto3_runs_the_seed_tutorials_kinesis_calls_as_aws_answers_them() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let requirements = manifest.join("tests/python/requirements.txt");
    let suite = manifest.join("tests/python/test_seed_boto3.py");
    let target = target_dir();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    fs::create_dir_all(scratch).expect("create target/tmp");

    let started = Instant::now();
    let python = virtualenv(&target, &requirements);
    let venv_time = started.elapsed();

    let emulator_log = scratch.join("boto3_seed-emulator.log");
    let (mut emulator, addr) = start_emulator(&emulator_log);

    let pytest_log = scratch.join("boto3_seed-pytest.log");
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
        .arg(&suite)
        .current_dir(manifest)
        .env("KINESIS_ENDPOINT", format!("http://{addr}"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // Hermetic boto3: no profile, config file or endpoint override from the machine.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KINESIS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "PYTEST_ADDOPTS",
    ] {
        command.env_remove(name);
    }
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
