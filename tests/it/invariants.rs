//! Invariants of the engine that must hold for any scenario.

use crate::common;

use common::{run, scenario};
use tiersim::{Decision, Mode, project};

const MIXED: &str = r#"
name: invariants
horizon_months: 2
volume: { requests_per_month: 30000, growth: { monthly_pct: 20 } }
workloads:
  - name: easy
    share: 0.5
    task: classification
    input_tokens: { lognormal: { median: 300, p90: 900 } }
    output_tokens: 5
    difficulty: { beta: { mean: 0.15, concentration: 8 } }
  - name: hard
    share: 0.3
    task: reasoning
    input_tokens: { lognormal: { median: 2000, p90: 8000 } }
    output_tokens: { lognormal: { median: 400, p90: 1200 } }
    difficulty: { beta: { mean: 0.6, concentration: 4 } }
  - name: huge
    share: 0.2
    task: rag
    input_tokens: { lognormal: { median: 150000, p90: 400000 } }
    output_tokens: 300
    difficulty: 0.4
policies:
  - { name: micro, single: nova-micro }
  - { name: pro, single: nova-pro }
  - { name: sonnet, single: claude-sonnet-4-5 }
  - { name: opus, single: claude-opus-4-5 }
  - name: cascade
    cascade:
      steps: [nova-pro, claude-sonnet-4-5, claude-opus-4-5]
      gate: { recall: 0.7, false_alarm: 0.2, judge: { model: nova-micro, input_tokens: 200, output_tokens: 3 } }
  - name: router
    classifier:
      cost_usd: 0.0001
      noise_sd: 0.1
      routes: [ { below: 0.3, model: nova-micro }, { below: 0.6, model: nova-pro }, { model: claude-opus-4-5 } ]
  - name: by-task
    rules: { easy: nova-micro, reasoning: claude-sonnet-4-5, default: nova-premier }
  - name: split
    split: { nova-lite: 60, nova-pro: 40 }
  - name: oracle
    oracle: [nova-micro, nova-pro, claude-sonnet-4-5, claude-opus-4-5]
baseline: sonnet
seed: 3
"#;

/// The oracle's quality bound is a property (`properties`); its cost bound
/// needs a scenario where every candidate takes every request.
#[test]
fn the_oracle_costs_no_more_than_the_strongest_candidate() {
    // Without the "huge" workload, and with the hard workload's input
    // capped below every candidate's context window (its lognormal tail
    // passes 200,000 tokens about once in 100,000 requests), every
    // candidate can take every request (a model that cannot serve a request
    // pays nothing for it, which would make the comparison meaningless).
    let small = MIXED
        .replace(
            "{ median: 2000, p90: 8000 }",
            "{ median: 2000, p90: 8000, max: 120000 }",
        )
        .replace(
            "share: 0.5\n    task: classification",
            "share: 0.6\n    task: classification",
        )
        .replace(
            "share: 0.3\n    task: reasoning",
            "share: 0.4\n    task: reasoning",
        );
    let cut = small.find("  - name: huge").unwrap();
    let end = small.find("policies:").unwrap();
    let small = format!("{}{}", &small[..cut], &small[end..]);
    let s = scenario(&small);
    let p = project(&s, &run(&s, 1));
    let get = |n: &str| p.policies.iter().find(|x| x.name == n).unwrap();
    assert_eq!(get("opus").unserved_rate, 0.0);
    let oracle = get("oracle");
    // No caching here, so per-request list price decides: never above the
    // strongest candidate's cost.
    assert!(oracle.total_cost_usd <= get("opus").total_cost_usd);
}

/// (That a cascade costs at least its first step is a property.)
#[test]
fn a_cascade_escalates_some_requests_but_not_all() {
    let s = scenario(MIXED);
    let p = project(&s, &run(&s, 1));
    let get = |n: &str| p.policies.iter().find(|x| x.name == n).unwrap();
    let e = get("cascade").escalation_rate;
    assert!(e > 0.0 && e < 1.0);
}

