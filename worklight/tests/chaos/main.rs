//! Chaos: random sequences of operations — puts of jobs that succeed, fail
//! or panic (`put`, `try_put`, `put_all`), pause, resume, summon, banish,
//! `wait_idle`, reads of the boxes and of the metrics — run from two to
//! four threads at once against one pool, which one of them ends with
//! `exile`, `exile_now`, `exile_timeout` or a drop while the others may
//! carry on.
//!
//! Every job has an id of the test's own and a ledger entry: how often it
//! ran on a worker, how often the caller ran it after it was handed back
//! (a refused put, `exile_now`, a timed-out exile), and how often it was
//! dropped. Afterwards each accepted job ran exactly once or was handed
//! back exactly once, each refused job came back exactly once, each job was
//! dropped exactly once, every result and failure sits exactly once in its
//! box, the metrics agree, and no worker thread outlived the exile.
//!
//! The drivers never wait on one another for good, whatever the sequence:
//! a pause is always undone by the driver that made it, with nothing that
//! waits in between; banishes always leave a worker (only the finale
//! empties the pool, right before it ends it); and the driver that ends the
//! pool waits for the others only by counting their operations.
//!
//! The seed is fixed; `WORKLIGHT_CHAOS_SEED=<u64>` picks another one. A run
//! puts 1.5 million jobs, `WORKLIGHT_CHAOS=long` ten million. A case that
//! runs past [`CASE_GUARD`] (a lost job or wake-up leaves a pool that never
//! finishes) ends the test with that case's description instead of hanging.
//!
//! `ledger.rs` holds the jobs and the accounting; `exile_paths.rs` covers
//! each exile path once, deterministically, with the same accounting.

mod exile_paths;
mod ledger;

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use worklight::{BuildError, Exit, Inbox, JobError, Metrics, Outbox, WaitError};

use crate::ledger::{
    Census, Haul, How, Item, Ledger, Pool, PutSpec, Tally, build_pool, check, put_jobs,
    quiet_booms, read_to_end,
};

/// Summons stop adding workers above this size.
const MAX_WORKERS: usize = 8;

/// An operation in a driver's sequence.
#[derive(Debug, Clone)]
enum Op {
    Put(PutSpec),
    /// Pause, run these (none of which blocks), resume.
    Paused(Vec<Inner>),
    Resume,
    Summon(usize),
    /// Banish, leaving at least one worker (see `banish_some`).
    Banish(usize),
    WaitIdle,
    Drain,
    Metrics,
}

/// An operation inside a paused stretch: never one that waits for the pool.
#[derive(Debug, Clone)]
enum Inner {
    TryPut(PutSpec),
    Summon(usize),
    Banish(usize),
    Drain,
}

/// How the pool ends.
#[derive(Debug, Clone, Copy)]
enum Finale {
    Exile,
    ExileNow,
    ExileTimeout(Duration),
    Drop,
}

/// One chaos run. Driver 0 owns the pool: after its own operations it
/// waits until the other drivers are `finale_after` percent through theirs,
/// optionally pauses the pool and banishes every worker, then ends it.
#[derive(Debug, Clone)]
struct Case {
    workers: usize,
    capacity: Option<usize>,
    drivers: Vec<Vec<Op>>,
    finale_after: u8,
    pause_first: bool,
    banish_all_first: bool,
    finale: Finale,
}

fn put_spec(how: BoxedStrategy<How>) -> impl Strategy<Value = PutSpec> {
    let errors = prop_oneof![Just(0u16), 1u16..300];
    let panics = prop_oneof![2 => Just(0u16), 1 => 1u16..20];
    (1u32..=8, how, errors, panics).prop_map(|(weight, how, errors, panics)| PutSpec {
        weight,
        how,
        errors,
        panics,
    })
}

