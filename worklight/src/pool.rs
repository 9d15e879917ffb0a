//! The pool handle: its boxes and its controls.

use std::fmt;
use std::time::Duration;

use crate::builder::Builder;
use crate::core::Core;
use crate::error::{BuildError, ExileError, Exit, WaitError};
use crate::inbox::Inbox;
use crate::kind::{Closures, Kind};
use crate::metrics::Metrics;
use crate::outbox::{Errbox, Outbox};
use crate::sync::Arc;

/// A pool of worker threads with an inbox, an outbox and an errbox.
///
/// Workers take jobs off the [`inbox`](Pool::inbox), put what a job returns
/// on the [`outbox`](Pool::outbox) and its error or panic on the
/// [`errbox`](Pool::errbox). The usual forms are [`WorkerPool`] (closure
/// jobs, `'static`), [`ScopedPool`](crate::ScopedPool) (closure jobs that
/// borrow, from [`pool`](crate::pool)) and [`HandlerPool`](crate::HandlerPool)
/// (plain data run by a [`Handler`](crate::Handler)).
///
/// Dropping a pool [`exile`](Pool::exile)s it: the inbox is worked off and
/// every worker joined. A drop on one of the pool's own workers (the last
/// handle went into a job or a hook) begins the exile without waiting: the
/// inbox is still worked off, but no one joins the workers. (In the rare
/// cases that every worker was banished and no thread can be started to
/// run the queued jobs, or that the setup of every worker still there
/// failed, `Drop` has no one to hand them to and drops them unrun, one at
/// a time, a panic in a job's own `Drop` caught; call `exile`, which hands
/// them back in its error, to get them.)
///
/// A drop anywhere else, a job of another pool included, is a full exile
/// that waits for the workers: two jobs of two pools that each drop the
/// last handle of the other's pool wait for each other for good.
///
/// A pool that holds a handle to itself is never dropped, as with an `Rc`
/// cycle, so never exiled: its threads and its queue live on. Such a
/// handle is an `Arc` of the pool kept in a caller-supplied box, a hook, a
/// worker's state, or a queued job of a paused pool (a job that runs drops
/// it). Exile such a pool yourself: the exile joins the threads and drops
/// the boxes and the workers' states, which ends those cycles; a hook is
/// kept until the pool is dropped, so a hook should hold a `Weak`.
///
/// ```
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// pool.inbox.put(|| 1).unwrap();
/// pool.inbox.put(worklight::Job::fallible(|| Err::<i32, _>("broken"))).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.iter().collect::<Vec<_>>(), vec![1]);
/// assert_eq!(pool.errbox.iter().count(), 1);
/// ```
pub struct Pool<'a, K: Kind + 'a> {
    /// Where jobs go in.
    pub inbox: Inbox<K::Item>,
    /// Where results come out.
    pub outbox: Outbox<K::Output>,
    /// Where failures come out.
    pub errbox: Errbox<K::Error>,
    pub(crate) core: Arc<Core<'a, K>>,
}

/// A pool for `'static` closure jobs returning `T`, whose workers keep a
/// state `S`: the pool that lives as long as its owner.
///
/// It is a name for `Pool<'static, Closures<'static, T, S>>`, which is what
/// compiler messages show. A function that takes a pool with any worker
/// state names `S`:
///
/// ```
/// use worklight::WorkerPool;
/// fn sum_squares<S>(pool: &WorkerPool<u64, S>, n: u64) -> u64 {
///     for i in 0..n {
///         pool.inbox.put(move || i * i).unwrap();
///     }
///     pool.wait_idle().unwrap();
///     pool.outbox.try_iter().sum()
/// }
/// let plain = WorkerPool::new(2).unwrap();
/// let with_state = WorkerPool::builder()
///     .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
///     .build()
///     .unwrap();
/// assert_eq!(sum_squares(&plain, 4), 14);
/// assert_eq!(sum_squares(&with_state, 4), 14);
/// ```
///
/// Its jobs run on other threads, so they must be `Send`:
///
/// ```compile_fail
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// let shared = std::rc::Rc::new(5);
/// pool.inbox.put(move || *shared + 1).unwrap(); // Rc is not Send
/// ```
///
/// and `'static`, because the pool may outlive the caller's stack frame (use
/// [`pool`](crate::pool) for jobs that borrow):
///
/// ```compile_fail
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// let local = vec![1, 2, 3];
/// pool.inbox.put(|| local.len()).unwrap(); // borrows `local`
/// ```
///
/// Results cross threads too, so they must be `Send`:
///
/// ```compile_fail
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// pool.inbox.put(|| std::rc::Rc::new(1)).unwrap();
/// ```
///
/// ```
/// use worklight::WorkerPool;
/// let pool = WorkerPool::new(4).unwrap();
/// for n in 1..=10u64 {
///     pool.inbox.put(move || n * 2).unwrap();
/// }
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.iter().sum::<u64>(), 110);
/// ```
pub type WorkerPool<T, S = ()> = Pool<'static, Closures<'static, T, S>>;

