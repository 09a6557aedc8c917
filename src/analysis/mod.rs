//! What a run means: the projection (totals, bands, frontier, where the
//! money goes), the recommendation, and the what-if analyses built on runs —
//! sweeps over a field, sensitivity to uncertain inputs, credit runway and
//! sizing, scenario comparison, and when provisioned throughput would beat
//! on-demand.

pub mod capacity;
pub mod compare;
pub mod credits;
pub mod optimize;
pub mod outcome;
pub mod projection;
pub mod provisioned;
pub mod router_curve;
pub mod sensitivity;
pub mod sweep;

use projection::Projection;

/// The policy to recommend: the cheapest whose quality loss against the
/// baseline is at most `max_loss_pp` (baseline itself qualifies).
pub fn cheapest_within(p: &Projection, max_loss_pp: f64) -> Option<usize> {
    p.policies
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.role != crate::policy::Role::Bound && s.quality_loss_pp <= max_loss_pp + 1e-12
        })
        .min_by(|a, b| a.1.total_cost_usd.total_cmp(&b.1.total_cost_usd))
        .map(|(i, _)| i)
}
