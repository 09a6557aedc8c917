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
//!
//! A log is read as a stream (a file, or every log file under a folder,
//! plain or gzipped: [`files`]), each record folded into running tallies as
//! it is read, so memory does not grow with the log: token counts are kept
//! whole up to [`Kept::CAP`] per workload and as a systematic sample beyond.
//! The log's own bill is priced record by record while reading when a
//! catalog is given; model ids as logged (ARNs included) resolve through
//! [`ids`].

pub mod files;
pub mod ids;
pub mod sql;

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::pricing::{CacheOutcome, CallShape, Ttl, price_call};
use crate::catalog::{Catalog, ModelId, TaskKind};
use crate::error::{Error, Result};
pub use ids::{ModelMap, Resolution, match_model};

/// The longest line read as a record; a longer one (a record carrying a
/// huge request body) is skipped as malformed without being held.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    BedrockInvocationLog,
    Csv,
    /// The result of the aggregate query (`logs::sql`), as CSV.
    AthenaAggregate,
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

/// Where a malformed line is, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Values kept from a stream of any length in bounded memory: every value
/// up to [`Kept::CAP`], then a systematic sample (every 2nd, 4th, ... value
/// in arrival order).
#[derive(Debug, Clone, Default)]
pub struct Kept {
    values: Vec<f64>,
    /// Keep the values whose index is a multiple of this.
    stride: u64,
    seen: u64,
}

impl Kept {
    /// Values kept per workload and quantity (1 MiB of f64s).
    pub const CAP: usize = 1 << 17;

    pub fn push(&mut self, v: f64) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.seen.is_multiple_of(self.stride) {
            if self.values.len() == Self::CAP {
                let mut i = 0;
                self.values.retain(|_| {
                    i += 1;
                    (i - 1) % 2 == 0
                });
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.values.push(v);
            }
        }
        self.seen += 1;
    }

    /// The values kept, in arrival order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// How many values went in.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

/// What a log says about the requests of one task label that did, or did
/// not, use the prompt cache.
#[derive(Debug, Clone, Default)]
pub struct PartTally {
    pub requests: usize,
    /// Input tokens per request, not counting the cached prefix.
    pub input: Kept,
    pub output: Kept,
    /// Cached prefix tokens read and written, summed.
    pub read_tokens: u64,
    pub write_tokens: u64,
    /// Requests per logged model id ([`NO_MODEL_ID`] when absent).
    pub by_model: BTreeMap<String, usize>,
}

/// What a log says about one task label: its requests that used no cache
/// and those that did, kept apart so that each replays exactly.
#[derive(Debug, Clone, Default)]
pub struct LabelTally {
    pub uncached: PartTally,
    pub cached: PartTally,
}

/// A log, folded: counts, kept token values, arrival pattern, and its bill
/// when it was read with prices.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub requests: usize,
    pub malformed: usize,
    /// The first few malformed lines.
    pub errors: Vec<LineError>,
    /// Files read.
    pub files: usize,
    pub labels: BTreeMap<String, LabelTally>,
    /// Requests per hour of day (UTC).
    pub by_hour: [usize; 24],
    /// The arrival pattern over the week: see [`Arrivals`].
    pub arrivals: Arrivals,
    pub timestamped: usize,
    pub first: Option<f64>,
    pub last: Option<f64>,
    /// The log's own cost at catalog prices (read with prices only).
    pub bill: Option<Bill>,
}

/// Arrival counts a log's timestamps give, bounded: per hour of the week
/// (Monday 00:00 UTC first), the days seen, and per minute (for the
/// busiest minute; at most [`Arrivals::MAX_MINUTES`] distinct minutes,
/// about four years, are kept).
#[derive(Debug, Clone, Default)]
pub struct Arrivals {
    /// 168 counts once a timestamp is seen.
    pub week_hours: Vec<usize>,
    pub days: std::collections::BTreeSet<i64>,
    pub minutes: std::collections::HashMap<i64, u32>,
    /// More distinct minutes than kept: no busiest-minute figure.
    pub minutes_overflow: bool,
}

