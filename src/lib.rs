//! kinesis-operator: a Kubernetes operator that keeps Amazon Kinesis resources matching their
//! manifests, and an AWS emulator in the same binary.

pub mod api;
pub mod aws;
pub mod cli;
pub mod controller;
pub mod emulator;
pub mod shutdown;
