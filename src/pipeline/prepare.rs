//! The steps every event goes through between `send()` and its encoding,
//! as plain functions over a [`Policy`].
//!
//! A hand-built event (or a typed one inside an [`Event`]) is prepared on
//! the worker by [`Policy::prepare`]: `before_event` hooks, the `_hb` key
//! stripped, then the checks (representable in JSON, not empty, params
//! filtered, not nested too deep, finite numbers). A typed event that is
//! packed on the sending thread skips the worker's step; it may only do so
//! when [`Policy::typed_is_ready`] says that step would change nothing, so
//! both paths keep the same rules. The layers merged under an event (the
//! client's dynamic fields, the event context) are attached by
//! [`attach_layers`].
//!
//! Nothing here owns a thread or a buffer: the worker and the client call these
//! functions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::filter::ParamsFilter;
use crate::json::MAX_DEPTH;
use crate::model::event::{Event, Layer};
use crate::model::fields::{Fields, SharedFields};
use crate::model::packed_fields::PackedFields;
use crate::model::response::DropReason;
use crate::model::typed::TypedEvent;

/// A hook run on every event before it is sent; return `false` to drop it.
pub type BeforeEvent = Arc<dyn Fn(&mut Event) -> bool + Send + Sync>;

/// What preparing an event needs from the configuration.
#[derive(Clone, Default)]
pub(crate) struct Policy {
    /// Run in order on every event (on the worker).
    pub(crate) before_event: Vec<BeforeEvent>,
    /// Scrubs `params` and `kwargs`.
    pub(crate) params_filter: ParamsFilter,
    /// Client-wide fields, merged under every event.
    pub(crate) fields: Fields,
}

/// Why an event was not prepared: it is dropped with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// The category, for stats.
    pub(crate) reason: DropReason,
    /// The message on the responses stream.
    pub(crate) error: String,
}

impl Rejection {
    fn invalid(error: String) -> Self {
        Rejection {
            reason: DropReason::Invalid,
            error,
        }
    }
}

