//! Every exile path: each job is run exactly once or handed back exactly
//! once (a ledger counts runs and drops), and no worker thread outlives the
//! exile (the start/stop hooks count live threads).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::gate::GUARD;
use common::{Hold, Ledger, Threads, sorted};
use worklight::{ExileError, Exit, GetTimeoutError, WaitError, WorkerPool};

const N: usize = 40;

fn range(n: usize) -> Vec<usize> {
    (0..n).collect()
}

#[test]
fn exile_runs_every_queued_job_once_and_joins_every_worker() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(3)
        .paused()
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    assert_eq!(pool.inbox.len(), N);
    assert_eq!(ledger.runs(), 0);

    pool.exile().unwrap();

    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(sorted(pool.outbox.try_iter()), range(N));
    assert!(pool.errbox.is_empty());
    assert_eq!(threads.started(), 3);
    assert_eq!(threads.live(), 0, "a worker outlived exile");
    assert_eq!(pool.poolsize(), 0);
    assert!(pool.is_exiled());
    let m = pool.metrics();
    assert_eq!((m.completed, m.handed_back, m.alive), (N as u64, 0, 0));
}

/// Exiles `pool` now while `hold` keeps its worker busy, and releases the
/// held job once the exile has taken the queue off: `is_exiled` takes the
/// inbox lock that the exile holds while it marks the pool and empties the
/// inbox.
fn exile_now_then_release(
    pool: &WorkerPool<usize>,
    hold: &Hold,
) -> Vec<worklight::Job<'static, usize>> {
    std::thread::scope(|s| {
        s.spawn(|| {
            while !pool.is_exiled() {
                std::thread::yield_now();
            }
            hold.release();
        });
        pool.exile_now().unwrap()
    })
}

#[test]
fn exile_now_finishes_running_jobs_and_hands_back_the_rest() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    hold.wait_started(1);
    for i in 1..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }

    let unrun = exile_now_then_release(&pool, &hold);

    assert_eq!(threads.live(), 0, "exile_now returned before joining");
    assert_eq!(ledger.runs(), 1, "only the running job may run");
    assert_eq!(unrun.len(), N - 1);
    assert_eq!(pool.metrics().handed_back, (N - 1) as u64);
    assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![0]);
    // Handed-back jobs are whole: they run on the caller's thread.
    let mut rerun: Vec<usize> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
    rerun.push(0);
    assert_eq!(sorted(rerun), range(N));
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
}

/// From a queue this long a worker takes a whole segment of jobs into its
/// slot at once: the exile must find them there.
#[test]
fn exile_now_hands_back_the_jobs_a_worker_took_from_a_long_queue() {
    const LONG: usize = 2_000;
    let ledger = Ledger::new();
    let pool = WorkerPool::builder().workers(1).paused().build().unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    for i in 1..=LONG {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    pool.resume();
    hold.wait_started(1);
    assert_eq!(pool.inbox.len(), LONG, "queued or in the worker's slot");

    let unrun = exile_now_then_release(&pool, &hold);

    assert_eq!(ledger.runs(), 1, "only the held job ran");
    assert_eq!(unrun.len(), LONG);
    // Handed back in the order they were put.
    let rerun: Vec<usize> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
    assert_eq!(rerun, (1..=LONG).collect::<Vec<_>>());
    assert_eq!(ledger.runs(), LONG + 1);
    assert_eq!(ledger.drops(), LONG + 1);
}

#[test]
fn exile_timeout_done_when_the_inbox_is_worked_off() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    let exit = pool.exile_timeout(Duration::from_secs(600)).unwrap();
    assert!(matches!(exit, Exit::Done), "{exit:?}");
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(threads.live(), 0);
    assert_eq!(sorted(pool.outbox.iter()), range(N));
}

