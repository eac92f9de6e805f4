//! An event's own fields: packed as they are added, else a small ordered
//! list, not a hash map.
//!
//! Fields start packed ([`PackedFields`]: one buffer, the values already
//! serialized). Code that needs them as values to change (the params
//! filter scrubbing `params`) turns them into a list of pairs: events have
//! a handful of fields, so a `Vec` searched linearly is both faster and
//! lighter than a map.
//! Keys that a builder adds to every event (its dynamic fields) are shared
//! (`Arc` of a [`CachePadded`], so the value is not on the reference
//! count's cache line, which every new event writes), not copied per event. The list turns into a
//! [`Fields`] map only when someone asks for one
//! (`Event::fields_mut`).

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::packed_fields::{Entry, PackedFields};

use crossbeam_utils::CachePadded;
use serde_json::Map;

/// A JSON object: the fields of an event.
pub type Fields = Map<String, Value>;

/// Fields shared by many events (a builder's fields, the event context),
/// kept off their reference count's cache line: each new event writes the
/// count while the worker, on another core, reads the value.
pub(crate) type SharedFields = Arc<CachePadded<Fields>>;

/// A key many events share (a builder's dynamic-field names).
pub(crate) type SharedKey = Arc<CachePadded<Box<str>>>;

/// Room reserved by the first insert: enough for most hand-built events.
const FIRST_CAPACITY: usize = 8;

/// A field name, owned or shared.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Owned(String),
    Shared(SharedKey),
}

impl Key {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Owned(s) => s,
            Key::Shared(s) => s,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Owned(s) => s,
            Key::Shared(s) => s.to_string(),
        }
    }
}

/// The fields added to an event, in the order they were first added; a key
/// added again keeps its place and takes the new value.
#[derive(Clone, Debug)]
pub(crate) enum FieldList {
    Packed(PackedFields),
    List(Vec<(Key, Value)>),
    Map(Box<Fields>),
}

impl Default for FieldList {
    fn default() -> Self {
        FieldList::Packed(PackedFields::default())
    }
}

/// A field's value, as it is kept.
#[derive(Clone, Copy)]
pub(crate) enum FieldRef<'a> {
    Value(&'a Value),
    Packed(Entry<'a>),
}

impl<'a> FieldRef<'a> {
    /// The value.
    pub(crate) fn to_value(self) -> Value {
        match self {
            FieldRef::Value(v) => v.clone(),
            FieldRef::Packed(e) => e.to_value(),
        }
    }

    /// The value when it is a string.
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Value(v) => v.as_str(),
            FieldRef::Packed(e) => e.as_str(),
        }
    }

    /// Appends `"key":value` (no separator).
    pub(crate) fn write_entry(self, buf: &mut Vec<u8>, key: &str) -> serde_json::Result<()> {
        match self {
            FieldRef::Value(v) => crate::json::write_entry(buf, key, v),
            FieldRef::Packed(e) => {
                crate::json::escape::write_str(buf, key);
                buf.push(b':');
                e.write_value(buf)
            }
        }
    }
}

impl std::fmt::Debug for FieldRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldRef::Value(v) => v.fmt(f),
            FieldRef::Packed(e) => e.to_value().fmt(f),
        }
    }
}

