//! A self-sizing pool growing under bursts of work and shrinking when idle.
//! Worker start and stop hooks print the pool's size as it changes.
//!
//! ```text
//! cargo run --release --example summoning
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use worklight::{Summoning, WorkerPool};

fn busy_work(n: u64) -> u64 {
    (0..200_000u64).fold(n, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
}

fn main() {
    let t0 = Instant::now();
    let size = Arc::new(AtomicUsize::new(0));
    let (up, down) = (Arc::clone(&size), Arc::clone(&size));
    let pool = WorkerPool::builder()
        .summoning(
            Summoning::new(1, 8)
                .ratio(2)
                .rate(2)
                .keep_alive(Duration::from_millis(100)),
        )
        .on_worker_start(move |w| {
            let n = up.fetch_add(1, Ordering::SeqCst) + 1;
            println!(
                "{:>6} ms  {} started   size {n}",
                t0.elapsed().as_millis(),
                w.name()
            );
        })
        .on_worker_stop(move |w| {
            let n = down.fetch_sub(1, Ordering::SeqCst) - 1;
            println!(
                "{:>6} ms  {} left      size {n}",
                t0.elapsed().as_millis(),
                w.name()
            );
        })
        .build()
        .expect("start the pool");

    for burst in 1..=3u64 {
        println!(
            "{:>6} ms  burst {burst}: 200 jobs",
            t0.elapsed().as_millis()
        );
        for n in 0..200 {
            pool.inbox
                .put(move || busy_work(n))
                .expect("pool is running");
        }
        pool.wait_idle().expect("called from the main thread");
        let m = pool.metrics();
        println!(
            "{:>6} ms  burst {burst} done: size {}, high water {}, spawned {}, retired {}",
            t0.elapsed().as_millis(),
            m.alive,
            m.high_water,
            m.spawned,
            m.retired
        );
        // An idle gap: surplus workers retire after their keep-alive.
        std::thread::sleep(Duration::from_millis(300));
    }
    pool.exile().expect("called from the main thread");
    let m = pool.metrics();
    println!(
        "exiled: {} results, high water {}, {} workers spawned, {} retired while idle",
        pool.outbox.len(),
        m.high_water,
        m.spawned,
        m.retired
    );
}
