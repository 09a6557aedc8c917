//! Fitting the quality model to per-item outcomes.
//!
//! **Model.** Items of a task kind have difficulties `d ~ Beta(μ, κ)` (mean,
//! concentration); model `m` has a capability `c_mt` on evaluation task `t`;
//! the logistic slope `s` is the catalog's. Given `d`, model `m` is right
//! with probability `p_m(d) = σ((c_mt − d)/s)`. The outcomes of different
//! models on one item follow tiersim's outcome model: with probability `ρ`
//! (the outcome correlation) they share one draw `u` — the models right are
//! exactly those with `p_m(d) > u`, a pattern of probability
//! `max(0, min_right p − max_wrong p)` — and otherwise each model draws its
//! own (probability `Π p^y (1 − p)^(1 − y)`). `ρ = 1` is pure common random
//! numbers (tiersim's default); `ρ = 0` is the Rasch model's conditional
//! independence. Capabilities and `ρ` are fitted per evaluation task, the
//! spread of difficulties across all of them.
//!
//! **Estimation.** Marginal maximum likelihood, the standard for item
//! response models: each item's difficulty is integrated out over the
//! Beta (64-node quadrature), so the likelihood depends on the data only
//! through how many items of each task show each pattern of right and wrong
//! answers. Capabilities, `κ` and `ρ` are found by coordinate ascent, each a
//! one-dimensional golden-section search, until the log-likelihood stops
//! improving. Each item's own difficulty is then its posterior mean given
//! its pattern (the "EAP" estimate): the items' difficulties and the models'
//! capabilities are fitted jointly, the former as random effects.
//!
//! **Identifiability.** Only `c − d` enters the likelihood, so the location
//! of the scale must be fixed: the difficulty distribution's mean is held
//! at 0.5, the middle of tiersim's [0, 1] difficulty scale; capabilities are
//! measured from there. The spread `κ` and the correlation `ρ` both shape
//! how often models agree; when the data cannot tell them apart the fit
//! still reproduces the agreement rates, which is what simulations use.

use std::collections::BTreeMap;

use crate::quality::sigmoid;

/// One observed outcome.
#[derive(Debug, Clone, Copy)]
pub struct Obs {
    pub model: usize,
    /// 1 right, 0 wrong, or a score in between (used as a fractional outcome).
    pub y: f64,
}

/// An item: its evaluation task and the outcomes of the models that answered it.
#[derive(Debug, Clone)]
pub struct Item {
    pub task: usize,
    pub obs: Vec<Obs>,
}

#[derive(Debug, Clone)]
pub struct Fit {
    /// Capability by `[model][task]` (NaN where a model answered no item of a task).
    pub capability: Vec<Vec<f64>>,
    /// Beta concentration of item difficulties (mean fixed at 0.5).
    pub concentration: f64,
    /// Outcome correlation per task.
    pub rho: Vec<f64>,
    /// Posterior mean difficulty per item.
    pub difficulty: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: usize,
}

/// The fixed mean of the difficulty distribution.
pub const MEAN_DIFFICULTY: f64 = 0.5;
const NODES: usize = 64;

/// Probability of one item's outcome pattern given its difficulty.
pub fn pattern_probability(obs: &[Obs], caps: &[f64], d: f64, slope: f64, rho: f64) -> f64 {
    let (mut independent, mut hi, mut lo) = (1.0, 1.0f64, 0.0f64);
    for o in obs {
        let p = sigmoid((caps[o.model] - d) / slope);
        independent *= o.y * p + (1.0 - o.y) * (1.0 - p);
        if o.y >= 0.5 {
            hi = hi.min(p);
        } else {
            lo = lo.max(p);
        }
    }
    rho * (hi - lo).max(0.0) + (1.0 - rho) * independent
}

/// Quadrature nodes (difficulty, weight) of Beta(mean, concentration).
pub fn beta_nodes(mean: f64, concentration: f64) -> Vec<(f64, f64)> {
    crate::stats::dist::DifficultyDist::beta(mean, concentration)
        .map(|b| b.quadrature(NODES))
        .unwrap_or_else(|_| vec![(mean, 1.0)])
}

/// Maximises a unimodal function on [a, b] by golden-section search.
pub fn golden_max(mut a: f64, mut b: f64, f: impl Fn(f64) -> f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut x1 = b - g * (b - a);
    let mut x2 = a + g * (b - a);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..80 {
        if f1 < f2 {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = f(x2);
        } else {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = f(x1);
        }
        if (b - a).abs() < 1e-9 {
            break;
        }
    }
    0.5 * (a + b)
}

/// Items with the same task and outcomes, counted once.
struct Group {
    task: usize,
    obs: Vec<Obs>,
    count: f64,
}

fn groups(items: &[Item]) -> (Vec<Group>, Vec<usize>) {
    let mut index: BTreeMap<(usize, Vec<(usize, u64)>), usize> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    let mut of_item = Vec::with_capacity(items.len());
    for it in items {
        let key: Vec<(usize, u64)> = it.obs.iter().map(|o| (o.model, o.y.to_bits())).collect();
        let g = *index.entry((it.task, key)).or_insert_with(|| {
            out.push(Group {
                task: it.task,
                obs: it.obs.clone(),
                count: 0.0,
            });
            out.len() - 1
        });
        out[g].count += 1.0;
        of_item.push(g);
    }
    (out, of_item)
}

