//! The operator's reconcilers, one per kind, and the runtime they share.

pub mod backoff;
pub mod conditions;
pub mod context;
pub mod http;
pub mod kinesis_stream;
pub mod lease;
pub mod metrics;
pub mod policy_doc;
pub mod stream_policy;
