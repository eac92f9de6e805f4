//! Bad events are rejected alone, with a reason, and never take a neighbour
//! with them; the parsers refuse bad lines with clear errors.

use std::time::Duration;

use insights_events::transmission::MemorySender;
use insights_events::{AnyEvent, Backend, Client, Config, DbQuery, DropReason, Event};
use serde_json::{json, Map, Value};

const LONG: Duration = Duration::from_secs(30);

fn recorder_client() -> (MemorySender, Client) {
    let recorder = MemorySender::new();
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(recorder.clone().into()))
            .batch_size(100),
    )
    .unwrap();
    (recorder, client)
}

fn neighbour(i: usize) -> Event {
    let mut ev = Event::new();
    ev.add_field("event_type", "neighbour").add_field("n", i);
    ev
}

/// Sends `bad` between two good events in the same batch and returns what
/// happened to it.
fn sandwich(bad: Event) -> (Vec<Value>, Option<(DropReason, String)>) {
    let (recorder, client) = recorder_client();
    let responses = client.responses();
    client.send(neighbour(1)).unwrap();
    let mut bad = bad;
    bad.set_metadata("bad");
    client.send(bad).unwrap();
    client.send(neighbour(2)).unwrap();
    assert!(client.flush(LONG).completed);
    let events: Vec<Value> = recorder.events().into_iter().map(|e| e.fields).collect();
    let neighbours: Vec<_> = events
        .iter()
        .filter(|e| e["event_type"] == "neighbour")
        .map(|e| e["n"].clone())
        .collect();
    assert_eq!(neighbours, vec![json!(1), json!(2)], "no neighbour lost");
    let s = client.stats();
    assert_eq!(s.attempted, s.sent + s.dropped() + s.failed());
    let rejected = responses
        .try_iter()
        .find(|r| r.metadata == Some(json!("bad")) && !r.is_ok())
        .map(|r| (r.reason.unwrap(), r.error.unwrap()));
    let bad_sent = events
        .into_iter()
        .filter(|e| e["event_type"] != "neighbour")
        .collect();
    (bad_sent, rejected)
}

#[test]
fn non_finite_numbers_are_rejected_with_the_field_name() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (sent, rej) = sandwich(DbQuery::new("q", v).into_event());
        assert!(sent.is_empty());
        let (reason, msg) = rej.unwrap();
        assert_eq!(reason, DropReason::Invalid);
        assert!(
            msg.contains("duration") && msg.contains("non-finite"),
            "{msg}"
        );

        let mut ev = Event::new();
        ev.add_field("event_type", "x")
            .add("{}".len())
            .add_field("nested", json!({"ok": 1}))
            .add_field("v", vec![1.0, v]);
        let (sent, rej) = sandwich(ev);
        assert!(sent.is_empty());
        let (reason, msg) = rej.unwrap();
        assert_eq!(reason, DropReason::Invalid);
        assert!(msg.contains("non-finite") || msg.contains("add()"), "{msg}");
    }
}

#[test]
fn a_ten_megabyte_string_is_rejected_for_size() {
    let (sent, rej) = sandwich(DbQuery::new("x".repeat(10 * 1024 * 1024), 1.0).into_event());
    assert!(sent.is_empty());
    let (reason, msg) = rej.unwrap();
    assert_eq!(reason, DropReason::TooLarge);
    assert!(msg.contains("102400"), "{msg}");
}

#[test]
fn params_nested_a_thousand_deep_are_rejected_not_a_crash() {
    // (Built twice rather than cloned: serde_json's clone recurses.)
    let deep = || {
        let mut v = json!("bottom");
        for _ in 0..1_000 {
            v = json!({ "a": v });
        }
        v
    };
    let Value::Object(params) = deep() else {
        unreachable!()
    };
    let (sent, rej) = sandwich(
        insights_events::FlaskRequest::new("/", "GET")
            .params(params)
            .into_event(),
    );
    assert!(sent.is_empty());
    let (reason, msg) = rej.unwrap();
    assert_eq!(reason, DropReason::Invalid);
    assert!(
        msg.contains("params") && msg.contains("128 levels"),
        "{msg}"
    );

    let mut ev = Event::new();
    ev.add_field("event_type", "x").add_field("params", deep());
    let (_, rej) = sandwich(ev);
    assert_eq!(rej.unwrap().0, DropReason::Invalid);

    // 100 levels is fine, and arrives intact.
    let mut ok = json!(1);
    for _ in 0..100 {
        ok = json!([ok]);
    }
    let mut ev = Event::new();
    ev.add_field("event_type", "x")
        .add_field("params", ok.clone());
    let (sent, rej) = sandwich(ev);
    assert!(rej.is_none());
    assert_eq!(sent[0]["params"], ok);
}

