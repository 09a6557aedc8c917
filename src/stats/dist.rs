//! Concrete per-request distributions: token counts and difficulty.
//!
//! Built from one replication's parameter values, validated when built
//! (so sampling cannot fail), and sampled only by `traffic`.

use std::sync::OnceLock;

use rand::Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Beta, Distribution, LogNormal};

/// z-score of the 90th percentile of the standard normal.
pub const Z90: f64 = 1.281_551_565_544_600_5;

/// Largest token count any distribution yields; a cap far above every
/// model's context window that keeps counts well inside integer range.
pub const MAX_TOKENS: f64 = 100_000_000.0;

/// A distribution of token counts (non-negative integers).
#[derive(Debug, Clone)]
pub enum TokenDist {
    Constant(u64),
    Lognormal {
        dist: LogNormal<f64>,
        mu: f64,
        sigma: f64,
        cap: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Empirical {
        values: Vec<u64>,
        index: WeightedAliasIndex<f64>,
        weights: Vec<f64>,
        /// (value, cumulative probability), values ascending: the quantile function.
        cdf: Vec<(u64, f64)>,
    },
}

impl TokenDist {
    pub fn constant(v: f64) -> Result<TokenDist, String> {
        if !(v.is_finite() && (0.0..=MAX_TOKENS).contains(&v)) {
            return Err(format!("token count must be between 0 and 1e8, got {v}"));
        }
        Ok(TokenDist::Constant(v.round() as u64))
    }

    pub fn lognormal(mu: f64, sigma: f64, cap: Option<f64>) -> Result<TokenDist, String> {
        if !(mu.is_finite() && sigma.is_finite() && sigma >= 0.0) {
            return Err(format!(
                "lognormal needs a finite mu and a sigma >= 0, got mu {mu}, sigma {sigma}"
            ));
        }
        if mu > MAX_TOKENS.ln() {
            return Err(format!(
                "lognormal median exp(mu) = {:.0} is above the 1e8-token limit",
                mu.exp()
            ));
        }
        let cap = cap.unwrap_or(MAX_TOKENS).min(MAX_TOKENS);
        if cap.is_nan() || cap < 0.0 {
            return Err(format!("max must be a token count >= 0, got {cap}"));
        }
        let dist = LogNormal::new(mu, sigma).map_err(|e| e.to_string())?;
        Ok(TokenDist::Lognormal {
            dist,
            mu,
            sigma,
            cap,
        })
    }

    /// Lognormal by median and 90th percentile: mu = ln(median),
    /// sigma = ln(p90 / median) / z(0.9).
    pub fn lognormal_median_p90(
        median: f64,
        p90: f64,
        cap: Option<f64>,
    ) -> Result<TokenDist, String> {
        if !(median.is_finite() && median > 0.0 && p90.is_finite() && p90 >= median) {
            return Err(format!(
                "lognormal needs 0 < median <= p90, got median {median}, p90 {p90}"
            ));
        }
        let sigma = (p90 / median).ln() / crate::stats::dist::Z90;
        TokenDist::lognormal(median.ln(), sigma, cap)
    }

    pub fn uniform(min: f64, max: f64) -> Result<TokenDist, String> {
        if !(min.is_finite() && max.is_finite() && 0.0 <= min && min <= max && max <= MAX_TOKENS) {
            return Err(format!(
                "uniform needs 0 <= min <= max <= 1e8, got min {min}, max {max}"
            ));
        }
        Ok(TokenDist::Uniform { min, max })
    }

