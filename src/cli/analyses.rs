//! The commands that run scenarios: run, sweep, sensitivity, credits, compare.

use std::path::{Path, PathBuf};

use crate::cli::commands::emit;
use crate::cli::outputs;
use crate::cli::plan::{Output, RunPlan, Sim};
use crate::cli::progress::Progress;
use tiersim::analysis::projection::project_with;
use tiersim::analysis::{cheapest_within, outcome};
use tiersim::analysis::{compare as cmp, credits as cr, optimize as opt};
use tiersim::analysis::{sensitivity as sens, sweep as sw};
use tiersim::error::{Error, Result};
use tiersim::input::{suggest, yaml};
use tiersim::render::{json, terminal, whatif as report};
use tiersim::scenario::Scenario;
use tiersim::sim::{self, Run, RunOptions};

/// Replications to use: the flag, else the scenario's, else 200 when the
/// scenario has uncertain inputs (enough for stable P10/P90), else 1.
pub(crate) fn replications(sim: &Sim, s: &Scenario) -> u32 {
    sim.replications
        .unwrap_or_else(|| tiersim::sim::instance::default_replications(s))
}

fn load(path: &Path, sim: &Sim) -> Result<Scenario> {
    let mut s = Scenario::load(path, &sim.sets)?;
    if let Some(seed) = sim.seed {
        s.seed = seed;
    }
    Ok(s)
}

pub(crate) fn options(sim: &Sim, reps: u32) -> RunOptions<'static> {
    RunOptions {
        replications: reps,
        mode: sim.mode,
        threads: sim.threads,
        adapt_samples: !sim.fixed_samples,
        ..RunOptions::default()
    }
}

/// A scenario's text and the overrides a command re-running it applies
/// (`--set`, and `--seed` as `seed=N`), for commands that run variants of
/// the scenario rather than the scenario itself.
fn source_and_sets(path: &Path, sim: &Sim) -> Result<(yaml::Source, Vec<String>)> {
    let src = yaml::read_source(path)?;
    let mut sets = sim.sets.clone();
    if let Some(seed) = sim.seed {
        sets.push(format!("seed={seed}"));
    }
    Ok((src, sets))
}

/// The projection of a run, on the threads `--threads` allows.
fn project(
    s: &Scenario,
    run: &Run,
    sim: &Sim,
) -> Result<tiersim::analysis::projection::Projection> {
    sim::on_threads(sim.threads, || project_with(s, run, &sim.quantiles))
}

fn simulate(s: &Scenario, sim: &Sim, label: &str) -> Result<Run> {
    let reps = replications(sim, s);
    let progress = Progress::new(sim.quiet, label);
    let tick = |d: u64, t: u64| progress.tick(d, t);
    let run = sim::run(
        s,
        &RunOptions {
            progress: Some(&tick),
            ..options(sim, reps)
        },
    )?;
    progress.done();
    Ok(run)
}

/// Notes about a run a reader should see: the library's, and a hint when
/// uncertain inputs ran only once.
pub(crate) fn notes(s: &Scenario, o: &outcome::Outcome) -> Vec<String> {
    let mut notes: Vec<String> = o.notes.iter().map(tiersim::render::format::note).collect();
    let uncertain = tiersim::sim::instance::uncertain_params(s).len();
    if uncertain > 0 && o.projection.replications == 1 {
        notes.push(format!(
            "{uncertain} scenario input(s) are distributions but only 1 replication ran; use --replications 200 for bands"
        ));
    }
    notes
}

fn policy_index(s: &Scenario, run: &Run, name: &str) -> Result<usize> {
    run.policy_names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| {
            let names: Vec<&str> = run.policy_names.iter().map(String::as_str).collect();
            unknown_policy(name, s, &names)
        })
}

/// `--policy NAME` names no policy of the scenario.
fn unknown_policy(name: &str, s: &Scenario, names: &[&str]) -> Error {
    let mut msg = format!(
        "--policy: `{name}` is not a policy of scenario `{}`",
        s.name
    );
    match suggest(name, names.iter().copied()) {
        Some(x) => msg.push_str(&format!("; did you mean `{x}`? Policies: ")),
        None => msg.push_str("; policies: "),
    }
    msg.push_str(&names.join(", "));
    Error::input(msg)
}

