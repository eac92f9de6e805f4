//! Schemas loaded at run time: a user's own JSON Schema files, checked with
//! the same rules and in the same words as the types generated from
//! `schemas/` at build time (`insights-events validate --schemas DIR`,
//! `insights-events receive --schemas DIR`).
//!
//! ```
//! use insights_events::check::Options;
//! use insights_events::loaded::LoadedSchemas;
//!
//! let dir = tempfile_dir();
//! std::fs::create_dir_all(dir.join("shop")).unwrap();
//! std::fs::write(
//!     dir.join("shop/order.placed.schema.json"),
//!     r#"{"type": "object",
//!         "properties": {"event_type": {"const": "order.placed"}, "total": {"type": "number"}},
//!         "required": ["event_type", "total"]}"#,
//! )
//! .unwrap();
//! let schemas = LoadedSchemas::load(&[dir.clone()]).unwrap();
//! assert_eq!(schemas.names(), ["shop/order.placed"]);
//! let ok = schemas.check_line(br#"{"event_type":"order.placed","total":12.5}"#, Options::default());
//! assert!(ok.unwrap().known);
//! let bad = schemas.check_line(br#"{"event_type":"order.placed","total":"12"}"#, Options::default());
//! let bad = bad.unwrap_err();
//! assert_eq!(bad.path, "total");
//! assert_eq!(bad.reason, "invalid type: string \"12\", expected a number");
//! # fn tempfile_dir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("ie-loaded-doc-{}", std::process::id()));
//! #     let _ = std::fs::remove_dir_all(&d);
//! #     d
//! # }
//! ```
//!
//! # The choice: a small model of the generated types, not a validator crate
//!
//! A JSON Schema validator (the `jsonschema` crate, say) would check the
//! schema's rules, but not the generated types' rules, which differ on
//! purpose (a `null` for an optional field is accepted, as the Honeybadger
//! clients send it; nested number bounds are not checked; a nested object
//! given as an array is read field by field, as serde reads a struct), and
//! it would word every error its own way. A loaded schema must give the
//! verdict *and the message* a generated type gives, so that a user sees
//! one language whether their schema is compiled in or loaded. So each
//! schema file becomes a small tree of nodes that mirrors, node by
//! node, the Rust type the generator (and typify, under it) makes for it,
//! and every check ends in the same place a generated type's does:
//! primitives are read by serde itself (`String`, `i64`, `f64`, `bool`),
//! a top-level field's error becomes `field "path": reason` in
//! `json_words`, bounds go through [`check_bounds`], consts through
//! [`const_eq`], and the result through [`check::from_json_error`]. The
//! agreement test (`tests/loaded_schemas.rs`) loads the crate's own
//! `schemas/` at run time and compares both on every example and every
//! wrong type.
//!
//! What is checked, as the generated types check it:
//!
//! * required fields (`missing required field`), JSON types (`integer` vs
//!   `number`), nullable type arrays (`["string", "null"]`: `null` is
//!   fine), `null` for an optional top-level field (accepted);
//! * `enum` of strings (`expected one of "a", "b", found "c"`), `const`
//!   (`expected "router", found "web"`);
//! * bounds of top-level fields (`minimum`, `maximum`, `exclusiveMinimum`,
//!   `exclusiveMaximum`, `minLength`, `maxLength`), in [`check_bounds`]'s
//!   words. **Nested bounds**: numeric bounds inside nested objects and
//!   arrays are not checked (the generator drops them too); string lengths
//!   inside are, in typify's words (`longer than 8 characters`), as the
//!   generated nested types do. The two agree on every event.
//! * `additionalProperties` at the top (`false`: `not allowed`, or a
//!   schema for the other keys), nested objects (`properties`, their
//!   `required`, `additionalProperties: false`), arrays (`items`), maps
//!   (an object with only an `additionalProperties` schema), local
//!   `$ref`s to `definitions` / `$defs`.
//!
//! Checked, in words of their own (the generated types use typify's
//! untagged enums or flattened maps for these): type arrays of several
//! non-null types, `anyOf` / `oneOf` of several schemas, an `enum` or a
//! `const` of non-strings inside an object, a nested object with both
//! `properties` and an `additionalProperties` schema. Not checked, by
//! either: `format`, `pattern`, `multipleOf`.
//!
//! Checked against the generated types on the whole published catalog (109
//! schemas; every value at every depth given every JSON type, or removed:
//! about 20,000 events, the same verdict and the same words on each) by
//! `tests/loaded_catalog_agreement.rs`.
//!
//! # Which schema an event goes to
//!
//! A schema whose `event_type` property has a `const` (or that has no
//! `event_type` property: its file name is the event type) takes the
//! events of that type; when several share one, their consts pick, the
//! first (in load order) whose consts the event holds, as the generated
//! `AnyEvent` picks. (Within one folder, two schemas may share an event
//! type only when a required const tells them apart: loading fails
//! otherwise, as generating does. Across folders the first folder wins.)
//! **A loaded schema takes precedence over a compiled one with the same
//! event type.** Then the compiled types.
//! An event whose type neither claims is placed by [`placing::place`] among
//! the loaded schemas whose `event_type` is free: by their required consts,
//! then by name patterns (the file name, an `x-event-type-pattern` on the
//! `event_type` property, else its `examples` through
//! [`placing::patterns_from_example`]). Nothing else is guessed: the event
//! type is unknown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Error as _, IgnoredAny, Unexpected};
use serde_json::{Map, Value};

use super::check::{self, event_type_of, from_json_error, unknown_among, Invalid, Options};
use super::generated::{AnyEvent, SCHEMAS};
use super::placing::{self, Claim, Placed};
use super::rules::{check_bounds, const_eq, consts_match, json_words};

