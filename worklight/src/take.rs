//! The workers' side of the inbox: taking jobs, in batches.
//!
//! # Protocol
//!
//! Each worker owns a [`Slot`]: a short queue of jobs it took off the inbox
//! but has not started, behind a lock of its own that only the worker, an
//! idle sibling stealing, and an exile handing jobs back ever contend for.
//! A worker runs the jobs of its slot without touching the inbox lock; when
//! the slot is empty (or a control flag is up) it takes the inbox lock and:
//!
//! 1. counts its finished jobs off `unfinished` (waking `wait_idle`),
//! 2. obeys the pool's control: leave at `Now`, retire on a banish token
//!    (left to workers still in a stagger delay while there are any),
//!    wait on `Control::wake` while paused,
//! 3. *refills*: moves a batch — its share of the queue, at most
//!    [`MAX_BATCH`] — from the inbox into its slot, taking the first job
//!    (and wakes a sleeper if work is left, in the queue or the batch).
//!    From a long queue ([`WHOLE_SEGMENT_SHARE`]) the batch is the queue's
//!    front segment, which changes hands whole: no job is read under the
//!    lock but the first,
//! 4. or *steals* half the jobs of the fullest sibling slot,
//! 5. or, at `Drain`, leaves; otherwise spins briefly with the lock
//!    released (counted in `spinning`, so that a put need not wake a
//!    sleeper for the job this worker will take; how long, see [`Spin`]:
//!    a new worker the longest, at most [`FRESH_SPIN`], yielding), then
//!    sleeps on `ready` (a self-sizing pool's surplus worker for at most
//!    its keep-alive).
//!
//! A put that counted on a spinning worker skipped a wake-up, so a worker
//! back from spinning owes one: it either takes a job (and wakes a sleeper
//! if work is left), or, when it does not — it leaves, retires, or is held
//! by a pause while another pool shares the inbox — wakes a sleeper for
//! the jobs still queued.
//!
//! Slots are filled only under the inbox lock, and only shrink otherwise.
//! So an exile that, under the inbox lock, takes the queue and every slot
//! (`take_all`) gets every job not yet started exactly once, even while
//! workers are in the middle of a job; a worker that leaves puts what is
//! left in its slot back at the front of the queue first.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::control::{Control, Mode};
use crate::inbox::{Entry, Inbox, State};
use crate::queue::Queue;
use crate::sync::{Arc, AtomicUsize, Mutex, MutexGuard};

/// The most jobs a worker takes into its slot at once, but for a whole
/// segment from a long queue (see [`WHOLE_SEGMENT_SHARE`]).
pub(crate) const MAX_BATCH: usize = 16;

/// A worker whose share of the queue is at least this long takes the
/// queue's front segment (up to [`SEGMENT`] jobs) into its slot whole,
/// without copying a job. Two segments, so that a worker never takes more
/// than half its share, and idle siblings steal from a full slot.
///
/// [`SEGMENT`]: crate::queue::SEGMENT
#[cfg(not(loom))]
pub(crate) const WHOLE_SEGMENT_SHARE: usize = 2 * crate::queue::SEGMENT;

/// Under loom, one segment of two jobs: a model's worker that finds three
/// queued takes the first two whole.
#[cfg(loom)]
pub(crate) const WHOLE_SEGMENT_SHARE: usize = crate::queue::SEGMENT;

/// How long a new worker yields, at most, waiting for its first job before
/// it parks (see [`Spin::Fresh`]).
#[cfg(not(loom))]
const FRESH_SPIN: Duration = Duration::from_micros(100);

/// How long a staggered worker waits before its first job
/// ([`Inbox::stagger`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stagger {
    /// `None`: a delay past the clock's range, which only an exile ends.
    until: Option<Instant>,
}