#[test]
fn models_that_cannot_take_a_request_are_skipped_and_reported() {
    // "huge" requests (median 150K input) exceed nova-micro's 128K window:
    // the single-model policy leaves them unserved; the cascade skips Nova
    // Pro (300K) only above 300K, and Opus 4.5 (200K) above 200K.
    let s = scenario(MIXED);
    let p = project(&s, &run(&s, 1));
    let get = |n: &str| p.policies.iter().find(|x| x.name == n).unwrap();
    let micro = get("micro");
    assert!(micro.unserved_rate > 0.05, "{}", micro.unserved_rate);
    // Sonnet 4.5 takes up to 1M tokens: only the far tail is too large for it.
    let sonnet = get("sonnet").unserved_rate;
    assert!(
        sonnet > 0.0 && sonnet < micro.unserved_rate / 10.0,
        "{sonnet}"
    );
    assert!(get("cascade").skips_per_request > 0.0);
}

#[test]
fn a_decision_keeps_every_call_past_its_preallocated_room() {
    let mut d = Decision::default();
    let mut last = 0;
    for i in 0..100u16 {
        last = d.call(tiersim::ModelId::new(i as usize % 3));
    }
    d.accept(last);
    assert_eq!(d.calls().len(), 100);
    assert!(d.calls().len() > tiersim::policy::MAX_CALLS);
    // The accepted call is the 100th, not a slot reused past the room.
    assert_eq!(last, 99);
    assert_eq!(
        d.accepted().map(|c| c.model),
        Some(tiersim::ModelId::new(0))
    );
}

/// Thread independence in the library, in both modes: the same scenario
/// and seed give the same projection on one thread and on two (the
/// command line's outputs are checked in `cli`).
/// Uncertain inputs and traffic-driven caching: replications draw their own
/// numbers, and the fast path reuses routed samples between them.
const UNCERTAIN: &str = r#"
name: threads
horizon_months: 3
volume: { requests_per_month: { uniform: { min: 10000, max: 30000 } } }
workloads:
  - { name: w, share: 1, task: rag, input_tokens: { lognormal: { median: 900, p90: 3000 } }, output_tokens: 200, difficulty: { beta: { mean: { uniform: { min: 0.2, max: 0.5 } }, concentration: 5 } }, cache: { prefix_tokens: 2000, distinct_prefixes: 30 } }
policies:
  - name: cascade
    cascade: { steps: [nova-lite, nova-pro, claude-sonnet-4-5], gate: { recall: 0.8, false_alarm: 0.1 } }
  - { name: sonnet, single: claude-sonnet-4-5 }
baseline: sonnet
"#;

/// Sessions alongside single requests: exact mode's queue of live sessions,
/// the fast path's sampled sessions routed in parallel chunks.
const SESSIONS: &str = r#"
name: threads-sessions
horizon_months: 2
volume: { requests_per_month: 3000 }
workloads:
  - { name: chat, share: 0.5, task: writing, input_tokens: 400, output_tokens: 100, difficulty: 0.3 }
  - name: agent
    share: 0.5
    task: agentic
    input_tokens: { lognormal: { median: 1000, p90: 4000 } }
    output_tokens: 200
    difficulty: { beta: { mean: 0.5, concentration: 4 } }
    cache: { prefix_tokens: 5000, distinct_prefixes: 4 }
    session: { turns: { lognormal: { median: 8, p90: 20 } }, gap_seconds: { uniform: { min: 1, max: 600 } }, turn_difficulty_spread: 0.5, compaction: { threshold_tokens: 30000, model: claude-haiku-4-5, summary_tokens: 2000 } }
policies:
  - name: cascade
    session: escalate_after_gate_failure
    cascade: { steps: [claude-haiku-4-5, claude-sonnet-4-5], gate: { recall: 0.8, false_alarm: 0.1 } }
  - { name: sonnet, single: claude-sonnet-4-5 }
