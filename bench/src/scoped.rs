//! (f) Scoped jobs that borrow from the caller's stack: worklight's scoped
//! pool against `rayon::scope` and against the floor of
//! `std::thread::scope` with one thread per worker splitting the work.
//!
//! worklight's scoped pool and `std::thread::scope` start their threads
//! inside the timing (that is what they are); rayon's pool is built before
//! it and reused through `ThreadPool::scope`.

use std::time::Instant;

use crate::config::Config;
use crate::peers;
use crate::rounds::{contender, interleave, rows};
use crate::stats::Table;
use crate::work::{check, ns_per, tiny, tiny_sum};

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let n = cfg.size(100_000, 10_000);
    let w = cfg.workers;
    let rounds = cfg.rounds(21);
    let expected = tiny_sum(n);
    let ok = |peer: &str, sum: u64| check("f", peer, sum, expected);
    let data: Vec<u64> = (0..n).collect();
    let rayon = peers::rayon(w, "rayon");

    let mut contenders = [
        contender(peers::WORKLIGHT_SCOPED, || {
            let t = Instant::now();
            let harvest = worklight::pool(w, |pool| {
                for x in &data {
                    pool.inbox.put(move || tiny(*x)).expect("put");
                }
            })
            .expect("scoped pool");
            let sum: u64 = harvest.outbox.try_iter().sum();
            let e = t.elapsed();
            ok(peers::WORKLIGHT_SCOPED, sum);
            ns_per(e, n)
        }),
        contender(peers::RAYON_SCOPE, || {
            let mut slots = vec![0u64; data.len()];
            let t = Instant::now();
            rayon.scope(|s| {
                for (x, slot) in data.iter().zip(&mut slots) {
                    s.spawn(move |_| *slot = tiny(*x));
                }
            });
            let sum: u64 = slots.iter().sum();
            let e = t.elapsed();
            ok(peers::RAYON_SCOPE, sum);
            ns_per(e, n)
        }),
        contender(peers::STD_SCOPE, || {
            let t = Instant::now();
            let chunk = data.len().div_ceil(w);
            let sum = std::thread::scope(|s| {
                let threads: Vec<_> = data
                    .chunks(chunk)
                    .map(|part| s.spawn(move || part.iter().map(|x| tiny(*x)).sum::<u64>()))
                    .collect();
                threads.into_iter().map(|t| t.join().expect("join")).sum()
            });
            let e = t.elapsed();
            ok(peers::STD_SCOPE, sum);
            ns_per(e, n)
        }),
    ];
    let samples = interleave(rounds, &mut cfg.rng('f'), &mut contenders);
    let mut table = Table::new(
        "f",
        format!(
            "(f) {n} scoped jobs borrowing a local Vec: ns per job ({w} workers, {rounds} rounds)"
        ),
        "ns/job",
    );
    table.base = peers::STD_SCOPE;
    table.rows = rows(&samples);
    table.notes.push(format!(
        "The base is std::thread::scope with {w} threads each summing its chunk: no per-job \
         dispatch at all, the floor for any pool. rayon::scope writes each result into its \
         own slot of a Vec (allocated outside the timing); worklight's results come back \
         through its outbox."
    ));
    vec![table]
}
