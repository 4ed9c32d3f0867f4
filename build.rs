//! Link order of the release binary.
//!
//! `make build` sets `KINESIS_OPERATOR_SYMBOL_ORDER` to `tools/hot-symbols.txt`, the functions
//! the emulator runs at start and on its first answers (see `tools/hot-symbols.sh` for how and
//! why): lld places them first and together, so the kernel maps a few hundred KiB of code for
//! them instead of ~100 scattered 64 KiB windows. Without the variable (every other build), or
//! on a target where rustc does not link with lld, the link is left alone. Passing the file
//! from here rather than in `RUSTFLAGS` makes cargo relink when the list changes.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KINESIS_OPERATOR_SYMBOL_ORDER");
    // Only where rustc links with its own lld by default: other linkers lack the option.
    let lld = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if let Ok(path) = std::env::var("KINESIS_OPERATOR_SYMBOL_ORDER")
        && lld
    {
        println!("cargo:rerun-if-changed={path}");
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={path}");
        // Names that a later change removed or renamed are skipped without a word.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
