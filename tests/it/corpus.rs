//! The bad-input corpus: every file under tests/corpus/KIND/ is refused
//! with exactly the message in its `.expected` file, exit code 2, no panic,
//! and a message that names the file (and the line, column and field where
//! there is one). `tests/corpus/cli/` holds bad command lines instead (one
//! argument per line in NAME.args). Plus inputs too big or too strange to
//! commit: a 100 MB file, a directory, 100,000 levels of nesting.
//!
//! To add a case: drop the file in the right directory, run the command
//! below by hand, check the message is one a user can act on, and save it
//! as NAME.expected.

use crate::common;

use std::path::PathBuf;
use std::time::Instant;

use common::{root, stderr, stdout, tiersim};

/// The command that reads each kind of file.
fn command(kind: &str, rel: &str) -> Vec<String> {
    let args: Vec<&str> = match kind {
        "scenarios" | "catalogs" | "profiles" => vec!["validate", rel],
        "evals" => vec!["calibrate", rel, "--task-kind", "reasoning"],
        "logs" => vec!["profile", rel, "--strict"],
        "prices" => vec!["pricing", "import-litellm", rel],
        _ => panic!("unknown corpus kind {kind}"),
    };
    args.into_iter().map(String::from).collect()
}

fn corpus_files(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/corpus").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "expected"))
        .collect();
    files.sort();
    files
}

fn check_message(rel: &str, err: &str) {
    assert!(!err.contains("panicked"), "{rel}: panic\n{err}");
    assert!(
        !err.contains("NaN") || err.contains("got NaN"),
        "{rel}: NaN leaked into a message\n{err}"
    );
    for line in err.lines() {
        assert!(line.starts_with("error: "), "{rel}: `{line}`");
    }
    assert!(
        err.starts_with(&format!("error: {rel}")),
        "{rel}: the message does not start with the file\n{err}"
    );
}

#[test]
fn every_corpus_file_is_refused_with_its_exact_message() {
    let mut total = 0;
    for kind in [
        "scenarios",
        "catalogs",
        "profiles",
        "evals",
        "logs",
        "prices",
    ] {
        let files = corpus_files(kind);
        assert!(!files.is_empty(), "no {kind} in the corpus");
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let rel = format!("tests/corpus/{kind}/{name}");
            let args = command(kind, &rel);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = tiersim(&refs);
            let err = stderr(&o);
            let expected_file = f.with_extension("expected");
            let expected = std::fs::read_to_string(&expected_file)
                .unwrap_or_else(|_| panic!("{rel}: no {}", expected_file.display()));
            assert_eq!(o.status.code(), Some(2), "{rel}: exit code\n{err}");
            assert_eq!(err, expected, "{rel}");
            check_message(&rel, &err);
            if kind == "scenarios" {
                // `run` refuses it too, naming the file.
                let r = tiersim(&["run", &rel]);
                assert_eq!(r.status.code(), Some(2), "run {rel}");
                check_message(&rel, &stderr(&r));
            }
            total += 1;
        }
    }
    assert!(total >= 60, "the corpus has {total} files");
}

#[test]
fn every_bad_command_line_is_refused_with_its_exact_message() {
    let files = corpus_files("cli");
    assert!(files.len() >= 30, "{} command lines", files.len());
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let args: Vec<&str> = text.lines().collect();
        let o = tiersim(&args);
        let err = stderr(&o);
        let expected = std::fs::read_to_string(f.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{name}: no .expected file"));
        assert_eq!(o.status.code(), Some(2), "{name}: exit code\n{err}");
        assert_eq!(err, expected, "{name}");
        assert!(!err.contains("panicked"), "{name}: panic\n{err}");
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(stdout(&o).is_empty(), "{name}: wrote to stdout");
    }
}

fn scratch(tag: &str) -> PathBuf {
    common::temp_dir(&format!("corpus-{tag}"))
}

/// Runs `args` and checks: exit 2, the exact message, within a few seconds.
fn refused_quickly(args: &[&str], expected: &str) {
    let t = Instant::now();
    let o = tiersim(args);
    let took = t.elapsed().as_secs_f64();
    assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", stderr(&o));
    assert_eq!(stderr(&o), expected, "{args:?}");
    // Generous: the point is "not a hang", not speed (no timing target).
    assert!(took < 30.0, "{args:?} took {took:.1} s");
}

