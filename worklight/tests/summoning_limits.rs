//! The self-sizing pool at its limits: settings past what a pool can
//! count or the clock can measure, growth the system refuses, and `max`
//! held while a banished worker finishes its job.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::Duration;

use crossbeam_channel::bounded;
mod common;

use common::gate::{GUARD, Gate, Tally};
use common::sizing::{eventually, hold_at_max, sizing};
use worklight::{BuildError, Summoning, WorkerPool};

/// A keep-alive too long for the clock to count is no deadline: the surplus
/// workers wait for work, none retires, and each leaves at exile.
#[test]
fn a_keep_alive_past_the_clocks_range_never_retires_a_worker() {
    let (pool, mut stops) = sizing(Summoning::new(1, 3).keep_alive(Duration::MAX));
    let gate = Gate::new();
    let tally = Tally::new(10);
    hold_at_max(&pool, &gate, &tally);
    gate.open();
    // Each worker waits out its keep-alive in the same hold of the inbox
    // lock that counts its last job finished, so all three are waiting when
    // this returns.
    pool.wait_idle().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(pool.poolsize(), 3);

    let again = Tally::new(3);
    for i in 0..3 {
        pool.inbox.put(again.job(i)).unwrap();
    }
    pool.exile().unwrap();
    again.assert_each_ran_once();
    stops.wait_total(3);
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned, m.retired, m.completed), (0, 3, 0, 13));
}

#[test]
fn invalid_policies_are_refused_at_build() {
    let build = |policy| WorkerPool::<()>::builder().summoning(policy).build();
    assert!(matches!(
        build(Summoning::new(0, 0)),
        Err(BuildError::ZeroWorkers)
    ));
    assert!(matches!(
        build(Summoning::new(3, 2)),
        Err(BuildError::Invalid(_))
    ));
    assert!(matches!(
        build(Summoning::new(1, 2).rate(0)),
        Err(BuildError::Invalid(_))
    ));
    let scoped = WorkerPool::<()>::builder()
        .summoning(Summoning::new(1, 2))
        .scope(|_| ());
    assert!(matches!(scoped, Err(BuildError::Invalid(_))));
}

/// A max or rate past anything a pool can count is clamped to
/// `Summoning::MAX_WORKERS`; a min past it is refused at build.
#[test]
fn a_max_or_rate_past_the_ceiling_is_clamped() {
    let unlimited = Summoning::new(0, usize::MAX);
    assert_eq!(unlimited.max(), Summoning::MAX_WORKERS);
    let too_many = Summoning::new(Summoning::MAX_WORKERS + 1, usize::MAX);
    let refused = WorkerPool::<()>::builder().summoning(too_many).build();
    assert!(matches!(refused, Err(BuildError::Invalid(_))));

    // A rate past max grows the pool to max in one step.
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(0, 4).rate(usize::MAX))
        .build()
        .unwrap();
    let gate = Gate::new();
    let tally = Tally::new(1);
    tally.put_held(&pool, &gate);
    assert_eq!(pool.poolsize(), 4);
    gate.open();
    pool.exile().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(pool.metrics().spawned, 4);
}

/// For a pool whose every thread the OS refused, with `queued` put: no
/// worker, the jobs still queued, `wait_idle` says so, and the exile hands
/// them back with the spawn error.
fn assert_nothing_started_and_all_handed_back(pool: &WorkerPool<u8>, queued: &[u8]) {
    assert_eq!((pool.poolsize(), pool.inbox.len()), (0, queued.len()));
    assert_eq!(pool.wait_idle(), Err(worklight::WaitError::NoWorkers));
    match pool.exile() {
        Err(worklight::ExileError::Spawn { unrun, .. }) => {
            let rerun: Vec<u8> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
            assert_eq!(rerun, queued);
        }
        other => panic!("expected the jobs back with the spawn error: {other:?}"),
    }
    assert_eq!(pool.metrics().spawned, 0);
}

/// A self-sizing pool whose growth the OS refuses keeps the job queued
/// (the next put tries again); `wait_idle` says no worker is there to run
/// it, and the exile hands it back with the spawn error.
#[test]
fn growth_the_os_refuses_strands_nothing() {
    let pool = WorkerPool::<u8>::builder()
        .summoning(worklight::Summoning::new(0, 4))
        .stack_size(usize::MAX / 2) // no system can map this stack
        .build()
        .unwrap();
    pool.inbox.put(|| 7).unwrap();
    pool.inbox.put(|| 8).unwrap();
    assert_nothing_started_and_all_handed_back(&pool, &[7, 8]);
}

