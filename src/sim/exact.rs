//! Exact mode: every request of every month, in arrival order; every
//! session turn by turn (`sim::session_run`).
//!
//! Prompt caching is simulated, not assumed: each policy keeps, per
//! (workload, model, prefix), when the prefix was last sent; a call hits iff
//! that was within the TTL (which each call refreshes). With Poisson
//! arrivals this reproduces `P(hit) = 1 − exp(−λT)`, λ being the rate at
//! which the policy sends that prefix to that model — so routing splits
//! caches and growth warms them. Each month starts with cold caches.
//!
//! Kept tight because it is the reference the fast path is checked
//! against: no allocation per request (decisions are fixed-capacity, cache
//! slots are allocated once), alias tables for workload choice, prices
//! looked up from precomputed tables, success checks reduced to one
//! comparison (see `request`).

use rayon::prelude::*;

use crate::catalog::pricing::{Component, Mode, N_MODES};
use crate::catalog::{Catalog, ModelId, TaskKind};
use crate::policy::{
    Band, BuiltinRef, Classifier, Context, Decision, Oracle, Policy, PriceChains, Single,
};
use crate::policy::{Cascade, OverheadCost};
use crate::random::Stream;
use crate::sim::book::{
    CacheMode, Span, Tables, book, book_main_calls, book_served_all, stays_exact,
};
use crate::sim::instance::Instance;
use crate::sim::ledger::OVERHEAD;
use crate::sim::ledger::{Costs, Ledger};
use crate::sim::session_run::Sessions;
use crate::sim::{RepMonth, Run, Setup};
use crate::stats::count_f64;
use crate::stats::dist::std_normal_quantile;
use crate::traffic::Request;
use crate::traffic::request::Stream as RequestStream;

/// Runs every (replication, month), in parallel, folding results in order.
pub(crate) fn run(setup: &Setup<'_, '_>) -> Run {
    let (np, months, reps) = (setup.np, setup.months, setup.reps);
    let scenario = setup.scenario;
    let mut out = setup.empty_run();
    let k = 1.0 / reps as f64;
    // Replications run in chunks so memory stays bounded.
    let chunk = (256 / months.max(1)).max(1) as u32;
    let mut start = 0u32;
    while start < reps {
        let end = (start + chunk).min(reps);
        let insts: Vec<Instance> = (start..end).map(|r| setup.instance(r as u64)).collect();
        let items: Vec<(usize, usize)> = (0..insts.len())
            .flat_map(|i| (0..months).map(move |m| (i, m)))
            .collect();
        let results: Vec<(Vec<Ledger>, Vec<Costs>)> = setup.install(|| {
            items
                .par_iter()
                .map(|&(i, m)| {
                    let inst = &insts[i];
                    let ledgers = simulate_month(inst, &scenario.catalog, m, scenario.seed);
                    let costs = ledgers.iter().map(|l| l.price(&inst.pricing)).collect();
                    setup.tick();
                    (ledgers, costs)
                })
                .collect()
        });
        let mut it = results.into_iter();
        for inst in &insts {
            let mut row = Vec::with_capacity(months);
            for m in 0..months {
                let (ledgers, costs) = it.next().expect("one result per item");
                let mut per_policy = Vec::with_capacity(np);
                for p in 0..np {
                    out.ledgers[m][p].add_scaled(&ledgers[p], k);
                    out.costs[m][p].add_scaled(&costs[p], k);
                    let t = ledgers[p].totals();
                    per_policy.push(RepMonth {
                        requests: t.requests,
                        cost_usd: costs[p].total(),
                        succeeded: t.succeeded,
                        escalated: t.escalated,
                    });
                }
                row.push(per_policy);
                out.volumes[m] += k * inst.volumes[m];
            }
            out.reps.push(row);
            out.drawn.push(inst.drawn.clone());
        }
        start = end;
    }
    out
}

/// Simulates one month of one instance under all of its policies; `seed`
/// is the scenario's seed.
pub fn simulate_month(inst: &Instance, catalog: &Catalog, month: usize, seed: u64) -> Vec<Ledger> {
    let n = inst.volumes[month].round() as u64;
    let nw = inst.workloads.len();
    let nm = catalog.models.len();
    let np = inst.policies.len();
    let mut ctx = inst.context(catalog);
    if let Some(t) = &inst.throttle {
        ctx = ctx.with_throttle(t[month].clone());
    }
    let tables = Tables::new(inst, catalog);
    let mut ledgers = vec![Ledger::new(nw, nm); np];
    // Last send time per (policy, workload × model, prefix), allocated on first use.
    let mut last_sent: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); nw * nm]; np];
    let traffic = inst.traffic();
    let mut rng = Stream::Traffic {
        replication: inst.replication,
        month: month as u64,
    }
    .generator(seed);
    // Requests are routed in batches, one policy at a time over the whole
    // batch and, within it, one workload at a time (see `Batch`).
    let mut batch = Batch {
        requests: vec![Vec::with_capacity(BATCH); nw],
        len: 0,
        dec: Decision::default(),
        chains: (0..np * nw).map(|_| None).collect(),
        bands: vec![None; np * nw],
        choices: Vec::new(),
        groups: Groups::default(),
        accepted: Vec::new(),
        judged: Vec::new(),
        spans: vec![Span::default(); nw],
    };
    // Session workloads only: a single-request scenario allocates nothing for them.
    let mut sessions = inst
        .workloads
        .iter()
        .any(|w| w.session.is_some())
        .then(|| Sessions::new(inst, &tables, &ctx));
    traffic.month_deferred(
        n,
        &mut rng,
        |req| {
            batch.requests[req.workload as usize].push(*req);
            batch.len += 1;
            if batch.len == BATCH {
                batch.finish_draws(&traffic);
                batch.route(inst, &ctx, &tables, &mut ledgers, &mut last_sent);
            }
        },
        |draw| {
            if let Some(s) = &mut sessions {
                s.arrive(draw);
            }
        },
    );
    batch.finish_draws(&traffic);
    batch.route(inst, &ctx, &tables, &mut ledgers, &mut last_sent);
    if let Some(sessions) = sessions {
        for (led, s) in ledgers.iter_mut().zip(sessions.finish()) {
            led.add_scaled(&s, 1.0);
        }
    }
    ledgers
}

