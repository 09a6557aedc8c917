//! Numbers a founder may not know: a value or a distribution.
//!
//! Every uncertain scenario field is a [`Quantity`]: a plain number, or one of
//! `{ normal: {mean, sd, min?, max?} }`, `{ uniform: {min, max} }`,
//! `{ triangular: {min, mode, max} }`, `{ lognormal: {median, p90} }`,
//! `{ beta: {mean, concentration} }`. A replication draws each uncertain
//! quantity once, by inverse CDF from one uniform, so the same machinery
//! gives random draws, medians and the P10/P90 settings sensitivity needs.
//!
//! Parameters are checked when the quantity is built ([`Quantity::check`]),
//! including that every value the distribution can produce lies in the
//! field's valid range, so drawing can never fail or leave the range.

use crate::stats::dist::Z90;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, Normal};

/// A number or a distribution over numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    Normal {
        mean: f64,
        sd: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Lognormal {
        median: f64,
        p90: f64,
    },
    Beta {
        mean: f64,
        concentration: f64,
    },
    #[serde(untagged)]
    Fixed(f64),
}

/// The valid range of a field, used to check what a quantity can produce.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub min: f64,
    pub min_inclusive: bool,
    pub max: f64,
    pub max_inclusive: bool,
}

impl Range {
    pub const fn closed(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: true,
            max,
            max_inclusive: true,
        }
    }
    pub const fn open_min(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: false,
            max,
            max_inclusive: true,
        }
    }
    pub const fn open(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: false,
            max,
            max_inclusive: false,
        }
    }

    pub fn contains(&self, x: f64) -> bool {
        x.is_finite()
            && (if self.min_inclusive {
                x >= self.min
            } else {
                x > self.min
            })
            && (if self.max_inclusive {
                x <= self.max
            } else {
                x < self.max
            })
    }

    /// "between 0 and 1", "greater than 0 and at most 1e12", ...
    pub fn describe(&self) -> String {
        let lo = if self.min_inclusive {
            format!("at least {}", fmt_num(self.min))
        } else {
            format!("greater than {}", fmt_num(self.min))
        };
        if self.max.is_infinite() {
            return lo;
        }
        let hi = if self.max_inclusive {
            format!("at most {}", fmt_num(self.max))
        } else {
            format!("less than {}", fmt_num(self.max))
        };
        if self.min_inclusive && self.max_inclusive {
            format!("between {} and {}", fmt_num(self.min), fmt_num(self.max))
        } else {
            format!("{lo} and {hi}")
        }
    }
}

