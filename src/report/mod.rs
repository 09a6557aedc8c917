//! Reports: the projection as people read it. One file per format.

pub mod format;
pub mod html;
pub mod json;
pub mod table;
pub mod terminal;
pub mod whatif;

use crate::projection::Projection;

/// The policy to recommend: the cheapest whose quality loss against the
/// baseline is at most `max_loss_pp` (baseline itself qualifies).
pub fn cheapest_within(p: &Projection, max_loss_pp: f64) -> Option<usize> {
    p.policies
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind != "oracle" && s.quality_loss_pp <= max_loss_pp + 1e-12)
        .min_by(|a, b| a.1.total_cost_usd.total_cmp(&b.1.total_cost_usd))
        .map(|(i, _)| i)
}