/// Why loading schemas failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A folder or file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not a usable event schema.
    #[error("{}: {message}", file.display())]
    Schema {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A folder holds no schema files, directly or in its folders.
    #[error("{}: no schema files (*.json) in this folder or its folders", dir.display())]
    Empty {
        /// The folder.
        dir: PathBuf,
    },
}

/// What an event was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The event's `event_type`.
    pub event_type: String,
    /// Whether a schema described it; `false`: its event type is unknown
    /// (accepted because of [`Options::allow_unknown`]).
    pub known: bool,
}

/// A runtime model of one schema node: the Rust type the generator would
/// make for it, as far as checking goes.
#[derive(Debug, Clone)]
enum Node {
    /// `serde_json::Value`: anything.
    Any,
    /// `()`: only `null`.
    Null,
    /// `Option<T>`: `null`, or a `T`.
    Nullable(Box<Node>),
    /// `String`, with typify's length checks (nested strings).
    Str { min: Option<u64>, max: Option<u64> },
    /// `i64`.
    Int,
    /// `f64`.
    Num,
    /// `bool`.
    Bool,
    /// An enum of strings (typify's unit enum).
    StrEnum(Vec<String>),
    /// An enum or const of other values (words of our own).
    ValueEnum(Vec<Value>),
    /// `Vec<T>`.
    Array(Box<Node>),
    /// `Map<String, T>`.
    Map(Box<Node>),
    /// A struct (an object with `properties`).
    Struct(Struct),
    /// One of several JSON types (words of our own).
    Types(Vec<String>),
    /// One of several schemas (words of our own).
    AnyOf(Vec<Node>),
}

#[derive(Debug, Clone)]
struct Struct {
    /// Sorted by key, as typify declares them.
    fields: Vec<StructField>,
    deny_unknown: bool,
    extra: Option<Box<Node>>,
}

#[derive(Debug, Clone)]
struct StructField {
    key: String,
    node: Node,
    presence: Presence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// Must be there.
    Required,
    /// `Option<T>`: may be missing or `null`.
    Optional,
    /// A `Vec` or `Map` with `#[serde(default)]`: may be missing, not `null`.
    DefaultEmpty,
}

/// A failure inside a value: where (serde_path_to_error's path) and
/// serde's own message.
struct Fail {
    path: Vec<Seg>,
    msg: String,
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for (i, s) in path.iter().enumerate() {
        match s {
            Seg::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(n) => out.push_str(&format!("[{n}]")),
        }
    }
    out
}

fn fail(path: &[Seg], msg: impl Into<String>) -> Fail {
    Fail {
        path: path.to_vec(),
        msg: msg.into(),
    }
}

