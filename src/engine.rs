//! The engine: traffic → policies → ledger, for every (replication, month).
//!
//! Exact mode simulates every request of every month. For each request,
//! every policy routes it (common random numbers: all policies see the same
//! requests, outcomes and coin flips), and the engine books each call's
//! tokens into the policy's ledger by price class. Prompt caching is
//! simulated, not assumed: each policy keeps, per (workload, model, prefix),
//! the time the prefix was last sent; a call hits iff that was within the
//! TTL (which each call refreshes). With Poisson arrivals this reproduces
//! `P(hit) = 1 − exp(−λT)`, λ being the rate at which the policy sends that
//! prefix to that model — so routing splits caches and growth warms them.
//! Each month starts with cold caches.
//!
//! Work items are (replication, month), run in parallel with rayon; each
//! owns its random stream, and results are folded in a fixed order, so the
//! output is byte-identical whatever the number of threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::ledger::{Costs, Ledger, MAIN, OVERHEAD};
use crate::policy::{CallKind, Context, Decision, Policy};
use crate::pricing::{Component, Ttl};
use crate::request::Stream;
use crate::scenario::Scenario;
use crate::scenario::instance::{CacheInst, Draws, Instance, resolve};
use crate::traffic::{Traffic, stream_seed};

/// How to run a scenario.
pub struct RunOptions<'a> {
    pub replications: u32,
    /// Worker threads; `None` uses all cores.
    pub threads: Option<usize>,
    /// Policies added to the scenario's own (e.g. a custom policy from a library user).
    pub extra_policies: Vec<Arc<dyn Policy>>,
    /// Called with (work items done, total) as the run progresses.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// Simulate at most this many requests per month in exact mode (a guard
    /// against runs that would take hours); `None` for no limit.
    pub max_requests_per_month: Option<f64>,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            replications: 1,
            threads: None,
            extra_policies: Vec::new(),
            progress: None,
            max_requests_per_month: Some(EXACT_MODE_LIMIT),
        }
    }
}

/// Largest monthly volume exact mode simulates by default (~1 minute a month
/// on one core for a few policies).
pub const EXACT_MODE_LIMIT: f64 = 200_000_000.0;

/// One replication's month, for one policy, in a few numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RepMonth {
    pub requests: f64,
    pub cost_usd: f64,
    pub succeeded: f64,
    pub escalated: f64,
}

/// What the engine produces.
pub struct Run {
    pub policy_names: Vec<String>,
    pub policy_kinds: Vec<String>,
    pub replications: u32,
    pub months: usize,
    /// Mean over replications, by `[month][policy]`.
    pub ledgers: Vec<Vec<Ledger>>,
    /// Mean cost over replications, by `[month][policy]`.
    pub costs: Vec<Vec<Costs>>,
    /// Per replication, by `[rep][month][policy]`.
    pub reps: Vec<Vec<Vec<RepMonth>>>,
    /// Mean requests per month.
    pub volumes: Vec<f64>,
    /// Values drawn for uncertain inputs, per replication.
    pub drawn: Vec<Vec<(String, f64)>>,
}

