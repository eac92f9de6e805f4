//! Warnings a person must see: a setup mistake, events given up. Each goes
//! through `tracing` under the target `insights_events` (which the crate's
//! own tracing layer never turns into an event), and to standard error
//! when no subscriber would show it (none is installed for this thread, or
//! its filter leaves the crate's warnings out), as the stdout-fallback
//! notice does. A subscriber that takes them but prints nothing (a
//! registry with only this crate's tracing layer) shows nothing: the
//! README's setups keep a `fmt` layer for that reason. A warning shown once keeps its flag in a [`Once`].
//!
//! ```ignore
//! static NO_GLOBAL: Once = Once::new();
//! if NO_GLOBAL.first() {
//!     warn("insights-events: ...");
//! }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};

/// The `tracing` target of every warning the crate gives.
pub(crate) const TARGET: &str = "insights_events";

/// Shows `message` to a person: through `tracing` (target
/// [`TARGET`], level `WARN`) where a subscriber takes it, else on standard
/// error.
pub(crate) fn warn(message: &str) {
    if tracing::enabled!(target: TARGET, tracing::Level::WARN) {
        tracing::warn!(target: TARGET, "{message}");
    } else {
        eprintln!("{message}");
    }
}

/// A flag for a warning shown once.
#[derive(Debug, Default)]
pub(crate) struct Once(AtomicBool);

impl Once {
    /// A flag not raised yet.
    pub(crate) const fn new() -> Self {
        Once(AtomicBool::new(false))
    }

    /// `true` the first time only.
    pub(crate) fn first(&self) -> bool {
        !self.0.swap(true, Ordering::Relaxed)
    }

    /// Whether [`Once::first`] was called.
    pub(crate) fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_first_once() {
        let once = Once::new();
        assert!(once.first());
        assert!(!once.first());
        assert!(!once.first());
    }
}
