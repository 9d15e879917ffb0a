//! (h) Bursts against self-sizing pools (issue 4): worklight's
//! `Summoning` pool against `rusty_pool` (core size 0) and tokio's blocking
//! pool, all from 0 threads up to [`MAX`], with a [`KEEP`] keep-alive.
//!
//! - Burst response: 64 jobs are put at once on a fresh pool; each job
//!   counts itself running and then blocks on a latch, so nothing finishes
//!   until the pool has [`MAX`] threads; the job that makes the count
//!   [`MAX`] signals. Measured: first put → that signal, first put → the
//!   first job running, and how long the 64 puts took.
//! - Bursty workload: bursts of CPU-bound jobs separated by idle gaps
//!   longer than the keep-alive, so that every pool shrinks between bursts.
//!   Measured: jobs per second of busy time (first put of a burst → its
//!   last result; gaps left out) and the thread-seconds the pool held over
//!   the whole run, gaps included (see [`crate::elastic::Gauge`]).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::elastic::{Elastic, KEEP, MAX, PEERS};
use crate::peers;
use crate::peers::recv_sum;
use crate::rounds::{contender, interleave};
use crate::stats::{Row, Summary, Table, num};
use crate::work::{check, spin, tiny, tiny_sum};

const BURST: u64 = 64;
const JOB: Duration = Duration::from_micros(200);
const GAP: Duration = Duration::from_millis(100);
/// How long a burst-response sample waits for [`MAX`] jobs at once.
const WAIT: Duration = Duration::from_millis(250);

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let mut tables = vec![response(cfg)];
    tables.extend(bursty(cfg));
    tables
}

/// Opens once; waiters give up after a timeout.
#[derive(Default)]
struct Latch(Mutex<bool>, Condvar);

impl Latch {
    fn open(&self) {
        *self.0.lock().expect("latch") = true;
        self.1.notify_all();
    }
    fn wait(&self, timeout: Duration) {
        let open = self.0.lock().expect("latch");
        let _ = self.1.wait_timeout_while(open, timeout, |open| !*open);
    }
}

#[derive(Default)]
struct Shared {
    running: AtomicUsize,
    first: OnceLock<Instant>,
    latch: Latch,
}

/// One burst-response sample, in µs from the first put.
struct Response {
    /// `None`: the pool never ran [`MAX`] jobs at once within [`WAIT`].
    to_max: Option<f64>,
    to_first: f64,
    puts: f64,
}

fn response_sample(name: &str) -> Response {
    let (tx, rx) = peers::results_channel();
    let pool = Elastic::build(name, tx);
    let shared = Arc::new(Shared::default());
    let (hit_tx, hit_rx) = crossbeam_channel::unbounded();
    let t0 = Instant::now();
    pool.put_all((0..BURST).map(|i| {
        let (s, hit) = (Arc::clone(&shared), hit_tx.clone());
        move || {
            s.first.get_or_init(Instant::now);
            if s.running.fetch_add(1, SeqCst) + 1 == MAX {
                let _ = hit.send(Instant::now());
            }
            s.latch.wait(2 * WAIT);
            s.running.fetch_sub(1, SeqCst);
            tiny(i)
        }
    }));
    let puts = t0.elapsed();
    let hit = hit_rx.recv_timeout(WAIT).ok();
    shared.latch.open();
    let sum = recv_sum(&rx, BURST);
    pool.close();
    check("h", name, sum, tiny_sum(BURST));
    let us = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1e6;
    Response {
        to_max: hit.map(us),
        to_first: us(*shared.first.get().expect("a job ran")),
        puts: puts.as_secs_f64() * 1e6,
    }
}

