//! Walker's alias method for picking an index by weight with one 64-bit
//! draw.
//!
//! Why our own: `rand_distr`'s `WeightedAliasIndex` spends two draws per
//! pick (a column, then a uniform to choose between the column and its
//! alias) and a branch that follows the uniform. Exact mode picks a
//! workload for every request, so that branch was the most mispredicted in
//! the traffic loop (0.46 a request under callgrind). Here one draw does
//! both: multiplying it by the number of columns `n` as a 128-bit product
//! gives the column in the high word, and the low word is the position
//! within the column, uniform to `n / 2^64` (the low words of a column's
//! draws are spaced `n` apart). The choice between the column and its
//! alias is a compare and a select, with no branch to predict.
//!
//! Thresholds are fractions of 2^64, so each index's probability is its
//! weight's share to within `n / 2^64` (under 1e-17 for the handful of
//! workloads a scenario has): `tests::probabilities_are_the_weights`
//! computes the table's probabilities back.

/// A table for picking an index with probability proportional to its
/// weight, built once ([`Alias::new`] checks the weights), picked from with
/// one draw that cannot fail ([`Alias::pick`]).
#[derive(Debug, Clone)]
pub struct Alias {
    /// Per column: the column's own index is kept when the draw's position
    /// within the column is below this (a fraction of 2^64).
    thresholds: Vec<u64>,
    /// Per column: the index taken otherwise.
    alias: Vec<u32>,
}

impl Alias {
    /// The table for `weights`: each finite and at least 0, not all 0,
    /// at most 2^32 of them.
    pub fn new(weights: &[f64]) -> Result<Alias, String> {
        let n = weights.len();
        if n == 0 || n > u32::MAX as usize {
            return Err(format!("an alias table needs 1 to 2^32 weights, got {n}"));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(format!("weights must be finite and at least 0, got {w}"));
        }
        let total: f64 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(format!(
                "weights must have a positive, finite sum, got {total}"
            ));
        }
        // Vose's construction: columns below an even share are topped up
        // from one above it, which gives up that much of its own.
        let mut p: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let mut thresholds = vec![u64::MAX; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| p[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            thresholds[s] = fraction_of_2_64(p[s]);
            alias[s] = l as u32;
            p[l] -= 1.0 - p[s];
            if p[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left is full to within rounding: its own index always
        // (threshold u64::MAX, alias itself).
        Ok(Alias { thresholds, alias })
    }

    /// The index that the 64-bit draw `bits` picks.
    #[inline(always)]
    pub fn pick(&self, bits: u64) -> usize {
        let n = self.thresholds.len();
        let wide = bits as u128 * n as u128;
        let column = ((wide >> 64) as usize).min(n - 1);
        let within = wide as u64;
        // Both read first, then selected: written as an `if`, the alias's
        // read (and its bounds check) went into a branch of its own, which
        // followed the draw and was mispredicted (0.46 a request under
        // cachegrind's model, 2026-12-05).
        let (threshold, alias) = (self.thresholds[column], self.alias[column] as usize);
        std::hint::select_unpredictable(within < threshold, column, alias)
    }

    /// Number of indices.
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// Whether there are none (never, once built).
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }
}

/// `p` (0 ≤ p ≤ 1) as a fraction of 2^64, saturating at `u64::MAX`.
fn fraction_of_2_64(p: f64) -> u64 {
    // `as` saturates: 1.0 · 2^64 gives u64::MAX.
    (p.clamp(0.0, 1.0) * 18_446_744_073_709_551_616.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Each index's probability read back from the table: its own
    /// column's kept share plus what other columns pass to it.
    fn probabilities(a: &Alias) -> Vec<f64> {
        let n = a.len();
        let mut p = vec![0.0; n];
        for c in 0..n {
            let kept = a.thresholds[c] as f64 / 18_446_744_073_709_551_616.0;
            p[c] += kept / n as f64;
            p[a.alias[c] as usize] += (1.0 - kept) / n as f64;
        }
        p
    }

    #[test]
    fn probabilities_are_the_weights() {
        for weights in [
            vec![1.0],
            vec![0.5, 0.25, 0.15, 0.10],
            vec![3.0, 0.0, 1.0],
            vec![1e-12, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            (1..=100).map(|i| (i * i) as f64).collect(),
        ] {
            let a = Alias::new(&weights).unwrap();
            let total: f64 = weights.iter().sum();
            for (i, (p, w)) in probabilities(&a).iter().zip(&weights).enumerate() {
                assert!(
                    (p - w / total).abs() < 1e-15,
                    "{weights:?}: index {i} has {p}, weight share {}",
                    w / total
                );
            }
        }
    }

    #[test]
    fn picks_follow_the_weights() {
        // 1e6 seeded picks of four shares: each count within 5 standard
        // deviations of its expectation (sd = sqrt(n p (1 - p)) ≤ 500).
        let weights = [0.5, 0.25, 0.15, 0.10];
        let a = Alias::new(&weights).unwrap();
        let mut rng = crate::random::Stream::Sample { workload: 0 }.generator(7);
        let n = 1_000_000;
        let mut counts = [0u64; 4];
        for _ in 0..n {
            counts[a.pick(rng.next_u64())] += 1;
        }
        for (c, w) in counts.iter().zip(weights) {
            let expected = n as f64 * w;
            let sd = (n as f64 * w * (1.0 - w)).sqrt();
            assert!(
                (*c as f64 - expected).abs() < 5.0 * sd,
                "{counts:?} against {weights:?}"
            );
        }
        // A weight of 0 is never picked, even at the ends of a column.
        let b = Alias::new(&[1.0, 0.0, 1.0]).unwrap();
        for bits in [0, 1, u64::MAX / 3, u64::MAX / 3 + 1, u64::MAX / 2, u64::MAX] {
            assert_ne!(b.pick(bits), 1, "draw {bits}");
        }
    }

    #[test]
    fn bad_weights_are_refused() {
        assert_eq!(
            Alias::new(&[]).unwrap_err(),
            "an alias table needs 1 to 2^32 weights, got 0"
        );
        assert_eq!(
            Alias::new(&[1.0, -1.0]).unwrap_err(),
            "weights must be finite and at least 0, got -1"
        );
        assert_eq!(
            Alias::new(&[0.0, 0.0]).unwrap_err(),
            "weights must have a positive, finite sum, got 0"
        );
        assert_eq!(
            Alias::new(&[f64::MAX, f64::MAX]).unwrap_err(),
            "weights must have a positive, finite sum, got inf"
        );
    }
}
