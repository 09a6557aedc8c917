//! The validated plan: raw flags turned once into what to do, with every
//! check on flag values done here. Past this point no clap type is seen.

use std::path::PathBuf;

use crate::cli::args::{
    self, CacheArg, Cli, Command, Format, ObjectiveArg, SimFlags, TableFormat, TtlArg,
};
use tiersim::analysis::optimize::{self, Objective, Space};
use tiersim::analysis::sweep::{self, Vary};
use tiersim::catalog::pricing::{CacheOutcome, ServiceTier, Ttl};
use tiersim::error::{Error, Result};
use tiersim::scenario::MAX_REPLICATIONS;
use tiersim::sim::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
    Csv,
    Json,
}

impl From<Format> for Output {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => Output::Table,
            Format::Json => Output::Json,
        }
    }
}

impl From<TableFormat> for Output {
    fn from(f: TableFormat) -> Self {
        match f {
            TableFormat::Table => Output::Table,
            TableFormat::Csv => Output::Csv,
            TableFormat::Json => Output::Json,
        }
    }
}

/// How to simulate a scenario, for every command that runs one.
#[derive(Debug, Clone)]
pub struct Sim {
    pub sets: Vec<String>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub mode: Mode,
    pub threads: Option<usize>,
    pub quantiles: Vec<f64>,
    pub quiet: bool,
    /// The sample size was asked for explicitly (do not adapt it).
    pub fixed_samples: bool,
    /// Where to write result files (`--out`), if anywhere.
    pub out: Option<OutPlan>,
}

/// `--out DIR [--force]`.
#[derive(Debug, Clone)]
pub struct OutPlan {
    pub dir: PathBuf,
    pub force: bool,
}

/// `tiersim serve`.
#[derive(Debug)]
pub struct ServePlan {
    pub scenario: PathBuf,
    pub address: std::net::SocketAddr,
    pub open: bool,
    pub max_quality_loss_pp: f64,
    /// How each answer is simulated: the defaults of `run`, `--out` for
    /// the page's "Write report", `--threads`.
    pub sim: Sim,
    /// No request log on stderr.
    pub quiet: bool,
}

#[derive(Debug)]
pub struct RunPlan {
    pub scenario: PathBuf,
    pub sim: Sim,
    pub output: Output,
    pub monthly: bool,
    pub max_quality_loss_pp: f64,
}

#[derive(Debug)]
pub struct QuotePlan {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub prefix_tokens: u64,
    pub cache: Option<CacheOutcome>,
    pub ttl: Ttl,
    pub batch: bool,
    /// The tier `--tier` named (`None`: the model key's suffix, or standard).
    pub service: Option<ServiceTier>,
    pub profile: Option<String>,
    pub catalog: Option<String>,
    pub output: Output,
}

#[derive(Debug)]
pub enum Plan {
    Run(RunPlan),
    Serve(ServePlan),
    Validate {
        files: Vec<PathBuf>,
        sets: Vec<String>,
    },
    Init {
        template: Option<String>,
        output: Option<PathBuf>,
        force: bool,
    },
    ListTemplates,
    Quote(QuotePlan),
    Models {
        catalog: Option<String>,
        output: Output,
    },
    Sweep {
        scenario: PathBuf,
        varies: Vec<Vary>,
        max_quality_loss_pp: f64,
        output: Output,
        sim: Sim,
    },
    Optimize {
        scenario: PathBuf,
        space: Space,
        max_quality_loss_pp: f64,
        write_scenario: Option<PathBuf>,
        output: Output,
        sim: Sim,
    },
    Sensitivity {
        scenario: PathBuf,
        policy: Option<String>,
        output: Output,
        sim: Sim,
    },
    Credits {
        scenario: PathBuf,
        policy: Option<String>,
        confidence: f64,
        months: Option<usize>,
        output: Output,
        sim: Sim,
    },
    Compare {
        scenarios: Vec<PathBuf>,
        output: Output,
        sim: Sim,
    },
    Calibrate(CalibratePlan),
    Schema(tiersim::scenario::schema::Kind),
    ShowModel {
        model: String,
        catalog: Option<String>,
        output: Output,
    },
    ImportLitellm(ImportPlan),
    Profile {
        log: PathBuf,
        format: tiersim::logs::LogFormat,
        task_tag: String,
        catalog: Option<String>,
        profile: Option<String>,
        strict: bool,
        map: tiersim::logs::ModelMap,
    },
    /// `profile --sql athena`: print the table definition and the aggregate query.
    ProfileSql {
        task_tag: String,
    },
}

