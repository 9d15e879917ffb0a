//! The putting side of the inbox: `put`, `try_put`, `put_timeout` and
//! `put_all`.
//!
//! # Protocol
//!
//! A put takes the inbox lock, refuses at once if the inbox is closed,
//! waits on `space` while a bounded inbox is full (counted in `putters`;
//! a worker that takes a job wakes one, closing wakes all and they get
//! their job back), and queues the job with the next id. Before it lets
//! go of the lock (`after_put`) it wakes one sleeper per job beyond the
//! workers spinning with the lock released — each of those is bound to
//! take the lock again and find a job before it sleeps (see `take.rs`) —
//! and asks each self-sizing pool fed by the inbox whether to grow, which
//! it then does with the lock released.
//!
//! A bounded inbox holds at most `capacity` jobs, so with room for no
//! more than `ratio` jobs per worker a self-sizing pool's ratio is never
//! crossed. A put that finds the inbox full therefore counts as crossing
//! it: before it waits (or, for `try_put`, is refused) it asks each
//! self-sizing pool once to grow one step. A producer held back is the
//! plainest sign that the workers are too few. A paused pool grows for
//! none of it; its `resume` counts each put still waiting as one such
//! step.
//!
//! A `put_all` that does not fit in a bounded inbox queues what fits and
//! counts that part as put — the same wake-ups, and growth reserved under
//! the lock and started with it released — before it waits for room: the
//! pool grows as far as for the same jobs put one by one, and a pool at
//! zero workers starts one to make room.
//!
//! The queue grows in segments (see `queue.rs`). A put that needs a new
//! one makes it with the lock released and retries, so that the other
//! putters and the workers never wait on the allocator; `put_all` fills
//! its own segments before it takes the lock and hands them over whole.
//! On a bounded inbox it does so a part at a time, reading the caller's
//! iterator no more than `capacity` jobs ahead of the inbox.

use std::time::{Duration, Instant};

use crate::error::{PutError, PutTimeoutError, TryPutError};
use crate::inbox::{Entry, FULL, Grow, Inbox, State};
use crate::job::{IntoJob, JobId};
use crate::queue::Queue;
use crate::sync::{Arc, MutexGuard};

/// How long a put waits for room in a full bounded inbox.
enum Wait {
    No,
    Forever,
    Until(Instant),
}

/// Why a put handed its job back.
enum Refused {
    Full,
    Timeout,
    Closed,
}

