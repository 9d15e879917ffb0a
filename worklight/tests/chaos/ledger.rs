//! The jobs of the chaos tests and their accounting: every job carries an
//! id of the test's own, and a ledger counts, per id, its runs on a worker,
//! its runs by the caller after it was handed back, and its drops.
//! [`check`] then proves that nothing was lost or done twice.

use std::cell::Cell;
use std::fmt;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize};
use std::sync::{Arc, Once};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use worklight::{Inbox, Job, JobError, JobId, Metrics, Outbox, WorkerPool};

pub(crate) type Pool = WorkerPool<u32>;
pub(crate) type Item = Job<'static, u32>;

/// What a job does when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
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
pub(crate) struct Ledger {
    pub(crate) outcome: Vec<AtomicU8>,
    /// 1: `put` accepted the job; 2: `put` handed it back.
    pub(crate) put: Vec<AtomicU8>,
    /// The id `put` returned, which the errbox report must carry.
    pub(crate) job_id: Vec<AtomicU64>,
    /// Runs on a worker thread.
    pub(crate) ran: Vec<AtomicU8>,
    /// Runs by the caller, after the job was handed back.
    pub(crate) returned: Vec<AtomicU8>,
    pub(crate) dropped: Vec<AtomicU8>,
}

impl Ledger {
    pub(crate) fn new(jobs: usize) -> Arc<Self> {
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

pub(crate) fn make_job(ledger: &Arc<Ledger>, id: u32, outcome: Outcome) -> Item {
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
pub(crate) fn quiet_booms() {
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
pub(crate) struct Census {
    pub(crate) live: AtomicUsize,
    pub(crate) started: AtomicUsize,
    pub(crate) stopped: AtomicUsize,
}

pub(crate) fn build_pool(
    workers: usize,
    capacity: Option<usize>,
    paused: bool,
    census: &Arc<Census>,
) -> Pool {
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
pub(crate) struct Haul {
    pub(crate) values: Vec<u32>,
    pub(crate) failures: Vec<JobError>,
    pub(crate) handed_back: u64,
    /// The last metrics this driver read.
    pub(crate) metrics: Option<Metrics>,
}

impl Haul {
    pub(crate) fn read(&mut self, outbox: &Outbox<u32>, errbox: &Outbox<JobError>) {
        self.values.extend(outbox.try_iter());
        self.failures.extend(errbox.try_iter());
    }

    pub(crate) fn take_back(&mut self, unrun: Vec<Item>) {
        self.handed_back += unrun.len() as u64;
        unrun.into_iter().for_each(run_here);
    }
}

/// Puts the jobs `ids` as `spec` says, recording which were accepted; a
/// refused job is run here, as the caller that got it back would.
pub(crate) fn put_jobs(inbox: &Inbox<Item>, ledger: &Arc<Ledger>, ids: Range<u32>, spec: PutSpec) {
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
                // `put_all` puts a prefix, hands back the jobs it read and
                // did not put, and leaves the rest in the iterator.
                let mut jobs = (next..end).map(job);
                let unput = match inbox.put_all(jobs.by_ref()) {
                    Ok(n) => {
                        assert_eq!(n, (end - next) as usize);
                        Vec::new()
                    }
                    Err(e) => e.into_inner().into_iter().chain(jobs).collect(),
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

/// How a driver puts its jobs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum How {
    /// `put`, waiting for room.
    Put,
    /// `try_put`: a full inbox refuses.
    TryPut,
    /// `put_all` in batches of this many, waiting for room.
    PutAll(u16),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PutSpec {
    /// The share of the run's jobs this put gets.
    pub(crate) weight: u32,
    pub(crate) how: How,
    /// Jobs that return an error, per thousand.
    pub(crate) errors: u16,
    /// Jobs that panic, per thousand.
    pub(crate) panics: u16,
}

impl PutSpec {
    /// Blocking puts, a tenth of the jobs failing, one in 200 panicking.
    pub(crate) const PLAIN: PutSpec = PutSpec {
        weight: 1,
        how: How::Put,
        errors: 100,
        panics: 5,
    };
}

/// Checks the ledger, the boxes' contents and the metrics once the pool is
/// exiled and every driver is done.
pub(crate) fn check(
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
pub(crate) struct Tally {
    pub(crate) created: u64,
    pub(crate) accepted: u64,
    pub(crate) refused: u64,
    pub(crate) ran: u64,
    pub(crate) handed_back: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) panicked: u64,
    /// Runs ended by exile, exile_now, exile_timeout done, exile_timeout
    /// timed out, drop.
    pub(crate) ends: [u64; 5],
}

impl Tally {
    pub(crate) fn add(&mut self, o: Tally) {
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
pub(crate) fn read_to_end(outbox: &Outbox<u32>, errbox: &Outbox<JobError>) -> Haul {
    Haul {
        values: outbox.iter().collect(),
        failures: errbox.iter().collect(),
        ..Haul::default()
    }
}
