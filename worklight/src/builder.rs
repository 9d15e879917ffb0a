//! The front door: every optional setting of a pool.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::core::{Core, Settings, SpawnFn, Targets, handle};
use crate::error::BuildError;
use crate::failure::JobError;
use crate::inbox::Inbox;
use crate::job::BoxError;
use crate::kind::{Closures, Kind, WorkerInfo};
use crate::outbox::Outbox;
use crate::pool::Pool;
use crate::sink::{Sink, Target};
use crate::summoning::Summoning;

/// The smallest stack a worker thread may be given
/// ([`Builder::stack_size`]): 64 KiB, room for a job's panic to unwind and
/// land on the errbox.
pub const MIN_STACK_SIZE: usize = 64 * 1024;

/// The front door: every optional setting of a pool. Build an owned pool
/// with [`build`](Builder::build), or (for closure pools) run a scoped pool
/// with [`scope`](Builder::scope).
///
/// `K` is the pool's [`Kind`]: [`Closures`] from [`WorkerPool::builder`](crate::WorkerPool::builder),
/// [`Handlers`](crate::Handlers) from [`HandlerPool::builder`](crate::HandlerPool::builder).
///
/// ```
/// use std::time::Duration;
/// let pool = worklight::WorkerPool::builder()
///     .workers(4)
///     .name("Fetcher")
///     .suffix("-a")
///     .stack_size(256 * 1024)
///     .capacity(1_000)
///     .stagger(Duration::from_millis(1))
///     .build()
///     .unwrap();
/// pool.inbox.put(|| std::thread::current().name().unwrap().to_owned()).unwrap();
/// assert!(pool.outbox.get().unwrap().starts_with("Fetcher-"));
/// ```
#[must_use = "a builder does nothing until `build` or `scope`"]
pub struct Builder<K: Kind> {
    pub(crate) settings: Settings,
    kind: K,
    inbox: Option<Inbox<K::Item>>,
    outbox: Option<Arc<dyn Sink<K::Output>>>,
    errbox: Option<Arc<dyn Sink<JobError<K::Error>>>>,
}

