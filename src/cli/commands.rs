//! Carrying out a plan.

use std::io::Write;
use std::path::Path;

use crate::cli::analyses;
use crate::cli::plan::{Output, Plan, QuotePlan};
use tiersim::catalog::pricing::{
    CacheOutcome, CallShape, Component, Mode, ServiceTier, Tier, price_call,
};
use tiersim::catalog::{Catalog, DEFAULT_CATALOG};
use tiersim::error::{Diagnostic, Error, Result};
use tiersim::input::{suggest, yaml};
use tiersim::render::format::{count, usd_precise};
use tiersim::scenario::{Scenario, templates};

pub fn execute(plan: Plan) -> Result<()> {
    match plan {
        Plan::Run(p) => analyses::run(p),
        Plan::Serve(p) => crate::cli::serve::serve(p),
        Plan::Validate { files, sets } => validate(&files, &sets),
        Plan::Init {
            template,
            output,
            force,
        } => init(template.as_deref(), output.as_deref(), force),
        Plan::ListTemplates => {
            let mut s = String::new();
            for (name, about, _) in templates::TEMPLATES {
                s.push_str(&format!("{name:<22} {about}\n"));
            }
            emit(&s)
        }
        Plan::Quote(q) => quote(q),
        Plan::Models { catalog, output } => models(catalog.as_deref(), output),
        Plan::Sweep {
            scenario,
            varies,
            max_quality_loss_pp,
            output,
            sim,
        } => analyses::sweep(&scenario, &varies, max_quality_loss_pp, output, &sim),
        Plan::Optimize {
            scenario,
            space,
            max_quality_loss_pp,
            write_scenario,
            output,
            sim,
        } => analyses::optimize(
            &scenario,
            &space,
            max_quality_loss_pp,
            write_scenario.as_deref(),
            output,
            &sim,
        ),
        Plan::Sensitivity {
            scenario,
            policy,
            output,
            sim,
        } => analyses::sensitivity(&scenario, policy.as_deref(), output, &sim),
        Plan::Credits {
            scenario,
            policy,
            confidence,
            months,
            output,
            sim,
        } => analyses::credits(
            &scenario,
            policy.as_deref(),
            confidence,
            months,
            output,
            &sim,
        ),
        Plan::Compare {
            scenarios,
            output,
            sim,
        } => analyses::compare(&scenarios, output, &sim),
        Plan::Calibrate(c) => calibrate(c),
        Plan::Schema(kind) => emit(&tiersim::scenario::schema::schema(kind)),
        Plan::ShowModel {
            model,
            catalog,
            output,
        } => show_model(&model, catalog.as_deref(), output),
        Plan::ImportLitellm(a) => import_litellm(a),
        Plan::ProfileSql { task_tag } => emit(&format!(
            "-- 1. The table over Bedrock's model invocation logs in S3 (Athena). Set LOCATION\n--    to your delivery prefix and run it once.\n{}\n-- 2. The aggregates `tiersim profile` needs. Run it, download the result as\n--    CSV and read it with `tiersim profile --from-aggregate RESULT.csv`.\n{}",
            tiersim::logs::sql::athena_table(
                "s3://YOUR-BUCKET/YOUR-PREFIX/AWSLogs/YOUR-ACCOUNT-ID/BedrockModelInvocationLogs/"
            ),
            tiersim::logs::sql::athena_query(&task_tag)
        )),
        Plan::Profile {
            log,
            format,
            task_tag,
            catalog,
            profile,
            strict,
            map,
        } => profile_log(
            &log,
            format,
            &task_tag,
            catalog.as_deref(),
            profile.as_deref(),
            strict,
            &map,
        ),
    }
}

