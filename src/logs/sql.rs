//! Logs at any size, where they live: the SQL that computes, in Athena
//! (Trino) next to the logs in S3, the aggregates `profile` needs, and the
//! reading of its result back ([`read_aggregate`]).
//!
//! The query returns one table of rows of several kinds:
//! - `requests`: per task label, logged model id and cache use (`cached` 1
//!   when the request read or wrote a prefix): requests and the sums of
//!   input, output, cache-read and cache-write tokens;
//! - `input_tokens` / `output_tokens`: per label and cache use, a histogram
//!   of token counts in eighth-of-an-octave buckets
//!   (`floor(8·log2(max(tokens, 1)))`) with each bucket's requests and
//!   token sum, so each bucket is represented by its exact mean;
//! - `hour`: requests per hour of day (UTC), the daily shape;
//! - `peak_minute`: the most requests in any one minute;
//! - `week_hour`: requests per hour of the week (bucket 0 = Monday
//!   00:00-01:00 UTC), the weekly shape;
//! - `days`: distinct days seen, weekdays (bucket 0) and weekend days
//!   (bucket 1);
//! - `busiest_hour`: the busiest hour's requests (`requests`) and its
//!   busiest minute's (`bucket`), for the minute burst;
//! - `span`: the first and last timestamp, in seconds since the epoch.
//!
//! Records without an input or output token count are left out, as
//! `profile` skips them as malformed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Diagnostic, Error, Result};
use crate::logs::{
    Bill, BillTally, Derived, NO_MODEL_ID, PartSummary, Prices, Resolution, ids, workloads_of,
};

/// The standard table over Bedrock's invocation logs in S3 (Athena DDL).
pub fn athena_table(location: &str) -> String {
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS bedrock_invocation_logs (
  `schemaType` string,
  `schemaVersion` string,
  `timestamp` string,
  `accountId` string,
  `region` string,
  `requestId` string,
  `operation` string,
  `modelId` string,
  `input` struct<inputContentType:string, inputTokenCount:bigint, cacheReadInputTokenCount:bigint, cacheWriteInputTokenCount:bigint>,
  `output` struct<outputContentType:string, outputTokenCount:bigint>,
  `requestMetadata` map<string,string>
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION '{location}';
"
    )
}

/// The aggregate query (Athena / Trino SQL) over `bedrock_invocation_logs`,
/// the task label read from the `requestMetadata` key `task_tag`.
pub fn athena_query(task_tag: &str) -> String {
    let tag = task_tag.replace('\'', "''");
    format!(
        "WITH r AS (
  SELECT
    coalesce(CASE WHEN contains(map_keys(requestMetadata), '{tag}') THEN requestMetadata['{tag}'] END, 'unlabelled') AS label,
    coalesce(modelId, '{NO_MODEL_ID}') AS model,
    input.inputTokenCount AS input_tokens,
    output.outputTokenCount AS output_tokens,
    coalesce(input.cacheReadInputTokenCount, 0) AS cache_read,
    coalesce(input.cacheWriteInputTokenCount, 0) AS cache_write,
    from_iso8601_timestamp(\"timestamp\") AS ts
  FROM bedrock_invocation_logs
  WHERE input.inputTokenCount IS NOT NULL AND output.outputTokenCount IS NOT NULL
),
c AS (
  SELECT *, CASE WHEN cache_read + cache_write > 0 THEN 1 ELSE 0 END AS cached FROM r
)
SELECT 'requests' AS kind, label, model, cached, CAST(NULL AS bigint) AS bucket, count(*) AS requests,
  sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
  sum(cache_read) AS cache_read_tokens, sum(cache_write) AS cache_write_tokens,
  CAST(NULL AS double) AS first_epoch, CAST(NULL AS double) AS last_epoch
FROM c GROUP BY label, model, cached
UNION ALL
SELECT 'input_tokens', label, NULL, cached, CAST(floor(log2(greatest(input_tokens, 1)) * 8) AS bigint), count(*),
  sum(input_tokens), NULL, NULL, NULL, NULL, NULL
FROM c GROUP BY label, cached, CAST(floor(log2(greatest(input_tokens, 1)) * 8) AS bigint)
UNION ALL
SELECT 'output_tokens', label, NULL, cached, CAST(floor(log2(greatest(output_tokens, 1)) * 8) AS bigint), count(*),
  NULL, sum(output_tokens), NULL, NULL, NULL, NULL
FROM c GROUP BY label, cached, CAST(floor(log2(greatest(output_tokens, 1)) * 8) AS bigint)
UNION ALL
SELECT 'hour', NULL, NULL, NULL, CAST(hour(ts) AS bigint), count(*), NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE ts IS NOT NULL GROUP BY hour(ts)
UNION ALL
SELECT 'peak_minute', NULL, NULL, NULL, NULL, max(n), NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT count(*) AS n FROM c WHERE ts IS NOT NULL GROUP BY date_trunc('minute', ts)) m
UNION ALL
SELECT 'week_hour', NULL, NULL, NULL, CAST((day_of_week(ts) - 1) * 24 + hour(ts) AS bigint), count(*), NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE ts IS NOT NULL GROUP BY CAST((day_of_week(ts) - 1) * 24 + hour(ts) AS bigint)
UNION ALL
SELECT 'days', NULL, NULL, NULL, CAST(CASE WHEN day_of_week(ts) >= 6 THEN 1 ELSE 0 END AS bigint), count(DISTINCT CAST(ts AS date)), NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE ts IS NOT NULL GROUP BY CAST(CASE WHEN day_of_week(ts) >= 6 THEN 1 ELSE 0 END AS bigint)
UNION ALL
SELECT 'busiest_hour', NULL, NULL, NULL, max_by(peak, CAST(total AS double) * 4294967296 + peak), max(total), NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT sum(n) AS total, max(n) AS peak FROM
  (SELECT date_trunc('minute', ts) AS mi, count(*) AS n FROM c WHERE ts IS NOT NULL GROUP BY date_trunc('minute', ts)) m
  GROUP BY date_trunc('hour', mi)) h