#[test]
fn exile_timeout_timed_out_hands_back_and_leaves_the_running_job() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    hold.wait_started(1);
    for i in 1..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }

    // The only worker is held, so the deadline must pass.
    let exit = pool.exile_timeout(Duration::from_millis(5)).unwrap();
    let unrun = match exit {
        Exit::TimedOut { unrun, running } => {
            assert_eq!(running, 1);
            unrun
        }
        Exit::Done => panic!("the held job cannot have finished"),
    };
    assert_eq!(unrun.len(), N - 1);
    assert!(pool.is_exiled());
    assert_eq!(threads.live(), 1, "the running worker goes on");
    assert!(pool.inbox.put(|| 0).is_err(), "the inbox must be closed");

    drop(unrun);
    assert_eq!(ledger.drops(), N - 1);
    hold.release();
    pool.exile().unwrap();
    assert_eq!(threads.live(), 0);
    assert_eq!(ledger.runs(), 1);
    assert_eq!(ledger.drops(), N);
    assert_eq!(pool.outbox.iter().collect::<Vec<_>>(), vec![0]);
}

/// Once the workers still running at a timed-out exile have left, the
/// waiting reads end, with no later exile: the pool let go of its own
/// senders when time ran out.
#[test]
fn the_boxes_close_when_the_workers_left_running_by_a_timed_out_exile_are_done() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder().workers(1).build().unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    hold.wait_started(1);
    let exit = pool.exile_timeout(Duration::ZERO).unwrap();
    assert!(
        matches!(exit, Exit::TimedOut { running: 1, .. }),
        "{exit:?}"
    );
    hold.release();
    assert_eq!(pool.outbox.get_timeout(GUARD), Ok(0));
    assert_eq!(pool.outbox.get_timeout(GUARD), Err(GetTimeoutError::Exiled));
    assert_eq!(pool.errbox.iter().count(), 0);
    assert_eq!(ledger.runs(), 1);
}

#[test]
fn drop_runs_the_queued_jobs_and_joins_the_workers() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .paused()
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    let outbox = pool.outbox.clone();
    drop(pool);
    assert_eq!(threads.live(), 0);
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    // The reads end: every sender went with the pool.
    assert_eq!(sorted(outbox.iter()), range(N));
}

#[test]
fn exiling_twice_and_every_later_exile_path_do_nothing() {
    let ledger = Ledger::new();
    let pool = WorkerPool::new(2).unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    pool.exile().unwrap();
    let before = pool.metrics();
    pool.exile().unwrap();
    assert!(pool.exile_now().unwrap().is_empty());
    assert!(matches!(
        pool.exile_timeout(Duration::from_secs(1)).unwrap(),
        Exit::Done
    ));
    pool.wait_idle().unwrap();
    pool.pause();
    pool.resume();
    assert_eq!(pool.banish(1), 0);
    assert!(pool.summon(1).is_err());
    assert_eq!(pool.poolsize(), 0);
    assert_eq!(pool.metrics(), before);
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(pool.outbox.len(), N);
}

#[test]
fn put_after_exile_hands_the_job_back() {
    let ledger = Ledger::new();
    let pool = WorkerPool::new(1).unwrap();
    pool.exile().unwrap();
    assert!(pool.inbox.is_closed());

    let back = pool.inbox.put(ledger.job(1)).unwrap_err().into_inner();
    assert_eq!(back.run(&mut ()).unwrap(), 1);
    let err = pool.inbox.try_put(ledger.job(2)).unwrap_err();
    assert!(err.is_closed());
    assert_eq!(err.into_inner().run(&mut ()).unwrap(), 2);
    let err = pool
        .inbox
        .put_timeout(ledger.job(3), Duration::from_secs(1))
        .unwrap_err();
    assert!(err.is_closed());
    drop(err);

    assert_eq!(ledger.runs(), 2, "the pool ran a job put after exile");
    assert_eq!(ledger.drops(), 3);
    assert!(pool.outbox.is_empty());
    assert_eq!(pool.metrics().completed, 0);
}

