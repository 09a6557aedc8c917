//! Fast mode: run time that does not depend on traffic volume.
//!
//! **Method.** For each workload, a fixed stratified sample of `k`
//! requests (16 independently scrambled Sobol point sets over the
//! input-token, output-token, difficulty, batch and coin-flip dimensions,
//! each mapped through its inverse CDF, the heavy top stratum of tokens and
//! difficulty split further: `traffic::stratified_sample`) is routed once
//! through every policy. The request's outcome is not sampled but
//! integrated out: over the intervals the models' capabilities cut for
//! common outcomes, and by enumerating every pattern of the outcomes a
//! decision consults for independent ones (`Request::outcomes`). Routing
//! does not depend on the month — only volume does, through the cache — so
//! the sample's ledger, scaled by `volume × share / k`, is each month's
//! expected ledger. What does depend on volume is resolved per month in
//! closed form: calls whose prefix could be cached are booked as *deferred*
//! and split into reads and writes with the Poisson hit probability of the
//! traffic that policy sends to that model that month, including each
//! month's cold start (`hit_probability`).
//!
//! **Why this design.** A month of millions of requests has per-request
//! noise far below the uncertainty in the parameters (its coefficient of
//! variation is under 0.1% at 1M requests); what users need is the expected
//! month, repeated over many replications of uncertain inputs. Sampling a
//! bounded set of requests keeps every policy a black box (any custom
//! `Policy` works unchanged, with the same common random numbers), unlike
//! integrating difficulty out analytically, which would need each policy's
//! decision rule in closed form. Scrambled Sobol points stratify every
//! low-dimensional projection, so the interactions a routed cost is made of
//! (tokens × the price of a model picked by difficulty and coin flips)
//! average out as well as each input's own effect; measured against the
//! Latin hypercube this replaced, half the sample gives a smaller error on
//! most policies of the shipped scenarios (ARCHITECTURE.md, "Fast path").
//! Each distinct decision of a (request, policy) is booked once, with the
//! probability of the outcomes that lead to it.
//!
//! **Replications.** The sample's uniforms are the same in every
//! replication, so replications differ only by their parameter draws; when
//! a replication draws nothing that changes routing (only volume, growth,
//! shares or cache sizes are uncertain), the evaluated sample is reused and
//! a replication costs a few hundred multiplications per month. To give a
//! replication the spread an exact simulation of `V` requests would have,
//! each month adds normal noise with the variance of a sum of `V` requests
//! (`V × Var[cost per request]`, the per-request variance estimated from
//! the sample over the workload mixture), the same draw for every policy as
//! exact mode's policies share their requests.
//!
//! **Sampling error.** The sample is fixed, so its error is a bias shared by
//! every replication and month; its standard error,
//! `V · sqrt(Σ share² · Var_w / k)`, is reported with every figure (the
//! stratification makes the true error smaller still). Memory is flat in
//! volume: nothing per request is stored beyond the `k`-request sample.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::calendar::MONTH_SECONDS;
use crate::catalog::pricing::{
    CallShape, Component, Mode, N_MODES, N_SERVICE_TIERS, ServiceTier, Tier, Ttl, price_call,
};
use crate::catalog::{Catalog, ModelId};
use crate::policy::{BuiltinRef, CallKind, Decision, IntervalPicks, Judged, Oracle, Policy};
use crate::quality::{p_success, required_capability};
use crate::random::Stream;
use crate::sim::book::{CacheMode, PickLane, PickedCall, Tables, book, book_pick};
use crate::sim::instance::Instance;
use crate::sim::ledger::{Costs, Group, Ledger, MAIN, SessionTally};
use crate::sim::session_run::{OwnCoverage, PolicySession, Runner};
use crate::sim::{RepMonth, Run, Setup};
use crate::stats::variance_of;
use crate::traffic::request::{Outcomes, Request};
use crate::traffic::session::{MAX_TURNS, SampleSession, SessionSampler};
use crate::traffic::{SampleRequest, TokenCuts, stratified_sample};

/// Sample requests per workload when none is asked for.
pub const DEFAULT_SAMPLES: usize = 16_384;

/// Most sample requests per workload: 128 times the default. Evaluating a
/// sample holds its requests while it runs, on every thread at once
/// (measured on support-platform with 2 threads: 2^24 samples peaked at
/// 3.5 GB, this maximum at 0.9 GB), so this keeps memory to about 450 MB a
/// thread.
pub const MAX_SAMPLES: usize = 1 << 22;

/// Independently scrambled point sets the sample is made of; the spread of
/// their means gives the sampling error.
pub const BLOCKS: usize = 16;

/// One workload's sample, routed through every policy, per request.
pub struct Evaluated {
    pub k: usize,
    /// Per policy: the sample's one-workload ledger divided by `k` (so
    /// scaling by a month's requests gives that month's counts), without
    /// the cached prefixes, which depend on volume.
    pub ledgers: Vec<Ledger>,
    /// Per policy: those ledgers priced.
    pub costs: Vec<Costs>,
    /// Per policy: cost per request of everything but the cached prefixes (USD).
    pub unit_cost: Vec<f64>,
    /// Per policy: per-request moments of the cost, written `A + (1 − h)·S`
    /// with `A` the cost if every cacheable prefix hit the cache and `S` the
    /// extra cost if every one missed (USD): E\[A\], E\[A²\], E\[S\], E\[S²\], E\[A·S\].
    pub moments: Vec<[f64; 5]>,
    /// Per policy: successes and escalations per request.
    pub success: Vec<f64>,
    pub escalation: Vec<f64>,
    /// Per policy: (model, cacheable calls per request by tier).
    pub deferred: Vec<Vec<(usize, Deferred)>>,
    /// Per policy, per block: mean A, mean S and success rate of the block's
    /// requests (see `moments`).
    pub blocks: Vec<Vec<[f64; 3]>>,
    /// Per policy: the sample variance of the blocks' success rates (which,
    /// unlike their costs, no month's cache changes).
    pub rate_variance: Vec<f64>,
    /// A session workload's sample (its unit is a session): per policy,
    /// (model, seconds per session during which the session keeps the
    /// fixed prefix warm on it), which sets the cross-session hit
    /// probability of its deferred calls (`sim::session_run`). Empty for
    /// single requests.
    pub coverage: Vec<Vec<(usize, f64)>>,
}

/// The token counts at which a request's cost jumps on a model some
/// policy may call (every model of the catalog if a policy does not name
/// its models): its context window and largest output (one token more is
/// refused) and where its long-context rate starts. The sample splits the
/// strata that straddle them (`traffic::stratified_sample`). A judge's or
/// classifier's own call is not among them: it is not checked against its
/// model's limits, and its long-context rate is left to the sample.
fn token_cuts(inst: &Instance, catalog: &Catalog) -> TokenCuts {
    let named: Option<Vec<Vec<ModelId>>> = inst.policies.iter().map(|p| p.models()).collect();
    let models: Vec<usize> = match named {
        Some(lists) => lists.concat().iter().map(|m| m.index()).collect(),
        None => (0..catalog.models.len()).collect(),
    };
    let mut cuts = TokenCuts::default();
    for m in models {
        let spec = &catalog.models[m];
        cuts.input.push(spec.context_window);
        cuts.input.push(inst.pricing[m].long_above);
        cuts.output.push(spec.max_output);
    }
    for list in [&mut cuts.input, &mut cuts.output] {
        list.sort_unstable();
        list.dedup();
    }
    cuts
}

/// A session workload's sample has this many times fewer units than a
/// request workload's (a session is tens of calls).
pub const SESSION_SAMPLE_DIVISOR: usize = 8;

/// Routes workload `w`'s sample of sessions through every policy (see
/// [`evaluate`] and `sim::session_run`): the same books per unit, the
/// unit being a session.
fn evaluate_sessions(
    inst: &Instance,
    catalog: &Catalog,
    w: usize,
    k: usize,
    seed: u64,
) -> Evaluated {
    let nw = inst.workloads.len();
    let nm = catalog.models.len();
    let np = inst.policies.len();
    let tables = Tables::new(inst, catalog);
    let wl = &inst.workloads[w];
    let s = wl.session.as_ref().expect("a session workload");
    // Sessions: k / SESSION_SAMPLE_DIVISOR, or fewer when sessions are
    // long, so the sample holds about 4k turns at most.
    let mean_turns = s.turns.mean().clamp(1.0, MAX_TURNS as f64);
    let sessions = ((k / SESSION_SAMPLE_DIVISOR) as f64).min(4.0 * k as f64 / mean_turns);
    // A power of two per block, so each block's Sobol points stratify.
    let per_block = (sessions / BLOCKS as f64).max(16.0);
    let block = 1usize << (per_block.log2().round() as u32);
    let mut rng = Stream::Sample { workload: w as u64 }.generator(seed);
    let k = BLOCKS * block;
    struct Part {
        ledgers: Vec<Ledger>,
        moments: Vec<[f64; 5]>,
        blocks: Vec<Vec<(usize, [f64; 3])>>,
        covered: Vec<f64>,
    }
    let route = |chunk: &[SampleSession]| -> Part {
        let ctx = inst.context(catalog);
        let mut runner = Runner::new(inst, &tables, &ctx);
        let mut ledgers = vec![Ledger::new(nw, nm); np];
        let mut cov = OwnCoverage::new(&tables, w, np);
        let mut states = vec![PolicySession::new(nm); np];
        let mut moments = vec![[0.0; 5]; np];
        let mut blocks: Vec<Vec<(usize, [f64; 3])>> = vec![Vec::new(); np];
        for one in chunk.iter() {
            let wt = one.weight;
            states.iter_mut().for_each(PolicySession::reset);
            cov.start(wt);
            let mut history = 0;
            for t in 0..one.draw.turns.len() {
                runner.turn(
                    &one.draw,
                    t,
                    &mut history,
                    &mut states,
                    &mut ledgers,
                    &mut cov,
                    wt,
                );
            }
            runner.finish(w, one.draw.turns.len(), &states, &mut ledgers, wt);
            for (p, st) in states.iter().enumerate() {
                let (a, sw) = st.cost_split();
                add_moments(&mut moments[p], wt, a, sw);
                let b = &mut blocks[p];
                if b.last().is_none_or(|x| x.0 != one.block) {
                    b.push((one.block, [0.0; 3]));
                }
                let x = &mut b.last_mut().expect("pushed").1;
                x[0] += wt * a / block as f64;
                x[1] += wt * sw / block as f64;
                x[2] += wt * if st.succeeded() { 1.0 } else { 0.0 } / block as f64;
            }
        }
        Part {
            ledgers,
            moments,
            blocks,
            covered: cov.covered,
        }
    };
    // The sample is drawn block by block on this thread (one generator, so
    // one after another) and each chunk of CHUNK_BLOCKS blocks is routed as
    // soon as it is drawn, on whichever thread is free: drawing no longer
    // waits for routing, nor routing for the whole sample. The parts are
    // folded in chunk order below, so the result is the same as drawing
    // everything first.
    let chunks = BLOCKS.div_ceil(CHUNK_BLOCKS);
    let mut parts: Vec<Option<Part>> = (0..chunks).map(|_| None).collect();
    rayon::scope(|scope| {
        let mut sampler =
            SessionSampler::new(wl, s, w, inst.slope, inst.outcome_correlation, block);
        for (c, part) in parts.iter_mut().enumerate() {
            let mut chunk = Vec::with_capacity(CHUNK_BLOCKS * block);
            for b in c * CHUNK_BLOCKS..((c + 1) * CHUNK_BLOCKS).min(BLOCKS) {
                sampler.block(b, &mut rng, &mut chunk);
            }
            let route = &route;
            scope.spawn(move |_| *part = Some(route(&chunk)));
        }
    });
    let parts: Vec<Part> = parts.into_iter().flatten().collect();
    let mut blocks = vec![vec![[0.0; 3]; BLOCKS]; np];
    let mut full = vec![Ledger::new(nw, nm); np];
    let mut moments = vec![[0.0; 5]; np];
    let mut covered = vec![0.0; np * nm];
    for part in &parts {
        for p in 0..np {
            full[p].add_scaled(&part.ledgers[p], 1.0);
            for (m, x) in moments[p].iter_mut().zip(&part.moments[p]) {
                *m += x;
            }
            for (b, x) in &part.blocks[p] {
                blocks[p][*b] = *x;
            }
        }
        for (a, b) in covered.iter_mut().zip(&part.covered) {
            *a += b;
        }
    }
    let coverage = (0..np)
        .map(|p| {
            (0..nm)
                .filter(|&m| covered[p * nm + m] > 0.0)
                .map(|m| (m, covered[p * nm + m] / k as f64))
                .collect()
        })
        .collect();
    let full = full.iter().map(|l| l.extract(w)).collect();
    Evaluated::assemble(inst, k, full, &moments, blocks, coverage)
}

