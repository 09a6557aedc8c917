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
    CatalogSpec, LatencySpec, LongContextSpec, ModelSpec, QualityModelSpec, RatesSpec, SourceSpec,
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
    let mut k = bare.to_ascii_lowercase();
    if let Some(i) = k.find([':', '@']) {
        k.truncate(i);
    }
    let k: String = k
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
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
}

pub struct ImportOptions<'a> {
    pub provider: String,
    /// Only model ids matching this (`*` wildcards).
    pub models: Option<String>,
    /// The profile whose price is the catalog's base rate.
    pub profile: String,
    pub name: String,
    pub as_of: String,
    pub source_url: String,
    /// Copy quality priors and latency from here where keys match.
    pub base: Option<&'a Catalog>,
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

/// Builds a catalog from LiteLLM's JSON.
pub fn import(json: &Value, opts: &ImportOptions<'_>) -> Result<Import> {
    let map = json
        .as_object()
        .ok_or_else(|| Error::input("expected LiteLLM's JSON object of model entries"))?;
    // bare model id → (prefix or "", entry)
    let mut groups: BTreeMap<String, Vec<(String, &Value)>> = BTreeMap::new();
    for (key, entry) in map {
        if key.contains('/') {
            continue;
        }
        let provider = entry
            .get("litellm_provider")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !provider.starts_with(&opts.provider) {
            continue;
        }
        if entry
            .get("mode")
            .and_then(Value::as_str)
            .is_some_and(|m| m != "chat")
        {
            continue;
        }
        let (prefix, bare) = match key.split_once('.') {
            Some((p, rest)) if PREFIXES.contains(&p) => (p.to_string(), rest.to_string()),
            _ => (String::new(), key.clone()),
        };
        if let Some(pattern) = &opts.models
            && !crate::input::glob(pattern, &bare)
        {
            continue;
        }
        check_rates(key, entry)?;
        groups.entry(bare).or_default().push((prefix, entry));
    }
    if groups.is_empty() {
        return Err(Error::input(format!(
            "no `{}` chat models{} in the file",
            opts.provider,
            opts.models
                .as_ref()
                .map(|m| format!(" matching `{m}`"))
                .unwrap_or_default()
        )));
    }
    let mut notes = Vec::new();
    let mut models = Vec::new();
    let mut keys_seen = std::collections::BTreeSet::new();
    for (bare, variants) in &groups {
        let find = |p: &str| variants.iter().find(|(q, _)| q == p).map(|(_, e)| *e);
        let (base_profile, base) = match find(&opts.profile) {
            Some(e) => (opts.profile.clone(), e),
            None => match find("global")
                .map(|e| ("global".to_string(), e))
                .or_else(|| find("").map(|e| ("us".to_string(), e)))
                .or_else(|| find("us").map(|e| ("us".to_string(), e)))
            {
                Some(x) => x,
                None => continue,
            },
        };
        let mut rates = rates_from(base, "");
        let base_input = rates.input;
        if rates.input <= 0.0 {
            notes.push(format!("{bare}: no input price; skipped"));
            continue;
        }
        let is_nova = bare.starts_with("amazon.nova");
        if rates.cache_read.is_some() && rates.cache_write_5m.is_none() {
            if is_nova {
                rates.cache_write_5m = Some(rates.input);
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
        let mut profiles = BTreeMap::new();
        profiles.insert(base_profile.clone(), 1.0);
        for (prefix, e) in variants {
            let name = if prefix.is_empty() {
                continue;
            } else {
                prefix.clone()
            };
            if name == base_profile {
                continue;
            }
            if let Some(input) = e.get("input_cost_per_token").and_then(per_million) {
                let mult: f64 = format!("{:.6}", input / base_input).parse().unwrap_or(1.0);
                profiles.insert(name, mult);
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
        // Dated versions of one model share a short key: later ones keep
        // their full id (sanitised) instead.
        let mut key = key_of(bare);
        if !keys_seen.insert(key.clone()) {
            key = bare
                .split_once('.')
                .map_or(bare.as_str(), |(_, r)| r)
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
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
        models.push(ModelSpec {
            key,
            provider_id: bare.clone(),
            name: bare.clone(),
            family: bare.split('.').next().unwrap_or("other").to_string(),
            tier: None,
            price_source: "litellm".into(),
            rates,
            long_context,
            profiles: profiles.clone(),
            fallback_profile: (!profiles.contains_key("global")).then(|| base_profile.clone()),
            context_window,
            max_output: max_output.max(1),
            min_cache_tokens: min_cache,
            modalities,
            latency,
            quality,
            provisioned: None,
            notes: None,
        });
    }
    if models.is_empty() {
        return Err(Error::input(format!(
            "no model could be imported: {}",
            notes.join("; ")
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
            quality: QualityModelSpec {
                slope: opts.base.map_or(0.1, |c| c.slope),
                source: None,
            },
            models,
        },
        notes,
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
    }
}
