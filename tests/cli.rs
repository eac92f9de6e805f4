//! The `insights-events` command: validate, send, receive, schemas.
//!
//! Everything runs on 127.0.0.1; waits poll with a deadline.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use insights_events::{Client, Compression, Config, DbQuery, FlaskRequest};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_insights-events");
const DEADLINE: Duration = Duration::from_secs(30);

/// The command with no Honeybadger/Honeycomb settings from the environment.
fn cmd() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("HONEYBADGER_")
            || k.starts_with("HONEYCOMB_")
            || k.starts_with("INSIGHTS_EVENTS_")
        {
            c.env_remove(k);
        }
    }
    c.stdin(Stdio::null());
    c
}

fn run(args: &[&str]) -> Output {
    cmd().args(args).output().expect("run insights-events")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Polls `f` until it returns true or the deadline passes.
fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

fn write_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("out file line is JSON"))
        .collect()
}

const VALID: &str = r#"{"event_type":"db.query","query":"SELECT 1","duration":1.5,"ts":"2025-01-01T00:00:00.000000Z"}
{"event_type":"flask.request","path":"/users/1","method":"GET","status":200,"view":"users.show","blueprint":null,"duration":12.5,"request_id":"r-1","ts":"2025-01-01T00:00:00.000000Z"}

{"event_type":"celery.task_finished","task_id":"t1","task_name":"tasks.add","state":"SUCCESS","duration":3.0}
"#;

// ---------------------------------------------------------------- validate

#[test]
fn validate_valid_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "ok.ndjson", VALID);
    let out = run(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let summary = text(&out.stderr);
    assert!(summary.contains("db.query"), "{summary}");
    assert!(summary.contains("total"), "{summary}");
}

