//! `split`: fixed percentages across models (an A/B test, a gradual rollout).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::ModelId;
use crate::check::{Checker, Param, Quantity, Range, Sampler};
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind};
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
        PolicyKind::Split.name()
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

    fn models(&self) -> Option<Vec<ModelId>> {
        Some([&self.models[..], &self.fallback].concat())
    }

    fn outcomes_through_context(&self) -> bool {
        true
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Split(self))
    }
}

/// A checked `split`: each model's weight (percent, possibly uncertain).
#[derive(Debug, Clone)]
pub struct SplitDef {
    pub weights: Vec<(ModelId, Param)>,
    pub fallback: Vec<ModelId>,
}

impl BuiltIn for Split {
    /// Model key → percent of requests.
    type Spec = BTreeMap<String, Quantity>;
    type Def = SplitDef;

    fn check(
        split: &BTreeMap<String, Quantity>,
        cx: &mut Checker<'_>,
        at: &At<'_>,
    ) -> Option<SplitDef> {
        let sp = &at.path;
        if split.is_empty() {
            cx.err(
                sp.clone(),
                "list at least one model with its percentage, e.g. { nova-lite: 70, nova-pro: 30 }",
            );
            return None;
        }
        let mut weights = Vec::new();
        for (key, q) in split {
            let m = cx.model(format!("{sp}.{key}"), key);
            let w = cx.param(format!("{sp}.{key}"), q, Range::open_min(0.0, 100.0));
            if let Some(m) = m {
                weights.push((m, w));
            }
        }
        if split.values().all(Quantity::is_fixed) {
            let sum: f64 = split.values().filter_map(Quantity::fixed).sum();
            if (sum - 100.0).abs() > 0.01 {
                cx.err(
                    sp.clone(),
                    format!(
                        "percentages sum to {}, they must sum to 100",
                        (sum * 1e4).round() / 1e4
                    ),
                );
            }
        }
        Some(SplitDef {
            weights,
            fallback: at.fallback.to_vec(),
        })
    }

    fn build(def: &SplitDef, name: String, draw: &mut dyn Sampler) -> Arc<dyn Policy> {
        let w: Vec<_> = def
            .weights
            .iter()
            .map(|(m, p)| (*m, draw.value(p)))
            .collect();
        Arc::new(Split::new(name, &w, def.fallback.clone()))
    }
}
