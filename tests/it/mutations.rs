//! Structure-aware mutation of every shipped scenario, of catalogs and of a
//! quality profile: each value in the file is replaced, in turn, by an edge
//! case (zero, negative, huge, tiny, NaN, infinity, the wrong type, an empty
//! list, a wild distribution), and each field or list element is deleted.
//! Every mutant must either be refused with a message naming the file, or
//! run to results (projection, credit runways, provisioned-throughput
//! verdicts, sensitivity) whose every number is finite and whose money is
//! never negative. No mutant may panic.
//!
//! The byte-level fuzzer (fuzz/, by hand) rarely gets past the YAML parser
//! into deep validation; this walks every field path of real files
//! deterministically, in CI, so a new field without a range check, or an
//! uncertain parameter that can be drawn out of range, fails here first.

use crate::common;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_yaml::Value;
use tiersim::analysis::{credits, provisioned, sensitivity};
use tiersim::input::yaml::Source;
use tiersim::sim::Mode;
use tiersim::{RunOptions, Scenario};

/// What each value is replaced with, as YAML.
const REPLACEMENTS: &[&str] = &[
    "0",
    "-1",
    "0.5",
    "1e30",
    "-1e30",
    ".nan",
    ".inf",
    "-.inf",
    "1e-300",
    "4294967296",
    "\"x\"",
    "[]",
    "{}",
    "~",
    "{ normal: { mean: 1, sd: 1000 } }",
    "{ uniform: { min: -1e9, max: 1e9 } }",
    "{ lognormal: { median: 1, p90: 1e12 } }",
    "{ triangular: { min: 0, mode: 0, max: 1e30 } }",
    "{ beta: { mean: 0.999999, concentration: 1e-6 } }",
];

#[derive(Clone, Debug)]
enum Seg {
    Key(Value),
    Index(usize),
}

