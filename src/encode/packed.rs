//! Typed events packed on the sending thread.
//!
//! Handing a typed struct to the worker costs more than building it: its
//! box and its strings are written on the sender's core, read on the
//! worker's, and freed (or reused) back on the sender's, so every cache line
//! of the event crosses between cores twice (`bench/benches/handoff.rs`). A typed
//! `send()` instead packs the struct into its thread's spool (see
//! `core::fast::slots`): the JSON structure and keys as literal bytes (generated
//! types build those segments at compile time), strings and floats as they
//! are, and the struct is dropped on the spot, its strings freed while they
//! are still in this core's cache. Only the packed bytes, written in order
//! and read in order, go to the worker, which finishes the JSON: it escapes
//! the strings and formats the floats, the two costly parts of encoding, so
//! the sending thread does little more than copy.
//!
//! A chunk of a client that packs holds a record for every event, in send
//! order: a packed event, or a reference to the next [`crate::Event`] of the
//! chunk (events with fields added by hand, metadata or a context, which
//! take the usual path).
//!
//! Record: `u32` length (header included), kind, flags, 2 spare bytes, `u32`
//! sample rate (0 for none), `u32` nanoseconds and `u64` seconds since the
//! Unix epoch; then segments, each a tag and its data: literal JSON bytes
//! (`u32` length), a string to escape (`u32` length), an `f64` or an `f32`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Error;

pub use crate::json::segments::{segment, Packer, SEGMENT_HEADER};
use crate::model::packed_fields::PackedFields;
use crate::model::typed::EventWriter;

const KIND_PACKED: u8 = 1;
/// A hand-built event's packed fields (`model::packed_fields`), as they
/// are.
const KIND_FIELDS: u8 = 3;
const KIND_REF: u8 = 2;
const FLAG_HAS_TS: u8 = 1;
const HEADER: usize = 24;
const REF_LEN: usize = 8;

/// What a packed event carries besides its JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackMeta {
    /// When the event was sent, since the Unix epoch.
    pub(crate) since: Duration,
    /// The Honeycomb sample rate the caller decided on.
    pub(crate) sample_rate: Option<u32>,
    /// The struct has a `ts` key of its own (no `ts` is added).
    pub(crate) has_ts: bool,
}

impl PackMeta {
    /// When the event was sent.
    pub(crate) fn at(&self) -> SystemTime {
        UNIX_EPOCH + self.since
    }
}

/// Appends a packed record to `buf`, its JSON written by `write`. Returns
/// `false`, with `buf` unchanged, when the event cannot be packed (`write`
/// fails): the event then takes the usual path, where the worker reports
/// why it cannot be sent.
pub(crate) fn pack(
    buf: &mut Vec<u8>,
    head: &PackMeta,
    write: impl FnOnce(&mut Packer<'_>) -> Result<(), Error>,
) -> bool {
    let start = buf.len();
    buf.extend_from_slice(&header(head, KIND_PACKED));
    let mut packer = Packer::new(buf);
    let ok = write(&mut packer).is_ok();
    packer.finish();
    let len = buf.len() - start;
    match u32::try_from(len) {
        Ok(len) if ok => {
            buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
            true
        }
        _ => {
            buf.truncate(start);
            false
        }
    }
}

/// A record's header, its length left 0.
#[inline]
fn header(head: &PackMeta, kind: u8) -> [u8; HEADER] {
    let since = head.since;
    let mut header = [0; HEADER];
    header[4] = kind;
    header[5] = u8::from(head.has_ts) * FLAG_HAS_TS;
    header[8..12].copy_from_slice(&head.sample_rate.unwrap_or(0).to_le_bytes());
    header[12..16].copy_from_slice(&since.subsec_nanos().to_le_bytes());
    header[16..24].copy_from_slice(&since.as_secs().to_le_bytes());
    header
}

/// Appends a record of a hand-built event's packed fields to `buf` (their
/// buffer copied as it is). `false`, with `buf` unchanged, when the record
/// would be longer than a record can say.
pub(crate) fn pack_fields(buf: &mut Vec<u8>, head: &PackMeta, fields: &PackedFields) -> bool {
    let body = fields.bytes();
    let Ok(len) = u32::try_from(HEADER + body.len()) else {
        return false;
    };
    let mut header = header(head, KIND_FIELDS);
    header[..4].copy_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&header);
    buf.extend_from_slice(body);
    true
}

/// A record that stands for the chunk's next unpacked event.
pub(crate) const REF_RECORD: [u8; REF_LEN] = [REF_LEN as u8, 0, 0, 0, KIND_REF, 0, 0, 0];

/// One record of a chunk.
pub(crate) enum Record<'a> {
    /// The chunk's next unpacked event.
    Ref,
    /// A packed event.
    Packed(Packed<'a>),
}

/// A packed event, as the worker reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packed<'a> {
    pub(crate) head: PackMeta,
    /// A typed struct's segments, or a hand-built event's packed fields.
    fields: bool,
    body: &'a [u8],
}

/// The records of a chunk, in send order.
pub(crate) struct Records<'a> {
    buf: &'a [u8],
}

