//! Starts that a custom spawner holds back or refuses: an exile that
//! begins while a worker's start is under way waits for its handle and
//! joins the thread; a build on the caller's inbox that cannot start all
//! its threads takes none of the caller's jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use crossbeam_channel::unbounded;

use super::{Settings, SpawnFn, handle};
use crate::builder::assemble;
use crate::inbox::Inbox;
use crate::kind::{Closures, WorkerInfo};
use crate::summoning::Summoning;

static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A thread-local whose destructor takes a while: the last thing the
/// worker's thread runs.
struct SlowToDrop;

impl Drop for SlowToDrop {
    fn drop(&mut self) {
        thread::sleep(Duration::from_millis(50));
        DROPPED.fetch_add(1, SeqCst);
    }
}

thread_local! {
    static SLOW: SlowToDrop = const { SlowToDrop };
}

/// A put starts a worker, and the spawner hands the thread's handle over
/// only after the worker has run its job, seen the exile and left: the
/// exile, which began meanwhile, must still wait for that handle and join
/// the thread (its thread-local destructor has run when the exile returns).
#[test]
fn an_exile_joins_a_worker_whose_handle_came_after_it_left() {
    let (left, has_left) = unbounded::<()>();
    let spawner: Box<SpawnFn<'static>> = Box::new(move |builder, body| {
        let thread = builder.spawn(body)?;
        has_left.recv().unwrap();
        // Past its stop hook, the worker leaves the roster: let it.
        thread::sleep(Duration::from_millis(10));
        Ok(handle(thread))
    });
    let settings = Settings {
        summoning: Some(Summoning::new(0, 1)),
        on_stop: Some(Arc::new(move |_: &WorkerInfo| left.send(()).unwrap())),
        ..Settings::default()
    };
    let kind = Closures::new(Arc::new(|_: &WorkerInfo| Ok(())), false, None);
    let pool = assemble(
        settings,
        kind,
        Inbox::with_capacity(None),
        None,
        None,
        spawner,
    )
    .unwrap();
    pool.core.register_growth();
    thread::scope(|s| {
        // This put starts the worker and waits in the spawner.
        s.spawn(|| pool.inbox.put(|| SLOW.with(|_| 7u32)).unwrap());
        assert_eq!(pool.outbox.get(), Ok(7));
        pool.exile().unwrap();
        assert_eq!(DROPPED.load(SeqCst), 1, "the worker's thread was joined");
    });
}

/// A build on the caller's inbox that fails at its third thread runs none
/// of the caller's jobs: its first workers would otherwise take jobs whose
/// results go to the outbox of a pool never returned. The failing spawn
/// gives them up to a second to do so first.
#[test]
fn a_build_on_a_shared_inbox_that_fails_to_spawn_runs_none_of_its_jobs() {
    let shared = Inbox::with_capacity(None);
    let (ran, runs) = unbounded::<u32>();
    for i in 0..50u32 {
        let ran = ran.clone();
        shared
            .put(crate::Job::new(move || ran.send(i).unwrap()))
            .unwrap();
    }
    let spawns = AtomicUsize::new(0);
    let results = runs.clone();
    let spawner: Box<SpawnFn<'static>> = Box::new(move |builder, body| {
        if spawns.fetch_add(1, SeqCst) == 2 {
            // A job run by one of the first two workers ends the wait.
            if let Ok(i) = runs.recv_timeout(Duration::from_secs(1)) {
                panic!("job {i} ran before the build was decided");
            }
            return Err(std::io::Error::other("no third thread"));
        }
        builder.spawn(body).map(handle)
    });
    let settings = Settings {
        workers: Some(4),
        shared_inbox: true,
        ..Settings::default()
    };
    let kind = Closures::new(Arc::new(|_: &WorkerInfo| Ok(())), false, None);
    let built = assemble(settings, kind, shared.clone(), None, None, spawner);
    assert!(matches!(built, Err(crate::BuildError::Spawn(_))));
    assert_eq!(shared.len(), 50, "every job is still on the inbox");
    drop(ran);

    // A pool built on the inbox later runs each of them once.
    let pool = crate::WorkerPool::builder()
        .workers(2)
        .inbox(shared)
        .build()
        .unwrap();
    pool.exile().unwrap();
    let mut seen: Vec<u32> = results.try_iter().collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
}
