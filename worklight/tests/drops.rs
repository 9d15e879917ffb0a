//! What a pool frees and joins: a pool that a caller-supplied box holds (a
//! cycle the user made) is freed by its exile, and a retired worker's
//! thread is joined; a producer's panic that drops the pool ends the
//! reading of its outbox; jobs that could not be run are dropped one at a
//! time, a panic in each one's `Drop` caught.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

mod common;

use common::gate::GUARD;
use common::{Ledger, sorted};
use worklight::{JobError, Summoning, WorkerPool, callback};

/// The errbox's callback holds the pool itself: dropping the caller's
/// handle alone would leave the cycle, but the exile drops the boxes, and
/// then the pool goes with the last handle.
#[test]
fn a_pool_its_own_box_holds_is_freed_after_its_exile() {
    let slot: Arc<OnceLock<Arc<WorkerPool<u32>>>> = Arc::new(OnceLock::new());
    let held = Arc::clone(&slot);
    let pool = Arc::new(
        WorkerPool::builder()
            .workers(2)
            .errbox(callback(move |e: JobError| {
                let pool = held.get().expect("the pool is set before any job");
                // A failure makes the pool log how many results are waiting.
                eprintln!("{e}; {} results waiting", pool.outbox.len());
            }))
            .build()
            .unwrap(),
    );
    slot.set(Arc::clone(&pool)).ok().unwrap();
    drop(slot);
    let weak = Arc::downgrade(&pool);
    pool.inbox.put(|| 1).unwrap();
    pool.inbox.put(|| -> u32 { panic!("lost") }).unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.iter().collect::<Vec<_>>(), vec![1]);
    assert_eq!(pool.metrics().panicked, 1);
    drop(pool);
    assert!(weak.upgrade().is_none(), "the exile ended the cycle");
}

static TLS_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A thread-local whose destructor takes a while: the last thing a worker
/// thread runs, after the worker has left the pool.
struct SlowToDrop;

impl Drop for SlowToDrop {
    fn drop(&mut self) {
        thread::sleep(Duration::from_millis(50));
        TLS_DROPPED.fetch_add(1, SeqCst);
    }
}

thread_local! {
    static SLOW: SlowToDrop = const { SlowToDrop };
}

/// A retired worker's thread may still be running its thread-locals'
/// destructors when the pool starts another: it is joined, by that start
/// or by the exile, so no thread of the pool outlives the exile.
#[test]
fn a_retired_workers_thread_is_joined_by_the_exile() {
    let (stopped, stops) = crossbeam_channel::unbounded();
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(0, 1).keep_alive(Duration::from_millis(1)))
        .on_worker_stop(move |_| stopped.send(()).unwrap())
        .build()
        .unwrap();
    pool.inbox.put(|| SLOW.with(|_| 1)).unwrap();
    // The worker retires: its destructors run once it has left.
    stops.recv_timeout(Duration::from_secs(10)).unwrap();
    pool.inbox.put(|| 2).unwrap(); // starts a new worker
    pool.exile().unwrap();
    assert_eq!(TLS_DROPPED.load(SeqCst), 1, "the retired thread was joined");
    assert_eq!(sorted(pool.outbox.iter()), [1, 2]);
}

/// A producer thread that owns the pool and panics drops it on the way
/// out, which exiles it: a reader of a clone of the outbox gets every
/// result of the jobs put before the panic, and then its loop ends.
#[test]
fn a_producer_that_panics_ends_the_readers_loop_after_the_last_result() {
    const JOBS: usize = 30;
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .capacity(4)
        .build()
        .unwrap();
    let results = pool.outbox.clone();
    let jobs = Arc::clone(&ledger);
    let producer = thread::spawn(move || {
        for i in 0..JOBS {
            pool.inbox.put(jobs.job(i)).unwrap();
        }
        panic!("the producer's input broke");
    });
    let (tx, read) = crossbeam_channel::bounded(1);
    thread::spawn(move || tx.send(results.iter().collect::<Vec<_>>()).unwrap());
    let read = read
        .recv_timeout(GUARD)
        .expect("the reader's loop did not end");
    assert!(producer.join().is_err());
    assert_eq!(sorted(read), (0..JOBS).collect::<Vec<_>>());
    assert_eq!((ledger.runs(), ledger.drops()), (JOBS, JOBS));
}

/// Captured by a job: counts its drop, then panics in it.
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        panic!("a job's capture panicked in its drop");
    }
}

const STRANDED: usize = 3;

/// A 2-worker pool whose workers are banished and gone, whose third
/// worker's setup fails, and whose inbox holds `STRANDED` jobs that
/// capture a `PanicsOnDrop`: its exile can only hand them back.
fn stranded_jobs<'a>(
    pool: &worklight::Pool<'a, impl worklight::Kind<Item = worklight::Job<'a, u32>>>,
    stops: &crossbeam_channel::Receiver<usize>,
    dropped: &Arc<AtomicUsize>,
) {
    assert_eq!(pool.banish(2), 2);
    stops.recv_timeout(GUARD).unwrap();
    stops.recv_timeout(GUARD).unwrap();
    for _ in 0..STRANDED {
        let capture = PanicsOnDrop(Arc::clone(dropped));
        pool.inbox
            .put(move || {
                let _keep = &capture;
                1
            })
            .unwrap();
    }
}

fn setup_fails_past_two(w: &worklight::WorkerInfo) -> Result<(), &'static str> {
    if w.index() < 2 {
        Ok(())
    } else {
        Err("no third connection")
    }
}

/// Dropping a pool whose exile would hand jobs back drops them unrun; each
/// job's `Drop` panic is caught there, so none escapes the pool's drop
/// (which may run in an unwind already) and two of them do not abort.
#[test]
fn dropping_a_pool_drops_the_jobs_it_could_not_run_each_on_its_own() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (threads, stops) = common::Threads::with_stops();
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(setup_fails_past_two)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    stranded_jobs(&pool, &stops, &dropped);
    let dropping = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(pool)));
    assert!(
        dropping.is_ok(),
        "a job's drop panic escaped the pool's drop"
    );
    assert_eq!(dropped.load(SeqCst), STRANDED);
    assert_eq!(threads.live(), 0);
}

/// A scoped pool whose closure panics drops the jobs it could not run
/// before the closure's panic goes on; their `Drop` panics are caught, so
/// the closure's own panic is the one the caller sees, and no abort.
#[test]
fn a_scoped_pool_whose_closure_panics_drops_its_unrun_jobs_before_the_unwind() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (threads, stops) = common::Threads::with_stops();
    let scoped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        WorkerPool::builder()
            .workers(2)
            .worker_setup(setup_fails_past_two)
            .on_worker_start(threads.on_start())
            .on_worker_stop(threads.on_stop())
            .scope(|pool| {
                stranded_jobs(pool, &stops, &dropped);
                panic!("the closure's own panic");
            })
    }));
    let payload = scoped.expect_err("the closure's panic goes on to the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the closure's own panic")
    );
    assert_eq!(dropped.load(SeqCst), STRANDED);
    assert_eq!(threads.live(), 0);
}
