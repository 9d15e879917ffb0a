//! (d) Lifecycle: build a 4-worker pool, run one job and take its result,
//! shut the pool down; against the floor of spawning and joining 4 bare
//! threads (one of which computes the job).

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::peers::{self, HandPool};
use crate::rounds::{contender, interleave, rows};
use crate::stats::{Row, Table};
use crate::work::{check, tiny, tiny_sum, us_per};

const THREADS: usize = 4;

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let n = cfg.size(300, 20);
    let rounds = cfg.rounds(15);
    let expected = tiny_sum(n);
    let ok = |peer: &str, sum: u64| check("d", peer, sum, expected);

    // Times `n` lifecycles; `life(k)` returns job k's result.
    let cycles = |peer: &'static str, life: &dyn Fn(u64) -> u64| {
        let t = Instant::now();
        let sum: u64 = (0..n).map(life).sum();
        let e = t.elapsed();
        ok(peer, sum);
        us_per(e, n)
    };

    let mut contenders = [
        contender(peers::BARE, || {
            cycles(peers::BARE, &|k| join_bare(spawn_bare(k, false)))
        }),
        contender(peers::BARE_NAMED, || {
            cycles(peers::BARE_NAMED, &|k| join_bare(spawn_bare(k, true)))
        }),
        contender(peers::POLLING_FLOOR, || {
            cycles(peers::POLLING_FLOOR, &polling_floor)
        }),
        contender(peers::WORKLIGHT, || {
            cycles(peers::WORKLIGHT, &|k| {
                let pool = worklight::WorkerPool::new(THREADS).expect("build");
                pool.inbox.put(move || tiny(k)).expect("put");
                let r = pool.outbox.get().expect("get");
                pool.exile().expect("exile");
                r
            })
        }),
        contender(peers::WORKLIGHT_SCOPED, || {
            cycles(peers::WORKLIGHT_SCOPED, &|k| {
                let harvest = worklight::pool(THREADS, |pool| {
                    pool.inbox.put(move || tiny(k)).expect("put");
                })
                .expect("scoped pool");
                harvest.outbox.try_get().expect("a result")
            })
        }),
        contender(peers::HAND, || {
            cycles(peers::HAND, &|k| {
                let pool = HandPool::new(THREADS, "hand");
                pool.put(move || tiny(k));
                let r = pool.results.recv().expect("recv");
                pool.join();
                r
            })
        }),
        contender(peers::RAYON_SCOPE, || {
            cycles(peers::RAYON_SCOPE, &|k| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(THREADS)
                    .build_scoped(|thread| thread.run(), |pool| pool.install(|| tiny(k)))
                    .expect("rayon build_scoped")
            })
        }),
        contender(peers::THREADPOOL, || {
            cycles(peers::THREADPOOL, &|k| {
                let pool = threadpool::ThreadPool::new(THREADS);
                let (tx, rx) = crossbeam_channel::bounded(1);
                pool.execute(move || tx.send(tiny(k)).expect("send"));
                rx.recv().expect("recv")
            })
        }),
        contender(peers::RUSTY, || {
            cycles(peers::RUSTY, &|k| {
                let pool = peers::rusty(THREADS, "rusty");
                let (tx, rx) = crossbeam_channel::bounded(1);
                pool.execute(move || tx.send(tiny(k)).expect("send"));
                let r = rx.recv().expect("recv");
                pool.shutdown_join();
                r
            })
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('d'), &mut contenders);
    let mut table = Table::new(
        "d",
        format!(
            "(d) lifecycle: build a {THREADS}-worker pool, run one job, shut down: \
             µs each ({n} per sample, {rounds} rounds)"
        ),
        "µs",
    );
    table.base = peers::BARE;
    table.rows = rows(&samples);
    table.extra_header = "threads joined?";
    for row in &mut table.rows {
        row.extra = match row.name {
            peers::THREADPOOL | peers::RUSTY => "no: detached on drop".to_string(),
            peers::RAYON_SCOPE => "yes (`build_scoped`)".to_string(),
            peers::BARE_NAMED => "yes (named, as a pool's workers are)".to_string(),
            peers::POLLING_FLOOR => "yes (named; not a usable pool: never sleeps)".to_string(),
            _ => "yes".to_string(),
        };
    }
    table.notes.push(format!(
        "{}: the same 4 threads, each given a name with \
         `std::thread::Builder::name` as worklight names its workers (and the \
         hand-rolled pool and rusty_pool theirs here): the floor for a pool \
         whose threads have names.",
        peers::BARE_NAMED
    ));
    table.notes.push(format!(
        "{}: the least a pool whose threads start before its job exists can cost here: \
         4 named threads that poll one atomic slot for the job, yielding between looks \
         (no queue, no lock, never asleep; the caller blocks on a channel for the result), \
         stopped by a flag and joined.",
        peers::POLLING_FLOOR
    ));
    table.notes.push(
        "threadpool and rusty_pool cannot join their threads: dropping the pool only \
         disconnects its channel, so their figures leave out thread exit and are not \
         comparable with the joined ones. rayon is measured with `build_scoped` + `install`, \
         the one rayon form that joins its threads."
            .to_string(),
    );
    vec![table, phases(cfg)]
}

