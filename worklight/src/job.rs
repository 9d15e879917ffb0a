//! A job: a closure with an id and an optional label.

use std::borrow::Cow;
use std::fmt;

use crate::smallfn::JobFn;

/// The error type of closure jobs: any error that can cross threads.
///
/// `Job::fallible` converts whatever error the closure returns into this with
/// `Into`, so `std::io::Error`, `String` and every `std::error::Error + Send +
/// Sync` work; downcast it on the errbox to get the original type back.
///
/// ```
/// let err: worklight::BoxError = "any message".into();
/// assert_eq!(err.to_string(), "any message");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A job's human-readable label, reported with its failure on the errbox.
///
/// ```
/// let job = worklight::Job::<'_, ()>::new(|| ()).label(String::from("owned labels work too"));
/// assert_eq!(job.label_str(), Some("owned labels work too"));
/// ```
pub type Label = Cow<'static, str>;

/// The id that `put` returns for a job, and that its errbox report carries.
///
/// Ids are unique per inbox and increase in the order jobs were accepted.
///
/// ```
/// let pool = worklight::WorkerPool::new(1).unwrap();
/// let a = pool.inbox.put(|| 1).unwrap();
/// let b = pool.inbox.put(|| 2).unwrap();
/// assert!(a < b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub(crate) u64);

impl JobId {
    /// The id as a number.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// let id = pool.inbox.put(|| ()).unwrap();
    /// assert_eq!(id.get(), 0);
    /// ```
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job #{}", self.0)
    }
}

pub(crate) type RunFn<'a, T, S> = JobFn<'a, S, Result<T, BoxError>>;

/// A closure for a pool to run, with an optional label.
///
/// Plain closures are put on an inbox as they are (`pool.inbox.put(|| 42)`);
/// build a `Job` when the closure can fail, needs its worker's state, or
/// should carry a label in its failure report.
///
/// `'a` is how long the closure may borrow: `'static` for a
/// [`WorkerPool`](crate::WorkerPool), the scope for [`pool`](crate::pool).
/// `T` is what it returns to the outbox; `S` is the worker state it may use.
///
/// ```
/// use worklight::Job;
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// pool.inbox.put(Job::fallible(|| "7".parse::<u32>()).label("parse seven")).unwrap();
/// pool.inbox.put(Job::fallible(|| "x".parse::<u32>()).label("parse x")).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![7]);
/// let err = pool.errbox.try_get().unwrap();
/// assert_eq!(err.label(), Some("parse x"));
/// ```
#[must_use = "a job does nothing until it is put on an inbox"]
pub struct Job<'a, T, S = ()> {
    run: RunFn<'a, T, S>,
    /// Boxed so that an unlabelled job costs one pointer, not a `Cow`.
    label: Option<Box<Label>>,
}

impl<'a, T, S> Job<'a, T, S> {
    /// A job that cannot fail: what it returns goes to the outbox.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.inbox.put(worklight::Job::new(|| 6 * 7).label("answer")).unwrap();
    /// assert_eq!(pool.outbox.get(), Ok(42));
    /// ```
    pub fn new(f: impl FnOnce() -> T + Send + 'a) -> Self {
        Job {
            run: JobFn::new(move |_: &mut S| Ok(f())),
            label: None,
        }
    }

    /// A job that may fail: `Ok` goes to the outbox, `Err` to the errbox.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<Vec<u8>>::new(1).unwrap();
    /// pool.inbox.put(worklight::Job::fallible(|| std::fs::read("/no/such/file"))).unwrap();
    /// let failure = pool.errbox.get().unwrap();
    /// assert!(failure.error().unwrap().is::<std::io::Error>());
    /// ```
    pub fn fallible<E: Into<BoxError>>(f: impl FnOnce() -> Result<T, E> + Send + 'a) -> Self {
        Job {
            run: JobFn::new(move |_: &mut S| f().map_err(Into::into)),
            label: None,
        }
    }

