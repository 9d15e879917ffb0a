//! Panics: in a job (a report on the errbox, the worker lives on), in a
//! caller-supplied outbox or errbox, in teardown, and in the closure of a
//! scoped pool (which is still exiled before the panic goes on).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind, panic_any, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use common::{Ledger, Threads, sorted};
use worklight::{Cause, Job, JobError, Sink, WorkerPool, callback};

const N: usize = 20;

#[derive(Debug, PartialEq)]
struct Custom(u32);

#[test]
fn a_panicking_job_is_reported_whole_and_the_worker_lives_on() {
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    let a = pool
        .inbox
        .put(Job::new(|| panic!("code {}", std::hint::black_box(7))).label("formatted"))
        .unwrap();
    let b = pool
        .inbox
        .put(Job::new(|| panic!("plain")).label("static"))
        .unwrap();
    let c = pool
        .inbox
        .put(Job::new(|| panic_any(Custom(42))).label(String::from("custom")))
        .unwrap();
    let d = pool.inbox.put(|| -> u8 { panic!() }).unwrap();
    // The same worker goes on to run the next job.
    pool.inbox.put(|| 5u8).unwrap();
    assert_eq!(pool.outbox.get(), Ok(5));

    let reports: Vec<JobError> = pool.errbox.try_iter().collect();
    assert_eq!(reports.len(), 4);
    let ids: Vec<_> = reports.iter().map(JobError::id).collect();
    assert_eq!(ids, vec![a, b, c, d], "one worker reports in order");
    let labels: Vec<_> = reports.iter().map(JobError::label).collect();
    assert_eq!(
        labels,
        vec![Some("formatted"), Some("static"), Some("custom"), None]
    );
    for r in &reports {
        assert!(matches!(r.cause(), Cause::Panic(_)), "{r:?}");
        assert!(r.error().is_none());
    }
    let p: Vec<_> = reports.iter().map(|r| r.panic().unwrap()).collect();
    assert_eq!(p[0].message(), "code 7");
    assert_eq!(p[0].payload().downcast_ref::<String>().unwrap(), "code 7");
    assert_eq!(p[1].message(), "plain");
    assert_eq!(p[1].payload().downcast_ref::<&str>(), Some(&"plain"));
    assert_eq!(p[2].payload().downcast_ref::<Custom>(), Some(&Custom(42)));
    assert!(!p[2].message().is_empty());
    let shown = reports[0].to_string();
    assert!(
        shown.contains("formatted") && shown.contains("code 7"),
        "{shown}"
    );

    // The payload can be raised again, unchanged.
    let mut reports = reports;
    let payload = reports.remove(2).into_panic().unwrap().into_payload();
    let again = catch_unwind(AssertUnwindSafe(|| resume_unwind(payload))).unwrap_err();
    assert_eq!(again.downcast_ref::<Custom>(), Some(&Custom(42)));

    let m = pool.metrics();
    assert_eq!((m.panicked, m.completed, m.spawned), (4, 1, 1));
    assert_eq!(pool.poolsize(), 1);
    assert_eq!(threads.started(), 1, "no worker died and was replaced");
    pool.exile().unwrap();
    assert_eq!(threads.live(), 0);
}

#[test]
fn every_panic_among_many_is_reported_once() {
    let ledger = Ledger::new();
    let pool = WorkerPool::new(2).unwrap();
    let mut panicked = Vec::new();
    for i in 0..N {
        let job = ledger.job(i);
        let id = pool
            .inbox
            .put(move || {
                let i = job();
                assert!(i % 3 != 0, "job {i} fails");
                i
            })
            .unwrap();
        if i % 3 == 0 {
            panicked.push(id);
        }
    }
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N, "a panicking job's captures are dropped");
    let reports: Vec<JobError> = pool.errbox.iter().collect();
    assert_eq!(sorted(reports.iter().map(JobError::id)), panicked);
    assert!(
        reports
            .iter()
            .all(|r| r.panic().unwrap().message().ends_with("fails"))
    );
    assert_eq!(
        sorted(pool.outbox.iter()),
        (0..N).filter(|i| i % 3 != 0).collect::<Vec<_>>()
    );
}

#[test]
fn a_worker_keeps_its_state_after_a_job_that_panicked() {
    let torn_down = Arc::new(Mutex::new(Vec::new()));
    let t = Arc::clone(&torn_down);
    let pool = WorkerPool::builder()
        .workers(1)
        .worker_setup(|_| Ok::<_, std::io::Error>(Vec::<u32>::new()))
        .worker_teardown(move |state: Vec<u32>, _| t.lock().unwrap().push(state))
        .build()
        .unwrap();
    pool.inbox
        .put(Job::stateful(|v: &mut Vec<u32>| v.push(1)))
        .unwrap();
    pool.inbox
        .put(Job::stateful(|v: &mut Vec<u32>| {
            v.push(2);
            panic!("after pushing 2")
        }))
        .unwrap();
    pool.inbox
        .put(Job::stateful(|v: &mut Vec<u32>| v.push(3)))
        .unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.errbox.len(), 1);
    assert_eq!(*torn_down.lock().unwrap(), vec![vec![1, 2, 3]]);
}

