//! Process exit: a short-lived program that sends events and returns
//! delivers them; one killed mid-send leaves the writer's file valid NDJSON
//! up to its last whole line. The "programs" are ignored tests of this
//! binary, re-run as child processes.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Reply, TestServer};
use insights_events::transmission::WriterSender;
use insights_events::{Backend, Client, Config, DbQuery};

fn child(test: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", test, "--test-threads=1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
#[ignore = "run as a child process by returning_from_main_delivers_events"]
fn child_sends_then_returns() {
    let Ok(url) = std::env::var("INSIGHTS_CHILD_URL") else {
        return;
    };
    // A batch timeout of an hour: only the exit path can deliver these.
    let config = Config::new()
        .api_key("k")
        .endpoint(url)
        .batch_timeout(Duration::from_secs(3600));
    let _guard = insights_events::init(config).unwrap();
    for i in 0..50 {
        DbQuery::new(format!("SELECT {i}"), 1.0).send().unwrap();
    }
    let client = Client::new(
        Config::new()
            .api_key("k")
            .endpoint(std::env::var("INSIGHTS_CHILD_URL").unwrap())
            .batch_timeout(Duration::from_secs(3600)),
    )
    .unwrap();
    for i in 0..25 {
        DbQuery::new(format!("SELECT client {i}"), 1.0)
            .send_with(&client)
            .unwrap();
    }
    // Returning drops `client` and `_guard`.
}

#[test]
fn returning_from_main_delivers_events() {
    let server = TestServer::start(Reply::Status(201));
    let status = child("child_sends_then_returns")
        .env("INSIGHTS_CHILD_URL", &server.url)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.accepted_events().len(), 75);
}

#[test]
#[ignore = "run as a child process by killed_mid_send_leaves_valid_ndjson"]
fn child_writes_until_killed() {
    let Ok(path) = std::env::var("INSIGHTS_CHILD_FILE") else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(std::sync::Arc::new(WriterSender::new(
                file,
            ))))
            .batch_size(100)
            .batch_timeout(Duration::from_millis(1))
            .block_on_send(true),
    )
    .unwrap();
    let start = Instant::now();
    let mut i = 0u64;
    // Bounded: the parent kills us long before this ends.
    while start.elapsed() < Duration::from_secs(60) {
        DbQuery::new(
            format!("SELECT {i} /* {} */", "x".repeat((i % 200) as usize)),
            1.0,
        )
        .send_with(&client)
        .unwrap();
        i += 1;
    }
}

#[test]
fn killed_mid_send_leaves_valid_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.ndjson");
    let mut proc = child("child_writes_until_killed")
        .env("INSIGHTS_CHILD_FILE", &path)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if len > 2_000_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the child wrote {len} bytes in 60 s"
        );
        assert!(proc.try_wait().unwrap().is_none(), "the child exited early");
        std::thread::sleep(Duration::from_millis(20)); // polling a file, with a deadline
    }
    proc.kill().unwrap();
    proc.wait().unwrap();
    let data = std::fs::read(&path).unwrap();
    let whole = match data.iter().rposition(|b| *b == b'\n') {
        Some(i) => &data[..=i],
        None => &data[..0],
    };
    let mut lines = 0;
    for line in whole.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value =
            serde_json::from_slice(line).expect("every whole line is a JSON event");
        assert_eq!(v["event_type"], "db.query");
        lines += 1;
    }
    assert!(lines > 1_000, "{lines}");
}