const SPAWN: &str = "bare threads: spawn 4";
const JOIN: &str = "bare threads: join 4 (one ran the job)";
const BUILD: &str = "worklight: build";
const ROUND_TRIP: &str = "worklight: put → result in hand";
const EXILE: &str = "worklight: exile";
const WAKE_JOIN: &str = "bare threads: wake 4 parked, join";
const IDLE_EXILE: &str = "worklight: exile, workers parked";

/// How long the parked-workers rows let the threads sleep before the
/// timed wake-up: long enough for every one to be parked, and for an idle
/// core to have gone to sleep too.
const PARKED: Duration = Duration::from_millis(1);

/// Where the time of one lifecycle goes: the same work as the table above,
/// each phase timed on its own, for worklight and bare threads.
fn phases(cfg: &Config) -> Table {
    let n = cfg.size(300, 20);
    let rounds = cfg.rounds(15);
    let expected = tiny_sum(n);
    let mut contenders = [
        contender(peers::BARE, || {
            let (mut spawn, mut join, mut sum) = (0.0, 0.0, 0);
            for k in 0..n {
                let t = Instant::now();
                let threads = spawn_bare(k, false);
                let spawned = t.elapsed();
                let t = Instant::now();
                sum += join_bare(threads);
                join += us_per(t.elapsed(), 1);
                spawn += us_per(spawned, 1);
            }
            check("d", peers::BARE, sum, expected);
            let wake = (0..n).map(|_| wake_parked_bare()).sum::<f64>();
            let per = |x: f64| x / n as f64;
            vec![
                (SPAWN, per(spawn)),
                (JOIN, per(join)),
                (WAKE_JOIN, per(wake)),
            ]
        }),
        contender(peers::WORKLIGHT, || {
            let (mut build, mut trip, mut exile, mut sum) = (0.0, 0.0, 0.0, 0);
            for k in 0..n {
                let t = Instant::now();
                let pool = worklight::WorkerPool::new(THREADS).expect("build");
                build += us_per(t.elapsed(), 1);
                let t = Instant::now();
                pool.inbox.put(move || tiny(k)).expect("put");
                sum += pool.outbox.get().expect("get");
                trip += us_per(t.elapsed(), 1);
                let t = Instant::now();
                pool.exile().expect("exile");
                exile += us_per(t.elapsed(), 1);
            }
            check("d", peers::WORKLIGHT, sum, expected);
            let mut idle = 0.0;
            for k in 0..n {
                let pool = worklight::WorkerPool::new(THREADS).expect("build");
                pool.inbox.put(move || tiny(k)).expect("put");
                sum += pool.outbox.get().expect("get");
                std::thread::sleep(PARKED);
                let t = Instant::now();
                pool.exile().expect("exile");
                idle += us_per(t.elapsed(), 1);
            }
            check("d", peers::WORKLIGHT, sum, 2 * expected);
            let per = |x: f64| x / n as f64;
            vec![
                (BUILD, per(build)),
                (ROUND_TRIP, per(trip)),
                (EXILE, per(exile)),
                (IDLE_EXILE, per(idle)),
            ]
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('d'), &mut contenders);
    let mut table = Table::new(
        "d phases",
        format!(
            "(d) where a lifecycle's time goes: µs per phase ({n} lifecycles per sample, \
             {rounds} rounds)"
        ),
        "µs",
    );
    table.base = SPAWN;
    for (_, per_sample) in &samples {
        for (i, (phase, _)) in per_sample[0].iter().enumerate() {
            let v: Vec<f64> = per_sample.iter().map(|s| s[i].1).collect();
            table.rows.push(Row::new(phase, &v));
        }
    }
    table.notes.push(format!(
        "Building a pool costs what spawning its threads costs, and an exile what joining \
         them does; what bare threads never pay is the round trip of a job through a pool \
         whose threads were started before the job existed: the job waits for a worker \
         still starting or parked, and the result for the putting thread to be scheduled \
         again. The last two rows let the threads sleep {} ms first: 4 bare threads parked \
         on a std condition variable, woken with `notify_all` and joined, against exiling \
         a pool whose 4 workers are parked.",
        PARKED.as_millis()
    ));
    table
}

/// Times waking `THREADS` bare threads parked on a condition variable
/// (for `PARKED`) and joining them: the floor for exiling a pool whose
/// workers sleep. Returns µs.
fn wake_parked_bare() -> f64 {
    let parked = Arc::new((Mutex::new(false), Condvar::new()));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let parked = Arc::clone(&parked);
            std::thread::spawn(move || {
                let (go, cv) = &*parked;
                let mut go = go.lock().expect("lock");
                while !*go {
                    go = cv.wait(go).expect("wait");
                }
            })
        })
        .collect();
    std::thread::sleep(PARKED);
    let t = Instant::now();
    *parked.0.lock().expect("lock") = true;
    parked.1.notify_all();
    for thread in threads {
        thread.join().expect("join");
    }
    us_per(t.elapsed(), 1)
}

