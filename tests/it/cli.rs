//! The command line, end to end: every shipped scenario runs, bad input is
//! refused with an exact message and exit code 2, and results are
//! reproducible byte for byte.

use crate::common;

use common::{root, stderr, stdout, tiersim};
use serde_json::Value;

const SHIPPED: &[&str] = &[
    "support-platform",
    "rag-assistant",
    "coding-assistant",
    "document-extraction",
];

fn json_run(args: &[&str]) -> Value {
    let o = tiersim(args);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

fn policy<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("policy {name} in output"))
}

#[test]
fn every_shipped_scenario_runs_and_reports_every_policy() {
    for name in SHIPPED {
        let path = format!("scenarios/{name}.yaml");
        let doc = json_run(&["run", &path, "--format", "json"]);
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(root().join(&path)).unwrap()).unwrap();
        let expected: Vec<&str> = yaml["policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let got: Vec<&str> = doc["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{name}");
        assert_eq!(doc["scenario"], *name);
        assert_eq!(doc["catalog"]["name"], "bedrock-2026-11");
        assert_eq!(doc["catalog"]["as_of"], "2026-11-15");
        let months = doc["horizon_months"].as_u64().unwrap() as usize;
        for p in doc["policies"].as_array().unwrap() {
            let total = p["total_cost_usd"].as_f64().unwrap();
            assert!(total.is_finite() && total > 0.0, "{name}/{}", p["name"]);
            // Months add up to the total, components add up to the total.
            let m: f64 = p["months"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["cost_usd"].as_f64().unwrap())
                .sum();
            assert!((m - total).abs() < 1e-6 * total, "{name}: months sum");
            assert_eq!(p["months"].as_array().unwrap().len(), months);
            let c = &p["by_component"];
            let parts: f64 = ["input", "cache_write", "cache_read", "output", "overhead"]
                .iter()
                .map(|k| c[k].as_f64().unwrap())
                .sum();
            assert!(
                (parts - total).abs() < 1e-6 * total,
                "{name}: components sum"
            );
            let by_model: f64 = p["by_model"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v["cost_usd"].as_f64().unwrap())
                .sum();
            let fixed = c["overhead"].as_f64().unwrap();
            assert!(by_model <= total + 1e-6 && by_model >= total - fixed - 1e-6);
            let q = p["quality"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&q));
        }
    }
}

#[test]
fn support_platform_reproduces_the_case() {
    // The case: ~$12K/month frontier-only baseline; routed design ~70% less
    // with quality held. Acceptance bands: baseline month 1 in $10K-$14K,
    // routed savings 55-85% at under 2 points of quality loss.
    let doc = json_run(&["run", "scenarios/support-platform.yaml", "--format", "json"]);
    assert_eq!(doc["baseline"], "all-sonnet");
    let base = policy(&doc, "all-sonnet");
    let m1 = base["months"][0]["cost_usd"].as_f64().unwrap();
    assert!(
        (10_000.0..=14_000.0).contains(&m1),
        "baseline month 1: ${m1}"
    );
    let routed = policy(&doc, "routed");
    let savings = routed["savings_vs_baseline_pct"].as_f64().unwrap();
    let loss = routed["quality_loss_pp"].as_f64().unwrap();
    assert!((55.0..=85.0).contains(&savings), "savings {savings}%");
    assert!(loss < 2.0, "quality loss {loss} pp");
    assert_eq!(doc["recommended"], "routed");
    // The table the README shows names every policy and the headline.
    let o = tiersim(&["run", "scenarios/support-platform.yaml", "--monthly"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for p in [
        "all-sonnet [base]",
        "routed",
        "all-haiku",
        "all-nova-pro",
        "prompt-router",
        "oracle",
    ] {
        assert!(out.contains(p), "table lacks {p}");
    }
    assert!(out.contains("Cheapest within 2.0 pp of all-sonnet's quality: routed"));
    assert!(out.contains("Monthly cost"));
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "line over 100 columns: {line}");
    }
}

#[test]
fn a_different_seed_changes_the_draws() {
    let args = |seed: &'static str| {
        vec![
            "run",
            "scenarios/support-platform.yaml",
            "--format",
            "json",
            "--set",
            "volume.requests_per_month=100000",
            "--seed",
            seed,
        ]
    };
    let a = tiersim(&args("42"));
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(a.stdout, tiersim(&args("42")).stdout, "two runs");
    assert_ne!(a.stdout, tiersim(&args("43")).stdout);
}

