//! The `kinesis-operator` binary: see [`kinesis_operator::cli`].

fn main() -> std::process::ExitCode {
    kinesis_operator::cli::main()
}
