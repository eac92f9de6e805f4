//! Values many events share across threads, kept off their reference
//! count's cache line.
//!
//! A builder's fields, its dynamic-field names and the event context are
//! shared by every event made from them through an `Arc`, so each new event
//! writes the `Arc`'s count while the worker, on another core, reads the
//! value. In an `Arc<T>` the value sits right after the count: the two
//! threads then fight over one cache line, once per event. `Padded` aligns
//! the value to 128 bytes (two cache lines, the unit the prefetcher pulls),
//! which puts it on lines of its own.

use std::ops::Deref;

/// `T`, aligned so that in an `Arc<Padded<T>>` it does not share a cache
/// line with the reference count.
#[derive(Clone, Default, Debug, PartialEq)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_value_starts_two_cache_lines_after_the_count() {
        let shared = Arc::new(Padded(7u64));
        let value = &shared.0 as *const u64 as usize;
        // The count sits at the start of the `Arc`'s allocation, just
        // before the 128-aligned value.
        assert_eq!(value % 128, 0);
        let counts = Arc::as_ptr(&shared) as usize - 128;
        assert!(value - counts >= 128);
    }
}