impl<T: Send + 'static> WorkerPool<T> {
    /// A pool of `workers` threads with default settings.
    ///
    /// ```
    /// assert!(matches!(
    ///     worklight::WorkerPool::<()>::new(0),
    ///     Err(worklight::BuildError::ZeroWorkers)
    /// ));
    /// ```
    pub fn new(workers: usize) -> Result<Self, BuildError> {
        Builder::new().workers(workers).build()
    }

    /// A builder for a pool with settings of your choosing.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<u8>::builder()
    ///     .workers(3)
    ///     .capacity(100)
    ///     .suffix("-fetch")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.poolsize(), 3);
    /// ```
    pub fn builder() -> Builder<Closures<'static, T>> {
        Builder::new()
    }
}

impl<'a, K: Kind + 'a> Pool<'a, K> {
    pub(crate) fn from_core(
        core: Arc<Core<'a, K>>,
        outbox: Outbox<K::Output>,
        errbox: Errbox<K::Error>,
    ) -> Self {
        Pool {
            inbox: core.inbox.clone(),
            outbox,
            errbox,
            core,
        }
    }

    /// Shuts the pool down: waits until the inbox is worked off, then joins
    /// every worker. A paused pool is resumed to do so; pending banishes are
    /// cancelled, and if every worker was banished while jobs are queued,
    /// one worker is started to run them. Afterwards `put` hands jobs back
    /// (once every pool fed by a shared inbox is exiled), and the boxes hold
    /// every result. Exiling again does nothing. The inbox closes as the
    /// exile begins: jobs that put follow-up jobs get those handed back, so
    /// when jobs spawn jobs, call [`wait_idle`](Pool::wait_idle) first.
    ///
    /// Errors: called from one of the pool's own jobs; or no worker could
    /// be started to run queued jobs, which are then handed back.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// for _ in 0..10 {
    ///     pool.inbox.put(|| ()).unwrap();
    /// }
    /// pool.exile().unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.len(), 10);
    /// assert_eq!(pool.poolsize(), 0);
    /// ```
    #[doc(alias = "shutdown")]
    #[doc(alias = "join")]
    pub fn exile(&self) -> Result<(), ExileError<K::Item>> {
        self.core.exile()
    }

    /// Shuts the pool down now: running jobs finish, the jobs not yet taken
    /// are handed back, unrun. Workers are joined before it returns.
    ///
    /// With an inbox shared by other pools still running, the queued jobs
    /// stay for them and nothing is handed back.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
    /// for n in 0..5 {
    ///     pool.inbox.put(move || n).unwrap();
    /// }
    /// let unrun = pool.exile_now().unwrap();
    /// assert_eq!(unrun.len(), 5);
    /// let sum: i32 = unrun.into_iter().map(|job| job.run(&mut ()).unwrap()).sum();
    /// assert_eq!(sum, 10);
    /// ```
    #[doc(alias = "shutdown_now")]
    #[doc(alias = "cancel")]
    pub fn exile_now(&self) -> Result<Vec<K::Item>, ExileError<K::Item>> {
        self.core.exile_now()
    }

    /// Shuts the pool down, waiting at most `timeout` for the inbox to be
    /// worked off; then, as [`exile_now`](Pool::exile_now), hands back the
    /// jobs not yet taken and returns without waiting for the jobs still
    /// running (whose results still land; a later `exile` or the drop joins
    /// their workers).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// assert!(matches!(pool.exile_timeout(Duration::from_secs(10)).unwrap(), worklight::Exit::Done));
    /// ```
    #[doc(alias = "shutdown_timeout")]
    pub fn exile_timeout(&self, timeout: Duration) -> Result<Exit<K::Item>, ExileError<K::Item>> {
        self.core.exile_timeout(timeout)
    }

    /// Whether an exile has begun.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// assert!(!pool.is_exiled());
    /// pool.exile().unwrap();
    /// assert!(pool.is_exiled());
    /// ```
    pub fn is_exiled(&self) -> bool {
        self.core.is_exiled()
    }

    /// Waits until the inbox is idle, without shutting down: no job queued
    /// or running, and the result or failure of every job that ran has
    /// landed. Jobs put while it waits count too (a job's follow-up jobs
    /// are waited for), so other threads that keep putting keep it
    /// waiting until they pause. With a shared inbox, waits for the jobs of
    /// every pool fed by it. While the pool is paused, its queued jobs wait
    /// for `resume`, and so does this.
    ///
    /// Errors: called from one of the pool's own jobs, or from a job of
    /// another pool fed by the same inbox (its job counts as unfinished, so
    /// this would wait for itself); or jobs are queued and no worker is left
    /// to run them, in this pool or any other fed by the inbox (all
    /// banished, every setup failed, or a self-sizing pool at zero workers
    /// is paused, which stops its growth) — returned as soon as the last
    /// worker leaves, instead of waiting forever.
    ///
    /// ```
    /// use worklight::{WaitError, WorkerPool};
    /// let pool = WorkerPool::builder().workers(1).paused().build().unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.banish(1);
    /// assert_eq!(pool.wait_idle(), Err(WaitError::NoWorkers));
    /// pool.exile().unwrap(); // starts a worker to run the queued job
    /// assert_eq!(pool.outbox.len(), 1);
    /// ```
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.try_get(), Ok(1));
    /// pool.inbox.put(|| 2).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.try_get(), Ok(2));
    /// ```
    pub fn wait_idle(&self) -> Result<(), WaitError> {
        self.core.wait_idle()
    }

    /// Holds the workers off the inbox: each finishes its current job and
    /// takes no new one until [`resume`](Pool::resume). Puts still queue.
    /// An exile resumes the pool for good, to work the inbox off (after it,
    /// `pause` and `resume` do nothing); `exile_now` hands the queued jobs
    /// back.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// pool.pause();
    /// pool.inbox.put(|| 1).unwrap();
    /// assert!(pool.is_paused());
    /// pool.resume();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.len(), 1);
    /// ```
    pub fn pause(&self) {
        self.core.set_paused(true);
    }

    /// Lets paused workers take jobs again.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
    /// pool.inbox.put(|| 'r').unwrap();
    /// pool.resume();
    /// assert_eq!(pool.outbox.get(), Ok('r'));
    /// ```
    pub fn resume(&self) {
        self.core.set_paused(false);
    }

    /// Whether the pool is paused.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// assert!(!pool.is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.core.ctl.is_paused()
    }

    /// Starts `n` more workers, using the builder's stagger: worker k of
    /// them takes its first job k × stagger later. With a worker setup,
    /// returns once every new worker has run it.
    ///
    /// Returns how many were started: `n`, or fewer in a self-sizing pool
    /// at its max.
    ///
    /// Errors: the pool was exiled; a thread could not be started; a setup
    /// failed. Every new worker whose thread started and whose setup
    /// succeeded stays, before or after a failed one ([`poolsize`](Pool::poolsize)
    /// counts them); after a thread that could not be started, no more are
    /// tried.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.summon(3).unwrap();
    /// assert_eq!(pool.poolsize(), 4);
    /// ```
    #[doc(alias = "spawn")]
    #[doc(alias = "grow")]
    #[doc(alias = "add_workers")]
    pub fn summon(&self, n: usize) -> Result<usize, BuildError> {
        self.core.summon(n, self.core.settings.stagger, false)
    }

    /// As [`summon`](Pool::summon), with worker k taking its first job
    /// k × `stagger` later: a ramp-up, for services that must not see
    /// every new worker connect at once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.summon_staggered(2, Duration::from_millis(1)).unwrap();
    /// assert_eq!(pool.poolsize(), 3);
    /// ```
    pub fn summon_staggered(&self, n: usize, stagger: Duration) -> Result<usize, BuildError> {
        self.core.summon(n, Some(stagger), false)
    }

    /// Retires up to `n` workers, each after its current job, and returns at
    /// once with how many will retire (never more than the pool has; in a
    /// self-sizing pool, never below its min).
    /// Banishing every worker while jobs are queued is allowed: the jobs wait
    /// for `summon`, and an exile starts a worker to run them. (A self-sizing
    /// pool keeps its last worker while jobs are queued instead: the
    /// banish leaves it out of its count; and should jobs be put after the
    /// banish, before the last worker has left, that worker's banish is
    /// cancelled, and it stays.) Workers still waiting
    /// out a stagger ([`summon_staggered`](Pool::summon_staggered),
    /// [`Builder::stagger`](crate::Builder::stagger)) retire first, before
    /// any worker that takes jobs.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(4).unwrap();
    /// assert_eq!(pool.banish(3), 3);
    /// assert_eq!(pool.poolsize(), 1);
    /// assert_eq!(pool.banish(5), 1);
    /// assert_eq!(pool.poolsize(), 0);
    /// ```
    #[doc(alias = "shrink")]
    #[doc(alias = "remove_workers")]
    pub fn banish(&self, n: usize) -> usize {
        self.core.banish(n)
    }

    /// How many workers the pool has now (started, not banished, not left).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(3).unwrap();
    /// assert_eq!(pool.poolsize(), 3);
    /// ```
    #[doc(alias = "num_workers")]
    #[doc(alias = "num_threads")]
    pub fn poolsize(&self) -> usize {
        self.core.ctl.poolsize()
    }

    /// A snapshot of the pool's workers and jobs; see [`Metrics`].
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.metrics().completed, 1);
    /// ```
    pub fn metrics(&self) -> Metrics {
        self.core.metrics()
    }
}

impl<'a, K: Kind + 'a> Drop for Pool<'a, K> {
    fn drop(&mut self) {
        self.core.exile_on_drop();
    }
}

impl<'a, K: Kind + 'a> fmt::Debug for Pool<'a, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("poolsize", &self.poolsize())
            .field("queued", &self.inbox.len())
            .field("exiled", &self.is_exiled())
            .finish_non_exhaustive()
    }
}
