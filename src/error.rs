//! Error types: why an event was not taken, and why a configuration
//! cannot be used.
//!
//! Layer 0: imports nothing else of the crate.

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

/// An invalid configuration.
///
/// Its `Debug` is its message, so that `fn main() -> Result<(), Box<dyn
/// Error>>` and `.unwrap()` show what to change, not a struct.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable holds a value that cannot be used.
    #[error("invalid {var}={value:?}: {reason}")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// The value found (never shown for secrets).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
