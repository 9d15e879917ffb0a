//! Starting a pool is all or nothing: a build that fails runs no job, and
//! a panicking start hook fails the build like a failing setup.

mod common;

use std::time::Duration;

use common::Ledger;
use worklight::{BuildError, Inbox, Job, WorkerPool};

#[test]
fn a_failed_build_runs_no_job_of_a_caller_inbox() {
    let shared: Inbox<Job<'static, usize>> = Inbox::new();
    let ledger = Ledger::new();
    let (ran_tx, ran_rx) = crossbeam_channel::unbounded::<()>();
    for i in 0..3 {
        let job = ledger.job(i);
        let ran = ran_tx.clone();
        shared
            .put(move || {
                let _ = ran.send(());
                job()
            })
            .unwrap();
    }
    let built = WorkerPool::builder()
        .workers(2)
        .worker_setup(move |w| {
            if w.index() == 0 {
                return Ok(());
            }
            // Fail once worker 0 has run a job (the timeout only keeps a
            // correct library from waiting forever: there, no job runs).
            let _ = ran_rx.recv_timeout(Duration::from_secs(1));
            Err("worker 1 has no connection")
        })
        .inbox(shared.clone())
        .build();
    assert!(matches!(built, Err(BuildError::Setup { worker: 1, .. })));
    assert_eq!(
        ledger.runs(),
        0,
        "a pool that failed to build ran a caller's job"
    );
    assert_eq!(shared.len(), 3, "the caller's jobs must stay on the inbox");
}

#[test]
fn a_panicking_start_hook_without_setup_fails_the_build() {
    let built = WorkerPool::<()>::builder()
        .workers(2)
        .on_worker_start(|_| panic!("hook exploded"))
        .build();
    assert!(
        matches!(built, Err(BuildError::Setup { .. })),
        "build returned Ok: {built:?}"
    );
}
