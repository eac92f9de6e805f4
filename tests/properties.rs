//! Properties: every generated type survives a JSON round trip, and every
//! event survives both wire encodings, written byte for byte as serde_json
//! writes it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use insights_events::transmission::{
    encode_event, Batch, BoxFuture, Outcome, SendContext, Sender, WireFormat,
};
use insights_events::{
    AnyEvent, AsgiRequest, Backend, CeleryTaskFinished, Client, Config, DbQuery, DjangoRequest,
    Event, FlaskRequest, TypedEvent, TypedSend,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        // Dense in what JSON escapes (every control character, uniformly),
        // and long enough for whole 16-byte blocks.
        prop::collection::vec(
            prop_oneof![
                (0u8..0x20).prop_map(char::from),
                Just('"'),
                Just('\\'),
                any::<char>()
            ],
            0..70
        )
        .prop_map(|cs| Value::String(cs.into_iter().collect())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((".{0,10}", json_value()), 0..8).prop_map(|kv| kv.into_iter().collect())
}

/// `Some(Value::Null)` and `None` are the same on the wire.
fn any_but_null() -> impl Strategy<Value = Value> {
    json_value().prop_filter("not null", |v| !v.is_null())
}

fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

/// Extra keys: anything that is not a field of the type.
fn extra(known: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    object().prop_map(move |mut m| {
        m.retain(|k, _| k != "event_type" && !known.contains(&k.as_str()));
        m
    })
}

const REQUEST: &[&str] = &[
    "path",
    "method",
    "status",
    "duration",
    "params",
    "request_id",
    "view",
    "blueprint",
    "module",
    "app",
];

prop_compose! {
    fn db_query()(query in ".*", duration in finite(), params in prop::option::of(any_but_null()),
                  request_id in prop::option::of(".*"), extra in extra(&["query", "duration", "params", "request_id"])) -> DbQuery {
        DbQuery { query, duration, params, request_id, extra }
    }
}

prop_compose! {
    fn flask()(path in ".*", method in "[A-Z]{3,7}", status in prop::option::of(any::<i64>()),
               view in prop::option::of(".*"), blueprint in prop::option::of(".*"), duration in prop::option::of(finite()),
               params in prop::option::of(object()), request_id in prop::option::of(".*"), extra in extra(REQUEST)) -> FlaskRequest {
        FlaskRequest { path, method, status, view, blueprint, duration, params, request_id, extra }
    }
}

prop_compose! {
    fn django()(path in ".*", method in "[A-Z]{3,7}", status in prop::option::of(any::<i64>()),
                view in prop::option::of(".*"), module in prop::option::of(".*"), app in prop::option::of(".*"),
                duration in prop::option::of(finite()), params in prop::option::of(object()),
                request_id in prop::option::of(".*"), extra in extra(REQUEST)) -> DjangoRequest {
        DjangoRequest { path, method, status, view, module, app, duration, params, request_id, extra }
    }
}

prop_compose! {
    fn asgi()(path in ".*", method in "[A-Z]{3,7}", status in prop::option::of(any::<i64>()),
              duration in prop::option::of(finite()), params in prop::option::of(object()),
              request_id in prop::option::of(".*"), extra in extra(REQUEST)) -> AsgiRequest {
        AsgiRequest { path, method, status, duration, params, request_id, extra }
    }
}

prop_compose! {
    fn celery()(task_id in ".*", task_name in ".*", state in ".*", retries in prop::option::of(any::<i64>()),
                group in prop::option::of(".*"), duration in prop::option::of(finite()),
                args in prop::option::of(prop::collection::vec(json_value(), 0..5)), kwargs in prop::option::of(object()),
                request_id in prop::option::of(".*"),
                extra in extra(&["task_id", "task_name", "state", "retries", "group", "duration", "args", "kwargs", "request_id"])) -> CeleryTaskFinished {
        CeleryTaskFinished { task_id, task_name, state, retries, group, duration, args, kwargs, request_id, extra }
    }
}

/// One encoded event and its format.
type Encoded = (WireFormat, Vec<u8>);

/// Keeps the encoded events of every batch, byte for byte.
#[derive(Default, Clone)]
struct Wire(Arc<Mutex<Vec<Encoded>>>);

impl Sender for Wire {
    fn name(&self) -> &'static str {
        "wire"
    }
    fn send(&self, batch: Batch, _: SendContext) -> BoxFuture<Vec<Outcome>> {
        let mut seen = self.0.lock().unwrap();
        seen.extend(batch.events().map(|e| (batch.format(), e.to_vec())));
        Box::pin(std::future::ready(vec![Outcome::ok(None); batch.len()]))
    }
}

