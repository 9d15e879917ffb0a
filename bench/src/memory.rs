//! (g) Memory: heap bytes per queued job and per idle worker, counted by
//! the counting global allocator (see `alloc.rs`); then idle wake-ups.
//!
//! Queued jobs: worklight's pool is built paused; the other pools' workers
//! are each held by a blocking "gate" job. Then `n` jobs are queued and the
//! heap growth divided by `n`; then the pool is released and every result
//! checked. Idle workers: pools of 1 and of 65 started workers, the
//! difference divided by 64. Thread stacks are mapped by the system, not
//! allocated on the heap, and so are not in these figures.

use std::any::Any;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::alloc;
use crate::config::Config;
use crate::peers::{self, Execute, HandPool, recv_sum};
use crate::stats::{Row, Table};
use crate::work::{check, tiny, tiny_sum};

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    alloc::start();
    let jobs = queued_jobs(cfg);
    let workers = idle_workers();
    alloc::stop();
    let idle = crate::idle::run(cfg);
    vec![jobs, workers, idle]
}

/// Holds every worker of a pool in a job until released.
struct Gate {
    open: Option<Sender<()>>,
    opened: Receiver<()>,
    started: (Sender<()>, Receiver<()>),
}

impl Gate {
    fn new() -> Gate {
        let (open, opened) = crossbeam_channel::bounded(0);
        Gate {
            open: Some(open),
            opened,
            started: crossbeam_channel::unbounded(),
        }
    }

    /// A job that blocks its worker until `release`.
    fn blocker(&self) -> impl FnOnce() + Send + 'static {
        let (started, opened) = (self.started.0.clone(), self.opened.clone());
        move || {
            started.send(()).expect("gate");
            let _ = opened.recv();
        }
    }

    fn wait_started(&self, k: usize) {
        for _ in 0..k {
            self.started.1.recv().expect("gate");
        }
    }

    fn release(&mut self) {
        self.open.take();
    }
}

/// Heap growth while `queue` runs, per job.
fn per_job(n: u64, queue: impl FnOnce()) -> f64 {
    let before = alloc::current();
    queue();
    (alloc::current() - before) as f64 / n as f64
}

/// Heap bytes per job of `n` tiny jobs queued on `pool` behind its `w`
/// held workers, each job carrying a sender for its result; then releases
/// the workers, checks every result and shuts the pool down.
fn executed_bytes<P: Execute>(peer: &str, pool: P, w: usize, n: u64) -> f64 {
    let (tx, rx) = peers::results_channel();
    let mut gate = Gate::new();
    (0..w).for_each(|_| pool.execute(gate.blocker()));
    gate.wait_started(w);
    let bytes = per_job(n, || peers::execute_each(&pool, tx, 0..n, tiny));
    gate.release();
    check("g", peer, recv_sum(&rx, n), tiny_sum(n));
    pool.shut_down();
    bytes
}

fn queued_jobs(cfg: &Config) -> Table {
    let n = cfg.size(100_000, 10_000);
    let w = cfg.workers;
    let expected = tiny_sum(n);
    let mut rows = Vec::new();
    let mut row = |name: &'static str, bytes: f64| rows.push(Row::new(name, &[bytes]));

    let pool = worklight::WorkerPool::<u64>::builder()
        .workers(w)
        .paused()
        .build()
        .expect("build");
    row(
        peers::WORKLIGHT,
        worklight_bytes(peers::WORKLIGHT, pool, n, |i| move || tiny(i)),
    );
    let pool = peers::worklight_data(w, "wl", true);
    row(
        peers::WORKLIGHT_DATA,
        worklight_bytes(peers::WORKLIGHT_DATA, pool, n, |i| i),
    );

    let mut gate = Gate::new();
    let pool = HandPool::new(w, "hand");
    for _ in 0..w {
        let b = gate.blocker();
        pool.put(move || {
            b();
            0
        });
    }
    gate.wait_started(w);
    row(
        peers::HAND,
        per_job(n, || (0..n).for_each(|i| pool.put(move || tiny(i)))),
    );
    gate.release();
    check(
        "g",
        peers::HAND,
        recv_sum(&pool.results, n + w as u64),
        expected,
    );
    pool.join();

    // The data floor's workers are held by a sentinel item.
    const HOLD: u64 = u64::MAX;
    let mut gate = Gate::new();
    let (started, opened) = (gate.started.0.clone(), gate.opened.clone());
    let pool = HandPool::with_runner(w, "hand", move |i: u64| match i {
        HOLD => {
            started.send(()).expect("gate");
            let _ = opened.recv();
            0
        }
        i => tiny(i),
    });
    (0..w).for_each(|_| pool.send(HOLD));
    gate.wait_started(w);
    row(
        peers::HAND_DATA,
        per_job(n, || (0..n).for_each(|i| pool.send(i))),
    );
    gate.release();
    check(
        "g",
        peers::HAND_DATA,
        recv_sum(&pool.results, n + w as u64),
        expected,
    );
    pool.join();

    let tp = peers::threadpool(w, "tp");
    row(
        peers::THREADPOOL,
        executed_bytes(peers::THREADPOOL, tp, w, n),
    );
    let rayon = peers::rayon(w, "rayon");
    row(
        peers::RAYON_SPAWN,
        executed_bytes(peers::RAYON_SPAWN, rayon, w, n),
    );
    let rusty = peers::rusty(w, "rusty");
    row(peers::RUSTY, executed_bytes(peers::RUSTY, rusty, w, n));

    let mut table = Table::new(
        "g job",
        format!("(g) heap bytes per queued job ({n} jobs queued behind {w} held workers)"),
        "bytes",
    );
    table.rows = rows;
    table.notes.push(
        "Requested sizes, including the queue's own growth slack. Jobs that return \
         through a channel (threadpool, rayon spawn, rusty_pool) carry a reference to its \
         sender; worklight and the hand-rolled pool send from the worker; worklight data \
         queues plain `u64` items (a `HandlerPool`), hand-rolled data the same items on its \
         channel."
            .to_string(),
    );
    table
}

