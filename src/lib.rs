//! tiersim: what LLM traffic will cost each month, what quality a routing
//! policy gives up, and which policy is worth it — simulated offline.
//!
//! Data flows one way, and so do the imports (ARCHITECTURE.md):
//!
//! ```text
//! input ─► catalog ─► quality ─► logs ─► check ─► traffic ─► policy ─► scenario ─► sim ─► analysis ─► render
//! ```
//!
//! A module may import the foundations ([`error`], [`calendar`],
//! [`random`], [`stats`]) and the modules to its left, never one to its
//! right. The binary (`src/main.rs`, `src/cli/`) is a thin layer over this
//! library and the only place that knows about flags; `examples/` show the
//! library in use, including a routing policy written outside the crate.

pub mod calendar;
pub mod error;
pub mod random;
pub mod stats;

pub mod input;

pub mod catalog;
pub mod quality;

pub mod logs;

pub mod check;
pub mod policy;
pub mod scenario;
pub mod traffic;

pub mod sim;

pub mod analysis;

pub mod render;

pub use analysis::projection::{Projection, project};
pub use catalog::{Catalog, ModelId, TaskKind};
pub use error::{Error, Result};
pub use policy::{Context, Decision, Policy};
pub use scenario::Scenario;
pub use sim::{Mode, Run, RunOptions, run};
pub use traffic::Request;