/// What serde calls a JSON value when it did not expect it.
fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Unexpected::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Unexpected::Signed(i)
            } else {
                Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// serde's list of names: `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
fn one_of(names: &[&str]) -> String {
    match names {
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

/// serde's `unknown_variant` message.
fn unknown_variant(found: &str, names: &[&str]) -> String {
    if names.is_empty() {
        format!("unknown variant `{found}`, there are no variants")
    } else {
        format!("unknown variant `{found}`, expected {}", one_of(names))
    }
}

/// serde's `unknown_field` message.
fn unknown_field(found: &str, names: &[&str]) -> String {
    if names.is_empty() {
        format!("unknown field `{found}`, there are no fields")
    } else {
        format!("unknown field `{found}`, expected {}", one_of(names))
    }
}

/// Reads `v` as a `T` with serde, for serde's message.
fn serde_reads<'a, T: Deserialize<'a>>(v: &'a Value, path: &[Seg]) -> Result<(), Fail> {
    T::deserialize(v)
        .map(drop)
        .map_err(|e| fail(path, e.to_string()))
}

impl Node {
    fn check(&self, v: &Value, path: &mut Vec<Seg>) -> Result<(), Fail> {
        match self {
            Node::Any => Ok(()),
            Node::Null => serde_reads::<()>(v, path),
            Node::Nullable(inner) => match v {
                Value::Null => Ok(()),
                _ => inner.check(v, path),
            },
            Node::Str { min, max } => {
                let Value::String(s) = v else {
                    return serde_reads::<String>(v, path);
                };
                if min.is_none() && max.is_none() {
                    return Ok(());
                }
                let n = s.chars().count() as u64;
                if let Some(m) = max.filter(|m| n > *m) {
                    return Err(fail(path, format!("longer than {m} characters")));
                }
                if let Some(m) = min.filter(|m| n < *m) {
                    return Err(fail(path, format!("shorter than {m} characters")));
                }
                Ok(())
            }
            Node::Int => serde_reads::<i64>(v, path),
            Node::Num => serde_reads::<f64>(v, path),
            Node::Bool => serde_reads::<bool>(v, path),
            Node::StrEnum(names) => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                match v {
                    Value::String(s) if names.contains(&s.as_str()) => Ok(()),
                    Value::String(s) => Err(fail(path, unknown_variant(s, &names))),
                    // serde_json reads `{"variant": null}` as a unit variant.
                    Value::Object(m) if m.len() == 1 => {
                        let (k, inner) = m.iter().next().expect("one entry");
                        if !names.contains(&k.as_str()) {
                            return Err(fail(path, unknown_variant(k, &names)));
                        }
                        path.push(Seg::Key(k.clone()));
                        serde_reads::<()>(inner, path)?;
                        path.pop();
                        Ok(())
                    }
                    Value::Object(_) => Err(fail(
                        path,
                        serde_json::Error::invalid_value(Unexpected::Map, &"map with a single key")
                            .to_string(),
                    )),
                    other => Err(fail(
                        path,
                        serde_json::Error::invalid_type(unexpected(other), &"string or map")
                            .to_string(),
                    )),
                }
            }
            Node::ValueEnum(values) => {
                if values.iter().any(|c| const_eq(v, &c.to_string())) {
                    return Ok(());
                }
                let list: Vec<String> = values.iter().map(Value::to_string).collect();
                let expected = match list.as_slice() {
                    [one] => one.clone(),
                    _ => format!("one of {}", list.join(", ")),
                };
                Err(fail(path, format!("expected {expected}, found {v}")))
            }
            Node::Array(item) => {
                let Value::Array(items) = v else {
                    return serde_reads::<Vec<IgnoredAny>>(v, path);
                };
                for (i, x) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    item.check(x, path)?;
                    path.pop();
                }
                Ok(())
            }
            Node::Map(value) => {
                let Value::Object(m) = v else {
                    return serde_reads::<BTreeMap<String, IgnoredAny>>(v, path);
                };
                for (k, x) in m {
                    path.push(Seg::Key(k.clone()));
                    value.check(x, path)?;
                    path.pop();
                }
                Ok(())
            }
            Node::Struct(s) => s.check(v, path),
            Node::Types(types) => {
                let ok = types.iter().any(|t| match (t.as_str(), v) {
                    ("string", Value::String(_))
                    | ("boolean", Value::Bool(_))
                    | ("number", Value::Number(_))
                    | ("array", Value::Array(_))
                    | ("object", Value::Object(_)) => true,
                    ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
                    _ => false,
                });
                if ok {
                    return Ok(());
                }
                Err(fail(
                    path,
                    format!(
                        "invalid type: {}, expected one of {}",
                        unexpected(v),
                        types.join(", ")
                    ),
                ))
            }
            Node::AnyOf(alts) => {
                let mut first = None;
                for alt in alts {
                    let mut p = path.clone();
                    match alt.check(v, &mut p) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                Err(first.unwrap_or_else(|| fail(path, "no schema matches")))
            }
        }
    }
}

impl Struct {
    fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.key.as_str()).collect()
    }

    fn check(&self, v: &Value, path: &mut Vec<Seg>) -> Result<(), Fail> {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if let Some(f) = self.fields.iter().find(|f| f.key == *k) {
                        path.push(Seg::Key(k.clone()));
                        f.check_present(x, path)?;
                        path.pop();
                    } else if self.deny_unknown {
                        return Err(fail(path, unknown_field(k, &self.names())));
                    } else if let Some(extra) = &self.extra {
                        path.push(Seg::Key(k.clone()));
                        extra.check(x, path)?;
                        path.pop();
                    }
                }
                for f in &self.fields {
                    if f.presence == Presence::Required && !m.contains_key(&f.key) {
                        return Err(fail(path, format!("missing field `{}`", f.key)));
                    }
                }
                Ok(())
            }
            // serde reads a struct from an array too, field by field.
            Value::Array(items) => {
                let n = self.fields.len();
                for (i, f) in self.fields.iter().enumerate() {
                    match items.get(i) {
                        Some(x) => {
                            path.push(Seg::Index(i));
                            f.check_present(x, path)?;
                            path.pop();
                        }
                        None if f.presence == Presence::DefaultEmpty => {}
                        None => {
                            let s = if n == 1 { "" } else { "s" };
                            return Err(fail(
                                path,
                                format!(
                                    "invalid length {i}, expected struct Object with {n} element{s}"
                                ),
                            ));
                        }
                    }
                }
                if items.len() > n {
                    return Err(fail(
                        path,
                        format!(
                            "invalid length {}, expected fewer elements in array",
                            items.len()
                        ),
                    ));
                }
                Ok(())
            }
            other => Err(fail(
                path,
                serde_json::Error::invalid_type(unexpected(other), &"struct Object").to_string(),
            )),
        }
    }
}

impl StructField {
    fn check_present(&self, v: &Value, path: &mut Vec<Seg>) -> Result<(), Fail> {
        if self.presence == Presence::Optional && v.is_null() {
            return Ok(());
        }
        self.node.check(v, path)
    }
}

/// Resolves a local `$ref` (`#/definitions/x`, `#/$defs/x`).
fn resolve<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    let pointer = r.strip_prefix('#')?;
    root.pointer(pointer)
}

/// The node for schema `s` (inside the file whose root is `root`).
fn node_of(s: &Value, root: &Value, depth: u32) -> Node {
    let Value::Object(o) = s else {
        return Node::Any;
    };
    if depth > 64 {
        return Node::Any;
    }
    if let Some(Value::String(r)) = o.get("$ref") {
        return match resolve(root, r) {
            Some(target) => node_of(target, root, depth + 1),
            None => Node::Any,
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = o.get(key) {
            let is_null = |a: &Value| a.get("type").and_then(Value::as_str) == Some("null");
            let rest: Vec<&Value> = alts.iter().filter(|a| !is_null(a)).collect();
            let nullable = rest.len() < alts.len();
            let node = match rest.as_slice() {
                [] => Node::Null,
                [one] => node_of(one, root, depth + 1),
                many => Node::AnyOf(many.iter().map(|a| node_of(a, root, depth + 1)).collect()),
            };
            return if nullable && !matches!(node, Node::Null) {
                Node::Nullable(Box::new(node))
            } else {
                node
            };
        }
    }
    if let Some(c) = o.get("const") {
        return match c {
            Value::String(s) => Node::StrEnum(vec![s.clone()]),
            other => Node::ValueEnum(vec![other.clone()]),
        };
    }
    let mut types: Vec<&str> = match o.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if o.contains_key("properties") => vec!["object"],
        _ if o.contains_key("items") => vec!["array"],
        _ => Vec::new(),
    };
    let nullable = types.contains(&"null");
    types.retain(|t| *t != "null");
    if let Some(Value::Array(values)) = o.get("enum") {
        let with_null = values.iter().any(Value::is_null);
        let values: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        let node = if values.iter().all(|v| v.is_string()) {
            Node::StrEnum(
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            )
        } else {
            Node::ValueEnum(values.into_iter().cloned().collect())
        };
        return if nullable || with_null {
            Node::Nullable(Box::new(node))
        } else {
            node
        };
    }
    let node = match types.as_slice() {
        [] if nullable => return Node::Null,
        [] => Node::Any,
        ["string"] => Node::Str {
            min: o.get("minLength").and_then(Value::as_u64),
            max: o.get("maxLength").and_then(Value::as_u64),
        },
        ["integer"] => Node::Int,
        ["number"] => Node::Num,
        ["boolean"] => Node::Bool,
        ["array"] => Node::Array(Box::new(match o.get("items") {
            Some(items @ Value::Object(_)) => node_of(items, root, depth + 1),
            _ => Node::Any,
        })),
        ["object"] => object_node(o, root, depth),
        many => Node::Types(many.iter().map(|t| (*t).to_owned()).collect()),
    };
    if nullable {
        Node::Nullable(Box::new(node))
    } else {
        node
    }
}

