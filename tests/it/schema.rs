//! JSON Schemas: the shipped files are the generated ones, and every file
//! tiersim ships (or writes) is valid against them, checked by an
//! independent validator (boon), so an editor using the schema never flags
//! a file tiersim accepts.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use boon::{Compiler, Draft, SchemaIndex, Schemas};
use common::root;
use tiersim::TaskKind;
use tiersim::quality::calibrate::{self, Options};
use tiersim::scenario::schema::{Kind, schema};

fn compile(kind: Kind) -> (Schemas, SchemaIndex) {
    let mut schemas = Schemas::new();
    let mut compiler = Compiler::new();
    compiler.set_default_draft(Draft::V7);
    let value: serde_json::Value = serde_json::from_str(&schema(kind)).unwrap();
    let url = format!("file:///{}.schema.json", kind.name());
    compiler.add_resource(&url, value).unwrap();
    let index = compiler
        .compile(&url, &mut schemas)
        .unwrap_or_else(|e| panic!("{} schema compiles: {e:#}", kind.name()));
    (schemas, index)
}

fn yaml_value(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).unwrap()
}

/// Validation errors of a YAML text against a schema, as boon prints them.
fn errors(kind: Kind, text: &str) -> Option<String> {
    let (schemas, index) = compile(kind);
    schemas
        .validate(&yaml_value(text), index)
        .err()
        .map(|e| format!("{e}"))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn shipped_schemas_are_the_generated_ones() {
    for kind in Kind::ALL {
        let shipped = std::fs::read_to_string(root().join(kind.file())).unwrap();
        assert!(
            shipped == schema(kind),
            "{} is stale; regenerate it with `tiersim schema {} > {}`",
            kind.file(),
            kind.name(),
            kind.file()
        );
    }
}

#[test]
fn every_shipped_scenario_and_catalog_is_valid() {
    let mut checked = 0;
    for (dir, kind) in [("scenarios", Kind::Scenario), ("pricing", Kind::Catalog)] {
        for f in yaml_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&f).unwrap();
            assert_eq!(
                text.lines().next().unwrap(),
                format!(
                    "# yaml-language-server: $schema=../schemas/{}.schema.json",
                    kind.name()
                ),
                "{} starts with the editor modeline",
                f.display()
            );
            if let Some(e) = errors(kind, &text) {
                panic!("{}: {e}", f.display());
            }
            checked += 1;
        }
    }
    for (f, kind) in [
        ("minimal.yaml", Kind::Scenario),
        ("pt-scenario.yaml", Kind::Scenario),
        ("pt-catalog.yaml", Kind::Catalog),
    ] {
        let text = std::fs::read_to_string(root().join("tests/fixtures").join(f)).unwrap();
        if let Some(e) = errors(kind, &text) {
            panic!("{f}: {e}");
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn a_calibrated_quality_profile_is_valid() {
    let c = calibrate::calibrate(&Options {
        files: vec![root().join("tests/data/routellm/gsm8k_responses.csv")],
        task_kinds: vec![("*".into(), TaskKind::Reasoning)],
        model_map: BTreeMap::from([
            (
                "gpt-4-1106-preview".to_string(),
                "claude-sonnet-4-5".to_string(),
            ),
            (
                "mistralai/Mixtral-8x7B-Instruct-v0.1".to_string(),
                "nova-pro".to_string(),
            ),
        ]),
        slope: 0.1,
        outcome_correlation: None,
        ..Options::default()
    })
    .unwrap();
    let text = calibrate::profile::render(&c.profile, &[]);
    assert_eq!(errors(Kind::Quality, &text), None, "{text}");
}

#[test]
fn the_schema_rejects_what_tiersim_rejects() {
    let minimal = std::fs::read_to_string(root().join("tests/fixtures/minimal.yaml")).unwrap();
    assert_eq!(errors(Kind::Scenario, &minimal), None);

    // A misspelt field, a wrong type and an unknown distribution, each
    // caught by the schema at the path tiersim's own error names.
    let misspelt = minimal.replacen("horizon_months:", "horizon_month:", 1);
    assert_ne!(misspelt, minimal, "fixture has horizon_months");
    let e = errors(Kind::Scenario, &misspelt).expect("misspelt field rejected");
    assert!(e.contains("horizon_month"), "{e}");

    let wrong_type = minimal.replacen("horizon_months: ", "horizon_months: twelve #", 1);
    let e = errors(Kind::Scenario, &wrong_type).expect("wrong type rejected");
    assert!(e.contains("/horizon_months"), "{e}");

    let catalog = std::fs::read_to_string(root().join("pricing/representative-2026.yaml")).unwrap();
    let e = errors(Kind::Catalog, &format!("{catalog}\nsurprise: 1\n"))
        .expect("unknown catalog field rejected");
    assert!(e.contains("surprise"), "{e}");
}