#[test]
fn a_put_blocked_on_a_full_inbox_gets_its_job_back_at_exile() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .capacity(1)
        .paused()
        .build()
        .unwrap();
    pool.inbox.put(ledger.job(0)).unwrap();
    let refused = std::thread::scope(|s| {
        let putter = s.spawn(|| pool.inbox.put(ledger.job(1)));
        let unrun = pool.exile_now().unwrap();
        assert_eq!(unrun.len(), 1);
        putter.join().unwrap()
    });
    assert!(refused.is_err(), "a put into an exiled pool was accepted");
    drop(refused);
    assert_eq!(ledger.runs(), 0);
    assert_eq!(ledger.drops(), 2);
}

/// `put_all` on a bounded inbox reads its iterator as room frees, never
/// more than `capacity` jobs ahead of the inbox; an exile while it waits
/// hands back the part in hand and leaves the rest of the iterator unread.
#[test]
fn put_all_on_a_bounded_inbox_reads_its_iterator_as_room_frees() {
    const CAP: usize = 4;
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .capacity(CAP)
        .paused()
        .build()
        .unwrap();
    // The most jobs read from the iterator and not yet queued.
    let ahead = AtomicUsize::new(0);
    let (read_tx, read_rx) = crossbeam_channel::unbounded();
    let mut input = (0..).map(|i| {
        // Paused: nothing leaves the inbox until the exile, which comes
        // after the last read the test waits for.
        ahead.fetch_max(i + 1 - pool.inbox.len(), SeqCst);
        read_tx.send(i).unwrap();
        ledger.job(i)
    });
    let (refused, unrun) = std::thread::scope(|s| {
        let putter = s.spawn(|| pool.inbox.put_all(input.by_ref()));
        // Two parts read: the first queued, the second waiting for room.
        for i in 0..2 * CAP {
            assert_eq!(read_rx.recv().unwrap(), i);
        }
        let unrun = pool.exile_now().unwrap();
        (putter.join().unwrap(), unrun)
    });
    assert_eq!(ahead.load(SeqCst), CAP, "read more than capacity ahead");
    let refused = refused.unwrap_err().into_inner();
    assert!(read_rx.try_recv().is_err(), "read on after the exile");
    let ran = |jobs: Vec<_>| -> Vec<usize> {
        jobs.into_iter()
            .map(|job: worklight::Job<'_, usize>| job.run(&mut ()).unwrap())
            .collect()
    };
    assert_eq!(ran(unrun), range(CAP));
    assert_eq!(ran(refused), (CAP..2 * CAP).collect::<Vec<_>>());
    assert_eq!(
        input.next().map(|job| job()),
        Some(2 * CAP),
        "the rest is left"
    );
    assert_eq!(ledger.runs(), 2 * CAP + 1);
    assert_eq!(ledger.drops(), 2 * CAP + 1);
    // No jobs at all on the closed inbox: still told it is closed.
    let none: Vec<worklight::Job<'static, usize>> = Vec::new();
    assert!(pool.inbox.put_all(none).is_err());
}

#[test]
fn wait_idle_waits_for_every_result_without_shutting_down() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder().workers(2).build().unwrap();
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    for i in 1..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    hold.wait_started(1);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            pool.wait_idle().unwrap();
            // Every job finished and its result landed.
            pool.outbox.len()
        });
        hold.release();
        assert_eq!(waiter.join().unwrap(), N);
    });
    assert_eq!(ledger.runs(), N);
    assert!(!pool.is_exiled());
    assert_eq!(pool.poolsize(), 2);

    // The pool keeps working after a wait.
    pool.inbox.put(ledger.job(N)).unwrap();
    pool.wait_idle().unwrap();
    assert_eq!(pool.outbox.len(), N + 1);
    assert_eq!(ledger.runs(), N + 1);
}

