//! JSON Schema → Rust code generator for `insights-events`, in the style of
//! `prost-build`.
//!
//! Every `*.schema.json` (or `*.json`) file in each immediate subfolder of a
//! schema directory describes one event type. Each folder becomes a module
//! (`schemas/python/db.query.schema.json` → `python::DbQuery`), and the
//! generated file also contains an `AnyEvent` enum over every type and a
//! `SCHEMAS` table.
//!
//! ```no_run
//! // build.rs
//! let out_dir = std::env::var("OUT_DIR").unwrap();
//! if let Err(e) = insights_events_codegen::Config::new().compile("schemas", out_dir) {
//!     eprintln!("error: {e}");
//!     std::process::exit(1);
//! }
//! ```
//!
//! and in the crate: `include!(concat!(env!("OUT_DIR"), "/insights_events_generated.rs"));`.
//! The generated code uses `serde`, `serde_json` and the runtime crate
//! (`::insights_events` unless [`Config::runtime_path`] says otherwise).
//!
//! The generator never panics on bad input: any schema it cannot handle
//! produces an [`Error`] naming the file, the JSON Pointer and the construct.

#![warn(missing_docs)]

mod emit;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use serde_json::{Map, Value};

use crate::validate::{escape_token, Validator};

/// Why code generation failed.
///
/// The `Display` form is one line: the file, the JSON Pointer inside it, and
/// what could not be handled, e.g.
/// `schemas/python/db.query.schema.json: /properties/duration/type: unsupported type "decimal"`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a schema file or folder, or writing the output, failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is malformed or uses a construct the generator cannot
    /// handle.
    #[error("{}", display_schema_error(file, pointer, message))]
    Schema {
        /// The schema file, as found under the schema directory.
        file: String,
        /// JSON Pointer of the offending value inside the file (empty for the
        /// whole document).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The generator produced code it could not parse back (a bug in the
    /// generator; please report it with the schema that triggered it).
    #[error("internal error: {0}")]
    Internal(String),
}

fn display_schema_error(file: &str, pointer: &str, message: &str) -> String {
    if pointer.is_empty() {
        format!("{file}: {message}")
    } else {
        format!("{file}: {pointer}: {message}")
    }
}

impl Error {
    pub(crate) fn schema(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        let message: String = message.into();
        // Keep it on one line whatever the underlying library said.
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        Error::Schema {
            file: file.to_string(),
            pointer: pointer.to_string(),
            message,
        }
    }
}

/// Configuration for the code generator (builder style).
#[derive(Debug, Clone)]
pub struct Config {
    runtime_path: String,
    out_file_name: String,
    /// `(file name, path of the generated module)` when the `send()`
    /// methods go into a file of their own.
    send_methods_file: Option<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// File name [`Config::compile`] writes into the output directory by default.
pub const DEFAULT_OUT_FILE_NAME: &str = "insights_events_generated.rs";

impl Config {
    /// A configuration with the defaults: runtime at `::insights_events`,
    /// output file `insights_events_generated.rs`.
    pub fn new() -> Self {
        Config {
            runtime_path: "::insights_events".to_string(),
            out_file_name: DEFAULT_OUT_FILE_NAME.to_string(),
            send_methods_file: None,
        }
    }

    /// The path under which the generated code finds the runtime
    /// (`TypedEvent`, `Event`, `Client`, ...). Default `::insights_events`;
    /// the `insights-events` crate itself uses `crate`.
    pub fn runtime_path(&mut self, path: &str) -> &mut Self {
        self.runtime_path = path.to_string();
        self
    }

    /// The name of the file [`Config::compile`] writes (default
    /// [`DEFAULT_OUT_FILE_NAME`]).
    pub fn out_file_name(&mut self, name: &str) -> &mut Self {
        self.out_file_name = name.to_string();
        self
    }

