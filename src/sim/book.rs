//! Booking a decision into a ledger: the calls' tokens by price class, the
//! request's outcome, its latency. Shared by the exact and fast paths so the
//! two cannot disagree on anything but how cache hits are decided.

use crate::catalog::Catalog;
use crate::catalog::pricing::{Component, Mode, N_SERVICE_TIERS, ServiceTier};
use crate::policy::{CallKind, Decision};
use crate::sim::instance::Instance;
use crate::sim::ledger::{Ledger, MAIN, OVERHEAD};
use crate::sim::session::CacheRules;
use crate::traffic::CacheInst;
use crate::traffic::request::{Request, Stream};

/// Per (workload, model) facts about caching, and per model latency, for one instance.
pub(crate) struct Tables {
    pub nm: usize,
    /// Whether each workload sends its prefix through a cache at all; which
    /// calls are cached is the pricing's decision (`ModelPricing::billing`).
    pub caching: Vec<bool>,
    /// Effective TTL in seconds.
    pub ttl_s: Vec<f64>,
    /// Component a miss writes (5-minute or 1-hour write).
    pub write: Vec<Component>,
    /// Pinned hit rate per workload; `None` when hits come from traffic.
    pub pinned: Vec<Option<f64>>,
    /// Distinct prefixes per workload.
    pub distinct: Vec<usize>,
    /// (time to first token in ms, ms per output token) per model at the
    /// standard tier.
    pub latency: Vec<(f64, f64)>,
    /// The same at the Priority and Flex tiers (`[m][tier - 1]`).
    pub tier_latency: Vec<[(f64, f64); N_SERVICE_TIERS - 1]>,
    /// How each model caches a session's conversation, per (workload × model).
    pub rules: Vec<CacheRules>,
}

impl Tables {
    pub fn new(inst: &Instance, catalog: &Catalog) -> Tables {
        let nw = inst.workloads.len();
        let nm = catalog.models.len();
        let mut t = Tables {
            nm,
            caching: vec![false; nw],
            ttl_s: vec![0.0; nw * nm],
            write: vec![Component::CacheWrite5m; nw * nm],
            pinned: vec![None; nw],
            distinct: vec![1; nw],
            latency: catalog
                .models
                .iter()
                .map(|m| (m.latency.ttft_ms, 1000.0 / m.latency.output_tps))
                .collect(),
            tier_latency: catalog
                .models
                .iter()
                .map(|m| {
                    [ServiceTier::Priority, ServiceTier::Flex].map(|s| {
                        let speed = &catalog.tier_speed[s as usize];
                        (
                            m.latency.ttft_ms + speed.added_wait_ms,
                            1000.0 / (m.latency.output_tps * speed.output_tps_factor),
                        )
                    })
                })
                .collect(),
            rules: vec![
                CacheRules {
                    enabled: false,
                    min_tokens: u64::MAX,
                    max_checkpoints: 0,
                    max_cached_tokens: 0,
                    ttl_s: 0.0,
                };
                nw * nm
            ],
        };
        for (w, wl) in inst.workloads.iter().enumerate() {
            let ttl = match wl.cache {
                CacheInst::None => continue,
                CacheInst::Traffic { distinct, ttl } => {
                    t.distinct[w] = distinct as usize;
                    ttl
                }
                CacheInst::Pinned { hit_rate, ttl } => {
                    t.pinned[w] = Some(hit_rate);
                    ttl
                }
            };
            t.caching[w] = true;
            for (m, pr) in inst.pricing.iter().enumerate() {
                let i = w * nm + m;
                t.ttl_s[i] = pr.effective_ttl(ttl).seconds();
                t.write[i] = pr.write_component(ttl);
                let model = &catalog.models[m];
                t.rules[i] = CacheRules {
                    enabled: pr.caching,
                    min_tokens: pr.min_cache_tokens.max(1),
                    max_checkpoints: model.max_cache_checkpoints,
                    max_cached_tokens: model.max_cached_tokens,
                    ttl_s: t.ttl_s[i],
                };
            }
        }
        t
    }
}

impl Tables {
    /// (time to first token in ms, ms per output token) of model `m` for a
    /// call billed in `mode` (batch and on-demand at standard speed).
    #[inline]
    pub fn speed(&self, m: usize, mode: Mode) -> (f64, f64) {
        match mode {
            Mode::OnDemand | Mode::Batch => self.latency[m],
            Mode::Priority => self.tier_latency[m][0],
            Mode::Flex => self.tier_latency[m][1],
        }
    }
}

/// How a cacheable call learns whether its prefix was cached.
pub(crate) enum CacheMode<'a> {
    /// Simulate the cache: last send time per (workload × model, prefix).
    Simulate(&'a mut [Vec<f64>]),
    /// Leave it to the fast path's closed form (counted in `Cell::deferred`).
    Defer,
}

