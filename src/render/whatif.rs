//! Reports of the what-if commands: sweep, sensitivity, credits, compare as
//! terminal tables (and sweep and compare as CSV), and the run report's
//! credit and provisioned-throughput sections.

use std::fmt::Write;

use crate::analysis::capacity::Capacity;
use crate::analysis::compare::Comparison;
use crate::analysis::credits::CreditReport;
use crate::analysis::provisioned::Verdict;
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::render::csv::Rows;
use crate::render::format::{pct, usd};
use crate::render::table::{Align, Table, wrap_into};

pub fn sweep(s: &Sweep) -> String {
    let mut out = String::new();
    let what = s
        .varies
        .iter()
        .map(|v| format!("{} ({} values)", v.path, v.values.len()))
        .collect::<Vec<_>>()
        .join(" x ");
    let _ = writeln!(
        out,
        "{} - sweep of {what}; {} months, {} replication(s) per point",
        s.scenario, s.horizon_months, s.replications
    );
    let names: Vec<&str> = s.points[0]
        .policies
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for (title, f) in [
        (
            format!("Total cost over {} months", s.horizon_months),
            Box::new(|x: &crate::analysis::sweep::PointPolicy| usd(x.total_cost_usd))
                as Box<dyn Fn(&_) -> String>,
        ),
        (
            format!("Quality loss vs {} (pp)", s.baseline),
            Box::new(|x: &crate::analysis::sweep::PointPolicy| format!("{:.2}", x.quality_loss_pp)),
        ),
    ] {
        for chunk in names.chunks(4) {
            // Columns are named by the path's last segment; the title names the path.
            let mut cols: Vec<(String, Align)> = s
                .varies
                .iter()
                .map(|v| {
                    (
                        v.path.rsplit('.').next().unwrap_or(&v.path).to_string(),
                        Align::Right,
                    )
                })
                .collect();
            for n in chunk {
                cols.push((n.to_string(), Align::Right));
            }
            let refs: Vec<(&str, Align)> = cols.iter().map(|(h, a)| (h.as_str(), *a)).collect();
            let mut t = Table::new(&refs);
            for p in &s.points {
                let mut row: Vec<String> =
                    s.varies.iter().map(|v| p.values[&v.path].clone()).collect();
                for n in chunk {
                    let x = p
                        .policies
                        .iter()
                        .find(|x| x.name == *n)
                        .expect("same policies");
                    row.push(f(x));
                }
                t.row(row);
            }
            let _ = writeln!(out, "\n{title}");
            t.render(&mut out);
        }
    }
    out.push('\n');
    if s.break_evens.is_empty() {
        let _ = writeln!(
            out,
            "No break-even points in this range (no policy overtakes another on cost, no quality loss crosses {} pp).",
            s.max_quality_loss_pp
        );
    } else {
        out.push_str("Break-even points (linear interpolation between swept values):\n");
        for b in &s.break_evens {
            let _ = writeln!(out, "  {}", b.description);
        }
    }
    out
}

pub fn sensitivity(s: &Sensitivity) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} - sensitivity of {}'s total cost; expected total with every input at its median: {}",
        s.scenario,
        s.policy,
        usd(s.total_cost_at_medians_usd)
    );
    let _ = writeln!(
        out,
        "each input at its P{:.0} and P{:.0} with the others at their medians; variance share from {} replications\n",
        s.low_quantile * 100.0,
        s.high_quantile * 100.0,
        s.replications
    );
    let mut t = Table::new(&[
        ("input", Align::Left),
        ("low", Align::Right),
        ("high", Align::Right),
        ("cost at low", Align::Right),
        ("cost at high", Align::Right),
        ("swing", Align::Right),
        ("var. share", Align::Right),
    ]);
    for i in &s.inputs {
        t.row(vec![
            i.input.clone(),
            format!("{:.4}", i.value_low),
            format!("{:.4}", i.value_high),
            usd(i.total_cost_at_low_usd),
            usd(i.total_cost_at_high_usd),
            usd(i.swing_usd),
            pct(i.variance_share, 1),
        ]);
    }
    t.render(&mut out);
    out
}

/// Months as words: "month 7", or "lasts" (beyond the horizon).
fn month(m: Option<u32>) -> String {
    m.map_or("lasts".into(), |m| format!("month {m}"))
}

