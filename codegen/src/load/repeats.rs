//! Schemas that repeat one of an earlier folder, and event types two
//! folders define differently.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{event::load_event, parse_file, stem_of};
use crate::discover::Listing;
use crate::model::{Alias, Namespace};
use crate::Error;

/// An event schema with its annotations (`title`, `description`, `$id`,
/// `$schema`, `$comment`, `examples`, `x-…` keywords) removed, at every
/// level: what two schemas must share to be the same schema.
fn without_annotations(v: &Value) -> Value {
    let Value::Object(o) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, v) in o {
        if matches!(
            k.as_str(),
            "title" | "description" | "$id" | "$schema" | "$comment" | "examples"
        ) || k.starts_with("x-")
        {
            continue;
        }
        let v = match (k.as_str(), v) {
            (
                "properties" | "$defs" | "definitions" | "patternProperties" | "dependencies",
                Value::Object(m),
            ) => Value::Object(
                m.iter()
                    .map(|(name, s)| (name.clone(), without_annotations(s)))
                    .collect(),
            ),
            ("items" | "allOf" | "anyOf" | "oneOf", Value::Array(a)) => {
                Value::Array(a.iter().map(without_annotations).collect())
            }
            (
                "items"
                | "additionalProperties"
                | "additionalItems"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else",
                s,
            ) => without_annotations(s),
            (_, v) => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// The schema files that repeat a schema of an earlier folder: the same
/// fixed event type and the same schema but for annotations. Each maps to
/// the file it repeats. (Files that do not parse are left to the loader.)
pub(super) fn find_repeats(listing: &Listing) -> BTreeMap<PathBuf, PathBuf> {
    let mut first: BTreeMap<(String, String), (&str, &PathBuf)> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (folder, files) in listing {
        for path in files {
            let Ok((_, root)) = parse_file(path) else {
                continue;
            };
            let et = root.get("properties").and_then(|p| p.get("event_type"));
            let event_type = match et.map(|e| e.get("const")) {
                Some(Some(Value::String(s))) => s.clone(),
                // Free or malformed: not repeated.
                Some(_) => continue,
                None => {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    stem_of(name).to_string()
                }
            };
            let key = (event_type, without_annotations(&root).to_string());
            match first.get(&key) {
                Some((f, p)) if *f != folder.as_str() => {
                    out.insert(path.clone(), (*p).clone());
                }
                Some(_) => {}
                None => {
                    first.insert(key, (folder.as_str(), path));
                }
            }
        }
    }
    out
}

/// Loads the schemas that repeat an earlier folder's and attaches them to
/// their folders, naming the type they repeat; both share their examples.
pub(super) fn attach_aliases(
    namespaces: &mut [Namespace],
    alias_files: Vec<(usize, PathBuf, PathBuf)>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    for (ns, path, first) in alias_files {
        let (file, root) = parse_file(&path)?;
        let mut spec = load_event(&file, &root, warnings)?;
        let first_file = first.display().to_string();
        let target = namespaces.iter().enumerate().find_map(|(i, n)| {
            n.events
                .iter()
                .position(|e| e.file == first_file)
                .map(|j| (i, j))
        });
        let Some((ti, tj)) = target else {
            return Err(Error::Internal(format!(
                "{file} repeats {first_file}, which was not loaded"
            )));
        };
        let t = &mut namespaces[ti].events[tj];
        spec.type_name = t.type_name.clone();
        let mut pooled = t.examples.clone();
        for ex in &spec.examples {
            if !pooled.contains(ex) {
                pooled.push(ex.clone());
            }
        }
        t.examples = pooled.clone();
        spec.examples = pooled;
        let here = &mut namespaces[ns];
        if let Some(prev) = here.events.iter().find(|e| e.type_name == spec.type_name) {
            return Err(Error::schema(
                &file,
                "",
                format!(
                    "event type \"{}\" maps to Rust type `{}`, already used by \"{}\" in {}",
                    spec.event_type, spec.type_name, prev.event_type, prev.file
                ),
            ));
        }
        here.aliases.push(Alias {
            spec,
            target: (ti, tj),
        });
    }
    Ok(())
}

/// One warning for each schema whose fixed event type an earlier folder
/// defines differently, with no `const` to tell the two apart: events of
/// that type are read as the first folder's.
pub(super) fn warn_about_cross_folder_event_types(
    namespaces: &[Namespace],
    warnings: &mut Vec<String>,
) {
    for (j, later) in namespaces.iter().enumerate() {
        for b in later.events.iter().filter(|e| !e.free) {
            let first = namespaces[..j]
                .iter()
                .flat_map(|n| n.events.iter().map(move |e| (n, e)))
                .find(|(_, a)| {
                    !a.free && a.event_type == b.event_type && a.discriminator(b).is_none()
                });
            if let Some((n, a)) = first {
                warnings.push(format!(
                    "{}: event type \"{et}\" is also defined by {}, and the two schemas differ: AnyEvent::from_value reads \"{et}\" events as {}/{} (the first folder's), this schema's type is {}::{}; parse an event as this schema with AnyEvent::from_value_as(\"{}/{}\", ..)",
                    b.file,
                    a.file,
                    n.folder,
                    a.stem,
                    later.module,
                    b.type_name,
                    later.folder,
                    b.stem,
                    et = b.event_type,
                ));
            }
        }
    }
}