#[test]
fn five_thousand_fields_and_control_character_keys_are_sent_intact() {
    let mut ev = Event::new();
    ev.add_field("event_type", "wide");
    for i in 0..5_000 {
        ev.add_field(format!("f{i}"), i);
    }
    let (sent, rej) = sandwich(ev);
    assert!(rej.is_none());
    assert_eq!(sent[0].as_object().unwrap().len(), 5_000 + 2); // + event_type, ts

    let mut ev = Event::new();
    let keys = [
        "tab\there",
        "nl\nx",
        "nul\u{0}x",
        "bell\u{7}",
        "quote\"back\\slash",
        "émoji 🎉",
        "\u{1b}[31m",
    ];
    ev.add_field("event_type", "weird");
    for k in keys {
        ev.add_field(k, k);
    }
    let (sent, rej) = sandwich(ev);
    assert!(rej.is_none());
    for k in keys {
        assert_eq!(sent[0][k], json!(k), "{k:?}");
    }
}

#[test]
fn an_empty_event_is_rejected_alone() {
    let (sent, rej) = sandwich(Event::new());
    assert!(sent.is_empty());
    let (reason, msg) = rej.unwrap();
    assert_eq!(reason, DropReason::Invalid);
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn add_of_a_non_object_is_rejected_alone() {
    let mut ev = Event::new();
    ev.add_field("event_type", "x").add(vec![1, 2, 3]);
    let (sent, rej) = sandwich(ev);
    assert!(sent.is_empty());
    assert!(rej.unwrap().1.contains("JSON object"));
}

#[test]
fn parser_refuses_bad_lines_with_clear_errors() {
    let good = r#"{"event_type":"db.query","query":"SELECT 1","duration":1.5}"#;
    assert!(matches!(
        AnyEvent::from_json_str(good),
        Ok(AnyEvent::DbQuery(_))
    ));

    // Truncated at every byte: an error, never a panic.
    for cut in 0..good.len() {
        assert!(
            AnyEvent::from_json_str(&good[..cut]).is_err(),
            "{}",
            &good[..cut]
        );
    }
    // Invalid UTF-8.
    let mut bytes = good.as_bytes().to_vec();
    bytes[30] = 0xff;
    assert!(serde_json::from_slice::<AnyEvent>(&bytes).is_err());
    // Duplicate keys: the last wins.
    let dup = r#"{"event_type":"db.query","query":"a","query":"b","duration":1}"#;
    match AnyEvent::from_json_str(dup).unwrap() {
        AnyEvent::DbQuery(q) => assert_eq!(q.query, "b"),
        other => panic!("{other:?}"),
    }
    // Numbers out of range name the field.
    let big =
        r#"{"event_type":"flask.request","path":"/","method":"GET","status":99999999999999999999}"#;
    let err = AnyEvent::from_json_str(big).unwrap_err().to_string();
    assert!(err.contains("status"), "{err}");
    let huge = r#"{"event_type":"db.query","query":"q","duration":1e400}"#;
    assert!(AnyEvent::from_json_str(huge).is_err());
    // Wrong event_type for a type.
    let err = serde_json::from_str::<DbQuery>(
        r#"{"event_type":"flask.request","query":"q","duration":1}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("db.query") && err.contains("flask.request"),
        "{err}"
    );
    // Not an object, no event_type.
    assert!(AnyEvent::from_json_str("[1,2]").is_err());
    assert!(AnyEvent::from_json_str("{}")
        .unwrap_err()
        .to_string()
        .contains("event_type"));
    // Deeply nested input stops at serde_json's recursion limit.
    let deep = format!(
        r#"{{"event_type":"db.query","query":"q","duration":1,"params":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(AnyEvent::from_json_str(&deep).is_err());
    // Unknown types are kept, with their fields.
    let unknown = AnyEvent::from_json_str(r#"{"event_type":"my.thing","a":1}"#).unwrap();
    assert_eq!(unknown.event_type(), Some("my.thing"));
    let _: Map<String, Value> = match unknown {
        AnyEvent::Unknown(m) => m,
        other => panic!("{other:?}"),
    };
}
