//! The state a pool's handle and its workers share, and the operations on
//! it: starting workers, pause, banish; the exile paths are in `exile.rs`.

mod exile;
#[cfg(all(test, not(loom)))]
mod tests;

use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::control::{Control, Mode};
use crate::error::BuildError;
use crate::failure::{JobError, drop_caught, run_caught};
use crate::inbox::{Grow, Inbox, State};
use crate::kind::{Kind, WorkerInfo};
use crate::metrics::{Metrics, PoolStats};
use crate::sink::Target;
use crate::startup::Startup;
use crate::summoning::Summoning;
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::take::Stagger;
use crate::worker;

/// Starts a thread with the given settings running `body`; returns its
/// handle for the exile to join, or `None` when the thread has none (the
/// loom models'), which the exile then waits for through `exited`.
pub(crate) type SpawnFn<'a> = dyn Fn(std::thread::Builder, Box<dyn FnOnce() + Send + 'a>) -> io::Result<Option<Handle<'a>>>
    + Send
    + Sync
    + 'a;

/// A worker thread's handle: a `JoinHandle`, or a scoped pool's
/// `ScopedJoinHandle`. Joining a thread waits for its exit directly, with
/// no wake-up through `exited`.
pub(crate) type Handle<'a> = Box<dyn Joinable + 'a>;

/// A spawner's handle for the exile to join.
pub(crate) fn handle<'a>(thread: impl Joinable + 'a) -> Option<Handle<'a>> {
    Some(Box::new(thread))
}

/// Joins each thread, in turn.
pub(super) fn join_all(handles: Vec<Handle<'_>>) {
    for h in handles {
        h.join();
    }
}

pub(crate) trait Joinable: Send {
    fn is_finished(&self) -> bool;
    /// Waits for the thread to exit. Workers catch every panic of user
    /// code; a join error would be a bug in the pool itself, and there is
    /// nothing left to clean.
    fn join(self: Box<Self>);
}

impl Joinable for JoinHandle<()> {
    fn is_finished(&self) -> bool {
        JoinHandle::is_finished(self)
    }
    fn join(self: Box<Self>) {
        let _ = JoinHandle::join(*self);
    }
}

impl Joinable for std::thread::ScopedJoinHandle<'_, ()> {
    fn is_finished(&self) -> bool {
        std::thread::ScopedJoinHandle::is_finished(self)
    }
    fn join(self: Box<Self>) {
        let _ = std::thread::ScopedJoinHandle::join(*self);
    }
}

pub(crate) type Hook = std::sync::Arc<dyn Fn(&WorkerInfo) + Send + Sync>;

/// Settings shared by every kind of pool.
#[derive(Clone)]
pub(crate) struct Settings {
    /// `None`: one per available core, found at build (not before: it
    /// reads the cgroup files).
    pub(crate) workers: Option<usize>,
    pub(crate) name: String,
    pub(crate) suffix: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) capacity: Option<usize>,
    pub(crate) paused: bool,
    pub(crate) stagger: Option<Duration>,
    pub(crate) on_start: Option<Hook>,
    pub(crate) on_stop: Option<Hook>,
    pub(crate) summoning: Option<Summoning>,
    /// The inbox is the caller's ([`Builder::inbox`](crate::Builder::inbox)):
    /// it may hold jobs, or be given some by others, before the build is
    /// decided, so the build starts all or nothing even with no setup.
    pub(crate) shared_inbox: bool,
    /// A builder call that cannot take effect, refused at build.
    pub(crate) refused: Option<&'static str>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            workers: None,
            name: String::from("Worker"),
            suffix: String::new(),
            stack_size: None,
            capacity: None,
            paused: false,
            stagger: None,
            on_start: None,
            on_stop: None,
            summoning: None,
            shared_inbox: false,
            refused: None,
        }
    }
}

impl Settings {
    /// How many workers a fixed-size pool starts with.
    pub(crate) fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Refuses settings no pool can start with: no workers, a bad
    /// self-sizing policy, a stack too small to unwind a panic, or a thread
    /// name the system cannot take.
    fn validate(&self) -> Result<(), BuildError> {
        if let Some(why) = self.refused {
            return Err(BuildError::Invalid(why));
        }
        if self
            .stack_size
            .is_some_and(|b| b < crate::builder::MIN_STACK_SIZE)
        {
            return Err(BuildError::Invalid(
                "stack_size is below MIN_STACK_SIZE (64 KiB): a job's panic could not unwind",
            ));
        }
        match &self.summoning {
            Some(policy) => policy.validate()?,
            None if self.worker_count() == 0 => return Err(BuildError::ZeroWorkers),
            None => {}
        }
        if self.name.contains('\0') || self.suffix.contains('\0') {
            return Err(BuildError::Invalid(
                "a thread name may not contain a NUL byte",
            ));
        }
        Ok(())
    }
}

