//! Chaos: random sequences of operations — puts of jobs that succeed, fail
//! or panic, pause, resume, summon, banish, wait_idle, reads of the boxes —
//! run from several threads at once against one pool, which one of them
//! ends with `exile`, `exile_now`, `exile_timeout` or a drop while the
//! others carry on.
//!
//! Every job has an id of the test's own and a ledger entry: how often it
//! ran on a worker, how often the caller ran it after it was handed back
//! (a refused put, `exile_now`, a timed-out exile), and how often it was
//! dropped. Afterwards each accepted job ran exactly once or was handed
//! back exactly once, each refused job came back exactly once, each job was
//! dropped exactly once, every result and failure sits exactly once in its
//! box, the metrics agree, and no worker thread outlived the exile.
//!
//! The seed is fixed; `WORKLIGHT_CHAOS_SEED=<u64>` picks another one, and
//! `WORKLIGHT_CHAOS=long` runs ten times the jobs (10^7 instead of 10^6).

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
use std::sync::{Arc, Condvar, Mutex, Once, Weak, mpsc};
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use worklight::{
    BuildError, ExileError, Exit, Inbox, Job, JobError, JobId, Metrics, Outbox, WorkerPool,
};

type Pool = WorkerPool<u32>;
type Item = Job<'static, u32>;

/// Summons stop adding workers above this size.
const MAX_WORKERS: usize = 8;

// ---- jobs and their ledger ---------------------------------------------

/// What a job does when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Value = 1,
    Error = 2,
    Panic = 3,
}

/// The error a failing job returns.
#[derive(Debug)]
struct Fail(u32);

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} failed", self.0)
    }
}

impl std::error::Error for Fail {}

/// The payload a panicking job panics with.
struct Boom(u32);

thread_local! {
    /// Set by the start hook: this thread is one of a pool's workers.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Per-job counters, indexed by the test's job id.
struct Ledger {
    outcome: Vec<AtomicU8>,
    /// 1: `put` accepted the job; 2: `put` handed it back.
    put: Vec<AtomicU8>,
    /// The id `put` returned, which the errbox report must carry.
    job_id: Vec<AtomicU64>,
    /// Runs on a worker thread.
    ran: Vec<AtomicU8>,
    /// Runs by the caller, after the job was handed back.
    returned: Vec<AtomicU8>,
    dropped: Vec<AtomicU8>,
}

impl Ledger {
    fn new(jobs: usize) -> Arc<Self> {
        let counters = || (0..jobs).map(|_| AtomicU8::new(0)).collect();
        Arc::new(Ledger {
            outcome: counters(),
            put: counters(),
            job_id: (0..jobs).map(|_| AtomicU64::new(u64::MAX)).collect(),
            ran: counters(),
            returned: counters(),
            dropped: counters(),
        })
    }

    fn len(&self) -> usize {
        self.outcome.len()
    }
}

/// Lives inside a job's closure; counts the closure's drop.
struct Token {
    id: u32,
    ledger: Arc<Ledger>,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.ledger.dropped[self.id as usize].fetch_add(1, Relaxed);
    }
}

fn make_job(ledger: &Arc<Ledger>, id: u32, outcome: Outcome) -> Item {
    ledger.outcome[id as usize].store(outcome as u8, Relaxed);
    let token = Token {
        id,
        ledger: Arc::clone(ledger),
    };
    Job::fallible(move || {
        let token = token;
        let runs = if ON_WORKER.with(Cell::get) {
            &token.ledger.ran
        } else {
            &token.ledger.returned
        };
        runs[token.id as usize].fetch_add(1, Relaxed);
        match outcome {
            Outcome::Value => Ok(token.id),
            Outcome::Error => Err(Fail(token.id)),
            Outcome::Panic => std::panic::panic_any(Boom(token.id)),
        }
    })
}

/// Runs a handed-back job on this thread, as a caller would.
fn run_here(job: Item) {
    let _ = catch_unwind(AssertUnwindSafe(|| job.run(&mut ())));
}

/// A job's outcome from its id: `errors` and `panics` per thousand.
fn outcome_of(id: u32, errors: u16, panics: u16) -> Outcome {
    let mut x = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    match (x % 1000) as u16 {
        r if r < panics => Outcome::Panic,
        r if r < panics + errors => Outcome::Error,
        _ => Outcome::Value,
    }
}

/// Keeps the jobs' own panics off stderr; every other panic is reported.
fn quiet_booms() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Boom>().is_none() {
                report(info);
            }
        }));
    });
}

