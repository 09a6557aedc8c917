//! Optimize: the cheapest routing design within a quality budget, and the
//! cost–quality frontier of whole designs.
//!
//! A design gives each workload one route: a single model, or a cascade of
//! up to `max_steps` models from cheapest to dearest behind the scenario's
//! gate. The method, in a paragraph (README, "Optimize"):
//!
//! 1. Every candidate route is written as a policy and run through the
//!    engine over the whole scenario, in groups of at most 63 beside the
//!    baseline, each group with the scenario's seed: every candidate sees
//!    the same requests (common random numbers). Each workload's cost and
//!    share of acceptable answers under each route are read from the
//!    projection's per-workload lines.
//! 2. A workload's cost and successes under a route do not depend on how
//!    other workloads are routed (caches are kept per workload and model),
//!    so a design's cost and successes are sums over workloads. Picking one
//!    route per workload for the least cost within the quality budget is a
//!    multiple-choice knapsack; it is solved exactly by combining the
//!    workloads' cost–success frontiers one workload at a time and keeping
//!    only undominated sums (the frontier of the sums is made of sums of
//!    frontier points).
//! 3. The cheapest design within the budget, and the next design on the
//!    frontier, are written as `rules` policies and run again beside the
//!    scenario's own policies: the figures reported for them (bands, the
//!    probability that the choice is cheaper than the runner-up) are the
//!    engine's, exactly what `tiersim run` prints for the emitted YAML.
//!
//! Beside the search, each two-model classifier's curve as its threshold
//! moves (`router_curve`).
//!
//! A workload's latency objective (`slo`) is a constraint of the search: a
//! route that misses it on that workload is not a candidate there (latency
//! depends only on the workload's own route). Quotas are shared by the
//! workloads routed to a model, so they are checked on whole designs: when
//! the cheapest design within the budget would be short, the next designs
//! on the frontier are run and the first that fits is chosen (or, when
//! none does, the cheapest is kept and a note says what to ask for).
//!
//! Each model is also a candidate at each service tier it offers (Flex,
//! Priority) on its own; cascade steps are at the request's tier. Batch is
//! not a choice: a workload's `batch_share` says what can wait, and every
//! route bills that share at the batch rate where the model offers one.
//!
//! The objective is the mean total cost over the horizon, or its P90 over
//! replications (`Objective::P90`). A P90 is not a sum over workloads, so
//! the knapsack cannot combine it exactly: the P90 objective picks, among
//! the designs on the mean frontier within the budget (the 63 cheapest),
//! the one whose P90 the engine reports lowest, all run in one engine run on
//! common random numbers.
//!
//! Each two-model classifier of the scenario whose models are both
//! candidates is a route too, at each threshold of its router curve.

use std::collections::HashMap;

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use crate::analysis::capacity::{Capacity, QuotaLine};
use crate::analysis::projection::{Bands, Projection};
use crate::analysis::router_curve::{self, RouterCurve, run_variant};
use crate::catalog::pricing::ServiceTier;
use crate::error::{Diagnostic, Error, Result};
use crate::input::suggest;
use crate::input::yaml::{self, Source};
use crate::scenario::{Scenario, overrides};
use crate::sim::RunOptions;

/// A candidate's figures on one workload: cost, quality, and (met, p50,
/// p95) of the workload's latency objective when it states one.
type Found = (f64, f64, Option<(bool, Option<f64>, Option<f64>)>);

/// Most candidates run beside the baseline in one engine run (a scenario
/// holds at most 64 policies).
const GROUP: usize = 63;

/// Most steps a searched cascade may have.
pub const MAX_STEPS: usize = 3;

/// What a design minimises, within the quality budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// The mean total cost over the horizon.
    #[default]
    Mean,
    /// The 90th percentile over replications of the total cost over the
    /// horizon (the cost a budget should be ready for).
    P90,
}

/// What to search.
#[derive(Debug, Clone, Default)]
pub struct Space {
    /// Candidate model keys; `None`: every model of the catalog the
    /// scenario's price profile can use.
    pub models: Option<Vec<String>>,
    /// Longest cascade (1: single models only).
    pub max_steps: usize,
    /// Run every candidate route on every workload, with no pruning.
    pub exhaustive: bool,
    /// Most quality one workload may lose against the baseline on that
    /// workload, in percentage points, by workload name.
    pub workload_limits: Vec<(String, f64)>,
    /// The gate every searched cascade uses (a cascade's `gate:` mapping);
    /// `None`: the scenario's first.
    pub gate: Option<Value>,
    pub objective: Objective,
}

/// One route a workload may take.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `nova-pro`, or `nova-lite > nova-pro` for a cascade.
    pub route: String,
    /// Over the horizon, mean over replications.
    pub cost_usd: f64,
    /// Share of the workload's requests answered acceptably.
    pub quality: f64,
    /// Against the baseline on this workload, in percentage points.
    pub quality_loss_pp: f64,
    /// Latency of the workload's requests under this route, when the
    /// workload states an objective (`slo`).
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// Whether the route meets the workload's latency objective, if any.
    pub meets_slo: Option<bool>,
    /// Within this workload's quality limit, if it has one, and its
    /// latency objective, if it has one.
    pub allowed: bool,
    /// On the workload's cost–quality frontier among allowed routes.
    pub on_frontier: bool,
    #[serde(skip)]
    value: Value,
}

/// One workload's search.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSearch {
    pub workload: String,
    /// Its requests over the horizon (sessions for a session workload).
    pub requests: f64,
    pub baseline_cost_usd: f64,
    pub baseline_quality: f64,
    pub limit_pp: Option<f64>,
    /// The routes run on this workload.
    pub candidates: Vec<Candidate>,
    /// Routes not run on it: bounds proved each dominated.
    pub skipped_routes: usize,
}

/// A whole design: one route per workload.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    /// Route per workload, in the scenario's order.
    pub routes: Vec<String>,
    /// The sum of the workloads' costs (the search's estimate).
    pub total_cost_usd: f64,
    pub quality: f64,
    pub quality_loss_pp: f64,
    /// With the P90 objective, for the designs within the budget that were
    /// run to compare it: the P90 over replications of the total cost.
    pub total_cost_p90_usd: Option<f64>,
    #[serde(skip)]
    choice: Vec<usize>,
}

/// A policy as the engine ran it in the verifying run.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub name: String,
    pub total_cost_usd: f64,
    /// Quantiles of the total cost over replications (P10, P50, P90).
    pub total_cost_bands_usd: Vec<f64>,
    pub quality: f64,
    pub quality_loss_pp: f64,
    pub savings_vs_baseline_pct: f64,
}

