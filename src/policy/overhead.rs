//! The price of a gate check or a classifier call: nothing, a fixed amount,
//! or a priced call to a judge/classifier model.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::ModelId;
use crate::check::{Checker, Param, Quantity, Range, Sampler};
use crate::policy::Decision;
use crate::traffic::request::Request;

/// A priced auxiliary call (a judge, a classifier).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverheadCallSpec {
    pub model: String,
    /// Fixed input tokens of the auxiliary prompt.
    pub input_tokens: Quantity,
    pub output_tokens: Quantity,
    /// Also send the request's own input tokens (a classifier reading the request).
    #[serde(default)]
    pub include_request: bool,
}

/// A checked overhead, its numbers possibly uncertain.
#[derive(Debug, Clone)]
pub enum OverheadDef {
    None,
    Usd(Param),
    Call {
        model: ModelId,
        input_tokens: Param,
        output_tokens: Param,
        include_request: bool,
    },
}

impl OverheadDef {
    /// Checks an overhead given as a priced call (`<path>.<call_field>`) or
    /// a fixed cost (`<path>.cost_usd`), at most one of the two.
    pub fn check(
        cx: &mut Checker<'_>,
        path: &str,
        call: Option<&OverheadCallSpec>,
        call_field: &str,
        usd: Option<&Quantity>,
    ) -> OverheadDef {
        match (call, usd) {
            (Some(_), Some(_)) => {
                cx.err(
                    format!("{path}.cost_usd"),
                    format!(
                        "give either {call_field} (a priced call) or cost_usd (a fixed cost), not both"
                    ),
                );
                OverheadDef::None
            }
            (Some(c), None) => {
                let cp = format!("{path}.{call_field}");
                let model = cx.model(format!("{cp}.model"), &c.model);
                let input_tokens = cx.param(
                    format!("{cp}.input_tokens"),
                    &c.input_tokens,
                    Range::closed(0.0, 1e7),
                );
                let output_tokens = cx.param(
                    format!("{cp}.output_tokens"),
                    &c.output_tokens,
                    Range::closed(0.0, 1e7),
                );
                match model {
                    Some(model) => OverheadDef::Call {
                        model,
                        input_tokens,
                        output_tokens,
                        include_request: c.include_request,
                    },
                    None => OverheadDef::None,
                }
            }
            (None, Some(q)) => {
                OverheadDef::Usd(cx.param(format!("{path}.cost_usd"), q, Range::closed(0.0, 100.0)))
            }
            (None, None) => OverheadDef::None,
        }
    }

    /// This replication's overhead.
    pub fn draw(&self, draw: &mut dyn Sampler) -> OverheadCost {
        match self {
            OverheadDef::None => OverheadCost::None,
            OverheadDef::Usd(p) => OverheadCost::Usd(draw.value(p)),
            OverheadDef::Call {
                model,
                input_tokens,
                output_tokens,
                include_request,
            } => OverheadCost::Call {
                model: *model,
                input_tokens: draw.value(input_tokens).round() as u64,
                output_tokens: draw.value(output_tokens).round() as u64,
                include_request: *include_request,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum OverheadCost {
    None,
    /// A fixed amount per check, in USD.
    Usd(f64),
    /// A call to `model` with a fixed prompt; with `include_request`, the
    /// request's input and the answer's output are sent too.
    Call {
        model: ModelId,
        input_tokens: u64,
        output_tokens: u64,
        include_request: bool,
    },
}

impl OverheadCost {
    #[inline]
    pub fn charge(&self, req: &Request, out: &mut Decision) {
        match *self {
            OverheadCost::None => {}
            OverheadCost::Usd(usd) => out.overhead_usd(usd),
            OverheadCost::Call {
                model,
                input_tokens,
                output_tokens,
                include_request,
            } => {
                let extra = if include_request {
                    req.input_tokens + req.output_tokens
                } else {
                    0
                };
                out.overhead(model, input_tokens + extra, output_tokens);
            }
        }
    }
}
