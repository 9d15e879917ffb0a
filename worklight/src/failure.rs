//! What lands on the errbox: which job failed, and how.

use std::any::Any;
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};

use parking_lot::{Mutex, MutexGuard};

use crate::job::{BoxError, JobId, Label};

/// Runs user code whose outcome the worker does not need (a hook, a
/// teardown); a panic in it is caught and its payload dropped as by
/// [`drop_caught`]. Returns whether it panicked.
pub(crate) fn run_caught(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(payload) => {
            drop_caught(payload);
            true
        }
    }
}

/// Drops a user value on a worker thread: a panic payload, or a value a
/// box refused. Its `Drop` may panic; that panic is caught, so the worker
/// lives on, and its payload is dropped in turn, the same way. Only a
/// payload whose drop panicked [`NESTED_DROPS`] times over is leaked
/// rather than dropped: a `Drop` that panics with a payload like itself
/// would otherwise keep the worker here for good.
pub(crate) fn drop_caught<T>(value: T) {
    let Err(mut payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) else {
        return;
    };
    for _ in 0..NESTED_DROPS {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

/// Drops each value as [`drop_caught`] does, one at a time: dropping a
/// `Vec` whole would drop the rest after a panic and abort at a second.
pub(crate) fn drop_each_caught<T>(values: impl IntoIterator<Item = T>) {
    values.into_iter().for_each(drop_caught);
}

/// How many panics, each raised by dropping the previous one's payload,
/// [`drop_caught`] follows before it leaks the last payload.
const NESTED_DROPS: usize = 8;

/// A panic caught in a job (or in a caller-supplied outbox), kept as a value.
///
/// ```
/// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
/// pool.inbox.put(|| panic!("disk on fire")).unwrap();
/// let failure = pool.errbox.get().unwrap();
/// let panic = failure.panic().unwrap();
/// assert_eq!(panic.message(), "disk on fire");
/// ```
pub struct Panic {
    message: String,
    /// Behind a lock, which makes a `Panic` (and so a [`JobError`]) `Sync`
    /// although a payload is only `Send`: a failure can go into
    /// `Box<dyn Error + Send + Sync>` or `anyhow::Error`.
    payload: Mutex<Box<dyn Any + Send + 'static>>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            String::from("<non-string panic payload>")
        };
        Panic {
            message,
            payload: Mutex::new(payload),
        }
    }

    /// The panic's message, when its payload was a string.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| panic!("code {}", 7)).unwrap();
    /// assert_eq!(pool.errbox.get().unwrap().panic().unwrap().message(), "code 7");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The payload, for `downcast_ref` on panics that carry a value. It is
    /// behind a lock (see the type's `Sync`), held while the returned guard
    /// lives: do not hold one while taking another from the same panic.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| std::panic::panic_any(42u8)).unwrap();
    /// let f = pool.errbox.get().unwrap();
    /// assert_eq!(f.panic().unwrap().payload().downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn payload(&self) -> impl Deref<Target = dyn Any + Send> + '_ {
        MutexGuard::map(self.payload.lock(), |p| &mut **p)
    }

    /// Takes the payload, to re-raise it with `std::panic::resume_unwind`.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| panic!("again")).unwrap();
    /// let payload = pool.errbox.get().unwrap().into_panic().unwrap().into_payload();
    /// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     std::panic::resume_unwind(payload)
    /// }));
    /// assert!(caught.is_err());
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload.into_inner()
    }
}

/// The panic's message.
///
/// ```
/// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
/// pool.inbox.put(|| panic!("disk on fire")).unwrap();
/// let panic = pool.errbox.get().unwrap().into_panic().unwrap();
/// assert_eq!(panic.to_string(), "disk on fire");
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(panic);
/// # let _ = boxed;
/// ```
impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Panic {}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

