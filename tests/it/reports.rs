//! `--out DIR`: data files read back with polars, charts that show
//! something, a self-contained HTML report (checked in a real browser when
//! one is installed), and directories tiersim did not make left alone.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{root, stderr, stdout, tiersim};
use polars::prelude::*;

const SCENARIOS: [&str; 4] = [
    "support-platform",
    "rag-assistant",
    "coding-assistant",
    "document-extraction",
];

/// The ledger's documented header (README and `export::frames`).
const LEDGER_HEADER: &str = "policy,month,workload,model,family,component,requests,calls,input_tokens,cached_tokens,output_tokens,cost_usd";
const REPLICATIONS_HEADER: &str =
    "replication,policy,month,requests,cost_usd,succeeded,escalated,quality";

fn scratch(tag: &str) -> PathBuf {
    common::absent_dir(&format!("reports-{tag}"))
}

/// Runs `tiersim run` with `--out` and returns the JSON document it printed.
fn run_out(scenario: &str, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let d = dir.to_str().unwrap();
    let mut args = vec!["run", scenario, "--format", "json", "--out", d];
    args.extend_from_slice(extra);
    let o = tiersim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn str_col(df: &DataFrame, name: &str) -> Vec<String> {
    let ca = df.column(name).unwrap().str().unwrap();
    (0..ca.len())
        .map(|i| ca.get(i).unwrap().to_string())
        .collect()
}

fn f64_col(df: &DataFrame, name: &str) -> Vec<f64> {
    let ca = df.column(name).unwrap().f64().unwrap();
    (0..ca.len()).map(|i| ca.get(i).unwrap()).collect()
}

/// Share of non-white pixels in the middle of a PNG (the plot area).
fn ink_in_plot_area(png_bytes: &[u8]) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width, info.height);
    let channels = info.line_size / w as usize;
    let (mut ink, mut all) = (0u64, 0u64);
    for y in h / 5..h * 4 / 5 {
        for x in w / 5..w * 4 / 5 {
            let i = y as usize * info.line_size + x as usize * channels;
            all += 1;
            if buf[i..i + 3] != [255, 255, 255] {
                ink += 1;
            }
        }
    }
    (w, h, ink as f64 / all as f64)
}

