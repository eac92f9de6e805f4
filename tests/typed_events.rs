//! The types generated from `schemas/` at build time.

use insights_events::{
    AnyEvent, AsgiRequest, CeleryTaskFinished, DbQuery, DjangoRequest, FlaskRequest, JsonFieldMut,
    TypedEvent, SCHEMAS,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const RID: &str = "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a";

/// The example events of the published Python event reference.
fn examples() -> Vec<Value> {
    vec![
        json!({
          "event_type": "asgi.request",
          "path": "/users/123",
          "method": "GET",
          "status": 200,
          "duration": 23.4567,
          "params": {"page": "2", "sort": "name"},
          "request_id": RID
        }),
        json!({
          "event_type": "celery.task_finished",
          "task_id": "9c5e8a2f-1b3d-4c6e-9f7a-2d4b6c8e0a1f",
          "task_name": "myapp.tasks.send_email",
          "state": "SUCCESS",
          "retries": 0,
          "group": "5a7d3e9b-8c1f-4b2a-9d6e-3f5a7c9e1b4d",
          "duration": 845.2103,
          "args": ["user@example.com"],
          "kwargs": {"subject": "Welcome to MyApp"},
          "request_id": RID
        }),
        json!({
          "event_type": "db.query",
          "query": "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1",
          "duration": 2.4815,
          "params": [123],
          "request_id": RID
        }),
        json!({
          "event_type": "django.request",
          "path": "/users/123",
          "method": "GET",
          "status": 200,
          "view": "user_detail",
          "module": "myapp.views",
          "app": "users",
          "duration": 58.3214,
          "params": {"page": "2", "sort": "name"},
          "request_id": RID
        }),
        json!({
          "event_type": "flask.request",
          "path": "/users/123",
          "method": "GET",
          "status": 200,
          "view": "users.show",
          "blueprint": "users",
          "duration": 32.1875,
          "params": {"page": "2", "sort": "name"},
          "request_id": RID
        }),
    ]
}

fn round_trip<T: TypedEvent>(v: &Value) -> T {
    let typed: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(&serde_json::to_value(&typed).unwrap(), v);
    // Key order is the schema order, `event_type` first.
    assert_eq!(serde_json::to_string(&typed).unwrap(), v.to_string());
    // Also through the string parser.
    let again: T = serde_json::from_str(&v.to_string()).unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), *v);
    assert!(typed.has_key("event_type"));
    assert_eq!(typed.request_id_str(), Some(RID));
    assert_eq!(typed.non_finite_field(), None);
    typed
}

#[test]
fn seed_examples_round_trip() {
    let ex = examples();
    let asgi: AsgiRequest = round_trip(&ex[0]);
    assert_eq!(asgi.status, Some(200));
    let celery: CeleryTaskFinished = round_trip(&ex[1]);
    assert_eq!(
        celery.args.as_deref(),
        Some(&[json!("user@example.com")][..])
    );
    assert_eq!(celery.retries, Some(0));
    let db: DbQuery = round_trip(&ex[2]);
    assert_eq!(db.params, Some(json!([123])));
    assert_eq!(db.duration, 2.4815);
    let django: DjangoRequest = round_trip(&ex[3]);
    assert_eq!(django.app.as_deref(), Some("users"));
    let flask: FlaskRequest = round_trip(&ex[4]);
    assert_eq!(flask.blueprint.as_deref(), Some("users"));
    assert_eq!(flask.params.as_ref().unwrap()["page"], "2");

    for v in &ex {
        let any = AnyEvent::from_value(v.clone()).unwrap();
        assert_eq!(any.event_type(), v["event_type"].as_str());
        assert!(!matches!(any, AnyEvent::Unknown(_)));
        assert_eq!(serde_json::to_value(&any).unwrap(), *v);
        let any2: AnyEvent = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(any, any2);
    }
}

#[test]
fn nulls_and_extra_keys() {
    let v = json!({
        "event_type": "flask.request",
        "ts": "2025-01-01T00:00:00.000Z",
        "path": "/",
        "method": "GET",
        "status": null,
        "blueprint": null,
        "user_id": 42,
        "request_id": RID
    });
    let flask: FlaskRequest = serde_json::from_value(v).unwrap();
    assert_eq!(flask.status, None);
    assert_eq!(flask.blueprint, None);
    assert_eq!(flask.extra["ts"], "2025-01-01T00:00:00.000Z");
    assert_eq!(flask.extra["user_id"], 42);
    assert!(flask.has_key("ts"));
    assert!(!flask.has_key("blueprint"));
    assert!(flask.has_key("path"));
    let out = serde_json::to_value(&flask).unwrap();
    assert_eq!(
        out,
        json!({
            "event_type": "flask.request",
            "path": "/",
            "method": "GET",
            "request_id": RID,
            "ts": "2025-01-01T00:00:00.000Z",
            "user_id": 42
        })
    );

    let celery: CeleryTaskFinished = serde_json::from_value(json!({
        "event_type": "celery.task_finished",
        "task_id": "t", "task_name": "n", "state": "SUCCESS", "group": null, "retries": null
    }))
    .unwrap();
    assert_eq!(celery.group, None);
    assert_eq!(celery.request_id_str(), None);
}

