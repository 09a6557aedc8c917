//! Importing prices from LiteLLM's `model_prices_and_context_window.json`.
//!
//! LiteLLM lists each Bedrock model once per inference-profile prefix
//! (`us.`, `eu.`, `global.`, ...) with USD per token. The import groups the
//! prefixes of one model into one catalog entry: its rates are the `global`
//! entry's (or the bare id's, or `us.`'s), in USD per 1M tokens, and every
//! other prefix becomes a profile multiplier. Per-token to per-1M is a
//! shift of the decimal point on the number as written, so no rate is
//! rounded. Where the file is known to be wrong or silent the import says
//! so: Nova entries carry no cache-write rate (Bedrock bills Nova cache
//! writes at the input rate, which the import writes explicitly) and no
//! minimum checkpoint (1,000 tokens is used); some bare `anthropic.*` keys
//! carry the global rate although in-region calls are billed 1.1x.
//! LiteLLM has no quality priors or latency: they are copied from a base
//! catalog for models it knows, and otherwise left neutral with a note.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::spec::{
    CatalogSpec, LatencySpec, LongContextSpec, ModelSpec, QualityModelSpec, RatesSpec,
    ServiceTiersSpec, SourceSpec, TierRatesSpec,
};
use crate::catalog::{Catalog, Modality, TaskKind};
use crate::error::{Error, Result};

/// Inference-profile prefixes of Bedrock model ids.
pub const PREFIXES: &[&str] = &["global", "us", "eu", "apac", "jp", "au", "us-gov"];

/// LiteLLM's price file (about 1.5 MB in late 2026).
pub const PRICE_FILE: crate::input::FileKind = crate::input::FileKind {
    noun: "LiteLLM's model_prices_and_context_window.json",
    plural: "price files",
    max_bytes: 64 * 1024 * 1024,
};

/// Parses the price file's bytes, with the parser's line and column on error.
pub fn parse_json(bytes: &[u8]) -> Result<Value> {
    use crate::error::Diagnostic;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::from(Diagnostic::new(format!(
            "is not UTF-8 text (invalid byte at offset {}); expected LiteLLM's JSON object of model entries",
            e.valid_up_to()
        )))
    })?;
    serde_json::from_str(text).map_err(|e| {
        Error::from(if text.trim().is_empty() {
            Diagnostic::new("file is empty; expected LiteLLM's JSON object of model entries")
        } else {
            Diagnostic::new(format!(
                "not JSON: {}; expected LiteLLM's JSON object of model entries",
                crate::input::json_message(&e)
            ))
            .at(e.line(), e.column().max(1))
        })
    })
}

/// USD per token (as JSON) to USD per 1M tokens, by moving the decimal point.
pub fn per_million(v: &Value) -> Option<f64> {
    let x = v.as_f64()?;
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    shift_decimal(&format!("{x}"), 6).parse().ok()
}

/// Moves the decimal point of a plain decimal string `places` to the right.
pub fn shift_decimal(s: &str, places: usize) -> String {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut digits = format!("{int}{frac}");
    let point = int.len() + places;
    while digits.len() < point {
        digits.push('0');
    }
    let (a, b) = digits.split_at(point);
    let a = a.trim_start_matches('0');
    let b = b.trim_end_matches('0');
    match (a.is_empty(), b.is_empty()) {
        (true, true) => "0".into(),
        (true, false) => format!("0.{b}"),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}.{b}"),
    }
}

/// A short catalog key from a Bedrock model id:
/// `anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5`.
pub fn key_of(model_id: &str) -> String {
    let bare = model_id.split_once('.').map_or(model_id, |(_, r)| r);
    let end = bare.find([':', '@']).unwrap_or(bare.len());
    let k = sanitise(&bare[..end]);
    let parts: Vec<&str> = k.split('-').collect();
    let kept: Vec<&str> = parts
        .into_iter()
        .filter(|p| {
            let date = p.len() == 8 && p.chars().all(|c| c.is_ascii_digit());
            let version =
                p.len() >= 2 && p.starts_with('v') && p[1..].chars().all(|c| c.is_ascii_digit());
            !(date || version)
        })
        .collect();
    kept.join("-")
}

