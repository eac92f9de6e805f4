//! `insights-events receive`: a local Honeybadger Insights / Honeycomb
//! receiver that validates and prints every event, and sums them up when it
//! stops (Ctrl-C, SIGTERM).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use insights_events::check::{Invalid, Options, Tally};
use insights_events::loaded::LoadedSchemas;

struct Receiver {
    opts: Options,
    loaded: LoadedSchemas,
    out: Option<Mutex<BufWriter<File>>>,
    tally: Mutex<Tally>,
}

/// Runs the receiver until Ctrl-C or SIGTERM, then prints the summary.
pub fn run(
    bind: IpAddr,
    port: u16,
    out: Option<PathBuf>,
    opts: Options,
    loaded: LoadedSchemas,
) -> Result<i32, String> {
    let out = match out {
        Some(p) => Some(Mutex::new(BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| format!("cannot open {}: {e}", p.display()))?,
        ))),
        None => None,
    };
    let state = Arc::new(Receiver {
        opts,
        loaded,
        out,
        tally: Mutex::new(Tally::default()),
    });
    let summary_of = state.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = rt.block_on(async move {
        let addr = SocketAddr::new(bind, port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        println!("listening on http://{local}");
        std::io::stdout().flush().ok();
        let app = router(state);
        axum::serve(listener, app)
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| format!("server error: {e}"))?;
        Ok(0)
    });
    // Whatever ended it: what was received.
    let tally = summary_of.tally.lock().unwrap_or_else(|e| e.into_inner());
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", summary(&tally));
    let _ = stdout.flush();
    drop(stdout);
    if result.is_ok() {
        eprintln!("stopped");
    }
    result
}

/// Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `received 7 events: 4 valid, 2 invalid, 1 unknown`, then the table per
/// event type.
fn summary(tally: &Tally) -> String {
    let (valid, invalid) = tally.totals();
    let n = tally.received();
    format!(
        "received {n} event{}: {valid} valid, {invalid} invalid, {} unknown\n{tally}",
        if n == 1 { "" } else { "s" },
        tally.unknown_total()
    )
}

fn router(state: Arc<Receiver>) -> Router {
    Router::new()
        .route("/v1/events", post(insights))
        // honeybadger-python posts to `/v1/events/`.
        .route("/v1/events/", post(insights))
        .route("/1/batch/{dataset}", post(honeycomb))
        .layer(DefaultBodyLimit::max(256 << 20))
        .with_state(state)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The body, decompressed by its `Content-Encoding`.
/// A failed request: status and message (sent as `{"error": message}`).
type Failure = (StatusCode, String);

fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let enc = header(headers, "content-encoding")
        .unwrap_or("identity")
        .to_ascii_lowercase();
    let mut out = Vec::new();
    let res = match enc.as_str() {
        "identity" => return Ok(body.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body).read_to_end(&mut out),
        #[cfg(feature = "zstd")]
        "zstd" => zstd::stream::read::Decoder::new(body).and_then(|mut d| d.read_to_end(&mut out)),
        "deflate" => {
            // HTTP's deflate is a zlib stream; some clients send raw deflate.
            flate2::read::ZlibDecoder::new(body)
                .read_to_end(&mut out)
                .or_else(|_| {
                    out.clear();
                    flate2::read::DeflateDecoder::new(body).read_to_end(&mut out)
                })
        }
        other => {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {other:?}"),
            ))
        }
    };
    res.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("cannot decode {enc} body: {e}"),
        )
    })?;
    Ok(out)
}

impl Receiver {
    /// Validates, prints and records one event; returns why it is invalid.
    fn handle(
        &self,
        raw: &[u8],
        value: Value,
        lines: &mut String,
        out: &mut Vec<u8>,
    ) -> Option<Invalid> {
        let summary = describe(&value);
        let checked = self.loaded.check_value(value, self.opts);
        lines.push_str(&summary);
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        let result = match checked {
            Ok(c) if c.known => {
                tally.valid(&c.event_type);
                None
            }
            Ok(c) => {
                // Accepted (--allow-unknown), and still shown as unknown.
                tally.unknown(&c.event_type);
                lines.push_str("  ? ");
                lines.push_str(&self.loaded.unknown(&c.event_type).to_string());
                lines.push_str(" (accepted: --allow-unknown)");
                None
            }
            Err(e) => {
                match (&e.event_type, e.is_unknown_event_type()) {
                    (Some(t), true) => tally.unknown(t),
                    _ => tally.invalid(e.event_type.as_deref()),
                }
                lines.push_str("  ✗ ");
                lines.push_str(&e.to_string());
                Some(e)
            }
        };
        drop(tally);
        lines.push('\n');
        out.extend_from_slice(raw);
        out.push(b'\n');
        result
    }

    /// Counts an event that is not even an event object.
    fn invalid(&self, event_type: Option<&str>) {
        self.tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .invalid(event_type);
    }

