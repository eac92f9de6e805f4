//! A scriptable HTTP server on 127.0.0.1 for transmission tests: records
//! every request (body decompressed), and answers from a script.
#![allow(dead_code)]

pub mod fault;
pub mod logs;

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// How the server answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    WithHeader(u16, &'static str, String),
    Body(u16, String),
    /// Never answer.
    Hang,
    /// Answer 413 when the (decompressed) body has more than this many lines.
    TooLargeOverLines(usize, u16),
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub raw_len: usize,
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// NDJSON lines, or the items of a Honeycomb array.
    pub fn events(&self) -> Vec<Value> {
        if self.body.first() == Some(&b'[') {
            return serde_json::from_slice::<Vec<Value>>(&self.body).expect("JSON array body");
        }
        self.body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
            .collect()
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    changed: Condvar,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    state: Arc<State>,
    _server: Loopback,
}

impl TestServer {
    /// A server that answers `default` (after the scripted replies).
    pub fn start(default: Reply) -> Self {
        let state = Arc::new(State::default());
        *state.default.lock().unwrap() = Some(default);
        let st = state.clone();
        let server = Loopback::start(move |listener| async move {
            let app =
                axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
                    let st = st.clone();
                    async move { handle(st, uri, headers, body).await }
                });
            axum::serve(listener, app).await.ok();
        });
        TestServer {
            addr: server.addr,
            url: server.url.clone(),
            state,
            _server: server,
        }
    }

    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Events in requests answered with a 2xx.
    pub fn accepted_events(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| r.events())
            .collect()
    }

    /// Waits until `n` requests arrived or `timeout` passed.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        wait_until(&self.state.requests, &self.state.changed, timeout, |r| {
            r.len() >= n
        })
    }
}

/// A server on its own runtime thread, listening on 127.0.0.1 (any free
/// port); it stops when dropped.
pub struct Loopback {
    pub addr: SocketAddr,
    pub url: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Loopback {
    /// Binds a listener and runs `serve` on it.
    pub fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                tokio::spawn(serve(listener));
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            });
            // Hanging handlers are dropped with the runtime.
            rt.shutdown_background();
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server started");
        Loopback {
            addr,
            url: format!("http://{addr}"),
            stop: Some(stop),
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Waits on `cv` until `done` holds for the value behind `m`, or `timeout`.
pub fn wait_until<T>(
    m: &Mutex<T>,
    cv: &Condvar,
    timeout: Duration,
    done: impl Fn(&T) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    let mut g = m.lock().unwrap();
    while !done(&g) {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        g = cv.wait_timeout(g, deadline - now).unwrap().0;
    }
    true
}

/// Decompresses a request body by its `Content-Encoding`.
pub fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        Some("deflate") => {
            flate2::read::ZlibDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid zlib");
        }
        #[cfg(feature = "zstd")]
        Some("zstd") => out = zstd::decode_all(body).expect("valid zstd"),
        _ => out.extend_from_slice(body),
    }
    out
}

async fn handle(st: Arc<State>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let decoded = decode(
        headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        &body,
    );
    let reply = {
        let next = st.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| {
            st.default
                .lock()
                .unwrap()
                .clone()
                .unwrap_or(Reply::Status(201))
        })
    };
    let lines = decoded
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let (status, resp): (u16, Response) = match reply {
        Reply::Status(s) => (s, StatusCode::from_u16(s).unwrap().into_response()),
        Reply::WithHeader(s, k, v) => (
            s,
            (StatusCode::from_u16(s).unwrap(), [(k, v)]).into_response(),
        ),
        Reply::Body(s, b) => (s, (StatusCode::from_u16(s).unwrap(), b).into_response()),
        Reply::TooLargeOverLines(max, ok) => {
            let s = if lines > max { 413 } else { ok };
            (s, StatusCode::from_u16(s).unwrap().into_response())
        }
        Reply::Hang => {
            record(&st, &uri, &headers, decoded, body.len(), 0);
            std::future::pending::<()>().await;
            unreachable!()
        }
    };
    record(&st, &uri, &headers, decoded, body.len(), status);
    resp
}

fn record(st: &State, uri: &Uri, headers: &HeaderMap, body: Vec<u8>, raw_len: usize, status: u16) {
    st.requests.lock().unwrap().push(Recorded {
        path: uri.path().to_owned(),
        headers: headers.clone(),
        body,
        raw_len,
        status,
    });
    st.changed.notify_all();
}
