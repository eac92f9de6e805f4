//! Counters: what happened to every event.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::response::DropReason;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    /// Events the worker took off the queue (one writer: no contention).
    Received,
    /// Events refused before the queue because the client was closed.
    ClosedUnqueued,
    Sent,
    Retried,
    HookPanics,
}

/// The counters. The caller's hot path touches none of them: `attempted`
/// and `enqueued` are derived from what the worker received, the queue's
/// length, and the drops before the queue.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    received: AtomicU64,
    closed_unqueued: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    hook_panics: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
}

impl Counters {
    fn counter(&self, c: Counter) -> &AtomicU64 {
        match c {
            Counter::Received => &self.received,
            Counter::ClosedUnqueued => &self.closed_unqueued,
            Counter::Sent => &self.sent,
            Counter::Retried => &self.retried,
            Counter::HookPanics => &self.hook_panics,
        }
    }

    pub(crate) fn add(&self, c: Counter, n: u64) {
        self.counter(c).fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self, c: Counter) -> u64 {
        self.counter(c).load(Ordering::Relaxed)
    }

    pub(crate) fn drop_event(&self, reason: DropReason, n: u64) {
        self.dropped[reason.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// Events dropped for `reason` so far.
    pub(crate) fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self, queue_len: usize) -> Stats {
        let d = |r: DropReason| self.dropped[r.index()].load(Ordering::Relaxed);
        let enqueued = self.get(Counter::Received) + queue_len as u64;
        Stats {
            attempted: enqueued
                + d(DropReason::Overflow)
                + d(DropReason::Sampled)
                + d(DropReason::Reentrant)
                + self.get(Counter::ClosedUnqueued),
            enqueued,
            sent: self.get(Counter::Sent),
            retried: self.get(Counter::Retried),
            hook_panics: self.get(Counter::HookPanics),
            dropped_overflow: d(DropReason::Overflow),
            dropped_sampled: d(DropReason::Sampled),
            dropped_hook: d(DropReason::Hook),
            dropped_too_large: d(DropReason::TooLarge),
            dropped_invalid: d(DropReason::Invalid),
            failed_rejected: d(DropReason::Rejected),
            failed_unauthorized: d(DropReason::Unauthorized),
            failed_retries_exhausted: d(DropReason::RetriesExhausted),
            dropped_closed: d(DropReason::Closed),
            dropped_reentrant: d(DropReason::Reentrant),
            queue_len: queue_len as u64,
        }
    }
}

/// A snapshot of the client's counters.
///
/// Every `send()` is counted in `attempted`, and ends in exactly one of
/// `sent`, a `dropped_*` or a `failed_*` counter, or is still pending:
/// `attempted == sent + dropped() + failed() + pending()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Calls to `send()`.
    pub attempted: u64,
    /// Events accepted into the queue.
    pub enqueued: u64,
    /// Events the backend accepted.
    pub sent: u64,
    /// Batch retries (5xx, timeouts, connection errors, 429).
    pub retried: u64,
    /// `before_event` hooks that panicked (the events went on).
    pub hook_panics: u64,
    /// Dropped because the queue was full.
    pub dropped_overflow: u64,
    /// Dropped by sampling.
    pub dropped_sampled: u64,
    /// Dropped by a hook.
    pub dropped_hook: u64,
    /// Rejected for size.
    pub dropped_too_large: u64,
    /// Rejected as invalid.
    pub dropped_invalid: u64,
    /// Refused by the backend (4xx).
    pub failed_rejected: u64,
    /// Refused for a bad key (401/403).
    pub failed_unauthorized: u64,
    /// Given up after the retry budget.
    pub failed_retries_exhausted: u64,
    /// Not delivered before the client closed.
    pub dropped_closed: u64,
    /// Sent from one of the crate's own threads (a hook, a `Sender`) while
    /// the queue was full: dropped rather than waited for.
    pub dropped_reentrant: u64,
    /// Events in the queue when the snapshot was taken.
    pub queue_len: u64,
}

impl Stats {
    /// Events dropped before a send attempt (overflow, sampling, hook, size, invalid, closed).
    pub fn dropped(&self) -> u64 {
        self.dropped_overflow
            + self.dropped_sampled
            + self.dropped_hook
            + self.dropped_too_large
            + self.dropped_invalid
            + self.dropped_closed
            + self.dropped_reentrant
    }

    /// Events the backend did not take after a send attempt.
    pub fn failed(&self) -> u64 {
        self.failed_rejected + self.failed_unauthorized + self.failed_retries_exhausted
    }

    /// Events still on their way.
    pub fn pending(&self) -> u64 {
        self.attempted
            .saturating_sub(self.sent + self.dropped() + self.failed())
    }

    /// The count for one reason.
    pub fn by_reason(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Overflow => self.dropped_overflow,
            DropReason::Sampled => self.dropped_sampled,
            DropReason::Hook => self.dropped_hook,
            DropReason::TooLarge => self.dropped_too_large,
            DropReason::Invalid => self.dropped_invalid,
            DropReason::Rejected => self.failed_rejected,
            DropReason::Unauthorized => self.failed_unauthorized,
            DropReason::RetriesExhausted => self.failed_retries_exhausted,
            DropReason::Closed => self.dropped_closed,
            DropReason::Reentrant => self.dropped_reentrant,
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attempted {}, sent {}, retried {}, failed {}",
            self.attempted,
            self.sent,
            self.retried,
            self.failed()
        )?;
        for r in DropReason::ALL {
            let n = self.by_reason(r);
            if n > 0 {
                write!(f, ", {r} {n}")?;
            }
        }
        Ok(())
    }
}
