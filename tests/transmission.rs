//! The transmission core against a real HTTP server on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Reply, TestServer};
use insights_events::transmission::MemorySender;
use insights_events::{
    AsgiRequest, Backend, CeleryTaskFinished, Client, Compression, Config, DbQuery, DjangoRequest,
    DropReason, Event, FlaskRequest, SendError,
};
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(20);

fn hb(server: &TestServer) -> Config {
    Config::new()
        .api_key("hbp_test_key_123")
        .endpoint(server.url.clone())
        .retry_backoff(Duration::from_millis(5))
        .retry_backoff_max(Duration::from_millis(20))
}

fn query(i: usize) -> DbQuery {
    DbQuery::new(format!("SELECT {i}"), i as f64).request_id(format!("req-{i}"))
}

fn without_ts(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("ts");
    v
}

#[test]
fn honeybadger_request_has_headers_and_ndjson_body() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(hb(&server).batch_size(3)).unwrap();
    for i in 0..3 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/v1/events");
    assert_eq!(r.header("x-api-key").as_deref(), Some("hbp_test_key_123"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let ua = r.header("user-agent").unwrap();
    assert!(
        ua.starts_with(concat!(
            "insights-events/",
            env!("CARGO_PKG_VERSION"),
            "; rust/"
        )),
        "{ua}"
    );
    assert_eq!(ua.split("; ").count(), 3, "{ua}");
    assert!(r.body.ends_with(b"\n"));
    let events = r.events();
    assert_eq!(events.len(), 3);
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(ev["event_type"], "db.query");
        assert_eq!(ev["query"], format!("SELECT {i}"));
        let ts = ev["ts"].as_str().unwrap();
        // 2026-11-21T08:49:52.498082Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(
            ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.',
            "{ts}"
        );
    }
    assert_eq!(client.stats().sent, 3);
}

#[test]
fn batches_by_count() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(hb(&server).batch_size(10)).unwrap();
    for i in 0..25 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    let mut sizes: Vec<usize> = server.requests().iter().map(|r| r.events().len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![5, 10, 10]);
}

#[test]
fn batches_by_time_without_flush() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(
        hb(&server)
            .batch_size(1000)
            .batch_timeout(Duration::from_millis(50)),
    )
    .unwrap();
    for i in 0..3 {
        query(i).send_with(&client).unwrap();
    }
    assert!(
        server.wait_requests(1, LONG),
        "the batch timer sent the partial batch"
    );
    assert_eq!(server.requests()[0].events().len(), 3);
}

#[test]
fn compression_round_trips() {
    for (compression, name) in [
        (Compression::Gzip, "gzip"),
        (Compression::Deflate, "deflate"),
    ] {
        let server = TestServer::start(Reply::Status(201));
        let client = Client::new(hb(&server).compression(compression)).unwrap();
        for i in 0..50 {
            query(i).send_with(&client).unwrap();
        }
        assert!(client.flush(LONG).completed);
        let r = &server.requests()[0];
        assert_eq!(r.header("content-encoding").as_deref(), Some(name));
        assert!(
            r.raw_len < r.body.len(),
            "{name} body is smaller than the NDJSON"
        );
        let got: Vec<Value> = r.events().into_iter().map(without_ts).collect();
        let want: Vec<Value> = (0..50)
            .map(|i| serde_json::to_value(query(i)).unwrap())
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn retries_after_500_then_succeeds() {
    let server = TestServer::start(Reply::Status(201));
    server.script([Reply::Status(500), Reply::Status(503)]);
    let client = Client::new(hb(&server)).unwrap();
    query(1).send_with(&client).unwrap();
    query(2).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    let s = client.stats();
    assert_eq!((s.sent, s.retried, s.failed()), (2, 2, 0));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.accepted_events().len(), 2);
}

#[test]
fn gives_up_after_the_retry_budget_and_reports_each_event() {
    let server = TestServer::start(Reply::Status(500));
    let client = Client::new(hb(&server).max_batch_retries(2)).unwrap();
    let responses = client.responses();
    for i in 0..3 {
        let mut ev = query(i).into_event();
        ev.set_metadata(json!({ "n": i }));
        client.send(ev).unwrap();
    }
    assert!(
        client.flush(LONG).completed,
        "failed for good counts as done"
    );
    assert_eq!(server.requests().len(), 3, "1 try + 2 retries");
    let s = client.stats();
    assert_eq!((s.sent, s.failed_retries_exhausted, s.retried), (0, 3, 2));
    let got: Vec<_> = (0..3)
        .map(|_| responses.recv_timeout(LONG).unwrap())
        .collect();
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.reason, Some(DropReason::RetriesExhausted));
        assert_eq!(r.metadata, Some(json!({ "n": i })));
        assert!(r.error.as_deref().unwrap().contains("500"));
    }
}