impl Arrivals {
    pub const MAX_MINUTES: usize = 1 << 21;
    pub const MAX_DAYS: usize = 100_000;

    /// Counts a request at `ts` seconds since the Unix epoch.
    pub fn add(&mut self, ts: f64) {
        if !ts.is_finite() {
            return;
        }
        if self.week_hours.is_empty() {
            self.week_hours = vec![0; 168];
        }
        let day = (ts / 86_400.0).floor() as i64;
        // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
        let weekday = (day + 3).rem_euclid(7) as usize;
        let hour = (ts.rem_euclid(86_400.0) / 3600.0) as usize % 24;
        self.week_hours[weekday * 24 + hour] += 1;
        if self.days.len() < Self::MAX_DAYS {
            self.days.insert(day);
        }
        let minute = (ts / 60.0).floor() as i64;
        if let Some(n) = self.minutes.get_mut(&minute) {
            *n += 1;
        } else if self.minutes.len() < Self::MAX_MINUTES {
            self.minutes.insert(minute, 1);
        } else {
            self.minutes_overflow = true;
        }
    }

    /// The daily shape, the weekend factor and the busiest minute's burst,
    /// when the log spans at least a day and holds at least 240
    /// timestamped requests.
    pub fn shape(&self, timestamped: usize, span_seconds: Option<f64>) -> Option<DerivedShape> {
        if self.week_hours.len() != 168 {
            return None;
        }
        let weekend = |d: &i64| (d + 3).rem_euclid(7) >= 5;
        let weekend_days = self.days.iter().filter(|d| weekend(d)).count();
        let weekday_days = self.days.len() - weekend_days;
        // The busiest hour (most requests; of equals, the burstier), and
        // its busiest minute.
        let busiest = (!self.minutes_overflow && !self.minutes.is_empty()).then(|| {
            let mut by_hour: std::collections::HashMap<i64, (u64, u32)> = Default::default();
            for (&m, &n) in &self.minutes {
                let e = by_hour.entry(m.div_euclid(60)).or_default();
                e.0 += n as u64;
                e.1 = e.1.max(n);
            }
            by_hour.values().copied().max().unwrap_or((0, 0))
        });
        let mut week = [0usize; 168];
        week.copy_from_slice(&self.week_hours);
        shape_from(
            &week,
            (weekday_days, weekend_days),
            busiest.map(|(t, p)| (t, p as u64)),
            timestamped,
            span_seconds,
        )
    }
}

/// The shape of traffic from its counts per hour of the week (Monday 00:00
/// UTC first), the weekday and weekend days seen, and the busiest hour's
/// requests and busiest minute: `None` below 240 timestamped requests or a
/// day of span. Shared by a log read directly and the aggregate query.
pub fn shape_from(
    week_hours: &[usize; 168],
    (weekday_days, weekend_days): (usize, usize),
    busiest_hour: Option<(u64, u64)>,
    timestamped: usize,
    span_seconds: Option<f64>,
) -> Option<DerivedShape> {
    if timestamped < 240 || span_seconds.is_none_or(|s| s < 86_400.0) {
        return None;
    }
    let (weekday_days, weekend_days) = (weekday_days as f64, weekend_days as f64);
    let mut weekday = [0.0; 24];
    let mut all = [0.0; 24];
    let (mut wd_total, mut we_total) = (0.0, 0.0);
    for (i, &n) in week_hours.iter().enumerate() {
        let (day, h) = (i / 24, i % 24);
        all[h] += n as f64;
        if day < 5 {
            weekday[h] += n as f64;
            wd_total += n as f64;
        } else {
            we_total += n as f64;
        }
    }
    let hours = if wd_total > 0.0 { weekday } else { all };
    let mean = hours.iter().sum::<f64>() / 24.0;
    let daily = hours.map(|x| if mean > 0.0 { x / mean } else { 1.0 });
    let weekend_factor = (weekday_days > 0.0 && weekend_days > 0.0 && wd_total > 0.0)
        .then(|| (we_total / weekend_days) / (wd_total / weekday_days));
    let peak_minute_factor = busiest_hour
        .filter(|(total, _)| *total > 0)
        .map(|(total, peak)| peak as f64 / (total as f64 / 60.0));
    Some(DerivedShape {
        daily,
        weekend_factor,
        peak_minute_factor,
    })
}

