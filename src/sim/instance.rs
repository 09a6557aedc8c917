//! One replication's concrete world: every uncertain input drawn once.
//!
//! A [`Sampler`] decides each uncertain number. [`Draws`] derives each
//! number's uniform from (seed, replication, field path) — not from a
//! shared stream — so adding an uncertain input to a scenario, or sweeping
//! one, leaves every other input's draws unchanged (common random numbers
//! across scenario variants). [`AtQuantile`] pins inputs at chosen
//! quantiles (medians, P10/P90) for sensitivity analysis.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::pricing::ModelPricing;
pub use crate::check::Sampler;
use crate::policy::Policy;
use crate::random::parameter_uniform;
use crate::scenario::*;
use crate::stats::dist::{DifficultyDist, MAX_TOKENS, TokenDist};
use crate::traffic::{CacheInst, WorkloadInst};

/// Random draws, reproducible per (seed, replication, path).
pub struct Draws {
    pub seed: u64,
    pub replication: u64,
}

impl Sampler for Draws {
    fn value(&mut self, p: &Param) -> f64 {
        if let Some(v) = p.q.fixed() {
            return v;
        }
        p.q.quantile(parameter_uniform(self.seed, self.replication, &p.path))
    }
}

/// Every uncertain input at its median, except the listed paths, which sit at
/// the given quantile.
#[derive(Default)]
pub struct AtQuantile {
    pub pinned: BTreeMap<String, f64>,
}

impl Sampler for AtQuantile {
    fn value(&mut self, p: &Param) -> f64 {
        match p.q.fixed() {
            Some(v) => v,
            None => {
                p.q.quantile(self.pinned.get(&p.path).copied().unwrap_or(0.5))
            }
        }
    }
}

/// Records every number it is asked for (answering with medians).
#[derive(Default)]
struct Recorder {
    seen: Vec<Param>,
}

impl Sampler for Recorder {
    fn value(&mut self, p: &Param) -> f64 {
        self.seen.push(p.clone());
        p.q.median()
    }
}

/// Every uncertain input of `s`, by path, in the order a replication
/// draws them.
pub fn uncertain_params(s: &Scenario) -> Vec<Param> {
    all_params(s)
        .into_iter()
        .filter(|p| !p.q.is_fixed())
        .collect()
}

/// Replications when the caller names none: the scenario's own, else 200
/// when it has uncertain inputs (for bands), else 1.
pub fn default_replications(s: &Scenario) -> u32 {
    s.replications.unwrap_or(if uncertain_params(s).is_empty() {
        1
    } else {
        200
    })
}

/// Every scenario number, in the order a replication draws them.
pub fn all_params(s: &Scenario) -> Vec<Param> {
    let mut rec = Recorder::default();
    let _ = resolve(s, &mut rec, 0);
    rec.seen
}

/// One replication's concrete world.
pub struct Instance {
    pub replication: u64,
    /// Requests per month, month 1 first.
    pub volumes: Vec<f64>,
    pub workloads: Vec<WorkloadInst>,
    pub policies: Vec<Arc<dyn Policy>>,
    /// How each policy carries its decisions across a session's turns.
    pub session_routing: Vec<crate::policy::SessionRouting>,
    /// Capability per model (catalog order) per task kind.
    pub capability: Vec<[f64; 10]>,
    pub slope: f64,
    /// Share of requests whose outcomes follow one shared draw for every model.
    pub outcome_correlation: f64,
    /// Prices per model under the scenario's profile and price adjustments.
    pub pricing: Vec<ModelPricing>,
    /// The values drawn for uncertain inputs, by path.
    pub drawn: Vec<(String, f64)>,
    /// What each drawn value changes (same order as `drawn`).
    pub drawn_reach: Vec<Reach>,
    /// When in the week requests arrive.
    pub shape: crate::traffic::shape::Shape,
    /// Simulated throttling: the share of calls refused by
    /// `[month][policy][model]` (see `sim::quota`).
    pub throttle: Option<std::sync::Arc<Vec<Vec<Vec<f64>>>>>,
}

impl Instance {
    /// What this replication's policies may consult.
    pub fn context<'a>(
        &'a self,
        catalog: &'a crate::catalog::Catalog,
    ) -> crate::policy::Context<'a> {
        crate::policy::Context::new(catalog, &self.capability, self.slope, &self.pricing)
    }

    /// A generator of this replication's requests.
    pub fn traffic(&self) -> crate::traffic::Traffic<'_> {
        crate::traffic::Traffic::new(&self.workloads, self.slope, self.outcome_correlation)
            .with_shape(&self.shape)
    }
}

