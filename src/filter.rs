//! Params filters, as honeybadger-python applies them: the configured keys
//! are removed from the top level of `params` and `kwargs`, and replaced by
//! `"[FILTERED]"` wherever they appear deeper down.

use serde_json::{Map, Value};

use crate::event::Event;
use crate::typed::JsonFieldMut;

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

    /// Applies the filter to an event's `params` and `kwargs`.
    pub(crate) fn apply(&self, ev: &mut Event) {
        if self.keys.is_empty() {
            return;
        }
        if let Some(typed) = ev.typed.as_mut() {
            typed.visit_json_fields_mut(&mut |name, field| {
                if !FILTERED_FIELDS.contains(&name) {
                    return;
                }
                match field {
                    JsonFieldMut::Object(map) => self.top(map),
                    JsonFieldMut::Array(items) => items.iter_mut().for_each(|v| self.deep(v)),
                    JsonFieldMut::Value(v) => self.top_value(v),
                }
            });
        }
        for name in FILTERED_FIELDS {
            if let Some(v) = ev.fields.get_mut(*name) {
                self.top_value(v);
            }
        }
    }

    fn top_value(&self, v: &mut Value) {
        match v {
            Value::Object(map) => self.top(map),
            other => self.deep(other),
        }
    }

    fn top(&self, map: &mut Map<String, Value>) {
        map.retain(|k, _| !self.matches(k));
        map.values_mut().for_each(|v| self.deep(v));
    }

    fn deep(&self, v: &mut Value) {
        // An explicit stack: params nested thousands deep must not overflow.
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    for (k, child) in map.iter_mut() {
                        if self.matches(k) {
                            *child = Value::String(FILTERED.to_owned());
                        } else {
                            stack.push(child);
                        }
                    }
                }
                Value::Array(items) => stack.extend(items.iter_mut()),
                _ => {}
            }
        }
    }
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
        ParamsFilter::default().apply(&mut ev);
        assert_eq!(
            Value::Object(ev.fields),
            json!({
                "params": {"user": {"password": "[FILTERED]", "name": "n"}, "list": [{"credit_card": "[FILTERED]"}]},
                "kwargs": {"ok": 1},
                "password": "top-level-field-is-not-params"
            })
        );
    }
}
