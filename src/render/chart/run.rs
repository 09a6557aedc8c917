//! The charts of a run: monthly cost with its band, cost against quality
//! with the frontier, model mix, where the money goes, and credit runway.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    COMPONENT_COLOURS, Chart, Figure, font, model_colour, padded, policy_colour, render_as,
    usd_axis,
};
use crate::analysis::credits::CreditReport;
use crate::analysis::projection::{PolicySummary, Projection};
use crate::error::Result;
use crate::scenario::Scenario;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Every chart of a run, in the order the report shows them.
pub fn figures(s: &Scenario, p: &Projection, credits: &[CreditReport]) -> Result<Vec<Figure>> {
    figures_as(true, s, p, credits)
}

/// [`figures`], as SVG only unless `png` (`Figure::png` is then empty).
pub fn figures_as(
    png: bool,
    s: &Scenario,
    p: &Projection,
    credits: &[CreditReport],
) -> Result<Vec<Figure>> {
    let (lo, hi) = p
        .policies
        .first()
        .map(|x| {
            let q = &x.bands.quantiles;
            (
                q.first().copied().unwrap_or(0.5),
                q.last().copied().unwrap_or(0.5),
            )
        })
        .unwrap_or((0.5, 0.5));
    let band = if p.replications > 1 && hi > lo {
        format!(
            "; the shaded band is P{:.0}-P{:.0} over {} replications",
            lo * 100.0,
            hi * 100.0,
            p.replications
        )
    } else {
        String::new()
    };
    let mut out = vec![
        render_as(
                png,
            "monthly_cost",
            "Monthly cost per policy".into(),
            format!("Mean cost per month over the {}-month horizon{band}.", p.horizon_months),
            &MonthlyCost { p },
        )?,
        render_as(
                png,
            "cost_quality",
            "Cost vs quality".into(),
            format!(
                "Total cost over the horizon against quality (share of requests answered acceptably). The dashed line is the cost-quality frontier (convex hull, oracle excluded); the ringed point is the baseline, {}.",
                p.baseline
            ),
            &CostQuality { p },
        )?,
        render_as(
                png,
            "model_mix",
            "Model mix per policy".into(),
            "Share of calls and share of cost by model (Nova in orange, Claude in violet; darker is larger).".into(),
            &ModelMix::new(s, p),
        )?,
        render_as(
                png,
            "cost_components",
            "Where the money goes".into(),
            "Cost over the horizon by component: uncached input, cache writes, cache reads, output, and overhead (gate, judge and classifier calls).".into(),
            &Components { p },
        )?,
    ];
    if let Some(w) = s.workloads.iter().find(|w| w.session.is_some()) {
        let lines = SessionTurns::new(p, &w.name);
        if !lines.policies.is_empty() {
            out.push(render_as(
                png,
                "session_cost_by_turns",
                format!("Cost of a {} session by its number of turns", w.name),
                format!(
                    "Mean cost of a {} session against its number of turns, per policy: solid as billed (cache reads of the growing context), dashed had nothing been cached. Turn counts held by fewer than 0.2% of sessions are left out.",
                    w.name
                ),
                &lines,
            )?);
        }
    }
    if !credits.is_empty() {
        out.push(render_as(
                png,
            "credits",
            "Cumulative spend against credits".into(),
            format!(
                "Median cumulative spend per policy against the {} of credit pools; a marker shows the month the credits run out (median).",
                crate::render::format::usd(credits[0].pools_total_usd)
            ),
            &Credits { p, credits },
        )?);
    }
    Ok(out)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(font(14))
        .draw()
}

type MonthChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Months 1..=`months` across, dollars from 0 to `top` up, with the mesh drawn.
fn month_chart<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    months: usize,
    top: f64,
) -> std::result::Result<MonthChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(0.5..months as f64 + 0.5, padded(0.0, top, true))?;
    chart
        .configure_mesh()
        .x_desc("Month")
        .y_desc(y_desc)
        .x_labels(months.min(12) + 1)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 && *v >= 1.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| usd_axis(*v))
        .label_style(font(13))
        .axis_desc_style(font(15))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    Ok(chart)
}

struct MonthlyCost<'a> {
    p: &'a Projection,
}