/// The search's result.
#[derive(Debug, Clone, Serialize)]
pub struct Optimized {
    pub scenario: String,
    pub baseline: String,
    pub max_quality_loss_pp: f64,
    pub objective: Objective,
    pub models: Vec<String>,
    pub max_steps: usize,
    /// Candidate routes, each run over every workload.
    pub candidates: usize,
    pub workloads: Vec<WorkloadSearch>,
    /// Undominated whole designs, cheapest first.
    pub frontier: Vec<Design>,
    /// Index into `frontier` of the cheapest design within the budget.
    pub chosen: usize,
    /// The next design on the frontier (dearer, better), if any.
    pub runner_up: Option<usize>,
    /// The names the chosen design and the runner-up run under in the
    /// verifying run (`optimized`, `runner-up`, unless the scenario has
    /// policies of those names).
    pub chosen_policy: String,
    pub runner_up_policy: Option<String>,
    /// The chosen design (`optimized`), the runner-up and the scenario's
    /// own policies, from the verifying run.
    pub verified: Vec<Verified>,
    /// Over replications, on common random numbers: the share in which
    /// the chosen design costs less than the runner-up.
    pub probability_cheaper_than_runner_up: Option<f64>,
    /// The chosen design as a policy, ready to paste under `policies:`.
    pub policy_yaml: String,
    /// The scenario with that policy added (comments are not kept).
    pub scenario_yaml: String,
    /// Each two-model classifier's curve as its threshold moves, beside a
    /// random router's.
    pub router_curves: Vec<RouterCurve>,
    pub notes: Vec<String>,
}

