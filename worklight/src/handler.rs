//! Data jobs: a pool whose inbox carries plain data, run by a [`Handler`]
//! that each worker builds for itself.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::builder::Builder;
use crate::error::BuildError;
use crate::job::{BoxError, Label};
use crate::kind::{Kind, WorkerInfo, sealed};
use crate::pool::Pool;

/// Runs the data items of a [`HandlerPool`]: one handler per worker, built
/// on the worker's thread by the pool's factory, kept (`&mut self`) for
/// every item that worker runs.
///
/// ```
/// use worklight::{Handler, HandlerPool};
/// struct Summer { seen: usize }
/// impl Handler<Vec<u32>> for Summer {
///     type Output = (usize, u32);
///     type Error = std::convert::Infallible;
///     fn handle(&mut self, item: Vec<u32>) -> Result<(usize, u32), Self::Error> {
///         self.seen += 1;
///         Ok((self.seen, item.iter().sum()))
///     }
/// }
/// let pool = HandlerPool::new(2, |_| Summer { seen: 0 }).unwrap();
/// pool.inbox.put(vec![1, 2, 3]).unwrap();
/// pool.inbox.put(vec![4]).unwrap();
/// pool.exile().unwrap();
/// let mut sums: Vec<u32> = pool.outbox.iter().map(|(_, s)| s).collect();
/// sums.sort();
/// assert_eq!(sums, vec![4, 6]);
/// ```
pub trait Handler<D> {
    /// What lands on the outbox.
    type Output: Send;
    /// What lands on the errbox, inside a [`JobError`](crate::JobError).
    type Error: Send;
    /// Runs one item.
    fn handle(&mut self, item: D) -> Result<Self::Output, Self::Error>;
}

type FactoryFn<H> = dyn Fn(&WorkerInfo) -> Result<H, BoxError> + Send + Sync;

/// The kind of a pool whose inbox carries data `D` run by handlers `H`.
///
/// ```
/// use worklight::{Builder, Handler, HandlerPool, Handlers};
/// struct Upper;
/// impl Handler<String> for Upper {
///     type Output = String;
///     type Error = std::convert::Infallible;
///     fn handle(&mut self, s: String) -> Result<String, Self::Error> { Ok(s.to_uppercase()) }
/// }
/// let builder: Builder<Handlers<String, Upper>> = HandlerPool::builder(|_| Upper);
/// let pool = builder.workers(1).build().unwrap();
/// pool.inbox.put("shout".to_string()).unwrap();
/// assert_eq!(pool.outbox.get().unwrap(), "SHOUT");
/// ```
pub struct Handlers<D, H> {
    factory: Arc<FactoryFn<H>>,
    _items: PhantomData<fn(D)>,
}

impl<D, H> fmt::Debug for Handlers<D, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handlers(..)")
    }
}

impl<D, H> sealed::Sealed for Handlers<D, H> {}

impl<D: Send, H: Handler<D>> Kind for Handlers<D, H> {
    type Item = D;
    type Output = H::Output;
    type Error = H::Error;
    type Worker = H;
    type Task = D;

    fn start(&self, info: &WorkerInfo) -> Result<H, BoxError> {
        (self.factory)(info)
    }

    fn split(item: D) -> (Option<Label>, D) {
        (None, item)
    }

    fn run(worker: &mut H, task: D) -> Result<H::Output, H::Error> {
        worker.handle(task)
    }

    fn stop(&self, worker: H, _info: &WorkerInfo) {
        drop(worker);
    }

    fn has_setup(&self) -> bool {
        true
    }
}

/// A pool whose inbox carries plain data `D`, run by handlers `H` (one per
/// worker). Its outbox and errbox behave exactly as a [`WorkerPool`](crate::WorkerPool)'s;
/// an errbox report carries the id `put` returned and the handler's error
/// (handler pools have no labels: put the item's name in your error type).
///
/// ```
/// use worklight::{Handler, HandlerPool};
/// struct Parse;
/// impl Handler<String> for Parse {
///     type Output = i64;
///     type Error = std::num::ParseIntError;
///     fn handle(&mut self, s: String) -> Result<i64, Self::Error> {
///         s.trim().parse()
///     }
/// }
/// let pool = HandlerPool::new(2, |_| Parse).unwrap();
/// pool.inbox.put("12".to_string()).unwrap();
/// let bad = pool.inbox.put("twelve".to_string()).unwrap();
/// pool.exile().unwrap();
/// assert_eq!(pool.outbox.get(), Ok(12));
/// assert_eq!(pool.errbox.get().unwrap().id(), bad);
/// ```
pub type HandlerPool<D, H> = Pool<'static, Handlers<D, H>>;

