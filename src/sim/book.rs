//! Booking a decision into a ledger: the calls' tokens by price class, the
//! request's outcome, its latency. Shared by the exact and fast paths so the
//! two cannot disagree on anything but how cache hits are decided.

use crate::catalog::Catalog;
use crate::catalog::ModelId;
use crate::catalog::pricing::{
    Component, Mode, ModelPricing, N_MODES, N_SERVICE_TIERS, ServiceTier,
};
use crate::policy::{CallKind, Decision};
use crate::sim::instance::Instance;
use crate::sim::ledger::{Cell, Counts, Histogram, Ledger, MAIN, OVERHEAD, bucket};
use crate::sim::session::CacheRules;
use crate::stats::count_f64;
use crate::traffic::CacheInst;
use crate::traffic::request::{Request, Stream};

/// Per (workload, model) facts about caching, and per model latency, for one instance.
pub(crate) struct Tables {
    pub nm: usize,
    /// Whether each workload sends its prefix through a cache at all; which
    /// calls are cached is the pricing's decision (`ModelPricing::billing`).
    pub caching: Vec<bool>,
    /// Effective TTL in seconds.
    pub ttl_s: Vec<f64>,
    /// Component a miss writes (5-minute or 1-hour write).
    pub write: Vec<Component>,
    /// Pinned hit rate per workload; `None` when hits come from traffic.
    pub pinned: Vec<Option<f64>>,
    /// Distinct prefixes per workload.
    pub distinct: Vec<usize>,
    /// (time to first token in ms, ms per output token) per model at the
    /// standard tier.
    pub latency: Vec<(f64, f64)>,
    /// The same at the Priority and Flex tiers (`[m][tier - 1]`).
    pub tier_latency: Vec<[(f64, f64); N_SERVICE_TIERS - 1]>,
    /// How each model caches a session's conversation, per (workload × model).
    pub rules: Vec<CacheRules>,
}

impl Tables {
    pub fn new(inst: &Instance, catalog: &Catalog) -> Tables {
        let nw = inst.workloads.len();
        let nm = catalog.models.len();
        let mut t = Tables {
            nm,
            caching: vec![false; nw],
            ttl_s: vec![0.0; nw * nm],
            write: vec![Component::CacheWrite5m; nw * nm],
            pinned: vec![None; nw],
            distinct: vec![1; nw],
            latency: catalog
                .models
                .iter()
                .map(|m| (m.latency.ttft_ms, 1000.0 / m.latency.output_tps))
                .collect(),
            tier_latency: catalog
                .models
                .iter()
                .map(|m| {
                    [ServiceTier::Priority, ServiceTier::Flex].map(|s| {
                        let speed = &catalog.tier_speed[s as usize];
                        (
                            m.latency.ttft_ms + speed.added_wait_ms,
                            1000.0 / (m.latency.output_tps * speed.output_tps_factor),
                        )
                    })
                })
                .collect(),
            rules: vec![
                CacheRules {
                    enabled: false,
                    min_tokens: u64::MAX,
                    max_checkpoints: 0,
                    max_cached_tokens: 0,
                    ttl_s: 0.0,
                };
                nw * nm
            ],
        };
        for (w, wl) in inst.workloads.iter().enumerate() {
            let ttl = match wl.cache {
                CacheInst::None => continue,
                CacheInst::Traffic { distinct, ttl } => {
                    t.distinct[w] = distinct as usize;
                    ttl
                }
                CacheInst::Pinned { hit_rate, ttl } => {
                    t.pinned[w] = Some(hit_rate);
                    ttl
                }
            };
            t.caching[w] = true;
            for (m, pr) in inst.pricing.iter().enumerate() {
                let i = w * nm + m;
                t.ttl_s[i] = pr.effective_ttl(ttl).seconds();
                t.write[i] = pr.write_component(ttl);
                let model = &catalog.models[m];
                t.rules[i] = CacheRules {
                    enabled: pr.caching,
                    min_tokens: pr.min_cache_tokens.max(1),
                    max_checkpoints: model.max_cache_checkpoints,
                    max_cached_tokens: model.max_cached_tokens,
                    ttl_s: t.ttl_s[i],
                };
            }
        }
        t
    }
}

