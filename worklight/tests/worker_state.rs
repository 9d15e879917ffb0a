//! Per-worker state: `worker_setup` and `worker_teardown`, stateful jobs,
//! setup failures at build and at summon, and handler pools whose handlers
//! keep `&mut` state across the plain data items they run.
//!
//! Exactly-once is proved by counting: each state counts the jobs it saw,
//! and the counts must add up to the jobs put.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded, unbounded};
use worklight::{BuildError, Handler, HandlerPool, Job, WorkerInfo, WorkerPool};

/// How long any wait may take before the test fails instead of hanging.
const GUARD: Duration = Duration::from_secs(10);

/// A list that hooks, setups and teardowns append to.
type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken<T: Ord + Clone>(log: &Log<T>) -> Vec<T> {
    let mut v = log.lock().unwrap().clone();
    v.sort();
    v
}

/// An `on_worker_stop` hook sending each leaving worker's index.
fn stop_hook() -> (impl Fn(&WorkerInfo) + Send + Sync, Receiver<usize>) {
    let (tx, rx) = unbounded();
    (move |w: &WorkerInfo| _ = tx.send(w.index()), rx)
}

fn recv_stops(stops: &Receiver<usize>, n: usize) -> Vec<usize> {
    let mut got: Vec<usize> = (0..n)
        .map(|_| stops.recv_timeout(GUARD).expect("a worker did not stop"))
        .collect();
    got.sort_unstable();
    got
}

/// A setup that fails (with an error, or by panicking) for the workers
/// whose index is in `bad`, and otherwise makes the state `index`.
fn setup_failing_for(
    bad: &'static [usize],
    panics: bool,
) -> impl Fn(&WorkerInfo) -> Result<usize, String> + Send + Sync + 'static {
    move |w| match bad.contains(&w.index()) {
        false => Ok(w.index()),
        true if panics => panic!("setup of {} exploded", w.index()),
        true => Err(format!("no database for {}", w.index())),
    }
}

#[test]
fn worker_setup_runs_once_per_worker_on_its_thread_with_its_index_and_name() {
    let setups = log();
    let s = Arc::clone(&setups);
    let pool = WorkerPool::builder()
        .workers(3)
        .suffix("-db")
        .worker_setup(move |w| {
            assert_eq!(thread::current().name(), Some(w.name()), "its thread");
            s.lock().unwrap().push((w.index(), w.name().to_owned()));
            Ok::<_, Infallible>(w.index())
        })
        .build()
        .unwrap();
    let names = |ids: std::ops::Range<usize>| -> Vec<(usize, String)> {
        ids.map(|i| (i, format!("Worker-{i}-db"))).collect()
    };
    assert_eq!(taken(&setups), names(0..3), "build waits for every setup");
    assert_eq!(pool.summon(2).unwrap(), 2);
    assert_eq!(taken(&setups), names(0..5), "so does summon");

    for _ in 0..50 {
        let job = Job::stateful(|index: &mut usize| {
            let name = thread::current().name().unwrap().to_owned();
            (name == format!("Worker-{index}-db"), *index)
        });
        pool.inbox.put(job).unwrap();
    }
    pool.exile().unwrap();
    let results: Vec<(bool, usize)> = pool.outbox.try_iter().collect();
    assert_eq!(results.len(), 50);
    assert!(results.iter().all(|r| r.0), "own state");
    assert_eq!(taken(&setups), names(0..5), "no setup ran twice");
}

/// A worker's state that counts the jobs it ran.
struct Counter {
    index: usize,
    jobs: usize,
}

#[test]
fn each_worker_keeps_its_state_across_jobs() {
    let teardowns = log();
    let t = Arc::clone(&teardowns);
    let pool = WorkerPool::builder()
        .workers(3)
        .worker_setup(|w| {
            Ok::<_, Infallible>(Counter {
                index: w.index(),
                jobs: 0,
            })
        })
        .worker_teardown(move |c: Counter, w| {
            assert_eq!(c.index, w.index(), "torn down with its own state");
            t.lock().unwrap().push((c.index, c.jobs));
        })
        .build()
        .unwrap();
    for _ in 0..120 {
        let job = Job::stateful(|c: &mut Counter| {
            c.jobs += 1;
            (c.index, c.jobs)
        });
        pool.inbox.put(job).unwrap();
    }
    pool.exile().unwrap();

    // Each worker's results count 1, 2, ..., k: one state, reused.
    let mut seen: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, n) in pool.outbox.try_iter() {
        seen.entry(index).or_default().push(n);
    }
    let finals = taken(&teardowns);
    assert_eq!(finals.len(), 3, "one teardown per worker");
    for &(index, jobs) in &finals {
        let mut counts = seen.remove(&index).unwrap_or_default();
        counts.sort_unstable();
        assert_eq!(counts, (1..=jobs).collect::<Vec<_>>(), "worker {index}");
    }
    assert!(seen.is_empty(), "results only from workers torn down");
    assert_eq!(finals.iter().map(|f| f.1).sum::<usize>(), 120, "each once");
}

