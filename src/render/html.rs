//! `report.html`: one self-contained page a founder can email: the
//! scenario in plain words, the headline, the summary table, every chart
//! (inline SVG), the assumptions, and how to reproduce it. No script, no
//! network: inline CSS and SVG only.
//!
//! The page is a minijinja template (`templates/report.html`) with
//! auto-escaping on, because scenario, workload and policy names are user
//! input; the only unescaped values are the SVG charts, which plotters
//! writes with their text escaped.

use minijinja::{Environment, context};
use serde::Serialize;

use crate::analysis::capacity::Capacity;
use crate::analysis::credits::CreditReport;
use crate::analysis::projection::Projection;
use crate::error::{Error, Result};
use crate::render::chart::Figure;
use crate::render::export::provenance::Provenance;
use crate::render::format::{compact, count, pct, usd};
use crate::render::terminal::growth_words;
use crate::scenario::{CacheDef, DifficultyDef, Scenario, TokenDef};

/// The templates, by the names they include each other with: the report,
/// the parts it shares with the what-if page (`render::live`), and the page.
const TEMPLATES: [(&str, &str); 8] = [
    ("report.html", include_str!("../../templates/report.html")),
    (
        "parts/style.css",
        include_str!("../../templates/parts/style.css"),
    ),
    (
        "parts/headline.html",
        include_str!("../../templates/parts/headline.html"),
    ),
    (
        "parts/summary.html",
        include_str!("../../templates/parts/summary.html"),
    ),
    (
        "parts/charts.html",
        include_str!("../../templates/parts/charts.html"),
    ),
    (
        "parts/live.js",
        include_str!("../../templates/parts/live.js"),
    ),
    ("live.html", include_str!("../../templates/live.html")),
    (
        "live_results.html",
        include_str!("../../templates/live_results.html"),
    ),
];

/// Renders template `name` with `ctx`, every template loaded so includes resolve.
pub(crate) fn render_template(name: &str, ctx: minijinja::Value) -> Result<String> {
    let mut env = Environment::new();
    for (n, t) in TEMPLATES {
        env.add_template(n, t)
            .map_err(|e| Error::write_failed(format!("template {n}: {e}")))?;
    }
    let tpl = env
        .get_template(name)
        .map_err(|e| Error::write_failed(format!("template {name}: {e}")))?;
    tpl.render(ctx)
        .map_err(|e| Error::write_failed(format!("rendering {name} failed: {e}")))
}

/// The section headings, in order (the browser test looks for each).
pub const SECTIONS: [&str; 6] = [
    "Headline",
    "The scenario",
    "Summary",
    "Charts",
    "Assumptions",
    "Reproduce",
];

#[derive(Serialize)]
struct WorkloadRow {
    name: String,
    share: String,
    task: &'static str,
    modality: &'static str,
    input_tokens: String,
    output_tokens: String,
    difficulty: String,
    cache: String,
    batch: String,
}

/// A table of strings with a title and a paragraph.
#[derive(Serialize)]
struct TextTable {
    title: String,
    words: String,
    head: Vec<&'static str>,
    /// Per column: right-aligned (numbers).
    num: Vec<bool>,
    rows: Vec<Vec<String>>,
}

/// The capacity section's tables (`whatif::capacity_tables`, the cells the
/// terminal shows too).
fn capacity_tables(c: Option<&Capacity>) -> Vec<TextTable> {
    let Some(c) = c else { return Vec::new() };
    crate::render::whatif::capacity_tables(c)
        .into_iter()
        .map(|t| TextTable {
            title: t.title,
            words: t.words,
            num: t
                .head
                .iter()
                .map(|h| matches!(h.1, crate::render::table::Align::Right))
                .collect(),
            head: t.head.iter().map(|h| h.0).collect(),
            rows: t.rows,
        })
        .collect()
}

#[derive(Serialize)]
struct SessionTable {
    workload: String,
    words: String,
    rows: Vec<SessionRow>,
}

#[derive(Serialize)]
struct SessionRow {
    policy: String,
    cost: String,
    p50: String,
    p95: String,
    per_turn: String,
    calls: String,
    turns_ok: String,
    sessions_ok: String,
    fresh: String,
    write: String,
    read: String,
    output: String,
    read_share: String,
    compactions: String,
}