/// Adds a unit's cost split `(a, x)` (all cacheable prefixes hit; the
/// extra if all missed), counted `weight` times, to the moments the
/// per-request variance is computed from: Σa, Σa², Σx, Σx², Σax.
#[inline]
fn add_moments(m: &mut [f64; 5], weight: f64, a: f64, x: f64) {
    m[0] += weight * a;
    m[1] += weight * a * a;
    m[2] += weight * x;
    m[3] += weight * x * x;
    m[4] += weight * a * x;
}

/// Routes workload `w`'s sample through every policy of the instance;
/// `seed` is the scenario's seed.
pub fn evaluate(inst: &Instance, catalog: &Catalog, w: usize, k: usize, seed: u64) -> Evaluated {
    match Staged::new(inst, catalog, w, k, seed) {
        Staged::Evaluated(ev) => ev,
        Staged::Drawn(d) => {
            let parts: Vec<Partial> = d.chunks().par_iter().map(|c| d.route(c)).collect();
            d.finish(&parts)
        }
    }
}

/// A workload's evaluation before its sample is routed: a session
/// workload's already whole; a request workload's sample drawn, with what
/// routing it needs. [`evaluate_all`] routes each sample's chunks as
/// tasks of their own as soon as it is drawn, alongside the other
/// workloads' drawing and routing (same chunks, same sums: [`evaluate`] is
/// `Drawn::route` over [`Drawn::chunks`], then [`Drawn::finish`]).
enum Staged<'a> {
    Evaluated(Evaluated),
    Drawn(Drawn<'a>),
}

/// A request workload's drawn sample, and what routing it needs.
struct Drawn<'a> {
    inst: &'a Instance,
    catalog: &'a Catalog,
    w: usize,
    k: usize,
    block: usize,
    task: usize,
    tables: Tables,
    sample: Vec<SampleRequest>,
    /// The policy that routes the workload under each policy.
    resolved: Vec<&'a dyn Policy>,
    /// Each policy's capability cuts of the outcome.
    caps_of: Vec<Vec<Cap>>,
}

impl<'a> Staged<'a> {
    fn new(inst: &'a Instance, catalog: &'a Catalog, w: usize, k: usize, seed: u64) -> Self {
        if inst.workloads[w].session.is_some() {
            return Staged::Evaluated(evaluate_sessions(inst, catalog, w, k, seed));
        }
        let tables = Tables::new(inst, catalog);
        let block = (k / BLOCKS).max(1);
        let mut rng = Stream::Sample { workload: w as u64 }.generator(seed);
        let cuts = token_cuts(inst, catalog);
        let wl = &inst.workloads[w];
        let sample = stratified_sample(wl, inst.slope, (BLOCKS, block), &cuts, &mut rng);
        let k = BLOCKS * block;
        // The outcome uniform is integrated out: model m succeeds iff u < p_m(d),
        // so the distinct capabilities for the task cut [0, 1] into intervals on
        // which every model's outcome is fixed; each interval is evaluated once,
        // weighted by its length.
        // Each policy's own: only the capabilities of the models a policy
        // consults cut [0, 1] for it. On an interval where none of its models'
        // outcomes changes, it decides and is judged alike (a policy that does
        // not name its models gets every model's cuts).
        let task = inst.workloads[w].task.index();
        // A `rules` policy routes this workload's requests through one of its
        // policies: that one is routed directly, and only its models cut the
        // outcome (for a policy that learns outcomes through the context, the
        // other models' cuts would only be merged over: the same results).
        let resolved: Vec<&dyn Policy> = inst
            .policies
            .iter()
            .map(|p| for_workload(p.as_ref(), w))
            .collect();
        let caps_of: Vec<Vec<Cap>> = resolved
            .iter()
            .zip(&inst.policies)
            .map(|(r, p)| {
                let named = if r.outcomes_through_context() && p.outcomes_through_context() {
                    r.models()
                } else {
                    p.models()
                };
                let mut caps: Vec<f64> = match named {
                    Some(ms) => ms
                        .iter()
                        .map(|m| inst.capability[m.index()][task])
                        .collect(),
                    None => inst.capability.iter().map(|c| c[task]).collect(),
                };
                caps.sort_by(f64::total_cmp);
                caps.dedup();
                caps.into_iter()
                    .map(|value| {
                        let mut cap = Cap {
                            value,
                            models: 0,
                            first: usize::MAX,
                        };
                        for (m, c) in inst.capability.iter().enumerate() {
                            if c[task] == value {
                                cap.models |= if m < 64 { 1 << m } else { u64::MAX };
                                cap.first = cap.first.min(m);
                            }
                        }
                        cap
                    })
                    .collect()
            })
            .collect();
        Staged::Drawn(Drawn {
            inst,
            catalog,
            w,
            k,
            block,
            task,
            tables,
            sample,
            resolved,
            caps_of,
        })
    }
}

impl Drawn<'_> {
    /// The sample's chunks of blocks, routed in parallel and folded in
    /// block order (the same sums whatever the number of threads).
    fn chunks(&self) -> Vec<&[SampleRequest]> {
        self.sample
            .chunk_by(|a, b| a.block as usize / CHUNK_BLOCKS == b.block as usize / CHUNK_BLOCKS)
            .collect()
    }

    /// Routes one chunk through every policy.
    fn route(&self, chunk: &[SampleRequest]) -> Partial {
        let (inst, catalog) = (self.inst, self.catalog);
        route_chunk(
            inst,
            catalog,
            &self.tables,
            &self.resolved,
            &self.caps_of,
            self.task,
            self.w,
            self.block,
            chunk,
        )
    }

    /// The evaluation from every chunk's part, in chunk order.
    fn finish(&self, parts: &[Partial]) -> Evaluated {
        let (inst, k) = (self.inst, self.k);
        let nm = self.catalog.models.len();
        let np = inst.policies.len();
        let mut blocks = vec![vec![[0.0; 3]; BLOCKS]; np];
        let mut full = vec![Ledger::new(1, nm); np];
        let mut moments = vec![[0.0; 5]; np];
        for part in parts {
            for p in 0..np {
                full[p].add_scaled(&part.full[p], 1.0);
                for (m, x) in moments[p].iter_mut().zip(&part.moments[p]) {
                    *m += x;
                }
                for (b, x) in &part.blocks[p] {
                    blocks[p][*b] = *x;
                }
            }
        }
        let kf = k as f64;
        // Every sample request is one request, whatever its cases' weights add
        // up to in floating point (each policy cuts the outcome into its own
        // intervals): requests are conserved exactly across policies.
        for l in &mut full {
            l.per_workload[0].requests = kf;
        }
        Evaluated::assemble(inst, k, full, &moments, blocks, Vec::new())
    }
}

impl Evaluated {
    /// The evaluation of a workload's sample of `k` units from its summed
    /// ledgers (one per policy, each holding that workload alone), moments
    /// and blocks: per unit, the cached prefixes left deferred.
    fn assemble(
        inst: &Instance,
        k: usize,
        full: Vec<Ledger>,
        moments: &[[f64; 5]],
        blocks: Vec<Vec<[f64; 3]>>,
        coverage: Vec<Vec<(usize, f64)>>,
    ) -> Evaluated {
        let kf = k as f64;
        let mut ledgers = Vec::with_capacity(full.len());
        let mut deferred = Vec::with_capacity(full.len());
        for mut one in full {
            one.scale(1.0 / kf);
            let mut d = Vec::new();
            for (m, cell) in one.cells.iter_mut().enumerate() {
                let all = cell.deferred();
                if deferred_total(&all) > 0.0 {
                    d.push((m, all));
                    cell.clear_deferred();
                }
            }
            deferred.push(d);
            ledgers.push(one);
        }
        let costs: Vec<Costs> = ledgers.iter().map(|l| l.price(&inst.pricing)).collect();
        Evaluated {
            k,
            unit_cost: costs.iter().map(Costs::total).collect(),
            moments: moments.iter().map(|m| m.map(|x| x / kf)).collect(),
            success: ledgers
                .iter()
                .map(|l| l.per_workload[0].succeeded)
                .collect(),
            escalation: ledgers
                .iter()
                .map(|l| l.per_workload[0].escalated)
                .collect(),
            ledgers,
            costs,
            deferred,
            rate_variance: blocks
                .iter()
                .map(|b| variance_of(b.iter().map(|x| x[2])))
                .collect(),
            blocks,
            coverage,
        }
    }
}

/// Blocks routed together as one parallel task.
const CHUNK_BLOCKS: usize = 4;

/// One chunk's share of an [`Evaluated`]: per policy, its ledger (the
/// workload's part alone, as a one-workload ledger: a chunk books nothing
/// to any other workload, so the parts held until the fold are a quarter
/// of the size with four workloads), moments and (block, block sums).
struct Partial {
    full: Vec<Ledger>,
    moments: Vec<[f64; 5]>,
    blocks: Vec<Vec<(usize, [f64; 3])>>,
}

/// The policy that routes workload `w`'s requests: a `rules` policy's
/// choice for it (itself resolved), any other policy itself.
fn for_workload(p: &dyn Policy, w: usize) -> &dyn Policy {
    match p.builtin() {
        Some(BuiltinRef::Rules(r)) => for_workload(r.by_workload[w].as_ref(), w),
        _ => p,
    }
}

