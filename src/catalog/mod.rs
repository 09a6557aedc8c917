//! Catalogs: the models a platform offers, their prices, limits, latency and
//! quality priors, as one dated snapshot with its sources.
//!
//! A catalog is data. Nothing in the engine knows about Bedrock, Nova or
//! Claude; the shipped catalogs under `pricing/` are embedded in the binary
//! (so `run` works from any directory) and any other catalog file can be
//! named by path.

pub mod litellm;
pub mod pricing;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::pricing::{ModelPricing, N_SERVICE_TIERS, Rates, ServiceTier, TierRates};
use crate::error::{Diagnostics, Error, Result};
use crate::input::yaml::{self, Source};
pub use spec::CatalogSpec;

/// Kinds of work a request can be; capabilities are given per kind.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    Classification,
    Extraction,
    Summarization,
    Rag,
    StructuredOutput,
    Reasoning,
    Code,
    Writing,
    Vision,
    Agentic,
}

impl TaskKind {
    pub const ALL: [TaskKind; 10] = [
        TaskKind::Classification,
        TaskKind::Extraction,
        TaskKind::Summarization,
        TaskKind::Rag,
        TaskKind::StructuredOutput,
        TaskKind::Reasoning,
        TaskKind::Code,
        TaskKind::Writing,
        TaskKind::Vision,
        TaskKind::Agentic,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Classification => "classification",
            TaskKind::Extraction => "extraction",
            TaskKind::Summarization => "summarization",
            TaskKind::Rag => "rag",
            TaskKind::StructuredOutput => "structured-output",
            TaskKind::Reasoning => "reasoning",
            TaskKind::Code => "code",
            TaskKind::Writing => "writing",
            TaskKind::Vision => "vision",
            TaskKind::Agentic => "agentic",
        }
    }

    pub fn parse(s: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn names() -> String {
        TaskKind::ALL.map(|t| t.as_str()).join(", ")
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request carries besides text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    Text,
    Image,
    Document,
    Video,
    Audio,
}

impl Modality {
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Image => "image",
            Modality::Document => "document",
            Modality::Video => "video",
            Modality::Audio => "audio",
        }
    }
}

/// A model in its catalog, and the service tier a policy step named for
/// it (`nova-pro:priority`), if any.
///
/// Two ids of one model at different tiers are different routes but the
/// same model: ledgers, capabilities and limits go by [`ModelId::index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId {
    index: u16,
    service: Option<ServiceTier>,
}