#[test]
fn a_100_mb_file_is_refused_before_it_is_read() {
    let dir = scratch("big");
    let f = dir.join("huge.yaml");
    // Sparse: 100 MB on paper, no disk used.
    std::fs::File::create(&f)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let p = f.to_str().unwrap();
    refused_quickly(
        &["run", p],
        &format!(
            "error: {p}: file is 104857600 bytes; YAML files may be at most 4194304 bytes (4 MiB)\n"
        ),
    );
    // Logs and evaluation files have their own, larger limits.
    let log = dir.join("huge.jsonl");
    std::fs::File::create(&log)
        .unwrap()
        .set_len(2 * 1024 * 1024 * 1024)
        .unwrap();
    let l = log.to_str().unwrap();
    // A log is read as a stream, so its size is no limit: memory is. Two
    // GiB of zeros are one line too long to hold, passed over unkept.
    refused_quickly(
        &["profile", l],
        &format!(
            "error: {l}: no usable records (1 malformed line(s), first: line 1: line longer than 67108864 bytes); expected Bedrock model invocation log records (one JSON object per line)\n"
        ),
    );
    let eval = dir.join("huge.csv");
    std::fs::File::create(&eval)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let e = eval.to_str().unwrap();
    refused_quickly(
        &["calibrate", e],
        &format!(
            "error: {e}: file is 314572800 bytes; evaluation files may be at most 268435456 bytes (256 MiB)\n"
        ),
    );
}

#[test]
fn a_device_that_never_ends_is_read_only_up_to_the_limit() {
    // /dev/zero reports a size of 0 and never ends: the read is bounded.
    refused_quickly(
        &["run", "/dev/zero"],
        "error: /dev/zero: holds more than 4194304 bytes; YAML files may be at most 4194304 bytes (4 MiB)\n",
    );
    refused_quickly(
        &["pricing", "import-litellm", "/dev/zero"],
        "error: /dev/zero: holds more than 67108864 bytes; price files may be at most 67108864 bytes (64 MiB)\n",
    );
    // A log has no size limit, so a device is refused outright.
    refused_quickly(
        &["profile", "/dev/zero"],
        "error: /dev/zero: is not a regular file (a device or a pipe); give a log file or a folder of them\n",
    );
}

#[test]
fn a_directory_is_not_a_file() {
    let dir = scratch("dir");
    let d = dir.join("scenario.yaml");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.to_str().unwrap();
    refused_quickly(
        &["run", p],
        &format!("error: {p}: is a directory; expected a YAML file\n"),
    );
    refused_quickly(
        &["profile", p],
        &format!(
            "error: {p}: is a directory with no log files in it or below (looked for names ending .json, .jsonl, .json.gz, .jsonl.gz)\n"
        ),
    );
    // A folder is read as a Bedrock evaluation job's output.
    refused_quickly(
        &["calibrate", p],
        &format!(
            "error: {p}: is a directory with no Bedrock evaluation output in it (looked for *_output.jsonl under models/<model>/taskTypes/<task type>/datasets/<dataset>/)\n"
        ),
    );
    refused_quickly(
        &["pricing", "import-litellm", p],
        &format!(
            "error: {p}: is a directory; expected LiteLLM's model_prices_and_context_window.json\n"
        ),
    );
}

#[test]
fn nesting_a_hundred_thousand_deep_is_refused_without_a_hang() {
    let dir = scratch("deep");
    let f = dir.join("deep.yaml");
    let n = 100_000;
    std::fs::write(
        &f,
        format!(
            "name: deep\nhorizon_months: {}1{}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .unwrap();
    let p = f.to_str().unwrap();
    refused_quickly(
        &["run", p],
        &format!(
            "error: {p}:2:81: collections nest more than 64 levels deep; tiersim's files need a few levels, so this is not a scenario, catalog or profile\n"
        ),
    );
}

#[test]
fn an_alias_bomb_is_bounded() {
    // Nine levels of nine-fold aliases expand to 9^9 (387 million) nodes;
    // the parser's repetition limit and the typed parse stop long before.
    let rel = "tests/corpus/scenarios/billion-laughs.yaml";
    let t = Instant::now();
    for args in [
        vec!["run", rel],
        vec!["run", rel, "--set", "seed=1"],
        vec!["validate", rel],
    ] {
        let o = tiersim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        check_message(rel, &stderr(&o));
    }
    assert!(t.elapsed().as_secs_f64() < 30.0);
}
