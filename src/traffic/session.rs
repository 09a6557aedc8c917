//! Sessions: a conversation or an agent loop, drawn turn by turn.
//!
//! A session workload's unit is a session. Its number of turns and its
//! difficulty are drawn once; each turn then draws what it appends (user
//! message or tool result), its answer's length, the time until the next
//! turn, its own difficulty (the session's, spread on the log-odds scale by
//! `turn_difficulty_spread`), its outcome uniform and coin flips. What a
//! turn re-sends (the fixed prefix and the conversation so far) and when
//! compaction happens follow from these draws alone, never from routing:
//! the history grows by each turn's message and answer whichever model
//! answers, so every policy sees the same turns (common random numbers).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::WorkloadInst;
use crate::quality::required_capability;
use crate::random::Generator;
use crate::stats::dist::{TokenDist, open_unit, unit};

/// What makes a session a success.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionSuccess {
    /// Every turn's answer acceptable.
    EveryTurn,
    /// Every turn at least this difficult answered acceptably.
    HardSteps { min_difficulty: f64 },
}

impl SessionSuccess {
    /// Whether a turn of difficulty `d` must succeed for its session to.
    #[inline]
    pub fn counts(&self, d: f64) -> bool {
        match *self {
            SessionSuccess::EveryTurn => true,
            SessionSuccess::HardSteps { min_difficulty } => d >= min_difficulty,
        }
    }
}

/// Context compaction, one replication's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactionInst {
    pub threshold: u64,
    pub model: usize,
    pub summary: u64,
}

/// A session workload's distributions, one replication's numbers.
#[derive(Debug, Clone)]
pub struct SessionInst {
    pub turns: TokenDist,
    pub gap_s: TokenDist,
    /// Log-odds standard deviation of a turn's difficulty around its session's.
    pub spread: f64,
    pub success: SessionSuccess,
    pub compaction: Option<CompactionInst>,
}

/// Most turns one session may have (a sampled count above it is capped,
/// a fixed one above it refused): keeps one session's work bounded.
pub const MAX_TURNS: u64 = 1_000;

/// One turn as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnDraw {
    /// Tokens the turn appends to the conversation.
    pub appended: u64,
    pub output: u64,
    /// Seconds from the session's start.
    pub at_s: f64,
    pub difficulty: f64,
    pub required_capability: f64,
    pub common: bool,
    pub aux: [f64; 4],
    pub key: u64,
}

/// One session as drawn; `turns` is reused from session to session.
#[derive(Debug, Clone, Default)]
pub struct SessionDraw {
    pub workload: u16,
    pub prefix_id: u32,
    /// Seconds from the start of the month.
    pub start_s: f64,
    pub turns: Vec<TurnDraw>,
}

/// Uniforms of one turn's per-turn draws that may be stratified across
/// sessions: appended tokens, output tokens, gap, difficulty spread, the
/// outcome, and the four coin flips (`TurnDraw::aux`).
pub type TurnUniforms = [f64; STRATIFIED];

/// Per-turn draws the fast sample stratifies.
pub const STRATIFIED: usize = 9;

/// Fewest sessions alive at a turn position for its uniforms to be
/// stratified among them (`SessionSampler::block`). A Latin hypercube of
/// `n` points can have up to `n / (n − 1)` times the variance of
/// independent draws for what does not add up over them (Owen, 1997), and
/// a session's success, a product over its turns, does not: stratified
/// down to the last one or two sessions, coding-assistant's reported
/// quality error was 6% larger (mean over 48 seeds) than with the whole
/// block's strata; from 8 sessions up it was 0.3% smaller, its cost error
/// 6% smaller (96 seeds; dev-team-agent 0.5% and 9%, support-chat 1.8%
/// and 16%, 32 seeds).
const MIN_STRATIFIED: usize = 8;

