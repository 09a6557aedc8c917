//! Sessions end to end: a scenario's session block through both engines
//! to the projection, against dollar figures computed here.
//!
//! One session a month (the volume counts sessions), so nothing else warms
//! the prefix: turn `k` re-sends `P + (k − 1)(a + b) + a` tokens. Rates
//! are the catalog's (bedrock-2026-11, global profile), USD per 1M tokens:
//! Claude Sonnet 4.5 and Sonnet 4 input 3, 5-minute cache write 3.75, read
//! 0.30, output 15; Claude 3 Haiku (no caching) input 0.25, output 1.25.

use std::sync::Arc;

use crate::common;

use tiersim::analysis::projection::SessionLine;
use tiersim::policy::{Context, Decision, Policy};
use tiersim::{Mode, ModelId, Request, RunOptions, Scenario, project};

/// A one-session-a-month scenario on `model`: `turns` turns appending
/// `a` and answering `b` tokens, `gap` seconds apart, prefix `prefix`
/// (cached for 5 minutes), and `extra` lines in the session block.
fn one_session(model: &str, turns: u32, gap: u32, prefix: u32, extra: &str) -> Scenario {
    common::scenario(&format!(
        "name: one-session
horizon_months: 1
seed: 3
volume:
  requests_per_month: 1
workloads:
  - name: chat
    share: 1
    task: writing
    input_tokens: 500
    output_tokens: 300
    difficulty: 0.2
    cache: {{ prefix_tokens: {prefix}, distinct_prefixes: 1, ttl: 5m }}
    session:
      turns: {turns}
      gap_seconds: {gap}
{extra}
policies:
  - name: only
    single: {model}
baseline: only
"
    ))
}

fn run(s: &Scenario, mode: Mode, extra: Vec<Arc<dyn Policy>>) -> tiersim::Projection {
    let run = tiersim::run(
        s,
        &RunOptions {
            replications: 1,
            mode,
            extra_policies: extra,
            ..RunOptions::default()
        },
    )
    .expect("run");
    project(s, &run)
}

fn session(p: &tiersim::Projection, policy: usize) -> SessionLine {
    p.policies[policy].by_workload["chat"]
        .sessions
        .clone()
        .expect("a session workload")
}

const EXACT: Mode = Mode::Exact;

/// Relative tolerance on a figure: exact mode bills the one session
/// exactly; the fast path leaves the first turn's prefix to its closed
/// form, whose Poisson count of other sessions keeping it warm is
/// `λ·E[C]` ≈ 390 s / 2.6M s ≈ 1.5e-4 at one session a month (there are
/// none), which moves a total by about 2.6e-5 of itself here.
fn tolerance(mode: Mode) -> f64 {
    match mode {
        Mode::Exact => 1e-12,
        Mode::Fast { .. } => 1e-4,
    }
}

fn usd(input: f64, write: f64, read: f64, output: f64, rates: [f64; 4]) -> f64 {
    (input * rates[0] + write * rates[1] + read * rates[2] + output * rates[3]) / 1e6
}

const SONNET: [f64; 4] = [3.0, 3.75, 0.30, 15.0];

#[test]
fn without_caching_every_turn_resends_prefix_and_history() {
    // Claude 3 Haiku caches nothing. P 2,000, a 500, b 300, 4 turns:
    // inputs 2,500 + 3,300 + 4,100 + 4,900 = 14,800; output 1,200.
    let s = one_session("claude-3-haiku", 4, 30, 2000, "");
    let p = run(&s, EXACT, vec![]);
    let expected = (14_800.0 * 0.25 + 1_200.0 * 1.25) / 1e6;
    assert!((p.policies[0].total_cost_usd - expected).abs() < 1e-12);
    assert!((expected - 0.0052).abs() < 1e-12);
    let l = session(&p, 0);
    assert_eq!(l.sessions, 1.0);
    assert_eq!(l.turns, 4.0);
    assert_eq!(l.fresh_input_tokens, 14_800.0);
    assert_eq!(l.cache_read_tokens, 0.0);
    assert!((l.cost_per_turn - expected / 4.0).abs() < 1e-15);
}

