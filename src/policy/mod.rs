//! Routing policies.
//!
//! A policy sees one [`Request`] and writes into a [`Decision`] the calls it
//! makes and which answer it accepts. It is a pure function of the request
//! and the [`Context`] (catalog limits, capabilities, prices): randomness
//! comes from the request's pre-drawn uniforms, never from an RNG of its own.
//! The engine prices the calls, caches prefixes and judges the accepted
//! answer, so a new policy is one type implementing [`Policy`] — see
//! `examples/custom_policy.rs` for one written outside the crate.
//!
//! The built-in kinds, those a scenario file can name, are registered in
//! one table below: a kind is one file (its policy type, implementing
//! [`Policy`] and [`BuiltIn`]: its section of the file, how that section is
//! checked, how a replication's policy is built) and one row.

mod overhead;
mod session;

pub use cascade::{CascadeDef, CascadeSpec, Gate, GateCost, GateSpec};
pub(crate) use classifier::Band;
pub use classifier::{ClassifierDef, ClassifierRouting, ClassifierSpec, RouteSpec, RoutingDef};
pub(crate) use oracle::Judged;
pub(crate) use oracle::{IntervalPicks, PriceChains};
pub use overhead::{OverheadCallSpec, OverheadCost, OverheadDef};
pub use rules::{RuleTarget, RulesDef};
pub use session::{SessionRouting, route_turn};
pub use single::SingleDef;
pub use split::SplitDef;

use std::fmt::Debug;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::pricing::{
    Component, Mode, ModelPricing, N_MODES, N_SERVICE_TIERS, ServiceTier, Tier,
};
use crate::catalog::{Catalog, ModelId, TaskKind};
use crate::check::{Checker, Sampler};
use crate::traffic::request::Request;

