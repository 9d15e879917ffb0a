//! Live control of a running pool: pause and resume, summon (also
//! staggered), banish, the metrics at controlled points, and the worker
//! start/stop hooks.
//!
//! Workers are held busy by jobs that block on a channel until the test
//! opens a gate; every job's runs are counted to prove it ran exactly once.
//! Nothing sleeps to order events: the only waits are on channels, on
//! `wait_idle`, or a bounded wait for a metric that no event announces.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded, unbounded};
mod common;

use common::gate::{GUARD, Gate, Tally};
use worklight::{BuildError, Job, Summoning, WaitError, WorkerInfo, WorkerPool};

/// An `on_worker_stop` hook sending each leaving worker's index.
fn stop_hook() -> (impl Fn(&WorkerInfo) + Send + Sync, Receiver<usize>) {
    let (tx, rx) = unbounded();
    (move |w: &WorkerInfo| _ = tx.send(w.index()), rx)
}

/// A pool of `workers` whose stop hook sends each leaving worker's index.
fn with_stops<T: Send + 'static>(workers: usize) -> (WorkerPool<T>, Receiver<usize>) {
    let (on_stop, stops) = stop_hook();
    let pool = WorkerPool::builder()
        .workers(workers)
        .on_worker_stop(on_stop);
    (pool.build().unwrap(), stops)
}

fn recv_stops(stops: &Receiver<usize>, n: usize) -> Vec<usize> {
    let mut got: Vec<usize> = (0..n)
        .map(|_| stops.recv_timeout(GUARD).expect("a worker did not stop"))
        .collect();
    got.sort_unstable();
    got
}

/// Bounded wait for a state no event announces (a worker entering a
/// pause, a worker marking itself idle); fails the test after `GUARD`.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + GUARD;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The index of the worker running the calling job, from its thread name.
fn worker_index() -> usize {
    let current = thread::current();
    let name = current.name().expect("worker threads are named");
    name.strip_prefix("Worker-").unwrap().parse().unwrap()
}

/// The next `n` results on the outbox, sorted.
fn results(pool: &WorkerPool<usize>, n: usize) -> Vec<usize> {
    sorted((0..n).map(|_| pool.outbox.get_timeout(GUARD).expect("a result")))
}

fn sorted(items: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut v: Vec<usize> = items.into_iter().collect();
    v.sort_unstable();
    v
}

#[test]
fn pause_holds_workers_off_after_their_current_job_and_resume_runs_the_queue() {
    let pool = WorkerPool::new(2).unwrap();
    let gate = Gate::new();
    let held = Tally::new(2);
    let queued = Tally::new(5);
    held.put_held(&pool, &gate);
    gate.wait_started(2);

    pool.pause();
    assert!(pool.is_paused());
    queued.put_all(&pool);
    assert_eq!(pool.metrics().busy, 2, "the current jobs go on");
    gate.open();
    assert_eq!(results(&pool, 2), [0, 1]);
    eventually("both workers are paused", || pool.metrics().paused == 2);

    assert_eq!(pool.inbox.len(), 5, "puts queue while paused");
    assert_eq!(queued.total(), 0, "no paused worker took a job");
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.idle, m.queued), (2, 0, 0, 5));

    pool.resume();
    assert!(!pool.is_paused());
    pool.wait_idle().unwrap();
    held.assert_each_ran_once();
    queued.assert_each_ran_once();
    assert_eq!(sorted(pool.outbox.try_iter()), [0, 1, 2, 3, 4]);
    eventually("no worker is paused", || pool.metrics().paused == 0);
}

#[test]
fn exile_of_a_paused_pool_works_the_inbox_off() {
    let pool = WorkerPool::builder().workers(2).paused().build().unwrap();
    let tally = Tally::new(20);
    tally.put_all(&pool);
    pool.exile().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(sorted(pool.outbox.try_iter()), (0..20).collect::<Vec<_>>());
    let m = pool.metrics();
    assert_eq!((m.completed, m.handed_back, m.alive), (20, 0, 0));
}