impl ModelId {
    /// The model at `index`, at the request's service tier.
    pub fn new(index: usize) -> ModelId {
        ModelId {
            index: index as u16,
            service: None,
        }
    }
    pub fn index(self) -> usize {
        self.index as usize
    }
    /// The service tier named for this route; `None`: the request's.
    pub fn service(self) -> Option<ServiceTier> {
        self.service
    }
    /// The same model at a named service tier.
    pub fn at(self, service: ServiceTier) -> ModelId {
        ModelId {
            index: self.index,
            service: Some(service),
        }
    }
    /// The model, without a named tier.
    pub fn base(self) -> ModelId {
        ModelId::new(self.index())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogSource {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Latency {
    pub ttft_ms: f64,
    pub output_tps: f64,
    pub source: String,
}

/// One model, validated.
#[derive(Debug, Clone)]
pub struct Model {
    pub key: String,
    pub provider_id: String,
    pub name: String,
    pub family: String,
    pub tier: Option<String>,
    pub price_source: String,
    /// USD per 1M tokens, as written in the catalog.
    pub rates: Rates,
    /// Long-context rates and the input size above which they apply.
    pub long_context: Option<(u64, Rates)>,
    pub profiles: BTreeMap<String, f64>,
    pub fallback_profile: Option<String>,
    pub context_window: u64,
    pub max_output: u64,
    pub min_cache_tokens: u64,
    /// Most cache checkpoints one request may carry.
    pub max_cache_checkpoints: u32,
    /// Most tokens of one prompt the model caches (`u64::MAX`: no limit).
    pub max_cached_tokens: u64,
    pub modalities: Vec<Modality>,
    pub latency: Latency,
    /// Capability per task kind (indexed by [`TaskKind::index`]).
    pub capability: [f64; 10],
    pub provisioned: Option<Provisioned>,
    /// Rates per service tier (`[ServiceTier as usize]`); standard's entry
    /// is always `None` (its rates are `rates`), a tier the model does not
    /// offer is `None`.
    pub service_tiers: [Option<TierRates>; N_SERVICE_TIERS],
    /// Source id of each offered tier's rates.
    pub service_tier_sources: [Option<String>; N_SERVICE_TIERS],
    pub quota: Quota,
    /// What the catalog says about the model, in words.
    pub notes: Option<String>,
}

/// A model's on-demand quota and how calls count against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quota {
    /// The default tokens-per-minute quota, where the catalog states one.
    pub tokens_per_minute: Option<f64>,
    /// Quota tokens one output token consumes (5 for Claude 4-generation
    /// models on Bedrock).
    pub output_burndown: f64,
    /// Source id of the figures; `None` when the catalog says nothing
    /// (burndown 1 assumed, quota unknown).
    pub source: Option<String>,
}

/// How a service tier's speed differs from standard's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierSpeed {
    pub output_tps_factor: f64,
    pub added_wait_ms: f64,
    /// `None` for standard and for a tier the catalog states no speed for.
    pub source: Option<String>,
}

impl TierSpeed {
    pub const SAME: TierSpeed = TierSpeed {
        output_tps_factor: 1.0,
        added_wait_ms: 0.0,
        source: None,
    };
}

/// Provisioned throughput of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provisioned {
    pub hourly_usd_per_unit: f64,
    pub input_tokens_per_minute: f64,
    pub output_tokens_per_minute: f64,
    pub commitment: Option<String>,
    pub source: String,
}

impl Model {
    pub fn supports_batch(&self) -> bool {
        self.rates.batch_input.is_some()
    }
    pub fn supports_caching(&self) -> bool {
        self.rates.cache_read.is_some()
    }
    pub fn supports(&self, m: Modality) -> bool {
        self.modalities.contains(&m)
    }
    /// Whether the model offers a service tier (standard always).
    pub fn offers(&self, s: ServiceTier) -> bool {
        s == ServiceTier::Standard || self.service_tiers[s as usize].is_some()
    }

    /// The profile multiplier for `profile`, resolving the catalog default
    /// through the model's fallback profile. Returns the profile actually used.
    pub fn profile(&self, profile: &str, catalog_default: &str) -> Option<(String, f64)> {
        if let Some(m) = self.profiles.get(profile) {
            return Some((profile.to_string(), *m));
        }
        if profile == catalog_default
            && let Some(fb) = &self.fallback_profile
        {
            return self.profiles.get(fb).map(|m| (fb.clone(), *m));
        }
        None
    }
}

/// A validated catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub name: String,
    pub as_of: String,
    pub description: Option<String>,
    pub sources: Vec<CatalogSource>,
    pub default_profile: String,
    /// Logistic slope of the quality model.
    pub slope: f64,
    /// Speed of each service tier relative to standard (`[ServiceTier as usize]`).
    pub tier_speed: [TierSpeed; N_SERVICE_TIERS],
    pub models: Vec<Model>,
    /// Where the catalog came from (`embedded:bedrock-2026-11` or a path).
    pub origin: String,
}

/// The catalogs shipped in `pricing/`, embedded in the binary: (name,
/// YAML, the YAML's spec as JSON).
///
/// The YAML is the source, with its sources and comments; the JSON
/// (`src/catalog/embedded/`, generated) is what `Catalog::load` reads,
/// since the YAML parser took about 11 M instructions (some 3 ms, a tenth
/// of a small run) for the 30 KB of `bedrock-2026-11`. The test
/// `catalog::tests::embedded_json_is_the_yaml` holds each JSON to its
/// YAML (`TIERSIM_BLESS=1` rewrites them).
pub const EMBEDDED: &[(&str, &str, &str)] = &[
    (
        "bedrock-2026-11",
        include_str!("../../pricing/bedrock-2026-11.yaml"),
        include_str!("embedded/bedrock-2026-11.json"),
    ),
    (
        "representative-2026",
        include_str!("../../pricing/representative-2026.yaml"),
        include_str!("embedded/representative-2026.json"),
    ),
];

