//! Per-thread send slots: events a thread has not handed off as a full
//! chunk are never held back. They go out when the thread goes quiet (no
//! flush), when it exits, and on a flush or close called from another
//! thread; each thread's events keep their order.

mod common;

use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use common::{Reply, TestServer};
use insights_events::transmission::MemorySender;
use insights_events::{Backend, Client, Config, DbQuery, Event, SendError};

const LONG: Duration = Duration::from_secs(20);

fn client(server: &TestServer) -> Client {
    client_with_timeout(server, Duration::from_millis(20))
}

fn client_with_timeout(server: &TestServer, batch_timeout: Duration) -> Client {
    Client::new(
        Config::new()
            .api_key("k")
            .endpoint(server.url.clone())
            .batch_size(1_000)
            .batch_timeout(batch_timeout),
    )
    .unwrap()
}

fn balanced(c: &Client) {
    let s = c.stats();
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
}

#[test]
fn a_quiet_thread_events_go_out_without_a_flush() {
    let server = TestServer::start(Reply::Status(201));
    let c = client(&server);
    // Fewer events than a chunk, and nobody flushes: the worker must find
    // them in the slot (it is woken by the first one).
    for i in 0..3 {
        DbQuery::new(format!("q{i}"), 1.0).send_with(&c).unwrap();
    }
    assert!(server.wait_requests(1, LONG), "the partial chunk was sent");
    assert_eq!(server.accepted_events().len(), 3);
    // Again once the worker has gone back to sleep.
    let before = server.requests().len();
    DbQuery::new("again", 1.0).send_with(&c).unwrap();
    assert!(server.wait_requests(before + 1, LONG));
    assert_eq!(server.accepted_events().len(), 4);
    // The last answer may still be on its way back to the client.
    assert!(c.flush(LONG).completed);
    assert_eq!(c.stats().sent, 4);
    balanced(&c);
}

#[test]
fn events_of_a_thread_that_exited_are_delivered() {
    let server = TestServer::start(Reply::Status(201));
    let c = client(&server);
    let c2 = c.clone();
    std::thread::spawn(move || {
        for i in 0..5 {
            DbQuery::new(format!("q{i}"), 1.0).send_with(&c2).unwrap();
        }
    })
    .join()
    .unwrap();
    assert!(c.flush(LONG).completed);
    assert_eq!(server.accepted_events().len(), 5);
    assert_eq!(c.stats().sent, 5);
    balanced(&c);
}

#[test]
fn a_flush_covers_what_other_living_threads_hold() {
    let server = TestServer::start(Reply::Status(201));
    // Only a flush sends the open batch.
    let c = client_with_timeout(&server, Duration::from_secs(3600));
    const THREADS: usize = 4;
    let sent = Arc::new(Barrier::new(THREADS + 1));
    let (release, wait) = mpsc::channel::<()>();
    let wait = Arc::new(std::sync::Mutex::new(wait));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = c.clone();
            let sent = sent.clone();
            let wait = wait.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    DbQuery::new(format!("t{t} q{i}"), 1.0)
                        .send_with(&c)
                        .unwrap();
                }
                sent.wait();
                // Stay alive (slot still owned) until the flush is done.
                let _ = wait.lock().unwrap().recv();
            })
        })
        .collect();
    sent.wait();
    let f = c.flush(LONG);
    assert!(f.completed, "{f:?}");
    assert_eq!(server.accepted_events().len(), THREADS * 10);
    drop(release);
    for h in handles {
        h.join().unwrap();
    }
    balanced(&c);
}

#[test]
fn each_thread_events_keep_their_order() {
    let recorder = MemorySender::new();
    let c = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .max_queue_size(64)
            .block_on_send(true),
    )
    .unwrap();
    const N: u64 = 3_000;
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let c = &c;
            s.spawn(move || {
                for i in 0..N {
                    let mut ev = c.new_event();
                    ev.add_field("thread", t).add_field("seq", i);
                    ev.send().unwrap();
                }
            });
        }
    });
    assert!(c.flush(LONG).completed);
    let events = recorder.events();
    assert_eq!(events.len() as u64, 2 * N);
    for t in 0..2u64 {
        let seqs: Vec<u64> = events
            .iter()
            .filter(|e| e.fields["thread"] == t)
            .map(|e| e.fields["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (0..N).collect::<Vec<_>>(), "thread {t}");
    }
}

#[test]
fn close_takes_what_slots_hold_and_later_sends_are_refused() {
    let server = TestServer::start(Reply::Status(201));
    let c = client(&server);
    let (to_thread, thread_rx) = mpsc::channel::<()>();
    let (to_main, main_rx) = mpsc::channel::<Result<(), SendError>>();
    let c2 = c.clone();
    let h = std::thread::spawn(move || {
        for i in 0..7 {
            to_main
                .send(DbQuery::new(format!("q{i}"), 1.0).send_with(&c2))
                .unwrap();
        }
        thread_rx.recv().unwrap();
        // The client is closed now; this thread's slot refuses.
        to_main
            .send(DbQuery::new("late", 1.0).send_with(&c2))
            .unwrap();
    });
    for _ in 0..7 {
        main_rx.recv_timeout(LONG).unwrap().unwrap();
    }
    let closed = c.close(LONG);
    assert!(closed.completed, "{closed:?}");
    assert_eq!(server.accepted_events().len(), 7);
    to_thread.send(()).unwrap();
    assert_eq!(main_rx.recv_timeout(LONG).unwrap(), Err(SendError::Closed));
    h.join().unwrap();
    let s = c.stats();
    assert_eq!(s.attempted, 8);
    assert_eq!(s.sent, 7);
    assert_eq!(s.dropped_closed, 1);
    balanced(&c);
}

#[test]
fn many_short_lived_threads_lose_nothing() {
    let recorder = MemorySender::new();
    let c = Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    for round in 0..20 {
        std::thread::scope(|s| {
            for t in 0..10 {
                let c = &c;
                s.spawn(move || {
                    for i in 0..3 {
                        let mut ev = Event::new();
                        ev.add_field("id", format!("{round}-{t}-{i}"));
                        c.send(ev).unwrap();
                    }
                });
            }
        });
    }
    assert!(c.flush(LONG).completed);
    assert_eq!(recorder.len(), 20 * 10 * 3);
    assert_eq!(c.stats().sent, 600);
    balanced(&c);
}