impl<K: Kind> fmt::Debug for Builder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("workers", &self.settings.worker_count())
            .field("capacity", &self.settings.capacity)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Default for Builder<Closures<'static, T>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> Builder<Closures<'static, T>> {
    /// Default settings: one worker per available core, unbounded inbox,
    /// threads named `Worker-<n>`, the pool's own outbox and errbox.
    ///
    /// ```
    /// let pool = worklight::Builder::<worklight::Closures<u32>>::new().build().unwrap();
    /// assert!(pool.poolsize() >= 1);
    /// ```
    pub fn new() -> Self {
        Builder::with_kind(Closures::new(
            Arc::new(|_: &WorkerInfo| Ok(())),
            false,
            None,
        ))
    }

    /// Gives each worker its own state, made by `setup` on the worker's
    /// thread when it starts: a connection, a buffer, a client. Jobs made
    /// with [`Job::stateful`](crate::Job::stateful) get `&mut` access to it; other jobs are put as
    /// before. `build` and `summon` wait until every new worker's setup has
    /// run, and report the first failure (an error or a panic) as
    /// [`BuildError::Setup`]; at build, the pool is then not started. (A
    /// worker that a self-sizing pool starts on a put has no one waiting
    /// for it: its failure is only counted, in
    /// [`Metrics::setup_failures`](crate::Metrics::setup_failures).) A
    /// worker keeps its state after a job that panicked.
    ///
    /// To make do with the workers whose setup succeeds, build a smaller
    /// pool and [`summon`](crate::Pool::summon) the rest: the summoned
    /// workers that started stay, and the failures are counted (the first
    /// one returned).
    ///
    /// Call it before [`inbox`](Builder::inbox), whose job type names the
    /// state, and before [`worker_teardown`](Builder::worker_teardown),
    /// which takes the state: an inbox or a teardown set earlier cannot
    /// take the new state type, and the build refuses it as
    /// [`BuildError::Invalid`].
    ///
    /// ```
    /// use worklight::{BuildError, Job, WorkerPool};
    /// let pool = WorkerPool::builder()
    ///     .workers(2)
    ///     .worker_setup(|w| Ok::<_, std::io::Error>(w.index() * 100))
    ///     .build()
    ///     .unwrap();
    /// pool.inbox.put(Job::stateful(|base: &mut usize| *base)).unwrap();
    /// pool.exile().unwrap();
    /// assert!(pool.outbox.get().unwrap() % 100 == 0);
    ///
    /// let broken = WorkerPool::<()>::builder()
    ///     .worker_setup(|_| Err::<(), _>("no database"))
    ///     .build();
    /// assert!(matches!(broken, Err(BuildError::Setup { .. })));
    ///
    /// // One replica of three down: build one worker, summon the others.
    /// let pool = WorkerPool::<()>::builder()
    ///     .workers(1)
    ///     .worker_setup(|w| if w.index() == 2 { Err("replica 2 down") } else { Ok(()) })
    ///     .build()
    ///     .unwrap();
    /// assert!(matches!(pool.summon(3), Err(BuildError::Setup { worker: 2, .. })));
    /// assert_eq!((pool.poolsize(), pool.metrics().setup_failures), (3, 1));
    /// ```
    pub fn worker_setup<S, E, F>(self, setup: F) -> Builder<Closures<'static, T, S>>
    where
        F: Fn(&WorkerInfo) -> Result<S, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        let mut settings = self.settings;
        if self.kind.has_teardown() {
            settings.refused = Some("worker_teardown was set before worker_setup: set it after");
        }
        if self.inbox.is_some() {
            settings.refused = Some("an inbox was set before worker_setup: set it after");
        }
        Builder {
            settings,
            kind: Closures::new(
                Arc::new(move |info: &WorkerInfo| setup(info).map_err(Into::into)),
                true,
                None,
            ),
            inbox: None,
            outbox: self.outbox,
            errbox: self.errbox,
        }
    }

    /// As [`worker_setup`](Builder::worker_setup), for a state whose making
    /// cannot fail: no error type to name.
    ///
    /// ```
    /// use worklight::{Job, WorkerPool};
    /// let pool = WorkerPool::builder()
    ///     .workers(2)
    ///     .worker_state(|_| String::with_capacity(64))
    ///     .build()
    ///     .unwrap();
    /// let job = Job::stateful(|line: &mut String| {
    ///     line.clear(); // a buffer each worker reuses
    ///     line.push_str("reused");
    ///     line.len()
    /// });
    /// pool.inbox.put(job).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.get().unwrap(), 6);
    /// ```
    pub fn worker_state<S, F>(self, state: F) -> Builder<Closures<'static, T, S>>
    where
        F: Fn(&WorkerInfo) -> S + Send + Sync + 'static,
    {
        self.worker_setup(move |info| Ok::<S, std::convert::Infallible>(state(info)))
    }
}

impl<T: Send + 'static, S: 'static> Builder<Closures<'static, T, S>> {
    /// Runs `teardown` with a worker's state when the worker leaves.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let used = Arc::new(Mutex::new(Vec::new()));
    /// let u = used.clone();
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(1)
    ///     .worker_setup(|_| Ok::<_, std::io::Error>(0u32))
    ///     .worker_teardown(move |jobs_run: u32, _| u.lock().unwrap().push(jobs_run))
    ///     .build()
    ///     .unwrap();
    /// for _ in 0..3 {
    ///     pool.inbox.put(worklight::Job::stateful(|n: &mut u32| *n += 1)).unwrap();
    /// }
    /// pool.exile().unwrap();
    /// assert_eq!(*used.lock().unwrap(), vec![3]);
    /// ```
    pub fn worker_teardown(
        mut self,
        teardown: impl Fn(S, &WorkerInfo) + Send + Sync + 'static,
    ) -> Self {
        self.kind.set_teardown(Arc::new(teardown));
        self
    }

    pub(crate) fn into_scoped_parts(self) -> Result<ScopedParts<T, S>, BuildError> {
        if self.inbox.is_some() {
            return Err(BuildError::Invalid("a scoped pool makes its own inbox"));
        }
        if self.settings.capacity == Some(0) {
            return Err(BuildError::ZeroCapacity);
        }
        if self.settings.summoning.is_some() {
            return Err(BuildError::Invalid("a scoped pool cannot size itself"));
        }
        Ok(ScopedParts {
            settings: self.settings,
            kind: self.kind,
            outbox: self.outbox,
            errbox: self.errbox,
        })
    }
}

/// What a scoped pool takes from a builder.
pub(crate) struct ScopedParts<T, S> {
    pub(crate) settings: Settings,
    pub(crate) kind: Closures<'static, T, S>,
    pub(crate) outbox: Option<Arc<dyn Sink<T>>>,
    pub(crate) errbox: Option<Arc<dyn Sink<JobError>>>,
}