/// When a log's requests arrive, as a scenario's `volume.shape` states it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedShape {
    /// Weekday hourly weights (UTC), mean 1 (all days' when the log has
    /// no weekday).
    pub daily: [f64; 24],
    /// A weekend day's requests over a weekday's, when the log has both.
    pub weekend_factor: Option<f64>,
    /// The busiest hour's busiest minute over that hour's average minute.
    /// With few requests a minute it includes their Poisson noise.
    pub peak_minute_factor: Option<f64>,
}

impl Log {
    /// The first malformed line in words: `line 8: ...`, or with its file
    /// when the log spans several.
    pub fn first_error(&self) -> Option<String> {
        self.errors.first().map(|e| {
            if self.files > 1 {
                format!("{} line {}: {}", e.file.display(), e.line, e.message)
            } else {
                format!("line {}: {}", e.line, e.message)
            }
        })
    }
}

/// How to read a log.
pub struct ReadOptions<'a> {
    pub format: LogFormat,
    /// The `requestMetadata` key holding the task label.
    pub task_tag: &'a str,
    /// Stop at the first malformed line instead of skipping it.
    pub strict: bool,
    /// Price each call at these catalog rates while reading.
    pub prices: Option<Prices<'a>>,
    /// Called now and then with (compressed) bytes read and the total.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

impl<'a> ReadOptions<'a> {
    pub fn new(format: LogFormat, task_tag: &'a str) -> Self {
        ReadOptions {
            format,
            task_tag,
            strict: false,
            prices: None,
            progress: None,
        }
    }
}

/// The catalog a log's own bill is priced at.
pub struct Prices<'a> {
    pub catalog: &'a Catalog,
    /// Profile of calls whose model id names none.
    pub default_profile: &'a str,
    pub map: &'a ModelMap,
}

