//! Types generated at build time from the schemas under `schemas/`.
//!
//! `build.rs` runs `insights-events-codegen` over `schemas/` and writes one
//! file into `OUT_DIR`; it is included here. One module per folder
//! (`python`, ...), plus [`AnyEvent`] over every type and [`SCHEMAS`].
//!
//! The generated types implement `model`'s `TypedEvent` contract; their
//! `send()` methods are generated into a second file, included by
//! `client::typed`.

include!(concat!(env!("OUT_DIR"), "/insights_events_generated.rs"));