#[test]
fn stateful_fallible_jobs_report_errors_with_their_id_and_keep_the_state() {
    let teardowns = log();
    let t = Arc::clone(&teardowns);
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(|_| Ok::<_, Infallible>(Vec::<u32>::new()))
        .worker_teardown(move |ran: Vec<u32>, _| t.lock().unwrap().extend(ran))
        .build()
        .unwrap();
    let mut failing = BTreeMap::new();
    for i in 0..12u32 {
        let job = Job::stateful_fallible(move |ran: &mut Vec<u32>| {
            ran.push(i);
            if i % 3 == 0 {
                Err(format!("refused {i}"))
            } else {
                Ok(i)
            }
        });
        let id = pool.inbox.put(job.label(format!("job {i}"))).unwrap();
        if i % 3 == 0 {
            failing.insert(id, i);
        }
    }
    pool.exile().unwrap();

    let mut ok: Vec<u32> = pool.outbox.try_iter().collect();
    ok.sort_unstable();
    assert_eq!(ok, [1, 2, 4, 5, 7, 8, 10, 11]);
    let failures: Vec<_> = pool.errbox.try_iter().collect();
    assert_eq!(failures.len(), 4);
    for f in &failures {
        let i = failing.remove(&f.id()).expect("a failing job's put id");
        assert_eq!(f.label(), Some(format!("job {i}").as_str()));
        assert_eq!(f.error().unwrap().to_string(), format!("refused {i}"));
    }
    assert!(failing.is_empty());
    let all: Vec<u32> = (0..12).collect();
    assert_eq!(taken(&teardowns), all, "failed jobs used the state too");
}

#[test]
fn plain_jobs_are_put_as_before_on_a_pool_with_state() {
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(|_| Ok::<_, Infallible>(String::from("four")))
        .build()
        .unwrap();
    pool.inbox.put(|| 1).unwrap();
    pool.inbox.put(Job::new(|| 2)).unwrap();
    pool.inbox
        .put(Job::fallible(|| Ok::<_, String>(3)))
        .unwrap();
    pool.inbox
        .put(Job::stateful(|s: &mut String| s.len()))
        .unwrap();
    pool.inbox
        .put(Job::fallible(|| Err::<usize, _>("plain failure")))
        .unwrap();
    pool.exile().unwrap();
    let mut results: Vec<usize> = pool.outbox.try_iter().collect();
    results.sort_unstable();
    assert_eq!(results, [1, 2, 3, 4]);
    let failure = pool.errbox.get().unwrap();
    assert_eq!(failure.error().unwrap().to_string(), "plain failure");
}

#[test]
fn a_job_that_panicked_leaves_its_worker_state_in_place() {
    let teardowns = log();
    let t = Arc::clone(&teardowns);
    let pool = WorkerPool::builder()
        .workers(1)
        .worker_setup(|_| Ok::<_, Infallible>(Vec::<u32>::new()))
        .worker_teardown(move |ran: Vec<u32>, _| t.lock().unwrap().push(ran))
        .build()
        .unwrap();
    for i in 0..4u32 {
        pool.inbox
            .put(Job::stateful(move |ran: &mut Vec<u32>| {
                ran.push(i);
                assert_ne!(i, 2, "job 2 panics");
                ran.len()
            }))
            .unwrap();
    }
    pool.wait_idle().unwrap();
    assert!(pool.exile_now().unwrap().is_empty());
    assert_eq!(*teardowns.lock().unwrap(), [vec![0, 1, 2, 3]]);
    assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), [1, 2, 4]);
    assert_eq!(pool.errbox.try_iter().count(), 1);
}