impl Stagger {
    /// The delay of the `k`-th worker of a ramp-up begun at `start`:
    /// k × `step`.
    pub(crate) fn nth(start: Instant, step: Duration, k: usize) -> Self {
        let k = u32::try_from(k).unwrap_or(u32::MAX);
        let until = step.checked_mul(k).and_then(|d| start.checked_add(d));
        Stagger { until }
    }
}

/// Jobs a worker has taken off the inbox but not started.
pub(crate) struct Slot<I> {
    items: Mutex<VecDeque<Entry<I>>>,
    len: AtomicUsize,
}

impl<I> Slot<I> {
    fn pop(&self) -> Option<Entry<I>> {
        if self.len.load(Relaxed) == 0 {
            return None;
        }
        let mut items = self.items.lock();
        let entry = items.pop_front();
        self.len.store(items.len(), Relaxed);
        entry
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Frees the slot's room, once it is empty, if it holds more than
    /// `keep` jobs' worth: a worker about to spin keeps a batch's room (a
    /// whole segment taken from a long queue is let go), one about to sleep
    /// none, so that an idle worker holds no memory for jobs. Only the
    /// worker fills its slot, so a worker about to spin or sleep finds it
    /// empty.
    fn release_room(&self, keep: usize) {
        let mut items = self.items.lock();
        if items.is_empty() && items.capacity() > keep {
            let room = std::mem::take(&mut *items);
            drop(items);
            drop(room);
        }
    }

    /// Takes every job out of the slot.
    pub(crate) fn drain(&self) -> Vec<Entry<I>> {
        let mut items = self.items.lock();
        self.len.store(0, Relaxed);
        items.drain(..).collect()
    }
}

/// A worker's handle on its inbox: its slot and the jobs it finished since
/// it last took the inbox lock.
pub(crate) struct Taker<I> {
    slot: Arc<Slot<I>>,
    /// The id of the worker's pool.
    pool: u64,
    finished: usize,
    /// How long the worker spins before it parks.
    spin: Spin,
}

/// How long a worker with nothing to take spins (then yields) before it
/// parks: what it last did says how soon a job is likely to come.
#[derive(Clone, Copy)]
enum Spin {
    /// New, with no job taken yet: yields for up to [`FRESH_SPIN`]. A
    /// pool is built to be given work, so its first jobs usually come
    /// while its last workers are still being started; a worker that
    /// parked before them pays a park and a wake-up, and in a pool that
    /// lives for a few jobs only, that is most of what the pool costs
    /// beyond its threads. Yielding gives way to the thread that builds
    /// the pool and puts the jobs.
    Fresh,
    /// Has run a job since it last slept: in a stream of jobs.
    Warm,
    /// Woke from sleep and found nothing.
    Cold,
}

impl<I> Taker<I> {
    /// Counts one job finished (its result or failure has landed).
    pub(crate) fn finished(&mut self) {
        self.finished += 1;
        self.spin = Spin::Warm;
    }
}

/// What a worker got from [`Inbox::take`].
pub(crate) enum Taken<I> {
    Job(Entry<I>),
    /// The worker must leave: exile, or a drained inbox at exile.
    Leave,
    /// The worker must leave: it was banished, or idle past its keep-alive.
    Retire,
}

impl<I> Inbox<I> {
    /// Registers a new slot for a worker of pool `pool`.
    pub(crate) fn taker(&self, pool: u64) -> Taker<I> {
        let slot = Arc::new(Slot {
            items: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        });
        self.lock().slots.push(Arc::clone(&slot));
        Taker {
            slot,
            pool,
            finished: 0,
            spin: Spin::Fresh,
        }
    }

    /// The next job for a worker of the pool controlled by `ctl`, or word
    /// that it must leave. See the module docs for the protocol.
    pub(crate) fn take(&self, ctl: &Control, me: &mut Taker<I>) -> Taken<I> {
        if ctl.runs_freely() {
            if let Some(entry) = me.slot.pop() {
                return Taken::Job(entry);
            }
        }
        self.take_locked(ctl, me)
    }

