//! Scenarios: what traffic to simulate, with which catalog, under which
//! policies.
//!
//! Loading goes file → [`spec::ScenarioSpec`] (serde, unknown fields
//! rejected) → `PATH=VALUE` overrides → [`Scenario`] (validated: references
//! resolved to catalog ids, every number range-checked, distributions
//! checked to stay in range). Nothing past loading fails on user input.
//! A [`Scenario`] may hold uncertain numbers; `sim::instance::Instance` is
//! one replication's concrete draw of them.

pub mod overrides;
pub mod schema;
pub mod spec;
pub mod templates;
mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::pricing::{ServiceTier, Ttl};
use crate::catalog::{Catalog, Modality, ModelId, TaskKind};
pub use crate::check::{Param, Quantity, Reach};
use crate::error::{Origin, Result};
use crate::input::yaml::{self, Source};
pub use crate::policy::PolicyNode;
pub use spec::ScenarioSpec;

/// The peak-to-average traffic ratio provisioned units are sized for unless
/// a scenario says otherwise.
pub const DEFAULT_PEAK_TO_AVERAGE: f64 = 2.0;

/// Largest monthly volume accepted: generous (a trillion requests) yet far
/// from where counts would lose integer precision.
pub const MAX_REQUESTS_PER_MONTH: f64 = 1e12;
/// Longest horizon accepted, in months.
pub const MAX_HORIZON_MONTHS: u32 = 120;
/// Most replications accepted.
pub const MAX_REPLICATIONS: u32 = 100_000;
/// Most distinct cache prefixes per workload.
pub const MAX_DISTINCT_PREFIXES: f64 = 1_000_000.0;

#[derive(Debug, Clone)]
pub enum Growth {
    None,
    MonthlyPct(Param),
    /// Requests per month, one per month.
    Schedule(Vec<Param>),
    Logistic {
        capacity: Param,
        steepness: Param,
    },
}

#[derive(Debug, Clone)]
pub struct Volume {
    /// Month-1 requests (unused with a schedule).
    pub start: Option<Param>,
    pub growth: Growth,
}

#[derive(Debug, Clone)]
pub enum TokenDef {
    Constant(Param),
    Lognormal {
        median: Param,
        p90: Param,
        max: Option<f64>,
    },
    LognormalMuSigma {
        mu: Param,
        sigma: Param,
        max: Option<f64>,
    },
    Uniform {
        min: Param,
        max: Param,
    },
    Empirical {
        values: Vec<f64>,
        weights: Option<Vec<f64>>,
    },
}

#[derive(Debug, Clone)]
pub enum DifficultyDef {
    Constant(Param),
    Beta { mean: Param, concentration: Param },
    Uniform { min: Param, max: Param },
}

#[derive(Debug, Clone)]
pub enum CacheDef {
    /// Hits derived from traffic: requests spread evenly over `distinct_prefixes`.
    Traffic {
        prefix_tokens: Param,
        distinct_prefixes: Param,
        ttl: Ttl,
    },
    /// A pinned hit rate.
    Pinned {
        prefix_tokens: Param,
        hit_rate: Param,
        ttl: Ttl,
    },
}

#[derive(Debug, Clone)]
pub struct WorkloadDef {
    pub name: String,
    pub description: Option<String>,
    pub share: Param,
    pub task: TaskKind,
    pub modality: Modality,
    pub input_tokens: TokenDef,
    pub output_tokens: TokenDef,
    pub difficulty: DifficultyDef,
    pub cache: Option<CacheDef>,
    pub batch_share: Param,
    /// The service tier the workload's calls ask for.
    pub service: ServiceTier,
    /// `max_tokens` each call sets (`None`: the model's maximum output).
    pub max_tokens: Option<u64>,
    pub slo: Option<Slo>,
    pub session: Option<SessionDef>,
}

/// A checked latency objective, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// A checked session (see `spec::SessionSpec`).
#[derive(Debug, Clone)]
pub struct SessionDef {
    pub turns: TokenDef,
    pub gap_seconds: TokenDef,
    pub turn_difficulty_spread: Param,
    pub success: SessionSuccessDef,
    pub compaction: Option<CompactionDef>,
}

#[derive(Debug, Clone)]
pub enum SessionSuccessDef {
    EveryTurn,
    HardSteps { min_difficulty: Param },
}

#[derive(Debug, Clone)]
pub struct CompactionDef {
    pub threshold_tokens: Param,
    pub model: ModelId,
    pub summary_tokens: Param,
}

#[derive(Debug, Clone)]
pub struct PolicyDef {
    pub name: String,
    pub description: Option<String>,
    pub node: PolicyNode,
    /// How its decisions carry across a session's turns.
    pub session: crate::policy::SessionRouting,
}

