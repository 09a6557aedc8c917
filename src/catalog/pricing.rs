//! The price of one call.
//!
//! A call of `I` input tokens (of which a cacheable prefix `P`) and `O` output
//! tokens is split into token counts per *price class*: a component (input,
//! cache write 5m/1h, cache read, output), a mode (on-demand at the standard
//! service tier, batch, or on-demand at the Priority or Flex service tier)
//! and a price tier (standard, or long context once `I` exceeds the model's
//! threshold — the premium applies to the whole call). Cost is tokens × rate
//! per class.
//!
//! Two different things are called "tier": the *price tier* ([`Tier`]) is
//! decided by a call's size; the *service tier* ([`ServiceTier`]) is chosen
//! by the caller (Bedrock's `service_tier` parameter) and becomes the call's
//! billing [`Mode`].
//!
//! The simulator accumulates token counts per class and multiplies by the
//! rates once at the end, so money is never summed call by call: counts are
//! exact integers (held in f64, exact below 2^53) and each cost is one
//! multiplication. [`price_call`] is the same rule for one call, used by
//! `tiersim quote` and the tests.

use serde::Serialize;

use crate::catalog::Model;

/// Rates in USD per 1M tokens. Optional rates are absent when the model does
/// not offer the feature.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    pub batch_input: Option<f64>,
    pub batch_output: Option<f64>,
    pub cache_write_5m: Option<f64>,
    pub cache_write_1h: Option<f64>,
    pub cache_read: Option<f64>,
}

/// A billed part of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Input = 0,
    CacheWrite5m = 1,
    CacheWrite1h = 2,
    CacheRead = 3,
    Output = 4,
}

pub const N_COMPONENTS: usize = 5;

impl Component {
    pub const ALL: [Component; N_COMPONENTS] = [
        Component::Input,
        Component::CacheWrite5m,
        Component::CacheWrite1h,
        Component::CacheRead,
        Component::Output,
    ];
}

/// How a call is billed: on-demand at the standard service tier, batch, or
/// on-demand at the Priority or Flex service tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    OnDemand = 0,
    Batch = 1,
    Priority = 2,
    Flex = 3,
}

pub const N_MODES: usize = 4;

impl Mode {
    pub const ALL: [Mode; N_MODES] = [Mode::OnDemand, Mode::Batch, Mode::Priority, Mode::Flex];
}

/// The service tier a caller asks for (Bedrock's `service_tier`: `default`,
/// `priority`, `flex`). Standard is what every model offers.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceTier {
    #[default]
    Standard = 0,
    Priority = 1,
    Flex = 2,
}

pub const N_SERVICE_TIERS: usize = 3;

impl ServiceTier {
    pub const ALL: [ServiceTier; N_SERVICE_TIERS] = [
        ServiceTier::Standard,
        ServiceTier::Priority,
        ServiceTier::Flex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Priority => "priority",
            ServiceTier::Flex => "flex",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceTier> {
        ServiceTier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The on-demand billing mode of a call at this tier.
    pub fn mode(self) -> Mode {
        match self {
            ServiceTier::Standard => Mode::OnDemand,
            ServiceTier::Priority => Mode::Priority,
            ServiceTier::Flex => Mode::Flex,
        }
    }
}

/// Rates of one service tier other than standard, USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierRates {
    pub input: f64,
    pub output: f64,
    pub cache_write_5m: Option<f64>,
    pub cache_read: Option<f64>,
}

/// Standard or long-context pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tier {
    Standard = 0,
    Long = 1,
}

impl Tier {
    /// Both tiers, in index order.
    pub const ALL: [Tier; 2] = [Tier::Standard, Tier::Long];
}

/// How one call is billed: its price tier, its billing mode, and whether
/// its prefix goes through the prompt cache. Decided by
/// [`ModelPricing::billing`] and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billing {
    pub tier: Tier,
    pub mode: Mode,
    /// The prefix is read from or written to the cache (the model caches,
    /// the prefix reaches the minimum size, and the call is not batch).
    pub cached: bool,
}

/// Cache lifetime a workload asks for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum Ttl {
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "1h")]
    OneHour,
}

impl Ttl {
    pub fn seconds(self) -> f64 {
        match self {
            Ttl::FiveMinutes => 300.0,
            Ttl::OneHour => 3600.0,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Ttl::FiveMinutes => "5m",
            Ttl::OneHour => "1h",
        }
    }
}