    fn take_locked(&self, ctl: &Control, me: &mut Taker<I>) -> Taken<I> {
        let mut st = self.lock();
        self.finish_locked(&mut st, std::mem::take(&mut me.finished));
        let mut spun = false;
        loop {
            let mode = ctl.mode();
            if mode == Mode::Now {
                return self.leave(ctl, st, Some(me), Taken::Leave);
            }
            if Self::takes_banish(ctl, &st, false, me.slot.len()) {
                return self.depart(ctl, st, Some(me), Taken::Retire);
            }
            if mode == Mode::Run && ctl.is_paused() {
                if !st.queue.is_empty() && st.sleeping > 0 {
                    // A put may have counted on this worker (if it was
                    // spinning); a sleeper of another pool on a shared
                    // inbox can take the job.
                    self.shared().ready.notify_one();
                }
                ctl.paused_workers.fetch_add(1, Relaxed);
                st = ctl.wake.wait(st);
                ctl.paused_workers.fetch_sub(1, Relaxed);
                continue;
            }
            if let Some(entry) = me.slot.pop() {
                return Taken::Job(entry);
            }
            if let Some(entry) = self.refill(&mut st, ctl, me) {
                let retired = st.queue.take_retired();
                drop(st);
                drop(retired);
                return Taken::Job(entry);
            }
            if let Some(entry) = Self::steal(&st, me) {
                return Taken::Job(entry);
            }
            if mode == Mode::Drain {
                return self.leave(ctl, st, Some(me), Taken::Leave);
            }
            if let Some(policy) = ctl.scaling.filter(|p| ctl.poolsize() > p.min()) {
                // A surplus worker waits at most the keep-alive, then retires
                // if there is still nothing to do.
                me.slot.release_room(0);
                st.sleeping += 1;
                let deadline = Instant::now().checked_add(policy.keep_alive_for());
                let (g, timed_out) = self.shared().ready.wait_deadline(st, deadline);
                st = g;
                st.sleeping -= 1;
                let surplus = ctl.poolsize() > policy.min();
                let idle = st.queue.is_empty() && ctl.mode() == Mode::Run && !ctl.is_paused();
                if timed_out && surplus && idle {
                    return self.leave(ctl, st, Some(me), Taken::Retire);
                }
                continue;
            }
            if !spun {
                // A job often comes within a microsecond: spin briefly
                // before parking, so that a steady stream of puts does not
                // pay a wake-up per job. How long depends on what the
                // worker last did (`Spin`).
                spun = true;
                st.spinning += 1;
                drop(st);
                me.slot.release_room(MAX_BATCH);
                self.spin_for_work(ctl, me.spin);
                st = self.lock();
                st.spinning -= 1;
                continue;
            }
            me.slot.release_room(0);
            st.sleeping += 1;
            st = self.shared().ready.wait(st);
            st.sleeping -= 1;
            me.spin = Spin::Cold;
        }
    }

    /// Moves this worker's share of the queue into its slot; returns the
    /// first job. Inbox lock held.
    fn refill(&self, st: &mut State<I>, ctl: &Control, me: &Taker<I>) -> Option<Entry<I>> {
        // A bounded inbox hands out one job at a time, so that its bound
        // covers every job not yet started.
        let share = match st.capacity {
            Some(_) => 0,
            None => st.queue.len().saturating_sub(1) / ctl.active().max(1),
        };
        let (first, batch) = if share == 0 {
            (st.queue.pop_front()?, 0)
        } else {
            let mut items = me.slot.items.lock();
            let first = if share >= WHOLE_SEGMENT_SHARE && st.queue.take_front_segment(&mut items) {
                items.pop_front()
            } else {
                let first = st.queue.pop_front();
                st.queue.move_front_to(share.min(MAX_BATCH - 1), &mut items);
                first
            };
            me.slot.len.store(items.len(), Relaxed);
            (first?, items.len())
        };
        if st.sleeping > 0 && (batch > 0 || !st.queue.is_empty()) {
            // Work is left, in the queue or in this batch for stealing: pass
            // the wake-up on, which a put skips when a spinning worker (this
            // one, perhaps) was bound to come for its job.
            self.shared().ready.notify_one();
        }
        self.queue_shrank(st);
        Some(first)
    }

