//! Batches handed to the sender and not finished yet, and what `flush` and
//! `close` report about them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

use super::loss::Lost;

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

/// What [`crate::Client::flush`] and [`crate::Client::close`] report: did
/// everything enqueued before the call reach a final outcome in time
/// (`completed`, `pending`), and which events were given up on since the
/// previous flush or close of the client (`lost`). Only
/// [`FlushOutcome::all_delivered`] means nothing was lost; a completed
/// flush may still have lost events (a backend that refused them, one that
/// could not be reached).
///
/// Its `Display` says it in one line, for a shutdown log:
///
/// ```
/// # use std::time::Duration;
/// # use insights_events::{Backend, Client, Config, transmission::DiscardSender};
/// let client = Client::new(Config::new().backend(Backend::Custom(std::sync::Arc::new(DiscardSender)))).unwrap();
/// let outcome = client.close(Duration::from_secs(5));
/// if !outcome.all_delivered() {
///     eprintln!("insights-events: {outcome}"); // "27 events lost (retries_exhausted 27); 0 pending"
/// }
/// assert_eq!(outcome.to_string(), "all delivered");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushOutcome {
    /// Everything enqueued before the call reached a final outcome
    /// (delivered or failed for good) in time.
    pub completed: bool,
    /// Events still undelivered when the deadline passed (0 when `completed`).
    pub pending: u64,
    /// Events given up on since the previous flush or close of this
    /// client (sampled events and events a hook dropped are not losses).
    /// Each is also in [`Stats`](crate::Stats), and was warned about.
    pub lost: Lost,
}

impl FlushOutcome {
    /// An outcome with nothing lost.
    pub(crate) fn new(completed: bool, pending: u64) -> Self {
        FlushOutcome {
            completed,
            pending,
            lost: Lost::default(),
        }
    }

    /// Whether every event was delivered: the flush completed, and nothing
    /// was lost since the previous flush or close.
    pub fn all_delivered(&self) -> bool {
        self.completed && self.lost.is_empty()
    }
}

/// `all delivered`, or `27 events lost (retries_exhausted 27); 0 pending`
/// (`…; 12 pending at the deadline` when the flush did not complete).
impl std::fmt::Display for FlushOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.all_delivered() {
            return f.write_str("all delivered");
        }
        let n = self.lost.total();
        match n {
            0 => f.write_str("0 events lost")?,
            1 => write!(f, "1 event lost ({})", self.lost)?,
            n => write!(f, "{n} events lost ({})", self.lost)?,
        }
        if self.completed {
            write!(f, "; {} pending", self.pending)
        } else {
            write!(f, "; {} pending at the deadline", self.pending)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::response::DropReason;

    #[test]
    fn an_outcome_says_what_was_lost() {
        let lost = |pairs: &[(DropReason, u64)]| {
            let mut l = Lost::default();
            for &(r, n) in pairs {
                l.add(r, n);
            }
            l
        };
        let rows = [
            (true, 0, lost(&[]), true, "all delivered"),
            (
                true,
                0,
                lost(&[(DropReason::RetriesExhausted, 27)]),
                false,
                "27 events lost (retries_exhausted 27); 0 pending",
            ),
            (
                false,
                12,
                lost(&[]),
                false,
                "0 events lost; 12 pending at the deadline",
            ),
            (
                false,
                3,
                lost(&[(DropReason::Closed, 1)]),
                false,
                "1 event lost (closed 1); 3 pending at the deadline",
            ),
            (
                true,
                0,
                lost(&[(DropReason::Rejected, 2), (DropReason::Unauthorized, 1)]),
                false,
                "3 events lost (rejected 2, unauthorized 1); 0 pending",
            ),
        ];
        for (completed, pending, lost, all, text) in rows {
            let o = FlushOutcome {
                completed,
                pending,
                lost,
            };
            assert_eq!(o.all_delivered(), all, "{text}");
            assert_eq!(o.to_string(), text);
        }
    }
}