    /// Writes the generated types' `send()` and `send_with()` methods into
    /// a file of their own, `file_name` in the output directory, as `impl`
    /// blocks naming the types under `types_path` (where the main file is
    /// included, e.g. `crate::schema::generated`), instead of beside each
    /// type. [`Config::generate`] then returns the types without them.
    ///
    /// For a runtime crate that keeps its schema types below the layer
    /// that sends (the `insights-events` crate itself); a user's crate
    /// needs none of this.
    pub fn send_methods_file(&mut self, file_name: &str, types_path: &str) -> &mut Self {
        self.send_methods_file = Some((file_name.to_string(), types_path.to_string()));
        self
    }

    /// Generates the Rust source for every schema under `schema_dir` and
    /// returns it, formatted.
    pub fn generate(&self, schema_dir: impl AsRef<Path>) -> Result<String, Error> {
        let (runtime, namespaces) = self.load(schema_dir.as_ref())?;
        let inline_send = self.send_methods_file.is_none();
        render(emit::emit_all(&runtime, &namespaces, inline_send)?)
    }

    /// Generates the code for `schema_dir` and writes it to
    /// `<out_dir>/insights_events_generated.rs` (see
    /// [`Config::out_file_name`]), returning the path written.
    ///
    /// Prints `cargo:rerun-if-changed` lines for the directory and for every
    /// schema file, so it is meant to be called from a build script.
    pub fn compile(
        &self,
        schema_dir: impl AsRef<Path>,
        out_dir: impl AsRef<Path>,
    ) -> Result<PathBuf, Error> {
        let schema_dir = schema_dir.as_ref();
        println!("cargo:rerun-if-changed={}", schema_dir.display());
        let (runtime, namespaces) = self.load(schema_dir)?;
        for f in namespaces.iter().flat_map(|ns| &ns.files) {
            println!("cargo:rerun-if-changed={}", f.display());
        }
        let inline_send = self.send_methods_file.is_none();
        let tokens = emit::emit_all(&runtime, &namespaces, inline_send)?;
        let out = out_dir.as_ref().join(&self.out_file_name);
        write_if_changed(&out, &render(tokens)?)?;
        if let Some((file, types)) = &self.send_methods_file {
            let types: syn::Path = syn::parse_str(types).map_err(|e| Error::Schema {
                file: "<config>".into(),
                pointer: String::new(),
                message: format!(
                    "send_methods_file's types path {types:?} is not a Rust path: {e}"
                ),
            })?;
            let impls = emit::emit_send_impls(&runtime, &types, &namespaces);
            write_if_changed(&out_dir.as_ref().join(file), &render(impls)?)?;
        }
        Ok(out)
    }

    fn load(&self, dir: &Path) -> Result<(syn::Path, Vec<Namespace>), Error> {
        let runtime: syn::Path = syn::parse_str(&self.runtime_path).map_err(|e| Error::Schema {
            file: "<config>".into(),
            pointer: String::new(),
            message: format!(
                "runtime_path {:?} is not a Rust path: {e}",
                self.runtime_path
            ),
        })?;
        let mut namespaces = Vec::new();
        let mut module_names = BTreeMap::new();
        for (folder, files) in list_schema_files(dir)? {
            let module = emit::module_ident(&folder);
            if let Some(prev) = module_names.insert(module.clone(), folder.clone()) {
                return Err(Error::schema(
                    &dir.join(&folder).display().to_string(),
                    "",
                    format!("folders \"{prev}\" and \"{folder}\" both map to module `{module}`"),
                ));
            }
            namespaces.push(load_namespace(&folder, module, &files)?);
        }
        Ok((runtime, namespaces))
    }
}

/// Formats generated tokens as a file.
fn render(tokens: TokenStream) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Internal(format!("generated code does not parse: {e}")))?;
    Ok(format!(
        "// @generated by insights-events-codegen from JSON Schema files. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// Writes `source` to `path` unless it holds it already (keeps rebuilds
/// incremental).
fn write_if_changed(path: &Path, source: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(source) {
        std::fs::write(path, source).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// The sorted subfolders of `dir` with their sorted `*.json` files.
fn list_schema_files(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if path.is_dir() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if !name.starts_with('.') {
                    folders.push(name.to_string());
                }
            }
        }
    }
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let fdir = dir.join(&folder);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&fdir).map_err(io(&fdir))? {
            let entry = entry.map_err(io(&fdir))?;
            let path = entry.path();
            let is_json = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".json") && !n.starts_with('.'));
            if is_json && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if !files.is_empty() {
            out.push((folder, files));
        }
    }
    Ok(out)
}

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
}