/// Live worker threads, counted by the start and stop hooks.
#[derive(Default)]
struct Census {
    live: AtomicUsize,
    started: AtomicUsize,
    stopped: AtomicUsize,
}

fn build_pool(workers: usize, capacity: Option<usize>, paused: bool, census: &Arc<Census>) -> Pool {
    let (on_start, on_stop) = (Arc::clone(census), Arc::clone(census));
    let mut builder = Pool::builder()
        .workers(workers)
        .on_worker_start(move |_| {
            ON_WORKER.with(|w| w.set(true));
            on_start.started.fetch_add(1, Relaxed);
            on_start.live.fetch_add(1, Relaxed);
        })
        .on_worker_stop(move |_| {
            on_stop.live.fetch_sub(1, Relaxed);
            on_stop.stopped.fetch_add(1, Relaxed);
        });
    if let Some(c) = capacity {
        builder = builder.capacity(c);
    }
    if paused {
        builder = builder.paused();
    }
    builder.build().expect("build the pool")
}

/// What a driver thread brings back: what it read from the boxes, how many
/// jobs an exile handed back to it.
#[derive(Default)]
struct Haul {
    values: Vec<u32>,
    failures: Vec<JobError>,
    handed_back: u64,
    /// The last metrics this driver read.
    metrics: Option<Metrics>,
}

impl Haul {
    fn read(&mut self, outbox: &Outbox<u32>, errbox: &Outbox<JobError>) {
        self.values.extend(outbox.try_iter());
        self.failures.extend(errbox.try_iter());
    }

    fn take_back(&mut self, unrun: Vec<Item>) {
        self.handed_back += unrun.len() as u64;
        unrun.into_iter().for_each(run_here);
    }
}

/// Puts the jobs `ids` as `spec` says, recording which were accepted; a
/// refused job is run here, as the caller that got it back would.
fn put_jobs(inbox: &Inbox<Item>, ledger: &Arc<Ledger>, ids: Range<u32>, spec: PutSpec) {
    let job = |id| make_job(ledger, id, outcome_of(id, spec.errors, spec.panics));
    let refused = |id: u32, job| {
        ledger.put[id as usize].store(2, Relaxed);
        run_here(job);
    };
    let accepted = |id: u32, job_id: Option<JobId>| {
        ledger.put[id as usize].store(1, Relaxed);
        if let Some(j) = job_id {
            ledger.job_id[id as usize].store(j.get(), Relaxed);
        }
    };
    match spec.how {
        How::Put | How::TryPut => {
            for id in ids {
                let put = match spec.how {
                    How::Put => inbox.put(job(id)).map_err(|e| e.into_inner()),
                    _ => inbox.try_put(job(id)).map_err(|e| e.into_inner()),
                };
                match put {
                    Ok(job_id) => accepted(id, Some(job_id)),
                    Err(job) => refused(id, job),
                }
            }
        }
        How::PutAll(batch) => {
            let mut next = ids.start;
            while next < ids.end {
                let end = ids.end.min(next + u32::from(batch));
                // `put_all` puts a prefix and hands the rest back.
                let unput = match inbox.put_all((next..end).map(job)) {
                    Ok(n) => {
                        assert_eq!(n, (end - next) as usize);
                        Vec::new()
                    }
                    Err(e) => e.into_inner(),
                };
                let first_unput = end - unput.len() as u32;
                (next..first_unput).for_each(|id| accepted(id, None));
                for (id, job) in (first_unput..end).zip(unput) {
                    refused(id, job);
                }
                next = end;
            }
        }
    }
}

// ---- the final check ----------------------------------------------------

