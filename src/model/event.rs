//! The generic event: fields, a timestamp, metadata and a sample rate.
//!
//! An [`Event`] is data. It carries no client; an event made by a client or
//! builder carries a [`Destination`] (which `client` implements) and is sent by
//! the `send()` methods `client` adds.
//!
//! An [`Event`] is what every send goes through. It holds either hand-added
//! fields (libhoney style), a typed struct generated from a schema, or both;
//! a typed struct is kept as it is and only serialized on the background
//! worker, so converting one is cheap on the caller's thread.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crossbeam_utils::CachePadded;
use serde::Serialize;
use serde_json::Value;

use super::erased::ErasedTyped;
use super::fields::{FieldList, FieldRef, Fields, Key, SharedFields};
use super::packed_fields::PackedFields;
use crate::error::SendError;

/// Where an event made by a client or a builder goes when it is sent.
/// Implemented by the client; the model only carries it.
pub(crate) trait Destination: Send + Sync {
    /// Sends `event` (without a sampling decision when `presampled`).
    fn send_event(&self, event: Event, presampled: bool) -> Result<(), SendError>;
}

/// Fields merged under an event's own.
#[derive(Clone)]
pub(crate) enum Layer {
    /// Shared with other events (the event context).
    Shared(SharedFields),
    /// This event's alone (the client's dynamic fields, evaluated at send
    /// time): not padded, as no other event holds it.
    Private(Arc<Fields>),
}

impl std::ops::Deref for Layer {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        match self {
            Layer::Shared(f) => f,
            Layer::Private(f) => f,
        }
    }
}

/// One event on its way to a backend.
///
/// Build one by hand with [`Event::new`] or [`crate::Builder::new_event`], or
/// convert a generated type with `into_event()`. When the same key is added
/// twice, the last value wins; fields added to the event win over the fields
/// of a typed struct it came from, which win over the event context and the
/// client-wide fields.
///
/// ```
/// use insights_events::Event;
///
/// let mut ev = Event::new();
/// ev.add_field("event_type", "cache.miss")
///     .add_field("key", "user:42")
///     .add_field("duration", 1.5);
/// ev.set_metadata("my-correlation-id");
/// assert_eq!(ev.get("key"), Some(serde_json::json!("user:42")));
/// ```
pub struct Event {
    pub(crate) typed: Option<Box<dyn ErasedTyped>>,
    pub(crate) fields: FieldList,
    pub(crate) timestamp: SystemTime,
    pub(crate) sample_rate: Option<u32>,
    /// The client or builder the event was made by (`None`: the global
    /// client).
    pub(crate) destination: Option<Arc<dyn Destination>>,
    /// What most events do not have, behind one pointer so that the event
    /// stays small (it is moved through the queue by value).
    pub(crate) cold: Option<Box<Cold>>,
}

