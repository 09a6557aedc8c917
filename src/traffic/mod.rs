//! Traffic: the one place randomness is drawn.
//!
//! A month of `n` requests is a Poisson arrival process conditioned on its
//! count: requests arrive one after another with exponential gaps at rate
//! `n / month` (ziggurat exponential draws), each picking its workload by
//! share (alias table), its tokens and difficulty (tabulated inverse CDFs
//! of uniforms: `stats::dist`), outcome uniform, batch eligibility, cache
//! prefix and a key for policy-level coin flips. Requests come out in time order, so the engine
//! can keep per-prefix cache state and see hits arise from traffic.
//!
//! Each (replication, month) owns a generator seeded from the scenario seed
//! and its coordinates (`random::Stream`), so results do not depend on how
//! work is spread over threads.

pub mod request;
pub mod session;
pub mod shape;
pub mod sobol;

pub use request::{Outcomes, Request, SessionState};

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::calendar::MONTH_SECONDS;
use crate::catalog::pricing::{ServiceTier, Ttl};
use crate::catalog::{Modality, TaskKind};
use crate::quality::required_capability;
use crate::random::Generator;
use crate::stats::alias::Alias;
use crate::stats::dist::{DifficultyDist, TokenDist};
use crate::stats::dist::{open_unit, open_unit_of, unit};

#[derive(Debug, Clone)]
pub enum CacheInst {
    None,
    /// Hits from arrivals: each request carries one of `distinct` prefixes.
    Traffic {
        distinct: u32,
        ttl: Ttl,
    },
    Pinned {
        hit_rate: f64,
        ttl: Ttl,
    },
}

#[derive(Debug, Clone)]
pub struct WorkloadInst {
    pub name: String,
    pub task: TaskKind,
    pub modality: Modality,
    /// Normalised share of requests.
    pub share: f64,
    /// Per-request input, not counting the prefix.
    pub input: TokenDist,
    pub output: TokenDist,
    pub difficulty: DifficultyDist,
    pub prefix_tokens: u64,
    pub cache: CacheInst,
    pub batch_share: f64,
    /// The service tier the workload's calls ask for.
    pub service: ServiceTier,
    /// Set for a session workload: its unit is a session, `input` what each
    /// turn appends, `output` each turn's answer, `difficulty` the session's.
    pub session: Option<session::SessionInst>,
}

/// A generator of one replication's traffic.
pub struct Traffic<'a> {
    workloads: &'a [WorkloadInst],
    slope: f64,
    outcome_correlation: f64,
    alias: Option<Alias>,
    distinct: Vec<u32>,
    /// Arrival times follow this shape (`None` or flat: uniform).
    shape: Option<&'a shape::Shape>,
}

