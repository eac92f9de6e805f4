//! Delivery over HTTP, shared by the Honeybadger and Honeycomb senders:
//! compression, retries with exponential backoff and jitter, 429 with
//! `Retry-After`, 413 splitting, and the pause after 401/403.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, RETRY_AFTER};

use super::batch::Batch;
use super::compress::{compress, content_encoding};
use super::stats::DropReason;
use super::{Outcome, SendContext};
use crate::config::{Compression, Config};

/// `insights-events/<version>; rust/<version>; <target>`.
pub(crate) fn user_agent() -> String {
    format!(
        "insights-events/{}; rust/{}; {}",
        env!("CARGO_PKG_VERSION"),
        option_env!("INSIGHTS_EVENTS_RUSTC_VERSION").unwrap_or("unknown"),
        option_env!("INSIGHTS_EVENTS_TARGET").unwrap_or(std::env::consts::ARCH),
    )
}

/// What differs between HTTP backends.
pub(crate) trait Endpoint: Send + Sync + 'static {
    /// The URL batches are posted to.
    fn url(&self) -> &str;
    /// Backend-specific headers (key, content type).
    fn headers(&self) -> &HeaderMap;
    /// One outcome per event for a 2xx answer with this body.
    fn outcomes(&self, status: u16, body: &[u8], n: usize) -> Vec<Outcome>;
}

/// Retry and throttling policy, from the config.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) request_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) throttle_wait: Duration,
    pub(crate) compression: Compression,
}

impl Policy {
    pub(crate) fn from_config(c: &Config) -> Self {
        Policy {
            request_timeout: c.request_timeout,
            max_retries: c.max_batch_retries,
            backoff: c.retry_backoff,
            backoff_max: c.retry_backoff_max,
            throttle_wait: c.throttle_wait,
            compression: c.compression,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.backoff_max);
        // Full jitter between half and all of the delay.
        base.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}

/// An HTTP sender: one connection pool, a policy and an endpoint.
pub(crate) struct HttpSender<E> {
    pub(crate) client: reqwest::Client,
    pub(crate) policy: Policy,
    pub(crate) endpoint: E,
    /// The endpoint's URL, parsed once (parsing it for every request showed
    /// in profiles of small batches); `None` if it does not parse, and then
    /// each request reports why.
    url: Option<reqwest::Url>,
    /// Unix millis until which sending is paused after a 401/403.
    paused_until: AtomicU64,
    auth_warned: AtomicBool,
}

impl<E: Endpoint> HttpSender<E> {
    pub(crate) fn new(policy: Policy, endpoint: E) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent())
            .timeout(policy.request_timeout)
            .connect_timeout(policy.request_timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(16)
            .build()?;
        Ok(HttpSender {
            client,
            policy,
            url: reqwest::Url::parse(endpoint.url()).ok(),
            endpoint,
            paused_until: AtomicU64::new(0),
            auth_warned: AtomicBool::new(false),
        })
    }

    pub(crate) async fn deliver(self: Arc<Self>, batch: Batch, ctx: SendContext) -> Vec<Outcome> {
        let n = batch.len();
        if now_millis() < self.paused_until.load(Ordering::Relaxed) {
            return vec![
                Outcome::failed(
                    None,
                    DropReason::Unauthorized,
                    "sending paused: the backend refused the API key (401/403)"
                );
                n
            ];
        }
        let body = match compress(self.policy.compression, batch.body()) {
            Ok(b) => b,
            Err(e) => {
                return vec![
                    Outcome::failed(
                        None,
                        DropReason::Invalid,
                        format!("compression failed: {e}")
                    );
                    n
                ]
            }
        };
        let mut attempt = 0u32;
        loop {
            let req = match &self.url {
                Some(url) => self.client.post(url.clone()),
                None => self.client.post(self.endpoint.url()),
            };
            let mut req = req
                .headers(self.endpoint.headers().clone())
                .body(body.clone());
            if let Some(enc) = content_encoding(self.policy.compression) {
                req = req.header(CONTENT_ENCODING, enc);
            }
            let error = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match status {
                        200..=299 => {
                            let bytes = resp.bytes().await.unwrap_or_default();
                            return self.endpoint.outcomes(status, &bytes, n);
                        }
                        429 => {
                            let wait =
                                retry_after(resp.headers()).unwrap_or(self.policy.throttle_wait);
                            ctx.record_retry();
                            tokio::time::sleep(wait).await;
                            continue; // a throttle does not use up the retry budget
                        }
                        413 if n > 1 => {
                            let (a, b) = batch.split();
                            let left = Box::pin(self.clone().deliver(a, ctx.clone())).await;
                            let right = Box::pin(self.clone().deliver(b, ctx.clone())).await;
                            return left.into_iter().chain(right).collect();
                        }
                        413 => {
                            return vec![Outcome::failed(
                                Some(413),
                                DropReason::TooLarge,
                                "the backend answered 413: event too large",
                            )];
                        }
                        401 | 403 => {
                            let until = now_millis() + self.policy.throttle_wait.as_millis() as u64;
                            self.paused_until.store(until, Ordering::Relaxed);
                            if !self.auth_warned.swap(true, Ordering::Relaxed) {
                                tracing::warn!(status, "insights-events: the backend refused the API key; sending is paused (shown once)");
                            }
                            let msg = format!("the backend answered {status}: check the API key");
                            return vec![
                                Outcome::failed(
                                    Some(status),
                                    DropReason::Unauthorized,
                                    msg
                                );
                                n
                            ];
                        }
                        500..=599 => format!("the backend answered {status}"),
                        _ => {
                            let text = resp.text().await.unwrap_or_default();
                            let msg =
                                format!("the backend answered {status}: {}", truncate(&text, 200));
                            return vec![
                                Outcome::failed(Some(status), DropReason::Rejected, msg);
                                n
                            ];
                        }
                    }
                }
                Err(e) => describe(&e),
            };
            if attempt >= self.policy.max_retries {
                let msg = format!(
                    "{error} (gave up after {} retries)",
                    self.policy.max_retries
                );
                return vec![Outcome::failed(None, DropReason::RetriesExhausted, msg); n];
            }
            attempt += 1;
            ctx.record_retry();
            tokio::time::sleep(self.policy.backoff(attempt - 1)).await;
        }
    }
}

/// A transport error, described without the URL's query or any header.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    let mut msg = kind.to_owned();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// Builds a header value from a secret, refusing characters HTTP forbids
/// (without echoing the secret).
pub(crate) fn secret_header(
    value: &str,
    name: &'static str,
) -> Result<HeaderValue, crate::ConfigError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| crate::ConfigError::Invalid {
        setting: name,
        reason: "contains characters not allowed in an HTTP header".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}
