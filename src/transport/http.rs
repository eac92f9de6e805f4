//! Delivery over HTTP, shared by the Honeybadger and Honeycomb senders:
//! compression, retries with exponential backoff and jitter, 429 with
//! `Retry-After`, 413 splitting, and the pause after 401/403. What to do
//! with each answer is decided by [`super::policy::classify`]; this module
//! only carries the decisions out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, RETRY_AFTER};

use super::compress::{compress, content_encoding};
use super::policy::{classify, parse_retry_after, Answer, Decision, RetryPolicy};
use super::{Outcome, SendContext};
use crate::encode::batch::Batch;
use crate::error::ConfigError;
use crate::model::response::DropReason;

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

/// An HTTP sender: one connection pool, a policy and an endpoint.
pub(crate) struct HttpSender<E> {
    pub(crate) client: reqwest::Client,
    pub(crate) policy: RetryPolicy,
    pub(crate) endpoint: E,
    /// The endpoint's URL, parsed once (parsing it for every request showed
    /// in profiles of small batches); `None` if it does not parse, and then
    /// each request reports why.
    url: Option<reqwest::Url>,
    /// Unix millis until which sending is paused after a 401/403.
    paused_until: AtomicU64,
}

impl<E: Endpoint> HttpSender<E> {
    pub(crate) fn new(policy: RetryPolicy, endpoint: E) -> Result<Self, reqwest::Error> {
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
        })
    }

    /// The endpoint, as warnings show it (see [`shown_url`]).
    pub(crate) fn destination(&self) -> Option<String> {
        self.url.as_ref().map(shown_url)
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
            let (answer, resp, error) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let answer = Answer::Status {
                        status,
                        retry_after,
                    };
                    (answer, Some(resp), format!("the backend answered {status}"))
                }
                Err(e) => (Answer::NoAnswer, None, describe(&e)),
            };
            let status = match answer {
                Answer::Status { status, .. } => Some(status),
                Answer::NoAnswer => None,
            };
            let jitter = rand::random::<f64>();
            match classify(answer, n, attempt, &self.policy, jitter) {
                Decision::Delivered => {
                    let bytes = match resp {
                        Some(r) => r.bytes().await.unwrap_or_default(),
                        None => Default::default(),
                    };
                    return self.endpoint.outcomes(status.unwrap_or(200), &bytes, n);
                }
                Decision::Throttled { wait } => {
                    drop(resp);
                    ctx.record_retry();
                    tokio::time::sleep(wait).await;
                }
                Decision::Split => {
                    let (a, b) = batch.split();
                    let left = Box::pin(self.clone().deliver(a, ctx.clone())).await;
                    let right = Box::pin(self.clone().deliver(b, ctx.clone())).await;
                    return left.into_iter().chain(right).collect();
                }
                Decision::TooLarge => {
                    return vec![Outcome::failed(
                        Some(413),
                        DropReason::TooLarge,
                        "the backend answered 413: event too large",
                    )];
                }
                Decision::Unauthorized { pause } => {
                    let until = now_millis() + pause.as_millis() as u64;
                    self.paused_until.store(until, Ordering::Relaxed);
                    // The core warns (once) of the events lost.
                    let msg = format!("{error}: check the API key");
                    return vec![Outcome::failed(status, DropReason::Unauthorized, msg); n];
                }
                Decision::Rejected => {
                    let text = match resp {
                        Some(r) => r.text().await.unwrap_or_default(),
                        None => String::new(),
                    };
                    // A body that echoes the request must not carry the key
                    // into responses and warnings.
                    let text = redact(&text, self.endpoint.headers());
                    let msg = format!("{error}: {}", truncate(&text, 200));
                    return vec![Outcome::failed(status, DropReason::Rejected, msg); n];
                }
                Decision::GiveUp => {
                    let msg = match self.policy.max_retries {
                        1 => format!("{error} (gave up after 1 retry)"),
                        n => format!("{error} (gave up after {n} retries)"),
                    };
                    return vec![Outcome::failed(None, DropReason::RetriesExhausted, msg); n];
                }
                Decision::Retry { wait } => {
                    // The answer (and its connection) is not held while
                    // waiting.
                    drop(resp);
                    attempt += 1;
                    ctx.record_retry();
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// `scheme://host:port/path`: what a person needs to recognise an
/// endpoint, without credentials, query or fragment.
pub(crate) fn shown_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
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

/// `text` with the value of every sensitive header (the key) replaced.
fn redact(text: &str, headers: &HeaderMap) -> String {
    let mut out = text.to_owned();
    for value in headers.values().filter(|v| v.is_sensitive()) {
        if let Ok(secret) = value.to_str() {
            if !secret.is_empty() && out.contains(secret) {
                out = out.replace(secret, "[REDACTED]");
            }
        }
    }
    out
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

/// Builds a header value from a secret, refusing characters HTTP forbids
/// (without echoing the secret).
pub(crate) fn secret_header(value: &str, name: &'static str) -> Result<HeaderValue, ConfigError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ConfigError::Invalid {
        setting: name,
        reason: "contains characters not allowed in an HTTP header".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_echoes_the_key_is_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("X-API-Key", secret_header("hbp_s3cret", "api_key").unwrap());
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-ndjson"),
        );
        assert_eq!(
            redact(
                "bad key hbp_s3cret in X-API-Key: hbp_s3cret (application/x-ndjson)",
                &headers
            ),
            "bad key [REDACTED] in X-API-Key: [REDACTED] (application/x-ndjson)"
        );
        assert_eq!(redact("no key here", &headers), "no key here");
    }

    #[test]
    fn a_shown_url_has_no_secret_query_or_fragment() {
        let rows = [
            (
                "http://127.0.0.1:18083/v1/events",
                "http://127.0.0.1:18083/v1/events",
            ),
            (
                "https://api.honeybadger.io/v1/events",
                "https://api.honeybadger.io:443/v1/events",
            ),
            (
                "http://user:hbp_secret@h.example/v1/events?api_key=hbp_secret#f",
                "http://h.example:80/v1/events",
            ),
            (
                "http://[::1]:8080/1/batch/ds",
                "http://[::1]:8080/1/batch/ds",
            ),
        ];
        for (url, want) in rows {
            let u = reqwest::Url::parse(url).unwrap();
            assert_eq!(shown_url(&u), want, "{url}");
        }
    }
}
