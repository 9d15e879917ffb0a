//! The self-sizing pool: growth on the put that crosses the ratio, up to
//! max; retirement of idle surplus workers after the keep-alive, down to
//! min; manual summon and banish clamped within min..=max; pause; worker
//! setup for grown workers; every exile path.
//!
//! Keep-alives are tiny, and shrinking is observed through the
//! `on_worker_stop` hook (each retiring worker sends on a channel), never
//! by sleeping. Workers are held busy by jobs blocking on a channel.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, unbounded};
mod common;

use common::gate::{GUARD, Gate, Tally};
use common::sizing::{Stops, eventually, hold_at_max, sizing};
use worklight::{Exit, Inbox, Job, Summoning, WorkerPool};

const TINY: Duration = Duration::from_millis(2);

#[test]
fn the_put_that_crosses_the_ratio_grows_the_pool_by_rate() {
    let (pool, _stops) = sizing(Summoning::new(1, 8).ratio(2).rate(2));
    let gate = Gate::new();
    let tally = Tally::new(5);
    pool.inbox.put(gate.hold(tally.job(0))).unwrap();
    gate.wait_started(1); // worker 0 is busy, the inbox empty
    pool.inbox.put(gate.hold(tally.job(1))).unwrap();
    pool.inbox.put(gate.hold(tally.job(2))).unwrap();
    assert_eq!(pool.poolsize(), 1, "2 queued for 1 worker: at the ratio");
    pool.inbox.put(gate.hold(tally.job(3))).unwrap();
    assert_eq!(pool.poolsize(), 3, "3 cross it: `rate` more workers");
    let m = pool.metrics();
    assert_eq!((m.spawned, m.high_water), (3, 3));
    gate.wait_started(2);
    pool.inbox.put(gate.hold(tally.job(4))).unwrap();
    assert_eq!(pool.poolsize(), 3, "one queued job for three workers");
    gate.open();
    pool.exile().unwrap();
    tally.assert_each_ran_once();
}

/// Puts `n` held jobs; returns once the pool holds `max` of them at once.
fn burst(pool: &WorkerPool<usize>, gate: &Gate, tally: &Tally, max: usize) {
    for i in 0..tally.0.len() {
        pool.inbox.put(gate.hold(tally.job(i))).unwrap();
        assert!(pool.poolsize() <= max);
    }
    assert_eq!(pool.poolsize(), max, "the burst grew the pool to max");
    gate.wait_started(max);
}

#[test]
fn a_burst_grows_to_max_idleness_shrinks_to_min_and_a_new_burst_regrows() {
    let (pool, mut stops) = sizing(Summoning::new(1, 4).keep_alive(TINY));
    assert_eq!(pool.poolsize(), 1);
    for round in 0..3 {
        let gate = Gate::new();
        let tally = Tally::new(12);
        burst(&pool, &gate, &tally, 4);
        let m = pool.metrics();
        assert_eq!((m.busy, m.high_water), (4, 4), "round {round}");
        gate.open();
        pool.wait_idle().unwrap();
        tally.assert_each_ran_once();
        stops.wait_shrunk(&pool, 1);
    }
    let m = pool.metrics();
    assert!(m.spawned > 3 * 3, "each round regrew: {m:?}");
    assert_eq!(m.high_water, 4);
    pool.exile().unwrap();
    stops.wait_total(pool.metrics().spawned);
}

/// Puts `per_thread` jobs from each of 8 threads at once (job `i` made by
/// `make(i)`); returns the largest poolsize any putter saw.
fn put_from_8_threads(
    pool: &WorkerPool<usize>,
    per_thread: usize,
    make: impl Fn(usize) -> Job<'static, usize> + Sync,
) -> usize {
    let max_seen = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..8 {
            let (make, max_seen) = (&make, &max_seen);
            s.spawn(move || {
                for i in t * per_thread..(t + 1) * per_thread {
                    pool.inbox.put(make(i)).unwrap();
                    max_seen.fetch_max(pool.poolsize(), SeqCst);
                }
            });
        }
    });
    max_seen.into_inner()
}

