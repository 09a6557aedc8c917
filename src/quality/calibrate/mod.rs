//! Calibration: quality priors replaced by what your own evaluations show.
//!
//! `tiersim calibrate` reads per-item outcomes (see [`evals`]), fits the
//! quality model to them ([`fit`]: capabilities per model and task kind,
//! a difficulty per item, the outcome correlation), and writes a quality
//! profile ([`profile`]) a scenario can reference with `quality: FILE`. It
//! also solves for capabilities from published accuracies alone
//! ([`from_accuracies`]).

pub mod bedrock;
pub mod evals;
pub mod fit;
pub mod profile;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use serde::Deserialize;

use crate::catalog::TaskKind;
use crate::error::{Error, Result};
use crate::quality::sigmoid;
use profile::{BetaSpec, QualityProfile};

/// What to calibrate from, and how to name things.
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Vec<PathBuf>,
    /// (pattern, kind): eval tasks matching the pattern (`*` wildcards) map to the kind.
    pub task_kinds: Vec<(String, TaskKind)>,
    /// Eval model name → catalog model key.
    pub model_map: BTreeMap<String, String>,
    pub slope: f64,
    /// Fix the outcome correlation instead of fitting it.
    pub outcome_correlation: Option<f64>,
    /// Two outcomes for one item and model: refused, or their mean.
    pub duplicates: evals::Duplicates,
    /// Turning Bedrock evaluation scores into outcomes.
    pub scoring: bedrock::Scoring,
}

impl Default for Options {
    /// No files; tasks must name their kind; the catalog's slope (0.1); the
    /// outcome correlation fitted; duplicates refused; Bedrock scores of at
    /// least 0.5 on the only metric (else Accuracy) are successes.
    fn default() -> Self {
        Options {
            files: Vec::new(),
            task_kinds: Vec::new(),
            model_map: BTreeMap::new(),
            slope: 0.1,
            outcome_correlation: None,
            duplicates: evals::Duplicates::Refuse,
            scoring: bedrock::Scoring::default(),
        }
    }
}

/// Per (eval task, model) fit diagnostics.
#[derive(Debug, Clone)]
pub struct TaskFit {
    pub task: String,
    pub kind: TaskKind,
    pub items: usize,
    /// Per model: (observed accuracy, fitted accuracy), `None` if it answered no item.
    pub accuracy: Vec<Option<(f64, f64)>>,
    /// Share of items at least one model got right: (observed, fitted).
    pub oracle: (f64, f64),
    pub disagreements: usize,
}

pub struct Calibration {
    pub profile: QualityProfile,
    pub models: Vec<String>,
    pub tasks: Vec<TaskFit>,
    pub log_likelihood: f64,
    pub items: usize,
    pub iterations: usize,
    /// A few items the models disagree on.
    pub disagreement_examples: Vec<String>,
    /// Fitted difficulty spread (Beta concentration) and whether it sits
    /// at a bound of its search range.
    pub concentration: (f64, bool),
    /// What was read from Bedrock evaluation output, if any.
    pub bedrock: Option<bedrock::Summary>,
}