fn fail(path: &Path, line: Option<usize>, msg: String) -> Error {
    Error::in_file_at(path, line, msg)
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

/// Reads a log: a file, or every log file under a folder (see [`files`]),
/// plain or gzipped, as a stream.
pub fn read(path: &Path, opts: &ReadOptions<'_>) -> Result<Log> {
    if opts.format == LogFormat::AthenaAggregate {
        return Err(fail(
            path,
            None,
            "an aggregate holds no records to read one by one; load it (logs::load)".into(),
        ));
    }
    let files = files::log_files(path, opts.format)?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let mut state = State::new(opts);
    let mut done = 0;
    for file in &files {
        let reader = crate::input::gzip::open(file)
            .map_err(|e| fail(file, None, crate::input::describe_io(&e)))?;
        state.read_file(file, reader)?;
        done += std::fs::metadata(file).map_or(0, |m| m.len());
        if let Some(p) = opts.progress {
            p(done, total);
        }
    }
    state.finish(path, files.len())
}

/// A log's workloads, arrival pattern and bill, from the log itself or
/// from the aggregate query's result.
pub struct Loaded {
    pub derived: Derived,
    pub bill: Option<Bill>,
    /// Files read.
    pub files: usize,
    pub malformed: usize,
    /// The first malformed line in words.
    pub first_error: Option<String>,
    /// The most requests in one minute (aggregates only).
    pub peak_minute: Option<u64>,
}

/// Reads a log ([`read`], then [`derive()`]) or, for
/// [`LogFormat::AthenaAggregate`], the aggregate query's result.
pub fn load(path: &Path, opts: &ReadOptions<'_>) -> Result<Loaded> {
    if opts.format == LogFormat::AthenaAggregate {
        let a = sql::read_aggregate(path, opts.prices.as_ref())?;
        return Ok(Loaded {
            derived: a.derived,
            bill: a.bill,
            files: 1,
            malformed: 0,
            first_error: None,
            peak_minute: a.peak_minute,
        });
    }
    let log = read(path, opts)?;
    Ok(Loaded {
        derived: derive(&log),
        first_error: log.first_error(),
        files: log.files,
        malformed: log.malformed,
        bill: log.bill,
        peak_minute: None,
    })
}

/// Parses one log file's bytes (`path` names it in messages). Never panics
/// on any input (a fuzz target checks).
pub fn parse(path: &Path, bytes: &[u8], opts: &ReadOptions<'_>) -> Result<Log> {
    let mut state = State::new(opts);
    state.read_file(path, std::io::BufReader::new(bytes))?;
    state.finish(path, 1)
}

/// A log being read.
struct State<'o, 'a> {
    opts: &'o ReadOptions<'a>,
    log: Log,
    /// Resolutions of the model ids seen so far.
    resolved: HashMap<String, Resolution>,
    bill: BillTally,
    /// Whether every line so far was blank.
    blank: bool,
}

impl<'o, 'a> State<'o, 'a> {
    fn new(opts: &'o ReadOptions<'a>) -> Self {
        State {
            opts,
            log: Log::default(),
            resolved: HashMap::new(),
            bill: BillTally::default(),
            blank: true,
        }
    }

    fn bad(&mut self, file: &Path, line: usize, msg: String) -> Result<()> {
        if self.opts.strict {
            let mut e = fail(file, Some(line), msg);
            for d in &mut e.diagnostics {
                d.remedy = Some(crate::error::Remedy::Strict);
            }
            return Err(e);
        }
        self.log.malformed += 1;
        if self.log.errors.len() < 5 {
            self.log.errors.push(LineError {
                file: file.to_path_buf(),
                line,
                message: msg,
            });
        }
        Ok(())
    }

    fn read_file(&mut self, file: &Path, mut reader: impl BufRead) -> Result<()> {
        match self.opts.format {
            LogFormat::BedrockInvocationLog => {
                let mut buf = Vec::new();
                let mut line_no = 0;
                loop {
                    buf.clear();
                    line_no += 1;
                    let read = match read_line(&mut reader, &mut buf) {
                        Ok(r) => r,
                        Err(e) => {
                            // A file cut short: what was read stays.
                            let msg = format!(
                                "{} (after {} line(s) of this file, which are kept)",
                                crate::input::gzip::describe(&e),
                                line_no - 1
                            );
                            return self.bad(file, line_no, msg);
                        }
                    };
                    match read {
                        Line::End => break,
                        Line::TooLong => {
                            self.blank = false;
                            self.bad(
                                file,
                                line_no,
                                format!("line longer than {MAX_LINE_BYTES} bytes"),
                            )?;
                        }
                        Line::Read => {
                            let Ok(text) = std::str::from_utf8(&buf) else {
                                self.blank = false;
                                self.bad(file, line_no, "not UTF-8 text".into())?;
                                continue;
                            };
                            if text.trim().is_empty() {
                                continue;
                            }
                            self.blank = false;
                            match bedrock_record(text, self.opts.task_tag) {
                                Ok(r) => self.add(r),
                                Err(msg) => self.bad(file, line_no, msg)?,
                            }
                        }
                    }
                }
            }
            LogFormat::Csv => self.read_csv(file, reader)?,
            LogFormat::AthenaAggregate => {
                return Err(fail(
                    file,
                    None,
                    "an aggregate holds no records to read one by one".into(),
                ));
            }
        }
        Ok(())
    }

    fn read_csv(&mut self, path: &Path, reader: impl BufRead) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|h| h.trim().to_ascii_lowercase()).collect(),
            Err(e) => return Err(fail(path, Some(1), format!("not a CSV file: {e}"))),
        };
        if header.iter().all(String::is_empty) {
            return Ok(());
        }
        self.blank = false;
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
                    self.bad(path, line_no, format!("bad CSV record: {e}"))?;
                    continue;
                }
            };
            let int = |i: Option<usize>| -> std::result::Result<u64, String> {
                match i.and_then(|i| rec.get(i)).map(str::trim) {
                    None | Some("") => Ok(0),
                    Some(v) => v.parse::<u64>().map_err(|_| {
                        format!("`{v}` is not a token count; expected a whole number, 0 or more")
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
                Ok(r) => self.add(r),
                Err(msg) => self.bad(path, line_no, msg)?,
            }
        }
        Ok(())
    }

    /// Folds one record into the tallies (and the bill).
    fn add(&mut self, r: Record) {
        let log = &mut self.log;
        log.requests += 1;
        let model = r
            .model_id
            .clone()
            .unwrap_or_else(|| NO_MODEL_ID.to_string());
        let label = r.task.clone().unwrap_or_else(|| "unlabelled".into());
        let label = log.labels.entry(label).or_default();
        let prefix = r.cache_read + r.cache_write;
        let t = if prefix > 0 {
            &mut label.cached
        } else {
            &mut label.uncached
        };
        t.requests += 1;
        t.input.push(r.input as f64);
        t.output.push(r.output as f64);
        t.read_tokens += r.cache_read;
        t.write_tokens += r.cache_write;
        *t.by_model.entry(model).or_default() += 1;
        if let Some(ts) = r.timestamp {
            log.timestamped += 1;
            log.by_hour[(ts.rem_euclid(86_400.0) / 3600.0) as usize % 24] += 1;
            log.arrivals.add(ts);
            log.first = Some(log.first.map_or(ts, |f| f.min(ts)));
            log.last = Some(log.last.map_or(ts, |l| l.max(ts)));
        }
        if let Some(prices) = &self.opts.prices {
            self.bill.add(prices, &mut self.resolved, &r);
        }
    }

    fn finish(self, path: &Path, files: usize) -> Result<Log> {
        let mut log = self.log;
        log.files = files;
        if log.requests == 0 {
            let what = match self.opts.format {
                LogFormat::BedrockInvocationLog => {
                    "Bedrock model invocation log records (one JSON object per line)"
                }
                LogFormat::Csv => "CSV rows of task, input_tokens, output_tokens",
                LogFormat::AthenaAggregate => "aggregate rows",
            };
            let msg = if self.blank && log.malformed == 0 {
                if files > 1 {
                    format!("the {files} log files are empty; expected {what}")
                } else {
                    format!("file is empty; expected {what}")
                }
            } else {
                format!(
                    "no usable records ({} malformed line(s){}); expected {what}",
                    log.malformed,
                    log.first_error()
                        .map(|e| format!(", first: {e}"))
                        .unwrap_or_default()
                )
            };
            return Err(fail(path, None, msg));
        }
        if let Some(prices) = &self.opts.prices {
            log.bill = Some(self.bill.finish(prices.catalog));
        }
        Ok(log)
    }
}

