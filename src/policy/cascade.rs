//! `cascade`: try cheap models first and escalate flagged answers.
//!
//! After each step but the last, a gate checks the answer: it flags a bad
//! answer with probability `recall` and a good one with probability
//! `false_alarm`. A flagged answer escalates to the next step; every call
//! made and every gate check is paid. The last step's answer is accepted.
//! Steps that cannot take the request are skipped.

use std::collections::BTreeSet;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::ModelId;
use crate::check::{Checker, Param, Quantity, Range, Sampler};
use crate::policy::overhead::{OverheadCallSpec, OverheadCost, OverheadDef};
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind};
use crate::traffic::request::{Request, Stream};

/// Most steps a cascade may have.
const MAX_CASCADE_STEPS: usize = 8;

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
        PolicyKind::Cascade.name()
    }
    /// The steps and fallbacks: the judge's own outcome is never consulted.
    fn models(&self) -> Option<Vec<ModelId>> {
        Some([&self.steps[..], &self.fallback].concat())
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

    fn outcomes_through_context(&self) -> bool {
        true
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Cascade(self))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CascadeSpec {
    /// Models from cheapest to strongest.
    pub steps: Vec<String>,
    pub gate: GateSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// P(flag | answer bad).
    pub recall: Quantity,
    /// P(flag | answer good).
    pub false_alarm: Quantity,
    /// A judge-model call per gate check ...
    #[serde(default)]
    pub judge: Option<OverheadCallSpec>,
    /// ... or a fixed cost per gate check, in USD.
    #[serde(default)]
    pub cost_usd: Option<Quantity>,
}

/// A checked `cascade`, its gate's numbers possibly uncertain.
#[derive(Debug, Clone)]
pub struct CascadeDef {
    pub steps: Vec<ModelId>,
    pub recall: Param,
    pub false_alarm: Param,
    pub cost: OverheadDef,
    pub fallback: Vec<ModelId>,
}

impl BuiltIn for Cascade {
    type Spec = CascadeSpec;
    type Def = CascadeDef;

    fn check(c: &CascadeSpec, cx: &mut Checker<'_>, at: &At<'_>) -> Option<CascadeDef> {
        let cp = &at.path;
        if c.steps.is_empty() {
            cx.err(
                format!("{cp}.steps"),
                "a cascade needs at least one step (models from cheapest to strongest)",
            );
            return None;
        }
        if c.steps.len() > MAX_CASCADE_STEPS {
            cx.err(
                format!("{cp}.steps"),
                format!("at most {MAX_CASCADE_STEPS} steps, got {}", c.steps.len()),
            );
        }
        let steps = cx.models(&format!("{cp}.steps"), &c.steps);
        let mut seen = BTreeSet::new();
        for (i, k) in c.steps.iter().enumerate() {
            if !seen.insert(k) {
                cx.err(
                    format!("{cp}.steps[{i}]"),
                    format!("`{k}` appears twice in the cascade"),
                );
            }
        }
        let gp = format!("{cp}.gate");
        let recall = cx.param(
            format!("{gp}.recall"),
            &c.gate.recall,
            Range::closed(0.0, 1.0),
        );
        let false_alarm = cx.param(
            format!("{gp}.false_alarm"),
            &c.gate.false_alarm,
            Range::closed(0.0, 1.0),
        );
        let cost = OverheadDef::check(
            cx,
            &gp,
            c.gate.judge.as_ref(),
            "judge",
            c.gate.cost_usd.as_ref(),
        );
        Some(CascadeDef {
            steps,
            recall,
            false_alarm,
            cost,
            fallback: at.fallback.to_vec(),
        })
    }

    fn build(def: &CascadeDef, name: String, draw: &mut dyn Sampler) -> Arc<dyn Policy> {
        Arc::new(Cascade {
            name,
            steps: def.steps.clone(),
            gate: Gate {
                recall: draw.value(&def.recall),
                false_alarm: draw.value(&def.false_alarm),
                cost: def.cost.draw(draw),
            },
            fallback: def.fallback.clone(),
        })
    }
}
