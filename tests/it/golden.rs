//! Golden outputs: every case in `tests/golden/cases.txt` must print
//! exactly `tests/golden/NAME.out`, and a `--out` case must write files
//! whose SHA-256 sums are `tests/golden/NAME.files`. They guard refactors:
//! a change that moves any output byte fails here.
//!
//! To accept an intended change of output, run
//! `TIERSIM_BLESS=1 cargo test --release --test it golden` and review the diff.

use crate::common;

use std::path::Path;

use sha2::{Digest, Sha256};

/// `run.json` lines that differ between two runs of the same command: the
/// time stamp, and the command line and output directory, which name the
/// temporary directory.
const VOLATILE_PROVENANCE_KEYS: [&str; 3] = ["\"created_at\"", "\"command_line\"", "\"out_dir\""];

fn files_digest(dir: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("out dir readable")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).expect("output file readable");
        let bytes = if name == "report.html" {
            // The page shows the command line: the binary's and the
            // temporary directory's paths differ from clone to clone.
            let escape = |p: &str| p.replace('/', "&#x2f;");
            String::from_utf8(bytes)
                .expect("report.html is UTF-8")
                .replace(&escape(&dir.to_string_lossy()), "OUT")
                .replace(&escape(env!("CARGO_BIN_EXE_tiersim")), "tiersim")
                .into_bytes()
        } else if name == "run.json" {
            let text = String::from_utf8(bytes).expect("run.json is UTF-8");
            text.lines()
                .filter(|l| {
                    !VOLATILE_PROVENANCE_KEYS
                        .iter()
                        .any(|k| l.trim_start().starts_with(k))
                })
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes()
        } else {
            bytes
        };
        let sum = Sha256::digest(&bytes);
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{hex}  {name}\n"));
    }
    out
}

#[test]
fn every_output_is_byte_identical_to_its_golden_file() {
    let root = common::root();
    let golden = root.join("tests/golden");
    let bless = std::env::var_os("TIERSIM_BLESS").is_some();
    let cases = std::fs::read_to_string(golden.join("cases.txt")).expect("cases.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in cases
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (name, args) = line.split_once(':').expect("`name: args`");
        let name = name.trim();
        count += 1;
        let out_dir = common::absent_dir(&format!("golden-{name}"));
        let out_str = out_dir.to_string_lossy().into_owned();
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| {
                if a == "OUT" {
                    out_str.clone()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = common::tiersim(&argv);
        assert!(
            o.status.success(),
            "{name}: tiersim {} failed: {}",
            args.join(" "),
            common::stderr(&o)
        );
        let mut produced = vec![(
            format!("{name}.out"),
            common::stdout(&o).replace(&out_str, "OUT"),
        )];
        if out_dir.exists() {
            produced.push((format!("{name}.files"), files_digest(&out_dir)));
            let _ = std::fs::remove_dir_all(&out_dir);
        }
        for (file, text) in produced {
            let path = golden.join(&file);
            if bless {
                std::fs::write(&path, &text).expect("write golden file");
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == text => {}
                Ok(expected) => {
                    let line = expected
                        .lines()
                        .zip(text.lines())
                        .position(|(a, b)| a != b)
                        .map_or(expected.lines().count().min(text.lines().count()), |i| i)
                        + 1;
                    failures.push(format!("{file}: differs from line {line}"));
                }
                Err(e) => failures.push(format!("{file}: {e}")),
            }
        }
    }
    assert!(count >= 17, "cases.txt lists {count} cases");
    assert!(
        failures.is_empty(),
        "golden outputs changed:\n{}",
        failures.join("\n")
    );
}
