//! The scenario file as written (scenarios/*.yaml), before validation.
//!
//! Field names are the README's ("Scenarios"). Every struct rejects unknown fields. Forms
//! with alternatives (a policy is `single` *or* `cascade` *or* ...; a token
//! count is a number *or* a distribution) are structs of optional fields or
//! hand-written visitors rather than serde's tagged enums, so every error
//! keeps the line and column of the node it is about.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::catalog::pricing::Ttl;
use crate::catalog::{Modality, TaskKind};
use crate::scenario::quantity::Quantity;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub horizon_months: u32,
    /// A built-in catalog name (`bedrock-2026-11`) or a path to a catalog file.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Inference profile whose prices apply (`global`, `us`, `eu`, ...).
    #[serde(default)]
    pub region_profile: Option<String>,
    pub volume: VolumeSpec,
    /// The mix of requests (or give `traffic` to derive it from a log).
    #[serde(default)]
    pub workloads: Vec<WorkloadSpec>,
    /// Derive the workloads from a real request log instead.
    #[serde(default)]
    pub traffic: Option<TrafficSpec>,
    pub policies: Vec<PolicySpec>,
    pub baseline: String,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Replications; defaults to 1 when nothing is uncertain.
    #[serde(default)]
    pub replications: Option<u32>,
    /// Overrides of the catalog's quality priors, inline or as the path of
    /// a quality profile (`tiersim calibrate`'s output).
    #[serde(default)]
    pub quality: Option<QualityRef>,
    /// Per-model price adjustments (a negotiated discount, an expected cut).
    #[serde(default)]
    pub prices: BTreeMap<String, PriceSpec>,
    /// Cloud credit pools that pay the bill before cash does.
    #[serde(default)]
    pub credits: Vec<CreditSpec>,
    /// Peak traffic over average, for sizing provisioned throughput (default 2).
    #[serde(default)]
    pub peak_to_average: Option<f64>,
}

/// Traffic replayed from a request log.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// The log file (relative to the scenario).
    pub replay: String,
    pub format: crate::logs::LogFormat,
    /// The `requestMetadata` key holding a request's task label.
    #[serde(default = "default_task_tag")]
    pub task_tag: String,
    /// Task label → task kind, for labels that are not task kinds themselves.
    #[serde(default)]
    pub task_kinds: BTreeMap<String, TaskKind>,
    /// Task kind of unlabelled requests and unmapped labels (default writing).
    #[serde(default)]
    pub default_task: Option<TaskKind>,
    /// Difficulty of the replayed requests (logs carry none; default beta 0.3/5).
    #[serde(default)]
    pub difficulty: Option<DifficultySpec>,
    /// Stop at the first malformed line instead of skipping it.
    #[serde(default)]
    pub strict: bool,
}