/// The bare-threads floor: `THREADS` threads, of which the first computes
/// job `k`; each given a name if `named`.
fn spawn_bare(k: u64, named: bool) -> Vec<std::thread::JoinHandle<u64>> {
    (0..THREADS as u64)
        .map(|j| {
            let builder = std::thread::Builder::new();
            let builder = if named {
                builder.name(format!("bare-{j}"))
            } else {
                builder
            };
            builder
                .spawn(move || if j == 0 { tiny(k) } else { 0 })
                .expect("spawn")
        })
        .collect()
}

/// The floor for any pool's lifecycle: `THREADS` named threads started
/// before the job exists, polling one atomic slot for it and yielding in
/// between; the caller waits for the result on a channel, then raises the
/// exit flag and joins them. Not a usable pool: its threads never sleep.
fn polling_floor(k: u64) -> u64 {
    const EMPTY: u8 = 0;
    const QUEUED: u8 = 1;
    const TAKEN: u8 = 2;
    const EXIT: u8 = 3;
    let slot = Arc::new((AtomicU8::new(EMPTY), AtomicU64::new(0)));
    let (tx, rx) = crossbeam_channel::bounded(1);
    let threads: Vec<_> = (0..THREADS)
        .map(|j| {
            let (slot, tx) = (Arc::clone(&slot), tx.clone());
            std::thread::Builder::new()
                .name(format!("floor-{j}"))
                .spawn(move || {
                    let (state, job) = &*slot;
                    loop {
                        match state.load(Acquire) {
                            QUEUED => {
                                if state
                                    .compare_exchange(QUEUED, TAKEN, AcqRel, Relaxed)
                                    .is_ok()
                                {
                                    tx.send(tiny(job.load(Relaxed))).expect("send");
                                }
                            }
                            EXIT => break,
                            _ => std::thread::yield_now(),
                        }
                    }
                })
                .expect("spawn")
        })
        .collect();
    slot.1.store(k, Relaxed);
    slot.0.store(QUEUED, Release);
    let result = rx.recv().expect("recv");
    slot.0.store(EXIT, Release);
    for thread in threads {
        thread.join().expect("join");
    }
    result
}

/// Joins the bare threads; returns the job's result.
fn join_bare(threads: Vec<std::thread::JoinHandle<u64>>) -> u64 {
    threads.into_iter().map(|t| t.join().expect("join")).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_polling_floor_returns_each_jobs_result() {
        for k in 0..20 {
            assert_eq!(polling_floor(k), tiny(k));
        }
    }
}