fn response(cfg: &Config) -> Table {
    let rounds = cfg.rounds(31);
    let mut contenders = PEERS.map(|name| contender(name, move || response_sample(name)));
    let samples = interleave(rounds, &mut cfg.rng('h'), &mut contenders);
    let mut table = Table::new(
        "h burst",
        format!(
            "(h) burst response: µs from the first of {BURST} puts until {MAX} jobs run at once \
             (0 to {MAX} threads, keep-alive {} ms; {rounds} rounds)",
            KEEP.as_millis()
        ),
        "µs",
    );
    table.base = peers::RUSTY;
    table.extra_header = "median first job µs · median µs to put all · missed";
    for (name, v) in &samples {
        let wait_us = WAIT.as_secs_f64() * 1e6;
        let to_max: Vec<f64> = v.iter().map(|r| r.to_max.unwrap_or(wait_us)).collect();
        let missed = v.iter().filter(|r| r.to_max.is_none()).count();
        let mut row = Row::new(name, &to_max);
        let first = Summary::of(&v.iter().map(|r| r.to_first).collect::<Vec<_>>()).median;
        let puts = Summary::of(&v.iter().map(|r| r.puts).collect::<Vec<_>>()).median;
        row.extra = format!("{} · {} · {missed}/{}", num(first), num(puts), v.len());
        table.rows.push(row);
    }
    table.notes.push(format!(
        "Each sample builds a fresh pool (untimed) with no thread yet, puts {BURST} jobs from \
         this thread, each counting itself running and blocking until {MAX} run at once. \
         worklight: `Summoning::new(0, {MAX})`, rate 1, ratio 1 (its default) or 0, growing on \
         the putting thread; `worklight put_all` queues the burst with one `Inbox::put_all` \
         call, every other row puts job by job; rusty_pool: core 0, max {MAX}, starting a \
         thread on the put that finds none idle; tokio: `spawn_blocking` on a runtime with 1 \
         async worker and `max_blocking_threads({MAX})`, likewise. Min 0 everywhere: tokio's \
         blocking pool has no minimum. A missed sample (never {MAX} at once within {} ms) \
         counts as {} ms.",
        WAIT.as_millis(),
        WAIT.as_millis()
    ));
    table
}

/// One bursty-workload sample.
struct Bursty {
    jobs_per_s: f64,
    busy_ms: f64,
    thread_s: f64,
    started: u64,
    /// Gaps after which the pool was back to no elastic thread.
    shrank: usize,
    /// worklight's own `spawned` disagreed with its hooks.
    mismatch: bool,
    /// The fewest and the most elastic threads alive at once in a burst.
    peaks: (usize, usize),
}

fn bursty_sample(name: &str, bursts: u64, jobs: u64, iters: u32, expected: u64) -> Bursty {
    let (tx, rx) = peers::results_channel();
    let pool = Elastic::build(name, tx);
    let r0 = pool.gauge.read();
    let (mut busy, mut sum, mut shrank) = (Duration::ZERO, 0u64, 0);
    let mut peaks = (usize::MAX, 0);
    pool.gauge.take_peak();
    for b in 0..bursts {
        let t = Instant::now();
        pool.put_all((b * jobs..(b + 1) * jobs).map(|seed| move || spin(seed, iters)));
        for _ in 0..jobs {
            sum = sum.wrapping_add(rx.recv().expect("a result"));
        }
        busy += t.elapsed();
        std::thread::sleep(GAP);
        let peak = pool.gauge.take_peak() - pool.fixed;
        peaks = (peaks.0.min(peak), peaks.1.max(peak));
        shrank += usize::from(pool.gauge.read().alive == pool.fixed);
    }
    let r1 = pool.gauge.read();
    let window = (r1.at - r0.at).as_secs_f64();
    let thread_s = r1.area - r0.area - pool.fixed as f64 * window;
    let started = r1.starts - r0.starts;
    let mismatch = pool
        .worklight_counts()
        .is_some_and(|(spawned, hw)| spawned != started || hw != peaks.1);
    pool.close();
    check("h", name, sum, expected);
    Bursty {
        jobs_per_s: (bursts * jobs) as f64 / busy.as_secs_f64(),
        busy_ms: busy.as_secs_f64() * 1e3,
        thread_s,
        started,
        shrank,
        mismatch,
        peaks,
    }
}