/// One schema file.
#[derive(Debug)]
pub(crate) struct EventSpec {
    pub file: String,
    /// `<folder>/<file name>`, for docs (independent of the schema dir path).
    pub rel: String,
    pub event_type: String,
    pub type_name: String,
    pub schema_id: String,
    pub title: String,
    pub description: String,
    pub fields: Vec<FieldSpec>,
}

/// One folder, after typify ran over it.
pub(crate) struct Namespace {
    pub folder: String,
    pub module: String,
    pub events: Vec<EventSpec>,
    /// Rust type of each field of each event (same order as `events`/`fields`).
    pub field_types: Vec<Vec<emit::FieldType>>,
    /// typify's items (nested types, definitions).
    pub items: Vec<syn::Item>,
    /// The schema files it came from.
    pub files: Vec<PathBuf>,
}

fn str_of<'a>(o: &'a Map<String, Value>, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

fn parse_file(path: &Path) -> Result<(String, Value), Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
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

fn load_event(file: &str, root: &Value) -> Result<EventSpec, Error> {
    let defs: BTreeSet<String> = definitions_of(root).into_iter().map(|d| d.1).collect();
    Validator { file, defs }.check_root(root)?;
    let obj = root.as_object().expect("checked by the validator");
    let file_stem = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let file_stem = file_stem
        .strip_suffix(".schema.json")
        .or_else(|| file_stem.strip_suffix(".json"))
        .unwrap_or(file_stem);
    let props = obj.get("properties").and_then(Value::as_object);
    let event_type = props
        .and_then(|p| p.get("event_type"))
        .and_then(|e| e.get("const"))
        .and_then(Value::as_str)
        .unwrap_or(file_stem)
        .to_string();
    if event_type.is_empty() {
        return Err(Error::schema(
            file,
            "",
            "cannot derive an event type (empty)",
        ));
    }
    let required: Vec<String> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut fields = Vec::new();
    if let Some(props) = props {
        for (key, schema) in props {
            if key == "event_type" {
                continue;
            }
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
                        format!(
                        "unsupported property schema {schema} (a field that can never be present)"
                    ),
                    ))
                }
            };
            fields.push(FieldSpec {
                key: key.clone(),
                schema: schema.clone(),
                required: required.iter().any(|r| r == key),
                description,
                example,
                json_type,
                pointer,
            });
        }
    }
    let p = Path::new(file);
    let rel = match (
        p.parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str()),
        p.file_name().and_then(|n| n.to_str()),
    ) {
        (Some(folder), Some(name)) => format!("{folder}/{name}"),
        _ => file.to_string(),
    };
    Ok(EventSpec {
        file: file.to_string(),
        rel,
        type_name: emit::type_name(&event_type),
        event_type,
        schema_id: str_of(obj, "$id").to_string(),
        title: str_of(obj, "title").to_string(),
        description: str_of(obj, "description").to_string(),
        fields,
    })
}