fn default_task_tag() -> String {
    "task".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditSpec {
    pub name: String,
    pub amount_usd: f64,
    /// First month the credits can be spent (1 = the horizon's first month).
    #[serde(default = "one")]
    pub start_month: u32,
    /// Months the credits stay usable from `start_month`; unused credit is lost after.
    #[serde(default)]
    pub expires_after_months: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    /// Requests in month 1 (not used with `growth.schedule`).
    #[serde(default)]
    pub requests_per_month: Option<Quantity>,
    #[serde(default)]
    pub growth: Option<GrowthSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrowthSpec {
    /// Compound growth per month, in percent.
    #[serde(default)]
    pub monthly_pct: Option<Quantity>,
    /// Requests per month, one entry per month of the horizon.
    #[serde(default)]
    pub schedule: Option<Vec<Quantity>>,
    /// S-curve from month 1's volume towards `capacity`.
    #[serde(default)]
    pub logistic: Option<LogisticSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogisticSpec {
    /// Requests per month the curve approaches.
    pub capacity: Quantity,
    /// Growth rate per month at the start of the curve (0.3 = fast).
    pub steepness: Quantity,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Fraction of requests (all shares sum to 1).
    pub share: Quantity,
    pub task: TaskKind,
    #[serde(default)]
    pub modality: Option<Modality>,
    /// Per-request input tokens, not counting the cached prefix.
    pub input_tokens: TokenDistSpec,
    pub output_tokens: TokenDistSpec,
    pub difficulty: DifficultySpec,
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    /// Fraction of requests that may wait for batch inference.
    #[serde(default)]
    pub batch_share: Option<Quantity>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// Tokens of shared prefix (system prompt, tool definitions) on every request.
    pub prefix_tokens: Quantity,
    /// Number of different prefixes the requests spread over.
    #[serde(default)]
    pub distinct_prefixes: Option<Quantity>,
    /// A pinned hit rate instead of one derived from traffic.
    #[serde(default)]
    pub hit_rate: Option<Quantity>,
    #[serde(default)]
    pub ttl: Option<Ttl>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualitySpec {
    #[serde(default)]
    pub slope: Option<Quantity>,
    /// Share of requests whose outcomes follow one draw for every model
    /// (default 1, common random numbers).
    #[serde(default)]
    pub outcome_correlation: Option<Quantity>,
    /// model → task kind → capability.
    #[serde(default)]
    pub capabilities: BTreeMap<String, BTreeMap<TaskKind, Quantity>>,
}

/// Quality overrides: a profile file, or inline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum QualityRef {
    File(String),
    Inline(QualitySpec),
}

impl<'de> Deserialize<'de> for QualityRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QualityRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the path of a quality profile, or { slope, outcome_correlation, capabilities }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<QualityRef, E> {
                Ok(QualityRef::File(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<QualityRef, A::Error> {
                QualitySpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(QualityRef::Inline)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// Multiplies every rate of the model (0.8 = 20% discount).
    pub multiplier: Quantity,
}

/// A token-count distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenDistSpec {
    Constant(Quantity),
    /// By median and 90th percentile, optionally capped.
    Lognormal {
        median: Quantity,
        p90: Quantity,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// By the log-scale parameters mu and sigma, optionally capped.
    LognormalMuSigma {
        mu: Quantity,
        sigma: Quantity,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    Uniform {
        min: Quantity,
        max: Quantity,
    },
    /// Observed values, optionally weighted.
    Empirical {
        values: Vec<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
}

/// A difficulty distribution on [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifficultySpec {
    Constant(Quantity),
    Beta {
        mean: Quantity,
        concentration: Quantity,
    },
    Uniform {
        min: Quantity,
        max: Quantity,
    },
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
    #[serde(default)]
    pub single: Option<String>,
    /// Workload name or task kind (or `default`) → model or nested policy.
    #[serde(default)]
    pub rules: Option<BTreeMap<String, RuleTarget>>,
    /// Model → percent of requests.
    #[serde(default)]
    pub split: Option<BTreeMap<String, Quantity>>,
    #[serde(default)]
    pub cascade: Option<CascadeSpec>,
    #[serde(default)]
    pub classifier: Option<ClassifierSpec>,
    /// Candidate models, any order.
    #[serde(default)]
    pub oracle: Option<Vec<String>>,
}

/// The built-in kinds of policy. Their names are written here once: the
/// field of [`PolicySpec`] that selects the kind, the `kind` reports show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Single,
    Rules,
    Split,
    Cascade,
    Classifier,
    Oracle,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 6] = [
        PolicyKind::Single,
        PolicyKind::Rules,
        PolicyKind::Split,
        PolicyKind::Cascade,
        PolicyKind::Classifier,
        PolicyKind::Oracle,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Single => "single",
            PolicyKind::Rules => "rules",
            PolicyKind::Split => "split",
            PolicyKind::Cascade => "cascade",
            PolicyKind::Classifier => "classifier",
            PolicyKind::Oracle => "oracle",
        }
    }
}

impl PolicySpec {
    /// The kinds whose field is set (a valid policy has exactly one).
    pub fn kinds_set(&self) -> Vec<PolicyKind> {
        PolicyKind::ALL
            .into_iter()
            .filter(|k| match k {
                PolicyKind::Single => self.single.is_some(),
                PolicyKind::Rules => self.rules.is_some(),
                PolicyKind::Split => self.split.is_some(),
                PolicyKind::Cascade => self.cascade.is_some(),
                PolicyKind::Classifier => self.classifier.is_some(),
                PolicyKind::Oracle => self.oracle.is_some(),
            })
            .collect()
    }
}

/// What a rule routes to: a model key, or a nested policy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RuleTarget {
    Model(String),
    Policy(Box<PolicySpec>),
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

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSpec {
    /// The priced call that estimates difficulty ...
    #[serde(default)]
    pub estimator: Option<OverheadCallSpec>,
    /// ... or a fixed cost per request, in USD.
    #[serde(default)]
    pub cost_usd: Option<Quantity>,
    /// Standard deviation of the estimate's error (difficulty scale 0..1).
    pub noise_sd: Quantity,
    /// Threshold form: the first route whose `below` exceeds the estimate.
    #[serde(default)]
    pub routes: Option<Vec<RouteSpec>>,
    /// Two-model form: the cheaper model ...
    #[serde(default)]
    pub weak: Option<String>,
    /// ... and the stronger one.
    #[serde(default)]
    pub strong: Option<String>,
    /// Pick `weak` when its predicted success is within this of `strong`'s.
    #[serde(default)]
    pub max_quality_drop: Option<Quantity>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Upper bound of estimated difficulty for this route; the last route has none.
    #[serde(default)]
    pub below: Option<f64>,
    pub model: String,
}

// ---------------------------------------------------------------------------
// Hand-written visitors for the "number or one-key mapping" forms.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LognormalFields {
    #[serde(default)]
    median: Option<Quantity>,
    #[serde(default)]
    p90: Option<Quantity>,
    #[serde(default)]
    mu: Option<Quantity>,
    #[serde(default)]
    sigma: Option<Quantity>,
    #[serde(default)]
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFields {
    min: Quantity,
    max: Quantity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BetaFields {
    mean: Quantity,
    concentration: Quantity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmpiricalFields {
    values: Vec<f64>,
    #[serde(default)]
    weights: Option<Vec<f64>>,
}

/// Accepts `[v1, v2, ...]` or `{ values: [...], weights: [...] }`.
struct EmpiricalForm(EmpiricalFields);

impl<'de> Deserialize<'de> for EmpiricalForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EmpiricalForm;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of values or { values: [...], weights: [...] }")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EmpiricalForm, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<f64>()? {
                    values.push(v);
                }
                Ok(EmpiricalForm(EmpiricalFields {
                    values,
                    weights: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EmpiricalForm, A::Error> {
                EmpiricalFields::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(EmpiricalForm)
            }
        }
        d.deserialize_any(V)
    }
}

const TOKEN_KINDS: &[&str] = &["constant", "lognormal", "uniform", "empirical"];

impl<'de> Deserialize<'de> for TokenDistSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenDistSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a token count or a distribution: { constant: N }, { lognormal: {median, p90} }, \
                     { lognormal: {mu, sigma} }, { uniform: {min, max} } or { empirical: [...] }",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TokenDistSpec, E> {
                Ok(TokenDistSpec::Constant(Quantity::Fixed(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TokenDistSpec, E> {
                Ok(TokenDistSpec::Constant(Quantity::Fixed(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TokenDistSpec, E> {
                Ok(TokenDistSpec::Constant(Quantity::Fixed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenDistSpec, E> {
                match crate::scenario::quantity::number_with_underscores(v) {
                    Some(x) => Ok(TokenDistSpec::Constant(Quantity::Fixed(x))),
                    None => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenDistSpec, A::Error> {
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty mapping; expected one distribution such as { lognormal: {median, p90} }",
                    ));
                };
                let spec = match kind.as_str() {
                    "constant" => TokenDistSpec::Constant(map.next_value()?),
                    "lognormal" => {
                        let f: LognormalFields = map.next_value()?;
                        match (f.median, f.p90, f.mu, f.sigma) {
                            (Some(median), Some(p90), None, None) => TokenDistSpec::Lognormal {
                                median,
                                p90,
                                max: f.max,
                            },
                            (None, None, Some(mu), Some(sigma)) => {
                                TokenDistSpec::LognormalMuSigma {
                                    mu,
                                    sigma,
                                    max: f.max,
                                }
                            }
                            _ => {
                                return Err(de::Error::custom(
                                    "lognormal takes either { median, p90 } or { mu, sigma } (and an optional max)",
                                ));
                            }
                        }
                    }
                    "uniform" => {
                        let f: RangeFields = map.next_value()?;
                        TokenDistSpec::Uniform {
                            min: f.min,
                            max: f.max,
                        }
                    }
                    "empirical" => {
                        let EmpiricalForm(f) = map.next_value()?;
                        TokenDistSpec::Empirical {
                            values: f.values,
                            weights: f.weights,
                        }
                    }
                    other => return Err(de::Error::unknown_variant(other, TOKEN_KINDS)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a distribution has exactly one kind, found `{kind}` and `{extra}`"
                    )));
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

const DIFFICULTY_KINDS: &[&str] = &["constant", "beta", "uniform"];

impl<'de> Deserialize<'de> for DifficultySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DifficultySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a difficulty in [0, 1] or a distribution: { beta: {mean, concentration} }, \
                     { uniform: {min, max} } or { constant: D }",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DifficultySpec, E> {
                Ok(DifficultySpec::Constant(Quantity::Fixed(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DifficultySpec, E> {
                Ok(DifficultySpec::Constant(Quantity::Fixed(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DifficultySpec, E> {
                Ok(DifficultySpec::Constant(Quantity::Fixed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DifficultySpec, E> {
                match crate::scenario::quantity::number_with_underscores(v) {
                    Some(x) => Ok(DifficultySpec::Constant(Quantity::Fixed(x))),
                    None => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DifficultySpec, A::Error> {
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty mapping; expected one distribution such as { beta: {mean, concentration} }",
                    ));
                };
                let spec = match kind.as_str() {
                    "constant" => DifficultySpec::Constant(map.next_value()?),
                    "beta" => {
                        let f: BetaFields = map.next_value()?;
                        DifficultySpec::Beta {
                            mean: f.mean,
                            concentration: f.concentration,
                        }
                    }
                    "uniform" => {
                        let f: RangeFields = map.next_value()?;
                        DifficultySpec::Uniform {
                            min: f.min,
                            max: f.max,
                        }
                    }
                    other => return Err(de::Error::unknown_variant(other, DIFFICULTY_KINDS)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a distribution has exactly one kind, found `{kind}` and `{extra}`"
                    )));
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RuleTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleTarget;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a model key or a policy such as { cascade: {...} }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleTarget, E> {
                Ok(RuleTarget::Model(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RuleTarget, A::Error> {
                PolicySpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|p| RuleTarget::Policy(Box::new(p)))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// JSON Schemas of the hand-parsed forms (what the visitors above accept).

fn number_schema() -> serde_json::Value {
    serde_json::json!({
        "anyOf": [
            { "type": "number" },
            { "type": "string", "pattern": "^[0-9][0-9_]*(\\.[0-9_]+)?([eE][+-]?[0-9]+)?$",
              "description": "a number with digit separators, e.g. 3_000_000" }
        ]
    })
}

fn object(props: serde_json::Value, required: &[&str]) -> serde_json::Value {
    serde_json::json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false })
}

fn one_key(key: &str, inner: serde_json::Value) -> serde_json::Value {
    object(serde_json::json!({ key: inner }), &[key])
}

impl JsonSchema for TokenDistSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TokenCount".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let q = serde_json::to_value(g.subschema_for::<Quantity>()).expect("schema");
        let lognormal_a = object(
            serde_json::json!({ "median": q, "p90": q, "max": { "type": "number" } }),
            &["median", "p90"],
        );
        let lognormal_b = object(
            serde_json::json!({ "mu": q, "sigma": q, "max": { "type": "number" } }),
            &["mu", "sigma"],
        );
        let list = serde_json::json!({ "type": "array", "items": { "type": "number" } });
        let value = serde_json::json!({
            "description": "Tokens per request: a number or a distribution",
            "anyOf": [
                number_schema(),
                one_key("constant", q.clone()),
                one_key("lognormal", serde_json::json!({ "anyOf": [lognormal_a, lognormal_b] })),
                one_key("uniform", object(serde_json::json!({ "min": q, "max": q }), &["min", "max"])),
                one_key("empirical", serde_json::json!({ "anyOf": [
                    list,
                    object(serde_json::json!({ "values": list, "weights": list }), &["values"])
                ] })),
            ]
        });
        schemars::Schema::try_from(value).expect("schema")
    }
}

impl JsonSchema for DifficultySpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Difficulty".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let q = serde_json::to_value(g.subschema_for::<Quantity>()).expect("schema");
        let value = serde_json::json!({
            "description": "Difficulty in [0, 1]: a number or a distribution",
            "anyOf": [
                number_schema(),
                one_key("constant", q.clone()),
                one_key("beta", object(serde_json::json!({ "mean": q, "concentration": q }), &["mean", "concentration"])),
                one_key("uniform", object(serde_json::json!({ "min": q, "max": q }), &["min", "max"])),
            ]
        });
        schemars::Schema::try_from(value).expect("schema")
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let n = serde_json::json!({ "type": "number" });
        let value = serde_json::json!({
            "description": "A number, or a distribution drawn once per replication",
            "anyOf": [
                number_schema(),
                one_key("normal", object(serde_json::json!({ "mean": n, "sd": n, "min": n, "max": n }), &["mean", "sd"])),
                one_key("uniform", object(serde_json::json!({ "min": n, "max": n }), &["min", "max"])),
                one_key("triangular", object(serde_json::json!({ "min": n, "mode": n, "max": n }), &["min", "mode", "max"])),
                one_key("lognormal", object(serde_json::json!({ "median": n, "p90": n }), &["median", "p90"])),
                one_key("beta", object(serde_json::json!({ "mean": n, "concentration": n }), &["mean", "concentration"])),
            ]
        });
        schemars::Schema::try_from(value).expect("schema")
    }
}
