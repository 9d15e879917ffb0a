//! The inbox's queue: a deque kept in segments of fixed size.
//!
//! A `VecDeque` that grows to hold a pile of jobs doubles its buffer again
//! and again, copying every queued job each time; it holds on average half
//! again the room its jobs need, and it never gives that room back, so a
//! pool that once queued a million jobs keeps their memory for good. Here
//! the jobs live in segments of [`SEGMENT`] entries: growing adds a segment
//! and copies nothing, an emptied segment goes back to the allocator (a few
//! are kept for the next pushes), and `put_all` fills segments of its own
//! outside the inbox lock and hands them over whole under it. Measured in
//! `BENCHMARKS.md`: (g) 56 heap bytes per queued job instead of 73 (48
//! since a job shrank to four words), and (a) `put_all` of a million jobs
//! about 1.6× faster.
//!
//! The inbox lock is not held across the allocator on the hot paths: a
//! put that finds the tail full and no spare makes a segment with the lock
//! released, its pages already touched ([`Queue::fresh_segment`]), and a
//! worker frees the emptied segments beyond the spares after letting go of
//! the lock ([`Queue::take_retired`]). Holding it across a page fault or a
//! `free` had every other putter and worker spinning on it meanwhile.
//!
//! A worker refilling its slot from a long queue takes `head`'s front
//! segment whole ([`Queue::take_front_segment`]): the segment changes hands
//! and no entry is read under the lock, so the cache misses on entries the
//! putters just wrote, on other cores, are paid by the worker as it runs
//! them (`BENCHMARKS.md`, workloads (a) and (e), has what that measured).
//!
//! The newest entries sit in `tail`, held in the queue itself, so that a
//! put touches no more memory than it would with one `VecDeque`; a queue
//! that never holds more than a segment's worth is exactly that. Older
//! entries are in `head`, a deque of segments, oldest first, none of them
//! empty: the queue's order is `head`'s segments, then `tail`.

use std::collections::VecDeque;

/// Entries per segment.
#[cfg(not(loom))]
pub(crate) const SEGMENT: usize = 256;

/// Under loom, two: so that the models' few jobs fill segments, and a
/// worker takes one whole (see `take::WHOLE_SEGMENT_SHARE`).
#[cfg(loom)]
pub(crate) const SEGMENT: usize = 2;

/// Emptied segments kept for reuse.
const SPARES: usize = 4;

pub(crate) struct Queue<T> {
    head: VecDeque<VecDeque<T>>,
    tail: VecDeque<T>,
    len: usize,
    spares: Vec<VecDeque<T>>,
    /// Emptied segments beyond the spares, to be freed by whoever holds
    /// the queue once it has let go of the inbox lock.
    retired: Vec<VecDeque<T>>,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            head: VecDeque::new(),
            tail: VecDeque::new(),
            len: 0,
            spares: Vec::new(),
            retired: Vec::new(),
        }
    }
}

