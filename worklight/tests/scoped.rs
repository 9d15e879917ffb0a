//! Scoped pools: jobs that borrow from the caller's stack, mutate disjoint
//! slices, hand their results back in the harvest; `Builder::scope` with
//! its options.

mod common;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use common::gate::GUARD;
use common::{Threads, sorted};
use worklight::{Exiled, Inbox, Job, ScopedPool, TryGetError, WorkerPool};

#[test]
fn jobs_borrow_data_from_the_stack() {
    let words: Vec<String> = ["inbox", "outbox", "errbox", "exile"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    let weights: HashMap<char, usize> = [('i', 1), ('o', 10), ('e', 100)].into();
    let calls = AtomicUsize::new(0);
    let harvest = worklight::pool(2, |pool| {
        for w in &words {
            let (weights, calls) = (&weights, &calls);
            pool.inbox
                .put(move || {
                    calls.fetch_add(1, SeqCst);
                    (w.as_str().len(), weights[&w.chars().next().unwrap()])
                })
                .unwrap();
        }
    })
    .unwrap();
    assert_eq!(calls.load(SeqCst), words.len());
    let got = sorted(harvest.outbox.iter());
    assert_eq!(got, vec![(5, 1), (5, 100), (6, 10), (6, 100)]);
    // The borrows ended with the pool: the data is ours again.
    drop(words);
}

#[test]
fn jobs_mutate_disjoint_slices_in_place() {
    let mut data = vec![0u64; 1000];
    let harvest = worklight::pool(3, |pool| {
        for (c, chunk) in data.chunks_mut(64).enumerate() {
            pool.inbox
                .put(move || {
                    for (k, x) in chunk.iter_mut().enumerate() {
                        *x = (c * 64 + k) as u64 * 2;
                    }
                    chunk.len()
                })
                .unwrap();
        }
    })
    .unwrap();
    assert_eq!(harvest.outbox.iter().sum::<usize>(), 1000);
    assert!(data.iter().enumerate().all(|(i, x)| *x == i as u64 * 2));
}

#[test]
fn the_harvest_holds_every_result_every_failure_and_the_value() {
    let inputs = ["1", "2", "x", "4", "y"];
    let harvest = worklight::pool(2, |pool| {
        for s in &inputs {
            pool.inbox
                .put(Job::fallible(move || s.parse::<u32>()).label(*s))
                .unwrap();
        }
        pool.inbox
            .put(Job::new(|| panic!("scoped panic")).label("p"))
            .unwrap();
        "closure value"
    })
    .unwrap();
    assert_eq!(harvest.value, "closure value");
    assert_eq!(sorted(harvest.outbox.try_iter()), vec![1, 2, 4]);
    assert_eq!(harvest.outbox.get(), Err(Exiled), "the pool is gone");
    let mut labels: Vec<_> = harvest
        .errbox
        .try_iter()
        .map(|e| e.label().unwrap().to_owned())
        .collect();
    labels.sort();
    assert_eq!(labels, vec!["p", "x", "y"]);
    assert_eq!(harvest.errbox.try_get().unwrap_err(), TryGetError::Exiled);
}

#[test]
fn a_pool_given_no_work_returns_an_empty_harvest() {
    let harvest = worklight::pool(1, |_pool: &ScopedPool<'_, '_, u8>| 17).unwrap();
    assert_eq!(harvest.value, 17);
    assert_eq!(harvest.outbox.iter().count(), 0);
    assert_eq!(harvest.errbox.iter().count(), 0);
}

#[test]
fn builder_scope_applies_its_options() {
    let threads = Threads::new();
    let teardowns = Arc::new(AtomicUsize::new(0));
    let t = Arc::clone(&teardowns);
    let base = 1000;
    let harvest = WorkerPool::builder()
        .workers(3)
        .name("Scoped")
        .suffix("-x")
        .stack_size(512 * 1024)
        .capacity(4)
        .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
        .worker_teardown(move |_, _| {
            t.fetch_add(1, SeqCst);
        })
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .scope(|pool| {
            assert_eq!(pool.poolsize(), 3);
            assert_eq!(pool.inbox.capacity(), Some(4));
            for i in 0..50 {
                let base = &base;
                pool.inbox
                    .put(Job::stateful(move |index: &mut usize| {
                        let name = std::thread::current().name().unwrap().to_owned();
                        (name, *index, base + i)
                    }))
                    .unwrap();
            }
            assert!(pool.inbox.len() <= 4, "the bound holds");
            pool.poolsize()
        })
        .unwrap();
    assert_eq!(harvest.value, 3);
    let results: Vec<(String, usize, usize)> = harvest.outbox.iter().collect();
    assert_eq!(results.len(), 50);
    for (name, index, _) in &results {
        assert!(*index < 3);
        assert_eq!(name, &format!("Scoped-{index}-x"));
    }
    assert_eq!(
        sorted(results.iter().map(|r| r.2)),
        (1000..1050).collect::<Vec<_>>()
    );
    assert_eq!(teardowns.load(SeqCst), 3);
    assert_eq!(threads.started(), 3);
    assert_eq!(threads.live(), 0, "a scoped worker outlived its scope");
}

#[test]
fn a_scoped_pool_can_be_resized_and_its_workers_end_with_it() {
    let threads = Threads::new();
    let total = AtomicUsize::new(0);
    let harvest = WorkerPool::builder()
        .workers(1)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .scope(|pool| {
            pool.summon(2).unwrap();
            assert_eq!(pool.poolsize(), 3);
            assert_eq!(pool.banish(1), 1);
            assert_eq!(pool.poolsize(), 2);
            for i in 1..=100 {
                let total = &total;
                pool.inbox
                    .put(move || {
                        total.fetch_add(i, SeqCst);
                    })
                    .unwrap();
            }
        })
        .unwrap();
    assert_eq!(total.load(SeqCst), 5050);
    assert_eq!(harvest.outbox.iter().count(), 100);
    assert_eq!(threads.started(), 3);
    assert_eq!(threads.live(), 0);
}

/// Sums `data[range]`, splitting into two follow-up jobs while the range is
/// long; the follow-ups go on the pool's own inbox.
fn sum_job<'s>(inbox: Inbox<Job<'s, u64>>, data: &'s [u64], range: Range<usize>) -> Job<'s, u64> {
    Job::new(move || {
        if range.len() <= 8 {
            return data[range].iter().sum();
        }
        let mid = range.start + range.len() / 2;
        inbox
            .put(sum_job(inbox.clone(), data, range.start..mid))
            .unwrap();
        inbox
            .put(sum_job(inbox.clone(), data, mid..range.end))
            .unwrap();
        0
    })
}

#[test]
fn jobs_queue_follow_up_jobs_that_borrow_too() {
    let data: Vec<u64> = (1..=1000).collect();
    let harvest = worklight::pool(2, |pool| {
        pool.inbox
            .put(sum_job(pool.inbox.clone(), &data, 0..data.len()))
            .unwrap();
        // Follow-ups are put while their parent runs, so this waits for them.
        pool.wait_idle().unwrap();
    })
    .unwrap();
    assert!(harvest.errbox.is_empty());
    assert_eq!(harvest.outbox.iter().sum::<u64>(), 500_500);
}

#[test]
fn a_scoped_pool_delivers_to_a_caller_outbox() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let local = [3u32, 4, 5];
    let harvest = WorkerPool::builder()
        .workers(2)
        .outbox(tx)
        .scope(|pool| {
            for x in &local {
                pool.inbox.put(move || x * x).unwrap();
            }
        })
        .unwrap();
    assert!(harvest.outbox.is_empty());
    assert_eq!(sorted(rx.iter()), vec![9, 16, 25]);
}

