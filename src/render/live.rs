//! The what-if page of `tiersim serve`: a scenario's key numbers as
//! controls, and the results that answer them.
//!
//! Every control is one `PATH=VALUE` override (`scenario::overrides`), so a
//! value typed in the page is checked exactly as the command line checks
//! `--set`, and the settings on screen are a list of overrides that
//! `tiersim run` reproduces. The controls are generated from the scenario
//! document, not from a fixed list: volume and growth, each workload's
//! share, difficulty, tokens, batch share, prompt cache and sessions
//! (turns, gaps, compaction), each gate's
//! recall and false-alarm rate (a classifier's noise), a price multiplier
//! per model the policies use, each credit pool, and every other uncertain
//! input, a distribution's parameters one control each.
//!
//! The results are the report's own parts (`templates/parts/`: headline,
//! summary table, charts) filled as `report.html` fills them, so the page and
//! `report.html` cannot disagree. The page is one file with its style and
//! a small script inline; it loads nothing from the network.

use serde::Serialize;
use serde_yaml::Value;

use crate::error::Result;
use crate::render::html::{self, ReportInput};
use crate::scenario::Scenario;

/// One number of the scenario the page lets a reader change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The override path (`workloads.rag-answer.share`).
    pub path: String,
    /// The group it is shown in (`Workload rag-answer`).
    pub group: String,
    /// What it is, in words (`share of requests`).
    pub label: String,
    /// The value as the scenario states it (the price multiplier of a
    /// model with none stated: 1).
    pub value: String,
    /// The slider's range and step (typing allows any value; the
    /// scenario's checks decide what is valid).
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

/// How a number's slider is scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scale {
    /// A probability or share: 0 to 1.
    Unit,
    /// A count or an amount: 0 to a few times the value.
    Amount,
    /// A percentage that may be negative (growth).
    Percent,
}

/// The controls of a scenario document (the file as parsed, before any
/// override) whose validated form is `s`.
pub fn controls(doc: &Value, s: &Scenario) -> Vec<Control> {
    let mut c = Collector::default();
    if let Some(v) = field(doc, "volume") {
        c.numbers(
            "Volume",
            "volume.requests_per_month",
            "requests in month 1",
            field(v, "requests_per_month"),
            Scale::Amount,
        );
        if let Some(g) = field(v, "growth") {
            c.numbers(
                "Volume",
                "volume.growth.monthly_pct",
                "monthly growth, %",
                field(g, "monthly_pct"),
                Scale::Percent,
            );
            if let Some(l) = field(g, "logistic") {
                c.numbers(
                    "Volume",
                    "volume.growth.logistic",
                    "logistic growth",
                    Some(l),
                    Scale::Amount,
                );
            }
        }
    }
    for (name, w) in named(doc, "workloads") {
        let group = format!("Workload {name}");
        let at = |f: &str| format!("workloads.{name}.{f}");
        for (f, label, scale) in [
            ("share", "share of requests", Scale::Unit),
            ("difficulty", "difficulty", Scale::Unit),
            ("input_tokens", "input tokens", Scale::Amount),
            ("output_tokens", "output tokens", Scale::Amount),
            ("batch_share", "batch share", Scale::Unit),
            ("session", "session", Scale::Amount),
        ] {
            c.numbers(&group, &at(f), label, field(w, f), scale);
        }
        if let Some(cache) = field(w, "cache") {
            for (f, label) in [
                ("prefix_tokens", "cached prefix tokens"),
                ("distinct_prefixes", "distinct prefixes"),
            ] {
                c.numbers(
                    &group,
                    &at(&format!("cache.{f}")),
                    label,
                    field(cache, f),
                    Scale::Amount,
                );
            }
        }
    }
    for (name, p) in named(doc, "policies") {
        c.gates(&format!("Policy {name}"), &format!("policies.{name}"), p, 0);
    }
    for model in policy_models(doc, s) {
        let path = format!("prices.{model}.multiplier");
        let stated = field(doc, "prices")
            .and_then(|p| field(p, &model))
            .and_then(|m| field(m, "multiplier"));
        match stated {
            Some(v) => c.numbers(
                "Prices",
                &path,
                &format!("{model} price ×"),
                Some(v),
                Scale::Amount,
            ),
            None => c.push(
                "Prices",
                &path,
                &format!("{model} price ×"),
                1.0,
                "1".into(),
                Scale::Amount,
            ),
        }
    }
    for (name, pool) in named(doc, "credits") {
        let group = format!("Credits {name}");
        for (f, label) in [
            ("amount_usd", "amount, USD"),
            ("start_month", "first month"),
            ("expires_after_months", "expires after, months"),
        ] {
            c.numbers(
                &group,
                &format!("credits.{name}.{f}"),
                label,
                field(pool, f),
                Scale::Amount,
            );
        }
    }
    // Every other uncertain input, wherever it is.
    for p in crate::sim::instance::uncertain_params(s) {
        let path = s.display_path(&p.path);
        if c.out.iter().any(|x| x.path.starts_with(&path)) {
            continue;
        }
        let label = path.rsplit('.').next().unwrap_or(&path).replace('_', " ");
        c.numbers(
            "Uncertain inputs",
            &path,
            &label,
            lookup(doc, &path),
            Scale::Amount,
        );
    }
    c.out
}