    /// Takes half the jobs of the fullest sibling slot. Inbox lock held
    /// (so no slot is being refilled meanwhile).
    fn steal(st: &State<I>, me: &Taker<I>) -> Option<Entry<I>> {
        let victim = st
            .slots
            .iter()
            .filter(|s| !Arc::ptr_eq(s, &me.slot))
            .max_by_key(|s| s.len())
            .filter(|s| s.len() > 0)?;
        let mut theirs = victim.items.lock();
        let keep = theirs.len() / 2;
        let mut stolen = theirs.split_off(keep);
        victim.len.store(theirs.len(), Relaxed);
        drop(theirs);
        let first = stolen.pop_front();
        if !stolen.is_empty() {
            let mut mine = me.slot.items.lock();
            mine.extend(stolen);
            me.slot.len.store(mine.len(), Relaxed);
        }
        first
    }

    /// Leaves the pool: no longer counts as active, then departs.
    pub(crate) fn leave(
        &self,
        ctl: &Control,
        st: MutexGuard<'_, State<I>>,
        me: Option<&mut Taker<I>>,
        how: Taken<I>,
    ) -> Taken<I> {
        ctl.remove_active(1);
        self.depart(ctl, st, me, how)
    }

    /// Puts a departing worker's jobs back at the front of the queue, where
    /// their ids say. Both are in id order, but jobs put back earlier by
    /// another departing worker may belong after some of these: merged, so
    /// that jobs still leave the inbox in the order they were put.
    fn put_back(queue: &mut Queue<Entry<I>>, back: Vec<Entry<I>>) {
        let mut merged = Vec::with_capacity(back.len());
        for entry in back {
            while queue.front().is_some_and(|q| q.id < entry.id) {
                merged.extend(queue.pop_front());
            }
            merged.push(entry);
        }
        for entry in merged.into_iter().rev() {
            queue.push_front(entry);
        }
    }

    /// A worker no longer counted active departs: puts the slot's jobs back
    /// at the front of the queue and unregisters the slot. Jobs put back
    /// count as just put for the other self-sizing pools fed by the inbox,
    /// which may have no worker of their own to run them. If jobs remain and
    /// another worker sleeps, it gets the wake-up this one may have
    /// consumed; if no worker is left, `wait_idle` callers learn it.
    fn depart(
        &self,
        ctl: &Control,
        mut st: MutexGuard<'_, State<I>>,
        me: Option<&mut Taker<I>>,
        how: Taken<I>,
    ) -> Taken<I> {
        let mut growth = None;
        if let Some(me) = me {
            self.finish_locked(&mut st, std::mem::take(&mut me.finished));
            let back = me.slot.drain();
            let n = back.len();
            Self::put_back(&mut st.queue, back);
            st.slots.retain(|s| !Arc::ptr_eq(s, &me.slot));
            self.queue_grew(&st);
            // Not the worker's own pool: it leaves because its pool
            // shrinks (a banish, or an exile), which growing would undo.
            if n > 0 && !st.growers.is_empty() {
                growth = Self::reserve_growth(&st, st.queue.len(), n, Some(me.pool));
            }
        }
        if st.queue.is_empty() && ctl.mode() == Mode::Drain {
            // Staggered workers still in their delay need not wait it out.
            ctl.wake.notify_all();
        }
        if !st.queue.is_empty() {
            if st.sleeping > 0 {
                self.shared().ready.notify_one();
            }
            if self.no_workers(&st) {
                // `wait_idle` callers learn that no worker is left.
                self.wake_idle(&st);
            }
        }
        if let Some(growth) = growth {
            drop(st);
            Self::grow(growth);
        }
        how
    }

