//! What-if modelling: uncertain inputs and bands, sweeps, sensitivity,
//! credits, comparison, provisioned throughput.

use crate::common;

use common::{root, run_fast, scenario, stdout, tiersim};
use statrs::distribution::{ContinuousCDF, Normal};
use tiersim::analysis::{credits, provisioned, sensitivity, sweep};
use tiersim::input::yaml::Source;
use tiersim::{RunOptions, Scenario, project};

/// Cost per request of 1,000 input and 100 output tokens on Nova Pro
/// ($0.80 / $3.20 per 1M): 1000 x 0.8e-6 + 100 x 3.2e-6 = $0.00112.
const NOVA_PRO_REQUEST: f64 = 0.00112;

fn constant_requests(volume: &str, growth: &str, horizon: u32, extra: &str) -> String {
    format!(
        r#"
name: constant
horizon_months: {horizon}
volume: {{ requests_per_month: {volume}, growth: {growth} }}
workloads:
  - {{ name: w, share: 1, task: writing, input_tokens: 1000, output_tokens: 100, difficulty: 0.3 }}
policies:
  - {{ name: pro, single: nova-pro }}
  - {{ name: sonnet, single: claude-sonnet-4-5 }}
baseline: sonnet
{extra}
"#
    )
}

#[test]
fn month_12_cost_quantiles_match_closed_form_under_uncertain_growth() {
    // Cost per request is constant, so month 12 costs c·V1·(1 + g/100)^11,
    // increasing in g ~ Normal(5, 2): its q-quantile is at g's q-quantile.
    let s = scenario(&constant_requests(
        "1000000",
        "{ monthly_pct: { normal: { mean: 5, sd: 2, min: -50, max: 60 } } }",
        12,
        "",
    ));
    let run = tiersim::run(
        &s,
        &RunOptions {
            replications: 4000,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let p = project(&s, &run);
    let pro = &p.policies[0];
    let n = Normal::new(5.0, 2.0).unwrap();
    for (i, q) in [0.1, 0.5, 0.9].iter().enumerate() {
        let g = n.inverse_cdf(*q);
        let expected = NOVA_PRO_REQUEST * 1e6 * (1.0 + g / 100.0).powi(11);
        let got = pro.bands.months[11].cost_usd[i];
        // 4,000 replications put an empirical P10/P90 within about 1% of the
        // true quantile (1 se ~ 0.3%); 2% is the stated tolerance.
        assert!(
            (got / expected - 1.0).abs() < 0.02,
            "P{}: {got} vs {expected}",
            q * 100.0
        );
    }
    // The same draws for both policies: the cheaper one is cheaper in every replication.
    assert_eq!(pro.bands.probability_cheaper_than["sonnet"], 1.0);
}

fn src(yaml: &str) -> Source {
    Source::from_text("sweep.yaml", yaml)
}

fn options(_: &Scenario) -> RunOptions<'static> {
    RunOptions::default()
}

#[test]
fn raising_gate_recall_raises_quality_and_cost_monotonically() {
    let yaml = r#"
name: recall
horizon_months: 1
volume: { requests_per_month: 1000000 }
workloads:
  - { name: w, share: 1, task: writing, input_tokens: { lognormal: { median: 800, p90: 2000 } }, output_tokens: 200, difficulty: { beta: { mean: 0.5, concentration: 5 } } }
policies:
  - name: cascade
    cascade: { steps: [nova-pro, claude-sonnet-4-5], gate: { recall: 0.5, false_alarm: 0.05 } }
baseline: cascade
"#;
    let vary = sweep::parse_vary("policies.cascade.cascade.gate.recall=0.5..0.95:10").unwrap();
    let s = sweep::sweep(&src(yaml), &[], &[vary], 2.0, options, |_, _| {}).unwrap();
    let series: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|p| (p.policies[0].quality, p.policies[0].total_cost_usd))
        .collect();
    for w in series.windows(2) {
        assert!(w[1].0 > w[0].0, "quality rises: {series:?}");
        assert!(w[1].1 > w[0].1, "cost rises: {series:?}");
    }
}

const PRICE_SWEEP: &str = r#"
name: prices
horizon_months: 3
volume: { requests_per_month: 500000, growth: { monthly_pct: 5 } }
workloads:
  - { name: a, share: 0.6, task: writing, input_tokens: { lognormal: { median: 800, p90: 2000 } }, output_tokens: 200, difficulty: { beta: { mean: 0.5, concentration: 5 } }, cache: { prefix_tokens: 2000, distinct_prefixes: 10 } }
  - { name: b, share: 0.4, task: classification, input_tokens: 300, output_tokens: 5, difficulty: 0.1 }
policies:
  - { name: sonnet, single: claude-sonnet-4-5 }
  - { name: pro, single: nova-pro }
  - name: cascade
    cascade: { steps: [nova-pro, claude-sonnet-4-5], gate: { recall: 0.8, false_alarm: 0.05, judge: { model: nova-micro, input_tokens: 300, output_tokens: 3 } } }
baseline: sonnet
"#;

