//! Raw command-line flags, as clap parses them. Nothing outside `cli`
//! sees these types: [`super::plan`] turns them into a validated plan.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tiersim",
    version,
    about = "Simulate what LLM traffic will cost each month, what quality a routing policy gives up, and which policy is worth it - offline.",
    after_help = "Start with:  tiersim run scenarios/support-platform.yaml\n            tiersim init --template support-platform > my-scenario.yaml"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour on the terminal: auto (when writing to a terminal and NO_COLOR
    /// is unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and compare its policies.
    Run(RunArgs),
    /// Check scenario, catalog or quality-profile files without running them.
    Validate(ValidateArgs),
    /// Write an annotated starter scenario.
    Init(InitArgs),
    /// Price one call, broken down by component.
    Quote(QuoteArgs),
    /// List the models of a catalog with their prices (same as `pricing list`).
    Models(ModelsArgs),
    /// Catalog prices: list, show one model, import LiteLLM's price file.
    #[command(subcommand)]
    Pricing(PricingCommand),
    /// Re-run a scenario across values of one or two fields; find break-even points.
    Sweep(SweepArgs),
    /// Search routing designs for the cheapest within a quality budget; print the frontier.
    Optimize(OptimizeArgs),
    /// Rank uncertain inputs by how much they move a policy's total cost.
    Sensitivity(SensitivityArgs),
    /// How long credit pools last, and how much credit to ask for.
    Credits(CreditsArgs),
    /// Put the policies of several scenarios side by side.
    Compare(CompareArgs),
    /// Fit quality (capabilities, difficulties) to your own evaluation results.
    Calibrate(CalibrateArgs),
    /// Derive workloads from a request log, and price the log at catalog rates.
    Profile(ProfileArgs),
    /// Print the JSON Schema (draft-07) of scenario, catalog or quality files.
    Schema(SchemaArgs),
    /// A what-if page in the browser: change an assumption, see the figures answer.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Address to listen on. The default serves this machine only; another
    /// address lets anyone who can reach it run simulations.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Quality budget for the recommendation, in percentage points of loss
    /// against the baseline.
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "PP",
        default_value_t = 2.0
    )]
    pub max_quality_loss: f64,
    /// Where the page's "Write report" button writes the full report
    /// (as `tiersim run --out DIR` would); the page writes nowhere else.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into --out even if the directory was not created by tiersim.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Worker threads per simulation (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// No request log on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Scenario,
    Catalog,
    Quality,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    BedrockInvocationLog,
    Csv,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The log: Bedrock model invocation log (JSON lines) or CSV, plain or
    /// gzipped; or a folder of them (as `aws s3 sync` leaves Bedrock's delivery).
    #[arg(required_unless_present_any = ["sql", "from_aggregate"])]
    pub log: Option<PathBuf>,
    /// Print the SQL that computes this command's aggregates where the logs
    /// live (Athena / Trino), with the table definition, instead of reading a log.
    #[arg(long, value_enum, conflicts_with_all = ["log", "from_aggregate"])]
    pub sql: Option<SqlDialect>,
    /// Read the result of that SQL (CSV) instead of a log.
    #[arg(long, value_name = "FILE", conflicts_with = "log")]
    pub from_aggregate: Option<PathBuf>,
    /// Log format (default: from the name, .csv or .csv.gz is csv, anything else Bedrock).
    #[arg(long, value_enum)]
    pub format: Option<LogFormatArg>,
    /// The requestMetadata key with the task label.
    #[arg(long, default_value = "task")]
    pub task_tag: String,
    /// Catalog to price the log with (default: bedrock-2026-11).
    #[arg(long)]
    pub catalog: Option<String>,
    /// Inference profile of calls whose model id has no profile prefix.
    #[arg(long)]
    pub profile: Option<String>,
    /// Stop at the first malformed line.
    #[arg(long)]
    pub strict: bool,
    /// A logged model id (an application inference profile's ARN or id, a
    /// provisioned or custom model) → catalog model: ID=MODEL[@PROFILE] (repeatable).
    #[arg(long = "map", value_name = "ID=MODEL[@PROFILE]")]
    pub map: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    /// Amazon Athena (Trino SQL) over the logs in S3.
    Athena,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DuplicatesArg {
    Refuse,
    Mean,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Evaluation files: long CSV/JSONL (item, task, model, correct|score),
    /// wide CSV (one True/False column per model), or a Bedrock model
    /// evaluation job's output (its folder, or its *_output.jsonl files).
    pub evals: Vec<PathBuf>,
    /// Bedrock evaluation output: the metric that decides success (default:
    /// the only one, else Accuracy).
    #[arg(long, value_name = "NAME")]
    pub metric: Option<String>,
    /// Bedrock evaluation output: a score of at least this is a success
    /// (scores of exactly 0 or 1 are outcomes already).
    #[arg(long, value_name = "SCORE", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Two outcomes for one item and model: `refuse` (an error naming both
    /// lines, unless equal) or `mean`.
    #[arg(long, value_enum, default_value_t = DuplicatesArg::Refuse)]
    pub duplicates: DuplicatesArg,
    /// Solve from published accuracies instead (a YAML file of
    /// { accuracies: [{model, task, accuracy}], difficulty: {...} }).
    #[arg(long, value_name = "FILE", conflicts_with = "evals")]
    pub published: Option<PathBuf>,
    /// Eval task → task kind: PATTERN=KIND (`*` wildcards), or KIND for every task.
    #[arg(long = "task-kind", value_name = "PATTERN=KIND")]
    pub task_kind: Vec<String>,
    /// Eval model name → catalog model key: EVAL=KEY (repeatable).
    #[arg(long = "map", value_name = "EVAL=KEY")]
    pub map: Vec<String>,
    /// Logistic slope of the quality model (default: the catalog's, 0.1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.1)]
    pub slope: f64,
    /// Fix the outcome correlation instead of fitting it (1: common random numbers).
    #[arg(long, allow_negative_numbers = true, value_name = "RHO")]
    pub outcome_correlation: Option<f64>,
    /// Write the profile here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}

/// How to simulate: shared by every command that runs a scenario.
#[derive(Debug, Args)]
pub struct SimFlags {
    /// Override a scenario field, e.g. --set volume.requests_per_month=5000000
    /// or --set workloads.drafted-reply.share=0.4 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Replications: each draws every uncertain input once (default: the
    /// scenario's, else 200 when it has uncertain inputs, else 1).
    #[arg(long, allow_negative_numbers = true)]
    pub replications: Option<u32>,
    /// Random seed (overrides the scenario's).
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Simulate every request instead of the fast sampled path (slow at
    /// high volume; the reference the fast path is checked against).
    #[arg(long)]
    pub exact: bool,
    /// Fast path: sample requests per workload (more is slower and more precise).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "N",
        conflicts_with = "exact"
    )]
    pub samples: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Quantiles of the bands, e.g. 0.05,0.5,0.95.
    #[arg(long, value_name = "Q,Q,...", default_value = "0.1,0.5,0.9")]
    pub quantiles: String,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the results as files into this directory: data (Parquet,
    /// CSV, JSON), charts (SVG, PNG), report.html and run.json.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into --out even if the directory was not created by tiersim.
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// PATH=START..END:STEPS or PATH=v1,v2,...; give two for a grid.
    #[arg(long, required = true, value_name = "PATH=VALUES")]
    pub vary: Vec<String>,
    /// Quality budget for the break-even search, in percentage points.
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "PP",
        default_value_t = 2.0
    )]
    pub max_quality_loss: f64,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Most quality the design may lose against the baseline, overall, in
    /// percentage points.
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "PP",
        default_value_t = 2.0
    )]
    pub max_quality_loss: f64,
    /// NAME=PP: most quality one workload may lose against the baseline on
    /// that workload (repeatable).
    #[arg(long, value_name = "NAME=PP")]
    pub workload_limit: Vec<String>,
    /// Candidate models, comma-separated (default: every model the
    /// scenario's price profile offers).
    #[arg(long, value_delimiter = ',', value_name = "MODEL,...")]
    pub models: Option<Vec<String>>,
    /// Longest cascade to search (1 to 3; 1: single models only).
    #[arg(long, allow_negative_numbers = true, default_value_t = 3)]
    pub max_steps: i64,
    /// Run every candidate route on every workload (by default a cascade
    /// that bounds from shorter routes prove dominated is not run).
    #[arg(long)]
    pub exhaustive: bool,
    /// What the design minimises: the mean total cost over the horizon, or
    /// its 90th percentile over replications.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Mean)]
    pub objective: ObjectiveArg,
    /// The gate every searched cascade uses, as YAML, e.g. '{ recall: 0.9,
    /// false_alarm: 0.1, cost_usd: 0.0001 }' (default: the scenario's first
    /// cascade gate).
    #[arg(long, value_name = "YAML")]
    pub gate: Option<String>,
    /// Also write the scenario with the chosen design added as a policy
    /// named `optimized` to this file (YAML; comments are not kept).
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    Mean,
    P90,
}

