//! Service tiers, traffic shape, quotas and latency objectives: prices and
//! closed forms computed by hand.

use crate::common::{self, stderr, stdout, tiersim};

use tiersim::analysis::capacity::{QuotaOrigin, capacity};
use tiersim::catalog::Catalog;
use tiersim::catalog::pricing::{CacheOutcome, CallShape, Ttl, price_call};
use tiersim::traffic::shape::{Shape, excess_uniform, month_minutes};
use tiersim::{Mode, project};

/// The price of one call of `route` (`model` or `model:tier`) under `profile`.
fn price(
    route: &str,
    profile: &str,
    input: u64,
    prefix: u64,
    cache: Option<CacheOutcome>,
    output: u64,
) -> f64 {
    let c = Catalog::load("bedrock-2026-11", None).unwrap();
    let id = c.find_route(route).unwrap();
    let (_, mult) = c.model(id).profile(profile, &c.default_profile).unwrap();
    price_call(
        &c.pricing(id, mult),
        &CallShape {
            input_tokens: input,
            output_tokens: output,
            prefix_tokens: prefix,
            cache,
            ttl: Ttl::FiveMinutes,
            batch: false,
            service: id.service().unwrap_or_default(),
        },
    )
    .total()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-9)
}

#[test]
fn nova_pro_priority_is_1_75x_standard() {
    // 1,000 in x $1.40 + 500 out x $5.60 per 1M (LiteLLM's
    // input_cost_per_token_priority 1.4e-6, output 5.6e-6).
    let p = price("nova-pro:priority", "global", 1000, 0, None, 500);
    assert!(close(p, (1000.0 * 1.4 + 500.0 * 5.6) / 1e6), "{p}");
    assert!(close(p, 0.0042), "{p}");
    let std = price("nova-pro", "global", 1000, 0, None, 500);
    assert!(close(p / std, 1.75), "{}", p / std);
}

#[test]
fn nova_pro_flex_is_half_standard() {
    let p = price("nova-pro:flex", "global", 1000, 0, None, 500);
    assert!(close(p, 0.0012), "{p}");
}

#[test]
fn a_priority_cache_hit_reads_at_the_priority_read_rate() {
    // 1,000 fresh x 1.40 + 2,000 read x 0.35 + 100 out x 5.60 = 2,660 per 1M.
    let p = price(
        "nova-pro:priority",
        "global",
        3000,
        2000,
        Some(CacheOutcome::Hit),
        100,
    );
    assert!(close(p, 0.00266), "{p}");
}

#[test]
fn a_flex_cache_miss_writes_at_the_flex_input_rate() {
    // Nova bills cache writes at the input rate: 1,000 x 0.40 + 2,000 x
    // 0.40 + 100 x 1.60 = 1,360 per 1M.
    let p = price(
        "nova-pro:flex",
        "global",
        3000,
        2000,
        Some(CacheOutcome::Miss),
        100,
    );
    assert!(close(p, 0.00136), "{p}");
}

#[test]
fn a_profile_multiplier_applies_to_the_tier_rates() {
    // Nova 2 Lite priority at the us profile (1.1x): LiteLLM's
    // us.amazon.nova-2-lite-v1:0 lists 5.775e-7 and 4.8125e-6 per token,
    // so 1,000 in + 1,000 out = 577.5 + 4,812.5 = 5,390 per 1M.
    let p = price("nova-2-lite:priority", "us", 1000, 0, None, 1000);
    assert!(close(p, 0.00539), "{p}");
}

#[test]
fn nova_premier_priority_by_hand() {
    // 2,000 x 4.375 + 1,000 x 21.875 = 30,625 per 1M.
    let p = price("nova-premier:priority", "global", 2000, 0, None, 1000);
    assert!(close(p, 0.030625), "{p}");
}