pub fn credits(reports: &[CreditReport], pools: &[crate::scenario::CreditPool]) -> String {
    let mut out = String::new();
    let Some(first) = reports.first() else {
        return out;
    };
    let conf = format!("P{:.0}", first.confidence * 100.0);
    if pools.is_empty() {
        out.push_str("The scenario lists no credit pools: everything is paid out of pocket.\n");
    } else {
        let list: Vec<String> = pools
            .iter()
            .map(|p| {
                let until = p
                    .last_month
                    .map_or(String::new(), |l| format!(" to month {l}"));
                format!(
                    "{} {} from month {}{until}",
                    p.name,
                    usd(p.amount_usd),
                    p.start_month
                )
            })
            .collect();
        let _ = writeln!(out, "Credit pools: {}", list.join("; "));
    }
    let mut t = Table::new(&[
        ("policy", Align::Left),
        ("runs out P50", Align::Right),
        (&format!("at {conf}"), Align::Right),
        ("out of pocket P50", Align::Right),
        (conf.as_str(), Align::Right),
        (
            &format!("ask for ({} mo)", first.months_covered),
            Align::Right,
        ),
    ]);
    for r in reports {
        t.row(vec![
            r.policy.clone(),
            month(r.runout_month_p50),
            month(r.runout_month_at_confidence),
            usd(r.out_of_pocket_p50_usd),
            usd(r.out_of_pocket_at_confidence_usd),
            usd(r.additional_credits_usd),
        ]);
    }
    t.render(&mut out);
    let text = format!(
        "\"at {conf}\": with {:.0}% confidence the credits last at least until that month (\"lasts\": through \
         the horizon). \"ask for\": credit \
         beyond the pools that pays the first {} months at {:.0}% confidence (for {} the total need is {}).",
        first.confidence * 100.0,
        first.months_covered,
        first.confidence * 100.0,
        first.policy,
        usd(first.required_credits_usd)
    );
    wrap_into(&mut out, "", &text, 100);
    out
}

pub fn provisioned(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    if verdicts.is_empty() {
        return out;
    }
    out.push_str("Provisioned throughput:\n");
    for v in verdicts {
        let _ = writeln!(out, "  {}", v.description);
    }
    out
}

pub fn compare(c: &Comparison) -> String {
    let mut out = String::new();
    for (i, s) in c.scenarios.iter().enumerate() {
        let _ = writeln!(
            out,
            "[{}] {} ({}, {} months, {} replication(s))",
            i + 1,
            s.label,
            s.scenario,
            s.horizon_months,
            s.replications
        );
    }
    out.push('\n');
    let mut cols: Vec<(String, Align)> = vec![("policy".into(), Align::Left)];
    for i in 0..c.scenarios.len() {
        cols.push((format!("[{}] total", i + 1), Align::Right));
        if i > 0 {
            cols.push(("vs [1]".to_string(), Align::Right));
        }
    }
    for i in 0..c.scenarios.len() {
        cols.push((format!("[{}] quality", i + 1), Align::Right));
    }
    let refs: Vec<(&str, Align)> = cols.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    let mut t = Table::new(&refs);
    for r in &c.rows {
        let mut row = vec![r.policy.clone()];
        for (i, f) in r.scenarios.iter().enumerate() {
            match f {
                Some(f) => {
                    row.push(usd(f.total_cost_usd));
                    if i > 0 {
                        row.push(
                            f.cost_change_pct
                                .map_or("-".into(), |p| format!("{p:+.1}%")),
                        );
                    }
                }
                None => {
                    row.push("-".into());
                    if i > 0 {
                        row.push("-".into());
                    }
                }
            }
        }
        for f in &r.scenarios {
            row.push(f.as_ref().map_or("-".into(), |f| pct(f.quality, 2)));
        }
        t.row(row);
    }
    t.render(&mut out);
    out
}