/// The catalog a scenario gets when it names none.
pub const DEFAULT_CATALOG: &str = "bedrock-2026-11";

/// Cache checkpoints per request when a catalog does not say: 4, the limit
/// Amazon Bedrock documents for every model it caches (Bedrock user guide,
/// "Prompt caching for faster model inference", supported models table,
/// read 2026-12-03).
pub const DEFAULT_MAX_CACHE_CHECKPOINTS: u32 = 4;

impl Catalog {
    pub fn model(&self, id: ModelId) -> &Model {
        &self.models[id.index()]
    }

    pub fn find(&self, key: &str) -> Option<ModelId> {
        self.models
            .iter()
            .position(|m| m.key == key)
            .map(ModelId::new)
    }

    pub fn ids(&self) -> impl Iterator<Item = ModelId> + '_ {
        (0..self.models.len()).map(ModelId::new)
    }

    /// "unknown model `x`; the catalog has: a, b, c" (with a suggestion when close).
    pub fn unknown_model_message(&self, key: &str) -> String {
        let keys: Vec<&str> = self.models.iter().map(|m| m.key.as_str()).collect();
        let mut msg = format!("unknown model `{key}` in catalog `{}`", self.name);
        if let Some(s) = crate::input::suggest(key, keys.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(&format!(" Valid models: {}", keys.join(", ")));
        msg
    }

    /// A route named as a scenario writes it: a model key, optionally with
    /// `:standard`, `:priority` or `:flex`. Errors say what would be valid.
    pub fn find_route(&self, reference: &str) -> std::result::Result<ModelId, String> {
        let (key, service) = match reference.rsplit_once(':') {
            Some((k, s)) => (k, Some(s)),
            None => (reference, None),
        };
        let Some(id) = self.find(key) else {
            return Err(self.unknown_model_message(key));
        };
        let Some(s) = service else { return Ok(id) };
        let Some(tier) = ServiceTier::parse(s) else {
            return Err(format!(
                "unknown service tier `{s}` in `{reference}`; valid: standard, priority, flex"
            ));
        };
        let model = self.model(id);
        if !model.offers(tier) {
            let offered: Vec<&str> = ServiceTier::ALL
                .into_iter()
                .filter(|t| model.offers(*t))
                .map(|t| t.as_str())
                .collect();
            let elsewhere: Vec<&str> = self
                .models
                .iter()
                .filter(|m| m.offers(tier))
                .map(|m| m.key.as_str())
                .collect();
            return Err(format!(
                "model `{key}` does not offer the {} tier in catalog `{}` (it offers: {}); models that do: {}",
                tier.as_str(),
                self.name,
                offered.join(", "),
                if elsewhere.is_empty() {
                    "none".to_string()
                } else {
                    elsewhere.join(", ")
                }
            ));
        }
        Ok(id.at(tier))
    }

    /// Prices of `model` under `profile`, multiplier applied.
    pub fn pricing(&self, id: ModelId, profile_multiplier: f64) -> ModelPricing {
        ModelPricing::new(self.model(id), profile_multiplier)
    }

    /// Loads a catalog by embedded name or by path (relative paths are taken
    /// relative to `base_dir`).
    /// Whether a catalog reference names a file rather than a built-in catalog.
    pub fn is_path_reference(reference: &str) -> bool {
        reference.contains('/')
            || reference.contains('\\')
            || reference.ends_with(".yaml")
            || reference.ends_with(".yml")
    }

    pub fn load(reference: &str, base_dir: Option<&Path>) -> Result<Catalog> {
        if let Some((name, text, json)) = EMBEDDED.iter().find(|(n, ..)| *n == reference) {
            let origin = format!("embedded:{name}");
            if let Ok(spec) = serde_json::from_str(json)
                && let Ok(catalog) = Catalog::from_spec(spec, origin.clone())
            {
                return Ok(catalog);
            }
            // (Unreachable while the test holds the JSON to the YAML; the
            // YAML's errors are located in it.)
            let src = Source::from_text(format!("pricing/{name}.yaml (embedded)"), *text);
            return Catalog::from_source(&src, origin);
        }
        if !Catalog::is_path_reference(reference) {
            let names: Vec<&str> = EMBEDDED.iter().map(|(n, ..)| *n).collect();
            return Err(Error::input(format!(
                "unknown catalog `{reference}`; built-in catalogs: {}; or give a path to a catalog YAML file",
                names.join(", ")
            )));
        }
        let path = match base_dir {
            Some(dir) if Path::new(reference).is_relative() => dir.join(reference),
            _ => Path::new(reference).to_path_buf(),
        };
        let src = yaml::read_source(&path)?;
        Catalog::from_source(&src, path.display().to_string())
    }

    pub fn from_source(src: &Source, origin: String) -> Result<Catalog> {
        let spec: CatalogSpec = yaml::parse(src)?;
        Catalog::from_spec(spec, origin).map_err(|e| yaml::locate_all(src, e))
    }

    pub fn from_spec(spec: CatalogSpec, origin: String) -> Result<Catalog> {
        let mut d = Diagnostics::new();
        if spec.name.trim().is_empty() {
            d.push("name", "must not be empty");
        }
        if !is_iso_date(&spec.as_of) {
            d.push(
                "as_of",
                format!("must be a date like 2026-11-15, got `{}`", spec.as_of),
            );
        }
        if spec.currency != "USD" {
            d.push(
                "currency",
                format!("only USD is supported, got `{}`", spec.currency),
            );
        }
        if !(spec.quality.slope.is_finite()
            && spec.quality.slope > 0.0
            && spec.quality.slope <= 1.0)
        {
            d.push(
                "quality.slope",
                format!(
                    "must be greater than 0 and at most 1, got {}",
                    spec.quality.slope
                ),
            );
        }
        let mut source_ids = BTreeSet::new();
        for (i, s) in spec.sources.iter().enumerate() {
            if !source_ids.insert(s.id.clone()) {
                d.push(
                    format!("sources[{i}].id"),
                    format!("duplicate source id `{}`", s.id),
                );
            }
        }
        if spec.models.is_empty() {
            d.push("models", "a catalog needs at least one model");
        }
        let tier_speed = check_tier_speed(&mut d, spec.service_tier_speed.as_ref(), &source_ids);
        let mut keys = BTreeSet::new();
        let mut models = Vec::with_capacity(spec.models.len());
        for (i, m) in spec.models.iter().enumerate() {
            let p = format!("models[{i}]");
            if !is_key(&m.key) {
                d.push(
                    format!("{p}.key"),
                    format!(
                        "`{}` is not a valid model key; use lowercase letters, digits, '-' and '.'",
                        m.key
                    ),
                );
            }
            if !keys.insert(m.key.clone()) {
                d.push(
                    format!("{p}.key"),
                    format!("duplicate model key `{}`", m.key),
                );
            }
            if !source_ids.contains(&m.price_source) {
                d.push(
                    format!("{p}.price_source"),
                    format!(
                        "unknown source `{}`; sources listed in this catalog: {}",
                        m.price_source,
                        source_ids.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            let rates = check_rates(&mut d, &format!("{p}.rates"), &m.rates);
            let long_context = m.long_context.as_ref().map(|lc| {
                let r = check_rates(&mut d, &format!("{p}.long_context"), &lc.rates());
                if lc.above_input_tokens == 0 || lc.above_input_tokens >= m.context_window {
                    d.push(
                        format!("{p}.long_context.above_input_tokens"),
                        format!(
                            "must be greater than 0 and below context_window ({}), got {}",
                            m.context_window, lc.above_input_tokens
                        ),
                    );
                }
                (lc.above_input_tokens, r)
            });
            if m.profiles.is_empty() {
                d.push(
                    format!("{p}.profiles"),
                    "list at least one inference profile with its price multiplier, e.g. { global: 1.0 }",
                );
            }
            for (name, mult) in &m.profiles {
                if !(mult.is_finite() && *mult > 0.0 && *mult <= 10.0) {
                    d.push(
                        format!("{p}.profiles.{name}"),
                        format!("multiplier must be greater than 0 and at most 10, got {mult}"),
                    );
                }
            }
            match &m.fallback_profile {
                Some(fb) if !m.profiles.contains_key(fb) => d.push(
                    format!("{p}.fallback_profile"),
                    format!("`{fb}` is not one of this model's profiles"),
                ),
                None if !m.profiles.contains_key(&spec.default_profile) => d.push(
                    format!("{p}.profiles"),
                    format!(
                        "model has no `{}` profile (the catalog default); add it or set fallback_profile",
                        spec.default_profile
                    ),
                ),
                _ => {}
            }
            if m.context_window == 0 || m.context_window > 100_000_000 {
                d.push(
                    format!("{p}.context_window"),
                    format!(
                        "must be between 1 and 100000000 tokens, got {}",
                        m.context_window
                    ),
                );
            }
            if m.max_output == 0 || m.max_output > 10_000_000 {
                d.push(
                    format!("{p}.max_output"),
                    format!(
                        "must be between 1 and 10000000 tokens, got {}",
                        m.max_output
                    ),
                );
            }
            if m.max_cache_checkpoints == Some(0) {
                d.push(
                    format!("{p}.max_cache_checkpoints"),
                    "must be at least 1 (leave out cache rates for a model that does not cache)",
                );
            }
            if m.max_cached_tokens == Some(0) {
                d.push(
                    format!("{p}.max_cached_tokens"),
                    "must be at least 1 (leave out cache rates for a model that does not cache)",
                );
            }
            if rates.cache_read.is_some() && m.min_cache_tokens.is_none() {
                d.push(
                    format!("{p}.min_cache_tokens"),
                    "a model with cache rates needs min_cache_tokens (the smallest cacheable prefix)",
                );
            }
            if m.modalities.is_empty() || !m.modalities.contains(&Modality::Text) {
                d.push(format!("{p}.modalities"), "must include `text`");
            }
            if !(m.latency.ttft_ms.is_finite() && m.latency.ttft_ms >= 0.0) {
                d.push(
                    format!("{p}.latency.ttft_ms"),
                    format!(
                        "must be a finite number of milliseconds >= 0, got {}",
                        m.latency.ttft_ms
                    ),
                );
            }
            if !(m.latency.output_tps.is_finite() && m.latency.output_tps > 0.0) {
                d.push(
                    format!("{p}.latency.output_tps"),
                    format!(
                        "must be a finite number of tokens per second > 0, got {}",
                        m.latency.output_tps
                    ),
                );
            }
            let mut capability = [0.0; 10];
            let missing: Vec<&str> = TaskKind::ALL
                .iter()
                .filter(|t| !m.quality.contains_key(t))
                .map(|t| t.as_str())
                .collect();
            if !missing.is_empty() {
                d.push(
                    format!("{p}.quality"),
                    format!("missing capability for task kinds: {}", missing.join(", ")),
                );
            }
            for (t, c) in &m.quality {
                if !(c.is_finite() && (-1.0..=2.0).contains(c)) {
                    d.push(
                        format!("{p}.quality.{}", t.as_str()),
                        format!("capability must be between -1 and 2, got {c}"),
                    );
                }
                capability[t.index()] = *c;
            }
            let (service_tiers, service_tier_sources) =
                check_service_tiers(&mut d, &p, m, &rates, &source_ids);
            let quota = check_quota(&mut d, &p, m.quota.as_ref(), &source_ids);
            models.push(Model {
                key: m.key.clone(),
                provider_id: m.provider_id.clone(),
                name: m.name.clone(),
                family: m.family.clone(),
                tier: m.tier.clone(),
                price_source: m.price_source.clone(),
                rates,
                long_context,
                profiles: m.profiles.clone(),
                fallback_profile: m.fallback_profile.clone(),
                context_window: m.context_window,
                max_output: m.max_output,
                min_cache_tokens: m.min_cache_tokens.unwrap_or(u64::MAX),
                max_cache_checkpoints: m
                    .max_cache_checkpoints
                    .unwrap_or(DEFAULT_MAX_CACHE_CHECKPOINTS),
                max_cached_tokens: m.max_cached_tokens.unwrap_or(u64::MAX),
                modalities: m.modalities.clone(),
                latency: Latency {
                    ttft_ms: m.latency.ttft_ms,
                    output_tps: m.latency.output_tps,
                    source: m.latency.source.clone(),
                },
                capability,
                service_tiers,
                service_tier_sources,
                quota,
                provisioned: m.provisioned.as_ref().map(|pt| {
                    // A unit's throughput is at least a token a minute: a
                    // smaller one would need unboundedly many units.
                    let (hourly, tpm_in, tpm_out) = (
                        pt.hourly_usd_per_unit,
                        pt.input_tokens_per_minute,
                        pt.output_tokens_per_minute,
                    );
                    for (name, v, above_min, valid) in [
                        (
                            "hourly_usd_per_unit",
                            hourly,
                            hourly > 0.0,
                            "greater than 0 and at most 1e12 USD an hour",
                        ),
                        (
                            "input_tokens_per_minute",
                            tpm_in,
                            tpm_in >= 1.0,
                            "at least 1 and at most 1e12 tokens a minute",
                        ),
                        (
                            "output_tokens_per_minute",
                            tpm_out,
                            tpm_out >= 1.0,
                            "at least 1 and at most 1e12 tokens a minute",
                        ),
                    ] {
                        if !(v.is_finite() && above_min && v <= 1e12) {
                            d.push(
                                format!("{p}.provisioned.{name}"),
                                format!("must be {valid}, got {v}"),
                            );
                        }
                    }
                    if !source_ids.contains(&pt.source) {
                        d.push(
                            format!("{p}.provisioned.source"),
                            format!("unknown source `{}`", pt.source),
                        );
                    }
                    Provisioned {
                        hourly_usd_per_unit: pt.hourly_usd_per_unit,
                        input_tokens_per_minute: pt.input_tokens_per_minute,
                        output_tokens_per_minute: pt.output_tokens_per_minute,
                        commitment: pt.commitment.clone(),
                        source: pt.source.clone(),
                    }
                }),
                notes: m.notes.clone(),
            });
        }
        if models.len() > u16::MAX as usize {
            d.push("models", "too many models (at most 65535)");
        }
        d.into_result()?;
        Ok(Catalog {
            name: spec.name,
            as_of: spec.as_of,
            description: spec.description,
            sources: spec
                .sources
                .into_iter()
                .map(|s| CatalogSource {
                    id: s.id,
                    title: s.title,
                    url: s.url,
                    note: s.note,
                })
                .collect(),
            default_profile: spec.default_profile,
            slope: spec.quality.slope,
            tier_speed,
            models,
            origin,
        })
    }
}

fn unknown_source(id: &str, sources: &BTreeSet<String>) -> String {
    format!(
        "unknown source `{id}`; sources listed in this catalog: {}",
        sources.iter().cloned().collect::<Vec<_>>().join(", ")
    )
}

/// A model's Priority and Flex rates: positive prices, cache rates exactly
/// when the model caches at standard, a listed source, and no long-context
/// rates beside them (what a long call would cost at a tier is not published).
type ServiceTiers = (
    [Option<TierRates>; N_SERVICE_TIERS],
    [Option<String>; N_SERVICE_TIERS],
);

fn check_service_tiers(
    d: &mut Diagnostics,
    p: &str,
    m: &spec::ModelSpec,
    rates: &Rates,
    sources: &BTreeSet<String>,
) -> ServiceTiers {
    let mut out: ServiceTiers = ([None; N_SERVICE_TIERS], [None, None, None]);
    let Some(st) = &m.service_tiers else {
        return out;
    };
    if m.long_context.is_some() && (st.priority.is_some() || st.flex.is_some()) {
        d.push(
            format!("{p}.service_tiers"),
            "service tiers on a model with long-context rates are not supported (their long-context rates are not published); remove one of the two",
        );
    }
    for (tier, spec) in [
        (ServiceTier::Priority, &st.priority),
        (ServiceTier::Flex, &st.flex),
    ] {
        let Some(r) = spec else { continue };
        let path = format!("{p}.service_tiers.{}", tier.as_str());
        for (name, v) in [
            ("input", Some(r.input)),
            ("output", Some(r.output)),
            ("cache_write_5m", r.cache_write_5m),
            ("cache_read", r.cache_read),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && (0.0..=100_000.0).contains(&v))
            {
                d.push(
                    format!("{path}.{name}"),
                    format!("must be a price in USD per 1M tokens between 0 and 100000, got {v}"),
                );
            }
        }
        let caches = rates.cache_read.is_some();
        if caches != (r.cache_read.is_some() && r.cache_write_5m.is_some()) {
            d.push(
                path.clone(),
                if caches {
                    "the model caches: give cache_read and cache_write_5m at this tier too"
                } else {
                    "the model does not cache at standard: leave out cache_read and cache_write_5m"
                },
            );
        }
        if !sources.contains(&r.source) {
            d.push(format!("{path}.source"), unknown_source(&r.source, sources));
        }
        out.0[tier as usize] = Some(TierRates {
            input: r.input,
            output: r.output,
            cache_write_5m: r.cache_write_5m,
            cache_read: r.cache_read,
        });
        out.1[tier as usize] = Some(r.source.clone());
    }
    out
}

fn check_quota(
    d: &mut Diagnostics,
    p: &str,
    q: Option<&spec::QuotaSpec>,
    sources: &BTreeSet<String>,
) -> Quota {
    let Some(q) = q else {
        return Quota {
            tokens_per_minute: None,
            output_burndown: 1.0,
            source: None,
        };
    };
    if let Some(t) = q.tokens_per_minute
        && !(t.is_finite() && (1.0..=1e12).contains(&t))
    {
        d.push(
            format!("{p}.quota.tokens_per_minute"),
            format!("must be between 1 and 1e12 tokens a minute, got {t}"),
        );
    }
    let burndown = q.output_burndown.unwrap_or(1.0);
    if !(burndown.is_finite() && (1.0..=100.0).contains(&burndown)) {
        d.push(
            format!("{p}.quota.output_burndown"),
            format!("must be between 1 and 100 quota tokens per output token, got {burndown}"),
        );
    }
    if !sources.contains(&q.source) {
        d.push(
            format!("{p}.quota.source"),
            unknown_source(&q.source, sources),
        );
    }
    Quota {
        tokens_per_minute: q.tokens_per_minute,
        output_burndown: burndown,
        source: Some(q.source.clone()),
    }
}

fn check_tier_speed(
    d: &mut Diagnostics,
    spec: Option<&spec::ServiceTierSpeedSpec>,
    sources: &BTreeSet<String>,
) -> [TierSpeed; N_SERVICE_TIERS] {
    let mut out = [TierSpeed::SAME, TierSpeed::SAME, TierSpeed::SAME];
    let Some(spec) = spec else { return out };
    for (tier, s) in [
        (ServiceTier::Priority, &spec.priority),
        (ServiceTier::Flex, &spec.flex),
    ] {
        let Some(s) = s else { continue };
        let path = format!("service_tier_speed.{}", tier.as_str());
        if !(s.output_tps_factor.is_finite() && (0.01..=100.0).contains(&s.output_tps_factor)) {
            d.push(
                format!("{path}.output_tps_factor"),
                format!("must be between 0.01 and 100, got {}", s.output_tps_factor),
            );
        }
        if !(s.added_wait_ms.is_finite() && (0.0..=3_600_000.0).contains(&s.added_wait_ms)) {
            d.push(
                format!("{path}.added_wait_ms"),
                format!("must be between 0 and 3600000 ms, got {}", s.added_wait_ms),
            );
        }
        if !sources.contains(&s.source) && !s.source.starts_with("assumption") {
            d.push(
                format!("{path}.source"),
                format!(
                    "{}; or words starting with `assumption`",
                    unknown_source(&s.source, sources)
                ),
            );
        }
        out[tier as usize] = TierSpeed {
            output_tps_factor: s.output_tps_factor,
            added_wait_ms: s.added_wait_ms,
            source: Some(s.source.clone()),
        };
    }
    out
}

fn check_rates(d: &mut Diagnostics, path: &str, r: &spec::RatesSpec) -> Rates {
    let mut check = |name: &str, v: f64| {
        if !(v.is_finite() && (0.0..=100_000.0).contains(&v)) {
            d.push(
                format!("{path}.{name}"),
                format!("must be a price in USD per 1M tokens between 0 and 100000, got {v}"),
            );
        }
    };
    check("input", r.input);
    check("output", r.output);
    for (name, v) in [
        ("batch_input", r.batch_input),
        ("batch_output", r.batch_output),
        ("cache_write_5m", r.cache_write_5m),
        ("cache_write_1h", r.cache_write_1h),
        ("cache_read", r.cache_read),
    ] {
        if let Some(v) = v {
            check(name, v);
        }
    }
    if r.batch_input.is_some() != r.batch_output.is_some() {
        d.push(
            path.to_string(),
            "give both batch_input and batch_output, or neither (no batch)",
        );
    }
    if r.cache_read.is_some() != r.cache_write_5m.is_some() {
        d.push(
            path.to_string(),
            "give both cache_read and cache_write_5m, or neither (no caching)",
        );
    }
    if r.cache_write_1h.is_some() && r.cache_write_5m.is_none() {
        d.push(
            format!("{path}.cache_write_1h"),
            "a 1-hour cache write rate needs a 5-minute one (cache_write_5m)",
        );
    }
    Rates {
        input: r.input,
        output: r.output,
        batch_input: r.batch_input.filter(|_| r.batch_output.is_some()),
        batch_output: r.batch_output.filter(|_| r.batch_input.is_some()),
        cache_write_5m: r.cache_write_5m.filter(|_| r.cache_read.is_some()),
        cache_write_1h: r.cache_write_1h.filter(|_| r.cache_read.is_some()),
        cache_read: r.cache_read.filter(|_| r.cache_write_5m.is_some()),
    }
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each embedded catalog's JSON is its YAML's spec, written by
    /// `serde_json::to_string_pretty`, and reads back to the same spec and
    /// catalog. With `TIERSIM_BLESS=1` the JSON is rewritten first.
    #[test]
    fn embedded_json_is_the_yaml() {
        for (name, text, json) in EMBEDDED {
            let src = Source::from_text(format!("pricing/{name}.yaml"), *text);
            let spec: CatalogSpec = yaml::parse(&src).unwrap();
            let want = serde_json::to_string_pretty(&spec).unwrap() + "\n";
            let file = format!(
                "{}/src/catalog/embedded/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            if std::env::var_os("TIERSIM_BLESS").is_some() {
                std::fs::write(&file, &want).unwrap();
            }
            assert!(
                *json == want,
                "{file} is not pricing/{name}.yaml's spec: rewrite it with TIERSIM_BLESS=1 cargo test --release --lib embedded_json"
            );
            let back: CatalogSpec = serde_json::from_str(json).unwrap();
            assert_eq!(back, spec);
            // The JSON's catalog itself (what `load` takes, rather than
            // falling back to the YAML), and what `load` gives.
            let origin = format!("embedded:{name}");
            let from_yaml = format!("{:?}", Catalog::from_source(&src, origin.clone()).unwrap());
            let from_json = format!("{:?}", Catalog::from_spec(back, origin).unwrap());
            assert_eq!(from_json, from_yaml);
            assert_eq!(
                format!("{:?}", Catalog::load(name, None).unwrap()),
                from_yaml
            );
        }
    }
}