fn how() -> BoxedStrategy<How> {
    prop_oneof![
        3 => Just(How::Put),
        1 => Just(How::TryPut),
        1 => (1u16..=256).prop_map(How::PutAll),
    ]
    .boxed()
}

fn inner_op() -> impl Strategy<Value = Inner> {
    prop_oneof![
        3 => put_spec(Just(How::TryPut).boxed()).prop_map(Inner::TryPut),
        1 => (1usize..=3).prop_map(Inner::Summon),
        1 => (1usize..=3).prop_map(Inner::Banish),
        1 => Just(Inner::Drain),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => put_spec(how()).prop_map(Op::Put),
        2 => vec(inner_op(), 0..5).prop_map(Op::Paused),
        1 => Just(Op::Resume),
        2 => (1usize..=3).prop_map(Op::Summon),
        2 => (1usize..=3).prop_map(Op::Banish),
        2 => Just(Op::WaitIdle),
        1 => Just(Op::Drain),
        1 => Just(Op::Metrics),
    ]
}

/// Timeouts from "surely times out" to "surely done": which one happens is
/// never asserted, both are accounted for.
fn finale() -> impl Strategy<Value = Finale> {
    let timeout = prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_micros(1)),
        Just(Duration::from_micros(300)),
        Just(Duration::from_secs(3600)),
    ];
    prop_oneof![
        Just(Finale::Exile),
        Just(Finale::ExileNow),
        timeout.prop_map(Finale::ExileTimeout),
        Just(Finale::Drop),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let capacity = prop_oneof![
        2 => Just(None),
        1 => (1usize..=8).prop_map(Some),
        1 => (64usize..=4096).prop_map(Some),
    ];
    let finale_after = prop_oneof![Just(100u8), 0u8..=100];
    (
        1usize..=4,
        capacity,
        vec(vec(op(), 1..10), 2..=4),
        finale_after,
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.25),
        finale(),
    )
        .prop_map(
            |(workers, capacity, drivers, finale_after, pause_first, banish_all_first, finale)| {
                let mut case = Case {
                    workers,
                    capacity,
                    drivers,
                    finale_after,
                    pause_first,
                    banish_all_first,
                    finale,
                };
                // Every run puts its jobs: a run without a put gets one.
                if case.drivers.iter().all(|d| weights(d).is_empty()) {
                    case.drivers[1].insert(0, Op::Put(PutSpec::PLAIN));
                }
                // A dropped pool ends when its last handle goes, which may be
                // a driver's in `wait_idle`: that must not wait for a pool
                // that the finale paused.
                if matches!(finale, Finale::Drop) && pause_first {
                    case.finale_after = 100;
                }
                case
            },
        )
}

fn weights(ops: &[Op]) -> Vec<u32> {
    let mut w = Vec::new();
    for op in ops {
        match op {
            Op::Put(s) => w.push(s.weight),
            Op::Paused(inner) => {
                for i in inner {
                    if let Inner::TryPut(s) = i {
                        w.push(s.weight);
                    }
                }
            }
            _ => {}
        }
    }
    w
}

/// Splits the ids `0..jobs` among every put of every driver, by weight, in
/// order; each driver gets the ranges of its puts.
fn plan(case: &Case, jobs: u32) -> Vec<VecDeque<Range<u32>>> {
    let per_driver: Vec<Vec<u32>> = case.drivers.iter().map(|d| weights(d)).collect();
    let total: u64 = per_driver.iter().flatten().map(|&w| u64::from(w)).sum();
    let mut next = 0u32;
    let mut seen = 0u64;
    per_driver
        .iter()
        .map(|ws| {
            ws.iter()
                .map(|&w| {
                    seen += u64::from(w);
                    let end = (u64::from(jobs) * seen / total.max(1)) as u32;
                    let r = next..end;
                    next = end;
                    r
                })
                .collect()
        })
        .collect()
}

