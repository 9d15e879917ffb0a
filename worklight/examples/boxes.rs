//! Caller-supplied boxes: results to a crossbeam channel read while the pool
//! runs, failures logged by a callback (a box that keeps nothing), and an
//! inbox shared by two pools and fed from another thread.
//!
//! ```text
//! cargo run --release --example boxes
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use worklight::{Inbox, Job, JobError, WorkerPool};

fn parse(line: &str) -> Result<i64, std::num::ParseIntError> {
    line.trim().parse()
}

fn main() {
    let lines: Vec<String> = (0..1_000)
        .map(|i| {
            if i % 97 == 0 {
                format!("bad{i}")
            } else {
                i.to_string()
            }
        })
        .collect();

    // Results go to our own channel; failures are logged, not kept.
    let (results, received) = crossbeam_channel::unbounded();
    let logged = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&logged);
    let shared: Inbox<Job<'static, i64>> = Inbox::new();
    let build = |name: &str| {
        let count = Arc::clone(&count);
        WorkerPool::builder()
            .workers(2)
            .name(name)
            .inbox(shared.clone())
            .outbox(results.clone())
            .errbox(worklight::callback(move |e: JobError| {
                if count.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("logged: {e}");
                }
            }))
            .build()
            .expect("start workers")
    };
    let (left, right) = (build("Left"), build("Right"));
    drop(results);

    // Another thread feeds the shared inbox; both pools take from it.
    let feeder = {
        let inbox = shared.clone();
        std::thread::spawn(move || {
            for line in lines {
                let label = format!("line {line:?}");
                inbox
                    .put(Job::fallible(move || parse(&line)).label(label))
                    .expect("open");
            }
        })
    };

    // Read results while the pools run; the loop ends when both are exiled.
    let reader = std::thread::spawn(move || {
        received
            .iter()
            .fold((0usize, 0i64), |(n, s), v| (n + 1, s + v))
    });
    feeder.join().expect("feeder");
    left.exile().expect("main thread");
    right.exile().expect("main thread");
    drop((left, right));
    let (n, sum) = reader.join().expect("reader");
    println!(
        "{n} results summing to {sum}; {} failures logged",
        logged.load(Ordering::Relaxed)
    );
}
