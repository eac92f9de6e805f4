//! Nothing fails in silence: every event given up on is said once, with
//! its cause, the endpoint and the fix (later ones summarised), and
//! `flush`/`close` report what was lost. Against a closed port, the fault
//! server answering 404 and 401, and a server that delivers. One binary:
//! it owns the global `tracing` subscriber (the warnings come from the
//! worker's threads, which a thread's default subscriber does not reach);
//! one test reads a child process's stderr, where no subscriber is
//! installed.

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::fault::{closed_port_url, Fault, FaultServer};
use common::logs::Captured;
use common::{Reply, TestServer};
use insights_events::{Backend, Client, Config, DbQuery, DropReason, Event};
use tracing::Level;

const KEY: &str = "hbp_L0SS_k3y_n3ver_sh0wn";
const LONG: Duration = Duration::from_secs(30);
const CHILD: &str = "INSIGHTS_EVENTS_TEST_CHILD";
const URL: &str = "INSIGHTS_EVENTS_TEST_URL";

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(Captured::install)
}

/// The crate's warnings that name `url` (followed by its path: one port
/// may be the start of another).
fn warnings(url: &str) -> Vec<String> {
    let url = format!("{url}/");
    logs()
        .lines()
        .into_iter()
        .filter(|(l, s)| *l == Level::WARN && s.starts_with("insights_events ") && s.contains(&url))
        .map(|(_, s)| s)
        .collect()
}

/// No captured line holds the key.
fn assert_no_key() {
    for (_, line) in logs().lines() {
        assert!(!line.contains(KEY), "the key leaked: {line}");
    }
}

fn config(url: &str) -> Config {
    Config::new()
        .api_key(KEY)
        .endpoint(url)
        .request_timeout(Duration::from_secs(2))
        .max_batch_retries(1)
        .retry_backoff(Duration::from_millis(1))
        .retry_backoff_max(Duration::from_millis(5))
        .batch_timeout(Duration::from_secs(3600))
}

fn send(client: &Client, n: usize) {
    for i in 0..n {
        DbQuery::new(format!("SELECT {i}"), 1.0)
            .send_with(client)
            .unwrap();
    }
}

/// The receiver is down: one warning naming the reason, the endpoint, the
/// number of events and the fix; a flush that reports the loss; further
/// losses counted, not warned about again, and summarised at close.
#[test]
fn a_closed_port_is_one_warning_and_a_flush_that_says_so() {
    logs();
    let url = closed_port_url();
    let client = Client::new(config(&url)).unwrap();
    send(&client, 27);
    let outcome = client.flush(LONG);
    assert!(outcome.completed, "{outcome:?}");
    assert_eq!(outcome.pending, 0);
    assert!(!outcome.all_delivered());
    assert_eq!(outcome.lost.by_reason(DropReason::RetriesExhausted), 27);
    assert_eq!(outcome.lost.total(), 27);
    assert_eq!(
        outcome.to_string(),
        "27 events lost (retries_exhausted 27); 0 pending"
    );
    let w = warnings(&url);
    assert_eq!(w.len(), 1, "{w:#?}");
    for part in [
        "insights-events: lost 27 events (retries_exhausted): ".to_owned(),
        format!("the backend at {url}/v1/events could not be reached: connection failed"),
        "Check that the backend is up and that HONEYBADGER_ENDPOINT is right".to_owned(),
    ] {
        assert!(w[0].contains(&part), "{part:?} not in {}", w[0]);
    }

    // More losses within the interval: counted and reported by the next
    // flush, not warned about again.
    send(&client, 5);
    let again = client.flush(LONG);
    assert_eq!(again.lost.by_reason(DropReason::RetriesExhausted), 5);
    assert_eq!(warnings(&url).len(), 1, "{:#?}", warnings(&url));
    // Close: nothing more lost; the summary of the 5 is the last word.
    let closed = client.close(LONG);
    assert!(closed.all_delivered(), "{closed}");
    let w = warnings(&url);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[1].contains("insights-events: lost 5 more events since the last report (retries_exhausted 5), backend at"),
        "{}",
        w[1]
    );
    let s = client.stats();
    assert_eq!(s.failed_retries_exhausted, 32);
    assert_no_key();
}

/// A 404 (what a wrong endpoint path gets): one warning saying what the
/// endpoint should be.
#[test]
fn a_rejecting_backend_is_one_warning_naming_the_endpoint_setting() {
    logs();
    let server = FaultServer::scripted(vec![], Fault::Status(404));
    let client = Client::new(config(&server.url)).unwrap();
    send(&client, 26);
    let outcome = client.close(LONG);
    assert!(outcome.completed);
    assert!(!outcome.all_delivered());
    assert_eq!(outcome.lost.by_reason(DropReason::Rejected), 26);
    assert_eq!(
        outcome.to_string(),
        "26 events lost (rejected 26); 0 pending"
    );
    let w = warnings(&server.url);
    assert_eq!(w.len(), 1, "{w:#?}");
    for part in [
        "insights-events: lost 26 events (rejected, HTTP 404): ".to_owned(),
        format!("the backend at {}/v1/events refused them: the backend answered 404", server.url),
        "Check HONEYBADGER_ENDPOINT: it is the base URL, such as https://api.honeybadger.io; events are posted to <base>/v1/events".to_owned(),
    ] {
        assert!(w[0].contains(&part), "{part:?} not in {}", w[0]);
    }
    assert_no_key();
}