/// The label `by_model` uses for records without a `modelId`.
pub const NO_MODEL_ID: &str = "(no modelId)";

enum Line {
    Read,
    TooLong,
    End,
}

/// Reads one line (without its newline) into `buf`, holding at most
/// [`MAX_LINE_BYTES`]: the rest of a longer line is read past, not kept.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    use std::io::Read;
    let n = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Ok(Line::Read);
    }
    if buf.len() > MAX_LINE_BYTES {
        // Skip to the end of the line without keeping it.
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                }
            }
        }
        buf.clear();
        return Ok(Line::TooLong);
    }
    Ok(Line::Read)
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

/// One workload derived from a log: the requests of one task label that
/// used no prompt cache, or those that did (a label with both gives two
/// workloads, so each keeps its own tokens, models and cache behaviour).
#[derive(Debug, Clone, Serialize)]
pub struct DerivedWorkload {
    /// A workload name: the label in letters, digits, '-' and '_', with
    /// `-cached` for the cached part of a label that has both.
    pub name: String,
    /// The task label (or `unlabelled`).
    pub label: String,
    pub requests: usize,
    pub share: f64,
    /// Input tokens per request, not counting the cached prefix (values of
    /// an empirical distribution).
    pub input_tokens: Vec<f64>,
    /// Their weights; empty when every value counts once (a log read whole
    /// or sampled; an aggregate gives its histogram's counts).
    pub input_weights: Vec<f64>,
    pub output_tokens: Vec<f64>,
    pub output_weights: Vec<f64>,
    /// Mean cached prefix of the requests (0 for the uncached part).
    pub prefix_tokens: f64,
    /// Share of the workload's requests that used the cache (1 or 0).
    pub cached_share: f64,
    /// Share of the cached prefix tokens read rather than written: with
    /// `prefix_tokens`, what the log's cache reads and writes cost.
    pub hit_rate: f64,
    /// Requests per logged model id.
    pub models: BTreeMap<String, usize>,
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
    /// The traffic shape the timestamps give (logs read directly only).
    pub shape: Option<DerivedShape>,
}