impl Tables {
    /// (time to first token in ms, ms per output token) of model `m` for a
    /// call billed in `mode` (batch and on-demand at standard speed).
    #[inline]
    pub fn speed(&self, m: usize, mode: Mode) -> (f64, f64) {
        match mode {
            Mode::OnDemand | Mode::Batch => self.latency[m],
            Mode::Priority => self.tier_latency[m][0],
            Mode::Flex => self.tier_latency[m][1],
        }
    }
}

/// How a cacheable call learns whether its prefix was cached.
pub(crate) enum CacheMode<'a> {
    /// Simulate the cache: last send time per (workload × model, prefix).
    Simulate(&'a mut [Vec<f64>]),
    /// Leave it to the fast path's closed form (counted in `Cell::deferred`).
    Defer,
}

/// A pinned hit rate's coin flip: out of line, so the hash behind it is
/// not computed speculatively for every call (most workloads do not pin).
#[cold]
#[inline(never)]
fn pinned_hit(req: &Request, rate: f64) -> bool {
    req.uniform(Stream::PINNED_CACHE) < rate
}

/// Books one policy's decision for one request, counted `weight` times
/// (1 in exact mode; in the fast path the probability of the outcome
/// patterns that lead to this decision), `succeeded` of them with an
/// acceptable answer (the caller judges: in the fast path one decision
/// stands for outcome patterns that judge it differently).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn book(
    t: &Tables,
    inst: &Instance,
    led: &mut Ledger,
    dec: &Decision,
    req: &Request,
    cache: &mut CacheMode<'_>,
    weight: f64,
    succeeded: f64,
) {
    let accepted = dec.accepted_index();
    let mut accepted_batch = false;
    let mut latency_ms = 0.0;
    let mut mains = 0u32;
    for (ci, call) in dec.calls().iter().enumerate() {
        match call.kind {
            CallKind::Main => {
                mains += 1;
                let (ms, batch) = main_call(t, inst, led, call.model, req, cache, weight);
                if accepted == Some(ci) {
                    accepted_batch = batch;
                }
                latency_ms += ms;
            }
            CallKind::Overhead {
                input_tokens,
                output_tokens,
            } => {
                let m = call.model.index();
                let service = call.model.service().unwrap_or(req.service);
                let cell = led.cell_mut(req.workload as usize, m);
                cell.overhead_calls += weight;
                let billing = inst.pricing[m].billing(input_tokens, 0, req.batch, service);
                let (tier, mode) = (billing.tier as usize, billing.mode as usize);
                let (ttft, ms_per_token) = t.speed(m, billing.mode);
                let tokens = cell.tokens_mut(OVERHEAD, tier, mode);
                let output_tokens = count_f64(output_tokens);
                tokens[Component::Input as usize] += weight * count_f64(input_tokens);
                tokens[Component::Output as usize] += weight * output_tokens;
                latency_ms += ttft + output_tokens * ms_per_token;
            }
        }
    }
    let outcome = Outcome {
        mains,
        skips: dec.skips(),
        fixed_overhead_usd: dec.fixed_overhead_usd(),
        served: accepted.map(|_| accepted_batch),
        latency_ms,
    };
    let w = req.workload as usize;
    let (counts, latency) = (&mut led.per_workload[w], &mut led.latency[w]);
    finish(counts, latency, req, &outcome, weight, succeeded);
}

/// What booking one answer call of a request to one model adds, worked
/// out once (the fast path books a sample request's call to the same model
/// under several policies and outcome intervals): [`book_pick`] books it
/// as [`book`] books the decision that calls that model alone and accepts
/// its answer, with the cache left to the closed form ([`CacheMode::Defer`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PickedCall {
    /// The (workload, model) cell's index in the ledger.
    cell: usize,
    /// Its price class: `Tier` and `Mode` as indices.
    pub tier: usize,
    pub mode: usize,
    /// The prefix is cacheable: its calls are deferred and its input
    /// billed without the prefix.
    pub deferred: bool,
    /// Input tokens billed as input.
    input: f64,
    output: f64,
    /// Billed at batch rates.
    batch: bool,
    /// The latency histogram's bucket (unused for a batch request).
    bucket: usize,
}

