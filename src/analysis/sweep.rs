//! Sweeps: re-run a scenario across values of one or two of its fields and
//! find where the decision changes.
//!
//! Every point is the scenario with the override `PATH=VALUE` applied, validated
//! like the file, run with the same seed (so points differ only by the
//! swept value: common random numbers). Break-even points are found
//! between consecutive values of the first swept field by linear
//! interpolation: where one policy's cost crosses another's, and where a
//! policy's quality loss crosses the budget.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::projection::project;
use crate::check::quantity::fmt_num;
use crate::error::{Error, Origin, Result};
use crate::input::yaml::Source;
use crate::scenario::Scenario;
use crate::sim::{self, RunOptions};

/// One swept field and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vary {
    pub path: String,
    /// Values as YAML text.
    pub values: Vec<String>,
    /// The values as numbers, when they all are.
    pub numeric: Option<Vec<f64>>,
}

/// Most points one sweep may run.
pub const MAX_POINTS: usize = 10_000;

/// Parses `PATH=START..END:STEPS` (STEPS evenly spaced values, ends
/// included) or `PATH=v1,v2,...`.
pub fn parse_vary(raw: &str) -> Result<Vary> {
    let bad = |msg: &str| {
        Error::input(msg).about(Origin::SweepSpec {
            raw: raw.to_string(),
        })
    };
    let Some((path, spec)) = raw.split_once('=') else {
        return Err(bad(
            "expected PATH=START..END:STEPS or PATH=v1,v2,..., e.g. volume.growth.monthly_pct=0..10:6",
        ));
    };
    let path = path.trim().to_string();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(bad("the path has an empty segment"));
    }
    let spec = spec.trim();
    if let Some((range, steps)) = spec.split_once(':')
        && let Some((a, b)) = range.split_once("..")
    {
        let num = |s: &str, what: &str| {
            s.trim()
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("{what} `{}` is not a number", s.trim())))
        };
        let (a, b) = (num(a, "START")?, num(b, "END")?);
        let steps: usize = steps
            .trim()
            .parse()
            .ok()
            .filter(|n| (2..=1000).contains(n))
            .ok_or_else(|| bad("STEPS must be a whole number from 2 to 1000"))?;
        // Twelve significant digits: 0.5..0.95:10 gives 0.85, not
        // 0.8499999999999999 (the steps are meant as decimals).
        let values: Vec<f64> = (0..steps)
            .map(|i| a + (b - a) * i as f64 / (steps - 1) as f64)
            .map(|v| format!("{v:.11e}").parse().unwrap_or(v))
            .collect();
        return Ok(Vary {
            path,
            values: values.iter().map(|v| format!("{v}")).collect(),
            numeric: Some(values),
        });
    }
    let values: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(bad("a value is empty"));
    }
    if values.len() > 1000 {
        return Err(bad("at most 1000 values"));
    }
    let numeric: Option<Vec<f64>> = values
        .iter()
        .map(|v| {
            v.replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
        })
        .collect();
    Ok(Vary {
        path,
        values,
        numeric,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PointPolicy {
    pub name: String,
    pub total_cost_usd: f64,
    /// Band of the total over replications (the first and last quantiles).
    pub total_cost_low_usd: f64,
    pub total_cost_high_usd: f64,
    pub quality: f64,
    pub quality_loss_pp: f64,
    pub savings_vs_baseline_pct: f64,
    /// Cost per model over the horizon.
    pub cost_by_model_usd: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The swept values, by path.
    pub values: BTreeMap<String, String>,
    pub policies: Vec<PointPolicy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    /// `cost` (one policy becomes cheaper than another) or `quality_loss`
    /// (a policy's loss crosses the budget).
    pub kind: &'static str,
    pub path: String,
    /// The other swept field's value, in a grid.
    pub at_other: Option<(String, String)>,
    /// Where, by linear interpolation between the neighbouring values.
    pub value: f64,
    pub policy: String,
    /// For `cost`, the policy it overtakes; for `quality_loss`, the budget.
    pub versus: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    pub scenario: String,
    pub horizon_months: usize,
    pub replications: u32,
    pub baseline: String,
    pub max_quality_loss_pp: f64,
    pub varies: Vec<Vary>,
    pub points: Vec<Point>,
    pub break_evens: Vec<BreakEven>,
}

/// Runs the sweep. `configure` turns each point's scenario into run options
/// (replications, mode, threads) exactly as `run` would.
pub fn sweep(
    src: &Source,
    base_sets: &[String],
    varies: &[Vary],
    max_quality_loss_pp: f64,
    mut options: impl FnMut(&Scenario) -> RunOptions<'static>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Sweep> {
    if varies.is_empty() || varies.len() > 2 {
        return Err(Error::input(
            "vary one field (a line) or two (a grid), e.g. volume.growth.monthly_pct=0..10:6",
        ));
    }
    let counts: Vec<usize> = varies.iter().map(|v| v.values.len()).collect();
    let total: usize = counts.iter().product();
    if total > MAX_POINTS {
        return Err(Error::input(format!(
            "the sweep has {total} points; at most {MAX_POINTS}"
        )));
    }
    let mut points = Vec::with_capacity(total);
    let mut meta: Option<(String, usize, u32, String)> = None;
    for idx in 0..total {
        // The first swept field changes fastest.
        let mut sets: Vec<Origin> = base_sets
            .iter()
            .map(|raw| Origin::Override { raw: raw.clone() })
            .collect();
        let mut values = BTreeMap::new();
        let mut rest = idx;
        for v in varies {
            let i = rest % v.values.len();
            rest /= v.values.len();
            sets.push(Origin::Sweep {
                path: v.path.clone(),
                value: v.values[i].clone(),
            });
            values.insert(v.path.clone(), v.values[i].clone());
        }
        let scenario = Scenario::from_source_with(src, &sets)?;
        let opts = options(&scenario);
        let run = sim::run(&scenario, &opts)?;
        let p = sim::on_threads(opts.threads, || project(&scenario, &run))?;
        meta.get_or_insert((
            p.scenario.clone(),
            p.horizon_months,
            p.replications,
            p.baseline.clone(),
        ));
        points.push(Point {
            values,
            policies: p
                .policies
                .iter()
                .map(|x| PointPolicy {
                    name: x.name.clone(),
                    total_cost_usd: x.total_cost_usd,
                    total_cost_low_usd: x
                        .bands
                        .total_cost_usd
                        .first()
                        .copied()
                        .unwrap_or(x.total_cost_usd),
                    total_cost_high_usd: x
                        .bands
                        .total_cost_usd
                        .last()
                        .copied()
                        .unwrap_or(x.total_cost_usd),
                    quality: x.quality,
                    quality_loss_pp: x.quality_loss_pp,
                    savings_vs_baseline_pct: x.savings_vs_baseline_pct,
                    cost_by_model_usd: x
                        .by_model
                        .iter()
                        .map(|(k, m)| (k.clone(), m.cost_usd))
                        .collect(),
                })
                .collect(),
        });
        progress(idx + 1, total);
    }
    let (scenario, horizon_months, replications, baseline) = meta.expect("at least one point");
    let break_evens = break_evens(varies, &points, max_quality_loss_pp);
    Ok(Sweep {
        scenario,
        horizon_months,
        replications,
        baseline,
        max_quality_loss_pp,
        varies: varies.to_vec(),
        points,
        break_evens,
    })
}

/// Linear interpolation of the zero of f between (x0, f0) and (x1, f1).
fn zero(x0: f64, f0: f64, x1: f64, f1: f64) -> f64 {
    if f0 == f1 {
        x0
    } else {
        x0 + (x1 - x0) * f0 / (f0 - f1)
    }
}

fn break_evens(varies: &[Vary], points: &[Point], budget: f64) -> Vec<BreakEven> {
    let first = &varies[0];
    let Some(xs) = &first.numeric else {
        return Vec::new();
    };
    let n0 = xs.len();
    let lines = points.len() / n0;
    let mut out = Vec::new();
    for line in 0..lines {
        let row = &points[line * n0..(line + 1) * n0];
        let at_other = varies
            .get(1)
            .map(|v| (v.path.clone(), row[0].values[&v.path].clone()));
        let suffix = at_other
            .as_ref()
            .map(|(p, v)| format!(" (with {p} = {v})"))
            .unwrap_or_default();
        let np = row[0].policies.len();
        for a in 0..np {
            for b in (a + 1)..np {
                for i in 0..n0 - 1 {
                    let f0 = row[i].policies[a].total_cost_usd - row[i].policies[b].total_cost_usd;
                    let f1 = row[i + 1].policies[a].total_cost_usd
                        - row[i + 1].policies[b].total_cost_usd;
                    if f0 == 0.0 || f0.signum() == f1.signum() {
                        continue;
                    }
                    let x = zero(xs[i], f0, xs[i + 1], f1);
                    // After the crossing, the one with the lower cost leads.
                    let (cheaper, dearer) = if f1 < 0.0 { (a, b) } else { (b, a) };
                    let (pc, pd) = (
                        &row[0].policies[cheaper].name,
                        &row[0].policies[dearer].name,
                    );
                    out.push(BreakEven {
                        kind: "cost",
                        path: first.path.clone(),
                        at_other: at_other.clone(),
                        value: x,
                        policy: pc.clone(),
                        versus: pd.clone(),
                        description: format!(
                            "{pc} becomes cheaper than {pd} as {} passes {}{suffix}",
                            first.path,
                            fmt_num((x * 1e6).round() / 1e6)
                        ),
                    });
                }
            }
        }
        for p in 0..np {
            for i in 0..n0 - 1 {
                let f0 = row[i].policies[p].quality_loss_pp - budget;
                let f1 = row[i + 1].policies[p].quality_loss_pp - budget;
                if f0 == 0.0 || f0.signum() == f1.signum() {
                    continue;
                }
                let x = zero(xs[i], f0, xs[i + 1], f1);
                let name = &row[0].policies[p].name;
                let direction = if f1 > 0.0 { "exceeds" } else { "falls within" };
                out.push(BreakEven {
                    kind: "quality_loss",
                    path: first.path.clone(),
                    at_other: at_other.clone(),
                    value: x,
                    policy: name.clone(),
                    versus: format!("{budget} pp"),
                    description: format!(
                        "{name}'s quality loss {direction} {budget} pp as {} passes {}{suffix}",
                        first.path,
                        fmt_num((x * 1e6).round() / 1e6)
                    ),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_lists() {
        let v = parse_vary("volume.growth.monthly_pct=0..10:6").unwrap();
        assert_eq!(v.numeric, Some(vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]));
        let v = parse_vary("catalog=bedrock-2026-11,representative-2026").unwrap();
        assert_eq!(v.numeric, None);
        assert_eq!(v.values.len(), 2);
        assert_eq!(
            parse_vary("x=1..2:1").unwrap_err().to_string(),
            "error: sweep `x=1..2:1`: STEPS must be a whole number from 2 to 1000"
        );
        assert_eq!(
            parse_vary("x=a..2:3").unwrap_err().to_string(),
            "error: sweep `x=a..2:3`: START `a` is not a number"
        );
    }

    #[test]
    fn interpolates_zero_crossings() {
        assert_eq!(zero(0.0, -1.0, 1.0, 1.0), 0.5);
        assert!((zero(2.0, 3.0, 4.0, -1.0) - 3.5).abs() < 1e-12);
    }
}