#[test]
fn validate_reports_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let content = [
        r#"{"event_type":"db.query","query":"SELECT 1","duration":1.5}"#,
        r#"{"event_type":"db.query","query":"SELECT 1","duration":"slow"}"#,
        r#"{"event_type":"flask.request","method":"GET"}"#,
        r#"{"event_type":"db.query","#,
        r#"{"event_type":"no.such","a":1}"#,
        r#"{"no_event_type":true}"#,
    ]
    .join("\n");
    let f = write_file(dir.path(), "bad.ndjson", &content);
    let name = f.to_str().unwrap();
    let out = run(&["validate", name]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("{name}:2: duration: invalid type")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{name}:3: path: missing required field")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{name}:4: $: invalid JSON")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{name}:5: event_type: unknown event type \"no.such\""
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{name}:6: event_type: missing required field")),
        "{stdout}"
    );
    assert!(!stdout.contains(":1:"), "{stdout}");
    assert_eq!(stdout.lines().count(), 5, "{stdout}");

    // --allow-unknown accepts the unknown type, and only it.
    let out = run(&["validate", "--allow-unknown", name]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("no.such"), "{stdout}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");

    let unknown_only = write_file(dir.path(), "unknown.ndjson", r#"{"event_type":"no.such"}"#);
    let out = run(&["validate", unknown_only.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "validate",
        "--allow-unknown",
        unknown_only.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn validate_reads_stdin_and_counts_lines_across_blocks() {
    // Enough lines for several read blocks; the bad one near the end.
    let good =
        r#"{"event_type":"db.query","query":"SELECT * FROM t WHERE id = %s","duration":0.25}"#;
    let mut input = String::new();
    for _ in 0..30_000 {
        input.push_str(good);
        input.push('\n');
    }
    input.push_str(r#"{"event_type":"db.query","query":1,"duration":0.25}"#);
    input.push('\n');
    let mut child = cmd()
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).trim(),
        "<stdin>:30001: query: invalid type: integer `1`, expected a string"
    );
    assert!(text(&out.stderr).contains("30000"), "{}", text(&out.stderr));
}

#[test]
fn missing_file_is_one_clear_error() {
    let out = run(&["validate", "/nonexistent/events.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("insights-events: error: cannot open /nonexistent/events.ndjson"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn every_subcommand_help_has_an_example() {
    for args in [
        &["validate", "--help"][..],
        &["send", "--help"],
        &["receive", "--help"],
        &["schemas", "list", "--help"],
        &["schemas", "update", "--help"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        assert!(help.contains("Example"), "{args:?}: {help}");
        assert!(help.contains("insights-events "), "{args:?}: {help}");
    }
}

/// `--type` checks every line as the named schema; reasons speak JSON.
#[test]
fn validate_as_a_named_schema() {
    let dir = tempfile::tempdir().unwrap();
    let content = [
        r#"{"event_type":"db.query","query":"SELECT 1","duration":1.5}"#,
        r#"{"event_type":"db.query","query":"SELECT 1","duration":"slow"}"#,
        r#"{"event_type":"flask.request","path":"/","method":"GET"}"#,
    ]
    .join("\n");
    let f = write_file(dir.path(), "typed.ndjson", &content);
    let name = f.to_str().unwrap();
    let out = run(&["validate", "--type", "python/db.query", name]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{name}:2: duration: invalid type: string \"slow\", expected a number"
        )),
        "{stdout}"
    );
    // A flask event is not a db.query, whatever the flag says.
    assert!(
        stdout.contains(&format!("{name}:3: event_type:")),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    // An unknown name is one clear error naming the schemas.
    let out = run(&["validate", "--type", "no/such", name]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no schema is called \"no/such\""), "{err}");
    assert!(err.contains("python/db.query"), "{err}");
}

#[test]
fn schemas_list_shows_fields() {
    let out = run(&["schemas", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for t in insights_events::SCHEMAS {
        assert!(s.contains(t.event_type), "{s}");
    }
    let db = s
        .split("\n\n")
        .find(|b| b.starts_with("db.query"))
        .expect("db.query block");
    assert!(
        db.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["query", "string", "required"]),
        "{db}"
    );
    assert!(
        db.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["request_id", "string", "optional"]),
        "{db}"
    );
}

// ---------------------------------------------------------------- receive

/// A running `insights-events receive`; killed on drop.
struct Receiver {
    child: Child,
    url: String,
    out: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::start_with(&[])
    }

    /// `receive` with more arguments (`--schemas DIR`, ...).
    fn start_with(more: &[&str]) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.ndjson");
        let mut child = cmd()
            .args(["receive", "--port", "0", "--out", out.to_str().unwrap()])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start receive");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines2 = lines.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.to_owned());
                    }
                    continue;
                }
                lines2.lock().unwrap().push(line);
            }
        });
        let url = match rx.recv_timeout(DEADLINE) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!("receive did not print its address");
            }
        };
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Receiver {
            child,
            url,
            out,
            lines,
            _dir: dir,
        }
    }

    fn printed(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Posts an NDJSON body to `/v1/events`, as a Honeybadger client does;
    /// the HTTP status.
    fn post_ndjson(&self, body: impl Into<reqwest::Body>) -> u16 {
        rt().block_on(async {
            reqwest::Client::new()
                .post(format!("{}/v1/events", self.url))
                .header("X-API-Key", "k")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    fn wait_events(&self, n: usize) -> Vec<Value> {
        wait_until(|| lines_of(&self.out).len() >= n && self.printed().len() >= n);
        lines_of(&self.out)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn receive_takes_events_from_the_client() {
    let rx = Receiver::start();
    let client = Client::new(Config::new().api_key("k").endpoint(rx.url.clone())).unwrap();
    DbQuery::new("SELECT * FROM users WHERE id = %s", 2.5)
        .request_id("r-1")
        .send_with(&client)
        .unwrap();
    FlaskRequest::new("/users/1", "GET")
        .status(200)
        .duration(12.25)
        .send_with(&client)
        .unwrap();
    assert!(client.flush(DEADLINE).completed);
    assert_eq!(client.stats().sent, 2);

    let events = rx.wait_events(2);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event_type"], "db.query");
    assert_eq!(events[0]["request_id"], "r-1");
    assert!(events[0]["ts"].is_string());
    assert_eq!(events[1]["path"], "/users/1");
    let printed = rx.printed();
    assert_eq!(
        printed[0],
        "db.query 2.5ms SELECT * FROM users WHERE id = %s"
    );
    assert_eq!(printed[1], "flask.request GET /users/1 200 12.25ms");
    assert!(printed.iter().all(|l| !l.contains('✗')), "{printed:?}");
}

#[test]
fn receive_decodes_gzip_and_deflate() {
    let rx = Receiver::start();
    for c in [Compression::Gzip, Compression::Deflate] {
        let client = Client::new(
            Config::new()
                .api_key("k")
                .endpoint(rx.url.clone())
                .compression(c),
        )
        .unwrap();
        DbQuery::new("SELECT 1", 1.0).send_with(&client).unwrap();
        assert!(client.flush(DEADLINE).completed);
        assert_eq!(client.stats().sent, 1, "{c:?}");
    }
    let events = rx.wait_events(2);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["query"] == "SELECT 1"));
}

#[test]
fn receive_marks_invalid_events_and_wants_a_key() {
    let rx = Receiver::start();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/events", rx.url);
    let (no_key, with_key) = rt().block_on(async {
        let no_key = http
            .post(&url)
            .body("{\"event_type\":\"db.query\",\"query\":\"x\",\"duration\":1}\n")
            .send()
            .await
            .unwrap();
        let no_key = (no_key.status().as_u16(), serde_json::from_slice::<Value>(&no_key.bytes().await.unwrap()).unwrap());
        let with_key = http
            .post(&url)
            .header("X-API-Key", "k")
            .body("{\"event_type\":\"db.query\",\"duration\":\"fast\"}\n{\"event_type\":\"mystery\"}\n")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (no_key, with_key)
    });
    assert_eq!(no_key.0, 401);
    assert!(no_key.1["error"].is_string());
    assert_eq!(with_key, 201);
    let events = rx.wait_events(2);
    assert_eq!(events.len(), 2);
    let printed = rx.printed();
    assert!(
        printed[0].contains("✗ duration: invalid type"),
        "{printed:?}"
    );
    assert!(
        printed[1].contains("✗ event_type: unknown event type \"mystery\""),
        "{printed:?}"
    );
}

#[test]
fn receive_honeycomb_batches() {
    let rx = Receiver::start();
    // Through the client's Honeycomb backend.
    let client = Client::new(
        Config::new()
            .honeycomb_write_key("hc")
            .honeycomb_dataset("my-dataset")
            .honeycomb_api_host(rx.url.clone()),
    )
    .unwrap();
    assert_eq!(client.backend_name(), "honeycomb");
    DbQuery::new("SELECT 2", 0.5).send_with(&client).unwrap();
    assert!(client.flush(DEADLINE).completed);
    assert_eq!(client.stats().sent, 1);

    // And by hand, with an invalid event and a malformed item.
    let body = json!([
        {"data": {"event_type": "flask.request", "path": "/", "method": "GET"}, "time": "2025-01-01T00:00:00Z", "samplerate": 1},
        {"data": {"event_type": "flask.request", "path": "/"}, "samplerate": 1},
        42
    ]);
    let (status, statuses) = rt().block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/1/batch/my-dataset", rx.url))
            .header("X-Honeycomb-Team", "hc")
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).unwrap(),
        )
    });
    assert_eq!(status, 200);
    assert_eq!(statuses[0], json!({"status": 202}));
    assert_eq!(statuses[1]["status"], 400);
    assert!(
        statuses[1]["error"].as_str().unwrap().contains("method"),
        "{statuses}"
    );
    assert_eq!(statuses[2]["status"], 400);

    let events = rx.wait_events(3);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["query"], "SELECT 2");
    assert_eq!(events[1]["path"], "/");
}