/// Declares the built-in policies from the registry's rows.
macro_rules! builtin_policies {
    ($( $(#[$doc:meta])* $key:ident : $module:ident :: $ty:ident ),* $(,)?) => {
        $( mod $module; pub use $module::$ty; )*

        /// The built-in kinds of policy, in the registry's order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum PolicyKind {
            $( $ty, )*
        }

        impl PolicyKind {
            pub const ALL: &'static [PolicyKind] = &[$( PolicyKind::$ty, )*];

            /// The key a scenario file writes, the `kind` reports show.
            pub fn name(self) -> &'static str {
                match self {
                    $( PolicyKind::$ty => stringify!($key), )*
                }
            }
        }

        /// A routing policy. Exactly one of the kind fields is set.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct PolicySpec {
            /// Required at the top level; optional for a policy nested in `rules`.
            #[serde(default)]
            pub name: Option<String>,
            #[serde(default)]
            pub description: Option<String>,
            /// Models to try, in order, when the chosen one cannot take a request.
            #[serde(default)]
            pub fallback: Vec<String>,
            /// How the policy routes the turns of a session workload after
            /// the first (top-level policies only; default `per_turn`).
            #[serde(default)]
            pub session: Option<SessionRouting>,
            $(
                $(#[$doc])*
                #[serde(default)]
                pub $key: Option<<$ty as BuiltIn>::Spec>,
            )*
        }

        impl PolicySpec {
            /// The kinds whose field is set (a valid policy has exactly one).
            pub fn kinds_set(&self) -> Vec<PolicyKind> {
                let mut set = Vec::new();
                $( if self.$key.is_some() { set.push(PolicyKind::$ty); } )*
                set
            }
        }

        /// A built-in policy by its type ([`Policy::builtin`]): a simulator
        /// routing many requests through one policy matches on it once and
        /// runs a loop with that type's `route` inlined, instead of a
        /// dynamic call per request.
        #[derive(Clone, Copy)]
        pub enum BuiltinRef<'a> {
            $( $ty(&'a $ty), )*
        }

        /// A checked policy, its numbers possibly uncertain.
        #[derive(Debug, Clone)]
        pub enum PolicyNode {
            $( $ty(<$ty as BuiltIn>::Def), )*
        }

        impl PolicyNode {
            pub fn kind(&self) -> PolicyKind {
                match self {
                    $( PolicyNode::$ty(_) => PolicyKind::$ty, )*
                }
            }

            /// One replication's policy, its uncertain numbers decided by `draw`.
            pub fn build(&self, name: &str, draw: &mut dyn Sampler) -> Arc<dyn Policy> {
                match self {
                    $( PolicyNode::$ty(def) => <$ty as BuiltIn>::build(def, name.to_string(), draw), )*
                }
            }
        }

        /// The section of the one kind set in `spec`.
        fn check_kind(
            cx: &mut Checker<'_>,
            spec: &PolicySpec,
            path: &str,
            fallback: &[ModelId],
            depth: usize,
        ) -> Option<PolicyNode> {
            $(
                if let Some(section) = &spec.$key {
                    let at = At { path: format!("{path}.{}", stringify!($key)), fallback, depth };
                    return <$ty as BuiltIn>::check(section, cx, &at).map(PolicyNode::$ty);
                }
            )*
            None
        }
    };
}

// The registry: every built-in policy kind, one row each. A row names the
// kind as scenario files write it, the module holding it and its policy
// type, which implements [`BuiltIn`]; a doc comment on the row describes
// the field in the scenario schema. Everything that lists the kinds (the
// `PolicySpec` fields, `PolicyKind`, the checked `PolicyNode`, checking
// and building) is generated from this table.
builtin_policies! {
    single: single::Single,
    /// Workload name or task kind (or `default`) → model or nested policy.
    rules: rules::Rules,
    /// Model → percent of requests.
    split: split::Split,
    cascade: cascade::Cascade,
    classifier: classifier::Classifier,
    /// Candidate models, any order.
    oracle: oracle::Oracle,
}

/// A policy kind that scenario files can name: how its section of the file
/// reads, how it is checked, and how one replication's policy is built from
/// the checked form. Implemented once per built-in policy, in its own file,
/// and registered with one row of the table above.
pub trait BuiltIn: Policy {
    /// What a scenario file holds under the kind's key (`single: <Spec>`).
    type Spec: Clone + Debug + Serialize + DeserializeOwned + JsonSchema;
    /// The checked form: models resolved, numbers range-checked but
    /// possibly still uncertain.
    type Def: Clone + Debug + Send + Sync;

    /// Checks the kind's section, reporting every problem to `cx` at its
    /// field path under `at.path` (`policies[2].cascade`). `None` when the
    /// section is too broken to build (a problem has been reported).
    fn check(spec: &Self::Spec, cx: &mut Checker<'_>, at: &At<'_>) -> Option<Self::Def>;

    /// One replication's policy named `name`, each uncertain number decided
    /// by `draw` (in a fixed order: the draws' record follows it).
    fn build(def: &Self::Def, name: String, draw: &mut dyn Sampler) -> Arc<dyn Policy>;
}

/// Where a policy's section is being checked.
pub struct At<'a> {
    /// The section's field path (`policies[0].cascade`).
    pub path: String,
    /// Models to fall back on: the policy's own, else its enclosing policy's.
    pub fallback: &'a [ModelId],
    /// How deep in nested `rules` the policy sits (0 at the top level).
    pub depth: usize,
}

/// Checks one policy of a scenario file at `path`: exactly one kind,
/// its fallback models (inherited from the enclosing policy when it lists
/// none), then the kind's own section.
pub fn check(
    cx: &mut Checker<'_>,
    spec: &PolicySpec,
    path: &str,
    inherited_fallback: &[ModelId],
    depth: usize,
) -> Option<PolicyNode> {
    let kinds = spec.kinds_set();
    if kinds.len() != 1 {
        let found = if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let all: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.name()).collect();
        cx.err(
            path.to_string(),
            format!(
                "a policy has exactly one of {}; found {found}",
                all.join(", ")
            ),
        );
        return None;
    }
    if depth > 0 && spec.session.is_some() {
        cx.err(
            format!("{path}.session"),
            "session routing is set on a top-level policy, not on one nested in rules",
        );
    }
    let own_fallback = cx.models(&format!("{path}.fallback"), &spec.fallback);
    let fallback = if own_fallback.is_empty() {
        inherited_fallback.to_vec()
    } else {
        own_fallback
    };
    check_kind(cx, spec, path, &fallback, depth)
}

