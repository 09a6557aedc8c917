//! Amazon Bedrock model evaluation jobs' output, as written to S3: JSON
//! Lines under
//! `<job>/<job-uuid>/models/<model-id>/taskTypes/<task-type>/datasets/<dataset>/<uuid>_output.jsonl`,
//! one record per prompt with `automatedEvaluationResult.scores`
//! (`[{metricName, result}]`), the `inputRecord` (its `prompt` identifies
//! the item across models) and `modelResponses` (`[{response,
//! modelIdentifier}]`). A model id or ARN becomes a catalog-style key
//! (`amazon.nova-pro-v1:0` → `nova-pro`), the task type and dataset the
//! task (`QuestionAndAnswer/triviaqa`), and one metric's score a success
//! (a score of at least the threshold).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Result};
use crate::quality::calibrate::evals::{EVAL_FILE, Outcome};

/// How to turn a job's scores into outcomes.
#[derive(Debug, Clone, Default)]
pub struct Scoring {
    /// The metric to use; `None`: the only one, else `Accuracy`.
    pub metric: Option<String>,
    /// A score at least this counts as a success (scores of exactly 0 or 1
    /// are outcomes already). `None`: 0.5.
    pub threshold: Option<f64>,
}

/// What was read, per (model, task, metric): records and mean score.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: BTreeMap<(String, String, String), (usize, f64)>,
    pub threshold: f64,
}

/// Whether `path` is Bedrock evaluation output: a folder (searched for
/// `*_output.jsonl`) or such a file.
pub fn is_bedrock_output(path: &Path) -> bool {
    path.is_dir()
        || path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("_output.jsonl"))
}

fn fail(path: &Path, line: Option<usize>, msg: String) -> Error {
    Error::in_file_at(path, line, msg)
}

/// Every `*_output.jsonl` under `dir`, sorted.
fn output_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| fail(&d, None, crate::input::describe_io(&e)))?;
        for entry in entries {
            let entry = entry.map_err(|e| fail(&d, None, crate::input::describe_io(&e)))?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("_output.jsonl"))
            {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        return Err(fail(
            dir,
            None,
            "is a directory with no Bedrock evaluation output in it (looked for *_output.jsonl under models/<model>/taskTypes/<task type>/datasets/<dataset>/)".into(),
        ));
    }
    files.sort();
    Ok(files)
}

/// The segment after `name` in the path (`models` → the model id).
fn after<'a>(parts: &'a [String], name: &str) -> Option<&'a str> {
    parts
        .iter()
        .position(|p| p == name)
        .and_then(|i| parts.get(i + 1))
        .map(String::as_str)
}

/// A catalog-style key from a Bedrock model id or ARN.
pub fn model_key(id: &str) -> String {
    let name = id.rsplit_once('/').map_or(id, |(_, n)| n);
    let bare = match name.split_once('.') {
        Some((p, rest)) if crate::catalog::litellm::PREFIXES.contains(&p) => rest,
        _ => name,
    };
    let key = crate::catalog::litellm::key_of(bare);
    if key.is_empty() {
        bare.to_string()
    } else {
        key
    }
}

/// Reads a job's output (a folder or files) into outcomes.
pub fn read(paths: &[PathBuf], scoring: &Scoring) -> Result<(Vec<Outcome>, Summary)> {
    let threshold = scoring.threshold.unwrap_or(0.5);
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(output_files(p)?);
        } else {
            files.push(p.clone());
        }
    }
    let mut out = Vec::new();
    let mut summary = Summary {
        threshold,
        ..Summary::default()
    };
    for file in &files {
        let bytes = crate::input::read_file(file, &EVAL_FILE)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            fail(
                file,
                None,
                format!(
                    "is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        let parts: Vec<String> = file
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let task = match (after(&parts, "taskTypes"), after(&parts, "datasets")) {
            (Some(t), Some(d)) => format!("{t}/{d}"),
            (Some(t), None) => t.to_string(),
            _ => {
                return Err(fail(
                    file,
                    None,
                    "cannot tell the task: Bedrock writes evaluation output under .../taskTypes/<task type>/datasets/<dataset>/; keep that layout".into(),
                ));
            }
        };
        let path_model = after(&parts, "models");
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                Error::from(
                    Diagnostic::new(format!(
                        "not a JSON object: {}; expected one evaluation record per line",
                        crate::input::json_message(&e)
                    ))
                    .in_file(file)
                    .at(line_no, e.column().max(1)),
                )
            })?;
            let prompt = v
                .pointer("/inputRecord/prompt")
                .and_then(|p| p.as_str())
                .ok_or_else(|| {
                    fail(
                        file,
                        Some(line_no),
                        "record without inputRecord.prompt (items are matched across models by their prompt)".into(),
                    )
                })?;
            let model_id = v
                .pointer("/modelResponses/0/modelIdentifier")
                .and_then(|m| m.as_str())
                .or(path_model)
                .ok_or_else(|| {
                    fail(
                        file,
                        Some(line_no),
                        "record without modelResponses[0].modelIdentifier, outside a models/<model-id>/ folder".into(),
                    )
                })?;
            let scores = v
                .pointer("/automatedEvaluationResult/scores")
                .and_then(|s| s.as_array())
                .ok_or_else(|| {
                    fail(
                        file,
                        Some(line_no),
                        "record without automatedEvaluationResult.scores; expected [{metricName, result}, ...]".into(),
                    )
                })?;
            let named: Vec<(&str, Option<f64>)> = scores
                .iter()
                .map(|s| {
                    (
                        s.get("metricName").and_then(|m| m.as_str()).unwrap_or(""),
                        s.get("result").and_then(|r| r.as_f64()),
                    )
                })
                .collect();
            let names: Vec<&str> = named.iter().map(|(m, _)| *m).collect();
            let metric = match &scoring.metric {
                Some(m) => m.as_str(),
                None if named.len() == 1 => named[0].0,
                None => "Accuracy",
            };
            let Some((_, result)) = named.iter().find(|(m, _)| m.eq_ignore_ascii_case(metric))
            else {
                return Err(fail(
                    file,
                    Some(line_no),
                    format!(
                        "no `{metric}` score in this record; its metrics: {}; choose one",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
            };
            let score = result.filter(|r| r.is_finite()).ok_or_else(|| {
                fail(
                    file,
                    Some(line_no),
                    format!("the `{metric}` score is not a number"),
                )
            })?;
            let y = if score == 0.0 || score == 1.0 {
                score
            } else {
                f64::from(u8::from(score >= threshold))
            };
            let model = model_key(model_id);
            let row = summary
                .rows
                .entry((model.clone(), task.clone(), metric.to_string()))
                .or_default();
            row.0 += 1;
            row.1 += score;
            out.push(Outcome {
                item: prompt.to_string(),
                task: task.clone(),
                model,
                y,
                at: format!("{}:{line_no}", file.display()),
            });
        }
    }
    for row in summary.rows.values_mut() {
        row.1 /= row.0 as f64;
    }
    Ok((out, summary))
}
