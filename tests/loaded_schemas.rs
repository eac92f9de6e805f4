//! Schemas loaded at run time (`insights_events::loaded`) against the
//! types generated from the same files at build time: the crate's own
//! `schemas/`, loaded from disk, must give every event the verdict and the
//! message the compiled types give. Then what only loaded schemas do:
//! precedence over a compiled schema, placing by consts and by name,
//! unknown event types, load errors.

use std::path::{Path, PathBuf};

use insights_events::check::{self, wrong_value_for, Invalid, Options};
use insights_events::loaded::{LoadError, LoadedSchemas};
use insights_events::SCHEMAS;
use serde_json::{json, Value};

fn crate_schemas() -> LoadedSchemas {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    LoadedSchemas::load(&[dir]).expect("the crate's schemas load")
}

/// Both verdicts, as comparable values: `Ok(event_type)` or the `Invalid`.
fn compiled_as(v: &Value, name: &str) -> Result<String, Invalid> {
    check::check_value_as(v.clone(), name).map(|e| e.event_type().unwrap_or_default().to_owned())
}

fn loaded_as(l: &LoadedSchemas, v: &Value, name: &str) -> Result<String, Invalid> {
    l.check_value_as(v.clone(), name).map(|c| c.event_type)
}

/// Values of every JSON type, and a few that only bounds or integers mind.
fn all_kinds() -> Vec<Value> {
    vec![
        json!(12345),
        json!(-1),
        json!(1.5),
        json!(18446744073709551615u64),
        json!("not the right type"),
        json!(""),
        json!(true),
        Value::Null,
        json!([]),
        json!(["x", 1]),
        json!({}),
        json!({"k": [1]}),
    ]
}

#[test]
fn every_crate_schema_loads_under_its_compiled_name() {
    let loaded = crate_schemas();
    let mut names = loaded.names();
    names.sort_unstable();
    let mut compiled: Vec<&str> = SCHEMAS.iter().map(|s| s.name).collect();
    compiled.sort_unstable();
    assert_eq!(names, compiled);
    for s in SCHEMAS {
        let l = loaded.find(s.name).expect("found by name");
        assert_eq!(l.event_type(), s.event_type, "{}", s.name);
        assert_eq!(l.free_event_type(), s.free_event_type, "{}", s.name);
        let required: Vec<(&str, &str)> = l.required_fields().collect();
        let want: Vec<(&str, &str)> = s
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| (f.name, f.json_type))
            .collect();
        assert_eq!(required, want, "{}", s.name);
        // The example built from the properties is the compiled one.
        let built = l
            .example_from_properties()
            .expect("every field has an example");
        let compiled: Value = serde_json::from_str(s.examples[0]).unwrap();
        assert_eq!(built, &compiled, "{}", s.name);
    }
    // Loaded, they replace every compiled schema of the same event type.
    assert_eq!(loaded.replaced().len(), SCHEMAS.len());
}

/// Loaded and compiled schemas agree: every example passes both; every
/// required field given a value of a wrong JSON type is rejected by both
/// with the same `Invalid` (event type, path, reason).
#[test]
fn examples_pass_both_and_wrong_types_fail_both_alike() {
    let loaded = crate_schemas();
    let mut flagged = 0;
    for s in SCHEMAS {
        assert!(!s.examples.is_empty(), "{} has an example", s.name);
        for ex in s.examples {
            let v: Value = serde_json::from_str(ex).unwrap();
            assert!(compiled_as(&v, s.name).is_ok(), "{}: {ex}", s.name);
            assert!(loaded_as(&loaded, &v, s.name).is_ok(), "{}: {ex}", s.name);
            assert_eq!(
                loaded.check_value(v.clone(), Options::default()),
                Ok(insights_events::loaded::Checked {
                    event_type: s.event_type.to_owned(),
                    known: true
                })
            );
        }
        let base: Value = serde_json::from_str(s.examples[0]).unwrap();
        for f in s.fields.iter().filter(|f| f.required) {
            let Some(wrong) = wrong_value_for(f.json_type) else {
                continue;
            };
            let mut v = base.clone();
            v[f.name] = wrong.clone();
            let c = compiled_as(&v, s.name).expect_err("compiled rejects it");
            let l = loaded_as(&loaded, &v, s.name).expect_err("loaded rejects it");
            assert_eq!(l, c, "{}.{} = {wrong}", s.name, f.name);
            assert_eq!(c.path, f.name, "{c}");
            flagged += 1;
        }
    }
    assert!(flagged >= 15, "only {flagged} wrong types tried");
}