/// Requests routed together, policy by policy (see `simulate_month`).
/// Each policy pays a little for each workload's share of a batch (its
/// sums and latency runs set up and booked), and a small workload's share
/// of 512 requests was a few dozen; the batch itself (152 bytes a
/// request) should stay in the core's L2 with the tables. Measured on the
/// 3M-request support-platform run, one core, interleaved medians
/// (2026-12-04): 256 requests 532 ms against 514 for 512; 1,024 505
/// against 513; 2,048 495 against 506; 4,096 about as 2,048; 8,192 520
/// and 16,384 517 against 4,096's 497 (1.2 MB and more: out of L2).
const BATCH: usize = 2048;

/// Requests routed together: each policy in turn over the whole batch, so
/// its code and ledger stay hot, and within a policy one workload after
/// another, so the branches that follow the workload (which sub-policy a
/// `rules` policy takes, whether the call caches, which ledger cell it
/// books) are predicted instead of following the shuffle of arrivals.
///
/// The result is the same as routing request by request in arrival order:
/// a policy decides each request from the request alone, and everything
/// booking keeps (cache slots, ledger cells, per-workload counts and
/// latencies) belongs to one workload, which still sees its own requests in
/// arrival order. So every floating-point sum is taken in the same order.
struct Batch {
    /// The batch's requests by workload, each in arrival order.
    requests: Vec<Vec<Request>>,
    /// Requests in the batch, all workloads together.
    len: usize,
    dec: Decision,
    /// An oracle's price orders by (policy, workload), built on first use
    /// (they depend on the month's prices alone).
    chains: Vec<Option<PriceChains>>,
    /// A two-model classifier's band by (policy, workload), looked up on
    /// first use (it depends on the workload's task alone).
    bands: Vec<Option<Option<(TaskKind, Band)>>>,
    /// A classifier's choice of model for each of a workload's requests
    /// (`Booking::route_classifier`), its room kept from batch to batch.
    choices: Vec<ModelId>,
    /// A workload's requests grouped by the model a classifier or an
    /// oracle chose for each, its room kept from batch to batch.
    groups: Groups,
    /// The step of a cascade that answers each of a workload's requests
    /// (`Booking::route_cascade`), its room kept from batch to batch.
    accepted: Vec<u8>,
    /// A cascade's judge calls in whole-number sums by price class.
    judged: Vec<JudgeSums>,
    /// The span of each workload's requests (`Span::of`), found once a
    /// batch rather than by every policy that books them in whole-number
    /// sums.
    spans: Vec<Span>,
}

impl Batch {
    /// Makes the batch's requests, drawn by `Traffic::month_deferred`,
    /// whole: one workload's at a time (`Traffic::finish_draws`).
    fn finish_draws(&mut self, traffic: &crate::traffic::Traffic<'_>) {
        for (w, requests) in self.requests.iter_mut().enumerate() {
            traffic.finish_draws(w, requests);
        }
    }

    /// Routes and books the batch under every policy, then empties it.
    fn route(
        &mut self,
        inst: &Instance,
        ctx: &Context<'_>,
        tables: &Tables,
        ledgers: &mut [Ledger],
        last_sent: &mut [Vec<Vec<f64>>],
    ) {
        let nw = self.requests.len();
        for (span, requests) in self.spans.iter_mut().zip(&self.requests) {
            *span = Span::of(requests);
        }
        for (pi, policy) in inst.policies.iter().enumerate() {
            ctx.set_policy(pi);
            let mut b = Booking {
                inst,
                ctx,
                tables,
                led: &mut ledgers[pi],
                cache: &mut last_sent[pi],
                dec: &mut self.dec,
            };
            for (w, requests) in self.requests.iter_mut().enumerate() {
                if requests.is_empty() {
                    continue;
                }
                // One loop per built-in kind, its `route` inlined; a `rules`
                // policy by the policy it names for the workload.
                let policy = for_workload(&**policy, w);
                match policy.builtin() {
                    Some(BuiltinRef::Single(p)) => b.route_single(p, w, requests, self.spans[w]),
                    Some(BuiltinRef::Rules(p)) => b.route_all(p, requests),
                    Some(BuiltinRef::Split(p)) => b.route_all(p, requests),
                    Some(BuiltinRef::Cascade(p)) => {
                        let room = (&mut self.accepted, &mut self.judged);
                        b.route_cascade(p, (w, self.spans[w]), requests, room)
                    }
                    Some(BuiltinRef::Classifier(p)) => {
                        let band = *self.bands[pi * nw + w]
                            .get_or_insert_with(|| p.band_for(inst.workloads[w].task, ctx));
                        if p.reads_exact_noise(band) {
                            draw_noise(requests);
                        }
                        let span = self.spans[w];
                        let room = (&mut self.choices, &mut self.groups);
                        b.route_classifier(p, band, (w, span), requests, room)
                    }
                    Some(BuiltinRef::Oracle(p)) => {
                        let task = inst.workloads[w].task;
                        let chains = self.chains[pi * nw + w]
                            .get_or_insert_with(|| p.price_chains_for(ctx, task));
                        let (span, groups) = (self.spans[w], &mut self.groups);
                        b.route_oracle(p, chains, (w, span), requests, groups)
                    }
                    None => b.route_all(policy, requests),
                }
            }
        }
        for requests in &mut self.requests {
            requests.clear();
        }
        self.len = 0;
    }
}

/// `Context::succeeds` for model `m` on a workload of `task`, the
/// model's capability looked up once: what whole-number booking asks of
/// each request it books.
#[inline(always)]
fn succeeds_on<'a>(ctx: &'a Context<'_>, m: ModelId, task: TaskKind) -> impl Fn(&Request) -> bool {
    let c = ctx.capability(m, task);
    move |r: &Request| {
        if r.common && r.task == task {
            c > r.required_capability
        } else {
            ctx.succeeds(m, r)
        }
    }
}

/// Whether `models` are different models (a model named twice, at two
/// service tiers, would share cache slots between two groups).
fn different_models(models: &[ModelId]) -> bool {
    let n = models.len();
    (0..n).all(|i| models[..i].iter().all(|o| o.index() != models[i].index()))
}

/// A batch's requests of one workload grouped by the model a policy
/// chose for each (a stable counting sort of their positions), so that
/// each model's requests are booked in a run of their own, in arrival
/// order, without a pass over the whole batch per model that asks each
/// request whether it went there (a branch that follows the choices and
/// was mispredicted about as often as the choice changes).
#[derive(Debug, Default)]
struct Groups {
    /// Positions, group after group, each group in arrival order.
    order: Vec<u32>,
    /// Where each group starts in `order`, and one past the last.
    starts: Vec<usize>,
    /// Each request's group.
    slots: Vec<u32>,
    /// Where the next position of each group goes, while filling.
    next: Vec<usize>,
}

