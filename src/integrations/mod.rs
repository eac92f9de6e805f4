//! Layer 7, beside `client`: the doors into the Rust ecosystem, each an
//! optional cargo feature, off by default.
//!
//! * [`tower`] (feature `tower`): a `tower::Layer` for HTTP services
//!   (axum, hyper, tonic) that sends one `tower.request` event per request
//!   and opens the event context for it.
//! * [`tracing`] (feature `tracing`): a `tracing_subscriber::Layer` that
//!   turns tracing events with an `event_type` field, chosen spans, and
//!   sqlx's query log into events.
//!
//! May use every layer below `client`; never `client` (a client's own
//! integration is made by `Client::tower_layer` and
//! `Client::tracing_layer`, in `client`).

#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tracing")]
pub mod tracing;
