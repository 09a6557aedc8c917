//! How a month's traffic counts against a model's on-demand quota, and
//! the share of it refused at the busiest minutes.
//!
//! Bedrock counts a model's traffic against one tokens-per-minute quota per
//! model and inference profile, by rules that differ from billing (Bedrock
//! user guide, "How tokens are counted"; catalog source `aws-bedrock-quotas`):
//! a call reserves its input tokens (cache reads included) plus
//! `max_tokens` times the model's output burndown when it starts, and is
//! settled to what it used when it ends — input other than cache reads,
//! plus output times the burndown. A minute's count is then the settled use
//! of the calls that ended in it plus the unsettled reservation of the
//! calls still running, about `calls a minute × mean latency / 60` of them.
//!
//! Throttling is a fluid model over the week
//! ([`crate::traffic::shape::Shape::throttled_share`]). The simulator uses
//! it twice: the capacity report (`analysis::capacity`) and, when a
//! scenario asks (`simulate_throttling`), a second exact-mode pass in which
//! each call of a throttled model is refused with that share's probability
//! and the policy moves on as for a model that cannot take the request
//! (the next cascade step, a fallback) or leaves the request unserved.

use serde::Serialize;

use crate::catalog::pricing::Component;
use crate::scenario::Scenario;
use crate::sim::ledger::{Ledger, MAIN, OVERHEAD};
use crate::traffic::shape::month_minutes;

/// Where a quota figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaOrigin {
    /// The scenario's `quotas`.
    Scenario,
    /// The catalog's published default.
    Catalog,
    /// Neither states one.
    Unknown,
}

/// One month's demand of one policy on one model, summed over workloads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Answer and overhead calls.
    pub calls: f64,
    /// Quota tokens the calls settle to.
    pub settled: f64,
    /// Reservations beyond settled use held by calls still running at a
    /// minute's end, summed over the month's minutes.
    pub in_flight: f64,
}

impl Demand {
    /// Settled plus in-flight quota tokens, per minute of the month.
    pub fn per_minute(&self) -> f64 {
        (self.settled + self.in_flight) / month_minutes()
    }
}

/// The month's demand on model `mi` in `led`; `None` without calls.
pub fn demand(s: &Scenario, led: &Ledger, mi: usize) -> Option<Demand> {
    let model = &s.catalog.models[mi];
    let b = model.quota.output_burndown;
    let mut d = Demand {
        calls: 0.0,
        settled: 0.0,
        in_flight: 0.0,
    };
    for (w, wl) in s.workloads.iter().enumerate() {
        let c = led.cell(w, mi);
        if c.calls + c.overhead_calls <= 0.0 {
            continue;
        }
        let tok = |purpose: usize, comp: Component| c.component_tokens(purpose, comp);
        let input = |purpose: usize| {
            tok(purpose, Component::Input)
                + tok(purpose, Component::CacheWrite5m)
                + tok(purpose, Component::CacheWrite1h)
        };
        let (out_main, out_ovh) = (
            tok(MAIN, Component::Output),
            tok(OVERHEAD, Component::Output),
        );
        d.settled += input(MAIN) + input(OVERHEAD) + b * (out_main + out_ovh);
        // Reserved beyond what is settled, per answer call: its cache reads
        // and the unused part of max_tokens (overhead calls are taken to set
        // max_tokens to what they write).
        let max_tokens = wl
            .max_tokens
            .unwrap_or(model.max_output)
            .min(model.max_output) as f64;
        let overhang =
            tok(MAIN, Component::CacheRead) + b * (c.calls * max_tokens - out_main).max(0.0);
        // Share of a minute an answer call runs: its mean latency / 60.
        let latency_s = if c.calls > 0.0 {
            (model.latency.ttft_ms + out_main / c.calls * 1000.0 / model.latency.output_tps)
                / 1000.0
        } else {
            0.0
        };
        d.in_flight += overhang * (latency_s / 60.0).min(1.0);
        d.calls += c.calls + c.overhead_calls;
    }
    (d.calls > 0.0).then_some(d)
}

/// Model `mi`'s tokens-per-minute quota: the scenario's, else the
/// catalog's default, else unknown.
pub fn quota_of(s: &Scenario, mi: usize) -> (Option<f64>, QuotaOrigin) {
    match s.quotas.iter().find(|q| q.0.index() == mi) {
        Some(q) => (Some(q.1), QuotaOrigin::Scenario),
        None => match s.catalog.models[mi].quota.tokens_per_minute {
            Some(q) => (Some(q), QuotaOrigin::Catalog),
            None => (None, QuotaOrigin::Unknown),
        },
    }
}

/// The share of each policy's calls to each model refused at the quota,
/// by `[month][policy][model]`, from a run's mean ledgers (0 where the
/// quota is unknown or there is no traffic).
pub fn throttle_table(s: &Scenario, ledgers: &[Vec<Ledger>]) -> Vec<Vec<Vec<f64>>> {
    let nm = s.catalog.models.len();
    ledgers
        .iter()
        .map(|month| {
            month
                .iter()
                .map(|led| {
                    (0..nm)
                        .map(|mi| match (demand(s, led, mi), quota_of(s, mi).0) {
                            (Some(d), Some(q)) => s.shape.throttled_share(d.per_minute(), q),
                            _ => 0.0,
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}
