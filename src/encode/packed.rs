//! Typed events packed on the sending thread.
//!
//! Part of `encode` (layer 2); uses `model` and `json`.
//!
//! Handing a typed struct to the worker costs more than building it: its
//! box and its strings are written on the sender's core, read on the
//! worker's, and freed (or reused) back on the sender's, so every cache line
//! of the event crosses between cores twice (`benches/handoff.rs`). A typed
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

use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Error;

use crate::json::compact::{int, integers, write_key};
use crate::json::escape::{write_str, write_utf8};
use crate::model::typed::EventWriter;

const KIND_PACKED: u8 = 1;
const KIND_REF: u8 = 2;
const FLAG_HAS_TS: u8 = 1;
const HEADER: usize = 24;
const REF_LEN: usize = 8;

const LIT: u8 = 0;
const STR: u8 = 1;
const F64: u8 = 2;
const F32: u8 = 3;

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
    let since = head.since;
    let start = buf.len();
    let mut header = [0; HEADER];
    header[4] = KIND_PACKED;
    header[5] = u8::from(head.has_ts) * FLAG_HAS_TS;
    header[8..12].copy_from_slice(&head.sample_rate.unwrap_or(0).to_le_bytes());
    header[12..16].copy_from_slice(&since.subsec_nanos().to_le_bytes());
    header[16..24].copy_from_slice(&since.as_secs().to_le_bytes());
    buf.extend_from_slice(&header);
    let mut packer = Packer { buf, open: None };
    let ok = write(&mut packer).is_ok();
    packer.close();
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

/// Bytes a literal segment adds to its JSON text.
pub const SEGMENT_HEADER: usize = 5;

/// A literal segment of `text` (`N` must be `text.len()` plus
/// [`SEGMENT_HEADER`]), built at compile time by generated code for its
/// keys and punctuation, and appended with [`Packer::seg`]. `text` must be
/// valid JSON in its place.
pub const fn segment<const N: usize>(text: &str) -> [u8; N] {
    let text = text.as_bytes();
    assert!(text.len() + SEGMENT_HEADER == N && text.len() <= u32::MAX as usize);
    let mut out = [0; N];
    out[0] = LIT;
    let len = (text.len() as u32).to_le_bytes();
    let mut i = 0;
    while i < 4 {
        out[1 + i] = len[i];
        i += 1;
    }
    while i < text.len() + 4 {
        out[i + 1] = text[i - 4];
        i += 1;
    }
    out
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
                    body: rec.get(HEADER..)?,
                }))
            }
        }
    }
}

impl Packed<'_> {
    /// Appends the event's JSON object, as the struct serializes it.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let corrupt = || ser::Error::custom("corrupt packed event");
        let b = self.body;
        let mut i = 0;
        while i < b.len() {
            let tag = b[i];
            match tag {
                LIT | STR => {
                    let n = u32_at(b, i + 1).ok_or_else(corrupt)? as usize;
                    let bytes = b.get(i + 5..i + 5 + n).ok_or_else(corrupt)?;
                    if tag == LIT {
                        out.extend_from_slice(bytes);
                    } else {
                        write_utf8(out, bytes);
                    }
                    i += 5 + n;
                }
                F64 => {
                    let v = f64::from_bits(u64_at(b, i + 1).ok_or_else(corrupt)?);
                    CompactFormatter.write_f64(out, v).map_err(Error::io)?;
                    i += 9;
                }
                F32 => {
                    let v = f32::from_bits(u32_at(b, i + 1).ok_or_else(corrupt)?);
                    CompactFormatter.write_f32(out, v).map_err(Error::io)?;
                    i += 5;
                }
                _ => return Err(corrupt()),
            }
        }
        Ok(())
    }
}

/// Writes a packed event's segments (a serde serializer). Only generated
/// code uses it, through `TypedEvent::pack`.
pub struct Packer<'a> {
    buf: &'a mut Vec<u8>,
    /// Where the bytes of the literal being written start, if one is open.
    open: Option<usize>,
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

