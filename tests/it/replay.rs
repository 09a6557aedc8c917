//! Replayed traffic from request logs.

use crate::common;

use common::{root, scenario, stderr, stdout, tiersim};
use tiersim::logs::{self, LogFormat};
use tiersim::sim::instance::{AtQuantile, resolve};
use tiersim::traffic::CacheInst;

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/logs").join(name)
}

#[test]
fn bedrock_log_replays_to_the_expected_mix_and_tokens() {
    // The fixture: 16 classification calls (inputs 200/400, output 5, a
    // 1,500-token prefix written once and read 15 times), 10 writing calls
    // (inputs 1,000/1,400, outputs 250/350), 4 unlabelled (500 in, 100 out),
    // plus a truncated line and a record without an output count.
    let log = logs::read(
        &fixture("bedrock-invocations.jsonl"),
        LogFormat::BedrockInvocationLog,
        "task",
        false,
    )
    .unwrap();
    assert_eq!(log.records.len(), 30);
    assert_eq!(log.malformed, 2);
    assert_eq!(log.errors[0].0, 8);
    assert_eq!(
        log.errors[1],
        (21, "missing output.outputTokenCount".to_string())
    );
    let d = logs::derive(&log);
    let w = |label: &str| d.workloads.iter().find(|w| w.label == label).unwrap();
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((w("classification").share - 16.0 / 30.0).abs() < 1e-12);
    assert!((w("writing").share - 10.0 / 30.0).abs() < 1e-12);
    assert!((w("unlabelled").share - 4.0 / 30.0).abs() < 1e-12);
    assert_eq!(mean(&w("classification").input_tokens), 300.0);
    assert_eq!(mean(&w("classification").output_tokens), 5.0);
    assert_eq!(mean(&w("writing").input_tokens), 1200.0);
    assert_eq!(mean(&w("writing").output_tokens), 300.0);
    assert_eq!(w("classification").prefix_tokens, 1500.0);
    assert_eq!(w("classification").hit_rate, 15.0 / 16.0);
    assert_eq!(w("writing").cached_share, 0.0);

    // --strict stops at the first malformed line.
    let e = logs::read(
        &fixture("bedrock-invocations.jsonl"),
        LogFormat::BedrockInvocationLog,
        "task",
        true,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("bedrock-invocations.jsonl:8:1: not a JSON object"),
        "{e}"
    );
}

#[test]
fn a_scenario_runs_on_replayed_traffic() {
    let dir = root().join("tests/fixtures");
    let yaml = format!(
        r#"
name: replayed
horizon_months: 2
traffic: {{ replay: {}, format: bedrock-invocation-log }}
volume: {{ requests_per_month: 1000000 }}
policies:
  - {{ name: sonnet, single: claude-sonnet-4-5 }}
  - {{ name: micro, single: nova-micro }}
baseline: sonnet
"#,
        dir.join("logs/bedrock-invocations.jsonl").display()
    );
    let s = scenario(&yaml);
    assert_eq!(s.workloads.len(), 3);
    let inst = resolve(&s, &mut AtQuantile::default(), 0);
    let w = |name: &str| inst.workloads.iter().find(|w| w.name == name).unwrap();
    assert_eq!(w("classification").input.mean(), 300.0);
    assert_eq!(w("writing").output.mean(), 300.0);
    assert_eq!(w("classification").prefix_tokens, 1500);
    match w("classification").cache {
        CacheInst::Pinned { hit_rate, .. } => assert_eq!(hit_rate, 15.0 / 16.0),
        ref other => panic!("{other:?}"),
    }
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("skipped 2 malformed line(s)")),
        "{:?}",
        s.notes
    );
    let run = tiersim::run(&s, &tiersim::RunOptions::default()).unwrap();
    assert_eq!(run.volumes[0], 1_000_000.0);
}

#[test]
fn profile_prices_the_log_at_catalog_rates() {
    // Two calls: Nova Micro 1,000 in / 10 out = $0.000035 + $0.0000014;
    // Sonnet 4.5 (global) 2,000 in + a 4,000-token cache read + 500 out =
    // $0.006 + $0.0012 + $0.0075. Total $0.0147364.
    let log = logs::read(&fixture("two-calls.csv"), LogFormat::Csv, "task", false).unwrap();
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let r = logs::reconcile(&catalog, &log, "global");
    assert!((r.by_model["nova-micro"] - 0.0000364).abs() < 1e-12);
    assert!((r.by_model["claude-sonnet-4-5"] - 0.0147).abs() < 1e-12);
    assert!((r.total_usd - 0.0147364).abs() < 1e-12);
    let o = tiersim(&["profile", "tests/fixtures/logs/two-calls.csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("prices: $0.0147364"), "{}", stdout(&o));
    // The derived YAML is a scenario tiersim accepts.
    let o = tiersim(&["profile", "tests/fixtures/logs/bedrock-invocations.jsonl"]);
    let dir = common::temp_dir("profile");
    let f = dir.join("derived.yaml");
    std::fs::write(&f, stdout(&o)).unwrap();
    let v = tiersim(&["validate", f.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    std::fs::remove_dir_all(&dir).unwrap();
}
