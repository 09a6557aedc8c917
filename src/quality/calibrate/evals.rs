//! Reading evaluation results: long CSV/JSONL (item, task, model, correct
//! or score) and wide CSV (one column per model, True/False cells, as in
//! lm-sys/RouteLLM's published files).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Diagnostic, Error, Result};

/// Evaluation files: per-item outcomes can be large, but not this large.
pub const EVAL_FILE: crate::input::FileKind = crate::input::FileKind {
    noun: "an evaluation file",
    plural: "evaluation files",
    max_bytes: 256 * 1024 * 1024,
};

/// One outcome: an item of a task answered by a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub item: String,
    pub task: String,
    pub model: String,
    /// 1 right, 0 wrong, or a score in [0, 1].
    pub y: f64,
    /// Where it was read: `FILE:LINE`.
    pub at: String,
}

fn at(path: &Path, line: usize) -> String {
    format!("{}:{line}", path.display())
}

fn fail(path: &Path, line: Option<usize>, msg: String) -> Error {
    Error::in_file_at(path, line, msg)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    let bytes = crate::input::read_file(path, &EVAL_FILE)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(
            path,
            None,
            "file is empty; expected evaluation results as CSV (long: item, task, model, correct or score; wide: one True/False column per model) or JSON lines".into(),
        ));
    }
    Ok(bytes)
}

fn boolean(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "correct" | "pass" => Some(1.0),
        "false" | "0" | "no" | "incorrect" | "fail" => Some(0.0),
        _ => None,
    }
}

fn outcome_value(raw: &str) -> Option<f64> {
    boolean(raw).or_else(|| {
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| (0.0..=1.0).contains(x))
    })
}

/// Reads one evaluation file. `task` names the task of a wide file (default:
/// the file's stem).
pub fn read_file(path: &Path, task: Option<&str>) -> Result<Vec<Outcome>> {
    let bytes = read(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return read_jsonl(path, &bytes);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(path, Some(1), format!("not a CSV file: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
    if let (Some(item), Some(model)) = (col("item"), col("model")) {
        let task_col = col("task");
        let y_col = col("correct").or_else(|| col("score")).ok_or_else(|| {
            fail(
                path,
                Some(1),
                "a long-format file needs a `correct` or `score` column".into(),
            )
        })?;
        let mut out = Vec::new();
        for (n, rec) in reader.records().enumerate() {
            let line = n + 2;
            let rec = rec.map_err(|e| fail(path, Some(line), format!("bad CSV record: {e}")))?;
            let y = outcome_value(&rec[y_col]).ok_or_else(|| {
                fail(
                    path,
                    Some(line),
                    format!(
                        "`{}` is not an outcome; expected true/false, 1/0 or a score between 0 and 1",
                        &rec[y_col]
                    ),
                )
            })?;
            out.push(Outcome {
                item: rec[item].to_string(),
                task: task_col
                    .map(|c| rec[c].to_string())
                    .or_else(|| task.map(str::to_string))
                    .unwrap_or_else(|| stem(path)),
                model: rec[model].to_string(),
                y,
                at: at(path, line),
            });
        }
        return Ok(out);
    }
    // Wide: model columns are those whose every value is a boolean.
    let records: Vec<csv::StringRecord> = reader
        .records()
        .enumerate()
        .map(|(n, r)| r.map_err(|e| fail(path, Some(n + 2), format!("bad CSV record: {e}"))))
        .collect::<Result<_>>()?;
    let model_cols: Vec<usize> = (0..header.len())
        .filter(|&c| {
            !records.is_empty()
                && records
                    .iter()
                    .all(|r| r.get(c).is_some_and(|v| boolean(v).is_some()))
        })
        .collect();
    if model_cols.is_empty() {
        return Err(fail(
            path,
            Some(1),
            "found no model columns: a wide file has one column per model with True/False cells; a long file has item, model and correct (or score) columns".into(),
        ));
    }
    let task = task.map(str::to_string).unwrap_or_else(|| stem(path));
    let mut out = Vec::with_capacity(records.len() * model_cols.len());
    for (n, r) in records.iter().enumerate() {
        for &c in &model_cols {
            out.push(Outcome {
                item: format!("{}#{}", stem(path), n + 1),
                task: task.clone(),
                model: header[c].clone(),
                y: boolean(&r[c]).expect("checked"),
                at: at(path, n + 2),
            });
        }
    }
    Ok(out)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("eval")
        .to_string()
}

fn read_jsonl(path: &Path, bytes: &[u8]) -> Result<Vec<Outcome>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            path,
            None,
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            Error::from(
                Diagnostic::new(format!(
                    "not a JSON object: {}; expected one JSON object per line",
                    crate::input::json_message(&e)
                ))
                .in_file(path)
                .at(n + 1, e.column().max(1)),
            )
        })?;
        let get = |k: &str| v.get(k);
        let s = |k: &str| -> Result<String> {
            match get(k) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(serde_json::Value::Number(x)) => Ok(x.to_string()),
                _ => Err(fail(
                    path,
                    Some(n + 1),
                    format!("missing field `{k}` (a string)"),
                )),
            }
        };
        let y = match get("correct").or_else(|| get("score")) {
            Some(serde_json::Value::Bool(b)) => f64::from(u8::from(*b)),
            Some(serde_json::Value::Number(x)) => x
                .as_f64()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| {
                    fail(
                        path,
                        Some(n + 1),
                        format!("score {x} is not between 0 and 1"),
                    )
                })?,
            Some(serde_json::Value::String(t)) => outcome_value(t)
                .ok_or_else(|| fail(path, Some(n + 1), format!("`{t}` is not an outcome")))?,
            _ => {
                return Err(fail(
                    path,
                    Some(n + 1),
                    "missing field `correct` (or `score`)".into(),
                ));
            }
        };
        out.push(Outcome {
            item: s("item")?,
            task: s("task").unwrap_or_else(|_| stem(path)),
            model: s("model")?,
            y,
            at: at(path, n + 1),
        });
    }
    Ok(out)
}