impl Packer<'_> {
    /// Appends a literal segment made by [`segment`] (JSON text whose
    /// segment header was built when the code was compiled).
    #[inline]
    pub fn seg(&mut self, segment: &[u8]) {
        self.close();
        self.buf.extend_from_slice(segment);
    }

    /// Appends a string value (as [`Packer::value`] would, without going
    /// through serde).
    #[inline]
    pub fn str(&mut self, s: &str) -> Result<(), Error> {
        self.string(s)
    }

    /// Appends an `f64` value (as [`Packer::value`] would, without going
    /// through serde).
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.float(v.is_finite(), F64, &v.to_bits().to_le_bytes());
    }

    /// Appends a value, as `serde_json` would write it.
    #[inline]
    pub fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }

    /// Appends `key` as an object key, followed by `:`.
    #[inline]
    pub fn key(&mut self, key: &str) -> Result<(), Error> {
        self.string(key)?;
        self.lit(b":");
        Ok(())
    }

    /// Opens a literal segment, unless one is open already.
    #[inline]
    fn lit_open(&mut self) {
        if self.open.is_none() {
            self.buf.push(LIT);
            self.buf.extend_from_slice(&[0; 4]);
            self.open = Some(self.buf.len());
        }
    }

    /// Closes the open literal: writes its length.
    #[inline]
    fn close(&mut self) {
        if let Some(s) = self.open.take() {
            let n = (self.buf.len() - s) as u32;
            self.buf[s - 4..s].copy_from_slice(&n.to_le_bytes());
        }
    }

    #[inline]
    fn lit(&mut self, bytes: &[u8]) {
        self.lit_open();
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    fn string(&mut self, s: &str) -> Result<(), Error> {
        // Strings are copied as they are, for the worker to escape:
        // escaping even short ones here costs this thread more than copying
        // them (`benches/caller.rs`).
        if s.is_empty() {
            self.lit(b"\"\"");
            return Ok(());
        }
        let n = u32::try_from(s.len()).map_err(|_| ser::Error::custom("string too long"))?;
        self.close();
        let [a, b, c, d] = n.to_le_bytes();
        self.buf.extend_from_slice(&[STR, a, b, c, d]);
        self.buf.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// A float segment (`tag` and its bits), or `null` for a non-finite
    /// float, as serde_json writes it.
    #[inline]
    fn float(&mut self, finite: bool, tag: u8, bits: &[u8]) {
        if !finite {
            self.lit(b"null");
            return;
        }
        self.close();
        self.buf.push(tag);
        self.buf.extend_from_slice(bits);
    }

    /// `{"variant":`, the opening of an externally tagged enum variant.
    fn open_variant(&mut self, variant: &str) {
        self.lit_open();
        self.buf.push(b'{');
        write_str(self.buf, variant);
        self.buf.push(b':');
    }
}

impl<'p, 'a> ser::Serializer for &'p mut Packer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'p, 'a>;
    type SerializeTuple = Compound<'p, 'a>;
    type SerializeTupleStruct = Compound<'p, 'a>;
    type SerializeTupleVariant = Compound<'p, 'a>;
    type SerializeMap = Compound<'p, 'a>;
    type SerializeStruct = Compound<'p, 'a>;
    type SerializeStructVariant = Compound<'p, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.lit(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(|this, v| {
        this.lit_open();
        int(this.buf, v);
        Ok(())
    });
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v.is_finite(), F32, &v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v.is_finite(), F64, &v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.lit(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.open_variant(variant);
        v.serialize(&mut *self)?;
        self.lit(b"}");
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'p, 'a>, Error> {
        self.lit(b"[");
        Ok(Compound::new(self, b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'p, 'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'p, 'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'p, 'a>, Error> {
        Ok(Compound::variant(self, variant, b"[", b"]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'p, 'a>, Error> {
        self.lit(b"{");
        Ok(Compound::new(self, b"}"))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'p, 'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'p, 'a>, Error> {
        Ok(Compound::variant(self, variant, b"{", b"}}"))
    }
}

/// An array or object being packed; `close` is what `end` appends.
pub struct Compound<'p, 'a> {
    p: &'p mut Packer<'a>,
    first: bool,
    close: &'static [u8],
}

impl<'p, 'a> Compound<'p, 'a> {
    fn new(p: &'p mut Packer<'a>, close: &'static [u8]) -> Self {
        Compound {
            p,
            first: true,
            close,
        }
    }

    /// An array or object inside an externally tagged enum variant:
    /// `{"variant":` and `open`; `close` ends both.
    fn variant(
        p: &'p mut Packer<'a>,
        variant: &str,
        open: &'static [u8],
        close: &'static [u8],
    ) -> Self {
        p.open_variant(variant);
        p.lit(open);
        Compound::new(p, close)
    }

    #[inline]
    fn comma(&mut self) {
        if !self.first {
            self.p.lit(b",");
        }
        self.first = false;
    }

    fn end(self) -> Result<(), Error> {
        self.p.lit(self.close);
        Ok(())
    }
}

macro_rules! sequence {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.comma();
                v.serialize(&mut *self.p)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}
sequence!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! structure {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
                self.comma();
                self.p.lit_open();
                write_str(self.p.buf, key);
                self.p.buf.push(b':');
                v.serialize(&mut *self.p)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}
structure!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        self.p.lit_open();
        write_key(self.p.buf, key)?;
        self.p.buf.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(&mut *self.p)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
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
