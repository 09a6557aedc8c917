//! What the page's requests ask, answered: a list of `PATH=VALUE` settings
//! in, the results fragment, the scenario as YAML, or the full report out.
//!
//! A request may only set the page's own controls (so no request can name
//! another file: a catalog, a quality profile, a log); each setting is then
//! applied and validated exactly as `--set` is. The scenario file is read
//! once, at start; every request works on its own copy, so concurrent
//! requests share nothing but the output directory, whose writes take a lock.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_yaml::Value;

use crate::cli::analyses;
use crate::cli::outputs;
use crate::cli::plan::ServePlan;
use tiersim::analysis::outcome;
use tiersim::error::{Error, Origin, OriginNames, Remedy, Result};
use tiersim::input::yaml;
use tiersim::render::chart::run::figures_as;
use tiersim::render::export::provenance;
use tiersim::render::{html, json, live};
use tiersim::scenario::{Scenario, overrides};

/// Most settings one request may carry, and the longest one: far above
/// what the page sends (one per control), far below harm.
pub const MAX_SETTINGS: usize = 512;
pub const MAX_SETTING_BYTES: usize = 4096;

/// The scenario being served.
pub struct WhatIf {
    path: PathBuf,
    src: yaml::Source,
    doc: Value,
    pub controls: Vec<live::Control>,
    plan_sim: crate::cli::plan::Sim,
    budget: f64,
    /// Serialises writes into the output directory.
    writing: Mutex<()>,
}

/// A request the page cannot answer: the status and the message it shows.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn bad(message: String) -> Refusal {
        Refusal {
            status: 422,
            message,
        }
    }
}

/// The page's names for where a value came from: the setting as typed.
struct PageNames;

impl OriginNames for PageNames {
    fn name(&self, origin: &Origin) -> String {
        match origin {
            Origin::Override { raw } => format!("the setting {raw}"),
            other => tiersim::error::Words.name(other),
        }
    }

    fn remedy(&self, remedy: Remedy) -> String {
        tiersim::error::Words.remedy(remedy)
    }
}

fn refusal(e: &Error) -> Refusal {
    Refusal {
        status: if e.exit_code() == 2 { 422 } else { 500 },
        message: e.display_with(&PageNames).to_string(),
    }
}

/// One answer: the fragment and how long simulating and drawing took.
pub struct Answer {
    pub html: String,
    pub millis: f64,
}

impl WhatIf {
    /// Reads and validates the scenario (errors here are the command's:
    /// the server does not start on a file that does not load).
    pub fn load(plan: &ServePlan) -> Result<WhatIf> {
        let src = yaml::read_source(&plan.scenario)?;
        let s = Scenario::from_source(&src, &[])?;
        let doc = yaml::parse_value(&src)?;
        let controls = live::controls(&doc, &s);
        Ok(WhatIf {
            path: plan.scenario.clone(),
            src,
            doc,
            controls,
            plan_sim: plan.sim.clone(),
            budget: plan.max_quality_loss_pp,
            writing: Mutex::new(()),
        })
    }

