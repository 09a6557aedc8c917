//! `single`: one model for everything.

use crate::catalog::ModelId;
use crate::policy::{Context, Decision, Policy};
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
        crate::scenario::spec::PolicyKind::Single.name()
    }

    fn role(&self) -> super::Role {
        super::Role::SingleModel
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        ctx.serve_with(self.model, &self.fallback, req, out);
    }
}