/// Heap bytes per job of `n` jobs queued on the paused worklight `pool`;
/// then runs them and checks every result.
fn worklight_bytes<K, J>(
    peer: &str,
    pool: worklight::Pool<'static, K>,
    n: u64,
    job: impl Fn(u64) -> J,
) -> f64
where
    K: worklight::Kind<Output = u64>,
    J: worklight::IntoJob<K::Item>,
{
    let bytes = per_job(n, || {
        for i in 0..n {
            pool.inbox.put(job(i)).expect("put");
        }
    });
    pool.resume();
    pool.exile().expect("exile");
    check("g", peer, pool.outbox.try_iter().sum(), tiny_sum(n));
    bytes
}

/// Lets freshly started (or stopping) threads finish their own allocations.
fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}

/// The burst a pool runs before its idle workers are counted: long enough
/// a queue that workers take whole segments of it, so that what a worker
/// keeps after work is counted, not only what a fresh one has. The same
/// for the pool of 1 and of 65, so that what the pool keeps for its queue
/// (worklight: a few spare segments, at most about 50 KB) cancels out and
/// is not counted as the workers'.
const BURST: u64 = 65_000;

/// Runs a burst of `BURST` tiny jobs on `pool`, put one by one, and checks
/// every result.
fn burst<P: Execute>(peer: &str, pool: &P) {
    let n = BURST;
    let (tx, rx) = peers::results_channel();
    peers::execute_each(pool, tx, 0..n, tiny);
    check("g", peer, recv_sum(&rx, n), tiny_sum(n));
}

/// Heap bytes of one more idle worker: (pool of 65 − pool of 1) / 64, each
/// pool built and given a burst of work by `build`, then left to settle.
fn per_worker(build: impl Fn(usize) -> Box<dyn Any>) -> f64 {
    let heap = |k: usize| {
        settle();
        let before = alloc::current();
        let pool = build(k);
        settle();
        let bytes = alloc::current() - before;
        drop(pool);
        bytes
    };
    let one = heap(1);
    let many = heap(65);
    settle();
    (many - one) as f64 / 64.0
}

fn idle_workers() -> Table {
    let rows = vec![
        (
            peers::WORKLIGHT,
            per_worker(|k| {
                let pool = peers::worklight::<u64>(k, "wl");
                let n = BURST;
                (0..n).for_each(|i| _ = pool.inbox.put(move || tiny(i)).expect("put"));
                let sum = (0..n).map(|_| pool.outbox.get().expect("get")).sum();
                check("g", peers::WORKLIGHT, sum, tiny_sum(n));
                Box::new(pool)
            }),
        ),
        (
            peers::HAND,
            per_worker(|k| {
                let pool = HandPool::<u64>::new(k, "hand");
                let n = BURST;
                (0..n).for_each(|i| pool.put(move || tiny(i)));
                check("g", peers::HAND, recv_sum(&pool.results, n), tiny_sum(n));
                Box::new(pool)
            }),
        ),
        (
            peers::THREADPOOL,
            per_worker(|k| {
                let pool = peers::threadpool(k, "tp");
                burst(peers::THREADPOOL, &pool);
                Box::new(pool)
            }),
        ),
        (
            peers::RAYON_SPAWN,
            per_worker(|k| {
                let pool = peers::rayon(k, "rayon");
                burst(peers::RAYON_SPAWN, &pool);
                Box::new(pool)
            }),
        ),
        (
            peers::RUSTY,
            per_worker(|k| {
                let pool = peers::rusty(k, "rusty");
                burst(peers::RUSTY, &pool);
                Box::new(pool)
            }),
        ),
    ];
    let mut table = Table::new(
        "g worker",
        format!(
            "(g) heap bytes per idle worker ((65 workers − 1 worker) / 64, each pool idle \
             after a burst of {BURST} jobs)"
        ),
        "bytes",
    );
    table.rows = rows
        .into_iter()
        .map(|(name, bytes)| Row::new(name, &[bytes]))
        .collect();
    table.notes.push(
        "Heap only: each thread's stack (2 MiB reserved by default, a few pages touched) \
         is mapped outside the allocator. Thread names and the std thread handle are \
         included, and whatever a worker keeps after the burst (the burst's queue and \
         results are gone: every result was taken). rayon's and the detaching pools' \
         threads are counted while alive."
            .to_string(),
    );
    table
}