// ---------------------------------------------------------------- send

#[test]
fn send_ships_a_file_to_the_receiver() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "events.ndjson", VALID);
    let out = cmd()
        .args(["send", f.to_str().unwrap()])
        .env("HONEYBADGER_ENDPOINT", &rx.url)
        .env("HONEYBADGER_API_KEY", "k")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("sent 3"), "{stderr}");
    let events = rx.wait_events(3);
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["path"], "/users/1");
    // The event's own timestamp is kept.
    assert_eq!(events[0]["ts"], "2025-01-01T00:00:00.000000Z");
}

#[test]
fn send_reports_invalid_lines_and_fails() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(
        dir.path(),
        "events.ndjson",
        &format!(
            "{VALID}{{\"event_type\":\"db.query\"}}\n{{\"event_type\":\"custom.thing\",\"n\":1}}\n"
        ),
    );
    let out = cmd()
        .args([
            "send",
            "--endpoint",
            &rx.url,
            "--api-key",
            "k",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(":5: query: missing required field"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":6: event_type: unknown event type"),
        "{stderr}"
    );
    assert_eq!(rx.wait_events(3).len(), 3);

    // --allow-unknown sends the unknown type too.
    let out = cmd()
        .args([
            "send",
            "--allow-unknown",
            "--endpoint",
            &rx.url,
            "--api-key",
            "k",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let events = rx.wait_events(7);
    assert_eq!(events.len(), 7);
    assert_eq!(events[6]["event_type"], "custom.thing");
}

#[test]
fn send_dry_run_sends_nothing() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "events.ndjson", VALID);
    let out = cmd()
        .args(["send", "--dry-run", f.to_str().unwrap()])
        .env("HONEYBADGER_ENDPOINT", &rx.url)
        .env("HONEYBADGER_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("dry run: 3 valid events"),
        "{}",
        text(&out.stderr)
    );
    // The command has exited: anything it sent would already be recorded.
    assert!(lines_of(&rx.out).is_empty());
    assert!(rx.printed().is_empty());
}