/// A table per session workload: what a session costs and where its tokens go.
fn session_tables(s: &Scenario, p: &crate::analysis::projection::Projection) -> Vec<SessionTable> {
    use super::format::{fixed, usd_unit};
    s.workloads
        .iter()
        .filter(|w| w.session.is_some())
        .filter_map(|w| {
            let rows: Vec<SessionRow> = p
                .policies
                .iter()
                .filter_map(|x| {
                    let l = x.by_workload.get(&w.name)?.sessions.as_ref()?;
                    let opt = |v: Option<f64>| v.map_or("-".to_string(), usd_unit);
                    Some(SessionRow {
                        policy: x.name.clone(),
                        cost: usd_unit(l.cost_per_session),
                        p50: opt(l.cost_p50),
                        p95: opt(l.cost_p95),
                        per_turn: usd_unit(l.cost_per_turn),
                        calls: fixed(l.calls, 1),
                        turns_ok: pct(l.turn_quality, 1),
                        sessions_ok: pct(l.session_quality, 1),
                        fresh: compact(l.fresh_input_tokens),
                        write: compact(l.cache_write_tokens),
                        read: compact(l.cache_read_tokens),
                        output: compact(l.output_tokens),
                        read_share: pct(l.cache_read_share, 1),
                        compactions: fixed(l.compactions, 2),
                    })
                })
                .collect();
            let first = p.policies.first()?.by_workload.get(&w.name)?.sessions.as_ref()?;
            Some(SessionTable {
                workload: w.name.clone(),
                words: format!(
                    "{} sessions over the horizon, {} turns each on average. Costs per session (P50 and P95 within 4.7%); tokens per session; sessions ok by the workload's success rule.",
                    compact(first.sessions),
                    fixed(first.turns, 1)
                ),
                rows,
            })
        })
        .collect()
}

#[derive(Serialize)]
struct PolicyRow {
    name: String,
    kind: String,
    month1: String,
    total: String,
    band: String,
    savings: String,
    quality: String,
    loss: String,
    per_1k: String,
    frontier: bool,
    baseline: bool,
    recommended: bool,
}

#[derive(Serialize)]
struct ChartView {
    name: &'static str,
    title: String,
    caption: String,
    svg: String,
}

fn tokens_words(t: &TokenDef) -> String {
    match t {
        TokenDef::Constant(p) => p.q.words(),
        TokenDef::Lognormal { median, p90, .. } => {
            format!(
                "lognormal, median {}, p90 {}",
                median.q.words(),
                p90.q.words()
            )
        }
        TokenDef::LognormalMuSigma { mu, sigma, .. } => {
            format!("lognormal, mu {}, sigma {}", mu.q.words(), sigma.q.words())
        }
        TokenDef::Uniform { min, max } => format!("uniform {} to {}", min.q.words(), max.q.words()),
        TokenDef::Empirical { values, .. } => format!("empirical ({} values)", values.len()),
    }
}

fn difficulty_words(d: &DifficultyDef) -> String {
    match d {
        DifficultyDef::Constant(p) => p.q.words(),
        DifficultyDef::Beta {
            mean,
            concentration,
        } => format!(
            "beta, mean {}, concentration {}",
            mean.q.words(),
            concentration.q.words()
        ),
        DifficultyDef::Uniform { min, max } => {
            format!("uniform {} to {}", min.q.words(), max.q.words())
        }
    }
}

fn cache_words(c: &Option<CacheDef>) -> String {
    match c {
        None => "none".into(),
        Some(CacheDef::Traffic {
            prefix_tokens,
            distinct_prefixes,
            ttl,
        }) => format!(
            "{} tokens over {} prefixes, {} TTL; hits derived from traffic",
            prefix_tokens.q.words(),
            distinct_prefixes.q.words(),
            ttl.as_str()
        ),
        Some(CacheDef::Pinned {
            prefix_tokens,
            hit_rate,
            ttl,
        }) => format!(
            "{} tokens, hit rate pinned at {}, {} TTL",
            prefix_tokens.q.words(),
            hit_rate.q.words(),
            ttl.as_str()
        ),
    }
}

/// Everything the report needs.
pub struct ReportInput<'a> {
    pub scenario: &'a Scenario,
    pub projection: &'a Projection,
    pub max_quality_loss_pp: f64,
    pub recommended: Option<usize>,
    pub credits: &'a [CreditReport],
    pub notes: &'a [String],
    pub figures: &'a [Figure],
    pub provenance: &'a Provenance,
    /// The capacity section, when the scenario asks about capacity.
    pub capacity: Option<&'a Capacity>,
}

