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
        let mut expected = m.clone();
        expected.notes = None;
        assert_eq!(back, expected, "{}", m.key);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
