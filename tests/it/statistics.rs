//! Statistical checks of the simulator against closed forms and numerical
//! integration, each with its tolerance stated and justified.

use crate::common;

use common::{lognormal_mean, run, run_mode, scenario};
use statrs::distribution::{Beta, Continuous};
use tiersim::{Mode, project};

/// Seconds in an average month, as documented (365.25 / 12 days).
const MONTH_S: f64 = 365.25 / 12.0 * 86_400.0;

/// A single model's monthly cost against the closed form, in both modes.
#[test]
fn single_model_mean_cost_matches_closed_form() {
    // 200,000 requests/month on Claude Sonnet 4.5 ($3 in / $15 out per 1M),
    // input lognormal(median 500, p90 1500), output lognormal(200, 600), no
    // cache, no batch, 10% monthly growth.
    //
    // Exact mode: per-request cost has a CV of about 1.1 (both sigmas
    // ~0.86), so the mean of 200K requests has a CV near 0.25%: 1% is 4
    // standard errors. Fast mode: the stratified sample estimates the
    // lognormal means to well under 0.1% and the month's noise is drawn
    // once for the seed; 0.2% holds for the default seed (checked over
    // two months).
    let per_request =
        (lognormal_mean(500.0, 1500.0) * 3.0 + lognormal_mean(200.0, 600.0) * 15.0) / 1e6;
    for (mode, months, seed, tolerance) in [
        (Mode::Exact, 3, "seed: 1", 0.01),
        (Mode::default(), 2, "", 0.002),
    ] {
        let s = scenario(&format!(
            r#"
name: closed-form
horizon_months: {months}
volume: {{ requests_per_month: 200000, growth: {{ monthly_pct: 10 }} }}
workloads:
  - name: w
    share: 1
    task: writing
    input_tokens:  {{ lognormal: {{ median: 500, p90: 1500 }} }}
    output_tokens: {{ lognormal: {{ median: 200, p90: 600 }} }}
    difficulty: 0.3
policies:
  - {{ name: sonnet, single: claude-sonnet-4-5 }}
baseline: sonnet
{seed}
"#
        ));
        let p = project(&s, &run_mode(&s, 1, mode));
        for m in 0..months {
            let expected = 200_000.0 * 1.1f64.powi(m as i32) * per_request;
            let got = p.policies[0].months[m].cost_usd;
            assert!(
                (got / expected - 1.0).abs() < tolerance,
                "{mode:?} month {}: simulated ${got:.2}, closed form ${expected:.2}",
                m + 1
            );
        }
    }
}

