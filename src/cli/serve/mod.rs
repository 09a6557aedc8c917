//! `tiersim serve`: the what-if page over HTTP.
//!
//! A small synchronous server (tiny_http), on 127.0.0.1 unless `--host`
//! says otherwise, with a few worker threads taking requests in turn; each
//! simulation itself runs on rayon's threads like any other. Routes:
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the page (`render::live`), with the scenario's results |
//! | `POST /run` | the results fragment for the settings in the body |
//! | `POST /scenario.yaml` | the scenario with those settings, as YAML |
//! | `POST /write` | writes the full report to `--out`, says where |
//!
//! A body is the settings, one `PATH=VALUE` per line (`answer`). Anything
//! else is refused with its status; a bad setting is a 422 whose body is
//! the message `--set` would give, and the server keeps serving. When it
//! listens on loopback, a request naming another host is refused (a page
//! elsewhere cannot reach it through DNS rebinding). Ctrl-C stops it.

mod answer;

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use crate::cli::plan::ServePlan;
use answer::{Refusal, WhatIf};
use tiersim::error::{Error, Result};

/// The largest request body read (the page's settings take a few KiB).
const MAX_BODY: usize = 256 * 1024;
/// Requests served at once (each simulation uses every core anyway).
const WORKERS: usize = 4;

pub fn serve(plan: ServePlan) -> Result<()> {
    let whatif = Arc::new(WhatIf::load(&plan)?);
    // The page of the scenario as written, drawn once.
    let page = whatif.page()?;
    let server = tiny_http::Server::http(plan.address).map_err(|e| {
        Error::failure(format!(
            "cannot listen on {}: {e}{}",
            plan.address,
            if plan.address.port() != 0 {
                "; choose another with --port N (0: any free port)"
            } else {
                ""
            }
        ))
    })?;
    let local = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::failure("the server has no IP address"))?;
    let url = format!("http://{local}/");
    crate::cli::interrupt::serving(format!("tiersim serve: stopped; {url} no longer answers"));
    // The address on stdout (scripts read it), the rest on stderr.
    println!("{url}");
    eprintln!(
        "tiersim serve: {} on {url} ({} controls); Ctrl-C stops it",
        whatif.scenario_path().display(),
        whatif.controls.len()
    );
    if !local.ip().is_loopback() {
        eprintln!(
            "tiersim serve: listening on {}, not only this machine: anyone who can reach it can run simulations",
            local.ip()
        );
    }
    if plan.open {
        open_browser(&url);
    }
    let server = Arc::new(server);
    let page = Arc::new(page);
    let loopback = local.ip().is_loopback();
    let port = local.port();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, whatif, page) = (server.clone(), whatif.clone(), page.clone());
            let quiet = plan.quiet;
            std::thread::spawn(move || {
                while let Ok(rq) = server.recv() {
                    let started = Instant::now();
                    let (method, path) = (rq.method().to_string(), rq.url().to_string());
                    let status = handle(rq, &whatif, &page, loopback, port);
                    if !quiet {
                        eprintln!(
                            "{method} {path} {status} {:.0} ms",
                            started.elapsed().as_secs_f64() * 1e3
                        );
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// Answers one request; returns the status sent.
fn handle(
    mut rq: tiny_http::Request,
    whatif: &WhatIf,
    page: &str,
    loopback: bool,
    port: u16,
) -> u16 {
    if loopback && !local_host(&rq, port) {
        return respond(
            rq,
            403,
            "text/plain",
            "this server answers requests addressed to 127.0.0.1 or localhost only".into(),
            &[],
        );
    }
    let path = rq.url().split('?').next().unwrap_or("").to_string();
    let method = rq.method().clone();
    use tiny_http::Method::{Get, Head, Post};
    match (&method, path.as_str()) {
        (Get | Head, "/") => respond(rq, 200, "text/html; charset=utf-8", page.to_string(), &[]),
        (Post, "/run" | "/scenario.yaml" | "/write") => {
            let body = match read_body(&mut rq) {
                Ok(b) => b,
                Err(r) => return respond(rq, r.status, "text/plain", r.message, &[]),
            };
            let sets = match whatif.settings(&body) {
                Ok(s) => s,
                Err(r) => return respond(rq, r.status, "text/plain", r.message, &[]),
            };
            match path.as_str() {
                "/run" => match whatif.answer(&sets) {
                    Ok(a) => {
                        let ms = format!("{:.0}", a.millis);
                        respond(
                            rq,
                            200,
                            "text/html; charset=utf-8",
                            a.html,
                            &[("X-Tiersim-Ms", &ms)],
                        )
                    }
                    Err(r) => respond(rq, r.status, "text/plain", r.message, &[]),
                },
                "/scenario.yaml" => match whatif.yaml(&sets) {
                    Ok(y) => respond(
                        rq,
                        200,
                        "application/yaml; charset=utf-8",
                        y,
                        &[("Content-Disposition", "attachment")],
                    ),
                    Err(r) => respond(rq, r.status, "text/plain", r.message, &[]),
                },
                _ => match whatif.write(&sets) {
                    Ok(said) => respond(rq, 200, "text/plain", said, &[]),
                    Err(r) => respond(rq, r.status, "text/plain", r.message, &[]),
                },
            }
        }
        (_, "/" | "/run" | "/scenario.yaml" | "/write") => respond(
            rq,
            405,
            "text/plain",
            format!(
                "{method} is not allowed here: GET / for the page; POST /run, /scenario.yaml or /write with settings"
            ),
            &[],
        ),
        _ => respond(
            rq,
            404,
            "text/plain",
            format!("nothing at {path}: the page is at /"),
            &[],
        ),
    }
}

/// Whether the request's Host names this machine's loopback at our port.
fn local_host(rq: &tiny_http::Request, port: u16) -> bool {
    let Some(h) = rq.headers().iter().find(|h| h.field.equiv("Host")) else {
        // HTTP/1.0 without Host: only a local client reaches a loopback socket.
        return true;
    };
    let host = h.value.as_str();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|n| host == format!("{n}:{port}") || (port == 80 && host == *n))
}

fn read_body(rq: &mut tiny_http::Request) -> std::result::Result<String, Refusal> {
    if rq.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Refusal {
            status: 413,
            message: format!("error: the request body is over {MAX_BODY} bytes"),
        });
    }
    let mut bytes = Vec::new();
    let read = rq
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut bytes);
    if read.is_err() {
        return Err(Refusal {
            status: 400,
            message: "error: the request body could not be read".into(),
        });
    }
    if bytes.len() > MAX_BODY {
        return Err(Refusal {
            status: 413,
            message: format!("error: the request body is over {MAX_BODY} bytes"),
        });
    }
    String::from_utf8(bytes).map_err(|_| Refusal {
        status: 400,
        message: "error: the settings are not UTF-8 text".into(),
    })
}

fn respond(
    rq: tiny_http::Request,
    status: u16,
    content_type: &str,
    body: String,
    extra: &[(&str, &str)],
) -> u16 {
    let mut r = tiny_http::Response::from_string(body).with_status_code(status);
    let mut headers = vec![
        ("Content-Type", content_type),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        // The page loads nothing from anywhere: say so to the browser too.
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'",
        ),
    ];
    headers.extend_from_slice(extra);
    for (k, v) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            r.add_header(h);
        }
    }
    // A client that went away is not the server's failure.
    let _ = rq.respond(r);
    status
}

/// Opens `url` in the default browser; says so if it cannot.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let ok = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok();
    if !ok {
        eprintln!("tiersim serve: could not start {program}; open {url} in a browser");
    }
}