/// Routes one chunk of the sample through every policy (see [`evaluate`]).
#[allow(clippy::too_many_arguments)]
fn route_chunk(
    inst: &Instance,
    catalog: &Catalog,
    tables: &Tables,
    policies: &[&dyn Policy],
    caps_of: &[Vec<Cap>],
    task: usize,
    w: usize,
    block: usize,
    sample: &[SampleRequest],
) -> Partial {
    let (nw, nm, np) = (
        inst.workloads.len(),
        catalog.models.len(),
        inst.policies.len(),
    );
    let ctx = inst.context(catalog);
    let mut full = vec![Ledger::new(nw, nm); np];
    let mut moments = vec![[0.0; 5]; np];
    let mut blocks: Vec<Vec<(usize, [f64; 3])>> = vec![Vec::new(); np];
    let mut dec = Decision::default();
    let most = caps_of.iter().map(Vec::len).max().unwrap_or(0);
    let mut cuts: Vec<f64> = Vec::with_capacity(most + 2);
    let rho = inst.outcome_correlation;
    let mut acc = Distinct::default();
    let mut stack: Vec<(Outcomes, f64)> = Vec::new();
    let mut p_model = vec![f64::NAN; nm];
    let mut mains = MainPrices::new(inst, tables, w);
    let merges: Vec<bool> = inst
        .policies
        .iter()
        .zip(policies)
        .map(|(p, r)| p.outcomes_through_context() && r.outcomes_through_context())
        .collect();
    // The oracle prices its candidates once per request, not once per
    // interval (a third of a default run's time was the oracle's).
    let oracles: Vec<Option<&Oracle>> = policies
        .iter()
        .map(|p| match p.builtin() {
            Some(BuiltinRef::Oracle(o)) => Some(o),
            _ => None,
        })
        .collect();
    let mut judged: Vec<Judged> = Vec::new();
    // Each `single`'s model (a `rules` policy's for this workload).
    let singles: Vec<Option<ModelId>> = policies
        .iter()
        .map(|p| match p.builtin() {
            Some(BuiltinRef::Single(s)) => Some(s.model),
            _ => None,
        })
        .collect();
    let wl = &inst.workloads[w];
    // An oracle's pick and asked set per outcome interval, worked out once
    // (`Oracle::interval_picks`): where its list is its price order, they
    // follow from the interval alone, and judging and pricing every
    // candidate on every interval of every request was most of its time.
    // Only for common outcomes (rho = 1: independent ones need the
    // candidates anyway) and where every interval's required capability
    // lies between two capabilities (it then decides no more than which
    // candidates succeed).
    let interval_picks: Vec<Option<IntervalPicks>> = oracles
        .iter()
        .zip(caps_of)
        .zip(&merges)
        .map(|((oracle, caps), &merge)| {
            let o = (*oracle).filter(|_| merge && rho >= 1.0)?;
            let required: Option<Vec<f64>> = (0..=caps.len()).map(|i| between(caps, i)).collect();
            Some(o.interval_picks(&o.price_chains_for(&ctx, wl.task), &required?))
        })
        .collect();
    for item in sample {
        let (base, b, share) = (&item.request(w, wl), item.block as usize, item.weight);
        let d = base.difficulty;
        p_model.fill(f64::NAN);
        mains.clear();
        // The request as common outcomes see it, its required capability
        // set per interval (copied once per request, not once per route).
        let mut common = Request {
            common: true,
            ..*base
        };
        // And as independent ones do, its known outcomes set per pattern.
        let mut own = Request {
            common: false,
            ..*base
        };
        for (p, &policy) in policies.iter().enumerate() {
            acc.clear();
            // The oracle's candidates and their list costs do not depend on
            // the outcome: worked out once per request, for both parts.
            let oracle = oracles[p];
            let picks = match (oracle, &interval_picks[p]) {
                (Some(o), Some(t)) => o.picks_for(t, &common, &ctx),
                _ => None,
            };
            if let Some(o) = oracle
                && picks.is_none()
            {
                o.candidates(&common, &ctx, &mut judged);
            }
            // A `single` whose model takes the request calls it and accepts
            // it on every interval and asks about no outcome
            // (`Context::serve_with`): the loop below would make one run
            // of every interval, from 0 to 1, and book it so.
            let single = singles[p].filter(|&m| merges[p] && ctx.can_serve(m, &common));
            if rho > 0.0
                && let Some(m) = single
            {
                let (lo, hi) = (0.0, 1.0);
                let weight = share * rho * (hi - lo);
                // Skipped as the loop skips a run of next to no weight.
                let negligible = weight < 1e-12 * share;
                if !negligible {
                    let pa = p_of(&mut p_model, m.index(), inst, task, d);
                    acc.add_model(m, weight, share * rho * (pa.min(hi) - lo).max(0.0));
                }
            }
            // Common outcomes (share rho): one evaluation per interval, or,
            // for a policy that learns outcomes only from the context, per
            // run of intervals whose boundaries flip no outcome it asked
            // about (its decision is the same throughout).
            else if rho > 0.0 {
                let caps = &caps_of[p];
                cuts.clear();
                cuts.push(0.0);
                cuts.extend(
                    caps.iter()
                        .map(|c| p_of(&mut p_model, c.first, inst, task, d)),
                );
                cuts.push(1.0);
                let merge = merges[p];
                let intervals = cuts.len() - 1;
                let mut i = 0;
                while i < intervals {
                    // On interval i (outcome uniform in [cuts[i], cuts[i+1]))
                    // the models of capability caps[i] and above succeed and
                    // the rest fail: any required capability strictly
                    // between caps[i-1] and caps[i] decides that, so take
                    // the midpoint (no logarithm); the interval's middle
                    // outcome uniform where the midpoint does not fall
                    // strictly between. Capabilities ascend, so the cut
                    // points do too.
                    let required = between(caps, i).unwrap_or_else(|| {
                        let u = (0.5 * (cuts[i] + cuts[i + 1])).clamp(1e-15, 1.0 - 1e-15);
                        required_capability(d, u, inst.slope)
                    });
                    common.required_capability = required;
                    let req = &common;
                    // The model the decision accepts, and the models it
                    // asked about: the oracle's from its interval picks
                    // where they hold for the request, else from its
                    // judged candidates (`Oracle::pick_common`, what
                    // `route_among` decides), any other policy's from its
                    // route.
                    let (accepted, asked) = match (picks, oracle) {
                        (Some(row), _) => row[i],
                        (None, Some(_)) => Oracle::pick_common(&judged, required),
                        (None, None) => {
                            dec.clear();
                            ctx.take_queried();
                            policy.route(req, &ctx, &mut dec);
                            (dec.accepted().map(|c| c.model), ctx.take_queried())
                        }
                    };
                    // The run extends past the boundary at cuts[j+1] (the
                    // capability caps[j]) while no model asked about has
                    // that capability.
                    let mut j = i;
                    if merge {
                        while j + 1 < intervals && asked & caps[j].models == 0 {
                            j += 1;
                        }
                    }
                    let (lo, hi) = (cuts[i], cuts[j + 1]);
                    i = j + 1;
                    let weight = share * rho * (hi - lo);
                    if weight < 1e-12 * share {
                        continue;
                    }
                    // Acceptable where the outcome uniform is below the
                    // accepted model's success probability.
                    let ok = match accepted {
                        Some(m) if !merge && ctx.succeeds(m, req) => weight,
                        Some(_) if !merge => 0.0,
                        Some(m) => {
                            let pa = p_of(&mut p_model, m.index(), inst, task, d);
                            share * rho * (pa.min(hi) - lo).max(0.0)
                        }
                        None => 0.0,
                    };
                    ctx.take_queried();
                    match oracle {
                        Some(_) => acc.add_pick(accepted, weight, ok, &mut dec),
                        None => acc.add(&dec, weight, ok),
                    }
                }
            }
            // Independent outcomes (share 1 − rho): every pattern of the
            // outcomes the decision depends on, enumerated.
            if rho < 1.0 {
                stack.clear();
                stack.push((Outcomes::default(), share * (1.0 - rho)));
                while let Some((known, weight)) = stack.pop() {
                    own.outcomes = known;
                    let req = &own;
                    dec.clear();
                    ctx.take_queried();
                    match oracle {
                        Some(o) => o.route_among(&judged, req, &ctx, &mut dec),
                        None => policy.route(req, &ctx, &mut dec),
                    }
                    let mut open = ctx.take_queried();
                    let accepted = dec.accepted().map(|c| c.model);
                    if let Some(m) = accepted
                        && m.index() < 64
                    {
                        open |= (1u64 << m.index()) & !known.known;
                    }
                    if open != 0 && known.known.count_ones() < MAX_ENUMERATED {
                        let m = open.trailing_zeros() as usize;
                        let (pm, bit) = (p_of(&mut p_model, m, inst, task, d), 1u64 << m);
                        let fixed = known.known | bit;
                        stack.push((
                            Outcomes {
                                known: fixed,
                                success: known.success,
                            },
                            weight * (1.0 - pm),
                        ));
                        stack.push((
                            Outcomes {
                                known: fixed,
                                success: known.success | bit,
                            },
                            weight * pm,
                        ));
                        continue;
                    }
                    ctx.take_queried();
                    let ok = accepted.is_some_and(|m| ctx.succeeds(m, req));
                    acc.add(&dec, weight, if ok { weight } else { 0.0 });
                }
            }
            // Each distinct decision booked and priced once.
            // A decision that calls one model and accepts it (most of
            // them) from what the request's call to that model books and
            // costs, worked out once for every policy (`MainPrices`).
            for e in acc.entries() {
                let (a, x) = match e.pick {
                    Some(m) => {
                        let call = mains.picked(m, base);
                        book_pick(&mut full[p], &call.booked, base, e.weight, e.succeeded);
                        // `request_cost`'s sums: no fixed overhead, one call.
                        (0.0 + call.price, 0.0 + call.miss_extra)
                    }
                    None => {
                        book(
                            tables,
                            inst,
                            &mut full[p],
                            &e.decision,
                            base,
                            &mut CacheMode::Defer,
                            e.weight,
                            e.succeeded,
                        );
                        request_cost(&mut mains, &e.decision, base)
                    }
                };
                let weight = e.weight;
                add_moments(&mut moments[p], weight, a, x);
                let bl = match blocks[p].last_mut() {
                    Some((bb, x)) if *bb == b => x,
                    _ => {
                        blocks[p].push((b, [0.0; 3]));
                        &mut blocks[p].last_mut().expect("just pushed").1
                    }
                };
                bl[0] += weight * a / block as f64;
                bl[1] += weight * x / block as f64;
                bl[2] += e.succeeded / block as f64;
            }
        }
    }
    Partial {
        full: full.iter().map(|l| l.extract(w)).collect(),
        moments,
        blocks,
    }
}