/// A request's answer call to a model at a service tier (the model's own,
/// else the request's), as [`Lane::main_call`] books it, in two steps:
/// what does not depend on the request's token counts, for one
/// (workload, model, service tier, batch) lane, worked out once; then
/// [`PickLane::call`] for each request, which asks the model's pricing
/// for the price tier and caching as `ModelPricing::billing` does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PickLane<'a> {
    pr: &'a ModelPricing,
    cell: usize,
    /// Where the lane's calls are billed.
    pub mode: Mode,
    batch: bool,
    /// Whether the workload sends a prefix through a cache at all.
    caching: bool,
    ttft: f64,
    ms_per_token: f64,
}

impl<'a> PickLane<'a> {
    pub fn new(
        t: &Tables,
        inst: &'a Instance,
        w: usize,
        m: usize,
        service: ServiceTier,
        batch: bool,
    ) -> PickLane<'a> {
        let lane = Lane::new(t, inst, w, ModelId::new(m));
        let mode = lane.pr.mode(batch, service);
        let (ttft, ms_per_token) = t.speed(lane.m, mode);
        PickLane {
            pr: &inst.pricing[m],
            cell: lane.i,
            mode,
            batch,
            caching: lane.caching,
            ttft,
            ms_per_token,
        }
    }

    /// The call of `req` (of this lane's workload and batch) in this lane.
    #[inline]
    pub fn call(&self, req: &Request) -> PickedCall {
        let tier = self.pr.tier(req.input_tokens);
        let deferred = self.caching
            && self
                .pr
                .caches(req.prefix_tokens.min(req.input_tokens), self.batch);
        let output = count_f64(req.output_tokens);
        let input = if deferred {
            count_f64(req.input_tokens - req.prefix_tokens)
        } else {
            count_f64(req.input_tokens)
        };
        // `book` adds the call's latency to a request's 0 ms.
        let latency_ms = 0.0 + (self.ttft + output * self.ms_per_token);
        PickedCall {
            cell: self.cell,
            tier: tier as usize,
            mode: self.mode as usize,
            deferred,
            input,
            output,
            batch: self.mode == Mode::Batch,
            bucket: bucket(latency_ms),
        }
    }
}

/// Books `call` as [`book`] books the decision that calls its model alone
/// and accepts the answer, under [`CacheMode::Defer`]: the same additions,
/// in the same order, to the same counters.
#[inline]
pub(crate) fn book_pick(
    led: &mut Ledger,
    call: &PickedCall,
    req: &Request,
    weight: f64,
    succeeded: f64,
) {
    let w = req.workload as usize;
    let (cell, counts, latency) = led.parts_at(call.cell, w);
    cell.calls += weight;
    if call.deferred {
        *cell.deferred_mut(call.tier, call.mode) += weight;
    }
    let tokens = cell.tokens_mut(MAIN, call.tier, call.mode);
    tokens[Component::Input as usize] += weight * call.input;
    tokens[Component::Output as usize] += weight * call.output;
    counts.requests += weight;
    counts.skips += weight * 0.0;
    counts.fixed_overhead_usd += weight * 0.0;
    counts.served += weight;
    if call.batch {
        counts.batch += weight;
    }
    counts.succeeded += succeeded;
    if !req.batch {
        latency.counts[call.bucket] += weight;
    }
}

/// What [`book_served_all`] is told of the requests before it books them:
/// at most how many there are and the largest token count any of them
/// carries, so that it can tell whether its sums, kept as whole numbers,
/// are exactly what adding the requests one by one in floating point
/// would give.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    pub n: u64,
    pub max_input: u64,
    pub max_output: u64,
    /// The requests' modalities, as a bit set.
    pub modalities: u32,
}

