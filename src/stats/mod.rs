//! Numbers about numbers: the distributions scenario inputs are drawn from
//! ([`dist`]), compensated summation (how every dollar figure is summed) and
//! the order statistics reports quote. The bottom layer: imports nothing of
//! tiersim but errors.

pub mod alias;
pub mod dist;

/// A count (tokens, requests) as a float, exactly as `x as f64` gives it,
/// but through the signed conversion for every count below 2^63 (all of
/// them: a token draw is at most 1e8): one instruction on x86-64's
/// baseline, where the unsigned one takes several. Exact mode converts
/// each request's token counts once per policy, so it shows.
#[inline(always)]
pub fn count_f64(x: u64) -> f64 {
    if x <= i64::MAX as u64 {
        x as i64 as f64
    } else {
        x as f64
    }
}

/// Neumaier's compensated summation: sums of millions of terms keep full
/// double precision.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum {
    sum: f64,
    c: f64,
}

impl Sum {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.c += (self.sum - t) + x;
        } else {
            self.c += (x - t) + self.sum;
        }
        self.sum = t;
    }
    pub fn value(&self) -> f64 {
        self.sum + self.c
    }
}

/// The q-quantile of `xs` (linear interpolation between order statistics).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    quantiles(xs, &[q])[0]
}

/// The quantiles of `xs` at each of `qs` (as [`quantile`]), sorting once.
pub fn quantiles(xs: &[f64], qs: &[f64]) -> Vec<f64> {
    if xs.is_empty() {
        return vec![f64::NAN; qs.len()];
    }
    let mut v: Vec<f64> = xs.to_vec();
    // Unstable: values equal in `total_cmp`'s order have the same bits,
    // so the sorted list is the same, and the sort is quicker.
    v.sort_unstable_by(f64::total_cmp);
    qs.iter()
        .map(|&q| {
            let h = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
            let lo = h.floor() as usize;
            let hi = h.ceil() as usize;
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        })
        .collect()
}

/// The smallest value whose cumulative weight reaches `q` of the total
/// (weighted nearest rank); with no weights, every value counts once and
/// this is [`quantile`].
pub fn weighted_quantile(xs: &[f64], weights: &[f64], q: f64) -> f64 {
    if weights.is_empty() {
        return quantile(xs, q);
    }
    let mut v: Vec<(f64, f64)> = xs.iter().copied().zip(weights.iter().copied()).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|(_, w)| w).sum();
    let target = q.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    for (x, w) in &v {
        acc += w;
        if acc >= target {
            return *x;
        }
    }
    v.last().map_or(f64::NAN, |(x, _)| *x)
}

/// Sample variance (0 for fewer than two values).
pub fn variance(xs: &[f64]) -> f64 {
    variance_of(xs.iter().copied())
}

/// [`variance`] of values computed on the way (read twice, never written
/// out): the same sums in the same order, so the same bits as `variance`
/// of the values collected.
pub fn variance_of(xs: impl ExactSizeIterator<Item = f64> + Clone) -> f64 {
    let n = xs.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = xs.clone().sum::<f64>() / n;
    xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
}

/// Sample standard deviation (0 for fewer than two values).
pub fn sd(xs: &[f64]) -> f64 {
    variance(xs).sqrt()
}

/// The q-quantile with a 95% upper confidence margin: the order statistic
/// of rank ceil(qR + 1.645·sqrt(R·q(1 − q))).
pub fn upper_quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    let r = v.len() as f64;
    let rank = (q * r + 1.645 * (r * q * (1.0 - q)).sqrt()).ceil() as usize;
    order_statistic(&mut v, rank)
}

/// The q-quantile by nearest rank (an observed value); NaN for no values.
pub fn nearest_rank(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    let rank = (q * v.len() as f64).ceil() as usize;
    order_statistic(&mut v, rank)
}

/// The value of rank `rank` (from 1, clamped to the values) in
/// `total_cmp`'s order, as sorting would place it, selected without
/// sorting; `v` is reordered. `v` must not be empty.
fn order_statistic(v: &mut [f64], rank: usize) -> f64 {
    let k = rank.clamp(1, v.len()) - 1;
    *v.select_nth_unstable_by(k, f64::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_by_hand_and_of_values_computed_on_the_way() {
        // 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 +
        // 2.25 = 5, over 3.
        assert_eq!(variance(&[1.0, 2.0, 3.0, 4.0]), 5.0 / 3.0);
        assert_eq!(variance(&[7.0]), 0.0);
        // Computed on the way, the same bits as collected first.
        let blocks = [[0.1, 0.7], [0.3, 0.2], [1e-3, 5.0], [0.25, 0.0]];
        let at = |b: &[f64; 2]| b[0] + 0.37 * b[1];
        let collected: Vec<f64> = blocks.iter().map(at).collect();
        assert_eq!(
            variance_of(blocks.iter().map(at)).to_bits(),
            variance(&collected).to_bits()
        );
        assert_eq!(variance_of(std::iter::empty()), 0.0);
    }

    #[test]
    fn selected_order_statistics_are_the_sorted_ones() {
        // Ties, both zeros and values far apart, in a scrambled order.
        let mut xs: Vec<f64> = (0..257)
            .map(|i| match (i * 7919) % 11 {
                0 => 0.0,
                1 => -0.0,
                2 => 3.5,
                k => (k as f64 * 1e3).powi(i % 4) * if i % 2 == 0 { 1.0 } else { -1.0 },
            })
            .collect();
        for n in [1, 2, 3, 10, 200, 257] {
            let v = &xs[..n];
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            for rank in [0, 1, 2, n / 2, n - 1, n, n + 5] {
                let want = sorted[rank.clamp(1, n) - 1];
                let got = order_statistic(&mut v.to_vec(), rank);
                assert_eq!(got.to_bits(), want.to_bits(), "n {n} rank {rank}");
            }
            for q in [0.0, 0.05, 0.5, 0.9, 0.95, 1.0] {
                let rank = (q * n as f64).ceil() as usize;
                assert_eq!(
                    nearest_rank(v, q).to_bits(),
                    sorted[rank.clamp(1, n) - 1].to_bits()
                );
            }
        }
        xs.reverse();
        assert_eq!(nearest_rank(&xs, 0.5).to_bits(), {
            let mut s = xs.clone();
            s.sort_by(f64::total_cmp);
            s[128].to_bits()
        });
    }

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        // Sorted: 1, 2, 3, 4, 5; position q * 4. At q = 0.9: 4 + 0.6 * (5 - 4).
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0];
        let qs = [0.0, 0.25, 0.5, 0.9, 1.0];
        let got = quantiles(&xs, &qs);
        let want = [1.0, 2.0, 3.0, 4.6, 5.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(got.len(), qs.len());
        assert_eq!(quantile(&xs, 0.9), got[3]);
        assert!(quantiles(&[], &qs).iter().all(|x| x.is_nan()));
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        // 1e16 + 1 + ... loses the ones in naive summation.
        let mut s = Sum::default();
        s.add(1e16);
        for _ in 0..1000 {
            s.add(1.0);
        }
        s.add(-1e16);
        assert_eq!(s.value(), 1000.0);
    }
}