#[derive(Debug, Args)]
pub struct SensitivityArgs {
    pub scenario: PathBuf,
    /// Policy to analyse (default: the cheapest within the quality budget).
    #[arg(long)]
    pub policy: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Args)]
pub struct CreditsArgs {
    pub scenario: PathBuf,
    /// Only this policy (default: all).
    #[arg(long)]
    pub policy: Option<String>,
    /// Confidence for run-out months and amounts (0.5 to 0.999).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.9)]
    pub confidence: f64,
    /// Months the requested credits should cover (default: the horizon).
    #[arg(long, allow_negative_numbers = true)]
    pub months: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two or more scenario files; differences are against the first.
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also print the month-by-month tables.
    #[arg(long)]
    pub monthly: bool,
    /// Quality budget for the recommendation, in percentage points of loss
    /// against the baseline.
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "PP",
        default_value_t = 2.0
    )]
    pub max_quality_loss: f64,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario, catalog or quality-profile files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Overrides to check along with each scenario.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Template to start from (see --list).
    #[arg(long)]
    pub template: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// List the templates.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CacheArg {
    Hit,
    Miss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TtlArg {
    #[value(name = "5m")]
    FiveMinutes,
    #[value(name = "1h")]
    OneHour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceTierArg {
    Standard,
    Priority,
    Flex,
}

#[derive(Debug, Args)]
pub struct QuoteArgs {
    /// Model key (e.g. claude-sonnet-4-5); `tiersim models` lists them.
    pub model: String,
    /// Input tokens of the call, the cacheable prefix included.
    #[arg(long, allow_negative_numbers = true)]
    pub input: u64,
    /// Output tokens of the call.
    #[arg(long, allow_negative_numbers = true)]
    pub output: u64,
    /// How many of the input tokens are a cacheable prefix.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub cached_prefix: Option<u64>,
    /// Whether the prefix was found in the cache (default: miss).
    #[arg(long, value_enum)]
    pub cache: Option<CacheArg>,
    /// Cache lifetime for a miss (written at the 5-minute or 1-hour rate).
    #[arg(long, value_enum)]
    pub ttl: Option<TtlArg>,
    /// Bill at batch rates.
    #[arg(long)]
    pub batch: bool,
    /// Service tier of the call (Bedrock's `service_tier`); the model must
    /// offer it. `MODEL:TIER` says the same.
    #[arg(long, value_enum, conflicts_with = "batch")]
    pub tier: Option<ServiceTierArg>,
    /// Inference profile (default: the catalog's, usually global).
    #[arg(long)]
    pub profile: Option<String>,
    /// Catalog name or file (default: bedrock-2026-11).
    #[arg(long)]
    pub catalog: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// The models of a catalog with their prices.
    List(ModelsArgs),
    /// One model as catalog YAML (or JSON): rates, profiles, limits, priors.
    Show(ShowArgs),
    /// Write a catalog from LiteLLM's model_prices_and_context_window.json.
    ImportLitellm(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub model: String,
    #[arg(long)]
    pub catalog: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// LiteLLM's JSON price file.
    pub file: PathBuf,
    /// Provider prefix of `litellm_provider` to import.
    #[arg(long, default_value = "bedrock")]
    pub provider: String,
    /// Only model ids matching this pattern (`*` wildcards), e.g. 'anthropic.claude-*'.
    #[arg(long, value_name = "PATTERN")]
    pub models: Option<String>,
    /// Model families to import, comma-separated (`nova,claude,llama`), or `all`.
    #[arg(long, value_name = "LIST", default_value = "nova,claude")]
    pub families: String,
    /// List every entry left out of the catalog, with why.
    #[arg(long, short)]
    pub verbose: bool,
    /// Inference profile whose price becomes the base rate.
    #[arg(long, default_value = "global")]
    pub profile: String,
    /// Catalog name.
    #[arg(long, default_value = "litellm-import")]
    pub name: String,
    /// Date the prices are as of (default: today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Copy quality priors and latency from this catalog where keys match.
    #[arg(long, default_value = "bedrock-2026-11")]
    pub priors_from: String,
    /// Write the catalog here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Catalog name or file (default: bedrock-2026-11).
    #[arg(long)]
    pub catalog: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