#[test]
fn concurrent_puts_from_many_threads_never_take_the_pool_past_max() {
    let (pool, mut stops) = sizing(Summoning::new(0, 4).rate(2).keep_alive(TINY));

    // Held jobs: the pool grows to max, and not past it.
    let gate = Gate::new();
    let held = Tally::new(8 * 8);
    let seen = put_from_8_threads(&pool, 8, |i| Job::new(gate.hold(held.job(i))));
    assert!(seen <= 4, "a putter saw {seen} workers");
    assert_eq!(pool.poolsize(), 4);
    gate.wait_started(4);
    assert_eq!(pool.metrics().high_water, 4);
    gate.open();
    pool.wait_idle().unwrap();
    held.assert_each_ran_once();
    stops.wait_shrunk(&pool, 0);

    // Quick jobs: workers come and go while the puts race them.
    let quick = Tally::new(8 * 300);
    let seen = put_from_8_threads(&pool, 300, |i| Job::new(quick.job(i)));
    assert!(seen <= 4, "a putter saw {seen} workers");
    pool.wait_idle().unwrap();
    quick.assert_each_ran_once();
    assert_eq!(pool.metrics().high_water, 4);
    stops.wait_shrunk(&pool, 0);
    pool.exile().unwrap();
}

#[test]
fn no_work_is_stranded_when_a_pool_with_min_zero_shrinks_to_zero() {
    let (pool, mut stops) = sizing(Summoning::new(0, 2).keep_alive(Duration::from_millis(1)));
    assert_eq!((pool.poolsize(), pool.metrics().spawned), (0, 0));
    let tally = Tally::new(40);
    for i in 0..40 {
        pool.inbox.put(tally.job(i)).unwrap();
        assert!(pool.poolsize() >= 1 || tally.total() > i, "job {i}");
        assert_eq!(pool.outbox.get_timeout(GUARD), Ok(i), "job {i} ran");
        if i % 2 == 0 {
            // Every other put comes after the pool is empty again; the rest
            // race the retiring worker.
            stops.wait_shrunk(&pool, 0);
        }
    }
    tally.assert_each_ran_once();
    stops.wait_shrunk(&pool, 0);
    assert!(pool.metrics().spawned >= 20);
    pool.exile().unwrap();
}

#[test]
fn a_pool_built_on_a_shared_inbox_with_jobs_waiting_grows_for_them() {
    let inbox = worklight::Inbox::new();
    let tally = Tally::new(6);
    for i in 0..6 {
        inbox.put(tally.job(i)).unwrap();
    }
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(0, 2))
        .inbox(inbox)
        .build()
        .unwrap();
    // Without growth on build, min 0 would leave the six jobs stranded and
    // `wait_idle` would report that no worker is left.
    pool.wait_idle().expect("the pool grew for the queued jobs");
    assert!((1..=2).contains(&(pool.metrics().spawned as usize)));
    pool.exile().unwrap();
    assert_eq!(
        sorted(pool.outbox.try_iter().collect()),
        (0..6).collect::<Vec<_>>()
    );
    tally.assert_each_ran_once();
}

#[test]
fn summon_and_banish_are_clamped_within_min_and_max() {
    let (pool, mut stops) = sizing(Summoning::new(2, 4));
    assert_eq!(pool.poolsize(), 2);
    assert_eq!(pool.summon(10).unwrap(), 2, "up to max");
    assert_eq!(pool.poolsize(), 4);
    assert_eq!(pool.summon(1).unwrap(), 0, "at max");
    assert_eq!(pool.poolsize(), 4);
    assert_eq!(pool.banish(10), 2, "down to min");
    assert_eq!(pool.poolsize(), 2);
    assert_eq!(pool.banish(1), 0, "at min");
    stops.wait_total(2);
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned, m.retired, m.high_water), (2, 4, 2, 4));

    // The two that stayed still work.
    let tally = Tally::new(10);
    tally.put_all(&pool);
    pool.wait_idle().unwrap();
    tally.assert_each_ran_once();
    pool.exile().unwrap();
}

