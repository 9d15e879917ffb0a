//! Every synchronisation primitive the pool uses, from one place.
//!
//! Normal builds use `parking_lot` (no poisoning, small and fast locks) and the
//! standard atomics; `--cfg loom` builds swap in the `loom` model checker's
//! versions so that the races modelled in `loom_models.rs` are explored
//! exhaustively. The API here is the small common subset both provide: a lock
//! that hands out a guard, a condition variable that takes the guard by value,
//! atomics, and `thread_local!` (under loom, model threads share one OS
//! thread, so a `std` thread-local would be shared between them).

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
    pub(crate) use std::thread_local;
    pub(crate) use std::time::Instant;

    /// A mutual-exclusion lock that never poisons.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(parking_lot::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }

    /// A condition variable, always used with one `Mutex`.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }
        /// Waits until notified or `deadline`; returns the guard and whether the
        /// deadline passed.
        pub(crate) fn wait_until<'a, T>(
            &self,
            mut guard: MutexGuard<'a, T>,
            deadline: Instant,
        ) -> (MutexGuard<'a, T>, bool) {
            let timed_out = self.0.wait_until(&mut guard, deadline).timed_out();
            (guard, timed_out)
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
    pub(crate) use std::time::Instant;

    use std::cell::Cell;
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;

    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// loom's guard and the lock it came from, so that a timed wait can let
    /// go of the lock and take it again.
    pub(crate) struct MutexGuard<'a, T> {
        mutex: &'a loom::sync::Mutex<T>,
        guard: loom::sync::MutexGuard<'a, T>,
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.guard
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.guard
        }
    }

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard {
                mutex: &self.0,
                guard: self.0.lock().unwrap_or_else(PoisonError::into_inner),
            }
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            let MutexGuard { mutex, guard } = guard;
            let guard = self.0.wait(guard).unwrap_or_else(PoisonError::into_inner);
            MutexGuard { mutex, guard }
        }
        /// loom has no clock, and its `Condvar::wait_timeout` never times
        /// out (it is a plain `wait`). A model picks one of two extremes
        /// with [`set_deadlines`]:
        /// - [`Deadline::Passes`]: the lock is let go (every other thread
        ///   may act in the gap, for as long as loom chooses) and taken
        ///   again, and the wait reports a timeout. A notification sent in
        ///   the gap misses this waiter, as one racing a real timeout may.
        /// - [`Deadline::Never`]: a plain wait that only a notification
        ///   ends, so that a wake-up the protocol forgets shows as a
        ///   deadlock instead of being covered by a timeout.
        ///
        /// Every caller re-checks its condition under the lock after a
        /// timed wait, which is what the models test.
        pub(crate) fn wait_until<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _deadline: Instant,
        ) -> (MutexGuard<'a, T>, bool) {
            match DEADLINES.with(Cell::get) {
                Deadline::Passes => {
                    let MutexGuard { mutex, guard } = guard;
                    drop(guard);
                    let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
                    (MutexGuard { mutex, guard }, true)
                }
                Deadline::Never => (self.wait(guard), false),
            }
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    pub(crate) use loom::thread_local;

    /// What a timed wait does in a model: see [`Condvar::wait_until`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[cfg_attr(not(test), allow(dead_code))] // chosen by the models only
    pub(crate) enum Deadline {
        Passes,
        Never,
    }

    std::thread_local! {
        // A model's threads are coroutines on the test's own OS thread, so
        // this `std` thread-local, set before `check`, is what they all see
        // (and tests running side by side do not see each other's).
        static DEADLINES: Cell<Deadline> = const { Cell::new(Deadline::Passes) };
    }

    /// Sets how timed waits behave in the models this thread runs next.
    #[cfg(test)]
    pub(crate) fn set_deadlines(deadlines: Deadline) {
        DEADLINES.with(|d| d.set(deadlines));
    }
}

pub(crate) use imp::*;

impl Condvar {
    /// Waits until notified or `deadline`, if there is one; `None` is a
    /// deadline past the clock's range (from `Instant::checked_add`), so a
    /// plain wait. Returns the guard and whether the deadline passed.
    pub(crate) fn wait_deadline<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, T>, bool) {
        match deadline {
            Some(deadline) => self.wait_until(guard, deadline),
            None => (self.wait(guard), false),
        }
    }
}
/// Shared ownership is not a race to model: `std`'s `Arc` (with `Weak` and
/// unsized coercions) in both builds.
pub(crate) use std::sync::{Arc, Weak};
