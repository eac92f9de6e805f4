//! Honeycomb: `POST {api_host}/1/batch/{dataset}`, a JSON array of
//! `{"data", "time", "samplerate"}`, `X-Honeycomb-Team`; the reply holds one
//! status per event.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde::Deserialize;

use super::batch::{Batch, WireFormat};
use super::http::{secret_header, Endpoint, HttpSender, Policy};
use super::stats::DropReason;
use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::config::{Config, ConfigError};

/// Sends batches to Honeycomb's batch API.
pub struct HoneycombSender {
    http: Arc<HttpSender<HcEndpoint>>,
}

pub(crate) struct HcEndpoint {
    url: String,
    headers: HeaderMap,
}

#[derive(Deserialize)]
struct ItemStatus {
    status: u16,
    #[serde(default)]
    error: Option<String>,
}

impl Endpoint for HcEndpoint {
    fn url(&self) -> &str {
        &self.url
    }
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn outcomes(&self, status: u16, body: &[u8], n: usize) -> Vec<Outcome> {
        match serde_json::from_slice::<Vec<ItemStatus>>(body) {
            Ok(items) if items.len() == n => items
                .into_iter()
                .map(|it| match it.status {
                    200..=299 => Outcome::ok(Some(it.status)),
                    s => {
                        let reason = if s == 413 {
                            DropReason::TooLarge
                        } else {
                            DropReason::Rejected
                        };
                        let msg = it
                            .error
                            .unwrap_or_else(|| format!("Honeycomb answered {s} for this event"));
                        Outcome::failed(Some(s), reason, msg)
                    }
                })
                .collect(),
            _ => vec![Outcome::ok(Some(status)); n],
        }
    }
}

impl std::fmt::Debug for HoneycombSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoneycombSender")
            .field("url", &self.http.endpoint.url)
            .finish_non_exhaustive()
    }
}

/// Percent-escapes a dataset name for the URL path.
fn escape_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl HoneycombSender {
    /// A sender for the write key, dataset and API host of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let key = config
            .honeycomb_write_key
            .as_ref()
            .ok_or(ConfigError::Invalid {
                setting: "honeycomb_write_key",
                reason: "the Honeycomb backend needs a write key".into(),
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-Honeycomb-Team",
            secret_header(key.expose(), "honeycomb_write_key")?,
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let url = format!(
            "{}/1/batch/{}",
            config.honeycomb_api_host.trim_end_matches('/'),
            escape_path_segment(&config.honeycomb_dataset)
        );
        let http = HttpSender::new(Policy::from_config(config), HcEndpoint { url, headers })
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(HoneycombSender {
            http: Arc::new(http),
        })
    }
}

impl Sender for HoneycombSender {
    fn name(&self) -> &'static str {
        "honeycomb"
    }
    fn format(&self) -> WireFormat {
        WireFormat::HoneycombBatch
    }
    fn send(&self, batch: Batch, ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        Box::pin(self.http.clone().deliver(batch, ctx))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dataset_is_escaped() {
        assert_eq!(super::escape_path_segment("my data/set"), "my%20data%2Fset");
    }
}
