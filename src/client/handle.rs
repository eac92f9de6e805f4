//! The client: one transmission core, and what happens on the calling
//! thread when an event is sent (layers, sampling, the typed fast path).

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Receiver;

use crate::config::{Backend, BackendKind, Config, ConfigError};
use crate::core::fast::clock;
use crate::core::fast::raw::blocks;
use crate::core::fork;
use crate::core::handle::Transmission;
use crate::core::inflight::deadline_after;
use crate::core::{FlushOutcome, Stats};
use crate::encode::packed::PackMeta;
use crate::error::SendError;
use crate::model::event::{Destination, Event};
use crate::model::fields::Fields;
use crate::model::response::Response;
use crate::model::typed::TypedEvent;
use crate::pipeline::prepare::{attach_layers, Policy};
use crate::pipeline::{context, sampling::Sampler};
use crate::transport::discard::DiscardSender;
use crate::transport::honeybadger::HoneybadgerSender;
use crate::transport::honeycomb::HoneycombSender;
use crate::transport::writer::WriterSender;
use crate::transport::Sender;

pub(crate) struct Inner {
    config: Arc<Config>,
    sender_name: &'static str,
    sampler: Sampler,
    /// The same as the core's: checked on the calling thread for typed
    /// events packed there.
    policy: Policy,
    /// The core started with the client (in a forked child, the parent's:
    /// never used or dropped there).
    core: Arc<Transmission>,
    /// The fork generation the client was made in (see `core::fork`).
    generation: u64,
    /// In a forked child: the core started there, and for which generation
    /// (a plain load on each send once set).
    forked: OnceLock<(u64, Transmission)>,
    /// A child of a child (forked again): its core, behind a lock.
    deeper: Mutex<Option<(u64, Arc<Transmission>)>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let generation = fork::generation();
        if generation == self.generation {
            // The last handle is gone: deliver what is queued, within a
            // short deadline.
            self.core.close(self.config.queue.drop_timeout);
            return;
        }
        // A forked child: the client's own core is the parent's (its
        // threads are not in this process, its locks may be held): left
        // untouched and leaked. The child's own core closes as usual.
        std::mem::forget(self.core.clone());
        if let Some((g, core)) = self.forked.take() {
            if g == generation {
                core.close(self.config.queue.drop_timeout);
            } else {
                std::mem::forget(core);
            }
        }
        let deeper = self
            .deeper
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((g, core)) = deeper {
            if g == generation {
                core.close(self.config.queue.drop_timeout);
            } else {
                std::mem::forget(core);
            }
        }
    }
}

/// The core a client sends through: its own, or in a forked child the one
/// started there.
pub(crate) enum CoreRef<'a> {
    Own(&'a Transmission),
    Forked(Arc<Transmission>),
}

impl std::ops::Deref for CoreRef<'_> {
    type Target = Transmission;
    #[inline]
    fn deref(&self) -> &Transmission {
        match self {
            CoreRef::Own(c) => c,
            CoreRef::Forked(c) => c,
        }
    }
}

/// The sender for `config`'s backend (the stdout notice is shown here).
fn make_sender(config: &Config) -> Result<Arc<dyn Sender>, ConfigError> {
    let kind = config.backend_kind();
    Ok(match (&config.destination.backend, kind) {
        (Backend::Custom(s), _) => s.clone(),
        (_, BackendKind::Honeybadger) => Arc::new(HoneybadgerSender::new(config)?),
        (_, BackendKind::Honeycomb) => Arc::new(HoneycombSender::new(config)?),
        (Backend::Auto, _) => {
            stdout_notice();
            Arc::new(WriterSender::stdout())
        }
        (Backend::Stdout, _) => Arc::new(WriterSender::stdout()),
        _ => Arc::new(DiscardSender),
    })
}

