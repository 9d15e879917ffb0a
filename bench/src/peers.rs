//! The pools under comparison, built the same way in every workload, and
//! the hand-rolled floor: N threads looping on a crossbeam receiver, with a
//! second channel for results.

use std::ops::Range;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

pub(crate) const WORKLIGHT: &str = "worklight";
pub(crate) const WORKLIGHT_ALL: &str = "worklight put_all";
pub(crate) const WORKLIGHT_SCOPED: &str = "worklight::pool";
pub(crate) const WORKLIGHT_DATA: &str = "worklight data";
pub(crate) const HAND: &str = "hand-rolled";
/// The hand-rolled pool fed plain `u64` items: the floor for data jobs.
pub(crate) const HAND_DATA: &str = "hand-rolled data";
pub(crate) const THREADPOOL: &str = "threadpool";
pub(crate) const RAYON_SPAWN: &str = "rayon spawn";
pub(crate) const RAYON_SCOPE: &str = "rayon::scope";
pub(crate) const RUSTY: &str = "rusty_pool";
pub(crate) const BARE: &str = "bare threads";
/// Bare threads with names: the floor for a pool that names its threads.
pub(crate) const BARE_NAMED: &str = "bare threads, named";
pub(crate) const POLLING_FLOOR: &str = "polling floor";
pub(crate) const STD_SCOPE: &str = "std::thread::scope";
pub(crate) const SERIAL: &str = "serial (1 thread)";

/// A worklight pool of `n` workers whose threads are named `{name}-{i}`.
pub(crate) fn worklight<T: Send + 'static>(n: usize, name: &str) -> worklight::WorkerPool<T> {
    worklight::WorkerPool::builder()
        .workers(n)
        .name(name)
        .build()
        .expect("build a worklight pool")
}

/// Runs the tiny job on plain `u64` items: a data job, nothing boxed.
pub(crate) struct Tiny;

impl worklight::Handler<u64> for Tiny {
    type Output = u64;
    type Error = std::convert::Infallible;
    fn handle(&mut self, i: u64) -> Result<u64, Self::Error> {
        Ok(crate::work::tiny(i))
    }
}

/// A worklight pool of `n` workers for data jobs: `u64` items run by
/// [`Tiny`], with paused workers when `paused`.
pub(crate) fn worklight_data(
    n: usize,
    name: &str,
    paused: bool,
) -> worklight::HandlerPool<u64, Tiny> {
    let builder = worklight::HandlerPool::builder(|_| Tiny)
        .workers(n)
        .name(name);
    let builder = if paused { builder.paused() } else { builder };
    builder.build().expect("build a worklight data pool")
}

/// A `threadpool` pool of `n` threads, all named `name`.
pub(crate) fn threadpool(n: usize, name: &str) -> threadpool::ThreadPool {
    threadpool::Builder::new()
        .num_threads(n)
        .thread_name(name.to_string())
        .build()
}

/// A rayon pool of `n` threads named `{name}-{i}`.
pub(crate) fn rayon(n: usize, name: &str) -> rayon::ThreadPool {
    let name = name.to_string();
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("{name}-{i}"))
        .build()
        .expect("build a rayon pool")
}

/// A `rusty_pool` of exactly `n` threads (core size = max size), started
/// now rather than on the first jobs; threads are named `{name}_thread_{i}`.
pub(crate) fn rusty(n: usize, name: &str) -> rusty_pool::ThreadPool {
    let pool = rusty_pool::ThreadPool::new_named(name.to_string(), n, n, Duration::from_secs(60));
    pool.start_core_threads();
    pool
}

/// The peers that run a closure and hand nothing back (threadpool, rayon's
/// `spawn`, rusty_pool): a job returns its result through a channel whose
/// sender it captures by reference ([`results_channel`]), their best way.
pub(crate) trait Execute: Sync {
    fn execute<F: FnOnce() + Send + 'static>(&self, job: F);

    /// Shuts the pool down, waiting for what it can wait for: threadpool
    /// for its jobs, rusty_pool until it is idle (neither joins its
    /// threads); a rayon pool just drops.
    fn shut_down(self);
}

impl Execute for threadpool::ThreadPool {
    fn execute<F: FnOnce() + Send + 'static>(&self, job: F) {
        threadpool::ThreadPool::execute(self, job);
    }

    fn shut_down(self) {
        self.join();
    }
}

impl Execute for rayon::ThreadPool {
    fn execute<F: FnOnce() + Send + 'static>(&self, job: F) {
        self.spawn(job);
    }

    fn shut_down(self) {}
}

impl Execute for rusty_pool::ThreadPool {
    fn execute<F: FnOnce() + Send + 'static>(&self, job: F) {
        rusty_pool::ThreadPool::execute(self, job);
    }

    fn shut_down(self) {
        self.shutdown_join();
    }
}

