//! Sensitivity: which uncertain inputs move a policy's total cost most.
//!
//! For each uncertain input, the expected total cost with that input at its
//! P10 and at its P90 and every other input at its median (one-at-a-time
//! swings, the data of a tornado chart), ranked by swing. The share of
//! variance each input explains comes from the ordinary replications
//! (every input drawn at random): the squared correlation between the
//! input's drawn value and the replication's total cost, i.e. the share a
//! straight-line effect of that input alone explains. Shares need not sum
//! to one: their shortfall is what interactions and the month-to-month
//! randomness explain.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sim::{self, Run, RunOptions};

#[derive(Debug, Clone, Serialize)]
pub struct Swing {
    pub input: String,
    pub value_low: f64,
    pub value_high: f64,
    pub total_cost_at_low_usd: f64,
    pub total_cost_at_high_usd: f64,
    /// |cost at high − cost at low|.
    pub swing_usd: f64,
    pub variance_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub scenario: String,
    pub policy: String,
    pub low_quantile: f64,
    pub high_quantile: f64,
    /// Expected total cost with every input at its median.
    pub total_cost_at_medians_usd: f64,
    pub replications: u32,
    /// Largest swing first.
    pub inputs: Vec<Swing>,
}

fn expected_total(run: &Run, p: usize) -> f64 {
    (0..run.months).map(|m| run.costs[m][p].total()).sum()
}

/// Runs the analysis for policy `p`. `options` gives the run options
/// (mode, threads); `replications` is used for the variance shares.
pub fn sensitivity(
    s: &Scenario,
    p: usize,
    replications: u32,
    mut options: impl FnMut() -> RunOptions<'static>,
) -> Result<Sensitivity> {
    let params = crate::sim::instance::uncertain_params(s);
    if params.is_empty() {
        return Err(Error::input(format!(
            "scenario `{}` has no uncertain inputs; write a number as a distribution, e.g. monthly_pct: {{ triangular: {{ min: 2, mode: 6, max: 12 }} }}, or use `tiersim sweep`",
            s.name
        )));
    }
    let (lo, hi) = (0.1, 0.9);
    let at = |pins: BTreeMap<String, f64>, opts: RunOptions<'static>| -> Result<f64> {
        let run = sim::run(
            s,
            &RunOptions {
                replications: 1,
                pinned_quantiles: Some(pins),
                ..opts
            },
        )?;
        Ok(expected_total(&run, p))
    };
    let base = at(BTreeMap::new(), options())?;
    let random = sim::run(
        s,
        &RunOptions {
            replications: replications.max(2),
            ..options()
        },
    )?;
    let totals: Vec<f64> = random
        .reps
        .iter()
        .map(|r| r.iter().map(|m| m[p].cost_usd).sum())
        .collect();
    let mut inputs = Vec::with_capacity(params.len());
    for param in &params {
        let low = at(BTreeMap::from([(param.path.clone(), lo)]), options())?;
        let high = at(BTreeMap::from([(param.path.clone(), hi)]), options())?;
        let drawn: Vec<f64> = random
            .drawn
            .iter()
            .map(|d| {
                d.iter()
                    .find(|(k, _)| *k == param.path)
                    .map_or(f64::NAN, |(_, v)| *v)
            })
            .collect();
        inputs.push(Swing {
            input: s.display_path(&param.path),
            value_low: param.q.quantile(lo),
            value_high: param.q.quantile(hi),
            total_cost_at_low_usd: low,
            total_cost_at_high_usd: high,
            swing_usd: (high - low).abs(),
            variance_share: correlation(&drawn, &totals).powi(2),
        });
    }
    inputs.sort_by(|a, b| {
        b.swing_usd
            .total_cmp(&a.swing_usd)
            .then(a.input.cmp(&b.input))
    });
    Ok(Sensitivity {
        scenario: s.name.clone(),
        policy: random.policy_names[p].clone(),
        low_quantile: lo,
        high_quantile: hi,
        total_cost_at_medians_usd: base,
        replications: random.replications,
        inputs,
    })
}

/// Pearson correlation (0 when either side does not vary).
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 || !sxy.is_finite() {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}