/// What a policy is to the analysis, whatever its kind is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Sends every request to one model (with fallbacks for requests it
    /// cannot take): a reference point for the quality gap a router recovers.
    SingleModel,
    /// Not a policy one could deploy (the oracle knows in advance which
    /// model will succeed): shown as a bound, never recommended, off the
    /// cost–quality frontier.
    Bound,
    /// Anything that routes: the default for a policy written outside the crate.
    #[default]
    Router,
}

/// A routing policy.
pub trait Policy: Send + Sync {
    /// The name reports use.
    fn name(&self) -> &str;

    /// The kind, for reports (`single`, `cascade`, ...; `custom` by default).
    /// A label only: what the analysis does with a policy follows [`Policy::role`].
    fn kind(&self) -> &str {
        "custom"
    }

    /// What the policy is to the analysis ([`Role::Router`] by default).
    fn role(&self) -> Role {
        Role::Router
    }

    /// Decides the calls for one request. `out` arrives cleared.
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision);

    /// The models whose answers this policy may accept or judge by their
    /// outcome (`Context::succeeds`), or `None` if that could be any model
    /// (the default). The fast path integrates a request's outcome out over
    /// the intervals the capabilities of these models cut, so a policy that
    /// names them lets it skip the cuts of models no policy consults.
    fn models(&self) -> Option<Vec<ModelId>> {
        None
    }

    /// Whether the policy learns outcomes only by asking
    /// [`Context::succeeds`] (never reading `Request::required_capability`
    /// or `Request::outcomes` itself), as every built-in policy does. The
    /// fast path then routes a sample request once per range of outcomes
    /// the models it asked about cannot tell apart, instead of once per
    /// interval that every model's capability cuts. `false` by default,
    /// which is always correct.
    fn outcomes_through_context(&self) -> bool {
        false
    }

    /// The built-in policy this is, for static dispatch in the simulators'
    /// inner loops; `None` (the default) for a policy written outside the
    /// crate, which is then called dynamically (same results, a little
    /// slower).
    fn builtin(&self) -> Option<BuiltinRef<'_>> {
        None
    }
}

/// What a policy may consult: the catalog, the capabilities and prices in
/// force for this replication.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    /// Capability per model (catalog order) per task kind.
    pub capability: &'a [[f64; 10]],
    /// Logistic slope of the quality model.
    pub slope: f64,
    /// Prices per model (catalog order) under the scenario's profile.
    pub pricing: &'a [ModelPricing],
    /// Models whose outcome `succeeds` judged from the request's draws
    /// rather than read from `Request::outcomes`, as a bit set (every bit
    /// for a model from index 64 on): how the fast path learns which
    /// outcomes a decision depends on.
    pub queried: std::cell::Cell<u64>,
    /// What each model can take, copied out of the catalog into one flat
    /// table: `can_serve` runs for most models of every request.
    limits: Vec<Limits>,
    /// Each model's list prices (see `list_cost`).
    list: Vec<ListRates>,
    /// Two-model classifiers' bands, by (weak, strong, task, drop bits),
    /// found on first use (see `prefers_strong`).
    bands: std::cell::RefCell<Vec<(BandKey, classifier::Band)>>,
    /// Share of each policy's calls to each model refused at the quota
    /// (`[policy][model]`), when throttling is simulated; empty otherwise.
    throttle: Vec<Vec<f64>>,
    /// The policy being routed (indexes `throttle`).
    policy: std::cell::Cell<usize>,
    throttling: bool,
}

/// A request's input and output token counts as floats, for pricing it
/// on several models (`Context::list_cost_of`).
pub(crate) struct ListTokens {
    input: f64,
    output: f64,
}

impl ListTokens {
    #[inline]
    pub(crate) fn of(req: &Request) -> ListTokens {
        ListTokens {
            input: crate::stats::count_f64(req.input_tokens),
            output: crate::stats::count_f64(req.output_tokens),
        }
    }
}

