//! Loom models of the races the pool's protocol must win (see `inbox.rs`
//! and `core.rs`), each test named for the claim it proves. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p worklight --lib --release loom_models
//! ```
//!
//! Each model builds a real pool whose workers are loom threads: the
//! spawner hands back no join handle, so exile waits on the roster's thread
//! count and condition variable, as `exile_timeout` does for every pool.
//! Loom runs every interleaving of the model's threads up to a preemption
//! bound, and fails on a broken assertion or a deadlock — which is how a
//! lost wake-up shows: every thread asleep, nobody left to wake them. A
//! model ends only when every worker has left, so each one also proves
//! that its exile returns.
//!
//! Jobs return their own number, and a result lands on the outbox exactly
//! once per run: the outbox is the record of what ran.
//!
//! Timed waits (the self-sizing pool's keep-alive) follow the model's
//! [`Deadline`]: see `Condvar::wait_until` in `sync.rs`.
//!
//! Loom allows five threads per model, the test's own included; the
//! models stay within that, helper and re-grown workers counted.
//!
//! Under loom a queue segment holds two jobs (`queue::SEGMENT`), and a
//! worker whose share of the queue is a segment takes it whole
//! (`take::WHOLE_SEGMENT_SHARE`): a lone worker that finds three jobs
//! queued takes the first two that way, so the models with a batch cover
//! the whole-segment path too.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use loom::thread;

use crate::builder::assemble;
use crate::core::{Settings, SpawnFn};
use crate::failure::JobError;
use crate::inbox::Inbox;
use crate::job::Job;
use crate::kind::{Closures, WorkerInfo};
use crate::pool::WorkerPool;
use crate::sink::Sink;
use crate::summoning::Summoning;
use crate::sync::{Deadline, set_deadlines};

type Outbox = Option<Arc<dyn Sink<u32>>>;
type Errbox = Option<Arc<dyn Sink<JobError>>>;

/// A closure pool whose workers are loom threads; a self-sizing one grows
/// on puts, as one from `Builder::build` does.
fn loom_pool(settings: Settings, outbox: Outbox, errbox: Errbox) -> WorkerPool<u32> {
    loom_pool_on(Inbox::with_capacity(None), settings, outbox, errbox)
}

/// As [`loom_pool`], taking from `inbox` (which other pools may share).
fn loom_pool_on(
    inbox: Inbox<Job<'static, u32>>,
    settings: Settings,
    outbox: Outbox,
    errbox: Errbox,
) -> WorkerPool<u32> {
    let spawner: Box<SpawnFn<'static>> = Box::new(|_builder, body| {
        thread::spawn(body);
        Ok(None)
    });
    let kind = Closures::new(Arc::new(|_: &WorkerInfo| Ok(())), false, None);
    let pool = assemble(settings, kind, inbox, outbox, errbox, spawner).expect("pool starts");
    if pool.core.ctl.scaling.is_some() {
        pool.core.register_growth();
    }
    pool
}

fn workers(n: usize) -> Settings {
    Settings {
        workers: Some(n),
        ..Settings::default()
    }
}

fn summoning(policy: Summoning) -> Settings {
    Settings {
        summoning: Some(policy),
        ..Settings::default()
    }
}

/// Explores `model` with every interleaving up to `preemptions`
/// preemptions, timed waits behaving as `deadlines` says; prints how many
/// interleavings there were (seen with `--nocapture`).
fn check(preemptions: usize, deadlines: Deadline, model: impl Fn() + Sync + Send + 'static) {
    set_deadlines(deadlines);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        model();
    });
    let name = std::thread::current().name().unwrap_or("model").to_owned();
    eprintln!("{name}: {} interleavings", runs.load(Relaxed));
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// The numbers of the jobs that ran.
fn ran(pool: &WorkerPool<u32>) -> Vec<u32> {
    sorted(pool.outbox.try_iter().collect())
}

/// Runs jobs handed back unrun, for their numbers.
fn numbers(jobs: Vec<Job<'static, u32>>) -> Vec<u32> {
    jobs.into_iter()
        .map(|job| job.run(&mut ()).unwrap())
        .collect()
}

/// A one-way gate between a job and the model's threads: `wait` returns
/// once someone has called `open`.
struct Gate {
    open: loom::sync::Mutex<bool>,
    opened: loom::sync::Condvar,
}

impl Gate {
    fn new() -> Arc<Self> {
        Arc::new(Gate {
            open: loom::sync::Mutex::new(false),
            opened: loom::sync::Condvar::new(),
        })
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }
}

