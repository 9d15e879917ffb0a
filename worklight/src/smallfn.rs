//! A job's closure without a heap allocation when it is small.
//!
//! The only module with `unsafe` code; the benchmark that earns it is
//! workload (a) in `BENCHMARKS.md`: boxing every closure (one `malloc` on
//! the putting thread, one `free` on the worker) was a third of the cost of
//! a tiny job. A closure of at most three words, aligned to at most a word —
//! one that captures a few numbers, a reference or an `Arc` — is stored
//! inline in the job; larger ones are boxed as before.
//!
//! The invariant every `unsafe` block relies on: in an `Inline` job, `data`
//! holds a valid `F` (the closure type its `vtable`'s `call` and `drop` were
//! instantiated with), written once by [`JobFn::new`] and then either read
//! out by `call` or dropped by `drop`, exactly once — `call` takes the job
//! by value and disarms its `Drop`. The two functions sit in one table per
//! closure type, a promoted constant, so a job carries one pointer to them,
//! not two: four words in all, which is what a queued job costs in memory
//! and what every move of it copies (BENCHMARKS.md, (a) and (g)).
//!
//! Its tests (`smallfn/tests.rs`) cover the layouts the invariant meets:
//! zero-sized, over-aligned and exactly three-word closures, captures whose
//! drop panics, a closure that panics when called. They pass under Miri,
//! Stacked and Tree Borrows (`cargo +nightly miri test -p worklight --lib
//! smallfn`, with `MIRIFLAGS=-Zmiri-tree-borrows` for the second), which
//! CI, on the stable toolchain alone, does not run.

use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit, align_of, size_of};
use std::ptr::{self, NonNull};

/// Room for a closure of three words.
type Storage = MaybeUninit<[usize; 3]>;

/// The boxed form, also the type that gives the inline form its lifetime
/// and its `Send`-ness.
type BoxedFn<'a, S, R> = Box<dyn FnOnce(&mut S) -> R + Send + 'a>;

/// A boxed or inline `FnOnce(&mut S) -> R + Send + 'a`. Public only
/// because the sealed [`Kind`](crate::Kind) trait names it; it cannot be
/// named from outside the crate.
#[allow(unreachable_pub)]
pub struct JobFn<'a, S, R> {
    repr: Repr<'a, S, R>,
}

enum Repr<'a, S, R> {
    Inline {
        data: Storage,
        vtable: VTablePtr<S, R>,
        /// Carries the closure's lifetime and `Send`-ness (not its `Sync`-ness:
        /// see why a `JobFn` is `Sync` anyway, at its `Sync` impl).
        _closure: PhantomData<BoxedFn<'a, S, R>>,
    },
    Boxed(BoxedFn<'a, S, R>),
}

/// How to call or drop the closure stored inline: one pointer per job,
/// to a table made once per closure type.
struct VTable<S, R> {
    call: unsafe fn(*mut Storage, &mut S) -> R,
    drop: unsafe fn(*mut Storage),
}

/// A pointer to the promoted constant [`Table::VTABLE`], which lives for
/// the whole program. Not a `&'static` reference, which would need `S` and
/// `R` to be `'static` as well (scoped jobs are not); never null, so that a
/// job's discriminant fits in it and a job is four words.
struct VTablePtr<S, R>(NonNull<VTable<S, R>>);

// SAFETY: the table it points to is immutable, lives for the whole program
// and holds only function pointers, which may be used from any thread.
unsafe impl<S, R> Send for VTablePtr<S, R> {}

/// The table for closures of type `F`.
struct Table<F, S, R>(PhantomData<fn(F, &mut S) -> R>);

impl<F: FnOnce(&mut S) -> R, S, R> Table<F, S, R> {
    const VTABLE: VTable<S, R> = VTable {
        call: call_inline::<F, S, R>,
        drop: drop_inline::<F>,
    };
}

impl<'a, S, R> JobFn<'a, S, R> {
    pub(crate) fn new<F: FnOnce(&mut S) -> R + Send + 'a>(f: F) -> Self {
        if size_of::<F>() <= size_of::<Storage>() && align_of::<F>() <= align_of::<Storage>() {
            let mut data = Storage::uninit();
            // SAFETY: the check above: `F` fits in `data` in size and
            // alignment. `data` now holds a valid `F`, owned by this job.
            unsafe { data.as_mut_ptr().cast::<F>().write(f) };
            JobFn {
                repr: Repr::Inline {
                    data,
                    vtable: VTablePtr(NonNull::from(&Table::<F, S, R>::VTABLE)),
                    _closure: PhantomData,
                },
            }
        } else {
            JobFn {
                repr: Repr::Boxed(Box::new(f)),
            }
        }
    }

    /// Runs the closure, consuming it.
    pub(crate) fn call(self, state: &mut S) -> R {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again and its `Drop` never runs
        // (`ManuallyDrop`), so ownership of the representation moves out
        // exactly once.
        let repr = unsafe { ptr::read(&this.repr) };
        match repr {
            Repr::Boxed(f) => f(state),
            Repr::Inline {
                mut data, vtable, ..
            } => {
                // SAFETY: `vtable` points to the table made for this job's
                // `F` (it lives for the whole program), and `data` holds that
                // valid `F`; it is read out here once and never dropped in
                // place.
                unsafe { (vtable.0.as_ref().call)(&mut data, state) }
            }
        }
    }
}

// SAFETY: a `JobFn` gives nothing through a shared reference. Its only
// methods take it by value (`call`) or by `&mut` (`Drop`), and it has no
// `&self` method or trait impl, so a `&JobFn` shared between threads
// reaches neither the closure nor its captures, whatever their own
// `Sync`-ness (the argument of `std::sync::Exclusive`). It makes a `Job`,
// and an error that hands one back, `Sync`: usable in
// `Box<dyn Error + Send + Sync>`.
unsafe impl<S, R> Sync for JobFn<'_, S, R> {}

impl<S, R> Drop for JobFn<'_, S, R> {
    fn drop(&mut self) {
        if let Repr::Inline { data, vtable, .. } = &mut self.repr {
            // SAFETY: the job was not called (`call` disarms this `Drop`),
            // so `data` still holds the valid `F` that `vtable`'s `drop` was
            // made for; the table lives for the whole program.
            unsafe { (vtable.0.as_ref().drop)(data) }
        }
    }
}

/// # Safety
/// `data` must hold a valid `F`, which the caller gives up.
unsafe fn call_inline<F: FnOnce(&mut S) -> R, S, R>(data: *mut Storage, state: &mut S) -> R {
    // SAFETY: the caller's promise; `F` fits (checked in `new`).
    let f = unsafe { data.cast::<F>().read() };
    f(state)
}

/// # Safety
/// `data` must hold a valid `F`, not used afterwards.
unsafe fn drop_inline<F>(data: *mut Storage) {
    // SAFETY: the caller's promise.
    unsafe { data.cast::<F>().drop_in_place() }
}

#[cfg(test)]
mod tests;
