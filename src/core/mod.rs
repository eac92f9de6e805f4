//! Layer 6, the transmission core: everything between a `send()` and a
//! [`Sender`](crate::transport::Sender).
//!
//! [`handle`] is the callers' side (start, enqueue), [`control`] its
//! `flush` and `close`, [`worker`] the
//! thread that prepares, encodes and batches, [`shared`] the state both
//! sides see (in-flight batches, the responses stream, wake-ups),
//! [`stats`] the counters, [`loss`] what is said and reported of
//! events given up on, and [`fast`] the whole fast path (per-thread
//! slots and spools, block reuse, the clock).
//! May use: `transport`, `pipeline`, `schema`, `encode`, `model`, `json`,
//! `error`, `notice`; never `client` or `config` (settings come in as
//! [`settings::CoreSettings`]).

pub(crate) mod control;
pub(crate) mod fast;
pub(crate) mod fork;
pub(crate) mod handle;
pub(crate) mod inflight;
pub(crate) mod loss;
pub(crate) mod own_thread;
pub(crate) mod settings;
pub(crate) mod shared;
pub(crate) mod stats;
pub(crate) mod worker;

pub use self::inflight::FlushOutcome;
pub use self::loss::Lost;
pub use self::stats::Stats;