/// Runs the search on the scenario `src` with overrides `sets` (a
/// `seed=...` among them pins the seed). `options` turns each scenario run
/// into run options as `run` would; `progress(done, total)` after each
/// engine run.
pub fn optimize(
    src: &Source,
    sets: &[String],
    space: &Space,
    max_quality_loss_pp: f64,
    mut options: impl FnMut(&Scenario) -> RunOptions<'static>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Optimized> {
    if !(max_quality_loss_pp.is_finite() && (0.0..=100.0).contains(&max_quality_loss_pp)) {
        return Err(Error::input(format!(
            "the quality budget must be between 0 and 100 percentage points, got {max_quality_loss_pp}"
        )));
    }
    if !(1..=MAX_STEPS).contains(&space.max_steps) {
        return Err(Error::input(format!(
            "the longest cascade searched must be 1 to {MAX_STEPS} steps, got {}",
            space.max_steps
        )));
    }
    let base = Scenario::from_source(src, sets)?;
    let mut doc = yaml::parse_value(src)?;
    for raw in sets {
        overrides::apply(&mut doc, raw)?;
    }
    let limits = workload_limits(&base, &space.workload_limits)?;
    let models = candidate_models(&base, space.models.as_deref())?;
    let baseline_name = base.policies[base.baseline].name.clone();
    let policies = doc
        .get("policies")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let baseline_value = policies
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(baseline_name.as_str()))
        .cloned()
        .ok_or_else(|| Error::failure("the baseline policy is not in the scenario's policies"))?;
    let mut notes = Vec::new();
    let gate = match &space.gate {
        Some(given) => Some((
            None,
            checked_gate(src, &doc, &baseline_value, &models, given)?,
        )),
        None => policies
            .iter()
            .find_map(|p| find_gate(p).map(|g| (p.get("name").and_then(Value::as_str), g))),
    };
    match &gate {
        None if space.max_steps > 1 => notes.push(
            "the scenario has no cascade gate to copy, so only single models were searched: add a cascade policy with a gate to search cascades, or give one".to_string(),
        ),
        Some((Some(name), _)) if space.max_steps > 1 => notes.push(format!(
            "every searched cascade uses the first gate in the scenario (policy `{name}`), judge included, on every workload"
        )),
        Some((None, _)) if space.max_steps > 1 => notes.push(
            "every searched cascade uses the gate given, judge included, on every workload"
                .to_string(),
        ),
        _ => {}
    }
    let gate = gate.map(|(_, g)| g);
    let mut routes = candidate_routes(&models, space.max_steps, gate.as_ref());
    // Each model at the other service tiers it offers, alone.
    let tiered: Vec<(String, Value)> = models
        .iter()
        .flat_map(|key| {
            let offered = base
                .catalog
                .models
                .iter()
                .find(|m| m.key == *key)
                .map(|m| {
                    [ServiceTier::Flex, ServiceTier::Priority]
                        .into_iter()
                        .filter(|t| m.offers(*t))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            offered.into_iter().map(move |t| {
                let label = format!("{key}:{}", t.as_str());
                (label.clone(), Value::String(label))
            })
        })
        .collect();
    routes.splice(models.len()..models.len(), tiered);
    // Each two-model classifier of the scenario whose models are both
    // candidates, at every threshold of its router curve.
    let mut seen: Vec<Mapping> = Vec::new();
    for c in policies.iter().flat_map(find_classifiers) {
        let (Some(weak), Some(strong)) = (
            c.get("weak").and_then(Value::as_str),
            c.get("strong").and_then(Value::as_str),
        ) else {
            continue;
        };
        if seen.contains(&c)
            || !models.iter().any(|m| m == weak)
            || !models.iter().any(|m| m == strong)
        {
            continue;
        }
        for t in router_curve::THRESHOLDS {
            let mut at = c.clone();
            at.insert("max_quality_drop".into(), Value::from(t));
            let mut route = Mapping::new();
            route.insert("classifier".into(), Value::Mapping(at));
            routes.push((
                format!("{weak} or {strong} (max drop {t})"),
                Value::Mapping(route),
            ));
        }
        seen.push(c);
    }

    // 1. Candidates run in phases: single-model routes and classifiers on
    // every workload, then two-step cascades, then three-step ones, each
    // (workload, route) pair skipped when bounds from the routes already
    // run prove it dominated (`Bounds`). Pairs are packed 63 policies to
    // an engine run beside the baseline, one route per workload in each.
    let nw = base.workloads.len();
    let steps: Vec<Option<Vec<usize>>> = routes
        .iter()
        .map(|(_, v)| cascade_steps(v, &models))
        .collect();
    // Plain single models come first among the routes, in model order.
    let by_steps: HashMap<Vec<usize>, usize> = steps
        .iter()
        .enumerate()
        .filter_map(|(r, st)| st.clone().map(|st| (st, r)))
        .chain((0..models.len()).map(|m| (vec![m], m)))
        .collect();
    let mut search = Search {
        found: vec![vec![None; routes.len()]; nw],
        baseline: None,
        runs: 0,
        complete: vec![vec![false; routes.len()]; nw],
    };
    let mut phases: Vec<Vec<usize>> = vec![Vec::new(); MAX_STEPS + 1];
    for (r, st) in steps.iter().enumerate() {
        phases[st.as_ref().map_or(1, Vec::len)].push(r);
    }
    let first: Vec<Vec<usize>> = vec![phases[1].clone(); nw];
    let estimate = |pending: usize| pending.div_ceil(GROUP);
    let later: usize = phases[2..].iter().map(|p| estimate(p.len())).sum();
    let tail = 1 + usize::from(space.objective == Objective::P90);
    let mut ctx = Packing {
        src,
        doc: &doc,
        baseline_value: &baseline_value,
        baseline_name: &baseline_name,
        workloads: base.workloads.iter().map(|w| w.name.clone()).collect(),
        routes: &routes,
        filler: Value::String(models[0].clone()),
    };
    search.run(&mut ctx, &first, &mut options, |done| {
        progress(done, done + later + tail)
    })?;
    // Bounds hold under common outcomes (a fixed outcome correlation of 1),
    // for cascades whose every model took every request on its own.
    let prune = !space.exhaustive && base.outcome_correlation.q.fixed() == Some(1.0);
    let mut skipped = vec![0usize; nw];
    for k in 2..=space.max_steps.min(MAX_STEPS) {
        let mut pending: Vec<Vec<usize>> = vec![phases[k].clone(); nw];
        loop {
            // Every shorter cascade is run when longer ones follow: each is
            // the prefix whose figures bound theirs.
            let bounding = k < space.max_steps.min(MAX_STEPS);
            if prune && !bounding {
                for (w, list) in pending.iter_mut().enumerate() {
                    let bounds = Bounds::of(&search, w, &limits, &by_steps);
                    let mut kept: Vec<(f64, usize)> = list
                        .iter()
                        .filter_map(|&r| {
                            let st = steps[r].as_deref().unwrap_or(&[]);
                            (!bounds.dominated(&search, w, st))
                                .then(|| (bounds.lower_cost(&search, w, st), r))
                        })
                        .collect();
                    skipped[w] += list.len() - kept.len();
                    // The cheapest lower bounds first: they are likeliest
                    // to be on the frontier and to prune the rest.
                    kept.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                    *list = kept.into_iter().map(|(_, r)| r).collect();
                }
            }
            if pending.iter().all(Vec::is_empty) {
                break;
            }
            // One engine run at a time while pruning (each run's results
            // prune the rest), every pair at once otherwise.
            let take = if prune && !bounding {
                GROUP
            } else {
                usize::MAX
            };
            let batch: Vec<Vec<usize>> = pending
                .iter_mut()
                .map(|l| l.drain(..take.min(l.len())).collect())
                .collect();
            let left: usize = phases[k + 1..=MAX_STEPS.min(space.max_steps)]
                .iter()
                .map(|p| estimate(p.len()))
                .sum::<usize>()
                + estimate(pending.iter().map(Vec::len).max().unwrap_or(0));
            search.run(&mut ctx, &batch, &mut options, |done| {
                progress(done, done + left + tail)
            })?;
        }
    }
    let total_runs = search.runs + tail;
    let baseline_lines = search.baseline.clone().expect("at least one run");
    let skipped_total: usize = skipped.iter().sum();
    if skipped_total > 0 {
        notes.push(format!(
            "{skipped_total} of the {} (workload, route) pairs were not run: bounds from shorter routes prove each dominated (a cascade costs at least its first steps, and under common outcomes succeeds at most as often as its best model alone)",
            nw * routes.len()
        ));
    }

    // 2. Each workload's frontier, then the frontier of whole designs.
    let mut workloads = Vec::with_capacity(nw);
    for (w, wl) in base.workloads.iter().enumerate() {
        let (requests, baseline_cost_usd, baseline_quality) = baseline_lines[w];
        let limit_pp = limits[w];
        let mut candidates: Vec<Candidate> = routes
            .iter()
            .zip(&search.found[w])
            .filter_map(|(route, found)| found.map(|f| (route, f)))
            .map(|((label, value), (cost_usd, quality, slo))| {
                let quality_loss_pp = (baseline_quality - quality) * 100.0;
                let meets_slo = slo.map(|x| x.0);
                Candidate {
                    route: label.clone(),
                    cost_usd,
                    quality,
                    quality_loss_pp,
                    latency_p50_ms: slo.and_then(|x| x.1),
                    latency_p95_ms: slo.and_then(|x| x.2),
                    meets_slo,
                    allowed: limit_pp.is_none_or(|l| quality_loss_pp <= l + 1e-9)
                        && meets_slo != Some(false),
                    on_frontier: false,
                    value: value.clone(),
                }
            })
            .collect();
        let points: Vec<(usize, f64, f64)> = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.allowed)
            .map(|(i, c)| (i, c.cost_usd, c.quality * requests))
            .collect();
        if points.is_empty() && candidates.iter().all(|c| c.meets_slo == Some(false)) {
            let best = candidates
                .iter()
                .filter_map(|c| c.latency_p95_ms)
                .fold(f64::INFINITY, f64::min);
            return Err(Error::input(format!(
                "no route for workload `{}` meets its latency objective (slo): the fastest of the {} candidate routes has a p95 of {:.0} ms",
                wl.name,
                candidates.len(),
                best
            )));
        }
        if points.is_empty() {
            let best = candidates
                .iter()
                .filter(|c| c.meets_slo != Some(false))
                .map(|c| c.quality_loss_pp)
                .fold(f64::INFINITY, f64::min);
            return Err(Error::input(format!(
                "no route for workload `{}` stays within its limit of {} pp of quality lost on it: the best of the {} candidate routes loses {:.2} pp",
                wl.name,
                limit_pp.unwrap_or(0.0),
                candidates.len(),
                best
            )));
        }
        for i in pareto(points) {
            candidates[i.0].on_frontier = true;
        }
        workloads.push(WorkloadSearch {
            workload: wl.name.clone(),
            requests,
            baseline_cost_usd,
            baseline_quality,
            limit_pp,
            candidates,
            skipped_routes: skipped[w],
        });
    }
    let total_requests: f64 = workloads.iter().map(|w| w.requests).sum();
    let baseline_quality = if total_requests > 0.0 {
        workloads
            .iter()
            .map(|w| w.baseline_quality * w.requests)
            .sum::<f64>()
            / total_requests
    } else {
        0.0
    };
    let frontier: Vec<Design> = combine(&workloads)
        .into_iter()
        .map(|(cost, successes, choice)| {
            let quality = if total_requests > 0.0 {
                successes / total_requests
            } else {
                0.0
            };
            Design {
                routes: choice
                    .iter()
                    .zip(&workloads)
                    .map(|(&c, w)| w.candidates[c].route.clone())
                    .collect(),
                total_cost_usd: cost,
                quality,
                quality_loss_pp: (baseline_quality - quality) * 100.0,
                total_cost_p90_usd: None,
                choice,
            }
        })
        .collect();
    let Some(cheapest) = frontier
        .iter()
        .position(|d| d.quality_loss_pp <= max_quality_loss_pp + 1e-9)
    else {
        let best = frontier.last().map_or(f64::NAN, |d| d.quality_loss_pp);
        return Err(Error::input(format!(
            "no design loses at most {max_quality_loss_pp} pp of quality against `{baseline_name}`: the best design of the models searched ({}) loses {best:.2} pp; search more models or allow a larger loss",
            models.join(", ")
        )));
    };
    let mut frontier = frontier;
    let designs = Designs {
        src,
        doc: &doc,
        baseline_value: &baseline_value,
        baseline_name: &baseline_name,
        workloads: &workloads,
        base: &base,
    };
    let (mut chosen, mut runner_up) = match space.objective {
        Objective::Mean => (
            cheapest,
            (cheapest + 1 < frontier.len()).then_some(cheapest + 1),
        ),
        Objective::P90 => {
            // The designs within the budget, cheapest (by mean) first, run
            // together beside the baseline.
            let pool: Vec<usize> = (cheapest..frontier.len()).take(GROUP).collect();
            let (p, cap, fitting) = designs.run(&pool, &frontier, &mut options)?;
            for (&i, x) in pool.iter().zip(&p.policies[1..]) {
                frontier[i].total_cost_p90_usd = Some(p90(&x.bands));
            }
            if fitting.is_empty() {
                notes.push(NO_DESIGN_FITS.to_string());
            } else if fitting[0] != pool[0] {
                notes.push(quota_note(
                    &cap,
                    &format!("design-{}", pool[0]),
                    &frontier[pool[0]],
                ));
            }
            let mut ranked = if fitting.is_empty() {
                pool.clone()
            } else {
                fitting
            };
            ranked.sort_by(|&a, &b| {
                let key = |i: usize| frontier[i].total_cost_p90_usd.unwrap_or(f64::INFINITY);
                key(a).total_cmp(&key(b)).then(a.cmp(&b))
            });
            (ranked[0], ranked.get(1).copied())
        }
    };

    // 3. The chosen design and the runner-up through the engine again,
    // beside the scenario's own policies.
    let names: Vec<String> = base.policies.iter().map(|p| p.name.clone()).collect();
    let chosen_name = unique_name("optimized", &names);
    let runner_name = unique_name("runner-up", &names);
    let verify = |chosen: usize,
                  runner_up: Option<usize>,
                  options: &mut dyn FnMut(&Scenario) -> RunOptions<'static>| {
        let chosen_policy = design_policy(&chosen_name, &frontier[chosen], &workloads, &base);
        let mut list = policies.clone();
        list.push(chosen_policy.clone());
        if let Some(r) = runner_up {
            list.push(design_policy(&runner_name, &frontier[r], &workloads, &base));
        }
        run_variant(src, &doc, list, &baseline_name, &mut &mut *options)
            .map(|(_, p, cap)| (chosen_policy, p, cap))
    };
    let (mut chosen_policy, mut p, mut cap) = verify(chosen, runner_up, &mut options)?;
    // Quotas are shared by every workload routed to a model, so they are
    // not a constraint of the per-workload search: when the cheapest
    // design within the budget would exceed one, the next designs on the
    // frontier (dearer, better) are run together and the first that fits
    // every quota is chosen. When none fits, the cheapest is kept and the
    // notes say which quota to raise (a plan for launch, not a refusal).
    if space.objective == Objective::Mean && short_of_quota(&cap, &chosen_name).is_some() {
        let pool: Vec<usize> = (chosen + 1..frontier.len()).take(GROUP).collect();
        let (_, _, fitting) = designs.run(&pool, &frontier, &mut options)?;
        if fitting.is_empty() {
            notes.push(NO_DESIGN_FITS.to_string());
        } else {
            notes.push(quota_note(&cap, &chosen_name, &frontier[chosen]));
            chosen = fitting[0];
            runner_up = fitting.get(1).copied();
            (chosen_policy, p, cap) = verify(chosen, runner_up, &mut options)?;
        }
    }
    for q in cap.quotas.iter().filter(|q| q.policy == chosen_name) {
        if let (Some(quota), Some(headroom)) = (q.quota_tpm, q.headroom_tpm)
            && headroom < 0.0
        {
            notes.push(format!(
                "the chosen design needs {:.0} tokens a minute of {}'s quota at the busiest minute (month {}), above the {:.0} it has: ask for {:.0}, or search without that model",
                q.peak_demand_tpm, q.model, q.month, quota, q.quota_to_request_tpm
            ));
        }
    }
    let router_curves = router_curve::router_curves(src, &doc, &mut options)?;
    progress(total_runs, total_runs);
    let verified: Vec<Verified> = p
        .policies
        .iter()
        .map(|x| Verified {
            name: x.name.clone(),
            total_cost_usd: x.total_cost_usd,
            total_cost_bands_usd: x.bands.total_cost_usd.clone(),
            quality: x.quality,
            quality_loss_pp: x.quality_loss_pp,
            savings_vs_baseline_pct: x.savings_vs_baseline_pct,
        })
        .collect();
    let probability_cheaper_than_runner_up = runner_up.and_then(|_| {
        p.policies
            .iter()
            .find(|x| x.name == chosen_name)
            .and_then(|x| x.bands.probability_cheaper_than.get(&runner_name).copied())
    });
    let policy_yaml = serde_yaml::to_string(&Value::Sequence(vec![chosen_policy.clone()]))
        .map_err(|e| Error::failure(format!("writing the policy as YAML: {e}")))?;
    let mut with_policy = doc.clone();
    if let Some(Value::Sequence(seq)) = with_policy.get_mut("policies") {
        seq.push(chosen_policy);
    }
    let scenario_yaml = serde_yaml::to_string(&with_policy)
        .map_err(|e| Error::failure(format!("writing the scenario as YAML: {e}")))?;
    Ok(Optimized {
        scenario: base.name.clone(),
        baseline: baseline_name,
        max_quality_loss_pp,
        objective: space.objective,
        models,
        max_steps: space.max_steps,
        candidates: routes.len(),
        workloads,
        frontier,
        chosen,
        runner_up,
        chosen_policy: chosen_name,
        runner_up_policy: runner_up.map(|_| runner_name),
        verified,
        probability_cheaper_than_runner_up,
        policy_yaml,
        scenario_yaml,
        router_curves,
        notes,
    })
}