/// A validated credit pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CreditPool {
    pub name: String,
    pub amount_usd: f64,
    /// 1-based month from which the pool pays.
    pub start_month: u32,
    /// Last 1-based month the pool pays, if it expires.
    pub last_month: Option<u32>,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub horizon_months: u32,
    pub catalog: Arc<Catalog>,
    /// Inference profile asked for.
    pub profile: String,
    /// Per model: the profile actually used and its multiplier (`None` if
    /// the model does not offer the profile; such models cannot be used).
    pub profile_used: Vec<Option<(String, f64)>>,
    pub volume: Volume,
    pub workloads: Vec<WorkloadDef>,
    pub policies: Vec<PolicyDef>,
    /// Index of the baseline policy.
    pub baseline: usize,
    pub seed: u64,
    /// Replications asked for in the file (the CLI may override).
    pub replications: Option<u32>,
    pub slope: Param,
    /// Share of requests whose outcomes are common to every model (1: a
    /// stronger model always succeeds where a weaker one does).
    pub outcome_correlation: Param,
    /// Capability overrides: (model, task, value).
    pub capability_overrides: Vec<(ModelId, TaskKind, Param)>,
    /// Price multipliers per model.
    pub price_multipliers: Vec<(ModelId, Param)>,
    /// Credit pools, in the order given.
    pub credits: Vec<CreditPool>,
    /// Peak traffic over average, for sizing provisioned throughput.
    pub peak_to_average: f64,
    /// When in the week requests arrive.
    pub shape: crate::traffic::shape::Shape,
    /// Whether `volume.shape` was given (reports say the flat default is
    /// an assumption otherwise).
    pub shape_given: bool,
    /// Tokens-per-minute quotas the scenario states, by model.
    pub quotas: Vec<(ModelId, f64)>,
    /// Whether a policy step names a service tier (`nova-pro:priority`).
    pub names_service_tier: bool,
    /// Refuse calls above the quotas in exact mode (`sim::quota`).
    pub simulate_throttling: bool,
    /// Things the user should know that are not errors.
    pub notes: Vec<String>,
    /// The scenario file, if loaded from one.
    pub path: Option<PathBuf>,
    /// The scenario text as loaded (for provenance and locating errors).
    pub source_text: String,
    /// Overrides applied (`PATH=VALUE`).
    pub overrides: Vec<String>,
    /// Other files the scenario read: a catalog file, a quality profile, a
    /// replayed log (for provenance).
    pub inputs: Vec<PathBuf>,
}

/// The seed used when a scenario names none.
pub const DEFAULT_SEED: u64 = 42;

impl Scenario {
    /// Loads and validates a scenario file, applying `PATH=VALUE` overrides.
    pub fn load(path: &Path, sets: &[String]) -> Result<Scenario> {
        let src = yaml::read_source(path)?;
        Scenario::from_source(&src, sets)
    }

    /// Validates a scenario's text, applying `PATH=VALUE` overrides.
    pub fn from_source(src: &Source, sets: &[String]) -> Result<Scenario> {
        let origins: Vec<Origin> = sets
            .iter()
            .map(|raw| Origin::Override { raw: raw.clone() })
            .collect();
        Scenario::from_source_with(src, &origins)
    }

    /// Validates a scenario's text, applying overrides that say where they
    /// came from ([`Origin::Override`] or [`Origin::Sweep`]), so a message
    /// about an overridden value names its origin.
    pub fn from_source_with(src: &Source, origins: &[Origin]) -> Result<Scenario> {
        let sets: Vec<String> = origins.iter().map(overrides::assignment).collect();
        // Parse once from text so syntax and type errors carry locations.
        let mut spec: ScenarioSpec = yaml::parse(src)?;
        if !origins.is_empty() {
            let mut value = yaml::parse_value(src)?;
            for o in origins {
                overrides::apply_from(&mut value, o)?;
            }
            spec = yaml::from_value(src, value).map_err(|e| overrides::blame(e, origins))?;
        }
        let base_dir = src.origin.as_deref().and_then(Path::parent);
        validate::validate(spec, base_dir)
            .map(|mut s| {
                s.path = src.origin.clone();
                s.source_text = src.text.clone();
                s.overrides = sets;
                s
            })
            .map_err(|e| overrides::blame(yaml::locate_all(src, e), origins))
    }

    /// Files besides the scenario that its results depend on.
    pub fn referenced_files(&self) -> &[PathBuf] {
        &self.inputs
    }

    /// A field path as a reader (and an override) names it: list elements by
    /// name, `workloads.drafted-reply.share` rather than `workloads[2].share`.
    pub fn display_path(&self, path: &str) -> String {
        for (list, names) in [
            (
                "workloads[",
                self.workloads
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>(),
            ),
            (
                "policies[",
                self.policies.iter().map(|p| p.name.as_str()).collect(),
            ),
        ] {
            if let Some(rest) = path.strip_prefix(list)
                && let Some((idx, tail)) = rest.split_once(']')
                && let Some(name) = idx.parse::<usize>().ok().and_then(|i| names.get(i))
            {
                return format!("{}.{name}{tail}", &list[..list.len() - 1]);
            }
        }
        path.to_string()
    }

    pub fn policy_index(&self, name: &str) -> Option<usize> {
        self.policies.iter().position(|p| p.name == name)
    }

    pub fn workload_index(&self, name: &str) -> Option<usize> {
        self.workloads.iter().position(|w| w.name == name)
    }
}
