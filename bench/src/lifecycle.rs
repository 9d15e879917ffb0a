//! (d) Lifecycle: build a 4-worker pool, run one job and take its result,
//! shut the pool down; against the floor of spawning and joining 4 bare
//! threads (one of which computes the job).

use std::time::Instant;

use crate::config::Config;
use crate::peers::{self, HandPool};
use crate::rounds::{contender, interleave, rows};
use crate::stats::Table;
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
            cycles(peers::BARE, &|k| {
                let threads: Vec<_> = (0..THREADS as u64)
                    .map(|j| std::thread::spawn(move || if j == 0 { tiny(k) } else { 0 }))
                    .collect();
                threads.into_iter().map(|t| t.join().expect("join")).sum()
            })
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
            _ => "yes".to_string(),
        };
    }
    table.notes.push(
        "threadpool and rusty_pool cannot join their threads: dropping the pool only \
         disconnects its channel, so their figures leave out thread exit and are not \
         comparable with the joined ones. rayon is measured with `build_scoped` + `install`, \
         the one rayon form that joins its threads."
            .to_string(),
    );
    vec![table]
}
