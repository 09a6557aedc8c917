//! The ledger: what one policy did in one month, as counts.
//!
//! Per (workload, model) cell it holds calls and token counts per price
//! class (`[purpose][tier][mode][component]`, purpose being the answer calls
//! or the overhead of gates and classifiers); per workload, request outcome
//! counts; and a latency histogram. It holds no money: [`Ledger::price`]
//! turns counts into dollars with one multiplication per class, so costs
//! never accumulate rounding call by call. Counts are f64 holding integers
//! in exact mode (exact below 2^53 ≈ 9.0e15 per counter).

use serde::Serialize;

use crate::catalog::pricing::{Component, ModelPricing, N_COMPONENTS, N_MODES};
use crate::stats::Sum;

/// Answer calls or overhead (judges, classifiers).
pub const MAIN: usize = 0;
pub const OVERHEAD: usize = 1;

/// Token counts of two billing modes, by `[purpose][tier][mode][component]`.
type Tokens = [[[[f64; N_COMPONENTS]; 2]; 2]; 2];

const NO_TOKENS: [f64; N_COMPONENTS] = [0.0; N_COMPONENTS];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub calls: f64,
    pub overhead_calls: f64,
    pub cache_hits: f64,
    pub cache_misses: f64,
    /// On-demand (standard tier) and batch tokens, by
    /// `[purpose][tier][mode][component]`.
    tokens: Tokens,
    /// Answer calls whose prefix was cacheable but whose hit or miss is left
    /// to the fast path's closed form, on demand at the standard tier, by
    /// price tier (0 in exact mode and after the fast path resolves them;
    /// batch calls are never cached).
    deferred: [f64; 2],
    /// The Priority and Flex modes' tokens and deferred calls, allocated
    /// on first use: most scenarios never use a service tier, and cells
    /// holding them inline slowed exact mode by a sixth.
    service: Option<Box<ServiceCell>>,
}

/// A cell's Priority and Flex part (modes 2 and 3).
#[derive(Debug, Clone, Default, PartialEq)]
struct ServiceCell {
    tokens: Tokens,
    deferred: [[f64; 2]; 2],
}

impl Cell {
    /// Tokens of one price class (`mode` any of `N_MODES`).
    #[inline]
    pub fn tokens(&self, purpose: usize, tier: usize, mode: usize) -> &[f64; N_COMPONENTS] {
        if mode < 2 {
            &self.tokens[purpose][tier][mode]
        } else {
            match &self.service {
                Some(s) => &s.tokens[purpose][tier][mode - 2],
                None => &NO_TOKENS,
            }
        }
    }

    /// Deferred calls of one `[tier][mode]` (mode 1, batch, is never
    /// cached: it shares mode 0's slot, which it never adds to).
    #[inline]
    pub fn deferred_mut(&mut self, tier: usize, mode: usize) -> &mut f64 {
        if mode < 2 {
            &mut self.deferred[tier]
        } else {
            &mut self.service.get_or_insert_with(Default::default).deferred[tier][mode - 2]
        }
    }

    /// Every deferred count by `[tier][mode]`.
    pub fn deferred(&self) -> [[f64; N_MODES]; 2] {
        let mut d = [[0.0; N_MODES]; 2];
        for (t, row) in d.iter_mut().enumerate() {
            row[0] = self.deferred[t];
            if let Some(s) = &self.service {
                row[2] = s.deferred[t][0];
                row[3] = s.deferred[t][1];
            }
        }
        d
    }

    /// Forgets the deferred counts (the fast path has taken them).
    pub fn clear_deferred(&mut self) {
        self.deferred = [0.0; 2];
        if let Some(s) = &mut self.service {
            s.deferred = [[0.0; 2]; 2];
        }
    }

    /// Tokens of one price class, to add to.
    #[inline(always)]
    pub fn tokens_mut(
        &mut self,
        purpose: usize,
        tier: usize,
        mode: usize,
    ) -> &mut [f64; N_COMPONENTS] {
        if mode < 2 {
            &mut self.tokens[purpose][tier][mode]
        } else {
            &mut self.service.get_or_insert_with(Default::default).tokens[purpose][tier][mode - 2]
        }
    }