/// Puts `n` from another thread; the job comes back if it was refused.
fn put_from_thread(
    pool: &WorkerPool<u32>,
    n: u32,
) -> thread::JoinHandle<Option<Job<'static, u32>>> {
    let inbox = pool.inbox.clone();
    thread::spawn(move || inbox.put(move || n).err().map(|e| e.0))
}

/// Claim 1: a `put` racing `exile` either queues its job before the inbox
/// closes — and the exile then runs it, exactly once, before returning — or
/// finds the inbox closed and hands the job back. Never both, never
/// neither; and once one put is refused, every later one is.
#[test]
fn put_racing_exile_runs_each_job_once_or_hands_it_back() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        let inbox = pool.inbox.clone();
        let putter = thread::spawn(move || {
            let mut refused = Vec::new();
            for n in [1, 2] {
                if let Err(e) = inbox.put(move || n) {
                    refused.push(e.0);
                }
            }
            refused
        });
        pool.exile().expect("exile");
        let handed_back = numbers(putter.join().unwrap());
        assert!(
            matches!(handed_back[..], [] | [2] | [1, 2]),
            "{handed_back:?}"
        );
        let mut all = ran(&pool);
        assert_eq!(pool.metrics().completed, all.len() as u64);
        all.extend(handed_back);
        assert_eq!(sorted(all), [1, 2], "every job run once or handed back");
    });
}

/// Claim 2: `exile_now` racing workers that take jobs — one at a time, in
/// a batch into a worker's slot, or stolen from a sibling's slot — and a
/// put from another thread: each job is run (its result lands), returned
/// unrun by `exile_now`, or refused by its put, exactly once.
#[test]
fn exile_now_racing_take_runs_or_returns_each_job_exactly_once() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(2), None, None);
        // One lock acquisition: the first worker to take finds all three
        // and moves a batch into its slot.
        pool.inbox.put_all([|| 1, || 2, || 3]).unwrap();
        let putter = put_from_thread(&pool, 4);
        let unrun = numbers(pool.exile_now().expect("exile_now"));
        let refused = numbers(putter.join().unwrap().into_iter().collect());
        let m = pool.metrics();
        assert_eq!(m.handed_back, unrun.len() as u64);
        let mut all = ran(&pool);
        assert_eq!(m.completed, all.len() as u64);
        all.extend(unrun);
        all.extend(refused);
        assert_eq!(
            sorted(all),
            [1, 2, 3, 4],
            "each run, returned or refused, once"
        );
        assert_eq!(pool.poolsize(), 0);
    });
}

/// Claim 2, for a worker holding a batch: `exile_now` comes while the
/// worker runs the first job of a batch — before, during or after another
/// thread lets that job finish — so it races the worker starting the next
/// jobs of its slot without the inbox lock. Each job is run or returned,
/// exactly once.
#[test]
fn exile_now_racing_a_batch_runs_or_returns_each_job_exactly_once() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        let (started, release) = (Gate::new(), Gate::new());
        let first = {
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            Job::new(move || {
                started.open();
                release.wait();
                1
            })
        };
        pool.inbox
            .put_all([first, Job::new(|| 2), Job::new(|| 3)])
            .unwrap();
        started.wait();
        let releaser = thread::spawn(move || release.open());
        let unrun = numbers(pool.exile_now().expect("exile_now"));
        releaser.join().unwrap();
        let mut all = ran(&pool);
        assert!(all.contains(&1), "the running job finishes");
        all.extend(unrun);
        assert_eq!(sorted(all), [1, 2, 3], "each run or returned, once");
    });
}

/// Claim 3: banishing every worker while jobs are queued loses nothing.
/// Banished workers leave, perhaps before taking any job, putting the jobs
/// of their slot back on the queue; banishes still pending at the exile
/// are cancelled (those workers stay to help); and if no worker is left
/// while jobs wait, the exile starts a helper. Every job runs once and the
/// exile returns.
#[test]
fn banish_racing_queued_work_then_exile_runs_every_job() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(2), None, None);
        pool.inbox.put_all([|| 1, || 2, || 3]).unwrap();
        assert_eq!(pool.banish(2), 2, "both workers banished");
        pool.exile()
            .expect("exile starts a helper if needed, and returns");
        assert_eq!(ran(&pool), [1, 2, 3], "every queued job ran once");
        assert_eq!(pool.poolsize(), 0);
        let m = pool.metrics();
        assert!(m.retired <= 2, "{m:?}");
        assert!(
            m.spawned == 2 || (m.spawned == 3 && m.retired == 2),
            "helper only if both left: {m:?}"
        );
    });
}

