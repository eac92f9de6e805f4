//! A `tracing_subscriber` layer: tracing events that carry an `event_type`
//! field become Insights events, chosen spans become events when they
//! close, and sqlx's query log becomes typed `db.query` events.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//! # use insights_events::{Backend, Client, Config, transmission::MemorySender};
//! # let client = Client::new(Config::new().backend(Backend::Custom(MemorySender::new().into())))?;
//!
//! let subscriber = tracing_subscriber::registry()
//!     // Through `client`; `InsightsTracingLayer::new()` sends through the
//!     // global client instead (set by `insights_events::init`).
//!     .with(client.tracing_layer().span_name("checkout"));
//! tracing::subscriber::with_default(subscriber, || {
//!     let k = "user:42";
//!     tracing::info!(event_type = "cache.miss", key = %k, duration = 1.2);
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * An event with an `event_type` field is sent with all its fields, the
//!   fields of its enclosing spans under them (the innermost span wins a
//!   key), and the event context (so the tower layer's `request_id`).
//! * A span chosen by [`InsightsTracingLayer::span_name`] or
//!   [`InsightsTracingLayer::span_target`] becomes an event when it
//!   closes: `event_type` is its `event_type` field if it has one, else its
//!   name; its fields; `duration` in milliseconds from creation to close.
//! * sqlx's query log (events of target `sqlx::query`, fields `summary`,
//!   `db.statement`, `elapsed_secs`, `rows_affected`, `rows_returned`)
//!   becomes a typed [`DbQuery`] (`query`, `duration` in milliseconds,
//!   `request_id` from the enclosing spans, such as the tower layer's
//!   `request` span, or the context). Queries that start with one of the
//!   [`InsightsTracingLayer::exclude_queries`] prefixes are skipped
//!   (honeybadger-python's `exclude_queries`). The statements sqlx runs
//!   itself when it opens a connection (sqlx-sqlite's `PRAGMA …;` list;
//!   [`CONNECTION_SETUP_QUERIES`]) are skipped too, unless
//!   [`InsightsTracingLayer::connection_setup_queries`] takes them back.
//!   This crate does not depend on sqlx.
//! * Filters: sqlx logs statements at `DEBUG`, so a filter in front of
//!   this layer must let `sqlx::query=debug` through, and the tower
//!   layer's `request` span too (target `insights_events::request`,
//!   `INFO`): sqlx-sqlite runs queries on a thread of its own, inside the
//!   span of the caller, and that span is what carries the request id
//!   there. The simplest setup puts no filter in front of this layer:
//!   `fmt::layer().with_filter(EnvFilter…)` filters what is printed only.
//!   A global filter such as `EnvFilter::new("info,sqlx=debug")` works
//!   too. A filter that lets sqlx's queries through to this layer but
//!   keeps the request span from it is told once, at the first request
//!   that shows it (the layer cannot turn on a span that a filter in
//!   front of it turned off).
//! * No feedback: nothing that happens on this crate's own threads, in
//!   its own log lines (targets `insights_events::*`), or while this layer
//!   is itself sending, is turned into an event.
//!
//! Events go to the `Destination` of the client that made the layer, or
//! through `Event::send()` (the method the client layer gives `Event`) to
//! the global client.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TracingEvent, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::model::event::{Destination, Event};
#[cfg(feature = "tower")]
use crate::notice::{warn, Once};
use crate::schema::generated::python::DbQuery;

/// Statements skipped by default: transaction control, which says nothing
/// about the application's queries.
pub const DEFAULT_EXCLUDED_QUERIES: &[&str] = &[
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
];

/// The first words of the statements sqlx runs itself when it opens a
/// connection (sqlx-sqlite sends its `PRAGMA key = value; …` list, from
/// `SqliteConnectOptions`, as one statement): they send no event unless
/// [`InsightsTracingLayer::connection_setup_queries`] says so. A statement
/// matches when its first word (after leading whitespace), in any case, is
/// one of these.
pub const CONNECTION_SETUP_QUERIES: &[&str] = &["PRAGMA"];

