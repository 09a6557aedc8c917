//! `--out DIR`: what each command writes as files. The formats live in
//! [`tiersim::render::export`], [`tiersim::render::chart`] and [`tiersim::render::html`]; this
//! module only decides which files a command writes, and writes `run.json`
//! last, listing them.

use std::path::{Path, PathBuf};

use crate::cli::plan::{OutPlan, Sim};
use tiersim::analysis::compare::Comparison;
use tiersim::analysis::credits::CreditReport;
use tiersim::analysis::optimize::Optimized;
use tiersim::analysis::projection::Projection;
use tiersim::analysis::sensitivity::Sensitivity;
use tiersim::analysis::sweep::Sweep;
use tiersim::error::Result;
use tiersim::render::chart;
use tiersim::render::export::provenance::{self, InputFile, Provenance};
use tiersim::render::export::{OutDir, frames, summary};
use tiersim::render::{html, json, optimize, whatif};
use tiersim::scenario::Scenario;
use tiersim::sim::Run;

/// The scenario file and the files it references (replayed log, quality
/// profile), hashed for provenance.
fn inputs(s: &Scenario, path: &Path) -> Result<Vec<InputFile>> {
    let mut out = vec![provenance::hash_file(path)?];
    for extra in s.referenced_files() {
        if extra.is_file() {
            out.push(provenance::hash_file(extra)?);
        }
    }
    Ok(out)
}

fn finish(mut dir: OutDir, mut prov: Provenance, quiet: bool) -> Result<()> {
    prov.files = dir.written().to_vec();
    prov.files.push("run.json".into());
    dir.write("run.json", json::to_pretty(&prov).as_bytes())?;
    if !quiet {
        eprintln!(
            "wrote {} files to {}: {}",
            dir.written().len(),
            dir.path().display(),
            dir.written().join(", ")
        );
    }
    Ok(())
}

fn write_figures(dir: &mut OutDir, figures: &[chart::Figure]) -> Result<()> {
    for f in figures {
        dir.write(&format!("{}.svg", f.name), f.svg.as_bytes())?;
        dir.write(&format!("{}.png", f.name), &f.png)?;
    }
    Ok(())
}

/// What `run` passes on.
pub struct RunResults<'a> {
    pub scenario: &'a Scenario,
    pub scenario_path: &'a Path,
    pub run: &'a Run,
    pub projection: &'a Projection,
    pub document_json: &'a str,
    pub recommended: Option<usize>,
    pub max_quality_loss_pp: f64,
    pub credits: &'a [CreditReport],
    pub notes: &'a [String],
    pub capacity: Option<&'a tiersim::analysis::capacity::Capacity>,
    /// The command that reproduces the files, when not this process's own
    /// (`tiersim serve` writes what `tiersim run --set ...` would).
    pub command_line: Option<String>,
}

pub fn run(out: &OutPlan, sim: &Sim, r: &RunResults<'_>) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    let s = r.scenario;
    let mut ledger = frames::ledger(s, r.run)?;
    dir.write("ledger.parquet", &frames::parquet(&mut ledger)?)?;
    dir.write("ledger.csv", &frames::csv(&mut ledger)?)?;
    let mut reps = frames::replications(r.run)?;
    dir.write("replications.parquet", &frames::parquet(&mut reps)?)?;
    dir.write("replications.csv", &frames::csv(&mut reps)?)?;
    if let Some(mut sessions) = frames::sessions(s, r.run)? {
        dir.write("sessions.parquet", &frames::parquet(&mut sessions)?)?;
        dir.write("sessions.csv", &frames::csv(&mut sessions)?)?;
    }
    let recommended = r
        .recommended
        .map(|i| r.projection.policies[i].name.as_str());
    dir.write(
        "summary.csv",
        summary::csv(r.projection, recommended).as_bytes(),
    )?;
    dir.write("summary.json", r.document_json.as_bytes())?;
    let figures = chart::run::figures(s, r.projection, r.credits)?;
    write_figures(&mut dir, &figures)?;
    let mut prov = provenance::of(
        "run",
        s,
        inputs(s, r.scenario_path)?,
        r.run.replications,
        r.run.mode,
        &sim.quantiles,
    );
    if let Some(c) = &r.command_line {
        prov.command_line = c.clone();
    }
    let page = html::render(&html::ReportInput {
        scenario: s,
        projection: r.projection,
        max_quality_loss_pp: r.max_quality_loss_pp,
        recommended: r.recommended,
        credits: r.credits,
        notes: r.notes,
        figures: &figures,
        provenance: &prov,
        capacity: r.capacity,
    })?;
    dir.write("report.html", page.as_bytes())?;
    finish(dir, prov, sim.quiet)
}