    pub fn empirical(values: &[f64], weights: Option<&[f64]>) -> Result<TokenDist, String> {
        if values.is_empty() {
            return Err("empirical needs at least one value".into());
        }
        if values.len() > 1_000_000 {
            return Err(format!(
                "empirical takes at most 1000000 values, got {}",
                values.len()
            ));
        }
        for v in values {
            if !(v.is_finite() && (0.0..=MAX_TOKENS).contains(v)) {
                return Err(format!(
                    "empirical values must be token counts between 0 and 1e8, got {v}"
                ));
            }
        }
        let weights: Vec<f64> = match weights {
            Some(w) => {
                if w.len() != values.len() {
                    return Err(format!(
                        "empirical has {} values but {} weights; give one weight per value",
                        values.len(),
                        w.len()
                    ));
                }
                if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
                    return Err("empirical weights must be finite, >= 0 and not all 0".into());
                }
                w.to_vec()
            }
            None => vec![1.0; values.len()],
        };
        let index = WeightedAliasIndex::new(weights.clone()).map_err(|e| e.to_string())?;
        let values: Vec<u64> = values.iter().map(|v| v.round() as u64).collect();
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by_key(|&i| values[i]);
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = order
            .iter()
            .map(|&i| {
                acc += weights[i] / total;
                (values[i], acc)
            })
            .collect();
        Ok(TokenDist::Empirical {
            values,
            index,
            weights,
            cdf,
        })
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            TokenDist::Constant(v) => *v,
            TokenDist::Lognormal { dist, cap, .. } => dist.sample(rng).min(*cap).round() as u64,
            TokenDist::Uniform { min, max } => {
                let u = unit(rng);
                (min + u * (max - min)).round() as u64
            }
            TokenDist::Empirical { values, index, .. } => values[index.sample(rng)],
        }
    }

    /// The token count at cumulative probability `p` (0 < p < 1): the
    /// inverse-CDF form of [`Self::sample`], for stratified samples.
    pub fn quantile(&self, p: f64) -> u64 {
        match self {
            TokenDist::Constant(v) => *v,
            TokenDist::Lognormal { mu, sigma, cap, .. } => (mu + sigma * std_normal_quantile(p))
                .exp()
                .min(*cap)
                .round() as u64,
            TokenDist::Uniform { min, max } => (min + p * (max - min)).round() as u64,
            TokenDist::Empirical { cdf, .. } => {
                let i = cdf.partition_point(|(_, c)| *c < p).min(cdf.len() - 1);
                cdf[i].0
            }
        }
    }

    /// The mean of the continuous distribution before rounding (and, for a
    /// capped lognormal, before the cap): what closed-form checks use.
    pub fn mean(&self) -> f64 {
        match self {
            TokenDist::Constant(v) => *v as f64,
            TokenDist::Lognormal { mu, sigma, .. } => (mu + 0.5 * sigma * sigma).exp(),
            TokenDist::Uniform { min, max } => 0.5 * (min + max),
            TokenDist::Empirical {
                values, weights, ..
            } => {
                let total: f64 = weights.iter().sum();
                values
                    .iter()
                    .zip(weights)
                    .map(|(v, w)| *v as f64 * w)
                    .sum::<f64>()
                    / total
            }
        }
    }
}

/// The range of a Beta's concentration (alpha + beta), wherever one is read.
/// Below 0.01 a Beta is two spikes at 0 and 1 (nothing a difficulty
/// distribution means), and its inverse CDF, which the fast path tabulates,
/// slows down with the exponent (seconds at 1e-300); above 1e6 it is a point.
pub const BETA_CONCENTRATION: (f64, f64) = (0.01, 1e6);

/// A difficulty distribution on [0, 1].
#[derive(Debug, Clone)]
pub enum DifficultyDist {
    Constant(f64),
    Beta {
        dist: Beta<f64>,
        mean: f64,
        concentration: f64,
        /// Inverse CDF on an even grid of probabilities, built on first use.
        table: OnceLock<Box<[f64]>>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
}

/// Intervals of the tabulated Beta inverse CDF.
const BETA_TABLE: usize = 4096;

impl DifficultyDist {
    pub fn constant(d: f64) -> Result<DifficultyDist, String> {
        if !(d.is_finite() && (0.0..=1.0).contains(&d)) {
            return Err(format!("difficulty must be between 0 and 1, got {d}"));
        }
        Ok(DifficultyDist::Constant(d))
    }

    /// Beta by mean and concentration: alpha = mean * k, beta = (1 - mean) * k.
    pub fn beta(mean: f64, concentration: f64) -> Result<DifficultyDist, String> {
        if !(mean.is_finite() && mean > 0.0 && mean < 1.0) {
            return Err(format!(
                "beta.mean must be strictly between 0 and 1, got {mean}"
            ));
        }
        let (lo, hi) = BETA_CONCENTRATION;
        if !(concentration.is_finite() && (lo..=hi).contains(&concentration)) {
            return Err(format!(
                "beta.concentration must be at least {lo} and at most {hi:e}, got {concentration}"
            ));
        }
        let dist = Beta::new(mean * concentration, (1.0 - mean) * concentration)
            .map_err(|e| e.to_string())?;
        Ok(DifficultyDist::Beta {
            dist,
            mean,
            concentration,
            table: OnceLock::new(),
        })
    }

