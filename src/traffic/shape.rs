//! When in the week requests arrive: a daily profile, a weekend factor and
//! the burst of the busiest minute.
//!
//! Traffic is not flat. Quotas are counted per minute, so the busiest
//! minute, not the month's average, decides throttling; and prompt caches
//! stay warm in busy hours and expire in quiet ones. A [`Shape`] is the
//! relative arrival rate of each of the week's 168 hours (mean 1 over the
//! week), so volumes keep their meaning; the month starts on a Monday at
//! 00:00 UTC and repeats the week.
//!
//! A flat shape is exactly the uniform arrivals tiersim always had: the
//! engines check [`Shape::is_flat`] and take their old path, so outputs of
//! scenarios without a shape do not move by a bit.

use crate::calendar::MONTH_SECONDS;

/// Hours in a week.
pub const WEEK_HOURS: usize = 168;
const HOUR_S: f64 = 3600.0;
const WEEK_S: f64 = WEEK_HOURS as f64 * HOUR_S;

/// Named daily profiles (24 hourly weights, UTC, any scale). These are
/// assumptions, chosen to be easy to reason about, not measurements:
/// replace them with your own hours (`tiersim profile` derives them from
/// invocation logs).
pub const PRESETS: &[(&str, &str, [f64; 24])] = &[
    ("flat", "every hour alike", [1.0; 24]),
    (
        "business_hours",
        "09:00-17:00 at 4x the night rate, 07:00-09:00 and 17:00-20:00 at 2x",
        [
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0,
            2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0,
        ],
    ),
    (
        "consumer_evenings",
        "18:00-23:00 at 3x the small hours (01:00-07:00), daytime at 1.5x",
        [
            1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5,
            1.5, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0,
        ],
    ),
];

/// The names of the presets, for messages.
pub fn preset_names() -> String {
    PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
}

/// Arrival rate over the week, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Relative rate of each hour of the week (Monday 00:00 UTC first),
    /// mean 1. Fixed when built (`rates` index it).
    hourly: [f64; WEEK_HOURS],
    /// The busiest minute of an hour over that hour's average minute
    /// (1 to 2).
    pub peak_minute_factor: f64,
    /// Cumulative uniform-time at the start of each hour (seconds; 169
    /// entries, the last one a week).
    cumulative: Vec<f64>,
    flat: bool,
    /// The distinct hourly rates (by bit pattern), in order of first
    /// appearance, and each hour's index among them: a daily profile
    /// repeated over the week has at most 48 (weekdays and weekend).
    rates: Vec<f64>,
    rate_of_hour: [u8; WEEK_HOURS],
}

impl Default for Shape {
    fn default() -> Self {
        Shape::new(&[1.0; 24], 1.0, 1.0)
    }
}

impl Shape {
    /// A shape from 24 hourly weights (positive, any scale, at least one
    /// above 0), the weekend's rate relative to a weekday's and the burst
    /// of the busiest minute. Callers validate the numbers (the scenario
    /// does, with located messages); out-of-range values are clamped here
    /// so building cannot fail.
    pub fn new(daily: &[f64; 24], weekend_factor: f64, peak_minute_factor: f64) -> Shape {
        let mut hourly = [0.0; WEEK_HOURS];
        for (h, x) in hourly.iter_mut().enumerate() {
            let day = h / 24;
            let w = daily[h % 24].max(0.0);
            *x = if day >= 5 {
                w * weekend_factor.max(0.0)
            } else {
                w
            };
        }
        let mean = hourly.iter().sum::<f64>() / WEEK_HOURS as f64;
        let flat = hourly.iter().all(|&x| x == hourly[0]) && hourly[0] > 0.0;
        if mean > 0.0 {
            for x in &mut hourly {
                *x /= mean;
            }
        } else {
            hourly = [1.0; WEEK_HOURS];
        }
        let mut cumulative = Vec::with_capacity(WEEK_HOURS + 1);
        let mut c = 0.0;
        cumulative.push(0.0);
        for x in &hourly {
            c += x * HOUR_S;
            cumulative.push(c);
        }
        let mut rates: Vec<f64> = Vec::new();
        let mut rate_of_hour = [0u8; WEEK_HOURS];
        for (h, x) in hourly.iter().enumerate() {
            let k = match rates.iter().position(|r| r.to_bits() == x.to_bits()) {
                Some(k) => k,
                None => {
                    rates.push(*x);
                    rates.len() - 1
                }
            };
            // At most WEEK_HOURS (168) distinct rates: always fits.
            rate_of_hour[h] = k as u8;
        }
        Shape {
            hourly,
            peak_minute_factor: peak_minute_factor.clamp(1.0, 2.0),
            cumulative,
            flat,
            rates,
            rate_of_hour,
        }
    }

