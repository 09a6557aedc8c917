//! Credits: how long cloud credit pools last, what is paid out of pocket, and
//! how much to ask for.
//!
//! Each replication's monthly costs are paid from the pools active that
//! month (a pool pays from its start month until it expires), the pool that
//! expires first paying first; what the pools cannot pay is out of pocket.
//! The month credits run out is the first month, once a pool has started,
//! that they could not pay in full.
//!
//! Amounts to request are read off the replications with a margin: the
//! reported amount is a 95% upper confidence bound on the asked quantile
//! (an order statistic above the plain empirical quantile), so a finite
//! number of replications does not understate what is needed. With one
//! replication, or no uncertainty, it is the amount itself.

use crate::stats::{nearest_rank, upper_quantile};
use serde::Serialize;

use crate::scenario::CreditPool;
use crate::sim::Run;

/// One replication's bill against the pools.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// First month (1-based) the pools could not pay in full, if any.
    pub runout_month: Option<u32>,
    /// Out-of-pocket spend per month.
    pub out_of_pocket: Vec<f64>,
    /// Credits spent per month.
    pub credits_used: Vec<f64>,
}

/// Pays `monthly` costs (month 1 first) from `pools`.
pub fn apply(pools: &[CreditPool], monthly: &[f64]) -> Outcome {
    let mut balance: Vec<f64> = pools.iter().map(|p| p.amount_usd).collect();
    // Earliest expiry pays first; pools without expiry last; ties in file order.
    let mut order: Vec<usize> = (0..pools.len()).collect();
    order.sort_by_key(|&i| (pools[i].last_month.unwrap_or(u32::MAX), i));
    let first_start = pools.iter().map(|p| p.start_month).min();
    let mut out = Outcome {
        runout_month: None,
        out_of_pocket: Vec::with_capacity(monthly.len()),
        credits_used: Vec::with_capacity(monthly.len()),
    };
    for (m0, &cost) in monthly.iter().enumerate() {
        let month = m0 as u32 + 1;
        let mut due = cost.max(0.0);
        let mut used = 0.0;
        for &i in &order {
            let p = &pools[i];
            let active = month >= p.start_month && p.last_month.is_none_or(|l| month <= l);
            if !active || due <= 0.0 {
                continue;
            }
            let pay = due.min(balance[i]);
            balance[i] -= pay;
            due -= pay;
            used += pay;
        }
        if due > 1e-9 && out.runout_month.is_none() && first_start.is_some_and(|s| month >= s) {
            out.runout_month = Some(month);
        }
        out.out_of_pocket.push(due);
        out.credits_used.push(used);
    }
    out
}

/// Credit figures of one policy.
#[derive(Debug, Clone, Serialize)]
pub struct CreditReport {
    pub policy: String,
    pub confidence: f64,
    pub pools_total_usd: f64,
    /// Median month the credits run out (`None`: they last the horizon).
    pub runout_month_p50: Option<u32>,
    /// With probability `confidence`, the credits last at least until
    /// this month (`None`: through the horizon).
    pub runout_month_at_confidence: Option<u32>,
    /// Share of replications in which the credits run out within the horizon.
    pub runout_probability: f64,
    pub out_of_pocket_p50_usd: f64,
    pub out_of_pocket_at_confidence_usd: f64,
    /// Months the amounts below cover.
    pub months_covered: usize,
    /// Total credits that would pay the first `months_covered` months at `confidence`.
    pub required_credits_usd: f64,
    /// What to ask for beyond the scenario's pools to cover those months at `confidence`.
    pub additional_credits_usd: f64,
    /// Per month: median and at-confidence cumulative spend.
    pub cumulative_p50_usd: Vec<f64>,
    pub cumulative_at_confidence_usd: Vec<f64>,
}

