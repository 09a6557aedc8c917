//! The JSON document of `tiersim run --format json`.
//!
//! Money is in USD as plain numbers (not rounded); quality and rates are
//! fractions in [0, 1]; quality loss is in percentage points. The document
//! holds nothing that varies between runs of the same scenario and seed
//! (no timestamps, no timings), so it is byte-identical across runs and
//! thread counts.

use serde::Serialize;

use crate::analysis::capacity::Capacity;
use crate::analysis::credits::CreditReport;
use crate::analysis::projection::{PolicySummary, Projection};
use crate::analysis::provisioned::Verdict;
use crate::catalog::CatalogSource;
use crate::scenario::Scenario;

#[derive(Debug, Serialize)]
pub struct CatalogInfo {
    pub name: String,
    pub as_of: String,
    pub origin: String,
    pub sources: Vec<CatalogSource>,
}

#[derive(Debug, Serialize)]
pub struct WorkloadInfo {
    pub name: String,
    pub task: String,
    pub modality: String,
    pub share: f64,
}

#[derive(Debug, Serialize)]
pub struct RunDocument<'a> {
    pub tiersim_version: &'static str,
    pub scenario: &'a str,
    pub description: Option<&'a str>,
    pub seed: u64,
    pub horizon_months: usize,
    pub replications: u32,
    pub mode: &'static str,
    /// Fast mode: sample requests per workload.
    pub samples_per_workload: Option<usize>,
    pub baseline: &'a str,
    pub catalog: CatalogInfo,
    pub profile: &'a str,
    pub overrides: &'a [String],
    /// Requests per month.
    pub volume: &'a [f64],
    pub workloads: Vec<WorkloadInfo>,
    /// Policies on the cost-quality frontier, cheapest first.
    pub frontier: Vec<&'a str>,
    /// Cheapest policy within the quality budget.
    pub recommended: Option<&'a str>,
    pub max_quality_loss_pp: f64,
    pub notes: Vec<String>,
    pub policies: &'a [PolicySummary],
    /// Credit runway per policy, when the scenario has credit pools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<CreditReport>,
    /// Provisioned-throughput verdicts, where the catalog prices it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisioned_throughput: Vec<Verdict>,
    /// Quotas, service tiers and latency objectives, when the scenario
    /// asks about them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
}

pub fn document<'a>(
    s: &'a Scenario,
    p: &'a Projection,
    max_loss_pp: f64,
    notes: Vec<String>,
    credits: Vec<CreditReport>,
    provisioned_throughput: Vec<Verdict>,
    capacity: Option<Capacity>,
) -> RunDocument<'a> {
    let mut frontier: Vec<&PolicySummary> = p.policies.iter().filter(|x| x.on_frontier).collect();
    frontier.sort_by(|a, b| a.total_cost_usd.total_cmp(&b.total_cost_usd));
    RunDocument {
        tiersim_version: env!("CARGO_PKG_VERSION"),
        scenario: &s.name,
        description: s.description.as_deref(),
        seed: s.seed,
        horizon_months: p.horizon_months,
        replications: p.replications,
        mode: p.mode.name(),
        samples_per_workload: match p.mode {
            crate::sim::Mode::Fast { samples } => Some(samples),
            crate::sim::Mode::Exact => None,
        },
        baseline: &p.baseline,
        catalog: CatalogInfo {
            name: s.catalog.name.clone(),
            as_of: s.catalog.as_of.clone(),
            origin: s.catalog.origin.clone(),
            sources: s.catalog.sources.clone(),
        },
        profile: &s.profile,
        overrides: &s.overrides,
        volume: &p.volumes,
        workloads: s
            .workloads
            .iter()
            .map(|w| WorkloadInfo {
                name: w.name.clone(),
                task: w.task.as_str().to_string(),
                modality: w.modality.as_str().to_string(),
                share: w.share.q.median(),
            })
            .collect(),
        frontier: frontier.iter().map(|x| x.name.as_str()).collect(),
        recommended: crate::analysis::cheapest_within(p, max_loss_pp)
            .map(|i| p.policies[i].name.as_str()),
        max_quality_loss_pp: max_loss_pp,
        notes,
        policies: &p.policies,
        credits,
        provisioned_throughput,
        capacity,
    }
}

pub fn render(doc: &RunDocument<'_>) -> String {
    to_pretty(doc)
}

/// Pretty JSON with a final newline.
pub fn to_pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("tiersim's documents always serialize");
    s.push('\n');
    s
}
