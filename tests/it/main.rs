//! tiersim's integration tests: one binary, a module per area.
//!
//! | module | what it checks |
//! |---|---|
//! | `architecture` | imports follow the flow; the library never names a flag; one module makes seeds |
//! | `golden` | every output byte-identical to `tests/golden/` |
//! | `pricing` | the price of one call, hand-computed |
//! | `pricing_import` | LiteLLM price files in, catalogs out |
//! | `statistics` | engine output against closed forms |
//! | `invariants` | properties any run keeps, in exact and fast mode |
//! | `fast` | the fast path against closed forms and exact mode |
//! | `agreement` | fast and exact mode agree at volume |
//! | `properties` | invariants over random scenarios (proptest) |
//! | `whatif` | sweeps, sensitivity, credits, compare, provisioned |
//! | `optimize` | the design search: a known optimum, exhaustive search, `run` reproducing it |
//! | `calibrate` | quality profiles from evaluation results |
//! | `capacity` | service tiers, traffic shape, quotas, latency objectives by hand |
//! | `replay` | invocation logs in, workloads and bills out |
//! | `reports` | `--out` files, charts, the HTML page in a browser |
//! | `serve` | the what-if page: answers equal `run --set`, refusals, a real browser |
//! | `schema` | the JSON Schemas against the shipped files |
//! | `cli` | the command line: exit codes, exact messages |
//! | `corpus` | every bad input in `tests/corpus/` refused with its exact message |
//! | `mutations` | every field of real files mutated: refused cleanly or run to finite numbers |
//!
//! Shared helpers (loading a scenario from text, running the binary,
//! temporary directories) are in `common`, written once.

mod common;

mod agreement;
mod architecture;
mod calibrate;
mod capacity;
mod cli;
mod corpus;
mod fast;
mod golden;
mod invariants;
mod mutations;
mod optimize;
mod pricing;
mod pricing_import;
mod properties;
mod replay;
mod reports;
mod schema;
mod serve;
mod sessions;
mod statistics;
mod whatif;
