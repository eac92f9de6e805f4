//! What a [`Config`] holds, in the groups the crate thinks in: where events
//! go, how they are batched, retried, sampled and queued, the hooks and
//! filters, and how losses are reported. The values' defaults, variables
//! and checks are declared in `config::settings`, not here.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use crate::pipeline::prepare::Policy;
use crate::transport::compress::Compression;
use crate::transport::policy::RetryPolicy;
use crate::transport::secret::Secret;
use crate::transport::Sender;

/// Where events go.
#[derive(Clone, Default)]
pub enum Backend {
    /// Honeybadger when an API key is set, else Honeycomb when a write key is
    /// set, else the writer on stdout.
    #[default]
    Auto,
    /// Honeybadger Insights (`POST {endpoint}/v1/events`, NDJSON).
    Honeybadger,
    /// Honeycomb (`POST {api_host}/1/batch/{dataset}`).
    Honeycomb,
    /// NDJSON lines, as Honeybadger would receive them, on stdout.
    Stdout,
    /// Any other sender: [`crate::transmission::WriterSender`],
    /// [`crate::transmission::MemorySender`],
    /// [`crate::transmission::DiscardSender`], or your own.
    Custom(Arc<dyn Sender>),
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Auto => f.write_str("Auto"),
            Backend::Honeybadger => f.write_str("Honeybadger"),
            Backend::Honeycomb => f.write_str("Honeycomb"),
            Backend::Stdout => f.write_str("Stdout"),
            Backend::Custom(s) => write!(f, "Custom({})", s.name()),
        }
    }
}

/// The backend a configuration resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackendKind {
    Honeybadger,
    Honeycomb,
    Other,
}

/// A dynamic field: run when each event is created.
pub type DynamicField = Arc<dyn Fn() -> Json + Send + Sync>;

/// How the client is set up. Start from [`Config::new`] or
/// [`Config::from_env`], then chain setters.
///
/// ```
/// use std::time::Duration;
/// use insights_events::Config;
///
/// let config = Config::new()
///     .api_key("hbp_xxx")
///     .batch_size(500)
///     .batch_timeout(Duration::from_secs(1))
///     .sample_rate(50);
/// assert!(!format!("{config:?}").contains("hbp_xxx"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) destination: Destination,
    pub(crate) batching: Batching,
    /// The HTTP senders' requests, retries and throttling, as they take them.
    pub(crate) retries: RetryPolicy,
    pub(crate) sampling: Sampling,
    pub(crate) queue: Queue,
    /// Hooks, the params filter and client-wide fields, as the pipeline
    /// takes them.
    pub(crate) hooks: Policy,
    /// Client-wide fields computed for each event (on the sending thread).
    pub(crate) dynamic_fields: Vec<(String, DynamicField)>,
    pub(crate) loss: LossReporting,
}

/// Where events go: the backend, its keys and URLs.
#[derive(Clone)]
pub(crate) struct Destination {
    pub(crate) backend: Backend,
    pub(crate) api_key: Option<Secret>,
    pub(crate) endpoint: String,
    pub(crate) honeycomb_write_key: Option<Secret>,
    pub(crate) honeycomb_dataset: String,
    pub(crate) honeycomb_api_host: String,
}

/// A setting whose default depends on the backend in use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByBackend<T> {
    /// Honeybadger's (and the other backends').
    pub(crate) honeybadger: T,
    /// Honeycomb's.
    pub(crate) honeycomb: T,
}

impl<T: Copy> ByBackend<T> {
    /// The value for `kind`.
    pub(crate) fn get(&self, kind: BackendKind) -> T {
        match kind {
            BackendKind::Honeycomb => self.honeycomb,
            _ => self.honeybadger,
        }
    }
}

/// How events are gathered into batches.
#[derive(Clone)]
pub(crate) struct Batching {
    /// Events per batch; `None`: the backend's default.
    pub(crate) size: Option<usize>,
    /// How long a batch waits to fill; `None`: the backend's default.
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) max_in_flight: usize,
}

/// The sample rates; the backend in use picks one.
#[derive(Clone)]
pub(crate) struct Sampling {
    /// Honeybadger's, in percent.
    pub(crate) honeybadger: u32,
    /// Honeycomb's, one in N.
    pub(crate) honeycomb: u32,
}

/// The queues between callers, the worker and the responses stream.
#[derive(Clone)]
pub(crate) struct Queue {
    pub(crate) max_size: usize,
    pub(crate) block_on_send: bool,
    pub(crate) block_on_response: bool,
    pub(crate) response_size: usize,
    pub(crate) drop_timeout: Duration,
}

/// How lost events are reported.
#[derive(Clone)]
pub(crate) struct LossReporting {
    pub(crate) summary_interval: Duration,
}

impl Config {
    /// Every group with placeholder values, overwritten at once by the
    /// declared defaults (see `Config::new`); never seen outside it.
    pub(crate) fn placeholder() -> Self {
        Config {
            destination: Destination {
                backend: Backend::Auto,
                api_key: None,
                endpoint: String::new(),
                honeycomb_write_key: None,
                honeycomb_dataset: String::new(),
                honeycomb_api_host: String::new(),
            },
            batching: Batching {
                size: None,
                timeout: None,
                max_bytes: 0,
                max_event_bytes: 0,
                max_in_flight: 0,
            },
            retries: RetryPolicy {
                request_timeout: Duration::ZERO,
                max_retries: 0,
                backoff: Duration::ZERO,
                backoff_max: Duration::ZERO,
                throttle_wait: Duration::ZERO,
                compression: Compression::None,
            },
            sampling: Sampling {
                honeybadger: 0,
                honeycomb: 0,
            },
            queue: Queue {
                max_size: 0,
                block_on_send: false,
                block_on_response: false,
                response_size: 0,
                drop_timeout: Duration::ZERO,
            },
            hooks: Policy::default(),
            dynamic_fields: Vec::new(),
            loss: LossReporting {
                summary_interval: Duration::ZERO,
            },
        }
    }

    pub(crate) fn backend_kind(&self) -> BackendKind {
        let d = &self.destination;
        match &d.backend {
            Backend::Honeybadger => BackendKind::Honeybadger,
            Backend::Honeycomb => BackendKind::Honeycomb,
            Backend::Auto if d.api_key.is_some() => BackendKind::Honeybadger,
            Backend::Auto if d.honeycomb_write_key.is_some() => BackendKind::Honeycomb,
            _ => BackendKind::Other,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.destination;
        f.debug_struct("Config")
            .field("backend", &d.backend)
            .field("api_key", &d.api_key)
            .field("endpoint", &d.endpoint)
            .field("honeycomb_write_key", &d.honeycomb_write_key)
            .field("honeycomb_dataset", &d.honeycomb_dataset)
            .field("honeycomb_api_host", &d.honeycomb_api_host)
            .field("batch_size", &self.batching.size)
            .field("batch_timeout", &self.batching.timeout)
            .field("max_queue_size", &self.queue.max_size)
            .field("max_batch_retries", &self.retries.max_retries)
            .field("sample_rate", &self.sampling.honeybadger)
            .field("compression", &self.retries.compression)
            .field("block_on_send", &self.queue.block_on_send)
            .field("before_event", &self.hooks.before_event.len())
            .finish_non_exhaustive()
    }
}