/// What an import produced.
pub struct Import {
    pub catalog: CatalogSpec,
    /// Things the file was wrong or silent about, and what was done.
    pub notes: Vec<String>,
    /// Entries of the file that became a model, a profile or a regional
    /// model of the catalog.
    pub used: usize,
    /// Every other entry, with why.
    pub skipped: Vec<Skipped>,
}

impl Import {
    /// How many entries were skipped for each reason, most common first
    /// (ties in the order of [`SkipReason`]).
    pub fn skip_counts(&self) -> Vec<(SkipReason, usize)> {
        let mut counts: BTreeMap<SkipReason, usize> = BTreeMap::new();
        for s in &self.skipped {
            *counts.entry(s.reason).or_default() += 1;
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// An entry of the file left out of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub key: String,
    pub reason: SkipReason,
    /// The particulars (the mode, the family, the id it repeats, ...).
    pub detail: String,
}

/// Why an entry of the file is not in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// `litellm_provider` is another provider's.
    OtherProvider,
    /// Not a chat model (embeddings, images, ...).
    NotChat,
    /// A model family not asked for.
    Family,
    /// A model id not matching the pattern asked for.
    Pattern,
    /// Another spelling of a model imported under its Bedrock id (Vertex
    /// AI's `@` version, an id without its provider prefix, a LiteLLM route
    /// such as `bedrock/invoke/`).
    Alias,
    /// Reached through a route that is not a Bedrock model id.
    OtherRoute,
    /// A provisioned-throughput commitment price: LiteLLM gives the price
    /// per model unit but not the tokens per minute a unit serves.
    Commitment,
    /// No price per input token.
    NoPrice,
}

impl SkipReason {
    pub fn words(self) -> &'static str {
        match self {
            SkipReason::OtherProvider => "another provider",
            SkipReason::NotChat => "not a chat model",
            SkipReason::Family => "a family not asked for",
            SkipReason::Pattern => "not matching the model pattern",
            SkipReason::Alias => "another spelling of an imported model",
            SkipReason::OtherRoute => "a route that is not a Bedrock model id",
            SkipReason::Commitment => "a commitment price without throughput per unit",
            SkipReason::NoPrice => "no price per input token",
        }
    }
}

pub struct ImportOptions<'a> {
    pub provider: String,
    /// Only model ids matching this (`*` wildcards).
    pub models: Option<String>,
    /// Only these model families (`nova`, `claude`, `llama`, ...); `None`: all.
    pub families: Option<Vec<String>>,
    /// The profile whose price is the catalog's base rate.
    pub profile: String,
    pub name: String,
    pub as_of: String,
    pub source_url: String,
    /// Copy quality priors and latency from here where keys match.
    pub base: Option<&'a Catalog>,
}

/// The families of Bedrock's first-class pair: Amazon Nova and Anthropic Claude.
pub const DEFAULT_FAMILIES: &[&str] = &["nova", "claude"];

/// A key of the file taken apart: `bedrock/us-east-1/1-month-commitment/
/// anthropic.claude-instant-v1`, `us.amazon.nova-pro-v1:0`,
/// `bedrock/invoke/anthropic.claude-...`.
#[derive(Debug, PartialEq)]
struct Key<'a> {
    /// Path segments that are neither a region nor a commitment
    /// (`invoke`, `claude_platform`), after LiteLLM's provider segment.
    route: Option<&'a str>,
    /// An AWS region (`us-east-1`) or `*`.
    region: Option<&'a str>,
    /// `1-month-commitment`, `6-month-commitment`.
    commitment: Option<&'a str>,
    /// Inference-profile prefix (`us`, `global`, ...), or "".
    prefix: &'a str,
    /// The model id without prefix (`anthropic.claude-sonnet-4-5-20250929-v1:0`).
    id: &'a str,
    /// Whether the key had LiteLLM's provider segment (`bedrock/...`).
    provider_path: bool,
}

