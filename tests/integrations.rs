//! The tower and tracing layers against a real axum server on 127.0.0.1,
//! with handlers that run real SQL through sqlx on an in-memory SQLite
//! database, and the async flush and close.
//!
//! One client (in-memory backend) and one global tracing subscriber serve
//! the whole file (sqlx-sqlite logs its queries on threads of its own, so
//! a thread-local subscriber would not see them); each test tells its
//! events apart by request ids of its own.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use insights_events::transmission::{MemorySender, RecordedEvent};
use insights_events::{Backend, Client, Config};
use serde_json::Value;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use tracing_subscriber::layer::SubscriberExt;

struct Harness {
    client: Client,
    recorder: MemorySender,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let recorder = MemorySender::new();
        let client = Client::new(
            Config::new()
                .backend(Backend::Custom(Arc::new(recorder.clone())))
                .max_queue_size(100_000),
        )
        .expect("client");
        let subscriber = tracing_subscriber::registry().with(
            client
                .tracing_layer()
                .span_name("checkout")
                .span_target("integrations::jobs"),
        );
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        Harness { client, recorder }
    })
}

/// The recorded events whose `request_id` starts with `prefix`, after a
/// flush.
fn events_of(prefix: &str) -> Vec<Value> {
    let h = harness();
    assert!(h.client.flush(Duration::from_secs(20)).completed);
    h.recorder
        .events()
        .into_iter()
        .map(|e: RecordedEvent| e.fields)
        .filter(|f| {
            f.get("request_id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.starts_with(prefix))
        })
        .collect()
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

async fn db() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create");
    for (id, name) in [(1, "ada"), (2, "grace")] {
        sqlx::query("INSERT INTO users (id, name) VALUES (?, ?)")
            .bind(id)
            .bind(name)
            .execute(&pool)
            .await
            .expect("insert");
    }
    pool
}

async fn user(State(pool): State<SqlitePool>, Path(id): Path<i64>) -> String {
    sqlx::query_scalar::<_, String>("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap_or_default()
}

async fn work(Path(n): Path<u64>) -> &'static str {
    // After an await (maybe on another worker thread), the event still
    // carries the request's id.
    tokio::task::yield_now().await;
    let mut ev = harness().client.new_event();
    ev.add_field("event_type", "test.work").add_field("n", n);
    ev.send().expect("send");
    tokio::task::yield_now().await;
    tracing::info!(event_type = "test.traced", n);
    "done"
}

/// Requests `/slow` has started handling.
static SLOW_STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn slow() -> &'static str {
    SLOW_STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

async fn panics() -> &'static str {
    panic!("the handler broke")
}

/// An axum server with the tower layer, on a runtime of its own.
fn serve(rt: &tokio::runtime::Runtime) -> SocketAddr {
    rt.block_on(async {
        let pool = db().await;
        let app = Router::new()
            .route("/users/{id}", get(user))
            .route("/work/{n}", get(work))
            .route("/slow", get(slow))
            .route("/panic", get(panics))
            .route("/health", get(|| async { "ok" }))
            .with_state(pool)
            .layer(
                harness()
                    .client
                    .tower_layer()
                    .skip_path("/health")
                    .include_params(true),
            );
        listen(app).await
    })
}

/// Serves `app` on a loopback port of its own (on the current runtime).
async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A GET over a plain socket: the status and the `x-request-id` answered
/// (`None` for both when the connection closed without an answer).
fn get_path(addr: SocketAddr, path: &str, id: Option<&str>) -> (Option<u16>, Option<String>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let header = id.map_or(String::new(), |id| format!("X-Request-ID: {id}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{header}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    let echoed = text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("x-request-id")
            .then(|| v.trim().to_owned())
    });
    (status, echoed)
}

