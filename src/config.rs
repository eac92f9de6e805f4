//! Client configuration: a builder, and [`Config::from_env`] with the
//! variable names honeybadger-python reads.
//!
//! Part of layer 7 (beside `client`); uses `core::settings`, `transport`,
//! `pipeline`, `model`, `error`. It turns a [`Config`] into the plain
//! settings each lower layer takes, so none of them sees `Config`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::core::settings::CoreSettings;
pub use crate::error::ConfigError;
use crate::model::event::Event;
use crate::model::fields::Fields;
use crate::pipeline::filter::ParamsFilter;
pub use crate::pipeline::prepare::BeforeEvent;
use crate::pipeline::prepare::Policy;
use crate::pipeline::sampling::Sampler;
pub use crate::transport::compress::Compression;
use crate::transport::honeybadger::HoneybadgerSender;
use crate::transport::honeycomb::HoneycombSender;
use crate::transport::policy::RetryPolicy;
pub use crate::transport::secret::Secret;
use crate::transport::Sender;

/// Default Honeybadger endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.honeybadger.io";
/// Default Honeycomb API host.
pub const DEFAULT_HONEYCOMB_API_HOST: &str = "https://api.honeycomb.io";
/// Largest event Honeybadger accepts, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 102_400;
/// Batches stay under this many bytes.
pub const MAX_BATCH_BYTES: usize = 5_000_000;

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
pub type DynamicField = Arc<dyn Fn() -> Value + Send + Sync>;

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
    pub(crate) backend: Backend,
    pub(crate) api_key: Option<Secret>,
    pub(crate) endpoint: String,
    pub(crate) honeycomb_write_key: Option<Secret>,
    pub(crate) honeycomb_dataset: String,
    pub(crate) honeycomb_api_host: String,
    pub(crate) batch_size: Option<usize>,
    pub(crate) batch_timeout: Option<Duration>,
    pub(crate) batch_max_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) max_queue_size: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) max_batch_retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) retry_backoff_max: Duration,
    pub(crate) throttle_wait: Duration,
    pub(crate) sample_rate: u32,
    pub(crate) honeycomb_sample_rate: u32,
    pub(crate) compression: Compression,
    pub(crate) block_on_send: bool,
    pub(crate) block_on_response: bool,
    pub(crate) response_queue_size: usize,
    pub(crate) drop_timeout: Duration,
    pub(crate) loss_summary_interval: Duration,
    pub(crate) params_filter: ParamsFilter,
    pub(crate) before_event: Vec<BeforeEvent>,
    pub(crate) fields: Fields,
    pub(crate) dynamic_fields: Vec<(String, DynamicField)>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("backend", &self.backend)
            .field("api_key", &self.api_key)
            .field("endpoint", &self.endpoint)
            .field("honeycomb_write_key", &self.honeycomb_write_key)
            .field("honeycomb_dataset", &self.honeycomb_dataset)
            .field("honeycomb_api_host", &self.honeycomb_api_host)
            .field("batch_size", &self.batch_size)
            .field("batch_timeout", &self.batch_timeout)
            .field("max_queue_size", &self.max_queue_size)
            .field("max_batch_retries", &self.max_batch_retries)
            .field("sample_rate", &self.sample_rate)
            .field("compression", &self.compression)
            .field("block_on_send", &self.block_on_send)
            .field("before_event", &self.before_event.len())
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $t:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $t) -> Self {
            self.$name = value;
            self
        }
    };
}

impl Config {
    /// Defaults: no keys (so the writer on stdout), queue of 10,000 events,
    /// honeybadger-python's batching (1,000 events or 5 s) and retries (3).
    pub fn new() -> Self {
        Config {
            backend: Backend::Auto,
            api_key: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            honeycomb_write_key: None,
            honeycomb_dataset: "insights-events".to_owned(),
            honeycomb_api_host: DEFAULT_HONEYCOMB_API_HOST.to_owned(),
            batch_size: None,
            batch_timeout: None,
            batch_max_bytes: MAX_BATCH_BYTES,
            max_event_bytes: MAX_EVENT_BYTES,
            max_queue_size: 10_000,
            max_in_flight: 4,
            request_timeout: Duration::from_secs(15),
            max_batch_retries: 3,
            retry_backoff: Duration::from_millis(500),
            retry_backoff_max: Duration::from_secs(30),
            throttle_wait: Duration::from_secs(60),
            sample_rate: 100,
            honeycomb_sample_rate: 1,
            compression: Compression::None,
            block_on_send: false,
            block_on_response: false,
            response_queue_size: 1_000,
            drop_timeout: Duration::from_secs(2),
            loss_summary_interval: Duration::from_secs(60),
            params_filter: ParamsFilter::default(),
            before_event: Vec::new(),
            fields: Fields::new(),
            dynamic_fields: Vec::new(),
        }
    }