/// A workload name from a log label: letters, digits, '-' and '_' (60 at
/// most); `unlabelled` for an empty label or `default` (a rules keyword).
fn workload_name(label: &str) -> String {
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    if name.is_empty() || name == "default" {
        "unlabelled".into()
    } else {
        name
    }
}

/// A label's cached or uncached requests, as a log or an aggregate gives
/// them: what one derived workload is made of.
struct PartSummary {
    requests: usize,
    read: u64,
    write: u64,
    by_model: BTreeMap<String, usize>,
    /// Token counts as (values, weights); no weights: each value once.
    input: (Vec<f64>, Vec<f64>),
    output: (Vec<f64>, Vec<f64>),
}

/// The workloads of each label's parts (uncached, cached), in label order:
/// named after the label, `-cached` for the cached part of a label that
/// has both.
fn workloads_of(
    labels: Vec<(String, [Option<PartSummary>; 2])>,
    total: usize,
) -> Vec<DerivedWorkload> {
    let mut used = std::collections::BTreeSet::new();
    let mut workloads = Vec::new();
    for (label, parts) in labels {
        let both = parts.iter().all(Option::is_some);
        for (cached, part) in [false, true].into_iter().zip(parts) {
            let Some(p) = part else { continue };
            let mut name = workload_name(&label);
            if both && cached {
                name.push_str("-cached");
            }
            while !used.insert(name.clone()) {
                name.push('_');
            }
            let prefix = p.read + p.write;
            workloads.push(DerivedWorkload {
                name,
                label: label.clone(),
                requests: p.requests,
                share: p.requests as f64 / total as f64,
                input_tokens: p.input.0,
                input_weights: p.input.1,
                output_tokens: p.output.0,
                output_weights: p.output.1,
                prefix_tokens: prefix as f64 / p.requests as f64,
                cached_share: if cached { 1.0 } else { 0.0 },
                hit_rate: if prefix == 0 {
                    0.0
                } else {
                    p.read as f64 / prefix as f64
                },
                models: p.by_model,
            });
        }
    }
    workloads
}

impl Derived {
    /// A derivation from its workloads and arrival counts: `span` seconds
    /// between the first and last of `timestamped` requests.
    fn assemble(
        requests: usize,
        malformed: usize,
        workloads: Vec<DerivedWorkload>,
        by_hour: [usize; 24],
        timestamped: usize,
        span: Option<f64>,
    ) -> Derived {
        let span = span.filter(|s| *s > 0.0 && timestamped >= 2);
        Derived {
            requests,
            malformed,
            workloads,
            span_seconds: span,
            requests_per_month: span
                .map(|s| timestamped as f64 / s * crate::calendar::MONTH_SECONDS),
            peak_to_average: (timestamped >= 24).then(|| {
                let max = *by_hour.iter().max().unwrap_or(&0) as f64;
                max / (timestamped as f64 / 24.0)
            }),
            by_hour,
            shape: None,
        }
    }
}