fn bursty(cfg: &Config) -> Vec<Table> {
    let rounds = cfg.rounds(7);
    let bursts = cfg.size(10, 3);
    let jobs = cfg.size(200, 50);
    let iters = crate::cpu::calibrate(JOB);
    let t = Instant::now();
    let expected = (0..bursts * jobs).fold(0u64, |s, i| s.wrapping_add(spin(i, iters)));
    let job_us = t.elapsed().as_secs_f64() * 1e6 / (bursts * jobs) as f64;
    let mut contenders = PEERS.map(|name| {
        contender(name, move || {
            bursty_sample(name, bursts, jobs, iters, expected)
        })
    });
    let samples = interleave(rounds, &mut cfg.rng('h'), &mut contenders);
    let what = format!(
        "{bursts} bursts of {jobs} jobs of {job_us:.0} µs, {} ms idle between",
        GAP.as_millis()
    );
    let mut rate = Table::new(
        "h jobs/s",
        format!("(h) bursty: {what}: jobs per second of busy time ({rounds} rounds)"),
        "jobs/s",
    );
    let mut held = Table::new(
        "h thread-s",
        format!("(h) bursty: {what}: thread-seconds held over the run ({rounds} rounds)"),
        "thread-s",
    );
    for t in [&mut rate, &mut held] {
        t.base = peers::RUSTY;
    }
    rate.extra_header = "median busy ms";
    held.extra_header = "threads started: median (min–max) · most alive in a burst: min–max · \
         shrank to 0 after";
    let mut mismatches = Vec::new();
    for (name, v) in &samples {
        let pick = |f: fn(&Bursty) -> f64| v.iter().map(f).collect::<Vec<_>>();
        let mut row = Row::new(name, &pick(|b| b.jobs_per_s));
        row.extra = num(Summary::of(&pick(|b| b.busy_ms)).median);
        rate.rows.push(row);
        let mut row = Row::new(name, &pick(|b| b.thread_s));
        let started = Summary::of(&pick(|b| b.started as f64));
        let fewest = v.iter().map(|b| b.peaks.0).min().unwrap_or(0);
        let most = v.iter().map(|b| b.peaks.1).max().unwrap_or(0);
        let shrank: usize = v.iter().map(|b| b.shrank).sum();
        row.extra = format!(
            "{} ({}–{}) · {fewest}–{most} · {shrank}/{} gaps",
            num(started.median),
            num(started.min),
            num(started.max),
            bursts as usize * v.len()
        );
        held.rows.push(row);
        if v.iter().any(|b| b.mismatch) {
            mismatches.push(*name);
        }
    }
    rate.notes.push(format!(
        "Busy time: first put of a burst → its last result, summed over the bursts; the \
         {} ms gaps are left out. Jobs: a calibrated mixer spin; the checksum is the wrapping \
         sum of every job's output. Each burst is queued as in the burst-response table (one \
         `put_all` call for `worklight put_all`). Every pool: 0 to {MAX} threads, keep-alive {} ms (the gaps \
         are longer, so every pool can shrink to none between bursts).",
        GAP.as_millis(),
        KEEP.as_millis()
    ));
    held.notes.push(format!(
        "Thread-seconds: ∫ (elastic threads alive) dt from the first put to the end of the last \
         gap, wall time, not CPU time. Counted by worklight's `on_worker_start/stop` hooks, \
         tokio's `on_thread_start/stop` (less its one async worker thread, alive throughout \
         and not part of the blocking pool), and for rusty_pool, which has no hooks, from a \
         thread's first job (a thread-local set by the job) to the thread's exit (that \
         thread-local's destructor): rusty_pool starts each thread with its first job, so \
         this misses only the thread's start-up. Most alive in a burst: the gauge's peak \
         from a burst's first put to the end of the gap after it, fewest and most over all \
         bursts of all rounds. worklight's own `spawned` and `high_water` agree with its hooks: {}.",
        if mismatches.is_empty() {
            "yes, in every sample".to_string()
        } else {
            format!("NO, in samples of {}", mismatches.join(", "))
        }
    ));
    vec![rate, held]
}
