//! `PATH=VALUE` overrides of any scenario field (the command line's `set`
//! and each point of a sweep).
//!
//! PATH is dotted (`volume.requests_per_month`); list elements are named by
//! their `name` (`workloads.drafted-reply.share`) or index (`workloads.0`).
//! VALUE is YAML (`0.4`, `nova-pro`, `{ uniform: { min: 1, max: 2 } }`).
//! Overrides are applied to the parsed document before it is checked, so an
//! overridden value is validated exactly like one written in the file, and
//! errors about it name the [`Origin`] it came from.

use serde_yaml::Value;

use crate::error::{Blame, Diagnostic, Error, Origin, Result};

/// A parsed override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub raw: String,
    pub path: Vec<String>,
    pub value: Value,
}

/// The `PATH=VALUE` text of an override origin.
pub fn assignment(origin: &Origin) -> String {
    match origin {
        Origin::Override { raw } => raw.clone(),
        Origin::Sweep { path, value } => format!("{path}={value}"),
        Origin::SweepSpec { raw } => raw.clone(),
        Origin::OutputDir(p) => p.display().to_string(),
    }
}

/// Parses an override `PATH=VALUE`.
pub fn parse(raw: &str) -> Result<Override> {
    parse_from(&Origin::Override {
        raw: raw.to_string(),
    })
}

fn parse_from(origin: &Origin) -> Result<Override> {
    let raw = assignment(origin);
    let raw = raw.as_str();
    let bad = |msg: String| Error::from(Diagnostic::new(msg).about(origin.clone()));
    let Some((path, value)) = raw.split_once('=') else {
        return Err(bad(
            "expected PATH=VALUE, e.g. volume.requests_per_month=5000000".into(),
        ));
    };
    let path: Vec<String> = path
        .trim()
        .split('.')
        .map(|s| s.trim().to_string())
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(bad("the path has an empty segment".into()));
    }
    if let Some(seg) = path.iter().find(|s| s.contains('[')) {
        let (list, index) = seg.split_once('[').unwrap_or((seg, ""));
        return Err(bad(format!(
            "name a list element with a dot, by name or index: `{list}.NAME` or `{list}.{}`, not `{seg}`",
            index.trim_end_matches(']')
        )));
    }
    let value: Value = serde_yaml::from_str(value).map_err(|e| {
        bad(format!(
            "the value is not valid YAML: {}",
            crate::input::yaml::strip_location(&e.to_string())
        ))
    })?;
    Ok(Override {
        raw: raw.to_string(),
        path,
        value,
    })
}

/// Applies one override `PATH=VALUE` to a document. Returns the field path
/// it set, with list elements by index (`workloads[2].share`).
pub fn apply(doc: &mut Value, raw: &str) -> Result<String> {
    apply_from(
        doc,
        &Origin::Override {
            raw: raw.to_string(),
        },
    )
}

