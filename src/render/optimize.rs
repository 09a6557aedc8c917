//! The `optimize` report as a terminal table: the chosen design, its
//! verification beside the scenario's policies, the frontier of whole
//! designs, and the policy to paste.

use std::fmt::Write;

use crate::analysis::optimize::{Objective, Optimized};
use crate::render::csv::Rows;
use crate::render::format::{pct, usd};
use crate::render::table::{Align, Table};

/// Frontier rows shown (the JSON has every one).
const FRONTIER_ROWS: usize = 15;

pub fn optimize(o: &Optimized) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} - {} within {} pp of {}'s quality; {} candidate routes per workload ({} models, cascades up to {} steps)",
        o.scenario,
        match o.objective {
            Objective::Mean => "cheapest design (mean total cost)",
            Objective::P90 => "design with the lowest P90 of total cost",
        },
        o.max_quality_loss_pp,
        o.baseline,
        o.candidates,
        o.models.len(),
        o.max_steps
    );
    let chosen = &o.frontier[o.chosen];
    out.push_str("\nChosen design (route per workload):\n");
    let mut t = Table::new(&[
        ("workload", Align::Left),
        ("route", Align::Left),
        ("cost", Align::Right),
        ("quality", Align::Right),
        ("loss (pp)", Align::Right),
    ]);
    for (w, route) in o.workloads.iter().zip(&chosen.routes) {
        let c = w
            .candidates
            .iter()
            .find(|c| &c.route == route)
            .expect("a chosen route is a candidate");
        t.row(vec![
            w.workload.clone(),
            route.clone(),
            usd(c.cost_usd),
            pct(c.quality, 2),
            format!("{:.2}", c.quality_loss_pp),
        ]);
    }
    t.render(&mut out);

    let q = o
        .verified
        .first()
        .map(|v| v.total_cost_bands_usd.len())
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\nVerified through the engine beside the scenario's policies (total cost over the horizon{}):",
        if q == 3 {
            "; P10 / P50 / P90 over replications"
        } else {
            ""
        }
    );
    let mut t = Table::new(&[
        ("policy", Align::Left),
        ("total cost", Align::Right),
        ("P10 / P50 / P90", Align::Right),
        ("quality", Align::Right),
        ("loss (pp)", Align::Right),
        ("savings", Align::Right),
    ]);
    for v in &o.verified {
        t.row(vec![
            v.name.clone(),
            usd(v.total_cost_usd),
            v.total_cost_bands_usd
                .iter()
                .map(|x| usd(*x))
                .collect::<Vec<_>>()
                .join(" / "),
            pct(v.quality, 2),
            format!("{:.2}", v.quality_loss_pp),
            format!("{:.1}%", v.savings_vs_baseline_pct),
        ]);
    }
    t.render(&mut out);
    if let Some(p) = o.probability_cheaper_than_runner_up {
        let _ = writeln!(
            out,
            "The chosen design costs less than the runner-up in {:.0}% of replications (common random numbers).",
            100.0 * p
        );
    }

    let _ = writeln!(
        out,
        "\nFrontier of whole designs ({} undominated; the search's sums of per-workload figures):",
        o.frontier.len()
    );
    let p90 = o.objective == Objective::P90;
    let mut columns = vec![("", Align::Left), ("total cost", Align::Right)];
    if p90 {
        columns.push(("P90", Align::Right));
    }
    columns.extend([
        ("quality", Align::Right),
        ("loss (pp)", Align::Right),
        ("routes", Align::Left),
    ]);
    let mut t = Table::new(&columns);
    let from = o.chosen.saturating_sub(FRONTIER_ROWS / 2);
    for (i, d) in o.frontier.iter().enumerate().skip(from).take(FRONTIER_ROWS) {
        let mark = if i == o.chosen {
            "chosen"
        } else if Some(i) == o.runner_up {
            "runner-up"
        } else {
            ""
        };
        let mut row = vec![mark.to_string(), usd(d.total_cost_usd)];
        if p90 {
            row.push(d.total_cost_p90_usd.map_or_else(|| "-".to_string(), usd));
        }
        row.extend([
            pct(d.quality, 2),
            format!("{:.2}", d.quality_loss_pp),
            d.routes.join(" | "),
        ]);
        t.row(row);
    }
    t.render(&mut out);
    for c in &o.router_curves {
        let on = c
            .workload
            .as_ref()
            .map(|w| format!(" on {w}"))
            .unwrap_or_default();
        let cascade = c.kind == "cascade";
        let _ = writeln!(
            out,
            "\nRouter curve of {} ({} {} {}{on}) as its {} moves (RouteLLM's metrics):",
            c.policy,
            c.weak,
            if cascade { ">" } else { "or" },
            c.strong,
            if cascade {
                "gate's false-alarm rate (recall on the binormal ROC through the scenario's gate)"
            } else {
                "max_quality_drop"
            }
        );
        let mut t = Table::new(&[
            (
                if cascade {
                    "false alarm / recall"
                } else {
                    "max_quality_drop"
                },
                Align::Right,
            ),
            ("strong calls", Align::Right),
            ("quality", Align::Right),
            ("PGR", Align::Right),
            ("total cost", Align::Right),
        ]);
        for p in &c.router.points {
            t.row(vec![
                match p.gate_recall {
                    Some(r) => format!("{} / {:.3}", p.setting, r),
                    None => format!("{}", p.setting),
                },
                pct(p.strong_share, 1),
                pct(p.quality, 2),
                format!("{:.3}", p.pgr),
                usd(p.total_cost_usd),
            ]);
        }
        t.render(&mut out);
        let share = |x: Option<f64>| x.map_or("never".to_string(), |v| pct(v, 1));
        for (who, k) in [("router", &c.router), ("random router", &c.random)] {
            let _ = writeln!(
                out,
                "  {who:<13} APGR {:.3}  CPT(50%) {}  CPT(80%) {}",
                k.apgr,
                share(k.cpt50),
                share(k.cpt80)
            );
        }
    }
    for n in &o.notes {
        let _ = writeln!(out, "Note: {n}");
    }
    out.push_str("\nThe chosen design as a policy (paste under `policies:`):\n");
    out.push_str(&o.policy_yaml);
    out
}

/// The frontier of whole designs, one row per design: figures, whether it
/// is the chosen one, and the route per workload.
pub fn frontier_csv(o: &Optimized) -> String {
    let mut rows = Rows::new();
    let mut header: Vec<String> = [
        "total_cost_usd",
        "quality",
        "quality_loss_pp",
        "chosen",
        "runner_up",
        "total_cost_p90_usd",
    ]
    .map(String::from)
    .to_vec();
    header.extend(o.workloads.iter().map(|w| w.workload.clone()));
    rows.row(&header);
    for (i, d) in o.frontier.iter().enumerate() {
        let mut row = vec![
            format!("{:.2}", d.total_cost_usd),
            format!("{:.6}", d.quality),
            format!("{:.4}", d.quality_loss_pp),
            (i == o.chosen).to_string(),
            (Some(i) == o.runner_up).to_string(),
            d.total_cost_p90_usd
                .map_or_else(String::new, |x| format!("{x:.2}")),
        ];
        row.extend(d.routes.iter().cloned());
        rows.row(&row);
    }
    rows.finish()
}
