//! Router curves as the routing literature reports them (RouteLLM, Ong et
//! al. 2024): for a two-model router, quality against the share of calls
//! sent to the strong model as its threshold moves, summarised by APGR and
//! CPT.
//!
//! PGR (performance gap recovered) is `(q − q_weak) / (q_strong − q_weak)`.
//! The curve runs from all-weak (share 0, PGR 0) to all-strong (share 1,
//! PGR 1) through the router at each threshold, joined by straight lines;
//! APGR is the area under it (the mean PGR over the share of strong calls);
//! CPT(x%) is the smallest share of strong calls at which the curve reaches
//! a PGR of x%. A router that sends a random share t to the strong model
//! recovers t of the gap: APGR 0.5, CPT(x%) = x%. It is drawn beside every
//! router as the reference (a `split` policy at each share).
//!
//! Each curve is one engine run with the scenario's seed: every threshold
//! and every random share sees the same requests.

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use crate::analysis::capacity::{Capacity, capacity};
use crate::analysis::projection::{Projection, project};
use crate::error::{Error, Result};
use crate::input::yaml::Source;
use crate::scenario::Scenario;
use crate::sim::{self, RunOptions};

/// Thresholds (`max_quality_drop`) a classifier is run at, from never
/// strong to nearly always.
const THRESHOLDS: [f64; 20] = [
    1.0, 0.5, 0.4, 0.3, 0.25, 0.2, 0.16, 0.13, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01,
    0.005, 0.002, 0.001, 0.0,
];

/// Shares of strong calls the random router is run at.
const RANDOM_SHARES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// One point of a curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// The classifier's `max_quality_drop`, or the random router's share.
    pub setting: f64,
    /// Share of answer calls sent to the strong model.
    pub strong_share: f64,
    pub quality: f64,
    pub total_cost_usd: f64,
    pub pgr: f64,
}

/// A curve and its summaries.
#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    pub points: Vec<CurvePoint>,
    pub apgr: f64,
    /// `None` when the curve never reaches that PGR.
    pub cpt50: Option<f64>,
    pub cpt80: Option<f64>,
}

/// A two-model classifier of the scenario, and the random router beside it.
#[derive(Debug, Clone, Serialize)]
pub struct RouterCurve {
    pub policy: String,
    pub weak: String,
    pub strong: String,
    pub weak_quality: f64,
    pub strong_quality: f64,
    pub router: Curve,
    pub random: Curve,
}

/// The curve of every two-model classifier in the scenario `doc` (the
/// scenario's text `src` with its overrides applied).
pub fn router_curves(
    src: &Source,
    doc: &Value,
    options: &mut impl FnMut(&Scenario) -> RunOptions<'static>,
) -> Result<Vec<RouterCurve>> {
    let policies = doc
        .get("policies")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for p in &policies {
        let Some(c) = p.get("classifier").and_then(Value::as_mapping) else {
            continue;
        };
        let (Some(weak), Some(strong)) = (
            c.get("weak").and_then(Value::as_str),
            c.get("strong").and_then(Value::as_str),
        ) else {
            continue;
        };
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("classifier");
        out.push(curve(src, doc, name, c, weak, strong, options)?);
    }
    Ok(out)
}

fn curve(
    src: &Source,
    doc: &Value,
    name: &str,
    classifier: &Mapping,
    weak: &str,
    strong: &str,
    options: &mut impl FnMut(&Scenario) -> RunOptions<'static>,
) -> Result<RouterCurve> {
    let policy = |name: String, kind: &str, body: Value| {
        let mut m = Mapping::new();
        m.insert("name".into(), Value::String(name));
        m.insert(kind.into(), body);
        Value::Mapping(m)
    };
    let mut list = vec![
        policy("weak".into(), "single", Value::String(weak.into())),
        policy("strong".into(), "single", Value::String(strong.into())),
    ];
    for (i, t) in THRESHOLDS.iter().enumerate() {
        let mut c = classifier.clone();
        c.insert("max_quality_drop".into(), Value::from(*t));
        list.push(policy(
            format!("router-{i}"),
            "classifier",
            Value::Mapping(c),
        ));
    }
    for (i, t) in RANDOM_SHARES.iter().enumerate() {
        let mut m = Mapping::new();
        // Percentages, whole: 10 to 90.
        let pct = (t * 100.0).round() as u64;
        m.insert(Value::String(weak.into()), Value::from(100 - pct));
        m.insert(Value::String(strong.into()), Value::from(pct));
        list.push(policy(format!("random-{i}"), "split", Value::Mapping(m)));
    }
    let (_, p, _) = run_variant(src, doc, list, "strong", options)?;
    let (qw, qs) = (p.policies[0].quality, p.policies[1].quality);
    let gap = qs - qw;
    let point = |i: usize, setting: f64| {
        let x = &p.policies[i];
        let calls = |k: &str| x.by_model.get(k).map_or(0.0, |m| m.calls);
        let (w, st) = (calls(weak), calls(strong));
        CurvePoint {
            setting,
            strong_share: if w + st > 0.0 { st / (w + st) } else { 0.0 },
            quality: x.quality,
            total_cost_usd: x.total_cost_usd,
            pgr: if gap != 0.0 {
                (x.quality - qw) / gap
            } else {
                0.0
            },
        }
    };
    let router: Vec<CurvePoint> = THRESHOLDS
        .iter()
        .enumerate()
        .map(|(i, t)| point(2 + i, *t))
        .collect();
    let random: Vec<CurvePoint> = RANDOM_SHARES
        .iter()
        .enumerate()
        .map(|(i, t)| point(2 + THRESHOLDS.len() + i, *t))
        .collect();
    Ok(RouterCurve {
        policy: name.to_string(),
        weak: weak.to_string(),
        strong: strong.to_string(),
        weak_quality: qw,
        strong_quality: qs,
        router: summarise(router),
        random: summarise(random),
    })
}

