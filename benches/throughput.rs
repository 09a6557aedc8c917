//! Speed at any volume (issue: runtime independent of traffic).
//!
//! `cargo bench` reports:
//! - `exact_one_core`: exact mode on `support-platform`, one month of 1M
//!   requests on one thread; divan's throughput is request-policy
//!   evaluations per second (traffic generation included).
//! - `fast_by_volume`: the full `support-platform` run (12 months) in fast
//!   mode at 1 thousand and 1 billion requests a month; the two times
//!   should match.
//! - `sessions_by_volume`: the full `dev-team-agent` run (12 months of
//!   agent-loop sessions) in fast mode at 1 thousand and 1 billion
//!   sessions a month; the two times should match (issue 14: ratio at
//!   most 1.2).
//! - `exact_sessions_one_core`: exact mode on `dev-team-agent`, one month
//!   of 10,000 sessions on one thread; throughput in turn-policy
//!   evaluations per second (about 34.5 turns a session).
//! - `large_run`: each shipped scenario at 1 billion requests a month, 36
//!   months, 1,000 replications, all its policies, on every core.
//! - `default_run`: each shipped scenario as `tiersim run` runs it by
//!   default (fast path, its default replications, every core): the
//!   engine's share of the command's time (loading the scenario and
//!   writing the report are outside it).

use std::path::PathBuf;

use divan::{Bencher, counter::ItemsCount};
use tiersim::{Mode, RunOptions, Scenario};

fn main() {
    divan::main();
}

fn load(name: &str, sets: &[String]) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.yaml"));
    Scenario::load(&path, sets).expect("shipped scenario")
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn exact_one_core(b: Bencher) {
    let s = load(
        "support-platform",
        &[
            "volume.requests_per_month=1000000".into(),
            "horizon_months=1".into(),
        ],
    );
    let evaluations = 1_000_000 * s.policies.len();
    b.counter(ItemsCount::new(evaluations)).bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                mode: Mode::Exact,
                threads: Some(1),
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(args = [1_000u64, 1_000_000_000], sample_count = 10, sample_size = 1)]
fn fast_by_volume(b: Bencher, volume: u64) {
    let s = load(
        "support-platform",
        &[format!("volume.requests_per_month={volume}")],
    );
    b.bench(|| tiersim::run(&s, &RunOptions::default()).unwrap());
}

#[divan::bench(args = [1_000u64, 1_000_000_000], sample_count = 10, sample_size = 1)]
fn sessions_by_volume(b: Bencher, volume: u64) {
    let s = load(
        "dev-team-agent",
        &[format!("volume.requests_per_month={volume}")],
    );
    b.bench(|| tiersim::run(&s, &RunOptions::default()).unwrap());
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn exact_sessions_one_core(b: Bencher) {
    let s = load(
        "dev-team-agent",
        &[
            "volume.requests_per_month=10000".into(),
            "horizon_months=1".into(),
        ],
    );
    // Turns are drawn, so the count is the expected one: 10,000 sessions
    // of 34.5 turns on average.
    let evaluations = 345_000 * s.policies.len();
    b.counter(ItemsCount::new(evaluations)).bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                mode: Mode::Exact,
                threads: Some(1),
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(
    args = ["support-platform", "rag-assistant", "coding-assistant", "document-extraction", "dev-team-agent", "support-chat"],
    sample_count = 10,
    sample_size = 1
)]
fn default_run(b: Bencher, name: &str) {
    let s = load(name, &[]);
    let replications = tiersim::sim::instance::default_replications(&s);
    b.bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                replications,
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(
    args = ["support-platform", "rag-assistant", "coding-assistant", "document-extraction"],
    sample_count = 3,
    sample_size = 1
)]
fn large_run(b: Bencher, name: &str) {
    let s = load(
        name,
        &[
            "volume.requests_per_month=1000000000".into(),
            "volume.growth={ monthly_pct: 0 }".into(),
            "horizon_months=36".into(),
        ],
    );
    b.bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                replications: 1000,
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}
