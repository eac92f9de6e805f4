//! The client: configuration, the transmission core, and the global client
//! that `typed_event.send()` uses.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Receiver;
use serde_json::Value;

use crate::config::{Backend, BackendKind, Config, ConfigError};
use crate::event::{Event, Fields};
use crate::json::MAX_DEPTH;
use crate::sampling;
use crate::transmission::packed::Head;
use crate::transmission::{
    DiscardSender, DropReason, FlushOutcome, HoneybadgerSender, HoneycombSender, Response, Sender,
    Stats, Transmission, WriterSender,
};
use crate::typed::TypedEvent;
use crate::{Builder, SendError};

struct Inner {
    config: Arc<Config>,
    kind: BackendKind,
    sender_name: &'static str,
    core: Transmission,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: deliver what is queued, within a short deadline.
        self.core.close(self.config.drop_timeout);
    }
}

/// A handle on one transmission core. Cheap to clone, thread-safe; the core
/// flushes and stops when the last clone is dropped (within
/// `drop_timeout`), or on [`Client::close`].
///
/// ```
/// use std::time::Duration;
/// use insights_events::{Backend, Client, Config, DbQuery};
/// use insights_events::transmission::MemorySender;
///
/// let recorder = MemorySender::new();
/// let client = Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
/// DbQuery::new("SELECT 1", 2.5).request_id("r-1").send_with(&client).unwrap();
/// assert!(client.flush(Duration::from_secs(5)).completed);
/// assert_eq!(recorder.len(), 1);
/// assert_eq!(client.stats().sent, 1);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("backend", &self.inner.sender_name)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Client {
    /// Starts a transmission core for `config`.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let kind = config.backend_kind();
        let sender: Arc<dyn Sender> = match (&config.backend, kind) {
            (Backend::Custom(s), _) => s.clone(),
            (_, BackendKind::Honeybadger) => Arc::new(HoneybadgerSender::new(&config)?),
            (_, BackendKind::Honeycomb) => Arc::new(HoneycombSender::new(&config)?),
            (Backend::Stdout | Backend::Auto, _) => Arc::new(WriterSender::stdout()),
            _ => Arc::new(DiscardSender),
        };
        let sender_name = sender.name();
        let config = Arc::new(config);
        let core =
            Transmission::start(config.clone(), sender).map_err(|e| ConfigError::Invalid {
                setting: "worker",
                reason: format!("cannot start the worker: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                kind,
                sender_name,
                core,
            }),
        })
    }

    /// The backend in use (`"honeybadger"`, `"honeycomb"`, `"stdout"`, ...).
    pub fn backend_name(&self) -> &'static str {
        self.inner.sender_name
    }

    /// A builder whose events go through this client.
    pub fn builder(&self) -> Builder {
        Builder::for_client(self.clone())
    }

    /// A new empty event bound to this client.
    pub fn new_event(&self) -> Event {
        Event::new().with_client(self.clone())
    }

    /// Sends an event: merges the event context, makes the sampling
    /// decision, and enqueues it. Never blocks unless `block_on_send`.
    pub fn send(&self, event: Event) -> Result<(), SendError> {
        self.send_inner(event, false)
    }

    /// Sends an event the caller already sampled.
    pub fn send_presampled(&self, event: Event) -> Result<(), SendError> {
        self.send_inner(event, true)
    }

    fn send_inner(&self, mut event: Event, presampled: bool) -> Result<(), SendError> {
        let inner = &*self.inner;
        if inner.core.is_closed() {
            inner.core.reject_closed(event);
            return Err(SendError::Closed);
        }
        event.client = None;
        if !inner.config.dynamic_fields.is_empty() {
            let dynamic: Fields = inner
                .config
                .dynamic_fields
                .iter()
                .map(|(k, f)| (k.clone(), f()))
                .collect();
            event
                .cold_mut()
                .under
                .insert(0, crate::event::Layer::Own(Arc::new(dynamic)));
        }
        if let Some(ctx) = crate::context::current_layer() {
            event
                .cold_mut()
                .under
                .push(crate::event::Layer::Shared(ctx));
        }
        if !presampled && !self.keep(&mut event) {
            inner.core.shared.stats.drop_event(DropReason::Sampled, 1);
            return Ok(());
        }
        inner.core.enqueue(event)
    }

    /// Sends a typed event: packed on this thread when nothing needs the
    /// struct whole on the worker (see `transmission::packed`), else as an
    /// [`Event`]. Same checks, filters and sampling either way.
    pub(crate) fn send_typed<T: TypedEvent>(&self, mut typed: T) -> Result<(), SendError> {
        let inner = &*self.inner;
        let config = &inner.config;
        let packable = inner.core.packs()
            && !inner.core.is_closed()
            && config.dynamic_fields.is_empty()
            && !crate::context::is_set()
            && !typed.has_key("_hb")
            && typed.non_finite_field().is_none()
            && config.fields.keys().all(|k| !typed.has_key(k))
            && config
                .params_filter
                .apply_typed(|f| typed.visit_json_fields_mut(f), MAX_DEPTH)
                .is_none();
        if !packable {
            return self.send_whole(typed);
        }
        let sample_rate = match inner.kind {
            BackendKind::Honeycomb => Some(self.honeycomb_rate(None)),
            _ => None,
        };
        let keep = match sample_rate {
            Some(rate) => sampling::honeycomb_keep(rate),
            None => honeybadger_keeps(config.sample_rate, || typed.request_id_str()),
        };
        if !keep {
            inner.core.shared.stats.drop_event(DropReason::Sampled, 1);
            return Ok(());
        }
        let Some(since) = crate::clock::since_epoch() else {
            // A clock before 1970: not packed (the usual path writes such
            // a time as it can).
            return self.enqueue_sampled(typed, None, sample_rate);
        };
        let head = Head {
            since,
            sample_rate,
            has_ts: typed.has_key("ts"),
        };
        match inner.core.enqueue_packed(&typed, &head) {
            Some(sent) => sent,
            None => self.enqueue_sampled(typed, Some(head.at()), sample_rate),
        }
    }

    /// A typed event that cannot be packed takes the whole usual send
    /// (checks, fields, sampling), out of [`Client::send_typed`]'s hot path.
    #[cold]
    #[inline(never)]
    fn send_whole<T: TypedEvent>(&self, typed: T) -> Result<(), SendError> {
        self.send(Event::from_typed(typed))
    }

    /// A typed event that was sampled already but is not packed goes
    /// straight to the queue, with the time `at` (`None`: the time it
    /// becomes an event), out of [`Client::send_typed`]'s hot path.
    #[cold]
    #[inline(never)]
    fn enqueue_sampled<T: TypedEvent>(
        &self,
        typed: T,
        at: Option<SystemTime>,
        sample_rate: Option<u32>,
    ) -> Result<(), SendError> {
        let mut event = Event::from_typed(typed);
        if let Some(at) = at {
            event.timestamp = at;
        }
        event.sample_rate = sample_rate;
        self.inner.core.enqueue(event)
    }

    /// The sampling decision for this client's backend.
    fn keep(&self, event: &mut Event) -> bool {
        match self.inner.kind {
            BackendKind::Honeycomb => {
                let rate = self.honeycomb_rate(event.sample_rate);
                event.sample_rate = Some(rate);
                sampling::honeycomb_keep(rate)
            }
            _ => {
                let rate = event
                    .sample_rate
                    .or_else(|| hb_override(event))
                    .unwrap_or(self.inner.config.sample_rate);
                honeybadger_keeps(rate, || event.request_id())
            }
        }
    }

    /// The Honeycomb sample rate of an event ("one in N", at least 1).
    fn honeycomb_rate(&self, per_event: Option<u32>) -> u32 {
        per_event
            .unwrap_or(self.inner.config.honeycomb_sample_rate)
            .max(1)
    }

    /// Waits until every event sent before this call has been delivered or
    /// has failed for good, or `timeout` passes. Safe to call from any
    /// thread, including inside an async runtime (it blocks that thread).
    pub fn flush(&self, timeout: Duration) -> FlushOutcome {
        self.inner.core.flush_until(Instant::now() + timeout)
    }

    /// Stops accepting events, delivers what it can within `timeout` (one
    /// total deadline), and stops the worker. Later sends return
    /// [`SendError::Closed`].
    pub fn close(&self, timeout: Duration) -> FlushOutcome {
        self.inner.core.close(timeout)
    }

    /// The responses stream: one [`Response`] per event (delivered or not;
    /// sampled-out events have none), for events whose outcome comes after
    /// the first call (responses are not built until someone asks). Bounded:
    /// when nobody reads it, the oldest responses are discarded, and the
    /// core never waits (unless `block_on_response`). The stream ends when
    /// [`Client::close`] returns: a reader gets what is left, then the end
    /// (`recv` fails, `iter` stops); events sent after that are counted in
    /// [`Client::stats`] only.
    pub fn responses(&self) -> Receiver<Response> {
        let shared = &self.inner.core.shared;
        shared
            .responses_wanted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        shared.responses_rx.clone()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.inner
            .core
            .shared
            .stats
            .snapshot(self.inner.core.queue_len())
    }
}