/// A workload's figures under each route run so far.
struct Search {
    /// Per workload, per route: the figures, once run.
    found: Vec<Vec<Option<Found>>>,
    /// Per workload: requests, cost and quality under the baseline.
    baseline: Option<Vec<(f64, f64, f64)>>,
    runs: usize,
    /// Per workload, per route run: it took every request (none unserved,
    /// no model passed over).
    complete: Vec<Vec<bool>>,
}

/// What an engine run of packed candidates needs.
struct Packing<'a> {
    src: &'a Source,
    doc: &'a Value,
    baseline_value: &'a Value,
    baseline_name: &'a str,
    workloads: Vec<String>,
    routes: &'a [(String, Value)],
    /// The route of a workload with nothing left to run in a policy.
    filler: Value,
}

impl Search {
    /// Runs `pending[w]` (route indices) on each workload `w`: the j-th
    /// policy of a run takes the j-th pending route of every workload (a
    /// `rules` policy, or the route itself when every workload runs it).
    fn run(
        &mut self,
        ctx: &mut Packing<'_>,
        pending: &[Vec<usize>],
        options: &mut impl FnMut(&Scenario) -> RunOptions<'static>,
        mut progress: impl FnMut(usize),
    ) -> Result<()> {
        let slots = pending.iter().map(Vec::len).max().unwrap_or(0);
        let mut start = 0;
        while start < slots {
            let end = (start + GROUP).min(slots);
            let mut list = vec![ctx.baseline_value.clone()];
            for j in start..end {
                let name = format!("candidate-{}", j - start);
                let at: Vec<Option<usize>> = pending.iter().map(|l| l.get(j).copied()).collect();
                if let Some(r) = at[0].filter(|r| at.iter().all(|x| *x == Some(*r))) {
                    list.push(route_policy(&name, &ctx.routes[r].1));
                    continue;
                }
                let mut rules = Mapping::new();
                for (w, r) in at.iter().enumerate() {
                    if let Some(r) = r {
                        rules.insert(
                            Value::String(ctx.workloads[w].clone()),
                            ctx.routes[*r].1.clone(),
                        );
                    }
                }
                rules.insert("default".into(), ctx.filler.clone());
                let mut p = Mapping::new();
                p.insert("name".into(), Value::String(name));
                p.insert("rules".into(), Value::Mapping(rules));
                list.push(Value::Mapping(p));
            }
            let (s, p, cap) = run_variant(ctx.src, ctx.doc, list, ctx.baseline_name, options)?;
            if self.baseline.is_none() {
                self.baseline = Some(
                    s.workloads
                        .iter()
                        .map(|w| {
                            let l = &p.policies[0].by_workload[&w.name];
                            (l.requests, l.cost_usd, l.quality)
                        })
                        .collect(),
                );
            }
            for (j, pol) in (start..end).zip(&p.policies[1..]) {
                for (w, wl) in s.workloads.iter().enumerate() {
                    let Some(r) = pending[w].get(j) else { continue };
                    let l = &pol.by_workload[&wl.name];
                    self.complete[w][*r] = l.unserved_rate == 0.0 && l.skips_per_request == 0.0;
                    // A workload's latency depends only on its own route.
                    let slo = cap
                        .slo
                        .iter()
                        .find(|v| v.policy == pol.name && v.workload == wl.name)
                        .map(|v| (v.met, v.p50_ms, v.p95_ms));
                    self.found[w][*r] = Some((l.cost_usd, l.quality, slo));
                }
            }
            self.runs += 1;
            progress(self.runs);
            start = end;
        }
        Ok(())
    }
}