#[test]
fn exile_now_of_a_paused_pool_hands_every_job_back() {
    let pool = WorkerPool::builder().workers(2).paused().build().unwrap();
    let tally = Tally::new(8);
    tally.put_all(&pool);
    let unrun = pool.exile_now().unwrap();
    assert_eq!(unrun.len(), 8);
    assert_eq!(tally.total(), 0, "no handed-back job ran on a worker");
    let m = pool.metrics();
    assert_eq!((m.handed_back, m.completed, m.queued), (8, 0, 0));
    let mut back: Vec<usize> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
    back.sort_unstable();
    assert_eq!(back, (0..8).collect::<Vec<_>>(), "handed back in full");
    tally.assert_each_ran_once();
    assert!(pool.outbox.is_empty());
}

#[test]
fn summon_adds_workers_that_run_side_by_side() {
    let pool = WorkerPool::new(1).unwrap();
    let gate = Gate::new();
    assert_eq!(pool.summon(3).unwrap(), 3);
    assert_eq!(pool.poolsize(), 4);
    let tally = Tally::new(4);
    tally.put_held(&pool, &gate);
    gate.wait_started(4); // possible only with four workers
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.spawned, m.high_water), (4, 4, 4, 4));
    gate.open();
    pool.exile().unwrap();
    tally.assert_each_ran_once();
    assert!(matches!(pool.summon(1), Err(BuildError::Exiled)));
    assert_eq!(pool.metrics().spawned, 4);
}

/// Puts `n` held jobs; returns, for each worker that started one, its
/// place in the start order and how long after `t0` it started (measured
/// after taking its place).
fn report_starts(
    pool: &WorkerPool<()>,
    gate: &Gate,
    n: usize,
    t0: Instant,
) -> Vec<(usize, Duration)> {
    let (tx, rx) = unbounded();
    let places = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let (tx, places, held) = (tx.clone(), Arc::clone(&places), gate.hold(|| ()));
        pool.inbox
            .put(move || {
                let place = places.fetch_add(1, SeqCst);
                tx.send((worker_index(), place, t0.elapsed())).unwrap();
                held()
            })
            .unwrap();
    }
    let mut starts: Vec<(usize, usize, Duration)> = (0..n)
        .map(|_| rx.recv_timeout(GUARD).expect("a job did not start"))
        .collect();
    starts.sort_unstable();
    starts
        .into_iter()
        .map(|(_, place, at)| (place, at))
        .collect()
}

/// Checks a ramp-up from `t0` (at or before the pool started the workers):
/// the k-th worker started its first job no earlier than k × `stagger`, and
/// after the (k − 1)-th. The order is certain whenever the (k − 1)-th
/// started before k × `stagger`, which fails only on a machine so loaded
/// that the order means nothing; then only the bound is checked.
fn assert_ramp(starts: &[(usize, Duration)], stagger: Duration) {
    for (k, &(place, at)) in starts.iter().enumerate() {
        let due = stagger * k as u32;
        assert!(at >= due, "ramp worker {k} started at {at:?} < {due:?}");
        if let Some(&(before, before_at)) = k.checked_sub(1).map(|j| &starts[j]) {
            if before_at < due {
                assert!(before < place, "worker {k} started before worker {}", k - 1);
            }
        }
    }
}

#[test]
fn builder_stagger_starts_worker_k_no_earlier_than_k_staggers() {
    let stagger = Duration::from_millis(50);
    let t0 = Instant::now();
    let pool = WorkerPool::builder()
        .workers(3)
        .stagger(stagger)
        .build()
        .unwrap();
    let gate = Gate::new();
    let starts = report_starts(&pool, &gate, 3, t0);
    assert_ramp(&starts, stagger);
    gate.open();
    pool.exile().unwrap();
    assert_eq!(pool.metrics().completed, 3);
}

