//! The validated plan: raw flags turned once into what to do, with every
//! check on flag values done here. Past this point no clap type is seen.

use std::path::PathBuf;

use crate::cli::args::{self, CacheArg, Cli, Command, Format, TtlArg};
use crate::error::{Error, Result};
use crate::pricing::{CacheOutcome, Ttl};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
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

#[derive(Debug)]
pub struct RunPlan {
    pub scenario: PathBuf,
    pub sets: Vec<String>,
    pub output: Output,
    pub monthly: bool,
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub threads: Option<usize>,
    pub max_quality_loss_pp: f64,
    pub progress: bool,
    pub mode: crate::engine::Mode,
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
    pub profile: Option<String>,
    pub catalog: Option<String>,
    pub output: Output,
}

#[derive(Debug)]
pub enum Plan {
    Run(RunPlan),
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
}

pub fn plan(cli: Cli) -> Result<Plan> {
    Ok(match cli.command {
        Command::Run(a) => Plan::Run(run_plan(a)?),
        Command::Validate(a) => Plan::Validate {
            files: a.files,
            sets: a.set,
        },
        Command::Init(a) if a.list => Plan::ListTemplates,
        Command::Init(a) => Plan::Init {
            template: a.template,
            output: a.output,
            force: a.force,
        },
        Command::Quote(a) => Plan::Quote(quote_plan(a)?),
        Command::Models(a) => Plan::Models {
            catalog: a.catalog,
            output: a.format.into(),
        },
    })
}

fn run_plan(a: args::RunArgs) -> Result<RunPlan> {
    if !(a.max_quality_loss.is_finite() && (0.0..=100.0).contains(&a.max_quality_loss)) {
        return Err(Error::input(format!(
            "--max-quality-loss must be between 0 and 100 percentage points, got {}",
            a.max_quality_loss
        )));
    }
    if let Some(r) = a.replications
        && (r == 0 || r > crate::scenario::MAX_REPLICATIONS)
    {
        return Err(Error::input(format!(
            "--replications must be between 1 and {}, got {r}",
            crate::scenario::MAX_REPLICATIONS
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
        crate::engine::Mode::Exact
    } else {
        let samples = a.samples.unwrap_or(crate::engine::fast::DEFAULT_SAMPLES);
        if !(16..=1 << 24).contains(&samples) {
            return Err(Error::input(format!(
                "--samples must be between 16 and 16777216, got {samples}"
            )));
        }
        crate::engine::Mode::Fast { samples }
    };
    let output = Output::from(a.format);
    Ok(RunPlan {
        mode,
        scenario: a.scenario,
        sets: a.set,
        output,
        monthly: a.monthly,
        seed: a.seed,
        replications: a.replications,
        threads: a.threads,
        max_quality_loss_pp: a.max_quality_loss,
        progress: !a.quiet && output == Output::Table,
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
