//! Sending: the `send()` methods of [`Event`] and of the generated types.
//!
//! The model keeps events as data and the schema contract
//! ([`TypedEvent`]) has no `send`; this module adds the methods users call.
//! The generated types' `send()` and `send_with()` are generated into
//! `OUT_DIR/insights_events_send.rs` (see `build.rs`) and included here;
//! a user's crate that generates its own types gets them inline, calling
//! [`send_typed`] and [`send_typed_with`] through `__private`.

use super::global;
use super::handle::Client;
use crate::error::SendError;
use crate::model::event::Event;
use crate::model::typed::TypedEvent;

/// Sends a typed event through the global client (what a generated
/// type's `send()` calls).
pub fn send_typed<T: TypedEvent>(typed: T) -> Result<(), SendError> {
    global::send_typed(typed)
}

/// Sends a typed event through `client` (what a generated type's
/// `send_with()` calls).
pub fn send_typed_with<T: TypedEvent>(typed: T, client: &Client) -> Result<(), SendError> {
    client.send_typed(typed)
}

/// `send()` and `send_with()` for any typed event, for generic code
/// (`fn f<T: TypedEvent>(t: T)`): generated types have the same methods
/// inherently, so concrete code needs no import.
///
/// ```
/// use insights_events::{Client, Config, TypedEvent, TypedSend};
/// # use insights_events::{Backend, transmission::DiscardSender};
///
/// fn record<T: TypedEvent>(event: T, client: &Client) {
///     event.send_with(client).unwrap();
/// }
/// # let client = Client::new(Config::new().backend(Backend::Custom(std::sync::Arc::new(DiscardSender)))).unwrap();
/// record(insights_events::DbQuery::new("SELECT 1", 0.5), &client);
/// ```
pub trait TypedSend: TypedEvent {
    /// Sends the event through the global client installed by
    /// [`crate::init`]. Never blocks (unless the client was configured
    /// with `block_on_send`) and never panics; without a global client it
    /// returns [`SendError::NoGlobalClient`].
    fn send(self) -> Result<(), SendError> {
        send_typed(self)
    }

    /// Sends the event through `client`.
    fn send_with(self, client: &Client) -> Result<(), SendError> {
        send_typed_with(self, client)
    }
}

impl<T: TypedEvent> TypedSend for T {}

impl Event {
    /// Sends the event through its client (a builder's event), else the
    /// global client. Never blocks unless `block_on_send` was chosen.
    pub fn send(mut self) -> Result<(), SendError> {
        // Taken, not cloned: a clone and its drop would write the client's
        // shared reference count twice more per event.
        match self.take_destination() {
            Some(d) => d.send_event(self, false),
            None => global::send(self, false),
        }
    }

    /// Sends the event without a sampling decision: the caller already
    /// sampled it. The sample rate is still reported to Honeycomb.
    pub fn send_presampled(mut self) -> Result<(), SendError> {
        match self.take_destination() {
            Some(d) => d.send_event(self, true),
            None => global::send(self, true),
        }
    }

    /// Sends the event through `client`.
    pub fn send_with(self, client: &Client) -> Result<(), SendError> {
        client.send(self)
    }
}

include!(concat!(env!("OUT_DIR"), "/insights_events_send.rs"));
