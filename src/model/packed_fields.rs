//! A hand-built event's own fields, packed as they are added.
//!
//! `Event::add_field` serializes its value on the spot into the event's one
//! buffer, as segments ([`crate::json::segments::Packer`]): no `Value`
//! tree, no allocation per key or per string, and the worker only escapes
//! the strings and formats the floats. Reading a field back
//! (`Event::get`, hooks, filters) decodes it; a hook that asks for a map
//! (`Event::fields_mut`) turns the list into one first.
//!
//! Entry: `u32` entry length (header included), `u32` key length, `u32`
//! nesting depth of the value (0 for a scalar, 1 for an array or object of
//! scalars, …; the top bit set when it holds an object), the key's bytes
//! as they are, then the value's segments.
//! Entries are in the order their keys were first added; a key added again
//! keeps its place and takes the new value.

use std::ops::Range;

use serde::Serialize;
use serde_json::Value;

use crate::json::segments::{self, Packer};

const ENTRY_HEADER: usize = 12;

/// The depth word's bit for "holds an object".
const HAS_OBJECT: u32 = 1 << 31;

/// Room reserved by the first field: most hand-built events fit in it.
const FIRST_CAPACITY: usize = 512;

/// The largest buffer a thread keeps for its next event.
const KEEP_CAPACITY: usize = 4096;

thread_local! {
    /// The buffer of the last event this thread dropped (sent), for its
    /// next one: a steady stream of hand-built events allocates nothing.
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The packed fields of one event.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct PackedFields {
    buf: Vec<u8>,
    len: usize,
    /// A bit per key (by [`key_bit`]): a key whose bit is clear is absent.
    keys: u64,
    /// Whether any value is or holds an object.
    objects: bool,
    /// The deepest value's nesting depth.
    depth: u32,
}

impl Drop for PackedFields {
    fn drop(&mut self) {
        let cap = self.buf.capacity();
        if cap > 0 && cap <= KEEP_CAPACITY {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            // Not there when the thread is exiting: the buffer is freed.
            let _ = SPARE.try_with(|spare| drop(spare.replace(buf)));
        }
    }
}

/// A key's bit in [`PackedFields::keys`]: a cheap hash of its length and
/// its last byte.
#[inline]
fn key_bit(key: &[u8]) -> u64 {
    let last = key.last().copied().unwrap_or(0) as usize;
    1 << ((key.len() * 7 + last) & 63)
}

/// One packed field.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The key's bytes (copied from a `&str`).
    pub(crate) key_bytes: &'a [u8],
    /// Nesting depth of the value (0: a scalar).
    pub(crate) depth: u32,
    /// Whether the value is or holds an object.
    pub(crate) has_object: bool,
    /// The value's segments.
    value: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The key.
    pub(crate) fn key(&self) -> &'a str {
        // Keys are copied from `&str`s and only ever cut on entry bounds.
        std::str::from_utf8(self.key_bytes).unwrap_or_default()
    }

    /// The value, as a `Value`.
    ///
    /// A string or a float is read as it was written; anything else
    /// through its JSON text (so a float inside an array reads back as the
    /// text says, which for an `f32` is its shortest form, not its widened
    /// bits).
    pub(crate) fn to_value(self) -> Value {
        use serde::Deserialize;
        if let Some(v) = segments::as_scalar(self.value) {
            return v;
        }
        let mut text = Vec::with_capacity(self.value.len() + 8);
        // Written by a `Packer` from a value it accepted: both steps only
        // fail on a corrupt buffer, which would be a bug; `null` then.
        if segments::write_segments(self.value, &mut text).is_err() {
            return Value::Null;
        }
        let mut de = serde_json::Deserializer::from_slice(&text);
        // As deep as it was serialized (the worker refuses it later if it
        // is deeper than anything sent).
        de.disable_recursion_limit();
        Value::deserialize(&mut de).unwrap_or(Value::Null)
    }

    /// The value when it is a string.
    pub(crate) fn as_str(&self) -> Option<&'a str> {
        segments::as_str(self.value)
    }

    /// The value's segments (its object keys are in them as JSON text,
    /// quoted and escaped; its strings as they are).
    pub(crate) fn segments(&self) -> &'a [u8] {
        self.value
    }

    /// Whether the value is an array or an object.
    pub(crate) fn is_container(&self) -> bool {
        self.depth > 0
    }

    /// Appends the value's JSON text.
    pub(crate) fn write_value(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        segments::write_segments(self.value, out)
    }
}