/// Applies the override `origin` (an [`Origin::Override`] or
/// [`Origin::Sweep`]) to a document.
pub fn apply_from(doc: &mut Value, origin: &Origin) -> Result<String> {
    let o = parse_from(origin)?;
    let bad = |msg: String| Error::from(Diagnostic::new(msg).about(origin.clone()));
    let mut node = doc;
    let mut concrete = String::new();
    let last = o.path.len() - 1;
    for (i, seg) in o.path.iter().enumerate() {
        let here = if concrete.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{concrete}`")
        };
        match node {
            Value::Mapping(map) => {
                if !concrete.is_empty() {
                    concrete.push('.');
                }
                concrete.push_str(seg);
                let key = Value::String(seg.clone());
                if i == last {
                    map.insert(key, o.value.clone());
                    return Ok(concrete);
                }
                if !map.contains_key(&key) {
                    map.insert(key.clone(), Value::Mapping(Default::default()));
                }
                node = map.get_mut(&key).expect("just inserted");
            }
            Value::Sequence(seq) => {
                let idx = match seg.parse::<usize>() {
                    Ok(n) if n < seq.len() => Some(n),
                    _ => seq
                        .iter()
                        .position(|e| e.get("name").and_then(Value::as_str) == Some(seg.as_str())),
                };
                let Some(idx) = idx else {
                    let names: Vec<&str> = seq
                        .iter()
                        .filter_map(|e| e.get("name").and_then(Value::as_str))
                        .collect();
                    return Err(bad(format!(
                        "{here} has no element named `{seg}`; names: {}",
                        if names.is_empty() {
                            "(none)".to_string()
                        } else {
                            names.join(", ")
                        }
                    )));
                };
                concrete.push_str(&format!("[{idx}]"));
                if i == last {
                    seq[idx] = o.value.clone();
                    return Ok(concrete);
                }
                node = &mut seq[idx];
            }
            _ => {
                return Err(bad(format!(
                    "{here} is a single value, so it has no field `{seg}`"
                )));
            }
        }
    }
    Ok(concrete)
}

/// Points diagnostics about overridden fields at the override that set
/// them instead of at the file.
pub fn blame(mut err: Error, origins: &[Origin]) -> Error {
    if origins.is_empty() {
        return err;
    }
    let sets: Vec<(String, &Origin)> = origins.iter().map(|o| (assignment(o), o)).collect();
    // Recompute the concrete path of each override on an empty document is
    // not possible (names need the list), so match by the raw path's shape:
    // a diagnostic path ends in the override's last segment and names the
    // same top-level field.
    'diagnostics: for d in &mut err.diagnostics {
        // A field the file does not have, added by an override.
        for (raw, origin) in &sets {
            let p = raw.split_once('=').map_or(raw.as_str(), |(p, _)| p);
            if p.split('.').any(|seg| {
                d.message
                    .starts_with(&format!("unknown field `{}`", seg.trim()))
            }) {
                d.location = None;
                d.file = None;
                d.origin = Some(((*origin).clone(), Blame::Subject));
                continue 'diagnostics;
            }
        }
        let Some(path) = d.path.clone() else { continue };
        for (raw, origin) in &sets {
            let Some((p, _)) = raw.split_once('=') else {
                continue;
            };
            let segs: Vec<&str> = p.split('.').collect();
            let top_matches = path.split(['.', '[']).next() == segs.first().copied();
            let tail_matches = segs.last().is_some_and(|last| {
                path == *last
                    || path.ends_with(&format!(".{last}"))
                    || path.ends_with(&format!("[{last}]"))
            });
            if top_matches && tail_matches {
                d.location = None;
                d.file = None;
                d.origin = Some(((*origin).clone(), Blame::SetBy));
            }
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_yaml::from_str(
            "volume: { requests_per_month: 100 }\nworkloads:\n  - { name: a, share: 0.5 }\n  - { name: b, share: 0.5 }\n",
        )
        .unwrap()
    }

    #[test]
    fn sets_by_name_and_index() {
        let mut d = doc();
        assert_eq!(
            apply(&mut d, "workloads.b.share=0.25").unwrap(),
            "workloads[1].share"
        );
        assert_eq!(d["workloads"][1]["share"].as_f64(), Some(0.25));
        assert_eq!(
            apply(&mut d, "volume.requests_per_month=5000000").unwrap(),
            "volume.requests_per_month"
        );
        assert_eq!(d["volume"]["requests_per_month"].as_u64(), Some(5_000_000));
        apply(
            &mut d,
            "workloads.0.share={ uniform: { min: 0.1, max: 0.2 } }",
        )
        .unwrap();
        assert!(d["workloads"][0]["share"]["uniform"].is_mapping());
    }

    #[test]
    fn reports_unknown_elements() {
        let mut d = doc();
        let e = apply(&mut d, "workloads.c.share=0.25").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: override `workloads.c.share=0.25`: `workloads` has no element named `c`; names: a, b"
        );
        let e = apply(&mut d, "volume").unwrap_err();
        assert!(e.to_string().contains("expected PATH=VALUE"));
    }
}
