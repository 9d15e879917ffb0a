//! (b) CPU-bound jobs of about 50 µs: how close each pool gets to the
//! ideal, the single-thread time of the same work divided by the workers.
//!
//! The serial run is a contender of its own, interleaved with the pools,
//! so that ideal and measured come from the same conditions.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::peers::{self, HandPool, recv_sum};
use crate::rounds::{contender, interleave, rows};
use crate::stats::Table;
use crate::work::{check, spin};

const JOB: Duration = Duration::from_micros(50);

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let n = cfg.size(10_000, 1_000);
    let w = cfg.workers;
    let rounds = cfg.rounds(7);
    let iters = calibrate(JOB);
    let t = Instant::now();
    let expected = serial(n, iters);
    let per_job_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let ok = |peer: &str, sum: u64| check("b", peer, sum, expected);
    let job = move |i: u64| spin(i, iters);

    let mut contenders = [
        contender(peers::SERIAL, || {
            let t = Instant::now();
            let sum = serial(n, iters);
            let e = t.elapsed();
            ok(peers::SERIAL, sum);
            ms(e)
        }),
        contender(peers::BARE, || {
            // No pool: `w` threads, each claiming the next job's index from
            // one atomic counter and keeping its own sum. What this machine's
            // cores deliver running the same work in parallel, balanced, with
            // nothing to dispatch: the ceiling for every pool.
            let next = AtomicU64::new(0);
            let t = Instant::now();
            let sum = std::thread::scope(|s| {
                let threads: Vec<_> = (0..w)
                    .map(|_| {
                        s.spawn(|| {
                            let claim = || Some(next.fetch_add(1, Relaxed)).filter(|&i| i < n);
                            std::iter::from_fn(claim).fold(0u64, |s, i| s.wrapping_add(job(i)))
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .fold(0u64, |s, h| s.wrapping_add(h.join().expect("a thread")))
            });
            let e = t.elapsed();
            ok(peers::BARE, sum);
            ms(e)
        }),
        contender(peers::WORKLIGHT, || {
            let pool = peers::worklight(w, "wl");
            let t = Instant::now();
            for i in 0..n {
                pool.inbox.put(move || job(i)).expect("put");
            }
            let sum = (0..n).fold(0u64, |s, _| s.wrapping_add(pool.outbox.get().expect("get")));
            let e = t.elapsed();
            pool.exile().expect("exile");
            ok(peers::WORKLIGHT, sum);
            ms(e)
        }),
        contender(peers::HAND, || {
            let pool = HandPool::new(w, "hand");
            let t = Instant::now();
            for i in 0..n {
                pool.put(move || job(i));
            }
            let sum = recv_sum(&pool.results, n);
            let e = t.elapsed();
            pool.join();
            ok(peers::HAND, sum);
            ms(e)
        }),
        contender(peers::THREADPOOL, || {
            let (sum, e) = peers::time_execute(peers::threadpool(w, "tp"), n, job);
            ok(peers::THREADPOOL, sum);
            ms(e)
        }),
        contender(peers::RAYON_SPAWN, || {
            let (sum, e) = peers::time_execute(peers::rayon(w, "rayon"), n, job);
            ok(peers::RAYON_SPAWN, sum);
            ms(e)
        }),
        contender(peers::RAYON_SCOPE, || {
            let pool = peers::rayon(w, "rayon");
            let mut slots = vec![0u64; n as usize];
            let t = Instant::now();
            pool.scope(|s| {
                for (i, slot) in slots.iter_mut().enumerate() {
                    s.spawn(move |_| *slot = job(i as u64));
                }
            });
            let sum = slots.iter().fold(0u64, |s, &x| s.wrapping_add(x));
            let e = t.elapsed();
            ok(peers::RAYON_SCOPE, sum);
            ms(e)
        }),
        contender(peers::RUSTY, || {
            let (sum, e) = peers::time_execute(peers::rusty(w, "rusty"), n, job);
            ok(peers::RUSTY, sum);
            ms(e)
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('b'), &mut contenders);
    let mut table = Table::new(
        "b",
        format!(
            "(b) {n} CPU-bound jobs of {per_job_us:.1} µs ({iters} mixer rounds): total ms \
             ({w} workers, {rounds} rounds)"
        ),
        "ms",
    );
    table.rows = rows(&samples);
    table.extra_header = "efficiency: of ideal · of bare threads";
    let ideal = table.median(peers::SERIAL).expect("serial row") / w as f64;
    let bare = table.median(peers::BARE).expect("bare threads row");
    for row in &mut table.rows {
        if row.name != peers::SERIAL {
            let m = row.summary.median;
            row.extra = format!("{:.1}% · {:.1}%", 100.0 * ideal / m, 100.0 * bare / m);
        }
    }
    table.notes.push(format!(
        "Efficiency = ideal / median, ideal = serial median / {w} workers = {ideal:.1} ms; \
         then the same against the bare threads' median, {bare:.1} ms: {w} threads and no \
         pool, each claiming the next job from one atomic counter, what this machine's \
         cores deliver on this work in parallel. Results returned as in (a); the checksum is the wrapping sum of \
         every job's output."
    ));
    vec![table]
}

/// The number of mixer rounds that takes about `target` on this thread.
pub(crate) fn calibrate(target: Duration) -> u32 {
    let probe = 100_000u32;
    let fastest = (0..15)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(spin(i, probe));
            t.elapsed()
        })
        .min()
        .expect("probes ran");
    let iters = probe as f64 * target.as_secs_f64() / fastest.as_secs_f64().max(1e-9);
    iters.round().clamp(1.0, u32::MAX as f64) as u32
}

fn serial(n: u64, iters: u32) -> u64 {
    (0..n).fold(0u64, |s, i| s.wrapping_add(spin(i, iters)))
}

fn ms(e: Duration) -> f64 {
    e.as_secs_f64() * 1e3
}