/// The sweep as CSV: one row per point and policy.
pub fn sweep_csv(s: &Sweep) -> String {
    let mut rows = Rows::new();
    let mut header: Vec<String> = s.varies.iter().map(|v| v.path.clone()).collect();
    header.extend(
        [
            "policy",
            "total_cost_usd",
            "total_cost_low_usd",
            "total_cost_high_usd",
            "quality",
            "quality_loss_pp",
            "savings_vs_baseline_pct",
        ]
        .map(String::from),
    );
    rows.row(&header);
    for p in &s.points {
        for x in &p.policies {
            let mut row: Vec<String> = s.varies.iter().map(|v| p.values[&v.path].clone()).collect();
            row.extend([
                x.name.clone(),
                format!("{:.2}", x.total_cost_usd),
                format!("{:.2}", x.total_cost_low_usd),
                format!("{:.2}", x.total_cost_high_usd),
                format!("{:.6}", x.quality),
                format!("{:.4}", x.quality_loss_pp),
                format!("{:.4}", x.savings_vs_baseline_pct),
            ]);
            rows.row(&row);
        }
    }
    rows.finish()
}

/// The comparison in long format: one row per policy and scenario.
pub fn compare_csv(c: &Comparison) -> String {
    let opt = |x: Option<f64>, digits: usize| x.map_or(String::new(), |v| format!("{v:.digits$}"));
    let mut rows = Rows::new();
    rows.row([
        "policy",
        "scenario",
        "label",
        "total_cost_usd",
        "first_month_cost_usd",
        "quality",
        "quality_loss_pp",
        "cost_change_usd",
        "cost_change_pct",
        "quality_change_pp",
    ]);
    for row in &c.rows {
        for (info, f) in c.scenarios.iter().zip(&row.scenarios) {
            let Some(f) = f else { continue };
            rows.row([
                row.policy.clone(),
                info.scenario.clone(),
                info.label.clone(),
                format!("{:.6}", f.total_cost_usd),
                format!("{:.6}", f.first_month_cost_usd),
                format!("{:.8}", f.quality),
                format!("{:.6}", f.quality_loss_pp),
                opt(f.cost_change_usd, 6),
                opt(f.cost_change_pct, 6),
                opt(f.quality_change_pp, 6),
            ]);
        }
    }
    rows.finish()
}

/// Sensitivity as CSV: one row per uncertain input.
pub fn sensitivity_csv(result: &Sensitivity) -> String {
    let mut rows = Rows::new();
    rows.row([
        "input",
        "value_low",
        "value_high",
        "total_cost_at_low_usd",
        "total_cost_at_high_usd",
        "swing_usd",
        "variance_share",
    ]);
    for x in &result.inputs {
        rows.row([
            x.input.clone(),
            x.value_low.to_string(),
            x.value_high.to_string(),
            format!("{:.6}", x.total_cost_at_low_usd),
            format!("{:.6}", x.total_cost_at_high_usd),
            format!("{:.6}", x.swing_usd),
            format!("{:.8}", x.variance_share),
        ]);
    }
    rows.finish()
}

/// Credit runways as CSV: one row per policy and month.
pub fn credits_csv(reports: &[CreditReport]) -> String {
    let mut rows = Rows::new();
    rows.row([
        "policy",
        "month",
        "cumulative_cost_p50_usd",
        "cumulative_cost_at_confidence_usd",
        "confidence",
    ]);
    for r in reports {
        for (m, (a, b)) in r
            .cumulative_p50_usd
            .iter()
            .zip(&r.cumulative_at_confidence_usd)
            .enumerate()
        {
            rows.row([
                r.policy.clone(),
                (m + 1).to_string(),
                format!("{a:.6}"),
                format!("{b:.6}"),
                r.confidence.to_string(),
            ]);
        }
    }
    rows.finish()
}