/// An outbox that panics on multiples of 5 and keeps the rest.
#[derive(Default)]
struct Fragile(Mutex<Vec<usize>>);

impl Sink<usize> for Fragile {
    fn put(&self, item: usize) -> Result<(), usize> {
        assert!(item % 5 != 0, "outbox refuses {item}");
        self.0.lock().unwrap().push(item);
        Ok(())
    }
}

#[test]
fn a_panic_in_a_caller_outbox_becomes_an_outbox_panic_on_the_errbox() {
    let sink = Arc::new(Fragile::default());
    let pool = WorkerPool::builder()
        .workers(2)
        .outbox(Arc::clone(&sink))
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..N {
        let id = pool
            .inbox
            .put(Job::new(move || i).label(format!("#{i}")))
            .unwrap();
        if i % 5 == 0 {
            ids.push((id, i));
        }
    }
    pool.exile().unwrap();
    let mut reports: Vec<JobError> = pool.errbox.try_iter().collect();
    reports.sort_by_key(JobError::id);
    assert_eq!(reports.len(), ids.len());
    for (r, (id, i)) in reports.iter().zip(&ids) {
        assert_eq!(r.id(), *id);
        assert_eq!(r.label(), Some(format!("#{i}").as_str()));
        match r.cause() {
            Cause::OutboxPanic(p) => assert_eq!(p.message(), format!("outbox refuses {i}")),
            other => panic!("expected an outbox panic, got {other:?}"),
        }
        assert!(r.to_string().contains("outbox"), "{r}");
    }
    assert_eq!(
        sorted(sink.0.lock().unwrap().drain(..)),
        (0..N).filter(|i| i % 5 != 0).collect::<Vec<_>>()
    );
    let m = pool.metrics();
    assert_eq!(m.panicked, 0, "the jobs themselves did not panic");
    assert_eq!(m.box_panics, ids.len() as u64);
}

#[test]
fn a_panic_in_a_caller_errbox_is_counted_and_harms_nothing() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .errbox(callback(move |e: JobError| {
            s.fetch_add(1, SeqCst);
            panic!("errbox broke on {}", e.id())
        }))
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox
            .put(Job::fallible(
                move || if i % 2 == 0 { Ok(i) } else { Err("odd") },
            ))
            .unwrap();
    }
    pool.inbox.put(|| -> usize { panic!("job panic") }).unwrap();
    pool.exile().unwrap();
    let failures = N / 2 + 1;
    assert_eq!(seen.load(SeqCst), failures);
    let m = pool.metrics();
    assert_eq!(m.box_panics, failures as u64);
    assert_eq!((m.failed, m.panicked), ((N / 2) as u64, 1));
    assert_eq!(
        sorted(pool.outbox.try_iter()),
        (0..N).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(threads.started(), 2, "no worker died");
    assert_eq!(threads.live(), 0);
}

#[test]
fn a_panicking_teardown_neither_blocks_exile_nor_leaks_a_thread() {
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
        .worker_teardown(|index, _| panic!("teardown of {index}"))
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(move || i).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(pool.outbox.len(), N);
    assert_eq!(threads.stopped(), 2, "the stop hook still runs");
    assert_eq!(threads.live(), 0);
}

#[test]
fn a_panicking_stop_hook_neither_blocks_exile_nor_loses_a_result() {
    let stops = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&stops);
    let pool = WorkerPool::builder()
        .workers(2)
        .on_worker_stop(move |w| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            panic!("stop hook of {}", w.index())
        })
        .build()
        .unwrap();
    for i in 0..N {
        pool.inbox.put(move || i).unwrap();
    }
    pool.exile().unwrap();
    assert_eq!(sorted(pool.outbox.try_iter()), (0..N).collect::<Vec<_>>());
    assert_eq!(stops.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(pool.metrics().alive, 0);
}

#[test]
fn a_panic_in_the_scoped_closure_exiles_the_pool_then_resumes() {
    let threads = Threads::new();
    let ledger = Ledger::new();
    let ran = AtomicUsize::new(0);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        WorkerPool::builder()
            .workers(2)
            .paused()
            .on_worker_start(threads.on_start())
            .on_worker_stop(threads.on_stop())
            .scope(|pool| {
                for i in 0..N {
                    let job = ledger.job(i);
                    let ran = &ran; // borrowed from the test's stack
                    pool.inbox
                        .put(move || {
                            ran.fetch_add(1, SeqCst);
                            job()
                        })
                        .unwrap();
                }
                assert_eq!(pool.inbox.len(), N);
                panic_any(Custom(9));
            })
    }));
    let payload = caught.expect_err("the closure's panic must resume");
    assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(9)));
    // The queued jobs ran before the panic went on, and every thread left.
    assert_eq!(ran.load(SeqCst), N);
    assert_eq!(ledger.runs(), N);
    assert_eq!(ledger.drops(), N);
    assert_eq!(threads.started(), 2);
    assert_eq!(threads.live(), 0);
}

