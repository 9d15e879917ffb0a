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
use crate::sync::{AtomicBool, AtomicU8, AtomicUsize, Condvar};

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
    /// Banish tokens: each one retires one worker at its next take.
    retire: AtomicUsize,
    /// Workers started and not yet decided to leave.
    pub(crate) active: AtomicUsize,
    /// Workers waiting in a pause (metrics only).
    pub(crate) paused_workers: AtomicUsize,
    /// Paused and staggered workers wait here, with the inbox lock.
    pub(crate) wake: Condvar,
    /// The self-sizing policy, if the pool sizes itself.
    pub(crate) scaling: Option<Summoning>,
}

impl Control {
    pub(crate) fn new(paused: bool, scaling: Option<Summoning>) -> Self {
        Control {
            mode: AtomicU8::new(Mode::Run as u8),
            paused: AtomicBool::new(paused),
            retire: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            paused_workers: AtomicUsize::new(0),
            wake: Condvar::new(),
            scaling,
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Relaxed) {
            0 => Mode::Run,
            1 => Mode::Drain,
            _ => Mode::Now,
        }
    }

    /// Moves the mode forward (never back). Call with the inbox lock held.
    pub(crate) fn advance(&self, to: Mode) {
        if to > self.mode() {
            self.mode.store(to as u8, Relaxed);
        }
    }

    /// Whether a worker may take the next job from its own slot without
    /// the inbox lock: running, not paused, no banish pending.
    pub(crate) fn runs_freely(&self) -> bool {
        self.mode() == Mode::Run && !self.is_paused() && self.retire.load(Relaxed) == 0
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Relaxed)
    }

    /// Call with the inbox lock held, then wake the workers.
    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Relaxed);
    }

    /// Adds up to `n` banish tokens, never more than the active workers
    /// not already banished. Returns how many were added. Inbox lock held.
    pub(crate) fn banish(&self, n: usize) -> usize {
        let active = self.active.load(Relaxed);
        let pending = self.retire.load(Relaxed);
        let size = active.saturating_sub(pending);
        let n = match &self.scaling {
            Some(policy) => policy.clamp_banish(n, size),
            None => n.min(size),
        };
        self.retire.store(pending + n, Relaxed);
        n
    }

    /// Cancels pending banishes (exile). Inbox lock held.
    pub(crate) fn clear_banish(&self) {
        self.retire.store(0, Relaxed);
    }

    /// A worker retires if a banish token is pending. Inbox lock held.
    pub(crate) fn take_retire_token(&self) -> bool {
        let pending = self.retire.load(Relaxed);
        if pending > 0 {
            self.retire.store(pending - 1, Relaxed);
            true
        } else {
            false
        }
    }

    /// Workers the pool counts now: active and not banished.
    pub(crate) fn poolsize(&self) -> usize {
        self.active
            .load(Relaxed)
            .saturating_sub(self.retire.load(Relaxed))
    }
}