#[test]
fn honours_retry_after_on_429() {
    let server = TestServer::start(Reply::Status(201));
    server.script([Reply::WithHeader(429, "retry-after", "1".into())]);
    // Without Retry-After the wait would be an hour: flush could not finish.
    let client = Client::new(
        hb(&server)
            .throttle_wait(Duration::from_secs(3600))
            .max_batch_retries(0),
    )
    .unwrap();
    query(1).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        server.accepted_events().len(),
        1,
        "a 429 does not lose the batch or use the retry budget"
    );
}

#[test]
fn splits_a_batch_on_413() {
    let server = TestServer::start(Reply::TooLargeOverLines(2, 201));
    let client = Client::new(hb(&server).batch_size(8)).unwrap();
    for i in 0..8 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    let mut got: Vec<String> = server
        .accepted_events()
        .iter()
        .map(|e| e["query"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..8).map(|i| format!("SELECT {i}")).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(client.stats().sent, 8);
}

#[test]
fn an_oversized_event_is_rejected_alone() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(hb(&server)).unwrap();
    let responses = client.responses();
    query(1).send_with(&client).unwrap();
    let mut big = DbQuery::new("x".repeat(200_000), 1.0).into_event();
    big.set_metadata("big");
    client.send(big).unwrap();
    query(2).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    let events = server.accepted_events();
    assert_eq!(events.len(), 2);
    let s = client.stats();
    assert_eq!((s.sent, s.dropped_too_large), (2, 1));
    let mut reasons = Vec::new();
    while let Ok(r) = responses.try_recv() {
        reasons.push((r.metadata.clone(), r.reason));
    }
    assert!(
        reasons.contains(&(Some(json!("big")), Some(DropReason::TooLarge))),
        "{reasons:?}"
    );
}

#[test]
fn a_non_finite_number_is_rejected_alone() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(hb(&server)).unwrap();
    query(1).send_with(&client).unwrap();
    DbQuery::new("SELECT nan", f64::NAN)
        .send_with(&client)
        .unwrap();
    let mut ev = client.new_event();
    ev.add_field("event_type", "custom")
        .add_field("value", f64::INFINITY);
    ev.send().unwrap();
    query(2).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    assert_eq!(server.accepted_events().len(), 2);
    assert_eq!(client.stats().dropped_invalid, 2);
}

#[test]
fn flush_and_close_meet_their_deadline_when_the_server_hangs() {
    let server = TestServer::start(Reply::Hang);
    let client = Client::new(hb(&server).request_timeout(Duration::from_secs(3600))).unwrap();
    for i in 0..5 {
        query(i).send_with(&client).unwrap();
    }
    let t = Instant::now();
    let f = client.flush(Duration::from_millis(300));
    assert!(!f.completed);
    assert_eq!(f.pending, 5);
    let c = client.close(Duration::from_millis(300));
    assert!(!c.completed);
    assert_eq!(c.pending, 5);
    // Generous bound: the point is that neither waits for the server.
    assert!(t.elapsed() < Duration::from_secs(10));
    let s = client.stats();
    assert_eq!(s.dropped_closed, 5);
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed());
    assert_eq!(query(9).send_with(&client), Err(SendError::Closed));
}

