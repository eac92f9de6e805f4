//! JSON Schema → Rust code generator for `insights-events`, in the style of
//! `prost-build`: a user's crate turns its own event schemas into typed
//! events from its build script.
//!
//! ```toml
//! [dependencies]
//! insights-events = "0.1"
//!
//! [build-dependencies]
//! insights-events-codegen = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), insights_events_codegen::Error> {
//!     insights_events_codegen::compile("schemas")
//! }
//! ```
//!
//! and in the crate, a module for the types:
//!
//! ```ignore
//! pub mod events {
//!     insights_events::include_events!();
//! }
//! ```
//!
//! The generated code reaches `serde` and `serde_json` through the runtime
//! crate (`insights_events::__private`), so the user's crate depends on
//! nothing else. [`Config`] holds the options (the runtime's path, the
//! output file's name); [`Config::generate_with_warnings`] returns the code
//! as a string.
//!
//! # Schema files
//!
//! Every `*.json` file (by convention `*.schema.json`) in each immediate
//! subfolder of the schema directory describes one event type, as a
//! draft-07 JSON Schema with `"type": "object"`. Each folder becomes a
//! module (`schemas/orders/order.placed.schema.json` →
//! `orders::OrderPlaced`); the generated file also has an `AnyEvent` enum
//! over every type and a `SCHEMAS` table. [`Config::compile`] prints a
//! `cargo:warning` for what it skips (a file at the root of the schema
//! directory, a file that is not `.json`, a folder without schemas, a
//! directory with none at all), for an `event_type` const that differs
//! from the file name (the type is named after the const), and for a
//! schema whose event type an earlier folder defines differently. Each
//! once.
//!
//! * **Event type**: the `event_type` property's `const`; without an
//!   `event_type` property, the file name (`order.placed`). An
//!   `event_type` property *without* a `const` leaves the value to the
//!   sender: the struct gets a `pub event_type: String` (the file name until
//!   set, `.with_event_type(..)`), and `AnyEvent::from_value_as("folder/file",
//!   value)` parses an event as that schema whatever its event type.
//! * **Type name**: from the event type (`db.query` → `DbQuery`); from the
//!   file name when the event type is free or shared.
//! * **Shared event types**: two schemas may have the same `event_type`
//!   const when a required `const` property tells them apart (heroku's
//!   `router` and `postgres` log events, both `logplex`, by `proc_id`);
//!   `AnyEvent` picks the one whose consts all match.
//! * **Placing the rest**: an event whose `event_type` no schema fixes goes
//!   to the schemas without an `event_type` const, by the runtime's
//!   `insights_events::placing::place`: first by their required consts
//!   (whatever the event type), then by name patterns: the file name, and
//!   the globs of an `"x-event-type-pattern"` keyword on the `event_type`
//!   property (a string or an array), or else each `event_type` example as
//!   itself and, with three dotted parts or more, with its first part as
//!   `*` ([`patterns_from_example`]: `my_app.repo.query` → `*.repo.query`).
//!   Claimed twice alike, an event is an error naming both schemas; not
//!   claimed, it is `AnyEvent::Unknown`.
//! * **The same event type in two folders** (folders are read in name
//!   order): the same schema but for its annotations (`title`,
//!   `description`, `$id`, `$schema`, `$comment`, `examples`, `x-…`) is one
//!   type, the first folder's, re-exported by the later one's module; both
//!   names parse as it, both `SCHEMAS` entries share their examples, and no
//!   warning is given. Schemas told apart by a required const are placed by
//!   it. Otherwise both types are generated, the first folder's takes the
//!   events of that type, and one `cargo:warning` names both files.
//! * **Nested objects** become structs like the event types: `new` takes
//!   the required fields, each optional one has a setter, and the fields
//!   are in the schema's order (the order they are written in).
//! * **`const` properties** other than `event_type` are not struct fields:
//!   they are written with every event and checked on parsing.
//! * **Other keys** go to the struct's `extra` map; a top-level
//!   `additionalProperties` schema checks their values, `false` rejects them.
//!
//! # Type mapping
//!
//! Chosen for the person writing `OrderPlaced::new(..)`: plain Rust types,
//! with the schema's finer rules checked when an event is parsed or
//! validated (`AnyEvent`, `insights-events validate`, the receiver).
//!
//! | JSON Schema | Rust type | checked on parsing |
//! |---|---|---|
//! | `"type": "string"` | `String` | `minLength`, `maxLength` (top-level fields) |
//! | `"type": "string"` with `format` or `pattern` | `String` | not checked |
//! | `"type": "string"`, `"enum": [..]` | an enum, one variant per value | the value is one of them |
//! | `"type": "integer"` (any `minimum`, `maximum`, `exclusive*`) | `i64` | the bounds (top-level fields) |
//! | `"type": "number"` | `f64` | the bounds (top-level fields); NaN and infinities never sent |
//! | `"type": "boolean"` | `bool` | |
//! | `"type": "object"` with `properties` | a struct named after the event and field (`OrderPlacedShipping`) | nested types and required keys |
//! | `"type": "object"` without `properties` | `serde_json::Map<String, serde_json::Value>` | |
//! | `"type": "array"`, `items` | `Vec<T>` | item types |
//! | no `type`, `true`, `anyOf` of mixed types | `serde_json::Value` (or typify's enum) | |
//! | `"type": [T, "null"]`, or `null` in `anyOf`/`oneOf` | `Option<T>` | |
//! | `$ref` to `$defs` / `definitions` | the definition's type, shared by the folder | |
//!
//! Not checked anywhere: `multipleOf`, `format`, `pattern` and
//! `patternProperties` (dropped before typify, which would need extra
//! crates for them), and draft-04's boolean `exclusiveMinimum` /
//! `exclusiveMaximum` (refused by the generator: use draft-07's numbers).
//!
//! A property not in `required` is `Option<T>` (`Option<T>` too when it is
//! also nullable: absent and `null` are both `None`). Integers are `i64`
//! whatever their bounds: typify would make `minimum: 1` a `NonZeroU64`
//! and `minimum: 0` a `u64`, which `OrderPlaced::new("o", 3)` cannot take
//! from a literal or an `i64` without a conversion, so the generator drops
//! integer bounds before typify and checks them itself. Bounds inside
//! nested objects and arrays are dropped the same way and are not checked
//! (top-level fields only).
//!
//! The generator never panics on bad input: any schema it cannot handle
//! produces an [`Error`] naming the file, the JSON Pointer and the construct,
//! on one line (for `Display` and `Debug` alike).

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
///
/// `Debug` prints the same line, so `.unwrap()`, `.expect(..)` and `?` from
/// a build script's `fn main() -> Result<(), Error>` show one clear line, not
/// a struct dump.
#[derive(thiserror::Error)]
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

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
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

