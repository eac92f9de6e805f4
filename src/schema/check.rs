//! Checking events against the generated types: one NDJSON line or JSON
//! value at a time, with the field and reason when it is not valid, and
//! per-type tallies. The `insights-events` command (`validate`, `send`,
//! `receive`) is built on it.
//!
//! ```
//! use insights_events::check::{check_line, Options};
//!
//! let bad = check_line(br#"{"event_type":"db.query","query":"q","duration":"slow"}"#, Options::default());
//! assert_eq!(bad.unwrap_err().path, "duration");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use super::generated::python::{
    AsgiRequest, CeleryTaskFinished, DbQuery, DjangoRequest, FlaskRequest,
};
use super::generated::{AnyEvent, SCHEMAS};
use super::rules::json_words;
use crate::json::kind;
use crate::model::typed::SchemaInfo;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

/// Why one event is not valid: the top-level field it concerns (`$` for the
/// whole document) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The event type, when the event has a string one.
    pub event_type: Option<String>,
    /// `duration`, `event_type`, or `$` for the whole document.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl Invalid {
    pub(crate) fn new(
        event_type: Option<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Invalid {
            event_type,
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Whether this is "unknown event type": no schema describes the
    /// event's `event_type` (what [`Options::allow_unknown`] accepts).
    pub fn is_unknown_event_type(&self) -> bool {
        self.path == "event_type" && self.reason.starts_with("unknown event type ")
    }
}

/// The `event_type` of a JSON object, read without building the document.
enum Head {
    /// No `event_type` key.
    Missing,
    /// A string `event_type`.
    Type(String),
    /// An `event_type` that is not a string.
    NotString(Value),
}

struct HeadVisitor;

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = Head;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let mut head = Head::Missing;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "event_type" {
                head = match map.next_value::<Value>()? {
                    Value::String(s) => Head::Type(s),
                    other => Head::NotString(other),
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(head)
    }
}

impl<'de> de::Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Head, D::Error> {
        d.deserialize_map(HeadVisitor)
    }
}

/// What to accept.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Event types no schema describes are valid (else reported).
    pub allow_unknown: bool,
}

/// The line as text and its `event_type` string, guessed from the text
/// (the typed parse that follows checks it).
fn guess_event_type(line: &[u8]) -> Option<(&str, &str)> {
    let s = std::str::from_utf8(line).ok()?;
    let at = s.find("\"event_type\"")?;
    let rest = s[at + 12..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes()[end] == b'"').then(|| (s, &rest[..end]))
}

/// The common types parse straight from the text.
fn fast_path(line: &str, event_type: &str) -> Option<AnyEvent> {
    fn typed<T: serde::de::DeserializeOwned + Into<AnyEvent>>(line: &str) -> Option<AnyEvent> {
        serde_json::from_str::<T>(line).ok().map(Into::into)
    }
    match event_type {
        "db.query" => typed::<DbQuery>(line),
        "flask.request" => typed::<FlaskRequest>(line),
        "django.request" => typed::<DjangoRequest>(line),
        "asgi.request" => typed::<AsgiRequest>(line),
        "celery.task_finished" => typed::<CeleryTaskFinished>(line),
        _ => None,
    }
}

