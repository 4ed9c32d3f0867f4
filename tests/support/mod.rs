//! Shared test support: a real control plane per test binary ([`envtest`]) and the emulator
//! started in-process with clients for it ([`emulator`]).
#![allow(dead_code)]

pub mod emulator;
pub mod envtest;