/// Fits a quality profile to evaluation files.
pub fn calibrate(opts: &Options) -> Result<Calibration> {
    let mut outcomes = Vec::new();
    let mut bedrock_summary = None;
    let (bedrock_files, other_files): (Vec<PathBuf>, Vec<PathBuf>) = opts
        .files
        .iter()
        .cloned()
        .partition(|f| bedrock::is_bedrock_output(f));
    if !bedrock_files.is_empty() {
        let (read, summary) = bedrock::read(&bedrock_files, &opts.scoring)?;
        outcomes.extend(read);
        bedrock_summary = Some(summary);
    }
    for f in &other_files {
        let read = evals::read_file(f, None)?;
        if read.is_empty() {
            return Err(Error::from(
                crate::error::Diagnostic::new(
                    "holds no outcomes (no rows after the header); expected one row per item and model, or per item with one True/False column per model",
                )
                .in_file(f),
            ));
        }
        outcomes.extend(read);
    }
    if outcomes.is_empty() {
        return Err(Error::input("no evaluation files given"));
    }
    let table = evals::table(&outcomes, opts.duplicates)?;
    // Task → kind.
    let mut kind_of = Vec::with_capacity(table.tasks.len());
    let mut unmapped = Vec::new();
    for t in &table.tasks {
        let k = opts
            .task_kinds
            .iter()
            .find(|(p, _)| crate::input::glob(p, t))
            .map(|(_, k)| *k)
            .or_else(|| TaskKind::parse(t));
        match k {
            Some(k) => kind_of.push(k),
            None => {
                unmapped.push(t.clone());
                kind_of.push(TaskKind::Reasoning);
            }
        }
    }
    if !unmapped.is_empty() {
        return Err(Error::from(
            crate::error::Diagnostic::new(format!(
                "unmapped: {}. Task kinds: {}",
                unmapped.join(", "),
                TaskKind::names()
            ))
            .with_remedy(crate::error::Remedy::MapTaskKinds),
        ));
    }
    let kinds: Vec<TaskKind> = {
        let mut k = kind_of.clone();
        k.sort();
        k.dedup();
        k
    };
    // Capabilities are fitted per evaluation task (so each task's accuracies
    // are reproduced), then summarised per task kind for the profile.
    let items: Vec<fit::Item> = table
        .items
        .iter()
        .map(|(t, _, obs)| fit::Item {
            task: *t,
            obs: obs
                .iter()
                .map(|&(model, y)| fit::Obs { model, y })
                .collect(),
        })
        .collect();
    let nm = table.models.len();
    let f = fit::fit(
        &items,
        nm,
        table.tasks.len(),
        opts.slope,
        opts.outcome_correlation.unwrap_or(0.5),
        opts.outcome_correlation.is_none(),
    );

    // Diagnostics per eval task: observed figures against the fitted
    // model's, with each item's difficulty drawn from the fitted Beta.
    let nodes = fit::beta_nodes(fit::MEAN_DIFFICULTY, f.concentration);
    let mut tasks = Vec::with_capacity(table.tasks.len());
    let mut examples = Vec::new();
    let mut fitted_accuracy = vec![vec![f64::NAN; table.tasks.len()]; nm];
    for (ti, task) in table.tasks.iter().enumerate() {
        let (mut obs_right, mut answered) = (vec![0.0; nm], vec![0usize; nm]);
        let (mut n, mut oracle_obs, mut disagree) = (0usize, 0.0, 0usize);
        let mut seen = vec![false; nm];
        for (t, id, obs) in &table.items {
            if *t != ti {
                continue;
            }
            n += 1;
            let mut any = false;
            for &(m, y) in obs {
                obs_right[m] += y;
                answered[m] += 1;
                seen[m] = true;
                any |= y >= 0.5;
            }
            oracle_obs += f64::from(u8::from(any));
            if obs.iter().any(|(_, y)| *y >= 0.5) && obs.iter().any(|(_, y)| *y < 0.5) {
                disagree += 1;
                if examples.len() < 5 {
                    examples.push(id.clone());
                }
            }
        }
        let caps: Vec<f64> = (0..nm).map(|m| f.capability[m][ti]).collect();
        let mut oracle_fit = 0.0;
        for (d, w) in &nodes {
            let ps: Vec<f64> = (0..nm)
                .filter(|&m| seen[m])
                .map(|m| sigmoid((caps[m] - d) / opts.slope))
                .collect();
            let max = ps.iter().cloned().fold(0.0, f64::max);
            let none = ps.iter().map(|p| 1.0 - p).product::<f64>();
            oracle_fit += w * (f.rho[ti] * max + (1.0 - f.rho[ti]) * (1.0 - none));
        }
        for m in 0..nm {
            if seen[m] {
                fitted_accuracy[m][ti] = nodes
                    .iter()
                    .map(|(d, w)| w * sigmoid((caps[m] - d) / opts.slope))
                    .sum();
            }
        }
        tasks.push(TaskFit {
            task: task.clone(),
            kind: kind_of[ti],
            items: n,
            accuracy: (0..nm)
                .map(|m| {
                    (answered[m] > 0)
                        .then(|| (obs_right[m] / answered[m] as f64, fitted_accuracy[m][ti]))
                })
                .collect(),
            oracle: (oracle_obs / n.max(1) as f64, oracle_fit),
            disagreements: disagree,
        });
    }

    // The profile, in catalog model keys where mapped: per task kind, the
    // capability that gives the model's fitted accuracy over all the kind's
    // items under the fitted difficulty distribution.
    let mut capabilities: BTreeMap<String, BTreeMap<TaskKind, f64>> = BTreeMap::new();
    for (m, name) in table.models.iter().enumerate() {
        let key = opts
            .model_map
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.clone());
        for kind in &kinds {
            let (mut acc, mut n) = (0.0, 0.0);
            for (ti, t) in tasks.iter().enumerate() {
                if t.kind == *kind && fitted_accuracy[m][ti].is_finite() {
                    acc += t.items as f64 * fitted_accuracy[m][ti];
                    n += t.items as f64;
                }
            }
            if n > 0.0 {
                let c = fit::capability_for_accuracy(acc / n, &nodes, opts.slope);
                capabilities
                    .entry(key.clone())
                    .or_default()
                    .insert(*kind, c);
            }
        }
    }
    // The outcome correlation that, with those capabilities, reproduces the
    // fitted share of items some model gets right, pooled over all tasks.
    let pooled_oracle: f64 = tasks
        .iter()
        .map(|t| t.items as f64 * t.oracle.1)
        .sum::<f64>()
        / tasks.iter().map(|t| t.items as f64).sum::<f64>().max(1.0);
    let pooled_caps: Vec<f64> = table
        .models
        .iter()
        .map(|name| {
            let key = opts
                .model_map
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.clone());
            capabilities
                .get(&key)
                .and_then(|k| k.values().next().copied())
                .unwrap_or(f64::NAN)
        })
        .collect();
    let oracle_at = |r: f64| -> f64 {
        nodes
            .iter()
            .map(|(d, w)| {
                let ps: Vec<f64> = pooled_caps
                    .iter()
                    .filter(|c| c.is_finite())
                    .map(|c| sigmoid((c - d) / opts.slope))
                    .collect();
                let max = ps.iter().cloned().fold(0.0, f64::max);
                let none = ps.iter().map(|p| 1.0 - p).product::<f64>();
                w * (r * max + (1.0 - r) * (1.0 - none))
            })
            .sum()
    };
    // The share falls as the correlation rises: bisect.
    let profile_rho = match opts.outcome_correlation {
        Some(r) => r,
        None => {
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if oracle_at(mid) > pooled_oracle {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        }
    };
    let difficulty = kinds
        .iter()
        .map(|k| {
            (
                *k,
                BetaSpec {
                    beta: profile::BetaParams {
                        mean: fit::MEAN_DIFFICULTY,
                        concentration: f.concentration,
                    },
                },
            )
        })
        .collect();
    let files: Vec<String> = opts.files.iter().map(|f| f.display().to_string()).collect();
    Ok(Calibration {
        profile: QualityProfile {
            slope: opts.slope,
            outcome_correlation: Some(profile_rho),
            capabilities,
            difficulty,
            source: Some(format!(
                "tiersim calibrate, {} items from {} file(s)",
                table.items.len(),
                files.len()
            )),
        },
        models: table.models.clone(),
        tasks,
        log_likelihood: f.log_likelihood,
        items: table.items.len(),
        iterations: f.iterations,
        disagreement_examples: examples,
        concentration: (
            f.concentration,
            f.concentration < 0.2 * 1.01 || f.concentration > 200.0 / 1.01,
        ),
        bedrock: bedrock_summary,
    })
}