impl<I> Inbox<I> {
    /// Puts a job, waiting for room if the inbox is bounded and full.
    /// Returns the job's id; hands the job back if the inbox is closed.
    ///
    /// From a job of a pool this inbox feeds, the wait for room is a wait
    /// for the pool's own workers: if each of them waits so, none ever
    /// returns. A job that puts more jobs on a bounded inbox should use
    /// [`try_put`](Inbox::try_put) or [`put_timeout`](Inbox::put_timeout)
    /// (an exile ends the wait too: the job is handed back).
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
        let sh = self.shared();
        let mut st = sh.state.lock();
        let mut grew_for_full = false;
        loop {
            if st.closed {
                return Err((item, Refused::Closed));
            }
            let full = st.capacity.is_some_and(|cap| st.queue.len() >= cap);
            if !full {
                if !st.queue.needs_segment() {
                    break;
                }
                // The queue needs a new segment: make it (and fault its
                // pages in) with the lock released, so that the other
                // putters and the workers do not wait on the allocator.
                drop(st);
                let segment = Queue::fresh_segment();
                st = sh.state.lock();
                st.queue.recycle(segment);
                continue;
            }
            if let Some(growth) = Self::grow_for_full(&st, &mut grew_for_full) {
                st = self.grow_unlocked(st, growth);
                continue;
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
        let id = Self::accept(&mut st, item);
        self.after_put(st, 1);
        Ok(id)
    }

    /// Puts many jobs with one acquisition of the inbox lock (on a bounded
    /// inbox, one per part; see below): the cheapest way to queue a pile of
    /// small jobs. Returns how many were put.
    ///
    /// A bounded inbox takes them as room frees, waiting like `put`; each
    /// part it takes counts as put, and a self-sizing pool grows for it as
    /// for the same jobs put one by one. The iterator is read as the jobs
    /// go in, at most `capacity` jobs ahead of the inbox: a producer that
    /// streams a large input through `put_all` keeps the backpressure of
    /// `put`. (An unbounded inbox takes them all at once.)
    ///
    /// If the inbox is (or becomes) closed, the jobs read and not put are
    /// handed back (from an unbounded inbox, all of them; from a bounded
    /// one, the part in hand) and the rest of the iterator is left unread:
    /// pass [`by_ref`](Iterator::by_ref) to keep it. Those already put run
    /// as usual. Ids are not returned: use `put` (or labels) when you need
    /// to match failures to jobs.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// let n = pool.inbox.put_all((0..1000u64).map(|i| move || i)).unwrap();
    /// assert_eq!(n, 1000);
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.iter().sum::<u64>(), 499_500);
    /// let refused = pool.inbox.put_all([|| 1u64, || 2]).unwrap_err();
    /// assert_eq!(refused.into_inner().len(), 2);
    /// ```
    ///
    /// A bounded inbox reads one part, of at most `capacity` jobs, at a
    /// time; closed, it hands back the part it read:
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(2).build().unwrap();
    /// pool.exile().unwrap();
    /// let mut input = (0..u64::MAX).map(|i| move || i);
    /// let in_hand = pool.inbox.put_all(input.by_ref()).unwrap_err().into_inner();
    /// assert_eq!(in_hand.len(), 2);
    /// assert_eq!(input.next().unwrap()(), 2); // the rest was not read
    /// ```
    pub fn put_all<J: IntoJob<I>>(
        &self,
        jobs: impl IntoIterator<Item = J>,
    ) -> Result<usize, PutError<Vec<I>>> {
        let mut jobs = jobs.into_iter().map(IntoJob::into_job);
        let Some(part) = self.capacity() else {
            // Unbounded: one part, all of it.
            return self.put_read(Self::read(jobs), 0);
        };
        let mut total = 0;
        loop {
            let items = Self::read(jobs.by_ref().take(part));
            let n = items.len();
            total = self.put_read(items, total)?;
            // A short part means the iterator ended: not read past `None`.
            if n < part {
                return Ok(total);
            }
        }
    }

    /// Reads `put_all`'s jobs into a queue of their own, before the lock is
    /// taken: the caller's iterator may be slow. They are numbered under
    /// the lock, where ids follow the queue's order.
    fn read(jobs: impl Iterator<Item = I>) -> Queue<Entry<I>> {
        let mut items = Queue::new();
        for item in jobs {
            items.push_back(Entry { id: JobId(0), item });
        }
        items
    }

    /// Puts a part that `put_all` read, after `total` jobs put before it:
    /// the new total, or the part's jobs not put. An empty part on a
    /// closed inbox, with nothing put before, is refused as a put would be.
    fn put_read(&self, items: Queue<Entry<I>>, total: usize) -> Result<usize, PutError<Vec<I>>> {
        let n = items.len();
        if n == 0 {
            if total == 0 && self.is_closed() {
                return Err(PutError(Vec::new()));
            }
            return Ok(total);
        }
        match self.put_part(items) {
            Ok(()) => Ok(total + n),
            Err(mut unput) => Err(PutError(unput.take_all().map(|e| e.item).collect())),
        }
    }

    /// Queues all of `items`, waiting for room in a bounded inbox; hands
    /// back the ones not queued if the inbox is (or becomes) closed.
    fn put_part(&self, mut items: Queue<Entry<I>>) -> Result<(), Queue<Entry<I>>> {
        let sh = self.shared();
        let mut st = sh.state.lock();
        // Once per wait for room, as a put would: reset when a part is put.
        let mut grew_for_full = false;
        loop {
            if st.closed {
                return Err(items);
            }
            let room = st
                .capacity
                .map_or(usize::MAX, |c| c.saturating_sub(st.queue.len()));
            if room >= items.len() {
                // Everything fits: the segments change hands, nothing is copied.
                let n = items.len();
                for entry in items.iter_mut() {
                    entry.id = Self::number(&mut st);
                }
                st.unfinished += n;
                st.queue.append(&mut items);
                self.after_put(st, n);
                return Ok(());
            }
            for _ in 0..room {
                if let Some(entry) = items.pop_front() {
                    Self::accept(&mut st, entry.item);
                }
            }
            if room > 0 {
                grew_for_full = false;
                // The part queued counts as put. A pool that grows for it
                // starts its workers with the lock released; then look
                // again, as room may have freed meanwhile.
                if let Some(growth) = self.note_put(&st, room) {
                    st = self.grow_unlocked(st, growth);
                    continue;
                }
            }
            if let Some(growth) = Self::grow_for_full(&st, &mut grew_for_full) {
                st = self.grow_unlocked(st, growth);
                continue;
            }
            st.putters += 1;
            st = sh.space.wait(st);
            st.putters -= 1;
        }
    }

