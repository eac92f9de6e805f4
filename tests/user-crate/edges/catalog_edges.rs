//! The published catalog's edge cases, as a user's crate sees them: copied
//! into the user crate's `tests/` by `tests/user_crate.rs` together with
//! `schemas/heroku` and `schemas/elixir`.

use insights_events::check::{check_examples, example_problems, ExampleFinding};
use insights_events::TypedEvent;
use insights_events_example_custom_schema::events::elixir::EctoQuery;
use insights_events_example_custom_schema::events::heroku::{Postgres, Router};
use insights_events_example_custom_schema::events::{AnyEvent, SCHEMAS};

fn parse(s: &str) -> Result<AnyEvent, String> {
    AnyEvent::from_json_str(s).map_err(|e| e.to_string())
}

/// `event_type: "logplex"` is shared; `proc_id` picks the type.
#[test]
fn shared_event_type_dispatches_on_the_const() {
    let r = parse(r#"{"event_type":"logplex","proc_id":"router","method":"GET","path":"/","status":200,"host":null}"#);
    assert!(matches!(r, Ok(AnyEvent::Router(ref e)) if e.status == 200 && e.host.is_none()), "{r:?}");
    let p = parse(r#"{"event_type":"logplex","proc_id":"heroku-postgres","addon":"db-1","sample#db_size":5}"#);
    assert!(matches!(p, Ok(AnyEvent::Postgres(ref e)) if e.addon == "db-1"), "{p:?}");
    let none = parse(r#"{"event_type":"logplex","proc_id":"worker.1","addon":"x"}"#).unwrap_err();
    assert!(none.contains("shared by heroku/postgres"), "{none}");
    assert!(none.contains("heroku/router"), "{none}");
    // The const is written with every event, and needs no field.
    let line = serde_json_line(Router::new("GET", "/", 200).into_event());
    assert!(line.starts_with(r#"{"event_type":"logplex","proc_id":"router","#), "{line}");
    assert_eq!(Postgres::EVENT_TYPE, "logplex");
}

/// The event as a backend receives it: sent through a client with the
/// memory backend.
fn serde_json_line(ev: insights_events::Event) -> String {
    use insights_events::{transmission::MemorySender, Backend, Client, Config};
    let recorder = MemorySender::new();
    let client = Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
    ev.send_with(&client).unwrap();
    assert!(client.flush(std::time::Duration::from_secs(30)).completed);
    let events = recorder.events();
    assert_eq!(events.len(), 1);
    insights_events::__private::serde_json::to_string(&events[0].fields).unwrap()
}

/// Nullable type arrays are `Option`s; bounds are checked.
#[test]
fn nullable_and_bounded_fields() {
    let e = parse(r#"{"event_type":"logplex","proc_id":"router","method":"GET","path":"/","status":42}"#)
        .unwrap_err();
    assert_eq!(e, r#"field "status": expected a number of at least 100, found 42"#);
    let e = parse(r#"{"event_type":"logplex","proc_id":"router","method":"GET","path":"/","status":200,"host":7}"#)
        .unwrap_err();
    assert_eq!(e, r#"field "host": invalid type: integer `7`, expected a string"#);
}

/// A top-level `additionalProperties` schema checks every other key.
#[test]
fn additional_properties_schema_checks_other_keys() {
    let ok = parse(r#"{"event_type":"logplex","proc_id":"heroku-postgres","addon":"a","sample#memory-total":"1kB","sample#tables":3}"#);
    assert!(ok.is_ok(), "{ok:?}");
    let bad = parse(r#"{"event_type":"logplex","proc_id":"heroku-postgres","addon":"a","sample#tables":[3]}"#)
        .unwrap_err();
    assert!(bad.starts_with(r#"field "sample#tables": "#), "{bad}");
}

/// A free event type: the sender chooses it; a user-given name picks the
/// schema.
#[test]
fn free_event_type_by_name() {
    let v = r#"{"event_type":"myapp.db","query":"SELECT 1","repo":"MyApp.Repo"}"#;
    // By event type alone it is nobody's...
    assert!(matches!(parse(v), Ok(AnyEvent::Unknown(_))));
    // ...by name it is an Ecto query, keeping its own event type.
    let value = insights_events::__private::serde_json::from_str(v).unwrap();
    match AnyEvent::from_value_as("elixir/ecto.query", value) {
        Ok(AnyEvent::EctoQuery(e)) => assert_eq!(e.event_type, "myapp.db"),
        other => panic!("{other:?}"),
    }
    // The default name dispatches without help.
    assert!(matches!(
        parse(r#"{"event_type":"ecto.query","query":"q","repo":"R"}"#),
        Ok(AnyEvent::EctoQuery(_))
    ));
    let sent = EctoQuery::new("SELECT 1", "MyApp.Repo").with_event_type("myapp.db");
    assert_eq!(sent.event_type_str(), "myapp.db");
    assert!(serde_json_line(sent.into_event()).starts_with(r#"{"event_type":"myapp.db","#));
    let schema = SCHEMAS.iter().find(|s| s.name == "elixir/ecto.query").unwrap();
    assert!(schema.free_event_type);
}

/// Every schema's examples validate as their type (and dispatch to it,
/// unless the event type is free); every required field of the wrong JSON
/// type is flagged.
#[test]
fn examples_validate_and_wrong_types_are_flagged() {
    let findings = check_examples(
        SCHEMAS,
        |name, v| AnyEvent::from_value_as(name, v).map_err(|e| e.to_string()),
        |v| match AnyEvent::from_value(v) {
            Ok(AnyEvent::Unknown(_)) => Ok(None),
            other => other.map(Some).map_err(|e| e.to_string()),
        },
    );
    assert_eq!(example_problems(SCHEMAS, &findings), Vec::<String>::new());
    // The free schema's second example keeps its own event type and is
    // still valid as the schema.
    assert!(findings.contains(&ExampleFinding::Valid {
        schema: "elixir/ecto.query",
        index: 1
    }));
}

/// Declared name patterns (`x-event-type-pattern`) place free event types;
/// an event two schemas claim alike is not guessed, and the error names
/// both.
#[test]
fn declared_patterns_and_ambiguous_claims() {
    assert!(matches!(
        parse(r#"{"event_type":"shop.repo.insert","query":"q"}"#),
        Ok(AnyEvent::RepoAny(ref e)) if e.event_type == "shop.repo.insert"
    ));
    assert!(matches!(
        parse(r#"{"event_type":"repo.call","query":"q"}"#),
        Ok(AnyEvent::RepoCall(_))
    ));
    let e = parse(r#"{"event_type":"shop.repo.call","query":"q"}"#).unwrap_err();
    assert_eq!(
        e,
        r#"event type "shop.repo.call" is claimed by more than one schema (elixir/repo.any, elixir/repo.call): it is not guessed; parse it as one of them with AnyEvent::from_value_as(name, ..)"#
    );
    // A placed event is still checked against its schema.
    let e = parse(r#"{"event_type":"shop.repo.insert","query":1}"#).unwrap_err();
    assert!(e.starts_with(r#"field "query": "#), "{e}");
}
