//! Calibration from evaluation results.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{root, run_fast, scenario};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution};
use tiersim::TaskKind;
use tiersim::project;
use tiersim::quality::calibrate::{self, Options};
use tiersim::quality::sigmoid;

const MIXTRAL: &str = "mistralai/Mixtral-8x7B-Instruct-v0.1";
const GPT4: &str = "gpt-4-1106-preview";

fn routellm_files() -> Vec<PathBuf> {
    let dir = root().join("tests/data/routellm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("mmlu"))
        .expect("RouteLLM data in tests/data")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.push(dir.join("gsm8k_responses.csv"));
    files
}

/// Observed accuracies and any-right shares per file, read here with the
/// csv crate, independently of tiersim's reader.
fn observed(files: &[PathBuf]) -> BTreeMap<String, (f64, f64, f64, usize)> {
    let mut out = BTreeMap::new();
    for f in files {
        let mut r = csv::Reader::from_path(f).unwrap();
        let h = r.headers().unwrap().clone();
        let a = h.iter().position(|c| c == MIXTRAL).unwrap();
        let b = h.iter().position(|c| c == GPT4).unwrap();
        let (mut n, mut x, mut y, mut any) = (0usize, 0.0, 0.0, 0.0);
        for rec in r.records() {
            let rec = rec.unwrap();
            let (p, q) = (&rec[a] == "True", &rec[b] == "True");
            n += 1;
            x += f64::from(u8::from(p));
            y += f64::from(u8::from(q));
            any += f64::from(u8::from(p || q));
        }
        let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
        out.insert(stem, (x / n as f64, y / n as f64, any / n as f64, n));
    }
    out
}

#[test]
fn routellm_accuracies_and_oracle_are_reproduced() {
    let files = routellm_files();
    let obs = observed(&files);
    let c = calibrate::calibrate(&Options {
        files: files.clone(),
        task_kinds: vec![("*".into(), TaskKind::Reasoning)],
        model_map: BTreeMap::from([
            (GPT4.to_string(), "claude-sonnet-4-5".to_string()),
            (MIXTRAL.to_string(), "nova-pro".to_string()),
        ]),
        slope: 0.1,
        outcome_correlation: None,
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.tasks.len(), 58);
    let mi = c.models.iter().position(|m| m == MIXTRAL).unwrap();
    let gi = c.models.iter().position(|m| m == GPT4).unwrap();
    for t in &c.tasks {
        let (a, b, any, n) = obs[&t.task];
        assert_eq!(t.items, n);
        let (oa, fa) = t.accuracy[mi].unwrap();
        let (ob, fb) = t.accuracy[gi].unwrap();
        assert!(
            (oa - a).abs() < 1e-12 && (ob - b).abs() < 1e-12,
            "{}: observed",
            t.task
        );
        assert!(
            (fa - a).abs() < 0.01,
            "{}: Mixtral fitted {fa} vs {a}",
            t.task
        );
        assert!(
            (fb - b).abs() < 0.01,
            "{}: GPT-4 fitted {fb} vs {b}",
            t.task
        );
        assert!(
            (t.oracle.1 - any).abs() < 0.01,
            "{}: any right {} vs {any}",
            t.task,
            t.oracle.1
        );
    }

    // The profile in a simulation: the oracle over the two calibrated models
    // gets right the share of items at least one model answered correctly.
    let dir = common::temp_dir("cal");
    std::fs::write(
        dir.join("q.yaml"),
        calibrate::profile::render(&c.profile, &[]),
    )
    .unwrap();
    let kappa = c.profile.difficulty[&TaskKind::Reasoning]
        .beta
        .concentration;
    let yaml = format!(
        r#"
name: calibrated
horizon_months: 1
volume: {{ requests_per_month: 1000000 }}
workloads:
  - {{ name: q, share: 1, task: reasoning, input_tokens: 500, output_tokens: 100, difficulty: {{ beta: {{ mean: 0.5, concentration: {kappa} }} }} }}
policies:
  - {{ name: sonnet, single: claude-sonnet-4-5 }}
  - {{ name: pro, single: nova-pro }}
  - {{ name: oracle, oracle: [nova-pro, claude-sonnet-4-5] }}
baseline: sonnet
quality: {}
"#,
        dir.join("q.yaml").display()
    );
    let s = scenario(&yaml);
    let p = project(&s, &run_fast(&s, 1));
    let total: usize = obs.values().map(|v| v.3).sum();
    let pooled = |f: fn(&(f64, f64, f64, usize)) -> f64| {
        obs.values().map(|v| f(v) * v.3 as f64).sum::<f64>() / total as f64
    };
    let q = |n: &str| p.policies.iter().find(|x| x.name == n).unwrap().quality;
    assert!(
        (q("sonnet") - pooled(|v| v.1)).abs() < 0.01,
        "GPT-4 {} vs {}",
        q("sonnet"),
        pooled(|v| v.1)
    );
    assert!(
        (q("pro") - pooled(|v| v.0)).abs() < 0.01,
        "Mixtral {} vs {}",
        q("pro"),
        pooled(|v| v.0)
    );
    assert!(
        (q("oracle") - pooled(|v| v.2)).abs() < 0.01,
        "oracle {} vs {}",
        q("oracle"),
        pooled(|v| v.2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn synthetic_capabilities_are_recovered() {
    // Three models of known capability answer 10,000 items whose difficulty
    // is Beta(0.5, 6); outcomes follow the quality model with correlation
    // 0.4. The fit must recover capabilities within 0.03 (the location is
    // anchored at a mean difficulty of 0.5, as generated) and the
    // correlation within 0.1.
    let truth = [0.35, 0.55, 0.75];
    let (rho, slope) = (0.4, 0.1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let beta = Beta::new(3.0, 3.0).unwrap();
    let dir = common::temp_dir("syn");
    let path = dir.join("synthetic.csv");
    let mut text = String::from("item,task,model,correct\n");
    for i in 0..10_000 {
        let d: f64 = beta.sample(&mut rng);
        let common = rng.random::<f64>() < rho;
        let u: f64 = rng.random();
        for (m, c) in truth.iter().enumerate() {
            let p = sigmoid((c - d) / slope);
            let right = if common {
                u < p
            } else {
                rng.random::<f64>() < p
            };
            text.push_str(&format!("q{i},reasoning,m{m},{right}\n"));
        }
    }
    std::fs::write(&path, text).unwrap();
    let c = calibrate::calibrate(&Options {
        files: vec![path],
        task_kinds: vec![],
        model_map: BTreeMap::new(),
        slope,
        outcome_correlation: None,
        ..Options::default()
    })
    .unwrap();
    for (m, c_true) in truth.iter().enumerate() {
        let fitted = c.profile.capabilities[&format!("m{m}")][&TaskKind::Reasoning];
        assert!(
            (fitted - c_true).abs() < 0.03,
            "m{m}: fitted {fitted} vs {c_true}"
        );
    }
    let r = c.profile.outcome_correlation.unwrap();
    assert!((r - rho).abs() < 0.1, "correlation {r} vs {rho}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn published_accuracies_are_reproduced() {
    // Capability solved so that E[σ((c − d)/s)] over d ~ Uniform(0, 1)
    // equals the published accuracy: check by integrating here.
    let published: calibrate::Published = serde_yaml::from_str(
        "accuracies:\n  - { model: nova-pro, task: reasoning, accuracy: 85.9 }\n  - { model: nova-micro, task: reasoning, accuracy: 77.6 }\n",
    )
    .unwrap();
    let p = calibrate::from_accuracies(&published, 0.1, &BTreeMap::new()).unwrap();
    for (model, acc) in [("nova-pro", 0.859), ("nova-micro", 0.776)] {
        let c = p.capabilities[model][&TaskKind::Reasoning];
        let n = 100_000;
        let got: f64 = (0..n)
            .map(|i| sigmoid((c - (i as f64 + 0.5) / n as f64) / 0.1))
            .sum::<f64>()
            / n as f64;
        assert!((got - acc).abs() < 1e-6, "{model}: {got} vs {acc}");
        // On this scale the capability is near the accuracy: within 0.03
        // between 0.1 and 0.9 (the logistic's tails cost a little at the ends).
        assert!(c > acc && c - acc < 0.03, "{model}: {c} vs {acc}");
    }
}

#[test]
fn bad_eval_files_are_refused_with_their_line() {
    let dir = common::temp_dir("badeval");
    let f = dir.join("bad.csv");
    std::fs::write(
        &f,
        "item,task,model,correct\nq1,reasoning,a,true\nq2,reasoning,a,maybe\n",
    )
    .unwrap();
    let e = calibrate::evals::read_file(&f, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "error: {}:3:1: `maybe` is not an outcome; expected true/false, 1/0 or a score between 0 and 1",
            f.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Bedrock model evaluation job's output as it lands in S3: two models
/// (one named by a foundation-model ARN, one by an inference-profile id),
/// two task types, 300 prompts each, scored on Accuracy (0/1 in one task,
/// 0.2/0.8 in the other) and Robustness (ignored).
fn bedrock_job(tag: &str, items: usize) -> PathBuf {
    let root = common::temp_dir(tag);
    let job = root.join("evals/my-job/7f3e2a10-uuid");
    let models = [
        (
            "amazon.nova-pro-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        ),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
    ];
    // (task type, dataset, right-answer rate per model in percent, binary scores)
    let tasks = [
        ("QuestionAndAnswer", "Builtin.BoolQ", [62u64, 88], true),
        ("Classification", "custom-intents", [75, 93], false),
    ];
    for (folder, identifier) in models.iter() {
        for (tt, ds, rates, binary) in &tasks {
            let m = if folder.starts_with("amazon") { 0 } else { 1 };
            let dir = job
                .join("models")
                .join(folder)
                .join("taskTypes")
                .join(tt)
                .join("datasets")
                .join(ds);
            std::fs::create_dir_all(&dir).unwrap();
            let mut lines = Vec::new();
            for i in 0..items as u64 {
                // Nested outcomes: a prompt the weaker model gets right, the
                // stronger gets right too.
                let right = (i * 37 % 100) < rates[m];
                let score = match (binary, right) {
                    (true, r) => f64::from(u8::from(r)),
                    (false, true) => 0.8,
                    (false, false) => 0.2,
                };
                lines.push(format!(
                    r#"{{"automatedEvaluationResult": {{"scores": [{{"metricName": "Robustness", "result": 0.5}}, {{"metricName": "Accuracy", "result": {score}}}]}}, "inputRecord": {{"prompt": "{tt} prompt {i}", "referenceResponse": "..."}}, "modelResponses": [{{"response": "...", "modelIdentifier": "{identifier}"}}]}}"#
                ));
            }
            std::fs::write(dir.join("0a1b2c3d_output.jsonl"), lines.join("\n")).unwrap();
        }
    }
    root
}

#[test]
fn a_bedrock_evaluation_job_calibrates_to_its_observed_accuracies() {
    let root = bedrock_job("bedrock-eval", 300);
    let c = calibrate::calibrate(&Options {
        files: vec![root.join("evals")],
        task_kinds: vec![
            ("QuestionAndAnswer/*".into(), TaskKind::Rag),
            ("Classification/*".into(), TaskKind::Classification),
        ],
        slope: 0.1,
        ..Options::default()
    })
    .unwrap();
    // Ids and ARNs become catalog keys; task type and dataset the task.
    assert_eq!(c.models, ["nova-pro", "claude-sonnet-4-5"]);
    let summary = c.bedrock.as_ref().unwrap();
    let (n, mean) = summary.rows[&(
        "nova-pro".to_string(),
        "Classification/custom-intents".to_string(),
        "Accuracy".to_string(),
    )];
    // 225 prompts at 0.8, 75 at 0.2.
    assert_eq!(n, 300);
    assert!((mean - 0.65).abs() < 1e-12, "{mean}");
    // The constructed accuracies (i·37 mod 100 below the rate: exactly the
    // rate in percent over 300 prompts), observed and fitted within a point.
    let expected = [
        ("QuestionAndAnswer/Builtin.BoolQ", [0.62, 0.88]),
        ("Classification/custom-intents", [0.75, 0.93]),
    ];
    for (task, acc) in expected {
        let t = c.tasks.iter().find(|t| t.task == task).unwrap();
        assert_eq!(t.items, 300);
        for (m, want) in acc.iter().enumerate() {
            let (observed, fitted) = t.accuracy[m].unwrap();
            assert!((observed - want).abs() < 1e-12, "{task} [{m}] {observed}");
            assert!(
                (fitted - observed).abs() <= 0.01,
                "{task} [{m}] {fitted} vs {observed}"
            );
        }
    }
    assert!(c.profile.capabilities["nova-pro"].contains_key(&TaskKind::Rag));
    // The command says what it read.
    let o = common::tiersim(&[
        "calibrate",
        root.join("evals").to_str().unwrap(),
        "--task-kind",
        "QuestionAndAnswer/*=rag",
        "--task-kind",
        "Classification/*=classification",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let err = common::stderr(&o);
    assert!(err.contains("read from Bedrock evaluation output (a score of at least 0.5 is a success):\n  claude-sonnet-4-5 on Classification/custom-intents: 300 records, Accuracy mean 0.758"), "{err}");
    // Another metric, by name.
    let o = common::tiersim(&[
        "calibrate",
        root.join("evals").to_str().unwrap(),
        "--task-kind",
        "*=rag",
        "--metric",
        "Toxicity",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("_output.jsonl:1:1: no `Toxicity` score in this record; its metrics: Robustness, Accuracy; choose one"),
        "{}",
        common::stderr(&o)
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn few_items_and_bad_records_are_said_plainly() {
    let root = bedrock_job("bedrock-few", 20);
    let o = common::tiersim(&[
        "calibrate",
        root.join("evals").to_str().unwrap(),
        "--task-kind",
        "*=rag",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    // 100 / sqrt(20) = 22.4 points.
    assert!(
        common::stderr(&o).contains("warning: task Classification/custom-intents has 20 items: its accuracies are known to about ±22 points (95%); 100 items give ±10, 400 give ±5"),
        "{}",
        common::stderr(&o)
    );
    // A record without scores.
    let f = root.join("evals/my-job/7f3e2a10-uuid/models/amazon.nova-pro-v1:0/taskTypes/Classification/datasets/custom-intents/0a1b2c3d_output.jsonl");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str("\n{\"inputRecord\": {\"prompt\": \"p\"}, \"modelResponses\": []}");
    std::fs::write(&f, text).unwrap();
    let o = common::tiersim(&[
        "calibrate",
        root.join("evals").to_str().unwrap(),
        "--task-kind",
        "*=rag",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        common::stderr(&o),
        format!(
            "error: {}:21:1: record without automatedEvaluationResult.scores; expected [{{metricName, result}}, ...]\n",
            f.display()
        )
    );
    // A folder with no evaluation output.
    let empty = root.join("nothing-here");
    std::fs::create_dir_all(&empty).unwrap();
    let o = common::tiersim(&["calibrate", empty.to_str().unwrap()]);
    assert_eq!(
        common::stderr(&o),
        format!(
            "error: {}: is a directory with no Bedrock evaluation output in it (looked for *_output.jsonl under models/<model>/taskTypes/<task type>/datasets/<dataset>/)\n",
            empty.display()
        )
    );
    // Two different outcomes for one item and model: refused, naming both
    // lines; combined by their mean when asked.
    let csv = root.join("dup.csv");
    std::fs::write(
        &csv,
        "item,task,model,correct\nq1,t,a,1\nq1,t,b,0\nq2,t,a,0\nq1,t,a,0\n",
    )
    .unwrap();
    let o = common::tiersim(&["calibrate", csv.to_str().unwrap(), "--task-kind", "*=rag"]);
    assert_eq!(o.status.code(), Some(2));
    let c = csv.display();
    assert_eq!(
        common::stderr(&o),
        format!(
            "error: {c}:2 and {c}:5: item `q1` of task `t` has two different outcomes for model `a` (1 and 0); keep one, or combine duplicates by their mean with --duplicates mean\n"
        )
    );
    let o = common::tiersim(&[
        "calibrate",
        csv.to_str().unwrap(),
        "--task-kind",
        "*=rag",
        "--duplicates",
        "mean",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    std::fs::remove_dir_all(&root).unwrap();
}
