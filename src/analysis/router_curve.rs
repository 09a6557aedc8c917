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
//! A two-model cascade's threshold is its gate's: a stricter gate flags
//! more answers, bad (recall) and good (false alarms) alike. The scenario
//! states one operating point; the curve moves along the equal-variance
//! binormal ROC through it (an assumption, the usual model of a
//! detector): with `d' = Φ⁻¹(recall) − Φ⁻¹(false_alarm)`, a false-alarm
//! rate `f` comes with recall `Φ(d' + Φ⁻¹(f))`, from never flagging (0, 0)
//! to always (1, 1). Its strong share is the strong model's calls per
//! request (every request calls the weak one first). A cascade inside a
//! `rules` entry is drawn on that workload's requests alone.
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
use crate::stats::dist::std_normal_quantile;

/// Thresholds (`max_quality_drop`) a classifier is run at, from never
/// strong to nearly always.
pub(crate) const THRESHOLDS: [f64; 20] = [
    1.0, 0.5, 0.4, 0.3, 0.25, 0.2, 0.16, 0.13, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01,
    0.005, 0.002, 0.001, 0.0,
];

/// False-alarm rates a cascade's gate is run at, from never flagging to
/// always.
const FALSE_ALARMS: [f64; 20] = [
    0.0, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
    0.9, 0.97, 1.0,
];

/// Shares of strong calls the random router is run at.
const RANDOM_SHARES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// One point of a curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// The classifier's `max_quality_drop`, the cascade gate's false-alarm
    /// rate, or the random router's share.
    pub setting: f64,
    /// A cascade's gate: its recall at that false-alarm rate.
    pub gate_recall: Option<f64>,
    /// Share of answer calls sent to the strong model (for a cascade, the
    /// strong model's calls per request).
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

/// A two-model router of the scenario (a classifier or a cascade), and the
/// random router beside it.
#[derive(Debug, Clone, Serialize)]
pub struct RouterCurve {
    pub policy: String,
    /// `classifier` or `cascade`.
    pub kind: &'static str,
    /// A cascade of a `rules` entry: the workload it routes (the curve is
    /// on that workload's requests); `None`: every workload.
    pub workload: Option<String>,
    pub weak: String,
    pub strong: String,
    pub weak_quality: f64,
    pub strong_quality: f64,
    pub router: Curve,
    pub random: Curve,
}

/// The curve of every two-model classifier and two-step cascade in the
/// scenario `doc` (the scenario's text `src` with its overrides applied),
/// two curves to an engine run.
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
    let mut specs = Vec::new();
    for p in &policies {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("router");
        if let Some(c) = p.get("classifier").and_then(Value::as_mapping)
            && let Some((weak, strong)) = pair(c.get("weak"), c.get("strong"))
        {
            specs.push(Spec {
                name,
                router: Router::Classifier(c),
                workload: None,
                weak,
                strong,
            });
        }
        if let Some(c) = p.get("cascade").and_then(Value::as_mapping)
            && let Some((weak, strong, d)) = two_step(c)
        {
            specs.push(Spec {
                name,
                router: Router::Cascade(c, d),
                workload: None,
                weak,
                strong,
            });
        }
        if let Some(rules) = p.get("rules").and_then(Value::as_mapping) {
            for (w, entry) in rules {
                let (Some(w), Some(c)) =
                    (w.as_str(), entry.get("cascade").and_then(Value::as_mapping))
                else {
                    continue;
                };
                if w == "default" {
                    continue;
                }
                if let Some((weak, strong, d)) = two_step(c) {
                    specs.push(Spec {
                        name,
                        router: Router::Cascade(c, d),
                        workload: Some(w),
                        weak,
                        strong,
                    });
                }
            }
        }
    }
    // Each curve is 31 policies (weak, strong, 20 settings, 9 random
    // shares): two fit in a run of at most 64.
    let mut out = Vec::with_capacity(specs.len());
    for chunk in specs.chunks(2) {
        let mut list = Vec::new();
        let mut layout = Vec::new();
        for (k, spec) in chunk.iter().enumerate() {
            let (policies, settings) = curve_policies(&format!("c{k}-"), spec);
            layout.push((list.len(), settings));
            list.extend(policies);
        }
        let (_, p, _) = run_variant(src, doc, list, "c0-strong", options)?;
        for (spec, (offset, settings)) in chunk.iter().zip(layout) {
            out.push(curve_result(&p, offset, &settings, spec));
        }
    }
    Ok(out)
}