impl Span {
    /// The span of `requests`.
    #[inline]
    pub fn of(requests: &[Request]) -> Span {
        let mut s = Span {
            n: requests.len() as u64,
            ..Span::default()
        };
        for r in requests {
            s.max_input = s.max_input.max(r.input_tokens);
            s.max_output = s.max_output.max(r.output_tokens);
            s.modalities |= 1 << r.modality as u32;
        }
        s
    }
}

/// Largest whole number below which every sum of whole numbers in an f64
/// is exact, whatever the order of the additions.
const EXACT_WHOLE: f64 = 9_007_199_254_740_992.0; // 2^53

/// Books, in order, `requests` of workload `w` (at most `span.n` of them,
/// each within `span`'s token counts) that a policy sends to `m` alone and
/// accepts, none skipped and no fixed overhead, `succeeds` judging each:
/// what [`book`] books for each of those decisions. Exact mode books a
/// policy that sends a whole workload to one model (a `single`, a `rules`
/// entry naming a model) this way.
///
/// Every number it adds is a whole number (exact mode counts a request
/// once, and tokens are integers), so it keeps the run's sums as integers
/// per price class and adds each to the ledger once: the same bits as
/// adding them call by call, in any order, as long as no counter passes
/// 2^53. It checks that bound first, from the ledger and `span`, and past
/// it books call by call as [`book`] does. Only what must follow the
/// requests one by one does: the cache slots (in arrival order) and the
/// latency histogram.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn book_served_all<'r>(
    t: &Tables,
    inst: &Instance,
    led: &mut Ledger,
    w: usize,
    m: ModelId,
    requests: impl Iterator<Item = &'r Request>,
    span: Span,
    last_sent: &mut [Vec<f64>],
    mut succeeds: impl FnMut(&Request) -> bool,
) {
    let lane = Lane::new(t, inst, w, m);
    let (cell, counts, latency) = led.parts_mut(w, m.index());
    let mut cache = CacheMode::Simulate(last_sent);
    let mut slot = lane.cache_slot(&mut cache);
    if !sums_stay_exact(cell, counts, span) {
        for req in requests {
            let ok = succeeds(req);
            let (latency_ms, batch) = lane.main_call(cell, &mut slot, req, 1.0);
            let outcome = Outcome {
                mains: 1,
                skips: 0,
                fixed_overhead_usd: 0.0,
                served: Some(batch),
                latency_ms,
            };
            let succeeded = if ok { 1.0 } else { 0.0 };
            finish(counts, latency, req, &outcome, 1.0, succeeded);
        }
        return;
    }
    let mut calls = CallSums::new(&lane);
    let speed: [(f64, f64); N_MODES] = Mode::ALL.map(|mode| t.speed(lane.m, mode));
    let mut run = LatencyRun {
        output: u64::MAX,
        mode: Mode::OnDemand,
        bucket: 0,
        n: 0,
    };
    let (mut served, mut batch, mut succeeded) = (0u64, 0u64, 0u64);
    for req in requests {
        served += 1;
        succeeded += u64::from(succeeds(req));
        let mode = calls.add(&lane, &mut slot, req);
        batch += u64::from(mode == Mode::Batch);
        if !req.batch {
            // A latency's bucket, looked up only when the output or the
            // mode differs from the last request's (a workload with a
            // constant output has one bucket a mode), and counted in a run.
            if req.output_tokens != run.output || mode != run.mode {
                run.add_to(latency);
                let (ttft, ms_per_token) = speed[mode as usize];
                let ms = ttft + count_f64(req.output_tokens) * ms_per_token;
                run = LatencyRun {
                    output: req.output_tokens,
                    mode,
                    bucket: bucket(ms),
                    n: 0,
                };
            }
            run.n += 1;
        }
    }
    run.add_to(latency);
    calls.fold(&lane, cell);
    counts.requests += count_f64(served);
    counts.served += count_f64(served);
    counts.batch += count_f64(batch);
    counts.succeeded += count_f64(succeeded);
}