/// One item's outcomes: (task index, item id, [(model index, y)]).
pub type ItemOutcomes = (usize, String, Vec<(usize, f64)>);

/// Outcomes grouped by (task, item), models in order of first appearance.
pub struct Table {
    pub models: Vec<String>,
    pub tasks: Vec<String>,
    pub items: Vec<ItemOutcomes>,
}

/// What to do with two outcomes for the same item, task and model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// Equal outcomes are one; different ones are an error naming both.
    #[default]
    Refuse,
    /// Their mean (a success when at least half succeeded).
    Mean,
}

/// Outcomes grouped by (task, item), models in order of first appearance.
/// Two outcomes for one item and model are never silently overwritten: see
/// [`Duplicates`].
pub fn table(outcomes: &[Outcome], duplicates: Duplicates) -> Result<Table> {
    let mut models: Vec<String> = Vec::new();
    let mut tasks: Vec<String> = Vec::new();
    let mut index: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut items: Vec<ItemOutcomes> = Vec::new();
    // Per (item index, model): the first outcome's place, and the sum and
    // count of outcomes seen (for the mean).
    let mut seen: BTreeMap<(usize, usize), (&str, f64, f64)> = BTreeMap::new();
    for o in outcomes {
        let m = models
            .iter()
            .position(|x| *x == o.model)
            .unwrap_or_else(|| {
                models.push(o.model.clone());
                models.len() - 1
            });
        let t = tasks.iter().position(|x| *x == o.task).unwrap_or_else(|| {
            tasks.push(o.task.clone());
            tasks.len() - 1
        });
        let i = *index.entry((t, o.item.clone())).or_insert_with(|| {
            items.push((t, o.item.clone(), Vec::new()));
            items.len() - 1
        });
        match seen.get_mut(&(i, m)) {
            None => {
                seen.insert((i, m), (o.at.as_str(), o.y, 1.0));
                items[i].2.push((m, o.y));
            }
            Some((first, sum, n)) => {
                if duplicates == Duplicates::Refuse && (*sum / *n - o.y).abs() > 1e-12 {
                    return Err(Error::from(
                        Diagnostic::new(format!(
                            "{first} and {}: item `{}` of task `{}` has two different outcomes for model `{}` ({} and {})",
                            o.at,
                            o.item,
                            o.task,
                            o.model,
                            *sum / *n,
                            o.y
                        ))
                        .with_remedy(crate::error::Remedy::CombineDuplicates),
                    ));
                }
                *sum += o.y;
                *n += 1.0;
                let mean = *sum / *n;
                if let Some(slot) = items[i].2.iter_mut().find(|(mm, _)| *mm == m) {
                    slot.1 = mean;
                }
            }
        }
    }
    Ok(Table {
        models,
        tasks,
        items,
    })
}