/// Claim 3, for a worker holding a batch: banished while it runs the first
/// job of a batch, with the rest in its slot, it puts them back on the
/// queue as it leaves. There `wait_idle` sees them stranded (it would wait
/// forever if they were lost with the slot), and the exile's helper runs
/// them.
#[test]
fn banished_worker_puts_its_batch_back_for_the_exile() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        let (started, banished) = (Gate::new(), Gate::new());
        let first = {
            let (started, banished) = (Arc::clone(&started), Arc::clone(&banished));
            Job::new(move || {
                started.open();
                banished.wait();
                1
            })
        };
        // One lock acquisition: the worker takes job 1 and job 2 into its
        // slot, the two as one whole segment (see the module docs); job 3
        // stays queued.
        pool.inbox
            .put_all([first, Job::new(|| 2), Job::new(|| 3)])
            .unwrap();
        started.wait();
        assert_eq!(pool.banish(1), 1);
        banished.open();
        assert!(matches!(pool.wait_idle(), Err(crate::WaitError::NoWorkers)));
        assert_eq!(pool.inbox.len(), 2, "the batch is back on the queue");
        pool.exile().expect("exile");
        assert_eq!(ran(&pool), [1, 2, 3], "every job ran once");
        assert_eq!(pool.metrics().spawned, 2, "a helper ran the batch");
    });
}

/// A pool with one job queued and no worker left: its only worker was
/// banished, and `wait_idle` has seen it leave.
fn workerless_pool_with_a_job() -> WorkerPool<u32> {
    let pool = loom_pool(workers(1), None, None);
    assert_eq!(pool.banish(1), 1);
    pool.inbox.put(|| 1).unwrap(); // the banished worker leaves it queued
    assert!(matches!(pool.wait_idle(), Err(crate::WaitError::NoWorkers)));
    pool
}

/// Claim 3, for two exiles at once: the first to begin reserves the place
/// of the helper the queued job needs and starts it with the lock
/// released; the second must still wait for that helper, not return early
/// (and take the pool's senders from under it). Both return once the job
/// has run.
#[test]
fn two_exiles_racing_wait_for_the_one_helper() {
    check(2, Deadline::Passes, || {
        let pool = Arc::new(workerless_pool_with_a_job());
        let other = Arc::clone(&pool);
        let exiler = thread::spawn(move || other.exile().is_ok());
        let mine = pool.exile().is_ok();
        assert!(exiler.join().unwrap() && mine, "both exiles succeed");
        assert_eq!(ran(&pool), [1], "the job ran once");
        assert_eq!(pool.metrics().alive, 0);
    });
}

/// Claim 3, for a summon racing the exile: whichever reserves the worker
/// place first, the exile waits for that worker and the job runs once.
#[test]
fn summon_racing_exile_of_a_workerless_pool_runs_the_job() {
    check(2, Deadline::Passes, || {
        let pool = workerless_pool_with_a_job();
        let core = Arc::clone(&pool.core);
        let summoner = thread::spawn(move || core.summon(1, None, false).ok());
        pool.exile().expect("exile");
        let summoned = summoner.join().unwrap();
        assert!(matches!(summoned, None | Some(1)), "{summoned:?}");
        assert_eq!(ran(&pool), [1], "the job ran once");
        assert_eq!(pool.metrics().alive, 0);
    });
}

/// Claim 3, from another thread: a banish racing the puts themselves.
#[test]
fn banish_from_another_thread_racing_puts_then_exile_runs_every_job() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        let core = Arc::clone(&pool.core);
        let banisher = thread::spawn(move || core.banish(1));
        pool.inbox.put(|| 1).unwrap();
        pool.inbox.put(|| 2).unwrap();
        assert_eq!(banisher.join().unwrap(), 1);
        pool.exile().expect("exile");
        assert_eq!(ran(&pool), [1, 2], "every queued job ran once");
    });
}

/// A pool of two workers started with `settings`; one is banished from
/// another thread while a job is put. The job runs once, `wait_idle`
/// returns, and one worker stays; then the pool is exiled.
fn banish_one_of_two_racing_a_put(settings: Settings) {
    let pool = loom_pool(settings, None, None);
    let core = Arc::clone(&pool.core);
    let banisher = thread::spawn(move || core.banish(1));
    pool.inbox.put(|| 1).unwrap();
    assert_eq!(banisher.join().unwrap(), 1);
    pool.wait_idle().expect("wait_idle");
    assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), [1]);
    assert_eq!(pool.poolsize(), 1);
    pool.exile().expect("exile");
}

