//! The charts of the what-if commands: sweep lines with their break-even
//! points, and the sensitivity tornado.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, Figure, font, padded, policy_colour, render, usd_axis};
use crate::analysis::optimize::Optimized;
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::error::Result;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// One line of a sweep chart: a policy (at one value of the second swept
/// field, in a grid) across the first field's values.
struct Line {
    label: String,
    colour: RGBColor,
    /// Lighter for later values of the second field.
    shade: f64,
    cost: Vec<(f64, f64)>,
    loss: Vec<(f64, f64)>,
}

struct SweepData {
    path: String,
    /// The first field's values are numbers (else categories).
    numeric: bool,
    /// x positions and their tick labels.
    ticks: Vec<(f64, String)>,
    lines: Vec<Line>,
    /// (x, label) of break-even points along the first field.
    cost_marks: Vec<(f64, String)>,
    loss_marks: Vec<(f64, String)>,
    budget_pp: f64,
}

impl SweepData {
    fn new(s: &Sweep) -> SweepData {
        let first = &s.varies[0];
        let xs: Vec<f64> = match &first.numeric {
            Some(v) => v.clone(),
            None => (0..first.values.len()).map(|i| i as f64).collect(),
        };
        let ticks = xs
            .iter()
            .zip(&first.values)
            .map(|(&x, v)| (x, v.clone()))
            .collect();
        let x_of = |v: &str| first.values.iter().position(|x| x == v).map(|i| xs[i]);
        let others: Vec<Option<String>> = match s.varies.get(1) {
            Some(second) => second.values.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let policies: Vec<String> = s
            .points
            .first()
            .map(|p| p.policies.iter().map(|x| x.name.clone()).collect())
            .unwrap_or_default();
        let mut lines = Vec::new();
        for (i, name) in policies.iter().enumerate() {
            for (j, other) in others.iter().enumerate() {
                let mut cost = Vec::new();
                let mut loss = Vec::new();
                for point in &s.points {
                    if let (Some(o), Some(second)) = (other, s.varies.get(1))
                        && point.values.get(&second.path) != Some(o)
                    {
                        continue;
                    }
                    let Some(x) = point.values.get(&first.path).and_then(|v| x_of(v)) else {
                        continue;
                    };
                    if let Some(pp) = point.policies.iter().find(|p| &p.name == name) {
                        cost.push((x, pp.total_cost_usd));
                        loss.push((x, pp.quality_loss_pp));
                    }
                }
                cost.sort_by(|a, b| a.0.total_cmp(&b.0));
                loss.sort_by(|a, b| a.0.total_cmp(&b.0));
                let label = match (other, s.varies.get(1)) {
                    (Some(o), Some(second)) => format!("{name} @ {}={o}", short(&second.path)),
                    _ => name.clone(),
                };
                lines.push(Line {
                    label,
                    colour: policy_colour(i),
                    shade: if others.len() > 1 {
                        j as f64 / (others.len() - 1) as f64
                    } else {
                        0.0
                    },
                    cost,
                    loss,
                });
            }
        }
        let marks = |kind: &str| {
            s.break_evens
                .iter()
                .filter(|b| b.kind == kind && b.path == first.path && b.at_other.is_none())
                .map(|b| (b.value, format!("{} vs {}", b.policy, b.versus)))
                .collect::<Vec<_>>()
        };
        SweepData {
            path: first.path.clone(),
            numeric: first.numeric.is_some(),
            ticks,
            lines,
            cost_marks: marks("cost"),
            loss_marks: s
                .break_evens
                .iter()
                .filter(|b| {
                    b.kind == "quality_loss" && b.path == first.path && b.at_other.is_none()
                })
                .map(|b| (b.value, b.policy.clone()))
                .collect(),
            budget_pp: s.max_quality_loss_pp,
        }
    }
}

/// An axis number without float noise: up to six significant digits.
fn tick_number(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        return format!("{v:.2e}");
    }
    let s = format!(
        "{:.*}",
        (5 - v.abs().max(1e-3).log10().floor() as i32).clamp(0, 8) as usize,
        v
    );
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The last segment of a field path, for labels.
fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

struct SweepChart<'a> {
    data: &'a SweepData,
    cost: bool,
}