/// A model's list prices as `Context::list_cost` reads them, copied out of
/// its `ModelPricing` into one flat row: policies ranking models by price
/// ask for several models' prices per request.
#[derive(Debug, Clone, Copy)]
struct ListRates {
    /// Input size above which long-context rates apply.
    long_above: u64,
    /// The billing mode (`Mode as u8`) by `[batch][service tier]`.
    mode: [[u8; N_SERVICE_TIERS]; 2],
    /// (input, output) USD per 1M tokens by `[price tier][mode]`.
    rates: [[(f64, f64); N_MODES]; 2],
}

impl ListRates {
    fn of(p: &ModelPricing) -> ListRates {
        ListRates {
            long_above: p.long_above,
            mode: [false, true].map(|batch| ServiceTier::ALL.map(|s| p.mode(batch, s) as u8)),
            rates: Tier::ALL.map(|t| {
                Mode::ALL.map(|m| {
                    (
                        p.rate(t, m, Component::Input),
                        p.rate(t, m, Component::Output),
                    )
                })
            }),
        }
    }
}

/// (weak, strong, task, drop bits) of a two-model classifier's band.
type BandKey = (usize, usize, usize, u64);

/// A model's limits as `Context::can_serve` checks them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    context_window: u64,
    max_output: u64,
    /// Bit `Modality as u8` set for each supported modality.
    modalities: u32,
}

impl<'a> Context<'a> {
    pub fn new(
        catalog: &'a Catalog,
        capability: &'a [[f64; 10]],
        slope: f64,
        pricing: &'a [ModelPricing],
    ) -> Context<'a> {
        let limits = catalog
            .models
            .iter()
            .map(|m| Limits {
                context_window: m.context_window,
                max_output: m.max_output,
                modalities: m.modalities.iter().fold(0, |a, &x| a | 1 << x as u32),
            })
            .collect();
        Context {
            catalog,
            capability,
            slope,
            pricing,
            queried: std::cell::Cell::new(0),
            limits,
            list: pricing.iter().map(ListRates::of).collect(),
            bands: std::cell::RefCell::new(Vec::new()),
            throttle: Vec::new(),
            policy: std::cell::Cell::new(0),
            throttling: false,
        }
    }
}

