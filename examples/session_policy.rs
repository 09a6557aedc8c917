//! A custom policy that routes on the session's state, run next to the
//! built-in ones on the dev-team-agent scenario.
//!
//! "Plan with Sonnet, execute with Haiku": an agent task's first step (the
//! plan) goes to Claude Sonnet 4.5, later steps to Claude Haiku 4.5, except
//! once the context is long (over 100,000 tokens), where the task is
//! usually stuck and the stronger model earns its price. Every turn's
//! request carries `Request::session`: the turn index, the context so far,
//! the model that answered the previous turn and whether a gate failed.
//!
//! Run with: cargo run --release --example session_policy

use std::sync::Arc;

use tiersim::policy::{Context, Decision, Policy};
use tiersim::{ModelId, Request, RunOptions, Scenario, project};

struct PlanThenExecute {
    planner: ModelId,
    executor: ModelId,
    long_context: u64,
}

impl Policy for PlanThenExecute {
    fn name(&self) -> &str {
        "plan-then-execute"
    }

    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        let s = &req.session;
        let model = if s.turn == 0 || s.context_tokens > self.long_context {
            self.planner
        } else {
            self.executor
        };
        ctx.serve_with(model, &[self.planner], req, out);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/dev-team-agent.yaml");
    let scenario = Scenario::load(&path, &["horizon_months=1".to_string()])?;
    let catalog = &scenario.catalog;
    let find = |k: &str| catalog.find(k).ok_or(format!("{k} not in catalog"));
    let custom = PlanThenExecute {
        planner: find("claude-sonnet-4-5")?,
        executor: find("claude-haiku-4-5")?,
        long_context: 100_000,
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
        "{:<18} {:>12} {:>11} {:>10} {:>10}",
        "policy", "month cost", "$/session", "turns ok", "tasks ok"
    );
    for x in &p.policies {
        let s = x.by_workload["agent-task"]
            .sessions
            .as_ref()
            .ok_or("agent-task is a session workload")?;
        println!(
            "{:<18} {:>12.2} {:>11.4} {:>9.1}% {:>9.1}%",
            x.name,
            x.total_cost_usd,
            s.cost_per_session,
            s.turn_quality * 100.0,
            s.session_quality * 100.0
        );
    }

    // The example checks its own result.
    let get = |n: &str| p.policies.iter().find(|x| x.name == n).expect("policy");
    let custom = get("plan-then-execute");
    let (sonnet, haiku) = (get("all-sonnet"), get("all-haiku"));
    // It calls Sonnet (plans, long contexts) and Haiku (the rest), and
    // Haiku for the compaction summaries every policy makes.
    let models: Vec<&str> = custom.by_model.keys().map(String::as_str).collect();
    assert_eq!(models, ["claude-haiku-4-5", "claude-sonnet-4-5"]);
    // Most steps go to Haiku, so it costs less than all-Sonnet and more
    // than all-Haiku (each switch to Sonnet starts its cache cold) ...
    assert!(custom.total_cost_usd < sonnet.total_cost_usd);
    assert!(custom.total_cost_usd > haiku.total_cost_usd);
    // ... and its quality sits between theirs.
    assert!(custom.quality <= sonnet.quality + 1e-9);
    assert!(custom.quality >= haiku.quality - 1e-9);
    // Sessions are conserved.
    assert_eq!(custom.requests, sonnet.requests);
    println!(
        "\nplan-then-execute costs {:.1}% less than all-sonnet at {:.2} pp lower task success.",
        (1.0 - custom.total_cost_usd / sonnet.total_cost_usd) * 100.0,
        (sonnet.quality - custom.quality) * 100.0
    );
    Ok(())
}
