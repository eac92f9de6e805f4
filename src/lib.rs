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
//!   ([`DbQuery`], [`FlaskRequest`], ... and [`AnyEvent`]; see
//!   [Event types](#event-types)).
//! * Hand-built events use [`Event`], [`Builder`] and dynamic fields, as in
//!   libhoney; typed and hand-built events take the same path: event
//!   [`context`], `before_event` hooks, params filters, [`sampling`], then
//!   the bounded queue of the [`transmission`] core.
//! * `send()` never blocks (unless you choose `block_on_send`) and never
//!   panics; drops are counted in [`Stats`] and reported on
//!   [`Client::responses`].
//!
//! # Event types
//!
//! Generated at build time from the crate's `schemas/` folder (one module
//! per folder, in [`generated`]; the Python ones also at the crate root):
//!
//! | type | event type | schema file |
//! |---|---|---|
//! | [`AsgiRequest`] | `asgi.request` | `schemas/python/asgi.request.schema.json` |
//! | [`CeleryTaskFinished`] | `celery.task_finished` | `schemas/python/celery.task_finished.schema.json` |
//! | [`DbQuery`] | `db.query` | `schemas/python/db.query.schema.json` |
//! | [`DjangoRequest`] | `django.request` | `schemas/python/django.request.schema.json` |
//! | [`FlaskRequest`] | `flask.request` | `schemas/python/flask.request.schema.json` |
//! | [`generated::rust::TowerRequest`] | `tower.request` | `schemas/rust/tower.request.schema.json` |
//!
//! [`AnyEvent`] parses any of them, dispatching on `event_type`, and
//! [`SCHEMAS`] describes each (fields, types, examples).
//!
//! # Your own schemas
//!
//! The generator is a crate of its own,
//! [`insights-events-codegen`](https://docs.rs/insights-events-codegen):
//! add it under `[build-dependencies]`, put your schemas in folders under
//! `schemas/` (`schemas/orders/order.placed.schema.json` becomes
//! `events::orders::OrderPlaced`), and call it from `build.rs`:
//!
//! ```ignore
//! // build.rs
//! fn main() -> Result<(), insights_events_codegen::Error> {
//!     insights_events_codegen::compile("schemas")
//! }
//! ```
//!
//! Then include the generated types with [`include_events!`]:
//!
//! ```ignore
//! pub mod events {
//!     insights_events::include_events!();
//! }
//! ```
//!
//! The generated code reaches serde through this crate: a crate with
//! schemas of its own depends only on `insights-events` and
//! `insights-events-codegen`. `examples/custom-schema` in the repository is
//! a complete one.
//!
//! # Layers
//!
//! The modules form layers; each may use only the layers below it (a test,
//! `tests/layers.rs`, enforces this, and that no two modules import each
//! other):
//!
//! | layer | modules | holds |
//! |---|---|---|
//! | 0 | `json`, `error` | the JSON writer and escaper; error types |
//! | 1 | `model` | fields, [`Event`] as data, [`TypedEvent`] (the schema contract), [`Response`] |
//! | 2 | `encode` | the packed-record format, the Honeybadger and Honeycomb batch encoders |
//! | 3 | `schema` | the generated types, [`check`] (validation) |
//! | 4 | `pipeline` | [`context`], [`filter`], [`sampling`], `prepare` (checks both paths share) |
//! | 5 | `transport` | [`transmission::Sender`] and the backends, HTTP, compression, the retry policy |
//! | 6 | `core` | the worker, the queue, flush/close, stats; `core::fast`, the fast path |
//! | 7 | `config`, `client`, `integrations` | [`Config`], [`Client`], [`Builder`], the global client; the tower and tracing layers (features `tower`, `tracing`) |
//!
//! Unsafe code is allowed only in `core::fast::raw` and `json::escape`.
#![warn(missing_docs)]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Layer 0.
mod error;
mod json;
mod notice;
// Layer 1.
mod model;
// Layer 2.
mod encode;
// Layer 3.
mod schema;
// Layer 4.
mod pipeline;
// Layer 5.
mod transport;
// Layer 6.
mod core;
// Layer 7.
mod client;
mod config;
#[cfg(any(feature = "tower", feature = "tracing"))]
pub mod integrations;