/// Where a pool's workers deliver.
pub(crate) struct Targets<'a, K: Kind> {
    pub(crate) out: Target<'a, K::Output>,
    pub(crate) err: Target<'a, JobError<K::Error>>,
}

impl<K: Kind> Targets<'_, K> {
    /// Drops each box on its own, a panic in its `Drop` caught (a second
    /// while the first unwinds would abort the process); returns how many
    /// panicked.
    fn drop_caught(self) -> u64 {
        let Targets { out, err } = self;
        u64::from(run_caught(move || drop(out))) + u64::from(run_caught(move || drop(err)))
    }
}

impl<K: Kind> Clone for Targets<'_, K> {
    fn clone(&self) -> Self {
        Targets {
            out: self.out.clone(),
            err: self.err.clone(),
        }
    }
}

#[derive(Default)]
struct Roster<'a> {
    /// Worker threads started and not yet finished.
    threads: usize,
    /// Threads reserved whose start is under way: their handle, if they
    /// start, is not in `handles` yet. An exile waits for these too, or it
    /// could miss the handle of a worker that started and left at once.
    starting: usize,
    next_index: usize,
    handles: Vec<Handle<'a>>,
}

static NEXT_POOL_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(crate) struct Core<'a, K: Kind> {
    pub(crate) id: u64,
    pub(crate) inbox: Inbox<K::Item>,
    pub(crate) ctl: Control,
    pub(crate) kind: K,
    pub(crate) stats: PoolStats,
    pub(crate) settings: Settings,
    /// The senders new workers clone; dropped once every worker has left.
    targets: Mutex<Option<Targets<'a, K>>>,
    roster: Mutex<Roster<'a>>,
    exited: Condvar,
    spawner: Box<SpawnFn<'a>>,
}

/// A block of its own: `Drop` calls these, and a `Drop` impl cannot carry
/// the `K: 'a` bound of the block below.
impl<'a, K: Kind> Core<'a, K> {
    /// Drops the pool's own copy of where its workers deliver (exile).
    pub(crate) fn drop_targets(&self) {
        let targets = self.targets.lock().take();
        self.drop_boxes(targets);
    }

    /// Drops a copy of where the workers deliver. The last copy of a
    /// caller-supplied box drops the box, whose `Drop` may panic: the
    /// panic is caught and counted in `box_panics`, on a worker as on the
    /// caller's thread. Each box is dropped on its own: a second panic
    /// while the first unwinds would abort the process.
    pub(crate) fn drop_boxes(&self, targets: Option<Targets<'a, K>>) {
        if let Some(targets) = targets {
            let panics = targets.drop_caught();
            self.stats.box_panics.fetch_add(panics, Relaxed);
        }
    }
}

/// A pool dropped from its own job is not waited for, and its boxes go
/// with the last handle on the core (often a worker's, as its thread
/// ends): a panic in a caller-supplied box's `Drop` is caught here too.
impl<K: Kind> Drop for Core<'_, K> {
    fn drop(&mut self) {
        self.drop_targets();
    }
}