/// Whether a call's prefix was found in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
}

/// One call to be priced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallShape {
    /// Total input tokens, cacheable prefix included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Cacheable prefix tokens (0 when the workload does not cache).
    pub prefix_tokens: u64,
    /// `None` when the caller does not use caching for this call.
    pub cache: Option<CacheOutcome>,
    pub ttl: Ttl,
    pub batch: bool,
    /// The service tier asked for; a model that does not offer it serves
    /// the call at standard.
    pub service: ServiceTier,
}

/// Rates of one model under one inference profile, in USD per token, by
/// `[tier][mode][component]`, with what the model supports.
#[derive(Debug, Clone)]
pub struct ModelPricing {
    /// USD per 1M tokens, multiplier applied, by `[tier][mode][component]`,
    /// for on-demand (standard tier) and batch calls.
    per_million: [[[f64; N_COMPONENTS]; 2]; 2],
    /// The same for the Priority and Flex modes, apart: the simulator
    /// reads a model's prices for every call, and most never use a tier.
    service_per_million: Box<[[[f64; N_COMPONENTS]; 2]; 2]>,
    pub batch: bool,
    /// Which service tiers the model offers (standard always).
    pub services: [bool; N_SERVICE_TIERS],
    pub caching: bool,
    pub has_1h: bool,
    pub min_cache_tokens: u64,
    /// Input size above which long-context rates apply (`u64::MAX` if none).
    pub long_above: u64,
    pub multiplier: f64,
}

fn table(
    r: &Rates,
    services: &[Option<TierRates>; N_SERVICE_TIERS],
) -> [[f64; N_COMPONENTS]; N_MODES] {
    let w5 = r.cache_write_5m.unwrap_or(r.input);
    let on_demand = [
        r.input,
        w5,
        r.cache_write_1h.unwrap_or(w5),
        r.cache_read.unwrap_or(r.input),
        r.output,
    ];
    // Batch calls carry no cache components (see `classify`), so those slots
    // repeat the on-demand rates only to keep the table total.
    let batch = [
        r.batch_input.unwrap_or(r.input),
        w5,
        r.cache_write_1h.unwrap_or(w5),
        r.cache_read.unwrap_or(r.input),
        r.batch_output.unwrap_or(r.output),
    ];
    // A service tier the model does not offer is never billed (`mode`
    // serves such a call at standard); its slots repeat standard's.
    let service = |s: ServiceTier| match &services[s as usize] {
        Some(t) => {
            let w5 = t.cache_write_5m.unwrap_or(t.input);
            [t.input, w5, w5, t.cache_read.unwrap_or(t.input), t.output]
        }
        None => on_demand,
    };
    [
        on_demand,
        batch,
        service(ServiceTier::Priority),
        service(ServiceTier::Flex),
    ]
}

impl ModelPricing {
    pub fn new(model: &Model, multiplier: f64) -> Self {
        let std = table(&model.rates, &model.service_tiers);
        // The catalog refuses service tiers on a model with long-context
        // rates, so long-context calls have standard and batch only.
        let (long_above, long) = match &model.long_context {
            Some((above, r)) => (*above, table(r, &[None; N_SERVICE_TIERS])),
            None => (u64::MAX, std),
        };
        let mut all = [std, long];
        for tier in all.iter_mut() {
            for mode in tier.iter_mut() {
                for rate in mode.iter_mut() {
                    *rate *= multiplier;
                }
            }
        }
        let split = |modes: [usize; 2]| {
            [
                [all[0][modes[0]], all[0][modes[1]]],
                [all[1][modes[0]], all[1][modes[1]]],
            ]
        };
        ModelPricing {
            per_million: split([Mode::OnDemand as usize, Mode::Batch as usize]),
            service_per_million: Box::new(split([Mode::Priority as usize, Mode::Flex as usize])),
            batch: model.supports_batch(),
            services: [
                true,
                model.service_tiers[1].is_some(),
                model.service_tiers[2].is_some(),
            ],
            caching: model.supports_caching(),
            has_1h: model.rates.cache_write_1h.is_some(),
            min_cache_tokens: model.min_cache_tokens,
            long_above,
            multiplier,
        }
    }

    /// Whether a prefix of `prefix_tokens` is cached on this model for a call
    /// in `mode`: the model caches, the prefix reaches the minimum checkpoint
    /// size, and the call is on-demand (batch calls are not cached; see README).
    #[inline]
    pub fn caches(&self, prefix_tokens: u64, batch: bool) -> bool {
        self.caching
            && prefix_tokens > 0
            && prefix_tokens >= self.min_cache_tokens
            && !(batch && self.batch)
    }