/// The entries of a buffer, in order.
struct Entries<'a> {
    buf: &'a [u8],
}

/// An entry's parts, before its key is read as a `str`.
struct Raw<'a> {
    key: &'a [u8],
    depth: u32,
    value: &'a [u8],
    len: usize,
}

impl<'a> Entries<'a> {
    /// The next entry, its key as bytes.
    #[inline]
    fn next_raw(&mut self) -> Option<Raw<'a>> {
        let b = self.buf;
        let (head, _) = b.split_first_chunk::<ENTRY_HEADER>()?;
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let (len, key_len, depth) = (word(0) as usize, word(4) as usize, word(8));
        let (entry, rest) = b.split_at_checked(len)?;
        let (key, value) = entry.get(ENTRY_HEADER..)?.split_at_checked(key_len)?;
        self.buf = rest;
        Some(Raw {
            key,
            depth,
            value,
            len,
        })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let raw = self.next_raw()?;
        Some(Entry {
            key_bytes: raw.key,
            depth: raw.depth & !HAS_OBJECT,
            has_object: raw.depth & HAS_OBJECT != 0,
            value: raw.value,
        })
    }
}

impl PackedFields {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Entry<'_>> {
        Entries { buf: &self.buf }
    }

    /// Where the entry for `key` is among the first `end` bytes.
    #[inline]
    fn position(&self, key: &str, end: usize) -> Option<Range<usize>> {
        let mut entries = Entries {
            buf: self.buf.get(..end)?,
        };
        let mut at = 0;
        while let Some(raw) = entries.next_raw() {
            if raw.key == key.as_bytes() {
                return Some(at..at + raw.len);
            }
            at += raw.len;
        }
        None
    }

    pub(crate) fn get(&self, key: &str) -> Option<Entry<'_>> {
        if self.keys & key_bit(key.as_bytes()) == 0 {
            return None;
        }
        let r = self.position(key, self.buf.len())?;
        Entries {
            buf: &self.buf[r.start..],
        }
        .next()
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.keys & key_bit(key.as_bytes()) != 0 && self.position(key, self.buf.len()).is_some()
    }

    /// Whether any value is or holds an object.
    pub(crate) fn has_objects(&self) -> bool {
        self.objects
    }

    /// The deepest value's nesting depth (0: all scalars).
    pub(crate) fn max_depth(&self) -> u32 {
        self.depth
    }

    /// Appends `other`'s fields to these, which must have none of its keys
    /// (an event starting with its builder's fields).
    pub(crate) fn append(&mut self, other: &PackedFields) {
        debug_assert!(other.iter().all(|e| !self.contains_key(e.key())));
        if other.is_empty() {
            return;
        }
        if self.buf.capacity() == 0 {
            self.buf = SPARE.try_with(|spare| spare.take()).unwrap_or_default();
            self.buf.reserve(FIRST_CAPACITY.max(other.buf.len()));
        }
        self.buf.extend_from_slice(&other.buf);
        self.len += other.len;
        self.keys |= other.keys;
        self.objects |= other.objects;
        self.depth = self.depth.max(other.depth);
    }

    /// Recomputes the summary after a value was replaced or removed.
    fn summarize(&mut self) {
        let (mut keys, mut objects, mut depth) = (0, false, 0);
        for e in self.iter() {
            keys |= key_bit(e.key_bytes);
            objects |= e.has_object;
            depth = depth.max(e.depth);
        }
        (self.keys, self.objects, self.depth) = (keys, objects, depth);
    }

    /// Adds `key` with `value` serialized, as `serde_json::to_value` would
    /// make it (see [`Packer::strict`]; what the packer declines goes
    /// through `to_value`). On error (what `to_value` refuses, or a
    /// non-finite number, which it would make `null`) the fields are
    /// unchanged and the reason is returned, the same reason as
    /// `json::to_value_checked` gives.
    pub(crate) fn add<V: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &V,
    ) -> Result<(), String> {
        self.add_with(key, value, true)
    }

    /// [`PackedFields::add`] for a `Value`, which packs as it is. A value
    /// nested deeper than anything sent is refused (serializing it would
    /// recurse that deep): the caller keeps it whole, and the worker
    /// rejects it without recursion.
    pub(crate) fn add_value(&mut self, key: &str, value: &Value) -> Result<(), String> {
        if deeper_than(value, crate::json::MAX_DEPTH) {
            return Err("nested too deep to pack".into());
        }
        self.add_with(key, value, false)
    }

    #[inline]
    fn add_with<V: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &V,
        strict: bool,
    ) -> Result<(), String> {
        if self.buf.capacity() == 0 {
            self.buf = SPARE.try_with(|spare| spare.take()).unwrap_or_default();
            if self.buf.capacity() == 0 {
                self.buf.reserve(FIRST_CAPACITY);
            }
        }
        let start = self.buf.len();
        let key_len = u32::try_from(key.len()).map_err(|_| "key too long".to_owned())?;
        let [a, b, c, d] = key_len.to_le_bytes();
        self.buf.reserve(ENTRY_HEADER + key.len() + 16);
        self.buf
            .extend_from_slice(&[0, 0, 0, 0, a, b, c, d, 0, 0, 0, 0]);
        self.buf.extend_from_slice(key.as_bytes());
        let value_start = self.buf.len();
        // A `Serialize` that panics leaves the fields as they were.
        let mut guard = Rollback {
            buf: &mut self.buf,
            to: start,
        };
        let packed = pack_value(guard.buf, value, strict);
        let packed = match packed {
            Err(Declined) => {
                guard.buf.truncate(value_start);
                match crate::json::to_value_checked(value) {
                    Ok(v) => match pack_value(guard.buf, &v, false) {
                        Ok(r) => r.map_err(Some),
                        Err(Declined) => Err(None),
                    },
                    Err(reason) => Err(Some(reason)),
                }
            }
            Ok(r) => r.map_err(Some),
        };
        guard.to = usize::MAX;
        drop(guard);
        let (depth, failed) = match packed {
            Ok(depth) => (depth, None),
            Err(reason) => (
                0,
                Some(reason.unwrap_or_else(|| "value cannot be packed".into())),
            ),
        };
        let failed = failed.or_else(|| {
            (self.buf.len() - start > u32::MAX as usize).then(|| "value too long".into())
        });
        if let Some(reason) = failed {
            self.buf.truncate(start);
            return Err(reason);
        }
        let entry_len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&entry_len.to_le_bytes());
        self.buf[start + 8..start + 12].copy_from_slice(&depth.to_le_bytes());
        // The last value wins, in the first one's place.
        let bit = key_bit(key.as_bytes());
        let old = if self.keys & bit != 0 {
            self.position(key, start)
        } else {
            None
        };
        match old {
            None => {
                self.len += 1;
                self.keys |= bit;
                self.objects |= depth & HAS_OBJECT != 0;
                self.depth = self.depth.max(depth & !HAS_OBJECT);
            }
            Some(old) => {
                let new = self.buf.split_off(start);
                self.buf.splice(old, new);
                self.summarize();
            }
        }
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let range = self.position(key, self.buf.len())?;
        let value = self.get(key)?.to_value();
        self.buf.drain(range);
        self.len -= 1;
        self.summarize();
        Some(value)
    }

    /// The buffer: what [`write_object`] reads.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The fields as keys and values, in order.
    pub(crate) fn to_pairs(&self) -> Vec<(String, Value)> {
        self.iter()
            .map(|e| (e.key().to_owned(), e.to_value()))
            .collect()
    }
}

