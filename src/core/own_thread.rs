//! Which threads are this crate's own: the worker and the HTTP runtime's
//! threads. Code the user gives the crate runs on them (a `before_event`
//! hook, a custom `Sender`, a `tracing` layer fed by the crate's own
//! warnings), and a send from there must never wait for the worker, which
//! is the only one that could make room: such a send is queued if there is
//! room and otherwise dropped, counted as [`DropReason::Reentrant`]; a
//! `flush` or `close` from there returns at once.
//!
//! [`DropReason::Reentrant`]: crate::DropReason::Reentrant

use std::cell::Cell;

thread_local! {
    static OWN: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one of the crate's own, for its lifetime.
pub(crate) fn mark() {
    let _ = OWN.try_with(|own| own.set(true));
}

/// Whether the calling thread is one of the crate's own (false while its
/// thread-locals are being torn down).
pub(crate) fn is_own() -> bool {
    OWN.try_with(Cell::get).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_threads_are_own() {
        assert!(!is_own());
        let marked = std::thread::spawn(|| {
            mark();
            is_own()
        })
        .join()
        .unwrap();
        assert!(marked);
        assert!(!is_own(), "marking another thread leaves this one alone");
    }
}