/// Removes keywords whose typify output would need extra crates
/// (`format` → chrono/uuid, `pattern` → regress): such fields are plain
/// strings here.
fn strip_for_typify(v: &mut Value) {
    let Value::Object(o) = v else { return };
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

fn to_schemars(file: &str, pointer: &str, v: &Value) -> Result<schemars::schema::Schema, Error> {
    let mut v = v.clone();
    strip_for_typify(&mut v);
    serde_json::from_value(v)
        .map_err(|e| Error::schema(file, pointer, format!("unsupported schema: {e}")))
}

static PANIC_HOOK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f`, turning a panic into `Err(message)` without printing it.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
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

fn typify_err(file: &str, pointer: &str, what: &str, e: impl std::fmt::Display) -> Error {
    let mut msg = e
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if msg.chars().count() > 240 {
        msg = msg.chars().take(240).collect::<String>() + "…";
    }
    Error::schema(file, pointer, format!("{what}: {msg}"))
}

fn load_namespace(folder: &str, module: String, paths: &[PathBuf]) -> Result<Namespace, Error> {
    let mut events: Vec<EventSpec> = Vec::new();
    // name -> (file, pointer, schema)
    let mut defs: BTreeMap<String, (String, String, Value)> = BTreeMap::new();
    for path in paths {
        let (file, root) = parse_file(path)?;
        let event = load_event(&file, &root)?;
        if let Some(prev) = events.iter().find(|e| e.event_type == event.event_type) {
            return Err(Error::schema(
                &file,
                "",
                format!(
                    "event type \"{}\" is already defined by {}",
                    event.event_type, prev.file
                ),
            ));
        }
        if let Some(prev) = events.iter().find(|e| e.type_name == event.type_name) {
            return Err(Error::schema(
                &file,
                "",
                format!(
                    "event type \"{}\" maps to Rust type `{}`, already used by \"{}\" in {}",
                    event.event_type, event.type_name, prev.event_type, prev.file
                ),
            ));
        }
        for (pointer, name, schema) in definitions_of(&root) {
            match defs.get(&name) {
                Some((prev_file, _, prev)) if *prev != schema => {
                    return Err(Error::schema(
                        &file,
                        &pointer,
                        format!("definition \"{name}\" differs from the definition of the same name in {prev_file}"),
                    ));
                }
                Some(_) => {}
                None => {
                    defs.insert(name, (file.clone(), pointer, schema));
                }
            }
        }
        events.push(event);
    }

    let mut settings = typify::TypeSpaceSettings::default();
    settings
        .with_struct_builder(false)
        .with_derive("PartialEq".to_string());
    let mut space = typify::TypeSpace::new(&settings);

    if !defs.is_empty() {
        let mut converted = Vec::new();
        for (name, (file, pointer, schema)) in &defs {
            converted.push((name.clone(), to_schemars(file, pointer, schema)?));
        }
        let (file, pointer, _) = defs.values().next().expect("non-empty");
        let pointer = pointer.rsplit_once('/').map(|p| p.0).unwrap_or("");
        guarded(|| space.add_ref_types(converted))
            .map_err(|p| {
                typify_err(
                    file,
                    pointer,
                    "cannot convert definitions (typify panicked)",
                    p,
                )
            })?
            .map_err(|e| typify_err(file, pointer, "cannot convert definitions", e))?;
    }

    let mut field_types = Vec::new();
    for event in &events {
        let mut types = Vec::new();
        for field in &event.fields {
            let schema = to_schemars(&event.file, &field.pointer, &field.schema)?;
            let hint = format!("{}{}", event.type_name, emit::pascal(&field.key));
            let id = guarded(|| space.add_type_with_name(&schema, Some(hint)))
                .map_err(|p| {
                    typify_err(
                        &event.file,
                        &field.pointer,
                        "cannot convert schema (typify panicked)",
                        p,
                    )
                })?
                .map_err(|e| typify_err(&event.file, &field.pointer, "cannot convert schema", e))?;
            let ty = guarded(|| {
                space.get_type(&id).map(|t| {
                    let has_default = t.has_impl(typify::TypeSpaceImpl::Default);
                    (t.ident(), has_default)
                })
            })
            .map_err(|p| typify_err(&event.file, &field.pointer, "typify panicked", p))?
            .map_err(|e| typify_err(&event.file, &field.pointer, "cannot convert schema", e))?;
            types.push(emit::FieldType::new(ty.0, ty.1));
        }
        field_types.push(types);
    }

    let first_file = events.first().map(|e| e.file.as_str()).unwrap_or(folder);
    let stream = guarded(|| space.to_stream())
        .map_err(|p| typify_err(first_file, "", "typify panicked while generating code", p))?;
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
    let items = emit::tidy_typify_items(parsed.items);
    emit::check_name_clashes(first_file, &events, &items)?;
    Ok(Namespace {
        folder: folder.to_string(),
        module,
        events,
        field_types,
        items,
        files: paths.to_vec(),
    })
}
