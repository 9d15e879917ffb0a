//! Shutting a pool down: every exile path, and the joining of its workers.
//!
//! # Protocol
//!
//! Every exile path begins the same way, under the inbox lock: the pool
//! leaves `Run` mode (detaching from its inbox, which closes if it was the
//! last pool fed by it), pending banishes and a pause are cancelled, and
//! every worker is woken. Then:
//! - `exile` (mode `Drain`) waits for the workers, who leave once the inbox
//!   is empty. If no worker is left (all banished) and the inbox still holds
//!   jobs, one worker is started to work them off.
//! - `exile_now` (mode `Now`) takes every queued job off a closed inbox and
//!   hands it back; workers leave after their current job. Only the exile
//!   that turns a pool to `Now` takes the queue: a later exile of the same
//!   pool finds a closed inbox whose jobs, if any, belong to other pools
//!   fed by it, still draining. For the same reason, the jobs left on a
//!   closed inbox once the pool's workers are gone (`leftovers`: every
//!   setup failed) are handed back only if no pool on the inbox has a
//!   worker left.
//! - `exile_timeout` drains like `exile` until its deadline, then acts as
//!   `exile_now` without waiting for the workers still running a job.
//! - a build that fails (`abort`) sends the workers already started away
//!   at once (mode `Now`) and leaves the inbox open, its jobs where they
//!   were.
//!
//! Once every worker has left, the pool drops its own senders, which is what
//! ends the waiting reads on its outbox and errbox. An `exile_timeout` that
//! timed out drops them at once: the workers it leaves running hold their
//! own, so the reads end when the last of them leaves. (A worker not yet
//! at work then finds no senders and leaves; in `Now` mode it would take
//! no job anyway.)

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::{Core, join_all};
use crate::control::Mode;
use crate::error::{ExileError, Exit, WaitError};
use crate::failure::drop_each_caught;
use crate::kind::Kind;
use crate::sync::Arc;