/// A required capability that decides what outcome interval `i` decides
/// (on it, the models of capability `caps[i]` and above succeed and the
/// rest fail): strictly between `caps[i - 1]` and `caps[i]`, the midpoint
/// (no logarithm); below the lowest or above the highest, 1 beyond it;
/// `None` where the midpoint does not fall strictly between.
fn between(caps: &[Cap], i: usize) -> Option<f64> {
    let below = i.checked_sub(1).map(|j| caps[j].value);
    match (below, caps.get(i).map(|c| c.value)) {
        (None, Some(hi)) => Some(hi - 1.0),
        (Some(lo), None) => Some(lo + 1.0),
        (Some(lo), Some(hi)) => Some(0.5 * (lo + hi)).filter(|m| lo < *m && *m < hi),
        (None, None) => None,
    }
}

/// A capability some of a policy's models have for the workload's task.
#[derive(Debug, Clone, Copy)]
struct Cap {
    value: f64,
    /// The models that have it, as a bit set (every bit for a model from
    /// index 64 on).
    models: u64,
    /// The first of them.
    first: usize,
}

/// Model `m`'s success probability on the sample request of difficulty
/// `d`, computed once per request (`p` holds NaN until then).
#[inline]
fn p_of(p: &mut [f64], m: usize, inst: &Instance, task: usize, d: f64) -> f64 {
    if p[m].is_nan() {
        p[m] = p_success(inst.capability[m][task], d, inst.slope);
    }
    p[m]
}

/// Most outcomes enumerated for one request (2^this patterns at most);
/// a decision that depends on more draws the rest, as exact mode does.
const MAX_ENUMERATED: u32 = 10;

/// One (sample request, policy)'s distinct decisions with the probability
/// of each and of its answer being acceptable. Decisions are kept (and
/// their allocations reused) across requests.
#[derive(Default)]
struct Distinct {
    entries: Vec<Entry>,
    used: usize,
    /// By route (`route_slot`): the entry of the decision that calls that
    /// route alone and accepts it, valid where its first field is
    /// `round`. Found by index, not by a search of the entries: where the
    /// search ended followed the outcome interval, and the oracle's picks
    /// (a new model on most intervals) mispredicted its exit about eight
    /// times a request.
    by_route: Vec<(u64, usize)>,
    /// Which request and policy the entries are for, counted.
    round: u64,
}

/// Where `m`'s pick is kept in `Distinct::by_route`: one slot for the
/// model at the request's service tier and one for each named tier.
#[inline]
fn route_slot(m: ModelId) -> usize {
    m.index() * (N_SERVICE_TIERS + 1) + m.service().map_or(0, |s| s as usize + 1)
}

struct Entry {
    /// `Some(m)`: the decision that calls `m` alone and accepts its answer
    /// (`Decision::picked`), which most are, kept without its calls;
    /// `None`: any other, in `decision`.
    pick: Option<ModelId>,
    decision: Decision,
    weight: f64,
    succeeded: f64,
}

impl Distinct {
    fn clear(&mut self) {
        self.used = 0;
        self.round += 1;
    }

    fn add(&mut self, dec: &Decision, weight: f64, succeeded: f64) {
        match dec.picked() {
            Some(m) => self.add_model(m, weight, succeeded),
            None => {
                let is = |e: &Entry| e.pick.is_none() && e.decision.same_as(dec);
                if !self.add_to(is, weight, succeeded) {
                    self.push(None, Some(dec), weight, succeeded);
                }
            }
        }
    }

    /// Adds to the entry `is` picks out, if there is one.
    #[inline(always)]
    fn add_to(&mut self, is: impl Fn(&Entry) -> bool, weight: f64, succeeded: f64) -> bool {
        match self.entries[..self.used].iter_mut().find(|e| is(e)) {
            Some(e) => {
                e.weight += weight;
                e.succeeded += succeeded;
                true
            }
            None => false,
        }
    }

    /// [`Self::add`] of the decision that calls `pick` alone and accepts
    /// it (`None`: calls nothing, built in `scratch`).
    fn add_pick(
        &mut self,
        pick: Option<ModelId>,
        weight: f64,
        succeeded: f64,
        scratch: &mut Decision,
    ) {
        match pick {
            Some(m) => self.add_model(m, weight, succeeded),
            None => {
                scratch.clear();
                self.add(scratch, weight, succeeded);
            }
        }
    }

    /// [`Self::add`] of the decision that calls `m` alone and accepts it.
    #[inline]
    fn add_model(&mut self, m: ModelId, weight: f64, succeeded: f64) {
        let slot = route_slot(m);
        if slot >= self.by_route.len() {
            self.by_route.resize(slot + 1, (0, 0));
        }
        let (round, i) = self.by_route[slot];
        if round == self.round {
            let e = &mut self.entries[i];
            e.weight += weight;
            e.succeeded += succeeded;
        } else {
            self.by_route[slot] = (self.round, self.used);
            self.push(Some(m), None, weight, succeeded);
        }
    }

    /// A new entry for `pick`, or else `dec`, in the room of a previous
    /// request's if any.
    fn push(&mut self, pick: Option<ModelId>, dec: Option<&Decision>, weight: f64, succeeded: f64) {
        if self.used == self.entries.len() {
            self.entries.push(Entry {
                pick,
                decision: Decision::default(),
                weight,
                succeeded,
            });
        }
        let e = &mut self.entries[self.used];
        e.pick = pick;
        if let Some(dec) = dec {
            e.decision.clone_from(dec);
        }
        e.weight = weight;
        e.succeeded = succeeded;
        self.used += 1;
    }

    fn entries(&self) -> &[Entry] {
        &self.entries[..self.used]
    }
}

/// One sample request's main calls by (model, service tier), shared by
/// every policy routing it: what booking each adds and what it costs,
/// worked out on first use.
struct MainPrices<'a> {
    inst: &'a Instance,
    /// Per (model, service tier, batch): what a call's booking and price
    /// take from the lane rather than the request.
    lanes: Vec<MainLane<'a>>,
    /// Each (model, service tier)'s call, and the request it was worked
    /// out for (the slot is current when that is `request`): forgetting a
    /// request's calls is a count, not a sweep over every slot.
    calls: Vec<(u64, MainCall)>,
    request: u64,
}

/// A sample request's main call to one model at one service tier.
#[derive(Debug, Clone, Copy, Default)]
struct MainCall {
    booked: PickedCall,
    /// The call's price if its cacheable prefix hits the cache (USD).
    price: f64,
    /// What a miss adds (USD).
    miss_extra: f64,
}

/// One (model, service tier, batch) lane of a workload's main calls: its
/// booking's constants and, per price tier, the rates (USD per 1M tokens)
/// its price takes.
#[derive(Debug, Clone, Copy)]
struct MainLane<'a> {
    pick: PickLane<'a>,
    /// Per `Tier`: input, cache read and output rates, and what writing
    /// the prefix costs over reading it.
    rates: [[f64; 4]; 2],
}