/// Bounds that prove a cascade dominated on a workload before it is run.
///
/// Quality: under common outcomes a model succeeds on a request exactly
/// when the outcome uniform is below its success probability, and the
/// more capable model's probability is the higher on every request. So
/// whichever step a cascade accepts, it succeeds at most where its most
/// capable model does: its quality is at most the best of its models'
/// alone. And adding a last step changes only the requests that reach the
/// step before it and are escalated there, from that step's outcome to the
/// new one's: the quality is at most that of the cascade without its last
/// step plus the gap between the last model and the one before it alone.
///
/// Cost: a cascade calls its first steps exactly as the shorter cascade of
/// those steps does (the same gate draws, the same traffic to each model,
/// so the same cache), and more: it costs at least that shorter route.
///
/// The first quality bound needs every model of the cascade to have taken
/// every request of the workload alone (none is ever passed over); the
/// second only its last two models (the steps before them are passed over
/// alike with or without the last step). The cost bound needs nothing.
/// A cascade is skipped when a route already run on the workload, within
/// its limit and latency objective, costs no more than the lower bound and
/// succeeds at least as often as an upper bound.
struct Bounds<'a> {
    /// Allowed routes run so far: (cost, quality), cheapest first, each
    /// better than every cheaper one.
    frontier: Vec<(f64, f64)>,
    /// The route of each single model and cascade, by its steps (indices
    /// into the models).
    by_steps: &'a HashMap<Vec<usize>, usize>,
}

