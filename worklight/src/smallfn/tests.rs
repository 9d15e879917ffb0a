//! The inline and boxed closure store: every closure run or dropped exactly
//! once, whatever its size, alignment and captures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::{JobFn, Repr};

fn is_inline<S, R>(f: &JobFn<'_, S, R>) -> bool {
    matches!(f.repr, Repr::Inline { .. })
}

/// Counts its drops.
struct Counted<'c>(&'c AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Counts its drops, and panics in each.
struct PanicOnDrop<'c>(&'c AtomicUsize);

impl Drop for PanicOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        panic!("drop panics");
    }
}

#[test]
fn small_closures_run_and_drop_exactly_once() {
    let token = Arc::new(());
    let t = Arc::clone(&token);
    let f: JobFn<'_, u32, usize> = JobFn::new(move |s: &mut u32| {
        *s += 1;
        Arc::strong_count(&t)
    });
    assert!(matches!(f.repr, super::Repr::Inline { .. }));
    let mut state = 0;
    assert_eq!(f.call(&mut state), 2);
    assert_eq!((state, Arc::strong_count(&token)), (1, 1));

    let t = Arc::clone(&token);
    let unrun: JobFn<'_, (), ()> = JobFn::new(move |_: &mut ()| drop(t));
    assert_eq!(Arc::strong_count(&token), 2);
    drop(unrun);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "an unrun inline job drops its captures"
    );
}

#[test]
fn a_job_is_four_words() {
    let word = std::mem::size_of::<usize>();
    assert_eq!(std::mem::size_of::<JobFn<'static, (), u64>>(), 4 * word);
    assert_eq!(
        std::mem::size_of::<JobFn<'static, String, String>>(),
        4 * word
    );
}

#[test]
fn large_closures_are_boxed() {
    let big = [7u64; 8];
    let f: JobFn<'_, (), u64> = JobFn::new(move |_: &mut ()| big.iter().sum());
    assert!(matches!(f.repr, Repr::Boxed(_)));
    assert_eq!(f.call(&mut ()), 56);
}

#[test]
fn a_panicking_inline_closure_drops_its_captures_once() {
    let token = Arc::new(());
    let t = Arc::clone(&token);
    let f: JobFn<'_, (), ()> = JobFn::new(move |_: &mut ()| {
        let _keep = &t;
        panic!("inline panic");
    });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&mut ())));
    assert!(caught.is_err());
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn zero_sized_closures_are_inline_and_drop_their_captures_once() {
    let f: JobFn<'_, u8, u8> = JobFn::new(|s: &mut u8| {
        *s += 1;
        7
    });
    assert!(is_inline(&f));
    let mut s = 0;
    assert_eq!(f.call(&mut s), 7);
    assert_eq!(s, 1);
    // A zero-sized capture with a `Drop`: called, then dropped unrun.
    struct Z<'c>(&'c AtomicUsize);
    impl Drop for Z<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = AtomicUsize::new(0);
    for run in [true, false] {
        let z = Z(&drops);
        let h: JobFn<'_, (), ()> = JobFn::new(move |_: &mut ()| {
            let _z = &z;
        });
        assert!(is_inline(&h));
        if run {
            h.call(&mut ());
        } else {
            drop(h);
        }
    }
    assert_eq!(drops.load(SeqCst), 2);
}

#[test]
fn over_aligned_closures_are_boxed_and_see_their_alignment() {
    #[repr(align(16))]
    #[derive(Clone, Copy)]
    struct A16(u64);
    #[repr(align(64))]
    #[derive(Clone, Copy)]
    struct A64(u8);
    let a = A16(5);
    let f: JobFn<'_, (), u64> = JobFn::new(move |_: &mut ()| {
        assert_eq!(&raw const a as usize % 16, 0);
        a.0
    });
    assert!(!is_inline(&f));
    assert_eq!(f.call(&mut ()), 5);
    let b = A64(9);
    let f: JobFn<'_, (), u8> = JobFn::new(move |_: &mut ()| {
        assert_eq!(&raw const b as usize % 64, 0);
        b.0
    });
    assert!(!is_inline(&f));
    assert_eq!(f.call(&mut ()), 9);
}

#[test]
fn three_words_are_inline_four_are_boxed_and_padding_survives_moves() {
    let (a, b, c) = (1u64, 2u64, 3u64);
    let f: JobFn<'_, (), u64> = JobFn::new(move |_: &mut ()| a + b + c);
    assert!(is_inline(&f));
    assert_eq!(f.call(&mut ()), 6);
    let d = 4u64;
    let f: JobFn<'_, (), u64> = JobFn::new(move |_: &mut ()| a + b + c + d);
    assert!(!is_inline(&f));
    assert_eq!(f.call(&mut ()), 10);
    // Uninitialised padding bytes in the inline closure, moved through a
    // Vec and to another thread.
    let (x, y, z) = (1u8, 2u64, 3u16);
    let f: JobFn<'_, (), u64> = JobFn::new(move |_: &mut ()| u64::from(x) + y + u64::from(z));
    assert!(is_inline(&f));
    let mut v = vec![f];
    let f = v.pop().unwrap();
    let f = std::thread::spawn(move || f).join().unwrap();
    assert_eq!(f.call(&mut ()), 6);
}

#[test]
fn an_unrun_job_whose_capture_panics_when_dropped_drops_each_capture_once() {
    let drops = AtomicUsize::new(0);
    let panics = AtomicUsize::new(0);
    for big in [false, true] {
        let (d0, p0) = (drops.load(SeqCst), panics.load(SeqCst));
        let a = Counted(&drops);
        let p = PanicOnDrop(&panics);
        let f: JobFn<'_, (), ()> = if big {
            let pad = [0u64; 4];
            JobFn::new(move |_: &mut ()| {
                let _ = (&a, &p, pad);
            })
        } else {
            JobFn::new(move |_: &mut ()| {
                let _ = (&a, &p);
            })
        };
        assert_eq!(is_inline(&f), !big);
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(f)));
        assert!(dropped.is_err());
        assert_eq!(drops.load(SeqCst) - d0, 1, "the other capture, once");
        assert_eq!(panics.load(SeqCst) - p0, 1, "the panicking capture, once");
    }
}
