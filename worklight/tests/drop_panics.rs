//! User values whose `Drop` panics, dropped by the pool: a job's capture,
//! a result, a panic's payload, a setup's error, a caller-supplied box.
//! Each panic is caught where the pool drops the value, on a worker or on
//! the caller's thread: none escapes into the caller's code or kills a
//! worker before its stop hook, and none unwinds into another (which
//! would abort the process).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

mod common;

use common::Threads;
use common::gate::GUARD;
use worklight::{BuildError, Inbox, Job, Kind, Pool, Sink, WorkerInfo, WorkerPool};

/// Counts its drop, then panics in it.
#[derive(Debug)]
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        panic!("a value that panics in its drop");
    }
}

impl fmt::Display for PanicsOnDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error that panics in its drop")
    }
}

impl std::error::Error for PanicsOnDrop {}

/// A caller-supplied box that keeps nothing and panics in its `Drop`.
struct DropsBadly {
    _panics: PanicsOnDrop,
}

impl<T> Sink<T> for DropsBadly {
    fn put(&self, _item: T) -> Result<(), T> {
        Ok(())
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

const STRANDED: usize = 3;

/// Leaves `STRANDED` jobs, each capturing a `PanicsOnDrop`, on the inbox of
/// a pool whose 2 workers are banished and gone and whose third worker's
/// setup fails (`setup_fails_past_two`): its exile can only hand them back.
fn strand_jobs<'a>(
    pool: &Pool<'a, impl Kind<Item = Job<'a, u32>>>,
    stops: &crossbeam_channel::Receiver<usize>,
    dropped: &Arc<AtomicUsize>,
) {
    assert_eq!(pool.banish(2), 2);
    stops.recv_timeout(GUARD).unwrap();
    stops.recv_timeout(GUARD).unwrap();
    for _ in 0..STRANDED {
        let capture = PanicsOnDrop(Arc::clone(dropped));
        pool.inbox
            .put(move || {
                let _keep = &capture;
                1
            })
            .unwrap();
    }
}

fn setup_fails_past_two(w: &WorkerInfo) -> Result<(), &'static str> {
    if w.index() < 2 {
        Ok(())
    } else {
        Err("no third connection")
    }
}

/// Dropping a pool whose exile would hand jobs back drops them unrun; each
/// job's `Drop` panic is caught there, so none escapes the pool's drop
/// (which may run in an unwind already) and two of them do not abort.
#[test]
fn dropping_a_pool_drops_the_jobs_it_could_not_run_each_on_its_own() {
    let dropped = counter();
    let (threads, stops) = Threads::with_stops();
    let pool = WorkerPool::builder()
        .workers(2)
        .worker_setup(setup_fails_past_two)
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build()
        .unwrap();
    strand_jobs(&pool, &stops, &dropped);
    let dropping = catch_unwind(AssertUnwindSafe(|| drop(pool)));
    assert!(
        dropping.is_ok(),
        "a job's drop panic escaped the pool's drop"
    );
    assert_eq!(dropped.load(SeqCst), STRANDED);
    assert_eq!(threads.live(), 0);
}

/// A scoped pool whose closure panics drops the jobs it could not run
/// before the closure's panic goes on; their `Drop` panics are caught, so
/// the closure's own panic is the one the caller sees, and no abort.
#[test]
fn a_scoped_pool_whose_closure_panics_drops_its_unrun_jobs_before_the_unwind() {
    let dropped = counter();
    let (threads, stops) = Threads::with_stops();
    let scoped = catch_unwind(AssertUnwindSafe(|| {
        WorkerPool::builder()
            .workers(2)
            .worker_setup(setup_fails_past_two)
            .on_worker_start(threads.on_start())
            .on_worker_stop(threads.on_stop())
            .scope(|pool| {
                strand_jobs(pool, &stops, &dropped);
                panic!("the closure's own panic");
            })
    }));
    let payload = scoped.expect_err("the closure's panic goes on to the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the closure's own panic")
    );
    assert_eq!(dropped.load(SeqCst), STRANDED);
    assert_eq!(threads.live(), 0);
}

/// A scoped pool whose closure panics drops the results and failures no
/// one read before the closure's panic goes on: a result and a panic's
/// payload whose `Drop` panics are each caught.
#[test]
fn a_scoped_pool_whose_closure_panics_drops_its_unread_boxes_before_the_unwind() {
    let dropped = counter();
    let scoped = catch_unwind(AssertUnwindSafe(|| {
        worklight::pool(1, |pool| {
            let result = PanicsOnDrop(Arc::clone(&dropped));
            pool.inbox.put(move || result).unwrap();
            let payload = PanicsOnDrop(Arc::clone(&dropped));
            pool.inbox
                .put(move || -> PanicsOnDrop { std::panic::panic_any(payload) })
                .unwrap();
            panic!("the closure's own panic");
        })
    }));
    let payload = scoped.expect_err("the closure's panic goes on to the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the closure's own panic")
    );
    assert_eq!(dropped.load(SeqCst), 2, "the result and the payload");
}

/// Of the setup errors of a failed build, the first is reported; the
/// others are dropped on their workers, a panic in their `Drop` caught:
/// every worker still runs its stop hook, and the build is joined.
#[test]
fn setup_errors_whose_drop_panics_leave_every_worker_to_its_stop_hook() {
    let dropped = counter();
    let threads = Threads::new();
    let d = Arc::clone(&dropped);
    let built = WorkerPool::<()>::builder()
        .workers(3)
        .worker_setup(move |_| Err::<(), _>(PanicsOnDrop(Arc::clone(&d))))
        .on_worker_start(threads.on_start())
        .on_worker_stop(threads.on_stop())
        .build();
    let Err(BuildError::Setup { error, .. }) = built else {
        panic!("expected the setup's error, got {built:?}");
    };
    assert_eq!((threads.started(), threads.stopped()), (3, 3));
    assert_eq!(dropped.load(SeqCst), 2, "the errors not reported");
    // The reported one is the caller's: its drop panics as its type says.
    assert!(catch_unwind(AssertUnwindSafe(|| drop(error))).is_err());
    assert_eq!(dropped.load(SeqCst), 3);
}

/// A build refused for its settings, or for a closed caller inbox, drops
/// the caller's boxes: a panic in their `Drop` is caught, and the build
/// returns its typed error.
#[test]
fn a_refused_build_returns_its_error_when_the_callers_boxes_panic_in_drop() {
    let dropped = counter();
    let boxes = || DropsBadly {
        _panics: PanicsOnDrop(Arc::clone(&dropped)),
    };
    let invalid = WorkerPool::<u8>::builder()
        .stack_size(1)
        .outbox(boxes())
        .errbox(boxes())
        .build();
    assert!(matches!(invalid, Err(BuildError::Invalid(_))));
    let closed: Inbox<Job<'static, u8>> = Inbox::new();
    WorkerPool::builder()
        .inbox(closed.clone())
        .build()
        .unwrap()
        .exile()
        .unwrap();
    let refused = WorkerPool::builder()
        .inbox(closed)
        .outbox(boxes())
        .errbox(boxes())
        .build();
    assert!(matches!(refused, Err(BuildError::InboxClosed)));
    assert_eq!(dropped.load(SeqCst), 4);
}