impl<'a> Bounds<'a> {
    fn of(
        search: &Search,
        w: usize,
        limits: &[Option<f64>],
        by_steps: &'a HashMap<Vec<usize>, usize>,
    ) -> Bounds<'a> {
        let base_q = search.baseline.as_ref().map_or(0.0, |b| b[w].2);
        let points: Vec<((), f64, f64)> = search.found[w]
            .iter()
            .flatten()
            .filter(|(_, q, slo)| {
                limits[w].is_none_or(|l| (base_q - q) * 100.0 <= l + 1e-9)
                    && slo.is_none_or(|x| x.0)
            })
            .map(|&(c, q, _)| ((), c, q))
            .collect();
        Bounds {
            frontier: pareto(points).into_iter().map(|(_, c, q)| (c, q)).collect(),
            by_steps,
        }
    }

    /// The cost the cascade of `steps` is known to reach: that of its
    /// longest prefix already run (0 when none is).
    fn lower_cost(&self, search: &Search, w: usize, steps: &[usize]) -> f64 {
        (1..steps.len())
            .rev()
            .find_map(|n| {
                let r = self.by_steps.get(&steps[..n])?;
                search.found[w][*r].map(|f| f.0)
            })
            .unwrap_or(0.0)
    }

    /// Whether a route already run (and allowed) costs no more than the
    /// cascade's lower bound and succeeds at least as often as its upper
    /// bound.
    fn dominated(&self, search: &Search, w: usize, steps: &[usize]) -> bool {
        // Each step's quality alone, if it took every request of the
        // workload alone.
        let mut alone: Vec<Option<f64>> = Vec::with_capacity(steps.len());
        for &m in steps {
            let Some(&r) = self.by_steps.get(&[m][..]) else {
                return false;
            };
            alone.push(
                search.found[w][r]
                    .filter(|_| search.complete[w][r])
                    .map(|f| f.1),
            );
        }
        // The best model alone bounds the cascade when every model took
        // every request (none is ever passed over).
        let mut best = if alone.iter().all(Option::is_some) {
            alone
                .iter()
                .flatten()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)
        } else {
            f64::INFINITY
        };
        // Adding a last step changes only the requests that reach the one
        // before it and are escalated: from its outcome to the new step's,
        // a gain of at most (p_last − p_before)⁺ on each, whose mean is the
        // gap between the two models alone. This needs only those two to
        // take every request (the steps before are passed over alike).
        if let [.., Some(before), Some(last)] = alone[..]
            && let Some(&r) = self.by_steps.get(&steps[..steps.len() - 1])
            && let Some(prefix) = search.found[w][r]
        {
            best = best.min(prefix.1 + (last - before).max(0.0));
        }
        if !best.is_finite() {
            return false;
        }
        let lower = self.lower_cost(search, w, steps);
        // A margin of a billionth keeps rounding from deciding.
        self.frontier
            .iter()
            .take_while(|(c, _)| *c <= lower - 1e-9 * lower.abs())
            .any(|(_, q)| *q >= best + 1e-12)
    }
}

/// A cascade route's steps as indices into `models`; `None` for any other
/// route.
fn cascade_steps(route: &Value, models: &[String]) -> Option<Vec<usize>> {
    route
        .get("cascade")?
        .get("steps")?
        .as_sequence()?
        .iter()
        .map(|k| models.iter().position(|m| Some(m.as_str()) == k.as_str()))
        .collect()
}

/// What running whole designs together needs.
struct Designs<'a> {
    src: &'a Source,
    doc: &'a Value,
    baseline_value: &'a Value,
    baseline_name: &'a str,
    workloads: &'a [WorkloadSearch],
    base: &'a Scenario,
}

impl Designs<'_> {
    /// The frontier designs `pool` (at most 63) run together beside the
    /// baseline as policies `design-<index>`: the projection, the capacity
    /// figures, and those of `pool` that fit every quota, in order.
    fn run(
        &self,
        pool: &[usize],
        frontier: &[Design],
        options: &mut impl FnMut(&Scenario) -> RunOptions<'static>,
    ) -> Result<(Projection, Capacity, Vec<usize>)> {
        let mut list = vec![self.baseline_value.clone()];
        for &i in pool {
            list.push(design_policy(
                &format!("design-{i}"),
                &frontier[i],
                self.workloads,
                self.base,
            ));
        }
        let (_, p, cap) = run_variant(self.src, self.doc, list, self.baseline_name, options)?;
        let fitting = pool
            .iter()
            .copied()
            .filter(|i| short_of_quota(&cap, &format!("design-{i}")).is_none())
            .collect();
        Ok((p, cap, fitting))
    }
}

/// The first quota line on which `policy` is short at the busiest minute.
fn short_of_quota<'a>(cap: &'a Capacity, policy: &str) -> Option<&'a QuotaLine> {
    cap.quotas
        .iter()
        .find(|q| q.policy == policy && q.headroom_tpm.is_some_and(|h| h < 0.0))
}

/// What the cheapest design within the budget lacks, said in a note when
/// a dearer design was chosen because it fits the quotas.
fn quota_note(cap: &Capacity, policy: &str, d: &Design) -> String {
    match short_of_quota(cap, policy) {
        Some(q) => format!(
            "the cheapest design within the budget ({}) needs {:.0} tokens a minute of {}'s quota at the busiest minute (month {}), above the {:.0} it has: the chosen design is the cheapest on the frontier that fits every quota (ask for {:.0} to use the cheaper one)",
            usd_text(d.total_cost_usd),
            q.peak_demand_tpm,
            q.model,
            q.month,
            q.quota_tpm.unwrap_or(0.0),
            q.quota_to_request_tpm
        ),
        None => String::new(),
    }
}

/// Said when no design tried fits the quotas: the cheapest is kept, and
/// the note after it says what to ask for.
const NO_DESIGN_FITS: &str = "no design on the frontier within the budget fits every quota (the 63 cheapest were run), so the cheapest is kept";

