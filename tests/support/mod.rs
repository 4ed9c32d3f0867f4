//! Shared test support: a real control plane per test binary ([`envtest`]), the emulator
//! started in-process with clients for it ([`emulator`]), and the operator started in-process
//! ([`operator`]).
#![allow(dead_code)]

pub mod emulator;
pub mod envtest;
pub mod operator;
