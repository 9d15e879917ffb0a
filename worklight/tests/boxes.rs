//! The boxes: the pool's own outbox and errbox and every way to read them;
//! caller-supplied outboxes and errboxes; an inbox shared by several pools
//! and fed by other threads.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::gate::{GUARD, Gate};
use common::{Hold, Ledger, sorted};
use worklight::{
    Exiled, Exit, GetTimeoutError, Inbox, Job, JobError, Sink, TryGetError, WorkerPool, callback,
    iterqueue,
};

const N: usize = 30;

fn range(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// Half the jobs fail: even `i` returns `i`, odd `i` fails with `i` as message.
fn mixed(i: usize) -> Job<'static, usize> {
    Job::fallible(move || {
        if i % 2 == 0 {
            Ok(i)
        } else {
            Err(i.to_string())
        }
    })
    .label(format!("job {i}"))
}

#[test]
fn outbox_read_methods_before_and_after_exile() {
    let pool = WorkerPool::new(2).unwrap();
    assert_eq!(pool.outbox.try_get(), Err(TryGetError::Empty));
    assert_eq!(
        pool.outbox.get_timeout(Duration::from_millis(1)),
        Err(GetTimeoutError::Timeout)
    );
    assert!(pool.outbox.is_empty());

    pool.inbox.put(|| 7).unwrap();
    assert_eq!(pool.outbox.get(), Ok(7));
    pool.inbox.put(|| 8).unwrap();
    assert_eq!(pool.outbox.get_timeout(Duration::from_secs(600)), Ok(8));

    for i in 0..N {
        pool.inbox.put(move || i).unwrap();
    }
    pool.wait_idle().unwrap();
    assert_eq!(pool.outbox.len(), N);
    assert!(!pool.outbox.is_empty());
    let first = pool.outbox.try_get().unwrap();
    let mut rest: Vec<usize> = pool.outbox.try_iter().collect();
    rest.push(first);
    assert_eq!(sorted(rest), range(N));
    assert_eq!(pool.outbox.try_get(), Err(TryGetError::Empty));

    pool.exile().unwrap();
    assert_eq!(pool.outbox.get(), Err(Exiled));
    assert_eq!(pool.outbox.try_get(), Err(TryGetError::Exiled));
    assert_eq!(
        pool.outbox.get_timeout(Duration::from_secs(600)),
        Err(GetTimeoutError::Exiled)
    );
    assert_eq!(pool.outbox.iter().count(), 0);
}

#[test]
fn errbox_read_methods_and_what_a_failure_says() {
    let pool = WorkerPool::new(2).unwrap();
    let mut failed_ids = Vec::new();
    for i in 0..N {
        let id = pool.inbox.put(mixed(i)).unwrap();
        if i % 2 == 1 {
            failed_ids.push(id);
        }
    }
    pool.wait_idle().unwrap();
    assert_eq!(pool.errbox.len(), N / 2);
    assert_eq!(pool.outbox.len(), N / 2);

    let first = pool.errbox.get().unwrap();
    let second = pool.errbox.get_timeout(Duration::from_secs(600)).unwrap();
    let third = pool.errbox.try_get().unwrap();
    let mut failures = vec![first, second, third];
    failures.extend(pool.errbox.try_iter());
    assert!(pool.errbox.is_empty());
    failures.sort_by_key(JobError::id);
    assert_eq!(
        failures.iter().map(JobError::id).collect::<Vec<_>>(),
        failed_ids
    );
    for f in &failures {
        let msg = f.error().expect("an error, not a panic").to_string();
        assert_eq!(f.label(), Some(format!("job {msg}").as_str()));
        assert!(f.panic().is_none());
        assert!(f.to_string().contains(&format!("job {msg}")), "{f}");
    }
    assert_eq!(
        sorted(pool.outbox.try_iter()),
        (0..N).step_by(2).collect::<Vec<_>>()
    );

    pool.exile().unwrap();
    assert!(matches!(pool.errbox.get(), Err(Exiled)));
    assert!(matches!(pool.errbox.try_get(), Err(TryGetError::Exiled)));
    let m = pool.metrics();
    assert_eq!((m.completed, m.failed), ((N / 2) as u64, (N / 2) as u64));
}

