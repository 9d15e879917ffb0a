//! Bad input and full inboxes: settings a pool refuses, a worker setup that
//! fails, and what `put`, `try_put` and `put_timeout` do when the inbox has
//! no room or is closed.

mod common;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use common::{Hold, Ledger, Threads, sorted};
use worklight::{BuildError, Inbox, Job, ScopedPool, WorkerPool};

#[test]
fn zero_workers_is_refused_everywhere() {
    let threads = Threads::new();
    assert!(matches!(
        WorkerPool::<()>::new(0),
        Err(BuildError::ZeroWorkers)
    ));
    let built = WorkerPool::<()>::builder()
        .workers(0)
        .on_worker_start(threads.on_start())
        .build();
    assert!(matches!(built, Err(BuildError::ZeroWorkers)));

    let mut called = false;
    let scoped = worklight::pool(0, |_pool: &ScopedPool<'_, '_, u8>| {
        called = true;
        0u8
    });
    assert!(matches!(scoped, Err(BuildError::ZeroWorkers)));
    assert!(!called, "the closure ran without a pool");
    assert_eq!(threads.started(), 0);
    assert!(!BuildError::ZeroWorkers.to_string().is_empty());
}

/// The system cannot name a thread with a NUL byte in it: a typed error at
/// build, before any worker starts or a caller's inbox is touched.
#[test]
fn a_thread_name_with_a_nul_byte_is_refused_everywhere() {
    let threads = Threads::new();
    let shared: Inbox<Job<'static, u8>> = Inbox::new();
    let invalid = |built: Result<(), BuildError>| {
        assert!(matches!(built, Err(BuildError::Invalid(_))), "{built:?}");
    };
    invalid(
        WorkerPool::<u8>::builder()
            .name("Crawler\0")
            .on_worker_start(threads.on_start())
            .inbox(shared.clone())
            .build()
            .map(drop),
    );
    invalid(
        WorkerPool::<u8>::builder()
            .suffix("\0-db")
            .on_worker_start(threads.on_start())
            .build()
            .map(drop),
    );
    let mut called = false;
    let scoped = WorkerPool::<u8>::builder().name("a\0b").scope(|_pool| {
        called = true;
    });
    invalid(scoped.map(drop));
    assert!(!called, "the closure ran without a pool");
    assert_eq!(threads.started(), 0);
    assert!(
        !shared.is_closed(),
        "a refused build does not feed on the inbox"
    );
    shared.put(|| 1).unwrap();
}

#[test]
fn zero_capacity_is_refused_everywhere() {
    let built = WorkerPool::<()>::builder().capacity(0).build();
    assert!(matches!(built, Err(BuildError::ZeroCapacity)));
    let mut called = false;
    let scoped = WorkerPool::<()>::builder()
        .workers(1)
        .capacity(0)
        .scope(|_pool| called = true);
    assert!(matches!(scoped, Err(BuildError::ZeroCapacity)));
    assert!(!called);
    assert!(matches!(
        Inbox::<Job<'static, ()>>::bounded(0),
        Err(BuildError::ZeroCapacity)
    ));
}

#[test]
fn a_capacity_with_a_caller_inbox_is_invalid_and_leaves_the_inbox_alone() {
    let shared: Inbox<Job<'static, u8>> = Inbox::bounded(2).unwrap();
    let built = WorkerPool::builder()
        .capacity(3)
        .inbox(shared.clone())
        .build();
    assert!(matches!(built, Err(BuildError::Invalid(_))));
    assert!(!shared.is_closed());

    // The refused build did not attach: one good pool is its only pool,
    // and exiling it closes the inbox.
    let pool = WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .build()
        .unwrap();
    shared.put(|| 1).unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.get(), Ok(1));
    assert!(shared.is_closed());
}

#[test]
fn a_scoped_pool_refuses_a_caller_inbox() {
    let shared: Inbox<Job<'static, u8>> = Inbox::new();
    let mut called = false;
    let scoped = WorkerPool::builder()
        .workers(1)
        .inbox(shared)
        .scope(|_pool| called = true);
    assert!(matches!(scoped, Err(BuildError::Invalid(_))));
    assert!(!called);
}