#[test]
fn panicking_jobs_in_a_scoped_pool_do_not_escape_the_scope() {
    let harvest = worklight::pool(2, |pool| {
        for i in 0..N {
            pool.inbox
                .put(move || {
                    assert!(i % 2 == 0, "scoped {i}");
                    i
                })
                .unwrap();
        }
    })
    .unwrap();
    assert_eq!(harvest.errbox.len(), N / 2);
    assert_eq!(harvest.outbox.len(), N / 2);
}

/// A value whose `Drop` panics (unless the thread already unwinds).
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("Bomb dropped");
        }
    }
}

/// A start hook or a setup that panics with a payload whose drop panics
/// too: still a typed build error, not a dead thread the build waits for.
#[test]
fn a_setup_panic_whose_payload_panics_when_dropped_is_a_setup_error() {
    let hooked = WorkerPool::<u8>::builder()
        .workers(2)
        .on_worker_start(|_| panic_any(Bomb))
        .build();
    assert!(
        matches!(hooked, Err(worklight::BuildError::Setup { .. })),
        "{hooked:?}"
    );
    let setup = WorkerPool::<u8>::builder()
        .workers(2)
        .worker_setup(|_| -> Result<(), std::io::Error> { panic_any(Bomb) })
        .build();
    assert!(
        matches!(setup, Err(worklight::BuildError::Setup { .. })),
        "{setup:?}"
    );
}

/// The values a worker drops — a result its outbox refused, the failure
/// its errbox refused, the payload of a panic in the errbox — may panic
/// when dropped; the worker lives on and runs every job once.
#[test]
fn values_that_panic_when_dropped_by_a_worker_harm_nothing() {
    struct Refuse;
    impl<T> Sink<T> for Refuse {
        fn put(&self, item: T) -> Result<(), T> {
            Err(item)
        }
    }
    let ledger = Ledger::new();
    let threads = Threads::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .outbox(Refuse)
        .errbox(callback(|_: JobError| panic_any(Bomb)))
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    for i in 0..N {
        let job = ledger.job(i);
        if i % 2 == 0 {
            pool.inbox.put(move || (job(), Bomb).1).unwrap();
        } else {
            pool.inbox
                .put(move || -> Bomb { panic_any((job(), Bomb).1) })
                .unwrap();
        }
    }
    pool.wait_idle().unwrap();
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), N);
    assert_eq!(threads.live(), 0);
    assert_eq!((threads.started(), threads.stopped()), (1, 1));
    let m = pool.metrics();
    assert_eq!((m.completed, m.panicked), (N as u64 / 2, N as u64 / 2));
    assert_eq!((m.discarded, m.box_panics), (N as u64 / 2, N as u64 / 2));
}

/// A value whose drop panics with a payload of its own, `depth` deep: the
/// innermost payload is counted when dropped.
struct Nested {
    depth: usize,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Nested {
    fn drop(&mut self) {
        if self.depth == 0 {
            self.dropped.fetch_add(1, SeqCst);
        } else if !std::thread::panicking() {
            panic_any(Nested {
                depth: self.depth - 1,
                dropped: Arc::clone(&self.dropped),
            });
        }
    }
}

/// The payload of a panic raised by a drop on a worker is dropped too, and
/// its own payload, some levels deep, rather than leaked; a drop that keeps
/// panicking without end costs a leak, not the worker.
#[test]
fn the_payload_of_a_panicking_drop_on_a_worker_is_dropped_in_turn() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let ledger = Ledger::new();
    let pool = WorkerPool::builder()
        .workers(1)
        // A result of depth d is dropped by the outbox: a panic with a
        // payload of depth d - 1, reported to the errbox, which drops it:
        // a panic with a payload of depth d - 2, which the worker drops.
        .outbox(callback(|n: Nested| drop(n)))
        .errbox(callback(drop::<JobError>))
        .build()
        .unwrap();
    for depth in 1..=4 {
        let dropped = Arc::clone(&dropped);
        let job = ledger.job(depth);
        pool.inbox
            .put(move || (job(), Nested { depth, dropped }).1)
            .unwrap();
    }
    pool.wait_idle().unwrap();
    assert_eq!(dropped.load(SeqCst), 4, "each innermost payload dropped");
    assert_eq!(pool.metrics().box_panics, 1 + 2 + 2 + 2);
    // Without end: the worker lives on and runs the next job.
    let (e, last) = (Arc::clone(&dropped), Arc::clone(&dropped));
    pool.inbox
        .put(move || Nested {
            depth: usize::MAX,
            dropped: e,
        })
        .unwrap();
    let job = ledger.job(5);
    pool.inbox
        .put(move || {
            (
                job(),
                Nested {
                    depth: 0,
                    dropped: last,
                },
            )
                .1
        })
        .unwrap();
    pool.exile().unwrap();
    assert_eq!(ledger.runs(), 5);
    assert_eq!(dropped.load(SeqCst), 5);
    assert_eq!(pool.metrics().box_panics, 7 + 2);
}
