//! (a) Throughput: a million tiny jobs, every result collected.
//!
//! Each sample builds a pool (untimed), then times putting every job from
//! this thread and taking every result back, then shuts the pool (untimed).

use std::time::Instant;

use crate::config::Config;
use crate::peers::{self, HandPool};
use crate::rounds::{Contender, contender, interleave, rows};
use crate::stats::Table;
use crate::work::{check, ns_per, tiny, tiny_sum};

pub(crate) fn run(cfg: &Config) -> Vec<Table> {
    let n = cfg.size(1_000_000, 50_000);
    let w = cfg.workers;
    let rounds = cfg.rounds(15);
    let mut contenders = contenders(n, w);
    let samples = interleave(rounds, &mut cfg.rng('a'), &mut contenders);
    let mut table = Table::new(
        "a",
        format!("(a) {n} tiny jobs, results collected: ns per job ({w} workers, {rounds} rounds)"),
        "ns/job",
    );
    table.rows = rows(&samples);
    table.notes.push(
        "worklight put_all queues every job with one `Inbox::put_all` call (one lock \
         acquisition); every other row puts jobs one by one. worklight data puts plain `u64` \
         items on a `HandlerPool` whose handler runs the tiny job: no closure at all; \
         hand-rolled data, its floor, puts the same items on the hand-rolled pool's channel, \
         whose threads run the tiny job on each. Results: worklight through its outbox; \
         hand-rolled through its result channel; threadpool, rayon spawn and rusty_pool \
         through a crossbeam channel whose sender each job captures (by reference: one \
         sender per sample); rayon::scope by writing each result into its own slot of a Vec."
            .to_string(),
    );
    vec![table]
}

/// Runs (a)'s `peer` once with `n` jobs, its checksum checked, and returns
/// its ns per job; for a peer (a) does not have, the names of those it
/// has. For counting instructions per job (`bench/instructions.sh`): no
/// warm-up, nothing else in the process.
pub(crate) fn once(peer: &str, n: u64, w: usize) -> Result<f64, Vec<&'static str>> {
    let mut contenders = contenders(n, w);
    match contenders.iter_mut().find(|c| c.name == peer) {
        Some(c) => Ok(c.call()),
        None => Err(contenders.iter().map(|c| c.name).collect()),
    }
}

/// (a)'s peers, each timing `n` tiny jobs on `w` workers.
fn contenders(n: u64, w: usize) -> Vec<Contender<'static, f64>> {
    let expected = tiny_sum(n);
    let ok = move |peer: &str, sum: u64| check("a", peer, sum, expected);
    vec![
        contender(peers::WORKLIGHT, move || {
            let pool = peers::worklight(w, "wl");
            let t = Instant::now();
            for i in 0..n {
                pool.inbox.put(move || tiny(i)).expect("put");
            }
            let sum: u64 = (0..n).map(|_| pool.outbox.get().expect("get")).sum();
            let e = t.elapsed();
            pool.exile().expect("exile");
            ok(peers::WORKLIGHT, sum);
            ns_per(e, n)
        }),
        contender(peers::WORKLIGHT_ALL, move || {
            let pool = peers::worklight(w, "wl");
            let t = Instant::now();
            let put = pool.inbox.put_all((0..n).map(|i| move || tiny(i)));
            assert_eq!(put.expect("put_all"), n as usize);
            let sum: u64 = (0..n).map(|_| pool.outbox.get().expect("get")).sum();
            let e = t.elapsed();
            pool.exile().expect("exile");
            ok(peers::WORKLIGHT_ALL, sum);
            ns_per(e, n)
        }),
        contender(peers::WORKLIGHT_DATA, move || {
            let pool = peers::worklight_data(w, "wl", false);
            let t = Instant::now();
            for i in 0..n {
                pool.inbox.put(i).expect("put");
            }
            let sum: u64 = (0..n).map(|_| pool.outbox.get().expect("get")).sum();
            let e = t.elapsed();
            pool.exile().expect("exile");
            ok(peers::WORKLIGHT_DATA, sum);
            ns_per(e, n)
        }),
        contender(peers::HAND, move || {
            let pool = HandPool::new(w, "hand");
            let (sum, e) = peers::time_hand(pool, n, |p, i| p.put(move || tiny(i)));
            ok(peers::HAND, sum);
            ns_per(e, n)
        }),
        contender(peers::HAND_DATA, move || {
            let (sum, e) = peers::time_hand(HandPool::data(w, "hand"), n, HandPool::send);
            ok(peers::HAND_DATA, sum);
            ns_per(e, n)
        }),
        contender(peers::THREADPOOL, move || {
            let (sum, e) = peers::time_execute(peers::threadpool(w, "tp"), n, tiny);
            ok(peers::THREADPOOL, sum);
            ns_per(e, n)
        }),
        contender(peers::RAYON_SPAWN, move || {
            let (sum, e) = peers::time_execute(peers::rayon(w, "rayon"), n, tiny);
            ok(peers::RAYON_SPAWN, sum);
            ns_per(e, n)
        }),
        contender(peers::RAYON_SCOPE, move || {
            let pool = peers::rayon(w, "rayon");
            let mut slots = vec![0u64; n as usize];
            let t = Instant::now();
            pool.scope(|s| {
                for (i, slot) in slots.iter_mut().enumerate() {
                    s.spawn(move |_| *slot = tiny(i as u64));
                }
            });
            let sum: u64 = slots.iter().sum();
            let e = t.elapsed();
            ok(peers::RAYON_SCOPE, sum);
            ns_per(e, n)
        }),
        contender(peers::RUSTY, move || {
            let (sum, e) = peers::time_execute(peers::rusty(w, "rusty"), n, tiny);
            ok(peers::RUSTY, sum);
            ns_per(e, n)
        }),
    ]
}