#[test]
fn a_failing_setup_fails_the_build_and_stops_every_worker() {
    for panics in [false, true] {
        let (teardowns, stopped) = (log(), log());
        let (t, s) = (Arc::clone(&teardowns), Arc::clone(&stopped));
        let built = WorkerPool::<()>::builder()
            .workers(3)
            .worker_setup(setup_failing_for(&[1], panics))
            .worker_teardown(move |index, _| t.lock().unwrap().push(index))
            .on_worker_stop(move |w| s.lock().unwrap().push(w.index()))
            .build();
        let Err(BuildError::Setup { worker, error }) = built else {
            panic!("expected a setup error (panics: {panics})");
        };
        assert_eq!(worker, 1);
        let message = if panics {
            "setup of 1 exploded"
        } else {
            "no database for 1"
        };
        assert_eq!(error.to_string(), message);
        // Every worker left before `build` returned; the ones whose setup
        // ran were torn down with their state.
        assert_eq!(taken(&stopped), [0, 1, 2]);
        assert_eq!(taken(&teardowns), [0, 2]);
    }
}

#[test]
fn a_failing_setup_fails_summon_and_the_pool_counts_who_stayed() {
    for panics in [false, true] {
        let pool = WorkerPool::<()>::builder()
            .workers(2)
            .worker_setup(setup_failing_for(&[3, 5], panics))
            .build()
            .unwrap();
        let summoned = pool.summon(3); // workers 2, 3 and 4
        let Err(BuildError::Setup { worker: 3, error }) = summoned else {
            panic!("expected worker 3's setup to fail (panics: {panics})");
        };
        assert!(error.to_string().contains('3'));
        let m = pool.metrics();
        assert_eq!((pool.poolsize(), m.setup_failures, m.spawned), (4, 1, 5));
        assert_eq!(m.alive as u64, m.spawned - m.setup_failures - m.retired);

        assert!(matches!(
            pool.summon(1),
            Err(BuildError::Setup { worker: 5, .. })
        ));
        let m = pool.metrics();
        assert_eq!((pool.poolsize(), m.setup_failures, m.spawned), (4, 2, 6));

        // Four real workers: four jobs held at once.
        let (started_tx, started) = unbounded();
        let (open, wait) = bounded::<()>(0);
        for _ in 0..4 {
            let (started_tx, wait) = (started_tx.clone(), wait.clone());
            let held = move || {
                started_tx.send(()).unwrap();
                let _ = wait.recv(); // Err once `open` is dropped.
            };
            pool.inbox.put(held).unwrap();
        }
        for _ in 0..4 {
            started.recv_timeout(GUARD).expect("a worker per held job");
        }
        drop(open);
        pool.exile().unwrap();
        assert_eq!(pool.metrics().completed, 4);
    }
}

#[test]
fn a_panicking_start_hook_counts_as_a_failed_setup() {
    let hook = |w: &WorkerInfo| assert_ne!(w.index(), 1, "start hook of 1");
    let with_setup = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(hook)
        .worker_setup(|_| Ok::<_, Infallible>(()))
        .build()
        .map(drop);
    let without_setup = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(hook)
        .build()
        .map(drop);
    for built in [with_setup, without_setup] {
        let Err(BuildError::Setup { worker: 1, error }) = built else {
            panic!("expected worker 1's start hook to fail the build");
        };
        assert!(error.to_string().contains("start hook of 1"));
    }

    // At summon, the pool keeps the workers that started and says so.
    let pool = WorkerPool::<()>::builder()
        .workers(1)
        .on_worker_start(hook)
        .build()
        .unwrap();
    assert!(matches!(
        pool.summon(2),
        Err(BuildError::Setup { worker: 1, .. })
    ));
    let m = pool.metrics();
    assert_eq!((pool.poolsize(), m.setup_failures, m.spawned), (2, 1, 3));
}

#[test]
fn worker_teardown_runs_with_the_state_when_a_worker_is_banished_or_exiled() {
    let teardowns = log();
    let t = Arc::clone(&teardowns);
    let (on_stop, stops) = stop_hook();
    let pool = WorkerPool::<()>::builder()
        .workers(3)
        .worker_setup(|w| Ok::<_, Infallible>(w.index() * 10))
        .worker_teardown(move |state, w| t.lock().unwrap().push((w.index(), state)))
        .on_worker_stop(on_stop)
        .build()
        .unwrap();
    assert_eq!(pool.banish(1), 1);
    let gone = recv_stops(&stops, 1)[0];
    assert_eq!(taken(&teardowns), [(gone, gone * 10)], "before the hook");

    pool.exile().unwrap();
    assert_eq!(taken(&teardowns), [(0, 0), (1, 10), (2, 20)], "each once");
    assert_eq!(recv_stops(&stops, 2).len(), 2);
}