#[test]
fn summon_staggered_ramps_the_new_workers_up_in_order() {
    let stagger = Duration::from_millis(50);
    let pool = WorkerPool::new(1).unwrap();
    let gate = Gate::new();
    pool.inbox.put(gate.hold(|| ())).unwrap();
    gate.wait_started(1); // worker 0 takes no more jobs

    let t0 = Instant::now();
    assert_eq!(pool.summon_staggered(3, stagger).unwrap(), 3);
    assert_eq!(pool.poolsize(), 4);
    let starts = report_starts(&pool, &gate, 3, t0);
    assert_ramp(&starts, stagger);
    gate.open();
    pool.exile().unwrap();
    assert_eq!(pool.metrics().completed, 4);
}

#[test]
fn banish_returns_at_once_while_every_worker_is_busy() {
    let (pool, stops) = with_stops(3);
    let pool = Arc::new(pool);
    let gate = Gate::new();
    let tally = Tally::new(3);
    tally.put_held(&pool, &gate);
    gate.wait_started(3);

    // From another thread, so that a blocking banish fails the test
    // instead of hanging it.
    let (done_tx, done) = bounded(1);
    let p = Arc::clone(&pool);
    thread::spawn(move || done_tx.send(p.banish(2)).unwrap());
    let banished = done
        .recv_timeout(GUARD)
        .expect("banish blocked on busy workers");
    assert_eq!(banished, 2);
    assert_eq!(pool.poolsize(), 1, "banished workers no longer count");
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.retired), (1, 3, 0));
    assert!(stops.try_recv().is_err(), "no worker left during its job");
    assert_eq!(tally.total(), 0);

    gate.open();
    assert_eq!(results(&pool, 3), [0, 1, 2]);
    tally.assert_each_ran_once();
    assert_eq!(recv_stops(&stops, 2).len(), 2, "two retire after their job");
    assert_eq!(pool.metrics().retired, 2);

    // The one that stays still works.
    pool.inbox.put(|| 7).unwrap();
    assert_eq!(pool.outbox.get_timeout(GUARD), Ok(7));
    assert!(stops.try_recv().is_err(), "only the banished workers left");
    pool.exile().unwrap();
    assert_eq!(recv_stops(&stops, 1).len(), 1);
    assert_eq!(pool.metrics().retired, 2, "exile is not retirement");
}

#[test]
fn banish_never_exceeds_the_poolsize() {
    let (pool, stops) = with_stops::<()>(3);
    assert_eq!(pool.banish(2), 2);
    assert_eq!(pool.poolsize(), 1);
    assert_eq!(pool.banish(5), 1, "pending banishes are not counted twice");
    assert_eq!(pool.poolsize(), 0);
    assert_eq!(pool.banish(1), 0);
    assert_eq!(recv_stops(&stops, 3), [0, 1, 2]);
    assert_eq!(pool.banish(1), 0);
    let m = pool.metrics();
    assert_eq!((m.alive, m.retired, m.spawned), (0, 3, 3));
    pool.exile().unwrap();
    assert_eq!(pool.banish(1), 0, "nothing to banish after exile");
    assert!(stops.try_recv().is_err());
}

#[test]
fn banishing_every_worker_leaves_queued_jobs_for_summon() {
    let (pool, stops) = with_stops(2);
    let gate = Gate::new();
    let held = Tally::new(2);
    let queued = Tally::new(5);
    held.put_held(&pool, &gate);
    gate.wait_started(2);
    assert_eq!(pool.banish(2), 2);
    queued.put_all(&pool);
    gate.open();
    assert_eq!(recv_stops(&stops, 2), [0, 1]);
    held.assert_each_ran_once();
    assert_eq!((pool.inbox.len(), queued.total()), (5, 0), "the jobs wait");
    assert_eq!(pool.poolsize(), 0);

    assert_eq!(pool.summon(1).unwrap(), 1);
    pool.wait_idle().unwrap();
    queued.assert_each_ran_once();
    assert_eq!(pool.poolsize(), 1);
    pool.exile().unwrap();
}

