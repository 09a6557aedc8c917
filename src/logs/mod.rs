//! Replayed traffic: workloads derived from real request logs.
//!
//! Two formats: Amazon Bedrock model invocation logs (JSON lines with
//! `timestamp`, `modelId`, `input.inputTokenCount`,
//! `input.cacheReadInputTokenCount`, `input.cacheWriteInputTokenCount`,
//! `output.outputTokenCount`, and `requestMetadata` tags, one of which can
//! carry a task label) and a plain CSV (`task,input_tokens,output_tokens`,
//! optional `timestamp`, `cached_tokens`, `cache_write_tokens`, `model`).
//!
//! From a log: the mix (share of requests per task label), the empirical
//! token distributions, the observed cache behaviour (how much of the input
//! was a cached prefix, how often it was read rather than written), the
//! arrival pattern (requests per hour of day, its peak-to-average ratio)
//! and the log's own cost at catalog prices, to hold against a bill.
//! Malformed lines are counted and reported, and skipped unless `strict`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::pricing::{CacheOutcome, CallShape, Ttl, price_call};
use crate::catalog::{Catalog, TaskKind};
use crate::error::{Diagnostic, Error, Result};

/// Request logs: a month of invocation records fits well within this.
pub const LOG_FILE: crate::input::FileKind = crate::input::FileKind {
    noun: "a log file",
    plural: "logs",
    max_bytes: 1024 * 1024 * 1024,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    BedrockInvocationLog,
    Csv,
}

/// One logged request.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Seconds since the Unix epoch, if logged.
    pub timestamp: Option<f64>,
    pub model_id: Option<String>,
    pub task: Option<String>,
    /// Input tokens not read from or written to the cache.
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
}

/// A parsed log.
#[derive(Debug, Clone)]
pub struct Log {
    pub records: Vec<Record>,
    pub malformed: usize,
    /// The first few malformed lines: (line, what was wrong).
    pub errors: Vec<(usize, String)>,
}

fn fail(path: &Path, line: Option<usize>, msg: String) -> Error {
    let mut d = Diagnostic::new(msg).in_file(path);
    if let Some(l) = line {
        d = d.at(l, 1);
    }
    Error::from(d)
}

