//! The contract between generated event types and the runtime.
//!
//! Every struct that `insights-events-codegen` generates from a schema implements
//! [`TypedEvent`]. The trait carries the event type and schema `$id`, and the few
//! hooks the runtime needs to treat a typed struct like any other [`Event`]
//! without first turning it into a map (sampling key, params filters, checks).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Client, Event, SendError};

/// Mutable access to one free-form JSON field of a typed event (`params`,
/// `kwargs`, `args`, an untyped field, or an entry of the `extra` map).
///
/// The runtime's params filters use it to scrub secrets in place.
#[derive(Debug)]
pub enum JsonFieldMut<'a> {
    /// A field typed as a JSON object (`serde_json::Map`).
    Object(&'a mut Map<String, Value>),
    /// A field typed as a JSON array (`Vec<Value>`).
    Array(&'a mut Vec<Value>),
    /// A field that may hold any JSON value.
    Value(&'a mut Value),
}

/// A strongly typed event generated from a JSON Schema.
///
/// Implemented by the code generator; users normally only call the inherent
/// `send()` / `send_with()` / `into_event()` methods that each generated type
/// also has.
pub trait TypedEvent:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// The value of the `event_type` key, e.g. `"db.query"`.
    const EVENT_TYPE: &'static str;
    /// The schema's `$id` (empty when the schema has none).
    const SCHEMA_ID: &'static str;

    /// Whether the serialized event has the top-level key `key`
    /// (`event_type`, a required field, an optional field that is `Some`,
    /// or a key of the `extra` map).
    fn has_key(&self, key: &str) -> bool;

    /// The `request_id` of the event, if it has a string one: the key that
    /// Honeybadger's sampling decision hashes.
    fn request_id_str(&self) -> Option<&str>;

    /// The name of the first number field holding a non-finite value
    /// (NaN or ±infinity), which JSON cannot carry.
    fn non_finite_field(&self) -> Option<&'static str>;

    /// Calls `f` with each free-form JSON field (and each `extra` entry), so
    /// filters can rewrite them in place.
    fn visit_json_fields_mut(&mut self, f: &mut dyn FnMut(&str, JsonFieldMut<'_>));

    /// Writes the event's JSON for the background worker (see
    /// `transmission::packed`). Generated types write their keys as
    /// literals; the default goes through `Serialize`. Not part of the API.
    #[doc(hidden)]
    fn pack(&self, p: &mut crate::__private::Packer<'_>) -> Result<(), serde_json::Error> {
        p.value(self)
    }

    /// Converts the typed event into the generic [`Event`]. The typed struct is
    /// kept as it is and serialized on the background worker.
    fn into_event(self) -> Event {
        Event::from_typed(self)
    }

    /// Sends the event through the global client installed by [`crate::init`].
    ///
    /// Never blocks (unless the client was configured with `block_on_send`)
    /// and never panics; without a global client it returns
    /// [`SendError::NoGlobalClient`].
    fn send(self) -> Result<(), SendError> {
        crate::client::global_send_typed(self)
    }

    /// Sends the event through `client`.
    fn send_with(self, client: &Client) -> Result<(), SendError> {
        client.send_typed(self)
    }
}

/// Static description of one generated event type (for `schemas list`,
/// validation reports and documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaInfo {
    /// The folder under `schemas/` the type came from (`"python"`).
    pub namespace: &'static str,
    /// The event type, e.g. `"db.query"`.
    pub event_type: &'static str,
    /// The Rust type name, e.g. `"DbQuery"`.
    pub type_name: &'static str,
    /// The schema's `$id` (may be empty).
    pub schema_id: &'static str,
    /// The schema's `title` (may be empty).
    pub title: &'static str,
    /// The schema's `description` (may be empty).
    pub description: &'static str,
    /// The top-level fields, in schema order.
    pub fields: &'static [FieldInfo],
}

/// Static description of one top-level field of a generated event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The JSON key.
    pub name: &'static str,
    /// The JSON Schema type as written (`"string"`, `"[\"string\",\"null\"]"`, `"any"`).
    pub json_type: &'static str,
    /// The Rust type of the struct field.
    pub rust_type: &'static str,
    /// Whether the schema lists the field as required.
    pub required: bool,
    /// The field's description.
    pub description: &'static str,
}
