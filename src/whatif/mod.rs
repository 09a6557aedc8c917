//! What-if analysis on top of runs: sweeps over a field, sensitivity to
//! uncertain inputs, credit runway and sizing, scenario comparison, and
//! when provisioned throughput would beat on-demand.

pub mod compare;
pub mod credits;
pub mod provisioned;
pub mod sensitivity;
pub mod sweep;