#[test]
fn concurrent_requests_each_carry_their_own_id_and_no_other() {
    let rt = runtime();
    let addr = serve(&rt);
    let n = 200;
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                s.spawn(move || {
                    let id = format!("conc-{i}");
                    (i, get_path(addr, &format!("/work/{i}?page={i}"), Some(&id)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    for (i, (status, echoed)) in &answers {
        assert_eq!(*status, Some(200), "request {i}");
        assert_eq!(echoed.as_deref(), Some(format!("conc-{i}").as_str()));
    }
    let events = events_of("conc-");
    let requests = of_type(&events, "tower.request");
    let works = of_type(&events, "test.work");
    let traced = of_type(&events, "test.traced");
    assert_eq!(requests.len(), n, "one request event per request");
    assert_eq!(works.len(), n, "one handler event per request");
    assert_eq!(traced.len(), n, "one tracing event per request");
    for e in requests {
        let id = e["request_id"].as_str().expect("id");
        let i: u64 = id["conc-".len()..].parse().expect("number");
        assert_eq!(e["path"], format!("/work/{i}"));
        assert_eq!(e["route"], "/work/{n}");
        assert_eq!(e["method"], "GET");
        assert_eq!(e["status"], 200);
        assert_eq!(e["params"], serde_json::json!({ "page": i.to_string() }));
        assert!(e["duration"].as_f64().expect("duration") >= 0.0);
    }
    for e in works.iter().chain(&traced) {
        let id = e["request_id"].as_str().expect("id");
        let i: u64 = id["conc-".len()..].parse().expect("number");
        assert_eq!(e["n"], i, "an event carries its own request's id: {e}");
    }
}

#[test]
fn sqlx_queries_become_db_query_events_with_the_request_id() {
    let rt = runtime();
    let addr = serve(&rt);
    assert_eq!(get_path(addr, "/users/2", Some("sql-1")).0, Some(200));
    let events = events_of("sql-");
    let queries = of_type(&events, "db.query");
    assert_eq!(queries.len(), 1, "{events:#?}");
    assert_eq!(queries[0]["query"], "SELECT name FROM users WHERE id = ?");
    assert!(queries[0]["duration"].as_f64().expect("duration") > 0.0);
    assert_eq!(of_type(&events, "tower.request").len(), 1);
}

#[test]
fn a_panicking_handler_yields_a_500_event() {
    let rt = runtime();
    let addr = serve(&rt);
    let (status, _) = get_path(addr, "/panic", Some("panic-1"));
    assert_ne!(status, Some(200));
    let events = events_of("panic-");
    let requests = of_type(&events, "tower.request");
    assert_eq!(requests.len(), 1, "{events:#?}");
    assert_eq!(requests[0]["status"], 500);
    assert!(requests[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("the handler broke")));
}

#[test]
fn a_health_check_yields_no_event_but_keeps_its_id() {
    let rt = runtime();
    let addr = serve(&rt);
    let (status, echoed) = get_path(addr, "/health", Some("health-1"));
    assert_eq!(status, Some(200));
    assert_eq!(echoed.as_deref(), Some("health-1"));
    // A request after it, on the same server, does produce its event: the
    // health check's absence is not a lost flush.
    assert_eq!(get_path(addr, "/work/1", Some("health-2")).0, Some(200));
    let events = events_of("health-");
    assert!(of_type(&events, "tower.request")
        .iter()
        .all(|e| e["request_id"] == "health-2"));
    assert_eq!(of_type(&events, "tower.request").len(), 1);
}

#[test]
fn a_request_without_an_id_gets_a_uuid() {
    let rt = runtime();
    let addr = serve(&rt);
    let (status, echoed) = get_path(addr, "/work/7", None);
    assert_eq!(status, Some(200));
    let id = echoed.expect("an id on the response");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.as_bytes()[14], b'4', "a v4 UUID: {id}");
    let events = events_of(&id);
    assert_eq!(of_type(&events, "tower.request").len(), 1);
    assert_eq!(of_type(&events, "test.work").len(), 1);
}

#[test]
fn a_client_that_disconnects_yields_a_disconnected_event() {
    let rt = runtime();
    let addr = serve(&rt);
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: gone-1\r\n\r\n"
    )
    .expect("write");
    // Wait until the handler runs, then hang up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while SLOW_STARTED.load(std::sync::atomic::Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(SLOW_STARTED.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    drop(s);
    let mut found = Vec::new();
    while Instant::now() < deadline {
        found = of_type(&events_of("gone-"), "tower.request")
            .into_iter()
            .cloned()
            .collect();
        if !found.is_empty() {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(found.len(), 1, "the disconnected request's event arrived");
    assert_eq!(found[0]["disconnected"], true);
    assert_eq!(found[0]["status"], 499);
}

#[test]
fn spans_chosen_by_name_or_target_become_events_when_they_close() {
    harness();
    {
        let span = tracing::info_span!("checkout", request_id = "span-1", cart = 3);
        let _g = span.enter();
        tracing::info!(event_type = "span.inner", step = "pay");
    }
    {
        let span = tracing::info_span!(target: "integrations::jobs::email", "send_email", request_id = "span-2");
        let _g = span.enter();
    }
    {
        let _ignored = tracing::info_span!("not_chosen", request_id = "span-3").entered();
    }
    let events = events_of("span-");
    let checkout = of_type(&events, "checkout");
    assert_eq!(checkout.len(), 1, "{events:#?}");
    assert_eq!(checkout[0]["cart"], 3);
    assert!(checkout[0]["duration"].as_f64().expect("duration") >= 0.0);
    let inner = of_type(&events, "span.inner");
    assert_eq!(inner.len(), 1);
    assert_eq!(
        inner[0]["cart"], 3,
        "the enclosing span's fields are under the event's"
    );
    assert_eq!(inner[0]["step"], "pay");
    assert_eq!(of_type(&events, "send_email").len(), 1);
    assert!(events.iter().all(|e| e["request_id"] != "span-3"));
}

#[test]
fn the_crates_own_threads_and_log_lines_never_become_events() {
    harness();
    // A log line of the crate's own target, and one from a thread named as
    // the crate's threads are: neither becomes an event.
    tracing::warn!(target: "insights_events::core", event_type = "own.log", request_id = "own-1");
    std::thread::Builder::new()
        .name("insights-events-send".into())
        .spawn(|| tracing::info!(event_type = "own.thread", request_id = "own-2"))
        .expect("spawn")
        .join()
        .expect("join");
    // The same event from the test's thread does arrive.
    tracing::info!(event_type = "own.control", request_id = "own-3");
    let events = events_of("own-");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["event_type"], "own.control");
}

/// A server that accepts connections and never answers.
fn hanging_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().take(64) {
            held.push(s);
        }
    });
    addr
}