fn group_loglik(
    g: &Group,
    caps: &[Vec<f64>],
    nodes: &[(f64, f64)],
    slope: f64,
    rho: &[f64],
    scratch: &mut Vec<f64>,
) -> f64 {
    scratch.clear();
    scratch.extend(caps.iter().map(|c| c[g.task]));
    let r = rho[g.task];
    let p: f64 = nodes
        .iter()
        .map(|(d, w)| w * pattern_probability(&g.obs, scratch, *d, slope, r))
        .sum();
    g.count * p.max(1e-300).ln()
}

/// Fits capabilities and the outcome correlation per task, and the
/// difficulty spread. `fit_rho` false keeps `rho` fixed.
pub fn fit(
    items: &[Item],
    models: usize,
    tasks: usize,
    slope: f64,
    rho: f64,
    fit_rho: bool,
) -> Fit {
    let (groups, of_item) = groups(items);
    let mut present = vec![vec![false; tasks]; models];
    for g in &groups {
        for o in &g.obs {
            present[o.model][g.task] = true;
        }
    }
    let mut by_cap: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); tasks]; models];
    for (i, g) in groups.iter().enumerate() {
        for o in &g.obs {
            by_cap[o.model][g.task].push(i);
        }
    }
    let mut by_task: Vec<Vec<usize>> = vec![Vec::new(); tasks];
    for (i, g) in groups.iter().enumerate() {
        by_task[g.task].push(i);
    }
    let mut capability = vec![vec![0.5; tasks]; models];
    let mut concentration = 4.0;
    let mut rho = vec![rho; tasks];
    let total = |caps: &Vec<Vec<f64>>, kappa: f64, rho: &[f64]| -> f64 {
        let nodes = beta_nodes(MEAN_DIFFICULTY, kappa);
        let mut s = Vec::new();
        groups
            .iter()
            .map(|g| group_loglik(g, caps, &nodes, slope, rho, &mut s))
            .sum()
    };
    let mut ll = total(&capability, concentration, &rho);
    let mut iterations = 0;
    for iter in 0..100 {
        iterations = iter + 1;
        let nodes = beta_nodes(MEAN_DIFFICULTY, concentration);
        for m in 0..models {
            for t in 0..tasks {
                if !present[m][t] {
                    capability[m][t] = f64::NAN;
                    continue;
                }
                let idx = &by_cap[m][t];
                let caps = &capability;
                let rho = &rho;
                let best = golden_max(-1.0, 2.0, |c| {
                    let mut trial = caps.clone();
                    trial[m][t] = c;
                    let mut s = Vec::new();
                    idx.iter()
                        .map(|&g| group_loglik(&groups[g], &trial, &nodes, slope, rho, &mut s))
                        .sum()
                });
                capability[m][t] = best;
            }
        }
        // ln κ between ln 0.2 and ln 200.
        let caps = &capability;
        concentration =
            golden_max(0.2f64.ln(), 200f64.ln(), |lk| total(caps, lk.exp(), &rho)).exp();
        if fit_rho {
            let nodes = beta_nodes(MEAN_DIFFICULTY, concentration);
            for t in 0..tasks {
                let current = rho.clone();
                rho[t] = golden_max(0.0, 1.0, |r| {
                    let mut trial = current.clone();
                    trial[t] = r;
                    let mut s = Vec::new();
                    by_task[t]
                        .iter()
                        .map(|&g| group_loglik(&groups[g], caps, &nodes, slope, &trial, &mut s))
                        .sum()
                });
            }
        }
        let new = total(&capability, concentration, &rho);
        let done = (new - ll).abs() < 1e-9 * ll.abs().max(1.0);
        ll = new;
        if done && iter > 2 {
            break;
        }
    }
    // Posterior mean difficulty of each pattern group, then of each item.
    let nodes = beta_nodes(MEAN_DIFFICULTY, concentration);
    let mut s = Vec::new();
    let eap: Vec<f64> = groups
        .iter()
        .map(|g| {
            s.clear();
            s.extend(capability.iter().map(|c| c[g.task]));
            let (mut num, mut den) = (0.0, 0.0);
            for (d, w) in &nodes {
                let l = w * pattern_probability(&g.obs, &s, *d, slope, rho[g.task]);
                num += l * d;
                den += l;
            }
            if den > 0.0 {
                num / den
            } else {
                MEAN_DIFFICULTY
            }
        })
        .collect();
    Fit {
        capability,
        concentration,
        rho,
        difficulty: of_item.iter().map(|&g| eap[g]).collect(),
        log_likelihood: ll,
        iterations,
    }
}

/// The capability that gives accuracy `accuracy` on items whose difficulty
/// follows `nodes` (quadrature nodes (d, weight), weights summing to 1).
pub fn capability_for_accuracy(accuracy: f64, nodes: &[(f64, f64)], slope: f64) -> f64 {
    let acc = |c: f64| {
        nodes
            .iter()
            .map(|(d, w)| w * sigmoid((c - d) / slope))
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (-2.0, 3.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if acc(mid) < accuracy {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
