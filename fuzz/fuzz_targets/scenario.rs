//! Load → validate → a short simulation → projection, on arbitrary bytes.
//! Any panic, hang or non-finite / negative money is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiersim::sim::Mode;
use tiersim::input::yaml::Source;
use tiersim::{RunOptions, Scenario};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = Source::from_text("fuzz.yaml", text);
    let Ok(s) = Scenario::from_source(&src, &[]) else {
        return;
    };
    let opts = RunOptions {
        replications: 2,
        mode: Mode::Fast { samples: 64 },
        threads: Some(1),
        adapt_samples: false,
        ..RunOptions::default()
    };
    let Ok(run) = tiersim::run(&s, &opts) else {
        return;
    };
    let p = tiersim::project(&s, &run);
    for x in &p.policies {
        assert!(
            x.total_cost_usd.is_finite() && x.total_cost_usd >= 0.0,
            "{}: cost {}",
            x.name,
            x.total_cost_usd
        );
        assert!(
            (0.0..=1.0).contains(&x.quality),
            "{}: quality {}",
            x.name,
            x.quality
        );
    }
});