#[test]
fn overflow_drops_new_events_and_counts_them() {
    let server = TestServer::start(Reply::Hang);
    let client = Client::new(hb(&server).max_queue_size(5).batch_size(1).max_in_flight(1)).unwrap();
    let responses = client.responses();
    let mut full = 0;
    for i in 0..200 {
        if query(i).send_with(&client) == Err(SendError::QueueFull) {
            full += 1;
        }
    }
    let s = client.stats();
    assert!(full > 0);
    assert_eq!(s.dropped_overflow, full);
    assert_eq!(s.attempted, 200);
    assert_eq!(s.enqueued + s.dropped_overflow, 200);
    let first = responses.recv_timeout(LONG).unwrap();
    assert_eq!(first.reason, Some(DropReason::Overflow));
    client.close(Duration::from_millis(200));
    let s = client.stats();
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
}

#[test]
fn block_on_send_loses_nothing() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(
        hb(&server)
            .max_queue_size(4)
            .batch_size(2)
            .block_on_send(true),
    )
    .unwrap();
    for i in 0..300 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    assert_eq!(server.accepted_events().len(), 300);
    assert_eq!(client.stats().dropped(), 0);
}

#[test]
fn unauthorized_pauses_sending() {
    let server = TestServer::start(Reply::Status(401));
    let client = Client::new(hb(&server).batch_size(1)).unwrap();
    query(1).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    query(2).send_with(&client).unwrap();
    assert!(client.flush(LONG).completed);
    assert_eq!(
        server.requests().len(),
        1,
        "the second batch is not sent while paused"
    );
    assert_eq!(client.stats().failed_unauthorized, 2);
}

/// Python: `int(hashlib.md5(id.encode()).hexdigest(), 16) % 100`.
const BUCKETS: &[(&str, u32)] = &[
    ("1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a", 59),
    ("abc", 70),
    ("request-1", 86),
    ("request-2", 84),
    ("9c5e8a2f-1b3d-4c6e-9f7a-2d4b6c8e0a1f", 45),
    ("x", 38),
    ("été", 10),
];

#[test]
fn sampling_matches_honeybadger_python() {
    for &(id, bucket) in BUCKETS {
        assert_eq!(insights_events::sampling::md5_bucket(id), bucket, "{id}");
        for rate in [0, 1, 10, 25, 50, 75, 99, 100] {
            assert_eq!(
                insights_events::sampling::honeybadger_keep(Some(id), rate),
                bucket < rate,
                "{id} at {rate}"
            );
        }
    }
    // End to end at 30%: exactly the ids whose bucket is below 30 arrive.
    let recorder = MemorySender::new();
    let client = Client::new(
        Config::new()
            .sample_rate(30)
            .backend(Backend::Custom(recorder.clone().into())),
    )
    .unwrap();
    for i in 0..40 {
        query(i).send_with(&client).unwrap();
    }
    // `_hb.sample_rate` overrides per event, and is not sent.
    let mut forced = client.new_event();
    forced
        .add_field("request_id", "req-2")
        .add_field("_hb", json!({"sample_rate": 100}));
    forced.send().unwrap();
    assert!(client.flush(LONG).completed);
    let mut got: Vec<String> = recorder
        .events()
        .iter()
        .map(|e| e.fields["request_id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = [
        0, 1, 8, 9, 10, 11, 13, 19, 22, 26, 27, 29, 31, 33, 34, 39, 2,
    ]
    .iter()
    .map(|i| format!("req-{i}"))
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(recorder
        .events()
        .iter()
        .all(|e| e.fields.get("_hb").is_none()));
    assert_eq!(client.stats().dropped_sampled, 40 - 16);
}

#[test]
fn hooks_change_drop_and_survive_panics() {
    let recorder = MemorySender::new();
    let config = Config::new()
        .backend(Backend::Custom(recorder.clone().into()))
        .before_event(|ev| {
            ev.fields_mut().insert("hooked".into(), json!(true));
            true
        })
        .before_event(|ev| ev.get("query") != Some(json!("SELECT 2")))
        .before_event(|ev| {
            if ev.get("query") == Some(json!("SELECT 3")) {
                panic!("a broken hook");
            }
            true
        });
    let client = Client::new(config).unwrap();
    for i in 1..=3 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    let events = recorder.events();
    let queries: Vec<_> = events.iter().map(|e| e.fields["query"].clone()).collect();
    assert_eq!(queries, vec![json!("SELECT 1"), json!("SELECT 3")]);
    assert!(events.iter().all(|e| e.fields["hooked"] == json!(true)));
    let s = client.stats();
    assert_eq!((s.dropped_hook, s.hook_panics, s.sent), (1, 1, 2));
}

#[test]
fn params_filters_apply_to_typed_and_hand_built_events() {
    let recorder = MemorySender::new();
    let client =
        Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    let params = json!({"password": "p", "q": "x", "user": {"credit_card": "4111", "name": "n"}});
    FlaskRequest::new("/login", "POST")
        .params(params.as_object().unwrap().clone())
        .send_with(&client)
        .unwrap();
    let mut ev = client.new_event();
    ev.add_field("event_type", "custom").add_field(
        "kwargs",
        json!({"CSRF_COOKIE": "c", "ok": [{"password": 1}]}),
    );
    ev.send().unwrap();
    assert!(client.flush(LONG).completed);
    let events = recorder.events();
    assert_eq!(
        events[0].fields["params"],
        json!({"q": "x", "user": {"credit_card": "[FILTERED]", "name": "n"}})
    );
    assert_eq!(
        events[1].fields["kwargs"],
        json!({"ok": [{"password": "[FILTERED]"}]})
    );

    let recorder = MemorySender::new();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .filter_keys(["token"]),
    )
    .unwrap();
    FlaskRequest::new("/", "GET")
        .params(params.as_object().unwrap().clone())
        .send_with(&client)
        .unwrap();
    let mut p2 = params.as_object().unwrap().clone();
    p2.insert("token".into(), json!("t"));
    FlaskRequest::new("/", "GET")
        .params(p2)
        .send_with(&client)
        .unwrap();
    assert!(client.flush(LONG).completed);
    assert_eq!(
        recorder.events()[0].fields["params"],
        params,
        "the list is configurable"
    );
    assert!(recorder.events()[1].fields["params"].get("token").is_none());
}