/// Dollars with cents and thousands separators, for messages (analysis
/// does not use `render`).
fn usd_text(x: f64) -> String {
    let cents = format!("{:.2}", x.abs());
    let (whole, frac) = cents.split_once('.').unwrap_or((&cents, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{frac}")
}

/// The P90 of a policy's total cost over replications: the band at 0.9
/// (the verifying runs use the default quantiles, which include it).
fn p90(b: &Bands) -> f64 {
    b.quantiles
        .iter()
        .position(|q| (q - 0.9).abs() < 1e-12)
        .map_or(f64::NAN, |i| b.total_cost_usd[i])
}

/// Per workload, its quality limit, checked against the scenario.
fn workload_limits(s: &Scenario, given: &[(String, f64)]) -> Result<Vec<Option<f64>>> {
    let mut out = vec![None; s.workloads.len()];
    for (name, pp) in given {
        let Some(w) = s.workload_index(name) else {
            let names: Vec<&str> = s.workloads.iter().map(|w| w.name.as_str()).collect();
            let hint = suggest(name, names.iter().copied())
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(Error::input(format!(
                "no workload `{name}` in the scenario{hint}; its workloads: {}",
                names.join(", ")
            )));
        };
        if !(pp.is_finite() && (0.0..=100.0).contains(pp)) {
            return Err(Error::input(format!(
                "the quality limit for workload `{name}` must be between 0 and 100 percentage points, got {pp}"
            )));
        }
        out[w] = Some(*pp);
    }
    Ok(out)
}

/// The candidate models' keys, cheapest first (by input plus output list
/// price per token at the standard tier; ties in catalog order).
fn candidate_models(s: &Scenario, asked: Option<&[String]>) -> Result<Vec<String>> {
    let catalog = &s.catalog;
    let usable = |i: usize| s.profile_used.get(i).is_some_and(Option::is_some);
    let mut picked: Vec<usize> = match asked {
        None => (0..catalog.models.len()).filter(|&i| usable(i)).collect(),
        Some(keys) => {
            if keys.is_empty() {
                return Err(Error::input(
                    "name at least one candidate model, e.g. --models nova-micro,nova-pro,claude-sonnet-4-5",
                ));
            }
            let mut out = Vec::new();
            for k in keys {
                let Some(i) = catalog.models.iter().position(|m| m.key == *k) else {
                    let hint = suggest(k, catalog.models.iter().map(|m| m.key.as_str()))
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    return Err(Error::input(format!(
                        "no model `{k}` in catalog {}{hint}; `tiersim models` lists them",
                        catalog.name
                    )));
                };
                if !usable(i) {
                    return Err(Error::input(format!(
                        "model `{k}` is not offered in the scenario's price profile `{}`",
                        s.profile
                    )));
                }
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            out
        }
    };
    if picked.is_empty() {
        return Err(Error::input(format!(
            "no model of catalog {} is offered in the scenario's price profile `{}`",
            catalog.name, s.profile
        )));
    }
    let price = |i: usize| catalog.models[i].rates.input + catalog.models[i].rates.output;
    picked.sort_by(|&a, &b| price(a).total_cmp(&price(b)).then(a.cmp(&b)));
    Ok(picked
        .into_iter()
        .map(|i| catalog.models[i].key.clone())
        .collect())
}

/// A gate given for the search, checked as the scenario would check it: a
/// one-variant run is not needed, only the scenario's validation of a
/// cascade with that gate.
fn checked_gate(
    src: &Source,
    doc: &Value,
    baseline: &Value,
    models: &[String],
    given: &Value,
) -> Result<Value> {
    if !given.is_mapping() {
        return Err(Error::input(
            "the gate must be a mapping like { recall: 0.9, false_alarm: 0.1 }, with an optional judge: { model, input_tokens, output_tokens } or cost_usd",
        ));
    }
    let mut cascade = Mapping::new();
    let steps: Vec<Value> = models.iter().take(2).cloned().map(Value::String).collect();
    cascade.insert("steps".into(), Value::Sequence(steps));
    cascade.insert("gate".into(), given.clone());
    let mut policy = Mapping::new();
    policy.insert("name".into(), Value::String("gate-check".into()));
    policy.insert("cascade".into(), Value::Mapping(cascade));
    let baseline_name = baseline.get("name").and_then(Value::as_str).unwrap_or("");
    let checked = router_curve::variant(
        src,
        doc,
        vec![baseline.clone(), Value::Mapping(policy)],
        baseline_name,
    );
    match checked {
        Ok(_) => Ok(given.clone()),
        // Positions in the variant would point into the user's file at
        // the wrong place: each problem is named by its field in the gate.
        Err(e) => {
            let mut err = Error::input("the gate given is not valid");
            err.diagnostics = e
                .diagnostics
                .iter()
                .map(|d| {
                    let field = d
                        .path
                        .as_deref()
                        .and_then(|p| p.strip_prefix("policies[1].cascade.gate"))
                        .map(|f| f.trim_start_matches('.'))
                        .filter(|f| !f.is_empty())
                        .map(|f| format!("{f}: "))
                        .unwrap_or_default();
                    Diagnostic::new(format!("the gate given: {field}{}", d.message))
                })
                .collect();
            Err(err)
        }
    }
}

/// Every classifier in a policy (in `rules` entries too).
fn find_classifiers(v: &Value) -> Vec<Mapping> {
    match v {
        Value::Mapping(m) => {
            let mut out: Vec<Mapping> = m
                .get("classifier")
                .and_then(Value::as_mapping)
                .cloned()
                .into_iter()
                .collect();
            for (k, x) in m {
                if k.as_str() != Some("classifier") {
                    out.extend(find_classifiers(x));
                }
            }
            out
        }
        Value::Sequence(s) => s.iter().flat_map(find_classifiers).collect(),
        _ => Vec::new(),
    }
}

/// The first cascade gate in a policy (in a `rules` entry too).
fn find_gate(v: &Value) -> Option<Value> {
    match v {
        Value::Mapping(m) => {
            if let Some(g) = m
                .get("cascade")
                .and_then(|c| c.get("gate"))
                .filter(|g| g.is_mapping())
            {
                return Some(g.clone());
            }
            m.values().find_map(find_gate)
        }
        Value::Sequence(s) => s.iter().find_map(find_gate),
        _ => None,
    }
}

/// Every route: each model alone, then each cascade of 2 to `max_steps`
/// models in price order, as (label, the route as a `rules` entry).
fn candidate_routes(
    models: &[String],
    max_steps: usize,
    gate: Option<&Value>,
) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = models
        .iter()
        .map(|m| (m.clone(), Value::String(m.clone())))
        .collect();
    let Some(gate) = gate else {
        return out;
    };
    for steps in 2..=max_steps.min(models.len()) {
        let mut idx: Vec<usize> = (0..steps).collect();
        loop {
            let keys: Vec<&String> = idx.iter().map(|&i| &models[i]).collect();
            let mut cascade = Mapping::new();
            cascade.insert(
                "steps".into(),
                Value::Sequence(keys.iter().map(|k| Value::String((*k).clone())).collect()),
            );
            cascade.insert("gate".into(), gate.clone());
            let mut route = Mapping::new();
            route.insert("cascade".into(), Value::Mapping(cascade));
            let label = keys
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" > ");
            out.push((label, Value::Mapping(route)));
            // The next combination in lexicographic order.
            let n = models.len();
            let Some(i) = (0..steps).rev().find(|&i| idx[i] < n - steps + i) else {
                break;
            };
            idx[i] += 1;
            for j in i + 1..steps {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }
    out
}

/// A route as a policy over every workload.
fn route_policy(name: &str, route: &Value) -> Value {
    let mut p = Mapping::new();
    p.insert("name".into(), Value::String(name.to_string()));
    match route {
        Value::String(model) => {
            p.insert("single".into(), Value::String(model.clone()));
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                p.insert(k.clone(), v.clone());
            }
        }
        _ => {}
    }
    Value::Mapping(p)
}

/// A design as a `rules` policy.
fn design_policy(name: &str, d: &Design, workloads: &[WorkloadSearch], s: &Scenario) -> Value {
    let mut rules = Mapping::new();
    for ((&c, w), wl) in d.choice.iter().zip(workloads).zip(&s.workloads) {
        rules.insert(
            Value::String(wl.name.clone()),
            w.candidates[c].value.clone(),
        );
    }
    let mut p = Mapping::new();
    p.insert("name".into(), Value::String(name.to_string()));
    p.insert("rules".into(), Value::Mapping(rules));
    Value::Mapping(p)
}

fn unique_name(want: &str, taken: &[String]) -> String {
    let mut name = want.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{want}-{n}");
        n += 1;
    }
    name
}

/// The undominated points among (index, cost, successes): cheapest first,
/// each with more successes than every cheaper one (ties in cost go to the
/// most successes, then the earlier index).
fn pareto<T: Clone>(mut points: Vec<(T, f64, f64)>) -> Vec<(T, f64, f64)> {
    points.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.2.total_cmp(&a.2)));
    let mut out: Vec<(T, f64, f64)> = Vec::new();
    for p in points {
        if out.last().is_none_or(|last| p.2 > last.2) {
            out.push(p);
        }
    }
    out
}