impl<'a, K: Kind + 'a> Core<'a, K> {
    pub(crate) fn new(
        settings: Settings,
        kind: K,
        inbox: Inbox<K::Item>,
        targets: Targets<'a, K>,
        spawner: Box<SpawnFn<'a>>,
    ) -> Result<Arc<Self>, BuildError> {
        if let Err(e) = settings.validate().and_then(|()| inbox.attach()) {
            // The caller's boxes go with the refused build, their `Drop`
            // caught as on any other path.
            targets.drop_caught();
            return Err(e);
        }
        let ctl = Control::new(settings.paused, settings.summoning, inbox.active());
        Ok(Arc::new(Core {
            id: NEXT_POOL_ID.fetch_add(1, Relaxed),
            inbox,
            ctl,
            kind,
            stats: PoolStats::default(),
            settings,
            targets: Mutex::new(Some(targets)),
            roster: Mutex::new(Roster::default()),
            exited: Condvar::new(),
            spawner,
        }))
    }

    /// Starts the first workers; on failure stops those already started
    /// and leaves the inbox's jobs where they are.
    pub(crate) fn launch(self: &Arc<Self>) -> Result<(), BuildError> {
        let n = match &self.settings.summoning {
            Some(policy) => policy.min(),
            None => self.settings.worker_count(),
        };
        if let Err(e) = self.summon(n, self.settings.stagger, true) {
            self.abort();
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn is_own_worker(&self) -> bool {
        worker::current_pool() == self.id
    }

    /// Whether this thread is a worker taking from this pool's inbox: one
    /// of its own, or of another pool fed by the same inbox.
    pub(crate) fn is_inbox_worker(&self) -> bool {
        worker::current_inbox() == self.inbox.id()
    }

    /// Wakes every worker to look at the control state again. Takes the
    /// inbox guard, under which the caller made the change, and wakes with
    /// the lock released (see `Inbox::wake_all`).
    fn wake(&self, st: MutexGuard<'_, State<K::Item>>) {
        let sleepers = st.sleeping;
        drop(st);
        self.inbox.wake_all(sleepers);
        self.ctl.wake.notify_all();
    }

    /// Starts `n` workers (a self-sizing pool: at most up to its max),
    /// worker k of them waiting k × `stagger` before its first job. With a
    /// worker setup, waits until every setup has run. Returns how many
    /// were started.
    pub(crate) fn summon(
        self: &Arc<Self>,
        n: usize,
        stagger: Option<Duration>,
        all_or_nothing: bool,
    ) -> Result<usize, BuildError> {
        if self.ctl.mode() != Mode::Run {
            return Err(BuildError::Exiled); // even for no worker at all
        }
        let n = match &self.ctl.scaling {
            // `max` counts a banished worker until it has left (see `reserve`).
            Some(policy) => policy.clamp_summon(n, self.ctl.active()),
            None => n,
        };
        // A start hook may panic too, which counts as a failed setup. A
        // build on the caller's inbox waits even without either: its
        // workers must not take the caller's jobs before the verdict (a
        // later spawn may still fail the build, and with it the outbox).
        let waits = self.kind.has_setup()
            || self.settings.on_start.is_some()
            || (all_or_nothing && self.settings.shared_inbox);
        let startup = waits.then(|| Arc::new(Startup::new(n, all_or_nothing)));
        let start = Instant::now();
        let mut started = 0;
        let mut outcome = Ok(());
        for k in 0..n {
            // The first worker of a ramp has no delay.
            let delay = stagger
                .filter(|step| k > 0 && !step.is_zero())
                .map(|step| Stagger::nth(start, step, k));
            {
                let _st = self.inbox.lock();
                if self.ctl.mode() != Mode::Run {
                    outcome = Err(BuildError::Exiled);
                    break;
                }
                if self
                    .ctl
                    .scaling
                    .is_some_and(|p| self.ctl.active() >= p.max())
                {
                    break; // growth filled the pool meanwhile
                }
                self.ctl.add_active(1);
                if delay.is_some() {
                    self.ctl.add_staggered();
                }
                self.reserve_threads(1);
            }
            if let Err(e) = self.spawn_reserved(delay, startup.clone()) {
                outcome = Err(BuildError::Spawn(e));
                break;
            }
            started += 1;
        }
        if let Some(s) = startup {
            s.never_started(n - started);
            let failure = s.wait();
            s.decide(failure.is_none() && outcome.is_ok());
            match (&outcome, failure) {
                (Ok(()), Some((worker, error))) => return Err(BuildError::Setup { worker, error }),
                // The spawn error is reported; the setup's, the user's
                // value, is dropped as on a worker.
                (_, failure) => drop_caught(failure),
            }
        }
        outcome.map(|()| started)
    }

    /// Counts `n` worker threads about to be started, in the same hold of
    /// the inbox lock that reserved their places (`ctl.active`): an exile
    /// that comes before they start sees them there (no helper of its own)
    /// and must also find them in the roster, to wait for them. The pool
    /// size they make is recorded for `high_water` here too, before a
    /// banish or a retirement can take it down again.
    fn reserve_threads(&self, n: usize) {
        if n > 0 {
            let mut roster = self.roster.lock();
            roster.threads += n;
            roster.starting += n;
            drop(roster);
            self.stats.size_seen(self.ctl.poolsize());
        }
    }

    /// Starts one worker whose place (`ctl.active`) and thread
    /// (`reserve_threads`) are already counted; gives both back if the
    /// thread cannot be started.
    fn spawn_reserved(
        self: &Arc<Self>,
        delay: Option<Stagger>,
        startup: Option<Arc<Startup>>,
    ) -> io::Result<()> {
        let (index, finished) = {
            let mut roster = self.roster.lock();
            let (finished, running) = std::mem::take(&mut roster.handles)
                .into_iter()
                .partition(|h| h.is_finished());
            roster.handles = running;
            roster.next_index += 1;
            (roster.next_index - 1, finished)
        };
        // Retired workers' threads: joined, not dropped, so that none is
        // left running its thread-locals' destructors past an exile. Their
        // work is done; the join waits only for the thread to end.
        join_all(finished);
        let name = format!("{}-{}{}", self.settings.name, index, self.settings.suffix);
        let info = WorkerInfo {
            index,
            name: name.as_str().into(),
        };
        let mut builder = std::thread::Builder::new().name(name);
        if let Some(size) = self.settings.stack_size {
            builder = builder.stack_size(size);
        }
        let core = Arc::clone(self);
        let body = Box::new(move || worker::run(core, info, delay, startup));
        match (self.spawner)(builder, body) {
            Ok(handle) => {
                self.stats.spawned.fetch_add(1, Relaxed);
                let mut roster = self.roster.lock();
                roster.handles.extend(handle);
                roster.starting -= 1;
                if roster.starting == 0 {
                    self.exited.notify_all();
                }
                Ok(())
            }
            Err(e) => {
                self.give_back_places(1, delay.is_some());
                Err(e)
            }
        }
    }

    /// Gives back `n` reserved places, and their threads, that were not
    /// started (one of them `staggered`), and wakes the pool to look again;
    /// `wait_idle` callers learn it if no worker is left for the queued
    /// jobs.
    fn give_back_places(&self, n: usize, staggered: bool) {
        let st = self.inbox.lock();
        self.ctl.remove_active(n);
        if staggered {
            self.ctl.end_staggered(); // `wake` below wakes every worker
        }
        if self.inbox.no_workers(&st) && !st.queue.is_empty() {
            self.inbox.wake_idle(&st);
        }
        self.wake(st);
        self.threads_gone(n, n);
    }

    /// A worker thread is done (called last on the worker's thread).
    pub(crate) fn thread_exited(&self) {
        self.threads_gone(1, 0);
    }

    /// `n` threads are gone, `unstarted` of them never started.
    fn threads_gone(&self, n: usize, unstarted: usize) {
        let mut roster = self.roster.lock();
        roster.threads -= n;
        roster.starting -= unstarted;
        if roster.threads == 0 || (unstarted > 0 && roster.starting == 0) {
            self.exited.notify_all();
        }
    }

    pub(crate) fn targets(&self) -> Option<Targets<'a, K>> {
        self.targets.lock().clone()
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        let growth = {
            let st = self.inbox.lock();
            if self.ctl.mode() != Mode::Run {
                return; // an exile resumed the pool for good
            }
            self.ctl.set_paused(paused);
            // Growth for the jobs a resume releases is reserved in the same
            // lock acquisition, before a woken worker can take any of them.
            let growth = if paused {
                None
            } else {
                Inbox::reserve_for_queued(&st, self.id)
            };
            self.wake(st);
            growth
        };
        if let Some((pool, n)) = growth {
            pool.grow(n);
        }
    }

    pub(crate) fn banish(&self, n: usize) -> usize {
        let st = self.inbox.lock();
        if self.ctl.mode() != Mode::Run {
            return 0;
        }
        let n = self.ctl.banish(n, st.unstarted() > 0);
        self.wake(st);
        n
    }

    pub(crate) fn metrics(&self) -> Metrics {
        let alive = self.ctl.poolsize();
        let paused = self.ctl.paused_workers.load(Relaxed);
        let mut m = self.stats.snapshot(Metrics {
            alive,
            paused,
            queued: self.inbox.len(),
            ..Metrics::default()
        });
        m.running = m.busy;
        m.idle = alive.saturating_sub(m.busy + paused);
        m
    }
}

