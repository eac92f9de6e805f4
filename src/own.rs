//! An event's own fields: a small ordered list, not a hash map.
//!
//! Events have a handful of fields, so a `Vec` of pairs searched linearly is
//! both faster and lighter than a map: one allocation for the whole list,
//! and none at all for an event that has no own fields (a typed event).
//! Keys that a builder adds to every event (its dynamic fields) are shared
//! (`Arc`, see [`crate::padded`]), not copied per event. The list turns into a
//! [`Fields`](crate::Fields) map only when someone asks for one
//! (`Event::fields_mut`).

use std::sync::Arc;

use serde_json::Value;

use crate::event::Fields;
use crate::padded::Padded;

/// Room reserved by the first insert: enough for most hand-built events.
const FIRST_CAPACITY: usize = 8;

/// A field name, owned or shared.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Owned(String),
    Shared(Arc<Padded<Box<str>>>),
}

impl Key {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Owned(s) => s,
            Key::Shared(s) => &s.0,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Owned(s) => s,
            Key::Shared(s) => s.0.to_string(),
        }
    }
}

/// The fields added to an event, in the order they were first added; a key
/// added again keeps its place and takes the new value.
#[derive(Clone, Debug)]
pub(crate) enum OwnFields {
    List(Vec<(Key, Value)>),
    Map(Box<Fields>),
}

impl Default for OwnFields {
    fn default() -> Self {
        OwnFields::List(Vec::new())
    }
}

impl OwnFields {
    pub(crate) fn from_map(map: Fields) -> Self {
        if map.is_empty() {
            return Self::default();
        }
        OwnFields::List(map.into_iter().map(|(k, v)| (Key::Owned(k), v)).collect())
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            OwnFields::List(l) => l.is_empty(),
            OwnFields::Map(m) => m.is_empty(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            OwnFields::List(l) => l.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v),
            OwnFields::Map(m) => m.get(key),
        }
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn insert(&mut self, key: Key, value: Value) {
        match self {
            OwnFields::List(l) => {
                if let Some(slot) = l.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
                    slot.1 = value;
                } else {
                    if l.capacity() == 0 {
                        l.reserve_exact(FIRST_CAPACITY);
                    }
                    l.push((key, value));
                }
            }
            OwnFields::Map(m) => {
                m.insert(key.into_string(), value);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        match self {
            OwnFields::List(l) => {
                let i = l.iter().position(|(k, _)| k.as_str() == key)?;
                Some(l.remove(i).1)
            }
            OwnFields::Map(m) => m.shift_remove(key),
        }
    }

    /// The fields as a map, converting the list once.
    pub(crate) fn map_mut(&mut self) -> &mut Fields {
        if let OwnFields::List(l) = self {
            let map: Fields = std::mem::take(l)
                .into_iter()
                .map(|(k, v)| (k.into_string(), v))
                .collect();
            *self = OwnFields::Map(Box::new(map));
        }
        match self {
            OwnFields::Map(m) => m,
            // Converted just above.
            OwnFields::List(_) => unreachable!("own fields were converted to a map"),
        }
    }

    /// Takes the fields out as a map.
    pub(crate) fn take_map(&mut self) -> Fields {
        std::mem::take(self.map_mut())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let (list, map) = match self {
            OwnFields::List(l) => (Some(l), None),
            OwnFields::Map(m) => (None, Some(m)),
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
            OwnFields::List(l) => (Some(l), None),
            OwnFields::Map(m) => (None, Some(m)),
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
    use serde_json::json;

    #[test]
    fn last_value_wins_and_first_position_stays() {
        let mut f = OwnFields::default();
        f.insert(Key::Owned("a".into()), json!(1));
        f.insert(
            Key::Shared(Arc::new(crate::padded::Padded("b".into()))),
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
