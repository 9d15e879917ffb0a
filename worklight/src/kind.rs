//! What a pool's inbox carries and how a worker runs it: closures
//! ([`Closures`]) or plain data for a handler ([`Handlers`](crate::Handlers)).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::job::{BoxError, Job, Label, RunFn};

/// Facts about a worker, given to its setup, its hooks and handler factories.
///
/// ```
/// let pool = worklight::WorkerPool::builder()
///     .workers(2)
///     .suffix("-io")
///     .worker_setup(|w| Ok::<_, std::io::Error>(format!("{} #{}", w.name(), w.index())))
///     .build()
///     .unwrap();
/// pool.inbox.put(worklight::Job::stateful(|s: &mut String| s.clone())).unwrap();
/// pool.exile().unwrap();
/// assert!(pool.outbox.get().unwrap().starts_with("Worker-"));
/// ```
#[derive(Debug, Clone)]
pub struct WorkerInfo {
    pub(crate) index: usize,
    pub(crate) name: Arc<str>,
}

impl WorkerInfo {
    /// The worker's number in its pool: 0, 1, 2… in the order started
    /// (summoned workers continue the count).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(1)
    ///     .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
    ///     .build()
    ///     .unwrap();
    /// pool.inbox.put(worklight::Job::stateful(|i: &mut usize| *i)).unwrap();
    /// assert_eq!(pool.outbox.get(), Ok(0));
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }
    /// The worker thread's name: `<name>-<index><suffix>`, by default
    /// `Worker-<index>` ([`Builder::name`](crate::Builder::name),
    /// [`Builder::suffix`](crate::Builder::suffix)).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(1)
    ///     .worker_setup(|w| Ok::<_, std::io::Error>(w.name().to_owned()))
    ///     .build()
    ///     .unwrap();
    /// pool.inbox.put(worklight::Job::stateful(|n: &mut String| n.clone())).unwrap();
    /// assert_eq!(pool.outbox.get().unwrap(), "Worker-0");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The kind of work a pool does: what its inbox carries, what lands in its
/// boxes, and what each worker keeps. Sealed: the kinds are [`Closures`]
/// and [`Handlers`](crate::Handlers).
///
/// ```
/// fn queued<K: worklight::Kind>(pool: &worklight::Pool<'_, K>) -> usize {
///     pool.inbox.len()
/// }
/// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
/// assert_eq!(queued(&pool), 0);
/// ```
pub trait Kind: sealed::Sealed + Send + Sync {
    /// What the inbox carries.
    type Item: Send;
    /// What lands on the outbox.
    type Output: Send;
    /// The error in errbox reports.
    type Error: Send;
    #[doc(hidden)]
    type Worker;
    #[doc(hidden)]
    type Task: Send;
    #[doc(hidden)]
    fn start(&self, info: &WorkerInfo) -> Result<Self::Worker, BoxError>;
    #[doc(hidden)]
    fn split(item: Self::Item) -> (Option<Label>, Self::Task);
    #[doc(hidden)]
    fn run(worker: &mut Self::Worker, task: Self::Task) -> Result<Self::Output, Self::Error>;
    #[doc(hidden)]
    fn stop(&self, worker: Self::Worker, info: &WorkerInfo);
    #[doc(hidden)]
    fn has_setup(&self) -> bool;
}

pub(crate) type SetupFn<S> = dyn Fn(&WorkerInfo) -> Result<S, BoxError> + Send + Sync;
pub(crate) type TeardownFn<S> = dyn Fn(S, &WorkerInfo) + Send + Sync;

/// The kind of a pool whose inbox carries closures ([`Job`]s) returning `T`,
/// run by workers that each keep a state `S` (see
/// [`Builder::worker_setup`](crate::Builder::worker_setup)).
///
/// ```
/// use worklight::{Closures, Pool};
/// // `WorkerPool<u8>` is this type:
/// let pool: Pool<'static, Closures<'static, u8>> = worklight::WorkerPool::new(1).unwrap();
/// pool.inbox.put(|| 3).unwrap();
/// assert_eq!(pool.outbox.get(), Ok(3));
/// ```
pub struct Closures<'a, T, S = ()> {
    setup: Arc<SetupFn<S>>,
    /// Whether `setup` was the caller's (the pool then waits for it).
    custom_setup: bool,
    teardown: Option<Arc<TeardownFn<S>>>,
    _jobs: PhantomData<fn() -> Job<'a, T, S>>,
}

impl<T, S> Closures<'_, T, S> {
    pub(crate) fn new(
        setup: Arc<SetupFn<S>>,
        custom_setup: bool,
        teardown: Option<Arc<TeardownFn<S>>>,
    ) -> Self {
        Closures {
            setup,
            custom_setup,
            teardown,
            _jobs: PhantomData,
        }
    }
}

impl<'a, T, S> Closures<'a, T, S> {
    pub(crate) fn set_teardown(&mut self, teardown: Arc<TeardownFn<S>>) {
        self.teardown = Some(teardown);
    }

    pub(crate) fn has_teardown(&self) -> bool {
        self.teardown.is_some()
    }

    /// The same settings for jobs of another lifetime (a scoped pool's).
    pub(crate) fn for_jobs<'b>(self) -> Closures<'b, T, S> {
        Closures::new(self.setup, self.custom_setup, self.teardown)
    }
}

impl<T, S> fmt::Debug for Closures<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closures")
            .field("worker_setup", &self.custom_setup)
            .field("worker_teardown", &self.teardown.is_some())
            .finish()
    }
}

impl<T, S> sealed::Sealed for Closures<'_, T, S> {}

impl<'a, T: Send + 'a, S> Kind for Closures<'a, T, S> {
    type Item = Job<'a, T, S>;
    type Output = T;
    type Error = BoxError;
    type Worker = S;
    type Task = RunFn<'a, T, S>;

    fn start(&self, info: &WorkerInfo) -> Result<S, BoxError> {
        (self.setup)(info)
    }

    fn split(item: Job<'a, T, S>) -> (Option<Label>, Self::Task) {
        let (run, label) = item.into_parts();
        (label, run)
    }

    fn run(worker: &mut S, task: Self::Task) -> Result<T, BoxError> {
        task.call(worker)
    }

    fn stop(&self, worker: S, info: &WorkerInfo) {
        if let Some(teardown) = &self.teardown {
            teardown(worker, info);
        }
    }

    fn has_setup(&self) -> bool {
        self.custom_setup
    }
}
