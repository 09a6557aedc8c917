//! `single`: one model for everything.

use std::sync::Arc;

use crate::catalog::ModelId;
use crate::check::{Checker, Sampler};
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind};
use crate::traffic::request::Request;

#[derive(Debug, Clone)]
pub struct Single {
    pub name: String,
    pub model: ModelId,
    /// Tried in order when `model` cannot take a request.
    pub fallback: Vec<ModelId>,
}

impl Policy for Single {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        PolicyKind::Single.name()
    }

    fn role(&self) -> super::Role {
        super::Role::SingleModel
    }
    /// The fast path books a `single` whose model takes the request
    /// without calling this (`sim::fast`'s `singles`, ARCHITECTURE.md):
    /// a change here that asks about outcomes or decides otherwise goes
    /// there too.
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        ctx.serve_with(self.model, &self.fallback, req, out);
    }

    fn models(&self) -> Option<Vec<ModelId>> {
        Some([&[self.model][..], &self.fallback].concat())
    }

    fn outcomes_through_context(&self) -> bool {
        true
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Single(self))
    }
}

/// A checked `single`: the model and the fallbacks in force.
#[derive(Debug, Clone)]
pub struct SingleDef {
    pub model: ModelId,
    pub fallback: Vec<ModelId>,
}

impl BuiltIn for Single {
    /// The model's key.
    type Spec = String;
    type Def = SingleDef;

    fn check(key: &String, cx: &mut Checker<'_>, at: &At<'_>) -> Option<SingleDef> {
        let model = cx.model(at.path.clone(), key)?;
        Some(SingleDef {
            model,
            fallback: at.fallback.to_vec(),
        })
    }

    fn build(def: &SingleDef, name: String, _: &mut dyn Sampler) -> Arc<dyn Policy> {
        Arc::new(Single {
            name,
            model: def.model,
            fallback: def.fallback.clone(),
        })
    }
}