/// Draws a session's turns into `out.turns`: `n` turns of a session of
/// difficulty `difficulty`, every per-turn number from `rng`, except those
/// `stratified(k)` gives for turn `k` (the fast path's sample).
#[allow(clippy::too_many_arguments)]
pub fn draw_turns<R: Rng>(
    wl: &WorkloadInst,
    s: &SessionInst,
    n: u64,
    difficulty: f64,
    slope: f64,
    outcome_correlation: f64,
    rng: &mut R,
    out: &mut SessionDraw,
    mut stratified: impl FnMut(usize) -> Option<TurnUniforms>,
) {
    out.turns.clear();
    let n = n.clamp(1, MAX_TURNS);
    let logit = {
        let d = difficulty.clamp(1e-9, 1.0 - 1e-9);
        (d / (1.0 - d)).ln()
    };
    let mut at = 0.0;
    for k in 0..n as usize {
        let u = stratified(k);
        if k > 0 {
            at += match u {
                Some(u) => s.gap_s.quantile(u[2]),
                None => s.gap_s.sample(rng),
            } as f64;
        }
        let (appended, output) = match u {
            Some(u) => (wl.input.quantile(u[0]), wl.output.quantile(u[1])),
            None => (wl.input.sample(rng), wl.output.sample(rng)),
        };
        let d = if s.spread > 0.0 {
            let z: f64 = match u {
                Some(u) => crate::stats::dist::std_normal_quantile(u[3]),
                None => StandardNormal.sample(rng),
            };
            1.0 / (1.0 + (-(logit + s.spread * z)).exp())
        } else {
            difficulty
        };
        let (outcome, common, aux) = match u {
            None => {
                let outcome = open_unit(rng);
                let common = outcome_correlation >= 1.0 || unit(rng) < outcome_correlation;
                (outcome, common, super::coin_flips(rng))
            }
            Some(u) => {
                let common = outcome_correlation >= 1.0 || unit(rng) < outcome_correlation;
                (u[4], common, [u[5], u[6], u[7], u[8]])
            }
        };
        out.turns.push(TurnDraw {
            appended,
            output,
            at_s: at,
            difficulty: d,
            required_capability: required_capability(d, outcome, slope),
            common,
            aux,
            key: rng.next_u64(),
        });
    }
}

/// Draws a whole session of workload `w` starting at `start_s`.
#[allow(clippy::too_many_arguments)]
pub fn draw_session<R: Rng>(
    wl: &WorkloadInst,
    s: &SessionInst,
    w: usize,
    start_s: f64,
    distinct: u32,
    slope: f64,
    outcome_correlation: f64,
    rng: &mut R,
    out: &mut SessionDraw,
) {
    out.workload = w as u16;
    out.start_s = start_s;
    let n = s.turns.sample(rng);
    let difficulty = wl.difficulty.sample(rng);
    out.prefix_id = if distinct > 1 {
        ((rng.next_u32() as u64 * distinct as u64) >> 32) as u32
    } else {
        0
    };
    draw_turns(
        wl,
        s,
        n,
        difficulty,
        slope,
        outcome_correlation,
        rng,
        out,
        |_| None,
    );
}

/// A session of the fast path's sample, with its weight (1, or a part of
/// a split tail point) and its block.
#[derive(Debug, Clone)]
pub struct SampleSession {
    pub draw: SessionDraw,
    pub weight: f64,
    pub block: usize,
}

/// The fast path's sample of `blocks × block` sessions of workload `w`.
///
/// Per block, a scrambled Sobol point set stratifies what varies most from
/// session to session (the number of turns and the session's difficulty).
/// A session's cost is close to a sum over its turns (what each turn
/// appends is re-read by every later one), so the per-turn draws are
/// stratified too: across the `n` sessions of the block that reach turn
/// `k`, its appended tokens, output tokens, gap, difficulty spread,
/// outcome and coin flips (a policy's first-turn choice decides much of an
/// affinity-routed session's cost) each take one value from every 1/`n`
/// of their distribution, in an independent random order per turn
/// position (a Latin hypercube per turn position, from
/// `MIN_STRATIFIED` sessions up; `stratify_turns`). Prefix ids are not: the fast path
/// resolves cross-session prefix hits in closed form.
#[allow(clippy::too_many_arguments)]
pub fn session_sample(
    wl: &WorkloadInst,
    s: &SessionInst,
    w: usize,
    slope: f64,
    outcome_correlation: f64,
    blocks: usize,
    block: usize,
    rng: &mut Generator,
) -> Vec<SampleSession> {
    let mut sampler = SessionSampler::new(wl, s, w, slope, outcome_correlation, block);
    let mut out = Vec::with_capacity(blocks * block);
    for b in 0..blocks {
        sampler.block(b, rng, &mut out);
    }
    out
}