#[test]
fn try_iter_takes_what_is_there_now_and_iter_waits_for_the_exile() {
    let ledger = Ledger::new();
    let pool = WorkerPool::new(1).unwrap();
    for i in 0..3 {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    pool.wait_idle().unwrap();
    // The only worker is now held: no result can come until the release.
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 3)).unwrap();
    hold.wait_started(1);

    // Returns at once, with the three results that exist.
    assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(iterqueue(&pool.outbox).count(), 0);

    let (first_tx, first_rx) = crossbeam_channel::bounded(1);
    let outbox = &pool.outbox;
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut got = Vec::new();
            for x in outbox.iter() {
                got.push(x);
                if got.len() == 1 {
                    first_tx.send(()).unwrap();
                }
            }
            got
        });
        hold.release();
        // A reader that did not wait would end before it saw result 3, or
        // right after it, before the later jobs are even put.
        first_rx.recv().expect("the reader ended without a result");
        for i in 4..N {
            pool.inbox.put(ledger.job(i)).unwrap();
        }
        pool.exile().unwrap();
        // `iter` ended only after the exile and saw every later result.
        assert_eq!(sorted(reader.join().unwrap()), (3..N).collect::<Vec<_>>());
    });
    assert_eq!(ledger.runs(), N);
}

#[test]
fn a_reader_thread_iterating_a_clone_sees_every_result_once() {
    let pool = WorkerPool::new(2).unwrap();
    let outbox = pool.outbox.clone();
    let other = pool.outbox.clone();
    let reader = std::thread::spawn(move || outbox.into_iter().collect::<Vec<usize>>());
    let other_reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        for x in other {
            got.push(x);
        }
        got
    });
    let inbox = pool.inbox.clone();
    let feeder = std::thread::spawn(move || {
        for i in 0..N {
            inbox.put(move || i).unwrap();
        }
    });
    feeder.join().unwrap();
    pool.exile().unwrap();
    let mut all = reader.join().unwrap();
    all.extend(other_reader.join().unwrap());
    assert_eq!(sorted(all), range(N), "each result goes to one reader");
}

#[test]
fn crossbeam_senders_as_outbox_and_errbox() {
    let (out_tx, out_rx) = crossbeam_channel::unbounded();
    let (err_tx, err_rx) = crossbeam_channel::unbounded();
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(out_tx)
        .errbox(err_tx)
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(mixed(i)).unwrap();
    }
    pool.exile().unwrap();
    assert!(pool.outbox.is_empty() && pool.errbox.is_empty());
    // The pool dropped its senders: the channels end.
    assert_eq!(sorted(out_rx.iter()), (0..N).step_by(2).collect::<Vec<_>>());
    let msgs: Vec<usize> = sorted(
        err_rx
            .iter()
            .map(|e| e.error().unwrap().to_string().parse().unwrap()),
    );
    assert_eq!(msgs, (1..N).step_by(2).collect::<Vec<_>>());
}

#[test]
fn std_sender_outbox_and_rendezvous_sync_sender_errbox() {
    let (out_tx, out_rx) = mpsc::channel();
    // A rendezvous channel: every failure waits for the reader.
    let (err_tx, err_rx) = mpsc::sync_channel::<JobError>(0);
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(out_tx)
        .errbox(err_tx)
        .build()
        .unwrap();
    let reader = std::thread::spawn(move || err_rx.iter().map(|e| e.id()).collect::<Vec<_>>());
    let mut failed = Vec::new();
    for i in 0..N {
        let id = pool.inbox.put(mixed(i)).unwrap();
        if i % 2 == 1 {
            failed.push(id);
        }
    }
    pool.exile().unwrap();
    assert_eq!(sorted(reader.join().unwrap()), failed);
    assert_eq!(sorted(out_rx.iter()), (0..N).step_by(2).collect::<Vec<_>>());
}