    fn add(&mut self, o: &Cell, k: f64) {
        self.deferred[0] += k * o.deferred[0];
        self.deferred[1] += k * o.deferred[1];
        self.calls += k * o.calls;
        self.overhead_calls += k * o.overhead_calls;
        self.cache_hits += k * o.cache_hits;
        self.cache_misses += k * o.cache_misses;
        add_tokens(&mut self.tokens, &o.tokens, k);
        if let Some(os) = &o.service {
            let s = self.service.get_or_insert_with(Default::default);
            add_tokens(&mut s.tokens, &os.tokens, k);
            for t in 0..2 {
                for m in 0..2 {
                    s.deferred[t][m] += k * os.deferred[t][m];
                }
            }
        }
    }

    /// The largest of the cell's counters (calls, cache hits and misses,
    /// deferred calls, tokens of every class); all are finite and at
    /// least 0.
    pub fn largest_count(&self) -> f64 {
        let head = [
            self.calls,
            self.overhead_calls,
            self.cache_hits,
            self.cache_misses,
            self.deferred[0],
            self.deferred[1],
        ];
        let tokens = self.tokens.as_flattened().as_flattened().as_flattened();
        let mut most = largest(&head).max(largest(tokens));
        if let Some(s) = &self.service {
            let tokens = s.tokens.as_flattened().as_flattened().as_flattened();
            most = most
                .max(largest(tokens))
                .max(largest(s.deferred.as_flattened()));
        }
        most
    }

    /// Tokens of one component over tiers and modes.
    pub fn component_tokens(&self, purpose: usize, c: Component) -> f64 {
        let mut s = 0.0;
        for t in 0..2 {
            for m in 0..N_MODES {
                s += self.tokens(purpose, t, m)[c as usize];
            }
        }
        s
    }
}

/// The largest of `xs` (0 if empty), values at least 0 and not NaN: four
/// running maxima side by side, which the compiler turns into vector
/// maxima (a single chain of `f64::max` took a few hundred cycles per
/// cell, and exact mode asks once per workload per batch).
fn largest(xs: &[f64]) -> f64 {
    let mut m = [0.0f64; 4];
    let mut chunks = xs.chunks_exact(4);
    for c in &mut chunks {
        for k in 0..4 {
            if c[k] > m[k] {
                m[k] = c[k];
            }
        }
    }
    for (k, x) in chunks.remainder().iter().enumerate() {
        if *x > m[k] {
            m[k] = *x;
        }
    }
    m[0].max(m[1]).max(m[2].max(m[3]))
}

fn add_tokens(a: &mut Tokens, b: &Tokens, k: f64) {
    for p in 0..2 {
        for t in 0..2 {
            for m in 0..2 {
                for c in 0..N_COMPONENTS {
                    a[p][t][m][c] += k * b[p][t][m][c];
                }
            }
        }
    }
}

/// Request outcomes of one workload.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub requests: f64,
    /// Requests some model took.
    pub served: f64,
    /// Requests whose accepted answer was acceptable.
    pub succeeded: f64,
    /// Requests no model could take (context, output limit, modality).
    pub unserved: f64,
    /// Requests that made more than one answer call.
    pub escalated: f64,
    /// Models passed over because they could not take a request.
    pub skips: f64,
    /// Requests whose answer was billed at batch rates.
    pub batch: f64,
    /// Fixed per-check overhead (gates priced in USD), in USD.
    pub fixed_overhead_usd: f64,
}

impl Counts {
    /// The largest of the counts (the fixed overhead, in dollars, aside).
    pub fn largest_count(&self) -> f64 {
        self.requests
            .max(self.served)
            .max(self.succeeded)
            .max(self.unserved)
            .max(self.escalated)
            .max(self.skips)
            .max(self.batch)
    }

    fn add(&mut self, o: &Counts, k: f64) {
        self.requests += k * o.requests;
        self.served += k * o.served;
        self.succeeded += k * o.succeeded;
        self.unserved += k * o.unserved;
        self.escalated += k * o.escalated;
        self.skips += k * o.skips;
        self.batch += k * o.batch;
        self.fixed_overhead_usd += k * o.fixed_overhead_usd;
    }
}

/// Log-spaced latency histogram: 50 buckets per decade from 1 ms to 1e8 ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub counts: Vec<f64>,
}

const PER_DECADE: f64 = 50.0;
const BUCKETS: usize = 400;