    fn flush(&self, lines: &str, out: &[u8]) -> Result<(), Failure> {
        {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(lines.as_bytes());
            let _ = stdout.flush();
        }
        if let Some(file) = &self.out {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            f.write_all(out).and_then(|_| f.flush()).map_err(|e| {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot write the out file: {e}"),
                )
            })?;
        }
        Ok(())
    }
}

/// `POST /v1/events`: NDJSON, as Honeybadger Insights takes it.
async fn insights(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    if header(&headers, "x-api-key").is_none() {
        return error(StatusCode::UNAUTHORIZED, "missing X-API-Key header");
    }
    let body = match decode(&headers, &body) {
        Ok(b) => b,
        Err((status, msg)) => return error(status, msg),
    };
    let mut lines = String::new();
    let mut out = Vec::with_capacity(body.len() + 16);
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => {
                rx.handle(line, v, &mut lines, &mut out);
            }
            Err(e) => {
                let e = insights_events::check::from_json_error(None, &e);
                rx.invalid(None);
                lines.push_str(&format!("line {}: ✗ {e}\n", i + 1));
            }
        }
    }
    if let Err((status, msg)) = rx.flush(&lines, &out) {
        return error(status, msg);
    }
    (StatusCode::CREATED, Json(json!({}))).into_response()
}

/// `POST /1/batch/{dataset}`: Honeycomb's batch API.
async fn honeycomb(
    State(rx): State<Arc<Receiver>>,
    Path(_dataset): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if header(&headers, "x-honeycomb-team").is_none() {
        return error(
            StatusCode::UNAUTHORIZED,
            "unknown API key - check your credentials",
        );
    }
    let body = match decode(&headers, &body) {
        Ok(b) => b,
        Err((status, msg)) => return error(status, msg),
    };
    let items: Vec<Value> = match serde_json::from_slice(&body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "request body should be a JSON array",
            )
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("request body is malformed: {e}"),
            )
        }
    };
    let mut lines = String::new();
    let mut out = Vec::new();
    let mut statuses = Vec::with_capacity(items.len());
    for item in items {
        let data = match item {
            Value::Object(mut m) => m.remove("data"),
            _ => None,
        };
        match data {
            Some(data @ Value::Object(_)) => {
                let raw = serde_json::to_vec(&data).unwrap_or_default();
                match rx.handle(&raw, data, &mut lines, &mut out) {
                    None => statuses.push(json!({"status": 202})),
                    Some(e) => statuses.push(json!({"status": 400, "error": e.to_string()})),
                }
            }
            _ => {
                rx.invalid(None);
                lines.push_str("(honeycomb item)  ✗ $: expected {\"data\": {...}}\n");
                statuses.push(json!({"status": 400, "error": "event has no data object"}));
            }
        }
    }
    if let Err((status, msg)) = rx.flush(&lines, &out) {
        return error(status, msg);
    }
    (StatusCode::OK, Json(Value::Array(statuses))).into_response()
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn num_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).filter(|x| x.is_number()).map(Value::to_string)
}

/// A duration in milliseconds as people read it: two decimals at most
/// (two significant digits below 1 ms), no trailing zeros:
/// `0.384762999…` → `0.38ms`, `2.5` → `2.5ms`, `3200` → `3200ms`.
fn millis(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 1.0 || a == 0.0 || !a.is_finite() {
        2
    } else {
        (1 - a.log10().floor() as i32).clamp(2, 9) as usize
    };
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    format!("{s}ms")
}

fn clip(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        let mut t: String = one_line.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        one_line
    }
}

/// One line for an event: its type and key fields.
fn describe(v: &Value) -> String {
    let et = str_field(v, "event_type").unwrap_or("(no event_type)");
    let mut parts = vec![et.to_owned()];
    let duration = v.get("duration").and_then(Value::as_f64).map(millis);
    if v.get("path").is_some() || v.get("method").is_some() {
        parts.extend(str_field(v, "method").map(str::to_owned));
        parts.extend(str_field(v, "path").map(str::to_owned));
        parts.extend(num_field(v, "status"));
        parts.extend(duration);
    } else if let Some(q) = str_field(v, "query") {
        parts.extend(duration);
        parts.push(clip(q, 80));
    } else if let Some(t) = str_field(v, "task_name") {
        parts.push(t.to_owned());
        parts.extend(str_field(v, "state").map(str::to_owned));
        parts.extend(duration);
    } else if let Value::Object(m) = v {
        let keys: Vec<&str> = m
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "event_type" && *k != "ts")
            .take(6)
            .collect();
        parts.push(format!("{{{}}}", keys.join(", ")));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_table() {
        for (x, want) in [
            (0.384_762_999_999_999_97, "0.38ms"),
            (2.5, "2.5ms"),
            (12.25, "12.25ms"),
            (3200.0, "3200ms"),
            (1234.5678, "1234.57ms"),
            (0.001_234, "0.0012ms"),
            (0.0, "0ms"),
            (1.0, "1ms"),
            (0.1, "0.1ms"),
        ] {
            assert_eq!(millis(x), want, "{x}");
        }
    }
}
