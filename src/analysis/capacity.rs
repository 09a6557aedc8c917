//! Capacity: whether a policy's traffic fits the on-demand quotas at its
//! busiest minute, what to ask for if not, and what the service tiers cost
//! or save.
//!
//! How a call counts against a quota is `sim::quota`'s (the engine uses it
//! too, to simulate throttling). Demand is taken in the horizon's busiest month (mean over
//! replications), per policy and model, summed over workloads. The
//! month's average minute is scaled by the traffic shape to the busiest
//! hour and by the peak-minute factor to its busiest minute. Throttling is
//! a fluid model: in each hour of the week, minutes spread evenly between
//! `2 − f` and `f` times the hour's mean (`f` the peak-minute factor) and
//! whatever a minute asks beyond the quota is refused, not retried
//! ([`crate::traffic::shape::Shape::throttled_share`]). The quota to ask
//! for is the busiest minute's demand rounded up to the next 10,000
//! tokens, with no further margin.

use serde::Serialize;

use crate::catalog::pricing::{Mode, N_MODES, ServiceTier};
use crate::scenario::Scenario;
use crate::sim::Run;
use crate::sim::ledger::{MAIN, OVERHEAD};
use crate::sim::quota;
use crate::traffic::shape::month_minutes;

pub use crate::sim::quota::QuotaOrigin;

/// One policy's demand on one model's quota.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaLine {
    pub policy: String,
    pub model: String,
    pub profile: String,
    /// Month (1-based) the figures are for: the busiest of the horizon.
    pub month: usize,
    /// Calls a minute, the month's average.
    pub calls_per_minute: f64,
    /// Settled quota tokens a minute, the month's average and the
    /// busiest minute.
    pub settled_tpm: f64,
    /// Settled plus in-flight reservations, the month's average minute.
    pub demand_tpm: f64,
    /// The same at the busiest minute.
    pub peak_demand_tpm: f64,
    /// Output burndown the model's tokens count with.
    pub output_burndown: f64,
    pub quota_tpm: Option<f64>,
    pub quota_origin: QuotaOrigin,
    /// Quota minus the busiest minute's demand (negative: short).
    pub headroom_tpm: Option<f64>,
    /// Share of demand refused at the quota, over the week.
    pub throttled_share: Option<f64>,
    /// The busiest minute's demand rounded up to 10,000 tokens.
    pub quota_to_request_tpm: f64,
}

/// What one policy pays for service tiers against standard rates.
#[derive(Debug, Clone, Serialize)]
pub struct TierMix {
    pub policy: String,
    /// Share of the policy's spend (month of the figures) billed at each
    /// service tier, standard first.
    pub spend_share: [f64; 3],
    /// What the Priority and Flex tokens cost at their tiers' rates minus
    /// what they would at standard (positive: the tiers cost more), USD
    /// in the busiest month.
    pub premium_usd: f64,
}

/// A workload's latency objective against one policy's latency.
///
/// Latency is each request's (a session's turn's) every call in its route
/// in turn — gates, classifiers, escalations — each taking its model's
/// time to first token plus its output at the model's speed, at the
/// service tier it was served at (catalog `latency` and
/// `service_tier_speed`; mostly assumptions, as the catalog says). Batch
/// requests are left out; waiting for a throttled call to be retried is
/// not modelled (see `throttled_share`).
#[derive(Debug, Clone, Serialize)]
pub struct SloVerdict {
    pub policy: String,
    pub workload: String,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub target_p50_ms: Option<f64>,
    pub target_p95_ms: Option<f64>,
    pub met: bool,
}

/// The capacity section of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// The busiest hour's rate over the week's average.
    pub peak_hour_factor: f64,
    pub peak_minute_factor: f64,
    /// Whether the scenario states its traffic shape (else flat, assumed).
    pub shape_stated: bool,
    pub quotas: Vec<QuotaLine>,
    pub tiers: Vec<TierMix>,
    pub slo: Vec<SloVerdict>,
}

impl Capacity {
    /// Whether a scenario asks about capacity: a traffic shape, quotas,
    /// `max_tokens`, an SLO or a service tier. Reports show the section
    /// only then.
    pub fn asked(s: &Scenario) -> bool {
        s.shape_given
            || s.simulate_throttling
            || !s.quotas.is_empty()
            || s.workloads.iter().any(|w| {
                w.max_tokens.is_some() || w.slo.is_some() || w.service != ServiceTier::Standard
            })
            || s.names_service_tier
    }
}

