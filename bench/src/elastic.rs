//! The self-sizing pools of workload (h), all between 0 and [`MAX`]
//! threads with a [`KEEP`] keep-alive, and a gauge of their threads'
//! lifetimes: ∫ (threads alive) dt, the thread-seconds a pool holds.
//!
//! The gauge is fed by each pool's own thread hooks where it has them
//! (worklight's `on_worker_start/stop`, tokio's `on_thread_start/stop`);
//! `rusty_pool` has none, so its jobs register their thread on its first
//! job through a thread-local whose destructor runs when the thread exits.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::peers;

/// The most threads of every pool.
pub(crate) const MAX: usize = 8;
/// How long a surplus thread waits idle before it exits, in every pool.
pub(crate) const KEEP: Duration = Duration::from_millis(50);

pub(crate) const WORKLIGHT_R0: &str = "worklight ratio 0";
pub(crate) const TOKIO: &str = "tokio spawn_blocking";

/// The contenders: worklight at its default ratio 1 (a burst put job by
/// job, or with one `put_all`) and at ratio 0, `rusty_pool` (core 0,
/// max 8), tokio's blocking pool (max 8).
pub(crate) const PEERS: [&str; 5] = [
    peers::WORKLIGHT,
    peers::WORKLIGHT_ALL,
    WORKLIGHT_R0,
    peers::RUSTY,
    TOKIO,
];

#[derive(Default)]
struct Level {
    alive: usize,
    peak: usize,
    starts: u64,
    area: f64,
    since: Option<Instant>,
}

impl Level {
    fn advance(&mut self, now: Instant) {
        if let Some(since) = self.since {
            self.area += self.alive as f64 * now.saturating_duration_since(since).as_secs_f64();
        }
        self.since = Some(now);
    }
}

/// Threads alive now, threads started, and thread-seconds so far.
#[derive(Default)]
pub(crate) struct Gauge(Mutex<Level>);

/// What a [`Gauge`] read at one instant.
#[derive(Clone, Copy)]
pub(crate) struct Reading {
    pub(crate) at: Instant,
    pub(crate) alive: usize,
    pub(crate) starts: u64,
    pub(crate) area: f64,
}

impl Gauge {
    fn change(&self, up: bool) {
        let mut l = self.0.lock().expect("gauge lock");
        l.advance(Instant::now());
        if up {
            l.alive += 1;
            l.peak = l.peak.max(l.alive);
            l.starts += 1;
        } else {
            l.alive -= 1;
        }
    }

    /// The most threads alive at once since the last call.
    pub(crate) fn take_peak(&self) -> usize {
        let mut l = self.0.lock().expect("gauge lock");
        let alive = l.alive;
        std::mem::replace(&mut l.peak, alive)
    }

    pub(crate) fn read(&self) -> Reading {
        let mut l = self.0.lock().expect("gauge lock");
        let at = Instant::now();
        l.advance(at);
        Reading {
            at,
            alive: l.alive,
            starts: l.starts,
            area: l.area,
        }
    }
}

/// A `rusty_pool` thread's entry in its gauge, left when the thread exits.
struct Life(Arc<Gauge>);

impl Drop for Life {
    fn drop(&mut self) {
        self.0.change(false);
    }
}

thread_local! {
    static LIFE: RefCell<Option<Life>> = const { RefCell::new(None) };
}

/// Counts this thread in `gauge` from now until it exits (once per thread).
fn enter(gauge: &Arc<Gauge>) {
    LIFE.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_none() {
            gauge.change(true);
            *l = Some(Life(Arc::clone(gauge)));
        }
    });
}

/// One of the pools, built empty, delivering job results to one channel.
pub(crate) struct Elastic {
    pool: Pool,
    pub(crate) gauge: Arc<Gauge>,
    results: &'static Sender<u64>,
    /// Threads the pool keeps that are not part of its elastic set (tokio's
    /// async worker), alive from build to drop, left out of the counts.
    pub(crate) fixed: usize,
    /// Queue a burst with one `Inbox::put_all` call.
    batch: bool,
}

enum Pool {
    Worklight(worklight::WorkerPool<u64>),
    Rusty(rusty_pool::ThreadPool),
    Tokio(tokio::runtime::Runtime),
}

