//! One schema folder: its events read, checked against each other, and
//! their types converted by typify.

use std::path::PathBuf;

use serde_json::Value;

use super::{definitions_of, event::load_event, parse_file};
use crate::bridge::{self, Defs};
use crate::ident::type_name;
use crate::model::{EventSpec, Namespace};
use crate::Error;

/// Loads the schema files of one folder (module `module`).
pub(super) fn load_namespace(
    folder: &str,
    module: String,
    paths: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Namespace, Error> {
    let (events, defs) = read_events(paths, warnings)?;
    check_type_names(&events)?;
    let converted = bridge::convert(folder, &events, &defs)?;
    Ok(Namespace {
        folder: folder.to_string(),
        module,
        events,
        field_types: converted.field_types,
        extra_types: converted.extra_types,
        items: converted.items,
        files: paths.to_vec(),
        aliases: Vec::new(),
    })
}

/// The events of a folder and their definitions; a schema's warnings are
/// kept unless its event type turns out shared (then its file name differs
/// from it by design).
fn read_events(
    paths: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<(Vec<EventSpec>, Defs), Error> {
    let mut events: Vec<EventSpec> = Vec::new();
    let mut defs = Defs::new();
    let mut own_warnings: Vec<(String, Vec<String>)> = Vec::new();
    for path in paths {
        let (file, root) = parse_file(path)?;
        let mut mine = Vec::new();
        let event = load_event(&file, &root, &mut mine)?;
        own_warnings.push((event.event_type.clone(), mine));
        add_event(&mut events, event)?;
        add_definitions(&mut defs, &file, &root)?;
    }
    for (event_type, mine) in own_warnings {
        if events.iter().filter(|e| e.event_type == event_type).count() == 1 {
            warnings.extend(mine);
        }
    }
    Ok((events, defs))
}

/// Adds `event`: an event type two schemas share must be told apart by a
/// required const, and then both types are named after their files (as a
/// free event type's is).
fn add_event(events: &mut Vec<EventSpec>, mut event: EventSpec) -> Result<(), Error> {
    let same_type: Vec<&EventSpec> = events
        .iter()
        .filter(|e| e.event_type == event.event_type)
        .collect();
    for prev in &same_type {
        if prev.free || event.free || prev.discriminator(&event).is_none() {
            return Err(Error::schema(
                &event.file,
                "",
                format!(
                    "event type \"{}\" is already defined by {} (two schemas may share an event type only when a required `const` property tells them apart)",
                    event.event_type, prev.file
                ),
            ));
        }
    }
    let shared = !same_type.is_empty();
    if event.free || shared {
        event.type_name = type_name(&event.stem);
    }
    if shared {
        let et = event.event_type.clone();
        for prev in events.iter_mut().filter(|e| e.event_type == et) {
            prev.type_name = type_name(&prev.stem);
        }
    }
    events.push(event);
    Ok(())
}

/// Adds a schema's definitions; one of the same name must be the same.
fn add_definitions(defs: &mut Defs, file: &str, root: &Value) -> Result<(), Error> {
    for (pointer, name, schema) in definitions_of(root) {
        match defs.get(&name) {
            Some((prev_file, _, prev)) if *prev != schema => {
                return Err(Error::schema(
                    file,
                    &pointer,
                    format!("definition \"{name}\" differs from the definition of the same name in {prev_file}"),
                ));
            }
            Some(_) => {}
            None => {
                defs.insert(name, (file.to_string(), pointer, schema));
            }
        }
    }
    Ok(())
}

/// Fails when two events of the folder map to the same Rust type.
fn check_type_names(events: &[EventSpec]) -> Result<(), Error> {
    for (i, event) in events.iter().enumerate() {
        if let Some(prev) = events[..i].iter().find(|e| e.type_name == event.type_name) {
            return Err(Error::schema(
                &event.file,
                "",
                format!(
                    "event type \"{}\" maps to Rust type `{}`, already used by \"{}\" in {}",
                    event.event_type, event.type_name, prev.event_type, prev.file
                ),
            ));
        }
    }
    Ok(())
}