/// What the drivers share.
struct Stage<'s> {
    pool: Weak<Pool>,
    inbox: Inbox<Item>,
    outbox: Outbox<u32>,
    errbox: Outbox<JobError>,
    ledger: &'s Arc<Ledger>,
    /// The pool's size as the drivers made it: workers at build, plus those
    /// summoned, less those banished. Summons and banishes go through this
    /// lock, so the count is exact; banishes never take it below one (see
    /// `banish_some`) until the finale empties the pool.
    size: Mutex<usize>,
    /// Set just before the finale banishes every worker.
    emptied: AtomicBool,
    /// Operations the non-owning drivers have completed.
    progress: Mutex<usize>,
    progressed: Condvar,
}

impl Stage<'_> {
    fn with_pool(&self, f: impl FnOnce(&Pool)) {
        if let Some(pool) = self.pool.upgrade() {
            f(&pool);
        }
    }

    fn summon(&self, k: usize) {
        self.with_pool(|p| {
            let mut size = self.size.lock().unwrap();
            if *size < MAX_WORKERS {
                match p.summon(k) {
                    Ok(n) => {
                        assert_eq!(n, k, "summon started fewer workers than asked");
                        *size += n;
                    }
                    // Some of them may have started: counting none keeps
                    // the count a lower bound, which is all banishes need.
                    Err(BuildError::Exiled) => {}
                    Err(e) => panic!("summon: {e}"),
                }
            }
        });
    }

    /// Banishes up to `k` workers, never the last one: a driver in a
    /// blocking `put` must not wait for a `summon` that may never come.
    /// (`poolsize()` cannot be used for this: it reads two counters without
    /// the pool's lock, and may count a worker that is leaving on a banish
    /// as one that stays.)
    fn banish_some(&self, k: usize) {
        self.with_pool(|p| {
            let mut size = self.size.lock().unwrap();
            *size -= p.banish(k.min(size.saturating_sub(1)));
        });
    }

    fn banish_all(&self, pool: &Pool) {
        let mut size = self.size.lock().unwrap();
        self.emptied.store(true, SeqCst);
        pool.banish(usize::MAX);
        *size = 0;
    }

    fn wait_idle(&self, pool: &Pool) {
        match pool.wait_idle() {
            Ok(()) => {}
            Err(WaitError::NoWorkers) => assert!(
                self.emptied.load(SeqCst),
                "wait_idle: NoWorkers, but a worker was never banished"
            ),
            Err(e) => panic!("wait_idle: {e}"),
        }
    }

    fn inner(&self, op: &Inner, puts: &mut VecDeque<Range<u32>>, haul: &mut Haul) {
        match op {
            Inner::TryPut(spec) => {
                let ids = puts.pop_front().expect("planned range");
                put_jobs(&self.inbox, self.ledger, ids, *spec);
            }
            Inner::Summon(k) => self.summon(*k),
            Inner::Banish(k) => self.banish_some(*k),
            Inner::Drain => haul.read(&self.outbox, &self.errbox),
        }
    }

    fn op(&self, op: &Op, puts: &mut VecDeque<Range<u32>>, haul: &mut Haul) {
        match op {
            Op::Put(spec) => {
                let ids = puts.pop_front().expect("planned range");
                put_jobs(&self.inbox, self.ledger, ids, *spec);
            }
            Op::Paused(inner) => {
                self.with_pool(Pool::pause);
                for i in inner {
                    self.inner(i, puts, haul);
                }
                self.with_pool(Pool::resume);
            }
            Op::Resume => self.with_pool(Pool::resume),
            Op::Summon(k) => self.summon(*k),
            Op::Banish(k) => self.banish_some(*k),
            Op::WaitIdle => self.with_pool(|p| self.wait_idle(p)),
            Op::Drain => haul.read(&self.outbox, &self.errbox),
            // Fields of one snapshot may disagree (documented); counts since
            // the build only grow.
            Op::Metrics => self.with_pool(|p| {
                let m = p.metrics();
                if let Some(was) = haul.metrics.replace(m) {
                    let counts =
                        |m: Metrics| [m.completed, m.failed, m.panicked, m.handed_back, m.spawned];
                    let grew = counts(m)
                        .iter()
                        .zip(counts(was))
                        .all(|(now, then)| *now >= then);
                    assert!(grew, "metrics went back: {was:?}, then {m:?}");
                }
            }),
        }
    }

    fn advance(&self, ops: usize) {
        *self.progress.lock().unwrap() += ops;
        self.progressed.notify_all();
    }

    fn wait_progress(&self, at_least: usize) {
        let mut done = self.progress.lock().unwrap();
        while *done < at_least {
            done = self.progressed.wait(done).unwrap();
        }
    }
}