#[test]
fn every_shipped_scenario_writes_data_that_reads_back_to_the_cent_and_charts_that_show_it() {
    for name in SCENARIOS {
        let dir = scratch(name);
        let doc = run_out(&format!("scenarios/{name}.yaml"), &dir, &["-q"]);
        let policies = doc["policies"].as_array().unwrap();

        // Ledger: sums per policy are the JSON totals, to the cent.
        let ledger = read_parquet(&dir.join("ledger.parquet"));
        let mut by_policy: BTreeMap<String, f64> = BTreeMap::new();
        for (p, c) in str_col(&ledger, "policy")
            .into_iter()
            .zip(f64_col(&ledger, "cost_usd"))
        {
            assert!(c.is_finite() && c >= 0.0, "{name}: cost {c}");
            *by_policy.entry(p).or_default() += c;
        }
        assert_eq!(by_policy.len(), policies.len(), "{name}: every policy");
        for p in policies {
            let total = p["total_cost_usd"].as_f64().unwrap();
            let got = by_policy[p["name"].as_str().unwrap()];
            assert!(
                (got - total).abs() < 0.005,
                "{name}/{}: ledger {got} vs JSON {total}",
                p["name"]
            );
        }
        // The CSV carries the documented header and the same rows.
        let csv = std::fs::read_to_string(dir.join("ledger.csv")).unwrap();
        assert_eq!(csv.lines().next().unwrap(), LEDGER_HEADER);
        assert_eq!(csv.lines().count() - 1, ledger.height());

        // Replications: the bands are quantiles of each policy's horizon
        // totals over the replications; recompute them here.
        let reps = read_parquet(&dir.join("replications.parquet"));
        let rcsv = std::fs::read_to_string(dir.join("replications.csv")).unwrap();
        assert_eq!(rcsv.lines().next().unwrap(), REPLICATIONS_HEADER);
        let mut rep_totals: BTreeMap<(String, u32), f64> = BTreeMap::new();
        let rep_ids = reps.column("replication").unwrap().u32().unwrap().clone();
        for (i, (p, c)) in str_col(&reps, "policy")
            .into_iter()
            .zip(f64_col(&reps, "cost_usd"))
            .enumerate()
        {
            *rep_totals.entry((p, rep_ids.get(i).unwrap())).or_default() += c;
        }
        for p in policies {
            let policy = p["name"].as_str().unwrap();
            let mut totals: Vec<f64> = rep_totals
                .iter()
                .filter(|((q, _), _)| q == policy)
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(totals.len() as u64, doc["replications"].as_u64().unwrap());
            totals.sort_by(f64::total_cmp);
            let quantile = |q: f64| {
                let h = q * (totals.len() - 1) as f64;
                let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
                totals[lo] + (h - lo as f64) * (totals[hi] - totals[lo])
            };
            let bands = &p["bands"];
            for (q, v) in bands["quantiles"]
                .as_array()
                .unwrap()
                .iter()
                .zip(bands["total_cost_usd"].as_array().unwrap())
            {
                let (q, v) = (q.as_f64().unwrap(), v.as_f64().unwrap());
                assert!(
                    (quantile(q) - v).abs() < 0.005,
                    "{name}/{policy}: P{q} of replications {} vs band {v}",
                    quantile(q)
                );
            }
        }

        // Summary: CSV has a row per policy; JSON is the run document.
        let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
        assert_eq!(summary.lines().count(), policies.len() + 1);
        let sj: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(sj, doc);

        // Provenance.
        let prov: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(prov["seed"], doc["seed"]);
        assert_eq!(prov["catalog"]["as_of"], doc["catalog"]["as_of"]);
        assert_eq!(prov["inputs"][0]["path"], format!("scenarios/{name}.yaml"));
        assert_eq!(prov["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
        assert!(prov["command_line"].as_str().unwrap().contains(" run "));
        let files: Vec<&str> = prov["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for f in &files {
            assert!(dir.join(f).is_file(), "{name}: run.json lists {f}");
        }

        // Charts: every one in both formats, naming every policy, with ink.
        let mut charts = vec![
            "monthly_cost",
            "cost_quality",
            "model_mix",
            "cost_components",
        ];
        if doc.get("credits").is_some() {
            charts.push("credits");
        }
        for chart in charts {
            let svg = std::fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
            assert!(svg.contains("<svg"), "{name}/{chart}.svg");
            for p in policies {
                let policy = p["name"].as_str().unwrap();
                assert!(
                    svg.lines().any(|l| l.trim() == policy),
                    "{name}/{chart}.svg does not name {policy}"
                );
            }
            let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
            let (w, h, ink) = ink_in_plot_area(&png);
            assert_eq!((w, h), (960, 540), "{name}/{chart}.png size");
            assert!(ink > 0.02, "{name}/{chart}.png is nearly blank: {ink}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// HTML parsed with tl: every section heading, every chart as inline SVG,
/// the tables, nothing fetched from elsewhere, no script.
fn check_html(html: &str, charts: usize, policies: &[&str]) {
    let dom = tl::parse(html, tl::ParserOptions::default()).unwrap();
    let parser = dom.parser();
    let texts = |selector: &str| -> Vec<String> {
        dom.query_selector(selector)
            .unwrap()
            .map(|h| h.get(parser).unwrap().inner_text(parser).trim().to_string())
            .collect()
    };
    assert_eq!(texts("h2"), tiersim::render::html::SECTIONS.to_vec());
    assert_eq!(dom.query_selector("svg").unwrap().count(), charts);
    assert_eq!(dom.query_selector("figure").unwrap().count(), charts);
    let table = dom
        .get_element_by_id("summary-table")
        .expect("a summary table")
        .get(parser)
        .unwrap()
        .as_tag()
        .unwrap();
    let rows: Vec<String> = table
        .query_selector(parser, "tr")
        .unwrap()
        .map(|h| h.get(parser).unwrap())
        .filter(|n| n.inner_html(parser).contains("<td"))
        .map(|n| n.inner_text(parser).trim().to_string())
        .collect();
    assert_eq!(rows.len(), policies.len());
    for (row, p) in rows.iter().zip(policies) {
        assert!(row.starts_with(p), "summary row {row} for {p}");
    }
    assert_eq!(dom.query_selector("#workloads").unwrap().count(), 1);
    assert_eq!(dom.query_selector("script").unwrap().count(), 0);
    for attr in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(attr), "the report fetches something: {attr}");
    }
}

#[test]
fn the_report_is_one_self_contained_page_with_every_section_chart_and_table() {
    let dir = scratch("html");
    let doc = run_out("scenarios/support-platform.yaml", &dir, &["-q"]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let policies: Vec<&str> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // support-platform has credit pools: five charts.
    check_html(&html, 5, &policies);
    // The headline names the recommendation and its savings.
    assert!(html.contains("routed is the cheapest policy within the 2 pp quality budget"));
    assert!(html.contains("<pre>") && html.contains("--out"));
}

#[test]
fn user_text_is_escaped_in_the_report() {
    let dir = scratch("escape");
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = std::fs::read_to_string(root().join("tests/fixtures/minimal.yaml"))
        .unwrap()
        .replacen(
            "name: minimal",
            "name: \"<script>alert('x')</script> & <b>co</b>\"\ndescription: \"<img src=x onerror=alert(1)>\"",
            1,
        );
    let f = dir.join("evil.yaml");
    std::fs::write(&f, yaml).unwrap();
    let out = dir.join("out");
    run_out(f.to_str().unwrap(), &out, &["-q"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(!html.contains("<img"), "unescaped img tag");
    assert!(!html.contains("<b>co"), "unescaped b tag");
    assert!(html.contains(
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; &lt;b&gt;co&lt;&#x2f;b&gt;"
    ));
}

#[test]
fn out_refuses_a_directory_tiersim_did_not_create() {
    let dir = scratch("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), b"precious").unwrap();
    let d = dir.to_str().unwrap();
    let o = tiersim(&["run", "scenarios/support-platform.yaml", "--out", d, "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: --out {d}: the directory exists, is not empty and was not created by tiersim (it has no .tiersim file); name a new directory, or pass --force to write into it anyway\n"
        )
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["thesis.tex".to_string()], "left untouched");
    assert_eq!(std::fs::read(dir.join("thesis.tex")).unwrap(), b"precious");

    // --force writes, and keeps the foreign file.
    let o = tiersim(&[
        "run",
        "scenarios/support-platform.yaml",
        "--out",
        d,
        "--force",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.join("report.html").is_file());
    assert_eq!(std::fs::read(dir.join("thesis.tex")).unwrap(), b"precious");
    // Now it is tiersim's: a second run needs no --force.
    let o = tiersim(&["run", "scenarios/support-platform.yaml", "--out", d, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn what_if_commands_write_their_files() {
    let s = "scenarios/support-platform.yaml";
    let cases: [(&str, Vec<&str>, Vec<&str>); 4] = [
        (
            "sweep",
            vec![
                "sweep",
                s,
                "--vary",
                "volume.requests_per_month=1000000..5000000:3",
                "--replications",
                "20",
            ],
            vec![
                "sweep.csv",
                "sweep.json",
                "sweep_cost.svg",
                "sweep_cost.png",
                "sweep_quality.svg",
                "sweep_quality.png",
                "run.json",
            ],
        ),
        (
            "sensitivity",
            vec![
                "sensitivity",
                s,
                "--policy",
                "routed",
                "--replications",
                "20",
            ],
            vec![
                "sensitivity.csv",
                "sensitivity.json",
                "sensitivity_tornado.svg",
                "sensitivity_tornado.png",
                "run.json",
            ],
        ),
        (
            "credits",
            vec!["credits", s, "--replications", "20"],
            vec![
                "credits.csv",
                "credits.json",
                "credits.svg",
                "credits.png",
                "run.json",
            ],
        ),
        (
            "compare",
            vec![
                "compare",
                s,
                "scenarios/rag-assistant.yaml",
                "--replications",
                "5",
            ],
            vec!["compare.csv", "compare.json", "run.json"],
        ),
    ];
    for (tag, mut args, files) in cases {
        let dir = scratch(tag);
        let d = dir.to_str().unwrap().to_string();
        args.extend_from_slice(&["--out", &d, "-q"]);
        let o = tiersim(&args);
        assert_eq!(o.status.code(), Some(0), "{tag}: {}", stderr(&o));
        for f in files {
            let bytes = std::fs::read(dir.join(f)).unwrap_or_else(|_| panic!("{tag}: {f}"));
            assert!(bytes.len() > 50, "{tag}: {f} is too small");
        }
        let prov: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(prov["command"], tag);
    }
    // The tornado names the sweep's dominant input, growth.
    let svg = std::fs::read_to_string(scratch_path("sensitivity").join("sensitivity_tornado.svg"))
        .unwrap();
    assert!(
        svg.lines().any(|l| l.trim() == "volume.growth.monthly_pct"),
        "the tornado names the scenario's uncertain input"
    );
}

fn scratch_path(tag: &str) -> PathBuf {
    common::temp_path(&format!("reports-{tag}"))
}

fn headless(chromium: &Path, profile: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn the_report_renders_in_a_real_browser() {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let dir = scratch("browser");
    run_out("scenarios/support-platform.yaml", &dir, &["-q"]);
    let page = format!("file://{}", dir.join("report.html").display());
    let profile = dir.join("chromium-profile");

    // The DOM after load: every section heading and chart is there.
    let o = headless(&chromium, &profile)
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium --dump-dom failed");
    let dom = String::from_utf8_lossy(&o.stdout);
    let log = String::from_utf8_lossy(&o.stderr);
    for section in tiersim::render::html::SECTIONS {
        assert!(
            dom.contains(&format!(">{section}</h2>")),
            "rendered page lacks {section}"
        );
    }
    assert_eq!(dom.matches("<svg").count(), 5, "five charts rendered");
    for bad in ["Uncaught", "Failed to load resource", "net::ERR_"] {
        assert!(!log.contains(bad), "the page logged an error: {bad}\n{log}");
    }

    // A screenshot with something on it.
    let shot = dir.join("report.png");
    let o = headless(&chromium, &profile)
        .args([
            "--window-size=1100,3000",
            &format!("--screenshot={}", shot.display()),
            &page,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium --screenshot failed");
    let png = std::fs::read(&shot).expect("screenshot written");
    let (w, h, ink) = ink_in_plot_area(&png);
    assert_eq!((w, h), (1100, 3000));
    assert!(ink > 0.05, "the rendered page is nearly blank: {ink}");
}

#[test]
fn an_interrupted_write_leaves_no_half_written_file_and_says_so() {
    let dir = scratch("sigint");
    let d = dir.to_str().unwrap().to_string();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(["run", "scenarios/support-platform.yaml", "--out", &d, "-q"])
        .current_dir(root())
        // Holds each file in its temporary state for 2 s.
        .env("TIERSIM_TEST_SLOW_WRITE_MS", "2000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a file is being written (the marker, then ledger.parquet).
    let started = std::time::Instant::now();
    let temporary = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .filter(|n| n.contains(".tmp-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    while !dir.join(".tiersim").exists() || temporary(&dir).is_empty() {
        assert!(
            started.elapsed().as_secs() < 60,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.starts_with("interrupted: removed the partly written "),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with("nothing half-written is left"),
        "{err}"
    );
    assert!(
        temporary(&dir).is_empty(),
        "temporary files left: {:?}",
        temporary(&dir)
    );
    // Whatever was completed is whole: the marker, and no result file yet
    // beyond what finished before the interrupt.
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            name == ".tiersim" || name == "ledger.parquet",
            "unexpected file {name}"
        );
    }
    if dir.join("ledger.parquet").exists() {
        read_parquet(&dir.join("ledger.parquet"));
    }
}