/// Whether `query` is a connection-setup statement (see
/// [`CONNECTION_SETUP_QUERIES`]).
fn is_connection_setup(query: &str) -> bool {
    let q = query.trim_start();
    let word = q
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(q, |end| &q[..end]);
    CONNECTION_SETUP_QUERIES
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// The target and name of the tower layer's request span.
const REQUEST_SPAN_TARGET: &str = "insights_events::request";
const REQUEST_SPAN_NAME: &str = "request";

/// The warning for a filter that keeps the request span from this layer.
#[cfg(feature = "tower")]
const FILTERED_REQUEST_SPAN_WARNING: &str = "insights-events: a filter keeps the tower layer's request span (target insights_events::request, level INFO) from the InsightsTracingLayer: db.query events from sqlx lose their request_id. Add insights_events=info to the filter's directives (e.g. \"warn,sqlx=debug,insights_events=info\"), or give the filter to the fmt layer alone: fmt::layer().with_filter(EnvFilter::from_default_env()) (shown once)";

#[cfg(feature = "tower")]
static FILTERED_REQUEST_SPAN: Once = Once::new();

thread_local! {
    /// Set when an `InsightsTracingLayer` sees a request span begin on
    /// this thread (`on_new_span` runs on the thread that makes the span).
    static SAW_REQUEST_SPAN: Cell<bool> = const { Cell::new(false) };
}

/// Makes the tower layer's request span with `make`, and tells a person
/// once when an `InsightsTracingLayer` that turns sqlx queries into events
/// is in the current subscriber but did not see the span (a filter in
/// front of it, global or its own, left the span out): the request id
/// would not reach the queries sqlx runs on its own thread.
#[cfg(feature = "tower")]
pub(crate) fn watch_request_span(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if FILTERED_REQUEST_SPAN.is_raised() {
        // Said once already: no need to look at the subscriber again on
        // every request.
        return make();
    }
    let (span, missed) = request_span_missed(make);
    if missed && FILTERED_REQUEST_SPAN.first() {
        warn(FILTERED_REQUEST_SPAN_WARNING);
    }
    span
}

/// The span `make` returns, and whether an `InsightsTracingLayer` that
/// turns sqlx queries into events is in the current subscriber but did
/// not see the span begin, while the subscriber does take sqlx's query
/// log (a filter that leaves out sqlx's queries too leaves no request id
/// to lose).
#[cfg(any(feature = "tower", test))]
fn request_span_missed(make: impl FnOnce() -> tracing::Span) -> (tracing::Span, bool) {
    SAW_REQUEST_SPAN.with(|s| s.set(false));
    let span = make();
    let missed = !SAW_REQUEST_SPAN.with(|s| s.replace(false))
        && tracing::dispatcher::get_default(|d| {
            d.downcast_ref::<InsightsTracingLayer>()
                .is_some_and(|layer| layer.sqlx)
        })
        && tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG);
    (span, missed)
}

/// Which spans become events.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SpanRule {
    Name(String),
    Target(String),
}

/// The layer (see the [module docs](self)).
#[derive(Clone)]
pub struct InsightsTracingLayer {
    destination: Option<Arc<dyn Destination>>,
    spans: Vec<SpanRule>,
    sqlx: bool,
    exclude_queries: Vec<String>,
    setup_queries: bool,
}

impl fmt::Debug for InsightsTracingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsightsTracingLayer")
            .field("global_client", &self.destination.is_none())
            .field("spans", &self.spans)
            .field("sqlx", &self.sqlx)
            .field("exclude_queries", &self.exclude_queries)
            .field("connection_setup_queries", &self.setup_queries)
            .finish()
    }
}

impl Default for InsightsTracingLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl InsightsTracingLayer {
    /// A layer whose events go through the global client, which
    /// [`init`](crate::init) sets; without one its events are dropped (the
    /// first drop is told once). `client.tracing_layer()` makes a layer
    /// that sends through `client`.
    pub fn new() -> Self {
        Self::to(None)
    }

    /// A layer whose events go to `destination` (`None`: the global client).
    pub(crate) fn to(destination: Option<Arc<dyn Destination>>) -> Self {
        InsightsTracingLayer {
            destination,
            spans: Vec::new(),
            sqlx: true,
            exclude_queries: DEFAULT_EXCLUDED_QUERIES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            setup_queries: false,
        }
    }

    /// Spans named `name` become events when they close.
    pub fn span_name(mut self, name: impl Into<String>) -> Self {
        self.spans.push(SpanRule::Name(name.into()));
        self
    }

    /// Spans whose target is `target` or under it (`myapp::jobs` takes
    /// `myapp::jobs::email`) become events when they close.
    pub fn span_target(mut self, target: impl Into<String>) -> Self {
        self.spans.push(SpanRule::Target(target.into()));
        self
    }