#[test]
fn a_closed_caller_inbox_is_refused() {
    let threads = Threads::new();
    let shared: Inbox<Job<'static, u8>> = Inbox::new();
    let first = WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .build()
        .unwrap();
    first.exile().unwrap();
    assert!(shared.is_closed());
    let second = WorkerPool::builder()
        .workers(1)
        .on_worker_start(threads.on_start())
        .inbox(shared.clone())
        .build();
    assert!(matches!(second, Err(BuildError::InboxClosed)));
    assert_eq!(threads.started(), 0);
}

#[test]
fn a_failing_worker_setup_fails_the_build_and_stops_every_worker() {
    let threads = Threads::new();
    let built = WorkerPool::<()>::builder()
        .workers(3)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .worker_setup(|w| {
            if w.index() == 1 {
                Err(format!("no connection for worker {}", w.index()))
            } else {
                Ok(())
            }
        })
        .build();
    match built {
        Err(BuildError::Setup { worker, error }) => {
            assert_eq!(worker, 1);
            assert_eq!(error.to_string(), "no connection for worker 1");
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
    assert_eq!(threads.started(), 3);
    assert_eq!(threads.live(), 0, "a worker outlived the failed build");
}

#[test]
fn a_panicking_setup_or_start_hook_is_a_setup_error() {
    let threads = Threads::new();
    let built = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .worker_setup(|_| -> Result<(), std::io::Error> { panic!("setup exploded") })
        .build();
    match built {
        Err(e @ BuildError::Setup { .. }) => assert!(e.to_string().contains("setup exploded")),
        other => panic!("expected a setup error, got {other:?}"),
    }
    assert_eq!(threads.live(), 0);

    let built = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(|_| panic!("hook exploded"))
        .worker_setup(|_| Ok::<_, std::io::Error>(()))
        .build();
    match built {
        Err(e @ BuildError::Setup { .. }) => assert!(e.to_string().contains("hook exploded")),
        other => panic!("expected a setup error, got {other:?}"),
    }
}

#[test]
fn a_failing_setup_in_summon_keeps_the_pool_running() {
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .worker_setup(|w| if w.index() < 2 { Ok(()) } else { Err("full") })
        .build()
        .unwrap();
    assert!(matches!(
        pool.summon(1),
        Err(BuildError::Setup { worker: 2, .. })
    ));
    assert_eq!(pool.poolsize(), 2);
    assert_eq!(pool.metrics().setup_failures, 1);
    pool.inbox.put(|| 3).unwrap();
    assert_eq!(pool.outbox.get(), Ok(3));
    pool.exile().unwrap();
    assert_eq!(threads.started(), 3);
    assert_eq!(threads.live(), 0);
}

#[test]
fn summon_after_exile_is_refused() {
    let pool = WorkerPool::<()>::new(1).unwrap();
    pool.exile().unwrap();
    assert!(matches!(pool.summon(2), Err(BuildError::Exiled)));
    assert_eq!(pool.poolsize(), 0);
}

/// An exile resumes a paused pool for good: it no longer reads as paused,
/// and `pause`, `resume` and even `summon(0)` change nothing after it.
#[test]
fn controls_after_exile_change_nothing() {
    let pool = WorkerPool::<()>::builder()
        .workers(1)
        .paused()
        .build()
        .unwrap();
    pool.exile().unwrap();
    assert!(!pool.is_paused(), "the exile resumed it");
    pool.pause();
    assert!(!pool.is_paused());
    pool.resume();
    assert!(matches!(pool.summon(0), Err(BuildError::Exiled)));
    assert!(matches!(
        pool.summon_staggered(0, std::time::Duration::ZERO),
        Err(BuildError::Exiled)
    ));
    assert_eq!(pool.banish(1), 0);
}

#[test]
fn try_put_and_put_timeout_on_a_full_inbox_hand_the_job_back() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .capacity(2)
        .paused()
        .build()
        .unwrap();
    pool.inbox.try_put(ledger.job(0)).unwrap();
    pool.inbox
        .put_timeout(ledger.job(1), Duration::from_secs(600))
        .unwrap();
    assert_eq!(pool.inbox.len(), 2);

    let full = pool.inbox.try_put(ledger.job(2)).unwrap_err();
    assert!(full.is_full() && !full.is_closed());
    assert_eq!(full.into_inner().run(&mut ()).unwrap(), 2);

    // Nobody takes a job from a paused pool: the wait must time out.
    let late = pool
        .inbox
        .put_timeout(ledger.job(3), Duration::from_millis(1))
        .unwrap_err();
    assert!(late.is_timeout() && !late.is_closed());
    assert_eq!(late.into_inner().run(&mut ()).unwrap(), 3);
    assert_eq!(pool.inbox.len(), 2);

    pool.exile().unwrap();
    assert_eq!(sorted(pool.outbox.try_iter()), vec![0, 1]);
    assert_eq!(ledger.runs(), 4);
    assert_eq!(ledger.drops(), 4);
    assert!(pool.inbox.try_put(|| 9).unwrap_err().is_closed());
}

#[test]
fn put_on_a_full_inbox_blocks_until_a_worker_makes_room() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .capacity(1)
        .build()
        .unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    hold.wait_started(1);
    // The only worker is held and the inbox holds one job: full.
    pool.inbox.put(ledger.job(1)).unwrap();
    assert!(pool.inbox.try_put(|| 99).unwrap_err().is_full());

    let released = AtomicBool::new(false);
    let (about_tx, about_rx) = crossbeam_channel::bounded(1);
    std::thread::scope(|s| {
        let putter = s.spawn(|| {
            about_tx.send(()).unwrap();
            pool.inbox.put(ledger.job(2)).unwrap();
            // Room comes only when the worker, freed, takes job 1.
            released.load(SeqCst)
        });
        about_rx.recv().unwrap();
        assert_eq!(pool.inbox.len(), 1, "the bound was exceeded");
        released.store(true, SeqCst);
        hold.release();
        assert!(
            putter.join().unwrap(),
            "put returned while the inbox was full"
        );
    });
    pool.exile().unwrap();
    assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(ledger.runs(), 3);
}