impl Groups {
    /// Groups requests into `k` groups, the `i`th request's being
    /// `slots`' `i`th (each below `k`).
    fn fill(&mut self, k: usize, slots: impl Iterator<Item = usize>) {
        self.slots.clear();
        self.slots.extend(slots.map(|s| s as u32));
        self.starts.clear();
        self.starts.resize(k + 1, 0);
        for &s in &self.slots {
            self.starts[s as usize + 1] += 1;
        }
        for g in 0..k {
            self.starts[g + 1] += self.starts[g];
        }
        self.order.clear();
        self.order.resize(self.slots.len(), 0);
        self.next.clone_from(&self.starts);
        for (i, &s) in self.slots.iter().enumerate() {
            let at = &mut self.next[s as usize];
            self.order[*at] = i as u32;
            *at += 1;
        }
    }

    /// The positions in group `g`, in arrival order.
    fn group(&self, g: usize) -> &[u32] {
        &self.order[self.starts[g]..self.starts[g + 1]]
    }
}

/// A cascade's judge calls of one price class, in whole numbers
/// (`Booking::route_cascade`).
#[derive(Debug, Clone, Copy, Default)]
struct JudgeSums {
    calls: u64,
    input: u64,
    output: u64,
}

/// Computes the classifier's noise (`Request::noise`) for `requests`, once
/// for every classifier that routes them, in a loop of its own: the same
/// values `Request::normal` computes on use, but the inverse normal CDF's
/// long chain of multiplications and its division then overlap from one
/// request to the next instead of stalling each routing decision.
fn draw_noise(requests: &mut [Request]) {
    if requests.first().is_some_and(|r| r.noise.is_nan()) {
        for r in requests {
            r.noise = std_normal_quantile(r.aux[3]);
        }
    }
}

/// The policy that routes workload `w`'s requests under `policy`: the
/// policy itself, or for a `rules` policy the one it names for `w` (what
/// `Rules::route` hands each of them to).
fn for_workload(policy: &dyn Policy, w: usize) -> &dyn Policy {
    let mut p = policy;
    while let Some(BuiltinRef::Rules(r)) = p.builtin() {
        match r.by_workload.get(w) {
            Some(next) => p = &**next,
            None => break,
        }
    }
    p
}

/// Where one policy's decisions on a batch are booked.
struct Booking<'a, 'c> {
    inst: &'a Instance,
    ctx: &'a Context<'c>,
    tables: &'a Tables,
    led: &'a mut Ledger,
    cache: &'a mut [Vec<f64>],
    dec: &'a mut Decision,
}

impl Booking<'_, '_> {
    /// Routes and books `requests`, in order, under `policy`.
    #[inline(always)]
    fn route_all<P: Policy + ?Sized>(&mut self, policy: &P, requests: &[Request]) {
        for req in requests {
            self.route_one(policy, req);
        }
    }

    /// Routes and books one request under `policy`.
    #[inline(always)]
    fn route_one<P: Policy + ?Sized>(&mut self, policy: &P, req: &Request) {
        self.dec.clear();
        policy.route(req, self.ctx, self.dec);
        self.book_decision(req);
    }

    /// [`Self::route_all`] for an oracle on workload `w`'s requests: its
    /// decisions through `Oracle::pick_by_price`, the same decisions as
    /// its `route`, with the dearer candidates never priced.
    ///
    /// An oracle whose candidates all take the batch's largest requests
    /// answers each request with one accepted call: its picks are made
    /// first and grouped by model ([`Groups`]), then each model's requests
    /// are booked as a `single`'s are, in whole-number sums
    /// (`book_served_all`; see [`Self::route_single`] for why booking in
    /// passes changes no sum). Its candidates must be different models,
    /// not one at two service tiers, whose cache slots would have to see
    /// their requests interleaved.
    #[inline(always)]
    fn route_oracle(
        &mut self,
        policy: &Oracle,
        chains: &PriceChains,
        (w, span): (usize, Span),
        requests: &[Request],
        groups: &mut Groups,
    ) {
        let ctx = self.ctx;
        let models = &policy.models;
        let all_served = models
            .iter()
            .all(|&m| ctx.can_serve_all(m, span.max_input, span.max_output, span.modalities));
        if all_served && different_models(models) {
            // Every request has a pick: every candidate can take it.
            let picks = requests.iter().map(|r| {
                let pick = policy.pick_served_common(chains, r, ctx);
                pick.unwrap_or_default()
            });
            groups.fill(models.len(), picks);
            self.book_groups(w, models, span, requests, groups);
            return;
        }
        for req in requests {
            self.dec.clear();
            policy.route_by_price(chains, req, self.ctx, self.dec);
            self.book_decision(req);
        }
    }