/// Claim 3, without an exile to cover for a lost wake-up: banishing one of
/// two idle workers while a job is put. Whichever worker the put's wake-up
/// reaches and whichever takes the banish, the one that stays runs the job
/// and `wait_idle` returns.
#[test]
fn banish_racing_put_passes_the_wakeup_to_the_worker_that_stays() {
    check(2, Deadline::Passes, || {
        banish_one_of_two_racing_a_put(workers(2))
    });
}

/// Claim 3, for a worker held by a stagger past the clock's range: a
/// banish racing its start and a put. The held worker, counted from its
/// reservation, takes the token, whether it has begun its hold yet or
/// not; the worker taking jobs stays, runs the job, and `wait_idle`
/// returns (were the held worker the one left, it would report
/// `NoWorkers`).
#[test]
fn banish_racing_a_held_workers_start_retires_the_held_one() {
    check(2, Deadline::Never, || {
        banish_one_of_two_racing_a_put(Settings {
            stagger: Some(std::time::Duration::MAX),
            ..workers(2)
        });
    });
}

/// Claim 3, with a worker spinning: a put skips waking a sleeper while a
/// worker spins with the lock released, bound to come for the job; that
/// worker, taking it and finding more work queued, wakes the sleeper. The
/// first job waits for the second, so the second must run on the other
/// worker: had the wake-up been lost, the model would deadlock.
#[test]
fn puts_passing_a_spinning_worker_still_wake_a_sleeper_for_the_work_left() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(2), None, None);
        let gate = Gate::new();
        let (held, opener) = (Arc::clone(&gate), gate);
        pool.inbox
            .put(move || {
                held.wait();
                1
            })
            .unwrap();
        pool.inbox
            .put(move || {
                opener.open();
                2
            })
            .unwrap();
        pool.wait_idle().expect("wait_idle");
        assert_eq!(ran(&pool), [1, 2]);
        pool.exile().expect("exile");
    });
}

/// Two pools of one worker each, sharing one inbox.
fn two_pools() -> (Inbox<Job<'static, u32>>, WorkerPool<u32>, WorkerPool<u32>) {
    let inbox = Inbox::with_capacity(None);
    let a = loom_pool_on(inbox.clone(), workers(1), None, None);
    let b = loom_pool_on(inbox.clone(), workers(1), None, None);
    (inbox, a, b)
}

/// Claim 3, across pools: two pools share an inbox, and a worker of the
/// first spins, bound to take the next job, when its pool is paused and a
/// job is put. That put skips waking the second pool's sleeping worker;
/// the spinner, held by the pause, must pass the wake-up on. `wait_idle`
/// returns only once the second pool ran the job (it deadlocks otherwise).
#[test]
fn a_worker_spinning_into_a_pause_passes_the_wakeup_to_another_pool() {
    check(3, Deadline::Passes, || {
        let (inbox, a, b) = two_pools();
        a.pause();
        inbox.put(|| 1).unwrap();
        b.wait_idle().expect("wait_idle");
        assert_eq!(ran(&b), [1]);
        a.exile().expect("exile a");
        b.exile().expect("exile b");
    });
}

/// Claim 3, on exile: an exile wakes its sleeping workers with the inbox
/// lock released, one notification each (`Inbox::wake_all`). Two pools
/// share an inbox; whichever worker runs the first job begins to wait again
/// while the first pool is exiled, and may take one of those wake-ups. The
/// exile still returns (a sleeper left asleep deadlocks it: verified with
/// one notification fewer), and the other pool still runs a job put after
/// it. Loom's condition variable wakes waiters in the order they began to
/// wait, so a late waiter never takes an earlier one's wake-up here; the
/// closing `notify_all` in `wake_all` is for a condition variable that
/// does.
#[test]
fn exile_wakes_its_sleepers_while_another_pools_worker_begins_to_wait() {
    check(3, Deadline::Passes, || {
        let (inbox, a, b) = two_pools();
        inbox.put(|| 1).unwrap();
        a.exile().expect("exile a");
        inbox.put(|| 2).unwrap();
        b.exile().expect("exile b");
        let (on_a, on_b) = (ran(&a), ran(&b));
        assert!(on_b.contains(&2), "job 2 can only run on b");
        assert_eq!(sorted([on_a, on_b].concat()), [1, 2]);
    });
}

/// Claim 4: pause racing a put and resume loses no wake-up. The worker is
/// asleep on the inbox, held in the pause, or on its way to either;
/// whichever way the three race, after `resume` the job runs: `wait_idle`
/// returns (it would deadlock otherwise) with the result landed, and the
/// exile completes.
#[test]
fn pause_racing_put_and_resume_loses_no_wakeup() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        let putter = put_from_thread(&pool, 1);
        pool.pause();
        pool.resume();
        assert!(putter.join().unwrap().is_none(), "accepted");
        pool.wait_idle().expect("wait_idle");
        assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), [1]);
        pool.exile().expect("exile");
    });
}

