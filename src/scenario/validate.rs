//! Validation: [`ScenarioSpec`] → [`Scenario`], reporting every problem at
//! once, each with its field path (located to a line and column by the
//! caller) and what would be valid.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::pricing::{ServiceTier, Ttl};
use crate::catalog::{Catalog, DEFAULT_CATALOG, Modality, TaskKind};
use crate::check::Checker;
use crate::check::quantity::{Quantity, Range, fmt_num};
use crate::error::{Diagnostics, Error, Result};
use crate::input::suggest;
use crate::scenario::spec::*;
use crate::scenario::*;
use crate::stats::dist::{MAX_TOKENS, TokenDist};
use crate::traffic::session::MAX_TURNS;

const MAX_WORKLOADS: usize = 256;
const MAX_POLICIES: usize = 64;

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

const NAME_RULE: &str = "use 1 to 64 letters, digits, '-' or '_'";

pub(super) fn validate(spec: ScenarioSpec, base_dir: Option<&Path>) -> Result<Scenario> {
    let catalog_ref = spec
        .catalog
        .clone()
        .unwrap_or_else(|| DEFAULT_CATALOG.to_string());
    if Catalog::is_path_reference(&catalog_ref) {
        let file = resolve_relative(base_dir, &catalog_ref);
        if !file.exists() {
            return Err(Error::from(
                crate::error::Diagnostic::new(format!(
                    "no such file {}; give a built-in catalog ({}) or the path of a catalog file, relative to the scenario",
                    file.display(),
                    crate::catalog::EMBEDDED
                        .iter()
                        .map(|(n, ..)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .at_path("catalog"),
            ));
        }
    }
    let catalog = Catalog::load(&catalog_ref, base_dir).map_err(|mut e| {
        for d in &mut e.diagnostics {
            if d.file.is_none() && d.path.is_none() {
                d.path = Some("catalog".into());
            }
        }
        e
    })?;
    let mut notes = Vec::new();
    let mut inputs = Vec::new();
    if !catalog.origin.starts_with("embedded:") {
        inputs.push(PathBuf::from(&catalog.origin));
    }
    let replayed = replayed_workloads(&spec, base_dir, &mut notes)?;
    if let Some(t) = &spec.traffic {
        inputs.push(resolve_relative(base_dir, &t.replay));
    }
    let workload_specs: &[WorkloadSpec] = replayed.as_ref().map_or(&spec.workloads, |r| &r.0);
    let mut cx = Checker {
        diagnostics: Diagnostics::new(),
        catalog: &catalog,
        workload_names: workload_specs.iter().map(|w| w.name.clone()).collect(),
        workload_tasks: workload_specs.iter().map(|w| w.task).collect(),
        used_models: BTreeMap::new(),
        named_service_tier: false,
        reach: Reach::Everything,
    };

    if spec.name.trim().is_empty()
        || ["~", "null"].contains(&spec.name.trim().to_ascii_lowercase().as_str())
    {
        cx.err("name", "must not be empty; give the scenario a name");
    } else if spec.name.len() > 200 {
        cx.err("name", "must be at most 200 characters");
    }
    if spec.horizon_months == 0 || spec.horizon_months > MAX_HORIZON_MONTHS {
        cx.err(
            "horizon_months",
            format!(
                "must be between 1 and {MAX_HORIZON_MONTHS} months, got {}",
                spec.horizon_months
            ),
        );
    }
    if let Some(r) = spec.replications
        && (r == 0 || r > MAX_REPLICATIONS)
    {
        cx.err(
            "replications",
            format!("must be between 1 and {MAX_REPLICATIONS}, got {r}"),
        );
    }

    let mut volume_spec = spec.volume.clone();
    if let Some((_, Some(rate))) = &replayed
        && volume_spec.requests_per_month.is_none()
        && volume_spec
            .growth
            .as_ref()
            .is_none_or(|g| g.schedule.is_none())
    {
        volume_spec.requests_per_month = Some(Quantity::Fixed(rate.round().max(1.0)));
        notes.push(format!(
            "volume from the replayed log's rate: {} requests a month",
            fmt_num(rate.round())
        ));
    }
    cx.reach = Reach::Volume;
    let volume = validate_volume(&mut cx, &volume_spec, spec.horizon_months);
    let workloads = validate_workloads(&mut cx, workload_specs);
    cx.reach = Reach::Everything;

    // Policies.
    if spec.policies.is_empty() {
        cx.err(
            "policies",
            "list at least one policy, e.g. - { name: all-sonnet, single: claude-sonnet-4-5 }",
        );
    }
    if spec.policies.len() > MAX_POLICIES {
        cx.err(
            "policies",
            format!(
                "at most {MAX_POLICIES} policies, got {}",
                spec.policies.len()
            ),
        );
    }
    let mut names = BTreeSet::new();
    let mut policies = Vec::new();
    for (i, p) in spec.policies.iter().enumerate() {
        let path = format!("policies[{i}]");
        let name = match &p.name {
            None => {
                cx.err(
                    path.clone(),
                    "missing field `name`; every top-level policy needs a name",
                );
                format!("policy-{i}")
            }
            Some(n) if !is_name(n) => {
                cx.err(
                    format!("{path}.name"),
                    format!("`{n}` is not a valid policy name; {NAME_RULE}"),
                );
                n.clone()
            }
            Some(n) => n.clone(),
        };
        if !names.insert(name.clone()) {
            cx.err(
                format!("{path}.name"),
                format!("duplicate policy name `{name}`"),
            );
        }
        if p.session.is_some() && workloads.iter().all(|w| w.session.is_none()) {
            cx.err(
                format!("{path}.session"),
                "session routing applies to session workloads, and this scenario has none; remove it or give a workload a session block",
            );
        }
        if let Some(node) = crate::policy::check(&mut cx, p, &path, &[], 0) {
            policies.push(PolicyDef {
                name,
                description: p.description.clone(),
                node,
                session: p.session.unwrap_or_default(),
            });
        }
    }
    let baseline = match spec
        .policies
        .iter()
        .position(|p| p.name.as_deref() == Some(spec.baseline.as_str()))
    {
        Some(i) => i,
        None => {
            let all: Vec<&str> = spec
                .policies
                .iter()
                .filter_map(|p| p.name.as_deref())
                .collect();
            let mut msg = format!("`{}` is not one of the scenario's policies", spec.baseline);
            if let Some(s) = suggest(&spec.baseline, all.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            if all.is_empty() {
                msg.push_str("; the scenario lists no policies");
            } else {
                msg.push_str(&format!("; policies: {}", all.join(", ")));
            }
            cx.err("baseline", msg);
            0
        }
    };

    // Quality overrides: inline, or a profile file.
    let profile = match &spec.quality {
        Some(QualityRef::File(path)) => {
            let full = resolve_relative(base_dir, path);
            inputs.push(full.clone());
            match crate::quality::calibrate::profile::load(&full) {
                Ok(p) => Some(p),
                Err(e) => {
                    for d in e.diagnostics {
                        cx.err("quality", d.to_string());
                    }
                    None
                }
            }
        }
        _ => None,
    };
    let inline = match &spec.quality {
        Some(QualityRef::Inline(q)) => Some(q),
        _ => None,
    };
    let slope_q = inline
        .and_then(|q| q.slope.clone())
        .or_else(|| profile.as_ref().map(|p| Quantity::Fixed(p.slope)))
        .unwrap_or(Quantity::Fixed(catalog.slope));
    let slope = cx.param("quality.slope".into(), &slope_q, Range::open_min(0.0, 1.0));
    let rho_q = inline
        .and_then(|q| q.outcome_correlation.clone())
        .or_else(|| {
            profile
                .as_ref()
                .and_then(|p| p.outcome_correlation.map(Quantity::Fixed))
        })
        .unwrap_or(Quantity::Fixed(1.0));
    let outcome_correlation = cx.param(
        "quality.outcome_correlation".into(),
        &rho_q,
        Range::closed(0.0, 1.0),
    );
    let mut capability_overrides = Vec::new();
    let mut capability_specs: Vec<(String, BTreeMap<TaskKind, Quantity>)> = Vec::new();
    if let Some(p) = &profile {
        for (model, tasks) in &p.capabilities {
            capability_specs.push((
                model.clone(),
                tasks
                    .iter()
                    .map(|(t, c)| (*t, Quantity::Fixed(*c)))
                    .collect(),
            ));
        }
    }
    if let Some(q) = inline {
        for (model, tasks) in &q.capabilities {
            capability_specs.push((model.clone(), tasks.clone()));
        }
    }
    for (model, tasks) in &capability_specs {
        let path = format!("quality.capabilities.{model}");
        let Some(id) = cx.catalog.find(model) else {
            let mut msg = cx.catalog.unknown_model_message(model);
            if profile.is_some() {
                msg.push_str(
                    "; name eval models by catalog keys with `tiersim calibrate --map EVAL=KEY`",
                );
            }
            let at = if inline.is_some() {
                path
            } else {
                "quality".to_string()
            };
            cx.err(at, msg);
            continue;
        };
        for (task, value) in tasks {
            let p = cx.param(
                format!("{path}.{}", task.as_str()),
                value,
                Range::closed(-1.0, 2.0),
            );
            capability_overrides.push((id, *task, p));
        }
    }
    let mut price_multipliers = Vec::new();
    for (model, ps) in &spec.prices {
        let path = format!("prices.{model}");
        let Some(id) = cx.catalog.find(model) else {
            let msg = cx.catalog.unknown_model_message(model);
            cx.err(path, msg);
            continue;
        };
        let p = cx.param(
            format!("{path}.multiplier"),
            &ps.multiplier,
            Range::open_min(0.0, 100.0),
        );
        price_multipliers.push((id, p));
    }

    // Credit pools.
    let mut credits = Vec::new();
    let mut pool_names = BTreeSet::new();
    for (i, c) in spec.credits.iter().enumerate() {
        let cp = format!("credits[{i}]");
        if c.name.trim().is_empty() {
            cx.err(format!("{cp}.name"), "must not be empty");
        }
        if !pool_names.insert(c.name.clone()) {
            cx.err(
                format!("{cp}.name"),
                format!("duplicate credit pool `{}`", c.name),
            );
        }
        if !(c.amount_usd.is_finite() && c.amount_usd > 0.0 && c.amount_usd <= 1e12) {
            cx.err(
                format!("{cp}.amount_usd"),
                format!(
                    "must be an amount in USD greater than 0 and at most 1e12, got {}",
                    c.amount_usd
                ),
            );
        }
        if c.start_month == 0 || c.start_month > spec.horizon_months.max(1) {
            cx.err(
                format!("{cp}.start_month"),
                format!(
                    "must be a month of the horizon, 1 to {}, got {}",
                    spec.horizon_months, c.start_month
                ),
            );
        }
        if c.expires_after_months == Some(0) {
            cx.err(
                format!("{cp}.expires_after_months"),
                "must be at least 1 (or left out for credits that do not expire)",
            );
        }
        credits.push(CreditPool {
            name: c.name.clone(),
            amount_usd: c.amount_usd,
            start_month: c.start_month,
            last_month: c
                .expires_after_months
                .map(|e| c.start_month.saturating_add(e.saturating_sub(1))),
        });
    }

    let peak_to_average = spec
        .peak_to_average
        .unwrap_or(crate::scenario::DEFAULT_PEAK_TO_AVERAGE);
    if !(peak_to_average.is_finite() && (1.0..=100.0).contains(&peak_to_average)) {
        cx.err(
            "peak_to_average",
            format!("must be between 1 and 100, got {peak_to_average}"),
        );
    }

    let (shape, shape_given) = shape_of(&mut cx, spec.volume.shape.as_ref());
    let mut quotas = Vec::new();
    for (key, &tpm) in &spec.quotas {
        let path = format!("quotas.{key}");
        if !(tpm.is_finite() && (1.0..=1e12).contains(&tpm)) {
            cx.err(
                path.clone(),
                format!("must be a number of tokens a minute between 1 and 1e12, got {tpm}"),
            );
        }
        match catalog.find(key) {
            Some(id) => quotas.push((id, tpm)),
            None => cx.err(path, catalog.unknown_model_message(key)),
        }
    }

    // Inference profile.
    let profile = spec
        .region_profile
        .clone()
        .unwrap_or_else(|| catalog.default_profile.clone());
    let profile_used: Vec<Option<(String, f64)>> = catalog
        .models
        .iter()
        .map(|m| m.profile(&profile, &catalog.default_profile))
        .collect();
    for (id, _) in cx.used_models.clone() {
        let m = catalog.model(id);
        match &profile_used[id.index()] {
            None => cx.err(
                "region_profile",
                format!(
                    "model `{}` has no `{profile}` inference profile; its profiles: {}",
                    m.key,
                    m.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
            Some((used, _)) if *used != profile => notes.push(format!(
                "{} has no `{profile}` inference profile; priced at its `{used}` profile",
                m.key
            )),
            _ => {}
        }
    }

    let names_service_tier = cx.named_service_tier;
    if spec.simulate_throttling
        && quotas.is_empty()
        && !catalog
            .models
            .iter()
            .any(|m| m.quota.tokens_per_minute.is_some())
    {
        cx.err(
            "simulate_throttling",
            "needs quotas to simulate: state your account's tokens per minute under `quotas` (the catalog states no default)",
        );
    }
    cx.diagnostics.into_result()?;
    Ok(Scenario {
        name: spec.name,
        description: spec.description,
        horizon_months: spec.horizon_months,
        catalog: Arc::new(catalog),
        profile,
        profile_used,
        volume,
        workloads,
        policies,
        baseline,
        seed: spec.seed.unwrap_or(DEFAULT_SEED),
        replications: spec.replications,
        slope,
        outcome_correlation,
        capability_overrides,
        price_multipliers,
        credits,
        peak_to_average,
        shape,
        shape_given,
        quotas,
        names_service_tier,
        simulate_throttling: spec.simulate_throttling,
        notes,
        path: None,
        source_text: String::new(),
        overrides: Vec::new(),
        inputs,
    })
}

/// A path written in the scenario, relative to the scenario's directory.
fn resolve_relative(base_dir: Option<&Path>, path: &str) -> PathBuf {
    match base_dir {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => Path::new(path).to_path_buf(),
    }
}

/// The traffic shape, checked: a preset or 24 weights >= 0 with one above
/// 0, a weekend factor in [0, 10], a peak-minute factor in [1, 2].
fn shape_of(
    cx: &mut Checker<'_>,
    spec: Option<&ShapeSpec>,
) -> (crate::traffic::shape::Shape, bool) {
    use crate::traffic::shape::{PRESETS, Shape, preset_names};
    let Some(s) = spec else {
        return (Shape::default(), false);
    };
    let mut daily = [1.0; 24];
    match &s.daily {
        None => {}
        Some(DailySpec::Preset(name)) => match PRESETS.iter().find(|p| p.0 == name) {
            Some(p) => daily = p.2,
            None => cx.err(
                "volume.shape.daily",
                format!(
                    "unknown daily profile `{name}`; valid: {}, or a list of 24 hourly weights (UTC)",
                    preset_names()
                ),
            ),
        },
        Some(DailySpec::Hourly(w)) => {
            if w.len() != 24 {
                cx.err(
                    "volume.shape.daily",
                    format!("has {} weights; give 24, one per hour from 00:00 UTC", w.len()),
                );
            } else if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0 && *x <= 1e9)) {
                cx.err(
                    format!("volume.shape.daily[{i}]"),
                    format!("must be a weight between 0 and 1e9, got {}", w[i]),
                );
            } else if w.iter().all(|x| *x == 0.0) {
                cx.err("volume.shape.daily", "at least one hour needs a weight above 0");
            } else {
                daily.copy_from_slice(w);
            }
        }
    }
    let weekend = s.weekend_factor.unwrap_or(1.0);
    if !(weekend.is_finite() && (0.0..=10.0).contains(&weekend)) {
        cx.err(
            "volume.shape.weekend_factor",
            format!(
                "must be between 0 and 10 (a weekend day's traffic over a weekday's), got {weekend}"
            ),
        );
    }
    let burst = s.peak_minute_factor.unwrap_or(1.0);
    if !(burst.is_finite() && (1.0..=2.0).contains(&burst)) {
        cx.err(
            "volume.shape.peak_minute_factor",
            format!(
                "must be between 1 and 2 (the busiest minute of an hour over the hour's average minute; minutes are modelled as spread evenly between 2 - f and f times the average), got {burst}"
            ),
        );
    }
    (Shape::new(&daily, weekend, burst), true)
}

fn validate_volume(cx: &mut Checker<'_>, v: &VolumeSpec, horizon: u32) -> Volume {
    let vol_range = Range::open_min(0.0, MAX_REQUESTS_PER_MONTH);
    let schedule = v.growth.as_ref().and_then(|g| g.schedule.as_ref());
    let start = match (&v.requests_per_month, schedule) {
        (Some(_), Some(_)) => {
            cx.err(
                "volume.requests_per_month",
                "give either requests_per_month or growth.schedule (one volume per month), not both",
            );
            None
        }
        (None, None) => {
            cx.err(
                "volume",
                "missing field `requests_per_month` (requests in month 1), or give growth.schedule",
            );
            None
        }
        (Some(q), None) => Some(cx.param("volume.requests_per_month".into(), q, vol_range)),
        (None, Some(_)) => None,
    };
    let growth = match &v.growth {
        None => Growth::None,
        Some(g) => {
            let set = [
                g.monthly_pct.is_some(),
                g.schedule.is_some(),
                g.logistic.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if set != 1 {
                cx.err(
                    "volume.growth",
                    "give exactly one of monthly_pct, schedule or logistic",
                );
                Growth::None
            } else if let Some(q) = &g.monthly_pct {
                let p = cx.param(
                    "volume.growth.monthly_pct".into(),
                    q,
                    Range::open(-100.0, 1000.0),
                );
                // The largest volume the horizon can reach: with either
                // number uncertain, at the top of both ranges (a drawn
                // volume above the limit would otherwise be capped).
                if let (Some(s), Some(pct)) =
                    (start.as_ref().and_then(|s| s.q.upper()), p.q.upper())
                {
                    let last = s * (1.0 + pct / 100.0).powi(horizon.saturating_sub(1) as i32);
                    if last.is_nan() || last > MAX_REQUESTS_PER_MONTH {
                        let fixed =
                            p.q.is_fixed() && start.as_ref().is_some_and(|s| s.q.is_fixed());
                        cx.err(
                            "volume.growth.monthly_pct",
                            if fixed {
                                format!(
                                    "{pct}% a month for {horizon} months reaches {} requests a month, above the limit of 1e12",
                                    fmt_num(last.round())
                                )
                            } else {
                                format!(
                                    "at the top of its range, {pct}% a month from {} requests in month 1, {horizon} months reach {last:.2e} requests a month, above the limit of 1e12; lower the range's maximum",
                                    fmt_num(s)
                                )
                            },
                        );
                    }
                }
                Growth::MonthlyPct(p)
            } else if let Some(list) = &g.schedule {
                if list.len() != horizon as usize {
                    cx.err(
                        "volume.growth.schedule",
                        format!(
                            "has {} entries but horizon_months is {horizon}; give one volume per month",
                            list.len()
                        ),
                    );
                }
                Growth::Schedule(
                    list.iter()
                        .enumerate()
                        .map(|(i, q)| {
                            cx.param(format!("volume.growth.schedule[{i}]"), q, vol_range)
                        })
                        .collect(),
                )
            } else {
                let l = g.logistic.as_ref().expect("checked: exactly one set");
                let capacity = cx.param(
                    "volume.growth.logistic.capacity".into(),
                    &l.capacity,
                    vol_range,
                );
                let steepness = cx.param(
                    "volume.growth.logistic.steepness".into(),
                    &l.steepness,
                    Range::open_min(0.0, 10.0),
                );
                if let (Some(s), Some(c)) =
                    (start.as_ref().and_then(|s| s.q.fixed()), capacity.q.fixed())
                    && c <= s
                {
                    cx.err(
                        "volume.growth.logistic.capacity",
                        format!(
                            "must be greater than requests_per_month ({}), got {}",
                            fmt_num(s),
                            fmt_num(c)
                        ),
                    );
                }
                Growth::Logistic {
                    capacity,
                    steepness,
                }
            }
        }
    };
    Volume { start, growth }
}

fn validate_workloads(cx: &mut Checker<'_>, list: &[WorkloadSpec]) -> Vec<WorkloadDef> {
    if list.is_empty() {
        cx.err("workloads", "list at least one workload");
    }
    if list.len() > MAX_WORKLOADS {
        cx.err(
            "workloads",
            format!("at most {MAX_WORKLOADS} workloads, got {}", list.len()),
        );
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, w) in list.iter().enumerate() {
        let p = format!("workloads[{i}]");
        cx.reach = Reach::Workload(i);
        if !is_name(&w.name) {
            cx.err(
                format!("{p}.name"),
                format!("`{}` is not a valid workload name; {NAME_RULE}", w.name),
            );
        }
        if w.name == "default" {
            cx.err(
                format!("{p}.name"),
                "`default` is reserved for rules; choose another name",
            );
        }
        if !seen.insert(w.name.clone()) {
            cx.err(
                format!("{p}.name"),
                format!("duplicate workload name `{}`", w.name),
            );
        }
        let share = cx.param_reaching(
            Reach::Volume,
            format!("{p}.share"),
            &w.share,
            Range::open_min(0.0, 1.0),
        );
        let input_tokens = token_def(cx, &format!("{p}.input_tokens"), &w.input_tokens);
        let output_tokens = token_def(cx, &format!("{p}.output_tokens"), &w.output_tokens);
        let difficulty = difficulty_def(cx, &format!("{p}.difficulty"), &w.difficulty);
        let batch_share = cx.param(
            format!("{p}.batch_share"),
            w.batch_share.as_ref().unwrap_or(&Quantity::Fixed(0.0)),
            Range::closed(0.0, 1.0),
        );
        let modality = w.modality.unwrap_or(Modality::Text);
        let cache = w.cache.as_ref().and_then(|c| {
            let cp = format!("{p}.cache");
            let prefix_tokens =
                cx.param(format!("{cp}.prefix_tokens"), &c.prefix_tokens, Range::open_min(0.0, MAX_TOKENS));
            let ttl = c.ttl.unwrap_or(Ttl::FiveMinutes);
            match (&c.distinct_prefixes, &c.hit_rate) {
                (Some(n), None) => Some(CacheDef::Traffic {
                    prefix_tokens,
                    distinct_prefixes: cx.param_reaching(
                        Reach::Cache(i),
                        format!("{cp}.distinct_prefixes"),
                        n,
                        Range::closed(1.0, MAX_DISTINCT_PREFIXES),
                    ),
                    ttl,
                }),
                (None, Some(h)) => Some(CacheDef::Pinned {
                    prefix_tokens,
                    hit_rate: cx.param_reaching(
                        Reach::Cache(i),
                        format!("{cp}.hit_rate"),
                        h,
                        Range::closed(0.0, 1.0),
                    ),
                    ttl,
                }),
                _ => {
                    cx.err(
                        cp,
                        "give exactly one of distinct_prefixes (hits derived from traffic) or hit_rate (pinned)",
                    );
                    None
                }
            }
        });
        let session = w
            .session
            .as_ref()
            .map(|s| session_def(cx, &p, w, s, cache.as_ref()));
        let service = w.service_tier.unwrap_or_default();
        if service != ServiceTier::Standard && !cx.catalog.models.iter().any(|m| m.offers(service))
        {
            cx.err(
                format!("{p}.service_tier"),
                format!(
                    "no model in catalog `{}` offers the {} tier; use standard, or a catalog that lists service_tiers",
                    cx.catalog.name,
                    service.as_str()
                ),
            );
        }
        if let Some(mt) = w.max_tokens
            && !(1..=10_000_000).contains(&mt)
        {
            cx.err(
                format!("{p}.max_tokens"),
                format!("must be between 1 and 10000000 tokens, got {mt}"),
            );
        }
        let slo = w.slo.as_ref().and_then(|s| {
            let mut ok = true;
            for (name, v) in [
                ("p50_seconds", s.p50_seconds),
                ("p95_seconds", s.p95_seconds),
            ] {
                if let Some(v) = v
                    && !(v.is_finite() && v > 0.0 && v <= 86_400.0)
                {
                    cx.err(
                        format!("{p}.slo.{name}"),
                        format!("must be a number of seconds above 0 and at most 86400, got {v}"),
                    );
                    ok = false;
                }
            }
            if s.p50_seconds.is_none() && s.p95_seconds.is_none() {
                cx.err(format!("{p}.slo"), "give p50_seconds, p95_seconds or both");
                ok = false;
            }
            if let (Some(a), Some(b)) = (s.p50_seconds, s.p95_seconds)
                && a > b
            {
                cx.err(
                    format!("{p}.slo.p50_seconds"),
                    format!("the median ({a} s) cannot be above the 95th percentile ({b} s)"),
                );
                ok = false;
            }
            ok.then_some(Slo {
                p50_ms: s.p50_seconds.map(|v| v * 1000.0),
                p95_ms: s.p95_seconds.map(|v| v * 1000.0),
            })
        });
        out.push(WorkloadDef {
            name: w.name.clone(),
            description: w.description.clone(),
            share,
            task: w.task,
            modality,
            input_tokens,
            output_tokens,
            difficulty,
            cache,
            batch_share,
            service,
            max_tokens: w.max_tokens,
            slo,
            session,
        });
    }
    // Shares: fixed shares must sum to 1; uncertain ones are renormalised per draw.
    if !list.is_empty() && list.iter().all(|w| w.share.is_fixed()) {
        let sum: f64 = list.iter().filter_map(|w| w.share.fixed()).sum();
        if sum.is_finite() && (sum - 1.0).abs() > 1e-3 {
            let detail: Vec<String> = list
                .iter()
                .map(|w| format!("{} {}", w.name, fmt_num(w.share.fixed().unwrap_or(0.0))))
                .collect();
            cx.err(
                "workloads",
                format!(
                    "shares sum to {}, they must sum to 1 (within 0.001): {}",
                    (sum * 1e6).round() / 1e6,
                    detail.join(", ")
                ),
            );
        }
    }
    out
}

/// Checks a workload's `session` block (`p` is the workload's path).
fn session_def(
    cx: &mut Checker<'_>,
    p: &str,
    w: &WorkloadSpec,
    s: &SessionSpec,
    cache: Option<&CacheDef>,
) -> SessionDef {
    let sp = format!("{p}.session");
    let turns = token_def(cx, &format!("{sp}.turns"), &s.turns);
    // Every session has a first turn: a count that could be below one is
    // refused where it is fixed (a sampled value below one counts as one).
    let below_one = |q: &Quantity| q.fixed().is_some_and(|v| v < 1.0);
    let low = match &s.turns {
        TokenDistSpec::Constant(q) => below_one(q).then(|| (format!("{sp}.turns"), q.fixed())),
        TokenDistSpec::Lognormal { median, .. } => {
            below_one(median).then(|| (format!("{sp}.turns.lognormal.median"), median.fixed()))
        }
        TokenDistSpec::Uniform { min, .. } => {
            below_one(min).then(|| (format!("{sp}.turns.uniform.min"), min.fixed()))
        }
        TokenDistSpec::Empirical { values, .. } => values
            .iter()
            .find(|v| **v < 1.0)
            .map(|v| (format!("{sp}.turns.empirical.values"), Some(*v))),
        TokenDistSpec::LognormalMuSigma { .. } => None,
    };
    let high = match &s.turns {
        TokenDistSpec::Constant(q) => q.fixed().filter(|v| *v > MAX_TURNS as f64),
        TokenDistSpec::Empirical { values, .. } => {
            values.iter().copied().find(|v| *v > MAX_TURNS as f64)
        }
        _ => None,
    };
    if let Some(v) = high {
        cx.err(
            format!("{sp}.turns"),
            format!(
                "at most {MAX_TURNS} turns a session, got {}; longer sessions are capped when sampled",
                fmt_num(v)
            ),
        );
    }
    if let Some((path, v)) = low {
        cx.err(
            path,
            format!(
                "a session has at least one turn, got {}; give 1 or more",
                fmt_num(v.unwrap_or(0.0))
            ),
        );
    }
    let gap_seconds = token_def(cx, &format!("{sp}.gap_seconds"), &s.gap_seconds);
    let turn_difficulty_spread = cx.param(
        format!("{sp}.turn_difficulty_spread"),
        s.turn_difficulty_spread
            .as_ref()
            .unwrap_or(&Quantity::Fixed(0.0)),
        Range::closed(0.0, 10.0),
    );
    let success = match (s.success, &s.hard_step_difficulty) {
        (None | Some(SessionSuccessSpec::EveryTurn), None) => SessionSuccessDef::EveryTurn,
        (Some(SessionSuccessSpec::HardSteps), Some(q)) => SessionSuccessDef::HardSteps {
            min_difficulty: cx.param(
                format!("{sp}.hard_step_difficulty"),
                q,
                Range::closed(0.0, 1.0),
            ),
        },
        (Some(SessionSuccessSpec::HardSteps), None) => {
            cx.err(
                format!("{sp}.success"),
                "`hard_steps` needs hard_step_difficulty: the difficulty from which a turn is a hard step, e.g. 0.7",
            );
            SessionSuccessDef::EveryTurn
        }
        (_, Some(_)) => {
            cx.err(
                format!("{sp}.hard_step_difficulty"),
                "applies only with `success: hard_steps`; remove it or set success: hard_steps",
            );
            SessionSuccessDef::EveryTurn
        }
    };
    let prefix = match cache {
        Some(CacheDef::Traffic { prefix_tokens, .. }) => prefix_tokens.q.fixed(),
        Some(CacheDef::Pinned { .. }) => {
            cx.err(
                format!("{p}.cache.hit_rate"),
                "a session's cache hits follow its turns; give distinct_prefixes (how many fixed prefixes its sessions share), not a pinned hit_rate",
            );
            None
        }
        None => Some(0.0),
    };
    if w.batch_share
        .as_ref()
        .is_some_and(|q| q.fixed() != Some(0.0))
    {
        cx.err(
            format!("{p}.batch_share"),
            "a session's turns wait for each other, so they cannot go to batch inference; remove batch_share",
        );
    }
    let compaction = s.compaction.as_ref().and_then(|c| {
        let cp = format!("{sp}.compaction");
        let threshold_tokens = cx.param(
            format!("{cp}.threshold_tokens"),
            &c.threshold_tokens,
            Range::open_min(0.0, MAX_TOKENS),
        );
        let summary_tokens = cx.param(
            format!("{cp}.summary_tokens"),
            &c.summary_tokens,
            Range::closed(0.0, MAX_TOKENS),
        );
        let model = cx.model(format!("{cp}.model"), &c.model);
        let (t, sum) = (threshold_tokens.q.fixed(), summary_tokens.q.fixed());
        if let (Some(t), Some(pre)) = (t, prefix)
            && t <= pre
        {
            cx.err(
                format!("{cp}.threshold_tokens"),
                format!(
                    "the threshold ({} tokens) must exceed the fixed prefix ({} tokens), or every turn would be compacted",
                    fmt_num(t),
                    fmt_num(pre)
                ),
            );
        }
        if let (Some(t), Some(sum)) = (t, sum)
            && sum + prefix.unwrap_or(0.0) >= t
        {
            cx.err(
                format!("{cp}.summary_tokens"),
                format!(
                    "the summary ({} tokens) and the fixed prefix ({} tokens) must stay below the threshold ({} tokens), or compaction would not shrink the context",
                    fmt_num(sum),
                    fmt_num(prefix.unwrap_or(0.0)),
                    fmt_num(t)
                ),
            );
        }
        Some(CompactionDef {
            threshold_tokens,
            model: model?,
            summary_tokens,
        })
    });
    SessionDef {
        turns,
        gap_seconds,
        turn_difficulty_spread,
        success,
        compaction,
    }
}

fn token_def(cx: &mut Checker<'_>, path: &str, t: &TokenDistSpec) -> TokenDef {
    let count = Range::closed(0.0, MAX_TOKENS);
    let positive = Range::open_min(0.0, MAX_TOKENS);
    match t {
        TokenDistSpec::Constant(q) => TokenDef::Constant(cx.param(path.to_string(), q, count)),
        TokenDistSpec::Lognormal { median, p90, max } => {
            let median = cx.param(format!("{path}.lognormal.median"), median, positive);
            let p90 = cx.param(format!("{path}.lognormal.p90"), p90, positive);
            if let (Some(m), Some(p)) = (median.q.fixed(), p90.q.fixed())
                && p < m
            {
                cx.err(
                    format!("{path}.lognormal.p90"),
                    format!(
                        "must be at least the median ({}), got {}",
                        fmt_num(m),
                        fmt_num(p)
                    ),
                );
            }
            check_cap(cx, path, *max);
            TokenDef::Lognormal {
                median,
                p90,
                max: *max,
            }
        }
        TokenDistSpec::LognormalMuSigma { mu, sigma, max } => {
            let mu = cx.param(
                format!("{path}.lognormal.mu"),
                mu,
                Range::closed(-10.0, MAX_TOKENS.ln()),
            );
            let sigma = cx.param(
                format!("{path}.lognormal.sigma"),
                sigma,
                Range::closed(0.0, 5.0),
            );
            check_cap(cx, path, *max);
            TokenDef::LognormalMuSigma {
                mu,
                sigma,
                max: *max,
            }
        }
        TokenDistSpec::Uniform { min, max } => {
            let min = cx.param(format!("{path}.uniform.min"), min, count);
            let max = cx.param(format!("{path}.uniform.max"), max, count);
            if let (Some(a), Some(b)) = (min.q.fixed(), max.q.fixed())
                && a > b
            {
                cx.err(
                    format!("{path}.uniform"),
                    format!(
                        "min ({}) must not be greater than max ({})",
                        fmt_num(a),
                        fmt_num(b)
                    ),
                );
            }
            TokenDef::Uniform { min, max }
        }
        TokenDistSpec::Empirical { values, weights } => {
            if let Err(msg) = TokenDist::empirical(values, weights.as_deref()) {
                cx.err(format!("{path}.empirical"), msg);
            }
            TokenDef::Empirical {
                values: values.clone(),
                weights: weights.clone(),
            }
        }
    }
}

fn check_cap(cx: &mut Checker<'_>, path: &str, max: Option<f64>) {
    if let Some(m) = max
        && !(m.is_finite() && (1.0..=MAX_TOKENS).contains(&m))
    {
        cx.err(
            format!("{path}.lognormal.max"),
            format!("must be a token count between 1 and 1e8, got {m}"),
        );
    }
}

fn difficulty_def(cx: &mut Checker<'_>, path: &str, d: &DifficultySpec) -> DifficultyDef {
    let unit = Range::closed(0.0, 1.0);
    match d {
        DifficultySpec::Constant(q) => DifficultyDef::Constant(cx.param(path.to_string(), q, unit)),
        DifficultySpec::Beta {
            mean,
            concentration,
        } => DifficultyDef::Beta {
            mean: cx.param(format!("{path}.beta.mean"), mean, Range::open(0.0, 1.0)),
            concentration: cx.param(
                format!("{path}.beta.concentration"),
                concentration,
                Range::closed(
                    crate::stats::dist::BETA_CONCENTRATION.0,
                    crate::stats::dist::BETA_CONCENTRATION.1,
                ),
            ),
        },
        DifficultySpec::Uniform { min, max } => {
            let min = cx.param(format!("{path}.uniform.min"), min, unit);
            let max = cx.param(format!("{path}.uniform.max"), max, unit);
            if let (Some(a), Some(b)) = (min.q.fixed(), max.q.fixed())
                && a > b
            {
                cx.err(
                    format!("{path}.uniform"),
                    format!(
                        "min ({}) must not be greater than max ({})",
                        fmt_num(a),
                        fmt_num(b)
                    ),
                );
            }
            DifficultyDef::Uniform { min, max }
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::from_diagnostics(d.into_vec())
    }
}

/// Workloads derived from `traffic: { replay: ... }`, and the log's monthly rate.
type Replayed = (Vec<WorkloadSpec>, Option<f64>);

fn replayed_workloads(
    spec: &ScenarioSpec,
    base_dir: Option<&Path>,
    notes: &mut Vec<String>,
) -> Result<Option<Replayed>> {
    let Some(t) = &spec.traffic else {
        return Ok(None);
    };
    if !spec.workloads.is_empty() {
        return Err(Error::from(
            crate::error::Diagnostic::new(
                "give either workloads or traffic (a replayed log), not both",
            )
            .at_path("traffic"),
        ));
    }
    let path = resolve_relative(base_dir, &t.replay);
    let loaded = crate::logs::load(
        &path,
        &crate::logs::ReadOptions {
            strict: t.strict,
            ..crate::logs::ReadOptions::new(t.format, &t.task_tag)
        },
    )?;
    let derived = &loaded.derived;
    if loaded.malformed > 0 {
        let first = loaded
            .first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default();
        notes.push(format!(
            "{}: skipped {} malformed line(s){first}",
            path.display(),
            loaded.malformed
        ));
    }
    let default = t.default_task.unwrap_or(TaskKind::Writing);
    let difficulty = t.difficulty.clone().unwrap_or(DifficultySpec::Beta {
        mean: Quantity::Fixed(0.3),
        concentration: Quantity::Fixed(5.0),
    });
    let workloads = derived
        .workloads
        .iter()
        .map(|w| {
            let name = w.name.clone();
            WorkloadSpec {
                name,
                description: Some(format!(
                    "replayed from {} ({} requests)",
                    path.display(),
                    w.requests
                )),
                share: Quantity::Fixed(w.share),
                task: crate::logs::kind_of(&w.label, &t.task_kinds, default),
                modality: None,
                input_tokens: TokenDistSpec::Empirical {
                    values: w.input_tokens.clone(),
                    weights: (!w.input_weights.is_empty()).then(|| w.input_weights.clone()),
                },
                output_tokens: TokenDistSpec::Empirical {
                    values: w.output_tokens.clone(),
                    weights: (!w.output_weights.is_empty()).then(|| w.output_weights.clone()),
                },
                difficulty: difficulty.clone(),
                cache: (w.prefix_tokens >= 1.0).then(|| CacheSpec {
                    prefix_tokens: Quantity::Fixed(w.prefix_tokens.round()),
                    distinct_prefixes: None,
                    hit_rate: Some(Quantity::Fixed(w.hit_rate)),
                    ttl: None,
                }),
                batch_share: None,
                service_tier: None,
                max_tokens: None,
                slo: None,
                session: None,
            }
        })
        .collect();
    Ok(Some((workloads, derived.requests_per_month)))
}
