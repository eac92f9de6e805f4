//! Serialization of a batch of 1,000 realistic `db.query` events, into a
//! reused buffer, against the floor: a plain `#[derive(Serialize)]` struct
//! with the same fields.
//!
//! `*/real_encoder` cases call the worker's own encoder through
//! `transmission::encode_into` (the code `Batch::push` runs), into the
//! reused buffer; it writes JSON with the crate's own compact writer (its
//! strings escaped 16 bytes at a time). `*_serde_json` cases replay the
//! same steps with `serde_json::to_writer` for the objects; every run
//! checks that both give the same bytes.
//!
//! ```sh
//! cargo bench -p insights-events-bench --bench serialize
//! ```

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use insights_events::transmission::{encode_into, write_timestamp, WireFormat};
use insights_events::{DbQuery, Event, Fields};
use serde::Serialize;
use serde_json::Value;

#[path = "common/workload.rs"]
mod workload;

const BATCH: usize = 1_000;

/// The floor: a plain derived struct, same keys in the same order.
#[derive(Serialize)]
struct Floor {
    event_type: &'static str,
    query: String,
    duration: f64,
    params: Value,
    request_id: String,
}

/// Same as Floor plus a pre-formatted `ts` (what a best-case encoder writes
/// for NDJSON).
#[derive(Serialize)]
struct FloorTs<'a> {
    event_type: &'static str,
    query: &'a str,
    duration: f64,
    params: &'a Value,
    request_id: &'a str,
    ts: &'a str,
}

struct Data {
    typed: Vec<DbQuery>,
    events: Vec<Event>,
    floor: Vec<Floor>,
    maps: Vec<Fields>,
    map_events: Vec<Event>,
    times: Vec<SystemTime>,
    ts: Vec<String>,
}

fn data() -> Data {
    let mut w = workload::Workload::new(42);
    let mut d = Data {
        typed: Vec::new(),
        events: Vec::new(),
        floor: Vec::new(),
        maps: Vec::new(),
        map_events: Vec::new(),
        times: Vec::new(),
        ts: Vec::new(),
    };
    let t0 = SystemTime::now();
    for i in 0..BATCH {
        let q = w.next();
        let at = t0 + Duration::from_micros(i as u64 * 37);
        d.typed.push(
            DbQuery::new(q.query, q.duration)
                .params(q.params.clone())
                .request_id(q.request_id.clone()),
        );
        let mut ev = d.typed[i].clone().into_event();
        ev.set_timestamp(at);
        d.events.push(ev);
        d.floor.push(Floor {
            event_type: "db.query",
            query: q.query.to_owned(),
            duration: q.duration,
            params: q.params.clone(),
            request_id: q.request_id.clone(),
        });
        let Value::Object(map) = serde_json::to_value(&d.floor[i]).expect("json") else {
            unreachable!()
        };
        let mut ev = Event::from_map(map.clone());
        ev.set_timestamp(at);
        d.map_events.push(ev);
        d.maps.push(map);
        d.times.push(at);
        d.ts.push(insights_events::transmission::format_timestamp(at));
    }
    d
}

// Each function encodes the whole batch into `buf` (cleared first).

/// Plain NDJSON of any serializable items (the derived floor, or the typed
/// struct), without `ts`.
fn ndjson<T: Serialize>(items: &[T], buf: &mut Vec<u8>) {
    buf.clear();
    for item in items {
        serde_json::to_writer(&mut *buf, item).expect("json");
        buf.push(b'\n');
    }
}

fn floor_ndjson_ts(d: &Data, buf: &mut Vec<u8>) {
    buf.clear();
    for (f, ts) in d.floor.iter().zip(&d.ts) {
        let f = FloorTs {
            event_type: f.event_type,
            query: &f.query,
            duration: f.duration,
            params: &f.params,
            request_id: &f.request_id,
            ts,
        };
        serde_json::to_writer(&mut *buf, &f).expect("json");
        buf.push(b'\n');
    }
}