#[test]
fn flush_async_in_a_current_thread_runtime_returns_by_its_deadline() {
    let addr = hanging_server();
    let client = Client::new(
        Config::new()
            .backend(Backend::Honeybadger)
            .api_key("hbp_test")
            .endpoint(format!("http://{addr}"))
            .request_timeout(Duration::from_secs(30)),
    )
    .expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        insights_events::DbQuery::new("SELECT 1", 1.0)
            .send_with(&client)
            .expect("send");
        // The runtime's only thread keeps running other tasks meanwhile.
        let ticks = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let t = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                t.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let start = Instant::now();
        let outcome = client.flush_async(Duration::from_millis(300)).await;
        let waited = start.elapsed();
        assert!(!outcome.completed);
        assert!(outcome.pending >= 1, "{outcome:?}");
        assert!(
            waited < Duration::from_secs(5),
            "returned by its deadline: {waited:?}"
        );
        assert!(
            ticks.load(std::sync::atomic::Ordering::Relaxed) > 1,
            "the runtime thread was not blocked"
        );
        ticker.abort();
        let closed = client.close_async(Duration::from_millis(300)).await;
        assert!(!closed.completed);
        assert!(client.stats().dropped_closed >= 1);
    });
}

#[test]
fn close_async_on_a_multi_thread_runtime_delivers_what_was_sent() {
    let recorder = MemorySender::new();
    let client = Client::new(Config::new().backend(Backend::Custom(Arc::new(recorder.clone()))))
        .expect("client");
    runtime().block_on(async {
        for i in 0..10 {
            insights_events::DbQuery::new(format!("q{i}"), 1.0)
                .send_with(&client)
                .expect("send");
        }
        let outcome = client.close_async(Duration::from_secs(20)).await;
        assert!(outcome.completed);
    });
    assert_eq!(recorder.len(), 10);
}

#[test]
fn params_go_through_the_clients_filters() {
    let rt = runtime();
    let addr = serve(&rt);
    let (status, _) = get_path(addr, "/work/5?page=2&password=hunter2", Some("filter-1"));
    assert_eq!(status, Some(200));
    let events = events_of("filter-");
    let requests = of_type(&events, "tower.request");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["params"]["page"], "2");
    assert!(
        requests[0]["params"].get("password").is_none(),
        "a filtered key is removed: {}",
        requests[0]
    );
}

