//! The engine: traffic → policies → ledger, for every (replication, month).
//!
//! Two ways to fill the ledger. [`exact`] simulates every request (the
//! reference, and right for small volumes); [`fast`] routes a fixed
//! stratified sample per workload and scales it, so run time does not grow
//! with volume (the default). Both book decisions with the same code
//! (`book`), so they differ only in how requests are drawn and how cache
//! hits are decided.
//!
//! Work items run in parallel with rayon. Each owns its random stream and
//! results are folded in a fixed order, so the output is byte-identical
//! whatever the number of threads.

mod book;
pub mod exact;
pub mod fast;
pub mod instance;
pub mod ledger;
pub mod quota;
pub mod session;
mod session_run;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::scenario::Scenario;
use crate::sim::instance::{AtQuantile, Draws, Instance, resolve};
use crate::sim::ledger::{Costs, Ledger};

/// How requests are simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every request (run time grows with volume).
    Exact,
    /// A fixed stratified sample of `samples` requests per workload, scaled.
    Fast { samples: usize },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Exact => "exact",
            Mode::Fast { .. } => "fast",
        }
    }
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Fast {
            samples: fast::DEFAULT_SAMPLES,
        }
    }
}

/// How to run a scenario.
pub struct RunOptions<'a> {
    pub replications: u32,
    pub mode: Mode,
    /// Worker threads; `None` uses all cores.
    pub threads: Option<usize>,
    /// Policies added to the scenario's own (e.g. a custom policy from a library user).
    pub extra_policies: Vec<Arc<dyn Policy>>,
    /// Called with (work items done, total) as the run progresses.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// In exact mode, refuse months above this many requests (a guard
    /// against runs that would take hours); `None` for no limit.
    pub max_exact_requests_per_month: Option<f64>,
    /// Fast mode: use fewer samples per workload when many replications need
    /// their own (see `fast::run`); off keeps `samples` exactly.
    pub adapt_samples: bool,
    /// Instead of random draws, every uncertain input at its median except
    /// these paths, pinned at the given quantile (sensitivity analysis).
    pub pinned_quantiles: Option<std::collections::BTreeMap<String, f64>>,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            replications: 1,
            mode: Mode::default(),
            threads: None,
            extra_policies: Vec::new(),
            progress: None,
            max_exact_requests_per_month: Some(EXACT_MODE_LIMIT),
            pinned_quantiles: None,
            adapt_samples: true,
        }
    }
}

/// Largest monthly volume exact mode simulates by default.
pub const EXACT_MODE_LIMIT: f64 = 200_000_000.0;

/// One replication's month, for one policy, in a few numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RepMonth {
    pub requests: f64,
    pub cost_usd: f64,
    pub succeeded: f64,
    pub escalated: f64,
}

/// What the engine produces.
pub struct Run {
    pub mode: Mode,
    pub policy_names: Vec<String>,
    pub policy_kinds: Vec<String>,
    /// What each policy is to the analysis.
    pub policy_roles: Vec<crate::policy::Role>,
    pub replications: u32,
    pub months: usize,
    /// Mean over replications, by `[month][policy]`.
    pub ledgers: Vec<Vec<Ledger>>,
    /// Mean cost over replications, by `[month][policy]`.
    pub costs: Vec<Vec<Costs>>,
    /// Per replication, by `[rep][month][policy]`.
    pub reps: Vec<Vec<Vec<RepMonth>>>,
    /// Mean requests per month.
    pub volumes: Vec<f64>,
    /// Fast mode: standard error of each month's mean cost (USD) and quality
    /// (fraction) from the fixed sample, by `[month][policy]`; zero in exact mode.
    pub cost_se: Vec<Vec<f64>>,
    pub quality_se: Vec<Vec<f64>>,
    /// Values drawn for uncertain inputs, per replication.
    pub drawn: Vec<Vec<(String, f64)>>,
    /// When throttling was simulated: the share of calls refused, by
    /// `[month][policy][model]`.
    pub throttled: Option<Vec<Vec<Vec<f64>>>>,
}

/// What both paths share: the validated options, the names, the thread pool.
pub(crate) struct Setup<'s, 'o> {
    pub scenario: &'s Scenario,
    pub opts: &'o RunOptions<'o>,
    pub reps: u32,
    pub months: usize,
    pub np: usize,
    pub nw: usize,
    pub nm: usize,
    pool: Option<rayon::ThreadPool>,
    done: AtomicU64,
    policy_names: Vec<String>,
    policy_kinds: Vec<String>,
    policy_roles: Vec<crate::policy::Role>,
    /// Simulated throttling's refused shares (second pass only).
    throttle: Option<std::sync::Arc<Vec<Vec<Vec<f64>>>>>,
}

