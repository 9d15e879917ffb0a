//! The self-sizing pool's policy.
//!
//! # The policy as a state machine
//!
//! The pool's size `n` (workers started and not retired) moves between
//! `min` and `max`:
//!
//! | state | event | action |
//! | --- | --- | --- |
//! | running, `n < max` | a put leaves `queued > ratio × n`, or finds a bounded inbox full, or `n == 0` | start `min(rate, max − n)` workers, from the putting thread, before `put` returns; at the first the OS refuses to start, give the other places back (the next put tries again) |
//! | running, `n > min` | a worker has waited `keep_alive` with the inbox empty | that worker retires |
//! | running | `summon(k)` / `banish(k)` | clamped to stay within `min..=max` |
//! | paused | a put | no growth (the workers could not take the jobs); `resume` re-checks, in the lock acquisition that lifts the pause |
//! | starting, on a shared inbox | jobs already queued | as if they had just been put |
//! | exiled | — | no growth; an exile works the inbox off as in any pool |
//!
//! Growth is decided under the inbox lock, where the new workers' places
//! are reserved before the lock is released: concurrent puts can never take
//! the pool past `max`. A banished worker still finishing its job keeps
//! its place until it has left its job (an exile may cancel its banish,
//! and keep it). So `max` bounds the workers that can take jobs. It does
//! not bound the threads: a worker that has left may still be running its
//! teardown and stop hook while a new one starts in its place, so a
//! resource held in the worker state (a connection opened by
//! `worker_setup`, closed by `worker_teardown`) can briefly number one more
//! per leaving worker. A worker retires only while the inbox is empty and
//! only down to `min`; with `min == 0` the next put starts a worker again.
//! So while a job is queued, a worker exists or is being started. Idle
//! workers at `min` sleep without a timeout: an idle pool does not wake up
//! to look at itself.
//!
//! No pool counts more than [`Summoning::MAX_WORKERS`] workers: a larger
//! `max` is taken as that ceiling (so `usize::MAX` means no limit of the
//! pool's own), a larger `min` is refused at build, and a `rate` is never
//! more than `max`. The ceiling is half of what the pool's packed worker
//! count holds (see `control.rs`); the other half is headroom for banished
//! workers not yet gone and for the places `summon` and the exile reserve
//! one by one, each for a thread the OS must start.

use std::time::Duration;

use crate::error::BuildError;

/// The self-sizing policy: see [`Builder::summoning`](crate::Builder::summoning).
///
/// ```
/// use std::time::Duration;
/// use worklight::Summoning;
/// let policy = Summoning::new(1, 8).ratio(2).rate(2).keep_alive(Duration::from_secs(5));
/// assert_eq!((policy.min(), policy.max()), (1, 8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "a policy does nothing until given to `Builder::summoning`"]
pub struct Summoning {
    min: usize,
    max: usize,
    ratio: usize,
    rate: usize,
    keep_alive: Duration,
}

impl Summoning {
    /// The most workers a self-sizing pool may have: 2³¹ − 1, far more
    /// than any system can start. A larger `max` is taken as this.
    ///
    /// ```
    /// use worklight::Summoning;
    /// assert_eq!(Summoning::new(0, usize::MAX).max(), Summoning::MAX_WORKERS);
    /// ```
    pub const MAX_WORKERS: usize = (u32::MAX / 2) as usize;

    /// Between `min` and `max` workers; grows by one worker whenever more
    /// than one job per worker is queued; a surplus worker retires after
    /// 10 s idle. A `max` above [`MAX_WORKERS`](Self::MAX_WORKERS) (say
    /// `usize::MAX`, for no limit of the pool's own) is taken as that
    /// ceiling; a `min` above it is refused at build.
    ///
    /// ```
    /// let p = worklight::Summoning::new(2, 16);
    /// assert_eq!((p.min(), p.max()), (2, 16));
    /// ```
    pub fn new(min: usize, max: usize) -> Self {
        Summoning {
            min,
            max: max.min(Self::MAX_WORKERS),
            ratio: 1,
            rate: 1,
            keep_alive: Duration::from_secs(10),
        }
    }

    /// Grow when a put leaves more than `ratio` jobs per worker queued (or
    /// finds a bounded inbox full, whatever the ratio). 0
    /// grows on every put that leaves its job queued, which is nearly every
    /// put (a job waits on the queue until a worker takes it, even an idle
    /// one): the pool grows to `max` at its first puts and shrinks back
    /// only by the keep-alive.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::builder()
    ///     .summoning(worklight::Summoning::new(1, 4).ratio(0))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.poolsize(), 1);
    /// ```
    pub fn ratio(mut self, ratio: usize) -> Self {
        self.ratio = ratio;
        self
    }

