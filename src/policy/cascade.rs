//! `cascade`: try cheap models first and escalate flagged answers.
//!
//! After each step but the last, a gate checks the answer: it flags a bad
//! answer with probability `recall` and a good one with probability
//! `false_alarm`. A flagged answer escalates to the next step; every call
//! made and every gate check is paid. The last step's answer is accepted.
//! Steps that cannot take the request are skipped.

use crate::catalog::ModelId;
use crate::policy::overhead::OverheadCost;
use crate::policy::{Context, Decision, Policy};
use crate::traffic::request::{Request, Stream};

pub type GateCost = OverheadCost;

#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub recall: f64,
    pub false_alarm: f64,
    pub cost: GateCost,
}

#[derive(Debug, Clone)]
pub struct Cascade {
    pub name: String,
    pub steps: Vec<ModelId>,
    pub gate: Gate,
    pub fallback: Vec<ModelId>,
}

impl Policy for Cascade {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        crate::scenario::spec::PolicyKind::Cascade.name()
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        let Some(last) = self.steps.iter().rposition(|&m| ctx.can_serve(m, req)) else {
            for _ in &self.steps {
                out.note_skip();
            }
            if let Some(m) = ctx.first_capable(&self.fallback, req, out) {
                let i = out.call(m);
                out.accept(i);
            }
            return;
        };
        for (k, &m) in self.steps[..=last].iter().enumerate() {
            if k < last && !ctx.can_serve(m, req) {
                out.note_skip();
                continue;
            }
            let i = out.call(m);
            if k == last {
                out.accept(i);
                return;
            }
            self.gate.cost.charge(req, out);
            let flag_p = if ctx.succeeds(m, req) {
                self.gate.false_alarm
            } else {
                self.gate.recall
            };
            if req.uniform(Stream::GATE + k as u32) >= flag_p {
                out.accept(i);
                return;
            }
        }
    }
}