#[test]
fn sync_sender_outbox_delivers_through_a_bounded_channel() {
    let (tx, rx) = mpsc::sync_channel(1);
    let pool = WorkerPool::builder().workers(2).outbox(tx).build().unwrap();
    let reader = std::thread::spawn(move || rx.iter().collect::<Vec<usize>>());
    for i in 0..N {
        pool.inbox.put(move || i).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(sorted(reader.join().unwrap()), range(N));
    assert_eq!(pool.metrics().discarded, 0);
}

#[test]
fn callbacks_as_outbox_and_errbox_keep_nothing() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(AtomicUsize::new(0));
    let (r, f) = (Arc::clone(&results), Arc::clone(&failures));
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(callback(move |x: usize| r.lock().unwrap().push(x)))
        .errbox(callback(move |_: JobError| {
            f.fetch_add(1, SeqCst);
        }))
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(mixed(i)).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(
        sorted(results.lock().unwrap().drain(..)),
        (0..N).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(failures.load(SeqCst), N / 2);
    assert!(pool.outbox.is_empty() && pool.errbox.is_empty());
}

/// A sink of our own: keeps what it accepts, refuses multiples of 3.
#[derive(Default)]
struct Picky(Mutex<Vec<usize>>);

impl Sink<usize> for Picky {
    fn put(&self, item: usize) -> Result<(), usize> {
        if item % 3 == 0 {
            return Err(item);
        }
        self.0.lock().unwrap().push(item);
        Ok(())
    }
}

#[test]
fn a_custom_sink_gets_results_and_its_refusals_are_counted() {
    let sink = Arc::new(Picky::default());
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(Arc::clone(&sink))
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(move || i).unwrap();
    }
    pool.exile().unwrap();
    let kept = sorted(sink.0.lock().unwrap().drain(..));
    assert_eq!(kept, (0..N).filter(|i| i % 3 != 0).collect::<Vec<_>>());
    let m = pool.metrics();
    assert_eq!(m.discarded, (N / 3) as u64);
    assert_eq!(m.completed, N as u64);
}

/// A caller-supplied box whose `Drop` panics; it counts what it got.
struct DropsBadly(Arc<AtomicUsize>);

impl<T> Sink<T> for DropsBadly {
    fn put(&self, _item: T) -> Result<(), T> {
        self.0.fetch_add(1, SeqCst);
        Ok(())
    }
}

impl Drop for DropsBadly {
    fn drop(&mut self) {
        panic!("a box that drops badly");
    }
}

/// Boxes whose `Drop` panics harm nothing else, whichever thread drops
/// them last: the caller's, in an exile, or a worker's, the last to leave
/// after a timed-out exile. With both the outbox and the errbox panicking,
/// neither panic unwinds into the other's (which would abort). Each panic
/// is counted in `box_panics`; every worker still runs its teardown and
/// stop hook.
#[test]
fn a_box_whose_drop_panics_is_caught_on_any_thread() {
    for worker_drops_it in [false, true] {
        let got = Arc::new(AtomicUsize::new(0));
        let (teardowns, stops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (t, s) = (Arc::clone(&teardowns), Arc::clone(&stops));
        let pool = WorkerPool::builder()
            .workers(2)
            .worker_state(|_| ())
            .worker_teardown(move |(), _| _ = t.fetch_add(1, SeqCst))
            .on_worker_stop(move |_| _ = s.fetch_add(1, SeqCst))
            .outbox(DropsBadly(Arc::clone(&got)))
            .errbox(DropsBadly(Arc::clone(&got)))
            .build()
            .unwrap();
        pool.inbox.put(|| 1).unwrap();
        pool.wait_idle().unwrap();
        if worker_drops_it {
            let gate = Gate::new();
            pool.inbox.put(gate.hold(|| 2)).unwrap();
            gate.wait_started(1);
            let exit = pool.exile_timeout(Duration::ZERO).unwrap();
            assert!(matches!(exit, Exit::TimedOut { .. }));
            gate.open(); // the held worker, the last to leave, drops the box
        }
        pool.exile().unwrap();
        let m = pool.metrics();
        assert_eq!(got.load(SeqCst), 1 + usize::from(worker_drops_it));
        assert_eq!(m.box_panics, 2, "worker drops them: {worker_drops_it}");
        assert_eq!((teardowns.load(SeqCst), stops.load(SeqCst)), (2, 2));
    }
}

#[test]
fn a_dropped_outbox_reader_does_not_block_the_workers() {
    let ledger = Ledger::new();
    // Bounded channels whose reader is gone: a send must fail, not block.
    let (out_tx, out_rx) = crossbeam_channel::bounded::<usize>(1);
    let (err_tx, err_rx) = mpsc::sync_channel::<JobError>(1);
    drop(out_rx);
    drop(err_rx);
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(out_tx)
        .errbox(err_tx)
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(ledger.job(i)).unwrap();
        pool.inbox
            .put(Job::fallible(|| Err::<usize, _>("lost")))
            .unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), N);
    let m = pool.metrics();
    assert_eq!(m.discarded, 2 * N as u64);
    assert_eq!((m.completed, m.failed), (N as u64, N as u64));
}

