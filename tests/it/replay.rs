//! Replayed traffic from request logs.

use crate::common;

use common::{root, scenario, stderr, stdout, tiersim};
use tiersim::logs::{self, LogFormat, ReadOptions};
use tiersim::sim::instance::{AtQuantile, resolve};
use tiersim::traffic::CacheInst;

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/logs").join(name)
}

#[test]
fn bedrock_log_replays_to_the_expected_mix_and_tokens() {
    // The fixture: 16 classification calls (inputs 200/400, output 5, a
    // 1,500-token prefix written once and read 15 times), 10 writing calls
    // (inputs 1,000/1,400, outputs 250/350), 4 unlabelled (500 in, 100 out),
    // plus a truncated line and a record without an output count.
    let log = logs::read(
        &fixture("bedrock-invocations.jsonl"),
        &ReadOptions::new(LogFormat::BedrockInvocationLog, "task"),
    )
    .unwrap();
    assert_eq!(log.requests, 30);
    assert_eq!(log.malformed, 2);
    assert_eq!(log.errors[0].line, 8);
    assert_eq!(
        (log.errors[1].line, log.errors[1].message.as_str()),
        (21, "missing output.outputTokenCount")
    );
    let d = logs::derive(&log);
    let w = |label: &str| d.workloads.iter().find(|w| w.label == label).unwrap();
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((w("classification").share - 16.0 / 30.0).abs() < 1e-12);
    assert!((w("writing").share - 10.0 / 30.0).abs() < 1e-12);
    assert!((w("unlabelled").share - 4.0 / 30.0).abs() < 1e-12);
    assert_eq!(mean(&w("classification").input_tokens), 300.0);
    assert_eq!(mean(&w("classification").output_tokens), 5.0);
    assert_eq!(mean(&w("writing").input_tokens), 1200.0);
    assert_eq!(mean(&w("writing").output_tokens), 300.0);
    assert_eq!(w("classification").prefix_tokens, 1500.0);
    assert_eq!(w("classification").hit_rate, 15.0 / 16.0);
    assert_eq!(w("writing").cached_share, 0.0);

    // --strict stops at the first malformed line.
    let e = logs::read(
        &fixture("bedrock-invocations.jsonl"),
        &ReadOptions {
            strict: true,
            ..ReadOptions::new(LogFormat::BedrockInvocationLog, "task")
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("bedrock-invocations.jsonl:8:1: not a JSON object"),
        "{e}"
    );
}

#[test]
fn a_scenario_runs_on_replayed_traffic() {
    let dir = root().join("tests/fixtures");
    let yaml = format!(
        r#"
name: replayed
horizon_months: 2
traffic: {{ replay: {}, format: bedrock-invocation-log }}
volume: {{ requests_per_month: 1000000 }}
policies:
  - {{ name: sonnet, single: claude-sonnet-4-5 }}
  - {{ name: micro, single: nova-micro }}
baseline: sonnet
"#,
        dir.join("logs/bedrock-invocations.jsonl").display()
    );
    let s = scenario(&yaml);
    assert_eq!(s.workloads.len(), 3);
    let inst = resolve(&s, &mut AtQuantile::default(), 0);
    let w = |name: &str| inst.workloads.iter().find(|w| w.name == name).unwrap();
    assert_eq!(w("classification").input.mean(), 300.0);
    assert_eq!(w("writing").output.mean(), 300.0);
    assert_eq!(w("classification").prefix_tokens, 1500);
    match w("classification").cache {
        CacheInst::Pinned { hit_rate, .. } => assert_eq!(hit_rate, 15.0 / 16.0),
        ref other => panic!("{other:?}"),
    }
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("skipped 2 malformed line(s)")),
        "{:?}",
        s.notes
    );
    let run = tiersim::run(&s, &tiersim::RunOptions::default()).unwrap();
    assert_eq!(run.volumes[0], 1_000_000.0);
}

