//! The scoped pool: `worklight::pool(8, |pool| ...)`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use crate::builder::{Builder, assemble};
use crate::core::{SpawnFn, handle};
use crate::error::{BuildError, ExileError};
use crate::failure::{JobError, drop_each_caught, run_caught};
use crate::inbox::Inbox;
use crate::kind::Closures;
use crate::outbox::{Errbox, Outbox};
use crate::pool::Pool;
use crate::sink::Sink;

/// A pool whose jobs may borrow from the caller's stack, alive for the
/// closure given to [`pool`] or [`Builder::scope`]. It dereferences to a
/// [`Pool`], with the same inbox, boxes and controls.
///
/// `'env` is what jobs may borrow; `'scope` is the pool's own lifetime
/// within it.
///
/// ```
/// let data = vec![1u64, 2, 3];
/// let harvest = worklight::pool(2, |pool| {
///     pool.summon(1).unwrap(); // the controls of a Pool work here too
///     for x in &data {
///         pool.inbox.put(move || x * 10).unwrap();
///     }
///     pool.poolsize()
/// })
/// .unwrap();
/// assert_eq!(harvest.value, 3);
/// assert_eq!(harvest.outbox.iter().sum::<u64>(), 60);
/// ```
pub struct ScopedPool<'scope, 'env: 'scope, T: Send + 'scope, S = ()> {
    pool: Pool<'scope, Closures<'scope, T, S>>,
    _env: PhantomData<&'scope mut &'env ()>,
}

impl<'scope, 'env, T: Send + 'scope, S: 'static> Deref for ScopedPool<'scope, 'env, T, S> {
    type Target = Pool<'scope, Closures<'scope, T, S>>;
    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

/// Shows the pool, as [`Pool`]'s `Debug` does.
impl<'scope, 'env, T: Send + 'scope, S: 'static> fmt::Debug for ScopedPool<'scope, 'env, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedPool").field(&self.pool).finish()
    }
}

/// What a scoped pool leaves behind: its boxes, holding every result and
/// failure, and what the closure returned.
///
/// ```
/// let harvest = worklight::pool(1, |pool| {
///     pool.inbox.put(|| 1).unwrap();
///     pool.inbox.put(worklight::Job::fallible(|| Err::<i32, _>("nope"))).unwrap();
///     "done"
/// })
/// .unwrap();
/// assert_eq!((harvest.value, harvest.outbox.len(), harvest.errbox.len()), ("done", 1, 1));
/// assert_eq!(harvest.unrun, 0); // every job ran
/// ```
pub struct Harvest<T, R = ()> {
    /// Every result.
    pub outbox: Outbox<T>,
    /// Every failure.
    pub errbox: Errbox,
    /// What the closure returned.
    pub value: R,
    /// Jobs left queued that no worker could run: 0 unless, at the end, the
    /// pool had no worker left (all banished, or failed) and the one it
    /// then started for them could not run them either (its setup failed,
    /// or the system refused the thread). They borrowed from the scope and
    /// were dropped with it; everything that ran is in the boxes.
    pub unrun: usize,
}

/// The boxes show how many items they hold, so results need not be `Debug`.
impl<T, R: fmt::Debug> fmt::Debug for Harvest<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harvest")
            .field("outbox", &self.outbox)
            .field("errbox", &self.errbox)
            .field("value", &self.value)
            .field("unrun", &self.unrun)
            .finish()
    }
}

