//! `oracle`: the cheapest model that would succeed on each request.
//!
//! A bound, not a policy anyone can run: it knows the outcome in advance. It
//! shows how much of the gap between cheap and strong models routing could
//! ever recover. When no candidate would succeed, it uses the cheapest one
//! that can take the request (the answer fails either way).

use std::sync::Arc;

use crate::catalog::ModelId;
use crate::check::{Checker, Sampler};
use crate::policy::{At, BuiltIn, Context, Decision, ListTokens, Policy, PolicyKind};
use crate::traffic::request::Request;

#[derive(Debug, Clone)]
pub struct Oracle {
    pub name: String,
    pub models: Vec<ModelId>,
}

impl Policy for Oracle {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        PolicyKind::Oracle.name()
    }

    fn role(&self) -> super::Role {
        super::Role::Bound
    }
    #[inline(always)]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        self.choose(self.priced(req, ctx), req, ctx, out);
    }

    fn models(&self) -> Option<Vec<ModelId>> {
        Some(self.models.clone())
    }

    fn outcomes_through_context(&self) -> bool {
        true
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Oracle(self))
    }
}

impl Oracle {
    /// The models that can take `req`, in the oracle's order, with their
    /// list costs: what [`Policy::route`] computes before judging any
    /// outcome. Neither depends on the outcome, so the fast path computes
    /// them once per request and judges each outcome interval with
    /// [`Oracle::route_among`] (the same decisions, and the same models
    /// asked about, as `route`).
    pub fn candidates(&self, req: &Request, ctx: &Context<'_>, out: &mut Vec<(ModelId, f64)>) {
        out.clear();
        out.extend(self.priced(req, ctx));
    }

    /// The models that can take `req`, with their list costs, lazily.
    #[inline(always)]
    fn priced<'a>(
        &'a self,
        req: &'a Request,
        ctx: &'a Context<'_>,
    ) -> impl Iterator<Item = (ModelId, f64)> + 'a {
        let tokens = ListTokens::of(req);
        self.models
            .iter()
            .filter(|&&m| ctx.can_serve(m, req))
            .map(move |&m| (m, ctx.list_cost_of(m, req, &tokens)))
    }

    /// [`Policy::route`] among `candidates` from [`Oracle::candidates`]
    /// for the same request.
    #[inline]
    pub fn route_among(
        &self,
        candidates: &[(ModelId, f64)],
        req: &Request,
        ctx: &Context<'_>,
        out: &mut Decision,
    ) {
        self.choose(candidates.iter().copied(), req, ctx, out);
    }

    /// The cheapest candidate that succeeds, else the cheapest; ties go
    /// to the earlier candidate.
    #[inline(always)]
    fn choose(
        &self,
        candidates: impl Iterator<Item = (ModelId, f64)>,
        req: &Request,
        ctx: &Context<'_>,
        out: &mut Decision,
    ) {
        let mut best: Option<(f64, ModelId)> = None;
        let mut cheapest: Option<(f64, ModelId)> = None;
        for (m, cost) in candidates {
            if cheapest.is_none_or(|(c, _)| cost < c) {
                cheapest = Some((cost, m));
            }
            // Price first: a model dearer than the best so far is never
            // judged (the fast path then enumerates fewer outcomes).
            if best.is_none_or(|(c, _)| cost < c) && ctx.succeeds(m, req) {
                best = Some((cost, m));
            }
        }
        if let Some((_, m)) = best.or(cheapest) {
            let i = out.call(m);
            out.accept(i);
        }
    }
}

impl BuiltIn for Oracle {
    /// The candidate models' keys.
    type Spec = Vec<String>;
    /// The candidates.
    type Def = Vec<ModelId>;

    fn check(keys: &Vec<String>, cx: &mut Checker<'_>, at: &At<'_>) -> Option<Vec<ModelId>> {
        if keys.is_empty() {
            cx.err(
                at.path.clone(),
                "list the candidate models, e.g. [nova-micro, nova-pro, claude-sonnet-4-5]",
            );
            return None;
        }
        Some(cx.models(&at.path, keys))
    }

    fn build(models: &Vec<ModelId>, name: String, _: &mut dyn Sampler) -> Arc<dyn Policy> {
        Arc::new(Oracle {
            name,
            models: models.clone(),
        })
    }
}