impl<'a> MainPrices<'a> {
    /// For workload `w`'s requests.
    fn new(inst: &'a Instance, tables: &Tables, w: usize) -> MainPrices<'a> {
        let mut lanes = Vec::with_capacity(tables.nm * N_SERVICE_TIERS * 2);
        for m in 0..tables.nm {
            for service in ServiceTier::ALL {
                for batch in [false, true] {
                    let pick = PickLane::new(tables, inst, w, m, service, batch);
                    let write = tables.write[w * tables.nm + m];
                    let rates = [Tier::Standard, Tier::Long].map(|tier| {
                        let r = inst.pricing[m].rates(tier as usize, pick.mode as usize);
                        let rate = |c: Component| r[c as usize];
                        [
                            rate(Component::Input),
                            rate(Component::CacheRead),
                            rate(Component::Output),
                            rate(write) - rate(Component::CacheRead),
                        ]
                    });
                    lanes.push(MainLane { pick, rates });
                }
            }
        }
        MainPrices {
            inst,
            lanes,
            calls: vec![(0, MainCall::default()); tables.nm * N_SERVICE_TIERS],
            request: 1,
        }
    }

    /// Forgets the previous request's calls.
    fn clear(&mut self) {
        self.request += 1;
    }

    /// `req`'s main call to model `m` at `service`.
    ///
    /// Worked out in its slot and lent, not copied: a copy reads the
    /// fields just written as wider words than they were written in, and
    /// a load the stores cannot forward to waits for them to retire (the
    /// returned copy's line held 3% of a default run's `perf` samples,
    /// and the run took 5% less once the call was lent).
    #[inline]
    fn at(&mut self, m: usize, service: ServiceTier, req: &Request) -> &MainCall {
        let i = m * N_SERVICE_TIERS + service as usize;
        if self.calls[i].0 != self.request {
            let lane = &self.lanes[2 * i + usize::from(req.batch)];
            let slot = &mut self.calls[i];
            slot.0 = self.request;
            work_out(lane, req, &mut slot.1);
        }
        &self.calls[i].1
    }

    /// The main call's (all-hit price, miss extra) of `req` on model `m`
    /// at `service` (USD).
    #[inline]
    fn get(&mut self, m: usize, service: ServiceTier, req: &Request) -> (f64, f64) {
        let call = self.at(m, service, req);
        (call.price, call.miss_extra)
    }

    /// `req`'s answer call to `model` (at its own service tier, else the
    /// request's).
    #[inline]
    fn picked(&mut self, model: ModelId, req: &Request) -> &MainCall {
        self.at(model.index(), model.service().unwrap_or(req.service), req)
    }
}

/// `req`'s call in `lane`: its booking and its price, the price
/// `price_call` gives the call with its cacheable prefix read from the
/// cache, to the bit (the same products and quotients, summed in
/// `Charges::total`'s order). Its unused components are left out of the
/// sum: each is 0 tokens × a finite rate / 1e6 = +0, and adding +0 to a
/// sum of non-negative terms changes no bit.
#[inline]
fn work_out(lane: &MainLane<'_>, req: &Request, out: &mut MainCall) {
    let booked = lane.pick.call(req);
    let [input_rate, read_rate, output_rate, write_over_read] = lane.rates[booked.tier];
    let cost = |tokens: u64, rate: f64| tokens as f64 * rate / 1e6;
    let mut price = if booked.deferred {
        let prefix = req.prefix_tokens.min(req.input_tokens);
        cost(req.input_tokens - prefix, input_rate) + cost(prefix, read_rate)
    } else {
        cost(req.input_tokens, input_rate)
    };
    price += cost(req.output_tokens, output_rate);
    out.miss_extra = if booked.deferred {
        req.prefix_tokens as f64 * write_over_read / 1e6
    } else {
        0.0
    };
    out.price = price;
    out.booked = booked;
}

/// The cost of one decision in USD, split as (cost if every cacheable
/// prefix hit the cache, extra cost if every one missed): used only for the
/// per-request variance. Main calls' prices come from `mains`.
fn request_cost(mains: &mut MainPrices<'_>, dec: &Decision, req: &Request) -> (f64, f64) {
    let mut all_hit = dec.fixed_overhead_usd();
    let mut miss_extra = 0.0;
    for call in dec.calls() {
        let m = call.model.index();
        let service = call.model.service().unwrap_or(req.service);
        match call.kind {
            CallKind::Main => {
                let (price, extra) = mains.get(m, service, req);
                miss_extra += extra;
                all_hit += price;
            }
            CallKind::Overhead {
                input_tokens,
                output_tokens,
            } => {
                let shape = CallShape {
                    input_tokens,
                    output_tokens,
                    prefix_tokens: 0,
                    cache: None,
                    ttl: Ttl::FiveMinutes,
                    batch: req.batch,
                    service,
                };
                all_hit += price_call(&mains.inst.pricing[m], &shape).total();
            }
        }
    }
    (all_hit, miss_extra)
}

/// Share of cacheable calls that hit, for Poisson arrivals at `lambda` per
/// second over a month of `horizon` seconds, starting cold, with a TTL of
/// `ttl` seconds refreshed by every call: a call at time t misses iff no
/// call came in the previous min(t, T), so
/// `E[misses] = (1 − e^{−λT}) + λ(M − T)e^{−λT}` out of `λM` calls.
///
/// Where the prefix stays warm (`λT` past `misses_saturate`'s bound)
/// `E[misses]` is 1 to the last bit, and the two exponentials are not
/// computed: a shaped scenario's busy hours ask for this once per
/// distinct hourly rate for every policy, workload, model, replication
/// and month (`Shape::traffic_weighted`).
pub fn hit_probability(lambda: f64, ttl: f64, horizon: f64) -> f64 {
    let m = horizon;
    let t = ttl.min(m);
    let lm = lambda * m;
    if lm.is_nan() || lm <= 1e-12 {
        return 0.0;
    }
    let misses = if misses_saturate(lambda * t, lm) {
        1.0
    } else {
        -(-lambda * t).exp_m1() + lambda * (m - t) * (-lambda * t).exp()
    };
    (1.0 - misses / lm).clamp(0.0, 1.0)
}

/// Whether `hit_probability`'s `E[misses]`, `(1 − e^{−x}) + λ(M − T)e^{−x}`
/// with `x = λT` and `λ(M − T) ≤ λM = lm`, computes to 1 exactly:
/// - `expm1(−x)` is −1 exactly from `x ≥ 56·ln 2` (38.8) on: libm's
///   `expm1` (fdlibm's, in glibc) returns `tiny − 1` there, and the true
///   value, within 2^−56 of −1, rounds to −1 anyway;
/// - the second term is at most `lm·e^{−x}` give or take a few roundings,
///   under 2^−54 once `x ≥ ln(lm) + 54·ln 2`, and then adding it to 1
///   gives 1 (half of 1's spacing is 2^−53). `ln(lm)` is bounded by the
///   binary exponent of `lm` plus 1, with another bit to spare.
///
/// `tests::a_saturated_cache_misses_once_to_the_bit` checks the shortcut
/// against the formula over a grid of both.
#[inline]
fn misses_saturate(x: f64, lm: f64) -> bool {
    if !(lm.is_finite() && lm > 0.0) {
        return false;
    }
    let exponent = ((lm.to_bits() >> 52) & 0x7ff) as f64 - 1023.0;
    x >= 40.0 && x >= (exponent + 56.0) * std::f64::consts::LN_2
}

/// Calls a second that keep stream `(w, model)`'s prefix warm under
/// policy `p`, a month of `s` requests of workload `w` making `calls`
/// cacheable calls to `model`: each call, or for sessions each session's
/// coverage (`sim::session_run`), spread over the workload's prefixes.
fn stream_lambda(
    t: &Tables,
    ev: &Evaluated,
    p: usize,
    w: usize,
    model: usize,
    s: f64,
    calls: f64,
) -> f64 {
    let i = w * t.nm + model;
    match ev.coverage.get(p) {
        Some(cov) => {
            let c = cov.iter().find(|x| x.0 == model).map_or(0.0, |x| x.1);
            s * c / (t.distinct[w] as f64 * MONTH_SECONDS * t.ttl_s[i].max(1e-9))
        }
        None => calls / (t.distinct[w] as f64 * MONTH_SECONDS),
    }
}

/// Deferred calls of one (workload, model), by `[price tier][mode]`.
type Deferred = [[f64; N_MODES]; 2];

/// All deferred calls, summed in index order.
fn deferred_total(d: &Deferred) -> f64 {
    let mut s = 0.0;
    for row in d {
        for x in row {
            s += x;
        }
    }
    s
}

/// Cache reads and writes booked for one (policy, workload, model) in one
/// replication's month.
struct CacheBook {
    policy: usize,
    workload: usize,
    model: usize,
    write_component: Component,
    read: Deferred,
    write: Deferred,
    hits: f64,
    misses: f64,
    read_usd: f64,
    write_usd: f64,
    /// What the writes cost above reading the same tokens (USD).
    miss_extra_usd: f64,
}

/// One replication's month.
struct Item {
    reps: Vec<RepMonth>,
    cost_se: Vec<f64>,
    quality_se: Vec<f64>,
    cache: Vec<CacheBook>,
}

/// Computes one replication's month from its evaluated samples.
fn month(
    inst: &Instance,
    t: &Tables,
    evals: &[Arc<Evaluated>],
    m: usize,
    seed: u64,
    np: usize,
) -> Item {
    let v = inst.volumes[m];
    let books = evals
        .iter()
        .flat_map(|e| e.deferred.iter().map(Vec::len))
        .sum();
    let mut cache = Vec::with_capacity(books);
    let mut reps = Vec::with_capacity(np);
    let mut cost_se = Vec::with_capacity(np);
    let mut quality_se = Vec::with_capacity(np);
    // The same draws for every policy: exact mode's policies share their
    // requests, so their noise moves together.
    let mut rng = Stream::Noise {
        replication: inst.replication,
        month: m as u64,
    }
    .generator(seed);
    let z_cost: f64 = StandardNormal.sample(&mut rng);
    let z_quality: f64 = StandardNormal.sample(&mut rng);
    // Cache streams: (workload, calls, λT — `None` if the hit rate is
    // pinned —, miss rate, swing); buffers reused across policies.
    let mut streams: Vec<(usize, f64, Option<f64>, f64, f64)> = Vec::new();
    let mut a_w = vec![0.0; evals.len()];
    // A shaped week's hit probabilities, every stream's in the order the
    // loop below takes them: the traffic-weighted means of all of them
    // summed hour by hour side by side (`Shape::traffic_weighted_each`),
    // each to the bit as alone (alone, each was a chain of 168 dependent
    // additions). A flat week's is the stream's own, taken in the loop.
    let shaped = !inst.shape.is_flat();
    let mut hits = Vec::new();
    if shaped {
        // (λ, TTL) per stream, `None` where the workload's rate is pinned.
        let mut arrivals: Vec<Option<(f64, f64)>> = Vec::new();
        for p in 0..np {
            for (w, ev) in evals.iter().enumerate() {
                let s = v * inst.workloads[w].share;
                for &(model, d) in &ev.deferred[p] {
                    let i = w * t.nm + model;
                    let lambda = stream_lambda(t, ev, p, w, model, s, s * deferred_total(&d));
                    arrivals.push(t.pinned[w].is_none().then_some((lambda, t.ttl_s[i])));
                }
            }
        }
        inst.shape.traffic_weighted_each(
            arrivals.len(),
            |j, r| match arrivals[j] {
                Some((lambda, ttl)) => hit_probability(lambda * r, ttl, MONTH_SECONDS),
                None => 0.0,
            },
            &mut hits,
        );
    }
    let mut next = 0;
    for p in 0..np {
        let (mut cost, mut succ, mut esc) = (0.0, 0.0, 0.0);
        let (mut m1, mut m2, mut se2, mut q_se2) = (0.0, 0.0, 0.0, 0.0);
        streams.clear();
        a_w.iter_mut().for_each(|a| *a = 0.0);
        for (w, ev) in evals.iter().enumerate() {
            let share = inst.workloads[w].share;
            let s = v * share;
            cost += s * ev.unit_cost[p];
            succ += s * ev.success[p];
            esc += s * ev.escalation[p];
            let nb = ev.blocks[p].len() as f64;
            let prefix = inst.workloads[w].prefix_tokens as f64;
            let (mut calls_all, mut hits_all) = (0.0, 0.0);
            for &(model, d) in &ev.deferred[p] {
                let i = w * t.nm + model;
                let calls = s * deferred_total(&d);
                let lambda = stream_lambda(t, ev, p, w, model, s, calls);
                let hit = match t.pinned[w] {
                    // Busy hours keep a cache warm, quiet ones let it
                    // expire: the traffic-weighted mean over the week
                    // (flat: `traffic_weighted`'s f(1), λ·1 being λ).
                    None if shaped => hits[next],
                    None => hit_probability(lambda, t.ttl_s[i], MONTH_SECONDS),
                    Some(rate) => rate,
                };
                next += 1;
                // Cache reads and writes are on-demand at the call's service
                // tier (batch is not cached).
                let pricing = &inst.pricing[model];
                let rate = |tier: Tier, mode: Mode, c: Component| pricing.rate(tier, mode, c);
                let mut b = CacheBook {
                    policy: p,
                    workload: w,
                    model,
                    write_component: t.write[i],
                    read: [[0.0; N_MODES]; 2],
                    write: [[0.0; N_MODES]; 2],
                    hits: calls * hit,
                    misses: calls * (1.0 - hit),
                    read_usd: 0.0,
                    write_usd: 0.0,
                    miss_extra_usd: 0.0,
                };
                for tier in Tier::ALL {
                    for mode in Mode::ALL {
                        let (k, j) = (tier as usize, mode as usize);
                        // A price class with no deferred calls (most of
                        // them) reads and writes +0 tokens, and adding the
                        // ±0 USD they cost leaves every sum as it was.
                        if d[k][j] == 0.0 {
                            continue;
                        }
                        b.read[k][j] = s * d[k][j] * prefix * hit;
                        b.write[k][j] = s * d[k][j] * prefix * (1.0 - hit);
                        let (r, wr) = (
                            rate(tier, mode, Component::CacheRead),
                            rate(tier, mode, b.write_component),
                        );
                        b.read_usd += b.read[k][j] * r / 1e6;
                        b.write_usd += b.write[k][j] * wr / 1e6;
                        b.miss_extra_usd += b.write[k][j] * (wr - r) / 1e6;
                    }
                }
                cost += b.read_usd + b.write_usd;
                calls_all += calls;
                hits_all += calls * hit;
                let swing: f64 = Tier::ALL
                    .into_iter()
                    .flat_map(|tier| Mode::ALL.map(|mode| (tier, mode)))
                    .map(|(tier, mode)| {
                        d[tier as usize][mode as usize]
                            * prefix
                            * (rate(tier, mode, b.write_component)
                                - rate(tier, mode, Component::CacheRead))
                    })
                    .sum::<f64>()
                    / deferred_total(&d)
                    / 1e6;
                let x = match t.pinned[w] {
                    None => Some(lambda * t.ttl_s[i]),
                    Some(_) => None,
                };
                streams.push((w, calls, x, 1.0 - hit, swing));
                cache.push(b);
            }
            // Per-request moments with the workload's call-weighted miss rate.
            let miss = if calls_all > 0.0 {
                1.0 - hits_all / calls_all
            } else {
                0.0
            };
            let [a1, a2, s1, s2, as_] = ev.moments[p];
            a_w[w] = a1 + miss * s1;
            let w1 = a1 + miss * s1;
            let w2 = a2 + 2.0 * miss * as_ + miss * miss * s2;
            m1 += share * w1;
            m2 += share * w2;
            // Sampling error from the spread of the blocks' means.
            se2 += share * share * block_cost_variance(&ev.blocks[p], miss) / nb;
            q_se2 += share * share * ev.rate_variance[p] / nb;
        }
        // The per-request variance counts each cacheable call at its mean
        // miss rate. What hits and misses add, per (workload, model) stream
        // of n calls with swing S = prefix × (write − read rate):
        // - pinned rate: independent outcomes, n·S²·q(1 − q);
        // - from traffic (Poisson arrivals, x = λT, q = e^{−x}): misses are
        //   the calls whose gap since the previous one exceeds T; their
        //   count varies less than independent outcomes would
        //   (n·q(1 − q − x²q) given the calls), and it falls as the stream's
        //   calls rise (slope q(1 − x) instead of q), which correlates it
        //   with the rest of the month's cost: S²·n·q²(x² − 2x)(1 − ρ) and
        //   −2·S·q·x·n·(Ā_w − Ā), ρ being the stream's share of requests
        //   and Ā_w, Ā the mean cost of its workload's and of all requests.
        let mut cache_var = 0.0;
        for &(w, n, x, q_mean, swing) in &streams {
            if let Some(x) = x {
                let q = (-x).exp();
                let rho = if v > 0.0 { (n / v).min(1.0) } else { 0.0 };
                cache_var += swing * swing * n * q * (1.0 - q - x * x * q)
                    + swing * swing * n * q * q * (x * x - 2.0 * x) * (1.0 - rho)
                    - 2.0 * swing * q * x * n * (a_w[w] - m1);
            } else {
                cache_var += n * swing * swing * q_mean * (1.0 - q_mean);
            }
        }
        let q = if v > 0.0 { succ / v } else { 0.0 };
        let cost_sd = (v * (m2 - m1 * m1).max(0.0) + cache_var).max(0.0).sqrt();
        let success_sd = (v * q * (1.0 - q)).max(0.0).sqrt();
        reps.push(RepMonth {
            requests: v,
            cost_usd: (cost + z_cost * cost_sd).max(0.0),
            succeeded: (succ + z_quality * success_sd).clamp(0.0, v),
            escalated: esc,
        });
        cost_se.push(v * se2.sqrt());
        quality_se.push(q_se2.sqrt());
    }
    Item {
        reps,
        cost_se,
        quality_se,
        cache,
    }
}

/// `variance` of the blocks' mean costs at the miss rate `miss`
/// (`A + miss·S` per block), to the bit, without writing the means out
/// (once per replication, month, policy and workload: 57,600 times in
/// support-platform's default run).
fn block_cost_variance(blocks: &[[f64; 3]], miss: f64) -> f64 {
    variance_of(blocks.iter().map(|b| b[0] + miss * b[1]))
}

/// Evaluates each of `todo`'s (instance, workload) pairs: the same as
/// [`evaluate`] for each, with all their work in one pool of tasks, so
/// that no thread waits while there is work.
///
/// Each pair's sample is drawn in a task of its own, which then spawns a
/// task for each of its chunks; each chunk's part goes to its own slot,
/// and each workload's parts are folded in chunk order at the end (in
/// parallel: a workload's fold reads only its own parts). Which thread
/// draws or routes what, and when, changes no sum.
///
/// Session workloads are started first: each draws its sessions on one
/// thread (one generator), the longest serial stretch of the evaluation,
/// while the other threads draw and route the request workloads and the
/// session workload's own chunks. Before this, every sample was drawn
/// before any was routed, and coding-assistant's routing of its three
/// request workloads waited about 30 ms for its session workload's
/// sessions.
fn evaluate_all(
    setup: &Setup<'_, '_>,
    insts: &[Instance],
    todo: &[(usize, SampleKey)],
    samples_for: &[usize],
) -> Vec<(SampleKey, Arc<Evaluated>)> {
    let scenario = setup.scenario;
    let is_session = |j: usize| {
        let (i, (w, _)) = (&todo[j].0, &todo[j].1);
        insts[*i].workloads[*w].session.is_some()
    };
    // Sessions first, then the request workloads, each in `todo`'s order.
    let mut order: Vec<usize> = (0..todo.len()).collect();
    order.sort_by_key(|&j| !is_session(j));
    setup.install(|| {
        let staged: Vec<OnceLock<Staged>> = todo.iter().map(|_| OnceLock::new()).collect();
        // Each pair's chunks' parts, a slot for each chunk.
        let parts: Vec<OnceLock<Vec<OnceLock<Partial>>>> =
            todo.iter().map(|_| OnceLock::new()).collect();
        rayon::scope_fifo(|scope| {
            for &j in &order {
                let (staged, parts) = (&staged, &parts);
                scope.spawn_fifo(move |scope| {
                    let (i, (w, _)) = (&todo[j].0, &todo[j].1);
                    let (inst, catalog) = (&insts[*i], &scenario.catalog);
                    let st = staged[j].get_or_init(|| {
                        Staged::new(inst, catalog, *w, samples_for[*w], scenario.seed)
                    });
                    if let Staged::Drawn(d) = st {
                        let chunks = d.chunks();
                        let slots = parts[j]
                            .get_or_init(|| chunks.iter().map(|_| OnceLock::new()).collect());
                        for (chunk, slot) in chunks.into_iter().zip(slots) {
                            // The chunk's one task: its slot is empty.
                            scope.spawn_fifo(move |_| {
                                let _ = slot.set(d.route(chunk));
                            });
                        }
                    }
                });
            }
        });
        staged
            .into_par_iter()
            .zip(parts)
            .zip(todo)
            .map(|((st, parts), (_, key))| {
                let st = st.into_inner().expect("every pair is drawn in the scope");
                let ev = match st {
                    Staged::Evaluated(ev) => ev,
                    Staged::Drawn(d) => {
                        let mine: Vec<Partial> = parts
                            .into_inner()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|p| p.into_inner().expect("every chunk is routed in the scope"))
                            .collect();
                        d.finish(&mine)
                    }
                };
                (key.clone(), Arc::new(ev))
            })
            .collect()
    })
}