    /// Spins, then yields, for a bounded while until a job is queued or the
    /// pool leaves `Run` (read without the lock; `take` re-checks under it).
    #[cfg(not(loom))]
    fn spin_for_work(&self, ctl: &Control, spin: Spin) {
        let idle = || self.queued_hint() == 0 && ctl.mode() == Mode::Run;
        let (spins, yields) = match spin {
            Spin::Fresh => {
                let until = Instant::now() + FRESH_SPIN;
                while idle() && Instant::now() < until {
                    std::thread::yield_now();
                }
                return;
            }
            Spin::Warm => (256, 32),
            Spin::Cold => (64, 8),
        };
        for i in 0..spins + yields {
            if !idle() {
                return;
            }
            if i < spins {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Under loom every interleaving is explored anyway: no spinning.
    #[cfg(loom)]
    fn spin_for_work(&self, _ctl: &Control, _spin: Spin) {}

    /// Whether a worker takes a pending banish token, and with it leaves
    /// its place: the two go in one store, so `poolsize` never counts a
    /// worker on its way out. Workers still in their stagger delay take
    /// the tokens first (`banish` wakes them), so that a banish never
    /// retires a worker taking jobs while one that has not begun stays. A
    /// self-sizing pool keeps its last worker while jobs wait. Inbox lock
    /// held.
    fn takes_banish(ctl: &Control, st: &State<I>, staggered: bool, slot_jobs: usize) -> bool {
        if !ctl.retire_pending() || (!staggered && ctl.has_staggered()) {
            return false;
        }
        let last =
            ctl.scaling.is_some() && ctl.active() == 1 && (!st.queue.is_empty() || slot_jobs > 0);
        if last {
            ctl.clear_banish();
            return false;
        }
        ctl.retire_one()
    }

    /// Waits on the pool's own condition variable until a staggered
    /// worker's delay is over, an immediate exile, or a draining exile with
    /// nothing left to hand out. A drain keeps the ramp-up while jobs
    /// remain, so worker k still takes its first job no earlier than
    /// k × stagger; but a delay past the clock's range ends at any exile
    /// (the worker may be the only one left to drain the inbox). Returns
    /// whether the worker was banished meanwhile (it has left the inbox).
    pub(crate) fn stagger(&self, ctl: &Control, delay: Stagger) -> bool {
        let mut st = self.lock();
        // Wait while running, or while a drain still has jobs to hand out;
        // a worker leaving the drained inbox wakes the rest (`leave`).
        let ramp_in_drain = delay.until.is_some();
        // A worker held until the exile is no worker for `wait_idle`.
        let held = !ramp_in_drain && ctl.mode() == Mode::Run;
        if held {
            ctl.hold();
            st.held += 1;
            if self.no_workers(&st) && !st.queue.is_empty() {
                self.wake_idle(&st);
            }
        }
        let banished = loop {
            if ctl.mode() == Mode::Run && Self::takes_banish(ctl, &st, true, 0) {
                break true;
            }
            let waits = ctl.mode() == Mode::Run
                || (ctl.mode() == Mode::Drain && ramp_in_drain && !st.queue.is_empty());
            if !waits {
                break false;
            }
            let (g, timed_out) = ctl.wake.wait_deadline(st, delay.until);
            st = g;
            if timed_out {
                break false;
            }
        };
        let tokens_left = ctl.end_staggered();
        if held && ctl.unhold() {
            st.held -= 1;
        }
        let sleepers = st.sleeping;
        if banished {
            self.depart(ctl, st, None, Taken::Retire);
        } else {
            drop(st);
        }
        if tokens_left {
            self.wake_for_tokens(ctl, sleepers);
        }
        banished
    }

    /// Wakes the workers, with the inbox lock released, to take the banish
    /// tokens that the last staggered worker left: they went back to sleep
    /// past them while it was there to take them.
    pub(crate) fn wake_for_tokens(&self, ctl: &Control, sleepers: usize) {
        self.wake_all(sleepers);
        ctl.wake.notify_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