#[test]
fn context_follows_tasks_and_does_not_leak() {
    use insights_events::context::{self, FutureExt};
    let recorder = MemorySender::new();
    let client =
        Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..64 {
            let client = client.clone();
            tasks.push(tokio::spawn(
                async move {
                    for step in 0..3 {
                        tokio::task::yield_now().await;
                        tokio::time::sleep(Duration::from_millis((i % 3) as u64)).await;
                        DbQuery::new(format!("task {i} step {step}"), 1.0)
                            .send_with(&client)
                            .unwrap();
                    }
                    context::set("user_id", i);
                    tokio::task::yield_now().await;
                    DbQuery::new(format!("task {i} step 3"), 1.0)
                        .send_with(&client)
                        .unwrap();
                }
                .with_event_context([("request_id", json!(format!("req-{i}")))]),
            ));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Outside any task's scope: no context.
        DbQuery::new("outside", 1.0).send_with(&client).unwrap();
    });
    assert!(client.flush(LONG).completed);
    let events = recorder.events();
    assert_eq!(events.len(), 64 * 4 + 1);
    for e in &events {
        let q = e.fields["query"].as_str().unwrap();
        if q == "outside" {
            assert!(
                e.fields.get("request_id").is_none() && e.fields.get("user_id").is_none(),
                "{e:?}"
            );
            continue;
        }
        let i: usize = q.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(e.fields["request_id"], json!(format!("req-{i}")), "{q}");
        if q.ends_with("step 3") {
            assert_eq!(e.fields["user_id"], json!(i));
        } else {
            assert!(e.fields.get("user_id").is_none());
        }
    }
}