/// Entry points for the loom model checks of the spool (built only with
/// `--cfg loom`; see RELIABILITY.md, "Model checking and valgrind").
#[cfg(loom)]
#[doc(hidden)]
pub use crate::core::fast::loom_entry as __loom;
pub use crate::pipeline::{context, filter, sampling};
pub use crate::schema::{check, generated, loaded, placing};

pub use crate::client::{flush, global, init, shutdown, Builder, Client, InitGuard, TypedSend};
pub use crate::config::{
    Backend, Config, DynamicField, DEFAULT_ENDPOINT, DEFAULT_HONEYCOMB_API_HOST, MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
};
pub use crate::core::{FlushOutcome, Lost, Stats};
pub use crate::error::{ConfigError, SendError};
pub use crate::model::erased::JsonFieldMut;
pub use crate::model::event::Event;
pub use crate::model::fields::Fields;
pub use crate::model::response::{DropReason, Response};
pub use crate::model::typed::{EventWriter, FieldInfo, SchemaInfo, TypedEvent};
pub use crate::pipeline::prepare::BeforeEvent;
pub use crate::schema::generated::python::*;
pub use crate::schema::generated::{python, AnyEvent, SCHEMAS};
pub use crate::transport::compress::Compression;
pub use crate::transport::secret::Secret;

/// The transmission core's public parts: the [`Sender`](transmission::Sender)
/// trait that backends implement, the backends this crate ships, the encoded
/// [`Batch`](transmission::Batch) they receive, and what the core reports.
pub mod transmission {
    pub use crate::core::{FlushOutcome, Lost, Stats};
    pub use crate::encode::batch::{
        encode_event, encode_into, format_timestamp, write_timestamp, Batch, WireFormat,
    };
    pub use crate::model::response::{DropReason, Response};
    pub use crate::transport::discard::DiscardSender;
    pub use crate::transport::honeybadger::HoneybadgerSender;
    pub use crate::transport::honeycomb::HoneycombSender;
    pub use crate::transport::memory::{MemorySender, RecordedEvent};
    pub use crate::transport::writer::WriterSender;
    pub use crate::transport::{BoxFuture, Outcome, SendContext, Sender};
}

/// The README's examples, compiled and run as doc tests (with every
/// feature on: they use the integrations).
#[cfg(all(doctest, feature = "tower", feature = "axum", feature = "tracing"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Includes the event types that `insights-events-codegen` generated into
/// `OUT_DIR` from a build script: `include_events!()` for the default file
/// (`insights_events_generated.rs`), `include_events!("name.rs")` for the
/// name given to `Config::out_file_name`. Put it in the module that should
/// hold the types; each schema folder becomes a module inside it.
///
/// ```ignore
/// // build.rs
/// fn main() -> Result<(), insights_events_codegen::Error> {
///     insights_events_codegen::compile("schemas")
/// }
///
/// // src/lib.rs
/// pub mod events {
///     insights_events::include_events!();
/// }
/// ```
///
/// As `tonic::include_proto!` does for protobuf. The crate's own schema
/// types are already included, as [`generated`].
#[macro_export]
macro_rules! include_events {
    () => {
        include!(concat!(env!("OUT_DIR"), "/insights_events_generated.rs"));
    };
    ($file:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $file));
    };
}

/// Used by generated code (and by the benchmark harnesses in `bench/`:
/// `send_cost` and `twins` time the clock a typed send reads, `twins` and
/// `throughput` the body compressor); not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::typed::{send_typed, send_typed_with};
    pub use crate::core::fast::clock::since_epoch;
    pub use crate::encode::packed::{segment, Packer, SEGMENT_HEADER};
    pub use crate::schema::rules::{check_bounds, const_eq, consts_match, field_value};
    pub use crate::transport::compress::compress;
    pub use serde;
    pub use serde_json;
}