/// A backend whose refusal echoes the key: the warning carries its answer,
/// never the key.
#[test]
fn an_answer_echoing_the_key_is_warned_about_without_it() {
    logs();
    let server = TestServer::start(Reply::Body(400, format!("bad request; X-API-Key: {KEY}")));
    let client = Client::new(config(&server.url)).unwrap();
    send(&client, 2);
    let outcome = client.close(LONG);
    assert_eq!(outcome.lost.by_reason(DropReason::Rejected), 2);
    let w = warnings(&server.url);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].contains("(rejected, HTTP 400)"), "{}", w[0]);
    assert!(
        w[0].contains("bad request; X-API-Key: [REDACTED]"),
        "{}",
        w[0]
    );
    assert_no_key();
}

/// A 401: one warning naming the key's setting (never the key); with a
/// short summary interval, the next loss is summarised at once.
#[test]
fn a_refused_key_is_one_warning_then_a_summary() {
    logs();
    let server = FaultServer::scripted(vec![], Fault::Status(401));
    let client = Client::new(
        config(&server.url)
            .throttle_wait(Duration::from_secs(60))
            .loss_summary_interval(Duration::ZERO),
    )
    .unwrap();
    send(&client, 4);
    let outcome = client.flush(LONG);
    assert_eq!(outcome.lost.by_reason(DropReason::Unauthorized), 4);
    assert_eq!(
        outcome.to_string(),
        "4 events lost (unauthorized 4); 0 pending"
    );
    let w = warnings(&server.url);
    assert_eq!(w.len(), 1, "{w:#?}");
    for part in [
        "insights-events: lost 4 events (unauthorized, HTTP 401): ".to_owned(),
        format!(
            "the backend at {}/v1/events refused the API key",
            server.url
        ),
        "Check the API key (HONEYBADGER_API_KEY, Config::api_key)".to_owned(),
    ] {
        assert!(w[0].contains(&part), "{part:?} not in {}", w[0]);
    }
    // Sending is paused now: the next batch is lost too, and summarised.
    send(&client, 3);
    let outcome = client.flush(LONG);
    assert_eq!(outcome.lost.by_reason(DropReason::Unauthorized), 3);
    let w = warnings(&server.url);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[1].contains("lost 3 more events since the last report (unauthorized 3)"),
        "{}",
        w[1]
    );
    drop(client);
    assert_no_key();
}

/// Losses after the first warning are summarised once the interval has
/// passed, even when nothing else happens (no further loss, no close).
#[test]
fn a_summary_comes_without_a_further_loss_or_a_close() {
    logs();
    // Each batch is lost 300 ms after it is sent, when the worker has long
    // gone to sleep; the second within the interval of the first.
    let server = FaultServer::scripted(vec![], Fault::Delay(Duration::from_millis(300), 503));
    let url = server.url.clone();
    let client = Client::new(
        config(&url)
            .max_batch_retries(0)
            .loss_summary_interval(Duration::from_secs(2)),
    )
    .unwrap();
    // Sent from threads that are gone by then, so that no spool of theirs
    // makes the worker look again on its own.
    let send_off = |n| {
        let c = client.clone();
        std::thread::spawn(move || send(&c, n)).join().unwrap();
    };
    send_off(2);
    assert_eq!(client.flush(LONG).lost.total(), 2);
    send_off(3);
    assert_eq!(client.flush(LONG).lost.total(), 3);
    let deadline = std::time::Instant::now() + LONG;
    while warnings(&url).len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let w = warnings(&url);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[1].contains("lost 3 more events since the last report (retries_exhausted 3)"),
        "{}",
        w[1]
    );
    drop(client);
    assert_eq!(warnings(&url).len(), 2, "nothing left to say at close");
}

/// The full events URL, as people paste it, is understood: events go to
/// `/v1/events`, all delivered, nothing said.
#[test]
fn the_full_events_url_delivers() {
    logs();
    let server = TestServer::start(Reply::Status(201));
    let pasted = format!("{}/v1/events/", server.url);
    let from_env = Config::from_lookup(|k| match k {
        "HONEYBADGER_API_KEY" => Some(KEY.into()),
        "HONEYBADGER_ENDPOINT" => Some(pasted.clone()),
        _ => None,
    })
    .unwrap();
    for config in [from_env, config(&format!("{}/v1/events", server.url))] {
        let client = Client::new(config.batch_timeout(Duration::from_secs(3600))).unwrap();
        send(&client, 3);
        let outcome = client.close(LONG);
        assert!(outcome.all_delivered(), "{outcome}");
        assert_eq!(outcome.to_string(), "all delivered");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests.iter().all(|r| r.path == "/v1/events"),
        "{requests:?}"
    );
    assert_eq!(server.accepted_events().len(), 6);
    assert!(
        warnings(&server.url).is_empty(),
        "{:#?}",
        warnings(&server.url)
    );
}