#[test]
fn banishing_every_worker_then_exiling_runs_the_queued_jobs() {
    let (on_stop, stops) = stop_hook();
    let pool = WorkerPool::builder()
        .workers(2)
        .paused()
        .on_worker_stop(on_stop)
        .build()
        .unwrap();
    let tally = Tally::new(4);
    tally.put_all(&pool);
    assert_eq!(pool.banish(2), 2);
    assert_eq!(recv_stops(&stops, 2), [0, 1], "paused workers retire too");
    assert_eq!((pool.inbox.len(), tally.total()), (4, 0));

    pool.exile().unwrap();
    tally.assert_each_ran_once();
    assert_eq!(recv_stops(&stops, 1), [2], "a worker started to drain");
    let m = pool.metrics();
    assert_eq!((m.spawned, m.retired, m.completed), (3, 2, 4));
}

#[test]
fn metrics_follow_workers_and_jobs_at_controlled_points() {
    let pool = WorkerPool::<usize>::new(3).unwrap();
    let gate = Gate::new();
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.paused, m.idle), (3, 0, 0, 3));
    assert_eq!((m.queued, m.running, m.spawned, m.high_water), (0, 0, 3, 3));
    assert_eq!((m.completed, m.failed, m.panicked), (0, 0, 0));
    assert_eq!((m.handed_back, m.retired), (0, 0));

    // Two workers held: busy = running = 2, one idle.
    let held = Tally::new(2);
    held.put_held(&pool, &gate);
    gate.wait_started(2);
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.running), (3, 2, 2));
    assert_eq!((m.idle, m.paused), (1, 0));

    // The third worker completes one job, fails one, and one panics.
    pool.inbox.put(|| 40).unwrap();
    pool.inbox.put(Job::fallible(|| Err("no"))).unwrap();
    pool.inbox.put(|| -> usize { panic!("metrics") }).unwrap();
    assert_eq!(pool.outbox.get_timeout(GUARD), Ok(40));
    let failures = [pool.errbox.get().unwrap(), pool.errbox.get().unwrap()];
    assert_eq!(failures.iter().filter(|f| f.panic().is_some()).count(), 1);
    let m = pool.metrics();
    assert_eq!((m.completed, m.failed, m.panicked), (1, 1, 1));

    // Paused: the idle worker is held off, puts queue.
    pool.pause();
    eventually("the idle worker is paused", || pool.metrics().paused == 1);
    let queued = Tally::new(4);
    queued.put_all(&pool);
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.paused), (3, 2, 1));
    assert_eq!((m.idle, m.queued), (0, 4));

    // Released: the held workers finish and pause too.
    gate.open();
    assert_eq!(results(&pool, 2), [0, 1]);
    eventually("every worker is paused", || pool.metrics().paused == 3);
    let m = pool.metrics();
    assert_eq!((m.busy, m.running, m.idle), (0, 0, 0));
    assert_eq!((m.queued, m.completed), (4, 3));

    // Exiled now: the queued jobs are handed back.
    let unrun = pool.exile_now().unwrap();
    assert_eq!(unrun.len(), 4);
    let m = pool.metrics();
    assert_eq!((m.alive, m.busy, m.paused, m.idle), (0, 0, 0, 0));
    assert_eq!((m.queued, m.handed_back), (0, 4));
    assert_eq!((m.completed, m.failed, m.panicked), (3, 1, 1));
    assert_eq!((m.spawned, m.retired, m.high_water), (3, 0, 3));
    assert_eq!(queued.total(), 0);
    held.assert_each_ran_once();
}

