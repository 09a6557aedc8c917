//! The terminal report: policies side by side, readable at 100 columns.

use std::fmt::Write;

use crate::analysis::projection::{PolicySummary, Projection};
use crate::render::format::{compact, count, fixed, pct, seconds, usd, usd_unit};
use crate::render::table::{Align, Table, wrap_into};
use crate::scenario::{Growth, Scenario};

pub(crate) fn growth_words(s: &Scenario) -> String {
    match &s.volume.growth {
        Growth::None => "flat".into(),
        Growth::MonthlyPct(p) => {
            if p.q.is_fixed() {
                format!("{:+}%/month", p.q.median())
            } else {
                "uncertain growth".into()
            }
        }
        Growth::Schedule(_) => "explicit schedule".into(),
        Growth::Logistic { .. } => "logistic growth".into(),
    }
}

/// Options of the terminal report.
pub struct TerminalOptions {
    pub monthly: bool,
    pub max_quality_loss_pp: f64,
    /// Bold the title and the recommendation (ANSI), for a terminal.
    pub color: bool,
    /// How to tighten the fast path's sampling error, said after it (the
    /// command line names its flag); empty for nothing.
    pub tighten_sampling: String,
}

pub fn render(s: &Scenario, p: &Projection, opts: &TerminalOptions, notes: &[String]) -> String {
    let mut out = String::new();
    let months = p.horizon_months;
    let total_requests: f64 = p.volumes.iter().sum();
    // What the volume counts: requests, sessions, or both.
    let sessions = s.workloads.iter().filter(|w| w.session.is_some()).count();
    let unit = match sessions {
        0 => "requests",
        n if n == s.workloads.len() => "sessions",
        _ => "requests and sessions",
    };
    let _ = writeln!(
        out,
        "{} - {} months, {} {unit} in month 1 ({}), {} in all",
        s.name,
        months,
        count(p.volumes.first().copied().unwrap_or(0.0)),
        growth_words(s),
        compact(total_requests)
    );
    let _ = writeln!(
        out,
        "catalog {} (prices as of {}), profile {}, seed {}",
        s.catalog.name, s.catalog.as_of, s.profile, s.seed
    );
    let reps = format!(
        "{} replication{}",
        p.replications,
        if p.replications == 1 { "" } else { "s" }
    );
    let _ = match p.mode {
        crate::sim::Mode::Exact if sessions > 0 => writeln!(
            out,
            "exact simulation (every request, every session turn by turn), {reps}"
        ),
        crate::sim::Mode::Exact => writeln!(out, "exact simulation (every request), {reps}"),
        crate::sim::Mode::Fast { samples } => writeln!(
            out,
            "fast simulation ({} sampled requests per workload{}), {reps}",
            count(samples as f64),
            if sessions > 0 {
                "; fewer sessions, by their turns"
            } else {
                ""
            }
        ),
    };
    let mix: Vec<String> = s
        .workloads
        .iter()
        .map(|w| format!("{} {}", w.name, pct(w.share.q.median(), 0)))
        .collect();
    wrap_into(&mut out, "workloads: ", &mix.join(", "), 100);
    out.push('\n');

    // Cost and quality.
    let horizon_col = format!("{months} months");
    let mut t = Table::new(&[
        ("policy", Align::Left),
        ("month 1", Align::Right),
        (&horizon_col, Align::Right),
        ("vs base", Align::Right),
        ("quality", Align::Right),
        ("loss", Align::Right),
        ("gap rec.", Align::Right),
        ("$/1K req", Align::Right),
    ]);
    for (i, x) in p.policies.iter().enumerate() {
        let is_base = x.name == p.baseline;
        let mut name = x.name.clone();
        if is_base {
            name.push_str(" [base]");
        }
        let _ = i;
        t.row(vec![
            name,
            usd(x.first_month_cost_usd),
            usd(x.total_cost_usd),
            if is_base {
                "-".into()
            } else {
                format!("{:+.1}%", -x.savings_vs_baseline_pct)
            },
            pct(x.quality, 2),
            if is_base {
                "-".into()
            } else {
                format!("{} pp", super::format::fixed(x.quality_loss_pp, 2))
            },
            x.quality_gap_recovered.map_or("-".into(), |g| pct(g, 0)),
            format!("{:.2}", x.cost_per_1k_requests),
        ]);
    }
    t.render(&mut out);
    if let Some(worst) = p
        .policies
        .iter()
        .filter_map(|x| x.sampling_error.as_ref().map(|e| (e, x.total_cost_usd)))
        .map(|(e, total)| {
            (
                if total > 0.0 {
                    e.total_cost_usd / total
                } else {
                    0.0
                },
                e.quality,
            )
        })
        .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1)))
    {
        let _ = writeln!(
            out,
            "sampling error (95%): within {} of each total, {:.2} pp of quality{}",
            pct(worst.0, 2),
            worst.1 * 100.0,
            opts.tighten_sampling
        );
    }
    out.push('\n');

    if p.replications > 1 {
        render_bands(&mut out, p);
    }

    // How each policy gets there.
    let mut t = Table::new(&[
        ("policy", Align::Left),
        ("kind", Align::Left),
        ("escalated", Align::Right),
        ("cache hit", Align::Right),
        ("batch", Align::Right),
        ("unserved", Align::Right),
        ("p50", Align::Right),
        ("p95", Align::Right),
        ("frontier", Align::Left),
    ]);
    for x in &p.policies {
        t.row(vec![
            x.name.clone(),
            x.kind.clone(),
            pct(x.escalation_rate, 1),
            x.cache_hit_rate.map_or("-".into(), |h| pct(h, 1)),
            pct(x.batch_share, 1),
            pct(x.unserved_rate, 2),
            seconds(x.latency_p50_ms),
            seconds(x.latency_p95_ms),
            if x.on_frontier {
                "yes".into()
            } else {
                "".into()
            },
        ]);
    }
    t.render(&mut out);
    out.push_str("latency: on-demand requests, end to end including escalations and gates\n\n");

    // Where the money goes.
    out.push_str(&format!("Where the money goes ({months} months)\n"));
    let mut t = Table::new(&[
        ("policy", Align::Left),
        ("input", Align::Right),
        ("cache write", Align::Right),
        ("cache read", Align::Right),
        ("output", Align::Right),
        ("overhead", Align::Right),
    ]);
    for x in &p.policies {
        let c = &x.by_component;
        t.row(vec![
            x.name.clone(),
            usd(c.input),
            usd(c.cache_write),
            usd(c.cache_read),
            usd(c.output),
            usd(c.overhead),
        ]);
    }
    t.render(&mut out);
    out.push('\n');

    render_sessions(&mut out, s, p);

    out.push_str("Model mix (share of answer calls / share of cost)\n");
    for x in &p.policies {
        let mut lines: Vec<(&String, &crate::analysis::projection::ModelLine)> =
            x.by_model.iter().collect();
        lines.sort_by(|a, b| b.1.cost_usd.total_cmp(&a.1.cost_usd).then(a.0.cmp(b.0)));
        let parts: Vec<String> = lines
            .iter()
            .map(|(k, m)| {
                if m.calls > 0.0 {
                    format!("{k} {} / {}", pct(m.call_share, 1), pct(m.cost_share, 1))
                } else {
                    format!("{k} (gate/classifier) {}", pct(m.cost_share, 1))
                }
            })
            .collect();
        wrap_into(&mut out, &format!("  {}: ", x.name), &parts.join(", "), 100);
    }
    out.push('\n');

    if opts.monthly {
        render_monthly(&mut out, p);
    }

    // Headline.
    match crate::analysis::cheapest_within(p, opts.max_quality_loss_pp) {
        Some(i) => {
            let x: &PolicySummary = &p.policies[i];
            if x.name == p.baseline {
                let _ = writeln!(
                    out,
                    "No policy beats the baseline {} within {:.1} pp of quality loss.",
                    p.baseline, opts.max_quality_loss_pp
                );
            } else {
                let text = format!(
                    "{} - {} over {} months, {:.1}% less, {} pp quality loss.",
                    x.name,
                    usd(x.total_cost_usd),
                    months,
                    x.savings_vs_baseline_pct,
                    super::format::fixed(x.quality_loss_pp, 2)
                );
                let prefix = format!(
                    "Cheapest within {:.1} pp of {}'s quality: ",
                    opts.max_quality_loss_pp, p.baseline
                );
                let mut line = String::new();
                wrap_into(&mut line, &prefix, &text, 100);
                if opts.color {
                    let body = line.trim_end_matches('\n');
                    let _ = writeln!(out, "\x1b[1;32m{body}\x1b[0m");
                } else {
                    out.push_str(&line);
                }
            }
        }
        None => {
            let _ = writeln!(
                out,
                "No policy is within {:.1} pp of the baseline's quality.",
                opts.max_quality_loss_pp
            );
        }
    }
    if p.policies
        .iter()
        .any(|x| x.role == crate::policy::Role::Bound)
    {
        out.push_str("(oracle is a bound: it knows in advance which model will succeed.)\n");
    }
    for n in notes {
        wrap_into(&mut out, "note: ", n, 100);
    }
    out
}

