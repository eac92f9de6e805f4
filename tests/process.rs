//! Whole-process behaviour, each in a child process (this test binary run
//! again with `INSIGHTS_EVENTS_TEST_CHILD` set, one test, no other
//! threads of the harness in its way): a `fork()` after the client was
//! made (parent and child both keep sending), sends from `Drop`s during
//! the global client's teardown and during process exit, the notice a
//! client that falls back to stdout prints on stderr, and a send from a
//! dynamic field through the global client while another thread replaces
//! it.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use common::{Reply, TestServer};
use insights_events::{Config, Event};

const CHILD: &str = "INSIGHTS_EVENTS_TEST_CHILD";
const URL: &str = "INSIGHTS_EVENTS_TEST_URL";
const N: usize = 200;
const LONG: Duration = Duration::from_secs(30);

/// Runs this binary's test `name` alone in a child process in `mode`.
fn child(name: &str, mode: &str, url: &str) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env(URL, url);
    for (k, _) in std::env::vars() {
        if k.starts_with("HONEYBADGER_") || k.starts_with("HONEYCOMB_") {
            c.env_remove(k);
        }
    }
    c.output().expect("run the child process")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn event(kind: &str, i: usize) -> Event {
    let mut ev = Event::new();
    ev.add_field("event_type", "fork.test")
        .add_field("id", format!("{kind}-{i}"));
    ev
}

fn client(url: &str) -> insights_events::Client {
    insights_events::Client::new(
        Config::new()
            .api_key("k")
            .endpoint(url)
            .batch_size(50)
            .batch_timeout(Duration::from_millis(20)),
    )
    .unwrap()
}

/// The child process of `a_forked_child_keeps_sending`: makes a client,
/// queues events, forks; parent and child each send their own and flush.
#[cfg(unix)]
fn fork_child(url: &str) -> ! {
    let c = client(url);
    // Queued in the parent before the fork: the parent's to send, once.
    for i in 0..N / 2 {
        event("before", i).send_with(&c).unwrap();
    }
    // SAFETY: fork() has no preconditions; the child runs only this
    // function's code (sends through the client, whose fork handling is
    // what is tested) and leaves with `exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    let kind = if pid == 0 { "child" } else { "parent" };
    for i in 0..N {
        event(kind, i).send_with(&c).unwrap();
    }
    let flushed = c.flush(LONG);
    let stats = c.stats();
    drop(c);
    if pid == 0 {
        std::process::exit(if flushed.completed && stats.sent == N as u64 {
            0
        } else {
            eprintln!("child: {flushed:?} {stats:?}");
            3
        });
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid out
    // pointer for the call.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    let child_ok = waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !child_ok {
        eprintln!("parent: child exited with status {status}");
    }
    std::process::exit(if flushed.completed && child_ok { 0 } else { 4 });
}

/// A process that forks after creating its client keeps sending in the
/// child: the server sees the parent's and the child's events, each
/// exactly once, and the events queued before the fork once.
#[cfg(unix)]
#[test]
fn a_forked_child_keeps_sending() {
    if let Ok(mode) = std::env::var(CHILD) {
        if mode == "fork" {
            fork_child(&std::env::var(URL).unwrap());
        }
        return;
    }
    let server = TestServer::start(Reply::Status(201));
    let out = child("a_forked_child_keeps_sending", "fork", &server.url);
    assert!(
        out.status.success(),
        "{:?}\n{}",
        out.status,
        text(&out.stderr)
    );
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for e in server.accepted_events() {
        *seen
            .entry(e["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    for (kind, n) in [("before", N / 2), ("parent", N), ("child", N)] {
        let got = seen
            .keys()
            .filter(|k| k.starts_with(&format!("{kind}-")))
            .count();
        assert_eq!(got, n, "{kind}: {seen:?}");
    }
    assert_eq!(seen.len(), N / 2 + 2 * N);
}

/// Sends an event through the global client when dropped, and says what
/// happened on stderr.
struct SendOnDrop(&'static str);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let mut ev = Event::new();
        ev.add_field("event_type", "exit.test")
            .add_field("from", self.0);
        let result = ev.send();
        eprintln!("send from {}: {result:?}", self.0);
    }
}

thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<SendOnDrop>> = const { std::cell::RefCell::new(None) };
}

fn exit_child(url: &str) -> ! {
    let in_hook = SendOnDrop("a hook's captured value");
    let guard = insights_events::init(
        Config::new()
            .api_key("k")
            .endpoint(url)
            .batch_timeout(Duration::from_millis(20))
            .before_event(move |_| {
                let _keep = &in_hook;
                true
            }),
    )
    .unwrap();
    ON_EXIT.with(|c| *c.borrow_mut() = Some(SendOnDrop("a thread-local destructor")));
    {
        let _live = SendOnDrop("a drop while the client lives");
    }
    // The global client's teardown drops the hook (and its captured value,
    // which sends) on the worker.
    drop(guard);
    // `exit` runs this thread's thread-local destructors: a send after the
    // global client is gone.
    std::process::exit(0)
}

