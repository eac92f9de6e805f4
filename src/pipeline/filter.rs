//! Params filters, as honeybadger-python applies them: the configured keys
//! are removed from the top level of `params` and `kwargs`, and replaced by
//! `"[FILTERED]"` wherever they appear deeper down.

use serde_json::{Map, Value};

use crate::model::erased::JsonFieldMut;
use crate::model::event::Event;
use crate::model::packed_fields::{Entry, PackedFields};

/// The keys filtered by default.
pub const DEFAULT_FILTER_KEYS: &[&str] = &[
    "password",
    "password_confirmation",
    "credit_card",
    "CSRF_COOKIE",
];

/// The fields whose contents are filtered.
const FILTERED_FIELDS: &[&str] = &["params", "kwargs"];

/// The replacement for a filtered value below the top level.
pub const FILTERED: &str = "[FILTERED]";

/// A set of keys to scrub from `params` and `kwargs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsFilter {
    keys: Vec<String>,
}

impl Default for ParamsFilter {
    fn default() -> Self {
        ParamsFilter::new(DEFAULT_FILTER_KEYS.iter().copied())
    }
}

impl ParamsFilter {
    /// A filter for these keys (compared exactly, as honeybadger-python does).
    pub fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ParamsFilter {
            keys: keys.into_iter().map(Into::into).collect(),
        }
    }

    /// The keys this filter scrubs.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    fn matches(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// Applies the filter to an event's `params` and `kwargs`, and in the
    /// same walk measures the nesting of every free-form field. Returns the
    /// first field nested more than `max_depth` levels deep (the event
    /// object being level 1). Allocates nothing for flat values.
    pub(crate) fn apply(&self, ev: &mut Event, max_depth: usize) -> Option<String> {
        // A top-level value sits at level 2 of the event object.
        let limit = max_depth.saturating_sub(1);
        let mut deep: Option<String> = None;
        // A builder's fields are shared by its events: scalars need nothing,
        // anything else is copied into the event to be filtered and measured.
        if ev
            .builder_layer()
            .is_some_and(|b| b.values().any(|v| v.is_array() || v.is_object()))
        {
            ev.materialize();
        }
        // Packed fields are measured as they are; they are turned into
        // values only when there is something to scrub.
        match ev.own_fields().as_packed() {
            Some(p) if !p.iter().any(|e| self.scrubs(&e)) => {
                deep = p
                    .iter()
                    .find(|e| too_deep(e, limit))
                    .map(|e| e.key().to_owned());
            }
            _ => {
                for (k, v) in ev.own_fields_mut().iter_mut() {
                    let scrub = FILTERED_FIELDS.contains(&k);
                    if self.value(v, scrub, limit) && deep.is_none() {
                        deep = Some(k.to_owned());
                    }
                }
            }
        }
        if let Some(typed) = ev.typed_mut() {
            let typed_deep = self.apply_typed(|f| typed.visit_json_fields_mut(f), max_depth);
            deep = deep.or(typed_deep);
        }
        deep
    }

    /// Whether [`Self::apply`] would leave these packed fields as they are
    /// and find nothing nested too deep.
    pub(crate) fn packed_is_ready(&self, fields: &PackedFields, max_depth: usize) -> bool {
        let limit = max_depth.saturating_sub(1);
        let depth = fields.max_depth() as usize;
        if depth == 0 || (limit >= 1 && depth <= limit && !fields.has_objects()) {
            return true;
        }
        fields
            .iter()
            .all(|e| !e.is_container() || !(self.scrubs(&e) || too_deep(&e, limit)))
    }

    /// Whether this packed field may have keys to scrub: an object in
    /// `params` or `kwargs` whose bytes hold a filtered key, quoted (every
    /// object key is written as quoted JSON text; a string value that holds
    /// one only costs the usual path). A filtered key that JSON would
    /// escape is always looked for the usual way.
    fn scrubs(&self, e: &Entry<'_>) -> bool {
        e.has_object
            && FILTERED_FIELDS.iter().any(|f| f.as_bytes() == e.key_bytes)
            && self.keys.iter().any(|k| quoted_in(k, e.segments()))
    }

    /// [`Self::apply`] for the free-form fields of a typed struct, which
    /// `visit` walks (its `visit_json_fields_mut`).
    pub(crate) fn apply_typed(
        &self,
        visit: impl FnOnce(&mut dyn FnMut(&str, JsonFieldMut<'_>)),
        max_depth: usize,
    ) -> Option<String> {
        let limit = max_depth.saturating_sub(1);
        let mut deep: Option<String> = None;
        visit(&mut |name, field| {
            let scrub = FILTERED_FIELDS.contains(&name);
            let too_deep = match field {
                JsonFieldMut::Object(m) => self.map(m, scrub, limit),
                JsonFieldMut::Array(a) => self.array(a, scrub, limit),
                JsonFieldMut::Value(v) => self.value(v, scrub, limit),
            };
            if too_deep && deep.is_none() {
                deep = Some(name.to_owned());
            }
        });
        deep
    }

    fn value(&self, v: &mut Value, scrub: bool, limit: usize) -> bool {
        match v {
            Value::Object(m) => self.map(m, scrub, limit),
            Value::Array(a) => self.array(a, scrub, limit),
            _ => false,
        }
    }

    /// A field that is an object: filtered keys at its top level go.
    fn map(&self, m: &mut Map<String, Value>, scrub: bool, limit: usize) -> bool {
        if scrub && !self.keys.is_empty() {
            m.retain(|k, _| !self.matches(k));
        }
        limit < 1 || self.walk(m.values_mut(), scrub, limit)
    }

    fn array(&self, a: &mut [Value], scrub: bool, limit: usize) -> bool {
        limit < 1 || self.walk(a.iter_mut(), scrub, limit)
    }

    /// Walks the children of a field (level 2 and below) with an explicit
    /// stack: masks filtered keys when `scrub`, and reports nesting past
    /// `limit`. The stack only allocates when there is nesting.
    fn walk<'a>(
        &self,
        children: impl Iterator<Item = &'a mut Value>,
        scrub: bool,
        limit: usize,
    ) -> bool {
        let mask = scrub && !self.keys.is_empty();
        let mut stack: Vec<(&mut Value, usize)> = Vec::new();
        stack.extend(children.filter(|c| is_container(c)).map(|c| (c, 2)));
        while let Some((v, d)) = stack.pop() {
            if d > limit {
                return true;
            }
            match v {
                Value::Object(map) => {
                    for (k, child) in map.iter_mut() {
                        if mask && self.matches(k) {
                            *child = Value::String(FILTERED.to_owned());
                        } else if is_container(child) {
                            stack.push((child, d + 1));
                        }
                    }
                }
                Value::Array(items) => stack.extend(
                    items
                        .iter_mut()
                        .filter(|c| is_container(c))
                        .map(|c| (c, d + 1)),
                ),
                _ => {}
            }
        }
        false
    }
}