/// Books the answer calls to `m` of `requests` (of workload `w`), in
/// order, as [`book`] books each such call of a decision (its tokens by
/// price class, its cache hit or miss) and nothing of the requests'
/// outcomes: a cascade's request makes several calls, and its caller
/// books the outcome. In whole-number sums, which the caller has checked
/// stay exact ([`stays_exact`] of every cell and count it books into).
pub(crate) fn book_main_calls<'r>(
    t: &Tables,
    inst: &Instance,
    led: &mut Ledger,
    (w, m): (usize, ModelId),
    requests: impl Iterator<Item = &'r Request>,
    last_sent: &mut [Vec<f64>],
) {
    let lane = Lane::new(t, inst, w, m);
    let cell = led.cell_mut(w, m.index());
    let mut cache = CacheMode::Simulate(last_sent);
    let mut slot = lane.cache_slot(&mut cache);
    let mut calls = CallSums::new(&lane);
    for req in requests {
        calls.add(&lane, &mut slot, req);
    }
    calls.fold(&lane, cell);
}

/// A run of answer calls of one workload to one model in whole-number
/// sums per price class: what [`Lane::main_call`] adds for each call,
/// kept as integers ([`CallSums::add`]) and added to the cell once
/// ([`CallSums::fold`]).
struct CallSums {
    /// The mode of a call by batch eligibility and service tier, looked up
    /// once.
    modes: [[Mode; N_SERVICE_TIERS]; 2],
    /// By `tier * N_MODES + mode`.
    sums: [ClassSums; 2 * N_MODES],
}

impl CallSums {
    fn new(lane: &Lane<'_>) -> CallSums {
        let pr = lane.pr;
        CallSums {
            modes: std::array::from_fn(|b| ServiceTier::ALL.map(|s| pr.mode(b == 1, s))),
            sums: [ClassSums::default(); 2 * N_MODES],
        }
    }

    /// Adds `req`'s call in `lane`, its cache slot `slot`; returns the
    /// mode the call is billed in.
    #[inline(always)]
    fn add(&mut self, lane: &Lane<'_>, slot: &mut CacheSlot<'_>, req: &Request) -> Mode {
        let pr = lane.pr;
        let service = lane.service.unwrap_or(req.service);
        let mode = self.modes[usize::from(req.batch)][service as usize];
        let s = &mut self.sums[pr.tier(req.input_tokens) as usize * N_MODES + mode as usize];
        s.calls += 1;
        s.output += req.output_tokens;
        let cached = pr.caches(req.prefix_tokens.min(req.input_tokens), req.batch);
        if lane.caching && cached {
            s.input += req.input_tokens - req.prefix_tokens;
            match slot.hit(req, lane.ttl_s) {
                Some(true) => {
                    s.hits += 1;
                    s.read += req.prefix_tokens;
                }
                Some(false) => {
                    s.misses += 1;
                    s.written += req.prefix_tokens;
                }
                None => s.deferred += 1,
            }
        } else {
            s.input += req.input_tokens;
        }
        mode
    }

    /// Adds the sums to `cell`, price class by price class.
    fn fold(&self, lane: &Lane<'_>, cell: &mut Cell) {
        for (k, s) in self.sums.iter().enumerate() {
            if s.calls == 0 {
                continue;
            }
            let (tier, mode) = (k / N_MODES, k % N_MODES);
            cell.calls += count_f64(s.calls);
            cell.cache_hits += count_f64(s.hits);
            cell.cache_misses += count_f64(s.misses);
            if s.deferred > 0 {
                *cell.deferred_mut(tier, mode) += count_f64(s.deferred);
            }
            let tokens = cell.tokens_mut(MAIN, tier, mode);
            tokens[Component::Input as usize] += count_f64(s.input);
            tokens[Component::CacheRead as usize] += count_f64(s.read);
            tokens[lane.write as usize] += count_f64(s.written);
            tokens[Component::Output as usize] += count_f64(s.output);
        }
    }
}

/// Consecutive answer calls with the same latency bucket (the same output
/// tokens and mode), counted as a whole number and added to the histogram
/// at once: the same counts as adding 1 per call, every count being a
/// whole number below 2^53 (which `sums_stay_exact` checks of the
/// workload's request count, the most any bucket can hold).
struct LatencyRun {
    output: u64,
    mode: Mode,
    bucket: usize,
    n: u64,
}