    /// Reads the process environment (see [`Config::from_lookup`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup` (a variable name to its value):
    ///
    /// | variable | setting |
    /// |---|---|
    /// | `HONEYBADGER_API_KEY` | [`Config::api_key`] |
    /// | `HONEYBADGER_ENDPOINT` | [`Config::endpoint`] |
    /// | `HONEYBADGER_EVENTS_BATCH_SIZE` | [`Config::batch_size`] |
    /// | `HONEYBADGER_EVENTS_MAX_QUEUE_SIZE` | [`Config::max_queue_size`] |
    /// | `HONEYBADGER_EVENTS_TIMEOUT` (seconds) | [`Config::batch_timeout`] |
    /// | `HONEYBADGER_EVENTS_MAX_BATCH_RETRIES` | [`Config::max_batch_retries`] |
    /// | `HONEYBADGER_EVENTS_THROTTLE_WAIT` (seconds) | [`Config::throttle_wait`] |
    /// | `HONEYBADGER_EVENTS_SAMPLE_RATE` (0–100) | [`Config::sample_rate`] |
    /// | `HONEYCOMB_API_KEY` or `HONEYCOMB_WRITEKEY` | [`Config::honeycomb_write_key`] |
    /// | `HONEYCOMB_DATASET` | [`Config::honeycomb_dataset`] |
    /// | `HONEYCOMB_API_HOST` | [`Config::honeycomb_api_host`] |
    /// | `HONEYCOMB_SAMPLE_RATE` (1 in N) | [`Config::honeycomb_sample_rate`] |
    /// | `INSIGHTS_EVENTS_BACKEND` (`honeybadger`, `honeycomb`, `stdout`) | [`Config::backend`] |
    /// | `INSIGHTS_EVENTS_COMPRESSION` (`none`, `gzip`, `deflate`) | [`Config::compression`] |
    ///
    /// Unset or empty variables keep the default; a value that cannot be used
    /// is an error that names the variable.
    ///
    /// ```
    /// use insights_events::Config;
    /// let err = Config::from_lookup(|k| (k == "HONEYBADGER_EVENTS_SAMPLE_RATE").then(|| "150".into()))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("HONEYBADGER_EVENTS_SAMPLE_RATE"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let mut c = Config::new();
        if let Some(v) = get("HONEYBADGER_API_KEY") {
            c.api_key = Some(Secret::new(v.trim().to_owned()));
        }
        if let Some(v) = get("HONEYBADGER_ENDPOINT") {
            c.endpoint = base_url(Service::Honeybadger, &v)
                .map_err(|why| invalid_env("HONEYBADGER_ENDPOINT", &v, &why))?;
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_BATCH_SIZE") {
            c.batch_size = Some(parse_num(
                "HONEYBADGER_EVENTS_BATCH_SIZE",
                &v,
                1,
                1_000_000,
            )?);
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_MAX_QUEUE_SIZE") {
            c.max_queue_size = parse_num("HONEYBADGER_EVENTS_MAX_QUEUE_SIZE", &v, 1, 100_000_000)?;
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_TIMEOUT") {
            c.batch_timeout = Some(parse_secs("HONEYBADGER_EVENTS_TIMEOUT", &v)?);
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_MAX_BATCH_RETRIES") {
            c.max_batch_retries = parse_num("HONEYBADGER_EVENTS_MAX_BATCH_RETRIES", &v, 0, 100)?;
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_THROTTLE_WAIT") {
            c.throttle_wait = parse_secs("HONEYBADGER_EVENTS_THROTTLE_WAIT", &v)?;
        }
        if let Some(v) = get("HONEYBADGER_EVENTS_SAMPLE_RATE") {
            c.sample_rate = parse_num("HONEYBADGER_EVENTS_SAMPLE_RATE", &v, 0, 100)?;
        }
        if let Some(v) = get("HONEYCOMB_API_KEY").or_else(|| get("HONEYCOMB_WRITEKEY")) {
            c.honeycomb_write_key = Some(Secret::new(v.trim().to_owned()));
        }
        if let Some(v) = get("HONEYCOMB_DATASET") {
            c.honeycomb_dataset = v;
        }
        if let Some(v) = get("HONEYCOMB_API_HOST") {
            c.honeycomb_api_host = base_url(Service::Honeycomb, &v)
                .map_err(|why| invalid_env("HONEYCOMB_API_HOST", &v, &why))?;
        }
        if let Some(v) = get("HONEYCOMB_SAMPLE_RATE") {
            c.honeycomb_sample_rate = parse_num("HONEYCOMB_SAMPLE_RATE", &v, 1, u32::MAX as u64)?;
        }
        if let Some(v) = get("INSIGHTS_EVENTS_BACKEND") {
            c.backend = match v.trim().to_ascii_lowercase().as_str() {
                "auto" => Backend::Auto,
                "honeybadger" => Backend::Honeybadger,
                "honeycomb" => Backend::Honeycomb,
                "stdout" | "writer" => Backend::Stdout,
                _ => {
                    return Err(invalid_env(
                        "INSIGHTS_EVENTS_BACKEND",
                        &v,
                        "expected auto, honeybadger, honeycomb or stdout",
                    ))
                }
            };
        }
        if let Some(v) = get("INSIGHTS_EVENTS_COMPRESSION") {
            c.compression = match v.trim().to_ascii_lowercase().as_str() {
                "none" => Compression::None,
                "gzip" => Compression::Gzip,
                "deflate" => Compression::Deflate,
                "zstd" => Compression::Zstd,
                _ => {
                    return Err(invalid_env(
                        "INSIGHTS_EVENTS_COMPRESSION",
                        &v,
                        "expected none, gzip, deflate or zstd",
                    ))
                }
            };
        }
        Ok(c)
    }

    /// The Honeybadger project API key. Selects the Honeybadger backend
    /// (with [`Backend::Auto`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }

    /// The Honeybadger endpoint: the base URL (default
    /// `https://api.honeybadger.io`); events go to `{endpoint}/v1/events`.
    /// The full events URL (`…/v1/events`) is understood as its base; any
    /// other path, a query or a fragment is refused when the client is
    /// built, with an error saying what to write.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The Honeycomb write key. Selects the Honeycomb backend when no
    /// Honeybadger key is set (with [`Backend::Auto`]).
    pub fn honeycomb_write_key(mut self, key: impl Into<String>) -> Self {
        self.honeycomb_write_key = Some(Secret::new(key.into()));
        self
    }

    /// The Honeycomb dataset (default `insights-events`).
    pub fn honeycomb_dataset(mut self, dataset: impl Into<String>) -> Self {
        self.honeycomb_dataset = dataset.into();
        self
    }

    /// The Honeycomb API host (default `https://api.honeycomb.io`); events
    /// go to `{api_host}/1/batch/{dataset}`. A path (such as
    /// `/1/batch/<dataset>`), a query or a fragment is refused when the
    /// client is built: the dataset is [`Config::honeycomb_dataset`].
    pub fn honeycomb_api_host(mut self, url: impl Into<String>) -> Self {
        self.honeycomb_api_host = url.into();
        self
    }

    /// Events per batch (default 1,000 for Honeybadger, 500 for Honeycomb).
    ///
    /// libhoney sends Honeycomb batches of 50; with 500, a busy client makes
    /// a tenth of the requests, which is what bounds its throughput (1.9× the
    /// events per second on loopback, `BENCHMARKS.md`). A quiet client is
    /// not slowed: a batch also goes when its `batch_timeout` is up, and
    /// when it reaches `batch_max_bytes`.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n);
        self
    }

    /// How long a batch may wait for more events once it has one (default
    /// 5 s for Honeybadger, 100 ms for Honeycomb).
    pub fn batch_timeout(mut self, d: Duration) -> Self {
        self.batch_timeout = Some(d);
        self
    }

    setter!(
        /// The backend (default [`Backend::Auto`]).
        backend: Backend
    );
    setter!(
        /// Largest batch body in bytes (default and ceiling 5,000,000).
        batch_max_bytes: usize
    );
    setter!(
        /// Largest single event in bytes of JSON (default 102,400); larger
        /// events are rejected alone.
        max_event_bytes: usize
    );
    setter!(
        /// Capacity of the queue between callers and the worker (default
        /// 10,000 events). Each sending thread also gathers up to 32 events
        /// in a slot of its own before handing them to the queue in one go
        /// (the worker takes partial slots whenever the queue is empty, and
        /// on flush and close), so the bound is this plus 32 per thread.
        max_queue_size: usize
    );
    setter!(
        /// Batches in flight at once (default 4).
        max_in_flight: usize
    );
    setter!(
        /// Timeout of one HTTP request (default 15 s).
        request_timeout: Duration
    );
    setter!(
        /// Retries of a batch after 5xx, timeouts and connection errors (default 3).
        max_batch_retries: u32
    );
    setter!(
        /// First retry delay; it doubles each attempt, with jitter (default 500 ms).
        retry_backoff: Duration
    );
    setter!(
        /// Ceiling of the retry delay (default 30 s).
        retry_backoff_max: Duration
    );
    setter!(
        /// Wait after a 429 without `Retry-After`, and the pause after a 401/403 (default 60 s).
        throttle_wait: Duration
    );
    setter!(
        /// Honeybadger sample rate in percent, 0–100 (default 100: keep all).
        sample_rate: u32
    );
    setter!(
        /// Honeycomb sample rate, "one in N" (default 1: keep all).
        honeycomb_sample_rate: u32
    );
    setter!(
        /// Body compression (default none).
        compression: Compression
    );
    setter!(
        /// Block the caller when the queue is full instead of dropping the event.
        block_on_send: bool
    );
    setter!(
        /// Block the worker when the responses queue is full instead of dropping responses.
        block_on_response: bool
    );
    setter!(
        /// Capacity of the responses queue (default 1,000).
        response_queue_size: usize
    );
    setter!(
        /// Deadline for the flush done when the last client handle is dropped (default 2 s).
        drop_timeout: Duration
    );
    setter!(
        /// The shortest time between two summaries of lost events (default
        /// 60 s). The first event given up on for each reason (refused,
        /// unreachable backend, bad key, too large, invalid, queue full,
        /// closed) is warned about at once, naming the cause, the endpoint
        /// and the fix; later losses are counted and summarised (counts by
        /// reason) at most this often, and at close. Zero summarises every
        /// later loss.
        loss_summary_interval: Duration
    );
    setter!(
        /// The params filter (default: honeybadger-python's keys).
        params_filter: ParamsFilter
    );

    /// Replaces the filtered keys (an empty list turns filtering off).
    pub fn filter_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params_filter = ParamsFilter::new(keys);
        self
    }

    /// Adds a hook run on every event before it is sent (on the background
    /// worker). It may change the event, or return `false` to drop it. A hook
    /// that panics is contained and counted; the event goes on.
    pub fn before_event(
        mut self,
        hook: impl Fn(&mut Event) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.before_event.push(Arc::new(hook));
        self
    }

    /// Adds a client-wide field, merged under every event.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Adds a client-wide dynamic field: `f` runs when each event is sent.
    pub fn dynamic_field<V: Into<Value>>(
        mut self,
        key: impl Into<String>,
        f: impl Fn() -> V + Send + Sync + 'static,
    ) -> Self {
        self.dynamic_fields
            .push((key.into(), Arc::new(move || f().into())));
        self
    }

    pub(crate) fn backend_kind(&self) -> BackendKind {
        match &self.backend {
            Backend::Honeybadger => BackendKind::Honeybadger,
            Backend::Honeycomb => BackendKind::Honeycomb,
            Backend::Auto if self.api_key.is_some() => BackendKind::Honeybadger,
            Backend::Auto if self.honeycomb_write_key.is_some() => BackendKind::Honeycomb,
            _ => BackendKind::Other,
        }
    }

    pub(crate) fn effective_batch_size(&self) -> usize {
        self.batch_size.unwrap_or(match self.backend_kind() {
            BackendKind::Honeycomb => 500,
            _ => 1_000,
        })
    }

    pub(crate) fn effective_batch_timeout(&self) -> Duration {
        self.batch_timeout.unwrap_or(match self.backend_kind() {
            BackendKind::Honeycomb => Duration::from_millis(100),
            _ => Duration::from_secs(5),
        })
    }

    /// What the core needs of this configuration.
    pub(crate) fn core_settings(&self) -> CoreSettings {
        CoreSettings {
            max_queue_size: self.max_queue_size,
            response_queue_size: self.response_queue_size,
            block_on_send: self.block_on_send,
            block_on_response: self.block_on_response,
            batch_size: self.effective_batch_size(),
            batch_timeout: self.effective_batch_timeout(),
            batch_max_bytes: self.batch_max_bytes,
            max_event_bytes: self.max_event_bytes,
            max_in_flight: self.max_in_flight,
            drop_timeout: self.drop_timeout,
            loss_summary_interval: self.loss_summary_interval,
            policy: Policy {
                before_event: self.before_event.clone(),
                params_filter: self.params_filter.clone(),
                fields: self.fields.clone(),
            },
        }
    }

    /// The sampling scheme of the backend in use.
    pub(crate) fn sampler(&self) -> Sampler {
        match self.backend_kind() {
            BackendKind::Honeycomb => Sampler::Honeycomb {
                rate: self.honeycomb_sample_rate,
            },
            _ => Sampler::Honeybadger {
                rate: self.sample_rate,
            },
        }
    }

    /// The HTTP senders' retry and throttling settings.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            request_timeout: self.request_timeout,
            max_retries: self.max_batch_retries,
            backoff: self.retry_backoff,
            backoff_max: self.retry_backoff_max,
            throttle_wait: self.throttle_wait,
            compression: self.compression,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |setting, reason: &str| {
            Err(ConfigError::Invalid {
                setting,
                reason: reason.to_owned(),
            })
        };
        // Each reason names the value given (never a key's).
        if self.sample_rate > 100 {
            return bad(
                "sample_rate",
                &format!("{}: must be 0–100 (percent)", self.sample_rate),
            );
        }
        if self.honeycomb_sample_rate == 0 {
            return bad("honeycomb_sample_rate", "0: must be at least 1 (one in N)");
        }
        if self.max_queue_size == 0 {
            return bad("max_queue_size", "0: must be at least 1");
        }
        if self.effective_batch_size() == 0 {
            return bad("batch_size", "0: must be at least 1");
        }
        if self.max_in_flight == 0 {
            return bad("max_in_flight", "0: must be at least 1");
        }
        if self.batch_max_bytes == 0 || self.batch_max_bytes > MAX_BATCH_BYTES {
            return bad(
                "batch_max_bytes",
                &format!("{}: must be 1–5,000,000", self.batch_max_bytes),
            );
        }
        if self.max_event_bytes == 0 {
            return bad("max_event_bytes", "0: must be at least 1");
        }
        if self.response_queue_size == 0 {
            return bad("response_queue_size", "0: must be at least 1");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout", "0s: must be longer than zero");
        }
        if self.honeycomb_dataset.trim() != self.honeycomb_dataset
            || self.honeycomb_dataset.chars().any(char::is_control)
        {
            return bad(
                "honeycomb_dataset",
                &format!(
                    "{:?}: no leading or trailing spaces or control characters",
                    self.honeycomb_dataset
                ),
            );
        }
        for (setting, service, url) in [
            ("endpoint", Service::Honeybadger, &self.endpoint),
            (
                "honeycomb_api_host",
                Service::Honeycomb,
                &self.honeycomb_api_host,
            ),
        ] {
            if let Err(why) = base_url(service, url) {
                return Err(ConfigError::Invalid {
                    setting,
                    reason: format!("{url:?}: {why}"),
                });
            }
        }
        if self.compression == Compression::Zstd {
            if !cfg!(feature = "zstd") {
                return bad(
                    "compression",
                    "zstd: needs the `zstd` feature of insights-events",
                );
            }
            if self.backend_kind() != BackendKind::Honeycomb
                && !matches!(self.backend, Backend::Custom(_))
            {
                return bad(
                    "compression",
                    "zstd: only the Honeycomb backend takes it (Honeybadger: gzip or deflate)",
                );
            }
        }
        match self.backend {
            Backend::Honeybadger if self.api_key.is_none() => {
                bad("api_key", "the Honeybadger backend needs an API key")
            }
            Backend::Honeycomb if self.honeycomb_write_key.is_none() => bad(
                "honeycomb_write_key",
                "the Honeycomb backend needs a write key",
            ),
            Backend::Honeycomb | Backend::Auto if self.honeycomb_dataset.is_empty() => {
                bad("honeycomb_dataset", "must not be empty")
            }
            _ => Ok(()),
        }
    }
}

