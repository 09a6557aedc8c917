//! `summary.csv`: one row per policy, the figures of the terminal summary
//! with their bands, for a spreadsheet. (`summary.json` is the document of
//! `run --format json`.)
//!
//! Columns: `policy`, `kind`, `baseline` (true on the baseline's row),
//! `recommended`, `on_frontier`, `requests`, `total_cost_usd`, one
//! `total_cost_usd_pNN` per band quantile, `total_cost_usd_sd`,
//! `first_month_cost_usd`, `savings_vs_baseline_pct`, `quality`,
//! `quality_pNN`, `quality_loss_pp`, `quality_loss_pp_pNN`,
//! `cost_per_1k_requests_usd`, `escalation_rate`, `cache_hit_rate` (empty
//! when nothing is cached), `batch_share`, `unserved_rate`, cost by
//! component (`input_usd`, `cache_write_usd`, `cache_read_usd`,
//! `output_usd`, `overhead_usd`) and `sampling_error_usd` (fast path: the
//! half-width of the 95% interval of the total from the fixed sample;
//! empty in exact mode). Money has six decimals, rates and shares eight.

use crate::analysis::projection::Projection;
use crate::render::csv::Rows;

/// Column suffix of a quantile: 0.1 → `p10`, 0.025 → `p2.5`.
pub fn quantile_label(q: f64) -> String {
    let pct = q * 100.0;
    let s = format!("{pct:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("p{s}")
}

pub fn csv(p: &Projection, recommended: Option<&str>) -> String {
    let qs = p
        .policies
        .first()
        .map(|x| x.bands.quantiles.clone())
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "policy",
        "kind",
        "baseline",
        "recommended",
        "on_frontier",
        "requests",
        "total_cost_usd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let labels: Vec<String> = qs.iter().map(|&q| quantile_label(q)).collect();
    header.extend(labels.iter().map(|l| format!("total_cost_usd_{l}")));
    header.extend(
        [
            "total_cost_usd_sd",
            "first_month_cost_usd",
            "savings_vs_baseline_pct",
            "quality",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    header.extend(labels.iter().map(|l| format!("quality_{l}")));
    header.push("quality_loss_pp".into());
    header.extend(labels.iter().map(|l| format!("quality_loss_pp_{l}")));
    header.extend(
        [
            "cost_per_1k_requests_usd",
            "escalation_rate",
            "cache_hit_rate",
            "batch_share",
            "unserved_rate",
            "input_usd",
            "cache_write_usd",
            "cache_read_usd",
            "output_usd",
            "overhead_usd",
            "sampling_error_usd",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut out = Rows::new();
    out.row(&header);
    let usd = |x: f64| format!("{x:.6}");
    let frac = |x: f64| format!("{x:.8}");
    for x in &p.policies {
        let mut row = vec![
            x.name.clone(),
            x.kind.clone(),
            (x.name == p.baseline).to_string(),
            (Some(x.name.as_str()) == recommended).to_string(),
            x.on_frontier.to_string(),
            format!("{:.3}", x.requests),
            usd(x.total_cost_usd),
        ];
        row.extend(x.bands.total_cost_usd.iter().map(|&v| usd(v)));
        row.push(usd(x.bands.total_cost_usd_sd));
        row.push(usd(x.first_month_cost_usd));
        row.push(format!("{:.6}", x.savings_vs_baseline_pct));
        row.push(frac(x.quality));
        row.extend(x.bands.quality.iter().map(|&v| frac(v)));
        row.push(format!("{:.6}", x.quality_loss_pp));
        row.extend(x.bands.quality_loss_pp.iter().map(|&v| format!("{v:.6}")));
        row.push(usd(x.cost_per_1k_requests));
        row.push(frac(x.escalation_rate));
        row.push(x.cache_hit_rate.map(frac).unwrap_or_default());
        row.push(frac(x.batch_share));
        row.push(frac(x.unserved_rate));
        let c = &x.by_component;
        for v in [c.input, c.cache_write, c.cache_read, c.output, c.overhead] {
            row.push(usd(v));
        }
        row.push(
            x.sampling_error
                .as_ref()
                .map(|e| usd(e.total_cost_usd))
                .unwrap_or_default(),
        );
        out.row(&row);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::quantile_label;

    #[test]
    fn quantile_labels() {
        assert_eq!(quantile_label(0.1), "p10");
        assert_eq!(quantile_label(0.5), "p50");
        assert_eq!(quantile_label(0.025), "p2.5");
        assert_eq!(quantile_label(0.999), "p99.9");
    }
}
