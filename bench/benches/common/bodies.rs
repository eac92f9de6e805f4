//! The throughput harness's batch bodies of `db.query` events, written as
//! the worker writes them (an NDJSON body, or a Honeycomb array), for the
//! harness's sink-ceiling phase (`src/bin/throughput.rs`) and the
//! compressor comparison (`src/bin/twins.rs`). The including crate
//! declares `mod workload` (`benches/common/workload.rs`) beside this.

use insights_events::DbQuery;

use crate::workload::Workload;

/// One body of `events` events from `w`, each stamped by `ts()`.
pub fn body(
    w: &mut Workload,
    honeycomb: bool,
    events: usize,
    mut ts: impl FnMut() -> String,
) -> Vec<u8> {
    let mut buf = Vec::new();
    if honeycomb {
        buf.push(b'[');
    }
    for i in 0..events {
        let q = w.next();
        let ev = DbQuery::new(q.query, q.duration)
            .params(q.params)
            .request_id(q.request_id);
        let ts = ts();
        if honeycomb {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"data\":");
            serde_json::to_writer(&mut buf, &ev).expect("json");
            buf.extend_from_slice(format!(",\"time\":\"{ts}\",\"samplerate\":1}}").as_bytes());
        } else {
            serde_json::to_writer(&mut buf, &ev).expect("json");
            buf.pop();
            buf.extend_from_slice(format!(",\"ts\":\"{ts}\"}}\n").as_bytes());
        }
    }
    if honeycomb {
        buf.push(b']');
    }
    buf
}
