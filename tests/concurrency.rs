//! Many senders, a flusher and a responses reader at once: no deadlock, no
//! panic, and every event accounted for. On plain threads, in a
//! multi-thread tokio runtime, and in a current-thread runtime.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use insights_events::transmission::{Batch, BoxFuture, Outcome, SendContext, Sender};
use insights_events::{Backend, Client, Config, DbQuery, SendError};

const LONG: Duration = Duration::from_secs(120);

/// Counts events; fails every 7th batch so failures are in the mix.
#[derive(Default)]
struct Counting {
    events: AtomicU64,
    batches: AtomicU64,
}

impl Sender for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn send(&self, batch: Batch, _ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        let n = self.batches.fetch_add(1, Ordering::Relaxed);
        let outcomes = if n % 7 == 6 {
            vec![
                Outcome::failed(
                    Some(400),
                    insights_events::DropReason::Rejected,
                    "every 7th batch"
                );
                batch.len()
            ]
        } else {
            self.events.fetch_add(batch.len() as u64, Ordering::Relaxed);
            vec![Outcome::ok(Some(201)); batch.len()]
        };
        Box::pin(std::future::ready(outcomes))
    }
}

fn client(sender: Arc<Counting>, queue: usize) -> Client {
    Client::new(
        Config::new()
            .backend(Backend::Custom(sender))
            .max_queue_size(queue)
            .batch_size(500),
    )
    .unwrap()
}

fn check(client: &Client, sender: &Counting, attempted: u64, rejected_by_send: u64) {
    let f = client.close(LONG);
    assert!(f.completed, "{f:?}");
    let s = client.stats();
    assert_eq!(s.attempted, attempted);
    assert_eq!(s.pending(), 0, "{s:?}");
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
    assert_eq!(s.sent, sender.events.load(Ordering::Relaxed));
    assert_eq!(s.dropped_overflow, rejected_by_send);
    println!("{s}");
}

#[test]
fn eight_threads_a_flusher_and_a_reader() {
    let sender = Arc::new(Counting::default());
    let client = client(sender.clone(), 10_000);
    let done = Arc::new(AtomicBool::new(false));
    let flusher = {
        let (c, done) = (client.clone(), done.clone());
        std::thread::spawn(move || {
            let mut flushes = 0;
            while !done.load(Ordering::Relaxed) {
                c.flush(Duration::from_secs(5));
                flushes += 1;
            }
            flushes
        })
    };
    let reader = {
        let (rx, done) = (client.responses(), done.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !done.load(Ordering::Relaxed) {
                if rx.recv_timeout(Duration::from_millis(10)).is_ok() {
                    n += 1;
                }
            }
            n
        })
    };
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let c = client.clone();
            std::thread::spawn(move || {
                let mut full = 0u64;
                for i in 0..100_000 {
                    match DbQuery::new("SELECT 1", i as f64)
                        .request_id(format!("{t}-{i}"))
                        .send_with(&c)
                    {
                        Ok(()) => {}
                        Err(SendError::QueueFull) => full += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                full
            })
        })
        .collect();
    let full: u64 = senders.into_iter().map(|h| h.join().unwrap()).sum();
    done.store(true, Ordering::Relaxed);
    assert!(flusher.join().unwrap() > 0);
    reader.join().unwrap();
    check(&client, &sender, 800_000, full);
}

async fn tasks(client: Client, n_tasks: usize, per_task: usize) -> u64 {
    let mut handles = Vec::new();
    for t in 0..n_tasks {
        let c = client.clone();
        handles.push(tokio::spawn(async move {
            let mut full = 0u64;
            for i in 0..per_task {
                if DbQuery::new("SELECT 1", i as f64)
                    .request_id(format!("{t}-{i}"))
                    .send_with(&c)
                    == Err(SendError::QueueFull)
                {
                    full += 1;
                }
                if i % 1_000 == 0 {
                    tokio::task::yield_now().await;
                }
                if i % 10_000 == 0 {
                    c.flush(Duration::from_secs(5));
                }
            }
            full
        }));
    }
    let mut full = 0;
    for h in handles {
        full += h.await.unwrap();
    }
    full
}

#[test]
fn inside_a_multi_thread_runtime() {
    let sender = Arc::new(Counting::default());
    let client = client(sender.clone(), 10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let full = rt.block_on(tasks(client.clone(), 8, 25_000));
    check(&client, &sender, 200_000, full);
}

#[test]
fn inside_a_current_thread_runtime() {
    let sender = Arc::new(Counting::default());
    let client = client(sender.clone(), 10_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let full = rt.block_on(tasks(client.clone(), 8, 25_000));
    check(&client, &sender, 200_000, full);
}