#[test]
fn a_price_sweep_changes_only_the_cost_of_calls_routed_to_that_model() {
    let vary = sweep::parse_vary("prices.claude-sonnet-4-5.multiplier=0.2..1.4:7").unwrap();
    let s = sweep::sweep(&src(PRICE_SWEEP), &[], &[vary], 2.0, options, |_, _| {}).unwrap();
    let first = &s.points[0];
    for p in &s.points[1..] {
        for (x, base) in p.policies.iter().zip(&first.policies) {
            assert_eq!(
                x.quality, base.quality,
                "{}: routing does not change",
                x.name
            );
            for (model, cost) in &x.cost_by_model_usd {
                if model != "claude-sonnet-4-5" {
                    assert_eq!(*cost, base.cost_by_model_usd[model], "{}/{model}", x.name);
                }
            }
        }
        // Sonnet's cost scales with its multiplier.
        let m = |pt: &sweep::Point| {
            pt.values["prices.claude-sonnet-4-5.multiplier"]
                .parse::<f64>()
                .unwrap()
        };
        let ratio = p.policies[0].cost_by_model_usd["claude-sonnet-4-5"]
            / first.policies[0].cost_by_model_usd["claude-sonnet-4-5"];
        assert!((ratio - m(p) / m(first)).abs() < 1e-9);
    }
}

#[test]
fn break_even_agrees_with_bisection() {
    let vary = sweep::parse_vary("prices.claude-sonnet-4-5.multiplier=0.05..1.0:20").unwrap();
    let s = sweep::sweep(&src(PRICE_SWEEP), &[], &[vary], 2.0, options, |_, _| {}).unwrap();
    let found = s
        .break_evens
        .iter()
        .find(|b| b.kind == "cost" && b.policy == "pro" && b.versus == "sonnet")
        .expect("all-Sonnet becomes dearer than all-Nova-Pro within the range");
    // Bisection on the multiplier, each step a full run.
    let total = |x: f64, policy: usize| {
        let sc = Scenario::from_source(
            &src(PRICE_SWEEP),
            &[format!("prices.claude-sonnet-4-5.multiplier={x}")],
        )
        .unwrap();
        project(&sc, &run_fast(&sc, 1)).policies[policy].total_cost_usd
    };
    let (mut lo, mut hi) = (0.05, 1.0);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if total(mid, 0) < total(mid, 1) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let bisected = 0.5 * (lo + hi);
    // Sonnet's cost is linear in its multiplier, so interpolating between
    // sweep points is exact up to rounding.
    assert!(
        (found.value - bisected).abs() < 1e-6,
        "{} vs {bisected}",
        found.value
    );
}

#[test]
fn credits_runway_and_amounts_by_hand() {
    // $0.00112 x 100,000 = $112 a month for 6 months on Nova Pro. Pools:
    // a $250 from month 1; b $100 in months 4-5. Month 1: a pays 112 (138
    // left); 2: 112 (26 left); 3: 26 from a, 86 out of pocket -> credits run
    // out in month 3; 4: b pays 100, 12 out; 5, 6: 112 out each. Out of
    // pocket 86 + 12 + 112 + 112 = 322. Six months cost 672 in all; beyond
    // the pools, 322 more covers them.
    let s = scenario(&constant_requests(
        "100000",
        "{ monthly_pct: 0 }",
        6,
        "credits:\n  - { name: a, amount_usd: 250, start_month: 1 }\n  - { name: b, amount_usd: 100, start_month: 4, expires_after_months: 2 }\n",
    ));
    let run = run_fast(&s, 1);
    let r = credits::report(&s.credits, &run, 0, 0.9, 6);
    assert_eq!(r.policy, "pro");
    assert_eq!(r.runout_month_p50, Some(3));
    assert_eq!(r.runout_month_at_confidence, Some(3));
    // To a hundredth of a cent (the fast path scales a 16,384-request sample,
    // so sums carry rounding of order 1e-9 relative).
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
    assert!(
        close(r.out_of_pocket_p50_usd, 322.0),
        "{}",
        r.out_of_pocket_p50_usd
    );
    assert!(
        close(r.required_credits_usd, 672.0),
        "{}",
        r.required_credits_usd
    );
    assert!(close(r.additional_credits_usd, 322.0));
    assert!(close(r.pools_total_usd, 350.0));
    // Covering only the first 3 months: 336 needed; the pools pay 250 of it.
    let r3 = credits::report(&s.credits, &run, 0, 0.9, 3);
    assert!(close(r3.required_credits_usd, 336.0));
    assert!(close(r3.additional_credits_usd, 86.0));
}