    /// Whether sqlx's query log becomes `db.query` events (default: yes).
    pub fn sqlx_queries(mut self, on: bool) -> Self {
        self.sqlx = on;
        self
    }

    /// The prefixes (matched case-insensitively against the query with
    /// leading whitespace removed) of queries that send no event. Replaces
    /// [`DEFAULT_EXCLUDED_QUERIES`].
    pub fn exclude_queries<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_queries = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the statements sqlx runs itself when it opens a connection
    /// ([`CONNECTION_SETUP_QUERIES`]: sqlx-sqlite's `PRAGMA …;` list)
    /// become `db.query` events (default: no; one may come inside a
    /// request, with its id, when the pool opens a connection for it).
    /// Independent of [`exclude_queries`](Self::exclude_queries).
    pub fn connection_setup_queries(mut self, on: bool) -> Self {
        self.setup_queries = on;
        self
    }

    fn wants_span(&self, name: &str, target: &str) -> bool {
        self.spans.iter().any(|r| match r {
            SpanRule::Name(n) => n == name,
            SpanRule::Target(t) => {
                target == t
                    || (target.starts_with(t.as_str()) && target[t.len()..].starts_with("::"))
            }
        })
    }

    fn excluded(&self, query: &str) -> bool {
        if !self.setup_queries && is_connection_setup(query) {
            return true;
        }
        let q = query.trim_start();
        self.exclude_queries.iter().any(|p| {
            q.len() >= p.len()
                && q.is_char_boundary(p.len())
                && q[..p.len()].eq_ignore_ascii_case(p)
        })
    }

    /// Sends an event, with this thread marked as sending (what tracing
    /// reports meanwhile is not turned into events).
    fn send(&self, event: Event) {
        /// Marks the thread as sending; restores the mark when dropped
        /// (also if a user's dynamic field panics inside the send).
        struct Sending(bool);
        impl Drop for Sending {
            fn drop(&mut self) {
                let before = self.0;
                SENDING.with(|s| s.set(before));
            }
        }
        let _sending = Sending(SENDING.with(|s| s.replace(true)));
        // `send()` never blocks (unless the client chose to) nor panics.
        let _ = match &self.destination {
            Some(d) => d.send_event(event, false),
            None => event.send(),
        };
    }
}

thread_local! {
    static SENDING: Cell<bool> = const { Cell::new(false) };
}

/// Whether what tracing reports now must not become an event: this crate
/// is sending on this thread, the thread is one of this crate's own, or
/// the report comes from this crate.
fn feedback(target: &str) -> bool {
    target == crate::notice::TARGET
        || target.starts_with("insights_events::")
        || SENDING.with(Cell::get)
        || crate::core::own_thread::is_own()
        || std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("insights-events"))
}

/// A span's fields and when it started, kept in its extensions.
struct SpanData {
    fields: Map<String, Value>,
    start: Instant,
}

/// Collects tracing fields as JSON values.
struct Collect<'a>(&'a mut Map<String, Value>);

impl Visit for Collect<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v = Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.0.insert(field.name().to_owned(), v);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

impl<S> tracing_subscriber::Layer<S> for InsightsTracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.target() == REQUEST_SPAN_TARGET && meta.name() == REQUEST_SPAN_NAME {
            SAW_REQUEST_SPAN.with(|s| s.set(true));
        }
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Map::new();
        attrs.record(&mut Collect(&mut fields));
        let mut ext = span.extensions_mut();
        // Another layer of this crate on the same registry may have stored
        // the span's data already (extensions belong to the span).
        if ext.get_mut::<SpanData>().is_none() {
            ext.insert(SpanData {
                fields,
                start: Instant::now(),
            });
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(data) = ext.get_mut::<SpanData>() {
            values.record(&mut Collect(&mut data.fields));
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let sqlx = meta.target() == "sqlx::query";
        // Most events are plain log lines: leave them before any work.
        if !(sqlx && self.sqlx) && meta.fields().field("event_type").is_none() {
            return;
        }
        if feedback(meta.target()) {
            return;
        }
        let mut own = Map::new();
        event.record(&mut Collect(&mut own));
        if sqlx {
            // The request id of the enclosing spans (sqlx-sqlite logs on a
            // thread of its own, inside the caller's span), else the
            // context's.
            let from_spans = ctx.event_scope(event).and_then(|scope| {
                scope.into_iter().find_map(|span| {
                    let ext = span.extensions();
                    let data = ext.get::<SpanData>()?;
                    data.fields.get("request_id")?.as_str().map(str::to_owned)
                })
            });
            self.sqlx_query(&own, from_spans);
            return;
        }
        if !own.contains_key("event_type") {
            return;
        }
        let mut ev = Event::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(data) = span.extensions().get::<SpanData>() {
                    for (k, v) in &data.fields {
                        ev.add_field(k.clone(), v);
                    }
                }
            }
        }
        for (k, v) in own {
            ev.add_field(k, v);
        }
        self.send(ev);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let meta = span.metadata();
        if self.spans.is_empty() || !self.wants_span(meta.name(), meta.target()) {
            return;
        }
        if feedback(meta.target()) {
            return;
        }
        let ext = span.extensions();
        let Some(data) = ext.get::<SpanData>() else {
            return;
        };
        let mut ev = Event::new();
        if !data.fields.contains_key("event_type") {
            ev.add_field("event_type", meta.name());
        }
        for (k, v) in &data.fields {
            ev.add_field(k.clone(), v);
        }
        ev.add_field("duration", data.start.elapsed().as_secs_f64() * 1000.0);
        drop(ext);
        self.send(ev);
    }
}

