//! Quality profiles: capabilities (and the outcome correlation, slope and
//! difficulty distributions) fitted from evaluations, in a YAML file a
//! scenario can reference with `quality: FILE` to override catalog priors.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::TaskKind;
use crate::error::Result;
use crate::input::yaml;

/// A quality profile as written.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityProfile {
    /// Logistic slope the capabilities were fitted with.
    pub slope: f64,
    /// Share of items whose outcomes follow one shared draw for every model.
    #[serde(default)]
    pub outcome_correlation: Option<f64>,
    /// Model → task kind → capability.
    pub capabilities: BTreeMap<String, BTreeMap<TaskKind, f64>>,
    /// The items' difficulty distribution per task kind, for workloads to use.
    #[serde(default)]
    pub difficulty: BTreeMap<TaskKind, BetaSpec>,
    /// Where the profile came from.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BetaSpec {
    pub beta: BetaParams,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BetaParams {
    pub mean: f64,
    pub concentration: f64,
}

/// Loads and checks a profile file.
pub fn load(path: &Path) -> Result<QualityProfile> {
    let src = yaml::read_source(path)?;
    let p: QualityProfile = yaml::parse(&src)?;
    let mut d = crate::error::Diagnostics::new();
    if !(p.slope.is_finite() && p.slope > 0.0 && p.slope <= 1.0) {
        d.push(
            "slope",
            format!("must be greater than 0 and at most 1, got {}", p.slope),
        );
    }
    if let Some(r) = p.outcome_correlation
        && !(r.is_finite() && (0.0..=1.0).contains(&r))
    {
        d.push(
            "outcome_correlation",
            format!("must be between 0 and 1, got {r}"),
        );
    }
    for (m, tasks) in &p.capabilities {
        for (t, c) in tasks {
            if !(c.is_finite() && (-1.0..=2.0).contains(c)) {
                d.push(
                    format!("capabilities.{m}.{}", t.as_str()),
                    format!("capability must be between -1 and 2, got {c}"),
                );
            }
        }
    }
    for (t, b) in &p.difficulty {
        let path = format!("difficulty.{}.beta", t.as_str());
        if !(b.beta.mean.is_finite() && b.beta.mean > 0.0 && b.beta.mean < 1.0) {
            d.push(
                format!("{path}.mean"),
                format!(
                    "must be greater than 0 and less than 1, got {}",
                    b.beta.mean
                ),
            );
        }
        let (lo, hi) = crate::stats::dist::BETA_CONCENTRATION;
        if !(b.beta.concentration.is_finite() && (lo..=hi).contains(&b.beta.concentration)) {
            d.push(
                format!("{path}.concentration"),
                format!(
                    "must be at least {lo} and at most {hi:e}, got {}",
                    b.beta.concentration
                ),
            );
        }
    }
    d.into_result().map_err(|e| yaml::locate_all(&src, e))?;
    Ok(p)
}

/// Method-of-moments Beta for values in [0, 1] (clamped into (0, 1)).
pub fn beta_of(values: &[f64]) -> Option<BetaParams> {
    let xs: Vec<f64> = values.iter().map(|x| x.clamp(0.001, 0.999)).collect();
    let n = xs.len() as f64;
    if n < 2.0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    if var <= 0.0 {
        return None;
    }
    let concentration = (mean * (1.0 - mean) / var - 1.0).max(0.01);
    Some(BetaParams {
        mean,
        concentration,
    })
}

/// Renders a profile as commented YAML.
pub fn render(p: &QualityProfile, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "slope: {}", p.slope);
    if let Some(r) = p.outcome_correlation {
        let _ = writeln!(out, "outcome_correlation: {}", round(r, 4));
    }
    if let Some(s) = &p.source {
        let _ = writeln!(out, "source: {}", serde_json::to_string(s).expect("string"));
    }
    out.push_str("capabilities:\n");
    for (model, tasks) in &p.capabilities {
        let parts: Vec<String> = tasks
            .iter()
            .map(|(t, c)| format!("{}: {}", t.as_str(), round(*c, 4)))
            .collect();
        let _ = writeln!(out, "  {}: {{ {} }}", yaml_key(model), parts.join(", "));
    }
    if !p.difficulty.is_empty() {
        out.push_str("# The items' difficulty distribution per task kind: use it for workloads of that kind.\n");
        out.push_str("difficulty:\n");
        for (t, b) in &p.difficulty {
            let _ = writeln!(
                out,
                "  {}: {{ beta: {{ mean: {}, concentration: {} }} }}",
                t.as_str(),
                round(b.beta.mean, 4),
                round(b.beta.concentration, 3)
            );
        }
    }
    out
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// Quotes a key when YAML would misread it.
fn yaml_key(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !s.is_empty()
    {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("string")
    }
}
