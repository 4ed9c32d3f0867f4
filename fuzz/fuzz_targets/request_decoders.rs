//! Fuzzes the emulator's request decoding and validation: JSON and CBOR bodies for every
//! Kinesis operation. Run with `cargo +nightly fuzz run request_decoders` from `fuzz/`.
#![no_main]

use std::sync::OnceLock;

use kinesis_operator::emulator::fuzz::{exercise, target};
use kinesis_operator::emulator::kinesis::Kinesis;
use libfuzzer_sys::fuzz_target;

static KINESIS: OnceLock<Kinesis> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    exercise(KINESIS.get_or_init(target), data);
});
