//! One schema file read into an `EventSpec`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::patterns::name_patterns_of;
use super::{definitions_of, stem_of, str_of};
use crate::ident::type_name;
use crate::model::{Bounds, ConstSpec, EventSpec, ExtraRule, FieldSpec};
use crate::validate::{escape_token, Validator};
use crate::Error;

/// Reads one (validated) event schema; its warnings go into `warnings`.
pub(super) fn load_event(
    file: &str,
    root: &Value,
    warnings: &mut Vec<String>,
) -> Result<EventSpec, Error> {
    let defs: BTreeSet<String> = definitions_of(root).into_iter().map(|d| d.1).collect();
    Validator { file, defs }.check_root(root)?;
    let obj = root.as_object().expect("checked by the validator");
    let file_name = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let stem = stem_of(file_name).to_string();
    let props = obj.get("properties").and_then(Value::as_object);
    let et_schema = props.and_then(|p| p.get("event_type"));
    let (event_type, free) = event_type_of(file, file_name, &stem, et_schema, warnings)?;
    // A free event type: the names it claims, and the one its example uses.
    let et_examples = strings(et_schema.and_then(|e| e.get("examples")));
    let name_patterns = if free {
        name_patterns_of(file, &stem, et_schema, &et_examples)?
    } else {
        Vec::new()
    };
    let example_event_type = match et_examples.first() {
        Some(ex) if free => ex.clone(),
        _ => event_type.clone(),
    };
    let required = strings(obj.get("required"));
    let (fields, consts) = properties_of(file, props, &required)?;
    let examples = examples_of(obj, &example_event_type, &fields, &consts);
    Ok(EventSpec {
        file: file.to_string(),
        rel: rel_of(file),
        type_name: type_name(&event_type),
        stem,
        event_type,
        free,
        name_patterns,
        schema_id: str_of(obj, "$id").to_string(),
        title: str_of(obj, "title").to_string(),
        description: str_of(obj, "description").to_string(),
        fields,
        consts,
        extra: extra_rule_of(obj),
        examples,
    })
}

/// The strings of a JSON array (none when it is not one).
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `<folder>/<file name>` of a schema file.
fn rel_of(file: &str) -> String {
    let p = Path::new(file);
    match (
        p.parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str()),
        p.file_name().and_then(|n| n.to_str()),
    ) {
        (Some(folder), Some(name)) => format!("{folder}/{name}"),
        _ => file.to_string(),
    }
}

/// The event type, and whether the sender chooses it (`free`); a warning
/// when the const differs from the file name.
fn event_type_of(
    file: &str,
    file_name: &str,
    stem: &str,
    et_schema: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(String, bool), Error> {
    let (event_type, free) = match et_schema.and_then(|e| e.get("const")) {
        Some(Value::String(s)) => {
            if s != stem {
                let ext = &file_name[stem.len()..];
                let rename = if can_be_a_file_name(s) {
                    format!(" (rename the file to {s}{ext} to silence this)")
                } else {
                    String::new()
                };
                warnings.push(format!(
                    "{file}: the event_type const \"{s}\" differs from the file name \"{stem}\": the event type is \"{s}\", and the type is named {} after the const \"{s}\", not after the file name{rename}",
                    type_name(s)
                ));
            }
            (s.clone(), false)
        }
        Some(other) => {
            return Err(Error::schema(
                file,
                "/properties/event_type/const",
                format!("the event_type const must be a string, found {other}"),
            ))
        }
        None => (stem.to_string(), et_schema.is_some()),
    };
    if event_type.is_empty() {
        return Err(Error::schema(
            file,
            "",
            "cannot derive an event type (empty)",
        ));
    }
    Ok((event_type, free))
}

/// Whether `name` (plus an extension) can name a file on every common
/// system.
fn can_be_a_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| {
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
}

/// The top-level properties but `event_type`: struct fields, and the
/// `const` ones.
fn properties_of(
    file: &str,
    props: Option<&Map<String, Value>>,
    required: &[String],
) -> Result<(Vec<FieldSpec>, Vec<ConstSpec>), Error> {
    let mut fields = Vec::new();
    let mut consts = Vec::new();
    for (key, schema) in props.into_iter().flatten() {
        if key == "event_type" {
            continue;
        }
        let required = required.iter().any(|r| r == key);
        if let Some(c) = schema.get("const") {
            consts.push(ConstSpec {
                key: key.clone(),
                json: c.to_string(),
                required,
            });
            continue;
        }
        fields.push(field_of(file, key, schema, required)?);
    }
    Ok((fields, consts))
}

/// One struct field.
fn field_of(file: &str, key: &str, schema: &Value, required: bool) -> Result<FieldSpec, Error> {
    let pointer = format!("/properties/{}", escape_token(key));
    let (description, example, json_type) = match schema {
        Value::Object(o) => (
            str_of(o, "description").to_string(),
            o.get("examples")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .cloned(),
            match (o.get("type"), o.get("$ref")) {
                (Some(Value::String(s)), _) => s.clone(),
                (Some(t), _) => t.to_string(),
                (None, Some(Value::String(r))) => r.clone(),
                (None, _) => "any".to_string(),
            },
        ),
        Value::Bool(true) => (String::new(), None, "any".to_string()),
        _ => {
            return Err(Error::schema(
                file,
                &pointer,
                format!("unsupported property schema {schema} (a field that can never be present)"),
            ))
        }
    };
    Ok(FieldSpec {
        key: key.to_string(),
        bounds: Bounds::of(schema),
        schema: schema.clone(),
        required,
        description,
        example,
        json_type,
        pointer,
    })
}

/// What the schema says about the keys it does not describe.
fn extra_rule_of(obj: &Map<String, Value>) -> ExtraRule {
    match obj.get("additionalProperties") {
        None | Some(Value::Bool(true)) => ExtraRule::Any,
        Some(Value::Bool(false)) => ExtraRule::Forbidden,
        Some(Value::Object(o)) if o.is_empty() => ExtraRule::Any,
        Some(schema) => ExtraRule::Schema {
            schema: schema.clone(),
            pointer: "/additionalProperties".to_string(),
        },
    }
}

/// The schema's own `examples` (objects only), or else one event built from
/// the first example of each field, when every required field has one.
fn examples_of(
    obj: &Map<String, Value>,
    event_type: &str,
    fields: &[FieldSpec],
    consts: &[ConstSpec],
) -> Vec<String> {
    if let Some(Value::Array(list)) = obj.get("examples") {
        let own: Vec<String> = list
            .iter()
            .filter(|v| v.is_object())
            .map(Value::to_string)
            .collect();
        if !own.is_empty() {
            return own;
        }
    }
    if fields.iter().any(|f| f.required && f.example.is_none()) {
        return Vec::new();
    }
    let mut ev = Map::new();
    ev.insert("event_type".into(), Value::String(event_type.to_string()));
    for c in consts {
        if let Ok(v) = serde_json::from_str(&c.json) {
            ev.insert(c.key.clone(), v);
        }
    }
    for f in fields {
        if let Some(x) = &f.example {
            ev.insert(f.key.clone(), x.clone());
        }
    }
    vec![Value::Object(ev).to_string()]
}