/// A workload and the fingerprint of what its routing depends on.
type SampleKey = (usize, Vec<u64>);

/// Runs every replication: evaluates each distinct sample once, then every
/// (replication, month) in parallel, folding results in order.
pub(crate) fn run(setup: &Setup<'_, '_>, samples: usize) -> Run {
    let (nw, reps) = (setup.nw, setup.reps);
    // The run's books are set out alongside the first chunk's computation
    // (below): zeroing months x policies ledgers is mostly the kernel
    // handing over fresh pages, a few ms of a 100 ms run, and nothing
    // else waits on it until the first fold.
    let mut out: Option<Run> = None;
    // When many replications change what routing depends on, each needs its
    // own evaluated sample: spread a budget of 16 full samples per workload
    // over them (at least 2,048 requests each), unless the caller fixed the
    // sample size. The smaller samples' error is reported like any other.
    // A workload no uncertain input routes has the same (empty)
    // fingerprint in every replication: one distinct, the full sample.
    // Which inputs a replication draws, and what each reaches, does not
    // depend on the replication (`instance::all_params` lists them from
    // one), so replication 0 tells; when it shows no workload routed by a
    // drawn value, the count below (every replication resolved once, about
    // 5 ms of a 200-replication default run) would find one fingerprint
    // for each.
    let routed_by_draws = setup.opts.adapt_samples && {
        let first = setup.instance(0);
        (0..nw).any(|w| !fingerprint(&first, w).is_empty())
    };
    let samples_for: Vec<usize> = if routed_by_draws {
        // Each replication resolved once for every workload's fingerprint
        // (in parallel, 64 at a time, counted in replication order); a
        // workload stops counting past 1,024 distinct ones.
        let mut seen: Vec<std::collections::HashSet<Vec<u64>>> = vec![Default::default(); nw];
        let mut start = 0;
        while start < reps && !seen.iter().all(|s| s.len() > 16 * 64) {
            let end = (start + 64).min(reps);
            let prints: Vec<Vec<Vec<u64>>> = setup.install(|| {
                (start..end)
                    .into_par_iter()
                    .map(|r| {
                        let inst = setup.instance(r as u64);
                        (0..nw).map(|w| fingerprint(&inst, w)).collect()
                    })
                    .collect()
            });
            for one in prints {
                if seen.iter().all(|s| s.len() > 16 * 64) {
                    break;
                }
                for (s, print) in seen.iter_mut().zip(one) {
                    if s.len() <= 16 * 64 {
                        s.insert(print);
                    }
                }
            }
            start = end;
        }
        seen.iter()
            .map(|s| {
                let distinct = s.len().max(1);
                if distinct <= 16 {
                    samples
                } else {
                    (samples * 16 / distinct).clamp(2048.min(samples), samples)
                }
            })
            .collect()
    } else {
        vec![samples; nw]
    };
    let k = 1.0 / reps as f64;
    let mut evaluated: HashMap<SampleKey, Arc<Evaluated>> = HashMap::new();
    // Chunks of 64 replications, each computed in parallel and folded in
    // order on one thread; a chunk is folded while the next is computed
    // (the fold is the same, chunk by chunk, in the same order).
    let chunk = 64u32;
    let mut pending: Option<Chunk> = None;
    let mut start = 0u32;
    while start < reps {
        let end = (start + chunk).min(reps);
        let out = &mut out;
        let evaluated = &mut evaluated;
        let samples_for = &samples_for;
        let fold = pending.take();
        let (_, next) = setup.install(|| {
            rayon::join(
                || {
                    let out = out.get_or_insert_with(|| setup.empty_run());
                    if let Some(c) = fold {
                        fold_chunk(setup, out, c, k);
                    }
                },
                || compute_chunk(setup, evaluated, samples_for, start, end),
            )
        });
        pending = Some(next);
        start = end;
    }
    let mut out = out.unwrap_or_else(|| setup.empty_run());
    if let Some(c) = pending {
        fold_chunk(setup, &mut out, c, k);
    }
    out
}

/// One chunk of replications, computed: their instances, the evaluated
/// samples each uses (by workload) and every (replication, month) item in
/// order.
struct Chunk {
    insts: Vec<Instance>,
    per_inst: Vec<Vec<Arc<Evaluated>>>,
    results: Vec<Item>,
}