fn required_of(o: &Map<String, Value>) -> Vec<String> {
    o.get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An object schema inside an event: a struct, or a map.
fn object_node(o: &Map<String, Value>, root: &Value, depth: u32) -> Node {
    let extra = match o.get("additionalProperties") {
        Some(s @ Value::Object(m)) if !m.is_empty() => Some(Box::new(node_of(s, root, depth + 1))),
        _ => None,
    };
    let props = o.get("properties").and_then(Value::as_object);
    let required = required_of(o);
    if props.is_none_or(|p| p.is_empty()) && required.is_empty() {
        return Node::Map(extra.unwrap_or(Box::new(Node::Any)));
    }
    let mut fields: Vec<StructField> = Vec::new();
    for (key, schema) in props.into_iter().flatten() {
        let node = node_of(schema, root, depth + 1);
        let presence = if required.contains(key) {
            Presence::Required
        } else if matches!(node, Node::Array(_) | Node::Map(_)) {
            Presence::DefaultEmpty
        } else {
            Presence::Optional
        };
        fields.push(StructField {
            key: key.clone(),
            node,
            presence,
        });
    }
    // The generated struct has its fields in the schema's order (serde
    // reads an array form in that order); required keys the properties do
    // not describe come after them, sorted, as typify leaves them.
    let mut undescribed: Vec<StructField> = required
        .iter()
        .filter(|key| !fields.iter().any(|f| f.key == **key))
        .map(|key| StructField {
            key: key.clone(),
            node: Node::Any,
            presence: Presence::Required,
        })
        .collect();
    undescribed.sort_by(|a, b| a.key.cmp(&b.key));
    fields.extend(undescribed);
    Node::Struct(Struct {
        fields,
        deny_unknown: o.get("additionalProperties") == Some(&Value::Bool(false)),
        extra,
    })
}

/// A top-level field of a loaded schema.
#[derive(Debug, Clone)]
struct TopField {
    key: String,
    node: Node,
    required: bool,
    json_type: String,
    numbers: [Option<f64>; 4],
    lengths: [Option<u64>; 2],
}

impl TopField {
    fn has_bounds(&self) -> bool {
        self.numbers.iter().any(Option::is_some) || self.lengths.iter().any(Option::is_some)
    }
}

/// What a schema says of top-level keys it does not describe.
#[derive(Debug, Clone)]
enum Extra {
    Any,
    Forbidden,
    Schema(Node),
}

/// One schema file, loaded.
#[derive(Debug, Clone)]
pub struct LoadedSchema {
    name: String,
    file: PathBuf,
    event_type: String,
    free: bool,
    consts: Vec<(String, String, bool)>,
    fields: Vec<TopField>,
    extra: Extra,
    name_patterns: Vec<String>,
    examples: Vec<Value>,
    example: Option<Value>,
}

impl LoadedSchema {
    /// `folder/file`, the file name without `.schema.json` / `.json`
    /// (`honeybadger-elixir/ecto.query`): what `--type` takes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder part of its name.
    pub fn folder(&self) -> &str {
        self.name.split_once('/').map_or("", |f| f.0)
    }

    /// The file it came from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The event type: the `event_type` const, else the file name.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// Whether the schema leaves `event_type` to the sender (an
    /// `event_type` property without a `const`).
    pub fn free_event_type(&self) -> bool {
        self.free
    }

    /// The required top-level fields (not `event_type`, not consts), with
    /// their JSON type as written (`"string"`, `["string","null"]`).
    pub fn required_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter(|f| f.required)
            .map(|f| (f.key.as_str(), f.json_type.as_str()))
    }

    /// The schema's own `examples` (objects only).
    pub fn examples(&self) -> &[Value] {
        &self.examples
    }

    /// One event built from the first example of each property (the
    /// `event_type` property's first example, else the event type; each
    /// const's value), when every required property has one.
    pub fn example_from_properties(&self) -> Option<&Value> {
        self.example.as_ref()
    }

    fn claim_consts(&self) -> Vec<(&str, &str)> {
        self.consts
            .iter()
            .filter(|c| c.2)
            .map(|c| (c.0.as_str(), c.1.as_str()))
            .collect()
    }

    /// Checks `map` (an event object) as this schema, as the generated type
    /// reads it: keys in order, then what is missing.
    fn parse(&self, map: &Map<String, Value>) -> Result<(), serde_json::Error> {
        let field_error = |name: &str, f: Fail| {
            let inner = render_path(&f.path);
            let at = if inner.is_empty() {
                name.to_owned()
            } else if inner.starts_with('[') {
                format!("{name}{inner}")
            } else {
                format!("{name}.{inner}")
            };
            serde_json::Error::custom(format_args!("field \"{at}\": {}", json_words(&f.msg)))
        };
        let mut seen_event_type = false;
        for (key, v) in map {
            if key == "event_type" {
                if self.free {
                    Node::Str {
                        min: None,
                        max: None,
                    }
                    .check(v, &mut Vec::new())
                    .map_err(|f| field_error(key, f))?;
                } else if v.as_str() != Some(self.event_type.as_str()) {
                    return Err(serde_json::Error::custom(format_args!(
                        "event_type mismatch: expected \"{}\", found {}",
                        self.event_type, v
                    )));
                }
                seen_event_type = true;
            } else if let Some((_, json, _)) = self.consts.iter().find(|c| c.0 == *key) {
                if !const_eq(v, json) {
                    return Err(serde_json::Error::custom(format_args!(
                        "field \"{key}\": expected {json}, found {v}"
                    )));
                }
            } else if let Some(f) = self.fields.iter().find(|f| f.key == *key) {
                if f.has_bounds() {
                    check_bounds::<serde_json::Error>(key, v, f.numbers, f.lengths)?;
                }
                if f.required || !v.is_null() {
                    f.node
                        .check(v, &mut Vec::new())
                        .map_err(|e| field_error(key, e))?;
                }
            } else {
                match &self.extra {
                    Extra::Any => {}
                    Extra::Forbidden => {
                        return Err(serde_json::Error::custom(format_args!(
                            "field \"{key}\": not allowed (the schema sets \"additionalProperties\": false)"
                        )))
                    }
                    Extra::Schema(node) => node
                        .check(v, &mut Vec::new())
                        .map_err(|e| field_error(key, e))?,
                }
            }
        }
        if !seen_event_type {
            return Err(serde_json::Error::missing_field("event_type"));
        }
        for (key, _, required) in &self.consts {
            if *required && !map.contains_key(key) {
                return Err(missing_field(key));
            }
        }
        for f in &self.fields {
            if f.required && !map.contains_key(&f.key) {
                return Err(missing_field(&f.key));
            }
        }
        Ok(())
    }

    fn check_map(&self, map: &Map<String, Value>, event_type: Option<&str>) -> Result<(), Invalid> {
        self.parse(map).map_err(|e| from_json_error(event_type, &e))
    }
}