/// Checks one NDJSON line; on success returns the parsed event.
pub fn check_line(line: &[u8], opts: Options) -> Result<AnyEvent, Invalid> {
    // Valid events of the common types: one parse. Anything else takes the
    // exact path below, which names what is wrong.
    if let Some(ev) = guess_event_type(line).and_then(|(s, t)| fast_path(s, t)) {
        return Ok(ev);
    }
    let head: Head = serde_json::from_slice(line).map_err(|e| from_json_error(None, &e))?;
    let event_type = match head {
        Head::Missing => {
            return Err(Invalid::new(None, "event_type", "missing required field"));
        }
        Head::NotString(v) => {
            return Err(Invalid::new(
                None,
                "event_type",
                format!("expected a string, found {}", short(&v)),
            ));
        }
        Head::Type(t) => t,
    };
    // The common types parse straight from the text; the others through
    // `AnyEvent` (same rules, one more copy).
    fn typed<T: serde::de::DeserializeOwned + Into<AnyEvent>>(
        line: &[u8],
        event_type: &str,
    ) -> Result<AnyEvent, Invalid> {
        serde_json::from_slice::<T>(line)
            .map(Into::into)
            .map_err(|e| from_json_error(Some(event_type), &e))
    }
    match event_type.as_str() {
        "db.query" => typed::<DbQuery>(line, &event_type),
        "flask.request" => typed::<FlaskRequest>(line, &event_type),
        "django.request" => typed::<DjangoRequest>(line, &event_type),
        "asgi.request" => typed::<AsgiRequest>(line, &event_type),
        "celery.task_finished" => typed::<CeleryTaskFinished>(line, &event_type),
        other => {
            if !opts.allow_unknown && !is_known(other) {
                return Err(unknown(other));
            }
            serde_json::from_slice::<Value>(line)
                .and_then(AnyEvent::from_value)
                .map_err(|e| from_json_error(Some(other), &e))
        }
    }
}

/// The schema called `name`: its [`SchemaInfo::name`] (`"python/db.query"`),
/// `folder::Type`, or a bare type or file name no other schema takes.
pub fn find_schema(name: &str) -> Option<&'static SchemaInfo> {
    SCHEMAS
        .iter()
        .find(|s| s.name == name || format!("{}::{}", s.namespace, s.type_name) == name)
        .or_else(|| {
            let mut bare = SCHEMAS
                .iter()
                .filter(|s| s.type_name == name || s.name.rsplit('/').next() == Some(name));
            match (bare.next(), bare.next()) {
                (Some(s), None) => Some(s),
                _ => None,
            }
        })
}

/// Checks one NDJSON line as the schema called `name` (see
/// [`find_schema`]), whatever its `event_type` says: for schemas that leave
/// the event type to the sender (Elixir's `ecto.query`, say). A schema with
/// a fixed event type still requires it.
pub fn check_line_as(line: &[u8], name: &str) -> Result<AnyEvent, Invalid> {
    let value: Value = serde_json::from_slice(line).map_err(|e| from_json_error(None, &e))?;
    check_value_as(value, name)
}

/// [`check_line_as`] for an already parsed value.
pub fn check_value_as(value: Value, name: &str) -> Result<AnyEvent, Invalid> {
    let event_type = match &value {
        Value::Object(m) => m
            .get("event_type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        other => {
            return Err(Invalid::new(
                None,
                "$",
                format!("expected an event object, found {}", kind(other)),
            ))
        }
    };
    if find_schema(name).is_none() {
        return Err(Invalid::new(
            event_type,
            "$",
            format!("no schema is called {}", Value::String(name.to_owned())),
        ));
    }
    AnyEvent::from_value_as(name, value).map_err(|e| from_json_error(event_type.as_deref(), &e))
}

/// Checks an already parsed JSON value (the receiver's path).
pub fn check_value(value: Value, opts: Options) -> Result<AnyEvent, Invalid> {
    let event_type = event_type_of(&value)?;
    if !opts.allow_unknown && !is_known(&event_type) {
        return Err(unknown(&event_type));
    }
    AnyEvent::from_value(value).map_err(|e| from_json_error(Some(&event_type), &e))
}

/// The `event_type` string of an event, or why there is none (the same
/// words for every schema, compiled or loaded).
pub(crate) fn event_type_of(value: &Value) -> Result<String, Invalid> {
    match value {
        Value::Object(m) => match m.get("event_type") {
            None => Err(Invalid::new(None, "event_type", "missing required field")),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(Invalid::new(
                None,
                "event_type",
                format!("expected a string, found {}", short(v)),
            )),
        },
        other => Err(Invalid::new(
            None,
            "$",
            format!("expected an event object, found {}", kind(other)),
        )),
    }
}