baseline: sonnet
"#;

#[test]
fn results_do_not_depend_on_thread_count() {
    for (s, mode) in [
        (scenario(SESSIONS), Mode::Exact),
        (scenario(SESSIONS), Mode::Fast { samples: 1024 }),
        (scenario(MIXED), Mode::Exact),
        (scenario(MIXED), Mode::Fast { samples: 1024 }),
        (scenario(UNCERTAIN), Mode::Exact),
        (scenario(UNCERTAIN), Mode::Fast { samples: 1024 }),
    ] {
        let go = |threads| {
            let r = tiersim::run(
                &s,
                &tiersim::RunOptions {
                    replications: 4,
                    threads: Some(threads),
                    mode,
                    ..Default::default()
                },
            )
            .unwrap();
            serde_json::to_string(&project(&s, &r)).unwrap()
        };
        assert_eq!(go(1), go(2), "{} {mode:?}", s.name);
    }
}

/// Exact mode books a `single` policy's requests through one lane per
/// workload (`sim::book::book_served_all`), a `rules` entry naming a model
/// likewise, and any other policy call by call (`sim::book::book`), one
/// workload at a time. The three must book the same requests alike, to
/// the bit: a `split` sending everything to one model decides what a
/// `single` on that model decides, including the requests too large for
/// it (left unserved, a skip each), cache hits and batch calls.
const ONE_MODEL_THREE_WAYS: &str = r#"
name: one-model-three-ways
horizon_months: 2
volume: { requests_per_month: 20000, growth: { monthly_pct: 10 } }
workloads:
  - name: chat
    share: 0.5
    task: rag
    input_tokens: { lognormal: { median: 800, p90: 2500 } }
    output_tokens: { lognormal: { median: 150, p90: 400 } }
    difficulty: { beta: { mean: 0.3, concentration: 6 } }
    cache: { prefix_tokens: 1500, distinct_prefixes: 3 }
  - name: nightly
    share: 0.3
    task: summarization
    input_tokens: { lognormal: { median: 3000, p90: 9000 } }
    output_tokens: 200
    difficulty: 0.2
    batch_share: 0.6
  - name: huge
    share: 0.2
    task: rag
    input_tokens: { lognormal: { median: 250000, p90: 500000 } }
    output_tokens: 300
    difficulty: 0.4
policies:
  - { name: single, single: nova-pro }
  - { name: split, split: { nova-pro: 100 } }
  - { name: rules, rules: { default: nova-pro } }
baseline: single
seed: 11
"#;

#[test]
fn exact_mode_books_a_single_model_alike_whichever_way_it_is_routed() {
    let s = scenario(ONE_MODEL_THREE_WAYS);
    let r = tiersim::run(
        &s,
        &tiersim::RunOptions {
            replications: 1,
            mode: Mode::Exact,
            ..Default::default()
        },
    )
    .unwrap();
    for month in 0..2 {
        let l = &r.ledgers[month];
        let t = l[0].totals();
        // The scenario exercises what booking distinguishes: requests too
        // large for Nova Pro's 300K window, cache hits and misses, batch.
        let huge = &l[0].per_workload[2];
        assert!(
            huge.unserved > 0.0 && huge.skips == huge.unserved,
            "{huge:?}"
        );
        let chat = l[0].cell(0, r_model(&s, "nova-pro"));
        assert!(chat.cache_hits > 0.0 && chat.cache_misses > 0.0);
        assert!(l[0].per_workload[1].batch > 0.0);
        assert!(t.requests > 19_000.0);
        assert_eq!(l[1], l[0], "split against single, month {month}");
        assert_eq!(l[2], l[0], "rules against single, month {month}");
    }
}

fn r_model(s: &tiersim::Scenario, key: &str) -> usize {
    s.catalog
        .models
        .iter()
        .position(|m| m.key == key)
        .expect("in the catalog")
}