impl Context<'_> {
    /// Whether `m` can take the request at all: input within the context
    /// window, output within the output limit, modality supported.
    #[inline]
    pub fn can_serve(&self, m: ModelId, req: &Request) -> bool {
        let l = &self.limits[m.index()];
        req.input_tokens <= l.context_window
            && req.output_tokens <= l.max_output
            && l.modalities & (1 << req.modality as u32) != 0
            && !(self.throttling && self.throttled(m, req))
    }

    /// Whether `m` can take every request of a run whose largest input and
    /// output are `max_input` and `max_output` and whose modalities are the
    /// bit set `modalities`: what `can_serve` says of each of them, when no
    /// quota refuses calls at random (with simulated throttling, `false`:
    /// ask `can_serve` request by request).
    #[inline]
    pub fn can_serve_all(
        &self,
        m: ModelId,
        max_input: u64,
        max_output: u64,
        modalities: u32,
    ) -> bool {
        let l = &self.limits[m.index()];
        max_input <= l.context_window
            && max_output <= l.max_output
            && modalities & !l.modalities == 0
            && !self.throttling
    }

    /// Whether the quota refuses this request's call to `m` (simulated
    /// throttling only): a coin flip from the request's key, against the
    /// share of the current policy's calls to `m` refused this month.
    #[cold]
    fn throttled(&self, m: ModelId, req: &Request) -> bool {
        let share = self
            .throttle
            .get(self.policy.get())
            .and_then(|row| row.get(m.index()))
            .copied()
            .unwrap_or(0.0);
        share > 0.0
            && req.uniform(crate::traffic::request::Stream::THROTTLE + m.index() as u32) < share
    }

    /// Simulates throttling: `shares[policy][model]` of calls refused.
    pub fn with_throttle(mut self, shares: Vec<Vec<f64>>) -> Self {
        self.throttling = !shares.is_empty();
        self.throttle = shares;
        self
    }

    /// Says which policy is being routed (for simulated throttling).
    #[inline]
    pub fn set_policy(&self, p: usize) {
        self.policy.set(p);
    }

    /// Whether `m`'s answer to the request is acceptable. Usually every
    /// model's outcome follows the request's one draw (common random
    /// numbers: a stronger model succeeds wherever a weaker one does); for
    /// the share `1 − outcome_correlation` of requests whose outcomes are
    /// not common, each model succeeds on its own draw with the same
    /// probability `σ((c − d)/s)`.
    #[inline]
    pub fn succeeds(&self, m: ModelId, req: &Request) -> bool {
        let c = self.capability[m.index()][req.task.index()];
        let bit = Context::queried_bit(m);
        if req.common {
            self.queried.set(self.queried.get() | bit);
            return c > req.required_capability;
        }
        if m.index() < 64 {
            if req.outcomes.known & bit != 0 {
                return req.outcomes.success & bit != 0;
            }
            self.queried.set(self.queried.get() | bit);
        }
        let u = req
            .uniform(crate::traffic::request::Stream::OUTCOME + m.index() as u32)
            .clamp(1e-15, 1.0 - 1e-15);
        c > crate::quality::required_capability(req.difficulty, u, self.slope)
    }

    /// Models whose outcome was drawn (not given in `Request::outcomes`)
    /// since the last call, as a bit set; resets it.
    pub fn take_queried(&self) -> u64 {
        self.queried.replace(0)
    }

    /// Model `m`'s bit in [`Self::take_queried`]'s set: every bit for a
    /// model from index 64 on.
    #[inline]
    pub fn queried_bit(m: ModelId) -> u64 {
        if m.index() < 64 {
            1u64 << m.index()
        } else {
            u64::MAX
        }
    }

    #[inline]
    pub fn capability(&self, m: ModelId, task: TaskKind) -> f64 {
        self.capability[m.index()][task.index()]
    }

    /// P(success) of model `m` on a request of `task` at difficulty `d`.
    #[inline]
    pub fn p_success(&self, m: ModelId, task: TaskKind, d: f64) -> f64 {
        crate::quality::p_success(self.capability(m, task), d, self.slope)
    }

    /// Whether a two-model classifier prefers `strong` at estimated
    /// difficulty `d_hat`: `p_success(strong) − p_success(weak) > drop`,
    /// to the bit, mostly without evaluating either (`classifier::Band`).
    #[inline]
    pub fn prefers_strong(
        &self,
        weak: ModelId,
        strong: ModelId,
        task: TaskKind,
        drop: f64,
        d_hat: f64,
    ) -> bool {
        let band = self.band(weak, strong, task, drop);
        self.prefers_strong_in(band, weak, strong, task, drop, d_hat)
    }

    /// The band of a two-model classifier on `task`, found on first use.
    pub(crate) fn band(
        &self,
        weak: ModelId,
        strong: ModelId,
        task: TaskKind,
        drop: f64,
    ) -> classifier::Band {
        let key = (weak.index(), strong.index(), task.index(), drop.to_bits());
        let mut bands = self.bands.borrow_mut();
        match bands.iter().find(|(k, _)| *k == key) {
            Some((_, b)) => *b,
            None => {
                let b = classifier::Band::new(
                    self.capability(weak, task),
                    self.capability(strong, task),
                    self.slope,
                    drop,
                );
                bands.push((key, b));
                b
            }
        }
    }

    /// [`Self::prefers_strong`] with the band (from [`Self::band`] for the
    /// same arguments) already at hand.
    #[inline(always)]
    pub(crate) fn prefers_strong_in(
        &self,
        band: classifier::Band,
        weak: ModelId,
        strong: ModelId,
        task: TaskKind,
        drop: f64,
        d_hat: f64,
    ) -> bool {
        band.strong(d_hat).unwrap_or_else(|| {
            // As the classifier always wrote it: weak where the drop is at most `drop`.
            let gain = self.p_success(strong, task, d_hat) - self.p_success(weak, task, d_hat);
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            let strong = !(gain <= drop);
            strong
        })
    }

    /// List price of the request on `m` without caching (USD): what a
    /// router ranking models by price would see. Computed on every call
    /// (two products from the model's rate table): cheaper than a memo,
    /// since exact mode routes each request once per policy.
    #[inline]
    pub fn list_cost(&self, m: ModelId, req: &Request) -> f64 {
        self.list_cost_of(m, req, &ListTokens::of(req))
    }

    /// [`Self::list_cost`] with the request's token counts as floats
    /// already: a router pricing several models converts them once.
    #[inline]
    pub(crate) fn list_cost_of(&self, m: ModelId, req: &Request, tokens: &ListTokens) -> f64 {
        let l = &self.list[m.index()];
        let tier = usize::from(req.input_tokens > l.long_above);
        let service = m.service().unwrap_or(req.service);
        let mode = l.mode[usize::from(req.batch)][service as usize] as usize;
        let (input, output) = l.rates[tier][mode];
        (tokens.input * input + tokens.output * output) / 1e6
    }

    /// `models` (by position) in an order in which no model's list price
    /// can be below an earlier one's, for any request of this `batch` and
    /// `service` that no model prices at its long-context rates (input at
    /// most [`Self::standard_tier_below`]); `None` when the rates allow no
    /// such order. Each model's (input, output) rates must be at most the
    /// next one's, both of them. Then `list_cost_of` is non-decreasing
    /// along the order for every such request (rounding is monotone: a
    /// product, sum or quotient of larger non-negative operands never
    /// rounds lower), which is what lets the oracle stop at the first model
    /// that succeeds. Equal rates keep list order.
    pub(crate) fn price_chain(
        &self,
        models: &[ModelId],
        batch: bool,
        service: ServiceTier,
    ) -> Option<Vec<usize>> {
        let rates: Vec<(f64, f64)> = models
            .iter()
            .map(|&m| {
                let l = &self.list[m.index()];
                let service = m.service().unwrap_or(service);
                l.rates[0][l.mode[usize::from(batch)][service as usize] as usize]
            })
            .collect();
        if !rates
            .iter()
            .all(|&(i, o)| i.is_finite() && o.is_finite() && i >= 0.0 && o >= 0.0)
        {
            return None;
        }
        let mut order: Vec<usize> = (0..models.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (rates[a], rates[b]);
            x.0.total_cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(a.cmp(&b))
        });
        let chained = order.windows(2).all(|w| {
            let (lo, hi) = (rates[w[0]], rates[w[1]]);
            lo.0 <= hi.0 && lo.1 <= hi.1
        });
        chained.then_some(order)
    }

    /// The largest input every one of `models` prices at its standard
    /// (not long-context) rates.
    pub(crate) fn standard_tier_below(&self, models: &[ModelId]) -> u64 {
        models
            .iter()
            .map(|m| self.list[m.index()].long_above)
            .min()
            .unwrap_or(u64::MAX)
    }

    pub fn key(&self, m: ModelId) -> &str {
        &self.catalog.models[m.index()].key
    }

    /// The first of `models` that can take the request, counting the ones
    /// skipped on the way in `out`.
    #[inline]
    pub fn first_capable(
        &self,
        models: &[ModelId],
        req: &Request,
        out: &mut Decision,
    ) -> Option<ModelId> {
        for &m in models {
            if self.can_serve(m, req) {
                return Some(m);
            }
            out.note_skip();
        }
        None
    }

    /// Calls `m` and accepts its answer if it can take the request;
    /// otherwise tries `fallback` in order. Leaves the request unserved if
    /// none can.
    #[inline]
    pub fn serve_with(&self, m: ModelId, fallback: &[ModelId], req: &Request, out: &mut Decision) {
        let chosen = if self.can_serve(m, req) {
            Some(m)
        } else {
            out.note_skip();
            self.first_capable(fallback, req, out)
        };
        if let Some(m) = chosen {
            let i = out.call(m);
            out.accept(i);
        }
    }
}