impl LatencyRun {
    #[inline(always)]
    fn add_to(&self, latency: &mut Histogram) {
        if self.n > 0 {
            latency.counts[self.bucket] += count_f64(self.n);
        }
    }
}

/// One price class's share of a run of answer calls, in whole numbers.
#[derive(Debug, Clone, Copy, Default)]
struct ClassSums {
    calls: u64,
    /// Input tokens billed as input (the prefix's excluded when cached).
    input: u64,
    output: u64,
    hits: u64,
    misses: u64,
    /// Prefix tokens read from and written to the cache.
    read: u64,
    written: u64,
    deferred: u64,
}

/// Whether adding a run of `span`'s requests to `cell` and `counts` keeps
/// every counter they touch at or below 2^53, where adding whole numbers
/// in f64 is exact: no counter grows by more than `span.n` times the
/// largest token count (a cached prefix is part of the input).
fn sums_stay_exact(cell: &Cell, counts: &Counts, span: Span) -> bool {
    stays_exact(cell, counts, span.n, span.max_input.max(span.max_output))
}

/// Whether adding `n` requests to `cell` and `counts`, none adding more
/// than `per_request` (at least 1) to any one counter, keeps every
/// counter at or below 2^53, where adding whole numbers in f64 is exact.
pub(crate) fn stays_exact(cell: &Cell, counts: &Counts, n: u64, per_request: u64) -> bool {
    let most = cell.largest_count().max(counts.largest_count());
    most + count_f64(n) * count_f64(per_request.max(1)) <= EXACT_WHOLE
}

/// What a request's calls add up to, for its workload's counts.
struct Outcome {
    mains: u32,
    skips: u32,
    fixed_overhead_usd: f64,
    /// Whether the accepted answer was billed at batch rates; `None`:
    /// the request was not served.
    served: Option<bool>,
    latency_ms: f64,
}

/// Booking's view of one workload's answer calls to one model: what the
/// tables and prices say about them, looked up once.
struct Lane<'a> {
    t: &'a Tables,
    pr: &'a ModelPricing,
    m: usize,
    /// The service tier the model is named at; `None`: the request's.
    service: Option<ServiceTier>,
    /// `t.caching[w]`: whether the workload sends a prefix through a cache.
    caching: bool,
    pinned: Option<f64>,
    ttl_s: f64,
    write: Component,
    /// `w * nm + m`: the (workload, model) pair's index in the tables.
    i: usize,
}

/// Where an answer call learns whether its prefix was cached: the
/// (workload, model) pair's slots, the workload's pinned hit rate, or
/// nowhere ([`CacheMode::Defer`], or a workload that does not cache).
enum CacheSlot<'a> {
    Slots(&'a mut Vec<f64>),
    Pinned(f64),
    Defer,
}

impl CacheSlot<'_> {
    /// Whether `req`'s prefix is read from the cache (`Some(true)`) or
    /// written to it (`Some(false)`), its slot's last send time updated;
    /// `None` where the fast path's closed form decides (`Defer`).
    #[inline(always)]
    fn hit(&mut self, req: &Request, ttl_s: f64) -> Option<bool> {
        match self {
            CacheSlot::Defer => None,
            CacheSlot::Slots(slots) => {
                let slot = &mut slots[req.prefix_id as usize];
                let hit = req.time_s - *slot < ttl_s;
                *slot = req.time_s;
                Some(hit)
            }
            CacheSlot::Pinned(rate) => Some(pinned_hit(req, *rate)),
        }
    }
}