/// Growth by a huge step that the OS refuses (no system can map the stack)
/// stops at the first refused spawn and gives the other reserved places
/// back: the put returns, the job stays queued, the exile hands it back.
#[test]
fn a_huge_growth_step_the_os_refuses_stops_at_the_first_refusal() {
    let pool = WorkerPool::<u8>::builder()
        .stack_size(usize::MAX / 2)
        .summoning(Summoning::new(0, usize::MAX).rate(usize::MAX))
        .build()
        .unwrap();
    let (inbox, (done, put)) = (pool.inbox.clone(), bounded(1));
    thread::spawn(move || done.send(inbox.put(|| 7).is_ok()));
    if put.recv_timeout(GUARD) != Ok(true) {
        // The put panicked or is still trying to start its workers: leak
        // the pool, whose exile would wait for that put, to fail here.
        std::mem::forget(pool);
        panic!("the put did not return");
    }
    assert_nothing_started_and_all_handed_back(&pool, &[7]);
}

/// A banished worker still finishing its job holds its place until it has
/// left: growth does not start another in it, which the exile, cancelling
/// the banish, would otherwise keep beside it, past max.
#[test]
fn a_banished_worker_still_running_holds_its_place_against_max() {
    let (pool, mut stops) = sizing(Summoning::new(1, 2));
    assert_eq!(pool.summon(1).unwrap(), 1);
    let gate = Gate::new();
    let tally = Tally::new(5);
    pool.inbox.put(gate.hold(tally.job(0))).unwrap();
    pool.inbox.put(gate.hold(tally.job(1))).unwrap();
    gate.wait_started(2);
    assert_eq!(pool.banish(1), 1, "a token for a worker busy with its job");
    for i in 2..5 {
        pool.inbox.put(tally.job(i)).unwrap();
    }
    assert_eq!(pool.metrics().spawned, 2, "no third thread beside max 2");
    assert_eq!(pool.summon(1).unwrap(), 0, "nor by summon");
    thread::scope(|s| {
        let exiling = s.spawn(|| pool.exile());
        eventually("the exile has begun", || pool.is_exiled());
        gate.open();
        exiling.join().unwrap().unwrap();
    });
    tally.assert_each_ran_once();
    stops.wait_total(2);
    assert_eq!(pool.metrics().spawned, 2);
}

/// A bounded inbox can hold no more than `capacity` jobs, so with room for
/// no more than `ratio` jobs per worker the ratio is never crossed. A put
/// that finds the inbox full counts as crossing it: a producer held back
/// grows the pool one step per put, up to `max`.
#[test]
fn a_put_that_finds_a_bounded_inbox_full_grows_the_pool() {
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(1, 4))
        .capacity(1)
        .build()
        .unwrap();
    let gate = Gate::new();
    let tally = Tally::new(5);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..5 {
                pool.inbox.put(gate.hold(tally.job(i))).unwrap();
            }
        });
        // Four held at once: three puts found the inbox full and grew it.
        assert_eq!(held_at_once(&pool, &gate, 4), 4);
    });
    pool.exile().unwrap();
    tally.assert_each_ran_once();
    let m = pool.metrics();
    assert_eq!((m.spawned, m.high_water), (4, 4));
}

/// Puts held back by a full bounded inbox while the pool is paused asked
/// for growth the pause turned down; `resume` counts each of them as a put
/// that found the inbox full, so the pool grows for them.
#[test]
fn puts_held_back_while_paused_grow_the_pool_at_resume() {
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(1, 4))
        .capacity(1)
        .paused()
        .build()
        .unwrap();
    let gate = Gate::new();
    let tally = Tally::new(4);
    pool.inbox.put(gate.hold(tally.job(0))).unwrap(); // the inbox is full
    thread::scope(|s| {
        for i in 1..4 {
            let job = gate.hold(tally.job(i));
            let inbox = &pool.inbox;
            thread::Builder::new()
                .name("held-putter".into())
                .spawn_scoped(s, move || inbox.put(job).unwrap())
                .unwrap();
        }
        eventually("the three putters wait for room", || {
            common::all_asleep("held-putter", 3)
        });
        pool.resume();
        assert_eq!(held_at_once(&pool, &gate, 4), 4);
    });
    pool.exile().unwrap();
    tally.assert_each_ran_once();
}

/// Waits until `n` held jobs run at once, then opens the gate (whether
/// they did or not, so that a failure cannot hang the producers); returns
/// the pool's size while they were held.
fn held_at_once(pool: &WorkerPool<usize>, gate: &Gate, n: usize) -> usize {
    let held = catch_unwind(AssertUnwindSafe(|| gate.wait_started(n)));
    let size = pool.poolsize();
    gate.open();
    assert!(held.is_ok(), "{n} jobs held at once");
    size
}