/// Checks the ledger, the boxes' contents and the metrics once the pool is
/// exiled and every driver is done.
fn check(
    ledger: &Ledger,
    hauls: Vec<Haul>,
    census: &Census,
    metrics: Option<Metrics>,
) -> Result<Tally, TestCaseError> {
    prop_assert_eq!(
        census.live.load(Relaxed),
        0,
        "a worker thread outlived its pool"
    );
    let started = census.started.load(Relaxed);
    prop_assert_eq!(started, census.stopped.load(Relaxed));

    let n = ledger.len();
    let mut in_outbox = vec![0u32; n];
    let mut in_errbox = vec![0u32; n];
    let mut handed_back = 0;
    for haul in hauls {
        handed_back += haul.handed_back;
        for v in haul.values {
            in_outbox[v as usize] += 1;
        }
        for f in haul.failures {
            let id = match (f.error(), f.panic()) {
                (Some(e), None) => e.downcast_ref::<Fail>().map(|e| e.0),
                (None, Some(p)) => p.payload().downcast_ref::<Boom>().map(|b| b.0),
                _ => None,
            };
            let Some(id) = id else {
                return Err(TestCaseError::fail(format!("foreign errbox report: {f}")));
            };
            let want = if f.panic().is_some() {
                Outcome::Panic
            } else {
                Outcome::Error
            };
            prop_assert_eq!(ledger.outcome[id as usize].load(Relaxed), want as u8);
            // `put` returns the id; `put_all` does not.
            let job_id = ledger.job_id[id as usize].load(Relaxed);
            prop_assert!(
                job_id == u64::MAX || job_id == f.id().get(),
                "errbox report for test job {} carries {}, put returned {}",
                id,
                f.id(),
                job_id
            );
            in_errbox[id as usize] += 1;
        }
    }

    let mut t = Tally {
        created: n as u64,
        ..Tally::default()
    };
    for id in 0..n {
        let put = ledger.put[id].load(Relaxed);
        let ran = ledger.ran[id].load(Relaxed);
        let returned = ledger.returned[id].load(Relaxed);
        let dropped = ledger.dropped[id].load(Relaxed);
        let outcome = ledger.outcome[id].load(Relaxed);
        let why = format!(
            "job {id}: put {put} ran {ran} returned {returned} dropped {dropped} \
             outbox {} errbox {}",
            in_outbox[id], in_errbox[id]
        );
        prop_assert_eq!(dropped, 1, "{}", why);
        match put {
            1 => {
                prop_assert_eq!(ran + returned, 1, "{}", why);
                t.accepted += 1;
                t.handed_back += u64::from(returned);
            }
            2 => {
                prop_assert_eq!((ran, returned), (0, 1), "{}", why);
                t.refused += 1;
            }
            _ => return Err(TestCaseError::fail(format!("never put: {why}"))),
        }
        let delivered = (in_outbox[id], in_errbox[id]);
        if ran == 1 {
            t.ran += 1;
            match outcome {
                1 => {
                    prop_assert_eq!(delivered, (1, 0), "{}", why);
                    t.completed += 1;
                }
                2 => {
                    prop_assert_eq!(delivered, (0, 1), "{}", why);
                    t.failed += 1;
                }
                _ => {
                    prop_assert_eq!(delivered, (0, 1), "{}", why);
                    t.panicked += 1;
                }
            }
        } else {
            prop_assert_eq!(delivered, (0, 0), "{}", why);
        }
    }
    prop_assert_eq!(
        t.handed_back,
        handed_back,
        "jobs handed back vs. jobs returned"
    );

    if let Some(m) = metrics {
        prop_assert_eq!(
            (m.completed, m.failed, m.panicked),
            (t.completed, t.failed, t.panicked),
            "metrics (completed, failed, panicked)"
        );
        prop_assert_eq!(m.completed + m.failed + m.panicked, t.ran);
        prop_assert_eq!(m.handed_back, handed_back);
        prop_assert_eq!((m.alive, m.busy, m.queued, m.discarded), (0, 0, 0, 0));
        prop_assert_eq!(m.spawned, started as u64);
    }
    Ok(t)
}

/// What happened to a run's jobs.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    created: u64,
    accepted: u64,
    refused: u64,
    ran: u64,
    handed_back: u64,
    completed: u64,
    failed: u64,
    panicked: u64,
    /// Runs ended by exile, exile_now, exile_timeout done, exile_timeout
    /// timed out, drop.
    ends: [u64; 5],
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.created += o.created;
        self.accepted += o.accepted;
        self.refused += o.refused;
        self.ran += o.ran;
        self.handed_back += o.handed_back;
        self.completed += o.completed;
        self.failed += o.failed;
        self.panicked += o.panicked;
        for (a, b) in self.ends.iter_mut().zip(o.ends) {
            *a += b;
        }
    }
}

/// Reads what is left in the boxes, waiting until they end: that they do
/// end shows the pool dropped its senders.
fn read_to_end(outbox: &Outbox<u32>, errbox: &Outbox<JobError>) -> Haul {
    Haul {
        values: outbox.iter().collect(),
        failures: errbox.iter().collect(),
        ..Haul::default()
    }
}

// ---- the chaos case -------------------------------------------------------

/// How a driver puts its jobs.
#[derive(Debug, Clone, Copy)]
enum How {
    /// `put`, waiting for room.
    Put,
    /// `try_put`: a full inbox refuses.
    TryPut,
    /// `put_all` in batches of this many, waiting for room.
    PutAll(u16),
}