/// Whether `"key"` occurs in `bytes` (always, for a key JSON escapes).
fn quoted_in(key: &str, bytes: &[u8]) -> bool {
    let k = key.as_bytes();
    if k.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        return true;
    }
    bytes
        .windows(k.len() + 2)
        .any(|w| w[0] == b'"' && w[k.len() + 1] == b'"' && &w[1..=k.len()] == k)
}

/// Whether a packed field nests deeper than `limit` (as [`ParamsFilter::value`]
/// measures a value).
fn too_deep(e: &Entry<'_>, limit: usize) -> bool {
    e.is_container() && (limit < 1 || e.depth as usize > limit)
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removes_top_level_and_masks_nested() {
        let mut ev = Event::from_map(
            json!({
                "params": {"password": "x", "user": {"password": "y", "name": "n"}, "list": [{"credit_card": 1}]},
                "kwargs": {"CSRF_COOKIE": "c", "ok": 1},
                "password": "top-level-field-is-not-params"
            })
            .as_object()
            .cloned()
            .unwrap(),
        );
        assert_eq!(ParamsFilter::default().apply(&mut ev, 128), None);
        assert_eq!(
            Value::Object(ev.fields_mut().clone()),
            json!({
                "params": {"user": {"password": "[FILTERED]", "name": "n"}, "list": [{"credit_card": "[FILTERED]"}]},
                "kwargs": {"ok": 1},
                "password": "top-level-field-is-not-params"
            })
        );
    }

    #[test]
    fn reports_the_first_field_nested_too_deep() {
        let mut ev = Event::from_map(
            json!({"ok": [[1]], "bad": [[[[1]]]]})
                .as_object()
                .cloned()
                .unwrap(),
        );
        // The event is level 1, `bad` level 2, its innermost array level 5.
        assert_eq!(ParamsFilter::default().apply(&mut ev, 5), None);
        assert_eq!(
            ParamsFilter::default().apply(&mut ev, 4),
            Some("bad".to_owned())
        );
    }

    #[test]
    fn a_very_deep_value_is_measured_without_recursion() {
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let mut ev = Event::new();
        ev.fields
            .insert(crate::model::fields::Key::Owned("params".into()), v);
        assert_eq!(
            ParamsFilter::default().apply(&mut ev, 128),
            Some("params".to_owned())
        );
        // Take it apart iteratively: serde_json's drop would recurse.
        let mut v = ev.fields.remove("params").unwrap();
        while let Value::Array(mut a) = v {
            v = a.pop().unwrap_or(Value::Null);
        }
    }
}