impl HoneybadgerSender {
    /// A sender for the key and endpoint of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let base = base_url(Service::Honeybadger, &config.endpoint).map_err(|why| {
            ConfigError::Invalid {
                setting: "endpoint",
                reason: format!("{:?}: {why}", config.endpoint),
            }
        })?;
        Self::with_settings(config.api_key.as_ref(), &base, config.retry_policy())
    }
}

impl HoneycombSender {
    /// A sender for the write key, dataset and API host of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let host = base_url(Service::Honeycomb, &config.honeycomb_api_host).map_err(|why| {
            ConfigError::Invalid {
                setting: "honeycomb_api_host",
                reason: format!("{:?}: {why}", config.honeycomb_api_host),
            }
        })?;
        Self::with_settings(
            config.honeycomb_write_key.as_ref(),
            &config.honeycomb_dataset,
            &host,
            config.retry_policy(),
        )
    }
}

fn invalid_env(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidEnv {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn parse_num<T: TryFrom<u64>>(
    var: &'static str,
    v: &str,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let n: u64 = v
        .trim()
        .parse()
        .map_err(|_| invalid_env(var, v, "expected a whole number"))?;
    if n < min || n > max {
        return Err(invalid_env(var, v, &format!("expected {min}–{max}")));
    }
    T::try_from(n).map_err(|_| invalid_env(var, v, "out of range"))
}

fn parse_secs(var: &'static str, v: &str) -> Result<Duration, ConfigError> {
    let s: f64 = v
        .trim()
        .parse()
        .map_err(|_| invalid_env(var, v, "expected a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&s) {
        return Err(invalid_env(var, v, "expected 0–86400 seconds"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// The services whose URL is a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    /// `HONEYBADGER_ENDPOINT`: events go to `<base>/v1/events`.
    Honeybadger,
    /// `HONEYCOMB_API_HOST`: events go to `<host>/1/batch/<dataset>`.
    Honeycomb,
}

/// The base URL events go under, from the URL given for `service`; or,
/// when it cannot be used, what to write instead. A Honeybadger endpoint
/// given as the full events URL (`…/v1/events`, with or without a
/// trailing slash) is understood as its base; any other path, a query or
/// a fragment is refused, for either service (a Honeycomb host with the
/// dataset in its path too: the dataset is its own setting, which the URL
/// would silently override).
fn base_url(service: Service, given: &str) -> Result<String, String> {
    let v = given.trim();
    let url = match reqwest::Url::parse(v) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            u
        }
        _ => return Err("not an http:// or https:// URL with a host".to_owned()),
    };
    let give = match service {
        Service::Honeybadger => "give the base URL, such as \"https://api.honeybadger.io\"; events are posted to <base>/v1/events",
        Service::Honeycomb => "give the host only, such as \"https://api.honeycomb.io\"; events are posted to <host>/1/batch/<HONEYCOMB_DATASET>",
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("no query or fragment: {give}"));
    }
    let path = url.path();
    if path.is_empty() || path == "/" {
        return Ok(v.trim_end_matches('/').to_owned());
    }
    match service {
        Service::Honeybadger if path.trim_end_matches('/') == "/v1/events" => {
            let mut base = url.clone();
            base.set_path("");
            Ok(base.as_str().trim_end_matches('/').to_owned())
        }
        Service::Honeycomb if path.starts_with("/1/batch/") || path.starts_with("/1/events/") => Err(
            "the dataset is its own setting: give the host only, such as \"https://api.honeycomb.io\", and the dataset in HONEYCOMB_DATASET (Config::honeycomb_dataset); events are posted to <host>/1/batch/<HONEYCOMB_DATASET>".to_owned(),
        ),
        _ => Err(give.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn reads_honeybadger_python_variables() {
        let c = env(&[
            ("HONEYBADGER_API_KEY", "hbp_secret"),
            ("HONEYBADGER_ENDPOINT", "http://127.0.0.1:9/"),
            ("HONEYBADGER_EVENTS_BATCH_SIZE", "10"),
            ("HONEYBADGER_EVENTS_MAX_QUEUE_SIZE", "20"),
            ("HONEYBADGER_EVENTS_TIMEOUT", "0.5"),
            ("HONEYBADGER_EVENTS_MAX_BATCH_RETRIES", "7"),
            ("HONEYBADGER_EVENTS_THROTTLE_WAIT", "2"),
            ("HONEYBADGER_EVENTS_SAMPLE_RATE", "25"),
        ])
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:9");
        assert_eq!(c.effective_batch_size(), 10);
        assert_eq!(c.max_queue_size, 20);
        assert_eq!(c.effective_batch_timeout(), Duration::from_millis(500));
        assert_eq!(c.max_batch_retries, 7);
        assert_eq!(c.throttle_wait, Duration::from_secs(2));
        assert_eq!(c.sample_rate, 25);
        assert_eq!(c.backend_kind(), BackendKind::Honeybadger);
        assert!(!format!("{c:?}").contains("hbp_secret"));
    }

    #[test]
    fn invalid_values_are_errors_naming_the_variable() {
        for (var, val) in [
            ("HONEYBADGER_EVENTS_BATCH_SIZE", "ten"),
            ("HONEYBADGER_EVENTS_BATCH_SIZE", "0"),
            ("HONEYBADGER_EVENTS_SAMPLE_RATE", "101"),
            ("HONEYBADGER_EVENTS_TIMEOUT", "-1"),
            ("HONEYBADGER_EVENTS_TIMEOUT", "NaN"),
            ("HONEYBADGER_ENDPOINT", "ftp://x"),
            ("INSIGHTS_EVENTS_BACKEND", "kafka"),
        ] {
            let err = env(&[(var, val)]).unwrap_err().to_string();
            assert!(err.contains(var), "{err}");
        }
    }

    #[test]
    fn defaults_follow_the_backend() {
        let c = env(&[]).unwrap();
        assert_eq!(c.backend_kind(), BackendKind::Other);
        assert_eq!(c.effective_batch_size(), 1000);
        assert_eq!(c.effective_batch_timeout(), Duration::from_secs(5));
        let c = env(&[("HONEYCOMB_API_KEY", "k")]).unwrap();
        assert_eq!(c.backend_kind(), BackendKind::Honeycomb);
        assert_eq!(c.effective_batch_size(), 500);
        assert_eq!(c.effective_batch_timeout(), Duration::from_millis(100));
    }

    /// A URL set in code is checked when the client is built, as one from
    /// the environment is: one line naming the setting and the value.
    #[test]
    fn urls_set_in_code_are_checked_when_the_client_is_built() {
        let rows: &[(&str, bool)] = &[
            ("https://api.honeybadger.io", true),
            ("http://127.0.0.1:9", true),
            ("http://[::1]:8080/", true),
            ("api.honeybadger.io", false),
            ("htp://127.0.0.1:1", false),
            ("http://[::1", false),
            ("", false),
            ("file:///tmp/x", false),
        ];
        for &(url, ok) in rows {
            let c = Config::new().api_key("hbp_secret_key").endpoint(url);
            let got = c.validate();
            assert_eq!(got.is_ok(), ok, "{url:?}: {got:?}");
            if let Err(e) = got {
                let text = e.to_string();
                assert!(
                    text.contains("endpoint") && text.contains(&format!("{url:?}")),
                    "{text}"
                );
                assert!(!text.contains("hbp_secret_key"), "{text}");
            }
            let hc = Config::new().honeycomb_api_host(url).validate();
            assert_eq!(hc.is_ok(), ok, "honeycomb_api_host {url:?}: {hc:?}");
        }
        assert!(Config::new()
            .request_timeout(Duration::ZERO)
            .validate()
            .is_err());
    }

    /// What each URL given for a service becomes, or why it is refused.
    #[test]
    fn base_url_table() {
        use Service::*;
        let ok = |s: &str| Ok::<String, &str>(s.to_owned());
        let rows: &[(Service, &str, Result<String, &str>)] = &[
            (Honeybadger, "https://api.honeybadger.io", ok("https://api.honeybadger.io")),
            (Honeybadger, " https://api.honeybadger.io/ ", ok("https://api.honeybadger.io")),
            (Honeybadger, "http://127.0.0.1:18083/v1/events", ok("http://127.0.0.1:18083")),
            (Honeybadger, "http://127.0.0.1:18083/v1/events/", ok("http://127.0.0.1:18083")),
            (Honeybadger, "https://api.honeybadger.io/v1/events", ok("https://api.honeybadger.io")),
            (Honeybadger, "http://[::1]:8080/v1/events", ok("http://[::1]:8080")),
            (Honeybadger, "http://127.0.0.1:18083/api", Err("give the base URL, such as \"https://api.honeybadger.io\"; events are posted to <base>/v1/events")),
            (Honeybadger, "http://127.0.0.1:18083/v1", Err("give the base URL")),
            (Honeybadger, "http://127.0.0.1:18083/v1/events/v1/events", Err("give the base URL")),
            (Honeybadger, "http://127.0.0.1:18083/v1/events?api_key=x", Err("no query or fragment: give the base URL")),
            (Honeybadger, "http://127.0.0.1:18083/#top", Err("no query or fragment")),
            (Honeybadger, "ftp://127.0.0.1", Err("not an http:// or https:// URL")),
            (Honeybadger, "api.honeybadger.io", Err("not an http:// or https:// URL")),
            (Honeycomb, "https://api.honeycomb.io/", ok("https://api.honeycomb.io")),
            (Honeycomb, "https://api.eu1.honeycomb.io", ok("https://api.eu1.honeycomb.io")),
            (Honeycomb, "https://api.honeycomb.io/1/batch/prod", Err("the dataset is its own setting: give the host only, such as \"https://api.honeycomb.io\", and the dataset in HONEYCOMB_DATASET")),
            (Honeycomb, "https://api.honeycomb.io/1/events/prod", Err("HONEYCOMB_DATASET")),
            (Honeycomb, "https://api.honeycomb.io/1/batch", Err("give the host only")),
            (Honeycomb, "https://api.honeycomb.io/v1/events", Err("give the host only")),
            (Honeycomb, "https://api.honeycomb.io/?x=1", Err("no query or fragment: give the host only")),
        ];
        for (i, (service, given, want)) in rows.iter().enumerate() {
            let got = base_url(*service, given);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "row {i}: {given}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "row {i}: {given}: {g}"),
                _ => panic!("row {i}: {given}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// A refused URL is refused from the environment (naming the variable)
    /// and from code when the client is built (naming the setting), with
    /// what to write; the full events URL is understood in both.
    #[test]
    fn an_endpoint_with_a_path_is_understood_or_refused_with_what_to_write() {
        let c = env(&[("HONEYBADGER_ENDPOINT", "http://127.0.0.1:18083/v1/events")]).unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:18083");
        let e = env(&[("HONEYBADGER_ENDPOINT", "http://127.0.0.1:18083/api")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid HONEYBADGER_ENDPOINT=\"http://127.0.0.1:18083/api\": give the base URL, such as \"https://api.honeybadger.io\"; events are posted to <base>/v1/events"
        );
        let e = env(&[(
            "HONEYCOMB_API_HOST",
            "https://api.honeycomb.io/1/batch/prod",
        )])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("HONEYCOMB_API_HOST") && e.contains("HONEYCOMB_DATASET"),
            "{e}"
        );
        let set = Config::new()
            .api_key("hbp_secret_key")
            .endpoint("http://127.0.0.1:1/v1/events/");
        assert!(set.validate().is_ok());
        assert!(HoneybadgerSender::new(&set).is_ok());
        let e = Config::new()
            .api_key("hbp_secret_key")
            .endpoint("http://127.0.0.1:1/api")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("endpoint") && e.contains("give the base URL"),
            "{e}"
        );
        assert!(!e.contains("hbp_secret_key"));
        let e = Config::new()
            .honeycomb_api_host("https://api.honeycomb.io/1/batch/prod")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("honeycomb_api_host") && e.contains("HONEYCOMB_DATASET"),
            "{e}"
        );
    }

    /// Every out-of-range setting is refused when the client is built, with
    /// one line naming the setting and the value, never the key.
    #[test]
    fn out_of_range_settings_name_the_setting_and_the_value() {
        let base = || Config::new().api_key("hbp_secret_key");
        let rows: Vec<(Config, &str, &str)> = vec![
            (base().sample_rate(150), "sample_rate", "150"),
            (
                base().honeycomb_sample_rate(0),
                "honeycomb_sample_rate",
                "0",
            ),
            (base().max_queue_size(0), "max_queue_size", "0"),
            (base().batch_size(0), "batch_size", "0"),
            (base().max_in_flight(0), "max_in_flight", "0"),
            (base().batch_max_bytes(0), "batch_max_bytes", "0"),
            (
                base().batch_max_bytes(6_000_000),
                "batch_max_bytes",
                "6000000",
            ),
            (base().max_event_bytes(0), "max_event_bytes", "0"),
            (base().response_queue_size(0), "response_queue_size", "0"),
            (
                base().request_timeout(Duration::ZERO),
                "request_timeout",
                "0s",
            ),
            (
                base().honeycomb_dataset(" spaced "),
                "honeycomb_dataset",
                "\" spaced \"",
            ),
            (
                base().honeycomb_dataset("a\nb"),
                "honeycomb_dataset",
                "\"a\\nb\"",
            ),
        ];
        for (config, setting, value) in rows {
            let e = config.validate().expect_err(setting);
            let text = e.to_string();
            assert!(text.contains(setting), "{text}");
            assert!(text.contains(value), "{setting}: {text}");
            assert!(!text.contains("hbp_secret_key"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
        assert!(base().honeycomb_dataset("my dataset").validate().is_ok());
    }
}
