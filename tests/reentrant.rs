//! Sends made on the crate's own threads: from a `before_event` hook and from a
//! custom `Sender` they run on the worker and the HTTP runtime. Such a send
//! never blocks and never waits for the worker, `block_on_send` or not: it is
//! queued if there is room, else dropped and counted as `reentrant`. Sends from
//! a dynamic field run on the caller's thread and follow the caller's rules.
//! Each shape runs 2,000 sends through a small queue under a deadline, then
//! checks the accounting: every attempt ends sent or counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use insights_events::transmission::{
    Batch, BoxFuture, MemorySender, Outcome, SendContext, Sender, Stats,
};
use insights_events::{Backend, Client, Config, DbQuery, DropReason, Event};

const SENDS: u64 = 2_000;
/// How long a whole scenario may take before it counts as a deadlock.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `f` on a thread of its own; fails if it has not finished by the
/// deadline (the deadlock this file is about).
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: not done after {DEADLINE:?}: the send deadlocked"))
}

fn audit(n: u64) -> Event {
    let mut ev = Event::new();
    ev.add_field("event_type", "audit").add_field("n", n);
    ev
}

fn is_audit(ev: &Event) -> bool {
    ev.event_type() == Some("audit")
}

/// Every attempt ended in exactly one counter.
fn assert_accounted(s: &Stats) {
    assert_eq!(s.pending(), 0, "{s:?}");
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed(), "{s:?}");
    assert_eq!(s.by_reason(DropReason::Reentrant), s.dropped_reentrant);
}

/// Sends `SENDS` queries through `client` and closes it, under the
/// deadline; checks the accounting and returns the final stats.
fn send_queries_and_close(what: &str, client: Client) -> Stats {
    let stats = within_deadline(what, move || {
        for i in 0..SENDS {
            let _ = DbQuery::new("SELECT 1", i as f64).send_with(&client);
        }
        client.close(Duration::from_secs(30));
        client.stats()
    });
    assert_accounted(&stats);
    stats
}

fn small(config: Config, block: bool) -> Config {
    config
        .max_queue_size(8)
        .batch_size(8)
        .block_on_send(block)
        .batch_timeout(Duration::from_millis(5))
}

fn recorded(recorder: &MemorySender, event_type: &str) -> u64 {
    recorder
        .events()
        .iter()
        .filter(|e| e.fields["event_type"] == event_type)
        .count() as u64
}

/// A hook that reports every `db.query` as an `audit`
/// event through the same client, held in a global `OnceLock`.
static HOOK_CLIENT: OnceLock<Client> = OnceLock::new();

#[test]
fn a_hook_that_sends_through_a_global_client_never_deadlocks() {
    let recorder = MemorySender::new();
    let fired = Arc::new(AtomicU64::new(0));
    let config = {
        let fired = fired.clone();
        small(Config::new(), true)
            .backend(Backend::Custom(recorder.clone().into()))
            .before_event(move |ev| {
                if !is_audit(ev) {
                    let n = fired.fetch_add(1, Ordering::Relaxed);
                    if let Some(c) = HOOK_CLIENT.get() {
                        let _ = audit(n).send_with(c);
                    }
                }
                true
            })
    };
    let client = Client::new(config).unwrap();
    HOOK_CLIENT.set(client.clone()).ok().unwrap();
    let stats = within_deadline("hook, global OnceLock, block_on_send", move || {
        for i in 0..SENDS {
            DbQuery::new("SELECT 1", i as f64)
                .send_with(&client)
                .unwrap();
        }
        let flushed = client.flush(Duration::from_secs(30));
        assert!(flushed.completed, "{flushed:?}");
        client.close(Duration::from_secs(30));
        client.stats()
    });
    assert_accounted(&stats);
    // The caller blocked for room (block_on_send): none of its events lost.
    assert_eq!(recorded(&recorder, "db.query"), SENDS, "{stats:?}");
    assert_eq!(stats.dropped_overflow, 0, "{stats:?}");
    // Each audit sent from the hook was queued or counted as reentrant.
    assert_eq!(fired.load(Ordering::Relaxed), SENDS);
    assert_eq!(
        recorded(&recorder, "audit") + stats.dropped_reentrant,
        SENDS,
        "{stats:?}"
    );
}