pub fn run(p: RunPlan) -> Result<()> {
    let s = load(&p.scenario, &p.sim)?;
    let run = simulate(&s, &p.sim, "simulating replication-months")?;
    let o = sim::on_threads(p.sim.threads, || {
        outcome::outcome(&s, &run, &p.sim.quantiles, p.max_quality_loss_pp)
    })?;
    let notes = notes(&s, &o);
    let (projection, credits, verdicts) = (&o.projection, &o.credits, &o.provisioned);
    let document = json::render(&json::document(
        &s,
        projection,
        p.max_quality_loss_pp,
        notes.clone(),
        credits.clone(),
        verdicts.clone(),
        o.capacity.clone(),
    ));
    let printed = match p.output {
        Output::Json | Output::Csv => emit(&document),
        Output::Table => {
            let mut out = terminal::render(
                &s,
                projection,
                &terminal::TerminalOptions {
                    tighten_sampling: " (--samples N to tighten)".into(),
                    monthly: p.monthly,
                    max_quality_loss_pp: p.max_quality_loss_pp,
                    color: crate::cli::style::stdout_enabled(),
                },
                &notes,
            );
            if !credits.is_empty() {
                out.push('\n');
                out.push_str(&report::credits(credits, &s.credits));
            }
            if !verdicts.is_empty() {
                out.push('\n');
                out.push_str(&report::provisioned(verdicts));
            }
            if let Some(c) = &o.capacity {
                out.push('\n');
                out.push_str(&report::capacity(c));
            }
            emit(&out)
        }
    };
    printed?;
    if let Some(out) = &p.sim.out {
        outputs::run(
            out,
            &p.sim,
            &outputs::RunResults {
                scenario: &s,
                scenario_path: &p.scenario,
                run: &run,
                projection,
                document_json: &document,
                recommended: o.recommended,
                max_quality_loss_pp: p.max_quality_loss_pp,
                credits,
                notes: &notes,
                capacity: o.capacity.as_ref(),
                command_line: None,
            },
        )?;
    }
    Ok(())
}

pub fn sweep(
    path: &Path,
    varies: &[sw::Vary],
    budget: f64,
    output: Output,
    sim: &Sim,
) -> Result<()> {
    let (src, sets) = source_and_sets(path, sim)?;
    let progress = Progress::new(sim.quiet, "sweep points");
    let result = sw::sweep(
        &src,
        &sets,
        varies,
        budget,
        |s| options(sim, replications(sim, s)),
        |d, t| progress.tick(d as u64, t as u64),
    );
    progress.done();
    let result = result?;
    match output {
        Output::Json => emit(&json::to_pretty(&result)),
        Output::Csv => emit(&report::sweep_csv(&result)),
        Output::Table => emit(&report::sweep(&result)),
    }?;
    if let Some(out) = &sim.out {
        let s = load(path, sim)?;
        outputs::sweep(out, sim, path, &s, &result)?;
    }
    Ok(())
}

pub fn optimize(
    path: &Path,
    space: &opt::Space,
    budget: f64,
    write_scenario: Option<&Path>,
    output: Output,
    sim: &Sim,
) -> Result<()> {
    let (src, sets) = source_and_sets(path, sim)?;
    let progress = Progress::new(sim.quiet, "design-space runs");
    let result = opt::optimize(
        &src,
        &sets,
        space,
        budget,
        |s| options(sim, replications(sim, s)),
        |d, t| progress.tick(d as u64, t as u64),
    );
    progress.done();
    let result = result?;
    if let Some(file) = write_scenario {
        let text = format!(
            "# {} with the design `tiersim optimize` chose (policy `optimized`),\n# within {} pp of {}'s quality. Written by tiersim {}; comments of the original are not kept.\n{}",
            path.display(),
            result.max_quality_loss_pp,
            result.baseline,
            env!("CARGO_PKG_VERSION"),
            result.scenario_yaml
        );
        std::fs::write(file, text).map_err(|e| Error::write(file.display(), e))?;
    }
    match output {
        Output::Json => emit(&json::to_pretty(&result)),
        _ => emit(&tiersim::render::optimize::optimize(&result)),
    }?;
    if let Some(out) = &sim.out {
        let s = load(path, sim)?;
        let reps = replications(sim, &s);
        outputs::optimize(out, sim, path, &s, reps, &result)?;
    }
    Ok(())
}