impl<K: Kind> Builder<K> {
    pub(crate) fn with_kind(kind: K) -> Self {
        Builder {
            settings: Settings::default(),
            kind,
            inbox: None,
            outbox: None,
            errbox: None,
        }
    }

    /// The number of workers to start with (at least 1). Left unset, one
    /// per core the process may use ([`std::thread::available_parallelism`],
    /// read when the pool is built).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.poolsize(), 3);
    ///
    /// let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// let pool = worklight::WorkerPool::<()>::builder().build().unwrap();
    /// assert_eq!(pool.poolsize(), cores);
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.settings.workers = Some(n);
        self
    }

    /// The worker threads' name before `-<n>`; `Worker` by default. A name
    /// with a NUL byte is refused at build ([`BuildError::Invalid`]).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).name("Crawler").build().unwrap();
    /// pool.inbox.put(|| std::thread::current().name().map(String::from)).unwrap();
    /// assert_eq!(pool.outbox.get().unwrap().as_deref(), Some("Crawler-0"));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings.name = name.into();
        self
    }

    /// A suffix after the worker threads' `Worker-<n>` names (no NUL byte,
    /// as for [`name`](Builder::name)).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).suffix("-db").build().unwrap();
    /// pool.inbox.put(|| std::thread::current().name().map(String::from)).unwrap();
    /// assert_eq!(pool.outbox.get().unwrap().as_deref(), Some("Worker-0-db"));
    /// ```
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.settings.suffix = suffix.into();
        self
    }

    /// The worker threads' stack size in bytes: at least
    /// [`MIN_STACK_SIZE`], or the build fails with [`BuildError::Invalid`]
    /// (on a smaller stack a job's panic overflows it while unwinding,
    /// which aborts the process instead of landing on the errbox).
    ///
    /// ```
    /// use worklight::{BuildError, MIN_STACK_SIZE, WorkerPool};
    /// let pool = WorkerPool::builder().stack_size(8 << 20).build().unwrap();
    /// pool.inbox.put(|| [0u8; 1 << 20].len()).unwrap(); // a large frame fits in 8 MiB
    /// assert_eq!(pool.outbox.get(), Ok(1 << 20));
    ///
    /// let tiny = WorkerPool::<()>::builder().stack_size(MIN_STACK_SIZE - 1).build();
    /// assert!(matches!(tiny, Err(BuildError::Invalid(_))));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.settings.stack_size = Some(bytes);
        self
    }

    /// Bounds the inbox: `put` blocks while `n` jobs wait to be started,
    /// `try_put` and `put_timeout` hand the job back. (Workers of a bounded
    /// inbox take one job at a time, so the bound covers every job not yet
    /// started.) Not with a caller-supplied inbox, which has its own bound.
    /// A self-sizing pool grows a step on each put that finds the inbox
    /// full, so a bound smaller than `ratio` jobs per worker does not hold
    /// it back.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(2).paused().build().unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.inbox.put(|| 2).unwrap();
    /// assert!(pool.inbox.try_put(|| 3).unwrap_err().is_full());
    /// ```
    pub fn capacity(mut self, n: usize) -> Self {
        self.settings.capacity = Some(n);
        self
    }

    /// Starts the pool paused: jobs queue until [`resume`](Pool::resume).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
    /// pool.inbox.put(|| "waits").unwrap();
    /// assert_eq!(pool.inbox.len(), 1);
    /// pool.resume();
    /// assert_eq!(pool.outbox.get(), Ok("waits"));
    /// ```
    pub fn paused(mut self) -> Self {
        self.settings.paused = true;
        self
    }

    /// Ramps up: worker k takes its first job k × `stagger` after the pool
    /// starts (and likewise for [`summon`](Pool::summon)). An exile that
    /// drains keeps the ramp-up while jobs remain. A delay too long for the
    /// clock to count (`Duration::MAX`) holds the worker until the exile,
    /// which releases it to help drain the inbox.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// let start = Instant::now();
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(3)
    ///     .stagger(Duration::from_millis(20))
    ///     .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
    ///     .build()
    ///     .unwrap();
    /// // Worker 2 takes its first job no earlier than 2 × 20 ms after the start.
    /// for _ in 0..30 {
    ///     pool.inbox.put(worklight::Job::stateful(move |i: &mut usize| (*i, start.elapsed()))).unwrap();
    /// }
    /// pool.exile().unwrap();
    /// assert!(pool.outbox.iter().all(|(i, t)| t >= Duration::from_millis(20) * i as u32));
    /// ```
    pub fn stagger(mut self, stagger: Duration) -> Self {
        self.settings.stagger = Some(stagger);
        self
    }

    /// Runs `hook` on each worker's thread when it starts, before its setup.
    /// A panic in it counts as a failed setup.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let s = started.clone();
    /// let pool = worklight::WorkerPool::<()>::builder()
    ///     .workers(3)
    ///     .on_worker_start(move |_| { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(started.load(Ordering::SeqCst), 3);
    /// ```
    pub fn on_worker_start(mut self, hook: impl Fn(&WorkerInfo) + Send + Sync + 'static) -> Self {
        self.settings.on_start = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` on each worker's thread as it leaves, after its teardown.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let s = stopped.clone();
    /// let pool = worklight::WorkerPool::<()>::builder()
    ///     .workers(2)
    ///     .on_worker_stop(move |_| { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// pool.banish(1);
    /// pool.exile().unwrap();
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_worker_stop(mut self, hook: impl Fn(&WorkerInfo) + Send + Sync + 'static) -> Self {
        self.settings.on_stop = Some(Arc::new(hook));
        self
    }

    /// Makes the pool size itself to the work between `policy.min()` and
    /// `policy.max()` workers: it starts
    /// with `min` workers (the `workers` setting is not used), grows on the
    /// put that leaves more than `ratio` jobs queued per worker, or that
    /// finds a bounded inbox ([`capacity`](Builder::capacity)) full, and a
    /// surplus worker retires after waiting `keep_alive` with nothing to do.
    /// Not for scoped pools. See [`Summoning`] for the policy.
    ///
    /// `max` bounds the workers that can take jobs. A worker that has left
    /// may still be running its teardown and stop hook while a new one
    /// starts in its place: state that stands for a limited resource (a
    /// connection opened by `worker_setup`) can briefly number one more
    /// per leaving worker.
    ///
    /// `put` does not fail when the system refuses a new worker thread: the
    /// job stays queued and the next put tries again. Nor does it fail when
    /// a worker it started fails its [`worker_setup`](Builder::worker_setup):
    /// with no caller waiting on that worker, the failure is counted in
    /// [`Metrics::setup_failures`](crate::Metrics::setup_failures) and its
    /// error dropped. With no worker at
    /// all, [`wait_idle`](Pool::wait_idle) reports
    /// [`WaitError::NoWorkers`](crate::WaitError::NoWorkers) and the
    /// exile hands the queued jobs back with the spawn error.
    ///
    /// ```
    /// use std::time::Duration;
    /// use worklight::{Summoning, WorkerPool};
    /// let pool = WorkerPool::builder()
    ///     .summoning(Summoning::new(1, 4).keep_alive(Duration::from_millis(50)))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.poolsize(), 1);
    /// pool.pause();
    /// for n in 0..10 {
    ///     pool.inbox.put(move || n).unwrap();
    /// }
    /// pool.resume(); // grows: 10 queued jobs for 1 worker
    /// assert!(pool.metrics().high_water > 1);
    /// assert!(pool.poolsize() <= 4);
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.len(), 10);
    /// ```
    pub fn summoning(mut self, policy: Summoning) -> Self {
        self.settings.summoning = Some(policy);
        self
    }

    /// Takes jobs from a caller-supplied inbox — one shared by several
    /// pools, or fed by other threads — instead of a new one. It closes when
    /// the last pool fed by it is exiled.
    ///
    /// The build starts all or nothing: no worker takes a job from the
    /// inbox before every worker has started, so a build that fails (a
    /// thread the system refuses, a failed setup) leaves every job on the
    /// inbox.
    ///
    /// Unlike the outbox and the errbox, which take any [`Sink`], the inbox
    /// is always an [`Inbox`]: the workers take jobs from it in batches
    /// and sleep on it, which no other queue type could offer. Feed it from
    /// another source with a thread that puts what it reads (a bounded
    /// inbox holds that thread back when the workers fall behind).
    ///
    /// ```
    /// use worklight::{Inbox, Job, WorkerPool};
    /// let shared: Inbox<Job<'static, u8>> = Inbox::bounded(100).unwrap();
    /// let pool = WorkerPool::builder().inbox(shared.clone()).build().unwrap();
    /// shared.put(|| 1).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.get(), Ok(1));
    /// assert!(shared.is_closed());
    /// ```
    pub fn inbox(mut self, inbox: Inbox<K::Item>) -> Self {
        self.inbox = Some(inbox);
        self
    }

    /// Delivers results to a caller-supplied box instead of the pool's own
    /// outbox (which then stays empty, and whose reads end at once): a
    /// crossbeam or std channel sender,
    /// a [`callback`](crate::callback), or your own [`Sink`]. A result the
    /// box accepted is delivered: one still in a channel's buffer when its
    /// receiver is dropped goes with the channel. If its reader is gone, the
    /// results it refuses are dropped and counted in
    /// [`Metrics::discarded`](crate::Metrics::discarded); a bounded channel
    /// nobody reads blocks the workers (and so `exile`) until it is read.
    ///
    /// ```
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let pool = worklight::WorkerPool::builder().workers(2).outbox(tx).build().unwrap();
    /// pool.inbox.put(|| 5).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn outbox(mut self, sink: impl Sink<K::Output> + 'static) -> Self {
        self.outbox = Some(Arc::new(sink));
        self
    }

    /// Delivers failures to a caller-supplied box instead of the pool's own
    /// errbox (which then stays empty); as [`outbox`](Builder::outbox).
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let pool = worklight::WorkerPool::<()>::builder().errbox(tx).build().unwrap();
    /// pool.inbox.put(|| panic!("to the channel")).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(rx.recv().unwrap().panic().unwrap().message(), "to the channel");
    /// ```
    pub fn errbox(mut self, sink: impl Sink<JobError<K::Error>> + 'static) -> Self {
        self.errbox = Some(Arc::new(sink));
        self
    }

    /// Builds the pool and starts its workers.
    ///
    /// Errors: zero workers or zero capacity; a setting out of range
    /// ([`BuildError::Invalid`]: a bad [`Summoning`] policy, a stack below
    /// [`MIN_STACK_SIZE`], a NUL byte in the name or suffix, a capacity with
    /// a caller-supplied inbox, a teardown or inbox set before the setup);
    /// a closed caller-supplied inbox; a thread that could not be started;
    /// a worker setup or start hook that failed.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<u8>::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.poolsize(), 2);
    /// let zero = worklight::WorkerPool::<u8>::builder().workers(0).build();
    /// assert!(matches!(zero, Err(worklight::BuildError::ZeroWorkers)));
    /// ```
    pub fn build(self) -> Result<Pool<'static, K>, BuildError>
    where
        K: 'static,
    {
        let settings = Settings {
            shared_inbox: self.inbox.is_some(),
            ..self.settings
        };
        let inbox = take_inbox(&settings, self.inbox)?;
        let spawner: Box<SpawnFn<'static>> = Box::new(|b, body| b.spawn(body).map(handle));
        let pool = assemble(
            settings,
            self.kind,
            inbox,
            self.outbox,
            self.errbox,
            spawner,
        )?;
        if pool.core.ctl.scaling.is_some() {
            pool.core.register_growth();
        }
        Ok(pool)
    }
}

