//! The price of a gate check or a classifier call: nothing, a fixed amount,
//! or a priced call to a judge/classifier model.

use crate::catalog::ModelId;
use crate::policy::Decision;
use crate::traffic::request::Request;

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
