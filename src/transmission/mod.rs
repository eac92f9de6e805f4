//! The transmission core: one path from `send()` to a backend.
//!
//! ```text
//! send() ──► this thread's slot (up to 32 events; ──► queue (bounded, in chunks)
//!                 ▲  typed ones packed as bytes            │
//!                 │  into a spool, without a lock)         │
//!                 └── processed events, freed here ◄── worker thread: hooks,
//!                                                      filters, checks,
//!                                                      serialization, batching
//!                                                      by count/bytes/time
//!                                                           │
//!                                                           ▼
//!                             sender runtime: up to N batches in flight
//!                             (Honeybadger, Honeycomb, writer, memory, discard)
//!                                                           │
//!                                                           ▼
//!                                              responses stream + stats
//! ```
//!
//! The caller only enqueues; everything else happens on the worker thread and
//! the sender runtime the core owns, so it behaves the same in a synchronous
//! program and inside any async runtime.
//!
//! Backends implement [`Sender`]: take an encoded [`Batch`], return one
//! [`Outcome`] per event.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

pub(crate) mod batch;
mod compress;
mod discard;
mod honeybadger;
mod honeycomb;
mod http;
mod local;
mod memory;
pub(crate) mod packed;
pub(crate) mod queue;
pub(crate) mod stats;
mod worker;
mod writer;

pub use batch::{encode_event, encode_into, format_timestamp, write_timestamp, Batch, WireFormat};
pub use discard::DiscardSender;
pub use honeybadger::HoneybadgerSender;
pub use honeycomb::HoneycombSender;
pub use memory::{MemorySender, RecordedEvent};
pub use stats::{DropReason, Stats};
pub use writer::WriterSender;

/// A boxed future, as [`Sender::send`] returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A backend: delivers encoded batches.
///
/// Implementations are small (see [`DiscardSender`]); the core owns queueing,
/// batching, concurrency, stats and responses.
pub trait Sender: Send + Sync + 'static {
    /// A short name for logs and `Debug` output.
    fn name(&self) -> &'static str;

    /// The encoding the batches handed to [`Sender::send`] use.
    fn format(&self) -> WireFormat {
        WireFormat::Ndjson
    }

    /// Delivers one batch; resolves to one [`Outcome`] per event, in batch
    /// order. Runs on the core's own runtime; `ctx` reports retries.
    fn send(&self, batch: Batch, ctx: SendContext) -> BoxFuture<Vec<Outcome>>;
}

/// What happened to one event of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The HTTP status the backend answered (none for local backends or when
    /// no answer came).
    pub status: Option<u16>,
    /// `None` when delivered; else why not.
    pub error: Option<String>,
    /// The category of the failure, for stats.
    pub reason: Option<DropReason>,
}

impl Outcome {
    /// A delivered event.
    pub fn ok(status: Option<u16>) -> Self {
        Outcome {
            status,
            error: None,
            reason: None,
        }
    }

    /// An event given up for `reason`.
    pub fn failed(status: Option<u16>, reason: DropReason, error: impl Into<String>) -> Self {
        Outcome {
            status,
            error: Some(error.into()),
            reason: Some(reason),
        }
    }

    /// Whether the event was delivered.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Handed to [`Sender::send`]: lets a sender report retries.
#[derive(Clone)]
pub struct SendContext {
    pub(crate) shared: std::sync::Arc<queue::Shared>,
}

impl fmt::Debug for SendContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendContext")
    }
}

impl SendContext {
    /// Records one retry of a batch.
    pub fn record_retry(&self) {
        self.shared.stats.add(stats::Counter::Retried, 1);
    }
}

/// One response per event, on the stream from [`crate::Client::responses`].
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The HTTP status of the request that carried the event, if any.
    pub status_code: Option<u16>,
    /// Time from `send()` to this outcome.
    pub duration: Duration,
    /// The event's metadata (see [`crate::Event::set_metadata`]).
    pub metadata: Option<Value>,
    /// `None` when delivered; else why not.
    pub error: Option<String>,
    /// The category of the failure.
    pub reason: Option<DropReason>,
}

impl Response {
    /// Whether the event was delivered.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// What [`crate::Client::flush`] and [`crate::Client::close`] report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushOutcome {
    /// Everything enqueued before the call reached a final outcome
    /// (delivered or failed for good) in time.
    pub completed: bool,
    /// Events still undelivered when the deadline passed (0 when `completed`).
    pub pending: u64,
}

pub(crate) use queue::Transmission;