/// Jobs left at the end that no worker can run (the one worker left was
/// banished, and the worker the exile starts for them fails its setup)
/// are counted in the harvest, which still holds the value and every
/// result of the jobs that ran.
#[test]
fn jobs_no_worker_could_run_are_counted_and_the_rest_of_the_harvest_kept() {
    let setups = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&setups);
    let (stop_tx, stops) = crossbeam_channel::unbounded();
    let harvest = WorkerPool::<u32>::builder()
        .workers(1)
        .worker_setup(move |_| match counted.fetch_add(1, SeqCst) {
            0 => Ok(()),
            _ => Err("db down"),
        })
        .on_worker_stop(move |_| stop_tx.send(()).unwrap())
        .scope(|pool| {
            pool.inbox.put(|| 1).unwrap();
            pool.wait_idle().unwrap();
            assert_eq!(pool.banish(1), 1);
            stops.recv_timeout(GUARD).expect("the worker did not leave");
            pool.inbox.put(|| 2).unwrap();
            pool.inbox.put(|| 3).unwrap();
            "kept"
        })
        .unwrap();
    assert_eq!(harvest.value, "kept");
    assert_eq!(harvest.outbox.iter().collect::<Vec<_>>(), [1]);
    assert_eq!(harvest.unrun, 2);
    assert!(harvest.errbox.is_empty());
    assert_eq!(
        setups.load(SeqCst),
        2,
        "one worker, then the exile's helper"
    );
}