/// Whether `v` nests arrays and objects more than `limit` deep (measured
/// without recursion, and only as far as `limit`).
#[inline]
fn deeper_than(v: &Value, limit: usize) -> bool {
    if !(v.is_array() || v.is_object()) {
        return false;
    }
    deeper_than_slow(v, limit)
}

fn deeper_than_slow(v: &Value, limit: usize) -> bool {
    let is_container = |v: &Value| v.is_array() || v.is_object();
    // One level at a time: the containers at depth `depth`.
    let mut level = vec![v];
    let mut depth = 0;
    while !level.is_empty() {
        depth += 1;
        if depth > limit {
            return true;
        }
        level = level
            .into_iter()
            .flat_map(|v| -> Box<dyn Iterator<Item = &Value>> {
                match v {
                    Value::Array(a) => Box::new(a.iter()),
                    Value::Object(m) => Box::new(m.values()),
                    _ => Box::new(std::iter::empty()),
                }
            })
            .filter(|c| is_container(c))
            .collect();
    }
    false
}

/// A strict packer declined the value (it goes through `to_value`).
struct Declined;

/// Packs `value` at the end of `buf`: its depth word (depth, and
/// [`HAS_OBJECT`]), or why it cannot be sent. `buf` may hold a partial
/// value on error; the caller truncates it.
#[inline(always)]
fn pack_value<V: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    value: &V,
    strict: bool,
) -> Result<Result<u32, String>, Declined> {
    let mut packer = if strict {
        Packer::strict(buf)
    } else {
        Packer::new(buf)
    };
    let written = value.serialize(&mut packer);
    packer.finish();
    if packer.declined() {
        return Err(Declined);
    }
    let depth =
        packer.max_depth().min(!HAS_OBJECT) | if packer.wrote_object() { HAS_OBJECT } else { 0 };
    Ok(match written {
        Err(e) => Err(e.to_string()),
        Ok(()) if packer.wrote_nonfinite() => crate::json::finite(value).map(|()| depth),
        Ok(()) => Ok(depth),
    })
}