#[test]
fn spawned_retired_and_high_water_count_the_pool_history() {
    let (pool, stops) = with_stops::<()>(2);
    pool.summon(3).unwrap();
    assert_eq!(pool.banish(4), 4);
    assert_eq!(recv_stops(&stops, 4).len(), 4);
    pool.summon(1).unwrap();
    let m = pool.metrics();
    assert_eq!((m.spawned, m.retired, m.high_water, m.alive), (6, 4, 5, 2));
    assert_eq!(m.alive as u64, m.spawned - m.retired - m.setup_failures);
    pool.exile().unwrap();
    assert_eq!(recv_stops(&stops, 2).len(), 2);
    let m = pool.metrics();
    assert_eq!((m.spawned, m.retired, m.alive), (6, 4, 0));
}

#[test]
fn start_and_stop_hooks_fire_once_per_worker_on_its_thread() {
    type Seen = Arc<Mutex<Vec<usize>>>;
    let (started, stopped): (Seen, Seen) = Default::default();
    let (s, t) = (Arc::clone(&started), Arc::clone(&stopped));
    let (on_stop, stops) = stop_hook();
    let pool = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(move |w| {
            assert_eq!(thread::current().name(), Some(w.name()));
            s.lock().unwrap().push(w.index());
        })
        .on_worker_stop(move |w| {
            assert_eq!(thread::current().name(), Some(w.name()));
            t.lock().unwrap().push(w.index());
            on_stop(w);
        })
        .build()
        .unwrap();
    pool.summon(2).unwrap();
    pool.banish(1);
    assert_eq!(recv_stops(&stops, 1).len(), 1);
    assert_eq!(stopped.lock().unwrap().len(), 1);
    pool.exile().unwrap();
    assert_eq!(sorted(started.lock().unwrap().clone()), [0, 1, 2, 3]);
    assert_eq!(sorted(stopped.lock().unwrap().clone()), [0, 1, 2, 3]);
    assert_eq!(recv_stops(&stops, 3).len(), 3);
}

#[test]
fn exiling_a_staggered_pool_with_nothing_queued_does_not_wait_out_the_ramp() {
    let pool = WorkerPool::<()>::builder()
        .workers(3)
        .stagger(Duration::from_secs(3600))
        .build()
        .unwrap();
    pool.inbox.put(|| ()).unwrap(); // worker 0 runs it; 1 and 2 are ramping
    let pool = Arc::new(pool);
    let (done_tx, done) = bounded(1);
    let p = Arc::clone(&pool);
    thread::spawn(move || done_tx.send(p.exile().is_ok()).unwrap());
    assert_eq!(
        done.recv_timeout(GUARD),
        Ok(true),
        "exile waited for workers with nothing left to do"
    );
    assert_eq!(pool.metrics().completed, 1);
}

/// A stagger too long for the clock to count holds every worker but the
/// first until the exile.
#[test]
fn a_stagger_past_the_clocks_range_holds_all_but_the_first_worker_until_the_exile() {
    let pool = WorkerPool::<usize>::builder()
        .workers(3)
        .stagger(Duration::MAX)
        .build()
        .unwrap();
    let gate = Gate::new();
    pool.inbox.put(gate.hold(worker_index)).unwrap();
    gate.wait_started(1);
    // Workers 1 and 2, were they not held, would take these at once.
    for _ in 0..4 {
        pool.inbox.put(worker_index).unwrap();
    }
    let unrun = thread::scope(|s| {
        let exiling = s.spawn(|| pool.exile_now());
        while !pool.is_exiled() {
            thread::yield_now();
        }
        gate.open();
        exiling.join().unwrap().unwrap()
    });
    assert_eq!(unrun.len(), 4, "a held worker took a job");
    assert_eq!(pool.outbox.iter().collect::<Vec<_>>(), [0]);
}

