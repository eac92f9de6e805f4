//! What happened to an event: why it was dropped ([`DropReason`]), and the
//! [`Response`] the responses stream carries for it.

use std::time::Duration;

use serde_json::Value;

/// Why an event was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The queue was full.
    Overflow,
    /// The sampling decision dropped it (not an error; no response is sent).
    Sampled,
    /// A `before_event` hook dropped it.
    Hook,
    /// Its JSON is larger than the per-event limit (102,400 bytes), or the
    /// backend answered 413 for it alone.
    TooLarge,
    /// It cannot be encoded (a non-finite number, a non-object `add`, ...).
    Invalid,
    /// The backend refused it (a 4xx other than 401/403/413/429).
    Rejected,
    /// The backend answered 401/403: the key is wrong; sending pauses.
    Unauthorized,
    /// Transient failures outlasted the retry budget.
    RetriesExhausted,
    /// The client was closed before it could be delivered.
    Closed,
    /// Sent from one of the crate's own threads (a `before_event` hook, a
    /// `Sender`, something they call) while the queue was full. Such a send
    /// never waits, even with `block_on_send`: only those threads make room.
    Reentrant,
}

impl DropReason {
    /// All reasons, in a stable order.
    pub const ALL: [DropReason; 10] = [
        DropReason::Overflow,
        DropReason::Sampled,
        DropReason::Hook,
        DropReason::TooLarge,
        DropReason::Invalid,
        DropReason::Rejected,
        DropReason::Unauthorized,
        DropReason::RetriesExhausted,
        DropReason::Closed,
        DropReason::Reentrant,
    ];

    /// A short snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Overflow => "overflow",
            DropReason::Sampled => "sampled",
            DropReason::Hook => "hook",
            DropReason::TooLarge => "too_large",
            DropReason::Invalid => "invalid",
            DropReason::Rejected => "rejected",
            DropReason::Unauthorized => "unauthorized",
            DropReason::RetriesExhausted => "retries_exhausted",
            DropReason::Closed => "closed",
            DropReason::Reentrant => "reentrant",
        }
    }

    pub(crate) fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