impl FieldList {
    pub(crate) fn from_map(map: Fields) -> Self {
        if map.is_empty() {
            return Self::default();
        }
        FieldList::List(map.into_iter().map(|(k, v)| (Key::Owned(k), v)).collect())
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            FieldList::Packed(p) => p.is_empty(),
            FieldList::List(l) => l.is_empty(),
            FieldList::Map(m) => m.is_empty(),
        }
    }

    /// The packed fields, while the fields are packed.
    pub(crate) fn as_packed(&self) -> Option<&PackedFields> {
        match self {
            FieldList::Packed(p) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<FieldRef<'_>> {
        match self {
            FieldList::Packed(p) => p.get(key).map(FieldRef::Packed),
            FieldList::List(l) => l
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| FieldRef::Value(v)),
            FieldList::Map(m) => m.get(key).map(FieldRef::Value),
        }
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        match self {
            FieldList::Packed(p) => p.contains_key(key),
            _ => self.get(key).is_some(),
        }
    }

    /// Adds `key` with `value` serialized, refusing what JSON cannot hold
    /// (the reason is returned; the fields are then unchanged).
    pub(crate) fn add<V: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &V,
    ) -> Result<(), String> {
        match self {
            FieldList::Packed(p) => p.add(key, value),
            _ => {
                let v = crate::json::to_value_checked(value)?;
                self.insert(Key::Owned(key.to_owned()), v);
                Ok(())
            }
        }
    }

    /// [`FieldList::insert`] for a key given by reference: `owned()` makes
    /// the owned key only if the fields are not packed.
    pub(crate) fn insert_with(&mut self, key: &str, value: Value, owned: impl FnOnce() -> Key) {
        if !self.packed_in(key, &value) {
            self.insert_unpacked(owned(), value);
        }
    }

    /// Starts packed fields with `first` (a builder's).
    pub(crate) fn append_packed(&mut self, first: &PackedFields) {
        match self {
            FieldList::Packed(p) => p.append(first),
            _ => {
                for e in first.iter() {
                    self.insert(Key::Owned(e.key().to_owned()), e.to_value());
                }
            }
        }
    }

    pub(crate) fn insert(&mut self, key: Key, value: Value) {
        if !self.packed_in(key.as_str(), &value) {
            self.insert_unpacked(key, value);
        }
    }

    /// Packs `key` and `value` when the fields are packed and the value can
    /// be (see [`PackedFields::add_value`]); when it cannot, the fields
    /// become a list, which keeps it whole. `false`: not packed.
    fn packed_in(&mut self, key: &str, value: &Value) -> bool {
        let FieldList::Packed(p) = self else {
            return false;
        };
        if p.add_value(key, value).is_ok() {
            return true;
        }
        self.unpack();
        false
    }

    /// Inserts into a list or a map.
    fn insert_unpacked(&mut self, key: Key, value: Value) {
        match self {
            FieldList::List(l) => {
                if let Some(slot) = l.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
                    slot.1 = value;
                } else {
                    if l.capacity() == 0 {
                        l.reserve_exact(FIRST_CAPACITY);
                    }
                    l.push((key, value));
                }
            }
            FieldList::Map(m) => {
                m.insert(key.into_string(), value);
            }
            FieldList::Packed(_) => {
                self.unpack();
                self.insert_unpacked(key, value);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        match self {
            FieldList::Packed(p) => p.remove(key),
            FieldList::List(l) => {
                let i = l.iter().position(|(k, _)| k.as_str() == key)?;
                Some(l.remove(i).1)
            }
            FieldList::Map(m) => m.shift_remove(key),
        }
    }

    /// Turns packed fields into a list of values (to be changed in place).
    fn unpack(&mut self) {
        if let FieldList::Packed(p) = self {
            let list = p
                .to_pairs()
                .into_iter()
                .map(|(k, v)| (Key::Owned(k), v))
                .collect();
            *self = FieldList::List(list);
        }
    }

    /// The fields as a map, converting the list once.
    pub(crate) fn map_mut(&mut self) -> &mut Fields {
        self.unpack();
        if let FieldList::List(l) = self {
            let map: Fields = std::mem::take(l)
                .into_iter()
                .map(|(k, v)| (k.into_string(), v))
                .collect();
            *self = FieldList::Map(Box::new(map));
        }
        match self {
            FieldList::Map(m) => m,
            // Converted just above.
            _ => unreachable!("own fields were converted to a map"),
        }
    }

    /// Takes the fields out as a map.
    pub(crate) fn take_map(&mut self) -> Fields {
        std::mem::take(self.map_mut())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, FieldRef<'_>)> {
        let (packed, list, map) = match self {
            FieldList::Packed(p) => (Some(p), None, None),
            FieldList::List(l) => (None, Some(l), None),
            FieldList::Map(m) => (None, None, Some(m)),
        };
        packed
            .into_iter()
            .flat_map(|p| p.iter().map(|e| (e.key(), FieldRef::Packed(e))))
            .chain(
                list.into_iter()
                    .flat_map(|l| l.iter().map(|(k, v)| (k.as_str(), FieldRef::Value(v)))),
            )
            .chain(
                map.into_iter()
                    .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), FieldRef::Value(v)))),
            )
    }

    /// The fields as values to change in place (packed fields are turned
    /// into a list first).
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        self.unpack();
        let (list, map) = match self {
            FieldList::List(l) => (Some(l), None),
            FieldList::Map(m) => (None, Some(m)),
            FieldList::Packed(_) => (None, None),
        };
        list.into_iter()
            .flat_map(|l| l.iter_mut().map(|(k, v)| (k.as_str(), v)))
            .chain(
                map.into_iter()
                    .flat_map(|m| m.iter_mut().map(|(k, v)| (k.as_str(), v))),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ported from the hand-written `Padded` this replaced: in a shared
    /// value, the value starts two cache lines after the reference count
    /// (crossbeam pads to 128 bytes on x86-64).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_value_starts_two_cache_lines_after_the_count() {
        let shared: SharedFields = Arc::new(CachePadded::new(Fields::new()));
        let value = &**shared as *const Fields as usize;
        assert_eq!(value % 128, 0);
        let counts = Arc::as_ptr(&shared) as usize - 128;
        assert!(value - counts >= 128);
    }
    use serde_json::json;

    #[test]
    fn a_value_too_deep_to_pack_is_kept_whole() {
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let mut f = FieldList::default();
        f.insert(Key::Owned("a".into()), json!(1));
        f.insert(Key::Owned("deep".into()), v);
        assert!(matches!(f, FieldList::List(_)));
        assert_eq!(f.get("a").map(FieldRef::to_value), Some(json!(1)));
        // Taken apart iteratively: serde_json's drop would recurse.
        let mut v = f.remove("deep").unwrap();
        while let Value::Array(mut a) = v {
            v = a.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn last_value_wins_and_first_position_stays() {
        let mut f = FieldList::List(Vec::new());
        f.insert(Key::Owned("a".into()), json!(1));
        f.insert(
            Key::Shared(Arc::new(CachePadded::new("b".into()))),
            json!(2),
        );
        f.insert(Key::Owned("a".into()), json!(3));
        let got: Vec<_> = f
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_value()))
            .collect();
        assert_eq!(got, vec![("a".into(), json!(3)), ("b".into(), json!(2))]);
        assert_eq!(f.remove("a"), Some(json!(3)));
        assert!(f.get("a").is_none());
        let map = f.map_mut();
        map.insert("c".into(), json!(4));
        assert_eq!(f.iter().count(), 2);
        assert_eq!(f.get("c").map(FieldRef::to_value), Some(json!(4)));
    }
}