/// Every field (required or not, `event_type`
/// too) given a value of every JSON type, every field removed, a key the
/// schema does not know: the same verdict, the same words, by name and by
/// dispatch on `event_type`.
#[test]
fn every_field_every_kind_same_verdict_same_words() {
    let loaded = crate_schemas();
    let mut cases = 0;
    for s in SCHEMAS {
        let base: Value = serde_json::from_str(s.examples[0]).unwrap();
        let keys: Vec<String> = base.as_object().unwrap().keys().cloned().collect();
        let mut events = vec![base.clone()];
        for k in &keys {
            for w in all_kinds() {
                let mut v = base.clone();
                v[k.as_str()] = w;
                events.push(v);
            }
            let mut v = base.clone();
            v.as_object_mut().unwrap().shift_remove(k);
            events.push(v);
        }
        let mut v = base.clone();
        v["not_in_the_schema"] = json!({"any": "thing"});
        events.push(v);
        for v in events {
            let c = compiled_as(&v, s.name);
            let l = loaded_as(&loaded, &v, s.name);
            assert_eq!(l, c, "{} as {}: {v}", s.name, s.name);
            for opts in [
                Options::default(),
                Options {
                    allow_unknown: true,
                },
            ] {
                let c = check::check_value(v.clone(), opts)
                    .map(|e| e.event_type().unwrap_or_default().to_owned());
                let l = loaded.check_value(v.clone(), opts).map(|c| c.event_type);
                assert_eq!(l, c, "{} by event_type: {v}", s.name);
            }
            cases += 1;
        }
    }
    assert!(cases > 300, "{cases}");
}

fn write(dir: &Path, rel: &str, schema: Value) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, serde_json::to_string_pretty(&schema).unwrap()).unwrap();
    p
}

#[test]
fn a_loaded_schema_takes_precedence_over_a_compiled_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "mine/db.query.schema.json",
        json!({
            "type": "object",
            "properties": {
                "event_type": {"const": "db.query"},
                "rows": {"type": "integer"}
            },
            "required": ["event_type", "rows"]
        }),
    );
    let loaded = LoadedSchemas::load(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(loaded.replaced(), ["python/db.query"]);
    // Valid for the built-in schema, not for the loaded one.
    let v = json!({"event_type": "db.query", "query": "q", "duration": 1});
    assert!(check::check_value(v.clone(), Options::default()).is_ok());
    let e = loaded.check_value(v, Options::default()).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.reason.as_str()),
        ("rows", "missing required field")
    );
    // The other built-in types are still checked.
    let e = loaded
        .check_value(
            json!({"event_type": "flask.request", "path": "/"}),
            Options::default(),
        )
        .unwrap_err();
    assert_eq!(e.path, "method");
    // `--type` finds the loaded one by its name, then the built-in ones.
    assert_eq!(
        loaded.find("mine/db.query").unwrap().name(),
        "mine/db.query"
    );
    assert!(loaded
        .check_value_as(
            json!({"event_type": "db.query", "rows": 3}),
            "mine/db.query"
        )
        .is_ok());
    assert!(loaded
        .check_value_as(
            json!({"event_type": "db.query", "query": "q", "duration": 1}),
            "python/db.query"
        )
        .is_ok());
}

