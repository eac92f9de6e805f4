//! An event's own fields: a small ordered list, not a hash map.
//!
//! Part of `model` (layer 1); uses serde_json and crossbeam's `CachePadded`.
//!
//! Events have a handful of fields, so a `Vec` of pairs searched linearly is
//! both faster and lighter than a map: one allocation for the whole list,
//! and none at all for an event that has no own fields (a typed event).
//! Keys that a builder adds to every event (its dynamic fields) are shared
//! (`Arc` of a [`CachePadded`], so the value is not on the reference
//! count's cache line, which every new event writes), not copied per event. The list turns into a
//! [`Fields`] map only when someone asks for one
//! (`Event::fields_mut`).

use std::sync::Arc;

use serde_json::Value;

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
    List(Vec<(Key, Value)>),
    Map(Box<Fields>),
}

impl Default for FieldList {
    fn default() -> Self {
        FieldList::List(Vec::new())
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
            FieldList::List(l) => l.is_empty(),
            FieldList::Map(m) => m.is_empty(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            FieldList::List(l) => l.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v),
            FieldList::Map(m) => m.get(key),
        }
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn insert(&mut self, key: Key, value: Value) {
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
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        match self {
            FieldList::List(l) => {
                let i = l.iter().position(|(k, _)| k.as_str() == key)?;
                Some(l.remove(i).1)
            }
            FieldList::Map(m) => m.shift_remove(key),
        }
    }

    /// The fields as a map, converting the list once.
    pub(crate) fn map_mut(&mut self) -> &mut Fields {
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
            FieldList::List(_) => unreachable!("own fields were converted to a map"),
        }
    }

    /// Takes the fields out as a map.
    pub(crate) fn take_map(&mut self) -> Fields {
        std::mem::take(self.map_mut())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let (list, map) = match self {
            FieldList::List(l) => (Some(l), None),
            FieldList::Map(m) => (None, Some(m)),
        };
        list.into_iter()
            .flat_map(|l| l.iter().map(|(k, v)| (k.as_str(), v)))
            .chain(
                map.into_iter()
                    .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v))),
            )
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        let (list, map) = match self {
            FieldList::List(l) => (Some(l), None),
            FieldList::Map(m) => (None, Some(m)),
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
    fn last_value_wins_and_first_position_stays() {
        let mut f = FieldList::default();
        f.insert(Key::Owned("a".into()), json!(1));
        f.insert(
            Key::Shared(Arc::new(CachePadded::new("b".into()))),
            json!(2),
        );
        f.insert(Key::Owned("a".into()), json!(3));
        let got: Vec<_> = f.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect();
        assert_eq!(got, vec![("a".into(), json!(3)), ("b".into(), json!(2))]);
        assert_eq!(f.remove("a"), Some(json!(3)));
        assert_eq!(f.get("a"), None);
        let map = f.map_mut();
        map.insert("c".into(), json!(4));
        assert_eq!(f.iter().count(), 2);
        assert_eq!(f.get("c"), Some(&json!(4)));
    }
}
