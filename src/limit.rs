//! `Slots`: a cap on how many of something run at once, taken without waiting.
//!
//! Above the cap the caller answers at once (a 503) instead of queueing: a burst of callbacks
//! must not spend the app's WorkOS rate limit or tie up the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// At most `max` holders of a [`Slot`] at a time.
#[derive(Debug)]
pub(crate) struct Slots {
    used: Arc<AtomicUsize>,
    max: usize,
}

/// One taken slot; dropping it gives it back.
#[derive(Debug)]
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Slots {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            used: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A slot, or `None` when all `max` are taken.
    pub(crate) fn try_take(&self) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.max).then_some(used + 1)
            })
            .ok()
            .map(|_| Slot(self.used.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_slots_are_out_and_dropping_one_gives_it_back() {
        let slots = Slots::new(2);
        let a = slots.try_take().unwrap();
        let _b = slots.try_take().unwrap();
        assert!(slots.try_take().is_none());
        drop(a);
        assert!(slots.try_take().is_some());
    }
}