/// `Batch::push` for NDJSON with serde_json: typed object, drop its `}`,
/// append `,"ts":"…"}` and the newline.
fn typed_ndjson_ts(d: &Data, buf: &mut Vec<u8>) {
    buf.clear();
    for (e, at) in d.typed.iter().zip(&d.times) {
        serde_json::to_writer(&mut *buf, e).expect("json");
        buf.pop();
        buf.extend_from_slice(b",\"ts\":\"");
        write_timestamp(buf, *at);
        buf.extend_from_slice(b"\"}\n");
    }
}

/// `Batch::push` for Honeycomb items with serde_json, plus the copy
/// `Batch::body()` makes into `[item,item,...]`.
fn typed_honeycomb(
    d: &Data,
    scratch: &mut Vec<u8>,
    items: &mut Vec<(usize, usize)>,
    buf: &mut Vec<u8>,
) {
    scratch.clear();
    items.clear();
    for (e, at) in d.typed.iter().zip(&d.times) {
        let start = scratch.len();
        scratch.extend_from_slice(b"{\"data\":");
        serde_json::to_writer(&mut *scratch, e).expect("json");
        scratch.extend_from_slice(b",\"time\":\"");
        write_timestamp(scratch, *at);
        scratch.extend_from_slice(b"\",\"samplerate\":");
        scratch.extend_from_slice(itoa::Buffer::new().format(1u32).as_bytes());
        scratch.push(b'}');
        items.push((start, scratch.len()));
    }
    join_items(scratch, items, buf);
}

/// The copy `Batch::body()` makes for Honeycomb: the items of `scratch`
/// joined into `[item,item,...]`.
fn join_items(scratch: &[u8], items: &[(usize, usize)], buf: &mut Vec<u8>) {
    buf.clear();
    buf.reserve(scratch.len() + items.len() + 2);
    buf.push(b'[');
    for (i, (s, e)) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(&scratch[*s..*e]);
    }
    buf.push(b']');
}

/// Floor for the Honeycomb body: the derived struct wrapped in a derived
/// item, as one `serde_json::to_writer` of a slice.
fn floor_honeycomb(d: &Data, buf: &mut Vec<u8>) {
    #[derive(Serialize)]
    struct Item<'a> {
        data: &'a Floor,
        time: &'a str,
        samplerate: u32,
    }
    let items: Vec<Item<'_>> = d
        .floor
        .iter()
        .zip(&d.ts)
        .map(|(f, ts)| Item {
            data: f,
            time: ts,
            samplerate: 1,
        })
        .collect();
    buf.clear();
    serde_json::to_writer(&mut *buf, &items).expect("json");
}

/// Hand-built events with serde_json: a `Fields` map, entry by entry as
/// `write_object` does (`write_entry`: key, `:`, value), plus `ts`.
fn map_ndjson_ts(d: &Data, buf: &mut Vec<u8>) {
    buf.clear();
    for (m, at) in d.maps.iter().zip(&d.times) {
        buf.push(b'{');
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            serde_json::to_writer(&mut *buf, k).expect("json");
            buf.push(b':');
            serde_json::to_writer(&mut *buf, v).expect("json");
        }
        buf.extend_from_slice(b",\"ts\":\"");
        write_timestamp(buf, *at);
        buf.extend_from_slice(b"\"}\n");
    }
}

/// The real encoder (`transmission::encode_into`: what `Batch::push` runs)
/// into the reused buffer.
fn real_ndjson(events: &[Event], buf: &mut Vec<u8>) {
    buf.clear();
    for ev in events {
        encode_into(buf, ev, WireFormat::Ndjson).expect("encode");
    }
}