fn is_region(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn parse_key(key: &str) -> Key<'_> {
    let mut segments: Vec<&str> = key.split('/').collect();
    let id_full = segments.pop().unwrap_or(key);
    let provider_path = segments.first().is_some_and(|s| s.starts_with("bedrock"));
    if provider_path {
        segments.remove(0);
    }
    let mut k = Key {
        route: None,
        region: None,
        commitment: None,
        prefix: "",
        id: id_full,
        provider_path,
    };
    for s in segments {
        if s.ends_with("-commitment") {
            k.commitment = Some(s);
        } else if is_region(s) {
            k.region = Some(s);
        } else {
            k.route = Some(s);
        }
    }
    if let Some((p, rest)) = id_full.split_once('.')
        && PREFIXES.contains(&p)
    {
        k.prefix = p;
        k.id = rest;
    }
    k
}

/// The family of a model id: the first word of its name, digits dropped
/// (`amazon.nova-pro-v1:0` → `nova`, `meta.llama3-1-8b` → `llama`), or the
/// vendor when the name starts with a version (`deepseek.v3-v1:0` →
/// `deepseek`).
pub fn family_of(id: &str) -> String {
    let (vendor, name) = id.split_once('.').unwrap_or(("", id));
    let word = name
        .split(['-', ':', '@', '.'])
        .next()
        .unwrap_or("")
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_ascii_lowercase();
    if word.len() < 2 && !vendor.is_empty() {
        vendor.to_ascii_lowercase()
    } else {
        word
    }
}

/// The Priority and Flex rates LiteLLM lists for a model (`*_priority`,
/// `*_flex`), as the catalog holds them. A tier is left out, with a note,
/// when its rates cannot be complete: a caching model needs a cache-read
/// rate at the tier, and a cache-write rate (LiteLLM lists none for Nova,
/// which Bedrock bills at the input rate: taken as the tier's input rate
/// only when the standard write rate equals the standard input rate).
fn service_tiers_of(
    base: &Value,
    rates: &RatesSpec,
    long_context: bool,
    bare: &str,
    notes: &mut Vec<String>,
) -> Option<ServiceTiersSpec> {
    let mut out = ServiceTiersSpec {
        priority: None,
        flex: None,
    };
    for tier in ["priority", "flex"] {
        let get = |k: &str| base.get(format!("{k}_{tier}")).and_then(per_million);
        let (Some(input), Some(output)) =
            (get("input_cost_per_token"), get("output_cost_per_token"))
        else {
            continue;
        };
        if long_context {
            notes.push(format!(
                "{bare}: LiteLLM lists {tier} prices, but the model has long-context rates and the tier's long-context rates are not listed; the {tier} tier is left out"
            ));
            continue;
        }
        let (cache_read, cache_write_5m) = if rates.cache_read.is_some() {
            let read = get("cache_read_input_token_cost");
            let write = get("cache_creation_input_token_cost")
                .or_else(|| (rates.cache_write_5m == Some(rates.input)).then_some(input));
            match (read, write) {
                (Some(r), Some(w)) => (Some(r), Some(w)),
                _ => {
                    notes.push(format!(
                        "{bare}: LiteLLM lists {tier} input and output prices but no {tier} cache {} price for a model that caches; the {tier} tier is left out",
                        if read.is_none() { "read" } else { "write" }
                    ));
                    continue;
                }
            }
        } else {
            (None, None)
        };
        let spec = TierRatesSpec {
            input,
            output,
            cache_write_5m,
            cache_read,
            source: "litellm".into(),
        };
        if tier == "priority" {
            out.priority = Some(spec);
        } else {
            out.flex = Some(spec);
        }
    }
    (out.priority.is_some() || out.flex.is_some()).then_some(out)
}