impl<T> Queue<T> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn segment(&mut self) -> VecDeque<T> {
        self.spares
            .pop()
            .unwrap_or_else(|| VecDeque::with_capacity(SEGMENT))
    }

    /// The emptied segments not kept as spares: free them with the inbox
    /// lock released.
    pub(crate) fn take_retired(&mut self) -> Vec<VecDeque<T>> {
        std::mem::take(&mut self.retired)
    }

    /// Whether the next `push_back` would have to allocate a segment.
    #[inline]
    pub(crate) fn needs_segment(&self) -> bool {
        self.tail.len() >= SEGMENT && self.spares.is_empty()
    }

    /// A new segment with its memory already touched, so that the pushes
    /// that fill it take no page faults. Made by a putter with the inbox
    /// lock released.
    pub(crate) fn fresh_segment() -> VecDeque<T> {
        let mut v = Vec::with_capacity(SEGMENT);
        for slot in v.spare_capacity_mut() {
            *slot = std::mem::MaybeUninit::zeroed();
        }
        VecDeque::from(v)
    }

    /// Keeps an empty segment for the next pushes, or retires it if there
    /// are spares enough (or it is too small to serve).
    pub(crate) fn recycle(&mut self, segment: VecDeque<T>) {
        debug_assert!(segment.is_empty());
        if segment.capacity() == 0 {
            return; // Nothing to free.
        }
        if self.spares.len() < SPARES && segment.capacity() >= SEGMENT {
            self.spares.push(segment);
        } else {
            self.retired.push(segment);
        }
    }

    #[inline]
    pub(crate) fn push_back(&mut self, item: T) {
        if self.tail.len() >= SEGMENT {
            self.retire_tail();
        }
        self.tail.push_back(item);
        self.len += 1;
    }

    /// Moves a full `tail` to the back of `head`, starting a new one.
    #[cold]
    #[inline(never)]
    fn retire_tail(&mut self) {
        let fresh = self.segment();
        let full = std::mem::replace(&mut self.tail, fresh);
        self.head.push_back(full);
    }

    pub(crate) fn push_front(&mut self, item: T) {
        let front = match self.head.front_mut() {
            Some(front) => front,
            None => &mut self.tail,
        };
        if front.len() < SEGMENT {
            front.push_front(item);
        } else {
            let mut fresh = self.segment();
            fresh.push_front(item);
            self.head.push_front(fresh);
        }
        self.len += 1;
    }

    pub(crate) fn front(&self) -> Option<&T> {
        match self.head.front() {
            Some(front) => front.front(),
            None => self.tail.front(),
        }
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = match self.head.front_mut() {
            Some(front) => {
                let item = front.pop_front();
                if front.is_empty() {
                    self.drop_front_segment();
                }
                item
            }
            None => self.tail.pop_front(),
        }?;
        self.len -= 1;
        Some(item)
    }

    /// Recycles `head`'s front segment, emptied.
    #[cold]
    #[inline(never)]
    fn drop_front_segment(&mut self) {
        if let Some(empty) = self.head.pop_front() {
            self.recycle(empty);
        }
    }

    /// Moves the first `n` entries (or all there are) to the back of `to`,
    /// in order.
    pub(crate) fn move_front_to(&mut self, n: usize, to: &mut VecDeque<T>) {
        let mut left = n.min(self.len);
        self.len -= left;
        while left > 0 {
            let Some(front) = self.head.front_mut() else {
                to.extend(self.tail.drain(..left));
                return;
            };
            let k = left.min(front.len());
            to.extend(front.drain(..k));
            left -= k;
            if front.is_empty() {
                self.drop_front_segment();
            }
        }
    }

    /// Moves `head`'s front segment, whole, into the empty `to` (whose
    /// buffer is kept or retired); `false` if there is none, or `to` is not
    /// empty. No entry is read, so no entry is copied: the cache misses on
    /// entries that other threads just wrote are paid by whoever reads
    /// them from `to`, not by the holder of the inbox lock.
    pub(crate) fn take_front_segment(&mut self, to: &mut VecDeque<T>) -> bool {
        if !to.is_empty() {
            return false;
        }
        let Some(segment) = self.head.pop_front() else {
            return false;
        };
        self.len -= segment.len();
        let empty = std::mem::replace(to, segment);
        self.recycle(empty);
        true
    }

    /// Takes every entry, in order.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = T> + use<T> {
        self.len = 0;
        let head = std::mem::take(&mut self.head);
        let tail = std::mem::take(&mut self.tail);
        head.into_iter().flatten().chain(tail)
    }

    /// Every entry, in order, to update in place.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.head.iter_mut().flatten().chain(self.tail.iter_mut())
    }

    /// Moves every entry of `other` to the back of this queue, in order,
    /// without copying them: their segments change hands.
    pub(crate) fn append(&mut self, other: &mut Queue<T>) {
        if other.is_empty() {
            return;
        }
        let tail = std::mem::replace(&mut self.tail, std::mem::take(&mut other.tail));
        if tail.is_empty() {
            self.recycle(tail);
        } else {
            self.head.push_back(tail);
        }
        self.head.append(&mut other.head);
        self.len += std::mem::take(&mut other.len);
    }
}

