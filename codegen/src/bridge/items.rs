//! typify's items (nested types, definitions): generated, tidied, given
//! their schema's field order and builders, and checked for clashes.

use quote::quote;
use typify::TypeSpace;

use super::{guarded, typify_err, Defs};
use crate::model::{EventSpec, ExtraRule};
use crate::Error;

/// typify's items for a folder, finished (see `emit::nested`).
pub(super) fn finish(
    space: &TypeSpace,
    folder: &str,
    first_file: &str,
    events: &[EventSpec],
    defs: &Defs,
) -> Result<Vec<syn::Item>, Error> {
    let stream = guarded(|| space.to_stream())
        .map_err(|p| typify_err((first_file, ""), "typify panicked while generating code", p))?;
    for (uses, krate) in [
        (space.uses_chrono(), "chrono"),
        (space.uses_uuid(), "uuid"),
        (space.uses_regress(), "regress"),
    ] {
        if uses {
            return Err(Error::schema(
                first_file,
                "",
                format!("the schemas of folder \"{folder}\" need the `{krate}` crate, which is not supported"),
            ));
        }
    }
    let parsed: syn::File = syn::parse2(stream)
        .map_err(|e| Error::Internal(format!("typify output does not parse: {e}")))?;
    let orders = schema_orders(events, defs);
    let items = crate::emit::finish_nested_types(tidy_typify_items(parsed.items), &orders);
    check_name_clashes(first_file, events, &items)?;
    Ok(items)
}

/// The key order of every object schema of the folder.
fn schema_orders(events: &[EventSpec], defs: &Defs) -> Vec<Vec<String>> {
    let mut orders = Vec::new();
    for event in events {
        for field in &event.fields {
            property_orders(&field.schema, &mut orders);
        }
        if let ExtraRule::Schema { schema, .. } = &event.extra {
            property_orders(schema, &mut orders);
        }
    }
    for (_, _, schema) in defs.values() {
        property_orders(schema, &mut orders);
    }
    orders
}

/// Drops typify's `error` module when nothing uses it.
fn tidy_typify_items(items: Vec<syn::Item>) -> Vec<syn::Item> {
    let is_error_mod = |item: &syn::Item| matches!(item, syn::Item::Mod(m) if m.ident == "error");
    let rest: String = items
        .iter()
        .filter(|i| !is_error_mod(i))
        .map(|i| quote!(#i).to_string())
        .collect();
    let uses_error = rest.contains("ConversionError");
    items
        .into_iter()
        .filter(|i| uses_error || !is_error_mod(i))
        .collect()
}

fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        syn::Item::Mod(m) => Some(m.ident.to_string()),
        _ => None,
    }
}

/// Fails when a typify-generated type would clash with an event struct or
/// shadow a std type the generated code uses.
fn check_name_clashes(file: &str, events: &[EventSpec], items: &[syn::Item]) -> Result<(), Error> {
    for item in items {
        let Some(name) = item_name(item) else {
            continue;
        };
        if let Some(ev) = events.iter().find(|e| e.type_name == name) {
            return Err(Error::schema(
                &ev.file,
                "",
                format!("a definition or nested type generates the Rust type `{name}`, which clashes with the struct for event type \"{}\"", ev.event_type),
            ));
        }
        if matches!(
            name.as_str(),
            "String" | "Option" | "Vec" | "Box" | "Result" | "Some" | "None" | "Ok" | "Err"
        ) {
            return Err(Error::schema(
                file,
                "",
                format!("a definition generates the Rust type `{name}`, which would shadow the std type of that name"),
            ));
        }
    }
    Ok(())
}

/// The key order of every object schema with `properties` under `v` (the
/// order typify loses: it sorts them).
fn property_orders(v: &serde_json::Value, out: &mut Vec<Vec<String>>) {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get("properties") {
                out.push(props.keys().cloned().collect());
            }
            o.values().for_each(|v| property_orders(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| property_orders(v, out)),
        _ => {}
    }
}
