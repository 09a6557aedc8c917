//! Pricing one call with the library, the way `tiersim quote` does, and
//! checking it against the arithmetic done by hand.
//!
//! Run with: cargo run --release --example quote_a_call

use tiersim::catalog::Catalog;
use tiersim::catalog::pricing::{CacheOutcome, CallShape, ServiceTier, Ttl, price_call};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::load("bedrock-2026-11", None)?;
    let sonnet = catalog.find("claude-sonnet-4-5").ok_or("model missing")?;
    let pricing = catalog.pricing(sonnet, 1.0);
    // A support reply: 1,800 cached tokens of system prompt + tools, 900
    // tokens of ticket, 300 tokens out; the prefix was in the cache.
    let call = CallShape {
        input_tokens: 2_700,
        output_tokens: 300,
        prefix_tokens: 1_800,
        cache: Some(CacheOutcome::Hit),
        ttl: Ttl::FiveMinutes,
        batch: false,
        service: ServiceTier::Standard,
    };
    let c = price_call(&pricing, &call);
    println!("input       ${:.6}", c.input);
    println!("cache read  ${:.6}", c.cache_read);
    println!("output      ${:.6}", c.output);
    println!("total       ${:.6}", c.total());
    // 900 x $3 + 1,800 x $0.30 + 300 x $15, per 1M tokens.
    let by_hand = (900.0 * 3.0 + 1_800.0 * 0.30 + 300.0 * 15.0) / 1e6;
    assert!((c.total() - by_hand).abs() < 1e-12);
    println!("matches the hand computation: ${by_hand:.6}");
    Ok(())
}
