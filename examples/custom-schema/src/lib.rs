//! The event types generated from this crate's own `schemas/` (see
//! `build.rs`), for its binary and its tests.

/// One module per folder under `schemas/`, plus `AnyEvent` and `SCHEMAS`.
pub mod events {
    insights_events::include_events!();
}