impl Setup<'_, '_> {
    /// Replication `r`'s instance, with the caller's extra policies.
    pub fn instance(&self, r: u64) -> Instance {
        let mut inst = match &self.opts.pinned_quantiles {
            Some(pins) => resolve(
                self.scenario,
                &mut AtQuantile {
                    pinned: pins.clone(),
                },
                r,
            ),
            None => resolve(
                self.scenario,
                &mut Draws {
                    seed: self.scenario.seed,
                    replication: r,
                },
                r,
            ),
        };
        inst.policies
            .extend(self.opts.extra_policies.iter().cloned());
        // A policy added in code reads the session state itself.
        inst.session_routing
            .resize(inst.policies.len(), crate::policy::SessionRouting::PerTurn);
        inst.throttle = self.throttle.clone();
        inst
    }

    /// Runs `f` on the configured thread pool.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }

    /// Reports one finished work item.
    pub fn tick(&self) {
        let d = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(p) = self.opts.progress {
            p(d, self.reps as u64 * self.months as u64);
        }
    }

    pub fn empty_run(&self) -> Run {
        let (np, nw, nm, months) = (self.np, self.nw, self.nm, self.months);
        Run {
            mode: self.opts.mode,
            policy_names: self.policy_names.clone(),
            policy_kinds: self.policy_kinds.clone(),
            policy_roles: self.policy_roles.clone(),
            replications: self.reps,
            months,
            ledgers: vec![vec![Ledger::new(nw, nm); np]; months],
            costs: vec![vec![Costs::zero(nw, nm); np]; months],
            reps: Vec::with_capacity(self.reps as usize),
            volumes: vec![0.0; months],
            cost_se: vec![vec![0.0; np]; months],
            quality_se: vec![vec![0.0; np]; months],
            drawn: Vec::with_capacity(self.reps as usize),
            throttled: self.throttle.as_ref().map(|t| t.as_ref().clone()),
        }
    }
}

/// Most ledger cells a run holds (months x policies x workloads x catalog
/// models). Measured: a run of this many cells (12 months, 62 policies, 256
/// workloads, 22 models, 1 replication) peaked at 2.9 GB, about 700 bytes a
/// cell, and took four minutes on two cores. The shipped scenarios hold
/// under 10,000; a scenario at every other limit at once (120 months, 64
/// policies, 256 workloads) would hold 43 million, and was stopped by the
/// allocator before this check.
pub const MAX_LEDGER_CELLS: u64 = 1 << 22;

/// Peak memory per ledger cell, measured (see [`MAX_LEDGER_CELLS`]).
const BYTES_PER_LEDGER_CELL: f64 = 700.0;

/// Most per-replication results a run holds (replications x months x
/// policies). Measured: 7.2 million (support-platform, 100,000
/// replications) peaked at 373 MB, about 50 bytes each, so this is about
/// 1.7 GB.
pub const MAX_REPLICATION_CELLS: u64 = 1 << 25;

/// Checks that running `s` with `replications` (and its own policies)
/// fits the size limits, as [`run`] does before allocating; `tiersim
/// validate` uses it to refuse such a scenario without running it.
pub fn check_scenario_size(s: &Scenario, replications: u32) -> Result<()> {
    check_shape(
        u64::from(s.horizon_months),
        s.policies.len() as u64,
        s.workloads.len() as u64,
        s.catalog.models.len() as u64,
        u64::from(replications.max(1)),
    )
    .map_err(|e| in_scenario_file(e, s))
}

/// Names the scenario's file in an error about the scenario as a whole.
fn in_scenario_file(e: Error, s: &Scenario) -> Error {
    match &s.path {
        Some(p) => e.in_file(p),
        None => e,
    }
}

/// Refuses a run whose results would not fit in memory, before anything
/// is allocated, saying which sizes multiply up and what to lower.
fn check_shape(months: u64, np: u64, nw: u64, nm: u64, reps: u64) -> Result<()> {
    let cells = months * np * nw * nm;
    if cells > MAX_LEDGER_CELLS {
        return Err(Error::limit(format!(
            "this scenario is too large to simulate: {months} months x {np} policies x {nw} workloads x {nm} catalog models = {cells} ledger cells (about {:.0} GB of memory); at most {MAX_LEDGER_CELLS} (about 3 GB): use fewer months, policies or workloads, or a catalog with only the models you route to",
            cells as f64 * BYTES_PER_LEDGER_CELL / 1e9
        )));
    }
    if reps * months * np > MAX_REPLICATION_CELLS {
        return Err(Error::limit(format!(
            "{reps} replications x {months} months x {np} policies = {} per-replication results; at most {MAX_REPLICATION_CELLS} (about 1.7 GB): use at most {} replications",
            reps * months * np,
            MAX_REPLICATION_CELLS / (months * np).max(1)
        )));
    }
    Ok(())
}

