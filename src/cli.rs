//! Command line: `crds` and `version` (the operator and the emulator arrive with their
//! subcommands).

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kubernetes operator and AWS emulator for Amazon Kinesis.
#[derive(Debug, Parser)]
#[command(name = "kinesis-operator", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every CustomResourceDefinition as YAML (a multi-document stream) on stdout, or
    /// write one file per kind into a directory.
    Crds {
        /// Write `<kind>.yaml` files into this directory instead of printing.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
    /// Print the version.
    Version,
}

/// Renders every CRD as one multi-document YAML stream.
pub fn crds_yaml() -> String {
    crate::api::crds()
        .iter()
        .map(|(_, crd)| crd_yaml(crd))
        .collect::<Vec<_>>()
        .join("")
}

/// Renders one CRD as a YAML document starting with `---`.
pub fn crd_yaml(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> String {
    let body = serde_norway::to_string(crd).expect("a CRD always serialises to YAML");
    format!("---\n{body}")
}

/// Writes one YAML file per CRD into `dir` (created if missing).
fn write_crds(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (file, crd) in crate::api::crds() {
        std::fs::write(dir.join(file), crd_yaml(&crd))?;
    }
    Ok(())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        Command::Crds { out_dir: None } => out.write_all(crds_yaml().as_bytes()),
        Command::Crds { out_dir: Some(dir) } => write_crds(&dir),
        Command::Version => writeln!(out, "kinesis-operator {}", env!("CARGO_PKG_VERSION")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kinesis-operator: writing the output failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `crds/` is generated; it must match the types, or `make crds` was forgotten.
    #[test]
    fn committed_crds_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let mut expected_files: Vec<_> = crate::api::crds().iter().map(|(f, _)| *f).collect();
        expected_files.sort_unstable();
        let mut present: Vec<_> = std::fs::read_dir(&dir)
            .expect("crds/ exists")
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8")
            })
            .collect();
        present.sort_unstable();
        assert_eq!(
            present, expected_files,
            "crds/ holds other files than the types generate: run `make crds`"
        );
        for (file, crd) in crate::api::crds() {
            let committed = std::fs::read_to_string(dir.join(file)).expect("a CRD file");
            assert!(
                committed == crd_yaml(&crd),
                "crds/{file} differs from what the types generate: run `make crds` and commit it"
            );
        }
    }

    #[test]
    fn crds_yaml_is_one_document_per_kind() {
        let yaml = crds_yaml();
        assert_eq!(
            yaml.matches("\nkind: CustomResourceDefinition\n").count(),
            4
        );
        assert!(yaml.starts_with("---\n"));
    }
}