/// `--families nova,claude` (or `all`: `None`).
fn families(list: &str) -> Result<Option<Vec<String>>> {
    if list.trim().eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let names: Vec<String> = list
        .split(',')
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty())
        .collect();
    if names.is_empty()
        || names
            .iter()
            .any(|f| !f.chars().all(|c| c.is_ascii_lowercase()))
    {
        return Err(Error::input(format!(
            "--families {list:?}: give family names separated by commas (letters only), e.g. nova,claude or llama, or `all`"
        )));
    }
    Ok(Some(names))
}

/// `pricing import-litellm`, defaults resolved.
#[derive(Debug)]
pub struct ImportPlan {
    pub file: PathBuf,
    pub provider: String,
    pub models: Option<String>,
    /// Model families to import; `None`: every family.
    pub families: Option<Vec<String>>,
    /// List every skipped entry.
    pub verbose: bool,
    pub profile: String,
    pub name: String,
    /// The date the prices are as of (today, UTC, unless given).
    pub as_of: String,
    pub priors_from: String,
    pub out: Option<PathBuf>,
    pub force: bool,
}

#[derive(Debug)]
pub struct CalibratePlan {
    pub evals: Vec<PathBuf>,
    pub published: Option<PathBuf>,
    pub task_kinds: Vec<(String, tiersim::catalog::TaskKind)>,
    pub model_map: std::collections::BTreeMap<String, String>,
    pub slope: f64,
    pub outcome_correlation: Option<f64>,
    pub duplicates: tiersim::quality::calibrate::evals::Duplicates,
    pub scoring: tiersim::quality::calibrate::bedrock::Scoring,
    pub out: Option<PathBuf>,
    pub force: bool,
}

/// `--set` values must be `PATH=VALUE` (the library checks the rest).
fn check_sets(sets: &[String]) -> Result<()> {
    match sets.iter().find(|s| !s.contains('=')) {
        Some(raw) => Err(Error::input(format!(
            "--set {raw}: expected PATH=VALUE, e.g. --set volume.requests_per_month=5000000"
        ))),
        None => Ok(()),
    }
}

/// `--vary` values must be `PATH=SPEC` (the library checks the rest).
fn check_varies(varies: &[String]) -> Result<()> {
    match varies.iter().find(|s| !s.contains('=')) {
        Some(raw) => Err(Error::input(format!(
            "--vary {raw}: expected PATH=START..END:STEPS or PATH=v1,v2,..., e.g. --vary volume.growth.monthly_pct=0..10:6"
        ))),
        None => Ok(()),
    }
}