/// Generates the types for every schema under `schema_dir` into `OUT_DIR`,
/// with the default [`Config`]: the one call a user's `build.rs` needs.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), insights_events_codegen::Error> {
///     insights_events_codegen::compile("schemas")
/// }
/// ```
///
/// and in the crate, `insights_events::include_events!();`.
pub fn compile(schema_dir: impl AsRef<Path>) -> Result<(), Error> {
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
        path: PathBuf::from("$OUT_DIR"),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "OUT_DIR is not set: call this from a build script, or use Config::compile with a directory",
        ),
    })?;
    Config::new().compile(schema_dir, out_dir).map(drop)
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
    /// returns it, formatted. Warnings are dropped; see
    /// [`Config::generate_with_warnings`].
    pub fn generate(&self, schema_dir: impl AsRef<Path>) -> Result<String, Error> {
        Ok(self.generate_with_warnings(schema_dir)?.source)
    }

    /// Like [`Config::generate`], and also returns what the generator
    /// noticed but did not fail on: files it skipped, folders without
    /// schemas, an `event_type` const that differs from the file name, a
    /// schema whose event type an earlier folder defines differently.
    pub fn generate_with_warnings(&self, schema_dir: impl AsRef<Path>) -> Result<Generated, Error> {
        let loaded = self.load(schema_dir.as_ref())?;
        let inline_send = self.send_methods_file.is_none();
        let tokens = emit::emit_all(&loaded.runtime, &loaded.namespaces, inline_send)?;
        Ok(Generated {
            source: render(tokens, &loaded.runtime)?,
            warnings: loaded.warnings,
        })
    }

    /// Generates the code for `schema_dir` and writes it to
    /// `<out_dir>/insights_events_generated.rs` (see
    /// [`Config::out_file_name`]), returning the path written.
    ///
    /// Meant to be called from a build script: prints
    /// `cargo:rerun-if-changed` lines for the directory, each folder and
    /// every schema file (so adding, changing or removing a schema rebuilds),
    /// and a `cargo:warning` line for each [`Generated::warnings`] entry.
    pub fn compile(
        &self,
        schema_dir: impl AsRef<Path>,
        out_dir: impl AsRef<Path>,
    ) -> Result<PathBuf, Error> {
        let schema_dir = schema_dir.as_ref();
        println!("cargo:rerun-if-changed={}", schema_dir.display());
        let loaded = self.load(schema_dir)?;
        for w in &loaded.warnings {
            println!("cargo:warning={w}");
        }
        for folder in &loaded.folders {
            println!("cargo:rerun-if-changed={}", folder.display());
        }
        for f in loaded.namespaces.iter().flat_map(|ns| &ns.files) {
            println!("cargo:rerun-if-changed={}", f.display());
        }
        let inline_send = self.send_methods_file.is_none();
        let tokens = emit::emit_all(&loaded.runtime, &loaded.namespaces, inline_send)?;
        let out = out_dir.as_ref().join(&self.out_file_name);
        write_if_changed(&out, &render(tokens, &loaded.runtime)?)?;
        if let Some((file, types)) = &self.send_methods_file {
            let types: syn::Path = syn::parse_str(types).map_err(|e| Error::Schema {
                file: "<config>".into(),
                pointer: String::new(),
                message: format!(
                    "send_methods_file's types path {types:?} is not a Rust path: {e}"
                ),
            })?;
            let impls = emit::emit_send_impls(&loaded.runtime, &types, &loaded.namespaces);
            write_if_changed(
                &out_dir.as_ref().join(file),
                &render(impls, &loaded.runtime)?,
            )?;
        }
        Ok(out)
    }

    fn load(&self, dir: &Path) -> Result<Loaded, Error> {
        let runtime: syn::Path = syn::parse_str(&self.runtime_path).map_err(|e| Error::Schema {
            file: "<config>".into(),
            pointer: String::new(),
            message: format!(
                "runtime_path {:?} is not a Rust path: {e}",
                self.runtime_path
            ),
        })?;
        let mut warnings = Vec::new();
        let listing = list_schema_files(dir, &mut warnings)?;
        // The same schema in a later folder (identical but for annotations)
        // is the first folder's type: file -> the file it repeats.
        let repeats = find_repeats(&listing);
        let mut namespaces = Vec::new();
        let mut module_names = BTreeMap::new();
        let mut folders = Vec::new();
        let mut alias_files: Vec<(usize, PathBuf, PathBuf)> = Vec::new();
        for (folder, files) in listing {
            folders.push(dir.join(&folder));
            if files.is_empty() {
                continue;
            }
            let (own, repeated): (Vec<PathBuf>, Vec<PathBuf>) =
                files.into_iter().partition(|f| !repeats.contains_key(f));
            let files = own;
            let module = emit::module_ident(&folder);
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
            namespaces.push(load_namespace(&folder, module, &files, &mut warnings)?);
        }
        attach_aliases(&mut namespaces, alias_files, &mut warnings)?;
        warn_about_cross_folder_event_types(&namespaces, &mut warnings);
        if namespaces.is_empty() {
            warnings.push(format!(
                "{}: no schema files found: put each `<event type>.schema.json` in a folder under it (e.g. {}/myapp/order.placed.schema.json); no event types were generated",
                dir.display(),
                dir.display()
            ));
        }
        Ok(Loaded {
            runtime,
            namespaces,
            warnings,
            folders,
        })
    }
}