/// Runs every replication and month of `scenario`.
pub fn run(scenario: &Scenario, opts: &RunOptions<'_>) -> Result<Run> {
    let reps = opts.replications.max(1);
    let months = scenario.horizon_months as usize;
    let instances_for = |r: u64| -> Instance {
        let mut inst = resolve(
            scenario,
            &mut Draws {
                seed: scenario.seed,
                replication: r,
            },
            r,
        );
        inst.policies.extend(opts.extra_policies.iter().cloned());
        inst
    };
    let first = instances_for(0);
    if let Some(limit) = opts.max_requests_per_month
        && let Some(v) = first.volumes.iter().copied().find(|v| *v > limit)
    {
        return Err(Error::input(format!(
            "exact mode simulates every request, and this scenario reaches {v:.0} requests in a month (limit {limit:.0}); lower the volume with --set volume.requests_per_month=..."
        )));
    }
    let policy_names: Vec<String> = first
        .policies
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    let policy_kinds: Vec<String> = first
        .policies
        .iter()
        .map(|p| p.kind().to_string())
        .collect();
    {
        let mut seen = std::collections::BTreeSet::new();
        for n in &policy_names {
            if !seen.insert(n) {
                return Err(Error::input(format!(
                    "two policies are named `{n}`; policy names must be unique"
                )));
            }
        }
    }
    let np = policy_names.len();
    let nw = scenario.workloads.len();
    let nm = scenario.catalog.models.len();
    drop(first);

    let pool = match opts.threads {
        Some(t) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .map_err(|e| Error::failure(format!("cannot start worker threads: {e}")))?,
        ),
        None => None,
    };

    let total_items = reps as u64 * months as u64;
    let done = AtomicU64::new(0);
    let k = 1.0 / reps as f64;
    let mut ledgers = vec![vec![Ledger::new(nw, nm); np]; months];
    let mut costs = vec![vec![Costs::zero(nw, nm); np]; months];
    let mut rep_rows = Vec::with_capacity(reps as usize);
    let mut volumes = vec![0.0; months];
    let mut drawn = Vec::with_capacity(reps as usize);

    // Replications are processed in chunks so memory stays bounded; within
    // a chunk every (replication, month) runs in parallel.
    let chunk = (256 / months.max(1)).max(1) as u32;
    let mut start = 0u32;
    while start < reps {
        let end = (start + chunk).min(reps);
        let insts: Vec<Instance> = (start..end).map(|r| instances_for(r as u64)).collect();
        let items: Vec<(usize, usize)> = (0..insts.len())
            .flat_map(|i| (0..months).map(move |m| (i, m)))
            .collect();
        let work = || {
            items
                .par_iter()
                .map(|&(i, m)| {
                    let inst = &insts[i];
                    let seed = stream_seed(scenario.seed, inst.replication, m as u64, 0);
                    let l = simulate_month(inst, &scenario.catalog, m, seed);
                    let c: Vec<Costs> = l.iter().map(|l| l.price(&inst.pricing)).collect();
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = opts.progress {
                        p(d, total_items);
                    }
                    (l, c)
                })
                .collect::<Vec<_>>()
        };
        let results = match &pool {
            Some(p) => p.install(work),
            None => work(),
        };
        let mut it = results.into_iter();
        for inst in &insts {
            let mut row = Vec::with_capacity(months);
            for m in 0..months {
                let (l, c) = it.next().expect("one result per item");
                let mut per_policy = Vec::with_capacity(np);
                for p in 0..np {
                    ledgers[m][p].add_scaled(&l[p], k);
                    costs[m][p].add_scaled(&c[p], k);
                    let t = l[p].totals();
                    per_policy.push(RepMonth {
                        requests: t.requests,
                        cost_usd: c[p].total(),
                        succeeded: t.succeeded,
                        escalated: t.escalated,
                    });
                }
                row.push(per_policy);
                volumes[m] += k * inst.volumes[m];
            }
            rep_rows.push(row);
            drawn.push(inst.drawn.clone());
        }
        start = end;
    }

    Ok(Run {
        policy_names,
        policy_kinds,
        replications: reps,
        months,
        ledgers,
        costs,
        reps: rep_rows,
        volumes,
        drawn,
    })
}

