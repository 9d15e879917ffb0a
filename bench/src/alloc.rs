//! A counting global allocator: the system allocator, plus a running total
//! of the bytes currently allocated while counting is switched on.
//!
//! Counting is off except during workload (g), so the timed workloads pay
//! one relaxed load of a read-mostly flag per allocation and share no
//! written cache line. The counter sums requested sizes (not the
//! allocator's rounding) and sees only heap memory: thread stacks, which
//! the system maps directly, are not in it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicIsize};

static COUNTING: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);

/// The global allocator of this binary.
pub(crate) struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

fn add(bytes: usize) {
    if COUNTING.load(Relaxed) {
        CURRENT.fetch_add(bytes as isize, Relaxed);
    }
}

fn sub(bytes: usize) {
    if COUNTING.load(Relaxed) {
        CURRENT.fetch_sub(bytes as isize, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counting touches only
// atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` came from this allocator (so from
        // `System`) with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            sub(layout.size());
            add(new_size);
        }
        p
    }
}

/// Starts counting; deltas of [`current`] are meaningful from here on.
pub(crate) fn start() {
    COUNTING.store(true, Relaxed);
}

/// Stops counting.
pub(crate) fn stop() {
    COUNTING.store(false, Relaxed);
}

/// Bytes allocated minus bytes freed while counting was on.
pub(crate) fn current() -> isize {
    CURRENT.load(Relaxed)
}