impl InsightsTracingLayer {
    /// sqlx's query log line as a `db.query` event.
    fn sqlx_query(&self, fields: &Map<String, Value>, request_id: Option<String>) {
        let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::trim);
        let query = match text("db.statement") {
            Some(s) if !s.is_empty() => s,
            _ => match text("summary") {
                Some(s) if !s.is_empty() => s,
                _ => return,
            },
        };
        if self.excluded(query) {
            return;
        }
        let duration = fields
            .get("elapsed_secs")
            .and_then(Value::as_f64)
            .map_or(0.0, |s| s * 1000.0);
        let mut q = DbQuery::new(query, duration);
        let request_id = request_id.or_else(|| match crate::pipeline::context::get("request_id") {
            Some(Value::String(id)) => Some(id),
            _ => None,
        });
        if let Some(id) = request_id {
            q = q.request_id(id);
        }
        self.send(Event::from_typed(q));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_rules_match_names_and_targets_below_them() {
        let l = InsightsTracingLayer::new()
            .span_name("checkout")
            .span_target("myapp::jobs");
        let rows = [
            ("checkout", "anything", true),
            ("other", "myapp::jobs", true),
            ("other", "myapp::jobs::email", true),
            ("other", "myapp::jobsx", false),
            ("other", "myapp", false),
        ];
        for (name, target, want) in rows {
            assert_eq!(l.wants_span(name, target), want, "{name} {target}");
        }
    }

    #[test]
    fn excluded_queries_match_prefixes_without_case() {
        let l = InsightsTracingLayer::new();
        let rows = [
            ("BEGIN", true),
            ("  begin deferred", true),
            ("commit", true),
            ("RELEASE SAVEPOINT sp1", true),
            ("SELECT 1", false),
            ("", false),
            ("✓", false),
        ];
        for (q, want) in rows {
            assert_eq!(l.excluded(q), want, "{q:?}");
        }
        assert!(!l.clone().exclude_queries(["PRAGMA"]).excluded("BEGIN"));
    }

    #[test]
    fn connection_setup_statements_are_skipped_unless_taken_back() {
        let l = InsightsTracingLayer::new();
        // (query, a connection-setup statement)
        let rows = [
            ("PRAGMA foreign_keys = ON; ", true),
            (
                "PRAGMA locking_mode = NORMAL; PRAGMA journal_mode = WAL; ",
                true,
            ),
            ("  \n pragma table_info(users)", true),
            ("Pragma;", true),
            ("PRAGMA", true),
            ("PRAGMAS are not a keyword", false),
            ("pragma_table_info", false),
            ("SELECT * FROM pragma_table_info('users')", false),
            ("-- PRAGMA in a comment\nSELECT 1", false),
            ("SELECT 'PRAGMA'", false),
            ("", false),
            ("✓ PRAGMA", false),
        ];
        for (q, setup) in rows {
            assert_eq!(is_connection_setup(q), setup, "{q:?}");
            assert_eq!(l.excluded(q), setup, "skipped by default: {q:?}");
            let back = l.clone().connection_setup_queries(true);
            assert!(!back.excluded(q), "taken back: {q:?}");
        }
        // Replacing the excluded prefixes keeps setup statements out.
        let replaced = l.clone().exclude_queries(["SELECT"]);
        assert!(replaced.excluded("PRAGMA foreign_keys = ON; "));
        assert!(replaced.excluded("select 1"));
        assert!(!replaced.excluded("BEGIN"));
    }

