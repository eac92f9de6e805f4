//! The whole published catalog (`../shared/catalog/`, 109 schemas in 8
//! folders), compiled into a user's crate: copied into its `tests/` by
//! `tests/user_crate.rs` together with the catalog's folders under
//! `schemas/`.

use insights_events::__private::serde_json::{self, json, Value};
use insights_events::check::{check_examples, example_problems, ExampleFinding};
use insights_events::SchemaInfo;
use insights_events_example_custom_schema::events::{system, AnyEvent, SCHEMAS};

const FOLDERS: [&str; 8] = [
    "heroku",
    "honeybadger",
    "honeybadger-cli",
    "honeybadger-elixir",
    "honeybadger-laravel",
    "honeybadger-python",
    "honeybadger-ruby",
    "system",
];

fn catalog() -> Vec<&'static SchemaInfo> {
    SCHEMAS
        .iter()
        .filter(|s| FOLDERS.contains(&s.namespace))
        .collect()
}

fn parse_as(name: &str, v: Value) -> Result<AnyEvent, String> {
    AnyEvent::from_value_as(name, v).map_err(|e| e.to_string())
}

fn dispatch(v: Value) -> Result<Option<AnyEvent>, String> {
    match AnyEvent::from_value(v) {
        Ok(AnyEvent::Unknown(_)) => Ok(None),
        other => other.map(Some).map_err(|e| e.to_string()),
    }
}

/// Every one of the 109 schemas has an example; each validates as its
/// schema and dispatches to it on its `event_type` alone; a wrong JSON type
/// in each required field is flagged naming the field.
#[test]
fn every_catalog_example_validates_and_places_itself() {
    let catalog = catalog();
    assert_eq!(
        catalog.len(),
        109,
        "{:?}",
        catalog.iter().map(|s| s.name).collect::<Vec<_>>()
    );
    let findings = check_examples(SCHEMAS, parse_as, dispatch);
    assert_eq!(example_problems(SCHEMAS, &findings), Vec::<String>::new());
    let mut examples = 0;
    let mut flagged = 0;
    for s in &catalog {
        assert!(!s.examples.is_empty(), "{} has no example", s.name);
        for (index, ex) in s.examples.iter().enumerate() {
            assert!(
                findings.contains(&ExampleFinding::Valid {
                    schema: s.name,
                    index
                }),
                "{} example {index}",
                s.name
            );
            // Without naming the type: the same variant, the same value.
            let v: Value = serde_json::from_str(ex).unwrap();
            let named = AnyEvent::from_value_as(s.name, v.clone()).unwrap();
            let placed = AnyEvent::from_value(v).unwrap();
            assert!(!matches!(placed, AnyEvent::Unknown(_)), "{}: {ex}", s.name);
            assert_eq!(placed, named, "{}: {ex}", s.name);
            examples += 1;
        }
        assert!(
            !findings.iter().any(|f| f.is_problem()),
            "{:?}",
            findings
                .iter()
                .filter(|f| f.is_problem())
                .collect::<Vec<_>>()
        );
        for f in s.fields.iter().filter(|f| f.required) {
            let hit = findings.iter().any(|x| {
                matches!(x, ExampleFinding::Flagged { schema, field, .. } if *schema == s.name && *field == f.name)
            });
            if hit {
                flagged += 1;
            }
        }
    }
    println!("catalog: {} schemas, {examples} examples valid and placed, {flagged} required fields' wrong types flagged", catalog.len());
    assert!(examples >= 109, "{examples}");
    assert!(flagged > 100, "{flagged}");
}

/// Heroku's two `logplex` events, told apart by their required const; the
/// Ecto query under the application's prefix; what nothing claims.
#[test]
fn shared_and_free_event_types_are_placed() {
    let place = |v: Value| AnyEvent::from_value(v).map_err(|e| e.to_string());
    assert!(matches!(
        place(
            json!({"event_type": "logplex", "proc_id": "router", "method": "GET", "status": 200})
        ),
        Ok(AnyEvent::Router(_))
    ));
    assert!(matches!(
        place(json!({"event_type": "logplex", "proc_id": "heroku-postgres"})),
        Ok(AnyEvent::Postgres(_))
    ));
    for et in ["my_app.repo.query", "shop.repo.query", "ecto.query"] {
        let r = place(json!({"event_type": et, "query": "SELECT 1"}));
        assert!(
            matches!(&r, Ok(AnyEvent::EctoQuery(e)) if e.event_type == et),
            "{et}: {r:?}"
        );
    }
    // A wrong type in a placed event is still an error naming the field.
    let e =
        place(json!({"event_type": "logplex", "proc_id": "router", "status": "200"})).unwrap_err();
    assert!(e.starts_with("field \"status\": "), "{e}");
    assert!(matches!(
        place(json!({"event_type": "logplex", "proc_id": "web.1"})),
        Ok(AnyEvent::Unknown(_))
    ));
    assert!(matches!(
        place(json!({"event_type": "my_app.repo.insert"})),
        Ok(AnyEvent::Unknown(_))
    ));
}

/// `system/report.system.*` repeats `honeybadger-cli/report.system.*`: one
/// type, reachable under both names, and both `SCHEMAS` entries.
#[test]
fn the_repeated_system_schemas_are_one_type() {
    let ex = json!({"event_type": "report.system.cpu", "host": "h", "used_percent": 1.5});
    let by_system = AnyEvent::from_value_as("system/report.system.cpu", ex.clone()).unwrap();
    let by_cli = AnyEvent::from_value_as("honeybadger-cli/report.system.cpu", ex.clone()).unwrap();
    assert_eq!(by_system, by_cli);
    assert!(matches!(
        AnyEvent::from_value(ex).unwrap(),
        AnyEvent::ReportSystemCpu(_)
    ));
    let _: system::ReportSystemCpu = match by_system {
        AnyEvent::ReportSystemCpu(e) => e,
        other => panic!("{other:?}"),
    };
    for name in [
        "system/report.system.cpu",
        "honeybadger-cli/report.system.cpu",
    ] {
        assert!(SCHEMAS.iter().any(|s| s.name == name), "{name}");
    }
}
