//! Request-log parsing (both formats, lenient and strict) and deriving
//! workloads from what parsed, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiersim::logs::{self, LogFormat};

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.log");
    for format in [LogFormat::BedrockInvocationLog, LogFormat::Csv] {
        for strict in [false, true] {
            let opts = logs::ReadOptions {
                strict,
                ..logs::ReadOptions::new(format, "task")
            };
            if let Ok(log) = logs::parse(path, data, &opts) {
                let derived = logs::derive(&log);
                let _ = format!("{derived:?}");
            }
        }
    }
});
