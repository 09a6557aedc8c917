//! What checking a scenario's fields needs, below the parts that own the
//! fields: numbers that may be uncertain ([`quantity`]), a number with its
//! field path and what it changes ([`Param`]), the [`Checker`] that collects
//! located diagnostics while references are resolved against the catalog,
//! and the [`Sampler`] that later decides each number for one replication.
//!
//! It sits below `policy` and `scenario` so that a built-in policy can
//! check and build its own section of a scenario file (the policy registry,
//! `policy/mod.rs`) while `scenario` checks the rest with the same tools.

pub mod quantity;

use std::collections::BTreeMap;

use crate::catalog::{Catalog, ModelId, TaskKind};
use crate::error::Diagnostics;
pub use quantity::{Quantity, Range};

/// A scenario number and where it is in the file, so uncertain inputs can
/// be drawn reproducibly per path and named in reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub path: String,
    pub q: Quantity,
    /// What the number changes (set where the number is validated).
    pub reach: Reach,
}

/// What a scenario number changes. The fast path reuses one replication's
/// routed sample of a workload for another when every number that reaches
/// that workload's routing drew the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// How many requests there are: volume, growth, a workload's share.
    Volume,
    /// The size of workload `w`'s cache (distinct prefixes, a pinned hit
    /// rate): decided in closed form after routing.
    Cache(usize),
    /// What workload `w`'s requests look like (tokens, difficulty, prefix,
    /// batch share).
    Workload(usize),
    /// The routing of every workload: the quality model, policies, prices.
    Everything,
}

impl Reach {
    /// Whether a number of this reach can change how workload `w`'s
    /// requests are routed.
    pub fn routes(self, w: usize) -> bool {
        match self {
            Reach::Volume | Reach::Cache(_) => false,
            Reach::Workload(x) => x == w,
            Reach::Everything => true,
        }
    }
}

impl Param {
    pub fn fixed(path: impl Into<String>, v: f64) -> Param {
        Param {
            path: path.into(),
            q: Quantity::Fixed(v),
            reach: Reach::Everything,
        }
    }
}

/// Decides the value of each scenario number for one replication (a random
/// draw, a median, a pinned quantile: `sim::instance` has the samplers).
pub trait Sampler {
    fn value(&mut self, p: &Param) -> f64;
}

/// Collects every problem of a scenario at once, each at its field path,
/// while resolving model keys against the catalog.
pub struct Checker<'a> {
    pub diagnostics: Diagnostics,
    pub catalog: &'a Catalog,
    /// The scenario's workloads, in order (rules route by name or task).
    pub workload_names: Vec<String>,
    pub workload_tasks: Vec<TaskKind>,
    /// Every model a policy references, with the path of one reference.
    pub used_models: BTreeMap<ModelId, String>,
    /// Whether a reference named a service tier (`nova-pro:priority`).
    pub named_service_tier: bool,
    /// What the numbers being checked change.
    pub reach: Reach,
}

impl Checker<'_> {
    /// Reports a problem at `path`.
    pub fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.diagnostics.push(path, msg);
    }

    /// The number at `path`, checked against `range`.
    pub fn param(&mut self, path: String, q: &Quantity, range: Range) -> Param {
        if let Err(msg) = q.check(range) {
            self.diagnostics.push(path.clone(), msg);
        }
        Param {
            path,
            q: q.clone(),
            reach: self.reach,
        }
    }

    /// A number that changes `reach`, whatever the section it is in.
    pub fn param_reaching(
        &mut self,
        reach: Reach,
        path: String,
        q: &Quantity,
        range: Range,
    ) -> Param {
        let section = std::mem::replace(&mut self.reach, reach);
        let p = self.param(path, q, range);
        self.reach = section;
        p
    }

    /// The catalog model `key` names, or a diagnostic at `path` saying what
    /// would be valid.
    pub fn model(&mut self, path: String, key: &str) -> Option<ModelId> {
        match self.catalog.find_route(key) {
            Ok(id) => {
                self.named_service_tier |= id.service().is_some();
                self.used_models.entry(id.base()).or_insert(path);
                Some(id)
            }
            Err(msg) => {
                self.diagnostics.push(path, msg);
                None
            }
        }
    }

    /// The models a list of keys names (`path[i]` for each); unknown keys
    /// are reported and left out.
    pub fn models(&mut self, path: &str, keys: &[String]) -> Vec<ModelId> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| self.model(format!("{path}[{i}]"), k))
            .collect()
    }
}