/// A driver's operations not yet done: counted as done when the driver
/// ends, even by a failed assertion, so that the owner never waits for it.
struct Left<'a, 's>(&'a Stage<'s>, usize);

impl Drop for Left<'_, '_> {
    fn drop(&mut self) {
        self.0.advance(self.1);
    }
}

/// Ends the pool as the case says; returns it (unless dropped) and
/// whether a timed exile timed out.
fn end_pool(
    case: &Case,
    stage: &Stage<'_>,
    pool: Arc<Pool>,
    haul: &mut Haul,
) -> (Option<Arc<Pool>>, bool) {
    if case.pause_first {
        pool.pause();
    }
    if case.banish_all_first {
        stage.banish_all(&pool);
    }
    let mut timed_out = false;
    let ended = match case.finale {
        Finale::Exile => pool.exile(),
        Finale::ExileNow => pool.exile_now().map(|unrun| haul.take_back(unrun)),
        Finale::ExileTimeout(d) => pool.exile_timeout(d).map(|exit| {
            if let Exit::TimedOut { unrun, .. } = exit {
                timed_out = true;
                haul.take_back(unrun);
            }
        }),
        Finale::Drop => {
            drop(pool);
            return (None, false);
        }
    };
    if let Err(e) = ended {
        panic!("{:?} failed: {e}", case.finale);
    }
    (Some(pool), timed_out)
}

fn run_case(case: &Case, jobs: u32) -> Result<Tally, TestCaseError> {
    let ledger = Ledger::new(jobs as usize);
    let census = Arc::new(Census::default());
    let pool = Arc::new(build_pool(case.workers, case.capacity, false, &census));
    let stage = Stage {
        pool: Arc::downgrade(&pool),
        inbox: pool.inbox.clone(),
        outbox: pool.outbox.clone(),
        errbox: pool.errbox.clone(),
        ledger: &ledger,
        size: Mutex::new(case.workers),
        emptied: AtomicBool::new(false),
        progress: Mutex::new(0),
        progressed: Condvar::new(),
    };
    let mut plans = plan(case, jobs).into_iter();
    let others: usize = case.drivers[1..].iter().map(Vec::len).sum();
    let threshold = others * usize::from(case.finale_after) / 100;

    let (owner, timed_out, mut hauls) = std::thread::scope(|s| {
        let stage = &stage;
        let mut owner_plan = plans.next().expect("driver 0");
        let owner_ops = &case.drivers[0];
        let owner = s.spawn(move || {
            let mut haul = Haul::default();
            for op in owner_ops {
                stage.op(op, &mut owner_plan, &mut haul);
            }
            stage.wait_progress(threshold);
            let (pool, timed_out) = end_pool(case, stage, pool, &mut haul);
            (pool, timed_out, haul)
        });
        let drivers: Vec<_> = case.drivers[1..]
            .iter()
            .zip(plans)
            .map(|(ops, mut puts)| {
                s.spawn(move || {
                    let mut haul = Haul::default();
                    let mut left = Left(stage, ops.len());
                    for op in ops {
                        stage.op(op, &mut puts, &mut haul);
                        stage.advance(1);
                        left.1 -= 1;
                    }
                    haul
                })
            })
            .collect();
        let hauls: Vec<Haul> = drivers.into_iter().map(|d| d.join().unwrap()).collect();
        let (pool, timed_out, haul) = owner.join().unwrap();
        let mut all = hauls;
        all.push(haul);
        (pool, timed_out, all)
    });

    let metrics = match &owner {
        Some(pool) => {
            if timed_out {
                // The workers still finishing a job leave now.
                pool.exile().expect("exile after a timed-out exile");
            }
            // An exiled pool stays exiled, and exiling it again does nothing.
            prop_assert!(pool.exile().is_ok());
            prop_assert!(pool.inbox.is_closed());
            prop_assert!(pool.inbox.put(|| 0).is_err(), "put after exile");
            prop_assert!(matches!(pool.summon(1), Err(BuildError::Exiled)));
            prop_assert_eq!(pool.banish(1), 0);
            prop_assert!(pool.wait_idle().is_ok());
            Some(pool.metrics())
        }
        None => None,
    };
    hauls.push(read_to_end(&stage.outbox, &stage.errbox));
    drop(stage);
    let mut tally = check(&ledger, hauls, &census, metrics)?;
    let end = match case.finale {
        Finale::Exile => 0,
        Finale::ExileNow => 1,
        Finale::ExileTimeout(_) if !timed_out => 2,
        Finale::ExileTimeout(_) => 3,
        Finale::Drop => 4,
    };
    tally.ends[end] += 1;
    drop(owner);
    prop_assert_eq!(census.live.load(Relaxed), 0);
    Ok(tally)
}

