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

/// `thread:seq`, the key the order tests give each event.
fn key(t: u64, i: u64) -> String {
    format!("{t}:{i}")
}

/// Each thread's sequence numbers, in delivery order.
fn seqs_by_thread(recorder: &MemorySender, threads: u64) -> Vec<Vec<u64>> {
    let mut out = vec![Vec::new(); threads as usize];
    for e in recorder.events() {
        let q = e.fields["query"].as_str().expect("query");
        let (t, i) = q.split_once(':').expect("thread:seq");
        out[t.parse::<usize>().unwrap()].push(i.parse().unwrap());
    }
    out
}

/// Sends event `i` of thread `t`: a typed event (packed into the thread's
/// spool without a lock), or, one in three, a hand-built one (a reference
/// record in the spool, under the lock); now and then a typed event larger
/// than a spool buffer.
fn send_mixed(c: &Client, t: u64, i: u64) -> Result<(), SendError> {
    if i % 97 == 5 {
        DbQuery::new(key(t, i), 1.0)
            .params(serde_json::json!(["y".repeat(9_000)]))
            .send_with(c)
    } else if i % 3 == 0 {
        let mut ev = c.new_event();
        ev.add_field("event_type", "db.query")
            .add_field("query", key(t, i));
        ev.send()
    } else {
        DbQuery::new(key(t, i), i as f64 * 0.5).send_with(c)
    }
}

#[test]
fn each_thread_events_keep_their_order_typed_and_hand_built() {
    let recorder = MemorySender::new();
    let c = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .max_queue_size(64)
            .block_on_send(true),
    )
    .unwrap();
    const N: u64 = 5_000;
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let c = &c;
            s.spawn(move || {
                for i in 0..N {
                    send_mixed(c, t, i).unwrap();
                    if i % 701 == 0 {
                        // The worker takes what the slots hold, mid-chunk.
                        assert!(c.flush(LONG).completed);
                    }
                }
            });
        }
    });
    assert!(c.flush(LONG).completed);
    let seqs = seqs_by_thread(&recorder, 2);
    for (t, seqs) in seqs.iter().enumerate() {
        assert_eq!(seqs, &(0..N).collect::<Vec<_>>(), "thread {t}");
    }
    assert_eq!(c.stats().sent, 2 * N);
    balanced(&c);
}

#[test]
fn with_a_full_queue_what_is_delivered_keeps_its_order_and_the_rest_is_counted() {
    let recorder = MemorySender::new();
    let c = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .max_queue_size(32),
    )
    .unwrap();
    const N: u64 = 20_000;
    let mut refused = 0;
    for i in 0..N {
        match send_mixed(&c, 0, i) {
            Ok(()) => {}
            Err(SendError::QueueFull) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(c.flush(LONG).completed);
    let seqs = seqs_by_thread(&recorder, 1).remove(0);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order");
    let s = c.stats();
    assert_eq!(s.attempted, N);
    assert_eq!(s.sent, seqs.len() as u64);
    assert_eq!(s.dropped_overflow, refused);
    assert_eq!(s.sent + s.dropped_overflow, N, "{s:?}");
    balanced(&c);
}

#[test]
fn sends_racing_close_are_all_accounted_for() {
    use std::sync::atomic::{AtomicU64, Ordering};
    for _ in 0..5 {
        let recorder = MemorySender::new();
        let c =
            Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
        let calls = AtomicU64::new(0);
        std::thread::scope(|s| {
            for t in 0..2u64 {
                let (c, calls) = (&c, &calls);
                s.spawn(move || {
                    for i in 0..2_000_000 {
                        calls.fetch_add(1, Ordering::Relaxed);
                        match send_mixed(c, t, i) {
                            Ok(()) | Err(SendError::QueueFull) => {}
                            Err(SendError::Closed) => break,
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                });
            }
            // Close while both threads are sending.
            let deadline = std::time::Instant::now() + LONG;
            while c.stats().attempted < 10_000 && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            c.close(LONG);
        });
        // The threads have exited: an event a thread published after the
        // close took its slot's records is counted as dropped by then.
        let s = c.stats();
        let calls = calls.load(Ordering::Relaxed);
        assert_eq!(s.attempted, calls, "{s:?}");
        assert_eq!(s.sent, recorder.len() as u64);
        assert_eq!(
            s.sent + s.dropped_closed + s.dropped_overflow,
            calls,
            "{s:?}"
        );
        balanced(&c);
    }
}

#[test]
fn a_typed_event_larger_than_a_spool_buffer_is_delivered() {
    let recorder = MemorySender::new();
    let c = Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    let big = "x".repeat(20_000);
    for round in 0..3 {
        // A small event first, taken by the flush: the spool then holds
        // only records the worker has already taken.
        DbQuery::new(format!("small {round}"), 1.0)
            .send_with(&c)
            .unwrap();
        assert!(c.flush(LONG).completed);
        DbQuery::new(format!("big {round}"), 2.0)
            .params(serde_json::json!([big]))
            .send_with(&c)
            .unwrap();
        assert!(c.flush(LONG).completed);
    }
    let queries: Vec<String> = recorder
        .events()
        .iter()
        .map(|e| e.fields["query"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        queries,
        ["small 0", "big 0", "small 1", "big 1", "small 2", "big 2"]
    );
    assert_eq!(
        recorder.events()[1].fields["params"][0].as_str(),
        Some(&*big)
    );
    assert_eq!(c.stats().sent, 6);
    balanced(&c);
}
