//! What the jobs compute, and the checks that every run computed it.

use std::time::Duration;

/// The tiny job: cheap, but not free to optimise away.
pub(crate) fn tiny(i: u64) -> u64 {
    3 * i + 1
}

/// Σ tiny(i) for i in 0..n, in closed form.
pub(crate) fn tiny_sum(n: u64) -> u64 {
    3 * (n * (n - 1) / 2) + n
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
    fn tiny_sum_is_the_sum() {
        for n in [1, 2, 7, 1000] {
            assert_eq!(tiny_sum(n), (0..n).map(tiny).sum::<u64>());
        }
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