/// How long one case may run before the test fails instead of hanging: a
/// lost job or a lost wake-up shows as a pool that never finishes its work,
/// and a `wait_idle` or an exile that never returns. Cases take well under
/// a second.
const CASE_GUARD: Duration = Duration::from_secs(60);

/// A thread that ends the test process, naming the case, if no case
/// starts for [`CASE_GUARD`]; each case sends its description as it
/// starts. Dropping the sender stops it.
fn watchdog() -> std::sync::mpsc::Sender<String> {
    use std::sync::mpsc::RecvTimeoutError;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut case = String::from("(none yet)");
        loop {
            match rx.recv_timeout(CASE_GUARD) {
                Ok(next) => case = next,
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    // Straight to the process's stderr: the test harness
                    // captures `eprintln!`, and the exit discards it.
                    let msg = format!("chaos: a case ran past {CASE_GUARD:?}, hung: {case}\n");
                    let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
                    std::process::exit(101);
                }
            }
        }
    });
    tx
}

fn chaos_seed() -> [u8; 32] {
    let seed: u64 = match std::env::var("WORKLIGHT_CHAOS_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("WORKLIGHT_CHAOS_SEED must be a u64"),
        Err(_) => 0x776f_726b_6c69_6768, // "worklig"
    };
    eprintln!("chaos seed: {seed} (set WORKLIGHT_CHAOS_SEED to change)");
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

#[test]
fn chaos() {
    quiet_booms();
    let long = std::env::var("WORKLIGHT_CHAOS").is_ok_and(|v| v == "long");
    let (cases, jobs) = if long {
        (200u32, 50_000u32)
    } else {
        (64u32, 24_000u32)
    };
    let config = Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &chaos_seed());
    let mut runner = TestRunner::new_with_rng(config, rng);
    let total = Mutex::new(Tally::default());
    let watchdog = watchdog();
    let result = runner.run(&case(), |case| {
        watchdog.send(format!("{case:?}")).unwrap();
        let t = run_case(&case, jobs)?;
        total.lock().unwrap().add(t);
        Ok(())
    });
    drop(watchdog);
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = total.into_inner().unwrap();
    eprintln!("chaos: {t:?}");
    assert!(t.created >= u64::from(cases) * u64::from(jobs));
}
