//! `oracle`: the cheapest model that would succeed on each request.
//!
//! A bound, not a policy anyone can run: it knows the outcome in advance. It
//! shows how much of the gap between cheap and strong models routing could
//! ever recover. When no candidate would succeed, it uses the cheapest one
//! that can take the request (the answer fails either way).

use std::sync::Arc;

use crate::catalog::{ModelId, TaskKind};
use crate::catalog::pricing::{N_SERVICE_TIERS, ServiceTier};
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
    /// list costs and what judging them needs: what [`Policy::route`]
    /// computes before judging any outcome. None of it depends on the
    /// outcome, so the fast path works it out once per request and judges
    /// each outcome interval with [`Oracle::pick_common`] (independent
    /// outcomes with [`Oracle::route_among`]): the same decisions, and the
    /// same models asked about, as `route`.
    pub(crate) fn candidates(&self, req: &Request, ctx: &Context<'_>, out: &mut Vec<Judged>) {
        out.clear();
        out.extend(self.priced(req, ctx).map(|(model, cost)| Judged {
            model,
            cost,
            capability: ctx.capability(model, req.task),
            bit: Context::queried_bit(model),
        }));
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
    pub(crate) fn route_among(
        &self,
        candidates: &[Judged],
        req: &Request,
        ctx: &Context<'_>,
        out: &mut Decision,
    ) {
        self.choose(candidates.iter().map(|j| (j.model, j.cost)), req, ctx, out);
    }

    /// [`Oracle::route_among`] on a request whose outcomes are common (a
    /// model succeeds where its capability for the task is above
    /// `required`), from `candidates` with their capabilities: the model
    /// it calls and accepts (`None`: no candidate can take the request),
    /// and the models it asks `Context::succeeds` about, as the bit set
    /// `Context::take_queried` would return. The fast path judges a
    /// request's outcome intervals with this, without building a
    /// decision or going through the context's record for each.
    #[inline]
    pub(crate) fn pick_common(candidates: &[Judged], required: f64) -> (Option<ModelId>, u64) {
        let mut best: Option<(f64, ModelId)> = None;
        let mut cheapest: Option<(f64, ModelId)> = None;
        let mut asked = 0u64;
        for j in candidates {
            if cheapest.is_none_or(|(c, _)| j.cost < c) {
                cheapest = Some((j.cost, j.model));
            }
            if best.is_none_or(|(c, _)| j.cost < c) {
                asked |= j.bit;
                if j.capability > required {
                    best = Some((j.cost, j.model));
                }
            }
        }
        (best.or(cheapest).map(|(_, m)| m), asked)
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

/// A candidate of [`Oracle::candidates`]: with its list cost, what
/// judging it needs for a request whose outcomes are common
/// (`Oracle::pick_common`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judged {
    pub model: ModelId,
    /// Its list cost for the request.
    pub cost: f64,
    /// Its capability for the request's task.
    pub capability: f64,
    /// Its bit in `Context::take_queried`'s set.
    pub bit: u64,
}

/// The oracle's pick and asked set on each outcome interval of a request
/// whose outcomes are common, worked out once per workload rather than by
/// pricing and judging every candidate per interval of every request
/// ([`Oracle::interval_picks`]; the fast path).
///
/// It holds where the oracle's list is its price order for the request's
/// (batch, service tier) and every candidate takes the request, input
/// within the standard price tier: list prices then never fall along the
/// list (`Context::price_chain`), so `pick_common` visits a candidate,
/// finds the first that succeeds, is judged about each candidate up to
/// it and about none after it (none is strictly cheaper), and takes the
/// first candidate when none succeeds: all fixed by which candidates
/// succeed, that is by the interval.
pub(crate) struct IntervalPicks {
    /// By [`class_of`] the request: per interval,
    /// the model accepted and the bits of the models asked about
    /// (`Context::take_queried`); `None` where the list is not the price
    /// order.
    by: [Option<Vec<IntervalPick>>; 2 * N_SERVICE_TIERS],
    /// The largest input the price orders hold for.
    max_input: u64,
}

/// On one outcome interval: the model the oracle accepts, and the models
/// it asks about as `Context::take_queried`'s bits.
pub(crate) type IntervalPick = (Option<ModelId>, u64);

/// The oracle's candidates in price order, per (batch, service tier) of a
/// request (`Context::price_chain`), for requests no candidate prices at
/// long-context rates; `None` where the rates allow no order. Built once
/// per month by exact mode.
pub(crate) struct PriceChains {
    /// By [`class_of`] the request.
    pub(crate) by: [Option<Vec<Link>>; 2 * N_SERVICE_TIERS],
    /// The largest input the orders hold for.
    max_input: u64,
    /// The task the links' capabilities are for (`Oracle::price_chains_for`).
    task: Option<TaskKind>,
}

impl PriceChains {
    /// The price order for `req`'s batch eligibility and service tier, if
    /// one holds for it (none does past the largest input they hold for).
    #[inline(always)]
    fn order_for(&self, req: &Request) -> Option<&[Link]> {
        self.by[class_of(req)]
            .as_deref().filter(|_| req.input_tokens <= self.max_input)
    }
}

/// Where [`PriceChains`] and [`IntervalPicks`] keep what holds for
/// `req`'s batch eligibility and service tier: `by[class_of(req)]`.
#[inline(always)]
fn class_of(req: &Request) -> usize {
    usize::from(req.batch) * N_SERVICE_TIERS + req.service as usize
}

/// The batch eligibility and service tier of the requests [`class_of`]
/// puts in `slot`.
fn class_at(slot: usize) -> (bool, ServiceTier) {
    (slot >= N_SERVICE_TIERS, ServiceTier::ALL[slot % N_SERVICE_TIERS])
}

/// A candidate in a price order.
pub(crate) struct Link {
    /// Its position in the oracle's list.
    i: usize,
    /// Whether a candidate after it in the order comes before it in the
    /// list: only then can the tie rule choose another candidate priced
    /// the same (when none does, as with a list written cheapest first,
    /// nothing after it need be priced).
    outranked: bool,
    /// Its capability for the chains' task (NaN without one).
    capability: f64,
}

impl Oracle {
    /// The price orders [`Oracle::route_by_price`] walks, for requests of
    /// any task (tests walk one oracle over several workloads).
    #[cfg(test)]
    pub(crate) fn price_chains(&self, ctx: &Context<'_>) -> PriceChains {
        self.chains(ctx, None)
    }

    /// [`Oracle::price_chains`] for requests of `task`, with each
    /// candidate's capability for it, which
    /// [`Oracle::pick_served_common`] judges by.
    pub(crate) fn price_chains_for(&self, ctx: &Context<'_>, task: TaskKind) -> PriceChains {
        self.chains(ctx, Some(task))
    }

    fn chains(&self, ctx: &Context<'_>, task: Option<TaskKind>) -> PriceChains {
        PriceChains {
            by: std::array::from_fn(|i| {
                let (batch, service) = class_at(i);
                let order = ctx.price_chain(&self.models, batch, service)?;
                Some(
                    order
                        .iter()
                        .enumerate()
                        .map(|(k, &i)| Link {
                            i,
                            outranked: order[k + 1..].iter().any(|&j| j < i),
                            capability: task.map_or(f64::NAN, |t| ctx.capability(self.models[i], t)),
                        })
                        .collect(),
                )
            }),
            max_input: ctx.standard_tier_below(&self.models),
            task,
        }
    }

    /// The [`IntervalPicks`] for requests of the task `chains` was built
    /// for ([`Oracle::price_chains_for`]) whose outcome intervals have the
    /// required capabilities `required` (one per interval, in order): on
    /// interval `i`, the candidates of capability above `required[i]`
    /// succeed, as `pick_common` judges them. A (batch, service tier)
    /// holds picks only where its price order is the oracle's list.
    pub(crate) fn interval_picks(&self, chains: &PriceChains, required: &[f64]) -> IntervalPicks {
        let task_known = chains.task.is_some();
        IntervalPicks {
            by: std::array::from_fn(|slot| {
                let order = chains.by[slot].as_deref().filter(|_| task_known)?;
                if order.iter().enumerate().any(|(k, link)| link.i != k) {
                    return None;
                }
                Some(
                    required
                        .iter()
                        .map(|&r| {
                            let mut asked = 0u64;
                            for link in order {
                                let m = self.models[link.i];
                                asked |= Context::queried_bit(m);
                                if link.capability > r {
                                    return (Some(m), asked);
                                }
                            }
                            (self.models.first().copied(), asked)
                        })
                        .collect(),
                )
            }),
            max_input: chains.max_input,
        }
    }

    /// `picks`' row for `req`: per outcome interval, what `pick_common`
    /// gives on `Oracle::candidates` of `req`; `None` where `picks` does
    /// not hold for it (a (batch, service tier) whose price order is not
    /// the list, an input past the standard tier, a candidate that cannot
    /// take it).
    #[inline]
    pub(crate) fn picks_for<'p>(
        &self,
        picks: &'p IntervalPicks,
        req: &Request,
        ctx: &Context<'_>,
    ) -> Option<&'p [IntervalPick]> {
        let row = picks.by[class_of(req)].as_deref()?;
        (req.input_tokens <= picks.max_input && self.models.iter().all(|&m| ctx.can_serve(m, req)))
            .then_some(row)
    }

    /// [`Policy::route`], the same decision to the bit, walking the
    /// candidates cheapest first where `chains` orders them
    /// ([`Oracle::pick_by_price`]).
    #[inline(always)]
    pub(crate) fn route_by_price(
        &self,
        chains: &PriceChains,
        req: &Request,
        ctx: &Context<'_>,
        out: &mut Decision,
    ) {
        if let Some(pick) = self.pick_by_price(chains, req, ctx) {
            let c = out.call(self.models[pick]);
            out.accept(c);
        }
    }

    /// The position in the oracle's list of the model [`Policy::route`]
    /// calls and accepts for `req` (`None`: no candidate can take it),
    /// walking the candidates cheapest first where `chains` orders them:
    /// the first that can take the request and succeeds is a cheapest one
    /// that succeeds, so the dearer ones are never priced or judged. Only
    /// the candidates priced the same as it are priced, for the tie rule
    /// (the earliest in the oracle's list wins). Where no order holds (or
    /// the request is long enough for long-context rates), `route`'s own
    /// walk over every candidate.
    #[inline(always)]
    pub(crate) fn pick_by_price(
        &self,
        chains: &PriceChains,
        req: &Request,
        ctx: &Context<'_>,
    ) -> Option<usize> {
        let Some(order) = chains.order_for(req) else {
            return self.pick_unordered(req, ctx);
        };
        let mut cheapest = None;
        let mut best = None;
        for (k, link) in order.iter().enumerate() {
            let m = self.models[link.i];
            if !ctx.can_serve(m, req) {
                continue;
            }
            cheapest.get_or_insert(k);
            if ctx.succeeds(m, req) {
                best = Some(k);
                break;
            }
        }
        let (k, judged) = match (best, cheapest) {
            (Some(k), _) => (k, true),
            (None, Some(k)) => (k, false),
            (None, None) => return None,
        };
        Some(self.tie_ruled(order, k, judged, req, ctx))
    }

    /// The pick when the `k`th candidate in `order` is the first that
    /// can take the request and, when `judged`, succeeds: candidates
    /// priced the same follow it in the order, and the earliest listed of
    /// them that qualifies is `route`'s choice.
    #[inline(always)]
    fn tie_ruled(
        &self,
        order: &[Link],
        k: usize,
        judged: bool,
        req: &Request,
        ctx: &Context<'_>,
    ) -> usize {
        let pick = order[k].i;
        if order[k].outranked {
            return self.tie_break(&order[k + 1..], pick, judged, req, ctx);
        }
        pick
    }

    /// [`Oracle::pick_by_price`] for a request every candidate can take
    /// (the caller knows: exact mode checks a batch's largest requests),
    /// the same pick. For a request whose outcomes are common and whose
    /// task `chains` was built for (`price_chains_for`), each candidate's
    /// judgement is a comparison of its capability with the request's
    /// required capability, all made and gathered as bits, the first in
    /// price order that succeeds found by counting zeros: no branch that
    /// follows which model succeeds, which mispredicted about once a
    /// request. Others go through `pick_by_price`.
    #[inline(always)]
    pub(crate) fn pick_served_common(
        &self,
        chains: &PriceChains,
        req: &Request,
        ctx: &Context<'_>,
    ) -> Option<usize> {
        let order = match chains.order_for(req) {
            Some(order) if req.common && chains.task == Some(req.task) && order.len() <= 64 => order,
            _ => return self.pick_by_price(chains, req, ctx),
        };
        let required = req.required_capability;
        let mut succeeds = 0u64;
        for (k, link) in order.iter().enumerate() {
            succeeds |= u64::from(link.capability > required) << k;
        }
        // The first that succeeds; none does: the cheapest (the first,
        // every candidate taking the request), unjudged.
        let judged = succeeds != 0;
        let k = if judged { succeeds.trailing_zeros() as usize } else { 0 };
        (k < order.len()).then(|| self.tie_ruled(order, k, judged, req, ctx))
    }

    /// [`Oracle::pick_by_price`] where no price order holds: what `route`
    /// chooses, as a position in the list (out of line: long-context
    /// requests and unordered rates are rare).
    #[inline(never)]
    fn pick_unordered(&self, req: &Request, ctx: &Context<'_>) -> Option<usize> {
        let mut out = Decision::default();
        self.route(req, ctx, &mut out);
        let m = out.accepted()?.model;
        self.models.iter().position(|&c| c == m)
    }

    /// The earliest listed of `pick` and the candidates in `rest` (those
    /// after it in price order) priced the same that can take the request
    /// and, when `judged`, succeed.
    fn tie_break(
        &self,
        rest: &[Link],
        mut pick: usize,
        judged: bool,
        req: &Request,
        ctx: &Context<'_>,
    ) -> usize {
        let tokens = ListTokens::of(req);
        let cost = ctx.list_cost_of(self.models[pick], req, &tokens);
        for &Link { i, .. } in rest {
            let m = self.models[i];
            if !ctx.can_serve(m, req) {
                continue;
            }
            if ctx.list_cost_of(m, req, &tokens) > cost {
                break;
            }
            if i < pick && (!judged || ctx.succeeds(m, req)) {
                pick = i;
            }
        }
        pick
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
