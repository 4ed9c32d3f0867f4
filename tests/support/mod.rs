//! Shared test support: a real control plane per test binary ([`envtest`]), the emulator
//! started in-process with clients for it ([`emulator`]), the operator started in-process
//! ([`operator`]), the real emulator binary for kill -9 tests ([`process`]), and Python
//! virtualenvs for boto3 and the AWS CLI ([`python`]), Managed Flink applications through the
//! SDK ([`flink`]).
#![allow(dead_code)]

pub mod emulator;
pub mod envtest;
pub mod flink;
pub mod operator;
pub mod process;
pub mod python;
pub mod records;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}
