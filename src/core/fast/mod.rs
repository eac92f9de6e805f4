//! The fast path: what a `send()` does on the calling thread, and the only
//! part of the core with `unsafe` code, all of it in [`raw`].
//!
//! * [`slots`]: each thread's send slot for a client, its lock-free spool
//!   of packed records, and the registry the worker walks.
//! * [`clock`]: the wall clock a typed send reads (the TSC where Linux
//!   keeps time with it).
//! * [`sync`]: the atomics and locks `raw::spool` uses: `std`'s, or
//!   loom's under `--cfg loom`, so that loom checks the real spool
//!   (`loom_entry`, `tests/loom_spool.rs`).
//! * [`raw`]: every `unsafe` operation, each behind a safe interface:
//!   typed events' blocks reused on the sending thread ([`raw::blocks`]),
//!   the spool buffer and its marks ([`raw::spool`]), the clock's raw
//!   reads ([`raw::cpu`]).
//!
//! The rest of the crate reaches it through [`slots::with_local`],
//! [`slots::with_slot`], [`slots::recycle`], the [`slots::SlotOwner`]
//! trait the core implements, [`raw::blocks::boxed`] and
//! [`clock::since_epoch`]; `core::handle`'s spool placement also works on
//! the slot's state and buffers (`SlotState`, `ThreadBuffers`, `Placed`)
//! under the slot's lock. Every `unsafe` block has a `SAFETY:` comment
//! (denied otherwise by `clippy::undocumented_unsafe_blocks`) and is run by
//! the tests of `raw` and by `tests/slots.rs`.

pub(crate) mod clock;
#[cfg(loom)]
pub mod loom_entry;
#[allow(unsafe_code)]
pub(crate) mod raw;
pub(crate) mod slots;
pub(crate) mod sync;
