//! The global client: the one [`init`] installs, which `send()` uses when
//! an event has no client of its own.
//!
//! An event sent through the global client while none is set is dropped
//! (and `send()` returns [`SendError::NoGlobalClient`]); the first such
//! drop is also told to a person, once per process, because the layers
//! (`InsightsLayer::new()`, `InsightsTracingLayer::new()`) send through
//! the global client and have no caller to return the error to.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use super::handle::Client;
use crate::config::{Config, ConfigError};
use crate::core::FlushOutcome;
use crate::error::SendError;
use crate::model::event::Event;
use crate::model::typed::TypedEvent;
use crate::notice::{warn, Once};

static GLOBAL: RwLock<Option<Client>> = RwLock::new(None);

/// Whether `init` ever installed a global client (then a later drop for
/// the want of one is a send after `shutdown`).
static EVER_SET: AtomicBool = AtomicBool::new(false);

/// Events dropped because no global client was set.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// The warning for events sent before any `init` (or with none at all).
static NEVER_SET: Once = Once::new();

/// The warning for events sent after the global client was shut down.
static AFTER_SHUTDOWN: Once = Once::new();

/// The warning for a drop for the want of a global client, none ever set;
/// `{n}` is the number dropped so far.
fn never_set_warning(n: u64) -> String {
    format!(
        "insights-events: an event was sent through the global client, but none is set: \
         it was dropped ({n} so far). Call insights_events::init(Config::from_env()?) at \
         startup, or send through your Client (client.tower_layer(), client.tracing_layer(), \
         event.send_with(&client)) (shown once)"
    )
}

/// The warning for a drop for the want of a global client after it was
/// shut down; `{n}` is the number dropped so far.
fn after_shutdown_warning(n: u64) -> String {
    format!(
        "insights-events: an event was sent through the global client after it was shut down \
         (its InitGuard dropped, or shutdown() called): it was dropped ({n} so far). Keep the \
         guard of insights_events::init alive until the last event is sent (shown once)"
    )
}

/// Counts an event dropped for the want of a global client, and tells a
/// person the first time. Called without the global lock held (a
/// subscriber that shows the warning may send through the global client).
fn dropped_without_client() -> SendError {
    let n = DROPPED.fetch_add(1, Ordering::Relaxed) + 1;
    if EVER_SET.load(Ordering::Relaxed) {
        if AFTER_SHUTDOWN.first() {
            warn(&after_shutdown_warning(n));
        }
    } else if NEVER_SET.first() {
        warn(&never_set_warning(n));
    }
    SendError::NoGlobalClient
}

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
    EVER_SET.store(true, Ordering::Relaxed);
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
        None => {
            drop(guard);
            Err(dropped_without_client())
        }
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
        None => {
            drop(guard);
            Err(dropped_without_client())
        }
    }
}
