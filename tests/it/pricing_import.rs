//! Importing LiteLLM's price file, and `pricing show` round trips.

use crate::common;

use common::{root, stderr, stdout, tiersim};
use tiersim::catalog::Catalog;
use tiersim::catalog::spec::{CatalogSpec, ModelSpec};

fn litellm() -> std::path::PathBuf {
    root().join("tests/data/litellm/bedrock_nova_claude_prices.json")
}

fn import(tag: &str) -> CatalogSpec {
    let dir = common::temp_dir(&format!("import-{tag}"));
    let out = dir.join("imported.yaml");
    let o = tiersim(&[
        "pricing",
        "import-litellm",
        litellm().to_str().unwrap(),
        "--as-of",
        "2026-11-20",
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // What LiteLLM is silent or wrong about is said.
    assert!(stderr(&o).contains("amazon.nova-pro-v1:0: LiteLLM has no cache-write rate; Bedrock bills Nova cache writes at the input rate (0.8)"));
    assert!(stderr(&o).contains("anthropic.claude-sonnet-4-5-20250929-v1:0: the bare key lists the global rate, but in-region calls are billed 1.1x"));
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn imported_rates_are_litellms_per_token_prices_times_a_million() {
    let spec = import("rates");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(litellm()).unwrap()).unwrap();
    let model = |key: &str| {
        spec.models
            .iter()
            .find(|m| m.key == key)
            .unwrap_or_else(|| panic!("{key}"))
    };
    // (catalog key, LiteLLM key, input, output, cache write 5m, cache read) per 1M, by hand.
    type Row = (
        &'static str,
        &'static str,
        f64,
        f64,
        Option<f64>,
        Option<f64>,
    );
    let expected: &[Row] = &[
        (
            "nova-micro",
            "amazon.nova-micro-v1:0",
            0.035,
            0.14,
            Some(0.035),
            Some(0.00875),
        ),
        (
            "nova-lite",
            "amazon.nova-lite-v1:0",
            0.06,
            0.24,
            Some(0.06),
            Some(0.015),
        ),
        (
            "nova-pro",
            "amazon.nova-pro-v1:0",
            0.8,
            3.2,
            Some(0.8),
            Some(0.2),
        ),
        (
            "nova-premier",
            "amazon.nova-premier-v1:0",
            2.5,
            12.5,
            Some(2.5),
            Some(0.625),
        ),
        (
            "nova-2-lite",
            "global.amazon.nova-2-lite-v1:0",
            0.3,
            2.5,
            Some(0.3),
            Some(0.075),
        ),
        (
            "claude-3-5-haiku",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            0.8,
            4.0,
            Some(1.0),
            Some(0.08),
        ),
        (
            "claude-haiku-4-5",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            1.0,
            5.0,
            Some(1.25),
            Some(0.1),
        ),
        (
            "claude-sonnet-4-5",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            3.0,
            15.0,
            Some(3.75),
            Some(0.3),
        ),
        (
            "claude-opus-4-5",
            "global.anthropic.claude-opus-4-5-20251101-v1:0",
            5.0,
            25.0,
            Some(6.25),
            Some(0.5),
        ),
        (
            "claude-opus-4-1",
            "anthropic.claude-opus-4-1-20250805-v1:0",
            15.0,
            75.0,
            Some(18.75),
            Some(1.5),
        ),
        (
            "claude-sonnet-5",
            "global.anthropic.claude-sonnet-5",
            2.0,
            10.0,
            Some(2.5),
            Some(0.2),
        ),
        (
            "claude-haiku-5-5",
            "global.anthropic.claude-haiku-5-5",
            0.1,
            0.5,
            Some(0.125),
            Some(0.01),
        ),
    ];
    for (key, lkey, input, output, write, read) in expected {
        let m = model(key);
        assert_eq!(m.rates.input, *input, "{key} input");
        assert_eq!(m.rates.output, *output, "{key} output");
        assert_eq!(m.rates.cache_write_5m, *write, "{key} write");
        assert_eq!(m.rates.cache_read, *read, "{key} read");
        // Against the file itself: per 1M / 1e6 is the per-token price to
        // the last bit (within one unit in the last place).
        let e = &json[*lkey];
        let per_token = e["input_cost_per_token"].as_f64().unwrap();
        assert!(
            (m.rates.input / 1e6 - per_token).abs() <= per_token * 2.3e-16,
            "{key}"
        );
        let out = e["output_cost_per_token"].as_f64().unwrap();
        assert!((m.rates.output / 1e6 - out).abs() <= out * 2.3e-16, "{key}");
    }
    // Profiles become multipliers: Sonnet 4.5's us profile is 3.3 / 3.0.
    assert_eq!(model("claude-sonnet-4-5").profiles["us"], 1.1);
    assert_eq!(model("claude-sonnet-4-5").profiles["global"], 1.0);
    // Long-context rates above 200K.
    let lc = model("claude-sonnet-4-5").long_context.as_ref().unwrap();
    assert_eq!(
        (lc.above_input_tokens, lc.input, lc.output),
        (200_000, 6.0, 22.5)
    );
    // Batch.
    assert_eq!(model("claude-sonnet-4-5").rates.batch_input, Some(1.5));
    // The imported file is a valid catalog.
    Catalog::from_spec(spec, "test".into()).unwrap();
}

#[test]
fn pricing_show_round_trips_every_model() {
    let spec = import("show");
    let dir = common::temp_dir("show");
    let file = dir.join("c.yaml");
    std::fs::write(&file, serde_yaml::to_string(&spec).unwrap()).unwrap();
    for m in &spec.models {
        let o = tiersim(&[
            "pricing",
            "show",
            &m.key,
            "--catalog",
            file.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let back: ModelSpec = serde_yaml::from_str(&stdout(&o)).unwrap();
        assert_eq!(&back, m, "{}", m.key);
    }
    // And for the shipped catalog, through the embedded name.
    let shipped: CatalogSpec = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("pricing/bedrock-2026-11.yaml")).unwrap(),
    )
    .unwrap();
    for m in &shipped.models {
        let o = tiersim(&["pricing", "show", &m.key]);
        let back: ModelSpec = serde_yaml::from_str(&stdout(&o)).unwrap();
        assert_eq!(&back, m, "{}", m.key);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// LiteLLM's whole price file (4,878 entries), gzipped as it is kept in the
/// repository: every entry is accounted for, and the Nova and Claude rates
/// agree with the shipped catalog wherever both list a model and a rate.
#[test]
fn the_whole_litellm_file_imports_and_agrees_with_the_shipped_catalog() {
    let file = root().join("tests/data/litellm/model_prices_and_context_window_backup.json.gz");
    let dir = common::temp_dir("import-whole");
    let out = dir.join("whole.yaml");
    let o = tiersim(&[
        "pricing",
        "import-litellm",
        file.to_str().unwrap(),
        "--as-of",
        "2026-12-03",
        "-o",
        out.to_str().unwrap(),
        "--verbose",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    // Counted independently (Python over the same JSON): 4,878 entries,
    // 4,240 of other providers, 86 Bedrock entries that are not chat models.
    let summary = err
        .lines()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary in:\n{err}"));
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    // imported M models from U of the file's T entries; skipped S: ...
    let (used, total, skipped) = (numbers[1], numbers[2], numbers[3]);
    assert_eq!(total, 4878, "{summary}");
    assert_eq!(used + skipped, total, "{summary}");
    assert!(summary.contains("4240 another provider"), "{summary}");
    assert!(summary.contains("86 not a chat model"), "{summary}");
    // Every skipped entry is listed with its reason.
    assert_eq!(
        err.lines().filter(|l| l.starts_with("skipped ")).count(),
        skipped
    );
    // The forms the first import choked on are skipped by name, not fatal.
    for line in [
        "skipped anthropic.claude-haiku-4-5@20251001: another spelling of an imported model (of anthropic.claude-haiku-4-5-20251001-v1:0)",
        "skipped bedrock/ap-northeast-1/1-month-commitment/anthropic.claude-instant-v1: a commitment price without throughput per unit (1-month-commitment in ap-northeast-1)",
        "skipped claude-sonnet-4-5-20250929-v1:0: another spelling of an imported model (of anthropic.claude-sonnet-4-5-20250929-v1:0)",
        "skipped deepseek.v3-v1:0: a family not asked for (deepseek)",
    ] {
        assert!(err.contains(line), "missing `{line}` in:\n{err}");
    }
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let imported: CatalogSpec = serde_yaml::from_str(&text).unwrap();
    let imported = Catalog::from_spec(imported, "whole".into()).unwrap();
    let shipped = Catalog::load("bedrock-2026-11", None).unwrap();
    // Only Nova and Claude by default.
    for m in &imported.models {
        assert!(
            m.provider_id.starts_with("amazon.nova")
                || m.provider_id.starts_with("anthropic.claude"),
            "{}",
            m.provider_id
        );
    }
    // Rates under every profile both offer, where both list the rate.
    let mut compared = 0;
    for s in &shipped.models {
        let Some(i) = imported
            .models
            .iter()
            .find(|m| m.provider_id == s.provider_id)
        else {
            continue;
        };
        for (profile, sm) in &s.profiles {
            let Some(im) = i.profiles.get(profile) else {
                continue;
            };
            let pairs = [
                ("input", Some(s.rates.input), Some(i.rates.input)),
                ("output", Some(s.rates.output), Some(i.rates.output)),
                ("batch_input", s.rates.batch_input, i.rates.batch_input),
                ("batch_output", s.rates.batch_output, i.rates.batch_output),
                (
                    "cache_write_5m",
                    s.rates.cache_write_5m,
                    i.rates.cache_write_5m,
                ),
                (
                    "cache_write_1h",
                    s.rates.cache_write_1h,
                    i.rates.cache_write_1h,
                ),
                ("cache_read", s.rates.cache_read, i.rates.cache_read),
            ];
            for (what, a, b) in pairs {
                if let (Some(a), Some(b)) = (a, b) {
                    let (a, b) = (a * sm, b * im);
                    assert!(
                        (a - b).abs() <= 1e-9 * a.max(1e-9),
                        "{} {profile} {what}: shipped {a}, LiteLLM {b}",
                        s.key
                    );
                    compared += 1;
                }
            }
        }
    }
    // Nova 1 and 2, Claude 3.5 to 5.5: well over a hundred rates compared.
    assert!(compared > 100, "only {compared} rates compared");
}

/// Nova 2 Lite's eu price is not one multiple of its global price (input
/// ×1.43, output ×1.4388): it becomes a model of its own with LiteLLM's
/// exact rates rather than a rounded multiplier.
#[test]
fn a_profile_that_is_not_one_multiple_becomes_its_own_model() {
    let file = root().join("tests/data/litellm/model_prices_and_context_window_backup.json.gz");
    let o = tiersim(&[
        "pricing",
        "import-litellm",
        file.to_str().unwrap(),
        "--as-of",
        "2026-12-03",
        "--models",
        "amazon.nova-2-lite*",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let spec: CatalogSpec = serde_yaml::from_str(&stdout(&o)).unwrap();
    let keys: Vec<&str> = spec.models.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "nova-2-lite",
            "nova-2-lite-apac",
            "nova-2-lite-eu",
            "nova-2-lite-jp"
        ]
    );
    let eu = &spec.models[2];
    // eu.amazon.nova-2-lite-v1:0: 4.29e-07 and 3.597e-06 per token, by hand.
    assert_eq!((eu.rates.input, eu.rates.output), (0.429, 3.597));
    assert_eq!(eu.profiles.get("eu"), Some(&1.0));
    // The us profile is an exact multiple (1.1) and stays a profile.
    assert_eq!(spec.models[0].profiles.get("us"), Some(&1.1));
    assert!(stderr(&o).contains("eu.amazon.nova-2-lite-v1:0: its prices are not one multiple of amazon.nova-2-lite-v1:0's global prices"), "{}", stderr(&o));
}
