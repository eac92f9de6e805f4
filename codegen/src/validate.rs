//! Pre-validation of schema files: catches malformed input with an exact
//! JSON Pointer before anything is handed to typify.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::Error;

const JSON_TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Escapes one JSON Pointer reference token (RFC 6901).
pub(crate) fn escape_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn unescape_token(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// Short name of a JSON value's kind, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The definition name a local `$ref` points to, if it has the supported
/// form `#/$defs/<name>` or `#/definitions/<name>`.
pub(crate) fn local_ref_name(r: &str) -> Option<String> {
    let rest = r
        .strip_prefix("#/$defs/")
        .or_else(|| r.strip_prefix("#/definitions/"))?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(unescape_token(rest))
}

pub(crate) struct Validator<'a> {
    pub file: &'a str,
    pub defs: BTreeSet<String>,
}

impl Validator<'_> {
    fn err(&self, pointer: &str, message: impl Into<String>) -> Error {
        Error::schema(self.file, pointer, message)
    }

    /// Validates the root of an event schema.
    pub(crate) fn check_root(&self, root: &Value) -> Result<(), Error> {
        let obj = match root {
            Value::Object(o) => o,
            other => {
                return Err(self.err(
                    "",
                    format!("root schema must be a JSON object, found {}", kind(other)),
                ))
            }
        };
        match obj.get("type") {
            None => {}
            Some(Value::String(s)) if s == "object" => {}
            Some(other) => {
                return Err(self.err(
                    "/type",
                    format!("root schema must have type \"object\", found {other}"),
                ))
            }
        }
        for kw in ["allOf", "anyOf", "oneOf", "not", "$ref", "if"] {
            if obj.contains_key(kw) {
                return Err(self.err(
                    &format!("/{}", escape_token(kw)),
                    format!("unsupported root-level `{kw}` (an event schema must be a plain object schema with `properties`)"),
                ));
            }
        }
        for key in ["$id", "title", "description"] {
            if let Some(v) = obj.get(key) {
                if !v.is_string() {
                    return Err(self.err(
                        &format!("/{}", escape_token(key)),
                        format!("`{key}` must be a string, found {}", kind(v)),
                    ));
                }
            }
        }
        if let Some(p) = obj.get("properties") {
            if let Some(et) = p.get("event_type") {
                if let Some(c) = et.get("const") {
                    if !c.is_string() {
                        return Err(self.err(
                            "/properties/event_type/const",
                            format!("`const` of `event_type` must be a string, found {c}"),
                        ));
                    }
                }
            }
        }
        self.check_object(obj, "", true)
    }

    fn check_schema(&self, v: &Value, ptr: &str) -> Result<(), Error> {
        match v {
            Value::Bool(_) => Ok(()),
            Value::Object(o) => self.check_object(o, ptr, false),
            other => Err(self.err(
                ptr,
                format!(
                    "expected a schema (object or boolean), found {}",
                    kind(other)
                ),
            )),
        }
    }

    fn check_object(&self, o: &Map<String, Value>, ptr: &str, root: bool) -> Result<(), Error> {
        for (key, value) in o {
            let here = format!("{ptr}/{}", escape_token(key));
            match key.as_str() {
                "type" => self.check_type(value, &here)?,
                "properties" | "patternProperties" => self.check_schema_map(key, value, &here)?,
                "required" => self.check_required(value, &here)?,
                "items" => match value {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.check_schema(item, &format!("{here}/{i}"))?;
                        }
                    }
                    other => self.check_schema(other, &here)?,
                },
                "additionalProperties"
                | "additionalItems"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else" => self.check_schema(value, &here)?,
                "allOf" | "anyOf" | "oneOf" => self.check_schema_list(key, value, &here)?,
                "enum" => match value {
                    Value::Array(items) if !items.is_empty() => {}
                    other => {
                        return Err(self.err(
                            &here,
                            format!("`enum` must be a non-empty array, found {other}"),
                        ))
                    }
                },
                "$ref" => self.check_ref(value, &here)?,
                "$defs" | "definitions" => {
                    if !root {
                        return Err(self.err(
                            &here,
                            format!("unsupported nested `{key}` (definitions are only supported at the schema root)"),
                        ));
                    }
                    self.check_schema_map(key, value, &here)?;
                }
                _ => self.check_keyword_value(key, value, &here)?,
            }
        }
        Ok(())
    }

    /// `properties`, `patternProperties`, `$defs`, `definitions`: an
    /// object of schemas.
    fn check_schema_map(&self, key: &str, value: &Value, here: &str) -> Result<(), Error> {
        let Value::Object(map) = value else {
            return Err(self.err(
                here,
                format!("`{key}` must be an object, found {}", kind(value)),
            ));
        };
        for (name, sub) in map {
            self.check_schema(sub, &format!("{here}/{}", escape_token(name)))?;
        }
        Ok(())
    }

    /// `allOf`, `anyOf`, `oneOf`: a non-empty array of schemas.
    fn check_schema_list(&self, key: &str, value: &Value, here: &str) -> Result<(), Error> {
        let Value::Array(items) = value else {
            return Err(self.err(
                here,
                format!("`{key}` must be an array of schemas, found {}", kind(value)),
            ));
        };
        if items.is_empty() {
            return Err(self.err(here, format!("`{key}` must not be empty")));
        }
        for (i, item) in items.iter().enumerate() {
            self.check_schema(item, &format!("{here}/{i}"))?;
        }
        Ok(())
    }

    fn check_required(&self, value: &Value, here: &str) -> Result<(), Error> {
        let Value::Array(items) = value else {
            return Err(self.err(
                here,
                format!(
                    "`required` must be an array of strings, found {}",
                    kind(value)
                ),
            ));
        };
        for (i, item) in items.iter().enumerate() {
            if !item.is_string() {
                return Err(self.err(
                    &format!("{here}/{i}"),
                    format!(
                        "`required` must be an array of strings, found {}",
                        kind(item)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A `$ref`: local, to a definition that exists.
    fn check_ref(&self, value: &Value, here: &str) -> Result<(), Error> {
        let Value::String(r) = value else {
            return Err(self.err(
                here,
                format!("`$ref` must be a string, found {}", kind(value)),
            ));
        };
        match local_ref_name(r) {
            Some(name) if self.defs.contains(&name) => Ok(()),
            Some(name) => Err(self.err(
                here,
                format!("$ref \"{r}\" points to a missing definition \"{name}\""),
            )),
            None => Err(self.err(
                here,
                format!("unsupported $ref \"{r}\" (only local \"#/$defs/<name>\" and \"#/definitions/<name>\" references are supported)"),
            )),
        }
    }

    /// The keywords whose value is a number, a string, a boolean or an
    /// array; others are not checked.
    fn check_keyword_value(&self, key: &str, value: &Value, here: &str) -> Result<(), Error> {
        match key {
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf"
                if !value.is_number() =>
            {
                Err(self.err(here, format!("`{key}` must be a number, found {value}")))
            }
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties"
                if !value.is_u64() =>
            {
                Err(self.err(
                    here,
                    format!("`{key}` must be a non-negative integer, found {value}"),
                ))
            }
            "title" | "description" | "format" | "pattern" | "$id" | "$schema"
                if !value.is_string() =>
            {
                Err(self.err(
                    here,
                    format!("`{key}` must be a string, found {}", kind(value)),
                ))
            }
            "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" if !value.is_boolean() => {
                Err(self.err(
                    here,
                    format!("`{key}` must be a boolean, found {}", kind(value)),
                ))
            }
            "examples" if !value.is_array() => Err(self.err(
                here,
                format!("`examples` must be an array, found {}", kind(value)),
            )),
            _ => Ok(()),
        }
    }

    fn check_type(&self, value: &Value, here: &str) -> Result<(), Error> {
        match value {
            Value::String(s) => {
                if !JSON_TYPES.contains(&s.as_str()) {
                    return Err(self.err(here, format!("unsupported type \"{s}\"")));
                }
            }
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(self.err(here, "unsupported type [] (empty type array)"));
                }
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{here}/{i}");
                    let Value::String(s) = item else {
                        return Err(self.err(&p, format!("unsupported type {item}")));
                    };
                    if !JSON_TYPES.contains(&s.as_str()) {
                        return Err(self.err(&p, format!("unsupported type \"{s}\"")));
                    }
                    if !seen.insert(s.as_str()) {
                        return Err(self.err(&p, format!("duplicate type \"{s}\"")));
                    }
                }
            }
            other => return Err(self.err(here, format!("unsupported type {other}"))),
        }
        Ok(())
    }
}
