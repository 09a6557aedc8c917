//! `rules`: route by workload or task kind, to a model or to a nested policy.
//!
//! The lookup (workload name, then task kind, then `default`) is resolved
//! once when the policy is built, into one target per workload, so routing a
//! request is an index.

use std::sync::Arc;

use crate::policy::{Context, Decision, Policy};
use crate::traffic::request::Request;

pub struct Rules {
    pub name: String,
    /// The policy that handles each workload, by workload index.
    pub by_workload: Vec<Arc<dyn Policy>>,
}

impl Policy for Rules {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        crate::scenario::spec::PolicyKind::Rules.name()
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        self.by_workload[req.workload as usize].route(req, ctx, out);
    }
}
