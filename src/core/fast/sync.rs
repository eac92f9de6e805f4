//! The fast path's synchronisation primitives: `std`'s, or loom's when
//! the crate is built with `--cfg loom`, so that the model checks of
//! `tests/loom_spool.rs` run the real code (the way tokio runs loom on
//! its own: one module that every user of atomics goes through).
//!
//! In the normal build every item is a re-export of `std` or an
//! `#[inline(always)]` wrapper that compiles to the plain access: the
//! code that runs is what it was before this module.
//!
//! * Atomics, `Mutex`, `Arc`, `Condvar`, `thread`: re-exports.
//! * [`UnsafeCell`]: loom's `with`/`with_mut` interface over `std`'s cell.
//! * [`Bytes`]: loom's view of a raw buffer's bytes (one loom cell per
//!   byte), so that loom checks every read of a spool's bytes against
//!   their writes and the buffer's free; in the normal build an empty
//!   struct whose methods do nothing.
//! * [`Plant`]: bugs a loom test plants in the real code, to show that
//!   the model checks catch them (only with `--cfg loom`).
//!
//! Today `raw::spool` goes through this module; the slots, the worker and
//! the wake-up still use `std` directly and are checked by the miniature
//! of `tests/loom_handoff.rs`.

// What the slot and worker code will use when they move here.
#![allow(unused_imports, dead_code)]

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std`'s `UnsafeCell` with loom's interface: `with` and `with_mut`
/// hand the closure the raw pointer.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline(always)]
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// The bytes of a raw buffer, as loom sees them: nothing in the normal
/// build.
#[cfg(not(loom))]
#[derive(Clone, Default)]
pub(crate) struct Bytes;

#[cfg(not(loom))]
impl Bytes {
    /// A buffer of `cap` bytes.
    #[inline(always)]
    pub(crate) fn new(_cap: usize) -> Bytes {
        Bytes
    }

    /// The bytes `[from, to)` are read.
    #[inline(always)]
    pub(crate) fn read(&self, _from: usize, _to: usize) {}

    /// The bytes `[from, to)` are written (or freed).
    #[inline(always)]
    pub(crate) fn write(&self, _from: usize, _to: usize) {}
}

/// The bytes of a raw buffer, as loom sees them: one loom cell per byte,
/// shared by the buffer's owner and its views.
#[cfg(loom)]
#[derive(Clone, Default)]
pub(crate) struct Bytes(std::sync::Arc<Vec<loom::cell::UnsafeCell<()>>>);

#[cfg(loom)]
impl Bytes {
    /// A buffer of `cap` bytes.
    pub(crate) fn new(cap: usize) -> Bytes {
        Bytes(std::sync::Arc::new(
            (0..cap).map(|_| loom::cell::UnsafeCell::new(())).collect(),
        ))
    }

    /// The bytes `[from, to)` are read: loom checks the reads against
    /// every write of those bytes.
    pub(crate) fn read(&self, from: usize, to: usize) {
        for cell in &self.0[from..to] {
            cell.with(|_| ());
        }
    }

    /// The bytes `[from, to)` are written (or freed): loom checks the
    /// writes against every other access to those bytes.
    pub(crate) fn write(&self, from: usize, to: usize) {
        for cell in &self.0[from..to] {
            cell.with_mut(|_| ());
        }
    }
}

/// A bug a loom test plants in the real code (see `Plant::is`).
#[cfg(loom)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Plant {
    /// No bug: the code as it runs.
    None = 0,
    /// `OwnSpool::put` stores `committed` Relaxed (not Release).
    RelaxedPublish = 1,
    /// `SpoolView::published` loads `committed` Relaxed (not Acquire).
    RelaxedReadOfCommitted = 2,
}

#[cfg(loom)]
static PLANTED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

#[cfg(loom)]
impl Plant {
    /// Plants `self` (`Plant::None` removes the bug). Outside loom's
    /// view: set it before `loom::model`, not inside.
    pub fn set(self) {
        PLANTED.store(self as u8, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether `self` is planted.
    pub(crate) fn is(self) -> bool {
        PLANTED.load(std::sync::atomic::Ordering::SeqCst) == self as u8
    }
}