/// One of the five typed events, or a hand-built one.
#[derive(Debug, Clone)]
enum Sent {
    Db(DbQuery),
    Flask(FlaskRequest),
    Django(DjangoRequest),
    Asgi(AsgiRequest),
    Celery(CeleryTaskFinished),
    Hand(Map<String, Value>),
}

fn sent() -> impl Strategy<Value = Sent> {
    prop_oneof![
        db_query().prop_map(Sent::Db),
        flask().prop_map(Sent::Flask),
        django().prop_map(Sent::Django),
        asgi().prop_map(Sent::Asgi),
        celery().prop_map(Sent::Celery),
        object().prop_map(Sent::Hand),
    ]
}

impl Sent {
    /// Sends the event through `client` (typed events are packed on this
    /// thread) and returns its timestamp, and the event as the usual path
    /// carries it, with the same timestamp.
    fn send(self, client: &Client) -> Event {
        fn typed<T: TypedEvent>(v: T, client: &Client) -> Event {
            let before = std::time::SystemTime::now();
            v.clone().send_with(client).unwrap();
            let mut ev = v.into_event();
            ev.set_timestamp(before);
            ev
        }
        match self {
            Sent::Db(v) => typed(v, client),
            Sent::Flask(v) => typed(v, client),
            Sent::Django(v) => typed(v, client),
            Sent::Asgi(v) => typed(v, client),
            Sent::Celery(v) => typed(v, client),
            Sent::Hand(mut m) => {
                // Built field by field (packed as it is added, and packed
                // into the spool when sent), against the same fields as a
                // map on the usual path.
                m.insert("event_type".into(), "hand.made".into());
                let before = std::time::SystemTime::now();
                let mut packed = client.new_event();
                for (k, v) in &m {
                    packed.add_field(k, v);
                }
                packed.send().unwrap();
                let mut ev = Event::from_map(m);
                ev.set_timestamp(before);
                ev
            }
        }
    }
}

/// The encoding without its timestamp (`ts`, or Honeycomb's `time`), which
/// the sent event takes when it is sent.
fn without_time(format: WireFormat, bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let key = match format {
        WireFormat::Ndjson => ",\"ts\":\"",
        WireFormat::HoneycombBatch => ",\"time\":\"",
    };
    match text.rfind(key) {
        Some(at) => {
            let end = at + key.len() + 27;
            format!("{}{}", &text[..at], &text[end..]).into_bytes()
        }
        None => bytes.to_vec(),
    }
}

