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
//! and its coordinates ([`stream_seed`]), so results do not depend on how
//! work is spread over threads.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;

use crate::dist::{open_unit, unit};
use crate::quality::required_capability;
use crate::request::{Request, mix64};
use crate::scenario::MONTH_SECONDS;
use crate::scenario::instance::{CacheInst, Instance};

/// Seed of the generator for one (replication, month) work item.
pub fn stream_seed(seed: u64, replication: u64, month: u64, purpose: u64) -> u64 {
    mix64(
        mix64(mix64(seed ^ 0x7265_7175_6573_7473) ^ replication)
            ^ month.wrapping_mul(0x1000_0001)
            ^ purpose,
    )
}

/// A generator for one instance's traffic.
pub struct Traffic<'a> {
    inst: &'a Instance,
    alias: Option<WeightedAliasIndex<f64>>,
    distinct: Vec<u32>,
}

impl<'a> Traffic<'a> {
    pub fn new(inst: &'a Instance) -> Traffic<'a> {
        let alias = if inst.workloads.len() > 1 {
            WeightedAliasIndex::new(inst.workloads.iter().map(|w| w.share).collect()).ok()
        } else {
            None
        };
        let distinct = inst
            .workloads
            .iter()
            .map(|w| match w.cache {
                CacheInst::Traffic { distinct, .. } => distinct,
                _ => 1,
            })
            .collect();
        Traffic {
            inst,
            alias,
            distinct,
        }
    }

    pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// Generates `n` requests of one month in arrival order.
    #[inline]
    pub fn month<R: Rng, F: FnMut(&Request)>(&self, n: u64, rng: &mut R, mut f: F) {
        if n == 0 {
            return;
        }
        let mean_gap = MONTH_SECONDS / n as f64;
        let slope = self.inst.slope;
        let rho = self.inst.outcome_correlation;
        let mut t = 0.0;
        for _ in 0..n {
            t += -open_unit(rng).ln() * mean_gap;
            let w = match &self.alias {
                Some(a) => a.sample(rng),
                None => 0,
            };
            let wl = &self.inst.workloads[w];
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
    inst: &Instance,
    w: usize,
    blocks: usize,
    block: usize,
    seed: u64,
) -> Vec<Request> {
    let mut rng = Traffic::rng(seed);
    let wl = &inst.workloads[w];
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
            let mut q = |d: usize| (st[d] as f64 + open_unit(&mut rng)) / kf;
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
                required_capability: required_capability(difficulty, 0.5, inst.slope),
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
