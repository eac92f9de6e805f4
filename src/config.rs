//! Client configuration: a builder, and [`Config::from_env`] with the
//! variable names honeybadger-python reads.
//!
//! Each setting is declared once, in `config::settings`: its variable, its
//! default, how the variable is read and the check its value passes. This
//! module holds the public setters, reads the environment and checks a
//! configuration through those declarations, and turns a [`Config`] into
//! the plain settings each lower layer takes (`CoreSettings`, `RetryPolicy`,
//! `Sampler`), so none of them sees `Config`.
//!
//! Layer 7, beside `client`; imports nothing of `client`.

mod settings;
mod url;
mod values;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::core::settings::CoreSettings;
pub use crate::error::ConfigError;
use crate::model::event::Event;
use crate::pipeline::filter::ParamsFilter;
use crate::pipeline::sampling::Sampler;
pub use crate::transport::compress::Compression;
use crate::transport::honeybadger::HoneybadgerSender;
use crate::transport::honeycomb::HoneycombSender;
use crate::transport::policy::RetryPolicy;
pub use crate::transport::secret::Secret;
use settings::{BATCH_SIZE, BATCH_TIMEOUT};
pub use settings::{
    DEFAULT_ENDPOINT, DEFAULT_HONEYCOMB_API_HOST, MAX_BATCH_BYTES, MAX_EVENT_BYTES,
};
use url::{base_url, Service};
pub(crate) use values::BackendKind;
pub use values::{Backend, Config, DynamicField};

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// A public setter: `name(arg: Type) => group.field = value`.
macro_rules! setter {
    ($(#[$doc:meta])* $name:ident($arg:ident: $t:ty) => $($part:ident).+ = $value:expr) => {
        $(#[$doc])*
        pub fn $name(mut self, $arg: $t) -> Self {
            self.$($part).+ = $value;
            self
        }
    };
}

impl Config {
    /// The declared defaults (the table in [`Config::from_lookup`]): no
    /// keys, so the writer on stdout.
    pub fn new() -> Self {
        let mut config = Config::placeholder();
        for setting in settings::all() {
            setting.reset(&mut config);
        }
        config
    }

    /// Reads the process environment (see [`Config::from_lookup`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup` (a variable name to its value): the
    /// variables honeybadger-python reads (`HONEYBADGER_API_KEY`,
    /// `HONEYBADGER_ENDPOINT`, `HONEYBADGER_EVENTS_*`), libhoney's
    /// (`HONEYCOMB_*`) and `INSIGHTS_EVENTS_BACKEND`,
    /// `INSIGHTS_EVENTS_COMPRESSION`:
    ///
    /// | group | setting | environment variable | default |
    /// |---|---|---|---|
    /// | where events go | `backend` | `INSIGHTS_EVENTS_BACKEND` (`auto`, `honeybadger`, `honeycomb`, `stdout`, `writer`) | `auto` |
    /// |  | `api_key` | `HONEYBADGER_API_KEY` | none (then the writer on stdout) |
    /// |  | `endpoint` | `HONEYBADGER_ENDPOINT` | `https://api.honeybadger.io` |
    /// |  | `honeycomb_write_key` | `HONEYCOMB_API_KEY` or `HONEYCOMB_WRITEKEY` | none |
    /// |  | `honeycomb_dataset` | `HONEYCOMB_DATASET` | `insights-events` |
    /// |  | `honeycomb_api_host` | `HONEYCOMB_API_HOST` | `https://api.honeycomb.io` |
    /// | batching | `batch_size` | `HONEYBADGER_EVENTS_BATCH_SIZE` | 1,000 (Honeycomb: 500) |
    /// |  | `batch_timeout` | `HONEYBADGER_EVENTS_TIMEOUT` (seconds) | 5 s (Honeycomb: 100 ms) |
    /// |  | `batch_max_bytes` |  | 5,000,000 |
    /// |  | `max_event_bytes` |  | 102,400 |
    /// |  | `max_in_flight` |  | 4 |
    /// | requests and retries | `request_timeout` |  | 15 s |
    /// |  | `max_batch_retries` | `HONEYBADGER_EVENTS_MAX_BATCH_RETRIES` | 3 |
    /// |  | `retry_backoff` |  | 500 ms |
    /// |  | `retry_backoff_max` |  | 30 s |
    /// |  | `throttle_wait` | `HONEYBADGER_EVENTS_THROTTLE_WAIT` (seconds) | 60 s |
    /// |  | `compression` | `INSIGHTS_EVENTS_COMPRESSION` (`none`, `gzip`, `deflate`, `zstd`; `zstd` for Honeycomb only, with the `zstd` feature) | `none` |
    /// | sampling | `sample_rate` | `HONEYBADGER_EVENTS_SAMPLE_RATE` (0–100) | 100 |
    /// |  | `honeycomb_sample_rate` | `HONEYCOMB_SAMPLE_RATE` (1 in N) | 1 |
    /// | queues | `max_queue_size` | `HONEYBADGER_EVENTS_MAX_QUEUE_SIZE` | 10,000 |
    /// |  | `block_on_send` |  | false |
    /// |  | `block_on_response` |  | false |
    /// |  | `response_queue_size` |  | 1,000 |
    /// |  | `drop_timeout` |  | 2 s |
    /// | hooks and filters | `filter_keys` |  | `password`, `password_confirmation`, `credit_card`, `CSRF_COOKIE` |
    /// | loss reporting | `loss_summary_interval` |  | 60 s |
    ///
    /// Unset or empty variables keep the default; a value that cannot be used
    /// is an error that names the variable and the value (never a key's).
    ///
    /// ```
    /// use insights_events::Config;
    /// let err = Config::from_lookup(|k| (k == "HONEYBADGER_EVENTS_SAMPLE_RATE").then(|| "150".into()))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("HONEYBADGER_EVENTS_SAMPLE_RATE"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Config::new();
        for setting in settings::all() {
            let found = setting.vars().iter().find_map(|&var| {
                let text = lookup(var).filter(|v| !v.trim().is_empty())?;
                Some((var, text))
            });
            if let Some((var, text)) = found {
                setting
                    .read(&mut config, &text)
                    .map_err(|reason| ConfigError::InvalidEnv {
                        var,
                        value: text,
                        reason,
                    })?;
            }
        }
        Ok(config)
    }

    setter!(
        /// The backend (default [`Backend::Auto`]).
        backend(backend: Backend) => destination.backend = backend
    );
    setter!(
        /// The Honeybadger project API key. Selects the Honeybadger backend
        /// (with [`Backend::Auto`]).
        api_key(key: impl Into<String>) => destination.api_key = Some(Secret::new(key.into()))
    );
    setter!(
        /// The Honeybadger endpoint: the base URL (default
        /// `https://api.honeybadger.io`); events go to `{endpoint}/v1/events`.
        /// The full events URL (`…/v1/events`) is understood as its base; any
        /// other path, a query or a fragment is refused when the client is
        /// built, with an error saying what to write.
        endpoint(url: impl Into<String>) => destination.endpoint = url.into()
    );
    setter!(
        /// The Honeycomb write key. Selects the Honeycomb backend when no
        /// Honeybadger key is set (with [`Backend::Auto`]).
        honeycomb_write_key(key: impl Into<String>) =>
            destination.honeycomb_write_key = Some(Secret::new(key.into()))
    );
    setter!(
        /// The Honeycomb dataset (default `insights-events`).
        honeycomb_dataset(dataset: impl Into<String>) =>
            destination.honeycomb_dataset = dataset.into()
    );
    setter!(
        /// The Honeycomb API host (default `https://api.honeycomb.io`); events
        /// go to `{api_host}/1/batch/{dataset}`. A path (such as
        /// `/1/batch/<dataset>`), a query or a fragment is refused when the
        /// client is built: the dataset is [`Config::honeycomb_dataset`].
        honeycomb_api_host(url: impl Into<String>) =>
            destination.honeycomb_api_host = url.into()
    );
    setter!(
        /// Events per batch (default 1,000 for Honeybadger, 500 for Honeycomb).
        ///
        /// libhoney sends Honeycomb batches of 50; with 500, a busy client makes
        /// a tenth of the requests, which is what bounds its throughput (1.9× the
        /// events per second on loopback, `BENCHMARKS.md`). A quiet client is
        /// not slowed: a batch also goes when its `batch_timeout` is up, and
        /// when it reaches `batch_max_bytes`.
        batch_size(n: usize) => batching.size = Some(n)
    );
    setter!(
        /// How long a batch may wait for more events once it has one (default
        /// 5 s for Honeybadger, 100 ms for Honeycomb).
        batch_timeout(d: Duration) => batching.timeout = Some(d)
    );
    setter!(
        /// Largest batch body in bytes (default and ceiling 5,000,000).
        batch_max_bytes(n: usize) => batching.max_bytes = n
    );
    setter!(
        /// Largest single event in bytes of JSON (default 102,400); larger
        /// events are rejected alone.
        max_event_bytes(n: usize) => batching.max_event_bytes = n
    );
    setter!(
        /// Batches in flight at once (default 4).
        max_in_flight(n: usize) => batching.max_in_flight = n
    );
    setter!(
        /// Timeout of one HTTP request (default 15 s).
        request_timeout(d: Duration) => retries.request_timeout = d
    );
    setter!(
        /// Retries of a batch after 5xx, timeouts and connection errors (default 3).
        max_batch_retries(n: u32) => retries.max_retries = n
    );
    setter!(
        /// First retry delay; it doubles each attempt, with jitter (default 500 ms).
        retry_backoff(d: Duration) => retries.backoff = d
    );
    setter!(
        /// Ceiling of the retry delay (default 30 s).
        retry_backoff_max(d: Duration) => retries.backoff_max = d
    );
    setter!(
        /// Wait after a 429 without `Retry-After`, and the pause after a 401/403 (default 60 s).
        throttle_wait(d: Duration) => retries.throttle_wait = d
    );
    setter!(
        /// Body compression (default none).
        compression(c: Compression) => retries.compression = c
    );
    setter!(
        /// Honeybadger sample rate in percent, 0–100 (default 100: keep all).
        sample_rate(rate: u32) => sampling.honeybadger = rate
    );
    setter!(
        /// Honeycomb sample rate, "one in N" (default 1: keep all).
        honeycomb_sample_rate(rate: u32) => sampling.honeycomb = rate
    );
    setter!(
        /// Capacity of the queue between callers and the worker (default
        /// 10,000 events). Each sending thread also gathers up to 32 events
        /// in a slot of its own before handing them to the queue in one go
        /// (the worker takes partial slots whenever the queue is empty, and
        /// on flush and close), so the bound is this plus 32 per thread.
        max_queue_size(n: usize) => queue.max_size = n
    );
    setter!(
        /// Block the caller when the queue is full instead of dropping the event.
        block_on_send(block: bool) => queue.block_on_send = block
    );
    setter!(
        /// Block the worker when the responses queue is full instead of dropping responses.
        block_on_response(block: bool) => queue.block_on_response = block
    );
    setter!(
        /// Capacity of the responses queue (default 1,000).
        response_queue_size(n: usize) => queue.response_size = n
    );
    setter!(
        /// Deadline for the flush done when the last client handle is dropped (default 2 s).
        drop_timeout(d: Duration) => queue.drop_timeout = d
    );
    setter!(
        /// The params filter (default: honeybadger-python's keys).
        params_filter(filter: ParamsFilter) => hooks.params_filter = filter
    );
    setter!(
        /// The shortest time between two summaries of lost events (default
        /// 60 s). The first event given up on for each reason (refused,
        /// unreachable backend, bad key, too large, invalid, queue full,
        /// closed) is warned about at once, naming the cause, the endpoint
        /// and the fix; later losses are counted and summarised (counts by
        /// reason) at most this often, and at close. Zero summarises every
        /// later loss.
        loss_summary_interval(d: Duration) => loss.summary_interval = d
    );

    /// Replaces the filtered keys (an empty list turns filtering off).
    pub fn filter_keys<I, S>(self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params_filter(ParamsFilter::new(keys))
    }

    /// Adds a hook run on every event before it is sent (on the background
    /// worker). It may change the event, or return `false` to drop it. A hook
    /// that panics is contained and counted; the event goes on.
    pub fn before_event(
        mut self,
        hook: impl Fn(&mut Event) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before_event.push(Arc::new(hook));
        self
    }

    /// Adds a client-wide field, merged under every event.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.hooks.fields.insert(key.into(), value.into());
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

    pub(crate) fn effective_batch_size(&self) -> usize {
        (self.batching.size).unwrap_or(BATCH_SIZE.get(self.backend_kind()))
    }

    pub(crate) fn effective_batch_timeout(&self) -> Duration {
        (self.batching.timeout).unwrap_or(BATCH_TIMEOUT.get(self.backend_kind()))
    }

    /// What the core needs of this configuration.
    pub(crate) fn core_settings(&self) -> CoreSettings {
        CoreSettings {
            max_queue_size: self.queue.max_size,
            response_queue_size: self.queue.response_size,
            block_on_send: self.queue.block_on_send,
            block_on_response: self.queue.block_on_response,
            batch_size: self.effective_batch_size(),
            batch_timeout: self.effective_batch_timeout(),
            batch_max_bytes: self.batching.max_bytes,
            max_event_bytes: self.batching.max_event_bytes,
            max_in_flight: self.batching.max_in_flight,
            drop_timeout: self.queue.drop_timeout,
            loss_summary_interval: self.loss.summary_interval,
            policy: self.hooks.clone(),
        }
    }

    /// The sampling scheme of the backend in use.
    pub(crate) fn sampler(&self) -> Sampler {
        match self.backend_kind() {
            BackendKind::Honeycomb => Sampler::Honeycomb {
                rate: self.sampling.honeycomb,
            },
            _ => Sampler::Honeybadger {
                rate: self.sampling.honeybadger,
            },
        }
    }

    /// The HTTP senders' retry and throttling settings.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.retries.clone()
    }

    /// The checks at `Client::new`: each setting's declared check (the
    /// error names the setting and the value, never a key), then the rules
    /// that join settings.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for setting in settings::all() {
            setting.check(self).map_err(|reason| ConfigError::Invalid {
                setting: setting.name(),
                reason,
            })?;
        }
        self.check_together()
            .map_err(|(setting, reason)| ConfigError::Invalid {
                setting,
                reason: reason.to_owned(),
            })
    }

    /// The rules that join settings: the backend's keys and dataset, and
    /// the compression the backend takes.
    fn check_together(&self) -> Result<(), (&'static str, &'static str)> {
        let d = &self.destination;
        if self.retries.compression == Compression::Zstd {
            if !cfg!(feature = "zstd") {
                return Err((
                    "compression",
                    "zstd: needs the `zstd` feature of insights-events",
                ));
            }
            if self.backend_kind() != BackendKind::Honeycomb
                && !matches!(d.backend, Backend::Custom(_))
            {
                return Err((
                    "compression",
                    "zstd: only the Honeycomb backend takes it (Honeybadger: gzip or deflate)",
                ));
            }
        }
        match d.backend {
            Backend::Honeybadger if d.api_key.is_none() => {
                Err(("api_key", "the Honeybadger backend needs an API key"))
            }
            Backend::Honeycomb if d.honeycomb_write_key.is_none() => Err((
                "honeycomb_write_key",
                "the Honeycomb backend needs a write key",
            )),
            Backend::Honeycomb | Backend::Auto if d.honeycomb_dataset.is_empty() => {
                Err(("honeycomb_dataset", "must not be empty"))
            }
            _ => Ok(()),
        }
    }
}