impl<'a, K: Kind + 'a> Core<'a, K> {
    /// Stops a pool whose start failed: its workers leave at once, and the
    /// inbox is left open with its jobs (they belong to its other pools or
    /// to the caller).
    pub(super) fn abort(&self) {
        {
            let mut st = self.inbox.lock();
            if self.ctl.mode() == Mode::Run {
                self.inbox.release_open(&mut st, self.id);
            }
            st.held -= self.ctl.advance(Mode::Now);
            self.wake(st);
        }
        self.join_workers(None);
        self.drop_targets();
    }

    /// Waits until every worker thread has finished and every start under
    /// way has put its handle in the roster (or `deadline`), then joins the
    /// handles. Returns whether they all finished.
    ///
    /// Without a deadline the handles are joined directly, which waits for
    /// each thread to exit without a wake-up through `exited`; the condvar
    /// covers threads with no handle here (the loom models', or one whose
    /// handle its spawner has not pushed yet).
    fn join_workers(&self, deadline: Option<Instant>) -> bool {
        let mut roster = self.roster.lock();
        loop {
            if deadline.is_none() && !roster.handles.is_empty() {
                let handles = std::mem::take(&mut roster.handles);
                drop(roster);
                join_all(handles);
                roster = self.roster.lock();
                continue;
            }
            if roster.threads == 0 && roster.starting == 0 {
                break;
            }
            match deadline {
                None => roster = self.exited.wait(roster),
                Some(d) => {
                    let (g, timed_out) = self.exited.wait_until(roster, d);
                    roster = g;
                    if timed_out && (roster.threads > 0 || roster.starting > 0) {
                        return false;
                    }
                }
            }
        }
        let handles = std::mem::take(&mut roster.handles);
        drop(roster);
        join_all(handles);
        true
    }

    /// Begins an exile in `to` mode; returns the jobs taken off for handing
    /// back, and whether a worker must be started to drain the inbox.
    fn begin_exile(&self, to: Mode) -> (Vec<K::Item>, bool) {
        let mut st = self.inbox.lock();
        let before = self.ctl.mode();
        if before == Mode::Run {
            self.inbox.release(&mut st, self.id);
        }
        st.held -= self.ctl.advance(to);
        self.ctl.clear_banish();
        self.ctl.set_paused(false);
        let mut unrun = Vec::new();
        let mut helper = false;
        if st.closed {
            match self.ctl.mode() {
                // Only the exile that turns the pool immediate takes the
                // queue: on a shared inbox, a later one would take the jobs
                // that other pools are still draining.
                Mode::Now if before != Mode::Now => unrun = self.inbox.take_all(&mut st),
                Mode::Drain => {
                    // Jobs in a batch that a worker of another pool took
                    // count too: that pool may be exiled at once, its
                    // worker taking no more (the helper can steal them).
                    helper = self.ctl.active() == 0 && st.unstarted() > 0;
                    if helper {
                        self.ctl.add_active(1);
                        self.reserve_threads(1);
                    }
                }
                _ => {}
            }
        }
        self.wake(st);
        self.stats
            .handed_back
            .fetch_add(unrun.len() as u64, Relaxed);
        (unrun, helper)
    }

    /// Starts the helper `begin_exile` asked for; if it cannot start, the
    /// exile turns immediate and the jobs are handed back.
    fn start_helper(self: &Arc<Self>) -> Result<(), ExileError<K::Item>> {
        if let Err(error) = self.spawn_reserved(None, None) {
            let (unrun, _) = self.begin_exile(Mode::Now);
            self.join_workers(None);
            self.drop_targets();
            return Err(ExileError::Spawn { error, unrun });
        }
        Ok(())
    }

    /// Joins the workers, then hands back any job they left on a closed
    /// inbox (possible only when every worker's setup failed).
    fn finish_exile(&self) -> Result<(), ExileError<K::Item>> {
        self.join_workers(None);
        self.drop_targets();
        self.stranded()
    }

    fn stranded(&self) -> Result<(), ExileError<K::Item>> {
        let unrun = self.leftovers();
        if unrun.is_empty() {
            return Ok(());
        }
        Err(ExileError::Stranded { unrun })
    }

    /// Once every worker has left: whatever is still on a closed inbox, to
    /// hand back, unless another pool fed by the inbox still has workers to
    /// run it.
    fn leftovers(&self) -> Vec<K::Item> {
        let mut st = self.inbox.lock();
        if !st.closed || !self.inbox.no_workers(&st) {
            return Vec::new();
        }
        let unrun = self.inbox.take_all(&mut st);
        self.stats
            .handed_back
            .fetch_add(unrun.len() as u64, Relaxed);
        unrun
    }

    pub(crate) fn exile(self: &Arc<Self>) -> Result<(), ExileError<K::Item>> {
        if self.is_own_worker() {
            return Err(ExileError::FromOwnWorker);
        }
        let (_, helper) = self.begin_exile(Mode::Drain);
        if helper {
            self.start_helper()?;
        }
        self.finish_exile()
    }

    pub(crate) fn exile_now(&self) -> Result<Vec<K::Item>, ExileError<K::Item>> {
        if self.is_own_worker() {
            return Err(ExileError::FromOwnWorker);
        }
        let (mut unrun, _) = self.begin_exile(Mode::Now);
        self.join_workers(None);
        self.drop_targets();
        // The first `take_all` took every slot too; this only re-checks the
        // closed inbox once the workers are gone.
        unrun.extend(self.leftovers());
        Ok(unrun)
    }

    pub(crate) fn exile_timeout(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Result<Exit<K::Item>, ExileError<K::Item>> {
        if self.is_own_worker() {
            return Err(ExileError::FromOwnWorker);
        }
        let deadline = Instant::now().checked_add(timeout);
        let (_, helper) = self.begin_exile(Mode::Drain);
        if helper {
            self.start_helper()?;
        }
        if self.join_workers(deadline) {
            self.drop_targets();
            return self.stranded().map(|()| Exit::Done);
        }
        let (unrun, _) = self.begin_exile(Mode::Now);
        let running = self.roster.lock().threads;
        // The workers still running hold senders of their own: the reads
        // end when the last of them leaves.
        self.drop_targets();
        Ok(Exit::TimedOut { unrun, running })
    }

    /// Exile from `Drop`: as `exile`, but from one of the pool's own
    /// workers (a job, a hook, a teardown) it only begins the exile and
    /// starts the helper it may need: the caller cannot wait for itself.
    pub(crate) fn exile_on_drop(self: &Arc<Self>) {
        if self.is_own_worker() {
            let (_, helper) = self.begin_exile(Mode::Drain);
            if helper && self.spawn_reserved(None, None).is_err() {
                // No one to hand the jobs to, and no waiting here: they are
                // dropped (documented on `Pool`).
                let (unrun, _) = self.begin_exile(Mode::Now);
                drop_each_caught(unrun);
            }
            return;
        }
        // The jobs an exile hands back have no one to go to from Drop: they
        // are dropped (documented on `Pool`), a panic in a job's `Drop`
        // caught as on a worker, so none escapes a drop that may be
        // part of an unwind already.
        match self.exile() {
            Err(ExileError::Spawn { unrun, .. } | ExileError::Stranded { unrun }) => {
                drop_each_caught(unrun);
            }
            Ok(()) | Err(ExileError::FromOwnWorker) => {}
        }
    }

    pub(crate) fn is_exiled(&self) -> bool {
        let _st = self.inbox.lock();
        self.ctl.mode() != Mode::Run
    }

    pub(crate) fn wait_idle(&self) -> Result<(), WaitError> {
        // A job of any pool on the inbox counts as unfinished until it ends.
        if self.is_inbox_worker() {
            return Err(WaitError::FromOwnWorker);
        }
        if self.inbox.wait_idle() {
            Ok(())
        } else {
            Err(WaitError::NoWorkers)
        }
    }
}