#[test]
fn exile_from_the_pools_own_job_is_refused_and_the_pool_goes_on() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = Arc::new(
        WorkerPool::builder()
            .workers(2)
            .on_worker_start(threads.on_start())
            .on_worker_stop(threads.on_stop())
            .build()
            .unwrap(),
    );
    let inner = Arc::clone(&pool);
    pool.inbox
        .put(move || {
            [
                matches!(inner.exile(), Err(ExileError::FromOwnWorker)),
                matches!(inner.exile_now(), Err(ExileError::FromOwnWorker)),
                matches!(
                    inner.exile_timeout(Duration::from_secs(1)),
                    Err(ExileError::FromOwnWorker)
                ),
                inner.wait_idle() == Err(WaitError::FromOwnWorker),
                !inner.is_exiled(),
            ]
        })
        .unwrap();
    assert_eq!(pool.outbox.get(), Ok([true; 5]));
    assert!(!pool.is_exiled());
    assert_eq!(pool.poolsize(), 2);
    for i in 0..N {
        let job = ledger.job(i);
        pool.inbox.put(move || [job() < N; 5]).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(pool.outbox.iter().filter(|r| *r == [true; 5]).count(), N);
    assert_eq!(ledger.runs(), N);
    assert_eq!(threads.live(), 0);
}

#[test]
fn dropping_the_last_handle_inside_a_job_still_works_the_inbox_off() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = Arc::new(
        WorkerPool::builder()
            .workers(1)
            .on_worker_start(threads.on_start())
            .on_worker_stop(threads.on_stop())
            .build()
            .unwrap(),
    );
    let handle = Arc::clone(&pool);
    let hold = Hold::new();
    let held = hold.job(&ledger, 0);
    pool.inbox
        .put(move || {
            let i = held();
            drop(handle); // the last handle: the pool is dropped here
            i
        })
        .unwrap();
    for i in 1..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    let outbox = pool.outbox.clone();
    hold.wait_started(1);
    drop(pool);
    hold.release();
    // Ends once the worker has worked the inbox off and left.
    assert_eq!(sorted(outbox.iter()), range(N));
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
}

#[test]
fn exile_of_a_paused_pool_runs_its_queued_jobs() {
    let ledger = Ledger::new();
    let pool = WorkerPool::builder().workers(2).build().unwrap();
    pool.pause();
    assert!(pool.is_paused());
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(sorted(pool.outbox.try_iter()), range(N));
}

#[test]
fn exile_now_of_a_paused_pool_hands_back_every_job() {
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .paused()
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    let unrun = pool.exile_now().unwrap();
    assert_eq!(threads.live(), 0);
    assert_eq!(ledger.runs(), 0);
    assert_eq!(unrun.len(), N);
    drop(unrun);
    assert_eq!(ledger.drops(), N);
    assert_eq!(pool.metrics().handed_back, N as u64);
}

#[test]
fn banish_every_worker_then_exile_still_runs_the_queued_jobs() {
    let ledger = Ledger::new();
    let (threads, stops) = Threads::with_stops();
    let pool = WorkerPool::builder()
        .workers(2)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    assert_eq!(pool.banish(5), 2);
    assert_eq!(pool.poolsize(), 0);
    // Wait until both banished workers have really left.
    stops.recv().unwrap();
    stops.recv().unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    assert_eq!(pool.inbox.len(), N, "nobody may run them yet");

    pool.exile().unwrap();

    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(sorted(pool.outbox.try_iter()), range(N));
    assert_eq!(threads.live(), 0);
    assert_eq!(threads.started(), 3, "one helper worker for the exile");
    let m = pool.metrics();
    assert_eq!((m.spawned, m.retired, m.completed), (3, 2, N as u64));
}