#[test]
fn with_caching_each_turn_reads_the_previous_input_and_writes_the_rest() {
    // Turn 1 writes 2,500 (prefix and message, nothing warm); turn k > 1
    // reads the previous input and writes b + a = 800: writes 4,900, reads
    // 2,500 + 3,300 + 4,100 = 9,900.
    let s = one_session("claude-sonnet-4-5", 4, 30, 2000, "");
    let expected = usd(0.0, 4_900.0, 9_900.0, 1_200.0, SONNET);
    assert!((expected - 0.039345).abs() < 1e-12);
    for mode in [EXACT, Mode::default()] {
        let tol = tolerance(mode);
        let p = run(&s, mode, vec![]);
        let close = |x: f64, y: f64| (x / y - 1.0).abs() <= tol;
        assert!(
            close(p.policies[0].total_cost_usd, expected),
            "{mode:?}: {} vs {expected}",
            p.policies[0].total_cost_usd
        );
        let l = session(&p, 0);
        assert!(close(l.cache_read_tokens, 9_900.0), "{mode:?}");
        assert!(close(l.cache_write_tokens, 4_900.0), "{mode:?}");
        assert!(close(l.cache_read_share, 9_900.0 / 14_800.0));
        let row = &l.by_turns[0];
        assert_eq!(row.turns, 4);
        let uncached = usd(14_800.0, 0.0, 0.0, 1_200.0, SONNET);
        assert!(close(row.uncached_cost_per_session, uncached));
        assert!(close(row.cost_per_session, expected), "{mode:?}");
    }
}

#[test]
fn a_gap_longer_than_the_ttl_writes_the_context_again() {
    // 400 s between turns, 5-minute TTL: every turn writes its whole input.
    let s = one_session("claude-sonnet-4-5", 4, 400, 2000, "");
    let p = run(&s, EXACT, vec![]);
    let expected = usd(0.0, 14_800.0, 0.0, 1_200.0, SONNET);
    assert!((p.policies[0].total_cost_usd - expected).abs() < 1e-12);
    assert_eq!(session(&p, 0).cache_read_tokens, 0.0);
}

#[test]
fn compaction_summarises_the_history_and_the_cache_starts_again() {
    // Threshold 4,000: contexts before turns 1-4 are 2,000, 2,800, 3,600,
    // 4,400, so the history is compacted before turn 4. The summary call
    // (Sonnet 4.5 too) sends 4,400: it reads its copy up to turn 3's
    // input (4,100) and writes 300; it answers 200 tokens. Turn 4 then
    // sends 2,000 + 200 + 500 = 2,700: the prefix is still warm (read
    // 2,000), the rest written (700).
    let s = one_session(
        "claude-sonnet-4-5",
        4,
        30,
        2000,
        "      compaction: { threshold_tokens: 4000, model: claude-sonnet-4-5, summary_tokens: 200 }",
    );
    let p = run(&s, EXACT, vec![]);
    let writes = 2_500.0 + 800.0 + 800.0 + 300.0 + 700.0;
    let reads = 2_500.0 + 3_300.0 + 4_100.0 + 2_000.0;
    let expected = usd(0.0, writes, reads, 1_400.0, SONNET);
    assert!(
        (p.policies[0].total_cost_usd - expected).abs() < 1e-12,
        "{} vs {expected}",
        p.policies[0].total_cost_usd
    );
    let l = session(&p, 0);
    assert_eq!(l.compactions, 1.0);
    assert_eq!(l.calls, 5.0);
}

/// A custom policy reading the session state: the first turn on one
/// model, the rest on another.
struct FirstTurnOn {
    first: ModelId,
    rest: ModelId,
}

impl Policy for FirstTurnOn {
    fn name(&self) -> &str {
        "first-turn-on"
    }
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        let m = if req.session.turn == 0 {
            self.first
        } else {
            self.rest
        };
        ctx.serve_with(m, &[], req, out);
    }
}

#[test]
fn a_model_switch_starts_the_new_models_cache_cold() {
    // Turn 1 on Sonnet 4.5 writes 2,500. Turn 2 moves to Sonnet 4, whose
    // copy is cold, and the prefix is warm only on Sonnet 4.5: it writes
    // its whole input, 3,300. Turns 3 and 4 read the previous input on
    // Sonnet 4 and write 800 each.
    let s = one_session("claude-sonnet-4-5", 4, 30, 2000, "");
    let policy = FirstTurnOn {
        first: s.catalog.find("claude-sonnet-4-5").unwrap(),
        rest: s.catalog.find("claude-sonnet-4").unwrap(),
    };
    let p = run(&s, EXACT, vec![Arc::new(policy)]);
    let expected = usd(0.0, 2_500.0, 0.0, 300.0, SONNET)
        + usd(
            0.0,
            3_300.0 + 800.0 + 800.0,
            3_300.0 + 4_100.0,
            900.0,
            SONNET,
        );
    assert_eq!(p.policies[1].name, "first-turn-on");
    assert!(
        (p.policies[1].total_cost_usd - expected).abs() < 1e-12,
        "{} vs {expected}",
        p.policies[1].total_cost_usd
    );
    // Staying on one model is cheaper by the cold turn: 3,300 written
    // instead of 2,500 read and 800 written.
    assert!(p.policies[0].total_cost_usd < p.policies[1].total_cost_usd);
}

