//! `split`: fixed percentages across models (an A/B test, a gradual rollout).

use crate::catalog::ModelId;
use crate::policy::{Context, Decision, Policy};
use crate::traffic::request::{Request, Stream};

#[derive(Debug, Clone)]
pub struct Split {
    pub name: String,
    pub models: Vec<ModelId>,
    /// Cumulative shares, ending at 1.
    pub cumulative: Vec<f64>,
    pub fallback: Vec<ModelId>,
}

impl Split {
    /// Builds a split from (model, weight) pairs; weights are normalised.
    pub fn new(name: String, weighted: &[(ModelId, f64)], fallback: Vec<ModelId>) -> Split {
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut acc = 0.0;
        let mut cumulative = Vec::with_capacity(weighted.len());
        for (_, w) in weighted {
            acc += w / total;
            cumulative.push(acc);
        }
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Split {
            name,
            models: weighted.iter().map(|(m, _)| *m).collect(),
            cumulative,
            fallback,
        }
    }
}

impl Policy for Split {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        crate::scenario::spec::PolicyKind::Split.name()
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        let u = req.uniform(Stream::SPLIT);
        let i = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.models.len() - 1);
        ctx.serve_with(self.models[i], &self.fallback, req, out);
    }
}