#[test]
fn a_service_error_yields_a_500_event_with_its_reason() {
    use tower::{Layer, ServiceExt};
    let h = harness();
    let failing = tower::service_fn(|_req: http::Request<()>| async {
        Err::<http::Response<()>, _>(std::io::Error::other("upstream refused"))
    });
    let svc = h.client.tower_layer().layer(failing);
    let req = http::Request::builder()
        .uri("/orders?x=1")
        .header("x-request-id", "svcerr-1")
        .body(())
        .expect("request");
    let res = runtime().block_on(svc.oneshot(req));
    assert!(res.is_err());
    let events = events_of("svcerr-");
    let requests = of_type(&events, "tower.request");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["status"], 500);
    assert_eq!(requests[0]["path"], "/orders");
    assert_eq!(requests[0]["error"], "upstream refused");
}

#[test]
fn a_panic_in_the_services_call_yields_a_500_event() {
    use tower::{Layer, Service};
    let h = harness();
    let mut svc = h.client.tower_layer().layer(tower::service_fn(
        |_req: http::Request<()>| -> std::future::Ready<Result<http::Response<()>, std::io::Error>> {
            panic!("routing broke")
        },
    ));
    let req = http::Request::builder()
        .uri("/sync")
        .header("x-request-id", "syncpanic-1")
        .body(())
        .expect("request");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| svc.call(req)));
    assert!(r.is_err(), "the panic goes on");
    let events = events_of("syncpanic-");
    let requests = of_type(&events, "tower.request");
    assert_eq!(requests.len(), 1, "{events:#?}");
    assert_eq!(requests[0]["status"], 500);
    assert!(requests[0]["disconnected"].is_null(), "not a hang-up");
    assert!(requests[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("routing broke")));
}

#[test]
fn the_request_event_carries_what_the_handler_put_in_the_context() {
    use tower::{Layer, ServiceExt};
    let h = harness();
    let svc = h
        .client
        .tower_layer()
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            tokio::task::yield_now().await;
            insights_events::context::set("tenant", "acme");
            Ok::<_, std::io::Error>(http::Response::new(()))
        }));
    let req = http::Request::builder()
        .uri("/tenant")
        .header("x-request-id", "ctx-1")
        .body(())
        .expect("request");
    let res = runtime().block_on(svc.oneshot(req)).expect("response");
    assert_eq!(res.headers()["x-request-id"], "ctx-1");
    let events = events_of("ctx-");
    let requests = of_type(&events, "tower.request");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["tenant"], "acme");
    assert_eq!(requests[0]["status"], 200);
}

// ---------------------------------------------------------------------
// Setups, each in a child process of its own (this binary run again with
// `INSIGHTS_EVENTS_TEST_CHILD` set to a mode, one test): a global tracing
// subscriber is process-wide (sqlx-sqlite logs on threads of its own), and
// so are the shown-once warnings. The child serves requests whose handler
// runs real SQL through sqlx on in-memory SQLite, with the tower layer of
// a client that records its events, and prints what was recorded and the
// warnings given, as one `RESULT {json}` line.

const CHILD: &str = "INSIGHTS_EVENTS_TEST_CHILD";

/// The warning for a layer on an absent global client, as it is shown for
/// the first event it drops.
const NO_GLOBAL_WARNING: &str = "insights-events: an event was sent through the global client, but none is set: it was dropped (1 so far). Call insights_events::init(Config::from_env()?) at startup, or send through your Client (client.tower_layer(), client.tracing_layer(), event.send_with(&client)) (shown once)";

/// The warning for a filter that keeps the request span from the layer.
const FILTERED_SPAN_WARNING: &str = "insights-events: a filter keeps the tower layer's request span (target insights_events::request, level INFO) from the InsightsTracingLayer: db.query events from sqlx lose their request_id. Add insights_events=info to the filter's directives (e.g. \"warn,sqlx=debug,insights_events=info\"), or give the filter to the fmt layer alone: fmt::layer().with_filter(EnvFilter::from_default_env()) (shown once)";

/// The warnings the crate gave through `tracing` (target `insights_events`).
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A layer that keeps the crate's warnings.
struct CaptureWarnings;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CaptureWarnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let meta = event.metadata();
        if meta.target() == "insights_events" && *meta.level() == tracing::Level::WARN {
            let mut m = Message(String::new());
            event.record(&mut m);
            WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).push(m.0);
        }
    }
}

/// What a child saw: the recorded events, and every warning of the crate
/// (through `tracing`, or on standard error).
struct Seen {
    events: Vec<Value>,
    warnings: Vec<String>,
}

impl Seen {
    fn of_type(&self, t: &str) -> Vec<&Value> {
        of_type(&self.events, t)
    }
}

