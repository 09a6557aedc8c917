//! tiersim: what LLM traffic will cost each month, what quality a routing
//! policy gives up, and which policy is worth it — simulated offline.
//!
//! Data flows one way (DESIGN.md §1):
//!
//! ```text
//! scenario (YAML) ─► Scenario ─► Instance (one replication's numbers)
//!                                   │
//!                  traffic (all randomness) ─► Request
//!                                   │
//!                  policy ─► Decision (calls made, answer accepted)
//!                                   │
//!                  engine + pricing ─► Ledger (token counts by price class)
//!                                   │
//!                  projection ─► reports (terminal, JSON)
//! ```
//!
//! The binary is a thin layer over this library; `examples/` show the
//! library in use, including a routing policy written outside the crate.

pub mod calibrate;
pub mod catalog;
pub mod chart;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod error;
pub mod export;
pub mod input;
pub mod ledger;
pub mod litellm;
pub mod output;
pub mod policy;
pub mod pricing;
pub mod projection;
pub mod quality;
pub mod replay;
pub mod report;
pub mod request;
pub mod scenario;
pub mod schema;
pub mod traffic;
pub mod whatif;

pub use catalog::{Catalog, ModelId, TaskKind};
pub use engine::{Mode, Run, RunOptions, run};
pub use error::{Error, Result};
pub use policy::{Context, Decision, Policy};
pub use projection::{Projection, project};
pub use request::Request;
pub use scenario::Scenario;