    /// Whether the request span, made under `subscriber`, is missed.
    fn missed_under(subscriber: impl Subscriber + Send + Sync + 'static) -> bool {
        tracing::subscriber::with_default(subscriber, || {
            let (span, missed) = request_span_missed(
                || tracing::info_span!(target: "insights_events::request", "request", request_id = "r"),
            );
            drop(span);
            missed
        })
    }

    #[test]
    fn a_request_span_kept_from_the_layer_is_missed() {
        use tracing_subscriber::filter::{LevelFilter, Targets};
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::Layer;
        let registry = tracing_subscriber::registry;
        let layer = InsightsTracingLayer::new;
        // No layer of this crate: nothing to miss.
        assert!(!missed_under(registry()));
        assert!(!missed_under(registry().with(LevelFilter::WARN)));
        // The layer sees the span.
        assert!(!missed_under(registry().with(layer())));
        assert!(!missed_under(
            registry().with(layer()).with(LevelFilter::INFO)
        ));
        let keeps = Targets::new()
            .with_target("sqlx", LevelFilter::DEBUG)
            .with_target("insights_events", LevelFilter::INFO);
        assert!(!missed_under(registry().with(layer()).with(keeps.clone())));
        assert!(!missed_under(registry().with(layer().with_filter(keeps))));
        // A filter to the side (per-layer, on another layer) keeps nothing
        // from it.
        assert!(!missed_under(registry().with(layer()).with(
            tracing_subscriber::fmt::layer().with_filter(LevelFilter::ERROR)
        )));
        // A filter that leaves sqlx's queries out too: no id to lose.
        assert!(!missed_under(
            registry().with(layer()).with(LevelFilter::WARN)
        ));
        // A global filter in front of it, or its own, that takes sqlx's
        // queries and leaves the span out.
        let sqlx_only = Targets::new().with_target("sqlx", LevelFilter::DEBUG);
        let warn_and_sqlx = Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("sqlx", LevelFilter::DEBUG);
        assert!(missed_under(registry().with(layer()).with(warn_and_sqlx)));
        assert!(missed_under(
            registry().with(layer()).with(sqlx_only.clone())
        ));
        assert!(missed_under(
            registry().with(layer().with_filter(sqlx_only.clone()))
        ));
        // A layer that leaves sqlx alone does not need the span.
        assert!(!missed_under(
            registry().with(layer().sqlx_queries(false)).with(sqlx_only)
        ));
    }

    #[test]
    fn own_log_lines_and_threads_are_feedback() {
        assert!(feedback("insights_events::core::handle"));
        assert!(feedback("insights_events"));
        assert!(!feedback("insights_events_extra"));
        assert!(!feedback("myapp"));
        let on_own = std::thread::Builder::new()
            .name("insights-events-test".into())
            .spawn(|| feedback("myapp"))
            .expect("spawn")
            .join()
            .expect("join");
        assert!(on_own);
    }

    #[test]
    fn the_sending_mark_comes_back_after_a_panic() {
        let layer = InsightsTracingLayer::new();
        // No global client: the send fails quietly; the mark is restored.
        let mut ev = Event::new();
        ev.add_field("event_type", "t");
        layer.send(ev);
        assert!(!SENDING.with(Cell::get));
        let r = std::panic::catch_unwind(|| {
            struct Boom;
            impl Destination for Boom {
                fn send_event(&self, _: Event, _: bool) -> Result<(), crate::SendError> {
                    panic!("a dynamic field panicked")
                }
            }
            let l = InsightsTracingLayer::to(Some(Arc::new(Boom)));
            let mut ev = Event::new();
            ev.add_field("event_type", "t");
            l.send(ev);
        });
        assert!(r.is_err());
        assert!(!SENDING.with(Cell::get), "the mark is restored on unwind");
    }

    #[test]
    fn two_layers_on_one_registry_share_a_span_without_panicking() {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry()
            .with(InsightsTracingLayer::new())
            .with(InsightsTracingLayer::new());
        tracing::subscriber::with_default(subscriber, || {
            let _g = tracing::info_span!("s", a = 1).entered();
        });
    }
}
