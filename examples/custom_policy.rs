//! A routing policy written outside the crate, run next to the built-in ones.
//!
//! "Route by input length": short requests to Nova Lite, long ones to Nova
//! Pro. It implements the one `Policy` trait; the engine prices its calls,
//! caches prefixes and judges its answers like any built-in policy.
//!
//! Run with: cargo run --release --example custom_policy

use std::sync::Arc;

use tiersim::policy::{Context, Decision, Policy};
use tiersim::{ModelId, Request, RunOptions, Scenario, project};

/// Sends requests up to `threshold` input tokens to `short`, the rest to `long`.
struct ByInputLength {
    short: ModelId,
    long: ModelId,
    threshold: u64,
}

impl Policy for ByInputLength {
    fn name(&self) -> &str {
        "by-input-length"
    }

    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        let model = if req.input_tokens <= self.threshold {
            self.short
        } else {
            self.long
        };
        // Call the model if it can take the request (context window, output
        // limit, modality); otherwise fall back to the long-context model.
        ctx.serve_with(model, &[self.long], req, out);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/support-platform.yaml");
    // A smaller volume keeps the example quick; any `--set` works here too.
    let scenario = Scenario::load(&path, &["volume.requests_per_month=300000".to_string()])?;
    let catalog = &scenario.catalog;
    let custom = ByInputLength {
        short: catalog
            .find("nova-lite")
            .ok_or("nova-lite not in catalog")?,
        long: catalog.find("nova-pro").ok_or("nova-pro not in catalog")?,
        threshold: 2_500,
    };
    let run = tiersim::run(
        &scenario,
        &RunOptions {
            extra_policies: vec![Arc::new(custom)],
            ..RunOptions::default()
        },
    )?;
    let p = project(&scenario, &run);

    println!(
        "{:<16} {:>14} {:>9} {:>9}",
        "policy", "12-month cost", "quality", "loss pp"
    );
    for x in &p.policies {
        println!(
            "{:<16} {:>14.2} {:>8.2}% {:>9.2}",
            x.name,
            x.total_cost_usd,
            x.quality * 100.0,
            x.quality_loss_pp
        );
    }

    // The example checks its own result.
    let get = |n: &str| p.policies.iter().find(|x| x.name == n).expect("policy");
    let custom = get("by-input-length");
    let pro = get("all-nova-pro");
    // It only ever calls the two models it routes to.
    let models: Vec<&str> = custom.by_model.keys().map(String::as_str).collect();
    assert_eq!(models, ["nova-lite", "nova-pro"]);
    // Sending the short majority to Nova Lite is cheaper than all-Nova-Pro ...
    assert!(custom.total_cost_usd < pro.total_cost_usd);
    // ... and, Nova Lite being the weaker model, never better.
    assert!(custom.quality <= pro.quality);
    // Requests are conserved.
    assert_eq!(custom.requests, pro.requests);
    println!(
        "\nby-input-length costs {:.1}% less than all-nova-pro at {:.2} pp lower quality.",
        (1.0 - custom.total_cost_usd / pro.total_cost_usd) * 100.0,
        (pro.quality - custom.quality) * 100.0
    );
    Ok(())
}