/// The scenario `doc` (a scenario's text `src` with its overrides
/// applied) with `policies` and `baseline` instead of its own, validated
/// and run: the projection and the capacity figures. Optimize's candidate
/// runs and a router curve's run are such variants.
pub(crate) fn run_variant(
    src: &Source,
    doc: &Value,
    policies: Vec<Value>,
    baseline: &str,
    options: &mut impl FnMut(&Scenario) -> RunOptions<'static>,
) -> Result<(Scenario, Projection, Capacity)> {
    let mut doc = doc.clone();
    let Value::Mapping(map) = &mut doc else {
        return Err(Error::failure("the scenario is not a mapping"));
    };
    map.insert("policies".into(), Value::Sequence(policies));
    map.insert("baseline".into(), Value::String(baseline.to_string()));
    let text = serde_yaml::to_string(&doc)
        .map_err(|e| Error::failure(format!("writing a variant of the scenario: {e}")))?;
    let candidate = Source {
        origin: src.origin.clone(),
        label: src.label.clone(),
        text,
    };
    let s = Scenario::from_source(&candidate, &[])?;
    let run = sim::run(&s, &options(&s))?;
    let p = project(&s, &run);
    let c = capacity(&s, &run);
    Ok((s, p, c))
}

/// APGR and CPT of a curve's points, closed by all-weak (0, 0) and
/// all-strong (1, 1).
pub fn summarise(mut points: Vec<CurvePoint>) -> Curve {
    points.sort_by(|a, b| a.strong_share.total_cmp(&b.strong_share));
    let mut xy: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    xy.extend(points.iter().map(|p| (p.strong_share, p.pgr)));
    xy.push((1.0, 1.0));
    let apgr = xy
        .windows(2)
        .map(|w| 0.5 * (w[1].0 - w[0].0) * (w[0].1 + w[1].1))
        .sum();
    Curve {
        apgr,
        cpt50: cpt(&xy, 0.5),
        cpt80: cpt(&xy, 0.8),
        points,
    }
}

/// The first share at which the piecewise-linear curve `xy` (by share)
/// reaches PGR `x`.
fn cpt(xy: &[(f64, f64)], x: f64) -> Option<f64> {
    if xy.first().is_some_and(|p| p.1 >= x) {
        return Some(xy[0].0);
    }
    xy.windows(2).find_map(|w| {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        (y0 < x && y1 >= x).then(|| x0 + (x1 - x0) * (x - y0) / (y1 - y0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(share: f64, pgr: f64) -> CurvePoint {
        CurvePoint {
            setting: 0.0,
            strong_share: share,
            quality: 0.0,
            total_cost_usd: 0.0,
            pgr,
        }
    }

    #[test]
    fn summaries_by_hand() {
        // The diagonal: APGR 1/2, CPT(x) = x.
        let c = summarise(vec![pt(0.5, 0.5)]);
        assert!((c.apgr - 0.5).abs() < 1e-15);
        assert_eq!(c.cpt50, Some(0.5));
        assert!((c.cpt80.unwrap() - 0.8).abs() < 1e-15);
        // A router at (0.2, 0.6): area 0.2·0.6/2 + 0.8·(0.6 + 1)/2 = 0.06 +
        // 0.64 = 0.7; PGR 0.5 at share 0.2·0.5/0.6 = 1/6; PGR 0.8 at
        // 0.2 + 0.8·(0.2/0.4) = 0.6.
        let c = summarise(vec![pt(0.2, 0.6)]);
        assert!((c.apgr - 0.7).abs() < 1e-15);
        assert!((c.cpt50.unwrap() - 1.0 / 6.0).abs() < 1e-15);
        assert!((c.cpt80.unwrap() - 0.6).abs() < 1e-15);
    }
}
