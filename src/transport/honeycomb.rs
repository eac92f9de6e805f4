//! Honeycomb: `POST {api_host}/1/batch/{dataset}`, a JSON array of
//! `{"data", "time", "samplerate"}`, `X-Honeycomb-Team`; the reply holds one
//! status per event.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde::Deserialize;

use super::http::{secret_header, Endpoint, HttpSender};
use super::policy::RetryPolicy;
use super::secret::Secret;
use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::encode::batch::{Batch, WireFormat};
use crate::error::ConfigError;
use crate::model::response::DropReason;

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
        if all_accepted(body, n) {
            return vec![Outcome::ok(Some(202)); n];
        }
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

/// Whether `body` is Honeycomb's answer when it accepted all `n` items,
/// exactly as it writes it: `[{"status":202},…]`, no spaces. The usual
/// answer is recognized without parsing it (500 items per batch); anything
/// else is parsed item by item.
fn all_accepted(body: &[u8], n: usize) -> bool {
    const ITEM: &[u8] = b"{\"status\":202}";
    let Some(items) = body.strip_prefix(b"[").and_then(|b| b.strip_suffix(b"]")) else {
        return false;
    };
    n > 0
        && items.len() == n * (ITEM.len() + 1) - 1
        && items
            .chunks(ITEM.len() + 1)
            .all(|c| c.starts_with(ITEM) && c.get(ITEM.len()).is_none_or(|&b| b == b','))
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
    /// A sender for a write key, dataset and API host (`new(&config)`, in
    /// `config`, reads them from a [`Config`](crate::Config)).
    pub(crate) fn with_settings(
        write_key: Option<&Secret>,
        dataset: &str,
        api_host: &str,
        policy: RetryPolicy,
    ) -> Result<Self, ConfigError> {
        let key = write_key.ok_or(ConfigError::Invalid {
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
            api_host.trim_end_matches('/'),
            escape_path_segment(dataset)
        );
        let http = HttpSender::new(policy, HcEndpoint { url, headers })
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
    fn destination(&self) -> Option<String> {
        self.http.destination()
    }
    fn send(&self, batch: Batch, ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        Box::pin(self.http.clone().deliver(batch, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(body: &str, n: usize) -> Vec<Outcome> {
        let ep = HcEndpoint {
            url: String::new(),
            headers: HeaderMap::new(),
        };
        ep.outcomes(200, body.as_bytes(), n)
    }

    #[test]
    fn the_all_accepted_answer_is_recognized_exactly() {
        assert!(all_accepted(br#"[{"status":202}]"#, 1));
        assert!(all_accepted(
            br#"[{"status":202},{"status":202},{"status":202}]"#,
            3
        ));
        // Wrong count, another status, a trailing comma, spaces: not it.
        assert!(!all_accepted(br#"[{"status":202},{"status":202}]"#, 3));
        assert!(!all_accepted(br#"[{"status":202},{"status":400}]"#, 2));
        assert!(!all_accepted(br#"[{"status":202},]"#, 1));
        assert!(!all_accepted(br#"[{"status":202}, {"status":202}]"#, 2));
        assert!(!all_accepted(b"[]", 0));
        assert!(!all_accepted(b"", 1));
    }

    #[test]
    fn per_item_statuses_are_outcomes_with_or_without_the_shortcut() {
        let all = outcomes(r#"[{"status":202},{"status":202}]"#, 2);
        assert_eq!(all.len(), 2);
        assert!(all
            .iter()
            .all(|o| o.reason.is_none() && o.status == Some(202)));
        // Spaces defeat the shortcut; the parse gives the same outcomes.
        let spaced = outcomes(r#"[ {"status": 202}, {"status": 202} ]"#, 2);
        assert!(spaced
            .iter()
            .all(|o| o.reason.is_none() && o.status == Some(202)));
        let mixed = outcomes(r#"[{"status":202},{"status":400,"error":"bad"}]"#, 2);
        assert!(mixed[0].reason.is_none());
        assert_eq!(mixed[1].reason, Some(DropReason::Rejected));
        assert_eq!(mixed[1].error.as_deref(), Some("bad"));
    }

    #[test]
    fn dataset_is_escaped() {
        assert_eq!(super::escape_path_segment("my data/set"), "my%20data%2Fset");
    }
}