#[test]
fn a_std_outbox_whose_reader_leaves_midway_discards_the_rest() {
    let ledger = Ledger::new();
    let (tx, rx) = mpsc::channel();
    let pool = WorkerPool::builder().workers(1).outbox(tx).build().unwrap();
    pool.inbox.put(|| usize::MAX).unwrap();
    assert_eq!(rx.recv(), Ok(usize::MAX));
    let hold = Hold::new();
    pool.inbox.put(hold.job(&ledger, 0)).unwrap();
    for i in 1..N {
        pool.inbox.put(ledger.job(i)).unwrap();
    }
    hold.wait_started(1);
    drop(rx);
    hold.release();
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), N);
    assert_eq!(pool.metrics().discarded, N as u64);
}

/// A pool of one worker fed by `shared`.
fn one_worker_on<T: Send + 'static>(shared: &Inbox<Job<'static, T>>) -> WorkerPool<T> {
    WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .build()
        .unwrap()
}

/// A pool fed by `shared` whose one worker was banished and has left.
fn workerless_on<T: Send + 'static>(shared: &Inbox<Job<'static, T>>) -> WorkerPool<T> {
    let (stop_tx, stops) = crossbeam_channel::unbounded();
    let pool = WorkerPool::builder()
        .workers(1)
        .inbox(shared.clone())
        .on_worker_stop(move |_| stop_tx.send(()).unwrap())
        .build()
        .unwrap();
    assert_eq!(pool.banish(1), 1);
    stops.recv_timeout(GUARD).expect("the worker did not leave");
    pool
}

#[test]
fn a_shared_inbox_is_worked_by_every_pool_fed_by_it_from_many_threads() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let ledger = Ledger::new();
    let a = one_worker_on(&shared);
    let b = one_worker_on(&shared);
    // Two held jobs: each pool's only worker must take one.
    let hold = Hold::new();
    shared.put(hold.job(&ledger, 0)).unwrap();
    a.inbox.put(hold.job(&ledger, 1)).unwrap();
    hold.wait_started(2);
    assert_eq!((a.metrics().busy, b.metrics().busy), (1, 1));

    let feeders: Vec<_> = (0..4)
        .map(|t| {
            let inbox = shared.clone();
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                for i in 0..N {
                    inbox.put(ledger.job(2 + t * N + i)).unwrap();
                }
            })
        })
        .collect();
    for f in feeders {
        f.join().unwrap();
    }
    hold.release();
    a.exile().unwrap();
    b.exile().unwrap();
    let all = sorted(a.outbox.try_iter().chain(b.outbox.try_iter()));
    assert_eq!(all, range(2 + 4 * N));
    assert_eq!(ledger.runs(), 2 + 4 * N);
    assert!(shared.is_closed());
}