impl Chart for MonthlyCost<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let p = self.p;
        let months = p.horizon_months.max(1);
        let banded = p.replications > 1;
        let mut top: f64 = 0.0;
        for x in &p.policies {
            for (m, b) in x.months.iter().zip(&x.bands.months) {
                top = top.max(m.cost_usd);
                if banded {
                    top = top.max(b.cost_usd.last().copied().unwrap_or(0.0));
                }
            }
        }
        let mut chart = month_chart(
            root,
            "Monthly cost per policy",
            "Cost (USD per month)",
            months,
            top,
        )?;
        for (i, x) in p.policies.iter().enumerate() {
            let colour = policy_colour(i);
            if banded {
                let mut pts: Vec<(f64, f64)> = x
                    .bands
                    .months
                    .iter()
                    .map(|b| (b.month as f64, b.cost_usd.first().copied().unwrap_or(0.0)))
                    .collect();
                pts.extend(
                    x.bands
                        .months
                        .iter()
                        .rev()
                        .map(|b| (b.month as f64, b.cost_usd.last().copied().unwrap_or(0.0))),
                );
                chart.draw_series(std::iter::once(Polygon::new(pts, colour.mix(0.15))))?;
            }
            let line: Vec<(f64, f64)> = x
                .months
                .iter()
                .map(|m| (m.month as f64, m.cost_usd))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))?
                .label(x.name.clone())
                .legend(move |(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], colour.stroke_width(3))
                });
            if months <= 36 {
                chart.draw_series(line.iter().map(|&pt| Circle::new(pt, 3, colour.filled())))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

struct CostQuality<'a> {
    p: &'a Projection,
}

impl Chart for CostQuality<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let p = self.p;
        let cost_max = p
            .policies
            .iter()
            .map(|x| x.total_cost_usd)
            .fold(0.0, f64::max);
        let q: Vec<f64> = p.policies.iter().map(|x| x.quality * 100.0).collect();
        let (qlo, qhi) = q
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (qlo, qhi) = if qlo.is_finite() {
            (qlo, qhi)
        } else {
            (0.0, 100.0)
        };
        let mut chart = ChartBuilder::on(root)
            .caption("Cost vs quality", font(22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(padded(0.0, cost_max * 1.15, true), padded(qlo, qhi, false))?;
        chart
            .configure_mesh()
            .x_desc("Total cost over the horizon (USD)")
            .y_desc("Quality (% of requests answered acceptably)")
            .x_label_formatter(&|v| usd_axis(*v))
            .y_label_formatter(&|v| format!("{v:.1}%"))
            .label_style(font(13))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        let mut frontier: Vec<&PolicySummary> =
            p.policies.iter().filter(|x| x.on_frontier).collect();
        frontier.sort_by(|a, b| a.total_cost_usd.total_cmp(&b.total_cost_usd));
        if frontier.len() > 1 {
            chart
                .draw_series(DashedLineSeries::new(
                    frontier
                        .iter()
                        .map(|x| (x.total_cost_usd, x.quality * 100.0)),
                    8,
                    5,
                    BLACK.mix(0.55).stroke_width(2),
                ))?
                .label("frontier")
                .legend(|(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], BLACK.mix(0.55).stroke_width(2))
                });
        }
        for (i, x) in p.policies.iter().enumerate() {
            let colour = policy_colour(i);
            let at = (x.total_cost_usd, x.quality * 100.0);
            let name = x.name.clone();
            chart.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Circle::new((0, 0), 6, colour.filled())
                    + Text::new(name, (9, -16), font(13)),
            ))?;
            if x.name == p.baseline {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + Circle::new((0, 0), 11, BLACK.stroke_width(2))
                        + Text::new("baseline", (9, 4), font(12).color(&BLACK.mix(0.7))),
                ))?;
            }
        }
        if frontier.len() > 1 {
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}

/// (turns, cost per session, uncached cost per session).
type TurnsPoint = (f64, f64, f64);

/// Cost per session against turns, cached and uncached, per policy.
struct SessionTurns {
    /// (policy index, name, points).
    policies: Vec<(usize, String, Vec<TurnsPoint>)>,
}

impl SessionTurns {
    fn new(p: &Projection, workload: &str) -> SessionTurns {
        let policies = p
            .policies
            .iter()
            .enumerate()
            .filter_map(|(i, x)| {
                let l = x.by_workload.get(workload)?.sessions.as_ref()?;
                let min = l.sessions * 0.002;
                let pts: Vec<TurnsPoint> = l
                    .by_turns
                    .iter()
                    .filter(|r| r.sessions >= min)
                    .map(|r| {
                        (
                            r.turns as f64,
                            r.cost_per_session,
                            r.uncached_cost_per_session,
                        )
                    })
                    .collect();
                (!pts.is_empty()).then(|| (i, x.name.clone(), pts))
            })
            .collect();
        SessionTurns { policies }
    }
}