#[test]
fn quote_prices_a_tier_and_refuses_one_a_model_lacks() {
    let o = tiersim(&[
        "quote", "nova-pro", "--input", "1000", "--output", "500", "--tier", "flex", "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["service_tier"], "flex");
    assert!(close(doc["total_usd"].as_f64().unwrap(), 0.0012));
    let o = tiersim(&[
        "quote",
        "claude-sonnet-4-5",
        "--input",
        "10",
        "--output",
        "10",
        "--tier",
        "priority",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: model `claude-sonnet-4-5` does not offer the priority tier in catalog `bedrock-2026-11` (it offers: standard); models that do: nova-pro, nova-premier, nova-2-lite\n"
    );
    let o = tiersim(&[
        "quote",
        "nova-pro:flex",
        "--input",
        "10",
        "--output",
        "10",
        "--batch",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: a batch call has no service tier; drop --batch or the `:flex` tier\n"
    );
}

fn one_workload(extra_workload: &str, policies: &str, top: &str) -> tiersim::Scenario {
    common::scenario(&format!(
        "name: tiers
horizon_months: 1
seed: 5
volume:
  requests_per_month: 2000
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: 1000
    output_tokens: 500
    difficulty: 0.2
{extra_workload}
policies:
{policies}
baseline: {base}
{top}",
        base = policies
            .lines()
            .find_map(|l| l.trim().strip_prefix("- name: "))
            .unwrap()
    ))
}

#[test]
fn a_workloads_tier_bills_every_call_on_models_that_offer_it() {
    let s = one_workload(
        "    service_tier: flex",
        "  - name: pro
    single: nova-pro
  - name: haiku
    single: claude-haiku-4-5
  - name: pro-priority
    single: nova-pro:priority",
        "",
    );
    let run = common::run(&s, 1);
    let p = project(&s, &run);
    let cost = |i: usize| p.policies[i].total_cost_usd;
    // Every request: 1,000 in and 500 out. Nova Pro at flex: $0.0012 a call.
    assert!(close(cost(0), 2000.0 * 0.0012), "{}", cost(0));
    // Claude Haiku 4.5 offers no flex: standard, $1 / $5 per 1M.
    assert!(
        close(cost(1), 2000.0 * (1000.0 * 1.0 + 500.0 * 5.0) / 1e6),
        "{}",
        cost(1)
    );
    // A step's own tier wins over the workload's.
    assert!(close(cost(2), 2000.0 * 0.0042), "{}", cost(2));
    let c = capacity(&s, &run);
    assert!(close(c.tiers[0].spend_share[2], 1.0));
    // Flex saves half of standard: 2,000 x (0.0012 - 0.0024).
    assert!(
        close(c.tiers[0].premium_usd, -2.4),
        "{}",
        c.tiers[0].premium_usd
    );
    assert!(close(c.tiers[2].premium_usd, 2000.0 * (0.0042 - 0.0024)));
}

#[test]
fn peak_minute_demand_and_throttling_by_hand() {
    // 12 busy hours at 3x, 12 quiet at 1x (weekends alike): the busy hours
    // run at 1.5x the mean; a minute burst of 1.2 makes the busiest
    // minute 1.8x the month's average minute.
    let mut daily = vec!["3"; 12];
    daily.extend(vec!["1"; 12]);
    let s = common::scenario(&format!(
        "name: shaped
horizon_months: 1
seed: 5
volume:
  requests_per_month: 100000
  shape: {{ daily: [{}], peak_minute_factor: 1.2 }}
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: 1000
    output_tokens: 500
    difficulty: 0.2
    max_tokens: 800
policies:
  - name: micro
    single: nova-micro
baseline: micro
quotas:
  nova-micro: 5500
",
        daily.join(", ")
    ));
    let run = common::run(&s, 1);
    let c = capacity(&s, &run);
    let q = &c.quotas[0];
    assert_eq!(q.quota_origin, QuotaOrigin::Scenario);
    let minutes = month_minutes();
    let micro = s.catalog.find("nova-micro").unwrap().index();
    let calls = run.ledgers[0][0].cell(0, micro).calls;
    // Settled: 1,000 in + 500 out (burndown 1) per call.
    assert!(
        close(q.settled_tpm, calls * 1500.0 / minutes),
        "{}",
        q.settled_tpm
    );
    // In flight: each call holds 300 unused max_tokens for its latency,
    // 0.3 s + 500 / 200 tok/s = 2.8 s of a minute.
    let demand = (calls * 1500.0 + calls * 300.0 * 2.8 / 60.0) / minutes;
    assert!(
        (q.demand_tpm - demand).abs() < 1e-9 * demand,
        "{} {demand}",
        q.demand_tpm
    );
    assert!((q.peak_demand_tpm - 1.8 * demand).abs() < 1e-9 * demand);
    assert!(close(c.peak_hour_factor, 1.5));
    // Throttled: busy hours' minutes spread over [0.8, 1.2] x 1.5 x demand,
    // quiet hours' over [0.8, 1.2] x 0.5 x demand, against 5,500 (about
    // 3,450 a minute on average: the busy hours' top minutes are refused).
    let (busy, quiet) = (1.5 * demand, 0.5 * demand);
    let over = 0.5 * excess_uniform(0.8 * busy, 1.2 * busy, 5500.0)
        + 0.5 * excess_uniform(0.8 * quiet, 1.2 * quiet, 5500.0);
    let share = over / (0.5 * busy + 0.5 * quiet);
    assert!(share > 0.0);
    assert!(
        (q.throttled_share.unwrap() - share).abs() < 1e-12,
        "{:?} {share}",
        q.throttled_share
    );
    assert_eq!(
        q.quota_to_request_tpm,
        (1.8 * q.demand_tpm / 1e4).ceil() * 1e4
    );
}

#[test]
fn the_hit_rate_under_a_two_level_shape_is_the_traffic_weighted_mean() {
    // One prefix, 5-minute TTL: P(hit) = 1 - exp(-lambda T) at each level,
    // averaged with the traffic's weights (3/4 of requests in busy hours).
    let mut daily = vec!["3"; 12];
    daily.extend(vec!["1"; 12]);
    let text = |shape: &str| {
        format!(
            "name: warm
horizon_months: 1
seed: 9
volume:
  requests_per_month: 2000
{shape}
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: 100
    output_tokens: 10
    difficulty: 0.2
    cache: {{ prefix_tokens: 2000, distinct_prefixes: 1, ttl: 5m }}
policies:
  - name: sonnet
    single: claude-sonnet-4-5
baseline: sonnet
"
        )
    };
    let shaped = common::scenario(&text(&format!(
        "  shape: {{ daily: [{}] }}",
        daily.join(", ")
    )));
    let flat = common::scenario(&text(""));
    let rate = 2000.0 / tiersim::calendar::MONTH_SECONDS;
    let t = 300.0;
    let expect = |lambda: f64| {
        0.75 * (1.0 - (-1.5 * lambda * t).exp()) + 0.25 * (1.0 - (-0.5 * lambda * t).exp())
    };
    let hit = |s: &tiersim::Scenario, mode: Mode, reps: u32| {
        let run = common::run_mode(s, reps, mode);
        let m = s.catalog.find("claude-sonnet-4-5").unwrap().index();
        let c = run.ledgers[0][0].cell(0, m);
        c.cache_hits / (c.cache_hits + c.cache_misses)
    };
    // Fast path: the closed form (with the month's cold start, 1e-3 here).
    let fast = hit(&shaped, Mode::default(), 1);
    assert!(
        (fast - expect(rate)).abs() < 2e-3,
        "{fast} vs {}",
        expect(rate)
    );
    // Exact mode: arrivals follow the shape; 40 replications of 2,000
    // requests, sd of the mean hit rate about 0.0025 (tolerance 4 sd).
    let exact = hit(&shaped, Mode::Exact, 40);
    assert!(
        (exact - expect(rate)).abs() < 0.01,
        "{exact} vs {}",
        expect(rate)
    );
    // At this rate (lambda T = 0.23) bunching the traffic keeps the cache
    // warm more often: 0.244 against 0.204 flat. (At high rates it can
    // go the other way: 1 - exp(-x) flattens out.)
    let flat_fast = hit(&flat, Mode::default(), 1);
    assert!((flat_fast - (1.0 - (-rate * t).exp())).abs() < 2e-3);
    assert!(fast > flat_fast + 0.03, "{fast} {flat_fast}");
}

#[test]
fn a_flat_shape_changes_nothing() {
    let body = "horizon_months: 2
seed: 4
volume:
  requests_per_month: 5000
  growth: { monthly_pct: 5 }
SHAPE
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: { lognormal: { median: 400, p90: 900 } }
    output_tokens: 200
    difficulty: { beta: { mean: 0.3, concentration: 5 } }
    cache: { prefix_tokens: 1500, distinct_prefixes: 3 }
policies:
  - name: haiku
    single: claude-haiku-4-5
baseline: haiku
";
    let a = common::scenario(&format!("name: a\n{}", body.replace("SHAPE", "")));
    let b = common::scenario(&format!(
        "name: a\n{}",
        body.replace("SHAPE", "  shape: { daily: flat, weekend_factor: 1 }")
    ));
    for mode in [Mode::Exact, Mode::default()] {
        let (ra, rb) = (common::run_mode(&a, 2, mode), common::run_mode(&b, 2, mode));
        let (pa, pb) = (project(&a, &ra), project(&b, &rb));
        assert_eq!(
            pa.policies[0].total_cost_usd.to_bits(),
            pb.policies[0].total_cost_usd.to_bits()
        );
        assert_eq!(ra.ledgers, rb.ledgers);
    }
}

#[test]
fn a_latency_objective_is_met_or_broken() {
    // Nova Micro: 0.3 s + 500 tokens at 200 tok/s = 2.8 s every request.
    let s = one_workload(
        "    slo: { p95_seconds: 2 }",
        "  - name: micro
    single: nova-micro
  - name: micro-priority
    single: nova-pro:priority",
        "",
    );
    let run = common::run(&s, 1);
    let c = capacity(&s, &run);
    assert!(!c.slo[0].met);
    let p95 = c.slo[0].p95_ms.unwrap();
    assert!((p95 - 2800.0).abs() < 2800.0 * 0.05, "{p95}");
    // Nova Pro at Priority: 0.5 s + 500 / (100 x 1.25) s = 4.5 s: broken too.
    let p95 = c.slo[1].p95_ms.unwrap();
    assert!((p95 - 4500.0).abs() < 4500.0 * 0.05, "{p95}");
}

#[test]
fn a_shape_weights_hours_as_written() {
    let mut d = [1.0; 24];
    d[9..17].fill(4.0);
    let s = Shape::new(&d, 0.5, 1.0);
    // Weekday hours sum to 16 + 32 = 48; a weekend day to 24; the week
    // (5 x 48 + 2 x 24) / 168 = 288 / 168 per hour.
    let mean = 288.0 / 168.0;
    assert!((s.peak_hour_factor() - 4.0 / mean).abs() < 1e-12);
    assert!((s.hourly()[24 * 5 + 10] - 2.0 / mean).abs() < 1e-12);
}

#[test]
fn simulated_throttling_refuses_the_share_above_the_quota_and_spills_to_the_fallback() {
    // 200,000 calls of 1,000 in and 500 out a month, flat, max_tokens 500
    // (nothing reserved beyond use): 1,500 quota tokens a call, 4.563
    // calls a minute, 6,845 tokens a minute against a quota of 5,000: the
    // share (6,845 - 5,000) / 6,845 of calls is refused.
    let s = common::scenario(
        "name: throttled
horizon_months: 1
seed: 8
volume:
  requests_per_month: 200000
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: 1000
    output_tokens: 500
    difficulty: 0.2
    max_tokens: 500
policies:
  - name: micro
    single: nova-micro
  - name: micro-then-lite
    single: nova-micro
    fallback: [nova-lite]
baseline: micro
quotas:
  nova-micro: 5000
simulate_throttling: true
",
    );
    let run = common::run(&s, 1);
    let demand = 200_000.0 * 1500.0 / month_minutes();
    let theta = (demand - 5000.0) / demand;
    let micro = s.catalog.find("nova-micro").unwrap().index();
    let table = run.throttled.as_ref().expect("throttling simulated");
    assert!(
        (table[0][0][micro] - theta).abs() < 1e-12,
        "{}",
        table[0][0][micro]
    );
    let p = project(&s, &run);
    // Without a fallback the refused requests go unserved (binomial sd
    // 0.001 at 200,000 calls; tolerance 5 sd).
    assert!(
        (p.policies[0].unserved_rate - theta).abs() < 0.005,
        "{}",
        p.policies[0].unserved_rate
    );
    // With one they spill to Nova Lite and are paid there.
    assert_eq!(p.policies[1].unserved_rate, 0.0);
    let (c_micro, c_lite) = (
        (1000.0 * 0.035 + 500.0 * 0.14) / 1e6,
        (1000.0 * 0.06 + 500.0 * 0.24) / 1e6,
    );
    let expect = 200_000.0 * ((1.0 - theta) * c_micro + theta * c_lite);
    let got = p.policies[1].total_cost_usd;
    assert!((got - expect).abs() < 0.005 * expect, "{got} vs {expect}");
    // The fast path says plainly it does not do this.
    let Err(err) = tiersim::run(&s, &tiersim::RunOptions::default()) else {
        panic!("the fast path must refuse simulate_throttling");
    };
    assert!(
        err.to_string()
            .contains("the fast path does not simulate throttling yet"),
        "{err}"
    );
}

#[test]
fn the_report_page_carries_the_capacity_tables() {
    let dir = common::absent_dir("capacity-out");
    let o = tiersim(&[
        "run",
        "scenarios/support-platform-10x.yaml",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for needle in [
        "<h3>Capacity: month 12</h3>",
        "<h3>Service tiers</h3>",
        "<h3>Latency objectives</h3>",
        "<th class=\"num\">busiest minute</th>",
        "<tr><td>all-nova-pro-priority</td><td class=\"num\">6.6%</td><td class=\"num\">93.4%</td>",
    ] {
        assert!(page.contains(needle), "report.html lacks {needle}");
    }
    // The terminal says the same, and the JSON carries the figures.
    let o = tiersim(&[
        "run",
        "scenarios/support-platform-10x.yaml",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let q = &doc["capacity"]["quotas"][0];
    assert_eq!(q["policy"], "all-sonnet");
    assert_eq!(q["output_burndown"], 5.0);
    assert_eq!(q["quota_origin"], "scenario");
}

#[test]
fn a_price_ranking_sees_each_workloads_tier() {
    // Same shapes, two tiers: 1,000 in + 500 out costs $0.001550 on Nova 2
    // Lite at standard, $0.000775 at flex, $0.000875 on Claude 3 Haiku. The
    // oracle takes the cheapest acceptable model, so the flex workload's
    // requests go to Nova 2 Lite and the standard one's to Claude 3 Haiku
    // (a list-price memo keyed without the tier would mix them up).
    let s = common::scenario(
        "name: ranking
horizon_months: 1
seed: 2
volume:
  requests_per_month: 4000
workloads:
  - name: std
    share: 0.5
    task: classification
    input_tokens: 1000
    output_tokens: 500
    difficulty: 0.02
  - name: flex
    share: 0.5
    task: classification
    input_tokens: 1000
    output_tokens: 500
    difficulty: 0.02
    service_tier: flex
policies:
  - name: cheapest
    oracle: [nova-2-lite, claude-3-haiku]
baseline: cheapest
",
    );
    let run = common::run(&s, 1);
    let led = &run.ledgers[0][0];
    let (n_std, n_flex) = (led.per_workload[0].requests, led.per_workload[1].requests);
    assert_eq!(n_std + n_flex, 4000.0);
    let lite = s.catalog.find("nova-2-lite").unwrap().index();
    let haiku = s.catalog.find("claude-3-haiku").unwrap().index();
    // All but the rare request Claude 3 Haiku fails (required capability
    // above its 0.75, about 1 in 1,400 at difficulty 0.02) follow the price.
    assert!(
        led.cell(1, lite).calls >= 0.99 * n_flex,
        "{}",
        led.cell(1, lite).calls
    );
    assert!(
        led.cell(0, haiku).calls >= 0.99 * n_std,
        "{}",
        led.cell(0, haiku).calls
    );
}
