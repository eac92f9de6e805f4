//! `insights-events schemas list|update`.

use std::path::Path;
use std::time::Duration;

use insights_events::SCHEMAS;
use serde_json::Value;

/// Where Honeybadger publishes the Python event schemas.
pub const DEFAULT_BASE: &str = "https://docs.honeybadger.io/insights/event-types/python/";

/// `schemas list`.
pub fn list() -> Result<i32, String> {
    let mut out = String::new();
    for s in SCHEMAS {
        out.push_str(&format!(
            "{}  ({}::{}){}\n",
            s.event_type,
            s.namespace,
            s.type_name,
            if s.title.is_empty() {
                String::new()
            } else {
                format!("  {}", s.title)
            }
        ));
        let w = s
            .fields
            .iter()
            .map(|f| f.name.len())
            .chain(["event_type".len()])
            .max()
            .unwrap_or(10);
        let tw = s
            .fields
            .iter()
            .map(|f| f.json_type.len())
            .chain(["string".len()])
            .max()
            .unwrap_or(6);
        out.push_str(&format!(
            "  {:<w$}  {:<tw$}  required\n",
            "event_type", "string"
        ));
        for f in s.fields {
            out.push_str(&format!(
                "  {:<w$}  {:<tw$}  {}\n",
                f.name,
                f.json_type,
                if f.required { "required" } else { "optional" }
            ));
        }
        out.push('\n');
    }
    print!("{}", out.trim_end_matches('\n'));
    println!();
    Ok(0)
}

enum Change {
    Added,
    Changed,
    Unchanged,
    RemovedUpstream,
}

/// `schemas update`.
pub fn update(base: &str, dir: &Path, check: bool, timeout: Duration) -> Result<i32, String> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    let types: Vec<&str> = SCHEMAS
        .iter()
        .filter(|s| s.namespace == "python")
        .map(|s| s.event_type)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("insights-events/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;

    // Download everything first: never leave a half-updated folder.
    let mut fetched: Vec<(&str, Option<Vec<u8>>)> = Vec::new();
    for t in &types {
        let url = format!("{base}{t}.schema.json");
        let body = rt.block_on(async {
            let resp = http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("cannot fetch {url}: {}", chain(&e)))?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("cannot fetch {url}: HTTP {status}"));
            }
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| format!("cannot read {url}: {}", chain(&e)))?;
            Ok(Some(bytes.to_vec()))
        })?;
        if let Some(b) = &body {
            match serde_json::from_slice::<Value>(b) {
                Ok(Value::Object(_)) => {}
                _ => return Err(format!("{url} is not a JSON Schema object")),
            }
        }
        fetched.push((t, body));
    }

    if !fetched.is_empty() && fetched.iter().all(|(_, b)| b.is_none()) {
        return Err(format!(
            "no schema found under {base} (every <event_type>.schema.json answered 404)"
        ));
    }
    let mut differ = 0;
    let mut report = Vec::new();
    for (t, body) in fetched {
        let file = format!("{t}.schema.json");
        let path = dir.join(&file);
        let local = std::fs::read(&path).ok();
        let change = match (&local, &body) {
            (_, None) => Change::RemovedUpstream,
            (None, Some(_)) => Change::Added,
            (Some(l), Some(r)) if same(l, r) => Change::Unchanged,
            (Some(_), Some(_)) => Change::Changed,
        };
        if !matches!(change, Change::Unchanged) {
            differ += 1;
        }
        if !check {
            if let (Some(b), Change::Added | Change::Changed) = (&body, &change) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                std::fs::write(&path, b)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
        }
        let word = match (change, check) {
            (Change::Added, false) => "added",
            (Change::Added, true) => "would add",
            (Change::Changed, false) => "changed",
            (Change::Changed, true) => "differs",
            (Change::Unchanged, _) => "unchanged",
            (Change::RemovedUpstream, _) => "removed upstream (local copy kept)",
        };
        report.push(format!("{word:>9}  {}", path.display()));
    }
    for line in &report {
        println!("{line}");
    }
    if check {
        if differ > 0 {
            eprintln!(
                "{differ} schema file(s) differ from {base}; run `insights-events schemas update` to update them"
            );
            return Ok(1);
        }
        eprintln!("all {} schema files are up to date", types.len());
    } else if differ > 0 {
        eprintln!("{differ} schema file(s) updated; rebuild to regenerate the types");
    }
    Ok(0)
}

/// Same JSON (formatting aside), or the same bytes.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// An error and its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = inner.source();
    }
    s
}