pub fn plan(cli: Cli) -> Result<Plan> {
    crate::cli::style::init(match cli.color {
        args::ColorArg::Auto => crate::cli::style::Choice::Auto,
        args::ColorArg::Always => crate::cli::style::Choice::Always,
        args::ColorArg::Never => crate::cli::style::Choice::Never,
    });
    Ok(match cli.command {
        Command::Run(a) => Plan::Run(run_plan(a)?),
        Command::Validate(a) => {
            check_sets(&a.set)?;
            Plan::Validate {
                files: a.files,
                sets: a.set,
            }
        }
        Command::Init(a) if a.list => Plan::ListTemplates,
        Command::Init(a) => Plan::Init {
            template: a.template,
            output: a.output,
            force: a.force,
        },
        Command::Quote(a) => Plan::Quote(quote_plan(a)?),
        Command::Models(a) | Command::Pricing(args::PricingCommand::List(a)) => Plan::Models {
            catalog: a.catalog,
            output: a.format.into(),
        },
        Command::Pricing(args::PricingCommand::Show(a)) => Plan::ShowModel {
            model: a.model,
            catalog: a.catalog,
            output: a.format.into(),
        },
        Command::Pricing(args::PricingCommand::ImportLitellm(a)) => {
            Plan::ImportLitellm(ImportPlan {
                file: a.file,
                provider: a.provider,
                models: a.models,
                families: families(&a.families)?,
                verbose: a.verbose,
                profile: a.profile,
                name: a.name,
                as_of: a.as_of.unwrap_or_else(today),
                priors_from: a.priors_from,
                out: a.out,
                force: a.force,
            })
        }
        Command::Sweep(a) if a.vary.is_empty() || a.vary.len() > 2 => {
            return Err(Error::input(
                "give one --vary (a line) or two (a grid), e.g. --vary volume.growth.monthly_pct=0..10:6",
            ));
        }
        Command::Sweep(a) => Plan::Sweep {
            scenario: a.scenario,
            varies: {
                check_varies(&a.vary)?;
                a.vary
                    .iter()
                    .map(|v| sweep::parse_vary(v))
                    .collect::<Result<_>>()?
            },
            max_quality_loss_pp: quality_budget(a.max_quality_loss)?,
            output: a.format.into(),
            sim: sim(a.sim, a.format != TableFormat::Table)?,
        },
        Command::Optimize(a) => {
            if !(1..=optimize::MAX_STEPS as i64).contains(&a.max_steps) {
                return Err(Error::input(format!(
                    "--max-steps must be 1 to {} (1: single models only), got {}",
                    optimize::MAX_STEPS,
                    a.max_steps
                )));
            }
            Plan::Optimize {
                scenario: a.scenario,
                space: Space {
                    models: a.models,
                    max_steps: a.max_steps as usize,
                    exhaustive: a.exhaustive,
                    workload_limits: a
                        .workload_limit
                        .iter()
                        .map(|raw| workload_limit(raw))
                        .collect::<Result<_>>()?,
                    gate: a.gate.as_deref().map(gate).transpose()?,
                    objective: match a.objective {
                        ObjectiveArg::Mean => Objective::Mean,
                        ObjectiveArg::P90 => Objective::P90,
                    },
                },
                max_quality_loss_pp: quality_budget(a.max_quality_loss)?,
                write_scenario: a.write_scenario,
                output: a.format.into(),
                sim: sim(a.sim, a.format == Format::Json)?,
            }
        }
        Command::Sensitivity(a) => Plan::Sensitivity {
            scenario: a.scenario,
            policy: a.policy,
            output: a.format.into(),
            sim: sim(a.sim, a.format == Format::Json)?,
        },
        Command::Credits(a) => {
            if !(a.confidence.is_finite() && (0.5..=0.999).contains(&a.confidence)) {
                return Err(Error::input(format!(
                    "--confidence must be between 0.5 and 0.999, got {}",
                    a.confidence
                )));
            }
            if a.months == Some(0) {
                return Err(Error::input("--months must be at least 1"));
            }
            Plan::Credits {
                scenario: a.scenario,
                policy: a.policy,
                confidence: a.confidence,
                months: a.months,
                output: a.format.into(),
                sim: sim(a.sim, a.format == Format::Json)?,
            }
        }
        Command::Calibrate(a) => Plan::Calibrate(calibrate_plan(a)?),
        Command::Serve(a) => Plan::Serve(serve_plan(a)?),
        Command::Schema(a) => Plan::Schema(match a.kind {
            args::SchemaKind::Scenario => tiersim::scenario::schema::Kind::Scenario,
            args::SchemaKind::Catalog => tiersim::scenario::schema::Kind::Catalog,
            args::SchemaKind::Quality => tiersim::scenario::schema::Kind::Quality,
        }),
        Command::Profile(a) if a.sql.is_some() => Plan::ProfileSql {
            task_tag: a.task_tag,
        },
        Command::Profile(a) => {
            let (log, format) = match (a.from_aggregate, a.log) {
                (Some(agg), _) => (agg, tiersim::logs::LogFormat::AthenaAggregate),
                (None, Some(log)) => {
                    let format = match a.format {
                        Some(args::LogFormatArg::Csv) => tiersim::logs::LogFormat::Csv,
                        Some(args::LogFormatArg::BedrockInvocationLog) => {
                            tiersim::logs::LogFormat::BedrockInvocationLog
                        }
                        None if log.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy().to_ascii_lowercase();
                            n.ends_with(".csv") || n.ends_with(".csv.gz")
                        }) =>
                        {
                            tiersim::logs::LogFormat::Csv
                        }
                        None => tiersim::logs::LogFormat::BedrockInvocationLog,
                    };
                    (log, format)
                }
                (None, None) => {
                    return Err(Error::input(
                        "give a log (a file or a folder), --from-aggregate FILE or --sql athena",
                    ));
                }
            };
            Plan::Profile {
                format,
                log,
                task_tag: a.task_tag,
                catalog: a.catalog,
                profile: a.profile,
                strict: a.strict,
                map: {
                    let mut map = tiersim::logs::ModelMap::default();
                    for m in &a.map {
                        map.add(m).map_err(|e| Error::input(format!("--map {e}")))?;
                    }
                    map
                },
            }
        }
        Command::Compare(a) => Plan::Compare {
            scenarios: a.scenarios,
            output: a.format.into(),
            sim: sim(a.sim, a.format == Format::Json)?,
        },
    })
}