/// Starts a core with `settings` (from [`Config::core_settings`]) and `sender`.
fn start_settings(
    settings: crate::core::settings::CoreSettings,
    sender: Arc<dyn Sender>,
) -> Result<Transmission, ConfigError> {
    Transmission::start(settings, sender).map_err(|e| ConfigError::Invalid {
        setting: "worker",
        reason: format!("cannot start the worker: {e}"),
    })
}

impl Inner {
    /// The core to send through: the client's own, unless this process is
    /// a fork of the one that made the client (one relaxed load; in a
    /// forked child, one more load of the core started there).
    #[inline]
    pub(crate) fn core(&self) -> CoreRef<'_> {
        let generation = fork::generation();
        if generation == self.generation {
            return CoreRef::Own(&self.core);
        }
        match self.forked.get() {
            Some((g, core)) if *g == generation => CoreRef::Own(core),
            _ => self.forked_core(),
        }
    }

    /// In a forked child: the core started there, started on first use:
    /// empty queues, a new worker and a new connection, so the parent's
    /// queued events are never sent twice and the child's are sent.
    #[cold]
    #[inline(never)]
    fn forked_core(&self) -> CoreRef<'_> {
        let generation = fork::generation();
        let start = || {
            make_sender(&self.config).and_then(|s| start_settings(self.config.core_settings(), s))
        };
        let error = if self.forked.get().is_none() {
            // The first child: its core, set once (a thread that loses the
            // race drops the one it started).
            match start() {
                Ok(core) => {
                    let _ = self.forked.set((generation, core));
                    match self.forked.get() {
                        Some((g, core)) if *g == generation => return CoreRef::Own(core),
                        _ => None,
                    }
                }
                Err(e) => Some(e),
            }
        } else {
            // Forked again: the child's child keeps its core behind a lock.
            let mut deeper = self.deeper.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((g, core)) = &*deeper {
                if *g == generation {
                    return CoreRef::Forked(core.clone());
                }
            }
            // The previous generation's core is its parent's now.
            if let Some((_, stale)) = deeper.take() {
                std::mem::forget(stale);
            }
            match start() {
                Ok(core) => {
                    let core = Arc::new(core);
                    *deeper = Some((generation, core.clone()));
                    return CoreRef::Forked(core);
                }
                Err(e) => Some(e),
            }
        };
        // No worker could start here: the client acts closed (the next send
        // tries again). Warned with no lock held: a tracing layer may send.
        if let Some(e) = error {
            tracing::warn!("insights-events: cannot start after fork: {e}");
        }
        self.core.mark_closed();
        CoreRef::Own(&self.core)
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

/// The one line on stderr that says why events go to stdout: no key was
/// set and the backend was left to choose (as honeybadger-python logs its
/// own notice). Once per process; `Backend::Stdout` chosen on purpose says
/// nothing.
pub(crate) const STDOUT_NOTICE: &str = "insights-events: no HONEYBADGER_API_KEY or HONEYCOMB_API_KEY set: writing events to stdout as NDJSON (set a key to send them; Backend::Stdout keeps stdout without this notice)";

fn stdout_notice() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| eprintln!("{STDOUT_NOTICE}"));
}