/// The fit diagnostics as text.
/// Fewer items than this in a task make its accuracies rough, and say so.
pub const FEW_ITEMS: usize = 100;

pub fn diagnostics(c: &Calibration) -> String {
    let mut out = String::new();
    if let Some(b) = &c.bedrock {
        let _ = writeln!(
            out,
            "read from Bedrock evaluation output (a score of at least {} is a success):",
            b.threshold
        );
        for ((model, task, metric), (n, mean)) in &b.rows {
            let _ = writeln!(
                out,
                "  {model} on {task}: {n} records, {metric} mean {mean:.3}"
            );
        }
    }
    let _ = writeln!(
        out,
        "calibrated {} items, {} model(s); log-likelihood {:.2}; outcome correlation {:.3}; difficulty Beta(0.5, {:.3}); {} iterations",
        c.items,
        c.models.len(),
        c.log_likelihood,
        c.profile.outcome_correlation.unwrap_or(1.0),
        c.profile
            .difficulty
            .values()
            .next()
            .map_or(f64::NAN, |b| b.beta.concentration),
        c.iterations
    );
    let _ = writeln!(out, "models: {}", c.models.join(", "));
    let _ = writeln!(
        out,
        "observed / fitted accuracy per task and model, and share where some model is right:"
    );
    for t in &c.tasks {
        let accs: Vec<String> = t
            .accuracy
            .iter()
            .enumerate()
            .filter_map(|(m, a)| a.map(|(o, f)| format!("[{m}] {:.1}/{:.1}", o * 100.0, f * 100.0)))
            .collect();
        let _ = writeln!(
            out,
            "  {} ({}, {} items): {}; any right {:.1}/{:.1}; models disagree on {}",
            t.task,
            t.kind,
            t.items,
            accs.join(", "),
            t.oracle.0 * 100.0,
            t.oracle.1 * 100.0,
            t.disagreements
        );
    }
    if !c.disagreement_examples.is_empty() {
        let _ = writeln!(
            out,
            "items the models disagree on, e.g.: {}",
            c.disagreement_examples.join(", ")
        );
    }
    for t in &c.tasks {
        if t.items < FEW_ITEMS {
            let _ = writeln!(
                out,
                "warning: task {} has {} items: its accuracies are known to about ±{:.0} points (95%); {} items give ±10, 400 give ±5",
                t.task,
                t.items,
                100.0 / (t.items.max(1) as f64).sqrt(),
                FEW_ITEMS
            );
        }
    }
    if c.concentration.1 {
        let disagree: usize = c.tasks.iter().map(|t| t.disagreements).sum();
        let _ = writeln!(
            out,
            "warning: the difficulty spread landed on a bound of its range (Beta(0.5, {:.3})): the items cannot pin it down. Items the models disagree on inform it; this fit had {disagree}; aim for at least 50",
            c.concentration.0
        );
    }
    out
}