    pub fn uniform(min: f64, max: f64) -> Result<DifficultyDist, String> {
        if !(min.is_finite() && max.is_finite() && 0.0 <= min && min <= max && max <= 1.0) {
            return Err(format!(
                "uniform difficulty needs 0 <= min <= max <= 1, got min {min}, max {max}"
            ));
        }
        Ok(DifficultyDist::Uniform { min, max })
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            DifficultyDist::Constant(d) => *d,
            DifficultyDist::Beta { dist, .. } => dist.sample(rng),
            DifficultyDist::Uniform { min, max } => min + unit(rng) * (max - min),
        }
    }

    /// The difficulty at cumulative probability `p`, for stratified samples.
    /// Beta quantiles are interpolated in a 4,097-point table of the exact
    /// inverse CDF (statrs), built once per distribution.
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            DifficultyDist::Constant(d) => *d,
            DifficultyDist::Uniform { min, max } => min + p * (max - min),
            DifficultyDist::Beta {
                mean,
                concentration,
                table,
                ..
            } => {
                let t = table.get_or_init(|| {
                    use statrs::distribution::{Beta as SBeta, ContinuousCDF};
                    let b = SBeta::new(mean * concentration, (1.0 - mean) * concentration)
                        .expect("validated");
                    (0..=BETA_TABLE)
                        .map(|i| match i {
                            0 => 0.0,
                            i if i == BETA_TABLE => 1.0,
                            i => b.inverse_cdf(i as f64 / BETA_TABLE as f64).clamp(0.0, 1.0),
                        })
                        .collect()
                });
                let x = p.clamp(0.0, 1.0) * BETA_TABLE as f64;
                let i = (x as usize).min(BETA_TABLE - 1);
                if i == 0 || i == BETA_TABLE - 1 {
                    // The outermost cells end at 0 and 1, where the inverse
                    // CDF is steep: a straight line there would put a
                    // tail sample far beyond the distribution's tail. Exact.
                    use statrs::distribution::{Beta as SBeta, ContinuousCDF};
                    let b = SBeta::new(mean * concentration, (1.0 - mean) * concentration)
                        .expect("validated");
                    return b.inverse_cdf(p.clamp(0.0, 1.0)).clamp(0.0, 1.0);
                }
                let f = x - i as f64;
                t[i] + f * (t[i + 1] - t[i])
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match self {
            DifficultyDist::Constant(d) => *d,
            DifficultyDist::Beta { mean, .. } => *mean,
            DifficultyDist::Uniform { min, max } => 0.5 * (min + max),
        }
    }

    /// Quadrature nodes (difficulty, weight) over the distribution, weights
    /// summing to 1: `n` equal-probability cells, each at its midpoint
    /// quantile. Used by checks that integrate over difficulty.
    pub fn quadrature(&self, n: usize) -> Vec<(f64, f64)> {
        use statrs::distribution::{Beta as SBeta, ContinuousCDF};
        match self {
            DifficultyDist::Constant(d) => vec![(*d, 1.0)],
            DifficultyDist::Uniform { min, max } => (0..n)
                .map(|i| {
                    (
                        min + (max - min) * (i as f64 + 0.5) / n as f64,
                        1.0 / n as f64,
                    )
                })
                .collect(),
            DifficultyDist::Beta {
                mean,
                concentration,
                ..
            } => {
                let b = SBeta::new(mean * concentration, (1.0 - mean) * concentration)
                    .expect("validated");
                (0..n)
                    .map(|i| (b.inverse_cdf((i as f64 + 0.5) / n as f64), 1.0 / n as f64))
                    .collect()
            }
        }
    }
}

/// A uniform draw in [0, 1) with 53 bits of precision.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw in (0, 1): never exactly 0, for logs and logits.
#[inline]
pub fn open_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// The standard normal quantile (statrs' inverse CDF).
pub fn std_normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    thread_local! {
        static N: Normal = Normal::new(0.0, 1.0).expect("standard normal");
    }
    N.with(|n| n.inverse_cdf(p.clamp(1e-15, 1.0 - 1e-15)))
}
