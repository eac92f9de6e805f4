//! Flush, close and drop, from plain threads and from inside tokio runtimes;
//! batching by bytes; the responses stream when nobody reads it, and its end
//! at close.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{Reply, TestServer};
use insights_events::{Client, Config, DbQuery, SendError};

const LONG: Duration = Duration::from_secs(20);

fn client(server: &TestServer) -> Client {
    Client::new(
        Config::new()
            .api_key("k")
            .endpoint(server.url.clone())
            .batch_timeout(Duration::from_secs(3600)),
    )
    .unwrap()
}

#[test]
fn dropping_the_last_client_delivers_queued_events() {
    let server = TestServer::start(Reply::Status(201));
    let c = client(&server);
    let c2 = c.clone();
    for i in 0..10 {
        DbQuery::new(format!("q{i}"), 1.0).send_with(&c).unwrap();
    }
    drop(c);
    assert!(
        server.requests().is_empty(),
        "a clone is still alive: nothing forced out yet"
    );
    drop(c2);
    assert_eq!(server.accepted_events().len(), 10);
}

#[test]
fn flush_and_close_inside_a_current_thread_runtime() {
    let server = TestServer::start(Reply::Status(201));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client(&server);
    rt.block_on(async {
        DbQuery::new("a", 1.0).send_with(&c).unwrap();
        assert!(c.flush(LONG).completed);
        DbQuery::new("b", 1.0).send_with(&c).unwrap();
        assert!(c.close(LONG).completed);
    });
    assert_eq!(server.accepted_events().len(), 2);
}

#[test]
fn flush_close_and_drop_inside_a_multi_thread_runtime() {
    let server = TestServer::start(Reply::Status(201));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let c = client(&server);
    rt.block_on(async move {
        let task = tokio::spawn(async move {
            DbQuery::new("a", 1.0).send_with(&c).unwrap();
            assert!(c.flush(LONG).completed);
            DbQuery::new("b", 1.0).send_with(&c).unwrap();
            drop(c); // the last handle, dropped on a runtime worker thread
        });
        task.await.unwrap();
    });
    assert_eq!(server.accepted_events().len(), 2);
}

#[test]
fn batches_by_bytes() {
    let server = TestServer::start(Reply::Status(201));
    let c = Client::new(
        Config::new()
            .api_key("k")
            .endpoint(server.url.clone())
            .batch_max_bytes(2_000)
            .batch_timeout(Duration::from_secs(3600)),
    )
    .unwrap();
    for i in 0..20 {
        DbQuery::new(format!("{i:0>300}"), 1.0)
            .send_with(&c)
            .unwrap();
    }
    assert!(c.flush(LONG).completed);
    let reqs = server.requests();
    assert!(
        reqs.len() >= 4,
        "20 events of ~350 bytes in batches under 2,000 bytes"
    );
    for r in &reqs {
        assert!(r.body.len() <= 2_000, "batch of {} bytes", r.body.len());
    }
    assert_eq!(server.accepted_events().len(), 20);
}

#[test]
fn unread_responses_never_stall_the_core() {
    let server = TestServer::start(Reply::Status(201));
    let c = Client::new(
        Config::new()
            .api_key("k")
            .endpoint(server.url.clone())
            .response_queue_size(2)
            .batch_size(10)
            .batch_timeout(Duration::from_secs(3600)),
    )
    .unwrap();
    let responses = c.responses();
    for i in 0..500 {
        DbQuery::new(format!("{i}"), 1.0).send_with(&c).unwrap();
    }
    assert!(c.flush(LONG).completed);
    assert_eq!(c.stats().sent, 500);
    assert_eq!(responses.len(), 2, "only the newest responses are kept");
}

#[test]
fn no_key_means_the_writer_on_stdout() {
    let c = Client::new(Config::new()).unwrap();
    assert_eq!(c.backend_name(), "stdout");
    let c = Client::new(Config::new().honeycomb_write_key("hc")).unwrap();
    assert_eq!(c.backend_name(), "honeycomb");
    assert!(Client::new(Config::new().sample_rate(101)).is_err());
    assert!(Client::new(Config::new().backend(insights_events::Backend::Honeybadger)).is_err());
}

#[test]
fn the_responses_stream_ends_after_close() {
    let server = TestServer::start(Reply::Status(201));
    let c = client(&server);
    let responses = c.responses();
    // A reader that iterates until the stream ends.
    let (count_tx, count_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let _ = count_tx.send(responses.iter().count());
    });
    for i in 0..10 {
        DbQuery::new(format!("q{i}"), 1.0).send_with(&c).unwrap();
    }
    // A thread that sent once and is still alive (it never sends again):
    // its slot must not keep the stream open.
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (sent_tx, sent_rx) = mpsc::channel();
    let c2 = c.clone();
    let idle = std::thread::spawn(move || {
        DbQuery::new("from a living thread", 1.0)
            .send_with(&c2)
            .unwrap();
        drop(c2);
        let _ = sent_tx.send(());
        let _ = release_rx.recv();
    });
    sent_rx.recv_timeout(LONG).expect("the other thread sent");
    assert!(c.close(LONG).completed);
    let count = count_rx
        .recv_timeout(LONG)
        .expect("the stream ended after close");
    assert_eq!(count, 11, "one response per event before the end");
    assert_eq!(server.accepted_events().len(), 11);
    // Later sends are refused and counted.
    assert!(matches!(
        DbQuery::new("late", 1.0).send_with(&c),
        Err(SendError::Closed)
    ));
    assert_eq!(c.stats().dropped_closed, 1);
    release_tx.send(()).unwrap();
    idle.join().unwrap();
    reader.join().unwrap();
}