/// Published accuracies, as read from YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Difficulty distribution per task kind (default uniform on [0, 1]).
    #[serde(default)]
    pub difficulty: BTreeMap<TaskKind, BetaSpec>,
    pub accuracies: Vec<PublishedAccuracy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedAccuracy {
    pub model: String,
    pub task: TaskKind,
    /// Accuracy in percent (0-100) or as a fraction (0-1).
    pub accuracy: f64,
    #[serde(default)]
    pub source: Option<String>,
}

/// Solves for the capabilities that reproduce published accuracies under
/// each task kind's difficulty distribution.
pub fn from_accuracies(
    p: &Published,
    slope: f64,
    model_map: &BTreeMap<String, String>,
) -> Result<QualityProfile> {
    let mut capabilities: BTreeMap<String, BTreeMap<TaskKind, f64>> = BTreeMap::new();
    for (i, a) in p.accuracies.iter().enumerate() {
        let acc = if a.accuracy > 1.0 {
            a.accuracy / 100.0
        } else {
            a.accuracy
        };
        if !(acc.is_finite() && acc > 0.0 && acc < 1.0) {
            return Err(Error::input(format!(
                "accuracies[{i}]: accuracy must be between 0 and 100 (percent), exclusive, got {}",
                a.accuracy
            )));
        }
        let nodes: Vec<(f64, f64)> = match p.difficulty.get(&a.task) {
            Some(b) => crate::stats::dist::DifficultyDist::beta(b.beta.mean, b.beta.concentration)
                .map_err(|e| Error::input(format!("difficulty.{}: {e}", a.task)))?
                .quadrature(2000),
            None => (0..2000)
                .map(|j| ((j as f64 + 0.5) / 2000.0, 1.0 / 2000.0))
                .collect(),
        };
        let c = fit::capability_for_accuracy(acc, &nodes, slope);
        let key = model_map
            .get(&a.model)
            .cloned()
            .unwrap_or_else(|| a.model.clone());
        capabilities.entry(key).or_default().insert(a.task, c);
    }
    Ok(QualityProfile {
        slope,
        outcome_correlation: None,
        capabilities,
        difficulty: p
            .difficulty
            .iter()
            .map(|(k, b)| (*k, *b))
            .collect::<BTreeMap<TaskKind, BetaSpec>>(),
        source: Some("tiersim calibrate --published".into()),
    })
}