#[test]
fn worker_teardown_runs_at_exile_now() {
    let teardowns = log();
    let t = Arc::clone(&teardowns);
    let pool = WorkerPool::builder()
        .workers(2)
        .paused()
        .worker_setup(|w| Ok::<_, Infallible>(w.index()))
        .worker_teardown(move |state, _| t.lock().unwrap().push(state))
        .build()
        .unwrap();
    pool.inbox.put(Job::stateful(|i: &mut usize| *i)).unwrap();
    assert_eq!(pool.exile_now().unwrap().len(), 1);
    assert_eq!(taken(&teardowns), [0, 1]);
}

/// A handler that keeps state across items: its worker's index and how
/// many items it has seen.
struct Tagger {
    index: usize,
    seen: usize,
}

impl Handler<(String, u32)> for Tagger {
    type Output = (usize, usize, String);
    type Error = String;

    fn handle(&mut self, (name, n): (String, u32)) -> Result<Self::Output, String> {
        self.seen += 1;
        if n == 13 {
            panic!("unlucky {name}");
        }
        if name.is_empty() {
            return Err(format!("no name for {n}"));
        }
        Ok((self.index, self.seen, name))
    }
}

fn tagger(w: &WorkerInfo) -> Tagger {
    Tagger {
        index: w.index(),
        seen: 0,
    }
}

#[test]
fn a_handler_keeps_its_state_across_the_data_items_its_worker_runs() {
    let pool = HandlerPool::new(3, tagger).unwrap();
    for i in 0..90 {
        pool.inbox.put((format!("item {i}"), 100 + i)).unwrap(); // never 13
    }
    pool.exile().unwrap();
    let mut per_worker: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut names = Vec::new();
    for (index, seen, name) in pool.outbox.try_iter() {
        per_worker.entry(index).or_default().push(seen);
        names.push(name);
    }
    for (index, mut seen) in per_worker {
        seen.sort_unstable();
        let expected: Vec<usize> = (1..=seen.len()).collect();
        assert_eq!(seen, expected, "handler {index}");
    }
    names.sort();
    let mut expected: Vec<String> = (0..90).map(|i| format!("item {i}")).collect();
    expected.sort();
    assert_eq!(names, expected, "each item handled once");
    assert_eq!(pool.metrics().completed, 90);
}

#[test]
fn handler_errors_and_panics_land_on_the_errbox_with_the_put_id() {
    let pool = HandlerPool::new(1, tagger).unwrap();
    pool.inbox.put(("a".to_string(), 1)).unwrap();
    let bad = pool.inbox.put((String::new(), 5)).unwrap();
    let unlucky = pool.inbox.put(("x".to_string(), 13)).unwrap();
    pool.inbox.put(("b".to_string(), 2)).unwrap();
    pool.exile().unwrap();

    let results: Vec<_> = pool.outbox.try_iter().collect();
    let expected = [(0, 1, "a".to_string()), (0, 4, "b".to_string())];
    assert_eq!(results, expected, "the handler kept its state past a panic");
    let failures: Vec<_> = pool.errbox.try_iter().collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].id(), bad);
    assert_eq!(failures[0].error(), Some(&"no name for 5".to_string()));
    assert_eq!(failures[1].id(), unlucky);
    assert_eq!(failures[1].panic().unwrap().message(), "unlucky x");
    let m = pool.metrics();
    assert_eq!((m.completed, m.failed, m.panicked), (2, 1, 1));
}

/// A handler factory that fails (with an error, or by panicking) for
/// worker 1.
fn factory_failing_for_1(panics: bool) -> impl Fn(&WorkerInfo) -> Result<Tagger, String> {
    move |w| match w.index() {
        1 if panics => panic!("factory of 1 exploded"),
        1 => Err("no handler for 1".to_string()),
        _ => Ok(Tagger {
            index: w.index(),
            seen: 0,
        }),
    }
}

#[test]
fn a_failing_handler_factory_fails_build_and_summon() {
    for panics in [false, true] {
        let built =
            HandlerPool::<(String, u32), Tagger>::with_setup(2, factory_failing_for_1(panics));
        let Err(BuildError::Setup { worker: 1, error }) = built else {
            panic!("expected handler 1 to fail the build (panics: {panics})");
        };
        let message = if panics {
            "factory of 1 exploded"
        } else {
            "no handler for 1"
        };
        assert_eq!(error.to_string(), message);

        let pool = HandlerPool::with_setup(1, factory_failing_for_1(panics)).unwrap();
        assert!(matches!(
            pool.summon(2),
            Err(BuildError::Setup { worker: 1, .. })
        ));
        let m = pool.metrics();
        assert_eq!((pool.poolsize(), m.setup_failures, m.spawned), (2, 1, 3));
        pool.inbox.put(("still works".to_string(), 1)).unwrap();
        let bad = pool.inbox.put((String::new(), 2)).unwrap();
        pool.exile().unwrap();
        assert_eq!(pool.outbox.try_iter().count(), 1);
        let failed: Vec<_> = pool.errbox.try_iter().map(|f| f.id()).collect();
        assert_eq!(failed, [bad]);
    }
}

