//! Provisioned throughput: when reserved model units beat on-demand prices.
//!
//! Where a catalog sells a model by the hour (a model unit serving a set
//! number of input and output tokens per minute), compare, for the traffic a
//! policy sends that model, the on-demand bill with the units that traffic
//! needs. Units are sized for the month's average token rates times the
//! scenario's peak-to-average ratio (traffic is not flat; the default 2 is
//! an assumption to replace with your own). On-demand cost and units both
//! grow with volume, so provisioned throughput wins above a break-even
//! volume if a fully used unit's traffic costs more on demand than the
//! unit does, and never otherwise.

use serde::Serialize;

use crate::catalog::pricing::Component;
use crate::scenario::Scenario;
use crate::sim::Run;
use crate::sim::ledger::MAIN;

/// Hours in an average month.
pub const HOURS_PER_MONTH: f64 = 365.25 * 24.0 / 12.0;

pub use crate::scenario::DEFAULT_PEAK_TO_AVERAGE;

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub policy: String,
    pub model: String,
    /// Month the figures are for (the horizon's last).
    pub month: usize,
    pub on_demand_cost_usd: f64,
    pub units_needed: f64,
    pub provisioned_cost_usd: f64,
    /// On-demand minus provisioned, when positive.
    pub savings_usd: f64,
    /// Scenario requests per month above which provisioned throughput is
    /// cheaper for this traffic mix; `None` if it never is.
    pub break_even_requests_per_month: Option<f64>,
    pub description: String,
}

/// Verdicts for every (policy, model) with provisioned pricing and traffic,
/// in the horizon's last month.
pub fn verdicts(s: &Scenario, run: &Run, peak_to_average: f64) -> Vec<Verdict> {
    let m = run.months - 1;
    let volume = run.volumes[m];
    let minutes = HOURS_PER_MONTH * 60.0;
    let mut out = Vec::new();
    for (p, name) in run.policy_names.iter().enumerate() {
        let led = &run.ledgers[m][p];
        let by_model = run.costs[m][p].by_model();
        for (mi, model) in s.catalog.models.iter().enumerate() {
            let Some(pt) = &model.provisioned else {
                continue;
            };
            let (mut input, mut output) = (0.0, 0.0);
            for w in 0..led.n_workloads() {
                let c = led.cell(w, mi);
                for purpose in [MAIN, 1] {
                    input += c.component_tokens(purpose, Component::Input)
                        + c.component_tokens(purpose, Component::CacheRead)
                        + c.component_tokens(purpose, Component::CacheWrite5m)
                        + c.component_tokens(purpose, Component::CacheWrite1h);
                    output += c.component_tokens(purpose, Component::Output);
                }
            }
            let on_demand = by_model[mi];
            if on_demand <= 0.0 || volume <= 0.0 {
                continue;
            }
            let unit_price = pt.hourly_usd_per_unit * HOURS_PER_MONTH;
            // Units for this month's traffic, and per scenario request.
            let per_request_units = peak_to_average
                * (input / minutes / pt.input_tokens_per_minute)
                    .max(output / minutes / pt.output_tokens_per_minute)
                / volume;
            let units = (per_request_units * volume).ceil().max(1.0);
            let provisioned = units * unit_price;
            let per_request_cost = on_demand / volume;
            // A full unit serves 1 / per_request_units requests a month.
            let full_unit_on_demand = per_request_cost / per_request_units;
            let break_even =
                (full_unit_on_demand > unit_price).then(|| unit_price / per_request_cost);
            let description = match break_even {
                Some(v) => format!(
                    "{name} on {}: provisioned throughput beats on-demand above {:.0} requests/month; at month {} it {}",
                    model.key,
                    v,
                    m + 1,
                    if provisioned < on_demand {
                        format!(
                            "would save ${:.2}/month with {units} unit(s)",
                            on_demand - provisioned
                        )
                    } else {
                        format!("would cost ${:.2}/month more", provisioned - on_demand)
                    }
                ),
                None => format!(
                    "{name} on {}: provisioned throughput never beats on-demand: a fully used unit's traffic costs ${:.2}/month on demand, the unit ${:.2}",
                    model.key, full_unit_on_demand, unit_price
                ),
            };
            out.push(Verdict {
                policy: name.clone(),
                model: model.key.clone(),
                month: m + 1,
                on_demand_cost_usd: on_demand,
                units_needed: units,
                provisioned_cost_usd: provisioned,
                savings_usd: (on_demand - provisioned).max(0.0),
                break_even_requests_per_month: break_even,
                description,
            });
        }
    }
    out
}
