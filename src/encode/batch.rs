//! Encoding events into batches.
//!
//! A [`Batch`] holds the encoded events back to back in one buffer, with the
//! byte range of each, so the body of a request is the buffer itself
//! (NDJSON) or a cheap framing of it (Honeycomb's JSON array), and a batch can
//! be split in two (after a 413) without re-serializing anything.

use std::cell::Cell;
use std::ops::Range;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;

use crate::json::write_entry;
use crate::model::event::Event;
use crate::model::fields::Fields;

use super::packed::Packed;

/// The size step of body buffers (a batch's, a Honeycomb body): with few
/// sizes, a freed buffer fits the next one instead of each leaving a hole
/// in the allocator's heap (peak RSS with gzip, `BENCHMARKS.md`).
pub(crate) const BODY_GRAIN: usize = 64 * 1024;

/// How a backend wants its events encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// One JSON object per line, with a `ts` field (Honeybadger Insights,
    /// the writer, the memory recorder).
    Ndjson,
    /// `{"data": {...}, "time": "...", "samplerate": N}` items of a JSON
    /// array (Honeycomb's batch API).
    HoneycombBatch,
}

/// Encoded events, ready for a [`Sender`](crate::transmission::Sender). Cheap to clone and to
/// split: the bytes are shared.
#[derive(Debug, Clone)]
pub struct Batch {
    format: WireFormat,
    /// The events; a whole Honeycomb batch also has its array's brackets
    /// and commas between them (written as the events were), so that the
    /// body is this buffer, shared, as an NDJSON one is.
    buf: Bytes,
    items: Vec<Range<usize>>,
    /// Not a half made by [`Batch::split`] (whose Honeycomb body is
    /// copied into an array of its own).
    whole: bool,
}

impl Batch {
    /// The encoding of this batch.
    pub fn format(&self) -> WireFormat {
        self.format
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the batch has no events.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Size of the encoded events in bytes (about the body size).
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The encoding of event `i`: an NDJSON line without its newline, or one
    /// Honeycomb array item.
    pub fn event(&self, i: usize) -> &[u8] {
        let r = &self.items[i];
        let end = if self.format == WireFormat::Ndjson {
            r.end - 1
        } else {
            r.end
        };
        &self.buf[r.start..end]
    }

    /// Iterates over the encoded events.
    pub fn events(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(move |i| self.event(i))
    }

    /// The request body: the NDJSON lines or the JSON array (shared, no
    /// copy; a Honeycomb half from [`Batch::split`] is copied into an
    /// array).
    pub fn body(&self) -> Bytes {
        match self.format {
            WireFormat::Ndjson => self.buf.clone(),
            WireFormat::HoneycombBatch if self.whole && !self.items.is_empty() => self.buf.clone(),
            WireFormat::HoneycombBatch => {
                let len = self.buf.len() + self.items.len() + 2;
                let mut out = Vec::with_capacity(len.next_multiple_of(BODY_GRAIN));
                out.push(b'[');
                for (i, r) in self.items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&self.buf[r.clone()]);
                }
                out.push(b']');
                Bytes::from(out)
            }
        }
    }

    /// Splits the batch into two halves (for a 413 answer), without copying.
    pub fn split(&self) -> (Batch, Batch) {
        let mid = self.len() / 2;
        (self.slice(0..mid), self.slice(mid..self.len()))
    }

    fn slice(&self, idx: Range<usize>) -> Batch {
        let items = &self.items[idx];
        let (start, end) = match (items.first(), items.last()) {
            (Some(f), Some(l)) => (f.start, l.end),
            _ => (0, 0),
        };
        Batch {
            format: self.format,
            buf: self.buf.slice(start..end),
            items: items
                .iter()
                .map(|r| r.start - start..r.end - start)
                .collect(),
            whole: false,
        }
    }
}

/// A batch being filled by the worker.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    format: WireFormat,
    buf: Vec<u8>,
    items: Vec<Range<usize>>,
}

impl BatchBuilder {
    pub(crate) fn new(format: WireFormat) -> Self {
        BatchBuilder {
            format,
            buf: Vec::new(),
            items: Vec::new(),
        }
    }

    pub(crate) fn with_capacity(format: WireFormat, bytes: usize, events: usize) -> Self {
        BatchBuilder {
            format,
            buf: Vec::with_capacity(bytes),
            items: Vec::with_capacity(events),
        }
    }

