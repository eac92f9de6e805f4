//! The fault matrix: transient faults within the retry budget lose nothing;
//! everything given up is reported with its reason; the counts add up.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::fault::{closed_port_url, Fault, FaultServer};
use insights_events::{Client, Config, DbQuery, DropReason, Response, Stats};
use serde_json::json;

const LONG: Duration = Duration::from_secs(30);

fn config(url: &str) -> Config {
    Config::new()
        .api_key("hbp_fault_key")
        .endpoint(url)
        .request_timeout(Duration::from_millis(500))
        .retry_backoff(Duration::from_millis(5))
        .retry_backoff_max(Duration::from_millis(40))
        .throttle_wait(Duration::from_millis(30))
        .batch_timeout(Duration::from_secs(3600))
        .response_queue_size(100_000)
}

fn event(i: usize) -> DbQuery {
    let mut q = DbQuery::new(format!("SELECT {i}"), i as f64);
    q.extra.insert("eid".into(), json!(i));
    q
}

fn assert_adds_up(s: &Stats) {
    assert_eq!(s.pending(), 0, "{s:?}");
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
}

fn responses_by_reason(client: &Client) -> HashMap<Option<DropReason>, usize> {
    let mut m = HashMap::new();
    for r in client.responses().try_iter() {
        let r: Response = r;
        *m.entry(r.reason).or_default() += 1;
    }
    m
}

fn assert_exactly_once(server: &FaultServer, n: usize) {
    let d = server.delivered();
    for i in 0..n {
        assert_eq!(
            d.get(&i.to_string()).copied(),
            Some(1),
            "event {i} delivered exactly once"
        );
    }
    assert_eq!(d.len(), n);
    for batch in server.batches() {
        let ids: Vec<usize> = batch.iter().map(|s| s.parse().unwrap()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "in order within a batch: {ids:?}"
        );
    }
}