    /// The TTL this model actually gives: a 1-hour request on a model that
    /// offers only 5-minute caching gets 5 minutes.
    #[inline]
    pub fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        if ttl == Ttl::OneHour && self.has_1h {
            Ttl::OneHour
        } else {
            Ttl::FiveMinutes
        }
    }

    /// The billing mode of a call: batch when the request may wait and the
    /// model has batch; else the service tier asked for, if the model
    /// offers it; else standard on-demand.
    #[inline]
    pub fn mode(&self, batch: bool, service: ServiceTier) -> Mode {
        if batch && self.batch {
            Mode::Batch
        } else if self.services[service as usize] {
            service.mode()
        } else {
            Mode::OnDemand
        }
    }

    #[inline]
    pub fn tier(&self, input_tokens: u64) -> Tier {
        if input_tokens > self.long_above {
            Tier::Long
        } else {
            Tier::Standard
        }
    }

    /// How a call of `input_tokens` (a cacheable prefix of `prefix_tokens`
    /// included), batch-eligible or not, at a service tier, is billed.
    #[inline]
    pub fn billing(
        &self,
        input_tokens: u64,
        prefix_tokens: u64,
        batch: bool,
        service: ServiceTier,
    ) -> Billing {
        Billing {
            tier: self.tier(input_tokens),
            mode: self.mode(batch, service),
            cached: self.caches(prefix_tokens.min(input_tokens), batch),
        }
    }

    /// The component a cache miss writes for a workload asking for `ttl`.
    #[inline]
    pub fn write_component(&self, ttl: Ttl) -> Component {
        match self.effective_ttl(ttl) {
            Ttl::FiveMinutes => Component::CacheWrite5m,
            Ttl::OneHour => Component::CacheWrite1h,
        }
    }

    /// Splits a call into token counts per component, with its tier and mode.
    #[inline]
    pub fn classify(&self, call: &CallShape) -> (Tier, Mode, [u64; N_COMPONENTS]) {
        let billing = self.billing(
            call.input_tokens,
            call.prefix_tokens,
            call.batch,
            call.service,
        );
        let (tier, mode) = (billing.tier, billing.mode);
        let mut tokens = [0u64; N_COMPONENTS];
        let prefix = call.prefix_tokens.min(call.input_tokens);
        match call.cache {
            Some(outcome) if billing.cached => {
                tokens[Component::Input as usize] = call.input_tokens - prefix;
                let slot = match outcome {
                    CacheOutcome::Hit => Component::CacheRead,
                    CacheOutcome::Miss => self.write_component(call.ttl),
                };
                tokens[slot as usize] = prefix;
            }
            _ => tokens[Component::Input as usize] = call.input_tokens,
        }
        tokens[Component::Output as usize] = call.output_tokens;
        (tier, mode, tokens)
    }

    /// USD per 1M tokens of one price class.
    #[inline]
    pub fn rate(&self, tier: Tier, mode: Mode, c: Component) -> f64 {
        self.rates(tier as usize, mode as usize)[c as usize]
    }

    /// USD per 1M tokens of every component of one `[tier][mode]`.
    #[inline]
    pub fn rates(&self, tier: usize, mode: usize) -> &[f64; N_COMPONENTS] {
        if mode < 2 {
            &self.per_million[tier][mode]
        } else {
            &self.service_per_million[tier][mode - 2]
        }
    }
}

/// Cost of one call, by component, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Charges {
    pub input: f64,
    pub cache_write: f64,
    pub cache_read: f64,
    pub output: f64,
}

impl Charges {
    pub fn total(&self) -> f64 {
        self.input + self.cache_write + self.cache_read + self.output
    }
}

/// The price of one call under `pricing`.
pub fn price_call(pricing: &ModelPricing, call: &CallShape) -> Charges {
    let (tier, mode, tokens) = pricing.classify(call);
    let cost = |c: Component| tokens[c as usize] as f64 * pricing.rate(tier, mode, c) / 1e6;
    Charges {
        input: cost(Component::Input),
        cache_write: cost(Component::CacheWrite5m) + cost(Component::CacheWrite1h),
        cache_read: cost(Component::CacheRead),
        output: cost(Component::Output),
    }
}