/// Parses an RFC 3339 timestamp (`2026-11-03T14:05:09Z`, fractional seconds
/// and offsets allowed) into seconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        frac = format!("0.{digits}").parse().ok()?;
        rest = &r[digits.len()..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

/// Reads a log. `task_tag` names the `requestMetadata` key with the task label.
pub fn read(path: &Path, format: LogFormat, task_tag: &str, strict: bool) -> Result<Log> {
    let bytes = crate::input::read_file(path, &LOG_FILE)?;
    parse(path, &bytes, format, task_tag, strict)
}

/// Parses a log's bytes (`path` names it in messages). Never panics on any
/// input (a fuzz target checks).
pub fn parse(
    path: &Path,
    bytes: &[u8],
    format: LogFormat,
    task_tag: &str,
    strict: bool,
) -> Result<Log> {
    let mut log = Log {
        records: Vec::new(),
        malformed: 0,
        errors: Vec::new(),
    };
    let bad = |log: &mut Log, line: usize, msg: String| -> Result<()> {
        if strict {
            let mut e = fail(path, Some(line), msg);
            for d in &mut e.diagnostics {
                d.remedy = Some(crate::error::Remedy::Strict);
            }
            return Err(e);
        }
        log.malformed += 1;
        if log.errors.len() < 5 {
            log.errors.push((line, msg));
        }
        Ok(())
    };
    match format {
        LogFormat::BedrockInvocationLog => {
            for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let line_no = n + 1;
                let Ok(text) = std::str::from_utf8(line) else {
                    bad(&mut log, line_no, "not UTF-8 text".into())?;
                    continue;
                };
                if text.trim().is_empty() {
                    continue;
                }
                match bedrock_record(text, task_tag) {
                    Ok(r) => log.records.push(r),
                    Err(msg) => bad(&mut log, line_no, msg)?,
                }
            }
        }
        LogFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| fail(path, Some(1), format!("not a CSV file: {e}")))?
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect();
            let col = |n: &str| header.iter().position(|h| h == n);
            let (Some(ti), Some(ii), Some(oi)) =
                (col("task"), col("input_tokens"), col("output_tokens"))
            else {
                return Err(fail(
                    path,
                    Some(1),
                    "a CSV log needs task, input_tokens and output_tokens columns (optional: timestamp, cached_tokens, cache_write_tokens, model)".into(),
                ));
            };
            let (tsi, cri, cwi, mi) = (
                col("timestamp"),
                col("cached_tokens"),
                col("cache_write_tokens"),
                col("model"),
            );
            for (n, rec) in reader.records().enumerate() {
                let line_no = n + 2;
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        bad(&mut log, line_no, format!("bad CSV record: {e}"))?;
                        continue;
                    }
                };
                let int = |i: Option<usize>| -> std::result::Result<u64, String> {
                    match i.and_then(|i| rec.get(i)).map(str::trim) {
                        None | Some("") => Ok(0),
                        Some(v) => v.parse::<u64>().map_err(|_| {
                            format!(
                                "`{v}` is not a token count; expected a whole number, 0 or more"
                            )
                        }),
                    }
                };
                let parsed = (|| -> std::result::Result<Record, String> {
                    let task = rec
                        .get(ti)
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string);
                    Ok(Record {
                        timestamp: match tsi.and_then(|i| rec.get(i)).map(str::trim) {
                            None | Some("") => None,
                            Some(t) => Some(parse_timestamp(t).ok_or_else(|| {
                                format!("`{t}` is not a timestamp like 2026-11-03T14:05:09Z")
                            })?),
                        },
                        model_id: mi
                            .and_then(|i| rec.get(i))
                            .map(str::trim)
                            .filter(|m| !m.is_empty())
                            .map(str::to_string),
                        task,
                        input: int(Some(ii))?,
                        cache_read: int(cri)?,
                        cache_write: int(cwi)?,
                        output: int(Some(oi))?,
                    })
                })();
                match parsed {
                    Ok(r) => log.records.push(r),
                    Err(msg) => bad(&mut log, line_no, msg)?,
                }
            }
        }
    }
    if log.records.is_empty() {
        let what = match format {
            LogFormat::BedrockInvocationLog => {
                "Bedrock model invocation log records (one JSON object per line)"
            }
            LogFormat::Csv => "CSV rows of task, input_tokens, output_tokens",
        };
        let msg = if bytes.iter().all(u8::is_ascii_whitespace) {
            format!("file is empty; expected {what}")
        } else {
            format!(
                "no usable records ({} malformed line(s)); expected {what}",
                log.malformed
            )
        };
        return Err(fail(path, None, msg));
    }
    Ok(log)
}

fn bedrock_record(text: &str, task_tag: &str) -> std::result::Result<Record, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a JSON object: {} (column {})",
            crate::input::json_message(&e),
            e.column()
        )
    })?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let count = |obj: &str, key: &str, required: bool| -> std::result::Result<u64, String> {
        match v.get(obj).and_then(|o| o.get(key)) {
            Some(serde_json::Value::Number(n)) => n.as_u64().ok_or_else(|| {
                format!("{obj}.{key} is {n}; expected a whole number of tokens, 0 or more")
            }),
            None | Some(serde_json::Value::Null) if !required => Ok(0),
            None => Err(format!("missing {obj}.{key}")),
            Some(_) => Err(format!("{obj}.{key} is not a number")),
        }
    };
    let timestamp = match v.get("timestamp") {
        Some(serde_json::Value::String(t)) => {
            Some(parse_timestamp(t).ok_or_else(|| format!("timestamp `{t}` is not RFC 3339"))?)
        }
        _ => None,
    };
    let task = v
        .get("requestMetadata")
        .and_then(|m| m.get(task_tag))
        .and_then(|t| t.as_str())
        .map(str::to_string);
    Ok(Record {
        timestamp,
        model_id: v
            .get("modelId")
            .and_then(|m| m.as_str())
            .map(str::to_string),
        task,
        input: count("input", "inputTokenCount", true)?,
        cache_read: count("input", "cacheReadInputTokenCount", false)?,
        cache_write: count("input", "cacheWriteInputTokenCount", false)?,
        output: count("output", "outputTokenCount", true)?,
    })
}