/// Runs `f` with a pool of `workers` threads, then exiles it: every queued
/// job is worked off and every thread joined before `pool` returns the
/// boxes. Jobs may borrow from the caller's stack, as with
/// `std::thread::scope`; what they return must not borrow (`T: 'static`):
/// return owned values, such as `s.len()` or `s.to_owned()` for a borrowed
/// `s`. If `f` panics, the pool is still exiled (its queued jobs run) and
/// then the panic resumes; jobs that no worker could run, which
/// [`Harvest::unrun`] would have counted, and the results and failures in
/// the boxes are dropped first (a panic in one's `Drop` is caught).
///
/// Errors: the pool could not be built (then `f` did not run). Once `f`
/// has run, the harvest is always returned; jobs that no worker could run
/// are counted in [`Harvest::unrun`].
///
/// ```
/// let words = vec!["inbox", "outbox", "errbox"];
/// let harvest = worklight::pool(2, |pool| {
///     for w in &words {
///         pool.inbox.put(move || w.len()).unwrap();
///     }
/// })
/// .unwrap();
/// assert_eq!(harvest.outbox.iter().sum::<usize>(), 17);
/// assert!(harvest.errbox.is_empty());
/// ```
///
/// The exile closes the inbox, so a job that puts a follow-up job once the
/// closure has returned gets it handed back (`PutError`), as from any
/// exiled pool. When jobs put jobs, end the closure with
/// [`wait_idle`](crate::Pool::wait_idle): it returns once every job put so
/// far, follow-ups included, has finished.
///
/// ```
/// let harvest = worklight::pool(2, |pool| {
///     let inbox = pool.inbox.clone();
///     pool.inbox
///         .put(move || {
///             // A job that puts a follow-up job.
///             inbox.put(|| 2).unwrap();
///             1
///         })
///         .unwrap();
///     pool.wait_idle().unwrap();
/// })
/// .unwrap();
/// assert_eq!(harvest.outbox.iter().sum::<i32>(), 3);
/// ```
///
/// A put's error hands its job back, and that job borrows from the scope,
/// so it cannot leave the closure inside a `Box<dyn Error>`: turn it into
/// a plain error first. [`WaitError`](crate::WaitError) carries no job, so
/// `?` takes `wait_idle`'s error as it is.
///
/// ```
/// use std::error::Error;
/// let lines = vec!["1", "2", "x"];
/// let harvest = worklight::pool(2, |pool| -> Result<(), Box<dyn Error + Send + Sync>> {
///     for line in &lines {
///         let parse = worklight::Job::fallible(move || line.parse::<u32>());
///         pool.inbox.put(parse).map_err(|e| e.to_string())?;
///     }
///     pool.wait_idle()?;
///     Ok(())
/// })
/// .unwrap();
/// assert!(harvest.value.is_ok());
/// assert_eq!((harvest.outbox.len(), harvest.errbox.len()), (2, 1));
/// ```
///
/// Jobs may not outlive what they borrow:
///
/// ```compile_fail
/// let harvest = worklight::pool(2, |pool| {
///     let local = String::from("gone at the end of this closure");
///     pool.inbox.put(|| local.len()).unwrap();
/// });
/// ```
pub fn pool<'env, T, R, F>(workers: usize, f: F) -> Result<Harvest<T, R>, BuildError>
where
    T: Send + 'static,
    F: for<'scope> FnOnce(&ScopedPool<'scope, 'env, T>) -> R,
{
    Builder::new().workers(workers).scope(f)
}

impl<T: Send + 'static, S: 'static> Builder<Closures<'static, T, S>> {
    /// Runs `f` with a scoped pool built from these settings; see [`pool`].
    /// A caller-supplied inbox is refused (a scoped pool makes its own).
    ///
    /// ```
    /// let mut totals = [0u64; 4];
    /// let harvest = worklight::WorkerPool::builder()
    ///     .workers(4)
    ///     .scope(|pool| {
    ///         for (i, slot) in totals.iter_mut().enumerate() {
    ///             pool.inbox.put(move || *slot = (i as u64 + 1) * 10).unwrap();
    ///         }
    ///         "queued"
    ///     })
    ///     .unwrap();
    /// assert_eq!(harvest.value, "queued");
    /// assert_eq!(totals, [10, 20, 30, 40]);
    /// ```
    pub fn scope<'env, R, F>(self, f: F) -> Result<Harvest<T, R>, BuildError>
    where
        F: for<'scope> FnOnce(&ScopedPool<'scope, 'env, T, S>) -> R,
    {
        let parts = self.into_scoped_parts()?;
        std::thread::scope(|scope| {
            let spawner: Box<SpawnFn<'_>> =
                Box::new(move |b, body| b.spawn_scoped(scope, body).map(handle));
            let outbox: Option<Arc<dyn Sink<T> + '_>> = parts.outbox.map(|s| s as Arc<dyn Sink<T>>);
            let errbox: Option<Arc<dyn Sink<JobError> + '_>> =
                parts.errbox.map(|s| s as Arc<dyn Sink<JobError>>);
            let kind: Closures<'_, T, S> = parts.kind.for_jobs();
            let inbox = Inbox::with_capacity(parts.settings.capacity);
            let pool = assemble(parts.settings, kind, inbox, outbox, errbox, spawner)?;
            let scoped = ScopedPool {
                pool,
                _env: PhantomData,
            };
            let value = catch_unwind(AssertUnwindSafe(|| f(&scoped)));
            let exiled = scoped.pool.exile();
            let (outbox, errbox) = (scoped.pool.outbox.clone(), scoped.pool.errbox.clone());
            drop(scoped);
            let unrun = match exiled {
                // Only possible when the closure exiled the pool from a job
                // of its own, which is refused; the pool is exiled here.
                Ok(()) | Err(ExileError::FromOwnWorker) => 0,
                // The unrun jobs borrow from the scope and cannot leave it:
                // they are counted, and dropped here, within it, each on its
                // own and before any unwind resumes (a panic in a job's
                // `Drop` is caught, as on a worker).
                Err(ExileError::Spawn { unrun, .. } | ExileError::Stranded { unrun }) => {
                    let n = unrun.len();
                    drop_each_caught(unrun);
                    n
                }
            };
            let value = match value {
                Ok(value) => value,
                Err(payload) => {
                    // The results and failures not read go with the boxes,
                    // each box on its own and before the unwind resumes: a
                    // result's `Drop` that panics in it would abort.
                    run_caught(move || drop(outbox));
                    run_caught(move || drop(errbox));
                    resume_unwind(payload)
                }
            };
            Ok(Harvest {
                outbox,
                errbox,
                value,
                unrun,
            })
        })
    }
}
