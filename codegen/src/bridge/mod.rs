//! The typify bridge: a folder's schemas handed to typify, and the Rust
//! types it chose read back. Every call into typify goes through
//! [`typify_call`]: one conversion, one error path.

mod field_type;
mod items;
mod prep;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use serde_json::Value;
use typify::{TypeId, TypeSpace};

pub(crate) use field_type::{display_type, FieldType, Kind};

use crate::model::{EventSpec, ExtraRule};
use crate::Error;

/// A folder's definitions: name → (file, pointer, schema).
pub(crate) type Defs = BTreeMap<String, (String, String, Value)>;

/// What typify made of a folder.
pub(crate) struct Converted {
    /// Rust type of each field of each event (same order as the events).
    pub field_types: Vec<Vec<FieldType>>,
    /// The Rust type of each event's `additionalProperties` schema, if any.
    pub extra_types: Vec<Option<TokenStream>>,
    /// typify's items (nested types, definitions), finished.
    pub items: Vec<syn::Item>,
}

/// Converts the field, `additionalProperties` and definition schemas of a
/// folder's events.
pub(crate) fn convert(folder: &str, events: &[EventSpec], defs: &Defs) -> Result<Converted, Error> {
    let mut settings = typify::TypeSpaceSettings::default();
    settings
        .with_struct_builder(false)
        .with_derive("PartialEq".to_string());
    let mut space = TypeSpace::new(&settings);
    add_definitions(&mut space, defs)?;
    let mut field_types = Vec::new();
    for event in events {
        let mut types = Vec::new();
        for field in &event.fields {
            let hint = format!("{}{}", event.type_name, crate::ident::pascal(&field.key));
            let at = (event.file.as_str(), field.pointer.as_str());
            let id = add_type(&mut space, at, &field.schema, hint)?;
            types.push(field_type::of(&space, at, &id)?);
        }
        field_types.push(types);
    }
    let mut extra_types = Vec::new();
    for event in events {
        extra_types.push(match &event.extra {
            ExtraRule::Schema { schema, pointer } => {
                let at = (event.file.as_str(), pointer.as_str());
                let id = add_type(&mut space, at, schema, format!("{}Extra", event.type_name))?;
                Some(typify_call(at, "cannot convert schema", || {
                    space.get_type(&id).map(|t| t.ident())
                })?)
            }
            _ => None,
        });
    }
    let first_file = events.first().map(|e| e.file.as_str()).unwrap_or(folder);
    let items = items::finish(&space, folder, first_file, events, defs)?;
    Ok(Converted {
        field_types,
        extra_types,
        items,
    })
}

/// Adds the folder's definitions (for `$ref`s).
fn add_definitions(space: &mut TypeSpace, defs: &Defs) -> Result<(), Error> {
    let Some((file, pointer, _)) = defs.values().next() else {
        return Ok(());
    };
    let mut converted = Vec::new();
    for (name, (file, pointer, schema)) in defs {
        converted.push((name.clone(), prep::to_schemars(file, pointer, schema)?));
    }
    let pointer = pointer.rsplit_once('/').map(|p| p.0).unwrap_or("");
    typify_call((file, pointer), "cannot convert definitions", || {
        space.add_ref_types(converted)
    })
}

/// Adds one schema, named after `hint`.
fn add_type(
    space: &mut TypeSpace,
    at: (&str, &str),
    schema: &Value,
    hint: String,
) -> Result<TypeId, Error> {
    let schema = prep::to_schemars(at.0, at.1, schema)?;
    typify_call(at, "cannot convert schema", || {
        space.add_type_with_name(&schema, Some(hint))
    })
}

/// Calls typify, its error or panic an [`Error`] naming the file and
/// pointer `at` and `what` failed.
pub(crate) fn typify_call<T, E: std::fmt::Display>(
    at: (&str, &str),
    what: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, Error> {
    guarded(f)
        .map_err(|p| typify_err(at, &format!("{what} (typify panicked)"), p))?
        .map_err(|e| typify_err(at, what, e))
}

static PANIC_HOOK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f`, turning a panic into `Err(message)` without printing it.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let _lock = PANIC_HOOK_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(prev);
    result.map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_string()
        }
    })
}

/// typify's message, on one line and at most 240 characters.
fn typify_err(at: (&str, &str), what: &str, e: impl std::fmt::Display) -> Error {
    let mut msg = e
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if msg.chars().count() > 240 {
        msg = msg.chars().take(240).collect::<String>() + "…";
    }
    Error::schema(at.0, at.1, format!("{what}: {msg}"))
}
