//! The library's own errors. Every error about an item hands the item back,
//! and their `Debug` does not need the item to be `Debug`.

use std::fmt;
use std::io;

use crate::job::BoxError;

/// `put` failed: the inbox is closed (its last pool was exiled). The job is
/// handed back.
///
/// ```
/// let pool = worklight::WorkerPool::new(1).unwrap();
/// pool.exile().unwrap();
/// let err = pool.inbox.put(|| 1).unwrap_err();
/// let job = err.into_inner();
/// assert_eq!(job.run(&mut ()).unwrap(), 1);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct PutError<J>(pub J);

/// `try_put` failed: the inbox is full or closed. The job is handed back.
///
/// ```
/// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
/// pool.inbox.try_put(|| 1).unwrap();
/// let err = pool.inbox.try_put(|| 2).unwrap_err();
/// assert!(err.is_full());
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TryPutError<J> {
    /// A bounded inbox had no room.
    Full(J),
    /// The inbox is closed.
    Closed(J),
}

/// `put_timeout` failed: no room came in time, or the inbox is closed. The
/// job is handed back.
///
/// ```
/// # use std::time::Duration;
/// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
/// pool.inbox.put(|| 1).unwrap();
/// let err = pool.inbox.put_timeout(|| 2, Duration::from_millis(1)).unwrap_err();
/// assert!(err.is_timeout());
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum PutTimeoutError<J> {
    /// The inbox stayed full until the timeout.
    Timeout(J),
    /// The inbox is closed.
    Closed(J),
}

impl<J> PutError<J> {
    /// The job that was not put.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.exile().unwrap();
    /// let job = pool.inbox.put(|| 4).unwrap_err().into_inner();
    /// assert_eq!(job.run(&mut ()).unwrap(), 4);
    /// ```
    pub fn into_inner(self) -> J {
        self.0
    }
}

impl<J> TryPutError<J> {
    /// The job that was not put.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// let job = pool.inbox.try_put(|| 2).unwrap_err().into_inner();
    /// assert_eq!(job.run(&mut ()).unwrap(), 2);
    /// ```
    pub fn into_inner(self) -> J {
        match self {
            TryPutError::Full(j) | TryPutError::Closed(j) => j,
        }
    }
    /// Whether the inbox was full.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
    /// pool.inbox.put(|| ()).unwrap();
    /// assert!(pool.inbox.try_put(|| ()).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }
    /// Whether the inbox was closed.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.exile().unwrap();
    /// assert!(pool.inbox.try_put(|| ()).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryPutError::Closed(_))
    }
}

impl<J> PutTimeoutError<J> {
    /// The job that was not put.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.exile().unwrap();
    /// let job = pool.inbox.put_timeout(|| 9, Duration::from_secs(1)).unwrap_err().into_inner();
    /// assert_eq!(job.run(&mut ()).unwrap(), 9);
    /// ```
    pub fn into_inner(self) -> J {
        match self {
            PutTimeoutError::Timeout(j) | PutTimeoutError::Closed(j) => j,
        }
    }
    /// Whether the wait timed out.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::builder().workers(1).capacity(1).paused().build().unwrap();
    /// pool.inbox.put(|| ()).unwrap();
    /// assert!(pool.inbox.put_timeout(|| (), Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, PutTimeoutError::Timeout(_))
    }
    /// Whether the inbox was closed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.exile().unwrap();
    /// assert!(pool.inbox.put_timeout(|| (), Duration::from_secs(1)).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, PutTimeoutError::Closed(_))
    }
}

impl<J> fmt::Debug for PutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}
impl<J> fmt::Debug for TryPutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
impl<J> fmt::Debug for PutTimeoutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            PutTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
impl<J> fmt::Display for PutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("put on a closed inbox")
    }
}
impl<J> fmt::Display for TryPutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("put on a full inbox"),
            TryPutError::Closed(_) => f.write_str("put on a closed inbox"),
        }
    }
}
impl<J> fmt::Display for PutTimeoutError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("timed out putting on a full inbox"),
            PutTimeoutError::Closed(_) => f.write_str("put on a closed inbox"),
        }
    }
}
impl<J> std::error::Error for PutError<J> {}
impl<J> std::error::Error for TryPutError<J> {}
impl<J> std::error::Error for PutTimeoutError<J> {}

/// A box is empty and every pool feeding it has been exiled: nothing more
/// will ever arrive.
///
/// ```
/// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.get(), Err(worklight::Exiled));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exiled;

impl fmt::Display for Exiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("box is empty and its pool was exiled")
    }
}
impl std::error::Error for Exiled {}