#[test]
fn context_works_on_plain_threads() {
    use insights_events::context;
    let recorder = MemorySender::new();
    let client =
        Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || {
                context::scope([("request_id", json!(i))], || {
                    DbQuery::new(format!("{i}"), 1.0)
                        .send_with(&client)
                        .unwrap();
                });
                DbQuery::new(format!("after {i}"), 1.0)
                    .send_with(&client)
                    .unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(client.flush(LONG).completed);
    for e in recorder.events() {
        let q = e.fields["query"].as_str().unwrap().to_owned();
        match q.strip_prefix("after ") {
            Some(_) => assert!(e.fields.get("request_id").is_none()),
            None => assert_eq!(e.fields["request_id"], json!(q.parse::<i64>().unwrap())),
        }
    }
}

fn seed_examples() -> Vec<Value> {
    vec![
        json!({"event_type": "asgi.request", "path": "/users/123", "method": "GET", "status": 200, "duration": 23.4567,
               "params": {"page": "2", "sort": "name"}, "request_id": "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"}),
        json!({"event_type": "celery.task_finished", "task_id": "9c5e8a2f-1b3d-4c6e-9f7a-2d4b6c8e0a1f",
               "task_name": "myapp.tasks.send_email", "state": "SUCCESS", "retries": 0,
               "group": "5a7d3e9b-8c1f-4b2a-9d6e-3f5a7c9e1b4d", "duration": 845.2103, "args": ["user@example.com"],
               "kwargs": {"subject": "Welcome to MyApp"}, "request_id": "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"}),
        json!({"event_type": "db.query", "query": "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1",
               "duration": 2.4815, "params": [123], "request_id": "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"}),
        json!({"event_type": "django.request", "path": "/users/123", "method": "GET", "status": 200, "view": "user_detail",
               "module": "myapp.views", "app": "users", "duration": 58.3214, "params": {"page": "2", "sort": "name"},
               "request_id": "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"}),
        json!({"event_type": "flask.request", "path": "/users/123", "method": "GET", "status": 200, "view": "users.show",
               "blueprint": "users", "duration": 32.1875, "params": {"page": "2", "sort": "name"},
               "request_id": "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"}),
    ]
}

#[test]
fn each_typed_event_arrives_as_the_schema_describes() {
    let server = TestServer::start(Reply::Status(201));
    let client = Client::new(hb(&server)).unwrap();
    let examples = seed_examples();
    serde_json::from_value::<AsgiRequest>(examples[0].clone())
        .unwrap()
        .send_with(&client)
        .unwrap();
    serde_json::from_value::<CeleryTaskFinished>(examples[1].clone())
        .unwrap()
        .send_with(&client)
        .unwrap();
    serde_json::from_value::<DbQuery>(examples[2].clone())
        .unwrap()
        .send_with(&client)
        .unwrap();
    serde_json::from_value::<DjangoRequest>(examples[3].clone())
        .unwrap()
        .send_with(&client)
        .unwrap();
    serde_json::from_value::<FlaskRequest>(examples[4].clone())
        .unwrap()
        .send_with(&client)
        .unwrap();
    assert!(client.flush(LONG).completed);
    let got: Vec<Value> = server
        .accepted_events()
        .into_iter()
        .map(without_ts)
        .collect();
    assert_eq!(got, examples);
}

/// Honeycomb takes `Content-Encoding: zstd` (the `zstd` feature).
#[cfg(feature = "zstd")]
#[test]
fn honeycomb_zstd_round_trips() {
    let server = TestServer::start(Reply::Body(200, String::new()));
    let config = Config::new()
        .honeycomb_write_key("hc_key")
        .honeycomb_dataset("ds")
        .honeycomb_api_host(server.url.clone())
        .compression(Compression::Zstd);
    let client = Client::new(config).unwrap();
    for i in 0..50 {
        query(i).send_with(&client).unwrap();
    }
    assert!(client.flush(LONG).completed);
    let r = &server.requests()[0];
    assert_eq!(r.header("content-encoding").as_deref(), Some("zstd"));
    assert!(
        r.raw_len < r.body.len(),
        "zstd body is smaller than the JSON"
    );
    let got: Vec<Value> = r.events().into_iter().map(|e| e["data"].clone()).collect();
    let want: Vec<Value> = (0..50)
        .map(|i| serde_json::to_value(query(i)).unwrap())
        .collect();
    assert_eq!(got.len(), 50);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["query"], w["query"]);
    }
}

/// zstd is refused for Honeybadger (and, without the feature, everywhere),
/// when the client is built.
#[test]
fn zstd_is_refused_where_it_cannot_go() {
    let e = Client::new(Config::new().api_key("k").compression(Compression::Zstd))
        .unwrap_err()
        .to_string();
    assert!(e.contains("compression") && e.contains("zstd"), "{e}");
    let honeycomb = Client::new(
        Config::new()
            .honeycomb_write_key("hc_key")
            .compression(Compression::Zstd),
    );
    assert_eq!(
        honeycomb.is_ok(),
        cfg!(feature = "zstd"),
        "{:?}",
        honeycomb.err()
    );
}

