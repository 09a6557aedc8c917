//! One simulated request, with every random draw a policy may need already
//! made (common random numbers: ARCHITECTURE.md, "Invariants").
//!
//! `traffic` draws the request; policies, pricing and the ledger only read
//! it. Besides tokens and difficulty, a request carries:
//! - `required_capability`: the capability a model needs to answer it
//!   acceptably. With difficulty `d`, the request's uniform draw `u` and the
//!   logistic slope `s`, model `m` succeeds iff `u < σ((c_m − d)/s)`, which is
//!   the same as `c_m > d + s·logit(u)`. Computing the right-hand side once
//!   makes every success check one comparison, and a stronger model succeeds
//!   wherever a weaker one does.
//! - `key`: a 64-bit seed from which policies derive further independent
//!   uniforms (`uniform(stream)`) for gate coin flips, split choices and
//!   classifier noise. Deriving them by a fixed mixing function keeps the
//!   randomness drawn in one place while letting each policy use as many
//!   streams as it needs; the same stream gives the same draw to every
//!   policy, so policies are compared on the same coin flips.

use crate::catalog::pricing::ServiceTier;
use crate::catalog::{Modality, TaskKind};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Index of the workload in the scenario.
    pub workload: u16,
    pub task: TaskKind,
    pub modality: Modality,
    /// Total input tokens, the cacheable prefix included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Cacheable prefix tokens (0 if the workload does not cache).
    pub prefix_tokens: u64,
    /// Which of the workload's distinct prefixes this request carries.
    pub prefix_id: u32,
    /// Difficulty in [0, 1].
    pub difficulty: f64,
    /// Capability needed to succeed: `d + s·logit(u)`.
    pub required_capability: f64,
    /// Whether every model's outcome follows the shared draw `u` (always,
    /// unless the scenario's `outcome_correlation` is below 1; otherwise
    /// each model draws its own, see `Context::succeeds`).
    pub common: bool,
    /// Eligible for batch inference.
    pub batch: bool,
    /// The service tier the request's calls ask for, unless a policy step
    /// names its own (see `ModelId::service`).
    pub service: ServiceTier,
    /// Arrival time in seconds from the start of the month.
    pub time_s: f64,
    /// Uniforms for the coin flips built-in policies make most (the first
    /// two cascade gates, the split choice, the classifier's noise): drawn
    /// with the request, and stratified in the fast path's sample.
    pub aux: [f64; 4],
    /// Seed for further derived uniforms.
    pub key: u64,
    /// Outcomes fixed in advance for a request whose outcomes are not
    /// common (the fast path enumerates them instead of drawing; see
    /// `Context::succeeds`). Empty in exact mode.
    pub outcomes: Outcomes,
    /// The classifier's standard normal draw, `Φ⁻¹(aux[3])`, when computed
    /// in advance (the fast path routes each sample request several
    /// times); NaN to compute it on use.
    pub noise: f64,
    /// Where this call stands in its session (all zero for a single request).
    pub session: SessionState,
}

/// What a policy may know about the session a turn belongs to. For a turn,
/// `Request::input_tokens` is the whole input it sends: the fixed prefix,
/// the conversation so far and what the turn appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionState {
    /// Turn index from 0; 0 for a single request too.
    pub turn: u32,
    /// Turns in the session (1 for a single request).
    pub turns: u32,
    /// Tokens of context before this turn's message: the prefix and the
    /// history (0 on a first turn).
    pub context_tokens: u64,
    /// The model that answered the previous turn, if any.
    pub previous_model: Option<crate::catalog::ModelId>,
    /// A gate rejected an answer on an earlier turn of the session.
    pub gate_failed: bool,
}

impl SessionState {
    /// The state of a single request: a one-turn session.
    pub const SINGLE: SessionState = SessionState {
        turn: 0,
        turns: 1,
        context_tokens: 0,
        previous_model: None,
        gate_failed: false,
    };
}

/// Per-model outcomes fixed for a request whose outcomes are not common:
/// bit `m` of `known` says model `m`'s outcome is given, bit `m` of
/// `success` what it is. Models from index 64 on are always drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    pub known: u64,
    pub success: u64,
}

/// Streams of derived uniforms used by the built-in policies. A custom
/// policy should use streams from [`Stream::CUSTOM`] upward.
pub struct Stream;