/// The frontier of whole designs: (cost, successes, route per workload),
/// built one workload at a time from each workload's frontier (a stable
/// sort keeps the order of equal points the same on every run).
fn combine(workloads: &[WorkloadSearch]) -> Vec<(f64, f64, Vec<usize>)> {
    let mut designs: Vec<(Vec<usize>, f64, f64)> = vec![(Vec::new(), 0.0, 0.0)];
    for w in workloads {
        let front: Vec<(usize, f64, f64)> = w
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.on_frontier)
            .map(|(i, c)| (i, c.cost_usd, c.quality * w.requests))
            .collect();
        let mut next = Vec::with_capacity(designs.len() * front.len());
        for (choice, cost, succ) in &designs {
            for &(i, c, s) in &front {
                let mut ch = choice.clone();
                ch.push(i);
                next.push((ch, cost + c, succ + s));
            }
        }
        designs = pareto(next);
    }
    designs
        .into_iter()
        .map(|(choice, cost, succ)| (cost, succ, choice))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(name: &str, requests: f64, routes: &[(f64, f64)]) -> WorkloadSearch {
        let mut w = WorkloadSearch {
            workload: name.to_string(),
            requests,
            baseline_cost_usd: 0.0,
            baseline_quality: 1.0,
            limit_pp: None,
            skipped_routes: 0,
            candidates: routes
                .iter()
                .enumerate()
                .map(|(i, &(cost_usd, quality))| Candidate {
                    route: format!("r{i}"),
                    cost_usd,
                    quality,
                    quality_loss_pp: 0.0,
                    latency_p50_ms: None,
                    latency_p95_ms: None,
                    meets_slo: None,
                    allowed: true,
                    on_frontier: false,
                    value: Value::Null,
                })
                .collect(),
        };
        let points = w
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.cost_usd, c.quality * requests))
            .collect();
        for (i, _, _) in pareto(points) {
            w.candidates[i].on_frontier = true;
        }
        w
    }

    /// The cheapest (cost, successes) with at least `min_successes`, by
    /// trying every combination.
    fn exhaustive(ws: &[WorkloadSearch], min_successes: f64) -> Option<f64> {
        let mut best: Option<f64> = None;
        let n: usize = ws.iter().map(|w| w.candidates.len()).product();
        for mut k in 0..n {
            let (mut cost, mut succ) = (0.0, 0.0);
            for w in ws {
                let c = &w.candidates[k % w.candidates.len()];
                k /= w.candidates.len();
                cost += c.cost_usd;
                succ += c.quality * w.requests;
            }
            if succ >= min_successes - 1e-9 && best.is_none_or(|b| cost < b) {
                best = Some(cost);
            }
        }
        best
    }

    #[test]
    fn combined_frontier_matches_exhaustive_search() {
        // Three workloads with scattered routes (a Weyl sequence); for
        // every success floor the cheapest design on the combined frontier
        // equals the cheapest of all combinations.
        let mut i = 0u32;
        let mut next = || {
            i += 1;
            (f64::from(i) * 0.618_033_988_749_894_9).fract()
        };
        let ws: Vec<WorkloadSearch> = (0..3)
            .map(|w| {
                let routes: Vec<(f64, f64)> = (0..6)
                    .map(|_| (100.0 * next(), 0.5 + 0.5 * next()))
                    .collect();
                search(&format!("w{w}"), 1000.0 * (w + 1) as f64, &routes)
            })
            .collect();
        let designs = combine(&ws);
        // Undominated: strictly more successes for strictly more cost.
        for pair in designs.windows(2) {
            assert!(pair[1].0 > pair[0].0 && pair[1].1 > pair[0].1);
        }
        let max_succ = designs.last().unwrap().1;
        for step in 0..=40 {
            let floor = max_succ * (0.5 + 0.5 * step as f64 / 40.0);
            let from_frontier = designs.iter().find(|d| d.1 >= floor - 1e-9).map(|d| d.0);
            let brute = exhaustive(&ws, floor);
            assert_eq!(from_frontier.is_some(), brute.is_some(), "floor {floor}");
            if let (Some(a), Some(b)) = (from_frontier, brute) {
                assert!(
                    (a - b).abs() < 1e-9,
                    "floor {floor}: frontier {a}, exhaustive {b}"
                );
            }
        }
    }

    #[test]
    fn pareto_keeps_only_undominated_points() {
        let pts = vec![
            (0, 3.0, 10.0),
            (1, 1.0, 5.0),
            (2, 2.0, 5.0),
            (3, 2.0, 8.0),
            (4, 4.0, 9.0),
        ];
        let kept: Vec<usize> = pareto(pts).into_iter().map(|p| p.0).collect();
        // (2, 5) is beaten by (1, 5); (4, 9) by (3, 10).
        assert_eq!(kept, vec![1, 3, 0]);
    }

    #[test]
    fn cascades_are_every_combination_in_price_order() {
        let models: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let gate = Value::Mapping(Mapping::new());
        let routes = candidate_routes(&models, 3, Some(&gate));
        let labels: Vec<&str> = routes.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "a",
                "b",
                "c",
                "d",
                "a > b",
                "a > c",
                "a > d",
                "b > c",
                "b > d",
                "c > d",
                "a > b > c",
                "a > b > d",
                "a > c > d",
                "b > c > d"
            ]
        );
        assert_eq!(candidate_routes(&models, 3, None).len(), 4);
    }
}