    pub(crate) fn format(&self) -> WireFormat {
        self.format
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The finished batch.
    pub(crate) fn freeze(mut self) -> Batch {
        if self.format == WireFormat::HoneycombBatch && !self.items.is_empty() {
            self.buf.push(b']');
        }
        Batch {
            format: self.format,
            buf: Bytes::from(self.buf),
            items: self.items,
            whole: true,
        }
    }

    /// The byte written before each event: a Honeycomb array's `[` or
    /// `,` (nothing for NDJSON).
    fn separator(&self) -> Option<u8> {
        match self.format {
            WireFormat::Ndjson => None,
            WireFormat::HoneycombBatch if self.items.is_empty() => Some(b'['),
            WireFormat::HoneycombBatch => Some(b','),
        }
    }

    /// Moves the last event into a batch of its own.
    pub(crate) fn pop_last(&mut self) -> Option<BatchBuilder> {
        let r = self.items.pop()?;
        let mut b = BatchBuilder::new(self.format);
        let sep = b.separator();
        b.buf.extend(sep);
        let start = b.buf.len();
        b.buf.extend_from_slice(&self.buf[r.clone()]);
        b.items.push(start..b.buf.len());
        self.buf.truncate(r.start - usize::from(sep.is_some()));
        Some(b)
    }

    /// Encodes `ev` at the end of the batch. On error the batch is unchanged
    /// and the reason says why the event cannot be sent.
    pub(crate) fn push(
        &mut self,
        ev: &Event,
        client_fields: &Fields,
        max_event_bytes: usize,
    ) -> Result<(), PushError> {
        let format = self.format;
        self.push_with(max_event_bytes, |buf| {
            write_item(
                buf,
                format,
                When::At(ev.timestamp),
                ev.sample_rate,
                |buf, with_ts| write_object(buf, ev, client_fields, with_ts),
            )
        })
    }

    /// Encodes a packed event at the end of the batch, as [`Self::push`].
    pub(crate) fn push_packed(
        &mut self,
        p: &Packed<'_>,
        client_fields: &Fields,
        max_event_bytes: usize,
    ) -> Result<(), PushError> {
        let format = self.format;
        let h = p.head;
        self.push_with(max_event_bytes, |buf| {
            write_item(
                buf,
                format,
                When::Since(h.since),
                h.sample_rate,
                |buf, with_ts| write_packed_object(buf, p, client_fields, with_ts),
            )
        })
    }

    /// Runs `write` at the end of the buffer: it returns the size of the
    /// event object, which must be at most `max_event_bytes`.
    fn push_with(
        &mut self,
        max_event_bytes: usize,
        write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<usize>,
    ) -> Result<(), PushError> {
        let before = self.buf.len();
        self.buf.extend(self.separator());
        let start = self.buf.len();
        let res = write(&mut self.buf);
        match res {
            Ok(object_len) if object_len <= max_event_bytes => {
                self.items.push(start..self.buf.len());
                Ok(())
            }
            Ok(object_len) => {
                self.buf.truncate(before);
                Err(PushError::TooLarge(object_len))
            }
            Err(e) => {
                self.buf.truncate(before);
                Err(PushError::Invalid(e.to_string()))
            }
        }
    }
}

/// An event's time, as the worker has it: an [`Event`]'s `SystemTime`, or a
/// packed event's time since the Unix epoch (written without going through
/// `SystemTime` and back).
#[derive(Clone, Copy)]
enum When {
    At(SystemTime),
    Since(Duration),
}

impl When {
    fn write(self, buf: &mut Vec<u8>) {
        match self {
            When::At(at) => write_timestamp(buf, at),
            When::Since(since) => write_timestamp_since(buf, since),
        }
    }
}

/// Appends one event in `format`: an NDJSON line with its newline, or one
/// Honeycomb batch item. Returns the length of the event's JSON object (what
/// the size limit applies to).
fn write_item(
    buf: &mut Vec<u8>,
    format: WireFormat,
    at: When,
    sample_rate: Option<u32>,
    object: impl FnOnce(&mut Vec<u8>, bool) -> serde_json::Result<usize>,
) -> serde_json::Result<usize> {
    match format {
        WireFormat::Ndjson => object(buf, true).inspect(|_| buf.push(b'\n')),
        WireFormat::HoneycombBatch => {
            buf.extend_from_slice(b"{\"data\":");
            let r = object(buf, false);
            if r.is_ok() {
                buf.extend_from_slice(b",\"time\":\"");
                at.write(buf);
                buf.extend_from_slice(b"\",\"samplerate\":");
                buf.extend_from_slice(
                    itoa::Buffer::new()
                        .format(sample_rate.unwrap_or(1).max(1))
                        .as_bytes(),
                );
                buf.push(b'}');
            }
            r
        }
    }
}

/// Why an event could not be encoded.
#[derive(Debug)]
pub(crate) enum PushError {
    TooLarge(usize),
    Invalid(String),
}

/// Writes the event's merged fields as one JSON object and returns its
/// length. Layers, lowest first: client-wide fields, the `under` layers
/// (client dynamic fields, the event context), a builder's fields, the typed
/// struct, the event's own fields; a key is written once, from the highest
/// layer.
pub(crate) fn write_object(
    buf: &mut Vec<u8>,
    ev: &Event,
    client: &Fields,
    with_ts: bool,
) -> serde_json::Result<usize> {
    let start = buf.len();
    let mut first = true;
    match ev.typed() {
        Some(typed) => {
            typed.write_json(buf)?;
            if buf.last() != Some(&b'}') {
                return Err(serde::ser::Error::custom(
                    "typed event did not serialize to a JSON object",
                ));
            }
            buf.pop();
            first = buf.last() == Some(&b'{');
        }
        None => buf.push(b'{'),
    }
    let mut sep = |buf: &mut Vec<u8>| {
        if !first {
            buf.push(b',');
        }
        first = false;
    };
    for (k, v) in ev.own_fields().iter() {
        sep(buf);
        v.write_entry(buf, k)?;
    }
    // Lower layers, highest first; skip keys a higher layer already wrote.
    let builder = ev.builder_layer();
    let under = ev.under();
    let n = under.len();
    let layer = |d: usize| -> &Fields {
        match (d, builder) {
            (0, Some(b)) => b,
            _ => {
                let d = d - usize::from(builder.is_some());
                if d < n {
                    &under[n - 1 - d]
                } else {
                    client
                }
            }
        }
    };
    let above =
        |k: &str| ev.own_fields().contains_key(k) || ev.typed().is_some_and(|t| t.has_key(k));
    let depth = n + 1 + usize::from(builder.is_some());
    let mut ts_shadowed = false;
    for d in 0..depth {
        let l = layer(d);
        if l.is_empty() {
            continue;
        }
        ts_shadowed |= l.contains_key("ts");
        for (k, v) in l.iter() {
            if above(k) || (0..d).any(|h| layer(h).contains_key(k)) {
                continue;
            }
            sep(buf);
            write_entry(buf, k, v)?;
        }
    }
    if with_ts && !ts_shadowed && !above("ts") {
        sep(buf);
        buf.extend_from_slice(b"\"ts\":\"");
        write_timestamp(buf, ev.timestamp);
        buf.push(b'"');
    }
    buf.push(b'}');
    Ok(buf.len() - start)
}

/// The object of a packed event: the struct's JSON, then the client-wide
/// fields (the sending thread checked that the struct has none of their
/// keys) and `ts`.
fn write_packed_object(
    buf: &mut Vec<u8>,
    p: &Packed<'_>,
    client: &Fields,
    with_ts: bool,
) -> serde_json::Result<usize> {
    let start = buf.len();
    p.write_json(buf)?;
    if buf.len() == start || buf.last() != Some(&b'}') {
        return Err(serde::ser::Error::custom(
            "typed event did not serialize to a JSON object",
        ));
    }
    let add_ts = with_ts && !p.head.has_ts && !client.contains_key("ts");
    if add_ts || !client.is_empty() {
        buf.pop();
        let mut first = buf.last() == Some(&b'{');
        let mut sep = |buf: &mut Vec<u8>| {
            if !first {
                buf.push(b',');
            }
            first = false;
        };
        for (k, v) in client {
            sep(buf);
            write_entry(buf, k, v)?;
        }
        if add_ts {
            sep(buf);
            buf.extend_from_slice(b"\"ts\":\"");
            write_timestamp_since(buf, p.head.since);
            buf.push(b'"');
        }
        buf.push(b'}');
    }
    Ok(buf.len() - start)
}

/// Appends the `ts` form of a time, `2026-11-21T08:49:52.498082Z` (UTC,
/// microseconds), to `buf` without allocating.
///
/// The date and time of day are computed once per second and kept per
/// thread: the events of a batch mostly share their second.
pub fn write_timestamp(buf: &mut Vec<u8>, at: SystemTime) {
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) => write_timestamp_since(buf, since),
        Err(_) => {
            buf.extend_from_slice(&date_time(at));
            write_micros(buf, time::OffsetDateTime::from(at).microsecond());
        }
    }
}