fn round_trip<T>(v: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let s = serde_json::to_string(v).unwrap();
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn db_query_round_trips(v in db_query()) {
        prop_assert_eq!(&round_trip(&v), &v);
        prop_assert_eq!(AnyEvent::from_value(serde_json::to_value(&v).unwrap()).unwrap(), AnyEvent::DbQuery(v));
    }

    #[test]
    fn flask_request_round_trips(v in flask()) {
        prop_assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn django_request_round_trips(v in django()) {
        prop_assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn asgi_request_round_trips(v in asgi()) {
        prop_assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn celery_task_finished_round_trips(v in celery()) {
        prop_assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn any_event_survives_both_encodings(mut fields in object(), rate in 1u32..1000) {
        fields.remove("ts");
        let mut ev = Event::from_map(fields.clone());
        ev.set_sample_rate(rate);

        let line = encode_event(&ev, WireFormat::Ndjson).unwrap();
        prop_assert!(!line.contains(&b'\n'), "one line");
        let mut got: Map<String, Value> = serde_json::from_slice(&line).unwrap();
        let ts = got.remove("ts").unwrap();
        prop_assert!(ts.is_string());
        prop_assert_eq!(&got, &fields);
        let mut want = fields.clone();
        want.insert("ts".into(), ts);
        prop_assert_eq!(&line, &serde_json::to_vec(&want).unwrap(), "serde_json's bytes");

        let item = encode_event(&ev, WireFormat::HoneycombBatch).unwrap();
        let got: Value = serde_json::from_slice(&item).unwrap();
        prop_assert_eq!(&got["data"], &Value::Object(fields.clone()));
        prop_assert_eq!(&got["samplerate"], &Value::from(rate));
        prop_assert!(got["time"].as_str().unwrap().ends_with('Z'));
        let want = serde_json::json!({"data": fields, "time": got["time"], "samplerate": rate});
        prop_assert_eq!(&item, &serde_json::to_vec(&want).unwrap(), "serde_json's bytes");
    }

    #[test]
    fn fields_added_one_by_one_encode_as_serde_json_writes_them(
        fields in object(),
        again in prop::collection::vec((0usize..8, json_value()), 0..4),
    ) {
        // Added with `add_field`, some keys added again (the last value
        // wins, in the first place), against a map built the same way.
        let mut ev = Event::new();
        let mut want = fields.clone();
        want.remove("ts");
        for (k, v) in &want {
            ev.add_field(k, v);
        }
        let keys: Vec<String> = want.keys().cloned().collect();
        for (i, v) in again {
            if let Some(k) = keys.get(i) {
                ev.add_field(k, &v);
                want.insert(k.clone(), v);
            }
        }
        for (k, v) in &want {
            let got = ev.get(k);
            prop_assert_eq!(got.as_ref(), Some(v), "get({})", k);
        }
        let line = encode_event(&ev, WireFormat::Ndjson).unwrap();
        let mut got: Map<String, Value> = serde_json::from_slice(&line).unwrap();
        let ts = got.remove("ts").unwrap();
        prop_assert_eq!(&got, &want);
        want.insert("ts".into(), ts);
        prop_assert_eq!(&line, &serde_json::to_vec(&want).unwrap(), "serde_json's bytes");
    }

    #[test]
    fn typed_events_survive_the_ndjson_encoding(v in db_query()) {
        let line = encode_event(&v.clone().into_event(), WireFormat::Ndjson).unwrap();
        let mut got: Value = serde_json::from_slice(&line).unwrap();
        let obj = got.as_object_mut().unwrap();
        if !v.extra.contains_key("ts") {
            // serde_json's bytes for the struct, then the `ts` the encoder adds.
            let ts = obj.remove("ts").unwrap();
            let mut want = serde_json::to_vec(&v).unwrap();
            want.pop();
            want.extend_from_slice(b",\"ts\":");
            want.extend_from_slice(&serde_json::to_vec(&ts).unwrap());
            want.push(b'}');
            prop_assert_eq!(&line, &want, "serde_json's bytes");
        }
        prop_assert_eq!(serde_json::from_value::<DbQuery>(got).unwrap(), v);
    }

    /// Typed events are packed on the sending thread; what the worker
    /// writes from the packed bytes is exactly what it writes for the same
    /// event through the usual path, in send order among hand-built events,
    /// in both wire formats.
    #[test]
    fn packed_typed_events_are_encoded_as_the_usual_path_encodes_them(
        events in prop::collection::vec(sent(), 1..12),
        honeycomb in any::<bool>(),
    ) {
        let wire = Wire::default();
        let mut config = Config::new().backend(Backend::Custom(Arc::new(wire.clone())));
        if honeycomb {
            config = config.honeycomb_write_key("k").honeycomb_dataset("d");
        }
        let client = Client::new(config).unwrap();
        let usual: Vec<Event> = events.into_iter().map(|e| e.send(&client)).collect();
        prop_assert!(client.close(Duration::from_secs(10)).completed);
        let got = wire.0.lock().unwrap().clone();
        prop_assert_eq!(got.len(), usual.len());
        for ((format, bytes), ev) in got.iter().zip(&usual) {
            let want = encode_event(ev, *format).unwrap();
            prop_assert_eq!(
                String::from_utf8(without_time(*format, bytes)).unwrap(),
                String::from_utf8(without_time(*format, &want)).unwrap()
            );
        }
    }
}
