//! What a pool frees: a pool that a caller-supplied box holds (a cycle the
//! user made) is freed by its exile.

use std::sync::{Arc, OnceLock};

use worklight::{JobError, WorkerPool, callback};

/// The errbox's callback holds the pool itself: dropping the caller's
/// handle alone would leave the cycle, but the exile drops the boxes, and
/// then the pool goes with the last handle.
#[test]
fn a_pool_its_own_box_holds_is_freed_after_its_exile() {
    let slot: Arc<OnceLock<Arc<WorkerPool<u32>>>> = Arc::new(OnceLock::new());
    let held = Arc::clone(&slot);
    let pool = Arc::new(
        WorkerPool::builder()
            .workers(2)
            .errbox(callback(move |e: JobError| {
                let pool = held.get().expect("the pool is set before any job");
                // A failure makes the pool log how many results are waiting.
                eprintln!("{e}; {} results waiting", pool.outbox.len());
            }))
            .build()
            .unwrap(),
    );
    slot.set(Arc::clone(&pool)).ok().unwrap();
    drop(slot);
    let weak = Arc::downgrade(&pool);
    pool.inbox.put(|| 1).unwrap();
    pool.inbox.put(|| -> u32 { panic!("lost") }).unwrap();
    pool.exile().unwrap();
    assert_eq!(pool.outbox.iter().collect::<Vec<_>>(), vec![1]);
    assert_eq!(pool.metrics().panicked, 1);
    drop(pool);
    assert!(weak.upgrade().is_none(), "the exile ended the cycle");
}