UNION ALL
SELECT 'span', NULL, NULL, NULL, NULL, count(*), NULL, NULL, NULL, NULL, min(to_unixtime(ts)), max(to_unixtime(ts))
FROM c WHERE ts IS NOT NULL;
"
    )
}

/// Columns the aggregate's CSV must have.
const COLUMNS: [&str; 12] = [
    "kind",
    "label",
    "model",
    "cached",
    "bucket",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "first_epoch",
    "last_epoch",
];

/// What an aggregate says, folded: the log's workloads, arrival pattern and
/// (with prices) bill.
pub struct Aggregate {
    pub derived: Derived,
    pub bill: Option<Bill>,
    /// The most requests in any one minute, if the query found timestamps.
    pub peak_minute: Option<u64>,
}

#[derive(Default)]
struct Part {
    requests: u64,
    read: u64,
    write: u64,
    by_model: BTreeMap<String, usize>,
    /// bucket → (requests, token sum), for input and output.
    input: BTreeMap<i64, (u64, u64)>,
    output: BTreeMap<i64, (u64, u64)>,
}

fn fail(path: &Path, line: usize, msg: String) -> Error {
    Error::in_file_at(path, Some(line), msg)
}

/// Reads the query's result (CSV with a header, as Athena writes it).
pub fn read_aggregate(path: &Path, prices: Option<&Prices<'_>>) -> Result<Aggregate> {
    let bytes = crate::input::read_file(
        path,
        &crate::input::FileKind {
            noun: "an aggregate CSV file",
            plural: "aggregate files",
            max_bytes: 256 * 1024 * 1024,
        },
    )?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(path, 1, format!("not a CSV file: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            path,
            1,
            format!(
                "missing column(s) {}; expected the columns of tiersim's Athena aggregate query: {}",
                missing.join(", "),
                COLUMNS.join(", ")
            ),
        ));
    }
    let col = |n: &str| header.iter().position(|h| h == n).expect("checked");
    let (ki, li, mi, ci, bi, ri) = (
        col("kind"),
        col("label"),
        col("model"),
        col("cached"),
        col("bucket"),
        col("requests"),
    );
    let (ii, oi, cri, cwi, fi, lai) = (
        col("input_tokens"),
        col("output_tokens"),
        col("cache_read_tokens"),
        col("cache_write_tokens"),
        col("first_epoch"),
        col("last_epoch"),
    );
    let mut parts: BTreeMap<(String, bool), Part> = BTreeMap::new();
    let mut by_hour = [0usize; 24];
    let mut peak_minute = None;
    let mut week_hours = [0usize; 168];
    let mut days = (0usize, 0usize);
    let mut busiest_hour = None;
    let mut span = None;
    let mut timestamped = 0usize;
    let mut bill = BillTally::default();
    let mut resolved: std::collections::HashMap<String, Resolution> = Default::default();
    for (n, rec) in reader.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| fail(path, line, format!("bad CSV record: {e}")))?;
        let text = |i: usize| rec.get(i).map(str::trim).unwrap_or("");
        let int = |i: usize, what: &str| -> Result<u64> {
            let v = text(i);
            if v.is_empty() {
                return Ok(0);
            }
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0 && x.fract() == 0.0)
                .map(|x| x as u64)
                .ok_or_else(|| {
                    fail(
                        path,
                        line,
                        format!("{what} `{v}` is not a whole number, 0 or more"),
                    )
                })
        };
        let cached = || -> Result<bool> {
            match text(ci) {
                "1" | "true" => Ok(true),
                "0" | "false" => Ok(false),
                v => Err(fail(path, line, format!("cached `{v}` is not 0 or 1"))),
            }
        };
        let bucket = || -> Result<i64> {
            text(bi).parse::<i64>().map_err(|_| {
                fail(
                    path,
                    line,
                    format!("bucket `{}` is not a whole number", text(bi)),
                )
            })
        };
        match text(ki) {
            "requests" => {
                let p = parts.entry((text(li).to_string(), cached()?)).or_default();
                let requests = int(ri, "requests")?;
                let (input, output) = (int(ii, "input_tokens")?, int(oi, "output_tokens")?);
                let (read, write) = (
                    int(cri, "cache_read_tokens")?,
                    int(cwi, "cache_write_tokens")?,
                );
                p.requests += requests;
                p.read += read;
                p.write += write;
                *p.by_model.entry(text(mi).to_string()).or_default() += requests as usize;
                if let Some(prices) = prices {
                    bill.add_sums(
                        prices,
                        &mut resolved,
                        text(mi),
                        requests,
                        [input, read, write, output],
                    );
                }
            }
            kind @ ("input_tokens" | "output_tokens") => {
                let p = parts.entry((text(li).to_string(), cached()?)).or_default();
                let (sum_col, map) = if kind == "input_tokens" {
                    (ii, &mut p.input)
                } else {
                    (oi, &mut p.output)
                };
                let slot = map.entry(bucket()?).or_default();
                slot.0 += int(ri, "requests")?;
                slot.1 += int(sum_col, kind)?;
            }
            "hour" => {
                let h = bucket()?;
                if !(0..24).contains(&h) {
                    return Err(fail(path, line, format!("hour {h} is not 0 to 23")));
                }
                let n = int(ri, "requests")? as usize;
                by_hour[h as usize] += n;
                timestamped += n;
            }
            "peak_minute" => peak_minute = Some(int(ri, "requests")?),
            "week_hour" => {
                let h = bucket()?;
                if !(0..168).contains(&h) {
                    return Err(fail(
                        path,
                        line,
                        format!("hour of the week {h} is not 0 to 167"),
                    ));
                }
                week_hours[h as usize] += int(ri, "requests")? as usize;
            }
            "days" => {
                let n = int(ri, "requests")? as usize;
                match bucket()? {
                    0 => days.0 += n,
                    1 => days.1 += n,
                    b => {
                        return Err(fail(
                            path,
                            line,
                            format!("days bucket {b} is not 0 (weekdays) or 1 (weekend)"),
                        ));
                    }
                }
            }
            "busiest_hour" => {
                let total = int(ri, "requests")?;
                if total > 0 {
                    busiest_hour = Some((total, bucket()?.max(0) as u64));
                }
            }
            "span" => {
                let epoch = |i: usize| text(i).parse::<f64>().ok().filter(|x| x.is_finite());
                if let (Some(a), Some(b)) = (epoch(fi), epoch(lai)) {
                    span = Some((a, b));
                }
            }
            other => {
                return Err(fail(
                    path,
                    line,
                    format!(
                        "kind `{other}` is not one of requests, input_tokens, output_tokens, hour, peak_minute, week_hour, days, busiest_hour, span"
                    ),
                ));
            }
        }
    }
    let requests: u64 = parts.values().map(|p| p.requests).sum();
    if requests == 0 {
        return Err(Error::from(
            Diagnostic::new("no `requests` rows with requests: the query found no usable records")
                .in_file(path),
        ));
    }
    // Workloads as `derive` makes them from a log, token counts as the
    // buckets' means weighted by their requests.
    let hist = |m: &BTreeMap<i64, (u64, u64)>| -> (Vec<f64>, Vec<f64>) {
        m.values()
            .filter(|(n, _)| *n > 0)
            .map(|(n, sum)| (*sum as f64 / *n as f64, *n as f64))
            .unzip()
    };
    let mut labels: Vec<(String, [Option<PartSummary>; 2])> = Vec::new();
    for ((label, cached), p) in parts {
        if labels.last().is_none_or(|(l, _)| *l != label) {
            labels.push((label.clone(), [None, None]));
        }
        if p.requests > 0 {
            let slot = &mut labels.last_mut().expect("pushed").1[usize::from(cached)];
            *slot = Some(PartSummary {
                requests: p.requests as usize,
                read: p.read,
                write: p.write,
                input: hist(&p.input),
                output: hist(&p.output),
                by_model: p.by_model,
            });
        }
    }
    let mut derived = Derived::assemble(
        requests as usize,
        0,
        workloads_of(labels, requests as usize),
        by_hour,
        timestamped,
        span.map(|(a, b)| b - a),
    );
    derived.shape = crate::logs::shape_from(
        &week_hours,
        days,
        busiest_hour,
        timestamped,
        derived.span_seconds,
    );
    Ok(Aggregate {
        derived,
        bill: prices.map(|p| bill.finish(p.catalog)),
        peak_minute,
    })
}