    /// [`Self::route_all`] for a cascade on workload `w`'s requests.
    ///
    /// A cascade whose steps all take the batch's largest requests, are
    /// different models, and whose gate is a judge call or free, makes
    /// for each request a call to each step up to the one it accepts, with
    /// a gate check after each but the last step: the same decisions as
    /// its `route`, found first (`accepted`), then booked in passes, every
    /// sum a whole number as in [`Self::route_single`]: each step's calls
    /// in arrival order (its cache slots see them so), the judge's calls,
    /// then each request's outcome, its latency the sum of its calls' in
    /// the order `book` adds them. Otherwise request by request.
    #[inline(always)]
    fn route_cascade(
        &mut self,
        policy: &Cascade,
        (w, span): (usize, Span),
        requests: &[Request],
        (accepted, judged): (&mut Vec<u8>, &mut Vec<JudgeSums>),
    ) {
        let (ctx, t, inst) = (self.ctx, self.tables, self.inst);
        let steps = &policy.steps;
        let judge = match policy.gate.cost {
            OverheadCost::None => None,
            OverheadCost::Usd(0.0) => None,
            OverheadCost::Call {
                model,
                input_tokens,
                output_tokens,
                include_request,
            } => Some((model, input_tokens, output_tokens, include_request)),
            OverheadCost::Usd(_) => return self.route_all(policy, requests),
        };
        let all_served = steps
            .iter()
            .all(|&m| ctx.can_serve_all(m, span.max_input, span.max_output, span.modalities));
        let last = steps.len().wrapping_sub(1);
        // Each request adds at most, to any one counter: a step's tokens,
        // or the judge's tokens times the gate checks.
        let judge_tokens = judge.map_or(0, |(_, i, o, _)| {
            i.max(o)
                .saturating_add(span.max_input.saturating_add(span.max_output))
        });
        let per_request = (span.max_input.max(span.max_output))
            .max(judge_tokens.saturating_mul(steps.len() as u64));
        let counts = &self.led.per_workload[w];
        let cells = steps.iter().chain(judge.as_ref().map(|j| &j.0));
        let exact = cells
            .into_iter()
            .all(|m| stays_exact(self.led.cell(w, m.index()), counts, span.n, per_request));
        let steps_fit = (1..=64).contains(&steps.len());
        if !(all_served && exact && steps_fit && different_models(steps)) {
            return self.route_all(policy, requests);
        }
        let task = inst.workloads[w].task;
        let succeeds: Vec<_> = steps.iter().map(|&m| succeeds_on(ctx, m, task)).collect();
        let gate = &policy.gate;
        // The step each request's answer is accepted from.
        accepted.clear();
        accepted.extend(requests.iter().map(|r| {
            for (k, ok) in succeeds[..last].iter().enumerate() {
                let flag_p = if ok(r) { gate.false_alarm } else { gate.recall };
                if r.uniform(RequestStream::GATE + k as u32) >= flag_p {
                    return k as u8;
                }
            }
            last as u8
        }));
        // Each step's calls: the requests that reach it, in arrival order.
        for (k, &m) in steps.iter().enumerate() {
            let reach = requests
                .iter()
                .zip(accepted.iter())
                .filter(|(_, a)| **a as usize >= k);
            book_main_calls(t, inst, self.led, (w, m), reach.map(|(r, _)| r), self.cache);
        }
        // A call's latency in ms, and whether it is billed at batch rates.
        let call_ms = |m: ModelId, r: &Request, output: u64| {
            let service = m.service().unwrap_or(r.service);
            let mode = inst.pricing[m.index()].mode(r.batch, service);
            let (ttft, ms_per_token) = t.speed(m.index(), mode);
            (ttft + count_f64(output) * ms_per_token, mode == Mode::Batch)
        };
        // The judge's input for a request, when it sends the request too.
        let judge_input = |r: &Request, (_, input, _, include): &(ModelId, u64, u64, bool)| {
            input
                + if *include {
                    r.input_tokens + r.output_tokens
                } else {
                    0
                }
        };
        judged.clear();
        judged.resize(2 * N_MODES, JudgeSums::default());
        let (mut escalated, mut batch, mut succeeded) = (0u64, 0u64, 0u64);
        let latency = &mut self.led.latency[w];
        for (r, &a) in requests.iter().zip(accepted.iter()) {
            let a = a as usize;
            succeeded += u64::from(succeeds[a](r));
            escalated += u64::from(a >= 1);
            let mut ms = 0.0;
            for (k, &m) in steps[..=a].iter().enumerate() {
                let (step_ms, step_batch) = call_ms(m, r, r.output_tokens);
                ms += step_ms;
                if k == a {
                    batch += u64::from(step_batch);
                }
                if let Some(j) = judge.as_ref().filter(|_| k < last) {
                    let input = judge_input(r, j);
                    let pr = &inst.pricing[j.0.index()];
                    let mode = pr.mode(r.batch, j.0.service().unwrap_or(r.service));
                    let sums = &mut judged[pr.tier(input) as usize * N_MODES + mode as usize];
                    sums.calls += 1;
                    sums.input += input;
                    sums.output += j.2;
                    ms += call_ms(j.0, r, j.2).0;
                }
            }
            if !r.batch {
                latency.add(ms, 1.0);
            }
        }
        if let Some((m, ..)) = judge {
            let cell = self.led.cell_mut(w, m.index());
            for (k, sums) in judged.iter().enumerate() {
                if sums.calls == 0 {
                    continue;
                }
                cell.overhead_calls += count_f64(sums.calls);
                let tokens = cell.tokens_mut(OVERHEAD, k / N_MODES, k % N_MODES);
                tokens[Component::Input as usize] += count_f64(sums.input);
                tokens[Component::Output as usize] += count_f64(sums.output);
            }
        }
        let n = count_f64(requests.len() as u64);
        let counts = &mut self.led.per_workload[w];
        counts.requests += n;
        counts.escalated += count_f64(escalated);
        counts.served += n;
        counts.batch += count_f64(batch);
        counts.succeeded += count_f64(succeeded);
    }

    /// Books each group of `groups` (the requests of workload `w` that a
    /// policy sends to `models[k]` alone and accepts, in group `k`) as
    /// [`Self::route_single`] books a model's requests.
    #[inline(always)]
    fn book_groups(
        &mut self,
        w: usize,
        models: &[ModelId],
        span: Span,
        requests: &[Request],
        groups: &Groups,
    ) {
        let (ctx, t, inst) = (self.ctx, self.tables, self.inst);
        let task = inst.workloads[w].task;
        for (k, &m) in models.iter().enumerate() {
            let group = groups.group(k);
            if group.is_empty() {
                continue;
            }
            let succeeds = succeeds_on(ctx, m, task);
            let chosen = group.iter().map(|&i| &requests[i as usize]);
            book_served_all(t, inst, self.led, w, m, chosen, span, self.cache, succeeds);
        }
    }

    /// [`Self::route_all`] for a classifier on workload `w`'s requests,
    /// with its band for the workload's task looked up once
    /// (`Classifier::route_in`).
    ///
    /// A classifier that charges nothing to decide, whose models all take
    /// the batch's largest requests, answers each request with one
    /// accepted call to the model it chooses: its choices are made first
    /// (into `choices`) and grouped by model, then each model's requests
    /// are booked as an oracle's are ([`Self::book_groups`]). Its models
    /// must be different models, as an oracle's.
    #[inline(always)]
    fn route_classifier(
        &mut self,
        policy: &Classifier,
        band: Option<(TaskKind, Band)>,
        (w, span): (usize, Span),
        requests: &[Request],
        (choices, groups): (&mut Vec<ModelId>, &mut Groups),
    ) {
        let ctx = self.ctx;
        let routed = policy.routed();
        let all_served = routed
            .iter()
            .all(|&m| ctx.can_serve_all(m, span.max_input, span.max_output, span.modalities));
        if policy.charges_nothing() && different_models(&routed) && all_served {
            choices.clear();
            policy.choose_all(band, requests, ctx, choices);
            // Each choice's place among the routed models, by model index.
            let mut place = vec![routed.len(); self.tables.nm];
            for (k, m) in routed.iter().enumerate() {
                place[m.index()] = k;
            }
            // Every choice is one of the routed models (each can take every
            // request): `routed.len()` would be an index out of bounds.
            groups.fill(routed.len(), choices.iter().map(|c| place[c.index()]));
            self.book_groups(w, &routed, span, requests, groups);
            return;
        }
        for req in requests {
            self.dec.clear();
            policy.route_in(band, req, self.ctx, self.dec);
            self.book_decision(req);
        }
    }