    /// Queues one job (inbox lock held, room checked).
    fn accept(st: &mut State<I>, item: I) -> JobId {
        let id = Self::number(st);
        st.unfinished += 1;
        st.queue.push_back(Entry { id, item });
        id
    }

    /// The next job's id (inbox lock held).
    fn number(st: &mut State<I>) -> JobId {
        let id = JobId(st.next_id);
        st.next_id += 1;
        id
    }

    /// After `n` jobs were queued: wake sleepers for the jobs that the
    /// spinning workers will not take, let self-sizing pools grow.
    ///
    /// Inlined, as is `note_put`, into the put paths instantiated in the
    /// user's crate, where the compiler kept both out of line: 42 fewer
    /// instructions a tiny job (`bench/instructions.sh`, 617 → 575).
    #[inline(always)]
    fn after_put(&self, st: MutexGuard<'_, State<I>>, n: usize) {
        if let Some(growth) = self.note_put(&st, n) {
            drop(st);
            Self::grow(growth);
        }
    }

    /// After `n` jobs were queued (inbox lock held): wakes sleepers for the
    /// jobs that the spinning workers will not take, and reserves the
    /// growth of self-sizing pools, to [`Self::grow`] once the lock is
    /// released; `None` when no pool grows (no `Vec` on a plain pool's put:
    /// building and dropping an empty one cost ~40 instructions a job).
    #[inline(always)]
    fn note_put(&self, st: &State<I>, n: usize) -> Option<Vec<(Arc<dyn Grow>, usize)>> {
        let sh = self.shared();
        self.queue_grew(st);
        let wake = n.saturating_sub(st.spinning);
        if st.sleeping > 0 && wake > 0 {
            if wake >= st.sleeping {
                sh.ready.notify_all();
            } else {
                for _ in 0..wake {
                    sh.ready.notify_one();
                }
            }
        }
        if st.growers.is_empty() {
            return None;
        }
        Self::reserve_growth(st, st.queue.len(), n, None)
    }

    /// A put found a bounded inbox full: the first time (`asked` not yet
    /// set), asks each self-sizing pool to grow one step, as for a put
    /// that crossed its ratio (inbox lock held).
    fn grow_for_full(st: &State<I>, asked: &mut bool) -> Option<Vec<(Arc<dyn Grow>, usize)>> {
        if std::mem::replace(asked, true) {
            return None;
        }
        Self::reserve_growth(st, FULL, 1, None)
    }

    /// Starts the workers reserved under `st` with the lock released, then
    /// takes the lock again: a put that grew a pool looks at the inbox
    /// afresh, as room may have freed meanwhile.
    fn grow_unlocked<'s>(
        &'s self,
        st: MutexGuard<'s, State<I>>,
        growth: Vec<(Arc<dyn Grow>, usize)>,
    ) -> MutexGuard<'s, State<I>> {
        drop(st);
        Self::grow(growth);
        self.shared().state.lock()
    }

    /// Starts the workers `note_put` reserved (inbox lock released).
    pub(crate) fn grow(growth: Vec<(Arc<dyn Grow>, usize)>) {
        for (pool, n) in growth {
            pool.grow(n);
        }
    }

    /// Asks each self-sizing pool but `except` whether to grow for `queued`
    /// jobs, over `steps` steps (inbox lock held); `None` when none grows.
    pub(crate) fn reserve_growth(
        st: &State<I>,
        queued: usize,
        steps: usize,
        except: Option<u64>,
    ) -> Option<Vec<(Arc<dyn Grow>, usize)>> {
        let mut growth = Vec::new();
        for (id, pool) in &st.growers {
            if Some(*id) == except {
                continue;
            }
            if let Some(pool) = pool.upgrade() {
                let n = pool.reserve(queued, steps);
                if n > 0 {
                    growth.push((pool, n));
                }
            }
        }
        (!growth.is_empty()).then_some(growth)
    }
}