/// A channel for the results of jobs that send their own: its sender is
/// leaked (one per sample, never disconnected: the reader counts its
/// results), so that a job captures a reference, not a clone of its own
/// (which costs two atomic operations on a count every thread shares, and
/// 16 bytes in every queued job).
pub(crate) fn results_channel() -> (&'static Sender<u64>, Receiver<u64>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Box::leak(Box::new(tx)), rx)
}

/// Puts `job(i)` on `pool` for each `i` in `range`, each job sending its
/// result on `tx`.
pub(crate) fn execute_each<P, J>(pool: &P, tx: &'static Sender<u64>, range: Range<u64>, job: J)
where
    P: Execute,
    J: Fn(u64) -> u64 + Copy + Send + 'static,
{
    for i in range {
        pool.execute(move || tx.send(job(i)).expect("send"));
    }
}

/// Times `job(i)` for every `i < n` on `pool`, put from this thread: from
/// the first put to the last result in hand. Then shuts the pool down
/// (untimed). Returns the results' wrapping sum and the time.
pub(crate) fn time_execute<P, J>(pool: P, n: u64, job: J) -> (u64, Duration)
where
    P: Execute,
    J: Fn(u64) -> u64 + Copy + Send + 'static,
{
    let (tx, rx) = results_channel();
    let t = Instant::now();
    execute_each(&pool, tx, 0..n, job);
    let sum = recv_sum(&rx, n);
    let elapsed = t.elapsed();
    pool.shut_down();
    (sum, elapsed)
}

/// Times `put(pool, i)` for every `i < n` on the hand-rolled `pool`, from
/// this thread: from the first put to the last result in hand. Then joins
/// the pool (untimed). Returns the results' wrapping sum and the time.
pub(crate) fn time_hand<I>(
    pool: HandPool<u64, I>,
    n: u64,
    put: impl Fn(&HandPool<u64, I>, u64),
) -> (u64, Duration)
where
    I: Send + 'static,
{
    let t = Instant::now();
    (0..n).for_each(|i| put(&pool, i));
    let sum = recv_sum(&pool.results, n);
    let elapsed = t.elapsed();
    pool.join();
    (sum, elapsed)
}

/// Receives `n` results; returns their wrapping sum.
pub(crate) fn recv_sum(rx: &Receiver<u64>, n: u64) -> u64 {
    (0..n).fold(0u64, |s, _| s.wrapping_add(rx.recv().expect("a result")))
}

type HandJob<T> = Box<dyn FnOnce() -> T + Send>;

/// The practical floor: no ids, no panic capture, no shutdown protocol
/// beyond "the job channel disconnected". Its items are boxed closures;
/// [`HandPool::data`] makes the floor for data jobs, whose items are plain
/// values run by one function.
pub(crate) struct HandPool<T, I = HandJob<T>> {
    jobs: Option<Sender<I>>,
    pub(crate) results: Receiver<T>,
    threads: Vec<JoinHandle<()>>,
}

impl<T: Send + 'static> HandPool<T> {
    pub(crate) fn new(n: usize, name: &str) -> HandPool<T> {
        HandPool::with_runner(n, name, |job: HandJob<T>| job())
    }

    pub(crate) fn put(&self, job: impl FnOnce() -> T + Send + 'static) {
        self.send(Box::new(job));
    }
}

impl HandPool<u64, u64> {
    /// `n` threads running the tiny job on `u64` items.
    pub(crate) fn data(n: usize, name: &str) -> Self {
        HandPool::with_runner(n, name, crate::work::tiny)
    }
}

impl<T: Send + 'static, I: Send + 'static> HandPool<T, I> {
    /// `n` threads, each running `run` on the items it receives.
    pub(crate) fn with_runner(
        n: usize,
        name: &str,
        run: impl Fn(I) -> T + Clone + Send + 'static,
    ) -> Self {
        let (jobs, job_rx) = crossbeam_channel::unbounded::<I>();
        let (result_tx, results) = crossbeam_channel::unbounded();
        let threads = (0..n)
            .map(|i| {
                let job_rx = job_rx.clone();
                let (result_tx, run) = (result_tx.clone(), run.clone());
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        for item in job_rx {
                            if result_tx.send(run(item)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawn a hand-rolled worker")
            })
            .collect();
        HandPool {
            jobs: Some(jobs),
            results,
            threads,
        }
    }

    pub(crate) fn send(&self, item: I) {
        self.sender().send(item).expect("hand-rolled pool is open");
    }

    /// The job channel, for producers on other threads.
    pub(crate) fn sender(&self) -> &Sender<I> {
        self.jobs.as_ref().expect("hand-rolled pool is open")
    }

    /// Closes the job channel and joins every worker.
    pub(crate) fn join(mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            t.join().expect("a hand-rolled worker panicked");
        }
    }
}

impl<T, I> Drop for HandPool<T, I> {
    fn drop(&mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