/// The bucket of a latency: `⌊log10(ms) · 50⌋` (0 at or below 1 ms, the
/// last bucket above 1e8 ms), without a logarithm per request. The lower
/// edges are found once, as the smallest doubles the formula puts in each
/// bucket, so the result is the formula's to the last bit; a second table
/// gives the bucket at the start of each 1/256 of a binary octave (a bin
/// narrower than a bucket, so at most one edge falls inside it), leaving
/// one comparison per latency.
#[inline]
pub fn bucket(ms: f64) -> usize {
    if ms.is_nan() || ms <= 1.0 {
        return 0;
    }
    if ms >= 1e9 {
        return BUCKETS - 1;
    }
    let (edges, starts) = tables();
    // 1 < ms < 1e9 < 2^30: the exponent and top 8 mantissa bits, from 1.0.
    let bin = ((ms.to_bits() >> 44) - (1023u64 << 8)) as usize;
    let i = starts[bin] as usize;
    // A compare and a select: whether the latency passed the bin's edge
    // follows the latency, and as a branch it was mispredicted.
    let next = (i + 1).min(BUCKETS - 1);
    std::hint::select_unpredictable(ms >= edges[next], next, i)
}

/// Bins of [1, 2^30) in [`bucket`]'s second table.
const BINS: usize = 30 << 8;

fn tables() -> &'static ([f64; BUCKETS], [u16; BINS]) {
    static TABLES: std::sync::OnceLock<([f64; BUCKETS], [u16; BINS])> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let edges = *edges();
        let mut starts = [0u16; BINS];
        for (bin, s) in starts.iter_mut().enumerate() {
            let lo = f64::from_bits(((1023u64 << 8) + bin as u64) << 44);
            // The last edge at or below the bin's first double.
            *s = (edges.partition_point(|&e| e <= lo).max(1) - 1) as u16;
        }
        (edges, starts)
    })
}

/// `edges()[i]`: the smallest ms > 1 with `⌊log10(ms) · 50⌋ = i`.
fn edges() -> &'static [f64; BUCKETS] {
    static EDGES: std::sync::OnceLock<[f64; BUCKETS]> = std::sync::OnceLock::new();
    EDGES.get_or_init(|| {
        let formula = |ms: f64| ((ms.log10() * PER_DECADE) as usize).min(BUCKETS - 1);
        let mut e = [0.0; BUCKETS];
        e[0] = 1.0;
        for (i, edge) in e.iter_mut().enumerate().skip(1) {
            // Bisect on the bit patterns of positive doubles (ordered like
            // the values) for the first one the formula puts at i or above.
            let (mut lo, mut hi) = (1.0f64.to_bits(), 1e9f64.to_bits());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if formula(f64::from_bits(mid)) >= i {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            *edge = f64::from_bits(hi);
        }
        e
    })
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0.0; BUCKETS],
        }
    }
}

impl Histogram {
    #[inline]
    pub fn add(&mut self, ms: f64, k: f64) {
        self.counts[bucket(ms)] += k;
    }