#[test]
fn profile_prices_the_log_at_catalog_rates() {
    // Two calls: Nova Micro 1,000 in / 10 out = $0.000035 + $0.0000014;
    // Sonnet 4.5 (global) 2,000 in + a 4,000-token cache read + 500 out =
    // $0.006 + $0.0012 + $0.0075. Total $0.0147364.
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let map = logs::ModelMap::default();
    let log = logs::read(
        &fixture("two-calls.csv"),
        &ReadOptions {
            prices: Some(logs::Prices {
                catalog: &catalog,
                default_profile: "global",
                map: &map,
            }),
            ..ReadOptions::new(LogFormat::Csv, "task")
        },
    )
    .unwrap();
    let r = log.bill.unwrap();
    assert!((r.by_model["nova-micro"] - 0.0000364).abs() < 1e-12);
    assert!((r.by_model["claude-sonnet-4-5"] - 0.0147).abs() < 1e-12);
    assert!((r.total_usd - 0.0147364).abs() < 1e-12);
    let o = tiersim(&["profile", "tests/fixtures/logs/two-calls.csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("prices: $0.0147364"), "{}", stdout(&o));
    // The derived YAML is a scenario tiersim accepts.
    let o = tiersim(&["profile", "tests/fixtures/logs/bedrock-invocations.jsonl"]);
    let dir = common::temp_dir("profile");
    let f = dir.join("derived.yaml");
    std::fs::write(&f, stdout(&o)).unwrap();
    let v = tiersim(&["validate", f.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// The fixture's lines spread over an S3 delivery tree: two regions, two
/// days, gzipped files (one of two gzip members), a plain file, the
/// permission-check object Bedrock writes, and a `data/` folder of large
/// request bodies that are not records.
fn s3_tree(tag: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("bedrock-invocations.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let root = common::temp_dir(tag);
    let base = root.join("AWSLogs/123456789012/BedrockModelInvocationLogs");
    let file = |rel: &str, bytes: &[u8]| {
        let p = base.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    let part = |a: usize, b: usize| lines[a..b].join("\n") + "\n";
    let mut two_members = gzip(&part(0, 6));
    two_members.extend(gzip(&part(6, 12)));
    file("us-east-1/2026/11/03/00/a1.json.gz", &two_members);
    file("us-east-1/2026/11/03/01/a2.json.gz", &gzip(&part(12, 20)));
    file("us-west-2/2026/11/04/09/b1.json", part(20, 26).as_bytes());
    file(
        "us-west-2/2026/11/04/10/b2.json.gz",
        &gzip(&part(26, lines.len())),
    );
    file(
        "us-east-1/2026/11/03/00/data/req-0001.json",
        b"{\"not\": \"a record\"}",
    );
    std::fs::write(root.join("amazon-bedrock-logs-permission-check"), b"").unwrap();
    root
}

fn priced(catalog: &tiersim::Catalog, map: &logs::ModelMap, path: &std::path::Path) -> logs::Log {
    logs::read(
        path,
        &ReadOptions {
            prices: Some(logs::Prices {
                catalog,
                default_profile: "global",
                map,
            }),
            ..ReadOptions::new(LogFormat::BedrockInvocationLog, "task")
        },
    )
    .unwrap()
}

#[test]
fn a_gzipped_s3_tree_profiles_as_the_same_records_in_one_plain_file() {
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let map = logs::ModelMap::default();
    let tree = s3_tree("s3-tree");
    let one = priced(&catalog, &map, &fixture("bedrock-invocations.jsonl"));
    let many = priced(&catalog, &map, &tree);
    assert_eq!((one.files, many.files), (1, 4));
    assert_eq!((many.requests, many.malformed), (30, 2));
    // The malformed lines are named by file and line within it.
    let first = many.first_error().unwrap();
    let a1 = tree
        .join("AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/03/00/a1.json.gz");
    assert!(
        first.starts_with(&format!("{} line 8: not a JSON object", a1.display())),
        "{first}"
    );
    let (a, b) = (logs::derive(&one), logs::derive(&many));
    assert_eq!(a.by_hour, b.by_hour);
    assert_eq!(a.span_seconds, b.span_seconds);
    assert_eq!(a.workloads.len(), b.workloads.len());
    for (x, y) in a.workloads.iter().zip(&b.workloads) {
        assert_eq!(
            (&x.label, x.requests, x.prefix_tokens, x.hit_rate, &x.models),
            (&y.label, y.requests, y.prefix_tokens, y.hit_rate, &y.models)
        );
        assert_eq!(x.input_tokens, y.input_tokens, "{}", x.label);
    }
    let (ba, bb) = (one.bill.unwrap(), many.bill.unwrap());
    assert_eq!(ba.by_model, bb.by_model);
    assert_eq!(ba.total_usd, bb.total_usd);
    // The command says how many files it read and prints the same scenario.
    let o = tiersim(&["profile", tree.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("# 30 requests read from 4 files, 2 malformed line(s) skipped"));
    let plain = tiersim(&["profile", "tests/fixtures/logs/bedrock-invocations.jsonl"]);
    // The same scenario, but for the header and the path it replays.
    let body = |s: &str| {
        s.lines()
            .skip(3)
            .filter(|l| !l.starts_with("traffic: { replay: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&stdout(&o)), body(&stdout(&plain)));
    std::fs::remove_dir_all(&tree).unwrap();
}

#[test]
fn a_gzip_file_cut_short_keeps_what_was_read_before_the_cut() {
    let tree = s3_tree("s3-cut");
    let f = tree
        .join("AWSLogs/123456789012/BedrockModelInvocationLogs/us-west-2/2026/11/04/10/b2.json.gz");
    let whole = std::fs::read(&f).unwrap();
    std::fs::write(&f, &whole[..whole.len() - 12]).unwrap();
    let log = logs::read(
        &tree,
        &ReadOptions::new(LogFormat::BedrockInvocationLog, "task"),
    )
    .unwrap();
    // The three other files' 24 records (two malformed lines among them)
    // stay; of the cut file, the records the decoder gave before the cut.
    assert!(log.requests >= 20 && log.requests < 30, "{}", log.requests);
    assert_eq!(log.malformed, 3);
    let cut = log.errors.iter().find(|e| e.file == f).unwrap();
    assert!(
        cut.message.starts_with("the gzip data is cut short (the file ends inside a compressed stream); the file is incomplete: copy it again (after "),
        "{}",
        cut.message
    );
    // Strict reading stops there, naming the file.
    let e = logs::read(
        &tree,
        &ReadOptions {
            strict: true,
            ..ReadOptions::new(LogFormat::BedrockInvocationLog, "task")
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("a1.json.gz:8:1: not a JSON object"), "{e}");
    std::fs::remove_dir_all(&tree).unwrap();
}

/// The same two calls logged under the ids AWS writes: an inference-profile
/// ARN, a foundation-model ARN, an application inference profile (mapped
/// by the user, then not), and an ARN of a model no catalog has.
#[test]
fn model_ids_as_logged_are_priced_whole() {
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let dir = common::temp_dir("arns");
    let record = |id: &str, input: u64, output: u64| {
        format!(
            r#"{{"timestamp": "2026-11-03T10:00:00Z", "modelId": "{id}", "input": {{"inputTokenCount": {input}}}, "output": {{"outputTokenCount": {output}}}, "requestMetadata": {{"task": "writing"}}}}"#
        )
    };
    let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3x9abc12def";
    let lines = [
        record(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            1000,
            100,
        ),
        record(
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
            2000,
            200,
        ),
        record(app, 1000, 100),
    ];
    let f = dir.join("arns.jsonl");
    std::fs::write(&f, lines.join("\n")).unwrap();
    // By hand: Sonnet 4.5 under `us` (1.1 × $3 / $15 per 1M): 1,000 in and
    // 100 out = $0.0033 + $0.00165 = $0.00495, twice (the application
    // profile is mapped to it at us); Nova Micro (us: $0.035 / $0.14):
    // 2,000 in, 200 out = $0.00007 + $0.000028. Total $0.009998.
    let mut map = logs::ModelMap::default();
    map.add("k3x9abc12def=claude-sonnet-4-5@us").unwrap();
    let bill = priced(&catalog, &map, &f).bill.unwrap();
    assert_eq!(bill.unpriced_requests, 0);
    assert!((bill.by_model["claude-sonnet-4-5"] - 0.0099).abs() < 1e-12);
    assert!((bill.by_model["nova-micro"] - 0.000098).abs() < 1e-12);
    assert!(
        (bill.total_usd - 0.009998).abs() < 1e-12,
        "{}",
        bill.total_usd
    );
    // Unmapped, the application profile is counted, with its share of
    // tokens, and sized at the priced requests' cost per token.
    let bill = priced(&catalog, &logs::ModelMap::default(), &f)
        .bill
        .unwrap();
    assert_eq!((bill.priced_requests, bill.unpriced_requests), (2, 1));
    assert_eq!((bill.priced_tokens, bill.unpriced_tokens), (3300, 1100));
    let per_token = (0.00495 + 0.000098) / 3300.0;
    assert!((bill.unpriced_estimate_usd - 1100.0 * per_token).abs() < 1e-12);
    let o = tiersim(&["profile", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("#   1 request(s) not priced (25.0% of the log's tokens); at the priced requests' average cost per token they would add $0.0016826667:"),
        "{out}"
    );
    assert!(out.contains(&format!("#     {app}: 1 request(s), an application inference profile (k3x9abc12def): its model is known only to your account; map it to a catalog model with --map ID=MODEL[@PROFILE]")), "{out}");
    // With the map on the command line, the whole log is priced.
    let o = tiersim(&[
        "profile",
        f.to_str().unwrap(),
        "--map",
        &format!("{app}=claude-sonnet-4-5@us"),
    ]);
    assert!(stdout(&o).contains("prices: $0.009998"), "{}", stdout(&o));
    // A map to a model or profile the catalog lacks is refused up front.
    let o = tiersim(&["profile", f.to_str().unwrap(), "--map", "x=claude-sonnet-9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: x=claude-sonnet-9: unknown model `claude-sonnet-9`"),
        "{}",
        stderr(&o)
    );
    let o = tiersim(&[
        "profile",
        f.to_str().unwrap(),
        "--map",
        "x=nova-micro@global",
    ]);
    assert_eq!(
        stderr(&o),
        "error: x=nova-micro@global: nova-micro has no `global` profile; it has apac, eu, us\n"
    );
    let o = tiersim(&["profile", f.to_str().unwrap(), "--map", "nonsense"]);
    assert_eq!(
        stderr(&o),
        "error: --map `nonsense` is not ID=MODEL or ID=MODEL@PROFILE (e.g. abc123=claude-sonnet-4-5@us)\n"
    );
    // An ARN of a model the catalog does not have says which.
    std::fs::write(
        &f,
        record("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-nonesuch-v1:0", 10, 1),
    )
    .unwrap();
    let bill = priced(&catalog, &logs::ModelMap::default(), &f)
        .bill
        .unwrap();
    assert_eq!(
        bill.unpriced.values().next().unwrap().reason,
        "inference-profile `us.anthropic.claude-nonesuch-v1:0` is not in the catalog"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A log that mixes models (Nova Micro, Nova Pro and Sonnet 4.5 within one
/// label), profiles (Sonnet under `global.` and, through an
/// inference-profile ARN, `us.`) and cache use (some requests read or write
/// a prefix, some use none). `profile` derives a scenario whose `as-logged`
/// policy routes each workload as the log did; running it reproduces the
/// log's own bill per request.
#[test]
fn the_derived_as_logged_policy_reproduces_the_logs_bill() {
    let dir = common::temp_dir("as-logged");
    let record = |id: &str, task: &str, input: u64, read: u64, write: u64, output: u64| {
        format!(
            r#"{{"timestamp": "2026-11-03T10:00:00Z", "modelId": "{id}", "input": {{"inputTokenCount": {input}, "cacheReadInputTokenCount": {read}, "cacheWriteInputTokenCount": {write}}}, "output": {{"outputTokenCount": {output}}}, "requestMetadata": {{"task": "{task}"}}}}"#
        )
    };
    let mut lines = Vec::new();
    // Support: each triple of requests shares its token counts and cache
    // use, one request to each model, so within the cached and the
    // uncached requests the model is independent of size (the condition
    // under which a per-request split reproduces the bill exactly).
    let models = [
        "us.amazon.nova-micro-v1:0",
        "us.amazon.nova-pro-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ];
    for i in 0..1200u64 {
        let t = i / 3;
        let (input, output) = (200 + (t * 37 % 40) * 120, 20 + (t * 13 % 25) * 30);
        let (read, write) = match (t % 2, (t / 2) % 4) {
            (0, 0) => (0, 2000),
            (0, _) => (2000, 0),
            _ => (0, 0),
        };
        lines.push(record(
            models[(i % 3) as usize],
            "support",
            input,
            read,
            write,
            output,
        ));
    }
    // Coding: Sonnet under `us` through an ARN, an 8,000-token prefix read
    // three times in four.
    for i in 0..300u64 {
        let (read, write) = if i % 4 == 0 { (0, 8000) } else { (8000, 0) };
        lines.push(record(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "coding",
            1000 + (i * 7 % 10) * 500,
            read,
            write,
            200 + (i * 3 % 10) * 80,
        ));
    }
    let log = dir.join("mixed.jsonl");
    std::fs::write(&log, lines.join("\n")).unwrap();
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let bill = priced(&catalog, &logs::ModelMap::default(), &log)
        .bill
        .unwrap();
    assert_eq!((bill.priced_requests, bill.unpriced_requests), (1500, 0));
    let per_1k = bill.total_usd / 1500.0 * 1000.0;

    let o = tiersim(&["profile", log.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let derived = stdout(&o);
    // The routing as the log did it: Support's cached and uncached requests
    // a third to each model; Coding all Sonnet; Sonnet's mixed profiles as
    // one cost-weighted multiplier.
    for line in [
        "      coding: claude-sonnet-4-5\n",
        "      support: { split: { claude-sonnet-4-5: 33.333333333333336, nova-micro: 33.333333333333336, nova-pro: 33.333333333333336 } }\n",
        "      support-cached: { split: { claude-sonnet-4-5: 33.333333333333336, nova-micro: 33.333333333333336, nova-pro: 33.333333333333336 } }\n",
        "prices:   # the log's calls were billed under other profiles than region_profile\n  claude-sonnet-4-5: { multiplier: 1.0",
    ] {
        assert!(derived.contains(line), "missing {line:?} in:\n{derived}");
    }
    let scenario = dir.join("derived.yaml");
    std::fs::write(&scenario, &derived).unwrap();
    let o = tiersim(&[
        "run",
        scenario.to_str().unwrap(),
        "--exact",
        "--set",
        "horizon_months=1",
        "--set",
        "volume.requests_per_month=1000000",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let simulated = run["policies"][0]["cost_per_1k_requests"].as_f64().unwrap();
    // A million simulated requests: the per-request cost's coefficient of
    // variation here is under 1.5, so its mean is within 0.15% (one sd) of
    // the expectation, which equals the log's own average by construction.
    // 1% is over six standard deviations.
    assert!(
        (simulated / per_1k - 1.0).abs() < 0.01,
        "simulated ${simulated:.4} per 1k requests, the log's bill ${per_1k:.4}"
    );
    eprintln!("as-logged: simulated ${simulated:.6} per 1k requests, the log's bill ${per_1k:.6}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Athena SQL run for real: DuckDB (installed by `.ci/run` from PyPI)
/// reads the gzipped S3 tree as JSON into the standard table's columns and
/// runs the query tiersim prints, unchanged, with two macros for Trino
/// functions DuckDB names differently (`from_iso8601_timestamp`,
/// `to_unixtime`). Its result, read back with `--from-aggregate`, gives the
/// workloads, arrival pattern and bill `profile` derives from the log itself.
/// Whether Python's DuckDB is installed (CI installs it;
/// `TIERSIM_SQL_TEST=1` makes its absence a failure rather than a skip).
fn duckdb() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("TIERSIM_SQL_TEST").is_none(),
            "TIERSIM_SQL_TEST is set but python3 cannot import duckdb"
        );
        eprintln!(
            "skipped: no DuckDB (python3 -m pip install duckdb; CI installs it; set TIERSIM_SQL_TEST=1 to require it)"
        );
    }
    found
}

/// Runs `profile --sql athena`'s query over the invocation logs under
/// `tree` in DuckDB (with Trino's names for three functions) and returns
/// the aggregate CSV.
fn athena_aggregate(tree: &std::path::Path) -> std::path::PathBuf {
    let o = tiersim(&["profile", "--sql", "athena"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sql = stdout(&o);
    assert!(sql.contains("CREATE EXTERNAL TABLE IF NOT EXISTS bedrock_invocation_logs"));
    let query: String = sql
        .split("\n-- 2.")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let query_file = tree.join("query.sql");
    std::fs::write(&query_file, query.trim().trim_end_matches(';')).unwrap();
    let result = tree.join("aggregate.csv");
    let script = format!(
        r#"
import duckdb
con = duckdb.connect()
con.execute("""CREATE TABLE bedrock_invocation_logs AS SELECT * FROM read_json('{tree}/AWSLogs/**/*.json*',
  format='newline_delimited', ignore_errors=true,
  columns={{'timestamp': 'VARCHAR', 'modelId': 'VARCHAR',
    'input': 'STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)',
    'output': 'STRUCT(outputTokenCount BIGINT)', 'requestMetadata': 'MAP(VARCHAR, VARCHAR)'}})""")
con.execute("CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)")
con.execute("CREATE MACRO to_unixtime(t) AS epoch(t)")
con.execute("CREATE MACRO day_of_week(t) AS isodow(t)")
query = open('{query}').read()
con.execute("COPY (" + query + ") TO '{result}' (HEADER, DELIMITER ',')")
"#,
        tree = tree.display(),
        query = query_file.display(),
        result = result.display()
    );
    let py = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 (with duckdb: python3 -m pip install duckdb; .ci/run installs it)");
    assert!(
        py.status.success(),
        "DuckDB could not run the query (python3 -m pip install duckdb): {}",
        String::from_utf8_lossy(&py.stderr)
    );
    result
}

#[test]
fn the_athena_query_computes_what_profile_derives_from_the_log() {
    if !duckdb() {
        return;
    }
    let tree = s3_tree("sql-tree");
    let result = athena_aggregate(&tree);
    let catalog = tiersim::Catalog::load("bedrock-2026-11", None).unwrap();
    let map = logs::ModelMap::default();
    let load = |path: &std::path::Path, format| {
        logs::load(
            path,
            &ReadOptions {
                prices: Some(logs::Prices {
                    catalog: &catalog,
                    default_profile: "global",
                    map: &map,
                }),
                ..ReadOptions::new(format, "task")
            },
        )
        .unwrap()
    };
    let own = load(&tree, LogFormat::BedrockInvocationLog);
    let agg = load(&result, LogFormat::AthenaAggregate);
    let (a, b) = (&own.derived, &agg.derived);
    assert_eq!(a.requests, 30);
    assert_eq!(b.requests, a.requests);
    assert_eq!(b.by_hour, a.by_hour);
    assert_eq!(b.span_seconds, a.span_seconds);
    assert_eq!(b.peak_to_average, a.peak_to_average);
    assert_eq!(b.workloads.len(), a.workloads.len());
    let mean = |xs: &[f64], ws: &[f64]| {
        if ws.is_empty() {
            xs.iter().sum::<f64>() / xs.len() as f64
        } else {
            xs.iter().zip(ws).map(|(x, w)| x * w).sum::<f64>() / ws.iter().sum::<f64>()
        }
    };
    for (x, y) in a.workloads.iter().zip(&b.workloads) {
        assert_eq!(
            (&x.name, x.requests, &x.models),
            (&y.name, y.requests, &y.models)
        );
        assert!((x.share - y.share).abs() < 1e-12);
        assert!(
            (x.prefix_tokens - y.prefix_tokens).abs() < 1e-9,
            "{}",
            x.name
        );
        assert!((x.hit_rate - y.hit_rate).abs() < 1e-12, "{}", x.name);
        // Bucket means weighted by their counts give the exact mean.
        let (mi, mo) = (
            mean(&x.input_tokens, &x.input_weights),
            mean(&y.input_tokens, &y.input_weights),
        );
        assert!((mi - mo).abs() < 1e-9 * mi, "{}: {mi} vs {mo}", x.name);
        let (mi, mo) = (
            mean(&x.output_tokens, &x.output_weights),
            mean(&y.output_tokens, &y.output_weights),
        );
        assert!((mi - mo).abs() < 1e-9 * mi, "{}: {mi} vs {mo}", x.name);
    }
    let (ba, bb) = (own.bill.unwrap(), agg.bill.unwrap());
    assert_eq!(
        ba.by_model.keys().collect::<Vec<_>>(),
        bb.by_model.keys().collect::<Vec<_>>()
    );
    for (k, v) in &ba.by_model {
        assert!(
            (v - bb.by_model[k]).abs() <= 1e-12 * v.max(1e-9),
            "{k}: {v} vs {}",
            bb.by_model[k]
        );
    }
    // The fixture's busiest minutes hold two requests (00:30, 01:30, ...;
    // counted with Python's json over the fixture).
    assert_eq!(agg.peak_minute, Some(2));
    // The command reads it too, and the aggregate replays in a scenario.
    let o = tiersim(&["profile", "--from-aggregate", result.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("format: athena-aggregate"),
        "{}",
        stdout(&o)
    );
    let scenario = tree.join("from-aggregate.yaml");
    std::fs::write(&scenario, stdout(&o)).unwrap();
    let v = tiersim(&["validate", scenario.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    // An aggregate without the columns the query writes is refused.
    let bad = tree.join("bad.csv");
    std::fs::write(&bad, "kind,label,requests\nrequests,x,3\n").unwrap();
    let o = tiersim(&["profile", "--from-aggregate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}:1:1: missing column(s) model, cached, bucket, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, first_epoch, last_epoch; expected the columns of tiersim's Athena aggregate query: kind, label, model, cached, bucket, requests, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, first_epoch, last_epoch\n",
            bad.display()
        )
    );
    std::fs::remove_dir_all(&tree).unwrap();
}

/// A week and a bit of invocation logs (2026-11-02, a Monday, to 11-10):
/// weekdays 10 requests an hour from 09:00 to 17:00 and 2 an hour
/// otherwise, weekend days 1 an hour, and a burst of 20 more on Wednesday
/// at 10:05 (12) and 10:06 (8). Returns the directory.
fn shaped_log(tag: &str) -> std::path::PathBuf {
    let template = std::fs::read_to_string(fixture("bedrock-invocations.jsonl")).unwrap();
    let first = template.lines().next().unwrap();
    let root = common::temp_dir(tag);
    let mut out = String::new();
    let mut id = 0;
    let mut push = |day: u32, hour: u32, minute: u32| {
        id += 1;
        let ts = format!("2026-11-{day:02}T{hour:02}:{minute:02}:00Z");
        out.push_str(
            &first
                .replace("2026-11-03T00:00:00Z", &ts)
                .replace("req-0000", &format!("req-{id}")),
        );
        out.push('\n');
    };
    for day in 2..=10u32 {
        let weekend = day == 7 || day == 8;
        for hour in 0..24u32 {
            let n = if weekend {
                1
            } else if (9..17).contains(&hour) {
                10
            } else {
                2
            };
            for i in 0..n {
                push(day, hour, 30 + i);
            }
        }
    }
    for i in 0..20 {
        push(4, 10, if i < 12 { 5 } else { 6 });
    }
    let dir = root.join("AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("log.json"), out).unwrap();
    root
}

#[test]
fn profile_derives_the_daily_shape_weekend_factor_and_minute_burst() {
    let tree = shaped_log("shape-tree");
    let d = logs::derive(
        &logs::read(
            &tree,
            &ReadOptions::new(LogFormat::BedrockInvocationLog, "task"),
        )
        .unwrap(),
    );
    let shape = d.shape.expect("a shape from 826 requests over 9 days");
    // Weekday totals per hour over 7 weekdays: 70 (09:00-17:00), 90 at
    // 10:00 (the burst), 14 otherwise; 804 in all, 33.5 an hour.
    let mean = 804.0 / 24.0;
    assert!((shape.daily[9] - 70.0 / mean).abs() < 1e-12);
    assert!((shape.daily[10] - 90.0 / mean).abs() < 1e-12);
    assert!((shape.daily[3] - 14.0 / mean).abs() < 1e-12);
    // Weekend: 24 a day against 804 / 7 a weekday.
    let w = shape.weekend_factor.unwrap();
    assert!((w - 24.0 / (804.0 / 7.0)).abs() < 1e-12, "{w}");
    // Busiest hour: Wednesday 10:00, 30 requests, 12 in its busiest minute.
    assert_eq!(shape.peak_minute_factor, Some(12.0 / 0.5));
    // The derived scenario states it, the burst capped at what tiersim models.
    let o = tiersim(&["profile", tree.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("    weekend_factor: 0.209\n"), "{text}");
    assert!(
        text.contains("    peak_minute_factor: 2   # the log's busiest minute was 24.00x its hour's average minute"),
        "{text}"
    );
    let scenario = tree.join("shaped.yaml");
    std::fs::write(&scenario, &text).unwrap();
    let o = tiersim(&["validate", scenario.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The aggregate query gives the same shape, to the bit.
    if duckdb() {
        let agg = logs::load(
            &athena_aggregate(&tree),
            &ReadOptions::new(LogFormat::AthenaAggregate, "task"),
        )
        .unwrap();
        assert_eq!(agg.derived.shape, Some(shape));
    }
}