/// A path the crate cannot use is refused when the client is built, with
/// what to write instead.
#[test]
fn a_bad_endpoint_path_is_refused_at_client_new() {
    let e = Client::new(
        Config::new()
            .api_key(KEY)
            .endpoint("http://127.0.0.1:18083/api"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("give the base URL, such as \"https://api.honeybadger.io\"; events are posted to <base>/v1/events"),
        "{e}"
    );
    assert!(!e.contains(KEY), "{e}");
    let e = Client::new(
        Config::new()
            .honeycomb_write_key(KEY)
            .honeycomb_api_host("https://api.honeycomb.io/1/batch/prod"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("HONEYCOMB_DATASET"), "{e}");
    assert!(!e.contains(KEY), "{e}");
    let e = Config::from_lookup(|k| {
        (k == "HONEYBADGER_ENDPOINT").then(|| "http://127.0.0.1:18083/v1/events?x=1".into())
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("HONEYBADGER_ENDPOINT") && e.contains("no query"),
        "{e}"
    );
}

/// A good setup: delivered, nothing said, and the outcome says so.
#[test]
fn a_good_setup_says_nothing() {
    logs();
    let server = FaultServer::scripted(vec![], Fault::Status(201));
    let client = Client::new(config(&server.url).batch_size(4)).unwrap();
    send(&client, 10);
    let outcome = client.flush(LONG);
    assert!(outcome.all_delivered(), "{outcome}");
    assert_eq!(client.stats().sent, 10);
    assert!(client.close(LONG).all_delivered());
    assert!(
        warnings(&server.url).is_empty(),
        "{:#?}",
        warnings(&server.url)
    );
}

/// Drops by the worker are losses too (an event over the size limit is
/// warned about); sampled events and events a hook dropped are deliberate:
/// counted, not warned about, not lost.
#[test]
fn too_large_is_said_and_deliberate_drops_are_not() {
    logs();
    let recorder = insights_events::transmission::MemorySender::new();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .max_event_bytes(300)
            .before_event(|ev| ev.get("event_type") != Some(serde_json::json!("drop.me"))),
    )
    .unwrap();
    let mut big = Event::new();
    big.add_field("event_type", "big.one")
        .add_field("blob", "x".repeat(1_000));
    big.send_with(&client).unwrap();
    let mut hooked = Event::new();
    hooked.add_field("event_type", "drop.me");
    hooked.send_with(&client).unwrap();
    let outcome = client.flush(LONG);
    assert_eq!(outcome.lost.by_reason(DropReason::TooLarge), 1);
    assert_eq!(outcome.lost.by_reason(DropReason::Hook), 0);
    assert_eq!(outcome.lost.total(), 1, "{outcome}");
    assert_eq!(client.stats().dropped_hook, 1);
    let w: Vec<_> = logs()
        .lines()
        .into_iter()
        .filter(|(l, s)| *l == Level::WARN && s.contains("(too_large)"))
        .collect();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].1.contains("lost 1 event (too_large): event is"),
        "{w:?}"
    );
    assert!(w[0].1.contains("over the limit of 300"), "{w:?}");
    assert!(!logs()
        .lines()
        .iter()
        .any(|(_, s)| s.contains("(hook") || s.contains("(sampled")));

    let sampled = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.into()))
            .sample_rate(0),
    )
    .unwrap();
    send(&sampled, 5);
    let outcome = sampled.close(LONG);
    assert_eq!(sampled.stats().dropped_sampled, 5);
    assert!(outcome.all_delivered(), "{outcome}");
}

/// With no subscriber installed, the warning is on stderr: once, with the
/// endpoint, never the key; and the README's shutdown line reads as a
/// loss.
#[test]
fn without_a_subscriber_the_warning_is_on_stderr() {
    if std::env::var(CHILD).as_deref() == Ok("stderr") {
        let url = std::env::var(URL).unwrap();
        let client = Client::new(config(&url)).unwrap();
        send(&client, 27);
        let outcome = client.close(LONG);
        if !outcome.all_delivered() {
            println!("outcome: {outcome}");
        }
        std::process::exit(0);
    }
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let url = closed_port_url();
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "without_a_subscriber_the_warning_is_on_stderr",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "stderr")
    .env(URL, &url);
    for (k, _) in std::env::vars() {
        if k.starts_with("HONEYBADGER_") || k.starts_with("HONEYCOMB_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    let out = c.output().expect("run the child process");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("insights-events: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "insights-events: lost 27 events (retries_exhausted): the backend at {url}/v1/events could not be reached: "
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY) && !stdout.contains(KEY));
    assert!(
        stdout.contains("outcome: 27 events lost (retries_exhausted 27); 0 pending"),
        "{stdout}"
    );
}