/// Formats a number for messages: integers without a fraction, large values
/// in exponent form.
pub fn fmt_num(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e7 {
        format!("{x:e}")
    } else if x.is_finite() && x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl Quantity {
    /// The quantity in words for reports: `6`, `triangular (min 2, mode 6, max 12)`.
    pub fn words(&self) -> String {
        let f = |x: f64| fmt_num(x);
        match *self {
            Quantity::Fixed(v) => f(v),
            Quantity::Normal { mean, sd, min, max } => {
                let mut s = format!("normal (mean {}, sd {}", f(mean), f(sd));
                if let Some(m) = min {
                    s.push_str(&format!(", min {}", f(m)));
                }
                if let Some(m) = max {
                    s.push_str(&format!(", max {}", f(m)));
                }
                s.push(')');
                s
            }
            Quantity::Uniform { min, max } => format!("uniform ({} to {})", f(min), f(max)),
            Quantity::Triangular { min, mode, max } => {
                format!(
                    "triangular (min {}, mode {}, max {})",
                    f(min),
                    f(mode),
                    f(max)
                )
            }
            Quantity::Lognormal { median, p90 } => {
                format!("lognormal (median {}, p90 {})", f(median), f(p90))
            }
            Quantity::Beta {
                mean,
                concentration,
            } => format!(
                "beta (mean {}, concentration {})",
                f(mean),
                f(concentration)
            ),
        }
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self, Quantity::Fixed(_))
    }

    pub fn fixed(&self) -> Option<f64> {
        match self {
            Quantity::Fixed(v) => Some(*v),
            _ => None,
        }
    }

    /// Checks the parameters and that every value the quantity can produce
    /// lies within `range`. Returns a message saying what would be valid.
    pub fn check(&self, range: Range) -> Result<(), String> {
        let finite = |name: &str, v: f64| -> Result<(), String> {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number, got {v}"))
            }
        };
        let within = |what: &str, lo: f64, hi: f64| -> Result<(), String> {
            if range.contains(lo) && range.contains(hi) {
                Ok(())
            } else {
                Err(format!(
                    "{what} can produce values outside the valid range; values must be {}",
                    range.describe()
                ))
            }
        };
        match *self {
            Quantity::Fixed(v) => {
                if !v.is_finite() {
                    return Err(format!(
                        "must be a finite number, got {v}; valid values are {}",
                        range.describe()
                    ));
                }
                if !range.contains(v) {
                    return Err(format!("must be {}, got {}", range.describe(), fmt_num(v)));
                }
                Ok(())
            }
            Quantity::Normal { mean, sd, min, max } => {
                finite("normal.mean", mean)?;
                finite("normal.sd", sd)?;
                if sd <= 0.0 {
                    return Err(format!(
                        "normal.sd must be greater than 0, got {}",
                        fmt_num(sd)
                    ));
                }
                let lo = min.unwrap_or(f64::NEG_INFINITY);
                let hi = max.unwrap_or(f64::INFINITY);
                if let Some(m) = min {
                    finite("normal.min", m)?;
                }
                if let Some(m) = max {
                    finite("normal.max", m)?;
                }
                if lo >= hi {
                    return Err(format!(
                        "normal.min ({}) must be less than normal.max ({})",
                        fmt_num(lo),
                        fmt_num(hi)
                    ));
                }
                // The truncated interval must keep some probability mass.
                let n = Normal::new(mean, sd).map_err(|e| e.to_string())?;
                if n.cdf(hi) - n.cdf(lo) < 1e-9 {
                    return Err(format!(
                        "normal truncated to [{}, {}] keeps no probability; widen the bounds or move the mean",
                        fmt_num(lo),
                        fmt_num(hi)
                    ));
                }
                if !(range.contains(lo) && range.contains(hi)) {
                    return Err(format!(
                        "normal can produce values outside the valid range; truncate it with `min` and `max` so values are {}",
                        range.describe()
                    ));
                }
                Ok(())
            }
            Quantity::Uniform { min, max } => {
                finite("uniform.min", min)?;
                finite("uniform.max", max)?;
                if min > max {
                    return Err(format!(
                        "uniform.min ({}) must not be greater than uniform.max ({})",
                        fmt_num(min),
                        fmt_num(max)
                    ));
                }
                within("uniform", min, max)
            }
            Quantity::Triangular { min, mode, max } => {
                finite("triangular.min", min)?;
                finite("triangular.mode", mode)?;
                finite("triangular.max", max)?;
                if !(min <= mode && mode <= max) || min == max {
                    return Err(format!(
                        "triangular needs min <= mode <= max and min < max, got min {}, mode {}, max {}",
                        fmt_num(min),
                        fmt_num(mode),
                        fmt_num(max)
                    ));
                }
                within("triangular", min, max)
            }
            Quantity::Lognormal { median, p90 } => {
                finite("lognormal.median", median)?;
                finite("lognormal.p90", p90)?;
                if median <= 0.0 {
                    return Err(format!(
                        "lognormal.median must be greater than 0, got {}",
                        fmt_num(median)
                    ));
                }
                if p90 < median {
                    return Err(format!(
                        "lognormal.p90 ({}) must be at least lognormal.median ({})",
                        fmt_num(p90),
                        fmt_num(median)
                    ));
                }
                if range.max.is_finite() && p90 > median {
                    return Err(format!(
                        "lognormal is unbounded above; values must be {}, so use a uniform, triangular or truncated normal here",
                        range.describe()
                    ));
                }
                within("lognormal", median.min(p90), median)
            }
            Quantity::Beta {
                mean,
                concentration,
            } => {
                finite("beta.mean", mean)?;
                finite("beta.concentration", concentration)?;
                if !(mean > 0.0 && mean < 1.0) {
                    return Err(format!(
                        "beta.mean must be strictly between 0 and 1, got {}",
                        fmt_num(mean)
                    ));
                }
                let (lo, hi) = crate::stats::dist::BETA_CONCENTRATION;
                if !(lo..=hi).contains(&concentration) {
                    return Err(format!(
                        "beta.concentration must be at least {} and at most {}, got {}",
                        fmt_num(lo),
                        fmt_num(hi),
                        fmt_num(concentration)
                    ));
                }
                if !(range.min <= 0.0 && range.max >= 1.0) {
                    return Err(format!(
                        "beta produces values between 0 and 1, but values must be {}",
                        range.describe()
                    ));
                }
                Ok(())
            }
        }
    }

    /// The value at cumulative probability `p` (0 < p < 1). For a fixed
    /// value, the value itself. Parameters must have passed [`Self::check`].
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(1e-12, 1.0 - 1e-12);
        match *self {
            Quantity::Fixed(v) => v,
            Quantity::Normal { mean, sd, min, max } => {
                let n = Normal::new(mean, sd).expect("checked at load");
                let lo = min.map_or(0.0, |m| n.cdf(m));
                let hi = max.map_or(1.0, |m| n.cdf(m));
                let x = n.inverse_cdf(lo + p * (hi - lo));
                x.clamp(min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX))
            }
            Quantity::Uniform { min, max } => min + p * (max - min),
            Quantity::Triangular { min, mode, max } => {
                let fc = (mode - min) / (max - min);
                if p < fc {
                    min + (p * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - p) * (max - min) * (max - mode)).sqrt()
                }
            }
            Quantity::Lognormal { median, p90 } => {
                let sigma = (p90 / median).ln() / Z90;
                let z = Normal::new(0.0, 1.0)
                    .expect("standard normal")
                    .inverse_cdf(p);
                median * (sigma * z).exp()
            }
            Quantity::Beta {
                mean,
                concentration,
            } => {
                let b = Beta::new(mean * concentration, (1.0 - mean) * concentration)
                    .expect("checked at load");
                b.inverse_cdf(p).clamp(0.0, 1.0)
            }
        }
    }

    /// The largest value the quantity can take, if it has one (a lognormal,
    /// or a normal without `max`, has none).
    pub fn upper(&self) -> Option<f64> {
        match *self {
            Quantity::Fixed(v) => Some(v),
            Quantity::Uniform { max, .. } | Quantity::Triangular { max, .. } => Some(max),
            Quantity::Normal { max, .. } => max,
            Quantity::Beta { .. } => Some(1.0),
            Quantity::Lognormal { .. } => None,
        }
    }

    /// The median (what "everything else at its median" uses).
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// The mean, where it has a closed form (used for documentation and tests).
    pub fn mean(&self) -> f64 {
        match *self {
            Quantity::Fixed(v) => v,
            Quantity::Uniform { min, max } => 0.5 * (min + max),
            Quantity::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Quantity::Lognormal { median, p90 } => {
                let sigma = (p90 / median).ln() / Z90;
                median * (0.5 * sigma * sigma).exp()
            }
            Quantity::Beta { mean, .. } => mean,
            Quantity::Normal {
                mean,
                min: None,
                max: None,
                ..
            } => mean,
            Quantity::Normal { .. } => {
                // Truncated: integrate the quantile function (midpoint rule).
                let n = 2000;
                (0..n)
                    .map(|i| self.quantile((i as f64 + 0.5) / n as f64))
                    .sum::<f64>()
                    / n as f64
            }
        }
    }
}

