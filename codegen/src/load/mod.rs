//! Loading a schema directory: each folder's schema files read into the
//! model (`crate::model`) and their types converted by typify.

mod event;
mod namespace;
mod patterns;
mod repeats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::discover::list_schema_files;
use crate::ident::module_ident;
use crate::model::Namespace;
use crate::validate::escape_token;
use crate::Error;

pub use patterns::patterns_from_example;

/// Everything read from a schema directory.
pub(crate) struct Loaded {
    pub namespaces: Vec<Namespace>,
    pub warnings: Vec<String>,
    /// Every folder under the directory (for `cargo:rerun-if-changed`).
    pub folders: Vec<PathBuf>,
}

/// Loads every folder of `dir`, in name order.
pub(crate) fn load_dir(dir: &Path) -> Result<Loaded, Error> {
    let mut warnings = Vec::new();
    let listing = list_schema_files(dir, &mut warnings)?;
    // The same schema in a later folder (identical but for annotations)
    // is the first folder's type: file -> the file it repeats.
    let repeats = repeats::find_repeats(&listing);
    let mut namespaces = Vec::new();
    let mut module_names = BTreeMap::new();
    let mut folders = Vec::new();
    let mut alias_files: Vec<(usize, PathBuf, PathBuf)> = Vec::new();
    for (folder, files) in listing {
        folders.push(dir.join(&folder));
        if files.is_empty() {
            continue;
        }
        let (files, repeated): (Vec<PathBuf>, Vec<PathBuf>) =
            files.into_iter().partition(|f| !repeats.contains_key(f));
        let module = module_ident(&folder);
        if let Some(prev) = module_names.insert(module.clone(), folder.clone()) {
            return Err(Error::schema(
                &dir.join(&folder).display().to_string(),
                "",
                format!("folders \"{prev}\" and \"{folder}\" both map to module `{module}`"),
            ));
        }
        for f in repeated {
            let first = repeats[&f].clone();
            alias_files.push((namespaces.len(), f, first));
        }
        let ns = namespace::load_namespace(&folder, module, &files, &mut warnings)?;
        namespaces.push(ns);
    }
    repeats::attach_aliases(&mut namespaces, alias_files, &mut warnings)?;
    repeats::warn_about_cross_folder_event_types(&namespaces, &mut warnings);
    if namespaces.is_empty() {
        warnings.push(format!(
            "{}: no schema files found: put each `<event type>.schema.json` in a folder under it (e.g. {}/myapp/order.placed.schema.json); no event types were generated",
            dir.display(),
            dir.display()
        ));
    }
    Ok(Loaded {
        namespaces,
        warnings,
        folders,
    })
}

/// A schema file's path (as shown in messages) and JSON.
fn parse_file(path: &Path) -> Result<(String, Value), Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        Error::schema(
            &file,
            "",
            format!(
                "invalid JSON at line {} column {}: {msg}",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok((file, value))
}

/// The definitions of a schema: `(pointer, name, schema)`.
fn definitions_of(root: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = root.get(key) {
            for (name, schema) in defs {
                out.push((
                    format!("/{}/{}", escape_token(key), escape_token(name)),
                    name.clone(),
                    schema.clone(),
                ));
            }
        }
    }
    out
}

fn str_of<'a>(o: &'a Map<String, Value>, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A schema file's name without `.schema.json` / `.json`.
fn stem_of(file_name: &str) -> &str {
    file_name
        .strip_suffix(".schema.json")
        .or_else(|| file_name.strip_suffix(".json"))
        .unwrap_or(file_name)
}