pub fn render(r: &ReportInput<'_>) -> Result<String> {
    render_template("report.html", context(r))
}

/// What the report's template (and the what-if page's results, which share
/// its parts) is filled with.
pub(crate) fn context(r: &ReportInput<'_>) -> minijinja::Value {
    let (s, p) = (r.scenario, r.projection);
    let base = p.policies.iter().find(|x| x.name == p.baseline);
    let qs = p
        .policies
        .first()
        .map(|x| x.bands.quantiles.clone())
        .unwrap_or_default();
    let banded = p.replications > 1 && qs.len() >= 2;
    let band_label = if banded {
        format!(
            "P{}-P{}",
            crate::render::export::summary::quantile_label(qs[0]).trim_start_matches('p'),
            crate::render::export::summary::quantile_label(qs[qs.len() - 1])
                .trim_start_matches('p')
        )
    } else {
        String::new()
    };
    let rows: Vec<PolicyRow> = p
        .policies
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let is_base = x.name == p.baseline;
            PolicyRow {
                name: x.name.clone(),
                kind: x.kind.clone(),
                month1: usd(x.first_month_cost_usd),
                total: usd(x.total_cost_usd),
                band: if banded {
                    format!(
                        "{} to {}",
                        usd(x.bands.total_cost_usd[0]),
                        usd(x.bands.total_cost_usd[qs.len() - 1])
                    )
                } else {
                    String::new()
                },
                savings: if is_base {
                    "-".into()
                } else {
                    format!("{:.1}%", x.savings_vs_baseline_pct)
                },
                quality: pct(x.quality, 2),
                loss: if is_base {
                    "-".into()
                } else {
                    format!("{} pp", super::format::fixed(x.quality_loss_pp, 2))
                },
                per_1k: usd(x.cost_per_1k_requests),
                frontier: x.on_frontier,
                baseline: is_base,
                recommended: r.recommended == Some(i),
            }
        })
        .collect();

    // Headline.
    let months = p.horizon_months;
    let headline = match (r.recommended.map(|i| &p.policies[i]), base) {
        (Some(x), Some(b)) if x.name != b.name => format!(
            "{} is the cheapest policy within the {} pp quality budget: {} over {} months against {} for the baseline {} ({:.1}% less), giving up {:.2} percentage points of quality.",
            x.name,
            r.max_quality_loss_pp,
            usd(x.total_cost_usd),
            months,
            usd(b.total_cost_usd),
            b.name,
            x.savings_vs_baseline_pct,
            x.quality_loss_pp
        ),
        (Some(x), _) => format!(
            "No policy beats the baseline {} within the {} pp quality budget; it costs {} over {} months.",
            x.name,
            r.max_quality_loss_pp,
            usd(x.total_cost_usd),
            months
        ),
        (None, _) => format!(
            "No policy stays within the {} pp quality budget.",
            r.max_quality_loss_pp
        ),
    };
    let mut headline_points = Vec::new();
    if let Some(x) = r.recommended.map(|i| &p.policies[i]) {
        headline_points.push(format!(
            "Month 1 under {}: {} ({} per 1K requests).",
            x.name,
            usd(x.first_month_cost_usd),
            usd(x.cost_per_1k_requests)
        ));
        if banded {
            headline_points.push(format!(
                "Over {} replications, {} months of {} cost between {} and {} ({band_label}).",
                p.replications,
                months,
                x.name,
                usd(x.bands.total_cost_usd[0]),
                usd(x.bands.total_cost_usd[qs.len() - 1])
            ));
        }
        match r.credits.iter().find(|c| c.policy == x.name) {
            Some(c) => headline_points.push(format!(
                "Credits: the pools ({}) last {} at the median; to cover {} months at {:.0}% confidence, ask for {} more ({} in all).",
                usd(c.pools_total_usd),
                c.runout_month_p50
                    .map_or("the whole horizon".to_string(), |m| format!("until month {m}")),
                c.months_covered,
                c.confidence * 100.0,
                usd(c.additional_credits_usd),
                usd(c.required_credits_usd)
            )),
            None => {
                let total = if banded {
                    x.bands.total_cost_usd[qs.len() - 1]
                } else {
                    x.total_cost_usd
                };
                headline_points.push(format!(
                    "Credits: the scenario lists no credit pools; covering the {} months of {} takes {}{}.",
                    months,
                    x.name,
                    usd(total),
                    if banded {
                        format!(" at the {}", band_label.rsplit('-').next().unwrap_or(""))
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }

    let workloads: Vec<WorkloadRow> = s
        .workloads
        .iter()
        .map(|w| WorkloadRow {
            name: w.name.clone(),
            share: w.share.q.words(),
            task: w.task.as_str(),
            modality: w.modality.as_str(),
            input_tokens: tokens_words(&w.input_tokens),
            output_tokens: tokens_words(&w.output_tokens),
            difficulty: difficulty_words(&w.difficulty),
            cache: cache_words(&w.cache),
            batch: w.batch_share.q.words(),
        })
        .collect();

    let mut assumptions = vec![
        format!(
            "Prices: catalog {} as of {} ({}), {} inference profile.",
            s.catalog.name, s.catalog.as_of, s.catalog.origin, s.profile
        ),
        format!(
            "Quality model: a request succeeds when the model's capability for its task beats the request's difficulty, on a logistic of slope {}; outcome correlation {} (1: a stronger model succeeds wherever a weaker one does).",
            s.slope.q.words(),
            s.outcome_correlation.q.words()
        ),
    ];
    if s.capability_overrides.is_empty() {
        assumptions.push(
            "Capabilities: the catalog's priors, anchored to the makers' published benchmarks; calibrate them on your own evaluations (tiersim calibrate) before relying on quality figures.".into(),
        );
    } else {
        assumptions.push(format!(
            "Capabilities: {} override(s) of the catalog's priors from the scenario or its quality profile.",
            s.capability_overrides.len()
        ));
    }
    for x in &p.policies {
        if let Some(h) = x.cache_hit_rate {
            assumptions.push(format!(
                "Cache hit rate under {}: {} of cache lookups (derived from traffic unless pinned above).",
                x.name,
                pct(h, 2)
            ));
        }
    }
    let uncertain = crate::sim::instance::uncertain_params(s);
    if uncertain.is_empty() {
        assumptions.push("Every input is a fixed number (no uncertain inputs).".into());
    } else {
        for u in &uncertain {
            assumptions.push(format!(
                "Uncertain: {} ~ {}.",
                s.display_path(&u.path),
                u.q.words()
            ));
        }
    }
    if !s.overrides.is_empty() {
        assumptions.push(format!("Overrides: {}.", s.overrides.join(", ")));
    }

    let growth = match &s.volume.growth {
        crate::scenario::Growth::MonthlyPct(g) if !g.q.is_fixed() => {
            format!("monthly growth in % ~ {}", g.q.words())
        }
        _ => growth_words(s),
    };
    let scenario_words = format!(
        "{} requests in month 1 ({}), {} over {} months (mean over replications); {} workload(s), {} polic{}; baseline {}.",
        count(p.volumes.first().copied().unwrap_or(0.0)),
        growth,
        compact(p.volumes.iter().sum::<f64>()),
        months,
        s.workloads.len(),
        s.policies.len(),
        if s.policies.len() == 1 { "y" } else { "ies" },
        p.baseline
    );
    let charts: Vec<ChartView> = r
        .figures
        .iter()
        .map(|f| ChartView {
            name: f.name,
            title: f.title.clone(),
            caption: f.caption.clone(),
            // The XML declaration is not allowed inside HTML.
            svg: f
                .svg
                .trim_start_matches(|c: char| c != '<')
                .strip_prefix("<?xml")
                .map_or(f.svg.clone(), |rest| {
                    rest.split_once("?>")
                        .map_or(String::new(), |(_, svg)| svg.to_string())
                }),
        })
        .collect();
    context! {
        sections => SECTIONS,
        name => &s.name,
        description => &s.description,
        scenario_words => scenario_words,
        catalog => format!("{} (prices as of {})", s.catalog.name, s.catalog.as_of),
        workloads => workloads,
        headline => headline,
        headline_points => headline_points,
        band_label => band_label,
        rows => rows,
        session_tables => session_tables(s, p),
        capacity_tables => capacity_tables(r.capacity),
        replications => p.replications,
        mode => p.mode.name(),
        charts => charts,
        assumptions => assumptions,
        notes => r.notes,
        provenance => r.provenance,
        version => env!("CARGO_PKG_VERSION"),
    }
}