impl Client {
    /// Starts a transmission core for `config`.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let sender = make_sender(&config)?;
        let sender_name = sender.name();
        let settings = config.core_settings();
        let policy = settings.policy.clone();
        let generation = fork::generation();
        let core = start_settings(settings, sender)?;
        Ok(Client {
            inner: Arc::new(Inner {
                sampler: config.sampler(),
                config: Arc::new(config),
                sender_name,
                policy,
                core: Arc::new(core),
                generation,
                forked: OnceLock::new(),
                deeper: Mutex::new(None),
            }),
        })
    }

    /// Where the events of this client's builders go.
    pub(crate) fn destination(&self) -> Arc<dyn Destination> {
        self.inner.clone()
    }

    /// A tower layer whose request events go through this client (see
    /// [`crate::integrations::tower`]).
    #[cfg(feature = "tower")]
    pub fn tower_layer(&self) -> crate::integrations::tower::InsightsLayer {
        crate::integrations::tower::InsightsLayer::to(Some(self.destination()))
    }

    /// A tracing layer whose events go through this client (see
    /// [`crate::integrations::tracing`]).
    #[cfg(feature = "tracing")]
    pub fn tracing_layer(&self) -> crate::integrations::tracing::InsightsTracingLayer {
        crate::integrations::tracing::InsightsTracingLayer::to(Some(self.destination()))
    }

    /// Whether a send runs the user's code on the calling thread (the
    /// client's dynamic fields).
    pub(crate) fn runs_user_code_on_send(&self) -> bool {
        !self.inner.config.dynamic_fields.is_empty()
    }

    /// The `drop_timeout` of the configuration.
    pub(crate) fn drop_timeout(&self) -> Duration {
        self.inner.config.queue.drop_timeout
    }

    /// The backend in use (`"honeybadger"`, `"honeycomb"`, `"stdout"`, ...).
    pub fn backend_name(&self) -> &'static str {
        self.inner.sender_name
    }

    /// A new empty event bound to this client.
    pub fn new_event(&self) -> Event {
        Event::new().with_destination(self.destination())
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

    pub(crate) fn send_inner(&self, event: Event, presampled: bool) -> Result<(), SendError> {
        self.inner.send_event(event, presampled)
    }

    /// Sends a typed event: packed on this thread when nothing needs the
    /// struct whole on the worker (see `encode::packed`), else as an
    /// [`Event`]. Same checks, filters and sampling either way.
    pub(crate) fn send_typed<T: TypedEvent>(&self, mut typed: T) -> Result<(), SendError> {
        let inner = &*self.inner;
        let core = inner.core();
        let packable = !core.is_closed()
            && inner.config.dynamic_fields.is_empty()
            && !context::is_set()
            && inner.policy.typed_is_ready(&mut typed);
        if !packable {
            return self.send_whole(typed);
        }
        let (keep, sample_rate) = inner.sampler.keep_typed(&typed);
        if !keep {
            core.count_sampled();
            return Ok(());
        }
        let Some(since) = clock::since_epoch() else {
            // A clock before 1970: not packed (the usual path writes such
            // a time as it can).
            return self.enqueue_sampled(typed, None, sample_rate);
        };
        let meta = PackMeta {
            since,
            sample_rate,
            has_ts: typed.has_key("ts"),
        };
        match core.enqueue_packed(&typed, &meta) {
            Some(sent) => sent,
            None => self.enqueue_sampled(typed, Some(meta.at()), sample_rate),
        }
    }

    /// A typed event that cannot be packed takes the whole usual send
    /// (checks, fields, sampling), out of [`Client::send_typed`]'s hot path.
    #[cold]
    #[inline(never)]
    fn send_whole<T: TypedEvent>(&self, typed: T) -> Result<(), SendError> {
        self.send(Event::from_erased(blocks::boxed(typed)))
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
        let mut event = Event::from_erased(blocks::boxed(typed));
        if let Some(at) = at {
            event.set_timestamp(at);
        }
        event.sample_rate = sample_rate;
        self.inner.core().enqueue(event)
    }

    /// Waits until every event sent before this call has been delivered or
    /// has failed for good, or `timeout` passes. Safe to call from any
    /// thread, including inside an async runtime (it blocks that thread).
    /// The outcome also says what was lost since the previous flush or
    /// close: only [`FlushOutcome::all_delivered`] means nothing was.
    pub fn flush(&self, timeout: Duration) -> FlushOutcome {
        self.inner.core().flush_until(deadline_after(timeout))
    }

    /// Stops accepting events, delivers what it can within `timeout` (one
    /// total deadline), and stops the worker. Later sends return
    /// [`SendError::Closed`]. The outcome says what was lost since the
    /// previous flush (see [`FlushOutcome`]).
    pub fn close(&self, timeout: Duration) -> FlushOutcome {
        self.inner.core().close(timeout)
    }

    /// [`Client::flush`] for async code: the wait happens on a thread of
    /// its own, so it never blocks a runtime's worker thread (on a
    /// current-thread runtime as on a multi-thread one, or any executor),
    /// and it ends by `timeout`. A future dropped before it ends (in a
    /// `select!` or a timeout) leaves its waiting thread to end by
    /// `timeout` on its own.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use insights_events::{Backend, Client, Config, transmission::DiscardSender};
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let client = Client::new(Config::new().backend(Backend::Custom(std::sync::Arc::new(DiscardSender)))).unwrap();
    /// assert!(client.flush_async(Duration::from_secs(5)).await.completed);
    /// # });
    /// ```
    pub async fn flush_async(&self, timeout: Duration) -> FlushOutcome {
        let client = self.clone();
        self.off_thread(move || client.flush(timeout)).await
    }

    /// [`Client::close`] for async code (see [`Client::flush_async`]): one
    /// total deadline, and no runtime thread blocked. The pattern for a
    /// graceful shutdown of an axum service: serve
    /// `with_graceful_shutdown(signal)`, then
    /// `client.close_async(deadline).await`.
    pub async fn close_async(&self, timeout: Duration) -> FlushOutcome {
        let client = self.clone();
        self.off_thread(move || client.close(timeout)).await
    }

    /// Runs a blocking wait on a thread of its own and awaits its answer.
    async fn off_thread(
        &self,
        wait: impl FnOnce() -> FlushOutcome + Send + 'static,
    ) -> FlushOutcome {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("insights-events-wait".into())
            .spawn(move || {
                let _ = tx.send(wait());
            });
        let unknown = || FlushOutcome::new(false, (self.inner.core().queue_len() as u64).max(1));
        if spawned.is_err() {
            return unknown();
        }
        rx.await.unwrap_or_else(|_| unknown())
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
        self.inner.core().responses()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.inner.core().stats()
    }
}