/// One workload derived from a log.
#[derive(Debug, Clone, Serialize)]
pub struct DerivedWorkload {
    /// The task label (or `unlabelled`).
    pub label: String,
    pub requests: usize,
    pub share: f64,
    /// Input tokens per request, not counting the cached prefix.
    pub input_tokens: Vec<f64>,
    pub output_tokens: Vec<f64>,
    /// Median cached prefix among requests that used the cache (0 if none did).
    pub prefix_tokens: f64,
    /// Share of requests that used the cache.
    pub cached_share: f64,
    /// Among those, the share that read rather than wrote the prefix.
    pub hit_rate: f64,
}

/// What a log says about its traffic.
#[derive(Debug, Clone, Serialize)]
pub struct Derived {
    pub requests: usize,
    pub malformed: usize,
    pub workloads: Vec<DerivedWorkload>,
    /// Seconds between the first and last timestamped request.
    pub span_seconds: Option<f64>,
    /// The log's rate as requests per (average) month.
    pub requests_per_month: Option<f64>,
    /// Busiest hour of day's requests over the average hour's.
    pub peak_to_average: Option<f64>,
    /// Requests per hour of day (UTC).
    pub by_hour: [usize; 24],
}

fn median(xs: &[f64]) -> f64 {
    crate::stats::quantile(xs, 0.5)
}

/// Derives workloads, mix, cache behaviour and arrival pattern.
pub fn derive(log: &Log) -> Derived {
    let mut groups: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in &log.records {
        groups
            .entry(r.task.clone().unwrap_or_else(|| "unlabelled".into()))
            .or_default()
            .push(r);
    }
    let n = log.records.len();
    let workloads = groups
        .into_iter()
        .map(|(label, rs)| {
            let cached: Vec<&&Record> = rs
                .iter()
                .filter(|r| r.cache_read + r.cache_write > 0)
                .collect();
            let prefixes: Vec<f64> = cached
                .iter()
                .map(|r| (r.cache_read + r.cache_write) as f64)
                .collect();
            let reads = cached.iter().filter(|r| r.cache_read > 0).count();
            DerivedWorkload {
                requests: rs.len(),
                share: rs.len() as f64 / n as f64,
                input_tokens: rs.iter().map(|r| r.input as f64).collect(),
                output_tokens: rs.iter().map(|r| r.output as f64).collect(),
                prefix_tokens: if prefixes.is_empty() {
                    0.0
                } else {
                    median(&prefixes)
                },
                cached_share: cached.len() as f64 / rs.len() as f64,
                hit_rate: if cached.is_empty() {
                    0.0
                } else {
                    reads as f64 / cached.len() as f64
                },
                label,
            }
        })
        .collect();
    let times: Vec<f64> = log.records.iter().filter_map(|r| r.timestamp).collect();
    let mut by_hour = [0usize; 24];
    for t in &times {
        by_hour[(t.rem_euclid(86_400.0) / 3600.0) as usize % 24] += 1;
    }
    let (lo, hi) = times
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
            (a.min(*t), b.max(*t))
        });
    let span = (times.len() >= 2 && hi > lo).then_some(hi - lo);
    let peak = (times.len() >= 24).then(|| {
        let max = *by_hour.iter().max().unwrap_or(&0) as f64;
        max / (times.len() as f64 / 24.0)
    });
    Derived {
        requests: n,
        malformed: log.malformed,
        workloads,
        span_seconds: span,
        requests_per_month: span.map(|s| times.len() as f64 / s * crate::calendar::MONTH_SECONDS),
        peak_to_average: peak,
        by_hour,
    }
}