/// Calls a decision holds without allocating (a cascade of 8 steps with a
/// judge after each, plus a classifier call, fits). A policy may make more:
/// the decision grows once and keeps the room, so no call is ever dropped.
pub const MAX_CALLS: usize = 20;

/// A call a policy makes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    pub model: ModelId,
    pub kind: CallKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallKind {
    /// Answers the request: the request's tokens, with its cacheable prefix.
    Main,
    /// Auxiliary (judge, classifier): its own token counts, no caching.
    Overhead {
        input_tokens: u64,
        output_tokens: u64,
    },
}

/// The calls a policy makes for one request, and the answer it accepts.
/// Room for [`MAX_CALLS`] calls is made once: deciding does not allocate
/// unless a policy makes more calls than that, and then only once.
#[derive(Debug)]
pub struct Decision {
    calls: Vec<Call>,
    accepted: Option<usize>,
    skips: u32,
    fixed_overhead_usd: f64,
}

impl Clone for Decision {
    fn clone(&self) -> Self {
        Decision {
            calls: self.calls.clone(),
            accepted: self.accepted,
            skips: self.skips,
            fixed_overhead_usd: self.fixed_overhead_usd,
        }
    }

    /// Into the room `self` already has (the derived `clone_from` would
    /// allocate a new list of calls and free the old one each time).
    fn clone_from(&mut self, source: &Self) {
        self.calls.clone_from(&source.calls);
        self.accepted = source.accepted;
        self.skips = source.skips;
        self.fixed_overhead_usd = source.fixed_overhead_usd;
    }
}