impl Chart for SweepChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let d = self.data;
        let pick = |l: &Line| {
            if self.cost {
                l.cost.clone()
            } else {
                l.loss.clone()
            }
        };
        let all: Vec<(f64, f64)> = d.lines.iter().flat_map(pick).collect();
        let (xlo, xhi) = d
            .ticks
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
                (a.min(*x), b.max(*x))
            });
        let (xlo, xhi) = if xlo.is_finite() {
            (xlo, xhi)
        } else {
            (0.0, 1.0)
        };
        let (mut ylo, mut yhi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
                (a.min(*y), b.max(*y))
            });
        if !ylo.is_finite() {
            (ylo, yhi) = (0.0, 1.0);
        }
        if !self.cost {
            ylo = ylo.min(0.0);
            yhi = yhi.max(d.budget_pp);
        }
        let title = if self.cost {
            format!("Total cost as {} varies", d.path)
        } else {
            format!("Quality loss as {} varies", d.path)
        };
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(84)
            .build_cartesian_2d(padded(xlo, xhi, false), padded(ylo, yhi, self.cost))?;
        let ticks = d.ticks.clone();
        let numeric_ticks = d.numeric;
        chart
            .configure_mesh()
            .x_desc(d.path.clone())
            .y_desc(if self.cost {
                "Total cost over the horizon (USD)"
            } else {
                "Quality loss vs baseline (percentage points)"
            })
            .x_label_formatter(&|v| {
                if numeric_ticks {
                    tick_number(*v)
                } else {
                    ticks
                        .iter()
                        .find(|(x, _)| (x - v).abs() < 1e-9)
                        .map(|(_, l)| l.clone())
                        .unwrap_or_default()
                }
            })
            .x_labels(if numeric_ticks {
                ticks.len().clamp(2, 11)
            } else {
                200
            })
            .y_label_formatter(&|v| {
                if self.cost {
                    usd_axis(*v)
                } else {
                    format!("{v:.1} pp")
                }
            })
            .label_style(font(13))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        if !self.cost {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xlo, d.budget_pp), (xhi, d.budget_pp)],
                    10,
                    6,
                    RED.mix(0.6).stroke_width(2),
                ))?
                .label(format!("quality budget ({} pp)", d.budget_pp))
                .legend(|(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], RED.mix(0.6).stroke_width(2))
                });
        }
        for l in &d.lines {
            let colour = l.colour.mix(1.0 - 0.6 * l.shade);
            let pts = pick(l);
            let legend_colour = colour;
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?
                .label(l.label.clone())
                .legend(move |(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], legend_colour.stroke_width(3))
                });
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        let marks = if self.cost {
            &d.cost_marks
        } else {
            &d.loss_marks
        };
        for (i, (x, label)) in marks.iter().enumerate() {
            chart.draw_series(DashedLineSeries::new(
                vec![(*x, ylo), (*x, yhi)],
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?;
            let text = if self.cost {
                format!("break-even {label} at {x:.4}")
            } else {
                format!("{label} crosses budget at {x:.4}")
            };
            // Labels sit at the bottom of the line, on the side with room.
            let right_half = *x > (xlo + xhi) / 2.0;
            let anchor = if right_half { HPos::Right } else { HPos::Left };
            let dx = if right_half { -6 } else { 6 };
            chart.draw_series(std::iter::once(
                EmptyElement::at((*x, ylo))
                    + Text::new(
                        text,
                        (dx, -20 - 16 * i as i32),
                        font(12).pos(Pos::new(anchor, VPos::Center)),
                    ),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(font(13))
            .draw()
    }
}

/// The sweep's two charts: cost and quality loss against the swept value.
pub fn sweep(s: &Sweep) -> Result<Vec<Figure>> {
    let data = SweepData::new(s);
    Ok(vec![
        render(
            "sweep_cost",
            format!("Total cost as {} varies", data.path),
            "Expected total cost per policy at each swept value; dashed verticals mark where one policy becomes cheaper than another.".into(),
            &SweepChart {
                data: &data,
                cost: true,
            },
        )?,
        render(
            "sweep_quality",
            format!("Quality loss as {} varies", data.path),
            "Quality loss against the baseline per policy; the red line is the quality budget.".into(),
            &SweepChart {
                data: &data,
                cost: false,
            },
        )?,
    ])
}

struct Tornado<'a> {
    s: &'a Sensitivity,
}

impl Chart for Tornado<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let s = self.s;
        let n = s.inputs.len().max(1);
        let mid = s.total_cost_at_medians_usd;
        let (lo, hi) = s.inputs.iter().fold((mid, mid), |(a, b), x| {
            (
                a.min(x.total_cost_at_low_usd).min(x.total_cost_at_high_usd),
                b.max(x.total_cost_at_low_usd).max(x.total_cost_at_high_usd),
            )
        });
        let names: Vec<String> = s.inputs.iter().rev().map(|x| x.input.clone()).collect();
        let label_width = names
            .iter()
            .map(|x| x.chars().count())
            .max()
            .unwrap_or(10)
            .clamp(10, 48) as u32
            * 7
            + 16;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("What moves the total cost of {}", s.policy),
                font(20),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(label_width)
            .build_cartesian_2d(
                padded(lo, hi, false),
                // Largest swing on top.
                super::run::bar_rows(n),
            )?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("Total cost over the horizon (USD)")
            .x_label_formatter(&|v| usd_axis(*v))
            .y_labels(0)
            .label_style(font(12))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        super::run::row_labels(root, &chart, &names, 12)?;
        let low = RGBColor(78, 121, 167);
        let high = RGBColor(242, 142, 43);
        let bar = |k: usize, v: f64, c: RGBColor| {
            let (a, b) = if v < mid { (v, mid) } else { (mid, v) };
            super::run::bar(a, b, n - 1 - k, c.filled())
        };
        chart
            .draw_series(
                s.inputs
                    .iter()
                    .enumerate()
                    .map(|(k, x)| bar(k, x.total_cost_at_low_usd, low)),
            )?
            .label(format!("input at its P{:.0}", s.low_quantile * 100.0))
            .legend(move |(a, b)| Rectangle::new([(a, b - 5), (a + 12, b + 5)], low.filled()));
        chart
            .draw_series(
                s.inputs
                    .iter()
                    .enumerate()
                    .map(|(k, x)| bar(k, x.total_cost_at_high_usd, high)),
            )?
            .label(format!("input at its P{:.0}", s.high_quantile * 100.0))
            .legend(move |(a, b)| Rectangle::new([(a, b - 5), (a + 12, b + 5)], high.filled()));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(mid, -0.5), (mid, n as f64 - 0.5)],
                BLACK.stroke_width(2),
            )))?
            .label(format!("all inputs at their medians: {}", usd_axis(mid)))
            .legend(|(a, b)| PathElement::new(vec![(a, b), (a + 18, b)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(font(13))
            .draw()
    }
}

/// The tornado chart of a sensitivity analysis.
pub fn tornado(s: &Sensitivity) -> Result<Figure> {
    render(
        "sensitivity_tornado",
        format!("What moves the total cost of {}", s.policy),
        format!(
            "Total cost with each uncertain input at its P{:.0} and P{:.0}, the others at their medians; largest swing on top.",
            s.low_quantile * 100.0,
            s.high_quantile * 100.0
        ),
        &Tornado { s },
    )
}

/// The design search's frontier: cost against quality loss for every
/// undominated design, the chosen one marked, the scenario's own policies
/// as labelled points, the budget as a vertical line.
struct FrontierChart<'a> {
    o: &'a Optimized,
}