/// Sends from `Drop`s during the global client's teardown and during
/// process exit: delivered while the client lives, an error (no client,
/// or closed) after, never a panic or a hang.
#[test]
fn sends_from_drops_at_exit_are_delivered_or_refused() {
    if let Ok(mode) = std::env::var(CHILD) {
        if mode == "exit" {
            exit_child(&std::env::var(URL).unwrap());
        }
        return;
    }
    let server = TestServer::start(Reply::Status(201));
    let out = child(
        "sends_from_drops_at_exit_are_delivered_or_refused",
        "exit",
        &server.url,
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("send from a drop while the client lives: Ok(())"),
        "{stderr}"
    );
    for late in ["a hook's captured value", "a thread-local destructor"] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("send from {late}: ")))
            .unwrap_or_else(|| panic!("no line for {late}:\n{stderr}"));
        assert!(
            line.ends_with("Err(NoGlobalClient)") || line.ends_with("Err(Closed)"),
            "{line}"
        );
    }
    // The sends after the global client was shut down are told once.
    let told: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("insights-events: an event was sent through the global client"))
        .collect();
    assert_eq!(
        told,
        ["insights-events: an event was sent through the global client after it was shut down (its InitGuard dropped, or shutdown() called): it was dropped (1 so far). Keep the guard of insights_events::init alive until the last event is sent (shown once)"],
        "{stderr}"
    );
    let from: Vec<String> = server
        .accepted_events()
        .iter()
        .map(|e| e["from"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(from, ["a drop while the client lives"], "{from:?}");
}

fn notice_child() -> ! {
    let a = insights_events::Client::new(Config::new()).unwrap();
    let b = insights_events::Client::new(Config::new()).unwrap();
    assert_eq!(a.backend_name(), "stdout");
    drop((a, b));
    std::process::exit(0)
}

/// A client that falls back to stdout because no key is set says so once
/// on stderr; one that chose stdout says nothing.
#[test]
fn the_stdout_fallback_says_so_once() {
    match std::env::var(CHILD).as_deref() {
        Ok("notice") => notice_child(),
        Ok("stdout") => {
            let c = insights_events::Client::new(
                Config::new().backend(insights_events::Backend::Stdout),
            )
            .unwrap();
            drop(c);
            std::process::exit(0)
        }
        Ok(_) => return,
        Err(_) => {}
    }
    let out = child("the_stdout_fallback_says_so_once", "notice", "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let notices = stderr
        .lines()
        .filter(|l| l.starts_with("insights-events: no HONEYBADGER_API_KEY"))
        .count();
    assert_eq!(notices, 1, "{stderr}");
    let out = child("the_stdout_fallback_says_so_once", "stdout", "");
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("insights-events:"),
        "{}",
        text(&out.stderr)
    );
}

thread_local! {
    static IN_FIELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn nested_config() -> Config {
    Config::new()
        .backend(insights_events::Backend::Custom(std::sync::Arc::new(
            insights_events::transmission::DiscardSender,
        )))
        .dynamic_field("nested", || {
            // A dynamic field that sends through the global client (once,
            // not from its own send).
            if !IN_FIELD.with(|f| f.replace(true)) {
                let mut ev = Event::new();
                ev.add_field("event_type", "nested");
                let _ = ev.send();
                IN_FIELD.with(|f| f.set(false));
            }
            1
        })
}

fn nested_child() -> ! {
    let guard = insights_events::init(nested_config()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let replacer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200 {
                // Takes the global lock for writing, again and again.
                let g = insights_events::init(nested_config()).unwrap();
                std::mem::forget(g);
                n += 1;
            }
        })
    };
    for i in 0..5_000 {
        let mut ev = Event::new();
        ev.add_field("event_type", "outer").add_field("i", i);
        let _ = ev.send();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    replacer.join().unwrap();
    drop(guard);
    std::process::exit(0)
}

/// A dynamic field that sends through the global client, while another
/// thread keeps replacing it (`init`): never a deadlock on the global
/// client's lock.
#[test]
fn a_dynamic_field_sending_through_the_global_client_never_deadlocks() {
    if let Ok(mode) = std::env::var(CHILD) {
        if mode == "nested" {
            nested_child();
        }
        return;
    }
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "a_dynamic_field_sending_through_the_global_client_never_deadlocks",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "nested")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let status = status.expect("the child deadlocked: not done after 60 s");
    assert!(status.success(), "{status:?}");
}