    /// The settings of a request body: one `PATH=VALUE` per line, each
    /// PATH one of the page's controls.
    pub fn settings(&self, body: &str) -> std::result::Result<Vec<String>, Refusal> {
        let mut out = Vec::new();
        for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if out.len() == MAX_SETTINGS || line.len() > MAX_SETTING_BYTES {
                return Err(Refusal::bad(format!(
                    "error: at most {MAX_SETTINGS} settings of at most {MAX_SETTING_BYTES} bytes each"
                )));
            }
            let Some((path, _)) = line.split_once('=') else {
                return Err(Refusal::bad(format!(
                    "error: `{line}` is not a setting: expected PATH=VALUE, e.g. volume.requests_per_month=5000000"
                )));
            };
            let path = path.trim();
            if !self.controls.iter().any(|c| c.path == path) {
                let paths = self.controls.iter().map(|c| c.path.as_str());
                let hint = tiersim::input::suggest(path, paths)
                    .map(|p| format!("; did you mean `{p}`?"))
                    .unwrap_or_default();
                return Err(Refusal::bad(format!(
                    "error: `{path}` is not one of this page's controls{hint} (the page sets only the numbers it shows)"
                )));
            }
            out.push(line.to_string());
        }
        Ok(out)
    }

    /// The scenario with `sets` applied, validated.
    fn scenario(&self, sets: &[String]) -> std::result::Result<Scenario, Refusal> {
        Scenario::from_source(&self.src, sets).map_err(|e| refusal(&e))
    }

    /// Runs the scenario with `sets` as `tiersim run` would, with the
    /// recommendation, credits and capacity that come with it.
    fn outcome(
        &self,
        s: &Scenario,
    ) -> std::result::Result<(tiersim::sim::Run, outcome::Outcome, Vec<String>), Refusal> {
        let reps = analyses::replications(&self.plan_sim, s);
        let run = tiersim::sim::run(s, &analyses::options(&self.plan_sim, reps))
            .map_err(|e| refusal(&e))?;
        let (sim, budget) = (&self.plan_sim, self.budget);
        let o = tiersim::sim::on_threads(sim.threads, || {
            outcome::outcome(s, &run, &sim.quantiles, budget)
        })
        .map_err(|e| refusal(&e))?;
        let notes = analyses::notes(s, &o);
        Ok((run, o, notes))
    }

    /// The results fragment for `sets`.
    pub fn answer(&self, sets: &[String]) -> std::result::Result<Answer, Refusal> {
        let started = std::time::Instant::now();
        let s = self.scenario(sets)?;
        let (run, o, notes) = self.outcome(&s)?;
        let html = self
            .fragment(&s, &run, &o, &notes)
            .map_err(|e| refusal(&e))?;
        Ok(Answer {
            html,
            millis: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    fn fragment(
        &self,
        s: &Scenario,
        run: &tiersim::sim::Run,
        o: &outcome::Outcome,
        notes: &[String],
    ) -> Result<String> {
        let figures = figures_as(false, s, &o.projection, &o.credits)?;
        let prov = provenance::of(
            "serve",
            s,
            Vec::new(),
            run.replications,
            run.mode,
            &self.plan_sim.quantiles,
        );
        live::results(&html::ReportInput {
            scenario: s,
            projection: &o.projection,
            max_quality_loss_pp: self.budget,
            recommended: o.recommended,
            credits: &o.credits,
            notes,
            figures: &figures,
            provenance: &prov,
            capacity: o.capacity.as_ref(),
        })
    }

    /// The whole page, with the results of the scenario as written.
    pub fn page(&self) -> Result<String> {
        let results = self
            .answer(&[])
            .map_err(|r| {
                Error::failure(
                    r.message
                        .trim_start_matches("error: ")
                        .trim_end()
                        .to_string(),
                )
            })?
            .html;
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        live::page(&live::Page {
            scenario: &Scenario::from_source(&self.src, &[])?,
            controls: &self.controls,
            results: &results,
            download_name: format!("{stem}-what-if.yaml"),
            out_dir: self
                .plan_sim
                .out
                .as_ref()
                .map(|o| o.dir.display().to_string()),
            checked_as: "Each value is checked as tiersim run --set PATH=VALUE checks it".into(),
            no_out_dir: "Start tiersim serve with --out DIR to write reports".into(),
        })
    }

    /// The scenario file with `sets` applied, as YAML that `tiersim run`
    /// reproduces the page's figures from (checked before it is offered).
    pub fn yaml(&self, sets: &[String]) -> std::result::Result<String, Refusal> {
        self.scenario(sets)?;
        let mut doc = self.doc.clone();
        for raw in sets {
            overrides::apply(&mut doc, raw).map_err(|e| refusal(&e))?;
        }
        let body = serde_yaml::to_string(&doc).map_err(|e| Refusal {
            status: 500,
            message: format!("error: writing the scenario as YAML failed: {e}"),
        })?;
        let mut head = format!(
            "# {} as set in tiersim serve's page (tiersim {}); the original's comments are not kept.\n",
            self.path.display(),
            env!("CARGO_PKG_VERSION")
        );
        if sets.is_empty() {
            head.push_str("# No setting was changed.\n");
        }
        for raw in sets {
            head.push_str(&format!("# set: {raw}\n"));
        }
        Ok(head + &body)
    }

    /// Writes the full report for `sets` to the output directory named at
    /// start, as `tiersim run --out DIR` would, and says what it wrote.
    pub fn write(&self, sets: &[String]) -> std::result::Result<String, Refusal> {
        let Some(out) = &self.plan_sim.out else {
            return Err(Refusal {
                status: 409,
                message: "error: no output directory: start tiersim serve with --out DIR to write reports".into(),
            });
        };
        let s = self.scenario(sets)?;
        let (run, o, notes) = self.outcome(&s)?;
        let document = json::render(&json::document(
            &s,
            &o.projection,
            self.budget,
            notes.clone(),
            o.credits.clone(),
            o.provisioned.clone(),
            o.capacity.clone(),
        ));
        let _guard = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        outputs::run(
            out,
            &self.plan_sim,
            &outputs::RunResults {
                scenario: &s,
                scenario_path: &self.path,
                run: &run,
                projection: &o.projection,
                document_json: &document,
                recommended: o.recommended,
                max_quality_loss_pp: self.budget,
                credits: &o.credits,
                notes: &notes,
                capacity: o.capacity.as_ref(),
                command_line: Some(self.command_line(sets, &out.dir)),
            },
        )
        .map_err(|e| refusal(&e))?;
        Ok(format!(
            "Wrote the report for these settings to {} (report.html, charts, data, run.json).",
            out.dir.display()
        ))
    }

    /// The `tiersim run` command that writes the same report.
    fn command_line(&self, sets: &[String], dir: &Path) -> String {
        let mut args = vec![
            "tiersim".to_string(),
            "run".into(),
            self.path.display().to_string(),
        ];
        for raw in sets {
            args.push("--set".into());
            args.push(raw.clone());
        }
        if self.budget != 2.0 {
            args.push("--max-quality-loss".into());
            args.push(self.budget.to_string());
        }
        args.push("--out".into());
        args.push(dir.display().to_string());
        provenance::quoted(args)
    }

    pub fn scenario_path(&self) -> &Path {
        &self.path
    }
}
