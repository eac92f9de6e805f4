//! Noticing a `fork()`: the child of a process that made a client has none
//! of the client's threads (the worker, the HTTP runtime), and the locks
//! they held stay locked. A `pthread_atfork` handler bumps a generation
//! number in the child; the client compares it with its own on each send
//! (one relaxed load) and, in a child, starts a fresh core: empty queues,
//! a new worker, a new connection (see `client::handle`). The parent's
//! queued events stay the parent's: the child never sends them.
//!
//! Not handled: a lock another thread of the parent held at the moment of
//! the fork stays held in the child (the global client's, if a thread was
//! inside `init` or a global send; documented in the README).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Registers the fork handler (once per process; from `Transmission::start`).
pub(crate) fn watch() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let _ = super::fast::raw::fork::on_child(in_child);
    });
}

/// How many forks separate this process from the one that registered the
/// handler: 0 there, 1 in its child, and so on.
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Runs in the child, on the thread that called `fork`, before `fork`
/// returns: no lock, no allocation.
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    super::fast::slots::forget_after_fork();
}
