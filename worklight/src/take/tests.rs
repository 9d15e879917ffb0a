//! The workers' side of the inbox, one worker at a time: batches, whole
//! segments, stealing, the room a slot keeps, and the stagger's arithmetic.

use std::time::{Duration, Instant};

use super::{MAX_BATCH, Stagger, Taken, WHOLE_SEGMENT_SHARE};
use crate::control::Control;
use crate::inbox::Inbox;
use crate::queue::SEGMENT;

/// An inbox of `n` numbered items, one worker taking from it.
fn inbox_of(n: usize) -> (Inbox<usize>, Control, super::Taker<usize>) {
    let inbox = Inbox::new();
    inbox.put_all(0..n).unwrap();
    let ctl = Control::new(false, None, inbox.active());
    ctl.add_active(1);
    let taker = inbox.taker(0);
    (inbox, ctl, taker)
}

fn take(inbox: &Inbox<usize>, ctl: &Control, me: &mut super::Taker<usize>) -> usize {
    match inbox.take(ctl, me) {
        Taken::Job(entry) => entry.item,
        _ => panic!("a queued job was not handed out"),
    }
}

#[test]
fn worker_k_of_a_ramp_waits_k_steps_and_past_the_clock_until_the_exile() {
    let start = Instant::now();
    let ms = Duration::from_millis(1);
    let until = |step, k| Stagger::nth(start, step, k).until;
    assert_eq!(until(ms, 0), Some(start));
    assert_eq!(until(ms, 3), Some(start + 3 * ms));
    assert_eq!(until(Duration::ZERO, usize::MAX), Some(start));
    assert_eq!(
        until(Duration::MAX, 0),
        Some(start),
        "the first worker never waits"
    );
    assert_eq!(until(Duration::MAX, 1), None);
    assert_eq!(
        until(Duration::from_secs(u64::MAX / 4), 5),
        None,
        "k × step overflows"
    );
}

#[test]
fn a_long_queue_hands_its_front_segment_over_whole() {
    let n = WHOLE_SEGMENT_SHARE + 1 + 3 * SEGMENT;
    let (inbox, ctl, mut me) = inbox_of(n);
    assert_eq!(take(&inbox, &ctl, &mut me), 0);
    assert_eq!(me.slot.len(), SEGMENT - 1, "the rest of the segment");
    assert_eq!(inbox.len(), n - 1, "the slot's jobs still count");
    // The worker runs the segment's jobs from its slot, in order.
    for i in 1..n {
        assert_eq!(take(&inbox, &ctl, &mut me), i);
    }
    assert_eq!(inbox.len(), 0);
    assert!(me.slot.items.lock().capacity() >= SEGMENT - 1);
    me.slot.release_room(MAX_BATCH);
    assert_eq!(
        me.slot.items.lock().capacity(),
        0,
        "an idle slot keeps no segment"
    );
}

#[test]
fn a_short_queue_hands_out_a_batch() {
    let (inbox, ctl, mut me) = inbox_of(WHOLE_SEGMENT_SHARE);
    assert_eq!(take(&inbox, &ctl, &mut me), 0);
    assert_eq!(me.slot.len(), MAX_BATCH - 1);
    for i in 1..WHOLE_SEGMENT_SHARE {
        assert_eq!(take(&inbox, &ctl, &mut me), i);
    }
    // A spinning worker keeps a batch's room; a sleeping one none.
    let room = || me.slot.items.lock().capacity();
    assert!((MAX_BATCH - 1..2 * MAX_BATCH).contains(&room()));
    me.slot.release_room(MAX_BATCH);
    assert!(room() >= MAX_BATCH - 1, "kept for the next batch");
    me.slot.release_room(0);
    assert_eq!(room(), 0, "a sleeping worker keeps no room");
}

#[test]
fn a_sibling_steals_half_of_a_whole_segment() {
    let (inbox, ctl, mut me) = inbox_of(WHOLE_SEGMENT_SHARE + 1);
    ctl.add_active(1);
    let mut sibling = inbox.taker(0);
    // Two workers: each one's share is half the queue.
    let n = 4 * WHOLE_SEGMENT_SHARE + 1;
    inbox.put_all(WHOLE_SEGMENT_SHARE + 1..n).unwrap();
    assert_eq!(take(&inbox, &ctl, &mut me), 0);
    let mine = me.slot.len();
    assert_eq!(mine, SEGMENT - 1);
    // The sibling works the queue off, then steals from the full slot.
    let mut got = vec![0];
    while inbox.len() > mine {
        got.push(take(&inbox, &ctl, &mut sibling));
    }
    let before = me.slot.len();
    got.push(take(&inbox, &ctl, &mut sibling));
    assert_eq!(me.slot.len(), before - before.div_ceil(2), "half stolen");
    while !inbox.is_empty() {
        got.push(take(&inbox, &ctl, &mut me));
    }
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>(), "every job once");
}
