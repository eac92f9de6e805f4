//! An HTTP service that emits one request event per request, with a
//! `request_id` taken from `X-Request-ID` (or generated), and whose
//! `db.query` events carry the same `request_id` through the event context.
//!
//! ```sh
//! cargo run --example axum_service            # serves http://127.0.0.1:3000 until Ctrl-C
//! curl -H 'X-Request-ID: abc-123' http://127.0.0.1:3000/users/42
//! cargo run --example axum_service -- --self-test   # two requests to itself, then exits
//! ```

use std::time::{Duration, Instant};

use axum::extract::{Path, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use insights_events::context::{self, FutureExt};
use insights_events::{AsgiRequest, Config, DbQuery};
use serde_json::json;

/// A random UUID (version 4 layout).
fn new_request_id() -> String {
    let (a, b): (u64, u64) = (rand::random(), rand::random());
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Sets the event context for the request and sends its request event.
async fn instrument(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let start = Instant::now();
    // Everything sent while the handler runs carries this request_id, on
    // whichever runtime thread the task happens to run.
    let response = next
        .run(req)
        .with_event_context([("request_id", json!(request_id))])
        .await;
    // The request event itself (the context is gone here, so set it explicitly).
    let _ = AsgiRequest::new(path, method)
        .status(i64::from(response.status().as_u16()))
        .duration(start.elapsed().as_secs_f64() * 1000.0)
        .request_id(request_id)
        .send();
    response
}

async fn user(Path(id): Path<u64>) -> String {
    let t = Instant::now();
    tokio::time::sleep(Duration::from_millis(2)).await; // the "query"
    let _ = DbQuery::new(
        "SELECT * FROM users WHERE id = $1",
        t.elapsed().as_secs_f64() * 1000.0,
    )
    .params(json!([id]))
    .send();
    context::set("user_id", id); // later events of this request get it too
    let _ = DbQuery::new("SELECT * FROM orders WHERE user_id = $1", 0.8)
        .params(json!([id]))
        .send();
    format!("user {id}\n")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = insights_events::init(Config::from_env()?)?;
    let app = Router::new()
        .route("/users/{id}", get(user))
        .layer(middleware::from_fn(instrument));
    let self_test = std::env::args().any(|a| a == "--self-test");
    let addr = if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    eprintln!("listening on http://{local}");
    if !self_test {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                tokio::signal::ctrl_c().await.ok();
            })
            .await?;
        return Ok(());
    }
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    http.get(format!("http://{local}/users/42"))
        .header("X-Request-ID", "abc-123")
        .send()
        .await?;
    http.get(format!("http://{local}/users/7")).send().await?;
    server.abort();
    insights_events::flush(Duration::from_secs(5));
    Ok(())
}
