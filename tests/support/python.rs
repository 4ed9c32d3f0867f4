//! Python clients for tests: virtualenvs under `target/` built from pinned requirements files
//! (created once, rebuilt when the file or the base interpreter changes, shared by concurrent
//! test runs through a file lock).
//!
//! Needs `python3` with the `venv` module and PyPI (or a pip find-links directory holding the
//! pinned wheels); without Python the tests fail and say so, they are never skipped.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The interpreter virtualenvs are made from.
const PYTHON: &str = "python3";

/// `target/`, found from the integration-test scratch directory `target/tmp`.
pub fn target_dir() -> PathBuf {
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

/// The base interpreter's identity (path and version): a change rebuilds the virtualenvs.
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
            "`{PYTHON}` is on PATH but does not run ({}): {}\nThis test needs Python 3; install \
             it (Debian: apt-get install python3 python3-venv).",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "`{PYTHON}` was not found ({e}). This test needs Python 3 with the venv module; \
             install it (Debian: apt-get install python3 python3-venv) and run the test again."
        ),
    }
}

/// Holds an exclusive flock(2) on a file until dropped.
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

/// The interpreter of the virtualenv `target/<name>` with `requirements` installed: reused
/// when it was built from the same requirements and base interpreter and `probe` (Python
/// code, e.g. `import boto3`) still runs, else built anew.
pub fn virtualenv(name: &str, requirements: &Path, probe: &str) -> PathBuf {
    let target = target_dir();
    let identity = base_python();
    let pins = fs::read_to_string(requirements)
        .unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
    let wanted = format!("{identity}---\n{pins}");

    fs::create_dir_all(&target).expect("create the target directory");
    let _lock = FileLock::acquire(&target.join(format!("{name}.lock")));
    let dir = target.join(name);
    let python = dir.join("bin").join("python");
    let stamp = dir.join("requirements.installed");

    let up_to_date = fs::read_to_string(&stamp).is_ok_and(|s| s == wanted)
        && Command::new(&python)
            .args(["-c", probe])
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
        "creating a virtualenv (Debian needs the python3-venv package)",
        Command::new(PYTHON).arg("-m").arg("venv").arg(&dir),
    );
    run(
        &format!("installing {} with pip", requirements.display()),
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

/// Makes `command` (Python with boto3 or the AWS CLI) hermetic: no profile, config or
/// credentials file, endpoint override, region or pytest options from the machine, no proxy
/// for loopback, and no bytecode written into the source tree.
pub fn hermetic(command: &mut Command) -> &mut Command {
    command
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KINESIS",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "PYTEST_ADDOPTS",
    ] {
        command.env_remove(name);
    }
    command
}
