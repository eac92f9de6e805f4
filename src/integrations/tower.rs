//! A `tower` layer for HTTP services: one `tower.request` event per
//! request, and the event context open for the whole request.
//!
//! ```
//! use axum::{routing::get, Router};
//! use insights_events::integrations::tower::InsightsLayer;
//!
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "hi" }))
//!     .route("/health", get(|| async { "ok" }))
//!     // Through the global client (`insights_events::init`); use
//!     // `client.tower_layer()` for a client of your own.
//!     .layer(InsightsLayer::new().skip_path("/health").include_params(true));
//! ```
//!
//! Per request, the layer takes the request id from `X-Request-ID` (or the
//! header set with [`InsightsLayer::request_id_header`]), or makes a
//! UUIDv4 and sets it on the request; sets it on the response; and runs
//! the service's future inside the event context `{"request_id": id}` (and
//! a tracing span `request` with the same field), so
//! every event sent while handling the request (typed, hand-built, or from
//! the tracing layer) carries it, across `.await`s and worker threads. When
//! the response is ready it sends a [`TowerRequest`]: `method`, `path`,
//! `status`, `duration` (milliseconds), `request_id`, the matched `route`
//! (axum's `MatchedPath`, with the `axum` feature, or
//! [`InsightsLayer::route_with`]) and, when enabled, `params` (the query
//! string, through the client's params filters), sent in the request's
//! event context (so fields a handler added with `context::set` are on
//! it). A service error or a panicking handler still produces its event
//! (status 500, the panic then goes on); a response future dropped before
//! it finished produces one too (status 499, `disconnected: true`): the
//! client hung up, or an outer timeout or cancellation dropped it. The
//! context follows the request's future across `.await`s and a
//! multi-thread runtime's workers; a task it spawns takes it along with
//! `in_current_context()` (see [`crate::context`]).
//!
//! With the `tracing` feature, a person is told when a filter keeps the
//! request span from the tracing layer. Events go to the `Destination` of
//! the client that made the layer, or through `Event::send()` (the method
//! the client layer gives `Event`) to the global client.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::HeaderName;
use http::{HeaderValue, Request, Response};
use serde_json::{Map, Value};
use tracing::instrument::{Instrument, Instrumented};

use crate::model::event::{Destination, Event};
use crate::model::fields::SharedFields;
use crate::pipeline::context::{with_layer, FutureExt, WithContext};
use crate::schema::generated::rust::TowerRequest;

/// How a route template is read from a request's extensions.
pub type RouteFn = fn(&http::Extensions) -> Option<String>;

/// The layer (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct InsightsLayer {
    settings: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    destination: Option<Arc<dyn Destination>>,
    header: HeaderName,
    include_params: bool,
    skip: Vec<String>,
    route: Option<RouteFn>,
}

impl std::fmt::Debug for InsightsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.settings;
        f.debug_struct("InsightsLayer")
            .field("global_client", &s.destination.is_none())
            .field("header", &s.header)
            .field("include_params", &s.include_params)
            .field("skip", &s.skip)
            .finish_non_exhaustive()
    }
}

impl Default for InsightsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl InsightsLayer {
    /// A layer whose events go through the global client, which
    /// [`init`](crate::init) sets; without one its events are dropped (the
    /// first drop is told once). `client.tower_layer()` makes a layer that
    /// sends through `client`.
    pub fn new() -> Self {
        Self::to(None)
    }

    /// A layer whose events go to `destination` (`None`: the global client).
    pub(crate) fn to(destination: Option<Arc<dyn Destination>>) -> Self {
        InsightsLayer {
            settings: Arc::new(Settings {
                destination,
                header: HeaderName::from_static("x-request-id"),
                include_params: false,
                skip: Vec::new(),
                route: default_route(),
            }),
        }
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// The header the request id is read from and written to (default
    /// `X-Request-ID`).
    pub fn request_id_header(mut self, header: HeaderName) -> Self {
        self.settings_mut().header = header;
        self
    }

    /// Adds the parsed query string as `params` (honeybadger-python's
    /// `include_params`; off by default). The client's params filters
    /// scrub it.
    pub fn include_params(mut self, include: bool) -> Self {
        self.settings_mut().include_params = include;
        self
    }

    /// Sends no event for requests to exactly this path (health checks).
    /// The request id and the event context are still set.
    pub fn skip_path(mut self, path: impl Into<String>) -> Self {
        self.settings_mut().skip.push(path.into());
        self
    }

    /// How the matched route template is found in a request's extensions
    /// (with the `axum` feature, axum's `MatchedPath` by default).
    pub fn route_with(mut self, route: RouteFn) -> Self {
        self.settings_mut().route = Some(route);
        self
    }
}

#[cfg(feature = "axum")]
fn default_route() -> Option<RouteFn> {
    Some(|ext| {
        ext.get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().to_owned())
    })
}

#[cfg(not(feature = "axum"))]
fn default_route() -> Option<RouteFn> {
    None
}

impl<S> tower_layer::Layer<S> for InsightsLayer {
    type Service = InsightsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InsightsService {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service the layer wraps around yours.
#[derive(Clone)]
pub struct InsightsService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> std::fmt::Debug for InsightsService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InsightsService").finish_non_exhaustive()
    }
}

