//! Hand-built events keep `serde_json::to_value`'s rules although their
//! fields are packed as they are added (`model::packed_fields`): each test
//! is a case where a writer's rules differ from `to_value`'s, checked
//! against what the fields as `Value`s make. The packer declines what it
//! cannot pack exactly, and such a value takes `to_value`'s path.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use insights_events::transmission::{
    encode_event, Batch, BoxFuture, Outcome, SendContext, Sender, WireFormat,
};
use insights_events::{Backend, Client, Config, Event};
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<String>>>);

impl Sender for Wire {
    fn name(&self) -> &'static str {
        "wire"
    }
    fn send(&self, batch: Batch, _: SendContext) -> BoxFuture<Vec<Outcome>> {
        let mut seen = self.0.lock().unwrap();
        seen.extend(
            batch
                .events()
                .map(|e| String::from_utf8(e.to_vec()).unwrap()),
        );
        Box::pin(std::future::ready(vec![Outcome::ok(None); batch.len()]))
    }
}

fn client() -> (Client, Wire) {
    let wire = Wire::default();
    let c = Client::new(Config::new().backend(Backend::Custom(Arc::new(wire.clone())))).unwrap();
    (c, wire)
}

/// Sends one event through a fresh client; the wire line without `ts`, or
/// `None` when it was not sent; and the stats.
fn send_one(build: impl FnOnce(&Client) -> Event) -> (Option<String>, insights_events::Stats) {
    let (c, wire) = client();
    let ev = build(&c);
    let _ = ev.send();
    c.flush(Duration::from_secs(5));
    let stats = c.stats();
    c.close(Duration::from_secs(5));
    let lines = wire.0.lock().unwrap().clone();
    let line = lines.first().map(|l| strip_ts(l));
    (line, stats)
}

fn strip_ts(line: &str) -> String {
    // `,"ts":"…"` is always last on these events.
    match line.find(",\"ts\":\"") {
        Some(i) => format!("{}}}", &line[..i]),
        None => line.to_owned(),
    }
}

/// The line the fields make as `serde_json::to_value`s.
fn to_value_line(pairs: Vec<(&str, Value)>) -> String {
    let map: serde_json::Map<String, Value> =
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let ev = Event::from_map(map);
    strip_ts(&String::from_utf8(encode_event(&ev, WireFormat::Ndjson).unwrap()).unwrap())
}

fn line_of(ev: &Event) -> String {
    strip_ts(&String::from_utf8(encode_event(ev, WireFormat::Ndjson).unwrap()).unwrap())
}

// 1. f32: written and read back as `to_value` makes it.
#[test]
fn f32_fields_are_written_as_to_value_makes_them() {
    let mut ev = Event::new();
    ev.add_field("f", 0.1f32);
    ev.add_field("list", vec![0.1f32]);
    assert_eq!(
        line_of(&ev),
        to_value_line(vec![
            ("f", serde_json::to_value(0.1f32).unwrap()),
            ("list", serde_json::to_value(vec![0.1f32]).unwrap())
        ])
    );
}

#[test]
fn f32_in_an_array_reads_back_as_to_value_makes_it() {
    let mut ev = Event::new();
    ev.add_field("list", vec![0.1f32]);
    assert_eq!(
        ev.get("list"),
        Some(serde_json::to_value(vec![0.1f32]).unwrap())
    );
}

// 2. u128 / i128 beyond 64 bits: `to_value` refuses them ("number out of
// range"), so the field is not added and the event is dropped as invalid.
#[test]
fn u128_out_of_range_marks_the_event_invalid() {
    let (line, stats) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field("a", 1);
        ev.add_field("n", u128::MAX);
        ev
    });
    assert_eq!(line, None, "sent: {line:?}");
    assert_eq!(stats.dropped_invalid, 1);
}

#[test]
fn u128_out_of_range_is_not_a_field() {
    let mut ev = Event::new();
    ev.add_field("n", u128::MAX);
    assert_eq!(ev.get("n"), None);
}

// 3. Map keys `to_value` refuses (Option keys) are refused too.
#[test]
fn option_map_keys_are_refused() {
    let mut m = std::collections::BTreeMap::new();
    m.insert(Some("k"), 1);
    let mut ev = Event::new();
    ev.add_field("m", &m);
    assert_eq!(ev.get("m"), None);
}

// 4. Duplicate keys from one Serialize (flatten) collapse as `to_value`
// collapses them: the last one is kept.
#[test]
fn duplicate_keys_in_a_value_collapse_as_to_value_does() {
    #[derive(Serialize)]
    struct S {
        a: u8,
        #[serde(flatten)]
        extra: std::collections::BTreeMap<String, u8>,
    }
    let s = S {
        a: 1,
        extra: [("a".to_owned(), 2)].into_iter().collect(),
    };
    let mut ev = Event::new();
    ev.add_field("s", &s);
    assert_eq!(
        line_of(&ev),
        to_value_line(vec![("s", serde_json::to_value(&s).unwrap())])
    );
}

