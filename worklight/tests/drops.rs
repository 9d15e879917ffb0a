//! What a pool frees and joins: a pool that a caller-supplied box holds (a
//! cycle the user made) is freed by its exile, and a retired worker's
//! thread is joined; a producer's panic that drops the pool ends the
//! reading of its outbox.

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
