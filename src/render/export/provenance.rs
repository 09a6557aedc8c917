//! `run.json`: what produced a directory of results, so a reader can tell
//! whether two result sets are comparable and reproduce one: the inputs'
//! hashes, the catalog and its date, seed, replications, mode, the crate
//! versions whose algorithms change the numbers, and the command line.
//!
//! No timestamp: the same inputs and seed give a byte-identical directory.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::CatalogSource;
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sim::Mode;

#[derive(Debug, Serialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct CatalogRef {
    pub name: String,
    pub as_of: String,
    pub origin: String,
    pub sources: Vec<CatalogSource>,
}

#[derive(Debug, Serialize)]
pub struct Crates {
    pub rand: &'static str,
    pub rand_distr: &'static str,
    pub statrs: &'static str,
    pub polars: &'static str,
}

pub const CRATES: Crates = Crates {
    rand: env!("TIERSIM_RAND_VERSION"),
    rand_distr: env!("TIERSIM_RAND_DISTR_VERSION"),
    statrs: env!("TIERSIM_STATRS_VERSION"),
    polars: env!("TIERSIM_POLARS_VERSION"),
};

#[derive(Debug, Serialize)]
pub struct Provenance {
    pub tiersim_version: &'static str,
    /// The command that wrote the directory, as typed (arguments joined
    /// with shell quoting where needed).
    pub command_line: String,
    pub command: &'static str,
    pub scenario: String,
    /// Scenario files read (and the log or profile files they reference
    /// are hashed here too when present).
    pub inputs: Vec<InputFile>,
    pub catalog: CatalogRef,
    pub region_profile: String,
    pub seed: u64,
    pub replications: u32,
    pub mode: &'static str,
    pub samples_per_workload: Option<usize>,
    pub quantiles: Vec<f64>,
    pub overrides: Vec<String>,
    /// Versions of the crates whose algorithms determine the numbers.
    pub crates: &'static Crates,
    /// Files written, in order.
    pub files: Vec<String>,
}

/// SHA-256 of a file, as lowercase hex.
pub fn hash_file(path: &Path) -> Result<InputFile> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::failure(format!("cannot read {}: {e}", path.display())))?;
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(InputFile {
        path: path.display().to_string(),
        sha256: hex,
        bytes: bytes.len() as u64,
    })
}

/// The command line of this process, quoted for a POSIX shell.
pub fn command_line() -> String {
    quoted(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
}

/// Arguments joined into one command line, quoted for a POSIX shell.
pub fn quoted(args: impl IntoIterator<Item = String>) -> String {
    args.into_iter()
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Provenance of a command that ran scenario `s` with the given settings.
pub fn of(
    command: &'static str,
    s: &Scenario,
    inputs: Vec<InputFile>,
    replications: u32,
    mode: Mode,
    quantiles: &[f64],
) -> Provenance {
    Provenance {
        tiersim_version: env!("CARGO_PKG_VERSION"),
        command_line: command_line(),
        command,
        scenario: s.name.clone(),
        inputs,
        catalog: CatalogRef {
            name: s.catalog.name.clone(),
            as_of: s.catalog.as_of.clone(),
            origin: s.catalog.origin.clone(),
            sources: s.catalog.sources.clone(),
        },
        region_profile: s.profile.clone(),
        seed: s.seed,
        replications,
        mode: mode.name(),
        samples_per_workload: match mode {
            Mode::Fast { samples } => Some(samples),
            Mode::Exact => None,
        },
        quantiles: quantiles.to_vec(),
        overrides: s.overrides.clone(),
        crates: &CRATES,
        files: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("scenarios/a.yaml"), "scenarios/a.yaml");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn crate_versions_are_known() {
        for v in [CRATES.rand, CRATES.rand_distr, CRATES.statrs, CRATES.polars] {
            assert!(
                v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok()),
                "{v}"
            );
        }
    }

    #[test]
    fn sha256_of_a_known_text() {
        let f = std::env::temp_dir().join(format!("tiersim-sha-{}", std::process::id()));
        std::fs::write(&f, b"abc").unwrap();
        let h = hash_file(&f).unwrap();
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.bytes, 3);
    }
}
