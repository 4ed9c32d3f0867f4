//! Shared test support: a real control plane per test binary ([`envtest`]), the emulator
//! started in-process with clients for it ([`emulator`]), the operator started in-process
//! ([`operator`]), the real emulator binary for kill -9 tests ([`process`]), and Python
//! virtualenvs for boto3 and the AWS CLI ([`python`]).
#![allow(dead_code)]

pub mod emulator;
pub mod envtest;
pub mod operator;
pub mod process;
pub mod python;