/// Truncates the buffer back to `to` when dropped (unless `to` is
/// `usize::MAX`): a value whose `Serialize` panics leaves nothing behind.
struct Rollback<'a> {
    buf: &'a mut Vec<u8>,
    to: usize,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.to != usize::MAX {
            self.buf.truncate(self.to);
        }
    }
}

/// Appends the JSON object of `bytes`, a [`PackedFields`] buffer (a
/// packed record's body): its keys escaped, its values finished.
pub(crate) fn write_object(bytes: &[u8], out: &mut Vec<u8>) -> serde_json::Result<()> {
    let mut sep = b'{';
    let mut entries = Entries { buf: bytes };
    let mut seen = 0;
    while let Some(raw) = entries.next_raw() {
        out.push(sep);
        sep = b',';
        crate::json::escape::write_utf8(out, raw.key);
        out.push(b':');
        segments::write_segments(raw.value, out)?;
        seen += raw.len;
    }
    if seen != bytes.len() {
        return Err(serde::ser::Error::custom("corrupt packed event"));
    }
    if sep == b'{' {
        out.push(b'{');
    }
    out.push(b'}');
    Ok(())
}

impl std::fmt::Debug for PackedFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|e| (e.key(), e.to_value())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &PackedFields) -> Vec<(String, Value)> {
        p.to_pairs()
    }

    #[test]
    fn values_read_back_as_serde_json_makes_them() {
        let mut p = PackedFields::default();
        let nested = json!({"a": [1, {"b": [true, null, "x\"y"]}], "c": 2.5});
        p.add("s", "text \"quoted\"\n").unwrap();
        p.add("empty", "").unwrap();
        p.add("n", &-3i64).unwrap();
        p.add("big", &u64::MAX).unwrap();
        p.add("f", &0.25f64).unwrap();
        p.add("nested", &nested).unwrap();
        p.add("none", &Option::<u8>::None).unwrap();
        assert_eq!(
            pairs(&p),
            vec![
                ("s".into(), json!("text \"quoted\"\n")),
                ("empty".into(), json!("")),
                ("n".into(), json!(-3)),
                ("big".into(), json!(u64::MAX)),
                ("f".into(), json!(0.25)),
                ("nested".into(), nested.clone()),
                ("none".into(), Value::Null),
            ]
        );
        assert_eq!(p.get("s").unwrap().as_str(), Some("text \"quoted\"\n"));
        assert_eq!(p.get("empty").unwrap().as_str(), Some(""));
        assert_eq!(p.get("n").unwrap().as_str(), None);
        assert_eq!(p.get("nested").unwrap().depth, 4);
        assert!(p.get("nested").unwrap().has_object);
        assert_eq!(p.get("f").unwrap().depth, 0);
        assert!(!p.get("f").unwrap().has_object);
        p.add("list", &[[1, 2], [3, 4]]).unwrap();
        assert_eq!(p.get("list").unwrap().depth, 2);
        assert!(!p.get("list").unwrap().has_object);
        let mut text = Vec::new();
        p.get("nested").unwrap().write_value(&mut text).unwrap();
        assert_eq!(text, serde_json::to_vec(&nested).unwrap());
        let mut object = Vec::new();
        write_object(p.bytes(), &mut object).unwrap();
        let map: serde_json::Map<String, Value> = pairs(&p).into_iter().collect();
        assert_eq!(object, serde_json::to_vec(&map).unwrap());
        let mut empty = Vec::new();
        write_object(PackedFields::default().bytes(), &mut empty).unwrap();
        assert_eq!(empty, b"{}");
        assert!(write_object(&p.bytes()[..p.bytes().len() - 1], &mut empty).is_err());
    }

    #[test]
    fn the_last_value_wins_in_the_first_place() {
        let mut p = PackedFields::default();
        p.add("a", &1).unwrap();
        p.add("b", "two").unwrap();
        p.add("c", &3).unwrap();
        p.add("b", &json!(["longer", "value"])).unwrap();
        p.add("a", &0).unwrap();
        assert_eq!(
            pairs(&p),
            vec![
                ("a".into(), json!(0)),
                ("b".into(), json!(["longer", "value"])),
                ("c".into(), json!(3)),
            ]
        );
        assert!(!p.has_objects());
        assert_eq!(p.max_depth(), 1);
        assert_eq!(p.remove("b"), Some(json!(["longer", "value"])));
        assert_eq!(p.remove("b"), None);
        assert!(!p.contains_key("b"));
        assert_eq!(p.max_depth(), 0);
        p.add("o", &json!({"k": 1})).unwrap();
        assert!(p.has_objects());
        p.add("o", &1).unwrap();
        assert!(!p.has_objects());
        // Keys that share a bit are still told apart.
        let mut q = PackedFields::default();
        q.add("ab", &1).unwrap();
        assert_eq!(key_bit(b"ab"), key_bit(b"xb"));
        assert!(!q.contains_key("xb") && q.get("xb").is_none());
        assert_eq!(
            pairs(&p),
            vec![
                ("a".into(), json!(0)),
                ("c".into(), json!(3)),
                ("o".into(), json!(1))
            ]
        );
    }

    #[test]
    fn depth_is_measured_as_far_as_the_limit() {
        assert!(!deeper_than(&json!(1), 0));
        assert!(deeper_than(&json!([]), 0));
        assert!(!deeper_than(&json!([1, {"a": 2}]), 2));
        assert!(deeper_than(&json!([1, {"a": [3]}]), 2));
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert!(deeper_than(&v, 128));
        // A value that deep is refused, not serialized (which recurses).
        let mut p = PackedFields::default();
        assert!(p.add_value("deep", &v).is_err());
        assert!(p.is_empty());
        let mut v = v;
        while let Value::Array(mut a) = v {
            v = a.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn a_sent_events_buffer_is_the_next_ones() {
        let mut first = PackedFields::default();
        first.add("a", "x").unwrap();
        let at = first.bytes().as_ptr();
        drop(first);
        let mut next = PackedFields::default();
        next.add("b", &2).unwrap();
        assert_eq!(next.bytes().as_ptr(), at, "the same buffer");
        assert_eq!(next.to_pairs(), vec![("b".to_owned(), json!(2))]);
        // A big buffer is not kept.
        let mut big = PackedFields::default();
        big.add("s", &"x".repeat(KEEP_CAPACITY * 2)).unwrap();
        drop(big);
        drop(next);
        let mut after = PackedFields::default();
        after.add("c", &3).unwrap();
        assert!(after.buf.capacity() <= KEEP_CAPACITY);
    }

    #[test]
    fn a_refused_value_leaves_the_fields_as_they_were() {
        let mut p = PackedFields::default();
        p.add("a", &1).unwrap();
        let before = p.clone();
        let err = p.add("nan", &[1.0, f64::NAN]).unwrap_err();
        assert!(err.contains("non-finite"), "{err}");
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1);
        let err = p.add("map", &bad).unwrap_err();
        assert_eq!(err, serde_json::to_value(&bad).unwrap_err().to_string());
        assert_eq!(p, before);
    }
}