/// Same, Honeycomb items, then the copy `Batch::body()` makes into
/// `[item,item,...]`.
fn real_honeycomb(
    d: &Data,
    scratch: &mut Vec<u8>,
    items: &mut Vec<(usize, usize)>,
    buf: &mut Vec<u8>,
) {
    scratch.clear();
    items.clear();
    for ev in &d.events {
        let start = scratch.len();
        encode_into(scratch, ev, WireFormat::HoneycombBatch).expect("encode");
        items.push((start, scratch.len()));
    }
    join_items(scratch, items, buf);
}

fn serialize(c: &mut Criterion) {
    let d = data();
    let mut buf = Vec::with_capacity(1 << 20);
    let mut scratch = Vec::with_capacity(1 << 20);
    let mut items = Vec::with_capacity(BATCH);

    // Sanity: the typed encoding parses and carries the same values as the floor.
    typed_ndjson_ts(&d, &mut buf);
    let first: Value = serde_json::from_slice(buf.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["query"], d.floor[0].query.as_str());
    let replay = buf.clone();
    real_ndjson(&d.events, &mut buf);
    assert_eq!(buf, replay, "serde_json and the real encoder differ");
    map_ndjson_ts(&d, &mut buf);
    let replay = buf.clone();
    real_ndjson(&d.map_events, &mut buf);
    assert_eq!(buf, replay, "serde_json and the real encoder differ (maps)");
    typed_honeycomb(&d, &mut scratch, &mut items, &mut buf);
    let replay = buf.clone();
    real_honeycomb(&d, &mut scratch, &mut items, &mut buf);
    assert_eq!(
        buf, replay,
        "the Honeycomb replay differs from the real encoder"
    );
    let arr: Vec<Value> = serde_json::from_slice(&buf).unwrap();
    assert_eq!(arr.len(), BATCH);

    let mut group = c.benchmark_group("serialize_1000_db_query");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));

    macro_rules! case {
        ($name:expr, $f:expr) => {{
            #[allow(unused_mut)]
            let mut f = $f;
            f(&mut buf);
            let bytes = buf.len() as u64;
            println!(
                "BYTES {}: {} bytes/batch ({:.1} bytes/event)",
                $name,
                bytes,
                bytes as f64 / BATCH as f64
            );
            group.throughput(Throughput::ElementsAndBytes {
                elements: BATCH as u64,
                bytes,
            });
            group.bench_function($name, |b| {
                b.iter(|| {
                    f(&mut buf);
                    black_box(buf.len())
                })
            });
        }};
    }

    case!("ndjson/floor_derive", |b: &mut Vec<u8>| ndjson(&d.floor, b));
    case!("ndjson/typed_DbQuery", |b: &mut Vec<u8>| ndjson(
        &d.typed, b
    ));
    case!("ndjson_ts/floor_derive", |b: &mut Vec<u8>| floor_ndjson_ts(
        &d, b
    ));
    case!("ndjson_ts/typed_DbQuery_serde_json", |b: &mut Vec<u8>| {
        typed_ndjson_ts(&d, b)
    });
    case!("ndjson_ts/typed_DbQuery_real_encoder", |b: &mut Vec<u8>| {
        real_ndjson(&d.events, b)
    });
    case!(
        "ndjson_ts/hand_built_Fields_map_serde_json",
        |b: &mut Vec<u8>| { map_ndjson_ts(&d, b) }
    );
    case!(
        "ndjson_ts/hand_built_Fields_map_real_encoder",
        |b: &mut Vec<u8>| { real_ndjson(&d.map_events, b) }
    );
    case!("honeycomb/floor_derive", |b: &mut Vec<u8>| floor_honeycomb(
        &d, b
    ));
    case!("honeycomb/typed_DbQuery_serde_json", |b: &mut Vec<u8>| {
        typed_honeycomb(&d, &mut scratch, &mut items, b)
    });
    case!("honeycomb/typed_DbQuery_real_encoder", |b: &mut Vec<u8>| {
        real_honeycomb(&d, &mut scratch, &mut items, b)
    });
    group.finish();
}

criterion_group!(benches, serialize);
criterion_main!(benches);