impl Inner {
    /// Packs a hand-built event on this thread, as a typed one is (see
    /// `encode::packed`), when it has nothing but packed fields and the
    /// worker's preparation would change nothing. `None`: it takes the
    /// usual path (and was not sampled yet).
    fn send_packed(
        &self,
        core: &Transmission,
        event: &mut Event,
        presampled: bool,
    ) -> Option<Result<(), SendError>> {
        let fields = event.packed_only()?;
        if !self.policy.packed_is_ready(fields) {
            return None;
        }
        let since = event.timestamp().duration_since(UNIX_EPOCH).ok()?;
        let has_ts = fields.contains_key("ts");
        if !presampled && !self.sampler.keep_event_without_hb(event) {
            core.count_sampled();
            return Some(Ok(()));
        }
        let meta = PackMeta {
            since,
            sample_rate: event.sample_rate(),
            has_ts,
        };
        let fields = event.packed_only()?;
        match core.enqueue_fields(fields, &meta) {
            Some(sent) => Some(sent),
            // Sampled already: straight to the queue.
            None => Some(core.enqueue(std::mem::take(event))),
        }
    }
}

impl Destination for Inner {
    /// Merges the client's dynamic fields and the event context under the
    /// event, makes the sampling decision, and enqueues it. Never blocks
    /// unless `block_on_send`.
    fn send_event(&self, mut event: Event, presampled: bool) -> Result<(), SendError> {
        let core = self.core();
        if core.is_closed() {
            core.reject_closed(event);
            return Err(SendError::Closed);
        }
        drop(event.take_destination());
        if self.config.dynamic_fields.is_empty() && !context::is_set() {
            if let Some(sent) = self.send_packed(&core, &mut event, presampled) {
                return sent;
            }
        }
        let dynamic = (!self.config.dynamic_fields.is_empty()).then(|| {
            self.config
                .dynamic_fields
                .iter()
                .map(|(k, f)| (k.clone(), f()))
                .collect::<Fields>()
        });
        attach_layers(&mut event, dynamic, context::current_layer());
        if !presampled && !self.sampler.keep_event(&mut event) {
            core.count_sampled();
            return Ok(());
        }
        core.enqueue(event)
    }
}