/// Derives workloads, mix, cache behaviour and arrival pattern.
pub fn derive(log: &Log) -> Derived {
    let part = |p: &PartTally| {
        (p.requests > 0).then(|| PartSummary {
            requests: p.requests,
            read: p.read_tokens,
            write: p.write_tokens,
            by_model: p.by_model.clone(),
            input: (p.input.values().to_vec(), Vec::new()),
            output: (p.output.values().to_vec(), Vec::new()),
        })
    };
    let labels = log
        .labels
        .iter()
        .map(|(label, t)| (label.clone(), [part(&t.uncached), part(&t.cached)]))
        .collect();
    let span = match (log.first, log.last) {
        (Some(lo), Some(hi)) => Some(hi - lo),
        _ => None,
    };
    let mut d = Derived::assemble(
        log.requests,
        log.malformed,
        workloads_of(labels, log.requests),
        log.by_hour,
        log.timestamped,
        span,
    );
    d.shape = log.arrivals.shape(log.timestamped, d.span_seconds);
    d
}

/// The log's own cost at catalog prices.
#[derive(Debug, Clone, Serialize)]
pub struct Bill {
    /// USD per catalog model key.
    pub by_model: BTreeMap<String, f64>,
    /// Per catalog model key, the profile multiplier its calls were billed
    /// at, weighted by cost (one profile: its multiplier).
    pub multiplier: BTreeMap<String, f64>,
    pub total_usd: f64,
    pub priced_requests: usize,
    /// Logged ids that could not be priced: requests, tokens, and why.
    pub unpriced: BTreeMap<String, Unpriced>,
    pub unpriced_requests: usize,
    /// Tokens (input, cache, output) of priced and of unpriced requests.
    pub priced_tokens: u64,
    pub unpriced_tokens: u64,
    /// The unpriced requests at the priced ones' average cost per token: a
    /// stated fallback, so the gap in the bill has a size.
    pub unpriced_estimate_usd: f64,
}

/// One logged model id that could not be priced.
#[derive(Debug, Clone, Serialize)]
pub struct Unpriced {
    pub requests: usize,
    pub tokens: u64,
    pub reason: String,
}

#[derive(Default)]
struct BillTally {
    by_model: BTreeMap<ModelId, crate::stats::Sum>,
    /// Cost at a profile multiplier of 1.
    unit: BTreeMap<ModelId, crate::stats::Sum>,
    priced_requests: usize,
    priced_tokens: u64,
    unpriced: BTreeMap<String, Unpriced>,
}

impl BillTally {
    fn add(&mut self, prices: &Prices<'_>, resolved: &mut HashMap<String, Resolution>, r: &Record) {
        let tokens = r.input + r.cache_read + r.cache_write + r.output;
        let id = r.model_id.as_deref().unwrap_or(NO_MODEL_ID);
        if !resolved.contains_key(id) {
            let res = match &r.model_id {
                None => Resolution::Unknown("the record has no modelId".into()),
                Some(m) => ids::resolve(prices.catalog, m, prices.map),
            };
            resolved.insert(id.to_string(), res);
        }
        match &resolved[id] {
            Resolution::Unknown(reason) => {
                let u = self.unpriced.entry(id.to_string()).or_insert(Unpriced {
                    requests: 0,
                    tokens: 0,
                    reason: reason.clone(),
                });
                u.requests += 1;
                u.tokens += tokens;
            }
            Resolution::Model(m, profile) => {
                let (unit, multiplier) = price_record(prices, *m, profile.as_deref(), r);
                self.by_model.entry(*m).or_default().add(unit * multiplier);
                self.unit.entry(*m).or_default().add(unit);
                self.priced_requests += 1;
                self.priced_tokens += tokens;
            }
        }
    }

