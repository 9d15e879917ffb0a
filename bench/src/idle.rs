//! (g) Idle wake-ups: how often a pool's idle workers run when there is
//! nothing to do. After a burst of jobs and a pause to settle, the
//! context-switch counts of the pool's own threads (found by name in
//! `/proc/self/task/*/comm`, counted from `/proc/self/task/*/status`) are
//! read before and after an idle window. A sleeping thread does not switch;
//! every wake-up, whether a timeout, a poll or a spurious notify, adds one.

use std::fs;
use std::time::Duration;

use crate::config::Config;
use crate::peers::{self, Execute, HandPool, recv_sum};
use crate::stats::{Row, Table};
use crate::work::{check, tiny, tiny_sum};

const WINDOW: Duration = Duration::from_secs(1);
const SETTLE: Duration = Duration::from_millis(300);
const BURST: u64 = 1000;

/// (threads whose name starts with `prefix`, their total context switches);
/// `None` where `/proc` cannot be read.
fn switches(prefix: &str) -> Option<(usize, u64)> {
    let mut threads = 0;
    let mut total = 0;
    for task in fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let Ok(comm) = fs::read_to_string(path.join("comm")) else {
            continue; // the thread exited meanwhile
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let Ok(status) = fs::read_to_string(path.join("status")) else {
            continue;
        };
        threads += 1;
        total += status
            .lines()
            .filter(|l| l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Some((threads, total))
}

/// Wake-ups of the threads named `prefix*` over the idle window, and how
/// many such threads there were.
fn window(prefix: &str) -> Option<(usize, u64)> {
    std::thread::sleep(SETTLE);
    let (_, before) = switches(prefix)?;
    std::thread::sleep(WINDOW);
    let (threads, after) = switches(prefix)?;
    Some((threads, after.saturating_sub(before)))
}

/// A burst of tiny jobs on `pool`, checked, then the idle window of its
/// threads (named `prefix*`); shuts the pool down after.
fn burst_then_idle<P: Execute>(peer: &str, pool: P, prefix: &str) -> Option<(usize, u64)> {
    let (tx, rx) = peers::results_channel();
    peers::execute_each(&pool, tx, 0..BURST, tiny);
    check("g", peer, recv_sum(&rx, BURST), tiny_sum(BURST));
    let idle = window(prefix);
    pool.shut_down();
    idle
}

pub(crate) fn run(cfg: &Config) -> Table {
    let w = cfg.workers;
    let expected = tiny_sum(BURST);
    let mut results = Vec::new();

    let pool = peers::worklight(w, "idle-wl");
    for i in 0..BURST {
        pool.inbox.put(move || tiny(i)).expect("put");
    }
    let sum = (0..BURST).map(|_| pool.outbox.get().expect("get")).sum();
    check("g", peers::WORKLIGHT, sum, expected);
    results.push((peers::WORKLIGHT, window("idle-wl")));
    drop(pool);

    let pool = HandPool::new(w, "idle-hand");
    (0..BURST).for_each(|i| pool.put(move || tiny(i)));
    check("g", peers::HAND, recv_sum(&pool.results, BURST), expected);
    results.push((peers::HAND, window("idle-hand")));
    drop(pool);

    let tp = peers::threadpool(w, "idle-tp");
    results.push((
        peers::THREADPOOL,
        burst_then_idle(peers::THREADPOOL, tp, "idle-tp"),
    ));
    let rayon = peers::rayon(w, "idle-rayon");
    results.push((
        peers::RAYON_SPAWN,
        burst_then_idle(peers::RAYON_SPAWN, rayon, "idle-rayon"),
    ));
    let rusty = peers::rusty(w, "idle-rusty");
    results.push((
        peers::RUSTY,
        burst_then_idle(peers::RUSTY, rusty, "idle-rusty"),
    ));

    let mut table = Table::new(
        "g idle",
        format!(
            "(g) idle wake-ups: context switches of the pool's {w} workers over {} ms idle",
            WINDOW.as_millis()
        ),
        "wake-ups",
    );
    table.extra_header = "threads seen";
    for (name, r) in results {
        let Some((threads, wakeups)) = r else {
            table
                .notes
                .push(format!("{name}: /proc/self/task unreadable, not measured"));
            continue;
        };
        let mut row = Row::new(name, &[wakeups as f64]);
        row.extra = threads.to_string();
        table.rows.push(row);
    }
    table.notes.push(format!(
        "After {BURST} jobs and a {} ms pause to settle; one window per pool, so min = max = median.",
        SETTLE.as_millis()
    ));
    table
}