#[test]
fn send_without_a_key_writes_ndjson_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "events.ndjson", VALID);
    let out = run(&["send", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["task_name"], "tasks.add");
}

#[test]
fn send_fails_when_events_are_lost() {
    // A port nobody listens on: every batch fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "events.ndjson", VALID);
    let out = cmd()
        .args(["send", "--timeout", "20", f.to_str().unwrap()])
        .env("HONEYBADGER_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("HONEYBADGER_API_KEY", "k")
        .env("HONEYBADGER_EVENTS_MAX_BATCH_RETRIES", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("sent 0"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------- schemas update

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Serves `files` under `/python/NAME` on 127.0.0.1.
fn schema_server(files: Files) -> (String, tokio::runtime::Runtime) {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    use axum::routing::get;

    async fn file(
        State(files): State<Files>,
        UrlPath(name): UrlPath<String>,
    ) -> (StatusCode, Vec<u8>) {
        match files.lock().unwrap().get(&name) {
            Some(b) => (StatusCode::OK, b.clone()),
            None => (StatusCode::NOT_FOUND, b"not found".to_vec()),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/python/", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/python/{name}", get(file))
        .with_state(files);
    rt.spawn(async move { axum::serve(listener, app).await });
    (url, rt)
}

#[test]
fn schemas_update_check_and_rewrite() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/python");
    let files: Files = Arc::new(Mutex::new(HashMap::new()));
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        files
            .lock()
            .unwrap()
            .insert(name, std::fs::read(&p).unwrap());
    }
    let (url, _rt) = schema_server(files.clone());

    // Identical: --check passes and touches nothing.
    let out = run(&[
        "schemas",
        "update",
        "--check",
        "--from",
        &url,
        "--dir",
        src.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout).matches("unchanged").count(),
        5,
        "{}",
        text(&out.stdout)
    );

    // A copy to update.
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let mut changed: Value =
        serde_json::from_slice(&std::fs::read(src.join("db.query.schema.json")).unwrap()).unwrap();
    changed["properties"]["rows"] = json!({"type": "integer", "description": "Rows returned."});
    let changed = serde_json::to_vec_pretty(&changed).unwrap();
    files
        .lock()
        .unwrap()
        .insert("db.query.schema.json".into(), changed.clone());
    std::fs::remove_file(dir.path().join("flask.request.schema.json")).unwrap();
    let d = dir.path().to_str().unwrap();

    let out = run(&["schemas", "update", "--check", "--from", &url, "--dir", d]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("differs") && l.contains("db.query.schema.json")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("would add") && l.contains("flask.request")),
        "{stdout}"
    );
    assert!(!dir.path().join("flask.request.schema.json").exists());

    let out = run(&["schemas", "update", "--from", &url, "--dir", d]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("changed") && l.contains("db.query")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("added") && l.contains("flask.request")),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("db.query.schema.json")).unwrap(),
        changed
    );
    assert!(dir.path().join("flask.request.schema.json").exists());

    let out = run(&["schemas", "update", "--check", "--from", &url, "--dir", d]);
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------- honeybadger-python

/// honeybadger-python's Flask integration against `receive`: runs only when
/// `INSIGHTS_PYTHON` names an interpreter with `honeybadger` and `flask`.
#[test]
fn python_flask_app_events_are_valid() {
    let Some(python) = std::env::var_os("INSIGHTS_PYTHON").filter(|p| !p.is_empty()) else {
        println!("skipped: INSIGHTS_PYTHON is not set");
        return;
    };
    let importable = Command::new(&python)
        .args(["-c", "import honeybadger, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !importable {
        println!("skipped: {python:?} cannot import honeybadger and flask");
        return;
    }
    let rx = Receiver::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/flask_app.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(&rx.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = wait_until(|| matches!(child.try_wait(), Ok(Some(_))));
    if !done {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        done && out.status.success(),
        "flask_app.py failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let events = rx.wait_events(4);
    let printed = rx.printed();
    let flask: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "flask.request")
        .collect();
    let db: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "db.query")
        .collect();
    assert_eq!(flask.len(), 2, "{events:?}");
    assert_eq!(db.len(), 2, "{events:?}");
    assert!(
        printed.iter().any(|l| l == "flask.request GET /users/1 200"
            || l.starts_with("flask.request GET /users/1 200 ")),
        "{printed:?}"
    );
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("flask.request GET /users/2 404")),
        "{printed:?}"
    );
    assert!(printed.iter().all(|l| !l.contains('✗')), "{printed:?}");
    for e in &events {
        let line = serde_json::to_string(e).unwrap();
        insights_events::AnyEvent::from_json_str(&line)
            .unwrap_or_else(|err| panic!("{line}: {err}"));
    }
}