/// The exile releases workers held by such a stagger: they drain the inbox
/// when no other worker is left to (here the free worker of a self-sizing
/// pool has retired, idle past its keep-alive). Until then `wait_idle`
/// counts them as no workers, instead of waiting for them forever; from
/// the moment the exile begins, it counts them as the workers they are.
#[test]
fn an_exile_releases_the_workers_held_by_a_stagger_past_the_clocks_range() {
    let (stop_tx, stops) = unbounded();
    let pool = WorkerPool::<usize>::builder()
        .summoning(
            Summoning::new(0, 2)
                .ratio(100)
                .keep_alive(Duration::from_millis(10)),
        )
        .on_worker_stop(move |w| stop_tx.send(w.index()).unwrap())
        .build()
        .unwrap();
    assert_eq!(pool.summon_staggered(2, Duration::MAX).unwrap(), 2);
    // Only worker 0 takes from the inbox, so it is the one to retire.
    assert_eq!(stops.recv_timeout(GUARD), Ok(0));
    for i in 0..3 {
        pool.inbox.put(move || i).unwrap(); // far below the ratio: no growth
    }
    assert_eq!(pool.wait_idle(), Err(WaitError::NoWorkers));
    thread::scope(|s| {
        let exiling = s.spawn(|| pool.exile());
        while !pool.is_exiled() {
            thread::yield_now();
        }
        // The held worker may not have woken yet: it is still a worker.
        let waited = pool.wait_idle();
        assert!(waited.is_ok(), "{waited:?}");
        exiling.join().unwrap().unwrap();
    });
    assert_eq!(sorted(pool.outbox.iter()), [0, 1, 2]);
    assert_eq!(stops.try_iter().collect::<Vec<_>>(), [1]);
}

/// A banish whose tokens a staggered worker was to take, while that worker
/// is still in its setup: the workers that take jobs leave the tokens to
/// it, and take those it leaves once it is done, without a put to wake
/// them.
#[test]
fn banish_tokens_a_staggered_worker_leaves_go_to_the_workers_taking_jobs() {
    let (stop_tx, stops) = unbounded();
    let (open, opened) = bounded::<()>(0);
    let pool = WorkerPool::<usize>::builder()
        .workers(1)
        .name("tokens")
        .worker_setup(move |w| {
            if w.index() == 2 {
                let _ = opened.recv(); // held in its setup until `open` goes
            }
            Ok::<_, std::convert::Infallible>(())
        })
        .on_worker_stop(move |w| stop_tx.send(w.index()).unwrap())
        .build()
        .unwrap();
    thread::scope(|s| {
        // Worker 1 starts at once, worker 2 after an hour's stagger.
        let summoning = s.spawn(|| pool.summon_staggered(2, Duration::from_secs(3600)));
        while pool.metrics().spawned < 3 {
            thread::yield_now();
        }
        assert_eq!(pool.banish(2), 2);
        // Workers 0 and 1 saw the tokens and left them to worker 2.
        while !(common::all_asleep("tokens-0", 1) && common::all_asleep("tokens-1", 1)) {
            thread::yield_now();
        }
        drop(open);
        assert_eq!(summoning.join().unwrap().unwrap(), 2);
    });
    let mut left = vec![stops.recv_timeout(GUARD).unwrap()];
    left.push(
        stops
            .recv_timeout(GUARD)
            .expect("the second token was left"),
    );
    assert!(left.contains(&2), "the staggered worker took one: {left:?}");
    assert_eq!(pool.poolsize(), 1);
    pool.exile().unwrap();
}