/// A job of one pool that waits for another pool fed by the same inbox
/// would wait for itself (its own job counts as unfinished): refused, as
/// from the pool's own job.
#[test]
fn wait_idle_from_a_job_of_a_sibling_pool_on_the_inbox_is_refused() {
    let shared: Inbox<Job<'static, String>> = Inbox::new();
    let a = one_worker_on(&shared);
    let b = Arc::new(
        WorkerPool::builder()
            .workers(1)
            .paused() // so that the job runs on a's worker
            .inbox(shared.clone())
            .build()
            .unwrap(),
    );
    let b2 = Arc::clone(&b);
    shared.put(move || format!("{:?}", b2.wait_idle())).unwrap();
    match a.outbox.get_timeout(GUARD) {
        Ok(answer) => assert_eq!(answer, "Err(FromOwnWorker)"),
        Err(e) => {
            // The job waits for itself: leak the pools, whose exile would
            // wait for it too, to fail here.
            std::mem::forget((a, b));
            panic!("the job's wait_idle did not return: {e:?}");
        }
    }
    b.resume();
    a.exile().unwrap();
    b.exile().unwrap();
}

/// `wait_idle` on a pool with no worker left, whose inbox feeds another
/// pool that has one, waits for that pool to run the jobs: they are not
/// stranded.
#[test]
fn wait_idle_waits_for_a_sibling_pool_on_the_inbox_to_run_the_jobs() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = workerless_on(&shared);
    let b = one_worker_on(&shared);
    let gate = Gate::new();
    shared.put(gate.hold(|| 0)).unwrap();
    gate.wait_started(1);
    shared.put(|| 1).unwrap(); // queued, for b's worker once it is free
    thread::scope(|s| {
        s.spawn(|| gate.open());
        assert!(a.wait_idle().is_ok(), "a had no worker, but b has");
    });
    assert_eq!(sorted(b.outbox.try_iter()), [0, 1]);
    assert_eq!(a.poolsize(), 0);
    a.exile().unwrap();
    b.exile().unwrap();
}

/// A pool already exiled at once exiled again, while another pool fed by
/// the same inbox drains it, leaves that pool's queue alone: every job
/// runs once.
#[test]
fn exiling_an_exiled_pool_again_leaves_a_sibling_pools_drain_alone() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = one_worker_on(&shared);
    let b = one_worker_on(&shared);
    assert!(a.exile_now().unwrap().is_empty(), "b still feeds on it");
    let gate = Gate::new();
    shared.put(gate.hold(|| 0)).unwrap();
    gate.wait_started(1); // b's worker holds it; the next five stay queued
    for i in 1..=5 {
        shared.put(move || i).unwrap();
    }
    thread::scope(|s| {
        let draining = s.spawn(|| b.exile());
        while !shared.is_closed() {
            thread::yield_now();
        }
        // b's exile has begun and closed the inbox: a's exiles come after.
        a.exile().unwrap();
        assert!(matches!(a.exile_timeout(GUARD).unwrap(), Exit::Done));
        assert!(a.exile_now().unwrap().is_empty(), "b's jobs are b's to run");
        gate.open();
        draining.join().unwrap().unwrap();
    });
    assert_eq!(sorted(b.outbox.try_iter()), range(6));
    assert_eq!(a.metrics().handed_back + b.metrics().handed_back, 0);
}

/// A pool exiled at once whose worker is still finishing a job takes no
/// more jobs: when the last pool on a shared inbox finds jobs its own
/// workers could not run (its helper's setup failed), it hands them back,
/// as if no worker were left, instead of leaving them on the closed inbox.
#[test]
fn jobs_stranded_beside_a_pool_exiled_at_once_are_handed_back() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = one_worker_on(&shared);
    let setups = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&setups);
    let (stop_tx, stops) = crossbeam_channel::unbounded();
    let b = WorkerPool::builder()
        .workers(1)
        .worker_setup(move |_| match counted.fetch_add(1, SeqCst) {
            0 => Ok(()),
            _ => Err("no database"),
        })
        .inbox(shared.clone())
        .on_worker_stop(move |_| stop_tx.send(()).unwrap())
        .build()
        .unwrap();
    assert_eq!(b.banish(1), 1);
    stops.recv_timeout(GUARD).expect("b's worker did not leave");
    let gate = Gate::new();
    shared.put(gate.hold(|| 0)).unwrap();
    gate.wait_started(1); // a's worker holds it
    let exit = a.exile_timeout(Duration::ZERO).unwrap();
    assert!(
        matches!(exit, Exit::TimedOut { running: 1, .. }),
        "{exit:?}"
    );
    shared.put(|| 1).unwrap(); // b still feeds on the inbox
    shared.put(|| 2).unwrap();
    let unrun = match b.exile() {
        Err(worklight::ExileError::Stranded { unrun }) => unrun,
        other => {
            gate.open();
            panic!("expected b's jobs handed back: {other:?}");
        }
    };
    let rerun: Vec<usize> = unrun.into_iter().map(|j| j.run(&mut ()).unwrap()).collect();
    assert_eq!(rerun, [1, 2]);
    gate.open();
    a.exile().unwrap();
    assert_eq!(a.outbox.iter().collect::<Vec<_>>(), [0]);
}