// ------------------------------------------------ --schemas, the catalog

/// The published catalog (`../shared/catalog`), when it is there.
fn catalog() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/catalog");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: no catalog at {}", dir.display());
        None
    }
}

/// One event per schema: each property's first `examples` value, the
/// const of each const property (`event_type` too, else its first
/// example), and for a required property without either a value of its
/// declared type (the honeybadger-cli schemas have a few).
fn example_of(schema: &Value) -> Value {
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut ev = serde_json::Map::new();
    for (key, p) in &props {
        let value = p
            .get("const")
            .or_else(|| p["examples"].as_array().and_then(|a| a.first()))
            .cloned()
            .or_else(|| {
                required
                    .contains(&key.as_str())
                    .then(|| match p["type"].as_str() {
                        Some("integer") => json!(1),
                        Some("number") => json!(1.5),
                        Some("boolean") => json!(true),
                        Some("array") => json!([]),
                        Some("object") => json!({}),
                        _ => json!("example"),
                    })
            });
        if let Some(v) = value {
            ev.insert(key.clone(), v);
        }
    }
    Value::Object(ev)
}

/// The schema files of one catalog folder, sorted.
fn schema_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The first required field (not `event_type`, not a const) of a JSON type
/// a wrong value can be found for, and that value.
fn corruption(schema: &Value) -> Option<(String, Value)> {
    let props = schema["properties"].as_object()?;
    schema["required"].as_array()?.iter().find_map(|r| {
        let key = r.as_str()?;
        let p = props.get(key)?;
        if key == "event_type" || p.get("const").is_some() {
            return None;
        }
        let ty = match &p["type"] {
            Value::String(s) => s.clone(),
            t @ Value::Array(_) => t.to_string(),
            _ => return None,
        };
        let wrong = insights_events::check::wrong_value_for(&ty)?;
        Some((key.to_owned(), wrong))
    })
}

