//! How a policy routes the turns of a session after the first.
//!
//! A policy decides per turn and sees the session's state on the request
//! (`Request::session`: turn index, context length, the model that served
//! the previous turn, whether a gate failed earlier), so a custom policy can
//! route on it directly. The built-in kinds were written for single
//! requests; a scenario says per policy how their decisions carry across a
//! session's turns, and the engine applies it here, the same way in both
//! engines.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Context, Decision, Policy};
use crate::catalog::ModelId;
use crate::traffic::request::Request;

/// How a policy's decisions carry across the turns of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionRouting {
    /// Every turn routed on its own difficulty (step routing; a cascade
    /// cascades per turn).
    #[default]
    PerTurn,
    /// The session stays on the model that answered its first turn (what
    /// keeps its cache warm), unless that model cannot take a later turn.
    Affinity,
    /// Turns are routed on their own until one escalates (a gate rejected
    /// an answer); the rest of the session goes to the model that answered
    /// that turn.
    EscalateAfterGateFailure,
}

impl SessionRouting {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionRouting::PerTurn => "per_turn",
            SessionRouting::Affinity => "affinity",
            SessionRouting::EscalateAfterGateFailure => "escalate_after_gate_failure",
        }
    }
}

/// Routes one turn of a session under `routing`. `pinned` is the model the
/// session is held to, if any (the first turn's model under affinity, the
/// escalated-to model after a gate failure), which the caller tracks from
/// the decisions this returns.
#[inline]
pub fn route_turn(
    policy: &dyn Policy,
    pinned: Option<ModelId>,
    req: &Request,
    ctx: &Context<'_>,
    out: &mut Decision,
) {
    match pinned {
        Some(m) if ctx.can_serve(m, req) => {
            let i = out.call(m);
            out.accept(i);
        }
        _ => policy.route(req, ctx, out),
    }
}