pub fn sweep(out: &OutPlan, sim: &Sim, path: &Path, s: &Scenario, result: &Sweep) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    dir.write("sweep.csv", whatif::sweep_csv(result).as_bytes())?;
    dir.write("sweep.json", json::to_pretty(result).as_bytes())?;
    write_figures(&mut dir, &chart::whatif::sweep(result)?)?;
    let prov = provenance::of(
        "sweep",
        s,
        inputs(s, path)?,
        result.replications,
        sim.mode,
        &sim.quantiles,
    );
    finish(dir, prov, sim.quiet)
}

/// `optimize --out`: the search as JSON, the frontier as CSV and a chart,
/// the chosen policy and the scenario with it added.
pub fn optimize(
    out: &OutPlan,
    sim: &Sim,
    path: &Path,
    s: &Scenario,
    replications: u32,
    result: &Optimized,
) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    dir.write("optimize.json", json::to_pretty(result).as_bytes())?;
    dir.write("frontier.csv", optimize::frontier_csv(result).as_bytes())?;
    dir.write("optimized-policy.yaml", result.policy_yaml.as_bytes())?;
    dir.write("optimized-scenario.yaml", result.scenario_yaml.as_bytes())?;
    write_figures(&mut dir, &chart::whatif::frontier(result)?)?;
    let prov = provenance::of(
        "optimize",
        s,
        inputs(s, path)?,
        replications,
        sim.mode,
        &sim.quantiles,
    );
    finish(dir, prov, sim.quiet)
}

pub fn sensitivity(
    out: &OutPlan,
    sim: &Sim,
    path: &Path,
    s: &Scenario,
    result: &Sensitivity,
) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    dir.write(
        "sensitivity.csv",
        whatif::sensitivity_csv(result).as_bytes(),
    )?;
    dir.write("sensitivity.json", json::to_pretty(result).as_bytes())?;
    if !result.inputs.is_empty() {
        write_figures(&mut dir, &[chart::whatif::tornado(result)?])?;
    }
    let prov = provenance::of(
        "sensitivity",
        s,
        inputs(s, path)?,
        result.replications,
        sim.mode,
        &sim.quantiles,
    );
    finish(dir, prov, sim.quiet)
}

pub struct CreditResults<'a> {
    pub scenario: &'a Scenario,
    pub scenario_path: &'a Path,
    pub run: &'a Run,
    pub projection: &'a Projection,
    pub reports: &'a [CreditReport],
    pub document_json: &'a str,
}

pub fn credits(out: &OutPlan, sim: &Sim, c: &CreditResults<'_>) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    dir.write("credits.csv", whatif::credits_csv(c.reports).as_bytes())?;
    dir.write("credits.json", c.document_json.as_bytes())?;
    if !c.reports.is_empty() && !c.scenario.credits.is_empty() {
        let figures = chart::run::figures(c.scenario, c.projection, c.reports)?;
        write_figures(
            &mut dir,
            &figures
                .into_iter()
                .filter(|f| f.name == "credits")
                .collect::<Vec<_>>(),
        )?;
    }
    let prov = provenance::of(
        "credits",
        c.scenario,
        inputs(c.scenario, c.scenario_path)?,
        c.run.replications,
        c.run.mode,
        &sim.quantiles,
    );
    finish(dir, prov, sim.quiet)
}

pub fn compare(
    out: &OutPlan,
    sim: &Sim,
    scenarios: &[(PathBuf, Scenario, u32)],
    result: &Comparison,
) -> Result<()> {
    let mut dir = OutDir::claim(&out.dir, out.force)?;
    dir.write("compare.json", json::to_pretty(result).as_bytes())?;
    dir.write("compare.csv", whatif::compare_csv(result).as_bytes())?;
    let mut all_inputs = Vec::new();
    for (path, s, _) in scenarios {
        all_inputs.extend(inputs(s, path)?);
    }
    let (_, first, reps) = &scenarios[0];
    let prov = provenance::of(
        "compare",
        first,
        all_inputs,
        *reps,
        sim.mode,
        &sim.quantiles,
    );
    finish(dir, prov, sim.quiet)
}
