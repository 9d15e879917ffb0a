//! The ways to shut a pool down, and what happens to queued jobs in each:
//! `exile` works the inbox off, `exile_now` hands back the jobs not run,
//! `exile_timeout` waits a while then hands back the rest, and a put after
//! exile hands its job back too. Nothing is dropped silently.
//!
//! ```text
//! cargo run --release --example shutdown
//! ```

use std::time::Duration;

use worklight::{Exit, WorkerPool};

fn slow_square(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(5));
    n * n
}

fn main() {
    // exile: every queued job runs.
    let pool = WorkerPool::new(4).expect("start");
    for n in 0..100 {
        pool.inbox.put(move || slow_square(n)).expect("running");
    }
    pool.exile().expect("main thread");
    println!("exile:         {} results", pool.outbox.len());

    // exile_now: running jobs finish, the rest come back unrun.
    let pool = WorkerPool::new(4).expect("start");
    for n in 0..100 {
        pool.inbox.put(move || slow_square(n)).expect("running");
    }
    let unrun = pool.exile_now().expect("main thread");
    println!(
        "exile_now:     {} results, {} jobs handed back",
        pool.outbox.len(),
        unrun.len()
    );
    // Handed-back jobs can be run here, or put on another pool.
    let rerun: u64 = unrun
        .into_iter()
        .map(|job| job.run(&mut ()).expect("infallible"))
        .sum();
    println!("               ran the handed-back jobs here: sum {rerun}");

    // exile_timeout: drain for a while, then hand back what is left.
    let pool = WorkerPool::new(4).expect("start");
    for n in 0..1_000 {
        pool.inbox.put(move || slow_square(n)).expect("running");
    }
    match pool
        .exile_timeout(Duration::from_millis(50))
        .expect("main thread")
    {
        Exit::Done => println!("exile_timeout: done in time"),
        Exit::TimedOut { unrun, running } => {
            pool.exile().expect("main thread"); // joins the workers still running
            println!(
                "exile_timeout: timed out with {running} workers still leaving, {} handed back, {} results",
                unrun.len(),
                pool.outbox.len()
            );
        }
    }

    // After exile, put hands the job back.
    let job = pool
        .inbox
        .put(|| 7)
        .expect_err("the inbox is closed")
        .into_inner();
    println!(
        "put after exile handed back a job; run here it gives {}",
        job.run(&mut ()).expect("ok")
    );
}
