//! The fast path: what a `send()` does on the calling thread, and the only
//! module of the core with `unsafe` code.
//!
//! * [`slots`]: each thread's send slot for a client, its lock-free spool
//!   of packed records, and the registry the worker walks.
//! * [`blocks`]: the reuse of typed events' heap blocks on the thread that
//!   sent them.
//! * [`clock`]: the wall clock a typed send reads (the TSC where Linux
//!   keeps time with it).
//!
//! The rest of the crate reaches it through [`slots::with_local`],
//! [`slots::with_slot`], [`slots::recycle`], the [`slots::SlotOwner`]
//! trait the core implements, [`blocks::boxed`] and
//! [`clock::since_epoch`]; `core::handle`'s spool placement also works on
//! the slot's state and buffers (`SlotState`, `ThreadBuffers`, `Placed`)
//! under the slot's lock.
//! Every `unsafe` block here has a `SAFETY:` comment (denied otherwise by
//! `clippy::undocumented_unsafe_blocks`) and is exercised by the tests of
//! its module and by `tests/slots.rs`.
//!
//! Part of `core` (layer 6); uses `core::inflight`, `encode`, `model`.

pub(crate) mod blocks;
pub(crate) mod clock;
pub(crate) mod slots;