/// `--workload-limit NAME=PP`.
/// `--gate YAML`: a cascade's gate mapping (checked against the scenario
/// by the search).
fn gate(raw: &str) -> Result<serde_yaml::Value> {
    match serde_yaml::from_str::<serde_yaml::Value>(raw) {
        Ok(v) if v.is_mapping() => Ok(v),
        Ok(_) => Err(Error::input(format!(
            "--gate wants a YAML mapping like '{{ recall: 0.9, false_alarm: 0.1 }}', got `{raw}`"
        ))),
        Err(e) => Err(Error::input(format!(
            "--gate is not valid YAML ({e}); it wants a mapping like '{{ recall: 0.9, false_alarm: 0.1 }}'"
        ))),
    }
}

fn workload_limit(raw: &str) -> Result<(String, f64)> {
    let bad = || {
        Error::input(format!(
            "--workload-limit wants NAME=PP (a workload and the most quality it may lose, in percentage points, from 0 to 100), e.g. drafted-reply=1, got `{raw}`"
        ))
    };
    let (name, pp) = raw.split_once('=').ok_or_else(bad)?;
    let pp: f64 = pp.trim().parse().map_err(|_| bad())?;
    if name.trim().is_empty() || !(pp.is_finite() && (0.0..=100.0).contains(&pp)) {
        return Err(bad());
    }
    Ok((name.trim().to_string(), pp))
}

fn quality_budget(pp: f64) -> Result<f64> {
    if pp.is_finite() && (0.0..=100.0).contains(&pp) {
        Ok(pp)
    } else {
        Err(Error::input(format!(
            "--max-quality-loss must be between 0 and 100 percentage points, got {pp}"
        )))
    }
}

fn sim(a: SimFlags, machine_output: bool) -> Result<Sim> {
    check_sets(&a.set)?;
    if let Some(r) = a.replications
        && (r == 0 || r > MAX_REPLICATIONS)
    {
        return Err(Error::input(format!(
            "--replications must be between 1 and {MAX_REPLICATIONS}, got {r}"
        )));
    }
    if let Some(t) = a.threads
        && (t == 0 || t > 1024)
    {
        return Err(Error::input(format!(
            "--threads must be between 1 and 1024, got {t}"
        )));
    }
    let mode = if a.exact {
        Mode::Exact
    } else {
        let samples = a.samples.unwrap_or(tiersim::sim::fast::DEFAULT_SAMPLES);
        if !(16..=tiersim::sim::fast::MAX_SAMPLES).contains(&samples) {
            return Err(Error::input(format!(
                "--samples must be between 16 and {}, got {samples}",
                tiersim::sim::fast::MAX_SAMPLES
            )));
        }
        Mode::Fast { samples }
    };
    let mut quantiles = Vec::new();
    for q in a.quantiles.split(',') {
        match q.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v < 1.0 => quantiles.push(v),
            _ => {
                return Err(Error::input(format!(
                    "--quantiles takes numbers strictly between 0 and 1, separated by commas, e.g. 0.1,0.5,0.9; got `{}`",
                    q.trim()
                )));
            }
        }
    }
    if quantiles.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::input(
            "--quantiles must be in increasing order, e.g. 0.1,0.5,0.9",
        ));
    }
    if let Some(dir) = &a.out {
        tiersim::render::export::OutDir::check(dir, a.force)?;
    }
    Ok(Sim {
        sets: a.set,
        replications: a.replications,
        seed: a.seed,
        mode,
        threads: a.threads,
        quantiles,
        quiet: a.quiet || machine_output,
        fixed_samples: a.samples.is_some(),
        out: a.out.map(|dir| OutPlan {
            dir,
            force: a.force,
        }),
    })
}

fn serve_plan(a: args::ServeArgs) -> Result<ServePlan> {
    let ip: std::net::IpAddr = match a.host.trim() {
        "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
        h => h.parse().map_err(|_| {
            Error::input(format!(
                "--host must be an IP address, e.g. 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface); got `{}`",
                a.host
            ))
        })?,
    };
    let flags = args::SimFlags {
        set: Vec::new(),
        replications: None,
        seed: None,
        exact: false,
        samples: None,
        threads: a.threads,
        quantiles: "0.1,0.5,0.9".into(),
        quiet: true,
        out: a.out,
        force: a.force,
    };
    Ok(ServePlan {
        scenario: a.scenario,
        address: std::net::SocketAddr::new(ip, a.port),
        open: a.open,
        max_quality_loss_pp: quality_budget(a.max_quality_loss)?,
        sim: sim(flags, true)?,
        quiet: a.quiet,
    })
}