    fn merge(&mut self, o: &Histogram, k: f64) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += k * b;
        }
    }

    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The q-quantile in ms (geometric midpoint of its bucket), or `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * total;
        let mut acc = 0.0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= target && *c > 0.0 {
                return Some(10f64.powf((i as f64 + 0.5) / PER_DECADE));
            }
        }
        None
    }
}

/// Turn counts the cost-by-turns table keeps apart (longer sessions share
/// the last row).
pub const TURN_ROWS: usize = 200;

/// What the sessions of one session workload did (all zero, with empty
/// tables, for a workload of single requests). The ledger's `Counts` for
/// a session workload count sessions; this counts their turns and calls.
///
/// `cost` and `by_turns` hold dollars per session, priced when each
/// session ends (a few products per call, summed over its calls): they
/// give the distribution of a session's cost and its growth with the
/// number of turns, which counts cannot. The headline cost still comes
/// from the token counts, priced once (`Ledger::price`). A single-request
/// workload's tally is empty and allocates nothing (its histogram and table
/// are empty vectors), so every ledger can carry one per workload.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTally {
    pub sessions: f64,
    pub turns: f64,
    pub turns_served: f64,
    pub turns_succeeded: f64,
    /// Answer calls (a cascade may make several per turn) and summaries.
    pub calls: f64,
    pub compactions: f64,
    /// Input tokens billed fresh, written to and read from the cache, and
    /// output tokens, over answer and summary calls.
    pub fresh: f64,
    pub write: f64,
    pub read: f64,
    pub output: f64,
    /// Cost of a session in micro-dollars, as a histogram (50 buckets a
    /// decade, like latency).
    pub cost: Histogram,
    /// Per number of turns (row `n − 1`, the last row for longer
    /// sessions): [sessions, their cost, their cost had nothing been
    /// cached, the extra cost had every prefix the fast path left to its
    /// closed form missed] in USD.
    pub by_turns: Vec<[f64; 4]>,
    /// The fast path: the extra cost had every deferred prefix missed
    /// (summed over sessions), and the part of it the month's closed form
    /// charged; their ratio is the share of `by_turns[..][3]` a session
    /// pays. Both 0 in exact mode.
    pub swing_usd: f64,
    pub swing_missed_usd: f64,
}

impl Default for SessionTally {
    /// The tally of a workload of single requests: no tables.
    fn default() -> Self {
        SessionTally {
            sessions: 0.0,
            turns: 0.0,
            turns_served: 0.0,
            turns_succeeded: 0.0,
            calls: 0.0,
            compactions: 0.0,
            fresh: 0.0,
            write: 0.0,
            read: 0.0,
            output: 0.0,
            cost: Histogram { counts: Vec::new() },
            by_turns: Vec::new(),
            swing_usd: 0.0,
            swing_missed_usd: 0.0,
        }
    }
}

impl SessionTally {
    /// An empty tally with its tables (for a session workload).
    pub fn new() -> SessionTally {
        SessionTally {
            cost: Histogram::default(),
            by_turns: vec![[0.0; 4]; TURN_ROWS],
            ..SessionTally::default()
        }
    }

    fn add(&mut self, o: &SessionTally, k: f64) {
        if o.by_turns.is_empty() && o.sessions == 0.0 {
            return;
        }
        if self.by_turns.len() < o.by_turns.len() {
            self.by_turns.resize(o.by_turns.len(), [0.0; 4]);
        }
        if self.cost.counts.len() < o.cost.counts.len() {
            self.cost.counts.resize(o.cost.counts.len(), 0.0);
        }
        self.sessions += k * o.sessions;
        self.turns += k * o.turns;
        self.turns_served += k * o.turns_served;
        self.turns_succeeded += k * o.turns_succeeded;
        self.calls += k * o.calls;
        self.compactions += k * o.compactions;
        self.fresh += k * o.fresh;
        self.write += k * o.write;
        self.read += k * o.read;
        self.output += k * o.output;
        self.cost.merge(&o.cost, k);
        self.swing_usd += k * o.swing_usd;
        self.swing_missed_usd += k * o.swing_missed_usd;
        for (a, b) in self.by_turns.iter_mut().zip(&o.by_turns) {
            for i in 0..4 {
                a[i] += k * b[i];
            }
        }
    }

    /// Whether this is a session workload's tally.
    pub fn is_session(&self) -> bool {
        !self.by_turns.is_empty()
    }
}

/// One policy's month (or a sum of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    pub n_models: usize,
    /// Cells by `workload * n_models + model`.
    pub cells: Vec<Cell>,
    pub per_workload: Vec<Counts>,
    /// Latency of on-demand requests, per workload.
    pub latency: Vec<Histogram>,
    /// Per workload: what its sessions did (empty for single requests).
    pub sessions: Vec<SessionTally>,
}

impl Ledger {
    pub fn new(n_workloads: usize, n_models: usize) -> Ledger {
        Ledger {
            n_models,
            cells: vec![Cell::default(); n_workloads * n_models],
            per_workload: vec![Counts::default(); n_workloads],
            latency: vec![Histogram::default(); n_workloads],
            sessions: vec![SessionTally::default(); n_workloads],
        }
    }

    pub fn n_workloads(&self) -> usize {
        self.per_workload.len()
    }

    #[inline]
    pub fn cell_mut(&mut self, workload: usize, model: usize) -> &mut Cell {
        &mut self.cells[workload * self.n_models + model]
    }

    /// A (workload, model) cell with its workload's counts and latencies,
    /// to book many requests into.
    #[inline]
    pub fn parts_mut(
        &mut self,
        workload: usize,
        model: usize,
    ) -> (&mut Cell, &mut Counts, &mut Histogram) {
        (
            &mut self.cells[workload * self.n_models + model],
            &mut self.per_workload[workload],
            &mut self.latency[workload],
        )
    }

    /// [`Self::parts_mut`] by the cell's index (`workload × models +
    /// model`), `workload` being the cell's.
    #[inline]
    pub(crate) fn parts_at(
        &mut self,
        cell: usize,
        workload: usize,
    ) -> (&mut Cell, &mut Counts, &mut Histogram) {
        (
            &mut self.cells[cell],
            &mut self.per_workload[workload],
            &mut self.latency[workload],
        )
    }

    pub fn cell(&self, workload: usize, model: usize) -> &Cell {
        &self.cells[workload * self.n_models + model]
    }

    /// Adds `k` times another ledger (k = 1 to sum, 1/R to average).
    pub fn add_scaled(&mut self, o: &Ledger, k: f64) {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            a.add(b, k);
        }
        for (a, b) in self.per_workload.iter_mut().zip(&o.per_workload) {
            a.add(b, k);
        }
        for (a, b) in self.latency.iter_mut().zip(&o.latency) {
            a.merge(b, k);
        }
        for (a, b) in self.sessions.iter_mut().zip(&o.sessions) {
            a.add(b, k);
        }
    }

    /// Adds `k` times workload `w`'s part of another ledger.
    pub fn add_workload_scaled(&mut self, o: &Ledger, w: usize, k: f64) {
        let nm = self.n_models;
        for m in 0..nm {
            self.cells[w * nm + m].add(&o.cells[w * nm + m], k);
        }
        self.per_workload[w].add(&o.per_workload[w], k);
        self.latency[w].merge(&o.latency[w], k);
        self.sessions[w].add(&o.sessions[w], k);
    }

    /// Workload `w`'s part of this ledger as a one-workload ledger.
    pub fn extract(&self, w: usize) -> Ledger {
        let nm = self.n_models;
        Ledger {
            n_models: nm,
            cells: self.cells[w * nm..(w + 1) * nm].to_vec(),
            per_workload: vec![self.per_workload[w].clone()],
            latency: vec![self.latency[w].clone()],
            sessions: vec![self.sessions[w].clone()],
        }
    }

    /// Adds `k` times a one-workload ledger into workload `w`.
    pub fn add_single_scaled(&mut self, o: &Ledger, w: usize, k: f64) {
        let nm = self.n_models;
        for m in 0..nm {
            self.cells[w * nm + m].add(&o.cells[m], k);
        }
        self.per_workload[w].add(&o.per_workload[0], k);
        self.latency[w].merge(&o.latency[0], k);
        self.sessions[w].add(&o.sessions[0], k);
    }

    /// Multiplies every count by `k`.
    pub fn scale(&mut self, k: f64) {
        let copy = self.clone();
        *self = Ledger::new(self.n_workloads(), self.n_models);
        self.add_scaled(&copy, k);
    }

    /// Latency of all workloads together.
    pub fn latency_total(&self) -> Histogram {
        let mut h = Histogram::default();
        for l in &self.latency {
            h.merge(l, 1.0);
        }
        h
    }

    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for c in &self.per_workload {
            t.add(c, 1.0);
        }
        t
    }

    /// Prices the ledger under `pricing` (one entry per model).
    pub fn price(&self, pricing: &[ModelPricing]) -> Costs {
        let nw = self.n_workloads();
        let mut cells = vec![[0.0; N_GROUPS]; self.cells.len()];
        for w in 0..nw {
            for (m, pr) in pricing.iter().enumerate().take(self.n_models) {
                let cell = self.cell(w, m);
                let out = &mut cells[w * self.n_models + m];
                for tier in 0..2 {
                    for mode in 0..N_MODES {
                        let rates = pr.rates(tier, mode);
                        let main = cell.tokens(MAIN, tier, mode);
                        let ovh = cell.tokens(OVERHEAD, tier, mode);
                        out[Group::Input as usize] += main[0] * rates[0] / 1e6;
                        out[Group::CacheWrite as usize] +=
                            (main[1] * rates[1] + main[2] * rates[2]) / 1e6;
                        out[Group::CacheRead as usize] += main[3] * rates[3] / 1e6;
                        out[Group::Output as usize] += main[4] * rates[4] / 1e6;
                        let mut o = 0.0;
                        for c in 0..N_COMPONENTS {
                            o += ovh[c] * rates[c];
                        }
                        out[Group::Overhead as usize] += o / 1e6;
                    }
                }
            }
        }
        Costs {
            n_models: self.n_models,
            cells,
            fixed_overhead: self
                .per_workload
                .iter()
                .map(|c| c.fixed_overhead_usd)
                .collect(),
        }
    }
}