fn error_of<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> String {
    let e = serde_json::from_value::<T>(v.clone())
        .unwrap_err()
        .to_string();
    // The string parser gives the same message (plus a position).
    let e2 = serde_json::from_str::<T>(&v.to_string())
        .unwrap_err()
        .to_string();
    assert!(e2.starts_with(&e), "{e2} vs {e}");
    e
}

#[test]
fn errors_name_the_field() {
    let e = error_of::<DbQuery>(json!({"event_type": "db.query", "duration": 1.0}));
    assert_eq!(e, "missing field `query`");
    let e = error_of::<DbQuery>(json!({"event_type": "db.query", "query": "q", "duration": "x"}));
    assert!(
        e.starts_with("field \"duration\": invalid type: string \"x\""),
        "{e}"
    );
    let e = error_of::<FlaskRequest>(
        json!({"event_type": "flask.request", "path": "/", "method": "GET", "status": "200"}),
    );
    assert!(e.starts_with("field \"status\": invalid type"), "{e}");
    let e =
        error_of::<DbQuery>(json!({"event_type": "flask.request", "query": "q", "duration": 1}));
    assert_eq!(
        e,
        "event_type mismatch: expected \"db.query\", found \"flask.request\""
    );
    let e = error_of::<DbQuery>(json!({"query": "q", "duration": 1}));
    assert_eq!(e, "missing field `event_type`");
    let e = error_of::<DbQuery>(json!(["db.query"]));
    assert!(e.contains("expected a \"db.query\" event object"), "{e}");
    // null for a required field is an error naming it.
    let e = error_of::<DbQuery>(json!({"event_type": "db.query", "query": null, "duration": 1}));
    assert!(e.starts_with("field \"query\": invalid type: null"), "{e}");
}

#[test]
fn duplicate_keys_last_wins() {
    let q: DbQuery =
        serde_json::from_str(r#"{"event_type":"db.query","query":"a","query":"b","duration":1}"#)
            .unwrap();
    assert_eq!(q.query, "b");
}

#[test]
fn construction() {
    assert_eq!(DbQuery::EVENT_TYPE, "db.query");
    assert_eq!(<DbQuery as TypedEvent>::EVENT_TYPE, "db.query");
    assert_eq!(
        DbQuery::SCHEMA_ID,
        "insights/v1/events/honeybadger-python/db.query.json"
    );
    let q = "SELECT 1";
    let a = DbQuery {
        query: q.into(),
        duration: 2.5,
        ..Default::default()
    };
    let b = DbQuery::new(q, 2.5).params(json!([123])).request_id(RID);
    assert_eq!(a.query, b.query);
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"event_type": "db.query", "query": q, "duration": 2.5, "params": [123], "request_id": RID})
    );
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        json!({"event_type": "db.query", "query": q, "duration": 2.5})
    );
    // `insights_events::python::DbQuery` additionally needs
    // `pub use generated::python;` in src/lib.rs.
    let path_works: insights_events::DbQuery = b.clone();
    let path2: insights_events::generated::python::DbQuery = path_works;
    assert_eq!(path2, b);

    let mut kw = serde_json::Map::new();
    kw.insert("subject".into(), json!("hi"));
    let c = CeleryTaskFinished::new("id", "name", "SUCCESS")
        .kwargs(kw)
        .args(vec![json!(1)])
        .retries(2);
    assert_eq!(c.kwargs.as_ref().unwrap()["subject"], "hi");
    let mut with_extra = c.clone();
    with_extra.extra.insert("event_type".into(), json!("bogus"));
    with_extra.extra.insert("state".into(), json!("bogus"));
    with_extra.extra.insert("ts".into(), json!("now"));
    let out = serde_json::to_value(&with_extra).unwrap();
    assert_eq!(out["event_type"], "celery.task_finished");
    assert_eq!(out["state"], "SUCCESS");
    assert_eq!(out["ts"], "now");
}