    fn finish(self, catalog: &Catalog) -> Bill {
        let mut total = crate::stats::Sum::default();
        let mut by_model = BTreeMap::new();
        let mut multiplier = BTreeMap::new();
        for (m, sum) in &self.by_model {
            total.add(sum.value());
            let key = catalog.model(*m).key.clone();
            let unit = self.unit[m].value();
            multiplier.insert(
                key.clone(),
                if unit > 0.0 { sum.value() / unit } else { 1.0 },
            );
            by_model.insert(key, sum.value());
        }
        let total_usd = total.value();
        let unpriced_tokens: u64 = self.unpriced.values().map(|u| u.tokens).sum();
        let per_token = if self.priced_tokens > 0 {
            total_usd / self.priced_tokens as f64
        } else {
            0.0
        };
        Bill {
            by_model,
            multiplier,
            total_usd,
            priced_requests: self.priced_requests,
            unpriced_requests: self.unpriced.values().map(|u| u.requests).sum(),
            unpriced: self.unpriced,
            priced_tokens: self.priced_tokens,
            unpriced_tokens,
            unpriced_estimate_usd: unpriced_tokens as f64 * per_token,
        }
    }
}

/// One logged call at catalog rates, at a profile multiplier of 1, and the
/// multiplier of the profile it was billed under (prices scale with the
/// multiplier): cache reads and writes priced as the prefix of a call
/// (writes at the 5-minute rate), then the rest.
fn price_record(prices: &Prices<'_>, m: ModelId, profile: Option<&str>, r: &Record) -> (f64, f64) {
    let catalog = prices.catalog;
    let mult = catalog
        .model(m)
        .profile(
            profile.unwrap_or(prices.default_profile),
            &catalog.default_profile,
        )
        .map_or(1.0, |(_, k)| k);
    let pricing = catalog.pricing(m, 1.0);
    let mut cost = 0.0;
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
                    service: crate::catalog::pricing::ServiceTier::Standard,
                },
            )
            .total();
        }
    }
    let unit = cost
        + price_call(
            &pricing,
            &CallShape {
                input_tokens: r.input,
                output_tokens: r.output,
                prefix_tokens: 0,
                cache: None,
                ttl: Ttl::FiveMinutes,
                batch: false,
                service: crate::catalog::pricing::ServiceTier::Standard,
            },
        )
        .total();
    (unit, mult)
}

/// The log's own routing, for a derived scenario's `as-logged` policy:
/// per derived workload, the catalog models its requests went to and
/// each one's share of them (percent).
#[derive(Debug, Clone, Serialize)]
pub struct AsLogged {
    /// (workload name, [(catalog model key, percent)]), in workload order.
    pub routes: Vec<(String, Vec<(String, f64)>)>,
    /// Requests left out of the routing because their model id could not
    /// be resolved, by logged id.
    pub unresolved: BTreeMap<String, usize>,
}

/// What routing reproduces the log: each workload's requests to the
/// models the log sent them to, in the same shares (ids resolved as the
/// bill resolves them). Routing is drawn per request, independently of its
/// size: the reproduction is exact in expectation when, within a workload,
/// the log's choice of model did not depend on the request's size.
pub fn as_logged(derived: &Derived, catalog: &Catalog, map: &ModelMap) -> AsLogged {
    let mut unresolved = BTreeMap::new();
    let mut routes = Vec::new();
    for w in &derived.workloads {
        let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
        for (id, n) in &w.models {
            let res = if id == NO_MODEL_ID {
                Resolution::Unknown(String::new())
            } else {
                ids::resolve(catalog, id, map)
            };
            match res {
                Resolution::Model(m, _) => {
                    *by_key.entry(catalog.model(m).key.clone()).or_default() += n;
                }
                Resolution::Unknown(_) => *unresolved.entry(id.clone()).or_default() += n,
            }
        }
        let total: usize = by_key.values().sum();
        if total == 0 {
            continue;
        }
        let shares = by_key
            .into_iter()
            .map(|(k, n)| (k, n as f64 * 100.0 / total as f64))
            .collect();
        routes.push((w.name.clone(), shares));
    }
    AsLogged { routes, unresolved }
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
