//! A pool's control state: its mode, pause flag, banish tokens and active
//! worker count.
//!
//! Every field is written only while the pool's inbox lock is held (see the
//! protocol in `inbox.rs`), so workers that check them under that lock never
//! miss a change. They are atomics so that `poolsize` and the metrics can
//! read them without the lock.
//!
//! A pool's mode only moves forward: `Run` → `Drain` (exile: work off the
//! inbox, then leave) → `Now` (immediate exile: leave after the current
//! job). `Drain` overrides a pause and cancels pending banishes: the workers
//! that remain help to work the inbox off.

use std::sync::atomic::Ordering::Relaxed;

use crate::summoning::Summoning;
use crate::sync::{Arc, AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Condvar};

/// The most each half of `Control::size` holds.
const COUNT_MAX: usize = u32::MAX as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    Run = 0,
    Drain = 1,
    Now = 2,
}

#[derive(Debug)]
pub(crate) struct Control {
    mode: AtomicU8,
    paused: AtomicBool,
    /// Two counts packed in one word, so that `poolsize` reads them
    /// together: the workers started and not yet decided to leave (`active`,
    /// low half) and the banish tokens, each retiring one worker at its next
    /// take (`retire`, high half). Each half holds up to `u32::MAX`; a
    /// banish never gives more tokens than the active workers not already
    /// banished, so `retire` stays within what `active` was. Growth never
    /// takes `active` past `Summoning::MAX_WORKERS`, half of that (see
    /// `reserve`); the other paths (`add_active`) count one place at a
    /// time for a thread they then start, which the OS bounds far below
    /// the other half.
    size: AtomicU64,
    /// Workers waiting in a pause (metrics only).
    pub(crate) paused_workers: AtomicUsize,
    /// Workers with a stagger delay not yet over, counted from their
    /// reservation (so before their threads run): they take banish tokens
    /// before any worker that takes jobs does. Inbox lock held to change.
    staggered: AtomicUsize,
    /// Of those, the ones held by a stagger past the clock's range: counted
    /// in the inbox's `held` (no worker for `wait_idle`) until they leave
    /// the hold or the pool leaves `Run`, which uncounts them all at once:
    /// an exile releases them to drain the inbox (`Drain`), or takes them
    /// off the inbox-wide count of active workers with the rest (`Now`).
    held: AtomicUsize,
    /// Paused and staggered workers wait here, with the inbox lock.
    pub(crate) wake: Condvar,
    /// The self-sizing policy, if the pool sizes itself.
    pub(crate) scaling: Option<Summoning>,
    /// The `active` workers that may still take jobs, of every pool fed by
    /// this pool's inbox: kept with this pool's own (`set_counts`) until
    /// the pool turns to `Now` (`advance`), whose workers take no more.
    /// `wait_idle` on a shared inbox is stranded, and an exile hands back
    /// what is left on a closed inbox, only when this count is zero.
    inbox_active: Arc<AtomicUsize>,
}

impl Control {
    /// A pool's control; `inbox_active` is its inbox's count of active
    /// workers over every pool ([`Inbox::active`](crate::inbox::Inbox::active)).
    pub(crate) fn new(
        paused: bool,
        scaling: Option<Summoning>,
        inbox_active: Arc<AtomicUsize>,
    ) -> Self {
        Control {
            inbox_active,
            mode: AtomicU8::new(Mode::Run as u8),
            paused: AtomicBool::new(paused),
            size: AtomicU64::new(0),
            paused_workers: AtomicUsize::new(0),
            staggered: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            wake: Condvar::new(),
            scaling,
        }
    }

