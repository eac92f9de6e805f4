//! Layer 5, transport: how encoded batches reach a backend.
//!
//! One [`Sender`] trait, and its implementations: Honeybadger
//! ([`honeybadger`]), Honeycomb ([`honeycomb`]), a writer ([`writer`],
//! NDJSON on stdout by default), memory ([`memory`], for tests) and
//! [`discard`]. The HTTP senders share [`http`] (the request loop),
//! [`policy`] (what to do with an answer: a pure function with a table
//! test) and [`compress`]. A sender takes an encoded
//! [`Batch`](crate::encode::batch::Batch) and returns one [`Outcome`] per
//! event; the core owns queueing, batching, concurrency, stats and
//! responses.
//!
//! May use: `encode`, `model`, `json`, `error`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use crate::encode::batch::{Batch, WireFormat};
use crate::model::response::DropReason;

pub(crate) mod compress;
pub(crate) mod discard;
pub(crate) mod honeybadger;
pub(crate) mod honeycomb;
pub(crate) mod http;
pub(crate) mod memory;
pub(crate) mod policy;
pub(crate) mod secret;
pub(crate) mod writer;

/// A boxed future, as [`Sender::send`] returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A backend: delivers encoded batches.
///
/// Implementations are small (see [`DiscardSender`](crate::transmission::DiscardSender)); the core owns queueing,
/// batching, concurrency, stats and responses.
pub trait Sender: Send + Sync + 'static {
    /// A short name for logs and `Debug` output.
    fn name(&self) -> &'static str;

    /// The encoding the batches handed to [`Sender::send`] use.
    fn format(&self) -> WireFormat {
        WireFormat::Ndjson
    }

    /// Where the batches go, for warnings: `scheme://host:port/path`, never
    /// a key, credentials or a query string. `None` (the default) for a
    /// sender with no such place; warnings then name the sender.
    fn destination(&self) -> Option<String> {
        None
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

/// What a sender reports to the core while it works (implemented by the
/// core's counters).
pub(crate) trait Report: Send + Sync {
    /// One retry of a batch.
    fn retry(&self);
}

/// Handed to [`Sender::send`]: lets a sender report retries.
#[derive(Clone)]
pub struct SendContext {
    report: Arc<dyn Report>,
}

impl fmt::Debug for SendContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendContext")
    }
}

impl SendContext {
    /// Records one retry of a batch.
    pub fn record_retry(&self) {
        self.report.retry();
    }

    /// A context that reports to `report`.
    pub(crate) fn new(report: Arc<dyn Report>) -> Self {
        SendContext { report }
    }
}