#[test]
fn honeycomb_batches_with_per_event_statuses() {
    let server = TestServer::start(Reply::Body(
        200,
        r#"[{"status":202},{"status":400,"error":"bad field"}]"#.into(),
    ));
    let config = Config::new()
        .honeycomb_write_key("hc_key")
        .honeycomb_dataset("my data/set")
        .honeycomb_api_host(server.url.clone())
        .honeycomb_sample_rate(1);
    let client = Client::new(config).unwrap();
    assert_eq!(client.backend_name(), "honeycomb");
    let responses = client.responses();
    let builder = client.builder();
    for i in 0..2 {
        let mut ev = builder.new_event();
        ev.add_field("n", i).set_metadata(i);
        ev.send().unwrap();
    }
    assert!(client.flush(LONG).completed);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/1/batch/my%20data%2Fset");
    assert_eq!(r.header("x-honeycomb-team").as_deref(), Some("hc_key"));
    let items = r.events();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["data"], json!({"n": 0}));
    assert_eq!(items[0]["samplerate"], json!(1));
    assert!(items[0]["time"].as_str().unwrap().ends_with('Z'));
    let mut got: Vec<_> = (0..2)
        .map(|_| responses.recv_timeout(LONG).unwrap())
        .collect();
    got.sort_by_key(|r| r.metadata.as_ref().and_then(Value::as_i64));
    assert_eq!(got[0].status_code, Some(202));
    assert!(got[0].is_ok());
    assert_eq!(got[1].status_code, Some(400));
    assert_eq!(got[1].error.as_deref(), Some("bad field"));
    let s = client.stats();
    assert_eq!((s.sent, s.failed_rejected), (1, 1));
}

#[test]
fn builder_events_and_dynamic_fields_reach_the_backend() {
    let recorder = MemorySender::new();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = counter.clone();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .field("service", "api")
            .dynamic_field("seq", move || {
                c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            }),
    )
    .unwrap();
    let mut b = client.builder();
    b.add_field("component", "billing")
        .add_field("service", "billing-svc");
    let mut b2 = b.clone();
    b2.add_dynamic_field("dyn", || "d");
    let mut ev = b2.new_event();
    ev.add_field("component", "override");
    ev.send().unwrap();
    b.new_event().send().unwrap();
    assert!(client.flush(LONG).completed);
    let ev = recorder.events();
    assert_eq!(
        without_ts(ev[0].fields.clone()),
        json!({"component": "override", "service": "billing-svc", "dyn": "d", "seq": 0})
    );
    assert_eq!(
        without_ts(ev[1].fields.clone()),
        json!({"component": "billing", "service": "billing-svc", "seq": 1})
    );
}

#[test]
fn event_timestamp_and_metadata() {
    let recorder = MemorySender::new();
    let client =
        Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    let responses = client.responses();
    let mut ev = Event::new();
    ev.add_field("k", 1)
        .set_timestamp(std::time::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456))
        .set_metadata(json!({"id": 7}));
    client.send(ev).unwrap();
    assert!(client.flush(LONG).completed);
    let e = &recorder.events()[0].fields;
    assert_eq!(e["ts"], "2023-11-14T22:13:20.123456Z");
    assert!(e.get("id").is_none(), "metadata is never sent");
    let r = responses.recv_timeout(LONG).unwrap();
    assert_eq!(r.metadata, Some(json!({"id": 7})));
}

#[test]
fn the_api_key_never_shows() {
    let server = TestServer::start(Reply::Status(401));
    let client = Client::new(hb(&server)).unwrap();
    let responses = client.responses();
    query(1).send_with(&client).unwrap();
    client.flush(LONG);
    let r = responses.recv_timeout(LONG).unwrap();
    let all = format!("{client:?} {r:?} {:?}", hb(&server));
    assert!(!all.contains("hbp_test_key_123"), "{all}");
}
