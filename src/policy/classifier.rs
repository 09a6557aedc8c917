//! `classifier`: estimate difficulty with a priced call, then route.
//!
//! The estimate is `d̂ = d + noise_sd · z` with `z` standard normal. Two
//! forms: thresholds (`d̂ < below` picks a route's model; the last route
//! takes the rest), or two models as in Bedrock's prompt router: the cheaper
//! model when its predicted success `σ((c − d̂)/s)` is within
//! `max_quality_drop` of the stronger model's, else the stronger.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{ModelId, TaskKind};
use crate::check::quantity::fmt_num;
use crate::check::{Checker, Param, Quantity, Range, Sampler};
use crate::policy::overhead::{OverheadCallSpec, OverheadCost, OverheadDef};
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind};
use crate::quality::p_success;
use crate::stats::dist::{STD_NORMAL_ESTIMATE_ERROR, StdNormalEstimate};
use crate::traffic::request::{Request, Stream};

#[derive(Debug, Clone, PartialEq)]
pub enum ClassifierRouting {
    /// (upper bound of d̂, model); the last entry's bound is +∞.
    Thresholds(Vec<(f64, ModelId)>),
    TwoModel {
        weak: ModelId,
        strong: ModelId,
        max_quality_drop: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Classifier {
    pub name: String,
    pub cost: OverheadCost,
    pub noise_sd: f64,
    pub routing: ClassifierRouting,
    pub fallback: Vec<ModelId>,
}

impl Classifier {
    /// A two-model classifier's band for requests of `task`, looked up
    /// once for [`Classifier::route_in`]; `None` for the threshold form.
    pub(crate) fn band_for(&self, task: TaskKind, ctx: &Context<'_>) -> Option<(TaskKind, Band)> {
        match &self.routing {
            ClassifierRouting::TwoModel {
                weak,
                strong,
                max_quality_drop,
            } => Some((task, ctx.band(*weak, *strong, task, *max_quality_drop))),
            ClassifierRouting::Thresholds(_) => None,
        }
    }

    /// [`Policy::route`], with the band for requests of one task at hand
    /// (exact mode looks it up once per workload): the same decision, the
    /// band lookup spared. A request of another task, or no band, goes
    /// through [`Classifier::pick`].
    #[inline(always)]
    pub(crate) fn route_in(
        &self,
        band: Option<(TaskKind, Band)>,
        req: &Request,
        ctx: &Context<'_>,
        out: &mut Decision,
    ) {
        self.cost.charge(req, out);
        let m = self.choose(band, req, ctx);
        ctx.serve_with(m, &self.fallback, req, out);
    }

    /// The model [`Classifier::route_in`] sends `req` to, before any
    /// fallback.
    #[inline(always)]
    pub(crate) fn choose(
        &self,
        band: Option<(TaskKind, Band)>,
        req: &Request,
        ctx: &Context<'_>,
    ) -> ModelId {
        let d_hat = if self.noise_sd > 0.0 {
            req.difficulty + self.noise_sd * req.normal(Stream::CLASSIFIER_NOISE)
        } else {
            req.difficulty
        };
        match (&self.routing, band) {
            (
                ClassifierRouting::TwoModel {
                    weak,
                    strong,
                    max_quality_drop,
                },
                Some((task, band)),
            ) if task == req.task => {
                if ctx.prefers_strong_in(band, *weak, *strong, task, *max_quality_drop, d_hat) {
                    *strong
                } else {
                    *weak
                }
            }
            _ => self.pick(d_hat, req, ctx),
        }
    }

    /// [`Classifier::choose`] for each of `requests`, in order, into `out`.
    ///
    /// Where a band decides, from an estimate of each request's normal
    /// draw ([`StdNormalEstimate`]) wherever the estimate's error cannot
    /// change the band's answer: the estimated difficulty from the
    /// estimate is within `noise_sd · STD_NORMAL_ESTIMATE_ERROR` of the
    /// exact one, plus the two roundings of each (below
    /// `1e-12 · (1 + noise_sd)` for a difficulty in [0, 1] and `z` within
    /// the tables' ±7.9), so the band's edges widened by that give only
    /// the exact answers. Elsewhere (a draw below 2^−48 from either end,
    /// the few near an edge, a draw already computed) `choose` decides.
    /// Exact mode thus computes the inverse normal CDF for few requests.
    pub(crate) fn choose_all(
        &self,
        band: Option<(TaskKind, Band)>,
        requests: &[Request],
        ctx: &Context<'_>,
        out: &mut Vec<ModelId>,
    ) {
        match (&self.routing, band) {
            (
                ClassifierRouting::TwoModel { weak, strong, .. },
                Some((task, Band::Between { lo, hi })),
            ) if self.noise_sd > 0.0 => {
                let (weak, strong, sd) = (*weak, *strong, self.noise_sd);
                let edge = Band::EDGE + sd * STD_NORMAL_ESTIMATE_ERROR + 1e-12 * (1.0 + sd);
                let (weak_below, weak_above) = (lo - edge, hi + edge);
                let (strong_above, strong_below) = (lo + edge, hi - edge);
                let estimate = StdNormalEstimate::get();
                out.extend(requests.iter().map(|r| {
                    if r.task == task
                        && r.noise.is_nan()
                        && let Some(z) = estimate.at(r.uniform(Stream::CLASSIFIER_NOISE))
                    {
                        let x = r.difficulty + sd * z;
                        // Which side of the band follows the draw: decided
                        // by a select, not a branch that would mispredict.
                        let to_strong = (x > strong_above) & (x < strong_below);
                        let to_weak = (x < weak_below) | (x > weak_above);
                        if to_strong | to_weak {
                            return std::hint::select_unpredictable(to_strong, strong, weak);
                        }
                    }
                    self.choose(band, r, ctx)
                }));
            }
            _ => out.extend(requests.iter().map(|r| self.choose(band, r, ctx))),
        }
    }

    /// Whether routing under `band` reads every request's exact normal
    /// draw (then worth computing for a batch in a loop of its own,
    /// `Request::noise`): not where a band decides, mostly from an
    /// estimate ([`Classifier::choose_all`]).
    pub(crate) fn reads_exact_noise(&self, band: Option<(TaskKind, Band)>) -> bool {
        let banded = matches!(
            (&self.routing, band),
            (
                ClassifierRouting::TwoModel { .. },
                Some((_, Band::Between { .. }))
            )
        );
        self.noise_sd > 0.0 && !banded
    }

    /// Whether deciding costs nothing: no estimator call and no fee (or a
    /// fee of 0), so a request's booking is its answer call alone.
    pub(crate) fn charges_nothing(&self) -> bool {
        match self.cost {
            OverheadCost::None => true,
            OverheadCost::Usd(usd) => usd == 0.0,
            OverheadCost::Call { .. } => false,
        }
    }

    /// The models the classifier routes to (fallbacks aside), each once,
    /// in the order it names them.
    pub(crate) fn routed(&self) -> Vec<ModelId> {
        let mut out: Vec<ModelId> = Vec::new();
        let named: Vec<ModelId> = match &self.routing {
            ClassifierRouting::Thresholds(routes) => routes.iter().map(|(_, m)| *m).collect(),
            ClassifierRouting::TwoModel { weak, strong, .. } => vec![*weak, *strong],
        };
        for m in named {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// The model the classifier picks for an estimated difficulty.
    pub fn pick(&self, d_hat: f64, req: &Request, ctx: &Context<'_>) -> ModelId {
        match &self.routing {
            ClassifierRouting::Thresholds(routes) => routes
                .iter()
                .find(|(below, _)| d_hat < *below)
                .or(routes.last())
                .map(|(_, m)| *m)
                .expect("validated: at least one route"),
            ClassifierRouting::TwoModel {
                weak,
                strong,
                max_quality_drop,
            } => {
                if ctx.prefers_strong(*weak, *strong, req.task, *max_quality_drop, d_hat) {
                    *strong
                } else {
                    *weak
                }
            }
        }
    }
}

impl Policy for Classifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        PolicyKind::Classifier.name()
    }
    /// The models it routes to and the fallbacks (the estimator's outcome
    /// is never consulted; `p_success` reads capabilities, not outcomes).
    fn models(&self) -> Option<Vec<ModelId>> {
        let routed: Vec<ModelId> = match &self.routing {
            ClassifierRouting::Thresholds(routes) => routes.iter().map(|(_, m)| *m).collect(),
            ClassifierRouting::TwoModel { weak, strong, .. } => vec![*weak, *strong],
        };
        Some([&routed[..], &self.fallback].concat())
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        self.route_in(None, req, ctx, out);
    }

    fn outcomes_through_context(&self) -> bool {
        true
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Classifier(self))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSpec {
    /// The priced call that estimates difficulty ...
    #[serde(default)]
    pub estimator: Option<OverheadCallSpec>,
    /// ... or a fixed cost per request, in USD.
    #[serde(default)]
    pub cost_usd: Option<Quantity>,
    /// Standard deviation of the estimate's error (difficulty scale 0..1).
    pub noise_sd: Quantity,
    /// Threshold form: the first route whose `below` exceeds the estimate.
    #[serde(default)]
    pub routes: Option<Vec<RouteSpec>>,
    /// Two-model form: the cheaper model ...
    #[serde(default)]
    pub weak: Option<String>,
    /// ... and the stronger one.
    #[serde(default)]
    pub strong: Option<String>,
    /// Pick `weak` when its predicted success is within this of `strong`'s.
    #[serde(default)]
    pub max_quality_drop: Option<Quantity>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Upper bound of estimated difficulty for this route; the last route has none.
    #[serde(default)]
    pub below: Option<f64>,
    pub model: String,
}

/// A checked classifier's routing, its numbers possibly uncertain.
#[derive(Debug, Clone)]
pub enum RoutingDef {
    Thresholds(Vec<(f64, ModelId)>),
    TwoModel {
        weak: ModelId,
        strong: ModelId,
        max_quality_drop: Param,
    },
}

/// A checked `classifier`.
#[derive(Debug, Clone)]
pub struct ClassifierDef {
    pub cost: OverheadDef,
    pub noise_sd: Param,
    pub routing: RoutingDef,
    pub fallback: Vec<ModelId>,
}

impl BuiltIn for Classifier {
    type Spec = ClassifierSpec;
    type Def = ClassifierDef;

    fn check(c: &ClassifierSpec, cx: &mut Checker<'_>, at: &At<'_>) -> Option<ClassifierDef> {
        let cp = &at.path;
        let cost = OverheadDef::check(
            cx,
            cp,
            c.estimator.as_ref(),
            "estimator",
            c.cost_usd.as_ref(),
        );
        let noise_sd = cx.param(
            format!("{cp}.noise_sd"),
            &c.noise_sd,
            Range::closed(0.0, 10.0),
        );
        let two_model = c.weak.is_some() || c.strong.is_some() || c.max_quality_drop.is_some();
        let routing = match (&c.routes, two_model) {
            (Some(routes), false) => RoutingDef::Thresholds(check_routes(cx, cp, routes)?),
            (None, true) => {
                let weak = match &c.weak {
                    Some(k) => cx.model(format!("{cp}.weak"), k),
                    None => {
                        cx.err(
                            cp.clone(),
                            "missing field `weak` (the cheaper model of the two)",
                        );
                        None
                    }
                };
                let strong = match &c.strong {
                    Some(k) => cx.model(format!("{cp}.strong"), k),
                    None => {
                        cx.err(
                            cp.clone(),
                            "missing field `strong` (the stronger model of the two)",
                        );
                        None
                    }
                };
                let drop = match &c.max_quality_drop {
                    Some(q) => {
                        cx.param(format!("{cp}.max_quality_drop"), q, Range::closed(0.0, 1.0))
                    }
                    None => {
                        cx.err(
                            cp.clone(),
                            "missing field `max_quality_drop` (largest acceptable drop in predicted success, 0 to 1, e.g. 0.05)",
                        );
                        Param::fixed(format!("{cp}.max_quality_drop"), 0.0)
                    }
                };
                RoutingDef::TwoModel {
                    weak: weak?,
                    strong: strong?,
                    max_quality_drop: drop,
                }
            }
            _ => {
                cx.err(
                    cp.clone(),
                    "give either `routes` (difficulty thresholds) or `weak`, `strong` and `max_quality_drop` (two-model form)",
                );
                return None;
            }
        };
        Some(ClassifierDef {
            cost,
            noise_sd,
            routing,
            fallback: at.fallback.to_vec(),
        })
    }

    fn build(def: &ClassifierDef, name: String, draw: &mut dyn Sampler) -> Arc<dyn Policy> {
        let cost = def.cost.draw(draw);
        let noise_sd = draw.value(&def.noise_sd);
        let routing = match &def.routing {
            RoutingDef::Thresholds(r) => ClassifierRouting::Thresholds(r.clone()),
            RoutingDef::TwoModel {
                weak,
                strong,
                max_quality_drop,
            } => ClassifierRouting::TwoModel {
                weak: *weak,
                strong: *strong,
                max_quality_drop: draw.value(max_quality_drop),
            },
        };
        Arc::new(Classifier {
            name,
            cost,
            noise_sd,
            routing,
            fallback: def.fallback.clone(),
        })
    }
}

/// The threshold form's routes: increasing finite bounds, the last without one.
fn check_routes(
    cx: &mut Checker<'_>,
    cp: &str,
    routes: &[RouteSpec],
) -> Option<Vec<(f64, ModelId)>> {
    if routes.is_empty() {
        cx.err(
            format!("{cp}.routes"),
            "list at least one route, e.g. - { model: nova-pro }",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut prev = f64::NEG_INFINITY;
    for (i, r) in routes.iter().enumerate() {
        let rp = format!("{cp}.routes[{i}]");
        let last = i + 1 == routes.len();
        let below = match (r.below, last) {
            (Some(_), true) => {
                cx.err(
                    format!("{rp}.below"),
                    "the last route takes every remaining request; remove its `below`",
                );
                f64::INFINITY
            }
            (None, true) => f64::INFINITY,
            (None, false) => {
                cx.err(
                    rp.clone(),
                    "missing field `below` (every route but the last needs one)",
                );
                f64::INFINITY
            }
            (Some(b), false) => {
                if !b.is_finite() || b <= prev {
                    cx.err(
                        format!("{rp}.below"),
                        format!(
                            "thresholds must be finite and increasing; got {b} after {}",
                            fmt_num(prev)
                        ),
                    );
                }
                prev = b;
                b
            }
        };
        if let Some(m) = cx.model(format!("{rp}.model"), &r.model) {
            out.push((below, m));
        }
    }
    Some(out)
}

/// Where a two-model classifier picks the strong model, as a function of
/// the estimated difficulty `x`: where `f(x) = p_s(x) − p_w(x)` exceeds the
/// quality drop `δ`. With logistic success curves and a stronger strong
/// model (`c_s > c_w`), `f` rises to one peak at `x = (c_s + c_w)/2` and
/// falls after it, so that is one interval `(lo, hi)`; found once per
/// (weak, strong, task, δ) and replication, it spares each request the two
/// exponentials. Decisions are the direct formula's to the bit: within
/// [`Band::EDGE`] of an edge (and whenever the interval could not be
/// bracketed with room to spare) the formula decides, and away from the
/// edges `f` is at least [`Band::MARGIN`] from `δ`, a million times its
/// rounding error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Band {
    /// `f ≤ δ − MARGIN` everywhere: always the weak model.
    Never,
    /// The strong model on `(lo, hi)`.
    Between { lo: f64, hi: f64 },
    /// No usable interval (`δ` near `f`'s peak or near 0): the formula decides.
    Formula,
}

impl Band {
    pub(crate) const EDGE: f64 = 1e-6;
    pub(crate) const MARGIN: f64 = 1e-9;

    /// The band of `f(x) = p(c_s, x) − p(c_w, x)` above `drop`.
    pub(crate) fn new(c_weak: f64, c_strong: f64, slope: f64, drop: f64) -> Band {
        let f = |x: f64| p_success(c_strong, x, slope) - p_success(c_weak, x, slope);
        let (e, margin) = (Band::EDGE, Band::MARGIN);
        if !(c_strong > c_weak && slope > 0.0 && drop.is_finite()) {
            // f ≤ 0 everywhere when the curves rise the usual way (or
            // nothing to reason about).
            return if c_strong <= c_weak && slope > 0.0 && drop >= margin {
                Band::Never
            } else {
                Band::Formula
            };
        }
        let peak = 0.5 * (c_strong + c_weak);
        let top = f(peak);
        if top < drop - margin {
            return Band::Never;
        }
        if top <= drop + margin || drop < margin {
            return Band::Formula;
        }
        // The crossing on each side of the peak, bracketed by doubling and
        // bisected: `inside` is a point where f > drop, `outside` one where
        // f < drop.
        let crossing = |dir: f64| -> Option<f64> {
            let mut step = slope.max(1e-3);
            let mut outside = peak + dir * step;
            let mut n = 0;
            while f(outside) >= drop {
                step *= 2.0;
                outside = peak + dir * step;
                n += 1;
                if n > 60 || !outside.is_finite() {
                    return None;
                }
            }
            let mut inside = peak;
            for _ in 0..200 {
                let mid = 0.5 * (inside + outside);
                if mid == inside || mid == outside {
                    break;
                }
                if f(mid) > drop {
                    inside = mid;
                } else {
                    outside = mid;
                }
            }
            Some(inside)
        };
        let (Some(lo), Some(hi)) = (crossing(-1.0), crossing(1.0)) else {
            return Band::Formula;
        };
        let clear = lo + e < hi - e
            && f(lo - e) < drop - margin
            && f(lo + e) > drop + margin
            && f(hi - e) > drop + margin
            && f(hi + e) < drop - margin;
        if clear {
            Band::Between { lo, hi }
        } else {
            Band::Formula
        }
    }

    /// Whether the strong model is picked at `x`: `Some` away from the
    /// edges, `None` where the formula must decide.
    #[inline]
    pub(crate) fn strong(self, x: f64) -> Option<bool> {
        match self {
            Band::Never => Some(false),
            Band::Formula => None,
            Band::Between { lo, hi } => {
                if x < lo - Band::EDGE || x > hi + Band::EDGE {
                    Some(false)
                } else if x > lo + Band::EDGE && x < hi - Band::EDGE {
                    Some(true)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod band_tests {
    use super::*;
    use crate::random::mix64;

    /// The band decides as the formula does at every point tried: 400
    /// random (weak, strong, slope, drop) settings, 4,000 estimated
    /// difficulties each, a quarter of them within 1e-5 of an edge; and
    /// most settings give a usable band (else nothing is saved).
    #[test]
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn band_decides_as_the_formula() {
        let unit = |k: u64| (mix64(k) >> 11) as f64 / (1u64 << 53) as f64;
        let mut bands = 0;
        for case in 0..400u64 {
            let k = case * 16;
            let c_weak = unit(k);
            let c_strong = c_weak + (unit(k + 1) - 0.2) * 0.5;
            let slope = 0.02 + 0.3 * unit(k + 2);
            let drop = [0.0, 0.01, 0.03, 0.1, 0.3][case as usize % 5] * unit(k + 3).max(0.5);
            let band = Band::new(c_weak, c_strong, slope, drop);
            let edges = match band {
                Band::Between { lo, hi } => {
                    bands += 1;
                    [lo, hi]
                }
                _ => [0.5, 0.5],
            };
            for i in 0..4000u64 {
                let u = unit(k * 1_000_003 + i + 7);
                let x = if i % 4 == 0 {
                    edges[(i / 4 % 2) as usize] + (u - 0.5) * 2e-5
                } else {
                    -1.0 + 3.0 * u
                };
                let formula = !(p_success(c_strong, x, slope) - p_success(c_weak, x, slope) <= drop);
                if let Some(b) = band.strong(x) {
                    assert_eq!(b, formula, "{band:?} at {x} (weak {c_weak}, strong {c_strong}, slope {slope}, drop {drop})");
                }
            }
        }
        assert!(bands > 150, "only {bands} of 400 settings gave a band");
        // A falling curve (negative slope) with the "strong" model weaker:
        // f is positive then, and the band must not claim "never".
        let band = Band::new(0.7, 0.3, -0.1, 0.05);
        for i in 0..=1000 {
            let x = i as f64 / 1000.0;
            let formula = !(p_success(0.3, x, -0.1) - p_success(0.7, x, -0.1) <= 0.05);
            if let Some(b) = band.strong(x) {
                assert_eq!(b, formula, "{band:?} at {x}");
            }
        }
    }
}
