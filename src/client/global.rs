//! The global client: the one [`init`] installs, which `send()` uses when
//! an event has no client of its own.
//!
//! Part of `client` (layer 7); uses `client::handle`, `config`, `core`,
//! `model`, `error`.

use std::sync::RwLock;
use std::time::Duration;

use super::handle::Client;
use crate::config::{Config, ConfigError};
use crate::core::FlushOutcome;
use crate::error::SendError;
use crate::model::event::Event;
use crate::model::typed::TypedEvent;

static GLOBAL: RwLock<Option<Client>> = RwLock::new(None);

/// Keeps the global client alive; dropping it closes the client, so events
/// sent just before `main` returns are delivered (within `drop_timeout`).
#[must_use = "dropping the guard closes the global client at once"]
#[derive(Debug)]
pub struct InitGuard {
    _private: (),
}

impl Drop for InitGuard {
    fn drop(&mut self) {
        shutdown();
    }
}

/// Installs the global client that `typed_event.send()` and `Event::send()`
/// use, replacing any previous one.
///
/// ```
/// use insights_events::{init, Config, DbQuery};
///
/// let _guard = init(Config::from_env()?)?; // no key: NDJSON on stdout
/// DbQuery::new("SELECT 1", 0.4).send()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init(config: Config) -> Result<InitGuard, ConfigError> {
    let client = Client::new(config)?;
    let old = GLOBAL
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .replace(client);
    drop(old);
    Ok(InitGuard { _private: () })
}

/// The global client, if [`init`] installed one.
pub fn global() -> Option<Client> {
    GLOBAL.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Removes the global client and closes it within its `drop_timeout`.
pub fn shutdown() -> Option<FlushOutcome> {
    let client = GLOBAL.write().unwrap_or_else(|e| e.into_inner()).take()?;
    let timeout = client.drop_timeout();
    Some(client.close(timeout))
}

/// Flushes the global client (see [`Client::flush`]).
pub fn flush(timeout: Duration) -> Option<FlushOutcome> {
    global().map(|c| c.flush(timeout))
}

// A send runs under the global client's read lock, unless it runs the
// user's code (the client's dynamic fields): such code may send through the
// global client again, and a second read lock on one thread waits behind an
// `init` or `shutdown` waiting for the first (std's lock lets a waiting
// writer go first). Those sends clone the client out and let go of the lock.

pub(crate) fn send_typed<T: TypedEvent>(typed: T) -> Result<(), SendError> {
    let guard = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref() {
        Some(c) if c.runs_user_code_on_send() => {
            let c = c.clone();
            drop(guard);
            c.send_typed(typed)
        }
        Some(c) => c.send_typed(typed),
        None => Err(SendError::NoGlobalClient),
    }
}

pub(crate) fn send(event: Event, presampled: bool) -> Result<(), SendError> {
    let guard = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref() {
        Some(c) if c.runs_user_code_on_send() => {
            let c = c.clone();
            drop(guard);
            c.send_inner(event, presampled)
        }
        Some(c) => c.send_inner(event, presampled),
        None => Err(SendError::NoGlobalClient),
    }
}