    /// Workers started per growth step (at least 1; never more than
    /// `max` allows).
    ///
    /// ```
    /// let bad = worklight::WorkerPool::<()>::builder()
    ///     .summoning(worklight::Summoning::new(1, 4).rate(0))
    ///     .build();
    /// assert!(matches!(bad, Err(worklight::BuildError::Invalid(_))));
    /// ```
    pub fn rate(mut self, rate: usize) -> Self {
        self.rate = rate;
        self
    }

    /// How long a surplus worker waits idle before it retires. A duration
    /// too long for the clock to count (`Duration::MAX`) means never.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = worklight::Summoning::new(0, 4).keep_alive(Duration::from_millis(250));
    /// assert_eq!(p.max(), 4);
    /// ```
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// The fewest workers.
    ///
    /// ```
    /// assert_eq!(worklight::Summoning::new(1, 3).min(), 1);
    /// ```
    pub fn min(&self) -> usize {
        self.min
    }

    /// The most workers.
    ///
    /// ```
    /// assert_eq!(worklight::Summoning::new(1, 3).max(), 3);
    /// ```
    pub fn max(&self) -> usize {
        self.max
    }

    /// The idle keep-alive.
    pub(crate) fn keep_alive_for(&self) -> Duration {
        self.keep_alive
    }

    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.max == 0 {
            return Err(BuildError::ZeroWorkers);
        }
        if self.min > Self::MAX_WORKERS {
            return Err(BuildError::Invalid(
                "summoning: min is above Summoning::MAX_WORKERS",
            ));
        }
        if self.min > self.max {
            return Err(BuildError::Invalid("summoning: min is above max"));
        }
        if self.rate == 0 {
            return Err(BuildError::Invalid("summoning: rate must be at least 1"));
        }
        Ok(())
    }

    /// How many workers to add for `queued` jobs and a pool of `size`.
    pub(crate) fn growth(&self, queued: usize, size: usize) -> usize {
        if size >= self.max || queued == 0 {
            return 0;
        }
        if size > 0 && queued <= self.ratio.saturating_mul(size) {
            return 0;
        }
        self.rate.min(self.max - size)
    }

    /// How many workers to add over `steps` growth steps (one per job a put
    /// queued): each step adds `rate` while the ratio is crossed.
    pub(crate) fn growth_steps(&self, queued: usize, size: usize, steps: usize) -> usize {
        let mut grown = 0;
        for _ in 0..steps {
            let n = self.growth(queued, size + grown);
            if n == 0 {
                break;
            }
            grown += n;
        }
        grown
    }

    /// Clamps a manual `summon(n)` to stay at or under `max`.
    pub(crate) fn clamp_summon(&self, n: usize, size: usize) -> usize {
        n.min(self.max.saturating_sub(size))
    }

    /// Clamps a manual `banish(n)` to stay at or above `min`.
    pub(crate) fn clamp_banish(&self, n: usize, size: usize) -> usize {
        n.min(size.saturating_sub(self.min))
    }
}

#[cfg(test)]
mod tests {
    use super::Summoning;

    #[test]
    fn growth_follows_the_ratio_and_the_bounds() {
        let p = Summoning::new(0, 4).ratio(2).rate(3);
        assert_eq!(p.growth(1, 0), 3, "an empty pool always grows");
        assert_eq!(p.growth(0, 0), 0, "nothing queued, no growth");
        assert_eq!(p.growth(2, 1), 0, "at the ratio, no growth");
        assert_eq!(p.growth(3, 1), 3, "above the ratio, grow by rate");
        assert_eq!(p.growth(100, 3), 1, "never past max");
        assert_eq!(p.growth(100, 4), 0);
        assert_eq!(p.clamp_summon(10, 3), 1);
        assert_eq!(Summoning::new(2, 4).clamp_banish(10, 3), 1);
        // A put_all of 64 jobs (or a resume with 64 queued) is 64 steps:
        // it grows as far as the ratio asks, up to max.
        let p = Summoning::new(0, 8);
        assert_eq!(p.growth_steps(64, 0, 64), 8);
        assert_eq!(
            p.growth_steps(3, 0, 3),
            3,
            "ratio 1: a worker per queued job"
        );
        assert_eq!(p.growth_steps(64, 0, 1), 1, "one put is one step");
    }

    #[test]
    fn max_is_clamped_to_the_ceiling_and_rate_to_max() {
        let p = Summoning::new(0, usize::MAX).rate(usize::MAX);
        assert_eq!(p.max(), Summoning::MAX_WORKERS);
        assert_eq!(p.growth(1, 0), Summoning::MAX_WORKERS);
        assert_eq!(p.growth_steps(usize::MAX, 0, usize::MAX), p.max());
        assert_eq!(p.growth(1, Summoning::MAX_WORKERS), 0);
        assert!(p.validate().is_ok());
        let min = Summoning::new(Summoning::MAX_WORKERS + 1, usize::MAX);
        assert!(min.validate().is_err(), "a min past the ceiling");
    }
}
