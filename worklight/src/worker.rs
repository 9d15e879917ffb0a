//! The worker loop.
//!
//! A worker goes through: *starting* (start hook, then setup, reporting to
//! the startup latch if the pool waits for it), an optional *stagger* delay,
//! then *taking* jobs — asleep while the inbox is empty or the pool paused —
//! and *running* each, until `Inbox::take` tells it to leave; then
//! *stopping* (teardown, stop hook). Every piece of user code it runs (job,
//! setup, teardown, hooks, caller-supplied boxes) is behind `catch_unwind`,
//! and so is every user value it drops (a panic's payload, a value a box
//! refused: their `Drop` may panic too), so a worker never dies silently.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;

use crossbeam_utils::CachePadded;

use crate::core::{Core, Targets};
use crate::failure::{Cause, JobError, Panic, drop_caught, run_caught};
use crate::inbox::Entry;
use crate::job::{BoxError, JobId, Label};
use crate::kind::{Kind, WorkerInfo};
use crate::metrics::{BUSY, IDLE, WorkerStats};
use crate::sink::Target;
use crate::startup::Startup;
use crate::sync::Arc;
use crate::take::{Stagger, Taken};

crate::sync::thread_local! {
    // Not `const`: loom's `thread_local!` (see `sync.rs`) takes no `const`
    // initializer, and this is read only by exile and `wait_idle`.
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: Cell<(u64, usize)> = Cell::new((0, 0));
}

/// The id of the pool whose worker this thread is (0 if none).
pub(crate) fn current_pool() -> u64 {
    CURRENT.with(Cell::get).0
}

/// The id of the inbox this thread's pool takes from (0 if none).
pub(crate) fn current_inbox() -> usize {
    CURRENT.with(Cell::get).1
}

/// Marks the thread finished even if something below unwinds.
struct ExitGuard<'c, 'a, K: Kind + 'a>(&'c Core<'a, K>);

impl<'a, K: Kind + 'a> Drop for ExitGuard<'_, 'a, K> {
    fn drop(&mut self) {
        self.0.thread_exited();
    }
}

pub(crate) fn run<'a, K: Kind + 'a>(
    core: Arc<Core<'a, K>>,
    info: WorkerInfo,
    delay: Option<Stagger>,
    startup: Option<Arc<Startup>>,
) {
    let _exit = ExitGuard(&core);
    CURRENT.with(|c| c.set((core.id, core.inbox.id())));
    let stats = core.stats.join();

    let started = catch_unwind(AssertUnwindSafe(|| {
        if let Some(hook) = &core.settings.on_start {
            hook(&info);
        }
        core.kind.start(&info)
    }));
    let failure: Option<BoxError> = match started {
        Ok(Ok(worker)) => {
            if startup.as_ref().is_none_or(|s| s.ready()) {
                work(&core, &info, &stats, delay, worker);
            } else {
                // The build failed elsewhere: leave without taking a job.
                leave_unstarted(&core, delay.is_some());
                run_caught(|| core.kind.stop(worker, &info));
            }
            None
        }
        Ok(Err(e)) => Some(e),
        Err(payload) => {
            let panic = Panic::new(payload);
            let message = panic.message().into();
            drop_caught(panic);
            Some(message)
        }
    };
    if let Some(error) = failure {
        core.stats.setup_failures.fetch_add(1, Relaxed);
        leave_unstarted(&core, delay.is_some());
        match &startup {
            Some(s) => s.failed(info.index, error),
            // A grown worker's failure is counted only.
            None => drop_caught(error),
        }
    }
    if let Some(hook) = &core.settings.on_stop {
        run_caught(|| hook(&info));
    }
    core.stats.leave(&stats);
}

/// A worker leaves before its first job: its setup failed, or the build
/// did. A staggered one ends its count first, and if it was the last, the
/// banish tokens it leaves go to the workers that take jobs.
fn leave_unstarted<'a, K: Kind + 'a>(core: &Core<'a, K>, staggered: bool) {
    let st = core.inbox.lock();
    let tokens_left = staggered && core.ctl.end_staggered();
    let sleepers = st.sleeping;
    core.inbox.leave(&core.ctl, st, None, Taken::Leave);
    if tokens_left {
        core.inbox.wake_for_tokens(&core.ctl, sleepers);
    }
}

