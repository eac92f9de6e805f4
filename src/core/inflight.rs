//! Batches handed to the sender and not finished yet, and what `flush` and
//! `close` report about them.
//!
//! Part of `core` (layer 6); uses serde_json only.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

/// Per event of a batch: its metadata and timestamp (for the response).
pub(crate) type EventMeta = (Option<Value>, SystemTime);

/// Batches handed to the sender and not finished yet, by id.
#[derive(Default)]
pub(crate) struct InFlight {
    pub(crate) batches: BTreeMap<u64, Vec<EventMeta>>,
    /// Batches answered whose outcomes are being counted (out of `batches`,
    /// not in the stats yet), by id, with their number of events: `flush`
    /// and `close` wait for them too, so the stats are final when they
    /// return.
    pub(crate) completing: BTreeMap<u64, u64>,
}

impl InFlight {
    /// Events of the batches up to `last` that have no outcome counted yet.
    pub(crate) fn events_upto(&self, last: u64) -> u64 {
        let answered: u64 = self.completing.range(..=last).map(|(_, &n)| n).sum();
        answered
            + self
                .batches
                .range(..=last)
                .map(|(_, m)| m.len() as u64)
                .sum::<u64>()
    }

    /// Whether no batch is in flight or being counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.batches.is_empty() && self.completing.is_empty()
    }
}

/// `timeout` from now; a timeout too large for the clock means a deadline
/// as far away as it can be (`Duration::MAX` is "wait as long as it takes").
pub(crate) fn deadline_after(timeout: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
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