/// One table of the capacity section, as cells: the terminal and
/// `report.html` render the same cells.
pub struct CellTable {
    pub title: String,
    pub words: String,
    pub head: Vec<(&'static str, Align)>,
    pub rows: Vec<Vec<String>>,
}

/// The capacity section's tables: quota demand at the busiest minute, the
/// tier mix (when a policy uses a service tier) and latency objectives
/// (when a workload has one).
pub fn capacity_tables(c: &Capacity) -> Vec<CellTable> {
    use crate::analysis::capacity::QuotaOrigin;
    use crate::render::format::{compact, seconds};
    let month = c.quotas.first().map_or(1, |q| q.month);
    let mut out = vec![CellTable {
        title: format!("Capacity: month {month}"),
        words: format!(
            "Month {month} is the horizon's busiest; its busiest minute is {:.2}x the average minute (peak hour {:.2}x{}, minute burst {:.2}x). tokens/min: quota tokens a minute as Bedrock counts them, settled use (input and cache writes, output times the model's burndown) plus what calls still running hold reserved (their cache reads and the unused part of max_tokens; default the model's maximum output). \"throttled\": share of demand above the quota over the week, minutes spread evenly around each hour's mean, refused calls not retried. \"ask for\": the busiest minute rounded up to 10,000 tokens.",
            c.peak_hour_factor * c.peak_minute_factor,
            c.peak_hour_factor,
            if c.shape_stated {
                ""
            } else {
                ", flat traffic assumed: set volume.shape"
            },
            c.peak_minute_factor
        ),
        head: vec![
            ("policy", Align::Left),
            ("model", Align::Left),
            ("burndown", Align::Right),
            ("calls/min", Align::Right),
            ("tokens/min", Align::Right),
            ("busiest minute", Align::Right),
            ("quota", Align::Right),
            ("throttled", Align::Right),
            ("ask for", Align::Right),
        ],
        rows: c
            .quotas
            .iter()
            .map(|q| {
                vec![
                    q.policy.clone(),
                    q.model.clone(),
                    format!("{}x", q.output_burndown),
                    format!("{:.1}", q.calls_per_minute),
                    compact(q.demand_tpm),
                    compact(q.peak_demand_tpm),
                    match (q.quota_tpm, q.quota_origin) {
                        (Some(v), QuotaOrigin::Scenario) => compact(v),
                        (Some(v), _) => format!("{} (default)", compact(v)),
                        (None, _) => "unknown".to_string(),
                    },
                    q.throttled_share.map_or("-".to_string(), |x| pct(x, 2)),
                    compact(q.quota_to_request_tpm),
                ]
            })
            .collect(),
    }];
    if c.tiers.iter().any(|t| t.spend_share[0] < 1.0) {
        out.push(CellTable {
            title: "Service tiers".into(),
            words: "Share of each policy's spend at each service tier (batch counts with standard), and what its Priority and Flex calls add to the month's bill against standard rates.".into(),
            head: vec![
                ("policy", Align::Left),
                ("standard+batch", Align::Right),
                ("priority", Align::Right),
                ("flex", Align::Right),
                ("vs all standard", Align::Right),
            ],
            rows: c
                .tiers
                .iter()
                .map(|m| {
                    vec![
                        m.policy.clone(),
                        pct(m.spend_share[0], 1),
                        pct(m.spend_share[1], 1),
                        pct(m.spend_share[2], 1),
                        format!(
                            "{}{}",
                            if m.premium_usd >= 0.0 { "+" } else { "-" },
                            usd(m.premium_usd.abs())
                        ),
                    ]
                })
                .collect(),
        });
    }
    if !c.slo.is_empty() {
        out.push(CellTable {
            title: "Latency objectives".into(),
            words: "Each request's latency is every call of its route in turn (time to first token plus output at the model's speed, at the call's service tier); the catalog's latency figures are assumptions.".into(),
            head: vec![
                ("policy", Align::Left),
                ("workload", Align::Left),
                ("p50", Align::Right),
                ("target", Align::Right),
                ("p95", Align::Right),
                ("target", Align::Right),
                ("verdict", Align::Left),
            ],
            rows: c
                .slo
                .iter()
                .map(|v| {
                    vec![
                        v.policy.clone(),
                        v.workload.clone(),
                        seconds(v.p50_ms),
                        seconds(v.target_p50_ms),
                        seconds(v.p95_ms),
                        seconds(v.target_p95_ms),
                        if v.met { "met" } else { "BREAKS SLO" }.to_string(),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// The capacity section for the terminal.
pub fn capacity(c: &Capacity) -> String {
    let mut out = String::new();
    for (i, table) in capacity_tables(c).into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}:", table.title);
        let mut t = Table::new(&table.head);
        for r in table.rows {
            t.row(r);
        }
        t.render(&mut out);
        wrap_into(&mut out, "", &table.words, 100);
    }
    out
}