#[test]
fn banishing_every_worker_of_a_min_zero_pool_never_strands_queued_jobs() {
    let (pool, mut stops) = sizing(Summoning::new(0, 2).rate(2));
    let gate = Gate::new();
    let held = Tally::new(2);
    let queued = Tally::new(4);
    pool.inbox.put(gate.hold(held.job(0))).unwrap(); // grows to 2 at once
    pool.inbox.put(gate.hold(held.job(1))).unwrap();
    gate.wait_started(2);
    queued.put_all(&pool);
    assert_eq!(
        pool.banish(2),
        1,
        "the last worker is kept for the queued jobs"
    );
    assert_eq!(pool.poolsize(), 1);

    gate.open();
    the_last_worker_stays_for_the_queued_jobs(&pool, &held, &queued, &mut stops);
}

/// Of the 2 workers banished while they ran `held`'s jobs, the last to
/// finish stays and runs `queued`'s 4; the other retires.
fn the_last_worker_stays_for_the_queued_jobs(
    pool: &WorkerPool<usize>,
    held: &Tally,
    queued: &Tally,
    stops: &mut Stops,
) {
    let mut got: Vec<usize> = (0..6)
        .map(|_| pool.outbox.get_timeout(GUARD).unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, [0, 0, 1, 1, 2, 3], "the last worker stayed");
    held.assert_each_ran_once();
    queued.assert_each_ran_once();
    stops.wait_total(1);
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned, m.retired), (1, 2, 1));
    pool.exile().unwrap();
}

/// Jobs put after a banish of every worker, while the banished workers are
/// still busy (they count towards `max` until they leave, so the puts start
/// no one): the last of them to finish stays for the jobs.
#[test]
fn jobs_put_after_a_banish_of_every_worker_keep_the_last_one() {
    let (pool, mut stops) = sizing(Summoning::new(0, 2).rate(2));
    let gate = Gate::new();
    let held = Tally::new(2);
    let queued = Tally::new(4);
    pool.inbox.put(gate.hold(held.job(0))).unwrap();
    pool.inbox.put(gate.hold(held.job(1))).unwrap();
    gate.wait_started(2);
    assert_eq!(pool.banish(2), 2, "no job waits: both may go");
    assert_eq!(pool.poolsize(), 0);
    queued.put_all(&pool);

    gate.open();
    the_last_worker_stays_for_the_queued_jobs(&pool, &held, &queued, &mut stops);
}

#[test]
fn pause_stops_growth_and_resume_regrows() {
    let (pool, _stops) = sizing(Summoning::new(1, 4).rate(3));
    let gate = Gate::new();
    let tally = Tally::new(10);
    pool.pause();
    tally.put_held(&pool, &gate);
    let m = pool.metrics();
    assert_eq!((pool.poolsize(), m.spawned, m.high_water), (1, 1, 1));
    assert_eq!(m.queued, 10);

    pool.resume();
    assert_eq!(pool.poolsize(), 4, "resume re-checks the queue and grows");
    gate.wait_started(4);
    gate.open();
    pool.wait_idle().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(pool.metrics().high_water, 4);
    pool.exile().unwrap();

    // A pool at zero workers grows on resume too.
    let (pool, _stops) = sizing(Summoning::new(0, 2));
    pool.pause();
    let tally = Tally::new(3);
    tally.put_all(&pool);
    assert_eq!((pool.poolsize(), tally.total()), (0, 0));
    pool.resume();
    assert!(pool.poolsize() >= 1);
    pool.wait_idle().unwrap();
    tally.assert_each_ran_once();
}

