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
//! - `ready`: idle workers wait here for a job. `put` wakes one sleeper
//!   per job beyond the workers spinning with the lock released (each of
//!   those is bound to take the lock again and find a job before it
//!   sleeps); a worker that takes a job and leaves work queued, or that
//!   leaves while jobs remain, passes the wake-up on.
//! - `space`: putters blocked on a full bounded inbox. A worker that takes a
//!   job wakes one; closing wakes all (they get their job back).
//! - `idle`: `wait_idle` callers, woken when `unfinished` reaches zero.
//! - each pool's `Control::wake`: its paused or staggered workers.
//!
//! A control change (pause, resume, banish, exile) writes the control fields
//! and reads the number of sleepers while holding the lock, then notifies
//! with it released: a worker either sees the change under the lock before
//! it would sleep, or was already asleep and is counted, and so gets a
//! notification of its own (`Inbox::wake_all`; a closing `notify_all`
//! covers a worker of another pool that began to wait meanwhile and took
//! one). No wake-up is lost and nobody polls.
//!
//! `unfinished` counts jobs accepted and not yet finished (queued or
//! running). A worker finishes a job *after* its result or error landed, in
//! the same lock acquisition that takes its next job.
//!
//! The two sides have files of their own: `put.rs` for the putters, and
//! `take.rs` for the workers.

use std::fmt;

use crate::error::BuildError;
use crate::job::JobId;
use crate::queue::Queue;
use crate::sync::{Arc, AtomicUsize, Condvar, Mutex, MutexGuard, Weak};
use crate::take::Slot;
use std::sync::atomic::Ordering::Relaxed;

/// What a put that finds a bounded inbox full reports as queued when it
/// asks a self-sizing pool to grow: more than any ratio but `usize::MAX`
/// (which, times the workers, saturates there) can count.
pub(crate) const FULL: usize = usize::MAX;

/// A self-sizing pool fed by an inbox: asked on every put whether to grow.
pub(crate) trait Grow: Send + Sync {
    /// Under the inbox lock: reserves places for new workers, given the
    /// number of queued jobs (`usize::MAX` from a put that found a bounded
    /// inbox full: more than any ratio); returns how many.
    /// `steps` is how many growth steps the event counts for: the jobs a
    /// put queued, or every queued job on a resume.
    fn reserve(&self, queued: usize, steps: usize) -> usize;
    /// After the lock is released: starts the reserved workers.
    fn grow(self: Arc<Self>, n: usize);
}

/// A job on the queue with the id `put` gave it.
pub(crate) struct Entry<I> {
    pub(crate) id: JobId,
    pub(crate) item: I,
}

impl<I> State<I> {
    /// Jobs waiting to be started: on the queue, or taken by a worker in a
    /// batch and not yet started.
    pub(crate) fn unstarted(&self) -> usize {
        self.queue.len() + self.slots.iter().map(|s| s.len()).sum::<usize>()
    }
}

pub(crate) struct State<I> {
    pub(crate) queue: Queue<Entry<I>>,
    pub(crate) capacity: Option<usize>,
    pub(crate) next_id: u64,
    pub(crate) unfinished: usize,
    pub(crate) closed: bool,
    /// Pools attached and not yet exiled; the last one to leave closes.
    pools: usize,
    pub(crate) sleeping: usize,
    /// Workers spinning with the lock released, bound to look at the queue
    /// again before they sleep (see `take.rs`).
    pub(crate) spinning: usize,
    pub(crate) putters: usize,
    idle_waiters: usize,
    /// Workers held by a stagger past the clock's range, of every pool fed
    /// by the inbox: counted active, but they take no job until an exile.
    pub(crate) held: usize,
    /// Self-sizing pools fed by this inbox, by pool id.
    pub(crate) growers: Vec<(u64, Weak<dyn Grow>)>,
    /// The slots of the workers taking from this inbox (see `take.rs`).
    pub(crate) slots: Vec<Arc<Slot<I>>>,
}

pub(crate) struct Shared<I> {
    pub(crate) state: Mutex<State<I>>,
    pub(crate) ready: Condvar,
    pub(crate) space: Condvar,
    idle: Condvar,
    /// Mirror of the queue's length, read without the lock by spinning
    /// workers (`queued_hint`).
    pub(crate) len: AtomicUsize,
    /// Active workers over every pool fed by the inbox, counted by each
    /// pool's `Control` under the lock.
    active: Arc<AtomicUsize>,
}