struct Tracking<'a> {
    inner: &'a mut dyn Sampler,
    drawn: Vec<(String, f64)>,
    drawn_reach: Vec<Reach>,
}

impl Tracking<'_> {
    fn v(&mut self, p: &Param) -> f64 {
        self.value(p)
    }
}

/// Records every uncertain number drawn, in order, with what it changes.
impl Sampler for Tracking<'_> {
    fn value(&mut self, p: &Param) -> f64 {
        let v = self.inner.value(p);
        if !p.q.is_fixed() {
            self.drawn.push((p.path.clone(), v));
            self.drawn_reach.push(p.reach);
        }
        v
    }
}

/// Draws one replication of `s`.
pub fn resolve(s: &Scenario, sampler: &mut dyn Sampler, replication: u64) -> Instance {
    let mut t = Tracking {
        inner: sampler,
        drawn: Vec::new(),
        drawn_reach: Vec::new(),
    };
    let volumes = volumes(s, &mut t);

    let mut workloads = Vec::with_capacity(s.workloads.len());
    for w in &s.workloads {
        let share = t.v(&w.share).max(0.0);
        let input = token_dist(&w.input_tokens, &mut t);
        let output = token_dist(&w.output_tokens, &mut t);
        let difficulty = difficulty_dist(&w.difficulty, &mut t);
        let (prefix_tokens, cache) = match &w.cache {
            None => (0, CacheInst::None),
            Some(CacheDef::Traffic {
                prefix_tokens,
                distinct_prefixes,
                ttl,
            }) => (
                t.v(prefix_tokens).round().clamp(0.0, MAX_TOKENS) as u64,
                CacheInst::Traffic {
                    distinct: t
                        .v(distinct_prefixes)
                        .round()
                        .clamp(1.0, MAX_DISTINCT_PREFIXES) as u32,
                    ttl: *ttl,
                },
            ),
            Some(CacheDef::Pinned {
                prefix_tokens,
                hit_rate,
                ttl,
            }) => (
                t.v(prefix_tokens).round().clamp(0.0, MAX_TOKENS) as u64,
                CacheInst::Pinned {
                    hit_rate: t.v(hit_rate).clamp(0.0, 1.0),
                    ttl: *ttl,
                },
            ),
        };
        let batch_share = t.v(&w.batch_share).clamp(0.0, 1.0);
        let session = w.session.as_ref().map(|s| {
            use crate::traffic::session::{CompactionInst, SessionInst, SessionSuccess};
            let turns = token_dist(&s.turns, &mut t);
            let gap_s = token_dist(&s.gap_seconds, &mut t);
            let spread = t.v(&s.turn_difficulty_spread).max(0.0);
            let success = match &s.success {
                SessionSuccessDef::EveryTurn => SessionSuccess::EveryTurn,
                SessionSuccessDef::HardSteps { min_difficulty } => SessionSuccess::HardSteps {
                    min_difficulty: t.v(min_difficulty),
                },
            };
            let compaction = s.compaction.as_ref().map(|c| {
                let threshold = t.v(&c.threshold_tokens).round().clamp(1.0, MAX_TOKENS) as u64;
                // Uncertain sizes may draw a prefix and summary reaching the
                // threshold; they stay below it so compaction shrinks.
                let threshold = threshold.max(prefix_tokens + 1);
                let summary = (t.v(&c.summary_tokens).round().clamp(0.0, MAX_TOKENS) as u64)
                    .min(threshold - prefix_tokens - 1);
                CompactionInst {
                    threshold,
                    model: c.model.index(),
                    summary,
                }
            });
            SessionInst {
                turns,
                gap_s,
                spread,
                success,
                compaction,
            }
        });
        workloads.push(WorkloadInst {
            name: w.name.clone(),
            task: w.task,
            modality: w.modality,
            share,
            input,
            output,
            difficulty,
            prefix_tokens,
            cache,
            batch_share,
            service: w.service,
            session,
        });
    }
    let total: f64 = workloads.iter().map(|w| w.share).sum();
    for w in &mut workloads {
        w.share = if total > 0.0 {
            w.share / total
        } else {
            1.0 / s.workloads.len() as f64
        };
    }

    let policies = s
        .policies
        .iter()
        .map(|p| p.node.build(&p.name, &mut t))
        .collect();

    let slope = t.v(&s.slope);
    let outcome_correlation = t.v(&s.outcome_correlation).clamp(0.0, 1.0);
    let mut capability: Vec<[f64; 10]> = s.catalog.models.iter().map(|m| m.capability).collect();
    for (m, task, p) in &s.capability_overrides {
        capability[m.index()][task.index()] = t.v(p);
    }
    let mut multiplier: Vec<f64> = s
        .profile_used
        .iter()
        .map(|p| p.as_ref().map_or(1.0, |(_, m)| *m))
        .collect();
    for (m, p) in &s.price_multipliers {
        multiplier[m.index()] *= t.v(p);
    }
    let pricing = s
        .catalog
        .models
        .iter()
        .zip(&multiplier)
        .map(|(m, mult)| ModelPricing::new(m, *mult))
        .collect();

    let session_routing = s.policies.iter().map(|p| p.session).collect();
    Instance {
        shape: s.shape.clone(),
        throttle: None,
        replication,
        session_routing,
        volumes,
        workloads,
        policies,
        capability,
        slope,
        outcome_correlation,
        pricing,
        drawn: t.drawn,
        drawn_reach: t.drawn_reach,
    }
}