    /// Books the decision in `self.dec` for `req`.
    #[inline(always)]
    fn book_decision(&mut self, req: &Request) {
        let ok = self
            .dec
            .accepted()
            .is_some_and(|c| self.ctx.succeeds(c.model, req));
        book(
            self.tables,
            self.inst,
            self.led,
            self.dec,
            req,
            &mut CacheMode::Simulate(self.cache),
            1.0,
            if ok { 1.0 } else { 0.0 },
        );
    }

    /// [`Self::route_all`] for a `single` policy on workload `w`'s
    /// requests: those its model can take are booked as that one accepted
    /// call (`book_served_all`: the sums `route` and `book` would make,
    /// without building a decision per request), then the others go
    /// through `route` to the fallbacks. Booking them in two passes
    /// changes no sum: each model's cache slots still see their requests
    /// in arrival order, and everything else a request adds here is a
    /// whole number (exact mode counts each request once, tokens are
    /// integers, and a `single` adds no fixed overhead), so the order of
    /// the additions cannot change a bit of the totals.
    ///
    /// When the batch's largest requests fit the model (and no quota
    /// refuses calls at random), every request does, and none is asked.
    #[inline(always)]
    fn route_single(&mut self, policy: &Single, w: usize, requests: &[Request], span: Span) {
        let (m, ctx) = (policy.model, self.ctx);
        let task = self.inst.workloads[w].task;
        let succeeds = succeeds_on(ctx, m, task);
        if ctx.can_serve_all(m, span.max_input, span.max_output, span.modalities) {
            let (t, inst) = (self.tables, self.inst);
            book_served_all(
                t,
                inst,
                self.led,
                w,
                m,
                requests.iter(),
                span,
                self.cache,
                succeeds,
            );
            return;
        }
        // The requests the model cannot take, set aside as the first pass
        // meets them (each is asked `can_serve` once).
        let mut rest: Vec<&Request> = Vec::new();
        let servable = requests.iter().filter(|r| {
            let ok = ctx.can_serve(m, r);
            if !ok {
                rest.push(r);
            }
            ok
        });
        let (t, inst) = (self.tables, self.inst);
        book_served_all(
            t, inst, self.led, w, m, servable, span, self.cache, succeeds,
        );
        for req in rest {
            self.route_one(policy, req);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::input::yaml::Source;
    use crate::scenario::Scenario;
    use crate::sim::instance::{Draws, resolve};
    use crate::sim::ledger::MAIN;

    /// An oracle listed out of price order, with a model listed twice and
    /// models priced alike (the Opus 4.5–4.8 and Sonnet 4–4.6 families),
    /// requests too long for some candidates and long enough for
    /// long-context rates, batch and flex calls, outcomes not always common;
    /// and requests with no output, on which Claude 3.5 Haiku and Nova Pro
    /// (the same input rate) cost the same though Nova Pro comes first in
    /// price order: the tie rule then picks the one listed first.
    pub(crate) const ORACLE: &str = r#"
name: oracle-orders
horizon_months: 1
catalog: bedrock-2026-11
region_profile: us
seed: 5
volume: { requests_per_month: 40000 }
quality: { outcome_correlation: 0.7 }
workloads:
  - name: long
    share: 0.4
    task: rag
    input_tokens: { lognormal: { median: 60000, p90: 400000 } }
    output_tokens: { lognormal: { median: 300, p90: 2000 } }
    difficulty: { beta: { mean: 0.7, concentration: 3 } }
    batch_share: 0.3
  - name: short
    share: 0.4
    task: code
    input_tokens: { lognormal: { median: 800, p90: 3000 } }
    output_tokens: { lognormal: { median: 200, p90: 900 } }
    difficulty: { beta: { mean: 0.4, concentration: 4 } }
    service_tier: flex
  - name: no-output
    share: 0.2
    task: classification
    input_tokens: { lognormal: { median: 500, p90: 2000 } }
    output_tokens: { constant: 0 }
    difficulty: { beta: { mean: 0.5, concentration: 4 } }
policies:
  - name: oracle
    oracle: [claude-opus-4-6, claude-opus-4-5, nova-micro, claude-sonnet-4-6, claude-sonnet-4, nova-lite, claude-opus-4-5, claude-opus-4-7]
  - name: nova-first
    oracle: [nova-micro, nova-lite, nova-pro, claude-sonnet-4-5]
  - name: same-input-rate
    oracle: [claude-3-5-haiku, nova-micro, nova-pro]
baseline: oracle
"#;

    /// The scenario in `yaml` and its first replication's instance.
    pub(crate) fn first_replication(yaml: &str) -> (Scenario, Instance) {
        let s = Scenario::from_source(&Source::from_text("test.yaml", yaml), &[]).unwrap();
        let inst = resolve(
            &s,
            &mut Draws {
                seed: s.seed,
                replication: 0,
            },
            0,
        );
        (s, inst)
    }

    #[test]
    fn an_oracle_walked_in_price_order_decides_as_its_route_does() {
        let (s, inst) = first_replication(ORACLE);
        let ctx = inst.context(&s.catalog);
        let oracles: Vec<&Oracle> = inst
            .policies
            .iter()
            .filter_map(|p| match p.builtin() {
                Some(BuiltinRef::Oracle(o)) => Some(o),
                _ => None,
            })
            .collect();
        assert_eq!(oracles.len(), 3);
        let chains: Vec<PriceChains> = oracles.iter().map(|o| o.price_chains(&ctx)).collect();
        // The same orders with each candidate's capability for a task,
        // by oracle and workload, for `pick_served_common`.
        let chains_for: Vec<Vec<PriceChains>> = oracles
            .iter()
            .map(|o| {
                let tasks = inst.workloads.iter().map(|w| w.task);
                tasks.map(|t| o.price_chains_for(&ctx, t)).collect()
            })
            .collect();
        let mut served_common = 0;
        let mut rng = Stream::Traffic {
            replication: 0,
            month: 0,
        }
        .generator(s.seed);
        let (mut by_route, mut by_price) = (Decision::default(), Decision::default());
        // What the requests exercised: past the orders (long-context
        // rates), nothing succeeding, nothing able to serve, a price tie.
        let (mut past, mut none_ok, mut none_served, mut tied) = (0, 0, 0, 0);
        let mut listed_first = 0;
        let key = |m: crate::catalog::ModelId| s.catalog.models[m.index()].key.as_str();
        inst.traffic().month(
            40_000,
            &mut rng,
            |req| {
                for ((o, chains), chains_for) in oracles.iter().zip(&chains).zip(&chains_for) {
                    by_route.clear();
                    by_price.clear();
                    o.route(req, &ctx, &mut by_route);
                    o.route_by_price(chains, req, &ctx, &mut by_price);
                    let calls =
                        |d: &Decision| d.calls().iter().map(|c| c.model).collect::<Vec<_>>();
                    assert_eq!(calls(&by_route), calls(&by_price), "{req:?}");
                    assert_eq!(by_route.accepted_index(), by_price.accepted_index());
                    // Where every candidate can take the request, the
                    // judgement by bits picks the same candidate.
                    if o.models.iter().all(|&m| ctx.can_serve(m, req)) {
                        let chains = &chains_for[req.workload as usize];
                        let pick = o.pick_served_common(chains, req, &ctx);
                        let picked = pick.map(|k| o.models[k]);
                        assert_eq!(picked, by_route.accepted().map(|c| c.model), "{req:?}");
                        served_common += usize::from(req.common);
                    }
                    match by_route.accepted() {
                        None => none_served += 1,
                        Some(c) => {
                            if !ctx.succeeds(c.model, req) {
                                none_ok += 1;
                            }
                            if key(c.model) == "claude-3-5-haiku" && req.output_tokens == 0 {
                                listed_first += 1;
                            }
                            if key(c.model).starts_with("claude-opus-4")
                                || key(c.model).starts_with("claude-sonnet-4")
                            {
                                tied += 1;
                            }
                        }
                    }
                    if req.input_tokens > 200_000 {
                        past += 1;
                    }
                }
            },
            |_| {},
        );
        assert!(chains.iter().all(|c| c.by.iter().all(Option::is_some)));
        assert!(
            past > 1_000 && none_ok > 1_000 && tied > 1_000,
            "{past} {none_ok} {tied}"
        );
        assert!(none_served > 100, "{none_served}");
        assert!(listed_first > 100, "{listed_first}");
        assert!(served_common > 10_000, "{served_common}");
    }
    /// `single` policies, and `rules` entries naming a model, booked in
    /// whole-number sums per price class (`book_served_all`) book what
    /// routing and booking each request does, in a ledger that starts empty
    /// and in one whose counters start 100 below 2^53, where whole-number
    /// sums stop being exact and booking must go call by call. The
    /// requests: some too long for a model (its fallback takes them, or
    /// nothing does), batch and flex calls, long-context rates, cached
    /// prefixes with hits and misses, outcomes not always common. Two
    /// oracles ride along (walked in price order, one with a model at two
    /// service tiers), checked the same way.
    #[test]
    fn a_single_booked_in_whole_number_sums_books_what_each_request_does() {
        let yaml = ORACLE
            .replace(
                "    service_tier: flex\n",
                "    service_tier: flex\n    cache: { prefix_tokens: 2000, distinct_prefixes: 3 }\n",
            )
            .replace(
                "    batch_share: 0.3\n",
                "    batch_share: 0.3\n    cache: { prefix_tokens: 4000, distinct_prefixes: 2, ttl: 1h }\n",
            );
        let policies = "policies:
  - name: micro
    single: nova-micro
  - name: pro-or-premier
    single: nova-pro
    fallback: [nova-premier]
  - name: sonnet
    single: claude-sonnet-4-5
  - name: by-workload
    rules:
      long: claude-haiku-4-5
      short: nova-2-lite
      no-output: { single: nova-pro }
      batchy: nova-pro
  - name: router
    classifier:
      cost_usd: 0.0
      noise_sd: 0.1
      weak: nova-pro
      strong: claude-sonnet-4-5
      max_quality_drop: 0.03
    fallback: [nova-premier]
  - name: thresholds
    classifier:
      noise_sd: 0.05
      routes:
        - { below: 0.2, model: nova-micro }
        - { below: 0.5, model: nova-pro }
        - { model: claude-haiku-4-5 }
  - name: paid-router
    classifier:
      cost_usd: 0.001
      noise_sd: 0.1
      weak: nova-pro
      strong: claude-sonnet-4-5
      max_quality_drop: 0.03
  - name: oracle
    oracle: [nova-micro, nova-pro, claude-haiku-4-5, claude-sonnet-4-5]
  - name: oracle-two-tiers
    oracle: [nova-micro, nova-pro, nova-pro:flex, claude-sonnet-4-5]
  - name: cascade
    cascade:
      steps: [nova-micro, nova-pro, claude-sonnet-4-5]
      gate:
        recall: 0.8
        false_alarm: 0.1
        judge: { model: nova-micro, input_tokens: 300, output_tokens: 4, include_request: true }
  - name: cascade-free-gate
    cascade:
      steps: [nova-pro, claude-haiku-4-5]
      gate: { recall: 0.9, false_alarm: 0.05 }
  - name: cascade-priced-gate
    cascade:
      steps: [nova-pro, claude-haiku-4-5]
      gate: { recall: 0.9, false_alarm: 0.05, cost_usd: 0.0001 }
baseline: micro
";
        // A fourth workload, for cascades whose steps take every request
        // of it: batch calls, cached prefixes, escalations.
        let batchy = "  - name: batchy
    share: 0.2
    task: summarization
    input_tokens: { lognormal: { median: 3000, p90: 9000 } }
    output_tokens: { lognormal: { median: 150, p90: 400 } }
    difficulty: { beta: { mean: 0.5, concentration: 4 } }
    batch_share: 0.5
    cache: { prefix_tokens: 1500, distinct_prefixes: 2 }
";
        let workloads = yaml[..yaml.find("policies:").unwrap()]
            .replace("share: 0.4\n    task: rag", "share: 0.3\n    task: rag")
            .replace("share: 0.4\n    task: code", "share: 0.3\n    task: code");
        let yaml = format!("{workloads}{batchy}{policies}");
        let (s, inst) = first_replication(&yaml);
        let ctx = inst.context(&s.catalog);
        let tables = Tables::new(&inst, &s.catalog);
        let (nw, nm, np) = (
            inst.workloads.len(),
            s.catalog.models.len(),
            inst.policies.len(),
        );
        let mut rng = Stream::Traffic {
            replication: 0,
            month: 0,
        }
        .generator(s.seed);
        let mut requests = Vec::new();
        inst.traffic()
            .month(40_000, &mut rng, |r| requests.push(*r), |_| {});
        for start in [0.0, 9_007_199_254_740_992.0 - 100.0] {
            let fresh = || {
                let mut led = Ledger::new(nw, nm);
                for w in 0..nw {
                    for m in 0..nm {
                        led.cell_mut(w, m).calls = start;
                    }
                }
                vec![led; np]
            };
            let (mut by_sums, mut by_call) = (fresh(), fresh());
            let mut cache_sums: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); nw * nm]; np];
            let mut cache_call = cache_sums.clone();
            let mut batch = Batch {
                requests: vec![Vec::new(); nw],
                len: 0,
                dec: Decision::default(),
                chains: (0..np * nw).map(|_| None).collect(),
                bands: vec![None; np * nw],
                choices: Vec::new(),
                groups: Groups::default(),
                accepted: Vec::new(),
                judged: Vec::new(),
                spans: vec![Span::default(); nw],
            };
            for chunk in requests.chunks(BATCH) {
                for r in chunk {
                    batch.requests[r.workload as usize].push(*r);
                }
                batch.route(&inst, &ctx, &tables, &mut by_sums, &mut cache_sums);
            }
            let mut dec = Decision::default();
            for req in &requests {
                for (pi, policy) in inst.policies.iter().enumerate() {
                    ctx.set_policy(pi);
                    let mut b = Booking {
                        inst: &inst,
                        ctx: &ctx,
                        tables: &tables,
                        led: &mut by_call[pi],
                        cache: &mut cache_call[pi],
                        dec: &mut dec,
                    };
                    b.route_one(&**policy, req);
                }
            }
            assert_eq!(cache_sums, cache_call);
            for (a, b) in by_sums.iter().zip(&by_call) {
                assert_eq!(a, b, "ledgers starting at {start}");
            }
            // What the requests exercised, in every ledger.
            let t = by_call[1].totals();
            assert!(by_call[1].cell(0, model(&s, "nova-premier")).calls - start >= 100.0);
            assert!(t.succeeded > 0.0 && t.succeeded < t.served, "{t:?}");
            let micro = &by_call[0];
            assert!(micro.per_workload[0].unserved > 100.0);
            let cell = micro.cell(1, model(&s, "nova-micro"));
            assert!(cell.cache_hits > 100.0 && cell.cache_misses > 100.0);
            let sonnet = by_call[2].cell(0, model(&s, "claude-sonnet-4-5"));
            assert!(sonnet.tokens(MAIN, 1, 0)[0] > 0.0 && sonnet.tokens(MAIN, 0, 1)[0] > 0.0);
            assert!(
                by_call[3]
                    .cell(1, model(&s, "nova-2-lite"))
                    .tokens(MAIN, 0, 3)[0]
                    > 0.0
            );
            // The oracle picked each candidate for many short requests,
            // with cache hits and misses where the model caches a
            // 2,000-token prefix (Haiku 4.5 needs more), and took long ones
            // too, some of which Nova Micro cannot take.
            let oracle = &by_call[7];
            for key in [
                "nova-micro",
                "nova-pro",
                "claude-haiku-4-5",
                "claude-sonnet-4-5",
            ] {
                let cell = oracle.cell(1, model(&s, key));
                assert!(cell.calls - start >= 100.0, "{key} {cell:?}");
                if key != "claude-haiku-4-5" {
                    assert!(
                        cell.cache_hits >= 5.0 && cell.cache_misses > 10.0,
                        "{key} {cell:?}"
                    );
                }
            }
            assert!(oracle.per_workload[0].requests > 10_000.0);
            // The cascades escalated to every step, their judges were
            // called, and batch calls were made, in the workloads whose
            // requests every step takes (booked in passes).
            for (pi, first, last) in [
                (9, "nova-micro", "claude-sonnet-4-5"),
                (10, "nova-pro", "claude-haiku-4-5"),
            ] {
                let led = &by_call[pi];
                for w in [1, 3] {
                    let c = &led.per_workload[w];
                    assert!(
                        c.escalated > 100.0 && c.escalated < c.requests,
                        "{pi} {w} {c:?}"
                    );
                    // (From 100 below 2^53 a cell's calls stop at 2^53.)
                    assert!(led.cell(w, model(&s, last)).calls - start >= 100.0);
                    assert!(led.cell(w, model(&s, first)).calls - start >= 100.0);
                }
                assert!(led.per_workload[3].batch > 1_000.0);
            }
            let judge = by_call[9].cell(3, model(&s, "nova-micro"));
            assert!(judge.overhead_calls > 1_000.0 && judge.cache_hits > 100.0);
            // Batches of these workloads whose requests every step takes.
            let keys = [
                "nova-micro",
                "nova-pro",
                "claude-haiku-4-5",
                "claude-sonnet-4-5",
            ];
            for w in [1, 3] {
                let in_passes = requests.chunks(BATCH).filter(|chunk| {
                    let of_w: Vec<Request> =
                        chunk.iter().filter(|r| r.workload == w).copied().collect();
                    let sp = Span::of(&of_w);
                    keys.iter().all(|k| {
                        let m = crate::catalog::ModelId::new(model(&s, k));
                        ctx.can_serve_all(m, sp.max_input, sp.max_output, sp.modalities)
                    })
                });
                assert!(in_passes.count() >= 5, "workload {w}");
            }
            assert!(
                !inst.policies[7]
                    .models()
                    .unwrap()
                    .iter()
                    .all(|&m| { ctx.can_serve_all(m, 400_000, 0, 1) })
            );
        }
    }

    /// Requests drawn with their difficulty and required capability left
    /// as uniforms, then finished a workload at a time, are the requests
    /// drawn whole, to the bit: for a Beta, a uniform and a constant
    /// difficulty, with outcomes not always common.
    #[test]
    fn requests_finished_a_workload_at_a_time_are_the_requests_drawn_whole() {
        let yaml = ORACLE
            .replace(
                "difficulty: { beta: { mean: 0.4, concentration: 4 } }",
                "difficulty: { uniform: { min: 0.2, max: 0.9 } }",
            )
            .replace(
                "difficulty: { beta: { mean: 0.5, concentration: 4 } }",
                "difficulty: { constant: 0.35 }",
            );
        let (s, inst) = first_replication(&yaml);
        let traffic = inst.traffic();
        let draw = |deferred: bool| {
            let mut rng = Stream::Traffic {
                replication: 0,
                month: 0,
            }
            .generator(s.seed);
            let mut by_workload: Vec<Vec<Request>> = vec![Vec::new(); inst.workloads.len()];
            let push = |r: &Request| by_workload[r.workload as usize].push(*r);
            if deferred {
                traffic.month_deferred(20_000, &mut rng, push, |_| {});
                for (w, requests) in by_workload.iter_mut().enumerate() {
                    traffic.finish_draws(w, requests);
                }
            } else {
                traffic.month(20_000, &mut rng, push, |_| {});
            }
            by_workload
        };
        let (whole, finished) = (draw(false), draw(true));
        for (a, b) in whole.iter().zip(&finished) {
            assert!(a.len() > 3_000);
            for (x, y) in a.iter().zip(b) {
                assert_eq!(format!("{x:?}"), format!("{y:?}"));
            }
        }
        // The three difficulty kinds, and the outcome uniform, were drawn.
        let distinct = |w: usize| {
            let mut d: Vec<u64> = whole[w].iter().map(|r| r.difficulty.to_bits()).collect();
            d.sort_unstable();
            d.dedup();
            d.len()
        };
        assert!(distinct(0) > 3_000 && distinct(1) > 3_000 && distinct(2) == 1);
        assert!(whole[2].iter().any(|r| r.required_capability < 0.0));
    }

    fn model(s: &Scenario, key: &str) -> usize {
        s.catalog.models.iter().position(|m| m.key == key).unwrap()
    }

    /// The first replication of the oracle scenario with a two-model
    /// classifier (noise 0.1, nova-pro or claude-sonnet-4-5) first.
    fn with_router() -> (Scenario, Instance) {
        first_replication(&ORACLE.replace(
            "  - name: oracle\n",
            "  - name: router\n    classifier: { noise_sd: 0.1, weak: nova-pro, strong: claude-sonnet-4-5, max_quality_drop: 0.03 }\n  - name: oracle\n",
        ))
    }

    fn first_classifier(inst: &Instance) -> &Classifier {
        match inst.policies[0].builtin() {
            Some(BuiltinRef::Classifier(c)) => c,
            _ => panic!("the first policy is the classifier"),
        }
    }

    /// A two-model classifier with noise on two tasks: the band looked up
    /// once for the first task decides as `route` does, and a request of
    /// the other task falls back to the lookup.
    #[test]
    fn a_classifier_with_its_band_at_hand_decides_as_its_route_does() {
        let (s, inst) = with_router();
        let ctx = inst.context(&s.catalog);
        let c = first_classifier(&inst);
        let task = inst.workloads[0].task;
        let band = c.band_for(task, &ctx);
        assert!(band.is_some());
        let mut rng = Stream::Traffic {
            replication: 0,
            month: 0,
        }
        .generator(s.seed);
        let (mut by_route, mut in_band) = (Decision::default(), Decision::default());
        let (mut strong, mut other_task) = (0, 0);
        inst.traffic().month(
            40_000,
            &mut rng,
            |req| {
                by_route.clear();
                in_band.clear();
                c.route(req, &ctx, &mut by_route);
                c.route_in(band, req, &ctx, &mut in_band);
                let calls = |d: &Decision| d.calls().iter().map(|c| c.model).collect::<Vec<_>>();
                assert_eq!(calls(&by_route), calls(&in_band), "{req:?}");
                assert_eq!(by_route.accepted_index(), in_band.accepted_index());
                let key = by_route
                    .accepted()
                    .map(|c| s.catalog.models[c.model.index()].key.as_str());
                if req.task == task && key == Some("claude-sonnet-4-5") {
                    strong += 1;
                }
                if req.task != task {
                    other_task += 1;
                }
            },
            |_| {},
        );
        assert!(
            strong > 1_000 && other_task > 10_000,
            "{strong} {other_task}"
        );
    }

    /// `choose_all`, which decides most requests from an estimate of the
    /// normal draw, picks what `choose` picks from the exact one: on a
    /// month of requests, and on requests placed so that the exact
    /// estimated difficulty lies within a few EDGEs of a band edge (either
    /// side, inside the estimate's margin and outside it).
    #[test]
    fn a_banded_classifier_chooses_from_the_estimate_as_from_the_exact_draw() {
        use crate::stats::dist::std_normal_quantile;
        let (s, inst) = with_router();
        let ctx = inst.context(&s.catalog);
        let c = first_classifier(&inst);
        let task = inst.workloads[0].task;
        let band = c.band_for(task, &ctx);
        let Some((_, Band::Between { lo, hi })) = band else {
            panic!("a band: {band:?}");
        };
        let mut rng = Stream::Traffic {
            replication: 0,
            month: 0,
        }
        .generator(s.seed);
        let mut requests = Vec::new();
        inst.traffic()
            .month(20_000, &mut rng, |r| requests.push(*r), |_| {});
        requests.retain(|r| r.task == task);
        let mut placed = Vec::new();
        for (i, r) in requests.iter().take(2_000).enumerate() {
            let z = std_normal_quantile(r.aux[3]);
            let edge = if i % 2 == 0 { lo } else { hi };
            // From −3 to +3 EDGEs off the edge, in steps of 1e-8 or so.
            let off = Band::EDGE * ((i % 601) as f64 / 100.0 - 3.0);
            placed.push(Request {
                difficulty: edge + off - 0.1 * z,
                ..*r
            });
        }
        for batch in [&requests, &placed] {
            let mut all = Vec::new();
            c.choose_all(band, batch, &ctx, &mut all);
            let one: Vec<_> = batch.iter().map(|r| c.choose(band, r, &ctx)).collect();
            assert_eq!(all, one);
            let strong = one.iter().filter(|m| **m != one[0]).count();
            assert!(strong > batch.len() / 20 && strong < batch.len() * 19 / 20);
        }
    }
}
