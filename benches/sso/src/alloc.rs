//! A counting global allocator: how many allocations (and bytes) a piece of work makes on the
//! thread that runs it.
//!
//! A binary installs it with `#[global_allocator] static A: Counting = Counting;` and wraps the
//! work in [`counted`]. Only the calling thread's allocations are counted, so another thread's
//! work (the fake WorkOS) never shows up. `alloc`, `alloc_zeroed` and `realloc` each count as
//! one allocation; bytes are the sizes asked for (a `realloc` counts its new size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting while [`counted`] runs on the calling thread.
pub struct Counting;

static CALLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` and without a destructor: reading it never allocates.
    static ON: Cell<bool> = const { Cell::new(false) };
}

fn note(size: usize) {
    if ON.try_with(Cell::get).unwrap_or(false) {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `layout` is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations and bytes counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub allocations: u64,
    pub bytes: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.allocations += other.allocations;
        self.bytes += other.bytes;
    }
}

/// Runs `work`, counting the allocations it makes on this thread. Only meaningful in a binary
/// whose global allocator is [`Counting`] (otherwise the counts are zero).
pub fn counted<T>(work: impl FnOnce() -> T) -> (T, Counts) {
    let before = (CALLS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    ON.with(|on| on.set(true));
    let value = work();
    ON.with(|on| on.set(false));
    let counts = Counts {
        allocations: CALLS.load(Ordering::Relaxed) - before.0,
        bytes: BYTES.load(Ordering::Relaxed) - before.1,
    };
    (value, counts)
}

/// Whether the running binary counts (its global allocator is [`Counting`]).
pub fn is_counting() -> bool {
    let (_, counts) = counted(|| std::hint::black_box(Box::new(0u64)));
    counts.allocations == 1
}