/// The same hook with an explicit client, blocking or not.
#[test]
fn a_hook_that_sends_never_blocks_the_worker() {
    for block in [true, false] {
        let recorder = MemorySender::new();
        let holder: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
        let config = {
            let holder = holder.clone();
            small(Config::new(), block)
                .backend(Backend::Custom(recorder.clone().into()))
                .before_event(move |ev| {
                    if !is_audit(ev) {
                        if let Some(c) = holder.get() {
                            let _ = audit(0).send_with(c);
                            // A flush from the worker returns at once.
                            let _ = c.flush(Duration::from_secs(30));
                        }
                    }
                    true
                })
        };
        let client = Client::new(config).unwrap();
        holder.set(client.clone()).ok().unwrap();
        let stats = send_queries_and_close("hook, explicit client", client);
        let main = recorded(&recorder, "db.query");
        if block {
            assert_eq!(main, SENDS, "{stats:?}");
        } else {
            assert_eq!(main + stats.dropped_overflow, SENDS, "{stats:?}");
        }
        // An audit sent while the client closes is counted as closed.
        assert_eq!(
            recorded(&recorder, "audit") + stats.dropped_reentrant + stats.dropped_closed,
            main,
            "one audit per delivered db.query, sent or counted: {stats:?}"
        );
    }
}

/// A `Sender` that, for each batch with a non-audit event in it, sends an
/// audit event through the client (on the HTTP runtime's thread).
struct AuditingSender {
    inner: MemorySender,
    client: Arc<OnceLock<Client>>,
    audits: Arc<AtomicU64>,
}

impl Sender for AuditingSender {
    fn name(&self) -> &'static str {
        "auditing"
    }
    fn send(&self, batch: Batch, ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        let has_work = batch
            .events()
            .any(|b| !String::from_utf8_lossy(b).contains("\"audit\""));
        if has_work {
            if let Some(c) = self.client.get() {
                let n = self.audits.fetch_add(1, Ordering::Relaxed);
                let _ = audit(n).send_with(c);
            }
        }
        self.inner.send(batch, ctx)
    }
}

#[test]
fn a_sender_that_sends_never_blocks_the_worker() {
    for block in [true, false] {
        let recorder = MemorySender::new();
        let holder: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
        let audits = Arc::new(AtomicU64::new(0));
        let sender = AuditingSender {
            inner: recorder.clone(),
            client: holder.clone(),
            audits: audits.clone(),
        };
        let client =
            Client::new(small(Config::new(), block).backend(Backend::Custom(Arc::new(sender))))
                .unwrap();
        holder.set(client.clone()).ok().unwrap();
        let stats = send_queries_and_close("custom Sender", client);
        let main = recorded(&recorder, "db.query");
        if block {
            assert_eq!(main, SENDS, "{stats:?}");
        }
        let audits = audits.load(Ordering::Relaxed);
        assert!(audits > 0);
        // An audit sent after close began is counted as closed.
        assert_eq!(
            recorded(&recorder, "audit") + stats.dropped_reentrant + stats.dropped_closed,
            audits,
            "{stats:?}"
        );
    }
}