/// The last pool on a shared inbox, with no worker of its own, starts a
/// helper at its exile for jobs still in the batch of a sibling pool's
/// worker, which an immediate exile stopped from taking more: they run,
/// rather than come back as if every setup had failed.
#[test]
fn an_exile_runs_jobs_left_in_the_batch_of_a_sibling_exiled_at_once() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = one_worker_on(&shared);
    let b = workerless_on(&shared);
    let gate = Gate::new();
    let ledger = Ledger::new();
    let mut jobs = vec![Job::new(gate.hold(|| 0))];
    jobs.extend((1..16).map(|i| Job::new(ledger.job(i))));
    shared.put_all(jobs).unwrap();
    gate.wait_started(1); // a's worker holds job 0, 1..16 in its batch
    thread::scope(|s| {
        let exiling = s.spawn(|| a.exile_now());
        while !a.is_exiled() {
            thread::yield_now();
        }
        let exiled = b.exile();
        gate.open();
        assert!(exiled.is_ok(), "{exiled:?}");
        let unrun = exiling.join().unwrap().unwrap();
        assert!(unrun.is_empty(), "a is not the last pool on the inbox");
    });
    assert_eq!(ledger.runs(), 15);
    assert_eq!(sorted(b.outbox.iter()), (1..16).collect::<Vec<_>>());
    assert_eq!(a.outbox.iter().collect::<Vec<_>>(), [0]);
}

/// `wait_idle` on a pool already exiled says `NoWorkers` as soon as no
/// pool fed by its inbox has a worker for the jobs queued there, rather
/// than wait for a sibling pool that has none.
#[test]
fn wait_idle_on_an_exiled_pool_reports_a_sibling_without_workers() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = workerless_on(&shared);
    let b = Arc::new(one_worker_on(&shared));
    assert!(
        b.exile_now().unwrap().is_empty(),
        "a still feeds on the inbox"
    );
    shared.put(|| 1).unwrap();
    let (tx, waited) = crossbeam_channel::bounded(1);
    let b2 = Arc::clone(&b);
    std::thread::spawn(move || tx.send(format!("{:?}", b2.wait_idle())).unwrap());
    let answer = waited.recv_timeout(GUARD);
    if answer.is_err() {
        a.summon(1).unwrap(); // let the waiting thread go
    }
    assert_eq!(answer.as_deref(), Ok("Err(NoWorkers)"));
    a.exile().unwrap();
    assert_eq!(a.outbox.iter().collect::<Vec<_>>(), [1]);
}

#[test]
fn a_shared_inbox_stays_open_until_its_last_pool_is_exiled() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let a = WorkerPool::builder()
        .workers(1)
        .paused()
        .inbox(shared.clone())
        .build()
        .unwrap();
    let b = WorkerPool::builder()
        .workers(1)
        .paused()
        .inbox(shared.clone())
        .build()
        .unwrap();
    for i in 0..N {
        shared.put(move || i).unwrap();
    }
    // With another pool still fed by the inbox, its jobs stay for that pool.
    assert!(a.exile_now().unwrap().is_empty());
    assert!(!shared.is_closed());
    assert_eq!(shared.len(), N);
    a.inbox.put(move || N).unwrap();

    b.resume();
    b.wait_idle().unwrap();
    assert!(a.outbox.is_empty());
    assert_eq!(sorted(b.outbox.try_iter()), range(N + 1));

    b.exile().unwrap();
    assert!(shared.is_closed());
    let back = shared.put(|| 0).unwrap_err().into_inner();
    assert_eq!(back.run(&mut ()).unwrap(), 0);
}