/// P10/P50/P90 (or the asked quantiles) over replications.
/// Per session workload: what a session costs under each policy, and
/// where its tokens go.
fn render_sessions(out: &mut String, s: &Scenario, p: &Projection) {
    for w in &s.workloads {
        if w.session.is_none() {
            continue;
        }
        let lines: Vec<(&str, &crate::analysis::projection::SessionLine)> = p
            .policies
            .iter()
            .filter_map(|x| {
                x.by_workload
                    .get(&w.name)
                    .and_then(|l| l.sessions.as_ref())
                    .map(|l| (x.name.as_str(), l))
            })
            .collect();
        let Some((_, first)) = lines.first() else {
            continue;
        };
        out.push_str(&format!(
            "Sessions: {} ({} sessions over the horizon, {} turns each on average)\n",
            w.name,
            compact(first.sessions),
            fixed(first.turns, 1)
        ));
        let mut t = Table::new(&[
            ("policy", Align::Left),
            ("$/session", Align::Right),
            ("P50", Align::Right),
            ("P95", Align::Right),
            ("$/turn", Align::Right),
            ("calls", Align::Right),
            ("turns ok", Align::Right),
            ("sessions ok", Align::Right),
            ("compactions", Align::Right),
        ]);
        for (name, l) in &lines {
            let opt = |x: Option<f64>| x.map_or("-".to_string(), usd_unit);
            t.row(vec![
                name.to_string(),
                usd_unit(l.cost_per_session),
                opt(l.cost_p50),
                opt(l.cost_p95),
                usd_unit(l.cost_per_turn),
                fixed(l.calls, 1),
                pct(l.turn_quality, 1),
                pct(l.session_quality, 1),
                fixed(l.compactions, 2),
            ]);
        }
        t.render(out);
        let mut t = Table::new(&[
            ("tokens per session", Align::Left),
            ("fresh input", Align::Right),
            ("cache write", Align::Right),
            ("cache read", Align::Right),
            ("output", Align::Right),
            ("read share", Align::Right),
        ]);
        for (name, l) in &lines {
            t.row(vec![
                name.to_string(),
                compact(l.fresh_input_tokens),
                compact(l.cache_write_tokens),
                compact(l.cache_read_tokens),
                compact(l.output_tokens),
                pct(l.cache_read_share, 1),
            ]);
        }
        t.render(out);
        out.push_str(
            "session quality by the workload's success rule; P50/P95 within 4.7% (histogram buckets)\n\n",
        );
    }
}

