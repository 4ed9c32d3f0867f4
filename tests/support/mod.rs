//! Shared test support: a real control plane per test binary (see [`envtest`]).
#![allow(dead_code)]

pub mod envtest;
