//! Error types.

/// Why an event was not handed to the transmission core.
///
/// `send()` never blocks (unless `block_on_send`) and never panics; it
/// returns one of these instead. Every case is also counted in
/// [`crate::Stats`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// `send()` was called without a client, and no global client was
    /// installed with [`crate::init`].
    #[error(
        "no global client: call insights_events::init(config) first, or use send_with(&client)"
    )]
    NoGlobalClient,
    /// The queue was full; the event was dropped (counted as overflow).
    #[error("queue full: event dropped")]
    QueueFull,
    /// The client was closed.
    #[error("client closed: event dropped")]
    Closed,
}