/// `try_get` found nothing.
///
/// ```
/// use worklight::TryGetError;
/// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
/// assert_eq!(pool.errbox.try_get().unwrap_err(), TryGetError::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// Nothing is there now; more may come.
    Empty,
    /// Nothing is there and nothing more will come.
    Exiled,
}

/// `get_timeout` found nothing in time.
///
/// ```
/// # use std::time::Duration;
/// use worklight::GetTimeoutError;
/// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.get_timeout(Duration::from_secs(1)), Err(GetTimeoutError::Exiled));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetTimeoutError {
    /// Nothing came before the timeout; more may come.
    Timeout,
    /// Nothing is there and nothing more will come.
    Exiled,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("box is empty"),
            TryGetError::Exiled => Exiled.fmt(f),
        }
    }
}
impl fmt::Display for GetTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetTimeoutError::Timeout => f.write_str("timed out waiting on a box"),
            GetTimeoutError::Exiled => Exiled.fmt(f),
        }
    }
}
impl std::error::Error for TryGetError {}
impl std::error::Error for GetTimeoutError {}

/// Why a pool could not be built, or more workers could not be started.
///
/// ```
/// use worklight::{BuildError, WorkerPool};
/// assert!(matches!(WorkerPool::<()>::new(0), Err(BuildError::ZeroWorkers)));
/// let err = WorkerPool::<()>::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "a bounded inbox needs a capacity of at least one");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A pool needs at least one worker.
    ZeroWorkers,
    /// A bounded inbox needs room for at least one job.
    ZeroCapacity,
    /// The operating system refused to start a worker thread.
    Spawn(io::Error),
    /// A worker's setup (or start hook) returned an error or panicked. From
    /// a build: the workers already started were stopped again, having run
    /// no job. From `summon`: the other new workers stay.
    Setup {
        /// The failing worker's index.
        worker: usize,
        /// What the setup returned, or the panic's message.
        error: BoxError,
    },
    /// The caller-supplied inbox is closed: every pool it fed was exiled.
    InboxClosed,
    /// The pool was already exiled (from `summon`).
    Exiled,
    /// A setting is out of range: the message says which.
    Invalid(&'static str),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroWorkers => f.write_str("a pool needs at least one worker"),
            BuildError::ZeroCapacity => {
                f.write_str("a bounded inbox needs a capacity of at least one")
            }
            BuildError::Spawn(e) => write!(f, "could not start a worker thread: {e}"),
            BuildError::Setup { worker, error } => {
                write!(f, "setup of worker {worker} failed: {error}")
            }
            BuildError::InboxClosed => f.write_str("the inbox is closed"),
            BuildError::Exiled => f.write_str("the pool was exiled"),
            BuildError::Invalid(what) => write!(f, "invalid setting: {what}"),
        }
    }
}

/// The message includes the error behind [`Spawn`](BuildError::Spawn) and
/// [`Setup`](BuildError::Setup), so `source` goes on from that error's own
/// source, as `std::io::Error`'s does: a report that walks the chain
/// (`anyhow`'s `{:#}`) shows each message once. Match the variant to reach
/// the error itself.
///
/// ```
/// use std::error::Error;
/// let e = worklight::BuildError::Setup { worker: 1, error: "replica 1 down".into() };
/// assert_eq!(e.to_string(), "setup of worker 1 failed: replica 1 down");
/// assert!(e.source().is_none());
/// ```
impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn(e) => e.source(),
            BuildError::Setup { error, .. } => error.source(),
            _ => None,
        }
    }
}

/// Why an exile or a wait could not be carried out.
///
/// ```
/// let pool = std::sync::Arc::new(worklight::WorkerPool::new(1).unwrap());
/// let inner = pool.clone();
/// pool.inbox.put(move || matches!(inner.exile(), Err(worklight::ExileError::FromOwnWorker))).unwrap();
/// assert_eq!(pool.outbox.get(), Ok(true));
/// ```
#[non_exhaustive]
pub enum ExileError<J> {
    /// Called from one of the pool's own jobs: waiting for the pool would wait
    /// for the caller itself.
    FromOwnWorker,
    /// Every worker was gone and none could be started to work off the inbox;
    /// the jobs that were not run are handed back.
    Spawn {
        /// Why no worker could be started.
        error: io::Error,
        /// The jobs that were not run.
        unrun: Vec<J>,
    },
    /// Every worker left before the inbox was worked off — each one's setup
    /// failed (see [`Metrics::setup_failures`](crate::Metrics::setup_failures));
    /// the jobs that were not run are handed back.
    Stranded {
        /// The jobs that were not run.
        unrun: Vec<J>,
    },
}

