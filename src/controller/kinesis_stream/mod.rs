//! The KinesisStream reconciler, shaped as a pipeline: observe AWS, plan (pure), act, write
//! status.

pub mod plan;
