//! Counters, and the snapshot a caller reads.
//!
//! Each worker counts its own jobs in a cache-line-padded [`WorkerStats`]
//! that only it writes (a load and a store, no lock and no shared cache line
//! on the hot path). A snapshot sums the live workers' counters and those of
//! workers that left, under the registry lock — taken at worker start and
//! exit and by snapshots, never per job.

use std::sync::atomic::Ordering::Relaxed;

use crossbeam_utils::CachePadded;

use crate::sync::{Arc, AtomicU8, AtomicU64, AtomicUsize, Mutex};

pub(crate) const IDLE: u8 = 0;
pub(crate) const BUSY: u8 = 1;

/// One worker's counters; written only by that worker.
#[derive(Debug, Default)]
pub(crate) struct WorkerStats {
    pub(crate) state: AtomicU8,
    completed: AtomicU64,
    failed: AtomicU64,
    panicked: AtomicU64,
}

impl WorkerStats {
    /// Single-writer increment: a plain load and store, no locked RMW.
    #[inline]
    fn bump(counter: &AtomicU64) {
        counter.store(counter.load(Relaxed) + 1, Relaxed);
    }
    #[inline]
    pub(crate) fn completed(&self) {
        Self::bump(&self.completed);
    }
    pub(crate) fn failed(&self) {
        Self::bump(&self.failed);
    }
    pub(crate) fn panicked(&self) {
        Self::bump(&self.panicked);
    }
}

#[derive(Debug, Default)]
struct Registry {
    live: Vec<Arc<CachePadded<WorkerStats>>>,
    left: Totals,
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    completed: u64,
    failed: u64,
    panicked: u64,
}

/// Pool-wide counters.
#[derive(Debug, Default)]
pub(crate) struct PoolStats {
    registry: Mutex<Registry>,
    pub(crate) handed_back: AtomicU64,
    pub(crate) discarded: AtomicU64,
    pub(crate) box_panics: AtomicU64,
    pub(crate) spawned: AtomicU64,
    pub(crate) retired: AtomicU64,
    pub(crate) setup_failures: AtomicU64,
    pub(crate) high_water: AtomicUsize,
}

impl PoolStats {
    pub(crate) fn join(&self) -> Arc<CachePadded<WorkerStats>> {
        let stats = Arc::new(CachePadded::new(WorkerStats::default()));
        self.registry.lock().live.push(Arc::clone(&stats));
        stats
    }

    pub(crate) fn leave(&self, stats: &Arc<CachePadded<WorkerStats>>) {
        let mut reg = self.registry.lock();
        reg.live.retain(|s| !Arc::ptr_eq(s, stats));
        reg.left.completed += stats.completed.load(Relaxed);
        reg.left.failed += stats.failed.load(Relaxed);
        reg.left.panicked += stats.panicked.load(Relaxed);
    }

    /// Records a new pool size for the high-water mark.
    pub(crate) fn size_seen(&self, size: usize) {
        self.high_water.fetch_max(size, Relaxed);
    }

    pub(crate) fn snapshot(&self, base: Metrics) -> Metrics {
        let reg = self.registry.lock();
        let mut totals = reg.left;
        let mut busy = 0;
        for s in &reg.live {
            totals.completed += s.completed.load(Relaxed);
            totals.failed += s.failed.load(Relaxed);
            totals.panicked += s.panicked.load(Relaxed);
            busy += usize::from(s.state.load(Relaxed) == BUSY);
        }
        Metrics {
            busy,
            completed: totals.completed,
            failed: totals.failed,
            panicked: totals.panicked,
            handed_back: self.handed_back.load(Relaxed),
            discarded: self.discarded.load(Relaxed),
            box_panics: self.box_panics.load(Relaxed),
            spawned: self.spawned.load(Relaxed),
            retired: self.retired.load(Relaxed),
            setup_failures: self.setup_failures.load(Relaxed),
            high_water: self.high_water.load(Relaxed),
            ..base
        }
    }
}

/// A snapshot of a pool's workers and jobs, from [`Pool::metrics`](crate::Pool::metrics).
///
/// Each field is read separately without stopping the pool, so under load
/// the fields may disagree by the jobs that moved while it was taken; once
/// the pool is idle (and each worker has seen the last pause or resume)
/// or exiled they are exact. Counts are since the pool was
/// built.
///
/// ```
/// let pool = worklight::WorkerPool::<()>::new(2).unwrap();
/// pool.inbox.put(|| ()).unwrap();
/// pool.inbox.put(|| panic!()).unwrap();
/// pool.exile().unwrap();
/// let m = pool.metrics();
/// assert_eq!((m.completed, m.panicked, m.alive), (1, 1, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Workers the pool counts now: started, not left, not banished
    /// (what [`poolsize`](crate::Pool::poolsize) returns).
    pub alive: usize,
    /// Workers running a job now, banished ones finishing their last job
    /// included: just after a [`banish`](crate::Pool::banish) of busy
    /// workers, `busy` may exceed `alive`.
    pub busy: usize,
    /// Workers held by [`pause`](crate::Pool::pause) now. A worker counts
    /// once it has seen the pause: a sleeping one is woken for it, a busy
    /// one sees it after its job, so right after `pause` it may still
    /// count as idle or busy.
    pub paused: usize,
    /// Workers waiting for a job now: `alive - busy - paused`, at least 0.
    pub idle: usize,
    /// Jobs waiting to be started: on the inbox's queue, or taken off it in
    /// a worker's batch and not started yet (as [`Inbox::len`](crate::Inbox::len)).
    pub queued: usize,
    /// Jobs being run now (equal to `busy`).
    pub running: usize,
    /// Jobs that returned a value: delivered to the outbox, discarded
    /// because its reader was gone, or lost to a panic of a caller-supplied
    /// outbox (reported on the errbox as [`Cause::OutboxPanic`](crate::Cause::OutboxPanic)).
    /// `completed + failed + panicked` counts every job run.
    pub completed: u64,
    /// Jobs that returned an error (reported on the errbox).
    pub failed: u64,
    /// Jobs that panicked (reported on the errbox).
    pub panicked: u64,
    /// Jobs taken off the inbox unrun: handed back to the caller by an
    /// immediate or timed-out exile, or in an exile's
    /// [`Spawn`](crate::ExileError::Spawn) or
    /// [`Stranded`](crate::ExileError::Stranded) error (or dropped, where
    /// the `Pool` docs say a drop does so).
    pub handed_back: u64,
    /// Results and reports dropped because a caller-supplied box's reader
    /// was gone.
    pub discarded: u64,
    /// Panics raised by caller-supplied boxes.
    pub box_panics: u64,
    /// Worker threads started since the pool was built.
    pub spawned: u64,
    /// Workers that left before exile: banished, or shrunk by a self-sizing
    /// pool.
    pub retired: u64,
    /// Worker setups that failed (returned an error or panicked).
    pub setup_failures: u64,
    /// The largest pool size seen.
    pub high_water: usize,
}