/// [`session_sample`] one block at a time: the same draws in the same
/// order, so a caller can route the blocks drawn so far while it draws
/// the next (the fast path does). The generator runs on from block to
/// block, never reset; the sampler keeps only the strata's buffer.
pub struct SessionSampler<'a> {
    wl: &'a WorkloadInst,
    s: &'a SessionInst,
    w: usize,
    slope: f64,
    outcome_correlation: f64,
    block: usize,
    strata: Vec<TurnUniforms>,
}

impl<'a> SessionSampler<'a> {
    pub fn new(
        wl: &'a WorkloadInst,
        s: &'a SessionInst,
        w: usize,
        slope: f64,
        outcome_correlation: f64,
        block: usize,
    ) -> SessionSampler<'a> {
        SessionSampler {
            wl,
            s,
            w,
            slope,
            outcome_correlation,
            block,
            strata: Vec::new(),
        }
    }

    /// Draws block `b`'s sessions onto `out`.
    pub fn block(&mut self, b: usize, rng: &mut Generator, out: &mut Vec<SampleSession>) {
        let (wl, s, w, block) = (self.wl, self.s, self.w, self.block);
        let (slope, outcome_correlation) = (self.slope, self.outcome_correlation);
        let strata = &mut self.strata;
        let points = super::sobol::scrambled_points(block, rng);
        let turns: Vec<u64> = points
            .iter()
            .map(|p| s.turns.quantile(p[0]).clamp(1, MAX_TURNS))
            .collect();
        stratify_turns(&turns, rng, strata);
        // The first turn's difficulty spread, outcome and coin flips take
        // the Sobol point's remaining dimensions: stratified jointly with
        // the number of turns, since a first-turn choice that holds for the
        // session (affinity) costs in proportion to its length.
        for (u, p) in strata.iter_mut().zip(&points) {
            u[3] = p[2];
            u[4] = p[3];
            u[5..STRATIFIED].copy_from_slice(&p[4..8]);
        }
        let top = 1.0 - 1.0 / block as f64;
        for (i, p) in points.iter().enumerate() {
            let difficulty = wl.difficulty.quantile(p[1]);
            // The longest sessions' stratum spans the far tail, where cost
            // grows with the square of the turns: it is split like the
            // token tails of single requests (`super::TAIL_SPLIT`).
            let split = p[0] >= top;
            let parts = if split { super::TAIL_SPLIT } else { 1 };
            for j in 0..parts {
                let n = if split {
                    let u = top + (j as f64 + open_unit(rng)) / (parts * block) as f64;
                    s.turns.quantile(u).clamp(1, MAX_TURNS)
                } else {
                    turns[i]
                };
                let mut draw = SessionDraw {
                    workload: w as u16,
                    ..SessionDraw::default()
                };
                draw_turns(
                    wl,
                    s,
                    n,
                    difficulty,
                    slope,
                    outcome_correlation,
                    rng,
                    &mut draw,
                    // A turn past the session's own count (a split
                    // session drawn longer) draws afresh.
                    |k| (k < turns[i] as usize).then(|| strata[k * block + i]),
                );
                out.push(SampleSession {
                    draw,
                    weight: 1.0 / parts as f64,
                    block: b,
                });
            }
        }
    }
}

