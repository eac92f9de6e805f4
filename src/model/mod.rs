//! Layer 1, the event model: what an event is, as data.
//!
//! [`fields`] (an event's own fields, [`packed_fields`] while they are
//! packed as added), [`event::Event`] (fields, typed
//! struct, layers, metadata, timestamp, sample rate), [`typed::TypedEvent`]
//! (the contract generated types implement, with its writer
//! [`typed::EventWriter`]), and [`response`] (what happened to an event).
//! May use: `json`, `error`, serde and serde_json. Nothing here knows about
//! clients, queues or backends.

pub(crate) mod erased;
pub(crate) mod event;
pub(crate) mod fields;
pub(crate) mod packed_fields;
pub(crate) mod response;
pub(crate) mod typed;