impl Chart for SessionTurns {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (mut xmax, mut ymax) = (1.0f64, 0.0f64);
        for (_, _, pts) in &self.policies {
            for &(t, c, u) in pts {
                xmax = xmax.max(t);
                ymax = ymax.max(c).max(u);
            }
        }
        let mut chart = ChartBuilder::on(root)
            .caption("Cost of a session by its number of turns", font(22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..xmax + 1.0, padded(0.0, ymax, true))?;
        chart
            .configure_mesh()
            .x_desc("Turns in the session")
            .y_desc("Cost per session (USD)")
            .y_label_formatter(&|v| usd_axis(*v))
            .label_style(font(13))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        for (i, name, pts) in &self.policies {
            let colour = policy_colour(*i);
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|&(t, c, _)| (t, c)),
                    colour.stroke_width(2),
                ))?
                .label(name.clone())
                .legend(move |(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], colour.stroke_width(3))
                });
            chart.draw_series(DashedLineSeries::new(
                pts.iter().map(|&(t, _, u)| (t, u)),
                6,
                4,
                colour.mix(0.6).stroke_width(1),
            ))?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Horizontal bars: rows 0..n on a continuous axis (row 0 at the bottom).
pub(super) fn bar_rows(n: usize) -> std::ops::Range<f64> {
    -0.5..n.max(1) as f64 - 0.5
}

/// A bar from `a` to `b` in row `row`, a little narrower than the row.
pub(super) fn bar(a: f64, b: f64, row: usize, style: ShapeStyle) -> Rectangle<(f64, f64)> {
    let y = row as f64;
    Rectangle::new([(a, y - 0.32), (b, y + 0.32)], style)
}

/// Writes `names[row]` left of each row, right-aligned against the axis.
pub(super) fn row_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    names: &[String],
    size: u32,
) -> DrawResult<DB> {
    let x0 = chart.x_range().start;
    let (bx, by) = area.get_base_pixel();
    let style = font(size).pos(Pos::new(HPos::Right, VPos::Center));
    for (row, name) in names.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(x0, row as f64));
        area.draw(&Text::new(
            name.clone(),
            (px - bx - 8, py - by),
            style.clone(),
        ))?;
    }
    Ok(())
}

struct ModelMix {
    policies: Vec<String>,
    /// (model key, colour, calls share per policy, cost share per policy).
    models: Vec<(String, RGBColor, Vec<f64>, Vec<f64>)>,
}

impl ModelMix {
    fn new(s: &Scenario, p: &Projection) -> ModelMix {
        let mut generation: BTreeMap<(String, u8), usize> = BTreeMap::new();
        let mut models = Vec::new();
        for m in &s.catalog.models {
            let tier = super::tier_of(&m.key);
            let g = generation
                .entry((m.family.clone(), (tier * 10.0) as u8))
                .or_default();
            let colour = model_colour(&m.family, tier, *g);
            *g += 1;
            let calls: Vec<f64> = p
                .policies
                .iter()
                .map(|x| x.by_model.get(&m.key).map_or(0.0, |l| l.call_share))
                .collect();
            let cost: Vec<f64> = p
                .policies
                .iter()
                .map(|x| x.by_model.get(&m.key).map_or(0.0, |l| l.cost_share))
                .collect();
            if calls.iter().chain(&cost).any(|&v| v > 0.0) {
                models.push((m.key.clone(), colour, calls, cost));
            }
        }
        ModelMix {
            policies: p.policies.iter().map(|x| x.name.clone()).collect(),
            models,
        }
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        cost: bool,
    ) -> DrawResult<DB> {
        // The left panel carries the policy names; the right one lines up with it.
        let with_legend = cost;
        let n = self.policies.len();
        // First policy on top.
        let names: Vec<String> = self.policies.iter().rev().cloned().collect();
        let mut chart = ChartBuilder::on(area)
            .caption(title, font(18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(if with_legend { 10 } else { 130 })
            .build_cartesian_2d(0.0..100.0, bar_rows(n))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("Share (%)")
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_labels(0)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        if !with_legend {
            row_labels(area, &chart, &names, 13)?;
        }
        let mut left = vec![0.0; n];
        for (_, colour, calls, costs) in &self.models {
            let shares = if cost { costs } else { calls };
            let colour = *colour;
            let bars: Vec<_> = (0..n)
                .filter(|&i| shares[i] > 0.0)
                .map(|i| {
                    let a = left[i];
                    let b = a + shares[i] * 100.0;
                    left[i] = b;
                    bar(a, b, n - 1 - i, colour.filled())
                })
                .collect();
            chart.draw_series(bars)?;
        }
        Ok(())
    }
}

impl Chart for ModelMix {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let root = root.titled("Model mix per policy", font(22))?;
        let rows = self.models.len().div_ceil(5).max(1) as u32;
        let (plots, key) = root.split_vertically(root.dim_in_pixel().1 - 22 * rows - 8);
        let (left, right) = plots.split_horizontally(super::WIDTH / 2 + 60);
        self.panel(&left, "Share of calls", false)?;
        self.panel(&right, "Share of cost", true)?;
        // One key for both panels, under them.
        let width = super::WIDTH as i32 / 5;
        for (i, (name, colour, _, _)) in self.models.iter().enumerate() {
            let x = 40 + width * (i % 5) as i32;
            let y = 4 + 22 * (i / 5) as i32;
            key.draw(&Rectangle::new(
                [(x, y + 3), (x + 14, y + 15)],
                colour.filled(),
            ))?;
            key.draw(&Text::new(name.clone(), (x + 20, y + 2), font(13)))?;
        }
        Ok(())
    }
}

struct Components<'a> {
    p: &'a Projection,
}