#[test]
fn grown_workers_run_their_setup_and_teardown() {
    type Log<T> = Arc<Mutex<Vec<T>>>;
    let (setups, teardowns): (Log<usize>, Log<(usize, usize)>) = Default::default();
    let (s, t) = (Arc::clone(&setups), Arc::clone(&teardowns));
    let (hook, mut stops) = Stops::hook();
    let pool = WorkerPool::builder()
        .worker_setup(move |w| {
            s.lock().unwrap().push(w.index());
            Ok::<_, Infallible>(w.index())
        })
        .worker_teardown(move |state, w| t.lock().unwrap().push((w.index(), state)))
        .summoning(Summoning::new(1, 3).keep_alive(TINY))
        .on_worker_stop(hook)
        .build()
        .unwrap();
    let gate = Gate::new();
    for _ in 0..9 {
        let held = gate.hold(|| ());
        let job = Job::stateful(move |index: &mut usize| (held(), *index).1);
        pool.inbox.put(job).unwrap();
    }
    assert_eq!(pool.poolsize(), 3);
    gate.wait_started(3);
    gate.open();
    pool.wait_idle().unwrap();
    let mut states: Vec<usize> = pool.outbox.try_iter().collect();
    assert_eq!(states.len(), 9);
    states.sort_unstable();
    states.dedup();
    assert_eq!(states, [0, 1, 2], "each grown worker used its own state");

    let spawned = pool.metrics().spawned;
    let all: Vec<usize> = (0..spawned as usize).collect();
    assert_eq!(sorted(setups.lock().unwrap().clone()), all);
    stops.wait_total(spawned - 1);
    let torn = teardowns.lock().unwrap().clone();
    assert_eq!(torn.len(), all.len() - 1, "each retired one torn down");
    assert!(torn.iter().all(|(index, state)| index == state));
    pool.exile().unwrap();
    assert_eq!(teardowns.lock().unwrap().len(), spawned as usize);
}

#[test]
fn exile_works_off_a_self_sizing_pool_and_stops_its_growth() {
    let (pool, mut stops) = sizing(Summoning::new(1, 3));
    let gate = Gate::new();
    let tally = Tally::new(10);
    hold_at_max(&pool, &gate, &tally);
    thread::scope(|s| {
        let exiling = s.spawn(|| pool.exile());
        eventually("the exile has begun", || pool.is_exiled());
        assert!(pool.inbox.put(|| 99).is_err(), "exiled: puts refused");
        gate.open();
        exiling.join().unwrap().unwrap();
    });
    tally.assert_each_ran_once();
    stops.wait_total(3);
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned, m.retired, m.completed), (0, 3, 0, 10));
}

#[test]
fn exile_now_hands_back_what_a_self_sizing_pool_had_queued() {
    let (pool, mut stops) = sizing(Summoning::new(1, 3));
    let gate = Gate::new();
    let tally = Tally::new(10);
    hold_at_max(&pool, &gate, &tally);
    let unrun = thread::scope(|s| {
        let exiling = s.spawn(|| pool.exile_now());
        eventually("the exile has begun", || pool.is_exiled());
        gate.open();
        exiling.join().unwrap().unwrap()
    });
    assert_eq!((unrun.len(), tally.total()), (7, 3));
    for job in unrun {
        job.run(&mut ()).unwrap();
    }
    tally.assert_each_ran_once();
    stops.wait_total(3);
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned), (0, 3));
    assert_eq!((m.handed_back, m.completed), (7, 3));
}

#[test]
fn exile_timeout_hands_back_the_queue_of_a_self_sizing_pool() {
    let (pool, _stops) = sizing(Summoning::new(1, 3));
    let gate = Gate::new();
    let tally = Tally::new(10);
    hold_at_max(&pool, &gate, &tally);
    // The workers are held: the exile cannot finish, however long it waits.
    let exit = pool.exile_timeout(Duration::from_millis(20)).unwrap();
    let Exit::TimedOut { unrun, running } = exit else {
        panic!("held workers cannot finish in time");
    };
    assert_eq!((unrun.len(), running), (7, 3));
    gate.open();
    pool.exile().unwrap();
    for job in unrun {
        job.run(&mut ()).unwrap();
    }
    tally.assert_each_ran_once();
    let m = pool.metrics();
    assert_eq!((m.alive, m.spawned), (0, 3));
    assert_eq!((m.handed_back, m.completed), (7, 3));
}

#[test]
fn exiling_a_paused_self_sizing_pool_at_zero_workers() {
    // exile: a worker is started to work the inbox off.
    let (pool, _stops) = sizing(Summoning::new(0, 2));
    pool.pause();
    let tally = Tally::new(3);
    tally.put_all(&pool);
    assert_eq!(pool.poolsize(), 0);
    pool.exile().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(pool.metrics().spawned, 1);

    // exile_now: every job is handed back, no worker started.
    let (pool, _stops) = sizing(Summoning::new(0, 2));
    pool.pause();
    let tally = Tally::new(3);
    tally.put_all(&pool);
    let unrun = pool.exile_now().unwrap();
    assert_eq!((unrun.len(), tally.total()), (3, 0));
    assert_eq!(pool.metrics().spawned, 0);
}