/// What [`Config::generate_with_warnings`] produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generated {
    /// The generated Rust source, formatted.
    pub source: String,
    /// One line per thing the generator skipped or noticed, each naming the
    /// file (what [`Config::compile`] prints as `cargo:warning`).
    pub warnings: Vec<String>,
}

struct Loaded {
    runtime: syn::Path,
    namespaces: Vec<Namespace>,
    warnings: Vec<String>,
    folders: Vec<PathBuf>,
}

/// Formats generated tokens as a file. Every `::serde` and `::serde_json`
/// path is rewritten to the runtime's re-exports (`<runtime>::__private::serde`),
/// and each serde derive is told where serde is, so a user's crate needs no
/// `serde` dependency of its own.
fn render(tokens: TokenStream, runtime: &syn::Path) -> Result<String, Error> {
    let private: TokenStream = quote::quote!(#runtime::__private);
    let tokens = reroute_serde(tokens, &private);
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Internal(format!("generated code does not parse: {e}")))?;
    let serde_path = format!("{}::serde", private.to_string().replace(' ', ""));
    tell_derives_where_serde_is(&mut file.items, &serde_path);
    Ok(format!(
        "// @generated by insights-events-codegen from JSON Schema files. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// Replaces the leading `::serde` / `::serde_json` of each path with
/// `<private>::serde` / `<private>::serde_json`.
fn reroute_serde(tokens: TokenStream, private: &TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        let leading = |j: usize| match trees.get(j) {
            Some(TokenTree::Punct(p)) => p.as_char() == ':',
            _ => false,
        };
        // `a::serde` continues a path; `impl ::serde`, `impl<'de> ::serde`,
        // `T: ::serde`, `=> ::serde`, `(::serde` start one.
        // (`'a ::serde` is a lifetime, then a path: the `'` says so.)
        let after_lifetime = out.len() >= 2
            && matches!(&out[out.len() - 2], TokenTree::Punct(p) if p.as_char() == '\'');
        let continues_path = match out.last() {
            Some(TokenTree::Ident(id)) => !is_keyword(&id.to_string()) && !after_lifetime,
            _ => false,
        };
        if !continues_path && leading(i) && leading(i + 1) {
            if let Some(TokenTree::Ident(id)) = trees.get(i + 2) {
                if id == "serde" || id == "serde_json" {
                    out.extend(private.clone());
                    out.push(trees[i].clone());
                    out.push(trees[i + 1].clone());
                    out.push(trees[i + 2].clone());
                    i += 3;
                    continue;
                }
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), reroute_serde(g.stream(), private));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            t => out.push(t.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Whether an identifier is a keyword (after which a `::` starts a path).
fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "dyn"
            | "else"
            | "enum"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "yield"
    )
}

/// Points the `serde_json` paths that typify writes inside `#[serde(..)]`
/// strings (`skip_serializing_if = "::serde_json::Map::is_empty"`) at the
/// runtime's re-export, as `reroute_serde` does for code.
fn reroute_serde_strings(attrs: &mut [syn::Attribute], serde_path: &str) {
    let private = serde_path.trim_end_matches("::serde");
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("serde")) {
        let text = quote::quote!(#attr).to_string();
        if !text.contains("\"::serde_json::") {
            continue;
        }
        let text = text.replace("\"::serde_json::", &format!("\"{private}::serde_json::"));
        if let Ok(parsed) = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, &text) {
            if let [one] = parsed.as_slice() {
                *attr = one.clone();
            }
        }
    }
}

/// Adds `#[serde(crate = "...")]` to every item that derives a serde trait.
fn tell_derives_where_serde_is(items: &mut [syn::Item], serde_path: &str) {
    for item in items {
        match item {
            syn::Item::Struct(s) => s
                .fields
                .iter_mut()
                .for_each(|f| reroute_serde_strings(&mut f.attrs, serde_path)),
            syn::Item::Enum(e) => e.variants.iter_mut().for_each(|v| {
                reroute_serde_strings(&mut v.attrs, serde_path);
                v.fields
                    .iter_mut()
                    .for_each(|f| reroute_serde_strings(&mut f.attrs, serde_path));
            }),
            _ => {}
        }
        let attrs = match item {
            syn::Item::Struct(s) => &mut s.attrs,
            syn::Item::Enum(e) => &mut e.attrs,
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &mut m.content {
                    tell_derives_where_serde_is(items, serde_path);
                }
                continue;
            }
            _ => continue,
        };
        let derives_serde = attrs.iter().any(|a| {
            a.path().is_ident("derive") && {
                let text = quote::quote!(#a).to_string();
                text.contains("Serialize") || text.contains("Deserialize")
            }
        });
        if derives_serde {
            attrs.push(syn::parse_quote!(#[serde(crate = #serde_path)]));
        }
    }
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

/// The sorted subfolders of `dir` with their sorted `*.json` files; what
/// it skips goes into `warnings`.
fn list_schema_files(
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, Vec<PathBuf>)>, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let hidden = |path: &Path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'))
    };
    let mut folders = Vec::new();
    let mut root_files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if hidden(&path) {
            continue;
        }
        if path.is_dir() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                folders.push(name.to_string());
            }
        } else {
            root_files.push(path);
        }
    }
    root_files.sort();
    for f in root_files {
        warnings.push(format!(
            "{}: skipped: a schema file belongs in a folder under {} (the folder names the module, e.g. {}/myapp/)",
            f.display(),
            dir.display(),
            dir.display()
        ));
    }
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let fdir = dir.join(&folder);
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for entry in std::fs::read_dir(&fdir).map_err(io(&fdir))? {
            let entry = entry.map_err(io(&fdir))?;
            let path = entry.path();
            if hidden(&path) {
                continue;
            }
            let is_json = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".json"));
            if is_json && path.is_file() {
                files.push(path);
            } else {
                skipped.push(path);
            }
        }
        files.sort();
        skipped.sort();
        for p in skipped {
            let what = if p.is_dir() {
                "a folder inside a schema folder (schema folders are one level deep)"
            } else {
                "not a `.json` file"
            };
            warnings.push(format!("{}: skipped: {what}", p.display()));
        }
        if files.is_empty() {
            warnings.push(format!(
                "{}: no schema files (`*.schema.json`) in this folder; no module generated",
                fdir.display()
            ));
        }
        out.push((folder, files));
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
    fn of(schema: &Value) -> Bounds {
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
    pub field_types: Vec<Vec<emit::FieldType>>,
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

fn load_event(file: &str, root: &Value, warnings: &mut Vec<String>) -> Result<EventSpec, Error> {
    let defs: BTreeSet<String> = definitions_of(root).into_iter().map(|d| d.1).collect();
    Validator { file, defs }.check_root(root)?;
    let obj = root.as_object().expect("checked by the validator");
    let file_name = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let stem = file_name
        .strip_suffix(".schema.json")
        .or_else(|| file_name.strip_suffix(".json"))
        .unwrap_or(file_name)
        .to_string();
    let props = obj.get("properties").and_then(Value::as_object);
    let et_schema = props.and_then(|p| p.get("event_type"));
    let (event_type, free) = match et_schema.and_then(|e| e.get("const")) {
        Some(Value::String(s)) => {
            if *s != stem {
                let ext = &file_name[stem.len()..];
                let rename = if can_be_a_file_name(s) {
                    format!(" (rename the file to {s}{ext} to silence this)")
                } else {
                    String::new()
                };
                warnings.push(format!(
                    "{file}: the event_type const \"{s}\" differs from the file name \"{stem}\": the event type is \"{s}\", and the type is named {} after the const \"{s}\", not after the file name{rename}",
                    emit::type_name(s)
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
        None if et_schema.is_some() => (stem.clone(), true),
        None => (stem.clone(), false),
    };
    if event_type.is_empty() {
        return Err(Error::schema(
            file,
            "",
            "cannot derive an event type (empty)",
        ));
    }
    // A free event type: the names it claims, and the one its example uses.
    let et_examples: Vec<String> = et_schema
        .and_then(|e| e.get("examples"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let name_patterns = if free {
        name_patterns_of(file, &stem, et_schema, &et_examples)?
    } else {
        Vec::new()
    };
    let example_event_type = match et_examples.first() {
        Some(ex) if free => ex.clone(),
        _ => event_type.clone(),
    };
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
    let mut consts = Vec::new();
    if let Some(props) = props {
        for (key, schema) in props {
            if key == "event_type" {
                continue;
            }
            let pointer = format!("/properties/{}", escape_token(key));
            if let Some(c) = schema.get("const") {
                consts.push(ConstSpec {
                    key: key.clone(),
                    json: c.to_string(),
                    required: required.iter().any(|r| r == key),
                });
                continue;
            }
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
                bounds: Bounds::of(schema),
                schema: schema.clone(),
                required: required.iter().any(|r| r == key),
                description,
                example,
                json_type,
                pointer,
            });
        }
    }
    let extra = match obj.get("additionalProperties") {
        None | Some(Value::Bool(true)) => ExtraRule::Any,
        Some(Value::Bool(false)) => ExtraRule::Forbidden,
        Some(Value::Object(o)) if o.is_empty() => ExtraRule::Any,
        Some(schema) => ExtraRule::Schema {
            schema: schema.clone(),
            pointer: "/additionalProperties".to_string(),
        },
    };
    let examples = examples_of(obj, &example_event_type, &fields, &consts);
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
        stem,
        event_type,
        free,
        name_patterns,
        schema_id: str_of(obj, "$id").to_string(),
        title: str_of(obj, "title").to_string(),
        description: str_of(obj, "description").to_string(),
        fields,
        consts,
        extra,
        examples,
    })
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

/// Whether two schemas with the same `event_type` are told apart by a
/// `const` property (the key of the first such property).
fn discriminator<'a>(a: &'a EventSpec, b: &EventSpec) -> Option<&'a str> {
    a.consts.iter().find_map(|ca| {
        b.consts
            .iter()
            .find(|cb| cb.key == ca.key && cb.json != ca.json && (ca.required || cb.required))
            .map(|_| ca.key.as_str())
    })
}

fn load_namespace(
    folder: &str,
    module: String,
    paths: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Namespace, Error> {
    let mut events: Vec<EventSpec> = Vec::new();
    // name -> (file, pointer, schema)
    let mut defs: BTreeMap<String, (String, String, Value)> = BTreeMap::new();
    // Warnings about one schema, kept until we know whether its event type
    // is shared (then its file name differs from it by design).
    let mut own_warnings: Vec<(String, Vec<String>)> = Vec::new();
    for path in paths {
        let (file, root) = parse_file(path)?;
        let mut mine = Vec::new();
        let mut event = load_event(&file, &root, &mut mine)?;
        own_warnings.push((event.event_type.clone(), mine));
        let same_type: Vec<&EventSpec> = events
            .iter()
            .filter(|e| e.event_type == event.event_type)
            .collect();
        for prev in &same_type {
            if prev.free || event.free || discriminator(prev, &event).is_none() {
                return Err(Error::schema(
                    &file,
                    "",
                    format!(
                        "event type \"{}\" is already defined by {} (two schemas may share an event type only when a required `const` property tells them apart)",
                        event.event_type, prev.file
                    ),
                ));
            }
        }
        // A shared or free event type names the type after the file.
        if event.free || !same_type.is_empty() {
            event.type_name = emit::type_name(&event.stem);
        }
        if !same_type.is_empty() {
            let et = event.event_type.clone();
            for prev in events.iter_mut().filter(|e| e.event_type == et) {
                prev.type_name = emit::type_name(&prev.stem);
            }
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
    for (event_type, mine) in own_warnings {
        if events.iter().filter(|e| e.event_type == event_type).count() == 1 {
            warnings.extend(mine);
        }
    }
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
    let mut extra_types = Vec::new();
    for event in &events {
        let ty = match &event.extra {
            ExtraRule::Schema { schema, pointer } => {
                let converted = to_schemars(&event.file, pointer, schema)?;
                let hint = format!("{}Extra", event.type_name);
                let id = guarded(|| space.add_type_with_name(&converted, Some(hint)))
                    .map_err(|p| {
                        typify_err(
                            &event.file,
                            pointer,
                            "cannot convert schema (typify panicked)",
                            p,
                        )
                    })?
                    .map_err(|e| typify_err(&event.file, pointer, "cannot convert schema", e))?;
                let ident = guarded(|| space.get_type(&id).map(|t| t.ident()))
                    .map_err(|p| typify_err(&event.file, pointer, "typify panicked", p))?
                    .map_err(|e| typify_err(&event.file, pointer, "cannot convert schema", e))?;
                Some(ident)
            }
            _ => None,
        };
        extra_types.push(ty);
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
    let mut orders = Vec::new();
    for event in &events {
        for field in &event.fields {
            emit::property_orders(&field.schema, &mut orders);
        }
        if let ExtraRule::Schema { schema, .. } = &event.extra {
            emit::property_orders(schema, &mut orders);
        }
    }
    for (_, _, schema) in defs.values() {
        emit::property_orders(schema, &mut orders);
    }
    let items = emit::finish_nested_types(emit::tidy_typify_items(parsed.items), &orders);
    emit::check_name_clashes(first_file, &events, &items)?;
    Ok(Namespace {
        folder: folder.to_string(),
        module,
        events,
        field_types,
        extra_types,
        items,
        files: paths.to_vec(),
        aliases: Vec::new(),
    })
}

/// Whether `name` (plus an extension) can name a file on every common
/// system.
fn can_be_a_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| {
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
}

/// The name patterns one `examples` entry of a free `event_type` stands
/// for: the example itself, and, when it has three dotted segments or
/// more, the same with its first segment as `*` (`my_app.repo.query` gives
/// `*.repo.query`).
///
/// The same derivation as the runtime's
/// `insights_events::placing::patterns_from_example` (the generated
/// `AnyEvent` and the schemas the runtime loads must place events alike);
/// a test compares the two.
///
/// ```
/// assert_eq!(
///     insights_events_codegen::patterns_from_example("my_app.repo.query"),
///     ["my_app.repo.query", "*.repo.query"]
/// );
/// ```
pub fn patterns_from_example(example: &str) -> Vec<String> {
    let mut out = vec![example.to_owned()];
    if example.split('.').count() >= 3 && !example.starts_with('.') {
        if let Some((_, rest)) = example.split_once('.') {
            out.push(format!("*.{rest}"));
        }
    }
    out
}

/// The name patterns of a free event type: its file name, then the globs
/// of `x-event-type-pattern` on the `event_type` property (a string or an
/// array of strings), or else those of each of its examples.
fn name_patterns_of(
    file: &str,
    stem: &str,
    et_schema: Option<&Value>,
    et_examples: &[String],
) -> Result<Vec<String>, Error> {
    let pointer = "/properties/event_type/x-event-type-pattern";
    let bad = |found: &Value| {
        Error::schema(
            file,
            pointer,
            format!("expected a non-empty string or an array of them (globs, `*` for one or more characters), found {found}"),
        )
    };
    let mut out = vec![stem.to_string()];
    match et_schema.and_then(|e| e.get("x-event-type-pattern")) {
        None => {
            for ex in et_examples {
                out.extend(patterns_from_example(ex));
            }
        }
        Some(Value::String(p)) if !p.is_empty() => out.push(p.clone()),
        Some(Value::Array(list)) if !list.is_empty() => {
            for p in list {
                match p {
                    Value::String(p) if !p.is_empty() => out.push(p.clone()),
                    other => return Err(bad(other)),
                }
            }
        }
        Some(other) => return Err(bad(other)),
    }
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

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
fn find_repeats(listing: &[(String, Vec<PathBuf>)]) -> BTreeMap<PathBuf, PathBuf> {
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
                    name.strip_suffix(".schema.json")
                        .or_else(|| name.strip_suffix(".json"))
                        .unwrap_or(name)
                        .to_string()
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
fn attach_aliases(
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
fn warn_about_cross_folder_event_types(namespaces: &[Namespace], warnings: &mut Vec<String>) {
    for (j, later) in namespaces.iter().enumerate() {
        for b in later.events.iter().filter(|e| !e.free) {
            let first = namespaces[..j]
                .iter()
                .flat_map(|n| n.events.iter().map(move |e| (n, e)))
                .find(|(_, a)| {
                    !a.free && a.event_type == b.event_type && discriminator(a, b).is_none()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rerouted(code: &str) -> String {
        let private: TokenStream = "::rt::__private".parse().unwrap();
        reroute_serde(code.parse().unwrap(), &private)
            .to_string()
            .replace(' ', "")
    }

    /// Leading `::serde` / `::serde_json` paths go to the runtime, in any
    /// position; paths that merely contain such a segment do not.
    #[test]
    fn reroute_table() {
        let rows = [
            (
                "fn f(v: &'a ::serde_json::Value) {}",
                "fnf(v:&'a::rt::__private::serde_json::Value){}",
            ),
            (
                "impl<'de> ::serde::Deserialize<'de> for X {}",
                "impl<'de>::rt::__private::serde::Deserialize<'de>forX{}",
            ),
            (
                "fn g<T: ::serde::Serialize>() {}",
                "fng<T:::rt::__private::serde::Serialize>(){}",
            ),
            (
                "#[derive(::serde::Serialize)] struct S;",
                "#[derive(::rt::__private::serde::Serialize)]structS;",
            ),
            (
                "x => ::serde_json::from_value(v)",
                "x=>::rt::__private::serde_json::from_value(v)",
            ),
            ("a::serde::B", "a::serde::B"),
            ("::serde_yaml::X", "::serde_yaml::X"),
            ("\"::serde::in_a_string\"", "\"::serde::in_a_string\""),
        ];
        for (code, want) in rows {
            assert_eq!(rerouted(code), want, "{code}");
        }
    }
}
