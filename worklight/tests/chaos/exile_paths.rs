//! Each exile path once, deterministically, with a mid-size run and the
//! same accounting as the chaos test: `exile`, `exile_now` on a paused
//! pool, `exile_timeout` timing out while a job runs and being done in
//! time, and the drop of a pool whose workers were all banished.

use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use worklight::{Exit, Inbox, Job};

use crate::ledger::{
    Census, Item, Ledger, Outcome, Pool, PutSpec, Tally, build_pool, check, make_job, put_jobs,
    quiet_booms, read_to_end,
};

/// Jobs in each run.
const MID: u32 = 20_000;

/// Puts `ids` from `threads` threads at once, as blocking puts of a mix of
/// jobs.
fn put_from_threads(inbox: &Inbox<Item>, ledger: &Arc<Ledger>, ids: Range<u32>, threads: u32) {
    let spec = PutSpec::PLAIN;
    let per = ids.len() as u32 / threads;
    std::thread::scope(|s| {
        for t in 0..threads {
            let end = if t + 1 == threads {
                ids.end
            } else {
                ids.start + (t + 1) * per
            };
            let part = ids.start + t * per..end;
            s.spawn(move || put_jobs(inbox, ledger, part, spec));
        }
    });
}

/// Once the pool is exiled: reads its boxes to the end, runs the jobs it
/// handed back, drops it and checks the accounting.
fn finish(ledger: &Ledger, pool: Pool, census: &Census, handed_back: Vec<Item>) -> Tally {
    let metrics = pool.metrics();
    let mut haul = read_to_end(&pool.outbox, &pool.errbox);
    haul.take_back(handed_back);
    drop(pool);
    check(ledger, vec![haul], census, Some(metrics)).unwrap()
}

#[test]
fn exile_works_the_inbox_off() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, Some(64), false, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 3);
    pool.exile().unwrap();
    let t = finish(&ledger, pool, &census, Vec::new());
    assert_eq!((t.ran, t.handed_back), (u64::from(MID), 0));
}

#[test]
fn exile_now_hands_back_what_a_paused_pool_holds() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(3, None, true, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    let unrun = pool.exile_now().unwrap();
    assert_eq!(unrun.len(), MID as usize);
    let t = finish(&ledger, pool, &census, unrun);
    assert_eq!((t.ran, t.handed_back), (0, u64::from(MID)));
}

#[test]
fn exile_timeout_hands_back_the_queue_and_leaves_the_runner() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize + 1), Arc::new(Census::default()));
    let pool = build_pool(1, None, false, &census);
    let (started_tx, started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    let held = make_job(&ledger, MID, Outcome::Value);
    pool.inbox
        .put(Job::fallible(move || {
            started_tx.send(()).unwrap();
            gate.recv().unwrap();
            held.run(&mut ())
        }))
        .unwrap();
    ledger.put[MID as usize].store(1, Relaxed);
    started.recv().unwrap();
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    let Exit::TimedOut { unrun, running } = pool.exile_timeout(Duration::ZERO).unwrap() else {
        panic!("the only worker is held in a job: the exile cannot be done");
    };
    assert_eq!((unrun.len(), running), (MID as usize, 1));
    release.send(()).unwrap();
    pool.exile().unwrap();
    let t = finish(&ledger, pool, &census, unrun);
    assert_eq!((t.ran, t.handed_back), (1, u64::from(MID)));

    // And a timed exile with time enough is done.
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, None, false, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    pool.wait_idle().unwrap();
    let exit = pool.exile_timeout(Duration::from_secs(3600)).unwrap();
    assert!(matches!(exit, Exit::Done));
    let t = finish(&ledger, pool, &census, Vec::new());
    assert_eq!(t.ran, u64::from(MID));
}

#[test]
fn drop_of_a_banished_paused_pool_runs_every_job() {
    quiet_booms();
    let (ledger, census) = (Ledger::new(MID as usize), Arc::new(Census::default()));
    let pool = build_pool(2, None, true, &census);
    put_from_threads(&pool.inbox, &ledger, 0..MID, 2);
    assert_eq!(pool.banish(2), 2);
    let (outbox, errbox) = (pool.outbox.clone(), pool.errbox.clone());
    drop(pool);
    assert_eq!(census.live.load(Relaxed), 0);
    let haul = read_to_end(&outbox, &errbox);
    let t = check(&ledger, vec![haul], &census, None).unwrap();
    assert_eq!(t.ran, u64::from(MID));
}