impl HoneybadgerSender {
    /// A sender for the key and endpoint of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let d = &config.destination;
        let base =
            base_url(Service::Honeybadger, &d.endpoint).map_err(|why| ConfigError::Invalid {
                setting: "endpoint",
                reason: format!("{:?}: {why}", d.endpoint),
            })?;
        Self::with_settings(d.api_key.as_ref(), &base, config.retry_policy())
    }
}

impl HoneycombSender {
    /// A sender for the write key, dataset and API host of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let d = &config.destination;
        let host = base_url(Service::Honeycomb, &d.honeycomb_api_host).map_err(|why| {
            ConfigError::Invalid {
                setting: "honeycomb_api_host",
                reason: format!("{:?}: {why}", d.honeycomb_api_host),
            }
        })?;
        Self::with_settings(
            d.honeycomb_write_key.as_ref(),
            &d.honeycomb_dataset,
            &host,
            config.retry_policy(),
        )
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

    /// A setter's doc that gives a default gives the declared one (each
    /// word and number of the README's default column).
    #[test]
    fn setter_docs_give_the_declared_defaults() {
        let source = include_str!("config.rs");
        let lines: Vec<&str> = source.lines().collect();
        for setting in settings::all() {
            let name = setting.name();
            let at = lines
                .iter()
                .position(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("{name}(")) || l.starts_with(&format!("pub fn {name}"))
                })
                .unwrap_or_else(|| panic!("no setter `{name}` in src/config.rs"));
            let doc: String = lines[..at]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with("///") || l.starts_with("setter!("))
                .filter(|l| l.starts_with("///"))
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if !doc.contains("default") {
                continue;
            }
            let shown = setting.row()[2].to_lowercase();
            for word in shown.split_whitespace() {
                let word = word.trim_matches(|c: char| "`():".contains(c));
                assert!(
                    doc.contains(word),
                    "the doc of Config::{name} says a default, but not the declared {shown:?} ({word:?} missing)"
                );
            }
        }
    }

    /// Every declared variable but the keys refuses a value it cannot
    /// use, naming the variable and the value; a key takes any text and
    /// never shows it.
    #[test]
    fn every_variable_refuses_what_it_cannot_use() {
        let keys = [
            "HONEYBADGER_API_KEY",
            "HONEYCOMB_API_KEY",
            "HONEYCOMB_WRITEKEY",
        ];
        let mut seen = 0;
        for setting in settings::all() {
            for &var in setting.vars() {
                seen += 1;
                let got = env(&[(var, " xyzzy\u{7} ")]);
                if keys.contains(&var) {
                    assert!(!format!("{:?}", got.expect(var)).contains("xyzzy"), "{var}");
                    continue;
                }
                let e = got.expect_err(var).to_string();
                assert!(
                    e.starts_with(&format!("invalid {var}=\" xyzzy\\u{{7}} \": ")),
                    "{e}"
                );
            }
        }
        assert_eq!(seen, 15);
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
        assert_eq!(c.destination.endpoint, "http://127.0.0.1:9");
        assert_eq!(c.effective_batch_size(), 10);
        assert_eq!(c.queue.max_size, 20);
        assert_eq!(c.effective_batch_timeout(), Duration::from_millis(500));
        assert_eq!(c.retries.max_retries, 7);
        assert_eq!(c.retries.throttle_wait, Duration::from_secs(2));
        assert_eq!(c.sampling.honeybadger, 25);
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
        assert_eq!(c.destination.endpoint, "http://127.0.0.1:18083");
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