#[test]
fn dropping_a_self_sizing_pool_works_its_inbox_off() {
    let (pool, mut stops) = sizing(Summoning::new(1, 4).keep_alive(TINY));
    let tally = Tally::new(100);
    tally.put_all(&pool);
    let spawned = {
        let m = pool.metrics();
        drop(pool);
        m.spawned
    };
    tally.assert_each_ran_once();
    stops.wait_total(spawned);
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// `summon` racing growth to `max` still waits for the setups of the
/// workers it did start, and reports a failed one.
#[test]
fn summon_racing_growth_still_reports_failed_setups() {
    let mut hidden = 0;
    for i in 0..200u64 {
        let pool = Arc::new(
            WorkerPool::<()>::builder()
                .worker_setup(|w| {
                    if w.index() == 0 {
                        Ok(())
                    } else {
                        Err(format!("no setup for {}", w.index()))
                    }
                })
                .summoning(Summoning::new(1, 3).ratio(0))
                .build()
                .unwrap(),
        );
        let (release, gate) = bounded::<()>(0);
        let (tx, started) = unbounded();
        pool.inbox
            .put(move || {
                tx.send(()).unwrap();
                let _ = gate.recv();
            })
            .unwrap();
        started.recv().unwrap(); // worker 0 busy
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let (p, b) = (Arc::clone(&pool), Arc::clone(&barrier));
        let putter = thread::spawn(move || {
            b.wait();
            for _ in 0..(i % 50) * 20 {
                std::hint::spin_loop();
            }
            p.inbox.put(|| ()).unwrap(); // ratio 0: grows by one
        });
        barrier.wait();
        let summoned = pool.summon(2);
        putter.join().unwrap();
        // Every worker but 0 fails its setup: summon must never say Ok(k > 0).
        if matches!(summoned, Ok(k) if k > 0) {
            hidden += 1;
        }
        drop(release);
    }
    assert_eq!(hidden, 0, "summon hid a failed setup");
}

/// A burst queued with one `put_all`, or released by `resume`, grows the pool
/// as far as the ratio asks, as the same jobs put one by one would.
#[test]
fn put_all_and_resume_grow_as_far_as_the_ratio_asks() {
    let (release, gate) = bounded::<()>(0);
    let pool = WorkerPool::builder()
        .summoning(Summoning::new(0, 4))
        .build()
        .unwrap();
    let jobs: Vec<_> = (0..16)
        .map(|_| {
            let gate = gate.clone();
            move || {
                let _ = gate.recv();
            }
        })
        .collect();
    pool.inbox.put_all(jobs).unwrap();
    assert_eq!(pool.poolsize(), 4, "put_all of 16 jobs grows to max");
    drop(release);
    pool.wait_idle().unwrap();

    let paused = WorkerPool::builder()
        .summoning(Summoning::new(1, 4))
        .paused()
        .build()
        .unwrap();
    for _ in 0..16 {
        paused.inbox.put(|| ()).unwrap();
    }
    assert_eq!(paused.poolsize(), 1, "no growth while paused");
    paused.resume();
    assert_eq!(paused.metrics().high_water, 4, "resume grows to max");
    paused.exile().unwrap();
    assert_eq!(paused.outbox.len(), 16);
}

/// A `put_all` of more jobs than a bounded inbox holds counts each part it
/// queues as put: the pool grows for that part before the putter waits for
/// room, as far as the same jobs put one by one grow it.
#[test]
fn put_all_past_a_bounded_inbox_grows_for_each_part_it_queues() {
    // min 0: were the first part not counted, no worker would ever start
    // to make room, and put_all would wait forever.
    let pool = WorkerPool::builder()
        .capacity(2)
        .summoning(Summoning::new(0, 4))
        .build()
        .unwrap();
    let tally = Tally::new(10);
    let jobs: Vec<_> = (0..10).map(|i| tally.job(i)).collect();
    let (inbox, (done, put)) = (pool.inbox.clone(), bounded(1));
    thread::spawn(move || done.send(inbox.put_all(jobs).map_err(drop)));
    let put = put.recv_timeout(GUARD).expect("put_all returned");
    assert_eq!(put, Ok(10));
    pool.wait_idle().unwrap();
    tally.assert_each_ran_once();
    pool.exile().unwrap();
    assert_eq!(
        sorted(pool.outbox.try_iter().collect()),
        (0..10).collect::<Vec<_>>()
    );

    // min 1: 40 held jobs through a bounded inbox of 4, put in one batch or
    // one by one, grow the pool to max (four jobs held at once).
    for batch in [false, true] {
        let pool = WorkerPool::builder()
            .capacity(4)
            .summoning(Summoning::new(1, 4))
            .build()
            .unwrap();
        let gate = Gate::new();
        let tally = Tally::new(40);
        let jobs: Vec<_> = (0..40).map(|i| gate.hold(tally.job(i))).collect();
        let inbox = pool.inbox.clone();
        let putter = thread::spawn(move || {
            if batch {
                assert_eq!(inbox.put_all(jobs).map_err(drop), Ok(40));
            } else {
                for job in jobs {
                    inbox.put(job).map_err(drop).unwrap();
                }
            }
        });
        gate.wait_started(4);
        let m = pool.metrics();
        assert_eq!((m.busy, m.high_water), (4, 4), "batch: {batch}");
        gate.open();
        putter.join().unwrap();
        pool.wait_idle().unwrap();
        tally.assert_each_ran_once();
        assert_eq!(pool.metrics().high_water, 4, "batch: {batch}");
        pool.exile().unwrap();
    }
}

/// Jobs that a departing worker of another pool on the same inbox puts
/// back from its batch count as just put: a self-sizing pool with no
/// worker of its own grows to run them.
#[test]
fn jobs_a_sibling_pools_worker_puts_back_grow_a_self_sizing_pool() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let fixed = WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .build()
        .unwrap();
    let gate = Gate::new();
    let tally = Tally::new(16);
    let mut jobs = vec![Job::new(gate.hold(tally.job(0)))];
    jobs.extend((1..16).map(|i| Job::new(tally.job(i))));
    shared.put_all(jobs).unwrap();
    // The fixed pool's worker took all 16 at once: 15 wait in its batch.
    gate.wait_started(1);
    let sizing = WorkerPool::builder()
        .summoning(Summoning::new(0, 2))
        .inbox(shared.clone())
        .build()
        .unwrap();
    assert_eq!(sizing.poolsize(), 0, "nothing on the queue itself");
    assert_eq!(fixed.banish(1), 1);
    gate.open(); // the worker retires after its job, putting 15 back
    sizing.wait_idle().unwrap();
    assert!(sizing.metrics().spawned >= 1);
    fixed.exile().unwrap();
    sizing.exile().unwrap();
    tally.assert_each_ran_once();
}

/// A banish of a busy self-sizing pool sticks: the banished worker puts
/// the jobs of its batch back as it leaves, and its own pool does not grow
/// for them again (no put has come since).
#[test]
fn a_banished_workers_batch_put_back_does_not_regrow_its_own_pool() {
    let pool = WorkerPool::<usize>::builder()
        .summoning(
            Summoning::new(1, 2)
                .ratio(1)
                .rate(1)
                .keep_alive(Duration::from_secs(60)),
        )
        .build()
        .unwrap();
    let gate = Gate::new();
    let tally = Tally::new(40);
    pool.inbox
        .put_all((0..40).map(|i| gate.hold(tally.job(i))))
        .unwrap();
    gate.wait_started(2); // both workers busy, batches in their slots
    assert_eq!(pool.poolsize(), 2);
    assert_eq!(pool.banish(1), 1);
    gate.open();
    pool.wait_idle().unwrap();
    let m = pool.metrics();
    assert_eq!((pool.poolsize(), m.spawned, m.retired), (1, 2, 1));
    pool.exile().unwrap();
    tally.assert_each_ran_once();
}
