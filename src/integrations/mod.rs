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
//! May use every layer below `client`; imports nothing of `client`: the
//! layers send through the `Destination` of the client that made them
//! (`Client::tower_layer`, `Client::tracing_layer`, defined in `client`) or
//! through `Event::send()`, the method the client layer gives `Event`.

#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tracing")]
pub mod tracing;