/// Fills `strata` with the per-turn uniforms of a block of sessions with
/// these turn counts: `strata[k * block + i]` holds session `i`'s for
/// turn `k`, for the sessions that reach turn `k` (the others' cells are
/// left at 0 and never read). Each turn position's uniforms are
/// stratified over the sessions alive at that turn alone, a Latin
/// hypercube of them, while there are at least [`MIN_STRATIFIED`];
/// fewer draw independent uniforms. The first turn's dimensions from the
/// difficulty spread on are left to the block's Sobol points.
///
/// Until 2026-12-05 every position was stratified over the whole block:
/// as many rows of the block's size as the longest session has turns,
/// four to six times the turns sampled (coding-assistant 5.4, worked out
/// from its turn distribution), the live turns of a late position taking
/// a random subset of its strata.
// `d` indexes a dimension of every live session's cell, not one slice.
#[allow(clippy::needless_range_loop)]
fn stratify_turns(turns: &[u64], rng: &mut Generator, strata: &mut Vec<TurnUniforms>) {
    let block = turns.len();
    let longest = turns.iter().copied().max().unwrap_or(1) as usize;
    // The sessions longest first (ties in index order): those that reach
    // turn k are the first `alive` of them.
    let mut by_length: Vec<usize> = (0..block).collect();
    by_length.sort_by(|&a, &b| turns[b].cmp(&turns[a]).then(a.cmp(&b)));
    let mut order = vec![0; block];
    strata.clear();
    strata.resize(longest * block, [0.0; STRATIFIED]);
    let mut alive = block;
    for (k, row) in strata.chunks_mut(block.max(1)).enumerate() {
        while alive > 0 && turns[by_length[alive - 1]] as usize <= k {
            alive -= 1;
        }
        let dims = if k == 0 { 3 } else { STRATIFIED };
        for d in 0..dims {
            if alive < MIN_STRATIFIED {
                for &i in &by_length[..alive] {
                    row[i][d] = open_unit(rng);
                }
                continue;
            }
            for (i, o) in order[..alive].iter_mut().enumerate() {
                *o = i;
            }
            for i in (1..alive).rev() {
                let j = ((rng.next_u32() as u64 * (i as u64 + 1)) >> 32) as usize;
                order.swap(i, j);
            }
            for (&i, &o) in by_length[..alive].iter().zip(order.iter()) {
                row[i][d] = (o as f64 + open_unit(rng)) / alive as f64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Stream;

    /// Each turn position's uniforms are a Latin hypercube of the sessions
    /// that reach it while at least `MIN_STRATIFIED` do (one in each
    /// 1/alive stratum, per dimension), independent uniforms in (0, 1)
    /// for fewer, and nothing for the sessions that have ended; the first
    /// turn's dimensions from the spread on are left to the Sobol points.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn each_turn_is_stratified_over_the_sessions_that_reach_it() {
        // 64 sessions of 1 to 40 turns, several ending at each length.
        let turns: Vec<u64> = (0..64u64).map(|i| 1 + (i * 37 % 64) * 40 / 64).collect();
        let mut rng = Stream::Sample { workload: 0 }.generator(7);
        let mut strata = Vec::new();
        stratify_turns(&turns, &mut rng, &mut strata);
        let longest = *turns.iter().max().unwrap() as usize;
        assert_eq!(longest, 40);
        assert_eq!(strata.len(), longest * 64);
        let (mut stratified, mut independent) = (0, 0);
        for k in 0..longest {
            let alive: Vec<usize> = (0..64).filter(|&i| turns[i] as usize > k).collect();
            for d in 0..STRATIFIED {
                let cell = |i: usize| strata[k * 64 + i][d];
                for i in (0..64).filter(|i| !alive.contains(i)) {
                    assert_eq!(cell(i), 0.0, "turn {k}, dim {d}, session {i} has ended");
                }
                if k == 0 && d >= 3 {
                    assert!(alive.iter().all(|&i| cell(i) == 0.0));
                    continue;
                }
                assert!(alive.iter().all(|&i| cell(i) > 0.0 && cell(i) < 1.0));
                if alive.len() >= MIN_STRATIFIED {
                    let n = alive.len() as f64;
                    let mut strata_hit: Vec<usize> =
                        alive.iter().map(|&i| (cell(i) * n) as usize).collect();
                    strata_hit.sort_unstable();
                    assert_eq!(
                        strata_hit,
                        (0..alive.len()).collect::<Vec<_>>(),
                        "turn {k}, dim {d}"
                    );
                    stratified += 1;
                } else if !alive.is_empty() {
                    independent += 1;
                }
            }
        }
        // Positions of both kinds were met.
        assert!(
            stratified > 100 && independent > 20,
            "{stratified} {independent}"
        );
    }
}
