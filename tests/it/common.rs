//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use tiersim::input::yaml::Source;
use tiersim::{Mode, Run, RunOptions, Scenario};

/// Loads a scenario from YAML text.
pub fn scenario(yaml: &str) -> Scenario {
    Scenario::from_source(&Source::from_text("test.yaml", yaml), &[])
        .unwrap_or_else(|e| panic!("test scenario must load: {e}"))
}

/// Exact mode: every request simulated.
pub fn run(s: &Scenario, replications: u32) -> Run {
    run_mode(s, replications, Mode::Exact)
}

/// The default fast path.
pub fn run_fast(s: &Scenario, replications: u32) -> Run {
    run_mode(s, replications, Mode::default())
}

pub fn run_mode(s: &Scenario, replications: u32, mode: Mode) -> Run {
    tiersim::run(
        s,
        &RunOptions {
            replications,
            mode,
            ..RunOptions::default()
        },
    )
    .expect("run")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the tiersim binary from the repository root.
pub fn tiersim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("tiersim binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// The mean of a lognormal given by median and 90th percentile, computed
/// here independently of the code under test: sigma = ln(p90/median)/z0.9.
pub fn lognormal_mean(median: f64, p90: f64) -> f64 {
    const Z90: f64 = 1.281_551_565_544_600_5;
    let sigma = (p90 / median).ln() / Z90;
    median * (sigma * sigma / 2.0).exp()
}

/// The path of test `tag`'s scratch space: `tiersim-TAG-PID` under the
/// system's temporary directory. Tags are unique across the test binary:
/// tests run in parallel in one process.
pub fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tiersim-{tag}-{}", std::process::id()))
}

/// A fresh, empty directory for test `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = absent_dir(tag);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    d
}

/// Test `tag`'s scratch path, removed if it exists (an output directory
/// for tiersim to create).
pub fn absent_dir(tag: &str) -> PathBuf {
    let d = temp_path(tag);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Chromium, if installed (CI installs it; `TIERSIM_BROWSER_TEST=1` makes
/// its absence a failure rather than a skip).
pub fn chromium() -> Option<PathBuf> {
    let found = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("TIERSIM_BROWSER_TEST").is_none(),
            "TIERSIM_BROWSER_TEST is set but no chromium is installed"
        );
        eprintln!(
            "skipped: no chromium installed (CI installs it; set TIERSIM_BROWSER_TEST=1 to require it)"
        );
    }
    found
}