/// Quota demand for every (policy, model) with traffic, and each policy's
/// tier mix.
pub fn capacity(s: &Scenario, run: &Run) -> Capacity {
    let m = (0..run.months)
        .max_by(|&a, &b| run.volumes[a].total_cmp(&run.volumes[b]))
        .unwrap_or(0);
    let minutes = month_minutes();
    let shape = &s.shape;
    let pricing: Vec<_> = (0..s.catalog.models.len())
        .map(|mi| run_pricing(s, mi))
        .collect();
    let mut quotas = Vec::new();
    let mut tiers = Vec::new();
    let mut slo = Vec::new();
    for (p, name) in run.policy_names.iter().enumerate() {
        let led = &run.ledgers[m][p];
        for (w, wl) in s.workloads.iter().enumerate() {
            let Some(target) = wl.slo else { continue };
            let (p50, p95) = (led.latency[w].quantile(0.5), led.latency[w].quantile(0.95));
            let within = |x: Option<f64>, t: Option<f64>| match (x, t) {
                (_, None) => true,
                (Some(x), Some(t)) => x <= t,
                (None, Some(_)) => true,
            };
            slo.push(SloVerdict {
                policy: name.clone(),
                workload: wl.name.clone(),
                p50_ms: p50,
                p95_ms: p95,
                target_p50_ms: target.p50_ms,
                target_p95_ms: target.p95_ms,
                met: within(p50, target.p50_ms) && within(p95, target.p95_ms),
            });
        }
        for (mi, model) in s.catalog.models.iter().enumerate() {
            let Some(d) = quota::demand(s, led, mi) else {
                continue;
            };
            let settled_tpm = d.settled / minutes;
            let demand_tpm = d.per_minute();
            let peak = demand_tpm * shape.peak_factor();
            let (quota, origin) = quota::quota_of(s, mi);
            let profile = s.profile_used[mi]
                .as_ref()
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| s.profile.clone());
            // When throttling was simulated, the share the run refused
            // (its demand before refusals); else the share it would.
            let throttled = match &run.throttled {
                Some(t) => quota.map(|_| t[m][p][mi]),
                None => quota.map(|q| shape.throttled_share(demand_tpm, q)),
            };
            quotas.push(QuotaLine {
                policy: name.clone(),
                model: model.key.clone(),
                profile,
                month: m + 1,
                calls_per_minute: d.calls / minutes,
                settled_tpm,
                demand_tpm,
                peak_demand_tpm: peak,
                output_burndown: model.quota.output_burndown,
                quota_tpm: quota,
                quota_origin: origin,
                headroom_tpm: quota.map(|q| q - peak),
                throttled_share: throttled,
                quota_to_request_tpm: (peak / 10_000.0).ceil() * 10_000.0,
            });
        }
        // Tier mix: each mode's tokens at its own rates and at standard's.
        let mut spend = [0.0; 3];
        let mut premium = 0.0;
        for w in 0..s.workloads.len() {
            for (mi, pr) in pricing.iter().enumerate() {
                let c = led.cell(w, mi);
                for purpose in [MAIN, OVERHEAD] {
                    for tier in 0..2 {
                        for mode in 0..N_MODES {
                            let t = c.tokens(purpose, tier, mode);
                            let mut at_mode = 0.0;
                            let mut at_std = 0.0;
                            let (rates, std) = (
                                pr.rates(tier, mode),
                                pr.rates(tier, Mode::OnDemand as usize),
                            );
                            for (comp, n) in t.iter().enumerate() {
                                at_mode += n * rates[comp] / 1e6;
                                at_std += n * std[comp] / 1e6;
                            }
                            let slot = if mode == Mode::Priority as usize {
                                1
                            } else if mode == Mode::Flex as usize {
                                2
                            } else {
                                0
                            };
                            spend[slot] += at_mode;
                            if slot > 0 {
                                premium += at_mode - at_std;
                            }
                        }
                    }
                }
            }
        }
        let total: f64 = spend.iter().sum();
        tiers.push(TierMix {
            policy: name.clone(),
            spend_share: if total > 0.0 {
                spend.map(|x| x / total)
            } else {
                [1.0, 0.0, 0.0]
            },
            premium_usd: premium,
        });
    }
    Capacity {
        peak_hour_factor: shape.peak_hour_factor(),
        peak_minute_factor: shape.peak_minute_factor,
        shape_stated: s.shape_given,
        quotas,
        tiers,
        slo,
    }
}

/// A model's prices under the scenario's profile (median price
/// adjustments aside: the tier mix compares rates, which adjustments scale
/// alike).
fn run_pricing(s: &Scenario, mi: usize) -> crate::catalog::pricing::ModelPricing {
    let mult = s.profile_used[mi].as_ref().map_or(1.0, |p| p.1);
    s.catalog.pricing(crate::catalog::ModelId::new(mi), mult)
}
