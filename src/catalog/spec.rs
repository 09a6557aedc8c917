//! The catalog file as written (pricing/*.yaml), before validation.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{Modality, TaskKind};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogSpec {
    /// Short name scenarios refer to (`bedrock-2026-11`).
    pub name: String,
    /// Date the prices were read (YYYY-MM-DD).
    pub as_of: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only USD is supported.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Where the numbers come from; every model names one of these.
    pub sources: Vec<SourceSpec>,
    /// The inference profile scenarios get when they name none (`global`).
    pub default_profile: String,
    /// How much faster or slower each non-standard service tier answers
    /// than standard, for every model that offers it (absent: no
    /// difference assumed, and reports say so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier_speed: Option<ServiceTierSpeedSpec>,
    pub quality: QualityModelSpec,
    pub models: Vec<ModelSpec>,
}

fn default_currency() -> String {
    "USD".to_string()
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityModelSpec {
    /// Logistic slope `s` in P(success) = sigma((capability - difficulty) / s).
    pub slope: f64,
    /// Source id of the priors' derivation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short, stable key (`nova-pro`).
    pub key: String,
    /// The provider's model id (`amazon.nova-pro-v1:0`).
    pub provider_id: String,
    pub name: String,
    /// Model family (`nova`, `claude`, ...): used to colour and group reports.
    pub family: String,
    /// Role in a tiered design, in words (`cheap high-volume`, `frontier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Source id for the prices.
    pub price_source: String,
    /// USD per 1M tokens.
    pub rates: RatesSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContextSpec>,
    /// Price multiplier per inference profile (`global: 1.0`, `us: 1.1`).
    pub profiles: BTreeMap<String, f64>,
    /// Profile used when a scenario asks for the catalog's default profile and
    /// this model does not offer it (Nova 1 models have no `global` profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_profile: Option<String>,
    pub context_window: u64,
    pub max_output: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cache_tokens: Option<u64>,
    /// Most cache checkpoints one request may carry (default 4, Bedrock's
    /// documented limit for every model that caches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cache_checkpoints: Option<u32>,
    /// Most tokens of one prompt the model caches (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cached_tokens: Option<u64>,
    pub modalities: Vec<Modality>,
    pub latency: LatencySpec,
    /// Capability per task kind, on the difficulty scale [0, 1] (higher is better).
    pub quality: BTreeMap<TaskKind, f64>,
    /// Rates of the Priority and Flex service tiers, where the platform
    /// offers them for this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tiers: Option<ServiceTiersSpec>,
    /// On-demand throughput quota and how calls count against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSpec>,
    /// Provisioned throughput, where the platform sells it for this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<ProvisionedSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionedSpec {
    /// Price of one model unit per hour, in USD.
    pub hourly_usd_per_unit: f64,
    /// Input tokens per minute one unit serves.
    pub input_tokens_per_minute: f64,
    /// Output tokens per minute one unit serves.
    pub output_tokens_per_minute: f64,
    /// Commitment the price assumes (`none`, `1 month`, `6 months`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
    /// Source id for the price.
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatesSpec {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_input: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_output: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_5m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LongContextSpec {
    /// The long-context rates apply to the whole call once its input exceeds this.
    pub above_input_tokens: u64,
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_input: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_output: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_5m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
}

impl LongContextSpec {
    pub fn rates(&self) -> RatesSpec {
        RatesSpec {
            input: self.input,
            output: self.output,
            batch_input: self.batch_input,
            batch_output: self.batch_output,
            cache_write_5m: self.cache_write_5m,
            cache_write_1h: self.cache_write_1h,
            cache_read: self.cache_read,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    pub ttft_ms: f64,
    pub output_tps: f64,
    pub source: String,
}

/// A model's non-standard service tiers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTiersSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<TierRatesSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flex: Option<TierRatesSpec>,
}

/// USD per 1M tokens at one service tier. A model that caches states its
/// cache rates at the tier too.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRatesSpec {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_5m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Source id for these rates.
    pub source: String,
}

/// Speed of the non-standard service tiers relative to standard.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTierSpeedSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<TierSpeedSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flex: Option<TierSpeedSpec>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpeedSpec {
    /// Output tokens per second relative to standard (1.25: 25% faster).
    pub output_tps_factor: f64,
    /// Milliseconds added before the first token (queueing), >= 0.
    #[serde(default)]
    pub added_wait_ms: f64,
    /// Source id, or words starting with `assumption`.
    pub source: String,
}

/// A model's on-demand quota and how a call counts against it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    /// Default tokens per minute an account gets (absent: not published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<f64>,
    /// How many quota tokens one output token consumes (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_burndown: Option<f64>,
    /// Source id for the figures.
    pub source: String,
}