fn rates_from(e: &Value, suffix: &str) -> RatesSpec {
    let get = |k: &str| e.get(format!("{k}{suffix}")).and_then(per_million);
    RatesSpec {
        input: get("input_cost_per_token").unwrap_or(0.0),
        output: get("output_cost_per_token").unwrap_or(0.0),
        batch_input: if suffix.is_empty() {
            get("input_cost_per_token_batches")
        } else {
            None
        },
        batch_output: if suffix.is_empty() {
            get("output_cost_per_token_batches")
        } else {
            None
        },
        cache_write_5m: get("cache_creation_input_token_cost"),
        cache_write_1h: e
            .get(if suffix.is_empty() {
                "cache_creation_input_token_cost_above_1hr".to_string()
            } else {
                format!("cache_creation_input_token_cost_above_1hr{suffix}")
            })
            .and_then(per_million),
        cache_read: get("cache_read_input_token_cost"),
    }
}

/// Every price an entry lists is a number of USD per token, 0 or more: a
/// price with a typo is refused, never read as absent.
fn check_rates(key: &str, entry: &Value) -> Result<()> {
    let Some(fields) = entry.as_object() else {
        return Ok(());
    };
    for (field, v) in fields {
        if field.contains("cost_per_token") && !v.is_null() && per_million(v).is_none() {
            return Err(Error::input(format!(
                "`{key}`.{field}: {v} is not a price; expected USD per token, a number 0 or more"
            )));
        }
    }
    Ok(())
}

/// The multiplier that turns `base`'s rates into `other`'s, if one number
/// does it for every rate both list (to 1e-12, relative): the ratio of the
/// input rates, written with 6 decimals when that still gives every rate
/// (1.1 rather than 1.0999999999999999), else in full (46/35 for Nova
/// Micro in the eu profile).
fn multiplier(base: &RatesSpec, other: &RatesSpec) -> Option<f64> {
    if base.input <= 0.0 {
        return None;
    }
    let exact = other.input / base.input;
    let rounded: f64 = format!("{exact:.6}").parse().ok()?;
    let pairs = [
        (Some(base.input), Some(other.input)),
        (Some(base.output), Some(other.output)),
        (base.batch_input, other.batch_input),
        (base.batch_output, other.batch_output),
        (base.cache_write_5m, other.cache_write_5m),
        (base.cache_write_1h, other.cache_write_1h),
        (base.cache_read, other.cache_read),
    ];
    let gives_every_rate = |m: f64| {
        pairs.iter().all(|p| match p {
            (Some(a), Some(b)) => (a * m - b).abs() <= 1e-12 * b.abs().max(1e-9),
            _ => true,
        })
    };
    [rounded, exact].into_iter().find(|m| gives_every_rate(*m))
}

