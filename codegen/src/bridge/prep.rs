//! Schemas made ready for typify.

use serde_json::Value;

use crate::Error;

/// Removes keywords whose typify output would need extra crates
/// (`format` → chrono/uuid, `pattern` → regress): such fields are plain
/// strings here.
///
/// Integer bounds are dropped too, so that every integer is an `i64`
/// (`minimum: 1` would give `NonZeroU64`, `minimum: 0` `u64`): validation
/// checks the bounds of top-level fields instead (see `Bounds`).
fn strip_for_typify(v: &mut Value) {
    let Value::Object(o) = v else { return };
    let is_integer = match o.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(a)) => a.iter().any(|t| t == "integer"),
        _ => false,
    };
    if is_integer {
        for k in [
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ] {
            o.remove(k);
        }
    }
    o.remove("format");
    o.remove("pattern");
    o.remove("examples");
    // Pattern keys need `regress`; such objects keep their other rules.
    o.remove("patternProperties");
    for key in ["properties", "$defs", "definitions"] {
        if let Some(Value::Object(m)) = o.get_mut(key) {
            m.values_mut().for_each(strip_for_typify);
        }
    }
    for key in [
        "additionalProperties",
        "additionalItems",
        "not",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
    ] {
        if let Some(s) = o.get_mut(key) {
            strip_for_typify(s);
        }
    }
    for key in ["items", "allOf", "anyOf", "oneOf"] {
        match o.get_mut(key) {
            Some(Value::Array(a)) => a.iter_mut().for_each(strip_for_typify),
            Some(s) => strip_for_typify(s),
            None => {}
        }
    }
}

pub(super) fn to_schemars(
    file: &str,
    pointer: &str,
    v: &Value,
) -> Result<schemars::schema::Schema, Error> {
    let mut v = v.clone();
    strip_for_typify(&mut v);
    serde_json::from_value(v)
        .map_err(|e| Error::schema(file, pointer, format!("unsupported schema: {e}")))
}