#[test]
fn exile_hands_back_the_jobs_when_its_helper_worker_cannot_set_up() {
    let ledger = Ledger::new();
    let (threads, stops) = Threads::with_stops();
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(|w| {
            if w.index() < 2 {
                Ok(())
            } else {
                Err("no third connection")
            }
        })
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    assert_eq!(pool.banish(2), 2);
    stops.recv().unwrap();
    stops.recv().unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    let unrun = match pool.exile() {
        Err(ExileError::Stranded { unrun }) => unrun,
        other => panic!("expected the jobs back, got {other:?}"),
    };
    assert_eq!(ledger.runs(), 0);
    assert_eq!(unrun.len(), N);
    assert_eq!(threads.live(), 0);
    assert_eq!(pool.metrics().setup_failures, 1);
    let rerun: Vec<usize> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
    assert_eq!(sorted(rerun), range(N));
    assert_eq!(ledger.drops(), N);
}

/// Data that is not `Debug`: the exile results of its pool can still be
/// unwrapped, and their `Debug` output counts the jobs handed back.
struct Opaque(u32);

struct Double;

impl worklight::Handler<Opaque> for Double {
    type Output = u32;
    type Error = std::convert::Infallible;
    fn handle(&mut self, item: Opaque) -> Result<u32, Self::Error> {
        Ok(2 * item.0)
    }
}

#[test]
fn exile_results_of_a_pool_of_data_that_is_not_debug_unwrap_and_count_their_jobs() {
    let pool = worklight::HandlerPool::builder(|_| Double)
        .workers(1)
        .paused()
        .build()
        .unwrap();
    pool.inbox.put(Opaque(1)).unwrap();
    pool.inbox.put(Opaque(2)).unwrap();
    let exit = pool.exile_timeout(Duration::ZERO).unwrap();
    let shown = format!("{exit:?}");
    let unrun = match exit {
        Exit::TimedOut { unrun, .. } => unrun,
        Exit::Done => Vec::new(),
    };
    let counted = match unrun.len() {
        1 => "[1 job]".to_string(),
        n => format!("[{n} jobs]"),
    };
    assert!(
        shown == "Done" || shown.starts_with(&format!("TimedOut {{ unrun: {counted}, running: ")),
        "{shown}"
    );
    pool.exile().unwrap();
    // Each job ran (its result on the outbox) or came back, once.
    let ran: u32 = pool.outbox.try_iter().sum();
    let back: u32 = unrun.iter().map(|o| 2 * o.0).sum();
    assert_eq!(ran + back, 6);
    let stranded: ExileError<Opaque> = ExileError::Stranded {
        unrun: vec![Opaque(3)],
    };
    assert_eq!(format!("{stranded:?}"), "Stranded { unrun: [1 job] }");
}

/// The last handle dropped by the pool's own worker on its way out (here in
/// its stop hook, after a banish left the pool with no worker): the drop
/// cannot wait for the exile, but the queued jobs are still run, by a
/// worker it starts for them.
#[test]
fn dropping_the_last_handle_from_a_leaving_worker_still_runs_the_queue() {
    type Slot = Mutex<Option<Arc<WorkerPool<()>>>>;
    let slot: Arc<Slot> = Arc::default();
    let (dropped_tx, dropped) = crossbeam_channel::bounded::<()>(1);
    let hook_slot = Arc::clone(&slot);
    let pool = Arc::new(
        WorkerPool::<()>::builder()
            .workers(1)
            .paused()
            .on_worker_stop(move |_| {
                if let Some(last) = hook_slot.lock().unwrap().take() {
                    dropped.recv().unwrap(); // the caller let go of its own
                    drop(last);
                }
            })
            .build()
            .unwrap(),
    );
    let (ran_tx, ran) = crossbeam_channel::unbounded();
    for i in 0..3 {
        let ran_tx = ran_tx.clone();
        pool.inbox.put(move || ran_tx.send(i).unwrap()).unwrap();
    }
    *slot.lock().unwrap() = Some(Arc::clone(&pool));
    assert_eq!(pool.banish(1), 1);
    drop(pool);
    dropped_tx.send(()).unwrap();
    let mut seen: Vec<i32> = (0..3)
        .map(|_| ran.recv_timeout(GUARD).expect("a queued job was not run"))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2]);
}