/// ∫ f(d) Beta(d) dd by the midpoint rule on 20,000 cells.
fn integrate(mean: f64, k: f64, f: impl Fn(f64) -> f64) -> f64 {
    let b = Beta::new(mean * k, (1.0 - mean) * k).unwrap();
    let n = 20_000;
    (0..n)
        .map(|i| {
            let d = (i as f64 + 0.5) / n as f64;
            f(d) * b.pdf(d) / n as f64
        })
        .sum()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A cascade's quality and escalation against numerical integration, in
/// both modes.
#[test]
fn cascade_quality_and_escalation_match_integration() {
    // Two steps, capabilities 0.6 then 0.9 (pinned in the scenario), slope
    // 0.1, difficulty Beta(mean 0.45, k 6); gate recall 0.8, false alarm 0.1.
    let s = scenario(
        r#"
name: cascade-check
horizon_months: 1
volume: { requests_per_month: 400000 }
workloads:
  - name: w
    share: 1
    task: writing
    input_tokens: 100
    output_tokens: 10
    difficulty: { beta: { mean: 0.45, concentration: 6 } }
policies:
  - name: cascade
    cascade:
      steps: [nova-lite, claude-sonnet-4-5]
      gate: { recall: 0.8, false_alarm: 0.1 }
  - { name: lite, single: nova-lite }
  - { name: sonnet, single: claude-sonnet-4-5 }
baseline: sonnet
quality:
  slope: 0.1
  capabilities:
    nova-lite: { writing: 0.6 }
    claude-sonnet-4-5: { writing: 0.9 }
seed: 5
"#,
    );
    let (r_, f_) = (0.8, 0.1);
    let p1 = |d: f64| sigmoid((0.6 - d) / 0.1);
    let p2 = |d: f64| sigmoid((0.9 - d) / 0.1);
    // Escalate: a good first answer flagged (f) or a bad one caught (r).
    let esc = integrate(0.45, 6.0, |d| p1(d) * f_ + (1.0 - p1(d)) * r_);
    // Success: the first answer is good (kept, or escalated to a model that
    // then succeeds too, by common random numbers), or it is bad, caught,
    // and the second model succeeds where the first failed (p2 - p1).
    let quality = integrate(0.45, 6.0, |d| p1(d) + r_ * (p2(d) - p1(d)));
    let q_lite = integrate(0.45, 6.0, p1);
    let q_sonnet = integrate(0.45, 6.0, p2);
    // Exact mode: the binomial standard error at n = 400,000 is at most
    // 0.0008; 0.004 is 5 of them. Fast mode integrates the outcome out and
    // stratifies difficulty and gate flips: 16,384 samples leave < 0.002.
    for (mode, tol) in [(Mode::Exact, 0.004), (Mode::default(), 0.002)] {
        let p = project(&s, &run_mode(&s, 1, mode));
        let c = &p.policies[0];
        assert!(
            (c.escalation_rate - esc).abs() < tol,
            "{mode:?} escalation {} vs {esc}",
            c.escalation_rate
        );
        assert!(
            (c.quality - quality).abs() < tol,
            "{mode:?} quality {} vs {quality}",
            c.quality
        );
        assert!(
            (p.policies[1].quality - q_lite).abs() < tol,
            "{mode:?} lite {} vs {q_lite}",
            p.policies[1].quality
        );
        assert!(
            (p.policies[2].quality - q_sonnet).abs() < tol,
            "{mode:?} sonnet {} vs {q_sonnet}",
            p.policies[2].quality
        );
    }
}

/// Cache hit rate of one (policy, model): hits / lookups over the run.
fn hit_rate(p: &tiersim::Projection, policy: &str) -> f64 {
    p.policies
        .iter()
        .find(|x| x.name == policy)
        .unwrap()
        .cache_hit_rate
        .unwrap()
}

#[test]
fn cache_hits_follow_poisson_arrivals() {
    // One workload, 50 distinct prefixes, 5-minute TTL. With V requests a
    // month spread over 50 prefixes, each prefix sees lambda = V / (50 * month)
    // requests per second; a request hits iff the previous one with its
    // prefix came within T = 300 s: P(hit) = 1 - exp(-lambda T).
    // A 50/50 split over two models halves lambda per (model, prefix).
    let v = 438_300.0;
    let s = scenario(&format!(
        r#"
name: cache-check
horizon_months: 1
volume: {{ requests_per_month: {v} }}
workloads:
  - name: w
    share: 1
    task: writing
    input_tokens: 100
    output_tokens: 10
    difficulty: 0.2
    cache: {{ prefix_tokens: 2000, distinct_prefixes: 50 }}
policies:
  - {{ name: one, single: claude-sonnet-4-5 }}
  - name: split
    split: {{ claude-sonnet-4-5: 50, claude-sonnet-4-6: 50 }}
baseline: one
seed: 9
"#
    ));
    let r = run(&s, 1);
    let p = project(&s, &r);
    let lambda = v / (50.0 * MONTH_S);
    let one = 1.0 - (-lambda * 300.0).exp();
    let split = 1.0 - (-lambda / 2.0 * 300.0).exp();
    // ~438K lookups: binomial se ~0.0008; the 50-100 cold misses at the start
    // of the month bias by < 0.0003. Tolerance 0.005.
    assert!(
        (hit_rate(&p, "one") - one).abs() < 0.005,
        "{} vs {one}",
        hit_rate(&p, "one")
    );
    assert!(
        (hit_rate(&p, "split") - split).abs() < 0.005,
        "{} vs {split}",
        hit_rate(&p, "split")
    );
    assert!(
        (one - 0.632).abs() < 0.01,
        "the test is set up at lambda T ~ 1"
    );
}

#[test]
fn pinned_hit_rate_is_honoured() {
    let s = scenario(
        r#"
name: pinned
horizon_months: 1
volume: { requests_per_month: 100000 }
workloads:
  - name: w
    share: 1
    task: extraction
    input_tokens: 100
    output_tokens: 10
    difficulty: 0.2
    cache: { prefix_tokens: 2000, hit_rate: 0.7 }
policies:
  - { name: one, single: nova-pro }
baseline: one
"#,
    );
    let p = project(&s, &run(&s, 1));
    // se = sqrt(0.21 / 1e5) = 0.0014; tolerance 0.007 (5 se).
    assert!((hit_rate(&p, "one") - 0.7).abs() < 0.007);
}