impl Elastic {
    /// Builds peer `name` with no threads running jobs yet, results to
    /// `results`; returns once its fixed threads have started.
    pub(crate) fn build(name: &str, results: &'static Sender<u64>) -> Elastic {
        let gauge = Arc::new(Gauge::default());
        let (g1, g2) = (Arc::clone(&gauge), Arc::clone(&gauge));
        let (pool, fixed) = match name {
            peers::WORKLIGHT | peers::WORKLIGHT_ALL | WORKLIGHT_R0 => {
                let ratio = usize::from(name != WORKLIGHT_R0);
                let policy = worklight::Summoning::new(0, MAX)
                    .ratio(ratio)
                    .keep_alive(KEEP);
                let pool = worklight::WorkerPool::builder()
                    .summoning(policy)
                    .name("wl")
                    .outbox(results.clone())
                    .on_worker_start(move |_| g1.change(true))
                    .on_worker_stop(move |_| g2.change(false))
                    .build()
                    .expect("build a self-sizing worklight pool");
                (Pool::Worklight(pool), 0)
            }
            peers::RUSTY => {
                let pool = rusty_pool::ThreadPool::new_named("rusty".into(), 0, MAX, KEEP);
                (Pool::Rusty(pool), 0)
            }
            TOKIO => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .max_blocking_threads(MAX)
                    .thread_keep_alive(KEEP)
                    .thread_name("tokio-b")
                    .on_thread_start(move || g1.change(true))
                    .on_thread_stop(move || g2.change(false))
                    .enable_all()
                    .build()
                    .expect("build a tokio runtime");
                (Pool::Tokio(rt), 1)
            }
            other => unreachable!("no pool named {other}"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while gauge.read().alive < fixed {
            assert!(
                Instant::now() < deadline,
                "{name}: fixed threads never started"
            );
            std::thread::yield_now();
        }
        Elastic {
            pool,
            gauge,
            results,
            fixed,
            batch: name == peers::WORKLIGHT_ALL,
        }
    }

    /// Queues a burst of jobs, one by one (or with one `put_all`); their
    /// results go to the results channel.
    pub(crate) fn put_all<F>(&self, jobs: impl IntoIterator<Item = F>)
    where
        F: FnOnce() -> u64 + Send + 'static,
    {
        match &self.pool {
            Pool::Worklight(pool) if self.batch => {
                pool.inbox.put_all(jobs).expect("put_all");
            }
            _ => jobs.into_iter().for_each(|job| self.put(job)),
        }
    }

    fn put(&self, job: impl FnOnce() -> u64 + Send + 'static) {
        match &self.pool {
            Pool::Worklight(pool) => {
                pool.inbox.put(job).expect("put");
            }
            Pool::Rusty(pool) => {
                let (tx, gauge) = (self.results, Arc::clone(&self.gauge));
                pool.execute(move || {
                    enter(&gauge);
                    tx.send(job()).expect("send");
                });
            }
            Pool::Tokio(rt) => {
                let tx = self.results;
                drop(rt.spawn_blocking(move || tx.send(job()).expect("send")));
            }
        }
    }

    /// worklight's own `(spawned, high_water)`, to cross-check the gauge.
    pub(crate) fn worklight_counts(&self) -> Option<(u64, usize)> {
        match &self.pool {
            Pool::Worklight(pool) => {
                let m = pool.metrics();
                Some((m.spawned, m.high_water))
            }
            _ => None,
        }
    }

    /// Shuts the pool down: worklight's exile joins its threads; rusty_pool
    /// waits until it is idle (its threads exit later, unjoined); tokio
    /// waits up to 10 s for its blocking threads.
    pub(crate) fn close(self) {
        match self.pool {
            Pool::Worklight(pool) => pool.exile().expect("exile"),
            Pool::Rusty(pool) => pool.shutdown_join(),
            Pool::Tokio(rt) => rt.shutdown_timeout(Duration::from_secs(10)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_integrates_threads_alive() {
        let g = Gauge::default();
        let r0 = g.read();
        g.change(true);
        g.change(true);
        std::thread::sleep(Duration::from_millis(20));
        g.change(false);
        let r1 = g.read();
        let secs = (r1.at - r0.at).as_secs_f64();
        assert!(r1.area - r0.area >= 0.039 && r1.area - r0.area <= 2.0 * secs);
        assert_eq!(
            (r1.alive, r1.starts, g.take_peak(), g.take_peak()),
            (1, 2, 2, 1)
        );
    }

    #[test]
    fn every_pool_runs_jobs_and_shrinks_to_none() {
        for name in PEERS {
            let (tx, rx) = peers::results_channel();
            let pool = Elastic::build(name, tx);
            pool.put_all((0..20u64).map(|i| move || i));
            let sum: u64 = (0..20).map(|_| rx.recv().expect("a result")).sum();
            assert_eq!(sum, 190, "{name}");
            let deadline = Instant::now() + Duration::from_secs(5);
            while pool.gauge.read().alive > pool.fixed {
                assert!(Instant::now() < deadline, "{name} never shrank");
                std::thread::sleep(KEEP / 5);
            }
            assert!(pool.gauge.read().starts > pool.fixed as u64, "{name}");
            pool.close();
        }
    }
}