pub fn sensitivity(path: &Path, policy: Option<&str>, output: Output, sim: &Sim) -> Result<()> {
    let s = load(path, sim)?;
    let reps = replications(sim, &s).max(2);
    let idx = match policy {
        Some(name) => s.policy_index(name).ok_or_else(|| {
            let names: Vec<&str> = s.policies.iter().map(|p| p.name.as_str()).collect();
            unknown_policy(name, &s, &names)
        })?,
        None => {
            // The policy a founder would pick: cheapest within the budget.
            let run = sim::run(&s, &options(sim, 1))?;
            let p = project(&s, &run, sim)?;
            cheapest_within(&p, 2.0).unwrap_or(s.baseline)
        }
    };
    let progress = Progress::new(sim.quiet, "sensitivity");
    progress.tick(0, 1);
    let result = sens::sensitivity(&s, idx, reps, || options(sim, 1))?;
    progress.done();
    match output {
        Output::Json | Output::Csv => emit(&json::to_pretty(&result)),
        Output::Table => emit(&report::sensitivity(&result)),
    }?;
    if let Some(out) = &sim.out {
        outputs::sensitivity(out, sim, path, &s, &result)?;
    }
    Ok(())
}

pub fn credits(
    path: &Path,
    policy: Option<&str>,
    confidence: f64,
    months: Option<usize>,
    output: Output,
    sim: &Sim,
) -> Result<()> {
    let s = load(path, sim)?;
    if let Some(m) = months
        && m > s.horizon_months as usize
    {
        return Err(Error::input(format!(
            "--months {m} is beyond the scenario's horizon of {} months",
            s.horizon_months
        )));
    }
    let run = simulate(&s, sim, "simulating replication-months")?;
    let months = months.unwrap_or(run.months);
    let which: Vec<usize> = match policy {
        Some(name) => vec![policy_index(&s, &run, name)?],
        None => (0..run.policy_names.len()).collect(),
    };
    let reports: Vec<cr::CreditReport> = which
        .into_iter()
        .map(|i| cr::report(&s.credits, &run, i, confidence, months))
        .collect();
    let document = json::to_pretty(&serde_json::json!({
        "scenario": s.name,
        "replications": run.replications,
        "pools": s.credits,
        "policies": reports,
    }));
    match output {
        Output::Json | Output::Csv => emit(&document),
        Output::Table => {
            let mut out = format!(
                "{} - credits over {} months, {} replication(s)\n",
                s.name, run.months, run.replications
            );
            out.push_str(&report::credits(&reports, &s.credits));
            emit(&out)
        }
    }?;
    if let Some(out) = &sim.out {
        let projection = project(&s, &run, sim)?;
        outputs::credits(
            out,
            sim,
            &outputs::CreditResults {
                scenario: &s,
                scenario_path: path,
                run: &run,
                projection: &projection,
                reports: &reports,
                document_json: &document,
            },
        )?;
    }
    Ok(())
}

pub fn compare(paths: &[PathBuf], output: Output, sim: &Sim) -> Result<()> {
    let mut projections = Vec::with_capacity(paths.len());
    let mut scenarios = Vec::with_capacity(paths.len());
    for path in paths {
        let s = load(path, sim)?;
        let run = simulate(&s, sim, &format!("simulating {}", path.display()))?;
        projections.push((path.display().to_string(), project(&s, &run, sim)?));
        scenarios.push((path.clone(), s, run.replications));
    }
    let c = cmp::compare(&projections);
    match output {
        Output::Json | Output::Csv => emit(&json::to_pretty(&c)),
        Output::Table => emit(&report::compare(&c)),
    }?;
    if let Some(out) = &sim.out {
        outputs::compare(out, sim, &scenarios, &c)?;
    }
    Ok(())
}