/// A pool of `threads` worker threads (at least one).
fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::failure(format!("cannot start worker threads: {e}")))
}

/// Runs `f` with its parallel loops on `threads` worker threads (a pool of
/// its own), or on the current rayon pool (all cores, unless a caller
/// installed another) when `None`: what [`RunOptions::threads`] is to
/// [`run`], for the analyses of a run's results that work in parallel
/// (`analysis::projection::project_with` summarises policies so).
pub fn on_threads<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    match threads {
        Some(t) => Ok(pool(t)?.install(f)),
        None => Ok(f()),
    }
}

/// Runs every replication and month of `scenario`.
pub fn run(scenario: &Scenario, opts: &RunOptions<'_>) -> Result<Run> {
    let reps = opts.replications.max(1);
    let months = scenario.horizon_months as usize;
    let mut setup = Setup {
        scenario,
        opts,
        reps,
        months,
        np: 0,
        nw: scenario.workloads.len(),
        nm: scenario.catalog.models.len(),
        pool: None,
        done: AtomicU64::new(0),
        policy_names: Vec::new(),
        policy_kinds: Vec::new(),
        policy_roles: Vec::new(),
        throttle: None,
    };
    let first = setup.instance(0);
    // A session is many calls: the limit counts calls.
    let calls_per_unit: f64 = first
        .workloads
        .iter()
        .map(|w| {
            w.share
                * w.session.as_ref().map_or(1.0, |s| {
                    s.turns
                        .mean()
                        .clamp(1.0, crate::traffic::session::MAX_TURNS as f64)
                })
        })
        .sum();
    if opts.mode == Mode::Exact
        && let Some(limit) = opts.max_exact_requests_per_month
        && let Some(v) = first
            .volumes
            .iter()
            .copied()
            .find(|v| *v * calls_per_unit.max(1.0) > limit)
    {
        let msg = if first.workloads.iter().any(|w| w.session.is_some()) {
            format!(
                "exact mode simulates every call, and this scenario reaches about {:.0} calls in a month ({v:.0} sessions and requests; limit {limit:.0} calls)",
                v * calls_per_unit
            )
        } else {
            format!(
                "exact mode simulates every request, and this scenario reaches {v:.0} requests in a month (limit {limit:.0})"
            )
        };
        return Err(Error::limit_of(
            crate::error::Diagnostic::new(msg)
                .with_remedy(crate::error::Remedy::FastModeOrLowerVolume),
        ));
    }
    if let Mode::Fast { samples } = opts.mode
        && !(16..=fast::MAX_SAMPLES).contains(&samples)
    {
        return Err(Error::input(format!(
            "samples per workload must be between 16 and {}, got {samples}",
            fast::MAX_SAMPLES
        )));
    }
    setup.policy_names = first
        .policies
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    setup.policy_kinds = first
        .policies
        .iter()
        .map(|p| p.kind().to_string())
        .collect();
    setup.policy_roles = first.policies.iter().map(|p| p.role()).collect();
    let mut seen = std::collections::BTreeSet::new();
    for n in &setup.policy_names {
        if !seen.insert(n) {
            return Err(Error::input(format!(
                "two policies are named `{n}`; policy names must be unique"
            )));
        }
    }
    setup.np = setup.policy_names.len();
    drop(first);
    check_shape(
        setup.months as u64,
        setup.np as u64,
        setup.nw as u64,
        setup.nm as u64,
        u64::from(setup.reps),
    )
    .map_err(|e| in_scenario_file(e, scenario))?;
    if let Some(t) = opts.threads {
        setup.pool = Some(pool(t)?);
    }
    if scenario.simulate_throttling && opts.mode != Mode::Exact {
        return Err(Error::input(
            "simulate_throttling: the fast path does not simulate throttling yet; run in exact mode (the capacity report gives the throttled shares in either mode)",
        ));
    }
    Ok(match opts.mode {
        Mode::Exact => {
            let first = exact::run(&setup);
            if !scenario.simulate_throttling {
                return Ok(first);
            }
            // A second pass with each model's refused share from the
            // first: a refused call moves on like one the model cannot
            // take. Spilled calls add to their new model's demand without
            // being refused again (one pass, not a fixed point).
            let table = quota::throttle_table(scenario, &first.ledgers);
            if table.iter().flatten().flatten().all(|x| *x == 0.0) {
                let mut first = first;
                first.throttled = Some(table);
                return Ok(first);
            }
            setup.throttle = Some(std::sync::Arc::new(table));
            setup.done.store(0, Ordering::Relaxed);
            exact::run(&setup)
        }
        Mode::Fast { samples } => fast::run(&setup, samples),
    })
}