fn render_bands(out: &mut String, p: &Projection) {
    let qs = &p.policies[0].bands.quantiles;
    let label = |q: f64| format!("P{}", (q * 100.0).round());
    let horizon = format!("{} months", p.horizon_months);
    let _ = writeln!(
        out,
        "Over {} replications ({}):",
        p.replications,
        qs.iter().map(|q| label(*q)).collect::<Vec<_>>().join(" / ")
    );
    let mut cols: Vec<(String, Align)> = vec![("policy".into(), Align::Left)];
    for q in qs {
        cols.push((format!("{horizon} {}", label(*q)), Align::Right));
    }
    cols.push(("quality".into(), Align::Right));
    cols.push(("loss pp".into(), Align::Right));
    let refs: Vec<(&str, Align)> = cols.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    let mut t = Table::new(&refs);
    for x in &p.policies {
        let mut row = vec![x.name.clone()];
        for v in &x.bands.total_cost_usd {
            row.push(usd(*v));
        }
        let range = |v: &[f64], f: &dyn Fn(f64) -> String| match (v.first(), v.last()) {
            (Some(a), Some(b)) => format!("{} to {}", f(*a), f(*b)),
            _ => "-".into(),
        };
        row.push(range(&x.bands.quality, &|q| pct(q, 1)));
        row.push(range(&x.bands.quality_loss_pp, &|q| format!("{q:.1}")));
        t.row(row);
    }
    t.render(out);
    out.push('\n');
}

fn render_monthly(out: &mut String, p: &Projection) {
    // At most five policies per table keeps it within 100 columns.
    for chunk in p.policies.chunks(5) {
        let mut cols: Vec<(&str, Align)> =
            vec![("month", Align::Right), ("requests", Align::Right)];
        for x in chunk {
            cols.push((x.name.as_str(), Align::Right));
        }
        let mut t = Table::new(&cols);
        for m in 0..p.horizon_months {
            let mut row = vec![(m + 1).to_string(), count(p.volumes[m])];
            for x in chunk {
                row.push(usd(x.months[m].cost_usd));
            }
            t.row(row);
        }
        let mut total = vec!["total".to_string(), count(p.volumes.iter().sum())];
        for x in chunk {
            total.push(usd(x.total_cost_usd));
        }
        t.row(total);
        out.push_str("Monthly cost\n");
        t.render(out);
        out.push('\n');
        let mut cols: Vec<(&str, Align)> = vec![("month", Align::Right)];
        for x in chunk {
            cols.push((x.name.as_str(), Align::Right));
        }
        let mut t = Table::new(&cols);
        for m in 0..p.horizon_months {
            let mut row = vec![(m + 1).to_string()];
            for x in chunk {
                row.push(pct(x.months[m].quality, 2));
            }
            t.row(row);
        }
        out.push_str("Monthly quality\n");
        t.render(out);
        out.push('\n');
    }
}
