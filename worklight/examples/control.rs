//! Live control of a running pool: pause, summon and banish while it works
//! through a pile of CPU jobs (counting primes in ranges), printing the
//! metrics as it goes.
//!
//! ```text
//! cargo run --release --example control
//! ```

use worklight::{Metrics, WorkerPool};

fn primes_in(range: std::ops::Range<u64>) -> usize {
    range
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count()
}

fn show(step: &str, m: Metrics) {
    println!(
        "{step:<28} workers {:>2} (busy {:>2}, paused {:>2}, idle {:>2})  queued {:>3}  completed {:>3}  spawned {:>2}  retired {:>2}",
        m.alive, m.busy, m.paused, m.idle, m.queued, m.completed, m.spawned, m.retired
    );
}

fn main() {
    const JOBS: u64 = 400;
    const SPAN: u64 = 20_000;
    let pool = WorkerPool::new(2).expect("start 2 workers");
    for i in 0..JOBS {
        pool.inbox
            .put(move || primes_in(i * SPAN..(i + 1) * SPAN))
            .expect("pool is running");
    }
    show("started with 2", pool.metrics());

    let mut total = 0;
    let mut take = |n: usize| {
        for _ in 0..n {
            total += pool.outbox.get().expect("results keep coming");
        }
    };
    take(50);
    show("after 50 results", pool.metrics());

    pool.pause();
    show("paused", pool.metrics());
    pool.summon(4).expect("start 4 more");
    show("summoned 4 (still paused)", pool.metrics());
    pool.resume();
    take(100);
    show("resumed, 100 more results", pool.metrics());

    let leaving = pool.banish(5);
    show(&format!("banished {leaving}"), pool.metrics());
    take(50);
    show("50 more results", pool.metrics());

    pool.wait_idle().expect("called from the main thread");
    show("idle", pool.metrics());
    pool.exile().expect("called from the main thread");
    total += pool.outbox.iter().sum::<usize>();
    show("exiled", pool.metrics());
    println!("{total} primes below {}", JOBS * SPAN);
}
