//! (e) Contended submission: 4 producer threads put a quarter of the jobs
//! each while this thread collects every result.
//!
//! Timed from before the producers are spawned until the last result is
//! in hand; the pool is built and shut down outside the timing.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::peers::{self, Execute, HandPool, recv_sum};
use crate::rounds::{contender, interleave, rows};
use crate::stats::Table;
use crate::work::{check, ns_per, tiny, tiny_sum};

const PRODUCERS: u64 = 4;

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let per = cfg.size(250_000, 12_500);
    let n = per * PRODUCERS;
    let w = cfg.workers;
    let rounds = cfg.rounds(15);
    let expected = tiny_sum(n);
    let ok = |peer: &str, sum: u64| check("e", peer, sum, expected);
    let share = move |p: u64| p * per..(p + 1) * per;

    let mut contenders = [
        contender(peers::WORKLIGHT, || {
            let pool = peers::worklight(w, "wl");
            let t = Instant::now();
            let sum = std::thread::scope(|s| {
                for p in 0..PRODUCERS {
                    let inbox = pool.inbox.clone();
                    s.spawn(move || {
                        for i in share(p) {
                            inbox.put(move || tiny(i)).expect("put");
                        }
                    });
                }
                (0..n).map(|_| pool.outbox.get().expect("get")).sum()
            });
            let e = t.elapsed();
            pool.exile().expect("exile");
            ok(peers::WORKLIGHT, sum);
            ns_per(e, n)
        }),
        contender(peers::HAND, || {
            let pool = HandPool::new(w, "hand");
            let t = Instant::now();
            let sum = std::thread::scope(|s| {
                for p in 0..PRODUCERS {
                    let jobs = pool.sender().clone();
                    s.spawn(move || {
                        for i in share(p) {
                            jobs.send(Box::new(move || tiny(i))).expect("send");
                        }
                    });
                }
                recv_sum(&pool.results, n)
            });
            let e = t.elapsed();
            pool.join();
            ok(peers::HAND, sum);
            ns_per(e, n)
        }),
        contender(peers::THREADPOOL, || {
            let (sum, e) = from_producers(peers::threadpool(w, "tp"), per);
            ok(peers::THREADPOOL, sum);
            ns_per(e, n)
        }),
        contender(peers::RAYON_SPAWN, || {
            let (sum, e) = from_producers(peers::rayon(w, "rayon"), per);
            ok(peers::RAYON_SPAWN, sum);
            ns_per(e, n)
        }),
        contender(peers::RUSTY, || {
            let (sum, e) = from_producers(peers::rusty(w, "rusty"), per);
            ok(peers::RUSTY, sum);
            ns_per(e, n)
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('e'), &mut contenders);
    let mut table = Table::new(
        "e",
        format!(
            "(e) {PRODUCERS} producers × {per} jobs, results collected by a fifth thread: \
             ns per job ({w} workers, {rounds} rounds)"
        ),
        "ns/job",
    );
    table.rows = rows(&samples);
    table.notes.push(format!(
        "{} threads on {} cores: the producers, the collector and the workers all compete.",
        PRODUCERS as usize + 1 + w,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    ));
    vec![table]
}

/// Times `PRODUCERS` threads putting `per` tiny jobs each on `pool`, the
/// results collected by this thread: from before the producers are spawned
/// to the last result in hand. Then shuts the pool down (untimed). Returns
/// the results' wrapping sum and the time.
fn from_producers<P: Execute>(pool: P, per: u64) -> (u64, Duration) {
    let (tx, rx) = peers::results_channel();
    let t = Instant::now();
    let sum = std::thread::scope(|s| {
        for p in 0..PRODUCERS {
            let pool = &pool;
            s.spawn(move || peers::execute_each(pool, tx, p * per..(p + 1) * per, tiny));
        }
        recv_sum(&rx, per * PRODUCERS)
    });
    let elapsed = t.elapsed();
    pool.shut_down();
    (sum, elapsed)
}
