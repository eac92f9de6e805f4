//! Layer 2, encoding: events into bytes.
//!
//! [`packed`] is the record format a typed event (or a hand-built one's
//! packed fields) is packed into on the sending thread ([`packed::Packer`],
//! what generated code writes through, is `json::segments`'s);
//! [`batch`] builds the bodies the backends receive (Honeybadger NDJSON,
//! Honeycomb JSON arrays) from events and packed records.
//! May use: `model`, `json`, `error`.

pub(crate) mod batch;
pub(crate) mod packed;