/// Every node's path, depth first (the root excluded).
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                prefix.push(Seg::Key(k.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                prefix.push(Seg::Index(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.as_mapping_mut().unwrap().get_mut(k).unwrap(),
            Seg::Index(i) => &mut v.as_sequence_mut().unwrap()[*i],
        };
    }
    v
}

fn show(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(Value::String(k)) => format!(".{k}"),
            Seg::Key(k) => format!(".{k:?}"),
            Seg::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// Every number in `v` is finite, and every amount of money is >= 0.
fn check_numbers(v: &Value, at: &str, problems: &mut Vec<String>) {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if !x.is_finite() {
                problems.push(format!("{at} = {x}"));
            }
            let money = at.contains("usd") || at.contains("cost") || at.contains("by_component");
            if money && !at.contains("savings") && x < 0.0 {
                problems.push(format!("{at} = {x} (negative money)"));
            }
        }
        Value::Mapping(m) => {
            for (k, child) in m {
                let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_string);
                check_numbers(child, &format!("{at}.{key}"), problems);
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                check_numbers(child, &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Tally {
    mutants: usize,
    refused: usize,
    ran: usize,
    failures: Vec<String>,
}

/// Loads one mutant and, if it loads, runs it briefly and checks the result.
/// A refusal must name one of `labels`: the file that was mutated, or the
/// scenario that refers to it.
fn try_mutant(
    labels: &[&str],
    what: &str,
    load: impl FnOnce() -> tiersim::Result<Scenario>,
    tally: &mut Tally,
) {
    tally.mutants += 1;
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<String>, String> {
        let s = load().map_err(|e| e.to_string())?;
        let opts = RunOptions {
            replications: 2,
            mode: Mode::Fast { samples: 64 },
            threads: Some(1),
            adapt_samples: false,
            ..RunOptions::default()
        };
        let run = tiersim::run(&s, &opts).map_err(|e| e.to_string())?;
        let p = tiersim::project(&s, &run);
        let mut problems = Vec::new();
        let v = serde_yaml::to_value(&p).expect("a projection serializes");
        check_numbers(&v, "projection", &mut problems);
        // What `run` reports besides the projection: credit runways and
        // provisioned-throughput verdicts.
        let credits: Vec<_> = (0..run.policy_names.len())
            .map(|i| credits::report(&s.credits, &run, i, 0.9, run.months))
            .collect();
        let v = serde_yaml::to_value(&credits).expect("credit reports serialize");
        check_numbers(&v, "credits", &mut problems);
        let verdicts = provisioned::verdicts(&s, &run, s.peak_to_average);
        let v = serde_yaml::to_value(&verdicts).expect("verdicts serialize");
        check_numbers(&v, "provisioned", &mut problems);
        // Sensitivity pins each uncertain input at its 10th and 90th
        // percentiles: the tails of a wild distribution are reached here.
        if !tiersim::sim::instance::uncertain_params(&s).is_empty() {
            let swings = sensitivity::sensitivity(&s, 0, 2, || RunOptions {
                mode: Mode::Fast { samples: 64 },
                threads: Some(1),
                adapt_samples: false,
                ..RunOptions::default()
            })
            .map_err(|e| e.to_string())?;
            let v = serde_yaml::to_value(&swings).expect("sensitivity serializes");
            check_numbers(&v, "sensitivity", &mut problems);
        }
        for x in &p.policies {
            if !(0.0..=1.0).contains(&x.quality) {
                problems.push(format!("{}: quality {}", x.name, x.quality));
            }
        }
        Ok(problems)
    }));
    match outcome {
        Err(_) => tally.failures.push(format!("{what}: panicked")),
        Ok(Err(msg)) => {
            tally.refused += 1;
            if !labels
                .iter()
                .any(|l| msg.starts_with(&format!("error: {l}")))
            {
                tally
                    .failures
                    .push(format!("{what}: message does not name the file: {msg}"));
            }
        }
        Ok(Ok(problems)) => {
            tally.ran += 1;
            for p in problems {
                tally.failures.push(format!("{what}: {p}"));
            }
        }
    }
}

/// Every mutant of `doc` whose path passes `keep`: each node replaced by
/// each edge value, and each node deleted. `each` gets a description and
/// the mutant as YAML text.
fn mutants(doc: &Value, keep: impl Fn(&[Seg]) -> bool, mut each: impl FnMut(String, String)) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let replacements: Vec<Value> = REPLACEMENTS
        .iter()
        .map(|r| serde_yaml::from_str(r).unwrap())
        .collect();
    for path in all.iter().filter(|p| keep(p)) {
        for (r, value) in REPLACEMENTS.iter().zip(&replacements) {
            let mut m = doc.clone();
            *node_mut(&mut m, path) = value.clone();
            each(
                format!("{} = {r}", show(path)),
                serde_yaml::to_string(&m).unwrap(),
            );
        }
        let mut m = doc.clone();
        let (last, parent) = path.split_last().unwrap();
        match (node_mut(&mut m, parent), last) {
            (Value::Mapping(map), Seg::Key(k)) => {
                map.remove(k);
            }
            (Value::Sequence(seq), Seg::Index(i)) => {
                seq.remove(*i);
            }
            _ => unreachable!("a path's parent is the collection it indexes"),
        }
        each(
            format!("{} deleted", show(path)),
            serde_yaml::to_string(&m).unwrap(),
        );
    }
}

fn read(rel: &str) -> Value {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn report(tally: &Tally) {
    eprintln!(
        "{} mutants: {} refused, {} ran",
        tally.mutants, tally.refused, tally.ran
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} mutants failed:\n{}",
        tally.failures.len(),
        tally.mutants,
        tally.failures.join("\n")
    );
    // Both sides are exercised: most edge values are refused, and many
    // mutants (in-range values, deleted optional fields) still run.
    assert!(
        tally.refused > tally.mutants / 2,
        "{} refused",
        tally.refused
    );
    assert!(tally.ran > tally.mutants / 20, "{} ran", tally.ran);
}

#[test]
fn every_mutant_of_every_shipped_scenario_is_refused_or_runs_clean() {
    let mut tally = Tally::default();
    let mut files: Vec<String> =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|e| format!("scenarios/{}", e.unwrap().file_name().to_string_lossy()))
            .filter(|f| f.ends_with(".yaml"))
            .collect();
    files.sort();
    assert_eq!(files.len(), 7, "{files:?}");
    for rel in &files {
        mutants(
            &read(rel),
            |_| true,
            |what, text| {
                let src = Source::from_text(rel.as_str(), text);
                try_mutant(
                    &[rel.as_str()],
                    &format!("{rel}: {what}"),
                    || Scenario::from_source(&src, &[]),
                    &mut tally,
                );
            },
        );
    }
    report(&tally);
}

/// A scenario that reaches every kind of rate of the mutated models:
/// long-context input, 1-hour and 5-minute cache writes and reads, batch,
/// a cascade between the two models and a judge call.
const CATALOG_SCENARIO: &str = "
name: catalog-mutants
horizon_months: 2
catalog: ./catalog.yaml
volume: { requests_per_month: 100000 }
workloads:
  - name: long
    share: 0.5
    task: rag
    input_tokens: { uniform: { min: 150000, max: 250000 } }
    output_tokens: 500
    difficulty: { beta: { mean: 0.4, concentration: 5 } }
    cache: { prefix_tokens: 5000, distinct_prefixes: 3, ttl: 1h }
    batch_share: 0.3
  - name: short
    share: 0.5
    task: classification
    input_tokens: 800
    output_tokens: 10
    difficulty: 0.2
    cache: { prefix_tokens: 2000, distinct_prefixes: 2 }