fn unknown(t: &str) -> Invalid {
    unknown_among(t, SCHEMAS.iter().map(|s| s.event_type))
}

/// "unknown event type", with the nearest of `names` when one is close
/// enough to be a typo (`order.placd` → "did you mean \"order.placed\"?").
pub(crate) fn unknown_among<'a>(t: &str, names: impl Iterator<Item = &'a str>) -> Invalid {
    let mut reason = format!("unknown event type {}", Value::String(t.to_owned()));
    if let Some(near) = nearest(t, names) {
        reason.push_str(&format!(
            " (did you mean {}?)",
            Value::String(near.to_owned())
        ));
    }
    Invalid::new(Some(t.to_owned()), "event_type", reason)
}

/// The name within a small edit distance of `t` (at most 2, and less than
/// a third of its length), the closest first.
fn nearest<'a>(t: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (t.chars().count() / 3).min(2);
    names
        .filter(|n| *n != t)
        .map(|n| (edit_distance(t, n), n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether a generated type describes `event_type`.
pub fn is_known(event_type: &str) -> bool {
    SCHEMAS.iter().any(|s| s.event_type == event_type)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        let mut end = 57;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}

/// Turns a serde_json error into a field path and a reason.
pub fn from_json_error(event_type: Option<&str>, e: &serde_json::Error) -> Invalid {
    use serde_json::error::Category;
    let et = event_type.map(str::to_owned);
    let mut msg = e.to_string();
    if e.line() > 0 {
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        if let Some(stripped) = msg.strip_suffix(&suffix) {
            msg = stripped.to_owned();
        }
    }
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            let at = if e.column() > 0 {
                format!(" at column {}", e.column())
            } else {
                String::new()
            };
            return Invalid::new(et, "$", format!("invalid JSON: {msg}{at}"));
        }
        Category::Data => {}
    }
    if let Some(rest) = msg.strip_prefix("field \"") {
        if let Some((field, reason)) = rest.split_once("\": ") {
            return Invalid::new(et, field, reason);
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some(field) = rest.strip_suffix('`') {
            return Invalid::new(et, field, "missing required field");
        }
    }
    if msg.starts_with("event_type mismatch") {
        return Invalid::new(et, "event_type", msg);
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        // The document itself is not an object.
        let found = rest.split(", expected").next().unwrap_or(rest);
        return Invalid::new(et, "$", format!("expected an event object, found {found}"));
    }
    Invalid::new(et, "$", json_words(&msg))
}

/// What [`check_examples`] found about one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExampleFinding {
    /// Example `index` of `schema` is valid as its type.
    Valid {
        /// The schema's name (`"python/db.query"`).
        schema: &'static str,
        /// Which example.
        index: usize,
    },
    /// Example `index` of `schema` does not validate: `reason`.
    Invalid {
        /// The schema's name.
        schema: &'static str,
        /// Which example.
        index: usize,
        /// Why, as the parser said.
        reason: String,
    },
    /// Required field `field` set to a value of the wrong JSON type
    /// (`value`) was rejected, with an error naming the field.
    Flagged {
        /// The schema's name.
        schema: &'static str,
        /// The field.
        field: &'static str,
        /// The wrong value tried, as JSON.
        value: String,
    },
    /// Required field `field` set to `value` (of the wrong JSON type) was
    /// accepted, or rejected without naming the field: a gap in the checks.
    Missed {
        /// The schema's name.
        schema: &'static str,
        /// The field.
        field: &'static str,
        /// The wrong value tried, as JSON.
        value: String,
        /// The error, if there was one.
        error: Option<String>,
    },
    /// The schema has no example to start from.
    NoExample {
        /// The schema's name.
        schema: &'static str,
    },
}

impl ExampleFinding {
    /// Whether this finding is a problem (an invalid example or a missed
    /// wrong type).
    pub fn is_problem(&self) -> bool {
        matches!(self, Self::Invalid { .. } | Self::Missed { .. })
    }
}

