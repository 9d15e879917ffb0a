//! The readable boxes: a pool's outbox (results) and errbox (failures).

use std::fmt;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::error::{Exiled, GetTimeoutError, TryGetError};
use crate::failure::JobError;
use crate::job::BoxError;

/// A box of what a pool's jobs produced: the outbox holds results, the
/// [`Errbox`] holds failures.
///
/// A box can be read while the pool runs; once the pool is exiled it holds
/// every result, and the waiting reads ([`get`](Outbox::get),
/// [`iter`](Outbox::iter)) end when it is empty. Clones read the same box,
/// each item going to one reader.
///
/// The pool's own boxes are unbounded: results wait there until read,
/// however many. For backpressure on the results too, give the builder a
/// bounded channel ([`Builder::outbox`](crate::Builder::outbox)): a worker
/// then waits while it is full.
///
/// When the pool was given a caller-supplied outbox or errbox
/// ([`Builder::outbox`](crate::Builder::outbox)), items go there and this
/// box stays empty, its reads ending at once with `Exiled` even while the
/// pool runs.
///
/// ```
/// let pool = worklight::WorkerPool::new(4).unwrap();
/// for n in 0..100u64 {
///     pool.inbox.put(move || n * n).unwrap();
/// }
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.len(), 100);
/// let sum: u64 = pool.outbox.iter().sum();
/// assert_eq!(sum, 328_350);
/// ```
pub struct Outbox<T> {
    rx: Receiver<T>,
}

/// The errbox: a box of [`JobError`]s.
///
/// ```
/// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
/// pool.inbox.put(|| panic!("lost the plot")).unwrap();
/// pool.exile().unwrap();
/// let errors: Vec<_> = pool.errbox.iter().collect();
/// assert_eq!(errors.len(), 1);
/// ```
pub type Errbox<E = BoxError> = Outbox<JobError<E>>;

impl<T> Clone for Outbox<T> {
    fn clone(&self) -> Self {
        Outbox {
            rx: self.rx.clone(),
        }
    }
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox").field("len", &self.len()).finish()
    }
}

impl<T> Outbox<T> {
    pub(crate) fn new(rx: Receiver<T>) -> Self {
        Outbox { rx }
    }

