//! Builders: fields and dynamic fields shared by the events they create
//! (libhoney's middle scope).
//!
//! ```
//! use insights_events::{Builder, Client, Config};
//! use insights_events::transmission::DiscardSender;
//!
//! let client = Client::new(Config::new().backend(insights_events::Backend::Custom(std::sync::Arc::new(DiscardSender)))).unwrap();
//! let mut component = client.builder();
//! component.add_field("component", "billing");
//! component.add_dynamic_field("threads", || 4);
//!
//! let mut invoices = component.clone(); // inherits fields and dynamic fields
//! invoices.add_field("area", "invoices");
//!
//! let mut ev = invoices.new_event();
//! ev.add_field("amount", 12.5);
//! assert_eq!(ev.get("component"), Some(serde_json::json!("billing")));
//! assert_eq!(ev.get("threads"), Some(serde_json::json!(4)));
//! ev.send().unwrap();
//! ```

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crossbeam_utils::CachePadded;

use super::handle::Client;
use crate::config::DynamicField;
use crate::model::event::Event;
use crate::model::fields::{Key, SharedFields, SharedKey};
use crate::model::packed_fields::PackedFields;

/// Creates events that start with its fields. Clone it to specialise.
#[derive(Clone)]
pub struct Builder {
    client: Option<Client>,
    /// Shared with every event it creates (no copy per event) when they
    /// cannot be packed.
    fields: SharedFields,
    /// The same fields, packed: copied into each event it creates, as if
    /// added to it first. `None` once a value could not be packed.
    packed: Option<PackedFields>,
    dynamic: Vec<(SharedKey, DynamicField)>,
    sample_rate: Option<u32>,
    invalid: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            client: None,
            fields: SharedFields::default(),
            packed: Some(PackedFields::default()),
            dynamic: Vec::new(),
            sample_rate: None,
            invalid: None,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("fields", &**self.fields)
            .field(
                "dynamic",
                &self.dynamic.iter().map(|(k, _)| &***k).collect::<Vec<_>>(),
            )
            .field("sample_rate", &self.sample_rate)
            .finish()
    }
}

impl Builder {
    /// A builder whose events go through the global client.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn for_client(client: Client) -> Self {
        Builder {
            client: Some(client),
            ..Self::default()
        }
    }

    /// Adds a field to every event this builder creates.
    pub fn add_field<V: Serialize>(&mut self, key: impl Into<String>, value: V) -> &mut Self {
        let key = key.into();
        match crate::json::to_value_checked(&value) {
            Ok(v) => self.put(key, v),
            Err(e) => self.invalid = Some(format!("builder field `{key}`: {e}")),
        }
        self
    }

    /// Sets one field, in both forms.
    fn put(&mut self, key: String, value: Value) {
        if let Some(p) = &mut self.packed {
            if p.add_value(&key, &value).is_err() {
                self.packed = None;
            }
        }
        Arc::make_mut(&mut self.fields).insert(key, value);
    }

    /// Adds every key of `data` (which must serialize to a JSON object).
    pub fn add<T: Serialize>(&mut self, data: T) -> &mut Self {
        match crate::json::to_value_checked(&data) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    self.put(k, v);
                }
            }
            Ok(other) => {
                self.invalid = Some(format!(
                    "add() takes a JSON object, got {}",
                    crate::json::kind(&other)
                ))
            }
            Err(e) => self.invalid = Some(e),
        }
        self
    }

    /// Adds a field whose value `f` computes each time an event is created.
    pub fn add_dynamic_field<V: Into<Value>>(
        &mut self,
        key: impl Into<String>,
        f: impl Fn() -> V + Send + Sync + 'static,
    ) -> &mut Self {
        let key: String = key.into();
        self.dynamic.push((
            Arc::new(CachePadded::new(key.into_boxed_str())),
            Arc::new(move || f().into()),
        ));
        self
    }

    /// The sample rate of the events it creates (see [`Event::set_sample_rate`]).
    pub fn set_sample_rate(&mut self, rate: u32) -> &mut Self {
        self.sample_rate = Some(rate);
        self
    }

    /// A new event with this builder's fields, its dynamic fields evaluated
    /// now, and the timestamp now.
    pub fn new_event(&self) -> Event {
        let mut ev = Event::new();
        match &self.packed {
            Some(packed) => ev.own_fields_mut().append_packed(packed),
            None if !self.fields.is_empty() => ev.cold_mut().builder = Some(self.fields.clone()),
            None => {}
        }
        for (k, f) in &self.dynamic {
            ev.own_fields_mut()
                .insert_with(k, f(), || Key::Shared(k.clone()));
        }
        ev.sample_rate = self.sample_rate;
        if let Some(reason) = &self.invalid {
            ev.mark_invalid(reason.clone());
        }
        if let Some(c) = &self.client {
            ev = ev.with_destination(c.destination());
        }
        ev
    }
}

impl Client {
    /// A builder whose events go through this client.
    pub fn builder(&self) -> Builder {
        Builder::for_client(self.clone())
    }
}