/// [`write_timestamp`] for a time given since the Unix epoch (a packed
/// event's, which need not go through `SystemTime` and back).
fn write_timestamp_since(buf: &mut Vec<u8>, since: Duration) {
    thread_local! {
        static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
    }
    let secs = since.as_secs();
    let prefix = match SECOND.try_with(Cell::get) {
        Ok((s, prefix)) if s == secs => prefix,
        _ => {
            let prefix = date_time(UNIX_EPOCH + since);
            let _ = SECOND.try_with(|c| c.set((secs, prefix)));
            prefix
        }
    };
    buf.extend_from_slice(&prefix);
    write_micros(buf, since.subsec_micros());
}

/// `2026-11-21T08:49:52.` for a time.
fn date_time(at: SystemTime) -> [u8; 20] {
    let dt = time::OffsetDateTime::from(at);
    let mut out = [0u8; 20];
    let two = |n: u8, out: &mut [u8]| {
        out[0] = b'0' + n / 10;
        out[1] = b'0' + n % 10;
    };
    let year = dt.year().clamp(0, 9999) as u32;
    out[..4].copy_from_slice(&[
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
    ]);
    out[4] = b'-';
    two(u8::from(dt.month()), &mut out[5..7]);
    out[7] = b'-';
    two(dt.day(), &mut out[8..10]);
    out[10] = b'T';
    two(dt.hour(), &mut out[11..13]);
    out[13] = b':';
    two(dt.minute(), &mut out[14..16]);
    out[16] = b':';
    two(dt.second(), &mut out[17..19]);
    out[19] = b'.';
    out
}