policies:
  - { name: pro, single: nova-pro }
  - { name: sonnet, single: claude-sonnet-4-5 }
  - name: cascade
    cascade:
      steps: [nova-pro, claude-sonnet-4-5]
      gate: { recall: 0.8, false_alarm: 0.1, judge: { model: nova-pro, input_tokens: 300, output_tokens: 5 } }
baseline: sonnet
";

/// Mutates `rel` (a file a scenario refers to) at the paths `keep`
/// selects, writing each mutant as `name` beside `scenario_text`, which
/// refers to it by that name.
fn mutate_referenced_file(
    rel: &str,
    name: &str,
    scenario_text: &str,
    keep: impl Fn(&[Seg]) -> bool,
) -> Tally {
    let dir = common::temp_dir(&format!("mutants-{}", name.replace('.', "-")));
    let scenario = dir.join("scenario.yaml");
    std::fs::write(&scenario, scenario_text).unwrap();
    let file = dir.join(name);
    // As the scenario names it, relative to the scenario's directory
    // (`./NAME` or `NAME`).
    let dotted = dir.join(".").join(name).display().to_string();
    let plain = file.display().to_string();
    // A mutated model key leaves the scenario naming a model that is gone.
    let scenario_label = scenario.display().to_string();
    let mut tally = Tally::default();
    mutants(&read(rel), keep, |what, text| {
        std::fs::write(&file, text).unwrap();
        try_mutant(
            &[&dotted, &plain, &scenario_label],
            &format!("{rel}: {what}"),
            || Scenario::load(&scenario, &[]),
            &mut tally,
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
    tally
}

#[test]
fn every_mutant_of_the_bedrock_catalog_is_refused_or_runs_clean() {
    // Every top-level field, and every field of the two models the
    // scenario uses (the other twenty entries have the same shape).
    let rel = "pricing/bedrock-2026-11.yaml";
    let doc = read(rel);
    let models = doc["models"].as_sequence().unwrap();
    let index = |key: &str| {
        models
            .iter()
            .position(|m| m["key"].as_str() == Some(key))
            .unwrap()
    };
    let mutated = [index("nova-pro"), index("claude-sonnet-4-5")];
    let tally = mutate_referenced_file(rel, "catalog.yaml", CATALOG_SCENARIO, |path| match path {
        [Seg::Key(k)] => k.as_str() != Some("models"),
        [Seg::Key(k), Seg::Index(i), ..] => k.as_str() == Some("models") && mutated.contains(i),
        _ => false,
    });
    report(&tally);
}

#[test]
fn every_mutant_of_a_catalog_with_provisioned_prices_is_refused_or_runs_clean() {
    // The shipped catalogs carry no provisioned-throughput prices; the
    // test fixture does, so its fields are mutated too.
    let scenario = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pt-scenario.yaml"),
    )
    .unwrap();
    let tally = mutate_referenced_file(
        "tests/fixtures/pt-catalog.yaml",
        "pt-catalog.yaml",
        &scenario,
        |_| true,
    );
    report(&tally);
}

const PROFILE_SCENARIO: &str = "
name: profile-mutants
horizon_months: 2
quality: ./profile.yaml
volume: { requests_per_month: 100000 }
workloads:
  - name: think
    share: 1
    task: reasoning
    input_tokens: 2000
    output_tokens: 300
    difficulty: { beta: { mean: 0.4, concentration: 4 } }
policies:
  - { name: pro, single: nova-pro }
  - { name: sonnet, single: claude-sonnet-4-5 }
  - { name: cascade, cascade: { steps: [nova-pro, claude-sonnet-4-5], gate: { recall: 0.8, false_alarm: 0.1 } } }
  - { name: oracle, oracle: [nova-pro, claude-sonnet-4-5] }
baseline: sonnet
";

#[test]
fn every_mutant_of_a_quality_profile_is_refused_or_runs_clean() {
    let dir = common::temp_dir("profile-source");
    let profile = dir.join("profile.yaml");
    std::fs::write(
        &profile,
        "slope: 0.1\noutcome_correlation: 0.8\nsource: test\ncapabilities:\n  nova-pro: { reasoning: 0.55 }\n  claude-sonnet-4-5: { reasoning: 0.8 }\ndifficulty:\n  reasoning: { beta: { mean: 0.4, concentration: 4 } }\n",
    )
    .unwrap();
    let tally = mutate_referenced_file(
        profile.to_str().unwrap(),
        "profile.yaml",
        PROFILE_SCENARIO,
        |_| true,
    );
    let _ = std::fs::remove_dir_all(&dir);
    report(&tally);
}