impl BillTally {
    /// Requests of one logged model id, by their token sums: priced at the
    /// standard tier's rates (input, cache read, 5-minute cache write,
    /// output), the id's profile applied.
    fn add_sums(
        &mut self,
        prices: &Prices<'_>,
        resolved: &mut std::collections::HashMap<String, Resolution>,
        id: &str,
        requests: u64,
        [input, read, write, output]: [u64; 4],
    ) {
        use crate::catalog::pricing::{Component, Mode, Tier};
        let tokens = input + read + write + output;
        let res = resolved
            .entry(id.to_string())
            .or_insert_with(|| {
                if id == NO_MODEL_ID {
                    Resolution::Unknown("the record has no modelId".into())
                } else {
                    ids::resolve(prices.catalog, id, prices.map)
                }
            })
            .clone();
        match res {
            Resolution::Unknown(reason) => {
                let u = self
                    .unpriced
                    .entry(id.to_string())
                    .or_insert(super::Unpriced {
                        requests: 0,
                        tokens: 0,
                        reason,
                    });
                u.requests += requests as usize;
                u.tokens += tokens;
            }
            Resolution::Model(m, profile) => {
                let catalog = prices.catalog;
                let mult = catalog
                    .model(m)
                    .profile(
                        profile.as_deref().unwrap_or(prices.default_profile),
                        &catalog.default_profile,
                    )
                    .map_or(1.0, |(_, k)| k);
                let p = catalog.pricing(m, 1.0);
                let rate = |c| p.rate(Tier::Standard, Mode::OnDemand, c);
                let (read_rate, write_rate) = if p.caching {
                    (rate(Component::CacheRead), rate(Component::CacheWrite5m))
                } else {
                    (rate(Component::Input), rate(Component::Input))
                };
                let unit = (input as f64 * rate(Component::Input)
                    + read as f64 * read_rate
                    + write as f64 * write_rate
                    + output as f64 * rate(Component::Output))
                    / 1e6;
                self.by_model.entry(m).or_default().add(unit * mult);
                self.unit.entry(m).or_default().add(unit);
                self.priced_requests += requests as usize;
                self.priced_tokens += tokens;
            }
        }
    }
}