impl Stream {
    /// Gate after cascade step `i` uses `GATE + i`.
    pub const GATE: u32 = 0;
    pub const SPLIT: u32 = 64;
    pub const CLASSIFIER_NOISE: u32 = 65;
    /// Second uniform of Box–Muller draws on hash-derived streams uses `stream + 1`.
    pub const PINNED_CACHE: u32 = 67;
    pub const CUSTOM: u32 = 1024;
    /// Simulated throttling: one stream per model, from here.
    pub const THROTTLE: u32 = 1 << 19;
    /// Model `m`'s own outcome draw uses `OUTCOME + m` (when outcomes are not common).
    pub const OUTCOME: u32 = 1 << 20;
}

impl Request {
    /// An independent uniform in (0, 1) for `stream`: one of the request's
    /// pre-drawn `aux` uniforms for the built-in policies' main streams,
    /// otherwise derived from the request's key.
    #[inline]
    pub fn uniform(&self, stream: u32) -> f64 {
        match stream {
            Stream::GATE => return self.aux[0],
            s if s == Stream::GATE + 1 => return self.aux[1],
            Stream::SPLIT => return self.aux[2],
            Stream::CLASSIFIER_NOISE => return self.aux[3],
            _ => {}
        }
        crate::random::derived_uniform(self.key, stream)
    }

    /// An independent standard normal for `stream`: the inverse normal CDF
    /// of the classifier's pre-drawn uniform, or Box–Muller on two derived
    /// uniforms for other streams.
    #[inline]
    pub fn normal(&self, stream: u32) -> f64 {
        if stream == Stream::CLASSIFIER_NOISE {
            if !self.noise.is_nan() {
                return self.noise;
            }
            return crate::stats::dist::std_normal_quantile(self.aux[3]);
        }
        let u1 = self.uniform(stream).max(f64::MIN_POSITIVE);
        let u2 = self.uniform(stream.wrapping_add(1));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Input tokens that are not the cached prefix.
    pub fn fresh_input_tokens(&self) -> u64 {
        self.input_tokens - self.prefix_tokens.min(self.input_tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::mix64;

    fn req(key: u64) -> Request {
        Request {
            workload: 0,
            task: TaskKind::Writing,
            modality: Modality::Text,
            input_tokens: 10,
            output_tokens: 1,
            prefix_tokens: 0,
            prefix_id: 0,
            difficulty: 0.5,
            required_capability: 0.5,
            common: true,
            batch: false,
            service: ServiceTier::Standard,
            time_s: 0.0,
            aux: [0.5; 4],
            key,
            outcomes: Outcomes::default(),
            noise: f64::NAN,
            session: SessionState::SINGLE,
        }
    }

    #[test]
    fn derived_uniforms_are_uniform_and_independent() {
        // Mean 1/2 and variance 1/12 over 200k keys; the two streams are
        // uncorrelated. Tolerances are 5 standard errors.
        let n = 200_000;
        let (mut s0, mut s00, mut s1, mut s01) = (0.0, 0.0, 0.0, 0.0);
        for k in 0..n {
            let r = req(mix64(k));
            let a = r.uniform(Stream::CUSTOM);
            let b = r.uniform(Stream::CUSTOM + 1);
            assert!((0.0..1.0).contains(&a));
            s0 += a;
            s00 += a * a;
            s1 += b;
            s01 += (a - 0.5) * (b - 0.5);
        }
        let nf = n as f64;
        let se_mean = (1.0 / 12.0 / nf).sqrt();
        assert!((s0 / nf - 0.5).abs() < 5.0 * se_mean);
        assert!((s1 / nf - 0.5).abs() < 5.0 * se_mean);
        assert!((s00 / nf - 1.0 / 3.0).abs() < 0.002);
        // Cov of independent U(0,1): 0, with se sqrt(1/144/n).
        assert!((s01 / nf).abs() < 5.0 * (1.0 / 144.0 / nf).sqrt());
    }

    #[test]
    fn derived_normals_have_unit_variance() {
        let n = 200_000;
        let (mut s, mut ss) = (0.0, 0.0);
        for k in 0..n {
            let z = req(mix64(k ^ 0xabcdef)).normal(Stream::CUSTOM);
            s += z;
            ss += z * z;
        }
        let nf = n as f64;
        assert!((s / nf).abs() < 5.0 / nf.sqrt());
        // Var of the sample variance of N(0,1) is 2/n.
        assert!((ss / nf - 1.0).abs() < 5.0 * (2.0 / nf).sqrt());
    }
}