impl<K: Kind + 'static> Core<'static, K> {
    /// Lets puts on the inbox grow this pool (self-sizing pools).
    pub(crate) fn register_growth(self: &Arc<Self>) {
        let me: Arc<dyn Grow> = Arc::clone(self) as Arc<dyn Grow>;
        let growth = self.inbox.add_grower(self.id, Arc::downgrade(&me));
        // Jobs already queued on a shared inbox count as just put.
        if let Some((pool, n)) = growth {
            pool.grow(n);
        }
    }
}

impl<K: Kind + 'static> Grow for Core<'static, K> {
    fn reserve(&self, queued: usize, steps: usize) -> usize {
        let Some(policy) = &self.ctl.scaling else {
            return 0;
        };
        if self.ctl.mode() != Mode::Run || self.ctl.is_paused() {
            return 0;
        }
        // The ratio counts the workers that take jobs (`poolsize`); `max`
        // counts a banished one still finishing its job too (an exile
        // cancels its banish and keeps it).
        let n = policy.growth_steps(queued, self.ctl.poolsize(), steps);
        let n = self
            .ctl
            .reserve(n.min(policy.max().saturating_sub(self.ctl.active())));
        self.reserve_threads(n);
        n
    }

    fn grow(self: Arc<Self>, n: usize) {
        for started in 0..n {
            // Counted in `spawned` only when it starts. A thread that
            // cannot start gives its place back; the OS would most likely
            // refuse the rest too, so their places go back with it. The
            // next put tries again.
            if self.spawn_reserved(None, None).is_err() {
                self.give_back_places(n - started - 1, false);
                return;
            }
        }
    }
}