impl Default for Decision {
    fn default() -> Self {
        Decision {
            calls: Vec::with_capacity(MAX_CALLS),
            accepted: None,
            skips: 0,
            fixed_overhead_usd: 0.0,
        }
    }
}

impl Decision {
    pub fn clear(&mut self) {
        self.calls.clear();
        self.accepted = None;
        self.skips = 0;
        self.fixed_overhead_usd = 0.0;
    }

    #[inline]
    fn push(&mut self, call: Call) -> usize {
        self.calls.push(call);
        self.calls.len() - 1
    }

    /// Calls `m` on the request; returns the call's index.
    #[inline]
    pub fn call(&mut self, m: ModelId) -> usize {
        self.push(Call {
            model: m,
            kind: CallKind::Main,
        })
    }

    /// An auxiliary call with its own token counts.
    #[inline]
    pub fn overhead(&mut self, m: ModelId, input_tokens: u64, output_tokens: u64) {
        self.push(Call {
            model: m,
            kind: CallKind::Overhead {
                input_tokens,
                output_tokens,
            },
        });
    }

    /// A fixed auxiliary cost in USD (a gate priced per check).
    #[inline]
    pub fn overhead_usd(&mut self, usd: f64) {
        self.fixed_overhead_usd += usd;
    }

    /// Accepts the answer of call `i` (a main call).
    #[inline]
    pub fn accept(&mut self, i: usize) {
        self.accepted = Some(i);
    }

    /// Records that a model was passed over because it could not take the request.
    #[inline]
    pub fn note_skip(&mut self) {
        self.skips += 1;
    }

    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The index of the accepted call (a main call), if the request was served.
    #[inline]
    pub fn accepted_index(&self) -> Option<usize> {
        self.accepted
            .filter(|&i| i < self.calls.len() && self.calls[i].kind == CallKind::Main)
    }

    /// The accepted call, if the request was served.
    pub fn accepted(&self) -> Option<&Call> {
        self.accepted_index().map(|i| &self.calls[i])
    }

    pub fn skips(&self) -> u32 {
        self.skips
    }

    pub fn fixed_overhead_usd(&self) -> f64 {
        self.fixed_overhead_usd
    }

    /// The model this decision calls alone and accepts, when it is such a
    /// decision.
    #[inline]
    pub fn picked(&self) -> Option<ModelId> {
        match self.calls.as_slice() {
            [
                Call {
                    model,
                    kind: CallKind::Main,
                },
            ] if self.accepted == Some(0)
                && self.skips == 0
                && self.fixed_overhead_usd.to_bits() == 0f64.to_bits() =>
            {
                Some(*model)
            }
            _ => None,
        }
    }

    /// Whether two decisions make the same calls, accept the same one and
    /// skip and charge alike (what they cost and book is then the same).
    pub fn same_as(&self, o: &Decision) -> bool {
        self.calls == o.calls
            && self.accepted == o.accepted
            && self.skips == o.skips
            && self.fixed_overhead_usd.to_bits() == o.fixed_overhead_usd.to_bits()
    }

    /// Number of main calls (more than one means the request escalated).
    pub fn main_calls(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.kind == CallKind::Main)
            .count()
    }
}
