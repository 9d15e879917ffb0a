//! worklight's benchmark suite: worklight against `threadpool`, `rayon`,
//! `rusty_pool` and a hand-rolled crossbeam-channel pool (the practical
//! floor), in one process, with interleaved and shuffled repetitions.
//! Every run checks a checksum of what it computed and aborts on a
//! mismatch. Prints Markdown tables.
//!
//! ```text
//! cargo run --release -p worklight-bench -- [--workers N] [--quick] [--only a,b] [--seed S]
//! ```
//!
//! Workloads: (a) tiny jobs, (b) CPU-bound jobs, (c) round-trip latency,
//! (d) pool lifecycle, (e) four producers, (f) scoped jobs, (g) memory and
//! idle wake-ups, (h) bursts against self-sizing pools.

mod alloc;
mod burst;
mod config;
mod cpu;
mod elastic;
mod idle;
mod latency;
mod lifecycle;
mod memory;
mod peers;
mod producers;
mod rounds;
mod scoped;
mod stats;
mod summary;
mod tiny;
mod work;

use std::time::Instant;

use crate::config::Config;
use crate::stats::Table;

type Workload = fn(&Config) -> Vec<Table>;

const WORKLOADS: [(char, Workload); 8] = [
    ('a', tiny::run),
    ('b', cpu::run),
    ('c', latency::run),
    ('d', lifecycle::run),
    ('e', producers::run),
    ('f', scoped::run),
    ('g', memory::run),
    ('h', burst::run),
];

fn main() {
    let cfg = match Config::from_args() {
        Ok(cfg) => cfg,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    if let Some(peer) = &cfg.once {
        match tiny::once(peer, cfg.jobs, cfg.workers) {
            Ok(ns) => println!(
                "(a) {peer}: {} jobs on {} workers, {ns:.1} ns/job, checksum verified",
                cfg.jobs, cfg.workers
            ),
            Err(names) => {
                eprintln!("--once: (a) has no peer {peer:?}; its peers: {names:?}");
                std::process::exit(2);
            }
        }
        return;
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build: its figures say nothing; run with --release");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "## worklight-bench: {} workers, {} cores, seed {}{}\n",
        cfg.workers,
        cores,
        cfg.seed,
        if cfg.quick {
            " (--quick: smoke test, not a measurement)"
        } else {
            ""
        }
    );
    println!("Load average before: {}\n", loadavg());
    let start = Instant::now();
    let mut tables = Vec::new();
    for (key, run) in WORKLOADS {
        if !cfg.wants(key) {
            continue;
        }
        let t = Instant::now();
        for table in run(&cfg) {
            println!("{}", table.render());
            tables.push(table);
        }
        eprintln!("[({key}) took {:.1} s]", t.elapsed().as_secs_f64());
    }
    println!("{}", summary::ratios(&tables));
    println!("{}", summary::targets(&tables, cfg.workers));
    println!(
        "All checksums verified. Total {:.1} s. Load average after: {}.",
        start.elapsed().as_secs_f64(),
        loadavg()
    );
}

/// The 1, 5 and 15 minute load averages: other load on the machine skews
/// every figure, so the tables say how much there was.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or("unknown".to_string(), |s| {
        s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    })
}
