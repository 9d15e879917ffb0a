//! What the jobs compute, and the checks that every run computed it.

use std::time::Duration;

/// The tiny job: cheap (a multiply, a shift, an xor), but not free to
/// optimise away. Its results are never 0 and not linear in `i` (they look
/// random, below 2^32), so a checksum of their sum catches a lost job, and
/// cannot balance lost jobs against duplicated ones as a sum linear in `i`
/// could (losing `i` and `j` while running `k` and `l` twice, with
/// `i + j == k + l`). Sums of up to 2^32 results cannot overflow.
pub(crate) fn tiny(i: u64) -> u64 {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x ^ (x >> 29)) >> 32) + 1
}

/// Σ tiny(i) for i in 0..n, computed serially, outside any timing.
pub(crate) fn tiny_sum(n: u64) -> u64 {
    (0..n).map(tiny).sum()
}

/// The CPU-bound job: `iters` rounds of a 64-bit mixer seeded with
/// `seed`, a serial dependency chain the compiler cannot shortcut.
pub(crate) fn spin(seed: u64, iters: u32) -> u64 {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    for _ in 0..std::hint::black_box(iters) {
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
    }
    x
}

/// Fails the whole benchmark, loudly, if a run computed the wrong thing.
pub(crate) fn check(workload: &str, peer: &str, got: u64, expected: u64) {
    assert_eq!(
        got, expected,
        "CHECKSUM MISMATCH in workload ({workload}) for {peer}: got {got}, expected {expected}"
    );
}

/// Nanoseconds per item.
pub(crate) fn ns_per(elapsed: Duration, n: u64) -> f64 {
    elapsed.as_nanos() as f64 / n as f64
}

/// Microseconds per item.
pub(crate) fn us_per(elapsed: Duration, n: u64) -> f64 {
    ns_per(elapsed, n) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_is_never_zero_and_a_lost_job_balanced_by_a_duplicate_shows() {
        assert!((0..100_000).all(|i| (1..=1 << 32).contains(&tiny(i))));
        // Lose 1 and 2, run 0 and 3 twice: the same sum for 3i + 1.
        let linear = |i: u64| 3 * i + 1;
        assert_eq!(linear(1) + linear(2), linear(0) + linear(3));
        assert_ne!(tiny(1) + tiny(2), tiny(0) + tiny(3));
        assert_eq!(tiny_sum(4), tiny(0) + tiny(1) + tiny(2) + tiny(3));
    }

    #[test]
    fn spin_depends_on_seed_and_iterations() {
        assert_ne!(spin(1, 10), spin(2, 10));
        assert_ne!(spin(1, 10), spin(1, 11));
        assert_eq!(spin(5, 100), spin(5, 100));
    }

    #[test]
    #[should_panic(expected = "CHECKSUM MISMATCH")]
    fn check_fails_loudly() {
        check("x", "peer", 1, 2);
    }
}