#[test]
fn a_long_agent_session_matches_the_closed_forms() {
    // 40 steps, P 10,000, a 2,000, b 500, 10 s apart. Inputs I_k = P + a +
    // (k − 1)(a + b); Σ_{k=1..M} I_k = M(P + a) + (a + b)M(M − 1)/2.
    // Turn k > 1 reads I_{k−1}: the read share of input is
    // Σ_{1..N−1} / Σ_{1..N}. Cached cost: writes I_1 + (N − 1)(a + b),
    // reads Σ_{1..N−1}; uncached: every input at the input rate.
    let (n, p0, a, b) = (40.0f64, 10_000.0f64, 2_000.0f64, 500.0f64);
    let sum = |m: f64| m * (p0 + a) + (a + b) * m * (m - 1.0) / 2.0;
    let share = sum(n - 1.0) / sum(n);
    let cached = usd(
        0.0,
        p0 + a + (n - 1.0) * (a + b),
        sum(n - 1.0),
        n * b,
        SONNET,
    );
    let uncached = usd(sum(n), 0.0, 0.0, n * b, SONNET);
    let s = common::scenario(
        "name: agent
horizon_months: 1
volume:
  requests_per_month: 1
workloads:
  - name: chat
    share: 1
    task: agentic
    input_tokens: 2000
    output_tokens: 500
    difficulty: 0.4
    cache: { prefix_tokens: 10000, distinct_prefixes: 1, ttl: 5m }
    session: { turns: 40, gap_seconds: 10 }
policies:
  - name: only
    single: claude-sonnet-4-5
baseline: only
",
    );
    for mode in [EXACT, Mode::default()] {
        let p = run(&s, mode, vec![]);
        let l = session(&p, 0);
        assert!(
            (l.cache_read_share / share - 1.0).abs() < 0.005,
            "{mode:?}: {} vs {share}",
            l.cache_read_share
        );
        let row = &l.by_turns[0];
        let ratio = row.cost_per_session / row.uncached_cost_per_session;
        assert!(
            (ratio / (cached / uncached) - 1.0).abs() < 0.005,
            "{mode:?}: {ratio} vs {}",
            cached / uncached
        );
        // And as the ledger prices it.
        assert!((p.policies[0].total_cost_usd / cached - 1.0).abs() <= tolerance(mode));
    }
    // The closed forms themselves: 95.5% of input read from the cache,
    // $1.41 against $7.59 uncached (18.5%).
    assert!((share - 0.954_938).abs() < 1e-6, "{share}");
    assert!((cached - 1.406_775).abs() < 1e-9, "{cached}");
    assert!((uncached - 7.59).abs() < 1e-9, "{uncached}");
}

#[test]
fn session_routing_pins_or_escalates_for_the_rest_of_the_session() {
    // A cascade Nova Lite → Sonnet 4.5 whose gate always rejects (recall
    // 1, the answer fails at this difficulty, and false alarms 1): per
    // turn it calls both models every turn; pinned after the first
    // escalation it calls Sonnet alone from turn 2 on.
    let s = common::scenario(
        "name: routing
horizon_months: 1
volume:
  requests_per_month: 1
workloads:
  - name: chat
    share: 1
    task: reasoning
    input_tokens: 500
    output_tokens: 300
    difficulty: 0.99
    session: { turns: 5, gap_seconds: 10 }
policies:
  - name: per-turn
    cascade:
      steps: [nova-lite, claude-sonnet-4-5]
      gate: { recall: 1, false_alarm: 1 }
  - name: escalate
    session: escalate_after_gate_failure
    cascade:
      steps: [nova-lite, claude-sonnet-4-5]
      gate: { recall: 1, false_alarm: 1 }
  - name: affinity
    session: affinity
    cascade:
      steps: [nova-lite, claude-sonnet-4-5]
      gate: { recall: 1, false_alarm: 1 }
baseline: per-turn
",
    );
    let p = run(&s, EXACT, vec![]);
    let calls: Vec<f64> = (0..3).map(|i| session(&p, i).calls).collect();
    // 5 turns: 10 calls per turn-routed; 2 + 4 when pinned after turn 1.
    assert_eq!(calls, [10.0, 6.0, 6.0]);
    let lite: Vec<f64> = (0..3)
        .map(|i| {
            p.policies[i]
                .by_model
                .get("nova-lite")
                .map_or(0.0, |m| m.calls)
        })
        .collect();
    assert_eq!(lite, [5.0, 1.0, 1.0]);
}