/// Simulates one month of one instance under all of its policies.
pub fn simulate_month(inst: &Instance, catalog: &Catalog, month: usize, seed: u64) -> Vec<Ledger> {
    let n = inst.volumes[month].round() as u64;
    let nw = inst.workloads.len();
    let nm = catalog.models.len();
    let policies = &inst.policies;
    let ctx = Context {
        catalog,
        capability: &inst.capability,
        slope: inst.slope,
        pricing: &inst.pricing,
    };

    // Per (workload, model): does the prefix cache, for how long, and which
    // component a miss writes.
    let mut cacheable = vec![false; nw * nm];
    let mut ttl_s = vec![0.0; nw * nm];
    let mut write_slot = vec![Component::CacheWrite5m as usize; nw * nm];
    let mut pinned = vec![f64::NAN; nw];
    let mut distinct = vec![0usize; nw];
    for (w, wl) in inst.workloads.iter().enumerate() {
        let ttl = match wl.cache {
            CacheInst::None => continue,
            CacheInst::Traffic { distinct: d, ttl } => {
                distinct[w] = d as usize;
                ttl
            }
            CacheInst::Pinned { hit_rate, ttl } => {
                pinned[w] = hit_rate;
                ttl
            }
        };
        for (m, pr) in inst.pricing.iter().enumerate() {
            let i = w * nm + m;
            cacheable[i] = pr.caches(wl.prefix_tokens, false);
            let eff = pr.effective_ttl(ttl);
            ttl_s[i] = eff.seconds();
            if eff == Ttl::OneHour {
                write_slot[i] = Component::CacheWrite1h as usize;
            }
        }
    }
    let latency: Vec<(f64, f64)> = catalog
        .models
        .iter()
        .map(|m| (m.latency.ttft_ms, 1000.0 / m.latency.output_tps))
        .collect();

    let mut ledgers = vec![Ledger::new(nw, nm); policies.len()];
    // Last send time per (policy, workload, model, prefix), allocated on first use.
    let mut last_sent: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); nw * nm]; policies.len()];
    let mut dec = Decision::default();
    let traffic = Traffic::new(inst);
    let mut rng = Traffic::rng(seed);

    traffic.month(n, &mut rng, |req| {
        let w = req.workload as usize;
        for (pi, policy) in policies.iter().enumerate() {
            dec.clear();
            policy.route(req, &ctx, &mut dec);
            let led = &mut ledgers[pi];
            let mut latency_ms = 0.0;
            let mut mains = 0u32;
            for call in dec.calls() {
                let m = call.model.index();
                let pr = &inst.pricing[m];
                let mode = (req.batch && pr.batch) as usize;
                let (ttft, ms_per_token) = latency[m];
                let cell = led.cell_mut(w, m);
                match call.kind {
                    CallKind::Main => {
                        mains += 1;
                        cell.calls += 1.0;
                        let tier = (req.input_tokens > pr.long_above) as usize;
                        let i = w * nm + m;
                        let tokens = &mut cell.tokens[MAIN][tier][mode];
                        if cacheable[i] && mode == 0 {
                            let hit = if pinned[w].is_nan() {
                                let slots = &mut last_sent[pi][i];
                                if slots.is_empty() {
                                    *slots = vec![f64::NEG_INFINITY; distinct[w]];
                                }
                                let slot = &mut slots[req.prefix_id as usize];
                                let hit = req.time_s - *slot < ttl_s[i];
                                *slot = req.time_s;
                                hit
                            } else {
                                req.uniform(Stream::PINNED_CACHE) < pinned[w]
                            };
                            let prefix = req.prefix_tokens as f64;
                            tokens[Component::Input as usize] +=
                                (req.input_tokens - req.prefix_tokens) as f64;
                            if hit {
                                tokens[Component::CacheRead as usize] += prefix;
                                cell.cache_hits += 1.0;
                            } else {
                                tokens[write_slot[i]] += prefix;
                                cell.cache_misses += 1.0;
                            }
                        } else {
                            tokens[Component::Input as usize] += req.input_tokens as f64;
                        }
                        tokens[Component::Output as usize] += req.output_tokens as f64;
                        latency_ms += ttft + req.output_tokens as f64 * ms_per_token;
                    }
                    CallKind::Overhead {
                        input_tokens,
                        output_tokens,
                    } => {
                        cell.overhead_calls += 1.0;
                        let tier = (input_tokens > pr.long_above) as usize;
                        let tokens = &mut cell.tokens[OVERHEAD][tier][mode];
                        tokens[Component::Input as usize] += input_tokens as f64;
                        tokens[Component::Output as usize] += output_tokens as f64;
                        latency_ms += ttft + output_tokens as f64 * ms_per_token;
                    }
                }
            }
            let counts = &mut led.per_workload[w];
            counts.requests += 1.0;
            counts.skips += dec.skips() as f64;
            counts.fixed_overhead_usd += dec.fixed_overhead_usd();
            if mains > 1 {
                counts.escalated += 1.0;
            }
            match dec.accepted() {
                Some(c) => {
                    counts.served += 1.0;
                    if req.batch && inst.pricing[c.model.index()].batch {
                        counts.batch += 1.0;
                    }
                    if ctx.succeeds(c.model, req) {
                        counts.succeeded += 1.0;
                    }
                    if !req.batch {
                        led.latency.add(latency_ms, 1.0);
                    }
                }
                None => counts.unserved += 1.0,
            }
        }
    });
    ledgers
}