/// A value of a JSON type that `json_type` (as in [`FieldInfo::json_type`]:
/// `"string"`, `"[\"string\",\"null\"]"`) does not allow, if the field's type
/// is known.
///
/// [`FieldInfo::json_type`]: crate::FieldInfo::json_type
pub fn wrong_value_for(json_type: &str) -> Option<Value> {
    let allowed: Vec<String> = if json_type.starts_with('[') {
        serde_json::from_str(json_type).ok()?
    } else {
        vec![json_type.to_owned()]
    };
    const KNOWN: [&str; 7] = [
        "string", "number", "integer", "boolean", "object", "array", "null",
    ];
    if allowed.is_empty() || allowed.iter().any(|t| !KNOWN.contains(&t.as_str())) {
        return None; // `any`, a `$ref`: no type to violate
    }
    let allows = |t: &str| allowed.iter().any(|a| a == t);
    let candidates = [
        (
            serde_json::json!(12345),
            allows("number") || allows("integer"),
        ),
        (Value::String("not the right type".into()), allows("string")),
        (Value::Bool(true), allows("boolean")),
        (Value::Array(Vec::new()), allows("array")),
        (Value::Object(serde_json::Map::new()), allows("object")),
    ];
    candidates.into_iter().find(|(_, ok)| !ok).map(|(v, _)| v)
}

/// Checks every schema's own examples ([`SchemaInfo::examples`]): each must
/// parse as its schema with `parse_as` (the schema's name and the event;
/// for generated types `AnyEvent::from_value_as`), and dispatch to the same
/// value with `dispatch` (`AnyEvent::from_value`, `None` for `Unknown`),
/// unless the schema leaves the event type to the sender. Then each
/// required field, set to a value of the wrong JSON type, must be rejected
/// by `parse_as` with an error naming it.
///
/// For a crate's own schemas, in a test:
///
/// ```
/// use insights_events::check::{check_examples, example_problems};
/// use insights_events::{AnyEvent, SCHEMAS};
///
/// let findings = check_examples(
///     SCHEMAS,
///     |name, v| AnyEvent::from_value_as(name, v).map_err(|e| e.to_string()),
///     |v| match AnyEvent::from_value(v) {
///         Ok(AnyEvent::Unknown(_)) => Ok(None),
///         other => other.map(Some).map_err(|e| e.to_string()),
///     },
/// );
/// assert_eq!(example_problems(SCHEMAS, &findings), Vec::<String>::new());
/// ```
pub fn check_examples<T: PartialEq + fmt::Debug>(
    schemas: &'static [SchemaInfo],
    mut parse_as: impl FnMut(&str, Value) -> Result<T, String>,
    mut dispatch: impl FnMut(Value) -> Result<Option<T>, String>,
) -> Vec<ExampleFinding> {
    let mut out = Vec::new();
    for s in schemas {
        let examples: Vec<Value> = s
            .examples
            .iter()
            .filter_map(|e| serde_json::from_str(e).ok())
            .collect();
        if examples.is_empty() {
            out.push(ExampleFinding::NoExample { schema: s.name });
            continue;
        }
        for (index, ex) in examples.iter().enumerate() {
            let verdict =
                parse_as(s.name, ex.clone()).and_then(|typed| match dispatch(ex.clone())? {
                    Some(d) if d == typed => Ok(()),
                    None if s.free_event_type => Ok(()),
                    other => Err(format!(
                        "dispatch on event_type chose {other:?}, not this schema"
                    )),
                });
            out.push(match verdict {
                Ok(()) => ExampleFinding::Valid {
                    schema: s.name,
                    index,
                },
                Err(reason) => ExampleFinding::Invalid {
                    schema: s.name,
                    index,
                    reason,
                },
            });
        }
        let base = &examples[0];
        for f in s.fields.iter().filter(|f| f.required) {
            let Some(wrong) = wrong_value_for(f.json_type) else {
                continue;
            };
            let mut ev = base.clone();
            if let Value::Object(m) = &mut ev {
                m.insert(f.name.to_owned(), wrong.clone());
            }
            let value = wrong.to_string();
            match parse_as(s.name, ev) {
                Err(e)
                    if e.contains(&format!("field \"{}", f.name))
                        || e.starts_with(&format!("{}:", f.name)) =>
                {
                    out.push(ExampleFinding::Flagged {
                        schema: s.name,
                        field: f.name,
                        value,
                    })
                }
                result => out.push(ExampleFinding::Missed {
                    schema: s.name,
                    field: f.name,
                    value,
                    error: result.err(),
                }),
            }
        }
    }
    out
}