/// Computes replications `start..end`: resolves them, evaluates each
/// distinct (workload, fingerprint) not yet in `evaluated` (which keeps
/// only those this chunk uses), and computes every month.
fn compute_chunk(
    setup: &Setup<'_, '_>,
    evaluated: &mut HashMap<SampleKey, Arc<Evaluated>>,
    samples_for: &[usize],
    start: u32,
    end: u32,
) -> Chunk {
    let (np, nw, months) = (setup.np, setup.nw, setup.months);
    let scenario = setup.scenario;
    let (insts, tables): (Vec<Instance>, Vec<Tables>) = (start..end)
        .into_par_iter()
        .map(|r| {
            let inst = setup.instance(r as u64);
            let tables = Tables::new(&inst, &scenario.catalog);
            (inst, tables)
        })
        .unzip();

    // Evaluate each distinct (workload, fingerprint) once.
    let keys: Vec<Vec<(usize, Vec<u64>)>> = insts
        .iter()
        .map(|inst| (0..nw).map(|w| (w, fingerprint(inst, w))).collect())
        .collect();
    let mut todo: Vec<(usize, (usize, Vec<u64>))> = Vec::new();
    for (i, ks) in keys.iter().enumerate() {
        for key in ks {
            if !evaluated.contains_key(key) && !todo.iter().any(|t| t.1 == *key) {
                todo.push((i, key.clone()));
            }
        }
    }
    // Evaluated together (`evaluate_all`), but holding samples of at
    // most `MAX_SAMPLES` requests per thread at once, as evaluating one
    // sample per thread would: past that, in turns.
    let mut fresh: Vec<(SampleKey, Arc<Evaluated>)> = Vec::with_capacity(todo.len());
    let budget = rayon::current_num_threads().max(1) * MAX_SAMPLES;
    let mut from = 0;
    while from < todo.len() {
        let mut to = from + 1;
        let mut held = samples_for[todo[from].1.0];
        while to < todo.len() && held + samples_for[todo[to].1.0] <= budget {
            held += samples_for[todo[to].1.0];
            to += 1;
        }
        fresh.extend(evaluate_all(setup, &insts, &todo[from..to], samples_for));
        from = to;
    }
    let used: std::collections::HashSet<&(usize, Vec<u64>)> = keys.iter().flatten().collect();
    evaluated.retain(|key, _| used.contains(key));
    evaluated.extend(fresh);
    let per_inst: Vec<Vec<Arc<Evaluated>>> = keys
        .iter()
        .map(|ks| ks.iter().map(|key| evaluated[key].clone()).collect())
        .collect();

    let items: Vec<(usize, usize)> = (0..insts.len())
        .flat_map(|i| (0..months).map(move |m| (i, m)))
        .collect();
    let results: Vec<Item> = items
        .par_iter()
        .map(|&(i, m)| {
            let inst = &insts[i];
            let item = month(inst, &tables[i], &per_inst[i], m, scenario.seed, np);
            setup.tick();
            item
        })
        .collect();
    Chunk {
        insts,
        per_inst,
        results,
    }
}

/// Folds a computed chunk into `out`, replication by replication, each
/// weighted `k`. The volume-independent parts of the ledgers are added
/// once per distinct sample at the end of the chunk, with the summed scale
/// of every replication that used it.
fn fold_chunk(setup: &Setup<'_, '_>, out: &mut Run, chunk: Chunk, k: f64) {
    let (np, months) = (setup.np, setup.months);
    let Chunk {
        insts,
        per_inst,
        results,
    } = chunk;
    let mut coef: Vec<(Arc<Evaluated>, usize, Vec<f64>)> = Vec::new();
    let mut it = results.into_iter();
    for (i, inst) in insts.iter().enumerate() {
        let mut row = Vec::with_capacity(months);
        for m in 0..months {
            let item = it.next().expect("one result per item");
            for p in 0..np {
                out.cost_se[m][p] += k * item.cost_se[p];
                out.quality_se[m][p] += k * item.quality_se[p];
            }
            for b in &item.cache {
                let led = &mut out.ledgers[m][b.policy];
                let cell = led.cell_mut(b.workload, b.model);
                for tier in 0..2 {
                    for mode in 0..N_MODES {
                        // A price class the month's books left empty adds
                        // +0 tokens: skipped, every sum as it was.
                        if b.read[tier][mode] + b.write[tier][mode] == 0.0 {
                            continue;
                        }
                        let tok = cell.tokens_mut(MAIN, tier, mode);
                        tok[Component::CacheRead as usize] += k * b.read[tier][mode];
                        tok[b.write_component as usize] += k * b.write[tier][mode];
                    }
                }
                cell.cache_hits += k * b.hits;
                cell.cache_misses += k * b.misses;
                // A session's tally counted its deferred prefix as read.
                if inst.workloads[b.workload].session.is_some() {
                    let tally = &mut led.sessions[b.workload];
                    if !tally.is_session() {
                        *tally = SessionTally::new();
                    }
                    let written = k * deferred_total(&b.write);
                    tally.read -= written;
                    tally.write += written;
                    tally.swing_missed_usd += k * b.miss_extra_usd;
                }
                let c = &mut out.costs[m][b.policy].cells[b.workload * setup.nm + b.model];
                c[Group::CacheRead as usize] += k * b.read_usd;
                c[Group::CacheWrite as usize] += k * b.write_usd;
            }
            row.push(item.reps);
            out.volumes[m] += k * inst.volumes[m];
        }
        for (w, ev) in per_inst[i].iter().enumerate() {
            let j = match coef
                .iter()
                .position(|(e, ww, _)| *ww == w && Arc::ptr_eq(e, ev))
            {
                Some(j) => j,
                None => {
                    coef.push((ev.clone(), w, vec![0.0; months]));
                    coef.len() - 1
                }
            };
            for m in 0..months {
                coef[j].2[m] += k * inst.volumes[m] * inst.workloads[w].share;
            }
        }
        out.reps.push(row);
        out.drawn.push(inst.drawn.clone());
    }
    for (ev, w, c) in &coef {
        for (m, &scale) in c.iter().enumerate() {
            for p in 0..np {
                out.ledgers[m][p].add_single_scaled(&ev.ledgers[p], *w, scale);
                out.costs[m][p].add_single_scaled(&ev.costs[p], *w, scale);
            }
        }
    }
}

