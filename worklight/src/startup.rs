//! The latch a pool waits on while new workers run their setup.

use crate::job::BoxError;
use crate::sync::{Condvar, Mutex};

struct State {
    pending: usize,
    failure: Option<(usize, BoxError)>,
}

pub(crate) struct Startup {
    state: Mutex<State>,
    done: Condvar,
}

impl Startup {
    pub(crate) fn new(workers: usize) -> Self {
        Startup {
            state: Mutex::new(State {
                pending: workers,
                failure: None,
            }),
            done: Condvar::new(),
        }
    }

    fn count_down(&self, n: usize, failure: Option<(usize, BoxError)>) {
        let mut st = self.state.lock();
        st.pending -= n;
        if st.failure.is_none() {
            st.failure = failure;
        }
        if st.pending == 0 {
            self.done.notify_all();
        }
    }

    /// A worker's setup succeeded.
    pub(crate) fn ready(&self) {
        self.count_down(1, None);
    }

    /// A worker's setup failed; the first failure is reported.
    pub(crate) fn failed(&self, worker: usize, error: BoxError) {
        self.count_down(1, Some((worker, error)));
    }

    /// `n` workers will never start.
    pub(crate) fn cancel(&self, n: usize) {
        self.count_down(n, None);
    }

    /// Waits for every worker's setup; returns the first failure.
    pub(crate) fn wait(&self) -> Option<(usize, BoxError)> {
        let mut st = self.state.lock();
        while st.pending > 0 {
            st = self.done.wait(st);
        }
        st.failure.take()
    }
}