#[test]
fn requested_credits_cover_the_horizon_at_the_confidence_on_a_fresh_seed() {
    let yaml = constant_requests(
        "1000000",
        "{ monthly_pct: { triangular: { min: 0, mode: 5, max: 15 } } }",
        12,
        "",
    );
    let mut s = scenario(&yaml);
    s.seed = 1;
    let run = tiersim::run(
        &s,
        &RunOptions {
            replications: 400,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let asked = credits::report(&[], &run, 0, 0.9, 12).required_credits_usd;
    s.seed = 2;
    let fresh = tiersim::run(
        &s,
        &RunOptions {
            replications: 2000,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let covered = fresh
        .reps
        .iter()
        .filter(|r| r.iter().map(|m| m[0].cost_usd).sum::<f64>() <= asked)
        .count() as f64
        / 2000.0;
    assert!(covered >= 0.9, "covers {covered} of fresh replications");
}

#[test]
fn sensitivity_ranks_the_dominant_input_first() {
    // Growth between 0% and 20% a month dwarfs a difficulty that barely
    // moves routing and a small Nova Pro price uncertainty.
    let yaml = r#"
name: sens
horizon_months: 12
volume: { requests_per_month: 1000000, growth: { monthly_pct: { uniform: { min: 0, max: 20 } } } }
workloads:
  - { name: w, share: 1, task: writing, input_tokens: 1000, output_tokens: 100, difficulty: { beta: { mean: { uniform: { min: 0.3, max: 0.35 } }, concentration: 5 } } }
policies:
  - name: cascade
    cascade: { steps: [nova-pro, claude-sonnet-4-5], gate: { recall: 0.8, false_alarm: 0.05 } }
baseline: cascade
prices:
  nova-pro: { multiplier: { uniform: { min: 0.95, max: 1.05 } } }
"#;
    let s = scenario(yaml);
    let r = sensitivity::sensitivity(&s, 0, 200, RunOptions::default).unwrap();
    assert_eq!(r.inputs[0].input, "volume.growth.monthly_pct");
    assert!(r.inputs[0].swing_usd > 3.0 * r.inputs[1].swing_usd);
    assert!(
        r.inputs[0].variance_share > 0.8,
        "{}",
        r.inputs[0].variance_share
    );
    // Inputs are named as --set names them.
    assert!(
        r.inputs
            .iter()
            .any(|i| i.input == "workloads.w.difficulty.beta.mean")
    );
    // The swing is the cost at the input's P90 minus at its P10.
    let i = &r.inputs[0];
    assert!((i.value_low - 2.0).abs() < 1e-9 && (i.value_high - 18.0).abs() < 1e-9);
    assert!((i.swing_usd - (i.total_cost_at_high_usd - i.total_cost_at_low_usd)).abs() < 1e-6);
}

#[test]
fn provisioned_throughput_break_even_by_hand() {
    // Test catalog: $10/1M in, $20/1M out; a unit costs $10/hour and serves
    // 100,000 input and 10,000 output tokens a minute. 1M requests of 1,000
    // in / 100 out: on demand 1e9 x 10/1e6 + 1e8 x 20/1e6 = $12,000 a month.
    // A month has 730.5 hours = 43,830 minutes: 22,815 input tokens a minute,
    // x2 for peaks = 0.456 of a unit -> 1 unit, $7,305. A full unit serves
    // 2,191,500 requests, worth $26,298 on demand > $7,305, so provisioned
    // wins above 7,305 / 0.012 = 608,750 requests a month.
    let path = root().join("tests/fixtures/pt-scenario.yaml");
    let s = Scenario::load(&path, &[]).unwrap();
    let run = run_fast(&s, 1);
    let v = provisioned::verdicts(&s, &run, s.peak_to_average);
    assert_eq!(v.len(), 1);
    let v = &v[0];
    assert!(
        (v.on_demand_cost_usd - 12_000.0).abs() < 1e-6,
        "{}",
        v.on_demand_cost_usd
    );
    assert_eq!(v.units_needed, 1.0);
    assert!((v.provisioned_cost_usd - 7_305.0).abs() < 1e-6);
    assert!((v.savings_usd - 4_695.0).abs() < 1e-6);
    assert!((v.break_even_requests_per_month.unwrap() - 608_750.0).abs() < 1e-3);
    // The shipped Bedrock catalog has no provisioned prices: nothing to say.
    let shipped = Scenario::load(&root().join("scenarios/support-platform.yaml"), &[]).unwrap();
    assert!(provisioned::verdicts(&shipped, &run_fast(&shipped, 1), 2.0).is_empty());
}

#[test]
fn compare_reports_differences_against_the_first_scenario() {
    // The same scenario with Sonnet at half price: the draws are the same
    // (same seed, same fields), so all-Sonnet costs exactly half and
    // all-Nova-Pro exactly the same.
    let dir = common::temp_dir("compare");
    let cut = dir.join("cut.yaml");
    let text = std::fs::read_to_string(root().join("scenarios/support-platform.yaml")).unwrap();
    std::fs::write(
        &cut,
        format!("{text}\nprices:\n  claude-sonnet-4-5: {{ multiplier: 0.5 }}\n"),
    )
    .unwrap();
    let o = tiersim(&[
        "compare",
        "scenarios/support-platform.yaml",
        cut.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = |name: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["policy"] == name)
            .unwrap()["scenarios"][1]
            .clone()
    };
    assert!((row("all-sonnet")["cost_change_pct"].as_f64().unwrap() + 50.0).abs() < 1e-9);
    assert_eq!(
        row("all-nova-pro")["cost_change_usd"].as_f64().unwrap(),
        0.0
    );
    assert_eq!(
        row("all-nova-pro")["quality_change_pp"].as_f64().unwrap(),
        0.0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