/// Honeybadger's decision for an event at `rate` percent.
fn honeybadger_keeps<'a>(rate: u32, request_id: impl FnOnce() -> Option<&'a str>) -> bool {
    // At 100% there is nothing to decide: skip the lookup and the hash.
    rate >= 100 || sampling::honeybadger_keep(request_id(), rate)
}

/// `_hb.sample_rate`, honeybadger-python's per-event override.
fn hb_override(event: &Event) -> Option<u32> {
    if !event.has_own_key("_hb") {
        return None;
    }
    let hb = event.get("_hb")?;
    let rate = hb.get("sample_rate")?;
    match rate {
        Value::Number(n) => n.as_f64().map(|f| f.clamp(0.0, 100.0) as u32),
        _ => None,
    }
}

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
    let timeout = client.inner.config.drop_timeout;
    Some(client.close(timeout))
}

/// Flushes the global client (see [`Client::flush`]).
pub fn flush(timeout: Duration) -> Option<FlushOutcome> {
    global().map(|c| c.flush(timeout))
}

pub(crate) fn global_send_typed<T: TypedEvent>(typed: T) -> Result<(), SendError> {
    let guard = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref() {
        Some(c) => c.send_typed(typed),
        None => Err(SendError::NoGlobalClient),
    }
}

pub(crate) fn global_send(event: Event, presampled: bool) -> Result<(), SendError> {
    let guard = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref() {
        Some(c) => c.send_inner(event, presampled),
        None => Err(SendError::NoGlobalClient),
    }
}
