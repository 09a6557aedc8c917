//! Records the versions of the crates whose algorithms change tiersim's
//! numbers (rand, rand_distr, statrs), read from Cargo.lock, so `run.json`
//! can state them: the same seed gives the same figures only with the same
//! generators and distributions.
//!
//! It also links the `tiersim` binary as a position-dependent executable
//! on Linux (`-no-pie`). As a PIE, the 90 MB binary had about 197,000
//! relative relocations for the dynamic loader to apply at every start,
//! and the pages of pointers they touched: measured on the 2-core machine
//! (2026-12-05, `perf stat -r 10 tiersim --version`), 885 page faults and
//! 5.5 ms against 200 and 2.0 ms without. Every command pays that start:
//! a default `run` of support-platform went from 120 to 117 ms, a
//! 1,000-request exact run from 19.1 to 15.8 ms. Only the binary: the
//! library and the test executables are linked as before.

use std::path::Path;

fn main() {
    let lock = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=build.rs");
    // See the module comment: no relocations for the loader at start-up.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
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