/// The six digits of the microseconds, and the `Z`.
fn write_micros(buf: &mut Vec<u8>, micros: u32) {
    let mut digits = [b'0'; 7];
    digits[6] = b'Z';
    let mut m = micros;
    for d in digits[..6].iter_mut().rev() {
        *d = b'0' + (m % 10) as u8;
        m /= 10;
    }
    buf.extend_from_slice(&digits);
}

/// Encodes one event as a backend would receive it: an NDJSON line (without
/// the newline) or one item of a Honeycomb batch. The event context and
/// client-wide fields are not merged (they are added by a client's send).
///
/// ```
/// use insights_events::transmission::{encode_event, WireFormat};
/// use insights_events::DbQuery;
///
/// let line = encode_event(&DbQuery::new("SELECT 1", 0.5).into_event(), WireFormat::Ndjson).unwrap();
/// let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
/// assert_eq!(v["event_type"], "db.query");
/// assert!(v["ts"].is_string());
/// ```
pub fn encode_event(event: &Event, format: WireFormat) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    encode_into(&mut buf, event, format)?;
    if format == WireFormat::Ndjson {
        buf.pop();
    }
    Ok(buf)
}

/// Appends one event to `buf` exactly as the worker writes it into a batch:
/// an NDJSON line with its newline, or one Honeycomb batch item (without the
/// comma between items). Returns the number of bytes appended; on an error
/// `buf` is left as it was. The event context and client-wide fields are not
/// merged, and the size limit is not applied.
///
/// ```
/// use insights_events::transmission::{encode_into, WireFormat};
/// use insights_events::DbQuery;
///
/// let mut buf = Vec::new();
/// for i in 0..3 {
///     let ev = DbQuery::new("SELECT 1", f64::from(i)).into_event();
///     encode_into(&mut buf, &ev, WireFormat::Ndjson).unwrap();
/// }
/// assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 3);
/// ```
pub fn encode_into(buf: &mut Vec<u8>, event: &Event, format: WireFormat) -> Result<usize, String> {
    let start = buf.len();
    let object = |buf: &mut Vec<u8>, with_ts| write_object(buf, event, &Fields::new(), with_ts);
    match write_item(
        buf,
        format,
        When::At(event.timestamp),
        event.sample_rate,
        object,
    ) {
        Ok(_) => Ok(buf.len() - start),
        Err(e) => {
            buf.truncate(start);
            Err(e.to_string())
        }
    }
}

/// The `ts` string for a time (tests and tools).
pub fn format_timestamp(at: SystemTime) -> String {
    let mut buf = Vec::with_capacity(27);
    write_timestamp(&mut buf, at);
    String::from_utf8(buf).unwrap_or_default()
}