/// A teardown or an inbox set before the setup cannot take the setup's
/// state: the build refuses it instead of forgetting it, scoped pools
/// included.
#[test]
fn a_teardown_or_an_inbox_set_before_the_setup_is_refused_at_build() {
    let misordered = || {
        WorkerPool::<u8>::builder()
            .workers(1)
            .worker_teardown(|(), _| ())
            .worker_setup(|_| Ok::<_, Infallible>(5u8))
    };
    let built = misordered().build();
    assert!(matches!(built, Err(BuildError::Invalid(_))), "{built:?}");
    let mut ran = false;
    let scoped = misordered().scope(|_| ran = true);
    assert!(matches!(scoped, Err(BuildError::Invalid(_))), "{scoped:?}");
    assert!(!ran);
    // Likewise an inbox, whose job type names the state: it stays open,
    // with its jobs, for a pool built the right way round.
    let shared: worklight::Inbox<Job<'static, u8>> = worklight::Inbox::new();
    shared.put(|| 1).unwrap();
    let built = WorkerPool::<u8>::builder()
        .inbox(shared.clone())
        .worker_setup(|_| Ok::<_, Infallible>(5u8))
        .build();
    assert!(matches!(built, Err(BuildError::Invalid(_))), "{built:?}");
    assert!(!shared.is_closed());
    assert_eq!(shared.len(), 1);
    // In the right order, it runs.
    let (tx, torn_down) = unbounded();
    let pool = WorkerPool::<u8>::builder()
        .workers(1)
        .worker_setup(|_| Ok::<_, Infallible>(5u8))
        .worker_teardown(move |state, _| tx.send(state).unwrap())
        .build()
        .unwrap();
    pool.exile().unwrap();
    assert_eq!(torn_down.try_iter().collect::<Vec<_>>(), [5]);
}

/// `worker_state`: a state made without fail, one per worker, counted by
/// its jobs and handed to the teardown.
#[test]
fn worker_state_gives_each_worker_a_state_that_cannot_fail() {
    const JOBS: usize = 40;
    let teardowns: Log<(usize, usize)> = log();
    let t = Arc::clone(&teardowns);
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_state(|w: &WorkerInfo| (w.index(), 0usize))
        .worker_teardown(move |(index, seen): (usize, usize), _: &WorkerInfo| {
            t.lock().unwrap().push((index, seen));
        })
        .build()
        .unwrap();
    for _ in 0..JOBS {
        let job = Job::stateful(|(index, seen): &mut (usize, usize)| {
            *seen += 1;
            *index
        });
        pool.inbox.put(job).unwrap();
    }
    pool.exile().unwrap();
    let ran_on: Vec<usize> = pool.outbox.iter().collect();
    assert_eq!(ran_on.len(), JOBS);
    let torn = taken(&teardowns);
    assert_eq!(torn.iter().map(|&(i, _)| i).collect::<Vec<_>>(), [0, 1]);
    for (index, seen) in torn {
        assert_eq!(seen, ran_on.iter().filter(|&&i| i == index).count());
    }
}

#[test]
fn a_handler_maker_that_panics_fails_build_and_summon() {
    let maker = |w: &WorkerInfo| {
        assert!(w.index() != 1, "no handler for worker 1");
        tagger(w)
    };
    let built = HandlerPool::<(String, u32), Tagger>::new(2, maker);
    let Err(BuildError::Setup { worker: 1, error }) = built else {
        panic!("expected handler 1 to fail the build");
    };
    assert_eq!(error.to_string(), "no handler for worker 1");

    let pool = HandlerPool::new(1, maker).unwrap();
    assert!(matches!(
        pool.summon(1),
        Err(BuildError::Setup { worker: 1, .. })
    ));
    pool.inbox.put(("kept".to_string(), 1)).unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.try_iter().count(), 1);
    assert_eq!(pool.metrics().setup_failures, 1);
}
