//! Speed at any volume (issue: runtime independent of traffic).
//!
//! `cargo bench` reports:
//! - `exact_one_core`: exact mode on `support-platform`, one month of 1M
//!   requests on one thread; divan's throughput is request-policy
//!   evaluations per second (traffic generation included).
//! - `fast_by_volume`: the full `support-platform` run (12 months) in fast
//!   mode at 1 thousand and 1 billion requests a month; the two times
//!   should match.
//! - `sessions_by_volume`: the full `dev-team-agent` run (12 months of
//!   agent-loop sessions) in fast mode at 1 thousand and 1 billion
//!   sessions a month; the two times should match (issue 14: ratio at
//!   most 1.2).
//! - `exact_sessions_one_core`: exact mode on `dev-team-agent`, one month
//!   of 10,000 sessions on one thread; throughput in turn-policy
//!   evaluations per second (about 34.5 turns a session).
//! - `large_run`: support-platform, rag-assistant, coding-assistant and
//!   document-extraction at 1 billion requests a month, 36 months, 1,000
//!   replications, all their policies, on every core.
//! - `default_run`: each shipped scenario as `tiersim run` runs it by
//!   default (fast path, its default replications, every core): the
//!   engine's share of the command's time (loading the scenario and
//!   writing the report are outside it).
//! - `optimize_six_models` and `optimize_whole_catalog`: `tiersim optimize`
//!   on `support-platform` within 1 pp (cascades up to three steps, the
//!   scenario's default replications, every core), over its six models (41
//!   routes) and over the whole catalog (22 models, 1,793 routes; issue 16
//!   asks 10 s for this one).
//! - `serve_answer`: `tiersim serve` on `support-platform`, from a POST of
//!   one changed setting (a gate's recall, alternating between two
//!   values) to the last byte of the answer: the page's time to answer a
//!   dragged slider (issue 17 asks at most 100 ms), the process's HTTP,
//!   validation, simulation (fast path, 200 replications, every core),
//!   SVG charts and HTML included.
//! - after the benchmarks, the numpy peer (`benches/peer/support_numpy.py`,
//!   a vectorised numpy implementation of exact mode on
//!   `support-platform`, copied from the team's shared bench): 3M requests
//!   x 6 policies for one month, whole process against whole process
//!   (`tiersim run --exact --threads 1`), one thread each, three
//!   alternating rounds, medians, and the ratio tiersim/numpy. It needs a
//!   Python with numpy and PyYAML: `TIERSIM_PEER_PYTHON` (default: the venv
//!   `../shared/bench/numpy-peer/measure.sh` makes, else `python3`); without
//!   one it says so and reports no ratio. `TIERSIM_PEER=0` skips it.

use std::path::PathBuf;

use divan::{Bencher, counter::ItemsCount};
use tiersim::{Mode, RunOptions, Scenario};

fn main() {
    divan::main();
    if let Some(server) = SERVER.get() {
        let _ = server.lock().map(|mut s| s.child.kill());
    }
    if std::env::var("TIERSIM_PEER").as_deref() != Ok("0") {
        peer_ratio();
    }
}

/// The `tiersim serve` the `serve_answer` bench talks to, started once.
struct Served {
    child: std::process::Child,
    port: u16,
}

static SERVER: std::sync::OnceLock<std::sync::Mutex<Served>> = std::sync::OnceLock::new();