    /// Takes the next item, waiting for one; `Err(Exiled)` once the box is
    /// empty and its pool exiled.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.inbox.put(|| 'x').unwrap();
    /// assert_eq!(pool.outbox.get(), Ok('x'));
    /// ```
    ///
    /// A job lands on the outbox or on the errbox, never both: `get` on the
    /// outbox after a job that failed waits for a result that only the
    /// exile ends. To wait for every job however it ends, use
    /// [`wait_idle`](crate::Pool::wait_idle) (or exile the pool), then read
    /// both boxes; or wait a bounded while with
    /// [`get_timeout`](Outbox::get_timeout).
    ///
    /// ```
    /// use worklight::{Job, TryGetError};
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.inbox.put(Job::fallible(|| "7x".parse::<u32>())).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.try_get(), Err(TryGetError::Empty));
    /// assert!(pool.errbox.try_get().is_ok());
    /// ```
    pub fn get(&self) -> Result<T, Exiled> {
        self.rx.recv().map_err(|_| Exiled)
    }

    /// Takes the next item if there is one now.
    ///
    /// ```
    /// use worklight::TryGetError;
    /// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
    /// assert_eq!(pool.outbox.try_get(), Err(TryGetError::Empty));
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.try_get(), Err(TryGetError::Exiled));
    /// ```
    pub fn try_get(&self) -> Result<T, TryGetError> {
        self.rx.try_recv().map_err(|e| match e {
            TryRecvError::Empty => TryGetError::Empty,
            TryRecvError::Disconnected => TryGetError::Exiled,
        })
    }

    /// Takes the next item, waiting at most `timeout`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let pool = worklight::WorkerPool::<u8>::new(1).unwrap();
    /// assert_eq!(
    ///     pool.outbox.get_timeout(Duration::from_millis(1)),
    ///     Err(worklight::GetTimeoutError::Timeout)
    /// );
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => GetTimeoutError::Timeout,
            RecvTimeoutError::Disconnected => GetTimeoutError::Exiled,
        })
    }

    /// How many items the box holds now.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.inbox.put(|| ()).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether the box holds nothing now.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::<()>::new(1).unwrap();
    /// assert!(pool.outbox.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Iterates over what the box holds now, without waiting.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(1).unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.wait_idle().unwrap();
    /// assert_eq!(pool.outbox.try_iter().collect::<Vec<_>>(), vec![1]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter(self.rx.try_iter())
    }

    /// Iterates until the pool is exiled and the box is empty, waiting for
    /// each item.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::new(2).unwrap();
    /// pool.inbox.put(|| 1).unwrap();
    /// pool.inbox.put(|| 2).unwrap();
    /// pool.exile().unwrap();
    /// assert_eq!(pool.outbox.iter().sum::<i32>(), 3);
    /// ```
    ///
    /// To read results as they come while another thread streams the
    /// jobs in, move the pool into that thread and keep a clone of the
    /// box. When the producer is done (or panics) it drops the pool, which
    /// exiles it, and the reading loop ends after the last result.
    ///
    /// ```
    /// let pool = worklight::WorkerPool::builder().workers(2).capacity(64).build().unwrap();
    /// let results = pool.outbox.clone();
    /// let producer = std::thread::spawn(move || {
    ///     for n in 0..1_000u64 {
    ///         pool.inbox.put(move || n * 2).unwrap();
    ///     }
    ///     // `pool` is dropped here: exiled once its inbox is worked off.
    /// });
    /// let total: u64 = results.iter().sum();
    /// producer.join().unwrap();
    /// assert_eq!(total, 999_000);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter(self.rx.iter())
    }
}

impl<T> IntoIterator for Outbox<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// Iterates until the pool is exiled and the box is empty.
    fn into_iter(self) -> Self::IntoIter {
        IntoIter(self.rx.into_iter())
    }
}

/// As [`Outbox::iter`]: `for result in &pool.outbox` waits for each item
/// until the pool is exiled and the box is empty.
///
/// ```
/// let pool = worklight::WorkerPool::new(1).unwrap();
/// pool.inbox.put(|| 3).unwrap();
/// pool.exile().unwrap();
/// let mut sum = 0;
/// for n in &pool.outbox {
///     sum += n;
/// }
/// assert_eq!(sum, 3);
/// ```
impl<'a, T> IntoIterator for &'a Outbox<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The iterator of [`Outbox::iter`]: waits for each item until the pool is
/// exiled and the box is empty.
#[derive(Debug)]
pub struct Iter<'a, T>(crossbeam_channel::Iter<'a, T>);

/// The iterator of [`Outbox::try_iter`] and [`iterqueue`]: what the box
/// holds now.
#[derive(Debug)]
pub struct TryIter<'a, T>(crossbeam_channel::TryIter<'a, T>);

/// The iterator of an [`Outbox`] taken by value: waits for each item until
/// the pool is exiled and the box is empty.
#[derive(Debug)]
pub struct IntoIter<T>(crossbeam_channel::IntoIter<T>);

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
}

/// Iterates over what a box holds now, without waiting, as
/// [`Outbox::try_iter`] does: after an exile, every result (or error).
///
/// ```
/// let pool = worklight::WorkerPool::new(2).unwrap();
/// pool.inbox.put(|| 40).unwrap();
/// pool.inbox.put(|| 2).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(worklight::iterqueue(&pool.outbox).sum::<i32>(), 42);
/// ```
pub fn iterqueue<T>(outbox: &Outbox<T>) -> TryIter<'_, T> {
    outbox.try_iter()
}