/// The rarely used parts of an [`Event`].
#[derive(Clone, Default)]
pub(crate) struct Cold {
    /// A builder's fields: under the event's own fields (shared by every
    /// event of the builder, not copied).
    pub(crate) builder: Option<SharedFields>,
    /// Fields merged under everything else (client dynamic fields, the event
    /// context captured at send time), lowest layer first.
    pub(crate) under: Vec<Layer>,
    pub(crate) metadata: Option<Value>,
    /// Set when something added to the event could not be represented in
    /// JSON; the event is then rejected on its own with this reason.
    pub(crate) invalid: Option<String>,
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for Event {
    fn clone(&self) -> Self {
        Event {
            typed: self.typed.as_ref().map(|t| t.clone_box()),
            fields: self.fields.clone(),
            timestamp: self.timestamp,
            sample_rate: self.sample_rate,
            destination: self.destination.clone(),
            cold: self.cold.clone(),
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Typed<'a>(&'a dyn ErasedTyped);
        impl fmt::Debug for Typed<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_debug(f)
            }
        }
        struct Own<'a>(&'a Event);
        impl fmt::Debug for Own<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let builder = self.0.builder_layer().into_iter().flatten();
                let builder = builder.filter(|(k, _)| !self.0.fields.contains_key(k));
                f.debug_map()
                    .entries(builder.map(|(k, v)| (k.as_str(), FieldRef::Value(v))))
                    .entries(self.0.fields.iter())
                    .finish()
            }
        }
        f.debug_struct("Event")
            .field("typed", &self.typed.as_deref().map(Typed))
            .field("fields", &Own(self))
            .field("timestamp", &self.timestamp)
            .field("metadata", &self.metadata())
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl Event {
    /// An empty event stamped now. `send()` will use the global client.
    pub fn new() -> Self {
        Event {
            typed: None,
            fields: FieldList::default(),
            timestamp: SystemTime::now(),
            sample_rate: None,
            destination: None,
            cold: None,
        }
    }

    /// An event carrying a typed struct already boxed (see
    /// `Event::from_typed` in `model::typed`).
    pub(crate) fn from_erased(typed: Box<dyn ErasedTyped>) -> Self {
        let mut ev = Event::new();
        ev.typed = Some(typed);
        ev
    }

    /// An event with the given fields.
    pub fn from_map(fields: Fields) -> Self {
        let mut ev = Event::new();
        ev.fields = FieldList::from_map(fields);
        ev
    }

    /// The event, to be sent through `destination` (a client's or a
    /// builder's event).
    pub(crate) fn with_destination(mut self, destination: Arc<dyn Destination>) -> Self {
        self.destination = Some(destination);
        self
    }

    pub(crate) fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// The typed struct the event carries, if any.
    pub(crate) fn typed(&self) -> Option<&dyn ErasedTyped> {
        self.typed.as_deref()
    }

    /// The fields added to the event itself (not the builder's, the typed
    /// struct's or the layers under them).
    pub(crate) fn own_fields(&self) -> &FieldList {
        &self.fields
    }

    /// Takes the typed struct out (the core gives its block back to the
    /// thread that sent it).
    pub(crate) fn take_typed(&mut self) -> Option<Box<dyn ErasedTyped>> {
        self.typed.take()
    }

    /// Takes the destination out (sending consumes it; a clone and its
    /// drop would write the client's shared reference count twice more).
    pub(crate) fn take_destination(&mut self) -> Option<Arc<dyn Destination>> {
        self.destination.take()
    }

    /// The typed struct, to be changed in place (params filters).
    pub(crate) fn typed_mut(&mut self) -> Option<&mut (dyn ErasedTyped + 'static)> {
        self.typed.as_deref_mut()
    }

    /// The event's own fields, to be changed in place (params filters).
    pub(crate) fn own_fields_mut(&mut self) -> &mut FieldList {
        &mut self.fields
    }

    /// The builder's fields this event was created with.
    pub(crate) fn builder_layer(&self) -> Option<&Fields> {
        self.cold.as_ref()?.builder.as_deref().map(|l| &**l)
    }

    /// The layers merged under the event (client dynamic fields, context).
    pub(crate) fn under(&self) -> &[Layer] {
        self.cold.as_ref().map_or(&[], |c| &c.under)
    }

    pub(crate) fn take_metadata(&mut self) -> Option<Value> {
        self.cold.as_mut()?.metadata.take()
    }

    pub(crate) fn take_invalid(&mut self) -> Option<String> {
        self.cold.as_mut()?.invalid.take()
    }

    /// The event's own fields when they are all it has and they are packed
    /// (no typed struct, builder layer, layers under it, metadata or
    /// invalid value): what a send may pack on the sending thread.
    pub(crate) fn packed_only(&self) -> Option<&PackedFields> {
        if self.typed.is_some() || self.cold.is_some() {
            return None;
        }
        self.fields.as_packed()
    }

    /// Whether the event has no field at all (before client-wide fields).
    pub(crate) fn has_no_fields(&self) -> bool {
        self.typed.is_none()
            && self.fields.is_empty()
            && self.builder_layer().is_none_or(|b| b.is_empty())
            && self.under().iter().all(|l| l.is_empty())
    }

    /// Sets one own field; a key the typed struct also has turns the struct
    /// into plain fields first, so the key is written once.
    pub(crate) fn insert(&mut self, key: Key, value: Value) {
        if self.typed.as_ref().is_some_and(|t| t.has_key(key.as_str())) {
            self.materialize();
        }
        self.fields.insert(key, value);
    }

    /// Adds one field. The value is anything `serde` can turn into JSON; a
    /// value JSON cannot hold (a non-finite float, a map with non-string
    /// keys) marks the event invalid, and it is rejected on its own when sent.
    ///
    /// The value is serialized on the spot into the event's own buffer
    /// (see [`Event::get`] to read it back).
    pub fn add_field<V: Serialize>(&mut self, key: impl AsRef<str>, value: V) -> &mut Self {
        let key = key.as_ref();
        if self.typed.as_ref().is_some_and(|t| t.has_key(key)) {
            self.materialize();
        }
        if let Err(reason) = self.fields.add(key, &value) {
            self.mark_invalid(format!("field `{key}`: {reason}"));
        }
        self
    }

    /// Adds every key of `data`, which must serialize to a JSON object (a
    /// struct, a map, a `serde_json::Value::Object`).
    pub fn add<T: Serialize>(&mut self, data: T) -> &mut Self {
        match crate::json::to_value_checked(&data) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    self.insert(Key::Owned(k), v);
                }
            }
            Ok(other) => self.mark_invalid(format!(
                "add() takes a JSON object, got {}",
                crate::json::kind(&other)
            )),
            Err(reason) => self.mark_invalid(reason),
        }
        self
    }

    pub(crate) fn mark_invalid(&mut self, reason: String) {
        let cold = self.cold_mut();
        if cold.invalid.is_none() {
            cold.invalid = Some(reason);
        }
    }

    /// Sets the metadata returned with this event's response. Metadata is
    /// never sent to the backend.
    pub fn set_metadata(&mut self, metadata: impl Into<Value>) -> &mut Self {
        self.cold_mut().metadata = Some(metadata.into());
        self
    }

    /// The metadata set with [`Event::set_metadata`].
    pub fn metadata(&self) -> Option<&Value> {
        self.cold.as_ref()?.metadata.as_ref()
    }

    /// Overrides the event's timestamp (default: when it was created).
    pub fn set_timestamp(&mut self, at: SystemTime) -> &mut Self {
        self.timestamp = at;
        self
    }

    /// The event's timestamp.
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// Overrides the sample rate for this event. For the Honeybadger backend
    /// it is a percentage (0–100, as `_hb.sample_rate`); for Honeycomb it is
    /// libhoney's "one in N".
    pub fn set_sample_rate(&mut self, rate: u32) -> &mut Self {
        self.sample_rate = Some(rate);
        self
    }

    /// The per-event sample rate, if one was set.
    pub fn sample_rate(&self) -> Option<u32> {
        self.sample_rate
    }

    /// An own or builder field (not the typed struct's).
    fn own_or_builder(&self, key: &str) -> Option<FieldRef<'_>> {
        self.fields
            .get(key)
            .or_else(|| self.builder_layer()?.get(key).map(FieldRef::Value))
    }

    /// The event type: the typed struct's, or the `event_type` field.
    pub fn event_type(&self) -> Option<&str> {
        match self.own_or_builder("event_type").and_then(FieldRef::as_str) {
            Some(s) => Some(s),
            None => self.typed.as_ref().map(|t| t.event_type()),
        }
    }

    /// The value of a top-level field, as it would be sent (before the event
    /// context and client-wide fields are merged under it).
    pub fn get(&self, key: &str) -> Option<Value> {
        if let Some(v) = self.own_or_builder(key) {
            return Some(v.to_value());
        }
        let typed = self.typed.as_ref()?;
        if !typed.has_key(key) {
            return None;
        }
        typed.to_fields().remove(key)
    }

    /// Removes a top-level field, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        if self.typed.as_ref().is_some_and(|t| t.has_key(key))
            || self.builder_layer().is_some_and(|b| b.contains_key(key))
        {
            self.materialize();
        }
        self.fields.remove(key)
    }

    /// All fields of the event as a mutable map. A typed struct (and a
    /// builder's fields) are turned into plain fields first (this costs a
    /// conversion; hooks that only read should prefer [`Event::get`]).
    pub fn fields_mut(&mut self) -> &mut Fields {
        self.materialize();
        self.fields.map_mut()
    }

    /// Turns the typed struct and the builder's fields (if any) into own
    /// fields, under the fields that were added on top of them.
    pub(crate) fn materialize(&mut self) {
        let builder = self.cold.as_mut().and_then(|c| c.builder.take());
        if self.typed.is_none() && builder.is_none() {
            return;
        }
        let mut map = match self.typed.take() {
            Some(typed) => typed.to_fields(),
            None => Fields::new(),
        };
        if let Some(b) = builder {
            map.extend(CachePadded::into_inner(Arc::unwrap_or_clone(b)));
        }
        map.extend(self.fields.take_map());
        self.fields = FieldList::Map(Box::new(map));
    }

    /// Whether the event (not counting the context and client fields) has a
    /// top-level `key`.
    pub(crate) fn has_own_key(&self, key: &str) -> bool {
        self.own_or_builder(key).is_some() || self.typed.as_ref().is_some_and(|t| t.has_key(key))
    }

    /// The `request_id` the sampling decision hashes: the event's own, else
    /// the one from the context or client fields.
    pub(crate) fn request_id(&self) -> Option<&str> {
        if let Some(s) = self.own_or_builder("request_id").and_then(FieldRef::as_str) {
            return Some(s);
        }
        if let Some(id) = self.typed.as_ref().and_then(|t| t.request_id()) {
            return Some(id);
        }
        self.under()
            .iter()
            .rev()
            .find_map(|layer| layer.get("request_id").and_then(Value::as_str))
    }
}
