//! The whole published catalog, compiled and loaded: a user's crate whose
//! `schemas/` are the catalog's 109 schemas (and `examples/custom-schema`'s
//! two, for string enums and integer bounds) is built by cargo, as
//! `tests/user_crate.rs` builds one (offline, sharing its target directory
//! `target/user-crate`); its program checks every example of every schema,
//! and copies of each with every value at every depth replaced by values
//! of every JSON type or removed, both through the generated types
//! (`AnyEvent::from_value_as`) and through the same files loaded at run
//! time (`LoadedSchemas::check_value_as`), and prints each event on which
//! the two differ, in verdict or in words. There must be none.
//!
//! Skipped, with a note, when `../shared/catalog` is not there.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "common/files.rs"]
mod files;
use files::copy_dir;

const MANIFEST: &str = r#"[package]
name = "loaded-catalog-agreement"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
insights-events = { path = "ROOT" }

[build-dependencies]
insights-events-codegen = { path = "ROOT/codegen" }

[workspace]
"#;

const BUILD: &str = r#"fn main() -> Result<(), insights_events_codegen::Error> {
    insights_events_codegen::compile("schemas")
}
"#;

const MAIN: &str = r#"
#[allow(clippy::all, dead_code, missing_docs)]
pub mod events {
    insights_events::include_events!();
}

use insights_events::__private::serde_json::{self, json, Value};
use insights_events::check::from_json_error;
use insights_events::loaded::LoadedSchemas;

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every path to a value inside `v`.
fn paths(v: &Value, prefix: &[Seg], out: &mut Vec<Vec<Seg>>) {
    let mut visit = |seg: Seg, x: &Value| {
        let mut p = prefix.to_vec();
        p.push(seg);
        out.push(p.clone());
        paths(x, &p, out);
    };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| visit(Seg::Key(k.clone()), x)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| visit(Seg::Index(i), x)),
        _ => {}
    }
}

/// `v` with the value at `path` replaced by `new` (removed: `None`).
fn with(v: &Value, path: &[Seg], new: Option<Value>) -> Value {
    let mut v = v.clone();
    let (last, init) = path.split_last().unwrap();
    let mut cur = &mut v;
    for s in init {
        cur = match s {
            Seg::Key(k) => &mut cur[k.as_str()],
            Seg::Index(i) => &mut cur[*i],
        };
    }
    match (last, new) {
        (Seg::Key(k), Some(n)) => cur[k.as_str()] = n,
        (Seg::Key(k), None) => {
            cur.as_object_mut().unwrap().shift_remove(k);
        }
        (Seg::Index(i), Some(n)) => cur[*i] = n,
        (Seg::Index(i), None) => {
            cur.as_array_mut().unwrap().remove(*i);
        }
    }
    v
}

fn main() {
    let loaded = LoadedSchemas::load(&["schemas".into()]).expect("the schemas load");
    let long = "x".repeat(300);
    let kinds = [
        json!(12345), json!(-1), json!(1.5), json!(18446744073709551615u64),
        json!("s"), json!(""), json!(long), json!(true), Value::Null,
        json!([]), json!(["x"]), json!([1, 2, 3, 4, 5, 6, 7, 8]),
        json!({}), json!({"k": 1}), json!({"free": null}), json!({"gauge": 1}),
    ];
    let (mut same, mut differ) = (0u64, 0u64);
    for s in loaded.schemas() {
        let name = s.name();
        let mut bases: Vec<Value> = s.examples().to_vec();
        bases.extend(s.example_from_properties().cloned());
        for base in bases {
            let mut events = vec![base.clone()];
            let mut all = Vec::new();
            paths(&base, &[], &mut all);
            for p in &all {
                events.extend(kinds.iter().map(|k| with(&base, p, Some(k.clone()))));
                events.push(with(&base, p, None));
            }
            for v in events {
                let et = v.get("event_type").and_then(Value::as_str).map(str::to_owned);
                let compiled = events::AnyEvent::from_value_as(name, v.clone())
                    .map(drop)
                    .map_err(|e| from_json_error(et.as_deref(), &e).to_string());
                let runtime = loaded
                    .check_value_as(v.clone(), name)
                    .map(drop)
                    .map_err(|e| e.to_string());
                if compiled == runtime {
                    same += 1;
                } else {
                    differ += 1;
                    println!("DIFF {name} {v}\n  compiled {compiled:?}\n  loaded   {runtime:?}");
                }
            }
        }
    }
    println!("schemas {} same {same} differ {differ}", loaded.schemas().len());
    let _ = serde_json::to_string(&same);
}
"#;

#[test]
fn compiled_and_loaded_catalog_agree_on_every_event() {
    let catalog = root().join("../shared/catalog");
    if !catalog.is_dir() {
        println!("skipped: no catalog at {}", catalog.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("agreement");
    for entry in std::fs::read_dir(&catalog).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            copy_dir(&p, &dir.join("schemas").join(p.file_name().unwrap()));
        }
    }
    copy_dir(
        &root().join("examples/custom-schema/schemas"),
        &dir.join("schemas"),
    );
    let root_path = root().display().to_string();
    std::fs::write(dir.join("Cargo.toml"), MANIFEST.replace("ROOT", &root_path)).unwrap();
    std::fs::write(dir.join("build.rs"), BUILD).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(["run", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root().join("target/user-crate"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let out = c.output().expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    let words: Vec<&str> = last.split_whitespace().collect();
    assert!(
        matches!(
            words.as_slice(),
            ["schemas", "111", "same", _, "differ", "0"]
        ),
        "{stdout}"
    );
    let same: u64 = words[3].parse().unwrap();
    assert!(same > 15_000, "{last}");
}
