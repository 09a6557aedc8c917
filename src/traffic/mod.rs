//! Traffic: the one place randomness is drawn.
//!
//! A month of `n` requests is a Poisson arrival process conditioned on its
//! count: requests arrive one after another with exponential gaps at rate
//! `n / month`, each picking its workload by share (alias table), its tokens,
//! difficulty, outcome uniform, batch eligibility, cache prefix and a key for
//! policy-level coin flips. Requests come out in time order, so the engine
//! can keep per-prefix cache state and see hits arise from traffic.
//!
//! Each (replication, month) owns a generator seeded from the scenario seed
//! and its coordinates (`random::Stream`), so results do not depend on how
//! work is spread over threads.

pub mod request;

pub use request::Request;

use rand::Rng;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;

use crate::calendar::MONTH_SECONDS;
use crate::catalog::pricing::Ttl;
use crate::catalog::{Modality, TaskKind};
use crate::quality::required_capability;
use crate::random::Generator;
use crate::stats::dist::{DifficultyDist, TokenDist};
use crate::stats::dist::{open_unit, unit};

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
}

/// A generator of one replication's traffic.
pub struct Traffic<'a> {
    workloads: &'a [WorkloadInst],
    slope: f64,
    outcome_correlation: f64,
    alias: Option<WeightedAliasIndex<f64>>,
    distinct: Vec<u32>,
}

impl<'a> Traffic<'a> {
    /// Traffic of `workloads` under the quality model's logistic `slope`,
    /// with `outcome_correlation` the share of requests whose outcomes
    /// follow one shared draw for every model.
    pub fn new(workloads: &'a [WorkloadInst], slope: f64, outcome_correlation: f64) -> Traffic<'a> {
        let alias = if workloads.len() > 1 {
            WeightedAliasIndex::new(workloads.iter().map(|w| w.share).collect()).ok()
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
        }
    }

    /// Generates `n` requests of one month in arrival order.
    #[inline]
    pub fn month<R: Rng, F: FnMut(&Request)>(&self, n: u64, rng: &mut R, mut f: F) {
        if n == 0 {
            return;
        }
        let mean_gap = MONTH_SECONDS / n as f64;
        let slope = self.slope;
        let rho = self.outcome_correlation;
        let mut t = 0.0;
        for _ in 0..n {
            t += -open_unit(rng).ln() * mean_gap;
            let w = match &self.alias {
                Some(a) => a.sample(rng),
                None => 0,
            };
            let wl = &self.workloads[w];
            let fresh = wl.input.sample(rng);
            let output_tokens = wl.output.sample(rng);
            let difficulty = wl.difficulty.sample(rng);
            let u = open_unit(rng);
            let common = rho >= 1.0 || unit(rng) < rho;
            let batch = wl.batch_share > 0.0 && unit(rng) < wl.batch_share;
            let distinct = self.distinct[w];
            let prefix_id = if distinct > 1 {
                ((rng.next_u32() as u64 * distinct as u64) >> 32) as u32
            } else {
                0
            };
            // One draw gives two 32-bit uniforms: resolution 2.3e-10 is far
            // finer than any coin flip a policy makes.
            let (a, b) = (rng.next_u64(), rng.next_u64());
            let half = |x: u64| (x as f64 + 0.5) * (1.0 / 4_294_967_296.0);
            let aux = [
                half(a >> 32),
                half(a & 0xffff_ffff),
                half(b >> 32),
                half(b & 0xffff_ffff),
            ];
            let req = Request {
                workload: w as u16,
                task: wl.task,
                modality: wl.modality,
                input_tokens: wl.prefix_tokens + fresh,
                output_tokens,
                prefix_tokens: wl.prefix_tokens,
                prefix_id,
                difficulty,
                required_capability: required_capability(difficulty, u, slope),
                common,
                batch,
                time_s: t,
                aux,
                key: rng.next_u64(),
            };
            f(&req);
        }
    }
}

/// A stratified sample of `blocks × block` requests of workload `w` for
/// the fast path, as `blocks` independent Latin hypercubes of `block`
/// requests each (independent so the spread of their means measures the
/// sample's error honestly). Each hypercube covers input tokens, output
/// tokens, difficulty, batch eligibility and the four `aux` coin-flip
/// uniforms: each dimension cut into `block` equal-probability strata, one
/// request per stratum, strata paired at random, each value mapped through
/// its inverse CDF. The same `seed` gives the same strata and pairing
/// whatever the workload's parameters, so a sample moves smoothly as a
/// parameter changes. The outcome uniform is not sampled: the fast path
/// integrates it out (see `engine::fast`).
pub fn stratified_sample(
    wl: &WorkloadInst,
    w: usize,
    slope: f64,
    blocks: usize,
    block: usize,
    rng: &mut Generator,
) -> Vec<Request> {
    let kf = block as f64;
    let mut out = Vec::with_capacity(blocks * block);
    for _ in 0..blocks {
        let mut perms: [Vec<u32>; 8] = Default::default();
        for p in perms.iter_mut() {
            *p = (0..block as u32).collect();
            // Fisher–Yates.
            for i in (1..block).rev() {
                let j = ((rng.next_u32() as u64 * (i as u64 + 1)) >> 32) as usize;
                p.swap(i, j);
            }
        }
        let strata: Vec<[u32; 8]> = (0..block)
            .map(|i| std::array::from_fn(|d| perms[d][i]))
            .collect();
        for st in strata {
            let mut q = |d: usize| (st[d] as f64 + open_unit(rng)) / kf;
            let fresh = wl.input.quantile(q(0));
            let output_tokens = wl.output.quantile(q(1));
            let difficulty = wl.difficulty.quantile(q(2));
            let batch = q(3) < wl.batch_share;
            let aux = [q(4), q(5), q(6), q(7)];
            out.push(Request {
                workload: w as u16,
                task: wl.task,
                modality: wl.modality,
                input_tokens: wl.prefix_tokens + fresh,
                output_tokens,
                prefix_tokens: wl.prefix_tokens,
                prefix_id: 0,
                difficulty,
                required_capability: required_capability(difficulty, 0.5, slope),
                common: true,
                batch,
                time_s: 0.0,
                aux,
                key: rng.next_u64(),
            });
        }
    }
    out
}
