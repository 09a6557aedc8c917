//! Pricing of one call, against dollar figures computed by hand from the
//! catalog's published rates (USD per 1M tokens). Each expected value is
//! written as the arithmetic a person would do, not produced by tiersim.

use tiersim::catalog::Catalog;
use tiersim::catalog::pricing::{CacheOutcome, CallShape, Charges, ServiceTier, Ttl, price_call};

fn catalog() -> Catalog {
    Catalog::load("bedrock-2026-11", None).expect("embedded catalog loads")
}

/// Prices a call on `model` under `profile`.
fn price(model: &str, profile: &str, call: CallShape) -> Charges {
    let c = catalog();
    let id = c.find(model).expect("model in catalog");
    let (_, mult) = c
        .model(id)
        .profile(profile, &c.default_profile)
        .expect("profile");
    price_call(&c.pricing(id, mult), &call)
}

fn call(input: u64, output: u64) -> CallShape {
    CallShape {
        input_tokens: input,
        output_tokens: output,
        prefix_tokens: 0,
        cache: None,
        ttl: Ttl::FiveMinutes,
        batch: false,
        service: ServiceTier::Standard,
    }
}

fn cached(input: u64, prefix: u64, output: u64, outcome: CacheOutcome, ttl: Ttl) -> CallShape {
    CallShape {
        prefix_tokens: prefix,
        cache: Some(outcome),
        ttl,
        ..call(input, output)
    }
}

fn batch(mut c: CallShape) -> CallShape {
    c.batch = true;
    c
}

/// Equal to a millionth of a cent.
fn assert_usd(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-8,
        "got ${actual}, expected ${expected}"
    );
}

#[test]
fn nova_micro_plain_call() {
    // 1,000 in x $0.035/1M + 200 out x $0.14/1M
    let c = price("nova-micro", "global", call(1000, 200));
    assert_usd(c.input, 0.000035);
    assert_usd(c.output, 0.000028);
    assert_usd(c.total(), 0.000063);
}

#[test]
fn nova_lite_batch_is_half_price() {
    // 10,000 x $0.03 + 1,000 x $0.12 (batch rates)
    let c = price("nova-lite", "global", batch(call(10_000, 1_000)));
    assert_usd(c.total(), 0.0003 + 0.00012);
}

