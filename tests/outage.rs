//! A long backend outage: bounded memory, a caller that never blocks, one
//! warning, and delivery when the backend returns. Plus the secrets check,
//! which reads the same captured logs. One binary: it owns the global
//! `tracing` subscriber and measures the process's memory.

mod common;

use std::time::{Duration, Instant};

use common::fault::{closed_port_url, Fault, FaultServer};
use common::logs::Captured;
use insights_events::{Client, Config, DbQuery, SendError};
use serde_json::json;
use tracing::Level;

const LONG: Duration = Duration::from_secs(60);

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn event(i: usize) -> DbQuery {
    let mut q =
        DbQuery::new(format!("SELECT * FROM t WHERE id = {i}"), 1.5).request_id(format!("req-{i}"));
    q.extra.insert("eid".into(), json!(i));
    q
}

#[test]
fn outage_then_recovery_and_no_secret_anywhere() {
    let logs = Captured::install();
    outage(&logs);
    secrets(&logs);
}

fn outage(logs: &Captured) {
    let server = FaultServer::scripted(vec![], Fault::Reset);
    let config = Config::new()
        .api_key("k")
        .endpoint(server.url.clone())
        .batch_size(1_000)
        .max_in_flight(4)
        .max_queue_size(10_000)
        .max_batch_retries(u32::MAX)
        .retry_backoff(Duration::from_millis(20))
        .retry_backoff_max(Duration::from_millis(100));
    let client = Client::new(config).unwrap();
    let rss_before = status_kb("VmRSS:");
    let mut peak_rss = rss_before;
    let mut full = 0u64;
    let mut slowest = Duration::ZERO;
    const N: usize = 300_000;
    for i in 0..N {
        let t = Instant::now();
        match event(i).send_with(&client) {
            Ok(()) => {}
            Err(SendError::QueueFull) => full += 1,
            Err(e) => panic!("{e}"),
        }
        slowest = slowest.max(t.elapsed());
        if i % 10_000 == 0 {
            peak_rss = peak_rss.max(status_kb("VmRSS:"));
        }
    }
    peak_rss = peak_rss.max(status_kb("VmRSS:"));
    let during = client.stats();
    assert!(
        server.requests() > 4,
        "the core kept retrying during the outage"
    );
    assert_eq!(during.dropped_overflow, full);
    assert!(full > 0);
    // The queue, 4 batches in flight and the open one, plus one chunk of
    // 32 in this thread's slot and one the worker holds.
    assert!(
        during.enqueued <= 10_000 + 4 * 1_000 + 1_000 + 2 * 32 + 10,
        "{during:?}"
    );

    // The backend comes back: what was queued goes out.
    server.set_plan(|_| Fault::Status(201));
    assert!(client.flush(LONG).completed);
    let s = client.stats();
    assert_eq!(s.attempted, N as u64);
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
    assert_eq!(
        s.sent, s.enqueued,
        "everything that got into the queue was delivered"
    );
    assert_eq!(server.delivered().len() as u64, s.sent);
    assert!(server.delivered().values().all(|n| *n == 1));
    assert_eq!(
        logs.count(Level::WARN, "queue full"),
        1,
        "one warning, not one per drop"
    );
    let growth_mb = (peak_rss.saturating_sub(rss_before)) as f64 / 1024.0;
    println!(
        "outage: attempted {} delivered {} dropped_overflow {} failed {} | RSS before {:.1} MB, peak {:.1} MB (+{:.1} MB) | slowest send {:?} | requests during outage {}",
        s.attempted,
        s.sent,
        s.dropped_overflow,
        s.failed(),
        rss_before as f64 / 1024.0,
        peak_rss as f64 / 1024.0,
        growth_mb,
        slowest,
        server.requests()
    );
    // 10,000 queued events plus 5 batches of 1,000 in flight: a few MB. The
    // bound is loose on purpose; the point is that 300,000 sends did not
    // make it grow with N.
    assert!(
        growth_mb < 64.0,
        "memory grew by {growth_mb:.1} MB during the outage"
    );
}

fn secrets(logs: &Captured) {
    const KEY: &str = "hbp_SECRET_d0nt_l3ak";
    let mut seen = String::new();
    // 401 (warns once), a refused connection, and a server that resets.
    let unauthorized = FaultServer::scripted(vec![], Fault::Status(401));
    let reset = FaultServer::scripted(vec![], Fault::Reset);
    for url in [
        unauthorized.url.clone(),
        closed_port_url(),
        reset.url.clone(),
    ] {
        let config = Config::new()
            .api_key(KEY)
            .endpoint(url)
            .max_batch_retries(1)
            .retry_backoff(Duration::from_millis(1));
        seen.push_str(&format!("{config:?}"));
        let client = Client::new(config).unwrap();
        let responses = client.responses();
        seen.push_str(&format!("{client:?}"));
        DbQuery::new("SELECT 1", 1.0).send_with(&client).unwrap();
        client.flush(LONG);
        for r in responses.try_iter() {
            seen.push_str(&format!("{r:?} {}", r.error.clone().unwrap_or_default()));
        }
        let r = client.close(Duration::from_secs(1));
        seen.push_str(&format!("{r:?}"));
    }
    // Configuration errors from the environment.
    let err = Config::from_lookup(|k| match k {
        "HONEYBADGER_API_KEY" => Some(KEY.into()),
        "HONEYBADGER_EVENTS_BATCH_SIZE" => Some("nope".into()),
        _ => None,
    })
    .unwrap_err();
    seen.push_str(&err.to_string());
    let bad_key = Client::new(Config::new().api_key(format!("{KEY}\n"))).unwrap_err();
    seen.push_str(&format!("{bad_key} {bad_key:?}"));
    for (_, line) in logs.lines() {
        seen.push_str(&line);
    }
    assert!(
        logs.count(Level::WARN, "refused the API key") >= 1,
        "{:?}",
        logs.lines()
    );
    assert!(seen.contains("Secret([REDACTED])"));
    assert!(!seen.contains("SECRET_d0nt"), "the key leaked: {seen}");
}
