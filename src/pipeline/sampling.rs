//! Sampling decisions: pure functions of an event's key and a rate.
//!
//! * Honeybadger: the rule honeybadger-python applies, so that a request
//!   sampled in one language is sampled in the other: with a rate of 0–100,
//!   keep the event when `md5(request_id)`, read as a 128-bit integer, modulo
//!   100 is below the rate; without a `request_id`, a random key decides.
//! * Honeycomb: libhoney's "one in N": keep with probability `1/N`, and send
//!   `samplerate: N` so the backend can weight the event.

use md5::{Digest, Md5};
use serde_json::Value;

use crate::model::event::Event;
use crate::model::typed::TypedEvent;

/// Whether honeybadger-python would keep an event with this `request_id` at
/// `rate` percent (0–100). An empty `request_id` counts as none.
///
/// ```
/// use insights_events::sampling::honeybadger_keep;
/// assert!(honeybadger_keep(Some("anything"), 100));
/// assert!(!honeybadger_keep(Some("anything"), 0));
/// ```
pub fn honeybadger_keep(request_id: Option<&str>, rate: u32) -> bool {
    if rate >= 100 {
        return true;
    }
    if rate == 0 {
        return false;
    }
    let bucket = match request_id.filter(|id| !id.is_empty()) {
        Some(id) => md5_bucket(id),
        None => rand::random::<u32>() % 100,
    };
    bucket < rate
}

/// `int(md5(key).hexdigest(), 16) % 100`.
pub fn md5_bucket(key: &str) -> u32 {
    let digest = Md5::digest(key.as_bytes());
    let n = u128::from_be_bytes(digest.into());
    (n % 100) as u32
}

/// libhoney's decision for a "one in `rate`" sample rate.
pub fn honeycomb_keep(rate: u32) -> bool {
    rate <= 1 || rand::random::<u32>() % rate == 0
}

/// How a client samples: its backend's scheme and the default rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampler {
    /// Honeybadger's rule at `rate` percent; an event's `_hb.sample_rate`
    /// or its own sample rate overrides it.
    Honeybadger {
        /// The default rate, 0–100.
        rate: u32,
    },
    /// libhoney's "one in N"; an event's own sample rate overrides it.
    Honeycomb {
        /// The default N.
        rate: u32,
    },
}

impl Sampler {
    /// The decision for a hand-built event (or a typed one in an
    /// [`Event`]). For Honeycomb, the rate is written into the event, to
    /// be sent as `samplerate`.
    pub(crate) fn keep_event(self, event: &mut Event) -> bool {
        match self {
            Sampler::Honeycomb { rate } => {
                let rate = honeycomb_rate(event.sample_rate, rate);
                event.sample_rate = Some(rate);
                honeycomb_keep(rate)
            }
            Sampler::Honeybadger { rate } => {
                let rate = event
                    .sample_rate
                    .or_else(|| hb_override(event))
                    .unwrap_or(rate);
                honeybadger_keeps(rate, || event.request_id())
            }
        }
    }

    /// [`Sampler::keep_event`] for an event known to have no `_hb` field
    /// (a packed hand-built event: `Policy::packed_is_ready` checked it).
    #[inline]
    pub(crate) fn keep_event_without_hb(self, event: &mut Event) -> bool {
        match self {
            Sampler::Honeycomb { .. } => self.keep_event(event),
            Sampler::Honeybadger { rate } => {
                let rate = event.sample_rate.unwrap_or(rate);
                honeybadger_keeps(rate, || event.request_id())
            }
        }
    }

    /// The decision for a typed struct sent as it is (no `_hb`: such
    /// events take the usual path), and the Honeycomb rate to send with it.
    #[inline]
    pub(crate) fn keep_typed<T: TypedEvent>(self, typed: &T) -> (bool, Option<u32>) {
        match self {
            Sampler::Honeycomb { rate } => {
                let rate = honeycomb_rate(None, rate);
                (honeycomb_keep(rate), Some(rate))
            }
            Sampler::Honeybadger { rate } => {
                (honeybadger_keeps(rate, || typed.request_id_str()), None)
            }
        }
    }
}

/// The Honeycomb sample rate of an event ("one in N", at least 1).
fn honeycomb_rate(per_event: Option<u32>, default: u32) -> u32 {
    per_event.unwrap_or(default).max(1)
}

/// Honeybadger's decision for an event at `rate` percent.
fn honeybadger_keeps<'a>(rate: u32, request_id: impl FnOnce() -> Option<&'a str>) -> bool {
    // At 100% there is nothing to decide: skip the lookup and the hash.
    rate >= 100 || honeybadger_keep(request_id(), rate)
}

/// `_hb.sample_rate`, honeybadger-python's per-event override.
fn hb_override(event: &Event) -> Option<u32> {
    if !event.has_own_key("_hb") {
        return None;
    }
    let hb = event.get("_hb")?;
    let rate = hb.get("sample_rate")?;
    match rate {
        Value::Number(n) => n.as_f64().map(|f| f.clamp(0.0, 100.0) as u32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_bucket_matches_python() {
        // python3 -c 'import hashlib;print(int(hashlib.md5(b"abc").hexdigest(),16)%100)'
        assert_eq!(md5_bucket("abc"), 70);
    }

    #[test]
    fn sampler_table() {
        use serde_json::json;
        // (sampler, event's own rate, `_hb.sample_rate`, kept, rate written)
        type Row = (
            Sampler,
            Option<u32>,
            Option<serde_json::Value>,
            bool,
            Option<u32>,
        );
        let rows: [Row; 7] = [
            (Sampler::Honeybadger { rate: 100 }, None, None, true, None),
            (Sampler::Honeybadger { rate: 0 }, None, None, false, None),
            (
                Sampler::Honeybadger { rate: 0 },
                Some(100),
                None,
                true,
                None,
            ),
            (
                Sampler::Honeybadger { rate: 0 },
                None,
                Some(json!(100)),
                true,
                None,
            ),
            (
                Sampler::Honeybadger { rate: 100 },
                None,
                Some(json!(0)),
                false,
                None,
            ),
            (Sampler::Honeycomb { rate: 1 }, None, None, true, Some(1)),
            (Sampler::Honeycomb { rate: 0 }, Some(0), None, true, Some(1)),
        ];
        for (i, (sampler, own, hb, kept, written)) in rows.into_iter().enumerate() {
            let mut ev = Event::new();
            ev.add_field("event_type", "t");
            if let Some(r) = own {
                ev.set_sample_rate(r);
            }
            if let Some(hb) = hb {
                ev.add_field("_hb", json!({ "sample_rate": hb }));
            }
            assert_eq!(sampler.keep_event(&mut ev), kept, "row {i}");
            if matches!(sampler, Sampler::Honeycomb { .. }) {
                assert_eq!(ev.sample_rate(), written, "row {i}");
            }
        }
    }

    #[test]
    fn a_typed_event_takes_the_default_rate() {
        let q = crate::schema::generated::python::DbQuery::new("q", 1.0);
        assert_eq!(
            Sampler::Honeycomb { rate: 0 }.keep_typed(&q),
            (true, Some(1))
        );
        assert_eq!(
            Sampler::Honeybadger { rate: 100 }.keep_typed(&q),
            (true, None)
        );
        assert_eq!(
            Sampler::Honeybadger { rate: 0 }.keep_typed(&q),
            (false, None)
        );
    }
}