/// A banish retires a worker still in its stagger delay before one that
/// takes jobs: the pool keeps working, one worker smaller, and an exile
/// with nothing queued does not wait out the ramp.
#[test]
fn a_banish_retires_a_staggered_worker_before_one_taking_jobs() {
    for stagger in [Duration::from_secs(3600), Duration::MAX] {
        let (stop_tx, stops) = unbounded();
        let pool = WorkerPool::<usize>::builder()
            .workers(3)
            .stagger(stagger)
            .on_worker_stop(move |w| stop_tx.send(w.index()).unwrap())
            .build()
            .unwrap();
        assert_eq!(pool.banish(1), 1);
        let left = stops.recv_timeout(GUARD).unwrap();
        assert_ne!(left, 0, "the worker taking jobs was banished");
        pool.inbox.put(worker_index).unwrap();
        assert_eq!(pool.outbox.get_timeout(GUARD), Ok(0));
        assert_eq!((pool.poolsize(), pool.metrics().retired), (2, 1));
        pool.exile().unwrap();
        assert_eq!(sorted(stops.try_iter()), [0, 3 - left]);
    }
}

/// `poolsize` never counts a banished worker on its way out: the banish
/// token and the worker's place are given up together.
#[test]
fn poolsize_never_counts_a_banished_worker_on_its_way_out() {
    let (stop_tx, stopped) = unbounded::<()>();
    let pool = Arc::new(
        WorkerPool::<()>::builder()
            .workers(2)
            .on_worker_stop(move |_| stop_tx.send(()).unwrap())
            .build()
            .unwrap(),
    );
    // 1 while one worker is banished and not yet replaced.
    let banished = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let (p, b, d) = (Arc::clone(&pool), Arc::clone(&banished), Arc::clone(&done));
    let reader = thread::spawn(move || {
        let mut wrong = 0;
        while d.load(SeqCst) == 0 {
            let before = b.load(SeqCst);
            let size = p.poolsize();
            if before == 1 && b.load(SeqCst) == 1 && size > 1 {
                wrong += 1;
            }
        }
        wrong
    });
    for _ in 0..300 {
        assert_eq!(pool.banish(1), 1);
        banished.store(1, SeqCst);
        stopped
            .recv_timeout(GUARD)
            .expect("the banished worker leaves");
        banished.store(0, SeqCst);
        assert_eq!(pool.summon(1).unwrap(), 1);
    }
    done.store(1, SeqCst);
    assert_eq!(
        reader.join().unwrap(),
        0,
        "poolsize counted a leaving worker"
    );
}

/// Banished workers put the jobs left in their batches back where their
/// ids say: when the worker with the earlier jobs leaves first, the later
/// batch put back after it does not jump ahead of it, and the jobs still
/// leave the inbox in the order they were put.
#[test]
fn banished_workers_put_their_batches_back_in_the_order_the_jobs_were_put() {
    const JOBS: usize = 100;
    let (pool, stops) = with_stops::<usize>(2);
    pool.pause();
    let (started_tx, started) = unbounded();
    let releases: Vec<_> = (0..JOBS).map(|_| bounded::<()>(1)).collect();
    for (i, (_, release)) in releases.iter().enumerate() {
        let (started_tx, release) = (started_tx.clone(), release.clone());
        pool.inbox
            .put(move || {
                started_tx.send(i).unwrap();
                release.recv_timeout(GUARD).expect("never released");
                i
            })
            .unwrap();
    }
    pool.resume();
    // Each worker holds one job, with the rest of its batch in its slot.
    let mut held = [0, 0].map(|_| started.recv_timeout(GUARD).expect("a job started"));
    held.sort_unstable();
    for (i, (release, _)) in releases.iter().enumerate() {
        if !held.contains(&i) {
            release.send(()).unwrap();
        }
    }
    assert_eq!(pool.banish(2), 2);
    // The worker with the earlier batch leaves first, then the other.
    for i in held {
        releases[i].0.send(()).unwrap();
        recv_stops(&stops, 1);
    }
    assert_eq!(pool.summon(1).unwrap(), 1);
    pool.wait_idle().unwrap();
    let order: Vec<usize> = pool.outbox.try_iter().collect();
    assert_eq!(sorted(order[..2].iter().copied()), held);
    let rest: Vec<usize> = (0..JOBS).filter(|i| !held.contains(i)).collect();
    assert_eq!(order[2..], rest, "jobs left out of order");
}