thread_local! {
    static IN_DYNAMIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A dynamic field runs on the caller's thread: a send from it follows the
/// caller's rules (it may wait for room with `block_on_send`; the worker is
/// free to make it).
#[test]
fn a_dynamic_field_that_sends_follows_the_callers_rules() {
    for block in [true, false] {
        let recorder = MemorySender::new();
        let holder: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
        let fired = Arc::new(AtomicU64::new(0));
        let config = {
            let holder = holder.clone();
            let fired = fired.clone();
            small(Config::new(), block)
                .backend(Backend::Custom(recorder.clone().into()))
                .dynamic_field("audited", move || {
                    if !IN_DYNAMIC.with(|d| d.replace(true)) {
                        if let Some(c) = holder.get() {
                            fired.fetch_add(1, Ordering::Relaxed);
                            let _ = audit(0).send_with(c);
                        }
                        IN_DYNAMIC.with(|d| d.set(false));
                    }
                    true
                })
        };
        let client = Client::new(config).unwrap();
        holder.set(client.clone()).ok().unwrap();
        let stats = within_deadline("dynamic field", move || {
            for i in 0..SENDS {
                let mut ev = Event::new();
                ev.add_field("event_type", "work").add_field("i", i);
                let _ = ev.send_with(&client);
            }
            client.close(Duration::from_secs(30));
            client.stats()
        });
        assert_accounted(&stats);
        assert_eq!(stats.dropped_reentrant, 0, "not a crate thread: {stats:?}");
        assert_eq!(fired.load(Ordering::Relaxed), SENDS);
        let all = recorded(&recorder, "work") + recorded(&recorder, "audit");
        if block {
            assert_eq!(all, 2 * SENDS, "{stats:?}");
        } else {
            assert_eq!(all + stats.dropped_overflow, 2 * SENDS, "{stats:?}");
        }
    }
}

/// The crate's own global client (`init`): a hook that sends with
/// `.send()`.
#[test]
fn a_hook_that_sends_through_init_never_deadlocks() {
    let recorder = MemorySender::new();
    let config = small(Config::new(), true)
        .backend(Backend::Custom(recorder.clone().into()))
        .before_event(|ev| {
            if !is_audit(ev) {
                let _ = audit(1).send();
            }
            true
        });
    let guard = insights_events::init(config).unwrap();
    let stats = within_deadline("hook, init()", move || {
        for i in 0..SENDS {
            DbQuery::new("SELECT 1", i as f64).send().unwrap();
        }
        let client = insights_events::global().expect("global client");
        assert!(client.flush(Duration::from_secs(30)).completed);
        let stats = client.stats();
        drop(guard);
        stats
    });
    assert_eq!(stats.pending(), 0, "{stats:?}");
    assert_eq!(
        stats.attempted,
        stats.sent + stats.dropped() + stats.failed()
    );
    assert_eq!(recorded(&recorder, "db.query"), SENDS);
    assert_eq!(
        recorded(&recorder, "audit") + stats.dropped_reentrant,
        SENDS
    );
}

/// A `close` from a hook only stops intake there; the next `close` from a
/// user's thread finishes it: everything counted, the responses stream
/// ended.
#[test]
fn a_close_from_a_hook_is_finished_by_the_next_close() {
    let recorder = MemorySender::new();
    let holder: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
    let config = {
        let holder = holder.clone();
        small(Config::new(), false)
            .backend(Backend::Custom(recorder.clone().into()))
            .before_event(move |_| {
                if let Some(c) = holder.get() {
                    c.close(Duration::from_secs(30));
                }
                true
            })
    };
    let client = Client::new(config).unwrap();
    holder.set(client.clone()).ok().unwrap();
    let responses = client.responses();
    let reader = std::thread::spawn(move || responses.iter().count());
    let stats = within_deadline("close from a hook, then from the caller", move || {
        for i in 0..SENDS {
            let _ = DbQuery::new("SELECT 1", i as f64).send_with(&client);
        }
        client.close(Duration::from_secs(30));
        client.stats()
    });
    assert_accounted(&stats);
    assert!(stats.sent > 0, "{stats:?}");
    // The stream ended (the reader returned, which it does only at the
    // stream's end), after some responses (a slow reader may miss the
    // oldest: the stream is bounded).
    let got = within_deadline("the responses stream ends", move || reader.join().unwrap());
    assert!(got > 0 && got as u64 <= stats.attempted, "{got} {stats:?}");
}