/// Runs this binary's test `test` alone in a child process in `mode`.
fn run_child(test: &str, mode: &str) -> Seen {
    let mut c = std::process::Command::new(std::env::current_exe().expect("exe"));
    c.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env_remove("RUST_LOG");
    let out = c.output().expect("run the child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no result:\n{stdout}\n{stderr}"));
    let v: Value = serde_json::from_str(line).expect("result");
    let mut warnings: Vec<String> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text").to_owned())
        .collect();
    warnings.extend(
        stderr
            .lines()
            .filter(|l| l.starts_with("insights-events:"))
            .map(str::to_owned),
    );
    Seen {
        events: v["events"].as_array().expect("events").clone(),
        warnings,
    }
}

/// The handler of the children's servers: two queries, with `i` in their
/// text (so each names the request it belongs to), an await between.
async fn two_queries(State(pool): State<SqlitePool>, Path(i): Path<i64>) -> String {
    let a: i64 = sqlx::query_scalar(&format!("SELECT {i} AS a"))
        .fetch_one(&pool)
        .await
        .unwrap_or(-1);
    tokio::task::yield_now().await;
    let b: i64 = sqlx::query_scalar(&format!("SELECT {i} + 1 AS b"))
        .fetch_one(&pool)
        .await
        .unwrap_or(-1);
    format!("{a} {b}")
}

/// The child: installs the subscriber of `mode`, serves `n` requests
/// (`GET /q/{i}`, request id `{mode}-{i}`; `concurrent` or one after
/// another), flushes, prints `RESULT {json}` and exits.
fn child_main(mode: &str) -> ! {
    use tracing_subscriber::fmt;
    use tracing_subscriber::{EnvFilter, Layer};
    let recorder = MemorySender::new();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(Arc::new(recorder.clone())))
            .max_queue_size(100_000),
    )
    .expect("client");
    // The README's setup: the filter on the fmt layer alone (here writing
    // nowhere), this crate's layer unfiltered.
    let readme_fmt = || {
        fmt::layer()
            .with_writer(std::io::sink)
            .with_filter(EnvFilter::new("info,sqlx=debug"))
    };
    let registry = tracing_subscriber::registry().with(CaptureWarnings);
    let (subscriber, n, concurrent): (Box<dyn tracing::Subscriber + Send + Sync>, usize, bool) =
        match mode {
            // The README's tracing example as it was: the layer on the
            // global client, which nobody set; the tower layer on `client`.
            "global-layer" => (
                Box::new(
                    registry
                        .with(readme_fmt())
                        .with(insights_events::integrations::tracing::InsightsTracingLayer::new()),
                ),
                3,
                false,
            ),
            "readme" => (
                Box::new(registry.with(readme_fmt()).with(client.tracing_layer())),
                24,
                true,
            ),
            "readme-setup-queries" => (
                Box::new(
                    registry
                        .with(readme_fmt())
                        .with(client.tracing_layer().connection_setup_queries(true)),
                ),
                24,
                true,
            ),
            "env-filter" => (
                Box::new(
                    registry
                        .with(client.tracing_layer())
                        .with(EnvFilter::new("info,sqlx=debug")),
                ),
                24,
                true,
            ),
            // A filter that lets sqlx's queries through, not the request
            // span.
            "filter-without-span" => (
                Box::new(
                    registry
                        .with(client.tracing_layer())
                        .with(EnvFilter::new("warn,sqlx=debug")),
                ),
                3,
                true,
            ),
            other => panic!("unknown mode {other}"),
        };
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    let rt = runtime();
    let addr = rt.block_on(async {
        // Connections open when a request first needs one: sqlx-sqlite runs
        // its setup statements (`PRAGMA …`) inside that request.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_lazy("sqlite::memory:")
            .expect("pool");
        let app = Router::new()
            .route("/q/{i}", get(two_queries))
            .with_state(pool)
            .layer(client.tower_layer());
        listen(app).await
    });
    let one = |i: usize| {
        let (status, _) = get_path(addr, &format!("/q/{i}"), Some(&format!("{mode}-{i}")));
        assert_eq!(status, Some(200), "request {i}");
    };
    if concurrent {
        std::thread::scope(|s| {
            for i in 0..n {
                s.spawn(move || one(i));
            }
        });
    } else {
        (0..n).for_each(one);
    }
    assert!(client.flush(Duration::from_secs(20)).completed);
    let events: Vec<Value> = recorder.events().into_iter().map(|e| e.fields).collect();
    let warnings = WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let result = serde_json::json!({ "events": events, "warnings": warnings });
    println!("\nRESULT {result}");
    std::io::stdout().flush().expect("flush");
    std::process::exit(0)
}

