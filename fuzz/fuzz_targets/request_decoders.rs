//! Fuzzes the emulator's request decoding and validation: JSON and CBOR bodies for every
//! Kinesis and Firehose operation, IAM query forms and whole S3 REST requests. Run with
//! `cargo +nightly fuzz run request_decoders` from `fuzz/`.
#![no_main]

use std::sync::OnceLock;

use kinesis_operator::emulator::fuzz::{Targets, exercise, target};
use libfuzzer_sys::fuzz_target;

static TARGETS: OnceLock<Targets> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    exercise(TARGETS.get_or_init(target), data);
});