/// What workload `w`'s routing depends on in this replication: the drawn
/// values of every uncertain input that reaches its routing (not those that
/// only scale traffic or size caches: `scenario::Reach`). Two replications
/// with the same fingerprint route the workload's sample identically.
fn fingerprint(inst: &Instance, w: usize) -> Vec<u64> {
    inst.drawn
        .iter()
        .zip(&inst.drawn_reach)
        .filter(|(_, reach)| reach.routes(w))
        .map(|((_, v), _)| v.to_bits())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::pricing::CacheOutcome;
    use crate::scenario::Scenario;
    use crate::sim::exact::tests::{ORACLE, first_replication};

    /// An agent task over Claude Opus 4.5's 200K-token window about one
    /// time in 75: with the window among the sample's cuts, each block's
    /// weighted share of sample requests over it is the exact probability
    /// (the straddling stratum split at the window); without, one point
    /// per stratum puts it off by up to a stratum's 1/1024.
    #[test]
    fn the_stratum_that_straddles_a_context_window_is_split_at_it() {
        let yaml = r#"
name: straddle
horizon_months: 1
catalog: bedrock-2026-11
region_profile: us
seed: 11
volume: { requests_per_month: 100000 }
workloads:
  - name: agent
    share: 1
    task: agentic
    input_tokens: { lognormal: { median: 25000, p90: 80000 } }
    output_tokens: { lognormal: { median: 2000, p90: 6000 } }
    difficulty: { beta: { mean: 0.6, concentration: 5 } }
    cache: { prefix_tokens: 12000, distinct_prefixes: 400 }
policies:
  - name: all-opus
    single: claude-opus-4-5
baseline: all-opus
"#;
        let (s, inst) = first_replication(yaml);
        let cuts = token_cuts(&inst, &s.catalog);
        let m = s
            .catalog
            .models
            .iter()
            .position(|m| m.key == "claude-opus-4-5");
        let (opus, pricing) = (&s.catalog.models[m.unwrap()], &inst.pricing[m.unwrap()]);
        assert_eq!(opus.context_window, 200_000);
        let mut input = vec![opus.context_window, pricing.long_above];
        input.sort_unstable();
        input.dedup();
        assert_eq!(
            (&cuts.input, &cuts.output),
            (&input, &vec![opus.max_output])
        );
        let wl = &inst.workloads[0];
        let crate::stats::dist::TokenDist::Lognormal { mu, sigma, .. } = wl.input else {
            panic!("lognormal input expected");
        };
        // P(12,000 + round(X) > 200,000) = P(X >= 188,000.5), by statrs.
        use statrs::distribution::{ContinuousCDF, Normal};
        let z = ((188_000.5f64).ln() - mu) / sigma;
        let exact = 1.0 - Normal::new(0.0, 1.0).unwrap().cdf(z);
        assert!((0.0125..0.0140).contains(&exact), "{exact}");
        let share_over = |cuts: &TokenCuts| -> Vec<f64> {
            let mut rng = Stream::Sample { workload: 0 }.generator(s.seed);
            let sample = stratified_sample(wl, inst.slope, (BLOCKS, 1024), cuts, &mut rng);
            let mut over = [0.0; BLOCKS];
            for r in &sample {
                if r.input_tokens > 200_000 {
                    over[r.block as usize] += r.weight;
                }
            }
            over.iter().map(|o| o / 1024.0).collect()
        };
        for (b, share) in share_over(&cuts).iter().enumerate() {
            assert!(
                (share - exact).abs() < 1e-9,
                "block {b}: {share} vs {exact}"
            );
        }
        // Without the cut a block's share is a whole number of strata.
        let plain = share_over(&TokenCuts::default());
        let worst = plain.iter().map(|p| (p - exact).abs()).fold(0.0, f64::max);
        assert!(worst > 1e-5 && worst < 1.0 / 1024.0, "{worst}");
    }

    /// Exact mode's oracle scenario (long-context rates, batch and Flex
    /// calls, models priced alike, one listed twice) with cached prefixes
    /// and a model named at the Priority tier.
    fn calls_scenario() -> String {
        ORACLE
            .replace(
                "    batch_share: 0.3\n",
                "    batch_share: 0.3\n    cache: { prefix_tokens: 2000, distinct_prefixes: 3 }\n",
            )
            .replace(
                "    service_tier: flex\n",
                "    service_tier: flex\n    cache: { prefix_tokens: 1500, distinct_prefixes: 2, ttl: 1h }\n",
            )
            .replace(
                "baseline: oracle\n",
                "  - name: priority\n    single: nova-pro:priority\nbaseline: oracle\n",
            )
    }

    /// The scenario's first replication, and 256 sample requests of each
    /// workload.
    fn sampled(yaml: &str) -> (Scenario, Instance, Vec<Request>) {
        let (s, inst) = first_replication(yaml);
        let mut requests = Vec::new();
        for (w, wl) in inst.workloads.iter().enumerate() {
            let mut rng = Stream::Sample { workload: w as u64 }.generator(s.seed);
            let cuts = token_cuts(&inst, &s.catalog);
            let sample = stratified_sample(wl, inst.slope, (BLOCKS, 16), &cuts, &mut rng);
            requests.extend(sample.iter().map(|r| r.request(w, wl)));
        }
        (s, inst, requests)
    }

    /// Every model, and the policies' models as named (a model at the
    /// Priority tier among them).
    fn models(s: &Scenario, inst: &Instance) -> Vec<ModelId> {
        let mut ms: Vec<ModelId> = (0..s.catalog.models.len()).map(ModelId::new).collect();
        ms.extend(inst.policies.iter().flat_map(|p| p.models().unwrap()));
        ms
    }

    #[test]
    fn a_picked_call_books_and_costs_what_its_decision_does() {
        let (s, inst, requests) = sampled(&calls_scenario());
        let tables = Tables::new(&inst, &s.catalog);
        let (nw, nm) = (inst.workloads.len(), s.catalog.models.len());
        let mut by_workload: Vec<MainPrices> = (0..nw)
            .map(|w| MainPrices::new(&inst, &tables, w))
            .collect();
        let mut dec = Decision::default();
        let (mut deferred, mut long, mut batch, mut priced) = (0, 0, 0, 0);
        for (k, req) in requests.iter().enumerate() {
            let mains = &mut by_workload[req.workload as usize];
            mains.clear();
            for model in models(&s, &inst) {
                dec.clear();
                let i = dec.call(model);
                dec.accept(i);
                assert_eq!(dec.picked(), Some(model));
                let (weight, succeeded) = (0.3 + k as f64 * 1e-3, 0.1 + k as f64 * 7e-4);
                let mut by_book = Ledger::new(nw, nm);
                let mut by_pick = Ledger::new(nw, nm);
                for _ in 0..2 {
                    let t = &tables;
                    book(
                        t,
                        &inst,
                        &mut by_book,
                        &dec,
                        req,
                        &mut CacheMode::Defer,
                        weight,
                        succeeded,
                    );
                    let call = mains.picked(model, req);
                    book_pick(&mut by_pick, &call.booked, req, weight, succeeded);
                }
                assert!(by_book == by_pick, "{model:?} {req:?}");
                // The price, as `price_call` gives it to the bit.
                let call = mains.picked(model, req);
                let m = model.index();
                let service = model.service().unwrap_or(req.service);
                let pricing = &inst.pricing[m];
                let billing =
                    pricing.billing(req.input_tokens, req.prefix_tokens, req.batch, service);
                let w = req.workload as usize;
                let cacheable = tables.caching[w] && billing.cached;
                let shape = CallShape {
                    input_tokens: req.input_tokens,
                    output_tokens: req.output_tokens,
                    prefix_tokens: req.prefix_tokens,
                    cache: cacheable.then_some(CacheOutcome::Hit),
                    ttl: Ttl::FiveMinutes,
                    batch: req.batch,
                    service,
                };
                let price = price_call(pricing, &shape).total();
                assert_eq!(call.price.to_bits(), price.to_bits(), "{model:?} {req:?}");
                let rate = |c: Component| pricing.rate(billing.tier, billing.mode, c);
                let extra = if cacheable {
                    let write = tables.write[w * tables.nm + m];
                    req.prefix_tokens as f64 * (rate(write) - rate(Component::CacheRead)) / 1e6
                } else {
                    0.0
                };
                assert_eq!(call.miss_extra.to_bits(), extra.to_bits());
                deferred += usize::from(cacheable);
                long += usize::from(billing.tier == Tier::Long);
                batch += usize::from(billing.mode == Mode::Batch);
                priced += usize::from(price > 0.0);
            }
        }
        // Every path was taken.
        assert!(
            deferred > 500 && long > 500 && batch > 500,
            "{deferred} {long} {batch}"
        );
        assert!(priced > 5_000, "{priced}");
    }

    #[test]
    fn an_oracle_s_interval_picks_are_what_it_judges_on_each_interval() {
        let (s, inst, requests) = sampled(&calls_scenario());
        let ctx = inst.context(&s.catalog);
        let (mut tabled, mut judged_apart) = (vec![0; inst.policies.len()], 0);
        let mut judged = Vec::new();
        for (p, policy) in inst.policies.iter().enumerate() {
            let Some(BuiltinRef::Oracle(o)) = policy.builtin() else {
                continue;
            };
            for req in &requests {
                let task = inst.workloads[req.workload as usize].task;
                // The oracle's capabilities for the task, ascending and
                // distinct, and each interval's required capability, as
                // the fast path cuts them.
                let mut values: Vec<f64> =
                    o.models.iter().map(|&m| ctx.capability(m, task)).collect();
                values.sort_by(f64::total_cmp);
                values.dedup();
                let caps: Vec<Cap> = values
                    .iter()
                    .map(|&value| Cap {
                        value,
                        models: 0,
                        first: 0,
                    })
                    .collect();
                let required: Vec<f64> = (0..=caps.len())
                    .map(|i| between(&caps, i).expect("the capabilities are apart"))
                    .collect();
                let picks = o.interval_picks(&o.price_chains_for(&ctx, task), &required);
                let common = Request {
                    common: true,
                    ..*req
                };
                let Some(row) = o.picks_for(&picks, &common, &ctx) else {
                    judged_apart += 1;
                    continue;
                };
                tabled[p] += 1;
                o.candidates(&common, &ctx, &mut judged);
                assert_eq!(row.len(), required.len());
                for (i, &r) in required.iter().enumerate() {
                    assert_eq!(row[i], Oracle::pick_common(&judged, r), "{p} {i} {req:?}");
                }
            }
        }
        // `nova-first` lists its candidates cheapest first: its picks hold
        // for every request within the standard price tier; `oracle` lists
        // them in no price order (its picks never hold); long requests
        // (past 200K tokens) and the Priority tier's own order fall back.
        // (2,288 of 2,838 for `nova-first`.) `same-input-rate` lists a
        // Claude model first, before the cheaper Nova ones: never.
        assert_eq!(tabled[0], 0, "{tabled:?}");
        assert!(
            tabled[1] > 2_000 && tabled[1] < requests.len(),
            "{tabled:?}"
        );
        assert_eq!(tabled[2], 0, "{tabled:?}");
        assert!(judged_apart > 5_000, "{judged_apart}");
    }

    #[test]
    fn distinct_decisions_merge_by_route_and_forget_the_previous_request() {
        use crate::catalog::pricing::ServiceTier;
        let (a, b) = (ModelId::new(3), ModelId::new(5));
        let a_priority = a.at(ServiceTier::Priority);
        let mut acc = Distinct::default();
        let mut scratch = Decision::default();
        for round in 0..3 {
            acc.clear();
            acc.add_model(b, 0.25, 0.125);
            acc.add_model(a, 0.5, 0.5);
            acc.add_model(a_priority, 1.0, 0.0);
            acc.add_model(b, 2.0, 1.0);
            acc.add_pick(None, 4.0, 0.0, &mut scratch);
            acc.add_model(a, 8.0, 8.0);
            acc.add_pick(None, 16.0, 0.0, &mut scratch);
            let got: Vec<(Option<ModelId>, f64, f64)> = acc
                .entries()
                .iter()
                .map(|e| (e.pick, e.weight, e.succeeded))
                .collect();
            // First appearance order; one entry per route (a model at a
            // named tier is a route of its own), sums from this round only.
            assert_eq!(
                got,
                vec![
                    (Some(b), 2.25, 1.125),
                    (Some(a), 8.5, 8.5),
                    (Some(a_priority), 1.0, 0.0),
                    (None, 20.0, 0.0),
                ],
                "round {round}"
            );
        }
    }

    #[test]
    fn an_oracle_picks_among_judged_candidates_as_its_route_does() {
        let (s, inst, requests) = sampled(&calls_scenario());
        let ctx = inst.context(&s.catalog);
        let oracle = match inst.policies[0].builtin() {
            Some(BuiltinRef::Oracle(o)) => o,
            _ => unreachable!("the first policy is the oracle"),
        };
        let mut judged = Vec::new();
        let mut dec = Decision::default();
        let mut picks = std::collections::HashSet::new();
        for req in &requests {
            let mut common = Request {
                common: true,
                ..*req
            };
            oracle.candidates(&common, &ctx, &mut judged);
            // Required capabilities at, just around and between the
            // candidates' capabilities, and beyond them.
            let mut required = vec![-1.0, 2.0];
            for j in &judged {
                let c = j.capability;
                required.extend([c, c.next_down(), c.next_up(), c - 0.01, c + 0.01]);
            }
            for r in required {
                common.required_capability = r;
                dec.clear();
                ctx.take_queried();
                oracle.route_among(&judged, &common, &ctx, &mut dec);
                let asked = ctx.take_queried();
                let (pick, asked_by_pick) = Oracle::pick_common(&judged, r);
                assert_eq!(asked, asked_by_pick, "{r} {req:?}");
                assert_eq!(dec.picked(), pick, "{r} {req:?}");
                assert!(pick.is_some() || dec.calls().is_empty());
                picks.insert(pick);
            }
        }
        // Most candidates were picked somewhere, and "none" too (a request
        // too long for every candidate can happen only past 1M tokens).
        assert!(picks.len() >= 6, "{picks:?}");
    }

    #[test]
    fn a_saturated_cache_misses_once_to_the_bit() {
        // Wherever the shortcut applies, the formula computes E[misses] =
        // 1 to the bit (so `hit_probability` is unchanged), over rates of
        // calls from one a month to a million a second, TTLs from 1 s to
        // an hour, and a month of 30 days; and the shortcut applies to
        // most of a busy prefix's range.
        let m = MONTH_SECONDS;
        let (mut applied, mut checked) = (0, 0);
        let mut lambda = 1.0 / m;
        while lambda < 1e6 {
            for ttl in [1.0, 5.0, 60.0, 300.0, 301.7, 3600.0] {
                let (x, lm) = (lambda * ttl, lambda * m);
                let formula =
                    -(-lambda * ttl).exp_m1() + lambda * (m - ttl) * (-lambda * ttl).exp();
                if misses_saturate(x, lm) {
                    applied += 1;
                    assert_eq!(formula.to_bits(), 1.0f64.to_bits(), "λ {lambda}, ttl {ttl}");
                }
                checked += 1;
            }
            lambda *= 1.0137;
        }
        assert!(checked > 10_000, "{checked}");
        assert!(applied > checked / 3, "{applied} of {checked}");
        // Not before its bounds: x under 40, or e^{−x} not yet small
        // against 1/λM.
        assert!(!misses_saturate(39.9, 1.0));
        assert!(!misses_saturate(45.0, 1e6));
        assert!(misses_saturate(60.0, 1e6));
        assert!(!misses_saturate(1e3, f64::INFINITY));
    }

    #[test]
    fn hit_probability_limits() {
        // A long month: the cold start vanishes and 1 - exp(-λT) remains.
        let lt: f64 = 1.0;
        let p = hit_probability(lt / 300.0, 300.0, 1e12);
        assert!((p - (1.0 - (-lt).exp())).abs() < 1e-9);
        // One call per prefix per month on average: mostly misses.
        assert!(hit_probability(1.0 / MONTH_SECONDS, 300.0, MONTH_SECONDS) < 0.001);
        assert_eq!(hit_probability(0.0, 300.0, MONTH_SECONDS), 0.0);
    }
}