impl<'a> Lane<'a> {
    #[inline(always)]
    fn new(t: &'a Tables, inst: &'a Instance, w: usize, model: ModelId) -> Lane<'a> {
        let m = model.index();
        let i = w * t.nm + m;
        Lane {
            t,
            pr: &inst.pricing[m],
            m,
            service: model.service(),
            caching: t.caching[w],
            pinned: t.pinned[w],
            ttl_s: t.ttl_s[i],
            write: t.write[i],
            i,
        }
    }

    /// Where the pair's calls learn of cache hits under `cache`; a
    /// simulated cache's last send time per prefix is allocated on first use.
    #[inline(always)]
    fn cache_slot<'s>(&self, cache: &'s mut CacheMode<'_>) -> CacheSlot<'s> {
        match (cache, self.pinned) {
            (CacheMode::Simulate(_), Some(rate)) => CacheSlot::Pinned(rate),
            (CacheMode::Simulate(last_sent), None) if self.caching => {
                let slots = &mut last_sent[self.i];
                if slots.is_empty() {
                    *slots = vec![f64::NEG_INFINITY; self.t.distinct[self.i / self.t.nm]];
                }
                CacheSlot::Slots(slots)
            }
            _ => CacheSlot::Defer,
        }
    }

    /// Books one answer call (its tokens by price class, its cache hit or
    /// miss) into `cell`; returns its latency in ms and whether it is
    /// billed at batch rates.
    #[inline(always)]
    fn main_call(
        &self,
        cell: &mut Cell,
        cache: &mut CacheSlot<'_>,
        req: &Request,
        weight: f64,
    ) -> (f64, bool) {
        let service = self.service.unwrap_or(req.service);
        cell.calls += weight;
        let billing = self
            .pr
            .billing(req.input_tokens, req.prefix_tokens, req.batch, service);
        let (tier, mode) = (billing.tier as usize, billing.mode as usize);
        let (ttft, ms_per_token) = self.t.speed(self.m, billing.mode);
        let output = count_f64(req.output_tokens);
        if self.caching && billing.cached {
            let fresh = count_f64(req.input_tokens - req.prefix_tokens);
            let hit = cache.hit(req, self.ttl_s);
            if hit.is_none() {
                *cell.deferred_mut(tier, mode) += weight;
            }
            let prefix = count_f64(req.prefix_tokens);
            let tokens = cell.tokens_mut(MAIN, tier, mode);
            tokens[Component::Input as usize] += weight * fresh;
            match hit {
                Some(true) => tokens[Component::CacheRead as usize] += weight * prefix,
                Some(false) => tokens[self.write as usize] += weight * prefix,
                None => {}
            }
            tokens[Component::Output as usize] += weight * output;
            match hit {
                Some(true) => cell.cache_hits += weight,
                Some(false) => cell.cache_misses += weight,
                None => {}
            }
        } else {
            let tokens = cell.tokens_mut(MAIN, tier, mode);
            tokens[Component::Input as usize] += weight * count_f64(req.input_tokens);
            tokens[Component::Output as usize] += weight * output;
        }
        (ttft + output * ms_per_token, billing.mode == Mode::Batch)
    }
}

/// Books one answer call to `model` (see [`Lane::main_call`]).
#[inline(always)]
fn main_call(
    t: &Tables,
    inst: &Instance,
    led: &mut Ledger,
    model: ModelId,
    req: &Request,
    cache: &mut CacheMode<'_>,
    weight: f64,
) -> (f64, bool) {
    let w = req.workload as usize;
    let lane = Lane::new(t, inst, w, model);
    let mut slot = lane.cache_slot(cache);
    lane.main_call(led.cell_mut(w, lane.m), &mut slot, req, weight)
}

/// Books a request's outcome into its workload's counts and latencies.
#[inline(always)]
fn finish(
    counts: &mut Counts,
    latency: &mut Histogram,
    req: &Request,
    o: &Outcome,
    weight: f64,
    succeeded: f64,
) {
    counts.requests += weight;
    counts.skips += weight * o.skips as f64;
    counts.fixed_overhead_usd += weight * o.fixed_overhead_usd;
    if o.mains > 1 {
        counts.escalated += weight;
    }
    match o.served {
        Some(batch) => {
            counts.served += weight;
            if batch {
                counts.batch += weight;
            }
            counts.succeeded += succeeded;
            if !req.batch {
                latency.add(o.latency_ms, weight);
            }
        }
        None => counts.unserved += weight,
    }
}