    /// Relative rate of each hour of the week (Monday 00:00 UTC first), mean 1.
    pub fn hourly(&self) -> &[f64; WEEK_HOURS] {
        &self.hourly
    }

    /// Arrivals are uniform over the week (the minute burst aside).
    pub fn is_flat(&self) -> bool {
        self.flat
    }

    /// The busiest hour's rate over the week's average.
    pub fn peak_hour_factor(&self) -> f64 {
        self.hourly.iter().cloned().fold(0.0, f64::max)
    }

    /// The busiest minute's rate over the month's average minute.
    pub fn peak_factor(&self) -> f64 {
        self.peak_hour_factor() * self.peak_minute_factor
    }

    /// Maps a time of a homogeneous Poisson process (rate 1 on average)
    /// to the shaped process: the inverse of the cumulative rate, hour by
    /// hour. The identity for a flat shape.
    pub fn warp(&self, t: f64) -> f64 {
        if self.flat {
            return t;
        }
        let weeks = (t / WEEK_S).floor();
        let r = t - weeks * WEEK_S;
        // The hour whose cumulative span holds r.
        let k = match self
            .cumulative
            .binary_search_by(|c| c.partial_cmp(&r).unwrap_or(std::cmp::Ordering::Less))
        {
            Ok(i) => i.min(WEEK_HOURS - 1),
            Err(i) => i.saturating_sub(1).min(WEEK_HOURS - 1),
        };
        let rate = self.hourly[k];
        let within = if rate > 0.0 {
            ((r - self.cumulative[k]) / rate).min(HOUR_S)
        } else {
            0.0
        };
        weeks * WEEK_S + k as f64 * HOUR_S + within
    }

    /// The traffic-weighted mean over the week's hours of `f(rate)`, where
    /// `rate` is an hour's relative rate (`f(1)` for a flat shape, exactly).
    /// `f` is evaluated once per distinct rate, and the terms are summed
    /// hour by hour, so the result is the same to the bit for any `f` that
    /// gives the same value for the same rate.
    pub fn traffic_weighted(&self, f: impl Fn(f64) -> f64) -> f64 {
        let mut out = Vec::with_capacity(1);
        self.traffic_weighted_each(1, |_, r| f(r), &mut out);
        out[0]
    }

    /// [`Shape::traffic_weighted`] of each of `n` functions, `f(j, rate)`
    /// the `j`-th, into `out`: each mean the same to the bit as alone. The
    /// fast path asks for a cache-hit probability (two exponentials) for
    /// every policy, workload and model of every replication's month: each
    /// sum is a chain of 168 dependent additions, and summed side by side
    /// (hour by hour, every function's term in turn) the chains overlap.
    pub fn traffic_weighted_each(
        &self,
        n: usize,
        f: impl Fn(usize, f64) -> f64,
        out: &mut Vec<f64>,
    ) {
        out.clear();
        if self.flat {
            out.extend((0..n).map(|j| f(j, 1.0)));
            return;
        }
        // `at[k * n + j]`: the j-th function at the k-th distinct rate
        // (never read for a rate of 0).
        let mut at = vec![0.0; self.rates.len() * n];
        for (row, &x) in at.chunks_exact_mut(n.max(1)).zip(&self.rates) {
            if x > 0.0 {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = f(j, x);
                }
            }
        }
        out.resize(n, 0.0);
        for (&x, &k) in self.hourly.iter().zip(&self.rate_of_hour) {
            if x > 0.0 {
                let row = &at[k as usize * n..(k as usize + 1) * n];
                for (s, &v) in out.iter_mut().zip(row) {
                    *s += x * v;
                }
            }
        }
        for s in out.iter_mut() {
            *s /= WEEK_HOURS as f64;
        }
    }

    /// Expected demand above `quota` in a minute, as a share of all demand,
    /// when the month's average minute asks for `mean_per_minute`: each
    /// hour's minutes spread uniformly between `(2 - b)` and `b` times the
    /// hour's mean (`b` the peak-minute factor), and whatever a minute asks
    /// beyond the quota is refused (not retried).
    pub fn throttled_share(&self, mean_per_minute: f64, quota: f64) -> f64 {
        if mean_per_minute <= 0.0 {
            return 0.0;
        }
        let b = self.peak_minute_factor;
        let mut over = 0.0;
        let mut total = 0.0;
        for &x in &self.hourly {
            let mu = mean_per_minute * x;
            total += mu;
            over += excess_uniform(mu * (2.0 - b), mu * b, quota);
        }
        if total > 0.0 { over / total } else { 0.0 }
    }
}

/// `E[max(0, X - q)]` for `X` uniform on `[a, c]` (a point mass when `a = c`).
pub fn excess_uniform(a: f64, c: f64, q: f64) -> f64 {
    if q >= c {
        0.0
    } else if q <= a {
        0.5 * (a + c) - q
    } else {
        (c - q) * (c - q) / (2.0 * (c - a))
    }
}

