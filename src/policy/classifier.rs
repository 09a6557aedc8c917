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

use crate::catalog::ModelId;
use crate::check::quantity::fmt_num;
use crate::check::{Checker, Param, Quantity, Range, Sampler};
use crate::policy::overhead::{OverheadCallSpec, OverheadCost, OverheadDef};
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind};
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
                let pw = ctx.p_success(*weak, req.task, d_hat);
                let ps = ctx.p_success(*strong, req.task, d_hat);
                if ps - pw <= *max_quality_drop {
                    *weak
                } else {
                    *strong
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
        self.cost.charge(req, out);
        let d_hat = if self.noise_sd > 0.0 {
            req.difficulty + self.noise_sd * req.normal(Stream::CLASSIFIER_NOISE)
        } else {
            req.difficulty
        };
        let m = self.pick(d_hat, req, ctx);
        ctx.serve_with(m, &self.fallback, req, out);
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
