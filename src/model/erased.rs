//! The object-safe view of a typed struct that an [`Event`](super::event::Event)
//! carries, and the access filters get to its free-form JSON fields.
//!
//! The blanket implementation for every
//! [`TypedEvent`](super::typed::TypedEvent) is in `model::typed`.

use std::fmt;

use serde_json::{Map, Value};

use super::fields::Fields;

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

/// Object-safe view of a [`TypedEvent`](super::typed::TypedEvent), so an
/// [`Event`](super::event::Event) can carry any typed struct without knowing
/// its type.
pub(crate) trait ErasedTyped: Send + Sync {
    fn event_type(&self) -> &str;
    fn write_json(&self, buf: &mut Vec<u8>) -> serde_json::Result<()>;
    fn to_fields(&self) -> Fields;
    fn has_key(&self, key: &str) -> bool;
    fn request_id(&self) -> Option<&str>;
    fn non_finite_field(&self) -> Option<&'static str>;
    fn visit_json_fields_mut(&mut self, f: &mut dyn FnMut(&str, JsonFieldMut<'_>));
    fn clone_box(&self) -> Box<dyn ErasedTyped>;
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}
