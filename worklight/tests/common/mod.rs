//! Helpers shared by the behaviour tests: a ledger that proves every job ran
//! or was handed back exactly once, jobs that hold a worker until the test
//! releases them, and hooks that count live worker threads.
//!
//! Nothing here sleeps: every wait is on a channel.
#![allow(dead_code)]

pub(crate) mod gate;
pub(crate) mod sizing;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};
use worklight::WorkerInfo;

/// Counts how many jobs ran and how many were dropped. Each job captures a
/// [`Ticket`]: running the job punches it, and the ticket is dropped when the
/// job is dropped, whether it ran or was handed back and discarded.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    runs: AtomicUsize,
    drops: AtomicUsize,
}

/// One job's proof of life; see [`Ledger`].
#[derive(Debug)]
pub(crate) struct Ticket(Arc<Ledger>);

impl Ticket {
    /// Records that the job holding this ticket ran.
    pub(crate) fn punch(&self) {
        self.0.runs.fetch_add(1, SeqCst);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

impl Ledger {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    pub(crate) fn ticket(self: &Arc<Self>) -> Ticket {
        Ticket(Arc::clone(self))
    }

    /// Jobs that ran.
    pub(crate) fn runs(&self) -> usize {
        self.runs.load(SeqCst)
    }

    /// Jobs dropped, run or not.
    pub(crate) fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }

    /// A job that records its run and returns `i`.
    pub(crate) fn job(self: &Arc<Self>, i: usize) -> impl FnOnce() -> usize + Send + 'static {
        let ticket = self.ticket();
        move || {
            ticket.punch();
            i
        }
    }
}

/// Holds workers busy: each job made by [`Hold::job`] says it started, then
/// blocks until [`Hold::release`] (which frees every held job at once).
///
/// Dropping the hold releases too. Declare it after the pool, so that a
/// failing test, unwinding, drops it first and the pool's drop (an exile)
/// does not wait forever for a held job.
#[derive(Debug)]
pub(crate) struct Hold {
    started_tx: Sender<()>,
    started_rx: Receiver<()>,
    release: Mutex<Option<Sender<()>>>,
    gate: Receiver<()>,
}

impl Default for Hold {
    fn default() -> Self {
        Self::new()
    }
}

impl Hold {
    pub(crate) fn new() -> Self {
        let (started_tx, started_rx) = crossbeam_channel::unbounded();
        let (release, gate) = crossbeam_channel::bounded(0);
        Hold {
            started_tx,
            started_rx,
            release: Mutex::new(Some(release)),
            gate,
        }
    }

    /// The body of a held job: signal, then wait for the release.
    pub(crate) fn body(&self) -> impl FnOnce() + Send + 'static {
        let started = self.started_tx.clone();
        let gate = self.gate.clone();
        move || {
            started.send(()).unwrap();
            // The sender is dropped by `release`: recv returns Err then.
            let _ = gate.recv();
        }
    }

    /// A held job that records its run on `ledger` and returns `i`.
    pub(crate) fn job(
        &self,
        ledger: &Arc<Ledger>,
        i: usize,
    ) -> impl FnOnce() -> usize + Send + 'static {
        let body = self.body();
        let ticket = ledger.ticket();
        move || {
            ticket.punch();
            body();
            i
        }
    }

    /// Waits until `n` held jobs have started (and so block a worker each).
    pub(crate) fn wait_started(&self, n: usize) {
        for _ in 0..n {
            self.started_rx.recv().unwrap();
        }
    }

    /// Frees every held job, now and later.
    pub(crate) fn release(&self) {
        self.release.lock().unwrap().take();
    }
}

/// Counts worker threads through the `on_worker_start`/`on_worker_stop`
/// hooks; the stop hook is the last user code a worker thread runs.
#[derive(Debug, Default)]
pub(crate) struct Threads {
    live: AtomicUsize,
    started: AtomicUsize,
    stopped: AtomicUsize,
    stops: Mutex<Option<Sender<usize>>>,
}

impl Threads {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    /// As `new`, also sending each stopping worker's index on the channel.
    pub(crate) fn with_stops() -> (Arc<Self>, Receiver<usize>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let threads = Threads {
            stops: Mutex::new(Some(tx)),
            ..Threads::default()
        };
        (Arc::new(threads), rx)
    }

    /// For `Builder::on_worker_start`.
    pub(crate) fn on_start(self: &Arc<Self>) -> impl Fn(&WorkerInfo) + Send + Sync + 'static {
        let me = Arc::clone(self);
        move |_| {
            me.live.fetch_add(1, SeqCst);
            me.started.fetch_add(1, SeqCst);
        }
    }

    /// For `Builder::on_worker_stop`.
    pub(crate) fn on_stop(self: &Arc<Self>) -> impl Fn(&WorkerInfo) + Send + Sync + 'static {
        let me = Arc::clone(self);
        move |w| {
            me.live.fetch_sub(1, SeqCst);
            me.stopped.fetch_add(1, SeqCst);
            if let Some(tx) = &*me.stops.lock().unwrap() {
                let _ = tx.send(w.index());
            }
        }
    }

    /// Worker threads started and not yet stopped.
    pub(crate) fn live(&self) -> usize {
        self.live.load(SeqCst)
    }

    pub(crate) fn started(&self) -> usize {
        self.started.load(SeqCst)
    }

    pub(crate) fn stopped(&self) -> usize {
        self.stopped.load(SeqCst)
    }
}

/// Sorts what a box yielded, to compare with the ids put.
pub(crate) fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.into_iter().collect();
    v.sort();
    v
}

/// Whether every thread of this process named `name` is asleep (Linux).
pub(crate) fn all_asleep(name: &str, count: usize) -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return true; // not Linux: the test then proves less, not wrong
    };
    let asleep = tasks
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
        .filter(|t| {
            std::fs::read_to_string(t.path().join("stat")).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('S'))
            })
        })
        .count();
    asleep == count
}