impl<S, B, ResB> tower_service::Service<Request<B>> for InsightsService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResB>>,
    S::Error: std::fmt::Display,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let settings = &*self.settings;
        let start = Instant::now();
        let id = match req
            .headers()
            .get(&settings.header)
            .and_then(|v| v.to_str().ok())
        {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                let id = uuid::Uuid::new_v4().to_string();
                if let Ok(v) = HeaderValue::from_str(&id) {
                    req.headers_mut().insert(settings.header.clone(), v);
                }
                id
            }
        };
        let path = req.uri().path().to_owned();
        let mut record = (!settings.skip.contains(&path)).then(|| {
            let mut ev = TowerRequest::new(path, req.method().as_str(), 0, 0.0).request_id(&*id);
            if let Some(route) = settings.route.and_then(|f| f(req.extensions())) {
                ev = ev.route(route);
            }
            if settings.include_params {
                ev = ev.params(query_params(req.uri().query().unwrap_or("")));
            }
            Pending {
                event: Some(ev),
                start,
                destination: settings.destination.clone(),
            }
        });
        let context = [("request_id", Value::String(id.clone()))];
        // A span with the request id too: work handed to other threads
        // inside it (sqlx-sqlite runs queries on a thread of its own, in
        // the caller's span) keeps the id for the tracing layer.
        let make_span =
            || tracing::info_span!(target: "insights_events::request", "request", request_id = %id);
        // With the tracing layer: told once if a filter keeps the span from it.
        #[cfg(feature = "tracing")]
        let span = crate::integrations::tracing::watch_request_span(make_span);
        #[cfg(not(feature = "tracing"))]
        let span = make_span();
        // The call itself (routing, a handler's synchronous part) runs in
        // the context and the span too; if it panics, the request's event
        // says so (500) before the panic goes on.
        let service = &mut self.inner;
        let called = span.in_scope(|| {
            crate::pipeline::context::scope(context.clone(), || {
                catch_unwind(AssertUnwindSafe(|| service.call(req)))
            })
        });
        let inner = match called {
            Ok(f) => f,
            Err(panic) => {
                if let Some(r) = record.as_mut() {
                    r.finish(500, Some(panic_message(&*panic)), false, None);
                }
                resume_unwind(panic)
            }
        };
        ResponseFuture {
            inner: inner.with_event_context(context).instrument(span),
            record,
            header: settings.header.clone(),
            id: HeaderValue::from_str(&id).ok(),
        }
    }
}

/// The parsed query string: `a=1&b=x` as `{"a": "1", "b": "x"}` (a key
/// given twice keeps its last value, as honeybadger-python's dict does).
fn query_params(query: &str) -> Map<String, Value> {
    url_pairs(query)
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// `application/x-www-form-urlencoded` pairs.
fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

/// Percent-decoding, with `+` as a space; invalid escapes stay as they are.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request event, waiting for the response. Dropped unsent (the
/// client went away), it sends itself as disconnected.
struct Pending {
    event: Option<TowerRequest>,
    start: Instant,
    destination: Option<Arc<dyn Destination>>,
}

impl Pending {
    /// Sends the event, in the context `ctx` (the request's, as its
    /// handler left it), once.
    fn finish(
        &mut self,
        status: u16,
        error: Option<String>,
        disconnected: bool,
        ctx: Option<SharedFields>,
    ) {
        let Some(mut ev) = self.event.take() else {
            return;
        };
        ev.status = i64::from(status);
        ev.duration = self.start.elapsed().as_secs_f64() * 1000.0;
        if let Some(e) = error {
            ev.error = Some(e);
        }
        if disconnected {
            ev.disconnected = Some(true);
        }
        let event = Event::from_typed(ev);
        let destination = &self.destination;
        // `send()` never blocks nor panics on its own (a drop is counted in
        // stats); a user's dynamic field could, and this may run in a
        // `Drop`: it is contained.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            with_layer(ctx, || match destination {
                Some(d) => d.send_event(event, false),
                None => event.send(),
            })
        }));
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish(499, None, true, None);
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`InsightsService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<WithContext<F>>,
        record: Option<Pending>,
        header: HeaderName,
        id: Option<HeaderValue>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: std::fmt::Display,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let polled = match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(r)) => r,
            Err(panic) => {
                let ctx = inner.as_ref().get_ref().inner().layer();
                if let Some(r) = this.record.as_mut() {
                    r.finish(500, Some(panic_message(&*panic)), false, ctx);
                }
                resume_unwind(panic)
            }
        };
        let ctx = inner.as_ref().get_ref().inner().layer();
        match polled {
            Ok(mut resp) => {
                if let Some(r) = this.record.as_mut() {
                    r.finish(resp.status().as_u16(), None, false, ctx);
                }
                if let Some(id) = this.id.take() {
                    if !resp.headers().contains_key(&*this.header) {
                        resp.headers_mut().insert(this.header.clone(), id);
                    }
                }
                Poll::Ready(Ok(resp))
            }
            Err(e) => {
                if let Some(r) = this.record.as_mut() {
                    r.finish(500, Some(e.to_string()), false, ctx);
                }
                Poll::Ready(Err(e))
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("handler panicked: {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_as_python_parses_them() {
        let rows: &[(&str, Value)] = &[
            ("", serde_json::json!({})),
            ("a=1&b=x", serde_json::json!({"a": "1", "b": "x"})),
            ("q=a+b%20c", serde_json::json!({"q": "a b c"})),
            ("flag&x=", serde_json::json!({"flag": "", "x": ""})),
            ("a=1&a=2", serde_json::json!({"a": "2"})),
            ("bad=%zz%4", serde_json::json!({"bad": "%zz%4"})),
            ("a=%+5&b=%-1", serde_json::json!({"a": "% 5", "b": "%-1"})),
            ("end=%4", serde_json::json!({"end": "%4"})),
            ("%E2%9C%93=ok", serde_json::json!({"✓": "ok"})),
        ];
        for (q, want) in rows {
            assert_eq!(Value::Object(query_params(q)), *want, "{q:?}");
        }
    }
}