#[cfg(test)]
mod tests {
    use super::{Queue, SEGMENT};
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        PushBack,
        PushFront,
        PopFront,
        MoveFront(usize),
        TakeSegment,
        TakeAll,
        Append(usize),
        Bump,
        Spare,
        FreeRetired,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => Just(Op::PushBack),
            1 => Just(Op::PushFront),
            4 => Just(Op::PopFront),
            2 => (0..2 * SEGMENT).prop_map(Op::MoveFront),
            1 => Just(Op::TakeSegment),
            1 => Just(Op::TakeAll),
            1 => (0..3 * SEGMENT).prop_map(Op::Append),
            1 => Just(Op::Bump),
            1 => Just(Op::Spare),
            1 => Just(Op::FreeRetired),
        ]
    }

    proptest! {
        /// Every operation does what the same operation does on a plain
        /// `VecDeque`: same entries, same order, same length.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(op(), 1..400), burst in 1..3 * SEGMENT) {
            let mut q = Queue::new();
            let mut model = VecDeque::new();
            let mut next = 0u64;
            for op in ops {
                match op {
                    Op::PushBack => {
                        for _ in 0..burst {
                            q.push_back(next);
                            model.push_back(next);
                            next += 1;
                        }
                    }
                    Op::PushFront => {
                        q.push_front(next);
                        model.push_front(next);
                        next += 1;
                    }
                    Op::PopFront => prop_assert_eq!(q.pop_front(), model.pop_front()),
                    Op::MoveFront(n) => {
                        let mut got = VecDeque::from([u64::MAX]);
                        q.move_front_to(n, &mut got);
                        let want: Vec<u64> = std::iter::once(u64::MAX)
                            .chain(model.drain(..n.min(model.len())))
                            .collect();
                        prop_assert_eq!(Vec::from(got), want);
                    }
                    Op::TakeSegment => {
                        let mut got = VecDeque::new();
                        let whole = q.head.front().map(VecDeque::len);
                        prop_assert_eq!(q.take_front_segment(&mut got), whole.is_some());
                        prop_assert_eq!(got.len(), whole.unwrap_or(0));
                        let want: Vec<u64> = model.drain(..got.len()).collect();
                        prop_assert_eq!(Vec::from(got), want);
                        let mut full = VecDeque::from([0]);
                        prop_assert!(!q.take_front_segment(&mut full), "only into an empty deque");
                    }
                    Op::TakeAll => {
                        let got: Vec<u64> = q.take_all().collect();
                        let want: Vec<u64> = model.drain(..).collect();
                        prop_assert_eq!(got, want);
                    }
                    Op::Append(n) => {
                        let mut other = Queue::new();
                        for _ in 0..n {
                            other.push_back(next);
                            model.push_back(next);
                            next += 1;
                        }
                        q.append(&mut other);
                        prop_assert!(other.is_empty());
                    }
                    Op::Bump => {
                        for (x, y) in q.iter_mut().zip(model.iter_mut()) {
                            *x += 1_000_000;
                            *y += 1_000_000;
                        }
                    }
                    Op::Spare => q.recycle(Queue::fresh_segment()),
                    Op::FreeRetired => {
                        let retired = q.take_retired();
                        prop_assert!(retired.iter().all(|s| s.is_empty()));
                        prop_assert!(q.retired.is_empty());
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.is_empty(), model.is_empty());
                prop_assert!(q.head.iter().all(|s| !s.is_empty() && s.len() <= SEGMENT));
                prop_assert!(q.tail.len() <= SEGMENT);
                prop_assert!(q.spares.len() <= super::SPARES);
                prop_assert!(q.spares.iter().chain(&q.retired).all(|s| s.is_empty()));
            }
            let rest: Vec<u64> = q.take_all().collect();
            prop_assert_eq!(rest, Vec::from(model));
        }
    }

    #[test]
    fn a_spare_made_ahead_serves_the_push_that_fills_the_tail() {
        let mut q = Queue::new();
        for i in 0..SEGMENT {
            q.push_back(i);
        }
        assert!(q.needs_segment());
        q.recycle(Queue::fresh_segment());
        assert!(!q.needs_segment());
        q.push_back(SEGMENT);
        assert!(q.spares.is_empty(), "the push took the spare");
        assert!(q.tail.capacity() >= SEGMENT);
        assert_eq!(
            q.take_all().collect::<Vec<_>>(),
            (0..=SEGMENT).collect::<Vec<_>>()
        );
    }

    #[test]
    fn emptied_segments_beyond_the_spares_wait_to_be_freed() {
        let mut q = Queue::new();
        let segments = super::SPARES + 3;
        for i in 0..segments * SEGMENT + 1 {
            q.push_back(i);
        }
        let mut out = VecDeque::new();
        q.move_front_to(segments * SEGMENT, &mut out);
        assert_eq!(q.spares.len(), super::SPARES);
        assert_eq!(q.take_retired().len(), segments - super::SPARES);
        assert!(q.take_retired().is_empty());
        assert_eq!(q.pop_front(), Some(segments * SEGMENT));
    }

    #[test]
    fn every_entry_is_dropped_once() {
        use std::sync::Arc;
        let token = Arc::new(());
        let mut q = Queue::new();
        for _ in 0..3 * SEGMENT + 7 {
            q.push_back(Arc::clone(&token));
        }
        let mut taken = VecDeque::new();
        q.move_front_to(SEGMENT + 3, &mut taken);
        drop(q.pop_front());
        drop(taken);
        // The queue holds what was neither moved out nor popped.
        assert_eq!(
            Arc::strong_count(&token),
            1 + (3 * SEGMENT + 7) - (SEGMENT + 3) - 1
        );
        drop(q);
        assert_eq!(Arc::strong_count(&token), 1);
    }
}