impl Chart for Components<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let p = self.p;
        let n = p.policies.len();
        // First policy on top.
        let names: Vec<String> = p.policies.iter().rev().map(|x| x.name.clone()).collect();
        let top = p
            .policies
            .iter()
            .map(|x| x.total_cost_usd)
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption("Where the money goes", font(22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(150)
            .build_cartesian_2d(padded(0.0, top * 1.25, true), bar_rows(n))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("Cost over the horizon (USD)")
            .x_label_formatter(&|v| usd_axis(*v))
            .y_labels(0)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        row_labels(root, &chart, &names, 13)?;
        let labels = ["input", "cache write", "cache read", "output", "overhead"];
        let mut left = vec![0.0; n];
        for (k, label) in labels.iter().enumerate() {
            let colour = COMPONENT_COLOURS[k];
            let bars: Vec<_> = p
                .policies
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    let c = &x.by_component;
                    let v = [c.input, c.cache_write, c.cache_read, c.output, c.overhead][k];
                    (v > 0.0).then(|| {
                        let a = left[i];
                        left[i] = a + v;
                        bar(a, a + v, n - 1 - i, colour.filled())
                    })
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(*label)
                .legend(move |(a, b)| {
                    Rectangle::new([(a, b - 5), (a + 12, b + 5)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

struct Credits<'a> {
    p: &'a Projection,
    credits: &'a [CreditReport],
}

impl Chart for Credits<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let months = self.p.horizon_months.max(1);
        let pools = self.credits.first().map_or(0.0, |c| c.pools_total_usd);
        let top = self
            .credits
            .iter()
            .flat_map(|c| c.cumulative_p50_usd.iter().copied())
            .fold(pools, f64::max);
        let mut chart = month_chart(
            root,
            "Cumulative spend against credits",
            "Cumulative spend (USD)",
            months,
            top,
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.5, pools), (months as f64 + 0.5, pools)],
                10,
                6,
                BLACK.mix(0.6).stroke_width(2),
            ))?
            .label(format!("credit pools ({})", usd_axis(pools)))
            .legend(|(a, b)| {
                PathElement::new(vec![(a, b), (a + 18, b)], BLACK.mix(0.6).stroke_width(2))
            });
        for (k, c) in self.credits.iter().enumerate() {
            let i = self
                .p
                .policies
                .iter()
                .position(|x| x.name == c.policy)
                .unwrap_or(0);
            let colour = policy_colour(i);
            let line: Vec<(f64, f64)> = c
                .cumulative_p50_usd
                .iter()
                .enumerate()
                .map(|(m, &v)| ((m + 1) as f64, v))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))?
                .label(c.policy.clone())
                .legend(move |(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], colour.stroke_width(3))
                });
            if let Some(m) = c.runout_month_p50
                && let Some(&(x, y)) = (m as usize).checked_sub(1).and_then(|i| line.get(i))
            {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x, y))
                        + Cross::new((0, 0), 7, colour.stroke_width(3))
                        + Text::new(
                            format!("month {m}"),
                            (8, 6 + 14 * (k % 3) as i32),
                            font(12).color(&colour.mix(0.9)),
                        ),
                ))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}
