//! Honeybadger Insights: `POST {endpoint}/v1/events`, NDJSON, `X-API-Key`.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

use super::http::{secret_header, Endpoint, HttpSender};
use super::policy::RetryPolicy;
use super::secret::Secret;
use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::encode::batch::{Batch, WireFormat};
use crate::error::ConfigError;

/// Sends NDJSON batches to Honeybadger Insights. 200 and 201 are success.
pub struct HoneybadgerSender {
    http: Arc<HttpSender<HbEndpoint>>,
}

pub(crate) struct HbEndpoint {
    url: String,
    headers: HeaderMap,
}

impl Endpoint for HbEndpoint {
    fn url(&self) -> &str {
        &self.url
    }
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn outcomes(&self, status: u16, _body: &[u8], n: usize) -> Vec<Outcome> {
        vec![Outcome::ok(Some(status)); n]
    }
}

impl std::fmt::Debug for HoneybadgerSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoneybadgerSender")
            .field("url", &self.http.endpoint.url)
            .finish_non_exhaustive()
    }
}

impl HoneybadgerSender {
    /// A sender for an API key and endpoint (`new(&config)`, in `config`,
    /// reads them from a [`Config`](crate::Config)).
    pub(crate) fn with_settings(
        api_key: Option<&Secret>,
        endpoint: &str,
        policy: RetryPolicy,
    ) -> Result<Self, ConfigError> {
        let key = api_key.ok_or(ConfigError::Invalid {
            setting: "api_key",
            reason: "the Honeybadger backend needs an API key".into(),
        })?;
        let mut headers = HeaderMap::new();
        headers.insert("X-API-Key", secret_header(key.expose(), "api_key")?);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        let endpoint = HbEndpoint {
            url: format!("{}/v1/events", endpoint.trim_end_matches('/')),
            headers,
        };
        let http = HttpSender::new(policy, endpoint)
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(HoneybadgerSender {
            http: Arc::new(http),
        })
    }
}

impl Sender for HoneybadgerSender {
    fn name(&self) -> &'static str {
        "honeybadger"
    }
    fn format(&self) -> WireFormat {
        WireFormat::Ndjson
    }
    fn destination(&self) -> Option<String> {
        self.http.destination()
    }
    fn send(&self, batch: Batch, ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        Box::pin(self.http.clone().deliver(batch, ctx))
    }
}