/// Minutes in tiersim's month.
pub fn month_minutes() -> f64 {
    MONTH_SECONDS / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_is_the_identity() {
        let s = Shape::default();
        assert!(s.is_flat());
        for t in [0.0, 1.5, 86_400.0, 2_000_000.5] {
            assert_eq!(s.warp(t), t);
        }
        assert_eq!(s.traffic_weighted(|x| x * 0.3), 0.3);
    }

    #[test]
    fn two_level_shape_puts_arrivals_where_the_rate_is() {
        // 12 hours at 3, 12 at 1: mean 2, so relative 1.5 and 0.5.
        let mut d = [1.0; 24];
        d[..12].fill(3.0);
        let s = Shape::new(&d, 1.0, 1.0);
        assert!((s.hourly[0] - 1.5).abs() < 1e-12 && (s.hourly[12] - 0.5).abs() < 1e-12);
        // Uniform time 1.5 h lands at 1 h (rate 1.5 in the first hours).
        assert!((s.warp(1.5 * 3600.0) - 3600.0).abs() < 1e-6);
        // The first 12 hours hold 18 h of uniform time; 18 h + 0.5 h of
        // uniform time is one hour into the quiet half.
        assert!((s.warp(18.5 * 3600.0) - 13.0 * 3600.0).abs() < 1e-6);
        assert!((s.peak_hour_factor() - 1.5).abs() < 1e-12);
    }

    #[test]
    fn traffic_weighted_evaluates_each_distinct_rate_once_and_sums_hour_by_hour() {
        // A business-day profile with a quieter weekend: 24 weekday
        // weights (some repeated, one hour at 0) and their weekend copies.
        let mut d = [0.4; 24];
        d[8..18].copy_from_slice(&[1.0, 2.0, 3.0, 3.0, 2.5, 2.0, 3.0, 3.0, 2.0, 1.0]);
        d[3] = 0.0;
        let s = Shape::new(&d, 0.3, 1.0);
        let f = |r: f64| -(-0.7 * r).exp_m1() + r * (-0.2 * r).exp();
        let calls = std::cell::Cell::new(0);
        let got = s.traffic_weighted(|r| {
            calls.set(calls.get() + 1);
            f(r)
        });
        // The sum as it was written before the rates were shared: every
        // hour in order, to the bit.
        let mut want = 0.0;
        for &x in s.hourly() {
            if x > 0.0 {
                want += x * f(x);
            }
        }
        assert_eq!(got.to_bits(), (want / WEEK_HOURS as f64).to_bits());
        // Distinct positive rates: weekday 0.4, 1, 2, 3, 2.5 and their
        // weekend copies at 0.3 times (0 is never evaluated): 10 calls,
        // not one for each of the 161 hours above 0.
        assert_eq!(calls.get(), 10);
    }

    #[test]
    fn traffic_weighted_side_by_side_is_each_alone_to_the_bit() {
        let mut d = [0.4; 24];
        d[8..18].copy_from_slice(&[1.0, 2.0, 3.0, 3.0, 2.5, 2.0, 3.0, 3.0, 2.0, 1.0]);
        d[3] = 0.0;
        // Hit probabilities of streams from next to no traffic to warm
        // all week, as the fast path asks for them.
        let lambdas = [1e-7, 3e-4, 0.01, 0.2, 5.0, 80.0, 0.0];
        let f = |l: f64, r: f64| -(-l * r).exp_m1() + 0.1 * l * r * (-l * r).exp();
        for s in [Shape::new(&d, 0.3, 1.0), Shape::default()] {
            let mut out = vec![7.0; 2];
            s.traffic_weighted_each(lambdas.len(), |j, r| f(lambdas[j], r), &mut out);
            assert_eq!(out.len(), lambdas.len());
            for (j, &l) in lambdas.iter().enumerate() {
                let alone = s.traffic_weighted(|r| f(l, r));
                assert_eq!(out[j].to_bits(), alone.to_bits(), "{j}");
            }
            // Hour by hour, as `traffic_weighted` documents: a shaped week
            // is not its flat value.
            assert_eq!(s.is_flat(), out[3] == f(0.2, 1.0), "{out:?}");
            s.traffic_weighted_each(0, |_, _| unreachable!(), &mut out);
            assert!(out.is_empty());
        }
    }

    #[test]
    fn excess_of_a_uniform_by_hand() {
        // U(0, 10) over 7.5: (2.5)^2 / 20 = 0.3125.
        assert!((excess_uniform(0.0, 10.0, 7.5) - 0.3125).abs() < 1e-15);
        assert_eq!(excess_uniform(0.0, 10.0, 10.0), 0.0);
        assert!((excess_uniform(4.0, 6.0, 1.0) - 4.0).abs() < 1e-15);
    }
}
