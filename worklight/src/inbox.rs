//! The inbox: the queue of jobs that one or more pools' workers take from.
//!
//! # Protocol
//!
//! One lock (`Shared::state`) guards the queue and everything that decides
//! whether a worker may sleep: the queue itself, `closed`, the counts of
//! sleepers and blocked putters, and — through the pool's [`Control`], whose
//! fields are only written while this lock is held — each pool's mode, pause
//! flag, banish tokens and active-worker count.
//!
//! Condition variables, all used with that lock:
//! - `ready`: idle workers wait here for a job. `put` wakes one sleeper; a
//!   worker that leaves while jobs remain passes the wake-up on.
//! - `space`: putters blocked on a full bounded inbox. A worker that takes a
//!   job wakes one; closing wakes all (they get their job back).
//! - `idle`: `wait_idle` callers, woken when `unfinished` reaches zero.
//! - each pool's `Control::wake`: its paused or staggered workers.
//!
//! A control change (pause, resume, banish, exile) writes the control fields
//! and notifies while holding the lock, so a worker either sees the change
//! before it sleeps or is asleep when the notification comes: no wake-up is
//! lost and nobody polls.
//!
//! `unfinished` counts jobs accepted and not yet finished (queued or
//! running). A worker finishes a job *after* its result or error landed, in
//! the same lock acquisition that takes its next job.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::control::{Control, Mode};
use crate::error::{BuildError, PutError, PutTimeoutError, TryPutError};
use crate::job::{IntoJob, JobId};
use crate::sync::{Arc, AtomicUsize, Condvar, Mutex, MutexGuard, Weak};
use std::sync::atomic::Ordering::Relaxed;

/// A self-sizing pool fed by an inbox: asked on every put whether to grow.
pub(crate) trait Grow: Send + Sync {
    /// Under the inbox lock: reserves places for new workers, given the
    /// number of queued jobs; returns how many.
    fn reserve(&self, queued: usize) -> usize;
    /// After the lock is released: starts the reserved workers.
    fn grow(self: Arc<Self>, n: usize);
}

/// A job on the queue with the id `put` gave it.
pub(crate) struct Entry<I> {
    pub(crate) id: JobId,
    pub(crate) item: I,
}

pub(crate) struct State<I> {
    pub(crate) queue: VecDeque<Entry<I>>,
    capacity: Option<usize>,
    next_id: u64,
    unfinished: usize,
    pub(crate) closed: bool,
    /// Pools attached and not yet exiled; the last one to leave closes.
    pools: usize,
    sleeping: usize,
    putters: usize,
    idle_waiters: usize,
    /// Self-sizing pools fed by this inbox, by pool id.
    growers: Vec<(u64, Weak<dyn Grow>)>,
}

pub(crate) struct Shared<I> {
    state: Mutex<State<I>>,
    ready: Condvar,
    space: Condvar,
    idle: Condvar,
    /// Mirror of the queue's length, for metrics without the lock.
    len: AtomicUsize,
}

/// What a worker got from [`Inbox::take`].
pub(crate) enum Taken<I> {
    Job(Entry<I>),
    /// The worker must leave: exile, or a drained inbox at exile.
    Leave,
    /// The worker must leave: it was banished.
    Retire,
}

enum Wait {
    No,
    Forever,
    Until(Instant),
}

enum Refused {
    Full,
    Timeout,
    Closed,
}

/// A queue of jobs: where `put` leaves work for a pool's workers.
///
/// Every pool has one (`pool.inbox`). A caller may also make one and hand it
/// to several pools ([`Builder::inbox`](crate::Builder::inbox)), or feed it
/// from other threads: clones share the queue. Jobs are taken in the order
/// they were put. The inbox closes when the last pool it feeds is exiled;
/// after that every `put` hands its job back.
///
/// ```
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// let inbox = pool.inbox.clone();
/// std::thread::spawn(move || inbox.put(|| "from another thread").unwrap())
///     .join()
///     .unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.get(), Ok("from another thread"));
/// ```
pub struct Inbox<I> {
    shared: Arc<Shared<I>>,
}

