//! # worklight: making work light
//!
//! A pool of worker threads sharing three boxes: an **inbox** of jobs, an
//! **outbox** of results and an **errbox** of failures. Put closures on the
//! inbox; workers run them; what a job returns lands on the outbox, its
//! error or panic on the errbox, saying which job failed. When the work is
//! done the pool is **exiled**: the inbox is worked off and every thread
//! joined.
//!
//! ## Quick start
//!
//! Creating a pool, queuing work, reading results — here with jobs that
//! borrow from the caller's stack, in a scoped pool that is exiled when its
//! closure returns:
//!
//! ```
//! use std::path::{Path, PathBuf};
//!
//! fn download_file(uri: &str, path: &Path) -> std::io::Result<(PathBuf, usize)> {
//!     // ... fetch `uri` into `path`; here we only pretend to.
//!     Ok((path.to_path_buf(), uri.len() * 100))
//! }
//!
//! let tofetch = [("http://example.org/index.html", PathBuf::from("ex.html"))];
//! let harvest = worklight::pool(8, |pool| {
//!     for (uri, path) in &tofetch {
//!         pool.inbox
//!             .put(worklight::Job::fallible(move || download_file(uri, path)).label(*uri))
//!             .unwrap();
//!     }
//! })
//! .unwrap();
//! for failure in worklight::iterqueue(&harvest.errbox) {
//!     eprintln!("{failure}");
//! }
//! for (path, bytes) in worklight::iterqueue(&harvest.outbox) {
//!     println!("file {}: {bytes} bytes downloaded", path.display());
//! }
//! ```
//!
//! A [`WorkerPool`] is the same pool for `'static` jobs, living as long as
//! its owner; dropping it exiles it:
//!
//! ```
//! let pool = worklight::WorkerPool::new(8).unwrap();
//! for n in 0..100u64 {
//!     pool.inbox.put(move || n * n).unwrap();
//! }
//! pool.exile().unwrap();
//! assert_eq!(pool.outbox.iter().sum::<u64>(), 328_350);
//! ```
//!
//! ## What else
//!
//! - [`Builder`]: worker count, thread names, stack size, a bounded inbox
//!   (backpressure), caller-supplied boxes ([`Sink`], [`callback`]) or a
//!   shared [`Inbox`], per-worker state ([`Builder::worker_setup`]), hooks.
//! - Shutdown: [`exile`](Pool::exile), [`exile_now`](Pool::exile_now)
//!   (hands back every job not run), [`exile_timeout`](Pool::exile_timeout),
//!   [`wait_idle`](Pool::wait_idle).
//! - Live control: [`pause`](Pool::pause), [`resume`](Pool::resume),
//!   [`summon`](Pool::summon), [`banish`](Pool::banish),
//!   [`metrics`](Pool::metrics).
//!
//! ## Guarantees
//!
//! Every job accepted by `put` is either run exactly once or handed back to
//! the caller (by `exile_now`, `exile_timeout`, or an error that carries it);
//! every result and failure is delivered exactly once to its box. A panic in
//! a job is a value on the errbox, never a dead worker; the panic hook still
//! runs first, and std's default one prints the message to stderr (replace
//! it with [`std::panic::set_hook`] to keep quiet). Idle workers sleep;
//! nothing in the pool polls.
// `unsafe` is denied everywhere but in `smallfn`, one small module whose
// every block carries a `SAFETY:` comment (see its docs for why).
#![deny(unsafe_code)]

mod builder;
mod control;
mod core;
mod error;
mod failure;
mod handler;
mod inbox;
mod job;
mod kind;
mod metrics;
mod outbox;
mod pool;
mod put;
mod queue;
mod scope;
mod sink;
#[allow(unsafe_code)]
#[warn(clippy::undocumented_unsafe_blocks)]
mod smallfn;
mod startup;
mod summoning;
mod sync;
mod take;
mod worker;

pub use crate::builder::{Builder, MIN_STACK_SIZE};
pub use crate::error::{
    BuildError, ExileError, Exiled, Exit, GetTimeoutError, PutError, PutTimeoutError, TryGetError,
    TryPutError, WaitError,
};
pub use crate::failure::{Cause, JobError, Panic};
pub use crate::handler::{Handler, HandlerPool, Handlers};
pub use crate::inbox::Inbox;
pub use crate::job::{BoxError, IntoJob, Job, JobId, Label};
pub use crate::kind::{Closures, Kind, WorkerInfo};
pub use crate::metrics::Metrics;
pub use crate::outbox::{Errbox, IntoIter, Iter, Outbox, TryIter, iterqueue};
pub use crate::pool::{Pool, WorkerPool};
pub use crate::scope::{Harvest, ScopedPool, pool};
pub use crate::sink::{Callback, Sink, callback};
pub use crate::summoning::Summoning;

#[cfg(all(test, loom))]
mod loom_models;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