/// The caller's inbox, or a new one with the configured bound.
pub(crate) fn take_inbox<I>(
    settings: &Settings,
    given: Option<Inbox<I>>,
) -> Result<Inbox<I>, BuildError> {
    match (given, settings.capacity) {
        (_, Some(0)) => Err(BuildError::ZeroCapacity),
        (Some(_), Some(_)) => Err(BuildError::Invalid(
            "capacity is set on the caller-supplied inbox, not on the builder",
        )),
        (Some(inbox), None) => Ok(inbox),
        (None, capacity) => Ok(Inbox::with_capacity(capacity)),
    }
}

/// Makes the pool's own boxes, wires in the caller's, and starts the
/// workers.
pub(crate) fn assemble<'a, K: Kind + 'a>(
    settings: Settings,
    kind: K,
    inbox: Inbox<K::Item>,
    outbox: Option<Arc<dyn Sink<K::Output> + 'a>>,
    errbox: Option<Arc<dyn Sink<JobError<K::Error>> + 'a>>,
    spawner: Box<SpawnFn<'a>>,
) -> Result<Pool<'a, K>, BuildError> {
    let (out_tx, out_rx) = crossbeam_channel::unbounded();
    let (err_tx, err_rx) = crossbeam_channel::unbounded();
    let targets = Targets {
        out: outbox.map_or(Target::Own(out_tx), Target::Custom),
        err: errbox.map_or(Target::Own(err_tx), Target::Custom),
    };
    let core = Core::new(settings, kind, inbox, targets, spawner)?;
    core.launch()?;
    Ok(Pool::from_core(
        core,
        Outbox::new(out_rx),
        Outbox::new(err_rx),
    ))
}