/// A pinned hit rate's coin flip: out of line, so the hash behind it is
/// not computed speculatively for every call (most workloads do not pin).
#[cold]
#[inline(never)]
fn pinned_hit(req: &Request, rate: f64) -> bool {
    req.uniform(Stream::PINNED_CACHE) < rate
}

/// Books one policy's decision for one request, counted `weight` times
/// (1 in exact mode; in the fast path the probability of the outcome
/// patterns that lead to this decision), `succeeded` of them with an
/// acceptable answer (the caller judges: in the fast path one decision
/// stands for outcome patterns that judge it differently).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn book(
    t: &Tables,
    inst: &Instance,
    led: &mut Ledger,
    dec: &Decision,
    req: &Request,
    cache: &mut CacheMode<'_>,
    weight: f64,
    succeeded: f64,
) {
    let w = req.workload as usize;
    let mut latency_ms = 0.0;
    let mut mains = 0u32;
    for call in dec.calls() {
        let m = call.model.index();
        let pr = &inst.pricing[m];
        let service = call.model.service().unwrap_or(req.service);
        let cell = led.cell_mut(w, m);
        match call.kind {
            CallKind::Main => {
                mains += 1;
                cell.calls += weight;
                let billing = pr.billing(req.input_tokens, req.prefix_tokens, req.batch, service);
                let (tier, mode) = (billing.tier as usize, billing.mode as usize);
                let (ttft, ms_per_token) = t.speed(m, billing.mode);
                let i = w * t.nm + m;
                if t.caching[w] && billing.cached {
                    let fresh = (req.input_tokens - req.prefix_tokens) as f64;
                    let hit = match cache {
                        CacheMode::Defer => {
                            *cell.deferred_mut(tier, mode) += weight;
                            None
                        }
                        CacheMode::Simulate(last_sent) => Some(match t.pinned[w] {
                            None => {
                                let slots = &mut last_sent[i];
                                if slots.is_empty() {
                                    *slots = vec![f64::NEG_INFINITY; t.distinct[w]];
                                }
                                let slot = &mut slots[req.prefix_id as usize];
                                let hit = req.time_s - *slot < t.ttl_s[i];
                                *slot = req.time_s;
                                hit
                            }
                            Some(rate) => pinned_hit(req, rate),
                        }),
                    };
                    let prefix = req.prefix_tokens as f64;
                    let tokens = cell.tokens_mut(MAIN, tier, mode);
                    tokens[Component::Input as usize] += weight * fresh;
                    match hit {
                        Some(true) => tokens[Component::CacheRead as usize] += weight * prefix,
                        Some(false) => tokens[t.write[i] as usize] += weight * prefix,
                        None => {}
                    }
                    tokens[Component::Output as usize] += weight * req.output_tokens as f64;
                    match hit {
                        Some(true) => cell.cache_hits += weight,
                        Some(false) => cell.cache_misses += weight,
                        None => {}
                    }
                } else {
                    let tokens = cell.tokens_mut(MAIN, tier, mode);
                    tokens[Component::Input as usize] += weight * req.input_tokens as f64;
                    tokens[Component::Output as usize] += weight * req.output_tokens as f64;
                }
                latency_ms += ttft + req.output_tokens as f64 * ms_per_token;
            }
            CallKind::Overhead {
                input_tokens,
                output_tokens,
            } => {
                cell.overhead_calls += weight;
                let billing = pr.billing(input_tokens, 0, req.batch, service);
                let (tier, mode) = (billing.tier as usize, billing.mode as usize);
                let (ttft, ms_per_token) = t.speed(m, billing.mode);
                let tokens = cell.tokens_mut(OVERHEAD, tier, mode);
                tokens[Component::Input as usize] += weight * input_tokens as f64;
                tokens[Component::Output as usize] += weight * output_tokens as f64;
                latency_ms += ttft + output_tokens as f64 * ms_per_token;
            }
        }
    }
    let counts = &mut led.per_workload[w];
    counts.requests += weight;
    counts.skips += weight * dec.skips() as f64;
    counts.fixed_overhead_usd += weight * dec.fixed_overhead_usd();
    if mains > 1 {
        counts.escalated += weight;
    }
    match dec.accepted() {
        Some(c) => {
            counts.served += weight;
            if inst.pricing[c.model.index()]
                .mode(req.batch, c.model.service().unwrap_or(req.service))
                == Mode::Batch
            {
                counts.batch += weight;
            }
            counts.succeeded += succeeded;
            if !req.batch {
                led.latency[w].add(latency_ms, weight);
            }
        }
        None => counts.unserved += weight,
    }
}
