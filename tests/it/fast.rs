//! The fast path's own checks: closed forms, integration, the cache model,
//! and run time that does not depend on volume.

use crate::common;

use common::{run, run_fast, scenario};
use tiersim::project;
use tiersim::sim::fast::hit_probability;

const MONTH_S: f64 = 365.25 / 12.0 * 86_400.0;

#[test]
fn cost_scales_exactly_with_volume_without_caching() {
    // No caching: the fast path's month is the sample scaled by volume, so a
    // billion requests cost exactly 10^6 times a thousand (same sample).
    let yaml = |v: &str| {
        format!(
            r#"
name: scale
horizon_months: 1
volume: {{ requests_per_month: {v} }}
workloads:
  - {{ name: w, share: 1, task: writing, input_tokens: {{ lognormal: {{ median: 800, p90: 2000 }} }}, output_tokens: 200, difficulty: {{ beta: {{ mean: 0.4, concentration: 5 }} }} }}
policies:
  - name: cascade
    cascade: {{ steps: [nova-pro, claude-sonnet-4-5], gate: {{ recall: 0.8, false_alarm: 0.1, cost_usd: 0.0001 }} }}
baseline: cascade
"#
        )
    };
    let small = scenario(&yaml("1000"));
    let big = scenario(&yaml("1000000000"));
    let a = project(&small, &run_fast(&small, 1)).policies[0].total_cost_usd;
    let b = project(&big, &run_fast(&big, 1)).policies[0].total_cost_usd;
    // Replication noise is added per month; compare the expected costs instead.
    let ea = run_fast(&small, 1).costs[0][0].total();
    let eb = run_fast(&big, 1).costs[0][0].total();
    assert!((eb / ea / 1e6 - 1.0).abs() < 1e-9, "{ea} vs {eb}");
    assert!(a > 0.0 && b > 0.0);
}

#[test]
fn cache_hit_probability_matches_simulation() {
    // The closed form (Poisson arrivals, cold start, TTL refreshed by each
    // call) against exact mode's simulated cache, at lambda T from 0.1 to 5.
    for (v, prefixes) in [(43_830.0, 50u32), (438_300.0, 50), (2_191_500.0, 50)] {
        let s = scenario(&format!(
            r#"
name: cache
horizon_months: 1
volume: {{ requests_per_month: {v} }}
workloads:
  - {{ name: w, share: 1, task: writing, input_tokens: 100, output_tokens: 10, difficulty: 0.2, cache: {{ prefix_tokens: 2000, distinct_prefixes: {prefixes} }} }}
policies:
  - {{ name: one, single: claude-sonnet-4-5 }}
baseline: one
"#
        ));
        let lambda = v / (prefixes as f64 * MONTH_S);
        let formula = hit_probability(lambda, 300.0, MONTH_S);
        let fast = project(&s, &run_fast(&s, 1)).policies[0]
            .cache_hit_rate
            .unwrap();
        let exact = project(&s, &run(&s, 1)).policies[0].cache_hit_rate.unwrap();
        assert!((fast - formula).abs() < 1e-9);
        // Binomial se at >= 43K lookups is < 0.0025; 0.01 is 4 se.
        assert!(
            (exact - formula).abs() < 0.01,
            "lambda T {}: exact {exact} vs {formula}",
            lambda * 300.0
        );
    }
}
