//! How workers take jobs from a long queue: a whole segment at once into a
//! slot of their own, started in the order they were put, and stolen by an
//! idle sibling when the worker holding them is busy.
//!
//! Nothing sleeps: the pools start paused so that the whole queue is there
//! when the first worker looks, and every wait is on a channel, bounded by
//! [`GUARD`] so that a job stuck in a slot fails the test instead of
//! hanging it.

mod common;

use common::gate::{GUARD, Gate, Tally};
use worklight::WorkerPool;

/// Long enough that each of two workers' share is over two segments of
/// the queue, so that a worker takes a whole segment.
const LONG: usize = 3_000;

#[test]
fn a_single_worker_runs_a_long_queue_in_the_order_it_was_put() {
    let pool = WorkerPool::builder().workers(1).paused().build().unwrap();
    let tally = Tally::new(LONG);
    tally.put_all(&pool);
    pool.resume();
    pool.exile().unwrap();
    let order: Vec<usize> = pool.outbox.try_iter().collect();
    assert_eq!(order, (0..LONG).collect::<Vec<_>>());
    tally.assert_each_ran_once();
}

#[test]
fn jobs_behind_a_held_job_are_stolen_by_the_idle_worker() {
    let pool = WorkerPool::builder().workers(2).paused().build().unwrap();
    let gate = Gate::new();
    let tally = Tally::new(LONG);
    // The first job holds whichever worker takes it, with the rest of the
    // queue's front segment in its slot.
    pool.inbox.put(gate.hold(tally.job(0))).unwrap();
    for i in 1..LONG {
        pool.inbox.put(tally.job(i)).unwrap();
    }
    pool.resume();
    gate.wait_started(1);
    // The other worker runs the queue and then everything it can steal:
    // every job but the held one finishes while it is held.
    let mut done: Vec<usize> = (1..LONG)
        .map(|_| {
            pool.outbox
                .get_timeout(GUARD)
                .expect("a job stuck behind the held one")
        })
        .collect();
    assert_eq!(tally.total(), LONG - 1, "no job ran twice");
    gate.open();
    pool.exile().unwrap();
    done.extend(pool.outbox.try_iter());
    done.sort_unstable();
    assert_eq!(done, (0..LONG).collect::<Vec<_>>());
    tally.assert_each_ran_once();
}
