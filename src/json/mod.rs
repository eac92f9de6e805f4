//! Small JSON helpers: strict conversion (no silent `null` for NaN), and
//! the writer the worker encodes events with ([`compact`], [`escape`]).
//!
//! Layer 0: imports nothing else of the crate. [`escape`] is one of the two
//! modules allowed `unsafe` code (SSE2 string scanning).

use serde::ser::{self, Serialize};
use serde_json::Value;

pub(crate) mod compact;
#[allow(unsafe_code)]
pub(crate) mod escape;
pub(crate) mod segments;

/// Converts to a JSON value, refusing what JSON cannot hold. `serde_json`
/// turns NaN and ±infinity into `null` silently; we report them instead.
pub(crate) fn to_value_checked<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    let v = serde_json::to_value(value).map_err(|e| e.to_string())?;
    // A non-finite float can only have become a `null`: probe only then.
    if contains_null(&v) {
        value.serialize(FiniteProbe).map_err(|e| e.0)?;
    }
    Ok(v)
}

/// Whether every float in `value` is finite (the reason if not).
pub(crate) fn finite<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    value.serialize(FiniteProbe).map_err(|e| e.0)
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(m) => m.values().any(contains_null),
        _ => false,
    }
}

/// Deepest nesting of arrays and objects we send: serde_json (and so most
/// receivers, including this crate's own parsers) refuses deeper documents.
pub(crate) const MAX_DEPTH: usize = 128;

/// A short name for the kind of a JSON value, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Writes `"key":value` (no separator) into `buf`.
pub(crate) fn write_entry(buf: &mut Vec<u8>, key: &str, value: &Value) -> serde_json::Result<()> {
    escape::write_str(buf, key);
    buf.push(b':');
    compact::write(buf, value)
}

#[derive(Debug)]
struct ProbeError(String);
impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ProbeError {}
impl ser::Error for ProbeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ProbeError(msg.to_string())
    }
}

/// A serializer that only checks floats for finiteness.
struct FiniteProbe;

fn check(v: f64) -> Result<(), ProbeError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ProbeError(format!(
            "non-finite number ({v}) cannot be represented in JSON"
        )))
    }
}

macro_rules! ok_scalars {
    ($($m:ident($t:ty)),*) => { $(fn $m(self, _v: $t) -> Result<(), ProbeError> { Ok(()) })* };
}

impl ser::Serializer for FiniteProbe {
    type Ok = ();
    type Error = ProbeError;
    type SerializeSeq = FiniteProbe;
    type SerializeTuple = FiniteProbe;
    type SerializeTupleStruct = FiniteProbe;
    type SerializeTupleVariant = FiniteProbe;
    type SerializeMap = FiniteProbe;
    type SerializeStruct = FiniteProbe;
    type SerializeStructVariant = FiniteProbe;
    ok_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str)
    );
    fn serialize_f32(self, v: f32) -> Result<(), ProbeError> {
        check(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<(), ProbeError> {
        check(v)
    }
    fn serialize_none(self) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), ProbeError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), ProbeError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Result<(), ProbeError> {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, ProbeError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, ProbeError> {
        Ok(self)
    }
}

macro_rules! compound {
    ($tr:ident, $m:ident $(, $key:ty)?) => {
        impl ser::$tr for FiniteProbe {
            type Ok = ();
            type Error = ProbeError;
            fn $m<T: Serialize + ?Sized>(&mut self, $(_k: $key,)? v: &T) -> Result<(), ProbeError> {
                v.serialize(FiniteProbe)
            }
            fn end(self) -> Result<(), ProbeError> {
                Ok(())
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, &'static str);
compound!(SerializeStructVariant, serialize_field, &'static str);

impl ser::SerializeMap for FiniteProbe {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _k: &T) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ProbeError> {
        v.serialize(FiniteProbe)
    }
    fn end(self) -> Result<(), ProbeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_refused_and_null_is_kept() {
        assert!(to_value_checked(&f64::NAN)
            .unwrap_err()
            .contains("non-finite"));
        assert!(to_value_checked(&vec![1.0, f64::INFINITY]).is_err());
        assert_eq!(to_value_checked(&Option::<u8>::None).unwrap(), Value::Null);
        assert_eq!(to_value_checked(&2.5).unwrap(), serde_json::json!(2.5));
    }
}