#[test]
fn hooks() {
    let mut q = DbQuery::new("q", f64::NAN);
    assert_eq!(q.non_finite_field(), Some("duration"));
    q.duration = 1.0;
    assert_eq!(q.non_finite_field(), None);
    let mut f = FlaskRequest::new("/", "GET").duration(f64::INFINITY);
    assert_eq!(f.non_finite_field(), Some("duration"));
    f.extra.insert("request_id".into(), json!("from-extra"));
    assert_eq!(f.request_id_str(), None, "the typed field wins");
    // (A schema without a `request_id` field reading it from `extra`: in
    // examples/custom-schema/tests/generated.rs, with the demo schema.)

    let mut d = DjangoRequest::new("/", "POST");
    let mut p = serde_json::Map::new();
    p.insert("password".into(), json!("hunter2"));
    d = d.params(p);
    d.extra.insert("ctx".into(), json!({"token": "t"}));
    let mut seen = Vec::new();
    d.visit_json_fields_mut(&mut |name, field| {
        seen.push(name.to_string());
        match field {
            JsonFieldMut::Object(m) => {
                m.insert("password".into(), json!("[FILTERED]"));
            }
            JsonFieldMut::Value(v) => *v = json!("[X]"),
            JsonFieldMut::Array(_) => unreachable!(),
        }
    });
    assert_eq!(seen, ["params", "ctx"]);
    assert_eq!(d.params.as_ref().unwrap()["password"], "[FILTERED]");
    assert_eq!(d.extra["ctx"], "[X]");

    let mut c = CeleryTaskFinished::new("i", "n", "s").args(vec![json!("a")]);
    let mut kinds = Vec::new();
    c.visit_json_fields_mut(&mut |name, field| {
        kinds.push((name.to_string(), matches!(field, JsonFieldMut::Array(_))));
    });
    assert_eq!(kinds, [("args".to_string(), true)]);
}

#[test]
fn any_event_dispatch() {
    let unknown = json!({"event_type": "rails.request", "a": 1});
    let any = AnyEvent::from_value(unknown.clone()).unwrap();
    assert!(matches!(any, AnyEvent::Unknown(_)));
    assert_eq!(any.event_type(), Some("rails.request"));
    assert_eq!(serde_json::to_value(&any).unwrap(), unknown);
    let _event = any.into_event();

    let e = AnyEvent::from_value(json!({"a": 1})).unwrap_err();
    assert_eq!(e.to_string(), "missing field `event_type`");
    assert!(AnyEvent::from_value(json!([1])).is_err());
    assert!(AnyEvent::from_json_str("{").is_err());
    let e = AnyEvent::from_json_str(r#"{"event_type":"db.query","duration":1}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `query`"), "{e}");

    let any =
        AnyEvent::from_json_str(r#"{"event_type":"db.query","query":"q","duration":1.5,"ts":"x"}"#)
            .unwrap();
    match &any {
        AnyEvent::DbQuery(q) => {
            assert_eq!(q.query, "q");
            assert_eq!(q.extra["ts"], "x");
        }
        other => panic!("{other:?}"),
    }
    let any2: AnyEvent = DbQuery::new("q", 1.5).into();
    assert_eq!(any2.event_type(), Some("db.query"));
    let _event = any.into_event();
}

#[test]
fn schemas_table() {
    let db = SCHEMAS.iter().find(|s| s.event_type == "db.query").unwrap();
    assert_eq!(db.namespace, "python");
    assert_eq!(db.type_name, "DbQuery");
    assert_eq!(db.title, "DB: query");
    let names: Vec<_> = db.fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["query", "duration", "params", "request_id"]);
    assert_eq!(db.fields[0].rust_type, "String");
    assert!(db.fields[0].required);
    assert_eq!(db.fields[2].json_type, "any");
    assert_eq!(db.fields[2].rust_type, "Option<serde_json::Value>");
    let python: Vec<_> = SCHEMAS
        .iter()
        .filter(|s| s.namespace == "python")
        .map(|s| s.event_type)
        .collect();
    assert_eq!(
        python,
        [
            "asgi.request",
            "celery.task_finished",
            "db.query",
            "django.request",
            "flask.request"
        ]
    );
}

/// Every schema's own example validates as its type (and dispatches to it),
/// and each required field given a value of the wrong JSON type is rejected
/// naming the field.
#[test]
fn every_schema_example_validates_and_wrong_types_are_flagged() {
    use insights_events::check::{check_examples, example_problems, ExampleFinding};
    let findings = check_examples(
        SCHEMAS,
        |name, v| AnyEvent::from_value_as(name, v).map_err(|e| e.to_string()),
        |v| match AnyEvent::from_value(v) {
            Ok(AnyEvent::Unknown(_)) => Ok(None),
            other => other.map(Some).map_err(|e| e.to_string()),
        },
    );
    assert_eq!(example_problems(SCHEMAS, &findings), Vec::<String>::new());
    let flagged = findings
        .iter()
        .filter(|f| matches!(f, ExampleFinding::Flagged { .. }))
        .count();
    let required_typed: usize = SCHEMAS
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.required && f.json_type != "any")
                .count()
        })
        .sum();
    assert!(required_typed > 0);
    assert_eq!(flagged, required_typed, "{findings:#?}");
}

// That a schema file added to a crate's `schemas/` gives a new type is
// checked in examples/custom-schema/tests/generated.rs, which owns the demo
// schema.

#[allow(dead_code)]
fn assert_traits<T: TypedEvent + Serialize + Default>() {}
#[allow(dead_code)]
fn all_python_types_are_default() {
    assert_traits::<AsgiRequest>();
    assert_traits::<CeleryTaskFinished>();
    assert_traits::<DbQuery>();
    assert_traits::<DjangoRequest>();
    assert_traits::<FlaskRequest>();
}