#[test]
fn a_failed_build_leaves_a_caller_inbox_open_for_others() {
    let shared: Inbox<Job<'static, u8>> = Inbox::new();
    let failed = WorkerPool::builder()
        .workers(2)
        .worker_setup(|w| {
            if w.index() == 1 {
                Err("worker 1 refuses")
            } else {
                Ok(())
            }
        })
        .inbox(shared.clone())
        .build();
    assert!(matches!(failed, Err(BuildError::Setup { worker: 1, .. })));
    assert!(!shared.is_closed());
    shared.put(|| 4).unwrap();
    let pool = WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .build()
        .unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.get(), Ok(4));
    assert!(
        shared.is_closed(),
        "the failed pool still counts as a feeder"
    );
}

/// A stack too small for a job's panic to unwind on is refused at build,
/// in every kind of pool; the smallest allowed one catches a panic.
#[test]
fn a_stack_too_small_to_unwind_a_panic_is_refused() {
    for bytes in [0, 16 << 10, worklight::MIN_STACK_SIZE - 1] {
        let built = WorkerPool::<u8>::builder().stack_size(bytes).build();
        assert!(matches!(built, Err(BuildError::Invalid(_))), "{bytes}");
        let scoped = WorkerPool::<u8>::builder().stack_size(bytes).scope(|_| ());
        assert!(matches!(scoped, Err(BuildError::Invalid(_))), "{bytes}");
    }
    let pool = WorkerPool::<u8>::builder()
        .workers(1)
        .stack_size(worklight::MIN_STACK_SIZE)
        .build()
        .unwrap();
    pool.inbox
        .put(|| panic!("unwound on {} bytes", 64 << 10))
        .unwrap();
    pool.inbox.put(|| 7).unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.get(), Ok(7));
    let failure = pool.errbox.get().unwrap();
    assert_eq!(failure.panic().unwrap().message(), "unwound on 65536 bytes");
}

/// A worker thread the OS refuses to start is a typed error, not a panic,
/// and a caller's inbox keeps its jobs.
#[test]
fn a_thread_that_cannot_be_spawned_is_a_typed_error() {
    let shared: worklight::Inbox<worklight::Job<'static, u8>> = worklight::Inbox::new();
    shared.put(|| 1).unwrap();
    let built = WorkerPool::builder()
        .workers(2)
        .stack_size(usize::MAX / 2) // no system can map this stack
        .inbox(shared.clone())
        .build();
    assert!(matches!(built, Err(BuildError::Spawn(_))), "{built:?}");
    assert_eq!(shared.len(), 1);
    assert!(!shared.is_closed());
}
