//! Records the versions of the crates whose algorithms change tiersim's
//! numbers (rand, rand_distr, statrs), read from Cargo.lock, so `run.json`
//! can state them: the same seed gives the same figures only with the same
//! generators and distributions.

use std::path::Path;

fn main() {
    let lock = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for (name, var) in [
        ("rand", "TIERSIM_RAND_VERSION"),
        ("rand_distr", "TIERSIM_RAND_DISTR_VERSION"),
        ("statrs", "TIERSIM_STATRS_VERSION"),
        ("polars", "TIERSIM_POLARS_VERSION"),
    ] {
        let version = locked_version(&text, name).unwrap_or_else(|| "unknown".to_string());
        println!("cargo:rustc-env={var}={version}");
    }
}

/// The version of `name` in a Cargo.lock (the first, if several).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let want = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == want {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}