#[test]
fn nova_pro_cache_hit_reads_at_a_quarter() {
    // 5,000 in of which 3,000 cached: 2,000 x $0.80 + 3,000 x $0.20 + 500 x $3.20
    let c = price(
        "nova-pro",
        "global",
        cached(5000, 3000, 500, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.input, 0.0016);
    assert_usd(c.cache_read, 0.0006);
    assert_usd(c.cache_write, 0.0);
    assert_usd(c.output, 0.0016);
    assert_usd(c.total(), 0.0038);
}

#[test]
fn nova_cache_miss_has_no_write_surcharge() {
    // The 3,000-token write is billed at the input rate: 3,000 x $0.80.
    let c = price(
        "nova-pro",
        "global",
        cached(5000, 3000, 500, CacheOutcome::Miss, Ttl::FiveMinutes),
    );
    assert_usd(c.cache_write, 0.0024);
    assert_usd(c.total(), 0.0016 + 0.0024 + 0.0016);
}

#[test]
fn nova_prefix_below_minimum_checkpoint_is_plain_input() {
    // 800-token prefix < Nova's 1,000-token minimum: 2,000 x $0.80, no cache components.
    let c = price(
        "nova-pro",
        "global",
        cached(2000, 800, 0, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.input, 0.0016);
    assert_usd(c.cache_read, 0.0);
    assert_usd(c.total(), 0.0016);
}

#[test]
fn nova_premier_large_call() {
    // 100,000 x $2.50 + 2,000 x $12.50
    let c = price("nova-premier", "global", call(100_000, 2_000));
    assert_usd(c.total(), 0.25 + 0.025);
}

#[test]
fn nova_2_lite_global_and_regional() {
    // global: 1,000 x $0.30 + 1,000 x $2.50; us profile is 1.1x.
    assert_usd(
        price("nova-2-lite", "global", call(1000, 1000)).total(),
        0.0028,
    );
    assert_usd(
        price("nova-2-lite", "us", call(1000, 1000)).total(),
        0.0028 * 1.1,
    );
}

#[test]
fn claude_sonnet_cache_miss_writes_at_1_25x() {
    // 10,000 in of which 4,000 prefix: 6,000 x $3 + 4,000 x $3.75 + 1,000 x $15
    let c = price(
        "claude-sonnet-4-5",
        "global",
        cached(10_000, 4_000, 1_000, CacheOutcome::Miss, Ttl::FiveMinutes),
    );
    assert_usd(c.input, 0.018);
    assert_usd(c.cache_write, 0.015);
    assert_usd(c.output, 0.015);
    assert_usd(c.total(), 0.048);
}

#[test]
fn claude_sonnet_one_hour_write_is_2x() {
    // 4,000 x $6.00 for the 1-hour write.
    let c = price(
        "claude-sonnet-4-5",
        "global",
        cached(10_000, 4_000, 1_000, CacheOutcome::Miss, Ttl::OneHour),
    );
    assert_usd(c.cache_write, 0.024);
    assert_usd(c.total(), 0.018 + 0.024 + 0.015);
}

#[test]
fn claude_sonnet_cache_hit_reads_at_0_1x() {
    // 4,000 x $0.30 for the read.
    let c = price(
        "claude-sonnet-4-5",
        "global",
        cached(10_000, 4_000, 1_000, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.cache_read, 0.0012);
    assert_usd(c.total(), 0.018 + 0.0012 + 0.015);
}

#[test]
fn claude_haiku_4_5_prefix_below_4096_is_not_cached() {
    // 3,000-token prefix < 4,096 minimum: 5,000 x $1 + 100 x $5.
    let c = price(
        "claude-haiku-4-5",
        "global",
        cached(5_000, 3_000, 100, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.cache_read, 0.0);
    assert_usd(c.total(), 0.005 + 0.0005);
}

#[test]
fn claude_opus_4_5_cache_hit() {
    // 5,000 x $5 + 5,000 x $0.50 + 1,000 x $25
    let c = price(
        "claude-opus-4-5",
        "global",
        cached(10_000, 5_000, 1_000, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.total(), 0.025 + 0.0025 + 0.025);
}

#[test]
fn long_context_rates_apply_to_the_whole_call() {
    // Sonnet 4.5 above 200K input: 300,000 x $6 + 2,000 x $22.50
    let c = price("claude-sonnet-4-5", "global", call(300_000, 2_000));
    assert_usd(c.input, 1.8);
    assert_usd(c.output, 0.045);
    // At exactly 200K the standard rates still apply: 200,000 x $3 + 2,000 x $15.
    let c = price("claude-sonnet-4-5", "global", call(200_000, 2_000));
    assert_usd(c.total(), 0.6 + 0.03);
}

#[test]
fn long_context_cache_hit_uses_long_read_rate() {
    // 250,000 in of which 100,000 cached: 150,000 x $6 + 100,000 x $0.60 + 1,000 x $22.50
    let c = price(
        "claude-sonnet-4-5",
        "global",
        cached(250_000, 100_000, 1_000, CacheOutcome::Hit, Ttl::FiveMinutes),
    );
    assert_usd(c.total(), 0.9 + 0.06 + 0.0225);
}

#[test]
fn regional_profile_costs_1_1x_for_claude_4_5() {
    // us profile: (1,000 x $3 + 1,000 x $15) x 1.1
    let c = price("claude-sonnet-4-5", "us", call(1000, 1000));
    assert_usd(c.total(), 0.018 * 1.1);
    // ... and the cache rates too: 4,000 x $3.75 x 1.1
    let c = price(
        "claude-sonnet-4-5",
        "eu",
        cached(4_000, 4_000, 0, CacheOutcome::Miss, Ttl::FiveMinutes),
    );
    assert_usd(c.cache_write, 0.015 * 1.1);
}

#[test]
fn claude_sonnet_batch_is_half_price() {
    // 10,000 x $1.50 + 1,000 x $7.50
    let c = price("claude-sonnet-4-5", "global", batch(call(10_000, 1_000)));
    assert_usd(c.total(), 0.015 + 0.0075);
}

#[test]
fn batch_on_a_model_without_batch_is_on_demand() {
    // Opus 4.5 lists no batch rate: 10,000 x $5 + 1,000 x $25.
    let c = price("claude-opus-4-5", "global", batch(call(10_000, 1_000)));
    assert_usd(c.total(), 0.05 + 0.025);
}

#[test]
fn batch_calls_are_not_cached() {
    // Batch Sonnet with a cached prefix: all 10,000 input at the batch rate $1.50.
    let c = price(
        "claude-sonnet-4-5",
        "global",
        batch(cached(
            10_000,
            4_000,
            1_000,
            CacheOutcome::Hit,
            Ttl::FiveMinutes,
        )),
    );
    assert_usd(c.cache_read, 0.0);
    assert_usd(c.total(), 0.015 + 0.0075);
}

#[test]
fn model_without_caching_bills_prefix_as_input() {
    // Claude 3 Haiku: 5,000 x $0.25 + 500 x $1.25
    let c = price(
        "claude-3-haiku",
        "global",
        cached(5_000, 2_000, 500, CacheOutcome::Miss, Ttl::FiveMinutes),
    );
    assert_usd(c.cache_write, 0.0);
    assert_usd(c.total(), 0.00125 + 0.000625);
}

#[test]
fn one_hour_ttl_on_nova_falls_back_to_five_minutes() {
    // Nova has no 1-hour cache: the write is at the 5-minute rate (= input, $0.035).
    let c = price(
        "nova-micro",
        "global",
        cached(2_000, 2_000, 0, CacheOutcome::Miss, Ttl::OneHour),
    );
    assert_usd(c.cache_write, 2_000.0 * 0.035 / 1e6);
}

#[test]
fn haiku_5_5_long_context_above_100k() {
    // Above 100K input the whole call is 5x: 150,000 x $0.50 + 1,000 x $2.50
    let c = price("claude-haiku-5-5", "global", call(150_000, 1_000));
    assert_usd(c.total(), 0.075 + 0.0025);
}

#[test]
fn nova_micro_eu_profile() {
    // eu Nova Micro is listed at $0.046 / $0.184: 1,000 of each.
    let c = price("nova-micro", "eu", call(1_000, 1_000));
    assert_usd(c.total(), 0.000046 + 0.000184);
}

#[test]
fn nova_models_without_global_profile_use_their_fallback() {
    let c = catalog();
    let m = c.model(c.find("nova-pro").unwrap());
    assert_eq!(m.profile("global", "global"), Some(("us".to_string(), 1.0)));
    assert_eq!(m.profile("jp", "global"), None);
}

#[test]
fn representative_catalog_reproduces_the_comparison_rates() {
    let c = Catalog::load("representative-2026", None).unwrap();
    let rates: Vec<(&str, f64, f64)> = c
        .models
        .iter()
        .map(|m| (m.key.as_str(), m.rates.input, m.rates.output))
        .collect();
    assert_eq!(
        rates,
        vec![
            ("nova-micro", 0.035, 0.14),
            ("nova-lite", 0.06, 0.24),
            ("claude-haiku", 0.25, 1.25),
            ("nova-pro", 0.80, 3.20),
            ("nova-premier", 2.50, 12.50),
            ("claude-sonnet", 3.00, 15.00),
            ("claude-opus", 15.00, 75.00),
        ]
    );
}
