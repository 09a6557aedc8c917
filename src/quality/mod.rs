//! The quality model.
//!
//! A request has a difficulty `d` in [0, 1]; a model has a capability `c` per
//! task kind on the same scale. The chance the model answers acceptably is
//! `σ((c − d) / s)` with a shared slope `s`. One uniform `u` per request
//! decides the outcome for every model: `m` succeeds iff `u < σ((c_m − d)/s)`,
//! equivalently `c_m > d + s·logit(u)` — see [`required_capability`].

pub mod calibrate;

/// The logistic function.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// P(success) of a model of capability `c` on a request of difficulty `d`.
#[inline]
pub fn p_success(c: f64, d: f64, slope: f64) -> f64 {
    sigmoid((c - d) / slope)
}

/// The capability a model needs to succeed on a request of difficulty `d`
/// whose outcome uniform is `u` (0 < u < 1): `d + s·ln(u / (1 − u))`.
#[inline]
pub fn required_capability(d: f64, u: f64, slope: f64) -> f64 {
    d + slope * (u / (1.0 - u)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_form_matches_probability_form() {
        // For a grid of (c, d, u): u < σ((c−d)/s) ⇔ c > d + s·logit(u).
        let s = 0.1;
        for ci in 0..=20 {
            for di in 0..=20 {
                for ui in 1..100 {
                    let (c, d, u) = (ci as f64 / 20.0, di as f64 / 20.0, ui as f64 / 100.0);
                    let direct = u < p_success(c, d, s);
                    let via = c > required_capability(d, u, s);
                    let margin = (u - p_success(c, d, s)).abs();
                    if margin > 1e-12 {
                        assert_eq!(direct, via, "c={c} d={d} u={u}");
                    }
                }
            }
        }
        assert!((p_success(0.7, 0.7, 0.1) - 0.5).abs() < 1e-15);
        // σ(1) = 0.7310585786300049
        assert!((p_success(0.8, 0.7, 0.1) - 0.731_058_578_630_004_9).abs() < 1e-12);
    }
}
