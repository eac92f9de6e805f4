//! The schema model: what the loader reads from each schema file and
//! folder, and what the emitters write from.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use serde_json::Value;

use crate::bridge::FieldType;

/// One top-level property of an event schema.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub key: String,
    pub schema: Value,
    pub required: bool,
    pub description: String,
    pub example: Option<Value>,
    pub json_type: String,
    pub pointer: String,
    /// Numeric and length bounds, checked when an event is parsed (they are
    /// not carried by the Rust type).
    pub bounds: Bounds,
}

/// The bounds of a top-level field that validation checks.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Bounds {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

impl Bounds {
    pub(crate) fn of(schema: &Value) -> Bounds {
        let num = |k: &str| schema.get(k).and_then(Value::as_f64);
        let len = |k: &str| schema.get(k).and_then(Value::as_u64);
        Bounds {
            minimum: num("minimum"),
            maximum: num("maximum"),
            exclusive_minimum: num("exclusiveMinimum"),
            exclusive_maximum: num("exclusiveMaximum"),
            min_length: len("minLength"),
            max_length: len("maxLength"),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Bounds::default()
    }
}

/// A top-level property whose schema is a `const`: not a struct field, but
/// written with every event and checked when one is parsed.
#[derive(Debug, Clone)]
pub(crate) struct ConstSpec {
    pub key: String,
    /// The value as compact JSON.
    pub json: String,
    pub required: bool,
}

/// What the schema says about top-level keys it does not describe.
#[derive(Debug, Clone)]
pub(crate) enum ExtraRule {
    /// Allowed, any value (the default).
    Any,
    /// `"additionalProperties": false`.
    Forbidden,
    /// `"additionalProperties": {schema}`: each value must match.
    Schema { schema: Value, pointer: String },
}

/// One schema file.
#[derive(Debug)]
pub(crate) struct EventSpec {
    pub file: String,
    /// `<folder>/<file name>`, for docs (independent of the schema dir path).
    pub rel: String,
    /// The file name without `.schema.json` / `.json`.
    pub stem: String,
    /// The `event_type` const, or the file name when the schema has no
    /// `event_type` property, or (when `free`) the default value.
    pub event_type: String,
    /// The schema has an `event_type` property without a `const`: the
    /// value is the sender's choice.
    pub free: bool,
    /// When `free`: the globs of the event types it claims (its file name,
    /// then its `x-event-type-pattern`, or else what its `event_type`
    /// examples stand for; see `patterns_from_example`).
    pub name_patterns: Vec<String>,
    pub type_name: String,
    pub schema_id: String,
    pub title: String,
    pub description: String,
    pub fields: Vec<FieldSpec>,
    pub consts: Vec<ConstSpec>,
    pub extra: ExtraRule,
    /// Example events (compact JSON): the schema's own `examples`, or one
    /// built from its fields' first examples.
    pub examples: Vec<String>,
}

/// One folder, after typify ran over it.
pub(crate) struct Namespace {
    pub folder: String,
    pub module: String,
    pub events: Vec<EventSpec>,
    /// Rust type of each field of each event (same order as `events`/`fields`).
    pub field_types: Vec<Vec<FieldType>>,
    /// The Rust type of each event's `additionalProperties` schema, if any.
    pub extra_types: Vec<Option<TokenStream>>,
    /// typify's items (nested types, definitions).
    pub items: Vec<syn::Item>,
    /// The schema files it came from.
    pub files: Vec<PathBuf>,
    /// Schemas of this folder that repeat one of an earlier folder (the
    /// same schema but for annotations): that folder's type, re-exported.
    pub aliases: Vec<Alias>,
}

/// A schema that repeats one of an earlier folder.
pub(crate) struct Alias {
    /// Its own file, name, annotations and examples (for `SCHEMAS`); its
    /// `type_name` is the target's.
    pub spec: EventSpec,
    /// The namespace and event index of the type it repeats.
    pub target: (usize, usize),
}

impl EventSpec {
    /// Whether two schemas with the same `event_type` are told apart by a
    /// `const` property (the key of the first such property).
    pub(crate) fn discriminator<'a>(&'a self, other: &EventSpec) -> Option<&'a str> {
        self.consts.iter().find_map(|ca| {
            other
                .consts
                .iter()
                .find(|cb| cb.key == ca.key && cb.json != ca.json && (ca.required || cb.required))
                .map(|_| ca.key.as_str())
        })
    }
}
