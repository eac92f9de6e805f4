//! The contract between generated event types and the runtime.
//!
//! Every struct that `insights-events-codegen` generates from a schema implements
//! [`TypedEvent`]. The trait carries the event type and schema `$id`, and the few
//! hooks the runtime needs to treat a typed struct like any other [`Event`]
//! without first turning it into a map (sampling key, params filters, checks),
//! and one encode method, [`TypedEvent::pack`], that writes through an
//! [`EventWriter`] (implemented by the packed-record writer in `encode`).
//!
//! Sending is not part of this contract: the `send()` and `send_with()`
//! methods of generated types come from `client`.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::erased::{ErasedTyped, JsonFieldMut};
use super::event::Event;
use super::fields::Fields;

/// What a typed event's [`TypedEvent::pack`] writes through: literal JSON
/// fragments built at compile time, and the values between them.
///
/// Implemented by the packed-record writer (`encode::packed::Packer`,
/// reached from generated code as `__private::Packer`); generated code
/// calls these methods in the order of the event's JSON.
pub trait EventWriter {
    /// A literal fragment (keys and punctuation), as built at compile time
    /// by `__private::segment`.
    fn seg(&mut self, segment: &'static [u8]);
    /// A string value (escaped by the writer).
    fn str(&mut self, s: &str) -> Result<(), serde_json::Error>;
    /// A number value.
    fn f64(&mut self, v: f64);
    /// Any other value, through `Serialize`.
    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), serde_json::Error>;
    /// An object key known only at run time (an `extra` entry).
    fn key(&mut self, key: &str) -> Result<(), serde_json::Error>;
}

/// A strongly typed event generated from a JSON Schema.
///
/// Implemented by the code generator; users normally only call the inherent
/// `send()` / `send_with()` / `into_event()` methods that each generated type
/// also has (`send` and `send_with` come from the client layer).
pub trait TypedEvent:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// The value of the `event_type` key, e.g. `"db.query"`.
    const EVENT_TYPE: &'static str;
    /// The schema's `$id` (empty when the schema has none).
    const SCHEMA_ID: &'static str;

    /// This event's `event_type`: [`TypedEvent::EVENT_TYPE`], unless the
    /// schema leaves the value to the sender.
    fn event_type_str(&self) -> &str {
        Self::EVENT_TYPE
    }

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

    /// Writes the event's JSON for the background worker through `w`.
    /// Generated types write their keys as literal segments; the default
    /// goes through `Serialize`. Not part of the API.
    #[doc(hidden)]
    fn pack<W: EventWriter>(&self, w: &mut W) -> Result<(), serde_json::Error> {
        w.value(self)
    }

    /// Converts the typed event into the generic [`Event`]. The typed struct is
    /// kept as it is and serialized on the background worker.
    fn into_event(self) -> Event {
        Event::from_typed(self)
    }
}

impl Event {
    /// An event carrying a typed struct. The struct is serialized on the
    /// background worker, not here.
    pub fn from_typed<T: TypedEvent>(typed: T) -> Self {
        Event::from_erased(Box::new(typed))
    }
}

impl<T: TypedEvent> ErasedTyped for T {
    fn event_type(&self) -> &str {
        self.event_type_str()
    }
    fn write_json(&self, buf: &mut Vec<u8>) -> serde_json::Result<()> {
        crate::json::compact::write(buf, self)
    }
    fn to_fields(&self) -> Fields {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Fields::new(),
        }
    }
    fn has_key(&self, key: &str) -> bool {
        TypedEvent::has_key(self, key)
    }
    fn request_id(&self) -> Option<&str> {
        self.request_id_str()
    }
    fn non_finite_field(&self) -> Option<&'static str> {
        TypedEvent::non_finite_field(self)
    }
    fn visit_json_fields_mut(&mut self, f: &mut dyn FnMut(&str, JsonFieldMut<'_>)) {
        TypedEvent::visit_json_fields_mut(self, f)
    }
    fn clone_box(&self) -> Box<dyn ErasedTyped> {
        Box::new(self.clone())
    }
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Static description of one generated event type (for `schemas list`,
/// validation reports and documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaInfo {
    /// The folder under `schemas/` the type came from (`"python"`).
    pub namespace: &'static str,
    /// The schema's name: its folder and file name without `.schema.json`
    /// (`"python/db.query"`). `AnyEvent::from_value_as` and
    /// `check::check_line_as` take it.
    pub name: &'static str,
    /// The event type, e.g. `"db.query"` (for a schema whose event type is
    /// free, the default value).
    pub event_type: &'static str,
    /// The schema leaves `event_type` to the sender (no `const`): events are
    /// matched to it by [`SchemaInfo::name`], or by the default value.
    pub free_event_type: bool,
    /// The Rust type name, e.g. `"DbQuery"`.
    pub type_name: &'static str,
    /// The schema's `$id` (may be empty).
    pub schema_id: &'static str,
    /// The schema's `title` (may be empty).
    pub title: &'static str,
    /// The schema's `description` (may be empty).
    pub description: &'static str,
    /// The top-level fields, in schema order (without `event_type` and the
    /// `const` ones).
    pub fields: &'static [FieldInfo],
    /// The top-level `const` properties besides `event_type`, each as its
    /// key and value in compact JSON (`("proc_id", "\"router\"")`): written
    /// with every event, and what tells apart schemas that share an
    /// `event_type`.
    pub consts: &'static [(&'static str, &'static str)],
    /// Example events as JSON: the schema's own `examples`, or one built from
    /// the first example of each field (empty when a required field has
    /// none).
    pub examples: &'static [&'static str],
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