impl Policy {
    /// Runs the hooks and the checks. `Ok` when the event is to be encoded;
    /// `hook_panicked` is called once for each hook that panicked (the
    /// event then goes on as the hook left it).
    pub(crate) fn prepare(
        &self,
        event: &mut Event,
        mut hook_panicked: impl FnMut(),
    ) -> Result<(), Rejection> {
        for hook in &self.before_event {
            match catch_unwind(AssertUnwindSafe(|| hook(&mut *event))) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Rejection {
                        reason: DropReason::Hook,
                        error: "dropped by a before_event hook".into(),
                    })
                }
                Err(_) => hook_panicked(),
            }
        }
        if event.has_own_key("_hb") {
            event.remove("_hb");
        }
        if let Some(reason) = event.take_invalid() {
            return Err(Rejection::invalid(reason));
        }
        if event.has_no_fields() && self.fields.is_empty() {
            return Err(Rejection::invalid("empty event: it has no fields".into()));
        }
        // One walk: params filters, and the nesting check.
        if let Some(field) = self.params_filter.apply(event, MAX_DEPTH) {
            return Err(Rejection::invalid(format!(
                "field `{field}` is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        if let Some(field) = event.typed().and_then(|t| t.non_finite_field()) {
            return Err(Rejection::invalid(format!(
                "field `{field}`: non-finite number cannot be represented in JSON"
            )));
        }
        Ok(())
    }

    /// Whether [`Policy::prepare`] would leave these hand-built fields (an
    /// event with nothing else: no typed struct, builder layer, layers,
    /// metadata) as they are and accept them, with no hooks to run: not
    /// empty, no `_hb` to strip, no key a client-wide field also has,
    /// nothing for the params filter to scrub and nothing nested too deep
    /// (non-finite numbers were refused when they were added).
    pub(crate) fn packed_is_ready(&self, fields: &PackedFields) -> bool {
        self.before_event.is_empty()
            && !fields.is_empty()
            && !fields.contains_key("_hb")
            && self.fields.keys().all(|k| !fields.contains_key(k))
            && self.params_filter.packed_is_ready(fields, MAX_DEPTH)
    }

    /// Whether [`Policy::prepare`] would leave this typed struct as it is
    /// and accept it, with no hooks to run: no `_hb` to strip, finite
    /// numbers, no key a client-wide field also has, nothing for the params
    /// filter to scrub and nothing nested too deep. The params filter runs
    /// here (it scrubs in place what it finds).
    #[inline]
    pub(crate) fn typed_is_ready<T: TypedEvent>(&self, typed: &mut T) -> bool {
        self.before_event.is_empty()
            && !typed.has_key("_hb")
            && typed.non_finite_field().is_none()
            && self.fields.keys().all(|k| !typed.has_key(k))
            && self
                .params_filter
                .apply_typed(|f| typed.visit_json_fields_mut(f), MAX_DEPTH)
                .is_none()
    }
}

/// Merges the layers under an event at send time: the client's dynamic
/// fields (lowest), then the event context.
pub(crate) fn attach_layers(
    event: &mut Event,
    dynamic: Option<Fields>,
    context: Option<SharedFields>,
) {
    if let Some(dynamic) = dynamic {
        event
            .cold_mut()
            .under
            .insert(0, Layer::Private(Arc::new(dynamic)));
    }
    if let Some(ctx) = context {
        event.cold_mut().under.push(Layer::Shared(ctx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::filter::ParamsFilter;
    use crate::schema::generated::python::DbQuery;
    use serde_json::{json, Value};

    fn policy() -> Policy {
        Policy::default()
    }

    /// One row per rule of `packed_is_ready`, each checked against what
    /// `prepare` does with the same event: ready means prepare accepts it
    /// and leaves its fields as they were.
    #[test]
    fn packed_is_ready_table() {
        let fields = |pairs: &[(&str, Value)]| {
            let mut ev = Event::new();
            for (k, v) in pairs {
                ev.add_field(*k, v);
            }
            ev
        };
        // A field's value sits one level below the event object.
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH - 1 {
            deep = json!([deep]);
        }
        let hook: BeforeEvent = Arc::new(|_| true);
        let client = Policy {
            fields: [("app".to_owned(), json!("x"))].into_iter().collect(),
            ..policy()
        };
        let no_filter = Policy {
            params_filter: ParamsFilter::new(Vec::<String>::new()),
            ..policy()
        };
        let rows: Vec<(&str, Policy, Event, bool)> = vec![
            ("plain", policy(), fields(&[("a", json!(1))]), true),
            ("empty", policy(), fields(&[]), false),
            (
                "a hook to run",
                Policy {
                    before_event: vec![hook],
                    ..policy()
                },
                fields(&[("a", json!(1))]),
                false,
            ),
            (
                "_hb to strip",
                policy(),
                fields(&[("_hb", json!({"sample_rate": 5}))]),
                false,
            ),
            (
                "a client field's key",
                client.clone(),
                fields(&[("app", json!("y"))]),
                false,
            ),
            (
                "other keys than the client's",
                client.clone(),
                fields(&[("a", json!(1))]),
                true,
            ),
            (
                "params array of scalars",
                policy(),
                fields(&[("params", json!([1, "x"]))]),
                true,
            ),
            (
                "params object to scrub",
                policy(),
                fields(&[("params", json!({"password": "p"}))]),
                false,
            ),
            (
                "params object, no keys to filter",
                no_filter.clone(),
                fields(&[("params", json!({"password": "p"}))]),
                true,
            ),
            (
                "params object without filtered keys",
                policy(),
                fields(&[(
                    "params",
                    json!({"user": {"name": "n"}, "q": [1, "password"]}),
                )]),
                true,
            ),
            (
                "params object, a filtered key deeper down",
                policy(),
                fields(&[("params", json!({"user": {"password": "p"}}))]),
                false,
            ),
            (
                "an object elsewhere",
                policy(),
                fields(&[("data", json!({"password": "p"}))]),
                true,
            ),
            (
                "nested as deep as allowed",
                policy(),
                fields(&[("d", deep.clone())]),
                true,
            ),
            (
                "nested too deep",
                policy(),
                fields(&[("d", json!([deep]))]),
                false,
            ),
        ];
        for (name, policy, ev, want) in rows {
            let packed = ev.packed_only().expect("packed");
            assert_eq!(policy.packed_is_ready(packed), want, "{name}");
            if want {
                let before = packed.clone();
                let mut ev = ev;
                assert!(
                    policy.prepare(&mut ev, || {}).is_ok(),
                    "{name}: prepare accepts it"
                );
                assert_eq!(ev.packed_only(), Some(&before), "{name}: prepare leaves it");
            }
        }
    }

    /// One row per rule of `prepare`: the event, and the reason it is
    /// dropped (`None`: accepted).
    #[test]
    fn prepare_table() {
        let hook_drop: BeforeEvent = Arc::new(|_| false);
        let with = |f: &dyn Fn(&mut Event)| {
            let mut ev = Event::new();
            f(&mut ev);
            ev
        };
        let rows: Vec<(&str, Policy, Event, Option<DropReason>)> = vec![
            (
                "plain",
                policy(),
                with(&|e| {
                    e.add_field("a", 1);
                }),
                None,
            ),
            ("empty", policy(), Event::new(), Some(DropReason::Invalid)),
            (
                "empty, client fields",
                Policy {
                    fields: [("app".to_owned(), json!("x"))].into_iter().collect(),
                    ..policy()
                },
                Event::new(),
                None,
            ),
            (
                "hook drops",
                Policy {
                    before_event: vec![hook_drop],
                    ..policy()
                },
                with(&|e| {
                    e.add_field("a", 1);
                }),
                Some(DropReason::Hook),
            ),
            (
                "non-finite field added",
                policy(),
                with(&|e| {
                    e.add_field("a", f64::NAN);
                }),
                Some(DropReason::Invalid),
            ),
            (
                "non-finite typed",
                policy(),
                Event::from_typed(DbQuery::new("q", f64::INFINITY)),
                Some(DropReason::Invalid),
            ),
            (
                "too deep",
                policy(),
                with(&|e| {
                    let mut v = json!(1);
                    for _ in 0..(MAX_DEPTH + 2) {
                        v = json!([v]);
                    }
                    e.add_field("params", v);
                }),
                Some(DropReason::Invalid),
            ),
        ];
        for (name, policy, mut ev, want) in rows {
            let got = policy.prepare(&mut ev, || {}).err().map(|r| r.reason);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_panicking_hook_is_reported_and_the_event_goes_on() {
        let boom: BeforeEvent = Arc::new(|_| panic!("hook"));
        let policy = Policy {
            before_event: vec![boom],
            ..policy()
        };
        let mut ev = Event::new();
        ev.add_field("a", 1);
        let mut panics = 0;
        assert!(policy.prepare(&mut ev, || panics += 1).is_ok());
        assert_eq!(panics, 1);
    }

    #[test]
    fn hb_is_stripped() {
        let mut ev = Event::new();
        ev.add_field("a", 1)
            .add_field("_hb", json!({"sample_rate": 5}));
        assert!(policy().prepare(&mut ev, || {}).is_ok());
        assert_eq!(ev.get("_hb"), None);
    }

    /// `typed_is_ready` says no exactly when `prepare` would change or
    /// reject the struct.
    #[test]
    fn typed_is_ready_table() {
        let hook: BeforeEvent = Arc::new(|_| true);
        let mut hb = DbQuery::new("q", 1.0);
        hb.extra.insert("_hb".into(), json!({}));
        let rows: Vec<(&str, Policy, DbQuery, bool)> = vec![
            ("plain", policy(), DbQuery::new("q", 1.0), true),
            (
                "a hook",
                Policy {
                    before_event: vec![hook],
                    ..policy()
                },
                DbQuery::new("q", 1.0),
                false,
            ),
            ("_hb", policy(), hb, false),
            ("non-finite", policy(), DbQuery::new("q", f64::NAN), false),
            (
                "a client field shadows a key",
                Policy {
                    fields: [("query".to_owned(), json!("x"))].into_iter().collect(),
                    ..policy()
                },
                DbQuery::new("q", 1.0),
                false,
            ),
        ];
        for (name, policy, mut typed, want) in rows {
            assert_eq!(policy.typed_is_ready(&mut typed), want, "{name}");
        }
    }

    #[test]
    fn layers_go_dynamic_first_context_last() {
        let mut ev = Event::new();
        let dynamic: Fields = [("a".to_owned(), json!(1))].into_iter().collect();
        let ctx: SharedFields = Arc::new(crossbeam_utils::CachePadded::new(
            [("b".to_owned(), json!(2))].into_iter().collect(),
        ));
        attach_layers(&mut ev, Some(dynamic), Some(ctx));
        let under = ev.under();
        assert_eq!(under.len(), 2);
        assert!(under[0].contains_key("a"));
        assert!(under[1].contains_key("b"));
    }
}