/// Thread independence at the command line: every command that simulates
/// prints (and writes) the same bytes on one thread and on two.
#[test]
fn every_command_gives_the_same_bytes_whatever_the_threads() {
    let out = |threads: &str| common::absent_dir(&format!("threads-out-{threads}"));
    for args in [
        vec!["run", "scenarios/rag-assistant.yaml", "--format", "json"],
        vec![
            "sweep",
            "scenarios/support-platform.yaml",
            "--vary",
            "volume.requests_per_month=1000000,3000000",
            "--format",
            "json",
        ],
        vec![
            "sensitivity",
            "scenarios/support-platform.yaml",
            "--format",
            "json",
            "--replications",
            "20",
        ],
        vec![
            "credits",
            "scenarios/support-platform.yaml",
            "--format",
            "json",
            "--replications",
            "50",
        ],
        vec![
            "compare",
            "scenarios/support-platform.yaml",
            "scenarios/rag-assistant.yaml",
            "--format",
            "json",
        ],
    ] {
        let run = |threads: &'static str| {
            let dir = out(threads);
            let d = dir.to_string_lossy().into_owned();
            let mut a: Vec<&str> = args.clone();
            a.extend(["--threads", threads, "-q", "--out", &d]);
            let o = tiersim(&a);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap())
                .map(|e| {
                    (
                        e.file_name().into_string().unwrap(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                // run.json and report.html quote the command line, which differs.
                .filter(|(n, _)| n != "run.json" && n != "report.html")
                .collect();
            files.sort();
            (o.stdout, files)
        };
        let (one, files_one) = run("1");
        let (two, files_two) = run("2");
        assert_eq!(one, two, "{args:?}: stdout differs between 1 and 2 threads");
        assert!(files_one.len() >= 3, "{args:?}: {} files", files_one.len());
        for ((n, a), (_, b)) in files_one.iter().zip(&files_two) {
            assert!(a == b, "{args:?}: {n} differs between 1 and 2 threads");
        }
    }
}

#[test]
fn set_overrides_are_applied_and_validated() {
    let doc = json_run(&[
        "run",
        "scenarios/support-platform.yaml",
        "--format",
        "json",
        "--set",
        "volume.requests_per_month=10000",
        "--set",
        "horizon_months=2",
    ]);
    assert_eq!(doc["horizon_months"], 2);
    assert_eq!(doc["volume"][0], 10000.0);
    assert_eq!(doc["overrides"][0], "volume.requests_per_month=10000");

    let o = tiersim(&[
        "run",
        "scenarios/support-platform.yaml",
        "--set",
        "workloads.drafted-reply.share=1.5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: workloads[2].share: must be greater than 0 and at most 1, got 1.5 (set by --set workloads.drafted-reply.share=1.5)\n\
         error: scenarios/support-platform.yaml:32:3: workloads: shares sum to 2.35, they must sum to 1 (within 0.001): intent-classification 0.5, rag-answer 0.25, drafted-reply 1.5, nightly-reprocessing 0.1\n"
    );
    let o = tiersim(&[
        "run",
        "scenarios/support-platform.yaml",
        "--set",
        "workloads.nope.share=0.1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --set workloads.nope.share=0.1: `workloads` has no element named `nope`; names: intent-classification, rag-answer, drafted-reply, nightly-reprocessing\n"
    );
}

#[test]
fn validate_accepts_every_shipped_file() {
    let mut args = vec!["validate".to_string()];
    for s in SHIPPED {
        args.push(format!("scenarios/{s}.yaml"));
    }
    args.push("pricing/bedrock-2026-11.yaml".into());
    args.push("pricing/representative-2026.yaml".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tiersim(&refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 6);
    assert!(out.contains("ok: pricing/bedrock-2026-11.yaml (catalog bedrock-2026-11, 22 models, prices as of 2026-11-15)"));
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    let o = tiersim(&["run", "scenarios/nope.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "error: scenarios/nope.yaml: no such file\n");
    let o = tiersim(&["run", "scenarios"]);
    assert_eq!(
        stderr(&o),
        "error: scenarios: is a directory; expected a YAML file\n"
    );
    let o = tiersim(&[
        "run",
        "scenarios/support-platform.yaml",
        "--replications",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --replications must be between 1 and 100000, got 0\n"
    );
    let o = tiersim(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tiersim(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn quote_prints_components_as_json() {
    // Sonnet 4.5, 10,000 input tokens of which a 4,000-token prefix missed
    // the cache: 6,000 x $3 + 4,000 x $3.75 + 1,000 x $15 per 1M.
    let doc = json_run(&[
        "quote",
        "claude-sonnet-4-5",
        "--input",
        "10000",
        "--output",
        "1000",
        "--cached-prefix",
        "4000",
        "--cache",
        "miss",
        "--format",
        "json",
    ]);
    assert_eq!(doc["model"], "claude-sonnet-4-5");
    assert_eq!(doc["profile"], "global");
    let c = &doc["components"];
    let close = |v: &Value, x: f64| (v.as_f64().unwrap() - x).abs() < 1e-12;
    assert!(close(&c["input"], 0.018));
    assert!(close(&c["cache_write"], 0.015));
    assert!(close(&c["cache_read"], 0.0));
    assert!(close(&c["output"], 0.015));
    assert!(close(&doc["total_usd"], 0.048));

    // Regional profile, batch, hit: 6,000 x $1.65 + 4,000 x ... batch is not cached:
    // 10,000 x $1.50 x 1.1 + 1,000 x $7.50 x 1.1.
    let doc = json_run(&[
        "quote",
        "claude-sonnet-4-5",
        "--input",
        "10000",
        "--output",
        "1000",
        "--batch",
        "--profile",
        "us",
        "--format",
        "json",
    ]);
    assert!(close(&doc["total_usd"], (0.015 + 0.0075) * 1.1));

    let o = tiersim(&["quote", "nova-prp", "--input", "1", "--output", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with(
        "error: unknown model `nova-prp` in catalog `bedrock-2026-11`; did you mean `nova-pro`?"
    ));
    let o = tiersim(&[
        "quote",
        "nova-pro",
        "--input",
        "10",
        "--output",
        "1",
        "--cached-prefix",
        "20",
    ]);
    assert_eq!(
        stderr(&o),
        "error: --cached-prefix (20) cannot exceed --input (10); --input counts every input token, the prefix included\n"
    );
    // Table form shows the arithmetic.
    let o = tiersim(&["quote", "nova-micro", "--input", "1000", "--output", "200"]);
    let out = stdout(&o);
    assert!(
        out.contains("1,000 tokens x $0.035/1M = $0.000035"),
        "{out}"
    );
    assert!(out.contains("$0.000063"), "{out}");
}

#[test]
fn init_writes_a_valid_scenario_and_will_not_clobber() {
    let dir = common::temp_dir("init");
    let file = dir.join("mine.yaml");
    let _ = std::fs::remove_file(&file);
    let f = file.to_str().unwrap();
    let o = tiersim(&["init", "--template", "rag-assistant", "--output", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The copy is the shipped scenario minus its editor modeline, whose
    // relative schema path would be wrong wherever the copy lands.
    let shipped = std::fs::read_to_string(root().join("scenarios/rag-assistant.yaml")).unwrap();
    let (modeline, rest) = shipped.split_once('\n').unwrap();
    assert_eq!(
        modeline,
        "# yaml-language-server: $schema=../schemas/scenario.schema.json"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), rest);
    let o = tiersim(&["validate", f]);
    assert_eq!(o.status.code(), Some(0));
    let o = tiersim(&["init", "--output", f]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("error: {f} already exists; pass --force to overwrite it\n")
    );
    let o = tiersim(&["init", "--template", "suport-platform"]);
    assert!(stderr(&o).starts_with(
        "error: unknown template `suport-platform`; did you mean `support-platform`?"
    ));
    // Default template to stdout.
    let o = tiersim(&["init"]);
    assert!(stdout(&o).starts_with("# support-platform"));
    // An output directory that does not exist is a failure to write (exit 1).
    let o = tiersim(&["init", "--output", "/nonexistent-dir/x.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