fn served() -> u16 {
    use std::io::BufRead;
    let s = SERVER.get_or_init(|| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tiersim"))
            .args([
                "serve",
                "scenarios/support-platform.yaml",
                "--port",
                "0",
                "-q",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tiersim serve starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap();
        std::sync::Mutex::new(Served {
            port: port.parse().expect("serve prints its address"),
            child,
        })
    });
    s.lock().unwrap().port
}

/// One POST /run of `body`; the answer's status.
fn post_run(port: u16, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /run HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    std::str::from_utf8(&answer[9..12])
        .unwrap()
        .parse()
        .unwrap()
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn serve_answer(b: Bencher) {
    let port = served();
    // The page's first answer, untimed.
    assert_eq!(post_run(port, ""), 200);
    let mut i = 0u32;
    b.bench_local(|| {
        i += 1;
        let recall = if i.is_multiple_of(2) { "0.7" } else { "0.75" };
        let status = post_run(
            port,
            &format!("policies.routed.rules.rag-answer.cascade.gate.recall={recall}"),
        );
        assert_eq!(status, 200);
    });
}

/// Times the numpy peer against `tiersim run --exact` side by side and
/// prints the medians and their ratio (see the module docs).
fn peer_ratio() {
    use std::process::{Command, Stdio};
    use std::time::Instant;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("benches/peer/support_numpy.py");
    let venv = std::env::temp_dir().join("numpy-peer-run/venv/bin/python");
    let python = std::env::var("TIERSIM_PEER_PYTHON").unwrap_or_else(|_| {
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let usable = Command::new(&python)
        .args(["-c", "import numpy, yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        println!(
            "numpy peer: not run ({python} cannot import numpy and yaml; set TIERSIM_PEER_PYTHON \
             to a Python that can, e.g. the venv ../shared/bench/numpy-peer/measure.sh makes)"
        );
        return;
    }
    let tiersim = env!("CARGO_BIN_EXE_tiersim");
    let time = |cmd: &mut Command| -> f64 {
        let start = Instant::now();
        let status = cmd
            .current_dir(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start the process");
        assert!(status.success(), "{cmd:?} failed");
        start.elapsed().as_secs_f64()
    };
    let numpy = || {
        let mut c = Command::new(&python);
        c.arg(&script)
            .arg("--json")
            .env("TIERSIM_ROOT", &root)
            .env("OPENBLAS_NUM_THREADS", "1")
            .env("OMP_NUM_THREADS", "1")
            .env("MKL_NUM_THREADS", "1");
        c
    };
    let exact = || {
        let mut c = Command::new(tiersim);
        c.args([
            "run",
            "scenarios/support-platform.yaml",
            "--exact",
            "--set",
            "horizon_months=1",
            "--replications",
            "1",
            "--threads",
            "1",
            "--format",
            "json",
            "-q",
        ]);
        c
    };
    // Warm-up (page cache, imports), untimed.
    time(&mut numpy());
    time(&mut exact());
    let (mut t_np, mut t_ts) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        t_np.push(time(&mut numpy()));
        t_ts.push(time(&mut exact()));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (np, ts) = (median(&mut t_np), median(&mut t_ts));
    println!(
        "numpy peer, support-platform exact, 3M requests x 6 policies, one month, one thread each, \
         whole process, median of 3 alternating rounds: numpy {np:.3} s, tiersim {ts:.3} s, \
         ratio tiersim/numpy {:.2}x",
        np / ts
    );
}

fn load(name: &str, sets: &[String]) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.yaml"));
    Scenario::load(&path, sets).expect("shipped scenario")
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn exact_one_core(b: Bencher) {
    let s = load(
        "support-platform",
        &[
            "volume.requests_per_month=1000000".into(),
            "horizon_months=1".into(),
        ],
    );
    let evaluations = 1_000_000 * s.policies.len();
    b.counter(ItemsCount::new(evaluations)).bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                mode: Mode::Exact,
                threads: Some(1),
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(args = [1_000u64, 1_000_000_000], sample_count = 10, sample_size = 1)]
fn fast_by_volume(b: Bencher, volume: u64) {
    let s = load(
        "support-platform",
        &[format!("volume.requests_per_month={volume}")],
    );
    b.bench(|| tiersim::run(&s, &RunOptions::default()).unwrap());
}

#[divan::bench(args = [1_000u64, 1_000_000_000], sample_count = 10, sample_size = 1)]
fn sessions_by_volume(b: Bencher, volume: u64) {
    let s = load(
        "dev-team-agent",
        &[format!("volume.requests_per_month={volume}")],
    );
    b.bench(|| tiersim::run(&s, &RunOptions::default()).unwrap());
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn exact_sessions_one_core(b: Bencher) {
    let s = load(
        "dev-team-agent",
        &[
            "volume.requests_per_month=10000".into(),
            "horizon_months=1".into(),
        ],
    );
    // Turns are drawn, so the count is the expected one: 10,000 sessions
    // of 34.5 turns on average.
    let evaluations = 345_000 * s.policies.len();
    b.counter(ItemsCount::new(evaluations)).bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                mode: Mode::Exact,
                threads: Some(1),
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(
    args = ["support-platform", "rag-assistant", "coding-assistant", "document-extraction", "dev-team-agent", "support-chat", "support-platform-10x"],
    sample_count = 10,
    sample_size = 1
)]
fn default_run(b: Bencher, name: &str) {
    let s = load(name, &[]);
    let replications = tiersim::sim::instance::default_replications(&s);
    b.bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                replications,
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

#[divan::bench(
    args = ["support-platform", "rag-assistant", "coding-assistant", "document-extraction"],
    sample_count = 3,
    sample_size = 1
)]
fn large_run(b: Bencher, name: &str) {
    let s = load(
        name,
        &[
            "volume.requests_per_month=1000000000".into(),
            "volume.growth={ monthly_pct: 0 }".into(),
            "horizon_months=36".into(),
        ],
    );
    b.bench(|| {
        tiersim::run(
            &s,
            &RunOptions {
                replications: 1000,
                ..RunOptions::default()
            },
        )
        .unwrap()
    });
}

/// `tiersim optimize` on support-platform within 1 pp: every route of
/// `models` (every model of the catalog when `None`) up to three steps.
fn optimize_search(b: Bencher, models: Option<&[&str]>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/support-platform.yaml");
    let src = tiersim::input::yaml::read_source(&path).unwrap();
    let space = tiersim::analysis::optimize::Space {
        models: models.map(|m| m.iter().map(|k| k.to_string()).collect()),
        max_steps: 3,
        ..Default::default()
    };
    b.bench(|| {
        tiersim::analysis::optimize::optimize(
            &src,
            &[],
            &space,
            1.0,
            |s| RunOptions {
                replications: tiersim::sim::instance::default_replications(s),
                ..RunOptions::default()
            },
            |_, _| {},
        )
        .unwrap()
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn optimize_six_models(b: Bencher) {
    optimize_search(
        b,
        Some(&[
            "nova-micro",
            "nova-lite",
            "nova-pro",
            "claude-haiku-4-5",
            "claude-sonnet-4-5",
            "claude-opus-4-5",
        ]),
    );
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn optimize_whole_catalog(b: Bencher) {
    optimize_search(b, None);
}