/// Heroku's two `logplex` schemas and Elixir's `ecto.query` as the catalog
/// writes them: no `event_type` const; placed by `proc_id`, and by name.
#[test]
fn free_event_types_are_placed_by_consts_then_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let free = |examples: Value| json!({"type": "string", "examples": examples});
    write(
        dir.path(),
        "heroku/router.json",
        json!({"type": "object", "properties": {
            "event_type": free(json!(["logplex"])),
            "proc_id": {"type": "string", "const": "router"},
            "status": {"type": "integer"}
        }, "required": ["event_type", "proc_id", "status"]}),
    );
    write(
        dir.path(),
        "heroku/postgres.json",
        json!({"type": "object", "properties": {
            "event_type": free(json!(["logplex"])),
            "proc_id": {"type": "string", "const": "heroku-postgres"},
            "active_connections": {"type": "integer"}
        }, "required": ["event_type", "proc_id"]}),
    );
    write(
        dir.path(),
        "elixir/ecto.query.json",
        json!({"type": "object", "properties": {
            "event_type": free(json!(["my_app.repo.query"])),
            "query": {"type": "string"}
        }, "required": ["event_type", "query"]}),
    );
    write(
        dir.path(),
        "elixir/oban.job.json",
        json!({"type": "object", "properties": {
            "event_type": {"type": "string", "x-event-type-pattern": ["*.job.done", "oban.*"]},
            "worker": {"type": "string"}
        }, "required": ["event_type"]}),
    );
    let loaded = LoadedSchemas::load(&[dir.path().to_path_buf()]).unwrap();
    let check = |v: Value| loaded.check_value(v, Options::default());
    assert!(check(json!({"event_type": "logplex", "proc_id": "router", "status": 200})).is_ok());
    let e =
        check(json!({"event_type": "logplex", "proc_id": "router", "status": "200"})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "status: invalid type: string \"200\", expected an integer"
    );
    let e = check(
        json!({"event_type": "logplex", "proc_id": "heroku-postgres", "active_connections": 1.5}),
    )
    .unwrap_err();
    assert_eq!(e.path, "active_connections");
    assert!(check(json!({"event_type": "shop.repo.query", "query": "SELECT 1"})).is_ok());
    let e = check(json!({"event_type": "shop.repo.query", "query": 1})).unwrap_err();
    assert_eq!(
        (e.event_type.as_deref(), e.path.as_str()),
        (Some("shop.repo.query"), "query")
    );
    assert!(check(json!({"event_type": "oban.job", "worker": "W"})).is_ok());
    assert!(check(json!({"event_type": "x.job.done"})).is_ok());
    // Not placed: unknown, and said so, with --allow-unknown too.
    let e = check(json!({"event_type": "logplex", "proc_id": "web.1"})).unwrap_err();
    assert!(e.is_unknown_event_type(), "{e}");
    assert_eq!(e.reason, "unknown event type \"logplex\"");
    let ok = loaded
        .check_value(
            json!({"event_type": "logplex", "proc_id": "web.1"}),
            Options {
                allow_unknown: true,
            },
        )
        .unwrap();
    assert!(!ok.known);
}

#[test]
fn unknown_event_types_name_the_nearest_known_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "shop/order.placed.schema.json",
        json!({"type": "object", "properties": {
            "event_type": {"const": "order.placed"},
            "total": {"type": "number", "minimum": 0}
        }, "required": ["event_type", "total"]}),
    );
    let loaded = LoadedSchemas::load(&[dir.path().to_path_buf()]).unwrap();
    let e = loaded
        .check_value(
            json!({"event_type": "order.placd", "total": 1}),
            Options::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "event_type: unknown event type \"order.placd\" (did you mean \"order.placed\"?)"
    );
    let e = loaded
        .check_value(
            json!({"event_type": "order.placed", "total": -1}),
            Options::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "total: expected a number of at least 0, found -1"
    );
    // The compiled ones are suggested too.
    let e = check::check_value(json!({"event_type": "db.qurey"}), Options::default()).unwrap_err();
    assert_eq!(
        e.reason,
        "unknown event type \"db.qurey\" (did you mean \"db.query\"?)"
    );
}

#[test]
fn load_errors_name_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = LoadedSchemas::load(std::slice::from_ref(&empty)).unwrap_err();
    assert!(matches!(e, LoadError::Empty { .. }), "{e}");
    assert!(e.to_string().contains("no schema files"), "{e}");

    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("x.json"), "{\"type\": \"object\",").unwrap();
    let e = LoadedSchemas::load(std::slice::from_ref(&bad)).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("x.json: invalid JSON at line 1"), "{msg}");

    let twice = dir.path().join("twice");
    for name in ["a", "b"] {
        write(
            &twice,
            &format!("{name}.json"),
            json!({"properties": {"event_type": {"const": "same"}}}),
        );
    }
    let e = LoadedSchemas::load(std::slice::from_ref(&twice)).unwrap_err();
    assert!(
        e.to_string()
            .contains("event type \"same\" is already defined by"),
        "{e}"
    );

    // What is skipped is said.
    let nested = dir.path().join("nested");
    write(
        &nested,
        "shop/deeper/x.json",
        json!({"properties": {"event_type": {"const": "x"}}}),
    );
    write(
        &nested,
        "shop/order.placed.json",
        json!({"properties": {"event_type": {"const": "order.placed"}}}),
    );
    std::fs::create_dir_all(nested.join("empty")).unwrap();
    let loaded = LoadedSchemas::load(std::slice::from_ref(&nested)).unwrap();
    assert_eq!(loaded.names(), ["shop/order.placed"]);
    let warnings = loaded.warnings().join("\n");
    assert!(
        warnings.contains("deeper: skipped: a folder inside a schema folder"),
        "{warnings}"
    );
    assert!(
        warnings.contains("empty: skipped: no schema files"),
        "{warnings}"
    );

    let missing = dir.path().join("missing");
    let e = LoadedSchemas::load(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }), "{e}");
}