fn work<'a, K: Kind + 'a>(
    core: &Core<'a, K>,
    info: &WorkerInfo,
    stats: &CachePadded<WorkerStats>,
    delay: Option<Stagger>,
    mut worker: K::Worker,
) {
    // A worker banished in its stagger delay has left the inbox already.
    if delay.is_some_and(|delay| core.inbox.stagger(&core.ctl, delay)) {
        core.stats.retired.fetch_add(1, Relaxed);
    } else if let Some(targets) = core.targets() {
        // The senders exist until every worker has left, so this is `Some`.
        let mut taker = core.inbox.taker(core.id);
        loop {
            match core.inbox.take(&core.ctl, &mut taker) {
                Taken::Job(entry) => {
                    stats.state.store(BUSY, Relaxed);
                    run_one::<K>(core, &targets, stats, &mut worker, entry);
                    stats.state.store(IDLE, Relaxed);
                    taker.finished();
                }
                Taken::Leave => break,
                Taken::Retire => {
                    core.stats.retired.fetch_add(1, Relaxed);
                    break;
                }
            }
        }
        core.drop_boxes(Some(targets));
    } else {
        let st = core.inbox.lock();
        core.inbox.leave(&core.ctl, st, None, Taken::Leave);
    }
    run_caught(|| core.kind.stop(worker, info));
}

fn run_one<'a, K: Kind + 'a>(
    core: &Core<'a, K>,
    targets: &Targets<'a, K>,
    stats: &WorkerStats,
    worker: &mut K::Worker,
    entry: Entry<K::Item>,
) {
    let id = entry.id;
    let (label, task) = K::split(entry.item);
    match catch_unwind(AssertUnwindSafe(|| K::run(worker, task))) {
        Ok(Ok(value)) => {
            stats.completed();
            deliver_result(core, targets, id, label, value);
        }
        Ok(Err(error)) => {
            stats.failed();
            report(
                core,
                &targets.err,
                JobError::new(id, label, Cause::Error(error)),
            );
        }
        Err(payload) => {
            stats.panicked();
            report(
                core,
                &targets.err,
                JobError::new(id, label, Cause::Panic(Panic::new(payload))),
            );
        }
    }
}

fn deliver_result<'a, K: Kind + 'a>(
    core: &Core<'a, K>,
    targets: &Targets<'a, K>,
    id: JobId,
    label: Option<Label>,
    value: K::Output,
) {
    let delivered = match &targets.out {
        Target::Own(tx) => tx.send(value).map_err(drop_caught).is_ok(),
        Target::Custom(sink) => match catch_unwind(AssertUnwindSafe(|| sink.put(value))) {
            Ok(res) => res.map_err(drop_caught).is_ok(),
            Err(payload) => {
                core.stats.box_panics.fetch_add(1, Relaxed);
                let cause = Cause::OutboxPanic(Panic::new(payload));
                report(core, &targets.err, JobError::new(id, label, cause));
                return;
            }
        },
    };
    if !delivered {
        core.stats.discarded.fetch_add(1, Relaxed);
    }
}

fn report<'a, K: Kind + 'a>(
    core: &Core<'a, K>,
    err: &Target<'a, JobError<K::Error>>,
    failure: JobError<K::Error>,
) {
    let delivered = match err {
        Target::Own(tx) => tx.send(failure).map_err(drop_caught).is_ok(),
        Target::Custom(sink) => match catch_unwind(AssertUnwindSafe(|| sink.put(failure))) {
            Ok(res) => res.map_err(drop_caught).is_ok(),
            Err(payload) => {
                core.stats.box_panics.fetch_add(1, Relaxed);
                drop_caught(payload);
                true
            }
        },
    };
    if !delivered {
        core.stats.discarded.fetch_add(1, Relaxed);
    }
}