/// What is wrong in `findings` (from [`check_examples`] over `schemas`), one
/// line each: an invalid example, a wrong type that got through, a schema
/// without a valid example, a required field of a known JSON type that was
/// never tried. Empty when all is well.
pub fn example_problems(schemas: &[SchemaInfo], findings: &[ExampleFinding]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .filter(|f| f.is_problem())
        .map(|f| format!("{f:?}"))
        .collect();
    for s in schemas {
        let valid = findings
            .iter()
            .any(|f| matches!(f, ExampleFinding::Valid { schema, .. } if *schema == s.name));
        if !valid {
            out.push(format!("{}: no example validates", s.name));
            continue;
        }
        for field in s.fields.iter().filter(|f| f.required) {
            if wrong_value_for(field.json_type).is_none() {
                continue;
            }
            let flagged = findings.iter().any(|f| {
                matches!(f, ExampleFinding::Flagged { schema, field: n, .. }
                    if *schema == s.name && *n == field.name)
            });
            if !flagged {
                out.push(format!(
                    "{}.{}: a wrong type was not flagged",
                    s.name, field.name
                ));
            }
        }
    }
    out
}

/// Valid, invalid and unknown counts per event type.
///
/// An event is counted once: valid (its schema accepts it), invalid (its
/// schema or the JSON rejects it) or unknown (no schema describes its
/// event type, whether or not [`Options::allow_unknown`] accepts it).
#[derive(Debug, Default)]
pub struct Tally {
    by_type: BTreeMap<String, [u64; 3]>,
}

impl Tally {
    /// Counts one valid event.
    pub fn valid(&mut self, event_type: &str) {
        self.entry(event_type)[0] += 1;
    }

    /// Counts one invalid event.
    pub fn invalid(&mut self, event_type: Option<&str>) {
        self.entry(event_type.unwrap_or("(no event_type)"))[1] += 1;
    }

    /// Counts one event of an event type no schema describes.
    pub fn unknown(&mut self, event_type: &str) {
        self.entry(event_type)[2] += 1;
    }

    fn entry(&mut self, t: &str) -> &mut [u64; 3] {
        // Avoid allocating a key on the hot path when the type is known.
        if !self.by_type.contains_key(t) {
            self.by_type.insert(t.to_owned(), [0; 3]);
        }
        self.by_type.get_mut(t).expect("inserted above")
    }

    /// Total (valid, invalid).
    pub fn totals(&self) -> (u64, u64) {
        let [v, i, _] = self.all_totals();
        (v, i)
    }

    /// Total events of unknown event types.
    pub fn unknown_total(&self) -> u64 {
        self.all_totals()[2]
    }

    /// Every event counted: valid, invalid and unknown.
    pub fn received(&self) -> u64 {
        self.all_totals().iter().sum()
    }

    fn all_totals(&self) -> [u64; 3] {
        self.by_type.values().fold([0; 3], |mut acc, c| {
            for (a, n) in acc.iter_mut().zip(c) {
                *a += n;
            }
            acc
        })
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        for (t, counts) in &other.by_type {
            let e = self.entry(t);
            for (a, n) in e.iter_mut().zip(counts) {
                *a += n;
            }
        }
    }
}