/// Iterates over the records in `buf` (written by [`pack`] and
/// [`REF_RECORD`]).
pub(crate) fn records(buf: &[u8]) -> Records<'_> {
    Records { buf }
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let len = u32_at(self.buf, 0)? as usize;
        let (rec, rest) = self.buf.split_at_checked(len)?;
        self.buf = rest;
        match rec.get(4)? {
            &KIND_REF => Some(Record::Ref),
            _ => {
                let nanos = u32_at(rec, 12)?;
                let secs = u64_at(rec, 16)?;
                let rate = u32_at(rec, 8)?;
                Some(Record::Packed(Packed {
                    head: PackMeta {
                        since: Duration::new(secs, nanos),
                        sample_rate: (rate != 0).then_some(rate),
                        has_ts: rec.get(5)? & FLAG_HAS_TS != 0,
                    },
                    fields: rec[4] == KIND_FIELDS,
                    body: rec.get(HEADER..)?,
                }))
            }
        }
    }
}

impl Packed<'_> {
    /// Appends the event's JSON object, as the struct serializes it.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.fields {
            return crate::model::packed_fields::write_object(self.body, out);
        }
        crate::json::segments::write_segments(self.body, out)
    }
}

impl EventWriter for Packer<'_> {
    #[inline]
    fn seg(&mut self, segment: &'static [u8]) {
        Packer::seg(self, segment)
    }
    #[inline]
    fn str(&mut self, s: &str) -> Result<(), Error> {
        Packer::str(self, s)
    }
    #[inline]
    fn f64(&mut self, v: f64) {
        Packer::f64(self, v)
    }
    #[inline]
    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        Packer::value(self, v)
    }
    #[inline]
    fn key(&mut self, key: &str) -> Result<(), Error> {
        Packer::key(self, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: Serialize>(v: &T) -> Vec<u8> {
        let head = PackMeta {
            since: Duration::new(1_700_000_000, 123_456_789),
            sample_rate: Some(7),
            has_ts: true,
        };
        let mut buf = Vec::new();
        buf.extend_from_slice(&REF_RECORD);
        assert!(pack(&mut buf, &head, |p| p.value(v)));
        buf.extend_from_slice(&REF_RECORD);
        let recs: Vec<_> = records(&buf).collect();
        assert_eq!(recs.len(), 3);
        assert!(matches!(recs[0], Record::Ref) && matches!(recs[2], Record::Ref));
        let Record::Packed(p) = &recs[1] else {
            panic!("not packed")
        };
        assert_eq!(p.head.since, head.since);
        assert_eq!(p.head.sample_rate, Some(7));
        assert!(p.head.has_ts);
        let mut out = Vec::new();
        p.write_json(&mut out).expect("write");
        out
    }

    #[test]
    fn packed_json_is_serde_jsons() {
        let long = "a \"quoted\" \\ string\n with\tcontrol \u{1} chars and ünïcode, longer than 24";
        let v = json!({
            "event_type": "db.query",
            "query": long,
            "short": "é\"",
            "duration": 2.5,
            "f": 1e300,
            "neg": -3,
            "big": u64::MAX,
            "ok": true,
            "none": null,
            "params": [1, "x", [], {}, {"k": [1.5, long]}],
        });
        assert_eq!(round_trip(&v), serde_json::to_vec(&v).unwrap());
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(u8),
            Tup(u8, f32),
            Rec { a: f64 },
        }
        #[derive(serde::Serialize)]
        struct S {
            e: Vec<E>,
            c: char,
            t: (i8, f32),
            nan: f64,
            m: std::collections::BTreeMap<i32, bool>,
        }
        let s = S {
            e: vec![E::Unit, E::New(3), E::Tup(1, 0.5), E::Rec { a: -0.0 }],
            c: '"',
            t: (-1, f32::MAX),
            nan: f64::NAN,
            m: [(1, true), (-2, false)].into_iter().collect(),
        };
        assert_eq!(round_trip(&s), serde_json::to_vec(&s).unwrap());
    }

    #[test]
    fn segments_and_direct_writes_make_the_json_serde_json_makes() {
        const OPEN: [u8; 10] = segment::<{ "{\"a\":".len() + SEGMENT_HEADER }>("{\"a\":");
        let head = PackMeta {
            since: Duration::new(1_700_000_000, 0),
            sample_rate: None,
            has_ts: false,
        };
        let mut buf = Vec::new();
        assert!(pack(&mut buf, &head, |p| {
            p.seg(&OPEN);
            p.str("x\"y")?;
            p.seg(&segment::<{ ",\"b\":".len() + SEGMENT_HEADER }>(",\"b\":"));
            p.f64(0.1);
            p.seg(&segment::<{ ",\"c\":".len() + SEGMENT_HEADER }>(",\"c\":"));
            // A serde value leaves a literal open; the next segment closes it.
            p.value(&[1, 2])?;
            p.seg(&segment::<{ ",\"d\":".len() + SEGMENT_HEADER }>(",\"d\":"));
            p.f64(f64::INFINITY);
            p.seg(&segment::<{ ",\"e\":".len() + SEGMENT_HEADER }>(",\"e\":"));
            p.str("")?;
            p.seg(&segment::<{ "}".len() + SEGMENT_HEADER }>("}"));
            Ok(())
        }));
        let Some(Record::Packed(rec)) = records(&buf).next() else {
            panic!("not packed")
        };
        let mut out = Vec::new();
        rec.write_json(&mut out).expect("write");
        let want = json!({"a": "x\"y", "b": 0.1, "c": [1, 2], "d": null, "e": ""});
        assert_eq!(out, serde_json::to_vec(&want).unwrap());
    }

    #[test]
    fn a_value_that_cannot_be_packed_leaves_the_buffer_unchanged() {
        let mut buf = vec![9];
        let head = PackMeta {
            since: Duration::new(1_700_000_000, 0),
            sample_rate: None,
            has_ts: false,
        };
        let bad: std::collections::HashMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(!pack(&mut buf, &head, |p| p.value(&bad)));
        assert_eq!(buf, [9]);
    }
}