impl<I> Clone for Inbox<I> {
    fn clone(&self) -> Self {
        Inbox {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<I> fmt::Debug for Inbox<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<I> Default for Inbox<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I> Inbox<I> {
    /// An unbounded inbox, to share between pools or feed from elsewhere.
    ///
    /// ```
    /// use worklight::{Inbox, Job, WorkerPool};
    /// let shared: Inbox<Job<'static, u32>> = Inbox::new();
    /// let a = WorkerPool::builder().workers(1).inbox(shared.clone()).build().unwrap();
    /// let b = WorkerPool::builder().workers(1).inbox(shared.clone()).build().unwrap();
    /// for i in 0..10 {
    ///     shared.put(move || i).unwrap();
    /// }
    /// a.exile().unwrap();
    /// b.exile().unwrap();
    /// let total: u32 = a.outbox.try_iter().chain(b.outbox.try_iter()).sum();
    /// assert_eq!(total, 45);
    /// ```
    pub fn new() -> Self {
        Self::with_capacity(None)
    }

    /// A bounded inbox: `put` blocks while it holds `capacity` jobs.
    ///
    /// ```
    /// use worklight::{BuildError, Inbox, Job};
    /// assert!(Inbox::<Job<'static, ()>>::bounded(4).is_ok());
    /// assert!(matches!(Inbox::<Job<'static, ()>>::bounded(0), Err(BuildError::ZeroCapacity)));
    /// ```
    pub fn bounded(capacity: usize) -> Result<Self, BuildError> {
        if capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        Ok(Self::with_capacity(Some(capacity)))
    }

    pub(crate) fn with_capacity(capacity: Option<usize>) -> Self {
        Inbox {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    capacity,
                    next_id: 0,
                    unfinished: 0,
                    closed: false,
                    pools: 0,
                    sleeping: 0,
                    putters: 0,
                    idle_waiters: 0,
                    growers: Vec::new(),
                }),
                ready: Condvar::new(),
                space: Condvar::new(),
                idle: Condvar::new(),
                len: AtomicUsize::new(0),
            }),
        }
    }

    /// Puts a job, waiting for room if the inbox is bounded and full.
    /// Returns the job's id; hands the job back if the inbox is closed.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// let id = pool.inbox.put(|| 2 + 2).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.get(), Ok(4));
    /// assert!(pool.inbox.put(|| 0).is_err());
    /// # let _ = id;
    /// ```
    pub fn put(&self, job: impl IntoJob<I>) -> Result<JobId, PutError<I>> {
        self.put_with(job.into_job(), Wait::Forever)
            .map_err(|(job, _)| PutError(job))
    }

    /// Puts a job if there is room now; hands it back if the inbox is full
    /// or closed.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
    /// assert!(pool.inbox.try_put(|| 1).is_ok());
    /// let full = pool.inbox.try_put(|| 2).unwrap_err();
    /// assert_eq!(full.into_inner().run(&mut ()).unwrap(), 2);
    /// ```
    pub fn try_put(&self, job: impl IntoJob<I>) -> Result<JobId, TryPutError<I>> {
        self.put_with(job.into_job(), Wait::No)
            .map_err(|(job, why)| match why {
                Refused::Closed => TryPutError::Closed(job),
                Refused::Full | Refused::Timeout => TryPutError::Full(job),
            })
    }

    /// Puts a job, waiting at most `timeout` for room; hands it back on
    /// timeout or if the inbox is closed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).build().unwrap();
    /// assert!(pool.inbox.put_timeout(|| 1, Duration::from_secs(5)).is_ok());
    /// ```
    pub fn put_timeout(
        &self,
        job: impl IntoJob<I>,
        timeout: Duration,
    ) -> Result<JobId, PutTimeoutError<I>> {
        let wait = match Instant::now().checked_add(timeout) {
            Some(deadline) => Wait::Until(deadline),
            None => Wait::Forever,
        };
        self.put_with(job.into_job(), wait)
            .map_err(|(job, why)| match why {
                Refused::Closed => PutTimeoutError::Closed(job),
                Refused::Full | Refused::Timeout => PutTimeoutError::Timeout(job),
            })
    }

    fn put_with(&self, item: I, wait: Wait) -> Result<JobId, (I, Refused)> {
        let sh = &*self.shared;
        let mut st = sh.state.lock();
        loop {
            if st.closed {
                return Err((item, Refused::Closed));
            }
            match st.capacity {
                Some(cap) if st.queue.len() >= cap => {}
                _ => break,
            }
            st.putters += 1;
            let timed_out = match wait {
                Wait::No => {
                    st.putters -= 1;
                    return Err((item, Refused::Full));
                }
                Wait::Forever => {
                    st = sh.space.wait(st);
                    false
                }
                Wait::Until(deadline) => {
                    let (g, t) = sh.space.wait_until(st, deadline);
                    st = g;
                    t
                }
            };
            st.putters -= 1;
            if timed_out && !st.closed && st.capacity.is_some_and(|c| st.queue.len() >= c) {
                return Err((item, Refused::Timeout));
            }
        }
        let id = JobId(st.next_id);
        st.next_id += 1;
        st.unfinished += 1;
        st.queue.push_back(Entry { id, item });
        sh.len.store(st.queue.len(), Relaxed);
        if st.sleeping > 0 {
            sh.ready.notify_one();
        }
        if !st.growers.is_empty() {
            let growth = Self::reserve_growth(&st);
            drop(st);
            for (pool, n) in growth {
                pool.grow(n);
            }
        }
        Ok(id)
    }

    /// Asks each self-sizing pool whether to grow (inbox lock held).
    fn reserve_growth(st: &State<I>) -> Vec<(Arc<dyn Grow>, usize)> {
        let mut growth = Vec::new();
        for (_, pool) in &st.growers {
            if let Some(pool) = pool.upgrade() {
                let n = pool.reserve(st.queue.len());
                if n > 0 {
                    growth.push((pool, n));
                }
            }
        }
        growth
    }

    /// Registers a self-sizing pool.
    pub(crate) fn add_grower(&self, id: u64, pool: Weak<dyn Grow>) {
        self.lock().growers.push((id, pool));
    }

    /// Asks the pool `id` whether to grow now (after a resume).
    pub(crate) fn nudge(&self, id: u64) {
        let st = self.lock();
        let pool = st
            .growers
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, w)| w.upgrade());
        let Some(pool) = pool else { return };
        let n = pool.reserve(st.queue.len());
        drop(st);
        if n > 0 {
            pool.grow(n);
        }
    }

    /// How many jobs wait to be taken now.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
    /// pool.inbox.put(|| ()).unwrap();
    /// assert_eq!(pool.inbox.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len.load(Relaxed)
    }

    /// Whether no job waits to be taken now.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// assert!(pool.inbox.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound, for a bounded inbox.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::builder().capacity(8).build().unwrap();
    /// assert_eq!(pool.inbox.capacity(), Some(8));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.shared.state.lock().capacity
    }

    /// Whether the inbox is closed: every pool it fed was exiled, and `put`
    /// now hands jobs back.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// assert!(!pool.inbox.is_closed());
    /// pool.exile().unwrap();
    /// assert!(pool.inbox.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().closed
    }

    // ---- crate-internal protocol -------------------------------------

    pub(crate) fn lock(&self) -> MutexGuard<'_, State<I>> {
        self.shared.state.lock()
    }

    /// A pool starts taking from this inbox.
    pub(crate) fn attach(&self) -> Result<(), BuildError> {
        let mut st = self.lock();
        if st.closed {
            return Err(BuildError::InboxClosed);
        }
        st.pools += 1;
        Ok(())
    }

    /// A pool stops taking from this inbox (called once per pool, under the
    /// lock, when its exile begins). The last pool closes the inbox.
    pub(crate) fn release(&self, st: &mut State<I>, id: u64) {
        st.growers.retain(|(i, _)| *i != id);
        st.pools -= 1;
        if st.pools == 0 {
            st.closed = true;
            self.shared.space.notify_all();
        }
    }

    /// A pool whose start failed stops taking from this inbox, leaving it
    /// open: its jobs belong to the caller or to other pools.
    pub(crate) fn release_open(&self, st: &mut State<I>, id: u64) {
        st.growers.retain(|(i, _)| *i != id);
        st.pools -= 1;
    }

    /// Wakes every sleeping worker of every pool (control changes).
    pub(crate) fn wake_all(&self) {
        self.shared.ready.notify_all();
    }

    /// Takes every queued job off, as not run (immediate exile).
    pub(crate) fn take_all(&self, st: &mut State<I>) -> Vec<I> {
        let items: Vec<I> = st.queue.drain(..).map(|e| e.item).collect();
        self.shared.len.store(0, Relaxed);
        self.finish_locked(st, items.len());
        if st.putters > 0 {
            self.shared.space.notify_all();
        }
        items
    }

    fn finish_locked(&self, st: &mut State<I>, n: usize) {
        st.unfinished -= n;
        if n > 0 && st.unfinished == 0 && st.idle_waiters > 0 {
            self.shared.idle.notify_all();
        }
    }

    /// Waits until every job accepted so far has finished. Returns false,
    /// without waiting further, if the pool `ctl` has no worker left to run
    /// the queued jobs (all banished, or every setup failed) and is not
    /// being exiled.
    pub(crate) fn wait_idle(&self, ctl: &Control) -> bool {
        let mut st = self.lock();
        while st.unfinished > 0 {
            let stranded = ctl.active.load(Relaxed) == 0 && !st.queue.is_empty();
            if stranded && ctl.mode() == Mode::Run {
                return false;
            }
            st.idle_waiters += 1;
            st = self.shared.idle.wait(st);
            st.idle_waiters -= 1;
        }
        true
    }

    /// A worker of the pool controlled by `ctl` finishes its previous job
    /// (if `finished`) and takes the next one, sleeping while there is none,
    /// or learns that it must leave. See the module docs for the protocol.
    pub(crate) fn take(&self, ctl: &Control, finished: bool) -> Taken<I> {
        let sh = &*self.shared;
        let mut st = sh.state.lock();
        if finished {
            self.finish_locked(&mut st, 1);
        }
        let mut spun = false;
        loop {
            let mode = ctl.mode();
            if mode == Mode::Now {
                return self.leave(ctl, st, Taken::Leave);
            }
            if ctl.take_retire_token() {
                // A self-sizing pool keeps its last worker while jobs wait.
                let last =
                    ctl.scaling.is_some() && ctl.active.load(Relaxed) == 1 && !st.queue.is_empty();
                if !last {
                    return self.leave(ctl, st, Taken::Retire);
                }
                ctl.clear_banish();
            }
            if mode == Mode::Run && ctl.is_paused() {
                ctl.paused_workers.fetch_add(1, Relaxed);
                st = ctl.wake.wait(st);
                ctl.paused_workers.fetch_sub(1, Relaxed);
                continue;
            }
            if let Some(entry) = st.queue.pop_front() {
                sh.len.store(st.queue.len(), Relaxed);
                if st.putters > 0 {
                    sh.space.notify_one();
                }
                return Taken::Job(entry);
            }
            if mode == Mode::Drain {
                return self.leave(ctl, st, Taken::Leave);
            }
            if let Some(policy) = ctl.scaling.filter(|p| ctl.poolsize() > p.min()) {
                // A surplus worker waits at most the keep-alive, then retires
                // if there is still nothing to do.
                st.sleeping += 1;
                let (g, timed_out) = sh
                    .ready
                    .wait_until(st, Instant::now() + policy.keep_alive_for());
                st = g;
                st.sleeping -= 1;
                let surplus = ctl.poolsize() > policy.min();
                if timed_out
                    && surplus
                    && st.queue.is_empty()
                    && ctl.mode() == Mode::Run
                    && !ctl.is_paused()
                {
                    return self.leave(ctl, st, Taken::Retire);
                }
                continue;
            }
            if !spun {
                // A job often comes within a microsecond: spin briefly
                // before parking, so that a steady stream of puts does not
                // pay a wake-up per job.
                spun = true;
                drop(st);
                self.spin_for_work(ctl);
                st = sh.state.lock();
                continue;
            }
            st.sleeping += 1;
            st = sh.ready.wait(st);
            st.sleeping -= 1;
            spun = false;
        }
    }

    /// Spins, then yields, for a bounded while until a job is queued or the
    /// pool leaves `Run` (read without the lock; `take` re-checks under it).
    #[cfg(not(loom))]
    fn spin_for_work(&self, ctl: &Control) {
        const SPINS: u32 = 64;
        const YIELDS: u32 = 8;
        for i in 0..SPINS + YIELDS {
            if self.shared.len.load(Relaxed) > 0 || ctl.mode() != Mode::Run {
                return;
            }
            if i < SPINS {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Under loom every interleaving is explored anyway: no spinning.
    #[cfg(loom)]
    fn spin_for_work(&self, _ctl: &Control) {}

    /// Leaves the pool: no longer counted active. If jobs remain and another
    /// worker sleeps, it gets the wake-up this one may have consumed.
    pub(crate) fn leave(
        &self,
        ctl: &Control,
        st: MutexGuard<'_, State<I>>,
        how: Taken<I>,
    ) -> Taken<I> {
        let active = ctl.active.fetch_sub(1, Relaxed) - 1;
        if !st.queue.is_empty() {
            if st.sleeping > 0 {
                self.shared.ready.notify_one();
            }
            if active == 0 && st.idle_waiters > 0 {
                // `wait_idle` callers learn that no worker is left.
                self.shared.idle.notify_all();
            }
        }
        how
    }

/// Waits on the pool's own condition variable until `deadline` (a
    /// staggered worker's delay), or until an immediate exile: a draining
    /// exile keeps the ramp-up, so that worker k still takes its first job
    /// no earlier than k × stagger.
    pub(crate) fn stagger(&self, ctl: &Control, deadline: Instant) {
        let mut st = self.lock();
        while ctl.mode() != Mode::Now {
            let (g, timed_out) = ctl.wake.wait_until(st, deadline);
            st = g;
            if timed_out {
                break;
            }
        }
    }
}
