//! Holding workers busy and counting job runs, for the control and
//! self-sizing tests.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use worklight::WorkerPool;

/// How long any wait may take before the test fails instead of hanging.
pub(crate) const GUARD: Duration = Duration::from_secs(10);

/// Holds workers busy: a held job says it started, then blocks until the
/// gate opens. Declare the gate after the pool, so that a failing test drops
/// (opens) it before the pool's drop waits for the held workers.
pub(crate) struct Gate {
    started: (Sender<()>, Receiver<()>),
    open: Mutex<Option<Sender<()>>>,
    wait: Receiver<()>,
}

impl Gate {
    pub(crate) fn new() -> Self {
        let (open, wait) = bounded(0);
        Gate {
            started: unbounded(),
            open: Mutex::new(Some(open)),
            wait,
        }
    }

    /// A job that holds its worker until the gate opens, then runs `then`.
    pub(crate) fn hold<T, F>(&self, then: F) -> impl FnOnce() -> T + Send + use<T, F>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let (started, wait) = (self.started.0.clone(), self.wait.clone());
        move || {
            started.send(()).unwrap();
            let _ = wait.recv(); // Err once the gate is open.
            then()
        }
    }

    /// Waits until `n` held jobs have started: `n` workers are busy.
    pub(crate) fn wait_started(&self, n: usize) {
        for _ in 0..n {
            let started = self.started.1.recv_timeout(GUARD);
            started.expect("a held job did not start");
        }
    }

    /// Frees every held job, now and later.
    pub(crate) fn open(&self) {
        self.open.lock().unwrap().take();
    }
}

/// Counts the runs of each job by its index: proves exactly-once.
#[derive(Clone)]
pub(crate) struct Tally(pub(crate) Arc<Vec<AtomicUsize>>);

impl Tally {
    pub(crate) fn new(n: usize) -> Self {
        Tally(Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect()))
    }

    /// A job that records its run and returns its index.
    pub(crate) fn job(&self, i: usize) -> impl FnOnce() -> usize + Send + 'static + use<> {
        let tally = self.clone();
        move || {
            tally.0[i].fetch_add(1, SeqCst);
            i
        }
    }

    pub(crate) fn runs(&self) -> Vec<usize> {
        self.0.iter().map(|r| r.load(SeqCst)).collect()
    }

    /// Puts every job on `pool`.
    pub(crate) fn put_all(&self, pool: &WorkerPool<usize>) {
        for i in 0..self.0.len() {
            pool.inbox.put(self.job(i)).unwrap();
        }
    }

    /// Puts every job on `pool`, held at `gate`.
    pub(crate) fn put_held(&self, pool: &WorkerPool<usize>, gate: &Gate) {
        for i in 0..self.0.len() {
            pool.inbox.put(gate.hold(self.job(i))).unwrap();
        }
    }

    pub(crate) fn total(&self) -> usize {
        self.runs().iter().sum()
    }

    pub(crate) fn assert_each_ran_once(&self) {
        assert_eq!(self.runs(), vec![1; self.0.len()], "runs per job");
    }
}