/// How a job failed.
///
/// ```
/// use worklight::Cause;
/// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
/// pool.inbox.put(|| panic!("oops")).unwrap();
/// match pool.errbox.get().unwrap().into_cause() {
///     Cause::Panic(p) => assert_eq!(p.message(), "oops"),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Cause<E = BoxError> {
    /// The job returned an error.
    Error(E),
    /// The job panicked.
    Panic(Panic),
    /// The job succeeded, but the caller-supplied outbox panicked while taking
    /// its result; the result went with the panic.
    OutboxPanic(Panic),
}

/// An errbox item: which job failed and why.
///
/// `E` is the job's error type: [`BoxError`] for closure jobs, the
/// handler's own error type for [`Handler`](crate::Handler) pools.
///
/// ```
/// use worklight::{Cause, Job};
/// let pool = worklight::WorkerPool::<u64>::new(1).unwrap();
/// let id = pool.inbox.put(Job::fallible(|| "nine".parse::<u64>()).label("parse")).unwrap();
/// let failure = pool.errbox.get().unwrap();
/// assert_eq!(failure.id(), id);
/// assert!(matches!(failure.cause(), Cause::Error(_)));
/// assert!(failure.to_string().contains("parse"));
/// ```
pub struct JobError<E = BoxError> {
    id: JobId,
    label: Option<Label>,
    cause: Cause<E>,
}

impl<E> JobError<E> {
    pub(crate) fn new(id: JobId, label: Option<Label>, cause: Cause<E>) -> Self {
        JobError { id, label, cause }
    }

    /// The id that `put` returned for the failed job.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// let id = pool.inbox.put(|| panic!()).unwrap();
    /// assert_eq!(pool.errbox.get().unwrap().id(), id);
    /// ```
    pub fn id(&self) -> JobId {
        self.id
    }

    /// The job's label, if it was given one.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(worklight::Job::new(|| panic!()).label("boom")).unwrap();
    /// assert_eq!(pool.errbox.get().unwrap().label(), Some("boom"));
    /// ```
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// How it failed.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| panic!()).unwrap();
    /// assert!(matches!(pool.errbox.get().unwrap().cause(), worklight::Cause::Panic(_)));
    /// ```
    pub fn cause(&self) -> &Cause<E> {
        &self.cause
    }

    /// Takes the cause.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
    /// pool.inbox.put(worklight::Job::fallible(|| Err("no"))).unwrap();
    /// let cause = pool.errbox.get().unwrap().into_cause();
    /// assert!(matches!(cause, worklight::Cause::Error(e) if e.to_string() == "no"));
    /// ```
    pub fn into_cause(self) -> Cause<E> {
        self.cause
    }

    /// The job's error, if it returned one (rather than panicking).
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
    /// pool.inbox.put(worklight::Job::fallible(|| Err("no"))).unwrap();
    /// assert_eq!(pool.errbox.get().unwrap().error().unwrap().to_string(), "no");
    /// ```
    pub fn error(&self) -> Option<&E> {
        match &self.cause {
            Cause::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The panic, if the job (or the outbox taking its result) panicked.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| panic!("p")).unwrap();
    /// assert_eq!(pool.errbox.get().unwrap().panic().unwrap().message(), "p");
    /// ```
    pub fn panic(&self) -> Option<&Panic> {
        match &self.cause {
            Cause::Panic(p) | Cause::OutboxPanic(p) => Some(p),
            Cause::Error(_) => None,
        }
    }

    /// Takes the panic, if there was one.
    ///
    /// ```
    /// # let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// pool.inbox.put(|| panic!("p")).unwrap();
    /// assert!(pool.errbox.get().unwrap().into_panic().is_some());
    /// ```
    pub fn into_panic(self) -> Option<Panic> {
        match self.cause {
            Cause::Panic(p) | Cause::OutboxPanic(p) => Some(p),
            Cause::Error(_) => None,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for JobError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("cause", &self.cause)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for JobError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(label) = &self.label {
            write!(f, " ({label})")?;
        }
        match &self.cause {
            Cause::Error(e) => write!(f, " failed: {e}"),
            Cause::Panic(p) => write!(f, " panicked: {}", p.message()),
            Cause::OutboxPanic(p) => {
                write!(f, " succeeded but the outbox panicked: {}", p.message())
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for JobError<E> {}