/// Parses the fields of an encoded NDJSON event (tests and tools).
pub(crate) fn parse_event(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamp_format() {
        let t = UNIX_EPOCH + Duration::from_micros(1_795_251_792_498_082);
        assert_eq!(format_timestamp(t), "2026-11-21T09:03:12.498082Z");
    }

    #[test]
    fn timestamps_across_seconds_days_and_years_match_the_calendar() {
        // The per-second prefix is cached: walk back and forth across
        // boundaries so a stale prefix would show.
        let base = 1_798_761_599_000_000u64; // 2026-12-31T23:59:59Z
        for micros in [
            base,
            base + 999_999,
            base + 1_000_000,
            base + 1,
            base + 86_400_000_001,
            base + 1_000_000,
            0,
            1,
            951_782_400_000_000, // 2000-02-29
        ] {
            let t = UNIX_EPOCH + Duration::from_micros(micros);
            let dt = time::OffsetDateTime::from(t);
            let want = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.microsecond()
            );
            assert_eq!(format_timestamp(t), want);
        }
        let before = UNIX_EPOCH - Duration::from_micros(1_500_000);
        assert_eq!(format_timestamp(before), "1969-12-31T23:59:58.500000Z");
    }

    #[test]
    fn layers_merge_with_last_wins() {
        let mut ev = Event::new();
        ev.add_field("a", 1).add_field("shared", "event");
        ev.cold_mut()
            .under
            .push(crate::model::event::Layer::Private(Arc::new(
                json!({"shared": "ctx", "request_id": "r"})
                    .as_object()
                    .cloned()
                    .unwrap(),
            )));
        let client = json!({"shared": "client", "host": "h", "ts": "fixed"})
            .as_object()
            .cloned()
            .unwrap();
        let mut b = BatchBuilder::new(WireFormat::Ndjson);
        b.push(&ev, &client, 1000).unwrap();
        let v: Value = serde_json::from_slice(b.freeze().event(0)).unwrap();
        assert_eq!(
            v,
            json!({"a": 1, "shared": "event", "request_id": "r", "host": "h", "ts": "fixed"})
        );
    }

    #[test]
    fn oversized_event_leaves_batch_unchanged() {
        let mut b = BatchBuilder::new(WireFormat::Ndjson);
        let mut small = Event::new();
        small.add_field("x", 1);
        b.push(&small, &Fields::new(), 100).unwrap();
        let mut big = Event::new();
        big.add_field("x", "y".repeat(200));
        assert!(matches!(
            b.push(&big, &Fields::new(), 100),
            Err(PushError::TooLarge(_))
        ));
        assert_eq!(b.len(), 1);
        let b = b.freeze();
        assert!(b.body().ends_with(b"}\n"));
        let (l, r) = b.split();
        assert_eq!((l.len(), r.len()), (0, 1));
        assert_eq!(r.body(), b.body());
    }

    /// A Honeycomb batch's body is its buffer (brackets and commas written
    /// with the events); a refused event, `pop_last` and `split` leave
    /// every body a valid array of the right events.
    #[test]
    fn honeycomb_bodies_are_arrays_in_every_shape() {
        let events = |b: &Batch| -> Vec<Value> { b.events().map(parse_event).collect() };
        let body = |b: &Batch| -> Vec<Value> {
            let v: Value = serde_json::from_slice(&b.body()).expect("a JSON array");
            v.as_array().expect("an array").clone()
        };
        let mut b = BatchBuilder::new(WireFormat::HoneycombBatch);
        for i in 0..4 {
            let mut ev = Event::new();
            ev.add_field("i", i);
            b.push(&ev, &Fields::new(), 1000).unwrap();
            let mut big = Event::new();
            big.add_field("x", "y".repeat(2000));
            assert!(b.push(&big, &Fields::new(), 1000).is_err());
        }
        let last = b.pop_last().expect("an event");
        let (b, last) = (b.freeze(), last.freeze());
        assert_eq!(body(&b), events(&b));
        assert_eq!(body(&b).len(), 3);
        assert_eq!(body(&last), events(&last));
        assert_eq!(body(&last)[0]["data"]["i"], 3);
        assert_eq!(b.body().as_ptr(), b.body().as_ptr(), "shared, not copied");
        let (l, r) = b.split();
        assert_eq!((body(&l), body(&r)), (events(&l), events(&r)));
        assert_eq!((l.len(), r.len()), (1, 2));
        assert_eq!(
            &*BatchBuilder::new(WireFormat::HoneycombBatch)
                .freeze()
                .body(),
            b"[]"
        );
    }
}