    #[inline]
    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Relaxed) {
            0 => Mode::Run,
            1 => Mode::Drain,
            _ => Mode::Now,
        }
    }

    /// Moves the mode forward (never back). Call with the inbox lock held.
    /// A pool turning to `Now` takes its workers off the inbox-wide count:
    /// they will take no more jobs (see `set_counts`). Returns how many
    /// held workers the pool's leaving `Run` uncounted, for the inbox's
    /// `held`: the exile releases them (`Drain`) or stops them (`Now`).
    #[must_use]
    pub(crate) fn advance(&self, to: Mode) -> usize {
        let from = self.mode();
        let mut released = 0;
        if to > from {
            if to == Mode::Now {
                self.inbox_active.fetch_sub(self.active(), Relaxed);
            }
            if from == Mode::Run {
                released = self.held.swap(0, Relaxed);
            }
            self.mode.store(to as u8, Relaxed);
        }
        released
    }

    /// A worker begins a hold until the exile. Inbox lock held.
    pub(crate) fn hold(&self) {
        self.held.fetch_add(1, Relaxed);
    }

    /// A held worker leaves its hold; returns whether it was still counted
    /// (not once the pool left `Run`). Inbox lock held.
    pub(crate) fn unhold(&self) -> bool {
        let counted = self.mode() == Mode::Run;
        if counted {
            self.held.fetch_sub(1, Relaxed);
        }
        counted
    }

    /// Whether a worker may take the next job from its own slot without
    /// the inbox lock: running, not paused, no banish pending.
    #[inline]
    pub(crate) fn runs_freely(&self) -> bool {
        self.mode() == Mode::Run && !self.is_paused() && self.counts().1 == 0
    }

    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Relaxed)
    }

    /// Call with the inbox lock held, then wake the workers.
    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Relaxed);
    }

    #[inline]
    fn counts(&self) -> (usize, usize) {
        let word = self.size.load(Relaxed);
        ((word & 0xffff_ffff) as usize, (word >> 32) as usize)
    }

    /// Inbox lock held: the only writers are serialised by it (of this
    /// pool's counts, and of every pool's on the inbox).
    fn set_counts(&self, active: usize, retire: usize) {
        debug_assert!(active <= COUNT_MAX && retire <= COUNT_MAX);
        let before = self.active();
        if self.mode() == Mode::Now {
            // Taken off the inbox-wide count at the turn to `Now` (which
            // only ever takes places away after it).
            debug_assert!(active <= before, "no place is added at `Now`");
        } else if active > before {
            self.inbox_active.fetch_add(active - before, Relaxed);
        } else if active < before {
            self.inbox_active.fetch_sub(before - active, Relaxed);
        }
        self.size
            .store(active as u64 | (retire as u64) << 32, Relaxed);
    }

    /// Workers started and not yet decided to leave.
    pub(crate) fn active(&self) -> usize {
        self.counts().0
    }

    /// Counts `n` more active workers. Inbox lock held.
    pub(crate) fn add_active(&self, n: usize) {
        let (active, retire) = self.counts();
        self.set_counts(active + n, retire);
    }

    /// Reserves places for up to `n` more workers, never taking the count
    /// past [`Summoning::MAX_WORKERS`]; returns how many (growth). Inbox
    /// lock held.
    pub(crate) fn reserve(&self, n: usize) -> usize {
        let (active, retire) = self.counts();
        let n = n.min(Summoning::MAX_WORKERS.saturating_sub(active));
        self.set_counts(active + n, retire);
        n
    }

    /// `n` places are no longer counted: workers that left, or reserved
    /// places whose threads were never started. Inbox lock held.
    pub(crate) fn remove_active(&self, n: usize) {
        let (active, retire) = self.counts();
        self.set_counts(active - n, retire);
    }

    /// Adds up to `n` banish tokens, never more than the active workers
    /// not already banished; a self-sizing pool keeps its min, and its last
    /// worker while `jobs_wait` (as `takes_banish` would, which cancels a
    /// token that comes to the last worker with jobs waiting). Returns how
    /// many were added. Inbox lock held.
    pub(crate) fn banish(&self, n: usize, jobs_wait: bool) -> usize {
        let (active, pending) = self.counts();
        let size = active.saturating_sub(pending);
        let n = match &self.scaling {
            Some(policy) => policy
                .clamp_banish(n, size)
                .min(size.saturating_sub(usize::from(jobs_wait))),
            None => n.min(size),
        };
        self.set_counts(active, pending + n);
        n
    }

    /// A worker with a stagger delay was reserved. Inbox lock held.
    pub(crate) fn add_staggered(&self) {
        self.staggered.fetch_add(1, Relaxed);
    }

    /// A staggered worker's delay is over, or it left or never started
    /// before it. Inbox lock held. Returns whether banish tokens are left
    /// that the workers taking jobs must now take: this was the last
    /// staggered worker, and they may have gone back to sleep past the
    /// tokens it was to take (see [`Inbox::wake_for_tokens`]).
    ///
    /// [`Inbox::wake_for_tokens`]: crate::inbox::Inbox::wake_for_tokens
    pub(crate) fn end_staggered(&self) -> bool {
        self.staggered.fetch_sub(1, Relaxed);
        !self.has_staggered() && self.retire_pending()
    }

    /// Whether a worker is still in (or yet to begin) a stagger delay.
    pub(crate) fn has_staggered(&self) -> bool {
        self.staggered.load(Relaxed) > 0
    }

    /// Whether a banish token is pending.
    pub(crate) fn retire_pending(&self) -> bool {
        self.counts().1 > 0
    }

    /// Cancels pending banishes (exile). Inbox lock held.
    pub(crate) fn clear_banish(&self) {
        let (active, _) = self.counts();
        self.set_counts(active, 0);
    }

    /// A worker retires if a banish token is pending: the token and the
    /// worker's place go together, in one store. Inbox lock held.
    pub(crate) fn retire_one(&self) -> bool {
        let (active, pending) = self.counts();
        if pending == 0 {
            return false;
        }
        self.set_counts(active - 1, pending - 1);
        true
    }

    /// Workers the pool counts now: active and not banished.
    pub(crate) fn poolsize(&self) -> usize {
        let (active, retire) = self.counts();
        active.saturating_sub(retire)
    }
}
