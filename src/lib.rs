//! Typed, schema-checked events for Honeybadger Insights and Honeycomb, and
//! a transmission core that ships them without hurting the host program.
//!
//! ```
//! use insights_events::{init, Config, DbQuery};
//!
//! // No HONEYBADGER_API_KEY: events are printed as NDJSON on stdout.
//! let _guard = init(Config::from_env()?)?;
//!
//! DbQuery::new("SELECT * FROM users WHERE id = %s", 2.48)
//!     .params(serde_json::json!([123]))
//!     .request_id("1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a")
//!     .send()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * Every schema under `schemas/` becomes a type at build time
//!   ([`DbQuery`], [`FlaskRequest`], ... and [`AnyEvent`]).
//! * Hand-built events use [`Event`], [`Builder`] and dynamic fields, as in
//!   libhoney; typed and hand-built events take the same path: event
//!   [`context`], `before_event` hooks, params filters, [`sampling`], then
//!   the bounded queue of the [`transmission`] core.
//! * `send()` never blocks (unless you choose `block_on_send`) and never
//!   panics; drops are counted in [`Stats`] and reported on
//!   [`Client::responses`].
#![warn(missing_docs)]

mod blocks;
mod builder;
pub mod check;
mod client;
mod clock;
mod config;
pub mod context;
mod error;
mod event;
pub mod filter;
pub mod generated;
mod json;
mod own;
mod padded;
pub mod sampling;
pub mod transmission;
mod typed;

pub use builder::Builder;
pub use client::{flush, global, init, shutdown, Client, InitGuard};
pub use config::{
    Backend, BeforeEvent, Compression, Config, ConfigError, DynamicField, Secret, DEFAULT_ENDPOINT,
    DEFAULT_HONEYCOMB_API_HOST, MAX_BATCH_BYTES, MAX_EVENT_BYTES,
};
pub use error::SendError;
pub use event::{Event, Fields};
pub use generated::python::*;
pub use generated::{python, AnyEvent, SCHEMAS};
pub use transmission::{DropReason, FlushOutcome, Response, Stats};
pub use typed::{FieldInfo, JsonFieldMut, SchemaInfo, TypedEvent};

/// Used by generated code (and `examples/send_cost.rs`, which times the clock
/// a typed send reads); not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::clock::since_epoch;
    pub use crate::transmission::packed::{segment, Packer, SEGMENT_HEADER};
}
