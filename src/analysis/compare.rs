//! Compare: the policies of several scenarios side by side (before/after a
//! price change, two traffic forecasts), with differences against the first.

use serde::Serialize;

use crate::analysis::projection::Projection;

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub total_cost_usd: f64,
    pub first_month_cost_usd: f64,
    pub quality: f64,
    pub quality_loss_pp: f64,
    /// Against the same policy in the first scenario.
    pub cost_change_usd: Option<f64>,
    pub cost_change_pct: Option<f64>,
    pub quality_change_pp: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub policy: String,
    /// One entry per scenario, `None` where the scenario lacks the policy.
    pub scenarios: Vec<Option<Figures>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    pub label: String,
    pub scenario: String,
    pub horizon_months: usize,
    pub replications: u32,
    pub baseline: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub scenarios: Vec<ScenarioInfo>,
    pub rows: Vec<Row>,
}

/// Lines up the policies of `projections` (label, projection) by name, in
/// order of first appearance.
pub fn compare(projections: &[(String, Projection)]) -> Comparison {
    let mut names: Vec<String> = Vec::new();
    for (_, p) in projections {
        for x in &p.policies {
            if !names.contains(&x.name) {
                names.push(x.name.clone());
            }
        }
    }
    let rows = names
        .into_iter()
        .map(|name| {
            let first = projections
                .first()
                .and_then(|(_, p)| p.policies.iter().find(|x| x.name == name));
            let scenarios = projections
                .iter()
                .enumerate()
                .map(|(i, (_, p))| {
                    p.policies.iter().find(|x| x.name == name).map(|x| {
                        let against = first.filter(|_| i > 0);
                        Figures {
                            total_cost_usd: x.total_cost_usd,
                            first_month_cost_usd: x.first_month_cost_usd,
                            quality: x.quality,
                            quality_loss_pp: x.quality_loss_pp,
                            cost_change_usd: against.map(|f| x.total_cost_usd - f.total_cost_usd),
                            cost_change_pct: against
                                .filter(|f| f.total_cost_usd > 0.0)
                                .map(|f| (x.total_cost_usd / f.total_cost_usd - 1.0) * 100.0),
                            quality_change_pp: against.map(|f| (x.quality - f.quality) * 100.0),
                        }
                    })
                })
                .collect();
            Row {
                policy: name,
                scenarios,
            }
        })
        .collect();
    Comparison {
        scenarios: projections
            .iter()
            .map(|(label, p)| ScenarioInfo {
                label: label.clone(),
                scenario: p.scenario.clone(),
                horizon_months: p.horizon_months,
                replications: p.replications,
                baseline: p.baseline.clone(),
            })
            .collect(),
        rows,
    }
}