/// Where the money goes, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Input = 0,
    CacheWrite = 1,
    CacheRead = 2,
    Output = 3,
    /// Gates, judges and classifiers.
    Overhead = 4,
}

pub const N_GROUPS: usize = 5;

impl Group {
    pub const ALL: [Group; N_GROUPS] = [
        Group::Input,
        Group::CacheWrite,
        Group::CacheRead,
        Group::Output,
        Group::Overhead,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Input => "input",
            Group::CacheWrite => "cache_write",
            Group::CacheRead => "cache_read",
            Group::Output => "output",
            Group::Overhead => "overhead",
        }
    }
}

/// A priced ledger: USD per (workload, model) cell and group, plus fixed
/// overhead per workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub n_models: usize,
    pub cells: Vec<[f64; N_GROUPS]>,
    pub fixed_overhead: Vec<f64>,
}

impl Costs {
    pub fn zero(n_workloads: usize, n_models: usize) -> Costs {
        Costs {
            n_models,
            cells: vec![[0.0; N_GROUPS]; n_workloads * n_models],
            fixed_overhead: vec![0.0; n_workloads],
        }
    }

    pub fn add_scaled(&mut self, o: &Costs, k: f64) {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            for g in 0..N_GROUPS {
                a[g] += k * b[g];
            }
        }
        for (a, b) in self.fixed_overhead.iter_mut().zip(&o.fixed_overhead) {
            *a += k * b;
        }
    }

    /// Adds `k` times one-workload costs into workload `w`.
    pub fn add_single_scaled(&mut self, o: &Costs, w: usize, k: f64) {
        let nm = self.n_models;
        for m in 0..nm {
            for g in 0..N_GROUPS {
                self.cells[w * nm + m][g] += k * o.cells[m][g];
            }
        }
        self.fixed_overhead[w] += k * o.fixed_overhead[0];
    }

    /// Total USD (compensated sum).
    pub fn total(&self) -> f64 {
        let mut s = Sum::default();
        for c in &self.cells {
            for v in c {
                s.add(*v);
            }
        }
        for v in &self.fixed_overhead {
            s.add(*v);
        }
        s.value()
    }

    pub fn by_group(&self) -> [f64; N_GROUPS] {
        let mut out = [Sum::default(); N_GROUPS];
        for c in &self.cells {
            for g in 0..N_GROUPS {
                out[g].add(c[g]);
            }
        }
        for v in &self.fixed_overhead {
            out[Group::Overhead as usize].add(*v);
        }
        out.map(|s| s.value())
    }

    pub fn by_model(&self) -> Vec<f64> {
        let mut out = vec![Sum::default(); self.n_models];
        for (i, c) in self.cells.iter().enumerate() {
            out[i % self.n_models].add(c.iter().sum());
        }
        out.into_iter().map(|s| s.value()).collect()
    }

    pub fn by_workload(&self) -> Vec<f64> {
        let nw = self.fixed_overhead.len();
        (0..nw)
            .map(|w| {
                let mut s = Sum::default();
                for m in 0..self.n_models {
                    s.add(self.cells[w * self.n_models + m].iter().sum());
                }
                s.add(self.fixed_overhead[w]);
                s.value()
            })
            .collect()
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::*;

    #[test]
    fn buckets_match_the_logarithm_formula_to_the_bit() {
        let formula = |ms: f64| {
            if ms <= 1.0 {
                0
            } else {
                ((ms.log10() * PER_DECADE) as usize).min(BUCKETS - 1)
            }
        };
        // Every edge and its neighbouring doubles, and a dense sweep.
        for &e in edges().iter() {
            for x in [
                e,
                f64::from_bits(e.to_bits() - 1),
                f64::from_bits(e.to_bits() + 1),
            ] {
                assert_eq!(bucket(x), formula(x), "at {x:e}");
            }
        }
        let mut x = 0.5;
        while x < 2e8 {
            assert_eq!(bucket(x), formula(x), "at {x:e}");
            x *= 1.000_37;
        }
        assert_eq!(bucket(f64::INFINITY), BUCKETS - 1);
        assert_eq!(bucket(0.0), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_land_in_the_right_bucket() {
        let mut h = Histogram::default();
        for i in 1..=1000 {
            h.add(i as f64, 1.0);
        }
        // True median 500 ms; buckets are 10^(1/50) ≈ 4.7% wide.
        let p50 = h.quantile(0.5).unwrap();
        assert!((p50 / 500.0 - 1.0).abs() < 0.05, "{p50}");
        let p95 = h.quantile(0.95).unwrap();
        assert!((p95 / 950.0 - 1.0).abs() < 0.05, "{p95}");
    }
}