fn run_plan(a: args::RunArgs) -> Result<RunPlan> {
    let output = Output::from(a.format);
    Ok(RunPlan {
        scenario: a.scenario,
        max_quality_loss_pp: quality_budget(a.max_quality_loss)?,
        monthly: a.monthly,
        sim: sim(a.sim, output != Output::Table)?,
        output,
    })
}

fn quote_plan(a: args::QuoteArgs) -> Result<QuotePlan> {
    let prefix = a.cached_prefix.unwrap_or(0);
    if prefix > a.input {
        return Err(Error::input(format!(
            "--cached-prefix ({prefix}) cannot exceed --input ({}); --input counts every input token, the prefix included",
            a.input
        )));
    }
    if a.cache.is_some() && a.cached_prefix.is_none() {
        return Err(Error::input(
            "--cache needs --cached-prefix N (how many input tokens are the cached prefix)",
        ));
    }
    let limit = 100_000_000;
    if a.input > limit || a.output > limit {
        return Err(Error::input(
            "--input and --output must be at most 100000000 tokens",
        ));
    }
    Ok(QuotePlan {
        service: a.tier.map(|t| match t {
            args::ServiceTierArg::Standard => ServiceTier::Standard,
            args::ServiceTierArg::Priority => ServiceTier::Priority,
            args::ServiceTierArg::Flex => ServiceTier::Flex,
        }),
        model: a.model,
        input_tokens: a.input,
        output_tokens: a.output,
        prefix_tokens: prefix,
        cache: match (a.cached_prefix, a.cache) {
            (None, _) => None,
            (Some(_), Some(CacheArg::Hit)) => Some(CacheOutcome::Hit),
            (Some(_), _) => Some(CacheOutcome::Miss),
        },
        ttl: match a.ttl {
            Some(TtlArg::OneHour) => Ttl::OneHour,
            _ => Ttl::FiveMinutes,
        },
        batch: a.batch,
        profile: a.profile,
        catalog: a.catalog,
        output: a.format.into(),
    })
}

fn calibrate_plan(a: args::CalibrateArgs) -> Result<CalibratePlan> {
    use tiersim::catalog::TaskKind;
    if a.evals.is_empty() && a.published.is_none() {
        return Err(Error::input(
            "give evaluation files (long CSV/JSONL or wide CSV), or --published FILE",
        ));
    }
    if !(a.slope.is_finite() && a.slope > 0.0 && a.slope <= 1.0) {
        return Err(Error::input(format!(
            "--slope must be greater than 0 and at most 1, got {}",
            a.slope
        )));
    }
    if let Some(r) = a.outcome_correlation
        && !(r.is_finite() && (0.0..=1.0).contains(&r))
    {
        return Err(Error::input(format!(
            "--outcome-correlation must be between 0 and 1, got {r}"
        )));
    }
    let kind = |s: &str| {
        TaskKind::parse(s.trim()).ok_or_else(|| {
            Error::input(format!(
                "--task-kind: `{}` is not a task kind; task kinds: {}",
                s.trim(),
                TaskKind::names()
            ))
        })
    };
    let mut task_kinds = Vec::new();
    for t in &a.task_kind {
        match t.split_once('=') {
            Some((pattern, k)) => task_kinds.push((pattern.trim().to_string(), kind(k)?)),
            None => task_kinds.push(("*".to_string(), kind(t)?)),
        }
    }
    let mut model_map = std::collections::BTreeMap::new();
    for m in &a.map {
        let Some((eval, key)) = m.split_once('=') else {
            return Err(Error::input(format!(
                "--map {m}: expected EVAL=KEY, e.g. --map gpt-4-1106-preview=claude-sonnet-4-5"
            )));
        };
        model_map.insert(eval.trim().to_string(), key.trim().to_string());
    }
    Ok(CalibratePlan {
        evals: a.evals,
        published: a.published,
        task_kinds,
        model_map,
        slope: a.slope,
        outcome_correlation: a.outcome_correlation,
        duplicates: match a.duplicates {
            args::DuplicatesArg::Refuse => tiersim::quality::calibrate::evals::Duplicates::Refuse,
            args::DuplicatesArg::Mean => tiersim::quality::calibrate::evals::Duplicates::Mean,
        },
        scoring: tiersim::quality::calibrate::bedrock::Scoring {
            metric: a.metric,
            threshold: match a.threshold {
                Some(t) if !(t.is_finite() && (0.0..=1.0).contains(&t)) => {
                    return Err(Error::input(format!(
                        "--threshold {t}: give a score between 0 and 1, e.g. --threshold 0.5"
                    )));
                }
                t => t,
            },
        },
        out: a.out,
        force: a.force,
    })
}

/// Today's date (UTC), for dating an import.
fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