    /// A job that uses the state of the worker that runs it (see
    /// [`Builder::worker_setup`](crate::Builder::worker_setup)).
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(1)
    ///     .worker_setup(|_| Ok::<_, std::io::Error>(Vec::<u8>::with_capacity(64)))
    ///     .build()
    ///     .unwrap();
    /// pool.inbox.put(worklight::Job::stateful(|buf: &mut Vec<u8>| { buf.push(1); buf.len() })).unwrap();
    /// pool.inbox.put(worklight::Job::stateful(|buf: &mut Vec<u8>| { buf.push(2); buf.len() })).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![1, 2]);
    /// ```
    pub fn stateful(f: impl FnOnce(&mut S) -> T + Send + 'a) -> Self {
        Job {
            run: JobFn::new(move |s: &mut S| Ok(f(s))),
            label: None,
        }
    }

    /// A job that uses its worker's state and may fail.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder()
    ///     .workers(1)
    ///     .worker_setup(|w| Ok::<_, std::io::Error>(w.index()))
    ///     .build()
    ///     .unwrap();
    /// pool.inbox
    ///     .put(worklight::Job::stateful_fallible(|i: &mut usize| {
    ///         if *i == 0 { Err("worker 0 refuses") } else { Ok(()) }
    ///     }))
    ///     .unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.errbox.len(), 1);
    /// ```
    pub fn stateful_fallible<E: Into<BoxError>>(
        f: impl FnOnce(&mut S) -> Result<T, E> + Send + 'a,
    ) -> Self {
        Job {
            run: JobFn::new(move |s: &mut S| f(s).map_err(Into::into)),
            label: None,
        }
    }

    /// Names the job; the name is reported with its failure.
    ///
    /// ```
    /// let job = worklight::Job::<'_, ()>::new(|| ()).label(format!("file {}", 3));
    /// assert_eq!(job.label_str(), Some("file 3"));
    /// ```
    pub fn label(mut self, label: impl Into<Label>) -> Self {
        self.label = Some(Box::new(label.into()));
        self
    }

    /// The job's label, if it has one.
    ///
    /// ```
    /// assert_eq!(worklight::Job::<'_, ()>::new(|| ()).label_str(), None);
    /// ```
    pub fn label_str(&self) -> Option<&str> {
        self.label.as_deref().map(|l| &**l)
    }

    /// Runs the job here, on the caller's thread, with the given state: how
    /// a caller works off jobs that a pool handed back.
    ///
    /// ```
    /// let job = worklight::Job::<'_, u32>::new(|| 5);
    /// assert_eq!(job.run(&mut ()).unwrap(), 5);
    /// ```
    pub fn run(self, state: &mut S) -> Result<T, BoxError> {
        self.run.call(state)
    }

    pub(crate) fn into_parts(self) -> (RunFn<'a, T, S>, Option<Label>) {
        (self.run, self.label.map(|l| *l))
    }
}

impl<T, S> fmt::Debug for Job<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// What can be put on an inbox: the inbox's item type itself, and for closure
/// pools any `FnOnce() -> T` closure, which becomes a [`Job::new`].
///
/// ```
/// fn put_all<I>(inbox: &worklight::Inbox<I>, jobs: Vec<impl worklight::IntoJob<I>>) {
///     for job in jobs {
///         inbox.put(job).unwrap();
///     }
/// }
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// put_all(&pool.inbox, vec![|| 1, || 1]);
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.try_iter().sum::<i32>(), 2);
/// ```
pub trait IntoJob<I> {
    /// Converts into the inbox's item.
    fn into_job(self) -> I;
}

impl<I> IntoJob<I> for I {
    fn into_job(self) -> I {
        self
    }
}

impl<'a, T, S, F> IntoJob<Job<'a, T, S>> for F
where
    F: FnOnce() -> T + Send + 'a,
{
    fn into_job(self) -> Job<'a, T, S> {
        Job::new(self)
    }
}