/// One table row per event type, then the total; the `unknown` column
/// only when some event type was unknown.
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .by_type
            .keys()
            .map(|k| k.chars().count())
            .chain(["event type".len(), "total".len()])
            .max()
            .unwrap_or(10);
        let unknown = self.unknown_total() > 0;
        let row = |f: &mut fmt::Formatter<'_>, t: &str, c: [String; 3]| {
            write!(f, "{t:<width$}  {:>10}  {:>10}", c[0], c[1])?;
            if unknown {
                write!(f, "  {:>10}", c[2])?;
            }
            Ok(())
        };
        row(
            f,
            "event type",
            ["valid".into(), "invalid".into(), "unknown".into()],
        )?;
        writeln!(f)?;
        for (t, c) in &self.by_type {
            row(f, t, c.map(|n| n.to_string()))?;
            writeln!(f)?;
        }
        row(f, "total", self.all_totals().map(|n| n.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_as_a_named_schema() {
        let line = br#"{"event_type":"db.query","query":"q","duration":1}"#;
        assert!(check_line_as(line, "python/db.query").is_ok());
        assert!(check_line_as(line, "python::DbQuery").is_ok());
        assert!(check_line_as(line, "DbQuery").is_ok());
        // A fixed event type is still checked.
        let e = check_line_as(line, "python/flask.request").unwrap_err();
        assert_eq!(e.path, "event_type", "{e}");
        let e = check_line_as(line, "nope/nothing").unwrap_err();
        assert_eq!(e.reason, "no schema is called \"nope/nothing\"");
        let e = check_line_as(
            br#"{"event_type":"db.query","query":"q","duration":"x"}"#,
            "python/db.query",
        )
        .unwrap_err();
        assert_eq!(e.path, "duration");
        assert_eq!(e.reason, "invalid type: string \"x\", expected a number");
        assert_eq!(
            find_schema("python/db.query").map(|s| s.type_name),
            Some("DbQuery")
        );
        assert!(find_schema("db.query").is_some());
    }

    fn err(line: &str) -> Invalid {
        check_line(line.as_bytes(), Options::default()).unwrap_err()
    }

    #[test]
    fn paths_and_reasons() {
        assert!(check_line(
            br#"{"event_type":"db.query","query":"SELECT 1","duration":1.5,"ts":"x"}"#,
            Options::default()
        )
        .is_ok());
        let e = err(r#"{"event_type":"db.query","query":"SELECT 1","duration":"slow"}"#);
        assert_eq!(e.path, "duration");
        assert!(e.reason.starts_with("invalid type: string \"slow\""), "{e}");
        assert!(
            e.reason.ends_with("expected a number"),
            "in JSON's words: {e}"
        );
        let e = err(r#"{"event_type":"db.query","duration":1}"#);
        assert_eq!(
            (e.path.as_str(), e.reason.as_str()),
            ("query", "missing required field")
        );
        let e = err(r#"{"event_type":"db.query","#);
        assert_eq!(e.path, "$");
        assert!(e.reason.starts_with("invalid JSON"), "{e}");
        assert_eq!(err("[1,2]").path, "$");
        assert_eq!(err("42").path, "$");
        assert_eq!(err(r#"{"a":1}"#).path, "event_type");
        assert_eq!(err(r#"{"event_type":3}"#).path, "event_type");
        let e = err(r#"{"event_type":"x.y"}"#);
        assert_eq!(e.reason, "unknown event type \"x.y\"");
        assert!(check_line(
            br#"{"event_type":"x.y"}"#,
            Options {
                allow_unknown: true
            }
        )
        .is_ok());
        // nulls for optional fields and extra keys, as honeybadger-python sends
        assert!(check_line(
            br#"{"event_type":"flask.request","path":"/","method":"GET","blueprint":null,"status":200,"ts":"t","hostname":"h"}"#,
            Options::default()
        )
        .is_ok());
    }

    #[test]
    fn value_path_matches_line_path() {
        let v: Value =
            serde_json::from_str(r#"{"event_type":"db.query","query":1,"duration":1}"#).unwrap();
        let e = check_value(v, Options::default()).unwrap_err();
        assert_eq!(e.path, "query");
    }
}