/// serde's `missing_field` message (its default `custom` words, which
/// serde_json keeps), for a key that is not `'static`.
fn missing_field(key: &str) -> serde_json::Error {
    serde_json::Error::custom(format_args!("missing field `{key}`"))
}

/// Schemas loaded from folders at run time, checked alongside (and before)
/// the compiled ones. Empty: the compiled schemas alone, as
/// [`check::check_line`] checks them.
#[derive(Debug, Clone, Default)]
pub struct LoadedSchemas {
    schemas: Vec<LoadedSchema>,
    /// Event type → indexes of the schemas that fix it.
    by_type: BTreeMap<String, Vec<usize>>,
    /// Indexes of the schemas whose event type is free.
    free: Vec<usize>,
    /// What loading skipped.
    warnings: Vec<String>,
}

impl LoadedSchemas {
    /// No schemas: checks go to the compiled ones.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every schema under `dirs`. Each is a folder of `*.json` schema
    /// files (named `folder/file` after it), or a folder of such folders
    /// (`schemas/<module>/<name>.schema.json`, the catalog's
    /// `<client>/<event_type>.json`), or both. Hidden entries and other
    /// files are skipped.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, LoadError> {
        let mut out = LoadedSchemas::default();
        for dir in dirs {
            let before = out.schemas.len();
            let folder = dir
                .canonicalize()
                .ok()
                .and_then(|d| d.file_name().and_then(|n| n.to_str()).map(str::to_owned))
                .unwrap_or_else(|| "schemas".to_owned());
            let (files, subdirs) = list(dir)?;
            for f in files {
                out.add(load_file(&folder, &f)?)?;
            }
            for sub in subdirs {
                let name = sub
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_owned();
                let (files, deeper) = list(&sub)?;
                for d in deeper {
                    out.warnings.push(format!(
                        "{}: skipped: a folder inside a schema folder (schema folders are one level deep)",
                        d.display()
                    ));
                }
                if files.is_empty() {
                    out.warnings.push(format!(
                        "{}: skipped: no schema files (*.json) in this folder",
                        sub.display()
                    ));
                }
                for f in files {
                    out.add(load_file(&name, &f)?)?;
                }
            }
            if out.schemas.len() == before {
                return Err(LoadError::Empty { dir: dir.clone() });
            }
        }
        Ok(out)
    }

    fn add(&mut self, s: LoadedSchema) -> Result<(), LoadError> {
        if let Some(prev) = self.schemas.iter().find(|p| p.name == s.name) {
            return Err(LoadError::Schema {
                file: s.file.clone(),
                message: format!(
                    "the name \"{}\" is already taken by {}",
                    s.name,
                    prev.file.display()
                ),
            });
        }
        let i = self.schemas.len();
        if s.free {
            self.free.push(i);
        } else {
            // As the generator: within a folder, a shared event type needs a
            // const to tell the schemas apart; across folders, the first
            // folder (in load order) takes the events its consts allow.
            for &j in self.by_type.get(&s.event_type).into_iter().flatten() {
                let prev = &self.schemas[j];
                if prev.folder() != s.folder() {
                    continue;
                }
                let told_apart = prev.consts.iter().any(|a| {
                    s.consts
                        .iter()
                        .any(|b| a.0 == b.0 && a.1 != b.1 && (a.2 || b.2))
                });
                if !told_apart {
                    return Err(LoadError::Schema {
                        file: s.file.clone(),
                        message: format!(
                            "event type \"{}\" is already defined by {} (two schemas may share an event type only when a required `const` property tells them apart)",
                            s.event_type,
                            prev.file.display()
                        ),
                    });
                }
            }
            self.by_type
                .entry(s.event_type.clone())
                .or_default()
                .push(i);
        }
        self.schemas.push(s);
        Ok(())
    }

    /// What loading skipped, one line each naming the folder (a folder
    /// without schema files, one nested too deep).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The loaded schemas, in load order.
    pub fn schemas(&self) -> &[LoadedSchema] {
        &self.schemas
    }

    /// Their names (`folder/file`).
    pub fn names(&self) -> Vec<&str> {
        self.schemas.iter().map(|s| s.name.as_str()).collect()
    }

    /// Whether none is loaded.
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }

    /// The compiled schemas (names) that loaded ones replace: same event
    /// type.
    pub fn replaced(&self) -> Vec<&'static str> {
        SCHEMAS
            .iter()
            .filter(|c| !c.free_event_type && self.by_type.contains_key(c.event_type))
            .map(|c| c.name)
            .collect()
    }

    /// The loaded schema called `name`: `folder/file`, or a bare file name
    /// or event type no other loaded schema has.
    pub fn find(&self, name: &str) -> Option<&LoadedSchema> {
        if let Some(s) = self.schemas.iter().find(|s| s.name == name) {
            return Some(s);
        }
        let mut bare = self.schemas.iter().filter(|s| {
            s.name.rsplit('/').next() == Some(name) || (!s.free && s.event_type == name)
        });
        match (bare.next(), bare.next()) {
            (Some(s), None) => Some(s),
            _ => None,
        }
    }

    /// Every schema name, loaded then compiled: for messages.
    pub fn all_names(&self) -> Vec<&str> {
        let mut names = self.names();
        names.extend(SCHEMAS.iter().map(|s| s.name));
        names
    }

    fn known_names(&self) -> impl Iterator<Item = &str> {
        self.by_type
            .keys()
            .map(String::as_str)
            .chain(SCHEMAS.iter().map(|s| s.event_type))
    }

    /// What to say of an event of type `event_type` that no schema
    /// describes: `unknown event type "order.placd"`, with the nearest
    /// known event type when it looks like a typo (` (did you mean
    /// "order.placed"?)`).
    pub fn unknown(&self, event_type: &str) -> Invalid {
        unknown_among(event_type, self.known_names())
    }

    /// Checks one NDJSON line (see [`LoadedSchemas::check_value`]).
    pub fn check_line(&self, line: &[u8], opts: Options) -> Result<Checked, Invalid> {
        if self.is_empty() {
            return check::check_line(line, opts).map(compiled);
        }
        let value: Value = serde_json::from_slice(line).map_err(|e| from_json_error(None, &e))?;
        self.check_value(value, opts)
    }

    /// Checks an event: by a loaded schema that fixes its event type, else
    /// by a compiled one, else by a loaded schema with a free event type
    /// that [`placing::place`] finds; else its event type is unknown.
    pub fn check_value(&self, value: Value, opts: Options) -> Result<Checked, Invalid> {
        if self.is_empty() {
            return check::check_value(value, opts).map(compiled);
        }
        let event_type = event_type_of(&value)?;
        let Value::Object(map) = &value else {
            return Err(Invalid::new(None, "$", "expected an event object"));
        };
        let found = |et: &str| Checked {
            event_type: et.to_owned(),
            known: true,
        };
        if let Some(candidates) = self.by_type.get(&event_type) {
            return self
                .dispatch(candidates, map, &event_type)
                .map(|()| found(&event_type));
        }
        if check::is_known(&event_type) {
            return check::check_value(value, opts).map(compiled);
        }
        let patterns: Vec<Vec<&str>> = self
            .free
            .iter()
            .map(|&i| {
                self.schemas[i]
                    .name_patterns
                    .iter()
                    .map(String::as_str)
                    .collect()
            })
            .collect();
        let consts: Vec<Vec<(&str, &str)>> = self
            .free
            .iter()
            .map(|&i| self.schemas[i].claim_consts())
            .collect();
        let claims: Vec<Claim<'_>> = consts
            .iter()
            .zip(&patterns)
            .map(|(c, p)| Claim {
                required_consts: c,
                name_patterns: p,
            })
            .collect();
        match placing::place(&claims, &event_type, map) {
            Placed::One(i) => self.schemas[self.free[i]]
                .check_map(map, Some(&event_type))
                .map(|()| found(&event_type)),
            Placed::Ambiguous(all) => {
                let names: Vec<&str> = all
                    .iter()
                    .map(|&i| self.schemas[self.free[i]].name.as_str())
                    .collect();
                Err(Invalid::new(
                    Some(event_type.clone()),
                    "event_type",
                    format!(
                        "event type {} fits more than one schema ({}): check with --type",
                        Value::String(event_type.clone()),
                        names.join(", ")
                    ),
                ))
            }
            Placed::Nowhere if opts.allow_unknown => Ok(Checked {
                event_type,
                known: false,
            }),
            Placed::Nowhere => Err(unknown_among(&event_type, self.known_names())),
        }
    }

    /// The schema among `candidates` (sharing an event type) whose consts
    /// the event holds, as the generated `AnyEvent` picks.
    fn dispatch(
        &self,
        candidates: &[usize],
        map: &Map<String, Value>,
        event_type: &str,
    ) -> Result<(), Invalid> {
        if let [one] = candidates {
            return self.schemas[*one].check_map(map, Some(event_type));
        }
        for &i in candidates {
            let s = &self.schemas[i];
            let consts: Vec<(&str, &str, bool)> = s
                .consts
                .iter()
                .map(|c| (c.0.as_str(), c.1.as_str(), c.2))
                .collect();
            if s.consts.is_empty() || consts_match(map, &consts) {
                return s.check_map(map, Some(event_type));
            }
        }
        let described: Vec<String> = candidates
            .iter()
            .map(|&i| {
                let s = &self.schemas[i];
                let consts: Vec<String> = s
                    .consts
                    .iter()
                    .map(|c| format!("{} {}", c.0, c.1))
                    .collect();
                format!("{} ({})", s.name, consts.join(", "))
            })
            .collect();
        Err(from_json_error(
            Some(event_type),
            &serde_json::Error::custom(format_args!(
                "event type \"{event_type}\" is shared by {}, and this event matches none of them",
                described.join(" and ")
            )),
        ))
    }

    /// Checks one NDJSON line as the schema called `name` (loaded first,
    /// then compiled: [`check::find_schema`]), whatever its `event_type`.
    pub fn check_line_as(&self, line: &[u8], name: &str) -> Result<Checked, Invalid> {
        let value: Value = serde_json::from_slice(line).map_err(|e| from_json_error(None, &e))?;
        self.check_value_as(value, name)
    }

    /// [`LoadedSchemas::check_line_as`] for a parsed value.
    pub fn check_value_as(&self, value: Value, name: &str) -> Result<Checked, Invalid> {
        let Some(schema) = self.find(name) else {
            return check::check_value_as(value, name).map(compiled);
        };
        let Value::Object(map) = &value else {
            return Err(event_type_of(&value).err().unwrap_or_else(|| {
                Invalid::new(None, "$", "expected an event object".to_owned())
            }));
        };
        let et = map
            .get("event_type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        schema.check_map(map, et.as_deref())?;
        Ok(Checked {
            event_type: et.unwrap_or_else(|| schema.event_type.clone()),
            known: true,
        })
    }
}

