//! Projection: the engine's ledgers turned into the figures people read —
//! per policy and month: cost (total, by model, workload and component),
//! quality, quality loss against the baseline, escalation, cache hits,
//! batch share, latency, cost per 1K requests; over the horizon: totals,
//! savings, the share of the quality gap recovered (RouteLLM's PGR) and the
//! cost-quality frontier (RouterBench's convex hull).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::policy::Role;
use crate::scenario::Scenario;
use crate::sim::Run;
use crate::sim::ledger::{Costs, Counts, Group, Ledger, N_GROUPS};
use crate::stats::{Sum, quantiles, sd};

#[derive(Debug, Clone, Serialize)]
pub struct ModelLine {
    pub family: String,
    /// Answer calls.
    pub calls: f64,
    /// Judge/classifier calls.
    pub overhead_calls: f64,
    pub cost_usd: f64,
    /// Share of the policy's answer calls.
    pub call_share: f64,
    pub cost_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadLine {
    /// Units: requests, or sessions for a session workload.
    pub requests: f64,
    pub cost_usd: f64,
    /// Share of units that succeeded (sessions, by the workload's rule).
    pub quality: f64,
    pub cost_per_1k_requests: f64,
    pub cache_hit_rate: Option<f64>,
    /// A session workload's sessions (absent for single requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionLine>,
    /// Units no model could take, and models passed over, per unit (kept
    /// for analyses; the policy's line reports them).
    #[serde(skip)]
    pub unserved_rate: f64,
    #[serde(skip)]
    pub skips_per_request: f64,
}

/// What a session workload's sessions cost and did under one policy, over
/// the horizon (means per session unless named otherwise).
#[derive(Debug, Clone, Serialize)]
pub struct SessionLine {
    pub sessions: f64,
    /// Mean cost of a session (the workload's cost over its sessions).
    pub cost_per_session: f64,
    /// Median and 95th percentile of a session's cost, from a histogram of
    /// 50 buckets a decade (each within 4.7%). In the fast path a fixed
    /// prefix other sessions may keep warm counts as read here (the
    /// month's hit rate is known only later); the mean is exact.
    pub cost_p50: Option<f64>,
    pub cost_p95: Option<f64>,
    pub turns: f64,
    /// Answer calls (cascades make several a turn) and summaries.
    pub calls: f64,
    pub cost_per_turn: f64,
    pub compactions: f64,
    /// Share of turns answered acceptably.
    pub turn_quality: f64,
    /// Share of sessions that succeeded (the workload's `quality`).
    pub session_quality: f64,
    /// Input tokens per session billed fresh, written to and read from the
    /// cache; output tokens per session.
    pub fresh_input_tokens: f64,
    pub cache_write_tokens: f64,
    pub cache_read_tokens: f64,
    pub output_tokens: f64,
    /// Cache reads over all input tokens of answer and summary calls.
    pub cache_read_share: f64,
    /// Mean cost of a session by its number of turns, and what it would
    /// cost with nothing cached.
    pub by_turns: Vec<TurnsLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TurnsLine {
    /// Number of turns (the last row holds every longer session too).
    pub turns: usize,
    pub sessions: f64,
    pub cost_per_session: f64,
    pub uncached_cost_per_session: f64,
}

fn session_line(
    t: &crate::sim::ledger::SessionTally,
    c: &Counts,
    cost: f64,
) -> Option<SessionLine> {
    if !t.is_session() {
        return None;
    }
    let n = t.sessions;
    let input = t.fresh + t.write + t.read;
    // The fast path's deferred prefixes, at the share its closed form
    // charged as misses (0 in exact mode, where nothing is deferred).
    let missed = ratio(t.swing_missed_usd, t.swing_usd);
    Some(SessionLine {
        sessions: n,
        cost_per_session: ratio(cost, n),
        cost_p50: t.cost.quantile(0.5).map(|x| x / 1e6),
        cost_p95: t.cost.quantile(0.95).map(|x| x / 1e6),
        turns: ratio(t.turns, n),
        calls: ratio(t.calls, n),
        cost_per_turn: ratio(cost, t.turns),
        compactions: ratio(t.compactions, n),
        turn_quality: ratio(t.turns_succeeded, t.turns),
        session_quality: ratio(c.succeeded, c.requests),
        fresh_input_tokens: ratio(t.fresh, n),
        cache_write_tokens: ratio(t.write, n),
        cache_read_tokens: ratio(t.read, n),
        output_tokens: ratio(t.output, n),
        cache_read_share: ratio(t.read, input),
        by_turns: t
            .by_turns
            .iter()
            .enumerate()
            .filter(|(_, r)| r[0] > 0.0)
            .map(|(i, r)| TurnsLine {
                turns: i + 1,
                sessions: r[0],
                cost_per_session: (r[1] + r[3] * missed) / r[0],
                uncached_cost_per_session: r[2] / r[0],
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Components {
    pub input: f64,
    pub cache_write: f64,
    pub cache_read: f64,
    pub output: f64,
    pub overhead: f64,
}

impl Components {
    fn from(g: [f64; N_GROUPS]) -> Components {
        Components {
            input: g[Group::Input as usize],
            cache_write: g[Group::CacheWrite as usize],
            cache_read: g[Group::CacheRead as usize],
            output: g[Group::Output as usize],
            overhead: g[Group::Overhead as usize],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    pub input: f64,
    pub cache_write: f64,
    pub cache_read: f64,
    pub output: f64,
    pub overhead_input: f64,
    pub overhead_output: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthLine {
    pub month: usize,
    pub requests: f64,
    pub cost_usd: f64,
    pub quality: f64,
    pub escalation_rate: f64,
    pub cache_hit_rate: Option<f64>,
    pub cost_per_1k_requests: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub by_component: Components,
    /// Fast mode: half-width of the 95% interval of `cost_usd` from the
    /// fixed sample (0 in exact mode).
    pub cost_usd_sampling_error: f64,
}

/// Fast mode's sampling error on a policy's figures: half-widths of 95%
/// intervals (1.96 standard errors). Months share one sample, so their
/// errors add up rather than average out.
#[derive(Debug, Clone, Serialize)]
pub struct SamplingError {
    pub total_cost_usd: f64,
    pub quality: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub name: String,
    pub kind: String,
    /// What the policy is to the analysis (not in the JSON: `kind` names it).
    #[serde(skip)]
    pub role: crate::policy::Role,
    pub total_cost_usd: f64,
    pub first_month_cost_usd: f64,
    pub requests: f64,
    /// Share of requests whose accepted answer was acceptable (0..1).
    pub quality: f64,
    /// Baseline quality minus this policy's, in percentage points.
    pub quality_loss_pp: f64,
    /// Percent saved against the baseline's total.
    pub savings_vs_baseline_pct: f64,
    pub escalation_rate: f64,
    /// Hits / cache lookups on answer calls; `None` when nothing cached.
    pub cache_hit_rate: Option<f64>,
    /// Share of requests billed at batch rates.
    pub batch_share: f64,
    /// Requests no model could take.
    pub unserved_rate: f64,
    /// Models passed over (could not take a request) per request.
    pub skips_per_request: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub cost_per_1k_requests: f64,
    /// Share of the quality gap between the weakest and strongest single-model
    /// policies that this policy recovers (RouteLLM's PGR).
    pub quality_gap_recovered: Option<f64>,
    /// On the cost-quality frontier (convex hull) of the policies.
    pub on_frontier: bool,
    /// By model key.
    pub by_model: BTreeMap<String, ModelLine>,
    /// By workload name.
    pub by_workload: BTreeMap<String, WorkloadLine>,
    pub by_component: Components,
    pub tokens: Tokens,
    /// `None` in exact mode.
    pub sampling_error: Option<SamplingError>,
    /// Spread over replications.
    pub bands: Bands,
    pub months: Vec<MonthLine>,
}

/// Quantiles over replications (uncertain inputs drawn per replication,
/// plus each month's own randomness), at `quantiles`.
#[derive(Debug, Clone, Serialize)]
pub struct Bands {
    pub quantiles: Vec<f64>,
    pub total_cost_usd: Vec<f64>,
    /// Standard deviation of the total cost over replications.
    pub total_cost_usd_sd: f64,
    pub quality: Vec<f64>,
    pub quality_loss_pp: Vec<f64>,
    /// Share of replications in which this policy's total cost is below
    /// each other policy's (the policies see the same draws).
    pub probability_cheaper_than: BTreeMap<String, f64>,
    pub months: Vec<MonthBand>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthBand {
    pub month: usize,
    pub cost_usd: Vec<f64>,
    pub cost_usd_sd: f64,
    pub cumulative_cost_usd: Vec<f64>,
    pub quality: Vec<f64>,
}

fn bands(run: &Run, p: usize, base: usize, qs: &[f64]) -> Bands {
    let at = |xs: &[f64]| quantiles(xs, qs);
    let quality_of = |r: &Vec<Vec<crate::sim::RepMonth>>, p: usize| {
        let (s, n) = r.iter().fold((0.0, 0.0), |(s, n), m| {
            (s + m[p].succeeded, n + m[p].requests)
        });
        if n > 0.0 { s / n } else { 0.0 }
    };
    let totals: Vec<f64> = run
        .reps
        .iter()
        .map(|r| {
            let mut t = Sum::default();
            for m in r {
                t.add(m[p].cost_usd);
            }
            t.value()
        })
        .collect();
    let quality: Vec<f64> = run.reps.iter().map(|r| quality_of(r, p)).collect();
    let loss: Vec<f64> = run
        .reps
        .iter()
        .map(|r| (quality_of(r, base) - quality_of(r, p)) * 100.0)
        .collect();
    let mut cumulative = vec![0.0; run.reps.len()];
    let months = (0..run.months)
        .map(|m| {
            let cost: Vec<f64> = run.reps.iter().map(|r| r[m][p].cost_usd).collect();
            for (c, x) in cumulative.iter_mut().zip(&cost) {
                *c += x;
            }
            let q: Vec<f64> = run
                .reps
                .iter()
                .map(|r| ratio(r[m][p].succeeded, r[m][p].requests))
                .collect();
            MonthBand {
                month: m + 1,
                cost_usd: at(&cost),
                cost_usd_sd: sd(&cost),
                cumulative_cost_usd: at(&cumulative),
                quality: at(&q),
            }
        })
        .collect();
    let total_of = |q: usize| -> Vec<f64> {
        run.reps
            .iter()
            .map(|r| {
                let mut t = Sum::default();
                for m in r {
                    t.add(m[q].cost_usd);
                }
                t.value()
            })
            .collect()
    };
    let probability_cheaper_than = (0..run.policy_names.len())
        .filter(|&o| o != p)
        .map(|o| {
            let other = total_of(o);
            let wins = totals.iter().zip(&other).filter(|(a, b)| a < b).count();
            (
                run.policy_names[o].clone(),
                ratio(wins as f64, totals.len() as f64),
            )
        })
        .collect();
    Bands {
        quantiles: qs.to_vec(),
        total_cost_usd: at(&totals),
        total_cost_usd_sd: sd(&totals),
        quality: at(&quality),
        quality_loss_pp: at(&loss),
        probability_cheaper_than,
        months,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Projection {
    pub scenario: String,
    #[serde(skip)]
    pub mode: crate::sim::Mode,
    pub horizon_months: usize,
    pub seed: u64,
    pub replications: u32,
    pub baseline: String,
    pub policies: Vec<PolicySummary>,
    /// Requests per month (mean over replications).
    pub volumes: Vec<f64>,
}

/// Quantiles reported in bands unless asked otherwise.
pub const DEFAULT_QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Two-sided 95% normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn hit_rate(l: &Ledger) -> Option<f64> {
    let (mut h, mut m) = (0.0, 0.0);
    for c in &l.cells {
        h += c.cache_hits;
        m += c.cache_misses;
    }
    (h + m > 0.0).then(|| h / (h + m))
}

/// Builds the projection from an engine run, with P10/P50/P90 bands.
pub fn project(s: &Scenario, run: &Run) -> Projection {
    project_with(s, run, &DEFAULT_QUANTILES)
}

/// Builds the projection with bands at `quantiles`.
///
/// Each policy's summary depends on its own ledgers and replications
/// alone (and the baseline's, read only), so the policies are summarised
/// in parallel on the current rayon pool and collected in order: the same
/// summaries whatever the number of threads. A caller that limits threads
/// runs this inside its own pool (as `tiersim run --threads` does).
pub fn project_with(s: &Scenario, run: &Run, quantiles: &[f64]) -> Projection {
    let np = run.policy_names.len();
    let mut policies: Vec<PolicySummary> = (0..np)
        .into_par_iter()
        .map(|p| summarize(s, run, quantiles, p))
        .collect();

    // Against the baseline.
    let base = s.baseline.min(np.saturating_sub(1));
    let (bq, bc) = (policies[base].quality, policies[base].total_cost_usd);
    for p in &mut policies {
        p.quality_loss_pp = (bq - p.quality) * 100.0;
        p.savings_vs_baseline_pct = if bc > 0.0 {
            (1.0 - p.total_cost_usd / bc) * 100.0
        } else {
            0.0
        };
    }
    // Quality gap recovered between the weakest and strongest single models.
    let singles: Vec<f64> = policies
        .iter()
        .filter(|p| p.role == Role::SingleModel)
        .map(|p| p.quality)
        .collect();
    if singles.len() >= 2 {
        let lo = singles.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = singles.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if hi - lo > 1e-9 {
            for p in &mut policies {
                p.quality_gap_recovered = Some((p.quality - lo) / (hi - lo));
            }
        }
    }
    // The frontier is over policies one could run: the oracle is a bound.
    let runnable: Vec<usize> = (0..np)
        .filter(|&i| policies[i].role != Role::Bound)
        .collect();
    let points: Vec<(f64, f64)> = runnable
        .iter()
        .map(|&i| (policies[i].total_cost_usd, policies[i].quality))
        .collect();
    for j in frontier(&points) {
        policies[runnable[j]].on_frontier = true;
    }

    Projection {
        scenario: s.name.clone(),
        mode: run.mode,
        horizon_months: run.months,
        seed: s.seed,
        replications: run.replications,
        baseline: run.policy_names[base].clone(),
        policies,
        volumes: run.volumes.clone(),
    }
}

/// Policy `p`'s summary, before the comparisons with the others (quality
/// loss, savings, gap recovered, frontier) that [`project_with`] adds.
fn summarize(s: &Scenario, run: &Run, quantiles: &[f64], p: usize) -> PolicySummary {
    let np = run.policy_names.len();
    let nm = s.catalog.models.len();
    let nw = s.workloads.len();
    // Horizon totals.
    let mut total = Ledger::new(nw, nm);
    let mut costs = Costs::zero(nw, nm);
    let mut months = Vec::with_capacity(run.months);
    for m in 0..run.months {
        let l = &run.ledgers[m][p];
        let c = &run.costs[m][p];
        total.add_scaled(l, 1.0);
        costs.add_scaled(c, 1.0);
        let t = l.totals();
        let cost = c.total();
        months.push(MonthLine {
            month: m + 1,
            requests: t.requests,
            cost_usd: cost,
            quality: ratio(t.succeeded, t.requests),
            escalation_rate: ratio(t.escalated, t.requests),
            cache_hit_rate: hit_rate(l),
            cost_per_1k_requests: ratio(cost, t.requests) * 1000.0,
            latency_p50_ms: l.latency_total().quantile(0.5),
            latency_p95_ms: l.latency_total().quantile(0.95),
            by_component: Components::from(c.by_group()),
            cost_usd_sampling_error: Z95 * run.cost_se[m][p],
        });
    }
    let t = total.totals();
    let mut total_cost = Sum::default();
    for m in &months {
        total_cost.add(m.cost_usd);
    }
    let total_cost = total_cost.value();
    let by_model_cost = costs.by_model();
    let mut calls = vec![0.0; nm];
    let mut ovh_calls = vec![0.0; nm];
    for w in 0..nw {
        for (m, (c, o)) in calls.iter_mut().zip(ovh_calls.iter_mut()).enumerate() {
            *c += total.cell(w, m).calls;
            *o += total.cell(w, m).overhead_calls;
        }
    }
    let all_calls: f64 = calls.iter().sum();
    let by_model = (0..nm)
        .filter(|&m| calls[m] > 0.0 || ovh_calls[m] > 0.0)
        .map(|m| {
            (
                s.catalog.models[m].key.clone(),
                ModelLine {
                    family: s.catalog.models[m].family.clone(),
                    calls: calls[m],
                    overhead_calls: ovh_calls[m],
                    cost_usd: by_model_cost[m],
                    call_share: ratio(calls[m], all_calls),
                    cost_share: ratio(by_model_cost[m], total_cost),
                },
            )
        })
        .collect();
    let by_workload_cost = costs.by_workload();
    let by_workload = (0..nw)
        .map(|w| {
            let c = &total.per_workload[w];
            let (mut h, mut mi) = (0.0, 0.0);
            for m in 0..nm {
                h += total.cell(w, m).cache_hits;
                mi += total.cell(w, m).cache_misses;
            }
            (
                s.workloads[w].name.clone(),
                WorkloadLine {
                    requests: c.requests,
                    cost_usd: by_workload_cost[w],
                    quality: ratio(c.succeeded, c.requests),
                    cost_per_1k_requests: ratio(by_workload_cost[w], c.requests) * 1000.0,
                    cache_hit_rate: (h + mi > 0.0).then(|| h / (h + mi)),
                    sessions: session_line(&total.sessions[w], c, by_workload_cost[w]),
                    unserved_rate: ratio(c.unserved, c.requests),
                    skips_per_request: ratio(c.skips, c.requests),
                },
            )
        })
        .collect();
    let mut tok = Tokens {
        input: 0.0,
        cache_write: 0.0,
        cache_read: 0.0,
        output: 0.0,
        overhead_input: 0.0,
        overhead_output: 0.0,
    };
    use crate::catalog::pricing::Component as C;
    for cell in &total.cells {
        tok.input += cell.component_tokens(0, C::Input);
        tok.cache_write +=
            cell.component_tokens(0, C::CacheWrite5m) + cell.component_tokens(0, C::CacheWrite1h);
        tok.cache_read += cell.component_tokens(0, C::CacheRead);
        tok.output += cell.component_tokens(0, C::Output);
        tok.overhead_input += cell.component_tokens(1, C::Input);
        tok.overhead_output += cell.component_tokens(1, C::Output);
    }
    PolicySummary {
        name: run.policy_names[p].clone(),
        kind: run.policy_kinds[p].clone(),
        role: run.policy_roles[p],
        total_cost_usd: total_cost,
        first_month_cost_usd: months.first().map_or(0.0, |m| m.cost_usd),
        requests: t.requests,
        quality: ratio(t.succeeded, t.requests),
        quality_loss_pp: 0.0,
        savings_vs_baseline_pct: 0.0,
        escalation_rate: ratio(t.escalated, t.requests),
        cache_hit_rate: hit_rate(&total),
        batch_share: ratio(t.batch, t.requests),
        unserved_rate: ratio(t.unserved, t.requests),
        skips_per_request: ratio(t.skips, t.requests),
        latency_p50_ms: total.latency_total().quantile(0.5),
        latency_p95_ms: total.latency_total().quantile(0.95),
        cost_per_1k_requests: ratio(total_cost, t.requests) * 1000.0,
        quality_gap_recovered: None,
        on_frontier: false,
        by_model,
        by_workload,
        by_component: Components::from(costs.by_group()),
        tokens: tok,
        sampling_error: match run.mode {
            crate::sim::Mode::Exact => None,
            crate::sim::Mode::Fast { .. } => {
                let cost: f64 = (0..run.months).map(|m| run.cost_se[m][p]).sum();
                let weighted: f64 = (0..run.months)
                    .map(|m| run.volumes[m] * run.quality_se[m][p])
                    .sum();
                let volume: f64 = run.volumes.iter().sum();
                Some(SamplingError {
                    total_cost_usd: Z95 * cost,
                    quality: Z95 * ratio(weighted, volume),
                })
            }
        },
        bands: bands(run, p, s.baseline.min(np.saturating_sub(1)), quantiles),
        months,
    }
}

/// Indices of the points on the cost-quality frontier: the upper-left convex
/// hull of (cost, quality) — cheaper or better than every mix of the others.
pub fn frontier(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len()).collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[b].1.total_cmp(&points[a].1))
    });
    // Keep points that improve quality as cost rises (Pareto), then the upper hull.
    let mut pareto: Vec<usize> = Vec::new();
    for i in idx {
        if pareto.last().is_none_or(|&j| points[i].1 > points[j].1) {
            pareto.push(i);
        }
    }
    let mut hull: Vec<usize> = Vec::new();
    for i in pareto {
        while hull.len() >= 2 {
            let (a, b) = (points[hull[hull.len() - 2]], points[hull[hull.len() - 1]]);
            let c = points[i];
            // Remove b if it lies on or below the segment a → c.
            let cross = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
            if cross >= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(i);
    }
    hull.sort();
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_drops_dominated_and_concave_points() {
        // (cost, quality): 0 cheap/low, 1 mid on the hull, 2 dominated,
        // 3 under the chord from 1 to 4, 4 expensive/best.
        let pts = [
            (1.0, 0.80),
            (2.0, 0.90),
            (3.0, 0.85),
            (5.0, 0.92),
            (6.0, 0.96),
        ];
        assert_eq!(frontier(&pts), vec![0, 1, 4]);
        assert_eq!(frontier(&[(1.0, 0.5)]), vec![0]);
    }
}