/// Credit figures for policy `p` of a run.
pub fn report(
    pools: &[CreditPool],
    run: &Run,
    p: usize,
    confidence: f64,
    months: usize,
) -> CreditReport {
    let months = months.clamp(1, run.months);
    let horizon = run.months as u32;
    let mut runouts = Vec::with_capacity(run.reps.len());
    let mut oop_total = Vec::with_capacity(run.reps.len());
    let mut oop_covered = Vec::with_capacity(run.reps.len());
    let mut spend_covered = Vec::with_capacity(run.reps.len());
    let mut cumulative: Vec<Vec<f64>> = vec![Vec::with_capacity(run.reps.len()); run.months];
    for rep in &run.reps {
        let monthly: Vec<f64> = rep.iter().map(|m| m[p].cost_usd).collect();
        let o = apply(pools, &monthly);
        runouts.push(o.runout_month.map_or(horizon as f64 + 1.0, f64::from));
        oop_total.push(o.out_of_pocket.iter().sum::<f64>());
        oop_covered.push(o.out_of_pocket[..months].iter().sum::<f64>());
        spend_covered.push(monthly[..months].iter().sum::<f64>());
        let mut acc = 0.0;
        for (m, c) in monthly.iter().enumerate() {
            acc += c;
            cumulative[m].push(acc);
        }
    }
    let month_of = |x: f64| (x <= horizon as f64).then_some(x as u32);
    let n = runouts.len() as f64;
    CreditReport {
        policy: run.policy_names[p].clone(),
        confidence,
        pools_total_usd: pools.iter().map(|p| p.amount_usd).sum(),
        runout_month_p50: month_of(nearest_rank(&runouts, 0.5)),
        runout_month_at_confidence: month_of(nearest_rank(&runouts, 1.0 - confidence)),
        runout_probability: runouts.iter().filter(|x| **x <= horizon as f64).count() as f64 / n,
        out_of_pocket_p50_usd: nearest_rank(&oop_total, 0.5),
        out_of_pocket_at_confidence_usd: upper_quantile(&oop_total, confidence),
        months_covered: months,
        required_credits_usd: upper_quantile(&spend_covered, confidence),
        additional_credits_usd: upper_quantile(&oop_covered, confidence),
        cumulative_p50_usd: cumulative
            .iter_mut()
            .map(|c| nearest_rank(c, 0.5))
            .collect(),
        cumulative_at_confidence_usd: cumulative
            .iter()
            .map(|c| upper_quantile(c, confidence))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, amount: f64, start: u32, expires: Option<u32>) -> CreditPool {
        CreditPool {
            name: name.into(),
            amount_usd: amount,
            start_month: start,
            last_month: expires.map(|e| start + e - 1),
        }
    }

    #[test]
    fn pays_earliest_expiry_first_and_finds_the_runout() {
        // $112 a month. Pool a: $250 from month 1. Pool b: $100 in months 4-5.
        // m1: a 112 (138 left); m2: a 112 (26 left); m3: a 26, 86 out of
        // pocket -> runs out in month 3; m4: b 100, 12 out; m5, m6: 112 out.
        let pools = [pool("a", 250.0, 1, None), pool("b", 100.0, 4, Some(2))];
        let o = apply(&pools, &[112.0; 6]);
        assert_eq!(o.runout_month, Some(3));
        assert_eq!(o.out_of_pocket, vec![0.0, 0.0, 86.0, 12.0, 112.0, 112.0]);
        assert_eq!(o.credits_used, vec![112.0, 112.0, 26.0, 100.0, 0.0, 0.0]);
        // An expiring pool is spent before a lasting one.
        let pools = [
            pool("lasting", 100.0, 1, None),
            pool("expiring", 100.0, 1, Some(1)),
        ];
        let o = apply(&pools, &[50.0, 50.0]);
        assert_eq!(o.credits_used, vec![50.0, 50.0]);
        assert_eq!(o.runout_month, None);
    }

    #[test]
    fn upper_quantile_adds_a_margin() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        // q = 0.9, R = 100: rank ceil(90 + 1.645 * 3) = 95.
        assert_eq!(upper_quantile(&xs, 0.9), 95.0);
        assert_eq!(upper_quantile(&[7.0], 0.9), 7.0);
    }
}