/// A router whose curve is drawn: the scenario policy it comes from, the
/// workload it routes (`None`: every workload) and its two models.
struct Spec<'a> {
    name: &'a str,
    router: Router<'a>,
    workload: Option<&'a str>,
    weak: &'a str,
    strong: &'a str,
}

fn pair<'a>(weak: Option<&'a Value>, strong: Option<&'a Value>) -> Option<(&'a str, &'a str)> {
    Some((weak?.as_str()?, strong?.as_str()?))
}

/// A two-step cascade's models and its gate's d' (both rates plain
/// numbers; an uncertain gate has no single operating point to draw from).
fn two_step(c: &Mapping) -> Option<(&str, &str, f64)> {
    let steps = c.get("steps")?.as_sequence()?;
    let [weak, strong] = steps.as_slice() else {
        return None;
    };
    let gate = c.get("gate")?;
    let rate = |k: &str| {
        gate.get(k)
            .and_then(Value::as_f64)
            .map(|x| x.clamp(1e-6, 1.0 - 1e-6))
    };
    let d = std_normal_quantile(rate("recall")?) - std_normal_quantile(rate("false_alarm")?);
    Some((weak.as_str()?, strong.as_str()?, d))
}

/// The router a curve moves the threshold of.
enum Router<'a> {
    Classifier(&'a Mapping),
    /// The cascade and its gate's d'.
    Cascade(&'a Mapping, f64),
}

/// The gate's recall at false-alarm rate `f` on the binormal ROC of
/// separation `d` (0 and 1 at the ends).
fn recall_at(d: f64, f: f64) -> f64 {
    if f <= 0.0 {
        0.0
    } else if f >= 1.0 {
        1.0
    } else {
        std_normal_cdf(d + std_normal_quantile(f))
    }
}

fn std_normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// A curve's policies, named with `prefix`: weak, strong, the router at
/// each setting, the random router at each share; and the settings (with
/// a cascade gate's recall at each).
fn curve_policies(prefix: &str, spec: &Spec<'_>) -> (Vec<Value>, Vec<(f64, Option<f64>)>) {
    let (workload, weak, strong) = (spec.workload, spec.weak, spec.strong);
    // A route on every workload, or on `workload` with the rest on the weak
    // model (so the strong model's calls are that workload's).
    let policy = |name: String, kind: &str, body: Value| {
        let mut route = Mapping::new();
        route.insert(kind.into(), body);
        let mut m = Mapping::new();
        m.insert("name".into(), Value::String(format!("{prefix}{name}")));
        match workload {
            None => {
                for (k, v) in route {
                    m.insert(k, v);
                }
            }
            Some(w) => {
                let mut rules = Mapping::new();
                rules.insert(w.into(), Value::Mapping(route));
                rules.insert("default".into(), Value::String(weak.into()));
                m.insert("rules".into(), Value::Mapping(rules));
            }
        }
        Value::Mapping(m)
    };
    let single = |name: &str, model: &str| {
        let mut m = Mapping::new();
        m.insert("name".into(), Value::String(format!("{prefix}{name}")));
        m.insert("single".into(), Value::String(model.into()));
        Value::Mapping(m)
    };
    let mut list = vec![single("weak", weak), single("strong", strong)];
    let settings: Vec<(f64, Option<f64>)> = match &spec.router {
        Router::Classifier(c) => {
            for (i, t) in THRESHOLDS.iter().enumerate() {
                let mut c = (*c).clone();
                c.insert("max_quality_drop".into(), Value::from(*t));
                list.push(policy(
                    format!("router-{i}"),
                    "classifier",
                    Value::Mapping(c),
                ));
            }
            THRESHOLDS.iter().map(|t| (*t, None)).collect()
        }
        Router::Cascade(c, d) => FALSE_ALARMS
            .iter()
            .enumerate()
            .map(|(i, &f)| {
                let recall = recall_at(*d, f);
                let mut c = (*c).clone();
                let mut gate = c
                    .get("gate")
                    .and_then(Value::as_mapping)
                    .cloned()
                    .unwrap_or_default();
                gate.insert("recall".into(), Value::from(recall));
                gate.insert("false_alarm".into(), Value::from(f));
                c.insert("gate".into(), Value::Mapping(gate));
                list.push(policy(format!("router-{i}"), "cascade", Value::Mapping(c)));
                (f, Some(recall))
            })
            .collect(),
    };
    for (i, t) in RANDOM_SHARES.iter().enumerate() {
        let mut m = Mapping::new();
        // Percentages, whole: 10 to 90.
        let pct = (t * 100.0).round() as u64;
        m.insert(Value::String(weak.into()), Value::from(100 - pct));
        m.insert(Value::String(strong.into()), Value::from(pct));
        list.push(policy(format!("random-{i}"), "split", Value::Mapping(m)));
    }
    (list, settings)
}

/// A curve from the run of its policies (the first at `offset`).
fn curve_result(
    p: &Projection,
    offset: usize,
    settings: &[(f64, Option<f64>)],
    spec: &Spec<'_>,
) -> RouterCurve {
    let (workload, weak, strong) = (spec.workload, spec.weak, spec.strong);
    // Quality, requests and cost on the curve's traffic: one workload's,
    // or all.
    let on = |i: usize| {
        let x = &p.policies[offset + i];
        match workload.and_then(|w| x.by_workload.get(w)) {
            Some(l) => (l.quality, l.requests, l.cost_usd),
            None => (
                x.quality,
                x.by_workload.values().map(|l| l.requests).sum(),
                x.total_cost_usd,
            ),
        }
    };
    let (qw, qs) = (on(0).0, on(1).0);
    let gap = qs - qw;
    let cascade = matches!(spec.router, Router::Cascade(..));
    let point = |i: usize, setting: f64, gate_recall: Option<f64>, routed: bool| {
        let x = &p.policies[offset + i];
        let calls = |k: &str| x.by_model.get(k).map_or(0.0, |m| m.calls);
        let (quality, requests, total_cost_usd) = on(i);
        let (w, st) = (calls(weak), calls(strong));
        let strong_share = if cascade && routed {
            if requests > 0.0 { st / requests } else { 0.0 }
        } else if workload.is_some() {
            // The other workloads' calls are all weak.
            if requests > 0.0 { st / requests } else { 0.0 }
        } else if w + st > 0.0 {
            st / (w + st)
        } else {
            0.0
        };
        CurvePoint {
            setting,
            gate_recall,
            strong_share,
            quality,
            total_cost_usd,
            pgr: if gap != 0.0 {
                (quality - qw) / gap
            } else {
                0.0
            },
        }
    };
    let router_points: Vec<CurvePoint> = settings
        .iter()
        .enumerate()
        .map(|(i, &(t, r))| point(2 + i, t, r, true))
        .collect();
    let random: Vec<CurvePoint> = RANDOM_SHARES
        .iter()
        .enumerate()
        .map(|(i, t)| point(2 + settings.len() + i, *t, None, false))
        .collect();
    RouterCurve {
        policy: spec.name.to_string(),
        kind: if cascade { "cascade" } else { "classifier" },
        workload: workload.map(str::to_string),
        weak: weak.to_string(),
        strong: strong.to_string(),
        weak_quality: qw,
        strong_quality: qs,
        router: summarise(router_points),
        random: summarise(random),
    }
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
    let s = variant(src, doc, policies, baseline)?;
    let opts = options(&s);
    let run = sim::run(&s, &opts)?;
    let p = sim::on_threads(opts.threads, || project(&s, &run))?;
    let c = capacity(&s, &run);
    Ok((s, p, c))
}

/// The scenario `doc` with `policies` and `baseline` instead of its own,
/// written as YAML and validated like a user's file.
pub(crate) fn variant(
    src: &Source,
    doc: &Value,
    policies: Vec<Value>,
    baseline: &str,
) -> Result<Scenario> {
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
    Scenario::from_source(&candidate, &[])
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
            gate_recall: None,
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