/// The page: controls beside the results of the scenario as written.
pub struct Page<'a> {
    pub scenario: &'a Scenario,
    pub controls: &'a [Control],
    /// The results fragment of the scenario as written ([`results`]).
    pub results: &'a str,
    /// The file name a downloaded scenario is offered under.
    pub download_name: String,
    /// Where "Write report" writes, if the server was given a directory.
    pub out_dir: Option<String>,
    /// Sentences that name the program's commands, which the library does
    /// not: how a value is checked, and why "Write report" is off.
    pub checked_as: String,
    pub no_out_dir: String,
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    controls: Vec<ControlView<'a>>,
}

#[derive(Serialize)]
struct ControlView<'a> {
    id: usize,
    c: &'a Control,
    /// The slider's position: the value, within the slider's range.
    slider: f64,
}

/// The whole page.
pub fn page(p: &Page<'_>) -> Result<String> {
    let mut groups: Vec<Group> = Vec::new();
    for (id, c) in p.controls.iter().enumerate() {
        let slider = number(&c.value).unwrap_or(c.min).clamp(c.min, c.max);
        let view = ControlView { id, c, slider };
        match groups.iter_mut().find(|g| g.name == c.group) {
            Some(g) => g.controls.push(view),
            None => groups.push(Group {
                name: &c.group,
                controls: vec![view],
            }),
        }
    }
    html::render_template(
        "live.html",
        minijinja::context! {
            name => &p.scenario.name,
            description => &p.scenario.description,
            version => env!("CARGO_PKG_VERSION"),
            groups => groups,
            results => p.results,
            download_name => &p.download_name,
            out_dir => &p.out_dir,
            checked_as => &p.checked_as,
            no_out_dir => &p.no_out_dir,
        },
    )
}

/// The results of one setting of the controls: the report's headline,
/// summary table and charts (SVG), and the notes.
pub fn results(r: &ReportInput<'_>) -> Result<String> {
    html::render_template("live_results.html", html::context(r))
}

