//! Facades over the aws-sdk-* clients: spec to request translation and error classification.
//! The controller never looks at raw SDK errors; it sees an [`ErrorClass`].

pub mod call;
pub mod errors;
pub mod firehose;
pub mod iam;
pub mod kinesis;
pub mod rate_limit;

pub use errors::{AwsCallError, ErrorClass};
