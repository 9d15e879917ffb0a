//! The self-sizing pool's test helpers: a pool with a stop hook that counts
//! the workers that left, and waits on it.

use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use worklight::{Summoning, WorkerInfo, WorkerPool};

use super::gate::{GUARD, Gate, Tally};

/// Counts the workers that left, through the `on_worker_stop` hook.
pub(crate) struct Stops {
    rx: Receiver<usize>,
    seen: usize,
}

impl Stops {
    pub(crate) fn hook() -> (impl Fn(&WorkerInfo) + Send + Sync, Stops) {
        let (tx, rx) = unbounded();
        let hook = move |w: &WorkerInfo| _ = tx.send(w.index());
        (hook, Stops { rx, seen: 0 })
    }

    /// Waits until `total` workers have left since the pool was built.
    pub(crate) fn wait_total(&mut self, total: u64) {
        while (self.seen as u64) < total {
            let stopped = self.rx.recv_timeout(GUARD);
            stopped.expect("a worker did not stop");
            self.seen += 1;
        }
    }

    /// With no put under way, waits until the pool has shrunk to `min`:
    /// every worker spawned so far but `min` has left.
    pub(crate) fn wait_shrunk<T: Send + 'static>(&mut self, pool: &WorkerPool<T>, min: usize) {
        self.wait_total(pool.metrics().spawned - min as u64);
        assert_eq!(pool.poolsize(), min);
        let m = pool.metrics();
        assert_eq!((m.alive, m.retired), (min, m.spawned - min as u64));
    }
}

/// A self-sizing pool of `usize` jobs with a stop hook.
pub(crate) fn sizing(policy: Summoning) -> (WorkerPool<usize>, Stops) {
    let (hook, stops) = Stops::hook();
    let pool = WorkerPool::builder()
        .summoning(policy)
        .on_worker_stop(hook)
        .build()
        .unwrap();
    (pool, stops)
}

/// Bounded wait for a state no event announces; fails after `GUARD`.
pub(crate) fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + GUARD;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Puts 10 held jobs on a pool sized 1..=3: every worker holds one, seven
/// are queued.
pub(crate) fn hold_at_max(pool: &WorkerPool<usize>, gate: &Gate, tally: &Tally) {
    tally.put_held(pool, gate);
    assert_eq!(pool.poolsize(), 3);
    gate.wait_started(3);
    assert_eq!(pool.inbox.len(), 7);
}