#[test]
fn transient_faults_within_the_budget_lose_nothing() {
    use Fault::*;
    let script = vec![
        Status(500),
        Status(201),
        Status(502),
        Status(201),
        Status(503),
        Status(201),
        Hang,
        Status(201),
        CloseMidRequest,
        Status(201),
        Reset,
        Status(201),
        TooManyRequests(Some("0")),
        Status(201),
        TooManyRequests(None),
        Status(201),
        Delay(Duration::from_millis(100), 201),
        Status(500),
        Status(503),
        Status(502),
        Status(201),
    ];
    let server = FaultServer::scripted(script, Status(201));
    let client = Client::new(
        config(&server.url)
            .batch_size(10)
            .max_in_flight(1)
            .max_batch_retries(3),
    )
    .unwrap();
    let _responses = client.responses(); // responses are built once asked for
    for i in 0..100 {
        event(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    assert_exactly_once(&server, 100);
    let s = client.stats();
    assert_eq!(s.sent, 100);
    assert_eq!(s.retried, 11);
    assert_adds_up(&s);
    assert_eq!(responses_by_reason(&client), HashMap::from([(None, 100)]));
}

#[test]
fn transient_faults_with_concurrent_batches_lose_nothing() {
    let kinds = [
        Fault::Status(500),
        Fault::Status(503),
        Fault::CloseMidRequest,
        Fault::Reset,
        Fault::TooManyRequests(Some("0")),
        Fault::Hang,
    ];
    let server = FaultServer::start(move |i| {
        if i % 3 == 0 {
            kinds[(i / 3) % kinds.len()].clone()
        } else {
            Fault::Status(201)
        }
    });
    let client = Client::new(
        config(&server.url)
            .batch_size(50)
            .max_in_flight(4)
            .max_batch_retries(10),
    )
    .unwrap();
    let _responses = client.responses(); // responses are built once asked for
    for i in 0..2_000 {
        event(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    assert_exactly_once(&server, 2_000);
    let s = client.stats();
    assert_eq!(s.sent, 2_000);
    assert!(s.retried > 0);
    assert_adds_up(&s);
}

#[test]
fn events_given_up_are_reported_with_their_reason() {
    let cases: Vec<(&str, Option<FaultServer>, DropReason)> = vec![
        (
            "5xx forever",
            Some(FaultServer::scripted(vec![], Fault::Status(500))),
            DropReason::RetriesExhausted,
        ),
        (
            "reset forever",
            Some(FaultServer::scripted(vec![], Fault::Reset)),
            DropReason::RetriesExhausted,
        ),
        ("refused", None, DropReason::RetriesExhausted),
        (
            "400",
            Some(FaultServer::scripted(vec![], Fault::Status(400))),
            DropReason::Rejected,
        ),
        (
            "401",
            Some(FaultServer::scripted(vec![], Fault::Status(401))),
            DropReason::Unauthorized,
        ),
        (
            "403",
            Some(FaultServer::scripted(vec![], Fault::Status(403))),
            DropReason::Unauthorized,
        ),
        (
            "413 alone",
            Some(FaultServer::scripted(vec![], Fault::TooLargeOver(0))),
            DropReason::TooLarge,
        ),
    ];
    for (name, server, reason) in cases {
        let url = server
            .as_ref()
            .map(|s| s.url.clone())
            .unwrap_or_else(closed_port_url);
        let client = Client::new(config(&url).batch_size(5).max_batch_retries(2)).unwrap();
        let _responses = client.responses(); // responses are built once asked for
        for i in 0..20 {
            event(i).send_with(&client).unwrap();
        }
        assert!(client.flush(LONG).completed, "{name}");
        let s = client.stats();
        assert_eq!(s.sent, 0, "{name}");
        assert_eq!(s.by_reason(reason), 20, "{name}: {s:?}");
        assert_adds_up(&s);
        assert_eq!(
            responses_by_reason(&client),
            HashMap::from([(Some(reason), 20)]),
            "{name}"
        );
        if let Some(server) = server {
            assert!(server.delivered().is_empty(), "{name}");
        }
    }
}

#[test]
fn accept_the_first_requests_then_fail_and_every_event_is_accounted_for() {
    // The first 3 requests succeed, then the backend refuses everything.
    let server = FaultServer::start(|i| {
        if i < 3 {
            Fault::Status(201)
        } else {
            Fault::Status(422)
        }
    });
    let client = Client::new(
        config(&server.url)
            .batch_size(10)
            .max_in_flight(1)
            .max_event_bytes(2_000),
    )
    .unwrap();
    let _responses = client.responses(); // responses are built once asked for
    let mut attempted = 0;
    for i in 0..100 {
        attempted += 1;
        if i == 7 {
            // One oversized neighbour in the first batch.
            let mut big = event(i);
            big.query = "x".repeat(5_000);
            big.send_with(&client).unwrap();
        } else {
            event(i).send_with(&client).unwrap();
        }
    }
    assert!(client.flush(LONG).completed);
    let s = client.stats();
    assert_eq!(s.attempted, attempted);
    assert_adds_up(&s);
    assert_eq!(s.dropped_too_large, 1);
    assert_eq!(s.sent, 30, "three batches of ten accepted");
    assert_eq!(server.delivered().len() as u64, s.sent);
    assert!(!server.delivered().contains_key("7"));
    assert_eq!(s.failed_rejected, 100 - 30 - 1);
    let by = responses_by_reason(&client);
    assert_eq!(by[&None], 30);
    assert_eq!(by[&Some(DropReason::Rejected)], 69);
    assert_eq!(by[&Some(DropReason::TooLarge)], 1);
}

#[test]
fn a_413_splits_until_the_batches_fit() {
    let server = FaultServer::scripted(vec![], Fault::TooLargeOver(700));
    let client = Client::new(config(&server.url).batch_size(64)).unwrap();
    let _responses = client.responses(); // responses are built once asked for
    for i in 0..64 {
        event(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    assert_exactly_once(&server, 64);
    assert_adds_up(&client.stats());
}
