//! A compact JSON serializer into a `Vec<u8>`: the bytes `serde_json`
//! writes, with the faster string escaping of [`super::escape`].
//!
//! The worker encodes every event through here (typed structs, field maps,
//! `serde_json::Value`s). Numbers are formatted by `serde_json`'s own
//! [`CompactFormatter`] (and `itoa`), so they are written exactly as
//! `serde_json::to_writer` would; the tests here and `tests/properties.rs`
//! (any event, through the public encoder) compare the two byte for byte.
//!
//! Map keys follow `serde_json`: strings and chars, and integers, finite
//! floats and booleans written as strings; any other key is an error, as it
//! is there.

use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Error;

use super::escape::write_str;

/// Appends the compact JSON of `value` to `buf`. On error `buf` may hold a
/// partial value; callers truncate it.
#[inline]
pub(crate) fn write<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Serializer { buf })
}

/// Appends `key` as a JSON object key, by `serde_json`'s rules for keys.
pub(crate) fn write_key<T: Serialize + ?Sized>(buf: &mut Vec<u8>, key: &T) -> Result<(), Error> {
    key.serialize(KeySerializer { buf })
}

/// Writes into the buffer it borrows.
pub(crate) struct Serializer<'a> {
    buf: &'a mut Vec<u8>,
}

pub(crate) fn int<I: itoa::Integer>(buf: &mut Vec<u8>, v: I) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// The ten integer methods of a serializer, each running `$body` with
/// the serializer and the value.
macro_rules! integers {
    (|$this:ident, $v:ident| $body:block) => {
        integers!(@each |$this, $v| $body;
            serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
            serialize_i128(i128), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
            serialize_u64(u64), serialize_u128(u128));
    };
    (@each |$this:ident, $v:ident| $body:block; $($m:ident($t:ty)),*) => {$(
        fn $m(self, $v: $t) -> Result<(), Error> {
            let $this = self;
            $body
        }
    )*};
}
pub(crate) use integers;

/// `{"variant":` — the opening of an externally tagged enum variant.
fn open_variant(buf: &mut Vec<u8>, variant: &str) {
    buf.push(b'{');
    write_str(buf, variant);
    buf.push(b':');
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(|this, v| {
        int(this.buf, v);
        Ok(())
    });
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // As serde_json: a non-finite float is written as `null` (the
        // worker rejects such events before they get here).
        if v.is_finite() {
            CompactFormatter.write_f32(self.buf, v).map_err(Error::io)
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if v.is_finite() {
            CompactFormatter.write_f64(self.buf, v).map_err(Error::io)
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.buf, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.buf, v);
        Ok(())
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
        self.buf.extend_from_slice(b"null");
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
        self.serialize_str(variant)
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
        open_variant(self.buf, variant);
        v.serialize(Serializer {
            buf: &mut *self.buf,
        })?;
        self.buf.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.buf.push(b'[');
        Ok(Compound::new(self.buf, b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        open_variant(self.buf, variant);
        self.buf.push(b'[');
        Ok(Compound::new(self.buf, b"]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.buf.push(b'{');
        Ok(Compound::new(self.buf, b"}"))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        open_variant(self.buf, variant);
        self.buf.push(b'{');
        Ok(Compound::new(self.buf, b"}}"))
    }
}

/// An array or object being written; `close` is what `end` appends.
pub(crate) struct Compound<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
    close: &'static [u8],
}

impl<'a> Compound<'a> {
    fn new(buf: &'a mut Vec<u8>, close: &'static [u8]) -> Self {
        Compound {
            buf,
            first: true,
            close,
        }
    }

    #[inline]
    fn comma(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.comma();
        v.serialize(Serializer {
            buf: &mut *self.buf,
        })
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), Error> {
        self.comma();
        write_str(self.buf, key);
        self.buf.push(b':');
        v.serialize(Serializer {
            buf: &mut *self.buf,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.buf.extend_from_slice(self.close);
        Ok(())
    }
}

macro_rules! sequence {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
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
        impl ser::$tr for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
                self.field(key, v)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}
structure!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(KeySerializer {
            buf: &mut *self.buf,
        })?;
        self.buf.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(Serializer {
            buf: &mut *self.buf,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// Writes a map key as a JSON string.
struct KeySerializer<'a> {
    buf: &'a mut Vec<u8>,
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

fn float_key_must_be_finite() -> Error {
    ser::Error::custom("float key must be finite")
}

macro_rules! refuse {
    ($($m:ident($($t:ty),*)),*) => {$(
        fn $m(self, $(_: $t),*) -> Result<(), Error> {
            Err(key_must_be_a_string())
        }
    )*};
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.buf, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.buf, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.buf
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }
    integers!(|this, v| {
        this.buf.push(b'"');
        int(this.buf, v);
        this.buf.push(b'"');
        Ok(())
    });
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.buf.push(b'"');
        CompactFormatter.write_f32(self.buf, v).map_err(Error::io)?;
        self.buf.push(b'"');
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.buf.push(b'"');
        CompactFormatter.write_f64(self.buf, v).map_err(Error::io)?;
        self.buf.push(b'"');
        Ok(())
    }
    refuse!(
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str)
    );
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    fn ours<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        write(&mut buf, v).expect("serialize");
        buf
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { a: f64, b: Option<bool> },
    }

    #[derive(Serialize)]
    struct S<'a> {
        s: &'a str,
        c: char,
        i: i64,
        u: u128,
        f: f32,
        nan: f64,
        bytes: &'a [u8],
        unit: (),
        tuple: (u8, &'a str),
        enums: Vec<E>,
        ints: BTreeMap<i32, u8>,
        bools: BTreeMap<bool, u8>,
        floats: Vec<(f32, f64)>,
        nested: Value,
    }

    #[test]
    fn every_kind_of_value_matches_serde_json() {
        let v = S {
            s: "a \"quoted\"\nline",
            c: '"',
            i: i64::MIN,
            u: u128::MAX,
            f: 1.1,
            nan: f64::NAN,
            bytes: &[0, 255],
            unit: (),
            tuple: (7, "x"),
            enums: vec![
                E::Unit,
                E::Newtype(3),
                E::Tuple(1, "t".into()),
                E::Struct { a: -0.5, b: None },
            ],
            ints: [(-1, 1), (2, 2)].into_iter().collect(),
            bools: [(true, 1)].into_iter().collect(),
            floats: vec![(1.1, 1.1)],
            nested: json!({"k\u{1}": [1, -2, 3.25, 1e300, null, {"x": "y"}, []], "e": {}}),
        };
        assert_eq!(
            String::from_utf8(ours(&v)).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
    }

    #[test]
    fn a_non_string_key_is_refused_as_serde_json_does() {
        let m: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        let mut buf = Vec::new();
        let e = write(&mut buf, &m).unwrap_err();
        assert!(e.to_string().contains("key must be a string"), "{e}");
        assert!(serde_json::to_vec(&m).is_err());
    }
}