/// A model key from free text: lowercase letters, digits, '.' and '-'.
fn sanitise(s: &str) -> String {
    s.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One model id's entries: by inference-profile prefix and by region.
#[derive(Default)]
struct Group<'a> {
    /// (prefix or "", key, entry).
    profiles: Vec<(&'a str, &'a str, &'a Value)>,
    /// (region, key, entry).
    regions: Vec<(&'a str, &'a str, &'a Value)>,
}

/// Builds a catalog from LiteLLM's JSON, accounting for every entry: each
/// becomes part of a model or is skipped with a reason.
pub fn import(json: &Value, opts: &ImportOptions<'_>) -> Result<Import> {
    let map = json
        .as_object()
        .ok_or_else(|| Error::input("expected LiteLLM's JSON object of model entries"))?;
    let mut skipped = Vec::new();
    let skip = |skipped: &mut Vec<Skipped>, key: &str, reason: SkipReason, detail: String| {
        skipped.push(Skipped {
            key: key.to_string(),
            reason,
            detail,
        })
    };
    // First pass: what each entry is. Aliases are decided once every
    // plain id is known.
    let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    let mut maybe_alias: Vec<(&str, Key<'_>, &Value)> = Vec::new();
    for (key, entry) in map {
        let provider = entry
            .get("litellm_provider")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !provider.starts_with(&opts.provider) {
            let detail = if provider.is_empty() {
                "no litellm_provider".to_string()
            } else {
                provider.to_string()
            };
            skip(&mut skipped, key, SkipReason::OtherProvider, detail);
            continue;
        }
        if let Some(mode) = entry.get("mode").and_then(Value::as_str)
            && mode != "chat"
        {
            skip(&mut skipped, key, SkipReason::NotChat, mode.to_string());
            continue;
        }
        let k = parse_key(key);
        let family = family_of(k.id);
        if let Some(fams) = &opts.families
            && !fams.iter().any(|f| f.eq_ignore_ascii_case(&family))
        {
            skip(&mut skipped, key, SkipReason::Family, family);
            continue;
        }
        if let Some(pattern) = &opts.models
            && !crate::input::glob(pattern, k.id)
        {
            skip(&mut skipped, key, SkipReason::Pattern, pattern.clone());
            continue;
        }
        check_rates(key, entry)?;
        if k.commitment.is_some() {
            skip(
                &mut skipped,
                key,
                SkipReason::Commitment,
                format!(
                    "{} in {}",
                    k.commitment.unwrap_or_default(),
                    k.region.unwrap_or("*")
                ),
            );
            continue;
        }
        if provider.contains("mantle") {
            skip(
                &mut skipped,
                key,
                SkipReason::OtherRoute,
                "Bedrock's OpenAI-compatible endpoint (bedrock_mantle)".into(),
            );
            continue;
        }
        match (k.route, k.region) {
            (Some(route), _) if route != "invoke" && route != "converse" => {
                skip(&mut skipped, key, SkipReason::OtherRoute, route.to_string());
            }
            (Some(_), _) => maybe_alias.push((key, k, entry)),
            (None, Some(_)) if !k.id.contains('.') => maybe_alias.push((key, k, entry)),
            (None, Some(region)) => groups
                .entry(k.id)
                .or_default()
                .regions
                .push((region, key, entry)),
            (None, None) if k.id.contains('@') || !k.id.contains('.') || k.provider_path => {
                maybe_alias.push((key, k, entry))
            }
            (None, None) => groups
                .entry(k.id)
                .or_default()
                .profiles
                .push((k.prefix, key, entry)),
        }
    }
    // Aliases: a route, another provider's id form, or an id without its
    // vendor, naming a model the file lists under its Bedrock id.
    for (key, k, entry) in maybe_alias {
        let bedrock_id = if k.id.contains('@') {
            // Vertex AI: `anthropic.claude-haiku-4-5@20251001`.
            let (name, date) = k.id.split_once('@').unwrap_or((k.id, ""));
            groups
                .keys()
                .find(|id| id.starts_with(&format!("{name}-{date}")))
                .map(|id| id.to_string())
        } else if !k.id.contains('.') {
            groups
                .keys()
                .find(|id| id.split_once('.').is_some_and(|(_, rest)| rest == k.id))
                .map(|id| id.to_string())
        } else {
            groups.contains_key(k.id).then(|| k.id.to_string())
        };
        let listed = |id: &str| {
            groups
                .get(id)
                .is_some_and(|g| g.profiles.iter().any(|(p, _, _)| *p == k.prefix))
        };
        match (bedrock_id, k.region) {
            // A regional price under an id without its vendor
            // (`bedrock/us-gov-east-1/claude-sonnet-4-5-...`).
            (Some(id), Some(region)) => {
                let id = groups.get_key_value(id.as_str()).map(|(k, _)| *k);
                if let Some(id) = id {
                    groups
                        .entry(id)
                        .or_default()
                        .regions
                        .push((region, key, entry));
                }
            }
            (Some(id), None) if listed(&id) || k.id.contains('@') || !k.id.contains('.') => skip(
                &mut skipped,
                key,
                SkipReason::Alias,
                format!(
                    "of {}{id}",
                    if k.prefix.is_empty() {
                        String::new()
                    } else {
                        format!("{}.", k.prefix)
                    }
                ),
            ),
            _ if k.id.contains('@') || !k.id.contains('.') => skip(
                &mut skipped,
                key,
                SkipReason::OtherRoute,
                "not a Bedrock model id, and no Bedrock id in the file matches it".into(),
            ),
            _ => groups
                .entry(k.id)
                .or_default()
                .profiles
                .push((k.prefix, key, entry)),
        }
    }
    let mut notes = Vec::new();
    let mut models = Vec::new();
    let mut used = 0;
    let mut keys_seen = std::collections::BTreeSet::new();
    for (bare, group) in &groups {
        let find = |p: &str| {
            group
                .profiles
                .iter()
                .find(|(q, _, _)| *q == p)
                .map(|(_, _, e)| *e)
        };
        let group_skips = skipped.len();
        // The base prices: the profile asked for, else global, else the
        // unprefixed id (Bedrock's in-region price, named `us`), else the
        // first other profile, else the first region.
        let base_choice = find(&opts.profile)
            .map(|e| (opts.profile.clone(), e))
            .or_else(|| find("global").map(|e| ("global".to_string(), e)))
            .or_else(|| {
                // The unprefixed id is Bedrock's in-region (us) price, unless
                // a `us.` entry says otherwise: then it is the global price
                // (Nova 2 Pro lists 1.25 unprefixed and 1.375 under `us.`).
                find("").map(|e| {
                    let bare_in = e.get("input_cost_per_token").and_then(per_million);
                    let us_in = find("")
                        .and(find("us"))
                        .and_then(|u| u.get("input_cost_per_token"))
                        .and_then(per_million);
                    match us_in {
                        Some(u) if Some(u) != bare_in => ("global".to_string(), e),
                        _ => ("us".to_string(), e),
                    }
                })
            })
            .or_else(|| {
                PREFIXES
                    .iter()
                    .find_map(|p| find(p).map(|e| (p.to_string(), e)))
            })
            .or_else(|| group.regions.first().map(|(r, _, e)| (r.to_string(), *e)));
        let Some((base_profile, base)) = base_choice else {
            continue;
        };
        let mut rates = rates_from(base, "");
        if rates.input <= 0.0 {
            for (_, key, _) in group.profiles.iter().chain(&group.regions) {
                skip(
                    &mut skipped,
                    key,
                    SkipReason::NoPrice,
                    format!("{bare} lists no input price"),
                );
            }
            continue;
        }
        let is_nova = bare.starts_with("amazon.nova");
        let nova_writes = |r: &mut RatesSpec| {
            if r.cache_read.is_some() && r.cache_write_5m.is_none() && is_nova {
                r.cache_write_5m = Some(r.input);
            }
        };
        if rates.cache_read.is_some() && rates.cache_write_5m.is_none() {
            if is_nova {
                nova_writes(&mut rates);
                notes.push(format!(
                    "{bare}: LiteLLM has no cache-write rate; Bedrock bills Nova cache writes at the input rate ({})",
                    rates.input
                ));
            } else {
                rates.cache_read = None;
                notes.push(format!(
                    "{bare}: cache read without a cache-write rate; caching left out"
                ));
            }
        }
        let base_input = rates.input;
        // Profiles and regions whose prices are one multiple of the base
        // prices become profiles; any other becomes a model of its own.
        let mut profiles = BTreeMap::new();
        profiles.insert(base_profile.clone(), 1.0);
        let mut own_models: Vec<(String, String, RatesSpec)> = Vec::new();
        let variants = group
            .profiles
            .iter()
            .filter(|(p, _, _)| !p.is_empty())
            .chain(&group.regions);
        for (name, key, e) in variants {
            if *name == base_profile {
                continue;
            }
            let mut r = rates_from(e, "");
            if r.input <= 0.0 {
                skip(
                    &mut skipped,
                    key,
                    SkipReason::NoPrice,
                    format!("{name} lists no input price"),
                );
                continue;
            }
            nova_writes(&mut r);
            match multiplier(&rates, &r) {
                Some(m) => {
                    profiles.insert(name.to_string(), m);
                }
                None => own_models.push((name.to_string(), key.to_string(), r)),
            }
        }
        if bare.starts_with("anthropic.") && find("global").is_some() && find("").is_some() {
            let bare_in = find("")
                .and_then(|e| e.get("input_cost_per_token"))
                .and_then(per_million);
            if bare_in == Some(base_input) && profiles.get("us").is_some_and(|m| *m > 1.0) {
                notes.push(format!(
                    "{bare}: the bare key lists the global rate, but in-region calls are billed {}x; use the geo profiles",
                    profiles["us"]
                ));
            }
        }
        let has = |k: &str| base.get(k).is_some();
        if has("input_cost_per_token_above_100k_tokens")
            && has("input_cost_per_token_above_200k_tokens")
        {
            notes.push(format!(
                "{bare}: LiteLLM lists rates above 100K and above 200K input tokens; a catalog model holds one long-context tier, so the 200K one is imported and calls of 100K to 200K input tokens are priced at the base rates"
            ));
        }
        let long_context = ["200k", "100k"].iter().find_map(|t| {
            let suffix = format!("_above_{t}_tokens");
            base.get(format!("input_cost_per_token{suffix}"))
                .and_then(per_million)
                .map(|_| {
                    let r = rates_from(base, &suffix);
                    LongContextSpec {
                        above_input_tokens: if *t == "200k" { 200_000 } else { 100_000 },
                        input: r.input,
                        output: r.output,
                        batch_input: None,
                        batch_output: None,
                        cache_write_5m: r.cache_write_5m,
                        cache_write_1h: r.cache_write_1h,
                        cache_read: r.cache_read,
                    }
                })
        });
        let service_tiers =
            service_tiers_of(base, &rates, long_context.is_some(), bare, &mut notes);
        // Dated versions of one model share a short key: later ones keep
        // their full id (sanitised) instead.
        let short = key_of(bare);
        let mut key = if short.is_empty() {
            sanitise(bare)
        } else {
            short
        };
        if !keys_seen.insert(key.clone()) {
            key = sanitise(bare.split_once('.').map_or(bare, |(_, r)| r));
            while !keys_seen.insert(key.clone()) {
                key.push_str("-2");
            }
        }
        let flag = |k: &str| base.get(k).and_then(Value::as_bool).unwrap_or(false);
        let mut modalities = vec![Modality::Text];
        if flag("supports_vision") {
            modalities.push(Modality::Image);
        }
        if flag("supports_pdf_input") {
            modalities.push(Modality::Document);
        }
        if flag("supports_video_input") {
            modalities.push(Modality::Video);
        }
        let max_input = base
            .get("max_input_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let max_output = base
            .get("max_output_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut context_window = max_input.max(1);
        if let Some(lc) = &long_context
            && context_window <= lc.above_input_tokens
        {
            context_window = 1_000_000;
            notes.push(format!(
                "{bare}: long-context rates above {} tokens; context window taken as 1,000,000",
                lc.above_input_tokens
            ));
        }
        let min_cache = match base.get("prompt_cache_min_tokens").and_then(Value::as_u64) {
            Some(m) => Some(m),
            None if rates.cache_read.is_some() => {
                notes.push(format!(
                    "{bare}: no minimum cache checkpoint in the file; 1,000 tokens used"
                ));
                Some(1000)
            }
            None => None,
        };
        let prior = opts.base.and_then(|c| c.find(&key).map(|id| c.model(id)));
        let (quality, latency) = match prior {
            Some(m) => (
                TaskKind::ALL
                    .iter()
                    .map(|t| (*t, m.capability[t.index()]))
                    .collect(),
                LatencySpec {
                    ttft_ms: m.latency.ttft_ms,
                    output_tps: m.latency.output_tps,
                    source: format!(
                        "copied from catalog {}",
                        opts.base.map_or("", |c| c.name.as_str())
                    ),
                },
            ),
            None => {
                notes.push(format!(
                    "{key}: no quality prior or latency in the base catalog; neutral 0.5 capabilities and 1 s / 50 tok/s set: edit them"
                ));
                (
                    TaskKind::ALL.iter().map(|t| (*t, 0.5)).collect(),
                    LatencySpec {
                        ttft_ms: 1000.0,
                        output_tps: 50.0,
                        source: "placeholder assumption: set your own".into(),
                    },
                )
            }
        };
        let model = ModelSpec {
            key: key.clone(),
            provider_id: bare.to_string(),
            name: bare.to_string(),
            family: family_of(bare),
            tier: None,
            price_source: "litellm".into(),
            rates,
            long_context,
            profiles: profiles.clone(),
            fallback_profile: (!profiles.contains_key("global")).then(|| base_profile.clone()),
            context_window,
            max_output: max_output.max(1),
            min_cache_tokens: min_cache,
            max_cache_checkpoints: None,
            max_cached_tokens: None,
            modalities,
            latency,
            quality,
            provisioned: None,
            service_tiers,
            quota: None,
            notes: None,
        };
        let mut own = Vec::new();
        for (name, lkey, r) in own_models {
            let mut own_key = format!("{key}-{}", sanitise(&name));
            while !keys_seen.insert(own_key.clone()) {
                own_key.push_str("-2");
            }
            notes.push(format!(
                "{lkey}: its prices are not one multiple of {bare}'s {base_profile} prices (input {}, output {} per 1M against {}, {}), so it is a model of its own, `{own_key}`, with profile `{name}`",
                r.input, r.output, model.rates.input, model.rates.output
            ));
            own.push(ModelSpec {
                key: own_key,
                rates: r,
                long_context: None,
                profiles: BTreeMap::from([(name.clone(), 1.0)]),
                fallback_profile: Some(name.clone()),
                // The tiers' rates were read at the base profile's prices.
                service_tiers: None,
                notes: Some(format!("{bare} at {name} prices (LiteLLM key {lkey})")),
                ..model.clone()
            });
        }
        models.push(model);
        models.extend(own);
        used += group.profiles.len() + group.regions.len() - (skipped.len() - group_skips);
    }
    if models.is_empty() {
        let counts: Vec<String> = {
            let mut c: BTreeMap<SkipReason, usize> = BTreeMap::new();
            for s in &skipped {
                *c.entry(s.reason).or_default() += 1;
            }
            c.into_iter()
                .map(|(r, n)| format!("{n} {}", r.words()))
                .collect()
        };
        return Err(Error::input(format!(
            "no `{}` chat model{}{} could be imported from the file{}",
            opts.provider,
            opts.families
                .as_ref()
                .map(|f| format!(" of the families {}", f.join(", ")))
                .unwrap_or_default(),
            opts.models
                .as_ref()
                .map(|m| format!(" matching `{m}`"))
                .unwrap_or_default(),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" (entries skipped: {})", counts.join(", "))
            }
        )));
    }
    Ok(Import {
        catalog: CatalogSpec {
            name: opts.name.clone(),
            as_of: opts.as_of.clone(),
            description: Some(
                "Imported from LiteLLM's model price file by `tiersim pricing import-litellm`"
                    .into(),
            ),
            currency: "USD".into(),
            sources: vec![SourceSpec {
                id: "litellm".into(),
                title: "LiteLLM model_prices_and_context_window.json".into(),
                url: Some(opts.source_url.clone()),
                note: Some(
                    "USD per token, converted to USD per 1M tokens by moving the decimal point"
                        .into(),
                ),
            }],
            default_profile: "global".into(),
            service_tier_speed: None,
            quality: QualityModelSpec {
                slope: opts.base.map_or(0.1, |c| c.slope),
                source: None,
            },
            models,
        },
        notes,
        used,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_decimals_exactly() {
        assert_eq!(shift_decimal("0.000003", 6), "3");
        assert_eq!(shift_decimal("0.00000125", 6), "1.25");
        assert_eq!(shift_decimal("0.00000000875", 6), "0.00875");
        assert_eq!(shift_decimal("0.0000375", 6), "37.5");
        assert_eq!(per_million(&serde_json::json!(3.3e-6)), Some(3.3));
        assert_eq!(
            key_of("anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5"
        );
        assert_eq!(key_of("amazon.nova-pro-v1:0"), "nova-pro");
        assert_eq!(key_of("anthropic.claude-opus-4-6-v1"), "claude-opus-4-6");
        assert_eq!(family_of("amazon.nova-pro-v1:0"), "nova");
        assert_eq!(
            family_of("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "claude"
        );
        assert_eq!(family_of("meta.llama3-1-8b-instruct-v1:0"), "llama");
        assert_eq!(family_of("deepseek.v3-v1:0"), "deepseek");
        assert_eq!(family_of("claude-sonnet-4-5-20250929-v1:0"), "claude");
    }
}
