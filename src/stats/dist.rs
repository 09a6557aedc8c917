//! Concrete per-request distributions: token counts and difficulty.
//!
//! Built from one replication's parameter values, validated when built
//! (so sampling cannot fail), and sampled only by `traffic`.

use std::sync::{Arc, Mutex, OnceLock};

use rand::Rng;

use super::alias::Alias;

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
        mu: f64,
        sigma: f64,
        cap: f64,
        /// The quantile's body tabulated, built on first draw; `None`
        /// inside when the table would stray from the exact quantile
        /// (`LognormalTable::build`).
        table: OnceLock<LognormalLookup>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Empirical {
        values: Vec<u64>,
        index: Alias,
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
        Ok(TokenDist::Lognormal {
            mu,
            sigma,
            cap,
            table: OnceLock::new(),
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
        let index = Alias::new(&weights)?;
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

    /// A draw: one 64-bit number from `rng`, whatever the kind (a
    /// constant's is unused), made a count by [`Self::from_bits`].
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        self.from_bits(rng.next_u64())
    }

    /// The count the 64-bit draw `bits` gives: the quantile of the open
    /// uniform `bits` make, except an empirical distribution's, which
    /// picks from its alias table. Exact mode draws `bits` with the
    /// request and makes them a count later, one workload at a time
    /// (`Traffic::finish_draws`), so only one workload's table is in use.
    ///
    /// A lognormal's quantile is tabulated in its body (the middle 15/16
    /// of probability, [`LognormalTable`]) and computed exactly in the
    /// tails: its cubic interpolation is within 1e-8 of the exact quantile
    /// relatively, or there is no table. It replaced `exp` of a ziggurat
    /// normal draw (libm's `exp` alone was 15% of a one-policy exact run).
    /// A linear interpolation, tried before, overstated a heavy tail's
    /// mean (6e-5 of the mean at sigma 0.86): here the tails are exact and
    /// the body's mean is the exact quantile's within 1e-10
    /// (`tests::tabulated_lognormal_keeps_its_mean`).
    #[inline(always)]
    pub fn from_bits(&self, bits: u64) -> u64 {
        match self {
            TokenDist::Constant(v) => *v,
            TokenDist::Lognormal {
                mu,
                sigma,
                cap,
                table,
            } => {
                let p = open_unit_of(bits);
                match lognormal_lookup(table, *mu, *sigma).as_ref() {
                    Some(t) => t.count(p, *cap),
                    None => {
                        let x = lognormal_quantile(*mu, *sigma, p);
                        round_count(if x > *cap { *cap } else { x })
                    }
                }
            }
            TokenDist::Uniform { min, max } => {
                let u = unit_of(bits);
                (min + u * (max - min)).round() as u64
            }
            TokenDist::Empirical { values, index, .. } => values[index.pick(bits)],
        }
    }

    /// A lognormal's table (built now if not yet) and its cap, where it
    /// has one: what [`Self::from_bits`] draws through, for a caller that
    /// draws many counts of the same distribution in a loop.
    pub fn lognormal_table(&self) -> Option<(&LognormalTable, f64)> {
        match self {
            TokenDist::Lognormal {
                mu,
                sigma,
                cap,
                table,
            } => lognormal_lookup(table, *mu, *sigma)
                .as_ref()
                .as_ref()
                .map(|t| (t, *cap)),
            _ => None,
        }
    }

    /// The token count at cumulative probability `p` (0 < p < 1): the
    /// inverse-CDF form of [`Self::sample`], for stratified samples.
    pub fn quantile(&self, p: f64) -> u64 {
        match self {
            TokenDist::Constant(v) => *v,
            TokenDist::Lognormal { mu, sigma, cap, .. } => {
                round_count(lognormal_quantile(*mu, *sigma, p).min(*cap))
            }
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
        mean: f64,
        concentration: f64,
        /// Inverse CDF and its slope on an even grid of probabilities,
        /// built on first use.
        table: OnceLock<Table>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
}

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
        Ok(DifficultyDist::Beta {
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
        self.quantile(self.draw_uniform(rng))
    }

    /// The uniform a draw is the quantile of ([`Self::sample`] is
    /// `quantile(draw_uniform(rng))`): open for a Beta, whose quantile runs
    /// off to its ends; none for a constant (0, drawing nothing).
    #[inline]
    pub fn draw_uniform<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            DifficultyDist::Constant(_) => 0.0,
            DifficultyDist::Beta { .. } => open_unit(rng),
            DifficultyDist::Uniform { .. } => unit(rng),
        }
    }

    /// The difficulty at cumulative probability `p`: the inverse CDF both
    /// paths sample through. Beta quantiles are interpolated in a table
    /// built once per shape and shared ([`BetaTable`]): the body on an even
    /// grid of probabilities, each tail on an even grid of `p^(1/shape)`
    /// (`tests::tabulated_beta_matches_statrs`, `beta_tails_match_statrs`).
    #[inline]
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            DifficultyDist::Constant(d) => *d,
            DifficultyDist::Uniform { min, max } => min + p * (max - min),
            DifficultyDist::Beta {
                mean,
                concentration,
                table,
            } => {
                let t = match table.get() {
                    Some(t) => t,
                    None => beta_table(table, *mean, *concentration),
                };
                t.quantile(p)
            }
        }
    }

    /// A Beta's table (built now if not yet): what [`Self::quantile`]
    /// reads, for a caller that draws many difficulties in a loop.
    pub fn beta_table(&self) -> Option<&BetaTable> {
        match self {
            DifficultyDist::Beta {
                mean,
                concentration,
                table,
            } => Some(match table.get() {
                Some(t) => t,
                None => beta_table(table, *mean, *concentration),
            }),
            _ => None,
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

/// The body of a Beta's table, [`BetaTable::quantile`] interpolates: at
/// each cell edge `p = i / QUANTILE_TABLE` from [`TAIL_EDGE`] to
/// `QUANTILE_TABLE − TAIL_EDGE` (the tails have tables of their own), the
/// quantile and its slope per cell (`1 / pdf`, the secant where the
/// density is 0 or not finite). The first quantile is statrs', refined; each next
/// one is found from the last by Newton's method on the CDF's logarithm
/// ([`BetaInverse::solve`]), one CDF evaluation for most: solving each
/// from scratch with statrs took six times as long, a tenth of a default
/// run.
///
/// Built on the calling thread: the table is built inside a `OnceLock`
/// initialisation, and a parallel loop there would let the thread take up,
/// while it waits, another task that needs the same table (exact mode runs
/// a replication's months in parallel), which would initialise the same
/// lock again from inside itself.
fn build_body(beta: &BetaInverse) -> Vec<[f64; 2]> {
    const H: f64 = 1.0 / QUANTILE_TABLE as f64;
    let (first, last) = (TAIL_EDGE, QUANTILE_TABLE - TAIL_EDGE);
    let mut q = vec![f64::NAN; QUANTILE_TABLE + 1];
    // statrs' quantile refined: for a shape below 1 it can be far off.
    let p = first as f64 * H;
    q[first] = beta.solve(p, beta.exact(p));
    for i in first + 1..=last {
        // Second order from the last quantile: Q' = 1/pdf, Q'' = −Q'² pdf'/pdf.
        let x = q[i - 1];
        let d1 = 1.0 / beta.pdf(x);
        let guess = x + H * d1 - 0.5 * H * H * d1 * d1 * beta.log_pdf_slope(x);
        q[i] = beta.solve(i as f64 * H, guess);
    }
    (0..=QUANTILE_TABLE)
        .map(|i| {
            if !(first..=last).contains(&i) {
                return [f64::NAN; 2];
            }
            let slope = H / beta.pdf(q[i]);
            let slope = if slope.is_finite() {
                slope
            } else if i < last {
                q[i + 1] - q[i]
            } else {
                q[i] - q[i - 1]
            };
            [q[i], slope]
        })
        .collect()
}

/// Beta(`a`, `b`)'s density, CDF and inverse CDF, for building its table:
/// `ln B(a, b)` computed once (statrs' inverse CDF computes three log-gamma
/// functions at each of its Newton steps).
struct BetaInverse {
    a: f64,
    b: f64,
    ln_b: f64,
}

impl BetaInverse {
    fn new(a: f64, b: f64) -> BetaInverse {
        BetaInverse {
            a,
            b,
            ln_b: statrs::function::beta::ln_beta(a, b),
        }
    }

    fn pdf(&self, x: f64) -> f64 {
        ((self.a - 1.0) * x.ln() + (self.b - 1.0) * (-x).ln_1p() - self.ln_b).exp()
    }

    /// pdf'(x) / pdf(x).
    fn log_pdf_slope(&self, x: f64) -> f64 {
        (self.a - 1.0) / x - (self.b - 1.0) / (1.0 - x)
    }

    /// `(I, 1 − I)`, `I` the regularized incomplete beta function at `x`
    /// (0 < x < 1), each to full relative precision, and `x^a (1 − x)^b /
    /// B(a, b)`: the continued fraction (Lentz's method, as statrs and
    /// Numerical Recipes' `betai` evaluate it) for the side of `x` where it
    /// converges fast.
    fn cdf(&self, x: f64) -> (f64, f64, f64) {
        let (a, b) = (self.a, self.b);
        let front = (a * x.ln() + b * (-x).ln_1p() - self.ln_b).exp();
        if x < (a + 1.0) / (a + b + 2.0) {
            let lo = front * continued_fraction(a, b, x) / a;
            (lo, 1.0 - lo, front)
        } else {
            let hi = front * continued_fraction(b, a, 1.0 - x) / b;
            (1.0 - hi, hi, front)
        }
    }

    /// The quantile at `p` (0 < p < 1) by Newton's method from `guess`,
    /// on the logarithms of the smaller side: `ln I(x) = ln p` in `ln x`
    /// for `p` up to 1/2, `ln(1 − I(x)) = ln(1 − p)` in `ln(1 − x)` above.
    /// There each side is close to a straight line (near 0, `I(x)` is
    /// `x^a` times a slowly varying factor), so the steps stay in range
    /// from far off, and a step of `δ` leaves an error of about `δ²`: it
    /// stops after a step below 1e-8. statrs' if that takes more than
    /// twelve steps or the CDF gives out.
    fn solve(&self, p: f64, guess: f64) -> f64 {
        let lower = p <= 0.5;
        let target = if lower { p.ln() } else { (-p).ln_1p() };
        // The variable: ln x, or ln(1 − x).
        let mut v = if lower { guess.ln() } else { (-guess).ln_1p() };
        for _ in 0..12 {
            let x = if lower { v.exp() } else { -v.exp_m1() };
            if !(x > 0.0 && x < 1.0) {
                break;
            }
            let (lo, hi, front) = self.cdf(x);
            let side = if lower { lo } else { hi };
            // d side / d v = x pdf (or (1 − x) pdf), and pdf = front / (x (1 − x)).
            let slope = if lower { front / (1.0 - x) } else { front / x } / side;
            if !(side > 0.0 && slope > 0.0 && slope.is_finite()) {
                break;
            }
            let step = (side.ln() - target) / slope;
            v -= step;
            if step.abs() <= 1e-8 {
                let x = if lower { v.exp() } else { -v.exp_m1() };
                if x > 0.0 && x < 1.0 {
                    return x;
                }
                break;
            }
        }
        self.exact(p)
    }

    /// statrs' quantile at `p`.
    fn exact(&self, p: f64) -> f64 {
        beta_quantile(self.a, self.b, p)
    }
}

/// The continued fraction of the regularized incomplete beta function,
/// `I_x(a, b) = x^a (1 − x)^b / (a B(a, b)) × cf` (modified Lentz).
fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let tiny = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / tiny(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / tiny(1.0 + aa * d);
        c = tiny(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / tiny(1.0 + aa * d);
        c = tiny(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    h
}

/// A Beta's inverse CDF, tabulated once per shape and shared by every
/// distribution of that shape (`beta_table`).
///
/// The body, `p` from 1/256 to 255/256, is a cubic Hermite interpolation
/// in `p` between [`QUANTILE_TABLE`] cells of the exact quantile (statrs)
/// and its slope. Next to 0 and 1 a Beta's quantile behaves like a root of
/// `p` or `1 − p`, which no cubic in `p` follows (measured with 1,024 cells:
/// 1.4e-6 off in the second cell of Beta(2, 6)); but near 0 the CDF is
/// `x^a` times a power series in `x`, so `x` is a smooth (analytic)
/// function of `s = p^(1/a)`, and a cubic in `s` follows it. So each tail
/// is interpolated on `TAIL_CELLS` even cells of `p^(1/a)` (of
/// `(1 − p)^(1/b)` for the upper tail, which gives `1 − x`). A tail's table
/// is kept only if it meets the exact quantile at every cell's midpoint
/// within `TAIL_TOLERANCE` when it is built;
/// otherwise (a shape so extreme that `p^(1/a)` underflows, or an
/// interpolation that does not converge) that tail is computed exactly,
/// as every tail was before (at about 7,000 instructions a draw, with 0.8%
/// of draws in the tails, that was a tenth of exact mode's traffic).
#[derive(Debug)]
pub struct BetaTable {
    a: f64,
    b: f64,
    body: Vec<[f64; 2]>,
    lower: Option<Tail>,
    upper: Option<Tail>,
}

/// One tail of a [`BetaTable`]: the distance from the tail's end (`x`
/// near 0, `1 − x` near 1) on an even grid of `s = q^(1/shape)`, `q` the
/// tail's probability (`p`, or `1 − p`).
#[derive(Debug)]
struct Tail {
    inv_shape: f64,
    /// Cells per unit of `s`.
    scale: f64,
    /// (value, slope per cell) at each cell edge.
    nodes: Vec<[f64; 2]>,
}

/// Cells of a tabulated inverse CDF's body.
pub const QUANTILE_TABLE: usize = 2048;

/// Cells of the body left to the tails at each end (the outer 1/256 of
/// probability at each end, 0.8% of draws).
const TAIL_EDGE: usize = QUANTILE_TABLE / 256;

/// Cells of each tail's table (four times as many for a shape that needs them).
const TAIL_CELLS: usize = 64;

/// How far a tail's interpolation may stray from the exact quantile `x` at
/// a cell's midpoint, as a share of `x / max(a, 1)`, for the tail to be
/// kept: near 0 the CDF goes as `x^a`, so that bounds its relative error
/// there.
const TAIL_TOLERANCE: f64 = 1e-9;

impl BetaTable {
    /// The table of Beta(`a`, `b`) (both at least 0.0005, as
    /// [`BETA_CONCENTRATION`] leaves them).
    fn build(a: f64, b: f64) -> BetaTable {
        let beta = BetaInverse::new(a, b);
        let mut body = build_body(&beta);
        let lower = Tail::build(&beta, body[TAIL_EDGE][0]);
        // The upper tail's inner edge as a distance from 1, to its own
        // precision (`1 − x` of the body's `x` near 1 keeps only the bits
        // of `x` below 1), and the body's last node made `1 −` that, so
        // the two meet there and the quantile stays monotone.
        let flipped = BetaInverse::new(b, a);
        let edge = TAIL_EDGE as f64 / QUANTILE_TABLE as f64;
        let last = &mut body[QUANTILE_TABLE - TAIL_EDGE][0];
        let inner = flipped.solve(edge, 1.0 - *last);
        *last = 1.0 - inner;
        let upper = Tail::build(&flipped, inner);
        BetaTable {
            a,
            b,
            body,
            lower,
            upper,
        }
    }

    /// The quantile at `p`.
    #[inline(always)]
    pub fn quantile(&self, p: f64) -> f64 {
        let x = p.clamp(0.0, 1.0) * QUANTILE_TABLE as f64;
        // Through i64: the conversion to an unsigned integer takes several
        // instructions on x86-64's baseline (NaN gives 0 either way).
        let i = (x as i64 as usize).min(QUANTILE_TABLE - 1);
        if (TAIL_EDGE..QUANTILE_TABLE - TAIL_EDGE).contains(&i) {
            return hermite(&self.body, i, x - i as f64);
        }
        self.tail_quantile(p, i)
    }

    /// The quantile at `p` in the outer [`TAIL_EDGE`] cells at either end.
    #[inline(never)]
    fn tail_quantile(&self, p: f64, i: usize) -> f64 {
        let p = p.clamp(0.0, 1.0);
        match (i < TAIL_EDGE, &self.lower, &self.upper) {
            (true, Some(t), _) => t.at(p),
            (false, _, Some(t)) => 1.0 - t.at(1.0 - p),
            _ => beta_quantile(self.a, self.b, p),
        }
    }

    /// Whether each tail is interpolated (rather than computed exactly).
    #[cfg(test)]
    fn tails_tabulated(&self) -> (bool, bool) {
        (self.lower.is_some(), self.upper.is_some())
    }
}

impl Tail {
    /// The tail of `beta` at 0, up to the probability
    /// `TAIL_EDGE / QUANTILE_TABLE`, where the body takes over at `inner`
    /// (its quantile there). The upper tail of Beta(a, b) is the lower
    /// tail of Beta(b, a). On [`TAIL_CELLS`] cells, or 4 or 16 times as
    /// many where those do not meet [`TAIL_TOLERANCE`] (a large shape, whose
    /// quantile bends sharply near the inner edge); `None` if none does.
    fn build(beta: &BetaInverse, inner: f64) -> Option<Tail> {
        [TAIL_CELLS, 4 * TAIL_CELLS, 16 * TAIL_CELLS]
            .into_iter()
            .find_map(|cells| Tail::build_on(beta, inner, cells))
    }

    fn build_on(beta: &BetaInverse, inner: f64, cells: usize) -> Option<Tail> {
        let (a, b, ln_b) = (beta.a, beta.b, beta.ln_b);
        let edge = TAIL_EDGE as f64 / QUANTILE_TABLE as f64;
        let s_end = edge.powf(1.0 / a);
        if !(s_end.is_normal() && inner > 0.0 && inner < 1.0) {
            return None;
        }
        // dx/ds = a s^(a−1) / pdf(x); at s = 0 its limit, (a B(a, b))^(1/a).
        let dx_ds = |s: f64, x: f64| {
            if s == 0.0 {
                ((a.ln() + ln_b) / a).exp()
            } else {
                a * ((a - 1.0) * (s.ln() - x.ln()) - (b - 1.0) * (-x).ln_1p() + ln_b).exp()
            }
        };
        let step = s_end / cells as f64;
        let mut nodes: Vec<[f64; 2]> = Vec::with_capacity(cells + 1);
        for j in 0..=cells {
            let s = step * j as f64;
            let x = match nodes.last() {
                None => 0.0,
                _ if j == cells => inner,
                Some(&[x, d]) => beta.solve(s.powf(a), x + d),
            };
            nodes.push([x, dx_ds(s, x) * step]);
        }
        let monotone = nodes.windows(2).all(|w| w[0][0] <= w[1][0]);
        if !monotone || nodes.iter().flatten().any(|v| !v.is_finite()) {
            return None;
        }
        let fits = (0..cells).all(|j| {
            let guess = hermite(&nodes, j, 0.5);
            let exact = beta.solve((step * (j as f64 + 0.5)).powf(a), guess);
            (guess - exact).abs() * a.max(1.0) <= TAIL_TOLERANCE * exact
        });
        fits.then_some(Tail {
            inv_shape: 1.0 / a,
            scale: cells as f64 / s_end,
            nodes,
        })
    }

    /// The distance from the tail's end at the tail's probability `q`.
    #[inline]
    fn at(&self, q: f64) -> f64 {
        let x = q.powf(self.inv_shape) * self.scale;
        let j = (x as i64 as usize).min(self.nodes.len() - 2);
        hermite(&self.nodes, j, (x - j as f64).min(1.0))
    }
}

/// Beta(`a`, `b`)'s exact quantile at `p` (statrs), within [0, 1].
fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    use statrs::distribution::{Beta as SBeta, ContinuousCDF};
    let d = SBeta::new(a, b).expect("validated");
    d.inverse_cdf(p.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

/// The cubic Hermite interpolation at `f` (0 ≤ f ≤ 1) of the way through
/// cell `i` of `t` ((value, slope per cell) at each edge), kept within the
/// cell's edge values, so it is monotone where the edges are. (statrs'
/// inverse CDF is not quite monotone far in a tail: no clamp that could
/// panic.)
#[inline(always)]
fn hermite(t: &[[f64; 2]], i: usize, f: f64) -> f64 {
    let ([q0, d0], [q1, d1]) = (t[i], t[i + 1]);
    let g = 1.0 - f;
    let v = (1.0 + 2.0 * f) * g * g * q0 + f * g * g * d0 + f * f * (3.0 - 2.0 * f) * q1
        - f * f * g * d1;
    // Compares and selects: `f64::min` and `max` also order NaN, which
    // takes several instructions each, and no value here is NaN.
    let (lo, hi) = if q0 <= q1 { (q0, q1) } else { (q1, q0) };
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// The table of `Beta` with this mean and concentration, set in `lock`:
/// shared by every distribution of the same shape (`shared_table`).
#[cold]
#[inline(never)]
fn beta_table(lock: &OnceLock<Table>, mean: f64, concentration: f64) -> &Table {
    let (a, b) = (mean * concentration, (1.0 - mean) * concentration);
    lock.get_or_init(|| BETA_TABLES.get((a, b), || BetaTable::build(a, b)))
}

/// A tabulated inverse CDF, shared.
type Table = Arc<BetaTable>;

/// Tables built once per process and shared, by the shape they tabulate:
/// every replication of a scenario whose distributions are certain draws
/// from the same shapes, and exact mode builds its distributions per
/// replication (a Beta's table is 2,048 inverse CDFs, a few milliseconds,
/// against the few thousand draws a small month makes). At most 256
/// shapes are kept.
struct Shared<T> {
    tables: Mutex<Vec<(ShapeKey, Arc<T>)>>,
}

/// A shape's two parameters, by their bits.
type ShapeKey = (u64, u64);

static BETA_TABLES: Shared<BetaTable> = Shared::new();
static LOGNORMAL_TABLES: Shared<Option<LognormalTable>> = Shared::new();

impl<T> Shared<T> {
    const fn new() -> Shared<T> {
        Shared {
            tables: Mutex::new(Vec::new()),
        }
    }

    /// The table of `shape`, built by `build` if no table of it is kept.
    fn get(&self, shape: (f64, f64), build: impl FnOnce() -> T) -> Arc<T> {
        let key = (shape.0.to_bits(), shape.1.to_bits());
        let found = {
            let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
            tables
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, t)| t.clone())
        };
        if let Some(t) = found {
            return t;
        }
        let t = Arc::new(build());
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if tables.len() < 256 && !tables.iter().any(|(k, _)| *k == key) {
            tables.push((key, t.clone()));
        }
        t
    }
}

/// The lognormal quantile at `p`, computed: `exp(mu + sigma·Φ⁻¹(p))`.
#[inline]
pub fn lognormal_quantile(mu: f64, sigma: f64, p: f64) -> f64 {
    (mu + sigma * std_normal_quantile(p)).exp()
}

/// How far [`StdNormalEstimate::at`] may be from [`std_normal_quantile`]:
/// over thirty times the largest difference measured anywhere in its
/// range (3.0e-10, in the cells next to 1/32 and 31/32, at 17 points in
/// every cell: `dist::tests::normal_estimate_is_within_its_error`).
pub const STD_NORMAL_ESTIMATE_ERROR: f64 = 1e-8;

/// Cells in the body of [`StdNormalEstimate`]'s range, 1/32 to 31/32.
const STD_NORMAL_CELLS: usize = QUANTILE_TABLE - 2 * LOGNORMAL_EDGE;

/// The binary octaves of the tail probability `q = min(p, 1 − p)` below
/// 1/32 that [`StdNormalEstimate`] covers, `q` in `[2^−(k+1), 2^−k)` for
/// `k` in this range: down to 2^−48 (3.6e-15), above the quantile's clamp
/// at 1e-15; below that the estimate is `None`.
const NORMAL_OCTAVES: std::ops::RangeInclusive<u64> = 5..=47;

/// Cells in each tail octave, even in `q`: the mantissa's top bits.
const OCTAVE_CELL_BITS: u32 = 6;
const OCTAVE_CELLS: usize = 1 << OCTAVE_CELL_BITS;

/// Edges in the tail table: `OCTAVE_CELLS + 1` an octave.
const OCTAVE_EDGES: usize = (47 - 5 + 1) * (OCTAVE_CELLS + 1);

/// The standard normal quantile to within [`STD_NORMAL_ESTIMATE_ERROR`],
/// for `p` from 2^−48 to `1 − 2^−48`: a cubic Hermite interpolation, as
/// [`LognormalTable`]'s, of tables built on first use, in about a third of
/// the exact quantile's instructions and without its division (nor, in the
/// tails, its logarithm and square root). Between 1/32 and 31/32 (94% of
/// draws) the cells are even in `p`; in each tail, even within each binary
/// octave of `q = min(p, 1 − p)` (64 cells an octave, found from the bits
/// of `q`), and the upper tail is the lower one's negative, as the exact
/// quantile's is.
///
/// For a decision that only compares a normal draw with a bound, never
/// for a value that is reported: a caller that can tell the decision from
/// the estimate with a margin of the error gets the exact quantile's
/// decision, and computes the exact quantile only when it cannot (the
/// classifier's band, `Classifier::choose_all`).
#[derive(Debug, Clone, Copy)]
pub struct StdNormalEstimate {
    /// (quantile, slope per cell) at each cell edge from `LOGNORMAL_EDGE`.
    body: &'static [[f64; 2]; STD_NORMAL_CELLS + 1],
    /// (quantile, slope per cell) at each edge of the lower tail's octaves,
    /// `OCTAVE_CELLS + 1` edges an octave from octave 5.
    tail: &'static [[f64; 2]; OCTAVE_EDGES],
}

type StdNormalTables = (
    Box<[[f64; 2]; STD_NORMAL_CELLS + 1]>,
    Box<[[f64; 2]; OCTAVE_EDGES]>,
);

impl StdNormalEstimate {
    /// The estimate (its tables built on the first call).
    pub fn get() -> StdNormalEstimate {
        static TABLES: OnceLock<StdNormalTables> = OnceLock::new();
        let (body, tail) = TABLES.get_or_init(|| {
            let sqrt_2pi = (2.0 * std::f64::consts::PI).sqrt();
            // (z, slope over a cell of width h) at q; dz/dq = 1/φ(z).
            let edge = |q: f64, h: f64| {
                let z = std_normal_quantile(q);
                [z, h * sqrt_2pi * (0.5 * z * z).exp()]
            };
            const H: f64 = 1.0 / QUANTILE_TABLE as f64;
            let mut body = Box::new([[0.0; 2]; STD_NORMAL_CELLS + 1]);
            for (k, e) in body.iter_mut().enumerate() {
                *e = edge((LOGNORMAL_EDGE + k) as f64 * H, H);
            }
            let mut tail = Box::new([[0.0; 2]; OCTAVE_EDGES]);
            for (n, e) in tail.iter_mut().enumerate() {
                let (octave, j) = (n / (OCTAVE_CELLS + 1), n % (OCTAVE_CELLS + 1));
                let start = 0.5f64.powi(*NORMAL_OCTAVES.start() as i32 + octave as i32 + 1);
                let h = start / OCTAVE_CELLS as f64;
                *e = edge(start + j as f64 * h, h);
            }
            (body, tail)
        });
        StdNormalEstimate { body, tail }
    }

    /// The quantile at `p` to within [`STD_NORMAL_ESTIMATE_ERROR`] for
    /// 2^−48 ≤ p ≤ 1 − 2^−48; `None` outside (and for NaN).
    #[inline(always)]
    pub fn at(self, p: f64) -> Option<f64> {
        match body_cell(p) {
            Some((k, f)) => Some(hermite(&self.body[..], k, f)),
            None => self.in_tail(p),
        }
    }

    /// [`Self::at`] below 1/32 and from 31/32.
    #[inline(never)]
    fn in_tail(self, p: f64) -> Option<f64> {
        // Exact: 1 − p for p ≥ 1/2 (Sterbenz).
        let (q, upper) = if p < 0.5 { (p, false) } else { (1.0 - p, true) };
        let bits = q.to_bits();
        // q in [2^−(k+1), 2^−k): a biased exponent of 1022 − k (NaN, 0,
        // subnormals and q ≥ 1/32 fall outside the octaves).
        let octave = 1022u64.wrapping_sub(bits >> 52);
        if !NORMAL_OCTAVES.contains(&octave) {
            return None;
        }
        let mantissa = bits & ((1u64 << 52) - 1);
        let cell = (mantissa >> (52 - OCTAVE_CELL_BITS)) as usize;
        let rest = mantissa & ((1u64 << (52 - OCTAVE_CELL_BITS)) - 1);
        let f = rest as f64 * (1.0 / (1u64 << (52 - OCTAVE_CELL_BITS)) as f64);
        let first = (octave - NORMAL_OCTAVES.start()) as usize * (OCTAVE_CELLS + 1);
        let z = hermite(&self.tail[first..], cell, f);
        Some(if upper { -z } else { z })
    }
}

/// The cell of the tables' body (counted from `LOGNORMAL_EDGE`) that holds
/// `p`, and the way through it, for 1/32 ≤ p < 31/32; `None` outside and
/// for NaN. Shared by [`LognormalTable`] and [`StdNormalEstimate`], whose
/// bodies have the same edges.
#[inline(always)]
fn body_cell(p: f64) -> Option<(usize, f64)> {
    let x = p * QUANTILE_TABLE as f64;
    // Through i64, as `BetaTable::quantile` (NaN gives 0: outside).
    let i = x as i64 as usize;
    let k = i.wrapping_sub(LOGNORMAL_EDGE);
    (k < STD_NORMAL_CELLS).then_some((k, x - i as f64))
}

/// Cells of probability at each end a [`LognormalTable`] leaves to the
/// exact quantile: the outer 1/32 (6% of draws).
const LOGNORMAL_EDGE: usize = QUANTILE_TABLE / 32;

/// How far a [`LognormalTable`] may stray from the exact quantile, as a
/// share of it, at any cell's midpoint, for the table to be kept.
const LOGNORMAL_TOLERANCE: f64 = 1e-8;

/// A lognormal's quantile from `p = 1/32` to `31/32`: a cubic Hermite
/// interpolation in `p` between the exact quantile and its slope at
/// [`QUANTILE_TABLE`] even cells. Outside that the exact quantile is
/// computed (near 0 and 1 the normal quantile's derivatives grow too fast
/// for a cubic in `p`: 1e-6 off relatively in the cells next to 1/256).
/// Kept only if within `LOGNORMAL_TOLERANCE` of the exact quantile at
/// every cell's midpoint when built (measured: 4e-10 at sigma 0.7, 5e-9
/// at sigma 3), so a draw's count is the exact quantile's except within
/// 1e-8 of a rounding boundary.
#[derive(Debug)]
pub struct LognormalTable {
    mu: f64,
    sigma: f64,
    /// (quantile, slope per cell) at each cell edge from `LOGNORMAL_EDGE`.
    body: Vec<[f64; 2]>,
}

impl LognormalTable {
    /// The table of the lognormal (`mu`, `sigma`), or `None` if its
    /// interpolation strays from the exact quantile by more than the
    /// tolerance (a very wide lognormal).
    fn build(mu: f64, sigma: f64) -> Option<LognormalTable> {
        const H: f64 = 1.0 / QUANTILE_TABLE as f64;
        // The normal density at the quantile of p: dz/dp = 1/φ(z).
        let inv_sqrt_2pi = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let body: Vec<[f64; 2]> = (LOGNORMAL_EDGE..=QUANTILE_TABLE - LOGNORMAL_EDGE)
            .map(|i| {
                let z = std_normal_quantile(i as f64 * H);
                let x = (mu + sigma * z).exp();
                let density = inv_sqrt_2pi * (-0.5 * z * z).exp();
                [x, H * x * sigma / density]
            })
            .collect();
        let table = LognormalTable { mu, sigma, body };
        let cells = QUANTILE_TABLE - 2 * LOGNORMAL_EDGE;
        let fits = (0..cells).all(|k| {
            let p = (LOGNORMAL_EDGE + k) as f64 * H + 0.5 * H;
            let exact = lognormal_quantile(mu, sigma, p);
            (hermite(&table.body, k, 0.5) - exact).abs() <= LOGNORMAL_TOLERANCE * exact
        });
        fits.then_some(table)
    }

    /// The quantile at `p` (0 < p < 1).
    #[inline(always)]
    pub fn quantile(&self, p: f64) -> f64 {
        match body_cell(p) {
            Some((k, f)) => hermite(&self.body, k, f),
            None => self.tail_quantile(p),
        }
    }

    #[inline(never)]
    fn tail_quantile(&self, p: f64) -> f64 {
        lognormal_quantile(self.mu, self.sigma, p)
    }

    /// The token count at `p` under the cap `cap` (0 ≤ cap ≤ 2^52):
    /// `round_count(min(quantile(p), cap))`, to the count.
    #[inline(always)]
    pub fn count(&self, p: f64, cap: f64) -> u64 {
        match body_cell(p) {
            Some((k, f)) => {
                let v = hermite(&self.body, k, f);
                round_count(if v > cap { cap } else { v })
            }
            None => self.tail_count(p, cap),
        }
    }

    /// [`Self::count`] in the tails, where the quantile is the exact one:
    /// from the estimated normal quantile ([`StdNormalEstimate`]) where
    /// every value within the estimate's error rounds to the same count
    /// (so the count is the exact quantile's), else computed. The error
    /// of `exp(mu + sigma·z)` from the estimate: `sigma` times the normal
    /// estimate's error, plus the roundings of the sum, the product and
    /// `exp` on either side (each within 2^−52 relatively of `|mu| +
    /// sigma·|z|`, or of the result), taken twice over.
    #[inline(never)]
    fn tail_count(&self, p: f64, cap: f64) -> u64 {
        if let Some(z) = StdNormalEstimate::get().at(p) {
            let x = (self.mu + self.sigma * z).exp();
            let error = 2.0
                * x
                * (self.sigma * STD_NORMAL_ESTIMATE_ERROR
                    + 1e-14 * (1.0 + self.mu.abs() + self.sigma * z.abs()));
            let (lo, hi) = (x - error, x + error);
            if hi < cap {
                let n = round_count(lo);
                if n == round_count(hi) {
                    return n;
                }
            } else if lo > cap {
                return round_count(cap);
            }
        }
        let x = self.tail_quantile(p);
        round_count(if x > cap { cap } else { x })
    }
}

/// The table of the lognormal (`mu`, `sigma`) in `lock`, set on first use.
#[inline(always)]
fn lognormal_lookup(lock: &OnceLock<LognormalLookup>, mu: f64, sigma: f64) -> &LognormalLookup {
    match lock.get() {
        Some(t) => t,
        None => lognormal_table(lock, mu, sigma),
    }
}

/// The table of the lognormal (`mu`, `sigma`), set in `lock`: shared by
/// every distribution of the same shape.
#[cold]
#[inline(never)]
fn lognormal_table(lock: &OnceLock<LognormalLookup>, mu: f64, sigma: f64) -> &LognormalLookup {
    lock.get_or_init(|| LOGNORMAL_TABLES.get((mu, sigma), || LognormalTable::build(mu, sigma)))
}

/// A lognormal's table, or `None` where it has none, shared.
type LognormalLookup = Arc<Option<LognormalTable>>;

/// `x.round() as u64` for a token count (NaN or 0 <= x <= 2^52) without
/// a libm call: x86-64's baseline has no rounding instruction, and this
/// ran once per token draw. The integer part, plus one when the fraction
/// is a half or more (rounding half away from zero, as `round` does); the
/// fraction `x − ⌊x⌋` is computed exactly (Sterbenz), and NaN gives 0 as
/// `NaN as u64` does.
///
/// Through `i64` both ways (exact for every count in range): on that
/// baseline the conversions between `f64` and `u64` take several
/// instructions each, and they sat on the path from each lognormal draw's
/// `exp` to the request.
#[inline]
pub fn round_count(x: f64) -> u64 {
    let t = x as i64;
    (t + i64::from(x - t as f64 >= 0.5)) as u64
}

/// A uniform draw in [0, 1) with 53 bits of precision.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    unit_of(rng.next_u64())
}

/// A uniform draw in (0, 1): never exactly 0, for logs and logits.
#[inline]
pub fn open_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    open_unit_of(rng.next_u64())
}

/// [`unit()`] of the 64-bit draw `bits`.
#[inline(always)]
pub fn unit_of(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// [`open_unit()`] of the 64-bit draw `bits`.
#[inline(always)]
pub fn open_unit_of(bits: u64) -> f64 {
    ((bits >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// The standard normal quantile, `p` clamped to [1e-15, 1 − 1e-15]:
/// Wichura's algorithm AS 241 (PPND16, Applied Statistics 37(3), 1988),
/// rational approximations accurate to about 1 part in 1e16. It replaced
/// statrs' `erf_inv`-based inverse CDF, which was four times slower and
/// was called three times per fast-path sample request and once per
/// classifier decision in exact mode; the two agree within 4e-15
/// (`dist::tests::normal_quantile_matches_statrs`).
#[inline]
// The coefficients as Wichura published them, digits past double precision included.
#[allow(clippy::excessive_precision)]
pub fn std_normal_quantile(p: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    #[inline(always)]
    fn horner(c: &[f64; 8], x: f64) -> f64 {
        let mut v = c[7];
        for k in (0..7).rev() {
            v = v * x + c[k];
        }
        v
    }
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * horner(&A, r) / horner(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let v = if r <= 5.0 {
        let r = r - 1.6;
        horner(&C, r) / horner(&D, r)
    } else {
        let r = r - 5.0;
        horner(&E, r) / horner(&F, r)
    };
    if q < 0.0 { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_statrs() {
        use statrs::distribution::{ContinuousCDF, Normal};
        let n = Normal::new(0.0, 1.0).unwrap();
        // A dense sweep of the body and both tails down to the clamp.
        let mut ps: Vec<f64> = (1..100_000).map(|i| i as f64 / 100_000.0).collect();
        for e in 2..=15 {
            for m in [1.0, 2.5, 5.0, 7.5] {
                let p = m * 10f64.powi(-e);
                ps.push(p);
                ps.push(1.0 - p);
            }
        }
        for p in ps {
            let (ours, theirs) = (std_normal_quantile(p), n.inverse_cdf(p));
            let tol = 4e-15 * theirs.abs().max(1.0);
            assert!((ours - theirs).abs() <= tol, "p {p:e}: {ours} vs {theirs}");
        }
        assert_eq!(std_normal_quantile(0.5), 0.0);
    }

    #[test]
    fn normal_estimate_is_within_its_error() {
        // 17 points in every cell (both edges, 15 between) of the body and
        // of every tail octave, both tails: within a tenth of the stated
        // error (measured 3.0e-10), so the error holds with a factor of ten
        // to spare; `None` outside the octaves and for NaN.
        let n = QUANTILE_TABLE as f64;
        let estimate = StdNormalEstimate::get();
        let mut worst: f64 = 0.0;
        let mut check = |p: f64| {
            let z = estimate
                .at(p)
                .unwrap_or_else(|| panic!("no estimate at {p:e}"));
            worst = worst.max((z - std_normal_quantile(p)).abs());
        };
        for i in LOGNORMAL_EDGE..QUANTILE_TABLE - LOGNORMAL_EDGE {
            for k in 0..16 {
                check((i as f64 + k as f64 / 16.0) / n);
            }
        }
        let mut tail_points = 0;
        for octave in NORMAL_OCTAVES {
            let start = 0.5f64.powi(octave as i32 + 1);
            for j in 0..OCTAVE_CELLS {
                for k in 0..=16 {
                    let q = start * (1.0 + (j as f64 + k as f64 / 16.0) / OCTAVE_CELLS as f64);
                    if q >= 1.0 / 32.0 {
                        continue;
                    }
                    check(q);
                    check(1.0 - q);
                    tail_points += 2;
                }
            }
        }
        assert!(tail_points > 90_000);
        assert!(worst <= STD_NORMAL_ESTIMATE_ERROR / 10.0, "{worst:e}");
        assert!(worst > 0.0, "an interpolation, not the quantile itself");
        // The upper tail mirrors the lower one exactly, as the quantile does.
        for q in [1e-3, 0.02, 3e-9, 1e-14] {
            let (p, q) = (1.0 - q, 1.0 - (1.0 - q));
            assert_eq!(estimate.at(p), estimate.at(q).map(|z| -z), "{q:e}");
            assert_eq!(std_normal_quantile(p), -std_normal_quantile(q));
        }
        let deep = 0.5f64.powi(49);
        for p in [deep, 1.0 - deep, 0.0, 1.0, 1e-300, f64::NAN, 31.0 / 32.0] {
            assert_eq!(estimate.at(p), None, "{p:e}");
        }
        assert_eq!(
            estimate.at(1.0 / 32.0),
            Some(std_normal_quantile(1.0 / 32.0))
        );
    }

    #[test]
    fn tabulated_beta_matches_statrs() {
        // Every interpolated quantile lies within 2e-8 of its probability
        // (|F(Q(p)) − p|, measured 8.5e-9 at most, in the steep upper tail of
        // Beta(2, 6)) and within 1e-6 of statrs' inverse CDF (measured
        // 1.1e-7 there), a difficulty error that moves a success
        // probability by under 1e-5 even at a logistic slope of 0.03; at
        // concentration 0.5 (a Beta piled up at 0 and 1) within 1e-5.
        use statrs::distribution::{Beta as SBeta, ContinuousCDF};
        for (mean, k, tol) in [
            (0.25, 8.0, 1e-6),
            (0.5, 2.0, 1e-6),
            (0.7, 40.0, 1e-6),
            (0.1, 0.5, 1e-5),
        ] {
            let d = DifficultyDist::beta(mean, k).unwrap();
            let b = SBeta::new(mean * k, (1.0 - mean) * k).unwrap();
            let (mut worst, mut worst_p) = (0.0f64, 0.0f64);
            for i in 0..20_000 {
                let p = (i as f64 + 0.37) / 20_000.0;
                let q = d.quantile(p);
                worst = worst.max((q - b.inverse_cdf(p)).abs());
                if k > 1.0 {
                    worst_p = worst_p.max((b.cdf(q) - p).abs());
                }
            }
            assert!(worst < tol, "beta({mean}, {k}): quantile off by {worst:e}");
            assert!(
                worst_p < 2e-8,
                "beta({mean}, {k}): probability off by {worst_p:e}"
            );
        }
    }

    /// Shapes the Beta tables are checked on: the shipped scenarios'
    /// difficulties, a symmetric and a steep one, one piled up at both ends
    /// and one at 0 only.
    const SHAPES: [(f64, f64); 8] = [
        (1.2, 8.8),
        (1.8, 4.2),
        (3.3, 2.7),
        (2.0, 6.0),
        (20.0, 20.0),
        (0.25, 0.25),
        (0.05, 0.45),
        (60.0, 3.0),
    ];

    #[test]
    fn beta_table_body_is_statrs_quantile() {
        // Every node of the body, found by Newton steps from the last,
        // within 2e-13 of statrs' inverse CDF (measured 1.1e-13 at most,
        // for Beta(60, 3)).
        use statrs::distribution::{Beta as SBeta, ContinuousCDF};
        for (a, b) in SHAPES {
            let t = BetaTable::build(a, b);
            let d = SBeta::new(a, b).unwrap();
            for i in TAIL_EDGE..=QUANTILE_TABLE - TAIL_EDGE {
                let p = i as f64 / QUANTILE_TABLE as f64;
                let (ours, theirs) = (t.body[i][0], d.inverse_cdf(p));
                assert!(
                    (ours - theirs).abs() < 2e-13,
                    "beta({a}, {b}) at {p}: {ours} vs {theirs}"
                );
            }
        }
    }

    #[test]
    fn beta_tails_meet_their_probabilities() {
        // Both tails of every shape tabulated, and each interpolated
        // quantile x at a tail probability q (log-spaced from the tail's
        // edge down to 1e-15) has CDF within 1e-8 of q relatively (statrs'
        // regularized incomplete beta as the judge; measured 7.8e-10 at
        // most, for Beta(3.3, 2.7), and 1e-14 for the shapes below 1).
        // statrs' own inverse CDF is off by far more there for shapes below
        // 1: by a factor of 5e10 at q = 1e-15 for Beta(0.25, 0.25).
        use statrs::function::beta::beta_reg;
        let edge = TAIL_EDGE as f64 / QUANTILE_TABLE as f64;
        for (a, b) in SHAPES {
            let t = BetaTable::build(a, b);
            assert_eq!(t.tails_tabulated(), (true, true), "beta({a}, {b})");
            for (tail, (a, b)) in [(&t.lower, (a, b)), (&t.upper, (b, a))] {
                let tail = tail.as_ref().unwrap();
                for k in 0..2000 {
                    let q = edge * (1e-15f64 / edge).powf(k as f64 / 2000.0);
                    let x = tail.at(q);
                    let off = (beta_reg(a, b, x) - q).abs() / q;
                    assert!(
                        off < 1e-8,
                        "beta({a}, {b}) at {q:e}: {x:e} is off by {off:e}"
                    );
                }
            }
        }
        // A shape whose tails cannot be tabulated (p^(1/a) underflows) is
        // computed exactly there, as statrs does.
        let (a, b) = (0.005, 0.005);
        let t = BetaTable::build(a, b);
        assert_eq!(t.tails_tabulated(), (false, false));
        for p in [1e-12, 1e-4, 1.0 - 1e-4] {
            assert_eq!(t.quantile(p), beta_quantile(a, b, p));
        }
    }

    #[test]
    fn round_count_is_round() {
        // Every half-integer and its neighbours one ulp either side up to
        // 2^20, a sweep of ordinary values, and the edges of the range.
        let mut xs = vec![
            0.0,
            f64::NAN,
            1e8,
            4_503_599_627_370_496.0,
            0.49999999999999994,
        ];
        for i in 0..(1u64 << 20) {
            let h = i as f64 + 0.5;
            xs.extend([
                h,
                f64::from_bits(h.to_bits() - 1),
                f64::from_bits(h.to_bits() + 1),
            ]);
            xs.push(i as f64 * 95.37 + 0.123);
        }
        for x in xs {
            assert_eq!(round_count(x), x.round() as u64, "{x:e}");
        }
    }

    #[test]
    fn tabulated_beta_keeps_its_mean() {
        // Exact mode draws difficulty through the tabulated inverse CDF:
        // its mean (midpoint rule over 2^20 probabilities, which puts 256
        // points in every table cell) must stay within 2e-6 of the Beta's.
        for (mean, k) in [(0.25, 8.0), (0.5, 2.0), (0.1, 0.5), (0.7, 40.0)] {
            let d = DifficultyDist::beta(mean, k).unwrap();
            let n = 1 << 20;
            let m: f64 = (0..n)
                .map(|i| d.quantile((i as f64 + 0.5) / n as f64))
                .sum::<f64>()
                / n as f64;
            assert!((m - mean).abs() < 2e-6, "beta({mean}, {k}): {m}");
        }
        assert_eq!(std_normal_quantile(0.0), std_normal_quantile(1e-15));
    }

    /// A tabulated lognormal's count in the tails, from the estimated
    /// normal quantile where its error cannot change the rounding, is the
    /// exact quantile's count: over a sweep of both tails, at points placed
    /// within 1e-12 of a half-integer count (where it must compute), and
    /// with the cap inside the tail.
    #[test]
    fn tabulated_lognormal_counts_in_the_tails_as_the_exact_quantile() {
        use statrs::distribution::{ContinuousCDF, Normal};
        let normal = Normal::new(0.0, 1.0).unwrap();
        for (mu, sigma, cap) in [
            (6.0, 0.7, MAX_TOKENS),
            (3.0, 1.2, MAX_TOKENS),
            (8.0, 2.5, MAX_TOKENS),
            (5.0, 0.9, 600.0),
        ] {
            let t = LognormalTable::build(mu, sigma).expect("a table");
            let exact = |p: f64| {
                let x = lognormal_quantile(mu, sigma, p);
                round_count(if x > cap { cap } else { x })
            };
            let mut ps = Vec::new();
            for k in 0..200_000u64 {
                let q = (k as f64 + 0.5) / 200_000.0 / 32.0 * 0.5f64.powi((k % 40) as i32);
                ps.extend([q, 1.0 - q]);
            }
            // Quantiles within 1e-12 (relative) of n + 1/2.
            let mut near_half = 0;
            for n in 1..2_000u64 {
                let z = (((n as f64 + 0.5) * (1.0 + 1e-13)).ln() - mu) / sigma;
                let p = normal.cdf(z);
                if !(1.0 / 32.0..31.0 / 32.0).contains(&p) && p > 0.0 && p < 1.0 {
                    near_half += 1;
                    ps.extend([p, p * (1.0 + 1e-15), p * (1.0 - 1e-15)]);
                }
            }
            assert!(near_half > 10, "{mu} {sigma}: {near_half}");
            for p in ps {
                assert_eq!(t.count(p, cap), exact(p), "mu {mu} sigma {sigma} p {p:e}");
            }
        }
    }

    #[test]
    fn tabulated_lognormal_meets_the_exact_quantile() {
        // Token lognormals as scenarios give them (p90/median 1.5 to 40):
        // a table is built, and at 200,003 probabilities across the body
        // and the tails it is within 1e-8 of the exact quantile
        // relatively (the tails are the exact quantile itself).
        for sigma in [0.0, 0.3, 0.68, 0.86, 1.5, 2.9] {
            let mu = 6.0;
            let t = LognormalTable::build(mu, sigma)
                .unwrap_or_else(|| panic!("sigma {sigma}: no table"));
            let n = 200_003;
            for k in 0..n {
                let p = (k as f64 + 0.5) / n as f64;
                let exact = lognormal_quantile(mu, sigma, p);
                let got = t.quantile(p);
                assert!(
                    (got - exact).abs() <= 1e-8 * exact,
                    "sigma {sigma}, p {p}: {got} against {exact}"
                );
                if !(1.0 / 32.0..31.0 / 32.0).contains(&p) {
                    assert_eq!(got, exact, "sigma {sigma}: p {p} is in a tail");
                }
            }
        }
        // Too wide for a cubic in p: no table, every draw exact.
        assert!(LognormalTable::build(6.0, 8.0).is_none());
        // A distribution without a table still draws its exact quantile.
        let wide = TokenDist::lognormal(6.0, 8.0, None).unwrap();
        let bits = 0x8000_0000_0000_0000u64 + (12_345 << 11);
        let p = open_unit_of(bits);
        assert_eq!(
            wide.from_bits(bits),
            round_count(lognormal_quantile(6.0, 8.0, p).min(MAX_TOKENS))
        );
    }

    #[test]
    fn tabulated_lognormal_keeps_its_mean() {
        // Exact mode draws tokens through the table: the mean of its
        // quantile over 2^22 even probabilities (2,048 in each table cell)
        // is the exact quantile's over the same probabilities within
        // 1e-10 relatively. (A linear interpolation, tried earlier, was
        // 6e-5 high at sigma 0.86.) Checked before rounding to a count,
        // which is the same for every draw method.
        let n = 1usize << 22;
        for sigma in [0.3, 0.86, 1.5] {
            let mu = 5.0;
            let t = LognormalTable::build(mu, sigma).unwrap();
            let (mut table, mut exact) =
                (crate::stats::Sum::default(), crate::stats::Sum::default());
            for i in 0..n {
                let p = (i as f64 + 0.5) / n as f64;
                table.add(t.quantile(p));
                exact.add(lognormal_quantile(mu, sigma, p));
            }
            let (table, exact) = (table.value(), exact.value());
            assert!(
                (table - exact).abs() <= 1e-10 * exact,
                "sigma {sigma}: {table} against {exact}"
            );
        }
    }
}