/// A queue of jobs: where `put` leaves work for a pool's workers.
///
/// Every pool has one (`pool.inbox`). A caller may also make one and hand it
/// to several pools ([`Builder::inbox`](crate::Builder::inbox)), or feed it
/// from other threads: clones share the queue. Jobs leave the queue in the
/// order they were put (a worker may take a batch at once from an
/// unbounded inbox, and starts them in that order; idle workers steal from
/// it). The inbox closes when the last
/// pool it feeds is exiled; after that every `put` hands its job back.
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
                    queue: Queue::new(),
                    capacity,
                    next_id: 0,
                    unfinished: 0,
                    closed: false,
                    pools: 0,
                    sleeping: 0,
                    spinning: 0,
                    putters: 0,
                    idle_waiters: 0,
                    held: 0,
                    growers: Vec::new(),
                    slots: Vec::new(),
                }),
                ready: Condvar::new(),
                space: Condvar::new(),
                idle: Condvar::new(),
                len: AtomicUsize::new(0),
                active: Arc::new(AtomicUsize::new(0)),
            }),
        }
    }

    /// Registers a self-sizing pool; returns the growth it reserved for
    /// the jobs already queued (a shared inbox may hold some), to
    /// [`Grow::grow`] once the lock is released.
    pub(crate) fn add_grower(
        &self,
        id: u64,
        pool: Weak<dyn Grow>,
    ) -> Option<(Arc<dyn Grow>, usize)> {
        let mut st = self.lock();
        st.growers.push((id, pool));
        Self::reserve_for_queued(&st, id)
    }

    /// Asks the self-sizing pool `id` whether to grow for every job queued
    /// now, as if they had just been put (inbox lock held): after a resume,
    /// or when it starts on a shared inbox that already holds jobs. Returns
    /// the pool and the places it reserved, to [`Grow::grow`] once the lock
    /// is released.
    ///
    /// Puts waiting on a full bounded inbox count too, each as one put
    /// that found it full (a pause turned down the growth they asked for).
    pub(crate) fn reserve_for_queued(st: &State<I>, id: u64) -> Option<(Arc<dyn Grow>, usize)> {
        let pool = st
            .growers
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, w)| w.upgrade())?;
        let mut n = pool.reserve(st.queue.len(), st.queue.len());
        if st.putters > 0 && st.capacity.is_some_and(|c| st.queue.len() >= c) {
            n += pool.reserve(FULL, st.putters);
        }
        (n > 0).then_some((pool, n))
    }

    /// The count of active workers over every pool fed by the inbox, for a
    /// new pool's `Control` to keep.
    pub(crate) fn active(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.shared.active)
    }

    /// Whether no pool fed by the inbox has a worker left to take jobs
    /// (one held by a stagger past the clock's range takes none before an
    /// exile). Inbox lock held.
    pub(crate) fn no_workers(&self, st: &State<I>) -> bool {
        self.shared.active.load(Relaxed) <= st.held
    }

    /// This inbox's identity, shared by its clones (never 0).
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// How many jobs wait to be started now: on the queue, or taken by a
    /// worker in a batch and not yet started.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
    /// pool.inbox.put(|| ()).unwrap();
    /// assert_eq!(pool.inbox.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().unstarted()
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
        self.release_open(st, id);
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

    /// Wakes every sleeping worker of every pool (control changes), the
    /// inbox lock released; `sleepers` is `State::sleeping` as read under
    /// it. One `notify_one` per sleeper wakes them all at once, where
    /// `notify_all` (parking_lot's) would requeue them on the inbox lock, to
    /// be woken one after another as each lets go of it: a chain of
    /// wake-ups that an exile waited out in full. The closing `notify_all`
    /// is for a worker of another pool on a shared inbox that began to wait
    /// meanwhile and may have taken one of those wake-ups; it costs nothing
    /// when no one waits.
    pub(crate) fn wake_all(&self, sleepers: usize) {
        for _ in 0..sleepers {
            self.shared.ready.notify_one();
        }
        self.shared.ready.notify_all();
    }

    /// Takes every job not yet started off the queue and out of every
    /// worker's slot, in the order they were accepted (immediate exile).
    pub(crate) fn take_all(&self, st: &mut State<I>) -> Vec<I> {
        let mut entries: Vec<Entry<I>> = st.queue.take_all().collect();
        for slot in &st.slots {
            entries.extend(slot.drain());
        }
        entries.sort_unstable_by_key(|e| e.id);
        self.queue_shrank(st);
        self.finish_locked(st, entries.len());
        entries.into_iter().map(|e| e.item).collect()
    }

    /// Counts `n` jobs finished, waking `wait_idle` callers at zero.
    pub(crate) fn finish_locked(&self, st: &mut State<I>, n: usize) {
        st.unfinished -= n;
        if n > 0 && st.unfinished == 0 {
            self.wake_idle(st);
        }
    }

    pub(crate) fn wake_idle(&self, st: &State<I>) {
        if st.idle_waiters > 0 {
            self.shared.idle.notify_all();
        }
    }

    /// The queue lost jobs: update the mirror, wake blocked putters.
    pub(crate) fn queue_shrank(&self, st: &State<I>) {
        self.shared.len.store(st.queue.len(), Relaxed);
        if st.putters > 0 {
            self.shared.space.notify_all();
        }
    }

    /// The queue gained jobs: update the mirror.
    #[inline]
    pub(crate) fn queue_grew(&self, st: &State<I>) {
        self.shared.len.store(st.queue.len(), Relaxed);
    }

    /// The queue's length, read without the lock (spinning workers).
    #[cfg(not(loom))]
    pub(crate) fn queued_hint(&self) -> usize {
        self.shared.len.load(Relaxed)
    }

    pub(crate) fn shared(&self) -> &Shared<I> {
        &self.shared
    }

    /// Waits until no job accepted is unfinished (jobs accepted meanwhile
    /// included). Returns false,
    /// without waiting further, if no pool fed by the inbox has a worker
    /// left to run the queued jobs (all banished, or every setup failed).
    /// A helper that an exile starts for them has its place counted from
    /// the lock hold that closed the inbox, so it is a worker left.
    pub(crate) fn wait_idle(&self) -> bool {
        let mut st = self.lock();
        while st.unfinished > 0 {
            if self.no_workers(&st) && !st.queue.is_empty() {
                return false;
            }
            st.idle_waiters += 1;
            st = self.shared.idle.wait(st);
            st.idle_waiters -= 1;
        }
        true
    }
}