/// The log's own cost at catalog prices, per model.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub by_model: BTreeMap<String, f64>,
    pub total_usd: f64,
    /// Requests whose `modelId` matches no catalog model.
    pub unmatched_requests: usize,
    pub unmatched_models: Vec<String>,
}

/// Matches a Bedrock model id (with or without an inference-profile prefix
/// such as `us.` or `global.`) to a catalog model and that profile.
pub fn match_model(
    catalog: &Catalog,
    model_id: &str,
) -> Option<(crate::catalog::ModelId, Option<String>)> {
    let (profile, bare) = match model_id.split_once('.') {
        Some((p, rest)) if ["us", "eu", "apac", "jp", "au", "global", "us-gov"].contains(&p) => {
            (Some(p.to_string()), rest)
        }
        _ => (None, model_id),
    };
    catalog
        .ids()
        .find(|&id| catalog.model(id).provider_id == bare || catalog.model(id).key == bare)
        .map(|id| (id, profile))
}

/// Prices every logged call at catalog rates (cache writes at the 5-minute rate).
pub fn reconcile(catalog: &Catalog, log: &Log, default_profile: &str) -> Reconciliation {
    let mut by_model: BTreeMap<String, f64> = BTreeMap::new();
    let mut unmatched = 0;
    let mut unmatched_models: Vec<String> = Vec::new();
    let mut total = crate::stats::Sum::default();
    for r in &log.records {
        let Some(id) = r.model_id.as_deref() else {
            unmatched += 1;
            continue;
        };
        let Some((m, profile)) = match_model(catalog, id) else {
            unmatched += 1;
            if !unmatched_models.iter().any(|x| x == id) {
                unmatched_models.push(id.to_string());
            }
            continue;
        };
        let model = catalog.model(m);
        let mult = model
            .profile(
                profile.as_deref().unwrap_or(default_profile),
                &catalog.default_profile,
            )
            .map_or(1.0, |(_, k)| k);
        let pricing = catalog.pricing(m, mult);
        let mut cost = 0.0;
        // Reads and writes are priced as separate calls' prefixes.
        for (prefix, outcome) in [
            (r.cache_read, CacheOutcome::Hit),
            (r.cache_write, CacheOutcome::Miss),
        ] {
            if prefix > 0 {
                cost += price_call(
                    &pricing,
                    &CallShape {
                        input_tokens: prefix,
                        output_tokens: 0,
                        prefix_tokens: prefix,
                        cache: Some(outcome),
                        ttl: Ttl::FiveMinutes,
                        batch: false,
                    },
                )
                .total();
            }
        }
        cost += price_call(
            &pricing,
            &CallShape {
                input_tokens: r.input,
                output_tokens: r.output,
                prefix_tokens: 0,
                cache: None,
                ttl: Ttl::FiveMinutes,
                batch: false,
            },
        )
        .total();
        *by_model.entry(model.key.clone()).or_default() += cost;
        total.add(cost);
    }
    Reconciliation {
        by_model,
        total_usd: total.value(),
        unmatched_requests: unmatched,
        unmatched_models,
    }
}

/// The task kind of a log label: an explicit mapping, the label itself if
/// it names a kind, else `default`.
pub fn kind_of(label: &str, map: &BTreeMap<String, TaskKind>, default: TaskKind) -> TaskKind {
    map.get(label)
        .copied()
        .or_else(|| TaskKind::parse(label))
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_timestamp("2026-11-03T14:05:09Z"),
            Some(1_793_714_709.0)
        );
        assert_eq!(
            parse_timestamp("2026-11-03T15:05:09.5+01:00"),
            Some(1_793_714_709.5)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