/// Every catalog folder through `validate --schemas`: the events built from
/// its schemas' examples all pass without `--type` (heroku's two `logplex`
/// schemas placed by `proc_id`, elixir's `my_app.repo.query` by name);
/// corrupted copies are flagged with their line and field.
#[test]
fn validate_every_catalog_folder_with_schemas() {
    let Some(catalog) = catalog() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&catalog)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let (mut passed, mut flagged, mut corrupted) = (0, 0, 0);
    for folder in &folders {
        let client = folder.file_name().unwrap().to_str().unwrap();
        let schemas: Vec<Value> = schema_files(folder)
            .iter()
            .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
            .collect();
        let good: Vec<String> = schemas.iter().map(|s| example_of(s).to_string()).collect();
        let f = write_file(tmp.path(), &format!("{client}.ndjson"), &good.join("\n"));
        let out = run(&[
            "validate",
            "--schemas",
            folder.to_str().unwrap(),
            f.to_str().unwrap(),
        ]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{client}:\n{stdout}\n{stderr}");
        assert!(stdout.is_empty(), "{client}: {stdout}");
        assert!(
            stderr.contains(&format!("insights-events: loaded {} schema", schemas.len())),
            "{stderr}"
        );
        assert!(!stderr.contains("unknown"), "{client}: {stderr}");
        passed += good.len();

        // Corrupted copies: one required field of the wrong JSON type each.
        let mut bad = Vec::new();
        let mut want = Vec::new();
        // (`event_type` itself when it is the only required field.)
        for s in &schemas {
            let mut ev = example_of(s);
            let (field, why) = match corruption(s) {
                Some((field, wrong)) => {
                    ev[field.as_str()] = wrong;
                    (field, "invalid type: ")
                }
                None => {
                    ev["event_type"] = json!(12345);
                    ("event_type".to_owned(), "expected a string, found 12345")
                }
            };
            bad.push(ev.to_string());
            want.push((bad.len(), field, why));
        }
        corrupted += bad.len();
        let f = write_file(tmp.path(), &format!("{client}.bad.ndjson"), &bad.join("\n"));
        let name = f.to_str().unwrap();
        let out = run(&["validate", "--schemas", folder.to_str().unwrap(), name]);
        assert_eq!(out.status.code(), Some(1), "{client}");
        let stdout = text(&out.stdout);
        for (line, field, why) in &want {
            let prefix = format!("{name}:{line}: {field}: {why}");
            assert!(
                stdout.lines().any(|l| l.starts_with(&prefix)),
                "{client}: no {prefix:?} in\n{stdout}"
            );
            flagged += 1;
        }
        assert_eq!(stdout.lines().count(), want.len(), "{stdout}");
    }
    assert_eq!(passed, 109, "every catalog schema's example passes");
    assert_eq!((flagged, corrupted), (109, 109));
}

/// `receive --schemas`: a batch of catalog events, valid and corrupted.
#[test]
fn receive_checks_against_loaded_schemas() {
    let Some(catalog) = catalog() else { return };
    let folder = catalog.join("honeybadger-elixir");
    let rx = Receiver::start_with(&["--schemas", folder.to_str().unwrap()]);
    let schemas: Vec<Value> = schema_files(&folder)
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let mut body = String::new();
    for s in &schemas {
        body.push_str(&example_of(s).to_string());
        body.push('\n');
    }
    let ecto = schemas
        .iter()
        .find(|s| {
            s["$id"]
                .as_str()
                .unwrap_or("")
                .ends_with("/ecto.query.json")
        })
        .expect("ecto.query");
    let mut bad = example_of(ecto);
    bad["query"] = json!(42);
    body.push_str(&bad.to_string());
    body.push('\n');
    let status = rx.post_ndjson(body);
    assert_eq!(status, 201);
    let n = schemas.len() + 1;
    rx.wait_events(n);
    let printed = rx.printed();
    assert_eq!(printed.len(), n, "{printed:#?}");
    let marked: Vec<&String> = printed.iter().filter(|l| l.contains('✗')).collect();
    assert_eq!(marked.len(), 1, "{printed:#?}");
    assert!(
        marked[0].starts_with("my_app.repo.query ")
            && marked[0].ends_with("✗ query: invalid type: integer `42`, expected a string"),
        "{marked:?}"
    );
}

fn order_schemas(dir: &Path) -> PathBuf {
    let schemas = dir.join("my-schemas");
    std::fs::create_dir_all(schemas.join("shop")).unwrap();
    std::fs::write(
        schemas.join("shop/order.placed.schema.json"),
        json!({
            "type": "object",
            "properties": {
                "event_type": {"type": "string", "const": "order.placed"},
                "order_id": {"type": "string", "examples": ["o_1001"]},
                "items": {"type": "integer", "minimum": 1, "examples": [3]},
                "coupon": {"type": ["string", "null"]}
            },
            "required": ["event_type", "order_id", "items"]
        })
        .to_string(),
    )
    .unwrap();
    schemas
}