/// `tiersim profile`: a log's workloads as scenario YAML, and its cost.
fn profile_log(
    path: &Path,
    format: tiersim::logs::LogFormat,
    task_tag: &str,
    catalog: Option<&str>,
    profile: Option<&str>,
    strict: bool,
    map: &tiersim::logs::ModelMap,
) -> Result<()> {
    use tiersim::check::quantity::fmt_num;
    use tiersim::logs;
    let catalog_ref = catalog;
    let catalog = load_catalog(catalog)?;
    map.check(&catalog).map_err(Error::input)?;
    let bar = crate::cli::progress::Progress::new(false, "reading the log");
    let tick = |done: u64, total: u64| bar.tick(done, total);
    let log = logs::load(
        path,
        &logs::ReadOptions {
            strict,
            prices: Some(logs::Prices {
                catalog: &catalog,
                default_profile: profile.unwrap_or(&catalog.default_profile),
                map,
            }),
            progress: Some(&tick),
            ..logs::ReadOptions::new(format, task_tag)
        },
    );
    bar.done();
    let log = log?;
    let d = &log.derived;
    let rec = log.bill.as_ref().expect("read with prices");
    let q = |xs: &[f64], ws: &[f64], p: f64| tiersim::stats::weighted_quantile(xs, ws, p).round();
    let mut s = String::new();
    s.push_str(&format!(
        "# Derived by `tiersim profile` from {}\n",
        path.display()
    ));
    s.push_str(&format!(
        "# {} requests read{}, {} malformed line(s) skipped{}\n",
        d.requests,
        if log.files > 1 {
            format!(" from {} files", log.files)
        } else {
            String::new()
        },
        d.malformed,
        log.first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    ));
    if let Some(span) = d.span_seconds {
        s.push_str(&format!(
            "# Log covers {:.1} days: {} requests a month at that rate",
            span / 86_400.0,
            fmt_num(d.requests_per_month.unwrap_or(0.0).round())
        ));
        if let Some(p) = d.peak_to_average {
            s.push_str(&format!("; busiest hour {p:.2}x the average hour"));
        }
        if let Some(m) = log.peak_minute {
            s.push_str(&format!("; busiest minute {m} requests"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "# The log's own traffic at {} ({}) prices: {}\n",
        catalog.name,
        catalog.as_of,
        tiersim::render::format::usd_precise(rec.total_usd)
    ));
    for (m, c) in &rec.by_model {
        s.push_str(&format!(
            "#   {m}: {}\n",
            tiersim::render::format::usd_precise(*c)
        ));
    }
    if rec.unpriced_requests > 0 {
        let share = rec.unpriced_tokens as f64 / (rec.unpriced_tokens + rec.priced_tokens) as f64;
        s.push_str(&format!(
            "#   {} request(s) not priced ({:.1}% of the log's tokens); at the priced requests' average cost per token they would add {}:\n",
            rec.unpriced_requests,
            share * 100.0,
            tiersim::render::format::usd_precise(rec.unpriced_estimate_usd)
        ));
        for (id, u) in &rec.unpriced {
            let hint = if u.reason.ends_with("map it to a catalog model") {
                " with --map ID=MODEL[@PROFILE]"
            } else {
                ""
            };
            s.push_str(&format!(
                "#     {id}: {} request(s), {}{hint}\n",
                u.requests, u.reason
            ));
        }
    }
    let region_profile = profile.unwrap_or(&catalog.default_profile);
    let routing = logs::as_logged(d, &catalog, map);
    s.push_str("# The scenario below replays the log (its own token counts, cache behaviour,\n");
    s.push_str("# mix and profiles) under `as-logged`, the log's own routing: `tiersim run` on\n");
    s.push_str("# it reproduces the bill above at the log's volume. Add the policies you are\n");
    s.push_str("# weighing. To edit the traffic instead, use the fitted workloads at the end.\n");
    s.push_str("name: replayed\nhorizon_months: 12\ncatalog: ");
    s.push_str(
        &catalog_ref
            .unwrap_or(catalog.name.as_str())
            .replace('\n', " "),
    );
    s.push_str(&format!("\nregion_profile: {region_profile}\n"));
    let replay = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    s.push_str(&format!(
        "traffic: {{ replay: {}, format: {}, task_tag: {} }}\n",
        serde_json::to_string(&replay.display().to_string()).unwrap_or_default(),
        match format {
            logs::LogFormat::Csv => "csv",
            logs::LogFormat::BedrockInvocationLog => "bedrock-invocation-log",
            logs::LogFormat::AthenaAggregate => "athena-aggregate",
        },
        serde_json::to_string(task_tag).unwrap_or_default()
    ));
    s.push_str("volume:\n");
    s.push_str(&format!(
        "  requests_per_month: {}\n  growth: {{ monthly_pct: 0 }}\n",
        fmt_num(
            d.requests_per_month
                .unwrap_or(d.requests as f64)
                .round()
                .max(1.0)
        )
    ));
    if let Some(shape) = &d.shape {
        let daily: Vec<String> = shape.daily.iter().map(|x| format!("{x:.2}")).collect();
        s.push_str(&format!(
            "  # when the log's requests arrived (UTC, weekday hours; {})\n  shape:\n    daily: [{}]\n",
            "the month is taken to start on a Monday",
            daily.join(", ")
        ));
        if let Some(w) = shape.weekend_factor {
            s.push_str(&format!("    weekend_factor: {:.3}\n", w.clamp(0.0, 10.0)));
        }
        if let Some(f) = shape.peak_minute_factor {
            if f > 2.0 {
                s.push_str(&format!(
                    "    peak_minute_factor: 2   # the log's busiest minute was {f:.2}x its hour's average minute; 2 is the most tiersim models\n"
                ));
            } else {
                s.push_str(&format!("    peak_minute_factor: {:.3}\n", f.max(1.0)));
            }
        }
    }
    if let Some(p) = d.peak_to_average {
        s.push_str(&format!("peak_to_average: {:.2}\n", p.max(1.0)));
    }
    // The profiles the log's calls were billed under, relative to the
    // scenario's: one multiplier per model, weighted by cost.
    let mut prices = String::new();
    for (key, eff) in &rec.multiplier {
        let Some(m) = catalog.find(key) else { continue };
        let Some((_, here)) = catalog
            .model(m)
            .profile(region_profile, &catalog.default_profile)
        else {
            continue;
        };
        let k = eff / here;
        if (k - 1.0).abs() > 1e-12 {
            prices.push_str(&format!("  {key}: {{ multiplier: {k} }}\n"));
        }
    }
    if !prices.is_empty() {
        s.push_str(
            "prices:   # the log's calls were billed under other profiles than region_profile\n",
        );
        s.push_str(&prices);
    }
    s.push_str("policies:\n");
    if routing.routes.is_empty() {
        s.push_str("  - { name: as-logged, single: nova-pro }   # no model id in the log resolved: replace with the policies you are weighing\n");
    } else {
        s.push_str("  - name: as-logged\n    description: the log's own routing, each workload to the models it used in the shares it used them\n    rules:\n");
        for (workload, shares) in &routing.routes {
            if let [(only, _)] = shares.as_slice() {
                s.push_str(&format!("      {workload}: {only}\n"));
            } else {
                let parts: Vec<String> = shares
                    .iter()
                    .map(|(k, pct)| format!("{k}: {pct}"))
                    .collect();
                s.push_str(&format!(
                    "      {workload}: {{ split: {{ {} }} }}\n",
                    parts.join(", ")
                ));
            }
        }
        if routing.routes.len() < d.workloads.len() {
            // A workload whose every model id is unresolved: its requests go
            // where most of the log's did.
            let mut counts: std::collections::BTreeMap<&str, f64> = Default::default();
            for (_, shares) in &routing.routes {
                for (k, pct) in shares {
                    *counts.entry(k.as_str()).or_default() += pct;
                }
            }
            if let Some((top, _)) = counts.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
                s.push_str(&format!(
                    "      default: {top}   # workloads whose model ids did not resolve\n"
                ));
            }
        }
    }
    s.push_str("baseline: as-logged\n");
    s.push_str("# Fitted workloads (lognormal median and p90 of the log's token counts), to\n");
    s.push_str("# edit instead of replaying: replace `traffic:` with these.\n");
    s.push_str("# workloads:\n");
    for w in &d.workloads {
        let kind = logs::kind_of(
            &w.label,
            &Default::default(),
            tiersim::catalog::TaskKind::Writing,
        );
        let tokens = |xs: &[f64], ws: &[f64]| {
            let (m, p) = (q(xs, ws, 0.5).max(1.0), q(xs, ws, 0.9).max(1.0));
            if m == p {
                fmt_num(m)
            } else {
                format!(
                    "{{ lognormal: {{ median: {}, p90: {} }} }}",
                    fmt_num(m),
                    fmt_num(p.max(m))
                )
            }
        };
        s.push_str(&format!("#   - name: {}\n", w.name));
        s.push_str(&format!("#     share: {:.4}\n", w.share));
        s.push_str(&format!(
            "#     task: {}   # check: the label maps to this task kind\n",
            kind
        ));
        s.push_str(&format!(
            "#     input_tokens: {}\n",
            tokens(&w.input_tokens, &w.input_weights)
        ));
        s.push_str(&format!(
            "#     output_tokens: {}\n",
            tokens(&w.output_tokens, &w.output_weights)
        ));
        s.push_str("#     difficulty: { beta: { mean: 0.3, concentration: 5 } }   # logs carry no difficulty: set it\n");
        if w.prefix_tokens >= 1.0 {
            s.push_str(&format!(
                "#     cache: {{ prefix_tokens: {}, hit_rate: {:.4} }}\n",
                fmt_num(w.prefix_tokens.round()),
                w.hit_rate,
            ));
        }
    }
    emit(&s)
}

fn calibrate(c: crate::cli::plan::CalibratePlan) -> Result<()> {
    use tiersim::quality::calibrate::{self, profile};
    if let Some(out) = &c.out
        && out.exists()
        && !c.force
    {
        return Err(Error::input(format!(
            "{} already exists; pass --force to overwrite it",
            out.display()
        )));
    }
    let (profile, diagnostics, header) = match &c.published {
        Some(path) => {
            let src = yaml::read_source(path)?;
            let published: calibrate::Published = yaml::parse(&src)?;
            let p = calibrate::from_accuracies(&published, c.slope, &c.model_map)
                .map_err(|e| e.in_file(path))?;
            let header = vec![
                "tiersim quality profile, solved from published accuracies".to_string(),
                format!(
                    "from {}; each capability reproduces its accuracy under the task's difficulty distribution",
                    path.display()
                ),
            ];
            (p, String::new(), header)
        }
        None => {
            let result = calibrate::calibrate(&calibrate::Options {
                files: c.evals.clone(),
                task_kinds: c.task_kinds.clone(),
                model_map: c.model_map.clone(),
                slope: c.slope,
                outcome_correlation: c.outcome_correlation,
                duplicates: c.duplicates,
                scoring: c.scoring.clone(),
            })?;
            let header = vec![
                "tiersim quality profile, fitted by `tiersim calibrate`".to_string(),
                format!(
                    "{} items from: {}",
                    result.items,
                    c.evals.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
                ),
                "Reference it from a scenario with `quality: <this file>`. Values rounded to 4 decimals.".to_string(),
            ];
            (
                result.profile.clone(),
                calibrate::diagnostics(&result),
                header,
            )
        }
    };
    let text = profile::render(&profile, &header);
    match &c.out {
        Some(path) => {
            tiersim::render::atomic::write_atomic(path, text.as_bytes())?;
            emit(&format!("{diagnostics}wrote {}\n", path.display()))
        }
        None => {
            eprint!("{diagnostics}");
            emit(&text)
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// Whether a YAML document looks like a catalog (has `models`, no `workloads`).
fn is_catalog(src: &yaml::Source) -> bool {
    match yaml::parse_value(src) {
        Ok(v) => v.get("models").is_some() && v.get("workloads").is_none(),
        Err(_) => false,
    }
}

/// Refuses a document that parses but is not a mapping (a list, a bare
/// string): tiersim's files are all mappings of fields.
fn not_a_mapping(src: &yaml::Source) -> Result<()> {
    let Ok(v) = yaml::parse_value(src) else {
        // Syntax errors are reported by the typed parse, with their location.
        return Ok(());
    };
    let kind = match v {
        serde_yaml::Value::Mapping(_) => return Ok(()),
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Null => "nothing (null)",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    };
    Err(Error::from(
        Diagnostic::new(format!(
            "the document is {kind}; tiersim reads scenarios, catalogs and quality profiles, each a mapping of fields (name: ..., ...)"
        ))
        .in_file(&src.display_path())
        .at(1, 1),
    ))
}

/// Whether a YAML document looks like a quality profile (has
/// `capabilities`, no `workloads`, no `models`).
fn is_quality_profile(src: &yaml::Source) -> bool {
    match yaml::parse_value(src) {
        Ok(v) => {
            (v.get("capabilities").is_some() || v.get("slope").is_some())
                && v.get("workloads").is_none()
                && v.get("models").is_none()
                && v.get("name").is_none()
        }
        Err(_) => false,
    }
}

fn validate(files: &[std::path::PathBuf], sets: &[String]) -> Result<()> {
    let mut failed: Vec<Diagnostic> = Vec::new();
    let mut ok = String::new();
    for f in files {
        let result = yaml::read_source(f).and_then(|src| {
            not_a_mapping(&src)?;
            if is_catalog(&src) {
                Catalog::from_source(&src, f.display().to_string()).map(|c| {
                    format!(
                        "ok: {} (catalog {}, {} models, prices as of {})\n",
                        f.display(),
                        c.name,
                        c.models.len(),
                        c.as_of
                    )
                })
            } else if is_quality_profile(&src) {
                tiersim::quality::calibrate::profile::load(f).map(|p| {
                    format!(
                        "ok: {} (quality profile: {} models, slope {})\n",
                        f.display(),
                        p.capabilities.len(),
                        p.slope
                    )
                })
            } else {
                Scenario::from_source(&src, sets)
                    .and_then(|s| {
                        tiersim::sim::check_scenario_size(&s, tiersim::sim::instance::default_replications(&s))?;
                        Ok(s)
                    })
                    .map(|s| {
                    format!(
                        "ok: {} (scenario {}: {} workloads, {} policies, {} months, catalog {})\n",
                        f.display(),
                        s.name,
                        s.workloads.len(),
                        s.policies.len(),
                        s.horizon_months,
                        s.catalog.name
                    )
                })
            }
        });
        match result {
            Ok(line) => ok.push_str(&line),
            Err(e) => failed.extend(e.diagnostics),
        }
    }
    emit(&ok)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::from_diagnostics(failed))
    }
}

fn init(template: Option<&str>, output: Option<&Path>, force: bool) -> Result<()> {
    let name = template.unwrap_or(templates::DEFAULT_TEMPLATE);
    let Some(text) = templates::find(name) else {
        let names: Vec<&str> = templates::TEMPLATES.iter().map(|(n, _, _)| *n).collect();
        let mut msg = format!("unknown template `{name}`");
        if let Some(s) = suggest(name, names.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(&format!(" Templates: {}", names.join(", ")));
        return Err(Error::input(msg));
    };
    let text = templates::without_schema_modeline(text);
    match output {
        None => emit(text),
        Some(path) => {
            if path.exists() && !force {
                return Err(Error::input(format!(
                    "{} already exists; pass --force to overwrite it",
                    path.display()
                )));
            }
            tiersim::render::atomic::write_atomic(path, text.as_bytes())?;
            eprintln!(
                "wrote {} (template {name}); run it with: tiersim run {}",
                path.display(),
                path.display()
            );
            Ok(())
        }
    }
}

fn load_catalog(reference: Option<&str>) -> Result<Catalog> {
    Catalog::load(reference.unwrap_or(DEFAULT_CATALOG), None)
}

fn quote(q: QuotePlan) -> Result<()> {
    let catalog = load_catalog(q.catalog.as_deref())?;
    let reference = match q.service {
        Some(s) if !q.model.contains(':') => format!("{}:{}", q.model, s.as_str()),
        Some(s) => {
            return Err(Error::input(format!(
                "`{}` names a service tier and --tier {} names another; give one of them",
                q.model,
                s.as_str()
            )));
        }
        None => q.model.clone(),
    };
    let id = catalog.find_route(&reference).map_err(Error::input)?;
    let service = id.service().unwrap_or_default();
    if q.batch && service != ServiceTier::Standard {
        return Err(Error::input(format!(
            "a batch call has no service tier; drop --batch or the `:{}` tier",
            service.as_str()
        )));
    }
    let model = catalog.model(id);
    let profile = q
        .profile
        .clone()
        .unwrap_or_else(|| catalog.default_profile.clone());
    let Some((used_profile, multiplier)) = model.profile(&profile, &catalog.default_profile) else {
        return Err(Error::input(format!(
            "model `{}` has no `{profile}` inference profile; its profiles: {}",
            model.key,
            model
                .profiles
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let pricing = catalog.pricing(id, multiplier);
    let call = CallShape {
        input_tokens: q.input_tokens,
        output_tokens: q.output_tokens,
        prefix_tokens: q.prefix_tokens,
        cache: q.cache,
        ttl: q.ttl,
        batch: q.batch,
        service,
    };
    let charges = price_call(&pricing, &call);
    let (tier, mode, tokens) = pricing.classify(&call);
    let mut notes = Vec::new();
    if used_profile != profile {
        notes.push(format!(
            "{} has no `{profile}` profile; priced at `{used_profile}`",
            model.key
        ));
    }
    if q.batch && mode != Mode::Batch {
        notes.push(format!(
            "{} has no batch pricing; billed on demand",
            model.key
        ));
    }
    if q.cache.is_some() && !pricing.caches(q.prefix_tokens, q.batch) {
        let why = if !pricing.caching {
            format!("{} does not support prompt caching", model.key)
        } else if q.batch && mode == Mode::Batch {
            "batch calls are not cached".to_string()
        } else {
            format!(
                "the prefix of {} tokens is below {}'s minimum cache checkpoint of {} tokens",
                count(q.prefix_tokens as f64),
                model.key,
                count(model.min_cache_tokens as f64)
            )
        };
        notes.push(format!("{why}; the prefix is billed as plain input"));
    }
    if q.cache == Some(CacheOutcome::Miss)
        && q.ttl == tiersim::catalog::pricing::Ttl::OneHour
        && !pricing.has_1h
    {
        notes.push(format!(
            "{} offers no 1-hour cache; written at the 5-minute rate",
            model.key
        ));
    }
    if tier == Tier::Long {
        notes.push(format!(
            "input above {} tokens: the whole call is billed at long-context rates",
            count(pricing.long_above as f64)
        ));
    }
    if q.input_tokens > model.context_window {
        notes.push(format!(
            "{} input tokens exceed {}'s context window of {}; the call would be rejected",
            count(q.input_tokens as f64),
            model.key,
            count(model.context_window as f64)
        ));
    }
    if q.output_tokens > model.max_output {
        notes.push(format!(
            "{} output tokens exceed {}'s maximum output of {}",
            count(q.output_tokens as f64),
            model.key,
            count(model.max_output as f64)
        ));
    }
    match q.output {
        Output::Json => {
            let doc = serde_json::json!({
                "model": model.key,
                "profile": used_profile,
                "profile_multiplier": multiplier,
                "mode": if mode == Mode::Batch { "batch" } else { "on-demand" },
                "service_tier": service.as_str(),
                "tier": if tier == Tier::Long { "long-context" } else { "standard" },
                "total_usd": charges.total(),
                "components": {
                    "input": charges.input,
                    "cache_write": charges.cache_write,
                    "cache_read": charges.cache_read,
                    "output": charges.output,
                },
                "tokens": {
                    "input": tokens[Component::Input as usize],
                    "cache_write": tokens[Component::CacheWrite5m as usize] + tokens[Component::CacheWrite1h as usize],
                    "cache_read": tokens[Component::CacheRead as usize],
                    "output": tokens[Component::Output as usize],
                },
                "notes": notes,
            });
            let mut s = serde_json::to_string_pretty(&doc).expect("json");
            s.push('\n');
            emit(&s)
        }
        Output::Table | Output::Csv => {
            let mut s = format!(
                "{} ({}), profile {} (x{}), {}{}\n",
                model.key,
                model.name,
                used_profile,
                multiplier,
                match mode {
                    Mode::Batch => "batch",
                    Mode::Priority => "on-demand, priority tier",
                    Mode::Flex => "on-demand, flex tier",
                    Mode::OnDemand => "on-demand",
                },
                if tier == Tier::Long {
                    ", long-context rates"
                } else {
                    ""
                }
            );
            let rows = [
                ("input", Component::Input, charges.input),
                ("cache write 5m", Component::CacheWrite5m, 0.0),
                ("cache write 1h", Component::CacheWrite1h, 0.0),
                ("cache read", Component::CacheRead, charges.cache_read),
                ("output", Component::Output, charges.output),
            ];
            for (label, c, _) in rows {
                let n = tokens[c as usize];
                if n == 0 && !matches!(c, Component::Input | Component::Output) {
                    continue;
                }
                let rate = pricing.rate(tier, mode, c);
                let cost = n as f64 * rate / 1e6;
                s.push_str(&format!(
                    "  {label:<15}{:>12} tokens x ${}/1M = {}\n",
                    count(n as f64),
                    tiersim::render::format::rate(rate),
                    usd_precise(cost)
                ));
            }
            s.push_str(&format!(
                "  {:<15}{}\n",
                "total",
                usd_precise(charges.total())
            ));
            for n in notes {
                s.push_str(&format!("note: {n}\n"));
            }
            emit(&s)
        }
    }
}

fn models(reference: Option<&str>, output: Output) -> Result<()> {
    let catalog = load_catalog(reference)?;
    match output {
        Output::Json => {
            let list: Vec<_> = catalog
                .models
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "key": m.key, "provider_id": m.provider_id, "name": m.name, "family": m.family,
                        "rates_per_1m": m.rates, "long_context": m.long_context.map(|(above, r)| serde_json::json!({"above_input_tokens": above, "rates_per_1m": r})),
                        "profiles": m.profiles, "fallback_profile": m.fallback_profile,
                        "context_window": m.context_window, "max_output": m.max_output,
                        "min_cache_tokens": if m.supports_caching() { Some(m.min_cache_tokens) } else { None },
                        "modalities": m.modalities,
                    })
                })
                .collect();
            let doc = serde_json::json!({"catalog": catalog.name, "as_of": catalog.as_of, "models": list});
            let mut s = serde_json::to_string_pretty(&doc).expect("json");
            s.push('\n');
            emit(&s)
        }
        Output::Table | Output::Csv => {
            let mut s = format!(
                "catalog {} (prices as of {}), USD per 1M tokens, default profile {}\n",
                catalog.name, catalog.as_of, catalog.default_profile
            );
            s.push_str(&format!(
                "{:<18} {:>7} {:>7} {:>15} {:>15} {:>8} {:>9}\n",
                "model", "input", "output", "batch in/out", "cache w/r", "context", "profiles"
            ));
            let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x}"));
            for m in &catalog.models {
                let r = &m.rates;
                s.push_str(&format!(
                    "{:<18} {:>7} {:>7} {:>15} {:>15} {:>8} {}\n",
                    m.key,
                    r.input,
                    r.output,
                    format!("{}/{}", opt(r.batch_input), opt(r.batch_output)),
                    format!("{}/{}", opt(r.cache_write_5m), opt(r.cache_read)),
                    tiersim::render::format::compact(m.context_window as f64),
                    m.profiles.keys().cloned().collect::<Vec<_>>().join(",")
                ));
            }
            emit(&s)
        }
    }
}

/// The catalog entry of one model, as written in a catalog file.
pub fn model_spec(catalog: &Catalog, key: &str) -> Result<tiersim::catalog::spec::ModelSpec> {
    let Some(id) = catalog.find(key) else {
        return Err(Error::input(catalog.unknown_model_message(key)));
    };
    let m = catalog.model(id);
    let rates = |r: &tiersim::catalog::pricing::Rates| tiersim::catalog::spec::RatesSpec {
        input: r.input,
        output: r.output,
        batch_input: r.batch_input,
        batch_output: r.batch_output,
        cache_write_5m: r.cache_write_5m,
        cache_write_1h: r.cache_write_1h,
        cache_read: r.cache_read,
    };
    Ok(tiersim::catalog::spec::ModelSpec {
        key: m.key.clone(),
        provider_id: m.provider_id.clone(),
        name: m.name.clone(),
        family: m.family.clone(),
        tier: m.tier.clone(),
        price_source: m.price_source.clone(),
        rates: rates(&m.rates),
        long_context: m.long_context.as_ref().map(|(above, r)| {
            tiersim::catalog::spec::LongContextSpec {
                above_input_tokens: *above,
                input: r.input,
                output: r.output,
                batch_input: r.batch_input,
                batch_output: r.batch_output,
                cache_write_5m: r.cache_write_5m,
                cache_write_1h: r.cache_write_1h,
                cache_read: r.cache_read,
            }
        }),
        profiles: m.profiles.clone(),
        fallback_profile: m.fallback_profile.clone(),
        context_window: m.context_window,
        max_output: m.max_output,
        min_cache_tokens: m.supports_caching().then_some(m.min_cache_tokens),
        max_cache_checkpoints: (m.supports_caching()
            && m.max_cache_checkpoints != tiersim::catalog::DEFAULT_MAX_CACHE_CHECKPOINTS)
            .then_some(m.max_cache_checkpoints),
        max_cached_tokens: (m.supports_caching() && m.max_cached_tokens != u64::MAX)
            .then_some(m.max_cached_tokens),
        modalities: m.modalities.clone(),
        latency: tiersim::catalog::spec::LatencySpec {
            ttft_ms: m.latency.ttft_ms,
            output_tps: m.latency.output_tps,
            source: m.latency.source.clone(),
        },
        quality: tiersim::catalog::TaskKind::ALL
            .iter()
            .map(|t| (*t, m.capability[t.index()]))
            .collect(),
        provisioned: m
            .provisioned
            .as_ref()
            .map(|p| tiersim::catalog::spec::ProvisionedSpec {
                hourly_usd_per_unit: p.hourly_usd_per_unit,
                input_tokens_per_minute: p.input_tokens_per_minute,
                output_tokens_per_minute: p.output_tokens_per_minute,
                commitment: p.commitment.clone(),
                source: p.source.clone(),
            }),
        service_tiers: {
            let tier = |s: ServiceTier| {
                let r = m.service_tiers[s as usize]?;
                Some(tiersim::catalog::spec::TierRatesSpec {
                    input: r.input,
                    output: r.output,
                    cache_write_5m: r.cache_write_5m,
                    cache_read: r.cache_read,
                    source: m.service_tier_sources[s as usize]
                        .clone()
                        .unwrap_or_default(),
                })
            };
            let (priority, flex) = (tier(ServiceTier::Priority), tier(ServiceTier::Flex));
            (priority.is_some() || flex.is_some())
                .then_some(tiersim::catalog::spec::ServiceTiersSpec { priority, flex })
        },
        quota: m
            .quota
            .source
            .as_ref()
            .map(|source| tiersim::catalog::spec::QuotaSpec {
                tokens_per_minute: m.quota.tokens_per_minute,
                output_burndown: (m.quota.output_burndown != 1.0)
                    .then_some(m.quota.output_burndown),
                source: source.clone(),
            }),
        notes: m.notes.clone(),
    })
}

fn show_model(key: &str, catalog: Option<&str>, output: Output) -> Result<()> {
    let catalog = load_catalog(catalog)?;
    let spec = model_spec(&catalog, key)?;
    match output {
        Output::Json => emit(&tiersim::render::json::to_pretty(&spec)),
        _ => {
            let yaml = serde_yaml::to_string(&spec)
                .map_err(|e| Error::failure(format!("cannot write YAML: {e}")))?;
            emit(&format!(
                "# {} in catalog {} (prices as of {})\n{yaml}",
                spec.key, catalog.name, catalog.as_of
            ))
        }
    }
}

/// Today's date (UTC) as YYYY-MM-DD.
fn import_litellm(a: crate::cli::plan::ImportPlan) -> Result<()> {
    if let Some(out) = &a.out
        && out.exists()
        && !a.force
    {
        return Err(Error::input(format!(
            "{} already exists; pass --force to overwrite it",
            out.display()
        )));
    }
    let bytes = tiersim::input::read_file(&a.file, &tiersim::catalog::litellm::PRICE_FILE)?;
    let json = tiersim::catalog::litellm::parse_json(&bytes).map_err(|e| e.in_file(&a.file))?;
    let base = load_catalog(Some(&a.priors_from))?;
    let imported = tiersim::catalog::litellm::import(
        &json,
        &tiersim::catalog::litellm::ImportOptions {
            provider: a.provider.clone(),
            models: a.models.clone(),
            families: a.families.clone(),
            profile: a.profile.clone(),
            name: a.name.clone(),
            as_of: a.as_of.clone(),
            source_url:
                "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
                    .into(),
            base: Some(&base),
        },
    )
    .map_err(|e| e.in_file(&a.file))?;
    // The result must be a valid catalog.
    Catalog::from_spec(imported.catalog.clone(), "import".into())
        .map_err(|e| e.in_file(&a.file))?;
    let mut text = String::from("# Imported by `tiersim pricing import-litellm`.\n");
    for n in &imported.notes {
        text.push_str(&format!("# note: {n}\n"));
    }
    text.push_str(
        &serde_yaml::to_string(&imported.catalog)
            .map_err(|e| Error::failure(format!("cannot write YAML: {e}")))?,
    );
    for n in &imported.notes {
        eprintln!("note: {n}");
    }
    let counts: Vec<String> = imported
        .skip_counts()
        .iter()
        .map(|(r, n)| format!("{n} {}", r.words()))
        .collect();
    eprintln!(
        "imported {} models from {} of the file's {} entries; skipped {}{}",
        imported.catalog.models.len(),
        imported.used,
        imported.used + imported.skipped.len(),
        imported.skipped.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        }
    );
    if a.verbose {
        for s in &imported.skipped {
            eprintln!("skipped {}: {} ({})", s.key, s.reason.words(), s.detail);
        }
    } else if !imported.skipped.is_empty() {
        eprintln!("(--verbose lists every skipped entry)");
    }
    match &a.out {
        Some(path) => {
            tiersim::render::atomic::write_atomic(path, text.as_bytes())?;
            eprintln!(
                "wrote {} ({} models)",
                path.display(),
                imported.catalog.models.len()
            );
            Ok(())
        }
        None => emit(&text),
    }
}