/// Runs `mode` in a child process for the test `test` (or, in the child,
/// runs the child).
fn setup(test: &str, mode: &str) -> Seen {
    if let Ok(mode) = std::env::var(CHILD) {
        child_main(&mode);
    }
    run_child(test, mode)
}

/// Asserts that every `db.query` of `seen` belongs to a request `{mode}-{i}`
/// and names the same `i` in its text, and that there are `2 n` of them.
fn queries_keep_their_request_ids(seen: &Seen, mode: &str, n: usize) {
    let mut queries: Vec<&Value> = seen.of_type("db.query");
    queries.retain(|q| !q["query"].as_str().unwrap_or("").starts_with("PRAGMA"));
    assert_eq!(queries.len(), 2 * n, "{:#?}", seen.events);
    for q in queries {
        let id = q["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a query without a request id: {q}"));
        let i = id
            .strip_prefix(&format!("{mode}-"))
            .unwrap_or_else(|| panic!("{id}"));
        let text = q["query"].as_str().expect("query");
        assert!(
            text == format!("SELECT {i} AS a") || text == format!("SELECT {i} + 1 AS b"),
            "a query carries its own request's id: {q}"
        );
    }
    assert_eq!(seen.of_type("tower.request").len(), n);
}

#[test]
fn a_tracing_layer_on_an_absent_global_client_says_so_once() {
    let seen = setup(
        "a_tracing_layer_on_an_absent_global_client_says_so_once",
        "global-layer",
    );
    assert_eq!(seen.of_type("tower.request").len(), 3);
    assert_eq!(seen.of_type("db.query").len(), 0, "{:#?}", seen.events);
    assert_eq!(seen.warnings, [NO_GLOBAL_WARNING]);
}

#[test]
fn a_filter_that_keeps_the_request_span_from_the_layer_says_so_once() {
    let seen = setup(
        "a_filter_that_keeps_the_request_span_from_the_layer_says_so_once",
        "filter-without-span",
    );
    assert_eq!(seen.warnings, [FILTERED_SPAN_WARNING]);
    // What the warning is about: the queries arrive, without their ids.
    let queries = seen.of_type("db.query");
    assert_eq!(queries.len(), 6, "{:#?}", seen.events);
    assert!(queries.iter().all(|q| q.get("request_id").is_none()));
    assert_eq!(seen.of_type("tower.request").len(), 3);
}

#[test]
fn an_env_filter_of_info_and_sqlx_debug_keeps_every_request_id() {
    let seen = setup(
        "an_env_filter_of_info_and_sqlx_debug_keeps_every_request_id",
        "env-filter",
    );
    queries_keep_their_request_ids(&seen, "env-filter", 24);
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
}

#[test]
fn the_readme_setup_keeps_every_request_id_and_no_setup_statement() {
    let seen = setup(
        "the_readme_setup_keeps_every_request_id_and_no_setup_statement",
        "readme",
    );
    queries_keep_their_request_ids(&seen, "readme", 24);
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
    let pragmas: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e["query"].as_str().is_some_and(|q| q.contains("PRAGMA")))
        .collect();
    assert!(pragmas.is_empty(), "{pragmas:#?}");
}

#[test]
fn connection_setup_statements_are_events_when_asked_for() {
    let seen = setup(
        "connection_setup_statements_are_events_when_asked_for",
        "readme-setup-queries",
    );
    queries_keep_their_request_ids(&seen, "readme-setup-queries", 24);
    let pragmas: Vec<_> = seen
        .of_type("db.query")
        .into_iter()
        .filter(|q| q["query"].as_str().is_some_and(|q| q.starts_with("PRAGMA")))
        .collect();
    // One per connection the pool opened (at most 4), inside the request
    // that needed it.
    assert!((1..=4).contains(&pragmas.len()), "{pragmas:#?}");
    for p in pragmas {
        assert!(p["query"]
            .as_str()
            .is_some_and(|q| q.contains("PRAGMA foreign_keys = ON")));
        assert!(
            p["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("readme-setup-queries-")),
            "{p}"
        );
    }
}