#[derive(Debug, Clone, Copy)]
struct PutSpec {
    /// The share of the run's jobs this put gets.
    weight: u32,
    how: How,
    /// Jobs that return an error, per thousand.
    errors: u16,
    /// Jobs that panic, per thousand.
    panics: u16,
}

impl PutSpec {
    /// Blocking puts, a tenth of the jobs failing, one in 200 panicking.
    const PLAIN: PutSpec = PutSpec {
        weight: 1,
        how: How::Put,
        errors: 100,
        panics: 5,
    };
}

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
            Err(ExileError::NoWorkers) => assert!(
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
    let result = runner.run(&case(), |case| {
        let t = run_case(&case, jobs)?;
        total.lock().unwrap().add(t);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = total.into_inner().unwrap();
    eprintln!("chaos: {t:?}");
    assert!(t.created >= u64::from(cases) * u64::from(jobs));
}

// ---- every exile path once, deterministically ------------------------------

const MID: u32 = 20_000;

/// Puts `ids` from `threads` threads at once, as blocking puts of a mix of
/// jobs.
fn put_from_threads(inbox: &Inbox<Item>, ledger: &Arc<Ledger>, ids: Range<u32>, threads: u32) {
    let spec = PutSpec::PLAIN;
    let per = ids.len() as u32 / threads;
    std::thread::scope(|s| {
        for t in 0..threads {
            let end = if t + 1 == threads {
                ids.end
            } else {
                ids.start + (t + 1) * per
            };
            let part = ids.start + t * per..end;
            s.spawn(move || put_jobs(inbox, ledger, part, spec));
        }
    });
}

fn finish(ledger: &Ledger, pool: Pool, census: &Census, handed_back: Vec<Item>) -> Tally {
    let metrics = pool.metrics();
    let mut haul = read_to_end(&pool.outbox, &pool.errbox);
    haul.take_back(handed_back);
    drop(pool);
    check(ledger, vec![haul], census, Some(metrics)).unwrap()
}

#[test]
fn exile_works_the_inbox_off() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, Some(64), false, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 3);
    pool.exile().unwrap();
    let t = finish(&ledger, pool, &census, Vec::new());
    assert_eq!((t.ran, t.handed_back), (u64::from(MID), 0));
}

#[test]
fn exile_now_hands_back_what_a_paused_pool_holds() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(3, None, true, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    let unrun = pool.exile_now().unwrap();
    assert_eq!(unrun.len(), MID as usize);
    let t = finish(&ledger, pool, &census, unrun);
    assert_eq!((t.ran, t.handed_back), (0, u64::from(MID)));
}

#[test]
fn exile_timeout_hands_back_the_queue_and_leaves_the_runner() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize + 1), Arc::new(Census::default()));
    let pool = build_pool(1, None, false, &census);
    let (started_tx, started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    let held = make_job(&ledger, MID, Outcome::Value);
    pool.inbox
        .put(Job::fallible(move || {
            started_tx.send(()).unwrap();
            gate.recv().unwrap();
            held.run(&mut ())
        }))
        .unwrap();
    ledger.put[MID as usize].store(1, Relaxed);
    started.recv().unwrap();
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    let Exit::TimedOut { unrun, running } = pool.exile_timeout(Duration::ZERO).unwrap() else {
        panic!("the only worker is held in a job: the exile cannot be done");
    };
    assert_eq!((unrun.len(), running), (MID as usize, 1));
    release.send(()).unwrap();
    pool.exile().unwrap();
    let t = finish(&ledger, pool, &census, unrun);
    assert_eq!((t.ran, t.handed_back), (1, u64::from(MID)));

    // And a timed exile with time enough is done.
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, None, false, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    pool.wait_idle().unwrap();
    let exit = pool.exile_timeout(Duration::from_secs(3600)).unwrap();
    assert!(matches!(exit, Exit::Done));
    let t = finish(&ledger, pool, &census, Vec::new());
    assert_eq!(t.ran, u64::from(MID));
}

#[test]
fn drop_of_a_banished_paused_pool_runs_every_job() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, None, true, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    assert_eq!(pool.banish(2), 2);
    let (outbox, errbox) = (pool.outbox.clone(), pool.errbox.clone());
    drop(pool);
    assert_eq!(census.live.load(Relaxed), 0);
    let haul = read_to_end(&outbox, &errbox);
    let t = check(&ledger, vec![haul], &census, None).unwrap();
    assert_eq!(t.ran, u64::from(MID));
}