impl<'a> Traffic<'a> {
    /// Traffic of `workloads` under the quality model's logistic `slope`,
    /// with `outcome_correlation` the share of requests whose outcomes
    /// follow one shared draw for every model.
    pub fn new(workloads: &'a [WorkloadInst], slope: f64, outcome_correlation: f64) -> Traffic<'a> {
        let alias = if workloads.len() > 1 {
            Alias::new(&workloads.iter().map(|w| w.share).collect::<Vec<_>>()).ok()
        } else {
            None
        };
        let distinct = workloads
            .iter()
            .map(|w| match w.cache {
                CacheInst::Traffic { distinct, .. } => distinct,
                _ => 1,
            })
            .collect();
        Traffic {
            workloads,
            slope,
            outcome_correlation,
            alias,
            distinct,
            shape: None,
        }
    }

    /// Arrivals shaped over the week (a flat shape changes nothing).
    pub fn with_shape(mut self, shape: &'a shape::Shape) -> Traffic<'a> {
        self.shape = (!shape.is_flat()).then_some(shape);
        self
    }

    /// Generates `n` units of one month in arrival order: requests to `f`,
    /// sessions (of a session workload) to `g`, at their start.
    #[inline]
    pub fn month<R: Rng, F: FnMut(&Request), G: FnMut(&session::SessionDraw)>(
        &self,
        n: u64,
        rng: &mut R,
        f: F,
        g: G,
    ) {
        self.draw_month::<R, F, G, false>(n, rng, f, g)
    }

    /// [`Self::month`] with each request's token counts, difficulty and
    /// required capability left as the draws they are computed from
    /// (`Request::input_tokens` and `output_tokens` hold the tokens'
    /// 64-bit draws, `Request::difficulty` the difficulty's uniform, and
    /// `Request::required_capability` the outcome's): [`Self::finish_draws`]
    /// makes them the requests `month` gives, the same draws to the bit.
    /// Exact mode finishes a batch one workload at a time, so only that
    /// workload's tables are in cache (four Beta tables are 128 KB, more
    /// than a core's L1, and a draw's table lookup missed it) and the
    /// branches that follow the kind of distribution are predicted.
    #[inline]
    pub fn month_deferred<R: Rng, F: FnMut(&Request), G: FnMut(&session::SessionDraw)>(
        &self,
        n: u64,
        rng: &mut R,
        f: F,
        g: G,
    ) {
        self.draw_month::<R, F, G, true>(n, rng, f, g)
    }

    /// Turns requests of workload `w` from [`Self::month_deferred`] into
    /// the requests [`Self::month`] gives.
    #[inline]
    pub fn finish_draws(&self, w: usize, requests: &mut [Request]) {
        let wl = &self.workloads[w];
        let (input, output, dist) = (&wl.input, &wl.output, &wl.difficulty);
        let slope = self.slope;
        // The usual workload, lognormal tokens and a Beta difficulty, with
        // its tables looked up once rather than per request: the same draws.
        if let (Some((ti, cap_in)), Some((to, cap_out)), Some(tb)) = (
            input.lognormal_table(),
            output.lognormal_table(),
            dist.beta_table(),
        ) {
            for r in requests {
                r.input_tokens = wl.prefix_tokens + ti.count(open_unit_of(r.input_tokens), cap_in);
                r.output_tokens = to.count(open_unit_of(r.output_tokens), cap_out);
                let difficulty = tb.quantile(r.difficulty);
                r.required_capability =
                    required_capability(difficulty, r.required_capability, slope);
                r.difficulty = difficulty;
            }
            return;
        }
        for r in requests {
            r.input_tokens = wl.prefix_tokens + input.from_bits(r.input_tokens);
            r.output_tokens = output.from_bits(r.output_tokens);
            let difficulty = dist.quantile(r.difficulty);
            r.required_capability = required_capability(difficulty, r.required_capability, slope);
            r.difficulty = difficulty;
        }
    }

    #[inline(always)]
    fn draw_month<
        R: Rng,
        F: FnMut(&Request),
        G: FnMut(&session::SessionDraw),
        const DEFER: bool,
    >(
        &self,
        n: u64,
        rng: &mut R,
        mut f: F,
        mut g: G,
    ) {
        if n == 0 {
            return;
        }
        let mean_gap = MONTH_SECONDS / n as f64;
        let slope = self.slope;
        let rho = self.outcome_correlation;
        let mut t = 0.0;
        let mut draw = session::SessionDraw::default();
        for _ in 0..n {
            let gap: f64 = Exp1.sample(rng);
            t += gap * mean_gap;
            let at = match self.shape {
                Some(s) => s.warp(t),
                None => t,
            };
            let w = match &self.alias {
                Some(a) => a.pick(rng.next_u64()),
                None => 0,
            };
            let wl = &self.workloads[w];
            if let Some(s) = &wl.session {
                session::draw_session(wl, s, w, at, self.distinct[w], slope, rho, rng, &mut draw);
                g(&draw);
                continue;
            }
            // A fixed count of draws for every request: no branch on the
            // workload's kind of distribution here (the workload changes
            // from one request to the next, and such branches were
            // mispredicted), and the numbers stay aligned across kinds.
            let (input_bits, output_bits) = (rng.next_u64(), rng.next_u64());
            // Drawn whatever the kind (a constant's is unused): open, for
            // a Beta's quantile, which runs off to its ends.
            let p = open_unit(rng);
            let u = open_unit(rng);
            let (input_tokens, output_tokens, difficulty, required) = if DEFER {
                (input_bits, output_bits, p, u)
            } else {
                let d = wl.difficulty.quantile(p);
                (
                    wl.prefix_tokens + wl.input.from_bits(input_bits),
                    wl.output.from_bits(output_bits),
                    d,
                    required_capability(d, u, slope),
                )
            };
            let common = rho >= 1.0 || unit(rng) < rho;
            // Drawn whatever the share: 0 gives false, 1 true.
            let batch = unit(rng) < wl.batch_share;
            // Drawn whatever the count: one prefix gives 0.
            let prefix_id = ((rng.next_u32() as u64 * self.distinct[w] as u64) >> 32) as u32;
            let aux = coin_flips(rng);
            let req = Request {
                workload: w as u16,
                task: wl.task,
                modality: wl.modality,
                input_tokens,
                output_tokens,
                prefix_tokens: wl.prefix_tokens,
                prefix_id,
                difficulty,
                required_capability: required,
                common,
                batch,
                service: wl.service,
                time_s: at,
                aux,
                key: rng.next_u64(),
                outcomes: Outcomes::default(),
                noise: f64::NAN,
                session: SessionState::SINGLE,
            };
            f(&req);
        }
    }
}

/// The four coin-flip uniforms of a request or a turn (`Request::aux`)
/// from two draws: one draw gives two 32-bit uniforms, a resolution of
/// 2.3e-10, far finer than any coin flip a policy makes.
#[inline]
pub(crate) fn coin_flips<R: Rng>(rng: &mut R) -> [f64; 4] {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let half = |x: u64| (x as f64 + 0.5) * (1.0 / 4_294_967_296.0);
    [
        half(a >> 32),
        half(a & 0xffff_ffff),
        half(b >> 32),
        half(b & 0xffff_ffff),
    ]
}

/// One request of the fast path's sample, with its weight (a request of
/// the sample counts once; one split into tail strata counts in parts) and
/// the block it belongs to.
///
/// Kept as what varies from one request of the workload to the next (96
/// bytes, against 152 for a whole [`Request`]): a default run draws some
/// 68,000 of them into fresh memory, and each page of it was a page fault.
/// [`SampleRequest::request`] makes the request whole.
#[derive(Debug, Clone, Copy)]
pub struct SampleRequest {
    /// Input tokens, the cacheable prefix included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub difficulty: f64,
    pub required_capability: f64,
    pub aux: [f64; 4],
    pub key: u64,
    /// `Φ⁻¹(aux[3])`, computed when drawn.
    pub noise: f64,
    pub weight: f64,
    pub block: u32,
    pub batch: bool,
}

impl SampleRequest {
    /// The request, of workload `w` (`wl`): the workload's fields with
    /// this one's draws; common outcomes, one prefix, at time 0.
    #[inline(always)]
    pub fn request(&self, w: usize, wl: &WorkloadInst) -> Request {
        Request {
            workload: w as u16,
            task: wl.task,
            modality: wl.modality,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            prefix_tokens: wl.prefix_tokens,
            prefix_id: 0,
            difficulty: self.difficulty,
            required_capability: self.required_capability,
            common: true,
            batch: self.batch,
            service: wl.service,
            time_s: 0.0,
            aux: self.aux,
            key: self.key,
            outcomes: Outcomes::default(),
            noise: self.noise,
            session: SessionState::SINGLE,
        }
    }
}

/// Parts the topmost stratum of tokens or difficulty is split into.
pub const TAIL_SPLIT: usize = 16;

/// A stratified sample of `blocks × block` requests of workload `wl` for
/// the fast path, as `blocks` independent randomisations of a scrambled
/// Sobol point set of `block` points (independent so the spread of their
/// means measures the sample's error honestly; see `sobol`). Each point
/// gives input tokens, output tokens, difficulty, batch eligibility and the
/// four `aux` coin-flip uniforms, each mapped through its inverse CDF.
///
/// Token counts are heavy-tailed: the top stratum of a block (the largest
/// 1/`block` of requests) spans values from a few times the median to the
/// far tail, and one point there carried most of a block's variance
/// (computed: thirty times all other strata together for a lognormal with
/// p90/median 3). The hardest stratum of difficulty likewise spans the
/// range where success falls fastest. So a point in the top stratum of
/// input tokens, output tokens or difficulty is split into [`TAIL_SPLIT`]
/// points, one in each equal part of that stratum (in random order per
/// dimension), each of weight 1/TAIL_SPLIT.
///
/// A request's cost jumps where its tokens cross a model's limit (a
/// request over the context window is refused) or a long-context rate's
/// threshold, and a jump inside a stratum is what a Sobol sample does not
/// smooth: the stratum's one point lands on one side or the other, and
/// alone it carried most of the error of a workload that straddles 200K
/// input tokens (measured: with the jump moved out of the workload's
/// range, a twentieth of the variance). So a point whose input or output
/// stratum (below the top one, already split) holds one of `cuts` is split
/// at each cut into one point per piece, each drawn uniformly in its piece
/// and weighted by the piece's share of the stratum: the stratum's mean
/// is then estimated on each side of the jump, unbiased wherever the cut
/// falls. A workload whose strata hold no cut draws exactly what it drew
/// without them.
///
/// The same `seed` gives the same points whatever the workload's
/// parameters, so a sample moves smoothly as a parameter changes. The
/// outcome uniform is not sampled: the fast path integrates it out (see
/// `sim::fast`).
pub fn stratified_sample(
    wl: &WorkloadInst,
    slope: f64,
    (blocks, block): (usize, usize),
    cuts: &TokenCuts,
    rng: &mut Generator,
) -> Vec<SampleRequest> {
    let top = 1.0 - 1.0 / block as f64;
    // Where each cut falls among the uniforms of input and output tokens.
    let fresh_cuts = cuts
        .input
        .iter()
        .filter_map(|&t| t.checked_sub(wl.prefix_tokens));
    let input_cuts = cut_points(|u| wl.input.quantile(u), fresh_cuts, top);
    let output_cuts = cut_points(|u| wl.output.quantile(u), cuts.output.iter().copied(), top);
    let splits = !(input_cuts.is_empty() && output_cuts.is_empty());
    // A Beta difficulty's table looked up once: the same quantiles.
    let beta = wl.difficulty.beta_table();
    let mut out = Vec::with_capacity(blocks * block + 64);
    for b in 0..blocks {
        for p in sobol::scrambled_points(block, rng) {
            let tail = p[0] >= top || p[1] >= top || p[2] >= top;
            let parts = if tail { TAIL_SPLIT } else { 1 };
            // Within the top stratum: parts in random order per dimension.
            let mut order: [[usize; TAIL_SPLIT]; 3] = [std::array::from_fn(|j| j); 3];
            if tail {
                for o in order.iter_mut() {
                    for i in (1..TAIL_SPLIT).rev() {
                        let j = ((rng.next_u32() as u64 * (i as u64 + 1)) >> 32) as usize;
                        o.swap(i, j);
                    }
                }
            }
            for j in 0..parts {
                let mut split = |u: f64, o: &[usize; TAIL_SPLIT]| {
                    if tail && u >= top {
                        top + (o[j] as f64 + unit(rng)) / (TAIL_SPLIT * block) as f64
                    } else {
                        u
                    }
                };
                let u_input = split(p[1], &order[0]);
                let u_output = split(p[2], &order[1]);
                let u_difficulty = split(p[0], &order[2]);
                let difficulty = match beta {
                    Some(table) => table.quantile(u_difficulty),
                    None => wl.difficulty.quantile(u_difficulty),
                };
                let batch = p[7] < wl.batch_share;
                let aux = [p[3], p[4], p[6], p[5]];
                let required = required_capability(difficulty, 0.5, slope);
                let noise = crate::stats::dist::std_normal_quantile(aux[3]);
                let request = |u_input: f64, u_output: f64, weight: f64, key: u64| SampleRequest {
                    input_tokens: wl.prefix_tokens + wl.input.quantile(u_input),
                    output_tokens: wl.output.quantile(u_output),
                    difficulty,
                    required_capability: required,
                    aux,
                    key,
                    noise,
                    weight: weight / parts as f64,
                    block: b as u32,
                    batch,
                };
                if !splits {
                    out.push(request(u_input, u_output, 1.0, rng.next_u64()));
                    continue;
                }
                let (inputs, n_inputs) = pieces(u_input, &input_cuts, block, rng);
                let (outputs, n_outputs) = pieces(u_output, &output_cuts, block, rng);
                for &(u_input, w_input) in &inputs[..n_inputs] {
                    for &(u_output, w_output) in &outputs[..n_outputs] {
                        let key = rng.next_u64();
                        out.push(request(u_input, u_output, w_input * w_output, key));
                    }
                }
            }
        }
    }
    out
}

/// Token counts at which some model's cost jumps, for
/// [`stratified_sample`]: a request of more than `input[i]` input tokens
/// (its prefix included), or more than `output[i]` output tokens, is
/// refused or billed at other rates than one of exactly that many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCuts {
    pub input: Vec<u64>,
    pub output: Vec<u64>,
}

/// The uniforms below `top` at which `quantile` (non-decreasing) first
/// exceeds each of `counts`, sorted, each found by bisection to the
/// precision of an `f64` (a cut found a little off still splits its
/// stratum without bias: only the variance it removes depends on where it
/// falls).
fn cut_points(
    quantile: impl Fn(f64) -> u64,
    counts: impl Iterator<Item = u64>,
    top: f64,
) -> Vec<f64> {
    let mut points: Vec<f64> = counts
        .filter(|&t| quantile(0.0) <= t && quantile(top) > t)
        .map(|t| {
            // quantile(lo) <= t < quantile(hi) throughout.
            let (mut lo, mut hi) = (0.0_f64, top);
            loop {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    return hi;
                }
                if quantile(mid) > t {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
        })
        .collect();
    points.sort_by(f64::total_cmp);
    points.dedup();
    points
}

/// Most pieces a stratum is split into by [`pieces`]: cuts beyond the
/// first three in one stratum (two models' limits a few tokens apart) are
/// not split at (any split is unbiased; each only lowers the variance).
const MAX_PIECES: usize = 4;

/// `u` and weight 1 if its stratum (of `1/block`) holds none of `cuts`,
/// else one uniform draw in each piece the cuts make of the stratum,
/// weighted by the piece's share of it (the last weight is 1 minus the
/// others', so they sum to 1 exactly). Returns the pieces and how many.
#[inline(never)]
fn pieces(
    u: f64,
    cuts: &[f64],
    block: usize,
    rng: &mut Generator,
) -> ([(f64, f64); MAX_PIECES], usize) {
    let mut out = [(u, 1.0); MAX_PIECES];
    if cuts.is_empty() {
        return (out, 1);
    }
    let n = block as f64;
    // The stratum's index (u >= 0: truncation is the floor, without libm).
    let k = (u * n) as u64 as f64;
    let (lo, hi) = (k / n, (k + 1.0) / n);
    let mut edges = [lo; MAX_PIECES + 1];
    let mut count = 1;
    for &c in cuts.iter().filter(|&&c| lo < c && c < hi) {
        if count == MAX_PIECES {
            break;
        }
        edges[count] = c;
        count += 1;
    }
    if count == 1 {
        return (out, 1);
    }
    edges[count] = hi;
    let mut left = 1.0;
    for (i, piece) in out[..count].iter_mut().enumerate() {
        let (a, b) = (edges[i], edges[i + 1]);
        let weight = if i + 1 == count { left } else { (b - a) * n };
        left -= weight;
        *piece = ((a + unit(rng) * (b - a)).min(b), weight);
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Stream;

    fn generator() -> Generator {
        Stream::Sample { workload: 0 }.generator(3)
    }

    #[test]
    fn a_stratum_without_a_cut_keeps_its_point_and_draws_nothing() {
        let mut rng = generator();
        let mut same = rng.clone();
        // Stratum [0.25, 0.5) of 4: the cuts are outside it or on its edges.
        let (pieces, n) = pieces(0.3, &[0.1, 0.25, 0.5, 0.9], 4, &mut rng);
        assert_eq!((n, pieces[0]), (1, (0.3, 1.0)));
        assert_eq!(rng.next_u64(), same.next_u64());
    }

    #[test]
    fn a_stratum_cut_twice_is_drawn_in_three_pieces_weighted_by_length() {
        let mut rng = generator();
        // Stratum [0.5, 0.75) of 4, cut at 0.55 and 0.7.
        let (pieces, n) = pieces(0.6, &[0.2, 0.55, 0.7], 4, &mut rng);
        assert_eq!(n, 3);
        let edges = [0.5, 0.55, 0.7, 0.75];
        let weights = [0.2, 0.6, 0.2];
        for (i, &(u, w)) in pieces[..3].iter().enumerate() {
            assert!(edges[i] <= u && u < edges[i + 1], "piece {i}: {u}");
            assert!((w - weights[i]).abs() < 1e-12, "piece {i}: {w}");
        }
        assert_eq!(pieces[..3].iter().map(|p| p.1).sum::<f64>(), 1.0);
    }

    #[test]
    fn a_cut_is_the_first_uniform_whose_count_exceeds_it() {
        // Counts 0, 1, ..., 99 on [0, 1): count(u) = floor(100 u).
        let count = |u: f64| (u * 100.0).floor() as u64;
        let points = cut_points(count, [41, 7, 41, 500].into_iter(), 0.99);
        // 41 twice is one cut; 500 is never exceeded below the top stratum.
        assert_eq!(points.len(), 2);
        for (&c, t) in points.iter().zip([7u64, 41]) {
            assert!(count(c) > t && count(c.next_down()) <= t, "{c}");
            assert!((c - (t + 1) as f64 / 100.0).abs() < 1e-15, "{c}");
        }
    }
}