impl Chart for FrontierChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let o = self.o;
        let front: Vec<(f64, f64)> = o
            .frontier
            .iter()
            .map(|d| (d.quality_loss_pp, d.total_cost_usd))
            .collect();
        // The runner-up sits on the frontier next to the chosen design.
        let own: Vec<(f64, f64, &str)> = o
            .verified
            .iter()
            .filter(|v| Some(&v.name) != o.runner_up_policy.as_ref())
            .map(|v| (v.quality_loss_pp, v.total_cost_usd, v.name.as_str()))
            .collect();
        let xs = front.iter().map(|p| p.0).chain(own.iter().map(|p| p.0));
        let ys = front.iter().map(|p| p.1).chain(own.iter().map(|p| p.1));
        let (xlo, xhi) = xs.fold((0.0f64, o.max_quality_loss_pp), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (ylo, yhi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        let (ylo, yhi) = if ylo.is_finite() {
            (ylo, yhi)
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Designs for {}: cost against quality loss", o.scenario),
                font(20),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(84)
            .build_cartesian_2d(padded(xlo, xhi, false), padded(ylo, yhi, true))?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "Quality loss vs {} (percentage points)",
                o.baseline
            ))
            .y_desc("Total cost over the horizon (USD)")
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| usd_axis(*v))
            .label_style(font(13))
            .axis_desc_style(font(15))
            .light_line_style(BLACK.mix(0.04))
            .draw()?;
        let (_, y_top) = (ylo, yhi);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(o.max_quality_loss_pp, 0.0), (o.max_quality_loss_pp, y_top)],
                10,
                6,
                RED.mix(0.6).stroke_width(2),
            ))?
            .label(format!("quality budget ({} pp)", o.max_quality_loss_pp))
            .legend(|(a, b)| {
                PathElement::new(vec![(a, b), (a + 18, b)], RED.mix(0.6).stroke_width(2))
            });
        let colour = policy_colour(0);
        chart
            .draw_series(LineSeries::new(front.clone(), colour.stroke_width(2)))?
            .label(format!("frontier of searched designs ({})", front.len()))
            .legend(move |(a, b)| {
                PathElement::new(vec![(a, b), (a + 18, b)], colour.stroke_width(3))
            });
        chart.draw_series(front.iter().map(|&p| Circle::new(p, 2, colour.filled())))?;
        let chosen = front[o.chosen];
        chart
            .draw_series(std::iter::once(Circle::new(chosen, 7, RED.stroke_width(2))))?
            .label("chosen design")
            .legend(|(a, b)| Circle::new((a + 9, b), 5, RED.stroke_width(2)));
        for (i, (x, y, name)) in own.iter().enumerate() {
            let c = policy_colour(i + 1);
            chart.draw_series(std::iter::once(
                EmptyElement::at((*x, *y))
                    + Circle::new((0, 0), 4, c.filled())
                    + Text::new(
                        name.to_string(),
                        (7, -7),
                        font(12).pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(font(13))
            .draw()
    }
}

/// The design search's chart.
pub fn frontier(o: &Optimized) -> Result<Vec<Figure>> {
    Ok(vec![render(
        "design_frontier",
        format!("Designs for {}: cost against quality loss", o.scenario),
        "Every undominated design the search found (the line), the chosen one (circled), the scenario's own policies and the chosen design as the engine ran them (points); the red line is the quality budget.".into(),
        &FrontierChart { o },
    )?])
}

#[cfg(test)]
mod tests {
    use super::tick_number;

    #[test]
    fn ticks_without_float_noise() {
        assert_eq!(tick_number(0.8499999999999999), "0.85");
        assert_eq!(tick_number(3_000_000.0), "3.00e6");
        assert_eq!(tick_number(250_000.0), "250000");
        assert_eq!(tick_number(12.5), "12.5");
        assert_eq!(tick_number(0.0), "0");
    }
}