impl<J> fmt::Display for ExileError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExileError::FromOwnWorker => {
                f.write_str("a pool cannot be exiled or waited on from its own job")
            }
            ExileError::Spawn { error, unrun } => write!(
                f,
                "no worker could be started to run the {} queued jobs: {error}",
                unrun.len()
            ),
            ExileError::Stranded { unrun } => write!(
                f,
                "every worker's setup failed; {} queued jobs were not run",
                unrun.len()
            ),
        }
    }
}

/// Shows how many jobs are handed back, not the jobs: `J` need not be
/// `Debug` (a data job rarely is), so `exile().unwrap()` always compiles.
impl<J> fmt::Debug for ExileError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExileError::FromOwnWorker => f.write_str("FromOwnWorker"),
            ExileError::Spawn { error, unrun } => f
                .debug_struct("Spawn")
                .field("error", error)
                .field("unrun", &Jobs(unrun.len()))
                .finish(),
            ExileError::Stranded { unrun } => f
                .debug_struct("Stranded")
                .field("unrun", &Jobs(unrun.len()))
                .finish(),
        }
    }
}

/// A count of jobs, in `Debug` output.
struct Jobs(usize);

impl fmt::Debug for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.0 == 1 { "" } else { "s" };
        write!(f, "[{} job{plural}]", self.0)
    }
}

/// The message of [`ExileError::Spawn`] includes the spawn error, so
/// `source` goes on from that error's own source, as
/// [`BuildError`]'s does.
///
/// ```
/// use std::error::Error;
/// let e: worklight::ExileError<()> = worklight::ExileError::FromOwnWorker;
/// assert!(e.source().is_none());
/// assert_eq!(format!("{e:?}"), "FromOwnWorker");
/// ```
impl<J> std::error::Error for ExileError<J> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExileError::Spawn { error, .. } => error.source(),
            _ => None,
        }
    }
}

/// What a bounded exile achieved.
///
/// ```
/// # use std::time::Duration;
/// use worklight::Exit;
/// let pool = worklight::WorkerPool::builder().workers(1).paused().build().unwrap();
/// pool.inbox.put(|| ()).unwrap();
/// // Paused workers are resumed by an exile, so this one finishes in time.
/// assert!(matches!(pool.exile_timeout(Duration::from_secs(10)).unwrap(), Exit::Done));
/// ```
#[must_use]
pub enum Exit<J> {
    /// The inbox was worked off and every worker has left.
    Done,
    /// Time ran out. The jobs not yet started were taken off the inbox and
    /// are handed back; `running` worker threads had not left yet, and
    /// leave after the job they had begun, if any (a later `exile` or the
    /// pool's drop joins them).
    TimedOut {
        /// The jobs that were not run.
        unrun: Vec<J>,
        /// Worker threads that had not left when time ran out: those still
        /// finishing a job, whose results still land, and idle ones on
        /// their way out. Zero means that every result has landed.
        running: usize,
    },
}

/// Shows how many jobs are handed back, not the jobs (`J` need not be
/// `Debug`).
///
/// ```
/// let exit: worklight::Exit<()> = worklight::Exit::TimedOut { unrun: vec![(), ()], running: 1 };
/// assert_eq!(format!("{exit:?}"), "TimedOut { unrun: [2 jobs], running: 1 }");
/// ```
impl<J> fmt::Debug for Exit<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Done => f.write_str("Done"),
            Exit::TimedOut { unrun, running } => f
                .debug_struct("TimedOut")
                .field("unrun", &Jobs(unrun.len()))
                .field("running", running)
                .finish(),
        }
    }
}

/// Why [`wait_idle`](crate::Pool::wait_idle) could not wait. It hands no
/// job back, so `?` takes it into `Box<dyn Error>` (or `anyhow::Error`)
/// from a scoped pool too, whose jobs borrow from the scope.
///
/// ```
/// use worklight::{WaitError, WorkerPool};
/// let pool = WorkerPool::builder().workers(1).paused().build().unwrap();
/// pool.inbox.put(|| 1).unwrap();
/// pool.banish(1);
/// assert_eq!(pool.wait_idle(), Err(WaitError::NoWorkers));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitError {
    /// Called from one of the pool's own jobs, or from a job of another
    /// pool fed by the same inbox: that job counts as unfinished, so the
    /// wait would wait for the caller itself.
    FromOwnWorker,
    /// Jobs are queued and no worker is left to run them, in the pool or
    /// any other fed by its inbox (every worker banished, or every setup
    /// failed): the wait would never end.
    /// [`summon`](crate::Pool::summon) workers, or exile the pool.
    NoWorkers,
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::FromOwnWorker => {
                f.write_str("a pool cannot be waited on from a job on its inbox")
            }
            WaitError::NoWorkers => {
                f.write_str("jobs are queued and the pool has no worker to run them")
            }
        }
    }
}

impl std::error::Error for WaitError {}
