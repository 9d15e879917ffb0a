//! The latch a pool waits on while new workers run their start hook and
//! setup.
//!
//! When a pool is built, starting is all or nothing: a worker whose setup
//! succeeded waits for the verdict (`decide`) before it takes a job, so a
//! build that fails because another worker's setup failed has run no job.
//! A build on the caller's inbox uses the latch even with no setup, so
//! that one failing to start a thread has taken none of the caller's jobs.
//! Workers summoned into a running pool go to work as soon as they are
//! ready; a failed one only makes `summon` report it.

use crate::failure::drop_caught;
use crate::job::BoxError;
use crate::sync::{Condvar, Mutex};

struct State {
    pending: usize,
    failure: Option<(usize, BoxError)>,
    /// For an all-or-nothing start: whether the workers may go to work.
    verdict: Option<bool>,
}

pub(crate) struct Startup {
    state: Mutex<State>,
    changed: Condvar,
    all_or_nothing: bool,
}

impl Startup {
    pub(crate) fn new(workers: usize, all_or_nothing: bool) -> Self {
        Startup {
            state: Mutex::new(State {
                pending: workers,
                failure: None,
                verdict: None,
            }),
            changed: Condvar::new(),
            all_or_nothing,
        }
    }

    fn count_down(&self, n: usize, failure: Option<(usize, BoxError)>) {
        let mut st = self.state.lock();
        st.pending -= n;
        let unreported = match st.failure {
            None => std::mem::replace(&mut st.failure, failure),
            Some(_) => failure,
        };
        if st.pending == 0 {
            self.changed.notify_all();
        }
        drop(st);
        // A later failure is not reported; its error is the user's, whose
        // `Drop` may panic, on the worker.
        drop_caught(unreported);
    }

    /// A worker's setup succeeded; returns whether it may go to work (for an
    /// all-or-nothing start, once the verdict is in).
    pub(crate) fn ready(&self) -> bool {
        self.count_down(1, None);
        if !self.all_or_nothing {
            return true;
        }
        let mut st = self.state.lock();
        loop {
            if let Some(go) = st.verdict {
                return go;
            }
            st = self.changed.wait(st);
        }
    }

    /// A worker's setup failed; the first failure is reported.
    pub(crate) fn failed(&self, worker: usize, error: BoxError) {
        self.count_down(1, Some((worker, error)));
    }

    /// `n` of the workers counted at `new` were never started.
    pub(crate) fn never_started(&self, n: usize) {
        if n > 0 {
            self.count_down(n, None);
        }
    }

    /// Releases the workers waiting for the verdict.
    pub(crate) fn decide(&self, go: bool) {
        let mut st = self.state.lock();
        st.verdict.get_or_insert(go);
        self.changed.notify_all();
    }

    /// Waits for every worker's setup; returns the first failure.
    pub(crate) fn wait(&self) -> Option<(usize, BoxError)> {
        let mut st = self.state.lock();
        while st.pending > 0 {
            st = self.changed.wait(st);
        }
        st.failure.take()
    }
}
