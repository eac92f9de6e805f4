//! What the core needs from the configuration, as plain values: the
//! client builds one from its `Config`, so the core never sees `Config`.

use std::time::Duration;

use crate::pipeline::prepare::Policy;

/// The core's settings (see the `Config` setters of the same names).
#[derive(Clone)]
pub(crate) struct CoreSettings {
    /// Events the queue (with the per-thread slots) holds.
    pub(crate) max_queue_size: usize,
    /// Responses the responses stream holds.
    pub(crate) response_queue_size: usize,
    /// A full queue makes `send()` wait.
    pub(crate) block_on_send: bool,
    /// A full responses stream makes the core wait.
    pub(crate) block_on_response: bool,
    /// Events per batch.
    pub(crate) batch_size: usize,
    /// Longest a batch waits to fill up.
    pub(crate) batch_timeout: Duration,
    /// Bytes per batch.
    pub(crate) batch_max_bytes: usize,
    /// Bytes of JSON per event.
    pub(crate) max_event_bytes: usize,
    /// Batches in flight at once.
    pub(crate) max_in_flight: usize,
    /// How long the worker delivers what is left when the last handle is
    /// gone without a `close`.
    pub(crate) drop_timeout: Duration,
    /// The shortest time between two summaries of lost events (the first
    /// loss of each reason is warned about at once).
    pub(crate) loss_summary_interval: Duration,
    /// Hooks, params filters and client-wide fields.
    pub(crate) policy: Policy,
}
