//! JSON in segments: what a packed event's body is made of.
//!
//! A [`Packer`] is a serde serializer that writes a value as segments
//! instead of JSON text: punctuation, keys, numbers and literals as literal
//! JSON bytes, strings as they are (to be escaped later) and floats as
//! their bits (to be formatted later). Escaping and float formatting are
//! the two costly parts of writing JSON, so a thread that packs does
//! little more than copy, and [`write_segments`] (on the worker) finishes
//! the text. Typed events are packed by their generated code
//! (`encode::packed` frames them into records); hand-built events pack each
//! field as it is added (`model::fields`).
//!
//! Segment: a tag and its data: literal JSON bytes (`u32` length), a
//! string to escape (`u32` length), an `f64` or an `f32`.

use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Error;

use super::compact::{int, integers, write_key};
use super::escape::{write_str, write_utf8};

const LIT: u8 = 0;
const STR: u8 = 1;
const F64: u8 = 2;
const F32: u8 = 3;

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

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

/// Appends the JSON text of `b`, a run of segments a [`Packer`] wrote.
pub(crate) fn write_segments(b: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let corrupt = || ser::Error::custom("corrupt packed event");
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

/// The value `b` holds when it is one scalar segment: a string, an `f64`
/// or an `f32` (as `serde_json::to_value` makes it: the `f32` widened).
/// `None` for anything else (read those back as JSON text).
pub(crate) fn as_scalar(b: &[u8]) -> Option<serde_json::Value> {
    use serde_json::Value;
    match *b.first()? {
        STR => as_str(b).map(|s| Value::String(s.to_owned())),
        F64 if b.len() == 9 => Some(Value::from(f64::from_bits(u64_at(b, 1)?))),
        F32 if b.len() == 5 => Some(Value::from(f32::from_bits(u32_at(b, 1)?) as f64)),
        _ => None,
    }
}

/// The string `b` holds when it is one string segment (or the literal
/// `""`), as the [`Packer`] wrote a `&str`: its bytes unescaped.
pub(crate) fn as_str(b: &[u8]) -> Option<&str> {
    match b {
        [LIT, 2, 0, 0, 0, b'"', b'"'] => Some(""),
        [STR, rest @ ..] => {
            let n = u32_at(rest, 0)? as usize;
            let bytes = rest.get(4..)?;
            (bytes.len() == n).then(|| std::str::from_utf8(bytes).ok())?
        }
        _ => None,
    }
}

/// Writes a packed event's segments (a serde serializer). Only generated
/// code uses it, through `TypedEvent::pack`.
pub struct Packer<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
    /// Where the bytes of the literal being written start, if one is open.
    open: Option<usize>,
    /// Arrays and objects open now, and the most open at once.
    depth: u32,
    max_depth: u32,
    /// A non-finite float was written (as `null`, serde_json's way).
    nonfinite: bool,
    /// An object was written (keys a params filter may look at).
    objects: bool,
    /// Write only what packs exactly as `serde_json::to_value` would make
    /// it (see [`Packer::strict`]).
    strict: bool,
    /// A strict packer met something it leaves to `to_value`.
    declined: bool,
}

impl<'a> Packer<'a> {
    /// A packer appending to `buf`; [`Packer::finish`] ends its last
    /// segment.
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Packer {
            buf,
            open: None,
            depth: 0,
            max_depth: 0,
            nonfinite: false,
            objects: false,
            strict: false,
            declined: false,
        }
    }

    /// A packer for hand-built fields, whose values must come out as the
    /// `serde_json::Value` that `to_value` makes of them would be written.
    /// It packs scalars, strings, sequences, options, unit variants and
    /// newtype structs itself (an `f32` widened to `f64`, as `to_value`
    /// does), and declines (an error, with [`Packer::declined`] set) maps,
    /// structs, data-carrying enum variants and 128-bit integers, where
    /// `to_value`'s rules differ from a writer's (duplicate keys collapse,
    /// map keys are stricter, `RawValue` is parsed, out-of-range integers
    /// are refused): the caller converts those with `to_value` and packs
    /// the value.
    #[inline]
    pub(crate) fn strict(buf: &'a mut Vec<u8>) -> Self {
        let mut p = Packer::new(buf);
        p.strict = true;
        p
    }

    /// Whether a strict packer declined the value.
    pub(crate) fn declined(&self) -> bool {
        self.declined
    }

    /// Declines the value when strict: the error that ends serializing.
    #[inline]
    fn decline(&mut self) -> Result<(), Error> {
        if self.strict {
            self.declined = true;
            return Err(ser::Error::custom("left to serde_json::to_value"));
        }
        Ok(())
    }

    /// Ends the open literal segment, if any.
    #[inline]
    pub(crate) fn finish(&mut self) {
        self.close();
    }

    /// The deepest nesting of arrays and objects written (0: none).
    pub(crate) fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// Whether an object was written.
    pub(crate) fn wrote_object(&self) -> bool {
        self.objects
    }

    /// Whether a non-finite float was written (as `null`).
    pub(crate) fn wrote_nonfinite(&self) -> bool {
        self.nonfinite
    }
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
        // them (`bench/benches/caller.rs`).
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
            self.nonfinite = true;
            self.lit(b"null");
            return;
        }
        self.close();
        self.buf.push(tag);
        self.buf.extend_from_slice(bits);
    }

    /// `{"variant":`, the opening of an externally tagged enum variant.
    fn open_variant(&mut self, variant: &str) {
        self.objects = true;
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
        if std::mem::size_of_val(&v) > 8 {
            this.decline()?;
        }
        this.lit_open();
        int(this.buf, v);
        Ok(())
    });
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if self.strict {
            return self.serialize_f64(v as f64);
        }
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
        self.decline()?;
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
        self.decline()?;
        Ok(Compound::variant(self, variant, b"[", b"]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'p, 'a>, Error> {
        self.decline()?;
        self.objects = true;
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
        self.decline()?;
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
    #[inline]
    fn new(p: &'p mut Packer<'a>, close: &'static [u8]) -> Self {
        p.depth += 1;
        p.max_depth = p.max_depth.max(p.depth);
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
        self.p.depth -= 1;
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