#[test]
fn fast_path_agrees_with_exact_mode_on_session_scenarios() {
    // Exact: 40 replications of one month of 4,000 sessions; fast: a large
    // sample (its own sampling error counted too). Mean cost within 0.5%
    // plus 3 combined standard errors, quality within 0.2 points plus 3
    // combined standard errors (exact mode's binomial one, the fast
    // sample's reported one: on dev-team-agent its all-haiku quality sat
    // 0.6 points below exact mode's at 131,072 samples and 0.16 at four
    // times that, so the gap is the sample's, not the method's).
    let mut report = String::new();
    for name in ["dev-team-agent", "support-chat"] {
        let path = common::root().join(format!("scenarios/{name}.yaml"));
        let sets = [
            "volume.requests_per_month=4000".to_string(),
            "horizon_months=1".to_string(),
        ];
        let s = Scenario::load(&path, &sets).expect("loads");
        let r = 40u32;
        let exact = tiersim::run(
            &s,
            &RunOptions {
                replications: r,
                mode: Mode::Exact,
                ..RunOptions::default()
            },
        )
        .unwrap();
        let fast = tiersim::run(
            &s,
            &RunOptions {
                replications: 1,
                mode: Mode::Fast { samples: 131_072 },
                ..RunOptions::default()
            },
        )
        .unwrap();
        let pf = project(&s, &fast);
        for p in 0..exact.policy_names.len() {
            let costs: Vec<f64> = exact.reps.iter().map(|x| x[0][p].cost_usd).collect();
            let me = costs.iter().sum::<f64>() / r as f64;
            let se_exact = tiersim::stats::sd(&costs) / (r as f64).sqrt() / me;
            let mf = pf.policies[p].total_cost_usd;
            let se_fast = pf.policies[p]
                .sampling_error
                .as_ref()
                .unwrap()
                .total_cost_usd
                / 1.96
                / mf;
            let d = mf / me - 1.0;
            let t = exact.ledgers[0][p].totals();
            let qe = t.succeeded / t.requests;
            let qf = pf.policies[p].quality;
            let q_se_exact = (qe * (1.0 - qe) / (4000.0 * r as f64)).sqrt();
            let q_se_fast = pf.policies[p].sampling_error.as_ref().unwrap().quality / 1.96;
            let q_se = (q_se_exact * q_se_exact + q_se_fast * q_se_fast).sqrt();
            report.push_str(&format!(
                "{name}/{}: cost {:+.3}% (se exact {:.3}%, fast {:.3}%), quality {:+.3} pp\n",
                exact.policy_names[p],
                d * 100.0,
                se_exact * 100.0,
                se_fast * 100.0,
                (qf - qe) * 100.0
            ));
            let allowance = 0.005 + 3.0 * (se_exact * se_exact + se_fast * se_fast).sqrt();
            assert!(d.abs() <= allowance, "cost\n{report}");
            assert!((qf - qe).abs() <= 0.002 + 3.0 * q_se, "quality\n{report}");
        }
    }
    println!("{report}");
}

#[test]
fn out_dir_carries_the_sessions_table_chart_and_page() {
    let dir = common::temp_dir("sessions-out");
    let out = dir.join("out");
    let o = common::tiersim(&[
        "run",
        "scenarios/dev-team-agent.yaml",
        "--set",
        "horizon_months=2",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    let csv = std::fs::read_to_string(out.join("sessions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "policy,month,workload,sessions,turns,calls,compactions,turns_succeeded,sessions_succeeded,fresh_input_tokens,cache_write_tokens,cache_read_tokens,output_tokens,cost_usd"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 6 policies x 2 months, one session workload.
    assert_eq!(rows.len(), 12);
    // Each policy's two months of cost_usd add up to its total (to the
    // CSV's six decimals), and month 1 holds 6,300 sessions.
    for policy in doc["policies"].as_array().unwrap() {
        let name = policy["name"].as_str().unwrap();
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == name).collect();
        assert_eq!(mine.len(), 2, "{name}");
        let total: f64 = mine.iter().map(|r| r[13].parse::<f64>().unwrap()).sum();
        let expected = policy["total_cost_usd"].as_f64().unwrap();
        assert!(
            (total - expected).abs() < 2e-6,
            "{name}: {total} vs {expected}"
        );
        let month1 = mine.iter().find(|r| r[1] == "1").unwrap();
        assert!((month1[3].parse::<f64>().unwrap() - 6300.0).abs() < 1e-6);
        // The JSON carries the per-session figures beside it.
        let s = &policy["by_workload"]["agent-task"]["sessions"];
        assert!(s["cost_per_session"].as_f64().unwrap() > 0.0);
        assert!(s["cache_read_share"].as_f64().unwrap() > 0.8, "{name}");
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<h3>Sessions: agent-task</h3>"));
    assert!(page.contains("id=\"chart-session_cost_by_turns\""));
    assert!(out.join("session_cost_by_turns.svg").exists());
    assert!(out.join("session_cost_by_turns.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
