//! An axum service with the tower layer and the tracing layer, whose
//! handlers run real SQL through sqlx on an in-memory SQLite database: one
//! request yields one `tower.request` event and its `db.query` events, all
//! with the same `request_id`. Then a graceful shutdown: stop serving, and
//! close the client with a deadline. One `Client` throughout: the tower
//! layer, the tracing layer and the shutdown use the same one.
//!
//! ```sh
//! cargo run --features tower,axum,tracing --example axum_sqlx -- --self-test   # two requests to itself, then exits
//! cargo run --features tower,axum,tracing --example axum_sqlx                  # serves 127.0.0.1:3000 until Ctrl-C
//! curl -H 'X-Request-ID: abc-123' http://127.0.0.1:3000/users/1
//! ```
//!
//! Without `HONEYBADGER_API_KEY` the events are printed as NDJSON on
//! stdout; with `HONEYBADGER_ENDPOINT=http://127.0.0.1:8080` they go to a
//! local `insights-events receive --port 8080`.

use std::io::{Read, Write};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use insights_events::{Client, Config};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use tracing_subscriber::{fmt, layer::SubscriberExt, EnvFilter, Layer};

async fn user(State(pool): State<SqlitePool>, Path(id): Path<i64>) -> String {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(&pool)
        .await
        .unwrap_or_default();
    name.unwrap_or_else(|| "nobody".into())
}

/// One GET over a plain socket (the self-test's client).
fn fetch(addr: std::net::SocketAddr, path: &str, id: &str) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: {id}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    Ok(answer.lines().next().unwrap_or("").to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::args().any(|a| a == "--self-test");
    let client = Client::new(Config::from_env()?)?;
    // sqlx logs its statements at DEBUG under `sqlx::query`: the tracing
    // layer turns them into `db.query` events. The filter (RUST_LOG, else
    // `info`) is the fmt layer's alone, so the tracing layer sees sqlx's
    // statements and the tower layer's request span; the log goes to
    // stderr (stdout has the events without a key).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .with(client.tracing_layer()),
    )?;

    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace')")
        .execute(&pool)
        .await?;

    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/health", get(|| async { "ok" }))
        .with_state(pool)
        .layer(client.tower_layer().skip_path("/health"));

    let addr = if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });

    if self_test {
        for (path, id) in [("/users/1", "self-test-1"), ("/users/2", "self-test-2")] {
            let status = tokio::task::spawn_blocking(move || fetch(addr, path, id)).await??;
            eprintln!("{path}: {status}");
        }
    } else {
        eprintln!("serving http://{addr} (Ctrl-C stops)");
        tokio::signal::ctrl_c().await?;
    }

    // Graceful shutdown: stop taking requests, let those in flight finish,
    // then deliver what is queued within one deadline, without blocking a
    // runtime thread.
    let _ = stop.send(());
    server.await??;
    let outcome = client.close_async(Duration::from_secs(5)).await;
    eprintln!("closed: {outcome:?}");
    Ok(())
}
