//! Owen-scrambled Sobol points: the fast path's sample design.
//!
//! **Why.** The fast path estimates each policy's expected cost and quality
//! from a fixed sample. A Latin hypercube removes the variance of each
//! input's own effect, but not of their interactions, and a routed cost is
//! an interaction: tokens times the price of a model picked by difficulty
//! and coin flips. Scrambled Sobol points are stratified in every
//! low-dimensional projection at once, so interactions average out too;
//! measured on the shipped scenarios, half the sample reaches a smaller
//! sampling error than the Latin hypercube had on 21 of their 23 policies
//! (the note of the speed issue).
//!
//! **How.** Sobol' sequence in 8 dimensions (direction numbers of Joe and
//! Kuo, `new-joe-kuo-6.21201`, dimensions 1 to 8), each coordinate
//! scrambled by a hash-based nested uniform (Owen) scramble with its own
//! seed (Burley, "Practical Hash-based Owen Scrambling", JCGT 9(4), 2020).
//! Each block of the sample draws fresh seeds, so blocks are independent
//! randomisations and the spread of their means is an unbiased measure of
//! the sample's error. The 32 bits a point carries are completed to a
//! continuous uniform with a random low part.

use rand::Rng;

/// Dimensions available.
pub const DIMS: usize = 8;

/// Primitive polynomial degree `s`, coefficients `a` and initial direction
/// integers `m` for dimensions 2..=8 (dimension 1 is the van der Corput
/// sequence): Joe and Kuo, new-joe-kuo-6.21201.
const JOE_KUO: [(u32, u32, [u32; 5]); DIMS - 1] = [
    (1, 0, [1, 0, 0, 0, 0]),
    (2, 1, [1, 3, 0, 0, 0]),
    (3, 1, [1, 3, 1, 0, 0]),
    (3, 2, [1, 1, 1, 0, 0]),
    (4, 1, [1, 1, 3, 3, 0]),
    (4, 4, [1, 3, 5, 13, 0]),
    (5, 2, [1, 1, 5, 5, 17]),
];

/// Direction numbers, 32 per dimension.
fn directions() -> [[u32; 32]; DIMS] {
    let mut v = [[0u32; 32]; DIMS];
    for (j, x) in v[0].iter_mut().enumerate() {
        *x = 1u32 << (31 - j);
    }
    for (d, &(s, a, m)) in JOE_KUO.iter().enumerate() {
        let s = s as usize;
        let dir = &mut v[d + 1];
        for j in 0..32 {
            dir[j] = if j < s {
                m[j] << (31 - j)
            } else {
                let mut x = dir[j - s] ^ (dir[j - s] >> s);
                for k in 1..s {
                    if (a >> (s - 1 - k)) & 1 == 1 {
                        x ^= dir[j - k];
                    }
                }
                x
            };
        }
    }
    v
}

/// A hash standing in for a random nested permutation of the bits, applied
/// to the bit-reversed value so it works from the top bit down (Vegdahl's
/// improvement of Burley's Laine–Karras hash, "Building a Better LK Hash",
/// psychopath.io, 2021).
#[inline]
fn laine_karras(mut x: u32, seed: u32) -> u32 {
    x ^= x.wrapping_mul(0x3d20_adea);
    x = x.wrapping_add(seed);
    x = x.wrapping_mul((seed >> 16) | 1);
    x ^= x.wrapping_mul(0x0552_6c56);
    x ^= x.wrapping_mul(0x53a2_2864);
    x
}

/// The Owen scramble of `x`, given `x` with its bits reversed.
#[inline]
fn owen_scramble_reversed(reversed: u32, seed: u32) -> u32 {
    laine_karras(reversed, seed).reverse_bits()
}

/// `n` scrambled Sobol points in [0, 1)^DIMS, one randomisation drawn from `rng`.
pub fn scrambled_points<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; DIMS]> {
    // The points are kept with their bits reversed, as the scramble takes
    // them: reversing is linear over XOR, so the reversed directions build
    // the reversed points (one reversal a coordinate saved; x86 has no
    // instruction for it).
    let v = directions().map(|dir| dir.map(u32::reverse_bits));
    let seeds: [u32; DIMS] = std::array::from_fn(|_| rng.next_u32());
    let mut x = [0u32; DIMS];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            // Gray-code order: point i differs from point i − 1 in the
            // direction of i's lowest set bit.
            let c = (i as u32).trailing_zeros() as usize;
            for d in 0..DIMS {
                x[d] ^= v[d][c];
            }
        }
        out.push(std::array::from_fn(|d| {
            let hi = owen_scramble_reversed(x[d], seeds[d]) as f64;
            let lo = (rng.next_u32() as f64 + 0.5) * (1.0 / 4_294_967_296.0);
            (hi + lo) * (1.0 / 4_294_967_296.0)
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Stream;

    #[test]
    fn unscrambled_points_are_the_sobol_sequence() {
        // Bratley and Fox's first points of dimensions 1-3.
        let v = directions();
        let mut x = [0u32; DIMS];
        let mut pts = Vec::new();
        for i in 0..4usize {
            if i > 0 {
                let c = (i as u32).trailing_zeros() as usize;
                for d in 0..DIMS {
                    x[d] ^= v[d][c];
                }
            }
            pts.push([x[0], x[1], x[2]].map(|b| b as f64 / 4_294_967_296.0));
        }
        // Gray-code order of 0, 1/2, 3/4, 1/4 (dim 1), 0, 1/2, 1/4, 3/4 (dim 2) ...
        assert_eq!(pts[1], [0.5, 0.5, 0.5]);
        assert_eq!(pts[2], [0.75, 0.25, 0.25]);
        assert_eq!(pts[3], [0.25, 0.75, 0.75]);
    }

    #[test]
    fn points_are_stratified_in_one_and_two_dimensions() {
        // The first two dimensions form a (0, m, 2)-net: with 2^10 points,
        // each of the 2^10 cells of a 32 x 32 grid holds exactly one point,
        // scrambled or not.
        let n = 1024;
        let pts = scrambled_points(n, &mut Stream::Sample { workload: 0 }.generator(7));
        for (a, b) in [(0, 1)] {
            let mut seen = vec![false; n];
            for p in &pts {
                let cell = (p[a] * 32.0) as usize * 32 + (p[b] * 32.0) as usize;
                assert!(
                    !seen[cell],
                    "dimensions {a} and {b}: two points in cell {cell}"
                );
                seen[cell] = true;
            }
        }
        // Every dimension alone: one point in each of the n strata.
        for d in 0..DIMS {
            let mut seen = vec![false; n];
            for p in &pts {
                let s = (p[d] * n as f64) as usize;
                assert!(!seen[s], "dimension {d}: two points in stratum {s}");
                seen[s] = true;
            }
        }
    }
}
