//! (c) Round-trip latency: put one job, wait for its result, repeat.
//!
//! Each sample is one pool doing `n` sequential round trips; the sample's
//! p50 and p99 are taken over those trips, and the tables show the median
//! (min, max) of each percentile over the rounds.

use std::time::Instant;

use crate::config::Config;
use crate::peers::{self, HandPool};
use crate::rounds::{contender, interleave};
use crate::stats::{Row, Table, percentile_us};
use crate::work::{check, tiny, tiny_sum};

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let n = cfg.size(10_000, 1_000);
    let w = cfg.workers;
    let rounds = cfg.rounds(11);
    let expected = tiny_sum(n);

    // One round trip: put job `i`, get its result; returns the result.
    let measure = |peer: &'static str, mut trip: Box<dyn FnMut(u64) -> u64 + '_>| {
        let mut lat = Vec::with_capacity(n as usize);
        let mut sum = 0;
        for i in 0..n {
            let t = Instant::now();
            sum += trip(i);
            lat.push(t.elapsed().as_nanos() as u64);
        }
        check("c", peer, sum, expected);
        (percentile_us(&mut lat, 50), percentile_us(&mut lat, 99))
    };

    let mut contenders = [
        contender(peers::WORKLIGHT, || {
            let pool = peers::worklight(w, "wl");
            let r = measure(
                peers::WORKLIGHT,
                Box::new(|i| {
                    pool.inbox.put(move || tiny(i)).expect("put");
                    pool.outbox.get().expect("get")
                }),
            );
            pool.exile().expect("exile");
            r
        }),
        contender(peers::HAND, || {
            let pool = HandPool::new(w, "hand");
            let r = measure(
                peers::HAND,
                Box::new(|i| {
                    pool.put(move || tiny(i));
                    pool.results.recv().expect("recv")
                }),
            );
            pool.join();
            r
        }),
        contender(peers::THREADPOOL, || {
            let pool = peers::threadpool(w, "tp");
            let (tx, rx) = peers::results_channel();
            let r = measure(
                peers::THREADPOOL,
                Box::new(|i| {
                    pool.execute(move || tx.send(tiny(i)).expect("send"));
                    rx.recv().expect("recv")
                }),
            );
            pool.join();
            r
        }),
        contender(peers::RAYON_SPAWN, || {
            let pool = peers::rayon(w, "rayon");
            let (tx, rx) = peers::results_channel();
            measure(
                peers::RAYON_SPAWN,
                Box::new(|i| {
                    pool.spawn(move || tx.send(tiny(i)).expect("send"));
                    rx.recv().expect("recv")
                }),
            )
        }),
        contender(peers::RUSTY, || {
            let pool = peers::rusty(w, "rusty");
            let (tx, rx) = peers::results_channel();
            let r = measure(
                peers::RUSTY,
                Box::new(|i| {
                    pool.execute(move || tx.send(tiny(i)).expect("send"));
                    rx.recv().expect("recv")
                }),
            );
            pool.shutdown_join();
            r
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('c'), &mut contenders);
    let title = |p: &str| {
        format!(
            "(c) round-trip latency, {p}: µs over {n} sequential put-then-get ({w} workers, {rounds} rounds)"
        )
    };
    let mut p50 = Table::new("c p50", title("p50"), "µs");
    let mut p99 = Table::new("c p99", title("p99"), "µs");
    for (name, v) in &samples {
        let a: Vec<f64> = v.iter().map(|s| s.0).collect();
        let b: Vec<f64> = v.iter().map(|s| s.1).collect();
        p50.rows.push(Row::new(name, &a));
        p99.rows.push(Row::new(name, &b));
    }
    p99.notes.push(
        "Timed from just before the put to the moment the result is in hand, \
         on the thread that puts; results return as in (a). Each round gives one \
         p50 and one p99 of its round trips: the median column is the median of \
         those over the rounds, min and max their least and greatest, not single \
         round trips."
            .to_string(),
    );
    vec![p50, p99]
}