/// A user's own event type: valid with `--schemas`, and a typo in its name
/// is named as one, with `--allow-unknown` too (in the summary).
#[test]
fn validate_with_a_users_schema_and_a_typo() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = order_schemas(dir.path());
    let content = [
        r#"{"event_type":"order.placed","order_id":"o_1","items":2,"coupon":null}"#,
        r#"{"event_type":"order.placd","order_id":"o_2","items":2}"#,
        r#"{"event_type":"order.placed","order_id":"o_3","items":0}"#,
        r#"{"event_type":"db.query","query":"SELECT 1","duration":1.5}"#,
    ]
    .join("\n");
    let f = write_file(dir.path(), "orders.ndjson", &content);
    let name = f.to_str().unwrap();
    // Without --schemas: every order.placed is unknown.
    let out = run(&["validate", name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains(&format!(
            "{name}:1: event_type: unknown event type \"order.placed\""
        )),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["validate", "--schemas", schemas.to_str().unwrap(), name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{name}:2: event_type: unknown event type \"order.placd\" (did you mean \"order.placed\"?)\n\
             {name}:3: items: expected a number of at least 1, found 0\n"
        )
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "insights-events: loaded 1 schema from {}\n",
            schemas.display()
        )),
        "{stderr}"
    );
    // --allow-unknown accepts the typo, and the summary still counts it.
    let out = run(&[
        "validate",
        "--allow-unknown",
        "--schemas",
        schemas.to_str().unwrap(),
        name,
    ]);
    assert_eq!(out.status.code(), Some(1), "line 3 is still invalid");
    let stderr = text(&out.stderr);
    let row = |t: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(t))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>())
    };
    assert_eq!(
        row("event type"),
        Some(vec!["type", "valid", "invalid", "unknown"])
    );
    assert_eq!(row("order.placd"), Some(vec!["0", "0", "1"]), "{stderr}");
    assert_eq!(row("order.placed"), Some(vec!["1", "1", "0"]), "{stderr}");
    assert_eq!(row("total"), Some(vec!["2", "1", "1"]), "{stderr}");
    // A folder that is not there: one clear error.
    let out = run(&["validate", "--schemas", "/nonexistent/schemas", name]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim(),
        "insights-events: error: --schemas: cannot read /nonexistent/schemas: No such file or directory (os error 2)"
    );
    // --type names a loaded schema; an unknown name lists them all.
    let out = run(&[
        "validate",
        "--schemas",
        schemas.to_str().unwrap(),
        "--type",
        "nope",
        name,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("shop/order.placed, python/asgi.request"),
        "{err}"
    );
}

