//! Caller-supplied boxes: where a pool may put results and failures instead
//! of its own outbox and errbox.

use std::fmt;
use std::sync::mpsc;

use crossbeam_channel::Sender;

use std::sync::Arc;

/// Somewhere a pool can put items: implement it to receive results or
/// failures in your own type.
///
/// `put` hands the item back when the receiver is gone; the pool then drops
/// it and counts it in [`Metrics::discarded`](crate::Metrics::discarded).
/// `put` may block (a bounded channel applies backpressure to the workers)
/// but should not block forever once its reader is gone. A panic in `put` is
/// caught: for an outbox it becomes a [`Cause::OutboxPanic`](crate::Cause)
/// on the errbox; for an errbox it is counted in
/// [`Metrics::box_panics`](crate::Metrics::box_panics). So is a panic in
/// the box's `Drop`, when the pool drops its last copy, on a worker or in
/// the exile.
///
/// Implemented for crossbeam and std channel senders, and for
/// [`Callback`] (see [`callback`]).
///
/// ```
/// use std::sync::Mutex;
/// struct Log(Mutex<Vec<String>>);
/// impl worklight::Sink<String> for Log {
///     fn put(&self, item: String) -> Result<(), String> {
///         self.0.lock().unwrap().push(item);
///         Ok(())
///     }
/// }
/// let log = std::sync::Arc::new(Log(Mutex::new(Vec::new())));
/// let pool = worklight::WorkerPool::builder().workers(2).outbox(log.clone()).build().unwrap();
/// pool.inbox.put(|| "hello".to_string()).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(log.0.lock().unwrap().as_slice(), ["hello"]);
/// ```
pub trait Sink<T>: Send + Sync {
    /// Takes one item; hands it back if it can no longer be delivered.
    fn put(&self, item: T) -> Result<(), T>;
}

impl<T: Send> Sink<T> for Sender<T> {
    fn put(&self, item: T) -> Result<(), T> {
        self.send(item).map_err(|e| e.into_inner())
    }
}

impl<T: Send> Sink<T> for mpsc::Sender<T> {
    fn put(&self, item: T) -> Result<(), T> {
        self.send(item).map_err(|e| e.0)
    }
}

impl<T: Send> Sink<T> for mpsc::SyncSender<T> {
    fn put(&self, item: T) -> Result<(), T> {
        self.send(item).map_err(|e| e.0)
    }
}

impl<T, S: Sink<T> + ?Sized> Sink<T> for std::sync::Arc<S> {
    fn put(&self, item: T) -> Result<(), T> {
        (**self).put(item)
    }
}

/// A box that keeps nothing and calls a closure for each item. Made by
/// [`callback`].
///
/// ```
/// use worklight::Sink;
/// let cb = worklight::callback(|x: u8| assert_eq!(x, 1));
/// assert!(cb.put(1).is_ok());
/// ```
pub struct Callback<F>(F);

impl<F> fmt::Debug for Callback<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Callback(..)")
    }
}

impl<T, F: Fn(T) + Send + Sync> Sink<T> for Callback<F> {
    fn put(&self, item: T) -> Result<(), T> {
        (self.0)(item);
        Ok(())
    }
}

/// A box that calls `f` for each item and keeps nothing: log every error,
/// count results, forward them elsewhere. `f` runs on the worker thread.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// let failures = Arc::new(AtomicUsize::new(0));
/// let seen = failures.clone();
/// let pool = worklight::WorkerPool::<()>::builder()
///     .errbox(worklight::callback(move |e: worklight::JobError| {
///         eprintln!("{e}");
///         seen.fetch_add(1, Ordering::Relaxed);
///     }))
///     .build()
///     .unwrap();
/// pool.inbox.put(|| panic!("logged, not kept")).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(failures.load(Ordering::Relaxed), 1);
/// assert!(pool.errbox.is_empty());
/// ```
pub fn callback<T, F: Fn(T) + Send + Sync>(f: F) -> Callback<F> {
    Callback(f)
}

/// Where a worker delivers: the pool's own channel (the fast path), or a
/// caller-supplied sink.
pub(crate) enum Target<'a, T> {
    Own(Sender<T>),
    Custom(Arc<dyn Sink<T> + 'a>),
}

impl<T> Clone for Target<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Target::Own(s) => Target::Own(s.clone()),
            Target::Custom(s) => Target::Custom(Arc::clone(s)),
        }
    }
}