/// Reads numbers written with digit separators, such as `3_000_000`
/// (YAML 1.2 reads them as strings).
pub fn number_with_underscores(s: &str) -> Option<f64> {
    let t = s.trim();
    if !t.contains('_') || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    if !cleaned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

impl From<f64> for Quantity {
    fn from(v: f64) -> Self {
        Quantity::Fixed(v)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

const KINDS: &[&str] = &["normal", "uniform", "triangular", "lognormal", "beta"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalSpec {
    mean: f64,
    sd: f64,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UniformSpec {
    min: f64,
    max: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriangularSpec {
    min: f64,
    mode: f64,
    max: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LognormalSpec {
    median: f64,
    p90: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BetaSpec {
    mean: f64,
    concentration: f64,
}

impl<'de> Visitor<'de> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a number or a distribution: { normal: {mean, sd} }, { uniform: {min, max} }, \
             { triangular: {min, mode, max} }, { lognormal: {median, p90} } or { beta: {mean, concentration} }",
        )
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        Ok(Quantity::Fixed(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::Fixed(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity::Fixed(v as f64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        match number_with_underscores(v) {
            Some(x) => Ok(Quantity::Fixed(x)),
            None => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Quantity, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "empty mapping; expected a number or one distribution such as { uniform: {min, max} }",
            ));
        };
        let q = match kind.as_str() {
            "normal" => {
                let s: NormalSpec = map.next_value()?;
                Quantity::Normal {
                    mean: s.mean,
                    sd: s.sd,
                    min: s.min,
                    max: s.max,
                }
            }
            "uniform" => {
                let s: UniformSpec = map.next_value()?;
                Quantity::Uniform {
                    min: s.min,
                    max: s.max,
                }
            }
            "triangular" => {
                let s: TriangularSpec = map.next_value()?;
                Quantity::Triangular {
                    min: s.min,
                    mode: s.mode,
                    max: s.max,
                }
            }
            "lognormal" => {
                let s: LognormalSpec = map.next_value()?;
                Quantity::Lognormal {
                    median: s.median,
                    p90: s.p90,
                }
            }
            "beta" => {
                let s: BetaSpec = map.next_value()?;
                Quantity::Beta {
                    mean: s.mean,
                    concentration: s.concentration,
                }
            }
            other => return Err(de::Error::unknown_variant(other, KINDS)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a distribution has exactly one kind, found `{kind}` and `{extra}`"
            )));
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Quantity, String> {
        serde_yaml::from_str::<Quantity>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_numbers_and_distributions() {
        assert_eq!(parse("3").unwrap(), Quantity::Fixed(3.0));
        assert_eq!(parse("0.25").unwrap(), Quantity::Fixed(0.25));
        assert_eq!(
            parse("{ uniform: { min: 1, max: 2 } }").unwrap(),
            Quantity::Uniform { min: 1.0, max: 2.0 }
        );
        assert!(
            parse("{ gamma: { k: 1 } }")
                .unwrap_err()
                .contains("unknown variant `gamma`")
        );
        assert!(
            parse("{ uniform: { min: 1 } }")
                .unwrap_err()
                .contains("missing field `max`")
        );
    }

    #[test]
    fn checks_support_against_range() {
        let unit = Range::closed(0.0, 1.0);
        assert!(Quantity::Uniform { min: 0.2, max: 0.9 }.check(unit).is_ok());
        assert_eq!(
            Quantity::Uniform { min: 0.9, max: 0.2 }
                .check(unit)
                .unwrap_err(),
            "uniform.min (0.9) must not be greater than uniform.max (0.2)"
        );
        assert!(
            Quantity::Normal {
                mean: 0.5,
                sd: 0.1,
                min: None,
                max: None
            }
            .check(unit)
            .unwrap_err()
            .contains("truncate it")
        );
        assert!(
            Quantity::Normal {
                mean: 0.5,
                sd: 0.1,
                min: Some(0.0),
                max: Some(1.0)
            }
            .check(unit)
            .is_ok()
        );
        assert_eq!(
            Quantity::Fixed(1.5).check(unit).unwrap_err(),
            "must be between 0 and 1, got 1.5"
        );
    }

    #[test]
    fn quantiles_match_closed_forms() {
        // Triangular(0, 0, 1): F(x) = 1 - (1-x)^2, so the median is 1 - sqrt(0.5).
        let t = Quantity::Triangular {
            min: 0.0,
            mode: 0.0,
            max: 1.0,
        };
        assert!((t.median() - (1.0 - 0.5f64.sqrt())).abs() < 1e-12);
        // Lognormal by median and p90: the 0.9 quantile is the p90 given.
        let l = Quantity::Lognormal {
            median: 450.0,
            p90: 1200.0,
        };
        assert!((l.quantile(0.9) - 1200.0).abs() < 1e-6);
        assert!((l.median() - 450.0).abs() < 1e-9);
        // Normal(10, 2): P10 = 10 - 2 * 1.28155.
        let n = Quantity::Normal {
            mean: 10.0,
            sd: 2.0,
            min: None,
            max: None,
        };
        assert!((n.quantile(0.1) - (10.0 - 2.0 * Z90)).abs() < 1e-6);
    }
}