fn compiled(ev: AnyEvent) -> Checked {
    let known = !matches!(ev, AnyEvent::Unknown(_));
    Checked {
        event_type: ev.event_type().unwrap_or("(no event_type)").to_owned(),
        known,
    }
}

/// The `*.json` files and the folders directly in `dir`, sorted, hidden
/// ones left out.
fn list(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            dirs.push(path);
        } else if name.ends_with(".json") {
            files.push(path);
        }
    }
    files.sort();
    dirs.sort();
    Ok((files, dirs))
}

fn load_file(folder: &str, path: &Path) -> Result<LoadedSchema, LoadError> {
    let bad = |message: String| LoadError::Schema {
        file: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let root: Value = serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |m| m.0);
        bad(format!(
            "invalid JSON at line {} column {}: {msg}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(obj) = &root else {
        return Err(bad(format!(
            "a schema must be a JSON object, found {}",
            crate::json::kind(&root)
        )));
    };
    match obj.get("type") {
        None => {}
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(bad(format!(
                "/type: an event schema must have type \"object\", found {other}"
            )))
        }
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = file_name
        .strip_suffix(".schema.json")
        .or_else(|| file_name.strip_suffix(".json"))
        .unwrap_or(file_name)
        .to_owned();
    let props = obj.get("properties").and_then(Value::as_object);
    let et_schema = props.and_then(|p| p.get("event_type"));
    let (event_type, free) = match et_schema.and_then(|e| e.get("const")) {
        Some(Value::String(s)) => (s.clone(), false),
        Some(other) => {
            return Err(bad(format!(
                "/properties/event_type/const: the event_type const must be a string, found {other}"
            )))
        }
        None if et_schema.is_some() => (stem.clone(), true),
        None => (stem.clone(), false),
    };
    let required = required_of(obj);
    let mut consts = Vec::new();
    let mut fields = Vec::new();
    let mut example = Map::new();
    let mut complete = true;
    let first_example = |s: &Value| {
        s.get("examples")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
    };
    example.insert(
        "event_type".into(),
        et_schema
            .and_then(|s| s.get("const").cloned().or_else(|| first_example(s)))
            .unwrap_or_else(|| Value::String(event_type.clone())),
    );
    for (key, schema) in props.into_iter().flatten() {
        if key == "event_type" {
            continue;
        }
        let is_required = required.contains(key);
        if let Some(c) = schema.get("const") {
            consts.push((key.clone(), c.to_string(), is_required));
            example.insert(key.clone(), c.clone());
            continue;
        }
        match first_example(schema) {
            Some(x) => {
                example.insert(key.clone(), x);
            }
            None if is_required => complete = false,
            None => {}
        }
        let num = |k: &str| schema.get(k).and_then(Value::as_f64);
        let len = |k: &str| schema.get(k).and_then(Value::as_u64);
        let json_type = match (schema.get("type"), schema.get("$ref")) {
            (Some(Value::String(s)), _) => s.clone(),
            (Some(t), _) => t.to_string(),
            (None, Some(Value::String(r))) => r.clone(),
            (None, _) => "any".to_owned(),
        };
        fields.push(TopField {
            key: key.clone(),
            node: node_of(schema, &root, 0),
            required: is_required,
            json_type,
            numbers: [
                num("minimum"),
                num("maximum"),
                num("exclusiveMinimum"),
                num("exclusiveMaximum"),
            ],
            lengths: [len("minLength"), len("maxLength")],
        });
    }
    let extra = match obj.get("additionalProperties") {
        None | Some(Value::Bool(true)) => Extra::Any,
        Some(Value::Bool(false)) => Extra::Forbidden,
        Some(Value::Object(o)) if o.is_empty() => Extra::Any,
        Some(s) => Extra::Schema(node_of(s, &root, 0)),
    };
    let mut name_patterns = vec![stem.clone()];
    if free {
        let et = et_schema.unwrap_or(&Value::Null);
        match et.get("x-event-type-pattern") {
            Some(Value::String(p)) => name_patterns.push(p.clone()),
            Some(Value::Array(ps)) => {
                name_patterns.extend(ps.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {
                for ex in et
                    .get("examples")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    name_patterns.extend(placing::patterns_from_example(ex));
                }
            }
        }
        name_patterns.dedup();
    }
    let examples = obj
        .get("examples")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter(|v| v.is_object()).cloned().collect())
        .unwrap_or_default();
    Ok(LoadedSchema {
        name: format!("{folder}/{stem}"),
        file: path.to_path_buf(),
        event_type,
        free,
        consts,
        fields,
        extra,
        name_patterns,
        examples,
        example: complete.then_some(Value::Object(example)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> LoadedSchema {
        let dir = std::env::temp_dir().join(format!(
            "ie-loaded-unit-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.schema.json");
        std::fs::write(&f, v.to_string()).unwrap();
        load_file("f", &f).unwrap()
    }

    fn err(s: &LoadedSchema, ev: Value) -> String {
        s.check_map(ev.as_object().unwrap(), None)
            .map(|()| "ok".to_owned())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn serde_lists_read_as_serde_writes_them() {
        use serde::de::Error;
        for names in [&["a"][..], &["a", "b"], &["a", "b", "c"]] {
            let static_names: &'static [&'static str] = match names.len() {
                1 => &["a"],
                2 => &["a", "b"],
                _ => &["a", "b", "c"],
            };
            assert_eq!(
                unknown_variant("x", names),
                serde_json::Error::unknown_variant("x", static_names).to_string()
            );
            assert_eq!(
                unknown_field("x", names),
                serde_json::Error::unknown_field("x", static_names).to_string()
            );
        }
    }

    #[test]
    fn nested_table() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "event_type": {"const": "t"},
                "plan": {"type": "string", "enum": ["free", "pro"]},
                "seats": {"type": "integer", "minimum": 1},
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 3},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "id": {"type": ["integer", "null"]}
                    },
                    "required": ["id"],
                    "additionalProperties": false
                },
                "ref": {"$ref": "#/definitions/r"}
            },
            "definitions": {"r": {"type": "boolean"}},
            "required": ["event_type", "plan"],
            "additionalProperties": false
        }));
        let rows = [
            (json!({"event_type": "t", "plan": "pro"}), "ok"),
            (
                json!({"event_type": "t", "plan": "gold"}),
                "plan: expected \"free\" or \"pro\", found \"gold\"",
            ),
            (
                json!({"event_type": "t", "plan": 3}),
                "plan: invalid type: integer `3`, expected string or map",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "seats": 0}),
                "seats: expected a number of at least 1, found 0",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "seats": 1.5}),
                "seats: invalid type: floating point `1.5`, expected an integer",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "seats": null}),
                "ok",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {"id": null}}),
                "ok",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {}}),
                "user: missing field `id`",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {"id": 1, "name": "abcd"}}),
                "user.name: longer than 3 characters",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {"id": 1, "tags": ["a", 2]}}),
                "user.tags[1]: invalid type: integer `2`, expected a string",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {"id": 1, "tags": null}}),
                "user.tags: invalid type: null, expected an array",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": {"id": 1, "x": 1}}),
                "user: unknown field `x`, expected one of `name`, `tags`, `id`",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": "u"}),
                "user: invalid type: string \"u\", expected an object",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "user": []}),
                "user: expected an object, found an array of 0 items",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "ref": "yes"}),
                "ref: invalid type: string \"yes\", expected a boolean",
            ),
            (
                json!({"event_type": "t", "plan": "pro", "other": 1}),
                "other: not allowed (the schema sets \"additionalProperties\": false)",
            ),
            (
                json!({"event_type": "u", "plan": "pro"}),
                "event_type: event_type mismatch: expected \"t\", found \"u\"",
            ),
            (json!({"plan": "pro"}), "event_type: missing required field"),
        ];
        for (ev, want) in rows {
            assert_eq!(err(&s, ev.clone()), want, "{ev}");
        }
    }

    #[test]
    fn free_event_types_and_consts() {
        let s = schema(json!({
            "properties": {
                "event_type": {"type": "string", "examples": ["my_app.repo.query"]},
                "proc_id": {"const": "router"}
            },
            "required": ["event_type", "proc_id"]
        }));
        assert!(s.free_event_type());
        assert_eq!(s.name_patterns, ["t", "my_app.repo.query", "*.repo.query"]);
        assert_eq!(
            s.example_from_properties(),
            Some(&json!({"event_type": "my_app.repo.query", "proc_id": "router"}))
        );
        assert_eq!(
            err(&s, json!({"event_type": "x", "proc_id": "router"})),
            "ok"
        );
        assert_eq!(
            err(&s, json!({"event_type": "x", "proc_id": "web"})),
            "proc_id: expected \"router\", found \"web\""
        );
        assert_eq!(
            err(&s, json!({"event_type": "x"})),
            "proc_id: missing required field"
        );
        assert_eq!(
            err(&s, json!({"event_type": 1, "proc_id": "router"})),
            "event_type: invalid type: integer `1`, expected a string"
        );
    }
}