// 5. RawValue (serde_json's raw_value feature) is written as the JSON it
// holds.
#[test]
fn raw_value_is_written_as_its_json() {
    let raw = serde_json::value::RawValue::from_string(r#"{"a":1}"#.to_owned()).unwrap();
    let mut ev = Event::new();
    ev.add_field("raw", &raw);
    assert_eq!(line_of(&ev), r#"{"raw":{"a":1}}"#);
}

// 6. params filter: a newtype enum variant is an object with one key.
#[test]
fn params_as_newtype_variant_is_filtered() {
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Credential {
        Password(String),
    }
    let (line, _) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field("event_type", "login");
        ev.add_field("params", Credential::Password("hunter2".into()));
        ev
    });
    assert_eq!(
        line.as_deref(),
        Some(r#"{"event_type":"login","params":{}}"#)
    );
}

// 7. Nesting limit: the objects of enum variants count towards it.
#[derive(Serialize)]
enum Expr {
    Neg(Box<Expr>),
    Lit(i64),
}

#[test]
fn nested_enum_variants_deeper_than_the_limit_are_rejected() {
    let mut e = Expr::Lit(1);
    for _ in 0..200 {
        e = Expr::Neg(Box::new(e));
    }
    let (line, stats) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field("expr", &e);
        ev
    });
    assert!(line.is_none(), "sent {} bytes", line.map_or(0, |l| l.len()));
    assert_eq!(stats.dropped_invalid, 1);
}

// 8. A builder's fields come first in its events, as if added first (JSON
// objects are unordered); an event's own value for the same key wins.
#[test]
fn builder_fields_come_first_and_the_events_value_wins() {
    let (line, _) = send_one(|c| {
        let mut b = c.builder();
        b.add_field("a", 1).add_field("b", 2);
        let mut ev = b.new_event();
        ev.add_field("c", 3).add_field("a", 9);
        ev
    });
    assert_eq!(line.as_deref(), Some(r#"{"a":9,"b":2,"c":3}"#));
}

// 9. A float inside a container reads back (and is sent, once something
// unpacks the event) to the last bit: 1.0715660391465826e-75 is one that
// serde_json's default float parsing reads one ULP off.
const HARD_FLOAT: f64 = 1.0715660391465826e-75;

#[test]
fn float_in_array_reads_back_exactly() {
    let mut ev = Event::new();
    ev.add_field("list", vec![HARD_FLOAT]);
    assert_eq!(ev.get("list"), Some(json!([HARD_FLOAT])));
}

#[test]
fn float_in_array_is_sent_exactly_when_params_are_scrubbed() {
    let (line, _) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field("params", json!({"password": "p", "q": 1}));
        ev.add_field("list", vec![HARD_FLOAT]);
        ev
    });
    let want = format!(
        r#"{{"params":{{"q":1}},"list":[{}]}}"#,
        serde_json::to_string(&HARD_FLOAT).unwrap()
    );
    assert_eq!(line.as_deref(), Some(want.as_str()));
}

// 10. A value whose `Serialize` panics leaves the event as it was.
#[test]
fn a_panicking_serialize_leaves_the_fields_as_they_were() {
    struct Boom;
    impl Serialize for Boom {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("boom")
        }
    }
    let mut ev = Event::new();
    ev.add_field("a", 1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ev.add_field("b", vec![Boom]);
    }));
    assert!(caught.is_err());
    ev.add_field("c", "three");
    assert_eq!(ev.get("a"), Some(json!(1)));
    assert_eq!(ev.get("b"), None);
    assert_eq!(line_of(&ev), r#"{"a":1,"c":"three"}"#);
}

// 11. A filtered key deeper down in `params` is masked, and a `params`
// object without one is sent as it was added.
#[test]
fn params_are_scrubbed_however_deep_and_only_when_needed() {
    let (line, _) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field(
            "params",
            json!({"user": {"password": "p", "name": "n"}, "password": 1}),
        );
        ev
    });
    assert_eq!(
        line.as_deref(),
        Some(r#"{"params":{"user":{"password":"[FILTERED]","name":"n"}}}"#)
    );
    let (line, _) = send_one(|c| {
        let mut ev = c.new_event();
        ev.add_field(
            "params",
            json!({"user": {"name": "password"}, "q": ["\"password\""]}),
        );
        ev
    });
    assert_eq!(
        line.as_deref(),
        Some(r#"{"params":{"user":{"name":"password"},"q":["\"password\""]}}"#)
    );
}