impl<D: Send + 'static, H: Handler<D> + 'static> HandlerPool<D, H> {
    /// A pool of `workers` threads, each building its handler with `make`
    /// when it starts. Waits for every worker to have built its handler; a
    /// `make` that panics fails the build with [`BuildError::Setup`]. For
    /// a handler whose making can fail, see
    /// [`with_setup`](HandlerPool::with_setup).
    ///
    /// ```
    /// use worklight::{BuildError, Handler, HandlerPool};
    /// struct Noop;
    /// impl Handler<u8> for Noop {
    ///     type Output = ();
    ///     type Error = std::convert::Infallible;
    ///     fn handle(&mut self, _: u8) -> Result<(), Self::Error> { Ok(()) }
    /// }
    /// assert!(HandlerPool::new(2, |_| Noop).is_ok());
    /// let failing = HandlerPool::<u8, Noop>::new(2, |_| panic!("no handler today"));
    /// assert!(matches!(failing, Err(BuildError::Setup { .. })));
    /// ```
    pub fn new<F>(workers: usize, make: F) -> Result<Self, BuildError>
    where
        F: Fn(&WorkerInfo) -> H + Send + Sync + 'static,
    {
        Self::builder(make).workers(workers).build()
    }

    /// A pool of `workers` threads, each building its handler with
    /// `factory` when it starts, which may fail: an open file, a
    /// connection. Waits for every factory call; the first failure (an
    /// error or a panic) is returned as [`BuildError::Setup`], and no item
    /// has been run.
    ///
    /// ```
    /// use worklight::{BuildError, Handler, HandlerPool};
    /// struct Log(std::fs::File);
    /// impl Handler<String> for Log {
    ///     type Output = ();
    ///     type Error = std::io::Error;
    ///     fn handle(&mut self, line: String) -> std::io::Result<()> {
    ///         use std::io::Write;
    ///         writeln!(self.0, "{line}")
    ///     }
    /// }
    /// let missing = std::env::temp_dir().join("no-such-dir-here").join("log");
    /// let built = HandlerPool::<String, Log>::with_setup(2, move |_| {
    ///     std::fs::File::open(&missing).map(Log)
    /// });
    /// let Err(BuildError::Setup { error, .. }) = built else { panic!("opened") };
    /// assert!(error.downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn with_setup<F, E>(workers: usize, factory: F) -> Result<Self, BuildError>
    where
        F: Fn(&WorkerInfo) -> Result<H, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        Self::builder_with_setup(factory).workers(workers).build()
    }

    /// A builder for a handler pool, with every setting of [`Builder`];
    /// each worker builds its handler with `make`.
    ///
    /// ```
    /// # use worklight::{Handler, HandlerPool};
    /// # struct Echo;
    /// # impl Handler<u8> for Echo {
    /// #     type Output = u8;
    /// #     type Error = std::convert::Infallible;
    /// #     fn handle(&mut self, x: u8) -> Result<u8, Self::Error> { Ok(x) }
    /// # }
    /// let pool = HandlerPool::builder(|_| Echo)
    ///     .workers(3)
    ///     .capacity(10)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.poolsize(), 3);
    /// ```
    pub fn builder<F>(make: F) -> Builder<Handlers<D, H>>
    where
        F: Fn(&WorkerInfo) -> H + Send + Sync + 'static,
    {
        Self::builder_with_setup(move |info| Ok::<H, std::convert::Infallible>(make(info)))
    }

    /// A builder for a handler pool whose handlers' making may fail (see
    /// [`with_setup`](HandlerPool::with_setup)).
    ///
    /// ```
    /// # use worklight::{Handler, HandlerPool};
    /// # struct Echo;
    /// # impl Handler<u8> for Echo {
    /// #     type Output = u8;
    /// #     type Error = std::convert::Infallible;
    /// #     fn handle(&mut self, x: u8) -> Result<u8, Self::Error> { Ok(x) }
    /// # }
    /// let pool = HandlerPool::builder_with_setup(|w| match w.index() {
    ///     0..4 => Ok(Echo),
    ///     _ => Err("four handlers at most"),
    /// })
    /// .workers(4)
    /// .build()
    /// .unwrap();
    /// assert!(pool.summon(1).is_err());
    /// ```
    pub fn builder_with_setup<F, E>(factory: F) -> Builder<Handlers<D, H>>
    where
        F: Fn(&WorkerInfo) -> Result<H, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        Builder::with_kind(Handlers {
            factory: Arc::new(move |info: &WorkerInfo| factory(info).map_err(Into::into)),
            _items: PhantomData,
        })
    }
}