fn volumes(s: &Scenario, t: &mut Tracking<'_>) -> Vec<f64> {
    let n = s.horizon_months as usize;
    let start = s.volume.start.as_ref().map_or(0.0, |p| t.v(p));
    let raw: Vec<f64> = match &s.volume.growth {
        Growth::None => vec![start; n],
        Growth::MonthlyPct(p) => {
            let g = 1.0 + t.v(p) / 100.0;
            (0..n).map(|m| start * g.powi(m as i32)).collect()
        }
        Growth::Schedule(list) => list.iter().map(|p| t.v(p)).collect(),
        Growth::Logistic {
            capacity,
            steepness,
        } => {
            let c = t.v(capacity);
            let k = t.v(steepness);
            if c <= start || start <= 0.0 {
                vec![start; n]
            } else {
                // V(m) = C / (1 + exp(-k (m - m0))), with V(1) = start.
                let m0 = 1.0 + (c / start - 1.0).ln() / k;
                (1..=n)
                    .map(|m| c / (1.0 + (-k * (m as f64 - m0)).exp()))
                    .collect()
            }
        }
    };
    raw.into_iter()
        .map(|v| {
            if v.is_finite() {
                v.clamp(0.0, MAX_REQUESTS_PER_MONTH)
            } else {
                MAX_REQUESTS_PER_MONTH
            }
        })
        .collect()
}

fn token_dist(d: &TokenDef, t: &mut Tracking<'_>) -> TokenDist {
    let built = match d {
        TokenDef::Constant(p) => TokenDist::constant(t.v(p)),
        TokenDef::Lognormal { median, p90, max } => {
            let m = t.v(median);
            let p = t.v(p90).max(m);
            TokenDist::lognormal_median_p90(m, p, *max)
        }
        TokenDef::LognormalMuSigma { mu, sigma, max } => {
            TokenDist::lognormal(t.v(mu), t.v(sigma), *max)
        }
        TokenDef::Uniform { min, max } => {
            let a = t.v(min);
            let b = t.v(max);
            TokenDist::uniform(a.min(b), a.max(b))
        }
        TokenDef::Empirical { values, weights } => TokenDist::empirical(values, weights.as_deref()),
    };
    // Parameters were range-checked at load; a failure here is a bug.
    built.expect("token distribution validated at load")
}

fn difficulty_dist(d: &DifficultyDef, t: &mut Tracking<'_>) -> DifficultyDist {
    let built = match d {
        DifficultyDef::Constant(p) => DifficultyDist::constant(t.v(p)),
        DifficultyDef::Beta {
            mean,
            concentration,
        } => DifficultyDist::beta(t.v(mean).clamp(1e-9, 1.0 - 1e-9), t.v(concentration)),
        DifficultyDef::Uniform { min, max } => {
            let a = t.v(min);
            let b = t.v(max);
            DifficultyDist::uniform(a.min(b), a.max(b))
        }
    };
    built.expect("difficulty distribution validated at load")
}