/// Every example in every `--help` names real options with values that
/// parse; the `validate` ones run, in a folder holding what they name.
#[test]
fn help_examples_name_real_options_and_run() {
    let mut examples: Vec<Vec<String>> = Vec::new();
    for help in [
        &["--help"][..],
        &["validate", "--help"],
        &["send", "--help"],
        &["receive", "--help"],
        &["schemas", "list", "--help"],
        &["schemas", "update", "--help"],
    ] {
        let help_text = text(&run(help).stdout);
        let (_, after) = help_text
            .split_once("Example")
            .unwrap_or_else(|| panic!("{help:?} has examples"));
        for line in after.lines() {
            if let Some(at) = line.find("insights-events ") {
                examples.push(
                    line[at + "insights-events ".len()..]
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                );
            }
        }
    }
    assert!(examples.len() >= 14, "{examples:?}");
    // clap reads every argument before it acts on `--help`: an unknown
    // option or a value that does not parse fails.
    for args in &examples {
        let out = cmd().args(args).arg("--help").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "insights-events {}: {}",
            args.join(" "),
            text(&out.stderr)
        );
    }
    // The validate examples, for real.
    let dir = tempfile::tempdir().unwrap();
    order_schemas(dir.path());
    for f in ["events.ndjson", "more.ndjson"] {
        write_file(dir.path(), f, VALID);
    }
    let catalog = catalog();
    if let Some(catalog) = &catalog {
        let catalog = catalog.canonicalize().unwrap();
        std::os::unix::fs::symlink(&catalog, dir.path().join("catalog")).unwrap();
        let ecto: Value = serde_json::from_str(
            &std::fs::read_to_string(catalog.join("honeybadger-elixir/ecto.query.json")).unwrap(),
        )
        .unwrap();
        let mut other = example_of(&ecto);
        other["event_type"] = json!("shop.repo.query");
        write_file(
            dir.path(),
            "ecto.ndjson",
            &format!("{}\n{other}\n", example_of(&ecto)),
        );
    }
    let mut ran = 0;
    for args in examples.iter().filter(|a| a[0] == "validate") {
        if catalog.is_none() && args.iter().any(|a| a.starts_with("catalog/")) {
            continue;
        }
        let mut child = cmd()
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(VALID.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "insights-events {}:\n{}{}",
            args.join(" "),
            text(&out.stdout),
            text(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 4, "{ran} validate examples ran");
}

/// The receiver rounds durations, and when it stops (SIGINT, as Ctrl-C
/// sends) it prints what it received: valid, invalid, unknown, per type.
#[cfg(unix)]
#[test]
fn receive_prints_a_summary_when_it_stops() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut rx = Receiver::start();
        let body = [
            r#"{"event_type":"db.query","query":"SELECT 1","duration":0.38476299999999997}"#,
            r#"{"event_type":"db.query","query":"SELECT 2","duration":"slow"}"#,
            r#"{"event_type":"flask.request","path":"/","method":"GET","status":200,"duration":12.3456}"#,
            r#"{"event_type":"cache.miss","key":"k"}"#,
            r#"{"event_type":"#,
        ]
        .join("\n");
        let status = rx.post_ndjson(body);
        assert_eq!(status, 201);
        assert!(wait_until(|| rx.printed().len() >= 5), "{:?}", rx.printed());
        let printed = rx.printed();
        assert_eq!(printed[0], "db.query 0.38ms SELECT 1");
        assert_eq!(printed[2], "flask.request GET / 200 12.35ms");
        assert!(printed[3].contains("✗ event_type: unknown event type \"cache.miss\""));

        let pid = rx.child.id() as libc::pid_t;
        // SAFETY: `kill` sends a signal to our own child, by its id.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let exited = wait_until(|| matches!(rx.child.try_wait(), Ok(Some(_))));
        assert!(exited, "the receiver stops on signal {signal}");
        assert!(wait_until(|| rx
            .printed()
            .iter()
            .any(|l| l.starts_with("total"))));
        let printed = rx.printed();
        let summary: Vec<&str> = printed[5..].iter().map(String::as_str).collect();
        let rows: Vec<Vec<&str>> = summary
            .iter()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            summary[0], "received 5 events: 2 valid, 2 invalid, 1 unknown",
            "{summary:#?}"
        );
        assert_eq!(
            rows[1..],
            [
                vec!["event", "type", "valid", "invalid", "unknown"],
                vec!["(no", "event_type)", "0", "1", "0"],
                vec!["cache.miss", "0", "0", "1"],
                vec!["db.query", "1", "1", "0"],
                vec!["flask.request", "1", "0", "0"],
                vec!["total", "2", "2", "1"],
            ],
            "{summary:#?}"
        );
    }
}

/// `receive --allow-unknown --schemas`: an unknown event type is accepted,
/// and still shown as unknown, with the nearest known name.
#[test]
fn receive_shows_accepted_unknown_event_types() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = order_schemas(dir.path());
    let rx = Receiver::start_with(&["--allow-unknown", "--schemas", schemas.to_str().unwrap()]);
    let body = "{\"event_type\":\"order.placd\",\"order_id\":\"o_1\",\"items\":1}\n\
                {\"event_type\":\"order.placed\",\"order_id\":\"o_1\",\"items\":1}\n";
    let status = rx.post_ndjson(body);
    assert_eq!(status, 201);
    rx.wait_events(2);
    let printed = rx.printed();
    assert!(
        printed[0].ends_with(
            "  ? event_type: unknown event type \"order.placd\" (did you mean \"order.placed\"?) (accepted: --allow-unknown)"
        ),
        "{printed:?}"
    );
    assert!(
        !printed[1].contains('?') && !printed[1].contains('✗'),
        "{printed:?}"
    );
}