/// A number as a control shows it: YAML numbers as written, and the
/// digit groups some files use (`3_000_000`).
fn number(text: &str) -> Option<f64> {
    text.replace('_', "")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[derive(Default)]
struct Collector {
    out: Vec<Control>,
}

impl Collector {
    fn push(&mut self, group: &str, path: &str, label: &str, v: f64, text: String, scale: Scale) {
        if self.out.iter().any(|c| c.path == path) {
            return;
        }
        let (min, max, step) = range(v, scale);
        self.out.push(Control {
            path: path.to_string(),
            group: group.to_string(),
            label: label.to_string(),
            value: text,
            min,
            max,
            step,
        });
    }

    /// A control for each number at `value`: the number itself, or each
    /// parameter of a distribution (`{ triangular: { min, mode, max } }`).
    fn numbers(
        &mut self,
        group: &str,
        path: &str,
        label: &str,
        value: Option<&Value>,
        scale: Scale,
    ) {
        self.walk(group, path, label, value, scale, 0);
    }

    fn walk(
        &mut self,
        group: &str,
        path: &str,
        label: &str,
        value: Option<&Value>,
        scale: Scale,
        depth: usize,
    ) {
        match value {
            Some(Value::Number(n)) => {
                if let Some(v) = n.as_f64().filter(|v| v.is_finite()) {
                    self.push(group, path, label, v, n.to_string(), scale);
                }
            }
            Some(Value::String(t)) => {
                if let Some(v) = number(t) {
                    self.push(group, path, label, v, t.clone(), scale);
                }
            }
            Some(Value::Mapping(m)) if depth < 3 => {
                for (k, v) in m {
                    let Some(k) = k.as_str() else { continue };
                    // A distribution's parameters keep the scale of the
                    // number they describe, except a Beta's concentration
                    // (a count) and a session's difficulties (0 to 1).
                    let s = match (scale, k) {
                        (Scale::Percent, _) => Scale::Percent,
                        (_, "concentration") => Scale::Amount,
                        (_, k) if k.contains("difficulty") => Scale::Unit,
                        _ => scale,
                    };
                    self.walk(
                        group,
                        &format!("{path}.{k}"),
                        &if depth == 0 {
                            format!("{label}, {}", k.replace('_', " "))
                        } else {
                            format!("{label} {}", k.replace('_', " "))
                        },
                        Some(v),
                        s,
                        depth + 1,
                    );
                }
            }
            _ => {}
        }
    }

    /// Gates (recall, false alarm) and classifier noise anywhere in a policy.
    fn gates(&mut self, group: &str, path: &str, node: &Value, depth: usize) {
        if depth > 8 {
            return;
        }
        let Value::Mapping(m) = node else { return };
        for (k, v) in m {
            let Some(k) = k.as_str() else { continue };
            let here = format!("{path}.{k}");
            // Where in the policy, for the label: a rules entry's workload.
            let place = here
                .split_once(".rules.")
                .and_then(|(_, rest)| rest.split('.').next())
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            match k {
                "gate" => {
                    for (f, label) in [
                        ("recall", "gate recall"),
                        ("false_alarm", "gate false-alarm rate"),
                    ] {
                        self.numbers(
                            group,
                            &format!("{here}.{f}"),
                            &format!("{label}{place}"),
                            field(v, f),
                            Scale::Unit,
                        );
                    }
                }
                "noise_sd" => self.numbers(
                    group,
                    &here,
                    &format!("classifier noise sd{place}"),
                    Some(v),
                    Scale::Unit,
                ),
                _ => self.gates(group, &here, v, depth + 1),
            }
        }
    }
}

/// A slider's (min, max, step) for a value.
fn range(v: f64, scale: Scale) -> (f64, f64, f64) {
    match scale {
        Scale::Unit => (0.0, 1.0, 0.01),
        Scale::Percent => {
            let max = nice((3.0 * v.abs()).max(30.0));
            (-max.min(20.0), max, 0.5)
        }
        Scale::Amount => {
            let max = nice((3.0 * v.abs()).max(if v.fract() == 0.0 { 10.0 } else { 1.0 }));
            let step = if v.fract() == 0.0 && v.abs() >= 1.0 {
                nice(max / 300.0).max(1.0).round()
            } else {
                nice(max / 300.0)
            };
            (0.0, max, step)
        }
    }
}

/// The smallest of 1, 2 or 5 times a power of ten at or above `x` (> 0).
fn nice(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Mapping(m) => m.get(key),
        _ => None,
    }
}

/// The elements of list `key` that have a name, with it.
fn named<'a>(doc: &'a Value, key: &str) -> Vec<(String, &'a Value)> {
    match field(doc, key) {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| Some((field(i, "name")?.as_str()?.to_string(), i)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The value at an override path (list elements by name or index).
fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = doc;
    for seg in path.split('.') {
        node = match node {
            Value::Mapping(m) => m.get(seg)?,
            Value::Sequence(items) => match seg.parse::<usize>() {
                Ok(i) => items.get(i)?,
                Err(_) => items
                    .iter()
                    .find(|i| field(i, "name").and_then(Value::as_str) == Some(seg))?,
            },
            _ => return None,
        };
    }
    Some(node)
}

/// The catalog models the policies name (a service tier suffix dropped), in
/// the order they first appear.
fn policy_models(doc: &Value, s: &Scenario) -> Vec<String> {
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(t) => out.push(t),
            Value::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Mapping(m) => m.iter().for_each(|(_, i)| strings(i, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Some(p) = field(doc, "policies") {
        strings(p, &mut found);
    }
    let mut out: Vec<String> = Vec::new();
    for t in found {
        let key = t.split(':').next().unwrap_or(t);
        if s.catalog.models.iter().any(|m| m.key == key) && !out.iter().any(|k| k == key) {
            out.push(key.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slider_ranges_are_round() {
        assert_eq!(nice(3.0), 5.0);
        assert_eq!(nice(9_000_000.0), 10_000_000.0);
        assert_eq!(nice(0.3), 0.5);
        assert_eq!(nice(100.0), 100.0);
        assert_eq!(
            range(3_000_000.0, Scale::Amount),
            (0.0, 10_000_000.0, 50_000.0)
        );
        assert_eq!(range(0.8, Scale::Unit), (0.0, 1.0, 0.01));
        assert_eq!(range(6.0, Scale::Percent), (-20.0, 50.0, 0.5));
    }
}
