//! `classifier`: estimate difficulty with a priced call, then route.
//!
//! The estimate is `d̂ = d + noise_sd · z` with `z` standard normal. Two
//! forms: thresholds (`d̂ < below` picks a route's model; the last route
//! takes the rest), or two models as in Bedrock's prompt router: the cheaper
//! model when its predicted success `σ((c − d̂)/s)` is within
//! `max_quality_drop` of the stronger model's, else the stronger.

use crate::catalog::ModelId;
use crate::policy::overhead::OverheadCost;
use crate::policy::{Context, Decision, Policy};
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
        crate::scenario::spec::PolicyKind::Classifier.name()
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
}
