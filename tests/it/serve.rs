//! `tiersim serve`: the what-if page over HTTP, and in a real browser.
//!
//! Every figure the server shows is compared with `tiersim run --set ...`
//! for the same settings; every refusal with its exact message.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, root, stderr, stdout, tiersim};
use tiersim::render::format::usd;

const SCENARIO: &str = "scenarios/support-platform.yaml";

/// A running `tiersim serve`, stopped (Ctrl-C) when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/`
    url: String,
    port: u16,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tiersim"))
            .args(["serve", SCENARIO, "--port", "0", "-q"])
            .args(extra)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tiersim serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "address printed: {url:?}"
        );
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Server { child, url, port }
    }

    /// Sends one raw request; returns (status, headers, body).
    fn request(&self, method: &str, path: &str, host: &str, body: &str) -> (u16, String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_string(), body.to_string())
    }

    fn post(&self, path: &str, sets: &[&str]) -> (u16, String) {
        let (status, _, body) = self.request(
            "POST",
            path,
            &format!("127.0.0.1:{}", self.port),
            &sets.join("\n"),
        );
        (status, body)
    }

    /// Ctrl-C; returns the exit status and what it said.
    fn interrupt(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve did not stop on Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code(), err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tiersim run SCENARIO --set ... --format json`.
fn run_json(scenario: &str, sets: &[&str]) -> serde_json::Value {
    let mut args = vec!["run", scenario, "--format", "json", "-q"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = tiersim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// What `tiersim run --set ...` says about bad settings, as the page words
/// it: the same message, naming the setting rather than the flag.
fn cli_message(sets: &[&str]) -> String {
    let mut args = vec!["run", SCENARIO, "-q", "--color", "never"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = tiersim(&args);
    assert_eq!(o.status.code(), Some(2));
    stderr(&o)
        .replace("set by --set ", "set by the setting ")
        .trim_end()
        .to_string()
}

/// The summary table of a results fragment: (policy, month 1, horizon).
fn table(html: &str) -> Vec<(String, String, String)> {
    let start = html
        .find("<table id=\"summary-table\">")
        .expect("summary table");
    let t = &html[start..start + html[start..].find("</table>").unwrap()];
    let rows = tl::parse(t, tl::ParserOptions::default()).unwrap();
    let rp = rows.parser();
    rows.query_selector("tr")
        .unwrap()
        .map(|tr| {
            let tr = tr.get(rp).unwrap().inner_html(rp);
            let cells = tl::parse(&tr, tl::ParserOptions::default()).unwrap();
            let cp = cells.parser();
            let text: Vec<String> = cells
                .query_selector("td")
                .unwrap()
                .map(|td| td.get(cp).unwrap().inner_text(cp).to_string())
                .collect();
            text
        })
        .filter(|text| !text.is_empty())
        .map(|text| (text[0].clone(), text[2].clone(), text[3].clone()))
        .collect()
}

/// The JSON's policies as the table shows them.
fn expected(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                usd(p["first_month_cost_usd"].as_f64().unwrap()),
                usd(p["total_cost_usd"].as_f64().unwrap()),
            )
        })
        .collect()
}

fn same_figures(shown: &[(String, String, String)], want: &[(String, String, String)]) {
    assert_eq!(shown.len(), want.len());
    for (s, w) in shown.iter().zip(want) {
        assert!(s.0.starts_with(&w.0), "policy {} shown as {}", w.0, s.0);
        assert_eq!((&s.1, &s.2), (&w.1, &w.2), "{}", w.0);
    }
}

#[test]
fn the_server_answers_like_run_and_refuses_what_run_refuses() {
    let out = common::absent_dir("serve-out");
    let server = Server::start(&["--out", out.to_str().unwrap()]);

    // The page: controls generated from the scenario, the results of the
    // scenario as written, nothing loaded from elsewhere.
    let (status, head, page) =
        server.request("GET", "/", &format!("localhost:{}", server.port), "");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Security-Policy: default-src 'none'"));
    for path in [
        "volume.requests_per_month",
        "volume.growth.monthly_pct.triangular.mode",
        "workloads.rag-answer.share",
        "workloads.drafted-reply.difficulty.beta.mean",
        "workloads.intent-classification.cache.prefix_tokens",
        "policies.routed.rules.rag-answer.cascade.gate.recall",
        "policies.routed.rules.drafted-reply.cascade.gate.false_alarm",
        "prices.nova-pro.multiplier",
        "credits.poc-credits.amount_usd",
    ] {
        assert!(
            page.contains(&format!("data-path=\"{path}\"")),
            "no control for {path}"
        );
    }
    // The only URL the page names is SVG's namespace; it loads nothing.
    assert!(!page.contains("https://") && !page.contains(" src="));
    assert_eq!(
        page.matches("http://").count(),
        page.matches("http://www.w3.org/").count()
    );
    same_figures(&table(&page), &expected(&run_json(SCENARIO, &[])));

    // A change: the same figures as `tiersim run --set`.
    let sets = [
        "workloads.drafted-reply.difficulty.beta.mean=0.6",
        "policies.routed.rules.rag-answer.cascade.gate.recall=0.7",
        "prices.nova-pro.multiplier=0.8",
    ];
    let (status, fragment) = server.post("/run", &sets);
    assert_eq!(status, 200, "{fragment}");
    let want = expected(&run_json(SCENARIO, &sets));
    same_figures(&table(&fragment), &want);
    assert_ne!(
        want,
        expected(&run_json(SCENARIO, &[])),
        "the change moves the figures"
    );
    assert_eq!(fragment.matches("<svg").count(), 5, "five charts");

    // The YAML download reproduces them with `tiersim run`.
    let (status, yaml) = server.post("/scenario.yaml", &sets);
    assert_eq!(status, 200);
    let file = common::temp_dir("serve-yaml").join("what-if.yaml");
    std::fs::write(&file, &yaml).unwrap();
    same_figures(
        &table(&fragment),
        &expected(&run_json(file.to_str().unwrap(), &[])),
    );
    assert!(yaml.contains("# set: prices.nova-pro.multiplier=0.8"));

    // The report for these settings, written where the server was told.
    let (status, said) = server.post("/write", &sets);
    assert_eq!(status, 200, "{said}");
    assert_eq!(
        said,
        format!(
            "Wrote the report for these settings to {} (report.html, charts, data, run.json).",
            out.display()
        )
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(expected(&summary), want);
    let prov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        prov["command_line"],
        format!(
            "tiersim run {SCENARIO} --set {} --set {} --set {} --out {}",
            sets[0],
            sets[1],
            sets[2],
            out.display()
        )
    );
    assert!(out.join("report.html").is_file() && out.join("monthly_cost.png").is_file());

    // Bad values: the message `--set` gives, and the server keeps serving.
    for bad in [
        vec!["workloads.rag-answer.share=abc"],
        vec!["workloads.rag-answer.share=1.5"],
        vec!["volume.growth.monthly_pct.triangular.max=1000"],
        vec!["volume.growth.monthly_pct.triangular.max=900"],
        vec!["volume.requests_per_month=1e16"],
    ] {
        let (status, message) = server.post("/run", &bad);
        assert_eq!(status, 422, "{bad:?}");
        assert_eq!(message, cli_message(&bad), "{bad:?}");
        let (status, _) = server.post("/scenario.yaml", &bad);
        assert_eq!(status, 422, "no YAML for a scenario that does not load");
    }
    // Only the page's controls: nothing that could name another file.
    let (status, message) = server.post("/run", &["catalog=/etc/passwd"]);
    assert_eq!(
        (status, message.as_str()),
        (
            422,
            "error: `catalog` is not one of this page's controls (the page sets only the numbers it shows)"
        )
    );
    let (status, message) = server.post("/run", &["workloads.rag-answer.shar=0.3"]);
    assert_eq!(status, 422);
    assert_eq!(
        message,
        "error: `workloads.rag-answer.shar` is not one of this page's controls; did you mean `workloads.rag-answer.share`? (the page sets only the numbers it shows)"
    );
    let (status, message) = server.post("/run", &["just words"]);
    assert_eq!(
        (status, message.as_str()),
        (
            422,
            "error: `just words` is not a setting: expected PATH=VALUE, e.g. volume.requests_per_month=5000000"
        )
    );
    let big = "x".repeat(300 * 1024);
    let (status, _, message) =
        server.request("POST", "/run", &format!("127.0.0.1:{}", server.port), &big);
    assert_eq!(
        (status, message.as_str()),
        (413, "error: the request body is over 262144 bytes")
    );
    // Another host name (DNS rebinding), another path, another method.
    let (status, _, _) = server.request("GET", "/", &format!("evil.example:{}", server.port), "");
    assert_eq!(status, 403);
    let (status, _, message) = server.request(
        "GET",
        "/etc/passwd",
        &format!("127.0.0.1:{}", server.port),
        "",
    );
    assert_eq!(
        (status, message.as_str()),
        (404, "nothing at /etc/passwd: the page is at /")
    );
    let (status, _, _) = server.request("GET", "/run", &format!("127.0.0.1:{}", server.port), "");
    assert_eq!(status, 405);

    // Concurrent requests do not interfere: each answer is the answer.
    let settings = [
        vec!["prices.nova-pro.multiplier=0.5"],
        vec!["workloads.drafted-reply.difficulty.beta.mean=0.4"],
        vec!["volume.requests_per_month=5000000"],
        vec!["credits.poc-credits.amount_usd=90000"],
    ];
    let alone: Vec<String> = settings.iter().map(|s| server.post("/run", s).1).collect();
    let together: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = settings
            .iter()
            .map(|s| scope.spawn(|| server.post("/run", s).1))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);

    // Ctrl-C stops it cleanly.
    let url = server.url.clone();
    let (code, said) = server.interrupt();
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.ends_with(&format!(
            "Ctrl-C stops it\ntiersim serve: stopped; {url} no longer answers\n"
        )),
        "{said}"
    );
}

#[test]
fn serve_refuses_a_bad_start() {
    let o = tiersim(&["serve", "scenarios/nope.yaml", "--port", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.yaml"), "{}", stderr(&o));
    let o = tiersim(&["serve", SCENARIO, "--host", "my laptop"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --host must be an IP address, e.g. 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface); got `my laptop`\n"
    );
}

/// Chrome DevTools protocol over a WebSocket, one session on one page.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next: u64,
    session: String,
    /// Every event seen, in order.
    events: Vec<serde_json::Value>,
}

impl Browser {
    fn launch(chromium: &Path, profile: &Path) -> Browser {
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let ws_url = loop {
            line.clear();
            assert!(
                err.read_line(&mut line).unwrap() > 0,
                "chromium printed no DevTools address"
            );
            if let Some(u) = line.trim().strip_prefix("DevTools listening on ") {
                break u.to_string();
            }
        };
        // Keep draining chromium's log so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let (ws, _) = tungstenite::connect(ws_url.as_str()).expect("DevTools WebSocket");
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut b = Browser {
            child,
            ws,
            next: 0,
            session: String::new(),
            events: Vec::new(),
        };
        let target = b.call(
            "Target.createTarget",
            serde_json::json!({"url": "about:blank"}),
        );
        let attached = b.call(
            "Target.attachToTarget",
            serde_json::json!({"targetId": target["targetId"], "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b
    }

    /// Sends a command to the page (to the browser before one is
    /// attached) and waits for its result.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let session = self.session.clone();
        self.send(method, params, &session)
    }

    /// Sends a command to the browser itself.
    fn call_browser(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.send(method, params, "")
    }

    fn send(
        &mut self,
        method: &str,
        params: serde_json::Value,
        session: &str,
    ) -> serde_json::Value {
        self.next += 1;
        let id = self.next;
        let mut msg = serde_json::json!({"id": id, "method": method, "params": params});
        if !session.is_empty() {
            msg["sessionId"] = session.into();
        }
        self.ws
            .send(tungstenite::Message::Text(msg.to_string().into()))
            .unwrap();
        loop {
            let m = self.ws.read().expect("DevTools message");
            let tungstenite::Message::Text(t) = m else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Evaluates JavaScript in the page; its value (awaited if a promise).
    fn eval(&mut self, js: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{js}: {r}");
        r["result"]["value"].clone()
    }

    /// Waits until the page has had `n` answers.
    fn wait_answers(&mut self, n: u64) {
        let started = Instant::now();
        while self.eval("Number(document.body.dataset.answers)").as_u64() < Some(n) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `value` into the control at `path` and leaves the field.
    fn set(&mut self, path: &str, value: &str) {
        self.eval(&format!(
            "(() => {{ const b = document.querySelector('[data-path=\"{path}\"] input.value'); b.value = '{value}'; b.dispatchEvent(new Event('change')); }})()"
        ));
    }

    /// The summary table as shown.
    fn table(&mut self) -> Vec<(String, String, String)> {
        let rows = self.eval(
            "Array.from(document.querySelectorAll('#summary-table tbody tr')).map(tr => Array.from(tr.cells).map(c => c.textContent))",
        );
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let c = |i: usize| r[i].as_str().unwrap().to_string();
                (c(0), c(2), c(3))
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_page_answers_in_a_real_browser() {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let server = Server::start(&[]);
    let profile = common::temp_dir("serve-chromium");
    let mut b = Browser::launch(&chromium, &profile);
    b.call("Network.enable", serde_json::json!({}));
    b.call("Runtime.enable", serde_json::json!({}));
    b.call("Page.enable", serde_json::json!({}));
    b.call("Page.navigate", serde_json::json!({"url": server.url}));
    let started = Instant::now();
    while b.eval("document.readyState") != "complete" {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    }
    same_figures(&b.table(), &expected(&run_json(SCENARIO, &[])));

    // Drag nothing, type: the gate catches less. The page's figures are
    // `tiersim run --set` for the settings it says it used.
    b.set(
        "policies.routed.rules.rag-answer.cascade.gate.recall",
        "0.7",
    );
    b.wait_answers(1);
    let sets = b.eval("document.getElementById('results').dataset.sets");
    assert_eq!(
        sets,
        "policies.routed.rules.rag-answer.cascade.gate.recall=0.7"
    );
    same_figures(
        &b.table(),
        &expected(&run_json(
            SCENARIO,
            &["policies.routed.rules.rag-answer.cascade.gate.recall=0.7"],
        )),
    );

    // A share: the others rescale so the shares still sum to 1.
    b.set("workloads.rag-answer.share", "0.4");
    b.wait_answers(2);
    let sets = b.eval("document.getElementById('results').dataset.sets");
    let sets: Vec<&str> = sets.as_str().unwrap().lines().collect();
    assert_eq!(
        sets,
        [
            "workloads.intent-classification.share=0.4",
            "workloads.rag-answer.share=0.4",
            "workloads.drafted-reply.share=0.12",
            "workloads.nightly-reprocessing.share=0.08",
            "policies.routed.rules.rag-answer.cascade.gate.recall=0.7",
        ]
    );
    same_figures(&b.table(), &expected(&run_json(SCENARIO, &sets)));

    // A bad value: the message `--set` gives, shown in the page; the
    // figures stay (greyed) and the next good value answers again.
    b.set("workloads.drafted-reply.difficulty.beta.mean", "abc");
    b.wait_answers(3);
    let shown = b.eval("document.getElementById('error').textContent");
    let mut bad = sets.clone();
    bad.insert(3, "workloads.drafted-reply.difficulty.beta.mean=abc");
    assert_eq!(shown.as_str().unwrap(), cli_message(&bad));
    assert_eq!(
        b.eval("document.getElementById('results').className"),
        "stale"
    );
    b.set("workloads.drafted-reply.difficulty.beta.mean", "0.55");
    b.wait_answers(4);
    assert_eq!(b.eval("document.getElementById('error').textContent"), "");
    same_figures(&b.table(), &expected(&run_json(SCENARIO, &sets)));

    // Download YAML: the file the browser saves reproduces the figures.
    let downloads = common::temp_dir("serve-downloads");
    b.call_browser(
        "Browser.setDownloadBehavior",
        serde_json::json!({"behavior": "allow", "downloadPath": downloads}),
    );
    b.eval("document.getElementById('download').click()");
    let saved = downloads.join("support-platform-what-if.yaml");
    let started = Instant::now();
    while !saved.is_file() {
        assert!(started.elapsed() < Duration::from_secs(30), "no download");
        std::thread::sleep(Duration::from_millis(50));
    }
    same_figures(
        &b.table(),
        &expected(&run_json(saved.to_str().unwrap(), &[])),
    );
    assert_eq!(
        b.eval("document.getElementById('action').textContent"),
        "Saved support-platform-what-if.yaml; tiersim run support-platform-what-if.yaml gives these figures."
    );

    // Nothing was loaded from anywhere but the server, and no script failed.
    let urls: Vec<String> = b
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| e["params"]["request"]["url"].as_str().unwrap().to_string())
        .collect();
    assert!(
        urls.iter().filter(|u| u.ends_with("/run")).count() >= 4,
        "{urls:?}"
    );
    for u in &urls {
        // The download is a blob the page made from the server's answer.
        assert!(
            u.starts_with(&server.url)
                || u.starts_with(&format!("blob:{}", server.url.trim_end_matches('/'))),
            "the page loaded {u}"
        );
    }
    let thrown: Vec<_> = b
        .events
        .iter()
        .filter(|e| e["method"] == "Runtime.exceptionThrown")
        .collect();
    assert!(thrown.is_empty(), "{thrown:?}");
}