/// Claim 4, the pause's other half: once `pause` returns, a worker starts
/// at most the one job it had already taken — even one running the jobs
/// of its slot without the inbox lock — and nothing more until `resume`.
#[test]
fn pause_holds_a_worker_with_a_batch_after_its_current_job() {
    check(3, Deadline::Passes, || {
        let pool = loom_pool(workers(1), None, None);
        // Loom atomics, so that a job that sees the flag is ordered after
        // the pause (a `std` atomic would order more than real memory does).
        let paused = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let started_in_pause = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let jobs = (1..=3).map(|n| {
            let paused = Arc::clone(&paused);
            let started = Arc::clone(&started_in_pause);
            move || {
                if paused.load(SeqCst) {
                    started.fetch_add(1, SeqCst);
                }
                n
            }
        });
        pool.inbox.put_all(jobs).unwrap();
        pool.pause();
        paused.store(true, SeqCst);
        // Let the worker run into the pause, if it is to be held.
        thread::yield_now();
        paused.store(false, SeqCst);
        let in_pause = started_in_pause.load(SeqCst);
        assert!(
            in_pause <= 1,
            "{in_pause} jobs started after pause returned"
        );
        pool.resume();
        pool.wait_idle().expect("wait_idle");
        assert_eq!(ran(&pool), [1, 2, 3]);
        pool.exile().expect("exile");
    });
}

/// Claim 5 (the body of both keep-alive models): a self-sizing pool with
/// no worker at rest and at most one; two puts race each other and the
/// first worker's keep-alive. The job is never stranded — `wait_idle`,
/// which starts no helper (unlike exile), returns — and the pool never
/// counts more than `max` workers, reserved places included.
fn keep_alive_racing_put() {
    let policy = Summoning::new(0, 1);
    let pool = loom_pool(summoning(policy), None, None);
    let putter = put_from_thread(&pool, 2);
    pool.inbox.put(|| 1).unwrap();
    assert!(pool.poolsize() <= policy.max());
    assert!(putter.join().unwrap().is_none(), "accepted");
    pool.wait_idle().expect("no job stranded");
    assert!(pool.poolsize() <= policy.max());
    pool.exile().expect("exile");
    let m = pool.metrics();
    assert!(m.high_water <= policy.max(), "{m:?}");
    assert_eq!(ran(&pool), [1, 2]);
}

/// Claim 5, with keep-alives that run out at any point: a worker either
/// sees the new job and takes it, or retires before the put, which then
/// starts a new one.
#[test]
fn keep_alive_expiring_racing_put_never_strands_the_job_nor_exceeds_max() {
    check(3, Deadline::Passes, keep_alive_racing_put);
}

/// Claim 5, with keep-alives that never run out: a put must wake the idle
/// surplus worker itself, not leave the job for a timeout to find.
#[test]
fn keep_alive_sleeper_is_woken_by_put_never_strands_the_job() {
    check(3, Deadline::Never, keep_alive_racing_put);
}

/// Claim 6: the last reader of a caller-supplied outbox and errbox drops
/// them while jobs run: deliveries fail instead of blocking, the exile
/// completes, and every result or failure is either received or counted in
/// `metrics().discarded`.
#[test]
fn outbox_reader_dropped_mid_run_discards_without_blocking() {
    check(3, Deadline::Passes, || {
        let (out_tx, out_rx) = crossbeam_channel::unbounded::<u32>();
        let (err_tx, err_rx) = crossbeam_channel::unbounded::<JobError>();
        let pool = loom_pool(workers(2), Some(Arc::new(out_tx)), Some(Arc::new(err_tx)));
        pool.inbox.put(|| 1).unwrap();
        pool.inbox
            .put(Job::fallible(|| Err::<u32, _>("fails")))
            .unwrap();
        let reader = thread::spawn(move || {
            // Never a blocking receive in a model: take what is there now,
            // then go.
            let got =
                usize::from(out_rx.try_recv().is_ok()) + usize::from(err_rx.try_recv().is_ok());
            drop((out_rx, err_rx));
            got
        });
        pool.exile().expect("exile completes");
        let received = reader.join().unwrap() as u64;
        let m = pool.metrics();
        assert_eq!((m.completed, m.failed), (1, 1));
        assert_eq!(
            received + m.discarded,
            2,
            "each received or discarded: {m:?}"
        );
        assert!(pool.outbox.is_empty() && pool.errbox.is_empty());
    });
}
