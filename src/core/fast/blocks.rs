//! Reuse of typed events' heap blocks on the thread that sends them.
//!
//! A typed struct travels in an [`Event`](crate::Event) behind a `Box`. The
//! worker gives processed events back to the thread that sent them (see
//! `core::fast::slots`), and that thread's next hand-off would free
//! them. Instead, each emptied box's block is kept here, and the next typed
//! event of the same size and alignment is written into it: in steady state
//! a typed `send()` makes no allocation of its own, and the system
//! allocator's slow path (a block too large for its per-thread cache,
//! freed in bursts of a whole chunk) is off the sending thread's path.
//!
//! What a thread keeps is bounded: [`MAX_LAYOUTS`] sizes, [`MAX_BLOCKS`]
//! blocks of each, blocks of at most [`MAX_BLOCK_BYTES`]. The blocks are
//! freed when the thread exits.
//!
//! Part of `core::fast` (layer 6); uses `model` (the `ErasedTyped` box).

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

use crate::model::erased::ErasedTyped;

/// Different block layouts a thread keeps (a thread usually sends one or
/// two event types).
pub(crate) const MAX_LAYOUTS: usize = 4;
/// Blocks kept per layout: two chunks' worth, enough for the events a
/// thread sends between two hand-offs.
pub(crate) const MAX_BLOCKS: usize = 64;
/// Larger blocks are freed as usual.
pub(crate) const MAX_BLOCK_BYTES: usize = 1024;

/// Free blocks of one layout. Every pointer was allocated by the global
/// allocator with exactly `layout`, and holds no value.
struct Pool {
    layout: Layout,
    free: Vec<NonNull<u8>>,
}

#[derive(Default)]
struct Pools(Vec<Pool>);

impl Drop for Pools {
    fn drop(&mut self) {
        for pool in &mut self.0 {
            for ptr in pool.free.drain(..) {
                // SAFETY: `ptr` was allocated by the global allocator with
                // `pool.layout` (see `put`) and holds no value.
                unsafe { std::alloc::dealloc(ptr.as_ptr(), pool.layout) };
            }
        }
    }
}

thread_local! {
    static POOLS: RefCell<Pools> = const { RefCell::new(Pools(Vec::new())) };
}

/// Boxes `value`, in a block this thread kept if it has one that fits.
pub(crate) fn boxed<T: ErasedTyped + 'static>(value: T) -> Box<dyn ErasedTyped> {
    let layout = Layout::new::<T>();
    if !kept_size(layout) {
        return Box::new(value);
    }
    match take(layout) {
        Some(ptr) => {
            let ptr = ptr.as_ptr().cast::<T>();
            // SAFETY: `ptr` was allocated by the global allocator with a
            // layout equal to `Layout::new::<T>()` (same size and alignment)
            // and holds no value; writing `value` makes it a valid `T`, and
            // `Box::from_raw` takes ownership of exactly that allocation.
            unsafe {
                ptr.write(value);
                Box::from_raw(ptr)
            }
        }
        None => Box::new(value),
    }
}

/// Drops each boxed value and keeps its block for [`boxed`] (or frees it
/// when this thread keeps enough already). Takes a whole batch of returned
/// events at once: one look at the thread-local pools.
pub(crate) fn put_all(values: impl Iterator<Item = Box<dyn ErasedTyped>>) {
    // If the pools are gone (the thread is exiting) or in use, the
    // iterator is dropped unread and the values are freed as usual.
    let _ = POOLS.try_with(|pools| {
        let Ok(mut pools) = pools.try_borrow_mut() else {
            return;
        };
        for value in values {
            pools.keep(value);
        }
    });
}

impl Pools {
    /// Keeps the block of `value` after dropping the value, or frees it.
    fn keep(&mut self, value: Box<dyn ErasedTyped>) {
        let layout = Layout::for_value(&*value);
        if !kept_size(layout) {
            return;
        }
        let idx = match self.0.iter().position(|p| p.layout == layout) {
            Some(i) => i,
            None if self.0.len() < MAX_LAYOUTS => {
                self.0.push(Pool {
                    layout,
                    free: Vec::with_capacity(MAX_BLOCKS),
                });
                self.0.len() - 1
            }
            None => return,
        };
        let pool = &mut self.0[idx];
        if pool.free.len() >= MAX_BLOCKS {
            return;
        }
        let raw: *mut dyn ErasedTyped = Box::into_raw(value);
        // SAFETY: `raw` comes from `Box::into_raw`, so it is valid and owned
        // here; after `drop_in_place` the value is gone and only the block
        // (allocated by the global allocator with `layout`, the value's
        // `Layout::for_value`) is kept. A panicking destructor would leak
        // the block, never free it twice.
        unsafe { std::ptr::drop_in_place(raw) };
        if let Some(ptr) = NonNull::new(raw.cast::<u8>()) {
            pool.free.push(ptr);
        }
    }
}

/// Whether blocks of this layout are kept: not zero-sized (a `Box` of a
/// zero-sized value allocates nothing) and not larger than
/// [`MAX_BLOCK_BYTES`].
fn kept_size(layout: Layout) -> bool {
    layout.size() != 0 && layout.size() <= MAX_BLOCK_BYTES
}

fn take(layout: Layout) -> Option<NonNull<u8>> {
    POOLS
        .try_with(|pools| {
            let mut pools = pools.try_borrow_mut().ok()?;
            let pool = pools.0.iter_mut().find(|p| p.layout == layout)?;
            pool.free.pop()
        })
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::generated::python::DbQuery;

    #[test]
    fn a_kept_block_is_reused_for_the_next_event_of_that_type() {
        let first = boxed(DbQuery::new("SELECT 1", 1.0).request_id("a"));
        let addr = (&*first as *const dyn ErasedTyped).cast::<u8>();
        put_all(std::iter::once(first));
        let second = boxed(DbQuery::new("SELECT 2", 2.0));
        assert_eq!((&*second as *const dyn ErasedTyped).cast::<u8>(), addr);
        let mut buf = Vec::new();
        second.write_json(&mut buf).expect("json");
        let text = String::from_utf8(buf).expect("utf8");
        assert!(text.contains("SELECT 2"), "{text}");
        assert!(!text.contains("request_id"), "{text}");
    }

    #[test]
    fn a_thread_keeps_a_bounded_number_of_blocks() {
        std::thread::spawn(|| {
            let many: Vec<_> = (0..MAX_BLOCKS + 10)
                .map(|i| boxed(DbQuery::new(format!("q{i}"), 1.0)))
                .collect();
            put_all(many.into_iter());
            let kept = POOLS.with(|p| p.borrow().0.iter().map(|p| p.free.len()).sum::<usize>());
            assert_eq!(kept, MAX_BLOCKS);
        })
        .join()
        .expect("thread");
    }
}
