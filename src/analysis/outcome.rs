//! Everything a run of a scenario reports, in one call: the projection, the
//! recommendation, the credit runways, the provisioned-throughput verdicts
//! and the notes a reader should see. The command line's `run` prints
//! exactly this; a library user gets the same from [`outcome`].

use crate::analysis::capacity::{self, Capacity};
use crate::analysis::credits::{self, CreditReport};
use crate::analysis::projection::{Projection, project_with};
use crate::analysis::provisioned::{self, Verdict};
use crate::scenario::Scenario;
use crate::sim::Run;

/// Something a reader of the results should know.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A note the scenario itself carries (from loading it).
    Scenario(String),
    /// Requests no model the policy may use could take (context window,
    /// output limit or modality); they count as failures.
    Unserved {
        policy: String,
        /// Mean requests over the horizon.
        requests: f64,
        /// Share of all requests.
        rate: f64,
    },
}

/// What `tiersim run` reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub projection: Projection,
    /// The cheapest policy within the quality budget (index into
    /// `projection.policies`), if any.
    pub recommended: Option<usize>,
    /// Per policy, when the scenario has credit pools; empty otherwise.
    pub credits: Vec<CreditReport>,
    /// Where provisioned throughput would beat on-demand.
    pub provisioned: Vec<Verdict>,
    /// Quotas, service tiers and latency objectives, when the scenario
    /// asks about them (`Capacity::asked`).
    pub capacity: Option<Capacity>,
    pub notes: Vec<Note>,
}

/// The confidence credit runways are reported at.
pub const CREDIT_CONFIDENCE: f64 = 0.9;

/// Analyses a run: bands at `quantiles`, the recommendation within
/// `max_quality_loss_pp` of the baseline's quality.
pub fn outcome(s: &Scenario, run: &Run, quantiles: &[f64], max_quality_loss_pp: f64) -> Outcome {
    let projection = project_with(s, run, quantiles);
    let mut notes: Vec<Note> = s.notes.iter().cloned().map(Note::Scenario).collect();
    for x in &projection.policies {
        if x.unserved_rate > 0.0 {
            notes.push(Note::Unserved {
                policy: x.name.clone(),
                requests: x.unserved_rate * x.requests,
                rate: x.unserved_rate,
            });
        }
    }
    let credits = if s.credits.is_empty() {
        Vec::new()
    } else {
        (0..run.policy_names.len())
            .map(|i| credits::report(&s.credits, run, i, CREDIT_CONFIDENCE, run.months))
            .collect()
    };
    let provisioned = provisioned::verdicts(s, run, s.peak_to_average);
    let recommended = super::cheapest_within(&projection, max_quality_loss_pp);
    let capacity = Capacity::asked(s).then(|| capacity::capacity(s, run));
    Outcome {
        projection,
        recommended,
        credits,
        provisioned,
        capacity,
        notes,
    }
}
